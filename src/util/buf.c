/* buf.c: growable byte buffer; see buf.h. Growth doubles, so appends are amortised O(1). */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sl_buf_release(sl_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->alloc = 0;
}

sl_err sl__buf_grow(sl_buf *b, size_t extra)
{
    if (extra > b->cap || b->len > b->cap - extra)
        return SL_FULL;
    size_t need = b->len + extra;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (n > b->cap)
        n = need > b->cap ? need : b->cap;
    uint8_t *p = realloc(b->ptr, n);
    if (!p)
        return SL_NOMEM;
    b->ptr = p;
    b->alloc = n;
    return SL_OK;
}

sl_err sl_buf_printf(sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return SL_INVALID;
    if ((size_t)n < sizeof(small))
        return sl_buf_append(b, small, (size_t)n);
    sl_err err = sl_buf_reserve(b, (size_t)n + 1);
    if (err)
        return err;
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SL_OK;
}

sl_err sl_buf_json_str(sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case every byte becomes \u00XX */
    if (n > (SIZE_MAX - 2) / 6)
        return SL_FULL;
    sl_err err = sl_buf_reserve(b, n * 6 + 2);
    if (err)
        return err;
    uint8_t *o = b->ptr + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = c;
        } else if (c >= 0x20) {
            *o++ = c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (c == '\r') {
            *o++ = '\\';
            *o++ = 'r';
        } else {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = (uint8_t)hex[c >> 4];
            *o++ = (uint8_t)hex[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->ptr);
    return SL_OK;
}
