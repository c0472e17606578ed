/* unit_parquet.c: the default unit sink: each unit becomes one Parquet file, written to a staged
 * file, fdatasync'd, then published through a file sink (local directory, S3) under a key made
 * from the stream and the unit's row range, so a repeated commit replaces the same object.
 *
 * Hive partitioning (the unit's partition_cols): the unit's rows are split by the values of
 * those columns into one file per distinct combination, published under
 * ".../col=value/col2=value2/part-SEG-FIRST-LAST.parquet" (every file of the unit carries the
 * unit's range: the same unit replayed gives the same rows per partition, so the same keys).
 * Values are written as Hive does: %XX for control characters, DEL and each of
 * " # % ' * / : = ? \ ^ [ ] { }; __HIVE_DEFAULT_PARTITION__ for null and the empty string. */
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
#include "util/fsutil.h"
#include "util/textfmt.h"

typedef struct {
    sl_unit_sink_factory base;
    sl_file_sink *files;
    char stage_dir[1024];
    sl_pq_opts po;
} pq_factory;

#define MAX_PARTS 256          /* distinct partitions in one unit */
#define PART_PATH_MAX 1024     /* "col=value/..." */
#define PART_ROW_GROUP (8u << 20) /* smaller row groups when many files are open at once */

typedef struct {
    char *dir;       /* "col=value/...", NULL without partitioning */
    sl_pq_writer *pw;
    int fd;
    uint64_t written; /* bytes written to fd */
    uint64_t wb_from; /* write-back asked for up to here */
    char path[1400];  /* staged file */
} part;

/* Early write-back of staged files: every WRITEBACK_BYTES written, the kernel is asked to start
 * writing them out (sync_file_range SYNC_FILE_RANGE_WRITE does not wait), so the disk works
 * while the lane encodes the rest, and the fdatasync before publishing waits only for the last
 * bytes instead of the whole file (a 64 MiB unit's fdatasync was most of `sluice serve`'s
 * drain). Durability still rests on that fdatasync alone. */
#define WRITEBACK_BYTES ((uint64_t)4 << 20)

typedef struct {
    sl_unit_sink base;
    pq_factory *f;
    char *stream;
    const sl_schema *schema;
    sl_unit u;
    size_t pcols[SL_MAX_PARTITION];
    part parts[MAX_PARTS];
    size_t nparts;
    /* row splitting scratch */
    uint16_t *row_part;
    size_t row_cap;
    uint32_t *sel;
    sl_batch *gather;
} pq_sink;

static sl_err fd_write(void *ctx, const void *p, size_t n)
{
    part *pt = ctx;
    sl_err err = sl_write_all(pt->fd, p, n);
    if (err)
        return err;
    pt->written += n;
    sl_writeback_after(pt->fd, &pt->wb_from, pt->written, WRITEBACK_BYTES);
    return SL_OK;
}

static void io_error(sl_sink_error *e, const char *what, const char *path, int errnum)
{
    snprintf(e->message, sizeof(e->message), "%s %.300s: %s", what, path, strerror(errnum));
    snprintf(e->hint, sizeof(e->hint), "%s",
             errnum == ENOSPC ? "free space in the data directory (staged files live there)"
                              : "check the data directory's file system");
    e->retryable = true;
}

static void part_drop(part *pt)
{
    sl_pq_writer_destroy(pt->pw);
    pt->pw = NULL;
    if (pt->fd >= 0) {
        close(pt->fd);
        unlink(pt->path);
        pt->fd = -1;
    }
    free(pt->dir);
    pt->dir = NULL;
}

static void pq_abort(sl_unit_sink *s)
{
    pq_sink *ps = (pq_sink *)s;
    for (size_t i = 0; i < ps->nparts; i++)
        part_drop(&ps->parts[i]);
    ps->nparts = 0;
}

/* A new part (staged file + writer) for partition directory dir (NULL: none). */
static sl_err part_open(pq_sink *ps, const char *dir, size_t dlen, sl_sink_error *e)
{
    if (ps->nparts == MAX_PARTS) {
        snprintf(e->message, sizeof(e->message),
                 "more than %d distinct partitions in one file's rows", MAX_PARTS);
        snprintf(e->hint, sizeof(e->hint), "partition by a column with fewer distinct values, "
                 "or lower BATCH_SIZE / SLUICE_FLUSH_INTERVAL");
        e->retryable = false;
        return SL_FULL;
    }
    part *pt = &ps->parts[ps->nparts];
    memset(pt, 0, sizeof(*pt));
    pt->fd = -1;
    if (dir) {
        pt->dir = malloc(dlen + 1);
        if (!pt->dir)
            return SL_NOMEM;
        memcpy(pt->dir, dir, dlen);
        pt->dir[dlen] = '\0';
    }
    snprintf(pt->path, sizeof(pt->path), "%s/%s-%012" PRIu64 "-%zu.parquet.tmp",
             ps->f->stage_dir, ps->stream, ps->u.row0, ps->nparts);
    ps->nparts++;
    pt->fd = open(pt->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (pt->fd < 0) {
        int saved = errno;
        io_error(e, "creating the staged file", pt->path, saved);
        return saved == ENOSPC ? SL_NOSPACE : SL_IO;
    }
    sl_pq_opts po = ps->f->po;
    if (ps->u.npartition && po.row_group_bytes > PART_ROW_GROUP)
        po.row_group_bytes = PART_ROW_GROUP;
    if (ps->u.npartition)
        po.threads = 1; /* up to MAX_PARTS writers at once: no encoder pool each */
    sl_output o = {fd_write, pt};
    sl_err err = sl_pq_writer_create(ps->schema, &po, o, &pt->pw);
    if (err)
        snprintf(e->message, sizeof(e->message), "cannot start a Parquet file: %s",
                 sl_strerror(err));
    return err;
}

static sl_err pq_begin(sl_unit_sink *s, const sl_unit *u, sl_sink_error *e)
{
    pq_sink *ps = (pq_sink *)s;
    pq_abort(s);
    ps->u = *u;
    ps->u.stream = ps->stream;
    ps->u.npartition = u->npartition < SL_MAX_PARTITION ? u->npartition : SL_MAX_PARTITION;
    for (size_t i = 0; i < ps->u.npartition; i++)
        ps->pcols[i] = u->partition_cols[i];
    ps->u.partition_cols = ps->pcols;
    return ps->u.npartition ? SL_OK : part_open(ps, NULL, 0, e);
}

/* ---- partition values ---------------------------------------------------------------------- */

static bool hive_escaped(uint8_t c)
{
    return c < 0x20 || c == 0x7f || strchr("\"#%'*/:=?\\^[]{}", c) != NULL;
}

/* Appends "name=value" of column c at row r to out; false if it does not fit. */
static bool part_value(const sl_schema *schema, const sl_batch *b, size_t c, size_t r, char *out,
                       size_t *used, size_t cap)
{
    const sl_column *col = &b->cols[c];
    const sl_field *f = &schema->fields[c];
    char tmp[SL_TIMESTAMP_TEXT_MAX + SL_DECIMAL_TEXT_MAX];
    const uint8_t *v = NULL;
    size_t n = 0;
    if (col->valid && !col->valid[r]) {
        v = (const uint8_t *)"";
    } else {
        switch (f->type.id) {
        case SL_TYPE_BOOL:
            n = (size_t)snprintf(tmp, sizeof(tmp), "%s", col->data[r] ? "true" : "false");
            break;
        case SL_TYPE_INT32: {
            int32_t x;
            memcpy(&x, col->data + 4 * r, 4);
            n = (size_t)snprintf(tmp, sizeof(tmp), "%" PRId32, x);
            break;
        }
        case SL_TYPE_DATE: {
            int32_t x;
            memcpy(&x, col->data + 4 * r, 4);
            n = sl_format_date(x, tmp);
            break;
        }
        case SL_TYPE_INT64: {
            int64_t x;
            memcpy(&x, col->data + 8 * r, 8);
            n = (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, x);
            break;
        }
        case SL_TYPE_TIMESTAMP: {
            int64_t x;
            memcpy(&x, col->data + 8 * r, 8);
            n = sl_format_timestamp(x, f->type.unit, f->type.utc, tmp);
            break;
        }
        case SL_TYPE_DECIMAL:
            n = sl_format_decimal(sl_col_decimal_at(col, r), f->type.scale, tmp);
            break;
        default: /* strings (other types are refused when the stream is defined) */
            v = col->bytes + col->offsets[r];
            n = col->offsets[r + 1] - col->offsets[r];
            break;
        }
        if (!v)
            v = (const uint8_t *)tmp;
    }
    size_t k = *used, nl = strlen(f->name);
    if (k + nl + 2 >= cap)
        return false;
    if (k)
        out[k++] = '/';
    memcpy(out + k, f->name, nl);
    k += nl;
    out[k++] = '=';
    if (!n) {
        static const char dflt[] = "__HIVE_DEFAULT_PARTITION__";
        if (k + sizeof(dflt) >= cap)
            return false;
        memcpy(out + k, dflt, sizeof(dflt) - 1);
        k += sizeof(dflt) - 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (k + 4 >= cap)
            return false;
        if (hive_escaped(v[i])) {
            k += (size_t)snprintf(out + k, 4, "%%%02X", v[i]);
        } else {
            out[k++] = (char)v[i];
        }
    }
    *used = k;
    out[k] = '\0';
    return true;
}

/* Copies rows sel[0..n) of src into dst (same schema, emptied first). */
static sl_err gather_rows(const sl_batch *src, const uint32_t *sel, size_t n, sl_batch *dst)
{
    sl_batch_clear(dst);
    for (size_t c = 0; c < src->ncols; c++) {
        const sl_column *a = &src->cols[c];
        sl_column *d = &dst->cols[c];
        size_t bytes = 0;
        if (!a->width)
            for (size_t i = 0; i < n; i++)
                bytes += a->offsets[sel[i] + 1] - a->offsets[sel[i]];
        sl_err err = sl_col_reserve(d, n, bytes);
        if (err)
            return err;
        for (size_t i = 0; i < n; i++) {
            size_t r = sel[i];
            if (d->valid) {
                d->valid[i] = a->valid ? a->valid[r] : 1;
                d->null_count += !d->valid[i];
            }
            if (a->width) {
                memcpy(d->data + (size_t)a->width * i, a->data + (size_t)a->width * r, a->width);
            } else {
                uint32_t len = a->offsets[r + 1] - a->offsets[r];
                if (len)
                    memcpy(d->bytes + d->bytes_len, a->bytes + a->offsets[r], len);
                d->bytes_len += len;
                d->offsets[i + 1] = (uint32_t)d->bytes_len;
            }
        }
        d->len = n;
    }
    return SL_OK;
}

static sl_err part_write(pq_sink *ps, part *pt, const sl_batch *b, sl_sink_error *e)
{
    sl_err err = sl_pq_writer_write(pt->pw, b);
    if (err) {
        int saved = errno;
        if (err == SL_IO || err == SL_NOSPACE)
            io_error(e, "writing the staged file", pt->path, saved);
        else
            snprintf(e->message, sizeof(e->message), "encoding Parquet failed: %s",
                     sl_strerror(err));
    }
    (void)ps;
    return err;
}

static sl_err pq_rows(sl_unit_sink *s, const sl_batch *b, uint64_t seq, sl_sink_error *e)
{
    (void)seq;
    pq_sink *ps = (pq_sink *)s;
    if (!ps->u.npartition)
        return part_write(ps, &ps->parts[0], b, e);
    size_t n = sl_batch_rows(b);
    if (n > ps->row_cap) {
        uint16_t *rp = realloc(ps->row_part, n * sizeof(*rp));
        uint32_t *sel = rp ? realloc(ps->sel, n * sizeof(*sel)) : NULL;
        if (rp)
            ps->row_part = rp;
        if (!rp || !sel) {
            snprintf(e->message, sizeof(e->message), "out of memory");
            return SL_NOMEM;
        }
        ps->sel = sel;
        ps->row_cap = n;
    }
    if (!ps->gather && sl_batch_create(ps->schema, &ps->gather)) {
        snprintf(e->message, sizeof(e->message), "out of memory");
        return SL_NOMEM;
    }
    /* which part each row goes to (a run of equal values is looked up once) */
    char key[PART_PATH_MAX], prev[PART_PATH_MAX] = "";
    size_t prev_part = SIZE_MAX, first_part = SIZE_MAX;
    bool one = true;
    for (size_t r = 0; r < n; r++) {
        size_t used = 0;
        for (size_t i = 0; i < ps->u.npartition; i++)
            if (!part_value(ps->schema, b, ps->pcols[i], r, key, &used, sizeof(key))) {
                snprintf(e->message, sizeof(e->message),
                         "a partition path is longer than %d bytes (row %zu of a batch)",
                         PART_PATH_MAX, r);
                snprintf(e->hint, sizeof(e->hint), "partition by shorter values");
                e->retryable = false;
                return SL_INVALID;
            }
        size_t p = prev_part;
        if (p == SIZE_MAX || strcmp(key, prev)) {
            for (p = 0; p < ps->nparts && strcmp(ps->parts[p].dir, key); p++)
                ;
            if (p == ps->nparts) {
                sl_err err = part_open(ps, key, used, e);
                if (err)
                    return err;
            }
            memcpy(prev, key, used + 1);
            prev_part = p;
        }
        ps->row_part[r] = (uint16_t)p;
        if (first_part == SIZE_MAX)
            first_part = p;
        one &= p == first_part;
    }
    if (n && one)
        return part_write(ps, &ps->parts[first_part], b, e);
    /* several partitions: each one's rows, in order */
    for (size_t p = 0; p < ps->nparts; p++) {
        size_t k = 0;
        for (size_t r = 0; r < n; r++)
            if (ps->row_part[r] == p)
                ps->sel[k++] = (uint32_t)r;
        if (!k)
            continue;
        sl_err err = gather_rows(b, ps->sel, k, ps->gather);
        if (!err)
            err = part_write(ps, &ps->parts[p], ps->gather, e);
        else
            snprintf(e->message, sizeof(e->message), "out of memory");
        if (err)
            return err;
    }
    return SL_OK;
}

/* Finishes, syncs and publishes one part; the staged file is gone afterwards. */
static sl_err part_commit(pq_sink *ps, part *pt, uint64_t row1, sl_sink_error *e,
                          uint64_t *bytes)
{
    sl_err err = sl_pq_writer_finish(pt->pw);
    sl_pq_writer_destroy(pt->pw);
    pt->pw = NULL;
    if (err) {
        io_error(e, "finishing the staged Parquet file", pt->path, errno);
        return err;
    }
    if (fdatasync(pt->fd)) {
        int saved = errno;
        io_error(e, "syncing the staged Parquet file", pt->path, saved);
        return saved == ENOSPC ? SL_NOSPACE : SL_IO;
    }
    struct stat sb;
    *bytes += fstat(pt->fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    close(pt->fd);
    pt->fd = -1;
    char key[1400];
    sl_obj obj = {SL_OBJ_PARQUET, ps->stream, ps->u.received_us, ps->u.segment, ps->u.row0,
                  row1 - 1, pt->dir};
    err = sl_sink_key(ps->f->files->layout, &obj, key, sizeof(key));
    if (err) {
        snprintf(e->message, sizeof(e->message), "the object key does not fit (layout %.200s)",
                 ps->f->files->layout);
        e->retryable = false;
        unlink(pt->path);
        return err;
    }
    err = ps->f->files->publish(ps->f->files, pt->path, key, e);
    if (err)
        unlink(pt->path);
    return err;
}

static sl_err pq_commit(sl_unit_sink *s, uint64_t row1, uint64_t rej1, sl_sink_error *e)
{
    (void)rej1;
    pq_sink *ps = (pq_sink *)s;
    sl_err err = SL_OK;
    uint64_t bytes = 0;
    for (size_t i = 0; !err && i < ps->nparts; i++) {
        part *pt = &ps->parts[i];
        if (row1 <= ps->u.row0) { /* a unit without rows: nothing to publish */
            part_drop(pt);
            continue;
        }
        err = part_commit(ps, pt, row1, e, &bytes);
    }
    pq_abort(s); /* whatever is left (after an error) */
    s->committed_bytes = bytes;
    return err;
}

static void pq_destroy(sl_unit_sink *s)
{
    pq_sink *ps = (pq_sink *)s;
    pq_abort(s);
    free(ps->row_part);
    free(ps->sel);
    sl_batch_destroy(ps->gather);
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
    ps->base.staged = true; /* a staged file, published at commit */
    ps->base.rejects = NULL; /* the lane's dead-letter files */
    ps->base.commit = pq_commit;
    ps->base.abort = pq_abort;
    ps->base.destroy = pq_destroy;
    ps->f = (pq_factory *)f;
    ps->schema = schema;
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
