/* clickhouse.c: ClickHouse unit sink (see clickhouse.h for the exactly-once argument).
 *
 * One curl handle per stream (its lane thread only; connections are kept alive). A unit's rows
 * are rendered as JSONEachRow into memory (a unit is bounded by BATCH_SIZE and
 * SLUICE_TARGET_FILE_BYTES) and sent in one INSERT at commit. The server's version is asked
 * once per sink (first begin) and decides the timestamp type and the dedup token.
 */
#define _GNU_SOURCE
#include "sink/clickhouse.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/textfmt.h"

typedef struct {
    sl_unit_sink_factory base;
    sl_ch_config c;
} ch_factory;

typedef struct {
    sl_unit_sink base;
    ch_factory *f;
    char *stream;
    const sl_schema *schema;
    CURL *h;
    int version;      /* major * 1000 + minor, 0 = not asked yet */
    bool table_ready;
    bool events;      /* the events schema: ordered by event_id */
    sl_unit u;
    bool begun;
    char table[300];  /* `db`.`table` */
    sl_buf body;      /* JSONEachRow of the unit */
    sl_buf resp;
} ch_sink;

void sl_ch_config_default(sl_ch_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->database, sizeof(c->database), "default");
    snprintf(c->table, sizeof(c->table), "{stream}");
    c->timeout = 30;
}

bool sl_ch_config_set(sl_ch_config *c, const char *name, const char *v, char *err, size_t errn)
{
    size_t n = strlen(v);
    if (!strcmp(name, "CLICKHOUSE_URL")) {
        if (n >= sizeof(c->url) || (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))) {
            snprintf(err, errn, "expected http://host:8123 (or https://)");
            return false;
        }
        memcpy(c->url, v, n + 1);
        while (n && c->url[n - 1] == '/')
            c->url[--n] = 0;
        return true;
    }
    if (!strcmp(name, "SLUICE_CH_TIMEOUT")) {
        char *end;
        unsigned long s = strtoul(v, &end, 10);
        if (*end || end == v || !s || s > 3600) {
            snprintf(err, errn, "expected seconds 1..3600");
            return false;
        }
        c->timeout = (unsigned)s;
        return true;
    }
    char *dst = !strcmp(name, "SLUICE_CH_TABLE")      ? c->table
                : !strcmp(name, "SLUICE_CH_DATABASE") ? c->database
                                                      : NULL;
    if (!dst) {
        snprintf(err, errn, "unknown ClickHouse option");
        return false;
    }
    size_t cap = dst == c->table ? sizeof(c->table) : sizeof(c->database);
    if (!n || n >= cap || strchr(v, '`') || strchr(v, '\\')) {
        snprintf(err, errn, "expected a name of 1..%zu characters without ` or \\", cap - 1);
        return false;
    }
    memcpy(dst, v, n + 1);
    return true;
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

static size_t on_write(char *p, size_t size, size_t nmemb, void *ctx)
{
    sl_buf *b = ctx;
    size_t n = size * nmemb;
    if (b->len < 4096 && sl_buf_append(b, p, n < 4096 ? n : 4096))
        return 0;
    return n;
}

/* POST body to /?query=...&extra; SL_OK on 200 (answer in s->resp). */
static sl_err ch_post(ch_sink *s, const char *query, const char *extra, const void *body,
                      size_t n, sl_sink_error *e, const char *what)
{
    if (!s->h && !(s->h = curl_easy_init())) {
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    char *q = curl_easy_escape(s->h, query, 0);
    if (!q) {
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    sl_buf url;
    sl_buf_init(&url, 0);
    sl_err err = sl_buf_printf(&url, "%s/?query=%s%s%s", s->f->c.url, q, extra ? "&" : "",
                               extra ? extra : "");
    curl_free(q);
    if (!err)
        err = sl_buf_putc(&url, 0);
    if (err) {
        sl_buf_release(&url);
        snprintf(e->message, sizeof(e->message), "out of memory");
        return err;
    }
    s->resp.len = 0;
    CURL *h = s->h;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, (const char *)url.ptr);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, n ? (const char *)body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)s->f->c.timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hd);
    sl_buf_release(&url);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
        char ans[300] = "";
        if (s->resp.len) {
            size_t k = s->resp.len < sizeof(ans) - 1 ? s->resp.len : sizeof(ans) - 1;
            memcpy(ans, s->resp.ptr, k);
            ans[k] = 0;
            for (char *p = ans; *p; p++)
                if (*p == '\n')
                    *p = ' ';
        }
        snprintf(e->message, sizeof(e->message), "ClickHouse, stream %.64s, %s: %s%s%.300s",
                 s->stream, what, rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP ",
                 rc != CURLE_OK ? "" : (status >= 500 ? "5xx: " : "error: "), ans);
        e->retryable = rc != CURLE_OK || status >= 500;
        snprintf(e->hint, sizeof(e->hint), "%s",
                 rc != CURLE_OK ? "is ClickHouse up and reachable at CLICKHOUSE_URL? sluice "
                                  "retries with backoff; the rows wait in the WAL"
                                : "check the table and CLICKHOUSE_URL's user; the rows wait in "
                                  "the WAL");
        curl_easy_cleanup(h); /* a fresh connection next time */
        s->h = NULL;
        return SL_RETRY;
    }
    return SL_OK;
}

/* ---- values ---------------------------------------------------------------------------------- */

static sl_err put_value(ch_sink *s, sl_buf *b, const sl_column *col, size_t row)
{
    if (col->valid && !col->valid[row])
        return sl_buf_puts(b, "null");
    const uint8_t *slot = col->data ? col->data + (size_t)col->width * row : NULL;
    switch (col->type.id) {
    case SL_TYPE_BOOL:
        return sl_buf_putc(b, slot[0] ? '1' : '0');
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
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE: {
        double d;
        if (col->type.id == SL_TYPE_FLOAT) {
            float f;
            memcpy(&f, slot, 4);
            d = (double)f;
        } else {
            memcpy(&d, slot, 8);
        }
        if (isnan(d))
            return sl_buf_puts(b, "\"nan\"");
        if (isinf(d))
            return sl_buf_puts(b, d > 0 ? "\"inf\"" : "\"-inf\"");
        return sl_buf_printf(b, "%.17g", d);
    }
    case SL_TYPE_DATE: {
        int32_t v;
        memcpy(&v, slot, 4);
        char t[SL_DATE_TEXT_MAX];
        size_t n = sl_format_date(v, t);
        return sl_buf_json_str(b, t, n);
    }
    case SL_TYPE_TIMESTAMP: {
        int64_t v;
        memcpy(&v, slot, 8);
        char t[SL_TIMESTAMP_TEXT_MAX];
        size_t n = sl_format_timestamp(v, col->type.unit, false, t);
        for (size_t i = 0; i < n; i++)
            if (t[i] == 'T')
                t[i] = ' ';
        if (s->version < 20001) { /* DateTime: whole seconds */
            char *dot = memchr(t, '.', n);
            if (dot)
                n = (size_t)(dot - t);
        }
        return sl_buf_json_str(b, t, n);
    }
    case SL_TYPE_DECIMAL: {
        char t[SL_DECIMAL_TEXT_MAX];
        size_t n = sl_format_decimal(sl_col_decimal_at(col, row), col->type.scale, t);
        return sl_buf_append(b, t, n);
    }
    case SL_TYPE_BINARY: {
        const uint8_t *p = col->bytes + col->offsets[row];
        size_t n = col->offsets[row + 1] - col->offsets[row];
        sl_err err = sl_buf_reserve(b, 2 * n + 2);
        if (err)
            return err;
        static const char hex[] = "0123456789abcdef";
        b->ptr[b->len++] = '"';
        for (size_t i = 0; i < n; i++) {
            b->ptr[b->len++] = (uint8_t)hex[p[i] >> 4];
            b->ptr[b->len++] = (uint8_t)hex[p[i] & 15];
        }
        b->ptr[b->len++] = '"';
        return SL_OK;
    }
    default: {
        const uint8_t *p = col->bytes + col->offsets[row];
        size_t n = col->offsets[row + 1] - col->offsets[row];
        return sl_buf_json_str(b, (const char *)p, n);
    }
    }
}

static const char *ch_type(const ch_sink *s, sl_type t, char *buf, size_t n)
{
    switch (t.id) {
    case SL_TYPE_BOOL: return "UInt8";
    case SL_TYPE_INT32: return "Int32";
    case SL_TYPE_INT64: return "Int64";
    case SL_TYPE_FLOAT: return "Float32";
    case SL_TYPE_DOUBLE: return "Float64";
    case SL_TYPE_DATE: return "Date";
    case SL_TYPE_DECIMAL: snprintf(buf, n, "Decimal(%u, %u)", t.precision, t.scale); return buf;
    case SL_TYPE_TIMESTAMP:
        if (s->version < 20001)
            return t.utc ? "DateTime('UTC')" : "DateTime";
        snprintf(buf, n, "DateTime64(%d%s)", t.unit == SL_UNIT_MS ? 3 : t.unit == SL_UNIT_US ? 6 : 9,
                 t.utc ? ", 'UTC'" : "");
        return buf;
    default: return "String";
    }
}

static sl_err ensure_table(ch_sink *s, sl_sink_error *e)
{
    if (s->table_ready)
        return SL_OK;
    sl_err err;
    if (!s->version) {
        if ((err = ch_post(s, "SELECT version()", NULL, NULL, 0, e, "asking the version")))
            return err;
        unsigned major = 0, minor = 0;
        if (sl_buf_putc(&s->resp, 0) == SL_OK &&
            sscanf((const char *)s->resp.ptr, "%u.%u", &major, &minor) != 2)
            major = minor = 0;
        s->version = (int)(major * 1000 + minor);
    }
    sl_buf q;
    sl_buf_init(&q, 0);
    err = sl_buf_printf(&q, "CREATE TABLE IF NOT EXISTS %s (_sluice_seq UInt64", s->table);
    for (size_t i = 0; !err && i < s->schema->nfields; i++) {
        const sl_field *f = &s->schema->fields[i];
        char tb[48];
        const char *ty = ch_type(s, f->type, tb, sizeof(tb));
        bool key = s->events && !strcmp(f->name, "event_id");
        err = sl_buf_printf(&q, ", `%s` %s%s%s", f->name, f->nullable && !key ? "Nullable(" : "",
                            ty, f->nullable && !key ? ")" : "");
    }
    if (!err)
        err = sl_buf_printf(&q, ") ENGINE = ReplacingMergeTree ORDER BY %s%s",
                            s->events ? "event_id" : "_sluice_seq",
                            s->version >= 22002
                                ? " SETTINGS non_replicated_deduplication_window = 1000"
                                : "");
    if (!err)
        err = sl_buf_putc(&q, 0);
    if (!err)
        err = ch_post(s, (const char *)q.ptr, NULL, NULL, 0, e, "creating the table");
    sl_buf_release(&q);
    if (err)
        return err;
    char sql[400];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS `%s`.sluice_units (stream String, row0 UInt64, row1 "
             "UInt64, committed_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY (stream, "
             "row0)",
             s->f->c.database);
    if ((err = ch_post(s, sql, NULL, NULL, 0, e, "creating sluice_units")))
        return err;
    s->table_ready = true;
    return SL_OK;
}

/* ---- unit sink ------------------------------------------------------------------------------ */

static void ch_abort(sl_unit_sink *us)
{
    ch_sink *s = (ch_sink *)us;
    s->body.len = 0;
    s->begun = false;
}

static sl_err ch_begin(sl_unit_sink *us, const sl_unit *u, sl_sink_error *e)
{
    ch_sink *s = (ch_sink *)us;
    ch_abort(us);
    s->u = *u;
    s->u.stream = s->stream;
    sl_err err = ensure_table(s, e);
    if (!err)
        s->begun = true;
    return err;
}

static sl_err ch_rows(sl_unit_sink *us, const sl_batch *b, uint64_t seq, sl_sink_error *e)
{
    ch_sink *s = (ch_sink *)us;
    size_t rows = sl_batch_rows(b);
    sl_err err = SL_OK;
    for (size_t r = 0; !err && r < rows; r++) {
        err = sl_buf_printf(&s->body, "{\"_sluice_seq\":%" PRIu64, seq + r);
        for (size_t c = 0; !err && c < b->ncols; c++) {
            err = sl_buf_putc(&s->body, ',');
            if (!err)
                err = sl_buf_json_str(&s->body, s->schema->fields[c].name,
                                      strlen(s->schema->fields[c].name));
            if (!err)
                err = sl_buf_putc(&s->body, ':');
            if (!err)
                err = put_value(s, &s->body, &b->cols[c], r);
        }
        if (!err)
            err = sl_buf_puts(&s->body, "}\n");
    }
    if (err)
        snprintf(e->message, sizeof(e->message), "out of memory rendering rows for ClickHouse");
    return err;
}

static sl_err ch_commit(sl_unit_sink *us, uint64_t row1, uint64_t rej1, sl_sink_error *e)
{
    (void)rej1;
    ch_sink *s = (ch_sink *)us;
    if (!s->begun)
        return SL_OK;
    char sql[600];
    /* 1. already there? (a replay of a unit whose INSERT and marker landed) */
    snprintf(sql, sizeof(sql),
             "SELECT count() FROM `%s`.sluice_units WHERE stream = '%s' AND row0 = %" PRIu64,
             s->f->c.database, s->stream, s->u.row0);
    sl_err err = ch_post(s, sql, NULL, NULL, 0, e, "looking up the unit");
    if (err)
        return err;
    bool done = s->resp.len && s->resp.ptr[0] != '0';
    if (!done && s->body.len) {
        char cols[4096] = "_sluice_seq";
        size_t k = strlen(cols);
        for (size_t i = 0; i < s->schema->nfields && k < sizeof(cols) - 80; i++)
            k += (size_t)snprintf(cols + k, sizeof(cols) - k, ", `%s`", s->schema->fields[i].name);
        char *q = malloc(k + 400);
        if (!q) {
            snprintf(e->message, sizeof(e->message), "out of memory");
            return SL_NOMEM;
        }
        snprintf(q, k + 400, "INSERT INTO %s (%s) FORMAT JSONEachRow", s->table, cols);
        char extra[300] = "";
        if (s->version >= 22002)
            snprintf(extra, sizeof(extra), "insert_deduplication_token=sluice%%3A%s%%3A%" PRIu64
                                           "%%3A%" PRIu64, s->stream, s->u.row0, row1);
        err = ch_post(s, q, extra[0] ? extra : NULL, s->body.ptr, s->body.len, e, "INSERT");
        free(q);
        if (err)
            return err;
        /* 2. the marker, after the rows */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO `%s`.sluice_units (stream, row0, row1) VALUES ('%s', %" PRIu64
                 ", %" PRIu64 ")",
                 s->f->c.database, s->stream, s->u.row0, row1);
        if ((err = ch_post(s, sql, NULL, NULL, 0, e, "recording the unit")))
            return err;
    }
    us->committed_bytes = s->body.len;
    s->body.len = 0;
    s->begun = false;
    return SL_OK;
}

static void ch_destroy(sl_unit_sink *us)
{
    ch_sink *s = (ch_sink *)us;
    if (s->h)
        curl_easy_cleanup(s->h);
    sl_buf_release(&s->body);
    sl_buf_release(&s->resp);
    free(s->stream);
    free(s);
}

static bool events_schema(const sl_schema *sc)
{
    return sc->nfields == 5 && !strcmp(sc->fields[0].name, "event_id") &&
           !strcmp(sc->fields[2].name, "occurred_at") && !strcmp(sc->fields[4].name, "received_at");
}

static sl_err ch_create(sl_unit_sink_factory *f, const char *stream, const sl_schema *schema,
                        sl_unit_sink **out, sl_sink_error *e)
{
    ch_sink *s = calloc(1, sizeof(*s));
    if (s)
        s->stream = strdup(stream);
    if (!s || !s->stream) {
        free(s);
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    for (size_t i = 0; i < schema->nfields; i++)
        if (strchr(schema->fields[i].name, '`') || strchr(schema->fields[i].name, '\\')) {
            snprintf(e->message, sizeof(e->message),
                     "column name '%.60s' of stream %.64s cannot be used in ClickHouse",
                     schema->fields[i].name, stream);
            e->retryable = false;
            free(s->stream);
            free(s);
            return SL_INVALID;
        }
    s->base.kind = "clickhouse";
    s->base.begin = ch_begin;
    s->base.rows = ch_rows;
    s->base.rejects = NULL;
    s->base.commit = ch_commit;
    s->base.abort = ch_abort;
    s->base.destroy = ch_destroy;
    s->f = (ch_factory *)f;
    s->schema = schema;
    s->events = events_schema(schema);
    sl_buf_init(&s->body, 0);
    sl_buf_init(&s->resp, 0);
    const char *t = s->f->c.table;
    const char *at = strstr(t, "{stream}");
    char name[256];
    if (at)
        snprintf(name, sizeof(name), "%.*s%s%s", (int)(at - t), t, stream, at + 8);
    else
        snprintf(name, sizeof(name), "%s", t);
    snprintf(s->table, sizeof(s->table), "`%s`.`%.200s`", s->f->c.database, name);
    *out = &s->base;
    return SL_OK;
}

static sl_err ch_check(sl_unit_sink_factory *f, sl_sink_error *e)
{
    ch_factory *cf = (ch_factory *)f;
    CURL *h = curl_easy_init();
    if (!h)
        return SL_NOMEM;
    char url[1100];
    snprintf(url, sizeof(url), "%s/ping", cf->c.url);
    sl_buf sink;
    sl_buf_init(&sink, 0);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    sl_buf_release(&sink);
    if (rc == CURLE_OK && status == 200)
        return SL_OK;
    snprintf(e->message, sizeof(e->message), "ClickHouse at CLICKHOUSE_URL is not reachable: %s",
             rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP error on /ping");
    snprintf(e->hint, sizeof(e->hint), "start ClickHouse or fix CLICKHOUSE_URL; rows wait in the WAL");
    e->retryable = true;
    return SL_RETRY;
}

static void ch_factory_destroy(sl_unit_sink_factory *f)
{
    free(f);
}

sl_err sl_unit_ch_factory(const sl_ch_config *c, sl_unit_sink_factory **out, sl_sink_error *e)
{
    if (!c->url[0]) {
        snprintf(e->message, sizeof(e->message), "CLICKHOUSE_URL is not set");
        snprintf(e->hint, sizeof(e->hint), "set CLICKHOUSE_URL=http://HOST:8123");
        e->retryable = false;
        return SL_INVALID;
    }
    ch_factory *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    f->base.kind = "clickhouse";
    f->base.create = ch_create;
    f->base.check = ch_check;
    f->base.destroy = ch_factory_destroy;
    f->c = *c;
    *out = &f->base;
    return SL_OK;
}
