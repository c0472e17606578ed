/* sink_s3.c: the S3 file sink (sl_file_sink over s3.h).
 *
 * Keys are PREFIX/LAYOUT-KEY: the sink's layout is the configured layout with the prefix put in
 * front, so sl_sink_key() gives the full object key and a publish repeated after a crash or a
 * retry writes the same key again (exactly-once by name, see sink.h).
 *
 * Leftovers: a multipart upload interrupted by a crash stays invisible but billable on the
 * server. Before the first upload of this process, while no other upload of this sink is
 * running, the sink aborts the unfinished uploads under its prefix (ListMultipartUploads). This
 * assumes one sluice instance per prefix, which the deterministic keys require anyway.
 *
 * Lock order: only `mu` (cleanup state and in-flight count).
 */
#define _GNU_SOURCE
#include "sink/s3/sink_s3.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

typedef struct {
    sl_file_sink base;
    sl_s3 *s3;
    sl_s3_config c;
    pthread_mutex_t mu;
    unsigned inflight;
    bool cleaned;
} s3_sink;

/* Aborts leftover uploads once, before this process's first upload; called with mu held and
 * no upload of this sink in flight (it would be aborted too). Until it succeeds (or the server
 * cannot list uploads) it is tried again before the next upload that finds none in flight. */
static void cleanup_leftovers_locked(s3_sink *k)
{
    char prefix[520];
    snprintf(prefix, sizeof(prefix), "%s%s", k->c.prefix, k->c.prefix[0] ? "/" : "");
    unsigned n = 0;
    sl_sink_error e = {0};
    sl_err err = sl_s3_abort_uploads(k->s3, prefix, &n, &e);
    if (err == SL_OK || err == SL_UNSUPPORTED || !e.retryable)
        k->cleaned = true;
    if (n)
        sl_log(SL_LOG_WARN, "aborted unfinished multipart uploads left by an earlier run",
               SL_KS("bucket", k->c.bucket), SL_KS("prefix", prefix), SL_KU("uploads", n));
    if (err == SL_UNSUPPORTED)
        sl_log(SL_LOG_INFO, "S3 server cannot list multipart uploads; leftovers not cleaned",
               SL_KS("bucket", k->c.bucket));
    else if (err)
        sl_log(SL_LOG_WARN, "cannot list unfinished multipart uploads", SL_KS("error", e.message),
               SL_KS("hint", e.hint));
}

static sl_err s3_publish(sl_file_sink *s, const char *staged, const char *key, sl_sink_error *e)
{
    s3_sink *k = (s3_sink *)s;
    pthread_mutex_lock(&k->mu);
    if (!k->cleaned && k->inflight == 0)
        cleanup_leftovers_locked(k);
    k->inflight++;
    pthread_mutex_unlock(&k->mu);
    struct stat sb;
    uint64_t size = stat(staged, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    sl_err err = sl_s3_upload_file(k->s3, staged, key, e);
    if (!err && k->c.manifest) {
        /* {"key":..,"bytes":..,"bucket":..}: keys may hold any character, so JSON-escaped */
        char mkey[1500];
        sl_buf doc;
        sl_buf_init(&doc, 0);
        sl_err jerr = sl_buf_puts(&doc, "{\"key\":");
        if (!jerr)
            jerr = sl_buf_json_str(&doc, key, strlen(key));
        if (!jerr)
            jerr = sl_buf_printf(&doc, ",\"bytes\":%llu,\"bucket\":", (unsigned long long)size);
        if (!jerr)
            jerr = sl_buf_json_str(&doc, k->c.bucket, strlen(k->c.bucket));
        if (!jerr)
            jerr = sl_buf_puts(&doc, "}\n");
        snprintf(mkey, sizeof(mkey), "%s.manifest.json", key);
        if (jerr) {
            snprintf(e->message, sizeof(e->message), "out of memory");
            err = jerr;
        } else {
            err = sl_s3_put_bytes(k->s3, mkey, (const char *)doc.ptr, doc.len, "application/json",
                                  e);
        }
        sl_buf_release(&doc);
    }
    if (!err)
        unlink(staged); /* consumed; a leftover would only be re-staged and overwritten */
    pthread_mutex_lock(&k->mu);
    k->inflight--;
    pthread_mutex_unlock(&k->mu);
    return err;
}

static sl_err s3_check(sl_file_sink *s, sl_sink_error *e)
{
    s3_sink *k = (s3_sink *)s;
    return sl_s3_head_bucket(k->s3, e);
}

static void s3_describe(const sl_file_sink *s, const char *stream, char *out, size_t n)
{
    const s3_sink *k = (const s3_sink *)s;
    snprintf(out, n, "s3://%s/%s%s%s/", k->c.bucket, k->c.prefix, k->c.prefix[0] ? "/" : "",
             stream);
}

static void s3_destroy(sl_file_sink *s)
{
    s3_sink *k = (s3_sink *)s;
    if (!k)
        return;
    sl_s3_destroy(k->s3);
    pthread_mutex_destroy(&k->mu);
    memset(k->c.secret_key, 0, sizeof(k->c.secret_key));
    free(k);
}

sl_err sl_sink_s3_create(const sl_s3_config *c, sl_file_sink **out, sl_sink_error *e)
{
    sl_err err = sl_s3_config_check(c, e);
    if (err)
        return err;
    s3_sink *k = calloc(1, sizeof(*k));
    if (!k)
        return SL_NOMEM;
    k->c = *c;
    int n = snprintf(k->base.layout, sizeof(k->base.layout), "%s%s%s", c->prefix,
                     c->prefix[0] ? "/" : "", c->layout);
    if (n < 0 || (size_t)n >= sizeof(k->base.layout)) {
        snprintf(e->message, sizeof(e->message), "S3_PREFIX plus the key layout is too long");
        snprintf(e->hint, sizeof(e->hint), "use a shorter S3_PREFIX (at most ~150 bytes)");
        e->retryable = false;
        free(k);
        return SL_INVALID;
    }
    if ((err = sl_sink_layout_check(k->base.layout, e)) || (err = sl_s3_create(c, &k->s3, e))) {
        free(k);
        return err;
    }
    pthread_mutex_init(&k->mu, NULL);
    k->base.kind = "s3";
    k->base.publish = s3_publish;
    k->base.check = s3_check;
    k->base.describe = s3_describe;
    k->base.destroy = s3_destroy;
    *out = &k->base;
    return SL_OK;
}
