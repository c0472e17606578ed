/* event_api.c: events schema, media types and the error lists of POST /v1/events answers. */
#define _GNU_SOURCE
#include "server/event_api.h"
#include "server/server.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    sl_type_id id;
    bool nullable;
} fields[] = {{"event_id", SL_TYPE_STRING, false},
              {"type", SL_TYPE_STRING, false},
              {"occurred_at", SL_TYPE_TIMESTAMP, false},
              {"payload", SL_TYPE_JSON, true},
              {"received_at", SL_TYPE_TIMESTAMP, false}};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

sl_err sl_event_schema(sl_schema **out)
{
    sl_schema *s = NULL;
    sl_err err = sl_schema_create(&s);
    for (size_t i = 0; !err && i < NFIELDS; i++) {
        sl_type t = fields[i].id == SL_TYPE_TIMESTAMP ? sl_type_timestamp(SL_UNIT_US, true)
                                                      : sl_type_of(fields[i].id);
        err = sl_schema_add(s, fields[i].name, t, fields[i].nullable);
    }
    if (err) {
        sl_schema_destroy(s);
        return err;
    }
    *out = s;
    return SL_OK;
}

bool sl_event_schema_ok(const sl_schema *s)
{
    if (!s || s->nfields != NFIELDS)
        return false;
    for (size_t i = 0; i < NFIELDS; i++) {
        const sl_field *f = &s->fields[i];
        if (strcmp(f->name, fields[i].name) || f->type.id != fields[i].id)
            return false;
        if (f->type.id == SL_TYPE_TIMESTAMP && (f->type.unit != SL_UNIT_US || !f->type.utc))
            return false;
    }
    return true;
}

bool sl_event_content_type_ok(const char *v, char *why, size_t whyn)
{
    if (!v || !*v)
        return true;
    while (*v == ' ')
        v++;
    size_t n = strcspn(v, ";");
    while (n && v[n - 1] == ' ')
        n--;
    static const char *const ok[] = {"application/json",       "application/x-ndjson",
                                     "application/ndjson",     "application/jsonl",
                                     "application/x-jsonlines", "application/jsonlines"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strlen(ok[i]) == n && !strncasecmp(v, ok[i], n)) {
            const char *cs = strcasestr(v + n, "charset=");
            if (cs) {
                cs += 8;
                if (*cs == '"')
                    cs++;
                if (strncasecmp(cs, "utf-8", 5) && strncasecmp(cs, "utf8", 4) &&
                    strncasecmp(cs, "us-ascii", 8)) {
                    snprintf(why, whyn, "charset %.20s is not supported (only UTF-8)", cs);
                    return false;
                }
            }
            return true;
        }
    snprintf(why, whyn, "Content-Type '%.*s' is not supported for events", (int)(n < 80 ? n : 80),
             v);
    return false;
}

sl_err sl_event_rejected_body(const sl_events *ev, const char *stream, sl_buf *b)
{
    unsigned long long bad = sl_events_bad(ev), total = sl_events_total(ev);
    sl_err err = sl_buf_printf(
        b,
        "{\"error\":{\"code\":\"events_rejected\",\"message\":\"%llu of %llu events rejected; "
        "nothing was ingested\",\"hint\":\"fix the events listed in errors (index is the "
        "event's 0-based position in the request) and send the request again\"},\"stream\":",
        bad, total);
    if (!err)
        err = sl_buf_json_str(b, stream, strlen(stream));
    if (!err)
        err = sl_buf_printf(b, ",\"events_accepted\":0,\"events_rejected\":%llu,", bad);
    if (!err)
        err = sl_event_errors_json(ev, b);
    if (!err)
        err = sl_buf_puts(b, "}\n");
    return err;
}

sl_err sl_event_errors_json(const sl_events *ev, sl_buf *b)
{
    sl_err err = sl_buf_puts(b, "\"errors\":[");
    size_t n = sl_events_nerrors(ev);
    for (size_t i = 0; !err && i < n; i++) {
        const sl_event_error *e = sl_events_error(ev, i);
        err = sl_buf_printf(b, "%s{\"index\":%llu,\"line\":%llu,", i ? "," : "",
                            (unsigned long long)e->index, (unsigned long long)e->line);
        if (!err)
            err = sl_http_report_tail(b, e->column, e->field, e->code, e->message);
    }
    if (!err)
        err = sl_buf_printf(b, "],\"errors_truncated\":%s",
                            sl_events_bad(ev) > n ? "true" : "false");
    return err;
}
