/* fsutil.h: small file-system and clock helpers shared by the WAL, the server and its sinks.
 * Durability rules (see ../shared/notes/reliability.md): a new directory entry is durable only
 * after its parent directory is fsynced. */
#ifndef SL_UTIL_FSUTIL_H
#define SL_UTIL_FSUTIL_H

#include <stddef.h>
#include <time.h>

#include "sluice.h"
#include "util/buf.h"

/* mkdir -p that fsyncs the parent of every directory it creates. SL_NOSPACE on ENOSPC/EDQUOT,
 * SL_IO otherwise, SL_NOMEM. */
SL_NODISCARD sl_err sl_mkdirs(const char *dir);

/* fsync of a directory (after creating, renaming or removing entries in it). */
SL_NODISCARD sl_err sl_fsync_dir(const char *dir);

/* Appends the whole file to out. SL_RETRY if it does not exist, SL_FULL past max bytes,
 * SL_IO, SL_NOMEM. */
SL_NODISCARD sl_err sl_read_file(const char *path, sl_buf *out, size_t max);

/* Seconds on the monotonic clock. */
double sl_mono_seconds(void);

/* The CLOCK_REALTIME time `seconds` from now, for pthread_cond_timedwait. */
struct timespec sl_deadline_after(double seconds);

#endif
