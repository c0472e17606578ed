/* parquet_read_bench.c: time sluice's Parquet reader (src/parse/parquet_read.c) on one file:
 * read every row of every column in batches of 65536 rows and fold each column into a checksum
 * (sum of numeric slots, byte lengths of strings, null counts), so nothing can be skipped.
 * usage: parquet_read_bench FILE [REPS]   prints: rows seconds rows/s checksum (best of REPS)
 * Built by bench/parquet_read.sh against build/release/libsluice.a. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/parquet_read.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: parquet_read_bench FILE [REPS]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    double best = 1e30;
    uint64_t rows = 0, sum = 0;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        sl_pq_reader *r;
        sl_pq_read_error e;
        if (sl_pq_reader_open_path(argv[1], NULL, &r, &e)) {
            fprintf(stderr, "%s\n", e.message);
            return 1;
        }
        sl_batch *b;
        if (sl_batch_create(sl_pq_reader_schema(r), &b))
            return 1;
        size_t n;
        rows = sum = 0;
        sl_err err;
        while (!(err = sl_pq_reader_next(r, b, 65536, &n)) && n) {
            for (size_t c = 0; c < b->ncols; c++) {
                const sl_column *col = &b->cols[c];
                sum += col->null_count;
                if (col->width == 8) {
                    const uint64_t *d = (const uint64_t *)(const void *)col->data;
                    for (size_t i = 0; i < col->len; i++)
                        sum += d[i];
                } else if (col->width == 4) {
                    const uint32_t *d = (const uint32_t *)(const void *)col->data;
                    for (size_t i = 0; i < col->len; i++)
                        sum += d[i];
                } else if (col->width == 1) {
                    for (size_t i = 0; i < col->len; i++)
                        sum += col->data[i];
                } else if (!col->width) {
                    sum += col->bytes_len;
                }
            }
            rows += n;
            sl_batch_clear(b);
        }
        if (err) {
            fprintf(stderr, "%s\n", sl_pq_reader_error(r)->message);
            return 1;
        }
        sl_batch_destroy(b);
        sl_pq_reader_close(r);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("%llu %.3f %.0f %llu\n", (unsigned long long)rows, best, (double)rows / best,
           (unsigned long long)sum);
    return 0;
}
