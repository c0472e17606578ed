/* column.c: typed column builders and batches.
 *
 * Layout (see sl_column in sluice.h): fixed-width types keep one slot per row in `data`, with a
 * zeroed slot for a null, so encoders can index by row; variable-length types keep offsets[len+1]
 * into `bytes`. `valid` is one byte per row for nullable columns. Appending never allocates per
 * row: arrays double when full.
 */
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

unsigned sl_type_width(sl_type t)
{
    switch (t.id) {
    case SL_TYPE_BOOL:
        return 1;
    case SL_TYPE_INT32:
    case SL_TYPE_FLOAT:
    case SL_TYPE_DATE:
        return 4;
    case SL_TYPE_INT64:
    case SL_TYPE_DOUBLE:
    case SL_TYPE_TIMESTAMP:
        return 8;
    case SL_TYPE_DECIMAL:
        return t.precision <= 18 ? 8 : 16;
    default:
        return 0;
    }
}

static void col_init(sl_column *c, sl_type type, bool nullable)
{
    memset(c, 0, sizeof(*c));
    c->type = type;
    c->nullable = nullable;
    c->width = (uint8_t)sl_type_width(type);
}

static void col_release(sl_column *c)
{
    free(c->valid);
    free(c->data);
    free(c->offsets);
    free(c->bytes);
}

/* Makes room for one more row (the arrays double; see sl_col_reserve). */
static sl_err col_grow(sl_column *c)
{
    return sl_col_reserve(c, 1, 0);
}

static inline sl_err col_room(sl_column *c)
{
    return c->len < c->cap ? SL_OK : col_grow(c);
}

sl_err sl_col_append_null(sl_column *c)
{
    if (!c->nullable)
        return SL_INVALID;
    sl_err err = col_room(c);
    if (err)
        return err;
    c->valid[c->len] = 0;
    if (c->width)
        memset(c->data + c->len * c->width, 0, c->width);
    else
        c->offsets[c->len + 1] = c->offsets[c->len];
    c->len++;
    c->null_count++;
    return SL_OK;
}

static inline sl_err append_fixed(sl_column *c, const void *v, unsigned width)
{
    if (c->width != width)
        return SL_INVALID;
    sl_err err = col_room(c);
    if (err)
        return err;
    if (c->nullable)
        c->valid[c->len] = 1;
    memcpy(c->data + c->len * width, v, width);
    c->len++;
    return SL_OK;
}

sl_err sl_col_append_bool(sl_column *c, bool v)
{
    uint8_t b = v ? 1 : 0;
    if (c->type.id != SL_TYPE_BOOL)
        return SL_INVALID;
    return append_fixed(c, &b, 1);
}

sl_err sl_col_append_i32(sl_column *c, int32_t v)
{
    if (c->type.id != SL_TYPE_INT32 && c->type.id != SL_TYPE_DATE)
        return SL_INVALID;
    return append_fixed(c, &v, 4);
}

sl_err sl_col_append_i64(sl_column *c, int64_t v)
{
    if (c->type.id == SL_TYPE_DECIMAL && c->width == 16) {
#if defined(__SIZEOF_INT128__)
        return sl_col_append_i128(c, v);
#else
        return SL_UNSUPPORTED;
#endif
    }
    if (c->type.id != SL_TYPE_INT64 && c->type.id != SL_TYPE_TIMESTAMP &&
        c->type.id != SL_TYPE_DECIMAL)
        return SL_INVALID;
    return append_fixed(c, &v, 8);
}

#if defined(__SIZEOF_INT128__)
sl_err sl_col_append_i128(sl_column *c, __int128 v)
{
    if (c->type.id != SL_TYPE_DECIMAL)
        return SL_INVALID;
    if (c->width == 8) {
        if (v < INT64_MIN || v > INT64_MAX)
            return SL_INVALID;
        int64_t n = (int64_t)v;
        return append_fixed(c, &n, 8);
    }
    return append_fixed(c, &v, 16);
}
#endif

sl_err sl_col_append_f32(sl_column *c, float v)
{
    if (c->type.id != SL_TYPE_FLOAT)
        return SL_INVALID;
    return append_fixed(c, &v, 4);
}

sl_err sl_col_append_f64(sl_column *c, double v)
{
    if (c->type.id != SL_TYPE_DOUBLE)
        return SL_INVALID;
    return append_fixed(c, &v, 8);
}

sl_err sl_col_append_bytes(sl_column *c, const void *p, size_t n)
{
    if (c->width)
        return SL_INVALID;
    if (n > UINT32_MAX - c->bytes_len) /* offsets are uint32 */
        return SL_FULL;
    if (c->len == c->cap || c->bytes_len + n > c->bytes_cap) {
        sl_err err = sl_col_reserve(c, 1, n);
        if (err)
            return err;
    }
    if (n)
        memcpy(c->bytes + c->bytes_len, p, n);
    c->bytes_len += n;
    if (c->nullable)
        c->valid[c->len] = 1;
    c->offsets[c->len + 1] = (uint32_t)c->bytes_len;
    c->len++;
    return SL_OK;
}

sl_err sl_batch_create(const sl_schema *schema, sl_batch **out)
{
    sl_batch *b = calloc(1, sizeof(*b));
    if (!b)
        return SL_NOMEM;
    b->cols = calloc(schema->nfields ? schema->nfields : 1, sizeof(*b->cols));
    if (!b->cols) {
        free(b);
        return SL_NOMEM;
    }
    b->schema = schema;
    b->ncols = schema->nfields;
    for (size_t i = 0; i < b->ncols; i++)
        col_init(&b->cols[i], schema->fields[i].type, schema->fields[i].nullable);
    *out = b;
    return SL_OK;
}

void sl_batch_destroy(sl_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->ncols; i++)
        col_release(&b->cols[i]);
    free(b->cols);
    free(b);
}

void sl_batch_clear(sl_batch *b)
{
    for (size_t i = 0; i < b->ncols; i++) {
        sl_column *c = &b->cols[i];
        c->len = 0;
        c->null_count = 0;
        c->bytes_len = 0;
    }
}

size_t sl_batch_rows(const sl_batch *b)
{
    return b->ncols ? b->cols[0].len : 0;
}

sl_err sl_batch_check(const sl_batch *b)
{
    for (size_t i = 1; i < b->ncols; i++)
        if (b->cols[i].len != b->cols[0].len)
            return SL_STATE;
    return SL_OK;
}
