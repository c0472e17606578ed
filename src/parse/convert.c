/* convert.c: rowblock -> batch rows, column by column (see convert.h).
 *
 * Design: every row of the block gets a slot in every column while the columns are filled one
 * at a time (sl_coerce_column), so the rows stay aligned without per-row bookkeeping; a row
 * that is bad (by the parser, bad[r] = 1, or by a column, bad[r] = 2) gets a placeholder and is
 * not parsed again by later columns. At the end of the block the bad rows are cut out of every
 * column (sl_batch_remove_rows) and reported in block order. Conversion failures are rare, so
 * they are kept in a small list (row, column, code, detail) and sorted by row for reporting.
 *
 * Invariant: on return every column of `out` has the same length; on error it is the length
 * from before the call.
 */
#include "parse/convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_converter {
    const sl_schema *schema;
    sl_coerce cz;
    int32_t *map; /* nfields entries */
    sl_reject_fn on_reject;
    void *reject_ctx;
};

void sl_converter_opts_default(sl_converter_opts *o)
{
    memset(o, 0, sizeof(*o));
    sl_coerce_opts_default(&o->coerce);
}

sl_err sl_converter_create(const sl_schema *schema, const sl_converter_opts *opts,
                           sl_converter **out)
{
    sl_converter_opts def;
    if (!opts) {
        sl_converter_opts_default(&def);
        opts = &def;
    }
    sl_converter *cv = calloc(1, sizeof(*cv));
    if (!cv)
        return SL_NOMEM;
    sl_err err = sl_coerce_init(&cv->cz, &opts->coerce);
    if (err)
        goto out_free_cv;
    size_t n = schema->nfields;
    cv->map = malloc((n ? n : 1) * sizeof(*cv->map));
    if (!cv->map) {
        err = SL_NOMEM;
        goto out_free_cv;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t m = opts->field_map ? opts->field_map[i] : (int32_t)i;
        if (m < -1) {
            err = SL_INVALID;
            goto out_free_map;
        }
        cv->map[i] = m;
    }
    cv->schema = schema;
    cv->on_reject = opts->on_reject;
    cv->reject_ctx = opts->reject_ctx;
    *out = cv;
    return SL_OK;
out_free_map:
    free(cv->map);
out_free_cv:
    free(cv);
    return err;
}

void sl_converter_destroy(sl_converter *cv)
{
    if (!cv)
        return;
    free(cv->map);
    free(cv);
}

size_t sl_convert_map_header(const sl_schema *schema, const char *const *names, size_t nnames,
                             int32_t *map)
{
    size_t unmatched = 0;
    for (size_t i = 0; i < schema->nfields; i++) {
        map[i] = -1;
        for (size_t k = 0; k < nnames && k <= INT32_MAX; k++) {
            if (names[k] && !strcmp(names[k], schema->fields[i].name)) {
                map[i] = (int32_t)k;
                break;
            }
        }
        unmatched += map[i] < 0;
    }
    return unmatched;
}

/* ---- conversion failures of one block ---- */

typedef struct {
    uint32_t row;
    int32_t col;
    sl_row_code code;
    char detail[SL_COERCE_DETAIL_MAX];
} fail_rec;

typedef struct {
    fail_rec *v;
    size_t n, cap;
    int32_t col; /* column being converted */
} fail_list;

static sl_err on_fail(void *ctx, size_t row, sl_row_code code, const char *detail)
{
    fail_list *fl = ctx;
    if (fl->n == fl->cap) {
        size_t ncap = fl->cap ? fl->cap * 2 : 16;
        fail_rec *v = realloc(fl->v, ncap * sizeof(*v));
        if (!v)
            return SL_NOMEM;
        fl->v = v;
        fl->cap = ncap;
    }
    fail_rec *f = &fl->v[fl->n++];
    f->row = (uint32_t)row;
    f->col = fl->col;
    f->code = code;
    snprintf(f->detail, sizeof(f->detail), "%s", detail);
    return SL_OK;
}

static int cmp_fail(const void *a, const void *b)
{
    const fail_rec *x = a, *y = b;
    return (x->row > y->row) - (x->row < y->row);
}

/* ---- the block ---- */

static sl_err report(const sl_converter *cv, const sl_rowblock *blk, size_t r, const fail_rec *f)
{
    if (!cv->on_reject)
        return SL_OK;
    sl_reject rej;
    memset(&rej, 0, sizeof(rej));
    rej.line = blk->line[r];
    rej.raw = blk->text + blk->rec_off[r];
    rej.raw_len = blk->rec_len[r];
    if (f) {
        int32_t m = cv->map[f->col];
        rej.code = f->code;
        rej.detail = f->detail;
        rej.field_index = f->col;
        rej.field = cv->schema->fields[f->col].name;
        if (m >= 0 && !cv->cz.o.json_source) {
            rej.column = (uint32_t)m + 1;
        } else if (m >= 0) {
            const sl_cell *c = &blk->cells[r * blk->ncols + (size_t)m];
            if (c->kind != SL_CELL_MISSING && c->off >= blk->rec_off[r])
                rej.column = c->off - blk->rec_off[r] + 1;
        }
    } else {
        const sl_row_err *e = &blk->row_err[r];
        rej.code = e->code;
        rej.detail = e->detail;
        rej.column = e->column;
        rej.field_index = e->field;
        if (e->field >= 0 && (size_t)e->field < cv->schema->nfields)
            rej.field = cv->schema->fields[e->field].name;
        else
            rej.field_index = -1;
        if (e->line)
            rej.line = e->line;
    }
    rej.message = sl_row_code_message(rej.code);
    return cv->on_reject(cv->reject_ctx, &rej);
}

sl_err sl_convert_block(const sl_converter *cv, const sl_rowblock *blk, sl_batch *out,
                        sl_convert_stats *st)
{
    const sl_schema *s = cv->schema;
    if (out->ncols != s->nfields || sl_batch_check(out))
        return SL_INVALID;
    for (size_t i = 0; i < s->nfields; i++)
        if (cv->map[i] >= 0 && (size_t)cv->map[i] >= blk->ncols)
            return SL_INVALID;
    size_t n = blk->nrows, base = sl_batch_rows(out);
    if (!n)
        return SL_OK;
    if (n > UINT32_MAX)
        return SL_INVALID;
    sl_err err = SL_NOMEM;
    size_t *drop = NULL;
    fail_list fl = {NULL, 0, 0, 0};
    uint8_t *bad = malloc(n);
    if (!bad)
        return SL_NOMEM;
    size_t nparse_bad = 0;
    for (size_t r = 0; r < n; r++) {
        bad[r] = blk->row_err[r].code != SL_ROW_OK;
        nparse_bad += bad[r];
    }

    for (size_t i = 0; i < s->nfields; i++) {
        sl_column *col = &out->cols[i];
        int32_t m = cv->map[i];
        fl.col = (int32_t)i;
        if (m < 0)
            err = sl_coerce_missing(col, n, bad, on_fail, &fl);
        else
            err = sl_coerce_column(&cv->cz, col, blk->text, blk->cells + m, blk->ncols, n, bad,
                                   on_fail, &fl);
        if (err)
            goto out_rollback;
    }

    size_t nbad = nparse_bad + fl.n;
    if (nbad) {
        drop = malloc(nbad * sizeof(*drop));
        if (!drop) {
            err = SL_NOMEM;
            goto out_rollback;
        }
        size_t k = 0;
        for (size_t r = 0; r < n; r++)
            if (bad[r])
                drop[k++] = base + r;
        sl_batch_remove_rows(out, drop, k);
        if (fl.n > 1)
            qsort(fl.v, fl.n, sizeof(*fl.v), cmp_fail);
        size_t f = 0;
        for (size_t r = 0; r < n; r++) {
            if (!bad[r])
                continue;
            const fail_rec *fr = NULL;
            if (bad[r] == 2) {
                fr = &fl.v[f++];
            }
            err = report(cv, blk, r, fr);
            if (err)
                goto out_rollback;
        }
    }
    if (st) {
        st->rows += n;
        st->rows_ok += n - nbad;
        st->rows_rejected += nbad;
        st->rejected_parse += nparse_bad;
        for (size_t r = 0; r < n; r++)
            if (bad[r] == 1 && (unsigned)blk->row_err[r].code < SL_ROW_ERR_COUNT)
                st->by_code[blk->row_err[r].code]++;
        for (size_t f = 0; f < fl.n; f++)
            st->by_code[fl.v[f].code]++;
    }
    err = SL_OK;
    goto out_free;
out_rollback:
    sl_batch_truncate(out, base);
out_free:
    free(drop);
    free(fl.v);
    free(bad);
    return err;
}

/* ---- rejects file ---- */

static sl_err put_base64(sl_buf *b, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n > (SIZE_MAX - 8) / 4 * 3)
        return SL_FULL;
    sl_err err = sl_buf_reserve(b, (n + 2) / 3 * 4 + 2);
    if (err)
        return err;
    uint8_t *o = b->ptr + b->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = (uint8_t)tab[v >> 18];
        *o++ = (uint8_t)tab[v >> 12 & 63];
        *o++ = (uint8_t)tab[v >> 6 & 63];
        *o++ = (uint8_t)tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = (uint8_t)tab[v >> 18];
        *o++ = (uint8_t)tab[v >> 12 & 63];
        *o++ = i + 1 < n ? (uint8_t)tab[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    b->len = (size_t)(o - b->ptr);
    return SL_OK;
}

sl_err sl_reject_format_ndjson(sl_buf *out, const sl_reject *rej)
{
    return sl_reject_format_ndjson_coded(out, rej, sl_row_code_name(rej->code), -1);
}

sl_err sl_reject_format_ndjson_coded(sl_buf *out, const sl_reject *rej, const char *code,
                                     int64_t index)
{
    size_t len0 = out->len;
    sl_err err = sl_buf_printf(out, "{\"line\":%llu,\"column\":", (unsigned long long)rej->line);
    if (!err)
        err = rej->column ? sl_buf_printf(out, "%u", rej->column) : sl_buf_puts(out, "null");
    if (!err)
        err = sl_buf_puts(out, ",\"field\":");
    if (!err)
        err = rej->field ? sl_buf_json_str(out, rej->field, strlen(rej->field))
                         : sl_buf_puts(out, "null");
    if (!err)
        err = sl_buf_puts(out, ",\"code\":");
    if (!err)
        err = sl_buf_json_str(out, code, strlen(code));
    if (!err)
        err = sl_buf_puts(out, ",\"reason\":");
    if (!err) {
        const char *msg = rej->message ? rej->message : sl_row_code_message(rej->code);
        char reason[sizeof(((sl_row_err *)0)->detail) + 128];
        if (rej->detail && rej->detail[0])
            snprintf(reason, sizeof(reason), "%s: %s", msg, rej->detail);
        else
            snprintf(reason, sizeof(reason), "%s", msg);
        err = sl_buf_json_str(out, reason, strlen(reason));
    }
    if (!err && index >= 0)
        err = sl_buf_printf(out, ",\"index\":%lld", (long long)index);
    if (!err) {
        const uint8_t *raw = rej->raw;
        size_t n = raw ? rej->raw_len : 0;
        if (sl_utf8_check(raw, n) == n) {
            err = sl_buf_puts(out, ",\"raw\":");
            if (!err)
                err = sl_buf_json_str(out, (const char *)raw, n);
        } else {
            err = sl_buf_puts(out, ",\"raw_base64\":");
            if (!err)
                err = put_base64(out, raw, n);
        }
    }
    if (!err)
        err = sl_buf_puts(out, "}\n");
    if (err)
        out->len = len0;
    return err;
}
