/* wal.h: write-ahead log of typed records, in numbered segment files in one directory.
 *
 * Use: sl_wal_open() recovers what is on disk (and reports what it found), sl_wal_replay() hands
 * back the records not yet processed, then any thread may sl_wal_append() and sl_wal_sync(); a
 * record is durable (may be acked) only once sl_wal_sync() for its LSN returned SL_OK.
 * sl_wal_release() deletes segments whose records are no longer needed.
 *
 * Ownership: the handle from sl_wal_open() is the caller's (sl_wal_close()); the callers' iovecs
 * and buffers are borrowed for the duration of each call. Thread-safety: append, sync, release,
 * read and stats_get may be called from any threads at once; open, replay and close may not run
 * concurrently with anything else on the same handle. One process at a time may open a
 * directory (a second open gets SL_STATE).
 *
 * Errors are final once the log is broken (a failed fsync or write): every later call returns
 * SL_IO, and the process should exit and recover from disk on restart.
 */
#ifndef SL_WAL_WAL_H
#define SL_WAL_WAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "sluice.h"

typedef struct sl_wal sl_wal;

typedef struct {
    const char *dir;          /* created (mkdir -p) if missing */
    uint64_t segment_bytes;   /* rotate once the active segment reaches this size; default 64 MiB (0 = default) */
    uint64_t max_bytes;       /* limit on the total size of live segments; sl_wal_append returns SL_FULL when a record would pass it (0 = no limit) */
    bool no_sync;             /* benchmarks/tests only: skip fdatasync (not durable) */
    uint32_t commit_delay_us; /* group commit: the syncing leader may wait this long for more appends before fdatasync (default 0) */
    bool no_direct;           /* write with the page cache even where O_DIRECT works (see wal.c "Direct I/O") */
    uint64_t writeback_bytes; /* start the write-back of buffered appends (sync_file_range) each time this many bytes are written, so the next fdatasync finds little left to do (see wal.c "Early write-back"; 0 = off) */
    uint64_t first_segment;   /* number of a new log's first segment (0 = 1); the server uses the wall clock in ms, so a new data directory's segments (and the object names derived from them) never repeat an old one's */
    uint32_t spare_segments;  /* released segments kept (renamed NAME.spare) and overwritten as later segments instead of creating new files: their blocks are allocated and their pages cached (see wal.c "Recycling"; 0 = delete released segments) */
    bool quarantine;          /* on mid-log corruption: rename the bad segment to NAME.corrupt, keep the valid prefix, and open anyway (reported in sl_wal_recovery) instead of failing */
    void (*on_sync)(void *ctx, double seconds, uint64_t bytes); /* called after every fdatasync (metrics), from the syncing thread; may be NULL */
    void *ctx;
} sl_wal_opts;
void sl_wal_opts_default(sl_wal_opts *o);

typedef struct { uint64_t segment; uint64_t offset; uint32_t len; } sl_wal_loc; /* where a record is: segment number, byte offset of the record header in the segment file, payload length */

typedef struct {
    uint64_t lsn;          /* 1-based, strictly increasing across segments and restarts */
    uint8_t type;          /* the caller's record type, 1..255 */
    const uint8_t *data;   /* payload, valid during the callback */
    size_t len;
    sl_wal_loc loc;
} sl_wal_rec;

typedef struct {
    uint64_t segments;          /* live segments after recovery */
    uint64_t records;           /* valid records found */
    uint64_t truncated_bytes;   /* torn tail removed (zeros, short record, bad CRC at the end) */
    uint64_t quarantined;       /* segments renamed .corrupt (quarantine mode) */
    char message[256];          /* what was found/done, "" if clean */
} sl_wal_recovery;

/* Opens the log in o->dir, recovering: scans every segment in order, verifies each record,
 * truncates a torn tail of the LAST segment (zeros, short record, bad CRC with nothing valid after it),
 * and fails with SL_FORMAT (message in rep->message: file, offset, what) on corruption — a bad record followed by valid ones,
 * a non-last segment that ends early/has a bad record, an LSN gap or non-increasing LSN — unless o->quarantine.
 * Removes leftover temp files. rep may be NULL. On SL_OK *out is yours (sl_wal_close). */
SL_NODISCARD sl_err sl_wal_open(const sl_wal_opts *o, sl_wal **out, sl_wal_recovery *rep);
void sl_wal_close(sl_wal *wal); /* NULL is a no-op; does not fsync (call sl_wal_sync first) */

/* Calls fn for every record with lsn >= from_lsn, in LSN order. Only before concurrent appends start
 * (after open). fn's non-OK return stops the replay and is returned. */
typedef sl_err (*sl_wal_replay_fn)(void *ctx, const sl_wal_rec *rec);
SL_NODISCARD sl_err sl_wal_replay(sl_wal *wal, uint64_t from_lsn, sl_wal_replay_fn fn, void *ctx);

/* Appends one record (payload = the iovecs concatenated, total <= SL_WAL_MAX_RECORD = 256 MiB, type 1..255),
 * buffered (write(2), no fsync). Thread-safe. *lsn_out and *loc_out (either may be NULL) tell where it is.
 * SL_FULL: over max_bytes (nothing written, try later). SL_NOSPACE: ENOSPC/EDQUOT/EFBIG — the partial record
 * is cut off again (ftruncate to the previous end) and the log stays usable. SL_IO: any other write error or
 * a failed fsync earlier: the log is broken; every later call returns SL_IO. SL_INVALID: bad type/size. */
#define SL_WAL_MAX_RECORD ((size_t)256 << 20)
SL_NODISCARD sl_err sl_wal_append(sl_wal *wal, uint8_t type, const struct iovec *iov, int iovcnt,
                                  uint64_t *lsn_out, sl_wal_loc *loc_out);

/* Blocks until every record with LSN <= lsn is durable (fdatasync of its segment, and of the directory
 * for a new segment). Group commit: one thread (the leader) syncs on behalf of all waiters; others wait for
 * its result; a waiter whose lsn was appended after the leader started waits for the next round.
 * SL_IO if the fsync failed: the log is broken for good (never report success after a failed fsync; never retry fsync). Thread-safe.
 * An lsn past the last appended record means "everything appended so far"; 0 waits for nothing. */
SL_NODISCARD sl_err sl_wal_sync(sl_wal *wal, uint64_t lsn);

/* Records with LSN < lsn are no longer needed: deletes every non-active segment whose records are all below it
 * (and fsyncs the directory). Thread-safe. */
SL_NODISCARD sl_err sl_wal_release(sl_wal *wal, uint64_t lsn);

/* Reads the payload of the record at loc into buf (loc->len bytes), verifying its CRC and, if lsn != 0,
 * that it is record `lsn`. Thread-safe, concurrent with appends (pread). SL_FORMAT on mismatch, SL_IO.
 * SL_INVALID if loc is not inside a live segment (e.g. released). */
SL_NODISCARD sl_err sl_wal_read(sl_wal *wal, const sl_wal_loc *loc, uint64_t lsn, void *buf);

/* Deletes the spare segments (see sl_wal_opts.spare_segments) to free their disk space, e.g.
 * when another writer on the same file system ran out of space. Returns how many were deleted. */
size_t sl_wal_drop_spares(sl_wal *wal);

typedef struct {
    uint64_t next_lsn;      /* LSN the next append gets */
    uint64_t durable_lsn;   /* highest LSN known durable */
    uint64_t bytes;         /* total size of live segments */
    uint64_t segments;
    uint64_t active_segment;
    uint64_t spares;        /* released segments kept for reuse (not in `bytes`) */
    uint64_t spare_bytes;   /* their size on disk */
    uint64_t recycled;      /* segments started in a spare file since open */
    uint64_t fsyncs;
    bool direct;            /* the active segment is written with O_DIRECT */
    double fsync_seconds;   /* total time in fdatasync */
    bool broken;
} sl_wal_stats;
void sl_wal_stats_get(sl_wal *wal, sl_wal_stats *st);

#endif
