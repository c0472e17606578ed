/* events_fuzz.c: libFuzzer target for the event validator (src/parse/events.c).
 *
 * Input: byte 0 picks options (bit 0 generate missing ids, bit 1 max_errors 0 instead of 3),
 * byte 1 seeds the chunking, the rest is the request body.
 *
 * Properties (a violation aborts):
 *   1. the whole body at once and in pseudo-random chunks give the same totals, the same bad
 *      count and the same output bytes (without generated ids, which are random);
 *   2. bad == 0 -> the output is exactly total lines, each a JSON object with the five keys that
 *      the events JSON Lines parser (parse/json.h, unknown keys rejected) reads back without an
 *      error, in the canonical key order;
 *   3. bad > 0 -> the detailed errors are min(bad, max_errors), each with a known field name or
 *      none, a non-empty code and message, and an index below total, in increasing order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/events.h"
#include "parse/json.h"
#include "parse/rowblock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "events_fuzz: %s\n", what);
    abort();
}

typedef struct {
    uint64_t total, bad;
    sl_buf out;
    bool nomem;
} run_result;

static void run(const sl_events_opts *o, const uint8_t *p, size_t n, unsigned seed, bool chunked,
                run_result *rr)
{
    sl_events *ev = NULL;
    sl_buf_init(&rr->out, 0);
    rr->nomem = false;
    if (sl_events_create(o, &ev)) {
        rr->nomem = true;
        return;
    }
    size_t off = 0;
    sl_err err = SL_OK;
    while (!err && off < n) {
        size_t take = n - off;
        if (chunked) {
            seed = seed * 1103515245u + 12345u;
            size_t c = 1 + (seed >> 16) % 17;
            if (c < take)
                take = c;
        }
        err = sl_events_feed(ev, p + off, take, &rr->out);
        off += take;
    }
    if (!err)
        err = sl_events_finish(ev, &rr->out);
    if (err) {
        rr->nomem = true;
        sl_events_destroy(ev);
        return;
    }
    rr->total = sl_events_total(ev);
    rr->bad = sl_events_bad(ev);
    size_t ne = sl_events_nerrors(ev);
    size_t want = rr->bad < o->max_errors ? (size_t)rr->bad : o->max_errors;
    if (ne != want)
        die("error count");
    uint64_t last = 0;
    for (size_t i = 0; i < ne; i++) {
        const sl_event_error *e = sl_events_error(ev, i);
        if (!e->code[0] || !e->message[0] || e->index >= rr->total || (i && e->index <= last))
            die("error record");
        last = e->index;
        if (e->field[0] && strcmp(e->field, "event_id") && strcmp(e->field, "type") &&
            strcmp(e->field, "occurred_at") && strcmp(e->field, "payload") &&
            strcmp(e->field, "received_at"))
            die("error field");
    }
    sl_events_destroy(ev);
}

static void check_output(const run_result *rr)
{
    static const char *const names[] = {"event_id", "type", "occurred_at", "payload",
                                        "received_at"};
    uint64_t lines = 0;
    for (size_t i = 0; i < rr->out.len; i++)
        lines += rr->out.ptr[i] == '\n';
    if (lines != rr->total || (rr->out.len && rr->out.ptr[rr->out.len - 1] != '\n'))
        die("one line per event");
    sl_json_opts jo;
    sl_json_opts_default(&jo);
    jo.unknown = SL_JSON_UNKNOWN_REJECT;
    sl_json *p = NULL;
    sl_rowblock b;
    if (sl_json_create(&jo, names, 5, &p))
        return;
    if (sl_rowblock_init(&b, 5, 64)) {
        sl_json_destroy(p);
        return;
    }
    uint64_t rows = 0;
    if (sl_json_feed(p, rr->out.ptr, rr->out.len) == SL_OK) {
        for (;;) {
            sl_rowblock_clear(&b);
            if (sl_json_next(p, true, &b) || b.nrows == 0)
                break;
            for (size_t r = 0; r < b.nrows; r++) {
                if (b.row_err[r].code != SL_ROW_OK)
                    die("output line does not parse");
                const sl_cell *c = b.cells + r * 5;
                if (c[0].kind != SL_CELL_STRING || c[1].kind != SL_CELL_STRING ||
                    c[2].kind != SL_CELL_STRING || c[4].kind != SL_CELL_STRING ||
                    c[3].kind == SL_CELL_MISSING)
                    die("output cells");
            }
            rows += b.nrows;
        }
        if (rows != rr->total)
            die("output rows");
    }
    sl_rowblock_release(&b);
    sl_json_destroy(p);
}

/* dlq: one line per event, the bad ones dead-letter lines ('#' + a JSON object) */
static void check_dlq_output(const run_result *rr)
{
    uint64_t lines = 0, marks = 0;
    for (size_t i = 0; i < rr->out.len;) {
        const uint8_t *nl = memchr(rr->out.ptr + i, '\n', rr->out.len - i);
        if (!nl)
            die("dlq output ends without a line end");
        size_t end = (size_t)(nl - rr->out.ptr);
        lines++;
        if (rr->out.ptr[i] == SL_EVENT_REJECT_MARK) {
            marks++;
            if (end - i < 3 || rr->out.ptr[i + 1] != '{' || rr->out.ptr[end - 1] != '}')
                die("dead-letter line");
        }
        i = end + 1;
    }
    if (lines != rr->total || marks != rr->bad)
        die("dlq: one line per event, one dead-letter line per bad event");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    sl_events_opts o = {(data[0] & 1) != 0, 1795000000000000, (data[0] & 2) ? 0 : 3, 4096,
                        (data[0] & 4) != 0};
    unsigned seed = data[1];
    data += 2;
    size -= 2;
    run_result a, b;
    run(&o, data, size, seed, false, &a);
    run(&o, data, size, seed, true, &b);
    if (!a.nomem && !b.nomem) {
        if (a.total != b.total || a.bad != b.bad)
            die("chunking changed the counts");
        if (!o.generate_ids &&
            (a.out.len != b.out.len || (a.out.len && memcmp(a.out.ptr, b.out.ptr, a.out.len))))
            die("chunking changed the output");
        if (a.bad == 0)
            check_output(&a);
        else if (o.dlq)
            check_dlq_output(&a);
    }
    sl_buf_release(&a.out);
    sl_buf_release(&b.out);
    return 0;
}
