/* events.c: JSON events -> canonical NDJSON lines (see events.h).
 *
 * The JSON parser (array mode, unknown keys rejected, duplicate keys rejected) cuts the input
 * into records and checks the JSON; this file checks each record's four fields and writes the
 * canonical line. Strings are copied with their escapes as they are (the parser validated them:
 * they are a valid JSON string body), so no re-escaping is needed; only the lengths and the
 * control-character rule look at the decoded text.
 */
#define _GNU_SOURCE
#include "parse/events.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "parse/coerce.h"
#include "parse/convert.h"
#include "parse/json.h"
#include "parse/rowblock.h"
#include "util/textfmt.h"

/* received_at is sluice's own (the receiving request's time); a value sent is accepted and
 * ignored, so sluice's own output (e.g. through RabbitMQ) can be posted again */
enum { F_ID, F_TYPE, F_AT, F_PAYLOAD, F_RECEIVED, NF };
static const char *const names[NF] = {"event_id", "type", "occurred_at", "payload", "received_at"};

#define BLOCK_ROWS 256

struct sl_events {
    sl_events_opts o;
    sl_json *p;
    sl_rowblock b;
    uint64_t total, bad, generated;
    sl_event_error *errs;
    size_t nerrs;
    sl_event_error last; /* the latest bad event's error, kept for its dead-letter line */
    uint8_t *scratch; /* decoded strings */
    size_t scratch_cap;
    char received[SL_TIMESTAMP_TEXT_MAX];
};

void sl_uuid7(int64_t unix_ms, char out[37])
{
    uint8_t u[16];
    if (getrandom(u + 6, 10, 0) != 10) {
        /* no entropy source: fall back to time-seeded bits (still unique per process run) */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15u ^ (uint64_t)ts.tv_sec;
        for (int i = 6; i < 16; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            u[i] = (uint8_t)x;
        }
    }
    uint64_t ms = (uint64_t)(unix_ms < 0 ? 0 : unix_ms);
    for (int i = 0; i < 6; i++)
        u[i] = (uint8_t)(ms >> (8 * (5 - i)));
    u[6] = (uint8_t)(0x70 | (u[6] & 0x0f)); /* version 7 */
    u[8] = (uint8_t)(0x80 | (u[8] & 0x3f)); /* variant 10 */
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[u[i] >> 4];
        out[k++] = hex[u[i] & 15];
    }
    out[k] = 0;
}

sl_err sl_events_create(const sl_events_opts *o, sl_events **out)
{
    sl_events *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return SL_NOMEM;
    ev->o = *o;
    if (!ev->o.max_record)
        ev->o.max_record = (size_t)1 << 20;
    sl_json_opts jo;
    sl_json_opts_default(&jo);
    jo.array_mode = true;
    jo.unknown = SL_JSON_UNKNOWN_REJECT;
    jo.max_record = ev->o.max_record;
    jo.max_buffer = 4 * ev->o.max_record;
    sl_err err = sl_json_create(&jo, names, NF, &ev->p);
    if (err)
        goto out_free;
    err = sl_rowblock_init(&ev->b, NF, BLOCK_ROWS);
    if (err)
        goto out_parser;
    ev->errs = calloc(ev->o.max_errors ? ev->o.max_errors : 1, sizeof(*ev->errs));
    if (!ev->errs) {
        err = SL_NOMEM;
        goto out_block;
    }
    sl_format_timestamp(ev->o.received_us, SL_UNIT_US, true, ev->received);
    *out = ev;
    return SL_OK;
out_block:
    sl_rowblock_release(&ev->b);
out_parser:
    sl_json_destroy(ev->p);
out_free:
    free(ev);
    return err;
}

void sl_events_destroy(sl_events *ev)
{
    if (!ev)
        return;
    sl_json_destroy(ev->p);
    sl_rowblock_release(&ev->b);
    free(ev->errs);
    free(ev->scratch);
    free(ev);
}

static void reject(sl_events *ev, uint64_t index, uint64_t line, uint32_t column, int field,
                   const char *code, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void reject(sl_events *ev, uint64_t index, uint64_t line, uint32_t column, int field,
                   const char *code, const char *fmt, ...)
{
    ev->bad++;
    sl_event_error *e = &ev->last;
    e->index = index;
    e->line = line;
    e->column = column;
    snprintf(e->field, sizeof(e->field), "%s", field >= 0 && field < NF ? names[field] : "");
    snprintf(e->code, sizeof(e->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    if (ev->nerrs < ev->o.max_errors)
        ev->errs[ev->nerrs++] = *e;
}

static const char *kind_name(const uint8_t *text, const sl_cell *c)
{
    switch (c->kind) {
    case SL_CELL_NULL: return "null";
    case SL_CELL_STRING: return "a string";
    case SL_CELL_NESTED: return text[c->off] == '{' ? "an object" : "an array";
    default: return c->flags & SL_CELLF_JSON_NUMBER ? "a number" : "a boolean";
    }
}

/* The decoded text of a STRING cell (in ev->scratch when it has escapes). */
static sl_err decoded(sl_events *ev, const uint8_t *text, const sl_cell *c, const uint8_t **p,
                      size_t *n)
{
    if (!(c->flags & SL_CELLF_JSON_ESCAPES)) {
        *p = text + c->off;
        *n = c->len;
        return SL_OK;
    }
    if (c->len > ev->scratch_cap) {
        uint8_t *s = realloc(ev->scratch, c->len);
        if (!s)
            return SL_NOMEM;
        ev->scratch = s;
        ev->scratch_cap = c->len;
    }
    *n = sl_json_unescape(text + c->off, c->len, ev->scratch);
    *p = ev->scratch;
    return SL_OK;
}

/* A required string field: true if good (then p/n hold the decoded text). */
static bool check_string(sl_events *ev, uint64_t index, uint64_t line, int f, const sl_cell *c,
                         size_t max, const uint8_t **p, size_t *n, sl_err *err)
{
    const uint8_t *text = ev->b.text;
    if (c->kind == SL_CELL_MISSING) {
        reject(ev, index, line, 0, f, "missing", "%s is required", names[f]);
        return false;
    }
    if (c->kind != SL_CELL_STRING) {
        reject(ev, index, line, 0, f, "type", "%s must be a string, not %s", names[f],
               kind_name(text, c));
        return false;
    }
    if ((*err = decoded(ev, text, c, p, n)))
        return false;
    if (*n == 0) {
        reject(ev, index, line, 0, f, "empty", "%s must not be empty", names[f]);
        return false;
    }
    if (*n > max) {
        reject(ev, index, line, 0, f, "too_long", "%s is %zu bytes long; at most %zu are allowed",
               names[f], *n, max);
        return false;
    }
    for (size_t i = 0; i < *n; i++)
        if ((*p)[i] < 0x20 || (*p)[i] == 0x7f) {
            reject(ev, index, line, 0, f, "control_character",
                   "%s contains a control character (byte 0x%02x at offset %zu)", names[f],
                   (*p)[i], i);
            return false;
        }
    return true;
}

static sl_err put_string_cell(sl_buf *out, const uint8_t *text, const sl_cell *c)
{
    sl_err err = sl_buf_putc(out, '"');
    if (!err)
        err = sl_buf_append(out, text + c->off, c->len);
    if (!err)
        err = sl_buf_putc(out, '"');
    return err;
}

/* Validated JSON without the whitespace between tokens (a pretty-printed payload spans
 * lines; the output is one line per event). */
static sl_err put_minified(sl_buf *out, const uint8_t *p, size_t n)
{
    sl_err err = sl_buf_reserve(out, n);
    if (err)
        return err;
    uint8_t *o = out->ptr + out->len;
    size_t k = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (in_str) {
            o[k++] = ch;
            if (ch == '\\' && i + 1 < n)
                o[k++] = p[++i];
            else if (ch == '"')
                in_str = false;
        } else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
            o[k++] = ch;
            in_str = ch == '"';
        }
    }
    out->len += k;
    return SL_OK;
}

/* One record of the block: validated, and written to out when good and nothing was bad. */
static sl_err one_event(sl_events *ev, size_t r, sl_buf *out)
{
    sl_rowblock *b = &ev->b;
    const uint8_t *text = b->text;
    const sl_cell *c = b->cells + r * NF;
    uint64_t index = ev->total++;
    uint64_t line = b->line[r];
    const sl_row_err *re = &b->row_err[r];
    if (re->code != SL_ROW_OK) {
        const char *code = sl_row_code_name(re->code);
        if (re->code == SL_ROW_UNKNOWN_FIELD)
            reject(ev, index, re->line, re->column, -1, code,
                   "unknown field %.60s (an event has event_id, type, occurred_at, payload)",
                   re->detail);
        else if (re->code == SL_ROW_NOT_OBJECT)
            reject(ev, index, re->line, re->column, -1, code, "an event must be a JSON object");
        else
            reject(ev, index, re->line, re->column, re->field, code, "%s%s%.90s",
                   sl_row_code_message(re->code), re->detail[0] ? ": " : "", re->detail);
        return SL_OK;
    }
    sl_err err = SL_OK;
    const uint8_t *p;
    size_t n;
    /* event_id */
    char gen[37] = "";
    const sl_cell *id = &c[F_ID];
    if (id->kind == SL_CELL_MISSING || id->kind == SL_CELL_NULL) {
        if (!ev->o.generate_ids) {
            reject(ev, index, line, 0, F_ID, "missing",
                   "event_id is required (or run with SLUICE_EVENTS_MISSING_ID=generate)");
            return SL_OK;
        }
        sl_uuid7(ev->o.received_us / 1000, gen);
    } else if (!check_string(ev, index, line, F_ID, id, SL_EVENT_ID_MAX, &p, &n, &err)) {
        return err;
    }
    if (!check_string(ev, index, line, F_TYPE, &c[F_TYPE], SL_EVENT_TYPE_MAX, &p, &n, &err))
        return err;
    /* occurred_at */
    const sl_cell *at = &c[F_AT];
    if (at->kind == SL_CELL_MISSING) {
        reject(ev, index, line, 0, F_AT, "missing", "occurred_at is required");
        return SL_OK;
    }
    if (at->kind != SL_CELL_STRING) {
        reject(ev, index, line, 0, F_AT, "type",
               "occurred_at must be an RFC 3339 timestamp string, not %s", kind_name(text, at));
        return SL_OK;
    }
    if ((err = decoded(ev, text, at, &p, &n)))
        return err;
    int64_t us = 0;
    const char *why = NULL;
    sl_row_code rc = sl_parse_timestamp(p, n, SL_UNIT_US, &us, NULL, &why);
    if (rc != SL_ROW_OK) {
        reject(ev, index, line, 0, F_AT, "timestamp",
               "occurred_at \"%.*s\" is not a timestamp like 2026-01-31T12:00:00Z%s%s",
               (int)(n < 40 ? n : 40), (const char *)p, why ? ": " : "", why ? why : "");
        return SL_OK;
    }
    if (ev->bad && !ev->o.dlq)
        return SL_OK; /* the request is rejected: no more output */
    char ts[SL_TIMESTAMP_TEXT_MAX];
    sl_format_timestamp(us, SL_UNIT_US, true, ts);
    err = sl_buf_puts(out, "{\"event_id\":");
    if (!err)
        err = gen[0] ? sl_buf_printf(out, "\"%s\"", gen) : put_string_cell(out, text, id);
    if (!err)
        err = sl_buf_puts(out, ",\"type\":");
    if (!err)
        err = put_string_cell(out, text, &c[F_TYPE]);
    if (!err)
        err = sl_buf_printf(out, ",\"occurred_at\":\"%s\",\"payload\":", ts);
    const sl_cell *pl = &c[F_PAYLOAD];
    if (!err) {
        if (pl->kind == SL_CELL_MISSING || pl->kind == SL_CELL_NULL)
            err = sl_buf_puts(out, "null");
        else if (pl->kind == SL_CELL_STRING)
            err = put_string_cell(out, text, pl);
        else if (pl->kind == SL_CELL_NESTED)
            err = put_minified(out, text + pl->off, pl->len);
        else
            err = sl_buf_append(out, text + pl->off, pl->len);
    }
    if (!err)
        err = sl_buf_printf(out, ",\"received_at\":\"%s\"}\n", ev->received);
    ev->generated += gen[0] != 0;
    return err;
}

/* The dead-letter line of record r, whose error is ev->last (dlq mode). */
static sl_err put_reject_line(sl_events *ev, size_t r, sl_buf *out)
{
    const sl_event_error *e = &ev->last;
    sl_reject rej = {.line = e->line,
                     .message = e->message,
                     .detail = "",
                     .field = e->field[0] ? e->field : NULL,
                     .column = e->column,
                     .raw = ev->b.text + ev->b.rec_off[r],
                     .raw_len = ev->b.rec_len[r]};
    sl_err err = sl_buf_putc(out, SL_EVENT_REJECT_MARK);
    if (!err)
        err = sl_reject_format_ndjson_coded(out, &rej, e->code, e->index);
    return err;
}

static sl_err drain(sl_events *ev, bool eof, sl_buf *out)
{
    for (;;) {
        sl_rowblock_clear(&ev->b);
        sl_err err = sl_json_next(ev->p, eof, &ev->b);
        if (err)
            return err;
        if (ev->b.nrows == 0)
            return SL_OK;
        for (size_t r = 0; r < ev->b.nrows; r++) {
            uint64_t bad = ev->bad;
            err = one_event(ev, r, out);
            if (!err && ev->o.dlq && ev->bad > bad)
                err = put_reject_line(ev, r, out);
            if (err)
                return err;
        }
    }
}

sl_err sl_events_feed(sl_events *ev, const uint8_t *data, size_t n, sl_buf *out)
{
    while (n) {
        /* the parser buffers at most max_buffer bytes: feed in slices, draining between */
        size_t take = n < ev->o.max_record ? n : ev->o.max_record;
        sl_err err = sl_json_feed(ev->p, data, take);
        if (err == SL_FULL) {
            if ((err = drain(ev, false, out)))
                return err;
            err = sl_json_feed(ev->p, data, take);
        }
        if (err)
            return err;
        data += take;
        n -= take;
        if ((err = drain(ev, false, out)))
            return err;
    }
    return SL_OK;
}

sl_err sl_events_finish(sl_events *ev, sl_buf *out)
{
    return drain(ev, true, out);
}

uint64_t sl_events_total(const sl_events *ev)
{
    return ev->total;
}

uint64_t sl_events_bad(const sl_events *ev)
{
    return ev->bad;
}

uint64_t sl_events_generated(const sl_events *ev)
{
    return ev->generated;
}

size_t sl_events_nerrors(const sl_events *ev)
{
    return ev->nerrs;
}

const sl_event_error *sl_events_error(const sl_events *ev, size_t i)
{
    return i < ev->nerrs ? &ev->errs[i] : NULL;
}
