/* coerce_bench.c: ns per value of the text -> value parsers (src/parse/coerce.c) against libc,
 * on the same strings in the same run (these machines are noisy: compare within one run).
 *
 * usage: coerce_bench [--rows N] [--reps R] [--kind K]   (K: 0 int64 .. 4 date; default all)
 *
 * For each kind of value, N strings are generated into one text buffer (cells point into it,
 * as a parser's block would), then timed:
 *   sl_parse_*       the bare parser on each cell's bytes
 *   column           sl_coerce_column(): the converter's per-column loop (null-token check,
 *                    trimming, appending to an sl_column), the number that matters end to end
 *   libc             strtoll / strtod / strptime+timegm on the same text (NUL-terminated copies,
 *                    made outside the timing)
 * Median of R repetitions. Build: see bench/README or
 *   gcc -std=gnu17 -O2 -Iinclude -Isrc bench/coerce_bench.c build/release/libsluice.a \
 *       -lsnappy -lzstd -llz4 -lz -lm -lpthread -o build/bench/coerce_bench
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/coerce.h"

static uint64_t seed = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* not wall time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    const char *name;
    char *text;     /* values separated by NULs, so libc can read them in place */
    sl_cell *cells; /* TEXT cells */
    size_t n;
} dataset;

static dataset make(const char *name, size_t n, int kind)
{
    dataset d = {name, malloc(n * 40), malloc(n * sizeof(sl_cell)), n};
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rnd();
        int len = 0;
        char *p = d.text + o;
        switch (kind) {
        case 0: /* int64 ids and 40-bit signed values, like the benchmark table */
            if (i & 1)
                len = sprintf(p, "%zu", i * 7);
            else
                len = sprintf(p, "%lld", (long long)(r >> 24) - (1LL << 39));
            break;
        case 1: /* prices: up to 6 integer digits and 2 decimals */
            len = sprintf(p, "%llu.%02llu", (unsigned long long)(r % 1000000),
                          (unsigned long long)((r >> 32) % 100));
            break;
        case 2: { /* full precision: shortest round trip of random doubles in [0, 1000) */
            double x = (double)(r >> 11) / 9007199254740992.0 * 1000;
            len = sprintf(p, "%.17g", x);
            break;
        }
        case 3: { /* ISO-8601 UTC with microseconds */
            time_t t = (time_t)(1577836800 + (r % 157680000));
            struct tm tm;
            gmtime_r(&t, &tm);
            len = (int)strftime(p, 40, "%Y-%m-%dT%H:%M:%S", &tm);
            len += sprintf(p + len, ".%06lluZ", (unsigned long long)((r >> 40) % 1000000));
            break;
        }
        case 4: { /* dates */
            time_t t = (time_t)(r % 4102444800ull);
            struct tm tm;
            gmtime_r(&t, &tm);
            len = (int)strftime(p, 40, "%Y-%m-%d", &tm);
            break;
        }
        }
        d.cells[i] = (sl_cell){(uint32_t)o, (uint32_t)len, SL_CELL_TEXT, 0, 0};
        o += (size_t)len + 1; /* keep the NUL for libc */
    }
    return d;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static volatile uint64_t sink;

/* what: 0 sl_parse_*, 1 column, 2 libc */
static double run(const dataset *d, int kind, int what, sl_column *col, const sl_coerce *cz)
{
    uint64_t acc = 0;
    const uint8_t *t = (const uint8_t *)d->text;
    double t0 = now();
    if (what == 1) {
        col->len = 0;
        col->null_count = 0;
        uint8_t *bad = calloc(d->n, 1);
        if (sl_coerce_column(cz, col, t, d->cells, 1, d->n, bad, NULL, NULL))
            abort();
        acc = col->data[col->len / 2];
        free(bad);
        /* calloc of n bytes is inside the timing: the converter does the same per block */
    } else {
        for (size_t i = 0; i < d->n; i++) {
            const uint8_t *p = t + d->cells[i].off;
            size_t n = d->cells[i].len;
            const char *z = d->text + d->cells[i].off;
            if (kind == 0) {
                int64_t v;
                if (what == 0)
                    sl_parse_i64(p, n, &v, NULL);
                else
                    v = strtoll(z, NULL, 10);
                acc += (uint64_t)v;
            } else if (kind == 1 || kind == 2) {
                double v;
                if (what == 0)
                    sl_parse_f64(p, n, 0, &v, NULL);
                else
                    v = strtod(z, NULL);
                acc += (uint64_t)(v * 8);
            } else if (kind == 3) {
                int64_t v;
                if (what == 0) {
                    sl_parse_timestamp(p, n, SL_UNIT_US, &v, NULL, NULL);
                } else {
                    struct tm tm;
                    memset(&tm, 0, sizeof(tm));
                    const char *e = strptime(z, "%Y-%m-%dT%H:%M:%S", &tm);
                    long us = strtol(e + 1, NULL, 10);
                    v = (int64_t)timegm(&tm) * 1000000 + us;
                }
                acc += (uint64_t)v;
            } else {
                int32_t v;
                if (what == 0) {
                    sl_parse_date(p, n, &v, NULL);
                } else {
                    struct tm tm;
                    memset(&tm, 0, sizeof(tm));
                    strptime(z, "%Y-%m-%d", &tm);
                    v = (int32_t)(timegm(&tm) / 86400);
                }
                acc += (uint64_t)v;
            }
        }
    }
    double el = now() - t0;
    sink += acc;
    return el * 1e9 / (double)d->n;
}

int main(int argc, char **argv)
{
    size_t rows = 1000000;
    int reps = 5, only = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rows"))
            rows = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--kind"))
            only = atoi(argv[i + 1]);
    }
    static const char *const names[] = {"int64", "double (price, 2 dp)",
                                        "double (%.17g)", "timestamp[us] ISO-8601",
                                        "date"};
    static const sl_type_id tids[] = {SL_TYPE_INT64, SL_TYPE_DOUBLE, SL_TYPE_DOUBLE,
                                      SL_TYPE_TIMESTAMP, SL_TYPE_DATE};
    sl_coerce cz;
    if (sl_coerce_init(&cz, NULL))
        return 1;
    printf("%-24s %12s %12s %12s   (ns/value, median of %d, %zu values)\n", "kind",
           "sl_parse_*", "column", "libc", reps, rows);
    for (int k = 0; k < 5; k++) {
        if (only >= 0 && k != only)
            continue;
        dataset d = make(names[k], rows, k);
        sl_column col;
        memset(&col, 0, sizeof(col));
        col.type = tids[k] == SL_TYPE_TIMESTAMP ? sl_type_timestamp(SL_UNIT_US, true)
                                                : sl_type_of(tids[k]);
        col.nullable = true;
        col.width = (uint8_t)sl_type_width(col.type);
        double res[3];
        for (int what = 0; what < 3; what++) {
            double *t = calloc((size_t)reps, sizeof(double));
            for (int r = 0; r < reps; r++)
                t[r] = run(&d, k, what, &col, &cz);
            qsort(t, (size_t)reps, sizeof(double), cmp_d);
            res[what] = t[reps / 2];
            free(t);
        }
        printf("%-24s %12.1f %12.1f %12.1f\n", names[k], res[0], res[1], res[2]);
        free(col.valid);
        free(col.data);
        free(d.text);
        free(d.cells);
    }
    return 0;
}
