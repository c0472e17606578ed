/* coerce.c: text -> typed values (see coerce.h; the rules are docs/coercion.md).
 *
 * Speed is the point of this file: libc's strtoll/strtod/strptime cost 56/69/153 ns a value
 * where the hand-rolled parsers here take a few ns (shared/notes/performance.md). So:
 *   - integers, dates and timestamps are parsed by hand at fixed positions, with 8-byte SWAR
 *     digit checks (little-endian; a plain path otherwise); no locale, no NUL needed. In a
 *     column an integer of up to 16 digits is read with two loads that end at its last digit
 *     (the bytes before it are in the same buffer and masked off), with no per-digit loop;
 *   - doubles take Clinger's fast path (at most 19 significant digits, w <= 2^53, a power of
 *     ten that is exact in binary64: one correctly rounded multiply or divide), then
 *     Eisel-Lemire (one or two 64x64->128 multiplications by a truncated power of five,
 *     coerce_pow5.h), and only what those cannot decide (more than 19 significant digits whose
 *     truncation straddles a rounding boundary) goes to strtod_l() in the C locale on a
 *     normalised copy of the digits; every result is the correctly rounded one strtod gives;
 *   - sl_coerce_column() switches on the column type once and runs a tight loop per type
 *     (col_fixed() is always_inline with a constant type id, so each case is its own loop),
 *     writing slots directly after one sl_col_reserve() per run.
 *
 * Invariants: the sl_parse_* functions never read outside p[0..n), never allocate, and write
 * *out only on SL_ROW_OK. sl_coerce_column() appends exactly nrows rows unless it returns an
 * error. Decimal and JSON-number integers are decided in exact decimal arithmetic (never via
 * double).
 */
#define _GNU_SOURCE /* strtod_l, strtof_l, newlocale */
#include "parse/coerce.h"
#include "util/utf8.h"
#include "parse/coerce_pow5.h"
#include "parse/csv.h"
#include "parse/json.h"
#include "util/buf.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LIKELY(x) __builtin_expect(!!(x), 1)

/* ---- small helpers ---------------------------------------------------------------------- */

static inline unsigned dval(uint8_t c)
{
    return (unsigned)c - '0'; /* > 9 for a non-digit */
}

static inline bool is_digit(uint8_t c)
{
    return dval(c) <= 9;
}

static inline uint8_t lower(uint8_t c)
{
    return (uint8_t)(c | 0x20);
}

/* Case-insensitive compare of p[0..n) with the lower-case ASCII word w. */
static bool eq_word(const uint8_t *p, size_t n, const char *w)
{
    size_t i = 0;
    for (; i < n && w[i]; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = lower(c);
        if (c != (uint8_t)w[i])
            return false;
    }
    return i == n && !w[i];
}

/* ---- integers ----------------------------------------------------------------------------- */

/* Eight ASCII digits at p as a number (SWAR, after simdjson / fast_float); false if any byte is
 * not a digit. */
static inline bool eight_digits(const uint8_t *p, uint64_t *out)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    if (((v & 0xF0F0F0F0F0F0F0F0ull) |
         (((v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) != 0x3333333333333333ull)
        return false;
    v -= 0x3030303030303030ull;
    v = v * 10 + (v >> 8);
    v = ((v & 0x000000FF000000FFull) * 0x000F424000000064ull +
         ((v >> 16) & 0x000000FF000000FFull) * 0x0000271000000001ull) >>
        32;
    *out = v;
    return true;
#else
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) {
        unsigned d = dval(p[k]);
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
#endif
}

/* 8 bytes at q, those outside `keep` taken as '0', as an 8-digit number. */
static ALWAYS_INLINE bool digits_masked(const uint8_t *q, uint64_t keep, uint64_t *out)
{
    uint64_t v;
    memcpy(&v, q, 8);
    v = (v & keep) | (0x3030303030303030ull & ~keep);
    if (((v & 0xF0F0F0F0F0F0F0F0ull) |
         (((v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) != 0x3333333333333333ull)
        return false;
    v -= 0x3030303030303030ull;
    v = v * 10 + (v >> 8);
    *out = ((v & 0x000000FF000000FFull) * 0x000F424000000064ull +
            ((v >> 16) & 0x000000FF000000FFull) * 0x0000271000000001ull) >>
           32;
    return true;
}

sl_row_code sl_parse_i64(const uint8_t *p, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    if (UNLIKELY(i == n))
        goto not_int;
    uint64_t v = 0;
    if (n - i <= 18) {
        /* 18 digits cannot overflow; 8 at a time while there are 8 */
        for (; n - i >= 8; i += 8) {
            uint64_t e;
            if (UNLIKELY(!eight_digits(p + i, &e)))
                goto not_int;
            v = v * 100000000 + e;
        }
        for (; i < n; i++) {
            unsigned d = dval(p[i]);
            if (UNLIKELY(d > 9))
                goto not_int;
            v = v * 10 + d;
        }
    } else {
        bool over = false;
        for (; i < n; i++) {
            unsigned d = dval(p[i]);
            if (d > 9)
                goto not_int;
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
                over = true;
        }
        if (over || v > (uint64_t)INT64_MAX + neg)
            goto range;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return SL_ROW_OK;
not_int:
    if (why)
        *why = "is not an integer";
    return SL_ROW_TYPE;
range:
    if (why)
        *why = "out of range for";
    return SL_ROW_RANGE;
}

sl_row_code sl_parse_i32(const uint8_t *p, size_t n, int32_t *out, const char **why)
{
    int64_t v;
    sl_row_code rc = sl_parse_i64(p, n, &v, why);
    if (UNLIKELY(rc != SL_ROW_OK))
        return rc;
    if (UNLIKELY(v < INT32_MIN || v > INT32_MAX)) {
        if (why)
            *why = "out of range for";
        return SL_ROW_RANGE;
    }
    *out = (int32_t)v;
    return SL_ROW_OK;
}

/* ---- exact decimal numbers ---------------------------------------------------------------- */

/* A number in text: [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?. The digit string
 * D = int digits ++ fraction digits; digit k of D has the power 10^(nint - 1 - k + exp). */
typedef struct {
    bool neg;
    const uint8_t *ip; /* integer digits */
    size_t in;
    const uint8_t *fp; /* fraction digits */
    size_t fn;
    int64_t exp; /* saturated at +-4e9 */
} numtext;

static bool scan_number(const uint8_t *p, size_t n, numtext *t)
{
    size_t i = 0;
    t->neg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        t->neg = p[i] == '-';
        i++;
    }
    t->ip = p + i;
    while (i < n && is_digit(p[i]))
        i++;
    t->in = (size_t)(p + i - t->ip);
    t->fp = p + i;
    t->fn = 0;
    if (i < n && p[i] == '.') {
        i++;
        t->fp = p + i;
        while (i < n && is_digit(p[i]))
            i++;
        t->fn = (size_t)(p + i - t->fp);
    }
    if (t->in + t->fn == 0)
        return false;
    t->exp = 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (p[i] == '+' || p[i] == '-')) {
            eneg = p[i] == '-';
            i++;
        }
        if (i == n || !is_digit(p[i]))
            return false;
        int64_t e = 0;
        for (; i < n && is_digit(p[i]); i++)
            if (e < 4000000000)
                e = e * 10 + dval(p[i]);
        t->exp = eneg ? -e : e;
    }
    return i == n;
}

static inline uint8_t num_digit(const numtext *t, size_t k)
{
    return k < t->in ? t->ip[k] : t->fp[k - t->in];
}

/* Significant digits of a number: first and last non-zero digit of D and their powers of
 * ten. Returns false for zero. */
typedef struct {
    size_t first, last;
    int64_t pow_first, pow_last;
} sigdigits;

static bool find_sig(const numtext *t, sigdigits *s)
{
    size_t nd = t->in + t->fn, f = 0, l = nd;
    while (f < nd && num_digit(t, f) == '0')
        f++;
    if (f == nd)
        return false;
    while (num_digit(t, l - 1) == '0')
        l--;
    s->first = f;
    s->last = l - 1;
    s->pow_first = (int64_t)t->in - 1 - (int64_t)f + t->exp;
    s->pow_last = (int64_t)t->in - 1 - (int64_t)(l - 1) + t->exp;
    return true;
}

static __int128 pow10_i128(unsigned e)
{
    __int128 v = 1;
    while (e--)
        v *= 10;
    return v;
}

/* Digits first..last (at most 38) as an integer times 10^shift (shift >= 0, result < 10^38). */
static __int128 sig_value(const numtext *t, const sigdigits *s, int64_t shift)
{
    __int128 v = 0;
    for (size_t k = s->first; k <= s->last; k++)
        v = v * 10 + dval(num_digit(t, k));
    return v * pow10_i128((unsigned)shift);
}

sl_row_code sl_parse_decimal(const uint8_t *p, size_t n, unsigned precision, unsigned scale,
                             __int128 *out, const char **why)
{
    numtext t;
    sigdigits s;
    if (!scan_number(p, n, &t)) {
        if (why)
            *why = "is not a decimal number";
        return SL_ROW_TYPE;
    }
    if (!find_sig(&t, &s)) {
        *out = 0;
        return SL_ROW_OK;
    }
    if (s.pow_first >= (int64_t)precision - (int64_t)scale) {
        if (why)
            *why = "has too many integer digits for";
        return SL_ROW_RANGE;
    }
    if (s.pow_last < -(int64_t)scale) {
        if (why)
            *why = "has too many decimal places for";
        return SL_ROW_RANGE;
    }
    /* pow_first - pow_last < precision: at most `precision` (<= 38) digits */
    __int128 v = sig_value(&t, &s, s.pow_last + (int64_t)scale);
    *out = t.neg ? -v : v;
    return SL_ROW_OK;
}

sl_row_code sl_parse_i64_exact(const uint8_t *p, size_t n, int64_t *out, const char **why)
{
    sl_row_code rc = sl_parse_i64(p, n, out, why);
    if (rc != SL_ROW_TYPE)
        return rc;
    numtext t;
    sigdigits s;
    if (!scan_number(p, n, &t))
        return SL_ROW_TYPE; /* *why already set */
    if (!find_sig(&t, &s)) {
        *out = 0;
        return SL_ROW_OK;
    }
    if (s.pow_last < 0)
        return SL_ROW_TYPE; /* a fraction: "is not an integer" */
    if (s.pow_first >= 19) {
        if (why)
            *why = "out of range for";
        return SL_ROW_RANGE;
    }
    __int128 v = sig_value(&t, &s, s.pow_last);
    if (t.neg)
        v = -v;
    if (v < INT64_MIN || v > INT64_MAX) {
        if (why)
            *why = "out of range for";
        return SL_ROW_RANGE;
    }
    *out = (int64_t)v;
    return SL_ROW_OK;
}

/* ---- floating point ----------------------------------------------------------------------- */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static const double pow10_f64[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const float pow10_f32[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                  1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
static const uint64_t pow10_u64[] = {1ull,
                                     10ull,
                                     100ull,
                                     1000ull,
                                     10000ull,
                                     100000ull,
                                     1000000ull,
                                     10000000ull,
                                     100000000ull,
                                     1000000000ull,
                                     10000000000ull,
                                     100000000000ull,
                                     1000000000000ull,
                                     10000000000000ull,
                                     100000000000000ull,
                                     1000000000000000ull,
                                     10000000000000000ull,
                                     100000000000000000ull,
                                     1000000000000000000ull,
                                     10000000000000000000ull};

/* A parsed float: value = (neg ? -1 : 1) * w * 10^e10, exact unless `trunc` (more than 19
 * significant digits, the rest dropped). */
typedef struct {
    bool neg;
    bool trunc;
    uint64_t w;
    int64_t e10;
} fltext;

/* Returns 1 for a number, 0 for malformed text, 2 for nan, 3 for inf (sign in f->neg). */
static int scan_float(const uint8_t *p, size_t n, unsigned flags, fltext *f)
{
    size_t i = 0;
    f->neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+')) {
        f->neg = p[i] == '-';
        i++;
    }
    const size_t i0 = i;
    uint64_t w = 0;
    int nsig = 0;
    int64_t dexp = 0;
    size_t ndig = 0;
    bool trunc = false;
    for (; i < n; i++) {
        unsigned d = dval(p[i]);
        if (d > 9)
            break;
        ndig++;
        if (nsig < 19) {
            w = w * 10 + d;
            nsig += w != 0;
        } else {
            dexp++;
            trunc |= d != 0;
        }
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n; i++) {
            unsigned d = dval(p[i]);
            if (d > 9)
                break;
            ndig++;
            if (nsig < 19) {
                w = w * 10 + d;
                nsig += w != 0;
                dexp--;
            } else {
                trunc |= d != 0;
            }
        }
    }
    if (UNLIKELY(ndig == 0)) {
        if (!(flags & SL_PARSE_SPECIALS))
            return 0;
        const uint8_t *q = p + i0;
        size_t m = n - i0;
        if (eq_word(q, m, "nan"))
            return 2;
        if (eq_word(q, m, "inf") || eq_word(q, m, "infinity"))
            return 3;
        return 0;
    }
    int64_t e = 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (p[i] == '+' || p[i] == '-')) {
            eneg = p[i] == '-';
            i++;
        }
        if (i == n || !is_digit(p[i]))
            return 0;
        for (; i < n && is_digit(p[i]); i++)
            if (e < 4000000000)
                e = e * 10 + dval(p[i]);
        if (eneg)
            e = -e;
    }
    if (i != n)
        return 0;
    f->w = w;
    f->trunc = trunc;
    f->e10 = dexp + e;
    return 1;
}

/* Normalised copy for strtod_l: "[-]0.DDDDe<exp>" with at most 800 significant digits and a
 * sticky 1 for any non-zero digit dropped after them. 800 > 767, the most significant digits a
 * binary64 (or binary32) halfway point can have, so the rounding cannot change. */
#define FALLBACK_DIGITS 800
static size_t normalise(const uint8_t *p, size_t n, char *buf)
{
    numtext t;
    sigdigits s;
    size_t o = 0;
    bool ok = scan_number(p, n, &t);
    (void)ok; /* scan_float accepted the same text */
    if (t.neg)
        buf[o++] = '-';
    buf[o++] = '0';
    buf[o++] = '.';
    if (!find_sig(&t, &s)) {
        buf[o++] = '0';
        buf[o] = 0;
        return o;
    }
    size_t k = s.first, nd = 0;
    for (; k <= s.last && nd < FALLBACK_DIGITS; k++, nd++)
        buf[o++] = (char)num_digit(&t, k);
    if (k <= s.last)
        buf[o++] = '1'; /* digits remain and the last one is non-zero: sticky */
    /* 0.D * 10^(pow_first + 1) */
    o += (size_t)snprintf(buf + o, 24, "e%lld", (long long)(s.pow_first + 1));
    return o;
}

static double fallback_f64(const uint8_t *p, size_t n)
{
    char buf[FALLBACK_DIGITS + 40];
    normalise(p, n, buf);
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale)
        return strtod_l(buf, NULL, c_locale);
    return strtod(buf, NULL);
}

static float fallback_f32(const uint8_t *p, size_t n)
{
    char buf[FALLBACK_DIGITS + 40];
    normalise(p, n, buf);
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale)
        return strtof_l(buf, NULL, c_locale);
    return strtof(buf, NULL);
}

#if FLT_EVAL_METHOD == 0
#define SL_FAST_FLOAT 1 /* double and float arithmetic rounds to the type: Clinger applies */
#else
#define SL_FAST_FLOAT 0
#endif

/* Eisel-Lemire: w * 10^q (w != 0, at most 19 digits, exact) to the nearest binary64/binary32
 * with one or two 64x64->128 multiplications by a truncated power of five (coerce_pow5.h),
 * following fast_float's decimal_to_binary.h. Correct for every exact w of at most 19 digits
 * (Mushtak & Lemire, "Fast number parsing without fallback", 2023); the older conservative
 * check that could send a few inputs to strtod is kept anyway, it costs nothing. */
typedef struct {
    int mbits;            /* explicit mantissa bits */
    int min_exp;          /* exponent bias, negated */
    int inf_power;        /* biased exponent of infinity */
    int min_q, max_q;     /* w * 10^q is 0 below, infinite above */
    int even_lo, even_hi; /* q range where exact halfway cases can occur */
} flt_format;

static const flt_format F64 = {52, -1023, 0x7FF, -342, 308, -4, 23};
static const flt_format F32 = {23, -127, 0xFF, -64, 38, -17, 10};

/* false: undecided, use the fallback. Else *mant (without the implicit bit) and *pow2 (biased
 * exponent; inf_power = overflow). */
static bool eisel_lemire(const flt_format *F, int64_t q, uint64_t w, uint64_t *mant, int32_t *pow2)
{
    if (q < F->min_q) {
        *mant = 0;
        *pow2 = 0;
        return true;
    }
    if (q > F->max_q) {
        *mant = 0;
        *pow2 = F->inf_power;
        return true;
    }
    int lz = __builtin_clzll(w);
    w <<= lz;
    size_t idx = 2 * (size_t)(q - SL_POW5_MIN_Q);
    unsigned __int128 first = (unsigned __int128)w * sl_pow5_128[idx];
    uint64_t hi = (uint64_t)(first >> 64), lo = (uint64_t)first;
    uint64_t precision_mask = UINT64_MAX >> (F->mbits + 3);
    if ((hi & precision_mask) == precision_mask) {
        unsigned __int128 second = (unsigned __int128)w * sl_pow5_128[idx + 1];
        uint64_t shi = (uint64_t)(second >> 64);
        lo += shi;
        if (shi > lo)
            hi++;
    }
    if (lo == UINT64_MAX && (q < -27 || q > 55))
        return false;
    int upperbit = (int)(hi >> 63);
    int shift = upperbit + 64 - F->mbits - 3;
    uint64_t m = hi >> shift;
    int32_t p2 = (int32_t)((217706 * (int32_t)q) >> 16) + 63 + upperbit - lz - F->min_exp;
    if (p2 <= 0) { /* subnormal */
        if (-p2 + 1 >= 64) {
            *mant = 0;
            *pow2 = 0;
            return true;
        }
        m >>= -p2 + 1;
        m += m & 1;
        m >>= 1;
        *pow2 = m < (1ull << F->mbits) ? 0 : 1;
        *mant = m & ~(1ull << F->mbits);
        return true;
    }
    /* exactly halfway between two floats: round to even, not up */
    if (lo <= 1 && q >= F->even_lo && q <= F->even_hi && (m & 3) == 1 && (m << shift) == hi)
        m &= ~1ull;
    m += m & 1;
    m >>= 1;
    if (m >= (2ull << F->mbits)) {
        m = 1ull << F->mbits;
        p2++;
    }
    m &= ~(1ull << F->mbits);
    if (p2 >= F->inf_power) {
        p2 = F->inf_power;
        m = 0;
    }
    *mant = m;
    *pow2 = p2;
    return true;
}

/* Eisel-Lemire for a parsed number; with more than 19 digits (f->trunc) the value lies in
 * [w, w+1) * 10^e10, decided when both ends round alike. */
static bool el_decide(const flt_format *F, const fltext *f, uint64_t *mant, int32_t *pow2)
{
    if (!eisel_lemire(F, f->e10, f->w, mant, pow2))
        return false;
    if (f->trunc) {
        uint64_t m2;
        int32_t p2;
        if (!eisel_lemire(F, f->e10, f->w + 1, &m2, &p2) || m2 != *mant || p2 != *pow2)
            return false;
    }
    return true;
}

sl_row_code sl_parse_f64(const uint8_t *p, size_t n, unsigned flags, double *out, const char **why)
{
    fltext f;
    double v;
    int kind = scan_float(p, n, flags, &f);
    if (UNLIKELY(kind != 1)) {
        if (kind == 2) {
            *out = NAN;
            return SL_ROW_OK;
        }
        if (kind == 3) {
            *out = f.neg ? -INFINITY : INFINITY;
            return SL_ROW_OK;
        }
        if (why)
            *why = "is not a number";
        return SL_ROW_TYPE;
    }
    if (f.w == 0) {
        v = 0.0;
        goto done;
    }
    if (SL_FAST_FLOAT && !f.trunc && f.w <= (1ull << 53)) {
        if (f.e10 >= 0 && f.e10 <= 22) {
            v = (double)f.w * pow10_f64[f.e10];
            goto done;
        }
        if (f.e10 < 0 && f.e10 >= -22) {
            v = (double)f.w / pow10_f64[-f.e10];
            goto done;
        }
        if (f.e10 > 22 && f.e10 <= 22 + 15) {
            uint64_t m;
            if (!__builtin_mul_overflow(f.w, pow10_u64[f.e10 - 22], &m) && m <= (1ull << 53)) {
                v = (double)m * 1e22;
                goto done;
            }
        }
    }
    uint64_t mant;
    int32_t pow2;
    if (el_decide(&F64, &f, &mant, &pow2)) {
        if (pow2 == F64.inf_power)
            goto range;
        uint64_t bits = mant | (uint64_t)pow2 << 52 | (uint64_t)f.neg << 63;
        memcpy(out, &bits, 8);
        return SL_ROW_OK;
    }
    v = fallback_f64(p, n);
    if (isinf(v)) {
    range:
        if (why)
            *why = "out of range for";
        return SL_ROW_RANGE;
    }
    *out = v; /* the fallback's result carries the sign */
    return SL_ROW_OK;
done:
    *out = f.neg ? -v : v;
    return SL_ROW_OK;
}

sl_row_code sl_parse_f32(const uint8_t *p, size_t n, unsigned flags, float *out, const char **why)
{
    fltext f;
    float v;
    int kind = scan_float(p, n, flags, &f);
    if (UNLIKELY(kind != 1)) {
        if (kind == 2) {
            *out = NAN;
            return SL_ROW_OK;
        }
        if (kind == 3) {
            *out = f.neg ? -INFINITY : INFINITY;
            return SL_ROW_OK;
        }
        if (why)
            *why = "is not a number";
        return SL_ROW_TYPE;
    }
    if (f.w == 0) {
        v = 0.0f;
        goto done;
    }
    if (SL_FAST_FLOAT && !f.trunc && f.w <= (1u << 24) && f.e10 >= -10 && f.e10 <= 10) {
        v = f.e10 >= 0 ? (float)f.w * pow10_f32[f.e10] : (float)f.w / pow10_f32[-f.e10];
        goto done;
    }
    uint64_t mant;
    int32_t pow2;
    if (el_decide(&F32, &f, &mant, &pow2)) {
        if (pow2 == F32.inf_power)
            goto range;
        uint32_t bits = (uint32_t)mant | (uint32_t)pow2 << 23 | (uint32_t)f.neg << 31;
        memcpy(out, &bits, 4);
        return SL_ROW_OK;
    }
    v = fallback_f32(p, n);
    if (isinf(v)) {
    range:
        if (why)
            *why = "out of range for";
        return SL_ROW_RANGE;
    }
    *out = v;
    return SL_ROW_OK;
done:
    *out = f.neg ? -v : v;
    return SL_ROW_OK;
}

/* ---- bool ---------------------------------------------------------------------------------- */

sl_row_code sl_parse_bool(const uint8_t *p, size_t n, bool *out, const char **why)
{
    if (n == 1) {
        switch (p[0]) {
        case '1':
        case 't':
        case 'T':
        case 'y':
        case 'Y':
            *out = true;
            return SL_ROW_OK;
        case '0':
        case 'f':
        case 'F':
        case 'n':
        case 'N':
            *out = false;
            return SL_ROW_OK;
        }
    } else if (eq_word(p, n, "true") || eq_word(p, n, "yes")) {
        *out = true;
        return SL_ROW_OK;
    } else if (eq_word(p, n, "false") || eq_word(p, n, "no")) {
        *out = false;
        return SL_ROW_OK;
    }
    if (why)
        *why = "is not a boolean (true/false, t/f, yes/no, y/n, 1/0)";
    return SL_ROW_TYPE;
}

/* ---- dates and timestamps ----------------------------------------------------------------- */

int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* H. Hinnant, "chrono-Compatible Low-Level Date Algorithms": March-based years */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}


static inline bool two_digits(const uint8_t *p, unsigned *v)
{
    unsigned a = dval(p[0]), b = dval(p[1]);
    *v = a * 10 + b;
    return a <= 9 && b <= 9;
}

static const char why_date[] = "is not a date (YYYY-MM-DD)";

/* Digit pairs of 8 bytes in one go: bytes whose bit is set in `sep` must equal the same bytes
 * of `sepval` and count as "0"; all others must be ASCII digits. On success byte k of *pairs
 * is 10 * digit(k) + digit(k + 1). Little-endian only (the caller falls back otherwise). */
static ALWAYS_INLINE bool digit_pairs(const uint8_t *p, uint64_t sep, uint64_t sepval,
                                      uint64_t *pairs)
{
    uint64_t v;
    memcpy(&v, p, 8);
    if ((v & sep) != sepval)
        return false;
    v = (v & ~sep) | (0x3030303030303030ull & sep);
    if (((v & 0xF0F0F0F0F0F0F0F0ull) |
         (((v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) != 0x3333333333333333ull)
        return false;
    v -= 0x3030303030303030ull;
    *pairs = v * 10 + (v >> 8); /* bytes <= 99: no carries */
    return true;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SL_SWAR 1
#else
#define SL_SWAR 0
#endif

/* Days since 1970-01-01 for years 1..9999 (unsigned arithmetic: a March-based year >= 0). */
static ALWAYS_INLINE int32_t days_of(unsigned y, unsigned m, unsigned d)
{
    y -= m <= 2;
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return (int32_t)(365 * y + y / 4 - y / 100 + y / 400 + doy) - 719468;
}

/* p[0..10) as YYYY-MM-DD -> days. */
static ALWAYS_INLINE sl_row_code parse_ymd(const uint8_t *p, int32_t *days, const char **why,
                                           const char *what)
{
    unsigned y, m, d;
    uint64_t x;
    if (SL_SWAR) {
        /* "YYYY-MM-": '-' at bytes 4 and 7 */
        if (UNLIKELY(!digit_pairs(p, 0xFF0000FF00000000ull, 0x2D00002D00000000ull, &x) ||
                     !two_digits(p + 8, &d)))
            goto syntax;
        y = (unsigned)(x & 0xFF) * 100 + (unsigned)(x >> 16 & 0xFF);
        m = (unsigned)(x >> 40 & 0xFF);
    } else {
        unsigned y1, y2;
        if (UNLIKELY(!two_digits(p, &y1) || !two_digits(p + 2, &y2) || p[4] != '-' ||
                     !two_digits(p + 5, &m) || p[7] != '-' || !two_digits(p + 8, &d)))
            goto syntax;
        y = y1 * 100 + y2;
    }
    static const uint8_t mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (UNLIKELY(y == 0)) {
        if (why)
            *why = "has year 0000 (years are 0001..9999)";
        return SL_ROW_RANGE;
    }
    if (UNLIKELY(m - 1 >= 12)) {
        if (why)
            *why = "has no such month";
        return SL_ROW_RANGE;
    }
    if (UNLIKELY(d - 1 >= mdays[m]) &&
        !(m == 2 && d == 29 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        if (why)
            *why = "has no such day";
        return SL_ROW_RANGE;
    }
    *days = days_of(y, m, d);
    return SL_ROW_OK;
syntax:
    if (why)
        *why = what;
    return SL_ROW_TYPE;
}

sl_row_code sl_parse_date(const uint8_t *p, size_t n, int32_t *out, const char **why)
{
    int32_t days;
    if (UNLIKELY(n != 10)) {
        if (why)
            *why = why_date;
        return SL_ROW_TYPE;
    }
    sl_row_code rc = parse_ymd(p, &days, why, why_date);
    if (UNLIKELY(rc != SL_ROW_OK))
        return rc;
    *out = (int32_t)days;
    return SL_ROW_OK;
}

static const char why_ts[] = "is not a timestamp (YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|+hh:mm])";

static const uint32_t pow10_u32[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};

sl_row_code sl_parse_timestamp(const uint8_t *p, size_t n, sl_time_unit unit, int64_t *out,
                               unsigned *form, const char **why)
{
    int32_t days;
    unsigned hh = 0, mi = 0, ss = 0;
    uint32_t frac = 0; /* nanoseconds */
    int32_t off = 0;   /* seconds east of UTC */
    unsigned fm = 0;
    if (UNLIKELY(n < 10))
        goto syntax;
    sl_row_code rc = parse_ymd(p, &days, why, why_ts);
    if (UNLIKELY(rc != SL_ROW_OK))
        return rc;
    size_t i = 10;
    if (i == n)
        goto compute;
    if (UNLIKELY(n < 16))
        goto syntax;
    uint8_t t = p[10];
    if (UNLIKELY(t != 'T' && t != ' ' && t != 't'))
        goto syntax;
    if (SL_SWAR) {
        /* bytes 8..15 "DDThh:mm": the separator bytes 2 and 5 checked, hh and mm converted */
        uint64_t x;
        if (UNLIKELY(!digit_pairs(p + 8, 0x0000FF0000FF0000ull,
                                  0x00003A0000000000ull | (uint64_t)t << 16, &x)))
            goto syntax;
        hh = (unsigned)(x >> 24 & 0xFF);
        mi = (unsigned)(x >> 48 & 0xFF);
    } else if (UNLIKELY(!two_digits(p + 11, &hh) || p[13] != ':' || !two_digits(p + 14, &mi))) {
        goto syntax;
    }
    fm |= SL_TS_HAS_TIME;
    i = 16;
    if (i < n && p[i] == ':') {
        if (UNLIKELY(n - i < 3 || !two_digits(p + i + 1, &ss)))
            goto syntax;
        i += 3;
        if (i < n && p[i] == '.') {
            size_t f0 = ++i;
            while (i < n && is_digit(p[i]))
                i++;
            size_t k = i - f0;
            if (UNLIKELY(k == 0))
                goto syntax;
            uint64_t v;
            if (SL_SWAR && k <= 8 && digits_masked(p + i - 8, ~0ull << (8 * (8 - k)), &v)) {
                /* i >= 20: the load stays inside p */
                frac = (uint32_t)v * pow10_u32[9 - k];
            } else {
                for (size_t j = 0; j < 9; j++)
                    frac = frac * 10 + (j < k ? dval(p[f0 + j]) : 0);
            }
        }
    }
    if (UNLIKELY(hh > 23 || mi > 59 || ss > 60)) {
        if (why)
            *why = "has a time of day out of range";
        return SL_ROW_RANGE;
    }
    if (i < n) {
        uint8_t c = p[i];
        if (c == 'Z' || c == 'z') {
            i++;
        } else if (c == '+' || c == '-') {
            unsigned oh, om = 0;
            if (UNLIKELY(n - i < 3 || !two_digits(p + i + 1, &oh)))
                goto syntax;
            i += 3;
            if (i < n) {
                if (p[i] == ':')
                    i++;
                if (UNLIKELY(n - i != 2 || !two_digits(p + i, &om)))
                    goto syntax;
                i += 2;
            }
            if (UNLIKELY(oh > 23 || om > 59)) {
                if (why)
                    *why = "has a UTC offset out of range";
                return SL_ROW_RANGE;
            }
            off = (int32_t)(oh * 3600 + om * 60);
            if (c == '-')
                off = -off;
        } else {
            goto syntax;
        }
        fm |= SL_TS_HAS_OFFSET;
        if (UNLIKELY(i != n))
            goto syntax;
    }
compute:;
    int64_t secs = (int64_t)days * 86400 + (int64_t)(hh * 3600 + mi * 60 + ss) - off;
    switch (unit) {
    case SL_UNIT_MS:
        *out = secs * 1000 + frac / 1000000;
        break;
    case SL_UNIT_US:
        *out = secs * 1000000 + frac / 1000;
        break;
    default:
        /* only ns can overflow: 1677-09-21..2262-04-11 */
        if (UNLIKELY(secs < -9223372037 || secs > 9223372036 ||
                     (secs == -9223372037 && frac < 145224192) ||
                     (secs == 9223372036 && frac > 854775807))) {
            if (why)
                *why = "out of range for";
            return SL_ROW_RANGE;
        }
        *out = (int64_t)((uint64_t)secs * 1000000000u + frac); /* wraps exactly at INT64_MIN */
    }
    if (form)
        *form = fm;
    return SL_ROW_OK;
syntax:
    if (why)
        *why = why_ts;
    return SL_ROW_TYPE;
}


/* ---- UTF-8 and JSON validation ------------------------------------------------------------ */


size_t sl_utf8_check(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = sl_utf8_seq(p + i, n - i);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

static inline bool json_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A JSON string starting at p[i] == '"'; returns the index after the closing quote or sets
 * *err to the offending index. */
static size_t json_skip_string(const uint8_t *p, size_t n, size_t i, size_t *err, const char **why)
{
    for (i++; i < n;) {
        uint8_t c = p[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (i + 1 >= n)
                break;
            uint8_t e = p[i + 1];
            if (e == 'u') {
                if (n - i < 6 || hexval(p[i + 2]) < 0 || hexval(p[i + 3]) < 0 ||
                    hexval(p[i + 4]) < 0 || hexval(p[i + 5]) < 0) {
                    *err = i;
                    *why = "bad \\u escape";
                    return 0;
                }
                i += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || !e) {
                *err = i;
                *why = "bad escape";
                return 0;
            }
            i += 2;
            continue;
        }
        if (c < 0x20) {
            *err = i;
            *why = "control character in string";
            return 0;
        }
        if (c >= 0x80) {
            size_t k = sl_utf8_seq(p + i, n - i);
            if (!k) {
                *err = i;
                *why = "invalid UTF-8";
                return 0;
            }
            i += k;
            continue;
        }
        i++;
    }
    *err = n;
    *why = "unterminated string";
    return 0;
}

static size_t json_skip_number(const uint8_t *p, size_t n, size_t i, size_t *err, const char **why)
{
    size_t s = i;
    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0') {
        i++;
    } else if (i < n && p[i] >= '1' && p[i] <= '9') {
        while (i < n && is_digit(p[i]))
            i++;
    } else {
        goto bad;
    }
    if (i < n && p[i] == '.') {
        i++;
        if (i >= n || !is_digit(p[i]))
            goto bad;
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || !is_digit(p[i]))
            goto bad;
        while (i < n && is_digit(p[i]))
            i++;
    }
    return i;
bad:
    *err = i < n ? i : s;
    *why = "bad number";
    return 0;
}

#define JSON_MAX_DEPTH 256

bool sl_json_check(const uint8_t *p, size_t n, size_t *at, const char **why)
{
    uint8_t stack[JSON_MAX_DEPTH]; /* '{' or '[' */
    size_t depth = 0, i = 0, err = 0;
    const char *w = "";
    for (;;) {
        /* expect a value */
        while (i < n && json_ws(p[i]))
            i++;
        if (i >= n) {
            err = i;
            w = "value expected";
            goto fail;
        }
        uint8_t c = p[i];
        if (c == '{' || c == '[') {
            if (depth == JSON_MAX_DEPTH) {
                err = i;
                w = "nesting too deep";
                goto fail;
            }
            stack[depth++] = c;
            i++;
            while (i < n && json_ws(p[i]))
                i++;
            if (i < n && p[i] == (c == '{' ? '}' : ']')) {
                depth--;
                i++;
                goto after_value;
            }
            if (c == '[')
                continue;
            goto member;
        } else if (c == '"') {
            size_t j = json_skip_string(p, n, i, &err, &w);
            if (!j)
                goto fail;
            i = j;
        } else if (c == '-' || is_digit(c)) {
            size_t j = json_skip_number(p, n, i, &err, &w);
            if (!j)
                goto fail;
            i = j;
        } else if (n - i >= 4 && !memcmp(p + i, "true", 4)) {
            i += 4;
        } else if (n - i >= 5 && !memcmp(p + i, "false", 5)) {
            i += 5;
        } else if (n - i >= 4 && !memcmp(p + i, "null", 4)) {
            i += 4;
        } else {
            err = i;
            w = "unexpected character";
            goto fail;
        }
    after_value:
        while (i < n && json_ws(p[i]))
            i++;
        if (!depth) {
            if (i == n)
                return true;
            err = i;
            w = "text after the value";
            goto fail;
        }
        if (i >= n) {
            err = i;
            w = "unterminated object or array";
            goto fail;
        }
        if (p[i] == ',') {
            i++;
            if (stack[depth - 1] == '[')
                continue;
            goto member;
        }
        if (p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
            depth--;
            i++;
            goto after_value;
        }
        err = i;
        w = "',' or closing bracket expected";
        goto fail;
    member:
        /* in an object, at a key */
        while (i < n && json_ws(p[i]))
            i++;
        if (i >= n || p[i] != '"') {
            err = i;
            w = "object key expected";
            goto fail;
        }
        {
            size_t j = json_skip_string(p, n, i, &err, &w);
            if (!j)
                goto fail;
            i = j;
        }
        while (i < n && json_ws(p[i]))
            i++;
        if (i >= n || p[i] != ':') {
            err = i;
            w = "':' expected";
            goto fail;
        }
        i++;
    }
fail:
    if (why)
        *why = w;
    if (at)
        *at = err;
    return false;
}

/* ---- options and null tokens ---------------------------------------------------------------- */

static const char *const default_null_tokens[] = {"", "NULL", "null", "\\N"};

void sl_coerce_opts_default(sl_coerce_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->trim = true;
    o->empty_string_null = true;
}

sl_err sl_coerce_init(sl_coerce *cz, const sl_coerce_opts *opts)
{
    memset(cz, 0, sizeof(*cz));
    if (opts)
        cz->o = *opts;
    else
        sl_coerce_opts_default(&cz->o);
    const char *const *tok = cz->o.null_tokens;
    size_t ntok = cz->o.nnull_tokens;
    if (!tok) {
        tok = default_null_tokens;
        ntok = sizeof(default_null_tokens) / sizeof(default_null_tokens[0]);
    }
    if (ntok > SL_COERCE_MAX_NULL_TOKENS)
        return SL_INVALID;
    for (size_t i = 0; i < ntok; i++) {
        size_t len = tok[i] ? strlen(tok[i]) : 0;
        if (!tok[i] || len > SL_COERCE_MAX_NULL_TOKEN_LEN)
            return SL_INVALID;
        if (!len) {
            cz->tok_empty = true;
            continue;
        }
        memcpy(cz->tok[cz->ntok], tok[i], len + 1);
        cz->tok_len[cz->ntok] = (uint8_t)len;
        uint8_t c = (uint8_t)tok[i][0];
        cz->tok_first[c >> 6] |= 1ull << (c & 63);
        if (len > cz->tok_maxlen)
            cz->tok_maxlen = (uint8_t)len;
        cz->ntok++;
    }
    sl_csv_opts_default(&cz->csv_default);
    cz->o.null_tokens = NULL; /* copied; do not keep the caller's pointers */
    cz->o.nnull_tokens = 0;
    return SL_OK;
}

static ALWAYS_INLINE bool is_null_token(const sl_coerce *cz, const uint8_t *p, size_t n)
{
    if (n == 0)
        return cz->tok_empty;
    if (n > cz->tok_maxlen || !(cz->tok_first[p[0] >> 6] >> (p[0] & 63) & 1))
        return false;
    for (unsigned i = 0; i < cz->ntok; i++)
        if (cz->tok_len[i] == n && !memcmp(cz->tok[i], p, n))
            return true;
    return false;
}

bool sl_coerce_is_null_token(const sl_coerce *cz, const uint8_t *p, size_t n)
{
    return is_null_token(cz, p, n);
}

/* ---- unescaping ------------------------------------------------------------------------------ */

size_t sl_coerce_unescape(const sl_coerce *cz, const uint8_t *p, size_t n, uint8_t flags,
                          uint8_t *out)
{
    if (flags & SL_CELLF_CSV_ESCAPES) {
        if (cz->o.csv_unescape)
            return cz->o.csv_unescape(cz->o.csv_unescape_ctx, p, n, out);
        return sl_csv_unescape(&cz->csv_default, p, n, out);
    }
    if (cz->o.json_unescape)
        return cz->o.json_unescape(p, n, out);
    return sl_json_unescape(p, n, out);
}

/* Copy of a JSON text without whitespace outside strings (the text is valid JSON). */
static size_t json_minify(const uint8_t *p, size_t n, uint8_t *out)
{
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (in_str) {
            out[o++] = c;
            if (c == '\\' && i + 1 < n)
                out[o++] = p[++i];
            else if (c == '"')
                in_str = false;
        } else if (!json_ws(c)) {
            out[o++] = c;
            in_str = c == '"';
        }
    }
    return o;
}

/* ---- cells into columns -------------------------------------------------------------------- */

/* Scratch space for unescaped text of non-string columns (rare: escapes in a number). */
typedef struct {
    uint8_t *p;
    size_t cap;
} scratch;

static uint8_t *scratch_get(scratch *s, size_t n)
{
    if (n <= s->cap && s->p)
        return s->p;
    size_t cap = n < 256 ? 256 : n;
    uint8_t *q = realloc(s->p, cap);
    if (!q)
        return NULL;
    s->p = q;
    s->cap = cap;
    return q;
}

/* A run being appended. */
typedef struct {
    const sl_coerce *cz;
    sl_column *col;
    const uint8_t *text;
    const sl_cell *cells;
    size_t stride;
    uint8_t *bad;
    sl_coerce_fail_fn fail;
    void *fail_ctx;
    scratch sc;
} run;

/* Appends `value` (truncated to 40 bytes at a character boundary, control characters and
 * invalid UTF-8 as '?') to dst. */
static size_t put_snippet(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = 0, i = 0;
    if (n == 0)
        return (size_t)snprintf(dst, cap, "\"\"");
    while (i < n && o + 5 < cap && i < 40) {
        uint8_t c = p[i];
        size_t k = 1;
        if (c >= 0x80) {
            k = sl_utf8_seq(p + i, n - i);
            if (k && o + k + 5 < cap) {
                memcpy(dst + o, p + i, k);
                o += k;
                i += k;
                continue;
            }
            k = 1;
            c = '?';
        } else if (c < 0x20 || c == 0x7F) {
            c = '?';
        }
        dst[o++] = (char)c;
        i += k;
    }
    if (i < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = 0;
    return o;
}

static void make_detail(char *dst, size_t cap, const uint8_t *p, size_t n, const char *why,
                        sl_type t)
{
    size_t o = put_snippet(dst, cap / 2, p, n);
    size_t wl = strlen(why);
    if (wl >= 4 && !memcmp(why + wl - 4, " for", 4)) {
        char tn[40];
        sl_type_format(t, tn, sizeof(tn));
        snprintf(dst + o, cap - o, " %s %s", why, tn);
    } else {
        snprintf(dst + o, cap - o, " %s", why);
    }
}

/* Placeholder slot for a bad row: null if possible, else a zero / empty value. */
static ALWAYS_INLINE void put_placeholder(sl_column *c)
{
    if (c->nullable) {
        c->valid[c->len] = 0;
        c->null_count++;
    }
    if (c->width)
        memset(c->data + c->len * c->width, 0, c->width);
    else
        c->offsets[c->len + 1] = c->offsets[c->len];
    c->len++;
}

static ALWAYS_INLINE void put_null(sl_column *c)
{
    put_placeholder(c); /* only called for nullable columns */
}

static sl_err fail_row(run *rn, size_t r, sl_row_code code, const char *detail)
{
    put_placeholder(rn->col);
    rn->bad[r] = 2;
    return rn->fail ? rn->fail(rn->fail_ctx, r, code, detail) : SL_OK;
}

static sl_err fail_value(run *rn, size_t r, sl_row_code code, const uint8_t *p, size_t n,
                         const char *why)
{
    char detail[SL_COERCE_DETAIL_MAX];
    make_detail(detail, sizeof(detail), p, n, why, rn->col->type);
    return fail_row(rn, r, code, detail);
}

static sl_err null_or_fail(run *rn, size_t r, uint8_t kind)
{
    if (rn->col->nullable) {
        put_null(rn->col);
        return SL_OK;
    }
    if (kind == SL_CELL_MISSING)
        return fail_row(rn, r, SL_ROW_MISSING, "no value for a non-nullable column");
    return fail_row(rn, r, SL_ROW_NULL_VALUE, "null in a non-nullable column");
}

enum { PREP_VALUE, PREP_DONE, PREP_ERR };

/* Common start of a non-string value: null handling, escapes, trimming. PREP_VALUE leaves the
 * text in *pp and *pn; PREP_DONE means the row was handled (null or failure); PREP_ERR means stop
 * with *err. */
static ALWAYS_INLINE int prep_scalar(run *rn, size_t r, sl_cell c, const uint8_t **pp, size_t *pn,
                                     const uint8_t **pbase, sl_err *err)
{
    const sl_coerce *cz = rn->cz;
    const uint8_t *p = rn->text + c.off;
    *pbase = rn->text;
    size_t n = c.len;
    if (UNLIKELY(c.kind != SL_CELL_TEXT)) {
        if (c.kind == SL_CELL_STRING) {
            if (n == 0 && cz->o.empty_string_null) {
                *err = null_or_fail(rn, r, SL_CELL_NULL);
                return PREP_DONE;
            }
            if (c.flags & (SL_CELLF_CSV_ESCAPES | SL_CELLF_JSON_ESCAPES)) {
                uint8_t *o = scratch_get(&rn->sc, n);
                if (!o) {
                    *err = SL_NOMEM;
                    return PREP_ERR;
                }
                size_t m = sl_coerce_unescape(cz, p, n, c.flags, o);
                if (m > n) {
                    *err = fail_value(rn, r, SL_ROW_TYPE, p, n, "has a malformed escape");
                    return PREP_DONE;
                }
                p = o;
                n = m;
                *pbase = o; /* the value now lives in the scratch buffer */
            }
        } else if (c.kind == SL_CELL_NESTED) {
            *err =
                fail_value(rn, r, SL_ROW_TYPE, p, n, "is a JSON object or array, not a value for");
            return PREP_DONE;
        } else {
            *err = null_or_fail(rn, r, c.kind);
            return PREP_DONE;
        }
    }
    if (cz->o.trim) {
        while (n && (p[0] == ' ' || p[0] == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
    }
    if (c.kind == SL_CELL_TEXT &&
        !(c.flags & (SL_CELLF_JSON_NUMBER | SL_CELLF_JSON_TRUE | SL_CELLF_JSON_FALSE)) &&
        is_null_token(cz, p, n)) {
        *err = null_or_fail(rn, r, SL_CELL_NULL);
        return PREP_DONE;
    }
    *pp = p;
    *pn = n;
    return PREP_VALUE;
}

/* Parses one non-string value of type `tid` into slot. */
/* [+-]digits with 1..16 digits, read with two loads that end at p + n: the caller guarantees
 * that the 16 bytes before p + n are in the buffer (the bytes before p are masked off). No
 * loop and no branch per digit; false for anything else (the caller then uses the full
 * parser, which also produces the error). */
static ALWAYS_INLINE bool fast_int(const uint8_t *p, size_t n, int64_t *out)
{
    bool neg = false;
    size_t k = n;
    if (n && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        k--;
    }
    if (k - 1 >= 16)
        return false;
    const uint8_t *end = p + n;
    uint64_t lo, hi = 0;
    size_t kl = k < 8 ? k : 8;
    if (!digits_masked(end - 8, ~0ull << (8 * (8 - kl)), &lo))
        return false;
    if (k > 8 && !digits_masked(end - 16, ~0ull << (8 * (16 - k)), &hi))
        return false;
    uint64_t v = hi * 100000000 + lo;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

/* base: start of the buffer p points into (for fast_int's loads). */
static ALWAYS_INLINE sl_row_code parse_fixed(int tid, sl_type t, const uint8_t *base,
                                             const uint8_t *p, size_t n, uint8_t flags,
                                             uint8_t *slot, const char **why)
{
    if (SL_SWAR && (tid == SL_TYPE_INT64 || tid == SL_TYPE_INT32) && p + n - base >= 16) {
        int64_t v;
        if (LIKELY(fast_int(p, n, &v))) {
            if (tid == SL_TYPE_INT64) {
                memcpy(slot, &v, 8);
                return SL_ROW_OK;
            }
            if (LIKELY(v >= INT32_MIN && v <= INT32_MAX)) {
                int32_t w = (int32_t)v;
                memcpy(slot, &w, 4);
                return SL_ROW_OK;
            }
        }
    }
    switch (tid) {
    case SL_TYPE_BOOL: {
        bool b = false;
        sl_row_code rc;
        if (flags & (SL_CELLF_JSON_TRUE | SL_CELLF_JSON_FALSE)) {
            b = flags & SL_CELLF_JSON_TRUE;
            rc = SL_ROW_OK;
        } else {
            rc = sl_parse_bool(p, n, &b, why);
        }
        slot[0] = b;
        return rc;
    }
    case SL_TYPE_INT32: {
        int32_t v = 0;
        sl_row_code rc = sl_parse_i32(p, n, &v, why);
        if (UNLIKELY(rc == SL_ROW_TYPE && (flags & SL_CELLF_JSON_NUMBER))) {
            int64_t w = 0;
            rc = sl_parse_i64_exact(p, n, &w, why);
            if (rc == SL_ROW_OK && (w < INT32_MIN || w > INT32_MAX)) {
                *why = "out of range for";
                rc = SL_ROW_RANGE;
            }
            v = (int32_t)w;
        }
        memcpy(slot, &v, 4);
        return rc;
    }
    case SL_TYPE_INT64: {
        int64_t v = 0;
        sl_row_code rc = sl_parse_i64(p, n, &v, why);
        if (UNLIKELY(rc == SL_ROW_TYPE && (flags & SL_CELLF_JSON_NUMBER)))
            rc = sl_parse_i64_exact(p, n, &v, why);
        memcpy(slot, &v, 8);
        return rc;
    }
    case SL_TYPE_FLOAT: {
        float v = 0;
        sl_row_code rc = sl_parse_f32(p, n, SL_PARSE_SPECIALS, &v, why);
        memcpy(slot, &v, 4);
        return rc;
    }
    case SL_TYPE_DOUBLE: {
        double v = 0;
        sl_row_code rc = sl_parse_f64(p, n, SL_PARSE_SPECIALS, &v, why);
        memcpy(slot, &v, 8);
        return rc;
    }
    case SL_TYPE_DATE: {
        int32_t v = 0;
        sl_row_code rc = SL_ROW_TYPE;
        if (UNLIKELY(flags & SL_CELLF_JSON_NUMBER))
            *why = why_date;
        else
            rc = sl_parse_date(p, n, &v, why);
        memcpy(slot, &v, 4);
        return rc;
    }
    case SL_TYPE_TIMESTAMP: {
        int64_t v = 0;
        sl_row_code rc = SL_ROW_TYPE;
        if (UNLIKELY(flags & SL_CELLF_JSON_NUMBER))
            *why = why_ts;
        else
            rc = sl_parse_timestamp(p, n, t.unit, &v, NULL, why);
        memcpy(slot, &v, 8);
        return rc;
    }
    case SL_TYPE_DECIMAL: {
        __int128 v = 0;
        sl_row_code rc = sl_parse_decimal(p, n, t.precision, t.scale, &v, why);
        if (t.precision <= 18) {
            int64_t s = (int64_t)v;
            memcpy(slot, &s, 8);
        } else {
            memcpy(slot, &v, 16);
        }
        return rc;
    }
    default:
        *why = "has an unsupported type";
        return SL_ROW_TYPE;
    }
}

/* The loop for one fixed-width type; always inlined with a constant tid so that the type
 * switch in parse_fixed() disappears from the loop. */
static ALWAYS_INLINE sl_err col_fixed(run *rn, size_t nrows, const int tid)
{
    sl_column *col = rn->col;
    const sl_type t = col->type;
    const unsigned w = col->width;
    const bool nullable = col->nullable;
    for (size_t r = 0; r < nrows; r++) {
        if (UNLIKELY(rn->bad[r])) {
            put_placeholder(col);
            continue;
        }
        sl_cell c = rn->cells[r * rn->stride];
        const uint8_t *p = NULL;
        size_t n = 0;
        sl_err err = SL_OK;
        const uint8_t *base;
        if (UNLIKELY(prep_scalar(rn, r, c, &p, &n, &base, &err) != PREP_VALUE)) {
            if (err)
                return err;
            continue;
        }
        const char *why = "";
        uint8_t *slot = col->data + col->len * w;
        sl_row_code rc = parse_fixed(tid, t, base, p, n, c.flags, slot, &why);
        if (UNLIKELY(rc != SL_ROW_OK)) {
            err = fail_value(rn, r, rc, p, n, why);
            if (err)
                return err;
            continue;
        }
        if (nullable)
            col->valid[col->len] = 1;
        col->len++;
    }
    return SL_OK;
}

/* Variable-length types: string, binary, json. */
static sl_err col_var(run *rn, size_t nrows)
{
    const sl_coerce *cz = rn->cz;
    sl_column *col = rn->col;
    const int tid = col->type.id;
    for (size_t r = 0; r < nrows; r++) {
        if (UNLIKELY(rn->bad[r])) {
            put_placeholder(col);
            continue;
        }
        sl_cell c = rn->cells[r * rn->stride];
        const uint8_t *p = rn->text + c.off;
        size_t n = c.len, m;
        uint8_t *o = col->bytes + col->bytes_len;
        bool check_utf8 = !cz->o.trusted_utf8;
        sl_err err;
        switch (c.kind) {
        case SL_CELL_TEXT:
            if (!(c.flags & (SL_CELLF_JSON_NUMBER | SL_CELLF_JSON_TRUE | SL_CELLF_JSON_FALSE))) {
                if (is_null_token(cz, p, n)) {
                    if ((err = null_or_fail(rn, r, SL_CELL_NULL)))
                        return err;
                    continue;
                }
                if (tid == SL_TYPE_JSON)
                    goto json_text;
            }
            /* a JSON literal is ASCII, but a cell's flags are not trusted with validity */
            sl_memcpy(o, p, n);
            m = n;
            break;
        case SL_CELL_STRING:
            if (tid == SL_TYPE_JSON && cz->o.json_source) {
                /* the raw content, escapes and all, is a valid JSON string body */
                o[0] = '"';
                sl_memcpy(o + 1, p, n);
                o[n + 1] = '"';
                m = n + 2;
                break;
            }
            if (tid == SL_TYPE_JSON && n == 0 && cz->o.empty_string_null) {
                /* a quoted empty CSV field: null, as for the other non-string types */
                if ((err = null_or_fail(rn, r, SL_CELL_NULL)))
                    return err;
                continue;
            }
            if (c.flags & (SL_CELLF_CSV_ESCAPES | SL_CELLF_JSON_ESCAPES)) {
                m = sl_coerce_unescape(cz, p, n, c.flags, o);
                if (m > n) {
                    if ((err = fail_value(rn, r, SL_ROW_TYPE, p, n, "has a malformed escape")))
                        return err;
                    continue;
                }
                check_utf8 = tid != SL_TYPE_BINARY;
                if (tid == SL_TYPE_JSON) {
                    p = o;
                    n = m;
                    goto json_check;
                }
            } else {
                if (tid == SL_TYPE_JSON)
                    goto json_text;
                sl_memcpy(o, p, n);
                m = n;
            }
            break;
        case SL_CELL_NESTED:
            m = tid == SL_TYPE_STRING ? json_minify(p, n, o) : (sl_memcpy(o, p, n), n);
            break;
        default:
            if ((err = null_or_fail(rn, r, c.kind)))
                return err;
            continue;
        }
        if (tid != SL_TYPE_BINARY && check_utf8) {
            size_t bad = sl_utf8_check(o, m);
            if (UNLIKELY(bad != m)) {
                char detail[SL_COERCE_DETAIL_MAX];
                snprintf(detail, sizeof(detail), "invalid UTF-8 at byte %zu of the value", bad);
                if ((err = fail_row(rn, r, SL_ROW_UTF8, detail)))
                    return err;
                continue;
            }
        }
        goto store;
    json_text:
        /* CSV text into a json column: must be one JSON value */
        sl_memcpy(o, p, n);
        m = n;
        p = o;
    json_check : {
        const char *why = "";
        size_t at = 0;
        if (UNLIKELY(!sl_json_check(p, n, &at, &why))) {
            char detail[SL_COERCE_DETAIL_MAX];
            snprintf(detail, sizeof(detail), "not valid JSON: %s at byte %zu", why, at);
            if ((err = fail_row(rn, r, SL_ROW_TYPE, detail)))
                return err;
            continue;
        }
    }
    store:
        col->bytes_len += m;
        if (col->nullable)
            col->valid[col->len] = 1;
        col->offsets[col->len + 1] = (uint32_t)col->bytes_len;
        col->len++;
    }
    return SL_OK;
}

sl_err sl_coerce_column(const sl_coerce *cz, sl_column *col, const uint8_t *text,
                        const sl_cell *cells, size_t stride, size_t nrows, uint8_t *bad,
                        sl_coerce_fail_fn fail, void *fail_ctx)
{
    size_t bytes = 0;
    if (!col->width) {
        /* the output of a value never exceeds its cell plus two quotes */
        for (size_t r = 0; r < nrows; r++)
            bytes += (size_t)cells[r * stride].len + 2;
    }
    sl_err err = sl_col_reserve(col, nrows, bytes);
    if (err)
        return err;
    run rn = {cz, col, text, cells, stride, bad, fail, fail_ctx, {NULL, 0}};
    switch (col->type.id) {
    case SL_TYPE_BOOL:
        err = col_fixed(&rn, nrows, SL_TYPE_BOOL);
        break;
    case SL_TYPE_INT32:
        err = col_fixed(&rn, nrows, SL_TYPE_INT32);
        break;
    case SL_TYPE_INT64:
        err = col_fixed(&rn, nrows, SL_TYPE_INT64);
        break;
    case SL_TYPE_FLOAT:
        err = col_fixed(&rn, nrows, SL_TYPE_FLOAT);
        break;
    case SL_TYPE_DOUBLE:
        err = col_fixed(&rn, nrows, SL_TYPE_DOUBLE);
        break;
    case SL_TYPE_DATE:
        err = col_fixed(&rn, nrows, SL_TYPE_DATE);
        break;
    case SL_TYPE_TIMESTAMP:
        err = col_fixed(&rn, nrows, SL_TYPE_TIMESTAMP);
        break;
    case SL_TYPE_DECIMAL:
        err = col_fixed(&rn, nrows, SL_TYPE_DECIMAL);
        break;
    case SL_TYPE_STRING:
    case SL_TYPE_BINARY:
    case SL_TYPE_JSON:
        err = col_var(&rn, nrows);
        break;
    default:
        err = SL_INVALID;
    }
    free(rn.sc.p);
    return err;
}

sl_err sl_coerce_missing(sl_column *col, size_t nrows, uint8_t *bad, sl_coerce_fail_fn fail,
                         void *fail_ctx)
{
    sl_err err = sl_col_reserve(col, nrows, 0);
    if (err)
        return err;
    run rn = {NULL, col, NULL, NULL, 0, bad, fail, fail_ctx, {NULL, 0}};
    for (size_t r = 0; r < nrows; r++) {
        if (bad[r]) {
            put_placeholder(col);
            continue;
        }
        if ((err = null_or_fail(&rn, r, SL_CELL_MISSING)))
            return err;
    }
    return SL_OK;
}

typedef struct {
    sl_row_code code;
    char *detail;
    size_t detail_len;
} one_fail;

static sl_err one_fail_fn(void *ctx, size_t row, sl_row_code code, const char *detail)
{
    one_fail *f = ctx;
    (void)row;
    f->code = code;
    if (f->detail && f->detail_len)
        snprintf(f->detail, f->detail_len, "%s", detail);
    return SL_OK;
}

sl_err sl_coerce_append(const sl_coerce *cz, sl_column *col, const uint8_t *text,
                        const sl_cell *cell, sl_row_code *code, char *detail, size_t detail_len)
{
    one_fail f = {SL_ROW_OK, detail, detail_len};
    uint8_t bad = 0;
    size_t len = col->len;
    if (detail && detail_len)
        detail[0] = 0;
    sl_err err = sl_coerce_column(cz, col, text, cell, 1, 1, &bad, one_fail_fn, &f);
    if (err || f.code != SL_ROW_OK)
        sl_col_truncate(col, len);
    *code = f.code;
    return err;
}
