/* sluice.h: public API of libsluice.
 *
 * libsluice turns rows into typed columns and columns into Parquet. The pieces are usable on
 * their own: build an sl_schema, fill an sl_batch (one typed column builder per field), and hand
 * batches to an sl_pq_writer that streams a Parquet file to any sl_output.
 *
 * Ownership: _create/_destroy pairs own heap objects; destroy functions accept NULL. Strings
 * passed in are copied unless a comment says otherwise. No function here aborts on bad input or
 * on allocation failure: they return an sl_err.
 *
 * Thread-safety: objects are not internally locked; use one object from one thread at a time.
 * Distinct objects may be used from distinct threads.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 1
#define SL_VERSION_PATCH 0
#define SL_VERSION_STRING "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define SL_NODISCARD __attribute__((warn_unused_result))
#else
#define SL_NODISCARD
#endif

/* ---- errors ---------------------------------------------------------------------------- */

/* One list feeds the enum and the message table. 0 is success. */
#define SL_ERRORS(X)                                                                           \
    X(OK, "success")                                                                           \
    X(NOMEM, "out of memory")                                                                  \
    X(IO, "I/O error")                                                                         \
    X(FULL, "over limit")                                                                      \
    X(RETRY, "try later")                                                                      \
    X(INVALID, "invalid argument")                                                             \
    X(FORMAT, "malformed input")                                                               \
    X(UNSUPPORTED, "unsupported feature")                                                      \
    X(STATE, "call out of order")                                                              \
    X(NOSPACE, "no space left on device")

#define SL_ENUM(n, msg) SL_##n,
typedef enum { SL_ERRORS(SL_ENUM) SL_ERR_COUNT } sl_err;
#undef SL_ENUM

/* Static text for an error code; never NULL. */
const char *sl_strerror(sl_err e);

/* Version and build identifiers, e.g. "0.1.0" and a git hash ("unknown" outside git). */
const char *sl_version(void);
const char *sl_build_id(void);

/* ---- types and schema ------------------------------------------------------------------ */

typedef enum {
    SL_TYPE_BOOL,
    SL_TYPE_INT32,
    SL_TYPE_INT64,
    SL_TYPE_FLOAT,
    SL_TYPE_DOUBLE,
    SL_TYPE_STRING, /* UTF-8 text */
    SL_TYPE_BINARY, /* raw bytes */
    SL_TYPE_JSON,   /* JSON text, stored as a string with the JSON logical type */
    SL_TYPE_DATE,   /* int32 days since 1970-01-01 */
    SL_TYPE_TIMESTAMP, /* int64 count of `unit` since the epoch */
    SL_TYPE_DECIMAL,   /* unscaled integer, precision 1..38 */
    SL_TYPE_COUNT
} sl_type_id;

typedef enum { SL_UNIT_MS, SL_UNIT_US, SL_UNIT_NS } sl_time_unit;

typedef struct {
    sl_type_id id;
    sl_time_unit unit; /* timestamp only */
    bool utc;          /* timestamp only: instant (UTC-adjusted) vs local wall time */
    uint8_t precision; /* decimal only: 1..38 */
    uint8_t scale;     /* decimal only: 0..precision */
} sl_type;

#define SL_DECIMAL_MAX_PRECISION 38

typedef struct {
    char *name; /* owned by the schema, NUL-terminated UTF-8 */
    sl_type type;
    bool nullable;
} sl_field;

typedef struct sl_schema {
    size_t nfields;
    size_t cap;
    sl_field *fields;
} sl_schema;

SL_NODISCARD sl_err sl_schema_create(sl_schema **out);
void sl_schema_destroy(sl_schema *schema);
/* Appends a field; the name is copied. SL_INVALID for an empty or duplicate name or a type
 * out of range (decimal precision/scale). */
SL_NODISCARD sl_err sl_schema_add(sl_schema *schema, const char *name, sl_type type,
                                  bool nullable);
/* Short type names: "int64", "timestamp[us, UTC]", "decimal(10,2)". Writes at most n bytes
 * including the NUL; returns the length the full text needs. */
size_t sl_type_format(sl_type type, char *dst, size_t n);

/* Convenience constructors. */
static inline sl_type sl_type_of(sl_type_id id)
{
    sl_type t = {id, SL_UNIT_US, true, 0, 0};
    return t;
}
static inline sl_type sl_type_timestamp(sl_time_unit unit, bool utc)
{
    sl_type t = {SL_TYPE_TIMESTAMP, unit, utc, 0, 0};
    return t;
}
static inline sl_type sl_type_decimal(unsigned precision, unsigned scale)
{
    sl_type t = {SL_TYPE_DECIMAL, SL_UNIT_US, true, (uint8_t)precision, (uint8_t)scale};
    return t;
}

/* ---- column builders and batches --------------------------------------------------------- */

/* A typed column: fixed-width values in `data` (one slot per row, nulls hold a zero), or for
 * string/binary/json `offsets[len+1]` into `bytes`. `valid` holds one byte per row (1 = value)
 * and is NULL for a non-nullable column. The struct is public so parsers can append inline;
 * treat it as read-only outside the sl_col_* functions. */
typedef struct sl_column {
    sl_type type;
    bool nullable;
    uint8_t width; /* bytes per fixed-width slot; 0 for variable-length types */
    size_t len;    /* rows */
    size_t cap;    /* rows allocated */
    size_t null_count;
    uint8_t *valid;
    uint8_t *data;
    uint32_t *offsets;
    uint8_t *bytes;
    size_t bytes_len;
    size_t bytes_cap;
} sl_column;

/* Width of a fixed slot for a type: bool 1, int32/float/date 4, int64/double/timestamp 8,
 * decimal 8 (precision <= 18) or 16 (__int128); 0 for variable-length types. */
unsigned sl_type_width(sl_type type);

SL_NODISCARD sl_err sl_col_append_null(sl_column *col);
SL_NODISCARD sl_err sl_col_append_bool(sl_column *col, bool v);
SL_NODISCARD sl_err sl_col_append_i32(sl_column *col, int32_t v);  /* int32, date */
SL_NODISCARD sl_err sl_col_append_i64(sl_column *col, int64_t v);  /* int64, timestamp, decimal */
SL_NODISCARD sl_err sl_col_append_f32(sl_column *col, float v);
SL_NODISCARD sl_err sl_col_append_f64(sl_column *col, double v);
/* string, binary, json; the bytes are copied. SL_FULL past 4 GiB of bytes in one column. */
SL_NODISCARD sl_err sl_col_append_bytes(sl_column *col, const void *p, size_t n);
#if defined(__SIZEOF_INT128__)
/* decimal of any precision, unscaled. */
SL_NODISCARD sl_err sl_col_append_i128(sl_column *col, __int128 v);
#endif
#if defined(__SIZEOF_INT128__)
/* The unscaled value of decimal column col at row (8-byte slots up to precision 18, else 16). */
static inline __int128 sl_col_decimal_at(const sl_column *col, size_t row)
{
    if (col->width == 16) {
        __int128 v;
        __builtin_memcpy(&v, col->data + 16 * row, 16);
        return v;
    }
    int64_t v;
    __builtin_memcpy(&v, col->data + 8 * row, 8);
    return v;
}
#endif

/* A batch of rows: one column per schema field. The schema is borrowed and must outlive it. */
typedef struct sl_batch {
    const sl_schema *schema;
    sl_column *cols;
    size_t ncols;
} sl_batch;

SL_NODISCARD sl_err sl_batch_create(const sl_schema *schema, sl_batch **out);
void sl_batch_destroy(sl_batch *batch);
/* Empties every column, keeping allocations for reuse. */
void sl_batch_clear(sl_batch *batch);
/* Number of rows; SL_STATE-worthy mismatch between columns is reported by sl_batch_check. */
size_t sl_batch_rows(const sl_batch *batch);
SL_NODISCARD sl_err sl_batch_check(const sl_batch *batch);

/* ---- schema JSON (src/column/schema_json.c) --------------------------------------------- */

/* A model: a schema plus what the pipeline needs to know about its rows. */
typedef struct sl_model {
    sl_schema *schema;
    char *event_key;     /* field name used to deduplicate events, or NULL */
    char **partition_by; /* field names, in order */
    size_t npartition_by;
} sl_model;

/* Parses a type spelling: "int64", "bigint", "timestamp[us, UTC]", "decimal(12,2)", ... (the
 * grammar is docs/coercion.md, "Schema JSON"). On SL_FORMAT errmsg (may be NULL) says why. */
SL_NODISCARD sl_err sl_type_parse(const char *s, size_t n, sl_type *out, char *errmsg,
                                  size_t errlen);

/* Parses a model document:
 *   {"fields":[{"name":"id","type":"int64","nullable":false}, ...],
 *    "event_key":"id", "partition_by":["dt"]}
 * "nullable" defaults to true; unknown keys are errors. SL_FORMAT with errmsg (may be NULL)
 * like "fields[2].type: unknown type 'int128' (expected one of ...) (line 4, column 13)";
 * SL_NOMEM. On SL_OK *out is yours (sl_model_destroy). */
SL_NODISCARD sl_err sl_model_from_json(const char *text, size_t n, sl_model **out, char *errmsg,
                                       size_t errlen);
void sl_model_destroy(sl_model *model); /* NULL is a no-op */
/* The same document, keeping only the schema (event_key and partition_by are still checked). */
SL_NODISCARD sl_err sl_schema_from_json(const char *text, size_t n, sl_schema **out,
                                        char *errmsg, size_t errlen);
/* Compact JSON text, NUL-terminated, that the parsers above read back to an equal schema or
 * model; free() it. SL_INVALID for a name that is not valid UTF-8. */
SL_NODISCARD sl_err sl_schema_to_json(const sl_schema *schema, char **out);
SL_NODISCARD sl_err sl_model_to_json(const sl_model *model, char **out);

/* ---- batch editing (src/column/compact.c) ------------------------------------------------ */

/* Room for `rows` more rows and, for string/binary/json, `bytes` more value bytes, so that a
 * caller may then write slots directly (col->data, col->valid, col->offsets, col->bytes) and
 * bump col->len. SL_FULL if the bytes would pass 4 GiB (nothing is allocated then), SL_NOMEM;
 * on failure the contents are unchanged (capacity may have grown). */
SL_NODISCARD sl_err sl_col_reserve(sl_column *col, size_t rows, size_t bytes);
/* Keeps the first `rows` rows (no-op if the column is shorter); null_count and bytes_len
 * follow. Allocations are kept. */
void sl_col_truncate(sl_column *col, size_t rows);
/* Removes the rows listed in rows[0..n) (ascending, unique, each < col->len), keeping the order
 * of the others. O(len - rows[0]). */
void sl_col_remove_rows(sl_column *col, const size_t *rows, size_t n);
/* The same on every column of a batch. */
void sl_batch_truncate(sl_batch *batch, size_t rows);
void sl_batch_remove_rows(sl_batch *batch, const size_t *rows, size_t n);

/* ---- output ------------------------------------------------------------------------------ */

/* Where encoded bytes go. write() must take all n bytes or fail. */
typedef struct sl_output {
    sl_err (*write)(void *ctx, const void *p, size_t n);
    void *ctx;
} sl_output;

/* An output writing to a file descriptor (retries short writes and EINTR). The fd is stored in
 * *fdbox, which must outlive the output. */
sl_output sl_output_fd(int *fdbox);
/* Writes all n bytes to fd, retrying short writes and EINTR; SL_NOSPACE on ENOSPC/EDQUOT,
 * SL_IO otherwise (errno tells). */
SL_NODISCARD sl_err sl_write_all(int fd, const void *p, size_t n);

/* ---- Parquet writer ---------------------------------------------------------------------- */

typedef enum {
    SL_CODEC_NONE,
    SL_CODEC_SNAPPY,
    SL_CODEC_GZIP,
    SL_CODEC_ZSTD,
    SL_CODEC_LZ4_RAW,
    SL_CODEC_COUNT
} sl_codec;

/* "none", "snappy", "gzip", "zstd", "lz4_raw" (also "lz4", "uncompressed"). */
SL_NODISCARD sl_err sl_codec_parse(const char *name, sl_codec *out);
const char *sl_codec_name(sl_codec codec);

typedef struct {
    char *key;
    char *value;
} sl_kv;

typedef struct {
    sl_codec codec;          /* default SNAPPY */
    int level;               /* codec level; 0 = codec default */
    size_t row_group_bytes;  /* uncompressed bytes per row group; default 128 MiB */
    size_t row_group_rows;   /* 0 = no row cap */
    size_t page_bytes;       /* target uncompressed page size; default 1 MiB */
    size_t page_rows;        /* rows per page cap; default 20000 */
    size_t dict_bytes;       /* dictionary size limit; 0 disables dictionaries; default 1 MiB */
    int page_version;        /* 1 (default) or 2 */
    bool page_index;         /* write ColumnIndex/OffsetIndex; default true */
    size_t stats_max_bytes;  /* truncate byte-array statistics; default 64 */
    int threads;             /* encode columns on this many threads; <= 1: the caller's only.
                                The output is the same whatever the count. */
    const sl_kv *kv;         /* extra key-value metadata, borrowed until finish */
    size_t nkv;
} sl_pq_opts;

void sl_pq_opts_default(sl_pq_opts *opts);

typedef struct sl_pq_writer sl_pq_writer;

/* Starts a Parquet file on `out` (writes the leading magic). The schema is borrowed and must
 * outlive the writer. */
SL_NODISCARD sl_err sl_pq_writer_create(const sl_schema *schema, const sl_pq_opts *opts,
                                        sl_output out, sl_pq_writer **out_writer);
/* Encodes the rows of a batch. Batches must use the writer's schema. Column chunks are
 * buffered up to one row group, then written. */
SL_NODISCARD sl_err sl_pq_writer_write(sl_pq_writer *w, const sl_batch *batch);
/* Flushes the last row group, writes page indexes and the footer. */
SL_NODISCARD sl_err sl_pq_writer_finish(sl_pq_writer *w);
/* Human-readable detail of the last error, or "". */
const char *sl_pq_writer_errmsg(const sl_pq_writer *w);
/* Rows and bytes written so far. */
uint64_t sl_pq_writer_rows(const sl_pq_writer *w);
uint64_t sl_pq_writer_bytes(const sl_pq_writer *w);
void sl_pq_writer_destroy(sl_pq_writer *w);

/* ---- file conversion (sluice convert) --------------------------------------------------- */

typedef enum {
    SL_FMT_AUTO,    /* input: from the file name, else sniffed; output: from the name, else Parquet */
    SL_FMT_CSV,
    SL_FMT_JSONL,
    SL_FMT_PARQUET, /* input: flat columns, read from a file (not stdin) */
    SL_FMT_NDJSON,  /* output: NDJSON (same as JSONL) */
} sl_format;

typedef enum {
    SL_ON_ERROR_FAIL,    /* first bad row stops the conversion; no output is left behind */
    SL_ON_ERROR_SKIP,    /* bad rows are skipped, counted and reported */
    SL_ON_ERROR_REJECTS, /* bad rows go to rejects_path as NDJSON with line, column, reason */
} sl_on_error;

typedef struct {
    uint64_t rows_in;      /* records read (good and bad) */
    uint64_t rows_out;     /* rows written */
    uint64_t rows_rejected;
    uint64_t bytes_in;     /* raw input bytes consumed (compressed, if the input is) */
    int64_t bytes_in_total; /* input size, -1 if unknown (a pipe) */
    uint64_t bytes_out;
    double seconds;
} sl_convert_progress;

typedef struct {
    const char *input;     /* path or "-" for stdin; gzip/zstd detected by magic bytes */
    const char *output;    /* path or "-" for stdout */
    sl_format in_format;
    sl_format out_format;
    const sl_schema *schema; /* NULL: infer from the first infer_rows records */
    size_t infer_rows;     /* default 10000 */
    char delimiter;        /* CSV, default ',' */
    char quote;            /* CSV, default '"' */
    char escape;           /* CSV, default 0: doubled quotes */
    bool header;           /* CSV has a header row (default true) */
    const char *const *null_tokens; /* NULL = defaults ("", NULL, null, \N) */
    size_t nnull_tokens;
    bool unknown_fields_reject; /* JSON: a key not in the schema rejects the row */
    bool unknown_fields_keep;   /* JSON with a schema: keys not in it are kept, as one JSON
                                   object per row in an extra json column "_extra" */
    sl_pq_opts parquet;    /* codec, row group size, ... (threads are set from .threads) */
    int threads;           /* 0 = all cores */
    sl_on_error on_error;
    const char *rejects_path; /* SL_ON_ERROR_REJECTS */
    size_t max_error_lines;   /* how many rejected rows to keep for the report (default 20) */
    size_t chunk_bytes;       /* input chunk handed to a worker (default 4 MiB) */
    /* Called about 4 times a second from the converting thread (may be NULL). */
    void (*progress)(void *ctx, const sl_convert_progress *p);
    void *progress_ctx;
    /* Polled (with progress_ctx) before each chunk is written (may be NULL): true stops the
     * conversion as a failure with SL_STATE ("cancelled"); no output is left behind. */
    bool (*cancelled)(void *ctx);
} sl_convert_opts;

void sl_convert_opts_default(sl_convert_opts *o);

typedef struct {
    uint64_t line;
    char column[64];
    char code[24];
    char message[160];
} sl_convert_error;

typedef struct {
    sl_convert_progress totals;
    sl_format in_format, out_format;
    size_t nerrors;            /* kept in errors[] (first max_error_lines) */
    sl_convert_error *errors;  /* owned; free with sl_convert_result_release */
    char message[512];         /* what failed, when the call fails */
    char hint[256];            /* what to do about it, may be empty */
} sl_convert_result;

/* Converts one file. On SL_OK the output is complete (written under a temporary name and
 * renamed, for files). On failure nothing is left at the output path and res->message says
 * why (for SL_ON_ERROR_FAIL with a bad row: line, column and reason). */
SL_NODISCARD sl_err sl_convert_file(const sl_convert_opts *o, sl_convert_result *res);
void sl_convert_result_release(sl_convert_result *res);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_H */
