/* infer.h: a schema from a sample of parsed rows.
 *
 * Feed sample blocks (cells from the CSV or JSON Lines parser, cell i = column names[i]) and
 * get a schema with one nullable field per cell column, in cell order, so that the identity
 * field map converts the same blocks:
 *
 *     sl_infer *inf;
 *     sl_infer_create(header, ncols, &opts, &inf);
 *     for each sample block: sl_infer_feed(inf, &blk);
 *     sl_infer_finish(inf, &schema);      // caller owns schema
 *     sl_infer_destroy(inf);
 *
 * Per column the candidates are tried in order bool -> int64 -> double -> date -> timestamp ->
 * string, and each non-null value rules out the candidates it does not parse as, so mixed
 * columns widen: int + double -> double, date + timestamp -> timestamp, anything + text ->
 * string. JSON objects/arrays make a json column; a column with no values is string. The
 * exact rules are in docs/coercion.md ("Inference").
 *
 * Names: an empty or missing name becomes "column<N>" (N = 1-based cell index), a repeated
 * one gets "_2", "_3", ... appended, so the schema is always valid.
 *
 * Pinning: fields of opts->pinned override inference for the columns of the same (final)
 * name: type and nullability are taken as given. Pinned fields that name no column are
 * appended after the inferred ones (no cell feeds them: field map -1).
 */
#ifndef SL_PARSE_INFER_H
#define SL_PARSE_INFER_H

#include "parse/coerce.h"
#include "parse/rowblock.h"
#include "sluice.h"

typedef struct sl_infer_opts {
    sl_coerce_opts coerce;   /* null tokens, trimming, json_source (as for converting) */
    sl_time_unit unit;       /* unit of inferred timestamps; default SL_UNIT_US */
    const sl_schema *pinned; /* optional; borrowed until sl_infer_finish */
} sl_infer_opts;

void sl_infer_opts_default(sl_infer_opts *o);

typedef struct sl_infer sl_infer;

/* names may be NULL (all generated); names[i] may be NULL or "". Copied. */
SL_NODISCARD sl_err sl_infer_create(const char *const *names, size_t ncols,
                                    const sl_infer_opts *opts, sl_infer **out);
/* Rows the parser rejected are skipped. SL_INVALID if blk->ncols > ncols (fewer cells: the
 * rest count as missing). */
SL_NODISCARD sl_err sl_infer_feed(sl_infer *inf, const sl_rowblock *blk);
/* The schema so far (may be called again after more feeding). Caller owns *out. */
SL_NODISCARD sl_err sl_infer_finish(const sl_infer *inf, sl_schema **out);
void sl_infer_destroy(sl_infer *inf); /* NULL is a no-op */

/* All in one. */
SL_NODISCARD sl_err sl_infer_schema(const sl_rowblock *const *blocks, size_t nblocks,
                                    const char *const *names, size_t ncols,
                                    const sl_infer_opts *opts, sl_schema **out);

#endif
