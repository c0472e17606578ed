/* coerce_test.c: tests of src/parse/coerce.c, table-driven (curl unit1302 style).
 *
 * One table per parser with valid, invalid and boundary vectors; doubles and floats are also
 * checked bit for bit against glibc's strtod/strtof on a few thousand random strings (both are
 * correctly rounded, so they must agree); dates and timestamps round-trip through the
 * formatters. The cell-level tests build sl_cells by hand and check null handling, trimming,
 * escapes, UTF-8, json/string/binary columns, placeholders and error details: the behaviour
 * docs/coercion.md promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/coerce.h"
#include "parse/json.h"
#include "sluice.h"

#define OK SL_ROW_OK
#define TYPE SL_ROW_TYPE
#define RANGE SL_ROW_RANGE
#define U(s) ((const uint8_t *)(s))

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    /* splitmix64: deterministic across runs */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ---- integers ---- */

static const struct {
    const char *in;
    sl_row_code rc;
    int64_t v;
} i64_vecs[] = {
    {"0", OK, 0},
    {"-0", OK, 0},
    {"+0", OK, 0},
    {"7", OK, 7},
    {"-7", OK, -7},
    {"+42", OK, 42},
    {"007", OK, 7},
    {"123456789", OK, 123456789},
    {"999999999999999999", OK, 999999999999999999},
    {"1000000000000000000", OK, 1000000000000000000},
    {"9223372036854775807", OK, INT64_MAX},
    {"-9223372036854775808", OK, INT64_MIN},
    {"+9223372036854775807", OK, INT64_MAX},
    {"0000000000000000000000009223372036854775807", OK, INT64_MAX},
    {"-0000000000000000000000009223372036854775808", OK, INT64_MIN},
    {"9223372036854775808", RANGE, 0},
    {"-9223372036854775809", RANGE, 0},
    {"18446744073709551615", RANGE, 0},
    {"18446744073709551616", RANGE, 0},
    {"99999999999999999999999999", RANGE, 0},
    {"", TYPE, 0},
    {"-", TYPE, 0},
    {"+", TYPE, 0},
    {"1.0", TYPE, 0},
    {"1.", TYPE, 0},
    {".5", TYPE, 0},
    {"1e3", TYPE, 0},
    {" 1", TYPE, 0},
    {"1 ", TYPE, 0},
    {"1_000", TYPE, 0},
    {"1,000", TYPE, 0},
    {"0x10", TYPE, 0},
    {"--1", TYPE, 0},
    {"+-1", TYPE, 0},
    {"12a", TYPE, 0},
    {"\xef\xbc\x91", TYPE, 0},                /* fullwidth 1 */
    {"99999999999999999999999999x", TYPE, 0}, /* malformed beats out of range */
    {"NaN", TYPE, 0},
};

static void test_i64(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(i64_vecs) / sizeof(i64_vecs[0]); i++) {
        int64_t v = 12345;
        const char *why = NULL;
        sl_row_code rc = sl_parse_i64(U(i64_vecs[i].in), strlen(i64_vecs[i].in), &v, &why);
        if (rc != i64_vecs[i].rc)
            fail_msg("i64 '%s': code %d, want %d", i64_vecs[i].in, rc, i64_vecs[i].rc);
        if (rc == OK)
            assert_true(v == i64_vecs[i].v);
        else {
            assert_true(v == 12345); /* untouched on failure */
            assert_non_null(why);
        }
    }
}

static void test_i64_random_round_trip(void **state)
{
    (void)state;
    char buf[32];
    for (int i = 0; i < 20000; i++) {
        int64_t x = (int64_t)rnd() >> (rnd() % 64);
        int n = snprintf(buf, sizeof(buf), "%lld", (long long)x);
        int64_t v;
        assert_int_equal(sl_parse_i64(U(buf), (size_t)n, &v, NULL), OK);
        assert_true(v == x);
        /* agrees with strtoll */
        assert_true(v == strtoll(buf, NULL, 10));
    }
}

static const struct {
    const char *in;
    sl_row_code rc;
    int32_t v;
} i32_vecs[] = {
    {"2147483647", OK, INT32_MAX},
    {"-2147483648", OK, INT32_MIN},
    {"2147483648", RANGE, 0},
    {"-2147483649", RANGE, 0},
    {"9223372036854775808", RANGE, 0},
    {"-1", OK, -1},
    {"1.0", TYPE, 0},
    {"", TYPE, 0},
};

static void test_i32(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(i32_vecs) / sizeof(i32_vecs[0]); i++) {
        int32_t v = 0;
        sl_row_code rc = sl_parse_i32(U(i32_vecs[i].in), strlen(i32_vecs[i].in), &v, NULL);
        if (rc != i32_vecs[i].rc)
            fail_msg("i32 '%s': code %d, want %d", i32_vecs[i].in, rc, i32_vecs[i].rc);
        if (rc == OK)
            assert_int_equal(v, i32_vecs[i].v);
    }
}

/* JSON numbers into integer columns: exact integers with fraction/exponent are accepted */
static const struct {
    const char *in;
    sl_row_code rc;
    int64_t v;
} exact_vecs[] = {
    {"1", OK, 1},
    {"1.0", OK, 1},
    {"-1.000", OK, -1},
    {"1e3", OK, 1000},
    {"1E+3", OK, 1000},
    {"12.50e1", OK, 125},
    {"100e-2", OK, 1},
    {"0.0", OK, 0},
    {"-0.0e5", OK, 0},
    {"0e999999999999", OK, 0},
    {"9007199254740993.0", OK, 9007199254740993}, /* not via double */
    {"9223372036854775807.0", OK, INT64_MAX},
    {"9.223372036854775807e18", OK, INT64_MAX},
    {"-9.223372036854775808e18", OK, INT64_MIN},
    {"9.223372036854775808e18", RANGE, 0},
    {"1e19", RANGE, 0},
    {"1e400", RANGE, 0},
    {"-1e400", RANGE, 0},
    {"1.5", TYPE, 0},
    {"1e-1", TYPE, 0},
    {"1e-400", TYPE, 0},
    {"0.5e1", OK, 5},
    {"abc", TYPE, 0},
    {"1e", TYPE, 0},
};

static void test_i64_exact(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(exact_vecs) / sizeof(exact_vecs[0]); i++) {
        int64_t v = 0;
        const char *why = NULL;
        sl_row_code rc =
            sl_parse_i64_exact(U(exact_vecs[i].in), strlen(exact_vecs[i].in), &v, &why);
        if (rc != exact_vecs[i].rc)
            fail_msg("exact '%s': code %d, want %d", exact_vecs[i].in, rc, exact_vecs[i].rc);
        if (rc == OK)
            assert_true(v == exact_vecs[i].v);
        else
            assert_non_null(why);
    }
}

/* ---- floating point ---- */

static const struct {
    const char *in;
    sl_row_code rc;
    double v;
} f64_vecs[] = {
    {"0", OK, 0.0},
    {"-0", OK, -0.0},
    {"-0.0e-5", OK, -0.0},
    {"1", OK, 1.0},
    {"+1.5", OK, 1.5},
    {".5", OK, 0.5},
    {"5.", OK, 5.0},
    {"0.1", OK, 0x1.999999999999ap-4},
    {"1e23", OK, 0x1.52d02c7e14af6p+76},
    {"8.98846567431158e307", OK, 0x1p+1023},
    {"1.7976931348623157e308", OK, 0x1.fffffffffffffp+1023},
    {"1.7976931348623158e308", OK, 0x1.fffffffffffffp+1023}, /* just below halfway */
    {"1.7976931348623159e308", RANGE, 0},                    /* rounds to infinity */
    {"1e308", OK, 1e308},
    {"1e309", RANGE, 0},
    {"-1e309", RANGE, 0},
    {"1e400", RANGE, 0},
    {"2.2250738585072014e-308", OK, 0x1p-1022},               /* DBL_MIN */
    {"2.2250738585072011e-308", OK, 0x0.fffffffffffffp-1022}, /* largest subnormal */
    {"4.9406564584124654e-324", OK, 0x0.0000000000001p-1022}, /* smallest subnormal */
    {"2.4703282292062328e-324", OK, 0x0.0000000000001p-1022}, /* above half: rounds up */
    {"2.4703282292062327e-324", OK, 0.0},                     /* below half: 0 */
    {"1e-400", OK, 0.0},                                      /* underflow is not an error */
    {"-1e-400", OK, -0.0},
    {"9007199254740993", OK, 9007199254740992.0}, /* tie to even */
    {"9007199254740995", OK, 9007199254740996.0},
    {"123456789012345678901234567890", OK, 1.2345678901234568e29},
    {"3.14159265358979323846264338327950288", OK, 3.141592653589793},
    {"1e22", OK, 1e22},
    {"1e-22", OK, 1e-22},
    {"123456789e30", OK, 123456789e30}, /* Clinger's extended range */
    {"0.000000000000000000000000000000000000000000001", OK, 1e-45},
    {"00000000000000000000000000000000000001.5", OK, 1.5},
    {"", TYPE, 0},
    {"-", TYPE, 0},
    {".", TYPE, 0},
    {"-.", TYPE, 0},
    {"e5", TYPE, 0},
    {"1e", TYPE, 0},
    {"1e+", TYPE, 0},
    {"1.2.3", TYPE, 0},
    {"0x1p3", TYPE, 0},
    {" 1", TYPE, 0},
    {"1 ", TYPE, 0},
    {"1,5", TYPE, 0},
    {"1d", TYPE, 0},
    {"1f", TYPE, 0},
    {"infinit", TYPE, 0},
    {"nana", TYPE, 0},
    {"-.nan", TYPE, 0},
    {"in", TYPE, 0},
};

static void test_f64(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(f64_vecs) / sizeof(f64_vecs[0]); i++) {
        double v = 42;
        const char *why = NULL;
        sl_row_code rc =
            sl_parse_f64(U(f64_vecs[i].in), strlen(f64_vecs[i].in), SL_PARSE_SPECIALS, &v, &why);
        if (rc != f64_vecs[i].rc)
            fail_msg("f64 '%s': code %d, want %d", f64_vecs[i].in, rc, f64_vecs[i].rc);
        if (rc == OK && dbits(v) != dbits(f64_vecs[i].v))
            fail_msg("f64 '%s': got %a, want %a", f64_vecs[i].in, v, f64_vecs[i].v);
        if (rc != OK)
            assert_non_null(why);
    }
}

static void test_f64_specials(void **state)
{
    (void)state;
    static const char *const nans[] = {"nan", "NaN", "NAN", "-nan", "+NaN"};
    static const char *const infs[] = {"inf", "Inf", "+INF", "infinity", "Infinity", "+iNfInItY"};
    static const char *const ninfs[] = {"-inf", "-Infinity", "-INF"};
    double v;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(sl_parse_f64(U(nans[i]), strlen(nans[i]), SL_PARSE_SPECIALS, &v, NULL),
                         OK);
        assert_true(isnan(v));
        assert_int_equal(sl_parse_f64(U(nans[i]), strlen(nans[i]), 0, &v, NULL), TYPE);
    }
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(sl_parse_f64(U(infs[i]), strlen(infs[i]), SL_PARSE_SPECIALS, &v, NULL),
                         OK);
        assert_true(isinf(v) && v > 0);
        assert_int_equal(sl_parse_f64(U(infs[i]), strlen(infs[i]), 0, &v, NULL), TYPE);
    }
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(sl_parse_f64(U(ninfs[i]), strlen(ninfs[i]), SL_PARSE_SPECIALS, &v, NULL),
                         OK);
        assert_true(isinf(v) && v < 0);
    }
    float f;
    assert_int_equal(sl_parse_f32(U("-inf"), 4, SL_PARSE_SPECIALS, &f, NULL), OK);
    assert_true(isinf(f) && f < 0);
    assert_int_equal(sl_parse_f32(U("NaN"), 3, SL_PARSE_SPECIALS, &f, NULL), OK);
    assert_true(isnan(f));
}

/* Random decimal strings of many shapes: our result must be strtod's, bit for bit. */
static size_t random_number_text(char *buf, size_t cap, int maxdig)
{
    size_t o = 0;
    uint64_t r = rnd();
    if (r & 1)
        buf[o++] = '-';
    int nd = 1 + (int)(rnd() % (uint64_t)maxdig);
    int dot = (int)(rnd() % (uint64_t)(nd + 2)) - 1; /* -1: no dot */
    for (int i = 0; i < nd && o + 8 < cap; i++) {
        if (i == dot)
            buf[o++] = '.';
        /* runs of 9s and 0s make rounding boundaries likelier */
        uint64_t k = rnd() % 10;
        buf[o++] = (char)('0' + (k < 3 ? 9 : k < 5 ? 0 : (int)(rnd() % 10)));
    }
    if ((r >> 1) & 1) {
        int e = (int)(rnd() % 700) - 350;
        o += (size_t)snprintf(buf + o, cap - o, "e%d", e);
    }
    buf[o] = 0;
    return o;
}

static void test_f64_vs_strtod(void **state)
{
    (void)state;
    char buf[128];
    for (int i = 0; i < 6000; i++) {
        size_t n = random_number_text(buf, sizeof(buf), i < 3000 ? 19 : 40);
        double want = strtod(buf, NULL), got = 0;
        sl_row_code rc = sl_parse_f64(U(buf), n, 0, &got, NULL);
        if (isinf(want)) {
            if (rc != RANGE)
                fail_msg("'%s': want RANGE, got %d", buf, rc);
            continue;
        }
        if (rc != OK || dbits(got) != dbits(want))
            fail_msg("'%s': got %a (code %d), strtod %a", buf, got, rc, want);
    }
    /* shortest and longest round-trip forms of random doubles */
    for (int i = 0; i < 4000; i++) {
        uint64_t b = rnd();
        double x;
        memcpy(&x, &b, 8);
        if (isnan(x) || isinf(x))
            continue;
        int prec = 1 + (int)(rnd() % 17);
        int n = snprintf(buf, sizeof(buf), "%.*g", prec, x);
        double want = strtod(buf, NULL), got;
        assert_int_equal(sl_parse_f64(U(buf), (size_t)n, 0, &got, NULL), OK);
        if (dbits(got) != dbits(want))
            fail_msg("'%s': got %a, strtod %a", buf, got, want);
        n = snprintf(buf, sizeof(buf), "%.17g", x);
        assert_int_equal(sl_parse_f64(U(buf), (size_t)n, 0, &got, NULL), OK);
        assert_true(dbits(got) == b);
    }
}

/* More than 800 significant digits: the fallback keeps 800 and a sticky digit. */
static void test_f64_long(void **state)
{
    (void)state;
    static char buf[4096];
    double got, want;
    /* exactly halfway between 2^53 and 2^53 + 2, then 900 zeros and a 1: rounds up */
    size_t o = (size_t)snprintf(buf, sizeof(buf), "9007199254740993");
    buf[o++] = '.';
    memset(buf + o, '0', 900);
    o += 900;
    buf[o++] = '1';
    buf[o] = 0;
    want = strtod(buf, NULL);
    assert_true(want == 9007199254740994.0);
    assert_int_equal(sl_parse_f64(U(buf), o, 0, &got, NULL), OK);
    assert_true(dbits(got) == dbits(want));
    /* the same with only zeros after: ties to even, down */
    buf[o - 1] = '0';
    assert_int_equal(sl_parse_f64(U(buf), o, 0, &got, NULL), OK);
    assert_true(got == 9007199254740992.0);
    /* 3000 random digits with an exponent */
    for (int k = 0; k < 20; k++) {
        o = 0;
        buf[o++] = (char)('1' + rnd() % 9);
        for (int i = 0; i < 3000; i++)
            buf[o++] = (char)('0' + rnd() % 10);
        o += (size_t)snprintf(buf + o, 16, "e%d", (int)(rnd() % 600) - 3300);
        want = strtod(buf, NULL);
        assert_int_equal(sl_parse_f64(U(buf), o, 0, &got, NULL), isinf(want) ? RANGE : OK);
        if (!isinf(want))
            assert_true(dbits(got) == dbits(want));
    }
    /* huge exponents saturate */
    assert_int_equal(sl_parse_f64(U("1e99999999999999999999"), 22, 0, &got, NULL), RANGE);
    assert_int_equal(sl_parse_f64(U("1e-99999999999999999999"), 23, 0, &got, NULL), OK);
    assert_true(got == 0.0);
    assert_int_equal(sl_parse_f64(U("0e99999999999999999999"), 22, 0, &got, NULL), OK);
}

static void test_f32(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        sl_row_code rc;
        float v;
    } vecs[] = {
        {"0", OK, 0.0f},
        {"-0", OK, -0.0f},
        {"1.5", OK, 1.5f},
        {"0.1", OK, 0x1.99999ap-4f},
        {"3.4028234663852886e38", OK, 0x1.fffffep+127f},
        {"3.4028235677973366e38", OK, 0x1.fffffep+127f}, /* just below halfway to 2^128 */
        {"3.4028235677973367e38", RANGE, 0},             /* above: rounds to infinity */
        {"1e39", RANGE, 0},
        {"1.401298464324817e-45", OK, 0x1p-149f},
        {"1e-50", OK, 0.0f},
        {"16777217", OK, 16777216.0f}, /* tie to even */
        {"abc", TYPE, 0},
    };
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        float v = 0;
        sl_row_code rc = sl_parse_f32(U(vecs[i].in), strlen(vecs[i].in), 0, &v, NULL);
        if (rc != vecs[i].rc)
            fail_msg("f32 '%s': code %d, want %d", vecs[i].in, rc, vecs[i].rc);
        if (rc == OK && fbits(v) != fbits(vecs[i].v))
            fail_msg("f32 '%s': got %a, want %a", vecs[i].in, (double)v, (double)vecs[i].v);
    }
    char buf[128];
    for (int i = 0; i < 4000; i++) {
        size_t n = random_number_text(buf, sizeof(buf), i < 2000 ? 9 : 30);
        float want = strtof(buf, NULL), got = 0;
        sl_row_code rc = sl_parse_f32(U(buf), n, 0, &got, NULL);
        if (isinf(want)) {
            assert_int_equal(rc, RANGE);
            continue;
        }
        if (rc != OK || fbits(got) != fbits(want))
            fail_msg("f32 '%s': got %a (code %d), strtof %a", buf, (double)got, rc, (double)want);
    }
}

/* ---- bool ---- */

static void test_bool(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        sl_row_code rc;
        bool v;
    } vecs[] = {
        {"true", OK, true}, {"TRUE", OK, true}, {"True", OK, true},   {"t", OK, true},
        {"T", OK, true},    {"yes", OK, true},  {"YES", OK, true},    {"y", OK, true},
        {"Y", OK, true},    {"1", OK, true},    {"false", OK, false}, {"FALSE", OK, false},
        {"f", OK, false},   {"F", OK, false},   {"no", OK, false},    {"No", OK, false},
        {"n", OK, false},   {"N", OK, false},   {"0", OK, false},     {"", TYPE, 0},
        {"2", TYPE, 0},     {"tru", TYPE, 0},   {"truee", TYPE, 0},   {"on", TYPE, 0},
        {"off", TYPE, 0},   {"00", TYPE, 0},    {"-1", TYPE, 0},      {"yess", TYPE, 0},
        {" true", TYPE, 0},
    };
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        bool v = false;
        sl_row_code rc = sl_parse_bool(U(vecs[i].in), strlen(vecs[i].in), &v, NULL);
        if (rc != vecs[i].rc)
            fail_msg("bool '%s': code %d, want %d", vecs[i].in, rc, vecs[i].rc);
        if (rc == OK)
            assert_int_equal(v, vecs[i].v);
    }
}

/* ---- dates ---- */

static void test_date(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        sl_row_code rc;
        int32_t v;
    } vecs[] = {
        {"1970-01-01", OK, 0},
        {"1970-01-02", OK, 1},
        {"1969-12-31", OK, -1},
        {"2000-01-01", OK, 10957},
        {"0001-01-01", OK, -719162},
        {"9999-12-31", OK, 2932896},
        {"2024-02-29", OK, 19782},
        {"2000-02-29", OK, 11016},
        {"2023-02-29", RANGE, 0},
        {"1900-02-29", RANGE, 0},
        {"2100-02-29", RANGE, 0},
        {"2024-02-30", RANGE, 0},
        {"2024-04-31", RANGE, 0},
        {"2024-06-31", RANGE, 0},
        {"2024-09-31", RANGE, 0},
        {"2024-11-31", RANGE, 0},
        {"2024-12-32", RANGE, 0},
        {"2024-13-01", RANGE, 0},
        {"2024-00-10", RANGE, 0},
        {"2024-01-00", RANGE, 0},
        {"0000-01-01", RANGE, 0},
        {"2024-1-01", TYPE, 0},
        {"2024/01/01", TYPE, 0},
        {"20240101", TYPE, 0},
        {"2024-01-01T00:00", TYPE, 0},
        {"2024-01-01 ", TYPE, 0},
        {" 2024-01-01", TYPE, 0},
        {"+202-01-01", TYPE, 0},
        {"-001-01-01", TYPE, 0},
        {"2024-0a-01", TYPE, 0},
        {"", TYPE, 0},
        {"19782", TYPE, 0},
    };
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        int32_t v = 0;
        const char *why = NULL;
        sl_row_code rc = sl_parse_date(U(vecs[i].in), strlen(vecs[i].in), &v, &why);
        if (rc != vecs[i].rc)
            fail_msg("date '%s': code %d, want %d", vecs[i].in, rc, vecs[i].rc);
        if (rc == OK)
            assert_int_equal(v, vecs[i].v);
        else
            assert_non_null(why);
    }
}

static void test_date_round_trip(void **state)
{
    (void)state;
    /* sl_days_from_civil, any year (also before year 1) */
    assert_true(sl_days_from_civil(1970, 1, 1) == 0);
    assert_true(sl_days_from_civil(1, 1, 1) == -719162);
    assert_true(sl_days_from_civil(0, 3, 1) == -719468);
    assert_true(sl_days_from_civil(-1, 12, 31) == -719529);
    assert_true(sl_days_from_civil(10000, 1, 1) == 2932897);
    char buf[SL_DATE_TEXT_MAX];
    /* every day of 1999..2001 and every 13th day of 0001..9999 */
    for (int32_t d = -719162; d <= 2932896; d += 13) {
        size_t n = sl_format_date(d, buf);
        int32_t v;
        assert_int_equal(sl_parse_date(U(buf), n, &v, NULL), OK);
        assert_int_equal(v, d);
    }
    for (int32_t d = 10592; d < 10592 + 3 * 366; d++) {
        size_t n = sl_format_date(d, buf);
        int32_t v;
        assert_int_equal(sl_parse_date(U(buf), n, &v, NULL), OK);
        assert_int_equal(v, d);
    }
    size_t len = sl_format_date(INT32_MIN, buf);
    assert_int_equal(len, strlen(buf));
    assert_string_equal(buf, "-5877641-06-23");
    assert_true(strlen(buf) < SL_DATE_TEXT_MAX);
}

/* ---- timestamps ---- */

static const struct {
    const char *in;
    sl_time_unit unit;
    sl_row_code rc;
    int64_t v;
    unsigned form;
} ts_vecs[] = {
#define MS SL_UNIT_MS
#define US SL_UNIT_US
#define NS SL_UNIT_NS
#define T SL_TS_HAS_TIME
#define O SL_TS_HAS_OFFSET
    {"1970-01-01T00:00:00Z", US, OK, 0, T | O},
    {"1970-01-01T00:00:00", US, OK, 0, T},
    {"1970-01-01 00:00:00", US, OK, 0, T},
    {"1970-01-01t00:00:00z", US, OK, 0, T | O},
    {"1970-01-01T00:00Z", US, OK, 0, T | O},
    {"1970-01-01T00:01", US, OK, 60000000, T},
    {"1970-01-01", US, OK, 0, 0},
    {"1970-01-02", MS, OK, 86400000, 0},
    {"2024-02-29T12:34:56.789012Z", US, OK, 1709210096789012, T | O},
    {"2024-02-29T12:34:56.789012", US, OK, 1709210096789012, T},
    /* every offset form */
    {"2024-07-01T10:00:00+05:30", US, OK, 1719808200000000, T | O},
    {"2024-07-01T10:00:00+0530", US, OK, 1719808200000000, T | O},
    {"2024-07-01T10:00+05:30", US, OK, 1719808200000000, T | O},
    {"2024-07-01T10:00:00-05:30", US, OK, 1719847800000000, T | O},
    {"2024-07-01T10:00:00-0530", US, OK, 1719847800000000, T | O},
    {"2024-07-01T10:00:00+05", US, OK, 1719828000000000 - 5 * 3600000000LL, T | O},
    {"2024-07-01T10:00:00-05", US, OK, 1719828000000000 + 5 * 3600000000LL, T | O},
    {"2024-07-01T10:00:00+00:00", US, OK, 1719828000000000, T | O},
    {"2024-07-01T10:00:00-00:00", US, OK, 1719828000000000, T | O},
    {"2024-07-01T10:00:00+0000", US, OK, 1719828000000000, T | O},
    {"2024-07-01T10:00:00+23:59", US, OK, 1719828000000000 - 86340000000LL, T | O},
    {"2024-07-01T10:00:00.5+01:00", MS, OK, 1719824400500, T | O},
    {"2024-07-01T10:00:00+24:00", US, RANGE, 0, 0},
    {"2024-07-01T10:00:00+05:60", US, RANGE, 0, 0},
    /* fractions of 0..9 digits, each unit: truncated (floor) */
    {"1970-01-01T00:00:01.1Z", NS, OK, 1100000000, T | O},
    {"1970-01-01T00:00:01.12Z", NS, OK, 1120000000, T | O},
    {"1970-01-01T00:00:01.123Z", NS, OK, 1123000000, T | O},
    {"1970-01-01T00:00:01.1234Z", NS, OK, 1123400000, T | O},
    {"1970-01-01T00:00:01.12345Z", NS, OK, 1123450000, T | O},
    {"1970-01-01T00:00:01.123456Z", NS, OK, 1123456000, T | O},
    {"1970-01-01T00:00:01.1234567Z", NS, OK, 1123456700, T | O},
    {"1970-01-01T00:00:01.12345678Z", NS, OK, 1123456780, T | O},
    {"1970-01-01T00:00:01.123456789Z", NS, OK, 1123456789, T | O},
    {"1970-01-01T00:00:01.1234567891Z", NS, OK, 1123456789, T | O},
    {"1970-01-01T00:00:01.123456789999999Z", NS, OK, 1123456789, T | O},
    {"1970-01-01T00:00:01.1Z", US, OK, 1100000, T | O},
    {"1970-01-01T00:00:01.123456Z", US, OK, 1123456, T | O},
    {"1970-01-01T00:00:01.1234569Z", US, OK, 1123456, T | O},
    {"1970-01-01T00:00:01.9999999Z", US, OK, 1999999, T | O},
    {"1970-01-01T00:00:01.1Z", MS, OK, 1100, T | O},
    {"1970-01-01T00:00:01.1239Z", MS, OK, 1123, T | O},
    {"1970-01-01T00:00:01Z", MS, OK, 1000, T | O},
    /* before the epoch, truncation is toward negative infinity */
    {"1969-12-31T23:59:59.9999999Z", US, OK, -1, T | O},
    {"1969-12-31T23:59:59.999Z", MS, OK, -1, T | O},
    {"1969-12-31T23:59:59.5Z", MS, OK, -500, T | O},
    /* leap second: the first second of the next minute */
    {"2016-12-31T23:59:60Z", US, OK, 1483228800000000, T | O},
    {"1970-01-01T00:00:60", MS, OK, 60000, T},
    {"1970-01-01T00:00:61", MS, RANGE, 0, 0},
    {"1970-01-01T24:00:00", MS, RANGE, 0, 0},
    {"1970-01-01T23:60:00", MS, RANGE, 0, 0},
    /* range */
    {"0001-01-01T00:00:00Z", US, OK, -62135596800000000, T | O},
    {"9999-12-31T23:59:59.999999Z", US, OK, 253402300799999999, T | O},
    {"9999-12-31T23:59:59.999999999Z", NS, RANGE, 0, 0},
    {"1677-09-21T00:12:43.145224192Z", NS, OK, INT64_MIN, T | O},
    {"1677-09-21T00:12:43.145224191Z", NS, RANGE, 0, 0},
    {"1677-09-21T00:12:43.145224192+00:01", NS, RANGE, 0, 0},
    {"1677-09-21T00:13:43.145224192+00:01", NS, OK, INT64_MIN, T | O},
    {"2262-04-11T23:47:16.854775807Z", NS, OK, INT64_MAX, T | O},
    {"2262-04-11T23:47:16.854775808Z", NS, RANGE, 0, 0},
    {"2262-04-11T23:47:16.854775807-00:01", NS, RANGE, 0, 0},
    {"1677-09-21", NS, RANGE, 0, 0},
    {"1677-09-22", NS, OK, -9223286400000000000, 0},
    {"0001-01-01T00:00:00+01:00", US, OK, -62135600400000000, T | O},
    {"2023-02-29T00:00:00Z", US, RANGE, 0, 0},
    {"0000-12-31T00:00:00Z", US, RANGE, 0, 0},
    /* syntax */
    {"", US, TYPE, 0, 0},
    {"2024-01-01T", US, TYPE, 0, 0},
    {"2024-01-01T1:00", US, TYPE, 0, 0},
    {"2024-01-01T10", US, TYPE, 0, 0},
    {"2024-01-01T10:0", US, TYPE, 0, 0},
    {"2024-01-01T10:00:0", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00.", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00.Z", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00,5", US, TYPE, 0, 0},
    {"2024-01-01T10:00.5", US, TYPE, 0, 0},
    {"2024-01-01X10:00", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00Zjunk", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00ZZ", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00+1", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00+01:0", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00+01:", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00+01:000", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00+0", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00 +01:00", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00UTC", US, TYPE, 0, 0},
    {"2024-01-01Z", US, TYPE, 0, 0},
    {"2024-01-01+01:00", US, TYPE, 0, 0},
    {"1704067200", US, TYPE, 0, 0},
    {"2024-01-01T10:00:00 ", US, TYPE, 0, 0},
    {"2024-01-0110:00", US, TYPE, 0, 0},
#undef MS
#undef US
#undef NS
#undef T
#undef O
};

static void test_timestamp(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ts_vecs) / sizeof(ts_vecs[0]); i++) {
        int64_t v = 0;
        unsigned form = 99;
        const char *why = NULL;
        sl_row_code rc = sl_parse_timestamp(U(ts_vecs[i].in), strlen(ts_vecs[i].in),
                                            ts_vecs[i].unit, &v, &form, &why);
        if (rc != ts_vecs[i].rc)
            fail_msg("ts '%s' unit %d: code %d, want %d", ts_vecs[i].in, ts_vecs[i].unit, rc,
                     ts_vecs[i].rc);
        if (rc == OK) {
            if (v != ts_vecs[i].v)
                fail_msg("ts '%s' unit %d: %lld, want %lld", ts_vecs[i].in, ts_vecs[i].unit,
                         (long long)v, (long long)ts_vecs[i].v);
            assert_int_equal(form, ts_vecs[i].form);
        } else {
            assert_non_null(why);
        }
    }
}

static void test_timestamp_round_trip(void **state)
{
    (void)state;
    char buf[SL_TIMESTAMP_TEXT_MAX];
    static const int64_t lo[] = {-62135596800000LL, -62135596800000000LL, INT64_MIN};
    static const int64_t hi[] = {253402300799999LL, 253402300799999999LL, INT64_MAX};
    for (int unit = 0; unit < 3; unit++) {
        for (int i = 0; i < 5000; i++) {
            uint64_t span = (uint64_t)hi[unit] - (uint64_t)lo[unit];
            int64_t x = (int64_t)((uint64_t)lo[unit] + rnd() % span);
            if (i == 0)
                x = lo[unit];
            if (i == 1)
                x = hi[unit];
            bool utc = i & 1;
            size_t n = sl_format_timestamp(x, (sl_time_unit)unit, utc, buf);
            int64_t v;
            unsigned form;
            if (sl_parse_timestamp(U(buf), n, (sl_time_unit)unit, &v, &form, NULL) != OK)
                fail_msg("'%s' does not parse back", buf);
            assert_true(v == x);
            assert_int_equal(form, SL_TS_HAS_TIME | (utc ? SL_TS_HAS_OFFSET : 0));
        }
    }
    /* any int64 formats without overflow */
    assert_true(sl_format_timestamp(INT64_MIN, SL_UNIT_MS, true, buf) < SL_TIMESTAMP_TEXT_MAX);
    assert_true(sl_format_timestamp(INT64_MAX, SL_UNIT_MS, true, buf) < SL_TIMESTAMP_TEXT_MAX);
}

/* ---- decimals ---- */

static const struct {
    unsigned p, s;
    const char *in;
    sl_row_code rc;
    const char *v; /* formatted unscaled value */
} dec_vecs[] = {
    {12, 2, "-123.45", OK, "-12345"},
    {12, 2, "123.4", OK, "12340"},
    {12, 2, "123", OK, "12300"},
    {12, 2, "0.01", OK, "1"},
    {12, 2, "0.010", OK, "1"},
    {12, 2, "1.2300000000", OK, "123"},
    {12, 2, "0.001", RANGE, NULL},
    {12, 2, "0.015", RANGE, NULL},
    {12, 2, "9999999999.99", OK, "999999999999"},
    {12, 2, "-9999999999.99", OK, "-999999999999"},
    {12, 2, "10000000000", RANGE, NULL},
    {12, 2, "10000000000.00", RANGE, NULL},
    {12, 2, "1e3", OK, "100000"},
    {12, 2, "1.20e-1", OK, "12"},
    {12, 2, "1.5e-2", RANGE, NULL},
    {12, 2, "150e-4", RANGE, NULL},
    {12, 2, "1E9", OK, "100000000000"},
    {12, 2, "1E10", RANGE, NULL},
    {12, 2, ".5", OK, "50"},
    {12, 2, "5.", OK, "500"},
    {12, 2, "+5", OK, "500"},
    {12, 2, "0", OK, "0"},
    {12, 2, "-0", OK, "0"},
    {12, 2, "-0.000", OK, "0"},
    {12, 2, "0e999999999999", OK, "0"},
    {12, 2, "1e999999999999", RANGE, NULL},
    {12, 2, "1e-999999999999", RANGE, NULL},
    {12, 2, "00000000000000000000001.00", OK, "100"},
    {12, 2, "", TYPE, NULL},
    {12, 2, "abc", TYPE, NULL},
    {12, 2, "1,5", TYPE, NULL},
    {12, 2, "1.2.3", TYPE, NULL},
    {12, 2, "1e", TYPE, NULL},
    {12, 2, "-", TYPE, NULL},
    {12, 2, "NaN", TYPE, NULL},
    {12, 2, " 1", TYPE, NULL},
    {38, 0, "99999999999999999999999999999999999999", OK, "99999999999999999999999999999999999999"},
    {38, 0, "-99999999999999999999999999999999999999", OK,
     "-99999999999999999999999999999999999999"},
    {38, 0, "100000000000000000000000000000000000000", RANGE, NULL},
    {38, 0, "9.9999999999999999999999999999999999999e37", OK,
     "99999999999999999999999999999999999999"},
    {38, 0, "1e38", RANGE, NULL},
    {38, 38, "0.99999999999999999999999999999999999999", OK,
     "99999999999999999999999999999999999999"},
    {38, 38, "1", RANGE, NULL},
    {38, 38, "0.000000000000000000000000000000000000001", RANGE, NULL},
    {18, 0, "999999999999999999", OK, "999999999999999999"},
    {18, 0, "1000000000000000000", RANGE, NULL},
    {18, 18, "0.123456789012345678", OK, "123456789012345678"},
    {18, 18, "-0.999999999999999999", OK, "-999999999999999999"},
    {19, 4, "123456789012345.6789", OK, "1234567890123456789"},
    {19, 0, "9999999999999999999", OK, "9999999999999999999"},
    {1, 0, "9", OK, "9"},
    {1, 0, "-9", OK, "-9"},
    {1, 0, "10", RANGE, NULL},
    {1, 0, "0.5", RANGE, NULL},
    {1, 1, "0.5", OK, "5"},
    {1, 1, "1", RANGE, NULL},
    {5, 2, "123456.789", RANGE, NULL},
};

static void test_decimal(void **state)
{
    (void)state;
    char buf[SL_DECIMAL_TEXT_MAX];
    for (size_t i = 0; i < sizeof(dec_vecs) / sizeof(dec_vecs[0]); i++) {
        __int128 v = 0;
        const char *why = NULL;
        sl_row_code rc = sl_parse_decimal(U(dec_vecs[i].in), strlen(dec_vecs[i].in), dec_vecs[i].p,
                                          dec_vecs[i].s, &v, &why);
        if (rc != dec_vecs[i].rc)
            fail_msg("decimal(%u,%u) '%s': code %d, want %d", dec_vecs[i].p, dec_vecs[i].s,
                     dec_vecs[i].in, rc, dec_vecs[i].rc);
        if (rc == OK) {
            sl_format_decimal(v, 0, buf);
            if (strcmp(buf, dec_vecs[i].v))
                fail_msg("decimal '%s': %s, want %s", dec_vecs[i].in, buf, dec_vecs[i].v);
        } else {
            assert_non_null(why);
        }
    }
}

static void test_decimal_round_trip(void **state)
{
    (void)state;
    char buf[SL_DECIMAL_TEXT_MAX];
    for (int i = 0; i < 20000; i++) {
        unsigned p = 1 + (unsigned)(rnd() % 38), s = (unsigned)(rnd() % (p + 1));
        /* a random value with at most p digits */
        __int128 v = 0;
        unsigned nd = (unsigned)(rnd() % (p + 1));
        for (unsigned k = 0; k < nd; k++)
            v = v * 10 + (__int128)(rnd() % 10);
        if (rnd() & 1)
            v = -v;
        size_t n = sl_format_decimal(v, s, buf);
        __int128 w;
        if (sl_parse_decimal(U(buf), n, p, s, &w, NULL) != OK)
            fail_msg("'%s' (%u,%u) does not parse back", buf, p, s);
        assert_true(w == v);
    }
    assert_int_equal(sl_format_decimal(-5, 3, buf), 6);
    assert_string_equal(buf, "-0.005");
    sl_format_decimal(12345, 2, buf);
    assert_string_equal(buf, "123.45");
    sl_format_decimal(0, 2, buf);
    assert_string_equal(buf, "0.00");
}

/* ---- UTF-8 and JSON validation ---- */

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        size_t at; /* n when valid */
    } vecs[] = {
        {"", 0, 0},
        {"abc", 3, 3},
        {"\xc3\xa9", 2, 2},
        {"\xe2\x82\xac", 3, 3},
        {"\xf0\x9f\x98\x80", 4, 4},
        {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF */
        {"\xed\x9f\xbf", 3, 3},     /* U+D7FF */
        {"\xee\x80\x80", 3, 3},     /* U+E000 */
        {"a\0b", 3, 3},             /* NUL is valid UTF-8 */
        {"\xc0\x80", 2, 0},         /* overlong NUL */
        {"\xc1\xbf", 2, 0},
        {"\xe0\x80\x80", 3, 0},
        {"\xe0\x9f\xbf", 3, 0},
        {"\xed\xa0\x80", 3, 0}, /* surrogate */
        {"\xed\xbf\xbf", 3, 0},
        {"\xf0\x80\x80\x80", 4, 0},
        {"\xf0\x8f\xbf\xbf", 4, 0},
        {"\xf4\x90\x80\x80", 4, 0}, /* > U+10FFFF */
        {"\xf5\x80\x80\x80", 4, 0},
        {"\xff", 1, 0},
        {"\x80", 1, 0},
        {"ab\xc3", 3, 2},
        {"\xe2\x82", 2, 0},
        {"abcdefgh\xc3", 9, 8},
        {"abcdefghijklmnop\xe2\x82\xac\x80", 20, 19},
        {"\xc3\xa9\xc3", 3, 2},
        {"\xc3\x28", 2, 0},
    };
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        size_t at = sl_utf8_check(U(vecs[i].in), vecs[i].n);
        if (at != vecs[i].at)
            fail_msg("utf8 vector %zu: %zu, want %zu", i, at, vecs[i].at);
    }
}

static void test_json_check(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool ok;
    } vecs[] = {
        {"{}", true},
        {"[]", true},
        {" { \"a\" : [1, 2.5e-3, -0, true, false, null, \"x\\u00e9\\n\"] } ", true},
        {"\"abc\"", true},
        {"123", true},
        {"-0.5E+2", true},
        {"true", true},
        {"null", true},
        {"[[[[]]]]", true},
        {"{\"a\":{\"b\":{}}}", true},
        {"\"\xc3\xa9\"", true},
        {"", false},
        {" ", false},
        {"{", false},
        {"[1,]", false},
        {"{\"a\":1,}", false},
        {"{a:1}", false},
        {"{'a':1}", false},
        {"[1 2]", false},
        {"01", false},
        {"1.", false},
        {".5", false},
        {"-", false},
        {"1e", false},
        {"+1", false},
        {"tru", false},
        {"nul", false},
        {"True", false},
        {"NaN", false},
        {"\"abc", false},
        {"\"a\\x\"", false},
        {"\"\\u12g4\"", false},
        {"\"a\tb\"", false},
        {"\"\xc3\"", false},
        {"{} {}", false},
        {"1 2", false},
        {"[1]]", false},
        {"{\"a\" 1}", false},
        {"{\"a\":}", false},
        {"[}", false},
    };
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        size_t at = 999;
        const char *why = NULL;
        bool ok = sl_json_check(U(vecs[i].in), strlen(vecs[i].in), &at, &why);
        if (ok != vecs[i].ok)
            fail_msg("json '%s': %d", vecs[i].in, ok);
        if (!ok) {
            assert_non_null(why);
            assert_true(at <= strlen(vecs[i].in));
        }
    }
    /* depth limit */
    char deep[600];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    assert_false(sl_json_check(U(deep), 600, NULL, NULL));
    assert_true(sl_json_check(U(deep + 44), 512, NULL, NULL)); /* 256 levels */
}

/* ---- cells into columns ---- */

typedef struct {
    sl_schema *schema;
    sl_batch *batch;
    sl_coerce cz;
} fixture;

static fixture *fx_new(sl_type t, bool nullable, const sl_coerce_opts *o)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(sl_schema_create(&f->schema), SL_OK);
    assert_int_equal(sl_schema_add(f->schema, "c", t, nullable), SL_OK);
    assert_int_equal(sl_batch_create(f->schema, &f->batch), SL_OK);
    assert_int_equal(sl_coerce_init(&f->cz, o), SL_OK);
    return f;
}

static void fx_free(fixture *f)
{
    sl_batch_destroy(f->batch);
    sl_schema_destroy(f->schema);
    free(f);
}

static sl_column *col_of(fixture *f)
{
    return &f->batch->cols[0];
}

/* Appends one cell with the given kind/flags and text; returns the row code. */
static sl_row_code put(fixture *f, uint8_t kind, uint8_t flags, const char *text, size_t n,
                       char *detail)
{
    sl_cell c = {0, (uint32_t)n, kind, flags, 0};
    sl_row_code code;
    char d[SL_COERCE_DETAIL_MAX];
    assert_int_equal(sl_coerce_append(&f->cz, col_of(f), U(text), &c, &code, d, sizeof(d)), SL_OK);
    if (detail)
        strcpy(detail, d);
    if (code == OK)
        assert_true(d[0] == 0);
    else
        assert_true(d[0] != 0);
    return code;
}

/* a literal with its exact length (embedded NULs included) */
#define PUT(f, kind, flags, lit, detail) put(f, kind, flags, lit, sizeof(lit) - 1, detail)

static sl_row_code put_text(fixture *f, const char *text)
{
    return put(f, SL_CELL_TEXT, 0, text, strlen(text), NULL);
}

static sl_row_code put_str(fixture *f, const char *text)
{
    return put(f, SL_CELL_STRING, 0, text, strlen(text), NULL);
}

static int64_t last_i64(fixture *f)
{
    sl_column *c = col_of(f);
    int64_t v;
    memcpy(&v, c->data + (c->len - 1) * 8, 8);
    return v;
}

static bool last_null(fixture *f)
{
    sl_column *c = col_of(f);
    return c->nullable && !c->valid[c->len - 1];
}

static void last_bytes(fixture *f, const char *want, size_t n)
{
    sl_column *c = col_of(f);
    uint32_t a = c->offsets[c->len - 1], b = c->offsets[c->len];
    if (b - a != n || (n && memcmp(c->bytes + a, want, n)))
        fail_msg("value '%.*s', want '%.*s'", (int)(b - a), (const char *)c->bytes + a, (int)n,
                 want);
    assert_false(last_null(f));
}

#define LAST(f, lit) last_bytes(f, lit, sizeof(lit) - 1)

static void test_cell_nulls(void **state)
{
    (void)state;
    /* every type: MISSING, NULL and the default tokens are null */
    static const sl_type_id ids[] = {SL_TYPE_BOOL,      SL_TYPE_INT32,  SL_TYPE_INT64,
                                     SL_TYPE_FLOAT,     SL_TYPE_DOUBLE, SL_TYPE_STRING,
                                     SL_TYPE_BINARY,    SL_TYPE_JSON,   SL_TYPE_DATE,
                                     SL_TYPE_TIMESTAMP, SL_TYPE_DECIMAL};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        sl_type t = ids[i] == SL_TYPE_DECIMAL ? sl_type_decimal(10, 2) : sl_type_of(ids[i]);
        fixture *f = fx_new(t, true, NULL);
        assert_int_equal(PUT(f, SL_CELL_MISSING, 0, "", NULL), OK);
        assert_true(last_null(f));
        assert_int_equal(PUT(f, SL_CELL_NULL, 0, "", NULL), OK);
        assert_true(last_null(f));
        assert_int_equal(put_text(f, ""), OK);
        assert_true(last_null(f));
        assert_int_equal(put_text(f, "NULL"), OK);
        assert_true(last_null(f));
        assert_int_equal(put_text(f, "null"), OK);
        assert_true(last_null(f));
        assert_int_equal(put_text(f, "\\N"), OK);
        assert_true(last_null(f));
        assert_int_equal(col_of(f)->null_count, 6);
        /* a quoted empty string: "" in string/binary, null elsewhere */
        assert_int_equal(put_str(f, ""), OK);
        if (ids[i] == SL_TYPE_STRING || ids[i] == SL_TYPE_BINARY)
            LAST(f, "");
        else
            assert_true(last_null(f));
        fx_free(f);

        char detail[SL_COERCE_DETAIL_MAX];
        f = fx_new(t, false, NULL);
        assert_int_equal(PUT(f, SL_CELL_MISSING, 0, "", detail), SL_ROW_MISSING);
        assert_int_equal(PUT(f, SL_CELL_NULL, 0, "", detail), SL_ROW_NULL_VALUE);
        assert_int_equal(put_text(f, "NULL"), SL_ROW_NULL_VALUE);
        assert_int_equal(col_of(f)->len, 0); /* nothing appended on failure */
        fx_free(f);
    }
}

static void test_cell_tokens_and_trim(void **state)
{
    (void)state;
    fixture *f = fx_new(sl_type_of(SL_TYPE_INT64), true, NULL);
    assert_int_equal(put_text(f, " 12 "), OK);
    assert_true(last_i64(f) == 12);
    assert_int_equal(put_text(f, "\t-7\t"), OK);
    assert_true(last_i64(f) == -7);
    assert_int_equal(put_text(f, "   "), OK); /* trims to "", a null token */
    assert_true(last_null(f));
    assert_int_equal(put_text(f, " NULL "), OK);
    assert_true(last_null(f));
    assert_int_equal(put_text(f, "Null"), TYPE); /* tokens are case-sensitive */
    assert_int_equal(put_str(f, "NULL"), TYPE);  /* a quoted token is text */
    assert_int_equal(put_str(f, " 5 "), OK);     /* quoted values are trimmed too */
    assert_true(last_i64(f) == 5);
    assert_int_equal(put_text(f, "1 2"), TYPE);
    fx_free(f);

    /* strings keep spaces and match tokens exactly */
    f = fx_new(sl_type_of(SL_TYPE_STRING), true, NULL);
    assert_int_equal(put_text(f, " a "), OK);
    LAST(f, " a ");
    assert_int_equal(put_text(f, " NULL"), OK);
    LAST(f, " NULL");
    assert_int_equal(put_str(f, "NULL"), OK);
    LAST(f, "NULL");
    assert_int_equal(put_text(f, "Null"), OK);
    LAST(f, "Null");
    fx_free(f);

    /* custom tokens, no trimming, empty strings not null */
    static const char *const toks[] = {"NA", "-", "n/a"};
    sl_coerce_opts o;
    sl_coerce_opts_default(&o);
    o.null_tokens = toks;
    o.nnull_tokens = 3;
    o.trim = false;
    o.empty_string_null = false;
    f = fx_new(sl_type_of(SL_TYPE_DOUBLE), true, &o);
    assert_int_equal(put_text(f, "NA"), OK);
    assert_true(last_null(f));
    assert_int_equal(put_text(f, "-"), OK);
    assert_true(last_null(f));
    assert_int_equal(put_text(f, "n/a"), OK);
    assert_true(last_null(f));
    assert_int_equal(put_text(f, "NULL"), TYPE);
    assert_int_equal(put_text(f, ""), TYPE);
    assert_int_equal(put_str(f, ""), TYPE);
    /* an empty escaped cell (found by coerce_fuzz: the scratch buffer was NULL) */
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_CSV_ESCAPES, "", NULL), TYPE);
    assert_int_equal(put_text(f, " 1"), TYPE);
    fx_free(f);

    /* no tokens at all */
    o.null_tokens = toks;
    o.nnull_tokens = 0;
    f = fx_new(sl_type_of(SL_TYPE_STRING), true, &o);
    assert_int_equal(put_text(f, ""), OK);
    LAST(f, "");
    fx_free(f);

    /* limits */
    sl_coerce cz;
    static const char *const many[17] = {"a", "b", "c", "d", "e", "f", "g", "h", "i",
                                         "j", "k", "l", "m", "n", "o", "p", "q"};
    o.null_tokens = many;
    o.nnull_tokens = 17;
    assert_int_equal(sl_coerce_init(&cz, &o), SL_INVALID);
    static const char *const longtok[] = {"0123456789012345678901234567890123"};
    o.null_tokens = longtok;
    o.nnull_tokens = 1;
    assert_int_equal(sl_coerce_init(&cz, &o), SL_INVALID);
    assert_int_equal(sl_coerce_init(&cz, NULL), SL_OK);
    assert_true(sl_coerce_is_null_token(&cz, U("\\N"), 2));
    assert_false(sl_coerce_is_null_token(&cz, U("\\n"), 2));
}

static void test_cell_values(void **state)
{
    (void)state;
    char detail[SL_COERCE_DETAIL_MAX];
    fixture *f = fx_new(sl_type_of(SL_TYPE_INT64), true, NULL);
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "9223372036854775808", detail), RANGE);
    assert_string_equal(detail, "9223372036854775808 out of range for int64");
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "1.5", detail), TYPE);
    assert_string_equal(detail, "1.5 is not an integer");
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "1.0", detail), TYPE);
    /* JSON numbers: exact integers accepted */
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "1.0", NULL), OK);
    assert_true(last_i64(f) == 1);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "1e3", NULL), OK);
    assert_true(last_i64(f) == 1000);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "1.5", detail), TYPE);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "1e19", detail), RANGE);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_TRUE, "true", detail), TYPE);
    assert_int_equal(PUT(f, SL_CELL_NESTED, 0, "[1]", detail), TYPE);
    assert_string_equal(detail, "[1] is a JSON object or array, not a value for int64");
    /* a JSON string holding a number (escapes decoded first) */
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "\\u0031\\u0032", NULL), OK);
    assert_true(last_i64(f) == 12);
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "1\\q", detail), TYPE);
    assert_string_equal(detail, "1\\q is not an integer"); /* kept as it is, see json.h */
    /* long values are cut in the detail */
    char longv[200];
    memset(longv, '7', sizeof(longv));
    longv[199] = 'x';
    assert_int_equal(put(f, SL_CELL_TEXT, 0, longv, 200, detail), TYPE);
    assert_string_equal(detail, "7777777777777777777777777777777777777777... is not an integer");
    /* control bytes are shown as '?' */
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "1\x01\xff", detail), TYPE);
    assert_string_equal(detail, "1?? is not an integer");
    fx_free(f);

    f = fx_new(sl_type_of(SL_TYPE_INT32), false, NULL);
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "2147483648", detail), RANGE);
    assert_string_equal(detail, "2147483648 out of range for int32");
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "2.147483648e9", detail), RANGE);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "2e9", NULL), OK);
    fx_free(f);

    f = fx_new(sl_type_of(SL_TYPE_BOOL), true, NULL);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_TRUE, "true", NULL), OK);
    assert_int_equal(col_of(f)->data[0], 1);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_FALSE, "false", NULL), OK);
    assert_int_equal(col_of(f)->data[1], 0);
    assert_int_equal(put_text(f, " Yes "), OK);
    assert_int_equal(col_of(f)->data[2], 1);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "1", NULL), OK);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "2", detail), TYPE);
    fx_free(f);

    f = fx_new(sl_type_of(SL_TYPE_DOUBLE), true, NULL);
    assert_int_equal(put_text(f, "1e400"), RANGE);
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "1e400", detail), RANGE);
    assert_string_equal(detail, "1e400 out of range for double");
    assert_int_equal(put_text(f, "NaN"), OK);
    assert_int_equal(put_str(f, "-Infinity"), OK);
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "-1.5e-3", NULL), OK);
    double d;
    memcpy(&d, col_of(f)->data + 2 * 8, 8);
    assert_true(d == -1.5e-3);
    fx_free(f);

    f = fx_new(sl_type_of(SL_TYPE_FLOAT), true, NULL);
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "1e39", detail), RANGE);
    assert_string_equal(detail, "1e39 out of range for float");
    assert_int_equal(put_text(f, "0.1"), OK);
    float fl;
    memcpy(&fl, col_of(f)->data, 4);
    assert_true(fl == 0.1f);
    fx_free(f);

    f = fx_new(sl_type_of(SL_TYPE_DATE), true, NULL);
    assert_int_equal(put_str(f, "2024-02-29"), OK);
    int32_t day;
    memcpy(&day, col_of(f)->data, 4);
    assert_int_equal(day, 19782);
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "2023-02-29", detail), RANGE);
    assert_string_equal(detail, "2023-02-29 has no such day");
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "19782", detail), TYPE);
    fx_free(f);

    f = fx_new(sl_type_timestamp(SL_UNIT_NS, true), true, NULL);
    assert_int_equal(put_str(f, "2262-04-11T23:47:16.854775807Z"), OK);
    assert_true(last_i64(f) == INT64_MAX);
    assert_int_equal(PUT(f, SL_CELL_STRING, 0, "2300-01-01T00:00:00Z", detail), RANGE);
    assert_string_equal(detail, "2300-01-01T00:00:00Z out of range for timestamp[ns, UTC]");
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "1704067200", detail), TYPE);
    fx_free(f);

    f = fx_new(sl_type_decimal(12, 2), true, NULL);
    assert_int_equal(put_text(f, "-123.45"), OK);
    assert_true(last_i64(f) == -12345);
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "1.234", detail), RANGE);
    assert_string_equal(detail, "1.234 has too many decimal places for decimal(12,2)");
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "12345678901", detail), RANGE);
    assert_string_equal(detail, "12345678901 has too many integer digits for decimal(12,2)");
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "1.5e3", NULL), OK);
    assert_true(last_i64(f) == 150000);
    fx_free(f);

    f = fx_new(sl_type_decimal(38, 10), true, NULL);
    assert_int_equal(put_text(f, "-9999999999999999999999999999.9999999999"), OK);
    __int128 big;
    memcpy(&big, col_of(f)->data, 16);
    char buf[SL_DECIMAL_TEXT_MAX];
    sl_format_decimal(big, 10, buf);
    assert_string_equal(buf, "-9999999999999999999999999999.9999999999");
    fx_free(f);
}

static void test_cell_strings(void **state)
{
    (void)state;
    char detail[SL_COERCE_DETAIL_MAX];
    fixture *f = fx_new(sl_type_of(SL_TYPE_STRING), true, NULL);
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_CSV_ESCAPES, "a\"\"b\"\"", NULL), OK);
    LAST(f, "a\"b\"");
    assert_int_equal(
        PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "a\\nb\\u00e9\\\"\\\\\\/\\t", NULL), OK);
    LAST(f, "a\nb\xc3\xa9\"\\/\t");
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "\\ud83d\\ude00", NULL), OK);
    LAST(f, "\xf0\x9f\x98\x80");
    /* sl_json_unescape: a lone surrogate (which the JSON parser rejects) becomes U+FFFD, an
     * invalid escape stays as it is */
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "x\\ud800", detail), OK);
    LAST(f, "x\xef\xbf\xbd");
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "\\x", detail), OK);
    LAST(f, "\\x");
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "ok\xc3\xa9", NULL), OK);
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "abc\xc3(", detail), SL_ROW_UTF8);
    assert_string_equal(detail, "invalid UTF-8 at byte 3 of the value");
    assert_int_equal(PUT(f, SL_CELL_STRING, 0, "\xed\xa0\x80", detail), SL_ROW_UTF8);
    /* JSON literals keep their text */
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "1.50", NULL), OK);
    LAST(f, "1.50");
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_TRUE, "true", NULL), OK);
    LAST(f, "true");
    /* nested JSON is stored compact */
    const char *nested = "{ \"a\" : [1, 2], \"b c\": \"x  \\\" y\" }";
    assert_int_equal(put(f, SL_CELL_NESTED, 0, nested, strlen(nested), NULL), OK);
    LAST(f, "{\"a\":[1,2],\"b c\":\"x  \\\" y\"}");
    fx_free(f);

    /* trusted UTF-8 skips the check for unescaped cells, not for escaped ones */
    sl_coerce_opts o;
    sl_coerce_opts_default(&o);
    o.trusted_utf8 = true;
    f = fx_new(sl_type_of(SL_TYPE_STRING), true, &o);
    assert_int_equal(PUT(f, SL_CELL_STRING, 0, "\xff", NULL), OK);
    fx_free(f);

    /* binary: bytes as they are */
    f = fx_new(sl_type_of(SL_TYPE_BINARY), false, NULL);
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "\xff\x00\x01", NULL), OK);
    LAST(f, "\xff\x00\x01");
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "\\u0000\\u00ff", NULL), OK);
    LAST(f, "\x00\xc3\xbf");
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_CSV_ESCAPES, "\"\"", NULL), OK);
    LAST(f, "\"");
    assert_int_equal(PUT(f, SL_CELL_NESTED, 0, "[ 1 ]", NULL), OK);
    LAST(f, "[ 1 ]");
    fx_free(f);
}

static size_t hook_calls;
static size_t my_csv_unescape(void *ctx, const uint8_t *p, size_t n, uint8_t *out)
{
    assert_ptr_equal(ctx, &hook_calls);
    hook_calls++;
    /* backslash escapes: \x -> x */
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n)
            i++;
        out[o++] = p[i];
    }
    return o;
}

static size_t my_json_unescape(const uint8_t *p, size_t n, uint8_t *out)
{
    hook_calls += 100;
    return sl_json_unescape(p, n, out);
}

/* A decoder that fails ("\!") or writes invalid UTF-8 ("\?"). */
static size_t odd_unescape(const uint8_t *p, size_t n, uint8_t *out)
{
    if (n >= 2 && p[0] == '\\' && p[1] == '!')
        return SIZE_MAX;
    memcpy(out, p, n);
    if (n >= 2 && p[0] == '\\' && p[1] == '?') {
        out[0] = 0xff;
        return 1;
    }
    return n;
}

static void test_cell_hooks(void **state)
{
    (void)state;
    sl_coerce_opts o;
    sl_coerce_opts_default(&o);
    o.csv_unescape = my_csv_unescape;
    o.csv_unescape_ctx = &hook_calls;
    o.json_unescape = my_json_unescape;
    fixture *f = fx_new(sl_type_of(SL_TYPE_STRING), true, &o);
    hook_calls = 0;
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_CSV_ESCAPES, "a\\\"b", NULL), OK);
    LAST(f, "a\"b");
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "\\n", NULL), OK);
    LAST(f, "\n");
    assert_int_equal(hook_calls, 101);
    fx_free(f);

    /* a decoder failure is a TYPE error; its output is UTF-8 checked even when trusted */
    char detail[SL_COERCE_DETAIL_MAX];
    o.json_unescape = odd_unescape;
    o.trusted_utf8 = true;
    static const sl_type_id ids[] = {SL_TYPE_STRING, SL_TYPE_INT64, SL_TYPE_JSON};
    for (size_t i = 0; i < 3; i++) {
        f = fx_new(sl_type_of(ids[i]), true, &o);
        assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "\\!", detail), TYPE);
        assert_string_equal(detail, "\\! has a malformed escape");
        if (ids[i] == SL_TYPE_STRING) {
            assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "\\?", detail),
                             SL_ROW_UTF8);
            assert_string_equal(detail, "invalid UTF-8 at byte 0 of the value");
        }
        fx_free(f);
    }
}

static void test_cell_json(void **state)
{
    (void)state;
    char detail[SL_COERCE_DETAIL_MAX];
    /* from CSV: the field is JSON text and must be valid */
    fixture *f = fx_new(sl_type_of(SL_TYPE_JSON), true, NULL);
    assert_int_equal(put_text(f, "{\"a\":1}"), OK);
    LAST(f, "{\"a\":1}");
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_CSV_ESCAPES, "{\"\"a\"\": [1, 2]}", NULL), OK);
    LAST(f, "{\"a\": [1, 2]}");
    assert_int_equal(put_str(f, "\"quoted\""), OK);
    LAST(f, "\"quoted\"");
    assert_int_equal(put_text(f, "42"), OK);
    LAST(f, "42");
    assert_int_equal(put_text(f, "null"), OK); /* a null token wins: SQL null */
    assert_true(last_null(f));
    assert_int_equal(PUT(f, SL_CELL_TEXT, 0, "{a:1}", detail), TYPE);
    assert_string_equal(detail, "not valid JSON: object key expected at byte 1");
    assert_int_equal(PUT(f, SL_CELL_STRING, 0, "abc", detail), TYPE);
    assert_int_equal(PUT(f, SL_CELL_STRING, 0, "[1,]", detail), TYPE);
    fx_free(f);

    /* from JSON Lines: objects/arrays as they are, strings become string literals */
    sl_coerce_opts o;
    sl_coerce_opts_default(&o);
    o.json_source = true;
    f = fx_new(sl_type_of(SL_TYPE_JSON), true, &o);
    assert_int_equal(PUT(f, SL_CELL_NESTED, 0, "{ \"a\": 1 }", NULL), OK);
    LAST(f, "{ \"a\": 1 }");
    assert_int_equal(PUT(f, SL_CELL_STRING, 0, "abc", NULL), OK);
    LAST(f, "\"abc\"");
    assert_int_equal(PUT(f, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, "a\\\"b\\u00e9", NULL), OK);
    LAST(f, "\"a\\\"b\\u00e9\"");
    assert_int_equal(PUT(f, SL_CELL_STRING, 0, "", NULL), OK);
    LAST(f, "\"\"");
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, "-1.5e3", NULL), OK);
    LAST(f, "-1.5e3");
    assert_int_equal(PUT(f, SL_CELL_TEXT, SL_CELLF_JSON_FALSE, "false", NULL), OK);
    LAST(f, "false");
    assert_int_equal(PUT(f, SL_CELL_NULL, 0, "", NULL), OK);
    assert_true(last_null(f));
    fx_free(f);
}

/* The column loop reads integers with two 8-byte loads ending at the value when the 16 bytes
 * before its end are in the buffer: the same results as sl_parse_i64/i32 on every vector, with
 * digits right before the value (they must be masked off) and trimming. */
static void test_column_fast_int(void **state)
{
    (void)state;
    char buf[128];
    for (int w = 0; w < 2; w++) {
        fixture *f = fx_new(sl_type_of(w ? SL_TYPE_INT32 : SL_TYPE_INT64), false, NULL);
        for (size_t i = 0; i < sizeof(i64_vecs) / sizeof(i64_vecs[0]) + 3000; i++) {
            char val[64];
            if (i < sizeof(i64_vecs) / sizeof(i64_vecs[0])) {
                snprintf(val, sizeof(val), "%s", i64_vecs[i].in);
            } else {
                int64_t x = (int64_t)rnd() >> (rnd() % 64);
                snprintf(val, sizeof(val), (rnd() & 1) ? "%lld" : "+%lld", (long long)x);
            }
            for (int pad = 0; pad < 3; pad++) {
                /* 20 digits of junk, then maybe a space, then the value */
                int n = snprintf(buf, sizeof(buf), "98765432109876543210%s%s%s", pad ? " " : "",
                                 val, pad == 2 ? "\t" : "");
                sl_cell c = {20, (uint32_t)(n - 20), SL_CELL_TEXT, 0, 0};
                sl_row_code code, want;
                size_t len = col_of(f)->len;
                assert_int_equal(sl_coerce_append(&f->cz, col_of(f), U(buf), &c, &code, NULL, 0),
                                 SL_OK);
                int64_t v64 = 0;
                int32_t v32 = 0;
                const char *t = val;
                size_t tn = strlen(val);
                while (tn && (*t == ' ' || *t == '\t'))
                    t++, tn--;
                while (tn && (t[tn - 1] == ' ' || t[tn - 1] == '\t'))
                    tn--;
                if (w)
                    want = sl_parse_i32(U(t), tn, &v32, NULL);
                else
                    want = sl_parse_i64(U(t), tn, &v64, NULL);
                if (tn == 0)
                    want = SL_ROW_NULL_VALUE; /* a null token in a non-nullable column */
                if (code != want)
                    fail_msg("'%s': code %d, want %d", buf + 20, code, want);
                if (code != OK) {
                    assert_int_equal(col_of(f)->len, len);
                    continue;
                }
                if (w) {
                    int32_t got;
                    memcpy(&got, col_of(f)->data + len * 4, 4);
                    assert_int_equal(got, v32);
                } else {
                    int64_t got;
                    memcpy(&got, col_of(f)->data + len * 8, 8);
                    assert_true(got == v64);
                }
            }
        }
        fx_free(f);
    }
}

static void test_column_run(void **state)
{
    (void)state;
    /* a strided run: 3 cells per row, column 1 is the int column; rows 1 and 3 are bad
     * already, row 4 fails */
    const char *text = "x1yx2yx3yx4yxzy";
    sl_cell cells[5 * 3];
    for (int r = 0; r < 5; r++) {
        cells[r * 3 + 0] = (sl_cell){(uint32_t)(r * 3), 1, SL_CELL_TEXT, 0, 0};
        cells[r * 3 + 1] = (sl_cell){(uint32_t)(r * 3 + 1), 1, SL_CELL_TEXT, 0, 0};
        cells[r * 3 + 2] = (sl_cell){(uint32_t)(r * 3 + 2), 1, SL_CELL_TEXT, 0, 0};
    }
    uint8_t bad[5] = {0, 1, 0, 1, 0};
    for (int nullable = 0; nullable < 2; nullable++) {
        fixture *f = fx_new(sl_type_of(SL_TYPE_INT64), nullable, NULL);
        uint8_t b[5];
        memcpy(b, bad, 5);
        /* the column may hold rows already */
        sl_cell c0 = {1, 1, SL_CELL_TEXT, 0, 0};
        sl_row_code code;
        assert_int_equal(sl_coerce_append(&f->cz, col_of(f), U(text), &c0, &code, NULL, 0), SL_OK);
        assert_int_equal(
            sl_coerce_column(&f->cz, col_of(f), U(text), cells + 1, 3, 5, b, NULL, NULL), SL_OK);
        sl_column *c = col_of(f);
        assert_int_equal(c->len, 6);
        assert_int_equal(b[4], 2);
        assert_int_equal(b[1], 1);
        int64_t v[6];
        memcpy(v, c->data, sizeof(v));
        assert_true(v[0] == 1 && v[1] == 1 && v[2] == 0 && v[3] == 3 && v[4] == 0 && v[5] == 0);
        if (nullable) {
            assert_int_equal(c->null_count, 3);
            assert_int_equal(c->valid[3], 1);
            assert_int_equal(c->valid[2], 0);
        }
        /* missing column */
        memcpy(b, bad, 5);
        assert_int_equal(sl_coerce_missing(c, 5, b, NULL, NULL), SL_OK);
        assert_int_equal(c->len, 11);
        if (!nullable)
            assert_int_equal(b[0], 2);
        fx_free(f);
    }
    /* strings: placeholders are empty values */
    fixture *f = fx_new(sl_type_of(SL_TYPE_STRING), false, NULL);
    uint8_t b[5];
    memcpy(b, bad, 5);
    assert_int_equal(sl_coerce_column(&f->cz, col_of(f), U(text), cells + 1, 3, 5, b, NULL, NULL),
                     SL_OK);
    sl_column *c = col_of(f);
    assert_int_equal(c->len, 5);
    assert_int_equal(c->bytes_len, 3);
    assert_int_equal(c->offsets[2], 1);
    assert_int_equal(c->offsets[5], 3);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i64),
        cmocka_unit_test(test_i64_random_round_trip),
        cmocka_unit_test(test_i32),
        cmocka_unit_test(test_i64_exact),
        cmocka_unit_test(test_f64),
        cmocka_unit_test(test_f64_specials),
        cmocka_unit_test(test_f64_vs_strtod),
        cmocka_unit_test(test_f64_long),
        cmocka_unit_test(test_f32),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_date_round_trip),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_timestamp_round_trip),
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_decimal_round_trip),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_json_check),
        cmocka_unit_test(test_cell_nulls),
        cmocka_unit_test(test_cell_tokens_and_trim),
        cmocka_unit_test(test_cell_values),
        cmocka_unit_test(test_cell_strings),
        cmocka_unit_test(test_cell_hooks),
        cmocka_unit_test(test_cell_json),
        cmocka_unit_test(test_column_fast_int),
        cmocka_unit_test(test_column_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
