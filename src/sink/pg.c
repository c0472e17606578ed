/* pg.c: PostgreSQL unit sink (see pg.h for the protocol and the exactly-once argument).
 *
 * One connection per stream (per unit sink), used only from the stream's lane thread. Any
 * error drops the connection (after a failed COPY or transaction its state is unknown), so the
 * next begin() starts from a fresh one; the lane retries with exponential backoff and replays
 * the unit from the WAL.
 */
#define _GNU_SOURCE
#include "sink/pg.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/textfmt.h"

#define COPY_FLUSH ((size_t)1 << 20) /* COPY data sent in pieces of about this size */

typedef struct {
    sl_unit_sink_factory base;
    sl_pg_config c;
} pg_factory;

typedef struct {
    sl_unit_sink base;
    pg_factory *f;
    char *stream;
    const sl_schema *schema;
    PGconn *conn;
    bool table_ready;   /* the table exists (checked once per connection) */
    bool in_copy;       /* COPY ... FROM STDIN running */
    bool begun;
    sl_unit u;
    char table[300];    /* quoted "schema"."table" */
    char units[160];    /* quoted "schema".sluice_units, the range markers */
    char key[72];       /* quoted key column or "" */
    char cols[4096];    /* quoted column list */
    sl_buf buf;         /* COPY text waiting to be sent */
} pg_sink;

void sl_pg_config_default(sl_pg_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->table, sizeof(c->table), "{stream}");
    snprintf(c->schema, sizeof(c->schema), "public");
    c->connect_timeout = 5;
}

bool sl_pg_config_set(sl_pg_config *c, const char *name, const char *v, char *err, size_t errn)
{
    size_t n = strlen(v);
    if (!strcmp(name, "POSTGRES_URL") || !strcmp(name, "SLUICE_PG_URL")) {
        if (n >= sizeof(c->url)) {
            snprintf(err, errn, "too long");
            return false;
        }
        memcpy(c->url, v, n + 1);
        return true;
    }
    if (!strcmp(name, "SLUICE_PG_CONNECT_TIMEOUT")) {
        char *end;
        unsigned long s = strtoul(v, &end, 10);
        if (*end || end == v || s == 0 || s > 3600) {
            snprintf(err, errn, "expected seconds 1..3600");
            return false;
        }
        c->connect_timeout = (unsigned)s;
        return true;
    }
    char *dst = !strcmp(name, "SLUICE_PG_TABLE")    ? c->table
                : !strcmp(name, "SLUICE_PG_KEY")    ? c->key
                : !strcmp(name, "SLUICE_PG_SCHEMA") ? c->schema
                                                    : NULL;
    size_t cap = dst == c->table ? sizeof(c->table) : sizeof(c->key);
    if (!dst) {
        snprintf(err, errn, "unknown PostgreSQL option");
        return false;
    }
    if (n >= cap || (dst != c->key && n == 0)) {
        snprintf(err, errn, "expected a name of 1..%zu characters", cap - 1);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == '"') {
            snprintf(err, errn, "control characters and '\"' are not allowed in names");
            return false;
        }
    memcpy(dst, v, n + 1);
    return true;
}

/* ---- values --------------------------------------------------------------------------------- */

static sl_err put_escaped(sl_buf *b, const uint8_t *p, size_t n, bool copy)
{
    if (!copy)
        return sl_buf_append(b, p, n);
    sl_err err = sl_buf_reserve(b, 2 * n);
    if (err)
        return err;
    uint8_t *o = b->ptr + b->len;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        switch (ch) {
        case '\\': o[k++] = '\\'; o[k++] = '\\'; break;
        case '\n': o[k++] = '\\'; o[k++] = 'n'; break;
        case '\r': o[k++] = '\\'; o[k++] = 'r'; break;
        case '\t': o[k++] = '\\'; o[k++] = 't'; break;
        default: o[k++] = ch;
        }
    }
    b->len += k;
    return SL_OK;
}

static sl_err put_double(sl_buf *b, double d, int digits)
{
    if (isnan(d))
        return sl_buf_puts(b, "NaN");
    if (isinf(d))
        return sl_buf_puts(b, d > 0 ? "Infinity" : "-Infinity");
    return sl_buf_printf(b, "%.*g", digits, d);
}

sl_err sl_pg_value_text(const sl_column *col, size_t row, bool copy, sl_buf *b)
{
    if (col->valid && !col->valid[row])
        return copy ? sl_buf_puts(b, "\\N") : SL_OK;
    const uint8_t *slot = col->data ? col->data + (size_t)col->width * row : NULL;
    switch (col->type.id) {
    case SL_TYPE_BOOL:
        return sl_buf_putc(b, slot[0] ? 't' : 'f');
    case SL_TYPE_INT32: {
        int32_t v;
        memcpy(&v, slot, 4);
        return sl_buf_printf(b, "%" PRId32, v);
    }
    case SL_TYPE_INT64: {
        int64_t v;
        memcpy(&v, slot, 8);
        return sl_buf_printf(b, "%" PRId64, v);
    }
    case SL_TYPE_FLOAT: {
        float v;
        memcpy(&v, slot, 4);
        return put_double(b, (double)v, 9);
    }
    case SL_TYPE_DOUBLE: {
        double v;
        memcpy(&v, slot, 8);
        return put_double(b, v, 17);
    }
    case SL_TYPE_DATE: {
        int32_t v;
        memcpy(&v, slot, 4);
        char t[SL_DATE_TEXT_MAX];
        size_t n = sl_format_date(v, t);
        return sl_buf_append(b, t, n);
    }
    case SL_TYPE_TIMESTAMP: {
        int64_t v;
        memcpy(&v, slot, 8);
        char t[SL_TIMESTAMP_TEXT_MAX];
        size_t n = sl_format_timestamp(v, col->type.unit, col->type.utc, t);
        return sl_buf_append(b, t, n);
    }
    case SL_TYPE_DECIMAL: {
        char t[SL_DECIMAL_TEXT_MAX];
        size_t n = sl_format_decimal(sl_col_decimal_at(col, row), col->type.scale, t);
        return sl_buf_append(b, t, n);
    }
    case SL_TYPE_BINARY: {
        const uint8_t *p = col->bytes + col->offsets[row];
        size_t n = col->offsets[row + 1] - col->offsets[row];
        sl_err err = sl_buf_puts(b, copy ? "\\\\x" : "\\x");
        if (!err)
            err = sl_buf_reserve(b, 2 * n);
        if (err)
            return err;
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
            b->ptr[b->len++] = (uint8_t)hex[p[i] >> 4];
            b->ptr[b->len++] = (uint8_t)hex[p[i] & 15];
        }
        return SL_OK;
    }
    case SL_TYPE_STRING:
    case SL_TYPE_JSON:
    default: {
        const uint8_t *p = col->bytes + col->offsets[row];
        size_t n = col->offsets[row + 1] - col->offsets[row];
        return put_escaped(b, p, n, copy);
    }
    }
}

static const char *pg_type(sl_type t, char *buf, size_t n)
{
    switch (t.id) {
    case SL_TYPE_BOOL: return "boolean";
    case SL_TYPE_INT32: return "integer";
    case SL_TYPE_INT64: return "bigint";
    case SL_TYPE_FLOAT: return "real";
    case SL_TYPE_DOUBLE: return "double precision";
    case SL_TYPE_BINARY: return "bytea";
    case SL_TYPE_JSON: return "jsonb";
    case SL_TYPE_DATE: return "date";
    case SL_TYPE_TIMESTAMP: return t.utc ? "timestamptz" : "timestamp";
    case SL_TYPE_DECIMAL: snprintf(buf, n, "numeric(%u,%u)", t.precision, t.scale); return buf;
    case SL_TYPE_STRING:
    default: return "text";
    }
}

/* "name" with inner quotes doubled. */
static sl_err put_ident(sl_buf *b, const char *s)
{
    sl_err err = sl_buf_putc(b, '"');
    for (; !err && *s; s++)
        err = *s == '"' ? sl_buf_puts(b, "\"\"") : sl_buf_putc(b, (uint8_t)*s);
    if (!err)
        err = sl_buf_putc(b, '"');
    return err;
}

static bool is_events_schema(const sl_schema *s)
{
    static const char *const names[] = {"event_id", "type", "occurred_at", "payload",
                                        "received_at"};
    if (s->nfields != 5)
        return false;
    for (size_t i = 0; i < 5; i++)
        if (strcmp(s->fields[i].name, names[i]))
            return false;
    return s->fields[0].type.id == SL_TYPE_STRING;
}

/* ---- connection ----------------------------------------------------------------------------- */

static void drop_conn(pg_sink *ps)
{
    if (ps->conn)
        PQfinish(ps->conn);
    ps->conn = NULL;
    ps->table_ready = false;
    ps->in_copy = false;
    ps->begun = false;
}

static void pg_error(pg_sink *ps, sl_sink_error *e, const char *what, const PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = ps->conn ? PQerrorMessage(ps->conn) : "no connection";
    char m[400];
    snprintf(m, sizeof(m), "%s", msg);
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = 0;
    for (char *p = m; *p; p++)
        if (*p == '\n')
            *p = ' ';
    snprintf(e->message, sizeof(e->message), "PostgreSQL, stream %.64s, %s: %s", ps->stream, what,
             m);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    e->retryable = true;
    if (state && (!strncmp(state, "42", 2) || !strncmp(state, "22", 2) ||
                  !strncmp(state, "23", 2))) {
        snprintf(e->hint, sizeof(e->hint),
                 "the table %.100s does not fit the stream (SQLSTATE %s): fix or drop the table, "
                 "or set SLUICE_PG_TABLE to another one; the rows wait in the WAL",
                 ps->table, state);
        e->retryable = false;
    } else if (state && !strncmp(state, "28", 2)) {
        snprintf(e->hint, sizeof(e->hint), "check the user and password in POSTGRES_URL");
        e->retryable = false;
    } else {
        snprintf(e->hint, sizeof(e->hint),
                 "is PostgreSQL up and reachable at POSTGRES_URL? sluice retries with backoff; "
                 "the rows wait in the WAL");
    }
}

static sl_err exec_ok(pg_sink *ps, const char *sql, sl_sink_error *e, const char *what)
{
    PGresult *res = PQexec(ps->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pg_error(ps, e, what, res);
        PQclear(res);
        drop_conn(ps);
        return SL_RETRY;
    }
    PQclear(res);
    return SL_OK;
}

static sl_err connect_pg(pg_sink *ps, sl_sink_error *e)
{
    if (ps->conn && PQstatus(ps->conn) == CONNECTION_OK)
        return SL_OK;
    drop_conn(ps);
    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%u", ps->f->c.connect_timeout);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {ps->f->c.url, timeout, "sluice", NULL};
    ps->conn = PQconnectdbParams(keys, vals, 1);
    if (!ps->conn || PQstatus(ps->conn) != CONNECTION_OK) {
        pg_error(ps, e, "connecting", NULL);
        drop_conn(ps);
        return SL_RETRY;
    }
    /* quiet NOTICEs ("relation already exists, skipping") */
    return exec_ok(ps, "SET client_min_messages = warning", e, "setting up the session");
}

/* sluice_units made by an older sluice: (stream, row0) was its key, which a new data directory
 * (row numbers from 0 again) would hit, skipping its rows as "committed". One catalog query
 * first (no lock, no ownership needed): only a table that lacks the origin column or has it
 * outside its key is altered (ADD COLUMN, old markers get ''; then the key becomes (stream,
 * origin, row0)), under a lock_timeout so a busy table fails this attempt (retried) instead of
 * queueing every lane's marker INSERT behind the ALTER. Concurrent lanes may race: the loser's
 * error is retried. */
static sl_err markers_upgrade(pg_sink *ps, sl_sink_error *e)
{
    const char *params[1] = {ps->f->c.schema};
    PGresult *res = PQexecParams(
        ps->conn,
        "SELECT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = "
        "'origin' AND NOT a.attisdropped), (SELECT c.conname FROM pg_constraint c WHERE "
        "c.conrelid = t.oid AND c.contype = 'p' AND NOT EXISTS (SELECT 1 FROM pg_attribute a "
        "WHERE a.attrelid = t.oid AND a.attname = 'origin' AND a.attnum = ANY (c.conkey))) FROM "
        "pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = $1 AND "
        "t.relname = 'sluice_units'",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        pg_error(ps, e, "checking sluice_units", res);
        PQclear(res);
        drop_conn(ps);
        return SL_RETRY;
    }
    bool has_origin = !strcmp(PQgetvalue(res, 0, 0), "t");
    char pk[128] = ""; /* the primary key without origin, if any */
    if (!PQgetisnull(res, 0, 1))
        snprintf(pk, sizeof(pk), "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (has_origin && !pk[0])
        return SL_OK;
    sl_buf q;
    sl_buf_init(&q, 0);
    sl_err err = sl_buf_printf(&q, "BEGIN; SET LOCAL lock_timeout = '5s'; ALTER TABLE %s ",
                               ps->units);
    if (!err && !has_origin)
        err = sl_buf_puts(&q, "ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT ''");
    if (!err && pk[0]) {
        err = sl_buf_puts(&q, has_origin ? "DROP CONSTRAINT " : ", DROP CONSTRAINT ");
        if (!err)
            err = put_ident(&q, pk);
        if (!err)
            err = sl_buf_puts(&q, ", ADD PRIMARY KEY (stream, origin, row0)");
    }
    if (!err)
        err = sl_buf_puts(&q, "; COMMIT");
    if (!err)
        err = sl_buf_putc(&q, 0);
    if (err) {
        sl_buf_release(&q);
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    err = exec_ok(ps, (const char *)q.ptr, e, "re-keying sluice_units by origin");
    sl_buf_release(&q);
    return err;
}

/* CREATE TABLE IF NOT EXISTS the stream's table and sluice_units. */
static sl_err create_tables(pg_sink *ps, sl_sink_error *e)
{
    sl_buf q;
    sl_buf_init(&q, 0);
    sl_err err = sl_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    if (!err)
        err = sl_buf_puts(&q, ps->table);
    if (!err && is_events_schema(ps->schema)) {
        err = sl_buf_puts(&q, " (seq bigserial NOT NULL UNIQUE, event_id varchar PRIMARY KEY, type text "
                              "NOT NULL, occurred_at timestamptz NOT NULL, payload jsonb, "
                              "received_at timestamptz NOT NULL)");
    } else {
        err = err ? err : sl_buf_puts(&q, " (");
        for (size_t i = 0; !err && i < ps->schema->nfields; i++) {
            const sl_field *f = &ps->schema->fields[i];
            char tb[32];
            if (i)
                err = sl_buf_puts(&q, ", ");
            if (!err)
                err = put_ident(&q, f->name);
            if (!err)
                err = sl_buf_printf(&q, " %s%s", pg_type(f->type, tb, sizeof(tb)),
                                    f->nullable ? "" : " NOT NULL");
        }
        if (!err && ps->key[0])
            err = sl_buf_printf(&q, ", PRIMARY KEY (%s)", ps->key);
        if (!err)
            err = sl_buf_putc(&q, ')');
    }
    if (!err)
        err = sl_buf_printf(&q, "; CREATE TABLE IF NOT EXISTS %s (stream text NOT NULL, origin "
                                "text NOT NULL DEFAULT '', row0 bigint NOT NULL, row1 bigint NOT "
                                "NULL, committed_at timestamptz NOT NULL DEFAULT now(), PRIMARY "
                                "KEY (stream, origin, row0))", ps->units);
    if (!err)
        err = sl_buf_putc(&q, 0);
    if (err) {
        sl_buf_release(&q);
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    err = exec_ok(ps, (const char *)q.ptr, e, "creating the table");
    sl_buf_release(&q);
    return err;
}

/* Creates the table (and sluice_units) if missing, and brings an older sluice_units up to date. */
static sl_err ensure_table(pg_sink *ps, sl_sink_error *e)
{
    if (ps->table_ready)
        return SL_OK;
    /* both there already: no CREATE at all (CREATE TABLE IF NOT EXISTS asks for CREATE on the
     * schema even when the table exists, so a role that may only write rows could not
     * deliver); on error CREATE IF NOT EXISTS below says what is wrong */
    const char *params[2] = {ps->table, ps->units};
    PGresult *res = PQexecParams(ps->conn, "SELECT to_regclass($1) IS NOT NULL AND "
                                 "to_regclass($2) IS NOT NULL", 2, NULL, params, NULL, NULL, 0);
    bool exist = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                 !strcmp(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    sl_err err = exist ? SL_OK : create_tables(ps, e);
    if (!err)
        err = markers_upgrade(ps, e);
    if (!err)
        ps->table_ready = true;
    return err;
}

/* ---- unit sink ------------------------------------------------------------------------------ */

static void pg_abort(sl_unit_sink *s)
{
    pg_sink *ps = (pg_sink *)s;
    ps->buf.len = 0;
    if (ps->begun && ps->conn) {
        if (ps->in_copy) {
            /* a failed COPY ends the transaction in error; simplest is a new connection */
            drop_conn(ps);
            return;
        }
        PGresult *res = PQexec(ps->conn, "ROLLBACK");
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            drop_conn(ps);
        PQclear(res);
    }
    ps->begun = false;
}

/* The conflict key: SLUICE_PG_KEY if set (make_names), else the stream's event key (its
 * model's event_key, carried by the unit), else event_id if the stream has it (make_names). */
static sl_err unit_key(pg_sink *ps, const sl_unit *u, sl_sink_error *e)
{
    if (ps->f->c.key[0] || !u->key || !u->key[0])
        return SL_OK;
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = put_ident(&b, u->key);
    if (!err && b.len >= sizeof(ps->key))
        err = SL_FULL;
    if (!err) {
        memcpy(ps->key, b.ptr, b.len);
        ps->key[b.len] = 0;
    } else {
        snprintf(e->message, sizeof(e->message), "the event key column name '%.60s' of stream "
                 "%.64s is too long", u->key, ps->stream);
        e->retryable = false;
    }
    sl_buf_release(&b);
    return err;
}

static sl_err pg_begin(sl_unit_sink *s, const sl_unit *u, sl_sink_error *e)
{
    pg_sink *ps = (pg_sink *)s;
    pg_abort(s);
    ps->u = *u;
    ps->u.stream = ps->stream;
    if (!ps->u.origin)
        ps->u.origin = "";
    sl_err err = unit_key(ps, u, e);
    if (!err)
        err = connect_pg(ps, e);
    if (!err)
        err = ensure_table(ps, e);
    if (!err)
        err = exec_ok(ps, "BEGIN", e, "starting the transaction");
    if (err)
        return err;
    ps->begun = true;
    /* staging table: the target's columns of this stream, no constraints */
    char sql[4800];
    snprintf(sql, sizeof(sql),
             "CREATE TEMP TABLE sluice_stage ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA",
             ps->cols, ps->table);
    if ((err = exec_ok(ps, sql, e, "creating the staging table")))
        return err;
    snprintf(sql, sizeof(sql), "COPY sluice_stage (%s) FROM STDIN", ps->cols);
    PGresult *res = PQexec(ps->conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        pg_error(ps, e, "starting COPY", res);
        PQclear(res);
        drop_conn(ps);
        return SL_RETRY;
    }
    PQclear(res);
    ps->in_copy = true;
    return SL_OK;
}

static sl_err send_copy(pg_sink *ps, sl_sink_error *e)
{
    if (!ps->buf.len)
        return SL_OK;
    if (PQputCopyData(ps->conn, (const char *)ps->buf.ptr, (int)ps->buf.len) != 1) {
        pg_error(ps, e, "sending COPY data", NULL);
        drop_conn(ps);
        return SL_RETRY;
    }
    ps->buf.len = 0;
    return SL_OK;
}

static sl_err pg_rows(sl_unit_sink *s, const sl_batch *b, uint64_t seq, sl_sink_error *e)
{
    (void)seq;
    pg_sink *ps = (pg_sink *)s;
    if (!ps->in_copy) {
        snprintf(e->message, sizeof(e->message), "PostgreSQL: rows without a unit begun");
        return SL_STATE;
    }
    size_t rows = sl_batch_rows(b);
    for (size_t r = 0; r < rows; r++) {
        sl_err err = SL_OK;
        for (size_t c = 0; !err && c < b->ncols; c++) {
            if (c)
                err = sl_buf_putc(&ps->buf, '\t');
            if (!err)
                err = sl_pg_value_text(&b->cols[c], r, true, &ps->buf);
        }
        if (!err)
            err = sl_buf_putc(&ps->buf, '\n');
        if (err) {
            snprintf(e->message, sizeof(e->message), "out of memory");
            return err;
        }
        if (ps->buf.len >= COPY_FLUSH && (err = send_copy(ps, e)))
            return err;
    }
    return SL_OK;
}

static sl_err pg_commit(sl_unit_sink *s, uint64_t row1, uint64_t rej1, sl_sink_error *e)
{
    (void)rej1;
    pg_sink *ps = (pg_sink *)s;
    if (!ps->begun)
        return SL_OK;
    sl_err err = send_copy(ps, e);
    if (err)
        return err;
    if (PQputCopyEnd(ps->conn, NULL) != 1) {
        pg_error(ps, e, "ending COPY", NULL);
        drop_conn(ps);
        return SL_RETRY;
    }
    PGresult *res;
    bool ok = true;
    while ((res = PQgetResult(ps->conn))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && ok) {
            pg_error(ps, e, "COPY", res);
            ok = false;
        }
        PQclear(res);
    }
    ps->in_copy = false;
    if (!ok) {
        drop_conn(ps);
        return SL_RETRY;
    }
    /* the range marker: a replay of a committed unit stops here */
    char r0[24], r1[24];
    snprintf(r0, sizeof(r0), "%" PRIu64, ps->u.row0);
    snprintf(r1, sizeof(r1), "%" PRIu64, row1);
    const char *params[4] = {ps->stream, ps->u.origin, r0, r1};
    char sql[9000];
    snprintf(sql, sizeof(sql), "INSERT INTO %s (stream, origin, row0, row1) VALUES ($1, $2, $3, "
             "$4) ON CONFLICT DO NOTHING", ps->units);
    res = PQexecParams(ps->conn, sql, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_error(ps, e, "recording the unit", res);
        PQclear(res);
        drop_conn(ps);
        return SL_RETRY;
    }
    bool fresh = strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    if (!fresh) {
        ps->begun = false;
        return exec_ok(ps, "ROLLBACK", e, "rolling back a repeated unit");
    }
    snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) SELECT %s FROM sluice_stage%s%s%s", ps->table,
             ps->cols, ps->cols, ps->key[0] ? " ON CONFLICT (" : "", ps->key,
             ps->key[0] ? ") DO NOTHING" : "");
    res = PQexec(ps->conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_error(ps, e, "inserting the rows", res);
        PQclear(res);
        drop_conn(ps);
        return SL_RETRY;
    }
    PQclear(res);
    res = PQexec(ps->conn, "COMMIT");
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK) {
        /* unknown outcome if the connection broke during COMMIT: the replay finds the marker
         * (committed) or not (rolled back); both are right */
        pg_error(ps, e, "committing", res);
        PQclear(res);
        drop_conn(ps);
        return SL_RETRY;
    }
    PQclear(res);
    ps->begun = false;
    s->committed_bytes = 0;
    return SL_OK;
}

static void pg_destroy(sl_unit_sink *s)
{
    pg_sink *ps = (pg_sink *)s;
    pg_abort(s);
    drop_conn(ps);
    sl_buf_release(&ps->buf);
    free(ps->stream);
    free(ps);
}

/* table name from the template: {stream} replaced */
static sl_err make_names(pg_sink *ps, sl_sink_error *e)
{
    char name[256];
    const char *t = ps->f->c.table;
    const char *at = strstr(t, "{stream}");
    if (at)
        snprintf(name, sizeof(name), "%.*s%s%s", (int)(at - t), t, ps->stream, at + 8);
    else
        snprintf(name, sizeof(name), "%s", t);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = put_ident(&b, ps->f->c.schema);
    if (!err)
        err = sl_buf_putc(&b, '.');
    if (!err)
        err = put_ident(&b, name);
    if (!err && b.len >= sizeof(ps->table))
        err = SL_FULL;
    if (!err) {
        memcpy(ps->table, b.ptr, b.len);
        ps->table[b.len] = 0;
        b.len = 0;
        err = put_ident(&b, ps->f->c.schema);
        if (!err)
            err = sl_buf_puts(&b, ".sluice_units");
        if (!err && b.len >= sizeof(ps->units))
            err = SL_FULL;
    }
    if (!err) {
        memcpy(ps->units, b.ptr, b.len);
        ps->units[b.len] = 0;
        b.len = 0;
        for (size_t i = 0; !err && i < ps->schema->nfields; i++) {
            if (i)
                err = sl_buf_puts(&b, ", ");
            if (!err)
                err = put_ident(&b, ps->schema->fields[i].name);
        }
        if (!err && b.len >= sizeof(ps->cols))
            err = SL_FULL;
        if (!err) {
            memcpy(ps->cols, b.ptr, b.len);
            ps->cols[b.len] = 0;
        }
    }
    const char *key = ps->f->c.key;
    bool found = false;
    for (size_t i = 0; !err && i < ps->schema->nfields; i++)
        found |= !strcmp(ps->schema->fields[i].name, key[0] ? key : "event_id");
    if (!err && key[0] && !found) {
        snprintf(e->message, sizeof(e->message),
                 "SLUICE_PG_KEY '%.60s' is not a column of stream %.64s", key, ps->stream);
        e->retryable = false;
        sl_buf_release(&b);
        return SL_INVALID;
    }
    if (!err && found) {
        b.len = 0;
        err = put_ident(&b, key[0] ? key : "event_id");
        if (!err && b.len < sizeof(ps->key)) {
            memcpy(ps->key, b.ptr, b.len);
            ps->key[b.len] = 0;
        }
    }
    sl_buf_release(&b);
    if (err) {
        snprintf(e->message, sizeof(e->message), "table or column names too long for stream %.64s",
                 ps->stream);
        e->retryable = false;
    }
    return err;
}

static sl_err pg_create(sl_unit_sink_factory *f, const char *stream, const sl_schema *schema,
                        sl_unit_sink **out, sl_sink_error *e)
{
    pg_sink *ps = calloc(1, sizeof(*ps));
    if (ps)
        ps->stream = strdup(stream);
    if (!ps || !ps->stream) {
        free(ps);
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    ps->base.kind = "postgres";
    ps->base.begin = pg_begin;
    ps->base.rows = pg_rows;
    ps->base.staged = true; /* COPY inside a transaction committed at commit */
    ps->base.rejects = NULL; /* dead letters stay files */
    ps->base.commit = pg_commit;
    ps->base.abort = pg_abort;
    ps->base.destroy = pg_destroy;
    ps->f = (pg_factory *)f;
    ps->schema = schema;
    sl_buf_init(&ps->buf, 0);
    sl_err err = make_names(ps, e);
    if (err) {
        pg_destroy(&ps->base);
        return err;
    }
    *out = &ps->base;
    return SL_OK;
}

static sl_err pg_check(sl_unit_sink_factory *f, sl_sink_error *e)
{
    pg_factory *pf = (pg_factory *)f;
    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%u", pf->c.connect_timeout);
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {pf->c.url, timeout, NULL};
    PGPing p = PQpingParams(keys, vals, 1);
    if (p == PQPING_OK)
        return SL_OK;
    snprintf(e->message, sizeof(e->message), "PostgreSQL at POSTGRES_URL is %s",
             p == PQPING_REJECT     ? "refusing connections (starting up or shutting down?)"
             : p == PQPING_NO_ATTEMPT ? "not usable: the URL is invalid"
                                    : "not reachable");
    snprintf(e->hint, sizeof(e->hint),
             "start PostgreSQL or fix POSTGRES_URL; events are kept in the WAL meanwhile");
    e->retryable = p != PQPING_NO_ATTEMPT;
    return SL_RETRY;
}

static void pg_factory_destroy(sl_unit_sink_factory *f)
{
    free(f);
}

sl_err sl_unit_pg_factory(const sl_pg_config *c, sl_unit_sink_factory **out, sl_sink_error *e)
{
    if (!c->url[0]) {
        snprintf(e->message, sizeof(e->message), "POSTGRES_URL is not set");
        snprintf(e->hint, sizeof(e->hint),
                 "set POSTGRES_URL=postgresql://USER:PASSWORD@HOST:5432/DB");
        e->retryable = false;
        return SL_INVALID;
    }
    pg_factory *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    f->base.kind = "postgres";
    f->base.create = pg_create;
    f->base.check = pg_check;
    f->base.destroy = pg_factory_destroy;
    f->c = *c;
    *out = &f->base;
    return SL_OK;
}
