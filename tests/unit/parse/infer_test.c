/* infer_test.c: tests of src/parse/infer.c on hand-built sl_rowblocks.
 *
 * Table-driven: each case is a column of sample values (CSV text, quoted strings, nulls, or
 * JSON tokens) and the type inference must give. Then: widening across blocks, pinning,
 * generated names, skipped bad rows, and the property that what is inferred converts the same
 * sample without a single reject.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/convert.h"
#include "parse/infer.h"
#include "sluice.h"

typedef struct {
    sl_rowblock blk;
    char text[1 << 14];
    size_t len;
} tblock;

static tblock *tb_new(size_t ncols, size_t cap)
{
    tblock *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_int_equal(sl_rowblock_init(&t->blk, ncols, cap), SL_OK);
    t->blk.text = (const uint8_t *)t->text;
    return t;
}

static void tb_free(tblock *t)
{
    sl_rowblock_release(&t->blk);
    free(t);
}

/* Cell notation: NULL = missing; "~" = explicit null; "\"x" = STRING x; "{..." / "[..." with
 * a leading '@' = NESTED; "#1.5" = JSON number; "#true"/"#false" = JSON literal; else TEXT. */
static sl_cell make_cell(tblock *t, const char *v)
{
    if (!v)
        return (sl_cell){0, 0, SL_CELL_MISSING, 0, 0};
    if (!strcmp(v, "~"))
        return (sl_cell){0, 0, SL_CELL_NULL, 0, 0};
    uint8_t kind = SL_CELL_TEXT, flags = 0;
    if (v[0] == '"') {
        kind = SL_CELL_STRING;
        v++;
    } else if (v[0] == '@') {
        kind = SL_CELL_NESTED;
        v++;
    } else if (v[0] == '#') {
        v++;
        flags = !strcmp(v, "true")    ? SL_CELLF_JSON_TRUE
                : !strcmp(v, "false") ? SL_CELLF_JSON_FALSE
                                      : SL_CELLF_JSON_NUMBER;
    }
    size_t n = strlen(v);
    assert_true(t->len + n < sizeof(t->text));
    sl_cell c = {(uint32_t)t->len, (uint32_t)n, kind, flags, 0};
    memcpy(t->text + t->len, v, n);
    t->len += n;
    return c;
}

/* One column of values as one block. */
static tblock *column_block(const char *const *vals)
{
    size_t n = 0;
    while (vals[n] || vals[n + 1]) /* two NULLs end the list; one NULL is a missing cell */
        n++;
    tblock *t = tb_new(1, n ? n : 1);
    for (size_t r = 0; r < n; r++) {
        size_t row = sl_rowblock_add_row(&t->blk, r + 1, 0, 0);
        t->blk.cells[row] = make_cell(t, vals[r]);
    }
    return t;
}

static void type_name(sl_type t, char *buf)
{
    sl_type_format(t, buf, 64);
}

#define END NULL, NULL
static const struct {
    bool json;
    const char *want;
    const char *vals[12];
} cases[] = {
    {false, "int64", {"1", "-2", "+3", "0", "9223372036854775807", END}},
    {false, "int64", {"0", "1", "1", "0", END}},         /* 0/1 is not bool */
    {false, "int64", {" 12 ", "\"34", "", "NULL", END}}, /* trimmed, quoted, nulls */
    {false, "double", {"1", "2.5", "-3", END}},          /* int + double */
    {false, "double", {"1", "nan", "inf", END}},
    {false, "double", {"1e3", ".5", "5.", END}},
    {false, "double", {"9223372036854775808", "1", END}}, /* past int64 */
    {false, "string", {"nan", "inf", END}},               /* no ordinary number */
    {false, "string", {"007", "123", END}},               /* a code */
    {false, "string", {"-01.5", END}},
    {false, "string", {"1", "abc", END}},
    {false, "string", {"1,5", END}},
    {false, "bool", {"true", "FALSE", "True", END}},
    {false, "string", {"y", "n", END}},
    {false, "string", {"true", "1", END}},
    {false, "string", {"yes", "no", END}},
    {false, "date", {"2024-01-01", "2024-02-29", END}},
    {false, "string", {"2023-02-29", END}}, /* not a day */
    {false, "timestamp[us]", {"2024-01-01T10:00:00", "2024-01-01", END}},
    {false, "timestamp[us, UTC]", {"2024-01-01T10:00:00Z", "2024-01-01T10:00:00+02:00", END}},
    {false, "timestamp[us, UTC]", {"2024-01-01T10:00:00Z", "2024-01-01 10:00", END}},
    {false, "timestamp[us, UTC]", {"2024-01-01", "2024-01-02T00:00Z", END}},
    {false, "string", {"2024-01-01", "yesterday", END}},
    {false, "string", {"", "NULL", "~", NULL, "\\N", END}}, /* no values */
    {false, "string", {"{\"a\":1}", END}},                  /* CSV text is not json */
    {true, "bool", {"#true", "#false", "~", END}},
    {true, "int64", {"#1", "#-5", END}},
    {true, "double", {"#1", "#1.5", END}},
    {true, "double", {"#1.0", END}},
    {true, "double", {"#1e3", END}},
    {true, "string", {"#1e400", END}},
    {true, "string", {"\"123", END}}, /* a JSON string is not a number */
    {true, "string", {"\"true", END}},
    {true, "date", {"\"2024-01-01", END}},
    {true, "timestamp[us, UTC]", {"\"2024-01-01T00:00:00.5Z", END}},
    {true, "json", {"@{\"a\":1}", "@[1,2]", END}},
    {true, "json", {"@{\"a\":1}", "\"x", "#1", END}},
    {true, "string", {"#1", "\"x", END}},
    {true, "string", {"\"", "~", END}}, /* "" is null for inference */
    {true, "string", {"#true", "#1", END}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tblock *t = column_block(cases[i].vals);
        sl_infer_opts o;
        sl_infer_opts_default(&o);
        o.coerce.json_source = cases[i].json;
        sl_schema *s;
        const char *names[] = {"c"};
        const sl_rowblock *blocks[] = {&t->blk};
        assert_int_equal(sl_infer_schema(blocks, 1, names, 1, &o, &s), SL_OK);
        char got[64];
        type_name(s->fields[0].type, got);
        if (strcmp(got, cases[i].want))
            fail_msg("case %zu (%s...): %s, want %s", i,
                     cases[i].vals[0] ? cases[i].vals[0] : "(missing)", got, cases[i].want);
        assert_true(s->fields[0].nullable);

        /* what was inferred converts the sample without rejects */
        sl_converter_opts co;
        sl_converter_opts_default(&co);
        co.coerce = o.coerce;
        sl_converter *cv;
        sl_batch *b;
        sl_convert_stats st = {0};
        assert_int_equal(sl_converter_create(s, &co, &cv), SL_OK);
        assert_int_equal(sl_batch_create(s, &b), SL_OK);
        assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_OK);
        if (st.rows_rejected)
            fail_msg("case %zu: %llu rejects converting the sample as %s", i,
                     (unsigned long long)st.rows_rejected, got);
        sl_batch_destroy(b);
        sl_converter_destroy(cv);
        sl_schema_destroy(s);
        tb_free(t);
    }
}

static void test_escapes(void **state)
{
    (void)state;
    /* CSV "1""" unescapes to 1" (not a number); "12" with no escapes is a number */
    tblock *t = tb_new(2, 2);
    size_t r = sl_rowblock_add_row(&t->blk, 1, 0, 0);
    t->blk.cells[r * 2] = make_cell(t, "\"1\"\"");
    t->blk.cells[r * 2].flags = SL_CELLF_CSV_ESCAPES;
    t->blk.cells[r * 2 + 1] = make_cell(t, "\"2024-01-01");
    r = sl_rowblock_add_row(&t->blk, 2, 0, 0);
    t->blk.cells[r * 2] = make_cell(t, "\"12");
    /* JSON escapes decoded before testing: "2024\u002d01-02" is a date */
    t->blk.cells[r * 2 + 1] = make_cell(t, "\"2024\\u002d01-02");
    t->blk.cells[r * 2 + 1].flags = SL_CELLF_JSON_ESCAPES;
    sl_schema *s;
    const sl_rowblock *blocks[] = {&t->blk};
    assert_int_equal(sl_infer_schema(blocks, 1, NULL, 2, NULL, &s), SL_OK);
    assert_int_equal(s->fields[0].type.id, SL_TYPE_STRING);
    assert_int_equal(s->fields[1].type.id, SL_TYPE_DATE);
    assert_string_equal(s->fields[0].name, "column1");
    assert_string_equal(s->fields[1].name, "column2");
    sl_schema_destroy(s);
    tb_free(t);
}

static void test_widening_across_blocks(void **state)
{
    (void)state;
    static const char *const b1[] = {"1", "2", END};
    static const char *const b2[] = {"2.5", END};
    static const char *const b3[] = {"n/a", END};
    static const char *const d1[] = {"2024-01-01", END};
    static const char *const d2[] = {"2024-01-01 12:00:00", END};
    sl_infer *inf;
    const char *names[] = {"x"};
    assert_int_equal(sl_infer_create(names, 1, NULL, &inf), SL_OK);
    const char *const *steps[] = {b1, b2, b3};
    const char *want[] = {"int64", "double", "string"};
    for (int i = 0; i < 3; i++) {
        tblock *t = column_block(steps[i]);
        assert_int_equal(sl_infer_feed(inf, &t->blk), SL_OK);
        sl_schema *s;
        assert_int_equal(sl_infer_finish(inf, &s), SL_OK);
        char got[64];
        type_name(s->fields[0].type, got);
        assert_string_equal(got, want[i]);
        sl_schema_destroy(s);
        tb_free(t);
    }
    sl_infer_destroy(inf);

    sl_infer_opts o;
    sl_infer_opts_default(&o);
    o.unit = SL_UNIT_MS;
    assert_int_equal(sl_infer_create(names, 1, &o, &inf), SL_OK);
    const char *const *dsteps[] = {d1, d2};
    const char *dwant[] = {"date", "timestamp[ms]"};
    for (int i = 0; i < 2; i++) {
        tblock *t = column_block(dsteps[i]);
        assert_int_equal(sl_infer_feed(inf, &t->blk), SL_OK);
        sl_schema *s;
        assert_int_equal(sl_infer_finish(inf, &s), SL_OK);
        char got[64];
        type_name(s->fields[0].type, got);
        assert_string_equal(got, dwant[i]);
        sl_schema_destroy(s);
        tb_free(t);
    }
    /* a block with more cells than names */
    tblock *t = tb_new(2, 1);
    assert_int_equal(sl_infer_feed(inf, &t->blk), SL_INVALID);
    tb_free(t);
    sl_infer_destroy(inf);
    o.unit = (sl_time_unit)7;
    assert_int_equal(sl_infer_create(names, 1, &o, &inf), SL_INVALID);
}

static void test_pinning_and_names(void **state)
{
    (void)state;
    /* header: id, "", amount, id (duplicate), column2 (collides with a generated name) */
    const char *names[] = {"id", "", "amount", "id", "column2"};
    tblock *t = tb_new(5, 2);
    const char *row0[] = {"1", "x", "1.50", "7", "a"};
    const char *row1[] = {"2", "y", "2.25", "8", "b"};
    const char *bad[] = {"zzz", "zzz", "zzz", "zzz", "zzz"};
    const char *const *rows[] = {row0, row1, bad};
    sl_rowblock_release(&t->blk);
    assert_int_equal(sl_rowblock_init(&t->blk, 5, 3), SL_OK);
    t->blk.text = (const uint8_t *)t->text;
    for (size_t r = 0; r < 3; r++) {
        size_t k = sl_rowblock_add_row(&t->blk, r + 1, 0, 0);
        for (size_t i = 0; i < 5; i++)
            t->blk.cells[k * 5 + i] = make_cell(t, rows[r][i]);
    }
    sl_rowblock_reject(&t->blk, 2, SL_ROW_RAGGED, 0, -1, NULL); /* skipped */
    sl_schema *pinned;
    assert_int_equal(sl_schema_create(&pinned), SL_OK);
    assert_int_equal(sl_schema_add(pinned, "amount", sl_type_decimal(10, 2), false), SL_OK);
    assert_int_equal(sl_schema_add(pinned, "extra", sl_type_of(SL_TYPE_DATE), true), SL_OK);
    assert_int_equal(sl_schema_add(pinned, "id_2", sl_type_of(SL_TYPE_STRING), true), SL_OK);
    sl_infer_opts o;
    sl_infer_opts_default(&o);
    o.pinned = pinned;
    sl_schema *s;
    const sl_rowblock *blocks[] = {&t->blk};
    assert_int_equal(sl_infer_schema(blocks, 1, names, 5, &o, &s), SL_OK);
    assert_int_equal(s->nfields, 6);
    static const char *const want_names[] = {"id",   "column2",   "amount",
                                             "id_2", "column2_2", "extra"};
    static const char *const want_types[] = {"int64",  "string", "decimal(10,2)",
                                             "string", "string", "date"};
    for (size_t i = 0; i < 6; i++) {
        char got[64];
        assert_string_equal(s->fields[i].name, want_names[i]);
        type_name(s->fields[i].type, got);
        assert_string_equal(got, want_types[i]);
    }
    assert_false(s->fields[2].nullable); /* pinned as given */
    assert_true(s->fields[0].nullable);
    sl_schema_destroy(s);
    sl_schema_destroy(pinned);
    tb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_widening_across_blocks),
        cmocka_unit_test(test_pinning_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
