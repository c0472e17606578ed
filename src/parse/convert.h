/* convert.h: sl_rowblock (cells from the CSV / JSON Lines parsers) -> rows of an sl_batch.
 *
 * A converter is made once per schema (and per CSV header: the field map) and then converts
 * block after block:
 *
 *     sl_converter_opts o;
 *     sl_converter_opts_default(&o);
 *     o.field_map = map;                  // CSV: schema column i <- field map[i] (or -1)
 *     o.on_reject = write_reject;         // each rejected row, in line order
 *     sl_converter *cv;
 *     if (sl_converter_create(schema, &o, &cv)) ...
 *     while (parser yields blk)
 *         if (sl_convert_block(cv, &blk, batch, &stats)) ...   // appends the good rows
 *     sl_converter_destroy(cv);
 *
 * sl_convert_block() walks the block column by column (one tight loop per column type, see
 * coerce.h), appending to `out` after the rows it already holds. A row is appended to every
 * column or to none: rows the parser already rejected (row_err[r].code != SL_ROW_OK) and rows
 * with a conversion error in any column are removed from all columns at the end of the block
 * and reported through on_reject, one report per row (for conversion errors: the first failing
 * column in schema order), in block order.
 *
 * Ownership: the schema is borrowed and must outlive the converter; opts (field map, null
 * tokens) are copied. Thread-safety: a converter is read-only after creation; threads may
 * share one if on_reject is safe to call from several threads at once (it is called on the
 * thread converting). Per-call scratch is allocated per block.
 */
#ifndef SL_PARSE_CONVERT_H
#define SL_PARSE_CONVERT_H

#include "parse/coerce.h"
#include "parse/rowblock.h"
#include "sluice.h"
#include "util/buf.h"

/* One rejected row, valid during the on_reject call. */
typedef struct sl_reject {
    uint64_t line; /* 1-based line where the record starts */
    sl_row_code code;
    const char *message; /* static: sl_row_code_message(code) */
    const char *detail;  /* NUL-terminated, may be "" */
    const char *field;   /* schema column name, or NULL when the error is about the record */
    int32_t field_index; /* schema column index or -1 */
    uint32_t column;     /* CSV: 1-based field number; JSON: 1-based byte column in the record
                          * (for conversion errors: where the value starts); 0 = unknown */
    const uint8_t *raw;  /* the record's bytes (rec_off/rec_len of the block) */
    size_t raw_len;
} sl_reject;

/* Return SL_OK to go on; anything else stops sl_convert_block(), which returns it. */
typedef sl_err (*sl_reject_fn)(void *ctx, const sl_reject *rej);

typedef struct sl_converter_opts {
    sl_coerce_opts coerce; /* null tokens, trimming, escapes: see coerce.h */
    /* schema->nfields entries: the cell index feeding schema column i, or -1 for none (every
     * row is then MISSING: null, or a MISSING error in a non-nullable column). NULL: cell i
     * feeds column i (JSON Lines, or CSV whose fields are in schema order). Copied. */
    const int32_t *field_map;
    sl_reject_fn on_reject; /* NULL: rejected rows are only counted */
    void *reject_ctx;
} sl_converter_opts;

void sl_converter_opts_default(sl_converter_opts *o);

/* Counters, added to (not reset) by every sl_convert_block() call that returns SL_OK. */
typedef struct sl_convert_stats {
    uint64_t rows;           /* rows seen */
    uint64_t rows_ok;        /* rows appended */
    uint64_t rows_rejected;  /* rows removed: rejected_parse + conversion errors */
    uint64_t rejected_parse; /* of those, rejected by the parser already */
    uint64_t by_code[SL_ROW_ERR_COUNT];
} sl_convert_stats;

typedef struct sl_converter sl_converter;

/* SL_INVALID for a bad field map entry (< -1) or bad null tokens. */
SL_NODISCARD sl_err sl_converter_create(const sl_schema *schema, const sl_converter_opts *opts,
                                        sl_converter **out);
void sl_converter_destroy(sl_converter *cv); /* NULL is a no-op */

/* Appends the good rows of blk to out (a batch of the converter's schema; it may hold rows).
 * On an error (SL_NOMEM; SL_FULL when a string column would pass 4 GiB: flush the batch and
 * convert the block again; SL_INVALID for a field map index >= blk->ncols or a batch of another
 * shape; or on_reject's error) out is restored to the rows it held before and st is unchanged.
 * st may be NULL. */
SL_NODISCARD sl_err sl_convert_block(const sl_converter *cv, const sl_rowblock *blk, sl_batch *out,
                                     sl_convert_stats *st);

/* Field map for CSV from a header: map[i] = index of the first header name equal to schema
 * field i, or -1. Returns how many schema fields have no header column. */
size_t sl_convert_map_header(const sl_schema *schema, const char *const *names, size_t nnames,
                             int32_t *map);

/* Appends one line (with '\n') to out for a rejects file:
 *   {"line":12,"column":3,"field":"amount","code":"range",
 *    "reason":"value out of range: 1e400 out of range for double","raw":"..."}
 * column and field are null when unknown; raw is the record as a JSON string when it is valid
 * UTF-8, else the record goes in "raw_base64" instead. */
SL_NODISCARD sl_err sl_reject_format_ndjson(sl_buf *out, const sl_reject *rej);
/* The same with the code spelled by the caller (rej->code is not used; e.g. the events
 * validator's own codes) and, when index >= 0, "index":N after "reason" (the record's 0-based
 * position in its request). */
SL_NODISCARD sl_err sl_reject_format_ndjson_coded(sl_buf *out, const sl_reject *rej,
                                                  const char *code, int64_t index);

#endif
