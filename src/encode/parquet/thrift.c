/* thrift.c: Thrift compact protocol writer and reader; see thrift.h.
 *
 * Wire format facts used here: field header = (delta << 4) | type when the id delta is 1..15,
 * else a type byte followed by the zigzag varint id; booleans in fields live in the type
 * nibble (1 true, 2 false); list header = (n << 4) | elem when n < 15, else 0xF0 | elem and a
 * varint n; i16/i32/i64 are zigzag varints; doubles are 8 bytes little-endian; binary is a
 * varint length and bytes; a struct ends with a 0 byte.
 */
#include "encode/parquet/thrift.h"

#include <string.h>

/* ---- writer ---- */

void sl_tw_init(sl_tw *tw, sl_buf *buf)
{
    memset(tw, 0, sizeof(*tw));
    tw->buf = buf;
}

static void tw_byte(sl_tw *tw, uint8_t c)
{
    if (!tw->err)
        tw->err = sl_buf_putc(tw->buf, c);
}

void sl_tw_varint(sl_tw *tw, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = sl_varint_encode(tmp, v);
    if (!tw->err)
        tw->err = sl_buf_append(tw->buf, tmp, n);
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void sl_tw_field(sl_tw *tw, int type, int16_t id)
{
    int16_t *last = &tw->last[tw->depth];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        tw_byte(tw, (uint8_t)(delta << 4 | type));
    } else {
        tw_byte(tw, (uint8_t)type);
        sl_tw_varint(tw, zigzag(id));
    }
    *last = id;
}

void sl_tw_i32(sl_tw *tw, int16_t id, int32_t v)
{
    sl_tw_field(tw, SL_CT_I32, id);
    sl_tw_varint(tw, zigzag(v));
}

void sl_tw_i64(sl_tw *tw, int16_t id, int64_t v)
{
    sl_tw_field(tw, SL_CT_I64, id);
    sl_tw_varint(tw, zigzag(v));
}

void sl_tw_bool(sl_tw *tw, int16_t id, bool v)
{
    sl_tw_field(tw, v ? SL_CT_TRUE : SL_CT_FALSE, id);
}

void sl_tw_elem_binary(sl_tw *tw, const void *p, size_t n)
{
    sl_tw_varint(tw, n);
    if (!tw->err)
        tw->err = sl_buf_append(tw->buf, p, n);
}

void sl_tw_binary(sl_tw *tw, int16_t id, const void *p, size_t n)
{
    sl_tw_field(tw, SL_CT_BINARY, id);
    sl_tw_elem_binary(tw, p, n);
}

void sl_tw_string(sl_tw *tw, int16_t id, const char *s)
{
    sl_tw_binary(tw, id, s, strlen(s));
}

static void tw_push(sl_tw *tw)
{
    if (tw->depth + 1 >= SL_THRIFT_MAX_DEPTH) {
        tw->err = SL_INVALID;
        return;
    }
    tw->last[++tw->depth] = 0;
}

void sl_tw_struct_begin(sl_tw *tw, int16_t id)
{
    sl_tw_field(tw, SL_CT_STRUCT, id);
    tw_push(tw);
}

void sl_tw_elem_struct_begin(sl_tw *tw)
{
    tw_push(tw);
}

void sl_tw_struct_end(sl_tw *tw)
{
    tw_byte(tw, SL_CT_STOP);
    if (tw->depth > 0)
        tw->depth--;
}

void sl_tw_root_begin(sl_tw *tw)
{
    tw->depth = 0;
    tw->last[0] = 0;
}

void sl_tw_root_end(sl_tw *tw)
{
    tw_byte(tw, SL_CT_STOP);
}

void sl_tw_list_begin(sl_tw *tw, int16_t id, int elem, uint32_t n)
{
    sl_tw_field(tw, SL_CT_LIST, id);
    if (n < 15) {
        tw_byte(tw, (uint8_t)(n << 4 | (uint32_t)elem));
    } else {
        tw_byte(tw, (uint8_t)(0xF0 | elem));
        sl_tw_varint(tw, n);
    }
}

void sl_tw_elem_i32(sl_tw *tw, int32_t v)
{
    sl_tw_varint(tw, zigzag(v));
}

void sl_tw_elem_i64(sl_tw *tw, int64_t v)
{
    sl_tw_varint(tw, zigzag(v));
}

void sl_tw_elem_bool(sl_tw *tw, bool v)
{
    tw_byte(tw, v ? SL_CT_TRUE : SL_CT_FALSE);
}

/* ---- reader ---- */

void sl_tr_init(sl_tr *tr, const void *p, size_t n)
{
    static const uint8_t empty[1];
    memset(tr, 0, sizeof(*tr));
    /* NULL + 0 is undefined behaviour (UBSan reports it); read an empty range instead */
    tr->p = p ? p : empty;
    tr->end = tr->p + (p ? n : 0);
    tr->depth = -1;
}

void sl_tr_fail(sl_tr *tr)
{
    tr->err = SL_FORMAT;
    tr->p = tr->end;
}

static uint8_t tr_byte(sl_tr *tr)
{
    if (tr->p >= tr->end) {
        sl_tr_fail(tr);
        return 0;
    }
    return *tr->p++;
}

uint64_t sl_tr_varint(sl_tr *tr)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t c = tr_byte(tr);
        if (tr->err)
            return 0;
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80))
            return v;
    }
    sl_tr_fail(tr); /* more than 10 bytes */
    return 0;
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void sl_tr_struct_begin(sl_tr *tr)
{
    if (tr->depth + 1 >= SL_THRIFT_MAX_DEPTH) {
        sl_tr_fail(tr);
        return;
    }
    tr->last[++tr->depth] = 0;
}

void sl_tr_struct_end(sl_tr *tr)
{
    if (tr->depth >= 0)
        tr->depth--;
}

bool sl_tr_field(sl_tr *tr, int *type, int16_t *id)
{
    if (tr->err || tr->depth < 0)
        return false;
    uint8_t c = tr_byte(tr);
    if (tr->err || c == SL_CT_STOP)
        return false;
    *type = c & 0x0F;
    int delta = c >> 4;
    int64_t fid;
    if (delta)
        fid = tr->last[tr->depth] + delta;
    else
        fid = unzigzag(sl_tr_varint(tr));
    if (tr->err || fid < INT16_MIN || fid > INT16_MAX || *type == SL_CT_STOP || *type > 12) {
        sl_tr_fail(tr);
        return false;
    }
    tr->last[tr->depth] = (int16_t)fid;
    *id = (int16_t)fid;
    return true;
}

int32_t sl_tr_i32(sl_tr *tr)
{
    int64_t v = unzigzag(sl_tr_varint(tr));
    if (v < INT32_MIN || v > INT32_MAX) {
        sl_tr_fail(tr);
        return 0;
    }
    return (int32_t)v;
}

int64_t sl_tr_i64(sl_tr *tr)
{
    return unzigzag(sl_tr_varint(tr));
}

int8_t sl_tr_byte(sl_tr *tr)
{
    return (int8_t)tr_byte(tr);
}

double sl_tr_double(sl_tr *tr)
{
    if (tr->end - tr->p < 8) {
        sl_tr_fail(tr);
        return 0;
    }
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--)
        bits = bits << 8 | tr->p[i];
    tr->p += 8;
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

const uint8_t *sl_tr_binary(sl_tr *tr, size_t *n)
{
    uint64_t len = sl_tr_varint(tr);
    if (tr->err || len > (uint64_t)(tr->end - tr->p)) {
        sl_tr_fail(tr);
        *n = 0;
        return NULL;
    }
    const uint8_t *p = tr->p;
    tr->p += len;
    *n = (size_t)len;
    return p;
}

uint32_t sl_tr_list(sl_tr *tr, int *elem)
{
    uint8_t c = tr_byte(tr);
    *elem = c & 0x0F;
    uint64_t n = c >> 4;
    if (n == 15)
        n = sl_tr_varint(tr);
    /* every element takes at least one byte, so more elements than bytes is malformed */
    if (tr->err || n > (uint64_t)(tr->end - tr->p) || *elem == SL_CT_STOP || *elem > 12) {
        sl_tr_fail(tr);
        return 0;
    }
    return (uint32_t)n;
}

bool sl_tr_elem_bool(sl_tr *tr)
{
    uint8_t c = tr_byte(tr);
    return c == SL_CT_TRUE;
}

void sl_tr_skip(sl_tr *tr, int type)
{
    size_t n;
    int t, elem;
    int16_t id;
    switch (type) {
    case SL_CT_TRUE:
    case SL_CT_FALSE:
        return; /* value is in the field header */
    case SL_CT_BYTE:
        tr_byte(tr);
        return;
    case SL_CT_I16:
    case SL_CT_I32:
    case SL_CT_I64:
        sl_tr_varint(tr);
        return;
    case SL_CT_DOUBLE:
        sl_tr_double(tr);
        return;
    case SL_CT_BINARY:
        sl_tr_binary(tr, &n);
        return;
    case SL_CT_LIST:
    case SL_CT_SET: {
        uint32_t cnt = sl_tr_list(tr, &elem);
        sl_tr_struct_begin(tr); /* counts toward the nesting limit */
        for (uint32_t i = 0; i < cnt && !tr->err; i++) {
            if (elem == SL_CT_TRUE || elem == SL_CT_FALSE)
                tr_byte(tr);
            else
                sl_tr_skip(tr, elem);
        }
        sl_tr_struct_end(tr);
        return;
    }
    case SL_CT_MAP: {
        uint64_t cnt = sl_tr_varint(tr);
        if (cnt == 0)
            return;
        uint8_t kv = tr_byte(tr);
        if (tr->err || cnt > (uint64_t)(tr->end - tr->p)) {
            sl_tr_fail(tr);
            return;
        }
        sl_tr_struct_begin(tr); /* counts toward the nesting limit */
        for (uint64_t i = 0; i < cnt && !tr->err; i++) {
            int kt = kv >> 4, vt = kv & 15;
            if (kt == SL_CT_TRUE || kt == SL_CT_FALSE)
                tr_byte(tr);
            else
                sl_tr_skip(tr, kt);
            if (vt == SL_CT_TRUE || vt == SL_CT_FALSE)
                tr_byte(tr);
            else
                sl_tr_skip(tr, vt);
        }
        sl_tr_struct_end(tr);
        return;
    }
    case SL_CT_STRUCT:
        sl_tr_struct_begin(tr);
        while (sl_tr_field(tr, &t, &id))
            sl_tr_skip(tr, t);
        sl_tr_struct_end(tr);
        return;
    default:
        sl_tr_fail(tr);
        return;
    }
}
