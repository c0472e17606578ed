/* csv_internal.h: what csv.c (the parser object, the scalar state machine) shares with
 * csv_simd.c (the SSE2/AVX2 kernels). Not part of the parser's API.
 *
 * A parse runs over a buffer buf[0..end) through an sl__csv_ctx: records are parsed from
 * c->pos on, each into a row of c->b. The scalar record parser (sl__csv_record) defines every
 * result; a kernel may emit a record itself only when it has checked that the scalar parser
 * would produce the same cells and errors, and otherwise hands the record to sl__csv_record.
 */
#ifndef SL_PARSE_CSV_INTERNAL_H
#define SL_PARSE_CSV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/csv.h"
#include "parse/rowblock.h"

/* Byte classes (sl__csv_chars.cls). */
enum {
    SL__CSV_DELIM = 1,
    SL__CSV_LF = 2,
    SL__CSV_QUOTE = 4,
    SL__CSV_ESC = 8, /* only with quoting and an escape character other than the quote */
    SL__CSV_CR = 16,
    SL__CSV_SPEC = 32, /* NUL or >= 0x80: the field needs the NUL / UTF-8 check */
};

typedef struct {
    uint8_t delim;
    uint8_t quote;  /* 0: no quoting */
    uint8_t escape; /* 0: none (also when it equals the quote) */
    size_t max_record;
    uint8_t cls[256];
} sl__csv_chars;

/* Fills ch from validated options. */
void sl__csv_chars_init(sl__csv_chars *ch, const sl_csv_opts *o);

/* States of the structural scanner: where a byte is within a record. */
enum {
    SL__CSV_ST_START,  /* at the start of a field */
    SL__CSV_ST_UNQ,    /* in an unquoted field, or in junk after a closing quote */
    SL__CSV_ST_QUOTED, /* inside quotes */
    SL__CSV_ST_QESC,   /* inside quotes, after the escape character */
    SL__CSV_ST_QSEEN,  /* inside quotes, just after a quote (closing, or the first of a pair) */
};

/* Resumable scan for the end of one record; zero it for a new record. */
typedef struct {
    uint8_t st;
    uint64_t nsep; /* delimiters outside quotes so far */
    uint64_t lfs;  /* '\n' bytes inside the record so far (not the terminator) */
    uint64_t qlfs; /* lfs when the last quoted field opened */
} sl__csv_scan;

/* Advances s over buf[i..n). Returns the index of the LF that ends the record (s is then
 * stale: zero it for the next record), or n if the record goes on. */
size_t sl__csv_scan_record(const sl__csv_chars *ch, sl__csv_scan *s, const uint8_t *buf, size_t i,
                           size_t n);

typedef struct {
    const sl__csv_chars *ch;
    sl_rowblock *b;
    const uint8_t *buf;
    size_t base;       /* b->text = buf + base */
    size_t end;        /* bytes in buf */
    size_t pos;        /* start of the next record */
    uint64_t line;     /* line of pos */
    size_t span_limit; /* a record starts at most this far past base (offsets fit 32 bits) */
    bool eof;          /* buf[end) is the end of the input */
    /* the record being parsed */
    size_t row;
    sl_cell *cells;
    sl_row_code err;
    uint32_t err_col;
    uint8_t err_why;
    uint64_t err_aux;
    uint64_t err_line;
} sl__csv_ctx;

/* Why a SYNTAX / NUL / UTF8 error (err_why), for the detail text. */
enum { SL__CSV_WHY_QUOTE = 1, SL__CSV_WHY_JUNK = 2 };

/* Results of sl__csv_record and of the kernels. */
enum {
    SL__CSV_OK,         /* a record was parsed (or an empty line skipped); c->pos moved on */
    SL__CSV_FULL,       /* the block has no room for the record at c->pos */
    SL__CSV_INCOMPLETE, /* the record at c->pos has no end in the buffer */
};

/* Parses the record at c->pos with the scalar state machine. With eof, the buffer's end ends
 * the record; without, SL__CSV_INCOMPLETE if no LF ends it. */
int sl__csv_record(sl__csv_ctx *c, bool eof);

/* NUL and UTF-8 checks of the raw field bytes buf[fs..fe), field index nf. */
void sl__csv_check_bytes(sl__csv_ctx *c, size_t fs, size_t fe, size_t nf);

/* Everything but the common case of sl__csv_row_end; also fine to call for a good record. */
void sl__csv_row_end_slow(sl__csv_ctx *c, size_t rs, size_t re, size_t nf);

/* Kernels: parse complete records from c->pos until the block is full (SL__CSV_FULL) or the
 * record at c->pos has no LF in the buffer (SL__CSV_INCOMPLETE; c->pos may equal c->end). */
int sl__csv_bulk_scalar(sl__csv_ctx *c);
size_t sl__csv_split_scalar(const sl__csv_chars *ch, const uint8_t *buf, size_t n,
                            uint64_t *newlines);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SL__CSV_X86 1
int sl__csv_bulk_sse2(sl__csv_ctx *c);
int sl__csv_bulk_avx2(sl__csv_ctx *c);
size_t sl__csv_split_sse2(const sl__csv_chars *ch, const uint8_t *buf, size_t n,
                          uint64_t *newlines);
size_t sl__csv_split_avx2(const sl__csv_chars *ch, const uint8_t *buf, size_t n,
                          uint64_t *newlines);
#endif

/* Starts a row for the record at rs; false when the block is full (or offsets could overflow).
 * Its cells are not initialised: sl__csv_row_end() sets those past the last field MISSING. */
static inline bool sl__csv_row_begin(sl__csv_ctx *c, size_t rs)
{
    sl_rowblock *b = c->b;
    if (b->nrows == b->cap_rows || (b->nrows && rs - c->base > c->span_limit))
        return false;
    size_t r = b->nrows++;
    b->line[r] = c->line;
    b->rec_off[r] = (uint32_t)(rs - c->base);
    b->row_err[r].code = SL_ROW_OK;
    c->row = r;
    c->cells = b->cells + r * b->ncols;
    c->err = SL_ROW_OK;
    return true;
}

/* First error of the record wins (UNTERMINATED overrides: sl__csv_record sets it directly). */
static inline void sl__csv_field_err(sl__csv_ctx *c, sl_row_code code, size_t nf, uint8_t why,
                                     uint64_t aux)
{
    if (c->err != SL_ROW_OK)
        return;
    c->err = code;
    c->err_col = (uint32_t)(nf + 1);
    c->err_why = why;
    c->err_aux = aux;
}

static inline void sl__csv_cell(sl__csv_ctx *c, size_t nf, size_t off, size_t len, uint8_t kind,
                                uint8_t flags)
{
    if (nf < c->b->ncols)
        c->cells[nf] = (sl_cell){(uint32_t)(off - c->base), (uint32_t)len, kind, flags, 0};
}

/* Ends the record that started at rs: re is the index of its LF (or the end of the input),
 * rend the end of its bytes without the terminator, nf its field count, lfs the '\n' bytes
 * in it including the terminator, next the start of the next record. */
static inline void sl__csv_row_end(sl__csv_ctx *c, size_t rs, size_t re, size_t rend, size_t nf,
                                   uint64_t lfs, size_t next)
{
    c->b->rec_len[c->row] = (uint32_t)(rend - rs);
    if (c->err != SL_ROW_OK || nf != c->b->ncols || re - rs > c->ch->max_record)
        sl__csv_row_end_slow(c, rs, re, nf);
    c->line += lfs;
    c->pos = next;
}

#endif
