/* pq_meta_test.c: unit tests for src/encode/parquet/pq_meta.c.
 *
 * - Round trips (table-driven): representative FileMetaData (every logical type, statistics,
 *   key-value metadata, column orders, encoding stats, index locations, absent optionals),
 *   page headers (v1, v2, dictionary, index), column and offset indexes: encode, decode,
 *   compare field by field, re-encode and compare bytes.
 * - Hand-checked byte vectors computed from the compact protocol spec (field deltas, zigzag
 *   varints, bool nibbles, long-form field ids, list headers).
 * - Malformed input: every truncation of a valid encoding is SL_FORMAT; missing required fields,
 *   wrong field types, bad unions are SL_FORMAT with a message naming the field; list counts
 *   that would blow up memory are refused; unknown fields of every type are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../support/pq_meta_eq.h"
#include "encode/parquet/pq_meta.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static sl_pq_bin B(const char *s)
{
    sl_pq_bin b = {(const uint8_t *)s, (uint32_t)strlen(s)};
    return b;
}

static sl_pq_bin BN(const void *p, uint32_t n)
{
    sl_pq_bin b = {p, n};
    return b;
}

static void assert_diff_null(const char *diff)
{
    if (diff)
        fail_msg("decoded value differs: %s", diff);
}

/* ---- fixtures --------------------------------------------------------------------------- */

static sl_pq_schema_elem leaf(const char *name, int32_t type, int32_t rep)
{
    sl_pq_schema_elem e;
    memset(&e, 0, sizeof(e));
    e.name = B(name);
    e.has_type = true;
    e.type = type;
    e.has_repetition = true;
    e.repetition = rep;
    return e;
}

static sl_pq_logical lt_kind(int kind)
{
    sl_pq_logical lt;
    memset(&lt, 0, sizeof(lt));
    lt.kind = kind;
    return lt;
}

static sl_pq_logical lt_time(int kind, int unit, bool utc)
{
    sl_pq_logical lt = lt_kind(kind);
    lt.unit = unit;
    lt.utc = utc;
    return lt;
}

static sl_pq_logical lt_decimal(int32_t precision, int32_t scale)
{
    sl_pq_logical lt = lt_kind(PQ_LT_DECIMAL);
    lt.precision = precision;
    lt.scale = scale;
    return lt;
}

static sl_pq_logical lt_int(int8_t bits, bool is_signed)
{
    sl_pq_logical lt = lt_kind(PQ_LT_INTEGER);
    lt.bit_width = bits;
    lt.is_signed = is_signed;
    return lt;
}

static sl_pq_schema_elem schema_full[24];
static int32_t encodings_a[] = {PQ_ENC_PLAIN, PQ_ENC_RLE, PQ_ENC_RLE_DICTIONARY};
static int32_t encodings_b[] = {PQ_ENC_DELTA_BINARY_PACKED, 99, -1};
static sl_pq_bin path_a[] = {{(const uint8_t *)"s", 1}};
static sl_pq_bin path_b[] = {{(const uint8_t *)"g", 1}, {(const uint8_t *)"x", 1}};
static sl_pq_enc_stats enc_stats[] = {
    {PQ_DICTIONARY_PAGE, PQ_ENC_PLAIN, 1},
    {PQ_DATA_PAGE, PQ_ENC_RLE_DICTIONARY, 7},
    {PQ_DATA_PAGE_V2, PQ_ENC_PLAIN, INT32_MAX},
};
static const uint8_t odd_bytes[] = {0x00, 0xFF, 0x00, 0x80, '"', '\n'};
static sl_pq_col_chunk columns_full[4];
static sl_pq_row_group row_groups_full[3];
static sl_pq_kv kv_full[4];
static int32_t orders_full[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3};

/* Every logical type, every optional field, extremes, binaries with NULs. */
static void build_full(sl_pq_meta *m)
{
    memset(m, 0, sizeof(*m));
    uint32_t n = 0;
    sl_pq_schema_elem *s = schema_full;
    memset(s, 0, sizeof(schema_full));
    s[n].name = B("schema");
    s[n].has_num_children = true;
    n++;
    s[n] = leaf("s", PQ_BYTE_ARRAY, PQ_OPTIONAL);
    s[n].logical = lt_kind(PQ_LT_STRING);
    s[n].has_converted_type = true;
    s[n++].converted_type = PQ_CT_UTF8;
    s[n] = leaf("j", PQ_BYTE_ARRAY, PQ_OPTIONAL);
    s[n++].logical = lt_kind(PQ_LT_JSON);
    s[n] = leaf("d", PQ_INT32, PQ_REQUIRED);
    s[n++].logical = lt_kind(PQ_LT_DATE);
    s[n] = leaf("ts_ms", PQ_INT64, PQ_OPTIONAL);
    s[n++].logical = lt_time(PQ_LT_TIMESTAMP, PQ_UNIT_MILLIS, true);
    s[n] = leaf("ts_us", PQ_INT64, PQ_OPTIONAL);
    s[n++].logical = lt_time(PQ_LT_TIMESTAMP, PQ_UNIT_MICROS, false);
    s[n] = leaf("ts_ns", PQ_INT64, PQ_OPTIONAL);
    s[n++].logical = lt_time(PQ_LT_TIMESTAMP, PQ_UNIT_NANOS, true);
    s[n] = leaf("t", PQ_INT64, PQ_OPTIONAL);
    s[n++].logical = lt_time(PQ_LT_TIME, PQ_UNIT_MICROS, false);
    s[n] = leaf("dec32", PQ_INT32, PQ_OPTIONAL);
    s[n].logical = lt_decimal(9, 2);
    s[n].has_converted_type = true;
    s[n].converted_type = PQ_CT_DECIMAL;
    s[n].has_precision = s[n].has_scale = true;
    s[n].precision = 9;
    s[n++].scale = 2;
    s[n] = leaf("dec128", PQ_FIXED_LEN_BYTE_ARRAY, PQ_OPTIONAL);
    s[n].has_type_length = true;
    s[n].type_length = 16;
    s[n++].logical = lt_decimal(38, 10);
    s[n] = leaf("i8", PQ_INT32, PQ_OPTIONAL);
    s[n++].logical = lt_int(8, true);
    s[n] = leaf("u16", PQ_INT32, PQ_OPTIONAL);
    s[n++].logical = lt_int(16, false);
    s[n] = leaf("u64", PQ_INT64, PQ_OPTIONAL);
    s[n++].logical = lt_int(64, false);
    s[n] = leaf("uuid", PQ_FIXED_LEN_BYTE_ARRAY, PQ_OPTIONAL);
    s[n].has_type_length = true;
    s[n].type_length = 16;
    s[n++].logical = lt_kind(PQ_LT_UUID);
    s[n] = leaf("bson", PQ_BYTE_ARRAY, PQ_OPTIONAL);
    s[n++].logical = lt_kind(PQ_LT_BSON);
    s[n] = leaf("nul", PQ_INT32, PQ_OPTIONAL);
    s[n++].logical = lt_kind(PQ_LT_UNKNOWN);
    s[n] = leaf("e", PQ_BYTE_ARRAY, PQ_OPTIONAL);
    s[n++].logical = lt_kind(4); /* ENUM */
    s[n] = leaf("f16", PQ_FIXED_LEN_BYTE_ARRAY, PQ_OPTIONAL);
    s[n].has_type_length = true;
    s[n].type_length = 2;
    s[n++].logical = lt_kind(15); /* FLOAT16 */
    s[n] = leaf("future", PQ_BYTE_ARRAY, PQ_OPTIONAL);
    s[n++].logical = lt_kind(300); /* a member id we do not know: kept as an empty struct */
    s[n] = leaf("g", 0, PQ_REPEATED);
    s[n].has_type = false;
    s[n].has_num_children = true;
    s[n].num_children = 1;
    s[n].has_field_id = true;
    s[n].field_id = 7;
    s[n++].logical = lt_kind(3); /* LIST */
    s[n] = leaf("x", PQ_INT64, PQ_REQUIRED);
    s[n].has_field_id = true;
    s[n++].field_id = INT32_MIN;
    s[n] = leaf("weird \"name\"\n", PQ_INT96, PQ_OPTIONAL);
    s[n].has_converted_type = true;
    s[n++].converted_type = 21;         /* INTERVAL */
    s[0].num_children = (int32_t)n - 2; /* "x" is g's child */
    m->nschema = n;
    m->schema = s;

    memset(columns_full, 0, sizeof(columns_full));
    sl_pq_col_chunk *c = &columns_full[0];
    c->has_file_path = true;
    c->file_path = B("part-0.parquet");
    c->file_offset = 4;
    c->has_meta_data = true;
    c->meta_data.type = PQ_BYTE_ARRAY;
    c->meta_data.nencodings = N(encodings_a);
    c->meta_data.encodings = encodings_a;
    c->meta_data.npath = N(path_a);
    c->meta_data.path = path_a;
    c->meta_data.codec = PQ_CODEC_ZSTD;
    c->meta_data.num_values = 100;
    c->meta_data.total_uncompressed_size = 5000;
    c->meta_data.total_compressed_size = 1234;
    c->meta_data.data_page_offset = 40;
    c->meta_data.has_index_page_offset = true;
    c->meta_data.index_page_offset = 30;
    c->meta_data.has_dictionary_page_offset = true;
    c->meta_data.dictionary_page_offset = 4;
    c->meta_data.has_statistics = true;
    sl_pq_stats *st = &c->meta_data.statistics;
    st->has_max = st->has_min = st->has_null_count = st->has_distinct_count = true;
    st->has_max_value = st->has_min_value = st->has_is_max_exact = st->has_is_min_exact = true;
    st->max = B("zzz");
    st->min = BN("", 0); /* present but empty */
    st->null_count = 0;
    st->distinct_count = INT64_MAX;
    st->max_value = BN(odd_bytes, sizeof(odd_bytes));
    st->min_value = B("a");
    st->is_max_value_exact = false;
    st->is_min_value_exact = true;
    c->meta_data.nencoding_stats = N(enc_stats);
    c->meta_data.encoding_stats = enc_stats;
    c->has_offset_index = true;
    c->offset_index_offset = 9000;
    c->offset_index_length = 25;
    c->has_column_index = true;
    c->column_index_offset = 8000;
    c->column_index_length = 0;

    c = &columns_full[1]; /* minimal metadata */
    c->has_meta_data = true;
    c->meta_data.type = PQ_INT64;
    c->meta_data.nencodings = N(encodings_b);
    c->meta_data.encodings = encodings_b;
    c->meta_data.npath = N(path_b);
    c->meta_data.path = path_b;
    c->meta_data.codec = 42;
    c->meta_data.num_values = INT64_MIN;
    c->meta_data.total_uncompressed_size = -1;
    c->meta_data.data_page_offset = INT64_MAX;

    c = &columns_full[2]; /* no metadata at all */
    c->file_offset = 123456789012345LL;

    c = &columns_full[3]; /* empty lists, statistics with nothing inside */
    c->has_meta_data = true;
    c->meta_data.has_statistics = true;

    memset(row_groups_full, 0, sizeof(row_groups_full));
    sl_pq_row_group *rg = &row_groups_full[0];
    rg->ncolumns = N(columns_full);
    rg->columns = columns_full;
    rg->total_byte_size = 1 << 30;
    rg->num_rows = 100;
    rg->has_file_offset = true;
    rg->file_offset = 4;
    rg->has_total_compressed_size = true;
    rg->total_compressed_size = 2000;
    rg->has_ordinal = true;
    rg->ordinal = 0;
    rg = &row_groups_full[1]; /* no columns */
    rg->has_ordinal = true;
    rg->ordinal = INT16_MAX;
    rg->num_rows = -5;
    rg = &row_groups_full[2];
    rg->ncolumns = 1;
    rg->columns = &columns_full[1];
    rg->has_ordinal = true;
    rg->ordinal = INT16_MIN;
    m->nrow_groups = N(row_groups_full);
    m->row_groups = row_groups_full;

    memset(kv_full, 0, sizeof(kv_full));
    kv_full[0].key = B("sluice.schema");
    kv_full[0].has_value = true;
    kv_full[0].value = B("{\"fields\":[]}");
    kv_full[1].key = B("no value");
    kv_full[2].key = B("");
    kv_full[2].has_value = true;
    kv_full[2].value = BN(odd_bytes, sizeof(odd_bytes));
    kv_full[3].key = BN(odd_bytes, 3);
    kv_full[3].has_value = true;
    kv_full[3].value = B("");
    m->nkv = N(kv_full);
    m->kv = kv_full;

    m->version = 2;
    m->num_rows = 100;
    m->has_created_by = true;
    m->created_by = B("sluice version 0.1.0 (build 0123456789ab)");
    m->ncolumn_orders = N(orders_full);
    m->column_orders = orders_full;
}

static sl_pq_schema_elem schema_min[1];

/* Only required fields. */
static void build_minimal(sl_pq_meta *m)
{
    memset(m, 0, sizeof(*m));
    memset(schema_min, 0, sizeof(schema_min));
    schema_min[0].name = B("r");
    m->version = 1;
    m->nschema = 1;
    m->schema = schema_min;
}

/* No schema at all, extreme values at the top level. */
static void build_empty(sl_pq_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->version = INT32_MIN;
    m->num_rows = INT64_MIN;
    m->has_created_by = true;
    m->created_by = B("");
}

static sl_pq_schema_elem schema_wide[40];
static sl_pq_col_chunk columns_wide[39];
static sl_pq_bin paths_wide[39];
static char names_wide[39][8];
static sl_pq_row_group rg_wide[1];
static int32_t orders_wide[39];

/* More than 15 of everything: long list headers. */
static void build_wide(sl_pq_meta *m)
{
    memset(m, 0, sizeof(*m));
    memset(schema_wide, 0, sizeof(schema_wide));
    memset(columns_wide, 0, sizeof(columns_wide));
    schema_wide[0].name = B("root");
    schema_wide[0].has_num_children = true;
    schema_wide[0].num_children = 39;
    for (int i = 0; i < 39; i++) {
        snprintf(names_wide[i], sizeof(names_wide[i]), "c%d", i);
        schema_wide[i + 1] = leaf(names_wide[i], PQ_INT32, PQ_OPTIONAL);
        paths_wide[i] = B(names_wide[i]);
        sl_pq_col_chunk *c = &columns_wide[i];
        c->has_meta_data = true;
        c->meta_data.type = PQ_INT32;
        c->meta_data.nencodings = N(encodings_a);
        c->meta_data.encodings = encodings_a;
        c->meta_data.npath = 1;
        c->meta_data.path = &paths_wide[i];
        c->meta_data.num_values = i * 1000;
        c->meta_data.data_page_offset = 4 + i * 100;
        orders_wide[i] = 1;
    }
    rg_wide[0].ncolumns = 39;
    rg_wide[0].columns = columns_wide;
    rg_wide[0].num_rows = 1000;
    m->version = 1;
    m->nschema = 40;
    m->schema = schema_wide;
    m->nrow_groups = 1;
    m->row_groups = rg_wide;
    m->ncolumn_orders = 39;
    m->column_orders = orders_wide;
}

typedef struct {
    const char *name;
    void (*build)(sl_pq_meta *m);
} meta_case;

static const meta_case meta_cases[] = {
    {"full", build_full},
    {"minimal", build_minimal},
    {"empty", build_empty},
    {"wide", build_wide},
};

/* ---- round trips ------------------------------------------------------------------------ */

static void roundtrip_meta(const sl_pq_meta *in)
{
    sl_buf b1, b2;
    sl_buf_init(&b1, 0);
    sl_buf_init(&b2, 0);
    assert_int_equal(sl_pq_meta_encode(in, &b1), SL_OK);

    sl_pq_meta out;
    char msg[256] = "unset";
    sl_err err = sl_pq_meta_decode(b1.ptr, b1.len, &out, msg, sizeof(msg));
    if (err)
        fail_msg("decode failed: %s", msg);
    assert_string_equal(msg, "");
    assert_diff_null(pq_meta_diff(in, &out));

    /* decoded binaries are copies with a NUL after them */
    for (uint32_t i = 0; i < out.nschema; i++) {
        assert_ptr_not_equal(out.schema[i].name.ptr, in->schema[i].name.ptr);
        assert_int_equal(out.schema[i].name.ptr[out.schema[i].name.len], 0);
    }

    assert_int_equal(sl_pq_meta_encode(&out, &b2), SL_OK);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.ptr, b2.ptr, b1.len);

    /* every strict prefix is malformed, with a message */
    for (size_t n = 0; n < b1.len; n++) {
        sl_pq_meta t;
        msg[0] = '\0';
        assert_int_equal(sl_pq_meta_decode(b1.ptr, n, &t, msg, sizeof(msg)), SL_FORMAT);
        assert_true(msg[0] != '\0');
        assert_null(t.arena);
        assert_int_equal(t.nschema, 0);
    }
    /* trailing bytes (e.g. a footer signature) are ignored */
    assert_int_equal(sl_buf_append(&b1, "\x01\x02\x03", 3), SL_OK);
    sl_pq_meta t;
    assert_int_equal(sl_pq_meta_decode(b1.ptr, b1.len, &t, NULL, 0), SL_OK);
    assert_diff_null(pq_meta_diff(in, &t));
    sl_pq_meta_release(&t);

    sl_pq_meta_release(&out);
    assert_null(out.arena);
    sl_pq_meta_release(&out); /* twice is harmless */
    sl_pq_meta_release(NULL);
    sl_buf_release(&b1);
    sl_buf_release(&b2);
}

static void test_meta_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(meta_cases); i++) {
        sl_pq_meta m;
        meta_cases[i].build(&m);
        print_message("meta case %s\n", meta_cases[i].name);
        roundtrip_meta(&m);
    }
}

typedef struct {
    const char *name;
    sl_pq_page_header h;
} page_case;

static const page_case page_cases[] = {
    {"v1 with crc",
     {.type = PQ_DATA_PAGE,
      .uncompressed_page_size = 1 << 20,
      .compressed_page_size = 4000,
      .has_crc = true,
      .crc = -123456,
      .has_data_page = true,
      .data_page = {20000, PQ_ENC_RLE_DICTIONARY, PQ_ENC_RLE, PQ_ENC_RLE}}},
    {"v2 not compressed",
     {.type = PQ_DATA_PAGE_V2,
      .uncompressed_page_size = 100,
      .compressed_page_size = 100,
      .has_data_page_v2 = true,
      .data_page_v2 = {10, 3, 10, PQ_ENC_PLAIN, 2, 0, true, false}}},
    {"v2 compressed flag absent",
     {.type = PQ_DATA_PAGE_V2,
      .uncompressed_page_size = 100,
      .compressed_page_size = 60,
      .has_data_page_v2 = true,
      .data_page_v2 = {INT32_MAX, INT32_MIN, -1, PQ_ENC_DELTA_BYTE_ARRAY, 0, 0, false, false}}},
    {"dictionary sorted",
     {.type = PQ_DICTIONARY_PAGE,
      .uncompressed_page_size = 64,
      .compressed_page_size = 64,
      .has_dict_page = true,
      .dict_page = {16, PQ_ENC_PLAIN, true, true}}},
    {"dictionary",
     {.type = PQ_DICTIONARY_PAGE,
      .uncompressed_page_size = 0,
      .compressed_page_size = 0,
      .has_dict_page = true,
      .dict_page = {0, PQ_ENC_PLAIN_DICTIONARY, false, false}}},
    {"index page, no sub-header",
     {.type = PQ_INDEX_PAGE, .uncompressed_page_size = INT32_MIN, .compressed_page_size = -1}},
};

static void test_page_header_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(page_cases); i++) {
        const sl_pq_page_header *in = &page_cases[i].h;
        print_message("page case %s\n", page_cases[i].name);
        sl_buf b1, b2;
        sl_buf_init(&b1, 0);
        sl_buf_init(&b2, 0);
        assert_int_equal(sl_pq_page_header_encode(in, &b1), SL_OK);
        /* page data follows a header: the decoder must stop at the header's end */
        size_t hlen = b1.len;
        assert_int_equal(sl_buf_append(&b1, "\xAA\xBB\xCC", 3), SL_OK);
        sl_pq_page_header out;
        size_t used = 0;
        assert_int_equal(sl_pq_page_header_decode(b1.ptr, b1.len, &out, &used), SL_OK);
        assert_int_equal(used, hlen);
        assert_diff_null(pq_page_header_diff(in, &out));
        assert_int_equal(sl_pq_page_header_encode(&out, &b2), SL_OK);
        assert_int_equal(b2.len, hlen);
        assert_memory_equal(b1.ptr, b2.ptr, hlen);
        for (size_t n = 0; n < hlen; n++)
            assert_int_equal(sl_pq_page_header_decode(b1.ptr, n, &out, &used), SL_FORMAT);
        sl_buf_release(&b1);
        sl_buf_release(&b2);
    }
}

static bool ci_null_pages[] = {false, true, false};
static sl_pq_bin ci_min[] = {{(const uint8_t *)"a", 1}, {NULL, 0}, {(const uint8_t *)"\0\xff", 2}};
static sl_pq_bin ci_max[] = {{(const uint8_t *)"m", 1}, {NULL, 0}, {(const uint8_t *)"zz", 2}};
static int64_t ci_nulls[] = {0, 500, INT64_MAX};
static bool ci_null_pages16[16];
static sl_pq_bin ci_bins16[16];
static int64_t ci_nulls16[16];

static void test_column_index_roundtrip(void **state)
{
    (void)state;
    for (int i = 0; i < 16; i++) {
        ci_null_pages16[i] = i % 3 == 0;
        ci_bins16[i] = B(i % 2 ? "odd" : "");
        ci_nulls16[i] = -i;
    }
    const sl_pq_column_index cases[] = {
        {3, ci_null_pages, ci_min, ci_max, PQ_ASCENDING, true, ci_nulls, NULL},
        {3, ci_null_pages, ci_min, ci_max, PQ_UNORDERED, false, NULL, NULL},
        {0, NULL, NULL, NULL, PQ_DESCENDING, false, NULL, NULL},
        {0, NULL, NULL, NULL, PQ_DESCENDING, true, NULL, NULL},
        {16, ci_null_pages16, ci_bins16, ci_bins16, 7, true, ci_nulls16, NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        sl_buf b1, b2;
        sl_buf_init(&b1, 0);
        sl_buf_init(&b2, 0);
        assert_int_equal(sl_pq_column_index_encode(&cases[i], &b1), SL_OK);
        sl_pq_column_index out;
        assert_int_equal(sl_pq_column_index_decode(b1.ptr, b1.len, &out), SL_OK);
        assert_diff_null(pq_column_index_diff(&cases[i], &out));
        assert_int_equal(sl_pq_column_index_encode(&out, &b2), SL_OK);
        assert_int_equal(b1.len, b2.len);
        assert_memory_equal(b1.ptr, b2.ptr, b1.len);
        sl_pq_column_index_release(&out);
        for (size_t n = 0; n < b1.len; n++) {
            assert_int_equal(sl_pq_column_index_decode(b1.ptr, n, &out), SL_FORMAT);
            assert_null(out.arena);
        }
        sl_buf_release(&b1);
        sl_buf_release(&b2);
    }
}

static sl_pq_page_loc oi_pages[20];

static void test_offset_index_roundtrip(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        oi_pages[i].offset = 4 + (int64_t)i * 1000000007LL;
        oi_pages[i].compressed_page_size = i * 1000;
        oi_pages[i].first_row_index = (int64_t)i * 20000;
    }
    const uint32_t counts[] = {0, 1, 14, 15, 20};
    for (size_t i = 0; i < N(counts); i++) {
        sl_pq_offset_index in = {counts[i], counts[i] ? oi_pages : NULL, NULL};
        sl_buf b1, b2;
        sl_buf_init(&b1, 0);
        sl_buf_init(&b2, 0);
        assert_int_equal(sl_pq_offset_index_encode(&in, &b1), SL_OK);
        sl_pq_offset_index out;
        assert_int_equal(sl_pq_offset_index_decode(b1.ptr, b1.len, &out), SL_OK);
        assert_diff_null(pq_offset_index_diff(&in, &out));
        assert_int_equal(sl_pq_offset_index_encode(&out, &b2), SL_OK);
        assert_int_equal(b1.len, b2.len);
        assert_memory_equal(b1.ptr, b2.ptr, b1.len);
        sl_pq_offset_index_release(&out);
        sl_pq_offset_index_release(&out);
        for (size_t n = 0; n < b1.len; n++)
            assert_int_equal(sl_pq_offset_index_decode(b1.ptr, n, &out), SL_FORMAT);
        sl_buf_release(&b1);
        sl_buf_release(&b2);
    }
}

/* ---- hand-checked bytes ----------------------------------------------------------------- */

static void test_page_header_bytes(void **state)
{
    (void)state;
    /* PageHeader{type DATA_PAGE, uncompressed 100, compressed 50, crc -1,
     *            data_page_header{num_values 10, PLAIN, RLE, RLE}} */
    /* clang-format off */
    const uint8_t want[] = {
        0x15, 0x00,       /* 1: i32, zigzag(0) */
        0x15, 0xC8, 0x01, /* 2: i32, zigzag(100) = 200 = varint C8 01 */
        0x15, 0x64,       /* 3: i32, zigzag(50) = 100 */
        0x15, 0x01,       /* 4: i32, zigzag(-1) = 1 */
        0x1C,             /* 5: struct */
        0x15, 0x14,       /*   1: zigzag(10) = 20 */
        0x15, 0x00,       /*   2: PLAIN */
        0x15, 0x06,       /*   3: RLE = 3 -> 6 */
        0x15, 0x06,       /*   4: RLE */
        0x00,             /*   stop */
        0x00,             /* stop */
    };
    /* clang-format on */
    sl_pq_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = PQ_DATA_PAGE;
    h.uncompressed_page_size = 100;
    h.compressed_page_size = 50;
    h.has_crc = true;
    h.crc = -1;
    h.has_data_page = true;
    h.data_page.num_values = 10;
    h.data_page.encoding = PQ_ENC_PLAIN;
    h.data_page.definition_level_encoding = PQ_ENC_RLE;
    h.data_page.repetition_level_encoding = PQ_ENC_RLE;
    sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(sl_pq_page_header_encode(&h, &b), SL_OK);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    sl_pq_page_header out;
    size_t used;
    assert_int_equal(sl_pq_page_header_decode(want, sizeof(want), &out, &used), SL_OK);
    assert_int_equal(used, sizeof(want));
    assert_diff_null(pq_page_header_diff(&h, &out));
    sl_buf_release(&b);
}

/* Fields out of order, long-form ids (jumps > 15 and backwards), unknown fields skipped. */
static void test_page_header_long_form(void **state)
{
    (void)state;
    /* clang-format off */
    const uint8_t in[] = {
        0x05, 0xC8, 0x01, 0x2A, /* field 100 (long form, zigzag 200): i32 21, unknown */
        0x05, 0x02, 0x06,       /* field 1 (long form backwards): type 3 = DATA_PAGE_V2 */
        0x15, 0x14,             /* 2: uncompressed 10 */
        0x15, 0x10,             /* 3: compressed 8 */
        0x3C, 0x00,             /* 6: index_page_header {} (skipped) */
        0x2C,                   /* 8: data_page_header_v2 */
        0x15, 0x08,             /*   1: num_values 4 */
        0x15, 0x02,             /*   2: num_nulls 1 */
        0x15, 0x08,             /*   3: num_rows 4 */
        0x15, 0x00,             /*   4: PLAIN */
        0x15, 0x02,             /*   5: def length 1 */
        0x15, 0x00,             /*   6: rep length 0 */
        0x05, 0x3C, 0x00,       /*   30: unknown i32 (long form) */
        0x08, 0x0E, 0x00,       /*   7 (long form, backwards) as binary: wrong type */
        0x00,
        0x00,
    };
    /* clang-format on */
    sl_pq_page_header h;
    size_t used;
    /* field 7 of DataPageHeaderV2 is a bool; a binary there is corruption */
    assert_int_equal(sl_pq_page_header_decode(in, sizeof(in), &h, &used), SL_FORMAT);

    uint8_t fixed[sizeof(in)];
    memcpy(fixed, in, sizeof(in));
    /* make field 7 a proper bool false in long form: type 2, id zigzag(7) = 14 */
    size_t k = sizeof(in) - 5;
    fixed[k] = 0x02;
    fixed[k + 1] = 0x0E;
    fixed[k + 2] = 0x00; /* stop of v2 */
    fixed[k + 3] = 0x00; /* stop of header */
    size_t len = k + 4;
    assert_int_equal(sl_pq_page_header_decode(fixed, len, &h, &used), SL_OK);
    assert_int_equal(used, len);
    assert_int_equal(h.type, PQ_DATA_PAGE_V2);
    assert_int_equal(h.uncompressed_page_size, 10);
    assert_int_equal(h.compressed_page_size, 8);
    assert_false(h.has_crc);
    assert_false(h.has_data_page);
    assert_true(h.has_data_page_v2);
    assert_int_equal(h.data_page_v2.num_values, 4);
    assert_int_equal(h.data_page_v2.num_nulls, 1);
    assert_int_equal(h.data_page_v2.num_rows, 4);
    assert_int_equal(h.data_page_v2.definition_levels_byte_length, 1);
    assert_true(h.data_page_v2.has_is_compressed);
    assert_false(h.data_page_v2.is_compressed);
}

static void test_column_index_bytes(void **state)
{
    (void)state;
    /* clang-format off */
    const uint8_t want[] = {
        0x19, 0x21, 0x02, 0x01,       /* 1: list<bool> of 2: false, true */
        0x19, 0x28, 0x01, 'a', 0x00,  /* 2: list<binary> of 2: "a", "" */
        0x19, 0x28, 0x01, 'z', 0x00,  /* 3: list<binary> of 2: "z", "" */
        0x15, 0x02,                   /* 4: ASCENDING */
        0x19, 0x26, 0x00, 0x0A,       /* 5: list<i64> of 2: 0, 5 */
        0x00,
    };
    /* clang-format on */
    bool np[] = {false, true};
    sl_pq_bin mn[] = {B("a"), B("")};
    sl_pq_bin mx[] = {B("z"), B("")};
    int64_t nc[] = {0, 5};
    sl_pq_column_index ci = {2, np, mn, mx, PQ_ASCENDING, true, nc, NULL};
    sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(sl_pq_column_index_encode(&ci, &b), SL_OK);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    sl_pq_column_index out;
    assert_int_equal(sl_pq_column_index_decode(want, sizeof(want), &out), SL_OK);
    assert_diff_null(pq_column_index_diff(&ci, &out));
    sl_pq_column_index_release(&out);
    sl_buf_release(&b);

    /* bool elements written as 0/1 by some writers: 1 is true, anything else false */
    uint8_t alt[sizeof(want)];
    memcpy(alt, want, sizeof(want));
    alt[2] = 0x00;
    alt[1] = 0x22; /* element type 2 also means bool */
    assert_int_equal(sl_pq_column_index_decode(alt, sizeof(alt), &out), SL_OK);
    assert_false(out.null_pages[0]);
    assert_true(out.null_pages[1]);
    sl_pq_column_index_release(&out);

    /* lists of different lengths: 2 null_pages, 1 min_value, 2 max_values */
    const uint8_t bad[] = {0x19, 0x21, 0x02, 0x01, 0x19, 0x18, 0x01, 'a',
                           0x19, 0x28, 0x01, 'z',  0x00, 0x15, 0x02, 0x00};
    assert_int_equal(sl_pq_column_index_decode(bad, sizeof(bad), &out), SL_FORMAT);
    assert_null(out.arena);
}

static void test_offset_index_bytes(void **state)
{
    (void)state;
    /* clang-format off */
    const uint8_t want[] = {
        0x19, 0x1C,       /* 1: list<struct> of 1 */
        0x16, 0x08,       /*   1: offset 4 */
        0x15, 0xC8, 0x01, /*   2: size 100 */
        0x16, 0x00,       /*   3: first row 0 */
        0x00,
        0x00,
    };
    /* clang-format on */
    sl_pq_page_loc loc = {4, 100, 0};
    sl_pq_offset_index oi = {1, &loc, NULL};
    sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(sl_pq_offset_index_encode(&oi, &b), SL_OK);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    sl_buf_release(&b);
}

static void test_meta_bytes(void **state)
{
    (void)state;
    /* FileMetaData{version 1, schema [{type INT64, OPTIONAL, name "t", TIMESTAMP_MICROS,
     *              logicalType TIMESTAMP(isAdjustedToUTC, MICROS)}], num_rows 1, []} */
    /* clang-format off */
    const uint8_t want[] = {
        0x15, 0x02,       /* 1: version 1 */
        0x19, 0x1C,       /* 2: list<struct> of 1 */
        0x15, 0x04,       /*   1: type INT64 (2) */
        0x25, 0x02,       /*   3: OPTIONAL (delta 2) */
        0x18, 0x01, 't',  /*   4: name */
        0x25, 0x14,       /*   6: converted TIMESTAMP_MICROS (10) */
        0x4C,             /*   10: logicalType (delta 4) */
        0x8C,             /*     8: TIMESTAMP */
        0x11,             /*       1: isAdjustedToUTC true */
        0x1C,             /*       2: unit */
        0x2C, 0x00,       /*         2: MICROS {} */
        0x00,             /*       end unit */
        0x00,             /*     end TimestampType */
        0x00,             /*   end LogicalType */
        0x00,             /* end SchemaElement */
        0x16, 0x02,       /* 3: num_rows 1 */
        0x19, 0x0C,       /* 4: list<struct> of 0 */
        0x00,
    };
    /* clang-format on */
    sl_pq_schema_elem e = leaf("t", PQ_INT64, PQ_OPTIONAL);
    e.has_converted_type = true;
    e.converted_type = PQ_CT_TIMESTAMP_MICROS;
    e.logical = lt_time(PQ_LT_TIMESTAMP, PQ_UNIT_MICROS, true);
    sl_pq_meta m;
    memset(&m, 0, sizeof(m));
    m.version = 1;
    m.nschema = 1;
    m.schema = &e;
    m.num_rows = 1;
    sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(sl_pq_meta_encode(&m, &b), SL_OK);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    sl_buf_release(&b);

    /* INTEGER(8, signed) and DECIMAL(10,2) logical types */
    const uint8_t want_int[] = {0x6C, 0xAC, 0x13, 0x08, 0x11, 0x00, 0x00};
    const uint8_t want_dec[] = {0x6C, 0x5C, 0x15, 0x04, 0x15, 0x14, 0x00, 0x00};
    const struct {
        sl_pq_logical lt;
        const uint8_t *bytes;
        size_t len;
    } lts[] = {{lt_int(8, true), want_int, sizeof(want_int)},
               {lt_decimal(10, 2), want_dec, sizeof(want_dec)}};
    for (size_t i = 0; i < N(lts); i++) {
        sl_pq_schema_elem x;
        memset(&x, 0, sizeof(x));
        x.name = B("n");
        x.logical = lts[i].lt;
        m.schema = &x;
        sl_buf_init(&b, 0);
        assert_int_equal(sl_pq_meta_encode(&m, &b), SL_OK);
        /* version(2) list(2) name(3) then the logical type */
        assert_true(b.len > 7 + lts[i].len);
        assert_memory_equal(b.ptr + 7, lts[i].bytes, lts[i].len);
        sl_buf_release(&b);
    }
}

/* ---- malformed input -------------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *bytes;
    size_t len;
    const char *msg1; /* substrings the message must contain */
    const char *msg2;
} bad_case;

#define BYTES(s) s, sizeof(s) - 1

/* clang-format off */
static const bad_case bad_metas[] = {
    {"missing num_rows", BYTES("\x15\x02\x19\x1C\x48\x01r\x00\x29\x0C\x00"),
     "missing required field FileMetaData.num_rows", NULL},
    {"missing version", BYTES("\x29\x1C\x48\x01r\x00\x16\x00\x19\x0C\x00"),
     "FileMetaData.version", NULL},
    {"missing row_groups", BYTES("\x15\x02\x19\x1C\x48\x01r\x00\x16\x00\x00"),
     "FileMetaData.row_groups", NULL},
    {"schema element without name", BYTES("\x15\x02\x19\x1C\x15\x04\x00\x16\x00\x19\x0C\x00"),
     "SchemaElement.name", "schema[0]"},
    {"column chunk without codec",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x00\x16\x00\x19\x1C"
           "\x19\x1C\x26\x00\x1C\x15\x02\x19\x05\x19\x08\x26\x00\x16\x00\x16\x00\x26\x08\x00\x00"
           "\x16\x00\x16\x00\x00\x00"),
     "ColumnMetaData.codec", "row_groups[0].columns[0].meta_data"},
    {"column chunk without file_offset",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x00\x16\x00\x19\x1C\x19\x1C\x00\x16\x00\x16\x00\x00\x00"),
     "ColumnChunk.file_offset", "row_groups[0].columns[0]"},
    {"row group without num_rows",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x00\x16\x00\x19\x1C\x19\x0C\x16\x00\x00\x00"),
     "RowGroup.num_rows", "row_groups[0]"},
    {"key-value without key",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x00\x16\x00\x19\x0C\x19\x1C\x28\x01v\x00\x00"),
     "KeyValue.key", "key_value_metadata[0]"},
    {"version as i64", BYTES("\x16\x02\x19\x0C\x16\x00\x19\x0C\x00"),
     "FileMetaData.version has type i64, expected i32", NULL},
    {"schema as a map", BYTES("\x15\x02\x1B\x00\x16\x00\x19\x0C\x00"),
     "FileMetaData.schema has type map", NULL},
    {"schema list of i32", BYTES("\x15\x02\x19\x15\x02\x16\x00\x19\x0C\x00"),
     "list FileMetaData.schema has elements of type i32", NULL},
    {"union with two members",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x6C\x1C\x00\xBC\x00\x00\x00\x16\x00\x19\x0C\x00"),
     "union logicalType has 2 members", "schema[0].logicalType"},
    {"empty union", BYTES("\x15\x02\x19\x1C\x48\x01r\x6C\x00\x00\x16\x00\x19\x0C\x00"),
     "union logicalType has 0 members", NULL},
    {"union member not a struct",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x6C\x15\x02\x00\x00\x16\x00\x19\x0C\x00"),
     "member 1 has type i32", NULL},
    {"timestamp without unit",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x6C\x8C\x11\x00\x00\x00\x16\x00\x19\x0C\x00"),
     "TimestampType.unit", "logicalType.TIMESTAMP"},
    {"time unit with two members",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x6C\x7C\x11\x1C\x1C\x00\x1C\x00\x00\x00\x00\x00"
           "\x16\x00\x19\x0C\x00"),
     "union unit has 2 members", NULL},
    {"decimal without precision",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x6C\x5C\x15\x04\x00\x00\x00\x16\x00\x19\x0C\x00"),
     "DecimalType.precision", NULL},
    {"integer bit width as i32",
     BYTES("\x15\x02\x19\x1C\x48\x01r\x6C\xAC\x15\x10\x11\x00\x00\x00\x16\x00\x19\x0C\x00"),
     "IntType.bitWidth has type i32, expected byte", NULL},
    {"ordinal out of i16 range",
     BYTES("\x15\x02\x19\x0C\x16\x00\x19\x1C\x19\x0C\x16\x00\x16\x00\x44\x80\x80\x04\x00\x00"),
     "RowGroup.ordinal", "out of i16 range"},
    {"column order with a non-struct member",
     BYTES("\x15\x02\x19\x0C\x16\x00\x19\x0C\x39\x1C\x15\x00\x00\x00"),
     "union column_orders", "column_orders[0]"},
    {"truncated", BYTES("\x15\x02\x19\x1C\x48\x05r"), "truncated or malformed", "schema[0]"},
    {"empty input", BYTES(""), "truncated or malformed", NULL},
    {"nested too deep",
     BYTES("\x15\x02\x09\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C"
           "\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C\x1C"),
     "truncated or malformed", NULL},
};
/* clang-format on */

static void test_meta_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(bad_metas); i++) {
        const bad_case *c = &bad_metas[i];
        sl_pq_meta m;
        char msg[256];
        print_message("bad meta: %s\n", c->name);
        assert_int_equal(sl_pq_meta_decode(c->bytes, c->len, &m, msg, sizeof(msg)), SL_FORMAT);
        if (!strstr(msg, c->msg1) || (c->msg2 && !strstr(msg, c->msg2)))
            fail_msg("%s: unexpected message '%s'", c->name, msg);
        assert_null(m.arena);
        assert_null(m.schema);
        /* a short message buffer truncates, no buffer is fine */
        assert_int_equal(sl_pq_meta_decode(c->bytes, c->len, &m, msg, 8), SL_FORMAT);
        assert_true(strlen(msg) < 8);
        assert_int_equal(sl_pq_meta_decode(c->bytes, c->len, &m, NULL, 0), SL_FORMAT);
    }
    /* NULL input with zero length */
    sl_pq_meta m;
    assert_int_equal(sl_pq_meta_decode(NULL, 0, &m, NULL, 0), SL_FORMAT);
}

static void test_page_header_malformed(void **state)
{
    (void)state;
    const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } cases[] = {
        {"missing compressed size", BYTES("\x15\x00\x15\xC8\x01\x00")},
        {"missing type", BYTES("\x25\x00\x15\x00\x00")},
        {"data page missing encoding", BYTES("\x15\x00\x15\x00\x15\x00\x2C\x15\x00\x00\x00")},
        {"dictionary header missing encoding",
         BYTES("\x15\x04\x15\x00\x15\x00\x4C\x15\x00\x00\x00")},
        {"v2 missing num_rows",
         BYTES("\x15\x06\x15\x00\x15\x00\x5C\x15\x00\x15\x00\x25\x00\x15\x00\x15\x00\x00\x00")},
        {"crc as binary", BYTES("\x15\x00\x15\x00\x15\x00\x18\x00\x00")},
        {"data page header as list", BYTES("\x15\x00\x15\x00\x15\x00\x29\x05\x00")},
        {"i32 overflow", BYTES("\x15\x80\x80\x80\x80\x10\x15\x00\x15\x00\x00")},
        {"empty", BYTES("")},
    };
    for (size_t i = 0; i < N(cases); i++) {
        sl_pq_page_header h;
        size_t used = 77;
        print_message("bad page header: %s\n", cases[i].name);
        assert_int_equal(sl_pq_page_header_decode(cases[i].bytes, cases[i].len, &h, &used),
                         SL_FORMAT);
        assert_int_equal(used, 0);
    }
}

static void test_index_malformed(void **state)
{
    (void)state;
    sl_pq_column_index ci;
    sl_pq_offset_index oi;
    /* null_counts shorter than the pages */
    const char ci_short[] = "\x19\x21\x02\x01\x19\x28\x01"
                            "a"
                            "\x00\x19\x28\x01"
                            "z"
                            "\x00\x15\x02\x19\x16\x00\x00";
    assert_int_equal(sl_pq_column_index_decode(ci_short, sizeof(ci_short) - 1, &ci), SL_FORMAT);
    assert_null(ci.arena);
    /* missing boundary_order */
    const char ci_nobo[] = "\x19\x01\x19\x08\x19\x08\x00";
    assert_int_equal(sl_pq_column_index_decode(ci_nobo, sizeof(ci_nobo) - 1, &ci), SL_FORMAT);
    /* the same with boundary order is a valid empty index */
    const char ci_empty[] = "\x19\x01\x19\x08\x19\x08\x15\x00\x00";
    assert_int_equal(sl_pq_column_index_decode(ci_empty, sizeof(ci_empty) - 1, &ci), SL_OK);
    assert_int_equal(ci.npages, 0);
    sl_pq_column_index_release(&ci);
    /* page location without first_row_index */
    const char oi_bad[] = "\x19\x1C\x16\x08\x15\x02\x00\x00";
    assert_int_equal(sl_pq_offset_index_decode(oi_bad, sizeof(oi_bad) - 1, &oi), SL_FORMAT);
    assert_null(oi.arena);
    /* no page_locations */
    assert_int_equal(sl_pq_offset_index_decode("\x00", 1, &oi), SL_FORMAT);
}

/* A list header may claim one element per remaining byte; our structs are far larger than
 * one byte, so the decoder must refuse before allocating gigabytes. */
static void test_allocation_budget(void **state)
{
    (void)state;
    const uint32_t n = 300000;
    size_t len;
    uint8_t *p = calloc(1, n + 32);
    assert_non_null(p);
    const uint8_t head[] = {0x15, 0x02, 0x19, 0x0C, 0x16, 0x00, 0x19, 0xFC};
    memcpy(p, head, sizeof(head));
    len = sizeof(head);
    uint32_t v = n;
    for (; v >= 0x80; v >>= 7)
        p[len++] = (uint8_t)(v | 0x80);
    p[len++] = (uint8_t)v;
    len += n; /* n empty RowGroups (zeros) */
    sl_pq_meta m;
    char msg[256];
    assert_int_equal(sl_pq_meta_decode(p, len, &m, msg, sizeof(msg)), SL_FORMAT);
    if (!strstr(msg, "exceeds"))
        fail_msg("unexpected message '%s'", msg);

    free(p);
}

/* A writer that is not us: unknown fields of every type at every level must be skipped. */
static void write_unknowns(sl_tw *tw, int16_t from)
{
    sl_tw_i32(tw, from, -1);
    sl_tw_i64(tw, (int16_t)(from + 1), INT64_MIN);
    sl_tw_binary(tw, (int16_t)(from + 2), "unknown", 7);
    sl_tw_bool(tw, (int16_t)(from + 3), true);
    sl_tw_list_begin(tw, (int16_t)(from + 4), SL_CT_STRUCT, 2);
    for (int i = 0; i < 2; i++) {
        sl_tw_elem_struct_begin(tw);
        sl_tw_i32(tw, 1, i);
        sl_tw_bool(tw, 2, false);
        sl_tw_struct_end(tw);
    }
    sl_tw_struct_begin(tw, (int16_t)(from + 5));
    sl_tw_list_begin(tw, 1, SL_CT_I64, 3);
    for (int i = 0; i < 3; i++)
        sl_tw_elem_i64(tw, i);
    sl_tw_struct_end(tw);
    sl_tw_field(tw, SL_CT_MAP, (int16_t)(from + 6));
    sl_tw_varint(tw, 1);
    assert_int_equal(sl_buf_putc(tw->buf, 0x85), SL_OK); /* key binary, value i32 */
    sl_tw_elem_binary(tw, "k", 1);
    sl_tw_elem_i32(tw, 9);
    sl_tw_field(tw, SL_CT_DOUBLE, (int16_t)(from + 7));
    sl_tw_elem_i64(tw, 0); /* 8 bytes of double follow */
    sl_tw_varint(tw, 0);
    assert_int_equal(sl_buf_append(tw->buf, "\0\0\0\0\0\0", 6), SL_OK);
    sl_tw_field(tw, SL_CT_I16, (int16_t)(from + 8));
    sl_tw_varint(tw, 4);
    sl_tw_field(tw, SL_CT_BYTE, (int16_t)(from + 9));
    sl_tw_varint(tw, 0x7F);
}

static void test_unknown_fields(void **state)
{
    (void)state;
    sl_buf b;
    sl_tw tw;
    sl_buf_init(&b, 0);
    sl_tw_init(&tw, &b);
    sl_tw_root_begin(&tw);
    sl_tw_i32(&tw, 1, 2);
    sl_tw_list_begin(&tw, 2, SL_CT_STRUCT, 1);
    sl_tw_elem_struct_begin(&tw);
    sl_tw_string(&tw, 4, "root");
    sl_tw_struct_begin(&tw, 10); /* logicalType with a future member holding fields */
    sl_tw_struct_begin(&tw, 16);
    write_unknowns(&tw, 1);
    sl_tw_struct_end(&tw);
    sl_tw_struct_end(&tw);
    write_unknowns(&tw, 11);
    sl_tw_struct_end(&tw);
    sl_tw_i64(&tw, 3, 10);
    sl_tw_list_begin(&tw, 4, SL_CT_STRUCT, 1);
    sl_tw_elem_struct_begin(&tw);
    sl_tw_list_begin(&tw, 1, SL_CT_STRUCT, 1);
    sl_tw_elem_struct_begin(&tw);
    sl_tw_i64(&tw, 2, 4);
    sl_tw_struct_begin(&tw, 3);
    sl_tw_i32(&tw, 1, PQ_INT32);
    sl_tw_list_begin(&tw, 2, SL_CT_I32, 1);
    sl_tw_elem_i32(&tw, PQ_ENC_PLAIN);
    sl_tw_list_begin(&tw, 3, SL_CT_BINARY, 1);
    sl_tw_elem_binary(&tw, "c", 1);
    sl_tw_i32(&tw, 4, PQ_CODEC_SNAPPY);
    sl_tw_i64(&tw, 5, 10);
    sl_tw_i64(&tw, 6, 100);
    sl_tw_i64(&tw, 7, 90);
    sl_tw_list_begin(&tw, 8, SL_CT_STRUCT, 0); /* key_value_metadata: not kept */
    sl_tw_i64(&tw, 9, 4);
    sl_tw_struct_begin(&tw, 12);
    sl_tw_i64(&tw, 3, 1);
    sl_tw_i64(&tw, 9, 2); /* nan_count */
    sl_tw_struct_end(&tw);
    sl_tw_i64(&tw, 14, 5000); /* bloom_filter_offset */
    sl_tw_i32(&tw, 15, 100);
    write_unknowns(&tw, 20);
    sl_tw_struct_end(&tw);
    sl_tw_struct_begin(&tw, 8); /* crypto_metadata */
    sl_tw_struct_begin(&tw, 1);
    sl_tw_struct_end(&tw);
    sl_tw_struct_end(&tw);
    sl_tw_binary(&tw, 9, "enc", 3);
    sl_tw_struct_end(&tw);
    sl_tw_i64(&tw, 2, 100);
    sl_tw_i64(&tw, 3, 10);
    sl_tw_list_begin(&tw, 4, SL_CT_STRUCT, 1); /* sorting_columns */
    sl_tw_elem_struct_begin(&tw);
    sl_tw_i32(&tw, 1, 0);
    sl_tw_bool(&tw, 2, true);
    sl_tw_bool(&tw, 3, false);
    sl_tw_struct_end(&tw);
    write_unknowns(&tw, 100);
    sl_tw_struct_end(&tw);
    sl_tw_struct_begin(&tw, 8); /* encryption_algorithm */
    sl_tw_struct_begin(&tw, 1);
    sl_tw_binary(&tw, 1, "aad", 3);
    sl_tw_struct_end(&tw);
    sl_tw_struct_end(&tw);
    sl_tw_binary(&tw, 9, "sig", 3);
    write_unknowns(&tw, 1000);
    sl_tw_root_end(&tw);
    assert_int_equal(tw.err, SL_OK);

    sl_pq_meta m;
    char msg[256];
    sl_err err = sl_pq_meta_decode(b.ptr, b.len, &m, msg, sizeof(msg));
    if (err)
        fail_msg("decode failed: %s", msg);
    assert_int_equal(m.version, 2);
    assert_int_equal(m.nschema, 1);
    assert_int_equal(m.schema[0].logical.kind, 16);
    assert_int_equal(m.num_rows, 10);
    assert_int_equal(m.nrow_groups, 1);
    assert_int_equal(m.row_groups[0].ncolumns, 1);
    assert_int_equal(m.row_groups[0].total_byte_size, 100);
    const sl_pq_col_chunk *c = &m.row_groups[0].columns[0];
    assert_int_equal(c->file_offset, 4);
    assert_true(c->has_meta_data);
    assert_int_equal(c->meta_data.codec, PQ_CODEC_SNAPPY);
    assert_int_equal(c->meta_data.total_compressed_size, 90);
    assert_int_equal(c->meta_data.data_page_offset, 4);
    assert_true(c->meta_data.has_statistics);
    assert_int_equal(c->meta_data.statistics.null_count, 1);
    assert_int_equal(c->meta_data.npath, 1);
    assert_memory_equal(c->meta_data.path[0].ptr, "c", 1);
    sl_pq_meta_release(&m);
    sl_buf_release(&b);
}

static void test_encode_invalid(void **state)
{
    (void)state;
    sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(sl_buf_append(&b, "keep", 4), SL_OK);
    sl_pq_meta m;
    build_minimal(&m);
    m.nrow_groups = 2; /* with NULL row_groups */
    assert_int_equal(sl_pq_meta_encode(&m, &b), SL_INVALID);
    assert_int_equal(b.len, 4); /* rolled back */
    build_minimal(&m);
    m.schema[0].logical.kind = -3;
    assert_int_equal(sl_pq_meta_encode(&m, &b), SL_INVALID);
    build_minimal(&m);
    m.schema[0].logical = lt_time(PQ_LT_TIMESTAMP, 0, true); /* unit missing */
    assert_int_equal(sl_pq_meta_encode(&m, &b), SL_INVALID);
    build_minimal(&m);
    m.schema[0].name.ptr = NULL;
    m.schema[0].name.len = 3;
    assert_int_equal(sl_pq_meta_encode(&m, &b), SL_INVALID);
    assert_int_equal(b.len, 4);
    sl_pq_column_index ci = {2, NULL, NULL, NULL, 0, false, NULL, NULL};
    assert_int_equal(sl_pq_column_index_encode(&ci, &b), SL_INVALID);
    sl_pq_offset_index oi = {1, NULL, NULL};
    assert_int_equal(sl_pq_offset_index_encode(&oi, &b), SL_INVALID);
    assert_int_equal(b.len, 4);
    /* a capped buffer reports SL_FULL and is left as it was */
    sl_buf small;
    sl_buf_init(&small, 8);
    build_full(&m);
    assert_int_equal(sl_pq_meta_encode(&m, &small), SL_FULL);
    assert_int_equal(small.len, 0);
    sl_buf_release(&small);
    sl_buf_release(&b);
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_roundtrip),
        cmocka_unit_test(test_page_header_roundtrip),
        cmocka_unit_test(test_column_index_roundtrip),
        cmocka_unit_test(test_offset_index_roundtrip),
        cmocka_unit_test(test_page_header_bytes),
        cmocka_unit_test(test_page_header_long_form),
        cmocka_unit_test(test_column_index_bytes),
        cmocka_unit_test(test_offset_index_bytes),
        cmocka_unit_test(test_meta_bytes),
        cmocka_unit_test(test_meta_malformed),
        cmocka_unit_test(test_page_header_malformed),
        cmocka_unit_test(test_index_malformed),
        cmocka_unit_test(test_allocation_budget),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_encode_invalid),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
