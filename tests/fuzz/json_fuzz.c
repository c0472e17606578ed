/* json_fuzz.c: libFuzzer target for the JSON Lines / array parser (src/parse/json.c).
 *
 * Input: byte 0 picks options (bit 0 array mode; bits 1-2 unknown-field policy ignore /
 * reject / collect; bit 3 dup_last_wins; bits 4-5 max_depth 64 / 1 / 2 / 5; bit 6 max_record
 * 24 instead of the default), byte 1 seeds the chunking, the rest is the JSON input. Columns
 * are "a", "b", "c", "\xc3\xa9" (+ "_extra" when collecting).
 *
 * Properties (any violation aborts with both renderings):
 *   1. differential: the whole input at once (best scanner: AVX2 where available), the input in
 *      pseudo-random chunks (from byte 1) into small blocks, and the scalar and SSE2 scanners
 *      all give identical rows, errors (code, line, column, field, detail) and raw records;
 *   2. JSON Lines: the rows equal those of an independent reference parser below (a plain,
 *      bounds-checked recursive descent written from RFC 8259 and json.h's rules): which lines
 *      are rows, which are good, error code, line, column and field, and every cell's kind,
 *      flags and bytes (COLLECT text included);
 *   3. every good row: each STRING cell unescapes (sl_json_unescape) to valid UTF-8 of at most
 *      its length, each NUMBER cell matches the RFC 8259 number grammar, each NESTED cell is a
 *      valid JSON value by the reference parser.
 * Plus, as always, no crash, leak, out-of-bounds read (ASan) or undefined behaviour (UBSan).
 *
 * Build and run: see tests/fuzz/README.md. Seeds: tests/fuzz/corpus/json/, dict json.dict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/json_dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"a", "b", "c", "\xc3\xa9", "_extra"};

static void die(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "json_fuzz: %s\n--- first:\n%s\n--- second:\n%s\n", what, a ? a : "(null)",
            b ? b : "(null)");
    abort();
}

/* ---- reference parser (JSON Lines) ----------------------------------------------------------- */

typedef struct {
    const uint8_t *s; /* the line, without '\n' */
    size_t n;
    size_t i;
    size_t max_depth;
    /* first error */
    int code;
    size_t pos;
    int field;
} ref;

static int ref_fail(ref *r, int code, size_t pos)
{
    r->code = code;
    r->pos = pos;
    return 0;
}

/* Valid UTF-8 sequence length at s[i] (s[i] >= 0x80) within n, or 0. */
static size_t ref_utf8(const uint8_t *s, size_t n, size_t i)
{
    uint8_t c = s[i];
    size_t k;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t j = 1; j < k; j++) {
        if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i + j] & 0x3F);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

/* Not the expected byte at pos: end of input, NUL, invalid UTF-8 or a plain syntax error. */
static int ref_unexpected(ref *r, size_t pos)
{
    if (pos >= r->n)
        return ref_fail(r, SL_ROW_SYNTAX, r->n);
    if (r->s[pos] == 0)
        return ref_fail(r, SL_ROW_NUL, pos);
    if (r->s[pos] >= 0x80 && !ref_utf8(r->s, r->n, pos))
        return ref_fail(r, SL_ROW_UTF8, pos);
    return ref_fail(r, SL_ROW_SYNTAX, pos);
}

static int ref_peek(const ref *r)
{
    return r->i < r->n ? r->s[r->i] : -1;
}

static void ref_ws(ref *r)
{
    while (r->i < r->n &&
           (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\r' || r->s[r->i] == '\n'))
        r->i++;
}

static int ref_hex(const ref *r, size_t at, uint32_t *v)
{
    *v = 0;
    for (size_t k = 0; k < 4; k++) {
        if (at + k >= r->n)
            return (int)k;
        uint8_t c = r->s[at + k];
        uint32_t d = c >= '0' && c <= '9'   ? (uint32_t)(c - '0')
                     : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10)
                                            : 99;
        if (d == 99)
            return (int)k;
        *v = *v << 4 | d;
    }
    return 4;
}

/* At the opening quote. On success r->i is past the closing quote; *esc set if escapes. */
static int ref_string(ref *r, bool *esc)
{
    r->i++;
    for (;;) {
        if (r->i >= r->n)
            return ref_unexpected(r, r->i);
        uint8_t c = r->s[r->i];
        if (c == '"') {
            r->i++;
            return 1;
        }
        if (c == '\\') {
            *esc = true;
            if (r->i + 1 >= r->n)
                return ref_unexpected(r, r->i + 1);
            uint8_t e = r->s[r->i + 1];
            if (e && strchr("\"\\/bfnrt", e)) {
                r->i += 2;
                continue;
            }
            if (e != 'u')
                return ref_unexpected(r, r->i + 1);
            uint32_t cp, lo;
            int k = ref_hex(r, r->i + 2, &cp);
            if (k < 4)
                return ref_unexpected(r, r->i + 2 + (size_t)k);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (r->i + 7 < r->n && r->s[r->i + 6] == '\\' && r->s[r->i + 7] == 'u' &&
                    ref_hex(r, r->i + 8, &lo) == 4 && lo >= 0xDC00 && lo <= 0xDFFF) {
                    r->i += 12;
                    continue;
                }
                return ref_fail(r, SL_ROW_UTF8, r->i);
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return ref_fail(r, SL_ROW_UTF8, r->i);
            r->i += 6;
            continue;
        }
        if (c < 0x20)
            return ref_unexpected(r, r->i);
        if (c >= 0x80) {
            size_t k = ref_utf8(r->s, r->n, r->i);
            if (!k)
                return ref_fail(r, SL_ROW_UTF8, r->i);
            r->i += k;
            continue;
        }
        r->i++;
    }
}

static bool ref_digit(const ref *r)
{
    return r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9';
}

static int ref_number(ref *r)
{
    if (ref_peek(r) == '-')
        r->i++;
    if (ref_peek(r) == '0') {
        r->i++;
        if (ref_digit(r))
            return ref_fail(r, SL_ROW_SYNTAX, r->i - 1);
    } else if (ref_digit(r)) {
        while (ref_digit(r))
            r->i++;
    } else {
        return ref_unexpected(r, r->i);
    }
    if (ref_peek(r) == '.') {
        r->i++;
        if (!ref_digit(r))
            return ref_unexpected(r, r->i);
        while (ref_digit(r))
            r->i++;
    }
    if (ref_peek(r) == 'e' || ref_peek(r) == 'E') {
        r->i++;
        if (ref_peek(r) == '+' || ref_peek(r) == '-')
            r->i++;
        if (!ref_digit(r))
            return ref_unexpected(r, r->i);
        while (ref_digit(r))
            r->i++;
    }
    return 1;
}

static int ref_literal(ref *r, const char *lit)
{
    for (size_t k = 0; lit[k]; k++) {
        if (r->i + k >= r->n || r->s[r->i + k] != (uint8_t)lit[k])
            return ref_unexpected(r, r->i + k);
    }
    r->i += strlen(lit);
    return 1;
}

static int ref_value(ref *r, size_t depth);

/* At '{' or '[' at nesting level depth. */
static int ref_container(ref *r, size_t depth)
{
    if (depth > r->max_depth)
        return ref_fail(r, SL_ROW_TOO_DEEP, r->i);
    bool obj = r->s[r->i] == '{';
    int close = obj ? '}' : ']';
    r->i++;
    ref_ws(r);
    if (ref_peek(r) == close) {
        r->i++;
        return 1;
    }
    for (;;) {
        if (obj) {
            bool esc = false;
            if (ref_peek(r) != '"')
                return ref_unexpected(r, r->i);
            if (!ref_string(r, &esc))
                return 0;
            ref_ws(r);
            if (ref_peek(r) != ':')
                return ref_unexpected(r, r->i);
            r->i++;
            ref_ws(r);
        }
        if (!ref_value(r, depth + 1))
            return 0;
        ref_ws(r);
        if (ref_peek(r) == ',') {
            r->i++;
            ref_ws(r);
            if (ref_peek(r) == close)
                return ref_fail(r, SL_ROW_SYNTAX, r->i);
            continue;
        }
        if (ref_peek(r) != close)
            return ref_unexpected(r, r->i);
        r->i++;
        return 1;
    }
}

static int ref_value(ref *r, size_t depth)
{
    bool esc = false;
    switch (ref_peek(r)) {
    case '"':
        return ref_string(r, &esc);
    case '{':
    case '[':
        return ref_container(r, depth);
    case 't':
        return ref_literal(r, "true");
    case 'f':
        return ref_literal(r, "false");
    case 'n':
        return ref_literal(r, "null");
    default:
        if (ref_peek(r) == '-' || (ref_peek(r) >= '0' && ref_peek(r) <= '9'))
            return ref_number(r);
        return ref_unexpected(r, r->i);
    }
}

/* Decodes a validated string's contents (independent of sl_json_unescape). */
static size_t ref_unescape(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        uint8_t e = s[i + 1];
        uint32_t cp;
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        if (e != 'u') {
            out[o++] = (uint8_t)to[strchr(from, e) - from];
            i += 2;
            continue;
        }
        ref rr = {s, n, 0, 0, 0, 0, 0};
        (void)ref_hex(&rr, i + 2, &cp);
        i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            (void)ref_hex(&rr, i + 2, &lo);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        if (cp < 0x80) {
            out[o++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            out[o++] = (uint8_t)(0xC0 | cp >> 6);
            out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (uint8_t)(0xE0 | cp >> 12);
            out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
        } else {
            out[o++] = (uint8_t)(0xF0 | cp >> 18);
            out[o++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
        }
    }
    return o;
}

typedef struct {
    size_t ks, klen;   /* raw key (offsets into the line) */
    size_t start, end; /* member: opening quote .. end of value */
    bool dead;
    uint8_t *key; /* unescaped */
    size_t keylen;
} ref_member;

/* Parses one non-blank line as a record into row r of b; cell offsets are relative to the
 * line start plus `base`. COLLECT text goes to *extra (appended) with offsets past xbase. */
static void ref_record(ref *r, const sl_json_opts *o, size_t ncols, sl_cell *cells, size_t base,
                       sl_buf *extra, size_t xbase)
{
    size_t nmapped = o->unknown == SL_JSON_UNKNOWN_COLLECT ? ncols - 1 : ncols;
    ref_member *mem = NULL;
    size_t nmem = 0, capmem = 0;
    r->field = -1;
    ref_ws(r);
    size_t start = r->i;
    if (ref_peek(r) != '{') {
        if (!ref_value(r, 1))
            return;
        ref_ws(r);
        if (r->i != r->n)
            ref_unexpected(r, r->i);
        else
            ref_fail(r, SL_ROW_NOT_OBJECT, start);
        return;
    }
    r->i++;
    ref_ws(r);
    if (ref_peek(r) == '}') {
        r->i++;
        goto tail;
    }
    for (;;) {
        bool esc = false;
        if (ref_peek(r) != '"') {
            ref_unexpected(r, r->i);
            goto out;
        }
        size_t kq = r->i;
        if (!ref_string(r, &esc))
            goto out;
        size_t ks = kq + 1, klen = r->i - 1 - ks;
        uint8_t *key = malloc(klen + 1);
        size_t keylen = esc ? ref_unescape(r->s + ks, klen, key) : klen;
        if (!esc)
            memcpy(key, r->s + ks, klen);
        size_t col = SIZE_MAX;
        for (size_t c = 0; c < nmapped; c++) {
            if (strlen(names[c]) == keylen && !memcmp(names[c], key, keylen))
                col = c;
        }
        ref_ws(r);
        if (ref_peek(r) != ':') {
            free(key);
            ref_unexpected(r, r->i);
            goto out;
        }
        r->i++;
        ref_ws(r);
        if (col != SIZE_MAX) {
            free(key);
            if (cells[col].kind != SL_CELL_MISSING && !o->dup_last_wins) {
                r->field = (int)col;
                ref_fail(r, SL_ROW_DUPLICATE_KEY, kq);
                goto out;
            }
            r->field = (int)col;
            size_t vs = r->i;
            int c0 = ref_peek(r);
            esc = false;
            if (c0 == '"') {
                if (!ref_string(r, &esc))
                    goto out;
            } else if (!ref_value(r, 2)) {
                goto out;
            }
            r->field = -1;
            size_t ve = r->i;
            sl_cell *cl = &cells[col];
            if (c0 == '"') {
                *cl = (sl_cell){(uint32_t)(base + vs + 1), (uint32_t)(ve - vs - 2), SL_CELL_STRING,
                                esc ? SL_CELLF_JSON_ESCAPES : 0, 0};
            } else if (c0 == '{' || c0 == '[') {
                *cl = (sl_cell){(uint32_t)(base + vs), (uint32_t)(ve - vs), SL_CELL_NESTED, 0, 0};
            } else if (c0 == 't') {
                *cl = (sl_cell){(uint32_t)(base + vs), 4, SL_CELL_TEXT, SL_CELLF_JSON_TRUE, 0};
            } else if (c0 == 'f') {
                *cl = (sl_cell){(uint32_t)(base + vs), 5, SL_CELL_TEXT, SL_CELLF_JSON_FALSE, 0};
            } else if (c0 == 'n') {
                *cl = (sl_cell){(uint32_t)(base + vs), 4, SL_CELL_NULL, 0, 0};
            } else {
                *cl = (sl_cell){(uint32_t)(base + vs), (uint32_t)(ve - vs), SL_CELL_TEXT,
                                SL_CELLF_JSON_NUMBER, 0};
            }
        } else {
            if (o->unknown == SL_JSON_UNKNOWN_REJECT) {
                free(key);
                ref_fail(r, SL_ROW_UNKNOWN_FIELD, kq);
                goto out;
            }
            if (o->unknown == SL_JSON_UNKNOWN_COLLECT) {
                for (size_t m = 0; m < nmem; m++) {
                    if (!mem[m].dead && mem[m].keylen == keylen &&
                        !memcmp(mem[m].key, key, keylen)) {
                        if (!o->dup_last_wins) {
                            free(key);
                            ref_fail(r, SL_ROW_DUPLICATE_KEY, kq);
                            goto out;
                        }
                        mem[m].dead = true;
                    }
                }
            }
            if (!ref_value(r, 2)) {
                free(key);
                goto out;
            }
            if (o->unknown == SL_JSON_UNKNOWN_COLLECT) {
                if (nmem == capmem) {
                    capmem = capmem ? capmem * 2 : 16;
                    mem = realloc(mem, capmem * sizeof(*mem));
                    if (!mem)
                        abort();
                }
                mem[nmem++] = (ref_member){ks, klen, kq, r->i, false, key, keylen};
            } else {
                free(key);
            }
        }
        ref_ws(r);
        if (ref_peek(r) == ',') {
            r->i++;
            ref_ws(r);
            if (ref_peek(r) == '}') {
                ref_fail(r, SL_ROW_SYNTAX, r->i);
                goto out;
            }
            continue;
        }
        if (ref_peek(r) == '}') {
            r->i++;
            break;
        }
        ref_unexpected(r, r->i);
        goto out;
    }
tail:
    ref_ws(r);
    if (r->i != r->n) {
        ref_unexpected(r, r->i);
        goto out;
    }
    if (o->unknown == SL_JSON_UNKNOWN_COLLECT) {
        size_t live = 0, at = extra->len;
        for (size_t m = 0; m < nmem; m++) {
            if (mem[m].dead)
                continue;
            jd(sl_buf_putc(extra, live++ ? ',' : '{'));
            jd(sl_buf_append(extra, r->s + mem[m].start, mem[m].end - mem[m].start));
        }
        if (live) {
            jd(sl_buf_putc(extra, '}'));
            cells[ncols - 1] = (sl_cell){(uint32_t)(xbase + at), (uint32_t)(extra->len - at),
                                         SL_CELL_NESTED, 0, 0};
        }
    }
out:
    for (size_t m = 0; m < nmem; m++)
        free(mem[m].key);
    free(mem);
}

/* Reference rows of a whole JSON Lines input, rendered like json_dump_rows(full = false). */
static char *ref_lines(const uint8_t *in, size_t n, const sl_json_opts *o, size_t ncols)
{
    size_t nlines = 1;
    for (size_t i = 0; i < n; i++)
        nlines += in[i] == '\n';
    sl_rowblock b;
    if (sl_rowblock_init(&b, ncols, nlines) != SL_OK)
        abort();
    sl_buf text, extra;
    sl_buf_init(&text, 0);
    sl_buf_init(&extra, 0);
    jd(sl_buf_append(&text, in, n));
    size_t s = 0;
    if (n >= 3 && !memcmp(in, "\xef\xbb\xbf", 3))
        s = 3;
    size_t max_record = o->max_record;
    for (uint64_t line = 1; s < n; line++) {
        const uint8_t *nl = memchr(in + s, '\n', n - s);
        size_t e = nl ? (size_t)(nl - in) : n;
        size_t clen = e - s;
        if (clen && in[e - 1] == '\r')
            clen--;
        bool blank = true;
        for (size_t i = s; i < e; i++)
            blank &= in[i] == ' ' || in[i] == '\t' || in[i] == '\r';
        if (clen > max_record) {
            size_t r = sl_rowblock_add_row(&b, line, (uint32_t)s, 0);
            sl_rowblock_reject(&b, r, SL_ROW_TOO_LONG, (uint32_t)(max_record + 1), -1, "");
        } else if (!blank) {
            size_t r = sl_rowblock_add_row(&b, line, (uint32_t)s, (uint32_t)clen);
            ref rr = {in + s, e - s, 0, o->max_depth, 0, 0, -1};
            ref_record(&rr, o, ncols, b.cells + r * ncols, s, &extra, n);
            if (rr.code)
                sl_rowblock_reject(&b, r, (sl_row_code)rr.code, (uint32_t)(rr.pos + 1), rr.field,
                                   "");
        }
        s = e + 1;
    }
    jd(sl_buf_append(&text, extra.ptr ? extra.ptr : (const uint8_t *)"", extra.len));
    b.text = text.ptr;
    b.text_len = text.len;
    sl_buf out;
    sl_buf_init(&out, 0);
    json_dump_rows(&out, &b, false);
    jd(sl_buf_putc(&out, '\0'));
    sl_rowblock_release(&b);
    sl_buf_release(&text);
    sl_buf_release(&extra);
    return (char *)sl_buf_take(&out, NULL);
}

/* ---- properties of good rows ----------------------------------------------------------------- */

static bool number_ok(const uint8_t *p, size_t n)
{
    ref r = {p, n, 0, 0, 0, 0, 0};
    return ref_number(&r) && r.i == n;
}

static void check_cells(const sl_rowblock *b)
{
    for (size_t r = 0; r < b->nrows; r++) {
        if (b->row_err[r].code != SL_ROW_OK)
            continue;
        for (size_t i = 0; i < b->ncols; i++) {
            const sl_cell *c = &b->cells[r * b->ncols + i];
            const uint8_t *p = b->text + c->off;
            if (c->kind == SL_CELL_STRING) {
                uint8_t *u = malloc(c->len + 1);
                size_t k = sl_json_unescape(p, c->len, u);
                if (k > c->len || !sl_json_utf8_valid(u, k))
                    die("string cell does not unescape to valid UTF-8", NULL, NULL);
                for (size_t q = 0; q < k;) { /* and the reference validator agrees */
                    if (u[q] < 0x80) {
                        q++;
                        continue;
                    }
                    size_t len = ref_utf8(u, k, q);
                    if (!len)
                        die("reference: unescaped string is not UTF-8", NULL, NULL);
                    q += len;
                }
                if (!(c->flags & SL_CELLF_JSON_ESCAPES) && (k != c->len || memcmp(u, p, k)))
                    die("string without escapes changed by unescaping", NULL, NULL);
                free(u);
            } else if (c->kind == SL_CELL_TEXT && (c->flags & SL_CELLF_JSON_NUMBER)) {
                if (!number_ok(p, c->len))
                    die("number cell is not an RFC 8259 number", NULL, NULL);
            } else if (c->kind == SL_CELL_NESTED) {
                ref rr = {p, c->len, 0, SIZE_MAX, 0, 0, -1};
                if (!ref_value(&rr, 1) || rr.i != c->len)
                    die("nested cell is not valid JSON", NULL, NULL);
            }
        }
    }
}

/* ---- runs ------------------------------------------------------------------------------------ */

static char *run(const sl_json_opts *o, size_t ncols, const uint8_t *p, size_t n,
                 const size_t *cuts, size_t ncuts, size_t cap_rows, bool full, bool check)
{
    sl_json *j;
    sl_rowblock b;
    sl_buf out;
    sl_buf_init(&out, 0);
    if (sl_json_create(o, names, ncols, &j) != SL_OK)
        die("create failed", NULL, NULL);
    if (sl_rowblock_init(&b, ncols, cap_rows) != SL_OK)
        die("rowblock failed", NULL, NULL);
    size_t at = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t next = k < ncuts ? cuts[k] : n;
        if (next < at)
            continue;
        if (sl_json_feed(j, p + at, next - at) != SL_OK)
            die("feed failed", NULL, NULL);
        at = next;
        for (int eof = 0; eof < (k == ncuts ? 2 : 1); eof++) {
            do {
                sl_rowblock_clear(&b);
                if (sl_json_next(j, eof, &b) != SL_OK)
                    die("next failed", NULL, NULL);
                const char *bad = json_check_block(&b);
                if (bad)
                    die(bad, NULL, NULL);
                if (check)
                    check_cells(&b);
                json_dump_rows(&out, &b, full);
            } while (b.nrows);
        }
    }
    jd(sl_buf_putc(&out, '\0'));
    sl_rowblock_release(&b);
    sl_json_destroy(j);
    return (char *)sl_buf_take(&out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 1 << 16)
        return 0;
    uint8_t opt = data[0];
    uint32_t seed = data[1] * 2654435761u + 1;
    const uint8_t *p = data + 2;
    size_t n = size - 2;

    sl_json_opts o;
    sl_json_opts_default(&o);
    o.array_mode = opt & 1;
    o.unknown = (sl_json_unknown)((opt >> 1) & 3);
    if (o.unknown > SL_JSON_UNKNOWN_COLLECT)
        o.unknown = SL_JSON_UNKNOWN_IGNORE;
    o.dup_last_wins = (opt >> 3) & 1;
    static const size_t depths[] = {64, 1, 2, 5};
    o.max_depth = depths[(opt >> 4) & 3];
    if (opt & 64)
        o.max_record = 24;
    size_t ncols = o.unknown == SL_JSON_UNKNOWN_COLLECT ? 5 : 4;

    /* pseudo-random cuts */
    size_t cuts[64], ncuts = 0;
    for (size_t at = 0; ncuts < 64 && n;) {
        seed = seed * 1103515245u + 12345u;
        at += 1 + (seed >> 16) % (n / 8 + 2);
        if (at >= n)
            break;
        cuts[ncuts++] = at;
    }

    o.simd = SL_JSON_SIMD_AUTO;
    char *whole = run(&o, ncols, p, n, NULL, 0, 1024, true, true);
    char *chunked = run(&o, ncols, p, n, cuts, ncuts, 1 + seed % 5, true, false);
    if (strcmp(whole, chunked))
        die("chunked input gives different rows", whole, chunked);
    o.simd = SL_JSON_SIMD_SCALAR;
    char *scalar = run(&o, ncols, p, n, NULL, 0, 1024, true, false);
    if (strcmp(whole, scalar))
        die("scalar scanner gives different rows", whole, scalar);
    o.simd = SL_JSON_SIMD_SSE2;
    char *sse2 = run(&o, ncols, p, n, NULL, 0, 1024, true, false);
    if (strcmp(whole, sse2))
        die("SSE2 scanner gives different rows", whole, sse2);
    free(sse2);
    if (!o.array_mode) {
        char *mine = run(&o, ncols, p, n, NULL, 0, 1024, false, false);
        char *theirs = ref_lines(p, n, &o, ncols);
        if (strcmp(mine, theirs))
            die("rows differ from the reference parser", mine, theirs);
        free(mine);
        free(theirs);
    }
    free(whole);
    free(chunked);
    free(scalar);
    return 0;
}
