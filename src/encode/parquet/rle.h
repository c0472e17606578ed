/* rle.h: Parquet's RLE/bit-packed hybrid encoding (Encodings.md), used for definition levels
 * and dictionary indices, and PLAIN boolean bit-packing.
 *
 * Runs of >= 8 equal values become RLE runs (header count << 1, value in ceil(bw/8) bytes);
 * everything else is bit-packed in groups of 8 values (header groups << 1 | 1, LSB first), the
 * last group padded with zeros. No length prefix is written: callers add the 4-byte length of
 * v1 definition levels or the bit-width byte of dictionary indices themselves.
 */
#ifndef SL_PARQUET_RLE_H
#define SL_PARQUET_RLE_H

#include "util/buf.h"

SL_NODISCARD sl_err sl_rle_encode_u32(const uint32_t *v, size_t n, unsigned bw, sl_buf *out);
SL_NODISCARD sl_err sl_rle_encode_u8(const uint8_t *v, size_t n, unsigned bw, sl_buf *out);
/* Bit width needed for values 0..max (at least 1). */
unsigned sl_rle_bit_width(uint32_t max);
/* PLAIN booleans: one bit per value, LSB first. */
SL_NODISCARD sl_err sl_bitpack_bools(const uint8_t *v, size_t n, sl_buf *out);

/* Decoder (tests, the Parquet reader): decodes exactly n values of width bw from p[0..len).
 * SL_FORMAT when the input is short or a value exceeds bw bits. */
SL_NODISCARD sl_err sl_rle_decode_u32(const uint8_t *p, size_t len, unsigned bw, uint32_t *v,
                                      size_t n, size_t *used);

#endif
