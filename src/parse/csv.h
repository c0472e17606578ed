/* csv.h: streaming CSV parser: bytes in arbitrary chunks -> rows of cells in an sl_rowblock.
 *
 * Use: sl_csv_create(), then repeatedly sl_csv_feed() a chunk and sl_csv_next() into a cleared
 * block until the block comes back empty (need more input); at the end of the input call
 * sl_csv_next(p, true, b) until it comes back empty. The field count for the block
 * (b->ncols) comes from sl_csv_header() (or from a schema). A record may span any number of
 * chunks; the cells, errors and line numbers are the same however the input is split.
 *
 * What counts as a record (RFC 4180 with these definitions for what the RFC leaves open):
 *   - Records end at LF or CRLF outside quotes, or at the end of the input. A CR not followed
 *     by LF is data (old Mac "CR only" files are one long record). At the end of the input a
 *     final CR outside quotes is dropped (a CRLF cut after its CR).
 *   - An empty line ("\n" or "\r\n") is not a record and is skipped, except when the block
 *     has exactly one column (b->ncols == 1): then it is a record with one empty unquoted field
 *     (null by default), which is how one-column writers (pandas, Polars, DuckDB) write a null.
 *     Empty lines before the header are always skipped.
 *   - A UTF-8 byte order mark at the very start of the input is skipped.
 *   - A quote is special only at the start of a field (strict RFC 4180 otherwise): inside a
 *     quoted field a doubled quote is a quote; the closing quote must be followed by the
 *     delimiter, LF, CRLF or the end of input. A quote inside an unquoted field (`ab"c`) and
 *     anything after a closing quote (`"ab"c`) are SYNTAX errors; the field then runs to the
 *     next delimiter or newline (quotes in it are literal), so one bad field costs one row.
 *   - With escape != 0 (e.g. '\\'), inside a quoted field the escape character makes the next
 *     byte literal (quote, escape, delimiter, newline); doubled quotes still work. Outside
 *     quotes the escape character is an ordinary byte.
 *   - With quote == 0 there is no quoting: every delimiter and LF separates.
 *
 * Cells (see rowblock.h): an unquoted field is SL_CELL_TEXT (an empty one has len 0); a quoted
 * field is SL_CELL_STRING with the bytes between the quotes, flagged SL_CELLF_CSV_ESCAPES when
 * doubled quotes or escape pairs must be undone with sl_csv_unescape(). A field with a syntax
 * error or an unterminated quote is SL_CELL_TEXT holding its raw bytes. The parser does not
 * look for null tokens: the converter does (an unquoted empty field vs a quoted "" lets it tell
 * null from the empty string).
 *
 * Rows: b->line[r] is the line where the record starts (quoted newlines count);
 * rec_off/rec_len give its raw bytes without the line end (for rejects files).
 * Rejected rows still take a row slot (rowblock.h) with code, line (where the record starts),
 * column (1-based field number, 0 for the record) and a detail; the first error of a record in
 * field order wins, except that UNTERMINATED (line = where the quote opened) and TOO_LONG
 * replace any other (a too-long record whose quote never closes reports UNTERMINATED, with
 * no cells):
 *   SYNTAX       quote in an unquoted field, or junk after a closing quote;
 *   RAGGED       field count != b->ncols ("expected 12 fields, got 11", column = count seen);
 *                missing cells stay SL_CELL_MISSING, extra fields are dropped;
 *   UTF8         a field is not valid UTF-8 (overlong, surrogate, > U+10FFFF, truncated);
 *   NUL          a field contains a NUL byte (NUL and UTF-8 are checked on the raw field
 *                bytes, quotes included; the detail gives the byte offset in them);
 *   UNTERMINATED a quote still open at the end of the input (the rest is one record);
 *   TOO_LONG     the record has more than max_record bytes: it is skipped without being
 *                buffered, its cells are MISSING and rec_len is 0.
 *
 * Speed: 64-byte blocks are classified into bit masks with SSE2 or AVX2, quoted regions come
 * from a carry-less multiply (prefix XOR over quote bits), and a record the fast path cannot
 * prove well-formed is re-parsed by the scalar state machine, which defines the results. The
 * kernel is chosen at sl_csv_create(): opts->simd, else the environment variable
 * SLUICE_SIMD=scalar|sse2|avx2, else the best the CPU has. Escape mode always uses the scalar
 * path.
 *
 * Thread-safety: an sl_csv is used by one thread at a time; sl_csv_split() and
 * sl_csv_unescape() are pure. To use all cores, cut the input with sl_csv_split() and give each
 * piece its own parser (header = false and sl_csv_set_first_line() for all but the first; a
 * fixed column count for all, e.g. the first parser's header count).
 */
#ifndef SL_PARSE_CSV_H
#define SL_PARSE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/rowblock.h"
#include "sluice.h"

/* Which block classifier sl_csv_next() and sl_csv_split() use. AUTO = SLUICE_SIMD or the best
 * available; a level the CPU lacks falls back to the best one it has. */
typedef enum {
    SL_CSV_SIMD_AUTO = 0,
    SL_CSV_SIMD_SCALAR,
    SL_CSV_SIMD_SSE2, /* SSE2 + PCLMULQDQ + POPCNT */
    SL_CSV_SIMD_AVX2, /* AVX2 + PCLMULQDQ + POPCNT + BMI1 */
} sl_csv_simd;

typedef struct {
    char delim;        /* default ','; also '\t', ';', '|' ... (ASCII, not CR/LF/quote) */
    char quote;        /* default '"'; 0 = no quoting */
    char escape;       /* 0 (default) = RFC 4180 doubled quotes; e.g. '\\' = backslash escapes
                          inside quotes */
    bool header;       /* first record is a header (default true) */
    size_t max_record; /* bytes; longer record -> row error TOO_LONG, skipped (default 16 MiB,
                          at most 1 GiB) */
    size_t max_fields; /* header / first record field limit (default 16384) */
    sl_csv_simd simd;  /* default AUTO */
} sl_csv_opts;

void sl_csv_opts_default(sl_csv_opts *o);

typedef struct sl_csv sl_csv; /* opaque */

/* SL_INVALID for unusable options (delimiter equal to the quote, CR, LF or NUL; non-ASCII
 * characters; max_record 0 or > 1 GiB; max_fields 0). On SL_OK *out is yours: release it with
 * sl_csv_destroy(). */
SL_NODISCARD sl_err sl_csv_create(const sl_csv_opts *o, sl_csv **out);
void sl_csv_destroy(sl_csv *p); /* NULL is a no-op */

/* Forgets all input and state for a new input (keeps options and allocations); `header`
 * replaces opts.header. */
void sl_csv_reset(sl_csv *p, bool header);

/* Line number (1-based) of the first byte that will be fed; for parallel chunks. Default 1.
 * Call before the first feed. A parser whose first line is not 1 is inside the input: it does
 * not look for a byte order mark. */
void sl_csv_set_first_line(sl_csv *p, uint64_t line);

/* Copies input into the parser's buffer (which grows geometrically and drops consumed bytes).
 * SL_STATE after sl_csv_end_input(); SL_FULL if more than 4 GiB would be buffered (call
 * sl_csv_next() to consume); SL_NOMEM. On error nothing was fed. */
SL_NODISCARD sl_err sl_csv_feed(sl_csv *p, const void *data, size_t n);

/* Declares that no more input will be fed: sl_csv_header() and sl_csv_next() then treat what
 * is buffered as the whole rest of the input (as next() does with eof = true). */
void sl_csv_end_input(sl_csv *p);

/* Parses buffered complete records into b (caller cleared it: b->nrows == 0; b->ncols == the
 * field count expected) until b is full or no complete record is left; with eof, the last
 * record too even without a final newline. Consumes the header first if it has not been.
 * Sets b->text (and b->text_len). b->nrows == 0 after the call means: need more input (or,
 * with eof, done). The text stays valid until the next feed/next/destroy.
 * Errors: SL_STATE if b->nrows != 0; the header's error (see sl_csv_header()). */
SL_NODISCARD sl_err sl_csv_next(sl_csv *p, bool eof, sl_rowblock *b);

/* The header: field count and names as cells into a text valid for the parser's lifetime
 * (copy it). Usable as soon as the header record is buffered: the first call parses and
 * consumes it. With header = false, the field count of the first non-empty record (nothing is
 * consumed) and *names = NULL, *text = NULL. An empty input (at its end) has 0 fields.
 * SL_RETRY if not known yet (feed more, or sl_csv_end_input()); SL_FORMAT if the header record
 * is malformed, longer than max_record or has more than max_fields fields (sl_csv_errmsg()
 * says why). */
SL_NODISCARD sl_err sl_csv_header(sl_csv *p, size_t *nfields, const sl_cell **names,
                                  const uint8_t **text);

/* Why the last SL_FORMAT happened; "" if none. */
const char *sl_csv_errmsg(const sl_csv *p);

/* The kernel this parser uses (never AUTO). */
sl_csv_simd sl_csv_kernel(const sl_csv *p);
/* Whether this CPU can run a kernel (SCALAR always). */
bool sl_csv_simd_supported(sl_csv_simd s);
/* "auto", "scalar", "sse2", "avx2". */
const char *sl_csv_simd_name(sl_csv_simd s);

/* Parallel split: given a buffer that starts at a record boundary (not inside quotes), the
 * offset just past the last complete record in buf[0..n) (0 if none), counting '\n' bytes
 * before it in *newlines (for line numbers). A record is complete once its terminating LF is
 * in the buffer (empty lines count). Honours quotes exactly as the parser does (quoted
 * newlines are not boundaries), escape mode too. Uses the kernel o->simd selects (escape mode:
 * scalar).
 * Returns 0 for invalid options. split() never skips a byte order mark (inside the input, U+FEFF is
 * data): at the start of the input, split buf + sl_csv_bom_len(buf, n). The first piece may keep
 * the BOM; its parser (first line 1) skips it. */
size_t sl_csv_split(const sl_csv_opts *o, const uint8_t *buf, size_t n, uint64_t *newlines);

/* 3 if buf starts with a UTF-8 byte order mark, else 0. */
size_t sl_csv_bom_len(const uint8_t *buf, size_t n);

/* Undoes the escapes of an SL_CELL_STRING flagged SL_CELLF_CSV_ESCAPES: doubled quotes become
 * one quote, and with o->escape an escape pair becomes its second byte. out needs n bytes and
 * may be p itself. Returns the unescaped length. */
size_t sl_csv_unescape(const sl_csv_opts *o, const uint8_t *p, size_t n, uint8_t *out);

#endif
