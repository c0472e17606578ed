/* json_bench.c: throughput of the JSON Lines parser (src/parse/json.c), per string scanner.
 *
 * Generates (once) a JSON Lines file of objects with 12 keys in a fixed order: ints, doubles,
 * bools, strings (some with escapes and non-ASCII), a timestamp string and a sometimes-null
 * field; then reads it into memory and times sl_json_feed (1 MiB chunks, as a file reader
 * would) + sl_json_next into 4096-row blocks, for the scalar, SSE2 and AVX2 scanners. Prints
 * the median and the best of the runs in MB/s (10^6 bytes) and rows/s by wall-clock time, and
 * the median by CPU time of the process (on a shared machine time-slicing inflates wall time;
 * CPU time does not count time spent descheduled, though a busy sibling hyperthread still
 * slows it). Parsing only: no I/O, no conversion.
 *
 *   gcc -std=gnu17 -O2 -Iinclude -Isrc bench/json_bench.c src/parse/json.c \
 *       src/parse/rowblock.c src/util/buf.c src/util/err.c -o build/json_bench
 *   taskset -c 0 build/json_bench [-n rows] [-r runs] [-f file] [-k|-R] [-v scalar|sse2|avx2]
 *   (-k: keys shuffled per row, to measure the hash lookup path; -R: every row in reverse
 *   schema order, a stable order the parser learns; -v: one scanner only; use a different -f
 *   for each shape)
 * Defaults: 400000 rows (~110 MB), 3 runs, /tmp/sluice_bench.jsonl (reused if it exists with
 * the same row count and shape).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/json.h"

static const char *const names[] = {"id",   "user_id", "price", "score", "active", "verified",
                                    "name", "email",   "note",  "city",  "tag",    "ts"};
#define NCOLS 12

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void gen(FILE *f, size_t rows, bool shuffle, bool reverse)
{
    static const char *const first[] = {"Alice",    "Bob",   "Chloé",  "Dmitri", "Eve",
                                        "François", "Grace", "Héctor", "Ivan",   "Jürgen"};
    static const char *const cities[] = {"Berlin",   "Paris",  "São Paulo", "Tokyo 東京",
                                         "New York", "Zürich", "Kraków",    "Lagos"};
    static const char *const notes[] = {
        "plain note without anything special in it",
        "line one\\nline two\\ttabbed",
        "she said \\\"hello\\\" and left",
        "path C:\\\\temp\\\\file.txt",
        "unicode \\u00e9\\u00e8 and emoji \\ud83d\\ude00",
        "short",
        "a somewhat longer free text note that goes on for a while to look like real data"};
    char parts[NCOLS][256];
    for (size_t r = 0; r < rows; r++) {
        uint64_t x = next_rand();
        snprintf(parts[0], 256, "\"id\":%zu", r + 1);
        snprintf(parts[1], 256, "\"user_id\":%llu", (unsigned long long)(x % 10000000));
        snprintf(parts[2], 256, "\"price\":%.2f", (double)(x % 100000) / 100.0);
        snprintf(parts[3], 256, "\"score\":%.6g", (double)(x >> 20 & 0xFFFFF) / 1048576.0 - 0.5);
        snprintf(parts[4], 256, "\"active\":%s", x & 1 ? "true" : "false");
        snprintf(parts[5], 256, "\"verified\":%s", x & 2 ? "true" : "false");
        snprintf(parts[6], 256, "\"name\":\"%s %c.\"", first[x % 10], (char)('A' + x % 26));
        snprintf(parts[7], 256, "\"email\":\"user%llu@example.com\"",
                 (unsigned long long)(x % 1000000));
        snprintf(parts[8], 256, "\"note\":\"%s\"", notes[(x >> 8) % 7]);
        snprintf(parts[9], 256, "\"city\":\"%s\"", cities[(x >> 12) % 8]);
        if ((x >> 16) % 4 == 0)
            snprintf(parts[10], 256, "\"tag\":null");
        else
            snprintf(parts[10], 256, "\"tag\":\"t%llu\"", (unsigned long long)((x >> 16) % 50));
        snprintf(parts[11], 256, "\"ts\":\"2024-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
                 (int)(x % 12 + 1), (int)(x % 28 + 1), (int)(x % 24), (int)(x % 60),
                 (int)((x >> 6) % 60), (int)((x >> 10) % 1000));
        int order[NCOLS];
        for (int i = 0; i < NCOLS; i++)
            order[i] = reverse ? NCOLS - 1 - i : i;
        if (shuffle) {
            for (int i = NCOLS - 1; i > 0; i--) {
                int k = (int)(next_rand() % (uint64_t)(i + 1)), t = order[i];
                order[i] = order[k];
                order[k] = t;
            }
        }
        fputc('{', f);
        for (int i = 0; i < NCOLS; i++) {
            if (i)
                fputc(',', f);
            fputs(parts[order[i]], f);
        }
        fputs("}\n", f);
    }
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t rows = 400000, runs = 3;
    const char *path = "/tmp/sluice_bench.jsonl";
    bool shuffle = false, reverse = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            rows = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            runs = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-f") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "-k"))
            shuffle = true;
        else if (!strcmp(argv[i], "-R"))
            reverse = true;
        else if (!strcmp(argv[i], "-v") && i + 1 < argc)
            only = argv[++i];
    }
    char meta[256];
    snprintf(meta, sizeof(meta), "%s.%zu%s%s", path, rows, shuffle ? "k" : "", reverse ? "R" : "");
    FILE *f = fopen(meta, "r");
    if (!f) {
        f = fopen(path, "w");
        if (!f)
            return perror(path), 1;
        gen(f, rows, shuffle, reverse);
        fclose(f);
        f = fopen(meta, "w");
    }
    fclose(f);
    f = fopen(path, "rb");
    if (!f)
        return perror(path), 1;
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc(n);
    if (!data || fread(data, 1, n, f) != n)
        return fprintf(stderr, "read failed\n"), 1;
    fclose(f);
    printf("input: %s, %.1f MB, %zu rows, %.0f bytes/row%s\n", path, (double)n / 1e6, rows,
           (double)n / (double)rows,
           shuffle   ? ", keys shuffled per row"
           : reverse ? ", keys in reverse schema order"
                     : "");

    static const sl_json_simd variants[] = {SL_JSON_SIMD_SCALAR, SL_JSON_SIMD_SSE2,
                                            SL_JSON_SIMD_AVX2};
    sl_rowblock b;
    if (sl_rowblock_init(&b, NCOLS, 4096))
        return 1;
    for (size_t v = 0; v < 3; v++) {
        if (only && strcmp(only, v == 0 ? "scalar" : v == 1 ? "sse2" : "avx2"))
            continue;
        sl_json_opts o;
        sl_json_opts_default(&o);
        o.simd = variants[v];
        double t[16], cpu[16];
        size_t got_rows = 0, bad = 0;
        const char *vname = "";
        for (size_t k = 0; k < runs && k < 16; k++) {
            sl_json *p;
            if (sl_json_create(&o, names, NCOLS, &p))
                return 1;
            vname = sl_json_simd_name(p);
            got_rows = bad = 0;
            double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            for (size_t at = 0; at <= n; at += 1 << 20) {
                size_t len = n - at < (1u << 20) ? n - at : 1u << 20;
                bool eof = at + len == n;
                if (len && sl_json_feed(p, data + at, len))
                    return fprintf(stderr, "feed failed\n"), 1;
                do {
                    sl_rowblock_clear(&b);
                    if (sl_json_next(p, eof, &b))
                        return fprintf(stderr, "next failed\n"), 1;
                    got_rows += b.nrows;
                    bad += b.nbad;
                } while (b.nrows);
                if (eof)
                    break;
            }
            t[k] = clock_s(CLOCK_MONOTONIC) - t0;
            cpu[k] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
            sl_json_destroy(p);
        }
        qsort(t, runs, sizeof(double), cmp_double);
        qsort(cpu, runs, sizeof(double), cmp_double);
        double med = t[runs / 2], best = t[0], cmed = cpu[runs / 2];
        printf("%-6s  wall: median %6.1f MB/s %4.2f M rows/s, best %6.1f MB/s %4.2f M rows/s | "
               "CPU time: median %6.1f MB/s %4.2f M rows/s  (%zu rows, %zu bad, %zu runs)\n",
               vname, (double)n / med / 1e6, (double)got_rows / med / 1e6, (double)n / best / 1e6,
               (double)got_rows / best / 1e6, (double)n / cmed / 1e6, (double)got_rows / cmed / 1e6,
               got_rows, bad, runs);
    }
    sl_rowblock_release(&b);
    free(data);
    return 0;
}
