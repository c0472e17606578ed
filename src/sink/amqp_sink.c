/* amqp_sink.c: RabbitMQ unit sink with publisher confirms (see amqp_sink.h).
 *
 * One connection and channel per stream (its lane thread only). Publishing numbers messages
 * 1, 2, ... on the channel (confirm mode); the broker's basic.ack/nack frames name the highest
 * tag they cover (multiple) or one tag. rows() publishes and drains confirms that already
 * arrived without blocking (so the socket never backs up); commit() blocks until the last tag
 * published is confirmed or the timeout passes. Any error closes the connection; the next
 * begin() opens a new one (the lane backs off between attempts).
 */
#define _GNU_SOURCE
#include "sink/amqp_sink.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "encode/text_out.h"
#include "util/buf.h"
#include "util/fsutil.h"

typedef struct {
    sl_unit_sink_factory base;
    sl_amqp_config c;
} amqp_factory;

typedef struct {
    sl_unit_sink base;
    amqp_factory *f;
    char *stream;
    const sl_schema *schema;
    char rkey[256];
    amqp_connection_state_t conn;
    uint64_t published, confirmed; /* delivery tags on the channel */
    bool nacked;
    bool begun;
    sl_buf msg;
} amqp_sink;

void sl_amqp_config_default(sl_amqp_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->routing_key, sizeof(c->routing_key), "{stream}");
    c->timeout = 30;
}

bool sl_amqp_config_set(sl_amqp_config *c, const char *name, const char *v, char *err,
                        size_t errn)
{
    size_t n = strlen(v);
    if (!strcmp(name, "AMQP_URL")) {
        struct amqp_connection_info ci;
        char tmp[1024];
        if (n >= sizeof(tmp)) {
            snprintf(err, errn, "too long");
            return false;
        }
        memcpy(tmp, v, n + 1);
        if (amqp_parse_url(tmp, &ci) != AMQP_STATUS_OK) {
            snprintf(err, errn, "expected amqp://user:password@host:5672/vhost");
            return false;
        }
        memcpy(c->url, v, n + 1);
        return true;
    }
    if (!strcmp(name, "SLUICE_AMQP_TIMEOUT")) {
        char *end;
        unsigned long s = strtoul(v, &end, 10);
        if (*end || end == v || !s || s > 3600) {
            snprintf(err, errn, "expected seconds 1..3600");
            return false;
        }
        c->timeout = (unsigned)s;
        return true;
    }
    char *dst = !strcmp(name, "SLUICE_AMQP_EXCHANGE")      ? c->exchange
                : !strcmp(name, "SLUICE_AMQP_ROUTING_KEY") ? c->routing_key
                                                           : NULL;
    if (!dst || n >= 128) {
        snprintf(err, errn, dst ? "at most 127 characters" : "unknown AMQP option");
        return false;
    }
    memcpy(dst, v, n + 1);
    return true;
}

static void disconnect(amqp_sink *s)
{
    if (s->conn) {
        amqp_channel_close(s->conn, 1, AMQP_REPLY_SUCCESS);
        amqp_connection_close(s->conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(s->conn);
    }
    s->conn = NULL;
    s->published = s->confirmed = 0;
    s->nacked = false;
}

static sl_err fail(amqp_sink *s, sl_sink_error *e, const char *what, const char *detail)
{
    snprintf(e->message, sizeof(e->message), "RabbitMQ, stream %.64s, %s: %.300s", s->stream,
             what, detail);
    snprintf(e->hint, sizeof(e->hint),
             "is RabbitMQ up at AMQP_URL, and may its user publish there? sluice retries with "
             "backoff; the rows wait in the WAL");
    e->retryable = true;
    disconnect(s);
    return SL_RETRY;
}

static const char *reply_text(amqp_rpc_reply_t r, char *buf, size_t n)
{
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        return amqp_error_string2(r.library_error);
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = r.reply.decoded;
        snprintf(buf, n, "server closed the connection: %u %.*s", m->reply_code,
                 (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        return buf;
    }
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = r.reply.decoded;
        snprintf(buf, n, "server closed the channel: %u %.*s", m->reply_code,
                 (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        return buf;
    }
    return r.reply_type == AMQP_RESPONSE_NORMAL ? "ok" : "unexpected reply";
}

static sl_err connect_amqp(amqp_sink *s, sl_sink_error *e)
{
    if (s->conn)
        return SL_OK;
    char url[1024], rb[300];
    snprintf(url, sizeof(url), "%s", s->f->c.url);
    struct amqp_connection_info ci;
    if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
        return fail(s, e, "parsing AMQP_URL", "invalid URL");
    s->conn = amqp_new_connection();
    if (!s->conn)
        return fail(s, e, "connecting", "out of memory");
    amqp_socket_t *sock = amqp_tcp_socket_new(s->conn);
    struct timeval tv = {(time_t)s->f->c.timeout, 0};
    int st = sock ? amqp_socket_open_noblock(sock, ci.host, ci.port, &tv) : AMQP_STATUS_NO_MEMORY;
    if (st != AMQP_STATUS_OK)
        return fail(s, e, "connecting", amqp_error_string2(st));
    amqp_rpc_reply_t r = amqp_login(s->conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                                    ci.user, ci.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        return fail(s, e, "logging in", reply_text(r, rb, sizeof(rb)));
    amqp_channel_open(s->conn, 1);
    r = amqp_get_rpc_reply(s->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        return fail(s, e, "opening a channel", reply_text(r, rb, sizeof(rb)));
    amqp_confirm_select(s->conn, 1);
    r = amqp_get_rpc_reply(s->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        return fail(s, e, "enabling publisher confirms", reply_text(r, rb, sizeof(rb)));
    if (!s->f->c.exchange[0]) {
        amqp_queue_declare(s->conn, 1, amqp_cstring_bytes(s->rkey), 0, 1, 0, 0,
                           amqp_empty_table);
        r = amqp_get_rpc_reply(s->conn);
        if (r.reply_type != AMQP_RESPONSE_NORMAL)
            return fail(s, e, "declaring the queue", reply_text(r, rb, sizeof(rb)));
    }
    s->published = s->confirmed = 0;
    return SL_OK;
}

/* Reads confirm frames; blocks up to `seconds` for each (0: only what is there). */
static sl_err drain(amqp_sink *s, double seconds, sl_sink_error *e)
{
    double deadline = sl_mono_seconds() + seconds;
    while (s->confirmed < s->published) {
        double left = deadline - sl_mono_seconds();
        if (left < 0)
            left = 0;
        struct timeval tv = {(time_t)left, (suseconds_t)((left - (double)(time_t)left) * 1e6)};
        amqp_frame_t fr;
        amqp_maybe_release_buffers(s->conn);
        int st = amqp_simple_wait_frame_noblock(s->conn, &fr, &tv);
        if (st == AMQP_STATUS_TIMEOUT) {
            if (seconds > 0)
                return fail(s, e, "waiting for publisher confirms", "timed out");
            return SL_OK;
        }
        if (st != AMQP_STATUS_OK)
            return fail(s, e, "waiting for publisher confirms", amqp_error_string2(st));
        if (fr.frame_type != AMQP_FRAME_METHOD)
            continue;
        if (fr.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = fr.payload.method.decoded;
            if (a->multiple || a->delivery_tag == s->confirmed + 1)
                s->confirmed = a->delivery_tag > s->confirmed ? a->delivery_tag : s->confirmed;
            else if (a->delivery_tag > s->confirmed)
                s->confirmed = a->delivery_tag; /* acks come in order on one channel */
        } else if (fr.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            return fail(s, e, "publishing", "the broker refused a message (basic.nack)");
        } else if (fr.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                   fr.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
            return fail(s, e, "publishing", "the broker closed the channel");
        }
    }
    return SL_OK;
}

static void amqp_abort_unit(sl_unit_sink *us)
{
    amqp_sink *s = (amqp_sink *)us;
    s->begun = false;
}

static sl_err amqp_begin(sl_unit_sink *us, const sl_unit *u, sl_sink_error *e)
{
    (void)u;
    amqp_sink *s = (amqp_sink *)us;
    sl_err err = connect_amqp(s, e);
    if (!err)
        s->begun = true;
    return err;
}

static sl_err amqp_rows(sl_unit_sink *us, const sl_batch *b, uint64_t seq, sl_sink_error *e)
{
    amqp_sink *s = (amqp_sink *)us;
    size_t rows = sl_batch_rows(b);
    for (size_t r = 0; r < rows; r++) {
        s->msg.len = 0;
        if (sl_ndjson_encode(b, r, 1, &s->msg)) {
            snprintf(e->message, sizeof(e->message), "out of memory");
            return SL_NOMEM;
        }
        if (s->msg.len && s->msg.ptr[s->msg.len - 1] == '\n')
            s->msg.len--;
        char id[160];
        snprintf(id, sizeof(id), "%s:%" PRIu64, s->stream, seq + r);
        amqp_basic_properties_t p;
        memset(&p, 0, sizeof(p));
        p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_MESSAGE_ID_FLAG;
        p.content_type = amqp_cstring_bytes("application/json");
        p.delivery_mode = 2;
        p.message_id = amqp_cstring_bytes(id);
        amqp_bytes_t body = {s->msg.len, s->msg.ptr};
        int st = amqp_basic_publish(s->conn, 1, amqp_cstring_bytes(s->f->c.exchange),
                                    amqp_cstring_bytes(s->rkey), 0, 0, &p, body);
        if (st != AMQP_STATUS_OK)
            return fail(s, e, "publishing", amqp_error_string2(st));
        s->published++;
        if ((s->published & 1023) == 0) {
            sl_err err = drain(s, 0, e);
            if (err)
                return err;
        }
    }
    return SL_OK;
}

static sl_err amqp_commit(sl_unit_sink *us, uint64_t row1, uint64_t rej1, sl_sink_error *e)
{
    (void)row1;
    (void)rej1;
    amqp_sink *s = (amqp_sink *)us;
    if (!s->begun)
        return SL_OK;
    sl_err err = drain(s, (double)s->f->c.timeout, e);
    if (!err)
        s->begun = false;
    return err;
}

static void amqp_destroy_sink(sl_unit_sink *us)
{
    amqp_sink *s = (amqp_sink *)us;
    disconnect(s);
    sl_buf_release(&s->msg);
    free(s->stream);
    free(s);
}

static sl_err amqp_create(sl_unit_sink_factory *f, const char *stream, const sl_schema *schema,
                          sl_unit_sink **out, sl_sink_error *e)
{
    amqp_sink *s = calloc(1, sizeof(*s));
    if (s)
        s->stream = strdup(stream);
    if (!s || !s->stream) {
        free(s);
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    s->base.kind = "amqp";
    s->base.begin = amqp_begin;
    s->base.rows = amqp_rows;
    s->base.rejects = NULL;
    s->base.commit = amqp_commit;
    s->base.abort = amqp_abort_unit;
    s->base.destroy = amqp_destroy_sink;
    s->f = (amqp_factory *)f;
    s->schema = schema;
    sl_buf_init(&s->msg, 0);
    const char *t = s->f->c.routing_key;
    const char *at = strstr(t, "{stream}");
    if (at)
        snprintf(s->rkey, sizeof(s->rkey), "%.*s%s%s", (int)(at - t), t, stream, at + 8);
    else
        snprintf(s->rkey, sizeof(s->rkey), "%s", t);
    *out = &s->base;
    return SL_OK;
}

static void amqp_factory_destroy(sl_unit_sink_factory *f)
{
    free(f);
}

sl_err sl_unit_amqp_factory(const sl_amqp_config *c, sl_unit_sink_factory **out,
                            sl_sink_error *e)
{
    if (!c->url[0]) {
        snprintf(e->message, sizeof(e->message), "AMQP_URL is not set");
        snprintf(e->hint, sizeof(e->hint), "set AMQP_URL=amqp://USER:PASSWORD@HOST:5672/VHOST");
        e->retryable = false;
        return SL_INVALID;
    }
    amqp_factory *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    f->base.kind = "amqp";
    f->base.create = amqp_create;
    f->base.check = NULL;
    f->base.destroy = amqp_factory_destroy;
    f->c = *c;
    *out = &f->base;
    return SL_OK;
}
