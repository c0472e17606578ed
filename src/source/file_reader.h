/* file_reader.h: reads a file or stdin, transparently decompressing gzip or zstd input
 * (detected by magic bytes, not by name).
 *
 * Reads are sequential; sl_reader_read() fills up to n bytes and returns 0 bytes only at the
 * end. Progress: bytes consumed from the underlying file (compressed) and its size when known,
 * so a progress bar can show an ETA for compressed input too.
 */
#ifndef SL_SOURCE_FILE_READER_H
#define SL_SOURCE_FILE_READER_H

#include <stdint.h>

#include "sluice.h"

typedef enum { SL_COMP_NONE, SL_COMP_GZIP, SL_COMP_ZSTD } sl_compression;

typedef struct sl_reader sl_reader;

/* path "-" is stdin. errmsg gets a reason on failure. */
SL_NODISCARD sl_err sl_reader_open(const char *path, sl_reader **out, char *errmsg,
                                   size_t errlen);
/* Reads up to n decompressed bytes into dst; *got = 0 means end of input. A corrupt
 * compressed stream or a truncated one is SL_FORMAT with a message in errmsg. */
SL_NODISCARD sl_err sl_reader_read(sl_reader *r, void *dst, size_t n, size_t *got,
                                   char *errmsg, size_t errlen);
sl_compression sl_reader_compression(const sl_reader *r);
uint64_t sl_reader_raw_pos(const sl_reader *r);   /* bytes read from the file so far */
int64_t sl_reader_raw_size(const sl_reader *r);   /* file size, -1 if unknown (pipe) */
void sl_reader_close(sl_reader *r);               /* NULL is a no-op */

#endif
