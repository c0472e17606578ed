/* wal.c: write-ahead log (see wal.h for the API).
 *
 * Files. One directory holds the segments `<16 lower-case hex digits>.wal` (the segment number,
 * consecutive from opts.first_segment, default 1), new segments being born as `<name>.tmp` (removed by recovery),
 * released segments kept for reuse as `<name>.spare` (see "Recycling"), quarantined ones as
 * `<name>.corrupt[.N]` (ignored), and nothing else we touch. The
 * directory is flock()ed while open. Segment N+1 starts with the LSN after the last record of
 * segment N; records are never split across segments.
 *
 * On-disk format (little-endian):
 *   segment header, 64 bytes:
 *     0  magic "SLUICEWL"      8  u32 version (1)     12 u32 header size (64)
 *     16 u64 segment number    24 u64 first LSN       32 u64 log id (random, same in every
 *     40 20 zero bytes         60 u32 CRC32C(0, bytes 0..59)          segment of one log)
 *   record, at offset 64 and then every 8-byte aligned offset:
 *     0  u32 crc   = CRC32C seeded with CRC32C(log id), over the payload, then bytes 4..23
 *     4  u32 payload length (<= 256 MiB)
 *     8  u64 LSN   16 u8 type (1..255)   17 7 zero bytes
 *     24 payload, then zero padding to a multiple of 8 (not covered by the CRC)
 * The CRC covers LSN, type, length and payload. Because the seed comes from the log id, bytes
 * of another log (or record-like bytes inside a payload) never pass as records of this one;
 * because each record carries its LSN, stale bytes never pass as the next record. A header of
 * 24 zero bytes is never valid (type 0).
 *
 * Preallocation. A new (or reopened active) segment is fallocate()d to segment_bytes, so the
 * fdatasync of an append does not have to commit a size change (measured: p50 fdatasync of a
 * 1 KiB append 300 -> 240 us, syncs/s +25..40% on this ext4 virtio disk). Zero tails are thus
 * normal after a crash. The file is cut back to the written size at rotation (before its
 * fsync) and at close, so closed segments and a cleanly closed log have no tail. `bytes` in the
 * stats and max_bytes count written bytes; the disk may hold up to one segment_bytes more.
 *
 * Recovery (sl_wal_open). Segments are scanned in number order; every record is checked (CRC,
 * expected LSN, plausible header). At the first bad record of the LAST segment we look for any
 * valid record of this log with LSN >= the expected one at any later 8-aligned offset: none ->
 * torn tail, truncated (the log is the prefix); one -> corruption. Corruption is also: a bad
 * record in a non-last segment, a bad segment header, another log's id, an LSN gap. Corruption
 * fails the open with SL_FORMAT, or with opts.quarantine keeps the valid prefix: the bad segment
 * is hard-linked to NAME.corrupt and replaced (temp + rename) by a copy of its valid prefix,
 * later segments are renamed .corrupt too, so the live log is always a prefix of what was
 * written. Valid records with a CRC but a lower LSN than expected count as garbage (stale).
 *
 * Durability. Appends write(2) (pwritev) under the mutex. sl_wal_sync is group commit: the
 * first waiter becomes leader, snapshots (next_lsn - 1, active segment), drops the mutex,
 * fdatasyncs, retakes it, publishes durable_lsn and wakes everyone; waiters whose LSN is still
 * above durable_lsn elect the next leader. Rotation happens inside an append, under the mutex:
 * cut the preallocation, fsync the old segment, create the new one (temp file, header,
 * fallocate, fsync, rename, fsync the directory). Since every closed segment was fsynced when
 * it was closed (and open fsyncs the last one), syncing the active segment makes every LSN <=
 * the snapshot durable. Any failed fsync or write (other than ENOSPC/EDQUOT/EFBIG, which are
 * undone with ftruncate) sets `broken`: no durable_lsn advance and every call returns SL_IO
 * from then on; fsync is never retried.
 *
 * Direct I/O. Unless opts.no_direct, the active segment is also opened with O_DIRECT, and large
 * records (>= DIO_MIN_RECORD: request bodies) are written through it, bypassing the page cache.
 * Measured on our 2-core VMs (bench/wal_bench.c "bodies": 1 MiB records, a sync per 8 MiB):
 * buffered 690-705 MB/s at 0.27 CPU s/GB, O_DIRECT 420-435 MB/s at 0.35 CPU s/GB (each direct
 * write waits for the device, and the bounce copy costs CPU), so the server leaves it off by
 * default (SLUICE_WAL_DIRECT); it is for devices where page-cache write-back is the bottleneck.
 * Small records stay buffered (a direct write per 1 KiB request would wait for the device under the
 * mutex). Direct writes must be whole DIO_BLK blocks from aligned memory, so the WAL keeps a copy
 * of the block holding the written end (`tail`) and sends a large record through an aligned
 * bounce buffer: the tail's bytes, the record, zeros up to the next block boundary, all written
 * before the append returns, exactly like a buffered append (an ENOSPC cuts off only the record
 * that failed). The zeros after the end look like a preallocated tail to recovery. Reads and
 * fsync use the ordinary fd; the kernel keeps the page cache coherent with direct writes. Where
 * O_DIRECT is refused (tmpfs, some file systems) the log stays buffered (stats.direct tells).
 *
 * Early write-back. With opts.writeback_bytes, each time that many bytes were appended to the
 * active segment since the last time, the append asks the kernel to start writing them out
 * (sync_file_range SYNC_FILE_RANGE_WRITE, which does not wait for the device), so the disk
 * works while the caller goes on parsing the next piece, and the group-commit fdatasync at the
 * end of a request waits only for the last bytes. Durability does not depend on it: only
 * fdatasync publishes durable_lsn; a write-back error surfaces at that fdatasync. Measured
 * (sluice serve, 2M JSON Lines rows in 8 MiB requests from 2 clients, quiet 2-core VM): the
 * time spent in fdatasync per run 0.91 s without, 0.74 s with 1 MiB, 0.69 s with 256 KiB;
 * PostgreSQL's WAL writer does the same by default (wal_writer_flush_after = 1MB).
 *
 * Recycling. With opts.spare_segments, sl_wal_release renames released segments to NAME.spare
 * (up to that many; the rest are deleted) and rotation starts the next segment in a spare file
 * (the most recently released) instead of a new one: write the new header over the old one,
 * extend the preallocation, fdatasync, rename to the new segment's name, fsync the directory.
 * The old records behind the header stay until overwritten; they carry this log's id but LSNs
 * below every LSN the new segment will hold (a spare was released, so all its records were
 * durable and below durable_lsn, and LSNs are never handed out twice), so after a crash
 * recovery sees them exactly like a torn tail: a record with a lower LSN than expected is
 * garbage, and the search for a later valid record wants LSN >= expected. Closed segments are
 * cut to their written end at rotation and the active one at close, as before, so no stale
 * bytes survive in a closed segment. Why (measured on our 2-core VMs, buffered 512 MiB in 1 MiB
 * writes): writing into a new file costs 0.30-1.13 CPU-s (every page-cache page is a fresh
 * allocation, and on these VMs memory the guest has not touched for a few seconds faults in
 * the hypervisor too), overwriting a file whose pages are cached 0.04 s; and the blocks are
 * already written, so fdatasync has no unwritten extents to convert (8.3-9.4 vs 10.3-11.5 ms per
 * 8 MiB request). PostgreSQL recycles its WAL segments for the same reasons. Spares cost disk
 * (up to spare_segments x segment_bytes, outside max_bytes); an append that runs out of space
 * deletes them and tries once more; sl_wal_drop_spares lets other writers on the same disk do so.
 *
 * Threads and locks. Lock order: release_mu -> mu. `mu` guards every mutable field below
 * (segment list, active file, LSNs, counters); it is held during write(2) of a record and
 * during rotation, but not during the group-commit fdatasync, reads (pread) or unlink. The
 * active segment's fd is refcounted (under mu) so a leader or reader may use it while a
 * rotation replaces it. release_mu serializes sl_wal_release so segments are deleted oldest
 * first. User callbacks (on_sync, replay fn) run with no lock held.
 */
#define _GNU_SOURCE
#include "wal/wal.h"
#include "wal/wal_internal.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/crc32c.h"
#include "util/fsutil.h"

#define SEG_HDR ((uint64_t)SL__WAL_SEG_HDR)
#define REC_HDR ((uint64_t)SL__WAL_REC_HDR)
#define DEFAULT_SEGMENT_BYTES ((uint64_t)64 << 20)
#define LSN_LIMIT ((uint64_t)1 << 62) /* first LSNs and segment numbers stay below this */
#define READ_CHUNK ((size_t)1 << 20)  /* reader buffer for replay and recovery */
#define STACK_IOV 64
#define DIO_BLK ((uint64_t)4096)          /* direct-I/O alignment (covers 512 and 4K devices) */
#define DIO_BOUNCE ((size_t)1 << 20)      /* bounce buffer: records go to disk in <= 1 MiB writes */
#define DIO_MIN_RECORD ((size_t)128 << 10) /* smaller records are written buffered */
#define NAME_LEN 48

/* The active segment's open file. Refcounted under wal->mu. */
typedef struct seg_file {
    int fd;
    int dfd;             /* the same file opened O_DIRECT (active segment, direct mode), or -1 */
    int refs;
    uint64_t number;
    uint64_t size;       /* file size (> written end while preallocated) */
    uint64_t synced_end; /* written end at the last fdatasync (for on_sync's byte count) */
} seg_file;

/* A released segment kept for reuse: NAME.spare. */
typedef struct {
    uint64_t number;
    uint64_t size;
} spare_info;

/* One live segment. The last one is the active segment. */
typedef struct {
    uint64_t number;
    uint64_t first_lsn;
    uint64_t end; /* bytes written: header + records */
} seg_info;

struct sl_wal {
    sl_wal_opts o; /* o.dir points at dir_copy */
    char *dir_copy;
    int dirfd;
    uint64_t log_id;
    uint32_t seed; /* CRC32C of the log id: seed of every record CRC */

    pthread_mutex_t release_mu;
    pthread_mutex_t mu;
    pthread_cond_t sync_cv; /* a sync round ended, or durable_lsn/broken changed */

    /* under mu */
    seg_info *segs;
    size_t nsegs, segs_cap;
    seg_file *active;
    uint64_t next_lsn;
    uint64_t durable_lsn;
    uint64_t total_bytes;
    spare_info *spares; /* opts.spare_segments entries; the last one is reused first */
    size_t nspares;
    /* under release_mu: segments renamed to spares whose new names are not yet durable (the
     * directory fsync at the end of sl_wal_release); only then may rotation write into them,
     * or a crash could leave a file under its old segment name with another segment's header */
    spare_info *pending;
    size_t npending;
    uint64_t recycled;
    bool syncing; /* a leader is in fdatasync */
    /* direct I/O (see above); direct == (active->dfd >= 0) */
    bool direct;
    uint64_t wb_from; /* early write-back: offset in the active segment not yet started */
    uint8_t *tail;     /* DIO_BLK aligned bytes: a copy of the file's block at tail_off */
    uint64_t tail_off; /* written end rounded down to DIO_BLK */
    uint8_t *bounce;   /* DIO_BOUNCE aligned bytes */
    bool broken;
    uint64_t fsyncs;
    double fsync_seconds;

    /* test hooks (wal_internal.h) */
    atomic_int fail_sync_after;
    atomic_int fail_write_after;
    atomic_int fail_write_err;
    atomic_int sync_delay_ms;
};

static const uint8_t zero_pad[8];
static atomic_bool no_prealloc; /* sl__wal_no_prealloc (benchmarks) */

/* ---- small helpers ---------------------------------------------------------------------- */

static void store_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + 4) << 32;
}

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

static uint64_t rec_size(uint64_t len)
{
    return REC_HDR + pad8(len);
}

static void seg_name(char *buf, uint64_t number, const char *suffix)
{
    snprintf(buf, NAME_LEN, "%016" PRIx64 ".wal%s", number, suffix);
}

/* 16 lower-case hex digits + ".wal" + suffix exactly. */
static bool parse_name(const char *s, const char *suffix, uint64_t *number)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            v = v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (uint64_t)(c - 'a' + 10);
        else
            return false;
    }
    if (strncmp(s + 16, ".wal", 4) != 0 || strcmp(s + 20, suffix) != 0)
        return false;
    *number = v;
    return true;
}

static void msg(sl_wal_recovery *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends to rep->message ("; " between entries). */
static void msg(sl_wal_recovery *rep, const char *fmt, ...)
{
    if (!rep)
        return;
    size_t len = strlen(rep->message);
    if (len + 3 >= sizeof(rep->message))
        return;
    if (len) {
        memcpy(rep->message + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->message + len, sizeof(rep->message) - len, fmt, ap);
    va_end(ap);
}

static sl_err err_from_write(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EFBIG ? SL_NOSPACE : SL_IO;
}

/* fsync (full) or fdatasync, with the test hook; 0 or an errno. Adds the time to *secs. */
static int do_sync(sl_wal *w, int fd, bool full, double *secs)
{
    int after = atomic_load(&w->fail_sync_after);
    while (after >= 0) {
        if (atomic_compare_exchange_weak(&w->fail_sync_after, &after, after - 1)) {
            if (after == 0)
                return EIO;
            break;
        }
    }
    double t0 = sl_mono_seconds();
    int r = full ? fsync(fd) : fdatasync(fd);
    *secs += sl_mono_seconds() - t0;
    return r ? errno : 0;
}

/* The sl__wal_fail_write hook for a record write: 0, or the errno to fail with after writing
 * just the record header. */
static int injected_write_failure(sl_wal *w, int fd, const struct iovec *hdr, uint64_t off)
{
    int after = atomic_load(&w->fail_write_after);
    while (after >= 0) {
        if (atomic_compare_exchange_weak(&w->fail_write_after, &after, after - 1)) {
            if (after > 0)
                return 0;
            if (pwrite(fd, hdr->iov_base, hdr->iov_len, (off_t)off) < 0)
                return errno;
            return atomic_load(&w->fail_write_err);
        }
    }
    return 0;
}

/* Writes iov[0..cnt) at off, retrying short writes and EINTR; 0 or an errno. Consumes iov. */
static int pwrite_all(int fd, struct iovec *iov, int cnt, uint64_t off)
{
    while (cnt > 0) {
        if (iov[0].iov_len == 0) {
            iov++;
            cnt--;
            continue;
        }
        ssize_t n = pwritev(fd, iov, cnt < IOV_MAX ? cnt : IOV_MAX, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return EIO;
        off += (uint64_t)n;
        size_t k = (size_t)n;
        while (cnt > 0 && k >= iov[0].iov_len) {
            k -= iov[0].iov_len;
            iov++;
            cnt--;
        }
        if (k) {
            iov[0].iov_base = (uint8_t *)iov[0].iov_base + k;
            iov[0].iov_len -= k;
        }
    }
    return 0;
}

/* Reads exactly n bytes at off; 0, an errno, or -1 for end of file. */
static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return -1;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* ---- headers ------------------------------------------------------------------------------ */

static void seg_hdr_encode(uint8_t h[SL__WAL_SEG_HDR], uint64_t number, uint64_t first_lsn,
                           uint64_t log_id)
{
    memset(h, 0, SEG_HDR);
    memcpy(h, SL__WAL_MAGIC, 8);
    store_le32(h + 8, SL__WAL_VERSION);
    store_le32(h + 12, (uint32_t)SEG_HDR);
    store_le64(h + 16, number);
    store_le64(h + 24, first_lsn);
    store_le64(h + 32, log_id);
    store_le32(h + 60, sl_crc32c(0, h, 60));
}

typedef struct {
    uint64_t number, first_lsn, log_id;
} seg_hdr;

/* NULL if valid, else what is wrong. *unsupported: a valid header of another version. */
static const char *seg_hdr_decode(const uint8_t h[SL__WAL_SEG_HDR], seg_hdr *out, bool *unsupported)
{
    *unsupported = false;
    if (memcmp(h, SL__WAL_MAGIC, 8) != 0)
        return "bad segment header (magic)";
    if (load_le32(h + 60) != sl_crc32c(0, h, 60))
        return "bad segment header (CRC)";
    if (load_le32(h + 8) != SL__WAL_VERSION) {
        *unsupported = true;
        return "unsupported format version";
    }
    if (load_le32(h + 12) != SEG_HDR)
        return "bad segment header (size)";
    for (int i = 40; i < 60; i++)
        if (h[i])
            return "bad segment header (reserved bytes)";
    out->number = load_le64(h + 16);
    out->first_lsn = load_le64(h + 24);
    out->log_id = load_le64(h + 32);
    if (out->first_lsn == 0 || out->first_lsn >= LSN_LIMIT)
        return "bad segment header (first LSN out of range)";
    return NULL;
}

static uint32_t seed_of(uint64_t log_id)
{
    uint8_t b[8];
    store_le64(b, log_id);
    return sl_crc32c(0, b, 8);
}

static void rec_hdr_encode(uint8_t h[SL__WAL_REC_HDR], uint32_t len, uint64_t lsn, uint8_t type)
{
    memset(h, 0, REC_HDR);
    store_le32(h + 4, len);
    store_le64(h + 8, lsn);
    h[16] = type;
}

typedef struct {
    uint32_t crc, len;
    uint64_t lsn;
    uint8_t type;
} rec_hdr;

/* Field checks that need no payload: type, reserved bytes, length bound. */
static bool rec_hdr_plausible(const uint8_t *h, rec_hdr *out)
{
    out->crc = load_le32(h);
    out->len = load_le32(h + 4);
    out->lsn = load_le64(h + 8);
    out->type = h[16];
    if (out->type == 0 || out->len > SL_WAL_MAX_RECORD)
        return false;
    for (int i = 17; i < 24; i++)
        if (h[i])
            return false;
    return true;
}

static uint32_t rec_crc(uint32_t seed, const uint8_t *h, const uint8_t *payload, size_t len)
{
    return sl_crc32c(sl_crc32c(seed, payload, len), h + 4, 20);
}

/* ---- buffered reader (recovery, replay) ------------------------------------------------------ */

typedef struct {
    int fd;
    uint64_t size; /* readable bytes */
    uint8_t *buf;
    size_t cap;
    uint64_t pos; /* file offset of buf[0] */
    size_t len;
} reader;

static void rd_reset(reader *r, int fd, uint64_t size)
{
    r->fd = fd;
    r->size = size;
    r->pos = 0;
    r->len = 0;
}

/* Makes bytes [off, off+n) available at *p. SL_FORMAT if they pass r->size (or the file is
 * shorter than it said), SL_IO, SL_NOMEM. */
static sl_err rd_get(reader *r, uint64_t off, size_t n, const uint8_t **p)
{
    if (off >= r->pos && off - r->pos <= r->len && n <= r->len - (off - r->pos)) {
        *p = r->buf + (off - r->pos);
        return SL_OK;
    }
    if (off > r->size || n > r->size - off)
        return SL_FORMAT;
    if (n > r->cap) {
        /* a chunk, but no bigger than the rest of the file (small segments, tests) */
        size_t chunk = r->size - off < READ_CHUNK ? (size_t)(r->size - off) : READ_CHUNK;
        size_t cap = n > chunk ? n : chunk;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb)
            return SL_NOMEM;
        r->buf = nb;
        r->cap = cap;
    }
    size_t want = r->size - off < r->cap ? (size_t)(r->size - off) : r->cap;
    r->len = 0;
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return SL_IO;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    r->pos = off;
    r->len = got;
    if (got < n)
        return SL_FORMAT;
    *p = r->buf;
    return SL_OK;
}

typedef enum {
    REC_GOOD,
    REC_ZERO,    /* 24 zero bytes: the end of a preallocated file */
    REC_SHORT,   /* the header or the record passes the end of the file */
    REC_GARBAGE, /* implausible header fields */
    REC_CRC,     /* CRC mismatch */
    REC_STALE,   /* valid CRC, LSN below the expected one */
    REC_GAP,     /* valid CRC, LSN above the expected one */
} rec_status;

static const char *rec_status_text(rec_status s)
{
    switch (s) {
    case REC_GOOD:
        return "valid";
    case REC_ZERO:
        return "zeros";
    case REC_SHORT:
        return "short record";
    case REC_GARBAGE:
        return "bad record header";
    case REC_CRC:
        return "bad CRC";
    case REC_STALE:
        return "stale record (LSN not increasing)";
    case REC_GAP:
        return "LSN gap";
    }
    return "?";
}

/* Classifies the record at off given the expected LSN; fills *h and *payload for REC_GOOD.
 * Only reader errors (SL_IO, SL_NOMEM) are returned as errors. */
static sl_err rec_check(const sl_wal *w, reader *r, uint64_t off, uint64_t expect, rec_status *st,
                        rec_hdr *h, const uint8_t **payload)
{
    const uint8_t *p;
    sl_err err = rd_get(r, off, REC_HDR, &p);
    if (err == SL_FORMAT) {
        *st = REC_SHORT;
        return SL_OK;
    }
    if (err)
        return err;
    if (!rec_hdr_plausible(p, h)) {
        static const uint8_t zero[SL__WAL_REC_HDR];
        *st = memcmp(p, zero, REC_HDR) == 0 ? REC_ZERO : REC_GARBAGE;
        return SL_OK;
    }
    if (rec_size(h->len) > r->size - off) {
        *st = REC_SHORT;
        return SL_OK;
    }
    err = rd_get(r, off, (size_t)(REC_HDR + h->len), &p);
    if (err == SL_FORMAT) { /* the file shrank under us */
        *st = REC_SHORT;
        return SL_OK;
    }
    if (err)
        return err;
    if (rec_crc(w->seed, p, p + REC_HDR, h->len) != h->crc) {
        *st = REC_CRC;
        return SL_OK;
    }
    *payload = p + REC_HDR;
    *st = h->lsn == expect ? REC_GOOD : h->lsn < expect ? REC_STALE : REC_GAP;
    return SL_OK;
}

/* Is there a valid record of this log with LSN >= expect at an 8-aligned offset in (off, end)?
 * Sets *found_off (0 if none). */
static sl_err find_valid_after(const sl_wal *w, reader *r, uint64_t off, uint64_t expect,
                               uint64_t *found_off, uint64_t *found_lsn)
{
    *found_off = 0;
    for (uint64_t o = (off & ~(uint64_t)7) + 8; o < r->size && r->size - o >= REC_HDR; o += 8) {
        const uint8_t *p;
        sl_err err = rd_get(r, o, REC_HDR, &p);
        if (err)
            return err == SL_FORMAT ? SL_OK : err;
        /* cheap filters first: type byte set, reserved bytes zero, LSN not stale */
        if (p[16] == 0 || load_le64(p + 8) < expect)
            continue;
        rec_status st;
        rec_hdr h;
        const uint8_t *payload;
        err = rec_check(w, r, o, expect, &st, &h, &payload);
        if (err)
            return err;
        if (st == REC_GOOD || st == REC_GAP) {
            *found_off = o;
            *found_lsn = h.lsn;
            return SL_OK;
        }
    }
    return SL_OK;
}

/* ---- segment files ---------------------------------------------------------------------- */

static void file_unref_locked(seg_file *f)
{
    assert(f->refs > 0);
    if (--f->refs == 0) {
        close(f->fd);
        if (f->dfd >= 0)
            close(f->dfd);
        free(f);
    }
}

/* ---- direct I/O (see "Direct I/O" above) ----------------------------------------------------- */

/* Writes n bytes (a multiple of DIO_BLK) from aligned p at aligned off; 0 or an errno. */
static int dio_write(int dfd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t k = pwrite(dfd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0 || (uint64_t)k % DIO_BLK)
            return EIO; /* a short direct write cannot be continued aligned */
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* Loads the block of f holding `end` into tail; 0 or an errno. */
static int dio_load_tail(sl_wal *w, seg_file *f, uint64_t end)
{
    w->tail_off = end & ~(DIO_BLK - 1);
    memset(w->tail, 0, DIO_BLK);
    if (end == w->tail_off)
        return 0;
    int e = pread_all(f->fd, w->tail, end - w->tail_off, w->tail_off);
    return e < 0 ? EIO : e;
}

/* Makes f (whose written end is `end`) the direct-I/O target: opens it O_DIRECT and loads the
 * block holding the end into tail. On any failure the log stays buffered. mu held or the log
 * not shared yet. */
static void dio_attach(sl_wal *w, seg_file *f, uint64_t end)
{
    f->dfd = -1;
    w->direct = false;
    if (w->o.no_direct || !w->tail || !w->bounce)
        return;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
    int dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (dfd < 0)
        return; /* EINVAL: no O_DIRECT here (tmpfs...) */
    if (dio_load_tail(w, f, end) != 0) {
        close(dfd);
        return;
    }
    f->dfd = dfd;
    w->direct = true;
}

/* Copies bytes [from, from + n) of the concatenation of p[0..np) to dst. */
static void copy_span(uint8_t *dst, const struct iovec *p, int np, uint64_t from, size_t n)
{
    for (int i = 0; i < np && n; i++) {
        uint64_t len = p[i].iov_len;
        if (from >= len) {
            from -= len;
            continue;
        }
        size_t k = (size_t)(len - from) < n ? (size_t)(len - from) : n;
        memcpy(dst, (const uint8_t *)p[i].iov_base + from, k);
        dst += k;
        n -= k;
        from = 0;
    }
}

/* After the record v[0..cnt) (`size` bytes) was written at off: keep tail a copy of the block
 * holding the new end. mu held. */
static void dio_tail_update(sl_wal *w, const struct iovec *v, int cnt, uint64_t off,
                            uint64_t size)
{
    uint64_t end = off + size, toff = end & ~(DIO_BLK - 1);
    if (toff != w->tail_off) { /* the record covers the new block from its start */
        memset(w->tail, 0, DIO_BLK);
        w->tail_off = toff;
    }
    uint64_t from = off > toff ? off : toff; /* file offset of the first byte to copy */
    copy_span(w->tail + (from - toff), v, cnt, from - off, (size_t)(end - from));
}

/* Writes the record v[0..cnt) (`size` bytes) at the written end `off` with O_DIRECT: the tail
 * block's bytes before off, the record, zeros to the next block boundary, through the bounce
 * buffer (mu held); 0 or an errno. */
static int dio_append_locked(sl_wal *w, const struct iovec *v, int cnt, uint64_t off,
                             uint64_t size)
{
    seg_file *f = w->active;
    size_t pos = (size_t)(off - w->tail_off);
    memcpy(w->bounce, w->tail, pos);
    uint64_t woff = w->tail_off;
    for (int i = 0; i < cnt; i++) {
        const uint8_t *src = v[i].iov_base;
        size_t left = v[i].iov_len;
        while (left) {
            size_t n = DIO_BOUNCE - pos < left ? DIO_BOUNCE - pos : left;
            memcpy(w->bounce + pos, src, n);
            pos += n;
            src += n;
            left -= n;
            if (pos == DIO_BOUNCE) {
                int e = dio_write(f->dfd, w->bounce, DIO_BOUNCE, woff);
                if (e)
                    return e;
                woff += DIO_BOUNCE;
                pos = 0;
            }
        }
    }
    if (pos) {
        size_t padded = (pos + DIO_BLK - 1) & ~(size_t)(DIO_BLK - 1);
        memset(w->bounce + pos, 0, padded - pos);
        int e = dio_write(f->dfd, w->bounce, padded, woff);
        if (e)
            return e;
        woff += padded;
    }
    if (woff > f->size)
        f->size = woff;
    (void)size;
    return 0;
}

/* Best effort: allocate the segment's blocks up front (see "Preallocation" above). */
static void preallocate(const sl_wal *w, seg_file *f)
{
    if (f->size >= w->o.segment_bytes || atomic_load(&no_prealloc))
        return;
    if (fallocate(f->fd, 0, 0, (off_t)w->o.segment_bytes) == 0) {
        f->size = w->o.segment_bytes;
        return;
    }
    /* EOPNOTSUPP, ENOSPC, EFBIG...: fine, writes will extend the file (a partial allocation may
     * have grown it) */
    struct stat sb;
    if (fstat(f->fd, &sb) == 0 && (uint64_t)sb.st_size > f->size)
        f->size = (uint64_t)sb.st_size;
}

static int fsync_dir(sl_wal *w, double *secs)
{
    if (w->o.no_sync)
        return 0;
    return do_sync(w, w->dirfd, true, secs);
}

/* Starts segment `number` holding only its header (as far as recovery can tell): in a new file
 * NAME.tmp, or (spare != NULL) in that spare file, whose old records stay behind the header
 * (see "Recycling"): header written, preallocated, fsynced, renamed to NAME, directory fsynced.
 * *fsync_failed tells a failed fsync (the log is broken) from errors that leave nothing behind
 * (the temp or spare file is removed). */
static sl_err seg_start(sl_wal *w, const spare_info *spare, uint64_t number, uint64_t first_lsn,
                        seg_file **out, double *secs, bool *fsync_failed)
{
    char name[NAME_LEN], from[NAME_LEN];
    uint8_t h[SL__WAL_SEG_HDR];
    sl_err err;
    int e;

    *fsync_failed = false;
    if (number >= LSN_LIMIT)
        return SL_FULL;
    seg_file *f = calloc(1, sizeof(*f));
    if (!f)
        return SL_NOMEM;
    f->dfd = -1;
    seg_name(name, number, "");
    if (spare)
        seg_name(from, spare->number, ".spare");
    else
        seg_name(from, number, ".tmp");
    f->fd = openat(w->dirfd, from, spare ? O_RDWR | O_CLOEXEC : O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
                   0644);
    if (f->fd < 0) {
        err = err_from_write(errno);
        if (spare)
            goto out_unlink;
        goto out_free;
    }
    seg_hdr_encode(h, number, first_lsn, w->log_id);
    struct iovec iov = {h, sizeof(h)};
    e = pwrite_all(f->fd, &iov, 1, 0);
    if (e) {
        err = err_from_write(e);
        goto out_unlink;
    }
    f->size = SEG_HDR;
    struct stat sb;
    if (spare && fstat(f->fd, &sb) == 0 && (uint64_t)sb.st_size > f->size)
        f->size = (uint64_t)sb.st_size;
    f->number = number;
    f->refs = 1;
    f->synced_end = SEG_HDR;
    preallocate(w, f);
    if (!w->o.no_sync && (e = do_sync(w, f->fd, true, secs)) != 0) {
        *fsync_failed = true;
        err = SL_IO;
        goto out_unlink;
    }
    if (renameat(w->dirfd, from, w->dirfd, name) != 0) {
        err = err_from_write(errno);
        goto out_unlink;
    }
    if (fsync_dir(w, secs) != 0) {
        *fsync_failed = true;
        err = SL_IO;
        goto out_close; /* keep the file: a later recovery sorts it out */
    }
    *out = f;
    return SL_OK;
out_unlink:
    unlinkat(w->dirfd, from, 0);
    if (f->fd < 0)
        goto out_free;
out_close:
    close(f->fd);
out_free:
    free(f);
    return err;
}

static sl_err segs_reserve(sl_wal *w, size_t extra)
{
    if (w->segs_cap - w->nsegs >= extra)
        return SL_OK;
    size_t cap = w->segs_cap ? w->segs_cap * 2 : 16;
    while (cap - w->nsegs < extra)
        cap *= 2;
    seg_info *s = realloc(w->segs, cap * sizeof(*s));
    if (!s)
        return SL_NOMEM;
    w->segs = s;
    w->segs_cap = cap;
    return SL_OK;
}

/* Deletes every spare (mu held; out of space). Returns how many went. */
static size_t drop_spares_locked(sl_wal *w)
{
    size_t n = 0;
    while (w->nspares) {
        char name[NAME_LEN];
        seg_name(name, w->spares[--w->nspares].number, ".spare");
        if (unlinkat(w->dirfd, name, 0) == 0)
            n++;
    }
    return n;
}

static void set_broken_locked(sl_wal *w)
{
    w->broken = true;
    pthread_cond_broadcast(&w->sync_cv);
}

/* Closes the active segment and starts the next one (mu held). The old segment is cut to its
 * written size and fsynced, so every record so far is durable. *secs and *bytes: what to report to
 * on_sync once the lock is dropped. */
static sl_err rotate_locked(sl_wal *w, double *secs, uint64_t *bytes)
{
    seg_file *old = w->active;
    seg_info *cur = &w->segs[w->nsegs - 1];
    sl_err err = segs_reserve(w, 1);
    if (err)
        return err;
    cur = &w->segs[w->nsegs - 1];
    if (old->size > cur->end) {
        if (ftruncate(old->fd, (off_t)cur->end) != 0) {
            set_broken_locked(w);
            return SL_IO;
        }
        old->size = cur->end;
    }
    if (!w->o.no_sync) {
        double s = 0;
        if (do_sync(w, old->fd, true, &s) != 0) {
            set_broken_locked(w);
            return SL_IO;
        }
        w->fsyncs++;
        w->fsync_seconds += s;
        *secs += s;
        *bytes += cur->end - old->synced_end;
        old->synced_end = cur->end;
    }
    if (w->next_lsn - 1 > w->durable_lsn) {
        w->durable_lsn = w->next_lsn - 1;
        pthread_cond_broadcast(&w->sync_cv);
    }
    seg_file *f;
    bool fsync_failed = false;
    double s = 0;
    err = SL_IO;
    while (err && !fsync_failed && w->nspares) {
        /* a spare that cannot be used is dropped (seg_start removed it); try the next one */
        spare_info sp = w->spares[--w->nspares];
        err = seg_start(w, &sp, old->number + 1, w->next_lsn, &f, &s, &fsync_failed);
        if (!err)
            w->recycled++;
    }
    if (err && !fsync_failed)
        err = seg_start(w, NULL, old->number + 1, w->next_lsn, &f, &s, &fsync_failed);
    w->fsync_seconds += s;
    if (err) {
        if (fsync_failed || err == SL_IO)
            set_broken_locked(w);
        return err;
    }
    if (!w->o.no_sync)
        w->fsyncs += 2;
    w->segs[w->nsegs++] = (seg_info){f->number, w->next_lsn, SEG_HDR};
    w->total_bytes += SEG_HDR;
    w->active = f;
    file_unref_locked(old);
    dio_attach(w, f, SEG_HDR);
    return SL_OK;
}

/* ---- options, open, close ----------------------------------------------------------------- */

void sl_wal_opts_default(sl_wal_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->segment_bytes = DEFAULT_SEGMENT_BYTES;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Keeps spare file `name` (number `num`) while there is room for it, else deletes it. */
static sl_err spare_found(sl_wal *w, const char *name, uint64_t num, size_t *dropped)
{
    struct stat sb;
    if (w->nspares < w->o.spare_segments && fstatat(w->dirfd, name, &sb, 0) == 0) {
        w->spares[w->nspares++] = (spare_info){num, (uint64_t)sb.st_size};
        return SL_OK;
    }
    if (unlinkat(w->dirfd, name, 0) != 0 && errno != ENOENT)
        return SL_IO;
    (*dropped)++;
    return SL_OK;
}

/* Segment numbers in the directory, sorted; removes leftover NAME.tmp files; keeps up to
 * opts.spare_segments NAME.spare files in w->spares and deletes the others. */
static sl_err list_dir(sl_wal *w, uint64_t **out, size_t *count, sl_wal_recovery *rep)
{
    int fd = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return SL_IO;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return SL_IO;
    }
    uint64_t *nums = NULL;
    size_t n = 0, cap = 0, removed = 0, spares_dropped = 0;
    sl_err err = SL_OK;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        uint64_t num;
        if (strlen(de->d_name) == 20 && parse_name(de->d_name, "", &num)) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                uint64_t *nn = realloc(nums, nc * sizeof(*nn));
                if (!nn) {
                    err = SL_NOMEM;
                    break;
                }
                nums = nn;
                cap = nc;
            }
            nums[n++] = num;
        } else if (strlen(de->d_name) == 24 && parse_name(de->d_name, ".tmp", &num)) {
            if (unlinkat(w->dirfd, de->d_name, 0) != 0 && errno != ENOENT) {
                err = SL_IO;
                break;
            }
            removed++;
        } else if (strlen(de->d_name) == 26 && parse_name(de->d_name, ".spare", &num)) {
            err = spare_found(w, de->d_name, num, &spares_dropped);
            if (err)
                break;
        }
        errno = 0;
    }
    if (!err && errno)
        err = SL_IO;
    closedir(d);
    if (err) {
        free(nums);
        return err;
    }
    if (removed)
        msg(rep, "removed %zu leftover temp file(s)", removed);
    if (spares_dropped)
        msg(rep, "deleted %zu spare segment(s) over the limit of %" PRIu32, spares_dropped,
            w->o.spare_segments);
    if (n)
        qsort(nums, n, sizeof(*nums), cmp_u64);
    *out = nums;
    *count = n;
    return SL_OK;
}

typedef enum { SCAN_CLEAN, SCAN_TORN, SCAN_CORRUPT } scan_kind;

typedef struct {
    scan_kind kind;
    bool keep_prefix; /* SCAN_CORRUPT: the header is fine, records before `end` are kept */
    uint64_t first_lsn;
    uint64_t records;
    uint64_t end;   /* end of the valid records */
    uint64_t size;  /* file size */
    char what[160]; /* SCAN_TORN / SCAN_CORRUPT */
} scan_result;

/* Scans one segment. `expect` is the LSN its first record must have (0: the first segment,
 * which also sets the log id). SL_UNSUPPORTED, SL_IO, SL_NOMEM are errors; corruption is a
 * result. */
static sl_err scan_segment(sl_wal *w, reader *r, uint64_t number, bool first, bool last,
                           uint64_t expect, scan_result *res)
{
    char name[NAME_LEN];
    seg_name(name, number, "");
    memset(res, 0, sizeof(*res));
    int fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SL_IO;
    sl_err err = SL_OK;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        err = SL_IO;
        goto out;
    }
    res->size = (uint64_t)sb.st_size;
    rd_reset(r, fd, res->size);

    const uint8_t *p;
    seg_hdr sh;
    const char *bad = NULL;
    bool unsupported = false;
    err = rd_get(r, 0, SEG_HDR, &p);
    if (err == SL_FORMAT) {
        bad = "file shorter than the segment header";
        err = SL_OK;
    } else if (err) {
        goto out;
    } else {
        bad = seg_hdr_decode(p, &sh, &unsupported);
    }
    if (!bad && number >= LSN_LIMIT)
        bad = "segment number out of range";
    if (!bad && sh.number != number)
        bad = "segment number in the header does not match the file name";
    if (!bad && first) {
        w->log_id = sh.log_id;
        w->seed = seed_of(sh.log_id);
    }
    if (!bad && sh.log_id != w->log_id)
        bad = "segment of another log (log id differs)";
    if (unsupported) {
        snprintf(res->what, sizeof(res->what), "%s: %s %" PRIu32, name, bad, load_le32(p + 8));
        err = SL_UNSUPPORTED;
        goto out;
    }
    if (bad) {
        res->kind = SCAN_CORRUPT;
        snprintf(res->what, sizeof(res->what), "%s: offset 0: %s", name, bad);
        goto out;
    }
    if (expect && sh.first_lsn != expect) {
        res->kind = SCAN_CORRUPT;
        snprintf(res->what, sizeof(res->what),
                 "%s: offset 0: LSN gap: segment starts at LSN %" PRIu64 ", expected %" PRIu64,
                 name, sh.first_lsn, expect);
        goto out;
    }
    res->first_lsn = sh.first_lsn;
    res->keep_prefix = true;
    uint64_t off = SEG_HDR, lsn = sh.first_lsn;
    for (;;) {
        if (off == res->size)
            break;
        rec_status st;
        rec_hdr h;
        const uint8_t *payload;
        err = rec_check(w, r, off, lsn, &st, &h, &payload);
        if (err)
            goto out;
        if (st == REC_GOOD) {
            off += rec_size(h.len);
            lsn++;
            res->records++;
            continue;
        }
        res->end = off;
        if (st == REC_GAP) {
            res->kind = SCAN_CORRUPT;
            snprintf(res->what, sizeof(res->what),
                     "%s: offset %" PRIu64 ": LSN gap: record has LSN %" PRIu64
                     ", expected %" PRIu64,
                     name, off, h.lsn, lsn);
            goto out;
        }
        if (!last) {
            res->kind = SCAN_CORRUPT;
            snprintf(res->what, sizeof(res->what),
                     "%s: offset %" PRIu64 ": %s in a segment that is not the last (LSN %" PRIu64
                     " expected)",
                     name, off, rec_status_text(st), lsn);
            goto out;
        }
        uint64_t foff, flsn = 0;
        err = find_valid_after(w, r, off, lsn, &foff, &flsn);
        if (err)
            goto out;
        if (foff) {
            res->kind = SCAN_CORRUPT;
            snprintf(res->what, sizeof(res->what),
                     "%s: offset %" PRIu64 ": %s followed by a valid record (LSN %" PRIu64
                     " at offset %" PRIu64 ")",
                     name, off, rec_status_text(st), flsn, foff);
            goto out;
        }
        res->kind = SCAN_TORN;
        snprintf(res->what, sizeof(res->what),
                 "%s: torn tail at offset %" PRIu64 " (%s), %" PRIu64 " bytes removed", name, off,
                 rec_status_text(st), res->size - off);
        goto out;
    }
    res->end = off;
    res->kind = SCAN_CLEAN;
out:
    close(fd);
    return err;
}

/* Links or renames NAME to the first free NAME.corrupt[.N]. */
static sl_err quarantine_name(sl_wal *w, const char *name, bool keep)
{
    char dst[NAME_LEN + 16];
    struct stat src_st;
    if (fstatat(w->dirfd, name, &src_st, 0) != 0)
        return SL_IO;
    for (int i = 0; i < 1000; i++) {
        if (i == 0)
            snprintf(dst, sizeof(dst), "%s.corrupt", name);
        else
            snprintf(dst, sizeof(dst), "%s.corrupt.%d", name, i);
        if (linkat(w->dirfd, name, w->dirfd, dst, 0) == 0)
            break;
        if (errno != EEXIST)
            return SL_IO;
        struct stat st;
        /* already quarantined by an open that crashed half-way */
        if (fstatat(w->dirfd, dst, &st, 0) == 0 && st.st_ino == src_st.st_ino &&
            st.st_dev == src_st.st_dev)
            break;
        if (i == 999)
            return SL_IO;
    }
    if (!keep && unlinkat(w->dirfd, name, 0) != 0)
        return SL_IO;
    return SL_OK;
}

/* Replaces segment `number` by a copy of its first `end` bytes (the original is already
 * linked to NAME.corrupt): NAME.tmp written, fsynced, renamed over NAME. */
static sl_err rewrite_prefix(sl_wal *w, reader *r, uint64_t number, uint64_t end)
{
    char name[NAME_LEN], tmp[NAME_LEN];
    seg_name(name, number, "");
    seg_name(tmp, number, ".tmp");
    sl_err err = SL_OK;
    int src = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return SL_IO;
    int dst = openat(w->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (dst < 0) {
        err = err_from_write(errno);
        goto out_src;
    }
    rd_reset(r, src, end);
    for (uint64_t off = 0; off < end;) {
        size_t n = end - off < READ_CHUNK ? (size_t)(end - off) : READ_CHUNK;
        const uint8_t *p;
        err = rd_get(r, off, n, &p);
        if (err)
            goto out_dst;
        struct iovec iov = {(void *)p, n};
        int e = pwrite_all(dst, &iov, 1, off);
        if (e) {
            err = err_from_write(e);
            goto out_dst;
        }
        off += n;
    }
    double s = 0;
    if (!w->o.no_sync && do_sync(w, dst, true, &s) != 0) {
        err = SL_IO;
        goto out_dst;
    }
    if (renameat(w->dirfd, tmp, w->dirfd, name) != 0)
        err = SL_IO;
out_dst:
    close(dst);
    if (err)
        unlinkat(w->dirfd, tmp, 0);
out_src:
    close(src);
    return err;
}

static void wal_free(sl_wal *w)
{
    if (w->active)
        file_unref_locked(w->active);
    if (w->dirfd >= 0)
        close(w->dirfd);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->release_mu);
    pthread_cond_destroy(&w->sync_cv);
    free(w->segs);
    free(w->spares);
    free(w->pending);
    free(w->dir_copy);
    free(w->tail);
    free(w->bounce);
    free(w);
}

/* Recovery proper: fills w->segs, opens the active segment. */
static sl_err recover(sl_wal *w, sl_wal_recovery *rep)
{
    uint64_t *nums = NULL;
    size_t n = 0;
    reader r = {0};
    sl_err err = list_dir(w, &nums, &n, rep);
    if (err)
        return err;
    double secs = 0;
    /* a spare renamed just before a crash of the process (not of the machine) may not have a
     * durable name yet: make it so before rotation writes another segment's header into it */
    if (w->nspares && fsync_dir(w, &secs) != 0) {
        err = SL_IO;
        goto out;
    }
    err = segs_reserve(w, n + 1);
    if (err)
        goto out;

    uint64_t expect = 0, records = 0, torn_end = 0, torn_size = 0;
    bool torn = false, changed = false;
    for (size_t i = 0; i < n; i++) {
        scan_result res;
        err = scan_segment(w, &r, nums[i], w->nsegs == 0, i + 1 == n, expect, &res);
        if (err) {
            if (res.what[0])
                msg(rep, "%s", res.what);
            goto out;
        }
        if (res.kind == SCAN_CORRUPT) {
            if (!w->o.quarantine) {
                msg(rep, "%s", res.what);
                err = SL_FORMAT;
                goto out;
            }
            /* later segments first: a crash half-way leaves a log that still recovers */
            char name[NAME_LEN];
            for (size_t j = n; j-- > i + 1;) {
                seg_name(name, nums[j], "");
                err = quarantine_name(w, name, false);
                if (err)
                    goto out;
            }
            seg_name(name, nums[i], "");
            err = quarantine_name(w, name, res.keep_prefix);
            if (!err && res.keep_prefix)
                err = rewrite_prefix(w, &r, nums[i], res.end);
            if (err)
                goto out;
            uint64_t q = n - i;
            if (rep)
                rep->quarantined = q;
            msg(rep, "quarantined (%s): %s%s", res.what,
                res.keep_prefix ? "valid prefix kept, " : "",
                q > 1 ? "later segments renamed .corrupt too" : "renamed .corrupt");
            changed = true;
            if (res.keep_prefix) {
                w->segs[w->nsegs++] = (seg_info){nums[i], res.first_lsn, res.end};
                records += res.records;
                expect = res.first_lsn + res.records;
            }
            break;
        }
        w->segs[w->nsegs++] = (seg_info){nums[i], res.first_lsn, res.end};
        records += res.records;
        expect = res.first_lsn + res.records;
        if (res.kind == SCAN_TORN) {
            torn = true;
            torn_end = res.end;
            torn_size = res.size;
            msg(rep, "%s", res.what);
        }
    }

    if (w->nsegs == 0) {
        /* a new log (or everything quarantined): new id, LSNs from 1 */
        if (getrandom(&w->log_id, sizeof(w->log_id), 0) != (ssize_t)sizeof(w->log_id))
            w->log_id = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
        w->seed = seed_of(w->log_id);
        uint64_t number = n ? nums[0] : w->o.first_segment ? w->o.first_segment : 1;
        if (number >= LSN_LIMIT)
            number = 1;
        bool fsync_failed;
        err = seg_start(w, NULL, number, 1, &w->active, &secs, &fsync_failed);
        if (err)
            goto out;
        w->segs[w->nsegs++] = (seg_info){number, 1, SEG_HDR};
        dio_attach(w, w->active, SEG_HDR);
        expect = 1;
        if (n)
            msg(rep, "no valid segment left: new log starts at LSN 1");
    } else {
        seg_info *last = &w->segs[w->nsegs - 1];
        char name[NAME_LEN];
        seg_name(name, last->number, "");
        seg_file *f = calloc(1, sizeof(*f));
        if (!f) {
            err = SL_NOMEM;
            goto out;
        }
        f->dfd = -1;
        f->fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC);
        if (f->fd < 0) {
            free(f);
            err = SL_IO;
            goto out;
        }
        f->refs = 1;
        f->number = last->number;
        w->active = f;
        if (torn) {
            if (ftruncate(f->fd, (off_t)torn_end) != 0) {
                err = SL_IO;
                goto out;
            }
            if (rep)
                rep->truncated_bytes = torn_size - torn_end;
        }
        struct stat sb;
        if (fstat(f->fd, &sb) != 0) {
            err = SL_IO;
            goto out;
        }
        f->size = (uint64_t)sb.st_size;
        if (f->size != last->end) {
            err = SL_IO; /* changed under us */
            goto out;
        }
        preallocate(w, f);
        /* what a crashed process wrote may still be only in the page cache: make the recovered
         * log durable before anyone acts on it (LSNs must never be handed out twice) */
        if (!w->o.no_sync && do_sync(w, f->fd, true, &secs) != 0) {
            err = SL_IO;
            goto out;
        }
        f->synced_end = last->end;
        dio_attach(w, f, last->end);
        if (changed && fsync_dir(w, &secs) != 0) {
            err = SL_IO;
            goto out;
        }
    }
    w->next_lsn = expect;
    w->durable_lsn = expect - 1;
    for (size_t i = 0; i < w->nsegs; i++)
        w->total_bytes += w->segs[i].end;
    if (rep) {
        rep->segments = w->nsegs;
        rep->records = records;
    }
out:
    free(r.buf);
    free(nums);
    return err;
}

sl_err sl_wal_open(const sl_wal_opts *o, sl_wal **out, sl_wal_recovery *rep)
{
    sl_err err;
    if (rep)
        memset(rep, 0, sizeof(*rep));
    if (!o || !out || !o->dir || !o->dir[0])
        return SL_INVALID;
    sl_wal *w = calloc(1, sizeof(*w));
    if (!w)
        return SL_NOMEM;
    w->o = *o;
    if (!w->o.segment_bytes)
        w->o.segment_bytes = DEFAULT_SEGMENT_BYTES;
    w->dirfd = -1;
    atomic_init(&w->fail_sync_after, -1);
    atomic_init(&w->fail_write_after, -1);
    atomic_init(&w->fail_write_err, 0);
    atomic_init(&w->sync_delay_ms, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->release_mu, NULL);
    pthread_cond_init(&w->sync_cv, NULL);
    w->dir_copy = strdup(o->dir);
    if (!w->dir_copy) {
        err = SL_NOMEM;
        goto out_free;
    }
    w->o.dir = w->dir_copy;
    err = sl_mkdirs(o->dir);
    if (err) {
        msg(rep, "cannot create directory %s: %s", o->dir, strerror(errno));
        goto out_free;
    }
    w->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0) {
        msg(rep, "cannot open directory %s: %s", o->dir, strerror(errno));
        err = SL_IO;
        goto out_free;
    }
    if (flock(w->dirfd, LOCK_EX | LOCK_NB) != 0) {
        msg(rep, "%s is in use by another log handle", o->dir);
        err = errno == EWOULDBLOCK ? SL_STATE : SL_IO;
        goto out_free;
    }
    if (!w->o.no_direct &&
        (posix_memalign((void **)&w->tail, DIO_BLK, DIO_BLK) ||
         posix_memalign((void **)&w->bounce, DIO_BLK, DIO_BOUNCE))) {
        w->tail = w->bounce = NULL; /* (posix_memalign leaves them alone on failure) */
    }
    if (w->o.spare_segments && (!(w->spares = calloc(w->o.spare_segments, sizeof(*w->spares))) ||
                                !(w->pending = calloc(w->o.spare_segments, sizeof(*w->pending))))) {
        err = SL_NOMEM;
        goto out_free;
    }
    err = recover(w, rep);
    if (err)
        goto out_free;
    *out = w;
    return SL_OK;
out_free:
    wal_free(w);
    return err;
}

void sl_wal_close(sl_wal *w)
{
    if (!w)
        return;
    if (w->active && !w->broken && w->active->size > w->segs[w->nsegs - 1].end) {
        /* drop the preallocated tail so a clean log has none; a crash before this reaches the
         * disk just leaves zeros, which recovery handles */
        if (ftruncate(w->active->fd, (off_t)w->segs[w->nsegs - 1].end) == 0)
            w->active->size = w->segs[w->nsegs - 1].end;
    }
    assert(!w->active || w->active->refs == 1);
    wal_free(w);
}

/* ---- append, sync, release, read --------------------------------------------------------- */

sl_err sl_wal_append(sl_wal *w, uint8_t type, const struct iovec *iov, int iovcnt,
                     uint64_t *lsn_out, sl_wal_loc *loc_out)
{
    if (!w || type == 0 || iovcnt < 0 || (iovcnt > 0 && !iov))
        return SL_INVALID;
    size_t total = 0;
    uint32_t crc = w->seed;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > SL_WAL_MAX_RECORD - total || (iov[i].iov_len && !iov[i].iov_base))
            return SL_INVALID;
        total += iov[i].iov_len;
    }
    /* the payload CRC needs no lock; the LSN part is added once the LSN is known */
    for (int i = 0; i < iovcnt; i++)
        crc = sl_crc32c(crc, iov[i].iov_base, iov[i].iov_len);

    struct iovec stack_iov[STACK_IOV];
    struct iovec *v = stack_iov;
    if (iovcnt > STACK_IOV - 2) {
        v = malloc(((size_t)iovcnt + 2) * sizeof(*v));
        if (!v)
            return SL_NOMEM;
    }
    uint8_t h[SL__WAL_REC_HDR];
    uint64_t size = rec_size(total);
    double sync_secs = 0;
    uint64_t sync_bytes = 0;
    sl_err err = SL_OK;

    pthread_mutex_lock(&w->mu);
again:
    if (w->broken) {
        err = SL_IO;
        goto out_unlock;
    }
    seg_info *cur = &w->segs[w->nsegs - 1];
    /* a record never spans segments; one larger than segment_bytes gets a segment alone */
    bool rotate = cur->end > SEG_HDR &&
                  (cur->end >= w->o.segment_bytes || size > w->o.segment_bytes - cur->end);
    if (w->o.max_bytes && w->total_bytes + size + (rotate ? SEG_HDR : 0) > w->o.max_bytes) {
        err = SL_FULL;
        goto out_unlock;
    }
    if (rotate) {
        err = rotate_locked(w, &sync_secs, &sync_bytes);
        if (err)
            goto out_unlock;
        cur = &w->segs[w->nsegs - 1];
    }
    uint64_t lsn = w->next_lsn, off = cur->end;
    rec_hdr_encode(h, (uint32_t)total, lsn, type);
    store_le32(h, sl_crc32c(crc, h + 4, 20));
    v[0] = (struct iovec){h, REC_HDR};
    if (iovcnt)
        memcpy(v + 1, iov, (size_t)iovcnt * sizeof(*v));
    int cnt = iovcnt + 1;
    if (size - REC_HDR > total)
        v[cnt++] = (struct iovec){(void *)zero_pad, size - REC_HDR - total};
    int e = injected_write_failure(w, w->active->fd, &v[0], off);
    bool direct = w->direct && total >= DIO_MIN_RECORD;
    struct iovec vt[STACK_IOV]; /* pwrite_all consumes v; the tail copy needs the record */
    const struct iovec *rec = v;
    if (w->direct && !direct && cnt <= STACK_IOV) {
        memcpy(vt, v, (size_t)cnt * sizeof(*v));
        rec = vt;
    }
    if (!e)
        e = direct ? dio_append_locked(w, v, cnt, off, size) : pwrite_all(w->active->fd, v, cnt, off);
    if (!e && w->direct) {
        if (rec == v && !direct) /* (more than STACK_IOV pieces: read the block back) */
            e = dio_load_tail(w, w->active, off + size);
        else
            dio_tail_update(w, rec, cnt, off, size);
    }
    if (e) {
        err = err_from_write(e);
        /* out of space: cut the partial record off again, the log stays usable; anything
         * else (EIO...) means the page cache and the disk may disagree: broken */
        if (err == SL_NOSPACE && ftruncate(w->active->fd, (off_t)off) == 0) {
            if (w->active->size > off)
                w->active->size = off;
            /* the spares hold disk space: give it back and try once more */
            if (drop_spares_locked(w)) {
                err = SL_OK;
                goto again;
            }
        } else {
            err = SL_IO;
            set_broken_locked(w);
        }
        goto out_unlock;
    }
    cur->end += size;
    if (cur->end > w->active->size)
        w->active->size = cur->end;
    if (w->o.writeback_bytes && !direct) {
        if (w->wb_from > off) /* a new segment */
            w->wb_from = off;
        sl_writeback_after(w->active->fd, &w->wb_from, cur->end, w->o.writeback_bytes);
    }
    w->total_bytes += size;
    w->next_lsn++;
    if (lsn_out)
        *lsn_out = lsn;
    if (loc_out)
        *loc_out = (sl_wal_loc){cur->number, off, (uint32_t)total};
out_unlock:
    pthread_mutex_unlock(&w->mu);
    if (v != stack_iov)
        free(v);
    if (sync_secs > 0 && w->o.on_sync)
        w->o.on_sync(w->o.ctx, sync_secs, sync_bytes);
    return err;
}

sl_err sl_wal_sync(sl_wal *w, uint64_t lsn)
{
    if (!w)
        return SL_INVALID;
    pthread_mutex_lock(&w->mu);
    if (lsn >= w->next_lsn)
        lsn = w->next_lsn - 1;
    for (;;) {
        if (w->broken) {
            pthread_mutex_unlock(&w->mu);
            return SL_IO;
        }
        if (w->durable_lsn >= lsn) {
            pthread_mutex_unlock(&w->mu);
            return SL_OK;
        }
        if (w->syncing) {
            pthread_cond_wait(&w->sync_cv, &w->mu);
            continue;
        }
        break;
    }

    /* leader */
    w->syncing = true;
    if (w->o.commit_delay_us) {
        pthread_mutex_unlock(&w->mu);
        struct timespec ts = {(time_t)(w->o.commit_delay_us / 1000000),
                              (long)(w->o.commit_delay_us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        pthread_mutex_lock(&w->mu);
    }
    uint64_t target = w->next_lsn - 1;
    seg_file *f = w->active;
    f->refs++;
    uint64_t from = f->synced_end, to = w->segs[w->nsegs - 1].end;
    bool skip = w->o.no_sync || w->broken;
    pthread_mutex_unlock(&w->mu);

    double secs = 0;
    int delay = atomic_load(&w->sync_delay_ms);
    if (delay > 0) {
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    int e = skip ? 0 : do_sync(w, f->fd, false, &secs);

    pthread_mutex_lock(&w->mu);
    if (e) {
        w->broken = true;
    } else if (!w->broken) {
        if (target > w->durable_lsn)
            w->durable_lsn = target;
        if (to > f->synced_end)
            f->synced_end = to;
    }
    if (!skip) {
        w->fsyncs++;
        w->fsync_seconds += secs;
    }
    file_unref_locked(f);
    w->syncing = false;
    pthread_cond_broadcast(&w->sync_cv);
    sl_err err = w->broken ? SL_IO : SL_OK;
    pthread_mutex_unlock(&w->mu);
    if (!skip && !e && w->o.on_sync)
        w->o.on_sync(w->o.ctx, secs, to > from ? to - from : 0);
    return err;
}

sl_err sl_wal_release(sl_wal *w, uint64_t lsn)
{
    if (!w)
        return SL_INVALID;
    sl_err err = SL_OK;
    size_t removed = 0;
    pthread_mutex_lock(&w->release_mu);
    for (;;) {
        pthread_mutex_lock(&w->mu);
        if (w->broken) {
            pthread_mutex_unlock(&w->mu);
            err = SL_IO;
            break;
        }
        /* segment 0 holds LSNs [first_0, first_1): all below lsn iff first_1 <= lsn; the
         * active (last) segment is never deleted */
        if (w->nsegs < 2 || w->segs[1].first_lsn > lsn) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        seg_info s = w->segs[0];
        memmove(w->segs, w->segs + 1, (w->nsegs - 1) * sizeof(*w->segs));
        w->nsegs--;
        w->total_bytes -= s.end;
        /* only this function adds spares, under release_mu: the room checked here stays */
        bool keep = w->nspares + w->npending < w->o.spare_segments;
        pthread_mutex_unlock(&w->mu);

        /* oldest first, so a crash leaves a contiguous suffix; a file that fails to go away
         * is still a valid first segment for the next recovery */
        char name[NAME_LEN], spare[NAME_LEN];
        seg_name(name, s.number, "");
        seg_name(spare, s.number, ".spare");
        if (keep && renameat(w->dirfd, name, w->dirfd, spare) == 0)
            w->pending[w->npending++] = (spare_info){s.number, s.end};
        else if (unlinkat(w->dirfd, name, 0) != 0 && errno != ENOENT) {
            err = SL_IO;
            break;
        }
        removed++;
    }
    if (removed) {
        double secs = 0;
        int e = fsync_dir(w, &secs);
        pthread_mutex_lock(&w->mu);
        if (e) {
            set_broken_locked(w);
            err = SL_IO;
        } else {
            if (!w->o.no_sync) {
                w->fsyncs++;
                w->fsync_seconds += secs;
            }
            for (size_t i = 0; i < w->npending; i++)
                w->spares[w->nspares++] = w->pending[i];
            w->npending = 0;
        }
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_unlock(&w->release_mu);
    return err;
}

sl_err sl_wal_read(sl_wal *w, const sl_wal_loc *loc, uint64_t lsn, void *buf)
{
    if (!w || !loc || (loc->len && !buf) || loc->len > SL_WAL_MAX_RECORD)
        return SL_INVALID;
    seg_file *f = NULL;
    int fd = -1;
    sl_err err = SL_OK;

    pthread_mutex_lock(&w->mu);
    if (w->broken) {
        pthread_mutex_unlock(&w->mu);
        return SL_IO;
    }
    size_t lo = 0, hi = w->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->segs[mid].number < loc->segment)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == w->nsegs || w->segs[lo].number != loc->segment || loc->offset < SEG_HDR ||
        (loc->offset & 7) || loc->offset > w->segs[lo].end ||
        rec_size(loc->len) > w->segs[lo].end - loc->offset) {
        pthread_mutex_unlock(&w->mu);
        return SL_INVALID;
    }
    if (lo + 1 == w->nsegs) {
        f = w->active;
        f->refs++;
        fd = f->fd;
    }
    pthread_mutex_unlock(&w->mu);

    if (!f) {
        char name[NAME_LEN];
        seg_name(name, loc->segment, "");
        fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return errno == ENOENT ? SL_INVALID : SL_IO; /* released meanwhile */
    }
    uint8_t h[SL__WAL_REC_HDR];
    int e = pread_all(fd, h, REC_HDR, loc->offset);
    if (!e)
        e = pread_all(fd, buf, loc->len, loc->offset + REC_HDR);
    if (e) {
        err = e < 0 ? SL_FORMAT : SL_IO;
        goto out;
    }
    rec_hdr rh;
    if (!rec_hdr_plausible(h, &rh) || rh.len != loc->len || (lsn && rh.lsn != lsn) ||
        rec_crc(w->seed, h, buf, loc->len) != rh.crc)
        err = SL_FORMAT;
out:
    if (f) {
        pthread_mutex_lock(&w->mu);
        file_unref_locked(f);
        pthread_mutex_unlock(&w->mu);
    } else {
        close(fd);
    }
    return err;
}

/* ---- replay ------------------------------------------------------------------------------ */

sl_err sl_wal_replay(sl_wal *w, uint64_t from_lsn, sl_wal_replay_fn fn, void *ctx)
{
    if (!w || !fn)
        return SL_INVALID;
    pthread_mutex_lock(&w->mu);
    if (w->broken) {
        pthread_mutex_unlock(&w->mu);
        return SL_IO;
    }
    size_t n = w->nsegs;
    seg_info *segs = malloc(n * sizeof(*segs));
    if (!segs) {
        pthread_mutex_unlock(&w->mu);
        return SL_NOMEM;
    }
    memcpy(segs, w->segs, n * sizeof(*segs));
    pthread_mutex_unlock(&w->mu);

    reader r = {0};
    sl_err err = SL_OK;
    for (size_t i = 0; i < n && !err; i++) {
        if (i + 1 < n && segs[i + 1].first_lsn <= from_lsn)
            continue; /* every record of it is below from_lsn */
        char name[NAME_LEN];
        seg_name(name, segs[i].number, "");
        int fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            err = SL_IO;
            break;
        }
        rd_reset(&r, fd, segs[i].end);
        const uint8_t *p;
        seg_hdr sh;
        bool unsupported;
        err = rd_get(&r, 0, SEG_HDR, &p);
        if (!err && (seg_hdr_decode(p, &sh, &unsupported) || sh.number != segs[i].number ||
                     sh.first_lsn != segs[i].first_lsn || sh.log_id != w->log_id))
            err = SL_FORMAT;
        uint64_t off = SEG_HDR, lsn = segs[i].first_lsn;
        while (!err && off < segs[i].end) {
            rec_status st;
            rec_hdr h;
            const uint8_t *payload;
            err = rec_check(w, &r, off, lsn, &st, &h, &payload);
            if (err)
                break;
            if (st != REC_GOOD) {
                err = SL_FORMAT; /* the file changed since recovery */
                break;
            }
            if (lsn >= from_lsn) {
                sl_wal_rec rec = {lsn, h.type, payload, h.len, {segs[i].number, off, h.len}};
                err = fn(ctx, &rec);
            }
            off += rec_size(h.len);
            lsn++;
        }
        close(fd);
    }
    free(r.buf);
    free(segs);
    return err;
}

/* ---- stats and test hooks ---------------------------------------------------------------- */

void sl_wal_stats_get(sl_wal *w, sl_wal_stats *st)
{
    pthread_mutex_lock(&w->mu);
    st->direct = w->direct;
    st->next_lsn = w->next_lsn;
    st->durable_lsn = w->durable_lsn;
    st->bytes = w->total_bytes;
    st->segments = w->nsegs;
    st->active_segment = w->active->number;
    st->spares = w->nspares;
    st->spare_bytes = 0;
    for (size_t i = 0; i < w->nspares; i++)
        st->spare_bytes += w->spares[i].size;
    st->recycled = w->recycled;
    st->fsyncs = w->fsyncs;
    st->fsync_seconds = w->fsync_seconds;
    st->broken = w->broken;
    pthread_mutex_unlock(&w->mu);
}

size_t sl_wal_drop_spares(sl_wal *w)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    size_t n = drop_spares_locked(w);
    pthread_mutex_unlock(&w->mu);
    return n;
}

void sl__wal_fail_sync(sl_wal *w, int after)
{
    atomic_store(&w->fail_sync_after, after < 0 ? -1 : after);
}

void sl__wal_sync_delay(sl_wal *w, int ms)
{
    atomic_store(&w->sync_delay_ms, ms);
}

void sl__wal_no_prealloc(bool off)
{
    atomic_store(&no_prealloc, off);
}

void sl__wal_fail_write(sl_wal *w, int after, int err)
{
    atomic_store(&w->fail_write_err, err);
    atomic_store(&w->fail_write_after, after < 0 ? -1 : after);
}
