/* wal_internal.h: on-disk constants and fault-injection hooks of src/wal/wal.c, for its unit
 * test, fuzz target and benchmark only. Nothing in the service includes this. The format itself
 * is described at the top of wal.c.
 */
#ifndef SL_WAL_WAL_INTERNAL_H
#define SL_WAL_WAL_INTERNAL_H

#include "wal/wal.h"

#define SL__WAL_MAGIC "SLUICEWL" /* 8 bytes, no NUL on disk */
#define SL__WAL_VERSION 1u
#define SL__WAL_SEG_HDR 64u /* segment header bytes; the first record starts here */
#define SL__WAL_REC_HDR 24u /* record header bytes; records are padded to 8 */

/* The fsync/fdatasync after `after` more successful ones (0: the next one) fails with EIO, as
 * if the disk had reported a write-back error; < 0 turns the hook off. Applies to every sync
 * the log does after open (segment files and the directory). */
void sl__wal_fail_sync(sl_wal *wal, int after);

/* The record write after `after` more successful ones writes only the record header and then
 * fails with errno `err` (e.g. ENOSPC, EIO); < 0 turns the hook off. */
void sl__wal_fail_write(sl_wal *wal, int after, int err);

/* Process-wide: segments opened or created from now on are (not) fallocate()d. For measuring
 * what preallocation buys (bench/wal_bench.c). */
void sl__wal_no_prealloc(bool off);

/* Tests: every group-commit fdatasync first sleeps this many ms (0: off), so a test can look at
 * what the server does while a request is appended but not yet durable. */
void sl__wal_sync_delay(sl_wal *wal, int ms);

#endif
