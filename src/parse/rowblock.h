/* rowblock.h: the hand-off between the text parsers (CSV, JSON Lines) and typed columns.
 *
 * A parser turns bytes into a block of up to `cap_rows` records, each a row of `ncols` cells.
 * For CSV a cell is a field in file order (the converter maps fields to schema columns); for
 * JSON Lines a cell is a schema column (the parser maps keys by name). A cell is a view into
 * `text`: where a field's
 * bytes are, and what kind of token they were. Parsers never convert values; the converter
 * (convert.h) walks the block column by column, turning cells into typed values in an sl_batch,
 * which keeps each column's work in cache and lets CSV and JSON share one set of coercions.
 *
 * Ownership: the block and its arrays belong to whoever created it (sl_rowblock_init /
 * sl_rowblock_release); `text` is borrowed from the parser and stays valid until the parser is
 * fed again or destroyed. Cells are 8-byte aligned views: offsets are relative to `text`.
 *
 * Rows the parser already knows are bad (a syntax error, a ragged CSV row, invalid UTF-8 in a
 * JSON string, an unknown field under the reject policy) still take a row slot, with
 * `row_err[r].code != SL_ROW_OK`; the converter skips them and reports them with the others.
 */
#ifndef SL_PARSE_ROWBLOCK_H
#define SL_PARSE_ROWBLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice.h"

/* What a cell holds. */
enum {
    SL_CELL_MISSING = 0, /* no value for this column in the record (JSON key absent) */
    SL_CELL_NULL,        /* explicit null: JSON null, or a CSV field equal to a null token */
    SL_CELL_TEXT,        /* unquoted text: a CSV field, a JSON number, true or false */
    SL_CELL_STRING,      /* quoted string content, quotes removed (see flags for escapes) */
    SL_CELL_NESTED,      /* JSON object or array, raw text including brackets (validated) */
};

/* Cell flags. */
enum {
    SL_CELLF_CSV_ESCAPES = 1,  /* contains doubled quotes (or escape char pairs) to undo */
    SL_CELLF_JSON_ESCAPES = 2, /* contains JSON backslash escapes to decode */
    SL_CELLF_JSON_TRUE = 4,    /* SL_CELL_TEXT from a JSON literal true */
    SL_CELLF_JSON_FALSE = 8,   /* SL_CELL_TEXT from a JSON literal false */
    SL_CELLF_JSON_NUMBER = 16, /* SL_CELL_TEXT from a JSON number (syntax already validated) */
};

typedef struct {
    uint32_t off; /* into sl_rowblock.text */
    uint32_t len;
    uint8_t kind;
    uint8_t flags;
    uint16_t pad;
} sl_cell;

/* Why a row was rejected: enum name, the code used in reports (rejects files, API answers),
 * and a static message. */
#define SL_ROW_ERRORS(X) \
    X(OK, "ok", "ok") \
    X(SYNTAX, "syntax", "syntax error") \
    X(RAGGED, "ragged", "wrong number of fields") \
    X(UTF8, "utf8", "invalid UTF-8") \
    X(NUL, "nul", "NUL byte in field") \
    X(UNTERMINATED, "unterminated", "unterminated quoted field") \
    X(TOO_LONG, "too_long", "field or record too long") \
    X(TOO_DEEP, "too_deep", "nesting too deep") \
    X(NOT_OBJECT, "not_object", "record is not a JSON object") \
    X(UNKNOWN_FIELD, "unknown_field", "unknown field") \
    X(DUPLICATE_KEY, "duplicate_key", "duplicate key") \
    X(MISSING, "missing", "missing value for a required column") \
    X(NULL_VALUE, "null_value", "null in a non-nullable column") \
    X(TYPE, "type", "value does not match the column type") \
    X(RANGE, "range", "value out of range")

#define SL_ROW_ENUM(n, code, msg) SL_ROW_##n,
typedef enum { SL_ROW_ERRORS(SL_ROW_ENUM) SL_ROW_ERR_COUNT } sl_row_code;
#undef SL_ROW_ENUM

const char *sl_row_code_name(sl_row_code code); /* "syntax", "ragged", ... never NULL */
const char *sl_row_code_message(sl_row_code code);

/* A rejected row: code, static message, 1-based line and column (column = field number for
 * CSV / byte column for JSON syntax errors; 0 if unknown), the schema column it concerns
 * (-1 if none), and a short detail (copied, NUL-terminated, may be empty). */
typedef struct {
    sl_row_code code;
    uint64_t line;
    uint32_t column;
    int32_t field; /* schema column index or -1 */
    char detail[96];
} sl_row_err;

typedef struct sl_rowblock {
    const uint8_t *text; /* borrowed from the parser */
    size_t text_len;
    size_t ncols;        /* cells per row */
    size_t nrows;
    size_t cap_rows;
    sl_cell *cells;      /* nrows * ncols, row-major */
    uint64_t *line;      /* 1-based line where each record starts */
    uint32_t *rec_off;   /* raw record bytes (for rejects files), into text */
    uint32_t *rec_len;
    sl_row_err *row_err; /* code SL_ROW_OK for good rows */
    size_t nbad;         /* rows with row_err[r].code != SL_ROW_OK */
} sl_rowblock;

SL_NODISCARD sl_err sl_rowblock_init(sl_rowblock *b, size_t ncols, size_t cap_rows);
void sl_rowblock_release(sl_rowblock *b);
/* Empties the block (keeps allocations). */
void sl_rowblock_clear(sl_rowblock *b);

/* Appends a row slot with all cells MISSING and returns its index; the caller fills cells.
 * Precondition: nrows < cap_rows. */
static inline size_t sl_rowblock_add_row(sl_rowblock *b, uint64_t line, uint32_t off,
                                         uint32_t len)
{
    size_t r = b->nrows++;
    sl_cell *c = b->cells + r * b->ncols;
    for (size_t i = 0; i < b->ncols; i++)
        c[i] = (sl_cell){0, 0, SL_CELL_MISSING, 0, 0};
    b->line[r] = line;
    b->rec_off[r] = off;
    b->rec_len[r] = len;
    b->row_err[r].code = SL_ROW_OK;
    return r;
}

/* Marks row r bad (first error wins). */
void sl_rowblock_reject(sl_rowblock *b, size_t r, sl_row_code code, uint32_t column,
                        int32_t field, const char *detail);

#endif
