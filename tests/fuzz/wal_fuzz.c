/* wal_fuzz.c: libFuzzer target for WAL recovery (src/wal/wal.c).
 *
 * Input: byte 0 = flags (bit 0: two segment files; bit 1: recompute the CRCs of the headers
 * and of every record found by walking the declared lengths, so that mutations of lengths,
 * LSNs and types get past the CRC; bit 2: segment_bytes 256 instead of 4096), bytes 1-2 =
 * length of the first file (little-endian, clamped), the rest = the contents of
 * 0000000000000001.wal and, with bit 0, 0000000000000002.wal.
 *
 * Each input is written to a fresh temp directory twice and opened once without and once with
 * quarantine. An independent reference reader below (written from the format description at
 * the top of wal.c) computes the valid prefix of records and the verdict: clean, torn tail,
 * corrupt or unsupported. Properties (any violation aborts with a description):
 *   1. sl_wal_open returns SL_OK for clean/torn logs, SL_FORMAT for corrupt ones (SL_OK with
 *      quarantine, quarantined >= 1), SL_UNSUPPORTED for a newer version, nothing else;
 *   2. when it opens, replay yields exactly the reference prefix (LSN, type, bytes), the
 *      recovery report counts it, sl_wal_read of every location returns the same bytes;
 *   3. three records appended and synced after that get the next LSNs (with segment_bytes 256
 *      they rotate), and after close and a reopen (without quarantine) the log opens clean and
 *      replays as the prefix + those records.
 * Plus no crash, leak or undefined behaviour (ASan/UBSan). Seeds: tests/fuzz/corpus/wal_fuzz/
 * (segment files written by tests/unit/wal/wal_test.c with SL_WAL_SEED_OUT).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/crc32c.h"
#include "wal/wal.h"
#include "wal/wal_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR SL__WAL_SEG_HDR
#define RHDR SL__WAL_REC_HDR
#define MAX_RECS 4096

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "wal_fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

typedef struct {
    uint8_t *p;
    size_t n;
} file;

/* ---- reference reader --------------------------------------------------------------------- */

typedef struct {
    uint64_t lsn;
    uint8_t type;
    const uint8_t *data;
    size_t len;
} ref_rec;

typedef enum { V_CLEAN, V_CORRUPT, V_UNSUPPORTED } verdict;

typedef struct {
    ref_rec recs[MAX_RECS];
    size_t n;
    verdict v;
    uint64_t next_lsn; /* 0: unknown (nothing valid: a new log starts at 1) */
} ref_result;

static uint32_t ref_seed;

/* Full record check at off: 0 bad, 1 valid CRC (lsn in *lsn). */
static int ref_rec_ok(const file *f, uint64_t off, ref_rec *out)
{
    if (off > f->n || f->n - off < RHDR)
        return 0;
    const uint8_t *h = f->p + off;
    uint32_t len = le32(h + 4);
    if (h[16] == 0 || len > SL_WAL_MAX_RECORD)
        return 0;
    for (int i = 17; i < 24; i++)
        if (h[i])
            return 0;
    if (RHDR + pad8(len) > f->n - off)
        return 0;
    uint32_t crc = sl_crc32c(sl_crc32c(ref_seed, h + RHDR, len), h + 4, 20);
    if (crc != le32(h))
        return 0;
    out->lsn = le64(h + 8);
    out->type = h[16];
    out->data = h + RHDR;
    out->len = len;
    return 1;
}

static void ref_read(file *files, size_t nf, ref_result *r)
{
    uint64_t expect = 0, log_id = 0;
    r->n = 0;
    r->v = V_CLEAN;
    r->next_lsn = 0;
    for (size_t i = 0; i < nf; i++) {
        const file *f = &files[i];
        bool last = i + 1 == nf;
        const uint8_t *h = f->p;
        if (f->n < HDR || memcmp(h, SL__WAL_MAGIC, 8) != 0 || le32(h + 60) != sl_crc32c(0, h, 60)) {
            r->v = V_CORRUPT;
            return;
        }
        if (le32(h + 8) != SL__WAL_VERSION) {
            r->v = V_UNSUPPORTED;
            return;
        }
        bool reserved_ok = true;
        for (int k = 40; k < 60; k++)
            reserved_ok &= h[k] == 0;
        uint64_t first = le64(h + 24);
        if (le32(h + 12) != HDR || !reserved_ok || first == 0 || first >= (uint64_t)1 << 62 ||
            le64(h + 16) != i + 1) {
            r->v = V_CORRUPT;
            return;
        }
        if (i == 0) {
            log_id = le64(h + 32);
            uint8_t b[8];
            memcpy(b, h + 32, 8);
            ref_seed = sl_crc32c(0, b, 8);
        } else if (le64(h + 32) != log_id) {
            r->v = V_CORRUPT;
            return;
        }
        if (expect && first != expect) {
            r->v = V_CORRUPT;
            return;
        }
        uint64_t off = HDR, lsn = first;
        r->next_lsn = first;
        while (off < f->n) {
            ref_rec rec;
            if (ref_rec_ok(f, off, &rec) && rec.lsn == lsn) {
                if (r->n == MAX_RECS)
                    die("too many records for the reference", NULL);
                r->recs[r->n++] = rec;
                off += RHDR + pad8(rec.len);
                lsn++;
                r->next_lsn = lsn;
                continue;
            }
            if (ref_rec_ok(f, off, &rec) && rec.lsn > lsn) {
                r->v = V_CORRUPT; /* LSN gap */
                return;
            }
            if (!last) {
                r->v = V_CORRUPT;
                return;
            }
            for (uint64_t o = off + 8; o < f->n; o += 8) {
                if (ref_rec_ok(f, o, &rec) && rec.lsn >= lsn) {
                    r->v = V_CORRUPT;
                    return;
                }
            }
            return; /* torn tail */
        }
        expect = lsn;
    }
}

/* Recomputes header and record CRCs along the declared lengths (flag bit 1). */
static void fixup(file *files, size_t nf)
{
    if (files[0].n < HDR)
        return;
    uint8_t id[8];
    memcpy(id, files[0].p + 32, 8);
    uint32_t seed = sl_crc32c(0, id, 8);
    for (size_t i = 0; i < nf; i++) {
        file *f = &files[i];
        if (f->n < HDR)
            continue;
        put32(f->p + 60, sl_crc32c(0, f->p, 60));
        uint64_t off = HDR;
        while (off <= f->n && f->n - off >= RHDR) {
            uint8_t *h = f->p + off;
            uint64_t len = le32(h + 4);
            if (len > f->n - off - RHDR)
                break;
            put32(h, sl_crc32c(sl_crc32c(seed, h + RHDR, len), h + 4, 20));
            off += RHDR + pad8(len);
        }
    }
}

/* ---- running the library ------------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void write_files(const char *dir, const file *files, size_t nf)
{
    for (size_t i = 0; i < nf; i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%016zx.wal", dir, i + 1);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            die("cannot create", p);
        size_t off = 0;
        while (off < files[i].n) {
            ssize_t k = write(fd, files[i].p + off, files[i].n - off);
            if (k <= 0)
                die("cannot write", p);
            off += (size_t)k;
        }
        close(fd);
    }
}

#define EXTRA 3

typedef struct {
    const ref_result *ref;
    size_t i;
    const uint8_t *extra; /* the appended records (EXTRA x extra_len), expected after the prefix */
    size_t extra_len;
    uint64_t extra_lsn; /* LSN of the first */
    sl_wal *w;
    char why[200];
} check_ctx;

static sl_err check_rec(void *ctx, const sl_wal_rec *rec)
{
    check_ctx *c = ctx;
    uint8_t buf[8192];
    const uint8_t *want;
    size_t want_len;
    uint64_t want_lsn;
    uint8_t want_type;
    if (c->i < c->ref->n) {
        const ref_rec *r = &c->ref->recs[c->i];
        want = r->data;
        want_len = r->len;
        want_lsn = r->lsn;
        want_type = r->type;
    } else if (c->extra && c->i < c->ref->n + EXTRA) {
        size_t k = c->i - c->ref->n;
        want = c->extra + k * c->extra_len;
        want_len = c->extra_len;
        want_lsn = c->extra_lsn + k;
        want_type = (uint8_t)(7 + k);
    } else {
        snprintf(c->why, sizeof(c->why), "replay: extra record LSN %llu",
                 (unsigned long long)rec->lsn);
        return SL_STATE;
    }
    if (rec->lsn != want_lsn || rec->type != want_type || rec->len != want_len ||
        (want_len && memcmp(rec->data, want, want_len) != 0) || rec->loc.len != want_len) {
        snprintf(c->why, sizeof(c->why), "replay: record %zu differs (LSN %llu vs %llu)", c->i,
                 (unsigned long long)rec->lsn, (unsigned long long)want_lsn);
        return SL_STATE;
    }
    if (want_len <= sizeof(buf)) {
        sl_err err = sl_wal_read(c->w, &rec->loc, rec->lsn, buf);
        if (err || (want_len && memcmp(buf, want, want_len) != 0)) {
            snprintf(c->why, sizeof(c->why), "read by loc: %s", sl_strerror(err));
            return SL_STATE;
        }
    }
    c->i++;
    return SL_OK;
}

static void replay_check(sl_wal *w, const ref_result *ref, const uint8_t *extra, size_t extra_len,
                         uint64_t extra_lsn)
{
    check_ctx c = {ref, 0, extra, extra_len, extra_lsn, w, ""};
    sl_err err = sl_wal_replay(w, 0, check_rec, &c);
    if (err)
        die(c.why[0] ? c.why : "replay failed", sl_strerror(err));
    if (c.i != ref->n + (extra ? EXTRA : 0))
        die("replay returned fewer records than the reference", NULL);
}

static void run(const file *files, size_t nf, const ref_result *ref, bool quarantine,
                uint64_t segment_bytes)
{
    const char *base = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/wal_fuzz.XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp failed", dir);
    write_files(dir, files, nf);

    sl_wal_opts o;
    sl_wal_opts_default(&o);
    o.dir = dir;
    o.no_sync = true; /* speed; durability is not what this target checks */
    o.segment_bytes = segment_bytes;
    o.quarantine = quarantine;
    sl_wal *w = NULL;
    sl_wal_recovery rep;
    sl_err err = sl_wal_open(&o, &w, &rep);
    sl_err want = ref->v == V_UNSUPPORTED              ? SL_UNSUPPORTED
                  : ref->v == V_CORRUPT && !quarantine ? SL_FORMAT
                                                       : SL_OK;
    if (err != want) {
        char d[400];
        snprintf(d, sizeof(d), "got %s, want %s (quarantine %d): %s", sl_strerror(err),
                 sl_strerror(want), quarantine, rep.message);
        die("open result differs from the reference", d);
    }
    if (err) {
        if (w)
            die("failed open returned a handle", NULL);
        if (!rep.message[0])
            die("failed open without a message", NULL);
        goto out;
    }
    if (rep.records != ref->n)
        die("recovery report counts differ from the reference", rep.message);
    if (ref->v == V_CORRUPT && rep.quarantined == 0)
        die("corruption without quarantine report", rep.message);
    if (ref->v != V_CORRUPT && rep.quarantined)
        die("quarantined a log the reference finds fine", rep.message);
    replay_check(w, ref, NULL, 0, 0);

    sl_wal_stats st;
    sl_wal_stats_get(w, &st);
    /* nothing valid at all: a new log from LSN 1 */
    uint64_t want_next = ref->n ? ref->recs[ref->n - 1].lsn + 1 : ref->next_lsn ? ref->next_lsn : 1;
    if (st.next_lsn != want_next)
        die("next LSN differs", NULL);

    uint8_t extra[EXTRA * 100];
    for (size_t i = 0; i < sizeof(extra); i++)
        extra[i] = (uint8_t)(i * 7 + nf);
    uint64_t lsn = 0;
    for (size_t k = 0; k < EXTRA; k++) {
        struct iovec iov = {extra + k * 100, 100};
        err = sl_wal_append(w, (uint8_t)(7 + k), &iov, 1, &lsn, NULL);
        if (err)
            die("append after recovery failed", sl_strerror(err));
        if (lsn != st.next_lsn + k)
            die("append got an unexpected LSN", NULL);
    }
    if (sl_wal_sync(w, lsn) != SL_OK)
        die("sync failed", NULL);
    sl_wal_close(w);
    w = NULL;

    o.quarantine = false;
    err = sl_wal_open(&o, &w, &rep);
    if (err || rep.message[0] || rep.truncated_bytes || rep.quarantined)
        die("reopen after append is not clean", rep.message);
    replay_check(w, ref, extra, 100, st.next_lsn);
    sl_wal_close(w);
out:
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > 65536) /* keeps the record count under MAX_RECS */
        return 0;
    uint8_t flags = data[0];
    size_t split = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *body = data + 3;
    size_t n = size - 3;
    file files[2];
    size_t nf = flags & 1 ? 2 : 1;
    if (nf == 1)
        split = n;
    if (split > n)
        split = n;
    /* own copies: fixup writes, and the reference keeps pointers into them */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return 0;
    if (n)
        memcpy(copy, body, n);
    files[0] = (file){copy, split};
    files[1] = (file){copy + split, n - split};
    if (flags & 2)
        fixup(files, nf);
    ref_result *ref = malloc(sizeof(*ref));
    if (!ref)
        die("malloc", NULL);
    ref_read(files, nf, ref);
    uint64_t seg = flags & 4 ? 256 : 4096;
    run(files, nf, ref, false, seg);
    run(files, nf, ref, true, seg);
    free(ref);
    free(copy);
    return 0;
}
