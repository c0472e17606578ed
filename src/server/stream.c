/* stream.c: streams, their lanes (committed requests -> Parquet + rejects files), the
 * checkpoint, and recovery from the WAL. See server.h for the record formats and the
 * exactly-once argument.
 *
 * A lane is one thread per stream. It takes committed requests (txns) strictly in sequence
 * order (they may be pushed out of order by the request threads; the queue is sorted), and
 * appends them to the open "unit": a staged Parquet file for rows and a staged NDJSON file for
 * rejects. Within a txn, pieces (one per DATA record) are taken in order, each piece's rejects
 * before its rows, whether the txn comes parsed from the request (cached) or is parsed again
 * from the WAL; so the sequence of states a lane passes through is the same on every run.
 *
 * A unit is flushed when it holds BATCH_SIZE rows (cut exactly), when its uncompressed size
 * passes target_file_bytes or its age flush_interval (checked between txns), at shutdown, or
 * when it reaches a pending intent. Flush: finish + fdatasync the staged files, write the
 * intent (rows [a, b), rejects [r, s)) to the checkpoint, publish (rename into
 * out/STREAM/dt=DAY/part-SEG-A-B.parquet and out/STREAM/_rejects/dt=DAY/rejects-SEG-R-S.ndjson,
 * fsync the directories), then record the new flushed positions and drop the intent. After a
 * crash, recovery pushes every txn not wholly flushed back into its lane; rows and rejects below
 * the flushed positions are skipped, and a pending intent forces the same cut, so the same
 * files are written again under the same names.
 *
 * Failures while writing or publishing a unit: the lane logs, counts, reports unhealthy, waits
 * (exponential backoff, at most 30 s; a new request ends the wait early, and such a cut-short
 * wait does not double the next one) and rewinds: it discards the staged unit and takes the
 * retained txns (everything since the last flush) again from the WAL.
 *
 * Lock order: ckpt_mu, then srv->mu, then stream->mu (each may be taken alone). The lane holds
 * no lock while encoding or writing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/body_parse.h"
#include "server/server.h"
#include "util/crc32c.h"
#include "util/fsutil.h"
#include "util/log.h"

#define BODYP_POOL 16  /* body parsers kept for reuse: about one per connection */
#define BATCH_POOL 48 /* pieces of 1 MiB (--chunk-bytes): ~100 MiB at most */
#define BATCH_POOL_MAX_BYTES ((uint64_t)16 << 20)

struct sl_stream {
    sl_server *srv;
    char *name;
    char *model;
    char *key; /* event key column (the model's event_key at creation), or NULL */
    sl_schema *schema;

    pthread_mutex_t mu; /* counters and queue */
    pthread_cond_t cv;
    uint64_t next_row, next_reject; /* sequence numbers the next commit gets */
    sl_txn *q_head;                 /* sorted by (first_row, first_reject) */
    uint64_t q_rows;
    uint64_t retained_rows; /* rows of retained txns (processed, not yet published) */
    uint64_t expect_row, expect_reject; /* the txn the lane takes next starts here */
    bool expect_set;
    bool stop;
    uint64_t backlog; /* txns pushed by recovery, not yet processed */
    /* the committed watermark for readers (sl_stream_progress, sl_stream_wait_committed): rows
     * [0, committed_row) and rejects [0, committed_reject) are in the sink, copied from the
     * checkpoint's flushed positions after each flush; commit_cv is broadcast then */
    uint64_t committed_row, committed_reject;
    pthread_cond_t commit_cv;
    /* a waiter wants rows [0, want_row) and rejects [0, want_reject) committed: the lane
     * flushes as soon as its open unit holds them, not at the flush interval */
    uint64_t want_row, want_reject;

    pthread_t thread;
    bool thread_started;

    /* checkpoint state, under ckpt_mu */
    uint64_t flushed_row, flushed_reject;
    bool has_intent;
    uint64_t i_row0, i_row1, i_rej0, i_rej1;

    /* lane-only state */
    uint64_t pos_row, pos_rej; /* next row / reject to append to the unit */
    uint64_t taken_commit_lsn; /* COMMIT record of the last txn taken (durable before a flush) */
    sl_txn *retained, *retained_tail; /* processed txns not yet wholly flushed */
    sl_txn *current;                  /* the txn being processed: never dropped under it */
    sl_unit_sink *us; /* where the rows of each unit go (Parquet files by default) */
    size_t part_cols[SL_MAX_PARTITION]; /* Hive partition columns (indexes), from the model */
    size_t npart;
    bool unit_begun;  /* us->begin called for the open unit */
    sl_sink_error serr; /* details of the last unit sink error */
    int rj_fd;        /* the unit's dead letters, when us->rejects is NULL */
    char rj_path[1400];
    uint64_t unit_row0, unit_rej0;
    uint64_t unit_bytes;
    double unit_opened;
    bool unit_open; /* seg/day decided */
    uint64_t unit_seg;
    int64_t unit_received_us;
    sl_batch *scratch;
    sl_buf scratch_rej;
    /* parsed batches given back by the lane for the next requests (under mu): their column
     * memory is already allocated and touched, which saves the growth and page faults */
    sl_batch *pool[BATCH_POOL];
    size_t npool;
    /* body parsers given back by finished requests (under mu): their buffers and converter
     * are reused, not rebuilt per request */
    struct {
        sl_bodyp *p;
        sl_format fmt;
        bool unknown_reject;
    } bpool[BODYP_POOL];
    size_t nbpool;
    size_t hint_rows;   /* most rows in a piece given back, and ... */
    size_t *hint_bytes; /* ... the most bytes per variable-width column: new batches' size */
    sl_buf rec;
    unsigned failures;
    bool backoff_cut; /* the last backoff was ended early by a signal (lane-only) */
    atomic_bool failing;
    char fail_reason[1024];
    pthread_mutex_t fail_mu;

    sl_mseries *m_flush_rows, *m_flush_bytes, *m_flush_age, *m_flush_stop, *m_flush_queue,
        *m_flush_wait, *m_files_parquet, *m_files_rejects, *m_out_bytes, *m_sink_fail;
};

static pthread_mutex_t ckpt_mu = PTHREAD_MUTEX_INITIALIZER;

/* Bytes a batch holds allocated. */
static uint64_t batch_capacity(const sl_batch *b)
{
    uint64_t n = 0;
    for (size_t i = 0; i < b->ncols; i++) {
        const sl_column *c = &b->cols[i];
        n += (uint64_t)c->cap * (c->width ? c->width : 4) + c->bytes_cap;
        if (c->nullable)
            n += c->cap;
    }
    return n;
}

sl_err sl_stream_batch_take(sl_stream *st, sl_batch **out)
{
    pthread_mutex_lock(&st->mu);
    sl_batch *b = st->npool ? st->pool[--st->npool] : NULL;
    pthread_mutex_unlock(&st->mu);
    if (b) {
        *out = b;
        return SL_OK;
    }
    sl_err err = sl_batch_create(st->schema, out);
    if (err)
        return err;
    /* sized like the largest piece seen, so the columns do not grow by copying */
    b = *out;
    pthread_mutex_lock(&st->mu);
    size_t rows = st->hint_rows;
    for (size_t i = 0; !err && rows && i < b->ncols; i++)
        err = sl_col_reserve(&b->cols[i], rows, b->cols[i].width ? 0 : st->hint_bytes[i]);
    pthread_mutex_unlock(&st->mu);
    return SL_OK; /* a failed reservation only means growing later */
}

sl_err sl_stream_bodyp_take(sl_stream *st, sl_format fmt, bool unknown_reject, sl_bodyp **out)
{
    sl_bodyp *p = NULL;
    pthread_mutex_lock(&st->mu);
    for (size_t i = st->nbpool; i-- > 0;)
        if (st->bpool[i].fmt == fmt && st->bpool[i].unknown_reject == unknown_reject) {
            p = st->bpool[i].p;
            st->bpool[i] = st->bpool[--st->nbpool];
            break;
        }
    pthread_mutex_unlock(&st->mu);
    if (p) {
        *out = p;
        return SL_OK;
    }
    sl_bodyp_opts o = {st->schema, fmt, unknown_reject};
    return sl_bodyp_create(&o, out);
}

void sl_stream_bodyp_give(sl_stream *st, sl_format fmt, bool unknown_reject, sl_bodyp *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&st->mu);
    if (st->nbpool < BODYP_POOL) {
        st->bpool[st->nbpool].p = p;
        st->bpool[st->nbpool].fmt = fmt;
        st->bpool[st->nbpool].unknown_reject = unknown_reject;
        st->nbpool++;
        p = NULL;
    }
    pthread_mutex_unlock(&st->mu);
    sl_bodyp_destroy(p);
}

void sl_stream_batch_give(sl_stream *st, sl_batch *b)
{
    if (!b)
        return;
    if (batch_capacity(b) <= BATCH_POOL_MAX_BYTES) {
        pthread_mutex_lock(&st->mu);
        size_t rows = sl_batch_rows(b);
        if (rows > st->hint_rows && st->hint_bytes) {
            st->hint_rows = rows;
            for (size_t i = 0; i < b->ncols; i++)
                if (b->cols[i].bytes_len > st->hint_bytes[i])
                    st->hint_bytes[i] = b->cols[i].bytes_len;
        }
        pthread_mutex_unlock(&st->mu);
        sl_batch_clear(b);
        pthread_mutex_lock(&st->mu);
        if (st->npool < BATCH_POOL) {
            st->pool[st->npool++] = b;
            b = NULL;
        }
        pthread_mutex_unlock(&st->mu);
    }
    sl_batch_destroy(b);
}

bool sl_stream_name_valid(const char *name, size_t n)
{
    if (n == 0 || n > 64 || name[0] == '.' || name[0] == '_' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

const sl_schema *sl_stream_schema(const sl_stream *st)
{
    return st->schema;
}
const char *sl_stream_model(const sl_stream *st)
{
    return st->model;
}
const char *sl_stream_name(const sl_stream *st)
{
    return st->name;
}

void sl_stream_progress(sl_stream *st, sl_stream_pos *out)
{
    pthread_mutex_lock(&st->mu);
    out->next_row = st->next_row;
    out->next_reject = st->next_reject;
    out->committed_row = st->committed_row;
    out->committed_reject = st->committed_reject;
    pthread_mutex_unlock(&st->mu);
}

bool sl_stream_wait_committed(sl_stream *st, uint64_t rows, uint64_t rejects, double timeout,
                              sl_stream_pos *out)
{
    double end = sl_mono_seconds() + timeout;
    pthread_mutex_lock(&st->mu);
    bool done = st->committed_row >= rows && st->committed_reject >= rejects;
    if (!done && timeout > 0 && (st->want_row < rows || st->want_reject < rejects)) {
        /* ask the lane to flush as soon as its unit holds these (it may hold them already);
         * signalled only when the target grows: a waiter polling the same target must not cut
         * the lane's backoff short while the sink is down */
        if (st->want_row < rows)
            st->want_row = rows;
        if (st->want_reject < rejects)
            st->want_reject = rejects;
        pthread_cond_signal(&st->cv);
    }
    while (!done && !st->stop && !atomic_load(&st->srv->stopping)) {
        double left = end - sl_mono_seconds();
        if (left <= 0)
            break;
        /* slices, so a shutdown (which does not signal this) is seen within 0.2 s */
        struct timespec until = sl_deadline_after(left < 0.2 ? left : 0.2);
        pthread_cond_timedwait(&st->commit_cv, &st->mu, &until);
        done = st->committed_row >= rows && st->committed_reject >= rejects;
    }
    pthread_mutex_unlock(&st->mu);
    sl_stream_progress(st, out);
    return done;
}

/* Drops the parsed copy of a txn (it is parsed again from the WAL if needed). */
void sl_txn_uncache(sl_server *srv, sl_txn *t)
{
    for (size_t i = 0; t->batches && i < t->ndata; i++) {
        if (t->pool_owner)
            sl_stream_batch_give(t->pool_owner, t->batches[i]);
        else
            sl_batch_destroy(t->batches[i]);
    }
    free(t->batches);
    t->batches = NULL;
    sl_buf_release(&t->rejects);
    free(t->piece_rows);
    free(t->piece_rejs);
    free(t->piece_rej_bytes);
    t->piece_rows = t->piece_rejs = NULL;
    t->piece_rej_bytes = NULL;
    if (t->cache_charge)
        sl_server_cache_give(srv, t->cache_charge);
    t->cache_charge = 0;
}

void sl_txn_free(sl_server *srv, sl_txn *t)
{
    if (!t)
        return;
    sl_txn_uncache(srv, t);
    free(t->locs);
    free(t->lsns);
    free(t);
}

/* ---- files ------------------------------------------------------------------------------ */

/* ---- checkpoint ------------------------------------------------------------------------- */

/* DATA/checkpoint: "SLCKPT01", u32 count, per stream: u16 name length, name, u64 flushed_row,
 * u64 flushed_reject, u8 has_intent, u64 i_row0, i_row1, i_rej0, i_rej1; u32 CRC32C of all
 * that. Caller holds ckpt_mu. */
static sl_err ckpt_write_locked(sl_server *srv)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    uint8_t tmp[64];
    sl_err err = sl_buf_append(&b, "SLCKPT01", 8);
    pthread_mutex_lock(&srv->mu);
    size_t n = srv->nstreams;
    sl_store_le32(tmp, (uint32_t)n);
    if (!err)
        err = sl_buf_append(&b, tmp, 4);
    for (size_t i = 0; !err && i < n; i++) {
        sl_stream *st = srv->streams[i];
        size_t nl = strlen(st->name);
        sl_put_u16(tmp, (uint16_t)nl);
        err = sl_buf_append(&b, tmp, 2);
        if (!err)
            err = sl_buf_append(&b, st->name, nl);
        sl_put_u64(tmp, st->flushed_row);
        sl_put_u64(tmp + 8, st->flushed_reject);
        tmp[16] = st->has_intent;
        sl_put_u64(tmp + 17, st->i_row0);
        sl_put_u64(tmp + 25, st->i_row1);
        sl_put_u64(tmp + 33, st->i_rej0);
        sl_put_u64(tmp + 41, st->i_rej1);
        if (!err)
            err = sl_buf_append(&b, tmp, 49);
    }
    pthread_mutex_unlock(&srv->mu);
    if (!err) {
        sl_store_le32(tmp, sl_crc32c(0, b.ptr, b.len));
        err = sl_buf_append(&b, tmp, 4);
    }
    if (!err)
        err = sl_write_file_atomic(srv->cfg.data_dir, "checkpoint", b.ptr, b.len);
    sl_buf_release(&b);
    return err;
}

static sl_err ckpt_load(sl_server *srv)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/checkpoint", srv->cfg.data_dir);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_read_file(path, &b, (size_t)64 << 20);
    if (err == SL_RETRY) {
        sl_buf_release(&b);
        return SL_OK; /* first start */
    }
    if (err)
        goto out;
    err = SL_FORMAT;
    if (b.len < 16 || memcmp(b.ptr, "SLCKPT01", 8) ||
        sl_crc32c(0, b.ptr, b.len - 4) != sl_load_le32(b.ptr + b.len - 4)) {
        sl_log(SL_LOG_ERROR, "checkpoint file is corrupt", SL_KS("path", path));
        goto out;
    }
    size_t end = b.len - 4, off = 12;
    uint32_t n = sl_load_le32(b.ptr + 8);
    for (uint32_t i = 0; i < n; i++) {
        if (off + 2 > end)
            goto out;
        size_t nl = sl_get_u16(b.ptr + off);
        off += 2;
        if (off + nl + 49 > end)
            goto out;
        char name[80];
        if (nl >= sizeof(name))
            goto out;
        memcpy(name, b.ptr + off, nl);
        name[nl] = 0;
        off += nl;
        const uint8_t *q = b.ptr + off;
        off += 49;
        sl_stream *st = sl_stream_find(srv, name);
        if (!st) {
            sl_log(SL_LOG_WARN, "checkpoint names a stream without a definition",
                   SL_KS("stream", name));
            continue;
        }
        st->flushed_row = sl_get_u64(q);
        st->flushed_reject = sl_get_u64(q + 8);
        st->has_intent = q[16] != 0;
        st->i_row0 = sl_get_u64(q + 17);
        st->i_row1 = sl_get_u64(q + 25);
        st->i_rej0 = sl_get_u64(q + 33);
        st->i_rej1 = sl_get_u64(q + 41);
        st->next_row = st->flushed_row;
        st->next_reject = st->flushed_reject;
        st->committed_row = st->flushed_row;
        st->committed_reject = st->flushed_reject;
    }
    err = SL_OK;
out:
    sl_buf_release(&b);
    return err;
}

/* ---- stream registry -------------------------------------------------------------------- */

sl_stream *sl_stream_find(sl_server *srv, const char *name)
{
    sl_stream *found = NULL;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->nstreams; i++)
        if (!strcmp(srv->streams[i]->name, name)) {
            found = srv->streams[i];
            break;
        }
    pthread_mutex_unlock(&srv->mu);
    return found;
}

static void stream_free(sl_stream *st)
{
    if (!st)
        return;
    sl_server *srv = st->srv;
    for (sl_txn *t = st->q_head, *nx; t; t = nx) {
        nx = t->next;
        sl_txn_free(srv, t);
    }
    for (sl_txn *t = st->retained, *nx; t; t = nx) {
        nx = t->next;
        sl_txn_free(srv, t);
    }
    if (st->us)
        st->us->destroy(st->us);
    if (st->rj_fd >= 0)
        close(st->rj_fd);
    sl_batch_destroy(st->scratch);
    for (size_t i = 0; i < st->npool; i++)
        sl_batch_destroy(st->pool[i]);
    for (size_t i = 0; i < st->nbpool; i++)
        sl_bodyp_destroy(st->bpool[i].p);
    free(st->hint_bytes);
    sl_buf_release(&st->scratch_rej);
    sl_buf_release(&st->rec);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    pthread_cond_destroy(&st->commit_cv);
    pthread_mutex_destroy(&st->fail_mu);
    sl_schema_destroy(st->schema);
    free(st->name);
    free(st->model);
    free(st->key);
    free(st);
}

/* "a,b" -> column indexes of schema; only types with a plain text form. */
static sl_err resolve_partition(const sl_schema *schema, const char *list, size_t *cols,
                                size_t *n, char *msg, size_t msgn)
{
    *n = 0;
    if (!list || !*list)
        return SL_OK;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < schema->nfields && strcmp(schema->fields[i].name, tok))
            i++;
        if (i == schema->nfields) {
            snprintf(msg, msgn, "partition column '%.64s' is not a field of the schema", tok);
            return SL_INVALID;
        }
        sl_type_id t = schema->fields[i].type.id;
        if (t == SL_TYPE_FLOAT || t == SL_TYPE_DOUBLE || t == SL_TYPE_BINARY || t == SL_TYPE_JSON) {
            snprintf(msg, msgn, "partition column '%.64s' has a type that cannot name a directory "
                     "(float, double, binary, json); partition by a string, integer, bool, date, "
                     "timestamp or decimal column", tok);
            return SL_INVALID;
        }
        if (*n == SL_MAX_PARTITION) {
            snprintf(msg, msgn, "more than %d partition columns", SL_MAX_PARTITION);
            return SL_INVALID;
        }
        cols[(*n)++] = i;
    }
    return SL_OK;
}

static sl_err stream_new(sl_server *srv, const char *name, sl_schema *schema, const char *model,
                         const char *partition, const char *key, sl_stream **out, char *msg,
                         size_t msgn)
{
    sl_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return SL_NOMEM;
    st->srv = srv;
    st->rj_fd = -1;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    pthread_cond_init(&st->commit_cv, NULL);
    pthread_mutex_init(&st->fail_mu, NULL);
    sl_buf_init(&st->scratch_rej, 0);
    sl_buf_init(&st->rec, 0);
    st->name = strdup(name);
    st->model = model ? strdup(model) : NULL;
    st->key = key && key[0] ? strdup(key) : NULL;
    st->schema = schema;
    st->hint_bytes = calloc(schema->nfields ? schema->nfields : 1, sizeof(size_t));
    if (!st->name || (model && !st->model) || (key && key[0] && !st->key) || !st->hint_bytes ||
        sl_batch_create(schema, &st->scratch)) {
        st->schema = NULL;
        stream_free(st);
        snprintf(msg, msgn, "out of memory");
        return SL_NOMEM;
    }
    sl_err err = resolve_partition(schema, partition, st->part_cols, &st->npart, msg, msgn);
    if (err) {
        st->schema = NULL;
        stream_free(st);
        return err;
    }
    sl_sink_error se = {0};
    err = srv->units->create(srv->units, name, schema, &st->us, &se);
    if (err) {
        snprintf(msg, msgn, "cannot set up the %s sink for stream %s: %s%s%s", srv->units->kind,
                 name, se.message[0] ? se.message : sl_strerror(err), se.hint[0] ? "; " : "",
                 se.hint);
        st->us = NULL;
        st->schema = NULL;
        stream_free(st);
        return err;
    }
    const char *lv[2] = {name, "rows"};
    st->m_flush_rows = sl_mfamily_series(srv->m_flushes, lv);
    lv[1] = "bytes";
    st->m_flush_bytes = sl_mfamily_series(srv->m_flushes, lv);
    lv[1] = "age";
    st->m_flush_age = sl_mfamily_series(srv->m_flushes, lv);
    lv[1] = "shutdown";
    st->m_flush_stop = sl_mfamily_series(srv->m_flushes, lv);
    lv[1] = "queue";
    st->m_flush_queue = sl_mfamily_series(srv->m_flushes, lv);
    lv[1] = "commit_wait";
    st->m_flush_wait = sl_mfamily_series(srv->m_flushes, lv);
    lv[1] = "parquet";
    st->m_files_parquet = sl_mfamily_series(srv->m_files, lv);
    lv[1] = "rejects";
    st->m_files_rejects = sl_mfamily_series(srv->m_files, lv);
    st->m_out_bytes = sl_mfamily_series(srv->m_out_bytes, lv);
    const char *sv[1] = {st->us->kind};
    st->m_sink_fail = sl_mfamily_series(srv->m_sink_fail, sv);
    *out = st;
    return SL_OK;
}

static sl_err registry_add(sl_server *srv, sl_stream *st)
{
    if (srv->nstreams == srv->streams_cap) {
        size_t cap = srv->streams_cap ? 2 * srv->streams_cap : 8;
        sl_stream **p = realloc(srv->streams, cap * sizeof(*p));
        if (!p)
            return SL_NOMEM;
        srv->streams = p;
        srv->streams_cap = cap;
    }
    srv->streams[srv->nstreams++] = st;
    return SL_OK;
}

static void *lane_main(void *arg);

/* The partition_by of model `name` as "a,b" ("" if none) and its event_key ("" if none). */
static sl_err model_extras(sl_server *srv, const char *name, char *out, size_t n, char *key,
                           size_t keyn, char *msg, size_t msgn)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s.json", srv->cfg.models_dir, name);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_read_file(path, &b, (size_t)4 << 20);
    sl_model *m = NULL;
    char emsg[256] = "";
    if (!err)
        err = sl_model_from_json((const char *)b.ptr, b.len, &m, emsg, sizeof(emsg));
    sl_buf_release(&b);
    if (err) {
        snprintf(msg, msgn, "model '%s' cannot be read: %.200s", name,
                 emsg[0] ? emsg : sl_strerror(err));
        return err;
    }
    size_t used = 0;
    out[0] = '\0';
    snprintf(key, keyn, "%s", m->event_key ? m->event_key : "");
    if (strlen(key) + 1 >= keyn) {
        snprintf(msg, msgn, "model '%s': the event_key name is too long", name);
        sl_model_destroy(m);
        return SL_INVALID;
    }
    for (size_t i = 0; i < m->npartition_by && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "", m->partition_by[i]);
    sl_model_destroy(m);
    return used < n ? SL_OK : SL_INVALID;
}

sl_err sl_stream_get_or_create(sl_server *srv, const char *name, sl_schema *schema,
                               const char *model, sl_stream **out, char *msg, size_t msgn)
{
    static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&create_mu); /* one creation at a time; lookups go on */
    sl_stream *st = sl_stream_find(srv, name);
    sl_err err = SL_OK;
    if (st) {
        sl_schema_destroy(schema);
        goto out;
    }
    if (srv->nstreams >= 1000) {
        sl_schema_destroy(schema);
        snprintf(msg, msgn, "too many streams (limit 1000)");
        err = SL_FULL;
        goto out;
    }
    /* the model's partition columns are part of the stream's definition from now on (a later
     * change of the model must not rename the files of a unit replayed after a crash) */
    char partition[512] = "", key[256] = "";
    size_t pcols[SL_MAX_PARTITION], npc;
    if (model && ((err = model_extras(srv, model, partition, sizeof(partition), key, sizeof(key),
                                      msg, msgn)) ||
                  (err = resolve_partition(schema, partition, pcols, &npc, msg, msgn)))) {
        sl_schema_destroy(schema);
        goto out; /* nothing persisted for a stream that cannot work */
    }
    /* persist the definition before anything of the stream is logged */
    char *json = NULL;
    err = sl_schema_to_json(schema, &json);
    if (!err) {
        char fname[128];
        snprintf(fname, sizeof(fname), "%s.schema.json", name);
        err = sl_write_file_atomic(srv->streams_dir, fname, json, strlen(json));
        if (!err) {
            snprintf(fname, sizeof(fname), "%s.model", name);
            err = sl_write_file_atomic(srv->streams_dir, fname, model ? model : "",
                                       model ? strlen(model) : 0);
        }
        if (!err && partition[0]) {
            snprintf(fname, sizeof(fname), "%s.partition", name);
            err = sl_write_file_atomic(srv->streams_dir, fname, partition, strlen(partition));
        }
        if (!err && key[0]) { /* the event key likewise (PostgreSQL's conflict key) */
            snprintf(fname, sizeof(fname), "%s.key", name);
            err = sl_write_file_atomic(srv->streams_dir, fname, key, strlen(key));
        }
    }
    free(json);
    if (err) {
        sl_schema_destroy(schema);
        snprintf(msg, msgn, "cannot save the stream definition: %s", sl_strerror(err));
        goto out;
    }
    err = stream_new(srv, name, schema, model, partition, key, &st, msg, msgn);
    if (err)
        goto out;
    st->expect_set = true; /* a new stream starts at 0 */
    pthread_mutex_lock(&srv->mu);
    err = registry_add(srv, st);
    pthread_mutex_unlock(&srv->mu);
    if (err) {
        stream_free(st);
        st = NULL;
        goto out;
    }
    if (pthread_create(&st->thread, NULL, lane_main, st) == 0)
        st->thread_started = true;
    else
        sl_log(SL_LOG_ERROR, "cannot start the stream's lane thread", SL_KS("stream", name));
    pthread_mutex_lock(&ckpt_mu);
    err = ckpt_write_locked(srv);
    pthread_mutex_unlock(&ckpt_mu);
    sl_log(SL_LOG_INFO, "stream created", SL_KS("stream", name), SL_KS("model", model));
out:
    pthread_mutex_unlock(&create_mu);
    *out = st;
    return st ? SL_OK : (err ? err : SL_NOMEM);
}

sl_err sl_stream_commit(sl_stream *st, sl_txn *t)
{
    sl_server *srv = st->srv;
    size_t nl = strlen(st->name);
    uint8_t h[SL_COMMIT_HDR];
    pthread_mutex_lock(&st->mu);
    t->first_row = st->next_row;
    t->first_reject = st->next_reject;
    sl_put_u64(h, t->txn);
    sl_put_u64(h + 8, t->first_data_lsn);
    sl_store_le32(h + 16, (uint32_t)t->ndata);
    h[20] = t->format;
    h[21] = t->flags;
    sl_put_u16(h + 22, (uint16_t)nl);
    sl_put_u64(h + 24, t->first_row);
    sl_put_u64(h + 32, t->nrows);
    sl_put_u64(h + 40, t->first_reject);
    sl_put_u64(h + 48, t->nrejects);
    sl_put_u64(h + 56, (uint64_t)t->received_us);
    struct iovec iov[2] = {{h, sizeof(h)}, {st->name, nl}};
    sl_wal_loc loc;
    sl_err err = sl_wal_append(srv->wal, SL_REC_COMMIT, iov, 2, &t->commit_lsn, &loc);
    if (!err) {
        st->next_row += t->nrows;
        st->next_reject += t->nrejects;
        t->commit_segment = loc.segment;
    }
    pthread_mutex_unlock(&st->mu);
    return err;
}

static bool txn_before(const sl_txn *a, const sl_txn *b)
{
    return a->first_row < b->first_row ||
           (a->first_row == b->first_row && a->first_reject < b->first_reject);
}

void sl_stream_push(sl_stream *st, sl_txn *t)
{
    pthread_mutex_lock(&st->mu);
    sl_txn **pp = &st->q_head;
    while (*pp && txn_before(*pp, t))
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    st->q_rows += t->nrows;
    atomic_fetch_add(&st->srv->queued_rows, t->nrows);
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* ---- lane: the unit being written ------------------------------------------------------- */

static void set_failing(sl_stream *st, const char *what, const char *detail)
{
    pthread_mutex_lock(&st->fail_mu);
    snprintf(st->fail_reason, sizeof(st->fail_reason), "%.60s: %.900s", what, detail);
    pthread_mutex_unlock(&st->fail_mu);
    if (!atomic_exchange(&st->failing, true))
        atomic_fetch_add(&st->srv->failing_streams, 1);
}

static void unit_discard(sl_stream *st)
{
    if (st->unit_begun)
        st->us->abort(st->us);
    st->unit_begun = false;
    if (st->rj_fd >= 0) {
        close(st->rj_fd);
        unlink(st->rj_path);
    }
    st->rj_fd = -1;
    st->unit_open = false;
    st->unit_bytes = 0;
}

/* Starts the unit when the first row or reject goes in; txn t decides its day and segment. */
static void unit_touch(sl_stream *st, const sl_txn *t)
{
    if (st->unit_open)
        return;
    st->unit_open = true;
    st->unit_row0 = st->pos_row;
    st->unit_rej0 = st->pos_rej;
    st->unit_seg = t->commit_segment;
    st->unit_received_us = t->received_us;
    st->unit_opened = sl_mono_seconds();
    st->unit_bytes = 0;
}

/* The unit sink hears of the unit when its first row (or reject) is written. */
static sl_err unit_begin(sl_stream *st, sl_sink_error *se)
{
    if (st->unit_begun)
        return SL_OK;
    sl_unit u = {st->name,    st->schema,           st->unit_row0, st->unit_rej0, st->unit_seg,
                 st->unit_received_us, st->part_cols, st->npart,     st->key,
                 st->srv->origin};
    sl_err err = st->us->begin(st->us, &u, se);
    st->unit_begun = err == SL_OK;
    return err;
}

static uint64_t batch_bytes(const sl_batch *b, size_t first, size_t n)
{
    uint64_t bytes = 0;
    for (size_t c = 0; c < b->ncols; c++) {
        const sl_column *col = &b->cols[c];
        if (col->width)
            bytes += (uint64_t)col->width * n;
        else if (n)
            bytes += (uint64_t)(col->offsets[first + n] - col->offsets[first]) + 4 * n;
    }
    return bytes;
}

/* Rows [first, first + n) of b as a batch sharing b's memory. */
static void batch_view(const sl_batch *b, size_t first, size_t n, sl_batch *v, sl_column *cols)
{
    *v = *b;
    v->cols = cols;
    for (size_t c = 0; c < b->ncols; c++) {
        sl_column col = b->cols[c];
        if (col.valid) {
            col.valid += first;
            size_t nulls = 0;
            for (size_t r = 0; r < n; r++)
                nulls += !col.valid[r];
            col.null_count = nulls;
        }
        if (col.width)
            col.data += (size_t)col.width * first;
        else
            col.offsets += first;
        col.len = col.cap = n;
        cols[c] = col;
    }
}

static sl_err write_rows(sl_stream *st, const sl_txn *t, const sl_batch *b, size_t first,
                         size_t n)
{
    sl_sink_error *se = &st->serr;
    unit_touch(st, t);
    sl_err err = unit_begin(st, se);
    if (err)
        return err;
    sl_column cols[b->ncols ? b->ncols : 1];
    sl_batch v;
    batch_view(b, first, n, &v, cols);
    err = st->us->rows(st->us, &v, st->pos_row, se);
    st->unit_bytes += batch_bytes(b, first, n);
    st->pos_row += n;
    return err;
}

static sl_err write_rejects(sl_stream *st, const sl_txn *t, const uint8_t *p, size_t n,
                            uint64_t count)
{
    sl_sink_error *se = &st->serr;
    unit_touch(st, t);
    if (st->us->rejects) {
        sl_err err = unit_begin(st, se);
        if (!err)
            err = st->us->rejects(st->us, p, n, count, st->pos_rej, se);
        st->pos_rej += count;
        st->unit_bytes += n;
        return err;
    }
    if (st->rj_fd < 0) {
        snprintf(st->rj_path, sizeof(st->rj_path), "%s/%s-%012" PRIu64 ".rejects.tmp",
                 st->srv->stage_dir, st->name, st->unit_rej0);
        st->rj_fd = open(st->rj_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (st->rj_fd < 0)
            return errno == ENOSPC ? SL_NOSPACE : SL_IO;
    }
    st->pos_rej += count;
    st->unit_bytes += n;
    return sl_write_all(st->rj_fd, p, n);
}

static sl_err sync_close(int *fd)
{
    sl_err err = SL_OK;
    if (*fd >= 0) {
        if (fdatasync(*fd))
            err = errno == ENOSPC ? SL_NOSPACE : SL_IO;
        if (close(*fd) && !err)
            err = SL_IO;
        *fd = -1;
    }
    return err;
}

static void drop_retained(sl_stream *st)
{
    sl_txn *dead = NULL;
    pthread_mutex_lock(&st->mu);
    sl_txn **pp = &st->retained;
    sl_txn *last = NULL;
    while (*pp) {
        sl_txn *t = *pp;
        if (t != st->current && t->first_row + t->nrows <= st->flushed_row &&
            t->first_reject + t->nrejects <= st->flushed_reject) {
            *pp = t->next;
            t->next = dead;
            dead = t;
            st->retained_rows -= t->nrows;
            atomic_fetch_sub(&st->srv->queued_rows, t->nrows);
        } else {
            last = t;
            pp = &t->next;
        }
    }
    st->retained_tail = last;
    pthread_mutex_unlock(&st->mu);
    while (dead) { /* outside st->mu: freeing gives cache budget back under srv->mu */
        sl_txn *nx = dead->next;
        sl_txn_free(st->srv, dead);
        dead = nx;
    }
}

/* Request threads hand a txn to the lane as soon as its COMMIT record is appended, before the
 * group-commit fsync that acknowledges it (so the lane encodes while the disk works); nothing of
 * it may leave the server before that fsync. A failed fsync stops the server, as it does in the
 * request thread. */
static void wait_durable(sl_stream *st, uint64_t lsn)
{
    sl_err err = lsn ? sl_wal_sync(st->srv->wal, lsn) : SL_OK;
    if (err)
        sl_server_fatal(st->srv, "WAL fsync", err);
}

static sl_err unit_flush(sl_stream *st, sl_mseries *why)
{
    if (!st->unit_open)
        return SL_OK;
    sl_server *srv = st->srv;
    uint64_t row1 = st->pos_row, rej1 = st->pos_rej;
    uint64_t row0 = st->unit_row0, rej0 = st->unit_rej0;
    sl_err err = SL_OK;
    const char *stage = "writing the checkpoint";
    /* the unit's requests are durable before anything of it is (see wait_durable) */
    wait_durable(st, st->taken_commit_lsn);
    /* the cut is recorded before anything of the unit can become visible */
    pthread_mutex_lock(&ckpt_mu);
    if (!st->has_intent) {
        st->has_intent = true;
        st->i_row0 = row0;
        st->i_row1 = row1;
        st->i_rej0 = rej0;
        st->i_rej1 = rej1;
        err = ckpt_write_locked(srv);
    }
    pthread_mutex_unlock(&ckpt_mu);
    sl_sink_error se = {0};
    uint64_t out_bytes = 0;
    if (!err && st->unit_begun) {
        stage = "delivering the unit";
        st->us->committed_bytes = 0;
        err = st->us->commit(st->us, row1, rej1, &se);
        out_bytes = st->us->committed_bytes;
        if (!err)
            st->unit_begun = false;
    }
    if (!err && st->rj_fd >= 0) {
        stage = "syncing the rejects file";
        err = sync_close(&st->rj_fd);
    }
    if (!err && rej1 > rej0 && !st->us->rejects) {
        stage = "publishing the rejects file";
        char key[1400];
        sl_obj obj = {SL_OBJ_REJECTS, st->name, st->unit_received_us, st->unit_seg, rej0,
                      rej1 - 1, NULL};
        err = sl_sink_key(srv->sink->layout, &obj, key, sizeof(key));
        if (!err)
            err = srv->sink->publish(srv->sink, st->rj_path, key, &se);
    }
    if (!err) {
        stage = "writing the checkpoint";
        pthread_mutex_lock(&ckpt_mu);
        uint64_t old_row = st->flushed_row, old_rej = st->flushed_reject;
        st->flushed_row = row1;
        st->flushed_reject = rej1;
        st->has_intent = false;
        err = ckpt_write_locked(srv);
        if (err) {
            st->flushed_row = old_row;
            st->flushed_reject = old_rej;
            st->has_intent = true;
        }
        pthread_mutex_unlock(&ckpt_mu);
    }
    if (err) {
        sl_mseries_inc(st->m_sink_fail);
        int saved = errno;
        char detail[900];
        if (se.message[0])
            snprintf(detail, sizeof(detail), "%s: %.500s%s%.250s", stage, se.message,
                     se.hint[0] ? "; hint: " : "", se.hint);
        else
            snprintf(detail, sizeof(detail), "%s: %s (%.100s)", stage, sl_strerror(err),
                     strerror(saved));
        char what[64];
        snprintf(what, sizeof(what), "%.16s sink failing", st->us->kind);
        set_failing(st, what, detail);
        sl_log(SL_LOG_ERROR, "flush failed", SL_KS("stream", st->name), SL_KS("stage", stage),
               SL_KS("sink", st->us->kind), SL_KS("error", sl_strerror(err)),
               SL_KS("detail", detail));
        return err;
    }
    st->unit_open = false;
    st->unit_bytes = 0;
    st->failures = 0;
    st->backoff_cut = false;
    if (atomic_exchange(&st->failing, false))
        atomic_fetch_sub(&srv->failing_streams, 1);
    sl_server_sink_delivered(srv, st->us->kind);
    pthread_mutex_lock(&st->mu);
    st->committed_row = row1;
    st->committed_reject = rej1;
    pthread_cond_broadcast(&st->commit_cv);
    pthread_mutex_unlock(&st->mu);
    sl_mseries_inc(why);
    if (row1 > row0) {
        sl_mseries_inc(st->m_files_parquet);
        sl_mseries_add(st->m_out_bytes, (double)out_bytes);
    }
    if (rej1 > rej0)
        sl_mseries_inc(st->m_files_rejects);
    sl_log(SL_LOG_DEBUG, "flushed", SL_KS("stream", st->name), SL_KU("first_row", row0),
           SL_KU("rows", row1 - row0), SL_KU("rejects", rej1 - rej0), SL_KU("bytes", out_bytes));
    drop_retained(st);
    sl_streams_release_wal(srv);
    return SL_OK;
}

static bool intent_reached(const sl_stream *st)
{
    return st->has_intent && st->pos_row >= st->i_row1 && st->pos_rej >= st->i_rej1;
}

/* Rows of piece b (already parsed) that start at sequence number seq: skips those already
 * flushed, cuts units at BATCH_SIZE and at a pending intent. */
static sl_err lane_rows(sl_stream *st, const sl_txn *t, const sl_batch *b, size_t nrows,
                        uint64_t seq)
{
    size_t off = 0;
    if (st->pos_row > seq)
        off = (size_t)(st->pos_row - seq < nrows ? st->pos_row - seq : nrows);
    sl_err err = SL_OK;
    while (!err && off < nrows) {
        uint64_t in_unit = st->unit_open ? st->pos_row - st->unit_row0 : 0;
        uint64_t room = st->srv->cfg.batch_size > in_unit ? st->srv->cfg.batch_size - in_unit : 1;
        if (st->has_intent && st->i_row1 > st->pos_row && st->i_row1 - st->pos_row < room)
            room = st->i_row1 - st->pos_row;
        size_t take = nrows - off < room ? nrows - off : (size_t)room;
        err = write_rows(st, t, b, off, take);
        off += take;
        if (err)
            break;
        in_unit = st->pos_row - st->unit_row0;
        if (intent_reached(st))
            err = unit_flush(st, st->m_flush_rows);
        else if (!st->has_intent && in_unit >= st->srv->cfg.batch_size)
            err = unit_flush(st, st->m_flush_rows);
    }
    return err;
}

static sl_err lane_rejects(sl_stream *st, const sl_txn *t, const uint8_t *p, size_t n,
                           uint64_t count, uint64_t seq)
{
    /* skip the lines already flushed */
    while (count && st->pos_rej > seq) {
        const uint8_t *nl = memchr(p, '\n', n);
        size_t l = nl ? (size_t)(nl - p) + 1 : n;
        p += l;
        n -= l;
        count--;
        seq++;
    }
    if (!count)
        return SL_OK;
    return write_rejects(st, t, p, n, count);
}

/* Reads DATA record i of t back from the WAL (into rec) and parses it into out / rej. *bp is
 * made on the first call from the record's header (format, flags, CSV header) and reused. */
static sl_err read_piece(sl_stream *st, const sl_txn *t, size_t i, sl_bodyp **bp, sl_buf *rec,
                         sl_batch *out, sl_buf *rej, sl_body_result *res)
{
    sl_server *srv = st->srv;
    rec->len = 0;
    sl_err err = sl_buf_reserve(rec, t->locs[i].len);
    if (err)
        return err;
    err = sl_wal_read(srv->wal, &t->locs[i], t->lsns[i], rec->ptr);
    if (err)
        return err;
    const uint8_t *d = rec->ptr;
    size_t n = t->locs[i].len;
    if (n < SL_DATA_HDR || sl_get_u64(d) != t->txn)
        return SL_FORMAT;
    uint8_t format = d[12], flags = d[13];
    size_t hl = sl_get_u16(d + 14);
    uint64_t first_line = sl_get_u64(d + 16);
    if (SL_DATA_HDR + hl > n)
        return SL_FORMAT;
    if (!*bp) {
        sl_bodyp_opts o = {st->schema, (sl_format)format, (flags & SL_TXNF_UNKNOWN_REJECT) != 0};
        if ((err = sl_bodyp_create(&o, bp)))
            return err;
        sl_bodyp_event_rejects(*bp, (flags & SL_TXNF_EVENT_REJECTS) != 0);
        if (format == SL_FMT_CSV) {
            char msg[256];
            if ((err = sl_bodyp_set_header(*bp, d + SL_DATA_HDR, hl, msg, sizeof(msg)))) {
                sl_log(SL_LOG_ERROR, "replay: header unusable", SL_KS("stream", st->name),
                       SL_KS("error", msg));
                return err;
            }
        }
    }
    sl_batch_clear(out);
    rej->len = 0;
    memset(res, 0, sizeof(*res));
    return sl_bodyp_parse(*bp, d + SL_DATA_HDR + hl, n - SL_DATA_HDR - hl, first_line, out, rej,
                          res);
}

/* ---- parallel re-parse ----------------------------------------------------------------------
 * A txn whose parsed rows are not in memory (bigger than the per-request cache, or replayed
 * after a restart or a sink failure) is parsed again from the WAL. For a big one, helper
 * threads read and parse its pieces ahead of the lane, at most RP_WINDOW pieces ahead of the
 * one the lane is writing; the lane takes them in order, so rows, rejects and their sequence
 * numbers come out exactly as from a serial re-parse. Piece i lives in slot i % RP_WINDOW; a
 * helper claims piece i only once the lane is done with piece i - RP_WINDOW. */
#define RP_MIN_PIECES 4 /* smaller txns are parsed by the lane itself */
#define RP_WINDOW 6
#define RP_HELPERS 4

typedef struct {
    sl_batch *batch;
    sl_buf rej;
    sl_body_result res;
    sl_err err;
    bool done;
} rp_slot;

typedef struct {
    sl_stream *st;
    const sl_txn *t;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next;     /* next piece to claim */
    size_t consumed; /* pieces the lane is done with */
    bool stop;
    rp_slot slot[RP_WINDOW];
} rp_pool;

static void *rp_main(void *arg)
{
    rp_pool *rp = arg;
    prctl(PR_SET_NAME, "sl-reparse", 0, 0, 0); /* shown by top -H and perf */
    sl_bodyp *bp = NULL;
    sl_buf rec;
    sl_buf_init(&rec, 0);
    pthread_mutex_lock(&rp->mu);
    for (;;) {
        while (!rp->stop && rp->next < rp->t->ndata && rp->next >= rp->consumed + RP_WINDOW)
            pthread_cond_wait(&rp->cv, &rp->mu);
        if (rp->stop || rp->next >= rp->t->ndata)
            break;
        size_t i = rp->next++;
        rp_slot *s = &rp->slot[i % RP_WINDOW];
        pthread_mutex_unlock(&rp->mu);
        sl_err err = read_piece(rp->st, rp->t, i, &bp, &rec, s->batch, &s->rej, &s->res);
        pthread_mutex_lock(&rp->mu);
        s->err = err;
        s->done = true;
        pthread_cond_broadcast(&rp->cv);
    }
    pthread_mutex_unlock(&rp->mu);
    sl_bodyp_destroy(bp);
    sl_buf_release(&rec);
    return NULL;
}

static int rp_helpers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 0 : n > RP_HELPERS ? RP_HELPERS : (int)n;
}

static void read_failed(const sl_stream *st, const sl_txn *t, sl_err err)
{
    sl_log(SL_LOG_ERROR, "cannot read a request back from the WAL", SL_KS("stream", st->name),
           SL_KU("txn", t->txn), SL_KS("error", sl_strerror(err)));
}

/* Hands piece i of t to fn in order: parsed by helpers when t is big, else by the lane. */
typedef sl_err (*piece_fn)(sl_stream *st, const sl_txn *t, size_t i, const sl_batch *b,
                           const sl_buf *rej, const sl_body_result *res, void *ctx);

static sl_err for_each_piece(sl_stream *st, const sl_txn *t, piece_fn fn, void *ctx)
{
    sl_err err = SL_OK;
    int nh = t->ndata >= RP_MIN_PIECES ? rp_helpers() : 0;
    const char *lv[1] = {nh ? "helpers" : "lane"};
    sl_mseries_add(sl_mfamily_series(st->srv->m_reparsed, lv), (double)t->ndata);
    if (nh == 0) {
        sl_bodyp *bp = NULL;
        for (size_t i = 0; !err && i < t->ndata; i++) {
            sl_body_result res;
            err = read_piece(st, t, i, &bp, &st->rec, st->scratch, &st->scratch_rej, &res);
            if (err)
                read_failed(st, t, err);
            else
                err = fn(st, t, i, st->scratch, &st->scratch_rej, &res, ctx);
        }
        sl_bodyp_destroy(bp);
        return err;
    }
    rp_pool rp;
    memset(&rp, 0, sizeof(rp));
    rp.st = st;
    rp.t = t;
    pthread_mutex_init(&rp.mu, NULL);
    pthread_cond_init(&rp.cv, NULL);
    size_t nslots = 0;
    for (; !err && nslots < RP_WINDOW; nslots++) {
        sl_buf_init(&rp.slot[nslots].rej, 0);
        err = sl_stream_batch_take(st, &rp.slot[nslots].batch);
    }
    pthread_t th[RP_HELPERS];
    int started = 0;
    for (; !err && started < nh; started++)
        if (pthread_create(&th[started], NULL, rp_main, &rp))
            break;
    if (!err && started == 0)
        err = SL_NOMEM;
    for (size_t i = 0; !err && i < t->ndata; i++) {
        rp_slot *s = &rp.slot[i % RP_WINDOW];
        pthread_mutex_lock(&rp.mu);
        while (!s->done)
            pthread_cond_wait(&rp.cv, &rp.mu);
        pthread_mutex_unlock(&rp.mu);
        err = s->err;
        if (err)
            read_failed(st, t, err);
        else
            err = fn(st, t, i, s->batch, &s->rej, &s->res, ctx);
        pthread_mutex_lock(&rp.mu);
        s->done = false;
        rp.consumed = i + 1;
        pthread_cond_broadcast(&rp.cv);
        pthread_mutex_unlock(&rp.mu);
    }
    pthread_mutex_lock(&rp.mu);
    rp.stop = true;
    pthread_cond_broadcast(&rp.cv);
    pthread_mutex_unlock(&rp.mu);
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    for (size_t k = 0; k < nslots; k++) {
        sl_stream_batch_give(st, rp.slot[k].batch);
        sl_buf_release(&rp.slot[k].rej);
    }
    pthread_mutex_destroy(&rp.mu);
    pthread_cond_destroy(&rp.cv);
    return err;
}

typedef struct {
    uint64_t row_seq, rej_seq, row_end, rej_end;
} replay_pos;

static sl_err replay_piece(sl_stream *st, const sl_txn *t, size_t i, const sl_batch *b,
                           const sl_buf *rej, const sl_body_result *res, void *ctx)
{
    (void)i;
    replay_pos *rp = ctx;
    uint64_t nr = res->rows_ok, nj = res->rows_rejected;
    if (rp->row_seq + nr > rp->row_end || rp->rej_seq + nj > rp->rej_end) {
        sl_log(SL_LOG_ERROR, "replay produced more rows than were acknowledged; extra rows "
               "dropped", SL_KS("stream", st->name), SL_KU("txn", t->txn));
        nr = rp->row_seq + nr > rp->row_end ? rp->row_end - rp->row_seq : nr;
        nj = rp->rej_seq + nj > rp->rej_end ? rp->rej_end - rp->rej_seq : nj;
    }
    sl_err err = SL_OK;
    if (nj)
        err = lane_rejects(st, t, rej->ptr, rej->len, nj, rp->rej_seq);
    rp->rej_seq += nj;
    if (!err && nr)
        err = lane_rows(st, t, b, (size_t)nr, rp->row_seq);
    rp->row_seq += nr;
    return err;
}

/* A waiter's rows and rejects are all in the open unit (and some not yet committed). Caller
 * holds st->mu; pos_* are the lane's own. */
static bool want_reached(const sl_stream *st)
{
    return (st->want_row > st->committed_row || st->want_reject > st->committed_reject) &&
           st->pos_row >= st->want_row && st->pos_rej >= st->want_reject;
}

static sl_err lane_txn(sl_stream *st, sl_txn *t)
{
    if (t->commit_lsn > st->taken_commit_lsn)
        st->taken_commit_lsn = t->commit_lsn;
    if (!st->us->staged) /* its rows may be delivered at once */
        wait_durable(st, t->commit_lsn);
    uint64_t row_seq = t->first_row, rej_seq = t->first_reject;
    uint64_t row_end = t->first_row + t->nrows, rej_end = t->first_reject + t->nrejects;
    sl_err err = SL_OK;
    if (t->batches) {
        size_t rej_off = 0;
        for (size_t i = 0; !err && i < t->ndata; i++) {
            size_t rb = (size_t)t->piece_rej_bytes[i];
            if (t->piece_rejs[i])
                err = lane_rejects(st, t, t->rejects.ptr + rej_off, rb, t->piece_rejs[i],
                                   rej_seq);
            rej_off += rb;
            rej_seq += t->piece_rejs[i];
            if (!err && t->piece_rows[i])
                err = lane_rows(st, t, t->batches[i], t->piece_rows[i], row_seq);
            row_seq += t->piece_rows[i];
        }
        if (!err)
            sl_txn_uncache(st->srv, t);
    } else {
        replay_pos pos = {row_seq, rej_seq, row_end, rej_end};
        err = for_each_piece(st, t, replay_piece, &pos);
    }
    if (err)
        return err;
    /* whatever the parse gave, the txn's numbers are consumed */
    if (st->pos_row < row_end)
        st->pos_row = row_end;
    if (st->pos_rej < rej_end)
        st->pos_rej = rej_end;
    if (intent_reached(st))
        return unit_flush(st, st->m_flush_rows);
    if (!st->has_intent && st->unit_open && st->unit_bytes >= st->srv->cfg.target_file_bytes)
        return unit_flush(st, st->m_flush_bytes);
    /* a commit waiter's rows are all in: flush now, even if more txns are queued */
    pthread_mutex_lock(&st->mu);
    bool wanted = !st->has_intent && st->unit_open && want_reached(st);
    pthread_mutex_unlock(&st->mu);
    if (wanted)
        return unit_flush(st, st->m_flush_wait);
    /* QUEUE_CAPACITY counts rows until they are published: when this stream holds half of it
     * in its open file (or the server is near the limit), publish now rather than stall the
     * clients until BATCH_SIZE or the flush interval */
    uint64_t cap = st->srv->cfg.queue_capacity;
    if (!st->has_intent && st->unit_open && st->pos_row > st->unit_row0 &&
        (st->pos_row - st->unit_row0 >= cap / 2 ||
         atomic_load(&st->srv->queued_rows) >= cap - cap / 4))
        return unit_flush(st, st->m_flush_queue);
    return SL_OK;
}

/* After a failure: forget the staged unit and take every retained txn again. */
static void lane_rewind(sl_stream *st)
{
    unit_discard(st);
    pthread_mutex_lock(&ckpt_mu);
    st->pos_row = st->flushed_row;
    st->pos_rej = st->flushed_reject;
    pthread_mutex_unlock(&ckpt_mu);
    for (sl_txn *t = st->retained; t; t = t->next) /* only the lane changes the list */
        sl_txn_uncache(st->srv, t);
    pthread_mutex_lock(&st->mu);
    if (st->retained) {
        for (sl_txn *t = st->retained; t; t = t->next)
            st->q_rows += t->nrows;
        st->retained_tail->next = st->q_head;
        st->q_head = st->retained;
        st->expect_row = st->retained->first_row;
        st->expect_reject = st->retained->first_reject;
        st->retained = st->retained_tail = NULL;
        st->retained_rows = 0;
    }
    pthread_mutex_unlock(&st->mu);
}

static void lane_backoff(sl_stream *st)
{
    /* the delay doubles only after a wait that ran its course: a new request signals cv and
     * so triggers a retry at once, and 20 requests to a sink that is down must not push the
     * delay to 30 s, or delivery would resume up to 30 s after the sink is back */
    if (!st->backoff_cut)
        st->failures++;
    double delay = 0.1 * (double)(1u << (st->failures < 9 ? st->failures : 9));
    if (delay > 30)
        delay = 30;
    delay *= 0.5 + (double)(rand() % 1000) / 2000.0; /* jitter */
    struct timespec until = sl_deadline_after(delay);
    pthread_mutex_lock(&st->mu);
    int rc = st->stop ? ETIMEDOUT : pthread_cond_timedwait(&st->cv, &st->mu, &until);
    st->backoff_cut = rc != ETIMEDOUT && !st->stop;
    pthread_mutex_unlock(&st->mu);
}

static void *lane_main(void *arg)
{
    sl_stream *st = arg;
    sl_server *srv = st->srv;
    prctl(PR_SET_NAME, "sl-lane", 0, 0, 0); /* shown by top -H and perf */
    pthread_mutex_lock(&ckpt_mu);
    st->pos_row = st->flushed_row;
    st->pos_rej = st->flushed_reject;
    pthread_mutex_unlock(&ckpt_mu);
    for (;;) {
        pthread_mutex_lock(&st->mu);
        sl_txn *t = NULL;
        bool stop = false, flush_for_waiter = false;
        for (;;) {
            sl_txn *h = st->q_head;
            if (h && (!st->expect_set ||
                      (h->first_row == st->expect_row && h->first_reject == st->expect_reject))) {
                t = h;
                st->q_head = h->next;
                st->q_rows -= h->nrows;
                st->expect_row = h->first_row + h->nrows;
                st->expect_reject = h->first_reject + h->nrejects;
                st->expect_set = true;
                if (st->backlog)
                    st->backlog--;
                break;
            }
            if (st->stop && !h) {
                stop = true;
                break;
            }
            if (st->stop && h) { /* a gap at shutdown cannot close any more */
                sl_log(SL_LOG_ERROR, "lane stopping with a gap in the sequence",
                       SL_KS("stream", st->name), SL_KU("expected_row", st->expect_row),
                       SL_KU("queued_row", h->first_row));
                stop = true;
                break;
            }
            if (st->unit_open && !st->has_intent && want_reached(st)) {
                flush_for_waiter = true;
                break;
            }
            if (st->unit_open && !st->has_intent) {
                double age = sl_mono_seconds() - st->unit_opened;
                if (age >= srv->cfg.flush_interval)
                    break; /* flush by age */
                struct timespec until = sl_deadline_after(srv->cfg.flush_interval - age);
                pthread_cond_timedwait(&st->cv, &st->mu, &until);
            } else {
                pthread_cond_wait(&st->cv, &st->mu);
            }
        }
        pthread_mutex_unlock(&st->mu);
        sl_err err = SL_OK;
        if (t) {
            /* retained until flushed (its WAL records stay) */
            pthread_mutex_lock(&st->mu);
            t->next = NULL;
            if (st->retained_tail)
                st->retained_tail->next = t;
            else
                st->retained = t;
            st->retained_tail = t;
            st->retained_rows += t->nrows;
            pthread_mutex_unlock(&st->mu);
            st->current = t;
            err = lane_txn(st, t);
            st->current = NULL;
            /* a txn published by a flush inside it (it spans units) was kept as `current`:
             * let it go now, or its rows would count against QUEUE_CAPACITY and hold its WAL
             * records until some later flush */
            if (!err && t->first_row + t->nrows <= st->flushed_row &&
                t->first_reject + t->nrejects <= st->flushed_reject) {
                drop_retained(st);
                sl_streams_release_wal(srv);
            }
        } else if (stop) {
            if (!st->has_intent)
                err = unit_flush(st, st->m_flush_stop);
            if (!err)
                break;
        } else {
            err = unit_flush(st, flush_for_waiter ? st->m_flush_wait : st->m_flush_age);
        }
        if (err) {
            if (err != SL_OK && !atomic_load(&st->failing)) {
                char d[800];
                snprintf(d, sizeof(d), "%s%s%.500s%s%.200s", sl_strerror(err),
                         st->serr.message[0] ? ": " : "", st->serr.message,
                         st->serr.hint[0] ? "; hint: " : "", st->serr.hint);
                set_failing(st, "writing output failed", d);
                memset(&st->serr, 0, sizeof(st->serr));
                sl_mseries_inc(st->m_sink_fail);
                sl_log(SL_LOG_ERROR, "lane failed; will retry from the WAL",
                       SL_KS("stream", st->name), SL_KS("error", d));
            }
            if (err == SL_NOSPACE) /* the WAL's spare segments hold disk space: give it back */
                (void)sl_wal_drop_spares(srv->wal);
            lane_backoff(st);
            lane_rewind(st);
            pthread_mutex_lock(&st->mu);
            bool stopping = st->stop;
            pthread_mutex_unlock(&st->mu);
            if (stopping && st->failures > 3) {
                sl_log(SL_LOG_ERROR, "giving up flushing at shutdown; the WAL keeps the data",
                       SL_KS("stream", st->name));
                break;
            }
        }
    }
    unit_discard(st);
    return NULL;
}

/* ---- registry load, recovery, start/stop ------------------------------------------------ */

/* The text of DATA/streams/NAME.SUFFIX (NUL-terminated in b), or NULL if absent or empty. */
static const char *definition_part(sl_server *srv, const char *name, const char *suffix,
                                   sl_buf *b)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s.%s", srv->streams_dir, name, suffix);
    if (sl_read_file(path, b, 4096) == SL_OK && b->len && !sl_buf_putc(b, 0))
        return (const char *)b->ptr;
    return NULL;
}

sl_err sl_streams_load(sl_server *srv)
{
    DIR *d = opendir(srv->streams_dir);
    if (!d)
        return SL_IO;
    struct dirent *e;
    sl_err err = SL_OK;
    while (!err && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        const char *suf = ".schema.json";
        size_t sl = strlen(suf);
        if (n <= sl || strcmp(e->d_name + n - sl, suf))
            continue;
        char name[128];
        if (n - sl >= sizeof(name))
            continue;
        memcpy(name, e->d_name, n - sl);
        name[n - sl] = 0;
        if (!sl_stream_name_valid(name, strlen(name)))
            continue;
        char path[1400];
        sl_buf b, mb;
        sl_buf_init(&b, 0);
        sl_buf_init(&mb, 0);
        snprintf(path, sizeof(path), "%s/%s", srv->streams_dir, e->d_name);
        err = sl_read_file(path, &b, (size_t)16 << 20);
        sl_schema *schema = NULL;
        char emsg[256] = "";
        if (!err)
            err = sl_schema_from_json((const char *)b.ptr, b.len, &schema, emsg, sizeof(emsg));
        if (err) {
            sl_log(SL_LOG_ERROR, "cannot load a stream definition", SL_KS("path", path),
                   SL_KS("error", emsg[0] ? emsg : sl_strerror(err)));
        } else {
            sl_buf pb, kb;
            sl_buf_init(&pb, 0);
            sl_buf_init(&kb, 0);
            const char *model = definition_part(srv, name, "model", &mb);
            const char *partition = definition_part(srv, name, "partition", &pb);
            const char *key = definition_part(srv, name, "key", &kb);
            sl_stream *st;
            char smsg[600];
            err = stream_new(srv, name, schema, model, partition, key, &st, smsg, sizeof(smsg));
            sl_buf_release(&pb);
            sl_buf_release(&kb);
            if (err)
                sl_log(SL_LOG_ERROR, "cannot load stream", SL_KS("stream", name),
                       SL_KS("error", smsg));
            if (!err) {
                pthread_mutex_lock(&srv->mu);
                err = registry_add(srv, st);
                pthread_mutex_unlock(&srv->mu);
                if (err)
                    stream_free(st);
            }
        }
        sl_buf_release(&b);
        sl_buf_release(&mb);
    }
    closedir(d);
    if (!err)
        err = ckpt_load(srv);
    return err;
}

/* Recovery: DATA records collected per txn until their COMMIT. */
typedef struct pend {
    struct pend *next;
    uint64_t txn;
    size_t n, cap;
    sl_wal_loc *locs;
    uint64_t *lsns;
} pend;

typedef struct {
    sl_server *srv;
    pend **buckets;
    size_t nbuckets;
    uint64_t max_txn;
    uint64_t txns, skipped, pushed, orphans;
} recov;

static pend **pend_slot(recov *rc, uint64_t txn)
{
    pend **pp = &rc->buckets[(txn * 0x9E3779B97F4A7C15u) >> 52 & (rc->nbuckets - 1)];
    while (*pp && (*pp)->txn != txn)
        pp = &(*pp)->next;
    return pp;
}

static sl_err on_record(void *ctx, const sl_wal_rec *rec)
{
    recov *rc = ctx;
    sl_server *srv = rc->srv;
    if (rec->type == SL_REC_DATA) {
        if (rec->len < SL_DATA_HDR)
            return SL_FORMAT;
        uint64_t txn = sl_get_u64(rec->data);
        if (txn > rc->max_txn)
            rc->max_txn = txn;
        pend **pp = pend_slot(rc, txn);
        if (!*pp) {
            *pp = calloc(1, sizeof(pend));
            if (!*pp)
                return SL_NOMEM;
            (*pp)->txn = txn;
        }
        pend *p = *pp;
        if (p->n == p->cap) {
            size_t cap = p->cap ? 2 * p->cap : 4;
            sl_wal_loc *l = realloc(p->locs, cap * sizeof(*l));
            if (!l)
                return SL_NOMEM;
            p->locs = l;
            uint64_t *s = realloc(p->lsns, cap * sizeof(*s));
            if (!s)
                return SL_NOMEM;
            p->lsns = s;
            p->cap = cap;
        }
        p->locs[p->n] = rec->loc;
        p->lsns[p->n] = rec->lsn;
        p->n++;
        return SL_OK;
    }
    if (rec->type != SL_REC_COMMIT)
        return SL_OK; /* unknown types are ignored (a newer version's) */
    if (rec->len < SL_COMMIT_HDR)
        return SL_FORMAT;
    const uint8_t *d = rec->data;
    uint64_t txn = sl_get_u64(d);
    if (txn > rc->max_txn)
        rc->max_txn = txn;
    size_t nl = sl_get_u16(d + 22);
    if (SL_COMMIT_HDR + nl > rec->len || nl >= 80)
        return SL_FORMAT;
    char name[80];
    memcpy(name, d + SL_COMMIT_HDR, nl);
    name[nl] = 0;
    pend **pp = pend_slot(rc, txn);
    pend *p = *pp;
    if (p)
        *pp = p->next;
    rc->txns++;
    uint32_t ndata = sl_load_le32(d + 16);
    sl_stream *st = sl_stream_find(srv, name);
    sl_err err = SL_OK;
    if (st) {
        /* wholly published already: its DATA records may be gone with their segment */
        uint64_t row_end = sl_get_u64(d + 24) + sl_get_u64(d + 32);
        uint64_t rej_end = sl_get_u64(d + 40) + sl_get_u64(d + 48);
        if (st->next_row < row_end)
            st->next_row = row_end;
        if (st->next_reject < rej_end)
            st->next_reject = rej_end;
        if (row_end <= st->flushed_row && rej_end <= st->flushed_reject) {
            rc->skipped++;
            goto out;
        }
    }
    if (!st || (p ? p->n : 0) != ndata) {
        sl_log(SL_LOG_ERROR, "recovery: a committed request cannot be replayed",
               SL_KS("stream", name), SL_KU("txn", txn),
               SL_KS("why", st ? "DATA records missing" : "unknown stream"));
        err = SL_FORMAT;
        goto out;
    }
    sl_txn *t = calloc(1, sizeof(*t));
    if (!t) {
        err = SL_NOMEM;
        goto out;
    }
    sl_buf_init(&t->rejects, 0);
    t->txn = txn;
    t->first_data_lsn = sl_get_u64(d + 8);
    t->ndata = ndata;
    t->format = d[20];
    t->flags = d[21];
    t->first_row = sl_get_u64(d + 24);
    t->nrows = sl_get_u64(d + 32);
    t->first_reject = sl_get_u64(d + 40);
    t->nrejects = sl_get_u64(d + 48);
    t->received_us = (int64_t)sl_get_u64(d + 56);
    t->commit_lsn = rec->lsn;
    t->commit_segment = rec->loc.segment;
    if (p) {
        t->locs = p->locs;
        t->lsns = p->lsns;
        p->locs = NULL;
        p->lsns = NULL;
    }
    pthread_mutex_lock(&st->mu);
    if (!st->expect_set) {
        st->expect_row = t->first_row;
        st->expect_reject = t->first_reject;
        st->expect_set = true;
    }
    st->backlog++;
    pthread_mutex_unlock(&st->mu);
    sl_stream_push(st, t);
    rc->pushed++;
out:
    if (p) {
        free(p->locs);
        free(p->lsns);
        free(p);
    }
    return err;
}

sl_err sl_streams_recover(sl_server *srv)
{
    recov rc = {.srv = srv, .nbuckets = 4096};
    rc.buckets = calloc(rc.nbuckets, sizeof(*rc.buckets));
    if (!rc.buckets)
        return SL_NOMEM;
    sl_err err = sl_wal_replay(srv->wal, 1, on_record, &rc);
    for (size_t i = 0; i < rc.nbuckets; i++)
        for (pend *p = rc.buckets[i], *nx; p; p = nx) {
            nx = p->next;
            rc.orphans++;
            free(p->locs);
            free(p->lsns);
            free(p);
        }
    free(rc.buckets);
    atomic_store(&srv->next_txn, rc.max_txn + 1);
    /* streams with nothing to replay start where the checkpoint says */
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->nstreams; i++) {
        sl_stream *st = srv->streams[i];
        pthread_mutex_lock(&st->mu);
        if (!st->expect_set) {
            st->expect_row = st->next_row;
            st->expect_reject = st->next_reject;
            st->expect_set = true;
        }
        pthread_mutex_unlock(&st->mu);
    }
    pthread_mutex_unlock(&srv->mu);
    sl_log(SL_LOG_INFO, "recovery: WAL scanned", SL_KU("committed_requests", rc.txns),
           SL_KU("already_flushed", rc.skipped), SL_KU("to_replay", rc.pushed),
           SL_KU("uncommitted_requests", rc.orphans), SL_KS("error", err ? sl_strerror(err) : NULL));
    return err;
}

sl_err sl_streams_start(sl_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    sl_err err = SL_OK;
    for (size_t i = 0; i < srv->nstreams; i++) {
        sl_stream *st = srv->streams[i];
        if (st->thread_started)
            continue;
        if (pthread_create(&st->thread, NULL, lane_main, st)) {
            err = SL_NOMEM;
            break;
        }
        st->thread_started = true;
    }
    pthread_mutex_unlock(&srv->mu);
    return err;
}

void sl_streams_stop(sl_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    size_t n = srv->nstreams;
    pthread_mutex_unlock(&srv->mu);
    for (size_t i = 0; i < n; i++) {
        sl_stream *st = srv->streams[i];
        pthread_mutex_lock(&st->mu);
        st->stop = true;
        pthread_cond_broadcast(&st->cv);
        pthread_cond_broadcast(&st->commit_cv);
        pthread_mutex_unlock(&st->mu);
    }
    for (size_t i = 0; i < n; i++) {
        sl_stream *st = srv->streams[i];
        if (st->thread_started) {
            pthread_join(st->thread, NULL);
            st->thread_started = false;
        }
    }
}

void sl_streams_free(sl_server *srv)
{
    for (size_t i = 0; i < srv->nstreams; i++)
        stream_free(srv->streams[i]);
    free(srv->streams);
    srv->streams = NULL;
    srv->nstreams = srv->streams_cap = 0;
}

void sl_streams_release_wal(sl_server *srv)
{
    sl_wal_stats ws;
    sl_wal_stats_get(srv->wal, &ws);
    uint64_t low = ws.next_lsn;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->ninflight; i++)
        if (srv->inflight_lsn[i] && srv->inflight_lsn[i] < low)
            low = srv->inflight_lsn[i];
    for (size_t i = 0; i < srv->nstreams; i++) {
        sl_stream *st = srv->streams[i];
        pthread_mutex_lock(&st->mu);
        for (sl_txn *t = st->q_head; t; t = t->next)
            if (t->first_data_lsn && t->first_data_lsn < low)
                low = t->first_data_lsn;
        /* retained is lane-only; the lane calls this itself, other callers take the queue's
         * view, so the retained list is read under st->mu too */
        for (sl_txn *t = st->retained; t; t = t->next)
            if (t->first_data_lsn && t->first_data_lsn < low)
                low = t->first_data_lsn;
        pthread_mutex_unlock(&st->mu);
    }
    pthread_mutex_unlock(&srv->mu);
    if (sl_wal_release(srv->wal, low))
        sl_log(SL_LOG_WARN, "cannot release WAL segments", SL_KU("below_lsn", low));
    pthread_cond_broadcast(&srv->space_cv);
}

uint64_t sl_streams_queued_rows(sl_server *srv)
{
    return atomic_load(&srv->queued_rows);
}

uint64_t sl_streams_backlog(sl_server *srv)
{
    uint64_t n = 0;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->nstreams; i++) {
        sl_stream *st = srv->streams[i];
        pthread_mutex_lock(&st->mu);
        n += st->backlog;
        pthread_mutex_unlock(&st->mu);
    }
    pthread_mutex_unlock(&srv->mu);
    return n;
}

bool sl_streams_healthy(sl_server *srv, char *why, size_t n)
{
    /* every ingest answer asks (sink warning): no server lock while no lane is failing */
    if (atomic_load(&srv->failing_streams) == 0)
        return true;
    bool ok = true;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; ok && i < srv->nstreams; i++) {
        sl_stream *st = srv->streams[i];
        if (atomic_load(&st->failing)) {
            pthread_mutex_lock(&st->fail_mu);
            snprintf(why, n, "stream %s: %s", st->name, st->fail_reason);
            pthread_mutex_unlock(&st->fail_mu);
            ok = false;
        }
    }
    pthread_mutex_unlock(&srv->mu);
    return ok;
}
