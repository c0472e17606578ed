/* infer.c: schema inference from sample cells (see infer.h; rules in docs/coercion.md).
 *
 * Each column keeps a bit set of candidate types still possible; every non-null value clears
 * the candidates it does not parse as (with the same parsers the converter uses, so whatever
 * is inferred converts). The first surviving candidate in the order bool, int64, double, date,
 * timestamp wins; none left means string. Stricter than conversion on purpose, so a sample
 * does not lock in a type that real data then breaks or that loses information:
 *   - bool only from true/false (any case) and JSON true/false, not 1/0/y/n/t/f;
 *   - numbers with a redundant leading zero ("007", "-01.5") are codes, not numbers;
 *   - a double column needs at least one ordinary number (not only nan/inf);
 *   - from JSON, a string never becomes a number or bool (only a date or timestamp).
 */
#include "parse/infer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    C_BOOL = 1,
    C_INT = 2,
    C_DOUBLE = 4,
    C_DATE = 8,
    C_TS = 16,
    C_ALL = 31,
};

typedef struct {
    unsigned cand;
    bool seen;        /* a non-null value */
    bool nested;      /* a JSON object or array */
    bool real_number; /* a double candidate that was not nan/inf */
    bool ts_offset;   /* a timestamp with Z or an offset */
} col_state;

struct sl_infer {
    sl_coerce cz;
    sl_time_unit unit;
    const sl_schema *pinned;
    size_t ncols;
    char **names; /* final, unique */
    col_state *st;
    uint8_t *scratch; /* unescaped text */
    size_t scratch_cap;
};

void sl_infer_opts_default(sl_infer_opts *o)
{
    memset(o, 0, sizeof(*o));
    sl_coerce_opts_default(&o->coerce);
    o->unit = SL_UNIT_US;
}

static bool name_used(char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], s))
            return true;
    return false;
}

/* Unique name for column i (names[0..i) are final). */
static char *make_name(char *const *done, size_t i, const char *given)
{
    char gen[32];
    if (!given || !*given) {
        snprintf(gen, sizeof(gen), "column%zu", i + 1);
        given = gen;
    }
    if (!name_used(done, i, given))
        return strdup(given);
    size_t len = strlen(given);
    char *s = malloc(len + 24);
    if (!s)
        return NULL;
    for (size_t k = 2;; k++) {
        snprintf(s, len + 24, "%s_%zu", given, k);
        if (!name_used(done, i, s))
            return s;
    }
}

sl_err sl_infer_create(const char *const *names, size_t ncols, const sl_infer_opts *opts,
                       sl_infer **out)
{
    sl_infer_opts def;
    if (!opts) {
        sl_infer_opts_default(&def);
        opts = &def;
    }
    if ((unsigned)opts->unit > SL_UNIT_NS)
        return SL_INVALID;
    sl_infer *inf = calloc(1, sizeof(*inf));
    if (!inf)
        return SL_NOMEM;
    sl_err err = sl_coerce_init(&inf->cz, &opts->coerce);
    if (err)
        goto out_free;
    inf->unit = opts->unit;
    inf->pinned = opts->pinned;
    inf->ncols = ncols;
    err = SL_NOMEM;
    inf->names = calloc(ncols ? ncols : 1, sizeof(*inf->names));
    inf->st = calloc(ncols ? ncols : 1, sizeof(*inf->st));
    if (!inf->names || !inf->st)
        goto out_free;
    for (size_t i = 0; i < ncols; i++) {
        inf->names[i] = make_name(inf->names, i, names ? names[i] : NULL);
        if (!inf->names[i])
            goto out_free;
        inf->st[i].cand = C_ALL;
    }
    *out = inf;
    return SL_OK;
out_free:
    sl_infer_destroy(inf);
    return err;
}

void sl_infer_destroy(sl_infer *inf)
{
    if (!inf)
        return;
    if (inf->names)
        for (size_t i = 0; i < inf->ncols; i++)
            free(inf->names[i]);
    free(inf->names);
    free(inf->st);
    free(inf->scratch);
    free(inf);
}

/* "0" followed by another digit after an optional sign: a code such as a ZIP, not a number. */
static bool leading_zero(const uint8_t *p, size_t n)
{
    size_t i = n && (p[0] == '-' || p[0] == '+');
    return n - i >= 2 && p[i] == '0' && p[i + 1] >= '0' && p[i + 1] <= '9';
}

static bool is_special(const uint8_t *p, size_t n)
{
    size_t i = n && (p[0] == '-' || p[0] == '+');
    return i < n && ((p[i] | 0x20) == 'n' || (p[i] | 0x20) == 'i');
}

/* A text value (trimmed, not null) against the candidates in `mask`. */
static void try_text(sl_infer *inf, col_state *s, const uint8_t *p, size_t n, unsigned mask)
{
    unsigned c = s->cand & mask;
    bool b;
    int64_t i64;
    double d;
    int32_t day;
    unsigned form;
    if ((c & C_BOOL) && !(n == 4 || n == 5))
        c &= ~(unsigned)C_BOOL;
    if ((c & C_BOOL) && sl_parse_bool(p, n, &b, NULL) != SL_ROW_OK)
        c &= ~(unsigned)C_BOOL;
    if ((c & C_INT) && (leading_zero(p, n) || sl_parse_i64(p, n, &i64, NULL) != SL_ROW_OK))
        c &= ~(unsigned)C_INT;
    if (c & C_DOUBLE) {
        if (leading_zero(p, n) || sl_parse_f64(p, n, SL_PARSE_SPECIALS, &d, NULL) != SL_ROW_OK)
            c &= ~(unsigned)C_DOUBLE;
        else if (!is_special(p, n))
            s->real_number = true;
    }
    if ((c & C_DATE) && sl_parse_date(p, n, &day, NULL) != SL_ROW_OK)
        c &= ~(unsigned)C_DATE;
    if (c & C_TS) {
        if (sl_parse_timestamp(p, n, inf->unit, &i64, &form, NULL) != SL_ROW_OK)
            c &= ~(unsigned)C_TS;
        else if (form & SL_TS_HAS_OFFSET)
            s->ts_offset = true;
    }
    s->cand = c;
}

static void trim(const uint8_t **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

static sl_err feed_cell(sl_infer *inf, col_state *s, const uint8_t *text, sl_cell c)
{
    const uint8_t *p = text + c.off;
    size_t n = c.len;
    const sl_coerce_opts *o = &inf->cz.o; /* trim, empty_string_null, json_source */
    switch (c.kind) {
    case SL_CELL_NESTED:
        s->seen = s->nested = true;
        s->cand = 0;
        return SL_OK;
    case SL_CELL_TEXT:
        if (c.flags & (SL_CELLF_JSON_TRUE | SL_CELLF_JSON_FALSE)) {
            s->seen = true;
            s->cand &= C_BOOL;
            return SL_OK;
        }
        if (c.flags & SL_CELLF_JSON_NUMBER) {
            s->seen = true;
            try_text(inf, s, p, n, C_INT | C_DOUBLE);
            return SL_OK;
        }
        if (o->trim)
            trim(&p, &n);
        if (sl_coerce_is_null_token(&inf->cz, p, n))
            return SL_OK;
        s->seen = true;
        try_text(inf, s, p, n, C_ALL);
        return SL_OK;
    case SL_CELL_STRING:
        if (n == 0 && o->empty_string_null)
            return SL_OK;
        if (c.flags & (SL_CELLF_CSV_ESCAPES | SL_CELLF_JSON_ESCAPES)) {
            if (n > inf->scratch_cap || !inf->scratch) {
                uint8_t *q = realloc(inf->scratch, n ? n : 1);
                if (!q)
                    return SL_NOMEM;
                inf->scratch = q;
                inf->scratch_cap = n;
            }
            size_t m = sl_coerce_unescape(&inf->cz, p, n, c.flags, inf->scratch);
            s->seen = true;
            if (m > n) {
                s->cand = 0; /* not text we can read: string */
                return SL_OK;
            }
            p = inf->scratch;
            n = m;
        }
        s->seen = true;
        if (o->trim)
            trim(&p, &n);
        try_text(inf, s, p, n, o->json_source ? (unsigned)(C_DATE | C_TS) : (unsigned)C_ALL);
        return SL_OK;
    default: /* MISSING, NULL */
        return SL_OK;
    }
}

sl_err sl_infer_feed(sl_infer *inf, const sl_rowblock *blk)
{
    if (blk->ncols > inf->ncols)
        return SL_INVALID;
    for (size_t i = 0; i < blk->ncols; i++) {
        col_state *s = &inf->st[i];
        for (size_t r = 0; r < blk->nrows; r++) {
            if (blk->row_err[r].code != SL_ROW_OK)
                continue;
            sl_err err = feed_cell(inf, s, blk->text, blk->cells[r * blk->ncols + i]);
            if (err)
                return err;
        }
    }
    return SL_OK;
}

static sl_type decide(const sl_infer *inf, const col_state *s)
{
    if (s->nested)
        return sl_type_of(SL_TYPE_JSON);
    if (!s->seen)
        return sl_type_of(SL_TYPE_STRING);
    if (s->cand & C_BOOL)
        return sl_type_of(SL_TYPE_BOOL);
    if (s->cand & C_INT)
        return sl_type_of(SL_TYPE_INT64);
    if ((s->cand & C_DOUBLE) && s->real_number)
        return sl_type_of(SL_TYPE_DOUBLE);
    if (s->cand & C_DATE)
        return sl_type_of(SL_TYPE_DATE);
    if (s->cand & C_TS)
        return sl_type_timestamp(inf->unit, s->ts_offset);
    return sl_type_of(SL_TYPE_STRING);
}

static const sl_field *pinned_field(const sl_schema *pinned, const char *name)
{
    if (!pinned)
        return NULL;
    for (size_t k = 0; k < pinned->nfields; k++)
        if (!strcmp(pinned->fields[k].name, name))
            return &pinned->fields[k];
    return NULL;
}

sl_err sl_infer_finish(const sl_infer *inf, sl_schema **out)
{
    sl_schema *s;
    sl_err err = sl_schema_create(&s);
    if (err)
        return err;
    for (size_t i = 0; i < inf->ncols && !err; i++) {
        const sl_field *pf = pinned_field(inf->pinned, inf->names[i]);
        if (pf)
            err = sl_schema_add(s, inf->names[i], pf->type, pf->nullable);
        else
            err = sl_schema_add(s, inf->names[i], decide(inf, &inf->st[i]), true);
    }
    if (inf->pinned)
        for (size_t k = 0; k < inf->pinned->nfields && !err; k++) {
            const sl_field *pf = &inf->pinned->fields[k];
            if (!name_used(inf->names, inf->ncols, pf->name))
                err = sl_schema_add(s, pf->name, pf->type, pf->nullable);
        }
    if (err) {
        sl_schema_destroy(s);
        return err;
    }
    *out = s;
    return SL_OK;
}

sl_err sl_infer_schema(const sl_rowblock *const *blocks, size_t nblocks, const char *const *names,
                       size_t ncols, const sl_infer_opts *opts, sl_schema **out)
{
    sl_infer *inf;
    sl_err err = sl_infer_create(names, ncols, opts, &inf);
    if (err)
        return err;
    for (size_t b = 0; b < nblocks && !err; b++)
        err = sl_infer_feed(inf, blocks[b]);
    if (!err)
        err = sl_infer_finish(inf, out);
    sl_infer_destroy(inf);
    return err;
}
