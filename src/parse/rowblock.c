/* rowblock.c: allocation and error bookkeeping of sl_rowblock; see rowblock.h. */
#include "parse/rowblock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_NAME(n, code, msg) code,
#define ROW_MSG(n, code, msg) msg,
static const char *const row_names[] = {SL_ROW_ERRORS(ROW_NAME)};
static const char *const row_msgs[] = {SL_ROW_ERRORS(ROW_MSG)};
#undef ROW_NAME
#undef ROW_MSG

const char *sl_row_code_name(sl_row_code code)
{
    if ((unsigned)code >= SL_ROW_ERR_COUNT)
        return "unknown";
    return row_names[code];
}

const char *sl_row_code_message(sl_row_code code)
{
    if ((unsigned)code >= SL_ROW_ERR_COUNT)
        return "unknown error";
    return row_msgs[code];
}

sl_err sl_rowblock_init(sl_rowblock *b, size_t ncols, size_t cap_rows)
{
    memset(b, 0, sizeof(*b));
    if (!cap_rows || (ncols && cap_rows > SIZE_MAX / sizeof(sl_cell) / ncols))
        return SL_INVALID;
    b->ncols = ncols;
    b->cap_rows = cap_rows;
    b->cells = malloc((ncols ? ncols : 1) * cap_rows * sizeof(*b->cells));
    b->line = malloc(cap_rows * sizeof(*b->line));
    b->rec_off = malloc(cap_rows * sizeof(*b->rec_off));
    b->rec_len = malloc(cap_rows * sizeof(*b->rec_len));
    b->row_err = malloc(cap_rows * sizeof(*b->row_err));
    if (!b->cells || !b->line || !b->rec_off || !b->rec_len || !b->row_err) {
        sl_rowblock_release(b);
        return SL_NOMEM;
    }
    return SL_OK;
}

void sl_rowblock_release(sl_rowblock *b)
{
    free(b->cells);
    free(b->line);
    free(b->rec_off);
    free(b->rec_len);
    free(b->row_err);
    memset(b, 0, sizeof(*b));
}

void sl_rowblock_clear(sl_rowblock *b)
{
    b->nrows = 0;
    b->nbad = 0;
    b->text = NULL;
    b->text_len = 0;
}

void sl_rowblock_reject(sl_rowblock *b, size_t r, sl_row_code code, uint32_t column,
                        int32_t field, const char *detail)
{
    sl_row_err *e = &b->row_err[r];
    if (e->code != SL_ROW_OK)
        return;
    e->code = code;
    e->line = b->line[r];
    e->column = column;
    e->field = field;
    snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
    b->nbad++;
}
