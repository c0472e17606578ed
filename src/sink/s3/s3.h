/* s3.h: a small S3 client on libcurl for uploading files (PutObject, multipart upload),
 * checking a bucket and cleaning up unfinished multipart uploads. Signs with sigv4.h.
 *
 * Every operation retries transient failures (connection errors, timeouts, 5xx, 429, SlowDown,
 * RequestTimeout, BadDigest) with exponential backoff and full jitter, within `retry_seconds`
 * and `max_attempts`; authentication, permission and missing-bucket errors fail at once with
 * an actionable message and hint in sl_sink_error (retryable false).
 *
 * Files are streamed from disk (hashing and sending read the file, never hold it whole): a file
 * below `multipart_threshold` goes in one PUT with Content-MD5; a larger one in parts of
 * `part_size` bytes, `concurrency` parts at a time (one thread and curl handle each); a failed
 * multipart upload is aborted so no parts are left behind.
 *
 * Thread-safety: an sl_s3 may be used by several threads at once (each call uses its own curl
 * handles); the configuration is read-only after sl_s3_create.
 */
#ifndef SL_SINK_S3_S3_H
#define SL_SINK_S3_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink/sink.h"
#include "sluice.h"

#define SL_S3_MIN_PART ((uint64_t)5 << 20) /* S3's minimum part size (all but the last) */
#define SL_S3_MAX_PARTS 10000

typedef struct {
    char endpoint[512];      /* scheme://host[:port]; "" = https://s3.REGION.amazonaws.com */
    char bucket[256];
    char region[64];         /* default us-east-1 */
    char prefix[512];        /* key prefix without leading/trailing '/', may be "" */
    bool path_style;         /* endpoint/bucket/key instead of bucket.endpoint/key */
    char access_key[256];
    char secret_key[256];
    char session_token[4096]; /* "" = none; sent as X-Amz-Security-Token */
    uint64_t part_size;           /* default 16 MiB, at least 5 MiB */
    uint64_t multipart_threshold; /* files larger than this go multipart (default part_size) */
    unsigned concurrency;         /* parts in flight (default 4) */
    double connect_timeout;       /* seconds (default 5) */
    double stall_timeout;         /* seconds below 1 KB/s before a request is abandoned (10) */
    double retry_seconds;         /* retry budget of one operation (default 20) */
    unsigned max_attempts;        /* attempts of one request (default 8) */
    bool manifest;                /* publish KEY.manifest.json after each object */
    char layout[256];             /* key layout below the prefix (default SL_LAYOUT_S3) */
} sl_s3_config;

void sl_s3_config_default(sl_s3_config *c);

/* Sets one setting by its environment name (S3_ENDPOINT, S3_BUCKET, S3_REGION, AWS_REGION,
 * S3_PREFIX, S3_PATH_STYLE, S3_FORCE_PATH_STYLE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, SLUICE_S3_PART_SIZE, SLUICE_S3_MULTIPART_THRESHOLD, SLUICE_S3_CONCURRENCY,
 * SLUICE_S3_RETRY_SECONDS, SLUICE_S3_MANIFEST, SLUICE_KEY_LAYOUT). SL_INVALID with a reason in
 * err for a bad value; SL_UNSUPPORTED for an unknown name. */
sl_err sl_s3_config_set(sl_s3_config *c, const char *name, const char *value, char *err,
                        size_t errn);

/* The names sl_s3_config_set knows, NULL-terminated. */
extern const char *const sl_s3_config_names[];

/* Checks a complete configuration (bucket set, endpoint form, part size, layout). */
sl_err sl_s3_config_check(const sl_s3_config *c, sl_sink_error *e);

typedef struct sl_s3 sl_s3;

/* Creates a client for c (copied). SL_INVALID (message in e) for a bad configuration. */
SL_NODISCARD sl_err sl_s3_create(const sl_s3_config *c, sl_s3 **out, sl_sink_error *e);
void sl_s3_destroy(sl_s3 *s); /* NULL is a no-op */

/* Uploads the file at `path` as `key` (full key, prefix included). Same key again replaces the
 * object. On failure nothing is visible under key that was not there before. */
SL_NODISCARD sl_err sl_s3_upload_file(sl_s3 *s, const char *path, const char *key,
                                      sl_sink_error *e);

/* PUTs n bytes from memory as `key`. */
SL_NODISCARD sl_err sl_s3_put_bytes(sl_s3 *s, const char *key, const void *p, size_t n,
                                    const char *content_type, sl_sink_error *e);

/* HEAD bucket: reachable, credentials accepted, bucket exists. */
SL_NODISCARD sl_err sl_s3_head_bucket(sl_s3 *s, sl_sink_error *e);

/* Aborts every unfinished multipart upload under `prefix` (ListMultipartUploads, paged);
 * *aborted counts them. SL_UNSUPPORTED if the server does not implement the listing. */
SL_NODISCARD sl_err sl_s3_abort_uploads(sl_s3 *s, const char *prefix, unsigned *aborted,
                                        sl_sink_error *e);

/* Counts of requests sent and retried (for tests and metrics). */
void sl_s3_counts(const sl_s3 *s, uint64_t *requests, uint64_t *retries);

#endif
