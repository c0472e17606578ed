/* writer_oom_test.c: fails each allocation of a whole Parquet write in turn.
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup (see CMakeLists:
 * tests named *_oom_test), so every allocation libsluice makes goes through the counters below.
 * For k = 0, 1, 2, ... the k-th allocation fails; the scenario must then return SL_NOMEM (or
 * succeed if it made fewer than k allocations) without crashing, and ASan's leak checker must
 * find nothing. The loop ends at the first k the scenario survives without an injected failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sluice.h"
#include "util/buf.h"

#include "../../support/oom.h"

static sl_err mem_write(void *ctx, const void *p, size_t n)
{
    return sl_buf_append(ctx, p, n);
}

/* A small but complete write: every type, nulls, two row groups, dictionary and PLAIN pages,
 * truncated statistics, page index. Returns the first error. */
static sl_err scenario(sl_buf *file)
{
    sl_err err;
    sl_schema *s = NULL;
    sl_batch *b = NULL;
    sl_pq_writer *w = NULL;
    if ((err = sl_schema_create(&s)))
        return err;
    static const sl_type_id ids[] = {SL_TYPE_BOOL,   SL_TYPE_INT32, SL_TYPE_INT64,
                                     SL_TYPE_FLOAT,  SL_TYPE_DOUBLE, SL_TYPE_STRING,
                                     SL_TYPE_BINARY, SL_TYPE_JSON,  SL_TYPE_DATE};
    char name[16];
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        name[0] = (char)('a' + i);
        name[1] = 0;
        if ((err = sl_schema_add(s, name, sl_type_of(ids[i]), i % 2 == 0)))
            goto out;
    }
    if ((err = sl_schema_add(s, "ts", sl_type_timestamp(SL_UNIT_US, true), true)) ||
        (err = sl_schema_add(s, "d1", sl_type_decimal(9, 2), true)) ||
        (err = sl_schema_add(s, "d2", sl_type_decimal(30, 2), false)))
        goto out;
    if ((err = sl_batch_create(s, &b)))
        goto out;
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.row_group_rows = 300;
    o.page_rows = 100;
    o.codec = SL_CODEC_ZSTD;
    sl_output out = {mem_write, file};
    if ((err = sl_pq_writer_create(s, &o, out, &w)))
        goto out;
    char text[100];
    memset(text, 'k', sizeof(text));
    for (int r = 0; r < 500; r++) {
        for (size_t c = 0; c < b->ncols && !err; c++) {
            sl_column *col = &b->cols[c];
            if (col->nullable && r % 7 == 3) {
                err = sl_col_append_null(col);
                continue;
            }
            switch (col->type.id) {
            case SL_TYPE_BOOL:
                err = sl_col_append_bool(col, r & 1);
                break;
            case SL_TYPE_INT32:
            case SL_TYPE_DATE:
                err = sl_col_append_i32(col, r * 3);
                break;
            case SL_TYPE_INT64:
            case SL_TYPE_TIMESTAMP:
            case SL_TYPE_DECIMAL:
                err = sl_col_append_i64(col, r % 50);
                break;
            case SL_TYPE_FLOAT:
                err = sl_col_append_f32(col, (float)r / 4);
                break;
            case SL_TYPE_DOUBLE:
                err = sl_col_append_f64(col, r * 1.5);
                break;
            default:
                err = sl_col_append_bytes(col, text, (size_t)(r % 3 ? r % 100 : 80));
                break;
            }
        }
        if (err)
            goto out;
    }
    if ((err = sl_pq_writer_write(w, b)))
        goto out;
    err = sl_pq_writer_finish(w);
out:
    sl_pq_writer_destroy(w);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
    return err;
}

static void test_fail_each_allocation(void **state)
{
    (void)state;
    sl_buf ref;
    sl_buf_init(&ref, 0);
    assert_int_equal(scenario(&ref), SL_OK);
    long k;
    for (k = 0;; k++) {
        sl_buf file;
        sl_buf_init(&file, 0);
        alloc_count = 0;
        injected = 0;
        fail_at = k;
        sl_err err = scenario(&file);
        fail_at = -1;
        if (!injected) {
            /* no allocation left to fail: the run must be complete and identical */
            assert_int_equal(err, SL_OK);
            assert_int_equal(file.len, ref.len);
            assert_memory_equal(file.ptr, ref.ptr, ref.len);
            sl_buf_release(&file);
            break;
        }
        if (err != SL_NOMEM)
            fail_msg("allocation %ld failed: got %s, want SL_NOMEM", k, sl_strerror(err));
        sl_buf_release(&file);
    }
    assert_true(k > 50); /* the scenario really allocates */
    sl_buf_release(&ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_each_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
