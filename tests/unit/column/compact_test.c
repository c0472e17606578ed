/* compact_test.c: tests of src/column/compact.c (sl_col_reserve, sl_col_truncate,
 * sl_col_remove_rows and their batch forms).
 *
 * Every removal pattern (none, first, last, runs, all, alternate) on fixed-width, string and
 * nullable columns is checked against a model of the expected rows; null_count, bytes_len and
 * offsets must follow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

#define N 40

/* Column i64 (nullable: every 3rd row null) and string ("r<k>", every 4th row null). */
static sl_batch *make_batch(sl_schema **sp)
{
    sl_schema *s;
    sl_batch *b;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "i", sl_type_of(SL_TYPE_INT64), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "s", sl_type_of(SL_TYPE_STRING), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "f", sl_type_of(SL_TYPE_INT32), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "d", sl_type_decimal(30, 2), false), SL_OK);
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    for (int k = 0; k < N; k++) {
        if (k % 3 == 0)
            assert_int_equal(sl_col_append_null(&b->cols[0]), SL_OK);
        else
            assert_int_equal(sl_col_append_i64(&b->cols[0], k), SL_OK);
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "r%d", k);
        if (k % 4 == 0)
            assert_int_equal(sl_col_append_null(&b->cols[1]), SL_OK);
        else
            assert_int_equal(sl_col_append_bytes(&b->cols[1], buf, (size_t)n), SL_OK);
        assert_int_equal(sl_col_append_i32(&b->cols[2], k * 10), SL_OK);
        assert_int_equal(sl_col_append_i128(&b->cols[3], (__int128)k << 70), SL_OK);
    }
    *sp = s;
    return b;
}

/* Row r of the batch holds original row k. */
static void check_row(const sl_batch *b, size_t r, int k)
{
    const sl_column *c = &b->cols[0];
    if (k % 3 == 0) {
        assert_int_equal(c->valid[r], 0);
    } else {
        int64_t v;
        memcpy(&v, c->data + r * 8, 8);
        assert_int_equal(c->valid[r], 1);
        assert_true(v == k);
    }
    c = &b->cols[1];
    if (k % 4 == 0) {
        assert_int_equal(c->valid[r], 0);
        assert_int_equal(c->offsets[r + 1], c->offsets[r]);
    } else {
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "r%d", k);
        assert_int_equal(c->valid[r], 1);
        assert_int_equal(c->offsets[r + 1] - c->offsets[r], n);
        assert_memory_equal(c->bytes + c->offsets[r], buf, (size_t)n);
    }
    int32_t f;
    memcpy(&f, b->cols[2].data + r * 4, 4);
    assert_int_equal(f, k * 10);
    __int128 d;
    memcpy(&d, b->cols[3].data + r * 16, 16);
    assert_true(d == (__int128)k << 70);
}

static void check_counts(const sl_batch *b)
{
    assert_int_equal(sl_batch_check(b), SL_OK);
    for (size_t i = 0; i < b->ncols; i++) {
        const sl_column *c = &b->cols[i];
        size_t nulls = 0;
        for (size_t r = 0; r < c->len && c->nullable; r++)
            nulls += !c->valid[r];
        assert_int_equal(c->null_count, nulls);
        if (!c->width)
            assert_int_equal(c->bytes_len, c->offsets[c->len]);
    }
}

static void test_remove_patterns(void **state)
{
    (void)state;
    for (int pat = 0; pat < 8; pat++) {
        sl_schema *s;
        sl_batch *b = make_batch(&s);
        size_t drop[N], nd = 0;
        bool gone[N] = {0};
        for (int k = 0; k < N; k++) {
            bool d = pat == 1   ? k == 0
                     : pat == 2 ? k == N - 1
                     : pat == 3 ? (k >= 5 && k < 12) || (k >= 30 && k < 33)
                     : pat == 4 ? true
                     : pat == 5 ? (k & 1)
                     : pat == 6 ? k % 7 == 3 || k == N - 1
                     : pat == 7 ? k != 17
                                : false;
            if (d) {
                drop[nd++] = (size_t)k;
                gone[k] = true;
            }
        }
        sl_batch_remove_rows(b, drop, nd);
        assert_int_equal(sl_batch_rows(b), N - nd);
        check_counts(b);
        size_t r = 0;
        for (int k = 0; k < N; k++)
            if (!gone[k])
                check_row(b, r++, k);
        /* the columns still append after a removal */
        assert_int_equal(sl_col_append_bytes(&b->cols[1], "z", 1), SL_OK);
        assert_int_equal(
            b->cols[1].offsets[b->cols[1].len] - b->cols[1].offsets[b->cols[1].len - 1], 1);
        sl_batch_destroy(b);
        sl_schema_destroy(s);
    }
}

static void test_truncate(void **state)
{
    (void)state;
    sl_schema *s;
    sl_batch *b = make_batch(&s);
    sl_batch_truncate(b, N + 5); /* longer: no-op */
    assert_int_equal(sl_batch_rows(b), N);
    sl_batch_truncate(b, 13);
    assert_int_equal(sl_batch_rows(b), 13);
    check_counts(b);
    for (int k = 0; k < 13; k++)
        check_row(b, (size_t)k, k);
    sl_batch_truncate(b, 0);
    check_counts(b);
    assert_int_equal(b->cols[1].bytes_len, 0);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

static void test_reserve(void **state)
{
    (void)state;
    sl_schema *s;
    sl_batch *b;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "s", sl_type_of(SL_TYPE_STRING), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "i", sl_type_of(SL_TYPE_INT64), false), SL_OK);
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    sl_column *c = &b->cols[0];
    assert_int_equal(sl_col_reserve(c, 5000, 100000), SL_OK);
    assert_true(c->cap >= 5000);
    assert_true(c->bytes_cap >= 100000);
    assert_int_equal(c->offsets[0], 0);
    /* direct writes into the reserved room */
    for (int r = 0; r < 5000; r++) {
        c->bytes[c->bytes_len++] = (uint8_t)('a' + r % 26);
        c->valid[c->len] = 1;
        c->offsets[c->len + 1] = (uint32_t)c->bytes_len;
        c->len++;
    }
    assert_int_equal(c->offsets[5000], 5000);
    /* past 4 GiB of bytes: SL_FULL, nothing changes */
    size_t cap = c->cap, bcap = c->bytes_cap;
    assert_int_equal(sl_col_reserve(c, 1, (size_t)UINT32_MAX), SL_FULL);
    assert_int_equal(c->bytes_cap, bcap);
    assert_int_equal(sl_col_reserve(c, 0, 0), SL_OK);
    assert_int_equal(c->cap, cap);
    /* fixed width: bytes ignored */
    assert_int_equal(sl_col_reserve(&b->cols[1], 3, 1000), SL_OK);
    assert_true(b->cols[1].cap >= 3);
    assert_null(b->cols[1].bytes);
    assert_null(b->cols[1].valid);
    assert_int_equal(sl_col_reserve(&b->cols[1], SIZE_MAX / 8, 0), SL_NOMEM);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remove_patterns),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
