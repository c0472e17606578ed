/* writer.c: streaming Parquet file writer.
 *
 * Design
 *   File layout: "PAR1" | row groups | page index | FileMetaData | u32 footer length | "PAR1".
 *   Batches are cut into slices of at most page_rows rows; each slice is appended to every
 *   column's current page. A page is flushed (levels + values, compressed, header in front) into
 *   its column's chunk buffer when it reaches page_rows rows or page_bytes bytes. When the
 *   buffered row group reaches row_group_bytes (uncompressed) or row_group_rows, the chunks
 *   are written out column by column, each prefixed by its dictionary page. So the writer holds
 *   at most one row group of encoded pages, plus one page per column being filled.
 *
 *   Dictionaries: every non-boolean column starts dictionary-encoded (RLE_DICTIONARY data pages,
 *   PLAIN dictionary page). It falls back to PLAIN for the rest of the chunk when the dictionary
 *   passes dict_bytes, and drops the dictionary altogether when the first page shows that most
 *   values are distinct (then that page is re-encoded PLAIN from its indices).
 *
 *   Statistics: min/max are tracked per page (for the ColumnIndex) and merged per chunk, in the
 *   PLAIN byte form used by Statistics.min_value/max_value. NaN never becomes a bound (a chunk
 *   of only NaN has no min/max); a zero bound is written as -0.0 for min and +0.0 for max.
 *   Byte arrays compare as unsigned bytes and are truncated to stats_max_bytes (strings at a
 *   UTF-8 boundary), the max then incremented so it stays an upper bound.
 *
 *   Threads: with opts.threads > 1 each slice's columns are encoded in parallel by a small pool
 *   (columns are independent until the row group is written). Slicing does not depend on the
 *   thread count, so the file is byte-identical whatever the thread count. Per-column state
 *   (pages, blobs, error text) is touched only by the thread encoding that column; everything
 *   shared (output, footer, row groups) is touched only by the calling thread.
 *
 * Invariants
 *   - w->pos is the number of bytes written to the output so far; offsets in metadata are
 *     computed from it, so everything must go through w_write().
 *   - After an error the writer is poisoned (w->failed): later calls return that error.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "encode/parquet/codec.h"
#include "encode/parquet/pq_meta.h"
#include "encode/parquet/rle.h"
#include "sluice.h"
#include "util/buf.h"

#define MIB ((size_t)1 << 20)

/* ---- small owned blobs ---------------------------------------------------------------- */

/* Every byte string referenced from footer metadata (stats, names) lives in the writer's
 * blob list until destroy. */
typedef struct blob {
    struct blob *next;
    uint32_t len;
    uint8_t data[];
} blob;

/* ---- statistics ------------------------------------------------------------------------ */

typedef struct {
    bool has;        /* min/max valid */
    sl_buf min, max; /* PLAIN stat bytes (full length for byte arrays) */
} minmax;

typedef struct {
    uint32_t *slots; /* entry index + 1; 0 = empty */
    uint32_t *hashes;
    uint32_t *offs;  /* byte arrays: start of entry i's bytes in plain (after the length) */
    uint32_t mask;
    uint32_t count;
    uint32_t cap;    /* entries allocated in hashes/offs */
    sl_buf plain;    /* the dictionary page body */
} dict;

/* Encoded pages of a column chunk live in segments, never reallocated: a page is compressed
 * straight into a segment, HDR_ROOM bytes after the free space starts, and its header is then
 * written just in front of the body, so [header][body] is contiguous. */
#define HDR_ROOM 64
#define SEG_MIN ((size_t)64 << 10)
#define SEG_MAX ((size_t)8 << 20)

typedef struct seg {
    struct seg *next;
    size_t len, cap;
    uint8_t data[];
} seg;

typedef struct {
    seg *seg;      /* where the page's bytes are */
    size_t seg_off;
    int64_t offset_in_chunk; /* of the page header, relative to the data pages' start */
    int32_t size;            /* header + body */
    int64_t first_row;
    int64_t null_count;
    bool null_page;
    bool has_minmax;
    blob *min, *max;
} page_info;

typedef struct colw {
    const sl_field *field;
    int ptype;
    int32_t type_len; /* FIXED_LEN_BYTE_ARRAY */
    unsigned width;   /* physical value width for fixed types */
    int max_def;

    /* current page */
    uint8_t *defs;
    size_t ndefs, defs_cap;
    size_t page_nulls;
    sl_buf plain;     /* PLAIN values (also bools as bytes before packing) */
    uint32_t *idx;    /* dictionary indices */
    size_t nidx, idx_cap;
    minmax page_mm;

    /* dictionary */
    bool dict_on;     /* new values go to the dictionary */
    bool dict_tried;  /* first-page check done */
    dict dict;

    /* chunk */
    seg *segs, *seg_last, *seg_free; /* pages; segments of earlier row groups are reused */
    size_t chunk_len;
    int64_t chunk_values;
    int64_t chunk_nulls;
    int64_t chunk_uncompressed; /* data pages, headers included */
    int64_t chunk_rows;
    int32_t pages_dict, pages_plain;
    minmax chunk_mm;
    bool chunk_has_value;  /* at least one non-null */
    bool chunk_index_ok;   /* every non-null page has bounds */
    page_info *pages;
    size_t npages, pages_cap;

    /* scratch */
    sl_buf body, comp, hdr, tmp;

    blob *blobs;      /* page bounds for the ColumnIndex (this column's thread only) */
    char errmsg[160]; /* detail of a failure while encoding this column */
} colw;

/* Encoding pool: helpers wait for a generation bump, then take columns from next_col. */
typedef struct {
    pthread_t *tids;
    sl_codec_ctx **ctx; /* one per helper */
    int n;              /* helper threads */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t gen;
    int busy;
    bool stop;
    struct sl_pq_writer *w;
    const sl_batch *batch;
    size_t a, b;
    atomic_size_t next_col;
    sl_err *errs; /* per column */
} enc_pool;

/* A finished column chunk's footer data and its page index, kept until finish(). */
typedef struct {
    sl_pq_row_group rg;
    sl_pq_column_index *ci; /* per column; npages == 0 when not written */
    sl_pq_offset_index *oi;
} rg_done;

struct sl_pq_writer {
    const sl_schema *schema;
    sl_pq_opts opts;
    sl_output out;
    uint64_t pos;
    sl_err failed;
    char errmsg[256];
    sl_codec_ctx *codec;
    colw *cols;
    size_t ncols;
    int64_t rg_rows;
    uint64_t total_rows;
    rg_done *rgs;
    size_t nrgs, rgs_cap;
    blob *blobs;
    bool finished;
    sl_pq_schema_elem *schema_elems;
    sl_buf schema_json;
    enc_pool *pool;
};

static sl_err fail(sl_pq_writer *w, sl_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sl_err fail(sl_pq_writer *w, sl_err err, const char *fmt, ...)
{
    if (!w->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
        va_end(ap);
        w->failed = err;
    }
    return err;
}

static blob *blob_push(blob **list, const void *p, size_t n)
{
    blob *b = malloc(sizeof(*b) + n + 1);
    if (!b)
        return NULL;
    b->next = *list;
    *list = b;
    b->len = (uint32_t)n;
    if (n)
        memcpy(b->data, p, n);
    b->data[n] = 0;
    return b;
}

static blob *blob_new(sl_pq_writer *w, const void *p, size_t n)
{
    return blob_push(&w->blobs, p, n);
}

static void blobs_free(blob *b)
{
    while (b) {
        blob *n = b->next;
        free(b);
        b = n;
    }
}

static sl_err colw_fail(colw *c, sl_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a failure of one column (thread-safe: the column is this thread's). */
static sl_err colw_fail(colw *c, sl_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
    va_end(ap);
    return err;
}

static sl_pq_bin bin_of(const blob *b)
{
    sl_pq_bin r = {b ? b->data : NULL, b ? b->len : 0};
    return r;
}

static sl_err w_write(sl_pq_writer *w, const void *p, size_t n)
{
    sl_err err = w->out.write(w->out.ctx, p, n);
    if (err)
        return fail(w, err, "writing output: %s", sl_strerror(err));
    w->pos += n;
    return SL_OK;
}

/* ---- physical mapping ---------------------------------------------------------------- */

/* Minimal bytes of a big-endian two's complement integer holding 10^p - 1. */
static int32_t decimal_flba_len(unsigned precision)
{
    /* smallest n with 2^(8n-1) > 10^p - 1, i.e. 8n-1 >= p*log2(10) */
    int32_t n = 1;
    while ((double)(8 * n - 1) < precision * 3.321928094887362)
        n++;
    return n;
}

static void physical_of(const sl_field *f, int *ptype, int32_t *type_len, unsigned *width)
{
    *type_len = 0;
    switch (f->type.id) {
    case SL_TYPE_BOOL:
        *ptype = PQ_BOOLEAN;
        *width = 1;
        return;
    case SL_TYPE_INT32:
    case SL_TYPE_DATE:
        *ptype = PQ_INT32;
        *width = 4;
        return;
    case SL_TYPE_INT64:
    case SL_TYPE_TIMESTAMP:
        *ptype = PQ_INT64;
        *width = 8;
        return;
    case SL_TYPE_FLOAT:
        *ptype = PQ_FLOAT;
        *width = 4;
        return;
    case SL_TYPE_DOUBLE:
        *ptype = PQ_DOUBLE;
        *width = 8;
        return;
    case SL_TYPE_DECIMAL:
        if (f->type.precision <= 9) {
            *ptype = PQ_INT32;
            *width = 4;
        } else if (f->type.precision <= 18) {
            *ptype = PQ_INT64;
            *width = 8;
        } else {
            *ptype = PQ_FIXED_LEN_BYTE_ARRAY;
            *type_len = decimal_flba_len(f->type.precision);
            *width = (unsigned)*type_len;
        }
        return;
    default:
        *ptype = PQ_BYTE_ARRAY;
        *width = 0;
        return;
    }
}

static void schema_elem_of(const sl_field *f, sl_pq_schema_elem *e)
{
    int ptype;
    int32_t tlen;
    unsigned width;
    physical_of(f, &ptype, &tlen, &width);
    memset(e, 0, sizeof(*e));
    e->has_type = true;
    e->type = ptype;
    if (ptype == PQ_FIXED_LEN_BYTE_ARRAY) {
        e->has_type_length = true;
        e->type_length = tlen;
    }
    e->has_repetition = true;
    e->repetition = f->nullable ? PQ_OPTIONAL : PQ_REQUIRED;
    e->name.ptr = (const uint8_t *)f->name;
    e->name.len = (uint32_t)strlen(f->name);
    switch (f->type.id) {
    case SL_TYPE_STRING:
        e->logical.kind = PQ_LT_STRING;
        e->has_converted_type = true;
        e->converted_type = PQ_CT_UTF8;
        break;
    case SL_TYPE_JSON:
        e->logical.kind = PQ_LT_JSON;
        e->has_converted_type = true;
        e->converted_type = PQ_CT_JSON;
        break;
    case SL_TYPE_DATE:
        e->logical.kind = PQ_LT_DATE;
        e->has_converted_type = true;
        e->converted_type = PQ_CT_DATE;
        break;
    case SL_TYPE_TIMESTAMP:
        e->logical.kind = PQ_LT_TIMESTAMP;
        e->logical.utc = f->type.utc;
        e->logical.unit = f->type.unit == SL_UNIT_MS   ? PQ_UNIT_MILLIS
                          : f->type.unit == SL_UNIT_US ? PQ_UNIT_MICROS
                                                       : PQ_UNIT_NANOS;
        /* converted types imply UTC-adjusted instants and exist only for ms/us */
        if (f->type.utc && f->type.unit != SL_UNIT_NS) {
            e->has_converted_type = true;
            e->converted_type =
                f->type.unit == SL_UNIT_MS ? PQ_CT_TIMESTAMP_MILLIS : PQ_CT_TIMESTAMP_MICROS;
        }
        break;
    case SL_TYPE_DECIMAL:
        e->logical.kind = PQ_LT_DECIMAL;
        e->logical.precision = f->type.precision;
        e->logical.scale = f->type.scale;
        e->has_converted_type = true;
        e->converted_type = PQ_CT_DECIMAL;
        e->has_precision = e->has_scale = true;
        e->precision = f->type.precision;
        e->scale = f->type.scale;
        break;
    default:
        break;
    }
}

/* ---- typed comparison of PLAIN stat bytes ---------------------------------------------- */

static int cmp_stat(int ptype, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    switch (ptype) {
    case PQ_BOOLEAN:
        return (int)a[0] - (int)b[0];
    case PQ_INT32: {
        int32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case PQ_INT64: {
        int64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case PQ_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case PQ_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case PQ_FIXED_LEN_BYTE_ARRAY: {
        /* decimals: big-endian two's complement, equal lengths */
        if ((a[0] ^ b[0]) & 0x80)
            return (a[0] & 0x80) ? -1 : 1;
        int c = memcmp(a, b, an < bn ? an : bn);
        return c;
    }
    default: {
        size_t n = an < bn ? an : bn;
        int c = n ? memcmp(a, b, n) : 0;
        if (c)
            return c;
        return (an > bn) - (an < bn);
    }
    }
}

/* Folds [p, n] into mm as a candidate minimum and maximum. */
static sl_err mm_add(minmax *mm, int ptype, const void *mn, size_t mnl, const void *mx,
                     size_t mxl)
{
    sl_err err;
    if (!mm->has) {
        mm->min.len = mm->max.len = 0;
        if ((err = sl_buf_append(&mm->min, mn, mnl)) || (err = sl_buf_append(&mm->max, mx, mxl)))
            return err;
        mm->has = true;
        return SL_OK;
    }
    if (cmp_stat(ptype, mn, mnl, mm->min.ptr, mm->min.len) < 0) {
        mm->min.len = 0;
        if ((err = sl_buf_append(&mm->min, mn, mnl)))
            return err;
    }
    if (cmp_stat(ptype, mx, mxl, mm->max.ptr, mm->max.len) > 0) {
        mm->max.len = 0;
        if ((err = sl_buf_append(&mm->max, mx, mxl)))
            return err;
    }
    return SL_OK;
}

/* ---- dictionary ------------------------------------------------------------------------ */

static inline uint32_t hash_u64(uint64_t v)
{
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    return (uint32_t)v;
}

/* Equal-length keys: integer compares for the common widths. */
static inline bool key_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n == 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return x == y;
    }
    if (n == 4) {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return x == y;
    }
    return n == 0 || memcmp(a, b, n) == 0;
}

static inline uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    if (n == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        return hash_u64(v);
    }
    if (n == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return hash_u64(v | (uint64_t)4 << 32);
    }
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    h = (h ^ v) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static void dict_reset(dict *d)
{
    if (d->slots && d->count)
        memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof(*d->slots));
    d->count = 0;
    d->plain.len = 0;
}

static void dict_release(dict *d)
{
    free(d->slots);
    free(d->hashes);
    free(d->offs);
    sl_buf_release(&d->plain);
    memset(d, 0, sizeof(*d));
}

static sl_err dict_grow(dict *d)
{
    uint32_t nslots = d->mask ? (d->mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return SL_NOMEM;
    for (uint32_t i = 0; i < d->count; i++) {
        uint32_t s = d->hashes[i] & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = i + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->mask = nslots - 1;
    return SL_OK;
}

static sl_err dict_entries_room(dict *d)
{
    if (d->count < d->cap)
        return SL_OK;
    uint32_t ncap = d->cap ? d->cap * 2 : 512;
    uint32_t *h = realloc(d->hashes, ncap * sizeof(*h));
    if (!h)
        return SL_NOMEM;
    d->hashes = h;
    uint32_t *o = realloc(d->offs, ncap * sizeof(*o));
    if (!o)
        return SL_NOMEM;
    d->offs = o;
    d->cap = ncap;
    return SL_OK;
}

/* Finds or inserts a value. Fixed-width values are stored back to back in plain; byte arrays
 * as PLAIN (u32 length + bytes). Returns SL_FULL when inserting would pass `limit` bytes. */
static inline sl_err dict_put(dict *d, const uint8_t *p, size_t n, bool var, size_t limit,
                              uint32_t *index)
{
    uint32_t h = hash_bytes(p, n);
    if (!d->slots || (d->count + 1) * 2 > d->mask + 1) {
        sl_err err = dict_grow(d);
        if (err)
            return err;
    }
    uint32_t s = h & d->mask;
    for (;;) {
        uint32_t e = d->slots[s];
        if (!e)
            break;
        e--;
        if (d->hashes[e] == h) {
            const uint8_t *q;
            size_t qn;
            if (var) {
                q = d->plain.ptr + d->offs[e];
                qn = sl_load_le32(q - 4);
            } else {
                q = d->plain.ptr + (size_t)e * n;
                qn = n;
            }
            if (qn == n && key_eq(p, q, n)) {
                *index = e;
                return SL_OK;
            }
        }
        s = (s + 1) & d->mask;
    }
    size_t add = n + (var ? 4 : 0);
    if (d->plain.len + add > limit || d->count >= INT32_MAX - 1)
        return SL_FULL;
    sl_err err = dict_entries_room(d);
    if (!err)
        err = sl_buf_reserve(&d->plain, add);
    if (err)
        return err;
    if (var) {
        sl_store_le32(d->plain.ptr + d->plain.len, (uint32_t)n);
        d->plain.len += 4;
    }
    d->offs[d->count] = (uint32_t)d->plain.len;
    if (n)
        memcpy(d->plain.ptr + d->plain.len, p, n);
    d->plain.len += n;
    d->hashes[d->count] = h;
    d->slots[s] = d->count + 1;
    *index = d->count++;
    return SL_OK;
}

/* ---- column writer ------------------------------------------------------------------------ */

static void colw_release(colw *c)
{
    free(c->defs);
    free(c->idx);
    free(c->pages);
    sl_buf_release(&c->plain);
    sl_buf_release(&c->page_mm.min);
    sl_buf_release(&c->page_mm.max);
    sl_buf_release(&c->chunk_mm.min);
    sl_buf_release(&c->chunk_mm.max);
    for (seg *s = c->segs, *n; s; s = n) {
        n = s->next;
        free(s);
    }
    for (seg *s = c->seg_free, *n; s; s = n) {
        n = s->next;
        free(s);
    }
    sl_buf_release(&c->body);
    sl_buf_release(&c->comp);
    sl_buf_release(&c->hdr);
    sl_buf_release(&c->tmp);
    dict_release(&c->dict);
    blobs_free(c->blobs);
}

static void chunk_reset(const sl_pq_writer *w, colw *c)
{
    if (c->segs) { /* keep the segments for the next row group */
        c->seg_last->next = c->seg_free;
        c->seg_free = c->segs;
        c->segs = c->seg_last = NULL;
    }
    c->chunk_len = 0;
    c->chunk_values = c->chunk_nulls = c->chunk_uncompressed = c->chunk_rows = 0;
    c->pages_dict = c->pages_plain = 0;
    c->chunk_mm.has = false;
    c->chunk_has_value = false;
    c->chunk_index_ok = true;
    c->npages = 0;
    dict_reset(&c->dict);
    c->dict_on = w->opts.dict_bytes > 0 && c->ptype != PQ_BOOLEAN;
    c->dict_tried = false;
}

static void page_reset(colw *c)
{
    c->ndefs = 0;
    c->page_nulls = 0;
    c->plain.len = 0;
    c->nidx = 0;
    c->page_mm.has = false;
}

static sl_err reserve_defs(colw *c, size_t n)
{
    if (c->ndefs + n <= c->defs_cap)
        return SL_OK;
    size_t ncap = c->defs_cap ? c->defs_cap : 4096;
    while (ncap < c->ndefs + n)
        ncap *= 2;
    uint8_t *d = realloc(c->defs, ncap);
    if (!d)
        return SL_NOMEM;
    c->defs = d;
    c->defs_cap = ncap;
    return SL_OK;
}

static sl_err reserve_idx(colw *c, size_t n)
{
    if (c->nidx + n <= c->idx_cap)
        return SL_OK;
    size_t ncap = c->idx_cap ? c->idx_cap : 4096;
    while (ncap < c->nidx + n)
        ncap *= 2;
    uint32_t *d = realloc(c->idx, ncap * sizeof(*d));
    if (!d)
        return SL_NOMEM;
    c->idx = d;
    c->idx_cap = ncap;
    return SL_OK;
}

/* Bytes the current page would take uncompressed (estimate for flush decisions). */
static size_t page_size_estimate(const colw *c)
{
    size_t levels = c->max_def ? c->ndefs / 8 + 8 : 0;
    if (c->nidx)
        return levels + c->nidx * 4 + c->plain.len; /* upper bound of index bytes */
    return levels + c->plain.len;
}

/* A segment with `need` free bytes at its end (the last one, a recycled one or a new one). */
static seg *seg_room(colw *c, size_t need)
{
    seg *s = c->seg_last;
    if (s && s->cap - s->len >= need)
        return s;
    seg **pp = &c->seg_free;
    while (*pp && (*pp)->cap < need)
        pp = &(*pp)->next;
    seg *n = *pp;
    if (n) {
        *pp = n->next;
    } else {
        size_t cap = s ? s->cap * 2 : SEG_MIN;
        if (cap > SEG_MAX)
            cap = SEG_MAX;
        if (cap < need)
            cap = need;
        n = malloc(sizeof(*n) + cap);
        if (!n)
            return NULL;
        n->cap = cap;
    }
    n->next = NULL;
    n->len = 0;
    if (s)
        s->next = n;
    else
        c->segs = n;
    c->seg_last = n;
    return n;
}

/* Appends the page in c->body (levels + values, uncompressed) to the chunk with its header. */
static sl_err emit_page(sl_pq_writer *w, colw *c, sl_codec_ctx *cc, bool dict_page_enc,
                        size_t levels_len)
{
    sl_err err;
    sl_pq_page_header h;
    memset(&h, 0, sizeof(h));
    size_t values_len = c->body.len - levels_len;
    bool v2 = w->opts.page_version == 2;
    size_t bound = v2 ? levels_len + sl_codec_bound(w->opts.codec, values_len)
                      : sl_codec_bound(w->opts.codec, c->body.len);
    seg *sg = seg_room(c, HDR_ROOM + bound);
    if (!sg)
        return SL_NOMEM;
    /* a view of the segment's free space; it cannot grow (cap == room), so never reallocates */
    uint8_t *bstart = sg->data + sg->len + HDR_ROOM;
    sl_buf comp = {bstart, 0, bound, bound};
    int enc = dict_page_enc ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN;
    if (v2) {
        /* v2: levels stay uncompressed in front of the compressed values */
        if ((err = sl_buf_append(&comp, c->body.ptr, levels_len)))
            return err;
        if ((err = sl_codec_compress(cc, c->body.ptr + levels_len, values_len, &comp)))
            return err;
        h.type = PQ_DATA_PAGE_V2;
        h.has_data_page_v2 = true;
        h.data_page_v2.num_values = (int32_t)c->ndefs;
        h.data_page_v2.num_nulls = (int32_t)c->page_nulls;
        h.data_page_v2.num_rows = (int32_t)c->ndefs;
        h.data_page_v2.encoding = enc;
        h.data_page_v2.definition_levels_byte_length = (int32_t)levels_len;
        h.data_page_v2.repetition_levels_byte_length = 0;
        h.data_page_v2.has_is_compressed = true;
        h.data_page_v2.is_compressed = w->opts.codec != SL_CODEC_NONE;
    } else {
        if ((err = sl_codec_compress(cc, c->body.ptr, c->body.len, &comp)))
            return err;
        h.type = PQ_DATA_PAGE;
        h.has_data_page = true;
        h.data_page.num_values = (int32_t)c->ndefs;
        h.data_page.encoding = enc;
        h.data_page.definition_level_encoding = PQ_ENC_RLE;
        h.data_page.repetition_level_encoding = PQ_ENC_RLE;
    }
    assert(comp.ptr == bstart);
    if (c->body.len > INT32_MAX || comp.len > INT32_MAX)
        return colw_fail(c, SL_FULL, "column '%s': page larger than 2 GiB", c->field->name);
    h.uncompressed_page_size = (int32_t)c->body.len;
    h.compressed_page_size = (int32_t)comp.len;
    c->hdr.len = 0;
    if ((err = sl_pq_page_header_encode(&h, &c->hdr)))
        return err;
    assert(c->hdr.len <= HDR_ROOM);

    if (c->npages == c->pages_cap) {
        size_t ncap = c->pages_cap ? c->pages_cap * 2 : 16;
        page_info *p = realloc(c->pages, ncap * sizeof(*p));
        if (!p)
            return SL_NOMEM;
        c->pages = p;
        c->pages_cap = ncap;
    }
    page_info *pi = &c->pages[c->npages];
    memset(pi, 0, sizeof(*pi));
    pi->seg = sg;
    pi->seg_off = sg->len + HDR_ROOM - c->hdr.len;
    pi->offset_in_chunk = (int64_t)c->chunk_len;
    pi->size = (int32_t)(c->hdr.len + comp.len);
    pi->first_row = c->chunk_rows;
    pi->null_count = (int64_t)c->page_nulls;
    pi->null_page = c->page_nulls == c->ndefs;

    memcpy(bstart - c->hdr.len, c->hdr.ptr, c->hdr.len);
    sg->len += HDR_ROOM + comp.len;
    c->chunk_len += (size_t)pi->size;
    c->npages++;
    c->chunk_uncompressed += (int64_t)(c->hdr.len + c->body.len);
    c->chunk_values += (int64_t)c->ndefs;
    c->chunk_rows += (int64_t)c->ndefs;
    c->chunk_nulls += (int64_t)c->page_nulls;
    if (dict_page_enc)
        c->pages_dict++;
    else
        c->pages_plain++;

    /* page bounds: floats get signed zeros fixed up so readers comparing bounds prune right */
    minmax *mm = &c->page_mm;
    if (mm->has) {
        if (c->ptype == PQ_FLOAT) {
            float mn, mx;
            memcpy(&mn, mm->min.ptr, 4);
            memcpy(&mx, mm->max.ptr, 4);
            if (mn == 0.0f)
                mn = -0.0f;
            if (mx == 0.0f)
                mx = 0.0f;
            memcpy(mm->min.ptr, &mn, 4);
            memcpy(mm->max.ptr, &mx, 4);
        } else if (c->ptype == PQ_DOUBLE) {
            double mn, mx;
            memcpy(&mn, mm->min.ptr, 8);
            memcpy(&mx, mm->max.ptr, 8);
            if (mn == 0.0)
                mn = -0.0;
            if (mx == 0.0)
                mx = 0.0;
            memcpy(mm->min.ptr, &mn, 8);
            memcpy(mm->max.ptr, &mx, 8);
        }
        if ((err = mm_add(&c->chunk_mm, c->ptype, mm->min.ptr, mm->min.len, mm->max.ptr,
                          mm->max.len)))
            return err;
        pi->has_minmax = true;
    } else if (!pi->null_page) {
        c->chunk_index_ok = false; /* only NaN: no bounds for this page */
    }
    if (!pi->null_page)
        c->chunk_has_value = true;
    if (pi->has_minmax && w->opts.page_index) {
        /* kept for the ColumnIndex, truncated like chunk statistics at the end */
        pi->min = blob_push(&c->blobs, mm->min.ptr, mm->min.len);
        pi->max = blob_push(&c->blobs, mm->max.ptr, mm->max.len);
        if (!pi->min || !pi->max)
            return SL_NOMEM;
    }
    page_reset(c);
    return SL_OK;
}

/* Encodes definition levels into c->body; returns their length in *levels_len. */
static sl_err encode_levels(sl_pq_writer *w, colw *c, size_t *levels_len)
{
    sl_err err;
    *levels_len = 0;
    if (!c->max_def)
        return SL_OK;
    size_t start = c->body.len;
    bool v1 = w->opts.page_version != 2;
    if (v1 && (err = sl_buf_append(&c->body, "\0\0\0\0", 4)))
        return err;
    size_t lstart = c->body.len;
    if (c->page_nulls == 0) {
        /* all defined: one RLE run of 1s */
        uint8_t tmp[11];
        size_t n = sl_varint_encode(tmp, (uint64_t)c->ndefs << 1);
        tmp[n++] = 1;
        if ((err = sl_buf_append(&c->body, tmp, n)))
            return err;
    } else if ((err = sl_rle_encode_u8(c->defs, c->ndefs, 1, &c->body))) {
        return err;
    }
    if (v1)
        sl_store_le32(c->body.ptr + start, (uint32_t)(c->body.len - lstart));
    *levels_len = c->body.len - start;
    return SL_OK;
}

static sl_err flush_page(sl_pq_writer *w, colw *c, sl_codec_ctx *cc)
{
    sl_err err;
    if (c->ndefs == 0)
        return SL_OK;
    bool use_dict = c->nidx > 0 || (c->dict_on && c->ndefs == c->page_nulls);
    /* First page of a chunk: if most values are distinct, a dictionary only costs time and
     * space. Re-encode this page PLAIN from its indices and stop using the dictionary. */
    if (use_dict && !c->dict_tried && c->dict.count > 0 &&
        (size_t)c->dict.count * 2 > c->nidx && c->pages_dict == 0) {
        bool var = c->ptype == PQ_BYTE_ARRAY;
        c->plain.len = 0;
        for (size_t i = 0; i < c->nidx; i++) {
            uint32_t e = c->idx[i];
            if (var) {
                const uint8_t *q = c->dict.plain.ptr + c->dict.offs[e] - 4;
                err = sl_buf_append(&c->plain, q, 4 + sl_load_le32(q));
            } else {
                err = sl_buf_append(&c->plain, c->dict.plain.ptr + (size_t)e * c->width, c->width);
            }
            if (err)
                return err;
        }
        c->nidx = 0;
        dict_reset(&c->dict);
        c->dict_on = false;
        use_dict = false;
    }
    if (c->nidx > 0)
        c->dict_tried = true;
    if (use_dict && c->dict.count == 0)
        use_dict = false; /* all-null page with no dictionary yet: PLAIN is fine */

    c->body.len = 0;
    size_t levels_len;
    if ((err = encode_levels(w, c, &levels_len)))
        return err;
    if (use_dict) {
        unsigned bw = sl_rle_bit_width(c->dict.count - 1);
        if ((err = sl_buf_putc(&c->body, (uint8_t)bw)) ||
            (err = sl_rle_encode_u32(c->idx, c->nidx, bw, &c->body)))
            return err;
    } else if (c->ptype == PQ_BOOLEAN) {
        if ((err = sl_bitpack_bools(c->plain.ptr, c->plain.len, &c->body)))
            return err;
    } else if ((err = sl_buf_append(&c->body, c->plain.ptr, c->plain.len))) {
        return err;
    }
    return emit_page(w, c, cc, use_dict, levels_len);
}

/* ---- appending values ----------------------------------------------------------------- */


/* Converts rows [a, b) of a decimal column to physical values (int32, int64 or big-endian
 * FLBA) in c->tmp; checks each value against the precision. */
static sl_err decimal_physical(colw *c, const sl_column *col, size_t a, size_t b)
{
    sl_err err;
    c->tmp.len = 0;
    if ((err = sl_buf_reserve(&c->tmp, (b - a) * c->width)))
        return err;
    uint8_t *o = c->tmp.ptr;
    unsigned prec = col->type.precision;
    __int128 limit = 1; /* 10^precision: |v| must stay below it */
    for (unsigned i = 0; i < prec; i++)
        limit *= 10;
    for (size_t r = a; r < b; r++, o += c->width) {
        __int128 v;
        if (col->width == 8) {
            int64_t x;
            memcpy(&x, col->data + r * 8, 8);
            v = x;
        } else {
            memcpy(&v, col->data + r * 16, 16);
        }
        if ((!col->valid || col->valid[r]) && (v >= limit || v <= -limit))
            return colw_fail(c, SL_INVALID,
                             "column '%s' row %zu: decimal value does not fit precision %u",
                             c->field->name, r, prec);
        if (c->ptype == PQ_INT32) {
            int32_t x = (int32_t)v;
            memcpy(o, &x, 4);
        } else if (c->ptype == PQ_INT64) {
            int64_t x = (int64_t)v;
            memcpy(o, &x, 8);
        } else {
            unsigned __int128 u = (unsigned __int128)v;
            for (int i = (int)c->width - 1; i >= 0; i--) {
                o[i] = (uint8_t)u;
                u >>= 8;
            }
        }
    }
    c->tmp.len = (b - a) * c->width;
    return SL_OK;
}

/* Typed min/max over non-null fixed values; result as PLAIN stat bytes into the page bounds. */
#define MINMAX_LOOP(T, SKIP)                                                                  \
    do {                                                                                      \
        const T *v = (const T *)vals;                                                          \
        T mn = 0, mx = 0;                                                                     \
        bool have = false;                                                                    \
        for (size_t i = 0; i < n; i++) {                                                      \
            if (valid && !valid[i])                                                           \
                continue;                                                                     \
            T x = v[i];                                                                       \
            if (SKIP)                                                                         \
                continue;                                                                     \
            if (!have) {                                                                      \
                mn = mx = x;                                                                  \
                have = true;                                                                  \
            } else {                                                                          \
                if (x < mn)                                                                   \
                    mn = x;                                                                   \
                if (x > mx)                                                                   \
                    mx = x;                                                                   \
            }                                                                                 \
        }                                                                                     \
        if (have) {                                                                           \
            return mm_add(&c->page_mm, c->ptype, &mn, sizeof(T), &mx, sizeof(T));             \
        }                                                                                     \
    } while (0)

/* Integers without nulls: a branch-free loop the compiler vectorises. */
#define MINMAX_DENSE(T)                                                                       \
    do {                                                                                      \
        const T *v = (const T *)vals;                                                          \
        if (!n)                                                                               \
            return SL_OK;                                                                     \
        T mn = v[0], mx = v[0];                                                               \
        for (size_t i = 1; i < n; i++) {                                                      \
            mn = v[i] < mn ? v[i] : mn;                                                       \
            mx = v[i] > mx ? v[i] : mx;                                                       \
        }                                                                                     \
        return mm_add(&c->page_mm, c->ptype, &mn, sizeof(T), &mx, sizeof(T));                 \
    } while (0)

static sl_err fixed_minmax(colw *c, const uint8_t *vals, const uint8_t *valid, size_t n)
{
    if (!valid && c->ptype == PQ_INT32)
        MINMAX_DENSE(int32_t);
    if (!valid && c->ptype == PQ_INT64)
        MINMAX_DENSE(int64_t);
    switch (c->ptype) {
    case PQ_BOOLEAN:
        MINMAX_LOOP(uint8_t, false);
        break;
    case PQ_INT32:
        MINMAX_LOOP(int32_t, false);
        break;
    case PQ_INT64:
        MINMAX_LOOP(int64_t, false);
        break;
    case PQ_FLOAT:
        MINMAX_LOOP(float, isnan(x));
        break;
    case PQ_DOUBLE:
        MINMAX_LOOP(double, isnan(x));
        break;
    case PQ_FIXED_LEN_BYTE_ARRAY: {
        /* big-endian two's complement: compare with cmp_stat */
        for (size_t i = 0; i < n; i++) {
            if (valid && !valid[i])
                continue;
            const uint8_t *x = vals + i * c->width;
            sl_err err = mm_add(&c->page_mm, c->ptype, x, c->width, x, c->width);
            if (err)
                return err;
        }
        break;
    }
    default:
        break;
    }
    return SL_OK;
}

/* Appends n fixed-width physical values (one slot per row; valid may be NULL). Stops early,
 * setting *taken, when the dictionary overflows; the caller flushes and continues. */
static sl_err add_fixed(sl_pq_writer *w, colw *c, const uint8_t *vals, const uint8_t *valid,
                        size_t n, size_t *taken)
{
    sl_err err;
    size_t wd = c->width;
    *taken = n;
    if (c->dict_on) {
        if ((err = reserve_idx(c, n)))
            return err;
        const uint8_t *prev = NULL;
        uint32_t prev_e = 0;
        for (size_t i = 0; i < n; i++) {
            if (valid && !valid[i])
                continue;
            const uint8_t *v = vals + i * wd;
            if (prev && key_eq(prev, v, wd)) { /* runs (sorted or repeated values) */
                c->idx[c->nidx++] = prev_e;
                continue;
            }
            uint32_t e;
            err = dict_put(&c->dict, v, wd, false, w->opts.dict_bytes, &e);
            if (err == SL_FULL) {
                *taken = i;
                return SL_OK;
            }
            if (err)
                return err;
            c->idx[c->nidx++] = e;
            prev = v;
            prev_e = e;
        }
        return SL_OK;
    }
    if (!valid) {
        return sl_buf_append(&c->plain, vals, n * wd);
    }
    if ((err = sl_buf_reserve(&c->plain, n * wd)))
        return err;
    uint8_t *o = c->plain.ptr + c->plain.len;
    for (size_t i = 0; i < n; i++) {
        if (!valid[i])
            continue;
        memcpy(o, vals + i * wd, wd);
        o += wd;
    }
    c->plain.len = (size_t)(o - c->plain.ptr);
    return SL_OK;
}

static sl_err add_bytes(sl_pq_writer *w, colw *c, const sl_column *col, size_t a, size_t n,
                        size_t *taken)
{
    sl_err err;
    const uint32_t *off = col->offsets + a;
    const uint8_t *valid = col->valid ? col->valid + a : NULL;
    *taken = n;
    if (c->dict_on) {
        if ((err = reserve_idx(c, n)))
            return err;
        for (size_t i = 0; i < n; i++) {
            if (valid && !valid[i])
                continue;
            uint32_t e;
            err = dict_put(&c->dict, col->bytes + off[i], off[i + 1] - off[i], true,
                           w->opts.dict_bytes, &e);
            if (err == SL_FULL) {
                *taken = i;
                return SL_OK;
            }
            if (err)
                return err;
            c->idx[c->nidx++] = e;
        }
        return SL_OK;
    }
    /* 16 bytes of slack: short values are copied as one 16-byte move */
    if ((err = sl_buf_reserve(&c->plain, (size_t)(off[n] - off[0]) + 4 * n + 16)))
        return err;
    uint8_t *o = c->plain.ptr + c->plain.len;
    const uint8_t *bytes = col->bytes;
    size_t safe_end = col->bytes_cap >= 16 ? col->bytes_cap - 16 : 0; /* 16-byte reads fit */
    for (size_t i = 0; i < n; i++) {
        if (valid && !valid[i])
            continue;
        uint32_t len = off[i + 1] - off[i];
        sl_store_le32(o, len);
        if (len <= 16 && off[i] <= safe_end)
            memcpy(o + 4, bytes + off[i], 16);
        else
            sl_memcpy(o + 4, bytes + off[i], len);
        o += 4 + len;
    }
    c->plain.len = (size_t)(o - c->plain.ptr);
    return SL_OK;
}

static sl_err bytes_minmax(colw *c, const sl_column *col, size_t a, size_t n)
{
    const uint8_t *mn = NULL, *mx = NULL;
    size_t mnl = 0, mxl = 0;
    for (size_t r = a; r < a + n; r++) {
        if (col->valid && !col->valid[r])
            continue;
        const uint8_t *p = col->bytes + col->offsets[r];
        size_t len = col->offsets[r + 1] - col->offsets[r];
        if (!mn) {
            mn = mx = p;
            mnl = mxl = len;
            continue;
        }
        /* first bytes strictly between the bounds' first bytes: neither bound moves */
        if (len && mnl && mxl && p[0] > mn[0] && p[0] < mx[0])
            continue;
        if (cmp_stat(PQ_BYTE_ARRAY, p, len, mn, mnl) < 0) {
            mn = p;
            mnl = len;
        } else if (cmp_stat(PQ_BYTE_ARRAY, p, len, mx, mxl) > 0) {
            mx = p;
            mxl = len;
        }
    }
    if (!mn)
        return SL_OK;
    return mm_add(&c->page_mm, PQ_BYTE_ARRAY, mn, mnl, mx, mxl);
}

/* Rows of [a, b) that fit the page's byte budget, at least one. */
static size_t rows_within_budget(const sl_pq_writer *w, const colw *c, const sl_column *col,
                                 size_t a, size_t b)
{
    size_t used = page_size_estimate(c);
    size_t budget = w->opts.page_bytes > used ? w->opts.page_bytes - used : 0;
    if (col->width) {
        size_t per = c->width + 1;
        size_t rows = budget / per;
        return rows < 1 ? 1 : rows < b - a ? rows : b - a;
    }
    /* variable: binary search on offsets for the longest prefix within budget */
    size_t lo = a + 1, hi = b;
    if ((size_t)(col->offsets[b] - col->offsets[a]) + 4 * (b - a) <= budget)
        return b - a;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if ((size_t)(col->offsets[mid] - col->offsets[a]) + 4 * (mid - a) <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo - a;
}

/* Appends rows [a, b) of col to c's current page(s). */
static sl_err colw_add(sl_pq_writer *w, colw *c, sl_codec_ctx *cc, const sl_column *col,
                       size_t a, size_t b)
{
    sl_err err;
    while (a < b) {
        size_t room = w->opts.page_rows - c->ndefs;
        size_t n = b - a < room ? b - a : room;
        if (!c->dict_on) /* dictionary-encoded pages are small: the row cap bounds them */
            n = rows_within_budget(w, c, col, a, a + n);
        const uint8_t *valid = col->valid ? col->valid + a : NULL;
        size_t taken;
        if (col->width) {
            const uint8_t *vals = col->data + a * col->width;
            if (c->field->type.id == SL_TYPE_DECIMAL) {
                if ((err = decimal_physical(c, col, a, a + n)))
                    return err;
                vals = c->tmp.ptr;
            }
            if ((err = add_fixed(w, c, vals, valid, n, &taken)))
                return err;
            if ((err = fixed_minmax(c, vals, valid, taken)))
                return err;
        } else {
            if ((err = add_bytes(w, c, col, a, n, &taken)))
                return err;
            if ((err = bytes_minmax(c, col, a, taken)))
                return err;
        }
        /* levels and null counts for the rows taken */
        if ((err = reserve_defs(c, taken)))
            return err;
        if (valid) {
            memcpy(c->defs + c->ndefs, valid, taken);
            for (size_t i = 0; i < taken; i++)
                c->page_nulls += !valid[i];
        } else {
            memset(c->defs + c->ndefs, 1, taken);
        }
        c->ndefs += taken;
        a += taken;
        if (taken < n) {
            /* dictionary full: finish this page with the dictionary, continue PLAIN */
            if ((err = flush_page(w, c, cc)))
                return err;
            c->dict_on = false;
            c->dict_tried = true;
            continue;
        }
        if (c->ndefs >= w->opts.page_rows || page_size_estimate(c) >= w->opts.page_bytes)
            if ((err = flush_page(w, c, cc)))
                return err;
    }
    return SL_OK;
}

/* ---- row groups ------------------------------------------------------------------------ */

/* Truncates a byte-array bound: min is cut (at a UTF-8 boundary for strings), max is cut and
 * incremented so that it still bounds the values. Returns false if no max can be formed. */
static bool truncate_bound(uint8_t *p, size_t *len, size_t limit, bool is_max, bool utf8)
{
    if (*len <= limit)
        return true;
    size_t n = limit;
    if (utf8)
        while (n > 0 && (p[n] & 0xC0) == 0x80)
            n--; /* p[n] is the first byte cut: back up to a code point start */
    if (!is_max) {
        *len = n;
        return true;
    }
    if (utf8) {
        /* increment the last code point; drop it and retry on the one before if impossible */
        while (n > 0) {
            size_t s = n - 1;
            while (s > 0 && (p[s] & 0xC0) == 0x80)
                s--;
            uint32_t cp;
            size_t cl = n - s;
            if (cl == 1)
                cp = p[s];
            else if (cl == 2)
                cp = (uint32_t)(p[s] & 0x1F) << 6 | (p[s + 1] & 0x3F);
            else if (cl == 3)
                cp = (uint32_t)(p[s] & 0x0F) << 12 | (uint32_t)(p[s + 1] & 0x3F) << 6 |
                     (p[s + 2] & 0x3F);
            else
                cp = (uint32_t)(p[s] & 0x07) << 18 | (uint32_t)(p[s + 1] & 0x3F) << 12 |
                     (uint32_t)(p[s + 2] & 0x3F) << 6 | (p[s + 3] & 0x3F);
            cp++;
            if (cp == 0xD800)
                cp = 0xE000;
            size_t nl = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (cp <= 0x10FFFF && nl == cl) {
                if (nl == 1) {
                    p[s] = (uint8_t)cp;
                } else if (nl == 2) {
                    p[s] = (uint8_t)(0xC0 | cp >> 6);
                    p[s + 1] = (uint8_t)(0x80 | (cp & 0x3F));
                } else if (nl == 3) {
                    p[s] = (uint8_t)(0xE0 | cp >> 12);
                    p[s + 1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
                    p[s + 2] = (uint8_t)(0x80 | (cp & 0x3F));
                } else {
                    p[s] = (uint8_t)(0xF0 | cp >> 18);
                    p[s + 1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
                    p[s + 2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
                    p[s + 3] = (uint8_t)(0x80 | (cp & 0x3F));
                }
                *len = n;
                return true;
            }
            n = s;
        }
        return false;
    }
    while (n > 0) {
        if (p[n - 1] != 0xFF) {
            p[n - 1]++;
            *len = n;
            return true;
        }
        n--;
    }
    return false;
}

/* Fills stats from a bound pair; byte arrays truncated per options. */
static sl_err make_stats(sl_pq_writer *w, const colw *c, const uint8_t *mn, size_t mnl,
                         const uint8_t *mx, size_t mxl, blob **omin, blob **omax, bool *min_exact,
                         bool *max_exact)
{
    *omin = *omax = NULL;
    *min_exact = *max_exact = true;
    size_t limit = w->opts.stats_max_bytes;
    bool utf8 = c->field->type.id == SL_TYPE_STRING || c->field->type.id == SL_TYPE_JSON;
    if (c->ptype == PQ_BYTE_ARRAY && limit && (mnl > limit || mxl > limit)) {
        uint8_t *a = malloc(mnl + 1), *b = malloc(mxl + 1);
        if (!a || !b) {
            free(a);
            free(b);
            return SL_NOMEM;
        }
        sl_memcpy(a, mn, mnl);
        sl_memcpy(b, mx, mxl);
        size_t al = mnl, bl = mxl;
        truncate_bound(a, &al, limit, false, utf8);
        bool have_max = truncate_bound(b, &bl, limit, true, utf8);
        *min_exact = al == mnl;
        *max_exact = bl == mxl && have_max;
        *omin = blob_new(w, a, al);
        if (have_max)
            *omax = blob_new(w, b, bl);
        free(a);
        free(b);
        if (!*omin || (have_max && !*omax))
            return SL_NOMEM;
        return SL_OK;
    }
    *omin = blob_new(w, mn, mnl);
    *omax = blob_new(w, mx, mxl);
    return *omin && *omax ? SL_OK : SL_NOMEM;
}

static sl_err flush_row_group(sl_pq_writer *w)
{
    sl_err err;
    if (w->rg_rows == 0)
        return SL_OK;
    for (size_t i = 0; i < w->ncols; i++)
        if ((err = flush_page(w, &w->cols[i], w->codec)))
            return fail(w, err, "%s", w->cols[i].errmsg[0] ? w->cols[i].errmsg : sl_strerror(err));
    if (w->nrgs == w->rgs_cap) {
        size_t ncap = w->rgs_cap ? w->rgs_cap * 2 : 8;
        rg_done *r = realloc(w->rgs, ncap * sizeof(*r));
        if (!r)
            return SL_NOMEM;
        w->rgs = r;
        w->rgs_cap = ncap;
    }
    rg_done *rd = &w->rgs[w->nrgs];
    memset(rd, 0, sizeof(*rd));
    rd->rg.columns = calloc(w->ncols, sizeof(*rd->rg.columns));
    rd->ci = calloc(w->ncols, sizeof(*rd->ci));
    rd->oi = calloc(w->ncols, sizeof(*rd->oi));
    if (!rd->rg.columns || !rd->ci || !rd->oi) {
        free(rd->rg.columns);
        free(rd->ci);
        free(rd->oi);
        return SL_NOMEM;
    }
    w->nrgs++;
    rd->rg.ncolumns = (uint32_t)w->ncols;
    rd->rg.num_rows = w->rg_rows;
    rd->rg.has_file_offset = true;
    rd->rg.file_offset = (int64_t)w->pos;
    rd->rg.has_ordinal = true;
    rd->rg.ordinal = (int16_t)(w->nrgs - 1);
    int64_t rg_start = (int64_t)w->pos;

    for (size_t ci = 0; ci < w->ncols; ci++) {
        colw *c = &w->cols[ci];
        sl_pq_col_chunk *cc = &rd->rg.columns[ci];
        sl_pq_col_meta *m = &cc->meta_data;
        int64_t start = (int64_t)w->pos;
        int64_t dict_size = 0, dict_uncompressed = 0;
        bool has_dict = c->pages_dict > 0;
        if (has_dict) {
            sl_pq_page_header h;
            memset(&h, 0, sizeof(h));
            c->comp.len = 0;
            if ((err = sl_codec_compress(w->codec, c->dict.plain.ptr, c->dict.plain.len,
                                         &c->comp)))
                return err;
            h.type = PQ_DICTIONARY_PAGE;
            h.uncompressed_page_size = (int32_t)c->dict.plain.len;
            h.compressed_page_size = (int32_t)c->comp.len;
            h.has_dict_page = true;
            h.dict_page.num_values = (int32_t)c->dict.count;
            h.dict_page.encoding = PQ_ENC_PLAIN;
            c->hdr.len = 0;
            if ((err = sl_pq_page_header_encode(&h, &c->hdr)))
                return err;
            if ((err = w_write(w, c->hdr.ptr, c->hdr.len)) ||
                (err = w_write(w, c->comp.ptr, c->comp.len)))
                return err;
            dict_size = (int64_t)(c->hdr.len + c->comp.len);
            dict_uncompressed = (int64_t)(c->hdr.len + c->dict.plain.len);
        }
        int64_t data_start = (int64_t)w->pos;
        for (size_t p = 0; p < c->npages; p++)
            if ((err = w_write(w, c->pages[p].seg->data + c->pages[p].seg_off,
                               (size_t)c->pages[p].size)))
                return err;

        cc->file_offset = start;
        cc->has_meta_data = true;
        m->type = c->ptype;
        int32_t *encs = calloc(3, sizeof(*encs));
        if (!encs)
            return SL_NOMEM;
        uint32_t ne = 0;
        if (has_dict || c->pages_plain)
            encs[ne++] = PQ_ENC_PLAIN;
        if (c->max_def)
            encs[ne++] = PQ_ENC_RLE;
        if (has_dict)
            encs[ne++] = PQ_ENC_RLE_DICTIONARY;
        m->encodings = encs;
        m->nencodings = ne;
        m->npath = 1;
        m->path = calloc(1, sizeof(*m->path));
        if (!m->path)
            return SL_NOMEM;
        m->path[0].ptr = (const uint8_t *)c->field->name;
        m->path[0].len = (uint32_t)strlen(c->field->name);
        m->codec = sl_codec_thrift(w->opts.codec);
        m->num_values = c->chunk_values;
        m->total_uncompressed_size = c->chunk_uncompressed + dict_uncompressed;
        m->total_compressed_size = (int64_t)c->chunk_len + dict_size;
        m->data_page_offset = data_start;
        if (has_dict) {
            m->has_dictionary_page_offset = true;
            m->dictionary_page_offset = start;
        }
        m->has_statistics = true;
        m->statistics.has_null_count = true;
        m->statistics.null_count = c->chunk_nulls;
        if (c->chunk_mm.has) {
            blob *mn, *mx;
            bool mne, mxe;
            if ((err = make_stats(w, c, c->chunk_mm.min.ptr, c->chunk_mm.min.len,
                                  c->chunk_mm.max.ptr, c->chunk_mm.max.len, &mn, &mx, &mne,
                                  &mxe)))
                return err;
            m->statistics.has_min_value = true;
            m->statistics.min_value = bin_of(mn);
            if (mx) {
                m->statistics.has_max_value = true;
                m->statistics.max_value = bin_of(mx);
            }
            if (c->ptype == PQ_BYTE_ARRAY) {
                m->statistics.has_is_min_exact = m->statistics.has_is_max_exact = true;
                m->statistics.is_min_value_exact = mne;
                m->statistics.is_max_value_exact = mxe;
            }
        }
        sl_pq_enc_stats *es = calloc(3, sizeof(*es));
        if (!es)
            return SL_NOMEM;
        uint32_t nes = 0;
        int dp = w->opts.page_version == 2 ? PQ_DATA_PAGE_V2 : PQ_DATA_PAGE;
        if (has_dict)
            es[nes++] = (sl_pq_enc_stats){PQ_DICTIONARY_PAGE, PQ_ENC_PLAIN, 1};
        if (c->pages_dict)
            es[nes++] = (sl_pq_enc_stats){dp, PQ_ENC_RLE_DICTIONARY, c->pages_dict};
        if (c->pages_plain)
            es[nes++] = (sl_pq_enc_stats){dp, PQ_ENC_PLAIN, c->pages_plain};
        m->encoding_stats = es;
        m->nencoding_stats = nes;
        rd->rg.total_byte_size += m->total_uncompressed_size;

        /* page index for this chunk */
        if (w->opts.page_index && c->npages) {
            sl_pq_offset_index *oi = &rd->oi[ci];
            oi->pages = calloc(c->npages, sizeof(*oi->pages));
            if (!oi->pages)
                return SL_NOMEM;
            oi->npages = (uint32_t)c->npages;
            for (size_t p = 0; p < c->npages; p++) {
                oi->pages[p].offset = data_start + c->pages[p].offset_in_chunk;
                oi->pages[p].compressed_page_size = c->pages[p].size;
                oi->pages[p].first_row_index = c->pages[p].first_row;
            }
            if (c->chunk_index_ok) {
                sl_pq_column_index *cx = &rd->ci[ci];
                cx->null_pages = calloc(c->npages, sizeof(*cx->null_pages));
                cx->min_values = calloc(c->npages, sizeof(*cx->min_values));
                cx->max_values = calloc(c->npages, sizeof(*cx->max_values));
                cx->null_counts = calloc(c->npages, sizeof(*cx->null_counts));
                if (!cx->null_pages || !cx->min_values || !cx->max_values || !cx->null_counts)
                    return SL_NOMEM;
                cx->npages = (uint32_t)c->npages;
                cx->has_null_counts = true;
                bool asc = true, desc = true;
                const page_info *prev = NULL;
                for (size_t p = 0; p < c->npages; p++) {
                    const page_info *pi = &c->pages[p];
                    cx->null_pages[p] = pi->null_page;
                    cx->null_counts[p] = pi->null_count;
                    if (pi->null_page) {
                        static const uint8_t empty[1];
                        cx->min_values[p] = (sl_pq_bin){empty, 0};
                        cx->max_values[p] = (sl_pq_bin){empty, 0};
                        continue;
                    }
                    blob *mn, *mx;
                    bool mne, mxe;
                    if ((err = make_stats(w, c, pi->min->data, pi->min->len, pi->max->data,
                                          pi->max->len, &mn, &mx, &mne, &mxe)))
                        return err;
                    if (!mx) {
                        /* no upper bound can be expressed: keep the untruncated one */
                        mx = pi->max;
                    }
                    cx->min_values[p] = bin_of(mn);
                    cx->max_values[p] = bin_of(mx);
                    if (prev) {
                        int cmin = cmp_stat(c->ptype, pi->min->data, pi->min->len,
                                            prev->min->data, prev->min->len);
                        int cmax = cmp_stat(c->ptype, pi->max->data, pi->max->len,
                                            prev->max->data, prev->max->len);
                        if (cmin < 0 || cmax < 0)
                            asc = false;
                        if (cmin > 0 || cmax > 0)
                            desc = false;
                    }
                    prev = pi;
                }
                cx->boundary_order = asc ? PQ_ASCENDING : desc ? PQ_DESCENDING : PQ_UNORDERED;
            }
        }
        chunk_reset(w, c);
    }
    rd->rg.has_total_compressed_size = true;
    rd->rg.total_compressed_size = (int64_t)w->pos - rg_start;
    w->rg_rows = 0;
    return SL_OK;
}

static size_t rg_bytes(const sl_pq_writer *w)
{
    size_t total = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const colw *c = &w->cols[i];
        total += (size_t)c->chunk_uncompressed + page_size_estimate(c) + c->dict.plain.len;
    }
    return total;
}

/* ---- encoding pool ------------------------------------------------------------------- */

/* Encodes the columns of the current job until none is left; any thread may call it. */
static void pool_work(enc_pool *p, sl_codec_ctx *cc)
{
    sl_pq_writer *w = p->w;
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&p->next_col, 1, memory_order_relaxed);
        if (i >= w->ncols)
            return;
        p->errs[i] = colw_add(w, &w->cols[i], cc, &p->batch->cols[i], p->a, p->b);
    }
}

static void *pool_main(void *arg)
{
    enc_pool *p = ((void **)arg)[0];
    sl_codec_ctx *cc = ((void **)arg)[1];
    free(arg);
    prctl(PR_SET_NAME, "sl-encode", 0, 0, 0); /* shown by top -H and perf */
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->stop)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        pool_work(p, cc);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_destroy(enc_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->tids[i], NULL);
    for (int i = 0; i < p->n; i++)
        sl_codec_ctx_destroy(p->ctx[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->tids);
    free(p->ctx);
    free(p->errs);
    free(p);
}

static sl_err pool_create(sl_pq_writer *w, int helpers, enc_pool **out)
{
    enc_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return SL_NOMEM;
    p->w = w;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->tids = calloc((size_t)helpers, sizeof(*p->tids));
    p->ctx = calloc((size_t)helpers, sizeof(*p->ctx));
    p->errs = calloc(w->ncols, sizeof(*p->errs));
    if (!p->tids || !p->ctx || !p->errs) {
        pool_destroy(p);
        return SL_NOMEM;
    }
    for (int i = 0; i < helpers; i++) {
        sl_err err = sl_codec_ctx_create(w->opts.codec, w->opts.level, &p->ctx[i]);
        void **arg = malloc(2 * sizeof(*arg));
        if (err || !arg) {
            free(arg);
            sl_codec_ctx_destroy(p->ctx[i]);
            p->ctx[i] = NULL;
            pool_destroy(p);
            return err ? err : SL_NOMEM;
        }
        arg[0] = p;
        arg[1] = p->ctx[i];
        if (pthread_create(&p->tids[i], NULL, pool_main, arg)) {
            free(arg);
            sl_codec_ctx_destroy(p->ctx[i]);
            p->ctx[i] = NULL;
            pool_destroy(p);
            return SL_NOMEM;
        }
        p->n++;
    }
    *out = p;
    return SL_OK;
}

/* Encodes rows [a, b) of every column, in parallel when a pool exists. Returns the error of
 * the first failing column, with its message copied to the writer. */
static sl_err encode_slice(sl_pq_writer *w, const sl_batch *batch, size_t a, size_t b)
{
    sl_err err;
    enc_pool *p = w->pool;
    if (!p) {
        for (size_t i = 0; i < w->ncols; i++)
            if ((err = colw_add(w, &w->cols[i], w->codec, &batch->cols[i], a, b)))
                return fail(w, err, "%s",
                            w->cols[i].errmsg[0] ? w->cols[i].errmsg : sl_strerror(err));
        return SL_OK;
    }
    pthread_mutex_lock(&p->mu);
    p->batch = batch;
    p->a = a;
    p->b = b;
    atomic_store_explicit(&p->next_col, 0, memory_order_relaxed);
    p->busy = p->n;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    pool_work(p, w->codec);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < w->ncols; i++)
        if (p->errs[i])
            return fail(w, p->errs[i], "%s",
                        w->cols[i].errmsg[0] ? w->cols[i].errmsg : sl_strerror(p->errs[i]));
    return SL_OK;
}

/* ---- public API ------------------------------------------------------------------------ */

void sl_pq_opts_default(sl_pq_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->codec = SL_CODEC_SNAPPY;
    o->row_group_bytes = 128 * MIB;
    o->page_bytes = 1 * MIB;
    o->page_rows = 20000;
    o->dict_bytes = 1 * MIB;
    o->page_version = 1;
    o->page_index = true;
    o->stats_max_bytes = 64;
}

static sl_err schema_json(const sl_schema *s, sl_buf *b)
{
    sl_err err = sl_buf_puts(b, "{\"version\":1,\"fields\":[");
    for (size_t i = 0; i < s->nfields && !err; i++) {
        char tname[64];
        sl_type_format(s->fields[i].type, tname, sizeof(tname));
        if (i)
            err = sl_buf_putc(b, ',');
        if (!err)
            err = sl_buf_puts(b, "{\"name\":");
        if (!err)
            err = sl_buf_json_str(b, s->fields[i].name, strlen(s->fields[i].name));
        if (!err)
            err = sl_buf_printf(b, ",\"type\":\"%s\",\"nullable\":%s}", tname,
                                s->fields[i].nullable ? "true" : "false");
    }
    if (!err)
        err = sl_buf_puts(b, "]}");
    return err;
}

sl_err sl_pq_writer_create(const sl_schema *schema, const sl_pq_opts *opts, sl_output out,
                           sl_pq_writer **out_writer)
{
    sl_err err;
    sl_pq_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return SL_NOMEM;
    if (opts)
        w->opts = *opts;
    else
        sl_pq_opts_default(&w->opts);
    sl_pq_opts *o = &w->opts;
    if (!o->page_rows || !o->page_bytes || !o->row_group_bytes ||
        (o->page_version != 1 && o->page_version != 2) || schema->nfields == 0 ||
        o->page_rows > INT32_MAX / 2) {
        free(w);
        return SL_INVALID;
    }
    w->schema = schema;
    w->out = out;
    sl_buf_init(&w->schema_json, 0);
    if ((err = sl_codec_ctx_create(o->codec, o->level, &w->codec)))
        goto out_free;
    w->ncols = schema->nfields;
    w->cols = calloc(w->ncols, sizeof(*w->cols));
    w->schema_elems = calloc(w->ncols + 1, sizeof(*w->schema_elems));
    if (!w->cols || !w->schema_elems) {
        err = SL_NOMEM;
        goto out_free;
    }
    w->schema_elems[0].name.ptr = (const uint8_t *)"schema";
    w->schema_elems[0].name.len = 6;
    w->schema_elems[0].has_num_children = true;
    w->schema_elems[0].num_children = (int32_t)w->ncols;
    for (size_t i = 0; i < w->ncols; i++) {
        colw *c = &w->cols[i];
        c->field = &schema->fields[i];
        physical_of(c->field, &c->ptype, &c->type_len, &c->width);
        c->max_def = c->field->nullable ? 1 : 0;
        sl_buf_init(&c->plain, 0);
        sl_buf_init(&c->body, 0);
        sl_buf_init(&c->comp, 0);
        sl_buf_init(&c->hdr, 0);
        sl_buf_init(&c->tmp, 0);
        sl_buf_init(&c->page_mm.min, 0);
        sl_buf_init(&c->page_mm.max, 0);
        sl_buf_init(&c->chunk_mm.min, 0);
        sl_buf_init(&c->chunk_mm.max, 0);
        sl_buf_init(&c->dict.plain, 0);
        chunk_reset(w, c);
        schema_elem_of(c->field, &w->schema_elems[i + 1]);
    }
    if ((err = schema_json(schema, &w->schema_json)))
        goto out_free;
    if (o->threads > 1 && (err = pool_create(w, o->threads - 1, &w->pool)))
        goto out_free;
    if ((err = w_write(w, "PAR1", 4)))
        goto out_free;
    *out_writer = w;
    return SL_OK;
out_free:
    sl_pq_writer_destroy(w);
    return err;
}

static sl_err check_batch(sl_pq_writer *w, const sl_batch *b)
{
    if (b->ncols != w->ncols)
        return fail(w, SL_INVALID, "batch has %zu columns, schema has %zu", b->ncols, w->ncols);
    size_t rows = sl_batch_rows(b);
    for (size_t i = 0; i < b->ncols; i++) {
        const sl_column *col = &b->cols[i];
        const sl_field *f = &w->schema->fields[i];
        if (col->len != rows)
            return fail(w, SL_INVALID, "column '%s' has %zu rows, expected %zu", f->name,
                        col->len, rows);
        if (col->type.id != f->type.id || col->width != sl_type_width(f->type) ||
            (col->nullable && !f->nullable))
            return fail(w, SL_INVALID, "column '%s' does not match the writer's schema", f->name);
    }
    return SL_OK;
}

sl_err sl_pq_writer_write(sl_pq_writer *w, const sl_batch *b)
{
    sl_err err;
    if (w->failed)
        return w->failed;
    if (w->finished)
        return fail(w, SL_STATE, "write after finish");
    if ((err = check_batch(w, b)))
        return err;
    size_t rows = sl_batch_rows(b);
    size_t a = 0;
    while (a < rows) {
        size_t n = rows - a;
        if (n > w->opts.page_rows)
            n = w->opts.page_rows;
        if (w->opts.row_group_rows && n > w->opts.row_group_rows - (size_t)w->rg_rows)
            n = w->opts.row_group_rows - (size_t)w->rg_rows;
        if ((err = encode_slice(w, b, a, a + n)))
            return err;
        w->rg_rows += (int64_t)n;
        w->total_rows += n;
        a += n;
        if ((w->opts.row_group_rows && (size_t)w->rg_rows >= w->opts.row_group_rows) ||
            rg_bytes(w) >= w->opts.row_group_bytes)
            if ((err = flush_row_group(w)))
                goto out_fail;
    }
    return SL_OK;
out_fail:
    return fail(w, err, "%s", sl_strerror(err));
}

sl_err sl_pq_writer_finish(sl_pq_writer *w)
{
    sl_err err;
    if (w->failed)
        return w->failed;
    if (w->finished)
        return fail(w, SL_STATE, "finish called twice");
    if ((err = flush_row_group(w)))
        return fail(w, err, "%s", sl_strerror(err));
    sl_buf tmp;
    sl_buf_init(&tmp, 0);
    /* page index: all column indexes, then all offset indexes */
    if (w->opts.page_index) {
        for (size_t r = 0; r < w->nrgs; r++)
            for (size_t i = 0; i < w->ncols; i++) {
                if (!w->rgs[r].ci[i].npages)
                    continue;
                tmp.len = 0;
                if ((err = sl_pq_column_index_encode(&w->rgs[r].ci[i], &tmp)))
                    goto out_tmp;
                sl_pq_col_chunk *cc = &w->rgs[r].rg.columns[i];
                cc->has_column_index = true;
                cc->column_index_offset = (int64_t)w->pos;
                cc->column_index_length = (int32_t)tmp.len;
                if ((err = w_write(w, tmp.ptr, tmp.len)))
                    goto out_tmp;
            }
        for (size_t r = 0; r < w->nrgs; r++)
            for (size_t i = 0; i < w->ncols; i++) {
                if (!w->rgs[r].oi[i].npages)
                    continue;
                tmp.len = 0;
                if ((err = sl_pq_offset_index_encode(&w->rgs[r].oi[i], &tmp)))
                    goto out_tmp;
                sl_pq_col_chunk *cc = &w->rgs[r].rg.columns[i];
                cc->has_offset_index = true;
                cc->offset_index_offset = (int64_t)w->pos;
                cc->offset_index_length = (int32_t)tmp.len;
                if ((err = w_write(w, tmp.ptr, tmp.len)))
                    goto out_tmp;
            }
    }

    sl_pq_meta m;
    memset(&m, 0, sizeof(m));
    m.version = w->opts.page_version == 2 ? 2 : 1;
    m.nschema = (uint32_t)w->ncols + 1;
    m.schema = w->schema_elems;
    m.num_rows = (int64_t)w->total_rows;
    sl_pq_row_group *rgs = calloc(w->nrgs ? w->nrgs : 1, sizeof(*rgs));
    int32_t *orders = calloc(w->ncols, sizeof(*orders));
    sl_pq_kv *kv = calloc(w->opts.nkv + 1, sizeof(*kv));
    char created_by[128];
    if (!rgs || !orders || !kv) {
        err = SL_NOMEM;
        goto out_meta;
    }
    for (size_t r = 0; r < w->nrgs; r++)
        rgs[r] = w->rgs[r].rg;
    m.nrow_groups = (uint32_t)w->nrgs;
    m.row_groups = rgs;
    for (size_t i = 0; i < w->ncols; i++)
        orders[i] = 1; /* TYPE_ORDER */
    m.ncolumn_orders = (uint32_t)w->ncols;
    m.column_orders = orders;
    kv[0].key = (sl_pq_bin){(const uint8_t *)"sluice.schema", 13};
    kv[0].has_value = true;
    kv[0].value = (sl_pq_bin){w->schema_json.ptr, (uint32_t)w->schema_json.len};
    for (size_t i = 0; i < w->opts.nkv; i++) {
        kv[i + 1].key = (sl_pq_bin){(const uint8_t *)w->opts.kv[i].key,
                                    (uint32_t)strlen(w->opts.kv[i].key)};
        if (w->opts.kv[i].value) {
            kv[i + 1].has_value = true;
            kv[i + 1].value = (sl_pq_bin){(const uint8_t *)w->opts.kv[i].value,
                                          (uint32_t)strlen(w->opts.kv[i].value)};
        }
    }
    m.nkv = (uint32_t)w->opts.nkv + 1;
    m.kv = kv;
    snprintf(created_by, sizeof(created_by), "sluice version %s (build %s)", sl_version(),
             sl_build_id());
    m.has_created_by = true;
    m.created_by = (sl_pq_bin){(const uint8_t *)created_by, (uint32_t)strlen(created_by)};

    tmp.len = 0;
    if ((err = sl_pq_meta_encode(&m, &tmp)))
        goto out_meta;
    uint8_t trailer[8];
    sl_store_le32(trailer, (uint32_t)tmp.len);
    memcpy(trailer + 4, "PAR1", 4);
    if ((err = w_write(w, tmp.ptr, tmp.len)) || (err = w_write(w, trailer, 8)))
        goto out_meta;
    w->finished = true;
out_meta:
    free(rgs);
    free(orders);
    free(kv);
out_tmp:
    sl_buf_release(&tmp);
    if (err)
        return fail(w, err, "%s", sl_strerror(err));
    return SL_OK;
}

const char *sl_pq_writer_errmsg(const sl_pq_writer *w)
{
    return w->errmsg;
}

uint64_t sl_pq_writer_rows(const sl_pq_writer *w)
{
    return w->total_rows;
}

uint64_t sl_pq_writer_bytes(const sl_pq_writer *w)
{
    return w->pos;
}

void sl_pq_writer_destroy(sl_pq_writer *w)
{
    if (!w)
        return;
    pool_destroy(w->pool);
    for (size_t i = 0; w->cols && i < w->ncols; i++)
        colw_release(&w->cols[i]);
    free(w->cols);
    for (size_t r = 0; r < w->nrgs; r++) {
        rg_done *rd = &w->rgs[r];
        for (size_t i = 0; i < rd->rg.ncolumns; i++) {
            free(rd->rg.columns[i].meta_data.encodings);
            free(rd->rg.columns[i].meta_data.path);
            free(rd->rg.columns[i].meta_data.encoding_stats);
            free(rd->oi[i].pages);
            free(rd->ci[i].null_pages);
            free(rd->ci[i].min_values);
            free(rd->ci[i].max_values);
            free(rd->ci[i].null_counts);
        }
        free(rd->rg.columns);
        free(rd->ci);
        free(rd->oi);
    }
    free(w->rgs);
    while (w->blobs) {
        blob *n = w->blobs->next;
        free(w->blobs);
        w->blobs = n;
    }
    free(w->schema_elems);
    sl_buf_release(&w->schema_json);
    sl_codec_ctx_destroy(w->codec);
    free(w);
}
