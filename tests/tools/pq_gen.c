/* pq_gen.c: writes the round-trip corpus: Parquet files from libsluice plus, for each, the
 * values every independent reader must return (EXPECTED.json, format in tests/readers/README.md).
 *
 * usage: pq_gen OUTDIR        writes OUTDIR/<case>.parquet, OUTDIR/<case>.json, OUTDIR/list.txt
 *
 * Each case fixes a schema, writer options and a deterministic row generator (xorshift seeded
 * per case), so a failure names a file that can be regenerated bit for bit.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice.h"
#include "util/buf.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

#define CHECK(expr)                                                                            \
    do {                                                                                       \
        sl_err e_ = (expr);                                                                    \
        if (e_) {                                                                              \
            fprintf(stderr, "pq_gen: %s:%d: %s: %s\n", __FILE__, __LINE__, #expr,              \
                    sl_strerror(e_));                                                          \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* ---- canonical value text (see tests/readers/README.md) ---- */

static void put_decimal(sl_buf *b, __int128 v, unsigned scale)
{
    char digits[48];
    int n = 0;
    unsigned __int128 u = v < 0 ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n < (int)scale + 1)
        digits[n++] = '0';
    CHECK(sl_buf_putc(b, '"'));
    if (v < 0)
        CHECK(sl_buf_putc(b, '-'));
    for (int i = n - 1; i >= 0; i--) {
        CHECK(sl_buf_putc(b, (uint8_t)digits[i]));
        if (i == (int)scale && scale > 0)
            CHECK(sl_buf_putc(b, '.'));
    }
    CHECK(sl_buf_putc(b, '"'));
}

static void put_value(sl_buf *b, const sl_column *c, size_t r)
{
    if (c->valid && !c->valid[r]) {
        CHECK(sl_buf_puts(b, "null"));
        return;
    }
    const uint8_t *slot = c->width ? c->data + r * c->width : NULL;
    switch (c->type.id) {
    case SL_TYPE_BOOL:
        CHECK(sl_buf_puts(b, slot[0] ? "true" : "false"));
        return;
    case SL_TYPE_INT32:
    case SL_TYPE_DATE: {
        int32_t v;
        memcpy(&v, slot, 4);
        CHECK(sl_buf_printf(b, "\"%" PRId32 "\"", v));
        return;
    }
    case SL_TYPE_INT64:
    case SL_TYPE_TIMESTAMP: {
        int64_t v;
        memcpy(&v, slot, 8);
        CHECK(sl_buf_printf(b, "\"%" PRId64 "\"", v));
        return;
    }
    case SL_TYPE_FLOAT: {
        float f;
        uint32_t bits;
        memcpy(&f, slot, 4);
        memcpy(&bits, slot, 4);
        if (isnan(f))
            CHECK(sl_buf_puts(b, "\"NaN\""));
        else
            CHECK(sl_buf_printf(b, "\"f32:%08" PRIx32 "\"", bits));
        return;
    }
    case SL_TYPE_DOUBLE: {
        double d;
        uint64_t bits;
        memcpy(&d, slot, 8);
        memcpy(&bits, slot, 8);
        if (isnan(d))
            CHECK(sl_buf_puts(b, "\"NaN\""));
        else
            CHECK(sl_buf_printf(b, "\"f64:%016" PRIx64 "\"", bits));
        return;
    }
    case SL_TYPE_STRING:
    case SL_TYPE_JSON:
        CHECK(sl_buf_json_str(b, (const char *)c->bytes + c->offsets[r],
                              c->offsets[r + 1] - c->offsets[r]));
        return;
    case SL_TYPE_BINARY:
        CHECK(sl_buf_putc(b, '"'));
        for (uint32_t i = c->offsets[r]; i < c->offsets[r + 1]; i++)
            CHECK(sl_buf_printf(b, "%02x", c->bytes[i]));
        CHECK(sl_buf_putc(b, '"'));
        return;
    case SL_TYPE_DECIMAL: {
        __int128 v;
        if (c->width == 8) {
            int64_t x;
            memcpy(&x, slot, 8);
            v = x;
        } else {
            memcpy(&v, slot, 16);
        }
        put_decimal(b, v, c->type.scale);
        return;
    }
    default:
        CHECK(SL_INVALID);
    }
}

static void put_column_spec(sl_buf *b, const sl_field *f)
{
    static const char *const names[] = {"bool",   "int32",  "int64", "float", "double", "string",
                                        "binary", "json",   "date",  "timestamp", "decimal"};
    static const char *const units[] = {"ms", "us", "ns"};
    CHECK(sl_buf_puts(b, "{\"name\":"));
    CHECK(sl_buf_json_str(b, f->name, strlen(f->name)));
    CHECK(sl_buf_printf(b, ",\"type\":\"%s\"", names[f->type.id]));
    if (f->type.id == SL_TYPE_TIMESTAMP)
        CHECK(sl_buf_printf(b, ",\"unit\":\"%s\",\"utc\":%s", units[f->type.unit],
                            f->type.utc ? "true" : "false"));
    if (f->type.id == SL_TYPE_DECIMAL)
        CHECK(sl_buf_printf(b, ",\"precision\":%u,\"scale\":%u", f->type.precision,
                            f->type.scale));
    CHECK(sl_buf_printf(b, ",\"nullable\":%s}", f->nullable ? "true" : "false"));
}

/* ---- value generators ---- */

static const char *const words[] = {"alpha", "beta", "gamma", "delta", "épsilon", "ζeta",
                                    "日本語", "emoji 🎉", "", "comma, quote \" and \\"};

static void gen_string(sl_column *c, size_t r, int mode)
{
    if (mode == 3) /* low cardinality first, then random: dictionary fallback mid-chunk */
        mode = r < 10000 ? 0 : 1;
    char tmp[256];
    size_t n = 0;
    if (mode == 0) { /* low cardinality */
        const char *w = words[rnd_below(sizeof(words) / sizeof(words[0]))];
        CHECK(sl_col_append_bytes(c, w, strlen(w)));
        return;
    }
    size_t len = (size_t)rnd_below(mode == 2 ? 200 : 24);
    static const char *const pieces[] = {"a", "b", "Z", "0", " ", "é", "ß", "€", "𝄞", "\t",
                                         "\n", "\"", "\\", "x"};
    while (n < len) {
        const char *p = pieces[rnd_below(sizeof(pieces) / sizeof(pieces[0]))];
        size_t pl = strlen(p);
        if (n + pl > sizeof(tmp))
            break;
        memcpy(tmp + n, p, pl);
        n += pl;
    }
    CHECK(sl_col_append_bytes(c, tmp, n));
}

static __int128 pow10_128(unsigned p)
{
    __int128 v = 1;
    while (p--)
        v *= 10;
    return v;
}

/* Appends row r's value to column c. Rows 0..15 carry special values. */
static void gen_value(sl_column *c, size_t r, unsigned null_per_mille, int str_mode)
{
    if (c->nullable && (rnd_below(1000) < null_per_mille || (r % 16 == 15))) {
        CHECK(sl_col_append_null(c));
        return;
    }
    uint64_t x = rnd();
    switch (c->type.id) {
    case SL_TYPE_BOOL:
        CHECK(sl_col_append_bool(c, x & 1));
        return;
    case SL_TYPE_INT32: {
        static const int32_t sp[] = {INT32_MIN, INT32_MAX, 0, -1, 1};
        int32_t v = r < 5 ? sp[r] : (x & 8) ? (int32_t)(x >> 32) : (int32_t)(x % 100) - 50;
        CHECK(sl_col_append_i32(c, v));
        return;
    }
    case SL_TYPE_INT64: {
        static const int64_t sp[] = {INT64_MIN, INT64_MAX, 0, -1, 1, 9007199254740993LL};
        int64_t v = r < 6 ? sp[r] : (x & 8) ? (int64_t)x : (int64_t)(x % 1000) - 500;
        CHECK(sl_col_append_i64(c, v));
        return;
    }
    case SL_TYPE_FLOAT: {
        static const float sp[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 1.5f, -3.25f,
                                   1e-45f, 3.4028235e38f};
        float v;
        if (r < 9)
            v = sp[r];
        else if (x & 16)
            v = (float)((double)(int64_t)(x >> 11) / 1e10);
        else {
            uint32_t bits = (uint32_t)(x >> 32);
            memcpy(&v, &bits, 4);
        }
        CHECK(sl_col_append_f32(c, v));
        return;
    }
    case SL_TYPE_DOUBLE: {
        static const double sp[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, 0.1, -2.5e300,
                                    4.9e-324, 1.7976931348623157e308};
        double v;
        if (r < 9)
            v = sp[r];
        else if (x & 16)
            v = (double)(int64_t)(x >> 11) / 1e6;
        else
            memcpy(&v, &x, 8);
        CHECK(sl_col_append_f64(c, v));
        return;
    }
    case SL_TYPE_STRING:
        gen_string(c, r, str_mode);
        return;
    case SL_TYPE_JSON: {
        char tmp[128];
        int n = snprintf(tmp, sizeof(tmp),
                         "{\"id\":%u,\"tags\":[\"a\",\"b\"],\"ok\":%s,\"v\":null,\"s\":\"é\\\"\"}",
                         (unsigned)(x % 100000), (x & 2) ? "true" : "false");
        CHECK(sl_col_append_bytes(c, tmp, (size_t)n));
        return;
    }
    case SL_TYPE_BINARY: {
        uint8_t tmp[20];
        size_t n = (size_t)rnd_below(sizeof(tmp) + 1);
        for (size_t i = 0; i < n; i++)
            tmp[i] = (uint8_t)rnd();
        CHECK(sl_col_append_bytes(c, tmp, n));
        return;
    }
    case SL_TYPE_DATE: {
        static const int32_t sp[] = {-719162, 2932896, 0, -1, 19000};
        int32_t v = r < 5 ? sp[r] : (int32_t)(x % 40000) - 10000;
        CHECK(sl_col_append_i32(c, v));
        return;
    }
    case SL_TYPE_TIMESTAMP: {
        /* 0001-01-01 .. 9999-12-31 in seconds; ns columns stay within int64 nanoseconds */
        static const int64_t lo_s = -62135596800LL, hi_s = 253402300799LL;
        int64_t per_s = c->type.unit == SL_UNIT_MS ? 1000 : c->type.unit == SL_UNIT_US ? 1000000
                                                                                      : 1000000000;
        int64_t v;
        if (c->type.unit == SL_UNIT_NS) {
            /* near the int64 limits (1677-10-03 and 2262-03-30), not on them: DuckDB reads
             * +-(2^63-1) as +-infinity and cannot render statistics within days of the limits */
            static const int64_t sp[] = {INT64_MIN + 1000000000000000LL,
                                         INT64_MAX - 1000000000000000LL, 0, -1, 1};
            v = r < 5 ? sp[r] : (int64_t)(x % (uint64_t)(INT64_MAX - 1000000000000000LL));
            if (x & 1)
                v = -v;
        } else {
            int64_t sp[] = {lo_s * per_s, hi_s * per_s + per_s - 1, 0, -1, 1};
            v = r < 5 ? sp[r]
                      : lo_s * per_s + (int64_t)(x % (uint64_t)((hi_s - lo_s) * per_s));
        }
        CHECK(sl_col_append_i64(c, v));
        return;
    }
    case SL_TYPE_DECIMAL: {
        __int128 lim = pow10_128(c->type.precision) - 1;
        __int128 v;
        if (r < 3)
            v = r == 0 ? lim : r == 1 ? -lim : 0;
        else {
            unsigned __int128 u = (unsigned __int128)x << 64 | rnd();
            v = (__int128)(u % ((unsigned __int128)lim * 2 + 1) - (unsigned __int128)lim);
        }
        CHECK(sl_col_append_i128(c, v));
        return;
    }
    default:
        CHECK(SL_INVALID);
    }
}

/* ---- cases ---- */

typedef struct {
    const char *name;
    sl_codec codec;
    bool nullable;
    size_t rows;
    size_t batch_rows;
    unsigned null_per_mille;
    int str_mode;          /* 0 low cardinality, 1 short random, 2 long random, 3: 0 then 1 */
    size_t row_group_rows; /* 0 = default */
    size_t page_rows;
    size_t dict_bytes;     /* (size_t)-1 = default */
    int page_version;
    bool page_index;
    bool all_types;        /* else: a small set */
    bool float_nan_only;
} gen_case;

static void add_all_types(sl_schema *s, bool nullable)
{
    CHECK(sl_schema_add(s, "c_bool", sl_type_of(SL_TYPE_BOOL), nullable));
    CHECK(sl_schema_add(s, "c_i32", sl_type_of(SL_TYPE_INT32), nullable));
    CHECK(sl_schema_add(s, "c_i64", sl_type_of(SL_TYPE_INT64), nullable));
    CHECK(sl_schema_add(s, "c_f32", sl_type_of(SL_TYPE_FLOAT), nullable));
    CHECK(sl_schema_add(s, "c_f64", sl_type_of(SL_TYPE_DOUBLE), nullable));
    CHECK(sl_schema_add(s, "c_str", sl_type_of(SL_TYPE_STRING), nullable));
    CHECK(sl_schema_add(s, "c_bin", sl_type_of(SL_TYPE_BINARY), nullable));
    CHECK(sl_schema_add(s, "c_json", sl_type_of(SL_TYPE_JSON), nullable));
    CHECK(sl_schema_add(s, "c_date", sl_type_of(SL_TYPE_DATE), nullable));
    CHECK(sl_schema_add(s, "c_ts_ms", sl_type_timestamp(SL_UNIT_MS, true), nullable));
    CHECK(sl_schema_add(s, "c_ts_us", sl_type_timestamp(SL_UNIT_US, true), nullable));
    CHECK(sl_schema_add(s, "c_ts_ns", sl_type_timestamp(SL_UNIT_NS, true), nullable));
    CHECK(sl_schema_add(s, "c_ts_local_ms", sl_type_timestamp(SL_UNIT_MS, false), nullable));
    CHECK(sl_schema_add(s, "c_ts_local_us", sl_type_timestamp(SL_UNIT_US, false), nullable));
    CHECK(sl_schema_add(s, "c_ts_local_ns", sl_type_timestamp(SL_UNIT_NS, false), nullable));
    CHECK(sl_schema_add(s, "c_dec_4_2", sl_type_decimal(4, 2), nullable));
    CHECK(sl_schema_add(s, "c_dec_9_0", sl_type_decimal(9, 0), nullable));
    CHECK(sl_schema_add(s, "c_dec_18_3", sl_type_decimal(18, 3), nullable));
    CHECK(sl_schema_add(s, "c_dec_20_0", sl_type_decimal(20, 0), nullable));
    CHECK(sl_schema_add(s, "c_dec_38_10", sl_type_decimal(38, 10), nullable));
    CHECK(sl_schema_add(s, "c_str_unicode_name_é", sl_type_of(SL_TYPE_STRING), nullable));
}

static void run_case(const char *dir, const gen_case *gc, FILE *list)
{
    char path[4096], jpath[4096];
    snprintf(path, sizeof(path), "%s/%s.parquet", dir, gc->name);
    snprintf(jpath, sizeof(jpath), "%s/%s.json", dir, gc->name);
    rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)strlen(gc->name) * 1315423911u;
    for (const char *p = gc->name; *p; p++)
        rng_state = rng_state * 31 + (uint8_t)*p;
    if (!rng_state)
        rng_state = 1;

    sl_schema *s;
    CHECK(sl_schema_create(&s));
    if (gc->all_types) {
        add_all_types(s, gc->nullable);
    } else if (gc->float_nan_only) {
        CHECK(sl_schema_add(s, "f", sl_type_of(SL_TYPE_FLOAT), true));
        CHECK(sl_schema_add(s, "d", sl_type_of(SL_TYPE_DOUBLE), false));
    } else {
        CHECK(sl_schema_add(s, "id", sl_type_of(SL_TYPE_INT64), false));
        CHECK(sl_schema_add(s, "s", sl_type_of(SL_TYPE_STRING), gc->nullable));
        CHECK(sl_schema_add(s, "b", sl_type_of(SL_TYPE_BINARY), gc->nullable));
        CHECK(sl_schema_add(s, "x", sl_type_of(SL_TYPE_DOUBLE), gc->nullable));
    }

    sl_pq_opts o;
    sl_pq_opts_default(&o);
    o.codec = gc->codec;
    if (gc->row_group_rows)
        o.row_group_rows = gc->row_group_rows;
    if (gc->page_rows)
        o.page_rows = gc->page_rows;
    if (gc->dict_bytes != (size_t)-1)
        o.dict_bytes = gc->dict_bytes;
    o.page_version = gc->page_version ? gc->page_version : 1;
    o.page_index = gc->page_index;
    sl_kv kv[] = {{"sluice.test.case", (char *)gc->name}};
    o.kv = kv;
    o.nkv = 1;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "pq_gen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    sl_pq_writer *w;
    CHECK(sl_pq_writer_create(s, &o, sl_output_fd(&fd), &w));
    sl_batch *b;
    CHECK(sl_batch_create(s, &b));

    sl_buf js;
    sl_buf_init(&js, 0);
    CHECK(sl_buf_puts(&js, "{\"columns\":["));
    for (size_t i = 0; i < s->nfields; i++) {
        if (i)
            CHECK(sl_buf_putc(&js, ','));
        put_column_spec(&js, &s->fields[i]);
    }
    CHECK(sl_buf_printf(&js, "],\"num_rows\":%zu,\"rows\":[", gc->rows));

    size_t done = 0;
    while (done < gc->rows) {
        size_t n = gc->rows - done < gc->batch_rows ? gc->rows - done : gc->batch_rows;
        sl_batch_clear(b);
        for (size_t r = 0; r < n; r++)
            for (size_t ci = 0; ci < b->ncols; ci++) {
                sl_column *c = &b->cols[ci];
                if (gc->float_nan_only) {
                    if (c->type.id == SL_TYPE_FLOAT) {
                        if (r % 3 == 0)
                            CHECK(sl_col_append_null(c));
                        else
                            CHECK(sl_col_append_f32(c, NAN));
                    } else {
                        CHECK(sl_col_append_f64(c, (done + r) % 5 ? NAN : -0.0));
                    }
                } else if (!gc->all_types && ci == 0) {
                    CHECK(sl_col_append_i64(c, (int64_t)(done + r)));
                } else {
                    gen_value(c, done + r, gc->null_per_mille, gc->str_mode);
                }
            }
        CHECK(sl_batch_check(b));
        for (size_t r = 0; r < n; r++) {
            CHECK(sl_buf_puts(&js, done + r ? ",[" : "["));
            for (size_t ci = 0; ci < b->ncols; ci++) {
                if (ci)
                    CHECK(sl_buf_putc(&js, ','));
                put_value(&js, &b->cols[ci], r);
            }
            CHECK(sl_buf_putc(&js, ']'));
        }
        sl_err err = sl_pq_writer_write(w, b);
        if (err) {
            fprintf(stderr, "pq_gen: %s: %s (%s)\n", gc->name, sl_strerror(err),
                    sl_pq_writer_errmsg(w));
            exit(1);
        }
        done += n;
    }
    sl_err err = sl_pq_writer_finish(w);
    if (err) {
        fprintf(stderr, "pq_gen: %s: %s (%s)\n", gc->name, sl_strerror(err),
                sl_pq_writer_errmsg(w));
        exit(1);
    }
    CHECK(sl_buf_puts(&js, "]}\n"));
    close(fd);
    FILE *jf = fopen(jpath, "w");
    if (!jf || fwrite(js.ptr, 1, js.len, jf) != js.len || fclose(jf)) {
        fprintf(stderr, "pq_gen: %s: write failed\n", jpath);
        exit(1);
    }
    fprintf(list, "%s %s\n", jpath, path);
    sl_buf_release(&js);
    sl_pq_writer_destroy(w);
    sl_batch_destroy(b);
    sl_schema_destroy(s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pq_gen OUTDIR\n");
        return 2;
    }
    const char *dir = argv[1];
    mkdir(dir, 0755);
    char lpath[4096];
    snprintf(lpath, sizeof(lpath), "%s/list.txt", dir);
    FILE *list = fopen(lpath, "w");
    if (!list) {
        fprintf(stderr, "pq_gen: %s: %s\n", lpath, strerror(errno));
        return 1;
    }
    const size_t D = (size_t)-1;
    const gen_case cases[] = {
        /* name, codec, nullable, rows, batch, null‰, str, rg_rows, page_rows, dict, pv, pidx,
         * all_types, nan_only */
        {"types_none", SL_CODEC_NONE, true, 3000, 1000, 100, 0, 0, 0, D, 1, true, true, false},
        {"types_snappy", SL_CODEC_SNAPPY, true, 3000, 1000, 100, 1, 0, 0, D, 1, true, true, false},
        {"types_gzip", SL_CODEC_GZIP, true, 3000, 1000, 100, 1, 0, 0, D, 1, true, true, false},
        {"types_zstd", SL_CODEC_ZSTD, true, 3000, 1000, 100, 0, 0, 0, D, 1, true, true, false},
        {"types_lz4raw", SL_CODEC_LZ4_RAW, true, 3000, 1000, 100, 1, 0, 0, D, 1, true, true,
         false},
        {"types_required", SL_CODEC_SNAPPY, false, 2000, 700, 0, 1, 0, 0, D, 1, true, true,
         false},
        {"types_v2_zstd", SL_CODEC_ZSTD, true, 3000, 1000, 100, 1, 0, 500, D, 2, true, true,
         false},
        {"types_v2_none", SL_CODEC_NONE, true, 1000, 1000, 300, 0, 0, 0, D, 2, true, true, false},
        {"zero_rows", SL_CODEC_SNAPPY, true, 0, 100, 0, 0, 0, 0, D, 1, true, true, false},
        {"one_row", SL_CODEC_SNAPPY, true, 1, 1, 0, 0, 0, 0, D, 1, true, true, false},
        {"all_null", SL_CODEC_SNAPPY, true, 500, 100, 1000, 0, 0, 0, D, 1, true, true, false},
        {"many_row_groups", SL_CODEC_ZSTD, true, 10000, 777, 50, 0, 1000, 300, D, 1, true, true,
         false},
        {"no_dictionary", SL_CODEC_SNAPPY, true, 3000, 1000, 100, 0, 0, 0, 0, 1, true, true,
         false},
        {"no_page_index", SL_CODEC_SNAPPY, true, 2000, 1000, 100, 0, 0, 0, D, 1, false, true,
         false},
        {"dict_fallback", SL_CODEC_SNAPPY, true, 20000, 4096, 20, 3, 0, 2000, 2048, 1, true,
         false, false},
        {"long_strings", SL_CODEC_ZSTD, true, 5000, 1000, 20, 2, 0, 0, D, 1, true, false, false},
        {"big_pages", SL_CODEC_SNAPPY, true, 100000, 8192, 10, 2, 40000, 0, D, 1, true, false,
         false},
        {"nan_only", SL_CODEC_SNAPPY, true, 1000, 500, 0, 0, 0, 0, D, 1, true, false, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(dir, &cases[i], list);
    fclose(list);
    printf("pq_gen: wrote %zu cases to %s\n", sizeof(cases) / sizeof(cases[0]), dir);
    return 0;
}
