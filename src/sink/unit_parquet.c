/* unit_parquet.c: the default unit sink: each unit becomes one Parquet file, written to a staged
 * file, fdatasync'd, then published through a file sink (local directory, S3) under a key made
 * from the stream and the unit's row range, so a repeated commit replaces the same object. */
#include "sink/unit_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

typedef struct {
    sl_unit_sink_factory base;
    sl_file_sink *files;
    char stage_dir[1024];
    sl_pq_opts po;
} pq_factory;

typedef struct {
    sl_unit_sink base;
    pq_factory *f;
    char *stream;
    const sl_schema *schema;
    sl_unit u;
    sl_pq_writer *pw;
    int fd;
    char path[1400];
} pq_sink;

static sl_err fd_write(void *ctx, const void *p, size_t n)
{
    return sl_write_all(*(int *)ctx, p, n);
}

static void io_error(sl_sink_error *e, const char *what, const char *path, int errnum)
{
    snprintf(e->message, sizeof(e->message), "%s %.300s: %s", what, path, strerror(errnum));
    snprintf(e->hint, sizeof(e->hint), "%s",
             errnum == ENOSPC ? "free space in the data directory (staged files live there)"
                              : "check the data directory's file system");
    e->retryable = true;
}

static void pq_abort(sl_unit_sink *s)
{
    pq_sink *ps = (pq_sink *)s;
    sl_pq_writer_destroy(ps->pw);
    ps->pw = NULL;
    if (ps->fd >= 0) {
        close(ps->fd);
        unlink(ps->path);
        ps->fd = -1;
    }
}

static sl_err pq_begin(sl_unit_sink *s, const sl_unit *u, sl_sink_error *e)
{
    pq_sink *ps = (pq_sink *)s;
    pq_abort(s);
    ps->u = *u;
    ps->u.stream = ps->stream;
    snprintf(ps->path, sizeof(ps->path), "%s/%s-%012" PRIu64 ".parquet.tmp", ps->f->stage_dir,
             ps->stream, u->row0);
    ps->fd = open(ps->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ps->fd < 0) {
        int saved = errno;
        io_error(e, "creating the staged file", ps->path, saved);
        return saved == ENOSPC ? SL_NOSPACE : SL_IO;
    }
    sl_output o = {fd_write, &ps->fd};
    sl_err err = sl_pq_writer_create(ps->schema, &ps->f->po, o, &ps->pw);
    if (err)
        snprintf(e->message, sizeof(e->message), "cannot start a Parquet file: %s",
                 sl_strerror(err));
    return err;
}

static sl_err pq_rows(sl_unit_sink *s, const sl_batch *b, uint64_t seq, sl_sink_error *e)
{
    (void)seq;
    pq_sink *ps = (pq_sink *)s;
    sl_err err = sl_pq_writer_write(ps->pw, b);
    if (err) {
        int saved = errno;
        if (err == SL_IO || err == SL_NOSPACE)
            io_error(e, "writing the staged file", ps->path, saved);
        else
            snprintf(e->message, sizeof(e->message), "encoding Parquet failed: %s",
                     sl_strerror(err));
    }
    return err;
}

static sl_err pq_commit(sl_unit_sink *s, uint64_t row1, uint64_t rej1, sl_sink_error *e)
{
    (void)rej1;
    pq_sink *ps = (pq_sink *)s;
    if (!ps->pw)
        return SL_OK; /* nothing begun */
    sl_err err = sl_pq_writer_finish(ps->pw);
    sl_pq_writer_destroy(ps->pw);
    ps->pw = NULL;
    if (err) {
        int saved = errno;
        io_error(e, "finishing the staged Parquet file", ps->path, saved);
        pq_abort(s);
        return err;
    }
    if (fdatasync(ps->fd)) {
        int saved = errno;
        io_error(e, "syncing the staged Parquet file", ps->path, saved);
        pq_abort(s);
        return saved == ENOSPC ? SL_NOSPACE : SL_IO;
    }
    struct stat sb;
    s->committed_bytes = fstat(ps->fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    close(ps->fd);
    ps->fd = -1;
    if (row1 <= ps->u.row0) { /* a unit without rows: nothing to publish */
        unlink(ps->path);
        return SL_OK;
    }
    char key[1400];
    sl_obj obj = {SL_OBJ_PARQUET, ps->stream, ps->u.received_us, ps->u.segment, ps->u.row0,
                  row1 - 1, NULL};
    err = sl_sink_key(ps->f->files->layout, &obj, key, sizeof(key));
    if (err) {
        snprintf(e->message, sizeof(e->message), "the object key does not fit (layout %.200s)",
                 ps->f->files->layout);
        e->retryable = false;
    } else {
        err = ps->f->files->publish(ps->f->files, ps->path, key, e);
    }
    if (err)
        unlink(ps->path);
    return err;
}

static void pq_destroy(sl_unit_sink *s)
{
    pq_sink *ps = (pq_sink *)s;
    pq_abort(s);
    free(ps->stream);
    free(ps);
}

static sl_err pq_create(sl_unit_sink_factory *f, const char *stream, const sl_schema *schema,
                        sl_unit_sink **out, sl_sink_error *e)
{
    pq_sink *ps = calloc(1, sizeof(*ps));
    if (ps)
        ps->stream = strdup(stream);
    if (!ps || !ps->stream) {
        free(ps);
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    ps->base.kind = ((pq_factory *)f)->files->kind;
    ps->base.begin = pq_begin;
    ps->base.rows = pq_rows;
    ps->base.rejects = NULL; /* the lane's dead-letter files */
    ps->base.commit = pq_commit;
    ps->base.abort = pq_abort;
    ps->base.destroy = pq_destroy;
    ps->f = (pq_factory *)f;
    ps->schema = schema;
    ps->fd = -1;
    *out = &ps->base;
    return SL_OK;
}

static sl_err pq_check(sl_unit_sink_factory *f, sl_sink_error *e)
{
    sl_file_sink *files = ((pq_factory *)f)->files;
    return files->check ? files->check(files, e) : SL_OK;
}

static void pq_factory_destroy(sl_unit_sink_factory *f)
{
    free(f);
}

sl_unit_sink_factory *sl_unit_parquet_factory(sl_file_sink *files, const char *stage_dir,
                                              const sl_pq_opts *po)
{
    pq_factory *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->base.kind = files->kind;
    f->base.create = pq_create;
    f->base.check = pq_check;
    f->base.destroy = pq_factory_destroy;
    f->files = files;
    f->po = *po;
    snprintf(f->stage_dir, sizeof(f->stage_dir), "%s", stage_dir);
    return &f->base;
}
