/* encode_bench.c: Parquet encode throughput of libsluice, per codec and writer thread count.
 *
 * usage: encode_bench [--rows N] [--codec LIST] [--threads LIST] [--reps R] [--batch B]
 *                     [--dir DIR] [--keep] [--perf-ctl FIFO] [--serve]
 *
 *   --rows N        rows in the table (default 10000000)
 *   --codec LIST    comma-separated codecs (default none,snappy,zstd,lz4_raw,gzip)
 *   --threads LIST  comma-separated values of sl_pq_opts.threads to time (default 1)
 *   --reps R        timed runs per codec and thread count; the median is reported (default 3)
 *   --batch B       rows per sl_batch (default 65536)
 *   --dir DIR       where the Parquet files go (default $TMPDIR or /tmp); the bench script uses
 *                   a tmpfs directory so that, like DuckDB's COPY TO, the write ends in the page
 *                   cache and no disk is measured
 *   --keep          keep DIR/sluice_<t>t_<codec>.parquet (of the last run) instead of deleting it
 *   --perf-ctl F    write "enable" to the perf control FIFO F once the table is built and
 *                   "disable" when encoding is done, so `perf record --delay=-1
 *                   --control=fifo:F` samples the encode only (bench/profile.sh)
 *   --serve         after building the table print "ready", then read requests "CODEC THREADS"
 *                   from stdin, one a line, and answer each with one timed encode:
 *                   run<TAB>sluice-<t>t<TAB>codec<TAB>rows<TAB>raw_bytes<TAB>s<TAB>cpu_s<TAB>bytes
 *                   (duckdb_encode.mjs --sluice uses this to interleave sluice and DuckDB runs,
 *                   so that both see the same load on a shared machine)
 *
 * Design
 *   The whole table is generated first, as ceil(N / B) sl_batch objects kept in memory (10M rows
 *   take about 1 GiB), so the timed part is only sl_pq_writer_create/write/finish plus the
 *   write() calls into the file: no batch is reused, so dictionaries and statistics see the real
 *   value distribution of all N rows. Writer options are sl_pq_opts_default() but for the codec
 *   and `threads` (columns encoded on a pool; the file is the same whatever the count).
 *
 *   Every value is a function of the row number i alone (no generator state), using splitmix64
 *   on 5*i+k, k = 0..4 (r0..r4 below) and unsigned 64-bit wrap-around arithmetic. The same
 *   formulas are written in SQL in bench/duckdb_encode.mjs (with UHUGEINT for the wrap-around),
 *   and bench/encode.sh checks that both sides hold identical rows (EXCEPT ALL in DuckDB over
 *   a file written here), so the two writers encode the same table.
 *
 *   Columns (name: type, value):
 *     id:      int64            i
 *     qty:     int32            (r0 & 0xffffffff) % 1000
 *     val:     int64            (r2 >> 24) - 2^39             (about 40 random bits, signed)
 *     price:   double           (r1 >> 11) / 2^53 * 1000      (53 random mantissa bits)
 *     ratio:   float            ((r2 & 0xfffff) % 100000) / 100f
 *     flag:    bool             ((r0 >> 32) & 3) == 0         (25% true)
 *     status:  string           WORDS[(r0 >> 40) % 20]        (20 distinct values)
 *     user_id: string           "user-" + (r3 & 0xffffffff) % 1000003   (~1M distinct)
 *     day:     date             ts / 86400000000
 *     ts:      timestamp[us, UTC]  2020-01-01 + i * 2.5 s + (r4 >> 40) % 1000000 us
 *     amount:  decimal(12,2)    unscaled (r3 >> 32) % 100000000 - 20000000
 *     note:    string, nullable NULL when (r0 >> 56) % 10 == 0 (~10%), else
 *                               WORDS[(r4 & 0xff) % 20] + " " + WORDS[((r4 >> 32) & 0xff) % 20]
 *                               + " #" + ((r4 >> 8) & 0xffffff) % 10000
 *
 *   "MB" everywhere is 10^6 bytes of raw in-memory data: the fixed widths of the nine fixed
 *   columns (8+4+8+8+4+1+4+8+8 = 53 bytes a row) plus the bytes of every non-null string. It is
 *   computed once and printed, and duckdb_encode.mjs computes the same figure in SQL.
 *
 * Timing: wall time (CLOCK_MONOTONIC) from open() of the output file to its close(), median of
 * --reps runs; also the process CPU time (user + system, all threads) of the same span, which a
 * noisy, shared machine inflates far less than wall time. ratio = raw size / file size.
 *
 * Output: human-readable lines, plus one machine-readable line per codec and thread count:
 *   result<TAB>sluice-<t>t<TAB>codec<TAB>rows<TAB>raw_bytes<TAB>median_s<TAB>min_s<TAB>max_s
 *         <TAB>file_bytes<TAB>median_cpu_s
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice.h"

#define NCOLS 12

static const char *const WORDS[20] = {
    "pending",  "processing", "shipped", "delivered", "cancelled",  "returned", "refunded",
    "on_hold",  "backorder",  "failed",  "completed", "in_transit", "awaiting", "partial",
    "disputed", "archived",   "draft",   "scheduled", "expired",    "unknown",
};

static const sl_codec ALL_CODECS[] = {SL_CODEC_NONE, SL_CODEC_SNAPPY, SL_CODEC_ZSTD,
                                      SL_CODEC_LZ4_RAW, SL_CODEC_GZIP};

#define TS_BASE_US 1577836800000000LL /* 2020-01-01T00:00:00Z */
#define TS_STEP_US 2500000LL
#define US_PER_DAY 86400000000LL

typedef struct {
    size_t rows;
    size_t batch_rows;
    unsigned reps;
    const char *dir;
    bool keep;
    bool serve;
    const char *perf_ctl;
    sl_codec codecs[SL_CODEC_COUNT];
    size_t ncodecs;
    int threads[8];
    size_t nthreads;
} bench_opts;

static void die(const char *what, sl_err err)
{
    fprintf(stderr, "encode_bench: %s: %s\n", what, sl_strerror(err));
    exit(1);
}

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

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* KiB on Linux */
}

static sl_err make_schema(sl_schema **out)
{
    sl_err err;
    sl_schema *s;
    if ((err = sl_schema_create(&s)))
        return err;
    if ((err = sl_schema_add(s, "id", sl_type_of(SL_TYPE_INT64), false)) ||
        (err = sl_schema_add(s, "qty", sl_type_of(SL_TYPE_INT32), false)) ||
        (err = sl_schema_add(s, "val", sl_type_of(SL_TYPE_INT64), false)) ||
        (err = sl_schema_add(s, "price", sl_type_of(SL_TYPE_DOUBLE), false)) ||
        (err = sl_schema_add(s, "ratio", sl_type_of(SL_TYPE_FLOAT), false)) ||
        (err = sl_schema_add(s, "flag", sl_type_of(SL_TYPE_BOOL), false)) ||
        (err = sl_schema_add(s, "status", sl_type_of(SL_TYPE_STRING), false)) ||
        (err = sl_schema_add(s, "user_id", sl_type_of(SL_TYPE_STRING), false)) ||
        (err = sl_schema_add(s, "day", sl_type_of(SL_TYPE_DATE), false)) ||
        (err = sl_schema_add(s, "ts", sl_type_timestamp(SL_UNIT_US, true), false)) ||
        (err = sl_schema_add(s, "amount", sl_type_decimal(12, 2), false)) ||
        (err = sl_schema_add(s, "note", sl_type_of(SL_TYPE_STRING), true))) {
        sl_schema_destroy(s);
        return err;
    }
    *out = s;
    return SL_OK;
}

/* Appends row i to b; adds its raw size (see the top comment) to *raw. */
static sl_err gen_row(sl_batch *b, uint64_t i, uint64_t *raw)
{
    uint64_t r0 = splitmix64(5 * i), r1 = splitmix64(5 * i + 1), r2 = splitmix64(5 * i + 2);
    uint64_t r3 = splitmix64(5 * i + 3), r4 = splitmix64(5 * i + 4);
    sl_column *c = b->cols;
    char tmp[64];
    sl_err err;
    int n;

    int64_t ts = TS_BASE_US + (int64_t)i * TS_STEP_US + (int64_t)((r4 >> 40) % 1000000);
    const char *status = WORDS[(r0 >> 40) % 20];
    if ((err = sl_col_append_i64(&c[0], (int64_t)i)) ||
        (err = sl_col_append_i32(&c[1], (int32_t)((r0 & 0xffffffffu) % 1000))) ||
        (err = sl_col_append_i64(&c[2], (int64_t)(r2 >> 24) - ((int64_t)1 << 39))) ||
        (err = sl_col_append_f64(&c[3], (double)(r1 >> 11) / 9007199254740992.0 * 1000.0)) ||
        (err = sl_col_append_f32(&c[4], (float)((r2 & 0xfffff) % 100000) / 100.0f)) ||
        (err = sl_col_append_bool(&c[5], ((r0 >> 32) & 3) == 0)) ||
        (err = sl_col_append_bytes(&c[6], status, strlen(status))))
        return err;
    *raw += 53 + strlen(status);

    n = snprintf(tmp, sizeof(tmp), "user-%" PRIu64, (r3 & 0xffffffffu) % 1000003);
    if ((err = sl_col_append_bytes(&c[7], tmp, (size_t)n)) ||
        (err = sl_col_append_i32(&c[8], (int32_t)(ts / US_PER_DAY))) ||
        (err = sl_col_append_i64(&c[9], ts)) ||
        (err = sl_col_append_i64(&c[10], (int64_t)((r3 >> 32) % 100000000) - 20000000)))
        return err;
    *raw += (uint64_t)n;

    if ((r0 >> 56) % 10 == 0)
        return sl_col_append_null(&c[11]);
    n = snprintf(tmp, sizeof(tmp), "%s %s #%" PRIu64, WORDS[(r4 & 0xff) % 20],
                 WORDS[((r4 >> 32) & 0xff) % 20], ((r4 >> 8) & 0xffffff) % 10000);
    *raw += (uint64_t)n;
    return sl_col_append_bytes(&c[11], tmp, (size_t)n);
}

/* Builds the whole table as *nbatches batches of at most opts->batch_rows rows. */
static sl_batch **gen_table(const sl_schema *s, const bench_opts *o, size_t *nbatches,
                            uint64_t *raw)
{
    size_t nb = (o->rows + o->batch_rows - 1) / o->batch_rows;
    sl_batch **bs = calloc(nb ? nb : 1, sizeof(*bs));
    sl_err err;
    if (!bs)
        die("allocating batches", SL_NOMEM);
    *raw = 0;
    for (size_t k = 0; k < nb; k++) {
        if ((err = sl_batch_create(s, &bs[k])))
            die("sl_batch_create", err);
        size_t first = k * o->batch_rows;
        size_t last = first + o->batch_rows < o->rows ? first + o->batch_rows : o->rows;
        for (size_t i = first; i < last; i++)
            if ((err = gen_row(bs[k], i, raw)))
                die("generating rows", err);
    }
    *nbatches = nb;
    return bs;
}

/* One timed encode of the table into path. Returns wall seconds; the CPU seconds of the process
 * (user + system) in *cpu, the file size in *bytes. */
static double encode_once(const sl_schema *s, sl_batch *const *bs, size_t nb, sl_codec codec,
                          int threads, const char *path, double *cpu, uint64_t *bytes)
{
    sl_pq_opts po;
    sl_pq_writer *w;
    sl_err err;
    sl_pq_opts_default(&po);
    po.codec = codec;
    po.threads = threads;

    double c0 = cpu_s();
    double t0 = now_s();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "encode_bench: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    if ((err = sl_pq_writer_create(s, &po, sl_output_fd(&fd), &w)))
        die("sl_pq_writer_create", err);
    for (size_t k = 0; k < nb; k++)
        if ((err = sl_pq_writer_write(w, bs[k]))) {
            fprintf(stderr, "encode_bench: write: %s\n", sl_pq_writer_errmsg(w));
            exit(1);
        }
    if ((err = sl_pq_writer_finish(w))) {
        fprintf(stderr, "encode_bench: finish: %s\n", sl_pq_writer_errmsg(w));
        exit(1);
    }
    *bytes = sl_pq_writer_bytes(w);
    sl_pq_writer_destroy(w);
    if (close(fd) != 0) {
        fprintf(stderr, "encode_bench: close %s: %s\n", path, strerror(errno));
        exit(1);
    }
    double t = now_s() - t0;
    *cpu = cpu_s() - c0;
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v[0..n) and returns its median. */
static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Sends a command ("enable", "disable") to perf's control FIFO, if one was given. */
static void perf_ctl(const char *fifo, const char *cmd)
{
    if (!fifo)
        return;
    FILE *f = fopen(fifo, "w");
    if (!f || fprintf(f, "%s\n", cmd) < 0 || fclose(f) != 0) {
        fprintf(stderr, "encode_bench: %s: %s\n", fifo, strerror(errno));
        exit(1);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: encode_bench [--rows N] [--codec none,snappy,zstd,lz4_raw,gzip] "
                    "[--threads 1,2] [--reps R] [--batch B] [--dir DIR] [--keep] [--perf-ctl FIFO] "
                    "[--serve]\n");
    exit(2);
}

static size_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0)
        usage();
    return (size_t)v;
}

static void parse_args(int argc, char **argv, bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->rows = 10000000;
    o->batch_rows = 65536;
    o->reps = 3;
    o->dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    memcpy(o->codecs, ALL_CODECS, sizeof(ALL_CODECS));
    o->ncodecs = sizeof(ALL_CODECS) / sizeof(ALL_CODECS[0]);
    o->threads[0] = 1;
    o->nthreads = 1;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(arg, "--keep")) {
            o->keep = true;
            continue;
        }
        if (!strcmp(arg, "--serve")) {
            o->serve = true;
            continue;
        }
        if (!val)
            usage();
        a++;
        if (!strcmp(arg, "--rows")) {
            o->rows = parse_size(val);
        } else if (!strcmp(arg, "--batch")) {
            o->batch_rows = parse_size(val);
        } else if (!strcmp(arg, "--reps")) {
            o->reps = (unsigned)parse_size(val);
        } else if (!strcmp(arg, "--dir")) {
            o->dir = val;
        } else if (!strcmp(arg, "--perf-ctl")) {
            o->perf_ctl = val;
        } else if (!strcmp(arg, "--threads")) {
            char buf[256];
            snprintf(buf, sizeof(buf), "%s", val);
            o->nthreads = 0;
            for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (o->nthreads == sizeof(o->threads) / sizeof(o->threads[0]))
                    usage();
                o->threads[o->nthreads++] = (int)parse_size(t);
            }
            if (!o->nthreads)
                usage();
        } else if (!strcmp(arg, "--codec")) {
            char buf[256];
            snprintf(buf, sizeof(buf), "%s", val);
            o->ncodecs = 0;
            for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (o->ncodecs == SL_CODEC_COUNT || sl_codec_parse(t, &o->codecs[o->ncodecs]))
                    usage();
                o->ncodecs++;
            }
            if (!o->ncodecs)
                usage();
        } else {
            usage();
        }
    }
}

/* --serve: one timed encode per request line until EOF. */
static void serve(const bench_opts *o, const sl_schema *s, sl_batch *const *bs, size_t nb,
                  uint64_t raw)
{
    char line[256], cname[64];
    int threads;
    printf("ready\n");
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
        sl_codec codec;
        if (sscanf(line, "%63s %d", cname, &threads) != 2 || threads < 0 ||
            sl_codec_parse(cname, &codec)) {
            fprintf(stderr, "encode_bench: bad request: %s", line);
            exit(2);
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/sluice_%dt_%s.parquet", o->dir, threads,
                 sl_codec_name(codec));
        double cpu;
        uint64_t bytes;
        double t = encode_once(s, bs, nb, codec, threads, path, &cpu, &bytes);
        if (!o->keep)
            unlink(path);
        printf("run\tsluice-%dt\t%s\t%zu\t%" PRIu64 "\t%.6f\t%.6f\t%" PRIu64 "\n", threads,
               sl_codec_name(codec), o->rows, raw, t, cpu, bytes);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    bench_opts o;
    sl_schema *s;
    sl_err err;
    parse_args(argc, argv, &o);
    if ((err = make_schema(&s)))
        die("schema", err);

    double t0 = now_s();
    size_t nb;
    uint64_t raw;
    sl_batch **bs = gen_table(s, &o, &nb, &raw);
    double gen_s = now_s() - t0;
    long rss_table = peak_rss_kib();

    printf("sluice %s (build %s): %zu rows x %d columns in %zu batches of <= %zu rows "
           "(generated in %.1f s, not timed)\n",
           sl_version(), sl_build_id(), o.rows, NCOLS, nb, o.batch_rows, gen_s);
    printf("raw in-memory size: %" PRIu64 " bytes = %.1f MB (MB = 10^6 bytes)\n", raw,
           (double)raw / 1e6);
    printf("writer: sl_pq_opts_default() but codec and threads (128 MiB row groups, "
           "1 MiB / 20000-row pages, 1 MiB dictionaries, page v1, page index); "
           "output: files in %s\n",
           o.dir);
    printf("peak RSS after generating the table: %.0f MiB\n", (double)rss_table / 1024);
    if (o.serve) {
        serve(&o, s, bs, nb, raw);
        goto out_peak;
    }
    printf("%-8s %7s %10s %9s %9s %12s %7s  %s\n", "codec", "threads", "rows/s", "MB/s", "MB/cpu-s",
           "file bytes", "ratio", "runs (s)");
    fflush(stdout);
    perf_ctl(o.perf_ctl, "enable");

    double *secs = calloc(2 * (size_t)o.reps, sizeof(*secs));
    if (!secs)
        die("allocating", SL_NOMEM);
    double *cpus = secs + o.reps;
    for (size_t ti = 0; ti < o.nthreads; ti++) {
        int threads = o.threads[ti];
        for (size_t ci = 0; ci < o.ncodecs; ci++) {
            sl_codec codec = o.codecs[ci];
            char path[4096];
            snprintf(path, sizeof(path), "%s/sluice_%dt_%s.parquet", o.dir, threads,
                     sl_codec_name(codec));
            uint64_t bytes = 0;
            for (unsigned r = 0; r < o.reps; r++) {
                secs[r] = encode_once(s, bs, nb, codec, threads, path, &cpus[r], &bytes);
                if (!o.keep || r + 1 < o.reps)
                    unlink(path);
            }
            char runs[256] = "";
            size_t rl = 0;
            for (unsigned r = 0; r < o.reps && rl < sizeof(runs) - 16; r++)
                rl +=
                    (size_t)snprintf(runs + rl, sizeof(runs) - rl, "%s%.2f", r ? " " : "", secs[r]);
            double med = median(secs, o.reps), med_cpu = median(cpus, o.reps);
            printf("%-8s %7d %10.0f %9.1f %9.1f %12" PRIu64 " %7.2f  %s\n", sl_codec_name(codec),
                   threads, (double)o.rows / med, (double)raw / 1e6 / med,
                   (double)raw / 1e6 / med_cpu, bytes, (double)raw / (double)bytes, runs);
            printf("result\tsluice-%dt\t%s\t%zu\t%" PRIu64 "\t%.6f\t%.6f\t%.6f\t%" PRIu64
                   "\t%.6f\n",
                   threads, sl_codec_name(codec), o.rows, raw, med, secs[0], secs[o.reps - 1],
                   bytes, med_cpu);
            fflush(stdout);
        }
    }
    free(secs);
    perf_ctl(o.perf_ctl, "disable");
out_peak:
    printf("peak RSS at the end: %.0f MiB (writer buffers = growth over the table's %.0f MiB)\n",
           (double)peak_rss_kib() / 1024, (double)rss_table / 1024);

    for (size_t k = 0; k < nb; k++)
        sl_batch_destroy(bs[k]);
    free(bs);
    sl_schema_destroy(s);
    return 0;
}
