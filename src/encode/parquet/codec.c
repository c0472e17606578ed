/* codec.c: page compression; see codec.h. Facts: Parquet SNAPPY is raw (unframed) snappy,
 * GZIP a gzip stream (zlib with the gzip wrapper), ZSTD a standard frame, LZ4_RAW an LZ4 block
 * without the frame or Hadoop's length prefix. */
#include "encode/parquet/codec.h"

#include <lz4.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "encode/parquet/pq_meta.h"

struct sl_codec_ctx {
    sl_codec codec;
    int level;
    ZSTD_CCtx *zstd;
    z_stream zs; /* gzip: initialised once, reset per page */
    bool zs_init;
};

size_t sl_codec_bound(sl_codec codec, size_t n)
{
    switch (codec) {
    case SL_CODEC_SNAPPY:
        return snappy_max_compressed_length(n);
    case SL_CODEC_ZSTD:
        return ZSTD_compressBound(n);
    case SL_CODEC_LZ4_RAW:
        return n > LZ4_MAX_INPUT_SIZE ? n : (size_t)LZ4_compressBound((int)n);
    case SL_CODEC_GZIP:
        return compressBound((uLong)n) + 32; /* zlib bound + the gzip wrapper */
    default:
        return n;
    }
}

static const char *const codec_names[SL_CODEC_COUNT] = {
    [SL_CODEC_NONE] = "none",   [SL_CODEC_SNAPPY] = "snappy",   [SL_CODEC_GZIP] = "gzip",
    [SL_CODEC_ZSTD] = "zstd",   [SL_CODEC_LZ4_RAW] = "lz4_raw",
};

const char *sl_codec_name(sl_codec codec)
{
    return (unsigned)codec < SL_CODEC_COUNT ? codec_names[codec] : "unknown";
}

sl_err sl_codec_parse(const char *name, sl_codec *out)
{
    for (int i = 0; i < SL_CODEC_COUNT; i++)
        if (!strcasecmp(name, codec_names[i])) {
            *out = (sl_codec)i;
            return SL_OK;
        }
    if (!strcasecmp(name, "uncompressed")) {
        *out = SL_CODEC_NONE;
        return SL_OK;
    }
    if (!strcasecmp(name, "lz4")) {
        *out = SL_CODEC_LZ4_RAW;
        return SL_OK;
    }
    return SL_INVALID;
}

int sl_codec_thrift(sl_codec codec)
{
    switch (codec) {
    case SL_CODEC_SNAPPY:
        return PQ_CODEC_SNAPPY;
    case SL_CODEC_GZIP:
        return PQ_CODEC_GZIP;
    case SL_CODEC_ZSTD:
        return PQ_CODEC_ZSTD;
    case SL_CODEC_LZ4_RAW:
        return PQ_CODEC_LZ4_RAW;
    default:
        return PQ_CODEC_UNCOMPRESSED;
    }
}

sl_err sl_codec_ctx_create(sl_codec codec, int level, sl_codec_ctx **out)
{
    if ((unsigned)codec >= SL_CODEC_COUNT)
        return SL_INVALID;
    sl_codec_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return SL_NOMEM;
    c->codec = codec;
    c->level = level;
    if (codec == SL_CODEC_ZSTD) {
        c->zstd = ZSTD_createCCtx();
        if (!c->zstd) {
            free(c);
            return SL_NOMEM;
        }
        if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
            ZSTD_freeCCtx(c->zstd);
            free(c);
            return SL_INVALID;
        }
    } else if (codec == SL_CODEC_GZIP) {
        if (level < 0 || level > 9) {
            free(c);
            return SL_INVALID;
        }
        if (deflateInit2(&c->zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            free(c);
            return SL_NOMEM;
        }
        c->zs_init = true;
    }
    *out = c;
    return SL_OK;
}

void sl_codec_ctx_destroy(sl_codec_ctx *ctx)
{
    if (!ctx)
        return;
    ZSTD_freeCCtx(ctx->zstd);
    if (ctx->zs_init)
        deflateEnd(&ctx->zs);
    free(ctx);
}

static sl_err gzip_compress(sl_codec_ctx *ctx, const void *in, size_t n, sl_buf *out)
{
    z_stream *zs = &ctx->zs;
    size_t bound = sl_codec_bound(SL_CODEC_GZIP, n);
    sl_err err = sl_buf_reserve(out, bound);
    if (err)
        return err;
    if (deflateReset(zs) != Z_OK)
        return SL_IO;
    zs->next_in = (Bytef *)(uintptr_t)in;
    zs->avail_in = (uInt)n;
    zs->next_out = out->ptr + out->len;
    zs->avail_out = (uInt)bound;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END)
        return SL_IO;
    out->len += zs->total_out;
    return SL_OK;
}

sl_err sl_codec_compress(sl_codec_ctx *ctx, const void *in, size_t n, sl_buf *out)
{
    sl_err err;
    switch (ctx->codec) {
    case SL_CODEC_NONE:
        return sl_buf_append(out, in, n);
    case SL_CODEC_SNAPPY: {
        size_t bound = sl_codec_bound(SL_CODEC_SNAPPY, n);
        if ((err = sl_buf_reserve(out, bound)))
            return err;
        size_t len = bound;
        if (snappy_compress(in, n, (char *)out->ptr + out->len, &len) != SNAPPY_OK)
            return SL_IO;
        out->len += len;
        return SL_OK;
    }
    case SL_CODEC_ZSTD: {
        size_t bound = sl_codec_bound(SL_CODEC_ZSTD, n);
        if ((err = sl_buf_reserve(out, bound)))
            return err;
        size_t len = ZSTD_compressCCtx(ctx->zstd, out->ptr + out->len, bound, in, n,
                                       ctx->level ? ctx->level : ZSTD_CLEVEL_DEFAULT);
        if (ZSTD_isError(len))
            return SL_IO;
        out->len += len;
        return SL_OK;
    }
    case SL_CODEC_LZ4_RAW: {
        if (n > LZ4_MAX_INPUT_SIZE)
            return SL_FULL;
        size_t bound = sl_codec_bound(SL_CODEC_LZ4_RAW, n);
        if ((err = sl_buf_reserve(out, bound)))
            return err;
        int len = LZ4_compress_default(in, (char *)out->ptr + out->len, (int)n, (int)bound);
        if (len <= 0 && n > 0)
            return SL_IO;
        out->len += (size_t)len;
        return SL_OK;
    }
    case SL_CODEC_GZIP:
        return gzip_compress(ctx, in, n, out);
    default:
        return SL_INVALID;
    }
}

static sl_err gzip_decompress(const void *in, size_t n, size_t expect, sl_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return SL_NOMEM;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out->ptr + out->len;
    zs.avail_out = (uInt)expect;
    int rc = inflate(&zs, Z_FINISH);
    size_t got = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || got != expect)
        return SL_FORMAT;
    out->len += got;
    return SL_OK;
}

sl_err sl_codec_decompress(sl_codec codec, const void *in, size_t n, size_t expect, sl_buf *out)
{
    sl_err err = sl_buf_reserve(out, expect + 1);
    if (err)
        return err;
    char *dst = (char *)out->ptr + out->len;
    switch (codec) {
    case SL_CODEC_NONE:
        if (n != expect)
            return SL_FORMAT;
        memcpy(dst, in, n);
        break;
    case SL_CODEC_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length(in, n, &len) != SNAPPY_OK || len != expect)
            return SL_FORMAT;
        if (snappy_uncompress(in, n, dst, &len) != SNAPPY_OK || len != expect)
            return SL_FORMAT;
        break;
    }
    case SL_CODEC_ZSTD: {
        size_t len = ZSTD_decompress(dst, expect, in, n);
        if (ZSTD_isError(len) || len != expect)
            return SL_FORMAT;
        break;
    }
    case SL_CODEC_LZ4_RAW: {
        if (n > INT32_MAX || expect > INT32_MAX)
            return SL_FORMAT;
        int len = LZ4_decompress_safe(in, dst, (int)n, (int)expect);
        if (len < 0 || (size_t)len != expect)
            return SL_FORMAT;
        break;
    }
    case SL_CODEC_GZIP:
        return gzip_decompress(in, n, expect, out);
    default:
        return SL_INVALID;
    }
    out->len += expect;
    return SL_OK;
}
