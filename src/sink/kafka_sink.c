/* kafka_sink.c: rows -> Kafka messages, rejected rows -> `{topic}.dlq`; see kafka_sink.h.
 *
 * Design: one librdkafka producer per factory (idempotent, acks=all) and one poll thread that
 * serves its delivery reports. Each unit sink tracks the unit in progress with a `track`: the
 * number of its messages still without a delivery report and the first failure. Every message
 * points at its track (the message's opaque), so the poll thread can count it down; commit()
 * waits until the count is 0. A track abandoned by abort() (or a new begin()) while messages
 * are in flight is freed by the delivery report that brings its count to 0.
 *
 * Topics: `topic` with {stream} replaced; at a stream's first unit the factory asks the broker
 * to create the topic and its .dlq with the configured partitions and replication (Admin API,
 * answered asynchronously on the poll thread: "already exists" is fine, and a broker that does
 * not answer CreateTopics, like librdkafka's mock cluster, falls back to broker-side
 * auto-creation on the first produce).
 *
 * Fatal errors: the idempotent producer can fail for good (rd_kafka_fatal_error: a sequence
 * desynchronization with the broker, a fenced producer, ...); every later produce fails with
 * _FATAL. The poll thread then makes a new producer from the same configuration: it purges the
 * old one's queued and in-flight messages (their failed delivery reports make the units' commits
 * fail, so the lanes replay those units from the WAL), takes rk_lock for writing, drops every
 * unit sink's topic handles (they belong to the old handle; produce makes them again), destroys
 * the old producer and creates the new one. Logged and counted
 * (sluice_kafka_producer_restarts_total). A replayed unit may repeat messages the old producer
 * had delivered (at-least-once for that unit, as for any failed unit).
 *
 * Lock order: rk_lock (read: anything using rk or its own sink's topic handles; write: only
 * replacing the producer), then kf->mu (tracks, the last broker error, the list of sinks).
 */
#define _GNU_SOURCE
#include "sink/kafka_sink.h"

#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "encode/text_out.h"
#include "util/buf.h"
#include "util/log.h"

typedef struct ksink ksink;

typedef struct {
    sl_unit_sink_factory base;
    sl_kafka_config cfg;
    pthread_rwlock_t rk_lock; /* rk, admin_q and the sinks' topic handles */
    rd_kafka_t *rk;           /* NULL only if making a new producer failed (retried) */
    rd_kafka_queue_t *admin_q;
    rd_kafka_conf_t *conf;    /* template of every producer (rd_kafka_new takes a copy) */
    ksink *sinks;             /* unit sinks made by this factory (under mu) */
    pthread_t poller;
    bool poller_started;
    atomic_bool stop;
    atomic_bool fatal;        /* the producer reported a fatal error: replace it */
    _Atomic(sl_mseries *) m_restarts;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* a track's count changed */
    char last_error[400];    /* last error the client reported (connection refused, ...) */
    bool all_down;           /* RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN seen, no delivery since */
} kfactory;

typedef struct {
    uint64_t outstanding; /* produced, no delivery report yet */
    uint64_t produced, failed;
    rd_kafka_resp_err_t first_err;
    bool abandoned;
} track;

struct ksink {
    sl_unit_sink base;
    kfactory *f;
    ksink *next; /* in f->sinks */
    char *stream;
    const sl_schema *schema;
    char topic[256], dlq[260];
    rd_kafka_topic_t *rkt, *rkt_dlq;
    bool topics_asked;
    int key_col;          /* -1: no key */
    sl_schema *key_schema; /* one field: the key column (CSV encoding of non-strings) */
    track *cur;
    sl_buf val, key;
    size_t *ends, ends_cap; /* end offset of each encoded row in val */
    size_t *kends, kends_cap;
};

/* ---- configuration ------------------------------------------------------------------------ */

void sl_kafka_config_default(sl_kafka_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->brokers, sizeof(c->brokers), "127.0.0.1:9092");
    snprintf(c->topic, sizeof(c->topic), "{stream}");
    c->format = SL_KAFKA_JSON;
    c->partitions = 1;
    c->replication = 1;
    c->create_topics = true;
    c->timeout_ms = 30000;
}

static sl_err add_prop(sl_kafka_config *c, const char *k, const char *v, char *err, size_t errn)
{
    size_t used = strlen(c->props);
    int n = snprintf(c->props + used, sizeof(c->props) - used, "%s%s=%s", used ? ";" : "", k, v);
    if (n < 0 || (size_t)n >= sizeof(c->props) - used) {
        c->props[used] = 0;
        snprintf(err, errn, "too many Kafka properties (at most %zu bytes)", sizeof(c->props));
        return SL_INVALID;
    }
    return SL_OK;
}

static bool parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

static sl_err check_prop(void *ctx, const char *k, const char *v)
{
    (void)ctx;
    (void)k;
    (void)v;
    return SL_OK;
}

sl_err sl_kafka_config_set(sl_kafka_config *c, const char *env, const char *v, char *err,
                           size_t errn)
{
    static const struct {
        const char *env, *prop;
    } pass[] = {{"KAFKA_SECURITY_PROTOCOL", "security.protocol"},
                {"KAFKA_SASL_MECHANISM", "sasl.mechanisms"},
                {"KAFKA_SASL_USERNAME", "sasl.username"},
                {"KAFKA_SASL_PASSWORD", "sasl.password"},
                {"KAFKA_SSL_CA_LOCATION", "ssl.ca.location"}};
    long n;
    if (!strcmp(env, "KAFKA_BROKERS")) {
        if (!*v || strlen(v) >= sizeof(c->brokers)) {
            snprintf(err, errn, "expected HOST:PORT[,HOST:PORT...]");
            return SL_INVALID;
        }
        snprintf(c->brokers, sizeof(c->brokers), "%s", v);
    } else if (!strcmp(env, "SLUICE_KAFKA_TOPIC")) {
        if (!*v || strlen(v) >= 200 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                                                  "UVWXYZ0123456789._-{}") != strlen(v)) {
            snprintf(err, errn, "expected a topic name of letters, digits, '.', '_', '-' "
                                "(and {stream})");
            return SL_INVALID;
        }
        snprintf(c->topic, sizeof(c->topic), "%s", v);
    } else if (!strcmp(env, "SLUICE_KAFKA_FORMAT")) {
        if (!strcmp(v, "json"))
            c->format = SL_KAFKA_JSON;
        else if (!strcmp(v, "csv"))
            c->format = SL_KAFKA_CSV;
        else if (!strcmp(v, "raw"))
            c->format = SL_KAFKA_RAW;
        else {
            snprintf(err, errn, "expected json, csv or raw");
            return SL_INVALID;
        }
    } else if (!strcmp(env, "SLUICE_KAFKA_KEY")) {
        if (strlen(v) >= sizeof(c->key_column)) {
            snprintf(err, errn, "column name too long");
            return SL_INVALID;
        }
        snprintf(c->key_column, sizeof(c->key_column), "%s", v);
    } else if (!strcmp(env, "SLUICE_KAFKA_PARTITIONS")) {
        if (!parse_int(v, 1, 100000, &n)) {
            snprintf(err, errn, "expected a number of partitions 1..100000");
            return SL_INVALID;
        }
        c->partitions = (int)n;
    } else if (!strcmp(env, "SLUICE_KAFKA_REPLICATION")) {
        if (!parse_int(v, 1, 1000, &n)) {
            snprintf(err, errn, "expected a replication factor 1..1000");
            return SL_INVALID;
        }
        c->replication = (int)n;
    } else if (!strcmp(env, "SLUICE_KAFKA_CREATE_TOPICS")) {
        if (!strcasecmp(v, "true") || !strcmp(v, "1"))
            c->create_topics = true;
        else if (!strcasecmp(v, "false") || !strcmp(v, "0"))
            c->create_topics = false;
        else {
            snprintf(err, errn, "expected true or false");
            return SL_INVALID;
        }
    } else if (!strcmp(env, "SLUICE_KAFKA_TIMEOUT")) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || (*end && strcmp(end, "s")) || !(d >= 0.1) || d > 3600) {
            snprintf(err, errn, "expected seconds 0.1..3600");
            return SL_INVALID;
        }
        c->timeout_ms = (unsigned)(d * 1000);
    } else if (!strcmp(env, "KAFKA_PROPERTIES")) {
        size_t l = strlen(v);
        if (l >= sizeof(c->props)) {
            snprintf(err, errn, "too long");
            return SL_INVALID;
        }
        if (sl_kafka_props_each(v, check_prop, NULL)) {
            snprintf(err, errn, "expected key=value;key=value (librdkafka properties)");
            return SL_INVALID;
        }
        size_t used = strlen(c->props);
        if (used + l + 2 > sizeof(c->props)) {
            snprintf(err, errn, "too long");
            return SL_INVALID;
        }
        snprintf(c->props + used, sizeof(c->props) - used, "%s%s", used ? ";" : "", v);
    } else {
        for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
            if (!strcmp(env, pass[i].env))
                return add_prop(c, pass[i].prop, v, err, errn);
        snprintf(err, errn, "unknown Kafka setting %s", env);
        return SL_INVALID;
    }
    return SL_OK;
}

sl_err sl_kafka_props_each(const char *props,
                           sl_err (*set)(void *ctx, const char *k, const char *v), void *ctx)
{
    const char *p = props;
    while (*p) {
        size_t l = strcspn(p, ";\n");
        if (l) {
            char item[1024];
            if (l >= sizeof(item))
                return SL_INVALID;
            memcpy(item, p, l);
            item[l] = 0;
            char *k = item;
            while (*k == ' ' || *k == '\t')
                k++;
            char *eq = strchr(k, '=');
            if (*k) {
                if (!eq || eq == k)
                    return SL_INVALID;
                *eq = 0;
                char *ke = eq;
                while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
                    *--ke = 0;
                sl_err err = set(ctx, k, eq + 1);
                if (err)
                    return err;
            }
        }
        p += l;
        if (*p)
            p++;
    }
    return SL_OK;
}

/* ---- producer and poll thread ------------------------------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kfactory *f = opaque;
    track *t = m->_private;
    if (!t)
        return;
    bool free_it;
    pthread_mutex_lock(&f->mu);
    t->outstanding--;
    if (m->err) {
        t->failed++;
        if (!t->first_err)
            t->first_err = m->err;
    } else {
        f->all_down = false;
    }
    free_it = t->abandoned && t->outstanding == 0;
    if (t->outstanding == 0)
        pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (free_it)
        free(t);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    kfactory *f = opaque;
    pthread_mutex_lock(&f->mu);
    snprintf(f->last_error, sizeof(f->last_error), "%s", reason);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        f->all_down = true;
    pthread_mutex_unlock(&f->mu);
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        atomic_store(&f->fatal, true); /* the poll thread replaces the producer */
    sl_log(SL_LOG_DEBUG, "kafka client error", SL_KS("error", rd_kafka_err2name(err)),
           SL_KS("detail", reason));
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)fac;
    sl_log(level <= 3 ? SL_LOG_WARN : SL_LOG_DEBUG, "librdkafka", SL_KS("detail", buf));
}

static void admin_result(rd_kafka_event_t *ev)
{
    if (rd_kafka_event_type(ev) != RD_KAFKA_EVENT_CREATETOPICS_RESULT)
        return;
    if (rd_kafka_event_error(ev)) {
        sl_log(SL_LOG_INFO, "kafka: CreateTopics not answered; topics come from broker-side "
                            "auto-creation on first produce",
               SL_KS("error", rd_kafka_event_error_string(ev)));
        return;
    }
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[i]);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            sl_log(SL_LOG_INFO, "kafka: topic created",
                   SL_KS("topic", rd_kafka_topic_result_name(tr[i])));
        else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            sl_log(SL_LOG_WARN, "kafka: cannot create topic",
                   SL_KS("topic", rd_kafka_topic_result_name(tr[i])),
                   SL_KS("error", rd_kafka_topic_result_error_string(tr[i])));
    }
}

/* A producer (and its admin result queue) from the factory's configuration template. */
static sl_err new_producer(kfactory *f, char *errstr, size_t errn)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(f->conf);
    if (!conf) {
        snprintf(errstr, errn, "out of memory");
        return SL_NOMEM;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errn);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return SL_INVALID;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (!q) {
        rd_kafka_destroy(rk);
        snprintf(errstr, errn, "out of memory");
        return SL_NOMEM;
    }
    f->rk = rk;
    f->admin_q = q;
    return SL_OK;
}

/* Under rk_lock (write), or with no other thread left. */
static void drop_producer_locked(kfactory *f)
{
    pthread_mutex_lock(&f->mu);
    for (ksink *s = f->sinks; s; s = s->next) {
        if (s->rkt)
            rd_kafka_topic_destroy(s->rkt);
        if (s->rkt_dlq)
            rd_kafka_topic_destroy(s->rkt_dlq);
        s->rkt = s->rkt_dlq = NULL;
        s->topics_asked = false;
    }
    pthread_mutex_unlock(&f->mu);
    if (f->admin_q)
        rd_kafka_queue_destroy(f->admin_q);
    if (f->rk)
        rd_kafka_destroy(f->rk);
    f->admin_q = NULL;
    f->rk = NULL;
}

/* On the poll thread, after a fatal error: see "Fatal errors" at the top. */
static void restart_producer(kfactory *f)
{
    char why[512] = "";
    rd_kafka_resp_err_t ferr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (f->rk) {
        ferr = rd_kafka_fatal_error(f->rk, why, sizeof(why));
        /* fail what is queued or in flight, and serve those delivery reports here: the units'
         * commits see the failures and their lanes replay them on the new producer */
        rd_kafka_purge(f->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        for (int i = 0; i < 100 && rd_kafka_outq_len(f->rk) > 0; i++)
            rd_kafka_poll(f->rk, 50);
        sl_log(SL_LOG_ERROR, "kafka: fatal producer error; making a new producer (the units in "
                             "flight are sent again from the WAL)",
               SL_KS("error", rd_kafka_err2name(ferr)), SL_KS("detail", why),
               SL_KS("brokers", f->cfg.brokers));
    }
    char errstr[512] = "";
    pthread_rwlock_wrlock(&f->rk_lock);
    if (f->rk) { /* what a produce call blocked on a full queue added meanwhile */
        rd_kafka_purge(f->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        for (int i = 0; i < 100 && rd_kafka_outq_len(f->rk) > 0; i++)
            rd_kafka_poll(f->rk, 50);
    }
    drop_producer_locked(f);
    sl_err err = new_producer(f, errstr, sizeof(errstr));
    pthread_rwlock_unlock(&f->rk_lock);
    if (err) { /* f->fatal stays set: tried again on the next round */
        sl_log(SL_LOG_ERROR, "kafka: cannot make a new producer; retrying",
               SL_KS("error", errstr));
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        return;
    }
    atomic_store(&f->fatal, false);
    sl_mseries *m = atomic_load(&f->m_restarts);
    if (m)
        sl_mseries_inc(m);
    sl_log0(SL_LOG_INFO, "kafka: new producer ready");
}

static void *poll_main(void *arg)
{
    kfactory *f = arg;
    while (!atomic_load(&f->stop)) {
        if (atomic_load(&f->fatal))
            restart_producer(f);
        if (!f->rk) /* only this thread changes f->rk */
            continue;
        rd_kafka_poll(f->rk, 50);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(f->admin_q, 0);
        if (ev) {
            admin_result(ev);
            rd_kafka_event_destroy(ev);
        }
    }
    return NULL;
}

/* ---- unit sink ------------------------------------------------------------------------------ */

static void hint_brokers(const kfactory *f, sl_sink_error *e)
{
    int n = snprintf(e->hint, sizeof(e->hint),
                     "check KAFKA_BROKERS=%.100s (is a broker up and reachable from here?); "
                     "rows wait in the WAL until it answers",
                     f->cfg.brokers);
    (void)n; /* truncation is fine */
}

/* The message stays short: the lane puts it with the hint into /readyz; the client's last
 * error (connection refused, ...) goes to the log. */
static void unavailable(kfactory *f, sl_sink_error *e, const char *what, const char *err)
{
    char last[400];
    pthread_mutex_lock(&f->mu);
    snprintf(last, sizeof(last), "%s", f->last_error);
    pthread_mutex_unlock(&f->mu);
    int n = snprintf(e->message, sizeof(e->message), "kafka_unavailable: %.150s (%.100s)", what,
                     err);
    (void)n; /* truncation is fine */
    hint_brokers(f, e);
    e->retryable = true;
    sl_log(SL_LOG_WARN, "kafka: delivery failed", SL_KS("error", e->message),
           SL_KS("last_client_error", last), SL_KS("brokers", f->cfg.brokers));
}

/* Drops the unit's track; the poll thread frees it once its messages are reported. */
static void drop_track(ksink *s)
{
    track *t = s->cur;
    if (!t)
        return;
    s->cur = NULL;
    bool free_it;
    pthread_mutex_lock(&s->f->mu);
    t->abandoned = true;
    free_it = t->outstanding == 0;
    pthread_mutex_unlock(&s->f->mu);
    if (free_it)
        free(t);
}

/* Under rk_lock (read). */
static void ask_topics(ksink *s)
{
    kfactory *f = s->f;
    s->topics_asked = true;
    if (!f->cfg.create_topics)
        return;
    char errstr[256];
    rd_kafka_NewTopic_t *nt[2];
    const char *names[2] = {s->topic, s->dlq};
    size_t n = 0;
    for (size_t i = 0; i < 2; i++) {
        nt[n] = rd_kafka_NewTopic_new(names[i], f->cfg.partitions, f->cfg.replication, errstr,
                                      sizeof(errstr));
        if (nt[n])
            n++;
    }
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(f->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (o)
        rd_kafka_AdminOptions_set_request_timeout(o, 10000, errstr, sizeof(errstr));
    rd_kafka_CreateTopics(f->rk, nt, n, o, f->admin_q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy_array(nt, n);
}

/* No SLUICE_KAFKA_KEY: the stream's event key keys the messages: its model's event_key (fixed
 * at the stream's creation, so the same for every unit), else a column named event_id (the
 * events stream), as the PostgreSQL sink picks its conflict key. */
static sl_err adopt_event_key(ksink *s, const char *key, sl_sink_error *e)
{
    if (s->key_col >= 0 || s->f->cfg.key_column[0])
        return SL_OK;
    if (!key)
        key = "event_id";
    for (size_t i = 0; i < s->schema->nfields; i++) {
        const sl_field *kf = &s->schema->fields[i];
        if (strcmp(kf->name, key))
            continue;
        if (sl_schema_create(&s->key_schema) ||
            sl_schema_add(s->key_schema, kf->name, kf->type, kf->nullable)) {
            sl_schema_destroy(s->key_schema);
            s->key_schema = NULL;
            snprintf(e->message, sizeof(e->message), "out of memory");
            return SL_NOMEM;
        }
        s->key_col = (int)i;
        return SL_OK;
    }
    return SL_OK; /* (the models API checks that event_key names a field) */
}

static sl_err k_begin(sl_unit_sink *us, const sl_unit *u, sl_sink_error *e)
{
    ksink *s = (ksink *)us;
    sl_err err = adopt_event_key(s, u->key, e);
    if (err)
        return err;
    drop_track(s);
    pthread_rwlock_rdlock(&s->f->rk_lock);
    if (!s->topics_asked && s->f->rk)
        ask_topics(s);
    pthread_rwlock_unlock(&s->f->rk_lock);
    s->cur = calloc(1, sizeof(*s->cur));
    if (!s->cur) {
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    return SL_OK;
}

/* The sink's topic handles on the current producer (made again after a new producer). Under
 * rk_lock (read); only the sink's own thread gets here. */
static sl_err topics_ready(ksink *s, sl_sink_error *e)
{
    kfactory *f = s->f;
    if (!f->rk) {
        snprintf(e->message, sizeof(e->message), "kafka_unavailable: no Kafka producer (making "
                                                  "a new one failed; retrying)");
        e->retryable = true;
        return SL_RETRY;
    }
    if (!s->rkt)
        s->rkt = rd_kafka_topic_new(f->rk, s->topic, NULL);
    if (!s->rkt_dlq)
        s->rkt_dlq = rd_kafka_topic_new(f->rk, s->dlq, NULL);
    if (!s->rkt || !s->rkt_dlq) {
        snprintf(e->message, sizeof(e->message), "cannot use topic %.100s: %s", s->topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        e->retryable = false;
        return SL_INVALID;
    }
    return SL_OK;
}

/* Under rk_lock (read), after topics_ready(). dlq: to the dead-letter topic. */
static sl_err produce(ksink *s, bool dlq, const void *val, size_t vn, const void *key,
                      size_t kn, rd_kafka_headers_t *hdrs, sl_sink_error *e)
{
    rd_kafka_topic_t *rkt = dlq ? s->rkt_dlq : s->rkt;
    track *t = s->cur;
    pthread_mutex_lock(&s->f->mu);
    t->outstanding++;
    t->produced++;
    pthread_mutex_unlock(&s->f->mu);
    /* RD_KAFKA_MSG_F_BLOCK: a full local queue waits for deliveries (the poll thread drains
     * reports), which is the backpressure we want; messages time out after timeout_ms. */
    rd_kafka_resp_err_t err = rd_kafka_producev(
        s->f->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_VALUE((void *)val, vn),
        RD_KAFKA_V_KEY(key, kn), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_BLOCK), RD_KAFKA_V_OPAQUE(t),
        RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(hdrs); /* not taken on failure */
        pthread_mutex_lock(&s->f->mu);
        t->outstanding--;
        t->produced--;
        pthread_mutex_unlock(&s->f->mu);
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
            char why[256] = "";
            rd_kafka_fatal_error(s->f->rk, why, sizeof(why));
            atomic_store(&s->f->fatal, true); /* (if the error callback has not said it yet) */
            snprintf(e->message, sizeof(e->message),
                     "the Kafka producer hit a fatal error (%.300s); a new producer is being "
                     "made and the unit is sent again",
                     why);
            e->retryable = true;
            return SL_RETRY;
        }
        unavailable(s->f, e, "producing to the topic failed", rd_kafka_err2str(err));
        return SL_RETRY;
    }
    return SL_OK;
}

static rd_kafka_headers_t *row_headers(const ksink *s, uint64_t seq)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, seq);
    rd_kafka_header_add(h, "sluice.stream", -1, s->stream, -1);
    rd_kafka_header_add(h, "sluice.seq", -1, num, n);
    return h;
}

static sl_err grow_ends(size_t **ends, size_t *cap, size_t n)
{
    if (n <= *cap)
        return SL_OK;
    size_t *p = realloc(*ends, n * sizeof(**ends));
    if (!p)
        return SL_NOMEM;
    *ends = p;
    *cap = n;
    return SL_OK;
}

/* The rows' values (and keys) encoded one after another into s->val / s->key, with the end
 * offset of each. */
static sl_err encode_rows(ksink *s, const sl_batch *b, size_t n)
{
    sl_err err = grow_ends(&s->ends, &s->ends_cap, n);
    if (!err && s->key_col >= 0)
        err = grow_ends(&s->kends, &s->kends_cap, n);
    s->val.len = s->key.len = 0;
    const sl_column *kc = s->key_col >= 0 ? &b->cols[s->key_col] : NULL;
    bool key_bytes = kc && kc->width == 0;
    sl_batch kb = {s->key_schema, (sl_column *)kc, 1};
    for (size_t r = 0; r < n && !err; r++) {
        switch (s->f->cfg.format) {
        case SL_KAFKA_JSON:
            err = sl_ndjson_encode(b, r, 1, &s->val);
            if (!err)
                s->val.len--; /* the line end */
            break;
        case SL_KAFKA_CSV:
            err = sl_csv_encode(b, r, 1, ',', &s->val);
            if (!err)
                s->val.len--;
            break;
        case SL_KAFKA_RAW: { /* the first column's bytes (a string column, see k_create) */
            const sl_column *c = &b->cols[0];
            if (!(c->valid && !c->valid[r]))
                err = sl_buf_append(&s->val, c->bytes + c->offsets[r],
                                    c->offsets[r + 1] - c->offsets[r]);
            break;
        }
        }
        if (!err)
            s->ends[r] = s->val.len;
        if (!err && kc) {
            if (kc->valid && !kc->valid[r])
                ;
            else if (key_bytes)
                err = sl_buf_append(&s->key, kc->bytes + kc->offsets[r],
                                    kc->offsets[r + 1] - kc->offsets[r]);
            else if (!(err = sl_csv_encode(&kb, r, 1, ',', &s->key)))
                s->key.len--;
            s->kends[r] = s->key.len;
        }
    }
    return err;
}

static sl_err k_rows(sl_unit_sink *us, const sl_batch *b, uint64_t seq, sl_sink_error *e)
{
    ksink *s = (ksink *)us;
    size_t n = sl_batch_rows(b);
    sl_err err = encode_rows(s, b, n);
    if (err) {
        snprintf(e->message, sizeof(e->message), "encoding rows as messages: %s",
                 sl_strerror(err));
        return err;
    }
    pthread_rwlock_rdlock(&s->f->rk_lock);
    err = topics_ready(s, e);
    size_t v0 = 0, k0 = 0;
    for (size_t r = 0; r < n && !err; r++) {
        size_t v1 = s->ends[r];
        size_t k1 = s->key_col >= 0 ? s->kends[r] : 0;
        bool has_key = s->key_col >= 0 && !(b->cols[s->key_col].valid &&
                                             !b->cols[s->key_col].valid[r]);
        err = produce(s, false, s->val.ptr + v0, v1 - v0, has_key ? s->key.ptr + k0 : NULL,
                      has_key ? k1 - k0 : 0, row_headers(s, seq + r), e);
        v0 = v1;
        k0 = k1;
    }
    pthread_rwlock_unlock(&s->f->rk_lock);
    return err;
}

/* Top-level member `key` of a rejects NDJSON line (flat object: strings, numbers, null) as
 * text; strings are unescaped (\uXXXX kept as written). False if absent. */
static bool json_member(const uint8_t *p, size_t n, const char *key, char *out, size_t outn)
{
    size_t i = 0, kl = strlen(key);
    if (i >= n || p[i] != '{')
        return false;
    i++;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == ','))
            i++;
        if (i >= n || p[i] != '"')
            return false;
        size_t ks = ++i;
        while (i < n && p[i] != '"')
            i += p[i] == '\\' ? 2 : 1;
        if (i >= n)
            return false;
        bool match = i - ks == kl && !memcmp(p + ks, key, kl);
        i++;
        while (i < n && (p[i] == ' ' || p[i] == ':'))
            i++;
        size_t o = 0;
        if (i < n && p[i] == '"') {
            i++;
            while (i < n && p[i] != '"') {
                uint8_t c = p[i++];
                if (c == '\\' && i < n) {
                    c = p[i++];
                    c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
                    if (c == 'u' && match && o + 2 < outn) {
                        out[o++] = '\\';
                    }
                }
                if (match && o + 1 < outn)
                    out[o++] = (char)c;
            }
            i++;
        } else {
            while (i < n && p[i] != ',' && p[i] != '}') {
                if (match && o + 1 < outn)
                    out[o++] = (char)p[i];
                i++;
            }
        }
        if (match) {
            out[o] = 0;
            return true;
        }
    }
    return false;
}

static sl_err k_rejects(sl_unit_sink *us, const uint8_t *nd, size_t n, uint64_t count,
                        uint64_t seq, sl_sink_error *e)
{
    (void)count;
    ksink *s = (ksink *)us;
    size_t off = 0;
    uint64_t i = 0;
    pthread_rwlock_rdlock(&s->f->rk_lock);
    sl_err err = topics_ready(s, e);
    while (off < n && !err) {
        const uint8_t *nl = memchr(nd + off, '\n', n - off);
        size_t end = nl ? (size_t)(nl - nd) : n;
        const uint8_t *line = nd + off;
        size_t len = end - off;
        if (len) {
            rd_kafka_headers_t *h = rd_kafka_headers_new(8);
            static const char *const fields[] = {"reason", "line", "column", "field", "code"};
            char v[512];
            for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
                if (json_member(line, len, fields[k], v, sizeof(v)) && strcmp(v, "null"))
                    rd_kafka_header_add(h, fields[k], -1, v, -1);
            rd_kafka_header_add(h, "stream", -1, s->stream, -1);
            char num[24];
            int nn = snprintf(num, sizeof(num), "%" PRIu64, seq + i);
            rd_kafka_header_add(h, "sluice.seq", -1, num, nn);
            err = produce(s, true, line, len, NULL, 0, h, e);
            i++;
        }
        off = end + 1;
    }
    pthread_rwlock_unlock(&s->f->rk_lock);
    return err;
}

static sl_err k_commit(sl_unit_sink *us, uint64_t row1, uint64_t rej1, sl_sink_error *e)
{
    (void)row1;
    (void)rej1;
    ksink *s = (ksink *)us;
    kfactory *f = s->f;
    track *t = s->cur;
    if (!t)
        return SL_OK;
    /* librdkafka fails each message by itself after timeout_ms; the margin covers the
     * report's trip through the poll thread */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(f->cfg.timeout_ms / 1000 + 10);
    pthread_mutex_lock(&f->mu);
    while (t->outstanding && !atomic_load(&f->stop))
        if (pthread_cond_timedwait(&f->cv, &f->mu, &until) == ETIMEDOUT)
            break;
    uint64_t left = t->outstanding, failed = t->failed, produced = t->produced;
    rd_kafka_resp_err_t ferr = t->first_err;
    pthread_mutex_unlock(&f->mu);
    if (left || failed) {
        char what[200];
        snprintf(what, sizeof(what), "%" PRIu64 " of %" PRIu64 " messages to %.60s not %s",
                 left + failed, produced, s->topic, left ? "acknowledged in time" : "delivered");
        unavailable(f, e, what, left ? "delivery timed out" : rd_kafka_err2str(ferr));
        drop_track(s);
        return SL_RETRY;
    }
    pthread_mutex_lock(&f->mu);
    f->all_down = false;
    pthread_mutex_unlock(&f->mu);
    free(t);
    s->cur = NULL;
    return SL_OK;
}

static void k_abort(sl_unit_sink *us)
{
    drop_track((ksink *)us);
}

static void k_destroy(sl_unit_sink *us)
{
    ksink *s = (ksink *)us;
    drop_track(s);
    pthread_rwlock_rdlock(&s->f->rk_lock); /* (a new producer drops every sink's handles) */
    pthread_mutex_lock(&s->f->mu);
    for (ksink **pp = &s->f->sinks; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    pthread_mutex_unlock(&s->f->mu);
    if (s->rkt)
        rd_kafka_topic_destroy(s->rkt);
    if (s->rkt_dlq)
        rd_kafka_topic_destroy(s->rkt_dlq);
    pthread_rwlock_unlock(&s->f->rk_lock);
    sl_schema_destroy(s->key_schema);
    sl_buf_release(&s->val);
    sl_buf_release(&s->key);
    free(s->ends);
    free(s->kends);
    free(s->stream);
    free(s);
}

static void topic_name(const char *tmpl, const char *stream, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < n;) {
        if (!strncmp(p, "{stream}", 8)) {
            o += (size_t)snprintf(out + o, n - o, "%s", stream);
            if (o >= n)
                o = n - 1;
            p += 8;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
}

static sl_err k_create(sl_unit_sink_factory *uf, const char *stream, const sl_schema *schema,
                       sl_unit_sink **out, sl_sink_error *e)
{
    kfactory *f = (kfactory *)uf;
    ksink *s = calloc(1, sizeof(*s));
    if (!s || !(s->stream = strdup(stream))) {
        free(s);
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    s->base.kind = "kafka";
    s->base.begin = k_begin;
    s->base.rows = k_rows;
    s->base.rejects = k_rejects;
    s->base.commit = k_commit;
    s->base.abort = k_abort;
    s->base.destroy = k_destroy;
    s->f = f;
    s->schema = schema;
    s->key_col = -1;
    sl_buf_init(&s->val, 0);
    sl_buf_init(&s->key, 0);
    sl_err err = SL_OK;
    topic_name(f->cfg.topic, stream, s->topic, sizeof(s->topic));
    snprintf(s->dlq, sizeof(s->dlq), "%s.dlq", s->topic);
    if (f->cfg.key_column[0]) {
        for (size_t i = 0; i < schema->nfields; i++)
            if (!strcmp(schema->fields[i].name, f->cfg.key_column))
                s->key_col = (int)i;
        if (s->key_col < 0) {
            snprintf(e->message, sizeof(e->message),
                     "the message key column '%.100s' (SLUICE_KAFKA_KEY) is not in stream %.100s",
                     f->cfg.key_column, stream);
            snprintf(e->hint, sizeof(e->hint), "add the column to the stream's model, or "
                                               "route this stream elsewhere (SLUICE_ROUTES)");
            e->retryable = false;
            err = SL_INVALID;
            goto fail;
        }
        const sl_field *kf = &schema->fields[s->key_col];
        if ((err = sl_schema_create(&s->key_schema)) ||
            (err = sl_schema_add(s->key_schema, kf->name, kf->type, kf->nullable))) {
            snprintf(e->message, sizeof(e->message), "out of memory");
            goto fail;
        }
    }
    if (f->cfg.format == SL_KAFKA_RAW &&
        (schema->nfields == 0 || (schema->fields[0].type.id != SL_TYPE_STRING &&
                                  schema->fields[0].type.id != SL_TYPE_BINARY &&
                                  schema->fields[0].type.id != SL_TYPE_JSON))) {
        snprintf(e->message, sizeof(e->message),
                 "SLUICE_KAFKA_FORMAT=raw sends the first column's bytes: stream %.100s's first "
                 "column must be a string, binary or json column",
                 stream);
        e->retryable = false;
        err = SL_INVALID;
        goto fail;
    }
    /* read lock only: a stream may be made on an HTTP thread, which must not wait behind a
     * lane blocked on a full producer queue (only a new producer takes the write lock) */
    pthread_rwlock_rdlock(&f->rk_lock);
    pthread_mutex_lock(&f->mu);
    s->next = f->sinks; /* from here on a new producer drops its topic handles */
    f->sinks = s;
    pthread_mutex_unlock(&f->mu);
    err = f->rk ? topics_ready(s, e) : SL_OK; /* (no producer: made at the first rows) */
    pthread_rwlock_unlock(&f->rk_lock);
    if (err)
        goto fail;
    *out = &s->base;
    return SL_OK;
fail:
    k_destroy(&s->base);
    return err;
}

static sl_err k_check(sl_unit_sink_factory *uf, sl_sink_error *e)
{
    kfactory *f = (kfactory *)uf;
    const struct rd_kafka_metadata *md = NULL;
    pthread_rwlock_rdlock(&f->rk_lock);
    rd_kafka_resp_err_t err = f->rk ? rd_kafka_metadata(f->rk, 0, NULL, &md, 3000)
                                    : RD_KAFKA_RESP_ERR__FATAL;
    pthread_rwlock_unlock(&f->rk_lock);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (err) {
        unavailable(f, e, "no Kafka broker answers", rd_kafka_err2str(err));
        return SL_RETRY;
    }
    return SL_OK;
}

static void k_factory_destroy(sl_unit_sink_factory *uf)
{
    kfactory *f = (kfactory *)uf;
    if (f->poller_started) {
        /* deliver what can be delivered before closing (bounded) */
        if (f->rk)
            rd_kafka_flush(f->rk, 5000);
        atomic_store(&f->stop, true);
        pthread_join(f->poller, NULL);
    }
    drop_producer_locked(f); /* every unit sink is gone: no other thread left */
    if (f->conf)
        rd_kafka_conf_destroy(f->conf);
    pthread_rwlock_destroy(&f->rk_lock);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}

void sl_unit_kafka_metrics(sl_unit_sink_factory *uf, sl_metrics *m)
{
    kfactory *f = (kfactory *)uf;
    sl_mfamily *fam = sl_metrics_family(m, SL_M_COUNTER, "sluice_kafka_producer_restarts_total",
                                        "Kafka producers replaced after a fatal error (units in "
                                        "flight sent again from the WAL).",
                                        NULL, NULL, 0);
    if (fam)
        atomic_store(&f->m_restarts, sl_mfamily_series0(fam));
}

typedef struct {
    rd_kafka_conf_t *conf;
    char *errstr;
    size_t errn;
} conf_ctx;

static sl_err conf_set(void *ctx, const char *k, const char *v)
{
    conf_ctx *c = ctx;
    if (rd_kafka_conf_set(c->conf, k, v, c->errstr, c->errn) != RD_KAFKA_CONF_OK)
        return SL_INVALID;
    return SL_OK;
}

sl_err sl_unit_kafka_factory(const sl_kafka_config *c, sl_unit_sink_factory **out,
                             sl_sink_error *e)
{
    kfactory *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    f->base.kind = "kafka";
    f->base.create = k_create;
    f->base.check = k_check;
    f->base.destroy = k_factory_destroy;
    f->cfg = *c;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* a new producer must not wait behind a stream of lanes producing */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&f->rk_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    char errstr[512] = "", tmo[24];
    snprintf(tmo, sizeof(tmo), "%u", c->timeout_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_ctx cc = {conf, errstr, sizeof(errstr)};
    const char *fixed[][2] = {{"bootstrap.servers", c->brokers},
                              {"enable.idempotence", "true"},
                              {"acks", "all"},
                              {"message.timeout.ms", tmo},
                              {"linger.ms", "5"},
                              {"client.id", "sluice"}};
    sl_err err = SL_OK;
    for (size_t i = 0; !err && i < sizeof(fixed) / sizeof(fixed[0]); i++)
        err = conf_set(&cc, fixed[i][0], fixed[i][1]);
    if (!err && sl_kafka_props_each(c->props, conf_set, &cc))
        err = SL_INVALID;
    if (err) {
        snprintf(e->message, sizeof(e->message), "Kafka configuration refused: %.400s",
                 errstr[0] ? errstr : "malformed KAFKA_PROPERTIES (expected key=value;...)");
        snprintf(e->hint, sizeof(e->hint), "see librdkafka's CONFIGURATION.md for names and "
                                           "values");
        rd_kafka_conf_destroy(conf);
        k_factory_destroy(&f->base);
        return SL_INVALID;
    }
    rd_kafka_conf_set_opaque(conf, f);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    f->conf = conf; /* kept: each producer gets a copy */
    err = new_producer(f, errstr, sizeof(errstr));
    if (err) {
        snprintf(e->message, sizeof(e->message), "cannot create the Kafka producer: %.400s", errstr);
        k_factory_destroy(&f->base);
        return err;
    }
    if (pthread_create(&f->poller, NULL, poll_main, f)) {
        snprintf(e->message, sizeof(e->message), "cannot start the Kafka poll thread");
        k_factory_destroy(&f->base);
        return SL_NOMEM;
    }
    f->poller_started = true;
    *out = &f->base;
    return SL_OK;
}
