/* clickhouse.c: ClickHouse unit sink (see clickhouse.h for the exactly-once argument).
 *
 * One curl handle per stream (its lane thread only; connections are kept alive). A unit's rows
 * are rendered as RowBinary into memory (a unit is bounded by BATCH_SIZE and
 * SLUICE_TARGET_FILE_BYTES) and sent in one INSERT at commit, the column list in the order of the
 * body: _sluice_seq (UInt64), _sluice_origin (String: the data directory's identity, as row
 * numbers restart in a new one), then the schema's fields. A value is its ClickHouse type's bytes,
 * little-endian; String = unsigned LEB128 length + bytes; Nullable(T) = a byte 1 (NULL, nothing
 * follows) or 0 then T. The server's version is asked once per sink (first begin) and decides
 * the timestamp type (DateTime64 Int64 of the unit, or DateTime UInt32 seconds) and the dedup
 * token.
 */
#define _GNU_SOURCE
#include "sink/clickhouse.h"

#include <curl/curl.h>
#include <inttypes.h>
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
    bool *nullable;   /* per field: its ClickHouse column is Nullable (the body has null bytes) */
    sl_unit u;
    bool begun;
    char table[300];  /* `db`.`table` */
    char name[256];   /* the table's name alone */
    sl_buf body;      /* RowBinary of the unit */
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
    struct curl_slist *hd = curl_slist_append(NULL, n ? "Content-Type: application/octet-stream"
                                                      : "Content-Type: text/plain; charset=utf-8");
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

static const char *ch_type(const ch_sink *s, sl_type t, char *buf, size_t n);

/* ---- values: RowBinary ----------------------------------------------------------------------- */

/* Bytes of a fixed-width ClickHouse value of type t in RowBinary; 0 for String. */
static unsigned rb_width(const ch_sink *s, sl_type t)
{
    switch (t.id) {
    case SL_TYPE_BOOL: return 1;
    case SL_TYPE_INT32:
    case SL_TYPE_FLOAT: return 4;
    case SL_TYPE_INT64:
    case SL_TYPE_DOUBLE: return 8;
    case SL_TYPE_DATE: return 2;
    case SL_TYPE_TIMESTAMP: return s->version < 20001 ? 4 : 8;
    case SL_TYPE_DECIMAL: return t.precision <= 9 ? 4 : t.precision <= 18 ? 8 : 16;
    default: return 0;
    }
}

/* The low n bytes of v, little-endian (the caller reserved them). */
static void rb_le(sl_buf *b, unsigned __int128 v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        b->ptr[b->len++] = (uint8_t)(v >> (8 * i));
}

/* Reserves the length prefix (unsigned LEB128 of n) plus n bytes and writes the prefix. */
static sl_err rb_len(sl_buf *b, size_t n, size_t extra)
{
    sl_err err = sl_buf_reserve(b, 10 + extra);
    if (err)
        return err;
    do {
        b->ptr[b->len++] = (uint8_t)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>= 7;
    } while (n);
    return SL_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - (a % b < 0);
}

/* A value the column's ClickHouse type cannot hold: a permanent error for the unit (sending it
 * would wrap it, e.g. a Date before 1970 into 2149). */
static sl_err rb_range(ch_sink *s, const sl_column *col, size_t c, size_t row, uint64_t seq,
                       const char *what, const char *range, sl_sink_error *e)
{
    char t[SL_TIMESTAMP_TEXT_MAX > SL_DECIMAL_TEXT_MAX ? SL_TIMESTAMP_TEXT_MAX
                                                       : SL_DECIMAL_TEXT_MAX];
    char tb[48];
    const uint8_t *slot = col->data + (size_t)col->width * row;
    if (col->type.id == SL_TYPE_DATE) {
        int32_t v;
        memcpy(&v, slot, 4);
        sl_format_date(v, t);
    } else if (col->type.id == SL_TYPE_TIMESTAMP) {
        int64_t v;
        memcpy(&v, slot, 8);
        sl_format_timestamp(v, col->type.unit, col->type.utc, t);
    } else {
        sl_format_decimal(sl_col_decimal_at(col, row), col->type.scale, t);
    }
    snprintf(e->message, sizeof(e->message),
             "ClickHouse, stream %.64s, row %" PRIu64 ", column %.60s: %s %s does not fit %s (%s)",
             s->stream, seq, s->schema->fields[c].name, what, t,
             ch_type(s, col->type, tb, sizeof(tb)), range);
    snprintf(e->hint, sizeof(e->hint),
             "the unit is not sent (the value would wrap); the stream's rows wait in the WAL: "
             "route the stream to another sink or drop the row at the source");
    e->retryable = false;
    return SL_INVALID;
}

/* Row r of column c (the stream's row seq) in RowBinary: a Nullable column gets its null byte
 * first; a NULL in a column sluice did not make Nullable (the events key) is the type's zero. */
static sl_err rb_value(ch_sink *s, sl_buf *b, const sl_column *col, size_t c, size_t row,
                       uint64_t seq, sl_sink_error *e)
{
    bool is_null = col->valid && !col->valid[row];
    unsigned w = rb_width(s, col->type);
    sl_err err = sl_buf_reserve(b, 1 + (w ? w : 1));
    if (err)
        return err;
    if (s->nullable[c]) {
        b->ptr[b->len++] = is_null;
        if (is_null)
            return SL_OK;
    } else if (is_null) {
        rb_le(b, 0, w ? w : 1); /* a String's zero is the empty string: length 0 */
        return SL_OK;
    }
    const uint8_t *slot = col->data ? col->data + (size_t)col->width * row : NULL;
    switch (col->type.id) {
    case SL_TYPE_BOOL: b->ptr[b->len++] = slot[0] != 0; return SL_OK;
    case SL_TYPE_INT32:
    case SL_TYPE_FLOAT: { /* the bits as they are: two's complement or IEEE 754 binary32 */
        uint32_t v;
        memcpy(&v, slot, 4);
        rb_le(b, v, 4);
        return SL_OK;
    }
    case SL_TYPE_INT64:
    case SL_TYPE_DOUBLE: {
        uint64_t v;
        memcpy(&v, slot, 8);
        rb_le(b, v, 8);
        return SL_OK;
    }
    case SL_TYPE_DATE: { /* UInt16 days since 1970-01-01 */
        int32_t v;
        memcpy(&v, slot, 4);
        if (v < 0 || v > UINT16_MAX)
            return rb_range(s, col, c, row, seq, "date", "1970-01-01..2149-06-06", e);
        rb_le(b, (uint16_t)v, 2);
        return SL_OK;
    }
    case SL_TYPE_TIMESTAMP: {
        int64_t v;
        memcpy(&v, slot, 8);
        if (w == 8) { /* DateTime64(3|6|9): the count of the column's unit, as it is */
            rb_le(b, (uint64_t)v, 8);
            return SL_OK;
        }
        /* DateTime: UInt32 seconds, the fraction dropped (rounded down, as the text was) */
        static const int64_t per_sec[] = {1000, 1000000, 1000000000};
        int64_t secs = floor_div(v, per_sec[col->type.unit]);
        if (secs < 0 || secs > (int64_t)UINT32_MAX)
            return rb_range(s, col, c, row, seq, "timestamp",
                            "1970-01-01 00:00:00..2106-02-07 06:28:15 UTC", e);
        rb_le(b, (uint32_t)secs, 4);
        return SL_OK;
    }
    case SL_TYPE_DECIMAL: { /* Int32/Int64/Int128 of the unscaled value */
        __int128 v = sl_col_decimal_at(col, row);
        __int128 lim = 1;
        for (unsigned i = 0; i < col->type.precision; i++)
            lim *= 10;
        if (v <= -lim || v >= lim)
            return rb_range(s, col, c, row, seq, "decimal", "too many digits", e);
        rb_le(b, (unsigned __int128)v, w);
        return SL_OK;
    }
    case SL_TYPE_BINARY: { /* String of lowercase hex */
        const uint8_t *p = col->bytes + col->offsets[row];
        size_t n = col->offsets[row + 1] - col->offsets[row];
        if ((err = rb_len(b, 2 * n, 2 * n)))
            return err;
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
            b->ptr[b->len++] = (uint8_t)hex[p[i] >> 4];
            b->ptr[b->len++] = (uint8_t)hex[p[i] & 15];
        }
        return SL_OK;
    }
    default: { /* string, json: the bytes */
        const uint8_t *p = col->bytes + col->offsets[row];
        size_t n = col->offsets[row + 1] - col->offsets[row];
        if ((err = rb_len(b, n, n)))
            return err;
        memcpy(b->ptr + b->len, p, n);
        b->len += n;
        return SL_OK;
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

/* 'v' as an SQL string literal (names have no backslash: sl_ch_config_set, ch_create). */
static sl_err sql_str(sl_buf *b, const char *v)
{
    sl_err err = sl_buf_putc(b, '\'');
    for (; !err && *v; v++)
        err = *v == '\'' ? sl_buf_append(b, "\\'", 2) : sl_buf_putc(b, (uint8_t)*v);
    return err ? err : sl_buf_putc(b, '\'');
}

/* A table made by an older sluice lacks the origin column (the data directory's identity,
 * sl_unit.origin): it is added (String, so '' in the rows already there). With into_key, in the
 * same ALTER, the column is appended to the table's sorting key: a ReplacingMergeTree ordered by
 * _sluice_seq alone would collapse a new data directory's rows (numbered from 0 again) with the
 * old ones at merges. ClickHouse takes a column into the key only in the ALTER that adds it, and
 * (18.16) only without a DEFAULT expression. Another lane adding it first is fine. */
static sl_err add_column(ch_sink *s, const char *table, const char *col, bool into_key,
                         sl_sink_error *e)
{
    sl_buf q;
    sl_buf_init(&q, 0);
    /* row 1: the column's count; row 2: the table's sorting key */
    sl_err err = sl_buf_printf(&q, "SELECT toString(count()) FROM system.columns WHERE database = ");
    if (!err)
        err = sql_str(&q, s->f->c.database);
    if (!err)
        err = sl_buf_printf(&q, " AND table = ");
    if (!err)
        err = sql_str(&q, table);
    if (!err)
        err = sl_buf_printf(&q, " AND name = ");
    if (!err)
        err = sql_str(&q, col);
    if (!err)
        err = sl_buf_printf(&q, " UNION ALL SELECT sorting_key FROM system.tables WHERE database = ");
    if (!err)
        err = sql_str(&q, s->f->c.database);
    if (!err)
        err = sl_buf_printf(&q, " AND name = ");
    if (!err)
        err = sql_str(&q, table);
    if (!err)
        err = sl_buf_printf(&q, " FORMAT TabSeparated");
    if (!err)
        err = sl_buf_putc(&q, 0);
    if (!err)
        err = ch_post(s, (const char *)q.ptr, NULL, NULL, 0, e, "looking for the origin column");
    char count[24] = "", key[1024] = "";
    bool key_fits = true;
    if (!err) { /* UNION ALL gives its parts in any order: the count is the all-digit line */
        const char *p = (const char *)s->resp.ptr, *end = p + s->resp.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = (size_t)((nl ? nl : end) - p);
            bool digits = n > 0;
            for (size_t i = 0; digits && i < n; i++)
                digits = p[i] >= '0' && p[i] <= '9';
            if (digits && !count[0])
                snprintf(count, sizeof(count), "%.*s", (int)(n < 20 ? n : 20), p);
            else if (n < sizeof(key))
                snprintf(key, sizeof(key), "%.*s", (int)n, p);
            else
                key_fits = false;
            p = nl ? nl + 1 : end;
        }
    }
    if (!err && !strcmp(count, "0")) {
        q.len = 0;
        err = sl_buf_printf(&q, "ALTER TABLE `%s`.`%s` ADD COLUMN `%s` String", s->f->c.database,
                            table, col);
        if (!err && into_key && key[0] && key_fits)
            err = sl_buf_printf(&q, ", MODIFY ORDER BY (%s, `%s`)", key, col);
        if (!err)
            err = sl_buf_putc(&q, 0);
        if (!err) {
            err = ch_post(s, (const char *)q.ptr, NULL, NULL, 0, e, "adding the origin column");
            if (err == SL_RETRY && strstr(e->message, "already exists")) { /* another lane */
                memset(e, 0, sizeof(*e));
                err = SL_OK;
            }
        }
    }
    sl_buf_release(&q);
    if (err == SL_NOMEM)
        snprintf(e->message, sizeof(e->message), "out of memory");
    return err;
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
    err = sl_buf_printf(&q, "CREATE TABLE IF NOT EXISTS %s (_sluice_seq UInt64, _sluice_origin String",
                        s->table);
    for (size_t i = 0; !err && i < s->schema->nfields; i++) {
        const sl_field *f = &s->schema->fields[i];
        char tb[48];
        const char *ty = ch_type(s, f->type, tb, sizeof(tb));
        err = sl_buf_printf(&q, ", `%s` %s%s%s", f->name, s->nullable[i] ? "Nullable(" : "", ty,
                            s->nullable[i] ? ")" : "");
    }
    if (!err)
        err = sl_buf_printf(&q, ") ENGINE = ReplacingMergeTree ORDER BY %s%s",
                            s->events ? "event_id" : "(_sluice_origin, _sluice_seq)",
                            s->version >= 22002
                                ? " SETTINGS non_replicated_deduplication_window = 1000"
                                : "");
    if (!err)
        err = sl_buf_putc(&q, 0);
    if (!err)
        err = ch_post(s, (const char *)q.ptr, NULL, NULL, 0, e, "creating the table");
    if (!err)
        err = add_column(s, s->name, "_sluice_origin", !s->events, e);
    /* RowBinary carries no types: a table made before (by hand, or by sluice for another schema)
     * whose column has another type would read the bytes wrongly. The first such column, if any. */
    q.len = 0;
    if (!err)
        err = sl_buf_printf(&q, "SELECT name, type FROM system.columns WHERE database = ");
    if (!err)
        err = sql_str(&q, s->f->c.database);
    if (!err)
        err = sl_buf_printf(&q, " AND table = ");
    if (!err)
        err = sql_str(&q, s->name);
    if (!err)
        err = sl_buf_printf(&q, " AND (name, type) NOT IN (('_sluice_seq', 'UInt64'), "
                                "('_sluice_origin', 'String')");
    for (size_t i = 0; !err && i < s->schema->nfields; i++) {
        const sl_field *f = &s->schema->fields[i];
        char tb[48], ty[64];
        snprintf(ty, sizeof(ty), "%s%s%s", s->nullable[i] ? "Nullable(" : "",
                 ch_type(s, f->type, tb, sizeof(tb)), s->nullable[i] ? ")" : "");
        err = sl_buf_printf(&q, ", (");
        if (!err)
            err = sql_str(&q, f->name);
        if (!err)
            err = sl_buf_printf(&q, ", ");
        if (!err)
            err = sql_str(&q, ty);
        if (!err)
            err = sl_buf_printf(&q, ")");
    }
    if (!err)
        err = sl_buf_printf(&q, ") AND name IN ('_sluice_seq', '_sluice_origin'");
    for (size_t i = 0; !err && i < s->schema->nfields; i++) {
        err = sl_buf_printf(&q, ", ");
        if (!err)
            err = sql_str(&q, s->schema->fields[i].name);
    }
    if (!err)
        err = sl_buf_printf(&q, ") LIMIT 1 FORMAT TabSeparated");
    if (!err)
        err = sl_buf_putc(&q, 0);
    if (!err)
        err = ch_post(s, (const char *)q.ptr, NULL, NULL, 0, e, "checking the table's columns");
    sl_buf_release(&q);
    if (err)
        return err;
    if (s->resp.len) {
        size_t k = s->resp.len;
        while (k && s->resp.ptr[k - 1] == '\n')
            k--;
        for (size_t i = 0; i < k; i++)
            if (s->resp.ptr[i] == '\t')
                s->resp.ptr[i] = ' ';
        snprintf(e->message, sizeof(e->message),
                 "ClickHouse, stream %.64s: table %.200s has the column %.*s, not the type sluice "
                 "sends (RowBinary carries no types)",
                 s->stream, s->table, (int)(k < 200 ? k : 200), (const char *)s->resp.ptr);
        snprintf(e->hint, sizeof(e->hint),
                 "ALTER the column to the type of the stream's schema, or drop the table (sluice "
                 "creates it) or set SLUICE_CH_TABLE; the rows wait in the WAL");
        e->retryable = false;
        return SL_INVALID;
    }
    char sql[400];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS `%s`.sluice_units (stream String, origin String, row0 "
             "UInt64, row1 UInt64, committed_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER "
             "BY (stream, origin, row0)",
             s->f->c.database);
    if ((err = ch_post(s, sql, NULL, NULL, 0, e, "creating sluice_units")))
        return err;
    if ((err = add_column(s, "sluice_units", "origin", false, e)))
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
    if (!s->u.origin)
        s->u.origin = "";
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
    /* per row, per column in the INSERT's order (_sluice_seq, _sluice_origin, then the schema's
     * fields) */
    const char *origin = s->u.origin;
    size_t olen = strlen(origin);
    for (size_t r = 0; !err && r < rows; r++) {
        err = sl_buf_reserve(&s->body, 8);
        if (err)
            break;
        rb_le(&s->body, seq + r, 8);
        err = sl_buf_putc(&s->body, (uint8_t)olen); /* LEB128 length: olen < 128 */
        if (!err)
            err = sl_buf_append(&s->body, origin, olen);
        for (size_t c = 0; !err && c < b->ncols; c++)
            err = rb_value(s, &s->body, &b->cols[c], c, r, seq + r, e);
    }
    if (err == SL_NOMEM)
        snprintf(e->message, sizeof(e->message), "out of memory rendering rows for ClickHouse");
    return err;
}

static sl_err ch_commit(sl_unit_sink *us, uint64_t row1, uint64_t rej1, sl_sink_error *e)
{
    (void)rej1;
    ch_sink *s = (ch_sink *)us;
    if (!s->begun)
        return SL_OK;
    const char *origin = s->u.origin; /* hex digits: no quoting needed */
    char sql[600];
    /* 1. already there? (a replay of a unit whose INSERT and marker landed) */
    snprintf(sql, sizeof(sql),
             "SELECT count() FROM `%s`.sluice_units WHERE stream = '%s' AND origin = '%s' AND "
             "row0 = %" PRIu64,
             s->f->c.database, s->stream, origin, s->u.row0);
    sl_err err = ch_post(s, sql, NULL, NULL, 0, e, "looking up the unit");
    if (err)
        return err;
    bool done = s->resp.len && s->resp.ptr[0] != '0';
    if (!done && s->body.len) {
        char cols[4096] = "_sluice_seq, _sluice_origin";
        size_t k = strlen(cols);
        for (size_t i = 0; i < s->schema->nfields && k < sizeof(cols) - 80; i++)
            k += (size_t)snprintf(cols + k, sizeof(cols) - k, ", `%s`", s->schema->fields[i].name);
        char *q = malloc(k + 400);
        if (!q) {
            snprintf(e->message, sizeof(e->message), "out of memory");
            return SL_NOMEM;
        }
        snprintf(q, k + 400, "INSERT INTO %s (%s) FORMAT RowBinary", s->table, cols);
        char extra[300] = "";
        if (s->version >= 22002)
        {
            /* "sluice:STREAM:ORIGIN:ROW0:ROW1"; without an origin (a data directory older than
             * origins) the old "sluice:STREAM:ROW0:ROW1", so a unit whose INSERT landed before
             * an upgrade but not its marker is still recognised */
            char o[24] = "";
            if (origin[0])
                snprintf(o, sizeof(o), "%s%%3A", origin);
            snprintf(extra, sizeof(extra), "insert_deduplication_token=sluice%%3A%s%%3A%s%" PRIu64
                                           "%%3A%" PRIu64, s->stream, o, s->u.row0, row1);
        }
        err = ch_post(s, q, extra[0] ? extra : NULL, s->body.ptr, s->body.len, e, "INSERT");
        free(q);
        if (err)
            return err;
        /* 2. the marker, after the rows */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO `%s`.sluice_units (stream, origin, row0, row1) VALUES ('%s', '%s', "
                 "%" PRIu64 ", %" PRIu64 ")",
                 s->f->c.database, s->stream, origin, s->u.row0, row1);
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
    free(s->nullable);
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
    if (s) {
        s->stream = strdup(stream);
        s->nullable = calloc(schema->nfields ? schema->nfields : 1, sizeof(bool));
    }
    if (!s || !s->stream || !s->nullable) {
        if (s) {
            free(s->stream);
            free(s->nullable);
        }
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
            free(s->nullable);
            free(s->stream);
            free(s);
            return SL_INVALID;
        }
    s->base.kind = "clickhouse";
    s->base.begin = ch_begin;
    s->base.rows = ch_rows;
    s->base.staged = true; /* rows buffered, INSERTed at commit */
    s->base.rejects = NULL;
    s->base.commit = ch_commit;
    s->base.abort = ch_abort;
    s->base.destroy = ch_destroy;
    s->f = (ch_factory *)f;
    s->schema = schema;
    s->events = events_schema(schema);
    for (size_t i = 0; i < schema->nfields; i++) /* the events key is never NULL */
        s->nullable[i] = schema->fields[i].nullable &&
                         !(s->events && !strcmp(schema->fields[i].name, "event_id"));
    sl_buf_init(&s->body, 0);
    sl_buf_init(&s->resp, 0);
    const char *t = s->f->c.table;
    const char *at = strstr(t, "{stream}");
    if (at)
        snprintf(s->name, sizeof(s->name), "%.*s%s%s", (int)(at - t), t, stream, at + 8);
    else
        snprintf(s->name, sizeof(s->name), "%s", t);
    s->name[200] = 0; /* as the quoted name has it */
    snprintf(s->table, sizeof(s->table), "`%s`.`%.200s`", s->f->c.database, s->name);
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
