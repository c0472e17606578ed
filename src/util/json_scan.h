/* json_scan.h: a small, allocation-free JSON validator and lazy accessor for API bodies and
 * answers (the models API request, the CLI reading the server's answers).
 *
 * A value is a span of the original text (no copy, no tree). sl_jscan_valid() checks one whole
 * document (RFC 8259 syntax, nesting <= SL_JSCAN_MAX_DEPTH, strings must be valid UTF-8 with
 * valid escapes); the accessors assume a span that passed it (on other input they return false,
 * they never read outside the span). Object keys are compared byte for byte with their raw text
 * (a key written with escapes does not match its unescaped spelling).
 *
 * The ingest path does not use this: rows are parsed by src/parse/json.c straight into columns.
 */
#ifndef SL_UTIL_JSON_SCAN_H
#define SL_UTIL_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_JSCAN_MAX_DEPTH 64

typedef struct {
    const char *p; /* first byte of the value (no leading whitespace) */
    size_t n;
} sl_jspan;

typedef enum {
    SL_JS_INVALID,
    SL_JS_OBJECT,
    SL_JS_ARRAY,
    SL_JS_STRING,
    SL_JS_NUMBER,
    SL_JS_BOOL,
    SL_JS_NULL
} sl_jtype;

/* Checks that p[0..n) is one JSON value with optional surrounding whitespace. On success *root
 * (may be NULL) is the value's span. On failure *errpos is the byte offset of the problem and
 * *errmsg a static description. */
bool sl_jscan_valid(const char *p, size_t n, sl_jspan *root, size_t *errpos, const char **errmsg);

sl_jtype sl_jscan_type(sl_jspan v);

/* Iterates an object's members (key = the string span with its quotes) or an array's elements
 * (key NULL). *it starts at 0; returns false at the end. */
bool sl_jscan_next(sl_jspan container, size_t *it, sl_jspan *key, sl_jspan *val);

/* Looks up a member of an object by key; false if absent or v is not an object. */
bool sl_jscan_get(sl_jspan obj, const char *key, sl_jspan *out);

/* Decodes a string value into out (NUL-terminated; false if it does not fit, contains a NUL
 * (\u0000) or v is not a string). */
bool sl_jscan_str(sl_jspan v, char *out, size_t n);

/* An integer value (no fraction or exponent) that fits int64. */
bool sl_jscan_i64(sl_jspan v, int64_t *out);

/* A number as a double. */
bool sl_jscan_f64(sl_jspan v, double *out);

/* Key equality helper: does the raw key span (with quotes) equal "key"? */
bool sl_jscan_key_is(sl_jspan key, const char *s);

#endif
