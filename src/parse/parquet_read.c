/* parquet_read.c: Parquet reader for flat files; see parquet_read.h.
 *
 * Design
 *   open: the last 8 bytes give the footer length and magic; the footer is read and decoded by
 *   encode/parquet/pq_meta.c (the same Thrift compact codec the writer and `sluice inspect` use,
 *   which bounds every read and caps its arena). The schema tree is walked once: each top-level
 *   primitive that is not repeated becomes a readable column with a natural sl_type (the
 *   "file schema"); groups, LIST/MAP and repeated fields are remembered as unsupported, with the
 *   number of leaf columns they span so column chunk indexes stay right. With a model, each
 *   model column is matched by name and a conversion ("conv") is chosen once, at open.
 *
 *   next: rows are read row group by row group. Each output column that maps to a file column
 *   has a cursor over its column chunk: the current page (read with pread, CRC-checked,
 *   decompressed), the chunk's dictionary, a level decoder and a value decoder. Pages are
 *   decoded in segments of at most SEG_ROWS rows: definition levels into bytes, the non-null
 *   values into a typed scratch (fixed-width slots, or views for byte arrays), then stored into
 *   the output column through the column's conv, which checks what the model needs (nulls,
 *   ranges, lossless rescale, UTF-8, JSON). Bad rows are marked, given a placeholder, and cut
 *   out of every column at the end of the call, then reported in row order.
 *
 *   Every decoder is incremental (RLE/bit-packed runs, DELTA_BINARY_PACKED miniblocks, PLAIN
 *   and BYTE_STREAM_SPLIT cursors): a page whose runs claim billions of values costs time only
 *   as values are asked for, and values are only asked for up to the row group's row count.
 *
 * Invariants
 *   - Every pointer into a page stays within [start, end) of its buffer: each read checks the
 *     bytes left first. Counts from the file are compared with what the buffers hold before use.
 *   - A cursor never holds more than one page (compressed + decompressed) and one dictionary;
 *     each is capped by max_page_bytes, and their sizes are checked against the column chunk,
 *     which is checked against the file.
 *   - After an error the reader is poisoned: r->failed is returned by every later next().
 *
 * Byte order: the file is little-endian; so is every platform we build on (checked below), so
 * fixed-width values are copied with memcpy.
 */
#define _GNU_SOURCE
#include "parse/parquet_read.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lz4.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "encode/parquet/codec.h"
#include "encode/parquet/pq_meta.h"
#include "parse/coerce.h"
#include "util/buf.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "parquet_read.c assumes a little-endian host"
#endif
#if !defined(__SIZEOF_INT128__)
#error "parquet_read.c needs __int128 (decimals up to 38 digits)"
#endif

typedef __int128 i128;

#define MIB ((size_t)1 << 20)
#define SEG_ROWS 4096        /* rows decoded per step (scratch arrays are this long) */
#define SEG_BYTES (1u << 20) /* ... fewer when fixed values are wide */
#define HDR_FIRST 1024       /* first read for a page header; grown when it is longer */
#define HDR_MAX (16u << 20)  /* page headers (with statistics) larger than this are refused */
#define MAX_FLBA (1u << 20)  /* FIXED_LEN_BYTE_ARRAY type_length limit */
#define DELTA_MAX_BLOCK (1u << 20)

/* Parquet enum values pq_meta.h does not name. */
enum {
    CT_MAP = 1, CT_MAP_KEY_VALUE = 2, CT_LIST = 3, CT_ENUM = 4, CT_TIME_MILLIS = 7,
    CT_TIME_MICROS = 8, CT_UINT_8 = 11, CT_UINT_16 = 12, CT_UINT_32 = 13, CT_UINT_64 = 14,
    CT_INT_8 = 15, CT_INT_16 = 16, CT_BSON = 20, CT_INTERVAL = 21,
};
enum { LT_MAP = 2, LT_LIST = 3, LT_ENUM = 4, LT_FLOAT16 = 15, LT_VARIANT = 16 };

/* How values of a file column come out of the decoders. */
typedef enum {
    SRC_BOOL,  /* 1 byte 0/1 */
    SRC_I32,
    SRC_U32,   /* INT32 annotated unsigned 32-bit */
    SRC_I64,
    SRC_U64,   /* INT64 annotated unsigned 64-bit */
    SRC_I96,   /* 12 bytes: nanoseconds of day (8), Julian day (4) */
    SRC_F32,
    SRC_F64,
    SRC_F16,   /* FIXED_LEN_BYTE_ARRAY(2) FLOAT16 */
    SRC_FIXED, /* FIXED_LEN_BYTE_ARRAY: type_length bytes */
    SRC_VAR,   /* BYTE_ARRAY: views */
} src_kind;

/* How an output column is filled from its source. */
typedef enum {
    CV_NULLS,  /* not in the file: all null */
    CV_COPY,   /* same representation: copy `width` bytes */
    CV_INT,    /* integer path through i128: scale, range check */
    CV_FLOAT,  /* float/double/half/int32 -> float or double */
    CV_BYTES,  /* byte strings, with optional UTF-8 / JSON checks */
} conv_kind;

typedef struct {
    const uint8_t *p;
    uint32_t n;
} bview;

/* A readable top-level column of the file. */
typedef struct {
    char *name; /* owned by file_schema */
    uint32_t leaf; /* column chunk index */
    int32_t phys;
    uint32_t pw; /* fixed physical width (bool 1, int96 12, FLBA type_length); 0 for BYTE_ARRAY */
    int max_def;
    src_kind src;
    sl_type type; /* natural type */
    bool nullable;
    char ptype[48]; /* "INT64 TIMESTAMP(MICROS, UTC)", for messages */
} fcol;

/* A top-level column we cannot read. */
typedef struct {
    char *name;
    char reason[160];
    sl_err code;
} ucol;

/* RLE/bit-packed hybrid, decoded incrementally. */
typedef struct {
    const uint8_t *p, *end;
    unsigned bw;
    uint32_t mask;
    uint64_t rle_left;
    uint32_t rle_val;
    uint64_t bp_left;   /* values left in the bit-packed run */
    const uint8_t *bp;  /* the run's bytes */
    size_t bp_len;
    uint64_t bp_bit;    /* next value's bit offset in bp */
} rle_dec;

/* DELTA_BINARY_PACKED, decoded incrementally. */
typedef struct {
    const uint8_t *p, *end;
    uint64_t nmb, mbsize;
    uint64_t left;          /* values not yet returned */
    uint64_t last;
    bool started;
    uint64_t min_delta;
    const uint8_t *widths;  /* this block's miniblock bit widths */
    uint64_t mb_next;       /* index of the next miniblock to enter; nmb = new block */
    uint64_t mb_left;
    const uint8_t *mbp;
    size_t mblen;
    uint64_t mbbit;
    unsigned w;
} delta_dec;

typedef struct cursor {
    const fcol *f;
    /* chunk */
    uint64_t pos, end, chunk_start;
    uint64_t rows_left;
    sl_codec codec;
    bool lz4_hadoop;
    uint32_t rg;
    uint32_t page_no;
    uint32_t data_pages;
    uint64_t page_off;
    sl_buf hbuf, cbuf, pbuf, dbuf, seg, prev;
    /* dictionary */
    bool has_dict;
    uint32_t dict_n;
    const uint8_t *dict_fixed; /* dict_n * pw bytes (bools unpacked to bytes) */
    uint8_t *dict_own;         /* bools */
    bview *dict_views;
    /* page */
    uint64_t page_left;
    uint64_t page_vals;        /* values in the current page (for messages) */
    bool defs_on;
    bool defs_msb;             /* deprecated BIT_PACKED levels */
    rle_dec defs;
    const uint8_t *lp, *lend;
    uint64_t lbit;
    bool all_defined;          /* v2 page with no level bytes and no nulls */
    /* values */
    int enc;
    bool ready;
    const uint8_t *vp, *vend, *vstart;
    uint64_t vbit;
    rle_dec vr;
    delta_dec d1, d2;
    const uint8_t *bytes, *bytes_end;
    uint64_t bss_n, bss_i;
    size_t dba_total;
    /* scratch */
    size_t seg_rows;
    uint8_t *defbuf;
    uint32_t *u32buf;
    uint8_t *vbuf;
    bview *views;
} cursor;

typedef struct {
    int32_t fidx; /* file column (index into fcols) or -1 */
    conv_kind conv;
    src_kind src;
    sl_type dst;
    bool nullable;
    unsigned width;
    i128 mul, div;      /* CV_INT: value * mul / div */
    bool truncate;      /* CV_INT: floor instead of rejecting a remainder (INT96 units) */
    i128 lo, hi;        /* CV_INT range */
    bool check_utf8, check_json;
    cursor *cur;
} ocol;

typedef struct {
    size_t row; /* in this call */
    int32_t field;
    sl_row_code code;
    char detail[96];
} rowrej;

struct sl_pq_reader {
    int fd;
    bool own_fd;
    const uint8_t *mem;
    uint64_t size;
    uint64_t data_end; /* footer start */
    sl_pq_read_opts o;
    sl_pq_meta meta;
    sl_schema *file_schema;
    const sl_schema *schema;
    uint32_t nleaves;
    fcol *fcols;
    size_t nfcols;
    ucol *ucols;
    size_t nucols;
    ocol *ocols;
    size_t nocols;
    char created_by[128];

    uint32_t rg;       /* next row group to open */
    bool rg_open;
    uint32_t cur_rg;
    uint64_t rg_left;
    uint64_t num_rows;
    uint64_t rows_read, rows_rejected;

    uint8_t *bad;
    size_t bad_cap;
    rowrej *rej;
    size_t nrej, rej_cap;
    size_t *rm;
    sl_err failed;
    sl_pq_read_error err;
};

void sl_pq_read_opts_default(sl_pq_read_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->int96_unit = SL_UNIT_NS;
    o->validate_utf8 = true;
    o->verify_crc = true;
    o->max_page_bytes = 256 * MIB;
    o->max_footer_bytes = 64 * MIB;
}

/* ---- errors ------------------------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static sl_err set_err(sl_pq_read_error *e, sl_err code,
                                                           const char *hint, const char *fmt, ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    snprintf(e->hint, sizeof(e->hint), "%s", hint ? hint : "");
    return code;
}

/* An error inside a column chunk: the message says where. Poisons the reader. */
__attribute__((format(printf, 5, 6))) static sl_err cfail(sl_pq_reader *r, const cursor *c,
                                                         sl_err code, const char *hint,
                                                         const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (c->page_no)
        set_err(&r->err, code, hint, "column '%s' (row group %u, page %u at offset %llu): %s",
                c->f->name, c->rg, c->page_no - 1, (unsigned long long)c->page_off, what);
    else
        set_err(&r->err, code, hint, "column '%s' (row group %u, chunk at offset %llu): %s",
                c->f->name, c->rg, (unsigned long long)c->chunk_start, what);
    r->failed = code;
    return code;
}

static sl_err nomem(sl_pq_reader *r)
{
    r->failed = SL_NOMEM;
    return set_err(&r->err, SL_NOMEM, NULL, "out of memory");
}

/* ---- input ------------------------------------------------------------------------------- */

/* Reads exactly n bytes at off (the caller checked off + n <= size). */
static sl_err read_at(sl_pq_reader *r, uint64_t off, void *dst, size_t n)
{
    if (r->mem) {
        sl_memcpy(dst, r->mem + off, n);
        return SL_OK;
    }
    uint8_t *d = dst;
    while (n) {
        ssize_t k = pread(r->fd, d, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return SL_IO;
        }
        if (k == 0)
            return SL_FORMAT; /* the file shrank under us */
        d += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return SL_OK;
}

/* Reads n bytes at off into b (replacing its contents). */
static sl_err read_buf(sl_pq_reader *r, uint64_t off, size_t n, sl_buf *b)
{
    b->len = 0;
    sl_err err = sl_buf_reserve(b, n ? n : 1);
    if (err)
        return err;
    if ((err = read_at(r, off, b->ptr, n)))
        return err;
    b->len = n;
    return SL_OK;
}

static inline uint32_t le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static bool varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= end)
            return false;
        uint8_t c = *p++;
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *pp = p;
            *out = v;
            return true;
        }
    }
    return false;
}

static inline int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* w (<= 64) bits at bit offset `bit` of p[0..len): the caller checked bit + w <= len * 8. */
static inline uint64_t get_bits(const uint8_t *p, size_t len, uint64_t bit, unsigned w)
{
    if (!w)
        return 0;
    size_t byte = (size_t)(bit >> 3);
    unsigned shift = (unsigned)(bit & 7);
    uint64_t v;
    if (byte + 9 <= len) {
        memcpy(&v, p + byte, 8);
        v >>= shift;
        if (w + shift > 64)
            v |= (uint64_t)p[byte + 8] << (64 - shift);
    } else {
        v = 0;
        unsigned got = 0;
        size_t i = byte;
        /* gather up to 9 bytes, whatever is left */
        uint64_t lo = 0;
        while (i < len && got < 64) {
            lo |= (uint64_t)p[i++] << got;
            got += 8;
        }
        v = lo >> shift;
        if (w + shift > 64 && i < len)
            v |= (uint64_t)p[i] << (64 - shift);
    }
    return w == 64 ? v : v & (((uint64_t)1 << w) - 1);
}

/* ---- RLE / bit-packed hybrid ------------------------------------------------------------ */

static void rle_init(rle_dec *d, const uint8_t *p, size_t n, unsigned bw)
{
    memset(d, 0, sizeof(*d));
    d->p = p;
    d->end = p + n;
    d->bw = bw;
    d->mask = bw >= 32 ? UINT32_MAX : (uint32_t)((1u << bw) - 1);
}

/* Reads the next run header. False on malformed or exhausted input. */
static bool rle_refill(rle_dec *d)
{
    uint64_t h;
    if (!varint(&d->p, d->end, &h))
        return false;
    size_t avail = (size_t)(d->end - d->p);
    if (h & 1) {
        uint64_t groups = h >> 1;
        if (d->bw == 0) {
            d->bp_left = groups > ((uint64_t)1 << 40) ? (uint64_t)1 << 43 : groups * 8;
            d->bp = d->p;
            d->bp_len = 0;
            d->bp_bit = 0;
            return true;
        }
        /* a short last run is accepted: the values it does hold are readable */
        uint64_t need = groups > avail ? (uint64_t)avail + 1 : groups * d->bw;
        size_t take = need > avail ? avail : (size_t)need;
        uint64_t count = groups > avail ? (uint64_t)avail * 8 : groups * 8;
        uint64_t fit = (uint64_t)take * 8 / d->bw;
        d->bp_left = count < fit ? count : fit;
        d->bp = d->p;
        d->bp_len = take;
        d->bp_bit = 0;
        d->p += take;
        return true;
    }
    size_t vbytes = (d->bw + 7) / 8;
    if (avail < vbytes)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < vbytes; i++)
        v |= (uint32_t)d->p[i] << (8 * i);
    d->p += vbytes;
    if (v & ~d->mask)
        return false;
    d->rle_left = h >> 1;
    d->rle_val = v;
    return true;
}

/* Decodes n values. False on malformed or short input. */
static bool rle_get(rle_dec *d, uint32_t *out, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (d->rle_left) {
            size_t k = n - i;
            if (k > d->rle_left)
                k = (size_t)d->rle_left;
            uint32_t v = d->rle_val;
            for (size_t j = 0; j < k; j++)
                out[i + j] = v;
            i += k;
            d->rle_left -= k;
            continue;
        }
        if (d->bp_left) {
            size_t k = n - i;
            if (k > d->bp_left)
                k = (size_t)d->bp_left;
            unsigned bw = d->bw;
            if (bw == 0) {
                memset(out + i, 0, k * sizeof(*out));
            } else if (bw == 1) {
                uint64_t bit = d->bp_bit;
                for (size_t j = 0; j < k; j++, bit++)
                    out[i + j] = (d->bp[bit >> 3] >> (bit & 7)) & 1;
            } else {
                uint64_t bit = d->bp_bit;
                for (size_t j = 0; j < k; j++, bit += bw)
                    out[i + j] = (uint32_t)get_bits(d->bp, d->bp_len, bit, bw);
            }
            d->bp_bit += (uint64_t)k * bw;
            d->bp_left -= k;
            i += k;
            continue;
        }
        if (!rle_refill(d))
            return false;
    }
    return true;
}

/* ---- DELTA_BINARY_PACKED ------------------------------------------------------------------ */

static bool delta_init(delta_dec *d, const uint8_t *p, const uint8_t *end)
{
    uint64_t block, nmb, total, first;
    memset(d, 0, sizeof(*d));
    if (!varint(&p, end, &block) || !varint(&p, end, &nmb) || !varint(&p, end, &total) ||
        !varint(&p, end, &first))
        return false;
    if (block == 0 || block > DELTA_MAX_BLOCK || nmb == 0 || block % nmb ||
        (block / nmb) % 8)
        return false;
    d->p = p;
    d->end = end;
    d->nmb = nmb;
    d->mbsize = block / nmb;
    d->left = total;
    d->last = (uint64_t)unzigzag(first);
    d->mb_next = nmb;
    return true;
}

/* Enters the next miniblock (reading a block header first when needed). */
static bool delta_enter(delta_dec *d)
{
    if (d->mb_next >= d->nmb) {
        uint64_t md;
        if (!varint(&d->p, d->end, &md))
            return false;
        if ((uint64_t)(d->end - d->p) < d->nmb)
            return false;
        d->min_delta = (uint64_t)unzigzag(md);
        d->widths = d->p;
        d->p += d->nmb;
        d->mb_next = 0;
    }
    unsigned w = d->widths[d->mb_next++];
    if (w > 64)
        return false;
    uint64_t bytes = d->mbsize * w / 8;
    size_t avail = (size_t)(d->end - d->p);
    /* the last miniblock may lack its padding */
    size_t take = bytes > avail ? avail : (size_t)bytes;
    d->w = w;
    d->mbp = d->p;
    d->mblen = take;
    d->mbbit = 0;
    d->mb_left = d->mbsize;
    d->p += take;
    return true;
}

/* n values into out (as 64-bit; INT32 columns keep the low 32 bits: the arithmetic wraps the
 * same way). */
static bool delta_get(delta_dec *d, uint64_t *out, size_t n)
{
    size_t i = 0;
    if (n > d->left)
        return false;
    if (n && !d->started) {
        d->started = true;
        out[i++] = d->last;
        d->left--;
    }
    while (i < n) {
        if (!d->mb_left && !delta_enter(d))
            return false;
        size_t k = n - i;
        if (k > d->mb_left)
            k = (size_t)d->mb_left;
        unsigned w = d->w;
        if ((d->mbbit + (uint64_t)k * w + 7) / 8 > d->mblen)
            return false;
        uint64_t last = d->last, md = d->min_delta, bit = d->mbbit;
        for (size_t j = 0; j < k; j++, bit += w) {
            last += md + get_bits(d->mbp, d->mblen, bit, w);
            out[i + j] = last;
        }
        d->last = last;
        d->mbbit = bit;
        d->mb_left -= k;
        d->left -= k;
        i += k;
    }
    return true;
}

/* Where a DELTA_BINARY_PACKED stream starting at p ends (for the byte-array encodings, whose
 * bytes follow it). NULL if it is malformed. */
static const uint8_t *delta_skip(const uint8_t *p, const uint8_t *end, uint64_t *count)
{
    delta_dec d;
    if (!delta_init(&d, p, end))
        return NULL;
    *count = d.left;
    uint64_t remaining = d.left ? d.left - 1 : 0;
    p = d.p;
    while (remaining) {
        uint64_t md;
        if (!varint(&p, end, &md) || (uint64_t)(end - p) < d.nmb)
            return NULL;
        const uint8_t *widths = p;
        p += d.nmb;
        for (uint64_t i = 0; i < d.nmb && remaining; i++) {
            if (widths[i] > 64)
                return NULL;
            uint64_t bytes = d.mbsize * widths[i] / 8;
            uint64_t take = remaining < d.mbsize ? remaining : d.mbsize;
            if (bytes > (uint64_t)(end - p)) {
                if (take != remaining)
                    return NULL;
                p = end; /* the last miniblock may lack its padding */
            } else {
                p += bytes;
            }
            remaining -= take;
        }
    }
    return p;
}

/* ---- pages ------------------------------------------------------------------------------- */

static const char *enc_name(int e)
{
    switch (e) {
    case PQ_ENC_PLAIN:
        return "PLAIN";
    case PQ_ENC_PLAIN_DICTIONARY:
        return "PLAIN_DICTIONARY";
    case PQ_ENC_RLE:
        return "RLE";
    case PQ_ENC_BIT_PACKED:
        return "BIT_PACKED";
    case PQ_ENC_DELTA_BINARY_PACKED:
        return "DELTA_BINARY_PACKED";
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        return "DELTA_LENGTH_BYTE_ARRAY";
    case PQ_ENC_DELTA_BYTE_ARRAY:
        return "DELTA_BYTE_ARRAY";
    case PQ_ENC_RLE_DICTIONARY:
        return "RLE_DICTIONARY";
    case PQ_ENC_BYTE_STREAM_SPLIT:
        return "BYTE_STREAM_SPLIT";
    default:
        return "unknown";
    }
}

static const char *phys_name(int t)
{
    static const char *const names[] = {"BOOLEAN", "INT32", "INT64", "INT96",
                                        "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? names[t] : "unknown";
}

/* Hadoop-framed LZ4 (codec LZ4): blocks of [u32 BE raw size][u32 BE compressed size][lz4 block].
 * Some writers used raw LZ4 blocks under this codec id; like parquet-rs we fall back to that
 * when the framing does not add up. */
static sl_err lz4_hadoop(const uint8_t *in, size_t n, size_t expect, sl_buf *out)
{
    sl_err err = sl_buf_reserve(out, expect + 1);
    if (err)
        return err;
    const uint8_t *p = in, *end = in + n;
    size_t got = 0;
    bool ok = n > 0 || expect == 0;
    while (ok && p < end) {
        if (end - p < 8) {
            ok = false;
            break;
        }
        uint32_t raw = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        uint32_t comp = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
        p += 8;
        if (comp > (size_t)(end - p) || raw > expect - got || comp > INT32_MAX) {
            ok = false;
            break;
        }
        int k = LZ4_decompress_safe((const char *)p, (char *)out->ptr + out->len + got, (int)comp,
                                    (int)raw);
        if (k < 0 || (uint32_t)k != raw) {
            ok = false;
            break;
        }
        got += raw;
        p += comp;
    }
    if (ok && got == expect) {
        out->len += got;
        return SL_OK;
    }
    return sl_codec_decompress(SL_CODEC_LZ4_RAW, in, n, expect, out);
}

/* Reads a page header at c->pos; *hlen gets its length. */
static sl_err read_header(sl_pq_reader *r, cursor *c, sl_pq_page_header *h, size_t *hlen)
{
    uint64_t avail = c->end - c->pos;
    size_t want = avail < HDR_FIRST ? (size_t)avail : HDR_FIRST;
    for (;;) {
        sl_err err = read_buf(r, c->pos, want, &c->hbuf);
        if (err == SL_NOMEM)
            return nomem(r);
        if (err)
            return cfail(r, c, err, NULL, "cannot read a page header: %s", sl_strerror(err));
        err = sl_pq_page_header_decode(c->hbuf.ptr, want, h, hlen);
        if (!err)
            return SL_OK;
        if (want == avail || want >= HDR_MAX)
            return cfail(r, c, SL_FORMAT, NULL, "corrupt page header");
        want = avail - want < (uint64_t)want * 7 ? (size_t)avail : want * 8;
        if (want > HDR_MAX)
            want = HDR_MAX;
    }
}

/* Reads the page body [off, off + csize) into c->cbuf, checks its CRC, and decompresses bytes
 * [skip, csize) (skip = v2 level bytes) into `out` when `compressed`. *vals and *vlen get the
 * (decompressed) bytes after skip; the first skip bytes stay in c->cbuf. */
static sl_err page_body(sl_pq_reader *r, cursor *c, const sl_pq_page_header *h, uint64_t off,
                        size_t skip, bool compressed, sl_buf *out, const uint8_t **vals,
                        size_t *vlen)
{
    size_t csize = (size_t)h->compressed_page_size;
    size_t usize = (size_t)h->uncompressed_page_size;
    sl_err err = read_buf(r, off, csize, &c->cbuf);
    if (err == SL_NOMEM)
        return nomem(r);
    if (err)
        return cfail(r, c, err, NULL, "cannot read %zu bytes: %s", csize, sl_strerror(err));
    if (h->has_crc && r->o.verify_crc) {
        uLong crc = crc32(0L, Z_NULL, 0);
        const uint8_t *p = c->cbuf.ptr;
        size_t left = csize;
        while (left) {
            uInt k = left > (1u << 30) ? (1u << 30) : (uInt)left;
            crc = crc32(crc, p, k);
            p += k;
            left -= k;
        }
        if ((uint32_t)crc != (uint32_t)h->crc)
            return cfail(r, c, SL_FORMAT, "the file is damaged; re-create or re-upload it",
                         "page CRC mismatch (stored %08x, computed %08x)", (uint32_t)h->crc,
                         (uint32_t)crc);
    }
    if (!compressed || c->codec == SL_CODEC_NONE) {
        if (c->codec == SL_CODEC_NONE && compressed && usize != csize)
            return cfail(r, c, SL_FORMAT, NULL,
                         "uncompressed page sizes disagree (%zu compressed, %zu uncompressed)",
                         csize, usize);
        *vals = c->cbuf.ptr + skip;
        *vlen = csize - skip;
        return SL_OK;
    }
    out->len = 0;
    size_t expect = usize - skip;
    if (c->lz4_hadoop)
        err = lz4_hadoop(c->cbuf.ptr + skip, csize - skip, expect, out);
    else
        err = sl_codec_decompress(c->codec, c->cbuf.ptr + skip, csize - skip, expect, out);
    if (err == SL_NOMEM)
        return nomem(r);
    if (err)
        return cfail(r, c, SL_FORMAT, "the file is damaged; re-create or re-upload it",
                     "%s data does not decompress to the %zu bytes the page header gives",
                     sl_codec_name(c->codec), expect);
    *vals = out->ptr;
    *vlen = expect;
    return SL_OK;
}

static void dict_reset(cursor *c)
{
    c->has_dict = false;
    c->dict_n = 0;
    c->dict_fixed = NULL;
    free(c->dict_own);
    c->dict_own = NULL;
    free(c->dict_views);
    c->dict_views = NULL;
}

static sl_err load_dict(sl_pq_reader *r, cursor *c, const sl_pq_page_header *h, uint64_t off)
{
    const fcol *f = c->f;
    if (!h->has_dict_page)
        return cfail(r, c, SL_FORMAT, NULL, "dictionary page without a dictionary page header");
    if (c->has_dict || c->data_pages)
        return cfail(r, c, SL_FORMAT, NULL, "unexpected second dictionary page in a column chunk");
    int enc = h->dict_page.encoding;
    if (enc != PQ_ENC_PLAIN && enc != PQ_ENC_PLAIN_DICTIONARY)
        return cfail(r, c, SL_UNSUPPORTED, NULL, "dictionary page encoding %s (%d) is not supported",
                     enc_name(enc), enc);
    int32_t n = h->dict_page.num_values;
    if (n < 0)
        return cfail(r, c, SL_FORMAT, NULL, "negative dictionary size %d", n);
    const uint8_t *p;
    size_t len;
    sl_err err = page_body(r, c, h, off, 0, true, &c->dbuf, &p, &len);
    if (err)
        return err;
    if (p == c->cbuf.ptr) { /* keep the dictionary's bytes out of the way of the next page */
        sl_buf t = c->dbuf;
        c->dbuf = c->cbuf;
        c->cbuf = t;
    }
    size_t un = (size_t)n;
    if (f->phys == PQ_BOOLEAN) {
        if (un > len * 8)
            return cfail(r, c, SL_FORMAT, NULL, "dictionary of %d booleans in %zu bytes", n, len);
        c->dict_own = malloc(un ? un : 1);
        if (!c->dict_own)
            return nomem(r);
        for (size_t i = 0; i < un; i++)
            c->dict_own[i] = (p[i >> 3] >> (i & 7)) & 1;
        c->dict_fixed = c->dict_own;
    } else if (f->pw) {
        if (un > len / f->pw)
            return cfail(r, c, SL_FORMAT, NULL,
                         "dictionary of %d values of %u bytes does not fit its %zu bytes", n,
                         f->pw, len);
        c->dict_fixed = p;
    } else {
        if (un > len / 4)
            return cfail(r, c, SL_FORMAT, NULL, "dictionary of %d byte arrays in %zu bytes", n,
                         len);
        c->dict_views = malloc((un ? un : 1) * sizeof(*c->dict_views));
        if (!c->dict_views)
            return nomem(r);
        const uint8_t *q = p, *end = p + len;
        for (size_t i = 0; i < un; i++) {
            if (end - q < 4)
                return cfail(r, c, SL_FORMAT, NULL, "dictionary entry %zu runs past the page", i);
            uint32_t l = le32(q);
            q += 4;
            if (l > (size_t)(end - q))
                return cfail(r, c, SL_FORMAT, NULL,
                             "dictionary entry %zu of %u bytes runs past the page", i, l);
            c->dict_views[i] = (bview){q, l};
            q += l;
        }
    }
    c->dict_n = (uint32_t)n;
    c->has_dict = true;
    return SL_OK;
}

/* Sets up the value decoder for the values section [p, end) of a data page. The encoding's own
 * header is parsed lazily (values_ready) so that pages holding only nulls never need one. */
static sl_err values_setup(sl_pq_reader *r, cursor *c, int enc, const uint8_t *p,
                           const uint8_t *end)
{
    const fcol *f = c->f;
    bool ok;
    switch (enc) {
    case PQ_ENC_PLAIN:
        ok = true;
        break;
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY:
        if (!c->has_dict)
            return cfail(r, c, SL_FORMAT, NULL,
                         "dictionary-encoded page but the column chunk has no dictionary page");
        ok = true;
        break;
    case PQ_ENC_RLE:
        ok = f->phys == PQ_BOOLEAN;
        break;
    case PQ_ENC_DELTA_BINARY_PACKED:
        ok = f->phys == PQ_INT32 || f->phys == PQ_INT64;
        break;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        ok = f->phys == PQ_BYTE_ARRAY;
        break;
    case PQ_ENC_DELTA_BYTE_ARRAY:
        ok = f->phys == PQ_BYTE_ARRAY || f->phys == PQ_FIXED_LEN_BYTE_ARRAY;
        break;
    case PQ_ENC_BYTE_STREAM_SPLIT:
        ok = f->phys == PQ_FLOAT || f->phys == PQ_DOUBLE || f->phys == PQ_INT32 ||
             f->phys == PQ_INT64 || f->phys == PQ_FIXED_LEN_BYTE_ARRAY;
        break;
    default:
        return cfail(r, c, SL_UNSUPPORTED, "rewrite the file with PLAIN or dictionary encoding",
                     "value encoding %s (%d) is not supported", enc_name(enc), enc);
    }
    if (!ok)
        return cfail(r, c, SL_FORMAT, NULL, "value encoding %s is not valid for %s",
                     enc_name(enc), phys_name(f->phys));
    c->enc = enc;
    c->vstart = c->vp = p;
    c->vend = end;
    c->vbit = 0;
    c->ready = false;
    c->prev.len = 0;
    c->dba_total = 0;
    return SL_OK;
}

static sl_err values_ready(sl_pq_reader *r, cursor *c)
{
    const uint8_t *p = c->vp, *end = c->vend;
    const char *bad = NULL;
    uint64_t n1, n2;
    switch (c->enc) {
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY:
        if (p >= end)
            bad = "dictionary indices are missing";
        else if (*p > 32)
            bad = "dictionary index bit width above 32";
        else
            rle_init(&c->vr, p + 1, (size_t)(end - p - 1), *p);
        break;
    case PQ_ENC_RLE:
        if (end - p < 4 || le32(p) > (size_t)(end - p - 4))
            bad = "RLE boolean length prefix runs past the page";
        else
            rle_init(&c->vr, p + 4, le32(p), 1);
        break;
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (!delta_init(&c->d1, p, end))
            bad = "malformed DELTA_BINARY_PACKED header";
        break;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
        const uint8_t *e1 = delta_skip(p, end, &n1);
        if (!e1 || !delta_init(&c->d1, p, e1))
            bad = "malformed DELTA_LENGTH_BYTE_ARRAY lengths";
        c->bytes = e1;
        c->bytes_end = end;
        break;
    }
    case PQ_ENC_DELTA_BYTE_ARRAY: {
        const uint8_t *e1 = delta_skip(p, end, &n1);
        const uint8_t *e2 = e1 ? delta_skip(e1, end, &n2) : NULL;
        if (!e2 || n1 != n2 || !delta_init(&c->d1, p, e1) || !delta_init(&c->d2, e1, e2))
            bad = "malformed DELTA_BYTE_ARRAY prefix or suffix lengths";
        c->bytes = e2;
        c->bytes_end = end;
        break;
    }
    case PQ_ENC_BYTE_STREAM_SPLIT:
        if ((size_t)(end - p) % c->f->pw)
            bad = "BYTE_STREAM_SPLIT data is not a whole number of values";
        c->bss_n = (uint64_t)(end - p) / c->f->pw;
        c->bss_i = 0;
        break;
    default:
        break;
    }
    if (bad)
        return cfail(r, c, SL_FORMAT, NULL, "%s", bad);
    c->ready = true;
    return SL_OK;
}

/* Moves to the next data page of the chunk (reading the dictionary page on the way). */
static sl_err next_page(sl_pq_reader *r, cursor *c)
{
    const fcol *f = c->f;
    for (;;) {
        if (c->pos >= c->end)
            return cfail(r, c, SL_FORMAT, NULL,
                         "the column chunk ends with %llu of the row group's rows still to read",
                         (unsigned long long)c->rows_left);
        sl_pq_page_header h;
        size_t hlen;
        c->page_off = c->pos;
        c->page_no++;
        sl_err err = read_header(r, c, &h, &hlen);
        if (err)
            return err;
        uint64_t body = c->pos + hlen;
        if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0)
            return cfail(r, c, SL_FORMAT, NULL, "negative page size");
        if ((uint64_t)h.compressed_page_size > c->end - body)
            return cfail(r, c, SL_FORMAT, NULL,
                         "page of %d bytes runs past the end of the column chunk (%llu bytes "
                         "left)",
                         h.compressed_page_size, (unsigned long long)(c->end - body));
        if ((size_t)h.compressed_page_size > r->o.max_page_bytes ||
            (size_t)h.uncompressed_page_size > r->o.max_page_bytes)
            return cfail(r, c, SL_UNSUPPORTED, "raise max_page_bytes if the file is genuine",
                         "page of %d bytes (%d uncompressed) exceeds the %zu-byte limit",
                         h.compressed_page_size, h.uncompressed_page_size,
                         r->o.max_page_bytes);
        c->pos = body + (uint64_t)h.compressed_page_size;
        if (h.type == PQ_DICTIONARY_PAGE) {
            if ((err = load_dict(r, c, &h, body)))
                return err;
            continue;
        }
        if (h.type != PQ_DATA_PAGE && h.type != PQ_DATA_PAGE_V2)
            continue; /* index pages and unknown page types carry no values */
        c->data_pages++;
        const uint8_t *p, *end;
        size_t len;
        int32_t nv;
        int enc;
        c->defs_on = false;
        c->defs_msb = false;
        c->all_defined = false;
        if (h.type == PQ_DATA_PAGE) {
            if (!h.has_data_page)
                return cfail(r, c, SL_FORMAT, NULL, "data page without a data page header");
            nv = h.data_page.num_values;
            enc = h.data_page.encoding;
            if (nv < 0 || (uint64_t)nv > c->rows_left)
                return cfail(r, c, SL_FORMAT, NULL,
                             "page holds %d values but %llu rows are left in the row group", nv,
                             (unsigned long long)c->rows_left);
            if (nv == 0)
                continue;
            if ((err = page_body(r, c, &h, body, 0, true, &c->pbuf, &p, &len)))
                return err;
            end = p + len;
            if (f->max_def) {
                int le = h.data_page.definition_level_encoding;
                if (le == PQ_ENC_RLE) {
                    if (end - p < 4 || le32(p) > (size_t)(end - p - 4))
                        return cfail(r, c, SL_FORMAT, NULL,
                                     "definition levels run past the end of the page");
                    rle_init(&c->defs, p + 4, le32(p), 1);
                    p += 4 + le32(p);
                } else if (le == PQ_ENC_BIT_PACKED) {
                    size_t lb = ((size_t)nv + 7) / 8;
                    if ((size_t)(end - p) < lb)
                        return cfail(r, c, SL_FORMAT, NULL,
                                     "definition levels run past the end of the page");
                    c->defs_msb = true;
                    c->lp = p;
                    c->lend = p + lb;
                    c->lbit = 0;
                    p += lb;
                } else {
                    return cfail(r, c, SL_UNSUPPORTED, NULL,
                                 "definition level encoding %s (%d) is not supported",
                                 enc_name(le), le);
                }
                c->defs_on = true;
            }
        } else {
            if (!h.has_data_page_v2)
                return cfail(r, c, SL_FORMAT, NULL, "data page v2 without its header");
            const sl_pq_data_page_v2 *v2 = &h.data_page_v2;
            nv = v2->num_values;
            enc = v2->encoding;
            if (nv < 0 || (uint64_t)nv > c->rows_left)
                return cfail(r, c, SL_FORMAT, NULL,
                             "page holds %d values but %llu rows are left in the row group", nv,
                             (unsigned long long)c->rows_left);
            if (v2->num_rows != nv || v2->num_nulls < 0 || v2->num_nulls > nv)
                return cfail(r, c, SL_FORMAT, NULL,
                             "inconsistent v2 page counts (%d values, %d rows, %d nulls)", nv,
                             v2->num_rows, v2->num_nulls);
            int32_t rl = v2->repetition_levels_byte_length;
            int32_t dl = v2->definition_levels_byte_length;
            if (rl < 0 || dl < 0 || (int64_t)rl + dl > h.compressed_page_size ||
                (int64_t)rl + dl > h.uncompressed_page_size)
                return cfail(r, c, SL_FORMAT, NULL,
                             "level lengths (%d + %d bytes) exceed the page", rl, dl);
            if (nv == 0)
                continue;
            bool comp = v2->has_is_compressed ? v2->is_compressed : true;
            size_t skip = (size_t)rl + (size_t)dl;
            if ((err = page_body(r, c, &h, body, skip, comp, &c->pbuf, &p, &len)))
                return err;
            end = p + len;
            if (f->max_def) {
                if (dl == 0) {
                    if (v2->num_nulls)
                        return cfail(r, c, SL_FORMAT, NULL,
                                     "v2 page with %d nulls but no definition levels",
                                     v2->num_nulls);
                    c->all_defined = true;
                } else {
                    rle_init(&c->defs, c->cbuf.ptr + rl, (size_t)dl, 1);
                    c->defs_on = true;
                }
            }
        }
        c->page_left = (uint64_t)nv;
        c->page_vals = (uint64_t)nv;
        return values_setup(r, c, enc, p, end);
    }
}

/* ---- decoding segments -------------------------------------------------------------------- */

/* Definition levels of the next m rows into c->defbuf; *k = values present. *defs = NULL when
 * every row has a value. */
static sl_err decode_defs(sl_pq_reader *r, cursor *c, size_t m, const uint8_t **defs, size_t *k)
{
    if (!c->defs_on) {
        *defs = NULL;
        *k = m;
        return SL_OK;
    }
    uint8_t *d = c->defbuf;
    if (c->defs_msb) {
        if (c->lbit + m > (uint64_t)(c->lend - c->lp) * 8)
            return cfail(r, c, SL_FORMAT, NULL, "definition levels run out");
        for (size_t i = 0; i < m; i++, c->lbit++)
            d[i] = (c->lp[c->lbit >> 3] >> (7 - (c->lbit & 7))) & 1;
    } else {
        if (!rle_get(&c->defs, c->u32buf, m))
            return cfail(r, c, SL_FORMAT, NULL,
                         "definition levels are malformed or run out before %llu values",
                         (unsigned long long)c->page_vals);
        for (size_t i = 0; i < m; i++)
            d[i] = (uint8_t)c->u32buf[i]; /* bit width 1: 0 or 1 */
    }
    size_t n = 0;
    for (size_t i = 0; i < m; i++)
        n += d[i];
    *defs = d;
    *k = n;
    return SL_OK;
}

static sl_err short_values(sl_pq_reader *r, cursor *c)
{
    return cfail(r, c, SL_FORMAT, NULL, "%s values are malformed or run out before %llu values",
                 enc_name(c->enc), (unsigned long long)c->page_vals);
}

/* The next k present values: fixed-width ones into c->vbuf (pw bytes each), byte arrays as
 * views into c->views. */
static sl_err decode_values(sl_pq_reader *r, cursor *c, size_t k)
{
    sl_err err;
    if (!k)
        return SL_OK;
    if (!c->ready && (err = values_ready(r, c)))
        return err;
    const fcol *f = c->f;
    size_t pw = f->pw;
    uint8_t *out = c->vbuf;
    switch (c->enc) {
    case PQ_ENC_PLAIN:
        if (f->phys == PQ_BOOLEAN) {
            if (c->vbit + k > (uint64_t)(c->vend - c->vp) * 8)
                return short_values(r, c);
            for (size_t i = 0; i < k; i++, c->vbit++)
                out[i] = (c->vp[c->vbit >> 3] >> (c->vbit & 7)) & 1;
        } else if (pw) {
            if (k > (size_t)(c->vend - c->vp) / pw)
                return short_values(r, c);
            memcpy(out, c->vp, k * pw);
            c->vp += k * pw;
        } else {
            const uint8_t *p = c->vp, *end = c->vend;
            for (size_t i = 0; i < k; i++) {
                if (end - p < 4)
                    return short_values(r, c);
                uint32_t l = le32(p);
                p += 4;
                if (l > (size_t)(end - p))
                    return cfail(r, c, SL_FORMAT, NULL,
                                 "byte array of %u bytes runs past the end of the page", l);
                c->views[i] = (bview){p, l};
                p += l;
            }
            c->vp = p;
        }
        return SL_OK;
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY: {
        uint32_t *idx = c->u32buf;
        if (!rle_get(&c->vr, idx, k))
            return short_values(r, c);
        uint32_t n = c->dict_n;
        for (size_t i = 0; i < k; i++)
            if (idx[i] >= n)
                return cfail(r, c, SL_FORMAT, NULL,
                             "dictionary index %u out of range (the dictionary has %u values)",
                             idx[i], n);
        if (!pw) {
            for (size_t i = 0; i < k; i++)
                c->views[i] = c->dict_views[idx[i]];
        } else if (pw == 4) {
            for (size_t i = 0; i < k; i++)
                memcpy(out + 4 * i, c->dict_fixed + 4 * (size_t)idx[i], 4);
        } else if (pw == 8) {
            for (size_t i = 0; i < k; i++)
                memcpy(out + 8 * i, c->dict_fixed + 8 * (size_t)idx[i], 8);
        } else {
            for (size_t i = 0; i < k; i++)
                memcpy(out + pw * i, c->dict_fixed + pw * (size_t)idx[i], pw);
        }
        return SL_OK;
    }
    case PQ_ENC_RLE:
        if (!rle_get(&c->vr, c->u32buf, k))
            return short_values(r, c);
        for (size_t i = 0; i < k; i++)
            out[i] = (uint8_t)c->u32buf[i];
        return SL_OK;
    case PQ_ENC_DELTA_BINARY_PACKED: {
        uint64_t *v = (uint64_t *)(void *)c->seg.ptr; /* seg has room for SEG_ROWS u64 */
        if (!delta_get(&c->d1, v, k))
            return short_values(r, c);
        if (pw == 4)
            for (size_t i = 0; i < k; i++) {
                uint32_t x = (uint32_t)v[i];
                memcpy(out + 4 * i, &x, 4);
            }
        else
            memcpy(out, v, k * 8);
        return SL_OK;
    }
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
        uint64_t *v = (uint64_t *)(void *)c->seg.ptr;
        if (!delta_get(&c->d1, v, k))
            return short_values(r, c);
        const uint8_t *p = c->bytes;
        for (size_t i = 0; i < k; i++) {
            if (v[i] > (uint64_t)(c->bytes_end - p))
                return cfail(r, c, SL_FORMAT, NULL,
                             "byte array length %lld runs past the end of the page",
                             (long long)v[i]);
            c->views[i] = (bview){p, (uint32_t)v[i]};
            p += v[i];
        }
        c->bytes = p;
        return SL_OK;
    }
    case PQ_ENC_DELTA_BYTE_ARRAY: {
        sl_buf *seg = &c->seg;
        seg->len = 0;
        for (size_t i = 0; i < k; i++) {
            uint64_t pl, sl;
            if (!delta_get(&c->d1, &pl, 1) || !delta_get(&c->d2, &sl, 1))
                return short_values(r, c);
            if (pl > c->prev.len || sl > (uint64_t)(c->bytes_end - c->bytes))
                return cfail(r, c, SL_FORMAT, NULL,
                             "DELTA_BYTE_ARRAY prefix %lld or suffix %lld out of range",
                             (long long)pl, (long long)sl);
            size_t vlen = (size_t)pl + (size_t)sl;
            c->dba_total += vlen;
            if (c->dba_total > r->o.max_page_bytes || vlen > UINT32_MAX)
                return cfail(r, c, SL_UNSUPPORTED, "raise max_page_bytes if the file is genuine",
                              "DELTA_BYTE_ARRAY values expand beyond %zu bytes in one page",
                              r->o.max_page_bytes);
            c->prev.len = (size_t)pl;
            if (sl_buf_append(&c->prev, c->bytes, (size_t)sl))
                return nomem(r);
            c->bytes += sl;
            if (pw) {
                if (vlen != pw)
                    return cfail(r, c, SL_FORMAT, NULL,
                                 "DELTA_BYTE_ARRAY value of %zu bytes in a FIXED_LEN_BYTE_ARRAY(%zu)",
                                 vlen, pw);
                memcpy(out + i * pw, c->prev.ptr, pw);
            } else {
                if (sl_buf_append(seg, c->prev.ptr, vlen))
                    return nomem(r);
                c->views[i] = (bview){NULL, (uint32_t)vlen};
            }
        }
        if (!pw) {
            const uint8_t *p = seg->ptr;
            for (size_t i = 0; i < k; i++) {
                c->views[i].p = p;
                p += c->views[i].n;
            }
        }
        return SL_OK;
    }
    case PQ_ENC_BYTE_STREAM_SPLIT: {
        if (k > c->bss_n - c->bss_i)
            return short_values(r, c);
        const uint8_t *p = c->vp + c->bss_i;
        size_t n = (size_t)c->bss_n;
        for (size_t i = 0; i < k; i++)
            for (size_t b = 0; b < pw; b++)
                out[i * pw + b] = p[b * n + i];
        c->bss_i += k;
        return SL_OK;
    }
    default:
        return short_values(r, c);
    }
}

/* ---- storing into output columns ---------------------------------------------------------- */

__attribute__((format(printf, 5, 6))) static void mark_bad(sl_pq_reader *r, size_t row,
                                                          int32_t field, sl_row_code code,
                                                          const char *fmt, ...)
{
    if (r->bad[row])
        return;
    r->bad[row] = 1;
    if (r->nrej == r->rej_cap)
        return; /* cannot happen: rej_cap is the call's row count */
    rowrej *x = &r->rej[r->nrej++];
    x->row = row;
    x->field = field;
    x->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
    va_end(ap);
}

/* An integer from a source slot; SL_ROW_OK, or why not. */
static sl_row_code src_int(src_kind s, const uint8_t *p, size_t n, i128 *out)
{
    switch (s) {
    case SRC_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        *out = v;
        return SL_ROW_OK;
    }
    case SRC_U32: {
        uint32_t v;
        memcpy(&v, p, 4);
        *out = v;
        return SL_ROW_OK;
    }
    case SRC_I64: {
        int64_t v;
        memcpy(&v, p, 8);
        *out = v;
        return SL_ROW_OK;
    }
    case SRC_U64: {
        uint64_t v;
        memcpy(&v, p, 8);
        *out = v;
        return SL_ROW_OK;
    }
    case SRC_I96: {
        int64_t nanos;
        int32_t jd;
        memcpy(&nanos, p, 8);
        memcpy(&jd, p + 8, 4);
        *out = ((i128)jd - 2440588) * (i128)86400000000000 + nanos;
        return SL_ROW_OK;
    }
    case SRC_FIXED:
    case SRC_VAR: {
        /* big-endian two's complement */
        if (!n)
            return SL_ROW_TYPE;
        if (n > 16) {
            uint8_t ext = (p[n - 16] & 0x80) ? 0xFF : 0x00;
            for (size_t i = 0; i < n - 16; i++)
                if (p[i] != ext)
                    return SL_ROW_RANGE;
            p += n - 16;
            n = 16;
        }
        unsigned __int128 u = 0;
        for (size_t i = 0; i < n; i++)
            u = u << 8 | p[i];
        if (n < 16 && (p[0] & 0x80))
            u -= (unsigned __int128)1 << (8 * n);
        *out = (i128)u;
        return SL_ROW_OK;
    }
    default:
        return SL_ROW_TYPE;
    }
}

static float half_to_float(uint16_t h)
{
    unsigned exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    float f;
    if (exp == 0)
        f = (float)mant * (1.0f / 16777216.0f); /* 2^-24 */
    else if (exp == 31)
        f = mant ? __builtin_nanf("") : __builtin_inff();
    else {
        uint32_t bits = (uint32_t)(exp + 112) << 23 | (uint32_t)mant << 13;
        memcpy(&f, &bits, 4);
    }
    return (h & 0x8000) ? -f : f;
}

static double src_double(src_kind s, const uint8_t *p)
{
    switch (s) {
    case SRC_F32: {
        float v;
        memcpy(&v, p, 4);
        return v;
    }
    case SRC_F64: {
        double v;
        memcpy(&v, p, 8);
        return v;
    }
    case SRC_F16: {
        uint16_t h;
        memcpy(&h, p, 2);
        return half_to_float(h);
    }
    case SRC_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default:
        return 0;
    }
}

static const i128 I128_MAX = (i128)(((unsigned __int128)1 << 127) - 1);

static void type_name(sl_type t, char *buf, size_t n)
{
    sl_type_format(t, buf, n);
}

/* Stores m rows of a segment (k present values already decoded) into a fixed-width column. */
static sl_err store_fixed(sl_pq_reader *r, ocol *oc, cursor *c, sl_column *dst,
                          const uint8_t *defs, size_t m, size_t row0, int32_t field)
{
    sl_err err = sl_col_reserve(dst, m, 0);
    if (err)
        return nomem(r);
    size_t w = oc->width, pw = c->f->pw;
    uint8_t *data = dst->data + dst->len * w;
    uint8_t *valid = dst->nullable ? dst->valid + dst->len : NULL;
    size_t nulls = 0, j = 0;
    if (oc->conv == CV_COPY && !defs) {
        memcpy(data, c->vbuf, m * w);
        if (valid)
            memset(valid, 1, m);
        dst->len += m;
        return SL_OK;
    }
    for (size_t i = 0; i < m; i++) {
        uint8_t *slot = data + i * w;
        if (defs && !defs[i]) {
            memset(slot, 0, w);
            if (valid) {
                valid[i] = 0;
                nulls++;
            } else {
                mark_bad(r, row0 + i, field, SL_ROW_NULL_VALUE, "null in a non-nullable column");
            }
            continue;
        }
        if (valid)
            valid[i] = 1;
        const uint8_t *sv;
        size_t sn;
        if (c->f->pw) {
            sv = c->vbuf + j * pw;
            sn = pw;
        } else {
            sv = c->views[j].p;
            sn = c->views[j].n;
        }
        j++;
        if (oc->conv == CV_COPY) {
            memcpy(slot, sv, w);
        } else if (oc->conv == CV_FLOAT) {
            double d = src_double(oc->src, sv);
            if (w == 4) {
                float fv = (float)d;
                memcpy(slot, &fv, 4);
            } else {
                memcpy(slot, &d, 8);
            }
        } else {
            i128 v;
            sl_row_code code = src_int(oc->src, sv, sn, &v);
            const char *why = code == SL_ROW_TYPE ? "empty decimal value" : "value out of range";
            if (code == SL_ROW_OK && oc->mul != 1) {
                i128 lim = I128_MAX / oc->mul;
                if (v > lim || v < -lim)
                    code = SL_ROW_RANGE;
                else
                    v *= oc->mul;
            }
            if (code == SL_ROW_OK && oc->div != 1) {
                i128 q = v / oc->div, rem = v % oc->div;
                if (rem && !oc->truncate) {
                    code = SL_ROW_RANGE;
                    why = "value would lose precision";
                } else if (rem < 0) {
                    q -= 1;
                }
                v = q;
            }
            if (code == SL_ROW_OK && (v < oc->lo || v > oc->hi))
                code = SL_ROW_RANGE;
            if (code != SL_ROW_OK) {
                char tn[48];
                type_name(oc->dst, tn, sizeof(tn));
                memset(slot, 0, w);
                if (valid) {
                    valid[i] = 0;
                    nulls++;
                }
                mark_bad(r, row0 + i, field, code, "%s for %s", why, tn);
                continue;
            }
            if (w == 4) {
                int32_t x = (int32_t)v;
                memcpy(slot, &x, 4);
            } else if (w == 8) {
                int64_t x = (int64_t)v;
                memcpy(slot, &x, 8);
            } else {
                memcpy(slot, &v, 16);
            }
        }
    }
    dst->len += m;
    dst->null_count += nulls;
    return SL_OK;
}

static sl_err store_bytes(sl_pq_reader *r, ocol *oc, cursor *c, sl_column *dst,
                          const uint8_t *defs, size_t m, size_t k, size_t row0, int32_t field)
{
    size_t pw = c->f->pw;
    size_t total = 0;
    if (pw)
        total = k * pw;
    else
        for (size_t j = 0; j < k; j++)
            total += c->views[j].n;
    sl_err err = sl_col_reserve(dst, m, total);
    if (err == SL_FULL)
        return cfail(r, c, SL_FULL, "read fewer rows per call",
                     "more than 4 GiB of values in one batch");
    if (err)
        return nomem(r);
    uint32_t *offs = dst->offsets + dst->len;
    uint8_t *valid = dst->nullable ? dst->valid + dst->len : NULL;
    size_t bl = dst->bytes_len, nulls = 0, j = 0;
    for (size_t i = 0; i < m; i++) {
        if (defs && !defs[i]) {
            offs[i + 1] = (uint32_t)bl;
            if (valid) {
                valid[i] = 0;
                nulls++;
            } else {
                mark_bad(r, row0 + i, field, SL_ROW_NULL_VALUE, "null in a non-nullable column");
            }
            continue;
        }
        const uint8_t *p;
        size_t n;
        if (pw) {
            p = c->vbuf + j * pw;
            n = pw;
        } else {
            p = c->views[j].p;
            n = c->views[j].n;
        }
        j++;
        sl_row_code code = SL_ROW_OK;
        size_t at = 0;
        const char *why = NULL;
        if (oc->check_json) {
            if (!sl_json_check(p, n, &at, &why))
                code = SL_ROW_TYPE;
        } else if (oc->check_utf8) {
            at = sl_utf8_check(p, n);
            if (at != n)
                code = SL_ROW_UTF8;
        }
        if (code != SL_ROW_OK) {
            offs[i + 1] = (uint32_t)bl;
            if (valid) {
                valid[i] = 0;
                nulls++;
            }
            if (code == SL_ROW_TYPE)
                mark_bad(r, row0 + i, field, code, "not valid JSON at byte %zu: %s", at,
                         why ? why : "syntax error");
            else
                mark_bad(r, row0 + i, field, code, "invalid UTF-8 at byte %zu", at);
            continue;
        }
        if (n) /* (bytes may still be NULL when every value so far was empty) */
            sl_memcpy(dst->bytes + bl, p, n);
        bl += n;
        offs[i + 1] = (uint32_t)bl;
        if (valid)
            valid[i] = 1;
    }
    dst->bytes_len = bl;
    dst->len += m;
    dst->null_count += nulls;
    return SL_OK;
}

static sl_err store_nulls(sl_pq_reader *r, sl_column *dst, size_t m)
{
    if (sl_col_reserve(dst, m, 0))
        return nomem(r);
    memset(dst->valid + dst->len, 0, m);
    if (dst->width)
        memset(dst->data + dst->len * dst->width, 0, m * dst->width);
    else
        for (size_t i = 0; i < m; i++)
            dst->offsets[dst->len + i + 1] = (uint32_t)dst->bytes_len;
    dst->len += m;
    dst->null_count += m;
    return SL_OK;
}

/* Reads n rows of one output column. */
static sl_err read_column(sl_pq_reader *r, ocol *oc, sl_column *dst, size_t n, int32_t field)
{
    if (oc->conv == CV_NULLS)
        return store_nulls(r, dst, n);
    cursor *c = oc->cur;
    size_t done = 0;
    sl_err err;
    while (done < n) {
        if (!c->page_left && (err = next_page(r, c)))
            return err;
        size_t m = n - done;
        if (m > c->page_left)
            m = (size_t)c->page_left;
        if (m > c->seg_rows)
            m = c->seg_rows;
        const uint8_t *defs = NULL;
        size_t k = 0;
        if ((err = decode_defs(r, c, m, &defs, &k)))
            return err;
        if ((err = decode_values(r, c, k)))
            return err;
        if (oc->conv == CV_BYTES)
            err = store_bytes(r, oc, c, dst, defs, m, k, done, field);
        else
            err = store_fixed(r, oc, c, dst, defs, m, done, field);
        if (err)
            return err;
        c->page_left -= m;
        c->rows_left -= m;
        done += m;
    }
    return SL_OK;
}

/* ---- schema -------------------------------------------------------------------------------- */

static bool is_group(const sl_pq_schema_elem *e)
{
    return e->has_num_children || !e->has_type;
}

static const char *group_kind(const sl_pq_schema_elem *e)
{
    int ct = e->has_converted_type ? e->converted_type : -1;
    int lt = e->logical.kind;
    if (lt == LT_LIST || ct == CT_LIST)
        return "a LIST";
    if (lt == LT_MAP || ct == CT_MAP || ct == CT_MAP_KEY_VALUE)
        return "a MAP";
    if (lt == LT_VARIANT)
        return "a VARIANT";
    return "a struct (group)";
}

static const char *unit_name(int u)
{
    return u == PQ_UNIT_MILLIS ? "MILLIS" : u == PQ_UNIT_MICROS ? "MICROS" : "NANOS";
}

/* The natural sl_type of a primitive column. False (with why) when we cannot read it. */
static bool natural_type(const sl_pq_schema_elem *e, const sl_pq_read_opts *o, fcol *f,
                         sl_err *code, char *why, size_t n)
{
    int ct = e->has_converted_type ? e->converted_type : -1;
    const sl_pq_logical *lt = &e->logical;
    int phys = e->type;
    bool dec = lt->kind == PQ_LT_DECIMAL || (lt->kind == PQ_LT_NONE && ct == PQ_CT_DECIMAL);
    int32_t prec = lt->kind == PQ_LT_DECIMAL ? lt->precision : e->precision;
    int32_t scale = lt->kind == PQ_LT_DECIMAL ? lt->scale : e->scale;
    *code = SL_UNSUPPORTED;
    f->phys = phys;
    f->pw = 0;
    snprintf(f->ptype, sizeof(f->ptype), "%s", phys_name(phys));
    if (dec) {
        if (phys != PQ_INT32 && phys != PQ_INT64 && phys != PQ_BYTE_ARRAY &&
            phys != PQ_FIXED_LEN_BYTE_ARRAY) {
            *code = SL_FORMAT;
            snprintf(why, n, "DECIMAL annotation on %s", phys_name(phys));
            return false;
        }
        if (prec < 1 || prec > SL_DECIMAL_MAX_PRECISION || scale < 0 || scale > prec) {
            snprintf(why, n, "DECIMAL(%d,%d) is outside what sluice holds (precision 1..38, "
                             "scale 0..precision)", prec, scale);
            return false;
        }
        f->type = sl_type_decimal((unsigned)prec, (unsigned)scale);
        snprintf(f->ptype, sizeof(f->ptype), "%s DECIMAL(%d,%d)", phys_name(phys), prec, scale);
    }
    switch (phys) {
    case PQ_BOOLEAN:
        f->type = sl_type_of(SL_TYPE_BOOL);
        f->src = SRC_BOOL;
        f->pw = 1;
        return true;
    case PQ_INT32:
        f->pw = 4;
        f->src = SRC_I32;
        if (dec)
            return true;
        if (lt->kind == PQ_LT_DATE || (lt->kind == PQ_LT_NONE && ct == PQ_CT_DATE)) {
            f->type = sl_type_of(SL_TYPE_DATE);
            snprintf(f->ptype, sizeof(f->ptype), "INT32 DATE");
            return true;
        }
        if (lt->kind == PQ_LT_TIME || ct == CT_TIME_MILLIS) {
            snprintf(why, n, "INT32 TIME (time of day) is not supported");
            return false;
        }
        if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed && lt->bit_width == 32) ||
            (lt->kind == PQ_LT_NONE && ct == CT_UINT_32)) {
            f->type = sl_type_of(SL_TYPE_INT64);
            f->src = SRC_U32;
            snprintf(f->ptype, sizeof(f->ptype), "INT32 UINT_32");
            return true;
        }
        if (lt->kind != PQ_LT_NONE && lt->kind != PQ_LT_INTEGER && lt->kind != PQ_LT_UNKNOWN) {
            *code = SL_FORMAT;
            snprintf(why, n, "logical type %d is not valid on INT32", lt->kind);
            return false;
        }
        (void)CT_UINT_8, (void)CT_UINT_16, (void)CT_INT_8, (void)CT_INT_16;
        f->type = sl_type_of(SL_TYPE_INT32);
        return true;
    case PQ_INT64:
        f->pw = 8;
        f->src = SRC_I64;
        if (dec)
            return true;
        if (lt->kind == PQ_LT_TIMESTAMP) {
            sl_time_unit u = lt->unit == PQ_UNIT_MILLIS   ? SL_UNIT_MS
                             : lt->unit == PQ_UNIT_MICROS ? SL_UNIT_US
                                                          : SL_UNIT_NS;
            f->type = sl_type_timestamp(u, lt->utc);
            snprintf(f->ptype, sizeof(f->ptype), "INT64 TIMESTAMP(%s,%s)", unit_name(lt->unit),
                     lt->utc ? "UTC" : "local");
            return true;
        }
        if (lt->kind == PQ_LT_NONE &&
            (ct == PQ_CT_TIMESTAMP_MILLIS || ct == PQ_CT_TIMESTAMP_MICROS)) {
            f->type = sl_type_timestamp(ct == PQ_CT_TIMESTAMP_MILLIS ? SL_UNIT_MS : SL_UNIT_US,
                                        true);
            snprintf(f->ptype, sizeof(f->ptype), "INT64 %s",
                     ct == PQ_CT_TIMESTAMP_MILLIS ? "TIMESTAMP_MILLIS" : "TIMESTAMP_MICROS");
            return true;
        }
        if (lt->kind == PQ_LT_TIME || ct == CT_TIME_MICROS) {
            snprintf(why, n, "INT64 TIME (time of day) is not supported");
            return false;
        }
        if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed) ||
            (lt->kind == PQ_LT_NONE && ct == CT_UINT_64)) {
            f->type = sl_type_decimal(20, 0);
            f->src = SRC_U64;
            snprintf(f->ptype, sizeof(f->ptype), "INT64 UINT_64");
            return true;
        }
        if (lt->kind != PQ_LT_NONE && lt->kind != PQ_LT_INTEGER && lt->kind != PQ_LT_UNKNOWN) {
            *code = SL_FORMAT;
            snprintf(why, n, "logical type %d is not valid on INT64", lt->kind);
            return false;
        }
        f->type = sl_type_of(SL_TYPE_INT64);
        return true;
    case PQ_INT96:
        f->pw = 12;
        f->src = SRC_I96;
        f->type = sl_type_timestamp(o->int96_unit, false);
        return true;
    case PQ_FLOAT:
        f->pw = 4;
        f->src = SRC_F32;
        f->type = sl_type_of(SL_TYPE_FLOAT);
        return true;
    case PQ_DOUBLE:
        f->pw = 8;
        f->src = SRC_F64;
        f->type = sl_type_of(SL_TYPE_DOUBLE);
        return true;
    case PQ_BYTE_ARRAY:
        f->src = SRC_VAR;
        if (dec)
            return true;
        if (lt->kind == PQ_LT_STRING || lt->kind == LT_ENUM ||
            (lt->kind == PQ_LT_NONE && (ct == PQ_CT_UTF8 || ct == CT_ENUM))) {
            f->type = sl_type_of(SL_TYPE_STRING);
            snprintf(f->ptype, sizeof(f->ptype), "BYTE_ARRAY STRING");
        } else if (lt->kind == PQ_LT_JSON || (lt->kind == PQ_LT_NONE && ct == PQ_CT_JSON)) {
            f->type = sl_type_of(SL_TYPE_JSON);
            snprintf(f->ptype, sizeof(f->ptype), "BYTE_ARRAY JSON");
        } else {
            (void)CT_BSON;
            f->type = sl_type_of(SL_TYPE_BINARY);
        }
        return true;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (!e->has_type_length || e->type_length < 1) {
            *code = SL_FORMAT;
            snprintf(why, n, "FIXED_LEN_BYTE_ARRAY without a positive type_length");
            return false;
        }
        if ((uint32_t)e->type_length > MAX_FLBA) {
            snprintf(why, n, "FIXED_LEN_BYTE_ARRAY(%d) is longer than %u bytes", e->type_length,
                     MAX_FLBA);
            return false;
        }
        f->pw = (uint32_t)e->type_length;
        f->src = SRC_FIXED;
        if (dec)
            return true;
        if (lt->kind == LT_FLOAT16) {
            if (e->type_length != 2) {
                *code = SL_FORMAT;
                snprintf(why, n, "FLOAT16 on FIXED_LEN_BYTE_ARRAY(%d)", e->type_length);
                return false;
            }
            f->src = SRC_F16;
            f->type = sl_type_of(SL_TYPE_FLOAT);
            snprintf(f->ptype, sizeof(f->ptype), "FIXED_LEN_BYTE_ARRAY(2) FLOAT16");
            return true;
        }
        (void)CT_INTERVAL; /* INTERVAL and UUID read as their raw bytes */
        f->type = sl_type_of(SL_TYPE_BINARY);
        snprintf(f->ptype, sizeof(f->ptype), "FIXED_LEN_BYTE_ARRAY(%d)%s", e->type_length,
                 lt->kind == PQ_LT_UUID ? " UUID" : "");
        return true;
    default:
        *code = SL_FORMAT;
        snprintf(why, n, "unknown physical type %d", phys);
        return false;
    }
}

static sl_err add_ucol(sl_pq_reader *r, const char *name, sl_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_err add_ucol(sl_pq_reader *r, const char *name, sl_err code, const char *fmt, ...)
{
    ucol *u = realloc(r->ucols, (r->nucols + 1) * sizeof(*u));
    if (!u)
        return SL_NOMEM;
    r->ucols = u;
    u += r->nucols;
    u->name = strdup(name);
    if (!u->name)
        return SL_NOMEM;
    u->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->reason, sizeof(u->reason), fmt, ap);
    va_end(ap);
    r->nucols++;
    return SL_OK;
}

/* Walks the schema tree: top-level primitives become fcols, the rest ucols. */
static sl_err walk_schema(sl_pq_reader *r, sl_pq_read_error *e)
{
    const sl_pq_meta *m = &r->meta;
    sl_err err;
    if (m->nschema == 0 || !is_group(&m->schema[0]))
        return set_err(e, SL_FORMAT, NULL, "corrupt footer: the schema has no root group");
    int32_t top = m->schema[0].num_children;
    if (top < 0 || (uint32_t)top > m->nschema - 1)
        return set_err(e, SL_FORMAT, NULL,
                       "corrupt footer: the root claims %d columns but the schema has %u elements",
                       top, m->nschema);
    if ((err = sl_schema_create(&r->file_schema)))
        return set_err(e, err, NULL, "out of memory");
    r->fcols = calloc((size_t)top + 1, sizeof(*r->fcols));
    if (!r->fcols)
        return set_err(e, SL_NOMEM, NULL, "out of memory");
    uint32_t idx = 1, leaf = 0;
    for (int32_t i = 0; i < top; i++) {
        if (idx >= m->nschema)
            return set_err(e, SL_FORMAT, NULL, "corrupt footer: the schema ends early");
        const sl_pq_schema_elem *el = &m->schema[idx];
        char name[256];
        if (el->name.len == 0 || memchr(el->name.ptr, 0, el->name.len) ||
            sl_utf8_check(el->name.ptr, el->name.len) != el->name.len)
            return set_err(e, SL_FORMAT, NULL,
                           "corrupt footer: column %d has an empty or invalid name", i);
        snprintf(name, sizeof(name), "%.*s", (int)el->name.len, (const char *)el->name.ptr);
        if (is_group(el)) {
            /* skip the subtree, counting its leaves */
            uint64_t pending = 1;
            uint32_t leaves = 0;
            const char *kind = group_kind(el);
            while (pending) {
                if (idx >= m->nschema)
                    return set_err(e, SL_FORMAT, NULL,
                                   "corrupt footer: the schema ends inside column '%s'", name);
                const sl_pq_schema_elem *x = &m->schema[idx++];
                pending--;
                if (is_group(x)) {
                    if (x->num_children < 0 || (uint32_t)x->num_children > m->nschema)
                        return set_err(e, SL_FORMAT, NULL,
                                       "corrupt footer: bad child count in column '%s'", name);
                    pending += (uint32_t)x->num_children;
                } else {
                    leaves++;
                }
            }
            leaf += leaves;
            if ((err = add_ucol(r, name, SL_UNSUPPORTED,
                                "%s (nested types are not supported)", kind)))
                return set_err(e, err, NULL, "out of memory");
            continue;
        }
        idx++;
        uint32_t this_leaf = leaf++;
        if (el->has_repetition && el->repetition == PQ_REPEATED) {
            if ((err = add_ucol(r, name, SL_UNSUPPORTED,
                                "a repeated field (nested types are not supported)")))
                return set_err(e, err, NULL, "out of memory");
            continue;
        }
        fcol *f = &r->fcols[r->nfcols];
        char why[160];
        sl_err code;
        if (!natural_type(el, &r->o, f, &code, why, sizeof(why))) {
            if (code == SL_FORMAT)
                return set_err(e, SL_FORMAT, NULL, "corrupt footer: column '%s': %s", name, why);
            if ((err = add_ucol(r, name, code, "%s", why)))
                return set_err(e, err, NULL, "out of memory");
            continue;
        }
        f->leaf = this_leaf;
        f->nullable = el->has_repetition && el->repetition == PQ_OPTIONAL;
        f->max_def = f->nullable ? 1 : 0;
        err = sl_schema_add(r->file_schema, name, f->type, f->nullable);
        if (err == SL_INVALID)
            return set_err(e, SL_FORMAT, "rename the columns so that names are unique",
                           "the file has two columns named '%s'", name);
        if (err)
            return set_err(e, err, NULL, "out of memory");
        f->name = r->file_schema->fields[r->file_schema->nfields - 1].name;
        r->nfcols++;
    }
    if (idx != m->nschema)
        return set_err(e, SL_FORMAT, NULL,
                       "corrupt footer: %u schema elements follow the last column",
                       m->nschema - idx);
    r->nleaves = leaf;
    return SL_OK;
}

static i128 pow10_i128(unsigned e)
{
    i128 v = 1;
    while (e--)
        v *= 10;
    return v;
}

static int64_t unit_per_s(sl_time_unit u)
{
    return u == SL_UNIT_MS ? 1000 : u == SL_UNIT_US ? 1000000 : 1000000000;
}

/* Chooses how output column `dst` is filled from file column f. False if incompatible. */
static bool plan(const sl_pq_reader *r, const fcol *f, sl_type dst, ocol *oc)
{
    sl_type s = f->type;
    oc->src = f->src;
    oc->dst = dst;
    oc->width = sl_type_width(dst);
    oc->mul = oc->div = 1;
    oc->truncate = false;
    oc->check_utf8 = oc->check_json = false;
    bool int_src = s.id == SL_TYPE_INT32 || s.id == SL_TYPE_INT64 ||
                   (s.id == SL_TYPE_DECIMAL && s.scale == 0);
    switch (dst.id) {
    case SL_TYPE_BOOL:
        oc->conv = CV_COPY;
        return s.id == SL_TYPE_BOOL;
    case SL_TYPE_FLOAT:
        if (s.id != SL_TYPE_FLOAT)
            return false;
        oc->conv = f->src == SRC_F32 ? CV_COPY : CV_FLOAT;
        return true;
    case SL_TYPE_DOUBLE:
        if (s.id == SL_TYPE_DOUBLE) {
            oc->conv = CV_COPY;
            return true;
        }
        oc->conv = CV_FLOAT;
        return s.id == SL_TYPE_FLOAT || (f->src == SRC_I32 && s.id == SL_TYPE_INT32);
    case SL_TYPE_INT32:
    case SL_TYPE_INT64:
        if (!int_src)
            return false;
        oc->lo = dst.id == SL_TYPE_INT32 ? INT32_MIN : INT64_MIN;
        oc->hi = dst.id == SL_TYPE_INT32 ? INT32_MAX : INT64_MAX;
        oc->conv = (dst.id == SL_TYPE_INT32 && f->src == SRC_I32) ||
                           (dst.id == SL_TYPE_INT64 && f->src == SRC_I64 && s.id != SL_TYPE_DECIMAL)
                       ? CV_COPY
                       : CV_INT;
        return true;
    case SL_TYPE_DATE:
        oc->conv = CV_COPY;
        return s.id == SL_TYPE_DATE;
    case SL_TYPE_TIMESTAMP: {
        if (s.id != SL_TYPE_TIMESTAMP)
            return false;
        sl_time_unit su = f->src == SRC_I96 ? SL_UNIT_NS : s.unit;
        int64_t a = unit_per_s(su), b = unit_per_s(dst.unit);
        if (b >= a)
            oc->mul = b / a;
        else
            oc->div = a / b;
        oc->truncate = f->src == SRC_I96;
        oc->lo = INT64_MIN;
        oc->hi = INT64_MAX;
        oc->conv = f->src == SRC_I64 && su == dst.unit ? CV_COPY : CV_INT;
        return true;
    }
    case SL_TYPE_DECIMAL: {
        unsigned ss;
        if (s.id == SL_TYPE_DECIMAL)
            ss = s.scale;
        else if (s.id == SL_TYPE_INT32 || s.id == SL_TYPE_INT64)
            ss = 0;
        else
            return false;
        if (dst.scale >= ss)
            oc->mul = pow10_i128(dst.scale - ss);
        else
            oc->div = pow10_i128(ss - dst.scale);
        oc->hi = pow10_i128(dst.precision) - 1;
        oc->lo = -oc->hi;
        oc->conv = CV_INT;
        return true;
    }
    case SL_TYPE_STRING:
        oc->conv = CV_BYTES;
        oc->check_utf8 = s.id == SL_TYPE_BINARY || r->o.validate_utf8;
        return s.id == SL_TYPE_STRING || s.id == SL_TYPE_JSON || s.id == SL_TYPE_BINARY;
    case SL_TYPE_BINARY:
        oc->conv = CV_BYTES;
        return s.id == SL_TYPE_STRING || s.id == SL_TYPE_JSON || s.id == SL_TYPE_BINARY;
    case SL_TYPE_JSON:
        oc->conv = CV_BYTES;
        oc->check_json = true;
        return s.id == SL_TYPE_STRING || s.id == SL_TYPE_JSON;
    default:
        return false;
    }
}

static sl_err cursor_create(const fcol *f, cursor **out)
{
    cursor *c = calloc(1, sizeof(*c));
    if (!c)
        return SL_NOMEM;
    c->f = f;
    size_t pw = f->pw ? f->pw : 16;
    c->seg_rows = SEG_BYTES / pw < SEG_ROWS ? SEG_BYTES / pw : SEG_ROWS;
    if (!c->seg_rows)
        c->seg_rows = 1;
    sl_buf_init(&c->hbuf, 0);
    sl_buf_init(&c->cbuf, 0);
    sl_buf_init(&c->pbuf, 0);
    sl_buf_init(&c->dbuf, 0);
    sl_buf_init(&c->seg, 0);
    sl_buf_init(&c->prev, 0);
    c->defbuf = malloc(c->seg_rows);
    c->u32buf = malloc(c->seg_rows * sizeof(uint32_t));
    c->vbuf = malloc(c->seg_rows * (f->pw ? f->pw : 1));
    c->views = malloc(c->seg_rows * sizeof(bview));
    sl_err err = sl_buf_reserve(&c->seg, c->seg_rows * sizeof(uint64_t));
    *out = c;
    if (err || !c->defbuf || !c->u32buf || !c->vbuf || !c->views)
        return SL_NOMEM;
    return SL_OK;
}

static void cursor_destroy(cursor *c)
{
    if (!c)
        return;
    dict_reset(c);
    sl_buf_release(&c->hbuf);
    sl_buf_release(&c->cbuf);
    sl_buf_release(&c->pbuf);
    sl_buf_release(&c->dbuf);
    sl_buf_release(&c->seg);
    sl_buf_release(&c->prev);
    free(c->defbuf);
    free(c->u32buf);
    free(c->vbuf);
    free(c->views);
    free(c);
}

static const ucol *find_ucol(const sl_pq_reader *r, const char *name)
{
    for (size_t i = 0; i < r->nucols; i++)
        if (!strcmp(r->ucols[i].name, name))
            return &r->ucols[i];
    return NULL;
}

static sl_err map_columns(sl_pq_reader *r, sl_pq_read_error *e)
{
    const sl_schema *s = r->o.model;
    if (!s) {
        if (r->nucols && !r->o.skip_unsupported)
            return set_err(e, r->ucols[0].code,
                           "flatten the column in the writer, or give a model without it",
                           "column '%s' is %s", r->ucols[0].name, r->ucols[0].reason);
        s = r->file_schema;
    }
    r->schema = s;
    r->nocols = s->nfields;
    r->ocols = calloc(s->nfields ? s->nfields : 1, sizeof(*r->ocols));
    if (!r->ocols)
        return set_err(e, SL_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < s->nfields; i++) {
        const sl_field *fd = &s->fields[i];
        ocol *oc = &r->ocols[i];
        oc->fidx = -1;
        oc->dst = fd->type;
        oc->nullable = fd->nullable;
        oc->width = sl_type_width(fd->type);
        for (size_t j = 0; j < r->nfcols; j++)
            if (!strcmp(r->fcols[j].name, fd->name)) {
                oc->fidx = (int32_t)j;
                break;
            }
        char mt[48];
        sl_type_format(fd->type, mt, sizeof(mt));
        if (oc->fidx < 0) {
            const ucol *u = find_ucol(r, fd->name);
            if (u)
                return set_err(e, u->code,
                               "flatten the column in the writer, or leave it out of the model",
                               "column '%s' is %s", fd->name, u->reason);
            if (!fd->nullable)
                return set_err(e, SL_FORMAT,
                               "add the column to the file, or make it nullable in the model "
                               "(names are matched exactly, case-sensitive)",
                               "missing required column '%s' (%s, not nullable in the model)",
                               fd->name, mt);
            oc->conv = CV_NULLS;
            continue;
        }
        const fcol *f = &r->fcols[oc->fidx];
        if (!plan(r, f, fd->type, oc)) {
            char ft[48], hint[200];
            sl_type_format(f->type, ft, sizeof(ft));
            snprintf(hint, sizeof(hint),
                     "change the model's type of '%s' to %s, or convert the column when "
                     "writing the file",
                     fd->name, ft);
            return set_err(e, SL_FORMAT, hint,
                           "column '%s': the file has %s (Parquet %s), the model wants %s",
                           fd->name, ft, f->ptype, mt);
        }
        if (cursor_create(f, &oc->cur))
            return set_err(e, SL_NOMEM, NULL, "out of memory");
    }
    return SL_OK;
}

/* ---- open / close ---------------------------------------------------------------------------- */

static sl_err open_common(sl_pq_reader *r, const sl_pq_read_opts *opts, sl_pq_read_error *e)
{
    sl_err err;
    if (opts)
        r->o = *opts;
    else
        sl_pq_read_opts_default(&r->o);
    if (!r->o.max_page_bytes)
        r->o.max_page_bytes = 256 * MIB;
    if (!r->o.max_footer_bytes)
        r->o.max_footer_bytes = 64 * MIB;
    if ((unsigned)r->o.int96_unit > SL_UNIT_NS)
        return set_err(e, SL_INVALID, NULL, "bad int96_unit");
    uint8_t tail[8], head[4];
    if (r->size < 12)
        return set_err(e, SL_FORMAT, NULL, "not a Parquet file (%llu bytes, too small)",
                       (unsigned long long)r->size);
    if ((err = read_at(r, r->size - 8, tail, 8)) || (err = read_at(r, 0, head, 4)))
        return set_err(e, err, NULL, "cannot read the file: %s", strerror(errno));
    if (!memcmp(tail + 4, "PARE", 4))
        return set_err(e, SL_UNSUPPORTED, "decrypt the file first",
                       "encrypted Parquet files are not supported");
    if (memcmp(tail + 4, "PAR1", 4))
        return set_err(e, SL_FORMAT, NULL,
                       memcmp(head, "PAR1", 4)
                           ? "not a Parquet file (no PAR1 magic)"
                           : "truncated Parquet file (PAR1 magic at the start but not at the end)");
    if (memcmp(head, "PAR1", 4))
        return set_err(e, SL_FORMAT, NULL, "not a Parquet file (no PAR1 magic at the start)");
    uint32_t flen = le32(tail);
    if (flen == 0 || flen > r->size - 12)
        return set_err(e, SL_FORMAT, NULL,
                       "corrupt footer: its length (%u bytes) does not fit the file (%llu bytes)",
                       flen, (unsigned long long)r->size);
    if (flen > r->o.max_footer_bytes)
        return set_err(e, SL_UNSUPPORTED, "raise max_footer_bytes if the file is genuine",
                       "footer of %u bytes exceeds the %zu-byte limit", flen,
                       r->o.max_footer_bytes);
    r->data_end = r->size - 8 - flen;
    uint8_t *fb = malloc(flen);
    if (!fb)
        return set_err(e, SL_NOMEM, NULL, "out of memory");
    if ((err = read_at(r, r->data_end, fb, flen))) {
        free(fb);
        return set_err(e, err, NULL, "cannot read the footer");
    }
    char msg[300];
    err = sl_pq_meta_decode(fb, flen, &r->meta, msg, sizeof(msg));
    free(fb);
    if (err == SL_NOMEM)
        return set_err(e, err, NULL, "out of memory decoding the footer");
    if (err)
        return set_err(e, SL_FORMAT, NULL, "corrupt footer: %s", msg[0] ? msg : "malformed");
    if (r->meta.has_created_by)
        snprintf(r->created_by, sizeof(r->created_by), "%.*s", (int)r->meta.created_by.len,
                 (const char *)r->meta.created_by.ptr);
    if ((err = walk_schema(r, e)))
        return err;
    uint64_t total = 0;
    for (uint32_t g = 0; g < r->meta.nrow_groups; g++) {
        const sl_pq_row_group *rg = &r->meta.row_groups[g];
        if (rg->ncolumns != r->nleaves)
            return set_err(e, SL_FORMAT, NULL,
                           "corrupt footer: row group %u has %u column chunks, the schema %u "
                           "columns",
                           g, rg->ncolumns, r->nleaves);
        if (rg->num_rows < 0)
            return set_err(e, SL_FORMAT, NULL, "corrupt footer: row group %u has %lld rows", g,
                           (long long)rg->num_rows);
        total += (uint64_t)rg->num_rows;
        if (total > ((uint64_t)1 << 62))
            return set_err(e, SL_FORMAT, NULL, "corrupt footer: too many rows");
    }
    r->num_rows = total;
    return map_columns(r, e);
}

static sl_err finish_open(sl_pq_reader *r, sl_err err, sl_pq_reader **out, sl_pq_read_error *e)
{
    if (err) {
        sl_pq_reader_close(r);
        *out = NULL;
        return err;
    }
    if (e)
        e->message[0] = e->hint[0] = '\0';
    *out = r;
    return SL_OK;
}

static sl_pq_reader *reader_new(void)
{
    sl_pq_reader *r = calloc(1, sizeof(*r));
    if (r)
        r->fd = -1;
    return r;
}

sl_err sl_pq_reader_open_fd(int fd, const sl_pq_read_opts *opts, sl_pq_reader **out,
                            sl_pq_read_error *e)
{
    *out = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return set_err(e, SL_IO, NULL, "cannot stat the file: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return set_err(e, SL_INVALID, "spool the data to a file first",
                       "Parquet input must be a regular file (it is read from the end)");
    sl_pq_reader *r = reader_new();
    if (!r)
        return set_err(e, SL_NOMEM, NULL, "out of memory");
    r->fd = fd;
    r->size = (uint64_t)st.st_size;
    return finish_open(r, open_common(r, opts, e), out, e);
}

sl_err sl_pq_reader_open_path(const char *path, const sl_pq_read_opts *opts, sl_pq_reader **out,
                              sl_pq_read_error *e)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return set_err(e, SL_IO, "check the input path", "cannot open %s: %s", path,
                       strerror(errno));
    sl_err err = sl_pq_reader_open_fd(fd, opts, out, e);
    if (err) {
        close(fd);
        return err;
    }
    (*out)->own_fd = true;
    return SL_OK;
}

sl_err sl_pq_reader_open_mem(const void *p, size_t n, const sl_pq_read_opts *opts,
                             sl_pq_reader **out, sl_pq_read_error *e)
{
    static const uint8_t empty[1];
    *out = NULL;
    sl_pq_reader *r = reader_new();
    if (!r)
        return set_err(e, SL_NOMEM, NULL, "out of memory");
    r->mem = p ? p : empty;
    r->size = p ? n : 0;
    return finish_open(r, open_common(r, opts, e), out, e);
}

void sl_pq_reader_close(sl_pq_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nocols; i++)
        cursor_destroy(r->ocols[i].cur);
    free(r->ocols);
    for (size_t i = 0; i < r->nucols; i++)
        free(r->ucols[i].name);
    free(r->ucols);
    free(r->fcols);
    sl_schema_destroy(r->file_schema);
    sl_pq_meta_release(&r->meta);
    free(r->bad);
    free(r->rej);
    free(r->rm);
    if (r->own_fd)
        close(r->fd);
    free(r);
}

const sl_schema *sl_pq_reader_schema(const sl_pq_reader *r)
{
    return r->schema;
}

const sl_schema *sl_pq_reader_file_schema(const sl_pq_reader *r)
{
    return r->file_schema;
}

size_t sl_pq_reader_skipped(const sl_pq_reader *r)
{
    return r->o.model ? 0 : r->nucols;
}

const char *sl_pq_reader_skipped_name(const sl_pq_reader *r, size_t i, const char **reason)
{
    if (i >= r->nucols)
        return NULL;
    if (reason)
        *reason = r->ucols[i].reason;
    return r->ucols[i].name;
}

uint64_t sl_pq_reader_num_rows(const sl_pq_reader *r)
{
    return r->num_rows;
}

uint32_t sl_pq_reader_num_row_groups(const sl_pq_reader *r)
{
    return r->meta.nrow_groups;
}

uint64_t sl_pq_reader_rows_read(const sl_pq_reader *r)
{
    return r->rows_read;
}

uint64_t sl_pq_reader_rows_rejected(const sl_pq_reader *r)
{
    return r->rows_rejected;
}

const char *sl_pq_reader_created_by(const sl_pq_reader *r)
{
    return r->created_by;
}

const sl_pq_read_error *sl_pq_reader_error(const sl_pq_reader *r)
{
    return &r->err;
}

/* ---- reading ------------------------------------------------------------------------------- */

static sl_codec codec_of(int32_t t, bool *hadoop, bool *ok)
{
    *hadoop = false;
    *ok = true;
    switch (t) {
    case PQ_CODEC_UNCOMPRESSED:
        return SL_CODEC_NONE;
    case PQ_CODEC_SNAPPY:
        return SL_CODEC_SNAPPY;
    case PQ_CODEC_GZIP:
        return SL_CODEC_GZIP;
    case PQ_CODEC_ZSTD:
        return SL_CODEC_ZSTD;
    case PQ_CODEC_LZ4_RAW:
        return SL_CODEC_LZ4_RAW;
    case PQ_CODEC_LZ4:
        *hadoop = true;
        return SL_CODEC_LZ4_RAW;
    default:
        *ok = false;
        return SL_CODEC_NONE;
    }
}

static const char *codec_thrift_name(int32_t t)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
    return t >= 0 && t < 8 ? names[t] : "unknown";
}

static sl_err open_row_group(sl_pq_reader *r, uint32_t g)
{
    const sl_pq_row_group *rg = &r->meta.row_groups[g];
    for (size_t i = 0; i < r->nocols; i++) {
        cursor *c = r->ocols[i].cur;
        if (!c)
            continue;
        const fcol *f = c->f;
        const sl_pq_col_chunk *cc = &rg->columns[f->leaf];
        dict_reset(c);
        c->rg = g;
        c->page_no = 0;
        c->data_pages = 0;
        c->page_left = 0;
        c->rows_left = (uint64_t)rg->num_rows;
        c->chunk_start = cc->has_meta_data ? (uint64_t)cc->meta_data.data_page_offset : 0;
        if (cc->has_file_path)
            return cfail(r, c, SL_UNSUPPORTED, NULL,
                         "the column chunk is in another file (%.*s)", (int)cc->file_path.len,
                         (const char *)cc->file_path.ptr);
        if (!cc->has_meta_data)
            return cfail(r, c, SL_FORMAT, NULL, "the column chunk has no metadata");
        const sl_pq_col_meta *md = &cc->meta_data;
        if (md->type != f->phys)
            return cfail(r, c, SL_FORMAT, NULL, "column chunk of type %s, schema says %s",
                         phys_name(md->type), phys_name(f->phys));
        bool ok;
        c->codec = codec_of(md->codec, &c->lz4_hadoop, &ok);
        if (!ok)
            return cfail(r, c, SL_UNSUPPORTED,
                         "rewrite the file with ZSTD, SNAPPY, GZIP, LZ4_RAW or no compression",
                         "%s compression is not supported", codec_thrift_name(md->codec));
        int64_t start = md->data_page_offset;
        if (md->has_dictionary_page_offset && md->dictionary_page_offset > 0 &&
            md->dictionary_page_offset < start)
            start = md->dictionary_page_offset;
        int64_t len = md->total_compressed_size;
        c->chunk_start = start < 0 ? 0 : (uint64_t)start;
        if (start < 4 || len < 0 || (uint64_t)start > r->data_end ||
            (uint64_t)len > r->data_end - (uint64_t)start)
            return cfail(r, c, SL_FORMAT, NULL,
                         "column chunk [%lld, +%lld) lies outside the file's data (%llu bytes)",
                         (long long)start, (long long)len, (unsigned long long)r->data_end);
        c->pos = (uint64_t)start;
        c->end = (uint64_t)start + (uint64_t)len;
    }
    r->cur_rg = g;
    r->rg_left = (uint64_t)rg->num_rows;
    r->rg_open = true;
    return SL_OK;
}

static int cmp_rej(const void *a, const void *b)
{
    const rowrej *x = a, *y = b;
    return x->row < y->row ? -1 : x->row > y->row;
}

static sl_err ensure_scratch(sl_pq_reader *r, size_t n)
{
    if (n <= r->bad_cap)
        return SL_OK;
    uint8_t *bad = realloc(r->bad, n);
    if (!bad)
        return SL_NOMEM;
    r->bad = bad;
    rowrej *rej = realloc(r->rej, n * sizeof(*rej));
    if (!rej)
        return SL_NOMEM;
    r->rej = rej;
    size_t *rm = realloc(r->rm, n * sizeof(*rm));
    if (!rm)
        return SL_NOMEM;
    r->rm = rm;
    r->bad_cap = n;
    return SL_OK;
}

sl_err sl_pq_reader_next(sl_pq_reader *r, sl_batch *out, size_t max_rows, size_t *nrows)
{
    sl_err err;
    *nrows = 0;
    if (r->failed)
        return r->failed;
    if (!out || out->ncols != r->schema->nfields)
        return SL_INVALID;
    for (size_t i = 0; i < out->ncols; i++)
        if (out->cols[i].type.id != r->schema->fields[i].type.id ||
            out->cols[i].width != sl_type_width(r->schema->fields[i].type) ||
            out->cols[i].nullable != r->schema->fields[i].nullable)
            return SL_INVALID;
    if (!max_rows)
        return SL_OK;
    while (!r->rg_open || !r->rg_left) {
        if (r->rg >= r->meta.nrow_groups)
            return SL_OK;
        r->rg_open = false;
        if ((err = open_row_group(r, r->rg++)))
            return err;
    }
    size_t n = max_rows;
    if (n > r->rg_left)
        n = (size_t)r->rg_left;
    if (ensure_scratch(r, n))
        return nomem(r);
    memset(r->bad, 0, n);
    r->nrej = 0;
    r->rej_cap = n;
    size_t base = sl_batch_rows(out);
    for (size_t i = 0; i < r->nocols; i++) {
        if ((err = read_column(r, &r->ocols[i], &out->cols[i], n, (int32_t)i))) {
            sl_batch_truncate(out, base);
            return err;
        }
    }
    uint64_t first_row = r->rows_read;
    r->rows_read += n;
    r->rg_left -= n;
    *nrows = n;
    if (!r->nrej)
        return SL_OK;
    qsort(r->rej, r->nrej, sizeof(*r->rej), cmp_rej);
    for (size_t i = 0; i < r->nrej; i++) {
        const rowrej *x = &r->rej[i];
        const char *fname = r->schema->fields[x->field].name;
        if (!r->o.on_reject) {
            sl_batch_truncate(out, base);
            r->failed = SL_FORMAT;
            return set_err(&r->err, SL_FORMAT,
                           "fix the value, change the model, or send bad rows to dead letters",
                           "row %llu, column '%s': %s: %s",
                           (unsigned long long)(first_row + x->row + 1), fname,
                           sl_row_code_message(x->code), x->detail);
        }
        sl_pq_reject rej = {first_row + x->row + 1, x->code, sl_row_code_message(x->code),
                            x->detail, fname, x->field};
        if ((err = r->o.on_reject(r->o.reject_ctx, &rej))) {
            sl_batch_truncate(out, base);
            r->failed = err;
            return set_err(&r->err, err, NULL, "stopped by the reject handler at row %llu",
                           (unsigned long long)rej.row);
        }
        r->rm[i] = base + x->row;
    }
    sl_batch_remove_rows(out, r->rm, r->nrej);
    r->rows_rejected += r->nrej;
    return SL_OK;
}
