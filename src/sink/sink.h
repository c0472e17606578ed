/* sink.h: where finished files go.
 *
 * A file sink takes a complete local file (a staged Parquet file or a rejects NDJSON file,
 * already fdatasync'd) and makes it durable under a key. Keys are deterministic: they come from
 * the stream and the row-sequence range of the file, so publishing the same range again (a
 * retry, a flush repeated after a crash) writes the same object, never a second one.
 *
 * Implementations: local directory (sink_local.c) and S3 (s3/). The caller (a stream's lane,
 * `sluice convert`) owns retries: publish() makes one attempt (an implementation may retry
 * transient failures inside it within a bounded time) and reports an actionable message.
 */
#ifndef SL_SINK_SINK_H
#define SL_SINK_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"

typedef enum { SL_OBJ_PARQUET, SL_OBJ_REJECTS } sl_obj_kind;

/* What a file holds; the sink derives the key from it (sl_sink_key). */
typedef struct {
    sl_obj_kind kind;
    const char *stream;   /* stream (or job) name */
    int64_t received_us;  /* time the first request of the file was received (partition date) */
    uint64_t segment;     /* WAL segment of the first request (names sort by log order) */
    uint64_t first, last; /* sequence numbers of the first and last row (or reject) */
    const char *partition; /* extra "col=value/..." path from partition columns, or NULL */
} sl_obj;

/* Outcome details for logs, /readyz and metrics. */
typedef struct {
    char message[512]; /* what failed, with the server's answer where there is one */
    char hint[256];    /* what to do about it, or "" */
    bool retryable;    /* false: configuration/auth problem; retrying will not help */
} sl_sink_error;

typedef struct sl_file_sink sl_file_sink;
struct sl_file_sink {
    const char *kind; /* "local", "s3" */
    /* Makes the file at `staged` durable as `key` (see sl_sink_key). On success the staged
     * file has been consumed (renamed or removed). Same key again: replaces the object. */
    sl_err (*publish)(sl_file_sink *s, const char *staged, const char *key, sl_sink_error *e);
    /* Cheap reachability/credentials check (start, /readyz while failing). NULL: always ok. */
    sl_err (*check)(sl_file_sink *s, sl_sink_error *e);
    /* Where the user finds the files of `stream` (for answers and logs), e.g. a directory or an
     * s3:// URL prefix. */
    void (*describe)(const sl_file_sink *s, const char *stream, char *out, size_t n);
    void (*destroy)(sl_file_sink *s);
    char layout[256]; /* key layout, see sl_sink_key */
};

/* Default layouts. Placeholders: {stream} {date} (YYYY-MM-DD, UTC) {hour} (HH, UTC)
 * {partition} (the partition path, or nothing; a following '/' is dropped with it). For rejects
 * files {stream} expands to "STREAM/_rejects". The file name is appended after a '/':
 * part-{segment:06}-{first:012}-{last:012}.parquet or rejects-{same}.ndjson. */
#define SL_LAYOUT_LOCAL "{stream}/dt={date}/{partition}"
#define SL_LAYOUT_S3 "{stream}/dt={date}/hour={hour}/{partition}"

/* Builds the key of `o` under `layout` into out (a relative path, '/'-separated, no leading
 * '/'). SL_INVALID if it does not fit or the layout is malformed. */
sl_err sl_sink_key(const char *layout, const sl_obj *o, char *out, size_t n);

/* Checks a layout (known placeholders, must contain {stream}); message in e. */
sl_err sl_sink_layout_check(const char *layout, sl_sink_error *e);

/* The local directory sink: key -> DIR/key via rename in the same file system (the staged file
 * must be on it), directories created and fsynced. */
sl_file_sink *sl_sink_local_create(const char *dir);

#endif
