/* rle.c: RLE/bit-packed hybrid encoder and decoder; see rle.h.
 *
 * The encoder scans once: at position i it measures the run of equal values; a run of 8 or
 * more is emitted as RLE, otherwise values are bit-packed group by group until a group
 * boundary where a run of 8 begins. Both input element types share one body (a macro), since
 * definition levels arrive as bytes and dictionary indices as uint32.
 */
#include "encode/parquet/rle.h"

static sl_err put_varint(sl_buf *out, uint64_t v)
{
    uint8_t tmp[10];
    return sl_buf_append(out, tmp, sl_varint_encode(tmp, v));
}

unsigned sl_rle_bit_width(uint32_t max)
{
    unsigned bw = 1;
    while (bw < 32 && (max >> bw))
        bw++;
    return bw;
}

#define RLE_ENCODE_BODY(T)                                                                    \
    size_t vbytes = (bw + 7) / 8;                                                             \
    size_t i = 0;                                                                             \
    sl_err err;                                                                               \
    while (i < n) {                                                                           \
        size_t j = i + 1;                                                                     \
        while (j < n && v[j] == v[i])                                                         \
            j++;                                                                              \
        if (j - i >= 8) {                                                                     \
            if ((err = put_varint(out, (uint64_t)(j - i) << 1)))                              \
                return err;                                                                   \
            uint32_t val = v[i];                                                              \
            uint8_t vb[4] = {(uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16),         \
                             (uint8_t)(val >> 24)};                                           \
            if ((err = sl_buf_append(out, vb, vbytes)))                                       \
                return err;                                                                   \
            i = j;                                                                            \
            continue;                                                                         \
        }                                                                                     \
        size_t start = i, k = i;                                                              \
        for (;;) {                                                                            \
            k += 8;                                                                           \
            if (k >= n) {                                                                     \
                k = n;                                                                        \
                break;                                                                        \
            }                                                                                 \
            size_t m = k + 1;                                                                 \
            while (m < n && m - k < 8 && v[m] == v[k])                                        \
                m++;                                                                          \
            if (m - k >= 8)                                                                   \
                break;                                                                        \
        }                                                                                     \
        size_t groups = (k - start + 7) / 8;                                                  \
        if ((err = put_varint(out, (uint64_t)groups << 1 | 1)))                               \
            return err;                                                                       \
        if ((err = sl_buf_reserve(out, groups * bw)))                                         \
            return err;                                                                       \
        uint8_t *o = out->ptr + out->len;                                                     \
        uint64_t acc = 0;                                                                     \
        unsigned bits = 0;                                                                    \
        for (size_t x = start; x < start + groups * 8; x++) {                                 \
            uint64_t val = x < k ? (uint64_t)v[x] : 0;                                        \
            acc |= val << bits;                                                               \
            bits += bw;                                                                       \
            while (bits >= 8) {                                                               \
                *o++ = (uint8_t)acc;                                                          \
                acc >>= 8;                                                                    \
                bits -= 8;                                                                    \
            }                                                                                 \
        }                                                                                     \
        out->len = (size_t)(o - out->ptr);                                                    \
        i = k;                                                                                \
    }                                                                                         \
    return SL_OK;

sl_err sl_rle_encode_u32(const uint32_t *v, size_t n, unsigned bw, sl_buf *out)
{
    RLE_ENCODE_BODY(uint32_t)
}

sl_err sl_rle_encode_u8(const uint8_t *v, size_t n, unsigned bw, sl_buf *out)
{
    RLE_ENCODE_BODY(uint8_t)
}

sl_err sl_bitpack_bools(const uint8_t *v, size_t n, sl_buf *out)
{
    size_t nb = (n + 7) / 8;
    sl_err err = sl_buf_reserve(out, nb);
    if (err)
        return err;
    uint8_t *o = out->ptr + out->len;
    size_t i = 0;
    for (size_t b = 0; b < nb; b++) {
        uint8_t byte = 0;
        for (unsigned bit = 0; bit < 8 && i < n; bit++, i++)
            byte |= (uint8_t)((v[i] & 1) << bit);
        o[b] = byte;
    }
    out->len += nb;
    return SL_OK;
}

sl_err sl_rle_decode_u32(const uint8_t *p, size_t len, unsigned bw, uint32_t *v, size_t n,
                         size_t *used)
{
    size_t pos = 0, i = 0;
    size_t vbytes = (bw + 7) / 8;
    if (bw > 32)
        return SL_FORMAT;
    uint64_t limit = bw == 32 ? UINT32_MAX : ((uint64_t)1 << bw) - 1;
    while (i < n) {
        uint64_t h = 0;
        for (int shift = 0;; shift += 7) {
            if (pos >= len || shift > 63)
                return SL_FORMAT;
            uint8_t c = p[pos++];
            h |= (uint64_t)(c & 0x7F) << shift;
            if (!(c & 0x80))
                break;
        }
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0 || groups > (len - pos) / (bw ? bw : 1) + 1)
                return SL_FORMAT;
            uint64_t count = groups * 8;
            if (bw && groups * bw > len - pos)
                return SL_FORMAT;
            uint64_t acc = 0;
            unsigned bits = 0;
            for (uint64_t x = 0; x < count; x++) {
                while (bits < bw) {
                    acc |= (uint64_t)p[pos++] << bits;
                    bits += 8;
                }
                uint32_t val = (uint32_t)(acc & limit);
                acc >>= bw;
                bits -= bw;
                if (i < n)
                    v[i++] = val;
            }
        } else {
            uint64_t count = h >> 1;
            if (count == 0 || len - pos < vbytes)
                return SL_FORMAT;
            uint32_t val = 0;
            for (size_t b = 0; b < vbytes; b++)
                val |= (uint32_t)p[pos++] << (8 * b);
            if (val > limit)
                return SL_FORMAT;
            for (uint64_t x = 0; x < count && i < n; x++)
                v[i++] = val;
        }
    }
    if (used)
        *used = pos;
    return SL_OK;
}
