/* json.c: streaming JSON Lines / JSON array parser filling sl_rowblock cells; see json.h.
 *
 * Design
 * - Input: sl_json_feed() copies bytes into `buf`; [consumed, len) is not parsed yet. The
 *   buffer is compacted only in feed (moving the unparsed tail to the front when that is at
 *   most as much as what is dropped, so compaction is amortised O(1) per byte), never in next,
 *   so a block's text stays put until the next feed.
 * - Records are parsed in place, zero-copy: cells are offsets into buf, relative to where the
 *   block started (b->text). Before a record buf[s, e) is parsed, buf[e] is replaced by a NUL
 *   sentinel and restored afterwards; every token loop of the record parser (json_record.h)
 *   stops at NUL, so the hot loops have no bounds checks. `buf` always has PAD spare bytes past
 *   the last byte in use, so scanners may load 32 bytes at any position up to a record's end
 *   and buf[len] can hold the sentinel of a last line without newline.
 * - JSON Lines: a JSON text cannot hold a raw newline, so each line is a record; memchr finds
 *   the line end (resuming at `scan`, so a long line fed in small chunks is searched once),
 *   then the line is parsed. A line longer than max_record is reported as soon as that is
 *   known and the rest of it is discarded as it arrives (`skipping`), so memory stays bounded.
 * - Array mode: a resumable byte scanner (string, escape, bracket depth; `a*`/`e*` fields)
 *   finds where each top-level value or array element ends, across chunks, tracking the line
 *   and column; then the element is parsed like a line. Between elements it checks the array
 *   punctuation and reports stray bytes as rows.
 * - The record parser is compiled three times (scalar, SSE2, AVX2 string scanners) from
 *   json_record.h; the variant is chosen at create time (CPU, SLUICE_SIMD, opts.simd) and
 *   called through one function pointer per record.
 * - Keys: objects usually list keys in schema order, so the raw bytes after the key's opening
 *   quote are first compared with `name"` of the next expected column, 8 bytes at a time (only
 *   for names that are their own JSON string contents; see key_is()): a hit needs no string
 *   scan and no hashing. Otherwise the key is scanned and looked up in an open-addressing hash
 *   table of the names; a key with escapes is unescaped first into `kbuf`, giving up as soon as
 *   it is longer than the longest name (it cannot match).
 * - COLLECT: the parser records each unknown member's span (`mem`), checks duplicates among
 *   them (per-row key set, `rowkeys`), and after a good row writes `{m1,m2,...}` into the
 *   "extras" area at buf[len + 1 ...] (xlen bytes), which is inside the block's text, so the
 *   cell is an ordinary offset. Key discovery (sl_json_scan_keys) uses the same member spans
 *   and a key set over the whole sample.
 *
 * Invariants: consumed <= scan <= len; alloc >= len + 1 + xlen + PAD; in array mode while an
 * element is read and not discarded, consumed == estart. All positions live in `cursor`, so a
 * failed sl_json_next() restores a copy and leaves no trace.
 */
#include "parse/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#if defined(__x86_64__)
#define SL_JSON_X86 1
#include <immintrin.h>
#else
#define SL_JSON_X86 0
#endif

#define PAD 64
_Static_assert(1 + PAD == SL_JSON_BORROW_PAD, "json.h's borrow padding is the sentinel + PAD");
#define NO_COL SIZE_MAX
#define INITIAL_BUF ((size_t)64 << 10)

/* ---- key sets (open addressing over byte strings, O(1) clear by generation) ------------------ */

typedef struct {
    size_t off; /* into bytes */
    size_t len;
    size_t val;
    uint64_t hash;
} kentry;

typedef struct {
    sl_buf bytes;
    kentry *e;
    size_t n, cap;
    uint32_t *slot;  /* entry index + 1 */
    uint32_t *stamp; /* slot is used iff stamp == gen */
    size_t nslots;   /* power of two */
    uint32_t gen;
} keyset;

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 31);
}

static void keyset_init(keyset *k)
{
    memset(k, 0, sizeof(*k));
    sl_buf_init(&k->bytes, 0);
    k->gen = 1;
}

static void keyset_release(keyset *k)
{
    sl_buf_release(&k->bytes);
    free(k->e);
    free(k->slot);
    free(k->stamp);
    keyset_init(k);
}

static void keyset_clear(keyset *k)
{
    k->n = 0;
    k->bytes.len = 0;
    if (++k->gen == 0) {
        if (k->stamp)
            memset(k->stamp, 0, k->nslots * sizeof(*k->stamp));
        k->gen = 1;
    }
}

static void keyset_insert_slot(keyset *k, size_t idx)
{
    size_t mask = k->nslots - 1;
    for (size_t i = k->e[idx].hash & mask;; i = (i + 1) & mask) {
        if (k->stamp[i] != k->gen) {
            k->stamp[i] = k->gen;
            k->slot[i] = (uint32_t)idx + 1;
            return;
        }
    }
}

static sl_err keyset_grow(keyset *k)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        if (cap > UINT32_MAX / 2)
            return SL_FULL;
        kentry *e = realloc(k->e, cap * sizeof(*e));
        if (!e)
            return SL_NOMEM;
        k->e = e;
        k->cap = cap;
    }
    if ((k->n + 1) * 2 > k->nslots) {
        size_t ns = k->nslots ? k->nslots * 2 : 32;
        uint32_t *slot = malloc(ns * sizeof(*slot));
        uint32_t *stamp = calloc(ns, sizeof(*stamp));
        if (!slot || !stamp) {
            free(slot);
            free(stamp);
            return SL_NOMEM;
        }
        free(k->slot);
        free(k->stamp);
        k->slot = slot;
        k->stamp = stamp;
        k->nslots = ns;
        k->gen = 1;
        for (size_t i = 0; i < k->n; i++)
            keyset_insert_slot(k, i);
    }
    return SL_OK;
}

/* Finds key; if absent, adds it with value v. *idx is its entry, *found whether it existed. */
static sl_err keyset_put(keyset *k, const uint8_t *key, size_t n, size_t v, size_t *idx,
                         bool *found)
{
    uint64_t h = hash_bytes(key, n);
    if (k->nslots) {
        size_t mask = k->nslots - 1;
        for (size_t i = h & mask; k->stamp[i] == k->gen; i = (i + 1) & mask) {
            const kentry *e = &k->e[k->slot[i] - 1];
            if (e->hash == h && e->len == n && (n == 0 || !memcmp(k->bytes.ptr + e->off, key, n))) {
                *idx = k->slot[i] - 1;
                *found = true;
                return SL_OK;
            }
        }
    }
    sl_err err = keyset_grow(k);
    if (err)
        return err;
    size_t off = k->bytes.len;
    err = sl_buf_append(&k->bytes, key, n);
    if (err)
        return err;
    k->e[k->n] = (kentry){off, n, v, h};
    keyset_insert_slot(k, k->n);
    *idx = k->n++;
    *found = false;
    return SL_OK;
}

/* ---- the parser object ----------------------------------------------------------------------- */

typedef struct {
    size_t ks;   /* key contents (after the opening quote), offset into buf */
    size_t klen; /* raw key bytes */
    size_t end;  /* end of the member's value, offset into buf */
    bool esc;
    bool dead; /* replaced by a later duplicate (dup_last_wins) */
} member;

enum { A_TOP, A_FIRST, A_ELEM, A_AFTER, A_IN };  /* array mode: where we are */
enum { E_CONTAINER, E_STRING, E_SCALAR, E_ONE }; /* array mode: element kinds */

/* Where the parser is in its input: everything sl_json_next() changes besides the buffer's
 * contents, so that a failed call can be undone by restoring a copy. */
typedef struct {
    size_t consumed;
    size_t scan;   /* JSON Lines: no '\n' in [consumed, scan); array mode: scanner position */
    uint64_t line; /* line of buf[consumed] (JSON Lines) or of buf[scan] (array mode) */
    bool bom_done;
    bool skipping; /* JSON Lines: discarding the rest of a too long line */
    /* array mode */
    int astate;
    size_t col; /* 0-based byte column of buf[scan] */
    size_t estart, ecol, edepth;
    uint64_t eline;
    int ekind;
    bool ein_str, eesc, ein_array, emissing_comma, ediscard, etrunc;
} cursor;

struct rctx;

struct sl_json {
    sl_json_opts o;
    size_t max_depth, max_record, max_buffer;

    /* columns */
    size_t ncols, nmapped, max_name;
    const uint8_t **nptr; /* each name is followed by '"' and 8 spare bytes are at the end */
    size_t *nlen;
    bool *nfast;      /* the raw key bytes equal the name iff they are `name"` */
    uint32_t *follow; /* column that followed each column in the last row (key order guess) */
    uint32_t first;   /* first column of the last row */
    char *nstore;
    uint32_t *htab; /* column + 1 */
    size_t hmask;
    uint8_t *kbuf; /* max_name + 8 bytes */

    /* record parser */
    bool (*parse)(struct rctx *x, const uint8_t *p);
    sl_json_simd simd;
    uint64_t *stack; /* kind of each open nesting level: 1 = object */

    /* input */
    uint8_t *buf;
    size_t len, alloc;
    uint8_t *own_buf; /* the parser's allocation while buf is borrowed (sl_json_borrow) */
    size_t own_alloc;
    size_t xlen;     /* COLLECT text at buf + len + 1 for the current block */
    size_t reserved; /* bytes at buf + len handed out by sl_json_reserve() */
    uint64_t first_line;
    cursor c;

    /* members of the current row: COLLECT and key discovery */
    bool record_members, discover;
    member *mem;
    size_t nmem, capmem;
    keyset rowkeys;
    keyset keys;
    sl_buf kscratch;
};

/* ---- record parser support (used by json_record.h) ------------------------------------------- */

typedef struct rctx {
    sl_json *j;
    const uint8_t *base;  /* cell offsets are relative to this (the block's text) */
    const uint8_t *start; /* the record */
    const uint8_t *end;   /* *end == 0 */
    sl_cell *cells;
    sl_row_code code;
    const uint8_t *err;
    const char *detail;
    int32_t field;
    sl_err sys; /* allocation failure while recording members */
    char dbuf[96];
} rctx;

static const uint8_t ws_tab[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static inline const uint8_t *skip_ws(const uint8_t *p)
{
    if (*p > ' ') /* the usual case: no whitespace at all */
        return p;
    while (ws_tab[*p])
        p++;
    return p;
}

/* 1 for the characters after a backslash that need nothing more ('u' is separate). */
static const uint8_t esc_tab[256] = {
    ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1};

#define H(c, v) [c] = (v) + 1
/* hex digit value + 1; 0 = not a hex digit */
static const uint8_t hex_tab[256] = {
    H('0', 0),  H('1', 1),  H('2', 2),  H('3', 3),  H('4', 4),  H('5', 5),  H('6', 6),  H('7', 7),
    H('8', 8),  H('9', 9),  H('a', 10), H('b', 11), H('c', 12), H('d', 13), H('e', 14), H('f', 15),
    H('A', 10), H('B', 11), H('C', 12), H('D', 13), H('E', 14), H('F', 15)};
#undef H

/* Value of 4 hex digits, or -1. Reads p[0..3] only while they are hex digits. */
static inline long hex4(const uint8_t *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned h = hex_tab[p[i]];
        if (!h)
            return -1;
        v = v << 4 | (long)(h - 1);
    }
    return v;
}

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0. Unicode 15, table 3-7: no
 * overlongs, no surrogates, nothing past U+10FFFF. Stops at the first bad byte, so a NUL
 * sentinel is never passed. */
static inline size_t utf8_seq(const uint8_t *p)
{
    uint8_t c = p[0];
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (p[1] < lo || p[1] > hi)
            return 0;
        return (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c < 0xF5) {
        uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (p[1] < lo || p[1] > hi)
            return 0;
        if ((p[2] & 0xC0) != 0x80)
            return 0;
        return (p[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

static __attribute__((cold, noinline)) const uint8_t *fail(rctx *x, sl_row_code code,
                                                           const uint8_t *at, const char *detail)
{
    x->code = code;
    x->err = at;
    x->detail = detail;
    return NULL;
}

/* An unexpected byte at p: end of input, NUL, invalid UTF-8, or `detail`. */
static __attribute__((cold, noinline)) const uint8_t *fail_char(rctx *x, const uint8_t *p,
                                                                const char *detail)
{
    if (p >= x->end)
        return fail(x, SL_ROW_SYNTAX, x->end, "unexpected end of input");
    if (*p == 0)
        return fail(x, SL_ROW_NUL, p, "NUL byte");
    if (*p >= 0x80 && !utf8_seq(p))
        return fail(x, SL_ROW_UTF8, p, "invalid UTF-8");
    return fail(x, SL_ROW_SYNTAX, p, detail);
}

static __attribute__((cold, noinline)) const uint8_t *fail_string_char(rctx *x, const uint8_t *p)
{
    return fail_char(x, p, "control character in string");
}

/* p is where a value should start. */
static __attribute__((cold, noinline)) const uint8_t *fail_value(rctx *x, const uint8_t *p)
{
    const char *d = "expected a value";
    switch (*p) {
    case '\'':
        d = "single quotes are not JSON";
        break;
    case '/':
    case '#':
        d = "comments are not JSON";
        break;
    case '+':
        d = "'+' is not allowed before a number";
        break;
    case '.':
        d = "a number must start with a digit";
        break;
    case 'N':
    case 'I':
        d = "NaN and Infinity are not JSON";
        break;
    case ',':
    case '}':
    case ']':
        d = "missing value";
        break;
    }
    return fail_char(x, p, d);
}

/* Appends `"key"` (raw, cut at a character boundary) to a message in x->dbuf. */
static __attribute__((cold, noinline)) const uint8_t *
fail_key(rctx *x, sl_row_code code, const uint8_t *ks, size_t klen, int32_t field)
{
    size_t n = klen;
    if (n > 80) {
        n = 80;
        while (n && (ks[n] & 0xC0) == 0x80)
            n--;
    }
    snprintf(x->dbuf, sizeof(x->dbuf), "\"%.*s\"%s", (int)n, (const char *)ks,
             n < klen ? "..." : "");
    fail(x, code, ks - 1, x->dbuf);
    x->field = field;
    return NULL;
}

/* p at a backslash inside a string; returns the byte after the escape. */
static inline const uint8_t *check_escape(rctx *x, const uint8_t *p)
{
    if (esc_tab[p[1]])
        return p + 2;
    if (p[1] != 'u')
        return fail_char(x, p + 1, "invalid escape");
    long cp = hex4(p + 2);
    if (cp < 0) {
        const uint8_t *q = p + 2;
        while (hex_tab[*q])
            q++;
        return fail_char(x, q, "invalid \\u escape: expected 4 hex digits");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p[6] == '\\' && p[7] == 'u') {
            long lo = hex4(p + 8);
            if (lo >= 0xDC00 && lo <= 0xDFFF)
                return p + 12;
        }
        return fail(x, SL_ROW_UTF8, p, "lone surrogate in \\u escape");
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(x, SL_ROW_UTF8, p, "lone surrogate in \\u escape");
    return p + 6;
}

static inline bool is_digit(uint8_t c)
{
    return (uint8_t)(c - '0') < 10;
}

/* RFC 8259: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static inline __attribute__((always_inline)) const uint8_t *parse_number(rctx *x, const uint8_t *p)
{
    if (*p == '-')
        p++;
    if (*p == '0') {
        p++;
        if (is_digit(*p))
            return fail(x, SL_ROW_SYNTAX, p - 1, "leading zero in number");
    } else if (is_digit(*p)) {
        do
            p++;
        while (is_digit(*p));
    } else {
        return fail_char(x, p, "expected a digit after '-'");
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return fail_char(x, p, "expected a digit after '.'");
        do
            p++;
        while (is_digit(*p));
    }
    if ((*p | 0x20) == 'e') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return fail_char(x, p, "expected a digit in the exponent");
        do
            p++;
        while (is_digit(*p));
    }
    return p;
}

/* true / false / null. memcmp may read up to 4 bytes past the sentinel (inside PAD); a
 * sentinel among them makes it differ, whatever follows. */
static inline const uint8_t *match_lit(rctx *x, const uint8_t *p, const char *lit, size_t n)
{
    if (memcmp(p, lit, n) == 0)
        return p + n;
    size_t i = 0;
    while (p[i] == (uint8_t)lit[i])
        i++;
    return fail_char(x, p + i, "invalid literal");
}

/* Unescapes p[0..n) into out, writing at most cap bytes; returns the length, or SIZE_MAX if
 * the result would be longer than cap. See sl_json_unescape(). */
static size_t unescape_capped(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
    const uint8_t *e = p + n;
    size_t o = 0;
    while (p < e) {
        const uint8_t *bs = memchr(p, '\\', (size_t)(e - p));
        size_t run = bs ? (size_t)(bs - p) : (size_t)(e - p);
        if (run > cap - o)
            return SIZE_MAX;
        memmove(out + o, p, run);
        o += run;
        p += run;
        if (!bs)
            break;
        uint32_t cp;
        size_t used = 2;
        if (e - p < 2) {
            cp = '\\';
            used = 1;
        } else {
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
                cp = p[1];
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u': {
                long v = e - p >= 6 ? hex4(p + 2) : -1;
                if (v < 0) {
                    cp = '\\';
                    used = 1;
                    break;
                }
                cp = (uint32_t)v;
                used = 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    long lo = e - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                        used = 12;
                    } else {
                        cp = 0xFFFD;
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    cp = 0xFFFD;
                }
                break;
            }
            default:
                cp = '\\';
                used = 1;
                break;
            }
        }
        uint8_t u[4];
        size_t k;
        if (cp < 0x80) {
            u[0] = (uint8_t)cp;
            k = 1;
        } else if (cp < 0x800) {
            u[0] = (uint8_t)(0xC0 | cp >> 6);
            u[1] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            u[0] = (uint8_t)(0xE0 | cp >> 12);
            u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            u[0] = (uint8_t)(0xF0 | cp >> 18);
            u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (k > cap - o)
            return SIZE_MAX;
        memcpy(out + o, u, k);
        o += k;
        p += used;
    }
    return o;
}

size_t sl_json_unescape(const uint8_t *p, size_t n, uint8_t *out)
{
    /* every escape decodes to at most as many bytes as it has, so this cannot overflow */
    return n ? unescape_capped(p, n, out, n) : 0;
}

bool sl_json_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint8_t c = p[i];
        size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (n - i < k)
            return false;
        uint8_t tmp[5] = {0};
        memcpy(tmp, p + i, k);
        if (utf8_seq(tmp) != k)
            return false;
        i += k;
    }
    return true;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* a[0..n) == b[0..n) for 1 <= n, with 8-byte loads: both must be readable up to n + 7. */
static inline bool bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (n > 8) {
        if (load64(a) != load64(b))
            return false;
        a += 8;
        b += 8;
        n -= 8;
    }
    return ((load64(a) ^ load64(b)) << (8 * (8 - n))) == 0;
#else
    return memcmp(a, b, n) == 0;
#endif
}

/* The first n (<= 8) bytes of p as a number in its low bytes, other bytes zero; reads 8. */
static inline uint64_t head_bytes(const uint8_t *p, size_t n)
{
    if (!n)
        return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return load64(p) >> (8 * (8 - n));
#else
    return n == 8 ? load64(p) : load64(p) & ((UINT64_C(1) << (8 * n)) - 1);
#endif
}

/* Hash of a column name or key, 8 bytes at a time; p must be readable up to n + 7. The
 * finish is murmur3's fmix64, so every input bit reaches the low bits used as the index. */
static inline uint64_t hash_key(const uint8_t *p, size_t n)
{
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ULL;
    while (n > 8) {
        h = (h ^ load64(p)) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    h ^= head_bytes(p, n);
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 33);
}

/* Key fast path: does the key at ks (after its opening quote) read `name"` for column c?
 * Only for names whose raw bytes are their own JSON string contents (no '"', '\\', control
 * bytes; valid UTF-8), so equal raw bytes mean a valid key of exactly that name. */
static inline bool key_is(const sl_json *j, const rctx *x, const uint8_t *ks, size_t c)
{
    size_t n = j->nlen[c] + 1;
    return j->nfast[c] && (size_t)(x->end - ks) >= n && bytes_eq(ks, j->nptr[c], n);
}

static size_t lookup_key(const sl_json *j, const uint8_t *k, size_t n, bool esc)
{
    if (!j->nmapped)
        return NO_COL;
    if (esc) {
        /* a key longer than every name after unescaping cannot match */
        size_t m = unescape_capped(k, n, j->kbuf, j->max_name);
        if (m == SIZE_MAX)
            return NO_COL;
        k = j->kbuf;
        n = m;
    }
    if (n > j->max_name)
        return NO_COL;
    uint64_t h = hash_key(k, n); /* k is in the input (PAD after it) or kbuf (8 spare) */
    for (size_t i = h & j->hmask;; i = (i + 1) & j->hmask) {
        uint32_t s = j->htab[i];
        if (!s)
            return NO_COL;
        size_t c = s - 1;
        if (j->nlen[c] == n && (n == 0 || bytes_eq(j->nptr[c], k, n)))
            return c;
    }
}

/* Records an unknown member (COLLECT, discovery) at its key, before its value is parsed (the
 * caller sets its end); checks duplicates for COLLECT. */
static bool add_member(rctx *x, const uint8_t *ks, size_t klen, bool esc)
{
    sl_json *j = x->j;
    if (j->nmem == j->capmem) {
        size_t cap = j->capmem ? j->capmem * 2 : 16;
        member *m = realloc(j->mem, cap * sizeof(*m));
        if (!m) {
            x->sys = SL_NOMEM;
            fail(x, SL_ROW_SYNTAX, ks, "out of memory");
            return false;
        }
        j->mem = m;
        j->capmem = cap;
    }
    size_t mi = j->nmem;
    j->mem[mi] = (member){(size_t)(ks - j->buf), klen, 0, esc, false};
    if (!j->discover) {
        const uint8_t *k = ks;
        size_t n = klen;
        sl_err err = SL_OK;
        if (esc) {
            j->kscratch.len = 0;
            err = sl_buf_reserve(&j->kscratch, klen);
            if (!err) {
                n = sl_json_unescape(ks, klen, j->kscratch.ptr);
                k = j->kscratch.ptr;
            }
        }
        size_t idx = 0;
        bool found = false;
        if (!err)
            err = keyset_put(&j->rowkeys, k, n, mi, &idx, &found);
        if (err) {
            x->sys = err;
            fail(x, SL_ROW_SYNTAX, ks, "out of memory");
            return false;
        }
        if (found) {
            if (!j->o.dup_last_wins) {
                fail_key(x, SL_ROW_DUPLICATE_KEY, ks, klen, -1);
                return false;
            }
            j->mem[j->rowkeys.e[idx].val].dead = true;
            j->rowkeys.e[idx].val = mi;
        }
    }
    j->nmem++;
    return true;
}

/* ---- string scanners: first '"', '\\', byte < 0x20 or byte >= 0x80 at or after p ------------- */

static inline const uint8_t *find_special_scalar(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* SWAR: the lowest flagged byte of each term is exact (borrows only run upwards from a
     * true hit), which is all we need. */
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    for (;;) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
        uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v;
        t &= high;
        if (t)
            return p + (__builtin_ctzll(t) >> 3);
        p += 8;
    }
#else
    for (;;) {
        uint8_t c = *p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
            return p;
        p++;
    }
#endif
}

#if SL_JSON_X86
static inline const uint8_t *find_special_sse2(const uint8_t *p)
{
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), c = _mm_set1_epi8(0x20);
    for (;;) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                                 _mm_cmplt_epi8(v, c));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
}

static inline __attribute__((target("avx2"))) const uint8_t *find_special_avx2(const uint8_t *p)
{
    const __m256i q = _mm256_set1_epi8('"'), b = _mm256_set1_epi8('\\'), c = _mm256_set1_epi8(0x20);
    for (;;) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
        __m256i m =
            _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, q), _mm256_cmpeq_epi8(v, b)),
                            _mm256_cmpgt_epi8(c, v));
        unsigned mask = (unsigned)_mm256_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 32;
    }
}
#endif

#define JV scalar
#define JV_ATTR
#define JV_FIND find_special_scalar
#include "parse/json_record.h"
#undef JV
#undef JV_ATTR
#undef JV_FIND

#if SL_JSON_X86
#define JV sse2
#define JV_ATTR
#define JV_FIND find_special_sse2
#include "parse/json_record.h"
#undef JV
#undef JV_ATTR
#undef JV_FIND

#define JV avx2
#define JV_ATTR __attribute__((target("avx2")))
#define JV_FIND find_special_avx2
#include "parse/json_record.h"
#undef JV
#undef JV_ATTR
#undef JV_FIND
#endif

static sl_json_simd pick_simd(sl_json_simd want)
{
    if (want == SL_JSON_SIMD_AUTO) {
        const char *e = getenv("SLUICE_SIMD");
        if (e && !strcmp(e, "scalar"))
            want = SL_JSON_SIMD_SCALAR;
        else if (e && !strcmp(e, "sse2"))
            want = SL_JSON_SIMD_SSE2;
        else if (e && !strcmp(e, "avx2"))
            want = SL_JSON_SIMD_AVX2;
    }
#if SL_JSON_X86
    bool avx2 = __builtin_cpu_supports("avx2");
    if (want == SL_JSON_SIMD_AUTO)
        want = avx2 ? SL_JSON_SIMD_AVX2 : SL_JSON_SIMD_SSE2;
    if (want == SL_JSON_SIMD_AVX2 && !avx2)
        want = SL_JSON_SIMD_SSE2;
    return want;
#else
    (void)want;
    return SL_JSON_SIMD_SCALAR;
#endif
}

const char *sl_json_simd_name(const sl_json *p)
{
    switch (p->simd) {
    case SL_JSON_SIMD_SSE2:
        return "sse2";
    case SL_JSON_SIMD_AVX2:
        return "avx2";
    default:
        return "scalar";
    }
}

/* ---- create / destroy ------------------------------------------------------------------------ */

void sl_json_opts_default(sl_json_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->unknown = SL_JSON_UNKNOWN_IGNORE;
    o->dup_last_wins = false;
    o->max_depth = SL_JSON_DEFAULT_MAX_DEPTH;
    o->max_record = SL_JSON_DEFAULT_MAX_RECORD;
    o->max_buffer = SL_JSON_DEFAULT_MAX_BUFFER;
    o->array_mode = false;
    o->simd = SL_JSON_SIMD_AUTO;
}

void sl_json_reset(sl_json *j)
{
    if (j->own_buf) { /* give the borrowed input back */
        j->buf = j->own_buf;
        j->alloc = j->own_alloc;
        j->own_buf = NULL;
    }
    j->len = j->xlen = j->reserved = 0;
    memset(&j->c, 0, sizeof(j->c));
    j->c.line = j->first_line;
    j->c.astate = A_TOP;
    j->c.ekind = E_SCALAR;
    j->nmem = 0;
}

void sl_json_set_first_line(sl_json *j, uint64_t line)
{
    j->first_line = line;
    j->c.line = line;
}

void sl_json_destroy(sl_json *j)
{
    if (!j)
        return;
    free(j->nptr);
    free(j->nlen);
    free(j->nfast);
    free(j->follow);
    free(j->nstore);
    free(j->htab);
    free(j->kbuf);
    free(j->stack);
    free(j->own_buf ? j->own_buf : j->buf);
    free(j->mem);
    keyset_release(&j->rowkeys);
    keyset_release(&j->keys);
    sl_buf_release(&j->kscratch);
    free(j);
}

static sl_err setup_names(sl_json *j, const char *const *names)
{
    size_t total = 0;
    for (size_t i = 0; i < j->ncols; i++) {
        if (!names[i])
            return SL_INVALID;
        total += strlen(names[i]) + 2;
    }
    j->nptr = malloc((j->ncols ? j->ncols : 1) * sizeof(*j->nptr));
    j->nlen = malloc((j->ncols ? j->ncols : 1) * sizeof(*j->nlen));
    j->nfast = malloc((j->ncols ? j->ncols : 1) * sizeof(*j->nfast));
    j->follow = malloc((j->ncols ? j->ncols : 1) * sizeof(*j->follow));
    j->nstore = calloc(1, total + 8);
    size_t ns = 8;
    while (ns < j->nmapped * 2)
        ns *= 2;
    j->htab = calloc(ns, sizeof(*j->htab));
    if (!j->nptr || !j->nlen || !j->nfast || !j->follow || !j->nstore || !j->htab)
        return SL_NOMEM;
    for (size_t i = 0; i < j->ncols; i++)
        j->follow[i] = (uint32_t)i + 1; /* schema order until rows say otherwise */
    j->first = 0;
    j->hmask = ns - 1;
    char *s = j->nstore;
    for (size_t i = 0; i < j->ncols; i++) {
        size_t n = strlen(names[i]);
        memcpy(s, names[i], n);
        s[n] = '"';
        j->nptr[i] = (const uint8_t *)s;
        j->nlen[i] = n;
        j->nfast[i] = sl_json_utf8_valid(j->nptr[i], n);
        for (size_t k = 0; k < n; k++) {
            if (j->nptr[i][k] < 0x20 || j->nptr[i][k] == '"' || j->nptr[i][k] == '\\')
                j->nfast[i] = false;
        }
        s += n + 2;
        if (n > j->max_name)
            j->max_name = n;
    }
    for (size_t i = 0; i < j->ncols; i++) {
        bool dup = false;
        uint64_t h = hash_key(j->nptr[i], j->nlen[i]);
        size_t slot = h & j->hmask;
        for (;; slot = (slot + 1) & j->hmask) {
            uint32_t v = j->htab[slot];
            if (!v)
                break;
            if (j->nlen[v - 1] == j->nlen[i] && !memcmp(j->nptr[v - 1], j->nptr[i], j->nlen[i]))
                dup = true;
        }
        if (dup)
            return SL_INVALID;
        if (i < j->nmapped)
            j->htab[slot] = (uint32_t)i + 1;
    }
    j->kbuf = malloc(j->max_name + 8);
    if (!j->kbuf)
        return SL_NOMEM;
    return SL_OK;
}

sl_err sl_json_create(const sl_json_opts *o, const char *const *names, size_t ncols, sl_json **out)
{
    sl_json_opts d;
    *out = NULL;
    if (!o) {
        sl_json_opts_default(&d);
        o = &d;
    }
    if ((unsigned)o->unknown > SL_JSON_UNKNOWN_COLLECT || (unsigned)o->simd > SL_JSON_SIMD_AVX2)
        return SL_INVALID;
    if ((ncols && !names) || ncols > UINT32_MAX / 4 ||
        (o->unknown == SL_JSON_UNKNOWN_COLLECT && ncols == 0))
        return SL_INVALID;
    sl_json *j = calloc(1, sizeof(*j));
    if (!j)
        return SL_NOMEM;
    keyset_init(&j->rowkeys);
    keyset_init(&j->keys);
    sl_buf_init(&j->kscratch, 0);
    j->o = *o;
    j->max_depth = o->max_depth ? o->max_depth : SL_JSON_DEFAULT_MAX_DEPTH;
    if (j->max_depth > SL_JSON_MAX_DEPTH_LIMIT)
        j->max_depth = SL_JSON_MAX_DEPTH_LIMIT;
    j->max_record = o->max_record ? o->max_record : SL_JSON_DEFAULT_MAX_RECORD;
    j->max_buffer = o->max_buffer ? o->max_buffer : SL_JSON_DEFAULT_MAX_BUFFER;
    if (j->max_record > SL_JSON_MAX_BUFFER_LIMIT / 2)
        j->max_record = SL_JSON_MAX_BUFFER_LIMIT / 2;
    if (j->max_buffer < 2 * j->max_record)
        j->max_buffer = 2 * j->max_record;
    if (j->max_buffer > SL_JSON_MAX_BUFFER_LIMIT)
        j->max_buffer = SL_JSON_MAX_BUFFER_LIMIT;
    j->ncols = ncols;
    j->nmapped = o->unknown == SL_JSON_UNKNOWN_COLLECT ? ncols - 1 : ncols;
    j->record_members = o->unknown == SL_JSON_UNKNOWN_COLLECT;
    j->first_line = 1;
    sl_err err = setup_names(j, names);
    if (err)
        goto out_destroy;
    j->stack = calloc(j->max_depth / 64 + 2, sizeof(*j->stack));
    j->alloc = INITIAL_BUF + 1 + PAD;
    j->buf = malloc(j->alloc);
    if (!j->stack || !j->buf) {
        err = SL_NOMEM;
        goto out_destroy;
    }
    j->simd = pick_simd(o->simd);
    j->parse = parse_record_scalar;
#if SL_JSON_X86
    if (j->simd == SL_JSON_SIMD_SSE2)
        j->parse = parse_record_sse2;
    else if (j->simd == SL_JSON_SIMD_AVX2)
        j->parse = parse_record_avx2;
#endif
    sl_json_reset(j);
    *out = j;
    return SL_OK;
out_destroy:
    sl_json_destroy(j);
    return err;
}

/* ---- input ----------------------------------------------------------------------------------- */

static sl_err ensure_alloc(sl_json *j, size_t need)
{
    if (need <= j->alloc)
        return SL_OK;
    size_t n = j->alloc * 2;
    if (n < need)
        n = need;
    uint8_t *p = realloc(j->buf, n);
    if (!p)
        return SL_NOMEM;
    j->buf = p;
    j->alloc = n;
    return SL_OK;
}

/* Room for n more input bytes at buf + len (compacting first when that pays). */
static sl_err make_room(sl_json *j, size_t n)
{
    if (j->own_buf)
        return SL_STATE; /* borrowed input: reset first */
    size_t pending = j->len - j->c.consumed;
    if (pending > j->max_buffer || n > j->max_buffer - pending)
        return SL_FULL;
    j->xlen = 0;
    size_t c = j->c.consumed;
    if (c && (c >= pending || j->len + n + 1 + PAD > j->alloc)) {
        memmove(j->buf, j->buf + c, pending);
        j->len = pending;
        j->c.consumed = 0;
        j->c.scan -= c;
        j->c.estart = j->c.estart >= c ? j->c.estart - c : 0;
    }
    return ensure_alloc(j, j->len + n + 1 + PAD);
}

sl_err sl_json_feed(sl_json *j, const void *data, size_t n)
{
    if (!n)
        return SL_OK;
    sl_err err = make_room(j, n);
    if (err)
        return err;
    memcpy(j->buf + j->len, data, n);
    j->len += n;
    j->reserved = 0;
    return SL_OK;
}

sl_err sl_json_borrow(sl_json *j, uint8_t *data, size_t n, size_t cap)
{
    if (j->record_members || n > j->max_buffer || cap < n || cap - n < 1 + PAD)
        return SL_INVALID;
    sl_json_reset(j);
    j->own_buf = j->buf;
    j->own_alloc = j->alloc;
    j->buf = data;
    j->alloc = cap;
    j->len = n;
    return SL_OK;
}

sl_err sl_json_reserve(sl_json *j, size_t n, void **dst)
{
    *dst = NULL;
    sl_err err = make_room(j, n);
    if (err)
        return err;
    j->reserved = n;
    *dst = j->buf + j->len;
    return SL_OK;
}

sl_err sl_json_commit(sl_json *j, size_t n)
{
    if (n > j->reserved)
        return SL_INVALID;
    j->len += n;
    j->reserved = 0;
    return SL_OK;
}

/* ---- rows ------------------------------------------------------------------------------------ */

static uint32_t clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Line and 1-based column of the byte k bytes into the current array-mode element. */
static void elem_pos(const sl_json *j, size_t k, uint64_t *line, size_t *col)
{
    const uint8_t *s = j->buf + j->c.estart;
    uint64_t l = j->c.eline;
    size_t last = SIZE_MAX;
    for (size_t i = 0; i < k; i++) {
        if (s[i] == '\n') {
            l++;
            last = i;
        }
    }
    *line = l;
    *col = last == SIZE_MAX ? j->c.ecol + k + 1 : k - last;
}

static void reject_row(sl_json *j, sl_rowblock *b, size_t r, sl_row_code code, size_t k,
                       int32_t field, const char *detail)
{
    uint64_t line = b->line[r];
    size_t col = k + 1;
    if (j->o.array_mode)
        elem_pos(j, k, &line, &col);
    sl_rowblock_reject(b, r, code, clamp32(col), field, detail);
    b->row_err[r].line = line;
}

/* After a good row with recorded members: COLLECT text or key discovery. */
static sl_err finish_members(sl_json *j, sl_rowblock *b, size_t r, size_t base)
{
    if (j->discover) {
        for (size_t i = 0; i < j->nmem; i++) {
            const member *m = &j->mem[i];
            const uint8_t *k = j->buf + m->ks;
            size_t n = m->klen;
            j->kscratch.len = 0;
            sl_err err = sl_buf_reserve(&j->kscratch, n);
            if (err)
                return err;
            if (m->esc) {
                n = sl_json_unescape(k, n, j->kscratch.ptr);
                k = j->kscratch.ptr;
            }
            if (n && memchr(k, 0, n))
                continue;
            size_t idx;
            bool found;
            err = keyset_put(&j->keys, k, n, 0, &idx, &found);
            if (err)
                return err;
        }
        return SL_OK;
    }
    size_t total = 1, live = 0;
    for (size_t i = 0; i < j->nmem; i++) {
        if (!j->mem[i].dead) {
            total += j->mem[i].end - j->mem[i].ks + 1 + 1; /* quote .. value, then ',' or '}' */
            live++;
        }
    }
    if (!live)
        return SL_OK;
    size_t at = j->len + 1 + j->xlen;
    sl_err err = ensure_alloc(j, at + total + PAD);
    if (err)
        return err;
    uint8_t *o = j->buf + at;
    *o++ = '{';
    for (size_t i = 0, w = 0; i < j->nmem; i++) {
        const member *m = &j->mem[i];
        if (m->dead)
            continue;
        if (w++)
            *o++ = ',';
        size_t n = m->end - m->ks + 1;
        memcpy(o, j->buf + m->ks - 1, n);
        o += n;
    }
    *o++ = '}';
    sl_cell *c = b->cells + r * b->ncols + (b->ncols - 1);
    *c = (sl_cell){(uint32_t)(at - base), (uint32_t)total, SL_CELL_NESTED, 0, 0};
    j->xlen += total;
    return SL_OK;
}

/* Parses the record buf[s, e) into a new row; first = its first non-whitespace byte. On an
 * allocation failure the error is returned (sl_json_next undoes the whole call). */
static sl_err parse_into(sl_json *j, sl_rowblock *b, size_t base, size_t s, size_t e,
                         size_t rec_len, size_t first, uint64_t line)
{
    size_t r = sl_rowblock_add_row(b, line, (uint32_t)(s - base), (uint32_t)rec_len);
    rctx x;
    x.j = j;
    x.base = j->buf + base;
    x.start = j->buf + s;
    x.end = j->buf + e;
    x.cells = b->cells + r * b->ncols;
    x.code = SL_ROW_OK;
    x.err = NULL;
    x.detail = NULL;
    x.field = -1;
    x.sys = SL_OK;
    j->nmem = 0;
    if (j->record_members && !j->discover)
        keyset_clear(&j->rowkeys);
    uint8_t saved = j->buf[e];
    j->buf[e] = 0;
    bool ok = j->parse(&x, j->buf + first);
    j->buf[e] = saved;
    if (x.sys) {
        b->nrows = r;
        return x.sys;
    }
    if (!ok) {
        reject_row(j, b, r, x.code, (size_t)(x.err - x.start), x.field, x.detail);
        return SL_OK;
    }
    if (j->nmem) {
        sl_err err = finish_members(j, b, r, base);
        if (err) {
            b->nrows = r;
            return err;
        }
    }
    return SL_OK;
}

static void too_long_row(sl_json *j, sl_rowblock *b, size_t base, size_t s, uint64_t line)
{
    size_t keep = j->max_record < SL_JSON_REJECT_PREFIX ? j->max_record : SL_JSON_REJECT_PREFIX;
    size_t r = sl_rowblock_add_row(b, line, (uint32_t)(s - base), (uint32_t)keep);
    char d[64];
    snprintf(d, sizeof(d), "record longer than %zu bytes", j->max_record);
    reject_row(j, b, r, SL_ROW_TOO_LONG, j->max_record, -1, d);
}

/* ---- JSON Lines ------------------------------------------------------------------------------ */

static sl_err next_lines(sl_json *j, bool eof, sl_rowblock *b, size_t base)
{
    while (b->nrows < b->cap_rows && j->c.consumed < j->len) {
        size_t s = j->c.consumed;
        if (j->c.skipping) {
            const uint8_t *nl = memchr(j->buf + s, '\n', j->len - s);
            if (!nl) {
                j->c.consumed = j->c.scan = j->len;
                break;
            }
            j->c.consumed = j->c.scan = (size_t)(nl - j->buf) + 1;
            j->c.line++;
            j->c.skipping = false;
            continue;
        }
        const uint8_t *nl = memchr(j->buf + j->c.scan, '\n', j->len - j->c.scan);
        size_t e;
        if (!nl) {
            j->c.scan = j->len;
            /* even if the last byte is a '\r' before a '\n' still to come, the line is long */
            if (j->len - s > j->max_record + 1) {
                too_long_row(j, b, base, s, j->c.line);
                j->c.skipping = true;
                j->c.consumed = j->c.scan = j->len;
                continue;
            }
            if (!eof)
                break;
            e = j->len;
        } else {
            e = (size_t)(nl - j->buf);
        }
        size_t clen = e - s;
        if (clen && j->buf[e - 1] == '\r')
            clen--;
        if (clen > j->max_record) {
            too_long_row(j, b, base, s, j->c.line);
        } else {
            uint8_t saved = j->buf[e];
            j->buf[e] = 0;
            size_t first = (size_t)(skip_ws(j->buf + s) - j->buf);
            j->buf[e] = saved;
            if (first != e) {
                sl_err err = parse_into(j, b, base, s, e, clen, first, j->c.line);
                if (err)
                    return err;
            }
        }
        j->c.consumed = j->c.scan = e < j->len ? e + 1 : e;
        j->c.line++;
    }
    return SL_OK;
}

/* ---- array mode ------------------------------------------------------------------------------ */

/* Bytes that end a bare scalar token (number, literal or garbage) at top level / in an array. */
static const uint8_t delim_tab[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, [':'] = 1,
    ['['] = 1, [']'] = 1,  ['{'] = 1,  ['}'] = 1,  ['"'] = 1};

static void begin_elem(sl_json *j, bool in_array, bool missing_comma)
{
    uint8_t c = j->buf[j->c.scan];
    j->c.estart = j->c.scan;
    j->c.eline = j->c.line;
    j->c.ecol = j->c.col;
    j->c.ekind = c == '{' || c == '[' ? E_CONTAINER
                 : c == '"'           ? E_STRING
                 : delim_tab[c]       ? E_ONE
                                      : E_SCALAR;
    j->c.edepth = 0;
    j->c.ein_str = j->c.eesc = false;
    j->c.ein_array = in_array;
    j->c.emissing_comma = missing_comma;
    j->c.ediscard = j->c.etrunc = false;
    j->c.astate = A_IN;
}

/* Advances the element scanner; true when the element is complete (scan just past it). */
static bool scan_elem(sl_json *j, bool eof)
{
    const uint8_t *buf = j->buf;
    size_t pos = j->c.scan, len = j->len, col = j->c.col, depth = j->c.edepth;
    uint64_t line = j->c.line;
    bool in_str = j->c.ein_str, esc = j->c.eesc, done = false;
    int kind = j->c.ekind;
    while (pos < len && !done) {
        uint8_t c = buf[pos];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"') {
                in_str = false;
                done = kind == E_STRING;
            }
        } else if (kind == E_SCALAR) {
            if (delim_tab[c]) {
                done = true;
                break;
            }
        } else if (kind == E_ONE) {
            done = true;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            done = --depth == 0;
        }
        if (c == '\n') {
            line++;
            col = 0;
        } else {
            col++;
        }
        pos++;
    }
    if (!done && eof) {
        done = true;
        j->c.etrunc = kind != E_SCALAR;
    }
    j->c.scan = pos;
    j->c.col = col;
    j->c.line = line;
    j->c.edepth = depth;
    j->c.ein_str = in_str;
    j->c.eesc = esc;
    return done;
}

/* A row for a structural error at buf[scan] (rec: n bytes there). */
static void struct_row(sl_json *j, sl_rowblock *b, size_t base, size_t n, const char *detail)
{
    size_t r = sl_rowblock_add_row(b, j->c.line, (uint32_t)(j->c.scan - base), (uint32_t)n);
    sl_rowblock_reject(b, r, SL_ROW_SYNTAX, clamp32((uint64_t)j->c.col + 1), -1, detail);
}

static sl_err elem_record(sl_json *j, sl_rowblock *b, size_t base)
{
    size_t s = j->c.estart, e = j->c.scan;
    if (j->c.emissing_comma) {
        size_t r = sl_rowblock_add_row(b, j->c.eline, (uint32_t)(s - base), (uint32_t)(e - s));
        reject_row(j, b, r, SL_ROW_SYNTAX, 0, -1, "expected ',' or ']' before this value");
        return SL_OK;
    }
    return parse_into(j, b, base, s, e, e - s, s, j->c.eline);
}

static sl_err next_array(sl_json *j, bool eof, sl_rowblock *b, size_t base)
{
    while (b->nrows < b->cap_rows) {
        if (j->c.astate == A_IN) {
            bool done = scan_elem(j, eof);
            if (!j->c.ediscard && j->c.scan - j->c.estart > j->max_record) {
                too_long_row(j, b, base, j->c.estart, j->c.eline);
                j->c.ediscard = true;
            }
            if (j->c.ediscard)
                j->c.consumed = j->c.scan;
            if (!done)
                break;
            if (!j->c.ediscard) {
                sl_err err = elem_record(j, b, base);
                if (err)
                    return err;
            }
            j->c.astate = j->c.ein_array ? A_AFTER : A_TOP;
            j->c.consumed = j->c.scan;
            j->c.ediscard = false;
            continue;
        }
        while (j->c.scan < j->len && ws_tab[j->buf[j->c.scan]]) {
            if (j->buf[j->c.scan] == '\n') {
                j->c.line++;
                j->c.col = 0;
            } else {
                j->c.col++;
            }
            j->c.scan++;
        }
        j->c.consumed = j->c.scan;
        if (j->c.scan == j->len) {
            if (eof && j->c.astate != A_TOP) {
                if (!j->c.etrunc)
                    struct_row(j, b, base, 0, "unexpected end of input: array not closed");
                j->c.astate = A_TOP;
            }
            break;
        }
        uint8_t c = j->buf[j->c.scan];
        int st = j->c.astate;
        if ((st == A_TOP && c == '[') || (st == A_AFTER && c == ',') ||
            ((st == A_FIRST || st == A_AFTER) && c == ']')) {
            j->c.astate = c == '[' ? A_FIRST : c == ',' ? A_ELEM : A_TOP;
            j->c.scan++;
            j->c.col++;
            j->c.consumed = j->c.scan;
            continue;
        }
        if ((st == A_FIRST || st == A_ELEM) && c == ',') {
            struct_row(j, b, base, 1, "missing value before ','");
            j->c.astate = A_ELEM;
            j->c.scan++;
            j->c.col++;
            j->c.consumed = j->c.scan;
            continue;
        }
        if (st == A_ELEM && c == ']') {
            struct_row(j, b, base, 1, "trailing comma");
            j->c.astate = A_TOP;
            j->c.scan++;
            j->c.col++;
            j->c.consumed = j->c.scan;
            continue;
        }
        begin_elem(j, st != A_TOP, st == A_AFTER);
    }
    return SL_OK;
}

/* ---- next ------------------------------------------------------------------------------------ */

/* Skips a UTF-8 BOM at the start of a file (input starting at line 1: a chunk cut from the
 * middle of a file keeps it, as the whole file would); false if more input is needed. */
static bool skip_bom(sl_json *j, bool eof)
{
    static const uint8_t bom[3] = {0xEF, 0xBB, 0xBF};
    if (j->c.bom_done)
        return true;
    if (j->first_line != 1) {
        j->c.bom_done = true;
        return true;
    }
    size_t avail = j->len - j->c.consumed;
    if (avail < 3 && !eof && (avail == 0 || !memcmp(j->buf + j->c.consumed, bom, avail)))
        return false;
    if (avail >= 3 && !memcmp(j->buf + j->c.consumed, bom, 3)) {
        j->c.consumed += 3;
        j->c.scan = j->c.consumed;
    }
    j->c.bom_done = true;
    return true;
}

sl_err sl_json_next(sl_json *j, bool eof, sl_rowblock *b)
{
    if (b->ncols != j->ncols || !b->cap_rows || !b->cells)
        return SL_INVALID;
    if (b->nrows)
        return SL_STATE;
    b->nbad = 0;
    j->xlen = 0;
    j->reserved = 0; /* the COLLECT text may overwrite a reserved area */
    size_t base = j->c.consumed;
    cursor saved = j->c;
    sl_err err = SL_OK;
    if (skip_bom(j, eof))
        err = j->o.array_mode ? next_array(j, eof, b, base) : next_lines(j, eof, b, base);
    if (err) {
        /* undo the whole call: a retry parses the same records into the same rows */
        j->c = saved;
        j->xlen = 0;
        b->nrows = 0;
        b->nbad = 0;
    }
    b->text = j->buf + base;
    b->text_len = (j->xlen ? j->len + 1 + j->xlen : j->len) - base;
    return err;
}

/* ---- key discovery --------------------------------------------------------------------------- */

void sl_json_keys_release(sl_json_keys *k)
{
    free(k->names);
    free(k->lens);
    free(k->store_);
    memset(k, 0, sizeof(*k));
}

static sl_err keys_export(const keyset *ks, sl_json_keys *out)
{
    out->names = malloc((ks->n ? ks->n : 1) * sizeof(*out->names));
    out->lens = malloc((ks->n ? ks->n : 1) * sizeof(*out->lens));
    out->store_ = malloc(ks->bytes.len + ks->n + 1);
    if (!out->names || !out->lens || !out->store_)
        return SL_NOMEM;
    char *s = out->store_;
    for (size_t i = 0; i < ks->n; i++) {
        if (ks->e[i].len) /* an empty key may come before any key bytes were stored */
            sl_memcpy(s, ks->bytes.ptr + ks->e[i].off, ks->e[i].len);
        s[ks->e[i].len] = '\0';
        out->names[i] = s;
        out->lens[i] = ks->e[i].len;
        s += ks->e[i].len + 1;
    }
    out->n = ks->n;
    return SL_OK;
}

sl_err sl_json_scan_keys(const sl_json_opts *o, const void *data, size_t n, bool eof,
                         size_t max_records, sl_json_keys *out)
{
    memset(out, 0, sizeof(*out));
    sl_json_opts opts;
    if (o)
        opts = *o;
    else
        sl_json_opts_default(&opts);
    if (n > SL_JSON_MAX_BUFFER_LIMIT)
        return SL_FULL;
    opts.unknown = SL_JSON_UNKNOWN_IGNORE;
    opts.dup_last_wins = true;
    if (opts.max_buffer < n)
        opts.max_buffer = n;
    sl_json *j;
    sl_err err = sl_json_create(&opts, NULL, 0, &j);
    if (err)
        return err;
    j->record_members = true;
    j->discover = true;
    sl_rowblock b;
    err = sl_rowblock_init(&b, 0, 256);
    if (err)
        goto out_destroy;
    err = sl_json_feed(j, data, n);
    while (!err && (!max_records || out->records < max_records)) {
        sl_rowblock_clear(&b);
        size_t left = max_records ? max_records - out->records : SIZE_MAX;
        size_t cap = b.cap_rows;
        if (left < cap)
            b.cap_rows = left;
        err = sl_json_next(j, eof, &b);
        b.cap_rows = cap;
        if (err || !b.nrows)
            break;
        out->records += b.nrows;
        out->bad += b.nbad;
    }
    if (!err)
        err = keys_export(&j->keys, out);
    sl_rowblock_release(&b);
out_destroy:
    sl_json_destroy(j);
    if (err) {
        size_t r = out->records, bad = out->bad;
        sl_json_keys_release(out);
        out->records = r;
        out->bad = bad;
    }
    return err;
}
