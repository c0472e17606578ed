/* text_out.c: NDJSON and CSV encoders for batches; see text_out.h. Dates, timestamps and
 * decimals are formatted by util/textfmt.c. */
#include "encode/text_out.h"
#include "util/textfmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sl_err sl_fmt_date(int32_t days, sl_buf *out)
{
    char tmp[SL_DATE_TEXT_MAX];
    return sl_buf_append(out, tmp, sl_format_date(days, tmp));
}

sl_err sl_fmt_timestamp(int64_t v, sl_time_unit unit, bool utc, sl_buf *out)
{
    char tmp[SL_TIMESTAMP_TEXT_MAX];
    return sl_buf_append(out, tmp, sl_format_timestamp(v, unit, utc, tmp));
}

sl_err sl_fmt_double(double v, bool is_float, sl_buf *out)
{
    char tmp[40];
    if (isnan(v))
        return sl_buf_puts(out, "NaN");
    if (isinf(v))
        return sl_buf_puts(out, v < 0 ? "-Infinity" : "Infinity");
    /* shortest of %.{n}g that reads back exactly */
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        double back = strtod(tmp, NULL);
        if (is_float ? (float)back == (float)v : back == v)
            break;
    }
    return sl_buf_puts(out, tmp);
}

#if defined(__SIZEOF_INT128__)
sl_err sl_fmt_decimal(__int128 v, unsigned scale, sl_buf *out)
{
    char tmp[SL_DECIMAL_TEXT_MAX];
    return sl_buf_append(out, tmp, sl_format_decimal(v, scale, tmp));
}
#endif

static sl_err fmt_base64(const uint8_t *p, size_t n, sl_buf *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sl_err err = sl_buf_reserve(out, (n + 2) / 3 * 4);
    if (err)
        return err;
    uint8_t *o = out->ptr + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = (uint8_t)tbl[x >> 18];
        *o++ = (uint8_t)tbl[x >> 12 & 63];
        *o++ = (uint8_t)tbl[x >> 6 & 63];
        *o++ = (uint8_t)tbl[x & 63];
    }
    if (i < n) {
        uint32_t x = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = (uint8_t)tbl[x >> 18];
        *o++ = (uint8_t)tbl[x >> 12 & 63];
        *o++ = i + 1 < n ? (uint8_t)tbl[x >> 6 & 63] : '=';
        *o++ = '=';
    }
    out->len = (size_t)(o - out->ptr);
    return SL_OK;
}

/* Appends the value of row r in text form (no quoting); *is_text tells whether it is a string
 * (needs JSON quoting / CSV quoting rules) and *is_raw_json whether it is embedded JSON. */
static sl_err fmt_value(const sl_column *c, size_t r, sl_buf *out, bool json, bool *quote)
{
    const uint8_t *slot = c->width ? c->data + r * c->width : NULL;
    *quote = false;
    switch (c->type.id) {
    case SL_TYPE_BOOL:
        return sl_buf_puts(out, slot[0] ? "true" : "false");
    case SL_TYPE_INT32: {
        int32_t v;
        memcpy(&v, slot, 4);
        return sl_buf_printf(out, "%" PRId32, v);
    }
    case SL_TYPE_INT64: {
        int64_t v;
        memcpy(&v, slot, 8);
        return sl_buf_printf(out, "%" PRId64, v);
    }
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE: {
        double v;
        if (c->type.id == SL_TYPE_FLOAT) {
            float f;
            memcpy(&f, slot, 4);
            v = f;
        } else {
            memcpy(&v, slot, 8);
        }
        if (json && !isfinite(v))
            return sl_buf_puts(out, "null");
        return sl_fmt_double(v, c->type.id == SL_TYPE_FLOAT, out);
    }
    case SL_TYPE_DATE: {
        int32_t v;
        memcpy(&v, slot, 4);
        *quote = json;
        return sl_fmt_date(v, out);
    }
    case SL_TYPE_TIMESTAMP: {
        int64_t v;
        memcpy(&v, slot, 8);
        *quote = json;
        return sl_fmt_timestamp(v, c->type.unit, c->type.utc, out);
    }
    case SL_TYPE_DECIMAL: {
        *quote = json; /* JSON numbers would lose digits in most readers */
        return sl_fmt_decimal(sl_col_decimal_at(c, r), c->type.scale, out);
    }
    case SL_TYPE_BINARY:
        *quote = true;
        return fmt_base64(c->bytes + c->offsets[r], c->offsets[r + 1] - c->offsets[r], out);
    case SL_TYPE_JSON:
        *quote = !json; /* embedded as a value in NDJSON */
        return sl_buf_append(out, c->bytes + c->offsets[r], c->offsets[r + 1] - c->offsets[r]);
    default:
        *quote = true;
        return sl_buf_append(out, c->bytes + c->offsets[r], c->offsets[r + 1] - c->offsets[r]);
    }
}

sl_err sl_ndjson_encode(const sl_batch *b, size_t first, size_t n, sl_buf *out)
{
    sl_err err = SL_OK;
    sl_buf tmp;
    sl_buf_init(&tmp, 0);
    for (size_t r = first; r < first + n && !err; r++) {
        err = sl_buf_putc(out, '{');
        for (size_t ci = 0; ci < b->ncols && !err; ci++) {
            const sl_column *c = &b->cols[ci];
            const char *name = b->schema->fields[ci].name;
            if (ci)
                err = sl_buf_putc(out, ',');
            if (!err)
                err = sl_buf_json_str(out, name, strlen(name));
            if (!err)
                err = sl_buf_putc(out, ':');
            if (err)
                break;
            if (c->valid && !c->valid[r]) {
                err = sl_buf_puts(out, "null");
                continue;
            }
            bool quote;
            tmp.len = 0;
            err = fmt_value(c, r, &tmp, true, &quote);
            if (!err)
                err = quote ? sl_buf_json_str(out, (const char *)tmp.ptr, tmp.len)
                            : sl_buf_append(out, tmp.ptr, tmp.len);
        }
        if (!err)
            err = sl_buf_puts(out, "}\n");
    }
    sl_buf_release(&tmp);
    return err;
}

static sl_err csv_field(const uint8_t *p, size_t n, bool is_string, char delim, sl_buf *out)
{
    bool need = is_string && n == 0; /* "" distinguishes an empty string from null */
    for (size_t i = 0; i < n && !need; i++)
        need = p[i] == (uint8_t)delim || p[i] == '"' || p[i] == '\n' || p[i] == '\r';
    if (!need)
        return sl_buf_append(out, p, n);
    sl_err err = sl_buf_putc(out, '"');
    for (size_t i = 0; i < n && !err; i++)
        err = p[i] == '"' ? sl_buf_append(out, "\"\"", 2) : sl_buf_putc(out, p[i]);
    if (!err)
        err = sl_buf_putc(out, '"');
    return err;
}

sl_err sl_csv_encode_header(const sl_schema *s, char delim, sl_buf *out)
{
    sl_err err = SL_OK;
    for (size_t i = 0; i < s->nfields && !err; i++) {
        if (i)
            err = sl_buf_putc(out, (uint8_t)delim);
        if (!err)
            err = csv_field((const uint8_t *)s->fields[i].name, strlen(s->fields[i].name), true,
                            delim, out);
    }
    if (!err)
        err = sl_buf_putc(out, '\n');
    return err;
}

sl_err sl_csv_encode(const sl_batch *b, size_t first, size_t n, char delim, sl_buf *out)
{
    sl_err err = SL_OK;
    sl_buf tmp;
    sl_buf_init(&tmp, 0);
    for (size_t r = first; r < first + n && !err; r++) {
        for (size_t ci = 0; ci < b->ncols && !err; ci++) {
            const sl_column *c = &b->cols[ci];
            if (ci)
                err = sl_buf_putc(out, (uint8_t)delim);
            if (err || (c->valid && !c->valid[r]))
                continue;
            bool quote;
            tmp.len = 0;
            err = fmt_value(c, r, &tmp, false, &quote);
            if (!err)
                err = csv_field(tmp.ptr, tmp.len, quote, delim, out);
        }
        if (!err)
            err = sl_buf_putc(out, '\n');
    }
    sl_buf_release(&tmp);
    return err;
}
