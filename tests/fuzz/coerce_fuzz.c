/* coerce_fuzz.c: libFuzzer target for src/parse/coerce.c.
 *
 * Input: byte 0 picks options (decimal precision/scale, timestamp unit, cell kind and flags,
 * json_source, trim), the rest is text. Every parser runs on the text and every column type
 * gets it as a cell (and, split at '\n', as a strided run of cells with some rows marked bad).
 * Properties (any violation aborts with a description):
 *   - nothing crashes, reads out of bounds, leaks or hits undefined behaviour;
 *   - round trips where a canonical form exists: int64 -> "%lld" -> same value; a date ->
 *     sl_format_date -> the same text; a timestamp -> sl_format_timestamp -> the same value;
 *     a decimal -> sl_format_decimal -> the same value;
 *   - doubles and floats the parser accepts are bit-identical to glibc strtod/strtof (and a
 *     RANGE is an overflow there too); integers agree with strtoll on plain digit strings;
 *   - sl_utf8_check agrees with a slow reference decoder;
 *   - sl_coerce_column appends exactly one row per cell, keeps offsets monotone, null_count
 *     equal to the invalid slots, and a cell's value equals what the scalar parser gives for
 *     the same (trimmed) text, also through the column loop's two-load integer path (the
 *     text placed after 24 digits it must mask off).
 *
 * Build and run: see tests/fuzz/README.md. Seeds: tests/fuzz/corpus/coerce/.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/coerce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what, const uint8_t *p, size_t n)
{
    if (ok)
        return;
    fprintf(stderr, "coerce_fuzz: %s on '%.*s'\n", what, (int)(n > 200 ? 200 : n), (const char *)p);
    abort();
}

/* Reference UTF-8 check: decode each sequence fully and test the code point. */
static size_t ref_utf8(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i < len)
            return i;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
            return i;
        i += len;
    }
    return n;
}

static bool plain_int(const uint8_t *p, size_t n)
{
    size_t i = n && (p[0] == '-' || p[0] == '+');
    if (i == n)
        return false;
    for (; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static void scalars(const uint8_t *p, size_t n, unsigned sel)
{
    char *z = malloc(n + 1); /* NUL-terminated copy for libc */
    if (!z)
        return;
    memcpy(z, p, n);
    z[n] = 0;
    bool has_nul = memchr(p, 0, n) != NULL;
    const char *why;

    int64_t i64;
    sl_row_code rc = sl_parse_i64(p, n, &i64, &why);
    if (rc == SL_ROW_OK) {
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%lld", (long long)i64);
        int64_t back;
        check(sl_parse_i64((const uint8_t *)buf, (size_t)len, &back, NULL) == SL_ROW_OK &&
                  back == i64,
              "int64 round trip", p, n);
        int64_t ex;
        check(sl_parse_i64_exact(p, n, &ex, NULL) == SL_ROW_OK && ex == i64, "exact != i64", p, n);
        int32_t i32;
        sl_row_code r32 = sl_parse_i32(p, n, &i32, NULL);
        check(r32 == (i64 >= INT32_MIN && i64 <= INT32_MAX ? SL_ROW_OK : SL_ROW_RANGE) &&
                  (r32 != SL_ROW_OK || i32 == i64),
              "int32 vs int64", p, n);
    }
    if (plain_int(p, n)) {
        errno = 0;
        long long v = strtoll(z, NULL, 10);
        bool over = errno == ERANGE;
        check(over ? rc == SL_ROW_RANGE : rc == SL_ROW_OK && v == i64, "int64 vs strtoll", p, n);
    } else {
        check(rc == SL_ROW_TYPE, "int64 accepts a non-integer", p, n);
    }
    rc = sl_parse_i64_exact(p, n, &i64, &why);
    check(rc == SL_ROW_OK || rc == SL_ROW_TYPE || rc == SL_ROW_RANGE, "exact code", p, n);

    double d = 0;
    rc = sl_parse_f64(p, n, sel & 1 ? SL_PARSE_SPECIALS : 0, &d, &why);
    if (rc != SL_ROW_TYPE && !has_nul && !isnan(d)) {
        char *end;
        double want = strtod(z, &end);
        check(end == z + n, "strtod stops early on accepted text", p, n);
        if (rc == SL_ROW_RANGE)
            check(isinf(want), "RANGE but strtod is finite", p, n);
        else if (!(isinf(d) && (sel & 1)))
            check(memcmp(&d, &want, 8) == 0, "double differs from strtod", p, n);
    }
    float f = 0;
    rc = sl_parse_f32(p, n, sel & 1 ? SL_PARSE_SPECIALS : 0, &f, &why);
    if (rc != SL_ROW_TYPE && !has_nul && !isnan(f)) {
        char *end;
        float want = strtof(z, &end);
        check(end == z + n, "strtof stops early on accepted text", p, n);
        if (rc == SL_ROW_RANGE)
            check(isinf(want), "RANGE but strtof is finite", p, n);
        else if (!(isinf(f) && (sel & 1)))
            check(memcmp(&f, &want, 4) == 0, "float differs from strtof", p, n);
    }

    bool b;
    (void)sl_parse_bool(p, n, &b, &why);

    int32_t day;
    if (sl_parse_date(p, n, &day, &why) == SL_ROW_OK) {
        char buf[SL_DATE_TEXT_MAX];
        size_t len = sl_format_date(day, buf);
        check(len == n && !memcmp(buf, p, n), "date does not format back to itself", p, n);
    }

    for (int unit = 0; unit < 3; unit++) {
        int64_t ts;
        unsigned form;
        if (sl_parse_timestamp(p, n, (sl_time_unit)unit, &ts, &form, &why) != SL_ROW_OK)
            continue;
        char buf[SL_TIMESTAMP_TEXT_MAX];
        size_t len = sl_format_timestamp(ts, (sl_time_unit)unit, sel & 2, buf);
        int64_t back;
        if (sl_parse_timestamp((const uint8_t *)buf, len, (sl_time_unit)unit, &back, NULL, NULL) ==
            SL_ROW_OK)
            check(back == ts, "timestamp round trip", p, n);
        else /* only years outside 0001..9999 (moved there by an offset) may not */
            check(!memcmp(buf, "0000-", 5) || buf[4] != '-', "timestamp does not format back", p,
                  n);
    }

    unsigned prec = 1 + (sel >> 2) % 38, scale = (sel >> 3) % (prec + 1);
    __int128 dec;
    if (sl_parse_decimal(p, n, prec, scale, &dec, &why) == SL_ROW_OK) {
        char buf[SL_DECIMAL_TEXT_MAX];
        size_t len = sl_format_decimal(dec, scale, buf);
        __int128 back;
        check(sl_parse_decimal((const uint8_t *)buf, len, prec, scale, &back, NULL) == SL_ROW_OK &&
                  back == dec,
              "decimal round trip", p, n);
    }

    check(sl_utf8_check(p, n) == ref_utf8(p, n), "utf8 check differs from the reference", p, n);
    size_t at = 0;
    if (!sl_json_check(p, n, &at, &why))
        check(at <= n && why && *why, "json check error position", p, n);
    free(z);
}

static sl_schema *schema;

static const sl_type_id type_ids[] = {
    SL_TYPE_BOOL,   SL_TYPE_INT32, SL_TYPE_INT64, SL_TYPE_FLOAT,     SL_TYPE_DOUBLE, SL_TYPE_STRING,
    SL_TYPE_BINARY, SL_TYPE_JSON,  SL_TYPE_DATE,  SL_TYPE_TIMESTAMP, SL_TYPE_DECIMAL};
#define NTYPES (sizeof(type_ids) / sizeof(type_ids[0]))

static void check_column(const sl_column *c, size_t len0, size_t rows, const uint8_t *p, size_t n)
{
    check(c->len == len0 + rows, "column length", p, n);
    size_t nulls = 0;
    for (size_t r = 0; r < c->len; r++) {
        if (c->nullable)
            nulls += !c->valid[r];
        if (!c->width)
            check(c->offsets[r] <= c->offsets[r + 1], "offsets not monotone", p, n);
    }
    check(nulls == c->null_count, "null_count", p, n);
    if (!c->width)
        check(c->offsets[c->len] == c->bytes_len, "bytes_len", p, n);
}

static void cells(const uint8_t *p, size_t n, unsigned sel)
{
    if (!schema) {
        if (sl_schema_create(&schema))
            abort();
        for (size_t i = 0; i < NTYPES; i++) {
            char name[8];
            snprintf(name, sizeof(name), "c%zu", i);
            sl_type t = sl_type_of(type_ids[i]);
            if (type_ids[i] == SL_TYPE_TIMESTAMP)
                t = sl_type_timestamp((sl_time_unit)(i % 3), true);
            if (type_ids[i] == SL_TYPE_DECIMAL)
                t = sl_type_decimal(20, 3);
            if (sl_schema_add(schema, name, t, true))
                abort();
        }
    }
    sl_coerce_opts o;
    sl_coerce_opts_default(&o);
    o.json_source = sel & 4;
    o.trim = !(sel & 8);
    o.empty_string_null = !(sel & 16);
    sl_coerce cz;
    if (sl_coerce_init(&cz, &o))
        abort();
    static const uint8_t kinds[] = {SL_CELL_TEXT, SL_CELL_STRING, SL_CELL_NESTED, SL_CELL_NULL,
                                    SL_CELL_MISSING};
    uint8_t kind = kinds[(sel >> 5) % 5];
    uint8_t flags = 0;
    if (kind == SL_CELL_TEXT && (sel & 0x80))
        flags = SL_CELLF_JSON_NUMBER;
    if (kind == SL_CELL_STRING && (sel & 0x80))
        flags = sel & 1 ? SL_CELLF_JSON_ESCAPES : SL_CELLF_CSV_ESCAPES;
    if (n > UINT32_MAX)
        return;

    /* one cell into every type, nullable and not */
    sl_cell one = {0, (uint32_t)n, kind, flags, 0};
    for (int nullable = 0; nullable < 2; nullable++) {
        for (size_t i = 0; i < NTYPES; i++) {
            sl_column col;
            memset(&col, 0, sizeof(col));
            col.type = schema->fields[i].type;
            col.nullable = nullable;
            col.width = (uint8_t)sl_type_width(col.type);
            sl_row_code code;
            char detail[SL_COERCE_DETAIL_MAX];
            sl_err err = sl_coerce_append(&cz, &col, p, &one, &code, detail, sizeof(detail));
            if (err) {
                fprintf(stderr, "coerce_fuzz: sl_coerce_append: %s (type %zu)\n", sl_strerror(err),
                        i);
                abort();
            }
            check_column(&col, 0, code == SL_ROW_OK, p, n);
            check(code == SL_ROW_OK ? detail[0] == 0 : detail[0] != 0, "detail", p, n);
            if (code == SL_ROW_OK && kind == SL_CELL_TEXT && !flags &&
                col.type.id == SL_TYPE_INT64 && !(nullable && !col.valid[0])) {
                /* the cell's value is the parser's on the trimmed text */
                const uint8_t *q = p;
                size_t m = n;
                while (o.trim && m && (*q == ' ' || *q == '\t'))
                    q++, m--;
                while (o.trim && m && (q[m - 1] == ' ' || q[m - 1] == '\t'))
                    m--;
                int64_t want, got;
                check(sl_parse_i64(q, m, &want, NULL) == SL_ROW_OK, "cell ok, parser not", p, n);
                memcpy(&got, col.data, 8);
                check(got == want, "cell value differs from the parser", p, n);
            }
            if (code == SL_ROW_OK && col.type.id == SL_TYPE_STRING && col.len &&
                !(nullable && !col.valid[0]))
                check(sl_utf8_check(col.bytes, col.bytes_len) == col.bytes_len,
                      "string column holds invalid UTF-8", p, n);
            if (code == SL_ROW_OK && col.type.id == SL_TYPE_JSON && !o.json_source &&
                kind != SL_CELL_NESTED && !(flags & SL_CELLF_JSON_NUMBER) && col.len &&
                !(nullable && !col.valid[0]))
                check(sl_json_check(col.bytes, col.bytes_len, NULL, NULL),
                      "json column holds invalid JSON", p, n);
            free(col.valid);
            free(col.data);
            free(col.offsets);
            free(col.bytes);
        }
    }

    /* the text 24 bytes into a buffer of digits, as TEXT: the column loop's two-load integer
     * path (it reads up to 16 bytes before the value's end) must agree with the parsers */
    uint8_t *padded = malloc(n + 24);
    if (padded) {
        memset(padded, '7', 24);
        memcpy(padded + 24, p, n);
        const uint8_t *q = p;
        size_t m = n;
        while (o.trim && m && (*q == ' ' || *q == '\t'))
            q++, m--;
        while (o.trim && m && (q[m - 1] == ' ' || q[m - 1] == '\t'))
            m--;
        sl_cell c2 = {24, (uint32_t)n, SL_CELL_TEXT, 0, 0};
        for (int w = 0; w < 2; w++) {
            sl_column col;
            memset(&col, 0, sizeof(col));
            col.type = sl_type_of(w ? SL_TYPE_INT32 : SL_TYPE_INT64);
            col.width = (uint8_t)sl_type_width(col.type);
            sl_row_code code, want;
            if (sl_coerce_append(&cz, &col, padded, &c2, &code, NULL, 0))
                abort();
            int64_t v64 = 0;
            int32_t v32 = 0;
            want = w ? sl_parse_i32(q, m, &v32, NULL) : sl_parse_i64(q, m, &v64, NULL);
            if (sl_coerce_is_null_token(&cz, q, m))
                want = SL_ROW_NULL_VALUE;
            check(code == want, "integer column code differs from the parser", p, n);
            if (code == SL_ROW_OK) {
                int64_t got = 0;
                if (w) {
                    int32_t g;
                    memcpy(&g, col.data, 4);
                    got = g;
                    v64 = v32;
                } else {
                    memcpy(&got, col.data, 8);
                }
                check(got == v64, "integer column value differs from the parser", p, n);
            }
            free(col.data);
        }
        free(padded);
    }

    /* lines as a strided run of cells (two cells per row, the second one used) */
    size_t rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += p[i] == '\n';
    rows++;
    if (rows > 4096)
        return;
    sl_cell *cv = calloc(rows * 2, sizeof(*cv));
    uint8_t *bad = calloc(rows, 1);
    if (!cv || !bad) {
        free(cv);
        free(bad);
        return;
    }
    size_t start = 0, r = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '\n')
            continue;
        uint8_t k = kinds[(start + sel) % 3]; /* TEXT, STRING, NESTED */
        cv[r * 2 + 1] = (sl_cell){(uint32_t)start, (uint32_t)(i - start), k, 0, 0};
        bad[r] = (start * 7 + sel) % 11 == 0;
        r++;
        start = i + 1;
    }
    for (size_t i = 0; i < NTYPES; i++) {
        sl_column col;
        memset(&col, 0, sizeof(col));
        col.type = schema->fields[i].type;
        col.nullable = sel & 1;
        col.width = (uint8_t)sl_type_width(col.type);
        uint8_t *b = malloc(rows);
        if (!b)
            break;
        memcpy(b, bad, rows);
        if (sl_coerce_column(&cz, &col, p, cv + 1, 2, rows, b, NULL, NULL))
            abort();
        check_column(&col, 0, rows, p, n);
        for (size_t k = 0; k < rows; k++)
            check(!bad[k] || b[k] == 1, "bad row changed", p, n);
        if (sl_coerce_missing(&col, rows, b, NULL, NULL))
            abort();
        check_column(&col, 0, 2 * rows, p, n);
        free(b);
        free(col.valid);
        free(col.data);
        free(col.offsets);
        free(col.bytes);
    }
    free(cv);
    free(bad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    scalars(data + 1, size - 1, sel);
    cells(data + 1, size - 1, sel);
    return 0;
}
