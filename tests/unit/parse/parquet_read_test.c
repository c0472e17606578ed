/* parquet_read_test.c: tests of src/parse/parquet_read.c.
 *
 * - Round trips through our writer: every type, nulls, every codec, v1 and v2 pages,
 *   dictionary, no dictionary and dictionary fallback, many pages and row groups, 0 rows, and
 *   several batch sizes; the read batch must equal the written one slot for slot.
 * - Hand-made files (page header + body + footer built here) for what our writer never emits:
 *   DELTA_BINARY_PACKED / DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY with the spec's examples,
 *   BYTE_STREAM_SPLIT, RLE booleans, BIT_PACKED levels, INT96, UINT_32/64, FLOAT16, Hadoop LZ4,
 *   page CRCs, nested and unsupported columns.
 * - Model mapping: widening, rescaling, per-row rejects (row numbers, codes), mismatches.
 * - Corrupt input: bad magic, truncation, lying lengths and offsets, dictionary indexes out of
 *   range, and every single-byte flip of a small file (must never crash; ASan/UBSan build).
 * Values from other writers are tests/integration/parquet_read.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lz4.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "encode/parquet/pq_meta.h"
#include "parse/parquet_read.h"
#include "sluice.h"
#include "util/buf.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static sl_err mem_write(void *ctx, const void *p, size_t n)
{
    return sl_buf_append(ctx, p, n);
}

static void write_file(const sl_schema *s, const sl_batch *b, const sl_pq_opts *o, sl_buf *file)
{
    sl_buf_init(file, 0);
    sl_pq_writer *w;
    sl_output out = {mem_write, file};
    assert_int_equal(sl_pq_writer_create(s, o, out, &w), SL_OK);
    if (b && sl_batch_rows(b))
        assert_int_equal(sl_pq_writer_write(w, b), SL_OK);
    assert_int_equal(sl_pq_writer_finish(w), SL_OK);
    sl_pq_writer_destroy(w);
}

static void assert_col_equal(const sl_column *a, const sl_column *b, const char *name)
{
    if (a->len != b->len || a->null_count != b->null_count || a->type.id != b->type.id) {
        print_error("column %s: len %zu/%zu nulls %zu/%zu\n", name, a->len, b->len,
                    a->null_count, b->null_count);
        fail();
    }
    for (size_t r = 0; r < a->len; r++) {
        bool va = !a->nullable || a->valid[r], vb = !b->nullable || b->valid[r];
        if (va != vb) {
            print_error("column %s row %zu: validity %d/%d\n", name, r, va, vb);
            fail();
        }
        if (!va)
            continue;
        if (a->width) {
            if (memcmp(a->data + r * a->width, b->data + r * b->width, a->width)) {
                print_error("column %s row %zu: values differ\n", name, r);
                fail();
            }
        } else {
            uint32_t la = a->offsets[r + 1] - a->offsets[r], lb = b->offsets[r + 1] - b->offsets[r];
            if (la != lb || (la && memcmp(a->bytes + a->offsets[r], b->bytes + b->offsets[r], la))) {
                print_error("column %s row %zu: bytes differ (%u/%u)\n", name, r, la, lb);
                fail();
            }
        }
    }
}

/* Reads the whole file into one batch, max_rows at a time. */
static sl_err read_all(const sl_buf *file, const sl_pq_read_opts *o, sl_batch **out,
                       sl_pq_reader **rout, char *msg, size_t msglen)
{
    sl_pq_reader *r;
    sl_pq_read_error e;
    sl_err err = sl_pq_reader_open_mem(file->ptr, file->len, o, &r, &e);
    if (err) {
        if (msg)
            snprintf(msg, msglen, "%s", e.message);
        return err;
    }
    sl_batch *b;
    assert_int_equal(sl_batch_create(sl_pq_reader_schema(r), &b), SL_OK);
    size_t step = 1000, n;
    while (!(err = sl_pq_reader_next(r, b, step, &n)) && n)
        step = step == 1000 ? 1 : step == 1 ? 333 : 1000;
    if (err && msg)
        snprintf(msg, msglen, "%s", sl_pq_reader_error(r)->message);
    *out = b;
    if (rout)
        *rout = r;
    else
        sl_pq_reader_close(r);
    return err;
}

static sl_schema *all_types_schema(void)
{
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    struct {
        const char *name;
        sl_type t;
    } f[] = {
        {"b", sl_type_of(SL_TYPE_BOOL)},
        {"i32", sl_type_of(SL_TYPE_INT32)},
        {"i64", sl_type_of(SL_TYPE_INT64)},
        {"f32", sl_type_of(SL_TYPE_FLOAT)},
        {"f64", sl_type_of(SL_TYPE_DOUBLE)},
        {"s", sl_type_of(SL_TYPE_STRING)},
        {"bin", sl_type_of(SL_TYPE_BINARY)},
        {"j", sl_type_of(SL_TYPE_JSON)},
        {"d", sl_type_of(SL_TYPE_DATE)},
        {"ts_ms", sl_type_timestamp(SL_UNIT_MS, true)},
        {"ts_us", sl_type_timestamp(SL_UNIT_US, true)},
        {"ts_ns", sl_type_timestamp(SL_UNIT_NS, false)},
        {"dec9", sl_type_decimal(9, 2)},
        {"dec18", sl_type_decimal(18, 4)},
        {"dec38", sl_type_decimal(38, 10)},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s", f[i].name);
        assert_int_equal(sl_schema_add(s, name, f[i].t, true), SL_OK);
        snprintf(name, sizeof(name), "%s_req", f[i].name);
        assert_int_equal(sl_schema_add(s, name, f[i].t, false), SL_OK);
    }
    return s;
}

static uint64_t rnd(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return *st;
}

/* Deterministic rows; `card` limits the distinct values (dictionary-friendly when small). */
static sl_batch *fill(const sl_schema *s, size_t rows, uint64_t card)
{
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    uint64_t st = 88172645463325252ull;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < s->nfields; c++) {
            sl_column *col = &b->cols[c];
            uint64_t x = rnd(&st);
            uint64_t v = card ? x % card : x % 1000000007;
            if (col->nullable && x % 7 == 0) {
                assert_int_equal(sl_col_append_null(col), SL_OK);
                continue;
            }
            int64_t sv = (int64_t)v - (int64_t)(card / 2);
            char txt[64];
            switch (col->type.id) {
            case SL_TYPE_BOOL:
                assert_int_equal(sl_col_append_bool(col, v & 1), SL_OK);
                break;
            case SL_TYPE_INT32:
            case SL_TYPE_DATE:
                assert_int_equal(sl_col_append_i32(col, (int32_t)sv), SL_OK);
                break;
            case SL_TYPE_INT64:
            case SL_TYPE_TIMESTAMP:
                assert_int_equal(sl_col_append_i64(col, card ? sv * 1000003 : (int64_t)x), SL_OK);
                break;
            case SL_TYPE_FLOAT:
                assert_int_equal(sl_col_append_f32(col, (float)sv / 8.0f), SL_OK);
                break;
            case SL_TYPE_DOUBLE:
                assert_int_equal(sl_col_append_f64(col, (double)sv / 3.0), SL_OK);
                break;
            case SL_TYPE_STRING:
            case SL_TYPE_BINARY:
                snprintf(txt, sizeof(txt), "v%llu-\xc3\xa9", (unsigned long long)v);
                assert_int_equal(sl_col_append_bytes(col, txt, strlen(txt) - (v % 3 == 0) * 0),
                                 SL_OK);
                break;
            case SL_TYPE_JSON:
                snprintf(txt, sizeof(txt), "{\"k\":%llu}", (unsigned long long)v);
                assert_int_equal(sl_col_append_bytes(col, txt, strlen(txt)), SL_OK);
                break;
            case SL_TYPE_DECIMAL:
                if (col->type.precision <= 9)
                    assert_int_equal(sl_col_append_i64(col, sv % 999999999), SL_OK);
                else if (col->type.precision <= 18)
                    assert_int_equal(sl_col_append_i64(col, sv * 1000000007), SL_OK);
                else
                    assert_int_equal(sl_col_append_i128(col, (__int128)sv * 1000000000000000007LL *
                                                                 (sv % 5 ? 1 : 99999)),
                                     SL_OK);
                break;
            default:
                fail();
            }
        }
    }
    return b;
}

/* ---- round trips through our writer ----------------------------------------------------------- */

static void round_trip(sl_codec codec, int page_version, size_t dict_bytes, size_t rows,
                       uint64_t card)
{
    sl_schema *s = all_types_schema();
    sl_batch *in = fill(s, rows, card);
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.codec = codec;
    o.page_version = page_version;
    o.dict_bytes = dict_bytes;
    o.page_rows = 97;
    o.row_group_rows = 1500;
    sl_buf file;
    write_file(s, in, &o, &file);
    sl_batch *got;
    sl_pq_reader *r;
    char msg[512] = "";
    sl_err err = read_all(&file, NULL, &got, &r, msg, sizeof(msg));
    if (err)
        print_error("codec %d v%d dict %zu: %s\n", codec, page_version, dict_bytes, msg);
    assert_int_equal(err, SL_OK);
    assert_int_equal(sl_pq_reader_num_rows(r), rows);
    assert_int_equal(sl_pq_reader_rows_read(r), rows);
    assert_int_equal(sl_pq_reader_num_row_groups(r), (rows + 1499) / 1500);
    const sl_schema *fs = sl_pq_reader_schema(r);
    assert_int_equal(fs->nfields, s->nfields);
    for (size_t i = 0; i < s->nfields; i++) {
        assert_string_equal(fs->fields[i].name, s->fields[i].name);
        char a[48], b[48];
        sl_type_format(fs->fields[i].type, a, sizeof(a));
        sl_type_format(s->fields[i].type, b, sizeof(b));
        assert_string_equal(a, b);
        assert_int_equal(fs->fields[i].nullable, s->fields[i].nullable);
        assert_col_equal(&in->cols[i], &got->cols[i], s->fields[i].name);
    }
    sl_pq_reader_close(r);
    sl_batch_destroy(got);
    sl_batch_destroy(in);
    sl_buf_release(&file);
    sl_schema_destroy(s);
}

static void test_round_trip_codecs(void **state)
{
    (void)state;
    for (int c = 0; c < SL_CODEC_COUNT; c++)
        for (int v = 1; v <= 2; v++)
            round_trip((sl_codec)c, v, 1 << 20, 3100, 50);
}

static void test_round_trip_dictionary_modes(void **state)
{
    (void)state;
    round_trip(SL_CODEC_SNAPPY, 1, 0, 2000, 50);       /* no dictionary */
    round_trip(SL_CODEC_ZSTD, 2, 0, 2000, 0);          /* no dictionary, all distinct */
    round_trip(SL_CODEC_SNAPPY, 1, 300, 4000, 400);    /* dictionary, then PLAIN fallback */
    round_trip(SL_CODEC_NONE, 2, 300, 4000, 400);
    round_trip(SL_CODEC_GZIP, 1, 1 << 20, 4000, 0);    /* high cardinality: dictionary dropped */
    round_trip(SL_CODEC_NONE, 1, 1 << 20, 1, 3);       /* one row */
}

static void test_zero_rows(void **state)
{
    (void)state;
    sl_schema *s = all_types_schema();
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    sl_buf file;
    write_file(s, NULL, &o, &file);
    sl_batch *got;
    sl_pq_reader *r;
    assert_int_equal(read_all(&file, NULL, &got, &r, NULL, 0), SL_OK);
    assert_int_equal(sl_batch_rows(got), 0);
    assert_int_equal(sl_pq_reader_num_rows(r), 0);
    assert_int_equal(sl_pq_reader_schema(r)->nfields, s->nfields);
    assert_non_null(strstr(sl_pq_reader_created_by(r), "sluice"));
    size_t n = 5;
    assert_int_equal(sl_pq_reader_next(r, got, 10, &n), SL_OK);
    assert_int_equal(n, 0);
    sl_pq_reader_close(r);
    sl_batch_destroy(got);
    sl_buf_release(&file);
    sl_schema_destroy(s);
}

/* ---- model mapping -------------------------------------------------------------------------------- */

typedef struct {
    size_t n;
    uint64_t rows[64];
    sl_row_code codes[64];
    char fields[64][32];
    char details[64][96];
} rejects;

static sl_err collect(void *ctx, const sl_pq_reject *rej)
{
    rejects *x = ctx;
    if (x->n < 64) {
        x->rows[x->n] = rej->row;
        x->codes[x->n] = rej->code;
        snprintf(x->fields[x->n], sizeof(x->fields[0]), "%s", rej->field);
        snprintf(x->details[x->n], sizeof(x->details[0]), "%s", rej->detail);
    }
    x->n++;
    return SL_OK;
}

/* A small file: id int32 required, v int64 optional, ts timestamp[us] UTC, dec decimal(9,3),
 * name string, f float; rows chosen to exercise the conversions. */
static void small_file(sl_buf *file)
{
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "id", sl_type_of(SL_TYPE_INT32), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "v", sl_type_of(SL_TYPE_INT64), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "ts", sl_type_timestamp(SL_UNIT_US, true), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "dec", sl_type_decimal(9, 3), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "name", sl_type_of(SL_TYPE_STRING), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "f", sl_type_of(SL_TYPE_FLOAT), false), SL_OK);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    /* row: id, v (null if INT64_MIN), ts, dec (unscaled), name */
    const int64_t vs[] = {1, INT64_MIN, (int64_t)1 << 40, -5, 7};
    const int64_t ts[] = {1000, 1001, -2000, 0, 123456000};
    const int64_t dec[] = {1500, 1, -999999999, 0, 20};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sl_col_append_i32(&b->cols[0], i + 1), SL_OK);
        if (vs[i] == INT64_MIN)
            assert_int_equal(sl_col_append_null(&b->cols[1]), SL_OK);
        else
            assert_int_equal(sl_col_append_i64(&b->cols[1], vs[i]), SL_OK);
        assert_int_equal(sl_col_append_i64(&b->cols[2], ts[i]), SL_OK);
        assert_int_equal(sl_col_append_i64(&b->cols[3], dec[i]), SL_OK);
        assert_int_equal(sl_col_append_bytes(&b->cols[4], "abc", (size_t)(i % 4)), SL_OK);
        assert_int_equal(sl_col_append_f32(&b->cols[5], 0.5f * (float)i), SL_OK);
    }
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    write_file(s, b, &o, file);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

static sl_schema *model_of(const char *json)
{
    sl_schema *s;
    char msg[256];
    sl_err err = sl_schema_from_json(json, strlen(json), &s, msg, sizeof(msg));
    if (err)
        print_error("%s\n", msg);
    assert_int_equal(err, SL_OK);
    return s;
}

static int64_t i64_at(const sl_column *c, size_t r)
{
    int64_t v;
    memcpy(&v, c->data + r * 8, 8);
    return v;
}

static void test_model_mapping(void **state)
{
    (void)state;
    sl_buf file;
    small_file(&file);
    /* widening, rescale, unit change, reordering, a missing nullable column, string->binary */
    sl_schema *m = model_of(
        "{\"fields\":[{\"name\":\"f\",\"type\":\"double\"},"
        "{\"name\":\"id\",\"type\":\"int64\",\"nullable\":false},"
        "{\"name\":\"ts\",\"type\":\"timestamp[ns, UTC]\"},"
        "{\"name\":\"dec\",\"type\":\"decimal(12,5)\"},"
        "{\"name\":\"extra\",\"type\":\"string\"},"
        "{\"name\":\"name\",\"type\":\"binary\"},"
        "{\"name\":\"v\",\"type\":\"decimal(20,0)\"}]}");
    sl_pq_read_opts o;
    sl_pq_read_opts_default(&o);
    o.model = m;
    sl_batch *b;
    char msg[512] = "";
    assert_int_equal(read_all(&file, &o, &b, NULL, msg, sizeof(msg)), SL_OK);
    assert_int_equal(sl_batch_rows(b), 5);
    double f;
    memcpy(&f, b->cols[0].data + 8 * 3, 8);
    assert_true(f == 1.5);
    assert_int_equal(i64_at(&b->cols[1], 4), 5);
    assert_int_equal(i64_at(&b->cols[2], 2), -2000000);
    assert_int_equal(i64_at(&b->cols[3], 0), 150000);
    assert_int_equal(i64_at(&b->cols[3], 2), -99999999900);
    assert_int_equal(b->cols[4].null_count, 5);
    assert_int_equal(b->cols[5].offsets[4] - b->cols[5].offsets[3], 3);
    __int128 v;
    memcpy(&v, b->cols[6].data + 16 * 2, 16);
    assert_true(v == ((__int128)1 << 40));
    assert_int_equal(b->cols[6].null_count, 1);
    sl_batch_destroy(b);
    sl_schema_destroy(m);
    sl_buf_release(&file);
}

static void test_model_row_rejects(void **state)
{
    (void)state;
    sl_buf file;
    small_file(&file);
    /* v not nullable (row 2 is null), ts in ms (row 2 has 1001 us: loses precision), dec(5,1)
     * (1500 -> 15.0 ok; 1 = 0.001 loses precision; -999999.999 out of range), v as int32
     * (2^40 out of range) */
    sl_schema *m = model_of("{\"fields\":[{\"name\":\"id\",\"type\":\"int32\",\"nullable\":false},"
                            "{\"name\":\"v\",\"type\":\"int32\",\"nullable\":false},"
                            "{\"name\":\"ts\",\"type\":\"timestamp[ms, UTC]\"},"
                            "{\"name\":\"dec\",\"type\":\"decimal(5,1)\"}]}");
    sl_pq_read_opts o;
    sl_pq_read_opts_default(&o);
    o.model = m;
    rejects rj = {0};
    o.on_reject = collect;
    o.reject_ctx = &rj;
    sl_batch *b;
    sl_pq_reader *r;
    char msg[512] = "";
    assert_int_equal(read_all(&file, &o, &b, &r, msg, sizeof(msg)), SL_OK);
    /* rows 2 (v null), 3 (v 2^40), 5 (dec 0.020 -> ok? 20/100 no: loses precision) are bad;
     * rows 1 and 4 stay */
    assert_int_equal(rj.n, 3);
    assert_int_equal(rj.rows[0], 2);
    assert_int_equal(rj.codes[0], SL_ROW_NULL_VALUE);
    assert_string_equal(rj.fields[0], "v");
    assert_int_equal(rj.rows[1], 3);
    assert_int_equal(rj.codes[1], SL_ROW_RANGE);
    assert_string_equal(rj.fields[1], "v");
    assert_int_equal(rj.rows[2], 5);
    assert_int_equal(rj.codes[2], SL_ROW_RANGE);
    assert_string_equal(rj.fields[2], "dec");
    assert_non_null(strstr(rj.details[2], "precision"));
    assert_int_equal(sl_batch_rows(b), 2);
    assert_int_equal(sl_pq_reader_rows_rejected(r), 3);
    int32_t id;
    memcpy(&id, b->cols[0].data + 4, 4);
    assert_int_equal(id, 4);
    sl_pq_reader_close(r);
    sl_batch_destroy(b);

    /* without a handler the first bad row fails the read, naming row and column */
    o.on_reject = NULL;
    assert_int_equal(read_all(&file, &o, &b, NULL, msg, sizeof(msg)), SL_FORMAT);
    assert_non_null(strstr(msg, "row 2, column 'v'"));
    assert_int_equal(sl_batch_rows(b), 0);
    sl_batch_destroy(b);
    sl_schema_destroy(m);
    sl_buf_release(&file);
}

static void expect_open_error(const sl_buf *file, const sl_pq_read_opts *o, sl_err code,
                              const char *needle)
{
    sl_pq_reader *r = (sl_pq_reader *)1;
    sl_pq_read_error e;
    sl_err err = sl_pq_reader_open_mem(file->ptr, file->len, o, &r, &e);
    if (err != code || !strstr(e.message, needle))
        print_error("got %d '%s' (hint '%s'), want %d '%s'\n", err, e.message, e.hint, code,
                    needle);
    assert_int_equal(err, code);
    assert_null(r);
    assert_non_null(strstr(e.message, needle));
}

static void test_model_errors(void **state)
{
    (void)state;
    sl_buf file;
    small_file(&file);
    sl_pq_read_opts o;
    sl_pq_read_opts_default(&o);
    struct {
        const char *model;
        const char *needle;
    } cases[] = {
        {"{\"fields\":[{\"name\":\"missing\",\"type\":\"int64\",\"nullable\":false}]}",
         "missing required column 'missing'"},
        {"{\"fields\":[{\"name\":\"ID\",\"type\":\"int64\",\"nullable\":false}]}",
         "missing required column 'ID'"},
        {"{\"fields\":[{\"name\":\"name\",\"type\":\"int64\"}]}",
         "column 'name': the file has string (Parquet BYTE_ARRAY STRING), the model wants int64"},
        {"{\"fields\":[{\"name\":\"f\",\"type\":\"int32\"}]}", "column 'f': the file has float"},
        {"{\"fields\":[{\"name\":\"ts\",\"type\":\"date\"}]}", "the model wants date"},
        {"{\"fields\":[{\"name\":\"v\",\"type\":\"bool\"}]}", "the model wants bool"},
        {"{\"fields\":[{\"name\":\"dec\",\"type\":\"double\"}]}", "decimal(9,3)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sl_schema *m = model_of(cases[i].model);
        o.model = m;
        expect_open_error(&file, &o, SL_FORMAT, cases[i].needle);
        sl_schema_destroy(m);
    }
    sl_buf_release(&file);
}

/* ---- hand-made files --------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int32_t type;
    int32_t type_length;  /* FLBA */
    int32_t repetition;
    int32_t converted;    /* -1: none */
    int lt;               /* logical kind or 0 */
    int lt_unit;
    bool lt_utc;
    int8_t lt_bits;
    bool lt_signed;
    int32_t codec;
    int page_type;        /* PQ_DATA_PAGE or PQ_DATA_PAGE_V2 */
    int32_t enc;
    int32_t def_enc;      /* v1 */
    int32_t nv;
    int32_t nulls;        /* v2 */
    int32_t def_len;      /* v2: level bytes at the start of body */
    bool crc;
    bool bad_crc;
    const uint8_t *body;  /* page body as stored (compressed if codec says so) */
    size_t nbody;
    size_t usize;         /* uncompressed size; 0 = nbody */
} craft;

static void craft_file(const craft *c, sl_buf *out)
{
    sl_buf_init(out, 0);
    assert_int_equal(sl_buf_append(out, "PAR1", 4), SL_OK);
    sl_pq_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = c->page_type;
    h.compressed_page_size = (int32_t)c->nbody;
    h.uncompressed_page_size = (int32_t)(c->usize ? c->usize : c->nbody);
    if (c->crc) {
        h.has_crc = true;
        h.crc = (int32_t)crc32(0, c->body, (uInt)c->nbody) ^ (c->bad_crc ? 1 : 0);
    }
    if (c->page_type == PQ_DATA_PAGE) {
        h.has_data_page = true;
        h.data_page.num_values = c->nv;
        h.data_page.encoding = c->enc;
        h.data_page.definition_level_encoding = c->def_enc ? c->def_enc : PQ_ENC_RLE;
        h.data_page.repetition_level_encoding = PQ_ENC_RLE;
    } else {
        h.has_data_page_v2 = true;
        h.data_page_v2.num_values = c->nv;
        h.data_page_v2.num_rows = c->nv;
        h.data_page_v2.num_nulls = c->nulls;
        h.data_page_v2.encoding = c->enc;
        h.data_page_v2.definition_levels_byte_length = c->def_len;
        h.data_page_v2.has_is_compressed = true;
        h.data_page_v2.is_compressed = c->codec != 0;
    }
    size_t start = out->len;
    assert_int_equal(sl_pq_page_header_encode(&h, out), SL_OK);
    assert_int_equal(sl_buf_append(out, c->body, c->nbody), SL_OK);
    size_t chunk_len = out->len - start;

    sl_pq_schema_elem el[2];
    memset(el, 0, sizeof(el));
    el[0].name = (sl_pq_bin){(const uint8_t *)"schema", 6};
    el[0].has_num_children = true;
    el[0].num_children = 1;
    el[1].name = (sl_pq_bin){(const uint8_t *)c->name, (uint32_t)strlen(c->name)};
    el[1].has_type = true;
    el[1].type = c->type;
    el[1].has_repetition = true;
    el[1].repetition = c->repetition;
    if (c->type_length) {
        el[1].has_type_length = true;
        el[1].type_length = c->type_length;
    }
    if (c->converted >= 0) {
        el[1].has_converted_type = true;
        el[1].converted_type = c->converted;
    }
    el[1].logical.kind = c->lt;
    el[1].logical.unit = c->lt_unit;
    el[1].logical.utc = c->lt_utc;
    el[1].logical.bit_width = c->lt_bits;
    el[1].logical.is_signed = c->lt_signed;
    int32_t encs[1] = {c->enc};
    sl_pq_bin path[1] = {el[1].name};
    sl_pq_col_chunk cc;
    memset(&cc, 0, sizeof(cc));
    cc.file_offset = (int64_t)start;
    cc.has_meta_data = true;
    cc.meta_data.type = c->type;
    cc.meta_data.nencodings = 1;
    cc.meta_data.encodings = encs;
    cc.meta_data.npath = 1;
    cc.meta_data.path = path;
    cc.meta_data.codec = c->codec;
    cc.meta_data.num_values = c->nv;
    cc.meta_data.total_compressed_size = (int64_t)chunk_len;
    cc.meta_data.total_uncompressed_size = (int64_t)chunk_len;
    cc.meta_data.data_page_offset = (int64_t)start;
    sl_pq_row_group rg;
    memset(&rg, 0, sizeof(rg));
    rg.ncolumns = 1;
    rg.columns = &cc;
    rg.num_rows = c->nv;
    sl_pq_meta m;
    memset(&m, 0, sizeof(m));
    m.version = 1;
    m.nschema = 2;
    m.schema = el;
    m.num_rows = c->nv;
    m.nrow_groups = 1;
    m.row_groups = &rg;
    size_t fstart = out->len;
    assert_int_equal(sl_pq_meta_encode(&m, out), SL_OK);
    uint8_t tail[8];
    uint32_t flen = (uint32_t)(out->len - fstart);
    memcpy(tail, &flen, 4);
    memcpy(tail + 4, "PAR1", 4);
    assert_int_equal(sl_buf_append(out, tail, 8), SL_OK);
}

static craft craft_default(const char *name, int32_t type, int32_t enc, const void *body,
                           size_t n, int32_t nv)
{
    craft c;
    memset(&c, 0, sizeof(c));
    c.name = name;
    c.type = type;
    c.repetition = PQ_REQUIRED;
    c.converted = -1;
    c.page_type = PQ_DATA_PAGE;
    c.enc = enc;
    c.body = body;
    c.nbody = n;
    c.nv = nv;
    return c;
}

static sl_batch *read_craft(const craft *c, sl_err want, const char *needle)
{
    sl_buf file;
    craft_file(c, &file);
    sl_batch *b = NULL;
    char msg[512] = "";
    sl_err err = read_all(&file, NULL, &b, NULL, msg, sizeof(msg));
    if (err != want || (needle && !strstr(msg, needle)))
        print_error("%s: got %d '%s', want %d '%s'\n", c->name, err, msg, want,
                    needle ? needle : "");
    assert_int_equal(err, want);
    if (needle)
        assert_non_null(strstr(msg, needle));
    sl_buf_release(&file);
    return b;
}

static void test_delta_encodings(void **state)
{
    (void)state;
    /* Encodings.md examples */
    static const uint8_t dbp1[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
    craft c = craft_default("a", PQ_INT64, PQ_ENC_DELTA_BINARY_PACKED, dbp1, sizeof(dbp1), 5);
    sl_batch *b = read_craft(&c, SL_OK, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(i64_at(&b->cols[0], (size_t)i), i + 1);
    sl_batch_destroy(b);

    static const uint8_t dbp2[] = {0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 0x02, 0x00, 0x00,
                                   0x00, 0xC0, 0x3F, 0, 0, 0, 0, 0, 0};
    const int32_t want2[] = {7, 5, 3, 1, 2, 3, 4, 5};
    c = craft_default("b", PQ_INT32, PQ_ENC_DELTA_BINARY_PACKED, dbp2, sizeof(dbp2), 8);
    b = read_craft(&c, SL_OK, NULL);
    for (int i = 0; i < 8; i++) {
        int32_t v;
        memcpy(&v, b->cols[0].data + 4 * i, 4);
        assert_int_equal(v, want2[i]);
    }
    sl_batch_destroy(b);
    /* the same stream claiming 9 values runs out */
    c.nv = 9;
    b = read_craft(&c, SL_FORMAT, "DELTA_BINARY_PACKED values are malformed");
    sl_batch_destroy(b);

    static const uint8_t dlba[] = {0x80, 0x01, 0x04, 0x04, 0x0A, 0x00, 0x01, 0x00, 0x00,
                                   0x00, 0x02, 0x00, 0x00, 0x00, 'H', 'e', 'l', 'l', 'o',
                                   'W', 'o', 'r', 'l', 'd', 'F', 'o', 'o', 'b', 'a', 'r',
                                   'A', 'B', 'C', 'D', 'E', 'F'};
    c = craft_default("s", PQ_BYTE_ARRAY, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, dlba, sizeof(dlba), 4);
    c.converted = PQ_CT_UTF8;
    b = read_craft(&c, SL_OK, NULL);
    assert_int_equal(b->cols[0].bytes_len, 22);
    assert_memory_equal(b->cols[0].bytes + b->cols[0].offsets[2], "Foobar", 6);
    assert_int_equal(b->cols[0].offsets[4] - b->cols[0].offsets[3], 6);
    sl_batch_destroy(b);

    static const uint8_t dba[] = {
        /* prefix lengths 0,2,0,3 */
        0x80, 0x01, 0x04, 0x04, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x44, 0x01, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0,
        /* suffix lengths 4,2,6,5 */
        0x80, 0x01, 0x04, 0x04, 0x08, 0x03, 0x03, 0x00, 0x00, 0x00, 0x70, 0x00, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0,
        'a', 'x', 'i', 's', 'l', 'e', 'b', 'a', 'b', 'b', 'l', 'e', 'y', 'h', 'o', 'o', 'd'};
    c = craft_default("s", PQ_BYTE_ARRAY, PQ_ENC_DELTA_BYTE_ARRAY, dba, sizeof(dba), 4);
    b = read_craft(&c, SL_OK, NULL);
    assert_int_equal(b->cols[0].bytes_len, 4 + 4 + 6 + 8);
    assert_memory_equal(b->cols[0].bytes, "axisaxlebabblebabyhood", 22);
    sl_batch_destroy(b);
}

static void test_other_encodings(void **state)
{
    (void)state;
    /* BYTE_STREAM_SPLIT floats 1.0, 2.0 */
    static const uint8_t bss[] = {0, 0, 0, 0, 0x80, 0, 0x3F, 0x40};
    craft c = craft_default("f", PQ_FLOAT, PQ_ENC_BYTE_STREAM_SPLIT, bss, sizeof(bss), 2);
    sl_batch *b = read_craft(&c, SL_OK, NULL);
    float f[2];
    memcpy(f, b->cols[0].data, 8);
    assert_true(f[0] == 1.0f && f[1] == 2.0f);
    sl_batch_destroy(b);

    /* RLE booleans: T F T */
    static const uint8_t rleb[] = {2, 0, 0, 0, 0x03, 0x05};
    c = craft_default("b", PQ_BOOLEAN, PQ_ENC_RLE, rleb, sizeof(rleb), 3);
    b = read_craft(&c, SL_OK, NULL);
    assert_memory_equal(b->cols[0].data, "\1\0\1", 3);
    sl_batch_destroy(b);

    /* deprecated BIT_PACKED definition levels (MSB first): 1 0 1, then PLAIN int32 */
    static const uint8_t bp[] = {0xA0, 7, 0, 0, 0, 9, 0, 0, 0};
    c = craft_default("i", PQ_INT32, PQ_ENC_PLAIN, bp, sizeof(bp), 3);
    c.repetition = PQ_OPTIONAL;
    c.def_enc = PQ_ENC_BIT_PACKED;
    b = read_craft(&c, SL_OK, NULL);
    assert_int_equal(b->cols[0].null_count, 1);
    assert_memory_equal(b->cols[0].valid, "\1\0\1", 3);
    int32_t v;
    memcpy(&v, b->cols[0].data + 8, 4);
    assert_int_equal(v, 9);
    sl_batch_destroy(b);

    /* v2 page: levels 1 0 1 uncompressed (bit-packed run), PLAIN int32 */
    static const uint8_t v2[] = {0x03, 0x05, 7, 0, 0, 0, 9, 0, 0, 0};
    c = craft_default("i", PQ_INT32, PQ_ENC_PLAIN, v2, sizeof(v2), 3);
    c.repetition = PQ_OPTIONAL;
    c.page_type = PQ_DATA_PAGE_V2;
    c.def_len = 2;
    c.nulls = 1;
    c.crc = true;
    b = read_craft(&c, SL_OK, NULL);
    assert_memory_equal(b->cols[0].valid, "\1\0\1", 3);
    sl_batch_destroy(b);
    c.bad_crc = true;
    b = read_craft(&c, SL_FORMAT, "page CRC mismatch");
    sl_batch_destroy(b);

    /* INT96: 1 ns after the epoch, one day after */
    uint8_t i96[24] = {0};
    int64_t nanos = 1;
    int32_t jd = 2440588;
    memcpy(i96, &nanos, 8);
    memcpy(i96 + 8, &jd, 4);
    jd++;
    memcpy(i96 + 20, &jd, 4);
    c = craft_default("t", PQ_INT96, PQ_ENC_PLAIN, i96, sizeof(i96), 2);
    b = read_craft(&c, SL_OK, NULL);
    assert_int_equal(b->cols[0].type.id, SL_TYPE_TIMESTAMP);
    assert_int_equal(b->cols[0].type.unit, SL_UNIT_NS);
    assert_int_equal(i64_at(&b->cols[0], 0), 1);
    assert_int_equal(i64_at(&b->cols[0], 1), 86400000000000LL);
    sl_batch_destroy(b);

    /* UINT_32 -> int64, UINT_64 -> decimal(20,0) */
    static const uint8_t u32[] = {0xFF, 0xFF, 0xFF, 0xFF};
    c = craft_default("u", PQ_INT32, PQ_ENC_PLAIN, u32, sizeof(u32), 1);
    c.converted = 13;
    b = read_craft(&c, SL_OK, NULL);
    assert_int_equal(b->cols[0].type.id, SL_TYPE_INT64);
    assert_int_equal(i64_at(&b->cols[0], 0), 4294967295LL);
    sl_batch_destroy(b);
    static const uint8_t u64[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    c = craft_default("u", PQ_INT64, PQ_ENC_PLAIN, u64, sizeof(u64), 1);
    c.lt = PQ_LT_INTEGER;
    c.lt_bits = 64;
    c.lt_signed = false;
    b = read_craft(&c, SL_OK, NULL);
    assert_int_equal(b->cols[0].type.id, SL_TYPE_DECIMAL);
    __int128 big;
    memcpy(&big, b->cols[0].data, 16);
    assert_true(big == (__int128)UINT64_MAX);
    sl_batch_destroy(b);

    /* FLOAT16 1.0, -2.0 */
    static const uint8_t h16[] = {0x00, 0x3C, 0x00, 0xC0};
    c = craft_default("h", PQ_FIXED_LEN_BYTE_ARRAY, PQ_ENC_PLAIN, h16, sizeof(h16), 2);
    c.type_length = 2;
    c.lt = 15;
    b = read_craft(&c, SL_OK, NULL);
    memcpy(f, b->cols[0].data, 8);
    assert_true(f[0] == 1.0f && f[1] == -2.0f);
    sl_batch_destroy(b);

    /* Hadoop-framed LZ4 (codec LZ4) */
    uint8_t raw[64], frame[128];
    for (int i = 0; i < 16; i++)
        memcpy(raw + 4 * i, &i, 4);
    int k = LZ4_compress_default((const char *)raw, (char *)frame + 8, 64, 120);
    assert_true(k > 0);
    frame[0] = frame[1] = frame[2] = 0;
    frame[3] = 64;
    frame[4] = frame[5] = 0;
    frame[6] = (uint8_t)(k >> 8);
    frame[7] = (uint8_t)k;
    c = craft_default("z", PQ_INT32, PQ_ENC_PLAIN, frame, (size_t)k + 8, 16);
    c.codec = PQ_CODEC_LZ4;
    c.usize = 64;
    b = read_craft(&c, SL_OK, NULL);
    assert_memory_equal(b->cols[0].data, raw, 64);
    sl_batch_destroy(b);
    /* the same as a raw block under the LZ4 id (some writers did that) */
    c.body = frame + 8;
    c.nbody = (size_t)k;
    b = read_craft(&c, SL_OK, NULL);
    assert_memory_equal(b->cols[0].data, raw, 64);
    sl_batch_destroy(b);
}

static void test_unsupported(void **state)
{
    (void)state;
    static const uint8_t i32[] = {1, 0, 0, 0};
    craft c = craft_default("t", PQ_INT32, PQ_ENC_PLAIN, i32, sizeof(i32), 1);
    c.converted = 7; /* TIME_MILLIS */
    sl_buf file;
    craft_file(&c, &file);
    expect_open_error(&file, NULL, SL_UNSUPPORTED, "column 't' is INT32 TIME");
    sl_pq_read_opts o;
    sl_pq_read_opts_default(&o);
    o.skip_unsupported = true;
    sl_pq_reader *r;
    sl_pq_read_error e;
    assert_int_equal(sl_pq_reader_open_mem(file.ptr, file.len, &o, &r, &e), SL_OK);
    assert_int_equal(sl_pq_reader_schema(r)->nfields, 0);
    assert_int_equal(sl_pq_reader_skipped(r), 1);
    const char *why;
    assert_string_equal(sl_pq_reader_skipped_name(r, 0, &why), "t");
    sl_pq_reader_close(r);
    sl_buf_release(&file);

    /* BROTLI */
    c = craft_default("x", PQ_INT32, PQ_ENC_PLAIN, i32, sizeof(i32), 1);
    c.codec = PQ_CODEC_BROTLI;
    sl_batch *b = read_craft(&c, SL_UNSUPPORTED, "BROTLI compression is not supported");
    sl_batch_destroy(b);
    /* a repeated field */
    c = craft_default("rep", PQ_INT32, PQ_ENC_PLAIN, i32, sizeof(i32), 1);
    c.repetition = PQ_REPEATED;
    craft_file(&c, &file);
    expect_open_error(&file, NULL, SL_UNSUPPORTED, "column 'rep' is a repeated field");
    sl_buf_release(&file);
}

/* A footer-only file with a LIST column `tags` (3 levels), then a flat `a`. */
static void test_nested(void **state)
{
    (void)state;
    sl_pq_schema_elem el[5];
    memset(el, 0, sizeof(el));
    el[0].name = (sl_pq_bin){(const uint8_t *)"schema", 6};
    el[0].has_num_children = true;
    el[0].num_children = 2;
    el[1].name = (sl_pq_bin){(const uint8_t *)"tags", 4};
    el[1].has_num_children = true;
    el[1].num_children = 1;
    el[1].has_repetition = true;
    el[1].repetition = PQ_OPTIONAL;
    el[1].has_converted_type = true;
    el[1].converted_type = 3; /* LIST */
    el[2].name = (sl_pq_bin){(const uint8_t *)"list", 4};
    el[2].has_num_children = true;
    el[2].num_children = 1;
    el[2].has_repetition = true;
    el[2].repetition = PQ_REPEATED;
    el[3].name = (sl_pq_bin){(const uint8_t *)"element", 7};
    el[3].has_type = true;
    el[3].type = PQ_INT64;
    el[3].has_repetition = true;
    el[3].repetition = PQ_OPTIONAL;
    el[4].name = (sl_pq_bin){(const uint8_t *)"a", 1};
    el[4].has_type = true;
    el[4].type = PQ_DOUBLE;
    el[4].has_repetition = true;
    el[4].repetition = PQ_REQUIRED;
    sl_pq_meta m;
    memset(&m, 0, sizeof(m));
    m.version = 1;
    m.nschema = 5;
    m.schema = el;
    sl_buf file;
    sl_buf_init(&file, 0);
    assert_int_equal(sl_buf_append(&file, "PAR1", 4), SL_OK);
    assert_int_equal(sl_pq_meta_encode(&m, &file), SL_OK);
    uint32_t flen = (uint32_t)(file.len - 4);
    assert_int_equal(sl_buf_append(&file, &flen, 4), SL_OK);
    assert_int_equal(sl_buf_append(&file, "PAR1", 4), SL_OK);
    expect_open_error(&file, NULL, SL_UNSUPPORTED, "column 'tags' is a LIST");
    sl_pq_read_opts o;
    sl_pq_read_opts_default(&o);
    sl_schema *mod = model_of("{\"fields\":[{\"name\":\"a\",\"type\":\"double\"}]}");
    o.model = mod;
    sl_pq_reader *r;
    sl_pq_read_error e;
    assert_int_equal(sl_pq_reader_open_mem(file.ptr, file.len, &o, &r, &e), SL_OK);
    assert_int_equal(sl_pq_reader_file_schema(r)->nfields, 1);
    sl_pq_reader_close(r);
    sl_schema_destroy(mod);
    mod = model_of("{\"fields\":[{\"name\":\"tags\",\"type\":\"string\"}]}");
    o.model = mod;
    expect_open_error(&file, &o, SL_UNSUPPORTED, "column 'tags' is a LIST");
    sl_schema_destroy(mod);
    sl_buf_release(&file);
}

/* ---- corrupt input ----------------------------------------------------------------------------- */

static void test_corrupt_footer(void **state)
{
    (void)state;
    sl_buf file;
    small_file(&file);
    sl_buf bad;
    sl_buf_init(&bad, 0);
#define RESET() (bad.len = 0, assert_int_equal(sl_buf_append(&bad, file.ptr, file.len), SL_OK))
    RESET();
    bad.ptr[0] = 'X';
    expect_open_error(&bad, NULL, SL_FORMAT, "no PAR1 magic at the start");
    RESET();
    bad.ptr[bad.len - 1] = 'X';
    expect_open_error(&bad, NULL, SL_FORMAT, "PAR1 magic at the start but not at the end");
    RESET();
    bad.len -= 3;
    expect_open_error(&bad, NULL, SL_FORMAT, "PAR1 magic at the start but not at the end");
    RESET();
    bad.len = 7;
    expect_open_error(&bad, NULL, SL_FORMAT, "too small");
    RESET();
    memcpy(bad.ptr + bad.len - 8, "\xff\xff\xff\x7f", 4);
    expect_open_error(&bad, NULL, SL_FORMAT, "does not fit the file");
    RESET();
    memcpy(bad.ptr + bad.len - 8, "\0\0\0\0", 4);
    expect_open_error(&bad, NULL, SL_FORMAT, "does not fit the file");
    RESET();
    uint32_t flen;
    memcpy(&flen, bad.ptr + bad.len - 8, 4);
    memset(bad.ptr + bad.len - 8 - flen, 0x19, flen / 2); /* garbage in the footer */
    expect_open_error(&bad, NULL, SL_FORMAT, "corrupt footer");
    RESET();
    memcpy(bad.ptr + bad.len - 4, "PARE", 4);
    expect_open_error(&bad, NULL, SL_UNSUPPORTED, "encrypted");
    sl_pq_read_opts o;
    sl_pq_read_opts_default(&o);
    o.max_footer_bytes = 10;
    expect_open_error(&file, &o, SL_UNSUPPORTED, "exceeds the 10-byte limit");
    sl_buf_release(&bad);
    sl_buf_release(&file);
}

/* Rewrites the footer of `file` after fn edits the decoded metadata. */
static void refooter(const sl_buf *file, void (*fn)(sl_pq_meta *), sl_buf *out)
{
    uint32_t flen;
    memcpy(&flen, file->ptr + file->len - 8, 4);
    size_t data = file->len - 8 - flen;
    sl_pq_meta m;
    assert_int_equal(sl_pq_meta_decode(file->ptr + data, flen, &m, NULL, 0), SL_OK);
    fn(&m);
    sl_buf_init(out, 0);
    assert_int_equal(sl_buf_append(out, file->ptr, data), SL_OK);
    assert_int_equal(sl_pq_meta_encode(&m, out), SL_OK);
    flen = (uint32_t)(out->len - data);
    assert_int_equal(sl_buf_append(out, &flen, 4), SL_OK);
    assert_int_equal(sl_buf_append(out, "PAR1", 4), SL_OK);
    sl_pq_meta_release(&m);
}

static void edit_offset(sl_pq_meta *m)
{
    m->row_groups[0].columns[1].meta_data.data_page_offset = 1 << 30;
}
static void edit_size(sl_pq_meta *m)
{
    m->row_groups[0].columns[1].meta_data.total_compressed_size = INT64_MAX / 2;
}
static void edit_rows(sl_pq_meta *m)
{
    m->row_groups[0].num_rows += 100;
}
static void edit_rows_fewer(sl_pq_meta *m)
{
    m->row_groups[0].num_rows = 2;
}
static void edit_codec(sl_pq_meta *m)
{
    m->row_groups[0].columns[1].meta_data.codec = PQ_CODEC_ZSTD;
}
static void edit_type(sl_pq_meta *m)
{
    m->row_groups[0].columns[1].meta_data.type = PQ_DOUBLE;
}
static void edit_schema_children(sl_pq_meta *m)
{
    m->schema[0].num_children = 3;
}

static void expect_read_error(const sl_buf *file, sl_err want, const char *needle)
{
    sl_batch *b = NULL;
    char msg[512] = "";
    sl_err err = read_all(file, NULL, &b, NULL, msg, sizeof(msg));
    if (err != want || !strstr(msg, needle))
        print_error("got %d '%s', want %d '%s'\n", err, msg, want, needle);
    assert_int_equal(err, want);
    assert_non_null(strstr(msg, needle));
    sl_batch_destroy(b);
}

static void test_corrupt_chunks(void **state)
{
    (void)state;
    sl_buf file, bad;
    small_file(&file);
    refooter(&file, edit_offset, &bad);
    expect_read_error(&bad, SL_FORMAT, "column 'v' (row group 0, chunk at offset 1073741824)");
    sl_buf_release(&bad);
    refooter(&file, edit_size, &bad);
    expect_read_error(&bad, SL_FORMAT, "lies outside the file");
    sl_buf_release(&bad);
    refooter(&file, edit_rows, &bad);
    expect_read_error(&bad, SL_FORMAT, "the column chunk ends with 100 of the row group's rows");
    sl_buf_release(&bad);
    refooter(&file, edit_rows_fewer, &bad);
    expect_read_error(&bad, SL_FORMAT, "rows are left in the row group");
    sl_buf_release(&bad);
    refooter(&file, edit_codec, &bad);
    expect_read_error(&bad, SL_FORMAT, "zstd data does not decompress");
    sl_buf_release(&bad);
    refooter(&file, edit_type, &bad);
    expect_read_error(&bad, SL_FORMAT, "column chunk of type DOUBLE, schema says INT64");
    sl_buf_release(&bad);
    refooter(&file, edit_schema_children, &bad);
    sl_pq_reader *r;
    assert_int_equal(sl_pq_reader_open_mem(bad.ptr, bad.len, NULL, &r, NULL), SL_FORMAT);
    sl_buf_release(&bad);
    sl_buf_release(&file);
}

/* A dictionary-encoded page whose indices point past the dictionary. */
static void test_dictionary_index_out_of_range(void **state)
{
    (void)state;
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "k", sl_type_of(SL_TYPE_INT64), false), SL_OK);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sl_col_append_i64(&b->cols[0], i % 10), SL_OK);
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.codec = SL_CODEC_NONE;
    sl_buf file;
    write_file(s, b, &o, &file);
    uint32_t flen;
    memcpy(&flen, file.ptr + file.len - 8, 4);
    sl_pq_meta m;
    assert_int_equal(sl_pq_meta_decode(file.ptr + file.len - 8 - flen, flen, &m, NULL, 0), SL_OK);
    const sl_pq_col_meta *md = &m.row_groups[0].columns[0].meta_data;
    assert_true(md->has_dictionary_page_offset);
    size_t off = (size_t)md->data_page_offset, hlen;
    sl_pq_page_header h;
    assert_int_equal(sl_pq_page_header_decode(file.ptr + off, file.len - off, &h, &hlen), SL_OK);
    assert_int_equal(h.data_page.encoding, PQ_ENC_RLE_DICTIONARY);
    uint8_t *body = file.ptr + off + hlen;
    /* bit width 4, one RLE run of 100 x index 15 */
    body[0] = 4;
    body[1] = 200;
    body[2] = 1;
    body[3] = 15;
    sl_pq_meta_release(&m);
    expect_read_error(&file, SL_FORMAT, "dictionary index 15 out of range (the dictionary has 10 values)");
    /* bit width above 32 */
    body[0] = 40;
    expect_read_error(&file, SL_FORMAT, "dictionary index bit width above 32");
    /* an RLE run value wider than the bit width */
    body[0] = 2;
    expect_read_error(&file, SL_FORMAT, "RLE_DICTIONARY values are malformed");
    sl_buf_release(&file);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

/* Every byte of a small file flipped in turn, and every truncation: errors, never crashes. */
static void test_byte_flips(void **state)
{
    (void)state;
    sl_schema *s = all_types_schema();
    sl_batch *in = fill(s, 40, 6);
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.page_rows = 16;
    o.page_index = false;
    sl_buf file;
    write_file(s, in, &o, &file);
    rejects rj;
    sl_pq_read_opts ro;
    sl_pq_read_opts_default(&ro);
    ro.on_reject = collect;
    ro.reject_ctx = &rj;
    size_t ok = 0, failed = 0;
    for (size_t i = 0; i < file.len; i++) {
        for (int flip = 0; flip < 2; flip++) {
            uint8_t saved = file.ptr[i];
            file.ptr[i] ^= flip ? 0x80 : 0xFF;
            sl_batch *b = NULL;
            memset(&rj, 0, sizeof(rj));
            sl_err err = read_all(&file, &ro, &b, NULL, NULL, 0);
            ok += err == SL_OK;
            failed += err != SL_OK;
            sl_batch_destroy(b);
            file.ptr[i] = saved;
        }
    }
    for (size_t n = 0; n < file.len; n += 7) {
        sl_buf cut = file;
        cut.len = n;
        sl_batch *b = NULL;
        sl_err err = read_all(&cut, &ro, &b, NULL, NULL, 0);
        assert_int_not_equal(err, SL_OK);
        sl_batch_destroy(b);
    }
    print_message("byte flips: %zu read, %zu failed\n", ok, failed);
    assert_true(failed > 0);
    sl_buf_release(&file);
    sl_batch_destroy(in);
    sl_schema_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_codecs),
        cmocka_unit_test(test_round_trip_dictionary_modes),
        cmocka_unit_test(test_zero_rows),
        cmocka_unit_test(test_model_mapping),
        cmocka_unit_test(test_model_row_rejects),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_delta_encodings),
        cmocka_unit_test(test_other_encodings),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_corrupt_footer),
        cmocka_unit_test(test_corrupt_chunks),
        cmocka_unit_test(test_dictionary_index_out_of_range),
        cmocka_unit_test(test_byte_flips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
