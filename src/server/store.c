/* store.c: SQLite metadata for models and jobs (see store.h).
 *
 * On-disk: DATA/meta.db in WAL mode, synchronous=FULL (a job is accepted only once its row is
 * durable), busy_timeout 5 s. Tables:
 *   schema_migrations(version, applied_us)
 *   models(name, version, schema, created_us, deleted_us)   PRIMARY KEY(name, version)
 *   jobs(id, seq, model, model_version, status, format, bytes, rows_read, rows_accepted,
 *        rows_rejected, output_bytes, created_us, started_us, finished_us, attempts,
 *        cancel_requested, error_code, error_message, error_hint, outputs, dead_letters,
 *        bytes_read (migration 2))
 * Lock order: st->mu is a leaf.
 */
#include "server/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

struct sl_store {
    sqlite3 *db;
    pthread_mutex_t mu;
};

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE models(name TEXT NOT NULL, version INTEGER NOT NULL, schema TEXT NOT NULL,"
    " created_us INTEGER NOT NULL, deleted_us INTEGER, PRIMARY KEY(name, version));"
    "CREATE TABLE jobs(id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, model TEXT NOT NULL,"
    " model_version INTEGER NOT NULL, status TEXT NOT NULL, format TEXT NOT NULL,"
    " bytes INTEGER NOT NULL, rows_read INTEGER NOT NULL DEFAULT 0,"
    " rows_accepted INTEGER NOT NULL DEFAULT 0, rows_rejected INTEGER NOT NULL DEFAULT 0,"
    " output_bytes INTEGER NOT NULL DEFAULT 0, created_us INTEGER NOT NULL,"
    " started_us INTEGER NOT NULL DEFAULT 0, finished_us INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0,"
    " error_code TEXT NOT NULL DEFAULT '', error_message TEXT NOT NULL DEFAULT '',"
    " error_hint TEXT NOT NULL DEFAULT '', outputs TEXT NOT NULL DEFAULT '[]',"
    " dead_letters TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX jobs_by_model ON jobs(model, seq);"
    "CREATE INDEX jobs_by_status ON jobs(status, seq);",
    /* 2: bytes of the upload consumed so far, for progress and ETA while running */
    "ALTER TABLE jobs ADD COLUMN bytes_read INTEGER NOT NULL DEFAULT 0;",
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static sl_err db_fail(sl_store *st, const char *what)
{
    sl_log(SL_LOG_ERROR, "metadata store failed", SL_KS("operation", what),
           SL_KS("error", sqlite3_errmsg(st->db)));
    return SL_IO;
}

static sl_err exec(sl_store *st, const char *sql)
{
    char *em = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &em) != SQLITE_OK) {
        sl_log(SL_LOG_ERROR, "metadata store failed", SL_KS("sql", sql),
               SL_KS("error", em ? em : "?"));
        sqlite3_free(em);
        return SL_IO;
    }
    return SL_OK;
}

static sl_err prep(sl_store *st, const char *sql, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
        return db_fail(st, sql);
    return SL_OK;
}

static sl_err migrate(sl_store *st, char *msg, size_t msgn)
{
    if (exec(st, "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY,"
                 " applied_us INTEGER NOT NULL)")) {
        snprintf(msg, msgn, "cannot create schema_migrations: %s", sqlite3_errmsg(st->db));
        return SL_IO;
    }
    sqlite3_stmt *s;
    if (prep(st, "SELECT coalesce(max(version),0) FROM schema_migrations", &s))
        return SL_IO;
    int64_t have = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    int64_t want = (int64_t)(sizeof(migrations) / sizeof(migrations[0]));
    if (have > want) {
        snprintf(msg, msgn, "metadata schema version %lld is newer than this sluice knows (%lld)",
                 (long long)have, (long long)want);
        return SL_UNSUPPORTED;
    }
    for (int64_t v = have + 1; v <= want; v++) {
        char rec[128];
        snprintf(rec, sizeof(rec), "INSERT INTO schema_migrations VALUES(%lld,%lld)",
                 (long long)v, (long long)now_us());
        if (exec(st, "BEGIN IMMEDIATE") || exec(st, migrations[v - 1]) || exec(st, rec) ||
            exec(st, "COMMIT")) {
            (void)exec(st, "ROLLBACK");
            snprintf(msg, msgn, "metadata migration %lld failed: %s", (long long)v,
                     sqlite3_errmsg(st->db));
            return SL_IO;
        }
    }
    return SL_OK;
}

sl_err sl_store_open(const char *path, sl_store **out, char *msg, size_t msgn)
{
    sl_store *st = calloc(1, sizeof(*st));
    if (!st)
        return SL_NOMEM;
    pthread_mutex_init(&st->mu, NULL);
    sl_err err = SL_IO;
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(msg, msgn, "cannot open %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    if (exec(st, "PRAGMA journal_mode=WAL") || exec(st, "PRAGMA synchronous=FULL") ||
        exec(st, "PRAGMA foreign_keys=ON")) {
        snprintf(msg, msgn, "cannot configure %s: %s", path, sqlite3_errmsg(st->db));
        goto fail;
    }
    if ((err = migrate(st, msg, msgn)))
        goto fail;
    *out = st;
    return SL_OK;
fail:
    sl_store_close(st);
    return err;
}

void sl_store_close(sl_store *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* ---- models ------------------------------------------------------------------------------- */

void sl_store_model_release(sl_model_rec *m)
{
    free(m->schema);
    m->schema = NULL;
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

sl_err sl_store_model_put(sl_store *st, const char *name, const char *schema, int64_t *version,
                          bool *created)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = exec(st, "BEGIN IMMEDIATE");
    if (err)
        goto out;
    /* the latest version (deleted or not) continues the numbering */
    if ((err = prep(st, "SELECT version, schema, deleted_us IS NOT NULL FROM models"
                        " WHERE name=?1 ORDER BY version DESC LIMIT 1", &s)))
        goto rollback;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int64_t latest = 0;
    bool same = false;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        latest = sqlite3_column_int64(s, 0);
        const unsigned char *t = sqlite3_column_text(s, 1);
        same = t && !strcmp((const char *)t, schema) && !sqlite3_column_int(s, 2);
    } else if (rc != SQLITE_DONE) {
        err = db_fail(st, "model lookup");
        goto rollback;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (same) {
        *version = latest;
        *created = false;
        err = exec(st, "COMMIT");
        goto out;
    }
    if ((err = prep(st, "INSERT INTO models(name, version, schema, created_us) VALUES(?1,?2,?3,?4)",
                    &s)))
        goto rollback;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, latest + 1);
    sqlite3_bind_text(s, 3, schema, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now_us());
    if (sqlite3_step(s) != SQLITE_DONE) {
        err = db_fail(st, "model insert");
        goto rollback;
    }
    /* a model created again after a delete: its older versions stay deleted */
    *version = latest + 1;
    *created = true;
    err = exec(st, "COMMIT");
    goto out;
rollback:
    (void)exec(st, "ROLLBACK");
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_model_get(sl_store *st, const char *name, int64_t version, sl_model_rec *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st,
                      "SELECT version, schema, created_us,"
                      " (SELECT count(*) FROM models m2 WHERE m2.name=?1 AND deleted_us IS NULL)"
                      " FROM models WHERE name=?1 AND deleted_us IS NULL AND (?2=0 OR version=?2)"
                      " ORDER BY version DESC LIMIT 1",
                      &s);
    if (err)
        goto out;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, version);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        err = SL_RETRY;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = db_fail(st, "model get");
        goto out;
    }
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->version = sqlite3_column_int64(s, 0);
    const unsigned char *t = sqlite3_column_text(s, 1);
    out->schema = strdup(t ? (const char *)t : "{}");
    out->created_us = sqlite3_column_int64(s, 2);
    out->versions = sqlite3_column_int64(s, 3);
    if (!out->schema)
        err = SL_NOMEM;
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_model_list(sl_store *st, sl_buf *out, size_t *count)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    size_t k = 0;
    sl_err err = prep(st,
                      "SELECT name, max(version), min(created_us), max(created_us) FROM models"
                      " WHERE deleted_us IS NULL GROUP BY name ORDER BY name",
                      &s);
    if (!err)
        err = sl_buf_putc(out, '[');
    int rc;
    while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        err = sl_buf_printf(out, "%s{\"name\":", k ? "," : "");
        if (!err)
            err = sl_buf_json_str(out, name ? name : "", name ? strlen(name) : 0);
        if (!err)
            err = sl_buf_printf(out, ",\"version\":%lld,\"created_us\":%lld,\"updated_us\":%lld}",
                                (long long)sqlite3_column_int64(s, 1),
                                (long long)sqlite3_column_int64(s, 2),
                                (long long)sqlite3_column_int64(s, 3));
        k++;
    }
    if (!err && rc != SQLITE_DONE)
        err = db_fail(st, "model list");
    if (!err)
        err = sl_buf_putc(out, ']');
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    if (count)
        *count = k;
    return err;
}

void sl_store_model_names(sl_store *st, char *out, size_t n)
{
    out[0] = 0;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    size_t o = 0;
    if (!prep(st, "SELECT DISTINCT name FROM models WHERE deleted_us IS NULL ORDER BY name", &s))
        while (sqlite3_step(s) == SQLITE_ROW && o + 1 < n) {
            const char *name = (const char *)sqlite3_column_text(s, 0);
            int w = snprintf(out + o, n - o, "%s%s", o ? ", " : "", name ? name : "");
            if (w < 0 || (size_t)w >= n - o) {
                out[o] = 0;
                break;
            }
            o += (size_t)w;
        }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
}

sl_err sl_store_model_delete(sl_store *st, const char *name)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st, "UPDATE models SET deleted_us=?2 WHERE name=?1 AND deleted_us IS NULL",
                      &s);
    if (!err) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, now_us());
        if (sqlite3_step(s) != SQLITE_DONE)
            err = db_fail(st, "model delete");
        else if (sqlite3_changes(st->db) == 0)
            err = SL_RETRY;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* ---- jobs --------------------------------------------------------------------------------- */

#define JOB_COLS                                                                                \
    "id, seq, model, model_version, status, format, bytes, rows_read, rows_accepted,"           \
    " rows_rejected, output_bytes, created_us, started_us, finished_us, attempts,"              \
    " cancel_requested, error_code, error_message, error_hint, outputs, dead_letters, bytes_read"

static void read_job(sqlite3_stmt *s, sl_job_rec *j)
{
    memset(j, 0, sizeof(*j));
    copy_text(j->id, sizeof(j->id), s, 0);
    j->seq = sqlite3_column_int64(s, 1);
    copy_text(j->model, sizeof(j->model), s, 2);
    j->model_version = sqlite3_column_int64(s, 3);
    copy_text(j->status, sizeof(j->status), s, 4);
    copy_text(j->format, sizeof(j->format), s, 5);
    j->bytes = sqlite3_column_int64(s, 6);
    j->rows_read = sqlite3_column_int64(s, 7);
    j->rows_accepted = sqlite3_column_int64(s, 8);
    j->rows_rejected = sqlite3_column_int64(s, 9);
    j->output_bytes = sqlite3_column_int64(s, 10);
    j->created_us = sqlite3_column_int64(s, 11);
    j->started_us = sqlite3_column_int64(s, 12);
    j->finished_us = sqlite3_column_int64(s, 13);
    j->attempts = sqlite3_column_int64(s, 14);
    j->cancel_requested = sqlite3_column_int(s, 15) != 0;
    copy_text(j->error_code, sizeof(j->error_code), s, 16);
    copy_text(j->error_message, sizeof(j->error_message), s, 17);
    copy_text(j->error_hint, sizeof(j->error_hint), s, 18);
    copy_text(j->outputs, sizeof(j->outputs), s, 19);
    copy_text(j->dead_letters, sizeof(j->dead_letters), s, 20);
    j->bytes_read = sqlite3_column_int64(s, 21);
}

sl_err sl_store_job_insert(sl_store *st, sl_job_rec *j)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st,
                      "INSERT INTO jobs(id, seq, model, model_version, status, format, bytes,"
                      " created_us) VALUES(?1, (SELECT coalesce(max(seq),0)+1 FROM jobs),"
                      " ?2, ?3, ?4, ?5, ?6, ?7) RETURNING seq",
                      &s);
    if (!err) {
        sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, j->model, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, j->model_version);
        sqlite3_bind_text(s, 4, j->status, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, j->format, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, j->bytes);
        sqlite3_bind_int64(s, 7, j->created_us);
        if (sqlite3_step(s) != SQLITE_ROW)
            err = db_fail(st, "job insert");
        else
            j->seq = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_job_get(sl_store *st, const char *id, sl_job_rec *out)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st, "SELECT " JOB_COLS " FROM jobs WHERE id=?1", &s);
    if (!err) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            read_job(s, out);
        else if (rc == SQLITE_DONE)
            err = SL_RETRY;
        else
            err = db_fail(st, "job get");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

bool sl_store_job_exists(sl_store *st, const char *id)
{
    sl_job_rec *j = malloc(sizeof(*j));
    if (!j)
        return true; /* keep its files: we cannot tell */
    bool yes = sl_store_job_get(st, id, j) != SL_RETRY;
    free(j);
    return yes;
}

sl_err sl_store_job_list(sl_store *st, const char *model, const char *status, int64_t before_seq,
                         int limit, void (*fn)(void *ctx, const sl_job_rec *j), void *ctx,
                         bool *more)
{
    sl_job_rec *j = malloc(sizeof(*j));
    if (!j)
        return SL_NOMEM;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    *more = false;
    sl_err err = prep(st,
                      "SELECT " JOB_COLS " FROM jobs WHERE (?1 IS NULL OR model=?1)"
                      " AND (?2 IS NULL OR status=?2) AND (?3=0 OR seq<?3)"
                      " ORDER BY seq DESC LIMIT ?4",
                      &s);
    if (!err) {
        if (model)
            sqlite3_bind_text(s, 1, model, -1, SQLITE_STATIC);
        if (status)
            sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, before_seq);
        sqlite3_bind_int(s, 4, limit + 1);
        int rc, k = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            if (k++ == limit) {
                *more = true;
                break;
            }
            read_job(s, j);
            fn(ctx, j);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            err = db_fail(st, "job list");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    free(j);
    return err;
}

sl_err sl_store_job_update(sl_store *st, const sl_job_rec *j)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st,
                      "UPDATE jobs SET status=?2, rows_read=?3, rows_accepted=?4,"
                      " rows_rejected=?5, output_bytes=?6, started_us=?7, finished_us=?8,"
                      " attempts=?9, error_code=?10, error_message=?11, error_hint=?12,"
                      " outputs=?13, dead_letters=?14, bytes_read=?15 WHERE id=?1",
                      &s);
    if (!err) {
        sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, j->status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, j->rows_read);
        sqlite3_bind_int64(s, 4, j->rows_accepted);
        sqlite3_bind_int64(s, 5, j->rows_rejected);
        sqlite3_bind_int64(s, 6, j->output_bytes);
        sqlite3_bind_int64(s, 7, j->started_us);
        sqlite3_bind_int64(s, 8, j->finished_us);
        sqlite3_bind_int64(s, 9, j->attempts);
        sqlite3_bind_text(s, 10, j->error_code, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 11, j->error_message, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 12, j->error_hint, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 13, j->outputs, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 14, j->dead_letters, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 15, j->bytes_read);
        if (sqlite3_step(s) != SQLITE_DONE)
            err = db_fail(st, "job update");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_job_progress(sl_store *st, const char *id, int64_t rows_read, int64_t rows_accepted,
                             int64_t rows_rejected, int64_t bytes_read)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st,
                      "UPDATE jobs SET rows_read=?2, rows_accepted=?3, rows_rejected=?4,"
                      " bytes_read=?5 WHERE id=?1 AND status='running'",
                      &s);
    if (!err) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, rows_read);
        sqlite3_bind_int64(s, 3, rows_accepted);
        sqlite3_bind_int64(s, 4, rows_rejected);
        sqlite3_bind_int64(s, 5, bytes_read);
        if (sqlite3_step(s) != SQLITE_DONE)
            err = db_fail(st, "job progress");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_job_claim(sl_store *st, int64_t now, sl_job_rec *out)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st,
                      "UPDATE jobs SET status='running', attempts=attempts+1, started_us=?1,"
                      " rows_read=0, rows_accepted=0, rows_rejected=0, bytes_read=0"
                      " WHERE seq=(SELECT min(seq) FROM jobs WHERE status='queued')"
                      " RETURNING " JOB_COLS,
                      &s);
    if (!err) {
        sqlite3_bind_int64(s, 1, now);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            read_job(s, out);
            rc = sqlite3_step(s);
        } else if (rc == SQLITE_DONE) {
            err = SL_RETRY;
        }
        if (!err && rc != SQLITE_DONE)
            err = db_fail(st, "job claim");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_jobs_active(sl_store *st, const char *model, int64_t *count)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st,
                      "SELECT count(*) FROM jobs WHERE model=?1 AND status IN ('queued','running')",
                      &s);
    if (!err) {
        sqlite3_bind_text(s, 1, model, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            *count = sqlite3_column_int64(s, 0);
        else
            err = db_fail(st, "active jobs");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_job_set_cancel(sl_store *st, const char *id)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st, "UPDATE jobs SET cancel_requested=1 WHERE id=?1", &s);
    if (!err) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            err = db_fail(st, "job cancel");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_job_cancel_queued(sl_store *st, const char *id, int64_t now, bool *done)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    *done = false;
    sl_err err = prep(st,
                      "UPDATE jobs SET status='cancelled', cancel_requested=1, finished_us=?2,"
                      " error_code='cancelled', error_message='cancelled before it started'"
                      " WHERE id=?1 AND status='queued'",
                      &s);
    if (!err) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, now);
        if (sqlite3_step(s) != SQLITE_DONE)
            err = db_fail(st, "job cancel");
        else
            *done = sqlite3_changes(st->db) > 0;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return err;
}

sl_err sl_store_jobs_in(sl_store *st, const char *status,
                        void (*fn)(void *ctx, const sl_job_rec *j), void *ctx)
{
    /* collect first, call back without the lock (fn may update the store) */
    sl_job_rec *list = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = NULL;
    sl_err err = prep(st, "SELECT " JOB_COLS " FROM jobs WHERE status=?1 ORDER BY seq", &s);
    if (!err) {
        sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                sl_job_rec *nl = realloc(list, nc * sizeof(*nl));
                if (!nl) {
                    err = SL_NOMEM;
                    break;
                }
                list = nl;
                cap = nc;
            }
            read_job(s, &list[n++]);
        }
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    for (size_t i = 0; !err && i < n; i++)
        fn(ctx, &list[i]);
    free(list);
    return err;
}
