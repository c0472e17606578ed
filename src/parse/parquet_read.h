/* parquet_read.h: a Parquet reader for flat files, into sl_batch columns.
 *
 * Reads files written by sluice and by common writers (DuckDB, parquet-rs/Arrow, Polars,
 * Spark/parquet-mr): PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE and BIT_PACKED levels, RLE
 * booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT;
 * data pages v1 and v2; UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW and Hadoop-framed LZ4.
 * Nested columns (groups, LIST, MAP, repeated fields) are SL_UNSUPPORTED with a message naming
 * the column. docs/parquet-input.md has the type mapping.
 *
 *     sl_pq_read_opts o;
 *     sl_pq_read_opts_default(&o);
 *     o.model = schema;                 // optional: map columns to a model, by name
 *     o.on_reject = dead_letter;        // optional: rows the model cannot take
 *     sl_pq_reader *r;
 *     sl_pq_read_error e;
 *     if (sl_pq_reader_open_path(path, &o, &r, &e)) ... e.message, e.hint
 *     sl_batch *b;
 *     sl_batch_create(sl_pq_reader_schema(r), &b);
 *     size_t n;
 *     while (!(err = sl_pq_reader_next(r, b, 65536, &n)) && n) { ...; sl_batch_clear(b); }
 *     sl_pq_reader_close(r);
 *
 * Memory is bounded whatever the file size: the footer (capped by max_footer_bytes), and per
 * column being read one compressed and one decompressed page (capped by max_page_bytes) plus
 * the chunk's dictionary, and per call the rows asked for. Pages are decoded incrementally,
 * so a page that claims billions of values through RLE runs costs no memory.
 *
 * Every length, count and offset in the file is untrusted: a malformed file is SL_FORMAT with a
 * message naming the column, row group, page and file offset; a feature we do not read is
 * SL_UNSUPPORTED. Neither crashes or allocates beyond the caps.
 *
 * Mapping to a model (opts.model): model columns are matched to file columns by name, exactly
 * (case-sensitive). File columns the model does not name are not read. A model column missing
 * from the file reads as null if nullable, else opening fails. Types must be compatible
 * (docs/parquet-input.md: widening ints, int64 -> int32 with a range check per row, float ->
 * double, timestamp units, decimal rescale, string <-> binary, ...); otherwise opening fails
 * (SL_FORMAT) naming the column, the file type, the model type and a hint. Values the model
 * cannot take (a null in a non-nullable column, a value out of range or losing precision,
 * invalid UTF-8 or JSON) reject their row: it is left out of the batch and reported through
 * opts.on_reject (row number, column, code, detail). Without on_reject a rejected row fails the
 * read (SL_FORMAT) instead: no row is dropped silently.
 *
 * Thread-safety: one reader per thread; readers share nothing.
 */
#ifndef SL_PARSE_PARQUET_READ_H
#define SL_PARSE_PARQUET_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/rowblock.h"
#include "sluice.h"

/* One rejected row, valid during the on_reject call. */
typedef struct sl_pq_reject {
    uint64_t row;        /* 1-based row number in the file */
    sl_row_code code;    /* SL_ROW_NULL_VALUE, SL_ROW_RANGE, SL_ROW_UTF8, SL_ROW_TYPE */
    const char *message; /* static: sl_row_code_message(code) */
    const char *detail;  /* NUL-terminated, may be "" */
    const char *field;   /* model (output) column name */
    int32_t field_index; /* output column index */
} sl_pq_reject;

/* Return SL_OK to go on; anything else stops sl_pq_reader_next(), which returns it. */
typedef sl_err (*sl_pq_reject_fn)(void *ctx, const sl_pq_reject *rej);

typedef struct sl_pq_read_opts {
    const sl_schema *model;      /* NULL: output the file's own schema. Borrowed; must outlive
                                    the reader. */
    bool skip_unsupported;       /* without a model: leave out columns we cannot read (nested,
                                    TIME, ...) instead of failing; see sl_pq_reader_skipped() */
    sl_time_unit int96_unit;     /* INT96 timestamps read as timestamp[unit] (default ns) */
    bool validate_utf8;          /* string columns: invalid UTF-8 rejects the row (default on) */
    bool verify_crc;             /* check PageHeader.crc when present (default on) */
    size_t max_page_bytes;       /* largest page (compressed or not) accepted; default 256 MiB */
    size_t max_footer_bytes;     /* largest footer accepted; default 64 MiB */
    sl_pq_reject_fn on_reject;   /* NULL: a rejected row fails the read */
    void *reject_ctx;
} sl_pq_read_opts;

void sl_pq_read_opts_default(sl_pq_read_opts *o);

/* What went wrong, for errors at open (the reader does not exist then) and after. */
typedef struct sl_pq_read_error {
    char message[512]; /* "" when there was no error */
    char hint[256];    /* what to do about it, may be "" */
} sl_pq_read_error;

typedef struct sl_pq_reader sl_pq_reader;

/* Opens a file by path (the reader owns the descriptor), an open descriptor (borrowed: it must
 * stay open until close; read with pread, so its offset is not used), or bytes in memory
 * (borrowed). opts may be NULL (defaults). On failure *out is NULL and err (may be NULL) says
 * why: SL_IO (cannot read), SL_FORMAT (not Parquet, corrupt footer, model mismatch),
 * SL_UNSUPPORTED (nested column, unsupported type or codec, encrypted file), SL_NOMEM. */
SL_NODISCARD sl_err sl_pq_reader_open_path(const char *path, const sl_pq_read_opts *opts,
                                           sl_pq_reader **out, sl_pq_read_error *err);
SL_NODISCARD sl_err sl_pq_reader_open_fd(int fd, const sl_pq_read_opts *opts, sl_pq_reader **out,
                                         sl_pq_read_error *err);
SL_NODISCARD sl_err sl_pq_reader_open_mem(const void *p, size_t n, const sl_pq_read_opts *opts,
                                          sl_pq_reader **out, sl_pq_read_error *err);
void sl_pq_reader_close(sl_pq_reader *r); /* NULL is a no-op */

/* The schema of the batches next() fills: the model, or the file's flat columns (names, types,
 * nullable = OPTIONAL). Owned by the reader. */
const sl_schema *sl_pq_reader_schema(const sl_pq_reader *r);
/* The file's readable flat columns with their natural types (also when a model is given). */
const sl_schema *sl_pq_reader_file_schema(const sl_pq_reader *r);
/* Without a model and with skip_unsupported: how many top-level columns were left out, and
 * the i-th one's name and reason ("LIST (nested types are not supported)"). */
size_t sl_pq_reader_skipped(const sl_pq_reader *r);
const char *sl_pq_reader_skipped_name(const sl_pq_reader *r, size_t i, const char **reason);

uint64_t sl_pq_reader_num_rows(const sl_pq_reader *r);     /* from the footer */
uint32_t sl_pq_reader_num_row_groups(const sl_pq_reader *r);
uint64_t sl_pq_reader_rows_read(const sl_pq_reader *r);    /* file rows consumed so far */
uint64_t sl_pq_reader_rows_rejected(const sl_pq_reader *r);
const char *sl_pq_reader_created_by(const sl_pq_reader *r); /* "" if absent */

/* Reads up to max_rows more file rows (never past the end of a row group) and appends the
 * accepted ones to `out`, which must have been made for sl_pq_reader_schema(r) (rows it
 * already holds are kept). *nrows gets the number of file rows consumed: 0 at the end of the
 * file. Rejected rows go to on_reject in row order. On error the batch is as it was before the
 * call, the reader is unusable (later calls return the same error), and sl_pq_reader_error()
 * says why. */
SL_NODISCARD sl_err sl_pq_reader_next(sl_pq_reader *r, sl_batch *out, size_t max_rows,
                                      size_t *nrows);
const sl_pq_read_error *sl_pq_reader_error(const sl_pq_reader *r);

#endif
