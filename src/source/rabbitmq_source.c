/* rabbitmq_source.c: RabbitMQ queue -> POST /v1/events (see rabbitmq_source.h).
 *
 * One thread, one connection, one channel. Loop: wait up to 50 ms for a message; add it to the
 * batch; when the batch holds `batch` messages (half the prefetch) or no message came within
 * the wait, post it. A 200 answer names the stream's row numbers the batch got ("seq"); the
 * batch's delivery tags then wait in `pending` (in tag order, with the row count the stream's
 * committed watermark must reach) until GET /v1/streams/{stream} says the lane committed them,
 * and are acked then (basic.ack multiple up to the last tag covered). When idle, or when the
 * broker holds back because all `prefetch` messages are unacked, the source long-polls that
 * endpoint with wait_rows, which also makes the lane flush those rows at once rather than at
 * the flush interval. Rejected messages (422) are rejected at once. Any broker error closes the
 * connection (unacked messages, pending ones included, go back to the queue) and reconnects
 * with backoff. Lock order: only s->mu (the stop flag).
 */
#define _GNU_SOURCE
#include "source/rabbitmq_source.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "util/buf.h"
#include "util/fsutil.h"
#include "util/log.h"

typedef struct {
    uint64_t tag;
    size_t off, len; /* body in the batch buffer */
} msg_ref;

typedef struct {
    uint64_t tag;  /* posted, in the WAL, not acked */
    uint64_t rows; /* acked once the stream's committed rows reach this */
} pending_ref;

struct sl_amqp_source {
    sl_amqp_source_config c;
    pthread_t th;
    pthread_mutex_t mu;
    bool stop;
    amqp_connection_state_t conn;
    CURL *h;
    sl_buf body;
    msg_ref *msgs;
    size_t nmsgs;
    size_t batch; /* messages posted at once: half the prefetch */
    pending_ref *pending; /* a ring of prefetch entries: [head, head + npending) */
    size_t head, npending;
    char stream[80];    /* the stream the posts went to (from the answers) */
    char base[256];     /* target without /v1/events: where GET /v1/streams/... goes */
    sl_buf resp;
};

static bool stopping(sl_amqp_source *s)
{
    pthread_mutex_lock(&s->mu);
    bool v = s->stop;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static void pause_for(sl_amqp_source *s, double secs)
{
    double end = sl_mono_seconds() + secs;
    while (!stopping(s) && sl_mono_seconds() < end) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void disconnect(sl_amqp_source *s)
{
    if (s->conn) {
        amqp_connection_close(s->conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(s->conn);
    }
    s->conn = NULL;
    s->body.len = 0;
    s->nmsgs = 0; /* unacked: the broker requeues them */
    s->head = s->npending = 0;
}

static bool connect_amqp(sl_amqp_source *s, char *why, size_t whyn)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s", s->c.url);
    struct amqp_connection_info ci;
    if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK) {
        snprintf(why, whyn, "invalid AMQP_URL");
        return false;
    }
    s->conn = amqp_new_connection();
    amqp_socket_t *sock = s->conn ? amqp_tcp_socket_new(s->conn) : NULL;
    struct timeval tv = {10, 0};
    int st = sock ? amqp_socket_open_noblock(sock, ci.host, ci.port, &tv) : AMQP_STATUS_NO_MEMORY;
    if (st != AMQP_STATUS_OK) {
        snprintf(why, whyn, "connecting: %s", amqp_error_string2(st));
        return false;
    }
    amqp_rpc_reply_t r = amqp_login(s->conn, ci.vhost, 0, 131072, 30, AMQP_SASL_METHOD_PLAIN,
                                    ci.user, ci.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(why, whyn, "logging in failed");
        return false;
    }
    amqp_channel_open(s->conn, 1);
    if (amqp_get_rpc_reply(s->conn).reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(why, whyn, "opening a channel failed");
        return false;
    }
    amqp_basic_qos(s->conn, 1, 0, (uint16_t)s->c.prefetch, 0);
    amqp_queue_declare(s->conn, 1, amqp_cstring_bytes(s->c.queue), 0, 1, 0, 0, amqp_empty_table);
    if (amqp_get_rpc_reply(s->conn).reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(why, whyn, "declaring queue %s failed", s->c.queue);
        return false;
    }
    amqp_basic_consume(s->conn, 1, amqp_cstring_bytes(s->c.queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    if (amqp_get_rpc_reply(s->conn).reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(why, whyn, "basic.consume on %s failed", s->c.queue);
        return false;
    }
    return true;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ctx)
{
    sl_buf *b = ctx;
    size_t n = size * nmemb;
    if (b->len < 2048 && sl_buf_append(b, p, n < 2048 ? n : 2048))
        return 0;
    return n;
}

/* POSTs p[0..n) to /v1/events, or with url GETs url; the HTTP status, 0 if no answer. The
 * answer (its first 2 KiB) is in s->resp, NUL-terminated. */
static long request(sl_amqp_source *s, const char *url, const void *p, size_t n)
{
    if (!s->h && !(s->h = curl_easy_init()))
        return 0;
    s->resp.len = 0;
    curl_easy_reset(s->h);
    curl_easy_setopt(s->h, CURLOPT_URL, url ? url : s->c.target);
    if (!url) {
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, n ? (const char *)p : "");
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    }
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    hd = curl_slist_append(hd, "Expect:");
    char auth[300];
    if (s->c.token[0]) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->c.token);
        hd = curl_slist_append(hd, auth);
    }
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hd);
    CURLcode rc = curl_easy_perform(s->h);
    curl_slist_free_all(hd);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (sl_buf_putc(&s->resp, 0))
        s->resp.len = 0;
    else
        s->resp.len--; /* the NUL stays behind the text */
    return status;
}

static long post(sl_amqp_source *s, const void *p, size_t n)
{
    return request(s, NULL, p, n);
}

/* The text of the answer (NUL-terminated), "" if none. */
static const char *answer(const sl_amqp_source *s)
{
    return s->resp.len ? (const char *)s->resp.ptr : "";
}

/* The number after `key` (e.g. "\"last\":") at or after `from` in text; false if none. */
static bool number_after(const char *text, const char *from, const char *key, uint64_t *out)
{
    const char *p = from ? strstr(text, from) : text;
    if (p)
        p = strstr(p, key);
    if (!p)
        return false;
    p += strlen(key);
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p)
        return false;
    *out = v;
    return true;
}

/* Queues a posted message (or the last of a posted batch) for the ack after the commit. The
 * rows needed: seq.last + 1 of the answer in s->resp, 0 when it got no rows ("seq":null). */
static void add_pending(sl_amqp_source *s, uint64_t tag)
{
    const char *a = answer(s);
    uint64_t last = 0, rows = 0;
    if (number_after(a, "\"seq\":{", "\"last\":", &last))
        rows = last + 1;
    else if (!strstr(a, "\"seq\":null"))
        sl_log(SL_LOG_WARN, "RabbitMQ source: the answer has no \"seq\"; acking after the WAL "
               "fsync only", SL_KS("answer", a));
    const char *st = strstr(a, "\"stream\":\"");
    if (st) {
        st += 10;
        size_t n = strcspn(st, "\"\\");
        if (n < sizeof(s->stream)) {
            memcpy(s->stream, st, n);
            s->stream[n] = 0;
        }
    }
    if (s->npending && s->pending[(s->head + s->npending - 1) % s->c.prefetch].rows > rows)
        rows = s->pending[(s->head + s->npending - 1) % s->c.prefetch].rows;
    /* the broker never has more than prefetch unacked: the ring cannot overflow */
    if (s->npending < s->c.prefetch)
        s->pending[(s->head + s->npending++) % s->c.prefetch] = (pending_ref){tag, rows};
}

/* Acks the pending messages whose rows are committed, asking the server (waiting up to
 * `wait` seconds for the last pending one); false on a broker error. */
static bool ack_committed(sl_amqp_source *s, unsigned wait)
{
    if (!s->npending)
        return true;
    uint64_t want = s->pending[(s->head + s->npending - 1) % s->c.prefetch].rows;
    uint64_t committed = 0;
    if (want && s->stream[0]) {
        char url[512];
        snprintf(url, sizeof(url), "%s/v1/streams/%s?wait_rows=%llu&timeout=%u", s->base,
                 s->stream, (unsigned long long)want, wait);
        if (request(s, url, NULL, 0) != 200 ||
            !number_after(answer(s), "\"rows\":{", "\"committed\":", &committed))
            return true; /* ask again later; the messages stay unacked */
    }
    uint64_t tag = 0;
    while (s->npending && s->pending[s->head].rows <= committed) {
        tag = s->pending[s->head].tag;
        s->head = (s->head + 1) % s->c.prefetch;
        s->npending--;
    }
    return !tag || amqp_basic_ack(s->conn, 1, tag, 1) == AMQP_STATUS_OK;
}

/* Delivers the batch; true if every message was acked or rejected (batch empty afterwards). */
static bool deliver(sl_amqp_source *s)
{
    if (!s->nmsgs)
        return true;
    long st = post(s, s->body.ptr, s->body.len);
    if (st == 200) {
        add_pending(s, s->msgs[s->nmsgs - 1].tag);
    } else if (st == 422) {
        /* one by one: which message is bad? */
        for (size_t i = 0; i < s->nmsgs; i++) {
            msg_ref *m = &s->msgs[i];
            long one = post(s, s->body.ptr + m->off, m->len);
            if (one == 200) {
                add_pending(s, m->tag);
            } else if (one == 422) {
                sl_log(SL_LOG_WARN, "RabbitMQ message rejected (not requeued)",
                       SL_KS("queue", s->c.queue), SL_KS("answer", answer(s)));
                amqp_basic_reject(s->conn, 1, m->tag, 0);
            } else {
                return false; /* the rest stays unacked; the connection is dropped */
            }
        }
    } else {
        return false;
    }
    s->body.len = 0;
    s->nmsgs = 0;
    return true;
}

static void *source_main(void *arg)
{
    sl_amqp_source *s = arg;
    unsigned failures = 0;
    bool logged = false;
    while (!stopping(s)) {
        char why[300] = "";
        if (!s->conn && !connect_amqp(s, why, sizeof(why))) {
            if (!logged)
                sl_log(SL_LOG_WARN, "RabbitMQ source cannot consume; retrying",
                       SL_KS("queue", s->c.queue), SL_KS("error", why));
            logged = true;
            disconnect(s);
            failures++;
            pause_for(s, 0.1 * (double)(1u << (failures < 6 ? failures : 6)));
            continue;
        }
        if (logged)
            sl_log(SL_LOG_INFO, "RabbitMQ source consuming", SL_KS("queue", s->c.queue));
        logged = false;
        failures = 0;
        amqp_envelope_t env;
        amqp_maybe_release_buffers(s->conn);
        struct timeval tv = {0, 50 * 1000};
        amqp_rpc_reply_t r = amqp_consume_message(s->conn, &env, &tv, 0);
        bool got = r.reply_type == AMQP_RESPONSE_NORMAL;
        bool timeout = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                       r.library_error == AMQP_STATUS_TIMEOUT;
        if (!got && !timeout) {
            disconnect(s);
            continue;
        }
        if (got) {
            msg_ref *m = realloc(s->msgs, (s->nmsgs + 1) * sizeof(*m));
            if (m)
                s->msgs = m;
            size_t off = s->body.len;
            if (!m || sl_buf_append(&s->body, env.message.body.bytes, env.message.body.len) ||
                sl_buf_putc(&s->body, '\n')) {
                amqp_destroy_envelope(&env);
                disconnect(s); /* out of memory: let the broker keep them */
                pause_for(s, 1);
                continue;
            }
            s->msgs[s->nmsgs++] = (msg_ref){env.delivery_tag, off, env.message.body.len};
            amqp_destroy_envelope(&env);
        }
        bool ok = true;
        if ((timeout && s->nmsgs) || s->nmsgs >= s->batch) {
            ok = deliver(s);
            if (ok) /* without waiting: acks what is already committed */
                ok = ack_committed(s, 0);
        }
        if (ok && timeout && !s->nmsgs) /* idle, or the broker holds back: wait for the lane */
            ok = ack_committed(s, 1);
        if (!ok) {
            disconnect(s); /* redelivered later */
            pause_for(s, 0.5);
        }
    }
    if (s->conn) /* what the lanes commit in time is acked, the rest redelivered */
        ack_committed(s, 2);
    disconnect(s);
    return NULL;
}

sl_err sl_amqp_source_start(const sl_amqp_source_config *c, sl_amqp_source **out, char *msg,
                            size_t msgn)
{
    sl_amqp_source *s = calloc(1, sizeof(*s));
    if (!s)
        return SL_NOMEM;
    s->c = *c;
    if (!s->c.prefetch || s->c.prefetch > 65535)
        s->c.prefetch = 500;
    s->batch = s->c.prefetch > 1 ? s->c.prefetch / 2 : 1;
    s->pending = calloc(s->c.prefetch, sizeof(*s->pending));
    const char *v1 = strstr(s->c.target, "/v1/");
    size_t bl = v1 ? (size_t)(v1 - s->c.target) : strlen(s->c.target);
    if (!s->pending || bl >= sizeof(s->base)) {
        free(s->pending);
        free(s);
        snprintf(msg, msgn, "out of memory");
        return SL_NOMEM;
    }
    memcpy(s->base, s->c.target, bl);
    s->base[bl] = 0;
    if (!s->c.url[0]) {
        snprintf(msg, msgn, "the RabbitMQ source needs AMQP_URL");
        free(s->pending);
        free(s);
        return SL_INVALID;
    }
    sl_buf_init(&s->body, 0);
    sl_buf_init(&s->resp, 0);
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->th, NULL, source_main, s)) {
        pthread_mutex_destroy(&s->mu);
        free(s->pending);
        free(s);
        snprintf(msg, msgn, "cannot start the RabbitMQ source thread");
        return SL_NOMEM;
    }
    *out = s;
    return SL_OK;
}

void sl_amqp_source_stop(sl_amqp_source *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    if (s->h)
        curl_easy_cleanup(s->h);
    sl_buf_release(&s->body);
    sl_buf_release(&s->resp);
    free(s->msgs);
    free(s->pending);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
