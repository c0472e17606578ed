/* mysql_projection.c: PostgreSQL events -> MariaDB, best effort (see mysql_projection.h).
 *
 * One thread. Each round: connect what is not connected, read the cursor from MariaDB (first
 * round after a connect), read up to `batch` rows with seq > cursor from PostgreSQL, upsert
 * them plus the new cursor in one MariaDB transaction, update the lag gauges. Any error closes
 * both connections and waits (0.1 s doubling to 5 s, with jitter); the next round starts over
 * from the cursor stored in MariaDB.
 *
 * Lock order: only p->mu (stop flag and its condition variable).
 */
#define _GNU_SOURCE
#include "sink/mysql_projection.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/fsutil.h"
#include "util/log.h"

struct sl_myproj {
    sl_myproj_config c;
    sl_mysql_url mu_url;
    char pg_url[1024];
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    PGconn *pg;
    MYSQL *my;
    bool have_cursor;
    int64_t cursor;
    unsigned failures;
    bool logged_down;
    sl_mseries *lag_rows, *lag_seconds, *rows_total, *up;
};

void sl_myproj_config_default(sl_myproj_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->table, sizeof(c->table), "events");
    c->interval = 0.2;
    c->batch = 1000;
}

bool sl_myproj_config_set(sl_myproj_config *c, const char *name, const char *v, char *err,
                          size_t errn)
{
    if (!strcmp(name, "MYSQL_URL") || !strcmp(name, "SLUICE_MYSQL_URL")) {
        sl_mysql_url u;
        if (!sl_mysql_url_parse(v, &u, err, errn))
            return false;
        snprintf(c->url, sizeof(c->url), "%s", v);
        return true;
    }
    if (!strcmp(name, "SLUICE_PROJECTION_TABLE")) {
        size_t n = strlen(v);
        if (!n || n >= sizeof(c->table) || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                                     "QRSTUVWXYZ0123456789_") != n) {
            snprintf(err, errn, "expected a table name of letters, digits and _");
            return false;
        }
        memcpy(c->table, v, n + 1);
        return true;
    }
    if (!strcmp(name, "SLUICE_PROJECTION_INTERVAL")) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d >= 0.01) || d > 3600) {
            snprintf(err, errn, "expected seconds 0.01..3600");
            return false;
        }
        c->interval = d;
        return true;
    }
    snprintf(err, errn, "unknown projection option");
    return false;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if ((ch | 32) >= 'a' && (ch | 32) <= 'f')
        return (ch | 32) - 'a' + 10;
    return -1;
}

/* %-decodes s[0..n) into out (cap bytes with NUL); false if it does not fit or is malformed. */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return false;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (k + 1 >= cap)
            return false;
        out[k++] = ch;
    }
    out[k] = 0;
    return true;
}

bool sl_mysql_url_parse(const char *url, sl_mysql_url *out, char *err, size_t errn)
{
    memset(out, 0, sizeof(*out));
    out->port = 3306;
    const char *p;
    if (!strncmp(url, "mysql://", 8))
        p = url + 8;
    else if (!strncmp(url, "mariadb://", 10))
        p = url + 10;
    else {
        snprintf(err, errn, "expected mysql://user:password@host:port/database");
        return false;
    }
    const char *end = p + strcspn(p, "/?");
    const char *at = memrchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *ue = colon ? colon : at;
        if (!pct_decode(p, (size_t)(ue - p), out->user, sizeof(out->user)) ||
            (colon && !pct_decode(colon + 1, (size_t)(at - colon - 1), out->password,
                                  sizeof(out->password)))) {
            snprintf(err, errn, "bad user or password in the URL (use %%XX for special characters)");
            return false;
        }
        p = at + 1;
    }
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *he = colon ? colon : end;
    if (he == p || (size_t)(he - p) >= sizeof(out->host)) {
        snprintf(err, errn, "no host in the URL");
        return false;
    }
    memcpy(out->host, p, (size_t)(he - p));
    out->host[he - p] = 0;
    if (colon) {
        char *pe;
        unsigned long port = strtoul(colon + 1, &pe, 10);
        if (pe != end || port == 0 || port > 65535) {
            snprintf(err, errn, "bad port in the URL");
            return false;
        }
        out->port = (unsigned)port;
    }
    if (*end == '/') {
        const char *d = end + 1;
        size_t dn = strcspn(d, "?");
        if (!pct_decode(d, dn, out->db, sizeof(out->db))) {
            snprintf(err, errn, "bad database name in the URL");
            return false;
        }
    }
    return true;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void disconnect(sl_myproj *p)
{
    if (p->pg)
        PQfinish(p->pg);
    p->pg = NULL;
    if (p->my)
        mysql_close(p->my);
    p->my = NULL;
    p->have_cursor = false;
}

/* false: stop requested */
static bool wait_for(sl_myproj *p, double seconds)
{
    struct timespec until = sl_deadline_after(seconds);
    pthread_mutex_lock(&p->mu);
    if (!p->stop)
        pthread_cond_timedwait(&p->cv, &p->mu, &until);
    bool go = !p->stop;
    pthread_mutex_unlock(&p->mu);
    return go;
}

static bool my_exec(sl_myproj *p, const char *sql, size_t n, char *why, size_t whyn)
{
    if (mysql_real_query(p->my, sql, (unsigned long)n)) {
        snprintf(why, whyn, "MariaDB: %s", mysql_error(p->my));
        return false;
    }
    return true;
}

static bool connect_all(sl_myproj *p, char *why, size_t whyn)
{
    if (!p->pg || PQstatus(p->pg) != CONNECTION_OK) {
        if (p->pg)
            PQfinish(p->pg);
        const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
        const char *vals[] = {p->pg_url, "5", "sluice-projection", NULL};
        p->pg = PQconnectdbParams(keys, vals, 1);
        if (PQstatus(p->pg) != CONNECTION_OK) {
            snprintf(why, whyn, "PostgreSQL: %s", PQerrorMessage(p->pg));
            return false;
        }
    }
    if (!p->my) {
        p->my = mysql_init(NULL);
        if (!p->my) {
            snprintf(why, whyn, "out of memory");
            return false;
        }
        unsigned timeout = 5;
        mysql_optionsv(p->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        mysql_optionsv(p->my, MYSQL_OPT_READ_TIMEOUT, &timeout);
        mysql_optionsv(p->my, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
        mysql_optionsv(p->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        sl_mysql_url *u = &p->mu_url;
        if (!mysql_real_connect(p->my, u->host, u->user[0] ? u->user : NULL,
                                u->user[0] ? u->password : NULL, u->db[0] ? u->db : NULL, u->port,
                                NULL, 0)) {
            snprintf(why, whyn, "MariaDB: %s", mysql_error(p->my));
            mysql_close(p->my);
            p->my = NULL;
            return false;
        }
        char sql[1024];
        int n = snprintf(sql, sizeof(sql),
                         "CREATE TABLE IF NOT EXISTS `%s` (seq BIGINT NOT NULL, event_id "
                         "VARCHAR(255) NOT NULL PRIMARY KEY, type VARCHAR(255) NOT NULL, "
                         "occurred_at DATETIME(6) NOT NULL, payload LONGTEXT NULL, received_at "
                         "DATETIME(6) NOT NULL, KEY (seq)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
                         "COLLATE=utf8mb4_bin",
                         p->c.table);
        if (!my_exec(p, sql, (size_t)n, why, whyn))
            return false;
        static const char cur[] = "CREATE TABLE IF NOT EXISTS sluice_projection (name "
                                  "VARCHAR(64) NOT NULL PRIMARY KEY, last_seq BIGINT NOT NULL) "
                                  "ENGINE=InnoDB";
        if (!my_exec(p, cur, sizeof(cur) - 1, why, whyn))
            return false;
        if (mysql_autocommit(p->my, 0)) {
            snprintf(why, whyn, "MariaDB: %s", mysql_error(p->my));
            return false;
        }
    }
    if (!p->have_cursor) {
        char sql[256];
        int n = snprintf(sql, sizeof(sql),
                         "SELECT last_seq FROM sluice_projection WHERE name = '%s'", p->c.table);
        if (!my_exec(p, sql, (size_t)n, why, whyn))
            return false;
        MYSQL_RES *res = mysql_store_result(p->my);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        p->cursor = row && row[0] ? strtoll(row[0], NULL, 10) : 0;
        mysql_free_result(res);
        mysql_commit(p->my);
        p->have_cursor = true;
    }
    return true;
}

static sl_err put_quoted(sl_myproj *p, sl_buf *b, const char *s, size_t n)
{
    sl_err err = sl_buf_reserve(b, 2 * n + 3);
    if (err)
        return err;
    b->ptr[b->len++] = '\'';
    b->len += mysql_real_escape_string(p->my, (char *)b->ptr + b->len, s, (unsigned long)n);
    b->ptr[b->len++] = '\'';
    return SL_OK;
}

/* Lag gauges from PostgreSQL: rows committed there above the cursor, and the oldest one's age
 * (with the cursor last read from MariaDB; 0 before it was ever read: an upper bound). */
static void update_lag(sl_myproj *p)
{
    if (!p->pg || PQstatus(p->pg) != CONNECTION_OK)
        return;
    char c[24], sql[512];
    snprintf(c, sizeof(c), "%" PRId64, p->cursor);
    const char *params[1] = {c};
    snprintf(sql, sizeof(sql),
             "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(received_at)), 0) FROM "
             "\"%s\" WHERE seq > $1",
             p->c.table);
    PGresult *res = PQexecParams(p->pg, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        sl_mseries_set(p->lag_rows, strtod(PQgetvalue(res, 0, 0), NULL));
        sl_mseries_set(p->lag_seconds, strtod(PQgetvalue(res, 0, 1), NULL));
    }
    PQclear(res);
}

/* One round: >0 rows projected, 0 caught up, -1 error (why). */
static int round_once(sl_myproj *p, char *why, size_t whyn)
{
    if (!connect_all(p, why, whyn))
        return -1;
    char c[24], lim[24];
    snprintf(c, sizeof(c), "%" PRId64, p->cursor);
    snprintf(lim, sizeof(lim), "%u", p->c.batch);
    const char *params[2] = {c, lim};
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT seq, event_id, type, to_char(occurred_at AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD HH24:MI:SS.US'), payload::text, to_char(received_at AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD HH24:MI:SS.US') FROM \"%s\" WHERE seq > $1 ORDER BY seq LIMIT $2",
             p->c.table);
    PGresult *res = PQexecParams(p->pg, sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(why, whyn, "PostgreSQL: %s", PQresultErrorMessage(res));
        PQclear(res);
        return -1;
    }
    int rows = PQntuples(res);
    if (rows > 0) {
        sl_buf q;
        sl_buf_init(&q, 0);
        sl_err err = sl_buf_printf(&q, "INSERT INTO `%s` (seq, event_id, type, occurred_at, "
                                       "payload, received_at) VALUES ",
                                   p->c.table);
        int64_t last = p->cursor;
        for (int r = 0; !err && r < rows; r++) {
            err = sl_buf_puts(&q, r ? ",(" : "(");
            for (int f = 0; !err && f < 6; f++) {
                if (f)
                    err = sl_buf_putc(&q, ',');
                if (err)
                    break;
                if (PQgetisnull(res, r, f))
                    err = sl_buf_puts(&q, "NULL");
                else if (f == 0)
                    err = sl_buf_puts(&q, PQgetvalue(res, r, f));
                else
                    err = put_quoted(p, &q, PQgetvalue(res, r, f),
                                     (size_t)PQgetlength(res, r, f));
            }
            if (!err)
                err = sl_buf_putc(&q, ')');
            last = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        }
        if (!err)
            err = sl_buf_puts(&q, " ON DUPLICATE KEY UPDATE seq = VALUES(seq), type = "
                                  "VALUES(type), occurred_at = VALUES(occurred_at), payload = "
                                  "VALUES(payload), received_at = VALUES(received_at)");
        PQclear(res);
        if (err) {
            sl_buf_release(&q);
            snprintf(why, whyn, "out of memory");
            return -1;
        }
        bool ok = my_exec(p, (const char *)q.ptr, q.len, why, whyn);
        sl_buf_release(&q);
        if (ok) {
            int n = snprintf(sql, sizeof(sql),
                             "INSERT INTO sluice_projection (name, last_seq) VALUES ('%s', %" PRId64
                             ") ON DUPLICATE KEY UPDATE last_seq = VALUES(last_seq)",
                             p->c.table, last);
            ok = my_exec(p, sql, (size_t)n, why, whyn);
        }
        if (ok && mysql_commit(p->my)) {
            snprintf(why, whyn, "MariaDB commit: %s", mysql_error(p->my));
            ok = false;
        }
        if (!ok) {
            mysql_rollback(p->my);
            return -1;
        }
        p->cursor = last;
        sl_mseries_add(p->rows_total, (double)rows);
    } else {
        PQclear(res);
    }
    update_lag(p);
    return rows;
}

static void *proj_main(void *arg)
{
    sl_myproj *p = arg;
    for (;;) {
        char why[600] = "";
        int r = round_once(p, why, sizeof(why));
        if (r < 0) {
            size_t n = strlen(why);
            while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
                why[--n] = 0;
            sl_mseries_set(p->up, 0);
            if (!p->logged_down)
                sl_log(SL_LOG_WARN,
                       "MariaDB projection behind; PostgreSQL keeps every event and the "
                       "projection catches up when this clears",
                       SL_KS("error", why), SL_KS("table", p->c.table));
            p->logged_down = true;
            update_lag(p);
            disconnect(p);
            p->failures++;
            double d = 0.1 * (double)(1u << (p->failures < 7 ? p->failures : 7));
            if (d > 5)
                d = 5;
            d *= 0.5 + (double)(rand() % 1000) / 2000.0;
            if (!wait_for(p, d))
                break;
            continue;
        }
        if (p->logged_down)
            sl_log(SL_LOG_INFO, "MariaDB projection reachable again", SL_KS("table", p->c.table));
        p->logged_down = false;
        p->failures = 0;
        sl_mseries_set(p->up, 1);
        if (r == 0 && !wait_for(p, p->c.interval))
            break;
        if (r > 0) {
            pthread_mutex_lock(&p->mu);
            bool stop = p->stop;
            pthread_mutex_unlock(&p->mu);
            if (stop)
                break;
        }
    }
    disconnect(p);
    mysql_thread_end();
    return NULL;
}

sl_err sl_myproj_start(const sl_myproj_config *c, const char *pg_url, sl_metrics *m,
                       sl_myproj **out, char *msg, size_t msgn)
{
    sl_myproj *p = calloc(1, sizeof(*p));
    if (!p)
        return SL_NOMEM;
    p->c = *c;
    if (!p->c.batch)
        p->c.batch = 1000;
    if (!sl_mysql_url_parse(c->url, &p->mu_url, msg, msgn)) {
        free(p);
        return SL_INVALID;
    }
    if (!pg_url || !*pg_url) {
        snprintf(msg, msgn, "the MariaDB projection copies from PostgreSQL: set POSTGRES_URL");
        free(p);
        return SL_INVALID;
    }
    snprintf(p->pg_url, sizeof(p->pg_url), "%s", pg_url);
    sl_mfamily *f1 = sl_metrics_family(m, SL_M_GAUGE, "sluice_projection_lag_rows",
                                       "events in PostgreSQL not yet in the MariaDB projection",
                                       "table", NULL, 0);
    sl_mfamily *f2 = sl_metrics_family(m, SL_M_GAUGE, "sluice_projection_lag_seconds",
                                       "age of the oldest event not yet in the MariaDB projection",
                                       "table", NULL, 0);
    sl_mfamily *f3 = sl_metrics_family(m, SL_M_COUNTER, "sluice_projection_rows_total",
                                       "events copied to the MariaDB projection", "table", NULL, 0);
    sl_mfamily *f4 = sl_metrics_family(m, SL_M_GAUGE, "sluice_projection_up",
                                       "1 if the last projection round succeeded", "table", NULL,
                                       0);
    const char *lv[1] = {p->c.table};
    p->lag_rows = f1 ? sl_mfamily_series(f1, lv) : NULL;
    p->lag_seconds = f2 ? sl_mfamily_series(f2, lv) : NULL;
    p->rows_total = f3 ? sl_mfamily_series(f3, lv) : NULL;
    p->up = f4 ? sl_mfamily_series(f4, lv) : NULL;
    if (!p->lag_rows || !p->lag_seconds || !p->rows_total || !p->up) {
        free(p);
        snprintf(msg, msgn, "cannot register the projection metrics");
        return SL_NOMEM;
    }
    mysql_library_init(0, NULL, NULL); /* once, before any thread uses the client library */
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->th, NULL, proj_main, p)) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        snprintf(msg, msgn, "cannot start the projection thread");
        return SL_NOMEM;
    }
    *out = p;
    return SL_OK;
}

void sl_myproj_stop(sl_myproj *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
