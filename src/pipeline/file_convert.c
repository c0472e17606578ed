/* file_convert.c: `sluice convert`: a file (or stdin) of CSV or JSON Lines into Parquet,
 * NDJSON or CSV, on all cores, in bounded memory.
 *
 * Design
 *   reader (one thread)  -> chunks of ~chunk_bytes cut at record boundaries (CSV: quote-aware
 *                           sl_csv_split; JSON Lines: the last newline), numbered in order,
 *                           each with the line number it starts at
 *   workers (N threads)  -> parse a chunk into row blocks and convert them into one sl_batch,
 *                           collecting rejected rows (NDJSON lines + the first few for the report)
 *   writer (caller)      -> takes chunks strictly in order: applies the error policy, appends
 *                           rejects, encodes the batch (Parquet writer with its own column pool,
 *                           or NDJSON/CSV text), reports progress.
 *   With one thread everything runs inline on the caller. Chunk boundaries depend only on the
 *   data and chunk_bytes, and batches are written in chunk order, so the output is the same
 *   whatever the thread count.
 *
 * Memory: at most `window` chunks exist at once (raw bytes + their batch), plus the Parquet
 *   writer's current row group. window = 2 * threads + 1.
 *
 * Failure: any error (a bad row under SL_ON_ERROR_FAIL, I/O, a corrupt compressed stream) sets
 *   `stop`; the reader stops reading, workers skip remaining chunks, and the output file (written
 *   as OUT.sluice-tmp-PID) is removed. On success it is renamed over OUT.
 *
 * Lock order: cv->mu only (a leaf); the reader and workers never hold it while parsing.
 */
#define _GNU_SOURCE /* memrchr */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "encode/text_out.h"
#include "parse/convert.h"
#include "parse/csv.h"
#include "parse/infer.h"
#include "parse/json.h"
#include "parse/parquet_read.h"
#include "sluice.h"
#include "source/file_reader.h"
#include "util/buf.h"
#include "util/queue.h"

#define MIB ((size_t)1 << 20)
#define BLOCK_ROWS 4096

typedef struct chunk {
    struct chunk *next_free;
    uint64_t seq;
    sl_buf buf;       /* the chunk's bytes (buf.len of them); reused with the chunk */
    uint64_t first_line;
    bool done;        /* set by the worker under cv->mu */
    sl_batch *batch;
    sl_buf rejects;   /* NDJSON lines for the rejects file */
    uint64_t rows_in, rows_rejected;
    sl_convert_error *errs; /* first max_error_lines rejects of this chunk */
    size_t nerrs;
    sl_err err;
    char errmsg[256];
} chunk;

typedef struct conv conv;

typedef struct worker {
    conv *cv;
    pthread_t tid;
    sl_converter *converter;
    sl_rowblock blk;
    sl_csv *csv;  /* reused from chunk to chunk (reset) */
    sl_json *json;
    chunk *cur; /* chunk being converted, for the reject callback */
} worker;

struct conv {
    const sl_convert_opts *o;
    sl_convert_result *res;
    sl_format in_fmt, out_fmt;
    sl_schema *schema;        /* owned (copy or inferred) */
    size_t ncells;            /* cells per row: CSV fields / schema columns */
    int32_t *field_map;       /* CSV: schema col -> field */
    char **names;             /* JSON: column names (schema order) */
    sl_csv_opts csv;
    sl_json_opts json;
    sl_converter_opts copts;

    sl_reader *reader;
    sl_buf pending;           /* read but not yet chunked */
    bool input_eof;
    uint64_t next_seq;
    uint64_t next_line;

    int threads;
    size_t window;
    worker *workers;
    sl_queue work;
    pthread_mutex_t mu;
    pthread_cond_t cond;      /* chunk done / window space */
    chunk **slots;            /* window ring, by seq % window */
    uint64_t written;         /* chunks written (next seq to write) */
    uint64_t dispatched;
    pthread_t reader_tid;
    bool reader_started;
    atomic_bool stop;
    sl_err reader_err;
    char reader_msg[256];
    bool reader_done;
    chunk *free_chunks;       /* recycled chunks: buffers and batches kept (under mu) */

    /* output */
    int out_fd;
    char *tmp_path;
    sl_pq_writer *pq;
    sl_buf text;
    int rej_fd;
    atomic_uint_fast64_t raw_pos;

    struct timespec t0, last_progress;
    sl_convert_progress prog;
};

static double now_s(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static sl_err set_msg(sl_convert_result *res, sl_err err, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first failure (the reader thread and the writer may both fail). */
static sl_err set_msg(sl_convert_result *res, sl_err err, const char *hint, const char *fmt, ...)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    if (!res->message[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->message, sizeof(res->message), fmt, ap);
        va_end(ap);
        if (hint)
            snprintf(res->hint, sizeof(res->hint), "%s", hint);
    }
    pthread_mutex_unlock(&mu);
    return err;
}

void sl_convert_opts_default(sl_convert_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->infer_rows = 10000;
    o->delimiter = ',';
    o->quote = '"';
    o->header = true;
    sl_pq_opts_default(&o->parquet);
    o->on_error = SL_ON_ERROR_FAIL;
    o->max_error_lines = 20;
    o->chunk_bytes = 4 * MIB;
}

void sl_convert_result_release(sl_convert_result *res)
{
    free(res->errors);
    res->errors = NULL;
    res->nerrors = 0;
}

/* ---- formats ---------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcasecmp(s + a - b, suffix);
}

/* Format from a file name, ignoring .gz/.zst/.zstd suffixes. */
static sl_format format_of_name(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    static const char *const comp[] = {".gz", ".gzip", ".zst", ".zstd"};
    for (size_t i = 0; i < 4; i++)
        if (ends_with(tmp, comp[i])) {
            tmp[strlen(tmp) - strlen(comp[i])] = 0;
            break;
        }
    if (ends_with(tmp, ".csv") || ends_with(tmp, ".tsv") || ends_with(tmp, ".txt"))
        return SL_FMT_CSV;
    if (ends_with(tmp, ".jsonl") || ends_with(tmp, ".ndjson") || ends_with(tmp, ".json"))
        return SL_FMT_JSONL;
    if (ends_with(tmp, ".parquet") || ends_with(tmp, ".pq"))
        return SL_FMT_PARQUET;
    return SL_FMT_AUTO;
}

/* ---- reading and chunking ---------------------------------------------------------------- */

static sl_err read_more(conv *cv, size_t want)
{
    char msg[200];
    sl_err err = sl_buf_reserve(&cv->pending, want);
    if (err)
        return set_msg(cv->res, err, NULL, "out of memory reading input");
    size_t got;
    err = sl_reader_read(cv->reader, cv->pending.ptr + cv->pending.len, want, &got, msg,
                         sizeof(msg));
    if (err)
        return set_msg(cv->res, err, "check that the input file is complete", "%s: %s",
                       cv->o->input, msg);
    cv->pending.len += got;
    if (got == 0)
        cv->input_eof = true;
    atomic_store_explicit(&cv->raw_pos, sl_reader_raw_pos(cv->reader), memory_order_relaxed);
    return SL_OK;
}

static uint64_t count_newlines(const uint8_t *p, size_t n)
{
    uint64_t k = 0;
    const uint8_t *end = p + n;
    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        k++;
        p++;
    }
    return k;
}

/* A chunk from the free list (its buffers and batch are kept for reuse), or a new one. */
static chunk *chunk_get(conv *cv)
{
    pthread_mutex_lock(&cv->mu);
    chunk *c = cv->free_chunks;
    if (c)
        cv->free_chunks = c->next_free;
    pthread_mutex_unlock(&cv->mu);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return NULL;
        sl_buf_init(&c->buf, 0);
        sl_buf_init(&c->rejects, 0);
    }
    c->next_free = NULL;
    c->buf.len = 0;
    c->done = false;
    c->rejects.len = 0;
    c->rows_in = c->rows_rejected = 0;
    c->nerrs = 0;
    c->err = SL_OK;
    c->errmsg[0] = 0;
    if (c->batch)
        sl_batch_clear(c->batch);
    return c;
}

static void chunk_put(conv *cv, chunk *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cv->mu);
    c->next_free = cv->free_chunks;
    cv->free_chunks = c;
    pthread_mutex_unlock(&cv->mu);
}

/* Cuts the next chunk off `pending`; NULL with *err = SL_OK at the end of input. */
static chunk *next_chunk(conv *cv, sl_err *err)
{
    *err = SL_OK;
    size_t target = cv->o->chunk_bytes;
    size_t limit = target + 2 * cv->csv.max_record; /* a record longer than this is fatal */
    for (;;) {
        while (cv->pending.len < target && !cv->input_eof)
            if ((*err = read_more(cv, target - cv->pending.len)))
                return NULL;
        if (cv->pending.len == 0 && cv->input_eof)
            return NULL;
        size_t cut;
        uint64_t nl = 0;
        if (cv->input_eof) {
            cut = cv->pending.len;
            nl = count_newlines(cv->pending.ptr, cut);
        } else if (cv->in_fmt == SL_FMT_CSV) {
            /* a byte order mark is skipped only at the very start of the input */
            size_t bom = cv->next_seq == 0 ? sl_csv_bom_len(cv->pending.ptr, cv->pending.len) : 0;
            cut = sl_csv_split(&cv->csv, cv->pending.ptr + bom, cv->pending.len - bom, &nl);
            if (cut)
                cut += bom;
        } else {
            const uint8_t *p = memrchr(cv->pending.ptr, '\n', cv->pending.len);
            cut = p ? (size_t)(p - cv->pending.ptr) + 1 : 0;
            nl = count_newlines(cv->pending.ptr, cut);
        }
        if (cut == 0) {
            if (cv->pending.len >= limit) {
                *err = set_msg(cv->res, SL_FORMAT,
                               cv->in_fmt == SL_FMT_CSV
                                   ? "look for an unterminated quote near that line, or raise --max-record"
                                   : "JSON Lines needs one record per line; raise --max-record for longer ones",
                               "a record starting at line %llu is longer than %zu bytes",
                               (unsigned long long)cv->next_line, cv->csv.max_record);
                return NULL;
            }
            target = cv->pending.len + cv->o->chunk_bytes;
            continue;
        }
        chunk *c = chunk_get(cv);
        if (!c || (*err = sl_buf_reserve(&c->buf, target + (cv->pending.len - cut)))) {
            chunk_put(cv, c);
            *err = set_msg(cv->res, SL_NOMEM, NULL, "out of memory");
            return NULL;
        }
        /* the chunk takes the pending bytes; the unfinished record moves to the chunk's old
         * buffer, which becomes the new pending buffer (no copy of the chunk itself) */
        memcpy(c->buf.ptr, cv->pending.ptr + cut, cv->pending.len - cut);
        sl_buf tmp = cv->pending;
        cv->pending = c->buf;
        cv->pending.len = tmp.len - cut;
        c->buf = tmp;
        c->buf.len = cut;
        c->seq = cv->next_seq++;
        c->first_line = cv->next_line;
        cv->next_line += nl;
        return c;
    }
}

static void chunk_free(chunk *c)
{
    if (!c)
        return;
    sl_buf_release(&c->buf);
    sl_batch_destroy(c->batch);
    sl_buf_release(&c->rejects);
    free(c->errs);
    free(c);
}

/* ---- parsing a chunk ---------------------------------------------------------------------- */

static sl_err on_reject(void *ctx, const sl_reject *rej)
{
    worker *wk = ctx;
    chunk *c = wk->cur;
    const sl_convert_opts *o = wk->cv->o;
    c->rows_rejected++;
    if (o->on_error == SL_ON_ERROR_REJECTS) {
        sl_err err = sl_reject_format_ndjson(&c->rejects, rej);
        if (err)
            return err;
    }
    size_t keep = o->on_error == SL_ON_ERROR_FAIL ? 1 : o->max_error_lines;
    if (c->nerrs < keep) {
        if (!c->errs) {
            c->errs = calloc(keep, sizeof(*c->errs));
            if (!c->errs)
                return SL_NOMEM;
        }
        sl_convert_error *e = &c->errs[c->nerrs++];
        e->line = rej->line;
        snprintf(e->column, sizeof(e->column), "%s", rej->field ? rej->field : "");
        snprintf(e->code, sizeof(e->code), "%s", sl_row_code_name(rej->code));
        if (rej->detail && rej->detail[0])
            snprintf(e->message, sizeof(e->message), "%s: %s", rej->message, rej->detail);
        else
            snprintf(e->message, sizeof(e->message), "%s", rej->message);
        if (!rej->field && rej->column)
            snprintf(e->column, sizeof(e->column), "#%u", rej->column);
    }
    return SL_OK;
}

static void process_chunk(worker *wk, chunk *c)
{
    conv *cv = wk->cv;
    sl_err err = SL_OK;
    sl_csv *csv = wk->csv;
    sl_json *json = wk->json;
    wk->cur = c;
    if (!c->batch && (err = sl_batch_create(cv->schema, &c->batch)))
        goto out;
    if (csv) {
        sl_csv_reset(csv, cv->csv.header && c->seq == 0);
        sl_csv_set_first_line(csv, c->first_line);
        if ((err = sl_csv_feed(csv, c->buf.ptr, c->buf.len)))
            goto out;
        sl_csv_end_input(csv);
    } else {
        sl_json_reset(json);
        sl_json_set_first_line(json, c->first_line);
        if ((err = sl_json_feed(json, c->buf.ptr, c->buf.len)))
            goto out;
    }
    for (;;) {
        sl_rowblock_clear(&wk->blk);
        err = csv ? sl_csv_next(csv, true, &wk->blk) : sl_json_next(json, true, &wk->blk);
        if (err) {
            if (csv)
                snprintf(c->errmsg, sizeof(c->errmsg), "%s", sl_csv_errmsg(csv));
            goto out;
        }
        if (wk->blk.nrows == 0)
            break;
        c->rows_in += wk->blk.nrows;
        if ((err = sl_convert_block(wk->converter, &wk->blk, c->batch, NULL)))
            goto out;
        if (cv->o->on_error == SL_ON_ERROR_FAIL && c->rows_rejected)
            break; /* the writer fails on it; no need to go on */
    }
out:
    c->err = err;
    wk->cur = NULL;
}

static sl_err worker_init(conv *cv, worker *wk)
{
    wk->cv = cv;
    sl_converter_opts co = cv->copts;
    co.on_reject = on_reject;
    co.reject_ctx = wk;
    sl_err err = sl_converter_create(cv->schema, &co, &wk->converter);
    if (!err)
        err = sl_rowblock_init(&wk->blk, cv->ncells, BLOCK_ROWS);
    if (!err && cv->in_fmt == SL_FMT_CSV)
        err = sl_csv_create(&cv->csv, &wk->csv);
    else if (!err)
        err = sl_json_create(&cv->json, (const char *const *)cv->names, cv->ncells, &wk->json);
    return err;
}

static void worker_release(worker *wk)
{
    sl_converter_destroy(wk->converter);
    sl_rowblock_release(&wk->blk);
    sl_csv_destroy(wk->csv);
    sl_json_destroy(wk->json);
}

/* ---- output ------------------------------------------------------------------------------- */

static sl_err out_write(void *ctx, const void *p, size_t n)
{
    conv *cv = ctx;
    sl_err err = sl_write_all(cv->out_fd, p, n);
    if (!err)
        cv->prog.bytes_out += n;
    return err;
}

static sl_err open_output(conv *cv)
{
    const sl_convert_opts *o = cv->o;
    if (!strcmp(o->output, "-")) {
        cv->out_fd = 1;
    } else {
        size_t n = strlen(o->output) + 64;
        cv->tmp_path = malloc(n);
        if (!cv->tmp_path)
            return set_msg(cv->res, SL_NOMEM, NULL, "out of memory");
        snprintf(cv->tmp_path, n, "%s.sluice-tmp-%ld", o->output, (long)getpid());
        cv->out_fd = open(cv->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (cv->out_fd < 0)
            return set_msg(cv->res, SL_IO, "check that the output directory exists and is writable",
                           "cannot create %s: %s", o->output, strerror(errno));
    }
    if (cv->out_fmt == SL_FMT_PARQUET) {
        sl_pq_opts po = o->parquet;
        po.threads = cv->threads;
        sl_output out = {out_write, cv};
        sl_err err = sl_pq_writer_create(cv->schema, &po, out, &cv->pq);
        if (err)
            return set_msg(cv->res, err, NULL, "cannot start the Parquet writer: %s",
                           sl_strerror(err));
    } else if (cv->out_fmt == SL_FMT_CSV) {
        sl_err err = sl_csv_encode_header(cv->schema, o->delimiter ? o->delimiter : ',', &cv->text);
        if (!err)
            err = out_write(cv, cv->text.ptr, cv->text.len);
        cv->text.len = 0;
        if (err)
            return set_msg(cv->res, err, NULL, "writing %s: %s", o->output, sl_strerror(err));
    }
    if (o->on_error == SL_ON_ERROR_REJECTS) {
        cv->rej_fd = open(o->rejects_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (cv->rej_fd < 0)
            return set_msg(cv->res, SL_IO, NULL, "cannot create rejects file %s: %s",
                           o->rejects_path, strerror(errno));
    }
    return SL_OK;
}

static void keep_errors(conv *cv, const chunk *c)
{
    sl_convert_result *res = cv->res;
    size_t max = cv->o->max_error_lines;
    for (size_t i = 0; i < c->nerrs && res->nerrors < max; i++) {
        if (!res->errors) {
            res->errors = calloc(max, sizeof(*res->errors));
            if (!res->errors)
                return;
        }
        res->errors[res->nerrors++] = c->errs[i];
    }
}

static void report_progress(conv *cv, bool force)
{
    if (!cv->o->progress)
        return;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double since = (double)(t.tv_sec - cv->last_progress.tv_sec) +
                   (double)(t.tv_nsec - cv->last_progress.tv_nsec) / 1e9;
    if (!force && since < 0.25)
        return;
    cv->last_progress = t;
    cv->prog.bytes_in = atomic_load_explicit(&cv->raw_pos, memory_order_relaxed);
    cv->prog.seconds = now_s(&cv->t0);
    cv->o->progress(cv->o->progress_ctx, &cv->prog);
}

/* Writes one converted chunk (in order). */
static sl_err write_chunk(conv *cv, chunk *c)
{
    const sl_convert_opts *o = cv->o;
    sl_err err;
    if (o->cancelled && o->cancelled(o->progress_ctx))
        return set_msg(cv->res, SL_STATE, NULL, "cancelled");
    if (c->err)
        return set_msg(cv->res, c->err, NULL, "parsing input near line %llu: %s",
                       (unsigned long long)c->first_line,
                       c->errmsg[0] ? c->errmsg : sl_strerror(c->err));
    cv->prog.rows_in += c->rows_in;
    cv->prog.rows_rejected += c->rows_rejected;
    keep_errors(cv, c);
    if (c->rows_rejected && o->on_error == SL_ON_ERROR_FAIL) {
        const sl_convert_error *e = &c->errs[0];
        return set_msg(cv->res, SL_FORMAT,
                       "fix the row, or run with --on-error skip or --rejects FILE to set bad rows aside",
                       "line %llu%s%s: %s", (unsigned long long)e->line,
                       e->column[0] ? ", column " : "", e->column, e->message);
    }
    if (c->rejects.len) {
        if ((err = sl_write_all(cv->rej_fd, c->rejects.ptr, c->rejects.len)))
            return set_msg(cv->res, err, NULL, "writing rejects file %s: %s", o->rejects_path,
                           strerror(errno));
    }
    size_t rows = sl_batch_rows(c->batch);
    if (rows) {
        if (cv->pq) {
            err = sl_pq_writer_write(cv->pq, c->batch);
            if (err)
                return set_msg(cv->res, err, NULL, "writing %s: %s", o->output,
                               sl_pq_writer_errmsg(cv->pq));
        } else {
            cv->text.len = 0;
            err = cv->out_fmt == SL_FMT_CSV
                      ? sl_csv_encode(c->batch, 0, rows, o->delimiter ? o->delimiter : ',', &cv->text)
                      : sl_ndjson_encode(c->batch, 0, rows, &cv->text);
            if (!err)
                err = out_write(cv, cv->text.ptr, cv->text.len);
            if (err)
                return set_msg(cv->res, err, NULL, "writing %s: %s", o->output, sl_strerror(err));
        }
    }
    cv->prog.rows_out += rows;
    report_progress(cv, false);
    return SL_OK;
}

/* ---- threads ------------------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    worker *wk = arg;
    conv *cv = wk->cv;
    void *item;
    while (sl_queue_pop(&cv->work, &item)) {
        chunk *c = item;
        if (!atomic_load(&cv->stop))
            process_chunk(wk, c);
        pthread_mutex_lock(&cv->mu);
        c->done = true;
        pthread_cond_broadcast(&cv->cond);
        pthread_mutex_unlock(&cv->mu);
    }
    return NULL;
}

static void *reader_main(void *arg)
{
    conv *cv = arg;
    sl_err err = SL_OK;
    while (!atomic_load(&cv->stop)) {
        chunk *c = next_chunk(cv, &err);
        if (!c)
            break;
        pthread_mutex_lock(&cv->mu);
        while (c->seq - cv->written >= cv->window && !atomic_load(&cv->stop))
            pthread_cond_wait(&cv->cond, &cv->mu);
        cv->slots[c->seq % cv->window] = c;
        cv->dispatched = c->seq + 1;
        pthread_cond_broadcast(&cv->cond);
        pthread_mutex_unlock(&cv->mu);
        if (sl_queue_push(&cv->work, c)) {
            /* closed: stopping; the writer frees what is in the slots */
            break;
        }
    }
    pthread_mutex_lock(&cv->mu);
    cv->reader_err = err;
    cv->reader_done = true;
    pthread_cond_broadcast(&cv->cond);
    pthread_mutex_unlock(&cv->mu);
    return NULL;
}

static sl_err run_threaded(conv *cv)
{
    sl_err err = SL_OK;
    int n = cv->threads;
    cv->window = (size_t)n * 2 + 1;
    cv->slots = calloc(cv->window, sizeof(*cv->slots));
    cv->workers = calloc((size_t)n, sizeof(*cv->workers));
    if (!cv->slots || !cv->workers)
        return set_msg(cv->res, SL_NOMEM, NULL, "out of memory");
    if ((err = sl_queue_init(&cv->work, cv->window)))
        return set_msg(cv->res, err, NULL, "out of memory");
    int started = 0;
    for (; started < n; started++) {
        if ((err = worker_init(cv, &cv->workers[started]))) {
            worker_release(&cv->workers[started]);
            break;
        }
        if (pthread_create(&cv->workers[started].tid, NULL, worker_main, &cv->workers[started])) {
            worker_release(&cv->workers[started]);
            err = SL_NOMEM;
            break;
        }
    }
    if (!err && pthread_create(&cv->reader_tid, NULL, reader_main, cv))
        err = SL_NOMEM;
    else if (!err)
        cv->reader_started = true;
    if (err)
        set_msg(cv->res, err, NULL, "cannot start threads: %s", sl_strerror(err));

    /* writer: the caller's thread */
    while (!err) {
        pthread_mutex_lock(&cv->mu);
        chunk *c;
        for (;;) {
            c = cv->written < cv->dispatched ? cv->slots[cv->written % cv->window] : NULL;
            if (c && c->done)
                break;
            if (!c && cv->reader_done && cv->written >= cv->dispatched)
                break;
            pthread_cond_wait(&cv->cond, &cv->mu);
        }
        if (!c) {
            err = cv->reader_err;
            pthread_mutex_unlock(&cv->mu);
            break;
        }
        pthread_mutex_unlock(&cv->mu);
        err = write_chunk(cv, c);
        pthread_mutex_lock(&cv->mu);
        cv->slots[cv->written % cv->window] = NULL;
        cv->written++;
        c->next_free = cv->free_chunks;
        cv->free_chunks = c;
        pthread_cond_broadcast(&cv->cond);
        pthread_mutex_unlock(&cv->mu);
    }
    if (err)
        atomic_store(&cv->stop, true);
    sl_queue_close(&cv->work);
    pthread_mutex_lock(&cv->mu);
    pthread_cond_broadcast(&cv->cond);
    pthread_mutex_unlock(&cv->mu);
    if (cv->reader_started)
        pthread_join(cv->reader_tid, NULL);
    for (int i = 0; i < started; i++) {
        pthread_join(cv->workers[i].tid, NULL);
        worker_release(&cv->workers[i]);
    }
    /* chunks dispatched but not written (on failure) */
    for (size_t i = 0; i < cv->window; i++)
        chunk_free(cv->slots[i]);
    void *item;
    while (sl_queue_pop(&cv->work, &item))
        ; /* already freed via slots */
    sl_queue_release(&cv->work);
    return err;
}

static sl_err run_inline(conv *cv)
{
    worker wk;
    memset(&wk, 0, sizeof(wk));
    sl_err err = worker_init(cv, &wk);
    if (err) {
        worker_release(&wk);
        return set_msg(cv->res, err, NULL, "cannot start: %s", sl_strerror(err));
    }
    for (;;) {
        chunk *c = next_chunk(cv, &err);
        if (!c)
            break;
        process_chunk(&wk, c);
        err = write_chunk(cv, c);
        chunk_put(cv, c);
        if (err)
            break;
    }
    worker_release(&wk);
    return err;
}

/* ---- schema ------------------------------------------------------------------------------- */

static sl_err copy_schema(const sl_schema *s, sl_schema **out)
{
    sl_err err = sl_schema_create(out);
    for (size_t i = 0; !err && i < s->nfields; i++)
        err = sl_schema_add(*out, s->fields[i].name, s->fields[i].type, s->fields[i].nullable);
    return err;
}

/* Parses the sample (the start of `pending`) with `parse` into blocks fed to `inf`. */
static sl_err infer_sample(conv *cv, sl_infer *inf, sl_csv *csv, sl_json *json)
{
    sl_rowblock blk;
    sl_err err = sl_rowblock_init(&blk, cv->ncells, BLOCK_ROWS);
    size_t rows = 0;
    while (!err && rows < cv->o->infer_rows) {
        sl_rowblock_clear(&blk);
        err = csv ? sl_csv_next(csv, true, &blk) : sl_json_next(json, true, &blk);
        if (err || blk.nrows == 0)
            break;
        if (blk.nrows > cv->o->infer_rows - rows)
            blk.nrows = cv->o->infer_rows - rows;
        rows += blk.nrows;
        err = sl_infer_feed(inf, &blk);
    }
    sl_rowblock_release(&blk);
    return err;
}

/* Reads the first chunk's worth of input and settles the schema, the CSV field map or the
 * JSON column names. */
static sl_err prepare_schema(conv *cv)
{
    const sl_convert_opts *o = cv->o;
    sl_err err;
    while (cv->pending.len < o->chunk_bytes && !cv->input_eof)
        if ((err = read_more(cv, o->chunk_bytes - cv->pending.len)))
            return err;
    /* the sample: the buffered prefix up to its last complete record */
    size_t sample = cv->pending.len;
    if (!cv->input_eof) {
        const uint8_t *p = memrchr(cv->pending.ptr, '\n', cv->pending.len);
        sample = p ? (size_t)(p - cv->pending.ptr) + 1 : cv->pending.len;
    }
    sl_infer_opts io;
    sl_infer_opts_default(&io);
    io.coerce = cv->copts.coerce;
    sl_infer *inf = NULL;

    if (cv->in_fmt == SL_FMT_CSV) {
        sl_csv *csv;
        if ((err = sl_csv_create(&cv->csv, &csv)))
            return set_msg(cv->res, err, "check --delimiter, --quote and --escape",
                           "invalid CSV options");
        if ((err = sl_csv_feed(csv, cv->pending.ptr, sample))) {
            sl_csv_destroy(csv);
            return set_msg(cv->res, err, NULL, "out of memory");
        }
        sl_csv_end_input(csv);
        size_t nf;
        const sl_cell *names;
        const uint8_t *text;
        err = sl_csv_header(csv, &nf, &names, &text);
        if (err) {
            set_msg(cv->res, SL_FORMAT, "check --delimiter, or --no-header for files without one",
                    "cannot read the CSV header: %s", sl_csv_errmsg(csv));
            sl_csv_destroy(csv);
            return SL_FORMAT;
        }
        cv->ncells = nf;
        char **hnames = calloc(nf ? nf : 1, sizeof(*hnames));
        if (!hnames) {
            sl_csv_destroy(csv);
            return SL_NOMEM;
        }
        for (size_t i = 0; i < nf && names; i++) {
            hnames[i] = malloc(names[i].len + 1);
            if (!hnames[i]) {
                err = SL_NOMEM;
                break;
            }
            size_t l = names[i].len;
            memcpy(hnames[i], text + names[i].off, l);
            if (names[i].flags & SL_CELLF_CSV_ESCAPES)
                l = sl_csv_unescape(&cv->csv, (uint8_t *)hnames[i], l, (uint8_t *)hnames[i]);
            hnames[i][l] = 0;
        }
        if (!err && o->schema) {
            err = copy_schema(o->schema, &cv->schema);
        } else if (!err) {
            err = sl_infer_create(names ? (const char *const *)hnames : NULL, nf, &io, &inf);
            if (!err)
                err = infer_sample(cv, inf, csv, NULL);
            if (!err)
                err = sl_infer_finish(inf, &cv->schema);
        }
        if (!err) {
            cv->field_map = calloc(cv->schema->nfields ? cv->schema->nfields : 1,
                                   sizeof(*cv->field_map));
            if (!cv->field_map)
                err = SL_NOMEM;
        }
        if (!err && o->schema && names) {
            size_t missing = sl_convert_map_header(cv->schema, (const char *const *)hnames, nf,
                                                   cv->field_map);
            for (size_t i = 0; missing && i < cv->schema->nfields; i++) {
                if (cv->field_map[i] >= 0 || cv->schema->fields[i].nullable)
                    continue;
                set_msg(cv->res, SL_INVALID,
                        "add the column to the file, or make it nullable in the schema",
                        "column '%s' of the schema (not nullable) is not in the CSV header",
                        cv->schema->fields[i].name);
                err = SL_INVALID;
                break;
            }
        } else if (!err) {
            for (size_t i = 0; i < cv->schema->nfields; i++)
                cv->field_map[i] = i < nf ? (int32_t)i : -1;
        }
        for (size_t i = 0; i < nf; i++)
            free(hnames[i]);
        free(hnames);
        sl_csv_destroy(csv);
    } else {
        if (o->schema) {
            err = copy_schema(o->schema, &cv->schema);
            if (!err && cv->json.unknown == SL_JSON_UNKNOWN_COLLECT) {
                /* the parser puts the unknown members in its last column */
                err = sl_schema_add(cv->schema, "_extra", sl_type_of(SL_TYPE_JSON), true);
                if (err) {
                    set_msg(cv->res, err, "rename the schema's _extra column",
                            "cannot add the _extra column for --unknown-fields keep");
                    return err;
                }
            }
        } else {
            cv->json.unknown = SL_JSON_UNKNOWN_IGNORE; /* inferred: every key is a column */
            sl_json_keys keys;
            err = sl_json_scan_keys(&cv->json, cv->pending.ptr, sample, cv->input_eof,
                                    o->infer_rows, &keys);
            if (!err && keys.n == 0)
                err = set_msg(cv->res, SL_FORMAT,
                              "each line must be a JSON object; give --schema for empty input",
                              "no JSON object keys found in the first %zu records (%zu bad)",
                              keys.records, keys.bad);
            sl_json *json = NULL;
            if (!err)
                err = sl_json_create(&cv->json, (const char *const *)keys.names, keys.n, &json);
            if (!err)
                err = sl_json_feed(json, cv->pending.ptr, sample);
            cv->ncells = keys.n;
            if (!err)
                err = sl_infer_create((const char *const *)keys.names, keys.n, &io, &inf);
            if (!err)
                err = infer_sample(cv, inf, NULL, json);
            if (!err)
                err = sl_infer_finish(inf, &cv->schema);
            sl_json_destroy(json);
            sl_json_keys_release(&keys);
        }
        if (!err) {
            cv->ncells = cv->schema->nfields;
            cv->names = calloc(cv->ncells ? cv->ncells : 1, sizeof(*cv->names));
            if (!cv->names)
                err = SL_NOMEM;
            for (size_t i = 0; !err && i < cv->ncells; i++)
                cv->names[i] = cv->schema->fields[i].name; /* borrowed from the schema */
        }
    }
    sl_infer_destroy(inf);
    if (err)
        return set_msg(cv->res, err, NULL, "cannot determine the schema: %s", sl_strerror(err));
    if (cv->field_map)
        cv->copts.field_map = cv->field_map;
    if (cv->schema->nfields == 0)
        return set_msg(cv->res, SL_FORMAT, "give --schema, or check the input format",
                       "the input has no columns");
    return SL_OK;
}

/* ---- Parquet input ------------------------------------------------------------------------ */

/* Parquet input (parse/parquet_read.h): one reader on the calling thread, batches of PQ_ROWS
 * rows handed to write_chunk() as if they were converted chunks, so the error policy, the
 * rejects file and the outputs are the same as for CSV and JSON Lines. `line` in reports is
 * the 1-based row number. */
#define PQ_ROWS 65536

static sl_err pq_on_reject(void *ctx, const sl_pq_reject *pr)
{
    sl_reject rej = {pr->row, pr->code,        pr->message, pr->detail,
                     pr->field, pr->field_index, 0,           NULL, 0};
    return on_reject(ctx, &rej);
}

static sl_err run_parquet(conv *cv)
{
    const sl_convert_opts *o = cv->o;
    sl_err err;
    if (!strcmp(o->input, "-"))
        return set_msg(cv->res, SL_UNSUPPORTED, "save the data to a file first",
                       "Parquet input cannot be read from stdin");
    worker wk;
    memset(&wk, 0, sizeof(wk));
    wk.cv = cv;
    chunk *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return set_msg(cv->res, SL_NOMEM, NULL, "out of memory");
    sl_buf_init(&ch->buf, 0);
    sl_buf_init(&ch->rejects, 0);
    wk.cur = ch;
    sl_pq_read_opts po;
    sl_pq_read_opts_default(&po);
    po.model = o->schema;
    po.on_reject = pq_on_reject;
    po.reject_ctx = &wk;
    sl_pq_read_error pe;
    sl_pq_reader *pr = NULL;
    if ((err = sl_pq_reader_open_path(o->input, &po, &pr, &pe))) {
        set_msg(cv->res, err, pe.hint[0] ? pe.hint : NULL, "%s: %s", o->input, pe.message);
        goto out;
    }
    if ((err = copy_schema(sl_pq_reader_schema(pr), &cv->schema)) ||
        (err = sl_batch_create(cv->schema, &ch->batch))) {
        set_msg(cv->res, err, NULL, "out of memory");
        goto out;
    }
    if ((err = open_output(cv)))
        goto out;
    uint64_t total = sl_pq_reader_num_rows(pr);
    for (;;) {
        size_t n;
        sl_batch_clear(ch->batch);
        ch->rejects.len = 0;
        ch->nerrs = 0;
        ch->rows_rejected = 0;
        if ((err = sl_pq_reader_next(pr, ch->batch, PQ_ROWS, &n))) {
            const sl_pq_read_error *re = sl_pq_reader_error(pr);
            set_msg(cv->res, err, re->hint[0] ? re->hint : NULL, "%s: %s", o->input,
                    re->message[0] ? re->message : sl_strerror(err));
            goto out;
        }
        if (!n)
            break;
        ch->rows_in = n;
        if (total && cv->prog.bytes_in_total > 0)
            atomic_store(&cv->raw_pos, (uint64_t)((double)cv->prog.bytes_in_total *
                                                  (double)sl_pq_reader_rows_read(pr) /
                                                  (double)total));
        if ((err = write_chunk(cv, ch)))
            goto out;
    }
out:
    sl_pq_reader_close(pr);
    chunk_free(ch);
    return err;
}

/* ---- entry -------------------------------------------------------------------------------- */

static size_t csv_unescape(void *ctx, const uint8_t *p, size_t n, uint8_t *out)
{
    return sl_csv_unescape(ctx, p, n, out);
}

sl_err sl_convert_file(const sl_convert_opts *o, sl_convert_result *res)
{
    sl_err err;
    memset(res, 0, sizeof(*res));
    conv *cv = calloc(1, sizeof(*cv));
    if (!cv)
        return SL_NOMEM;
    cv->o = o;
    cv->res = res;
    cv->out_fd = -1;
    cv->rej_fd = -1;
    cv->next_line = 1;
    pthread_mutex_init(&cv->mu, NULL);
    pthread_cond_init(&cv->cond, NULL);
    clock_gettime(CLOCK_MONOTONIC, &cv->t0);
    cv->last_progress = cv->t0;
    sl_buf_init(&cv->pending, 0);
    sl_buf_init(&cv->text, 0);
    cv->threads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cv->threads < 1)
        cv->threads = 1;
    if (o->on_error == SL_ON_ERROR_REJECTS && !o->rejects_path) {
        err = set_msg(res, SL_INVALID, "give --rejects FILE", "no rejects file given");
        goto out;
    }
    if (!o->chunk_bytes || !o->infer_rows) {
        err = set_msg(res, SL_INVALID, NULL, "chunk size and sample size must be positive");
        goto out;
    }

    char msg[256];
    if ((err = sl_reader_open(o->input, &cv->reader, msg, sizeof(msg)))) {
        set_msg(res, err, "check the input path", "%s", msg);
        goto out;
    }
    res->totals.bytes_in_total = sl_reader_raw_size(cv->reader);
    cv->prog.bytes_in_total = res->totals.bytes_in_total;

    cv->in_fmt = o->in_format != SL_FMT_AUTO ? o->in_format : format_of_name(o->input);
    if (cv->in_fmt == SL_FMT_NDJSON)
        cv->in_fmt = SL_FMT_JSONL;
    sl_csv_opts_default(&cv->csv);
    cv->csv.delim = o->delimiter ? o->delimiter : ',';
    cv->csv.quote = o->quote;
    cv->csv.escape = o->escape;
    cv->csv.header = o->header;
    sl_json_opts_default(&cv->json);
    cv->json.unknown = o->unknown_fields_reject ? SL_JSON_UNKNOWN_REJECT
                       : o->unknown_fields_keep   ? SL_JSON_UNKNOWN_COLLECT
                                                  : SL_JSON_UNKNOWN_IGNORE;
    sl_converter_opts_default(&cv->copts);
    cv->copts.coerce.trusted_utf8 = true; /* both parsers validate UTF-8 already */
    cv->copts.coerce.null_tokens = o->null_tokens;
    cv->copts.coerce.nnull_tokens = o->nnull_tokens;
    if (cv->in_fmt == SL_FMT_AUTO) {
        /* sniff: the first non-blank byte of a JSON Lines file opens an object */
        while (cv->pending.len < 4096 && !cv->input_eof)
            if ((err = read_more(cv, 4096 - cv->pending.len)))
                goto out;
        size_t i = 0;
        if (cv->pending.len >= 3 && !memcmp(cv->pending.ptr, "\xEF\xBB\xBF", 3))
            i = 3;
        while (i < cv->pending.len && strchr(" \t\r\n", cv->pending.ptr[i]))
            i++;
        cv->in_fmt = i < cv->pending.len && cv->pending.ptr[i] == '{' ? SL_FMT_JSONL : SL_FMT_CSV;
        if (cv->pending.len >= 4 && !memcmp(cv->pending.ptr, "PAR1", 4))
            cv->in_fmt = SL_FMT_PARQUET;
    }
    if (cv->in_fmt == SL_FMT_JSONL) {
        cv->copts.coerce.json_source = true;
        cv->copts.coerce.json_unescape = sl_json_unescape;
    } else {
        cv->copts.coerce.csv_unescape = csv_unescape;
        cv->copts.coerce.csv_unescape_ctx = &cv->csv;
    }
    cv->out_fmt = o->out_format != SL_FMT_AUTO ? o->out_format : format_of_name(o->output);
    if (cv->out_fmt == SL_FMT_AUTO || !strcmp(o->output, "-"))
        cv->out_fmt = o->out_format != SL_FMT_AUTO ? o->out_format : SL_FMT_PARQUET;
    if (cv->out_fmt == SL_FMT_JSONL)
        cv->out_fmt = SL_FMT_NDJSON;
    res->in_format = cv->in_fmt;
    res->out_format = cv->out_fmt;

    if (cv->in_fmt == SL_FMT_PARQUET) {
        if ((err = run_parquet(cv)))
            goto out;
    } else {
        if ((err = prepare_schema(cv)))
            goto out;
        cv->prog.bytes_in_total = res->totals.bytes_in_total;
        if ((err = open_output(cv)))
            goto out;
        err = cv->threads > 1 ? run_threaded(cv) : run_inline(cv);
        if (err)
            goto out;
    }
    if (cv->pq && (err = sl_pq_writer_finish(cv->pq))) {
        set_msg(res, err, NULL, "writing %s: %s", o->output, sl_pq_writer_errmsg(cv->pq));
        goto out;
    }
    if (cv->tmp_path) {
        if (close(cv->out_fd) != 0) {
            cv->out_fd = -1;
            err = set_msg(res, SL_IO, NULL, "writing %s: %s", o->output, strerror(errno));
            goto out;
        }
        cv->out_fd = -1;
        if (rename(cv->tmp_path, o->output) != 0) {
            err = set_msg(res, SL_IO, NULL, "cannot rename %s to %s: %s", cv->tmp_path, o->output,
                          strerror(errno));
            goto out;
        }
        free(cv->tmp_path);
        cv->tmp_path = NULL;
    }
    if (cv->rej_fd >= 0 && close(cv->rej_fd) != 0) {
        cv->rej_fd = -1;
        err = set_msg(res, SL_IO, NULL, "writing rejects file %s: %s", o->rejects_path,
                      strerror(errno));
        goto out;
    }
    cv->rej_fd = -1;
    report_progress(cv, true);
out:
    cv->prog.bytes_in = atomic_load(&cv->raw_pos);
    cv->prog.seconds = now_s(&cv->t0);
    res->totals = cv->prog;
    sl_pq_writer_destroy(cv->pq);
    if (cv->out_fd > 1)
        close(cv->out_fd);
    if (cv->tmp_path) {
        unlink(cv->tmp_path); /* failed: leave nothing that looks like output */
        free(cv->tmp_path);
    }
    if (cv->rej_fd >= 0)
        close(cv->rej_fd);
    sl_reader_close(cv->reader);
    sl_buf_release(&cv->pending);
    sl_buf_release(&cv->text);
    free(cv->field_map);
    free(cv->names);
    free(cv->slots);
    free(cv->workers);
    while (cv->free_chunks) {
        chunk *c = cv->free_chunks;
        cv->free_chunks = c->next_free;
        chunk_free(c);
    }
    pthread_mutex_destroy(&cv->mu);
    pthread_cond_destroy(&cv->cond);
    sl_schema_destroy(cv->schema);
    free(cv);
    return err;
}
