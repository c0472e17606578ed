/* api.c: routing, JSON answers and lifecycle of the models and jobs API (see api.h).
 *
 *   GET/POST  /v1/models            list / create (a new version when the schema changed)
 *   GET/DELETE /v1/models/{name}    show (?version=N) / delete (409 while jobs are active)
 *   GET/POST  /v1/jobs              list (?model= &status= &limit= &cursor=) / upload a file
 *   GET/DELETE /v1/jobs/{id}        show / cancel
 * Errors: {"error":{"code","message","hint"}} like the rest of the server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/api_internal.h"
#include "util/fsutil.h"
#include "util/log.h"

int64_t sl__api_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

sl_err sl__api_put_time(sl_buf *b, int64_t us)
{
    if (!us)
        return sl_buf_puts(b, "null");
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    return sl_buf_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         (int)(us % 1000000 / 1000));
}

enum MHD_Result sl__api_send(struct MHD_Connection *c, unsigned status, sl_buf *body,
                             const char *location)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(body->len, body->ptr, MHD_RESPMEM_MUST_COPY);
    sl_buf_release(body);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (location)
        MHD_add_response_header(resp, "Location", location);
    if (status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate",
                                "Bearer realm=\"sluice\", error=\"invalid_token\"");
    if (status == 413 || status == 400)
        MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result verror(struct MHD_Connection *c, unsigned status, const char *code,
                              const char *hint, const char *msg)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_http_error_json(&b, code, msg, hint);
    if (err) {
        sl_buf_release(&b);
        return MHD_NO;
    }
    sl_log(status >= 500 ? SL_LOG_WARN : SL_LOG_DEBUG, "api request failed",
           SL_KU("status", status), SL_KS("code", code), SL_KS("message", msg));
    return sl__api_send(c, status, &b, NULL);
}

enum MHD_Result sl__api_error(struct MHD_Connection *c, unsigned status, const char *code,
                              const char *hint, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return verror(c, status, code, hint, msg);
}

void sl__api_fail(sl_api_req *a, unsigned status, const char *code, const char *hint,
                  const char *fmt, ...)
{
    if (a->fail_status)
        return;
    a->fail_status = status;
    snprintf(a->code, sizeof(a->code), "%s", code);
    snprintf(a->hint, sizeof(a->hint), "%s", hint ? hint : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
    va_end(ap);
}

bool sl_api_route(const char *url)
{
    return !strcmp(url, "/v1/models") || !strncmp(url, "/v1/models/", 11) ||
           !strcmp(url, "/v1/jobs") || !strncmp(url, "/v1/jobs/", 9);
}

enum MHD_Result sl_api_begin(sl_server *srv, struct MHD_Connection *c, const char *url,
                             const char *method, sl_api_req **out)
{
    *out = NULL;
    sl_api *api = srv->api;
    if (!api)
        return sl__api_error(c, 503, "api_unavailable", "see the server log",
                             "the models and jobs API is not available");
    bool models = !strncmp(url, "/v1/models", 10);
    const char *rest = url + (models ? 10 : 8);
    bool one = *rest == '/';
    if (one)
        rest++;
    if (one && (!*rest || strchr(rest, '/') || strlen(rest) >= 72))
        return sl__api_error(c, 404, "not_found",
                             models ? "use /v1/models or /v1/models/NAME"
                                    : "use /v1/jobs or /v1/jobs/ID",
                             "no such endpoint: %.200s", url);
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int kind;
    if (models && !one)
        kind = get ? A_MODELS_LIST : !strcmp(method, "POST") ? A_MODEL_CREATE : -1;
    else if (models)
        kind = get ? A_MODEL_GET : !strcmp(method, "DELETE") ? A_MODEL_DELETE : -1;
    else if (!one)
        kind = get ? A_JOBS_LIST : !strcmp(method, "POST") ? A_JOB_CREATE : -1;
    else
        kind = get ? A_JOB_GET : !strcmp(method, "DELETE") ? A_JOB_CANCEL : -1;
    if (kind < 0)
        return sl__api_error(c, 405, "method_not_allowed",
                             one ? "use GET or DELETE" : "use GET or POST",
                             "%s %s is not allowed", method, url);
    sl_api_req *a = calloc(1, sizeof(*a));
    if (!a)
        return MHD_NO;
    a->srv = srv;
    a->api = api;
    a->kind = kind;
    snprintf(a->arg, sizeof(a->arg), "%s", one ? rest : "");
    sl_buf_init(&a->body, SL_API_SMALL_BODY);
    *out = a;
    return models ? sl__models_begin(a, c, method) : sl__jobs_begin(a, c, method);
}

enum MHD_Result sl_api_next(sl_api_req *a, struct MHD_Connection *c, const char *data,
                            size_t *size)
{
    if (!a) { /* answered at the first call: drop whatever body follows */
        *size = 0;
        return MHD_YES;
    }
    if (*size) {
        size_t n = *size;
        *size = 0;
        if (a->fail_status) {
            a->discarded += n;
            /* a failed upload is read and dropped (so the client sees the answer), within
             * reason: past 16 MiB the connection is closed */
            return a->discarded > ((uint64_t)16 << 20) ? MHD_NO : MHD_YES;
        }
        if (a->kind == A_JOB_CREATE)
            return sl__jobs_body(a, data, n);
        if (sl_buf_append(&a->body, data, n))
            sl__api_fail(a, 413, "body_too_large", "a model definition is at most 1 MiB",
                         "request body over %zu bytes", SL_API_SMALL_BODY);
        return MHD_YES;
    }
    if (a->kind == A_JOB_CREATE)
        return sl__jobs_end(a, c);
    if (a->fail_status)
        return sl__api_error(c, a->fail_status, a->code, a->hint, "%s", a->msg);
    return a->kind <= A_MODEL_DELETE ? sl__models_end(a, c) : sl__jobs_end(a, c);
}

void sl_api_free(sl_api_req *a)
{
    if (!a)
        return;
    sl__upload_free(a->up);
    sl_buf_release(&a->body);
    free(a);
}

static int env_int(const char *name, int def, int lo, int hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) {
        sl_log(SL_LOG_WARN, "ignoring an invalid setting", SL_KS("name", name), SL_KS("value", v));
        return def;
    }
    return (int)x;
}

sl_err sl_api_open(sl_server *srv, char *msg, size_t msgn)
{
    sl_api *api = calloc(1, sizeof(*api));
    if (!api)
        return SL_NOMEM;
    api->srv = srv;
    pthread_mutex_init(&api->mu, NULL);
    pthread_cond_init(&api->cv, NULL);
    pthread_mutex_init(&api->models_mu, NULL);
    snprintf(api->jobs_dir, sizeof(api->jobs_dir), "%.1000s/jobs", srv->cfg.data_dir);
    api->max_job_bytes = (uint64_t)1 << 30;
    const char *mb = getenv("SLUICE_JOB_MAX_BYTES");
    if (mb && *mb) {
        char *end;
        unsigned long long v = strtoull(mb, &end, 10);
        if (!*end && v > 0)
            api->max_job_bytes = v;
    }
    api->nworkers = env_int("SLUICE_JOB_WORKERS", 1, 1, SL_API_MAX_WORKERS);
    api->convert_threads = env_int("SLUICE_JOB_THREADS", 2, 1, 64);
    /* tests: slow jobs down so that a kill, a stop or a cancel lands in the middle of one */
    api->test_delay_ms = env_int("SLUICE_TEST_JOB_DELAY_MS", 0, 0, 10000);
    srv->api = api;
    static const double secs[] = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};
    api->m_jobs = sl_metrics_family(srv->metrics, SL_M_COUNTER, "sluice_jobs_finished_total",
                                    "Jobs that ended, by final status.", "status", NULL, 0);
    api->m_job_rows = sl_metrics_family(srv->metrics, SL_M_COUNTER, "sluice_job_rows_total",
                                        "Rows of ended jobs: accepted or rejected.", "result",
                                        NULL, 0);
    api->m_job_bytes = sl_metrics_family(srv->metrics, SL_M_COUNTER,
                                         "sluice_job_upload_bytes_total",
                                         "Bytes of files accepted as jobs.", NULL, NULL, 0);
    api->m_job_secs = sl_metrics_family(srv->metrics, SL_M_HISTOGRAM, "sluice_job_duration_seconds",
                                        "Time from a job's start to its end.", NULL, secs,
                                        sizeof(secs) / sizeof(secs[0]));
    sl_err err;
    char path[1200];
    if (sl_mkdirs(api->jobs_dir) || sl_mkdirs(srv->cfg.models_dir)) {
        snprintf(msg, msgn, "cannot create %s or %s: %s", api->jobs_dir, srv->cfg.models_dir,
                 strerror(errno));
        return SL_IO;
    }
    snprintf(path, sizeof(path), "%.1000s/meta.db", srv->cfg.data_dir);
    if ((err = sl_store_open(path, &api->store, msg, msgn)))
        return err;
    return sl__jobs_start(api, msg, msgn);
}

void sl_api_stop(sl_server *srv)
{
    sl_api *api = srv->api;
    if (api)
        sl__jobs_stop(api);
}

void sl_api_close(sl_server *srv)
{
    sl_api *api = srv->api;
    if (!api)
        return;
    sl__jobs_stop(api);
    sl_store_close(api->store);
    pthread_mutex_destroy(&api->mu);
    pthread_cond_destroy(&api->cv);
    pthread_mutex_destroy(&api->models_mu);
    free(api);
    srv->api = NULL;
}
