/* wal_test.c: tests of src/wal/wal.c.
 *
 * Every test works in its own directory made with mkdtemp under $TMPDIR (default /tmp) and
 * removes it. Payloads are generated from (lsn-independent) seeds so replays can be checked
 * byte for byte. Covered: round trips of many sizes (0 B .. a record larger than a segment),
 * LSNs across reopen, replay from the middle, read by location; rotation, release, stats;
 * recovery of torn tails (every cut of the last record), zero tails, flipped bytes at the end
 * and in the middle (SL_FORMAT, or quarantine), bad segment headers, LSN gaps, an empty or
 * missing directory, leftover temp files; max_bytes; write failures (RLIMIT_FSIZE in a child,
 * injected ENOSPC and EIO); 4 threads appending and syncing (also with rotation and release
 * running alongside); injected fsync failures (the log stays broken, nothing more is acked).
 *
 * SL_WAL_SEED_OUT=DIR makes test_roundtrip also write fuzz seeds (tests/fuzz/wal_fuzz.c input
 * format) into DIR.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wal/wal.h"
#include "wal/wal_internal.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = malloc(4096);
    assert_non_null(t);
    snprintf(t, 4096, "%s/wal_test.XXXXXX", base && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(t));
    return t;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tmpdir(char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static void seg_path(char *buf, size_t n, const char *dir, uint64_t number)
{
    snprintf(buf, n, "%s/%016llx.wal", dir, (unsigned long long)number);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static long file_size(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -1;
    return (long)sb.st_size;
}

static bool file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void flip_byte(const char *path, uint64_t off)
{
    size_t n;
    uint8_t *p = read_file(path, &n);
    assert_true(off < n);
    p[off] ^= 0x5a;
    write_file(path, p, n);
    free(p);
}

/* The whole suite runs four times: with direct I/O where the file system allows it (the
 * default), buffered (opts.no_direct), buffered with early write-back every 4 KiB
 * (opts.writeback_bytes: sync_file_range after appends, across rotations and failures), and
 * that again with released segments kept as spares and reused (opts.spare_segments). */
static bool g_no_direct;
static uint64_t g_writeback;
static uint32_t g_spares;

static sl_wal_opts opts_for(const char *dir, uint64_t segment_bytes, bool no_sync)
{
    sl_wal_opts o;
    sl_wal_opts_default(&o);
    o.dir = dir;
    o.segment_bytes = segment_bytes;
    o.no_sync = no_sync;
    o.no_direct = g_no_direct;
    o.writeback_bytes = g_writeback;
    o.spare_segments = g_spares;
    return o;
}

static sl_wal *open_ok(const sl_wal_opts *o, sl_wal_recovery *rep)
{
    sl_wal *w = NULL;
    sl_wal_recovery r;
    sl_err err = sl_wal_open(o, &w, rep ? rep : &r);
    if (err)
        fprintf(stderr, "open: %s: %s\n", sl_strerror(err), rep ? rep->message : r.message);
    assert_int_equal(err, SL_OK);
    assert_non_null(w);
    return w;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (uint8_t)(x >> 24);
    }
}

/* What we appended. */
typedef struct {
    uint64_t lsn;
    uint8_t type;
    size_t len;
    uint32_t seed;
    sl_wal_loc loc;
} rec_model;

typedef struct {
    rec_model *v;
    size_t n, cap;
} model;

static void model_push(model *m, rec_model r)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->v = realloc(m->v, m->cap * sizeof(*m->v));
        assert_non_null(m->v);
    }
    m->v[m->n++] = r;
}

/* Appends a record of len bytes (split into up to 3 iovecs) and records it. */
static uint64_t append_rec(sl_wal *w, model *m, uint8_t type, size_t len, uint32_t seed)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    fill(p, len, seed);
    /* three pieces (some may be empty), or none at all for an empty odd-seeded record */
    struct iovec iov[3] = {
        {p, len / 3}, {p + len / 3, len / 3}, {p + 2 * (len / 3), len - 2 * (len / 3)}};
    int iovcnt = len == 0 && seed % 2 ? 0 : 3;
    uint64_t lsn = 0;
    sl_wal_loc loc;
    assert_int_equal(sl_wal_append(w, type, iov, iovcnt, &lsn, &loc), SL_OK);
    free(p);
    assert_int_equal(loc.len, len);
    if (m) {
        if (m->n)
            assert_int_equal(lsn, m->v[m->n - 1].lsn + 1);
        model_push(m, (rec_model){lsn, type, len, seed, loc});
    }
    return lsn;
}

typedef struct {
    const model *m;
    size_t i; /* next expected index in m */
    size_t count;
} replay_ctx;

static sl_err check_rec(void *ctx, const sl_wal_rec *rec)
{
    replay_ctx *c = ctx;
    assert_true(c->i < c->m->n);
    const rec_model *r = &c->m->v[c->i];
    assert_int_equal(rec->lsn, r->lsn);
    assert_int_equal(rec->type, r->type);
    assert_int_equal(rec->len, r->len);
    assert_int_equal(rec->loc.len, r->len);
    assert_int_equal(rec->loc.segment, r->loc.segment);
    assert_int_equal(rec->loc.offset, r->loc.offset);
    uint8_t *p = malloc(r->len ? r->len : 1);
    assert_non_null(p);
    fill(p, r->len, r->seed);
    if (r->len)
        assert_memory_equal(rec->data, p, r->len);
    free(p);
    c->i++;
    c->count++;
    return SL_OK;
}

/* Replays from `from` and checks the records are exactly m[first..m->n). */
static void replay_expect(sl_wal *w, const model *m, uint64_t from, size_t first)
{
    replay_ctx c = {m, first, 0};
    assert_int_equal(sl_wal_replay(w, from, check_rec, &c), SL_OK);
    assert_int_equal(c.i, m->n);
}

static void read_expect(sl_wal *w, const rec_model *r)
{
    uint8_t *want = malloc(r->len ? r->len : 1), *got = malloc(r->len ? r->len : 1);
    assert_non_null(want);
    assert_non_null(got);
    fill(want, r->len, r->seed);
    assert_int_equal(sl_wal_read(w, &r->loc, r->lsn, got), SL_OK);
    if (r->len)
        assert_memory_equal(got, want, r->len);
    assert_int_equal(sl_wal_read(w, &r->loc, 0, got), SL_OK);
    free(want);
    free(got);
}

static size_t count_suffix(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0, sl = strlen(suffix);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Optional fuzz seed export: [flags][u16 split][file A][file B]. */
static void export_seed(const char *dir, const char *name, uint64_t a, uint64_t b)
{
    const char *out = getenv("SL_WAL_SEED_OUT");
    if (!out)
        return;
    char pa[4200], pb[4200], po[4200];
    size_t na, nb = 0;
    seg_path(pa, sizeof(pa), dir, a);
    uint8_t *fa = read_file(pa, &na), *fb = NULL;
    if (b) {
        seg_path(pb, sizeof(pb), dir, b);
        fb = read_file(pb, &nb);
    }
    uint8_t *buf = malloc(3 + na + nb);
    assert_non_null(buf);
    buf[0] = b ? 1 : 0;
    buf[1] = (uint8_t)na;
    buf[2] = (uint8_t)(na >> 8);
    memcpy(buf + 3, fa, na);
    if (nb)
        memcpy(buf + 3 + na, fb, nb);
    snprintf(po, sizeof(po), "%s/%s", out, name);
    write_file(po, buf, 3 + na + nb);
    free(buf);
    free(fa);
    free(fb);
}

/* ---- round trip ----------------------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    const size_t seg = 1 << 20;
    const size_t sizes[] = {0,    1,    2,     7,       8,
                            9,    23,   24,    25,      100,
                            1024, 4095, 65536, 1 << 20, 3 << 20 /* > segment_bytes */,
                            5,    0,    300000};
    model m = {0};
    sl_wal_opts o = opts_for(dir, seg, false);
    sl_wal_recovery rep;
    sl_wal *w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    assert_int_equal(rep.records, 0);
    assert_int_equal(rep.segments, 1);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        append_rec(w, &m, (uint8_t)(1 + i * 13), sizes[i], (uint32_t)i);
    assert_int_equal(m.v[0].lsn, 1);
    assert_int_equal(sl_wal_sync(w, m.v[m.n - 1].lsn), SL_OK);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.durable_lsn, m.n);
    assert_int_equal(st.next_lsn, m.n + 1);
    assert_false(st.broken);
    assert_true(st.segments >= 3);
    /* the 3 MiB record sits alone in its segment */
    for (size_t i = 0; i < m.n; i++) {
        if (m.v[i].len == (3 << 20)) {
            assert_int_equal(m.v[i].loc.offset, SL__WAL_SEG_HDR);
            assert_int_not_equal(m.v[i + 1].loc.segment, m.v[i].loc.segment);
        }
    }
    replay_expect(w, &m, 0, 0);
    for (size_t i = 0; i < m.n; i++)
        read_expect(w, &m.v[i]);
    uint64_t bytes = st.bytes;
    sl_wal_close(w);

    /* closed files hold exactly the written bytes */
    uint64_t on_disk = 0;
    for (uint64_t s = 1; s <= st.active_segment; s++) {
        char p[4200];
        seg_path(p, sizeof(p), dir, s);
        on_disk += (uint64_t)file_size(p);
    }
    assert_int_equal(on_disk, bytes);

    w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    assert_int_equal(rep.records, m.n);
    assert_int_equal(rep.truncated_bytes, 0);
    assert_int_equal(rep.segments, st.segments);
    sl_wal_stats st2;
    sl_wal_stats_get(w, &st2);
    assert_int_equal(st2.next_lsn, m.n + 1);
    assert_int_equal(st2.durable_lsn, m.n);
    assert_int_equal(st2.bytes, bytes);
    replay_expect(w, &m, 1, 0);
    /* from the middle, and past the end */
    replay_expect(w, &m, m.v[7].lsn, 7);
    replay_expect(w, &m, m.v[15].lsn, 15);
    replay_expect(w, &m, m.n + 1, m.n);
    replay_expect(w, &m, UINT64_MAX, m.n);
    /* LSNs continue */
    for (int i = 0; i < 5; i++)
        append_rec(w, &m, 9, (size_t)i * 10, 100u + (uint32_t)i);
    assert_int_equal(m.v[m.n - 1].lsn, m.n);
    for (size_t i = 0; i < m.n; i++)
        read_expect(w, &m.v[i]);
    /* wrong lsn, bad locations */
    uint8_t buf[64];
    rec_model *r = &m.v[5]; /* 9 bytes */
    assert_int_equal(r->len, 9);
    assert_int_equal(sl_wal_read(w, &r->loc, r->lsn + 1, buf), SL_FORMAT);
    sl_wal_loc bad = r->loc;
    bad.len = 8;
    assert_int_equal(sl_wal_read(w, &bad, 0, buf), SL_FORMAT);
    bad = r->loc;
    bad.offset += 8;
    assert_int_not_equal(sl_wal_read(w, &bad, 0, buf), SL_OK);
    bad.offset = r->loc.offset + 1;
    assert_int_equal(sl_wal_read(w, &bad, 0, buf), SL_INVALID);
    bad = r->loc;
    bad.segment = 999;
    assert_int_equal(sl_wal_read(w, &bad, 0, buf), SL_INVALID);
    bad = m.v[m.n - 1].loc;
    bad.len = 60;
    assert_int_equal(sl_wal_read(w, &bad, 0, buf), SL_INVALID);
    assert_int_equal(sl_wal_sync(w, UINT64_MAX), SL_OK);
    sl_wal_close(w);

    w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    replay_expect(w, &m, 0, 0);
    sl_wal_close(w);
    free(m.v);
    rm_tmpdir(dir);

    /* fuzz seeds: one small segment, and two segments */
    if (getenv("SL_WAL_SEED_OUT")) {
        dir = make_tmpdir();
        model m2 = {0};
        o = opts_for(dir, 512, true);
        w = open_ok(&o, NULL);
        for (int i = 0; i < 12; i++)
            append_rec(w, &m2, (uint8_t)(1 + i), (size_t)(i * 7 % 60), (uint32_t)i);
        sl_wal_close(w);
        export_seed(dir, "two_segments", 1, 2);
        export_seed(dir, "one_segment", 1, 0);
        export_seed(dir, "mid_segment", 2, 0);
        free(m2.v);
        rm_tmpdir(dir);
    }
}

static void test_invalid(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    sl_wal_opts o = opts_for(dir, 0, true);
    sl_wal *w = open_ok(&o, NULL), *w2 = NULL;
    uint8_t b[4] = {1, 2, 3, 4};
    struct iovec iov = {b, 4};
    uint64_t lsn = 77;
    assert_int_equal(sl_wal_append(w, 0, &iov, 1, &lsn, NULL), SL_INVALID);
    assert_int_equal(lsn, 77);
    assert_int_equal(sl_wal_append(w, 1, &iov, -1, NULL, NULL), SL_INVALID);
    assert_int_equal(sl_wal_append(w, 1, NULL, 1, NULL, NULL), SL_INVALID);
    struct iovec big[2] = {{b, SL_WAL_MAX_RECORD}, {b, 1}};
    assert_int_equal(sl_wal_append(w, 1, big, 2, NULL, NULL), SL_INVALID);
    struct iovec nullbase = {NULL, 3};
    assert_int_equal(sl_wal_append(w, 1, &nullbase, 1, NULL, NULL), SL_INVALID);
    /* 0-byte record with no iovecs at all */
    assert_int_equal(sl_wal_append(w, 255, NULL, 0, &lsn, NULL), SL_OK);
    assert_int_equal(lsn, 1);
    /* many iovecs (more than the stack array) */
    struct iovec many[300];
    for (int i = 0; i < 300; i++)
        many[i] = (struct iovec){b + i % 4, 1};
    sl_wal_loc loc;
    assert_int_equal(sl_wal_append(w, 2, many, 300, &lsn, &loc), SL_OK);
    assert_int_equal(lsn, 2);
    uint8_t got[300];
    assert_int_equal(sl_wal_read(w, &loc, 2, got), SL_OK);
    for (int i = 0; i < 300; i++)
        assert_int_equal(got[i], b[i % 4]);
    /* a second handle on the same directory */
    sl_wal_recovery rep;
    assert_int_equal(sl_wal_open(&o, &w2, &rep), SL_STATE);
    assert_null(w2);
    assert_int_equal(sl_wal_open(NULL, &w2, NULL), SL_INVALID);
    sl_wal_opts none = opts_for(NULL, 0, true);
    assert_int_equal(sl_wal_open(&none, &w2, NULL), SL_INVALID);
    assert_int_equal(sl_wal_replay(w, 0, NULL, NULL), SL_INVALID);
    assert_int_equal(sl_wal_sync(w, 0), SL_OK);
    sl_wal_close(w);
    sl_wal_close(NULL);
    rm_tmpdir(dir);
}

static void test_empty_dir(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char sub[4200];
    snprintf(sub, sizeof(sub), "%s/a/b//c/", dir);
    sl_wal_opts o = opts_for(sub, 0, false);
    sl_wal_recovery rep;
    sl_wal *w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    assert_int_equal(rep.segments, 1);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.next_lsn, 1);
    assert_int_equal(st.durable_lsn, 0);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.active_segment, 1);
    assert_int_equal(st.bytes, SL__WAL_SEG_HDR);
    model m = {0};
    replay_expect(w, &m, 0, 0);
    assert_int_equal(sl_wal_sync(w, 5), SL_OK);
    sl_wal_close(w);
    /* reopen of an empty log */
    w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.next_lsn, 1);
    sl_wal_close(w);
    rm_tmpdir(dir);
}

/* first_segment: a new log starts there (the server: wall-clock ms, so a new data directory's
 * object names never repeat an old one's); an existing log keeps its numbers */
static void test_first_segment(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    sl_wal_opts o = opts_for(dir, 4096, false);
    o.first_segment = 1795467600123ull;
    sl_wal_recovery rep;
    sl_wal *w = open_ok(&o, &rep);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.active_segment, 1795467600123ull);
    uint8_t buf[3000];
    memset(buf, 7, sizeof(buf));
    struct iovec iov = {buf, sizeof(buf)};
    for (int i = 0; i < 4; i++) /* past 4 KiB: rotation to the next number */
        assert_int_equal(sl_wal_append(w, 1, &iov, 1, NULL, NULL), SL_OK);
    assert_int_equal(sl_wal_sync(w, 0), SL_OK);
    sl_wal_stats_get(w, &st);
    assert_true(st.active_segment > 1795467600123ull);
    uint64_t active = st.active_segment;
    sl_wal_close(w);
    o.first_segment = 5; /* ignored: the log exists */
    w = open_ok(&o, &rep);
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.active_segment, active);
    assert_int_equal(st.next_lsn, 5);
    sl_wal_close(w);
    rm_tmpdir(dir);
}

static void test_temp_removed(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char p[4200], q[4200];
    snprintf(p, sizeof(p), "%s/0000000000000007.wal.tmp", dir);
    write_file(p, "junk", 4);
    snprintf(q, sizeof(q), "%s/notes.txt", dir);
    write_file(q, "keep", 4);
    sl_wal_opts o = opts_for(dir, 0, true);
    sl_wal_recovery rep;
    sl_wal *w = open_ok(&o, &rep);
    assert_false(file_exists(p));
    assert_true(file_exists(q));
    assert_non_null(strstr(rep.message, "temp"));
    sl_wal_close(w);
    rm_tmpdir(dir);
}

/* ---- rotation, release, limits ------------------------------------------------------------- */

static void test_rotation_release(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    const uint64_t seg = 4096;
    sl_wal_opts o = opts_for(dir, seg, false);
    sl_wal *w = open_ok(&o, NULL);
    model m = {0};
    for (int i = 0; i < 200; i++)
        append_rec(w, &m, 3, 100 + (size_t)(i * 37 % 200), (uint32_t)i);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_true(st.segments >= 8);
    assert_int_equal(st.segments, st.active_segment);
    /* closed segments were cut to their size, never past segment_bytes, never split */
    for (uint64_t s = 1; s < st.active_segment; s++) {
        char p[4200];
        seg_path(p, sizeof(p), dir, s);
        assert_true(file_size(p) <= (long)seg);
        assert_true(file_size(p) > (long)SL__WAL_SEG_HDR);
    }
    for (size_t i = 0; i < m.n; i++)
        assert_true(m.v[i].loc.offset + SL__WAL_REC_HDR + m.v[i].len <= seg);
    /* rotation synced the old segments */
    assert_true(st.durable_lsn > 0);
    assert_true(st.fsyncs >= st.segments - 1);

    const uint64_t cuts[] = {0, 1, 2, 30, m.v[60].lsn, m.v[61].lsn, 150, UINT64_MAX};
    for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
        uint64_t k = cuts[c];
        assert_int_equal(sl_wal_release(w, k), SL_OK);
        sl_wal_stats_get(w, &st);
        /* segment s stays iff it is the active one or holds a record >= k */
        uint64_t bytes = 0, segs = 0;
        for (uint64_t s = 1; s <= st.active_segment; s++) {
            uint64_t max_lsn = 0;
            for (size_t i = 0; i < m.n; i++)
                if (m.v[i].loc.segment == s)
                    max_lsn = m.v[i].lsn;
            bool keep = s == st.active_segment || max_lsn >= k;
            char p[4200];
            seg_path(p, sizeof(p), dir, s);
            assert_int_equal(file_exists(p), keep);
            if (keep) {
                segs++;
                bytes += s == st.active_segment ? 0 : (uint64_t)file_size(p);
            }
        }
        assert_int_equal(st.segments, segs);
        assert_true(st.bytes > bytes);
    }
    assert_int_equal(st.segments, 1);
    /* a released record cannot be read */
    uint8_t buf[400];
    assert_int_equal(sl_wal_read(w, &m.v[0].loc, 0, buf), SL_INVALID);
    rec_model last = m.v[m.n - 1];
    read_expect(w, &last);
    sl_wal_close(w);

    /* reopen after release: LSNs continue, replay starts at the first live record */
    sl_wal_recovery rep;
    w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.next_lsn, m.n + 1);
    assert_int_equal(st.segments, 1);
    size_t first = 0;
    while (first < m.n && m.v[first].loc.segment != st.active_segment)
        first++;
    replay_expect(w, &m, 0, first);
    uint64_t lsn = append_rec(w, &m, 4, 10, 999);
    assert_int_equal(lsn, m.n);
    sl_wal_close(w);
    free(m.v);
    rm_tmpdir(dir);
}

/* Copies the regular files of `from` into `to`: what the disk would show if the machine stopped
 * now with the page cache written out. */
static void copy_dir_files(const char *from, const char *to)
{
    DIR *d = opendir(from);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char a[4200], b[4200];
        snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
        snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
        size_t n;
        uint8_t *p = read_file(a, &n);
        write_file(b, p, n);
        free(p);
    }
    closedir(d);
}

/* Index in m of the first record at or after segment `seg`. */
static size_t first_in_segment(const model *m, uint64_t seg)
{
    size_t i = 0;
    while (i < m->n && m->v[i].loc.segment < seg)
        i++;
    return i;
}

/* Released segments become spares and later segments are written into them (see wal.c
 * "Recycling"): old records behind the new ones never come back, after a crash or a clean
 * close, and the spares' number is bounded. */
static void test_recycle(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    const uint64_t seg = 4096;
    sl_wal_opts o = opts_for(dir, seg, false);
    o.spare_segments = 2;
    sl_wal *w = open_ok(&o, NULL);
    model m = {0};
    for (int i = 0; i < 60; i++)
        append_rec(w, &m, 3, 200 + (size_t)(i * 53 % 300), (uint32_t)i);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_true(st.segments >= 5);
    assert_int_equal(st.spares, 0);

    /* release all but the active segment: two kept as spares, the others deleted */
    assert_int_equal(sl_wal_release(w, UINT64_MAX), SL_OK);
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.spares, 2);
    assert_true(st.spare_bytes > 2 * SL__WAL_SEG_HDR && st.spare_bytes <= 2 * seg);
    assert_int_equal(st.recycled, 0);
    assert_int_equal(count_suffix(dir, ".spare"), 2);
    assert_int_equal(count_suffix(dir, ".wal"), 1);

    /* the next two segments are started in the spares, not in new files */
    for (int i = 0; i < 400 && st.recycled < 2; i++) {
        append_rec(w, &m, 5, 100 + (size_t)(i * 31 % 250), (uint32_t)(1000 + i));
        sl_wal_stats_get(w, &st);
    }
    assert_int_equal(st.recycled, 2);
    assert_int_equal(st.spares, 0);
    assert_int_equal(count_suffix(dir, ".spare"), 0);
    /* the active segment holds old records behind the new ones */
    char p[4200];
    seg_path(p, sizeof(p), dir, st.active_segment);
    size_t n;
    uint8_t *f = read_file(p, &n);
    const rec_model *last = &m.v[m.n - 1];
    assert_int_equal(last->loc.segment, st.active_segment);
    uint64_t end = last->loc.offset + SL__WAL_REC_HDR + ((last->len + 7) & ~(size_t)7);
    bool stale = false;
    for (uint64_t i = end; i < n && !stale; i++)
        stale = f[i] != 0;
    free(f);
    assert_true(stale);

    /* a crash now: recovery keeps exactly the records written since, the old ones are a torn
     * tail, and LSNs go on */
    char *crash = make_tmpdir();
    copy_dir_files(dir, crash);
    sl_wal_opts oc = opts_for(crash, seg, false);
    oc.spare_segments = 2;
    sl_wal_recovery rep;
    sl_wal *wc = open_ok(&oc, &rep);
    size_t first = first_in_segment(&m, st.active_segment - st.segments + 1);
    assert_int_equal(rep.records, m.n - first);
    assert_true(rep.truncated_bytes > 0);
    assert_null(strstr(rep.message, "corrupt"));
    replay_expect(wc, &m, 0, first);
    model mc = {0};
    for (size_t i = first; i < m.n; i++)
        model_push(&mc, m.v[i]);
    assert_int_equal(append_rec(wc, &mc, 6, 64, 77), m.n + 1);
    sl_wal_close(wc);
    wc = open_ok(&oc, &rep);
    assert_string_equal(rep.message, "");
    replay_expect(wc, &mc, 0, 0);
    sl_wal_close(wc);
    free(mc.v);
    rm_tmpdir(crash);

    /* the live log reads and replays the same */
    replay_expect(w, &m, 0, first);
    read_expect(w, last);

    /* a clean close leaves no old bytes in the active segment */
    assert_int_equal(sl_wal_release(w, UINT64_MAX), SL_OK);
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.spares, 2);
    uint64_t active = st.active_segment;
    sl_wal_close(w);
    seg_path(p, sizeof(p), dir, active);
    assert_int_equal(file_size(p), (long)end);
    w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.spares, 2); /* found again at open */
    replay_expect(w, &m, 0, first_in_segment(&m, active));
    sl_wal_close(w);

    /* a lower limit deletes the spares over it, and says so */
    o.spare_segments = 1;
    w = open_ok(&o, &rep);
    assert_non_null(strstr(rep.message, "spare segment(s) over the limit"));
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.spares, 1);
    assert_int_equal(count_suffix(dir, ".spare"), 1);
    /* sl_wal_drop_spares gives their space back */
    assert_int_equal(sl_wal_drop_spares(w), 1);
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.spares, 0);
    assert_int_equal(count_suffix(dir, ".spare"), 0);
    sl_wal_close(w);

    /* without spares (the default) released segments are deleted */
    o.spare_segments = 0;
    w = open_ok(&o, NULL);
    for (int i = 0; i < 40; i++)
        append_rec(w, &m, 3, 300, (uint32_t)(5000 + i));
    assert_int_equal(sl_wal_release(w, UINT64_MAX), SL_OK);
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.spares, 0);
    assert_int_equal(count_suffix(dir, ".spare"), 0);
    assert_int_equal(count_suffix(dir, ".wal"), 1);
    sl_wal_close(w);
    free(m.v);
    rm_tmpdir(dir);
}

static void test_max_bytes(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    sl_wal_opts o = opts_for(dir, 4096, true);
    o.max_bytes = 16384;
    sl_wal *w = open_ok(&o, NULL);
    uint8_t b[500];
    memset(b, 7, sizeof(b));
    struct iovec iov = {b, sizeof(b)};
    sl_err err;
    uint64_t lsn = 0, n = 0, last = 0;
    while ((err = sl_wal_append(w, 1, &iov, 1, &lsn, NULL)) == SL_OK) {
        n++;
        last = lsn;
    }
    assert_int_equal(err, SL_FULL);
    assert_true(n > 20);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_true(st.bytes <= o.max_bytes);
    assert_int_equal(st.next_lsn, last + 1);
    /* still full, nothing written */
    assert_int_equal(sl_wal_append(w, 1, &iov, 1, &lsn, NULL), SL_FULL);
    sl_wal_stats st2;
    sl_wal_stats_get(w, &st2);
    assert_int_equal(st2.bytes, st.bytes);
    /* a record that can never fit */
    uint8_t *huge = calloc(1, 20000);
    struct iovec hv = {huge, 20000};
    assert_int_equal(sl_wal_append(w, 1, &hv, 1, NULL, NULL), SL_FULL);
    free(huge);
    /* releasing makes room */
    assert_int_equal(sl_wal_release(w, last + 1), SL_OK);
    sl_wal_stats_get(w, &st2);
    assert_true(st2.bytes < st.bytes);
    assert_int_equal(sl_wal_append(w, 1, &iov, 1, &lsn, NULL), SL_OK);
    assert_int_equal(lsn, last + 1);
    sl_wal_close(w);
    rm_tmpdir(dir);
}

/* ---- recovery ------------------------------------------------------------------------------ */

/* Builds a log of n records (sizes vary) in one segment, closed. */
static void build_log(const char *dir, model *m, int n, uint64_t segment_bytes)
{
    sl_wal_opts o = opts_for(dir, segment_bytes, true);
    sl_wal *w = open_ok(&o, NULL);
    for (int i = 0; i < n; i++)
        append_rec(w, m, (uint8_t)(1 + i), 40 + (size_t)(i * 29 % 90), 1000u + (uint32_t)i);
    sl_wal_close(w);
}

static void test_torn_tail(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    model m = {0};
    build_log(dir, &m, 6, 0);
    char p[4200];
    seg_path(p, sizeof(p), dir, 1);
    size_t n;
    uint8_t *orig = read_file(p, &n);
    rec_model last = m.v[m.n - 1];
    uint64_t start = last.loc.offset;
    assert_int_equal(n, start + SL__WAL_REC_HDR + ((last.len + 7) & ~(size_t)7));
    sl_wal_opts o = opts_for(dir, 0, true);
    model prefix = m;
    prefix.n = m.n - 1;
    for (uint64_t cut = start; cut < n; cut++) {
        write_file(p, orig, cut);
        sl_wal_recovery rep;
        sl_wal *w = open_ok(&o, &rep);
        assert_int_equal(rep.records, m.n - 1);
        assert_int_equal(rep.truncated_bytes, cut - start);
        if (cut > start)
            assert_non_null(strstr(rep.message, "torn tail"));
        else
            assert_string_equal(rep.message, "");
        replay_expect(w, &prefix, 0, 0);
        sl_wal_close(w);
        assert_int_equal(file_size(p), (long)start);
    }
    /* the whole record again: nothing lost */
    write_file(p, orig, n);
    sl_wal_recovery rep;
    sl_wal *w = open_ok(&o, &rep);
    assert_int_equal(rep.records, m.n);
    assert_string_equal(rep.message, "");
    /* after a truncation, appends continue at the prefix's end with the next LSN */
    sl_wal_close(w);
    write_file(p, orig, n - 3);
    w = open_ok(&o, &rep);
    m.n--;
    uint64_t lsn = append_rec(w, &m, 8, 33, 4242);
    assert_int_equal(lsn, last.lsn);
    assert_int_equal(m.v[m.n - 1].loc.offset, start);
    sl_wal_close(w);
    w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    replay_expect(w, &m, 0, 0);
    sl_wal_close(w);
    free(orig);
    free(m.v);
    rm_tmpdir(dir);
}

static void test_zero_tail(void **state)
{
    (void)state;
    const size_t zeros[] = {1, 9, 24, 4096, 100000};
    for (size_t z = 0; z < sizeof(zeros) / sizeof(zeros[0]); z++) {
        char *dir = make_tmpdir();
        model m = {0};
        build_log(dir, &m, 5, 0);
        char p[4200];
        seg_path(p, sizeof(p), dir, 1);
        size_t n;
        uint8_t *orig = read_file(p, &n);
        uint8_t *buf = calloc(1, n + zeros[z]);
        memcpy(buf, orig, n);
        write_file(p, buf, n + zeros[z]);
        sl_wal_opts o = opts_for(dir, 0, true);
        sl_wal_recovery rep;
        sl_wal *w = open_ok(&o, &rep);
        assert_int_equal(rep.records, m.n);
        assert_int_equal(rep.truncated_bytes, zeros[z]);
        assert_non_null(strstr(rep.message, zeros[z] >= 24 ? "zeros" : "short"));
        replay_expect(w, &m, 0, 0);
        append_rec(w, &m, 1, 10, 5);
        sl_wal_close(w);
        assert_int_equal(file_size(p), (long)(n + SL__WAL_REC_HDR + 16));
        free(buf);
        free(orig);
        free(m.v);
        rm_tmpdir(dir);
    }
}

static void test_flip_last(void **state)
{
    (void)state;
    /* a flipped byte anywhere in the last record (header or payload) = torn tail */
    model m = {0};
    char *dir = make_tmpdir();
    build_log(dir, &m, 5, 0);
    char p[4200];
    seg_path(p, sizeof(p), dir, 1);
    size_t n;
    uint8_t *orig = read_file(p, &n);
    rec_model last = m.v[m.n - 1];
    model prefix = m;
    prefix.n--;
    sl_wal_opts o = opts_for(dir, 0, true);
    for (uint64_t off = last.loc.offset; off < last.loc.offset + SL__WAL_REC_HDR + last.len;
         off++) {
        write_file(p, orig, n);
        flip_byte(p, off);
        sl_wal_recovery rep;
        sl_wal *w = open_ok(&o, &rep);
        assert_int_equal(rep.records, m.n - 1);
        assert_int_equal(rep.truncated_bytes, n - last.loc.offset);
        replay_expect(w, &prefix, 0, 0);
        sl_wal_close(w);
    }
    free(orig);
    free(m.v);
    rm_tmpdir(dir);
}

static void test_flip_middle(void **state)
{
    (void)state;
    model m = {0};
    char *dir = make_tmpdir();
    build_log(dir, &m, 6, 0);
    char p[4200], pc[4300];
    seg_path(p, sizeof(p), dir, 1);
    snprintf(pc, sizeof(pc), "%s.corrupt", p);
    size_t n;
    uint8_t *orig = read_file(p, &n);
    /* every byte of record 2 (header and payload): followed by valid records */
    rec_model r = m.v[2];
    sl_wal_opts o = opts_for(dir, 0, true);
    for (uint64_t off = r.loc.offset; off < r.loc.offset + SL__WAL_REC_HDR + r.len; off += 3) {
        write_file(p, orig, n);
        flip_byte(p, off);
        sl_wal *w = NULL;
        sl_wal_recovery rep;
        assert_int_equal(sl_wal_open(&o, &w, &rep), SL_FORMAT);
        assert_null(w);
        assert_non_null(strstr(rep.message, "0000000000000001.wal"));
        assert_non_null(strstr(rep.message, "offset"));
        assert_non_null(strstr(rep.message, "followed by a valid record"));
        /* nothing was changed */
        assert_int_equal(file_size(p), (long)n);
    }
    /* zeros in the middle (a lost page) are corruption too */
    {
        uint8_t *z = malloc(n);
        memcpy(z, orig, n);
        memset(z + r.loc.offset, 0, SL__WAL_REC_HDR + r.len);
        write_file(p, z, n);
        free(z);
        sl_wal *w = NULL;
        sl_wal_recovery rep;
        assert_int_equal(sl_wal_open(&o, &w, &rep), SL_FORMAT);
        assert_non_null(strstr(rep.message, "zeros"));
    }
    /* quarantine: the valid prefix is kept, the original goes to NAME.corrupt */
    write_file(p, orig, n);
    flip_byte(p, r.loc.offset + SL__WAL_REC_HDR + 1);
    size_t nbad;
    uint8_t *bad = read_file(p, &nbad);
    o.quarantine = true;
    sl_wal_recovery rep;
    sl_wal *w = open_ok(&o, &rep);
    assert_int_equal(rep.quarantined, 1);
    assert_int_equal(rep.records, 2);
    assert_non_null(strstr(rep.message, "quarantined"));
    assert_true(file_exists(pc));
    size_t nc;
    uint8_t *c = read_file(pc, &nc);
    assert_int_equal(nc, nbad);
    assert_memory_equal(c, bad, nc);
    free(c);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.bytes, r.loc.offset);
    model prefix = m;
    prefix.n = 2;
    replay_expect(w, &prefix, 0, 0);
    uint64_t lsn = append_rec(w, NULL, 1, 5, 1);
    assert_int_equal(lsn, 3);
    sl_wal_close(w);
    assert_int_equal(file_size(p), (long)r.loc.offset + SL__WAL_REC_HDR + 8);
    /* clean afterwards, even without quarantine */
    o.quarantine = false;
    w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    assert_int_equal(rep.records, 3);
    sl_wal_close(w);
    free(bad);
    free(orig);
    free(m.v);
    rm_tmpdir(dir);
}

/* Several segments; damage in a non-last one. */
static void test_multi_segment_corruption(void **state)
{
    (void)state;
    for (int kind = 0; kind < 5; kind++) {
        model m = {0};
        char *dir = make_tmpdir();
        build_log(dir, &m, 40, 1024);
        uint64_t nseg = m.v[m.n - 1].loc.segment;
        assert_true(nseg >= 4);
        char p[4200];
        seg_path(p, sizeof(p), dir, 2);
        size_t n;
        uint8_t *orig = read_file(p, &n);
        size_t r2 = 0; /* first record of segment 2 */
        while (m.v[r2].loc.segment != 2)
            r2++;
        const char *want = "";
        size_t kept = 0; /* records kept under quarantine */
        switch (kind) {
        case 0: /* flipped byte in the second record of segment 2 */
            flip_byte(p, m.v[r2 + 1].loc.offset + 30);
            want = "not the last";
            kept = r2 + 1;
            break;
        case 1: /* segment 2 cut in the middle of its last record */
            write_file(p, orig, n - 5);
            want = "not the last";
            kept = r2;
            while (m.v[kept + 1].loc.segment == 2)
                kept++;
            break;
        case 2: /* segment 2 lost its last record entirely: LSN gap to segment 3 */
        {
            size_t k = r2;
            while (m.v[k + 1].loc.segment == 2)
                k++;
            write_file(p, orig, m.v[k].loc.offset);
            want = "LSN gap";
            kept = k;
            break;
        }
        case 3: /* segment 2 has a bad header */
            flip_byte(p, 3);
            want = "bad segment header";
            kept = r2;
            break;
        case 4: /* segment 2 is missing: LSN gap */
            unlink(p);
            want = "LSN gap";
            kept = r2;
            break;
        default:
            fail();
        }
        sl_wal_opts o = opts_for(dir, 1024, true);
        sl_wal *w = NULL;
        sl_wal_recovery rep;
        assert_int_equal(sl_wal_open(&o, &w, &rep), SL_FORMAT);
        if (!strstr(rep.message, want))
            fail_msg("kind %d: '%s' lacks '%s'", kind, rep.message, want);
        o.quarantine = true;
        w = open_ok(&o, &rep);
        assert_int_equal(rep.records, kept);
        uint64_t renamed = count_suffix(dir, ".corrupt");
        assert_int_equal(rep.quarantined, renamed);
        assert_int_equal(renamed, kind == 4 ? nseg - 2 : kind == 2 ? nseg - 2 : nseg - 1);
        model prefix = m;
        prefix.n = kept;
        replay_expect(w, &prefix, 0, 0);
        sl_wal_stats st;
        sl_wal_stats_get(w, &st);
        assert_int_equal(st.next_lsn, kept + 1);
        /* appends continue, rotation does not collide with quarantined names */
        for (int i = 0; i < 20; i++)
            append_rec(w, &prefix, 2, 100, (uint32_t)i);
        sl_wal_close(w);
        o.quarantine = false;
        w = open_ok(&o, &rep);
        assert_string_equal(rep.message, "");
        replay_expect(w, &prefix, 0, 0);
        sl_wal_close(w);
        if (prefix.v != m.v)
            m.v = prefix.v;
        free(orig);
        free(m.v);
        rm_tmpdir(dir);
    }
}

static void test_bad_header(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char p[4200], pc[4300];
    seg_path(p, sizeof(p), dir, 1);
    snprintf(pc, sizeof(pc), "%s.corrupt", p);
    sl_wal_opts o = opts_for(dir, 0, true);
    /* too short */
    write_file(p, "SLUICEWL", 8);
    sl_wal *w = NULL;
    sl_wal_recovery rep;
    assert_int_equal(sl_wal_open(&o, &w, &rep), SL_FORMAT);
    assert_non_null(strstr(rep.message, "shorter"));
    /* garbage */
    uint8_t junk[200];
    memset(junk, 'x', sizeof(junk));
    write_file(p, junk, sizeof(junk));
    assert_int_equal(sl_wal_open(&o, &w, &rep), SL_FORMAT);
    assert_non_null(strstr(rep.message, "magic"));
    /* quarantine: nothing valid left, a new log from LSN 1 */
    o.quarantine = true;
    w = open_ok(&o, &rep);
    assert_int_equal(rep.quarantined, 1);
    assert_true(file_exists(pc));
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.next_lsn, 1);
    sl_wal_close(w);
    rm_tmpdir(dir);

    /* a valid header of a newer version: SL_UNSUPPORTED, not corruption, even in quarantine */
    dir = make_tmpdir();
    seg_path(p, sizeof(p), dir, 1);
    model m = {0};
    build_log(dir, &m, 2, 0);
    size_t n;
    uint8_t *b = read_file(p, &n);
    b[8] = 2;
    /* recompute the header CRC with the library's own CRC via a round trip is not possible
     * here, so use the reference bitwise CRC */
    uint32_t crc = ~0u;
    for (int i = 0; i < 60; i++) {
        crc ^= b[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    crc = ~crc;
    b[60] = (uint8_t)crc;
    b[61] = (uint8_t)(crc >> 8);
    b[62] = (uint8_t)(crc >> 16);
    b[63] = (uint8_t)(crc >> 24);
    write_file(p, b, n);
    o = opts_for(dir, 0, true);
    assert_int_equal(sl_wal_open(&o, &w, &rep), SL_UNSUPPORTED);
    assert_non_null(strstr(rep.message, "version"));
    o.quarantine = true;
    assert_int_equal(sl_wal_open(&o, &w, &rep), SL_UNSUPPORTED);
    assert_false(file_exists(pc));
    free(b);
    free(m.v);
    rm_tmpdir(dir);

    /* a segment of another log in the middle */
    dir = make_tmpdir();
    char *dir2 = make_tmpdir();
    model m1 = {0}, m2 = {0};
    build_log(dir, &m1, 30, 1024);
    build_log(dir2, &m2, 30, 1024);
    char p2[4200];
    seg_path(p, sizeof(p), dir, 2);
    seg_path(p2, sizeof(p2), dir2, 2);
    uint8_t *other = read_file(p2, &n);
    write_file(p, other, n);
    free(other);
    o = opts_for(dir, 1024, true);
    assert_int_equal(sl_wal_open(&o, &w, &rep), SL_FORMAT);
    assert_non_null(strstr(rep.message, "another log"));
    free(m1.v);
    free(m2.v);
    rm_tmpdir(dir);
    rm_tmpdir(dir2);
}

/* ---- write failures -------------------------------------------------------------------------- */

/* In a child: RLIMIT_FSIZE makes write(2) fail with EFBIG (SIGXFSZ ignored). Returns a line
 * number on failure, 0 on success. */
static int rlimit_child(const char *dir)
{
    signal(SIGXFSZ, SIG_IGN);
    const rlim_t limit = 64 * 1024;
    struct rlimit rl = {limit, limit};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return __LINE__;
    sl_wal_opts o = opts_for(dir, 0, false);
    sl_wal *w = NULL;
    sl_wal_recovery rep;
    if (sl_wal_open(&o, &w, &rep) != SL_OK)
        return __LINE__;
    uint8_t b[1000];
    memset(b, 0xab, sizeof(b));
    struct iovec iov = {b, sizeof(b)};
    sl_err err;
    uint64_t lsn, n = 0, last = 0;
    while ((err = sl_wal_append(w, 1, &iov, 1, &lsn, NULL)) == SL_OK) {
        last = lsn;
        if (++n > 1000)
            return __LINE__;
    }
    if (err != SL_NOSPACE)
        return __LINE__;
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    if (st.broken || st.next_lsn != last + 1)
        return __LINE__;
    char p[4200];
    seg_path(p, sizeof(p), dir, 1);
    /* the partial record is gone (direct I/O may leave zeros up to a block boundary) */
    if (st.direct ? file_size(p) < (long)st.bytes : file_size(p) != (long)st.bytes)
        return __LINE__;
    if (sl_wal_sync(w, last) != SL_OK)
        return __LINE__;
    /* still usable: a smaller record fits */
    struct iovec small = {b, 8};
    if (sl_wal_append(w, 2, &small, 1, &lsn, NULL) != SL_OK || lsn != last + 1)
        return __LINE__;
    if (sl_wal_sync(w, lsn) != SL_OK)
        return __LINE__;
    sl_wal_close(w);
    if (sl_wal_open(&o, &w, &rep) != SL_OK || rep.records != last + 1 || rep.truncated_bytes)
        return __LINE__;
    sl_wal_close(w);
    return 0;
}

static void test_nospace_rlimit(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(rlimit_child(dir) & 0xff);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status))
        fail_msg("rlimit child failed near wal_test.c line %d (mod 256)", WEXITSTATUS(status));
    /* and the parent sees the same log */
    sl_wal_opts o = opts_for(dir, 0, true);
    sl_wal_recovery rep;
    sl_wal *w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    assert_true(rep.records > 50);
    sl_wal_close(w);
    rm_tmpdir(dir);
}

static void test_write_fail_injected(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    sl_wal_opts o = opts_for(dir, 0, true);
    sl_wal *w = open_ok(&o, NULL);
    model m = {0};
    for (int i = 0; i < 3; i++)
        append_rec(w, &m, 1, 50, (uint32_t)i);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    char p[4200];
    seg_path(p, sizeof(p), dir, 1);
    /* ENOSPC after the header reached the file: cut off again, log usable */
    sl__wal_fail_write(w, 0, ENOSPC);
    uint8_t b[100] = {0};
    struct iovec iov = {b, sizeof(b)};
    assert_int_equal(sl_wal_append(w, 1, &iov, 1, NULL, NULL), SL_NOSPACE);
    if (!st.direct)
        assert_int_equal(file_size(p), (long)st.bytes);
    sl__wal_fail_write(w, 0, EDQUOT);
    assert_int_equal(sl_wal_append(w, 1, &iov, 1, NULL, NULL), SL_NOSPACE);
    append_rec(w, &m, 1, 60, 77);
    assert_int_equal(sl_wal_sync(w, UINT64_MAX), SL_OK);
    /* EIO: broken for good */
    sl__wal_fail_write(w, 0, EIO);
    assert_int_equal(sl_wal_append(w, 1, &iov, 1, NULL, NULL), SL_IO);
    sl__wal_fail_write(w, -1, 0);
    assert_int_equal(sl_wal_append(w, 1, &iov, 1, NULL, NULL), SL_IO);
    assert_int_equal(sl_wal_sync(w, 1), SL_IO);
    assert_int_equal(sl_wal_release(w, 1), SL_IO);
    sl_wal_stats_get(w, &st);
    assert_true(st.broken);
    sl_wal_close(w);
    /* the header that made it to the file is a torn tail (direct I/O: plus the zeros of its
     * block) */
    bool direct = st.direct;
    sl_wal_recovery rep;
    w = open_ok(&o, &rep);
    assert_int_equal(rep.records, 4);
    if (direct)
        assert_true(rep.truncated_bytes >= SL__WAL_REC_HDR);
    else
        assert_int_equal(rep.truncated_bytes, SL__WAL_REC_HDR);
    replay_expect(w, &m, 0, 0);
    sl_wal_close(w);
    free(m.v);
    rm_tmpdir(dir);
}

/* ---- fsync failure ------------------------------------------------------------------------- */

static int sync_calls;
static uint64_t sync_bytes;
static void on_sync(void *ctx, double secs, uint64_t bytes)
{
    (void)ctx;
    assert_true(secs >= 0);
    sync_calls++;
    sync_bytes += bytes;
}

static void test_fsync_failure(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    sl_wal_opts o = opts_for(dir, 0, false);
    o.on_sync = on_sync;
    sync_calls = 0;
    sync_bytes = 0;
    sl_wal *w = open_ok(&o, NULL);
    model m = {0};
    for (int i = 0; i < 10; i++)
        append_rec(w, &m, 1, 100, (uint32_t)i);
    assert_int_equal(sl_wal_sync(w, 10), SL_OK);
    assert_int_equal(sync_calls, 1);
    assert_int_equal(sync_bytes, 10 * (SL__WAL_REC_HDR + 104));
    sl__wal_fail_sync(w, 0);
    append_rec(w, &m, 1, 100, 10);
    assert_int_equal(sl_wal_sync(w, 11), SL_IO);
    assert_int_equal(sync_calls, 1);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_true(st.broken);
    assert_int_equal(st.durable_lsn, 10);
    /* forever: even for LSNs that were durable before, and with the hook off */
    sl__wal_fail_sync(w, -1);
    assert_int_equal(sl_wal_sync(w, 11), SL_IO);
    assert_int_equal(sl_wal_sync(w, 5), SL_IO);
    assert_int_equal(sl_wal_sync(w, 0), SL_IO);
    uint8_t b[8] = {0};
    struct iovec iov = {b, 8};
    assert_int_equal(sl_wal_append(w, 1, &iov, 1, NULL, NULL), SL_IO);
    assert_int_equal(sl_wal_release(w, 5), SL_IO);
    assert_int_equal(sl_wal_read(w, &m.v[0].loc, 1, b), SL_IO);
    replay_ctx c = {&m, 0, 0};
    assert_int_equal(sl_wal_replay(w, 0, check_rec, &c), SL_IO);
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.durable_lsn, 10);
    sl_wal_close(w);
    rm_tmpdir(dir);

    /* a failed fsync at rotation */
    dir = make_tmpdir();
    o = opts_for(dir, 1024, false);
    w = open_ok(&o, NULL);
    m.n = 0;
    for (int i = 0; i < 5; i++)
        append_rec(w, &m, 1, 100, (uint32_t)i);
    sl__wal_fail_sync(w, 0);
    sl_err err = SL_OK;
    for (int i = 0; i < 20 && !err; i++)
        err = sl_wal_append(w, 1, &iov, 1, NULL, NULL);
    assert_int_equal(err, SL_IO);
    assert_int_equal(sl_wal_sync(w, 1), SL_IO);
    sl_wal_stats_get(w, &st);
    assert_true(st.broken);
    assert_int_equal(st.segments, 1);
    sl_wal_close(w);
    free(m.v);
    rm_tmpdir(dir);
}

/* ---- concurrency -------------------------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 2000

typedef struct {
    sl_wal *w;
    int id;
    int per_thread;
    uint64_t lsns[PER_THREAD];
    int failed_at;     /* first SL_IO, -1 */
    int ok_after_fail; /* calls that returned OK after this thread saw SL_IO */
    uint64_t max_acked;
    bool check_read;
} worker;

static void *worker_main(void *arg)
{
    worker *k = arg;
    uint8_t b[1024], got[1024];
    for (int i = 0; i < k->per_thread; i++) {
        memset(b, 0, sizeof(b));
        b[0] = (uint8_t)k->id;
        memcpy(b + 1, &i, sizeof(i));
        fill(b + 8, sizeof(b) - 8, (uint32_t)(k->id * 100000 + i));
        struct iovec iov = {b, sizeof(b)};
        sl_wal_loc loc;
        uint64_t lsn = 0;
        sl_err err = sl_wal_append(k->w, (uint8_t)(1 + k->id), &iov, 1, &lsn, &loc);
        if (!err)
            err = sl_wal_sync(k->w, lsn);
        if (err) {
            if (err != SL_IO)
                fprintf(stderr, "worker %d: %s\n", k->id, sl_strerror(err));
            if (k->failed_at < 0)
                k->failed_at = i;
            continue;
        }
        if (k->failed_at >= 0)
            k->ok_after_fail++;
        k->lsns[i] = lsn;
        if (lsn > k->max_acked)
            k->max_acked = lsn;
        if (k->check_read) {
            sl_err r = sl_wal_read(k->w, &loc, lsn, got);
            if (r != SL_OK || memcmp(got, b, sizeof(b)) != 0)
                fprintf(stderr, "worker %d: read back failed (%s)\n", k->id, sl_strerror(r));
            if (r != SL_OK)
                k->failed_at = -2;
        }
    }
    return NULL;
}

typedef struct {
    sl_wal *w;
    atomic_int *stop;
    int releases;
} releaser;

static void *releaser_main(void *arg)
{
    releaser *r = arg;
    while (!atomic_load(r->stop)) {
        sl_wal_stats st;
        sl_wal_stats_get(r->w, &st);
        if (sl_wal_release(r->w, st.durable_lsn / 2) == SL_OK)
            r->releases++;
        usleep(200);
    }
    return NULL;
}

typedef struct {
    uint64_t next;
    int seen[THREADS];
    uint64_t count;
} dense_ctx;

static sl_err check_dense(void *ctx, const sl_wal_rec *rec)
{
    dense_ctx *c = ctx;
    if (c->next && rec->lsn != c->next)
        fail_msg("LSN %llu after %llu", (unsigned long long)rec->lsn,
                 (unsigned long long)c->next - 1);
    c->next = rec->lsn + 1;
    assert_int_equal(rec->len, 1024);
    int id = rec->data[0], i;
    assert_true(id < THREADS);
    assert_int_equal(rec->type, 1 + id);
    memcpy(&i, rec->data + 1, sizeof(i));
    /* a thread's records appear in its own order */
    assert_true(i >= c->seen[id]);
    c->seen[id] = i + 1;
    uint8_t want[1016];
    fill(want, sizeof(want), (uint32_t)(id * 100000 + i));
    assert_memory_equal(rec->data + 8, want, sizeof(want));
    c->count++;
    return SL_OK;
}

static void run_concurrent(uint64_t segment_bytes, uint32_t delay_us, bool with_release,
                           int per_thread)
{
    char *dir = make_tmpdir();
    sl_wal_opts o = opts_for(dir, segment_bytes, false);
    o.commit_delay_us = delay_us;
    sl_wal *w = open_ok(&o, NULL);
    static worker k[THREADS];
    pthread_t t[THREADS], rt;
    atomic_int stop;
    atomic_init(&stop, 0);
    releaser rel = {w, &stop, 0};
    for (int i = 0; i < THREADS; i++) {
        memset(&k[i], 0, sizeof(k[i]));
        k[i] = (worker){.w = w,
                        .id = i,
                        .per_thread = per_thread,
                        .failed_at = -1,
                        .check_read = !with_release};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &k[i]), 0);
    }
    if (with_release)
        assert_int_equal(pthread_create(&rt, NULL, releaser_main, &rel), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    atomic_store(&stop, 1);
    if (with_release)
        assert_int_equal(pthread_join(rt, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(k[i].failed_at, -1);
    uint64_t total = (uint64_t)THREADS * (uint64_t)per_thread;
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.next_lsn, total + 1);
    assert_int_equal(st.durable_lsn, total);
    printf("  %d threads x %d appends+syncs: %llu fsyncs (%.0f%% of syncs), %.3f s in fsync%s\n",
           THREADS, per_thread, (unsigned long long)st.fsyncs,
           100.0 * (double)st.fsyncs / (double)total, st.fsync_seconds,
           with_release ? ", release running" : "");
    if (with_release && g_spares) /* the releases fed spares and rotations used them */
        assert_true(st.recycled > 0);
    /* every LSN was handed out exactly once */
    uint8_t *seen = calloc(total + 1, 1);
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < per_thread; j++) {
            uint64_t l = k[i].lsns[j];
            assert_true(l >= 1 && l <= total);
            assert_int_equal(seen[l], 0);
            seen[l] = 1;
            if (j)
                assert_true(l > k[i].lsns[j - 1]);
        }
    free(seen);
    sl_wal_close(w);

    sl_wal_recovery rep;
    w = open_ok(&o, &rep);
    assert_string_equal(rep.message, "");
    dense_ctx c = {0};
    assert_int_equal(sl_wal_replay(w, 0, check_dense, &c), SL_OK);
    assert_int_equal(c.next, total + 1);
    if (!with_release)
        assert_int_equal(c.count, total);
    sl_wal_close(w);
    rm_tmpdir(dir);
}

static void test_concurrent(void **state)
{
    (void)state;
    run_concurrent(0, 0, false, PER_THREAD);
}

static void test_concurrent_rotate_release(void **state)
{
    (void)state;
    run_concurrent(64 * 1024, 50, true, PER_THREAD / 2);
}

static void test_concurrent_fsync_failure(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    sl_wal_opts o = opts_for(dir, 256 * 1024, false);
    sl_wal *w = open_ok(&o, NULL);
    sl__wal_fail_sync(w, 40);
    static worker k[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        k[i] = (worker){.w = w, .id = i, .per_thread = 300, .failed_at = -1};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &k[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_true(st.broken);
    for (int i = 0; i < THREADS; i++) {
        /* every thread hit it, nothing was acked afterwards, nothing acked past durable */
        assert_true(k[i].failed_at >= 0);
        assert_int_equal(k[i].ok_after_fail, 0);
        assert_true(k[i].max_acked <= st.durable_lsn);
    }
    assert_true(st.durable_lsn < st.next_lsn - 1 || st.next_lsn == 1);
    sl_wal_close(w);
    rm_tmpdir(dir);
}

/* Can this directory do O_DIRECT at all? */
static bool dir_supports_direct(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/probe", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_DIRECT, 0644);
    if (fd >= 0)
        close(fd);
    unlink(p);
    return fd >= 0;
}

/* Direct I/O specifics: records straddling the bounce buffer and block boundaries, a record
 * read back before any sync (the partial tail block is written for the reader), close without
 * sync, rotation, reopen: every record intact in order. */
static void test_direct_io(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    bool can = dir_supports_direct(dir);
    sl_wal_opts o = opts_for(dir, 3u << 20, false);
    sl_wal *w = open_ok(&o, NULL);
    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    assert_int_equal(st.direct, can && !g_no_direct);
    if (!can)
        print_message("note: %s refuses O_DIRECT; checking the buffered fallback\n", dir);
    model m = {0};
    /* sizes around 4 KiB blocks and the 1 MiB bounce buffer, in a 3 MiB segment */
    const uint32_t sizes[] = {1, 4095, 4096 - 24, 4097, 100, (1u << 20) - 24, (1u << 20),
                              (1u << 20) + 5000, 7, 2u << 20, 33, 65536};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t lsn = append_rec(w, &m, 1, sizes[i], (uint32_t)i);
        read_expect(w, &m.v[m.n - 1]); /* read back at once, before any sync */
        if (i % 3 == 2)
            assert_int_equal(sl_wal_sync(w, lsn), SL_OK);
    }
    /* a few small records left unsynced: a clean close keeps them */
    for (uint32_t i = 0; i < 5; i++)
        append_rec(w, &m, 2, 10 + i, 100 + i);
    sl_wal_stats_get(w, &st);
    assert_true(st.segments > 1);
    sl_wal_close(w);
    sl_wal_recovery rep;
    w = open_ok(&o, &rep);
    assert_int_equal(rep.records, m.n);
    assert_int_equal(rep.truncated_bytes, 0);
    replay_expect(w, &m, 0, 0);
    /* and appending after the reopen continues the tail block correctly */
    append_rec(w, &m, 3, 3000, 999);
    assert_int_equal(sl_wal_sync(w, UINT64_MAX), SL_OK);
    sl_wal_close(w);
    w = open_ok(&o, &rep);
    assert_int_equal(rep.records, m.n);
    replay_expect(w, &m, 0, 0);
    sl_wal_close(w);
    free(m.v);
    rm_tmpdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_empty_dir),
        cmocka_unit_test(test_first_segment),
        cmocka_unit_test(test_temp_removed),
        cmocka_unit_test(test_rotation_release),
        cmocka_unit_test(test_recycle),
        cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_zero_tail),
        cmocka_unit_test(test_flip_last),
        cmocka_unit_test(test_flip_middle),
        cmocka_unit_test(test_multi_segment_corruption),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_nospace_rlimit),
        cmocka_unit_test(test_write_fail_injected),
        cmocka_unit_test(test_fsync_failure),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_concurrent_rotate_release),
        cmocka_unit_test(test_concurrent_fsync_failure),
        cmocka_unit_test(test_direct_io),
    };
    int failed = cmocka_run_group_tests_name("wal (direct I/O where possible)", tests, NULL, NULL);
    g_no_direct = true;
    failed += cmocka_run_group_tests_name("wal (buffered)", tests, NULL, NULL);
    g_writeback = 4096;
    failed += cmocka_run_group_tests_name("wal (buffered, early write-back)", tests, NULL, NULL);
    g_spares = 3;
    failed += cmocka_run_group_tests_name("wal (buffered, early write-back, spare segments)", tests,
                                          NULL, NULL);
    return failed;
}
