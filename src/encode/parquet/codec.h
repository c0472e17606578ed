/* codec.h: page compression for Parquet (raw snappy, gzip stream, zstd frame, LZ4 block).
 *
 * An sl_codec_ctx keeps the zstd/zlib state between pages; one per thread. */
#ifndef SL_PARQUET_CODEC_H
#define SL_PARQUET_CODEC_H

#include "util/buf.h"

typedef struct sl_codec_ctx sl_codec_ctx;

SL_NODISCARD sl_err sl_codec_ctx_create(sl_codec codec, int level, sl_codec_ctx **out);
void sl_codec_ctx_destroy(sl_codec_ctx *ctx);
/* Most bytes compressing n bytes can take: sl_codec_compress() reserves exactly this, so an
 * out buffer with this much room never reallocates. */
size_t sl_codec_bound(sl_codec codec, size_t n);
/* Appends the compressed form of in[0..n) to out. */
SL_NODISCARD sl_err sl_codec_compress(sl_codec_ctx *ctx, const void *in, size_t n, sl_buf *out);
/* Appends exactly `expect` decompressed bytes to out; SL_FORMAT if the data does not
 * decompress to exactly that many. */
SL_NODISCARD sl_err sl_codec_decompress(sl_codec codec, const void *in, size_t n, size_t expect,
                                        sl_buf *out);
/* The thrift CompressionCodec number of a codec. */
int sl_codec_thrift(sl_codec codec);

#endif
