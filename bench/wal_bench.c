/* wal_bench.c: throughput and latency of the WAL (src/wal/wal.c).
 *
 *   gcc -O2 -std=gnu17 -Iinclude -Isrc bench/wal_bench.c src/wal/wal.c src/util/crc32c.c \
 *       src/util/err.c src/util/fsutil.c src/util/buf.c -pthread -o build/wal_bench
 *   build/wal_bench [DIR [sync|nosync]]   (DIR default $TMPDIR or /tmp; a subdirectory is made
 *                                          and removed; sync/nosync: only those parts)
 *
 * 1. single thread, no_sync: appends/s and MB/s for 1 KiB and 1 MiB records, next to plain
 *    pwrite(2) of the same bytes to one file (the floor the WAL should be close to);
 * 2. single thread append + sl_wal_sync of 1 KiB records: sync latency p50/p99 with and
 *    without segment preallocation (sl__wal_no_prealloc);
 * 3. 4 threads appending + syncing 1 KiB records for 5 s: syncs/s (acked records) and fsyncs/s
 *    (group commit), also with commit_delay_us = 200.
 * 4. request bodies: 1 MiB records, a sync after every 8 (one 8 MiB request), 512 MiB in all,
 *    written buffered and with O_DIRECT (opts.no_direct): MB/s and CPU seconds per GB.
 *    `build/wal_bench DIR direct` runs only this part.
 * 5. the same bodies, buffered, with 3 ms of CPU work before each append (a 1 MiB piece parsed
 *    at ~330 MB/s, as the server does between appends), without and with early write-back
 *    (opts.writeback_bytes = 1 MiB): MB/s and the time spent waiting in sl_wal_sync per 8 MiB.
 *    `build/wal_bench DIR writeback` runs only this part.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wal/wal.h"
#include "wal/wal_internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char base[4096];

static void fresh_dir(char *dir, size_t n)
{
    snprintf(dir, n, "%s/wal_bench.XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

static bool g_no_direct;
static uint64_t g_writeback;

static sl_wal *open_wal(const char *dir, bool no_sync, uint32_t delay)
{
    sl_wal_opts o;
    sl_wal_opts_default(&o);
    o.dir = dir;
    o.no_sync = no_sync;
    o.commit_delay_us = delay;
    o.no_direct = g_no_direct;
    o.writeback_bytes = g_writeback;
    sl_wal *w;
    sl_wal_recovery rep;
    sl_err err = sl_wal_open(&o, &w, &rep);
    if (err) {
        fprintf(stderr, "open: %s %s\n", sl_strerror(err), rep.message);
        exit(1);
    }
    return w;
}

static double run_plain(size_t rec, size_t n, const uint8_t *buf)
{
    char dir[4200], path[4300];
    sync();
    fresh_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/plain", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    double t0 = now();
    off_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (pwrite(fd, buf, rec, off) != (ssize_t)rec)
            exit(1);
        off += (off_t)rec + 24;
    }
    double t = now() - t0;
    close(fd);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    return t;
}

static double run_wal(size_t rec, size_t n, uint8_t *buf)
{
    char dir[4200];
    sync();
    fresh_dir(dir, sizeof(dir));
    sl_wal *w = open_wal(dir, true, 0);
    struct iovec iov = {buf, rec};
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        if (sl_wal_append(w, 1, &iov, 1, NULL, NULL) != SL_OK)
            exit(1);
    }
    double t = now() - t0;
    sl_wal_close(w);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    return t;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of 5 alternating runs each of the WAL and of plain pwrite (this VM's disk is noisy). */
static void bench_nosync(size_t rec, size_t total)
{
    uint8_t *buf = malloc(rec);
    memset(buf, 'x', rec);
    size_t n = total / rec;
    double tw[5], tp[5];
    for (int r = 0; r < 5; r++) {
        tw[r] = run_wal(rec, n, buf);
        tp[r] = run_plain(rec, n, buf);
    }
    qsort(tw, 5, sizeof(double), cmp_d);
    qsort(tp, 5, sizeof(double), cmp_d);
    printf("no_sync %7zu B records x %zu (median of 5): %9.0f appends/s %6.0f MB/s   plain "
           "pwrite: %9.0f/s %6.0f MB/s\n",
           rec, n, (double)n / tw[2], (double)(n * rec) / tw[2] / 1e6, (double)n / tp[2],
           (double)(n * rec) / tp[2] / 1e6);
    free(buf);
}

static void bench_sync_latency(bool prealloc, int n)
{
    char dir[4200];
    sync();
    fresh_dir(dir, sizeof(dir));
    sl__wal_no_prealloc(!prealloc);
    sl_wal *w = open_wal(dir, false, 0);
    uint8_t buf[1024];
    memset(buf, 'y', sizeof(buf));
    struct iovec iov = {buf, sizeof(buf)};
    double *lat = malloc(sizeof(double) * (size_t)n);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        uint64_t lsn;
        if (sl_wal_append(w, 1, &iov, 1, &lsn, NULL) != SL_OK)
            exit(1);
        double a = now();
        if (sl_wal_sync(w, lsn) != SL_OK)
            exit(1);
        lat[i] = now() - a;
    }
    double t = now() - t0;
    qsort(lat, (size_t)n, sizeof(double), cmp_d);
    printf("1 thread append+sync 1 KiB, preallocation %-3s: %6.0f syncs/s  p50 %6.1f us  p99 %7.1f "
           "us\n",
           prealloc ? "on" : "off", n / t, lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6);
    free(lat);
    sl_wal_close(w);
    sl__wal_no_prealloc(false);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

typedef struct {
    sl_wal *w;
    atomic_int *stop;
    uint64_t acked;
} worker;

static void *worker_main(void *arg)
{
    worker *k = arg;
    uint8_t buf[1024];
    memset(buf, 'z', sizeof(buf));
    struct iovec iov = {buf, sizeof(buf)};
    while (!atomic_load(k->stop)) {
        uint64_t lsn;
        if (sl_wal_append(k->w, 1, &iov, 1, &lsn, NULL) != SL_OK || sl_wal_sync(k->w, lsn) != SL_OK)
            exit(1);
        k->acked++;
    }
    return NULL;
}

static void bench_group(int threads, uint32_t delay, double secs)
{
    char dir[4200];
    sync();
    fresh_dir(dir, sizeof(dir));
    sl_wal *w = open_wal(dir, false, delay);
    atomic_int stop;
    atomic_init(&stop, 0);
    worker k[16];
    pthread_t t[16];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        k[i] = (worker){w, &stop, 0};
        pthread_create(&t[i], NULL, worker_main, &k[i]);
    }
    usleep((useconds_t)(secs * 1e6));
    atomic_store(&stop, 1);
    uint64_t acked = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        acked += k[i].acked;
    }
    double el = now() - t0;
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    printf("%d threads append+sync 1 KiB, commit_delay %3u us: %6.0f syncs/s (acked records), "
           "%5.0f fsyncs/s, %.1f records per fsync, mean fdatasync %.0f us\n",
           threads, delay, (double)acked / el, (double)st.fsyncs / el,
           (double)acked / (double)st.fsyncs, st.fsync_seconds / (double)st.fsyncs * 1e6);
    sl_wal_close(w);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Burns about `secs` of CPU (stands for parsing a piece between appends). */
static void spin(double secs)
{
    double end = now() + secs;
    while (now() < end) {
    }
}

static void bench_bodies(bool direct, double think)
{
    char dir[4200];
    fresh_dir(dir, sizeof(dir));
    g_no_direct = !direct;
    sl_wal *w = open_wal(dir, false, 0);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    size_t rec = (size_t)1 << 20, total = (size_t)512 << 20;
    uint8_t *buf = malloc(rec);
    memset(buf, 'x', rec);
    double t0 = now(), c0 = cpu_seconds(), sync_wait = 0;
    uint64_t lsn = 0;
    for (size_t done = 0, i = 0; done < total; done += rec, i++) {
        struct iovec iov = {buf, rec};
        if (think > 0)
            spin(think);
        if (sl_wal_append(w, 1, &iov, 1, &lsn, NULL) != SL_OK) {
            fprintf(stderr, "append failed\n");
            exit(1);
        }
        double s0 = now();
        if (i % 8 == 7 && sl_wal_sync(w, lsn) != SL_OK) {
            fprintf(stderr, "sync failed\n");
            exit(1);
        }
        sync_wait += now() - s0;
    }
    double secs = now() - t0, cpu = cpu_seconds() - c0;
    printf("bodies %s%s%s, %.1f ms of work per MiB: 1 MiB records, sync every 8 MiB: %.0f MB/s, "
           "%.2f CPU s per GB (work excluded), waiting in sync %.0f ms per 8 MiB\n",
           direct ? "O_DIRECT" : "buffered", direct && !st.direct ? " (refused here: buffered)" : "",
           g_writeback ? ", early write-back per MiB" : "", think * 1e3,
           (double)total / secs / 1e6, (cpu - (double)(total >> 20) * think) / ((double)total / 1e9),
           sync_wait * 1e3 / (double)(total >> 23));
    free(buf);
    sl_wal_close(w);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
    const char *t = getenv("TMPDIR");
    snprintf(base, sizeof(base), "%s", argc > 1 ? argv[1] : t && t[0] ? t : "/tmp");
    const char *only = argc > 2 ? argv[2] : "";
    if (!strcmp(only, "direct") || !only[0]) {
        for (int r = 0; r < 2; r++) {
            bench_bodies(false, 0);
            bench_bodies(true, 0);
        }
        if (only[0])
            return 0;
    }
    if (!strcmp(only, "writeback") || !only[0]) {
        /* with work between appends (a piece parsed at ~300 MB/s), as in the server */
        for (int r = 0; r < 2; r++) {
            g_writeback = 0;
            bench_bodies(false, 0.003);
            g_writeback = (uint64_t)1 << 20;
            bench_bodies(false, 0.003);
            g_writeback = 0;
        }
        if (only[0])
            return 0;
    }
    if (strcmp(only, "sync") != 0) {
        bench_nosync(1024, (size_t)128 << 20);
        bench_nosync((size_t)1 << 20, (size_t)256 << 20);
    }
    if (strcmp(only, "nosync") == 0)
        return 0;
    for (int r = 0; r < 3; r++) {
        bench_sync_latency(false, 5000);
        bench_sync_latency(true, 5000);
    }
    bench_group(4, 0, 5);
    bench_group(4, 200, 5);
    return 0;
}
