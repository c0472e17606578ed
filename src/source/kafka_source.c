/* kafka_source.c: consumer group -> Parquet files per partition and offset range; see
 * kafka_source.h for the exactly-once argument (deterministic cuts, intents in the offset
 * commit's metadata, offsets committed after the file is published).
 *
 * One thread runs the consumer: poll, append the message to its partition's buffer, cut and
 * write a file when the partition's cut rule says so. Rebalance callbacks run inside poll on
 * the same thread, so partition state needs no lock. A failed write or publish rewinds the
 * partition to the file's first offset (seek) after a backoff and keeps the cut, so the next
 * attempt writes the same file.
 */
#define _GNU_SOURCE
#include "source/kafka_source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/body_parse.h"
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/log.h"

#define CUT_META "sluice-cut="

/* ---- kafka:// URL ---------------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 32;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decodes p[0..n) into out (NUL-terminated); false if malformed or too long. */
static bool pct_decode(const char *p, size_t n, char *out, size_t outn)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int h = hexval(p[i + 1]), l = hexval(p[i + 2]);
            if (h < 0 || l < 0)
                return false;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0 || o + 1 >= outn)
            return false;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return true;
}

static bool topic_ok(const char *t)
{
    size_t n = strlen(t);
    return n > 0 && n < 250 && strcmp(t, ".") && strcmp(t, "..") &&
           strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static bool u64_ok(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*v || *v == '-')
        return false;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

sl_err sl_kafka_url_parse(const char *url, sl_kafka_source_config *c, char *err, size_t errn)
{
    memset(c, 0, sizeof(*c));
    c->format = SL_FMT_JSONL;
    c->batch = 100000;
    c->max_bytes = (uint64_t)64 << 20;
    c->age = 10;
    c->session_ms = 10000;
    const char *pfx = "kafka://";
    if (strncmp(url, pfx, strlen(pfx))) {
        snprintf(err, errn, "expected kafka://HOST:PORT/TOPIC?group=NAME");
        return SL_INVALID;
    }
    const char *p = url + strlen(pfx);
    size_t hl = strcspn(p, "/?");
    if (hl == 0 || hl >= sizeof(c->brokers) ||
        strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:,-_[]") < hl) {
        snprintf(err, errn, "kafka://: expected brokers HOST:PORT[,HOST:PORT...] before the topic");
        return SL_INVALID;
    }
    memcpy(c->brokers, p, hl);
    c->brokers[hl] = 0;
    p += hl;
    if (*p != '/') {
        snprintf(err, errn, "kafka://%s: expected /TOPIC after the brokers", c->brokers);
        return SL_INVALID;
    }
    p++;
    size_t tl = strcspn(p, "?");
    if (!pct_decode(p, tl, c->topic, sizeof(c->topic)) || !topic_ok(c->topic)) {
        snprintf(err, errn, "invalid topic: letters, digits, '.', '_', '-', at most 249");
        return SL_INVALID;
    }
    p += tl;
    if (*p == '?')
        p++;
    while (*p) {
        size_t l = strcspn(p, "&");
        const char *eq = memchr(p, '=', l);
        char key[32], v[1024];
        if (!eq || (size_t)(eq - p) >= sizeof(key) || eq == p) {
            snprintf(err, errn, "query: expected NAME=VALUE pairs joined by &");
            return SL_INVALID;
        }
        memcpy(key, p, (size_t)(eq - p));
        key[eq - p] = 0;
        if (!pct_decode(eq + 1, l - (size_t)(eq - p) - 1, v, sizeof(v))) {
            snprintf(err, errn, "%s: bad percent-encoding or too long", key);
            return SL_INVALID;
        }
        uint64_t u;
        if (!strcmp(key, "group")) {
            if (!*v || strlen(v) >= sizeof(c->group)) {
                snprintf(err, errn, "group: expected a consumer group name");
                return SL_INVALID;
            }
            memcpy(c->group, v, strlen(v) + 1); /* length checked above */
        } else if (!strcmp(key, "format")) {
            if (!strcmp(v, "json") || !strcmp(v, "jsonl"))
                c->format = SL_FMT_JSONL;
            else if (!strcmp(v, "csv"))
                c->format = SL_FMT_CSV;
            else {
                snprintf(err, errn, "format: expected json or csv");
                return SL_INVALID;
            }
        } else if (!strcmp(key, "model")) {
            if (!*v || strlen(v) >= sizeof(c->model) || strchr(v, '/') || v[0] == '.') {
                snprintf(err, errn, "model: expected a model name");
                return SL_INVALID;
            }
            memcpy(c->model, v, strlen(v) + 1); /* length checked above */
        } else if (!strcmp(key, "columns")) {
            if (!*v || strlen(v) >= sizeof(c->columns)) {
                snprintf(err, errn, "columns: expected a,b,c");
                return SL_INVALID;
            }
            memcpy(c->columns, v, strlen(v) + 1); /* length checked above */
        } else if (!strcmp(key, "batch")) {
            if (!u64_ok(v, 1, 100000000, &u)) {
                snprintf(err, errn, "batch: expected messages per file 1..100000000");
                return SL_INVALID;
            }
            c->batch = u;
        } else if (!strcmp(key, "max_bytes")) {
            if (!u64_ok(v, 1024, (uint64_t)4 << 30, &u)) {
                snprintf(err, errn, "max_bytes: expected 1024..4294967296");
                return SL_INVALID;
            }
            c->max_bytes = u;
        } else if (!strcmp(key, "session_ms")) {
            if (!u64_ok(v, 1000, 3600000, &u)) {
                snprintf(err, errn, "session_ms: expected 1000..3600000");
                return SL_INVALID;
            }
            c->session_ms = (unsigned)u;
        } else if (!strcmp(key, "age")) {
            char *end;
            double d = strtod(v, &end);
            if (end == v || *end || !(d >= 0.01) || d > 86400) {
                snprintf(err, errn, "age: expected seconds 0.01..86400");
                return SL_INVALID;
            }
            c->age = d;
        } else if (!strcmp(key, "props")) {
            if (strlen(v) >= sizeof(c->props)) {
                snprintf(err, errn, "props: too long");
                return SL_INVALID;
            }
            memcpy(c->props, v, strlen(v) + 1); /* length checked above */
        } else {
            snprintf(err, errn, "unknown parameter '%s' (group, format, model, columns, batch, "
                                "max_bytes, age, session_ms, props)",
                     key);
            return SL_INVALID;
        }
        p += l;
        if (*p == '&')
            p++;
    }
    if (!c->group[0]) {
        snprintf(err, errn, "group=NAME is required (the consumer group the instances share)");
        return SL_INVALID;
    }
    if (c->format == SL_FMT_CSV && !c->model[0] && !c->columns[0]) {
        snprintf(err, errn, "format=csv needs model=NAME or columns=a,b,c (messages have no "
                            "header)");
        return SL_INVALID;
    }
    return SL_OK;
}

/* ---- the source ------------------------------------------------------------------------- */

typedef struct {
    bool active;
    int32_t id;
    sl_buf data;         /* messages, each followed by '\n' */
    int64_t *offs;       /* offset of each buffered message */
    size_t n, cap;
    int64_t next;        /* offset expected next (older ones are dropped), -1 unknown */
    int64_t pending_cut; /* an intent: the current file ends at this offset; -1 none */
    double opened;       /* when the first buffered message came */
    sl_mseries *m_msgs, *m_lag, *m_files, *m_rejects;
} part;

struct sl_kafka_source {
    sl_kafka_source_config cfg;
    sl_kafka_source_env env;
    char stage_dir[1024];
    rd_kafka_t *rk;
    pthread_t th;
    atomic_bool stop;
    sl_schema *model; /* NULL: inferred per file (or model= not there yet: model_wait) */
    bool model_wait;  /* model= names a model not created yet: subscribe once it is */
    char header[2048]; /* CSV header record */
    part *parts;
    size_t nparts;
    unsigned failures;
    long crash_after; /* tests: SLUICE_TEST_KAFKA_CRASH_AFTER_PUBLISH, exit after the Nth file */
    long published;
    sl_mfamily *f_msgs, *f_lag, *f_files, *f_rejects;
};

static part *part_get(sl_kafka_source *s, int32_t id)
{
    if (id < 0)
        return NULL;
    if ((size_t)id >= s->nparts) {
        size_t n = (size_t)id + 1;
        part *np = realloc(s->parts, n * sizeof(*np));
        if (!np)
            return NULL;
        memset(np + s->nparts, 0, (n - s->nparts) * sizeof(*np));
        for (size_t i = s->nparts; i < n; i++) {
            np[i].id = (int32_t)i;
            np[i].next = -1;
            np[i].pending_cut = -1;
            sl_buf_init(&np[i].data, 0);
        }
        s->parts = np;
        s->nparts = n;
    }
    part *p = &s->parts[id];
    if (!p->m_msgs && s->f_msgs) {
        char pid[16];
        snprintf(pid, sizeof(pid), "%d", (int)id);
        const char *lv[2] = {s->cfg.topic, pid};
        p->m_msgs = sl_mfamily_series(s->f_msgs, lv);
        p->m_lag = sl_mfamily_series(s->f_lag, lv);
        p->m_files = sl_mfamily_series(s->f_files, lv);
        p->m_rejects = sl_mfamily_series(s->f_rejects, lv);
    }
    return p;
}

static void part_clear(part *p)
{
    p->data.len = 0;
    p->n = 0;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)fac;
    sl_log(level <= 3 ? SL_LOG_WARN : SL_LOG_DEBUG, "librdkafka (source)",
           SL_KS("detail", buf));
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    sl_kafka_source *s = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* the committed offsets and their intents decide where each partition resumes and
         * where its first file ends */
        rd_kafka_resp_err_t cerr = RD_KAFKA_RESP_ERR__TIMED_OUT;
        for (int attempt = 0; attempt < 5 && cerr; attempt++)
            cerr = rd_kafka_committed(rk, parts, 5000);
        if (cerr)
            sl_log(SL_LOG_ERROR, "kafka source: cannot read committed offsets; resuming without "
                                 "them may cut a file differently (duplicate rows possible)",
                   SL_KS("error", rd_kafka_err2str(cerr)));
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            part *p = part_get(s, tp->partition);
            if (!p)
                continue;
            part_clear(p);
            p->active = true;
            p->next = -1;
            p->pending_cut = -1;
            if (tp->metadata_size > strlen(CUT_META) &&
                !memcmp(tp->metadata, CUT_META, strlen(CUT_META))) {
                char v[32];
                size_t l = tp->metadata_size - strlen(CUT_META);
                if (l < sizeof(v)) {
                    memcpy(v, (const char *)tp->metadata + strlen(CUT_META), l);
                    v[l] = 0;
                    p->pending_cut = strtoll(v, NULL, 10);
                }
            }
            sl_log(SL_LOG_INFO, "kafka source: partition assigned", SL_KS("topic", tp->topic),
                   SL_KI("partition", tp->partition), SL_KI("committed", tp->offset),
                   SL_KI("pending_cut", p->pending_cut));
        }
        rd_kafka_assign(rk, parts);
    } else {
        for (int i = 0; i < parts->cnt; i++) {
            part *p = part_get(s, parts->elems[i].partition);
            if (p) {
                part_clear(p);
                p->active = false;
            }
            sl_log(SL_LOG_INFO, "kafka source: partition revoked",
                   SL_KI("partition", parts->elems[i].partition));
        }
        rd_kafka_assign(rk, NULL);
    }
}

static sl_err fd_write(void *ctx, const void *p, size_t n)
{
    return sl_write_all(*(int *)ctx, p, n);
}

static sl_err write_staged(const char *path, const void *p, size_t n, int *fdp)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == ENOSPC ? SL_NOSPACE : SL_IO;
    sl_err err = sl_write_all(fd, p, n);
    if (!err && fdatasync(fd))
        err = SL_IO;
    if (fdp && !err) {
        *fdp = fd;
        return SL_OK;
    }
    close(fd);
    return err;
}

/* The rejects of a file, each line prefixed with the message's topic, partition and offset
 * (line N of the file is the file's N-th message). */
static sl_err rejects_with_offsets(const sl_kafka_source *s, const part *p, const sl_buf *rej,
                                   sl_buf *out)
{
    sl_err err = SL_OK;
    size_t off = 0;
    while (off < rej->len && !err) {
        const uint8_t *nl = memchr(rej->ptr + off, '\n', rej->len - off);
        size_t end = nl ? (size_t)(nl - rej->ptr) : rej->len;
        const char *line = (const char *)rej->ptr + off;
        unsigned long long ln = 0;
        if (sscanf(line, "{\"line\":%llu", &ln) != 1)
            ln = 0;
        size_t idx = ln >= 1 && ln <= p->n ? (size_t)ln - 1 : 0;
        err = sl_buf_printf(out, "{\"topic\":\"%s\",\"partition\":%d,\"offset\":%" PRId64 ",",
                            s->cfg.topic, (int)p->id, p->offs[idx]);
        if (!err && end > off + 1)
            err = sl_buf_append(out, line + 1, end - off - 1);
        if (!err)
            err = sl_buf_putc(out, '\n');
        off = end + 1;
    }
    return err;
}

/* Parses the buffered messages and publishes the file(s) of offsets [first, last]. */
static sl_err write_file(sl_kafka_source *s, part *p, int64_t first, int64_t last, char *msg,
                         size_t msgn)
{
    sl_err err;
    const char *hdr = s->header;
    size_t hdrn = strlen(hdr);
    sl_schema *inferred = NULL;
    const sl_schema *schema = s->model;
    if (!schema) {
        err = sl_bodyp_infer(s->cfg.format, (const uint8_t *)hdr, hdrn, p->data.ptr, p->data.len,
                             p->n, &inferred, msg, msgn);
        if (err == SL_FORMAT) {
            /* nothing usable to infer from: a schema of one string column, so every message is
             * kept (as a rejected row) rather than blocking the partition */
            if ((err = sl_schema_create(&inferred)) ||
                (err = sl_schema_add(inferred, "value", sl_type_of(SL_TYPE_STRING), true)))
                return err;
        } else if (err) {
            return err;
        }
        schema = inferred;
    }
    sl_bodyp *bp = NULL;
    sl_batch *b = NULL;
    sl_buf rej, rej2;
    sl_buf_init(&rej, 0);
    sl_buf_init(&rej2, 0);
    sl_bodyp_opts o = {schema, s->cfg.format, false};
    sl_body_result res;
    memset(&res, 0, sizeof(res));
    char stage[1400], key[1400];
    int fd = -1;
    err = sl_bodyp_create(&o, &bp);
    if (!err && s->cfg.format == SL_FMT_CSV)
        err = sl_bodyp_set_header(bp, (const uint8_t *)hdr, hdrn, msg, msgn);
    if (!err)
        err = sl_batch_create(schema, &b);
    if (!err)
        err = sl_bodyp_parse(bp, p->data.ptr, p->data.len, 1, b, &rej, &res);
    if (err) {
        if (!msg[0])
            snprintf(msg, msgn, "parsing messages: %s", sl_strerror(err));
        goto out;
    }
    sl_sink_error se = {0};
    if (sl_batch_rows(b) > 0) {
        snprintf(stage, sizeof(stage), "%s/kafka-%s-%d-%" PRId64 ".parquet.tmp", s->stage_dir,
                 s->cfg.topic, (int)p->id, first);
        fd = open(stage, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            err = errno == ENOSPC ? SL_NOSPACE : SL_IO;
            snprintf(msg, msgn, "creating %.300s: %s", stage, strerror(errno));
            goto out;
        }
        sl_pq_writer *w = NULL;
        sl_output out = {fd_write, &fd};
        err = sl_pq_writer_create(schema, &s->env.po, out, &w);
        if (!err)
            err = sl_pq_writer_write(w, b);
        if (!err)
            err = sl_pq_writer_finish(w);
        sl_pq_writer_destroy(w);
        if (!err && fdatasync(fd))
            err = SL_IO;
        close(fd);
        fd = -1;
        if (err) {
            snprintf(msg, msgn, "writing %.300s: %s", stage, sl_strerror(err));
            unlink(stage);
            goto out;
        }
        snprintf(key, sizeof(key), "%s/%s-%d-%" PRId64 "-%" PRId64 ".parquet", s->cfg.topic,
                 s->cfg.topic, (int)p->id, first, last);
        err = s->env.files->publish(s->env.files, stage, key, &se);
        if (err) {
            snprintf(msg, msgn, "publishing %.300s: %.300s%s%.150s", key, se.message,
                     se.hint[0] ? "; hint: " : "", se.hint);
            unlink(stage);
            goto out;
        }
    }
    if (rej.len) {
        err = rejects_with_offsets(s, p, &rej, &rej2);
        snprintf(stage, sizeof(stage), "%s/kafka-%s-%d-%" PRId64 ".ndjson.tmp", s->stage_dir,
                 s->cfg.topic, (int)p->id, first);
        if (!err)
            err = write_staged(stage, rej2.ptr, rej2.len, NULL);
        if (err) {
            snprintf(msg, msgn, "writing %.300s: %s", stage, sl_strerror(err));
            unlink(stage);
            goto out;
        }
        snprintf(key, sizeof(key), "%s/_rejects/%s-%d-%" PRId64 "-%" PRId64 ".ndjson",
                 s->cfg.topic, s->cfg.topic, (int)p->id, first, last);
        err = s->env.files->publish(s->env.files, stage, key, &se);
        if (err) {
            snprintf(msg, msgn, "publishing %.300s: %.300s", key, se.message);
            unlink(stage);
            goto out;
        }
    }
    sl_mseries_add(p->m_rejects, (double)res.rows_rejected);
out:
    sl_buf_release(&rej);
    sl_buf_release(&rej2);
    sl_batch_destroy(b);
    sl_bodyp_destroy(bp);
    sl_schema_destroy(inferred);
    return err;
}

/* Commits `offset` for the partition with `meta` (NULL: none), synchronously. */
static rd_kafka_resp_err_t commit(sl_kafka_source *s, part *p, int64_t offset, const char *meta)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, s->cfg.topic, p->id);
    tp->offset = offset;
    if (meta) {
        tp->metadata = strdup(meta);
        tp->metadata_size = tp->metadata ? strlen(meta) : 0;
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(s->rk, l, 0);
    if (!err && l->elems[0].err)
        err = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    return err;
}

/* After a failure: back off, then consume the file's messages again from `first`, cutting at
 * the same place. */
static void rewind_part(sl_kafka_source *s, part *p, int64_t first, int64_t last)
{
    s->failures++;
    double delay = 0.1 * (double)(1u << (s->failures < 6 ? s->failures : 6));
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
    part_clear(p);
    p->pending_cut = last;
    p->next = first;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, s->cfg.topic, p->id)->offset = first;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, l, 5000);
    if (e) {
        sl_log(SL_LOG_WARN, "kafka source: seek failed", SL_KI("partition", p->id),
               SL_KS("error", rd_kafka_error_string(e)));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* false: the partition was rewound (its buffer dropped, to be consumed again) */
static bool flush_part(sl_kafka_source *s, part *p)
{
    if (!p->n)
        return true;
    int64_t first = p->offs[0], last = p->offs[p->n - 1];
    rd_kafka_resp_err_t kerr;
    if (p->pending_cut < 0) {
        char meta[48];
        snprintf(meta, sizeof(meta), CUT_META "%" PRId64, last);
        if ((kerr = commit(s, p, first, meta))) {
            /* most often: the partition was just taken away by a rebalance */
            sl_log(SL_LOG_WARN, "kafka source: cannot record the file's cut; retrying",
                   SL_KI("partition", p->id), SL_KS("error", rd_kafka_err2str(kerr)));
            rewind_part(s, p, first, -1);
            p->pending_cut = -1;
            return false;
        }
    }
    char msg[1024] = "";
    sl_err err = write_file(s, p, first, last, msg, sizeof(msg));
    if (err) {
        sl_log(SL_LOG_ERROR, "kafka source: writing a file failed; retrying",
               SL_KS("topic", s->cfg.topic), SL_KI("partition", p->id), SL_KI("first", first),
               SL_KI("last", last), SL_KS("error", msg[0] ? msg : sl_strerror(err)));
        rewind_part(s, p, first, last);
        return false;
    }
    if (s->crash_after > 0 && ++s->published >= s->crash_after) {
        /* test failpoint: the file is published, its offsets are not committed (a crash at
         * the worst moment); the intent must make the next consumer write the same file */
        sl_log(SL_LOG_WARN, "kafka source: test failpoint, exiting after publish",
               SL_KI("partition", p->id), SL_KI("first", first), SL_KI("last", last));
        _exit(99);
    }
    if ((kerr = commit(s, p, last + 1, NULL)))
        sl_log(SL_LOG_WARN, "kafka source: offset commit failed (the file is rewritten by "
                            "whoever resumes the partition, under the same name)",
               SL_KI("partition", p->id), SL_KS("error", rd_kafka_err2str(kerr)));
    s->failures = 0;
    sl_mseries_inc(p->m_files);
    sl_log(SL_LOG_DEBUG, "kafka source: file published", SL_KI("partition", p->id),
           SL_KI("first", first), SL_KI("last", last), SL_KU("messages", p->n));
    part_clear(p);
    p->pending_cut = -1;
    return true;
}

static void on_message(sl_kafka_source *s, const rd_kafka_message_t *m)
{
    part *p = part_get(s, m->partition);
    if (!p || !p->active)
        return;
    if (p->next >= 0 && m->offset < p->next)
        return; /* already buffered (a fetch from before a seek) */
    /* the intended file ends before this message; after a rewind this message comes again */
    if (p->pending_cut >= 0 && m->offset > p->pending_cut && p->n && !flush_part(s, p))
        return;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 1024;
        int64_t *no = realloc(p->offs, nc * sizeof(*no));
        if (!no) {
            sl_log0(SL_LOG_ERROR, "kafka source: out of memory");
            return;
        }
        p->offs = no;
        p->cap = nc;
    }
    size_t l0 = p->data.len;
    const uint8_t *v = m->payload;
    size_t n = m->len;
    if (s->cfg.format == SL_FMT_CSV)
        while (n && (v[n - 1] == '\n' || v[n - 1] == '\r'))
            n--;
    sl_err err = sl_buf_append(&p->data, v, n);
    if (!err && s->cfg.format == SL_FMT_JSONL) /* one object per line: JSON whitespace only */
        for (size_t i = l0; i < p->data.len; i++)
            if (p->data.ptr[i] == '\n' || p->data.ptr[i] == '\r')
                p->data.ptr[i] = ' ';
    if (!err)
        err = sl_buf_putc(&p->data, '\n');
    if (err) {
        p->data.len = l0;
        sl_log0(SL_LOG_ERROR, "kafka source: out of memory");
        return;
    }
    if (!p->n)
        p->opened = sl_mono_seconds();
    p->offs[p->n++] = m->offset;
    p->next = m->offset + 1;
    sl_mseries_inc(p->m_msgs);
    if (p->pending_cut >= 0 ? m->offset >= p->pending_cut
                            : (p->n >= s->cfg.batch || p->data.len >= s->cfg.max_bytes))
        flush_part(s, p);
}

static void update_lag(sl_kafka_source *s)
{
    for (size_t i = 0; i < s->nparts; i++) {
        part *p = &s->parts[i];
        if (!p->active || p->next < 0 || !p->m_lag)
            continue;
        int64_t lo, hi;
        if (!rd_kafka_get_watermark_offsets(s->rk, s->cfg.topic, p->id, &lo, &hi) && hi >= 0)
            sl_mseries_set(p->m_lag, (double)(hi > p->next ? hi - p->next : 0));
    }
}

static sl_err load_model(sl_kafka_source *s, char *msg, size_t msgn);
static sl_err subscribe(sl_kafka_source *s, char *msg, size_t msgn);

/* model= names a model nobody has created yet (POST /v1/models on this server, say): consume
 * nothing until it is there, so that every file gets its schema. Looks again every second. */
static bool wait_for_model(sl_kafka_source *s)
{
    char last[512] = "";
    while (!atomic_load(&s->stop)) {
        char msg[512] = "";
        sl_err err = s->model ? SL_OK : load_model(s, msg, sizeof(msg));
        if (!err)
            err = subscribe(s, msg, sizeof(msg));
        if (!err) {
            sl_log(SL_LOG_INFO, "kafka source: model found; consuming", SL_KS("model", s->cfg.model),
                   SL_KS("topic", s->cfg.topic));
            s->model_wait = false;
            return true;
        }
        if (strcmp(msg, last)) /* say it again only when it changes */
            sl_log(SL_LOG_WARN, "kafka source: waiting for the model; nothing is consumed meanwhile",
                   SL_KS("model", s->cfg.model), SL_KS("detail", msg),
                   SL_KS("hint", "create it: POST /v1/models or sluice model create"));
        snprintf(last, sizeof(last), "%s", msg);
        for (int i = 0; i < 10 && !atomic_load(&s->stop); i++) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return false;
}

static void *source_main(void *arg)
{
    sl_kafka_source *s = arg;
    if (s->model_wait && !wait_for_model(s))
        return NULL;
    double last_tick = sl_mono_seconds();
    while (!atomic_load(&s->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 100);
        if (m) {
            if (!m->err)
                on_message(s, m);
            else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                sl_log(SL_LOG_WARN, "kafka source: consumer error",
                       SL_KS("error", rd_kafka_message_errstr(m)));
            rd_kafka_message_destroy(m);
        }
        double now = sl_mono_seconds();
        if (now - last_tick >= 0.1) {
            last_tick = now;
            for (size_t i = 0; i < s->nparts; i++) {
                part *p = &s->parts[i];
                if (p->active && p->n && p->pending_cut < 0 && now - p->opened >= s->cfg.age)
                    flush_part(s, p);
            }
            update_lag(s);
        }
    }
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i].active && s->parts[i].n)
            flush_part(s, &s->parts[i]);
    return NULL;
}

typedef struct {
    rd_kafka_conf_t *conf;
    char *errstr;
    size_t errn;
} conf_ctx;

static sl_err conf_set(void *ctx, const char *k, const char *v)
{
    conf_ctx *c = ctx;
    return rd_kafka_conf_set(c->conf, k, v, c->errstr, c->errn) == RD_KAFKA_CONF_OK ? SL_OK
                                                                                   : SL_INVALID;
}

/* "k=v;k=v" (same syntax as KAFKA_PROPERTIES) */
static sl_err props_each(const char *props, conf_ctx *cc)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", props ? props : "");
    char *save = NULL;
    for (char *it = strtok_r(buf, ";\n", &save); it; it = strtok_r(NULL, ";\n", &save)) {
        char *eq = strchr(it, '=');
        if (!eq || eq == it)
            return SL_INVALID;
        *eq = 0;
        if (conf_set(cc, it, eq + 1))
            return SL_INVALID;
    }
    return SL_OK;
}

/* The model's schema from models_dir/NAME.json (where POST /v1/models and `sluice model create`
 * put it, as for ingest's ?model=), and the CSV header from its fields unless columns= gives
 * one. SL_RETRY: no such model (yet); SL_INVALID: it does not parse. */
static sl_err load_model(sl_kafka_source *s, char *msg, size_t msgn)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s.json", s->env.models_dir ? s->env.models_dir : ".",
             s->cfg.model);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_read_file(path, &b, (size_t)4 << 20);
    char emsg[256] = "";
    if (err == SL_RETRY) {
        sl_buf_release(&b);
        snprintf(msg, msgn, "model '%s' not found (looked for %.300s)", s->cfg.model, path);
        return SL_RETRY;
    }
    if (!err)
        err = sl_schema_from_json((const char *)b.ptr, b.len, &s->model, emsg, sizeof(emsg));
    sl_buf_release(&b);
    if (err) {
        snprintf(msg, msgn, "model '%s' (%.300s): %s", s->cfg.model, path,
                 emsg[0] ? emsg : "cannot be read");
        return SL_INVALID;
    }
    if (s->cfg.format == SL_FMT_CSV && !s->cfg.columns[0]) {
        size_t o = 0;
        for (size_t i = 0; i < s->model->nfields && o < sizeof(s->header); i++)
            o += (size_t)snprintf(s->header + o, sizeof(s->header) - o, "%s%s", i ? "," : "",
                                  s->model->fields[i].name);
    }
    return SL_OK;
}

static sl_err subscribe(sl_kafka_source *s, char *msg, size_t msgn)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, s->cfg.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t kerr = rd_kafka_subscribe(s->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (kerr) {
        snprintf(msg, msgn, "cannot subscribe to %s: %s", s->cfg.topic, rd_kafka_err2str(kerr));
        return SL_INVALID;
    }
    return SL_OK;
}

void sl_kafka_source_stop(sl_kafka_source *s)
{
    if (!s)
        return;
    if (s->rk) {
        atomic_store(&s->stop, true);
        pthread_join(s->th, NULL);
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
    }
    for (size_t i = 0; i < s->nparts; i++) {
        sl_buf_release(&s->parts[i].data);
        free(s->parts[i].offs);
    }
    free(s->parts);
    sl_schema_destroy(s->model);
    free(s);
}

sl_err sl_kafka_source_start(const sl_kafka_source_config *c, const sl_kafka_source_env *env,
                             sl_kafka_source **out, char *msg, size_t msgn)
{
    sl_kafka_source *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(msg, msgn, "out of memory");
        return SL_NOMEM;
    }
    s->cfg = *c;
    s->env = *env;
    snprintf(s->stage_dir, sizeof(s->stage_dir), "%s", env->stage_dir);
    const char *fp = getenv("SLUICE_TEST_KAFKA_CRASH_AFTER_PUBLISH");
    s->crash_after = fp ? strtol(fp, NULL, 10) : 0;
    s->env.stage_dir = s->stage_dir;
    if (c->format == SL_FMT_CSV && c->columns[0])
        snprintf(s->header, sizeof(s->header), "%s", c->columns);
    if (c->model[0]) {
        sl_err merr = load_model(s, msg, msgn);
        if (merr == SL_RETRY) { /* not created yet: the thread waits for it (wait_for_model) */
            s->model_wait = true;
            msg[0] = 0;
        } else if (merr) {
            sl_kafka_source_stop(s);
            return SL_INVALID;
        }
    }
    if (env->metrics) {
        s->f_msgs = sl_metrics_family(env->metrics, SL_M_COUNTER,
                                      "sluice_kafka_source_messages_total",
                                      "Messages consumed from Kafka.", "topic,partition", NULL, 0);
        s->f_lag = sl_metrics_family(env->metrics, SL_M_GAUGE, "sluice_kafka_source_lag_messages",
                                     "Messages between the consumer's position and the end of "
                                     "the partition.",
                                     "topic,partition", NULL, 0);
        s->f_files = sl_metrics_family(env->metrics, SL_M_COUNTER,
                                       "sluice_kafka_source_files_total",
                                       "Files published from Kafka partitions.",
                                       "topic,partition", NULL, 0);
        s->f_rejects = sl_metrics_family(env->metrics, SL_M_COUNTER,
                                         "sluice_kafka_source_rejected_total",
                                         "Messages that did not parse (written to _rejects).",
                                         "topic,partition", NULL, 0);
    }
    char errstr[512] = "", sess[24];
    snprintf(sess, sizeof(sess), "%u", c->session_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_ctx cc = {conf, errstr, sizeof(errstr)};
    const char *fixed[][2] = {{"bootstrap.servers", c->brokers},
                              {"group.id", c->group},
                              {"enable.auto.commit", "false"},
                              {"enable.auto.offset.store", "false"},
                              {"auto.offset.reset", "earliest"},
                              {"session.timeout.ms", sess},
                              {"isolation.level", "read_committed"},
                              {"client.id", "sluice-source"}};
    sl_err err = SL_OK;
    for (size_t i = 0; !err && i < sizeof(fixed) / sizeof(fixed[0]); i++)
        err = conf_set(&cc, fixed[i][0], fixed[i][1]);
    if (!err)
        err = props_each(env->props, &cc);
    if (!err)
        err = props_each(c->props, &cc);
    if (err) {
        snprintf(msg, msgn, "Kafka consumer configuration refused: %.400s",
                 errstr[0] ? errstr : "malformed properties (expected key=value;...)");
        rd_kafka_conf_destroy(conf);
        sl_kafka_source_stop(s);
        return SL_INVALID;
    }
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_log_cb(conf, on_log);
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(msg, msgn, "cannot create the Kafka consumer: %.400s", errstr);
        sl_kafka_source_stop(s);
        return SL_INVALID;
    }
    rd_kafka_poll_set_consumer(s->rk);
    if (!s->model_wait && subscribe(s, msg, msgn)) {
        rd_kafka_destroy(s->rk);
        s->rk = NULL;
        sl_kafka_source_stop(s);
        return SL_INVALID;
    }
    if (pthread_create(&s->th, NULL, source_main, s)) {
        snprintf(msg, msgn, "cannot start the Kafka source thread");
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
        s->rk = NULL;
        sl_kafka_source_stop(s);
        return SL_NOMEM;
    }
    sl_log(SL_LOG_INFO, "kafka source started", SL_KS("brokers", c->brokers),
           SL_KS("topic", c->topic), SL_KS("group", c->group));
    *out = s;
    return SL_OK;
}
