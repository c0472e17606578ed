/* body_parse.c: request body pieces -> accepted rows + rejects (see body_parse.h).
 *
 * CSV: the parser runs with header = false on each piece; the field map comes from the
 * request's header record (sl_bodyp_set_header). JSON Lines: the parser maps keys to the
 * schema's columns itself. Both convert through one sl_converter, which reports each bad row
 * once, in line order, through on_reject.
 */
#include "server/body_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/convert.h"
#include "parse/csv.h"
#include "parse/events.h"
#include "parse/infer.h"
#include "parse/json.h"

#define BLOCK_ROWS 4096
_Static_assert(SL_BODYP_PAD >= SL_JSON_BORROW_PAD, "in-place JSON needs the parser's padding");

struct sl_bodyp {
    sl_bodyp_opts o;
    sl_csv_opts csv_opts;
    sl_csv *csv;
    sl_json *json;
    size_t ncells;
    int32_t *field_map;
    sl_converter *cv;
    sl_rowblock blk;
    bool blk_ready;
    bool event_rejects; /* sl_bodyp_event_rejects */
    sl_buf kept;        /* event_rejects: the piece without its dead-letter lines */
    /* during a parse call */
    sl_buf *rejects;
    sl_body_result *res;
};

static size_t csv_unescape_cb(void *ctx, const uint8_t *p, size_t n, uint8_t *out)
{
    return sl_csv_unescape(ctx, p, n, out);
}

static sl_err on_reject(void *ctx, const sl_reject *rej)
{
    sl_bodyp *p = ctx;
    sl_body_result *r = p->res;
    if (r && r->nreports < r->cap && r->reports) {
        sl_row_report *e = &r->reports[r->nreports++];
        e->line = rej->line;
        e->column = rej->column;
        snprintf(e->field, sizeof(e->field), "%s", rej->field ? rej->field : "");
        snprintf(e->code, sizeof(e->code), "%s", sl_row_code_name(rej->code));
        if (rej->detail && rej->detail[0])
            snprintf(e->message, sizeof(e->message), "%s: %s", rej->message, rej->detail);
        else
            snprintf(e->message, sizeof(e->message), "%s", rej->message);
    }
    if (p->rejects)
        return sl_reject_format_ndjson(p->rejects, rej);
    return SL_OK;
}

static sl_err make_converter(sl_bodyp *p)
{
    sl_converter_opts co;
    sl_converter_opts_default(&co);
    co.coerce.trusted_utf8 = true;
    if (p->o.format == SL_FMT_CSV) {
        co.coerce.csv_unescape = csv_unescape_cb;
        co.coerce.csv_unescape_ctx = &p->csv_opts;
        co.field_map = p->field_map;
    } else {
        co.coerce.json_source = true;
        co.coerce.json_unescape = sl_json_unescape;
    }
    co.on_reject = on_reject;
    co.reject_ctx = p;
    sl_converter_destroy(p->cv);
    p->cv = NULL;
    return sl_converter_create(p->o.schema, &co, &p->cv);
}

sl_err sl_bodyp_create(const sl_bodyp_opts *o, sl_bodyp **out)
{
    if (!o->schema || (o->format != SL_FMT_CSV && o->format != SL_FMT_JSONL))
        return SL_INVALID;
    sl_bodyp *p = calloc(1, sizeof(*p));
    if (!p)
        return SL_NOMEM;
    p->o = *o;
    sl_buf_init(&p->kept, 0);
    sl_csv_opts_default(&p->csv_opts);
    p->csv_opts.header = false;
    sl_err err;
    const sl_schema *s = o->schema;
    if (o->format == SL_FMT_CSV) {
        err = sl_csv_create(&p->csv_opts, &p->csv);
        if (err)
            goto out_free;
        p->field_map = calloc(s->nfields ? s->nfields : 1, sizeof(*p->field_map));
        if (!p->field_map) {
            err = SL_NOMEM;
            goto out_free;
        }
        for (size_t i = 0; i < s->nfields; i++)
            p->field_map[i] = (int32_t)i; /* until a header says otherwise */
        p->ncells = s->nfields;
    } else {
        sl_json_opts jo;
        sl_json_opts_default(&jo);
        jo.unknown = o->unknown_reject ? SL_JSON_UNKNOWN_REJECT : SL_JSON_UNKNOWN_IGNORE;
        const char **names = calloc(s->nfields ? s->nfields : 1, sizeof(*names));
        if (!names) {
            err = SL_NOMEM;
            goto out_free;
        }
        for (size_t i = 0; i < s->nfields; i++)
            names[i] = s->fields[i].name;
        err = sl_json_create(&jo, names, s->nfields, &p->json);
        free(names);
        if (err)
            goto out_free;
        p->ncells = s->nfields;
    }
    err = make_converter(p);
    if (err)
        goto out_free;
    *out = p;
    return SL_OK;
out_free:
    sl_bodyp_destroy(p);
    return err;
}

void sl_bodyp_destroy(sl_bodyp *p)
{
    if (!p)
        return;
    sl_csv_destroy(p->csv);
    sl_json_destroy(p->json);
    sl_converter_destroy(p->cv);
    free(p->field_map);
    sl_buf_release(&p->kept);
    if (p->blk_ready)
        sl_rowblock_release(&p->blk);
    free(p);
}

/* Header names of a CSV header record, unescaped, NUL-terminated; *out is one allocation:
 * the pointer array followed by the strings. */
static sl_err header_names(const sl_csv_opts *co, const uint8_t *hdr, size_t n, char ***out,
                           size_t *nnames, char *msg, size_t msgn)
{
    sl_csv_opts o = *co;
    o.header = true;
    sl_csv *csv;
    sl_err err = sl_csv_create(&o, &csv);
    if (err)
        return err;
    err = sl_csv_feed(csv, hdr, n);
    if (!err)
        err = sl_csv_feed(csv, "\n", 1);
    sl_csv_end_input(csv);
    size_t nf = 0;
    const sl_cell *names = NULL;
    const uint8_t *text = NULL;
    if (!err)
        err = sl_csv_header(csv, &nf, &names, &text);
    if (err) {
        snprintf(msg, msgn, "cannot read the CSV header: %s",
                 err == SL_FORMAT ? sl_csv_errmsg(csv) : sl_strerror(err));
        sl_csv_destroy(csv);
        return err == SL_NOMEM ? err : SL_FORMAT;
    }
    size_t bytes = (nf + 1) * sizeof(char *);
    for (size_t i = 0; i < nf; i++)
        bytes += names[i].len + 1;
    char **arr = malloc(bytes);
    if (!arr) {
        sl_csv_destroy(csv);
        return SL_NOMEM;
    }
    char *s = (char *)(arr + nf + 1);
    for (size_t i = 0; i < nf; i++) {
        size_t l = names[i].len;
        memcpy(s, text + names[i].off, l);
        if (names[i].flags & SL_CELLF_CSV_ESCAPES)
            l = sl_csv_unescape(&o, (uint8_t *)s, l, (uint8_t *)s);
        s[l] = 0;
        arr[i] = s;
        s += l + 1;
    }
    arr[nf] = NULL;
    sl_csv_destroy(csv);
    *out = arr;
    *nnames = nf;
    return SL_OK;
}

sl_err sl_bodyp_set_header(sl_bodyp *p, const uint8_t *hdr, size_t n, char *msg, size_t msgn)
{
    if (p->o.format != SL_FMT_CSV)
        return SL_OK;
    char **names;
    size_t nn;
    sl_err err = header_names(&p->csv_opts, hdr, n, &names, &nn, msg, msgn);
    if (err)
        return err;
    const sl_schema *s = p->o.schema;
    size_t missing = sl_convert_map_header(s, (const char *const *)names, nn, p->field_map);
    size_t matched = s->nfields - missing;
    free(names);
    for (size_t i = 0; missing && i < s->nfields; i++) {
        if (p->field_map[i] >= 0 || s->fields[i].nullable)
            continue;
        snprintf(msg, msgn, "column '%s' of the stream's schema (not nullable) is not in the CSV "
                 "header", s->fields[i].name);
        return SL_FORMAT;
    }
    if (matched == 0 && s->nfields > 0) {
        snprintf(msg, msgn, "no column of the CSV header matches the stream's schema");
        return SL_FORMAT;
    }
    p->ncells = nn;
    if (p->blk_ready) {
        sl_rowblock_release(&p->blk);
        p->blk_ready = false;
    }
    return make_converter(p);
}

/* Parses what the parser was given (sl_bodyp_parse, sl_bodyp_parse_inplace). */
static sl_err parse_given(sl_bodyp *p, sl_batch *out, sl_buf *rejects, sl_body_result *res)
{
    sl_err err;
    p->rejects = rejects;
    p->res = res;
    sl_convert_stats st = {0};
    for (;;) {
        sl_rowblock_clear(&p->blk);
        err = p->csv ? sl_csv_next(p->csv, true, &p->blk) : sl_json_next(p->json, true, &p->blk);
        if (err || p->blk.nrows == 0)
            break;
        err = sl_convert_block(p->cv, &p->blk, out, &st);
        if (err)
            break;
    }
    p->rejects = NULL;
    p->res = NULL;
    if (res) {
        res->rows_ok += st.rows_ok;
        res->rows_rejected += st.rows_rejected;
    }
    return err;
}

static sl_err start(sl_bodyp *p, uint64_t first_line)
{
    if (!p->blk_ready) {
        sl_err err = sl_rowblock_init(&p->blk, p->ncells, BLOCK_ROWS);
        if (err)
            return err;
        p->blk_ready = true;
    }
    if (p->csv) {
        sl_csv_reset(p->csv, false);
        sl_csv_set_first_line(p->csv, first_line);
    } else {
        sl_json_reset(p->json);
        sl_json_set_first_line(p->json, first_line);
    }
    return SL_OK;
}

void sl_bodyp_event_rejects(sl_bodyp *p, bool on)
{
    p->event_rejects = on;
}

static bool has_mark_line(const uint8_t *data, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (data[i] == SL_EVENT_REJECT_MARK)
            return true;
        const uint8_t *nl = memchr(data + i, '\n', n - i);
        if (!nl)
            break;
        i = (size_t)(nl - data) + 1;
    }
    return false;
}

/* Moves the dead-letter lines of data to rejects (counted in res) and the other lines to
 * p->kept. */
static sl_err split_marks(sl_bodyp *p, const uint8_t *data, size_t n, sl_buf *rejects,
                          sl_body_result *res)
{
    p->kept.len = 0;
    sl_err err = SL_OK;
    for (size_t i = 0; !err && i < n;) {
        const uint8_t *nl = memchr(data + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - data) + 1 : n;
        if (data[i] == SL_EVENT_REJECT_MARK) {
            if (res)
                res->rows_rejected++;
            if (rejects)
                err = sl_buf_append(rejects, data + i + 1, end - i - 1);
            if (!err && rejects && !nl)
                err = sl_buf_putc(rejects, '\n');
        } else {
            err = sl_buf_append(&p->kept, data + i, end - i);
        }
        i = end;
    }
    return err;
}

sl_err sl_bodyp_parse(sl_bodyp *p, const uint8_t *data, size_t n, uint64_t first_line,
                      sl_batch *out, sl_buf *rejects, sl_body_result *res)
{
    if (p->event_rejects && p->json && has_mark_line(data, n)) {
        sl_err err = split_marks(p, data, n, rejects, res);
        if (err || !p->kept.len)
            return err;
        data = p->kept.ptr;
        n = p->kept.len;
    }
    sl_err err = start(p, first_line);
    if (!err)
        err = p->csv ? sl_csv_feed(p->csv, data, n) : sl_json_feed(p->json, data, n);
    return err ? err : parse_given(p, out, rejects, res);
}

sl_err sl_bodyp_parse_inplace(sl_bodyp *p, uint8_t *data, size_t n, size_t cap,
                              uint64_t first_line, sl_batch *out, sl_buf *rejects,
                              sl_body_result *res)
{
    if (p->csv || cap < n || cap - n < SL_BODYP_PAD ||
        (p->event_rejects && has_mark_line(data, n))) /* (copies the lines that are events) */
        return sl_bodyp_parse(p, data, n, first_line, out, rejects, res);
    sl_err err = start(p, first_line);
    if (!err && sl_json_borrow(p->json, data, n, cap)) /* (bigger than max_buffer) */
        return sl_bodyp_parse(p, data, n, first_line, out, rejects, res);
    if (!err)
        err = parse_given(p, out, rejects, res);
    sl_json_reset(p->json); /* data is the caller's again */
    return err;
}

sl_err sl_bodyp_infer(sl_format format, const uint8_t *hdr, size_t hdr_len, const uint8_t *data,
                      size_t n, size_t max_rows, sl_schema **out, char *msg, size_t msgn)
{
    if (msgn)
        msg[0] = 0;
    sl_infer_opts io;
    sl_infer_opts_default(&io);
    io.coerce.trusted_utf8 = true;
    sl_infer *inf = NULL;
    sl_rowblock blk;
    bool blk_ready = false;
    sl_csv *csv = NULL;
    sl_json *json = NULL;
    char **names = NULL;
    sl_json_keys keys = {0};
    bool have_keys = false;
    size_t nn = 0;
    sl_err err;
    if (format == SL_FMT_CSV) {
        sl_csv_opts co;
        sl_csv_opts_default(&co);
        co.header = false;
        err = header_names(&co, hdr, hdr_len, &names, &nn, msg, msgn);
        if (err)
            return err;
        if (nn == 0) {
            snprintf(msg, msgn, "the CSV header is empty");
            err = SL_FORMAT;
            goto out;
        }
        err = sl_csv_create(&co, &csv);
        if (!err)
            err = sl_csv_feed(csv, data, n);
        if (!err)
            err = sl_infer_create((const char *const *)names, nn, &io, &inf);
    } else {
        io.coerce.json_source = true;
        err = sl_json_scan_keys(NULL, data, n, true, max_rows, &keys);
        have_keys = true;
        if (!err && keys.n == 0) {
            snprintf(msg, msgn, "no JSON object keys in the first %zu records (%zu bad): each "
                     "line must be a JSON object", keys.records, keys.bad);
            err = SL_FORMAT;
            goto out;
        }
        nn = keys.n;
        if (!err)
            err = sl_json_create(NULL, (const char *const *)keys.names, keys.n, &json);
        if (!err)
            err = sl_json_feed(json, data, n);
        if (!err)
            err = sl_infer_create((const char *const *)keys.names, keys.n, &io, &inf);
    }
    if (!err) {
        err = sl_rowblock_init(&blk, nn, BLOCK_ROWS);
        blk_ready = !err;
    }
    size_t rows = 0;
    while (!err && rows < max_rows) {
        sl_rowblock_clear(&blk);
        err = csv ? sl_csv_next(csv, true, &blk) : sl_json_next(json, true, &blk);
        if (err || blk.nrows == 0)
            break;
        if (blk.nrows > max_rows - rows)
            blk.nrows = max_rows - rows;
        rows += blk.nrows;
        err = sl_infer_feed(inf, &blk);
    }
    if (!err)
        err = sl_infer_finish(inf, out);
    if (err && !msg[0])
        snprintf(msg, msgn, "cannot infer a schema: %s", sl_strerror(err));
out:
    if (blk_ready)
        sl_rowblock_release(&blk);
    sl_infer_destroy(inf);
    sl_csv_destroy(csv);
    sl_json_destroy(json);
    if (have_keys)
        sl_json_keys_release(&keys);
    free(names);
    return err;
}

size_t sl_csv_first_record(const uint8_t *data, size_t n, size_t *next)
{
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = data[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (c == '\n' && !quoted) {
            *next = i + 1;
            return i > 0 && data[i - 1] == '\r' ? i - 1 : i;
        }
    }
    return SIZE_MAX;
}
