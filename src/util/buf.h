/* buf.h: growable byte buffer with a size cap.
 *
 * An sl_buf owns `ptr` (NULL when empty and never grown). Appends fail with SL_FULL past `cap`
 * (set at init; 0 means SIZE_MAX/2) and SL_NOMEM when realloc fails; on failure the contents
 * are unchanged. sl_buf_take() hands the allocation to the caller and leaves the buffer empty.
 */
#ifndef SL_UTIL_BUF_H
#define SL_UTIL_BUF_H

#include <stdint.h>
#include <string.h>

#include "sluice.h"

typedef struct sl_buf {
    uint8_t *ptr;
    size_t len;
    size_t alloc;
    size_t cap;
} sl_buf;

static inline void sl_buf_init(sl_buf *b, size_t cap)
{
    b->ptr = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap ? cap : SIZE_MAX / 2;
}

void sl_buf_release(sl_buf *b);
/* Makes room for `extra` more bytes without changing len. */
SL_NODISCARD sl_err sl__buf_grow(sl_buf *b, size_t extra);

static inline SL_NODISCARD sl_err sl_buf_reserve(sl_buf *b, size_t extra)
{
    if (b->alloc - b->len >= extra)
        return SL_OK;
    return sl__buf_grow(b, extra);
}

static inline SL_NODISCARD sl_err sl_buf_append(sl_buf *b, const void *p, size_t n)
{
    sl_err err = sl_buf_reserve(b, n);
    if (err)
        return err;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    return SL_OK;
}

static inline SL_NODISCARD sl_err sl_buf_putc(sl_buf *b, uint8_t c)
{
    sl_err err = sl_buf_reserve(b, 1);
    if (err)
        return err;
    b->ptr[b->len++] = c;
    return SL_OK;
}

static inline SL_NODISCARD sl_err sl_buf_puts(sl_buf *b, const char *s)
{
    return sl_buf_append(b, s, strlen(s));
}

/* printf-style append. */
SL_NODISCARD sl_err sl_buf_printf(sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends `s` as a JSON string literal (with quotes), escaping control characters, quotes and
 * backslashes; bytes >= 0x80 are copied as they are. */
SL_NODISCARD sl_err sl_buf_json_str(sl_buf *b, const char *s, size_t n);

/* Unsigned LEB128 varint (Thrift compact, RLE run headers) into out; returns its length. */
static inline size_t sl_varint_encode(uint8_t out[10], uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* memcpy that accepts NULL pointers when n is 0 (memcpy itself does not). */
static inline void sl_memcpy(void *dst, const void *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
}

/* Little-endian fixed-width stores into an already reserved buffer. */
static inline void sl_store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t sl_load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The allocation, now the caller's (free() it); the buffer is left empty. */
static inline uint8_t *sl_buf_take(sl_buf *b, size_t *len)
{
    uint8_t *p = b->ptr;
    if (len)
        *len = b->len;
    b->ptr = NULL;
    b->len = b->alloc = 0;
    return p;
}

#endif
