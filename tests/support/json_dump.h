/* json_dump.h: test helpers for src/parse/json.c, shared by tests/unit/parse/json_test.c and
 * tests/fuzz/json_fuzz.c.
 *
 * json_dump_rows() renders parsed rows as text so that tests can compare runs (whole input vs
 * every chunking, scalar vs SIMD, small vs large blocks) by string equality and state
 * expectations compactly. One line per row:
 *     good row:  "<line>: <cell> <cell> ..."
 *     bad row:   "<line>: !<code>@<errline>:<column>" plus " f<field>" when field >= 0
 * Cells: "-" missing, "null", "true", "false", a number as its text, "\"...\"" a string without
 * escapes, "e\"...\"" a string with escapes (raw contents), "J..." nested raw text, "?k/f..."
 * anything else. Bytes < 0x20, 0x7f and >= 0x80 print as \xHH. With `full`, a bad row also
 * shows its detail and cells, and every row its raw record bytes: "  rec=<...>".
 *
 * json_run() feeds `in` to a new parser in chunks (cuts[] = ascending split positions, or every
 * `step` bytes if step > 0), drains with sl_json_next() after each feed, then at eof, into
 * blocks of cap_rows rows, and returns the dump (malloc'd, NUL-terminated; NULL on an API
 * error, with the error in *err if err != NULL).
 */
#ifndef SL_TESTS_JSON_DUMP_H
#define SL_TESTS_JSON_DUMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/json.h"
#include "util/buf.h"

/* Output to an sl_buf cannot fail in tests short of memory exhaustion. */
static inline void jd(sl_err e)
{
    if (e) {
        fprintf(stderr, "json_dump: %s\n", sl_strerror(e));
        abort();
    }
}

static inline void json_dump_bytes(sl_buf *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c < 0x20 || c >= 0x7f)
            jd(sl_buf_printf(o, "\\x%02x", c));
        else
            jd(sl_buf_putc(o, c));
    }
}

static inline void json_dump_cell(sl_buf *o, const uint8_t *text, const sl_cell *c)
{
    const uint8_t *p = text + c->off;
    switch (c->kind) {
    case SL_CELL_MISSING:
        jd(sl_buf_puts(o, "-"));
        return;
    case SL_CELL_NULL:
        jd(sl_buf_puts(o, "null"));
        return;
    case SL_CELL_TEXT:
        if (c->flags == SL_CELLF_JSON_TRUE && c->len == 4 && !memcmp(p, "true", 4)) {
            jd(sl_buf_puts(o, "true"));
            return;
        }
        if (c->flags == SL_CELLF_JSON_FALSE && c->len == 5 && !memcmp(p, "false", 5)) {
            jd(sl_buf_puts(o, "false"));
            return;
        }
        if (c->flags == SL_CELLF_JSON_NUMBER) {
            json_dump_bytes(o, p, c->len);
            return;
        }
        break;
    case SL_CELL_STRING:
        if (c->flags == 0 || c->flags == SL_CELLF_JSON_ESCAPES) {
            jd(sl_buf_puts(o, c->flags ? "e\"" : "\""));
            json_dump_bytes(o, p, c->len);
            jd(sl_buf_putc(o, '"'));
            return;
        }
        break;
    case SL_CELL_NESTED:
        if (c->flags == 0) {
            jd(sl_buf_putc(o, 'J'));
            json_dump_bytes(o, p, c->len);
            return;
        }
        break;
    }
    jd(sl_buf_printf(o, "?%u/%u", c->kind, c->flags));
    json_dump_bytes(o, p, c->len);
}

static inline void json_dump_rows(sl_buf *o, const sl_rowblock *b, bool full)
{
    for (size_t r = 0; r < b->nrows; r++) {
        const sl_row_err *e = &b->row_err[r];
        const sl_cell *cells = b->cells + r * b->ncols;
        jd(sl_buf_printf(o, "%llu:", (unsigned long long)b->line[r]));
        if (e->code != SL_ROW_OK) {
            jd(sl_buf_printf(o, " !%s@%llu:%u", sl_row_code_name(e->code),
                             (unsigned long long)e->line, e->column));
            if (e->field >= 0)
                jd(sl_buf_printf(o, " f%d", e->field));
        }
        if (e->code == SL_ROW_OK || full) {
            if (e->code != SL_ROW_OK)
                jd(sl_buf_printf(o, " \"%s\" |", e->detail));
            for (size_t i = 0; i < b->ncols; i++) {
                jd(sl_buf_putc(o, ' '));
                json_dump_cell(o, b->text, &cells[i]);
            }
        }
        if (full) {
            jd(sl_buf_puts(o, "  rec="));
            json_dump_bytes(o, b->text + b->rec_off[r], b->rec_len[r]);
        }
        jd(sl_buf_putc(o, '\n'));
    }
}

/* Checks block invariants the dump does not show; returns a message or NULL. */
static inline const char *json_check_block(const sl_rowblock *b)
{
    size_t bad = 0;
    for (size_t r = 0; r < b->nrows; r++) {
        if (b->row_err[r].code != SL_ROW_OK)
            bad++;
        if ((uint64_t)b->rec_off[r] + b->rec_len[r] > b->text_len)
            return "record outside the block text";
        for (size_t i = 0; i < b->ncols; i++) {
            const sl_cell *c = &b->cells[r * b->ncols + i];
            if ((uint64_t)c->off + c->len > b->text_len)
                return "cell outside the block text";
        }
    }
    if (bad != b->nbad)
        return "nbad does not match the rows";
    return NULL;
}

typedef struct {
    const sl_json_opts *opts;
    const char *const *names;
    size_t ncols;
    size_t cap_rows; /* 0 = 1024 */
    bool full;
} json_run_cfg;

static inline sl_err json_drain(sl_json *p, sl_rowblock *b, bool eof, sl_buf *o, bool full)
{
    for (;;) {
        sl_rowblock_clear(b);
        sl_err err = sl_json_next(p, eof, b);
        if (err)
            return err;
        const char *bad = json_check_block(b);
        if (bad) {
            fprintf(stderr, "json_dump: %s\n", bad);
            return SL_FORMAT;
        }
        if (!b->nrows)
            return SL_OK;
        json_dump_rows(o, b, full);
    }
}

static inline char *json_run(const json_run_cfg *cfg, const void *in, size_t n, size_t step,
                             const size_t *cuts, size_t ncuts, sl_err *errp)
{
    sl_json *p = NULL;
    sl_rowblock b;
    sl_buf o;
    sl_buf_init(&o, 0);
    sl_err err = sl_json_create(cfg->opts, cfg->names, cfg->ncols, &p);
    if (err)
        goto out;
    err = sl_rowblock_init(&b, cfg->ncols, cfg->cap_rows ? cfg->cap_rows : 1024);
    if (err)
        goto out;
    const uint8_t *data = in;
    size_t at = 0, ci = 0;
    while (!err && at < n) {
        size_t next = n;
        if (step)
            next = at + step < n ? at + step : n;
        else if (ci < ncuts)
            next = cuts[ci++] < n ? cuts[ci - 1] : n;
        if (next <= at)
            continue;
        err = sl_json_feed(p, data + at, next - at);
        if (!err)
            err = json_drain(p, &b, false, &o, cfg->full);
        at = next;
    }
    if (!err)
        err = json_drain(p, &b, true, &o, cfg->full);
    sl_rowblock_release(&b);
out:
    sl_json_destroy(p);
    if (errp)
        *errp = err;
    if (err) {
        sl_buf_release(&o);
        return NULL;
    }
    jd(sl_buf_putc(&o, '\0'));
    if (!o.ptr)
        return NULL;
    return (char *)sl_buf_take(&o, NULL);
}

#endif
