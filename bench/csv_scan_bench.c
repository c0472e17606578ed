/* csv_scan_bench.c: CSV parsing throughput of libsluice (src/parse/csv.c) per kernel.
 *
 * usage: csv_scan_bench [--mb N] [--reps R] [--chunk BYTES] [--rows-per-block B] [--file F]
 *                       [--kernel K]
 *
 *   --mb N       size of the generated CSV in MB (10^6 bytes; default 100)
 *   --reps R     timed runs per kernel, the median is reported (default 3)
 *   --chunk C    bytes per sl_csv_feed (default 1 MiB), as a streaming reader would feed
 *   --rows-per-block B   rows per sl_rowblock (default 65536)
 *   --file F     parse this file (read into memory first) instead of the generated table
 *   --kernel K   only this kernel: scalar, sse2 or avx2 (default: each the CPU has)
 *
 * The table mimics the benchmark table of bench/encode_bench.c (12 columns, a function of the
 * row number): id, qty, val (ints), price, ratio (doubles), flag (bool), status (20 words),
 * user_id (~1M distinct), day (date), ts (ISO-8601 timestamp), amount (decimal), note: empty
 * for ~10% (null), plain text for ~30%, otherwise quoted text with a comma, a third of those
 * with doubled quotes too. About 130 bytes a row.
 *
 * Timed: sl_csv_create, then feed chunk + sl_csv_next until the block comes back empty, for
 * the whole input, then the final next(eof); i.e. field splitting into cells, with the copy into
 * the parser's buffer, but no conversion of values. Also sl_csv_split over the whole input.
 * Output: one line per kernel with MB/s and rows/s by wall time (CLOCK_MONOTONIC) and by the
 * thread's CPU time (less inflated on a shared machine), plus one tab-separated line:
 * result, kernel, bytes, rows, median_s, min_s, cpu_median_s, split_median_s.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/csv.h"
#include "util/buf.h"

static const char *const WORDS[20] = {
    "pending",  "processing", "shipped", "delivered", "cancelled",  "returned", "refunded",
    "on_hold",  "backorder",  "failed",  "completed", "in_transit", "awaiting", "partial",
    "disputed", "archived",   "draft",   "scheduled", "expired",    "unknown",
};

static uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "csv_scan_bench: %s\n", what);
    exit(1);
}

static void gen_row(sl_buf *b, uint64_t i)
{
    uint64_t r0 = splitmix64(5 * i), r1 = splitmix64(5 * i + 1), r2 = splitmix64(5 * i + 2);
    uint64_t r3 = splitmix64(5 * i + 3), r4 = splitmix64(5 * i + 4);
    int64_t ts_us = 1577836800000000LL + (int64_t)i * 2500000LL + (int64_t)((r4 >> 40) % 1000000);
    time_t secs = (time_t)(ts_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int64_t amount = (int64_t)((r3 >> 32) % 100000000) - 20000000;
    sl_err err = sl_buf_printf(
        b,
        "%" PRIu64 ",%u,%" PRId64 ",%.6f,%.2f,%s,%s,user-%" PRIu64 ",%04d-%02d-%02d,"
        "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ,%s%" PRId64 ".%02d,",
        i, (unsigned)((r0 & 0xffffffffu) % 1000), (int64_t)(r2 >> 24) - ((int64_t)1 << 39),
        (double)(r1 >> 11) / 9007199254740992.0 * 1000.0, (double)((r2 & 0xfffff) % 100000) / 100.0,
        ((r0 >> 32) & 3) == 0 ? "true" : "false", WORDS[(r0 >> 40) % 20],
        (r3 & 0xffffffffu) % 1000003, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        (int)(ts_us % 1000000), amount < 0 ? "-" : "", (amount < 0 ? -amount : amount) / 100,
        (int)((amount < 0 ? -amount : amount) % 100));
    if (err)
        die("out of memory");
    unsigned kind = (unsigned)((r0 >> 56) % 10);
    const char *w1 = WORDS[(r4 & 0xff) % 20], *w2 = WORDS[((r4 >> 32) & 0xff) % 20];
    unsigned num = (unsigned)(((r4 >> 8) & 0xffffff) % 10000);
    if (kind == 0)
        err = SL_OK; /* null */
    else if (kind <= 3)
        err = sl_buf_printf(b, "%s %s #%u", w1, w2, num);
    else if (kind <= 7)
        err = sl_buf_printf(b, "\"%s, then %s #%u\"", w1, w2, num);
    else
        err = sl_buf_printf(b, "\"%s, \"\"%s\"\" #%u\"", w1, w2, num);
    if (!err)
        err = sl_buf_putc(b, '\n');
    if (err)
        die("out of memory");
}

typedef struct {
    double secs, cpu;
    uint64_t rows, bad;
} parse_result;

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static parse_result parse_once(const sl_csv_opts *o, const uint8_t *in, size_t n, size_t chunk,
                               size_t cap_rows)
{
    sl_csv *p;
    sl_rowblock b;
    parse_result res = {0, 0, 0, 0};
    double t0 = now_s(), c0 = cpu_s();
    if (sl_csv_create(o, &p))
        die("sl_csv_create");
    size_t at = 0, nf = 0;
    bool have = false;
    for (;;) {
        bool eof = at == n;
        if (!eof) {
            size_t k = n - at < chunk ? n - at : chunk;
            if (sl_csv_feed(p, in + at, k))
                die("sl_csv_feed");
            at += k;
        } else {
            sl_csv_end_input(p);
        }
        if (!have) {
            const sl_cell *names;
            const uint8_t *text;
            sl_err err = sl_csv_header(p, &nf, &names, &text);
            if (err == SL_RETRY)
                continue;
            if (err || sl_rowblock_init(&b, nf, cap_rows))
                die("header");
            have = true;
        }
        for (;;) {
            sl_rowblock_clear(&b);
            if (sl_csv_next(p, eof, &b))
                die("sl_csv_next");
            if (!b.nrows)
                break;
            res.rows += b.nrows;
            res.bad += b.nbad;
        }
        if (eof)
            break;
    }
    res.secs = now_s() - t0;
    res.cpu = cpu_s() - c0;
    sl_rowblock_release(&b);
    sl_csv_destroy(p);
    return res;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    double mb = 100;
    int reps = 3;
    size_t chunk = (size_t)1 << 20, cap_rows = 65536;
    const char *file = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mb") && i + 1 < argc)
            mb = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--chunk") && i + 1 < argc)
            chunk = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--rows-per-block") && i + 1 < argc)
            cap_rows = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--file") && i + 1 < argc)
            file = argv[++i];
        else if (!strcmp(argv[i], "--kernel") && i + 1 < argc)
            only = argv[++i];
        else
            die("usage: csv_scan_bench [--mb N] [--reps R] [--chunk C] [--rows-per-block B] "
                "[--file F] [--kernel K]");
    }
    if (reps < 1 || reps > 99 || !chunk || !cap_rows)
        die("bad arguments");

    sl_buf in;
    sl_buf_init(&in, 0);
    if (file) {
        FILE *f = fopen(file, "rb");
        if (!f)
            die("cannot open --file");
        uint8_t tmp[1 << 16];
        size_t k;
        while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
            if (sl_buf_append(&in, tmp, k))
                die("out of memory");
        fclose(f);
    } else {
        if (sl_buf_puts(&in, "id,qty,val,price,ratio,flag,status,user_id,day,ts,amount,note\n"))
            die("out of memory");
        for (uint64_t i = 0; (double)in.len < mb * 1e6; i++)
            gen_row(&in, i);
    }
    printf("input: %zu bytes%s%s\n", in.len, file ? " from " : " generated", file ? file : "");

    const sl_csv_simd kernels[] = {SL_CSV_SIMD_SCALAR, SL_CSV_SIMD_SSE2, SL_CSV_SIMD_AVX2};
    for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
        if (!sl_csv_simd_supported(kernels[k]) ||
            (only && strcmp(only, sl_csv_simd_name(kernels[k]))))
            continue;
        sl_csv_opts o;
        sl_csv_opts_default(&o);
        o.simd = kernels[k];
        double t[99], tc[99], ts[99];
        parse_result r = {0, 0, 0, 0};
        for (int i = 0; i < reps; i++) {
            r = parse_once(&o, in.ptr, in.len, chunk, cap_rows);
            t[i] = r.secs;
            tc[i] = r.cpu;
            double t0 = now_s();
            uint64_t nl;
            size_t s = sl_csv_split(&o, in.ptr, in.len, &nl);
            ts[i] = now_s() - t0;
            if (s != in.len || nl != r.rows + 1)
                die("split disagrees with the parse");
        }
        qsort(t, (size_t)reps, sizeof(double), cmp_double);
        qsort(tc, (size_t)reps, sizeof(double), cmp_double);
        qsort(ts, (size_t)reps, sizeof(double), cmp_double);
        double med = t[reps / 2], cmed = tc[reps / 2], smed = ts[reps / 2];
        printf("%-6s parse %5.0f MB/s %5.2f M rows/s wall, %5.0f MB/s on CPU time (median of "
               "%d, best %.0f MB/s; %" PRIu64 " rows, %" PRIu64 " rejected); split %5.0f MB/s\n",
               sl_csv_simd_name(kernels[k]), (double)in.len / med / 1e6, (double)r.rows / med / 1e6,
               (double)in.len / cmed / 1e6, reps, (double)in.len / t[0] / 1e6, r.rows, r.bad,
               (double)in.len / smed / 1e6);
        printf("result\t%s\t%zu\t%" PRIu64 "\t%.4f\t%.4f\t%.4f\t%.4f\n",
               sl_csv_simd_name(kernels[k]), in.len, r.rows, med, t[0], cmed, smed);
    }
    sl_buf_release(&in);
    return 0;
}
