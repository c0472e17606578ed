/* convert_oom_test.c: fails each allocation of a model-parse + infer + convert + rejects run in
 * turn (curl's torture idea; see tests/unit/encode/writer_oom_test.c for the mechanism).
 *
 * Linked with --wrap=malloc,calloc,realloc,strdup (CMake does that for *_oom_test). For
 * k = 0, 1, ... the k-th allocation fails; the scenario must return SL_NOMEM or succeed,
 * leave the batch as it was before a failed sl_convert_block(), and leak nothing (ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parse/convert.h"
#include "parse/infer.h"
#include "sluice.h"

#include "../../support/oom.h"

static const char model[] =
    "{\"fields\":[{\"name\":\"id\",\"type\":\"int64\",\"nullable\":false},"
    "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"decimal(20,2)\"},"
    "{\"name\":\"doc\",\"type\":\"json\"}],\"event_key\":\"id\",\"partition_by\":[\"name\"]}";

static const char text[] = "1a12.5{}x\"\"b1.5[1]3c9.99{\"k\":1}\\u0034d7[]";

typedef struct {
    sl_buf *out;
} rej_ctx;

static sl_err on_reject(void *ctx, const sl_reject *r)
{
    rej_ctx *c = ctx;
    return sl_reject_format_ndjson(c->out, r);
}

static sl_err scenario(void)
{
    sl_err err;
    sl_model *m = NULL;
    sl_converter *cv = NULL;
    sl_batch *b = NULL;
    sl_schema *inferred = NULL;
    sl_rowblock blk;
    sl_buf rejects;
    sl_buf_init(&rejects, 0);
    memset(&blk, 0, sizeof(blk));
    err = sl_model_from_json(model, sizeof(model) - 1, &m, NULL, 0);
    if (err)
        goto out;
    char *json;
    err = sl_model_to_json(m, &json);
    if (err)
        goto out;
    free(json);
    err = sl_rowblock_init(&blk, 4, 8);
    if (err)
        goto out;
    blk.text = (const uint8_t *)text;
    /* rows: good, bad id (x) with an escaped name, good, an escaped id (\u0034 = 4), good */
    static const sl_cell cells[5][4] = {
        {{0, 1, SL_CELL_TEXT, 0, 0},
         {1, 1, SL_CELL_TEXT, 0, 0},
         {2, 4, SL_CELL_TEXT, 0, 0},
         {6, 2, SL_CELL_TEXT, 0, 0}},
        {{8, 1, SL_CELL_TEXT, 0, 0},
         {9, 3, SL_CELL_STRING, SL_CELLF_CSV_ESCAPES, 0},
         {12, 3, SL_CELL_TEXT, 0, 0},
         {15, 3, SL_CELL_TEXT, 0, 0}},
        {{18, 1, SL_CELL_TEXT, 0, 0},
         {19, 1, SL_CELL_TEXT, 0, 0},
         {20, 4, SL_CELL_TEXT, 0, 0},
         {24, 7, SL_CELL_TEXT, 0, 0}},
        {{31, 6, SL_CELL_STRING, SL_CELLF_JSON_ESCAPES, 0},
         {37, 1, SL_CELL_TEXT, 0, 0},
         {38, 1, SL_CELL_TEXT, 0, 0},
         {39, 2, SL_CELL_TEXT, 0, 0}},
        {{0, 1, SL_CELL_TEXT, 0, 0},
         {1, 1, SL_CELL_TEXT, 0, 0},
         {12, 3, SL_CELL_TEXT, 0, 0},
         {0, 0, SL_CELL_MISSING, 0, 0}},
    };
    for (size_t r = 0; r < 5; r++) {
        size_t k = sl_rowblock_add_row(&blk, r + 1, 0, 10);
        memcpy(blk.cells + k * 4, cells[r], sizeof(cells[r]));
    }
    sl_rowblock_reject(&blk, 4, SL_ROW_SYNTAX, 3, -1, "bad quote");
    sl_converter_opts o;
    sl_converter_opts_default(&o);
    rej_ctx rc = {&rejects};
    o.on_reject = on_reject;
    o.reject_ctx = &rc;
    err = sl_converter_create(m->schema, &o, &cv);
    if (err)
        goto out;
    err = sl_batch_create(m->schema, &b);
    if (err)
        goto out;
    for (int pass = 0; pass < 2; pass++) {
        size_t before = sl_batch_rows(b);
        sl_convert_stats st = {0};
        err = sl_convert_block(cv, &blk, b, &st);
        if (err) {
            assert_int_equal(sl_batch_check(b), SL_OK);
            assert_int_equal(sl_batch_rows(b), before);
            goto out;
        }
        assert_int_equal(sl_batch_rows(b), before + 3);
        assert_int_equal(st.rows_rejected, 2);
    }
    const char *names[] = {"a", "b", "c", "d"};
    sl_infer_opts io;
    sl_infer_opts_default(&io);
    io.pinned = m->schema;
    const sl_rowblock *blocks[] = {&blk};
    err = sl_infer_schema(blocks, 1, names, 4, &io, &inferred);
out:
    sl_schema_destroy(inferred);
    sl_batch_destroy(b);
    sl_converter_destroy(cv);
    sl_rowblock_release(&blk);
    sl_model_destroy(m);
    sl_buf_release(&rejects);
    return err;
}

static void test_each_allocation_fails(void **state)
{
    (void)state;
    fail_at = -1;
    assert_int_equal(scenario(), SL_OK);
    long k;
    for (k = 0;; k++) {
        alloc_count = 0;
        injected = 0;
        fail_at = k;
        sl_err err = scenario();
        if (!injected) {
            assert_int_equal(err, SL_OK);
            break;
        }
        if (err != SL_NOMEM)
            fail_msg("allocation %ld failed: got %s, want SL_NOMEM", k, sl_strerror(err));
    }
    fail_at = -1;
    assert_true(k > 20); /* the scenario does allocate */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_allocation_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
