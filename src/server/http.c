/* http.c: the HTTP front of `sluice serve` on libmicrohttpd (one thread per connection).
 *
 * An ingest request goes through the access handler three ways:
 *   1. headers complete (first call): route, method, auth, framing checks that libmicrohttpd
 *      0.9.75 does not do (duplicate Content-Length, Content-Length with Transfer-Encoding, any
 *      Transfer-Encoding but "chunked": 400 + Connection: close), Content-Type (415),
 *      Content-Encoding (415), Content-Length over the limit (413), no length (411), overload
 *      (429 + Retry-After). Errors here are answered at once; libmicrohttpd then closes instead
 *      of reading the body.
 *   2. body data: decoded (gzip/zstd) into a buffer, cut at record boundaries every chunk_bytes,
 *      each piece parsed (body_parse.h) and appended to the WAL as a DATA record. Blocking here
 *      (waiting for WAL space or for the encoders to catch up) stops reading the socket, which
 *      is how a running upload is slowed. A failure in the middle is remembered and the rest of
 *      the body is read and dropped (libmicrohttpd cannot answer before the body is read),
 *      up to max_body_bytes more, after which the connection is closed.
 *   3. end of body: the last piece, then the COMMIT record; the txn goes to its stream's lane
 *      (which may encode it now but lets nothing of it out before it is durable), then
 *      sl_wal_sync (group commit); only then 200 with the counts. Strict mode with a bad row: 422 and no COMMIT, so
 *      nothing of the request is ever delivered.
 * Requests that end early (client gone) are cleaned up in the completion callback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parse/csv.h"
#include "server/api.h"
#include "server/body_parse.h"
#include "server/event_api.h"
#include "server/server.h"
#include "util/fsutil.h"
#include "util/log.h"

#define MAX_RECORD ((size_t)16 << 20)
/* Per-connection memory of libmicrohttpd beyond the headers: about half of it becomes the read
 * buffer, so this sets how much one recv() takes. 64 KiB meant ~48 KiB reads: 10.6k recv +
 * 10.7k select calls for a 517 MB upload. The pages are touched only as far as used; headers
 * stay limited by our own check (431), not by this size. */
#define READ_AREA ((size_t)512 << 10)
#define DRAIN_LIMIT ((uint64_t)4 << 20) /* body read and dropped before an early 429 */

enum { R_NONE, R_INGEST, R_METRICS, R_HEALTHZ, R_READYZ, R_ROOT, R_STREAMS, R_NOTFOUND,
       R_EVENTS, R_API, R_STREAM };
static const char *const route_names[] = {"none",   "ingest",  "metrics",   "healthz",
                                          "readyz", "root",    "streams",   "not_found",
                                          "events", "api",     "stream"};

typedef struct http_state {
    struct MHD_Daemon *d;
} http_state;

typedef struct req {
    sl_server *srv;
    int route;
    double t0;
    bool answered; /* a response was queued */
    char stream[72];
    char model[72];
    sl_format fmt;
    bool strict;
    bool unknown_reject;
    int enc; /* 0 identity, 1 gzip, 2 zstd */
    z_stream zs;
    bool zs_init;
    ZSTD_DStream *zd;
    bool dec_done;
    uint64_t raw_bytes, body_bytes;
    sl_buf buf; /* decoded, not yet cut */
    uint64_t lines_before;
    bool header_done;
    bool at_start;
    uint8_t *hdr;
    size_t hdr_len;
    sl_stream *st;
    sl_bodyp *bp;
    sl_txn *t;
    size_t pieces_cap;
    sl_batch *batch;   /* scratch for one piece when not cached */
    sl_batch **pb;     /* cached: one batch per piece parsed (from the stream's pool) */
    size_t npb, pbcap;
    bool cached;
    sl_buf rejects;
    sl_body_result res;
    sl_row_report *reports;
    bool inflight;
    size_t inflight_slot;
    /* failure to answer at the end */
    int fail_status;
    bool strict_failed;
    char code[40];
    char msg[512];
    char hint[256];
    uint64_t discarded;
    uint64_t discard_limit; /* 0: max_body_bytes */
    sl_mseries *m_latency;
    sl_api_req *api; /* /v1/models, /v1/jobs (api.h) */
    sl_events *ev; /* POST /v1/events: validates and normalizes the body (event_api.h) */
} req;

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- responses ---------------------------------------------------------------------------- */

static void count_request(req *r, unsigned status)
{
    sl_server *srv = r->srv;
    char code[8];
    snprintf(code, sizeof(code), "%u", status);
    const char *lv[2] = {route_names[r->route], code};
    sl_mseries_inc(sl_mfamily_series(srv->m_requests, lv));
    const char *rv[1] = {route_names[r->route]};
    sl_mseries_observe(sl_mfamily_series(srv->m_latency, rv), sl_mono_seconds() - r->t0);
}

static enum MHD_Result send_body(req *r, struct MHD_Connection *c, unsigned status,
                                 const char *ctype, sl_buf *body, bool close_conn,
                                 unsigned retry_after, bool www_auth)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(body->len, body->ptr, MHD_RESPMEM_MUST_COPY);
    sl_buf_release(body);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (close_conn)
        MHD_add_response_header(resp, "Connection", "close");
    if (retry_after) {
        char v[16];
        snprintf(v, sizeof(v), "%u", retry_after);
        MHD_add_response_header(resp, "Retry-After", v);
    }
    if (www_auth)
        MHD_add_response_header(resp, "WWW-Authenticate",
                                "Bearer realm=\"sluice\", error=\"invalid_token\"");
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    count_request(r, status);
    return rc;
}

/* {"error":{"code":..,"message":..,"hint":..}} */
static enum MHD_Result send_error(req *r, struct MHD_Connection *c, unsigned status,
                                  const char *code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static enum MHD_Result send_error(req *r, struct MHD_Connection *c, unsigned status,
                                  const char *code, const char *hint, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_buf b;
    sl_buf_init(&b, 0);
    if (sl_http_error_json(&b, code, msg, hint) != SL_OK) {
        /* out of memory: the answer carries whatever fitted (its status says enough) */
    }
    bool close_conn = status == 400 || status == 411 || status == 413 || status == 414 ||
                      status == 431;
    unsigned retry = status == 429 || status == 503 ? r->srv->cfg.retry_after : 0;
    if (status >= 500 || status == 429)
        sl_log(SL_LOG_WARN, "request failed", SL_KU("status", status), SL_KS("code", code),
               SL_KS("message", msg), SL_KS("stream", r->stream[0] ? r->stream : NULL));
    else
        sl_log(SL_LOG_DEBUG, "request rejected", SL_KU("status", status), SL_KS("code", code),
               SL_KS("message", msg));
    return send_body(r, c, status, "application/json", &b, close_conn, retry, status == 401);
}

/* A failure in the middle of a body: remembered, answered at the end. */
static void fail(req *r, int status, const char *code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail(req *r, int status, const char *code, const char *hint, const char *fmt, ...)
{
    if (r->fail_status)
        return;
    r->fail_status = status;
    snprintf(r->code, sizeof(r->code), "%s", code);
    snprintf(r->hint, sizeof(r->hint), "%s", hint ? hint : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
    va_end(ap);
}

/* {"code":..,"message":..[,"hint":..]}: the object of an error answer, and of a warning. */
static sl_err put_problem(sl_buf *b, const char *code, const char *message, const char *hint)
{
    sl_err err = sl_buf_puts(b, "{\"code\":");
    if (!err)
        err = sl_buf_json_str(b, code, strlen(code));
    if (!err)
        err = sl_buf_puts(b, ",\"message\":");
    if (!err)
        err = sl_buf_json_str(b, message, strlen(message));
    if (!err && hint && hint[0]) {
        err = sl_buf_puts(b, ",\"hint\":");
        if (!err)
            err = sl_buf_json_str(b, hint, strlen(hint));
    }
    if (!err)
        err = sl_buf_putc(b, '}');
    return err;
}

sl_err sl_http_error_json(sl_buf *b, const char *code, const char *message, const char *hint)
{
    sl_err err = sl_buf_puts(b, "{\"error\":");
    if (!err)
        err = put_problem(b, code, message, hint);
    if (!err)
        err = sl_buf_puts(b, "}\n");
    return err;
}

sl_err sl_http_report_tail(sl_buf *b, uint32_t column, const char *field, const char *code,
                           const char *message)
{
    sl_err err = column ? sl_buf_printf(b, "\"column\":%u", column) : sl_buf_puts(b, "\"column\":null");
    if (!err)
        err = sl_buf_puts(b, ",\"field\":");
    if (!err)
        err = field[0] ? sl_buf_json_str(b, field, strlen(field)) : sl_buf_puts(b, "null");
    if (!err)
        err = sl_buf_puts(b, ",\"code\":");
    if (!err)
        err = sl_buf_json_str(b, code, strlen(code));
    if (!err)
        err = sl_buf_puts(b, ",\"message\":");
    if (!err)
        err = sl_buf_json_str(b, message, strlen(message));
    if (!err)
        err = sl_buf_putc(b, '}');
    return err;
}

static sl_err put_reports(sl_buf *b, const req *r)
{
    sl_err err = sl_buf_puts(b, "\"errors\":[");
    for (size_t i = 0; !err && i < r->res.nreports; i++) {
        const sl_row_report *e = &r->res.reports[i];
        err = sl_buf_printf(b, "%s{\"line\":%llu,", i ? "," : "", (unsigned long long)e->line);
        if (!err)
            err = sl_http_report_tail(b, e->column, e->field, e->code, e->message);
    }
    if (!err)
        err = sl_buf_printf(b, "],\"errors_truncated\":%s",
                            r->res.rows_rejected > r->res.nreports ? "true" : "false");
    return err;
}

sl_err sl_http_sink_warning(sl_buf *b, sl_server *srv, const char *before, const char *after)
{
    char why[600], msg[400], hint[256];
    if (sl_server_sinks_healthy(srv, why, sizeof(why)))
        return SL_OK;
    const char *code = sl_server_sink_error(why, msg, sizeof(msg), hint, sizeof(hint));
    sl_err err = sl_buf_printf(b, "%s\"warning\":", before);
    if (!err)
        err = put_problem(b, code, msg, hint);
    if (!err)
        err = sl_buf_puts(b, after);
    return err;
}

/* ---- request state ------------------------------------------------------------------------ */

/* Gives the cached pieces' batches back to the stream's pool. */
static void release_pieces(req *r)
{
    for (size_t i = 0; i < r->npb; i++)
        sl_stream_batch_give(r->st, r->pb[i]);
    r->npb = 0;
}

static void req_free(req *r)
{
    if (!r)
        return;
    sl_server *srv = r->srv;
    if (r->zs_init)
        inflateEnd(&r->zs);
    ZSTD_freeDStream(r->zd);
    sl_buf_release(&r->buf);
    free(r->hdr);
    if (r->st)
        sl_stream_bodyp_give(r->st, r->fmt, r->unknown_reject, r->bp);
    else
        sl_bodyp_destroy(r->bp);
    sl_txn_free(srv, r->t);
    release_pieces(r);
    free(r->pb);
    if (r->st)
        sl_stream_batch_give(r->st, r->batch);
    else
        sl_batch_destroy(r->batch);
    sl_buf_release(&r->rejects);
    free(r->reports);
    sl_api_free(r->api);
    sl_events_destroy(r->ev);
    if (r->inflight) {
        sl_server_inflight_del(srv, r->inflight_slot);
        sl_streams_release_wal(srv); /* its DATA records may go now */
    }
    atomic_fetch_sub(&srv->active_requests, 1);
    free(r);
}

static bool ct_equal(const char *given, size_t glen, const char *tok)
{
    size_t tlen = strlen(tok);
    unsigned d = glen != tlen;
    for (size_t i = 0; i < tlen; i++)
        d |= (unsigned)(uint8_t)(i < glen ? given[i] : 0) ^ (uint8_t)tok[i];
    return d == 0;
}

static bool authorized(sl_server *srv, struct MHD_Connection *c)
{
    if (!srv->cfg.tokens)
        return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7))
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ')
        n--;
    bool ok = false;
    for (char **t = srv->cfg.tokens; *t; t++)
        ok |= ct_equal(h, n, *t); /* no early exit: time does not depend on which matched */
    return ok;
}

typedef struct {
    unsigned content_length;
    unsigned transfer_encoding;
    uint64_t bytes;
} hdr_count;

static enum MHD_Result count_headers(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    hdr_count *hc = cls;
    if (!strcasecmp(key, "Content-Length"))
        hc->content_length++;
    if (!strcasecmp(key, "Transfer-Encoding"))
        hc->transfer_encoding++;
    hc->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static bool parse_content_type(const char *v, sl_format *fmt, char *why, size_t whyn)
{
    if (!v) {
        snprintf(why, whyn, "no Content-Type");
        return false;
    }
    while (*v == ' ')
        v++;
    size_t n = strcspn(v, ";");
    while (n && v[n - 1] == ' ')
        n--;
    static const struct {
        const char *name;
        sl_format fmt;
    } types[] = {{"text/csv", SL_FMT_CSV},
                 {"application/csv", SL_FMT_CSV},
                 {"application/x-ndjson", SL_FMT_JSONL},
                 {"application/ndjson", SL_FMT_JSONL},
                 {"application/jsonl", SL_FMT_JSONL},
                 {"application/x-jsonlines", SL_FMT_JSONL},
                 {"application/jsonlines", SL_FMT_JSONL}};
    bool found = false;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strlen(types[i].name) == n && !strncasecmp(v, types[i].name, n)) {
            *fmt = types[i].fmt;
            found = true;
        }
    if (!found) {
        snprintf(why, whyn, "Content-Type '%.*s' is not supported", (int)(n < 80 ? n : 80), v);
        return false;
    }
    const char *cs = strcasestr(v + n, "charset=");
    if (cs) {
        cs += 8;
        if (*cs == '"')
            cs++;
        if (strncasecmp(cs, "utf-8", 5) && strncasecmp(cs, "utf8", 4) &&
            strncasecmp(cs, "us-ascii", 8)) {
            snprintf(why, whyn, "charset %.20s is not supported (only UTF-8)", cs);
            return false;
        }
    }
    return true;
}

static bool name_ok(const char *s)
{
    return s && sl_stream_name_valid(s, strlen(s));
}

/* ---- ingest: schema, pieces, WAL ----------------------------------------------------------- */

static sl_err load_model(sl_server *srv, const char *name, sl_schema **out, char *msg,
                         size_t msgn)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s.json", srv->cfg.models_dir, name);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_read_file(path, &b, (size_t)4 << 20);
    if (err == SL_RETRY) {
        sl_buf_release(&b);
        snprintf(msg, msgn, "model '%s' not found (looked for %.300s)", name, path);
        return SL_RETRY;
    }
    sl_model *m = NULL;
    char emsg[256] = "";
    if (!err)
        err = sl_model_from_json((const char *)b.ptr, b.len, &m, emsg, sizeof(emsg));
    sl_buf_release(&b);
    if (err) {
        snprintf(msg, msgn, "model '%s' (%.200s) is invalid: %.200s", name, path,
                 emsg[0] ? emsg : sl_strerror(err));
        return SL_FORMAT;
    }
    *out = m->schema;
    m->schema = NULL;
    sl_model_destroy(m);
    return SL_OK;
}

/* Settles the stream (and its schema) with the first piece as a sample. */
static bool resolve_stream(req *r, const uint8_t *sample, size_t n)
{
    sl_server *srv = r->srv;
    char msg[512] = "";
    sl_stream *st = sl_stream_find(srv, r->stream);
    if (st) {
        const char *m = sl_stream_model(st);
        if (r->model[0] && (!m || strcmp(m, r->model))) {
            fail(r, 409, "stream_model_conflict",
                 "post to a new stream for another model, or leave model= out",
                 "stream '%s' uses %s%s%s, not model '%s'", r->stream, m ? "model '" : "",
                 m ? m : "an inferred schema", m ? "'" : "", r->model);
            return false;
        }
    } else {
        sl_schema *schema = NULL;
        sl_err err;
        if (r->ev) {
            if (sl_event_schema(&schema)) {
                fail(r, 500, "out_of_memory", NULL, "out of memory");
                return false;
            }
        } else if (r->model[0]) {
            err = load_model(srv, r->model, &schema, msg, sizeof(msg));
            if (err) {
                fail(r, err == SL_RETRY ? 404 : 422,
                     err == SL_RETRY ? "model_not_found" : "model_invalid",
                     "put the model's schema JSON in the models directory", "%s", msg);
                return false;
            }
        } else {
            err = sl_bodyp_infer(r->fmt, r->hdr, r->hdr_len, sample, n, 10000, &schema, msg,
                                 sizeof(msg));
            if (err) {
                fail(r, err == SL_NOMEM ? 500 : 400, "schema_inference_failed",
                     "send a header row (CSV) or JSON objects, or give model=NAME", "%s", msg);
                return false;
            }
        }
        err = sl_stream_get_or_create(srv, r->stream, schema, r->model[0] ? r->model : NULL, &st,
                                      msg, sizeof(msg));
        if (err) {
            fail(r, err == SL_FULL ? 429 : err == SL_INVALID ? 422 : 500, "stream_create_failed",
                 err == SL_INVALID ? "fix the model, or use another stream name" : NULL, "%s", msg);
            return false;
        }
    }
    if (r->ev && !sl_event_schema_ok(sl_stream_schema(st))) {
        fail(r, 409, "stream_schema_conflict",
             "set SLUICE_EVENTS_STREAM to a stream used only by POST /v1/events",
             "stream '%s' exists with a schema other than the events schema", r->stream);
        return false;
    }
    r->st = st;
    if (sl_stream_bodyp_take(st, r->fmt, r->unknown_reject, &r->bp) ||
        sl_stream_batch_take(st, &r->batch)) {
        fail(r, 500, "out_of_memory", NULL, "out of memory");
        return false;
    }
    /* a reused parser may come from a dlq events request: set it either way */
    sl_bodyp_event_rejects(r->bp, (r->t->flags & SL_TXNF_EVENT_REJECTS) != 0);
    if (r->fmt == SL_FMT_CSV) {
        sl_err err = sl_bodyp_set_header(r->bp, r->hdr, r->hdr_len, msg, sizeof(msg));
        if (err) {
            fail(r, err == SL_NOMEM ? 500 : 422, "csv_header",
                 "the header names the columns; its names must match the stream's schema", "%s",
                 msg);
            return false;
        }
    }
    return true;
}

static bool txn_grow(req *r)
{
    sl_txn *t = r->t;
    if (t->ndata < r->pieces_cap)
        return true;
    size_t cap = r->pieces_cap ? 2 * r->pieces_cap : 4;
    sl_wal_loc *l = realloc(t->locs, cap * sizeof(*l));
    if (!l)
        return false;
    t->locs = l;
    uint64_t *s = realloc(t->lsns, cap * sizeof(*s));
    if (!s)
        return false;
    t->lsns = s;
    uint32_t *a = realloc(t->piece_rows, cap * sizeof(*a));
    if (!a)
        return false;
    t->piece_rows = a;
    uint32_t *b = realloc(t->piece_rejs, cap * sizeof(*b));
    if (!b)
        return false;
    t->piece_rejs = b;
    uint64_t *c = realloc(t->piece_rej_bytes, cap * sizeof(*c));
    if (!c)
        return false;
    t->piece_rej_bytes = c;
    r->pieces_cap = cap;
    return true;
}

/* Waits (not reading the socket meanwhile) while the encoders are behind. */
static bool wait_for_queue(req *r)
{
    sl_server *srv = r->srv;
    double start = sl_mono_seconds();
    bool counted = false;
    while (sl_streams_queued_rows(srv) > srv->cfg.queue_capacity) {
        if (!counted) {
            const char *lv[1] = {"queue_slowed"};
            sl_mseries_inc(sl_mfamily_series(srv->m_throttled, lv));
            counted = true;
        }
        if (sl_mono_seconds() - start > srv->cfg.upload_stall_timeout) {
            fail(r, 503, "queue_full", "retry later; the encoders are behind",
                 "the ingest queue stayed over QUEUE_CAPACITY (%llu rows) for %.0f s",
                 (unsigned long long)srv->cfg.queue_capacity, srv->cfg.upload_stall_timeout);
            return false;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

/* Appends a record, waiting for WAL space up to the stall timeout. */
static sl_err wal_append_wait(req *r, uint8_t type, const struct iovec *iov, int n,
                              uint64_t *lsn, sl_wal_loc *loc)
{
    sl_server *srv = r->srv;
    double start = sl_mono_seconds();
    for (;;) {
        sl_err err = sl_wal_append(srv->wal, type, iov, n, lsn, loc);
        if (err != SL_FULL)
            return err;
        if (sl_mono_seconds() - start > srv->cfg.upload_stall_timeout)
            return SL_FULL;
        const char *lv[1] = {"wal_full_slowed"};
        sl_mseries_inc(sl_mfamily_series(srv->m_throttled, lv));
        struct timespec until = sl_deadline_after(0.05);
        pthread_mutex_lock(&srv->mu);
        pthread_cond_timedwait(&srv->space_cv, &srv->mu, &until);
        pthread_mutex_unlock(&srv->mu);
    }
}

static void wal_error(req *r, sl_err err)
{
    if (err == SL_FULL)
        fail(r, 503, "wal_full", "retry later; sluice is delivering what it holds",
             "the WAL stayed over its size limit for %.0f s", r->srv->cfg.upload_stall_timeout);
    else if (err == SL_NOSPACE)
        fail(r, 507, "disk_full", "free space on the data directory's disk",
             "no space left for the WAL; nothing of this request was acknowledged");
    else if (err == SL_IO)
        sl_server_fatal(r->srv, "WAL write", err);
    else
        fail(r, 500, "wal_error", NULL, "WAL append failed: %s", sl_strerror(err));
}

/* Parses one record-aligned piece and logs it. */
static void do_piece(req *r, uint8_t *p, size_t n, size_t cap, uint64_t first_line)
{
    sl_server *srv = r->srv;
    if (r->fail_status)
        return;
    uint64_t ok0 = r->res.rows_ok, rej0 = r->res.rows_rejected;
    size_t rb0 = r->rejects.len;
    /* cached: each piece gets its own batch (reused from the stream's pool), handed to the lane
     * with the request; otherwise one scratch batch serves every piece */
    sl_batch *into = r->batch;
    if (r->cached) {
        if (r->npb == r->pbcap) {
            size_t pbcap = r->pbcap ? 2 * r->pbcap : 8;
            sl_batch **pb = realloc(r->pb, pbcap * sizeof(*pb));
            if (!pb) {
                fail(r, 500, "out_of_memory", NULL, "out of memory");
                return;
            }
            r->pb = pb;
            r->pbcap = pbcap;
        }
        if (sl_stream_batch_take(r->st, &into)) {
            fail(r, 500, "out_of_memory", NULL, "out of memory");
            return;
        }
        r->pb[r->npb++] = into;
    } else {
        sl_batch_clear(into);
    }
    bool keep_rejects = r->cached && !r->strict;
    sl_err err = sl_bodyp_parse_inplace(r->bp, p, n, cap, first_line, into,
                                        keep_rejects ? &r->rejects : NULL, &r->res);
    if (err) {
        fail(r, 500, "parse_failed", NULL, "parsing failed: %s", sl_strerror(err));
        return;
    }
    uint64_t rows = r->res.rows_ok - ok0, rejs = r->res.rows_rejected - rej0;
    if (r->strict && r->res.rows_rejected) {
        r->strict_failed = true;
        return; /* no more logging: the request will not be committed */
    }
    if (r->strict_failed)
        return;
    if (!wait_for_queue(r))
        return;
    /* the cache: parsed rows stay in memory for the lane while the budget allows */
    if (r->cached) {
        uint64_t charge = 2 * (uint64_t)n + (r->rejects.len - rb0);
        if (r->t->cache_charge + charge > ((uint64_t)64 << 20) ||
            !sl_server_cache_take(srv, charge)) {
            r->cached = false;
            sl_server_cache_give(srv, r->t->cache_charge);
            r->t->cache_charge = 0;
            release_pieces(r);
            r->rejects.len = 0;
        } else {
            r->t->cache_charge += charge;
        }
    }
    if (!txn_grow(r)) {
        fail(r, 500, "out_of_memory", NULL, "out of memory");
        return;
    }
    if (!r->inflight) {
        sl_wal_stats ws;
        sl_wal_stats_get(srv->wal, &ws);
        if (sl_server_inflight_add(srv, ws.next_lsn, &r->inflight_slot)) {
            fail(r, 500, "out_of_memory", NULL, "out of memory");
            return;
        }
        r->inflight = true;
    }
    uint8_t h[SL_DATA_HDR];
    sl_txn *t = r->t;
    sl_put_u64(h, t->txn);
    sl_store_le32(h + 8, (uint32_t)t->ndata);
    h[12] = (uint8_t)r->fmt;
    h[13] = t->flags;
    sl_put_u16(h + 14, (uint16_t)r->hdr_len);
    sl_put_u64(h + 16, first_line);
    struct iovec iov[3] = {{h, sizeof(h)}, {r->hdr, r->hdr_len}, {(void *)p, n}};
    uint64_t lsn;
    sl_wal_loc loc;
    err = wal_append_wait(r, SL_REC_DATA, iov, 3, &lsn, &loc);
    if (err) {
        wal_error(r, err);
        return;
    }
    if (t->ndata == 0)
        t->first_data_lsn = lsn;
    t->locs[t->ndata] = loc;
    t->lsns[t->ndata] = lsn;
    t->piece_rows[t->ndata] = (uint32_t)rows;
    t->piece_rejs[t->ndata] = (uint32_t)rejs;
    t->piece_rej_bytes[t->ndata] = r->cached ? r->rejects.len - rb0 : 0;
    t->ndata++;
}

/* Newlines in p[0..n): 16 bytes per step (JSON lines are short: memchr per line was 2% of a
 * JSONL ingest, a byte loop, which -O2 does not vectorize, 8%). Byte lanes count matches down
 * from 0 (cmpeq gives -1) for up to 255 steps, then one SAD sums them: no popcount, which
 * without -mpopcnt is a libgcc call (2% of a JSONL ingest). */
static uint64_t count_nl(const uint8_t *p, size_t n)
{
    uint64_t c = 0;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (i + 16 <= n) {
        size_t steps = (n - i) / 16;
        if (steps > 255)
            steps = 255;
        __m128i acc = zero;
        for (size_t k = 0; k < steps; k++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
        }
        __m128i sums = _mm_sad_epu8(acc, zero);
        c += (uint64_t)_mm_cvtsi128_si64(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
    }
#endif
    for (; i < n; i++)
        c += p[i] == '\n';
    return c;
}

/* Cuts whole records off the buffer and processes them; with eof everything left. */
static void cut_pieces(req *r, bool eof)
{
    sl_server *srv = r->srv;
    for (;;) {
        if (r->fail_status)
            return;
        uint8_t *b = r->buf.ptr;
        size_t len = r->buf.len;
        if (r->at_start) {
            if (len < 3 && !eof)
                return;
            size_t bom = sl_csv_bom_len(b, len);
            if (bom) {
                memmove(b, b + bom, len - bom);
                r->buf.len -= bom;
                len -= bom;
            }
            r->at_start = false;
        }
        if (r->fmt == SL_FMT_CSV && !r->header_done) {
            size_t next = 0;
            size_t hl = sl_csv_first_record(b, len, &next);
            if (hl == SIZE_MAX) {
                if (!eof) {
                    if (len > MAX_RECORD)
                        fail(r, 413, "header_too_long", NULL,
                             "the CSV header record is longer than 16 MiB");
                    return;
                }
                hl = len;
                next = len;
                if (hl && b[hl - 1] == '\r')
                    hl--;
            }
            r->hdr = malloc(hl ? hl : 1);
            if (!r->hdr) {
                fail(r, 500, "out_of_memory", NULL, "out of memory");
                return;
            }
            memcpy(r->hdr, b, hl);
            r->hdr_len = hl;
            r->header_done = true;
            r->lines_before = count_nl(b, next);
            memmove(b, b + next, len - next);
            r->buf.len -= next;
            continue;
        }
        if (len == 0)
            return;
        if (!eof && len < srv->cfg.chunk_bytes)
            return;
        size_t cut;
        uint64_t nl = 0;
        if (eof) {
            cut = len;
            nl = count_nl(b, len);
        } else if (r->fmt == SL_FMT_CSV) {
            sl_csv_opts co;
            sl_csv_opts_default(&co);
            cut = sl_csv_split(&co, b, len, &nl);
        } else {
            const uint8_t *q = memrchr(b, '\n', len);
            cut = q ? (size_t)(q - b) + 1 : 0;
            nl = count_nl(b, cut);
        }
        if (cut == 0) {
            if (len > MAX_RECORD + srv->cfg.chunk_bytes)
                fail(r, 413, "record_too_long", "split the record, or check the line endings",
                     "a record is longer than 16 MiB (near line %llu)",
                     (unsigned long long)r->lines_before + 1);
            return;
        }
        if (!r->st && !resolve_stream(r, b, cut))
            return;
        do_piece(r, b, cut, r->buf.alloc, r->lines_before + 1);
        r->lines_before += nl;
        memmove(b, b + cut, len - cut);
        r->buf.len -= cut;
        if (eof && r->buf.len == 0)
            return;
    }
}

/* Decoded body bytes in. */
static void feed_decoded(req *r, const uint8_t *p, size_t n)
{
    sl_server *srv = r->srv;
    r->body_bytes += n;
    if (r->body_bytes > srv->cfg.max_body_bytes) {
        fail(r, 413, "body_too_large", "split the upload into smaller requests",
             "the body is larger than the limit of %llu bytes (decoded)",
             (unsigned long long)srv->cfg.max_body_bytes);
        return;
    }
    while (n && !r->fail_status) {
        size_t room = srv->cfg.chunk_bytes + 65536;
        size_t take = n;
        if (r->buf.len < room && take > room - r->buf.len)
            take = room - r->buf.len;
        if (r->buf.len >= room)
            take = n < 65536 ? n : 65536; /* a record longer than a chunk */
        /* room for the piece and the parser's padding (parsed in place); a big body gets the
         * whole room at once instead of growing by copying */
        size_t want = r->buf.len + take + SL_BODYP_PAD;
        if (want > r->buf.alloc && want < room + SL_BODYP_PAD && r->body_bytes >= 65536)
            want = room + SL_BODYP_PAD;
        if (want > r->buf.alloc && sl_buf_reserve(&r->buf, want - r->buf.len)) {
            fail(r, 500, "out_of_memory", NULL, "out of memory");
            return;
        }
        if (r->ev ? sl_events_feed(r->ev, p, take, &r->buf) : sl_buf_append(&r->buf, p, take)) {
            fail(r, 500, "out_of_memory", NULL, "out of memory");
            return;
        }
        p += take;
        n -= take;
        cut_pieces(r, false);
    }
}

static void feed_raw(req *r, const uint8_t *p, size_t n)
{
    r->raw_bytes += n;
    if (r->enc == 0) {
        feed_decoded(r, p, n);
        return;
    }
    uint8_t out[65536];
    if (r->enc == 1) {
        r->zs.next_in = (Bytef *)p;
        r->zs.avail_in = (uInt)n;
        while (r->zs.avail_in && !r->fail_status) {
            if (r->dec_done) { /* concatenated gzip members */
                inflateReset(&r->zs);
                r->dec_done = false;
            }
            r->zs.next_out = out;
            r->zs.avail_out = sizeof(out);
            int rc = inflate(&r->zs, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
                fail(r, 400, "bad_gzip", "check Content-Encoding: the body must be gzip",
                     "gzip body is corrupt: %s", r->zs.msg ? r->zs.msg : "inflate failed");
                return;
            }
            feed_decoded(r, out, sizeof(out) - r->zs.avail_out);
            if (rc == Z_STREAM_END)
                r->dec_done = true;
            else if (rc == Z_BUF_ERROR)
                break;
        }
    } else {
        ZSTD_inBuffer in = {p, n, 0};
        while (in.pos < in.size && !r->fail_status) {
            ZSTD_outBuffer ob = {out, sizeof(out), 0};
            size_t rc = ZSTD_decompressStream(r->zd, &ob, &in);
            if (ZSTD_isError(rc)) {
                fail(r, 400, "bad_zstd", "check Content-Encoding: the body must be zstd",
                     "zstd body is corrupt: %s", ZSTD_getErrorName(rc));
                return;
            }
            feed_decoded(r, out, ob.pos);
            r->dec_done = rc == 0; /* 0: a frame just ended (more frames may follow) */
        }
    }
}

static void finish_decoding(req *r)
{
    if (r->enc == 0 || r->fail_status)
        return;
    if (r->enc == 1) {
        uint8_t out[65536];
        for (;;) {
            r->zs.next_in = NULL;
            r->zs.avail_in = 0;
            r->zs.next_out = out;
            r->zs.avail_out = sizeof(out);
            int rc = inflate(&r->zs, Z_FINISH);
            feed_decoded(r, out, sizeof(out) - r->zs.avail_out);
            if (rc == Z_STREAM_END) {
                r->dec_done = true;
                break;
            }
            if (rc != Z_OK || r->fail_status)
                break;
        }
    } else if (r->raw_bytes && !r->dec_done) {
        /* input all given: drain what the decoder still holds */
        uint8_t out[65536];
        for (int i = 0; i < 100000 && !r->fail_status; i++) {
            ZSTD_inBuffer in = {NULL, 0, 0};
            ZSTD_outBuffer ob = {out, sizeof(out), 0};
            size_t rc = ZSTD_decompressStream(r->zd, &ob, &in);
            if (ZSTD_isError(rc))
                break;
            feed_decoded(r, out, ob.pos);
            if (rc == 0)
                r->dec_done = true;
            if (rc == 0 || ob.pos == 0)
                break;
        }
    }
    if (r->raw_bytes && !r->dec_done)
        fail(r, 400, r->enc == 1 ? "bad_gzip" : "bad_zstd", "the upload may have been cut off",
             "the compressed body ends in the middle of a stream");
}

/* "seq":{"first":F,"last":L} (the stream's row numbers the request got, inclusive; null when it
 * got none) and "rejects_seq" likewise: a client compares them with the committed positions of
 * GET /v1/streams/{stream} to learn when its rows are in the sink. */
static sl_err put_seq(sl_buf *b, const uint64_t seq[4])
{
    sl_err err = SL_OK;
    const char *name[2] = {"seq", "rejects_seq"};
    for (int i = 0; !err && i < 2; i++) {
        uint64_t first = seq[2 * i], n = seq[2 * i + 1];
        if (n)
            err = sl_buf_printf(b, "\"%s\":{\"first\":%llu,\"last\":%llu},", name[i],
                                (unsigned long long)first, (unsigned long long)(first + n - 1));
        else
            err = sl_buf_printf(b, "\"%s\":null,", name[i]);
    }
    return err;
}

static enum MHD_Result finish_ingest(req *r, struct MHD_Connection *c)
{
    sl_server *srv = r->srv;
    finish_decoding(r);
    if (r->ev && !r->fail_status && sl_events_finish(r->ev, &r->buf))
        fail(r, 500, "out_of_memory", NULL, "out of memory");
    if (r->ev && !r->fail_status && r->strict && sl_events_bad(r->ev)) {
        sl_buf b;
        sl_buf_init(&b, 0);
        if (sl_event_rejected_body(r->ev, r->stream, &b)) {
            sl_buf_release(&b);
            return send_error(r, c, 500, "out_of_memory", NULL, "out of memory");
        }
        return send_body(r, c, 422, "application/json", &b, false, 0, false);
    }
    if (!r->fail_status)
        cut_pieces(r, true);
    if (r->fail_status)
        return send_error(r, c, (unsigned)r->fail_status, r->code, r->hint, "%s", r->msg);
    const char *sv[1] = {r->stream};
    if (r->strict_failed) {
        sl_buf b;
        sl_buf_init(&b, 0);
        sl_err err = sl_buf_printf(
            &b,
            "{\"error\":{\"code\":\"rows_rejected\",\"message\":\"%llu of %llu rows rejected; "
            "nothing was ingested (mode=strict)\",\"hint\":\"fix the rows listed in errors, or "
            "use mode=dlq to ingest the good rows and send the bad ones to dead letters\"},"
            "\"stream\":",
            (unsigned long long)r->res.rows_rejected,
            (unsigned long long)(r->res.rows_rejected + r->res.rows_ok));
        if (!err)
            err = sl_buf_json_str(&b, r->stream, strlen(r->stream));
        if (!err)
            err = sl_buf_printf(&b, ",\"rows_accepted\":0,\"rows_rejected\":%llu,",
                                (unsigned long long)r->res.rows_rejected);
        if (!err)
            err = put_reports(&b, r);
        if (!err)
            err = sl_buf_puts(&b, "}\n");
        return send_body(r, c, 422, "application/json", &b, false, 0, false);
    }
    sl_txn *t = r->t;
    t->nrows = r->res.rows_ok;
    t->nrejects = r->strict ? 0 : r->res.rows_rejected;
    uint64_t seq[4] = {0, 0, 0, 0}; /* first row, rows, first reject, rejects: for the answer */
    if (t->ndata && (t->nrows || t->nrejects)) {
        sl_err err = sl_stream_commit(r->st, t);
        for (int tries = 0; err == SL_FULL && tries < 200; tries++) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            err = sl_stream_commit(r->st, t);
        }
        if (err) {
            wal_error(r, err);
            return send_error(r, c, (unsigned)r->fail_status, r->code, r->hint, "%s", r->msg);
        }
        /* hand it to the lane now: it encodes while the fsync below runs, and waits for that
         * fsync before anything of the txn leaves the server (stream.c wait_durable) */
        uint64_t commit_lsn = t->commit_lsn;
        if (r->cached && r->npb == t->ndata) {
            t->batches = r->pb; /* npb == ndata: one batch per logged piece */
            t->pool_owner = r->st;
            r->pb = NULL;
            r->npb = r->pbcap = 0;
            t->rejects = r->rejects;
            sl_buf_init(&r->rejects, 0);
        } else {
            free(t->piece_rows);
            free(t->piece_rejs);
            free(t->piece_rej_bytes);
            t->piece_rows = t->piece_rejs = NULL;
            t->piece_rej_bytes = NULL;
        }
        seq[0] = t->first_row;
        seq[1] = t->nrows;
        seq[2] = t->first_reject;
        seq[3] = t->nrejects;
        r->t = NULL;
        sl_stream_push(r->st, t); /* t is the lane's now */
        err = sl_wal_sync(srv->wal, commit_lsn);
        if (err)
            sl_server_fatal(srv, "WAL fsync", err);
        if (r->inflight) {
            sl_server_inflight_del(srv, r->inflight_slot);
            r->inflight = false;
        }
    }
    sl_mseries_add(sl_mfamily_series(srv->m_rows, sv), (double)r->res.rows_ok);
    sl_mseries_add(sl_mfamily_series(srv->m_bytes, sv), (double)r->body_bytes);
    sl_mseries_observe(sl_mfamily_series0(srv->m_body_size), (double)r->body_bytes);
    if (r->res.rows_rejected) {
        const char *lv[2] = {r->stream, "any"};
        sl_mseries_add(sl_mfamily_series(srv->m_rejected, lv), (double)r->res.rows_rejected);
    }
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_buf_puts(&b, "{\"stream\":");
    if (!err)
        err = sl_buf_json_str(&b, r->stream, strlen(r->stream));
    if (!err)
        err = sl_buf_printf(&b,
                            ",\"rows_accepted\":%llu,\"rows_rejected\":%llu,\"bytes\":%llu,"
                            "\"durable\":true,",
                            (unsigned long long)r->res.rows_ok,
                            (unsigned long long)r->res.rows_rejected,
                            (unsigned long long)r->body_bytes);
    if (!err && r->res.rows_rejected) {
        char where[1400];
        srv->sink->describe(srv->sink, r->stream, where, sizeof(where) - 16);
        strcat(where, "_rejects/");
        err = sl_buf_puts(&b, "\"dead_letters\":");
        if (!err)
            err = sl_buf_json_str(&b, where, strlen(where));
        if (!err)
            err = sl_buf_puts(&b, ",");
    }
    if (!err) /* durable, not yet delivered: say why */
        err = sl_http_sink_warning(&b, srv, "", ",");
    if (!err)
        err = put_seq(&b, seq);
    if (!err && r->ev)
        err = sl_buf_printf(&b, "\"events_accepted\":%llu,\"events_rejected\":%llu,",
                            (unsigned long long)r->res.rows_ok,
                            (unsigned long long)sl_events_bad(r->ev));
    if (!err)
        err = r->ev ? sl_event_errors_json(r->ev, &b) : put_reports(&b, r);
    if (!err)
        err = sl_buf_puts(&b, "}\n");
    return send_body(r, c, 200, "application/json", &b, false, 0, false);
}

/* ---- other routes ------------------------------------------------------------------------- */

static enum MHD_Result send_metrics(req *r, struct MHD_Connection *c)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    if (sl_metrics_render(r->srv->metrics, &b)) {
        sl_buf_release(&b);
        return send_error(r, c, 500, "metrics_failed", NULL, "cannot render metrics");
    }
    return send_body(r, c, 200, "text/plain; version=0.0.4; charset=utf-8", &b, false, 0, false);
}

static enum MHD_Result send_ready(req *r, struct MHD_Connection *c)
{
    sl_server *srv = r->srv;
    char why[320] = "";
    bool ready = true;
    sl_wal_stats ws;
    sl_wal_stats_get(srv->wal, &ws);
    if (ws.broken) {
        ready = false;
        snprintf(why, sizeof(why), "the WAL failed");
    } else if (atomic_load(&srv->stopping)) {
        ready = false;
        snprintf(why, sizeof(why), "shutting down");
    } else if (!sl_server_sinks_healthy(srv, why, sizeof(why))) {
        ready = false; /* before "recovering": a sink that is down is why recovery waits */
    } else if (atomic_load(&srv->recovering)) {
        ready = false;
        snprintf(why, sizeof(why), "recovering: %llu requests from the WAL still to deliver",
                 (unsigned long long)sl_streams_backlog(srv));
    } else if (srv->cfg.wal_max_bytes && ws.bytes >= srv->cfg.wal_max_bytes) {
        ready = false;
        snprintf(why, sizeof(why), "the WAL is full (%llu bytes)", (unsigned long long)ws.bytes);
    }
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_buf_printf(&b, "{\"ready\":%s,\"reason\":", ready ? "true" : "false");
    if (!err)
        err = ready ? sl_buf_puts(&b, "null") : sl_buf_json_str(&b, why, strlen(why));
    if (!err)
        err = sl_buf_printf(&b, ",\"wal_bytes\":%llu,\"queued_rows\":%llu}\n",
                            (unsigned long long)ws.bytes,
                            (unsigned long long)sl_streams_queued_rows(srv));
    return send_body(r, c, ready ? 200 : 503, "application/json", &b, false, 0, false);
}

/* {"name":..,"model":.. of a stream's description (GET /v1/streams, GET /v1/streams/{name}) */
static sl_err put_stream_head(sl_buf *b, const sl_stream *st)
{
    const char *name = sl_stream_name(st), *model = sl_stream_model(st);
    sl_err err = sl_buf_puts(b, "{\"name\":");
    if (!err)
        err = sl_buf_json_str(b, name, strlen(name));
    if (!err)
        err = sl_buf_puts(b, ",\"model\":");
    if (!err)
        err = model ? sl_buf_json_str(b, model, strlen(model)) : sl_buf_puts(b, "null");
    return err;
}

static enum MHD_Result send_streams(req *r, struct MHD_Connection *c)
{
    sl_server *srv = r->srv;
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_buf_puts(&b, "{\"streams\":[");
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; !err && i < srv->nstreams; i++) {
        sl_stream *st = srv->streams[i];
        char *schema = NULL;
        err = sl_schema_to_json(sl_stream_schema(st), &schema);
        if (!err && i)
            err = sl_buf_putc(&b, ',');
        if (!err)
            err = put_stream_head(&b, st);
        if (!err)
            err = sl_buf_printf(&b, ",\"schema\":%s}", schema);
        free(schema);
    }
    pthread_mutex_unlock(&srv->mu);
    if (!err)
        err = sl_buf_puts(&b, "]}\n");
    if (err) {
        sl_buf_release(&b);
        return send_error(r, c, 500, "out_of_memory", NULL, "out of memory");
    }
    return send_body(r, c, 200, "application/json", &b, false, 0, false);
}

/* A query argument as an unsigned number; false (with *bad set) when present but not one. */
static bool query_u64(struct MHD_Connection *c, const char *name, uint64_t *out, bool *bad)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!v)
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-') {
        *bad = true;
        return false;
    }
    *out = x;
    return true;
}

/* GET /v1/streams/{stream}[?wait_rows=N&wait_rejects=M&timeout=S]: the stream's definition and
 * where it is (rows/rejects acknowledged: next, and committed by the sink). With wait_*, the
 * answer waits (at most timeout seconds, default 10, at most 60) until rows [0, N) and rejects
 * [0, M) are committed, asking the lane to flush them now; "wait_satisfied" says whether they
 * are. A client that got "seq":{"last":L} for a request waits with wait_rows=L+1. */
static enum MHD_Result send_stream(req *r, struct MHD_Connection *c)
{
    sl_stream *st = sl_stream_find(r->srv, r->stream);
    if (!st)
        return send_error(r, c, 404, "stream_not_found", "see GET /v1/streams for the streams",
                          "no stream named '%.80s'", r->stream);
    uint64_t rows = 0, rejects = 0, timeout = 10;
    bool bad = false;
    bool wait = query_u64(c, "wait_rows", &rows, &bad);
    wait |= query_u64(c, "wait_rejects", &rejects, &bad);
    query_u64(c, "timeout", &timeout, &bad);
    if (bad)
        return send_error(r, c, 400, "bad_parameter",
                          "wait_rows, wait_rejects and timeout (seconds) are whole numbers",
                          "a query parameter is not a whole number");
    if (timeout > 60)
        timeout = 60;
    sl_stream_pos pos;
    bool ok = true;
    if (wait)
        ok = sl_stream_wait_committed(st, rows, rejects, (double)timeout, &pos);
    else
        sl_stream_progress(st, &pos);
    char *schema = NULL;
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_schema_to_json(sl_stream_schema(st), &schema);
    if (!err)
        err = put_stream_head(&b, st);
    /* the positions before the schema: a client reading a capped prefix still gets them */
    if (!err)
        err = sl_buf_printf(&b,
                            ",\"rows\":{\"next\":%llu,\"committed\":%llu},"
                            "\"rejects\":{\"next\":%llu,\"committed\":%llu}",
                            (unsigned long long)pos.next_row,
                            (unsigned long long)pos.committed_row,
                            (unsigned long long)pos.next_reject,
                            (unsigned long long)pos.committed_reject);
    if (!err && wait)
        err = sl_buf_printf(&b, ",\"wait_satisfied\":%s", ok ? "true" : "false");
    if (!err)
        err = sl_buf_printf(&b, ",\"schema\":%s}\n", schema);
    free(schema);
    if (err) {
        sl_buf_release(&b);
        return send_error(r, c, 500, "out_of_memory", NULL, "out of memory");
    }
    return send_body(r, c, 200, "application/json", &b, false, 0, false);
}

static enum MHD_Result send_root(req *r, struct MHD_Connection *c)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_buf_printf(
        &b,
        "{\"service\":\"sluice\",\"version\":\"%s\",\"build\":\"%s\",\"endpoints\":["
        "\"POST /ingest\",\"POST /v1/streams/{stream}/ingest\",\"POST /v1/events\",\"GET /v1/streams\","
        "\"GET /v1/streams/{stream}\",\"GET /metrics\",\"GET /healthz\",\"GET /readyz\"]}\n",
        sl_version(), sl_build_id());
    if (err) {
        sl_buf_release(&b);
        return MHD_NO;
    }
    return send_body(r, c, 200, "application/json", &b, false, 0, false);
}

/* ---- the access handler ------------------------------------------------------------------- */

static int route_of(const char *url, char *stream, size_t n)
{
    if (sl_api_route(url))
        return R_API;
    if (!strcmp(url, "/ingest")) {
        snprintf(stream, n, "default");
        return R_INGEST;
    }
    if (!strncmp(url, "/v1/streams/", 12)) {
        const char *s = url + 12;
        const char *slash = strchr(s, '/');
        if (slash && !strcmp(slash, "/ingest") && (size_t)(slash - s) < n) {
            memcpy(stream, s, (size_t)(slash - s));
            stream[slash - s] = 0;
            return R_INGEST;
        }
        if (!slash && *s && strlen(s) < n) {
            snprintf(stream, n, "%s", s);
            return R_STREAM;
        }
        return R_NOTFOUND;
    }
    if (!strcmp(url, "/v1/streams"))
        return R_STREAMS;
    if (!strcmp(url, "/v1/events"))
        return R_EVENTS;
    if (!strcmp(url, "/metrics"))
        return R_METRICS;
    if (!strcmp(url, "/healthz"))
        return R_HEALTHZ;
    if (!strcmp(url, "/readyz"))
        return R_READYZ;
    if (!strcmp(url, "/"))
        return R_ROOT;
    return R_NOTFOUND;
}

static enum MHD_Result first_call(req *r, struct MHD_Connection *c, const char *url,
                                  const char *method)
{
    sl_server *srv = r->srv;
    r->route = route_of(url, r->stream, sizeof(r->stream));
    if (r->route == R_EVENTS)
        snprintf(r->stream, sizeof(r->stream), "%s", srv->cfg.events_stream);
    hdr_count qc = {0, 0, strlen(url)}; /* the path, then the query arguments */
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, count_headers, &qc);
    if (qc.bytes > srv->cfg.max_header_bytes)
        return send_error(r, c, 414, "uri_too_long", "use shorter names and parameters",
                          "the request URL is about %llu bytes, over the limit of %llu",
                          (unsigned long long)qc.bytes,
                          (unsigned long long)srv->cfg.max_header_bytes);
    hdr_count hc = {0, 0, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_headers, &hc);
    if (hc.bytes > srv->cfg.max_header_bytes)
        return send_error(r, c, 431, "headers_too_large", "send fewer or shorter headers",
                          "request headers total %llu bytes, over the limit of %llu",
                          (unsigned long long)hc.bytes,
                          (unsigned long long)srv->cfg.max_header_bytes);
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    if (hc.content_length > 1)
        return send_error(r, c, 400, "bad_framing", NULL, "more than one Content-Length header");
    if (hc.transfer_encoding > 1 || (te && strcasecmp(te, "chunked")))
        return send_error(r, c, 400, "bad_framing", "use Transfer-Encoding: chunked, or none",
                          "Transfer-Encoding '%s' is not supported", te ? te : "");
    if (te && hc.content_length)
        return send_error(r, c, 400, "bad_framing", NULL,
                          "both Content-Length and Transfer-Encoding: the length is ambiguous");
    bool open = (r->route == R_HEALTHZ || r->route == R_READYZ) ? srv->cfg.open_health
                : r->route == R_METRICS                         ? srv->cfg.open_metrics
                                                                : false;
    if (!open && !authorized(srv, c))
        return send_error(r, c, 401, "unauthorized",
                          "send Authorization: Bearer TOKEN with a token from SLUICE_AUTH_TOKENS",
                          "missing or invalid bearer token");
    if (r->route == R_API)
        return sl_api_begin(srv, c, url, method, &r->api);
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    switch (r->route) {
    case R_NOTFOUND:
        return send_error(r, c, 404, "not_found", "see GET / for the endpoints",
                          "no such endpoint: %.200s", url);
    case R_METRICS:
    case R_HEALTHZ:
    case R_READYZ:
    case R_ROOT:
    case R_STREAMS:
    case R_STREAM:
        if (!get)
            return send_error(r, c, 405, "method_not_allowed", "use GET", "%s %s is not allowed",
                              method, url);
        if (r->route == R_METRICS)
            return send_metrics(r, c);
        if (r->route == R_READYZ)
            return send_ready(r, c);
        if (r->route == R_STREAMS)
            return send_streams(r, c);
        if (r->route == R_STREAM)
            return send_stream(r, c);
        if (r->route == R_ROOT)
            return send_root(r, c);
        {
            sl_buf b;
            sl_buf_init(&b, 0);
            if (sl_buf_puts(&b, "{\"status\":\"ok\"}\n"))
                return MHD_NO;
            return send_body(r, c, 200, "application/json", &b, false, 0, false);
        }
    default:
        break;
    }
    /* ingest */
    if (strcmp(method, "POST"))
        return send_error(r, c, 405, "method_not_allowed", "use POST", "%s %s is not allowed",
                          method, url);
    if (!name_ok(r->stream))
        return send_error(r, c, 400, "bad_stream_name",
                          "use 1-64 characters from A-Z a-z 0-9 _ - . (not starting with . _ -)",
                          "invalid stream name '%.80s'", r->stream);
    char why[160];
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (r->route == R_EVENTS) {
        r->fmt = SL_FMT_JSONL; /* the normalized events (event_api.h) */
        if (!sl_event_content_type_ok(ctype, why, sizeof(why)))
            return send_error(r, c, 415, "unsupported_media_type",
                              "use Content-Type: application/json or application/x-ndjson", "%s",
                              why);
    } else if (!parse_content_type(ctype, &r->fmt, why, sizeof(why)))
        return send_error(r, c, 415, "unsupported_media_type",
                          "use Content-Type: text/csv or application/x-ndjson", "%s", why);
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    if (ce && *ce && strcasecmp(ce, "identity")) {
        if (!strcasecmp(ce, "gzip") || !strcasecmp(ce, "x-gzip"))
            r->enc = 1;
        else if (!strcasecmp(ce, "zstd"))
            r->enc = 2;
        else
            return send_error(r, c, 415, "unsupported_encoding", "use gzip, zstd or none",
                              "Content-Encoding '%.40s' is not supported", ce);
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (!cl && !te)
        return send_error(r, c, 411, "length_required",
                          "send Content-Length or Transfer-Encoding: chunked",
                          "the request has no body length");
    unsigned long long clen = 0;
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        clen = v;
        if (errno || end == cl || *end || cl[0] == '-')
            return send_error(r, c, 400, "bad_framing", NULL, "invalid Content-Length");
        if (r->enc == 0 && v > srv->cfg.max_body_bytes)
            return send_error(r, c, 413, "body_too_large", "split the upload into smaller requests",
                              "Content-Length %llu is over the limit of %llu bytes", v,
                              (unsigned long long)srv->cfg.max_body_bytes);
        if (srv->cfg.wal_max_bytes && v > srv->cfg.wal_max_bytes)
            return send_error(r, c, 413, "body_too_large",
                              "split the upload, or raise SLUICE_WAL_MAX_BYTES",
                              "Content-Length %llu is larger than the whole WAL (%llu bytes)", v,
                              (unsigned long long)srv->cfg.wal_max_bytes);
    }
    const char *mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
    r->strict = srv->cfg.default_strict;
    if (mode) {
        if (!strcmp(mode, "strict"))
            r->strict = true;
        else if (!strcmp(mode, "dlq"))
            r->strict = false;
        else
            return send_error(r, c, 400, "bad_mode", "use mode=strict or mode=dlq",
                              "unknown mode '%.40s'", mode);
    }
    const char *unknown = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "unknown");
    if (unknown) {
        if (!strcmp(unknown, "reject"))
            r->unknown_reject = true;
        else if (strcmp(unknown, "ignore"))
            return send_error(r, c, 400, "bad_unknown", "use unknown=ignore or unknown=reject",
                              "unknown policy '%.40s'", unknown);
    }
    const char *model = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "model");
    if (model) {
        if (!name_ok(model))
            return send_error(r, c, 400, "bad_model_name", NULL, "invalid model name '%.80s'",
                              model);
        snprintf(r->model, sizeof(r->model), "%s", model);
    }
    /* overload: refuse new work before reading it */
    sl_wal_stats ws;
    sl_wal_stats_get(srv->wal, &ws);
    const char *over = NULL;
    if (ws.broken)
        return send_error(r, c, 503, "wal_failed", "restart sluice; see its log",
                          "the WAL failed; no more data is accepted");
    if (atomic_load(&srv->stopping))
        return send_error(r, c, 503, "shutting_down", "retry against another instance or later",
                          "sluice is shutting down");
    if (sl_streams_queued_rows(srv) >= srv->cfg.queue_capacity)
        over = "queue";
    else if (srv->cfg.wal_max_bytes &&
             (ws.bytes + (clen ? clen : srv->cfg.chunk_bytes) > srv->cfg.wal_max_bytes ||
              ws.bytes >= srv->cfg.wal_max_bytes / 10 * 9))
        over = "wal"; /* the request would not fit now: refuse before reading it */
    if (over) {
        const char *lv[1] = {over};
        sl_mseries_inc(sl_mfamily_series(srv->m_throttled, lv));
        const char *hint = "retry after the number of seconds in Retry-After";
        const char *reason = !strcmp(over, "queue")
                              ? "the ingest queue is full (QUEUE_CAPACITY rows waiting)"
                              : "the WAL is full (waiting for sinks to catch up)";
        /* Behind because a sink is down: say which and what to do (the failing lane's reason
         * and hint, e.g. code kafka_unavailable, hint "check KAFKA_BROKERS=..."). */
        const char *code = "overloaded";
        char sink_why[600], sink_msg[400], sink_hint[256], h[200];
        if (!sl_server_sinks_healthy(srv, sink_why, sizeof(sink_why))) {
            code = sl_server_sink_error(sink_why, sink_msg, sizeof(sink_msg), h, sizeof(h));
            if (h[0]) {
                snprintf(sink_hint, sizeof(sink_hint), "%.190s; %s", h, hint);
                hint = sink_hint;
            }
            reason = sink_msg;
        }
        /* A client that sent its body without waiting (no Expect: 100-continue) would see a
         * connection reset if we answered and closed now: read and drop a small body first,
         * then answer. Large bodies are answered at once. */
        if (clen && clen <= DRAIN_LIMIT &&
            !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT)) {
            fail(r, 429, code, hint, "%s", reason);
            r->discard_limit = DRAIN_LIMIT;
            return MHD_YES;
        }
        return send_error(r, c, 429, code, hint, "%s", reason);
    }
    if (r->enc == 1) {
        memset(&r->zs, 0, sizeof(r->zs));
        if (inflateInit2(&r->zs, 15 + 16) != Z_OK)
            return send_error(r, c, 500, "out_of_memory", NULL, "out of memory");
        r->zs_init = true;
    } else if (r->enc == 2) {
        r->zd = ZSTD_createDStream();
        if (!r->zd || ZSTD_isError(ZSTD_initDStream(r->zd)))
            return send_error(r, c, 500, "out_of_memory", NULL, "out of memory");
    }
    r->t = calloc(1, sizeof(*r->t));
    r->reports = calloc(srv->cfg.max_errors ? srv->cfg.max_errors : 1, sizeof(*r->reports));
    if (!r->t || !r->reports)
        return send_error(r, c, 500, "out_of_memory", NULL, "out of memory");
    sl_buf_init(&r->t->rejects, 0);
    r->t->txn = atomic_fetch_add(&srv->next_txn, 1);
    r->t->format = (uint8_t)r->fmt;
    r->t->flags = r->unknown_reject ? SL_TXNF_UNKNOWN_REJECT : 0;
    r->t->received_us = wall_us();
    r->res.cap = srv->cfg.max_errors;
    r->res.reports = r->reports;
    r->cached = true;
    r->at_start = true;
    if (r->route == R_EVENTS) { /* known keys only, model fixed; all or nothing by default */
        if (r->model[0])
            return send_error(r, c, 400, "bad_parameter", "events have a fixed schema",
                              "model= does not apply to /v1/events");
        /* strict unless the request asks for dlq: the server's SLUICE_MODE is for ingest */
        bool dlq = mode && !strcmp(mode, "dlq");
        r->strict = !dlq;
        r->unknown_reject = true;
        r->t->flags = SL_TXNF_UNKNOWN_REJECT | (dlq ? SL_TXNF_EVENT_REJECTS : 0);
        sl_events_opts eo = {srv->cfg.events_generate_ids, r->t->received_us,
                             srv->cfg.max_errors, 0, dlq};
        if (sl_events_create(&eo, &r->ev))
            return send_error(r, c, 500, "out_of_memory", NULL, "out of memory");
    }
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)version;
    sl_server *srv = cls;
    req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->srv = srv;
        r->t0 = sl_mono_seconds();
        sl_buf_init(&r->buf, 0);
        sl_buf_init(&r->rejects, 0);
        atomic_fetch_add(&srv->active_requests, 1);
        *con_cls = r;
        return first_call(r, c, url, method);
    }
    if (r->route == R_API)
        return sl_api_next(r->api, c, upload_data, upload_data_size);
    if (r->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->fail_status) { /* drop the rest of a failed body, within reason */
            r->discarded += n;
            return r->discarded > (r->discard_limit ? r->discard_limit : srv->cfg.max_body_bytes)
                       ? MHD_NO
                       : MHD_YES;
        }
        feed_raw(r, (const uint8_t *)upload_data, n);
        return MHD_YES;
    }
    return finish_ingest(r, c);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    req *r = *con_cls;
    if (!r)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && (r->route == R_INGEST || r->route == R_EVENTS) &&
        !r->answered)
        sl_log(SL_LOG_INFO, "request ended before its answer; nothing of it was acknowledged",
               SL_KS("stream", r->stream), SL_KU("bytes", r->body_bytes),
               SL_KI("reason", (int)toe));
    req_free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    sl_log(SL_LOG_DEBUG, "libmicrohttpd", SL_KS("detail", msg));
}

sl_err sl_http_start(sl_server *srv, char *msg, size_t msgn)
{
    http_state *hs = calloc(1, sizeof(*hs));
    if (!hs)
        return SL_NOMEM;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)srv->cfg.listen_port);
    if (inet_pton(AF_INET, srv->cfg.listen_host, &sa.sin_addr) != 1) {
        snprintf(msg, msgn, "invalid listen address '%s' (IPv4 address expected)",
                 srv->cfg.listen_host);
        free(hs);
        return SL_INVALID;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    hs->d = MHD_start_daemon(
        flags, (uint16_t)srv->cfg.listen_port, NULL, NULL, handler, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, srv->cfg.connection_timeout,
        MHD_OPTION_CONNECTION_LIMIT, srv->cfg.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        srv->cfg.per_ip_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(srv->cfg.max_header_bytes * 2 + READ_AREA), MHD_OPTION_NOTIFY_COMPLETED, completed,
        srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (!hs->d) {
        snprintf(msg, msgn, "cannot listen on %s:%u (%s)", srv->cfg.listen_host,
                 srv->cfg.listen_port, strerror(errno));
        free(hs);
        return SL_IO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(hs->d, MHD_DAEMON_INFO_BIND_PORT);
    if (di && di->port)
        srv->cfg.listen_port = di->port;
    srv->http = hs;
    return SL_OK;
}

void sl_http_quiesce(sl_server *srv)
{
    http_state *hs = srv->http;
    if (hs && hs->d)
        MHD_quiesce_daemon(hs->d);
}

void sl_http_stop(sl_server *srv)
{
    http_state *hs = srv->http;
    if (!hs)
        return;
    /* let requests in flight finish (bounded), then stop the daemon */
    for (int i = 0; i < 600 && atomic_load(&srv->active_requests) > 0; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (hs->d)
        MHD_stop_daemon(hs->d);
    free(hs);
    srv->http = NULL;
}
