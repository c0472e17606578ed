/* fsutil.h: small file-system and clock helpers shared by the WAL, the server and its sinks.
 * Durability rules (see ../shared/notes/reliability.md): a new directory entry is durable only
 * after its parent directory is fsynced. */
#ifndef SL_UTIL_FSUTIL_H
#define SL_UTIL_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sluice.h"
#include "util/buf.h"

/* mkdir -p that fsyncs the parent of every directory it creates. SL_NOSPACE on ENOSPC/EDQUOT,
 * SL_IO otherwise, SL_NOMEM. */
SL_NODISCARD sl_err sl_mkdirs(const char *dir);

/* fsync of a directory (after creating, renaming or removing entries in it). */
SL_NODISCARD sl_err sl_fsync_dir(const char *dir);

/* Writes dir/name atomically: dir/name.tmp, fdatasync, rename, fsync of dir (the temp file is
 * removed on failure). SL_NOSPACE when the temp file cannot be created for lack of space, else
 * SL_IO. */
SL_NODISCARD sl_err sl_write_file_atomic(const char *dir, const char *name, const void *p,
                                         size_t n);

/* Early write-back: once `every` bytes (> 0) were written to fd past *from (end = the written
 * end), asks the kernel to start writing [*from, end) out (sync_file_range WRITE: it does not
 * wait) and moves *from to end, so a later fdatasync finds little left. Durability still rests
 * on that fdatasync; errors surface there. */
void sl_writeback_after(int fd, uint64_t *from, uint64_t end, uint64_t every);

/* Appends the whole file to out. SL_RETRY if it does not exist, SL_FULL past max bytes,
 * SL_IO, SL_NOMEM. */
SL_NODISCARD sl_err sl_read_file(const char *path, sl_buf *out, size_t max);

/* Seconds on the monotonic clock. */
double sl_mono_seconds(void);

/* The CLOCK_REALTIME time `seconds` from now, for pthread_cond_timedwait. */
struct timespec sl_deadline_after(double seconds);

#endif
