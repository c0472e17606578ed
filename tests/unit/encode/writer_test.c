/* writer_test.c: tests of src/encode/parquet/writer.c and rle.c.
 *
 * Files are written to memory, then the footer is decoded with pq_meta and pages are walked
 * and decoded, so each test asserts what is in the bytes: encodings chosen, dictionary
 * fallback, statistics and their truncation, page and row-group boundaries, error paths.
 * Value-level agreement with independent readers is tests/integration/parquet_roundtrip.sh.
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

#include "encode/parquet/codec.h"
#include "encode/parquet/pq_meta.h"
#include "encode/parquet/rle.h"
#include "sluice.h"

/* ---- helpers ---- */

static sl_err mem_write(void *ctx, const void *p, size_t n)
{
    return sl_buf_append(ctx, p, n);
}

typedef struct {
    size_t budget;
    size_t written;
} limited;

static sl_err limited_write(void *ctx, const void *p, size_t n)
{
    (void)p;
    limited *l = ctx;
    if (l->written + n > l->budget)
        return SL_NOSPACE;
    l->written += n;
    return SL_OK;
}

typedef struct {
    sl_buf file;
    sl_pq_meta meta;
} written;

static void decode_file(written *wr)
{
    const uint8_t *p = wr->file.ptr;
    size_t n = wr->file.len;
    assert_true(n >= 12);
    assert_memory_equal(p, "PAR1", 4);
    assert_memory_equal(p + n - 4, "PAR1", 4);
    uint32_t flen = sl_load_le32(p + n - 8);
    assert_true(flen + 12 <= n);
    char msg[256];
    sl_err err = sl_pq_meta_decode(p + n - 8 - flen, flen, &wr->meta, msg, sizeof(msg));
    if (err)
        fail_msg("footer: %s", msg);
}

static void finish_file(sl_pq_writer *w, written *wr)
{
    sl_err err = sl_pq_writer_finish(w);
    if (err)
        fail_msg("finish: %s (%s)", sl_strerror(err), sl_pq_writer_errmsg(w));
    sl_pq_writer_destroy(w);
    decode_file(wr);
}

static sl_pq_writer *open_writer(const sl_schema *s, const sl_pq_opts *o, written *wr)
{
    memset(wr, 0, sizeof(*wr));
    sl_buf_init(&wr->file, 0);
    sl_output out = {mem_write, &wr->file};
    sl_pq_writer *w = NULL;
    assert_int_equal(sl_pq_writer_create(s, o, out, &w), SL_OK);
    return w;
}

static void written_release(written *wr)
{
    sl_pq_meta_release(&wr->meta);
    sl_buf_release(&wr->file);
}

static void write_batch(sl_pq_writer *w, const sl_batch *b)
{
    sl_err err = sl_pq_writer_write(w, b);
    if (err)
        fail_msg("write: %s (%s)", sl_strerror(err), sl_pq_writer_errmsg(w));
}

static bool has_encoding(const sl_pq_col_meta *m, int enc)
{
    for (uint32_t i = 0; i < m->nencodings; i++)
        if (m->encodings[i] == enc)
            return true;
    return false;
}

typedef struct {
    int npages_data;
    int npages_dict;
    int enc_counts[10];
    int64_t values;
} page_walk;

/* Walks the pages of a column chunk, decompressing each, checking sizes add up. */
static page_walk walk_chunk(const written *wr, const sl_pq_col_meta *m)
{
    page_walk pw;
    memset(&pw, 0, sizeof(pw));
    int64_t start = m->has_dictionary_page_offset ? m->dictionary_page_offset : m->data_page_offset;
    int64_t end = start + m->total_compressed_size;
    int64_t pos = start;
    int64_t uncompressed = 0;
    sl_codec codec = m->codec == PQ_CODEC_SNAPPY   ? SL_CODEC_SNAPPY
                     : m->codec == PQ_CODEC_ZSTD    ? SL_CODEC_ZSTD
                     : m->codec == PQ_CODEC_GZIP    ? SL_CODEC_GZIP
                     : m->codec == PQ_CODEC_LZ4_RAW ? SL_CODEC_LZ4_RAW
                                                    : SL_CODEC_NONE;
    while (pos < end) {
        sl_pq_page_header h;
        size_t used;
        assert_int_equal(sl_pq_page_header_decode(wr->file.ptr + pos, (size_t)(end - pos), &h,
                                                  &used),
                         SL_OK);
        const uint8_t *body = wr->file.ptr + pos + used;
        sl_buf out;
        sl_buf_init(&out, 0);
        if (h.type == PQ_DATA_PAGE_V2) {
            size_t lv = (size_t)h.data_page_v2.definition_levels_byte_length;
            assert_int_equal(sl_codec_decompress(h.data_page_v2.is_compressed ? codec
                                                                              : SL_CODEC_NONE,
                                                 body + lv, (size_t)h.compressed_page_size - lv,
                                                 (size_t)h.uncompressed_page_size - lv, &out),
                             SL_OK);
        } else {
            assert_int_equal(sl_codec_decompress(codec, body, (size_t)h.compressed_page_size,
                                                 (size_t)h.uncompressed_page_size, &out),
                             SL_OK);
        }
        sl_buf_release(&out);
        if (h.type == PQ_DICTIONARY_PAGE) {
            assert_int_equal(pos, m->dictionary_page_offset);
            pw.npages_dict++;
        } else {
            if (pw.npages_data == 0)
                assert_int_equal(pos, m->data_page_offset);
            pw.npages_data++;
            int enc = h.type == PQ_DATA_PAGE ? h.data_page.encoding : h.data_page_v2.encoding;
            pw.enc_counts[enc]++;
            pw.values += h.type == PQ_DATA_PAGE ? h.data_page.num_values
                                                : h.data_page_v2.num_values;
        }
        uncompressed += (int64_t)used + h.uncompressed_page_size;
        pos += (int64_t)used + h.compressed_page_size;
    }
    assert_int_equal(pos, end);
    assert_int_equal(uncompressed, m->total_uncompressed_size);
    assert_int_equal(pw.values, m->num_values);
    return pw;
}

static sl_schema *schema1(const char *name, sl_type t, bool nullable)
{
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, name, t, nullable), SL_OK);
    return s;
}

/* ---- RLE ---- */

static void test_rle_known_vectors(void **state)
{
    (void)state;
    sl_buf b;
    sl_buf_init(&b, 0);
    /* Encodings.md example: 0..7 bit-packed with width 3 */
    uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(sl_rle_encode_u32(v, 8, 3, &b), SL_OK);
    const uint8_t want[] = {0x03, 0x88, 0xC6, 0xFA};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    /* 100 ones, width 1: one RLE run: header 100<<1 = 200 = varint c8 01, value 01 */
    b.len = 0;
    uint8_t ones[100];
    memset(ones, 1, sizeof(ones));
    assert_int_equal(sl_rle_encode_u8(ones, 100, 1, &b), SL_OK);
    const uint8_t want2[] = {0xC8, 0x01, 0x01};
    assert_int_equal(b.len, sizeof(want2));
    assert_memory_equal(b.ptr, want2, sizeof(want2));
    /* booleans LSB first */
    b.len = 0;
    uint8_t bools[10] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0};
    assert_int_equal(sl_bitpack_bools(bools, 10, &b), SL_OK);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.ptr[0], 0x8D);
    assert_int_equal(b.ptr[1], 0x01);
    assert_int_equal(sl_rle_bit_width(0), 1);
    assert_int_equal(sl_rle_bit_width(1), 1);
    assert_int_equal(sl_rle_bit_width(2), 2);
    assert_int_equal(sl_rle_bit_width(255), 8);
    assert_int_equal(sl_rle_bit_width(256), 9);
    assert_int_equal(sl_rle_bit_width(UINT32_MAX), 32);
    sl_buf_release(&b);
}

static void test_rle_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 88172645463325252ull;
    for (int iter = 0; iter < 400; iter++) {
        unsigned bw = 1 + (unsigned)(iter % 32);
        size_t n = (size_t)(iter * 37 % 3000) + 1;
        uint32_t *v = malloc(n * sizeof(*v));
        uint32_t *back = malloc(n * sizeof(*back));
        uint32_t mask = bw == 32 ? UINT32_MAX : (1u << bw) - 1;
        for (size_t i = 0; i < n; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            /* mix long runs, short runs and noise */
            if (i && (seed % 4) != 0)
                v[i] = v[i - 1];
            else
                v[i] = (uint32_t)(seed >> 20) & mask;
        }
        sl_buf b;
        sl_buf_init(&b, 0);
        assert_int_equal(sl_rle_encode_u32(v, n, bw, &b), SL_OK);
        size_t used = 0;
        assert_int_equal(sl_rle_decode_u32(b.ptr, b.len, bw, back, n, &used), SL_OK);
        assert_int_equal(used, b.len);
        assert_memory_equal(v, back, n * sizeof(*v));
        /* truncated input must fail, not read past the end */
        if (b.len > 1)
            assert_int_equal(sl_rle_decode_u32(b.ptr, b.len - 1, bw, back, n, &used),
                             SL_FORMAT);
        sl_buf_release(&b);
        free(v);
        free(back);
    }
}

/* ---- dictionary choices ---- */

static void test_dictionary_low_cardinality(void **state)
{
    (void)state;
    sl_schema *s = schema1("s", sl_type_of(SL_TYPE_STRING), true);
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.page_rows = 1000;
    written wr;
    sl_pq_writer *w = open_writer(s, &o, &wr);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    static const char *const words[] = {"red", "green", "blue"};
    for (int i = 0; i < 5000; i++) {
        if (i % 10 == 9)
            assert_int_equal(sl_col_append_null(&b->cols[0]), SL_OK);
        else
            assert_int_equal(sl_col_append_bytes(&b->cols[0], words[i % 3], strlen(words[i % 3])),
                             SL_OK);
    }
    write_batch(w, b);
    finish_file(w, &wr);
    assert_int_equal(wr.meta.nrow_groups, 1);
    const sl_pq_col_meta *m = &wr.meta.row_groups[0].columns[0].meta_data;
    assert_true(m->has_dictionary_page_offset);
    assert_true(has_encoding(m, PQ_ENC_RLE_DICTIONARY));
    assert_false(has_encoding(m, PQ_ENC_PLAIN_DICTIONARY));
    page_walk pw = walk_chunk(&wr, m);
    assert_int_equal(pw.npages_dict, 1);
    assert_int_equal(pw.npages_data, 5);
    assert_int_equal(pw.enc_counts[PQ_ENC_RLE_DICTIONARY], 5);
    assert_int_equal(m->statistics.null_count, 500);
    assert_int_equal(m->statistics.min_value.len, 4);
    assert_memory_equal(m->statistics.min_value.ptr, "blue", 4);
    assert_memory_equal(m->statistics.max_value.ptr, "red", 3);
    /* encoding_stats: 1 dictionary page, 5 dictionary-encoded data pages */
    assert_int_equal(m->nencoding_stats, 2);
    assert_int_equal(m->encoding_stats[0].page_type, PQ_DICTIONARY_PAGE);
    assert_int_equal(m->encoding_stats[1].encoding, PQ_ENC_RLE_DICTIONARY);
    assert_int_equal(m->encoding_stats[1].count, 5);
    written_release(&wr);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

static void test_dictionary_fallback_mid_chunk(void **state)
{
    (void)state;
    sl_schema *s = schema1("v", sl_type_of(SL_TYPE_INT64), false);
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.page_rows = 1000;
    o.dict_bytes = 8 * 300; /* room for 300 distinct int64 values */
    written wr;
    sl_pq_writer *w = open_writer(s, &o, &wr);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    /* first 3000 rows cycle through 100 values (dictionary pays), then all distinct */
    for (int64_t i = 0; i < 6000; i++)
        assert_int_equal(sl_col_append_i64(&b->cols[0], i < 3000 ? i % 100 : i), SL_OK);
    write_batch(w, b);
    finish_file(w, &wr);
    const sl_pq_col_meta *m = &wr.meta.row_groups[0].columns[0].meta_data;
    assert_true(has_encoding(m, PQ_ENC_RLE_DICTIONARY));
    assert_true(has_encoding(m, PQ_ENC_PLAIN));
    page_walk pw = walk_chunk(&wr, m);
    assert_int_equal(pw.npages_dict, 1);
    assert_true(pw.enc_counts[PQ_ENC_RLE_DICTIONARY] >= 3);
    assert_true(pw.enc_counts[PQ_ENC_PLAIN] >= 2);
    assert_int_equal(m->num_values, 6000);
    int64_t mn, mx;
    memcpy(&mn, m->statistics.min_value.ptr, 8);
    memcpy(&mx, m->statistics.max_value.ptr, 8);
    assert_int_equal(mn, 0);
    assert_int_equal(mx, 5999);
    written_release(&wr);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

static void test_dictionary_dropped_when_distinct(void **state)
{
    (void)state;
    sl_schema *s = schema1("v", sl_type_of(SL_TYPE_STRING), false);
    written wr;
    sl_pq_writer *w = open_writer(s, NULL, &wr);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    char tmp[32];
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(tmp, sizeof(tmp), "user-%08d", i * 7919);
        assert_int_equal(sl_col_append_bytes(&b->cols[0], tmp, (size_t)n), SL_OK);
    }
    write_batch(w, b);
    finish_file(w, &wr);
    const sl_pq_col_meta *m = &wr.meta.row_groups[0].columns[0].meta_data;
    assert_false(m->has_dictionary_page_offset);
    assert_false(has_encoding(m, PQ_ENC_RLE_DICTIONARY));
    page_walk pw = walk_chunk(&wr, m);
    assert_int_equal(pw.npages_dict, 0);
    assert_int_equal(pw.enc_counts[PQ_ENC_PLAIN], pw.npages_data);
    assert_int_equal(pw.npages_data, 3); /* 20000 rows per page */
    written_release(&wr);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

/* ---- statistics ---- */

static void test_stats_truncation(void **state)
{
    (void)state;
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "str", sl_type_of(SL_TYPE_STRING), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "bin", sl_type_of(SL_TYPE_BINARY), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "uni", sl_type_of(SL_TYPE_STRING), false), SL_OK);
    written wr;
    sl_pq_writer *w = open_writer(s, NULL, &wr);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    char a100[100], z100[100];
    memset(a100, 'a', sizeof(a100));
    memset(z100, 'z', sizeof(z100));
    uint8_t ff[80];
    memset(ff, 0xFF, sizeof(ff));
    /* 63 ASCII bytes then 'é' (2 bytes) straddling the 64-byte cut, then more */
    char uni[80];
    memset(uni, 'm', 63);
    memcpy(uni + 63, "\xC3\xA9", 2);
    memset(uni + 65, 'q', 15);
    assert_int_equal(sl_col_append_bytes(&b->cols[0], a100, 100), SL_OK);
    assert_int_equal(sl_col_append_bytes(&b->cols[0], z100, 100), SL_OK);
    assert_int_equal(sl_col_append_bytes(&b->cols[1], "\x00", 1), SL_OK);
    assert_int_equal(sl_col_append_bytes(&b->cols[1], ff, sizeof(ff)), SL_OK);
    assert_int_equal(sl_col_append_bytes(&b->cols[2], uni, sizeof(uni)), SL_OK);
    assert_int_equal(sl_col_append_bytes(&b->cols[2], "a", 1), SL_OK);
    write_batch(w, b);
    finish_file(w, &wr);
    const sl_pq_stats *st = &wr.meta.row_groups[0].columns[0].meta_data.statistics;
    assert_int_equal(st->min_value.len, 64);
    assert_memory_equal(st->min_value.ptr, a100, 64);
    assert_false(st->is_min_value_exact);
    assert_int_equal(st->max_value.len, 64);
    assert_memory_equal(st->max_value.ptr, z100, 63);
    assert_int_equal(st->max_value.ptr[63], '{'); /* 'z' + 1 */
    assert_false(st->is_max_value_exact);
    /* binary of all 0xFF: no upper bound of 64 bytes exists; max is omitted */
    st = &wr.meta.row_groups[0].columns[1].meta_data.statistics;
    assert_true(st->has_min_value);
    assert_true(st->is_min_value_exact);
    assert_false(st->has_max_value);
    /* UTF-8: the cut backs up to a code point start; the max's last code point is bumped */
    st = &wr.meta.row_groups[0].columns[2].meta_data.statistics;
    assert_int_equal(st->max_value.len, 63);
    assert_memory_equal(st->max_value.ptr, uni, 62);
    assert_int_equal(st->max_value.ptr[62], 'n');
    assert_int_equal(st->min_value.len, 1);
    assert_true(st->is_min_value_exact);
    written_release(&wr);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

static void test_stats_floats(void **state)
{
    (void)state;
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "zero_lo", sl_type_of(SL_TYPE_DOUBLE), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "zero_hi", sl_type_of(SL_TYPE_FLOAT), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "nan_only", sl_type_of(SL_TYPE_DOUBLE), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "with_nan", sl_type_of(SL_TYPE_DOUBLE), false), SL_OK);
    written wr;
    sl_pq_writer *w = open_writer(s, NULL, &wr);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    double lo[] = {0.0, 3.0, 1.0};
    float hi[] = {-2.0f, -0.0f, -1.0f};
    double wn[] = {NAN, 2.5, -7.0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sl_col_append_f64(&b->cols[0], lo[i]), SL_OK);
        assert_int_equal(sl_col_append_f32(&b->cols[1], hi[i]), SL_OK);
        if (i == 1)
            assert_int_equal(sl_col_append_null(&b->cols[2]), SL_OK);
        else
            assert_int_equal(sl_col_append_f64(&b->cols[2], NAN), SL_OK);
        assert_int_equal(sl_col_append_f64(&b->cols[3], wn[i]), SL_OK);
    }
    write_batch(w, b);
    finish_file(w, &wr);
    const sl_pq_row_group *rg = &wr.meta.row_groups[0];
    double d;
    float f;
    memcpy(&d, rg->columns[0].meta_data.statistics.min_value.ptr, 8);
    assert_true(d == 0.0 && signbit(d)); /* zero as min is written -0.0 */
    memcpy(&d, rg->columns[0].meta_data.statistics.max_value.ptr, 8);
    assert_true(d == 3.0);
    memcpy(&f, rg->columns[1].meta_data.statistics.max_value.ptr, 4);
    assert_true(f == 0.0f && !signbit(f)); /* zero as max is written +0.0 */
    memcpy(&f, rg->columns[1].meta_data.statistics.min_value.ptr, 4);
    assert_true(f == -2.0f);
    /* only NaN (and nulls): no bounds at all, null count still there */
    assert_false(rg->columns[2].meta_data.statistics.has_min_value);
    assert_false(rg->columns[2].meta_data.statistics.has_max_value);
    assert_int_equal(rg->columns[2].meta_data.statistics.null_count, 1);
    /* ... and no ColumnIndex for that chunk (a page without bounds cannot be indexed) */
    assert_false(rg->columns[2].has_column_index);
    assert_true(rg->columns[2].has_offset_index);
    memcpy(&d, rg->columns[3].meta_data.statistics.min_value.ptr, 8);
    assert_true(d == -7.0);
    memcpy(&d, rg->columns[3].meta_data.statistics.max_value.ptr, 8);
    assert_true(d == 2.5);
    written_release(&wr);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

/* ---- layout ---- */

static void test_row_groups_and_page_index(void **state)
{
    (void)state;
    sl_schema *s = schema1("id", sl_type_of(SL_TYPE_INT32), true);
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.row_group_rows = 1000;
    o.page_rows = 256;
    o.dict_bytes = 0;
    written wr;
    sl_pq_writer *w = open_writer(s, &o, &wr);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    for (int round = 0; round < 5; round++) { /* batches cut across row groups */
        sl_batch_clear(b);
        for (int i = 0; i < 700; i++) {
            int v = round * 700 + i;
            if (v >= 3000 && v < 3256)
                assert_int_equal(sl_col_append_null(&b->cols[0]), SL_OK); /* a null page */
            else
                assert_int_equal(sl_col_append_i32(&b->cols[0], v), SL_OK);
        }
        write_batch(w, b);
    }
    finish_file(w, &wr);
    assert_int_equal(wr.meta.num_rows, 3500);
    assert_int_equal(wr.meta.nrow_groups, 4);
    int64_t want_rows[] = {1000, 1000, 1000, 500};
    for (uint32_t r = 0; r < 4; r++) {
        const sl_pq_row_group *rg = &wr.meta.row_groups[r];
        assert_int_equal(rg->num_rows, want_rows[r]);
        const sl_pq_col_chunk *cc = &rg->columns[0];
        page_walk pw = walk_chunk(&wr, &cc->meta_data);
        assert_int_equal(pw.npages_data, (want_rows[r] + 255) / 256);
        assert_true(cc->has_offset_index && cc->has_column_index);
        sl_pq_offset_index oi;
        assert_int_equal(sl_pq_offset_index_decode(wr.file.ptr + cc->offset_index_offset,
                                                   (size_t)cc->offset_index_length, &oi),
                         SL_OK);
        assert_int_equal(oi.npages, (uint32_t)pw.npages_data);
        assert_int_equal(oi.pages[0].offset, cc->meta_data.data_page_offset);
        for (uint32_t p = 0; p < oi.npages; p++)
            assert_int_equal(oi.pages[p].first_row_index, (int64_t)p * 256);
        sl_pq_column_index ci;
        assert_int_equal(sl_pq_column_index_decode(wr.file.ptr + cc->column_index_offset,
                                                   (size_t)cc->column_index_length, &ci),
                         SL_OK);
        assert_int_equal(ci.npages, oi.npages);
        if (r == 3) {
            assert_true(ci.null_pages[0]); /* rows 3000..3255 */
            assert_int_equal(ci.null_counts[0], 256);
            assert_false(ci.null_pages[1]);
        } else {
            assert_int_equal(ci.boundary_order, PQ_ASCENDING);
            int32_t mn;
            memcpy(&mn, ci.min_values[0].ptr, 4);
            assert_int_equal(mn, (int32_t)r * 1000);
        }
        sl_pq_offset_index_release(&oi);
        sl_pq_column_index_release(&ci);
    }
    written_release(&wr);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

static void test_footer_metadata(void **state)
{
    (void)state;
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "ts", sl_type_timestamp(SL_UNIT_NS, false), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "d", sl_type_decimal(30, 4), false), SL_OK);
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.codec = SL_CODEC_ZSTD;
    sl_kv kv[] = {{"owner", "team-a"}};
    o.kv = kv;
    o.nkv = 1;
    written wr;
    sl_pq_writer *w = open_writer(s, &o, &wr);
    finish_file(w, &wr); /* zero rows */
    assert_int_equal(wr.meta.num_rows, 0);
    assert_int_equal(wr.meta.nrow_groups, 0);
    assert_int_equal(wr.meta.nschema, 3);
    const sl_pq_schema_elem *ts = &wr.meta.schema[1];
    assert_int_equal(ts->type, PQ_INT64);
    assert_int_equal(ts->repetition, PQ_OPTIONAL);
    assert_int_equal(ts->logical.kind, PQ_LT_TIMESTAMP);
    assert_int_equal(ts->logical.unit, PQ_UNIT_NANOS);
    assert_false(ts->logical.utc);
    assert_false(ts->has_converted_type); /* converted types only exist for UTC ms/us */
    const sl_pq_schema_elem *d = &wr.meta.schema[2];
    assert_int_equal(d->type, PQ_FIXED_LEN_BYTE_ARRAY);
    assert_int_equal(d->type_length, 13); /* 10^30-1 needs 100 bits + sign */
    assert_int_equal(d->logical.precision, 30);
    assert_int_equal(d->logical.scale, 4);
    assert_int_equal(d->converted_type, PQ_CT_DECIMAL);
    assert_int_equal(wr.meta.ncolumn_orders, 2);
    assert_int_equal(wr.meta.nkv, 2);
    assert_memory_equal(wr.meta.kv[0].key.ptr, "sluice.schema", 13);
    assert_memory_equal(wr.meta.kv[1].value.ptr, "team-a", 6);
    char want[128];
    snprintf(want, sizeof(want), "sluice version %s (build %s)", sl_version(), sl_build_id());
    assert_int_equal(wr.meta.created_by.len, strlen(want));
    assert_memory_equal(wr.meta.created_by.ptr, want, strlen(want));
    written_release(&wr);
    sl_schema_destroy(s);
}

/* ---- errors ---- */

static void test_errors(void **state)
{
    (void)state;
    sl_schema *s = schema1("d", sl_type_decimal(4, 2), false);
    written wr;
    sl_pq_writer *w = open_writer(s, NULL, &wr);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    assert_int_equal(sl_col_append_i64(&b->cols[0], 9999), SL_OK);
    assert_int_equal(sl_col_append_i64(&b->cols[0], 10000), SL_OK); /* 100.00 > decimal(4,2) */
    assert_int_equal(sl_pq_writer_write(w, b), SL_INVALID);
    assert_non_null(strstr(sl_pq_writer_errmsg(w), "precision 4"));
    /* poisoned: later calls fail with the first error */
    assert_int_equal(sl_pq_writer_finish(w), SL_INVALID);
    sl_pq_writer_destroy(w);
    sl_buf_release(&wr.file);

    /* batch from another schema */
    sl_schema *other = schema1("x", sl_type_of(SL_TYPE_INT32), false);
    sl_batch *ob;
    assert_int_equal(sl_batch_create(other, &ob), SL_OK);
    assert_int_equal(sl_col_append_i32(&ob->cols[0], 1), SL_OK);
    w = open_writer(s, NULL, &wr);
    assert_int_equal(sl_pq_writer_write(w, ob), SL_INVALID);
    sl_pq_writer_destroy(w);
    sl_buf_release(&wr.file);

    /* write after finish */
    w = open_writer(other, NULL, &wr);
    assert_int_equal(sl_pq_writer_finish(w), SL_OK);
    assert_int_equal(sl_pq_writer_write(w, ob), SL_STATE);
    sl_pq_writer_destroy(w);
    sl_buf_release(&wr.file);

    /* the output fails (disk full) in the middle: the error surfaces, nothing is claimed */
    limited lim = {300, 0};
    sl_output out = {limited_write, &lim};
    assert_int_equal(sl_pq_writer_create(other, NULL, out, &w), SL_OK);
    sl_batch_clear(ob);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(sl_col_append_i32(&ob->cols[0], i * 31), SL_OK);
    assert_int_equal(sl_pq_writer_write(w, ob), SL_OK); /* buffered in the row group */
    assert_int_equal(sl_pq_writer_finish(w), SL_NOSPACE);
    assert_true(lim.written <= 300);
    sl_pq_writer_destroy(w);

    /* invalid options and schema */
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.page_version = 3;
    assert_int_equal(sl_pq_writer_create(other, &o, out, &w), SL_INVALID);
    sl_schema *empty;
    assert_int_equal(sl_schema_create(&empty), SL_OK);
    assert_int_equal(sl_pq_writer_create(empty, NULL, out, &w), SL_INVALID);
    assert_int_equal(sl_schema_add(empty, "", sl_type_of(SL_TYPE_INT32), true), SL_INVALID);
    assert_int_equal(sl_schema_add(empty, "d", sl_type_decimal(39, 0), true), SL_INVALID);
    assert_int_equal(sl_schema_add(empty, "d", sl_type_decimal(5, 6), true), SL_INVALID);
    assert_int_equal(sl_schema_add(empty, "a", sl_type_of(SL_TYPE_INT32), true), SL_OK);
    assert_int_equal(sl_schema_add(empty, "a", sl_type_of(SL_TYPE_INT64), true), SL_INVALID);
    /* wrong appends */
    assert_int_equal(sl_col_append_null(&ob->cols[0]), SL_INVALID); /* not nullable */
    assert_int_equal(sl_col_append_f64(&ob->cols[0], 1.0), SL_INVALID);
    assert_int_equal(sl_col_append_bytes(&ob->cols[0], "x", 1), SL_INVALID);

    sl_schema_destroy(empty);
    sl_batch_destroy(ob);
    sl_schema_destroy(other);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

static void test_codecs_round_trip(void **state)
{
    (void)state;
    uint8_t data[5000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i % 13 == 0 ? i : 'x');
    for (int c = 0; c < SL_CODEC_COUNT; c++) {
        sl_codec_ctx *ctx;
        assert_int_equal(sl_codec_ctx_create((sl_codec)c, 0, &ctx), SL_OK);
        sl_buf comp, back;
        sl_buf_init(&comp, 0);
        sl_buf_init(&back, 0);
        assert_int_equal(sl_codec_compress(ctx, data, sizeof(data), &comp), SL_OK);
        assert_int_equal(sl_codec_decompress((sl_codec)c, comp.ptr, comp.len, sizeof(data), &back),
                         SL_OK);
        assert_memory_equal(back.ptr, data, sizeof(data));
        /* a wrong expected size is an error */
        back.len = 0;
        assert_int_equal(
            sl_codec_decompress((sl_codec)c, comp.ptr, comp.len, sizeof(data) + 1, &back),
            SL_FORMAT);
        sl_buf_release(&comp);
        sl_buf_release(&back);
        sl_codec_ctx_destroy(ctx);
        sl_codec parsed;
        assert_int_equal(sl_codec_parse(sl_codec_name((sl_codec)c), &parsed), SL_OK);
        assert_int_equal(parsed, c);
    }
    sl_codec parsed;
    assert_int_equal(sl_codec_parse("brotli", &parsed), SL_INVALID);
    sl_codec_ctx *ctx;
    assert_int_equal(sl_codec_ctx_create(SL_CODEC_GZIP, 12, &ctx), SL_INVALID);
}

/* Encoding columns on several threads gives the same bytes as on one. */
static void test_threads_identical_output(void **state)
{
    (void)state;
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "a", sl_type_of(SL_TYPE_INT64), false), SL_OK);
    assert_int_equal(sl_schema_add(s, "b", sl_type_of(SL_TYPE_STRING), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "c", sl_type_of(SL_TYPE_DOUBLE), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "d", sl_type_decimal(20, 2), true), SL_OK);
    assert_int_equal(sl_schema_add(s, "e", sl_type_of(SL_TYPE_BOOL), false), SL_OK);
    sl_batch *b;
    assert_int_equal(sl_batch_create(s, &b), SL_OK);
    char tmp[32];
    for (int i = 0; i < 50000; i++) {
        assert_int_equal(sl_col_append_i64(&b->cols[0], (int64_t)i * 7919 % 100003), SL_OK);
        int n = snprintf(tmp, sizeof(tmp), "v%d", i % (i < 25000 ? 37 : 5000));
        if (i % 11 == 0)
            assert_int_equal(sl_col_append_null(&b->cols[1]), SL_OK);
        else
            assert_int_equal(sl_col_append_bytes(&b->cols[1], tmp, (size_t)n), SL_OK);
        assert_int_equal(sl_col_append_f64(&b->cols[2], i / 3.0), SL_OK);
        assert_int_equal(sl_col_append_i64(&b->cols[3], i - 25000), SL_OK);
        assert_int_equal(sl_col_append_bool(&b->cols[4], i % 3 == 0), SL_OK);
    }
    sl_buf ref;
    sl_buf_init(&ref, 0);
    for (int threads = 1; threads <= 4; threads++) {
        sl_pq_opts o;
        sl_pq_opts_default(&o);
        o.threads = threads;
        o.row_group_rows = 16384;
        o.codec = SL_CODEC_ZSTD;
        written wr;
        sl_pq_writer *w = open_writer(s, &o, &wr);
        write_batch(w, b);
        write_batch(w, b);
        finish_file(w, &wr);
        assert_int_equal(wr.meta.num_rows, 100000);
        if (threads == 1) {
            assert_int_equal(sl_buf_append(&ref, wr.file.ptr, wr.file.len), SL_OK);
        } else {
            assert_int_equal(wr.file.len, ref.len);
            assert_memory_equal(wr.file.ptr, ref.ptr, ref.len);
        }
        written_release(&wr);
    }
    /* an error in a column encoded on a helper thread surfaces with its message */
    sl_schema *ds = schema1("d", sl_type_decimal(4, 2), false);
    sl_batch *db;
    assert_int_equal(sl_batch_create(ds, &db), SL_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(sl_col_append_i64(&db->cols[0], i == 999 ? 10000 : i), SL_OK);
    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.threads = 3;
    written wr;
    sl_pq_writer *w = open_writer(ds, &o, &wr);
    assert_int_equal(sl_pq_writer_write(w, db), SL_INVALID);
    assert_non_null(strstr(sl_pq_writer_errmsg(w), "row 999"));
    sl_pq_writer_destroy(w);
    sl_buf_release(&wr.file);
    sl_batch_destroy(db);
    sl_schema_destroy(ds);
    sl_buf_release(&ref);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rle_known_vectors),
        cmocka_unit_test(test_rle_round_trip),
        cmocka_unit_test(test_dictionary_low_cardinality),
        cmocka_unit_test(test_dictionary_fallback_mid_chunk),
        cmocka_unit_test(test_dictionary_dropped_when_distinct),
        cmocka_unit_test(test_stats_truncation),
        cmocka_unit_test(test_stats_floats),
        cmocka_unit_test(test_row_groups_and_page_index),
        cmocka_unit_test(test_footer_metadata),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_codecs_round_trip),
        cmocka_unit_test(test_threads_identical_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
