/* jobs.c: /v1/jobs: files uploaded as jobs, converted by worker threads into Parquet plus a
 * dead-letter (rejects) file, published through the server's file sink.
 *
 * Upload (POST /v1/jobs?model=NAME, the file as the body, up to SLUICE_JOB_MAX_BYTES = 1 GiB):
 *   headers: model must exist (404 lists the models), Content-Length within the limit (413),
 *   Content-Type one of CSV / JSON Lines / Parquet / octet-stream / none (415), room on disk
 *   (507). The body streams into DATA/jobs/ID/input (never held in memory); its first bytes
 *   decide the format (PAR1 = Parquet; '{' = JSON Lines; gzip/zstd = sniffed after
 *   decompression; other text = CSV; binary = 415). At the end: fsync(file), fsync(dirs), the
 *   job row (status queued, the model version) committed in SQLite, then 202: from here on the
 *   job is durable. A request cut before that leaves a directory without a row, removed at the
 *   next start.
 *
 * Workers (SLUICE_JOB_WORKERS, default 1): claim the oldest queued job (-> running, attempts+1),
 *   run sl_convert_file (SLUICE_JOB_THREADS threads, rejects to an NDJSON file with line, column
 *   and reason), progress written to SQLite every 0.5 s, cancel polled before every chunk.
 *   Outputs are published under deterministic keys, so a re-run after a crash replaces them
 *   (below the sink's prefix, e.g. S3_PREFIX):
 *     jobs/{model}/{id}/part-00000.parquet, jobs/{model}/{id}/_rejects/rejects-00000.ndjson
 *   Final status: succeeded (no rejects), partially_failed (some rows rejected), failed (an
 *   error, or every row rejected), cancelled. The uploaded file is deleted once the job ends.
 *
 * Restart: jobs found "running" were cut by a crash: re-queued (run again from the spooled
 *   file) unless they already ran 3 times or the file is gone, then failed with the reason.
 *   A graceful shutdown stops a running job at its next chunk and puts it back to "queued".
 *
 * Lock order: api->mu, then the store's mutex. Slots' cancel flags are atomics.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "parse/parquet_read.h"
#include "server/api_internal.h"
#include "sink/unit_sink.h"
#include "util/fsutil.h"
#include "util/log.h"

#define MAX_ATTEMPTS 3
#define PART_NAME "part-00000.parquet"
#define REJ_NAME "rejects-00000.ndjson"

enum { CT_ANY, CT_CSV, CT_JSONL, CT_PARQUET };

struct sl_upload {
    int fd;
    char dir[1200];
    char input[1300];
    sl_job_rec job;
    uint64_t bytes;
    int ct;
    uint8_t head[512];
    size_t headn;
    bool accepted;
};

static const char *const statuses[] = {"queued",    "running",          "succeeded",
                                       "failed",    "partially_failed", "cancelled"};

static bool terminal(const char *status)
{
    return strcmp(status, "queued") && strcmp(status, "running");
}

static bool job_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 5 || n > 39 || strncmp(s, "job_", 4))
        return false;
    for (size_t i = 4; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[1600];
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

void sl__upload_free(sl_upload *up)
{
    if (!up)
        return;
    if (up->fd >= 0)
        close(up->fd);
    if (!up->accepted && up->dir[0])
        remove_dir(up->dir);
    free(up);
}

/* ---- JSON of a job ------------------------------------------------------------------------ */

static sl_err put_str_or_null(sl_buf *b, const char *s)
{
    return s && s[0] ? sl_buf_json_str(b, s, strlen(s)) : sl_buf_puts(b, "null");
}

static sl_err put_job(sl_buf *b, const sl_job_rec *j)
{
    sl_err err = sl_buf_puts(b, "{\"id\":");
    if (!err)
        err = sl_buf_json_str(b, j->id, strlen(j->id));
    if (!err)
        err = sl_buf_puts(b, ",\"model\":");
    if (!err)
        err = sl_buf_json_str(b, j->model, strlen(j->model));
    if (!err)
        err = sl_buf_printf(b, ",\"model_version\":%lld,\"status\":\"%s\",\"format\":\"%s\","
                               "\"bytes\":%lld,\"rows\":{\"read\":%lld,\"accepted\":%lld,"
                               "\"rejected\":%lld},\"output_bytes\":%lld,\"outputs\":%s,"
                               "\"dead_letters\":",
                            (long long)j->model_version, j->status, j->format,
                            (long long)j->bytes, (long long)j->rows_read,
                            (long long)j->rows_accepted, (long long)j->rows_rejected,
                            (long long)j->output_bytes, j->outputs[0] ? j->outputs : "[]");
    if (!err)
        err = put_str_or_null(b, j->dead_letters);
    if (!err) { /* fraction of the upload consumed: 1 once ended, unknown (null) when queued */
        double prog = !strcmp(j->status, "running")
                          ? (j->bytes > 0 ? (double)j->bytes_read / (double)j->bytes : 0)
                          : 1;
        if (!strcmp(j->status, "queued"))
            err = sl_buf_puts(b, ",\"progress\":null");
        else
            err = sl_buf_printf(b, ",\"progress\":%.3f", prog > 1 ? 1.0 : prog);
    }
    if (!err)
        err = sl_buf_puts(b, ",\"created_at\":");
    if (!err)
        err = sl__api_put_time(b, j->created_us);
    if (!err)
        err = sl_buf_puts(b, ",\"started_at\":");
    if (!err)
        err = sl__api_put_time(b, j->started_us);
    if (!err)
        err = sl_buf_puts(b, ",\"finished_at\":");
    if (!err)
        err = sl__api_put_time(b, j->finished_us);
    if (!err && j->started_us) {
        int64_t end = j->finished_us ? j->finished_us : sl__api_now_us();
        double secs = (double)(end - j->started_us) / 1e6;
        err = sl_buf_printf(b, ",\"duration_seconds\":%.3f", secs);
        if (!err && secs > 0 && j->rows_read)
            err = sl_buf_printf(b, ",\"rows_per_second\":%.0f", (double)j->rows_read / secs);
    }
    if (!err)
        err = sl_buf_printf(b, ",\"attempts\":%lld,\"cancel_requested\":%s,\"error\":",
                            (long long)j->attempts, j->cancel_requested ? "true" : "false");
    if (!err && j->error_code[0]) {
        err = sl_buf_puts(b, "{\"code\":");
        if (!err)
            err = sl_buf_json_str(b, j->error_code, strlen(j->error_code));
        if (!err)
            err = sl_buf_puts(b, ",\"message\":");
        if (!err)
            err = sl_buf_json_str(b, j->error_message, strlen(j->error_message));
        if (!err)
            err = sl_buf_puts(b, ",\"hint\":");
        if (!err)
            err = put_str_or_null(b, j->error_hint);
        if (!err)
            err = sl_buf_putc(b, '}');
    } else if (!err) {
        err = sl_buf_puts(b, "null");
    }
    if (!err)
        err = sl_buf_putc(b, '}');
    return err;
}

/* ---- upload ------------------------------------------------------------------------------- */

static bool ct_parse(const char *v, int *ct)
{
    if (!v || !*v) {
        *ct = CT_ANY;
        return true;
    }
    while (*v == ' ')
        v++;
    size_t n = strcspn(v, ";");
    while (n && v[n - 1] == ' ')
        n--;
    static const struct {
        const char *name;
        int ct;
    } types[] = {{"text/csv", CT_CSV},
                 {"application/csv", CT_CSV},
                 {"text/plain", CT_ANY},
                 {"application/x-ndjson", CT_JSONL},
                 {"application/ndjson", CT_JSONL},
                 {"application/jsonl", CT_JSONL},
                 {"application/x-jsonlines", CT_JSONL},
                 {"application/jsonlines", CT_JSONL},
                 {"application/vnd.apache.parquet", CT_PARQUET},
                 {"application/x-parquet", CT_PARQUET},
                 {"application/parquet", CT_PARQUET},
                 {"application/octet-stream", CT_ANY}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strlen(types[i].name) == n && !strncasecmp(v, types[i].name, n)) {
            *ct = types[i].ct;
            return true;
        }
    return false;
}

enum MHD_Result sl__jobs_begin(sl_api_req *a, struct MHD_Connection *c, const char *method)
{
    (void)method;
    sl_api *api = a->api;
    if ((a->kind == A_JOB_GET || a->kind == A_JOB_CANCEL) && !job_id_ok(a->arg))
        return sl__api_error(c, 404, "job_not_found", "job ids look like job_0123456789abcdef",
                             "job '%.80s' does not exist", a->arg);
    if (a->kind != A_JOB_CREATE)
        return MHD_YES;
    const char *model = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "model");
    if (!model || !*model)
        return sl__api_error(c, 400, "model_required", "POST /v1/jobs?model=NAME",
                             "which model the file follows: the model= parameter is missing");
    if (!sl_stream_name_valid(model, strlen(model)))
        return sl__api_error(c, 400, "bad_model_name", NULL, "invalid model name '%.80s'",
                             model);
    if (atomic_load(&a->srv->stopping) || atomic_load(&api->stop))
        return sl__api_error(c, 503, "shutting_down", "retry in a moment",
                             "sluice is shutting down");
    sl_model_rec m;
    sl_err err = sl_store_model_get(api->store, model, 0, &m);
    if (err == SL_RETRY)
        return sl__model_not_found(api, c, model);
    if (err)
        return sl__api_error(c, 500, "store_failed", "see the server log", "%s",
                             sl_strerror(err));
    int64_t version = m.version;
    sl_store_model_release(&m);
    int ct;
    const char *ctv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (!ct_parse(ctv, &ct))
        return sl__api_error(c, 415, "unsupported_media_type",
                             "send CSV (text/csv), JSON Lines (application/x-ndjson) or Parquet "
                             "(application/vnd.apache.parquet), or application/octet-stream to "
                             "detect it",
                             "Content-Type '%.80s' is not a supported file format", ctv);
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    if (ce && *ce && strcasecmp(ce, "identity"))
        return sl__api_error(c, 415, "unsupported_encoding",
                             "upload the file as it is; gzip or zstd files are detected by "
                             "their content",
                             "Content-Encoding '%.40s' is not supported for jobs", ce);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    if (!cl && !te)
        return sl__api_error(c, 411, "length_required",
                             "send Content-Length or Transfer-Encoding: chunked",
                             "the request has no body length");
    unsigned long long clen = 0;
    if (cl) {
        char *end;
        errno = 0;
        clen = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || cl[0] == '-')
            return sl__api_error(c, 400, "bad_framing", NULL, "invalid Content-Length");
        if (clen > api->max_job_bytes)
            return sl__api_error(c, 413, "file_too_large",
                                 "split the file, or raise SLUICE_JOB_MAX_BYTES on the server",
                                 "the file has %llu bytes, over the limit of %llu", clen,
                                 (unsigned long long)api->max_job_bytes);
        if (clen == 0)
            return sl__api_error(c, 400, "empty_file", "upload a file with a header and rows",
                                 "the file is empty");
    }
    struct statvfs vfs;
    if (statvfs(api->jobs_dir, &vfs) == 0) {
        unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
        /* the upload, its Parquet output and rejects need room; ask for 2x the upload */
        if (clen && avail < clen * 2)
            return sl__api_error(c, 507, "insufficient_storage",
                                 "free space in the data directory",
                                 "%llu bytes free in %s, the job needs about %llu", avail,
                                 api->jobs_dir, clen * 2);
    }
    sl_upload *up = calloc(1, sizeof(*up));
    if (!up)
        return MHD_NO;
    up->fd = -1;
    a->up = up;
    uint64_t rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd = (uint64_t)sl__api_now_us() * 0x9E3779B97F4A7C15ull;
    snprintf(up->job.id, sizeof(up->job.id), "job_%016llx", (unsigned long long)rnd);
    snprintf(up->job.model, sizeof(up->job.model), "%s", model);
    up->job.model_version = version;
    up->ct = ct;
    snprintf(up->dir, sizeof(up->dir), "%.1000s/%s", api->jobs_dir, up->job.id);
    snprintf(up->input, sizeof(up->input), "%s/input", up->dir);
    if (mkdir(up->dir, 0755) ||
        (up->fd = open(up->input, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
        int e = errno;
        up->dir[0] = e == EEXIST ? 0 : up->dir[0]; /* not ours to remove */
        return sl__api_error(c, e == ENOSPC ? 507 : 500, "spool_failed",
                             "check the data directory", "cannot create %s: %s", up->input,
                             strerror(e));
    }
    return MHD_YES;
}

enum MHD_Result sl__jobs_body(sl_api_req *a, const char *data, size_t n)
{
    sl_upload *up = a->up;
    if (up->headn < sizeof(up->head)) {
        size_t k = sizeof(up->head) - up->headn < n ? sizeof(up->head) - up->headn : n;
        memcpy(up->head + up->headn, data, k);
        up->headn += k;
    }
    up->bytes += n;
    if (up->bytes > a->api->max_job_bytes) {
        sl__api_fail(a, 413, "file_too_large",
                     "split the file, or raise SLUICE_JOB_MAX_BYTES on the server",
                     "the file is over the limit of %llu bytes",
                     (unsigned long long)a->api->max_job_bytes);
        return MHD_YES;
    }
    sl_err err = sl_write_all(up->fd, data, n);
    if (err)
        sl__api_fail(a, err == SL_NOSPACE ? 507 : 500,
                     err == SL_NOSPACE ? "insufficient_storage" : "spool_failed",
                     "free space in the data directory", "cannot write the upload to %s: %s",
                     up->input, strerror(errno));
    return MHD_YES;
}

/* Decides the format from the first bytes and the Content-Type; false + message if wrong. */
static bool sniff(sl_upload *up, char *why, size_t whyn, const char **fmt)
{
    const uint8_t *h = up->head;
    size_t n = up->headn;
    bool par1 = n >= 4 && !memcmp(h, "PAR1", 4);
    bool compressed = (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) ||
                      (n >= 4 && !memcmp(h, "\x28\xb5\x2f\xfd", 4));
    if (up->ct == CT_PARQUET && !par1) {
        snprintf(why, whyn, "Content-Type says Parquet but the file does not start with PAR1");
        return false;
    }
    if (par1) {
        if (up->ct == CT_CSV || up->ct == CT_JSONL) {
            snprintf(why, whyn, "the file is Parquet but Content-Type says %s",
                     up->ct == CT_CSV ? "CSV" : "JSON Lines");
            return false;
        }
        *fmt = "parquet";
        return true;
    }
    if (compressed) {
        *fmt = up->ct == CT_CSV ? "csv" : up->ct == CT_JSONL ? "jsonl" : "auto";
        return true;
    }
    /* text: UTF-8 (a sequence cut at the end of the sample is fine), no NUL bytes */
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = h[i];
        if (ch == 0 || (ch < 0x20 && !strchr("\t\r\n\f", ch))) {
            snprintf(why, whyn,
                     "the file is binary (byte 0x%02x at offset %zu), not CSV, JSON Lines or "
                     "Parquet",
                     ch, i);
            return false;
        }
        if (ch >= 0x80) {
            size_t len = (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3 : (ch & 0xF8) == 0xF0 ? 4 : 0;
            bool ok = len != 0;
            for (size_t k = 1; ok && k < len && i + k < n; k++)
                ok = (h[i + k] & 0xC0) == 0x80;
            if (!ok) {
                snprintf(why, whyn,
                         "the file is not UTF-8 text (byte 0x%02x at offset %zu) and not Parquet",
                         ch, i);
                return false;
            }
            i += len - 1;
        }
    }
    size_t i = n >= 3 && !memcmp(h, "\xEF\xBB\xBF", 3) ? 3 : 0;
    while (i < n && strchr(" \t\r\n", h[i]))
        i++;
    bool obj = i < n && h[i] == '{';
    if (up->ct == CT_JSONL) {
        *fmt = "jsonl";
        return true;
    }
    if (up->ct == CT_CSV) {
        *fmt = "csv";
        return true;
    }
    *fmt = obj ? "jsonl" : "csv";
    return true;
}

static void wake_workers(sl_api *api)
{
    pthread_mutex_lock(&api->mu);
    api->wake = true;
    pthread_cond_broadcast(&api->cv);
    pthread_mutex_unlock(&api->mu);
}

static enum MHD_Result job_answer(struct MHD_Connection *c, unsigned status, const sl_job_rec *j,
                                  sl_server *warn)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = put_job(&b, j);
    if (!err && warn) { /* a sink that cannot take data now: the job waits for it (and why) */
        b.len--; /* put_job's closing brace */
        err = sl_http_sink_warning(&b, warn, ",", "");
        if (!err)
            err = sl_buf_putc(&b, '}');
    }
    if (err || sl_buf_putc(&b, '\n')) {
        sl_buf_release(&b);
        return MHD_NO;
    }
    char loc[96];
    snprintf(loc, sizeof(loc), "/v1/jobs/%s", j->id);
    return sl__api_send(c, status, &b, status == 202 ? loc : NULL);
}

static enum MHD_Result upload_end(sl_api_req *a, struct MHD_Connection *c)
{
    sl_api *api = a->api;
    sl_upload *up = a->up;
    if (a->fail_status)
        return sl__api_error(c, a->fail_status, a->code, a->hint, "%s", a->msg);
    if (!up->bytes)
        return sl__api_error(c, 400, "empty_file", "upload a file with a header and rows",
                             "the file is empty");
    char why[256];
    const char *fmt = NULL;
    if (!sniff(up, why, sizeof(why), &fmt))
        return sl__api_error(c, 415, "wrong_format",
                             "upload CSV (with a header row), JSON Lines or Parquet", "%s", why);
    if (fsync(up->fd))
        return sl__api_error(c, errno == ENOSPC ? 507 : 500, "spool_failed",
                             "check the data directory", "cannot sync the upload: %s",
                             strerror(errno));
    close(up->fd);
    up->fd = -1;
    if (sl_fsync_dir(up->dir) || sl_fsync_dir(api->jobs_dir))
        return sl__api_error(c, 500, "spool_failed", "check the data directory",
                             "cannot sync %s: %s", up->dir, strerror(errno));
    sl_job_rec *j = &up->job;
    snprintf(j->status, sizeof(j->status), "queued");
    snprintf(j->format, sizeof(j->format), "%s", fmt);
    snprintf(j->outputs, sizeof(j->outputs), "[]");
    j->bytes = (int64_t)up->bytes;
    j->created_us = sl__api_now_us();
    sl_err err = sl_store_job_insert(api->store, j);
    if (err)
        return sl__api_error(c, 500, "store_failed", "see the server log",
                             "cannot record the job: %s", sl_strerror(err));
    up->accepted = true;
    sl_mseries_add(sl_mfamily_series0(api->m_job_bytes), (double)up->bytes);
    sl_log(SL_LOG_INFO, "job accepted", SL_KS("job", j->id), SL_KS("model", j->model),
           SL_KI("model_version", j->model_version), SL_KS("format", fmt),
           SL_KU("bytes", up->bytes));
    wake_workers(api);
    return job_answer(c, 202, j, api->srv);
}

/* ---- list, show, cancel ------------------------------------------------------------------- */

typedef struct {
    sl_buf *b;
    size_t n;
    int64_t last_seq;
    sl_err err;
} list_ctx;

static void list_one(void *ctx, const sl_job_rec *j)
{
    list_ctx *lc = ctx;
    if (lc->err)
        return;
    if (lc->n++)
        lc->err = sl_buf_putc(lc->b, ',');
    if (!lc->err)
        lc->err = put_job(lc->b, j);
    lc->last_seq = j->seq;
}

static enum MHD_Result list_jobs(sl_api_req *a, struct MHD_Connection *c)
{
    const char *model = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "model");
    const char *status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    const char *ls = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    const char *cur = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cursor");
    if (model && !*model)
        model = NULL;
    if (status && !*status)
        status = NULL;
    if (status) {
        bool ok = false;
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
            ok |= !strcmp(status, statuses[i]);
        if (!ok)
            return sl__api_error(c, 400, "bad_status",
                                 "use queued, running, succeeded, failed, partially_failed or "
                                 "cancelled",
                                 "unknown status '%.40s'", status);
    }
    long limit = 50;
    if (ls) {
        char *end;
        limit = strtol(ls, &end, 10);
        if (*end || limit < 1 || limit > 1000)
            return sl__api_error(c, 400, "bad_limit", "use limit=1..1000",
                                 "invalid limit '%.20s'", ls);
    }
    long long before = 0;
    if (cur && *cur) {
        char *end;
        before = strtoll(cur, &end, 10);
        if (*end || before < 1)
            return sl__api_error(c, 400, "bad_cursor", "pass next_cursor from the previous page",
                                 "invalid cursor '%.20s'", cur);
    }
    sl_buf b;
    sl_buf_init(&b, 0);
    list_ctx lc = {&b, 0, 0, sl_buf_puts(&b, "{\"jobs\":[")};
    bool more = false;
    sl_err err = lc.err;
    if (!err)
        err = sl_store_job_list(a->api->store, model, status, before, (int)limit, list_one, &lc,
                                &more);
    if (!err)
        err = lc.err;
    if (!err)
        err = sl_buf_printf(&b, "],\"count\":%zu,\"next_cursor\":", lc.n);
    if (!err)
        err = more ? sl_buf_printf(&b, "\"%lld\"}\n", (long long)lc.last_seq)
                   : sl_buf_puts(&b, "null}\n");
    if (err) {
        sl_buf_release(&b);
        return sl__api_error(c, 500, "store_failed", "see the server log", "%s",
                             sl_strerror(err));
    }
    return sl__api_send(c, 200, &b, NULL);
}

static enum MHD_Result cancel_job(sl_api_req *a, struct MHD_Connection *c, sl_job_rec *j)
{
    sl_api *api = a->api;
    if (terminal(j->status))
        return sl__api_error(c, 409, "job_finished", "only queued or running jobs can be cancelled",
                             "job %s has already ended (%s)", j->id, j->status);
    bool done = false;
    sl_err err = sl_store_job_cancel_queued(api->store, j->id, sl__api_now_us(), &done);
    if (!err && !done) {
        /* running: flag it in the store first (a worker claiming it sees that), then the slot */
        err = sl_store_job_set_cancel(api->store, j->id);
        pthread_mutex_lock(&api->mu);
        for (int i = 0; i < api->nworkers; i++)
            if (!strcmp(api->slots[i].id, j->id))
                atomic_store(&api->slots[i].cancel, true);
        pthread_mutex_unlock(&api->mu);
        /* the worker stops at its next chunk: wait for it a little */
        for (int k = 0; !err && k < 100; k++) {
            err = sl_store_job_get(api->store, j->id, j);
            if (err || terminal(j->status))
                break;
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (!err)
        err = sl_store_job_get(api->store, j->id, j);
    if (err)
        return sl__api_error(c, 500, "store_failed", "see the server log", "%s",
                             sl_strerror(err));
    sl_log(SL_LOG_INFO, "job cancel requested", SL_KS("job", j->id), SL_KS("status", j->status));
    return job_answer(c, terminal(j->status) ? 200 : 202, j, NULL);
}

enum MHD_Result sl__jobs_end(sl_api_req *a, struct MHD_Connection *c)
{
    if (a->kind == A_JOB_CREATE)
        return upload_end(a, c);
    if (a->kind == A_JOBS_LIST)
        return list_jobs(a, c);
    sl_job_rec *j = malloc(sizeof(*j));
    if (!j)
        return MHD_NO;
    enum MHD_Result rc;
    sl_err err = sl_store_job_get(a->api->store, a->arg, j);
    if (err == SL_RETRY)
        rc = sl__api_error(c, 404, "job_not_found", "list jobs with GET /v1/jobs",
                           "job '%s' does not exist", a->arg);
    else if (err)
        rc = sl__api_error(c, 500, "store_failed", "see the server log", "%s", sl_strerror(err));
    else if (a->kind == A_JOB_CANCEL)
        rc = cancel_job(a, c, j);
    else
        rc = job_answer(c, 200, j, NULL);
    free(j);
    return rc;
}

/* ---- workers ------------------------------------------------------------------------------ */

typedef struct {
    sl_api *api;
    sl_api_slot *slot;
    const char *id;
    double last;
} run_ctx;

static void on_progress(void *ctx, const sl_convert_progress *p)
{
    run_ctx *rc = ctx;
    double now = sl_mono_seconds();
    if (now - rc->last < 0.5)
        return;
    rc->last = now;
    if (sl_store_job_progress(rc->api->store, rc->id, (int64_t)p->rows_in, (int64_t)p->rows_out,
                              (int64_t)p->rows_rejected, (int64_t)p->bytes_in))
        sl_log(SL_LOG_WARN, "cannot record job progress", SL_KS("job", rc->id));
}

static bool is_cancelled(void *ctx)
{
    run_ctx *rc = ctx;
    if (rc->api->test_delay_ms) { /* called once per chunk */
        struct timespec ts = {rc->api->test_delay_ms / 1000,
                              (long)(rc->api->test_delay_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&rc->slot->cancel) || atomic_load(&rc->api->stop);
}

static void set_error(sl_job_rec *j, const char *status, const char *code, const char *hint,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_error(sl_job_rec *j, const char *status, const char *code, const char *hint,
                      const char *fmt, ...)
{
    snprintf(j->status, sizeof(j->status), "%s", status);
    snprintf(j->error_code, sizeof(j->error_code), "%s", code);
    snprintf(j->error_hint, sizeof(j->error_hint), "%s", hint ? hint : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->error_message, sizeof(j->error_message), fmt, ap);
    va_end(ap);
}

static sl_err fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SL_IO;
    sl_err err = fsync(fd) ? SL_IO : SL_OK;
    close(fd);
    return err;
}

/* One attempt per second for a few seconds while the sink fails transiently. */
static sl_err publish(sl_api *api, const char *staged, const char *key, sl_sink_error *se)
{
    sl_file_sink *sink = api->srv->sink;
    sl_err err = SL_IO;
    /* at least one attempt even while stopping: the conversion is done, publishing is cheap */
    for (int attempt = 0; attempt == 0 || (attempt < 5 && !atomic_load(&api->stop)); attempt++) {
        memset(se, 0, sizeof(*se));
        if ((err = sink->publish(sink, staged, key, se)) == SL_OK || !se->retryable)
            return err;
        sl_log(SL_LOG_WARN, "job output not published; retrying", SL_KS("key", key),
               SL_KS("error", se->message));
        struct timespec ts = {1 << (attempt < 2 ? attempt : 2), 0};
        nanosleep(&ts, NULL);
    }
    return err;
}

/* Puts a job cut by the shutdown back to queued (it runs again on the next start). */
static void requeue(sl_api *api, sl_job_rec *j)
{
    snprintf(j->status, sizeof(j->status), "queued");
    j->attempts--;
    j->started_us = 0;
    j->rows_read = j->rows_accepted = j->rows_rejected = j->output_bytes = 0;
    j->bytes_read = 0;
    if (sl_store_job_update(api->store, j))
        sl_log(SL_LOG_ERROR, "cannot requeue the job", SL_KS("job", j->id));
    sl_log(SL_LOG_INFO, "job interrupted by the shutdown; it resumes on the next start",
           SL_KS("job", j->id));
}

/* A row sink (Kafka, PostgreSQL, ...) routed for the job's stream: the converted Parquet file is
 * read back in batches and given to it as one unit (rows numbered from 0), the dead letters too
 * if the sink takes them (*rejects_done). The unit's range is the same on every attempt, so the
 * sink's idempotence covers a job run again after a crash. */
static sl_err deliver_rows(sl_api *api, const sl_job_rec *j, const char *stream,
                           const sl_schema *schema, const char *out, const char *rej,
                           sl_unit_sink *us, bool *rejects_done, sl_sink_error *se)
{
    sl_unit u = {stream, schema, 0, 0, 0, j->created_us, NULL, 0, NULL, ""};
    sl_err err = us->begin(us, &u, se);
    if (err)
        return err;
    uint64_t seq = 0, rseq = 0;
    sl_pq_reader *pr = NULL;
    sl_batch *b = NULL;
    FILE *f = NULL;
    char *buf = NULL;
    if (j->rows_accepted > 0) {
        sl_pq_read_opts po;
        sl_pq_read_opts_default(&po);
        po.model = schema;
        sl_pq_read_error pe;
        if ((err = sl_pq_reader_open_path(out, &po, &pr, &pe))) {
            snprintf(se->message, sizeof(se->message), "reading back %.200s: %.280s", out, pe.message);
            goto fail;
        }
        if ((err = sl_batch_create(schema, &b)))
            goto fail;
        for (;;) {
            size_t n;
            if (atomic_load(&api->stop)) {
                err = SL_RETRY;
                snprintf(se->message, sizeof(se->message), "shutting down");
                goto fail;
            }
            sl_batch_clear(b);
            if ((err = sl_pq_reader_next(pr, b, 65536, &n))) {
                snprintf(se->message, sizeof(se->message), "reading back %.200s: %.280s", out,
                         sl_pq_reader_error(pr)->message);
                goto fail;
            }
            if (!n)
                break;
            if ((err = us->rows(us, b, seq, se)))
                goto fail;
            seq += n;
        }
    }
    if (us->rejects && j->rows_rejected > 0) {
        /* whole lines, up to 1 MiB at a time */
        const size_t cap = (size_t)1 << 20;
        size_t have = 0;
        buf = malloc(cap);
        f = fopen(rej, "rb");
        if (!buf || !f) {
            err = buf ? SL_IO : SL_NOMEM;
            snprintf(se->message, sizeof(se->message), "reading the dead letters %.200s", rej);
            goto fail;
        }
        for (;;) {
            size_t got = fread(buf + have, 1, cap - have, f);
            have += got;
            if (!have)
                break;
            char *nl = memrchr(buf, '\n', have);
            size_t cut = nl ? (size_t)(nl - buf) + 1 : have; /* a line over 1 MiB: as it is */
            uint64_t count = 0;
            for (size_t i = 0; i < cut; i++)
                count += buf[i] == '\n';
            if (!count)
                count = 1;
            if ((err = us->rejects(us, (const uint8_t *)buf, cut, count, rseq, se)))
                goto fail;
            rseq += count;
            memmove(buf, buf + cut, have - cut);
            have -= cut;
            if (!got && !have)
                break;
        }
        *rejects_done = true;
    }
    if ((err = us->commit(us, seq, rseq, se)))
        goto fail;
    goto out;
fail:
    us->abort(us);
out:
    if (f)
        fclose(f);
    free(buf);
    sl_batch_destroy(b);
    sl_pq_reader_close(pr);
    return err;
}

/* Runs a claimed job to its end (or back to queued on shutdown); updates j. */
static void run_job(sl_api *api, sl_api_slot *slot, sl_job_rec *j)
{
    sl_server *srv = api->srv;
    char dir[1200], input[1300], out[1300], rej[1300];
    snprintf(dir, sizeof(dir), "%.1000s/%s", api->jobs_dir, j->id);
    snprintf(input, sizeof(input), "%s/input", dir);
    snprintf(out, sizeof(out), "%s/" PART_NAME, dir);
    snprintf(rej, sizeof(rej), "%s/" REJ_NAME, dir);
    /* leftovers of an attempt cut by a crash */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.' && strcmp(e->d_name, "input")) {
                char p[1600];
                snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    j->error_code[0] = j->error_message[0] = j->error_hint[0] = 0;
    sl_model_rec m;
    sl_model *model = NULL;
    sl_err err = sl_store_model_get(api->store, j->model, j->model_version, &m);
    char emsg[256] = "";
    if (!err) {
        err = sl_model_from_json(m.schema, strlen(m.schema), &model, emsg, sizeof(emsg));
        sl_store_model_release(&m);
    }
    if (err) {
        set_error(j, "failed", "model_unavailable", "create the model again and resubmit",
                  "model '%s' version %lld cannot be loaded: %s", j->model,
                  (long long)j->model_version, emsg[0] ? emsg : sl_strerror(err));
        goto done;
    }
    run_ctx rc = {api, slot, j->id, 0};
    sl_convert_opts o;
    sl_convert_opts_default(&o);
    o.input = input;
    o.output = out;
    o.in_format = !strcmp(j->format, "csv")       ? SL_FMT_CSV
                  : !strcmp(j->format, "jsonl")   ? SL_FMT_JSONL
                  : !strcmp(j->format, "parquet") ? SL_FMT_PARQUET
                                                  : SL_FMT_AUTO;
    o.out_format = SL_FMT_PARQUET;
    o.schema = model->schema;
    o.threads = api->convert_threads;
    o.on_error = SL_ON_ERROR_REJECTS;
    o.rejects_path = rej;
    o.parquet.codec = srv->cfg.codec;
    o.parquet.row_group_bytes = (size_t)64 << 20;
    o.progress = on_progress;
    o.progress_ctx = &rc;
    o.cancelled = is_cancelled;
    sl_convert_result res;
    err = sl_convert_file(&o, &res);
    j->rows_read = (int64_t)res.totals.rows_in;
    j->rows_accepted = (int64_t)res.totals.rows_out;
    j->rows_rejected = (int64_t)res.totals.rows_rejected;
    j->output_bytes = (int64_t)res.totals.bytes_out;
    if (err && is_cancelled(&rc)) {
        if (!atomic_load(&slot->cancel)) { /* shutting down: run again on the next start */
            sl_convert_result_release(&res);
            unlink(out);
            unlink(rej);
            sl_model_destroy(model);
            requeue(api, j);
            return;
        }
        set_error(j, "cancelled", "cancelled", NULL, "cancelled while running");
        sl_convert_result_release(&res);
        unlink(rej);
        goto done;
    }
    if (err) {
        const char *code = err == SL_FORMAT        ? "bad_input"
                           : err == SL_UNSUPPORTED ? "unsupported_input"
                           : err == SL_NOSPACE     ? "disk_full"
                           : err == SL_NOMEM       ? "out_of_memory"
                                                   : "conversion_failed";
        /* messages name the spooled file: say "the uploaded file" instead of the path */
        const char *rm = res.message[0] ? res.message : sl_strerror(err);
        size_t il = strlen(input);
        bool named = !strncmp(rm, input, il) && rm[il] == ':';
        set_error(j, "failed", code, res.hint[0] ? res.hint : NULL, "%s%s",
                  named ? "the uploaded file" : "", named ? rm + il : rm);
        sl_convert_result_release(&res);
        unlink(rej);
        goto done;
    }
    sl_convert_result_release(&res);
    /* a row sink routed for the job's stream "jobs.MODEL.ID" (SLUICE_SINK=kafka, SLUICE_ROUTES
     * 'jobs.*=kafka', ...) gets the rows; file sinks get the Parquet file below */
    char stream[160];
    snprintf(stream, sizeof(stream), "jobs.%s.%s", j->model, j->id);
    bool rejects_done = false;
    if (srv->units) {
        sl_unit_sink *us = NULL;
        sl_sink_error ue;
        memset(&ue, 0, sizeof(ue));
        err = srv->units->create(srv->units, stream, model->schema, &us, &ue);
        if (err) {
            set_error(j, "failed", "sink_failed", ue.hint[0] ? ue.hint : "check the sink",
                      "sink for %s: %s", stream, ue.message[0] ? ue.message : sl_strerror(err));
            goto done;
        }
        if (strcmp(us->kind, srv->sink->kind)) {
            for (int attempt = 0;; attempt++) {
                memset(&ue, 0, sizeof(ue));
                err = deliver_rows(api, j, stream, model->schema, out, rej, us, &rejects_done,
                                   &ue);
                if (!err || atomic_load(&api->stop) || attempt == 4)
                    break;
                sl_log(SL_LOG_WARN, "job rows not delivered; retrying", SL_KS("job", j->id),
                       SL_KS("sink", us->kind), SL_KS("error", ue.message));
                struct timespec ts = {1 << (attempt < 2 ? attempt : 2), 0};
                nanosleep(&ts, NULL);
            }
            char kind[32];
            snprintf(kind, sizeof(kind), "%s", us->kind);
            us->destroy(us);
            if (err && atomic_load(&api->stop)) {
                unlink(out);
                unlink(rej);
                sl_model_destroy(model);
                requeue(api, j);
                return;
            }
            if (err) { /* Kafka down: the same code as the ingest answers */
                set_error(j, "failed",
                          strstr(ue.message, "kafka_unavailable") ? "kafka_unavailable"
                                                                  : "sink_failed",
                          ue.hint[0] ? ue.hint : "check the sink",
                          "delivering to the %s sink: %s", kind,
                          ue.message[0] ? ue.message : sl_strerror(err));
                goto done;
            }
            unlink(out);
            snprintf(j->outputs, sizeof(j->outputs),
                     "[{\"sink\":\"%s\",\"stream\":\"%s\",\"rows\":%lld}]", kind, stream,
                     (long long)j->rows_accepted);
            if (rejects_done) {
                snprintf(j->dead_letters, sizeof(j->dead_letters), "%s:%s (dead letters)", kind,
                         stream);
                unlink(rej);
            }
            goto verdict;
        }
        us->destroy(us);
    }
    /* publish: Parquet first, then the dead letters */
    char prefix[256], key[512], where[1024];
    snprintf(prefix, sizeof(prefix), "jobs/%s/%s", j->model, j->id);
    /* keys go under the sink's own prefix (S3_PREFIX): the part of its layout before {stream},
     * which is also what describe() puts before the names it is given */
    const char *layout = srv->sink->layout;
    const char *at = strstr(layout, "{stream}");
    int lp = at ? (int)(at - layout) : 0;
    sl_sink_error se;
    if (j->rows_accepted > 0) {
        snprintf(key, sizeof(key), "%.*s%s/" PART_NAME, lp, layout, prefix);
        if (fsync_path(out) || (err = publish(api, out, key, &se))) {
            set_error(j, "failed", "sink_failed", se.hint[0] ? se.hint : "check the sink",
                      "publishing %s: %s", key, se.message[0] ? se.message : strerror(errno));
            goto done;
        }
        srv->sink->describe(srv->sink, prefix, where, sizeof(where));
        sl_buf ob;
        sl_buf_init(&ob, sizeof(j->outputs) - 1);
        err = sl_buf_puts(&ob, "[{\"key\":");
        if (!err)
            err = sl_buf_json_str(&ob, key, strlen(key));
        if (!err)
            err = sl_buf_puts(&ob, ",\"location\":");
        if (!err) {
            char loc[1100];
            snprintf(loc, sizeof(loc), "%s" PART_NAME, where);
            err = sl_buf_json_str(&ob, loc, strlen(loc));
        }
        if (!err)
            err = sl_buf_printf(&ob, ",\"rows\":%lld,\"bytes\":%lld}]",
                                (long long)j->rows_accepted, (long long)j->output_bytes);
        snprintf(j->outputs, sizeof(j->outputs), "%.*s", err ? 2 : (int)ob.len,
                 err ? "[]" : (const char *)ob.ptr);
        sl_buf_release(&ob);
    } else {
        unlink(out);
    }
    if (j->rows_rejected > 0 && !rejects_done) {
        char rprefix[300];
        snprintf(rprefix, sizeof(rprefix), "%s/_rejects", prefix);
        snprintf(key, sizeof(key), "%.*s%s/" REJ_NAME, lp, layout, rprefix);
        if (fsync_path(rej) || (err = publish(api, rej, key, &se))) {
            set_error(j, "failed", "sink_failed", se.hint[0] ? se.hint : "check the sink",
                      "publishing the dead letters %s: %s", key,
                      se.message[0] ? se.message : strerror(errno));
            goto done;
        }
        srv->sink->describe(srv->sink, rprefix, where, sizeof(where));
        snprintf(j->dead_letters, sizeof(j->dead_letters), "%.900s" REJ_NAME, where);
    } else {
        unlink(rej);
    }
verdict:
    if (!j->rows_rejected)
        snprintf(j->status, sizeof(j->status), "succeeded");
    else if (j->rows_accepted)
        set_error(j, "partially_failed", "rows_rejected",
                  "the dead letters list each rejected row with its line, column and reason",
                  "%lld of %lld rows were rejected", (long long)j->rows_rejected,
                  (long long)j->rows_read);
    else
        set_error(j, "failed", "all_rows_rejected",
                  "check that the file matches the model; the dead letters give the reasons",
                  "every row (%lld) was rejected", (long long)j->rows_rejected);
done:
    sl_model_destroy(model);
    j->finished_us = sl__api_now_us();
    sl_mseries_inc(sl_mfamily_series(api->m_jobs, (const char *const[]){j->status}));
    sl_mseries_add(sl_mfamily_series(api->m_job_rows, (const char *const[]){"accepted"}),
                   (double)j->rows_accepted);
    sl_mseries_add(sl_mfamily_series(api->m_job_rows, (const char *const[]){"rejected"}),
                   (double)j->rows_rejected);
    if (j->started_us)
        sl_mseries_observe(sl_mfamily_series0(api->m_job_secs),
                           (double)(j->finished_us - j->started_us) / 1e6);
    if (sl_store_job_update(api->store, j))
        sl_log(SL_LOG_ERROR, "cannot record the job's end", SL_KS("job", j->id));
    unlink(input);
    rmdir(dir); /* empty unless something was left to look at */
    sl_log(terminal(j->status) && strcmp(j->status, "succeeded") ? SL_LOG_WARN : SL_LOG_INFO,
           "job finished", SL_KS("job", j->id), SL_KS("status", j->status),
           SL_KI("rows", j->rows_read), SL_KI("accepted", j->rows_accepted),
           SL_KI("rejected", j->rows_rejected), SL_KS("error", j->error_message));
}

typedef struct {
    sl_api *api;
    int idx;
} worker_arg;

static void *worker_run(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    sl_api *api = wa.api;
    sl_api_slot *slot = &api->slots[wa.idx];
    sl_job_rec *j = malloc(sizeof(*j));
    if (!j)
        return NULL;
    while (!atomic_load(&api->stop)) {
        pthread_mutex_lock(&api->mu);
        sl_err err = sl_store_job_claim(api->store, sl__api_now_us(), j);
        if (err) {
            if (err != SL_RETRY)
                sl_log(SL_LOG_ERROR, "cannot claim a job; retrying in 1 s");
            if (!api->wake && !atomic_load(&api->stop)) {
                struct timespec dl = sl_deadline_after(1.0);
                pthread_cond_timedwait(&api->cv, &api->mu, &dl);
            }
            api->wake = false;
            pthread_mutex_unlock(&api->mu);
            continue;
        }
        snprintf(slot->id, sizeof(slot->id), "%s", j->id);
        atomic_store(&slot->cancel, j->cancel_requested);
        pthread_mutex_unlock(&api->mu);
        sl_log(SL_LOG_INFO, "job started", SL_KS("job", j->id), SL_KS("model", j->model),
               SL_KI("attempt", j->attempts));
        run_job(api, slot, j);
        pthread_mutex_lock(&api->mu);
        slot->id[0] = 0;
        atomic_store(&slot->cancel, false);
        pthread_mutex_unlock(&api->mu);
    }
    free(j);
    return NULL;
}

/* ---- start / stop ------------------------------------------------------------------------- */

static void recover_one(void *ctx, const sl_job_rec *jr)
{
    sl_api *api = ctx;
    sl_job_rec j = *jr;
    char input[1300];
    snprintf(input, sizeof(input), "%.1000s/%s/input", api->jobs_dir, j.id);
    struct stat sb;
    if (j.attempts >= MAX_ATTEMPTS) {
        set_error(&j, "failed", "interrupted",
                  "the server stopped during this job several times; check its log, then "
                  "resubmit the file",
                  "interrupted by a crash or restart on %lld attempts", (long long)j.attempts);
        j.finished_us = sl__api_now_us();
    } else if (stat(input, &sb) || (int64_t)sb.st_size != j.bytes) {
        set_error(&j, "failed", "interrupted",
                  "resubmit the file: the server stopped during the job and its upload is gone",
                  "interrupted by a crash or restart; the uploaded file is missing");
        j.finished_us = sl__api_now_us();
    } else {
        snprintf(j.status, sizeof(j.status), "queued");
        j.started_us = 0;
        j.rows_read = j.rows_accepted = j.rows_rejected = j.output_bytes = 0;
        j.bytes_read = 0;
    }
    if (sl_store_job_update(api->store, &j))
        sl_log(SL_LOG_ERROR, "cannot update an interrupted job", SL_KS("job", j.id));
    sl_log(SL_LOG_WARN, "job was running when the server stopped",
           SL_KS("job", j.id), SL_KS("now", j.status), SL_KI("attempts", j.attempts));
}

sl_err sl__jobs_start(sl_api *api, char *msg, size_t msgn)
{
    sl_err err = sl_store_jobs_in(api->store, "running", recover_one, api);
    if (err) {
        snprintf(msg, msgn, "cannot recover jobs: %s", sl_strerror(err));
        return err;
    }
    /* directories of uploads that never became jobs (cut before the 202), and leftovers of
     * finished jobs */
    DIR *d = opendir(api->jobs_dir);
    if (d) {
        struct dirent *e;
        sl_job_rec *j = malloc(sizeof(*j));
        while (j && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char p[1400];
            snprintf(p, sizeof(p), "%.1000s/%s", api->jobs_dir, e->d_name);
            sl_err ge = job_id_ok(e->d_name) ? sl_store_job_get(api->store, e->d_name, j)
                                             : SL_RETRY;
            if (ge == SL_RETRY || (!ge && terminal(j->status))) {
                if (ge == SL_RETRY)
                    sl_log(SL_LOG_INFO, "removing an upload that was never accepted",
                           SL_KS("dir", p));
                remove_dir(p);
            }
        }
        free(j);
        closedir(d);
    }
    for (int i = 0; i < api->nworkers; i++) {
        worker_arg *wa = malloc(sizeof(*wa));
        if (!wa)
            return SL_NOMEM;
        wa->api = api;
        wa->idx = i;
        if (pthread_create(&api->workers[i], NULL, worker_run, wa)) {
            free(wa);
            snprintf(msg, msgn, "cannot start job workers");
            return SL_NOMEM;
        }
        api->started++;
    }
    return SL_OK;
}

void sl__jobs_stop(sl_api *api)
{
    pthread_mutex_lock(&api->mu);
    atomic_store(&api->stop, true);
    pthread_cond_broadcast(&api->cv);
    pthread_mutex_unlock(&api->mu);
    for (int i = 0; i < api->started; i++)
        pthread_join(api->workers[i], NULL);
    api->started = 0;
}
