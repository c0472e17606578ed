/* compact.c: reserving, truncating and compacting column builders (see "batch editing" in
 * sluice.h).
 *
 * The converter appends a whole block column by column, reserving room once per column and
 * writing slots directly; a row that fails in any column is only known to be bad after some
 * columns already hold its value, so at the end of the block the bad rows are cut out of every
 * column here. Layout invariants kept (column.c): fixed-width slots, one per row, nulls zeroed;
 * offsets[len + 1] for variable-length types with offsets[0] = 0; valid[] only if nullable;
 * null_count = number of valid[r] == 0.
 */
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

sl_err sl_col_reserve(sl_column *c, size_t rows, size_t bytes)
{
    if (rows > SIZE_MAX / 32 - c->len)
        return SL_NOMEM;
    if (!c->width && bytes > (size_t)UINT32_MAX - c->bytes_len)
        return SL_FULL;
    size_t need = c->len + rows;
    if (need > c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        if (ncap < need)
            ncap = need;
        /* each array is grown to ncap; `cap` only moves once all of them have */
        if (c->nullable) {
            uint8_t *v = realloc(c->valid, ncap);
            if (!v)
                return SL_NOMEM;
            c->valid = v;
        }
        if (c->width) {
            uint8_t *d = realloc(c->data, ncap * c->width);
            if (!d)
                return SL_NOMEM;
            c->data = d;
        } else {
            uint32_t *o = realloc(c->offsets, (ncap + 1) * sizeof(*o));
            if (!o)
                return SL_NOMEM;
            if (!c->offsets)
                o[0] = 0;
            c->offsets = o;
        }
        c->cap = ncap;
    }
    if (!c->width && bytes) {
        size_t bneed = c->bytes_len + bytes;
        if (bneed > c->bytes_cap) {
            size_t ncap = c->bytes_cap ? c->bytes_cap : 4096;
            while (ncap < bneed)
                ncap *= 2;
            if (ncap > (size_t)UINT32_MAX + 1)
                ncap = (size_t)UINT32_MAX + 1;
            uint8_t *b = realloc(c->bytes, ncap);
            if (!b)
                return SL_NOMEM;
            c->bytes = b;
            c->bytes_cap = ncap;
        }
    }
    return SL_OK;
}

static size_t count_nulls(const sl_column *c, size_t from, size_t to)
{
    size_t n = 0;
    if (!c->nullable)
        return 0;
    for (size_t r = from; r < to; r++)
        n += c->valid[r] == 0;
    return n;
}

void sl_col_truncate(sl_column *c, size_t rows)
{
    if (rows >= c->len)
        return;
    c->null_count -= count_nulls(c, rows, c->len);
    if (!c->width)
        c->bytes_len = c->offsets[rows];
    c->len = rows;
}

void sl_col_remove_rows(sl_column *c, const size_t *rows, size_t n)
{
    if (!n)
        return;
    size_t w = c->width;
    size_t dst = rows[0]; /* next slot to fill */
    for (size_t k = 0; k < n; k++) {
        size_t r = rows[k];
        if (c->nullable && !c->valid[r])
            c->null_count--;
        /* move the run of kept rows after r down to dst (dst < from: forward copies are safe) */
        size_t from = r + 1, to = k + 1 < n ? rows[k + 1] : c->len;
        size_t cnt = to - from;
        if (!cnt)
            continue;
        if (c->nullable)
            memmove(c->valid + dst, c->valid + from, cnt);
        if (w) {
            memmove(c->data + dst * w, c->data + from * w, cnt * w);
        } else {
            uint32_t src0 = c->offsets[from], dst0 = c->offsets[dst];
            uint32_t delta = src0 - dst0;
            if (c->offsets[to] != src0)
                memmove(c->bytes + dst0, c->bytes + src0, c->offsets[to] - src0);
            for (size_t i = 0; i < cnt; i++)
                c->offsets[dst + i + 1] = c->offsets[from + i + 1] - delta;
        }
        dst += cnt;
    }
    if (!w)
        c->bytes_len = c->offsets[dst];
    c->len = dst;
}

void sl_batch_truncate(sl_batch *b, size_t rows)
{
    for (size_t i = 0; i < b->ncols; i++)
        sl_col_truncate(&b->cols[i], rows);
}

void sl_batch_remove_rows(sl_batch *b, const size_t *rows, size_t n)
{
    for (size_t i = 0; i < b->ncols; i++)
        sl_col_remove_rows(&b->cols[i], rows, n);
}
