/* file_reader.c: sequential file/stdin reader with gzip and zstd decompression; see
 * file_reader.h.
 *
 * The first bytes are peeked to pick the codec: 1f 8b = gzip (zlib with gzip wrapper, and
 * concatenated members are read one after another as gzip(1) does), 28 b5 2f fd = zstd (frames
 * read back to back). Anything else is passed through. Raw input is read in 1 MiB slices.
 */
#include "source/file_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_SLICE ((size_t)1 << 20)

struct sl_reader {
    int fd;
    bool own_fd;
    sl_compression comp;
    uint8_t *raw;       /* compressed input buffer */
    size_t raw_len;     /* valid bytes in raw */
    size_t raw_pos;     /* consumed */
    bool raw_eof;
    uint64_t raw_total; /* bytes read from fd */
    int64_t size;
    z_stream zs;
    bool zs_init;
    bool zs_member_done; /* finished a gzip member; another may follow */
    ZSTD_DStream *zstd;
    bool zstd_frame_done;
};

static sl_err fill_raw(sl_reader *r, char *errmsg, size_t errlen)
{
    if (r->raw_pos < r->raw_len || r->raw_eof)
        return SL_OK;
    r->raw_pos = r->raw_len = 0;
    for (;;) {
        ssize_t k = read(r->fd, r->raw, RAW_SLICE);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            snprintf(errmsg, errlen, "read failed: %s", strerror(errno));
            return SL_IO;
        }
        if (k == 0)
            r->raw_eof = true;
        r->raw_len = (size_t)k;
        r->raw_total += (uint64_t)k;
        return SL_OK;
    }
}

sl_err sl_reader_open(const char *path, sl_reader **out, char *errmsg, size_t errlen)
{
    sl_err err;
    sl_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return SL_NOMEM;
    r->size = -1;
    if (!strcmp(path, "-")) {
        r->fd = 0;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            snprintf(errmsg, errlen, "cannot open %s: %s", path, strerror(errno));
            free(r);
            return errno == ENOENT ? SL_INVALID : SL_IO;
        }
        r->own_fd = true;
        struct stat st;
        if (fstat(r->fd, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                snprintf(errmsg, errlen, "%s is a directory", path);
                err = SL_INVALID;
                goto out_close;
            }
            if (S_ISREG(st.st_mode))
                r->size = (int64_t)st.st_size;
        }
    }
    r->raw = malloc(RAW_SLICE);
    if (!r->raw) {
        err = SL_NOMEM;
        goto out_close;
    }
    /* peek: read until 4 bytes or EOF */
    while (r->raw_len < 4 && !r->raw_eof) {
        ssize_t k = read(r->fd, r->raw + r->raw_len, RAW_SLICE - r->raw_len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            snprintf(errmsg, errlen, "read failed: %s", strerror(errno));
            err = SL_IO;
            goto out_free;
        }
        if (k == 0)
            r->raw_eof = true;
        r->raw_len += (size_t)k;
        r->raw_total += (uint64_t)k;
    }
    const uint8_t *m = r->raw;
    if (r->raw_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        r->comp = SL_COMP_GZIP;
        if (inflateInit2(&r->zs, 15 + 16) != Z_OK) {
            err = SL_NOMEM;
            goto out_free;
        }
        r->zs_init = true;
    } else if (r->raw_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        r->comp = SL_COMP_ZSTD;
        r->zstd = ZSTD_createDStream();
        if (!r->zstd) {
            err = SL_NOMEM;
            goto out_free;
        }
        ZSTD_initDStream(r->zstd);
    }
    *out = r;
    return SL_OK;
out_free:
    free(r->raw);
out_close:
    if (r->own_fd)
        close(r->fd);
    free(r);
    return err;
}

static sl_err read_gzip(sl_reader *r, uint8_t *dst, size_t n, size_t *got, char *errmsg,
                        size_t errlen)
{
    *got = 0;
    while (*got == 0) {
        sl_err err = fill_raw(r, errmsg, errlen);
        if (err)
            return err;
        if (r->raw_pos == r->raw_len && r->raw_eof) {
            if (!r->zs_member_done && (r->zs.total_in > 0 || r->raw_total > 0)) {
                snprintf(errmsg, errlen, "gzip input is truncated");
                return SL_FORMAT;
            }
            return SL_OK;
        }
        if (r->zs_member_done) {
            /* another member follows */
            inflateReset(&r->zs);
            r->zs_member_done = false;
        }
        r->zs.next_in = r->raw + r->raw_pos;
        r->zs.avail_in = (uInt)(r->raw_len - r->raw_pos);
        r->zs.next_out = dst;
        r->zs.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
        int rc = inflate(&r->zs, Z_NO_FLUSH);
        r->raw_pos = r->raw_len - r->zs.avail_in;
        *got = (size_t)(r->zs.next_out - dst);
        if (rc == Z_STREAM_END) {
            r->zs_member_done = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            snprintf(errmsg, errlen, "gzip input is corrupt: %s",
                     r->zs.msg ? r->zs.msg : "inflate failed");
            return SL_FORMAT;
        }
    }
    return SL_OK;
}

static sl_err read_zstd(sl_reader *r, uint8_t *dst, size_t n, size_t *got, char *errmsg,
                        size_t errlen)
{
    *got = 0;
    while (*got == 0) {
        sl_err err = fill_raw(r, errmsg, errlen);
        if (err)
            return err;
        if (r->raw_pos == r->raw_len && r->raw_eof) {
            if (!r->zstd_frame_done) {
                snprintf(errmsg, errlen, "zstd input is truncated");
                return SL_FORMAT;
            }
            return SL_OK;
        }
        ZSTD_inBuffer in = {r->raw, r->raw_len, r->raw_pos};
        ZSTD_outBuffer o = {dst, n, 0};
        size_t rc = ZSTD_decompressStream(r->zstd, &o, &in);
        if (ZSTD_isError(rc)) {
            snprintf(errmsg, errlen, "zstd input is corrupt: %s", ZSTD_getErrorName(rc));
            return SL_FORMAT;
        }
        r->raw_pos = in.pos;
        *got = o.pos;
        r->zstd_frame_done = rc == 0;
    }
    return SL_OK;
}

sl_err sl_reader_read(sl_reader *r, void *dst, size_t n, size_t *got, char *errmsg,
                      size_t errlen)
{
    if (r->comp == SL_COMP_GZIP)
        return read_gzip(r, dst, n, got, errmsg, errlen);
    if (r->comp == SL_COMP_ZSTD)
        return read_zstd(r, dst, n, got, errmsg, errlen);
    *got = 0;
    sl_err err = fill_raw(r, errmsg, errlen);
    if (err)
        return err;
    size_t k = r->raw_len - r->raw_pos;
    if (k > n)
        k = n;
    memcpy(dst, r->raw + r->raw_pos, k);
    r->raw_pos += k;
    *got = k;
    return SL_OK;
}

sl_compression sl_reader_compression(const sl_reader *r)
{
    return r->comp;
}

uint64_t sl_reader_raw_pos(const sl_reader *r)
{
    return r->raw_total - (r->raw_len - r->raw_pos);
}

int64_t sl_reader_raw_size(const sl_reader *r)
{
    return r->size;
}

void sl_reader_close(sl_reader *r)
{
    if (!r)
        return;
    if (r->zs_init)
        inflateEnd(&r->zs);
    ZSTD_freeDStream(r->zstd);
    if (r->own_fd)
        close(r->fd);
    free(r->raw);
    free(r);
}
