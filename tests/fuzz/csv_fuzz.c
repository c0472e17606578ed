/* csv_fuzz.c: differential fuzz target for the CSV parser (src/parse/csv.c, csv_simd.c).
 *
 * Input: byte 0 selects options (bit 0 header, bits 1-2 quoting: '"', '\'', none, '"' with
 * backslash escapes; bits 3-4 delimiter: ',', '\t', ';', '|'; bit 5 max_record 64 bytes;
 * bit 6 block of 1 row instead of 7), byte 1 seeds the chunk sizes; the rest is the CSV text.
 *
 * Properties (any violation aborts with a description):
 *   - the scalar parser fed the whole input is the reference (header, every cell, every error,
 *     line numbers, raw record bytes);
 *   - every kernel this CPU has gives the same, fed whole and fed in chunks of pseudo-random
 *     sizes (1..64 bytes or larger, from byte 1);
 *   - sl_csv_split() at several lengths returns exactly the last record boundary of the
 *     scalar scanner (and the '\n' count before it), for every kernel; and parsing the two
 *     pieces it cuts (header = false, the second from line 1 + newlines) gives the rows of
 *     the whole input;
 *   - no crash, leak or sanitizer report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/csv.h"
#include "parse/csv_internal.h"
#include "util/buf.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "csv_fuzz: " __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void put(sl_buf *o, const void *p, size_t n)
{
    CHECK(sl_buf_append(o, p, n) == SL_OK, "out of memory");
}

/* memcmp that accepts NULL when n is 0 */
static bool same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static void put_cell(sl_buf *o, const uint8_t *text, const sl_cell *c)
{
    uint8_t head[2] = {c->kind, c->flags};
    uint32_t len = c->kind == SL_CELL_MISSING ? 0 : c->len;
    put(o, head, 2);
    put(o, &len, sizeof(len));
    if (len)
        put(o, text + c->off, len);
}

static void put_rows(sl_buf *o, const sl_rowblock *b)
{
    size_t nbad = 0;
    for (size_t r = 0; r < b->nrows; r++) {
        const sl_row_err *e = &b->row_err[r];
        CHECK((size_t)b->rec_off[r] + b->rec_len[r] <= b->text_len, "record outside text");
        put(o, &b->line[r], sizeof(b->line[r]));
        put(o, &b->rec_len[r], sizeof(b->rec_len[r]));
        put(o, b->text + b->rec_off[r], b->rec_len[r]);
        for (size_t i = 0; i < b->ncols; i++) {
            const sl_cell *c = &b->cells[r * b->ncols + i];
            CHECK(c->kind == SL_CELL_MISSING || (size_t)c->off + c->len <= b->text_len,
                  "cell outside text");
            put_cell(o, b->text, c);
        }
        put(o, &e->code, sizeof(e->code));
        if (e->code != SL_ROW_OK) {
            nbad++;
            put(o, &e->line, sizeof(e->line));
            put(o, &e->column, sizeof(e->column));
            put(o, e->detail, strlen(e->detail));
        }
        put(o, "\n", 1);
    }
    CHECK(nbad == b->nbad, "nbad %zu, counted %zu", b->nbad, nbad);
}

typedef struct {
    sl_csv_opts o;
    size_t cap_rows;
    size_t ncols; /* 0: from sl_csv_header(); else fixed and header() is not called */
    uint64_t first_line;
} cfg_t;

/* Parses in[0..n) fed as the cut list says (cuts ascending, ending at n); the printed result
 * goes to out. */
static void run(const cfg_t *cfg, const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts,
                sl_buf *out)
{
    sl_csv *p;
    sl_rowblock b;
    bool have = false, failed = false;
    CHECK(sl_csv_create(&cfg->o, &p) == SL_OK, "create");
    if (cfg->first_line)
        sl_csv_set_first_line(p, cfg->first_line);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts && !failed; i++) {
        bool eof = i == ncuts;
        size_t to = eof ? n : cuts[i];
        if (to > at)
            CHECK(sl_csv_feed(p, in + at, to - at) == SL_OK, "feed");
        at = to;
        if (eof)
            sl_csv_end_input(p);
        if (!have && cfg->ncols) {
            /* a fixed column count (a schema): no header() call */
            CHECK(sl_rowblock_init(&b, cfg->ncols, cfg->cap_rows) == SL_OK, "rowblock");
            have = true;
        }
        if (!have) {
            size_t nf;
            const sl_cell *names;
            const uint8_t *text;
            sl_err err = sl_csv_header(p, &nf, &names, &text);
            if (err == SL_RETRY) {
                CHECK(!eof, "header unknown at eof");
                continue;
            }
            if (err) {
                CHECK(err == SL_FORMAT, "header error %d", err);
                put(out, "E", 1);
                put(out, sl_csv_errmsg(p), strlen(sl_csv_errmsg(p)));
                failed = true;
                break;
            }
            put(out, "H", 1);
            put(out, &nf, sizeof(nf));
            for (size_t k = 0; names && k < nf; k++)
                put_cell(out, text, &names[k]);
            CHECK(sl_rowblock_init(&b, nf, cfg->cap_rows) == SL_OK, "rowblock");
            have = true;
        }
        for (;;) {
            sl_rowblock_clear(&b);
            CHECK(sl_csv_next(p, eof, &b) == SL_OK, "next");
            if (!b.nrows)
                break;
            CHECK(b.nrows <= b.cap_rows, "overfull block");
            put_rows(out, &b);
        }
    }
    if (have)
        sl_rowblock_release(&b);
    sl_csv_destroy(p);
}

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const sl_csv_simd KERNELS[] = {SL_CSV_SIMD_SSE2, SL_CSV_SIMD_AVX2};

static void check_same(const sl_buf *a, const sl_buf *b, const char *what, sl_csv_simd k)
{
    CHECK(a->len == b->len && same_bytes(a->ptr, b->ptr, a->len),
          "%s with kernel %s differs from whole scalar parse", what, sl_csv_simd_name(k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t sel = data[0];
    uint64_t seed = data[1];
    const uint8_t *in = data + 2;
    size_t n = size - 2;

    cfg_t cfg = {0};
    sl_csv_opts_default(&cfg.o);
    cfg.o.header = sel & 1;
    static const char quotes[4] = {'"', '\'', 0, '"'};
    cfg.o.quote = quotes[(sel >> 1) & 3];
    cfg.o.escape = ((sel >> 1) & 3) == 3 ? '\\' : 0;
    static const char delims[4] = {',', '\t', ';', '|'};
    cfg.o.delim = delims[(sel >> 3) & 3];
    if (sel & 32)
        cfg.o.max_record = 64;
    cfg.cap_rows = sel & 64 ? 1 : 7;
    cfg.o.simd = SL_CSV_SIMD_SCALAR;

    sl_buf want, got;
    sl_buf_init(&want, 0);
    sl_buf_init(&got, 0);
    run(&cfg, in, n, NULL, 0, &want);

    /* random chunk sizes */
    size_t cuts[4096];
    size_t ncuts = 0, at = 0;
    while (ncuts < sizeof(cuts) / sizeof(cuts[0])) {
        uint64_t r = mix(&seed);
        size_t step = r % 8 == 0 ? 1 + (r >> 8) % 1024 : 1 + (r >> 8) % 64;
        if (at + step >= n)
            break;
        at += step;
        cuts[ncuts++] = at;
    }

    for (size_t k = 0; k <= sizeof(KERNELS) / sizeof(KERNELS[0]); k++) {
        sl_csv_simd kern = k ? KERNELS[k - 1] : SL_CSV_SIMD_SCALAR;
        if (!sl_csv_simd_supported(kern))
            continue;
        cfg_t c2 = cfg;
        c2.o.simd = kern;
        if (k) {
            got.len = 0;
            run(&c2, in, n, NULL, 0, &got);
            check_same(&got, &want, "whole input", kern);
        }
        got.len = 0;
        run(&c2, in, n, cuts, ncuts, &got);
        check_same(&got, &want, "chunked input", kern);
    }

    /* split: the exact last boundary, for every kernel */
    sl__csv_chars ch;
    sl__csv_chars_init(&ch, &cfg.o);
    size_t probes[8];
    size_t nprobes = 0;
    probes[nprobes++] = n;
    for (int i = 0; i < 7; i++)
        probes[nprobes++] = n ? (size_t)(mix(&seed) % (n + 1)) : 0;
    for (size_t i = 0; i < nprobes; i++) {
        size_t len = probes[i], ref = 0, x0 = 0;
        uint64_t ref_nl = 0;
        for (;;) {
            sl__csv_scan s = {0};
            size_t x = sl__csv_scan_record(&ch, &s, in, x0, len);
            if (x == len)
                break;
            ref_nl += s.lfs + 1;
            ref = x0 = x + 1;
        }
        for (size_t k = 0; k <= sizeof(KERNELS) / sizeof(KERNELS[0]); k++) {
            sl_csv_simd kern = k ? KERNELS[k - 1] : SL_CSV_SIMD_SCALAR;
            if (!sl_csv_simd_supported(kern))
                continue;
            sl_csv_opts o = cfg.o;
            o.simd = kern;
            uint64_t nl = 12345;
            size_t s = sl_csv_split(&o, in, len, &nl);
            CHECK(s == ref && nl == ref_nl, "split(%zu) with %s: %zu/%llu, scanner says %zu/%llu",
                  len, sl_csv_simd_name(kern), s, (unsigned long long)nl, ref,
                  (unsigned long long)ref_nl);
        }
    }

    /* parsing the pieces split() cuts gives the rows of the whole (no header: the pieces
     * would each have their own) */
    {
        cfg_t c3 = cfg;
        c3.o.header = false;
        c3.ncols = 3;
        c3.o.simd = SL_CSV_SIMD_AUTO;
        sl_buf whole, first, second;
        sl_buf_init(&whole, 0);
        sl_buf_init(&first, 0);
        sl_buf_init(&second, 0);
        run(&c3, in, n, NULL, 0, &whole);
        uint64_t nl;
        size_t bom = sl_csv_bom_len(in, probes[1]);
        size_t s = bom + sl_csv_split(&c3.o, in + bom, probes[1] - bom, &nl);
        if (s == bom) /* no boundary: the first piece is empty */
            s = nl = 0;
        run(&c3, in, s, NULL, 0, &first);
        c3.first_line = 1 + nl;
        run(&c3, in + s, n - s, NULL, 0, &second);
        CHECK(first.len + second.len == whole.len && same_bytes(first.ptr, whole.ptr, first.len) &&
                  (!second.len || same_bytes(second.ptr, whole.ptr + first.len, second.len)),
              "split at %zu then parse differs from whole parse", s);
        sl_buf_release(&whole);
        sl_buf_release(&first);
        sl_buf_release(&second);
    }

    sl_buf_release(&want);
    sl_buf_release(&got);
    return 0;
}
