/* text_out.h: batches as text: NDJSON lines or CSV records (RFC 4180).
 *
 * Value forms (shared by both): integers in decimal; floats in the shortest text that reads
 * back to the same value; dates YYYY-MM-DD; timestamps ISO-8601 with as many fraction digits as
 * the unit has, suffixed Z for UTC columns; decimals exact with `scale` fraction digits; binary
 * as base64. NDJSON: NaN and infinities become null (JSON has no such numbers), json columns
 * are embedded as JSON values, nulls are null. CSV: nulls are empty unquoted fields; fields
 * are quoted when they contain the delimiter, a quote, CR or LF, or are empty strings.
 */
#ifndef SL_ENCODE_TEXT_OUT_H
#define SL_ENCODE_TEXT_OUT_H

#include "util/buf.h"

SL_NODISCARD sl_err sl_ndjson_encode(const sl_batch *b, size_t first, size_t n, sl_buf *out);
SL_NODISCARD sl_err sl_csv_encode_header(const sl_schema *s, char delim, sl_buf *out);
SL_NODISCARD sl_err sl_csv_encode(const sl_batch *b, size_t first, size_t n, char delim,
                                  sl_buf *out);

/* Formatting helpers (also used for error messages and inspect). Each appends to out. */
SL_NODISCARD sl_err sl_fmt_double(double v, bool is_float, sl_buf *out);
SL_NODISCARD sl_err sl_fmt_date(int32_t days, sl_buf *out);
SL_NODISCARD sl_err sl_fmt_timestamp(int64_t v, sl_time_unit unit, bool utc, sl_buf *out);
#if defined(__SIZEOF_INT128__)
SL_NODISCARD sl_err sl_fmt_decimal(__int128 unscaled, unsigned scale, sl_buf *out);
#endif

#endif
