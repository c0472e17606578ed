/* s3_xml.h: just enough XML to read S3 answers (error documents, InitiateMultipartUpload,
 * CompleteMultipartUpload, ListMultipartUploads).
 *
 * S3 answers are flat, namespace-free documents; sluice only needs the text of named elements.
 * These functions never allocate and never read outside x[0..n): the input is untrusted bytes
 * from the network (fuzzed by tests/fuzz/s3_xml_fuzz.c).
 */
#ifndef SL_SINK_S3_XML_H
#define SL_SINK_S3_XML_H

#include <stdbool.h>
#include <stddef.h>

/* Finds the next element named `tag` (<tag>, <tag attr="..">, or <tag/>) starting at *pos in
 * x[0..n). On success (*body, *blen) is its content (up to the matching </tag>, not nested-aware:
 * S3 does not nest an element in one of the same name) and *pos moves past it. */
bool sl_s3_xml_next(const char *x, size_t n, const char *tag, size_t *pos, const char **body,
                    size_t *blen);

/* Text of the first `tag` in x[0..n), entities decoded (&amp; &lt; &gt; &quot; &apos; &#N;
 * &#xN;), NUL-terminated, cut to outn - 1 bytes. Returns false (out = "") if there is none. */
bool sl_s3_xml_text(const char *x, size_t n, const char *tag, char *out, size_t outn);

/* Decodes entities of s[0..n) into out (NUL-terminated, cut to outn - 1 bytes); unknown
 * entities are copied as they are. Returns the length written. */
size_t sl_s3_xml_decode(const char *s, size_t n, char *out, size_t outn);

#endif
