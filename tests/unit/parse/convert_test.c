/* convert_test.c: tests of src/parse/convert.c on hand-built sl_rowblocks.
 *
 * Blocks are made as a CSV parser would make them: the text holds the raw records, cells point
 * into it (quoted fields as STRING cells without their quotes), rec_off/rec_len give each
 * record. Checked: bad rows (by the parser or by any column) are removed from every column,
 * rows already in the batch stay, stats and reject reports (line, field, column, code, detail,
 * raw) are right, errors roll the batch back, and the rejects NDJSON is exact.
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
#include "sluice.h"

/* ---- building blocks ---- */

typedef struct {
    sl_rowblock blk;
    char text[1 << 17];
    size_t len;
} tblock;

/* Adds a record from fields: NULL = missing cell, "\"..." = quoted (STRING cell, quotes in the
 * raw text), anything else = TEXT. The raw record is the fields joined by ','. */
static size_t add_row(tblock *t, uint64_t line, const char *const *fields, size_t n)
{
    size_t rec = t->len;
    size_t r = sl_rowblock_add_row(&t->blk, line, (uint32_t)rec, 0);
    sl_cell *cells = t->blk.cells + r * t->blk.ncols;
    for (size_t i = 0; i < n; i++) {
        if (i)
            t->text[t->len++] = ',';
        const char *f = fields[i];
        if (!f)
            continue;
        bool quoted = f[0] == '"';
        if (quoted)
            f++;
        size_t fl = strlen(f);
        if (quoted)
            t->text[t->len++] = '"';
        cells[i] =
            (sl_cell){(uint32_t)t->len, (uint32_t)fl, quoted ? SL_CELL_STRING : SL_CELL_TEXT, 0, 0};
        memcpy(t->text + t->len, f, fl);
        t->len += fl;
        if (quoted)
            t->text[t->len++] = '"';
    }
    t->blk.rec_len[r] = (uint32_t)(t->len - rec);
    t->text[t->len++] = '\n';
    t->blk.text = (const uint8_t *)t->text;
    t->blk.text_len = t->len;
    return r;
}

static tblock *tb_new(size_t ncols, size_t cap)
{
    tblock *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_int_equal(sl_rowblock_init(&t->blk, ncols, cap), SL_OK);
    return t;
}

static void tb_free(tblock *t)
{
    sl_rowblock_release(&t->blk);
    free(t);
}

/* ---- collecting rejects ---- */

typedef struct {
    uint64_t line;
    sl_row_code code;
    char field[32];
    int32_t field_index;
    uint32_t column;
    char detail[128];
    char raw[128];
} rej_copy;

typedef struct {
    rej_copy v[64];
    size_t n;
    size_t fail_at; /* return SL_IO at this report (1-based), 0 = never */
} rej_log;

static sl_err log_reject(void *ctx, const sl_reject *r)
{
    rej_log *l = ctx;
    assert_true(l->n < 64);
    rej_copy *c = &l->v[l->n++];
    c->line = r->line;
    c->code = r->code;
    snprintf(c->field, sizeof(c->field), "%s", r->field ? r->field : "-");
    c->field_index = r->field_index;
    c->column = r->column;
    snprintf(c->detail, sizeof(c->detail), "%s", r->detail);
    snprintf(c->raw, sizeof(c->raw), "%.*s", (int)r->raw_len, (const char *)r->raw);
    assert_string_equal(r->message, sl_row_code_message(r->code));
    if (l->fail_at && l->n == l->fail_at)
        return SL_IO;
    return SL_OK;
}

/* ---- column access ---- */

static int64_t i64_at(const sl_column *c, size_t r)
{
    int64_t v;
    memcpy(&v, c->data + r * 8, 8);
    return v;
}

static void str_at(const sl_column *c, size_t r, const char *want)
{
    size_t n = c->offsets[r + 1] - c->offsets[r];
    if (n != strlen(want) || memcmp(c->bytes + c->offsets[r], want, n))
        fail_msg("row %zu: '%.*s', want '%s'", r, (int)n, (const char *)c->bytes + c->offsets[r],
                 want);
}

static bool null_at(const sl_column *c, size_t r)
{
    return c->nullable && !c->valid[r];
}

/* ---- tests ---- */

static sl_schema *orders_schema(void)
{
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "id", sl_type_of(SL_TYPE_INT64), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "name", sl_type_of(SL_TYPE_STRING), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "amount", sl_type_decimal(10, 2), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "ts", sl_type_timestamp(SL_UNIT_US, true), true), SL_OK);
    return s;
}

static void test_bad_rows_removed(void **state)
{
    (void)state;
    sl_schema *s = orders_schema();
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    rej_log log = {0};
    sl_converter_opts o;
    sl_converter_opts_default(&o);
    o.on_reject = log_reject;
    o.reject_ctx = &log;
    sl_converter *cv;
    assert_int_equal(sl_converter_create(s, &o, &cv), SL_OK);

    tblock *t = tb_new(4, 16);
    static const char *const rows[][4] = {
        {"1", "\"alice", "10.50", "2024-01-01T00:00:00Z"},
        {"x", "\"bob", "1.00", "2024-01-01T00:00:01Z"},        /* id: TYPE */
        {"3", "carol", "", "2024-01-01T00:00:02Z"},            /* amount null */
        {"4", "\"dave", "1.234", "2024-01-01T00:00:03Z"},      /* amount: RANGE */
        {"5", "", "2.5", ""},                                  /* nulls */
        {"6", "\"eve", "99999999.99", "2024-13-01T00:00:00Z"}, /* ts: RANGE */
        {"y", "\"fay", "bad", "bad"},                          /* id first: TYPE */
        {"8", "\"gil", "0", "2024-01-01"},
    };
    for (size_t r = 0; r < 8; r++)
        add_row(t, 10 + r * 2, rows[r], 4);
    sl_convert_stats st = {0};
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_OK);
    assert_int_equal(sl_batch_check(b), SL_OK);
    assert_int_equal(sl_batch_rows(b), 4);
    const sl_column *id = &b->cols[0], *name = &b->cols[1], *amt = &b->cols[2], *ts = &b->cols[3];
    assert_true(i64_at(id, 0) == 1 && i64_at(id, 1) == 3 && i64_at(id, 2) == 5 &&
                i64_at(id, 3) == 8);
    str_at(name, 0, "alice");
    str_at(name, 1, "carol");
    assert_true(null_at(name, 2));
    str_at(name, 3, "gil");
    assert_int_equal(name->null_count, 1);
    assert_int_equal(name->bytes_len, strlen("alicecarolgil"));
    assert_true(i64_at(amt, 0) == 1050 && null_at(amt, 1) && i64_at(amt, 2) == 250 &&
                i64_at(amt, 3) == 0);
    assert_int_equal(amt->null_count, 1);
    assert_true(i64_at(ts, 0) == 1704067200000000 && i64_at(ts, 1) == 1704067202000000 &&
                null_at(ts, 2) && i64_at(ts, 3) == 1704067200000000);
    assert_int_equal(ts->null_count, 1);

    assert_int_equal(st.rows, 8);
    assert_int_equal(st.rows_ok, 4);
    assert_int_equal(st.rows_rejected, 4);
    assert_int_equal(st.rejected_parse, 0);
    assert_int_equal(st.by_code[SL_ROW_TYPE], 2);
    assert_int_equal(st.by_code[SL_ROW_RANGE], 2);

    assert_int_equal(log.n, 4);
    assert_int_equal(log.v[0].line, 12);
    assert_int_equal(log.v[0].code, SL_ROW_TYPE);
    assert_string_equal(log.v[0].field, "id");
    assert_int_equal(log.v[0].field_index, 0);
    assert_int_equal(log.v[0].column, 1);
    assert_string_equal(log.v[0].detail, "x is not an integer");
    assert_string_equal(log.v[0].raw, "x,\"bob\",1.00,2024-01-01T00:00:01Z");
    assert_int_equal(log.v[1].line, 16);
    assert_string_equal(log.v[1].field, "amount");
    assert_int_equal(log.v[1].column, 3);
    assert_int_equal(log.v[1].code, SL_ROW_RANGE);
    assert_string_equal(log.v[1].detail, "1.234 has too many decimal places for decimal(10,2)");
    assert_int_equal(log.v[2].line, 20);
    assert_string_equal(log.v[2].field, "ts");
    assert_int_equal(log.v[2].column, 4);
    assert_string_equal(log.v[2].detail, "2024-13-01T00:00:00Z has no such month");
    assert_int_equal(log.v[3].line, 22);
    assert_string_equal(log.v[3].field, "id"); /* the first failing column only */

    /* a second block is appended after the rows already there */
    sl_rowblock_clear(&t->blk);
    t->len = 0;
    static const char *const more[][4] = {
        {"9", "\"hal", "1", "2024-01-02T00:00:00Z"},
        {"10", "\"ivy", "1e400", "2024-01-02T00:00:00Z"},
        {"11", "\"jo", "3", "2024-01-02T00:00:00+01:00"},
    };
    for (size_t r = 0; r < 3; r++)
        add_row(t, 100 + r, more[r], 4);
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_OK);
    assert_int_equal(sl_batch_rows(b), 6);
    assert_true(i64_at(id, 3) == 8 && i64_at(id, 4) == 9 && i64_at(id, 5) == 11);
    str_at(name, 3, "gil");
    str_at(name, 4, "hal");
    str_at(name, 5, "jo");
    assert_true(i64_at(ts, 5) == 1704150000000000);
    assert_int_equal(st.rows, 11);
    assert_int_equal(st.rows_rejected, 5);
    assert_int_equal(log.v[4].line, 101);
    assert_string_equal(log.v[4].detail, "1e400 has too many integer digits for decimal(10,2)");

    sl_converter_destroy(cv);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
    tb_free(t);
}

static void test_parser_rejects_and_map(void **state)
{
    (void)state;
    /* schema order differs from the file; "extra" is ignored; "note" is not in the file */
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "b", sl_type_of(SL_TYPE_INT32), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "a", sl_type_of(SL_TYPE_STRING), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "note", sl_type_of(SL_TYPE_STRING), true), SL_OK);
    static const char *const header[] = {"a", "extra", "b"};
    int32_t map[3];
    assert_int_equal(sl_convert_map_header(s, header, 3, map), 1);
    assert_int_equal(map[0], 2);
    assert_int_equal(map[1], 0);
    assert_int_equal(map[2], -1);

    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    rej_log log = {0};
    sl_converter_opts o;
    sl_converter_opts_default(&o);
    o.field_map = map;
    o.on_reject = log_reject;
    o.reject_ctx = &log;
    sl_converter *cv;
    assert_int_equal(sl_converter_create(s, &o, &cv), SL_OK);

    tblock *t = tb_new(3, 8);
    static const char *const rows[][3] = {
        {"x", "zz", "1"},
        {"y", "zz", "2"},
        {"z", "zz", "3"},
        {"w", "zz", "99999999999"},
    };
    for (size_t r = 0; r < 4; r++)
        add_row(t, r + 2, rows[r], 3);
    sl_rowblock_reject(&t->blk, 1, SL_ROW_RAGGED, 0, -1, "expected 3 fields, got 4");
    sl_rowblock_reject(&t->blk, 2, SL_ROW_UTF8, 2, 1, "at byte 7");
    sl_convert_stats st = {0};
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_OK);
    assert_int_equal(sl_batch_rows(b), 1);
    assert_int_equal(sl_batch_check(b), SL_OK);
    int32_t v;
    memcpy(&v, b->cols[0].data, 4);
    assert_int_equal(v, 1);
    str_at(&b->cols[1], 0, "x");
    assert_true(null_at(&b->cols[2], 0));
    assert_int_equal(st.rows, 4);
    assert_int_equal(st.rows_ok, 1);
    assert_int_equal(st.rows_rejected, 3);
    assert_int_equal(st.rejected_parse, 2);
    assert_int_equal(st.by_code[SL_ROW_RAGGED], 1);
    assert_int_equal(st.by_code[SL_ROW_UTF8], 1);
    assert_int_equal(st.by_code[SL_ROW_RANGE], 1);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.v[0].code, SL_ROW_RAGGED);
    assert_int_equal(log.v[0].line, 3);
    assert_string_equal(log.v[0].field, "-");
    assert_int_equal(log.v[0].field_index, -1);
    assert_string_equal(log.v[0].detail, "expected 3 fields, got 4");
    assert_int_equal(log.v[1].code, SL_ROW_UTF8);
    assert_string_equal(log.v[1].field, "a");
    assert_int_equal(log.v[1].column, 2);
    assert_int_equal(log.v[2].code, SL_ROW_RANGE);
    assert_string_equal(log.v[2].field, "b");
    assert_int_equal(log.v[2].column, 3); /* the field number in the file */
    assert_string_equal(log.v[2].detail, "99999999999 out of range for int32");
    assert_string_equal(log.v[2].raw, "w,zz,99999999999");
    sl_converter_destroy(cv);

    /* a non-nullable column no field feeds: every row is MISSING */
    map[0] = -1;
    log.n = 0;
    assert_int_equal(sl_converter_create(s, &o, &cv), SL_OK);
    sl_batch_clear(b);
    memset(&st, 0, sizeof(st));
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_OK);
    assert_int_equal(sl_batch_rows(b), 0);
    assert_int_equal(st.by_code[SL_ROW_MISSING], 2);
    assert_int_equal(log.v[0].code, SL_ROW_MISSING);
    assert_string_equal(log.v[0].field, "b");
    assert_int_equal(log.v[0].column, 0);
    sl_converter_destroy(cv);

    /* bad maps */
    map[0] = -2;
    assert_int_equal(sl_converter_create(s, &o, &cv), SL_INVALID);
    map[0] = 3; /* the block has 3 cells */
    assert_int_equal(sl_converter_create(s, &o, &cv), SL_OK);
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_INVALID);
    sl_converter_destroy(cv);

    sl_batch_destroy(b);
    sl_schema_destroy(s);
    tb_free(t);
}

static void test_rollback(void **state)
{
    (void)state;
    sl_schema *s = orders_schema();
    sl_batch *b, *other;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    rej_log log = {0};
    log.fail_at = 2;
    sl_converter_opts o;
    sl_converter_opts_default(&o);
    o.on_reject = log_reject;
    o.reject_ctx = &log;
    sl_converter *cv;
    assert_int_equal(sl_converter_create(s, &o, &cv), SL_OK);
    tblock *t = tb_new(4, 8);
    static const char *const rows[][4] = {
        {"1", "a", "1", "2024-01-01"},
        {"x", "b", "1", "2024-01-01"},
        {"3", "c", "1", "2024-01-01"},
        {"y", "d", "1", "2024-01-01"},
    };
    add_row(t, 1, rows[0], 4);
    sl_convert_stats st = {0};
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_OK);
    for (size_t r = 1; r < 4; r++)
        add_row(t, r + 1, rows[r], 4);
    sl_convert_stats before = st;
    /* the second reject fails: the block is undone, stats unchanged */
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_IO);
    assert_int_equal(sl_batch_rows(b), 1);
    assert_int_equal(sl_batch_check(b), SL_OK);
    assert_int_equal(b->cols[1].bytes_len, 1);
    assert_memory_equal(&st, &before, sizeof(st));
    /* a batch of another shape */
    sl_schema *s2;
    assert_int_equal(sl_schema_create(&s2), SL_OK);
    assert_int_equal(sl_schema_add(s2, "x", sl_type_of(SL_TYPE_INT64), true), SL_OK);
    assert_int_equal(sl_batch_create(s2, &other), SL_OK);
    assert_int_equal(sl_convert_block(cv, &t->blk, other, NULL), SL_INVALID);
    sl_batch_destroy(other);
    sl_schema_destroy(s2);
    /* an empty block is a no-op */
    sl_rowblock_clear(&t->blk);
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_OK);
    assert_int_equal(sl_batch_rows(b), 1);
    sl_converter_destroy(cv);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
    tb_free(t);
}

static void test_json_source_columns(void **state)
{
    (void)state;
    /* JSON Lines: cells are schema columns; the reject column is the value's byte column */
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "id", sl_type_of(SL_TYPE_INT64), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "tags", sl_type_of(SL_TYPE_JSON), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "ok", sl_type_of(SL_TYPE_BOOL), true), SL_OK);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    rej_log log = {0};
    sl_converter_opts o;
    sl_converter_opts_default(&o);
    o.coerce.json_source = true;
    o.on_reject = log_reject;
    o.reject_ctx = &log;
    sl_converter *cv;
    assert_int_equal(sl_converter_create(s, &o, &cv), SL_OK);
    tblock *t = tb_new(3, 4);
    const char *rec0 = "{\"id\":1,\"tags\":[\"a\", \"b\"],\"ok\":true}";
    const char *rec1 = "{\"id\":1.5,\"tags\":\"x\"}";
    memcpy(t->text, rec0, strlen(rec0));
    memcpy(t->text + 100, rec1, strlen(rec1));
    t->blk.text = (const uint8_t *)t->text;
    size_t r = sl_rowblock_add_row(&t->blk, 1, 0, (uint32_t)strlen(rec0));
    sl_cell *c = t->blk.cells + r * 3;
    c[0] = (sl_cell){6, 1, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, 0};
    c[1] = (sl_cell){15, 10, SL_CELL_NESTED, 0, 0};
    c[2] = (sl_cell){31, 4, SL_CELL_TEXT, SL_CELLF_JSON_TRUE, 0};
    r = sl_rowblock_add_row(&t->blk, 2, 100, (uint32_t)strlen(rec1));
    c = t->blk.cells + r * 3;
    c[0] = (sl_cell){106, 3, SL_CELL_TEXT, SL_CELLF_JSON_NUMBER, 0};
    c[1] = (sl_cell){118, 1, SL_CELL_STRING, 0, 0};
    assert_int_equal(sl_convert_block(cv, &t->blk, b, NULL), SL_OK);
    assert_int_equal(sl_batch_rows(b), 1);
    str_at(&b->cols[1], 0, "[\"a\", \"b\"]");
    assert_int_equal(b->cols[2].data[0], 1);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.v[0].field, "id");
    assert_int_equal(log.v[0].column, 7); /* {"id":1.5 -> the value starts at byte 7 */
    assert_string_equal(log.v[0].detail, "1.5 is not an integer");
    sl_converter_destroy(cv);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
    tb_free(t);
}

/* Many rows, random bad ones, every kind of column: compaction keeps the right values. */
static void test_compaction_random(void **state)
{
    (void)state;
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "i", sl_type_of(SL_TYPE_INT64), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "s", sl_type_of(SL_TYPE_STRING), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "d", sl_type_of(SL_TYPE_DOUBLE), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "b", sl_type_of(SL_TYPE_BOOL), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "x", sl_type_decimal(30, 3), true), SL_OK);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    sl_converter *cv;
    assert_int_equal(sl_converter_create(s, NULL, &cv), SL_OK);
    tblock *t = tb_new(5, 2000);
    uint64_t seed = 12345;
    size_t want_rows = 0;
    int64_t want_i[2000];
    bool want_bad[2000];
    char fields[5][40];
    for (size_t r = 0; r < 2000; r++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(seed >> 33) % 40;
        snprintf(fields[0], 40, k == 0 ? "bad%zu" : "%zu", r);
        if (k % 7 == 1)
            fields[1][0] = 0;
        else
            snprintf(fields[1], 40, "\"v%zu", r);
        snprintf(fields[2], 40, k == 2 ? "1e999" : "%zu.5", r);
        snprintf(fields[3], 40, "%s", k == 3 ? "maybe" : (r & 1) ? "true" : "f");
        snprintf(fields[4], 40, k == 4 ? "1.0001" : "-%zu.125", r);
        const char *fp[5] = {fields[0], fields[1], fields[2], fields[3], fields[4]};
        add_row(t, r + 1, fp, 5);
        if (k == 5)
            sl_rowblock_reject(&t->blk, r, SL_ROW_SYNTAX, 1, -1, "");
        want_bad[r] = k == 0 || (k >= 2 && k <= 5); /* k % 7 == 1: only a null name */
        if (!want_bad[r])
            want_i[want_rows++] = (int64_t)r;
    }
    sl_convert_stats st = {0};
    assert_int_equal(sl_convert_block(cv, &t->blk, b, &st), SL_OK);
    assert_int_equal(sl_batch_check(b), SL_OK);
    assert_int_equal(sl_batch_rows(b), want_rows);
    assert_int_equal(st.rows_rejected, 2000 - want_rows);
    size_t nulls = 0;
    for (size_t k = 0; k < want_rows; k++) {
        size_t r = (size_t)want_i[k];
        assert_true(i64_at(&b->cols[0], k) == (int64_t)r);
        char buf[40];
        if (null_at(&b->cols[1], k)) {
            nulls++;
        } else {
            snprintf(buf, sizeof(buf), "v%zu", r);
            str_at(&b->cols[1], k, buf);
        }
        double d;
        memcpy(&d, b->cols[2].data + k * 8, 8);
        assert_true(d == (double)r + 0.5);
        assert_int_equal(b->cols[3].data[k], r & 1);
        __int128 x;
        memcpy(&x, b->cols[4].data + k * 16, 16);
        assert_true(x == -((__int128)r * 1000 + 125));
    }
    assert_int_equal(b->cols[1].null_count, nulls);
    assert_int_equal(b->cols[2].null_count, 0);
    sl_converter_destroy(cv);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
    tb_free(t);
}

static void test_reject_ndjson(void **state)
{
    (void)state;
    sl_buf out;
    sl_buf_init(&out, 0);
    sl_reject r = {0};
    r.line = 12;
    r.code = SL_ROW_RANGE;
    r.message = sl_row_code_message(SL_ROW_RANGE);
    r.detail = "1e400 out of range for double";
    r.field = "amount";
    r.field_index = 2;
    r.column = 3;
    r.raw = (const uint8_t *)"a,\"b\\c\",1e400\t";
    r.raw_len = strlen((const char *)r.raw);
    assert_int_equal(sl_reject_format_ndjson(&out, &r), SL_OK);
    const char *want1 = "{\"line\":12,\"column\":3,\"field\":\"amount\",\"code\":\"range\","
                        "\"reason\":\"value out of range: 1e400 out of range for double\","
                        "\"raw\":\"a,\\\"b\\\\c\\\",1e400\\t\"}\n";
    assert_int_equal(out.len, strlen(want1));
    assert_memory_equal(out.ptr, want1, out.len);
    /* unknown column and field, no detail, raw not UTF-8 */
    out.len = 0;
    r.code = SL_ROW_UTF8;
    r.message = NULL;
    r.detail = "";
    r.field = NULL;
    r.column = 0;
    r.raw = (const uint8_t *)"ab\xff";
    r.raw_len = 3;
    assert_int_equal(sl_reject_format_ndjson(&out, &r), SL_OK);
    const char *want2 = "{\"line\":12,\"column\":null,\"field\":null,\"code\":\"utf8\","
                        "\"reason\":\"invalid UTF-8\",\"raw_base64\":\"YWL/\"}\n";
    assert_int_equal(out.len, strlen(want2));
    assert_memory_equal(out.ptr, want2, out.len);
    /* base64 padding */
    out.len = 0;
    r.raw = (const uint8_t *)"\xff\xfe\xfd\xfc";
    r.raw_len = 4;
    assert_int_equal(sl_reject_format_ndjson(&out, &r), SL_OK);
    assert_non_null(strstr((const char *)out.ptr, "\"raw_base64\":\"//79/A==\""));
    /* a capped buffer: SL_FULL and nothing appended */
    sl_buf small;
    sl_buf_init(&small, 20);
    assert_int_equal(sl_reject_format_ndjson(&small, &r), SL_FULL);
    assert_int_equal(small.len, 0);
    sl_buf_release(&small);
    sl_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_rows_removed),  cmocka_unit_test(test_parser_rejects_and_map),
        cmocka_unit_test(test_rollback),          cmocka_unit_test(test_json_source_columns),
        cmocka_unit_test(test_compaction_random), cmocka_unit_test(test_reject_ndjson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
