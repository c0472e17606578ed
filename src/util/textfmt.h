/* textfmt.h: dates, timestamps and decimals as text (ISO-8601; exact decimals). Shared by
 * the coercions' error messages, the NDJSON/CSV encoders and inspect. */
#ifndef SL_UTIL_TEXTFMT_H
#define SL_UTIL_TEXTFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"

#define SL_DATE_TEXT_MAX 16      /* any int32 day count: "-5877641-06-23" + NUL */
#define SL_TIMESTAMP_TEXT_MAX 48 /* any int64 value: "-292275055-05-16T16:47:04.192Z" + NUL */
#define SL_DECIMAL_TEXT_MAX 48   /* sign, 38 digits, point, NUL */

/* YYYY-MM-DD (proleptic Gregorian; years outside 0..9999 get more digits or a sign). */
size_t sl_format_date(int32_t days, char dst[SL_DATE_TEXT_MAX]);
/* YYYY-MM-DDThh:mm:ss[.fraction with the unit's digits, when not zero][Z when utc]. */
size_t sl_format_timestamp(int64_t v, sl_time_unit unit, bool utc, char dst[SL_TIMESTAMP_TEXT_MAX]);
/* Exact text with `scale` fraction digits, e.g. -0.05. */
size_t sl_format_decimal(__int128 unscaled, unsigned scale, char dst[SL_DECIMAL_TEXT_MAX]);

#endif
