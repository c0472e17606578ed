/* json_scan_test.c: tests of src/util/json_scan.c: valid and invalid documents (with the
 * position of the error), member lookup and iteration, string decoding (escapes, surrogate
 * pairs, buffer limits), integers and the nesting limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util/json_scan.h"

static bool valid(const char *s)
{
    return sl_jscan_valid(s, strlen(s), NULL, NULL, NULL);
}

static void test_valid_invalid(void **state)
{
    (void)state;
    static const char *const good[] = {
        "{}", "[]", " 0 ", "-1.5e-3", "\"\"", "true", "null", "{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"}",
        "\"caf\xc3\xa9\"", "[1,2,3]\n"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(valid(good[i]));
    static const struct {
        const char *s;
        size_t pos;
    } bad[] = {{"", 0},          {"{", 1},          {"{\"a\"}", 4},      {"[1,]", 3},
               {"01", 1},        {"1.", 2},         {"\"a\\x\"", 2},     {"tru", 0},
               {"{} x", 3},      {"\"\x01\"", 1},   {"\"\xc3\"", 1},     {"{\"a\":1,}", 7},
               {"[1 2]", 3},     {"\"\\u12g4\"", 1}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t pos = 99;
        const char *why = NULL;
        assert_false(sl_jscan_valid(bad[i].s, strlen(bad[i].s), NULL, &pos, &why));
        assert_non_null(why);
        if (pos != bad[i].pos)
            fail_msg("'%s': error at %zu, expected %zu (%s)", bad[i].s, pos, bad[i].pos, why);
    }
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_false(sl_jscan_valid(deep, 200, NULL, NULL, NULL));
    assert_true(sl_jscan_valid(deep + 36, 128, NULL, NULL, NULL)); /* 64 levels */
}

static void test_access(void **state)
{
    (void)state;
    const char *doc = " {\"name\":\"orders\",\"n\":-42,\"big\":12345678901234,\"f\":2.5,"
                      "\"list\":[1,\"two\",{\"x\":true}],\"e\":{}} ";
    sl_jspan root, v;
    assert_true(sl_jscan_valid(doc, strlen(doc), &root, NULL, NULL));
    assert_int_equal(sl_jscan_type(root), SL_JS_OBJECT);
    char buf[32];
    assert_true(sl_jscan_get(root, "name", &v));
    assert_true(sl_jscan_str(v, buf, sizeof(buf)));
    assert_string_equal(buf, "orders");
    int64_t x = 0;
    assert_true(sl_jscan_get(root, "n", &v) && sl_jscan_i64(v, &x));
    assert_int_equal(x, -42);
    assert_true(sl_jscan_get(root, "big", &v) && sl_jscan_i64(v, &x));
    assert_int_equal(x, 12345678901234LL);
    assert_true(sl_jscan_get(root, "f", &v));
    assert_false(sl_jscan_i64(v, &x));
    double d = 0;
    assert_true(sl_jscan_f64(v, &d));
    assert_true(d == 2.5);
    assert_false(sl_jscan_get(root, "missing", &v));
    assert_false(sl_jscan_get(root, "nam", &v));
    assert_true(sl_jscan_get(root, "list", &v));
    size_t it = 0, k = 0;
    sl_jspan key, el;
    while (sl_jscan_next(v, &it, &key, &el))
        k++;
    assert_int_equal(k, 3);
    assert_true(sl_jscan_get(root, "e", &v));
    it = 0;
    assert_false(sl_jscan_next(v, &it, &key, &el));
    it = 0;
    k = 0;
    while (sl_jscan_next(root, &it, &key, &el))
        k++;
    assert_int_equal(k, 6);
}

static void test_strings(void **state)
{
    (void)state;
    const char *s = "\"a\\n\\\"b\\u00e9\\ud83d\\ude00\\/\"";
    sl_jspan v = {s, strlen(s)};
    char buf[32];
    assert_true(sl_jscan_str(v, buf, sizeof(buf)));
    assert_string_equal(buf, "a\n\"b\xc3\xa9\xf0\x9f\x98\x80/");
    assert_false(sl_jscan_str(v, buf, 5)); /* does not fit */
    const char *z = "\"a\\u0000b\"";
    sl_jspan zv = {z, strlen(z)};
    assert_false(sl_jscan_str(zv, buf, sizeof(buf))); /* no NUL inside */
    const char *lone = "\"\\udc00\"";
    sl_jspan lv = {lone, strlen(lone)};
    assert_true(sl_jscan_str(lv, buf, sizeof(buf)));
    assert_string_equal(buf, "\xef\xbf\xbd"); /* U+FFFD */
    sl_jspan num = {"12", 2};
    assert_false(sl_jscan_str(num, buf, sizeof(buf)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_invalid),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
