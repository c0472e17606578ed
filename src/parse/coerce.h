/* coerce.h: text -> typed values. The one place where cell text becomes int64, double, date,
 * timestamp, decimal, bool, string, binary or json, for CSV and JSON Lines alike.
 *
 * Three layers, fastest first:
 *   - sl_parse_*(): one value from bytes (no allocation, no locale, no NUL needed). Each returns
 *     an sl_row_code (SL_ROW_OK, SL_ROW_TYPE for malformed text, SL_ROW_RANGE for well-formed
 *     text whose value the type cannot hold) and on failure points *why at a static phrase
 *     ("is not an integer"; one ending in " for", like "out of range for", gets the column's
 *     type name appended), which callers put after the value in a detail text.
 *   - sl_coerce_column(): a strided run of cells (one column of an sl_rowblock) appended to an
 *     sl_column, with the type switch outside the row loop; failures go to a callback.
 *   - sl_coerce_append(): one cell, for tests and odd callers.
 * The exact acceptance rules (what is null, what is trimmed, which spellings are accepted, how
 * fractions round) are docs/coercion.md; the tests in tests/unit/parse/coerce_test.c are the
 * executable form of that document.
 *
 * Thread-safety: an initialised sl_coerce is read-only and may be shared by threads. The double
 * fallback (strtod_l with the C locale) creates the locale once, thread-safely.
 */
#ifndef SL_PARSE_COERCE_H
#define SL_PARSE_COERCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/csv.h"
#include "parse/rowblock.h"
#include "util/textfmt.h" /* sl_format_date/timestamp/decimal */
#include "sluice.h"

#if !defined(__SIZEOF_INT128__)
#error "coerce needs __int128 (decimal(p,s) with p > 18, exact timestamp[ns] range checks)"
#endif

/* ---- single values --------------------------------------------------------------------- */

/* Integers: [+-]?[0-9]+ (leading zeros allowed, "-0" is 0). Nothing else: no spaces, no
 * fraction, no exponent, no "_" or "," separators. */
sl_row_code sl_parse_i64(const uint8_t *p, size_t n, int64_t *out, const char **why);
sl_row_code sl_parse_i32(const uint8_t *p, size_t n, int32_t *out, const char **why);

/* A JSON number into an integer column: as sl_parse_i64, and also a fraction or exponent when
 * the value is exactly an integer (1.0, 1e3, 12.50e1); decided in decimal, never via double.
 * 1.5 is SL_ROW_TYPE ("not an integer"). */
sl_row_code sl_parse_i64_exact(const uint8_t *p, size_t n, int64_t *out, const char **why);

/* Floating point: [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?, correctly rounded (the
 * same bits as strtod in the C locale). With SL_PARSE_SPECIALS also nan, inf, infinity (any
 * case, optional sign). Overflow to infinity is SL_ROW_RANGE; underflow gives 0 or a subnormal
 * like strtod. No hex floats. */
enum { SL_PARSE_SPECIALS = 1 };
sl_row_code sl_parse_f64(const uint8_t *p, size_t n, unsigned flags, double *out, const char **why);
sl_row_code sl_parse_f32(const uint8_t *p, size_t n, unsigned flags, float *out, const char **why);

/* true/false/t/f/yes/no/y/n/1/0, any case. */
sl_row_code sl_parse_bool(const uint8_t *p, size_t n, bool *out, const char **why);

/* YYYY-MM-DD, years 0001..9999, proleptic Gregorian -> days since 1970-01-01. */
sl_row_code sl_parse_date(const uint8_t *p, size_t n, int32_t *out, const char **why);

/* ISO-8601 / RFC 3339 timestamp:
 *     YYYY-MM-DD[(T|t| )hh:mm[:ss[.f+]][Z|z|(+|-)hh[[:]mm]]]
 * -> count of `unit` since 1970-01-01T00:00:00Z. A value with an offset is converted to UTC;
 * one without is taken as it is (UTC for a UTC column, wall time for a local one). Fraction
 * digits past the unit are dropped (floor: the instant never moves later). ss may be 60 (a leap
 * second counts as the first second of the next minute, as POSIX time does). *form receives
 * SL_TS_HAS_TIME / SL_TS_HAS_OFFSET bits (may be NULL). */
enum { SL_TS_HAS_TIME = 1, SL_TS_HAS_OFFSET = 2 };
sl_row_code sl_parse_timestamp(const uint8_t *p, size_t n, sl_time_unit unit, int64_t *out,
                               unsigned *form, const char **why);

/* decimal(precision, scale): [+-]?(digits[.digits]|.digits)([eE][+-]?digits)? into the unscaled
 * integer value * 10^scale. Fractional digits past the scale must be zeros (else SL_ROW_RANGE
 * "too many decimal places"); |unscaled| < 10^precision (else SL_ROW_RANGE). */
sl_row_code sl_parse_decimal(const uint8_t *p, size_t n, unsigned precision, unsigned scale,
                             __int128 *out, const char **why);

/* Offset of the first byte of the first invalid UTF-8 sequence (overlong forms, surrogates and
 * code points past U+10FFFF are invalid), or n when all of p is valid. */
size_t sl_utf8_check(const uint8_t *p, size_t n);

/* Is p exactly one JSON value (RFC 8259: any value, surrounding whitespace allowed, strings
 * valid UTF-8, nesting depth up to 256)? On false, *at (may be NULL) gets the offset of the
 * offending byte (n for an early end) and *why (may be NULL) the reason. */
bool sl_json_check(const uint8_t *p, size_t n, size_t *at, const char **why);

/* Days since 1970-01-01 of a proleptic Gregorian date (any year; no validation). */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);

/* ---- cells into columns ---------------------------------------------------------------- */

#define SL_COERCE_MAX_NULL_TOKENS 16
#define SL_COERCE_MAX_NULL_TOKEN_LEN 31

typedef struct sl_coerce_opts {
    /* TEXT cells (unquoted CSV fields) equal to one of these are null; compared after trimming
     * for non-string columns. NULL selects the default {"", "NULL", "null", "\\N"}; a non-NULL
     * array with nnull_tokens = 0 means no tokens. Copied by sl_coerce_init. */
    const char *const *null_tokens;
    size_t nnull_tokens;
    /* Ignore ASCII spaces and tabs around values of non-string columns (default true). */
    bool trim;
    /* A STRING cell with no bytes ("" in CSV or JSON) is null in non-string columns (default
     * true); false makes it a TYPE error there. In string/binary columns it is always "". */
    bool empty_string_null;
    /* Cells come from the JSON Lines parser (changes STRING cells into json columns: a JSON
     * string becomes a JSON string literal; from CSV the field is JSON text). Default false. */
    bool json_source;
    /* The parser already validated UTF-8 of every TEXT/STRING cell without escapes (skip the
     * check in string columns). Default false. */
    bool trusted_utf8;
    /* Undo CSV escapes of a cell flagged SL_CELLF_CSV_ESCAPES into out (room for n bytes);
     * returns the output length (a value > n makes the value a TYPE error). NULL:
     * sl_csv_unescape() with default options (doubled quotes only); set it when the CSV has
     * an escape character. */
    size_t (*csv_unescape)(void *ctx, const uint8_t *p, size_t n, uint8_t *out);
    void *csv_unescape_ctx;
    /* Decode JSON escapes of a cell flagged SL_CELLF_JSON_ESCAPES, likewise. NULL:
     * sl_json_unescape(). */
    size_t (*json_unescape)(const uint8_t *p, size_t n, uint8_t *out);
} sl_coerce_opts;

void sl_coerce_opts_default(sl_coerce_opts *o);

/* Prepared options (null tokens compiled); embed it, no release needed. */
typedef struct sl_coerce {
    sl_coerce_opts o;
    uint8_t ntok;
    uint8_t tok_maxlen;
    bool tok_empty; /* "" is a token */
    uint8_t tok_len[SL_COERCE_MAX_NULL_TOKENS];
    char tok[SL_COERCE_MAX_NULL_TOKENS][SL_COERCE_MAX_NULL_TOKEN_LEN + 1];
    uint64_t tok_first[4];   /* bitmap of first bytes of non-empty tokens */
    sl_csv_opts csv_default; /* for sl_csv_unescape() when no csv_unescape is set */
} sl_coerce;

/* SL_INVALID for more than SL_COERCE_MAX_NULL_TOKENS tokens or a token longer than
 * SL_COERCE_MAX_NULL_TOKEN_LEN bytes. opts NULL = defaults. */
SL_NODISCARD sl_err sl_coerce_init(sl_coerce *cz, const sl_coerce_opts *opts);

/* Is a (trimmed) TEXT cell a null token? */
bool sl_coerce_is_null_token(const sl_coerce *cz, const uint8_t *p, size_t n);

/* Undoes the escapes a cell's flags announce (SL_CELLF_CSV_ESCAPES or SL_CELLF_JSON_ESCAPES)
 * with the configured functions; out needs room for n bytes. */
size_t sl_coerce_unescape(const sl_coerce *cz, const uint8_t *p, size_t n, uint8_t flags,
                          uint8_t *out);

/* Called once per failing row: `row` is the index within the run (0..nrows-1), detail is a
 * NUL-terminated text such as "9223372036854775808 out of range for int64". A non-OK return
 * stops sl_coerce_column with that error. */
typedef sl_err (*sl_coerce_fail_fn)(void *ctx, size_t row, sl_row_code code, const char *detail);

#define SL_COERCE_DETAIL_MAX 96

/* Appends one value per row to col from cells[r * stride], r < nrows (text: the block's
 * text). Rows with bad[r] != 0 get a placeholder (null, or a zero/empty value in a
 * non-nullable column) and are not parsed; a row that fails gets a placeholder, bad[r] = 2
 * and one call of fail(). So col grows by exactly nrows rows unless an error is returned
 * (SL_NOMEM, SL_FULL past 4 GiB of bytes, or the callback's), in which case col may hold part
 * of the run: truncate it to its earlier length (sl_batch_truncate). */
SL_NODISCARD sl_err sl_coerce_column(const sl_coerce *cz, sl_column *col, const uint8_t *text,
                                     const sl_cell *cells, size_t stride, size_t nrows,
                                     uint8_t *bad, sl_coerce_fail_fn fail, void *fail_ctx);

/* Appends nrows values for a column no cell feeds (every row MISSING): nulls, or for a
 * non-nullable column placeholders and a MISSING failure per row not already bad. */
SL_NODISCARD sl_err sl_coerce_missing(sl_column *col, size_t nrows, uint8_t *bad,
                                      sl_coerce_fail_fn fail, void *fail_ctx);

/* One cell. *code gets the row code; on failure nothing is appended and detail (may be NULL)
 * gets the reason. Returns SL_OK unless appending failed (SL_NOMEM, SL_FULL). */
SL_NODISCARD sl_err sl_coerce_append(const sl_coerce *cz, sl_column *col, const uint8_t *text,
                                     const sl_cell *cell, sl_row_code *code, char *detail,
                                     size_t detail_len);

#endif
