/* json.h: streaming JSON Lines (and JSON array) parser that fills sl_rowblock cells.
 *
 * Use: create a parser with the schema's column names, feed it bytes in chunks of any size
 * (a record may span chunks), and after each feed call sl_json_next() until it returns a block
 * with no rows; at the end of input call sl_json_next(eof = true) the same way. Each record (a
 * line in JSON Lines, an element in array mode) becomes one row of `ncols` cells, one per
 * column: the parser maps object keys to columns by name and never converts values (convert.h
 * does, column by column). The JSON is validated in full (RFC 8259: grammar, escapes,
 * surrogate pairs, number syntax, UTF-8 everywhere, no raw control characters or NUL bytes);
 * a bad record still takes a row slot, with row_err[r] saying what, where and why, and parsing
 * goes on with the next record.
 *
 * Cells (see rowblock.h):
 *   "string"      SL_CELL_STRING, the bytes between the quotes; flag SL_CELLF_JSON_ESCAPES when
 *                 they hold backslash escapes (decode with sl_json_unescape()). Every string is
 *                 valid UTF-8 and decodes to valid UTF-8: lone surrogates (\ud800 alone,
 *                 \udc00 alone, a high surrogate not followed by a low one) are row errors
 *                 SL_ROW_UTF8. \u0000 is accepted and decodes to a NUL byte.
 *   number        SL_CELL_TEXT + SL_CELLF_JSON_NUMBER, the number's text; the syntax is checked
 *                 (no leading zeros, '+', '.5', '1.', NaN, Infinity, hex), the magnitude is
 *                 not: 1e400 and 30-digit integers are cells and the converter reports RANGE.
 *   true, false   SL_CELL_TEXT + SL_CELLF_JSON_TRUE / SL_CELLF_JSON_FALSE (text "true"/"false").
 *   null          SL_CELL_NULL (text "null").
 *   {...}, [...]  SL_CELL_NESTED, the raw text including the brackets (validated, depth-limited;
 *                 duplicate keys inside nested objects are kept as they are).
 *   absent key    SL_CELL_MISSING.
 *
 * Records and rows:
 *   - JSON Lines: one record per physical line ('\n'; a '\r' before it is accepted and left out
 *     of the record text). Empty and whitespace-only lines are skipped: they make no row but
 *     count as lines. A UTF-8 byte-order mark at the very start of the input is skipped if the
 *     input starts at line 1 (sl_json_set_first_line), i.e. at the start of a file. The
 *     last line may lack its newline; at eof it is parsed as it is, so a truncated record is a
 *     SYNTAX row "unexpected end of input". A lone '\r' is JSON whitespace, not a line end.
 *     max_record applies to every line, blank or not (a line is known to be blank only at its
 *     end, and a too long one is dropped before that).
 *   - Array mode (opts.array_mode): the input is JSON text holding one or more top-level values
 *     separated by whitespace. A top-level array contributes each element as a record; a
 *     top-level object is a record itself. So one event `{...}`, an array of events
 *     `[{...}, ...]`, NDJSON and pretty-printed concatenated objects all parse (POST
 *     /v1/events). A record's line is the line where it starts. Errors stay local where the
 *     structure allows: an element that is not an object is a NOT_OBJECT row, a bad element is
 *     a row with its error, and the other elements are kept. A trailing comma is a SYNTAX row
 *     (its record is the ']'), so is an empty element (`[,` or `,,`: its record is the ','),
 *     a missing comma makes the element after it a SYNTAX row, stray characters at top level
 *     are SYNTAX rows, and an array still open at eof adds a SYNTAX row "unexpected end of
 *     input" (unless its last element was itself cut off and already reported so). An empty
 *     or whitespace-only input is no rows. Element boundaries are found by bracket and string
 *     matching before the element is parsed, so a bracket typo inside an element can make it
 *     swallow later elements into one bad row: nothing is lost silently. Nesting depth counts
 *     from the record (a top-level array holding records is not a level).
 *   - Error position: row_err.line/column are 1-based; column is a byte column in the physical
 *     line (after the BOM on line 1). In array mode they name the line and column of the error
 *     itself, which may be below the line where the record starts (b->line[r]). The first error
 *     in reading order wins (one error per row); field is the schema column whose value holds
 *     the error, or -1.
 *   - Row errors: SYNTAX, NOT_OBJECT (valid JSON, not an object), UTF8 (invalid UTF-8 anywhere,
 *     including unknown fields and nested values; lone surrogate escapes), NUL (raw NUL byte),
 *     TOO_DEEP (nesting > max_depth; the record object is depth 1), TOO_LONG (record longer than
 *     max_record bytes; its rec text is only its first min(max_record, SL_JSON_REJECT_PREFIX)
 *     bytes, the rest is discarded unread), DUPLICATE_KEY, UNKNOWN_FIELD (policy REJECT).
 *
 * Keys map to columns by exact bytes after unescaping ("\u0061" is "a"). A key seen twice for a
 * schema column is DUPLICATE_KEY, or with dup_last_wins the last value wins. Unknown keys:
 *   IGNORE   the value is validated and dropped (duplicate unknown keys are not detected);
 *   REJECT   the row is UNKNOWN_FIELD (detail: the key);
 *   COLLECT  the last column (names[ncols-1], e.g. "_extra") is not matched by any key; it gets
 *            a SL_CELL_NESTED cell holding the JSON object text `{m1,m2,...}` built from the
 *            raw `"key":value` members of the unknown keys in input order (raw bytes, so keys
 *            and values keep their escapes and inner whitespace), or SL_CELL_MISSING when the
 *            record has none. Duplicate unknown keys follow dup_last_wins (the kept member is
 *            the last one, at its own position). The text lives after the input in the
 *            parser's buffer, so it is a view into b->text like any other cell.
 *
 * Memory: the parser keeps the unparsed input (at most max_buffer bytes: sl_json_feed() says
 * SL_FULL beyond that; drain with sl_json_next() first) plus the record being read; a record
 * longer than max_record is discarded as it streams in. No allocation per row: buffers grow to
 * the largest record and block seen and are reused.
 *
 * SIMD: string contents are scanned 16 (SSE2) or 32 (AVX2) bytes at a time, picked at runtime;
 * the environment variable SLUICE_SIMD=scalar|sse2|avx2 (or opts.simd) forces a variant. All
 * variants give identical results.
 *
 * Thread-safety: none inside; one parser per thread. The functions without a parser argument
 * are reentrant.
 */
#ifndef SL_PARSE_JSON_H
#define SL_PARSE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/rowblock.h"
#include "sluice.h"

typedef enum {
    SL_JSON_UNKNOWN_IGNORE, /* default */
    SL_JSON_UNKNOWN_REJECT,
    SL_JSON_UNKNOWN_COLLECT, /* into the last column as a JSON object text */
} sl_json_unknown;

typedef enum {
    SL_JSON_SIMD_AUTO,   /* SLUICE_SIMD if set, else the best the CPU has */
    SL_JSON_SIMD_SCALAR, /* portable C (8 bytes at a time) */
    SL_JSON_SIMD_SSE2,
    SL_JSON_SIMD_AVX2, /* falls back to the best available if the CPU lacks it */
} sl_json_simd;

#define SL_JSON_DEFAULT_MAX_DEPTH 64
#define SL_JSON_DEFAULT_MAX_RECORD ((size_t)16 << 20)
#define SL_JSON_DEFAULT_MAX_BUFFER ((size_t)64 << 20)
/* Larger max_buffer values are clamped: the buffer holds < 2 * max_buffer bytes and COLLECT
 * text at most as much again, which keeps every cell offset within 32 bits. */
#define SL_JSON_MAX_BUFFER_LIMIT ((size_t)512 << 20)
#define SL_JSON_MAX_DEPTH_LIMIT ((size_t)1 << 20) /* larger max_depth values are clamped */
#define SL_JSON_REJECT_PREFIX 1024                /* rec bytes kept for a TOO_LONG row */

typedef struct {
    sl_json_unknown unknown;
    bool dup_last_wins; /* duplicate key: false -> DUPLICATE_KEY row error, true -> last wins */
    size_t max_depth;   /* default 64 (0 = default); deeper -> TOO_DEEP */
    size_t max_record;  /* default 16 MiB (0 = default); longer -> TOO_LONG */
    size_t max_buffer;  /* cap on buffered input, default 64 MiB (0 = default); raised to
                           2 * max_record if smaller, clamped to SL_JSON_MAX_BUFFER_LIMIT (and
                           then max_record to half of it) */
    bool array_mode;    /* input is JSON text: arrays of objects and/or objects (see above) */
    sl_json_simd simd;
} sl_json_opts;

void sl_json_opts_default(sl_json_opts *o);

typedef struct sl_json sl_json;

/* Creates a parser. o may be NULL for defaults. names: the column names in schema order,
 * NUL-terminated (copied); with SL_JSON_UNKNOWN_COLLECT the last one is the collect column
 * (ncols >= 1). SL_INVALID for a duplicate name or a NULL name. On SL_OK *out is yours;
 * release it with sl_json_destroy(). */
SL_NODISCARD sl_err sl_json_create(const sl_json_opts *o, const char *const *names, size_t ncols,
                                   sl_json **out);
void sl_json_destroy(sl_json *p); /* NULL is a no-op */

/* Forgets all input and state (keeps options, names and allocations) for a new input. */
void sl_json_reset(sl_json *p);

/* Line number of the first input line (default 1), e.g. when the input starts mid-file. Call
 * before the first feed (or after a reset). */
void sl_json_set_first_line(sl_json *p, uint64_t line);

/* Appends n bytes of input (copied). SL_FULL if the unparsed input would exceed max_buffer
 * (call sl_json_next() to drain first); on any error nothing is taken. Feeding after a call
 * with eof = true goes on with a new line (JSON Lines) or at top level (array mode); use
 * sl_json_reset() for an unrelated input. */
SL_NODISCARD sl_err sl_json_feed(sl_json *p, const void *data, size_t n);

/* Zero-copy parsing of input that is already in memory: the parser forgets what it had (as
 * sl_json_reset) and takes data[0..n) as its whole buffered input, where it is. data must be
 * writable (a sentinel byte is put after each record and restored, so the bytes are unchanged
 * afterwards) and the memory must hold cap >= n + SL_JSON_BORROW_PAD bytes (the scanners read
 * past a record's end). It stays borrowed until sl_json_reset() or sl_json_destroy(); feeding
 * or reserving before that is SL_STATE. SL_INVALID with SL_JSON_UNKNOWN_COLLECT (its text is
 * written after the input), when cap is too small, or n > max_buffer. */
#define SL_JSON_BORROW_PAD 65
SL_NODISCARD sl_err sl_json_borrow(sl_json *p, uint8_t *data, size_t n, size_t cap);

/* Zero-copy feeding, for a reader that can read() straight into the parser: reserve room for
 * up to n bytes (*dst; same SL_FULL rule as feed), write into it, then commit how many were
 * written (<= n; SL_INVALID otherwise). The reservation ends at the commit or at the next
 * feed, reserve, next or reset. */
SL_NODISCARD sl_err sl_json_reserve(sl_json *p, size_t n, void **dst);
SL_NODISCARD sl_err sl_json_commit(sl_json *p, size_t n);

/* Parses buffered complete records into b, which must be cleared (nrows == 0) and have
 * b->ncols == ncols, until b is full or no complete record is left; with eof also the last one
 * (a line without newline, an unterminated element). b->nrows == 0 -> need more input (or, at
 * eof, done). b->text and every cell stay valid until the next feed, next, reset or destroy.
 * Errors: SL_INVALID (bad block), SL_STATE (block not cleared), SL_NOMEM; after an error b is
 * empty and the parser is as before the call, so a retry gives the same rows. */
SL_NODISCARD sl_err sl_json_next(sl_json *p, bool eof, sl_rowblock *b);

/* Which scanner the parser uses: "scalar", "sse2" or "avx2". */
const char *sl_json_simd_name(const sl_json *p);

/* Decodes the contents of a JSON string (the bytes between the quotes, as in a STRING cell)
 * into UTF-8 at out, which needs room for n bytes (the result is never longer); returns the
 * decoded length. out may equal p (in place). \uXXXX escapes become UTF-8, surrogate pairs
 * combined. Meant for validated cells; on other input it never writes more than n bytes:
 * an invalid escape is copied as it is and a lone surrogate becomes U+FFFD. */
size_t sl_json_unescape(const uint8_t *p, size_t n, uint8_t *out);

/* True if p[0..n) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool sl_json_utf8_valid(const uint8_t *p, size_t n);

/* Key discovery for schema inference: the union of the top-level keys of the records in a
 * sample, in order of first appearance, unescaped. Records with an error do not contribute
 * (they are counted in `bad`). Keys containing a NUL byte (from \u0000) cannot be column names
 * and are left out. Typical use: scan the first N lines, build the schema from `names`,
 * create a parser with them, parse the same sample into a rowblock and infer types from the
 * cells. */
typedef struct {
    char **names; /* n NUL-terminated names, owned by the struct */
    size_t *lens; /* their lengths */
    size_t n;
    size_t records; /* records read (good and bad) */
    size_t bad;     /* records with an error */
    char *store_;   /* private */
} sl_json_keys;

/* Reads up to max_records records (0 = all) of data[0..n) (JSON Lines, or array mode per
 * o->array_mode; other options as in o, NULL for defaults). eof: data is the whole input, so
 * a last line without newline counts; otherwise an incomplete last record is ignored.
 * SL_FULL if n exceeds SL_JSON_MAX_BUFFER_LIMIT. On any return *out is initialised; release
 * it with sl_json_keys_release(). */
SL_NODISCARD sl_err sl_json_scan_keys(const sl_json_opts *o, const void *data, size_t n, bool eof,
                                      size_t max_records, sl_json_keys *out);
void sl_json_keys_release(sl_json_keys *k);

#endif
