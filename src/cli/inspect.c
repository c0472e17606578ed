/* inspect.c: `sluice inspect FILE.parquet [--json] [--pages]`.
 *
 * Reads the footer of a Parquet file and prints the file summary, the schema, and per row group
 * per column chunk the codec, encodings, sizes, offsets, statistics (decoded by physical and
 * logical type), encoding stats and page index locations. --pages also walks every page header
 * of every column chunk and decodes the ColumnIndex/OffsetIndex, cross-checking them against
 * the pages found and the offsets in ColumnMetaData. --json prints the same as one JSON
 * document with stable keys (absent optional values are null, raw statistics are also given in
 * hex).
 *
 * File layout relied on: "PAR1" | column chunks | page index | FileMetaData | u32le footer
 * length | "PAR1". Only the last 8 bytes, the footer and (with --pages) the column chunk and
 * page index ranges are read, with pread: files may be large.
 *
 * Exit status: 0 ok; 1 the file cannot be read, is not Parquet, is truncated or its footer is
 * corrupt (message on stderr: "sluice inspect: FILE: reason"), or --pages found problems (they
 * are printed inline / in "problems", and summarised on stderr); 2 usage error.
 *
 * Everything read from the file is untrusted: offsets and sizes are range-checked against the
 * file before use, the schema tree is walked without recursion, and text output escapes
 * control characters.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "encode/parquet/pq_meta.h"
#include "sluice.h"
#include "util/buf.h"

#define TEXT_VALUE_MAX 64      /* bytes of a statistics value shown in text mode */
#define TEXT_KV_MAX 120        /* bytes of a key-value metadata value shown in text mode */
#define FOOTER_MAX (1u << 30)  /* refuse footers above 1 GiB */
#define INDEX_MAX (64u << 20)  /* refuse page index structs above 64 MiB */
#define HEADER_MAX (16u << 20) /* largest page header we try to decode */

/* ---- output buffer with a sticky error ----------------------------------------------------- */

typedef struct {
    sl_buf b;
    sl_err err;
} obuf;

static void ob_put(obuf *o, const void *p, size_t n)
{
    if (!o->err)
        o->err = sl_buf_append(&o->b, p, n);
}

static void ob_puts(obuf *o, const char *s)
{
    ob_put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void ob_printf(obuf *o, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->err = o->err ? o->err : SL_INVALID;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        ob_put(o, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        o->err = o->err ? o->err : SL_NOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ob_put(o, big, (size_t)n);
    free(big);
}

static void ob_indent(obuf *o, int n)
{
    for (int i = 0; i < n; i++)
        ob_put(o, " ", 1);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* JSON string literal; invalid UTF-8 becomes U+FFFD so the document stays valid. */
static void ob_json_str(obuf *o, const void *s, size_t n)
{
    const uint8_t *p = s ? s : (const uint8_t *)"";
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            break;
        i += k;
    }
    if (o->err)
        return;
    if (i == n) {
        o->err = sl_buf_json_str(&o->b, (const char *)p, n);
        return;
    }
    obuf tmp = {{0}, SL_OK};
    sl_buf_init(&tmp.b, 0);
    for (i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k) {
            ob_put(&tmp, p + i, k);
            i += k;
        } else {
            ob_put(&tmp, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
    if (tmp.err)
        o->err = tmp.err;
    else
        o->err = sl_buf_json_str(&o->b, (const char *)tmp.b.ptr, tmp.b.len);
    sl_buf_release(&tmp.b);
}

/* Human-readable quoted string: control bytes escaped, cut after max bytes (0 = no limit) at a
 * UTF-8 boundary. */
static void ob_text_str(obuf *o, const void *s, size_t n, size_t max)
{
    const uint8_t *p = s ? s : (const uint8_t *)"";
    size_t show = n;
    if (max && n > max) {
        show = max;
        while (show > 0 && (p[show] & 0xC0) == 0x80)
            show--;
    }
    ob_put(o, "\"", 1);
    for (size_t i = 0; i < show; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\')
            ob_printf(o, "\\%c", c);
        else if (c == '\n')
            ob_puts(o, "\\n");
        else if (c == '\t')
            ob_puts(o, "\\t");
        else if (c == '\r')
            ob_puts(o, "\\r");
        else if (c < 0x20 || c == 0x7F)
            ob_printf(o, "\\x%02x", c);
        else
            ob_put(o, &c, 1);
    }
    ob_put(o, "\"", 1);
    if (show < n)
        ob_printf(o, "... (%zu bytes)", n);
}

/* Display width of UTF-8 text: code points, not bytes. */
static int text_width(const uint8_t *p, size_t n)
{
    int w = 0;
    for (size_t i = 0; i < n; i++)
        w += (p[i] & 0xC0) != 0x80;
    return w;
}

/* A name as is when it is plain (printable, no spaces or quotes), quoted otherwise. */
static void ob_name(obuf *o, const void *s, size_t n, size_t max)
{
    const uint8_t *p = s ? s : (const uint8_t *)"";
    bool plain = n > 0 && n <= max;
    for (size_t i = 0; i < n && plain; i++)
        plain = p[i] > 0x20 && p[i] != 0x7F && p[i] != '"' && p[i] != '\\';
    if (plain)
        ob_put(o, p, n);
    else
        ob_text_str(o, p, n, max);
}

static void ob_hex(obuf *o, const uint8_t *p, size_t n, size_t max)
{
    static const char digits[] = "0123456789abcdef";
    size_t show = max && n > max ? max : n;
    for (size_t i = 0; i < show; i++) {
        char h[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        ob_put(o, h, 2);
    }
    if (show < n)
        ob_printf(o, "... (%zu bytes)", n);
}

/* ---- names ---------------------------------------------------------------------------------- */

static const char *enum_name(const char *const *tab, size_t n, int32_t v, char *tmp, size_t tmplen,
                             const char *prefix)
{
    if (v >= 0 && (size_t)v < n && tab[v])
        return tab[v];
    snprintf(tmp, tmplen, "%s%d", prefix, v);
    return tmp;
}

#define NAMES(tab) tab, sizeof(tab) / sizeof(tab[0])

static const char *const type_names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                         "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
static const char *const rep_names[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
static const char *const conv_names[] = {"UTF8",
                                         "MAP",
                                         "MAP_KEY_VALUE",
                                         "LIST",
                                         "ENUM",
                                         "DECIMAL",
                                         "DATE",
                                         "TIME_MILLIS",
                                         "TIME_MICROS",
                                         "TIMESTAMP_MILLIS",
                                         "TIMESTAMP_MICROS",
                                         "UINT_8",
                                         "UINT_16",
                                         "UINT_32",
                                         "UINT_64",
                                         "INT_8",
                                         "INT_16",
                                         "INT_32",
                                         "INT_64",
                                         "JSON",
                                         "BSON",
                                         "INTERVAL"};
static const char *const enc_names[] = {"PLAIN",
                                        "GROUP_VAR_INT",
                                        "PLAIN_DICTIONARY",
                                        "RLE",
                                        "BIT_PACKED",
                                        "DELTA_BINARY_PACKED",
                                        "DELTA_LENGTH_BYTE_ARRAY",
                                        "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY",
                                        "BYTE_STREAM_SPLIT",
                                        "ALP"};
static const char *const codec_names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                          "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
static const char *const page_names[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE",
                                         "DATA_PAGE_V2"};
static const char *const order_names[] = {"UNORDERED", "ASCENDING", "DESCENDING"};
static const char *const unit_names[] = {NULL, "MILLIS", "MICROS", "NANOS"};

typedef struct {
    char s[32];
} nbuf;

static const char *type_name(int32_t v, nbuf *t)
{
    return enum_name(NAMES(type_names), v, t->s, sizeof(t->s), "TYPE_");
}
static const char *rep_name(int32_t v, nbuf *t)
{
    return enum_name(NAMES(rep_names), v, t->s, sizeof(t->s), "REPETITION_");
}
static const char *conv_name(int32_t v, nbuf *t)
{
    return enum_name(NAMES(conv_names), v, t->s, sizeof(t->s), "CONVERTED_");
}
static const char *enc_name(int32_t v, nbuf *t)
{
    return enum_name(NAMES(enc_names), v, t->s, sizeof(t->s), "ENCODING_");
}
static const char *codec_name(int32_t v, nbuf *t)
{
    return enum_name(NAMES(codec_names), v, t->s, sizeof(t->s), "CODEC_");
}
static const char *page_name(int32_t v, nbuf *t)
{
    return enum_name(NAMES(page_names), v, t->s, sizeof(t->s), "PAGE_");
}
static const char *order_name(int32_t v, nbuf *t)
{
    return enum_name(NAMES(order_names), v, t->s, sizeof(t->s), "ORDER_");
}
static const char *unit_name(int32_t v, nbuf *t)
{
    return enum_name(NAMES(unit_names), v, t->s, sizeof(t->s), "UNIT_");
}

/* TIMESTAMP(MICROS, UTC), DECIMAL(10,2), STRING, INTEGER(8, unsigned), ... */
static void fmt_logical(obuf *o, const sl_pq_logical *lt)
{
    static const char *const plain[] = {[PQ_LT_STRING] = "STRING",
                                        [2] = "MAP",
                                        [3] = "LIST",
                                        [4] = "ENUM",
                                        [PQ_LT_DATE] = "DATE",
                                        [PQ_LT_UNKNOWN] = "UNKNOWN",
                                        [PQ_LT_JSON] = "JSON",
                                        [PQ_LT_BSON] = "BSON",
                                        [PQ_LT_UUID] = "UUID",
                                        [15] = "FLOAT16",
                                        [16] = "VARIANT",
                                        [17] = "GEOMETRY",
                                        [18] = "GEOGRAPHY",
                                        [19] = "FILE"};
    nbuf t;
    switch (lt->kind) {
    case PQ_LT_DECIMAL:
        ob_printf(o, "DECIMAL(%d,%d)", lt->precision, lt->scale);
        return;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        ob_printf(o, "%s(%s, %s)", lt->kind == PQ_LT_TIME ? "TIME" : "TIMESTAMP",
                  unit_name(lt->unit, &t), lt->utc ? "UTC" : "local");
        return;
    case PQ_LT_INTEGER:
        ob_printf(o, "INTEGER(%d, %s)", lt->bit_width, lt->is_signed ? "signed" : "unsigned");
        return;
    default:
        if (lt->kind > 0 && (size_t)lt->kind < sizeof(plain) / sizeof(plain[0]) && plain[lt->kind])
            ob_puts(o, plain[lt->kind]);
        else
            ob_printf(o, "LOGICAL_TYPE_%d", lt->kind);
    }
}

static void fmt_converted(obuf *o, const sl_pq_schema_elem *e)
{
    nbuf t;
    if (e->converted_type == PQ_CT_DECIMAL && e->has_precision && e->has_scale)
        ob_printf(o, "DECIMAL(%d,%d)", e->precision, e->scale);
    else
        ob_puts(o, conv_name(e->converted_type, &t));
}

/* ---- typed values ---------------------------------------------------------------------------- */

typedef enum {
    VK_PLAIN,
    VK_STRING,
    VK_DECIMAL,
    VK_DATE,
    VK_TIME,
    VK_TIMESTAMP,
    VK_UNSIGNED,
    VK_UUID,
    VK_FLOAT16,
} vkind;

typedef struct {
    int32_t phys; /* PQ_BOOLEAN.., -1 unknown */
    vkind kind;
    int unit; /* PQ_UNIT_* for time/timestamp */
    bool utc;
    int32_t scale;
} vtype;

static vtype vtype_of(const sl_pq_schema_elem *e, int32_t phys)
{
    vtype v = {phys, VK_PLAIN, PQ_UNIT_MICROS, true, 0};
    if (!e)
        return v;
    const sl_pq_logical *lt = &e->logical;
    switch (lt->kind) {
    case PQ_LT_STRING:
    case 4: /* ENUM */
    case PQ_LT_JSON:
        v.kind = VK_STRING;
        return v;
    case PQ_LT_DECIMAL:
        v.kind = VK_DECIMAL;
        v.scale = lt->scale;
        return v;
    case PQ_LT_DATE:
        v.kind = VK_DATE;
        return v;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        v.kind = lt->kind == PQ_LT_TIME ? VK_TIME : VK_TIMESTAMP;
        v.unit = lt->unit;
        v.utc = lt->utc;
        return v;
    case PQ_LT_INTEGER:
        v.kind = lt->is_signed ? VK_PLAIN : VK_UNSIGNED;
        return v;
    case PQ_LT_UUID:
        v.kind = VK_UUID;
        return v;
    case 15:
        v.kind = VK_FLOAT16;
        return v;
    case PQ_LT_NONE:
        break;
    default:
        return v;
    }
    if (!e->has_converted_type)
        return v;
    switch (e->converted_type) {
    case PQ_CT_UTF8:
    case 4: /* ENUM */
    case PQ_CT_JSON:
        v.kind = VK_STRING;
        break;
    case PQ_CT_DECIMAL:
        v.kind = VK_DECIMAL;
        v.scale = e->has_scale ? e->scale : 0;
        break;
    case PQ_CT_DATE:
        v.kind = VK_DATE;
        break;
    case 7: /* TIME_MILLIS */
    case 8: /* TIME_MICROS */
        v.kind = VK_TIME;
        v.unit = e->converted_type == 7 ? PQ_UNIT_MILLIS : PQ_UNIT_MICROS;
        break;
    case PQ_CT_TIMESTAMP_MILLIS:
    case PQ_CT_TIMESTAMP_MICROS:
        v.kind = VK_TIMESTAMP;
        v.unit = e->converted_type == PQ_CT_TIMESTAMP_MILLIS ? PQ_UNIT_MILLIS : PQ_UNIT_MICROS;
        break;
    case 11: /* UINT_8 .. UINT_64 */
    case 12:
    case 13:
    case 14:
        v.kind = VK_UNSIGNED;
        break;
    default:
        break;
    }
    return v;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = v << 8 | p[i - 1];
    return v;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) < 0)
        q--;
    return q;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void civil(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void fmt_date(obuf *o, int64_t days)
{
    int64_t y;
    int m, d;
    civil(days, &y, &m, &d);
    if (y >= 0 && y <= 9999)
        ob_printf(o, "%04lld-%02d-%02d", (long long)y, m, d);
    else
        ob_printf(o, "%+lld-%02d-%02d", (long long)y, m, d);
}

static int64_t unit_per_sec(int unit, int *digits)
{
    switch (unit) {
    case PQ_UNIT_MILLIS:
        *digits = 3;
        return 1000;
    case PQ_UNIT_NANOS:
        *digits = 9;
        return 1000000000;
    default:
        *digits = 6;
        return 1000000;
    }
}

static void fmt_timestamp(obuf *o, int64_t v, int unit, bool utc)
{
    int digits;
    int64_t per = unit_per_sec(unit, &digits);
    /* floor division without overflow near INT64_MIN */
    int64_t secs = v / per;
    int64_t frac = v % per;
    if (frac < 0) {
        frac += per;
        secs--;
    }
    int64_t days = floor_div(secs, 86400);
    int64_t sod = secs - days * 86400;
    fmt_date(o, days);
    ob_printf(o, "T%02d:%02d:%02d.%0*lld%s", (int)(sod / 3600), (int)(sod / 60 % 60),
              (int)(sod % 60), digits, (long long)frac, utc ? "Z" : "");
}

static void fmt_time(obuf *o, int64_t v, int unit)
{
    int digits;
    int64_t per = unit_per_sec(unit, &digits);
    if (v < 0 || v > 86400 * per) {
        ob_printf(o, "%lld (out of range for a time of day)", (long long)v);
        return;
    }
    int64_t secs = v / per;
    ob_printf(o, "%02d:%02d:%02d.%0*lld", (int)(secs / 3600), (int)(secs / 60 % 60),
              (int)(secs % 60), digits, (long long)(v % per));
}

/* Decimal text of an unscaled magnitude given as digits ("12345" scale 2 -> "123.45"). */
static void fmt_scaled(obuf *o, bool neg, const char *digits, int32_t scale)
{
    size_t n = strlen(digits);
    if (neg)
        ob_put(o, "-", 1);
    if (scale <= 0 || scale > 1000) {
        ob_puts(o, digits);
        if (scale != 0)
            ob_printf(o, "e%d", -scale);
        return;
    }
    size_t s = (size_t)scale;
    if (n <= s) {
        ob_puts(o, "0.");
        for (size_t i = n; i < s; i++)
            ob_put(o, "0", 1);
        ob_puts(o, digits);
    } else {
        ob_put(o, digits, n - s);
        ob_put(o, ".", 1);
        ob_puts(o, digits + n - s);
    }
}

static void fmt_decimal_i64(obuf *o, int64_t v, int32_t scale)
{
    char digits[24];
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    snprintf(digits, sizeof(digits), "%llu", (unsigned long long)mag);
    fmt_scaled(o, v < 0, digits, scale);
}

/* Big-endian two's complement of up to 32 bytes. */
static void fmt_decimal_be(obuf *o, const uint8_t *p, size_t n, int32_t scale)
{
    uint8_t mag[32];
    char digits[80];
    bool neg = n && (p[0] & 0x80);
    memcpy(mag, p, n);
    if (neg) { /* negate: invert and add one */
        unsigned carry = 1;
        for (size_t i = n; i > 0; i--) {
            unsigned x = (unsigned)(uint8_t)~mag[i - 1] + carry;
            mag[i - 1] = (uint8_t)x;
            carry = x >> 8;
        }
    }
    size_t nd = 0;
    size_t start = 0;
    while (start < n && mag[start] == 0)
        start++;
    while (start < n) { /* repeated division by 10 */
        unsigned rem = 0;
        for (size_t i = start; i < n; i++) {
            unsigned cur = rem << 8 | mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
        while (start < n && mag[start] == 0)
            start++;
    }
    if (nd == 0)
        digits[nd++] = '0';
    for (size_t i = 0; i < nd / 2; i++) {
        char c = digits[i];
        digits[i] = digits[nd - 1 - i];
        digits[nd - 1 - i] = c;
    }
    digits[nd] = '\0';
    fmt_scaled(o, neg, digits, scale);
}

/* Shortest %g text that reads back to the same value. */
static void fmt_float(obuf *o, double d, bool single)
{
    char tmp[40];
    if (isnan(d)) {
        ob_puts(o, "NaN");
        return;
    }
    if (isinf(d)) {
        ob_puts(o, d < 0 ? "-Infinity" : "Infinity");
        return;
    }
    for (int prec = single ? 6 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (single ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
            break;
    }
    ob_puts(o, tmp);
}

static float half_to_float(uint16_t h)
{
    int exp = h >> 10 & 0x1F;
    int mant = h & 0x3FF;
    float v;
    if (exp == 0)
        v = ldexpf((float)mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexpf((float)(mant + 1024), exp - 25);
    return h & 0x8000 ? -v : v;
}

/* How fmt_value's output should go into JSON. */
typedef enum { JV_STRING, JV_LITERAL } jv;

/* Formats a PLAIN-encoded value (statistics, page index) per physical and logical type. In
 * text mode strings are quoted, escaped and cut; otherwise they are raw (the caller escapes). */
static jv fmt_value(obuf *o, const vtype *vt, const uint8_t *p, size_t n, bool text)
{
    size_t max = text ? TEXT_VALUE_MAX : 0;
    switch (vt->phys) {
    case PQ_BOOLEAN:
        if (n != 1)
            break;
        ob_puts(o, p[0] ? "true" : "false");
        return JV_LITERAL;
    case PQ_INT32: {
        if (n != 4)
            break;
        int32_t v = (int32_t)(uint32_t)load_le(p, 4);
        switch (vt->kind) {
        case VK_DATE:
            fmt_date(o, v);
            return JV_STRING;
        case VK_DECIMAL:
            fmt_decimal_i64(o, v, vt->scale);
            return JV_STRING;
        case VK_TIME:
            fmt_time(o, v, vt->unit);
            return JV_STRING;
        case VK_UNSIGNED:
            ob_printf(o, "%u", (uint32_t)v);
            return JV_LITERAL;
        default:
            ob_printf(o, "%d", v);
            return JV_LITERAL;
        }
    }
    case PQ_INT64: {
        if (n != 8)
            break;
        uint64_t u = load_le(p, 8);
        int64_t v = (int64_t)u;
        switch (vt->kind) {
        case VK_TIMESTAMP:
            fmt_timestamp(o, v, vt->unit, vt->utc);
            return JV_STRING;
        case VK_TIME:
            fmt_time(o, v, vt->unit);
            return JV_STRING;
        case VK_DECIMAL:
            fmt_decimal_i64(o, v, vt->scale);
            return JV_STRING;
        case VK_UNSIGNED:
            ob_printf(o, "%llu", (unsigned long long)u);
            return JV_LITERAL;
        default:
            ob_printf(o, "%lld", (long long)v);
            return JV_LITERAL;
        }
    }
    case PQ_INT96: {
        if (n != 12)
            break;
        int64_t nanos = (int64_t)load_le(p, 8);
        int32_t jd = (int32_t)(uint32_t)load_le(p + 8, 4);
        if (nanos < 0 || nanos >= 86400LL * 1000000000LL)
            break;
        fmt_date(o, (int64_t)jd - 2440588);
        int64_t secs = nanos / 1000000000;
        ob_printf(o, "T%02d:%02d:%02d.%09lld", (int)(secs / 3600), (int)(secs / 60 % 60),
                  (int)(secs % 60), (long long)(nanos % 1000000000));
        return JV_STRING;
    }
    case PQ_FLOAT: {
        if (n != 4)
            break;
        uint32_t bits = (uint32_t)load_le(p, 4);
        float f;
        memcpy(&f, &bits, 4);
        fmt_float(o, f, true);
        return isfinite(f) ? JV_LITERAL : JV_STRING;
    }
    case PQ_DOUBLE: {
        if (n != 8)
            break;
        uint64_t bits = load_le(p, 8);
        double d;
        memcpy(&d, &bits, 8);
        fmt_float(o, d, false);
        return isfinite(d) ? JV_LITERAL : JV_STRING;
    }
    case PQ_BYTE_ARRAY:
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (vt->kind == VK_STRING) {
            if (text)
                ob_text_str(o, p, n, max);
            else
                ob_put(o, p, n);
            return JV_STRING;
        }
        if (vt->kind == VK_DECIMAL && n > 0 && n <= 32) {
            fmt_decimal_be(o, p, n, vt->scale);
            return JV_STRING;
        }
        if (vt->kind == VK_UUID && n == 16) {
            for (size_t i = 0; i < 16; i++)
                ob_printf(o, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", p[i]);
            return JV_STRING;
        }
        if (vt->kind == VK_FLOAT16 && n == 2) {
            float f = half_to_float((uint16_t)load_le(p, 2));
            fmt_float(o, f, true);
            return isfinite(f) ? JV_LITERAL : JV_STRING;
        }
        ob_puts(o, "0x");
        ob_hex(o, p, n, max);
        return JV_STRING;
    default:
        break;
    }
    /* unknown type, a length that does not fit the type, or an INT96 out of range */
    ob_puts(o, "0x");
    ob_hex(o, p, n, max);
    static const size_t widths[] = {1, 4, 8, 12, 4, 8};
    if (vt->phys >= PQ_BOOLEAN && vt->phys <= PQ_DOUBLE && n != widths[vt->phys])
        ob_printf(o, " (unexpected length %zu)", n);
    return JV_STRING;
}

/* ---- JSON writer ---------------------------------------------------------------------------- */

#define JSON_MAX_DEPTH 16

typedef struct {
    obuf *o;
    int depth;
    bool first[JSON_MAX_DEPTH];
} jw;

static void jw_sep(jw *j, const char *key)
{
    int d = j->depth < JSON_MAX_DEPTH ? j->depth : JSON_MAX_DEPTH - 1;
    if (j->depth > 0) {
        if (!j->first[d])
            ob_put(j->o, ",", 1);
        ob_put(j->o, "\n", 1);
        ob_indent(j->o, 2 * j->depth);
    }
    j->first[d] = false;
    if (key) {
        ob_json_str(j->o, key, strlen(key));
        ob_put(j->o, ": ", 2);
    }
}

static void jw_open(jw *j, const char *key, char c)
{
    jw_sep(j, key);
    ob_put(j->o, &c, 1);
    j->depth++;
    if (j->depth < JSON_MAX_DEPTH)
        j->first[j->depth] = true;
}

static void jw_close(jw *j, char c)
{
    bool empty = j->depth < JSON_MAX_DEPTH && j->first[j->depth];
    j->depth--;
    if (!empty) {
        ob_put(j->o, "\n", 1);
        ob_indent(j->o, 2 * j->depth);
    }
    ob_put(j->o, &c, 1);
}

static void jw_null(jw *j, const char *key)
{
    jw_sep(j, key);
    ob_puts(j->o, "null");
}

static void jw_str(jw *j, const char *key, const void *s, size_t n)
{
    jw_sep(j, key);
    ob_json_str(j->o, s, n);
}

static void jw_cstr(jw *j, const char *key, const char *s)
{
    if (s) {
        jw_str(j, key, s, strlen(s));
    } else {
        jw_sep(j, key);
        ob_puts(j->o, "null");
    }
}

static void jw_bin(jw *j, const char *key, sl_pq_bin b)
{
    jw_str(j, key, b.ptr, b.len);
}

static void jw_i64(jw *j, const char *key, int64_t v)
{
    jw_sep(j, key);
    ob_printf(j->o, "%lld", (long long)v);
}

static void jw_opt_i64(jw *j, const char *key, bool has, int64_t v)
{
    if (has)
        jw_i64(j, key, v);
    else
        jw_null(j, key);
}

static void jw_bool(jw *j, const char *key, bool v)
{
    jw_sep(j, key);
    ob_puts(j->o, v ? "true" : "false");
}

static void jw_opt_bool(jw *j, const char *key, bool has, bool v)
{
    if (has)
        jw_bool(j, key, v);
    else
        jw_null(j, key);
}

static void jw_hex(jw *j, const char *key, const uint8_t *p, size_t n)
{
    jw_sep(j, key);
    ob_put(j->o, "\"", 1);
    ob_hex(j->o, p, n, 0);
    ob_put(j->o, "\"", 1);
}

/* A typed value as a JSON literal or string. */
static void jw_value(jw *j, const char *key, const vtype *vt, const uint8_t *p, size_t n)
{
    obuf tmp = {{0}, SL_OK};
    sl_buf_init(&tmp.b, 0);
    jv kind = fmt_value(&tmp, vt, p, n, false);
    jw_sep(j, key);
    if (tmp.err)
        j->o->err = j->o->err ? j->o->err : tmp.err;
    else if (kind == JV_LITERAL)
        ob_put(j->o, tmp.b.ptr, tmp.b.len);
    else
        ob_json_str(j->o, tmp.b.ptr, tmp.b.len);
    sl_buf_release(&tmp.b);
}

/* ---- the inspection ---------------------------------------------------------------------- */

typedef struct {
    uint32_t elem; /* index into meta.schema */
    char *path;    /* dotted path, NUL-terminated */
} leaf;

typedef struct {
    const char *file;
    int fd;
    int64_t size;
    uint32_t footer_len;
    int64_t data_end; /* start of the page index/footer region we must not exceed */
    bool json;
    bool pages;
    sl_pq_meta meta;
    uint32_t nleaves;
    leaf *leaves;
    int *depth; /* schema element depth, for indentation */
    obuf out;
    jw j;
    char **problems;
    size_t nproblems;
    size_t nshown; /* text mode: problems already printed */
} ins;

static void flush_out(ins *s)
{
    if (s->out.b.len) {
        fwrite(s->out.b.ptr, 1, s->out.b.len, stdout);
        s->out.b.len = 0;
    }
}

/* A non-fatal finding (reported inline and summarised at the end; exit status 1). */
__attribute__((format(printf, 2, 3))) static void problem(ins *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char **p = realloc(s->problems, (s->nproblems + 1) * sizeof(*p));
    if (p) {
        s->problems = p;
        p[s->nproblems] = strdup(msg);
        if (p[s->nproblems])
            s->nproblems++;
    }
}

/* Text mode: prints the problems found since the last call. */
static void text_problems(ins *s, int indent)
{
    for (; s->nshown < s->nproblems; s->nshown++) {
        ob_indent(&s->out, indent);
        ob_printf(&s->out, "PROBLEM: %s\n", s->problems[s->nshown]);
    }
}

static int read_at(int fd, int64_t off, void *dst, size_t n)
{
    uint8_t *p = dst;
    while (n) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return EIO; /* the file shrank under us */
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

static int fatal(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fatal(const char *file, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sluice inspect: %s: ", file);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/* Validates magic and footer length, reads and decodes the footer. Returns an exit code. */
static int load_footer(ins *s)
{
    uint8_t head[4] = {0}, tail[8];
    int e;
    if (s->size >= 4 && (e = read_at(s->fd, 0, head, 4)))
        return fatal(s->file, "read error: %s", strerror(e));
    bool head_ok = s->size >= 4 && !memcmp(head, "PAR1", 4);
    if (s->size < 8) {
        if (head_ok)
            return fatal(s->file, "truncated Parquet file (%lld bytes, no footer)",
                         (long long)s->size);
        return fatal(s->file, "not a Parquet file (%s)", s->size ? "too small" : "empty file");
    }
    if ((e = read_at(s->fd, s->size - 8, tail, 8)))
        return fatal(s->file, "read error: %s", strerror(e));
    if (!memcmp(tail + 4, "PARE", 4))
        return fatal(s->file, "encrypted Parquet footer (PARE magic) is not supported");
    if (memcmp(tail + 4, "PAR1", 4)) {
        if (head_ok)
            return fatal(s->file, "truncated or incomplete Parquet file (starts with PAR1 but "
                                  "missing PAR1 magic at end)");
        return fatal(s->file, "not a Parquet file (missing PAR1 magic at end)");
    }
    if (!head_ok)
        return fatal(s->file, "not a Parquet file (missing PAR1 magic at start)");
    if (s->size < 12)
        return fatal(s->file, "truncated Parquet file (%lld bytes, too small for a footer)",
                     (long long)s->size);
    uint32_t len = sl_load_le32(tail);
    if (len == 0)
        return fatal(s->file, "corrupt footer (footer length is 0)");
    if ((int64_t)len > s->size - 12)
        return fatal(s->file,
                     "corrupt footer (footer length %u exceeds the file: %lld bytes) or "
                     "truncated file",
                     len, (long long)s->size);
    if (len > FOOTER_MAX)
        return fatal(s->file, "footer of %u bytes is too large to inspect", len);
    s->footer_len = len;
    s->data_end = s->size - 8 - len;
    uint8_t *buf = malloc(len);
    if (!buf)
        return fatal(s->file, "out of memory reading a %u-byte footer", len);
    if ((e = read_at(s->fd, s->data_end, buf, len))) {
        free(buf);
        return fatal(s->file, "read error: %s", strerror(e));
    }
    char msg[320];
    sl_err err = sl_pq_meta_decode(buf, len, &s->meta, msg, sizeof(msg));
    free(buf);
    if (err == SL_NOMEM)
        return fatal(s->file, "out of memory decoding the footer");
    if (err)
        return fatal(s->file, "corrupt footer: %s", msg[0] ? msg : sl_strerror(err));
    return 0;
}

/* Walks the schema tree (depth-first preorder, children counted by num_children) without
 * recursion, recording each element's depth and the leaves with their dotted paths. */
static int build_leaves(ins *s)
{
    const sl_pq_meta *m = &s->meta;
    uint32_t n = m->nschema;
    if (n == 0) {
        problem(s, "schema is empty");
        return 0;
    }
    typedef struct {
        int64_t left;
        size_t prefix;
    } frame;
    frame *stack = calloc(n, sizeof(*stack));
    s->depth = calloc(n, sizeof(*s->depth));
    s->leaves = calloc(n, sizeof(*s->leaves));
    sl_buf path;
    sl_buf_init(&path, 0);
    if (!stack || !s->depth || !s->leaves) {
        free(stack);
        return fatal(s->file, "out of memory");
    }
    int sp = 0;
    const sl_pq_schema_elem *root = &m->schema[0];
    stack[sp].left = root->has_num_children && root->num_children > 0 ? root->num_children : 0;
    stack[sp].prefix = 0;
    sp++;
    uint32_t i = 1;
    for (; i < n; i++) {
        while (sp > 0 && stack[sp - 1].left == 0)
            sp--;
        if (sp == 0)
            break;
        const sl_pq_schema_elem *e = &m->schema[i];
        stack[sp - 1].left--;
        s->depth[i] = sp;
        path.len = stack[sp - 1].prefix;
        sl_err err = SL_OK;
        if (path.len)
            err = sl_buf_putc(&path, '.');
        if (!err)
            err = sl_buf_append(&path, e->name.ptr, e->name.len);
        if (err) {
            free(stack);
            sl_buf_release(&path);
            return fatal(s->file, "out of memory");
        }
        if (e->has_num_children && e->num_children > 0) {
            stack[sp].left = e->num_children;
            stack[sp].prefix = path.len;
            sp++;
        } else {
            char *p = malloc(path.len + 1);
            if (!p) {
                free(stack);
                sl_buf_release(&path);
                return fatal(s->file, "out of memory");
            }
            memcpy(p, path.ptr, path.len);
            p[path.len] = '\0';
            s->leaves[s->nleaves].elem = i;
            s->leaves[s->nleaves].path = p;
            s->nleaves++;
        }
    }
    int64_t missing = 0;
    for (int k = 0; k < sp; k++)
        missing += stack[k].left;
    if (i < n)
        problem(s, "schema has %u elements that belong to no group", n - i);
    else if (missing)
        problem(s, "schema groups declare %lld more children than the schema holds",
                (long long)missing);
    free(stack);
    sl_buf_release(&path);
    return 0;
}

/* The schema element (leaf) of column j, or NULL. */
static const sl_pq_schema_elem *leaf_elem(const ins *s, uint32_t j)
{
    return j < s->nleaves ? &s->meta.schema[s->leaves[j].elem] : NULL;
}

static void col_path(obuf *o, const ins *s, const sl_pq_col_chunk *cc, uint32_t j)
{
    if (cc->has_meta_data && cc->meta_data.npath) {
        for (uint32_t k = 0; k < cc->meta_data.npath; k++) {
            if (k)
                ob_put(o, ".", 1);
            ob_put(o, cc->meta_data.path[k].ptr, cc->meta_data.path[k].len);
        }
    } else if (j < s->nleaves) {
        ob_puts(o, s->leaves[j].path);
    }
}

static vtype col_vtype(const ins *s, const sl_pq_col_chunk *cc, uint32_t j)
{
    const sl_pq_schema_elem *e = leaf_elem(s, j);
    int32_t phys = cc->has_meta_data ? cc->meta_data.type : (e && e->has_type ? e->type : -1);
    return vtype_of(e, phys);
}

/* ---- page walk ------------------------------------------------------------------------------ */

typedef struct {
    int64_t offset;
    uint32_t header_size;
    sl_pq_page_header h;
} page_rec;

typedef struct {
    page_rec *pages;
    size_t npages;
    bool walked;
    sl_pq_column_index ci;
    bool has_ci;
    sl_pq_offset_index oi;
    bool has_oi;
} chunk_detail;

static void chunk_detail_release(chunk_detail *d)
{
    free(d->pages);
    sl_pq_column_index_release(&d->ci);
    sl_pq_offset_index_release(&d->oi);
    memset(d, 0, sizeof(*d));
}

static bool is_data_page(int32_t type)
{
    return type == PQ_DATA_PAGE || type == PQ_DATA_PAGE_V2;
}

static void walk_pages(ins *s, const sl_pq_col_chunk *cc, uint32_t rg, uint32_t j, chunk_detail *d)
{
    const sl_pq_col_meta *m = &cc->meta_data;
    int64_t start = m->data_page_offset;
    if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
        m->dictionary_page_offset < start)
        start = m->dictionary_page_offset;
    int64_t len = m->total_compressed_size;
    if (start < 4 || len <= 0 || start > s->data_end || len > s->data_end - start) {
        problem(s,
                "row group %u column %u: chunk range [%lld, +%lld) is outside the data "
                "region [4, %lld)",
                rg, j, (long long)start, (long long)len, (long long)s->data_end);
        return;
    }
    int64_t end = start + len, pos = start, values = 0;
    size_t cap = 0;
    uint8_t *win = NULL;
    bool seen_data = false;
    d->walked = true;
    while (pos < end) {
        size_t want = 256, used = 0;
        sl_pq_page_header h;
        sl_err err;
        for (;;) {
            if ((int64_t)want > end - pos)
                want = (size_t)(end - pos);
            if (want > cap) {
                uint8_t *nw = realloc(win, want);
                if (!nw) {
                    problem(s, "out of memory reading page headers");
                    goto out;
                }
                win = nw;
                cap = want;
            }
            int e = read_at(s->fd, pos, win, want);
            if (e) {
                problem(s, "row group %u column %u: read error at %lld: %s", rg, j, (long long)pos,
                        strerror(e));
                goto out;
            }
            err = sl_pq_page_header_decode(win, want, &h, &used);
            /* a header may be longer than the window (statistics): widen and retry */
            if (!err || (int64_t)want >= end - pos || want >= HEADER_MAX)
                break;
            want *= 4;
        }
        if (err) {
            problem(s, "row group %u column %u: malformed page header at offset %lld (page %zu)",
                    rg, j, (long long)pos, d->npages);
            goto out;
        }
        page_rec *np = realloc(d->pages, (d->npages + 1) * sizeof(*np));
        if (!np) {
            problem(s, "out of memory recording pages");
            goto out;
        }
        d->pages = np;
        d->pages[d->npages].offset = pos;
        d->pages[d->npages].header_size = (uint32_t)used;
        d->pages[d->npages].h = h;
        d->npages++;
        if (h.type == PQ_DICTIONARY_PAGE) {
            if (seen_data || d->npages > 1)
                problem(s,
                        "row group %u column %u: dictionary page at %lld is not the first "
                        "page",
                        rg, j, (long long)pos);
            else if (!m->has_dictionary_page_offset || m->dictionary_page_offset != pos)
                problem(s,
                        "row group %u column %u: dictionary page is at %lld but "
                        "dictionary_page_offset is %s%lld",
                        rg, j, (long long)pos, m->has_dictionary_page_offset ? "" : "absent/",
                        (long long)m->dictionary_page_offset);
        }
        if (is_data_page(h.type)) {
            if (!seen_data && m->data_page_offset != pos)
                problem(s,
                        "row group %u column %u: first data page is at %lld but "
                        "data_page_offset is %lld",
                        rg, j, (long long)pos, (long long)m->data_page_offset);
            seen_data = true;
            values += h.type == PQ_DATA_PAGE ? h.data_page.num_values : h.data_page_v2.num_values;
        }
        if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0) {
            problem(s, "row group %u column %u: negative page size at offset %lld", rg, j,
                    (long long)pos);
            goto out;
        }
        int64_t next = pos + (int64_t)used + h.compressed_page_size;
        if (next > end) {
            problem(s,
                    "row group %u column %u: page at %lld ends at %lld, past the chunk end "
                    "%lld (total_compressed_size too small?)",
                    rg, j, (long long)pos, (long long)next, (long long)end);
            goto out;
        }
        pos = next;
    }
    if (values != m->num_values)
        problem(s, "row group %u column %u: data pages hold %lld values but num_values is %lld", rg,
                j, (long long)values, (long long)m->num_values);
out:
    free(win);
}

/* The value encoding of a page, or -1 when its sub-header is missing. */
static int32_t page_encoding(const sl_pq_page_header *h)
{
    if (h->type == PQ_DATA_PAGE && h->has_data_page)
        return h->data_page.encoding;
    if (h->type == PQ_DATA_PAGE_V2 && h->has_data_page_v2)
        return h->data_page_v2.encoding;
    if (h->type == PQ_DICTIONARY_PAGE && h->has_dict_page)
        return h->dict_page.encoding;
    return -1;
}

/* Cross-checks the pages found against ColumnMetaData.encodings and encoding_stats. */
static void check_pages(ins *s, const sl_pq_col_meta *m, uint32_t rg, uint32_t j,
                        const chunk_detail *d)
{
    nbuf t, t2;
    bool dict_enc = false;
    for (uint32_t k = 0; k < m->nencodings; k++)
        dict_enc |=
            m->encodings[k] == PQ_ENC_PLAIN_DICTIONARY || m->encodings[k] == PQ_ENC_RLE_DICTIONARY;
    if (dict_enc && !m->has_dictionary_page_offset)
        problem(s,
                "row group %u column %u: dictionary encoding listed but no "
                "dictionary_page_offset",
                rg, j);
    for (size_t k = 0; k < d->npages; k++) {
        const sl_pq_page_header *h = &d->pages[k].h;
        int32_t enc = page_encoding(h);
        if (enc < 0 && h->type != PQ_INDEX_PAGE) {
            problem(s, "row group %u column %u: %s at %lld has no matching sub-header", rg, j,
                    page_name(h->type, &t), (long long)d->pages[k].offset);
            continue;
        }
        /* a PLAIN dictionary page is covered by a listed dictionary encoding (parquet-mr and
         * DuckDB list only PLAIN_DICTIONARY) */
        bool listed = h->type == PQ_DICTIONARY_PAGE && enc == PQ_ENC_PLAIN && dict_enc;
        for (uint32_t e = 0; e < m->nencodings; e++)
            listed |= m->encodings[e] == enc;
        if (enc >= 0 && !listed)
            problem(s,
                    "row group %u column %u: page at %lld uses %s, which "
                    "ColumnMetaData.encodings does not list",
                    rg, j, (long long)d->pages[k].offset, enc_name(enc, &t));
    }
    /* encoding_stats: count of pages per (page type, encoding) */
    for (uint32_t e = 0; e < m->nencoding_stats; e++) {
        const sl_pq_enc_stats *es = &m->encoding_stats[e];
        int64_t want = 0, found = 0;
        for (uint32_t f = 0; f < m->nencoding_stats; f++)
            if (m->encoding_stats[f].page_type == es->page_type &&
                m->encoding_stats[f].encoding == es->encoding)
                want += m->encoding_stats[f].count;
        for (size_t k = 0; k < d->npages; k++)
            found += d->pages[k].h.type == es->page_type &&
                     page_encoding(&d->pages[k].h) == es->encoding;
        if (want != found) {
            problem(s,
                    "row group %u column %u: encoding_stats say %lld %s %s pages, the chunk "
                    "has %lld",
                    rg, j, (long long)want, page_name(es->page_type, &t),
                    enc_name(es->encoding, &t2), (long long)found);
            return;
        }
    }
    if (m->nencoding_stats) {
        for (size_t k = 0; k < d->npages; k++) {
            bool counted = false;
            for (uint32_t e = 0; e < m->nencoding_stats; e++)
                counted |= m->encoding_stats[e].page_type == d->pages[k].h.type &&
                           m->encoding_stats[e].encoding == page_encoding(&d->pages[k].h);
            if (!counted) {
                problem(s,
                        "row group %u column %u: %s page at %lld is missing from "
                        "encoding_stats",
                        rg, j, page_name(d->pages[k].h.type, &t), (long long)d->pages[k].offset);
                return;
            }
        }
    }
}

/* Reads and decodes a page index struct at [off, off+len). */
static bool read_index(ins *s, uint32_t rg, uint32_t j, const char *what, int64_t off, int32_t len,
                       uint8_t **buf)
{
    if (off < 4 || len <= 0 || (uint32_t)len > INDEX_MAX || off > s->data_end ||
        len > s->data_end - off) {
        problem(s, "row group %u column %u: %s range [%lld, +%d) is outside the file data", rg, j,
                what, (long long)off, len);
        return false;
    }
    *buf = malloc((size_t)len);
    if (!*buf) {
        problem(s, "out of memory reading the %s", what);
        return false;
    }
    int e = read_at(s->fd, off, *buf, (size_t)len);
    if (e) {
        problem(s, "row group %u column %u: read error in the %s: %s", rg, j, what, strerror(e));
        free(*buf);
        return false;
    }
    return true;
}

static void read_page_index(ins *s, const sl_pq_col_chunk *cc, uint32_t rg, uint32_t j,
                            chunk_detail *d)
{
    uint8_t *buf;
    if (cc->has_column_index && read_index(s, rg, j, "column index", cc->column_index_offset,
                                           cc->column_index_length, &buf)) {
        sl_err err = sl_pq_column_index_decode(buf, (size_t)cc->column_index_length, &d->ci);
        free(buf);
        if (err)
            problem(s, "row group %u column %u: column index at %lld does not decode (%s)", rg, j,
                    (long long)cc->column_index_offset, sl_strerror(err));
        else
            d->has_ci = true;
    }
    if (cc->has_offset_index && read_index(s, rg, j, "offset index", cc->offset_index_offset,
                                           cc->offset_index_length, &buf)) {
        sl_err err = sl_pq_offset_index_decode(buf, (size_t)cc->offset_index_length, &d->oi);
        free(buf);
        if (err)
            problem(s, "row group %u column %u: offset index at %lld does not decode (%s)", rg, j,
                    (long long)cc->offset_index_offset, sl_strerror(err));
        else
            d->has_oi = true;
    }
    if (!d->walked)
        return;
    /* cross-check: the offset index lists the data pages, sizes including headers */
    size_t ndata = 0;
    for (size_t k = 0; k < d->npages; k++)
        ndata += is_data_page(d->pages[k].h.type);
    if (d->has_oi) {
        if (d->oi.npages != ndata) {
            problem(s,
                    "row group %u column %u: offset index lists %u pages, the chunk has %zu "
                    "data pages",
                    rg, j, d->oi.npages, ndata);
        } else {
            size_t k = 0;
            for (uint32_t p = 0; p < d->oi.npages; p++, k++) {
                while (!is_data_page(d->pages[k].h.type))
                    k++;
                const page_rec *pr = &d->pages[k];
                int64_t size = (int64_t)pr->header_size + pr->h.compressed_page_size;
                if (d->oi.pages[p].offset != pr->offset ||
                    d->oi.pages[p].compressed_page_size != size) {
                    problem(s,
                            "row group %u column %u: offset index page %u says offset %lld "
                            "size %d, the page is at %lld size %lld",
                            rg, j, p, (long long)d->oi.pages[p].offset,
                            d->oi.pages[p].compressed_page_size, (long long)pr->offset,
                            (long long)size);
                    break;
                }
            }
        }
    }
    if (d->has_ci && d->ci.npages != ndata)
        problem(s,
                "row group %u column %u: column index lists %u pages, the chunk has %zu "
                "data pages",
                rg, j, d->ci.npages, ndata);
}

/* ---- text output ---------------------------------------------------------------------------- */

static void text_summary(ins *s)
{
    const sl_pq_meta *m = &s->meta;
    obuf *o = &s->out;
    ob_printf(o, "file: %s\n", s->file);
    ob_printf(o, "  size:           %lld bytes (footer %u bytes)\n", (long long)s->size,
              s->footer_len);
    ob_printf(o, "  format version: %d\n", m->version);
    ob_puts(o, "  created by:     ");
    if (m->has_created_by)
        ob_text_str(o, m->created_by.ptr, m->created_by.len, 0);
    else
        ob_puts(o, "(absent)");
    ob_printf(o, "\n  rows:           %lld\n", (long long)m->num_rows);
    ob_printf(o, "  row groups:     %u\n", m->nrow_groups);
    ob_printf(o, "  columns:        %u\n", s->nleaves);
    if (m->ncolumn_orders) {
        uint32_t typed = 0;
        for (uint32_t i = 0; i < m->ncolumn_orders; i++)
            typed += m->column_orders[i] == 1;
        ob_printf(o, "  column orders:  %u of %u TYPE_ORDER\n", typed, m->ncolumn_orders);
    } else {
        ob_puts(o, "  column orders:  (absent: readers ignore min_value/max_value)\n");
    }
    ob_printf(o, "  key-value metadata: %u entr%s\n", m->nkv, m->nkv == 1 ? "y" : "ies");
    for (uint32_t i = 0; i < m->nkv; i++) {
        ob_puts(o, "    ");
        ob_text_str(o, m->kv[i].key.ptr, m->kv[i].key.len, TEXT_KV_MAX);
        ob_puts(o, " = ");
        if (m->kv[i].has_value)
            ob_text_str(o, m->kv[i].value.ptr, m->kv[i].value.len, TEXT_KV_MAX);
        else
            ob_puts(o, "(no value)");
        ob_puts(o, "\n");
    }
}

static void text_schema(ins *s)
{
    const sl_pq_meta *m = &s->meta;
    obuf *o = &s->out;
    nbuf t;
    int width = 8;
    for (uint32_t i = 0; i < m->nschema; i++) {
        int w = 2 * (s->depth ? s->depth[i] : 0) +
                text_width(m->schema[i].name.ptr, m->schema[i].name.len);
        if (w > width && w < 48)
            width = w;
    }
    ob_printf(o, "\nschema: %u elements, %u columns\n", m->nschema, s->nleaves);
    for (uint32_t i = 0; i < m->nschema; i++) {
        const sl_pq_schema_elem *e = &m->schema[i];
        int depth = s->depth ? s->depth[i] : 0;
        obuf name = {{0}, SL_OK};
        sl_buf_init(&name.b, 0);
        ob_indent(&name, 2 * depth);
        ob_name(&name, e->name.ptr, e->name.len, TEXT_VALUE_MAX);
        ob_puts(o, "  ");
        if (!name.err)
            ob_put(o, name.b.ptr, name.b.len);
        ob_indent(o, width + 2 - (name.err ? 0 : text_width(name.b.ptr, name.b.len)));
        sl_buf_release(&name.b);
        bool group = e->has_num_children && e->num_children > 0;
        if (group)
            ob_printf(o, " %-26s", i == 0 ? "(root)" : "(group)");
        else if (e->has_type && e->type == PQ_FIXED_LEN_BYTE_ARRAY) {
            char flba[40];
            snprintf(flba, sizeof(flba), "FIXED_LEN_BYTE_ARRAY(%d)", e->type_length);
            ob_printf(o, " %-26s", flba);
        } else
            ob_printf(o, " %-26s", e->has_type ? type_name(e->type, &t) : "(no type)");
        ob_printf(o, " %-9s", e->has_repetition ? rep_name(e->repetition, &t) : "");
        if (e->logical.kind != PQ_LT_NONE) {
            ob_put(o, " ", 1);
            fmt_logical(o, &e->logical);
        }
        if (e->has_converted_type) {
            ob_puts(o, e->logical.kind != PQ_LT_NONE ? " [" : " [converted ");
            fmt_converted(o, e);
            ob_puts(o, "]");
        }
        if (group)
            ob_printf(o, " (%d children)", e->num_children);
        if (e->has_field_id)
            ob_printf(o, " field_id=%d", e->field_id);
        while (!o->err && o->b.len && o->b.ptr[o->b.len - 1] == ' ')
            o->b.len--;
        ob_puts(o, "\n");
    }
}

static bool bin_eq(sl_pq_bin a, bool has_b, sl_pq_bin b)
{
    return has_b && a.len == b.len && (a.len == 0 || !memcmp(a.ptr, b.ptr, a.len));
}

static void text_stat_value(obuf *o, const char *label, const vtype *vt, sl_pq_bin v,
                            bool has_exact, bool exact)
{
    ob_printf(o, ", %s ", label);
    fmt_value(o, vt, v.ptr, v.len, true);
    if (has_exact && !exact)
        ob_puts(o, " (truncated)");
}

static void text_chunk(ins *s, const sl_pq_col_chunk *cc, uint32_t j, const chunk_detail *d)
{
    obuf *o = &s->out;
    nbuf t, t2;
    vtype vt = col_vtype(s, cc, j);
    ob_printf(o, "  column %u: ", j);
    obuf p = {{0}, SL_OK};
    sl_buf_init(&p.b, 0);
    col_path(&p, s, cc, j);
    ob_name(o, p.b.ptr, p.b.len, TEXT_KV_MAX);
    if (j < s->nleaves && (p.err || strlen(s->leaves[j].path) != p.b.len ||
                           memcmp(s->leaves[j].path, p.b.ptr, p.b.len)))
        ob_printf(o, " (schema leaf %u is \"%s\")", j, s->leaves[j].path);
    sl_buf_release(&p.b);
    ob_puts(o, "\n");
    if (cc->has_file_path) {
        ob_puts(o, "    file path:       ");
        ob_text_str(o, cc->file_path.ptr, cc->file_path.len, TEXT_KV_MAX);
        ob_puts(o, "\n");
    }
    if (!cc->has_meta_data) {
        ob_printf(o, "    (no ColumnMetaData; file_offset %lld)\n", (long long)cc->file_offset);
        return;
    }
    const sl_pq_col_meta *m = &cc->meta_data;
    ob_printf(o, "    type:            %s\n", type_name(m->type, &t));
    ob_printf(o, "    codec:           %s\n", codec_name(m->codec, &t));
    ob_puts(o, "    encodings:       ");
    for (uint32_t k = 0; k < m->nencodings; k++)
        ob_printf(o, "%s%s", k ? ", " : "", enc_name(m->encodings[k], &t));
    ob_printf(o, "\n    values:          %lld\n", (long long)m->num_values);
    ob_printf(o, "    size:            %lld compressed, %lld uncompressed",
              (long long)m->total_compressed_size, (long long)m->total_uncompressed_size);
    if (m->total_compressed_size > 0)
        ob_printf(o, " (ratio %.2f)",
                  (double)m->total_uncompressed_size / (double)m->total_compressed_size);
    ob_puts(o, "\n    offsets:         ");
    if (m->has_dictionary_page_offset)
        ob_printf(o, "dictionary page %lld, ", (long long)m->dictionary_page_offset);
    ob_printf(o, "data page %lld", (long long)m->data_page_offset);
    if (m->has_index_page_offset)
        ob_printf(o, ", index page %lld", (long long)m->index_page_offset);
    ob_printf(o, " (chunk file_offset %lld)\n", (long long)cc->file_offset);
    ob_puts(o, "    statistics:      ");
    if (!m->has_statistics) {
        ob_puts(o, "(absent)\n");
    } else {
        const sl_pq_stats *st = &m->statistics;
        ob_puts(o, "nulls ");
        if (st->has_null_count)
            ob_printf(o, "%lld", (long long)st->null_count);
        else
            ob_puts(o, "?");
        if (st->has_distinct_count)
            ob_printf(o, ", distinct %lld", (long long)st->distinct_count);
        if (st->has_min_value)
            text_stat_value(o, "min", &vt, st->min_value, st->has_is_min_exact,
                            st->is_min_value_exact);
        if (st->has_max_value)
            text_stat_value(o, "max", &vt, st->max_value, st->has_is_max_exact,
                            st->is_max_value_exact);
        /* the deprecated fields only when they say something else */
        if (st->has_min && !bin_eq(st->min, st->has_min_value, st->min_value))
            text_stat_value(o, "min (deprecated field)", &vt, st->min, false, true);
        if (st->has_max && !bin_eq(st->max, st->has_max_value, st->max_value))
            text_stat_value(o, "max (deprecated field)", &vt, st->max, false, true);
        if (!st->has_min_value && !st->has_max_value && !st->has_min && !st->has_max)
            ob_puts(o, ", no min/max");
        ob_puts(o, "\n");
    }
    ob_puts(o, "    encoding stats:  ");
    if (!m->nencoding_stats)
        ob_puts(o, "(absent)");
    for (uint32_t k = 0; k < m->nencoding_stats; k++) {
        const sl_pq_enc_stats *es = &m->encoding_stats[k];
        ob_printf(o, "%s%s %s x%d", k ? ", " : "", page_name(es->page_type, &t),
                  enc_name(es->encoding, &t2), es->count);
    }
    ob_puts(o, "\n    column index:    ");
    if (cc->has_column_index)
        ob_printf(o, "at %lld, %d bytes\n", (long long)cc->column_index_offset,
                  cc->column_index_length);
    else
        ob_puts(o, "(absent)\n");
    ob_puts(o, "    offset index:    ");
    if (cc->has_offset_index)
        ob_printf(o, "at %lld, %d bytes\n", (long long)cc->offset_index_offset,
                  cc->offset_index_length);
    else
        ob_puts(o, "(absent)\n");
    if (!d)
        return;
    if (d->walked) {
        ob_printf(o, "    pages (%zu):\n", d->npages);
        for (size_t k = 0; k < d->npages; k++) {
            const page_rec *pr = &d->pages[k];
            const sl_pq_page_header *h = &pr->h;
            ob_printf(o, "      #%-3zu at %-10lld %-15s header %u, compressed %d, uncompressed %d",
                      k, (long long)pr->offset, page_name(h->type, &t), pr->header_size,
                      h->compressed_page_size, h->uncompressed_page_size);
            if (h->has_data_page)
                ob_printf(o, ", values %d, %s (def %s, rep %s)", h->data_page.num_values,
                          enc_name(h->data_page.encoding, &t),
                          enc_name(h->data_page.definition_level_encoding, &t2),
                          enc_name(h->data_page.repetition_level_encoding, &t2));
            if (h->has_data_page_v2) {
                const sl_pq_data_page_v2 *v2 = &h->data_page_v2;
                ob_printf(o, ", values %d, nulls %d, rows %d, %s, levels def %d rep %d bytes%s",
                          v2->num_values, v2->num_nulls, v2->num_rows, enc_name(v2->encoding, &t),
                          v2->definition_levels_byte_length, v2->repetition_levels_byte_length,
                          v2->has_is_compressed && !v2->is_compressed ? ", not compressed" : "");
            }
            if (h->has_dict_page)
                ob_printf(o, ", values %d, %s%s", h->dict_page.num_values,
                          enc_name(h->dict_page.encoding, &t),
                          h->dict_page.has_is_sorted && h->dict_page.is_sorted ? ", sorted" : "");
            if (h->has_crc)
                ob_printf(o, ", crc %08x", (uint32_t)h->crc);
            ob_puts(o, "\n");
        }
    }
    if (d->has_ci) {
        const sl_pq_column_index *ci = &d->ci;
        ob_printf(o, "    column index: %u pages, boundary order %s\n", ci->npages,
                  order_name(ci->boundary_order, &t));
        for (uint32_t k = 0; k < ci->npages; k++) {
            ob_printf(o, "      page %-3u ", k);
            if (ci->has_null_counts)
                ob_printf(o, "nulls %lld", (long long)ci->null_counts[k]);
            else
                ob_puts(o, "nulls ?");
            if (ci->null_pages[k]) {
                ob_puts(o, ", null page\n");
                continue;
            }
            ob_puts(o, ", min ");
            fmt_value(o, &vt, ci->min_values[k].ptr, ci->min_values[k].len, true);
            ob_puts(o, ", max ");
            fmt_value(o, &vt, ci->max_values[k].ptr, ci->max_values[k].len, true);
            ob_puts(o, "\n");
        }
    }
    if (d->has_oi) {
        ob_printf(o, "    offset index: %u pages\n", d->oi.npages);
        for (uint32_t k = 0; k < d->oi.npages; k++)
            ob_printf(o, "      page %-3u at %-10lld size %d, first row %lld\n", k,
                      (long long)d->oi.pages[k].offset, d->oi.pages[k].compressed_page_size,
                      (long long)d->oi.pages[k].first_row_index);
    }
}

static void text_row_group_head(ins *s, const sl_pq_row_group *rg, uint32_t i)
{
    obuf *o = &s->out;
    ob_printf(o, "\nrow group %u: %lld rows, %lld bytes uncompressed", i, (long long)rg->num_rows,
              (long long)rg->total_byte_size);
    if (rg->has_total_compressed_size)
        ob_printf(o, ", %lld bytes compressed", (long long)rg->total_compressed_size);
    if (rg->has_file_offset)
        ob_printf(o, ", file offset %lld", (long long)rg->file_offset);
    if (rg->has_ordinal)
        ob_printf(o, ", ordinal %d", rg->ordinal);
    ob_printf(o, ", %u columns\n", rg->ncolumns);
}

/* ---- JSON output ---------------------------------------------------------------------------- */

static void json_summary(ins *s)
{
    const sl_pq_meta *m = &s->meta;
    jw *j = &s->j;
    nbuf t;
    jw_cstr(j, "file", s->file);
    jw_i64(j, "file_size", s->size);
    jw_i64(j, "footer_length", s->footer_len);
    jw_i64(j, "version", m->version);
    if (m->has_created_by)
        jw_bin(j, "created_by", m->created_by);
    else
        jw_null(j, "created_by");
    jw_i64(j, "num_rows", m->num_rows);
    jw_i64(j, "num_row_groups", m->nrow_groups);
    jw_i64(j, "num_columns", s->nleaves);
    jw_open(j, "key_value_metadata", '[');
    for (uint32_t i = 0; i < m->nkv; i++) {
        jw_open(j, NULL, '{');
        jw_bin(j, "key", m->kv[i].key);
        if (m->kv[i].has_value)
            jw_bin(j, "value", m->kv[i].value);
        else
            jw_null(j, "value");
        jw_close(j, '}');
    }
    jw_close(j, ']');
    if (m->ncolumn_orders) {
        jw_open(j, "column_orders", '[');
        for (uint32_t i = 0; i < m->ncolumn_orders; i++)
            jw_cstr(j, NULL,
                    m->column_orders[i] == 1 ? "TYPE_ORDER"
                                             : enum_name(NULL, 0, m->column_orders[i], t.s,
                                                         sizeof(t.s), "COLUMN_ORDER_"));
        jw_close(j, ']');
    } else {
        jw_null(j, "column_orders");
    }
}

static void json_schema(ins *s)
{
    const sl_pq_meta *m = &s->meta;
    jw *j = &s->j;
    nbuf t;
    uint32_t next_leaf = 0;
    jw_open(j, "schema", '[');
    for (uint32_t i = 0; i < m->nschema; i++) {
        const sl_pq_schema_elem *e = &m->schema[i];
        jw_open(j, NULL, '{');
        jw_bin(j, "name", e->name);
        jw_i64(j, "depth", s->depth ? s->depth[i] : 0);
        if (next_leaf < s->nleaves && s->leaves[next_leaf].elem == i) {
            jw_cstr(j, "column_path", s->leaves[next_leaf].path);
            jw_i64(j, "column_index", next_leaf);
            next_leaf++;
        } else {
            jw_null(j, "column_path");
            jw_null(j, "column_index");
        }
        jw_cstr(j, "type", e->has_type ? type_name(e->type, &t) : NULL);
        jw_opt_i64(j, "type_length", e->has_type_length, e->type_length);
        jw_cstr(j, "repetition", e->has_repetition ? rep_name(e->repetition, &t) : NULL);
        jw_opt_i64(j, "num_children", e->has_num_children, e->num_children);
        jw_cstr(j, "converted_type",
                e->has_converted_type ? conv_name(e->converted_type, &t) : NULL);
        jw_opt_i64(j, "scale", e->has_scale, e->scale);
        jw_opt_i64(j, "precision", e->has_precision, e->precision);
        jw_opt_i64(j, "field_id", e->has_field_id, e->field_id);
        if (e->logical.kind != PQ_LT_NONE) {
            obuf lt = {{0}, SL_OK};
            sl_buf_init(&lt.b, 0);
            fmt_logical(&lt, &e->logical);
            jw_str(j, "logical_type", lt.b.ptr, lt.err ? 0 : lt.b.len);
            sl_buf_release(&lt.b);
        } else {
            jw_null(j, "logical_type");
        }
        jw_close(j, '}');
    }
    jw_close(j, ']');
}

static void json_stat(jw *j, const char *key, const char *hexkey, const vtype *vt, bool has,
                      sl_pq_bin v)
{
    if (has) {
        jw_value(j, key, vt, v.ptr, v.len);
        jw_hex(j, hexkey, v.ptr, v.len);
    } else {
        jw_null(j, key);
        jw_null(j, hexkey);
    }
}

static void json_chunk(ins *s, const sl_pq_col_chunk *cc, uint32_t j_idx, const chunk_detail *d)
{
    jw *j = &s->j;
    nbuf t;
    vtype vt = col_vtype(s, cc, j_idx);
    jw_open(j, NULL, '{');
    jw_i64(j, "index", j_idx);
    obuf p = {{0}, SL_OK};
    sl_buf_init(&p.b, 0);
    col_path(&p, s, cc, j_idx);
    jw_str(j, "path", p.b.ptr, p.err ? 0 : p.b.len);
    sl_buf_release(&p.b);
    if (cc->has_file_path)
        jw_bin(j, "file_path", cc->file_path);
    else
        jw_null(j, "file_path");
    jw_i64(j, "file_offset", cc->file_offset);
    const sl_pq_col_meta *m = cc->has_meta_data ? &cc->meta_data : NULL;
    jw_bool(j, "has_meta_data", m != NULL);
    if (m) {
        jw_cstr(j, "type", type_name(m->type, &t));
        jw_cstr(j, "codec", codec_name(m->codec, &t));
        jw_open(j, "encodings", '[');
        for (uint32_t k = 0; k < m->nencodings; k++)
            jw_cstr(j, NULL, enc_name(m->encodings[k], &t));
        jw_close(j, ']');
        jw_i64(j, "num_values", m->num_values);
        jw_i64(j, "total_compressed_size", m->total_compressed_size);
        jw_i64(j, "total_uncompressed_size", m->total_uncompressed_size);
        jw_i64(j, "data_page_offset", m->data_page_offset);
        jw_opt_i64(j, "dictionary_page_offset", m->has_dictionary_page_offset,
                   m->dictionary_page_offset);
        jw_opt_i64(j, "index_page_offset", m->has_index_page_offset, m->index_page_offset);
        if (m->has_statistics) {
            const sl_pq_stats *st = &m->statistics;
            jw_open(j, "statistics", '{');
            jw_opt_i64(j, "null_count", st->has_null_count, st->null_count);
            jw_opt_i64(j, "distinct_count", st->has_distinct_count, st->distinct_count);
            json_stat(j, "min_value", "min_value_hex", &vt, st->has_min_value, st->min_value);
            json_stat(j, "max_value", "max_value_hex", &vt, st->has_max_value, st->max_value);
            jw_opt_bool(j, "is_min_value_exact", st->has_is_min_exact, st->is_min_value_exact);
            jw_opt_bool(j, "is_max_value_exact", st->has_is_max_exact, st->is_max_value_exact);
            json_stat(j, "min", "min_hex", &vt, st->has_min, st->min);
            json_stat(j, "max", "max_hex", &vt, st->has_max, st->max);
            jw_close(j, '}');
        } else {
            jw_null(j, "statistics");
        }
        if (m->nencoding_stats) {
            jw_open(j, "encoding_stats", '[');
            for (uint32_t k = 0; k < m->nencoding_stats; k++) {
                jw_open(j, NULL, '{');
                jw_cstr(j, "page_type", page_name(m->encoding_stats[k].page_type, &t));
                jw_cstr(j, "encoding", enc_name(m->encoding_stats[k].encoding, &t));
                jw_i64(j, "count", m->encoding_stats[k].count);
                jw_close(j, '}');
            }
            jw_close(j, ']');
        } else {
            jw_null(j, "encoding_stats");
        }
    } else {
        static const char *const keys[] = {"type",
                                           "codec",
                                           "encodings",
                                           "num_values",
                                           "total_compressed_size",
                                           "total_uncompressed_size",
                                           "data_page_offset",
                                           "dictionary_page_offset",
                                           "index_page_offset",
                                           "statistics",
                                           "encoding_stats"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            jw_null(j, keys[k]);
    }
    if (cc->has_column_index) {
        jw_open(j, "column_index", '{');
        jw_i64(j, "offset", cc->column_index_offset);
        jw_i64(j, "length", cc->column_index_length);
        jw_close(j, '}');
    } else {
        jw_null(j, "column_index");
    }
    if (cc->has_offset_index) {
        jw_open(j, "offset_index", '{');
        jw_i64(j, "offset", cc->offset_index_offset);
        jw_i64(j, "length", cc->offset_index_length);
        jw_close(j, '}');
    } else {
        jw_null(j, "offset_index");
    }
    if (d) {
        if (d->walked) {
            jw_open(j, "pages", '[');
            for (size_t k = 0; k < d->npages; k++) {
                const page_rec *pr = &d->pages[k];
                const sl_pq_page_header *h = &pr->h;
                jw_open(j, NULL, '{');
                jw_i64(j, "offset", pr->offset);
                jw_cstr(j, "type", page_name(h->type, &t));
                jw_i64(j, "header_size", pr->header_size);
                jw_i64(j, "compressed_size", h->compressed_page_size);
                jw_i64(j, "uncompressed_size", h->uncompressed_page_size);
                jw_opt_i64(j, "crc", h->has_crc, (uint32_t)h->crc);
                if (h->has_data_page) {
                    jw_i64(j, "num_values", h->data_page.num_values);
                    jw_cstr(j, "encoding", enc_name(h->data_page.encoding, &t));
                    jw_cstr(j, "definition_level_encoding",
                            enc_name(h->data_page.definition_level_encoding, &t));
                    jw_cstr(j, "repetition_level_encoding",
                            enc_name(h->data_page.repetition_level_encoding, &t));
                } else if (h->has_data_page_v2) {
                    const sl_pq_data_page_v2 *v2 = &h->data_page_v2;
                    jw_i64(j, "num_values", v2->num_values);
                    jw_cstr(j, "encoding", enc_name(v2->encoding, &t));
                    jw_i64(j, "num_nulls", v2->num_nulls);
                    jw_i64(j, "num_rows", v2->num_rows);
                    jw_i64(j, "definition_levels_byte_length", v2->definition_levels_byte_length);
                    jw_i64(j, "repetition_levels_byte_length", v2->repetition_levels_byte_length);
                    jw_opt_bool(j, "is_compressed", v2->has_is_compressed, v2->is_compressed);
                } else if (h->has_dict_page) {
                    jw_i64(j, "num_values", h->dict_page.num_values);
                    jw_cstr(j, "encoding", enc_name(h->dict_page.encoding, &t));
                    jw_opt_bool(j, "is_sorted", h->dict_page.has_is_sorted, h->dict_page.is_sorted);
                } else {
                    jw_null(j, "num_values");
                    jw_null(j, "encoding");
                }
                jw_close(j, '}');
            }
            jw_close(j, ']');
        } else {
            jw_null(j, "pages");
        }
        if (d->has_ci) {
            const sl_pq_column_index *ci = &d->ci;
            jw_open(j, "column_index_pages", '{');
            jw_cstr(j, "boundary_order", order_name(ci->boundary_order, &t));
            jw_open(j, "pages", '[');
            for (uint32_t k = 0; k < ci->npages; k++) {
                jw_open(j, NULL, '{');
                jw_bool(j, "null_page", ci->null_pages[k]);
                jw_opt_i64(j, "null_count", ci->has_null_counts,
                           ci->has_null_counts ? ci->null_counts[k] : 0);
                json_stat(j, "min", "min_hex", &vt, !ci->null_pages[k], ci->min_values[k]);
                json_stat(j, "max", "max_hex", &vt, !ci->null_pages[k], ci->max_values[k]);
                jw_close(j, '}');
            }
            jw_close(j, ']');
            jw_close(j, '}');
        } else {
            jw_null(j, "column_index_pages");
        }
        if (d->has_oi) {
            jw_open(j, "offset_index_pages", '[');
            for (uint32_t k = 0; k < d->oi.npages; k++) {
                jw_open(j, NULL, '{');
                jw_i64(j, "offset", d->oi.pages[k].offset);
                jw_i64(j, "compressed_page_size", d->oi.pages[k].compressed_page_size);
                jw_i64(j, "first_row_index", d->oi.pages[k].first_row_index);
                jw_close(j, '}');
            }
            jw_close(j, ']');
        } else {
            jw_null(j, "offset_index_pages");
        }
    }
    jw_close(j, '}');
}

/* ---- driver -----------------------------------------------------------------------------------
 */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice inspect FILE.parquet [--json] [--pages]\n"
            "\n"
            "Shows what a Parquet file holds: rows, row groups, created_by, key-value metadata,\n"
            "the schema, and per row group per column the codec, encodings, value count, sizes,\n"
            "page offsets, statistics (decoded by type), encoding stats and page index.\n"
            "Only the footer (and with --pages the column chunks) is read.\n"
            "\n"
            "options:\n"
            "  --json      print one JSON document instead of text\n"
            "  --pages     also decode every page header of every column chunk and the page\n"
            "              index (ColumnIndex/OffsetIndex), and cross-check them with the footer\n"
            "  -h, --help  show this help\n"
            "\n"
            "exit status: 0 ok; 1 unreadable, non-Parquet, truncated or corrupt file, or\n"
            "problems found by --pages; 2 usage error\n");
}

static void usage_hint(void)
{
    fprintf(stderr, "usage: sluice inspect FILE.parquet [--json] [--pages]\n"
                    "Run 'sluice inspect --help' for details.\n");
}

static void emit_row_groups(ins *s)
{
    const sl_pq_meta *m = &s->meta;
    if (s->json)
        jw_open(&s->j, "row_groups", '[');
    for (uint32_t i = 0; i < m->nrow_groups; i++) {
        const sl_pq_row_group *rg = &m->row_groups[i];
        if (s->json) {
            jw *j = &s->j;
            jw_open(j, NULL, '{');
            jw_i64(j, "index", i);
            jw_i64(j, "num_rows", rg->num_rows);
            jw_i64(j, "total_byte_size", rg->total_byte_size);
            jw_opt_i64(j, "total_compressed_size", rg->has_total_compressed_size,
                       rg->total_compressed_size);
            jw_opt_i64(j, "file_offset", rg->has_file_offset, rg->file_offset);
            jw_opt_i64(j, "ordinal", rg->has_ordinal, rg->ordinal);
            jw_open(j, "columns", '[');
        }
        if (rg->ncolumns != s->nleaves)
            problem(s, "row group %u has %u column chunks, the schema has %u columns", i,
                    rg->ncolumns, s->nleaves);
        if (!s->json) {
            text_row_group_head(s, rg, i);
            text_problems(s, 2);
        }
        for (uint32_t c = 0; c < rg->ncolumns; c++) {
            const sl_pq_col_chunk *cc = &rg->columns[c];
            chunk_detail d;
            memset(&d, 0, sizeof(d));
            if (s->pages) {
                if (cc->has_meta_data && !cc->has_file_path) {
                    walk_pages(s, cc, i, c, &d);
                    if (d.walked)
                        check_pages(s, &cc->meta_data, i, c, &d);
                }
                read_page_index(s, cc, i, c, &d);
            }
            if (s->json) {
                json_chunk(s, cc, c, s->pages ? &d : NULL);
            } else {
                text_chunk(s, cc, c, s->pages ? &d : NULL);
                text_problems(s, 4);
            }
            chunk_detail_release(&d);
            if (s->out.b.len > (64u << 10))
                flush_out(s);
        }
        if (s->json) {
            jw_close(&s->j, ']');
            jw_close(&s->j, '}');
        }
    }
    if (s->json)
        jw_close(&s->j, ']');
}

int sl_cli_inspect(int argc, char **argv)
{
    ins s;
    memset(&s, 0, sizeof(s));
    s.fd = -1;
    sl_buf_init(&s.out.b, 0);
    s.j.o = &s.out;
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            usage(stdout);
            return 0;
        } else if (!opts_done && !strcmp(a, "--json")) {
            s.json = true;
        } else if (!opts_done && !strcmp(a, "--pages")) {
            s.pages = true;
        } else if (!opts_done && !strcmp(a, "--")) {
            opts_done = true;
        } else if (!opts_done && a[0] == '-' && a[1]) {
            fprintf(stderr, "sluice inspect: unknown option '%s'\n", a);
            usage_hint();
            return 2;
        } else if (s.file) {
            fprintf(stderr, "sluice inspect: more than one file given ('%s')\n", a);
            usage_hint();
            return 2;
        } else {
            s.file = a;
        }
    }
    if (!s.file) {
        fprintf(stderr, "sluice inspect: no file given\n");
        usage_hint();
        return 2;
    }

    int rc;
    s.fd = open(s.file, O_RDONLY | O_CLOEXEC);
    if (s.fd < 0)
        return fatal(s.file, "%s", strerror(errno));
    struct stat st;
    if (fstat(s.fd, &st) < 0) {
        rc = fatal(s.file, "%s", strerror(errno));
        goto out_close;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = fatal(s.file, "is a directory");
        goto out_close;
    }
    s.size = (int64_t)st.st_size;
    rc = load_footer(&s);
    if (rc)
        goto out_close;
    rc = build_leaves(&s);
    if (rc)
        goto out_release;

    if (s.json) {
        jw_open(&s.j, NULL, '{');
        json_summary(&s);
        json_schema(&s);
    } else {
        text_summary(&s);
        text_schema(&s);
        text_problems(&s, 2);
    }
    emit_row_groups(&s);
    if (s.json) {
        jw_open(&s.j, "problems", '[');
        for (size_t i = 0; i < s.nproblems; i++)
            jw_cstr(&s.j, NULL, s.problems[i]);
        jw_close(&s.j, ']');
        jw_close(&s.j, '}');
        ob_puts(&s.out, "\n");
    }
    if (s.out.err) {
        rc = fatal(s.file, "%s while formatting output", sl_strerror(s.out.err));
        goto out_release;
    }
    flush_out(&s);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        rc = fatal(s.file, "error writing output: %s", strerror(errno));
        goto out_release;
    }
    if (s.nproblems) {
        fprintf(stderr, "sluice inspect: %s: %zu problem%s found\n", s.file, s.nproblems,
                s.nproblems == 1 ? "" : "s");
        rc = 1;
    }

out_release:
    for (uint32_t i = 0; i < s.nleaves; i++)
        free(s.leaves[i].path);
    free(s.leaves);
    free(s.depth);
    for (size_t i = 0; i < s.nproblems; i++)
        free(s.problems[i]);
    free(s.problems);
    sl_pq_meta_release(&s.meta);
out_close:
    sl_buf_release(&s.out.b);
    close(s.fd);
    return rc;
}
