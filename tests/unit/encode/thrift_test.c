/* thrift_test.c: unit tests for the Thrift compact protocol primitives (src/encode/parquet/
 * thrift.c): zigzag varints at the extremes, the 10-byte varint limit, short and long field
 * headers, short and long list headers, booleans in fields and lists, the nesting limit on both
 * sides, skipping every compact type, and bounds checks on truncated or lying input. Byte
 * vectors are computed by hand from the compact protocol spec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "encode/parquet/thrift.h"

typedef struct {
    const char *name;
    int64_t value;
    uint8_t bytes[10];
    size_t len;
} varint_case;

/* zigzag(v) = (v << 1) ^ (v >> 63), then LEB128 */
/* clang-format off */
static const varint_case i64_cases[] = {
    {"zero", 0, {0x00}, 1},
    {"minus one", -1, {0x01}, 1},
    {"one", 1, {0x02}, 1},
    {"minus 64", -64, {0x7F}, 1},
    {"64", 64, {0x80, 0x01}, 2},
    {"INT32_MAX", INT32_MAX, {0xFE, 0xFF, 0xFF, 0xFF, 0x0F}, 5},
    {"INT32_MIN", INT32_MIN, {0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 5},
    {"INT64_MAX", INT64_MAX, {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 10},
    {"INT64_MIN", INT64_MIN, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 10},
};
/* clang-format on */

static void test_zigzag_i64(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(i64_cases) / sizeof(i64_cases[0]); i++) {
        const varint_case *c = &i64_cases[i];
        sl_buf b;
        sl_tw tw;
        sl_buf_init(&b, 0);
        sl_tw_init(&tw, &b);
        sl_tw_elem_i64(&tw, c->value);
        assert_int_equal(tw.err, SL_OK);
        assert_int_equal(b.len, c->len);
        assert_memory_equal(b.ptr, c->bytes, c->len);

        sl_tr tr;
        sl_tr_init(&tr, b.ptr, b.len);
        assert_true(sl_tr_i64(&tr) == c->value);
        assert_int_equal(tr.err, SL_OK);
        assert_ptr_equal(tr.p, tr.end);
        sl_buf_release(&b);
    }
}

static void test_zigzag_i32(void **state)
{
    (void)state;
    const int32_t vals[] = {0, -1, 1, 300, -300, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        sl_buf b;
        sl_tw tw;
        sl_buf_init(&b, 0);
        sl_tw_init(&tw, &b);
        sl_tw_elem_i32(&tw, vals[i]);
        sl_tr tr;
        sl_tr_init(&tr, b.ptr, b.len);
        assert_int_equal(sl_tr_i32(&tr), vals[i]);
        assert_int_equal(tr.err, SL_OK);
        sl_buf_release(&b);
    }
    /* INT32_MAX + 1 as a varint does not fit an i32 */
    const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    sl_tr tr;
    sl_tr_init(&tr, big, sizeof(big));
    assert_int_equal(sl_tr_i32(&tr), 0);
    assert_int_equal(tr.err, SL_FORMAT);
}

static void test_varint_limit(void **state)
{
    (void)state;
    /* 10 bytes is the longest a 64-bit varint may be */
    const uint8_t ten[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    sl_tr tr;
    sl_tr_init(&tr, ten, sizeof(ten));
    assert_true(sl_tr_varint(&tr) == UINT64_MAX);
    assert_int_equal(tr.err, SL_OK);

    /* an 11th byte (10 continuation bits set) is malformed */
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    sl_tr_init(&tr, eleven, sizeof(eleven));
    assert_true(sl_tr_varint(&tr) == 0);
    assert_int_equal(tr.err, SL_FORMAT);

    /* truncated in the middle */
    sl_tr_init(&tr, ten, 5);
    sl_tr_varint(&tr);
    assert_int_equal(tr.err, SL_FORMAT);

    /* non-canonical (padded) encodings are accepted */
    const uint8_t padded[] = {0x81, 0x80, 0x00};
    sl_tr_init(&tr, padded, sizeof(padded));
    assert_true(sl_tr_varint(&tr) == 1);
    assert_int_equal(tr.err, SL_OK);
}

/* Field headers: delta 1..15 short form, else type byte + zigzag id; bools in the nibble. */
static void test_field_headers(void **state)
{
    (void)state;
    sl_buf b;
    sl_tw tw;
    sl_buf_init(&b, 0);
    sl_tw_init(&tw, &b);
    sl_tw_root_begin(&tw);
    /* clang-format off */
    sl_tw_i32(&tw, 1, 5);     /* 0x15 0x0A */
    sl_tw_bool(&tw, 2, true); /* 0x11 */
    sl_tw_bool(&tw, 3, false); /* 0x12 */
    sl_tw_i64(&tw, 18, -2);   /* delta 15: 0xF6 0x03 */
    sl_tw_i32(&tw, 40, 0);    /* delta 22: 0x05 0x50 0x00 */
    sl_tw_i32(&tw, 7, 1);     /* backwards: 0x05 0x0E 0x02 */
    sl_tw_binary(&tw, 8, "hi", 2); /* 0x18 0x02 h i */
    sl_tw_root_end(&tw);
    /* clang-format on */
    const uint8_t want[] = {0x15, 0x0A, 0x11, 0x12, 0xF6, 0x03, 0x05, 0x50, 0x00,
                            0x05, 0x0E, 0x02, 0x18, 0x02, 'h',  'i',  0x00};
    assert_int_equal(tw.err, SL_OK);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));

    sl_tr tr;
    int t;
    int16_t id;
    sl_tr_init(&tr, b.ptr, b.len);
    sl_tr_struct_begin(&tr);
    assert_true(sl_tr_field(&tr, &t, &id));
    assert_int_equal(id, 1);
    assert_int_equal(t, SL_CT_I32);
    assert_int_equal(sl_tr_i32(&tr), 5);
    assert_true(sl_tr_field(&tr, &t, &id));
    assert_int_equal(id, 2);
    assert_int_equal(t, SL_CT_TRUE);
    assert_true(sl_tr_field(&tr, &t, &id));
    assert_int_equal(id, 3);
    assert_int_equal(t, SL_CT_FALSE);
    assert_true(sl_tr_field(&tr, &t, &id));
    assert_int_equal(id, 18);
    assert_int_equal(t, SL_CT_I64);
    assert_true(sl_tr_i64(&tr) == -2);
    assert_true(sl_tr_field(&tr, &t, &id));
    assert_int_equal(id, 40);
    assert_int_equal(sl_tr_i32(&tr), 0);
    assert_true(sl_tr_field(&tr, &t, &id));
    assert_int_equal(id, 7);
    assert_int_equal(sl_tr_i32(&tr), 1);
    assert_true(sl_tr_field(&tr, &t, &id));
    assert_int_equal(id, 8);
    size_t n;
    const uint8_t *p = sl_tr_binary(&tr, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(p, "hi", 2);
    assert_false(sl_tr_field(&tr, &t, &id));
    assert_int_equal(tr.err, SL_OK);
    sl_tr_struct_end(&tr);
    assert_ptr_equal(tr.p, tr.end);
    sl_buf_release(&b);
}

static void test_field_header_errors(void **state)
{
    (void)state;
    int t;
    int16_t id;
    sl_tr tr;
    /* clang-format off */
    const uint8_t *cases[] = {
        (const uint8_t *)"\x1D",         /* type 13 does not exist */
        (const uint8_t *)"\x10",         /* delta with type STOP */
        (const uint8_t *)"\x05\x80\x80\x04", /* long-form id 32768 overflows i16 */
        (const uint8_t *)"\x05",         /* long-form id missing */
    };
    /* clang-format on */
    const size_t lens[] = {1, 1, 4, 1};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        sl_tr_init(&tr, cases[i], lens[i]);
        sl_tr_struct_begin(&tr);
        assert_false(sl_tr_field(&tr, &t, &id));
        assert_int_equal(tr.err, SL_FORMAT);
    }
    /* a delta that runs past INT16_MAX */
    const uint8_t over[] = {0x05, 0xFC, 0xFF, 0x03, 0x00, 0x25};
    sl_tr_init(&tr, over, sizeof(over));
    sl_tr_struct_begin(&tr);
    assert_true(sl_tr_field(&tr, &t, &id));
    assert_int_equal(id, 32766);
    sl_tr_i32(&tr);
    assert_false(sl_tr_field(&tr, &t, &id)); /* 32766 + 2 */
    assert_int_equal(tr.err, SL_FORMAT);
}

static void test_lists(void **state)
{
    (void)state;
    const uint32_t sizes[] = {0, 1, 14, 15, 16, 200};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint32_t n = sizes[k];
        sl_buf b;
        sl_tw tw;
        sl_buf_init(&b, 0);
        sl_tw_init(&tw, &b);
        sl_tw_root_begin(&tw);
        sl_tw_list_begin(&tw, 1, SL_CT_I32, n);
        for (uint32_t i = 0; i < n; i++)
            sl_tw_elem_i32(&tw, (int32_t)i - 7);
        sl_tw_root_end(&tw);
        assert_int_equal(tw.err, SL_OK);
        assert_int_equal(b.ptr[0], 0x19);
        if (n < 15) {
            assert_int_equal(b.ptr[1], (uint8_t)(n << 4 | SL_CT_I32));
        } else {
            assert_int_equal(b.ptr[1], 0xF5); /* long form: 0xF0 | type, then varint n */
            sl_tr v;
            sl_tr_init(&v, b.ptr + 2, b.len - 2);
            assert_int_equal(sl_tr_varint(&v), n);
        }
        sl_tr tr;
        int t, elem;
        int16_t id;
        sl_tr_init(&tr, b.ptr, b.len);
        sl_tr_struct_begin(&tr);
        assert_true(sl_tr_field(&tr, &t, &id));
        assert_int_equal(t, SL_CT_LIST);
        assert_int_equal(sl_tr_list(&tr, &elem), n);
        assert_int_equal(elem, SL_CT_I32);
        for (uint32_t i = 0; i < n; i++)
            assert_int_equal(sl_tr_i32(&tr), (int32_t)i - 7);
        assert_false(sl_tr_field(&tr, &t, &id));
        assert_int_equal(tr.err, SL_OK);
        sl_buf_release(&b);
    }
}

static void test_list_errors(void **state)
{
    (void)state;
    int elem;
    sl_tr tr;
    /* claims 5 elements with 2 bytes left */
    const uint8_t lying[] = {0x55, 0x00, 0x00};
    sl_tr_init(&tr, lying, sizeof(lying));
    assert_int_equal(sl_tr_list(&tr, &elem), 0);
    assert_int_equal(tr.err, SL_FORMAT);
    /* long form claiming 2^32 elements */
    const uint8_t huge[] = {0xF5, 0x80, 0x80, 0x80, 0x80, 0x10};
    sl_tr_init(&tr, huge, sizeof(huge));
    assert_int_equal(sl_tr_list(&tr, &elem), 0);
    assert_int_equal(tr.err, SL_FORMAT);
    /* element type STOP / 13 */
    const uint8_t bad0[] = {0x10, 0x00};
    sl_tr_init(&tr, bad0, sizeof(bad0));
    sl_tr_list(&tr, &elem);
    assert_int_equal(tr.err, SL_FORMAT);
    const uint8_t bad13[] = {0x1D, 0x00};
    sl_tr_init(&tr, bad13, sizeof(bad13));
    sl_tr_list(&tr, &elem);
    assert_int_equal(tr.err, SL_FORMAT);
}

static void test_bool_list(void **state)
{
    (void)state;
    sl_buf b;
    sl_tw tw;
    sl_buf_init(&b, 0);
    sl_tw_init(&tw, &b);
    sl_tw_root_begin(&tw);
    sl_tw_list_begin(&tw, 1, SL_CT_TRUE, 3);
    sl_tw_elem_bool(&tw, true);
    sl_tw_elem_bool(&tw, false);
    sl_tw_elem_bool(&tw, true);
    sl_tw_root_end(&tw);
    const uint8_t want[] = {0x19, 0x31, 0x01, 0x02, 0x01, 0x00};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    sl_tr tr;
    int elem;
    sl_tr_init(&tr, b.ptr + 1, b.len - 1);
    assert_int_equal(sl_tr_list(&tr, &elem), 3);
    assert_int_equal(elem, SL_CT_TRUE);
    assert_true(sl_tr_elem_bool(&tr));
    assert_false(sl_tr_elem_bool(&tr));
    assert_true(sl_tr_elem_bool(&tr));
    assert_int_equal(tr.err, SL_OK);
    sl_buf_release(&b);
}

static void test_double_and_byte(void **state)
{
    (void)state;
    const uint8_t d[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F, 0x85}; /* 1.5, -123 */
    sl_tr tr;
    sl_tr_init(&tr, d, sizeof(d));
    assert_true(sl_tr_double(&tr) == 1.5);
    assert_int_equal(sl_tr_byte(&tr), -123);
    assert_int_equal(tr.err, SL_OK);
    sl_tr_init(&tr, d, 7);
    sl_tr_double(&tr);
    assert_int_equal(tr.err, SL_FORMAT);
}

static void test_binary_bounds(void **state)
{
    (void)state;
    size_t n;
    sl_tr tr;
    const uint8_t lying[] = {0x05, 'a', 'b'};
    sl_tr_init(&tr, lying, sizeof(lying));
    assert_null(sl_tr_binary(&tr, &n));
    assert_int_equal(n, 0);
    assert_int_equal(tr.err, SL_FORMAT);
    const uint8_t empty[] = {0x00};
    sl_tr_init(&tr, empty, sizeof(empty));
    assert_non_null(sl_tr_binary(&tr, &n));
    assert_int_equal(n, 0);
    assert_int_equal(tr.err, SL_OK);
    /* no input at all (NULL, 0): a clean SL_FORMAT, no NULL + 0 arithmetic (clang UBSan) */
    sl_tr_init(&tr, NULL, 0);
    assert_null(sl_tr_binary(&tr, &n));
    assert_int_equal(tr.err, SL_FORMAT);
}

/* A struct holding one field of every compact type, then a sentinel; skipping each must land
 * exactly on the next field. */
/* clang-format off */
static const uint8_t every_type[] = {
    0x11,                                           /* 1: bool true */
    0x12,                                           /* 2: bool false */
    0x13, 0x7F,                                     /* 3: byte */
    0x14, 0xFE, 0xFF, 0x03,                         /* 4: i16 */
    0x15, 0x80, 0x01,                               /* 5: i32 */
    0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, /* 6: i64 min */
    0x17, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F,             /* 7: double 1.0 */
    0x18, 0x03, 'a', 'b', 'c',                      /* 8: binary */
    0x19, 0x38, 0x01, 'x', 0x00, 0x02, 'y', 'z',    /* 9: list<binary> of 3 */
    0x1A, 0x21, 0x01, 0x02,                         /* 10: set<bool> of 2 */
    0x1B, 0x02, 0x85, 0x01, 'k', 0x02, 0x01, 'l', 0x04, /* 11: map<binary,i32> of 2 */
    0x1B, 0x00,                                     /* 12: empty map (no type byte) */
    0x1C, 0x15, 0x02, 0x1C, 0x11, 0x00, 0x00,       /* 13: struct { i32, struct { bool } } */
    0x19, 0xFC, 0x0F,                               /* 14: list<struct> long form, 15 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    /*     ... empty structs */
    0x19, 0x29, 0x15, 0x00, 0x15, 0x04,             /* 15: list<list<i32>> [[0], [2]] */
    0x15, 0x2A,                                     /* 16: i32 sentinel 21 */
    0x00,
};
/* clang-format on */

static void test_skip_every_type(void **state)
{
    (void)state;
    sl_tr tr;
    int t;
    int16_t id;
    int fields = 0;
    sl_tr_init(&tr, every_type, sizeof(every_type));
    sl_tr_struct_begin(&tr);
    while (sl_tr_field(&tr, &t, &id)) {
        fields++;
        if (id == 16) {
            assert_int_equal(sl_tr_i32(&tr), 21);
            continue;
        }
        sl_tr_skip(&tr, t);
    }
    assert_int_equal(tr.err, SL_OK);
    assert_int_equal(fields, 16);
    assert_ptr_equal(tr.p, tr.end);

    /* skipping the whole thing as a nested struct works too, and every truncation fails */
    sl_tr_init(&tr, every_type, sizeof(every_type));
    sl_tr_struct_begin(&tr);
    sl_tr_skip(&tr, SL_CT_STRUCT);
    assert_int_equal(tr.err, SL_OK);
    for (size_t n = 0; n < sizeof(every_type); n++) {
        sl_tr_init(&tr, every_type, n);
        sl_tr_struct_begin(&tr);
        sl_tr_skip(&tr, SL_CT_STRUCT);
        assert_int_equal(tr.err, SL_FORMAT);
    }
}

static void test_skip_errors(void **state)
{
    (void)state;
    sl_tr tr;
    /* map with a bad key type, map claiming more pairs than bytes, unknown type */
    const uint8_t badkey[] = {0x01, 0xD5, 0x00, 0x00};
    sl_tr_init(&tr, badkey, sizeof(badkey));
    sl_tr_skip(&tr, SL_CT_MAP);
    assert_int_equal(tr.err, SL_FORMAT);
    const uint8_t lying[] = {0x7F, 0x55, 0x00};
    sl_tr_init(&tr, lying, sizeof(lying));
    sl_tr_skip(&tr, SL_CT_MAP);
    assert_int_equal(tr.err, SL_FORMAT);
    sl_tr_init(&tr, lying, sizeof(lying));
    sl_tr_skip(&tr, 13);
    assert_int_equal(tr.err, SL_FORMAT);
    sl_tr_init(&tr, lying, sizeof(lying));
    sl_tr_skip(&tr, SL_CT_STOP);
    assert_int_equal(tr.err, SL_FORMAT);
}

/* Deeply nested input must fail cleanly at SL_THRIFT_MAX_DEPTH, not recurse without bound. */
static void test_nesting_limit(void **state)
{
    (void)state;
    uint8_t deep[200];
    for (size_t i = 0; i < 100; i++)
        deep[i] = 0x1C; /* field +1, struct */
    for (size_t i = 100; i < 200; i++)
        deep[i] = 0x00;
    sl_tr tr;
    sl_tr_init(&tr, deep, sizeof(deep));
    sl_tr_struct_begin(&tr);
    sl_tr_skip(&tr, SL_CT_STRUCT);
    assert_int_equal(tr.err, SL_FORMAT);

    /* lists of lists also count toward the limit */
    uint8_t lists[100];
    for (size_t i = 0; i < 100; i++)
        lists[i] = 0x19; /* list of 1 list */
    sl_tr_init(&tr, lists, sizeof(lists));
    sl_tr_skip(&tr, SL_CT_LIST);
    assert_int_equal(tr.err, SL_FORMAT);

    /* exactly at the limit is fine: root + (MAX_DEPTH - 2) nested structs */
    uint8_t ok[2 * SL_THRIFT_MAX_DEPTH];
    size_t n = 0;
    for (int i = 0; i < SL_THRIFT_MAX_DEPTH - 2; i++)
        ok[n++] = 0x1C;
    for (int i = 0; i < SL_THRIFT_MAX_DEPTH - 1; i++)
        ok[n++] = 0x00;
    sl_tr_init(&tr, ok, n);
    sl_tr_struct_begin(&tr);
    sl_tr_skip(&tr, SL_CT_STRUCT);
    assert_int_equal(tr.err, SL_OK);

    /* the writer refuses to nest deeper than it can track */
    sl_buf b;
    sl_tw tw;
    sl_buf_init(&b, 0);
    sl_tw_init(&tw, &b);
    sl_tw_root_begin(&tw);
    for (int i = 0; i < SL_THRIFT_MAX_DEPTH + 2; i++)
        sl_tw_struct_begin(&tw, 1);
    assert_int_equal(tw.err, SL_INVALID);
    sl_buf_release(&b);
}

/* Errors are sticky: after a failure every read returns zero and nothing advances. */
static void test_sticky_errors(void **state)
{
    (void)state;
    const uint8_t d[] = {0x15, 0x02, 0x00};
    sl_tr tr;
    int t;
    int16_t id;
    sl_tr_init(&tr, d, sizeof(d));
    sl_tr_fail(&tr);
    sl_tr_struct_begin(&tr);
    assert_false(sl_tr_field(&tr, &t, &id));
    assert_int_equal(sl_tr_i32(&tr), 0);
    assert_int_equal(tr.err, SL_FORMAT);

    /* writer: a capped buffer turns into SL_FULL, kept until the end */
    sl_buf b;
    sl_tw tw;
    sl_buf_init(&b, 4);
    sl_tw_init(&tw, &b);
    sl_tw_root_begin(&tw);
    sl_tw_binary(&tw, 1, "0123456789", 10);
    sl_tw_i32(&tw, 2, 1);
    sl_tw_root_end(&tw);
    assert_int_equal(tw.err, SL_FULL);
    sl_buf_release(&b);
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zigzag_i64),
        cmocka_unit_test(test_zigzag_i32),
        cmocka_unit_test(test_varint_limit),
        cmocka_unit_test(test_field_headers),
        cmocka_unit_test(test_field_header_errors),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_list_errors),
        cmocka_unit_test(test_bool_list),
        cmocka_unit_test(test_double_and_byte),
        cmocka_unit_test(test_binary_bounds),
        cmocka_unit_test(test_skip_every_type),
        cmocka_unit_test(test_skip_errors),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_sticky_errors),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
