/* csv.c: streaming CSV parser (see csv.h for the format it accepts and what it produces).
 *
 * Design
 *   Input is copied into one growable buffer; buf[pos..len) is not parsed yet. sl_csv_next()
 *   parses whole records from pos into the caller's row block: a kernel (scalar, SSE2 or AVX2,
 *   chosen at create) runs over the buffer and stops at the first record without a
 *   terminating LF. Such a tail is then scanned for its end by the resumable structural scanner
 *   (sl__csv_scan_record), which keeps its state across feeds so that a record fed in many
 *   small pieces is scanned once, not once per piece; when its end arrives, the record is parsed
 *   by the scalar record parser. A tail that grows past max_record is skipped: its bytes are
 *   dropped as they arrive (memory stays bounded) and one TOO_LONG row is emitted when its end
 *   is found.
 *
 *   The scalar record parser sl__csv_record() is the definition of every result (cells, errors,
 *   line numbers). The SIMD kernels (csv_simd.c) compute the same structure from bit masks and
 *   emit records themselves only when each field passes checks proving the scalar parser would
 *   agree; otherwise they hand that record to sl__csv_record(). The scanner and the record
 *   parser implement one state machine (states in csv_internal.h); the chunk-boundary tests
 *   and the fuzzer check that they agree.
 *
 * Invariants
 *   - pos <= buf.len; the tail scan state (tail, tail_off) and the skip state describe the
 *     record starting at pos, with offsets relative to pos (feed() may move the bytes).
 *   - Between calls no row of a block refers to bytes before pos of that call's start: feed()
 *     drops bytes before pos only.
 *   - line is the 1-based line of buf[pos].
 */
#include "parse/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/csv_internal.h"
#include "util/buf.h"

#define MAX_RECORD_LIMIT ((size_t)1 << 30)
#define BUF_CAP ((size_t)4 << 30) /* unparsed input the parser holds at most */

struct sl_csv {
    sl_csv_opts o;
    sl__csv_chars ch;
    sl_csv_simd kernel;
    sl_buf buf; /* buf.ptr[pos..len) unparsed */
    size_t pos;
    uint64_t line; /* line of buf[pos] */
    bool started;  /* something was fed */
    bool bom_done;
    bool ended; /* sl_csv_end_input() */
    /* tail: the record at pos has no LF in buf[pos..pos+tail_off) */
    bool tail;
    size_t tail_off;
    sl__csv_scan tail_s;
    /* skipping a too-long record that started at line `line`: skip_len bytes dropped so far */
    bool skipping;
    uint64_t skip_len;
    sl__csv_scan skip_s;
    /* header */
    bool hdr_known;
    sl_err hdr_err;
    size_t hdr_nfields;
    sl_buf hdr_text;
    sl_rowblock hdr_rb;
    char errmsg[160];
};

/* ---- options, kernels ---------------------------------------------------------------------- */

void sl_csv_opts_default(sl_csv_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->delim = ',';
    o->quote = '"';
    o->escape = 0;
    o->header = true;
    o->max_record = (size_t)16 << 20;
    o->max_fields = 16384;
    o->simd = SL_CSV_SIMD_AUTO;
}

static bool is_ascii(char ch)
{
    return (unsigned char)ch < 0x80;
}

static sl_err check_opts(const sl_csv_opts *o)
{
    uint8_t d = (uint8_t)o->delim, q = (uint8_t)o->quote, e = (uint8_t)o->escape;
    if (!d || d == '\n' || d == '\r' || d == q || (e && d == e))
        return SL_INVALID;
    if (!is_ascii(o->delim) || !is_ascii(o->quote) || !is_ascii(o->escape))
        return SL_INVALID;
    if (q == '\n' || q == '\r' || e == '\n' || e == '\r')
        return SL_INVALID;
    if (!o->max_record || o->max_record > MAX_RECORD_LIMIT || !o->max_fields)
        return SL_INVALID;
    if ((unsigned)o->simd > SL_CSV_SIMD_AVX2)
        return SL_INVALID;
    return SL_OK;
}

void sl__csv_chars_init(sl__csv_chars *ch, const sl_csv_opts *o)
{
    memset(ch, 0, sizeof(*ch));
    ch->delim = (uint8_t)o->delim;
    ch->quote = (uint8_t)o->quote;
    ch->escape = ch->quote && o->escape != o->quote ? (uint8_t)o->escape : 0;
    ch->max_record = o->max_record;
    ch->cls[0] = SL__CSV_SPEC;
    for (int c = 0x80; c < 256; c++)
        ch->cls[c] = SL__CSV_SPEC;
    ch->cls['\n'] = SL__CSV_LF;
    ch->cls['\r'] = SL__CSV_CR;
    ch->cls[ch->delim] = SL__CSV_DELIM;
    if (ch->quote)
        ch->cls[ch->quote] = SL__CSV_QUOTE;
    if (ch->escape)
        ch->cls[ch->escape] = SL__CSV_ESC;
}

bool sl_csv_simd_supported(sl_csv_simd s)
{
    switch (s) {
    case SL_CSV_SIMD_AUTO:
    case SL_CSV_SIMD_SCALAR:
        return true;
#ifdef SL__CSV_X86
    case SL_CSV_SIMD_SSE2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("sse2") && __builtin_cpu_supports("pclmul") &&
               __builtin_cpu_supports("popcnt");
    case SL_CSV_SIMD_AVX2:
        __builtin_cpu_init();
        return sl_csv_simd_supported(SL_CSV_SIMD_SSE2) && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("bmi");
#endif
    default:
        return false;
    }
}

const char *sl_csv_simd_name(sl_csv_simd s)
{
    switch (s) {
    case SL_CSV_SIMD_AUTO:
        return "auto";
    case SL_CSV_SIMD_SCALAR:
        return "scalar";
    case SL_CSV_SIMD_SSE2:
        return "sse2";
    case SL_CSV_SIMD_AVX2:
        return "avx2";
    }
    return "unknown";
}

/* The kernel for a request: AUTO reads SLUICE_SIMD; an unsupported level falls back. */
static sl_csv_simd pick_kernel(sl_csv_simd want)
{
    if (want == SL_CSV_SIMD_AUTO) {
        const char *env = getenv("SLUICE_SIMD");
        want = SL_CSV_SIMD_AVX2;
        if (env && !strcmp(env, "scalar"))
            want = SL_CSV_SIMD_SCALAR;
        else if (env && !strcmp(env, "sse2"))
            want = SL_CSV_SIMD_SSE2;
    }
    while (want > SL_CSV_SIMD_SCALAR && !sl_csv_simd_supported(want))
        want = (sl_csv_simd)(want - 1);
    return want;
}

/* ---- UTF-8 and NUL ------------------------------------------------------------------------- */

/* Offset of the first byte of the first invalid UTF-8 sequence in s[0..n), or n. Rejects
 * overlong forms, surrogates, code points above U+10FFFF and sequences cut by the end. */
static size_t utf8_check(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* > U+10FFFF */
        } else {
            return i;
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += len;
    }
    return n;
}

void sl__csv_check_bytes(sl__csv_ctx *c, size_t fs, size_t fe, size_t nf)
{
    const uint8_t *f = c->buf + fs;
    size_t n = fe - fs;
    const uint8_t *z = n ? memchr(f, 0, n) : NULL;
    if (z) {
        sl__csv_field_err(c, SL_ROW_NUL, nf, 0, (uint64_t)(z - f));
        return;
    }
    size_t bad = utf8_check(f, n);
    if (bad < n)
        sl__csv_field_err(c, SL_ROW_UTF8, nf, 0, bad);
}

/* ---- rows and errors ----------------------------------------------------------------------- */

/* A record longer than max_record: no cells, no raw bytes; UNTERMINATED if its quote never
 * closed (column, line: where), TOO_LONG otherwise. */
static void reject_long(sl_rowblock *b, size_t r, uint64_t len, size_t max_record,
                        bool unterminated, uint32_t col, uint64_t qline)
{
    char detail[96];
    sl_cell *cells = b->cells + r * b->ncols;
    for (size_t i = 0; i < b->ncols; i++)
        cells[i] = (sl_cell){0, 0, SL_CELL_MISSING, 0, 0};
    b->rec_len[r] = 0;
    if (unterminated) {
        snprintf(detail, sizeof(detail), "quote opened at line %llu in field %u is not closed",
                 (unsigned long long)qline, (unsigned)col);
        sl_rowblock_reject(b, r, SL_ROW_UNTERMINATED, col, -1, detail);
        b->row_err[r].line = qline;
        return;
    }
    snprintf(detail, sizeof(detail), "record of %llu bytes, more than max_record %zu",
             (unsigned long long)len, max_record);
    sl_rowblock_reject(b, r, SL_ROW_TOO_LONG, 0, -1, detail);
}

void sl__csv_row_end_slow(sl__csv_ctx *c, size_t rs, size_t re, size_t nf)
{
    sl_rowblock *b = c->b;
    char detail[96];
    for (size_t i = nf; i < b->ncols; i++)
        c->cells[i] = (sl_cell){0, 0, SL_CELL_MISSING, 0, 0};
    if (re - rs > c->ch->max_record) {
        reject_long(b, c->row, re - rs, c->ch->max_record, c->err == SL_ROW_UNTERMINATED,
                    c->err_col, c->err_line);
        return;
    }
    if (c->err == SL_ROW_OK) {
        if (nf == b->ncols)
            return; /* checked and found fine */
        c->err = SL_ROW_RAGGED;
        c->err_col = (uint32_t)nf;
    }
    switch (c->err) {
    case SL_ROW_RAGGED:
        snprintf(detail, sizeof(detail), "expected %zu fields, got %zu", b->ncols, nf);
        break;
    case SL_ROW_SYNTAX:
        snprintf(detail, sizeof(detail), "%s in field %u",
                 c->err_why == SL__CSV_WHY_QUOTE ? "unexpected quote"
                                                 : "unexpected character after closing quote",
                 (unsigned)c->err_col);
        break;
    case SL_ROW_NUL:
    case SL_ROW_UTF8:
        snprintf(detail, sizeof(detail), "%s at byte %llu of field %u",
                 c->err == SL_ROW_NUL ? "NUL byte" : "invalid UTF-8",
                 (unsigned long long)c->err_aux, (unsigned)c->err_col);
        break;
    case SL_ROW_UNTERMINATED:
        snprintf(detail, sizeof(detail), "quote opened at line %llu in field %u is not closed",
                 (unsigned long long)c->err_line, (unsigned)c->err_col);
        break;
    default:
        detail[0] = 0;
        break;
    }
    sl_rowblock_reject(b, c->row, c->err, c->err_col, -1, detail);
    if (c->err == SL_ROW_UNTERMINATED)
        b->row_err[c->row].line = c->err_line;
}

/* ---- the state machine --------------------------------------------------------------------- */

size_t sl__csv_scan_record(const sl__csv_chars *ch, sl__csv_scan *s, const uint8_t *buf, size_t i,
                           size_t n)
{
    const uint8_t *cls = ch->cls;
    uint8_t st = s->st, k;
    while (i < n) {
        switch (st) {
        case SL__CSV_ST_START:
            if (cls[buf[i]] & SL__CSV_QUOTE) {
                st = SL__CSV_ST_QUOTED;
                s->qlfs = s->lfs;
                i++;
                break;
            }
            st = SL__CSV_ST_UNQ;
            /* fall through */
        case SL__CSV_ST_UNQ:
            while (i < n && !(cls[buf[i]] & (SL__CSV_DELIM | SL__CSV_LF)))
                i++;
            if (i == n)
                break;
            if (buf[i] == '\n') {
                s->st = SL__CSV_ST_START;
                return i;
            }
            s->nsep++;
            st = SL__CSV_ST_START;
            i++;
            break;
        case SL__CSV_ST_QUOTED:
            k = 0;
            while (i < n && !((k = cls[buf[i]]) & (SL__CSV_QUOTE | SL__CSV_ESC | SL__CSV_LF)))
                i++;
            if (i == n)
                break;
            if (k & SL__CSV_LF)
                s->lfs++;
            else
                st = k & SL__CSV_ESC ? SL__CSV_ST_QESC : SL__CSV_ST_QSEEN;
            i++;
            break;
        case SL__CSV_ST_QESC:
            s->lfs += buf[i] == '\n';
            st = SL__CSV_ST_QUOTED;
            i++;
            break;
        case SL__CSV_ST_QSEEN:
            if (cls[buf[i]] & SL__CSV_QUOTE) {
                st = SL__CSV_ST_QUOTED;
                i++;
            } else {
                st = SL__CSV_ST_UNQ; /* the byte is looked at again as outside quotes */
            }
            break;
        }
    }
    s->st = st;
    return n;
}

int sl__csv_record(sl__csv_ctx *c, bool eof)
{
    const uint8_t *buf = c->buf, *cls = c->ch->cls;
    const size_t end = c->end, rs = c->pos;
    uint64_t lfs = 0;
    size_t i = rs, nf = 0, re = 0, rend = 0, next = 0;

    if (!sl__csv_row_begin(c, rs))
        return SL__CSV_FULL;
    for (;;) {
        const size_t fs = i;
        size_t fe = 0, cs = fs, clen;
        uint8_t kind = SL_CELL_TEXT, flags = 0, acc = 0, k = 0;
        bool last = false;

        if (i < end && (cls[buf[i]] & SL__CSV_QUOTE)) {
            uint64_t qlfs = lfs;
            i++;
            for (;;) {
                while (i < end &&
                       !((k = cls[buf[i]]) & (SL__CSV_QUOTE | SL__CSV_ESC | SL__CSV_LF))) {
                    acc |= k;
                    i++;
                }
                if (i == end)
                    goto open_at_end;
                if (k & SL__CSV_LF) {
                    lfs++;
                    i++;
                    continue;
                }
                if (k & SL__CSV_ESC) {
                    if (i + 1 == end)
                        goto open_at_end;
                    acc |= cls[buf[i + 1]];
                    lfs += buf[i + 1] == '\n';
                    i += 2;
                    flags = SL_CELLF_CSV_ESCAPES;
                    continue;
                }
                if (i + 1 < end && (cls[buf[i + 1]] & SL__CSV_QUOTE)) {
                    i += 2;
                    flags = SL_CELLF_CSV_ESCAPES;
                    continue;
                }
                break;
            }
            /* the quote at i closes the field, unless more input could make it a pair */
            if (i + 1 == end && !eof)
                goto incomplete;
            const size_t ce = i++;
            k = i < end ? cls[buf[i]] : 0;
            if (i == end) {
                last = true;
                fe = re = rend = next = end;
            } else if (k & SL__CSV_DELIM) {
                fe = i++;
            } else if (k & SL__CSV_LF) {
                last = true;
                fe = re = rend = i;
                next = i + 1;
                lfs++;
            } else if ((k & SL__CSV_CR) && i + 1 < end && buf[i + 1] == '\n') {
                last = true;
                fe = rend = i;
                re = i + 1;
                next = i + 2;
                lfs++;
            } else if ((k & SL__CSV_CR) && i + 1 == end) {
                if (!eof)
                    goto incomplete;
                last = true; /* CRLF cut after the CR at the end of the input */
                fe = rend = i;
                re = next = end;
            } else {
                /* junk after the closing quote: the field runs on, raw, as if unquoted */
                sl__csv_field_err(c, SL_ROW_SYNTAX, nf, SL__CSV_WHY_JUNK, 0);
                flags = 0;
                goto unquoted;
            }
            kind = SL_CELL_STRING;
            cs = fs + 1;
            clen = ce - cs;
            goto field_done;

        open_at_end:
            if (!eof)
                goto incomplete;
            c->err = SL_ROW_UNTERMINATED;
            c->err_col = (uint32_t)(nf + 1);
            c->err_line = c->line + qlfs;
            last = true;
            fe = re = rend = next = end;
            flags = 0;
            clen = fe - fs;
            goto field_done;
        }
    unquoted:
        while (i < end && !((k = cls[buf[i]]) & (SL__CSV_DELIM | SL__CSV_LF))) {
            acc |= k;
            i++;
        }
        if (i == end) {
            if (!eof)
                goto incomplete;
            last = true;
            fe = end;
            if (fe > fs && buf[fe - 1] == '\r')
                fe--;
            re = next = end;
            rend = fe;
        } else if (k & SL__CSV_LF) {
            last = true;
            fe = i;
            if (fe > fs && buf[fe - 1] == '\r')
                fe--;
            re = i;
            rend = fe;
            next = i + 1;
            lfs++;
        } else {
            fe = i++;
        }
        if (acc & SL__CSV_QUOTE)
            sl__csv_field_err(c, SL_ROW_SYNTAX, nf, SL__CSV_WHY_QUOTE, 0);
        clen = fe - fs;

    field_done:
        if (acc & SL__CSV_SPEC)
            sl__csv_check_bytes(c, fs, fe, nf);
        sl__csv_cell(c, nf, cs, clen, kind, flags);
        nf++;
        if (last)
            break;
    }
    if (nf == 1 && rend == rs && c->b->ncols != 1) {
        /* an empty line is not a record */
        c->b->nrows--;
        c->line += lfs;
        c->pos = next;
        return SL__CSV_OK;
    }
    sl__csv_row_end(c, rs, re, rend, nf, lfs, next);
    return SL__CSV_OK;

incomplete:
    c->b->nrows--;
    return SL__CSV_INCOMPLETE;
}

int sl__csv_bulk_scalar(sl__csv_ctx *c)
{
    while (c->pos < c->end) {
        int r = sl__csv_record(c, false);
        if (r != SL__CSV_OK)
            return r;
    }
    return SL__CSV_INCOMPLETE;
}

size_t sl__csv_split_scalar(const sl__csv_chars *ch, const uint8_t *buf, size_t n,
                            uint64_t *newlines)
{
    size_t last = 0;
    uint64_t nl = 0;
    for (;;) {
        sl__csv_scan s = {0};
        size_t x = sl__csv_scan_record(ch, &s, buf, last, n);
        if (x == n)
            break;
        nl += s.lfs + 1;
        last = x + 1;
    }
    *newlines = nl;
    return last;
}

/* ---- the parser object --------------------------------------------------------------------- */

sl_err sl_csv_create(const sl_csv_opts *o, sl_csv **out)
{
    sl_err err = check_opts(o);
    if (err)
        return err;
    sl_csv *p = calloc(1, sizeof(*p));
    if (!p)
        return SL_NOMEM;
    p->o = *o;
    sl__csv_chars_init(&p->ch, o);
    p->kernel = p->ch.escape ? SL_CSV_SIMD_SCALAR : pick_kernel(o->simd);
    sl_buf_init(&p->buf, BUF_CAP);
    sl_buf_init(&p->hdr_text, o->max_record + 1);
    p->line = 1;
    *out = p;
    return SL_OK;
}

void sl_csv_destroy(sl_csv *p)
{
    if (!p)
        return;
    sl_buf_release(&p->buf);
    sl_buf_release(&p->hdr_text);
    sl_rowblock_release(&p->hdr_rb);
    free(p);
}

void sl_csv_reset(sl_csv *p, bool header)
{
    p->o.header = header;
    p->buf.len = 0;
    p->pos = 0;
    p->line = 1;
    p->started = p->bom_done = p->ended = false;
    p->tail = false;
    p->tail_off = 0;
    memset(&p->tail_s, 0, sizeof(p->tail_s));
    p->skipping = false;
    p->skip_len = 0;
    memset(&p->skip_s, 0, sizeof(p->skip_s));
    p->hdr_known = false;
    p->hdr_err = SL_OK;
    p->hdr_nfields = 0;
    p->hdr_text.len = 0;
    sl_rowblock_release(&p->hdr_rb);
    p->errmsg[0] = 0;
}

void sl_csv_set_first_line(sl_csv *p, uint64_t line)
{
    if (p->started)
        return;
    p->line = line ? line : 1;
    p->bom_done = p->line != 1;
}

sl_err sl_csv_feed(sl_csv *p, const void *data, size_t n)
{
    if (p->ended)
        return SL_STATE;
    if (!n)
        return SL_OK;
    p->started = true;
    size_t live = p->buf.len - p->pos;
    /* Drop parsed bytes when they outweigh the live ones or room is short: amortised O(1) a
     * byte even when a long record arrives in tiny pieces. */
    if (p->pos && (p->pos >= live || p->buf.alloc - p->buf.len < n)) {
        memmove(p->buf.ptr, p->buf.ptr + p->pos, live);
        p->buf.len = live;
        p->pos = 0;
    }
    return sl_buf_append(&p->buf, data, n);
}

void sl_csv_end_input(sl_csv *p)
{
    p->ended = true;
}

const char *sl_csv_errmsg(const sl_csv *p)
{
    return p->errmsg;
}

sl_csv_simd sl_csv_kernel(const sl_csv *p)
{
    return p->kernel;
}

static const uint8_t bom[3] = {0xEF, 0xBB, 0xBF};

size_t sl_csv_bom_len(const uint8_t *buf, size_t n)
{
    return n >= 3 && memcmp(buf, bom, 3) == 0 ? 3 : 0;
}

/* Skips a UTF-8 byte order mark at the start of the input; false while undecided. */
static bool bom_step(sl_csv *p, bool eof)
{
    if (p->bom_done)
        return true;
    size_t avail = p->buf.len - p->pos;
    size_t k = avail < 3 ? avail : 3;
    if (k && memcmp(p->buf.ptr + p->pos, bom, k) != 0) {
        p->bom_done = true;
        return true;
    }
    if (k < 3) {
        if (!eof)
            return false;
        p->bom_done = true;
        return true;
    }
    p->pos += 3;
    p->bom_done = true;
    return true;
}

static sl_err header_fail(sl_csv *p, const char *msg)
{
    snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
    p->hdr_err = SL_FORMAT;
    return SL_FORMAT;
}

/* Finds the header (header = true: parses and consumes it; false: measures the first
 * non-empty record). SL_RETRY while it is not all buffered. */
static sl_err header_step(sl_csv *p, bool eof)
{
    char msg[160];
    if (p->hdr_err)
        return p->hdr_err;
    if (p->hdr_known)
        return SL_OK;
    if (!bom_step(p, eof))
        return SL_RETRY;
    const uint8_t *buf = p->buf.ptr;
    size_t len = p->buf.len, at = p->pos;
    uint64_t line = p->line;
    for (;;) { /* empty lines before the header */
        if (at == len) {
            if (!eof)
                return SL_RETRY;
            p->hdr_known = true;
            p->hdr_nfields = 0;
            return SL_OK;
        }
        if (buf[at] == '\n') {
            at++;
            line++;
        } else if (buf[at] == '\r' && at + 1 == len && eof) {
            at++;
        } else if (buf[at] == '\r' && at + 1 == len) {
            return SL_RETRY;
        } else if (buf[at] == '\r' && buf[at + 1] == '\n') {
            at += 2;
            line++;
        } else {
            break;
        }
    }
    sl__csv_scan s = {0};
    size_t x = sl__csv_scan_record(&p->ch, &s, buf, at, len);
    if (x - at > p->o.max_record) {
        snprintf(msg, sizeof(msg), "the %s at line %llu is longer than max_record (%zu bytes)",
                 p->o.header ? "header" : "first record", (unsigned long long)line,
                 p->o.max_record);
        return header_fail(p, msg);
    }
    if (x == len && !eof)
        return SL_RETRY;
    if (s.nsep + 1 > p->o.max_fields) {
        snprintf(msg, sizeof(msg),
                 "the %s at line %llu has %llu fields, more than max_fields "
                 "(%zu)",
                 p->o.header ? "header" : "first record", (unsigned long long)line,
                 (unsigned long long)(s.nsep + 1), p->o.max_fields);
        return header_fail(p, msg);
    }
    size_t nfields = (size_t)s.nsep + 1;
    if (!p->o.header) {
        p->hdr_known = true;
        p->hdr_nfields = nfields;
        return SL_OK;
    }
    /* parse a private copy of the header record, which lives as long as the parser */
    size_t rlen = x < len ? x + 1 - at : len - at;
    sl_err err = sl_buf_append(&p->hdr_text, buf + at, rlen);
    if (!err)
        err = sl_rowblock_init(&p->hdr_rb, nfields, 1);
    if (err) {
        sl_buf_release(&p->hdr_text);
        return err;
    }
    sl__csv_ctx c = {.ch = &p->ch,
                     .b = &p->hdr_rb,
                     .buf = p->hdr_text.ptr,
                     .end = rlen,
                     .line = line,
                     .span_limit = SIZE_MAX,
                     .eof = true};
    int r = sl__csv_record(&c, true);
    if (r != SL__CSV_OK || p->hdr_rb.nrows != 1)
        abort(); /* scanner and parser disagree about the header record */
    const sl_row_err *e = &p->hdr_rb.row_err[0];
    if (e->code != SL_ROW_OK) {
        snprintf(msg, sizeof(msg), "header at line %llu: %s (%s)", (unsigned long long)e->line,
                 sl_row_code_message(e->code), e->detail);
        return header_fail(p, msg);
    }
    p->hdr_known = true;
    p->hdr_nfields = nfields;
    p->pos = at + rlen;
    p->line = c.line;
    return SL_OK;
}

sl_err sl_csv_header(sl_csv *p, size_t *nfields, const sl_cell **names, const uint8_t **text)
{
    sl_err err = header_step(p, p->ended);
    if (err)
        return err;
    *nfields = p->hdr_nfields;
    *names = p->o.header && p->hdr_nfields ? p->hdr_rb.cells : NULL;
    *text = p->o.header && p->hdr_nfields ? p->hdr_text.ptr : NULL;
    return SL_OK;
}

/* Goes on skipping a too-long record; false when it needs more input or room. */
static bool skip_step(sl_csv *p, sl__csv_ctx *c)
{
    sl_rowblock *b = c->b;
    if (b->nrows == b->cap_rows)
        return false;
    size_t x = sl__csv_scan_record(&p->ch, &p->skip_s, c->buf, c->pos, c->end);
    if (x == c->end && !c->eof) {
        p->skip_len += c->end - c->pos;
        c->pos = c->end;
        return false;
    }
    uint64_t len = p->skip_len + (x - c->pos);
    bool open =
        x == c->end && (p->skip_s.st == SL__CSV_ST_QUOTED || p->skip_s.st == SL__CSV_ST_QESC);
    size_t r = sl_rowblock_add_row(b, c->line, 0, 0);
    reject_long(b, r, len, p->o.max_record, open, (uint32_t)(p->skip_s.nsep + 1),
                c->line + p->skip_s.qlfs);
    c->line += p->skip_s.lfs + (x < c->end);
    c->pos = x < c->end ? x + 1 : c->end;
    p->skipping = false;
    return true;
}

static int run_kernel(sl_csv_simd k, sl__csv_ctx *c)
{
    switch (k) {
#ifdef SL__CSV_X86
    case SL_CSV_SIMD_AVX2:
        return sl__csv_bulk_avx2(c);
    case SL_CSV_SIMD_SSE2:
        return sl__csv_bulk_sse2(c);
#endif
    default:
        return sl__csv_bulk_scalar(c);
    }
}

static void parse(sl_csv *p, sl__csv_ctx *c)
{
    for (;;) {
        if (p->skipping) {
            if (!skip_step(p, c))
                return;
            continue;
        }
        if (c->pos == c->end)
            return;
        if (p->tail) {
            size_t x =
                sl__csv_scan_record(&p->ch, &p->tail_s, c->buf, c->pos + p->tail_off, c->end);
            if (x == c->end && !c->eof) {
                p->tail_off = c->end - c->pos;
                if (p->tail_off > p->o.max_record) {
                    /* it is too long already: drop it as it comes */
                    p->tail = false;
                    p->skipping = true;
                    p->skip_s = p->tail_s;
                    p->skip_len = p->tail_off;
                    c->pos = c->end;
                }
                return;
            }
            /* the scan state is spent either way: if the block is full, the record (complete
             * now) is parsed from scratch next time */
            p->tail = false;
            int r = sl__csv_record(c, c->eof);
            if (r == SL__CSV_FULL)
                return;
            if (r != SL__CSV_OK)
                abort(); /* scanner and parser disagree */
            continue;
        }
        if (run_kernel(p->kernel, c) == SL__CSV_FULL || c->pos == c->end)
            return;
        if (c->eof) {
            if (sl__csv_record(c, true) == SL__CSV_FULL)
                return;
            continue;
        }
        p->tail = true;
        p->tail_off = 0;
        memset(&p->tail_s, 0, sizeof(p->tail_s));
    }
}

sl_err sl_csv_next(sl_csv *p, bool eof, sl_rowblock *b)
{
    if (b->nrows)
        return SL_STATE;
    eof = eof || p->ended;
    b->text = p->buf.ptr ? p->buf.ptr + p->pos : NULL;
    b->text_len = 0;
    if (p->o.header) {
        sl_err err = header_step(p, eof);
        if (err == SL_RETRY)
            return SL_OK;
        if (err)
            return err;
    } else if (!bom_step(p, eof)) {
        return SL_OK;
    }
    if (!p->buf.ptr)
        return SL_OK;
    sl__csv_ctx c = {.ch = &p->ch,
                     .b = b,
                     .buf = p->buf.ptr,
                     .base = p->pos,
                     .end = p->buf.len,
                     .pos = p->pos,
                     .line = p->line,
                     .span_limit = UINT32_MAX - p->o.max_record - 8,
                     .eof = eof};
    b->text = p->buf.ptr + p->pos;
    parse(p, &c);
    b->text_len = c.pos - c.base;
    p->pos = c.pos;
    p->line = c.line;
    return SL_OK;
}

/* ---- split and unescape -------------------------------------------------------------------- */

size_t sl_csv_split(const sl_csv_opts *o, const uint8_t *buf, size_t n, uint64_t *newlines)
{
    sl__csv_chars ch;
    *newlines = 0;
    if (!n || check_opts(o))
        return 0;
    sl__csv_chars_init(&ch, o);
    sl_csv_simd k = ch.escape ? SL_CSV_SIMD_SCALAR : pick_kernel(o->simd);
    switch (k) {
#ifdef SL__CSV_X86
    case SL_CSV_SIMD_AVX2:
        return sl__csv_split_avx2(&ch, buf, n, newlines);
    case SL_CSV_SIMD_SSE2:
        return sl__csv_split_sse2(&ch, buf, n, newlines);
#endif
    default:
        return sl__csv_split_scalar(&ch, buf, n, newlines);
    }
}

size_t sl_csv_unescape(const sl_csv_opts *o, const uint8_t *p, size_t n, uint8_t *out)
{
    uint8_t q = (uint8_t)o->quote, e = (uint8_t)o->escape;
    if (e == q)
        e = 0;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (((e && c == e) || (q && c == q)) && i + 1 < n)
            c = p[++i];
        out[j++] = c;
    }
    return j;
}
