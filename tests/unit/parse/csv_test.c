/* csv_test.c: unit tests for the CSV parser (src/parse/csv.c, csv_simd.c).
 *
 * Results are compared as text: a run prints the header ("H:a|b", or "H#3" for header = false)
 * and one line per row: "<line>:<cells>" with cells joined by '|' (TEXT as is, STRING in
 * quotes with '*' when flagged CSV_ESCAPES, MISSING as '~'; bytes outside printable ASCII as
 * \n, \r, \xNN), then " !CODE@line:column(detail)" for a rejected row.
 *
 * Every table case must give its expected text with the input fed whole, split in two at every
 * position, fed one byte at a time, with blocks of 1 and of 64 rows, and with every kernel this
 * CPU has. Property tests: the kernels agree with the scalar parser and sl_csv_split agrees
 * with the scalar scanner on random inputs; parsing the pieces that split() cuts gives the
 * rows of the whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse/csv.h"
#include "parse/csv_internal.h"
#include "util/buf.h"

/* ---- harness ------------------------------------------------------------------------------ */

typedef struct {
    sl_csv_opts o;
    const size_t *cuts; /* feed boundaries, ascending; NULL: use chunk */
    size_t ncuts;
    size_t chunk;        /* bytes per feed; 0 = all at once */
    size_t cap_rows;     /* rows per block; 0 = 64 */
    size_t ncols;        /* 0 = from sl_csv_header() */
    bool raw;            /* print each row's raw record as {..} */
    bool no_header_call; /* let next() consume the header (ncols must be set) */
} run_cfg;

static void put_bytes(sl_buf *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        sl_err err;
        if (c == '\n')
            err = sl_buf_puts(o, "\\n");
        else if (c == '\r')
            err = sl_buf_puts(o, "\\r");
        else if (c == '\\')
            err = sl_buf_puts(o, "\\\\");
        else if (c < 0x20 || c >= 0x7f)
            err = sl_buf_printf(o, "\\x%02X", c);
        else
            err = sl_buf_putc(o, c);
        assert_int_equal(err, SL_OK);
    }
}

static void put_cell(sl_buf *o, const uint8_t *text, const sl_cell *c)
{
    switch (c->kind) {
    case SL_CELL_MISSING:
        assert_int_equal(sl_buf_putc(o, '~'), SL_OK);
        break;
    case SL_CELL_TEXT:
        assert_int_equal(c->flags, 0);
        put_bytes(o, text + c->off, c->len);
        break;
    case SL_CELL_STRING:
        assert_int_equal(sl_buf_putc(o, '"'), SL_OK);
        put_bytes(o, text + c->off, c->len);
        assert_int_equal(sl_buf_putc(o, '"'), SL_OK);
        if (c->flags & SL_CELLF_CSV_ESCAPES)
            assert_int_equal(sl_buf_putc(o, '*'), SL_OK);
        break;
    default:
        fail_msg("unexpected cell kind %d", c->kind);
    }
}

static void put_rows(sl_buf *o, const sl_rowblock *b, bool raw)
{
    size_t nbad = 0;
    for (size_t r = 0; r < b->nrows; r++) {
        assert_int_equal(sl_buf_printf(o, "%llu:", (unsigned long long)b->line[r]), SL_OK);
        for (size_t i = 0; i < b->ncols; i++) {
            if (i)
                assert_int_equal(sl_buf_putc(o, '|'), SL_OK);
            put_cell(o, b->text, &b->cells[r * b->ncols + i]);
        }
        const sl_row_err *e = &b->row_err[r];
        if (e->code != SL_ROW_OK) {
            nbad++;
            assert_int_equal(sl_buf_printf(o, " !%s@%llu:%u(%s)", sl_row_code_name(e->code),
                                           (unsigned long long)e->line, e->column, e->detail),
                             SL_OK);
        }
        if (raw) {
            assert_true((size_t)b->rec_off[r] + b->rec_len[r] <= b->text_len);
            assert_int_equal(sl_buf_puts(o, " {"), SL_OK);
            put_bytes(o, b->text + b->rec_off[r], b->rec_len[r]);
            assert_int_equal(sl_buf_putc(o, '}'), SL_OK);
        }
        assert_int_equal(sl_buf_putc(o, '\n'), SL_OK);
    }
    assert_int_equal(nbad, b->nbad);
}

typedef struct {
    sl_csv *p;
    const run_cfg *cfg;
    sl_rowblock b;
    bool have_block;
    bool failed;
    sl_buf out;
} run_state;

static void drain(run_state *s, bool eof)
{
    if (s->failed)
        return;
    if (!s->have_block) {
        size_t nf = s->cfg->ncols;
        if (!s->cfg->no_header_call) {
            const sl_cell *names;
            const uint8_t *text;
            sl_err err = sl_csv_header(s->p, &nf, &names, &text);
            if (err == SL_RETRY) {
                assert_false(eof);
                return;
            }
            if (err) {
                assert_int_equal(err, SL_FORMAT);
                assert_int_equal(sl_buf_printf(&s->out, "E:%s\n", sl_csv_errmsg(s->p)), SL_OK);
                s->failed = true;
                return;
            }
            if (names) {
                assert_int_equal(sl_buf_puts(&s->out, "H:"), SL_OK);
                for (size_t i = 0; i < nf; i++) {
                    if (i)
                        assert_int_equal(sl_buf_putc(&s->out, '|'), SL_OK);
                    put_cell(&s->out, text, &names[i]);
                }
                assert_int_equal(sl_buf_putc(&s->out, '\n'), SL_OK);
            } else {
                assert_int_equal(sl_buf_printf(&s->out, "H#%zu\n", nf), SL_OK);
            }
            if (s->cfg->ncols)
                nf = s->cfg->ncols;
        }
        size_t cap = s->cfg->cap_rows ? s->cfg->cap_rows : 64;
        assert_int_equal(sl_rowblock_init(&s->b, nf, cap), SL_OK);
        s->have_block = true;
    }
    for (;;) {
        sl_rowblock_clear(&s->b);
        sl_err err = sl_csv_next(s->p, eof, &s->b);
        if (err) {
            assert_int_equal(err, SL_FORMAT);
            assert_int_equal(sl_buf_printf(&s->out, "E:%s\n", sl_csv_errmsg(s->p)), SL_OK);
            s->failed = true;
            return;
        }
        if (!s->b.nrows)
            return;
        put_rows(&s->out, &s->b, s->cfg->raw);
    }
}

/* Parses in with cfg; returns the printed result (free it). */
static char *run(const run_cfg *cfg, const void *in, size_t n)
{
    const uint8_t *bytes = in;
    run_state s = {.cfg = cfg};
    sl_buf_init(&s.out, 0);
    assert_int_equal(sl_csv_create(&cfg->o, &s.p), SL_OK);
    size_t at = 0;
    if (cfg->cuts) {
        for (size_t i = 0; i <= cfg->ncuts; i++) {
            size_t to = i < cfg->ncuts ? cfg->cuts[i] : n;
            assert_int_equal(sl_csv_feed(s.p, bytes + at, to - at), SL_OK);
            at = to;
            drain(&s, false);
        }
    } else {
        size_t chunk = cfg->chunk ? cfg->chunk : (n ? n : 1);
        while (at < n) {
            size_t k = n - at < chunk ? n - at : chunk;
            assert_int_equal(sl_csv_feed(s.p, bytes + at, k), SL_OK);
            at += k;
            drain(&s, false);
        }
    }
    sl_csv_end_input(s.p);
    assert_int_equal(sl_csv_feed(s.p, "x", 1), SL_STATE);
    drain(&s, true);
    if (s.have_block) {
        /* done means done */
        sl_rowblock_clear(&s.b);
        if (!s.failed) {
            assert_int_equal(sl_csv_next(s.p, true, &s.b), SL_OK);
            assert_int_equal(s.b.nrows, 0);
        }
        sl_rowblock_release(&s.b);
    }
    sl_csv_destroy(s.p);
    assert_int_equal(sl_buf_putc(&s.out, 0), SL_OK);
    return (char *)sl_buf_take(&s.out, NULL);
}

static const sl_csv_simd ALL_SIMD[] = {SL_CSV_SIMD_SCALAR, SL_CSV_SIMD_SSE2, SL_CSV_SIMD_AVX2};
#define NSIMD (sizeof(ALL_SIMD) / sizeof(ALL_SIMD[0]))

static void expect_same(const char *what, const char *got, const char *want, const void *in,
                        size_t n)
{
    if (strcmp(got, want) == 0)
        return;
    sl_buf b;
    sl_buf_init(&b, 0);
    put_bytes(&b, in, n);
    assert_int_equal(sl_buf_putc(&b, 0), SL_OK);
    print_error("%s\ninput: %s\n--- want\n%s--- got\n%s", what, (char *)b.ptr, want, got);
    sl_buf_release(&b);
    fail();
}

/* Runs every chunking, block size and kernel; all must print `want`. */
static void check_all_ways(const run_cfg *base, const void *in, size_t n, const char *want)
{
    char what[160];
    for (size_t k = 0; k < NSIMD; k++) {
        if (!sl_csv_simd_supported(ALL_SIMD[k]))
            continue;
        for (size_t cap = 1; cap <= 64; cap += 63) {
            run_cfg cfg = *base;
            cfg.o.simd = ALL_SIMD[k];
            cfg.cap_rows = cap;
            char *got = run(&cfg, in, n);
            snprintf(what, sizeof(what), "whole, %s, cap %zu", sl_csv_simd_name(ALL_SIMD[k]), cap);
            expect_same(what, got, want, in, n);
            free(got);
            cfg.chunk = 1;
            got = run(&cfg, in, n);
            snprintf(what, sizeof(what), "1-byte chunks, %s, cap %zu",
                     sl_csv_simd_name(ALL_SIMD[k]), cap);
            expect_same(what, got, want, in, n);
            free(got);
            cfg.chunk = 0;
            for (size_t cut = 0; cut <= n; cut++) {
                cfg.cuts = &cut;
                cfg.ncuts = 1;
                got = run(&cfg, in, n);
                snprintf(what, sizeof(what), "split at %zu, %s, cap %zu", cut,
                         sl_csv_simd_name(ALL_SIMD[k]), cap);
                expect_same(what, got, want, in, n);
                free(got);
            }
        }
    }
}

/* ---- table ------------------------------------------------------------------------------- */

enum { NOHDR = 1, TAB = 2, SEMI = 4, NOQUOTE = 8, BSLASH = 16, SMALL = 32, PIPE = 64 };

typedef struct {
    const char *name;
    unsigned mode;
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *want;
} csv_case;

/* clang-format off */
static const csv_case cases[] = {
    /* RFC 4180 section 2 */
    {"rfc 2.1 crlf", NOHDR, "aaa,bbb,ccc\r\nzzz,yyy,xxx\r\n", 0,
     "H#3\n1:aaa|bbb|ccc\n2:zzz|yyy|xxx\n"},
    {"rfc 2.2 no final crlf", NOHDR, "aaa,bbb,ccc\r\nzzz,yyy,xxx", 0,
     "H#3\n1:aaa|bbb|ccc\n2:zzz|yyy|xxx\n"},
    {"rfc 2.3 header", 0, "field_name,field_name,field_name\r\naaa,bbb,ccc\r\nzzz,yyy,xxx\r\n", 0,
     "H:field_name|field_name|field_name\n2:aaa|bbb|ccc\n3:zzz|yyy|xxx\n"},
    {"rfc 2.4 spaces are data", NOHDR, " a , b ,c \n", 0, "H#3\n1: a | b |c \n"},
    {"rfc 2.5 quoted", NOHDR, "\"aaa\",\"bbb\",\"ccc\"\r\nzzz,yyy,xxx", 0,
     "H#3\n1:\"aaa\"|\"bbb\"|\"ccc\"\n2:zzz|yyy|xxx\n"},
    {"rfc 2.6 quoted crlf and comma", NOHDR, "\"aaa\",\"b\r\nbb\",\"c,cc\"\r\nzzz,yyy,xxx", 0,
     "H#3\n1:\"aaa\"|\"b\\r\\nbb\"|\"c,cc\"\n3:zzz|yyy|xxx\n"},
    {"rfc 2.7 doubled quote", NOHDR, "\"aaa\",\"b\"\"bb\",\"ccc\"", 0,
     "H#3\n1:\"aaa\"|\"b\"\"bb\"*|\"ccc\"\n"},
    {"quoted header", 0, "\"a,1\",\"b\"\"2\",c\n1,2,3\n", 0,
     "H:\"a,1\"|\"b\"\"2\"*|c\n2:1|2|3\n"},
    {"only quotes", NOHDR, "\"\"\"\",\"\"\"\"\"\"\"\",\"\"\n", 0,
     "H#3\n1:\"\"\"\"*|\"\"\"\"\"\"\"\"*|\"\"\n"},
    /* line endings */
    {"lf", NOHDR, "a,b\nc,d\n", 0, "H#2\n1:a|b\n2:c|d\n"},
    {"mixed crlf lf", NOHDR, "a,b\r\nc,d\ne,f\r\n", 0, "H#2\n1:a|b\n2:c|d\n3:e|f\n"},
    {"quoted field before crlf", NOHDR, "\"a\",\"b\"\r\n\"c\",\"d\"\r\n", 0,
     "H#2\n1:\"a\"|\"b\"\n2:\"c\"|\"d\"\n"},
    {"lone cr is data", NOHDR, "a\rb,c\n", 0, "H#2\n1:a\\rb|c\n"},
    {"cr before crlf", NOHDR, "a,b\r\r\n", 0, "H#2\n1:a|b\\r\n"},
    {"cr-only file is one record", NOHDR, "a,b\rc,d\r", 0,
     "H#3\n1:a|b\\rc|d\n"},
    {"final cr at eof dropped", NOHDR, "a,b\nc,d\r", 0, "H#2\n1:a|b\n2:c|d\n"},
    {"final cr after quote at eof", NOHDR, "a,\"b\"\r", 0, "H#2\n1:a|\"b\"\n"},
    {"truncated last line", 0, "h1,h2\n1,2\n3,4", 0, "H:h1|h2\n2:1|2\n3:3|4\n"},
    {"truncated last line quoted", 0, "h1,h2\n1,2\n3,\"4\"", 0, "H:h1|h2\n2:1|2\n3:3|\"4\"\n"},
    /* BOM */
    {"bom", 0, "\xEF\xBB\xBF" "a,b\n1,2\n", 0, "H:a|b\n2:1|2\n"},
    {"bom quoted header", 0, "\xEF\xBB\xBF\"a\",b\n1,2\n", 0, "H:\"a\"|b\n2:1|2\n"},
    {"bom no header", NOHDR, "\xEF\xBB\xBF" "1,2\n", 0, "H#2\n1:1|2\n"},
    {"bom only", 0, "\xEF\xBB\xBF", 0, "H#0\n"},
    {"bom not at start is data", NOHDR, "1,2\n\xEF\xBB\xBF,x\n", 0,
     "H#2\n1:1|2\n2:\\xEF\\xBB\\xBF|x\n"},
    {"bom prefix only", NOHDR, "\xEF\xBB,x\n", 0,
     "H#2\n1:\\xEF\\xBB|x !utf8@1:1(invalid UTF-8 at byte 0 of field 1)\n"},
    /* delimiters, quoting modes */
    {"tab", TAB, "a\tb\n\"x\ty\"\t2\n", 0, "H:a|b\n2:\"x\\x09y\"|2\n"},
    {"semicolon", SEMI, "a;b\n1,5;\"2;3\"\n", 0, "H:a|b\n2:1,5|\"2;3\"\n"},
    {"pipe", PIPE, "a|b\n1|2\n", 0, "H:a|b\n2:1|2\n"},
    {"no quoting", NOHDR | NOQUOTE, "a\"b,\"c\"\n\"x,y\n", 0,
     "H#2\n1:a\"b|\"c\"\n2:\"x|y\n"},
    {"backslash escapes", NOHDR | BSLASH, "\"a\\\"b\",\"c\\\\d\",\"e\\,f\"\n", 0,
     "H#3\n1:\"a\\\\\"b\"*|\"c\\\\\\\\d\"*|\"e\\\\,f\"*\n"},
    {"backslash escaped newline", NOHDR | BSLASH, "\"a\\\nb\",c\nd,e\n", 0,
     "H#2\n1:\"a\\\\\\nb\"*|c\n3:d|e\n"},
    {"backslash mode keeps doubled quotes", NOHDR | BSLASH, "\"a\"\"b\",c\n", 0,
     "H#2\n1:\"a\"\"b\"*|c\n"},
    {"backslash outside quotes is data", NOHDR | BSLASH, "a\\,b\n", 0, "H#2\n1:a\\\\|b\n"},
    {"backslash before closing quote", NOHDR | BSLASH, "\"a\\\",b\n", 0,
     "H#1\n1:\"a\\\\\",b\\n !unterminated@1:1(quote opened at line 1 in field 1 is not "
     "closed)\n"},
    /* empty fields and lines */
    {"empty fields", NOHDR, ",,\n\"\",,\"\"\n", 0, "H#3\n1:||\n2:\"\"||\"\"\n"},
    {"empty lines skipped", 0, "\n\r\na,b\n\n1,2\r\n\r\n\n3,4\n\n", 0,
     "H:a|b\n5:1|2\n8:3|4\n"},
    {"empty lines one column", 0, "\n\nx\n1\n\n2\r\n\r\n", 0,
     "H:x\n4:1\n5:\n6:2\n7:\n"},
    {"one column quoted empty", 0, "x\n\"\"\n\n", 0, "H:x\n2:\"\"\n3:\n"},
    {"empty input", 0, "", 0, "H#0\n"},
    {"only empty lines", 0, "\n\r\n\n", 0, "H#0\n"},
    {"header only", 0, "a,b\n", 0, "H:a|b\n"},
    {"header only no newline", 0, "a,b", 0, "H:a|b\n"},
    {"whitespace line is a record", NOHDR, "a,b\n \n", 0,
     "H#2\n1:a|b\n2: |~ !ragged@2:1(expected 2 fields, got 1)\n"},
    /* ragged */
    {"ragged fewer", 0, "a,b,c\n1,2\n3,4,5\n", 0,
     "H:a|b|c\n2:1|2|~ !ragged@2:2(expected 3 fields, got 2)\n3:3|4|5\n"},
    {"ragged more", 0, "a,b\n1,2,3,4\n5,6\n", 0,
     "H:a|b\n2:1|2 !ragged@2:4(expected 2 fields, got 4)\n3:5|6\n"},
    {"ragged empty field at end", 0, "a,b\n1,\n1,2,\n", 0,
     "H:a|b\n2:1|\n3:1|2 !ragged@3:3(expected 2 fields, got 3)\n"},
    /* UTF-8 */
    {"valid utf8", NOHDR, "caf\xC3\xA9,\xE2\x82\xAC,\xF0\x9F\x98\x80,\"\xC3\xA9\"\n", 0,
     "H#4\n1:caf\\xC3\\xA9|\\xE2\\x82\\xAC|\\xF0\\x9F\\x98\\x80|\"\\xC3\\xA9\"\n"},
    {"overlong 2-byte", NOHDR, "a,\xC0\xAF\nb,c\n", 0,
     "H#2\n1:a|\\xC0\\xAF !utf8@1:2(invalid UTF-8 at byte 0 of field 2)\n2:b|c\n"},
    {"overlong 3-byte", NOHDR, "x\xE0\x80\xAF,a\n", 0,
     "H#2\n1:x\\xE0\\x80\\xAF|a !utf8@1:1(invalid UTF-8 at byte 1 of field 1)\n"},
    {"surrogate", NOHDR, "a,\"\xED\xA0\x80\"\n", 0,
     "H#2\n1:a|\"\\xED\\xA0\\x80\" !utf8@1:2(invalid UTF-8 at byte 1 of field 2)\n"},
    {"above U+10FFFF", NOHDR, "\xF4\x90\x80\x80,a\n", 0,
     "H#2\n1:\\xF4\\x90\\x80\\x80|a !utf8@1:1(invalid UTF-8 at byte 0 of field 1)\n"},
    {"truncated sequence at field end", NOHDR, "ab\xC3,\xE2\x82\n", 0,
     "H#2\n1:ab\\xC3|\\xE2\\x82 !utf8@1:1(invalid UTF-8 at byte 2 of field 1)\n"},
    {"lone continuation byte", NOHDR, "a,b\x80\n", 0,
     "H#2\n1:a|b\\x80 !utf8@1:2(invalid UTF-8 at byte 1 of field 2)\n"},
    {"invalid utf8 at eof", NOHDR, "a,b\xF0\x9F", 0,
     "H#2\n1:a|b\\xF0\\x9F !utf8@1:2(invalid UTF-8 at byte 1 of field 2)\n"},
    /* NUL */
    {"nul", NOHDR, "a,b\0c\nd,e\n", 10,
     "H#2\n1:a|b\\x00c !nul@1:2(NUL byte at byte 1 of field 2)\n2:d|e\n"},
    {"nul in quotes", NOHDR, "\"\0\",x\n", 6,
     "H#2\n1:\"\\x00\"|x !nul@1:1(NUL byte at byte 1 of field 1)\n"},
    {"nul before bad utf8", NOHDR, "\xFF\0,x\n", 5,
     "H#2\n1:\\xFF\\x00|x !nul@1:1(NUL byte at byte 1 of field 1)\n"},
    /* quotes in the wrong place */
    {"quote in unquoted field", 0, "a,b\nab\"c,d\ne,f\n", 0,
     "H:a|b\n2:ab\"c|d !syntax@2:1(unexpected quote in field 1)\n3:e|f\n"},
    {"stray quotes do not eat lines", 0, "name,height\nBob,5'2\"\nAl,6'\nEve,5'6\"\n", 0,
     "H:name|height\n2:Bob|5'2\" !syntax@2:2(unexpected quote in field 2)\n3:Al|6'\n"
     "4:Eve|5'6\" !syntax@4:2(unexpected quote in field 2)\n"},
    {"junk after closing quote", 0, "a,b\n\"ab\"c,d\ne,f\n", 0,
     "H:a|b\n2:\"ab\"c|d !syntax@2:1(unexpected character after closing quote in field 1)\n"
     "3:e|f\n"},
    {"space after closing quote", NOHDR, "x,\"ab\" \n", 0,
     "H#2\n1:x|\"ab\"  !syntax@1:2(unexpected character after closing quote in field 2)\n"},
    {"cr after closing quote", NOHDR, "\"ab\"\r,x\n", 0,
     "H#2\n1:\"ab\"\\r|x !syntax@1:1(unexpected character after closing quote in field 1)\n"},
    {"unescaped quotes inside quotes", NOHDR, "\"He said \"hi\" to me\",next\nz,z\n", 0,
     "H#2\n1:\"He said \"hi\" to me\"|next !syntax@1:1(unexpected character after closing "
     "quote in field 1)\n2:z|z\n"},
    {"junk with quotes and newline", 0, "x,y\n\"a\"b\"c\nd,e\n", 0,
     "H:x|y\n2:\"a\"b\"c|~ !syntax@2:1(unexpected character after closing quote in field 1)\n"
     "3:d|e\n"},
    {"first error wins", NOHDR, "a\"b,\"c\"d\n", 0,
     "H#2\n1:a\"b|\"c\"d !syntax@1:1(unexpected quote in field 1)\n"},
    /* unterminated */
    {"unterminated at eof", 0, "a,b\n1,\"xyz\n2,3\n", 0,
     "H:a|b\n2:1|\"xyz\\n2,3\\n !unterminated@2:2(quote opened at line 2 in field 2 is not "
     "closed)\n"},
    {"unterminated opened on a later line", NOHDR, "\"a\nb\",\"c\nd\n", 0,
     "H#2\n1:\"a\\nb\"|\"c\\nd\\n !unterminated@2:2(quote opened at line 2 in field 2 is not "
     "closed)\n"},
    {"unterminated wins over earlier error", NOHDR, "a\"b,\"c", 0,
     "H#2\n1:a\"b|\"c !unterminated@1:2(quote opened at line 1 in field 2 is not closed)\n"},
    {"lone quote at eof", NOHDR, "a,b\n\"", 0,
     "H#2\n1:a|b\n2:\"|~ !unterminated@2:1(quote opened at line 2 in field 1 is not "
     "closed)\n"},
    /* line numbers */
    {"line numbers with quoted newlines", 0, "h\n\"a\nb\nc\"\n\n\"d\r\ne\"\nf\n", 0,
     "H:h\n2:\"a\\nb\\nc\"\n5:\n6:\"d\\r\\ne\"\n8:f\n"},
    /* max_record = 16 */
    {"too long skipped", SMALL, "a,b\n1,2\n12345678,123456789\n3,4\n", 0,
     "H:a|b\n2:1|2\n3:~|~ !too_long@3:0(record of 18 bytes, more than max_record 16)\n4:3|4\n"},
    {"exactly max_record", SMALL, "a,b\n1234567,12345678\n", 0,
     "H:a|b\n2:1234567|12345678\n"},
    {"too long with quoted newlines", SMALL, "a,b\n\"1\n2\n3\n4\n5\n6\n7\n8\n\",x\n3,4\n", 0,
     "H:a|b\n2:~|~ !too_long@2:0(record of 20 bytes, more than max_record 16)\n11:3|4\n"},
    {"too long at eof", SMALL, "a,b\n1,2\n12345678,123456789", 0,
     "H:a|b\n2:1|2\n3:~|~ !too_long@3:0(record of 18 bytes, more than max_record 16)\n"},
    {"too long unterminated", SMALL, "a,b\n1,2\n3,\"45678\n123456789\n", 0,
     "H:a|b\n2:1|2\n3:~|~ !unterminated@3:2(quote opened at line 3 in field 2 is not "
     "closed)\n"},
    {"too long header", SMALL, "aaaaaaaaa,bbbbbbbbb\n1,2\n", 0,
     "E:the header at line 1 is longer than max_record (16 bytes)\n"},
    {"bad header", 0, "a,b\"c\n1,2\n", 0,
     "E:header at line 1: syntax error (unexpected quote in field 2)\n"},
    {"bad header utf8", 0, "a,\xC3\n1,2\n", 0,
     "E:header at line 1: invalid UTF-8 (invalid UTF-8 at byte 0 of field 2)\n"},
};
/* clang-format on */

static run_cfg case_cfg(const csv_case *c)
{
    run_cfg cfg = {0};
    sl_csv_opts_default(&cfg.o);
    if (c->mode & NOHDR)
        cfg.o.header = false;
    if (c->mode & TAB)
        cfg.o.delim = '\t';
    if (c->mode & SEMI)
        cfg.o.delim = ';';
    if (c->mode & PIPE)
        cfg.o.delim = '|';
    if (c->mode & NOQUOTE)
        cfg.o.quote = 0;
    if (c->mode & BSLASH)
        cfg.o.escape = '\\';
    if (c->mode & SMALL)
        cfg.o.max_record = 16;
    return cfg;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const csv_case *c = &cases[i];
        size_t n = c->len ? c->len : strlen(c->in);
        run_cfg cfg = case_cfg(c);
        print_message("case: %s\n", c->name);
        check_all_ways(&cfg, c->in, n, c->want);
    }
}

/* Raw record bytes (for rejects files) exclude the terminator. */
static void test_raw_records(void **state)
{
    (void)state;
    const char *in = "a,b\r\n1,\"x\r\ny\"\r\n2,3\n\"4\"\"\",5,6\n7,8";
    run_cfg cfg = {0};
    sl_csv_opts_default(&cfg.o);
    cfg.raw = true;
    check_all_ways(&cfg, in, strlen(in),
                   "H:a|b\n2:1|\"x\\r\\ny\" {1,\"x\\r\\ny\"}\n4:2|3 {2,3}\n"
                   "5:\"4\"\"\"*|5 !ragged@5:3(expected 2 fields, got 3) {\"4\"\"\",5,6}\n"
                   "6:7|8 {7,8}\n");
}

/* A block with a fixed column count and no header() call: next() consumes the header. */
static void test_next_consumes_header(void **state)
{
    (void)state;
    const char *in = "\xEF\xBB\xBFx,y\n1,2\n3\n";
    run_cfg cfg = {0};
    sl_csv_opts_default(&cfg.o);
    cfg.ncols = 2;
    cfg.no_header_call = true;
    check_all_ways(&cfg, in, strlen(in), "2:1|2\n3:3|~ !ragged@3:1(expected 2 fields, got 1)\n");
    /* ncols 1 from a schema: empty lines are records */
    cfg.ncols = 1;
    check_all_ways(&cfg, "x\n\n1\n", 5, "2:\n3:1\n");
}

/* ---- huge fields --------------------------------------------------------------------------- */

static void test_huge_field(void **state)
{
    (void)state;
    /* a 3 MiB quoted field with commas, doubled quotes and newlines, between two rows */
    size_t big = (size_t)3 << 20;
    sl_buf in;
    sl_buf_init(&in, 0);
    assert_int_equal(sl_buf_puts(&in, "a,b\n1,2\nx,\""), SL_OK);
    size_t start = in.len;
    for (size_t i = 0; i < big; i++) {
        char ch = "abc,\n\"\"d"[i % 8];
        assert_int_equal(sl_buf_putc(&in, (uint8_t)ch), SL_OK);
    }
    size_t stop = in.len;
    assert_int_equal(sl_buf_puts(&in, "\"\n3,4\n"), SL_OK);
    uint64_t nl_in_field = 0;
    for (size_t i = start; i < stop; i++)
        nl_in_field += in.ptr[i] == '\n';

    for (size_t k = 0; k < NSIMD; k++) {
        if (!sl_csv_simd_supported(ALL_SIMD[k]))
            continue;
        size_t chunks[] = {0, 65536, 4093};
        for (size_t j = 0; j < 3; j++) {
            run_cfg cfg = {0};
            sl_csv_opts_default(&cfg.o);
            cfg.o.simd = ALL_SIMD[k];
            cfg.chunk = chunks[j];
            char *got = run(&cfg, in.ptr, in.len);
            /* header, row 2, the big row (one cell holds 3 MiB printed), row at line 3+nl */
            char tailrow[64];
            snprintf(tailrow, sizeof(tailrow), "\n%llu:3|4\n",
                     (unsigned long long)(4 + nl_in_field));
            assert_non_null(strstr(got, "H:a|b\n2:1|2\n3:x|\"abc,\\n\"\"dabc,"));
            assert_non_null(strstr(got, tailrow));
            assert_null(strstr(got, "!"));
            free(got);
        }
    }

    /* the same with max_record 1 MiB: skipped as TOO_LONG, in any chunking */
    char want[256];
    snprintf(want, sizeof(want),
             "H:a|b\n2:1|2\n3:~|~ !too_long@3:0(record of %zu bytes, more than max_record "
             "1048576)\n%llu:3|4\n",
             stop + 1 - 8, (unsigned long long)(4 + nl_in_field));
    for (size_t k = 0; k < NSIMD; k++) {
        if (!sl_csv_simd_supported(ALL_SIMD[k]))
            continue;
        size_t chunks[] = {0, 65536, 777};
        for (size_t j = 0; j < 3; j++) {
            run_cfg cfg = {0};
            sl_csv_opts_default(&cfg.o);
            cfg.o.simd = ALL_SIMD[k];
            cfg.o.max_record = (size_t)1 << 20;
            cfg.chunk = chunks[j];
            char *got = run(&cfg, in.ptr, in.len);
            expect_same("too long", got, want, "", 0);
            free(got);
        }
    }
    sl_buf_release(&in);
}

/* A field just over 1 MiB fed one byte at a time: the tail is scanned once, not per byte. */
static void test_huge_field_bytewise(void **state)
{
    (void)state;
    size_t big = ((size_t)1 << 20) + 17;
    uint8_t *in = malloc(big + 16);
    assert_non_null(in);
    memcpy(in, "h\n\"", 3);
    memset(in + 3, 'z', big);
    memcpy(in + 3 + big, "\"\nq\n", 4);
    run_cfg cfg = {0};
    sl_csv_opts_default(&cfg.o);
    cfg.chunk = 1;
    char *got = run(&cfg, in, big + 7);
    assert_int_equal(strlen(got), 2 + 2 + 2 + big + 3 + 4);
    assert_int_equal(memcmp(got + strlen(got) - 4, "3:q\n", 4), 0);
    free(got);
    free(in);
}

/* ---- header API ---------------------------------------------------------------------------- */

static void test_header_api(void **state)
{
    (void)state;
    sl_csv_opts o;
    sl_csv *p;
    size_t nf;
    const sl_cell *names;
    const uint8_t *text;
    sl_csv_opts_default(&o);
    assert_int_equal(sl_csv_create(&o, &p), SL_OK);
    assert_int_equal(sl_csv_header(p, &nf, &names, &text), SL_RETRY);
    assert_int_equal(sl_csv_feed(p, "id,\"na", 6), SL_OK);
    assert_int_equal(sl_csv_header(p, &nf, &names, &text), SL_RETRY);
    assert_int_equal(sl_csv_feed(p, "me\"\"\"\r", 6), SL_OK);
    assert_int_equal(sl_csv_header(p, &nf, &names, &text), SL_RETRY);
    assert_int_equal(sl_csv_feed(p, "\n1,x\n", 5), SL_OK);
    assert_int_equal(sl_csv_header(p, &nf, &names, &text), SL_OK);
    assert_int_equal(nf, 2);
    assert_int_equal(names[0].kind, SL_CELL_TEXT);
    assert_memory_equal(text + names[0].off, "id", 2);
    assert_int_equal(names[1].kind, SL_CELL_STRING);
    assert_int_equal(names[1].flags, SL_CELLF_CSV_ESCAPES);
    uint8_t un[16];
    size_t n = sl_csv_unescape(&o, text + names[1].off, names[1].len, un);
    assert_int_equal(n, 5);
    assert_memory_equal(un, "name\"", 5);
    /* header text outlives later feeds */
    const uint8_t *t0 = text;
    sl_rowblock b;
    assert_int_equal(sl_rowblock_init(&b, nf, 8), SL_OK);
    assert_int_equal(sl_csv_next(p, false, &b), SL_OK);
    assert_int_equal(b.nrows, 1);
    assert_int_equal(b.line[0], 2);
    assert_int_equal(sl_csv_next(p, false, &b), SL_STATE); /* not cleared */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(sl_csv_feed(p, "2,yyyyyyyyyyyyyyyyyyyyyyyyyy\n", 29), SL_OK);
    assert_int_equal(sl_csv_header(p, &nf, &names, &text), SL_OK);
    assert_ptr_equal(text, t0);
    assert_memory_equal(text + names[0].off, "id", 2);
    size_t rows = 0;
    for (;;) {
        sl_rowblock_clear(&b);
        assert_int_equal(sl_csv_next(p, true, &b), SL_OK);
        if (!b.nrows)
            break;
        rows += b.nrows;
        assert_int_equal(b.nbad, 0);
    }
    assert_int_equal(rows, 1000);
    sl_rowblock_release(&b);
    sl_csv_destroy(p);

    /* header = false: the count of the first non-empty record; nothing consumed */
    o.header = false;
    assert_int_equal(sl_csv_create(&o, &p), SL_OK);
    assert_int_equal(sl_csv_feed(p, "\n\n1,2,3", 7), SL_OK);
    assert_int_equal(sl_csv_header(p, &nf, &names, &text), SL_RETRY);
    sl_csv_end_input(p);
    assert_int_equal(sl_csv_header(p, &nf, &names, &text), SL_OK);
    assert_int_equal(nf, 3);
    assert_null(names);
    assert_null(text);
    sl_csv_destroy(p);

    /* max_fields */
    sl_csv_opts_default(&o);
    o.max_fields = 3;
    assert_int_equal(sl_csv_create(&o, &p), SL_OK);
    assert_int_equal(sl_csv_feed(p, "a,b,c,d\n", 8), SL_OK);
    assert_int_equal(sl_csv_header(p, &nf, &names, &text), SL_FORMAT);
    assert_string_equal(sl_csv_errmsg(p),
                        "the header at line 1 has 4 fields, more than max_fields (3)");
    assert_int_equal(sl_rowblock_init(&b, 4, 8), SL_OK);
    assert_int_equal(sl_csv_next(p, true, &b), SL_FORMAT);
    sl_rowblock_release(&b);
    sl_csv_destroy(p);
    sl_csv_destroy(NULL);
}

static void test_first_line(void **state)
{
    (void)state;
    run_cfg cfg = {0};
    sl_csv_opts_default(&cfg.o);
    cfg.o.header = false;
    sl_csv *p;
    assert_int_equal(sl_csv_create(&cfg.o, &p), SL_OK);
    sl_csv_set_first_line(p, 41);
    /* inside the input a BOM is data */
    assert_int_equal(sl_csv_feed(p, "\xEF\xBB\xBF,\"\n\"\n2,3\n", 12), SL_OK);
    sl_rowblock b;
    assert_int_equal(sl_rowblock_init(&b, 2, 8), SL_OK);
    assert_int_equal(sl_csv_next(p, false, &b), SL_OK);
    assert_int_equal(b.nrows, 2);
    assert_int_equal(b.line[0], 41);
    assert_int_equal(b.cells[0].len, 3);
    assert_int_equal(b.line[1], 43);
    sl_rowblock_release(&b);
    sl_csv_destroy(p);
}

static void test_opts(void **state)
{
    (void)state;
    sl_csv_opts o;
    sl_csv *p = NULL;
    struct {
        char delim, quote, escape;
        size_t max_record, max_fields;
        sl_err want;
    } v[] = {
        {',', '"', 0, 100, 10, SL_OK},
        {'\t', 0, 0, 100, 10, SL_OK},
        {',', '\'', '\\', 100, 10, SL_OK},
        {',', '"', '"', 100, 10, SL_OK},
        {'"', '"', 0, 100, 10, SL_INVALID},
        {'\n', '"', 0, 100, 10, SL_INVALID},
        {'\r', '"', 0, 100, 10, SL_INVALID},
        {0, '"', 0, 100, 10, SL_INVALID},
        {',', '\n', 0, 100, 10, SL_INVALID},
        {',', '"', ',', 100, 10, SL_INVALID},
        {(char)0xA7, '"', 0, 100, 10, SL_INVALID},
        {',', '"', 0, 0, 10, SL_INVALID},
        {',', '"', 0, ((size_t)1 << 30) + 1, 10, SL_INVALID},
        {',', '"', 0, 100, 0, SL_INVALID},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        sl_csv_opts_default(&o);
        o.delim = v[i].delim;
        o.quote = v[i].quote;
        o.escape = v[i].escape;
        o.max_record = v[i].max_record;
        o.max_fields = v[i].max_fields;
        sl_err err = sl_csv_create(&o, &p);
        assert_int_equal(err, v[i].want);
        if (!err)
            sl_csv_destroy(p);
    }
}

static void test_unescape(void **state)
{
    (void)state;
    sl_csv_opts o;
    sl_csv_opts_default(&o);
    uint8_t out[32];
    assert_int_equal(sl_csv_unescape(&o, (const uint8_t *)"a\"\"b\"\"\"\"", 8, out), 5);
    assert_memory_equal(out, "a\"b\"\"", 5);
    o.escape = '\\';
    assert_int_equal(sl_csv_unescape(&o, (const uint8_t *)"a\\\"b\\\\c\\\nd\"\"", 12, out), 8);
    assert_memory_equal(out, "a\"b\\c\nd\"", 8);
    /* in place */
    uint8_t buf[] = "x\\\\y";
    assert_int_equal(sl_csv_unescape(&o, buf, 4, buf), 3);
    assert_memory_equal(buf, "x\\y", 3);
}

static void test_simd_choice(void **state)
{
    (void)state;
    sl_csv_opts o;
    sl_csv *p;
    sl_csv_opts_default(&o);
    assert_true(sl_csv_simd_supported(SL_CSV_SIMD_SCALAR));
    assert_string_equal(sl_csv_simd_name(SL_CSV_SIMD_AVX2), "avx2");
    setenv("SLUICE_SIMD", "scalar", 1);
    assert_int_equal(sl_csv_create(&o, &p), SL_OK);
    assert_int_equal(sl_csv_kernel(p), SL_CSV_SIMD_SCALAR);
    sl_csv_destroy(p);
    setenv("SLUICE_SIMD", "sse2", 1);
    assert_int_equal(sl_csv_create(&o, &p), SL_OK);
    assert_int_equal(sl_csv_kernel(p), sl_csv_simd_supported(SL_CSV_SIMD_SSE2)
                                           ? SL_CSV_SIMD_SSE2
                                           : SL_CSV_SIMD_SCALAR);
    sl_csv_destroy(p);
    unsetenv("SLUICE_SIMD");
    o.simd = SL_CSV_SIMD_AVX2;
    assert_int_equal(sl_csv_create(&o, &p), SL_OK);
    sl_csv_simd k = sl_csv_kernel(p);
    assert_true(k == SL_CSV_SIMD_AVX2 || !sl_csv_simd_supported(SL_CSV_SIMD_AVX2));
    sl_csv_destroy(p);
    /* escape mode is scalar */
    o.escape = '\\';
    assert_int_equal(sl_csv_create(&o, &p), SL_OK);
    assert_int_equal(sl_csv_kernel(p), SL_CSV_SIMD_SCALAR);
    sl_csv_destroy(p);
    print_message("kernels here: sse2 %d, avx2 %d\n", sl_csv_simd_supported(SL_CSV_SIMD_SSE2),
                  sl_csv_simd_supported(SL_CSV_SIMD_AVX2));
}

/* ---- random inputs ------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Random bytes biased to CSV structure: mostly well-formed quoted/unquoted fields, with some
 * noise (stray quotes, CR, NUL, UTF-8 fragments, escape characters). */
static size_t gen_input(uint8_t *out, size_t cap, bool noisy)
{
    size_t n = 0, target = rnd() % cap;
    while (n + 16 < target) {
        unsigned r = (unsigned)(rnd() % 100);
        if (r < 40) {
            size_t k = rnd() % 12;
            for (size_t i = 0; i < k; i++)
                out[n++] = (uint8_t)('a' + rnd() % 26);
        } else if (r < 55) {
            out[n++] = '"';
            size_t k = rnd() % 10;
            for (size_t i = 0; i < k && n + 4 < target; i++) {
                unsigned t = (unsigned)(rnd() % 10);
                if (t == 0) {
                    out[n++] = '"';
                    out[n++] = '"';
                } else if (t == 1) {
                    out[n++] = '\n';
                } else if (t == 2) {
                    out[n++] = ',';
                } else {
                    out[n++] = (uint8_t)('a' + t);
                }
            }
            out[n++] = '"';
        } else if (r < 75) {
            out[n++] = ',';
        } else if (r < 85) {
            out[n++] = '\n';
        } else if (r < 90) {
            out[n++] = '\r';
            out[n++] = '\n';
        } else if (noisy) {
            static const uint8_t noise[] = {'"', '\r', 0, 0xC3, 0xA9, 0xE2, 0x82, '\\', 0xFF};
            out[n++] = noise[rnd() % sizeof(noise)];
        }
    }
    return n;
}

/* The kernels agree with the scalar parser on random inputs, whole and in random chunks. */
static void test_random_kernels(void **state)
{
    (void)state;
    uint8_t in[3000];
    for (int iter = 0; iter < 600; iter++) {
        size_t n = gen_input(in, iter < 300 ? 200 : sizeof(in), iter % 3 != 0);
        run_cfg cfg = {0};
        sl_csv_opts_default(&cfg.o);
        cfg.o.header = iter % 2 == 0;
        cfg.o.escape = iter % 5 == 0 ? '\\' : 0;
        cfg.o.max_record = iter % 7 == 0 ? 40 : cfg.o.max_record;
        cfg.o.quote = iter % 11 == 3 ? 0 : '"';
        cfg.o.delim = iter % 13 == 5 ? 'a' : ',';
        cfg.raw = true;
        cfg.o.simd = SL_CSV_SIMD_SCALAR;
        cfg.cap_rows = 1 + rnd() % 5;
        char *want = run(&cfg, in, n);
        for (size_t k = 0; k < NSIMD; k++) {
            if (!sl_csv_simd_supported(ALL_SIMD[k]))
                continue;
            cfg.o.simd = ALL_SIMD[k];
            cfg.chunk = 0;
            char *got = run(&cfg, in, n);
            expect_same("kernel vs scalar, whole", got, want, in, n);
            free(got);
            size_t cuts[8];
            size_t nc = rnd() % 8;
            for (size_t i = 0; i < nc; i++)
                cuts[i] = n ? rnd() % (n + 1) : 0;
            for (size_t i = 1; i < nc; i++) /* insertion sort */
                for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                    size_t t = cuts[j];
                    cuts[j] = cuts[j - 1];
                    cuts[j - 1] = t;
                }
            cfg.cuts = cuts;
            cfg.ncuts = nc;
            got = run(&cfg, in, n);
            expect_same("kernel vs scalar, chunks", got, want, in, n);
            free(got);
            cfg.cuts = NULL;
            cfg.ncuts = 0;
        }
        free(want);
    }
}

/* Every record boundary by the scalar scanner (offsets just past a terminating LF). */
static void split_reference(const sl_csv_opts *o, const uint8_t *in, size_t n, size_t *ends,
                            size_t *nends)
{
    sl__csv_chars ch;
    sl__csv_chars_init(&ch, o);
    *nends = 0;
    size_t at = 0;
    for (;;) {
        sl__csv_scan s = {0};
        size_t x = sl__csv_scan_record(&ch, &s, in, at, n);
        if (x == n)
            break;
        at = ends[(*nends)++] = x + 1;
    }
}

static void test_split(void **state)
{
    (void)state;
    static uint8_t in[5000];
    static size_t ends[5001];
    for (int iter = 0; iter < 400; iter++) {
        size_t n = gen_input(in, iter < 200 ? 300 : sizeof(in), iter % 2 == 0);
        sl_csv_opts o;
        sl_csv_opts_default(&o);
        o.escape = iter % 4 == 1 ? '\\' : 0;
        o.quote = iter % 9 == 4 ? 0 : '"';
        size_t nends;
        split_reference(&o, in, n, ends, &nends);
        /* the scalar scanner's boundaries: every unquoted LF of the state machine. Check
         * split(k) = the last boundary <= k with the '\n' count before it, for each kernel */
        for (size_t kk = 0; kk < NSIMD; kk++) {
            if (!sl_csv_simd_supported(ALL_SIMD[kk]))
                continue;
            o.simd = ALL_SIMD[kk];
            size_t e = 0;
            for (size_t k = 0; k <= n; k += n > 300 ? 1 + rnd() % 40 : 1) {
                while (e < nends && ends[e] <= k)
                    e++;
                size_t want = e ? ends[e - 1] : 0;
                uint64_t want_nl = 0;
                for (size_t i = 0; i < want; i++)
                    want_nl += in[i] == '\n';
                uint64_t nl = 99;
                size_t got = sl_csv_split(&o, in, k, &nl);
                if (got != want || nl != want_nl)
                    fail_msg("split(%zu) of %zu bytes, %s: got %zu/%llu, want %zu/%llu", k, n,
                             sl_csv_simd_name(ALL_SIMD[kk]), got, (unsigned long long)nl, want,
                             (unsigned long long)want_nl);
            }
        }
    }
}

/* Cutting with split() and parsing the pieces (each with eof, its first line, no header)
 * gives the rows of the whole input. */
static void test_split_then_parse(void **state)
{
    (void)state;
    static uint8_t in[2000];
    for (int iter = 0; iter < 300; iter++) {
        size_t n = gen_input(in, sizeof(in), iter % 2 == 0);
        if (iter % 3 == 0 && n >= 4) { /* a BOM, then a quote at the start */
            memcpy(in, "\xEF\xBB\xBF\"", 4);
        }
        run_cfg cfg = {0};
        sl_csv_opts_default(&cfg.o);
        cfg.o.header = false;
        cfg.o.escape = iter % 4 == 1 ? '\\' : 0;
        cfg.ncols = 3;
        cfg.no_header_call = true;
        cfg.raw = true;
        char *want = run(&cfg, in, n);
        for (int t = 0; t < 5; t++) {
            size_t k = n ? rnd() % (n + 1) : 0;
            uint64_t nl;
            size_t bom = sl_csv_bom_len(in, k);
            size_t s = bom + sl_csv_split(&cfg.o, in + bom, k - bom, &nl);
            if (s == bom)
                s = nl = 0;
            assert_true(s <= k);
            char *a = run(&cfg, in, s);
            /* the second piece starts at line 1 + nl */
            run_state st = {.cfg = &cfg};
            sl_buf_init(&st.out, 0);
            assert_int_equal(sl_csv_create(&cfg.o, &st.p), SL_OK);
            sl_csv_set_first_line(st.p, 1 + nl);
            assert_int_equal(sl_csv_feed(st.p, in + s, n - s), SL_OK);
            drain(&st, true);
            sl_rowblock_release(&st.b);
            sl_csv_destroy(st.p);
            assert_int_equal(sl_buf_putc(&st.out, 0), SL_OK);
            size_t la = strlen(a);
            sl_buf joined;
            sl_buf_init(&joined, 0);
            assert_int_equal(sl_buf_append(&joined, a, la), SL_OK);
            assert_int_equal(sl_buf_append(&joined, st.out.ptr, st.out.len), SL_OK);
            expect_same("split then parse", (char *)joined.ptr, want, in, n);
            sl_buf_release(&joined);
            sl_buf_release(&st.out);
            free(a);
        }
        free(want);
    }
}

/* Long well-formed inputs: many 64-byte blocks, fields and records across block edges. */
static void test_long_inputs(void **state)
{
    (void)state;
    size_t cap = 200000;
    uint8_t *in = malloc(cap);
    assert_non_null(in);
    for (int iter = 0; iter < 6; iter++) {
        size_t n = 0;
        while (n + 200 < cap) {
            for (int f = 0; f < 5; f++) {
                if (f)
                    in[n++] = ',';
                unsigned t = (unsigned)(rnd() % 6);
                size_t len = rnd() % (t == 5 ? 150 : 20);
                if (t >= 3) {
                    in[n++] = '"';
                    for (size_t i = 0; i < len; i++) {
                        uint8_t ch = "ab,\n\"x\r "[rnd() % 8];
                        in[n++] = ch;
                        if (ch == '"')
                            in[n++] = '"';
                    }
                    in[n++] = '"';
                } else {
                    for (size_t i = 0; i < len; i++)
                        in[n++] = "abcdef \xC3\xA9"[rnd() % 9];
                }
            }
            if (iter % 2) {
                in[n++] = '\r';
            }
            in[n++] = '\n';
        }
        run_cfg cfg = {0};
        sl_csv_opts_default(&cfg.o);
        cfg.o.simd = SL_CSV_SIMD_SCALAR;
        cfg.raw = true;
        cfg.cap_rows = 1000;
        char *want = run(&cfg, in, n);
        for (size_t k = 1; k < NSIMD; k++) {
            if (!sl_csv_simd_supported(ALL_SIMD[k]))
                continue;
            cfg.o.simd = ALL_SIMD[k];
            size_t chunks[] = {0, 4096, 100003};
            for (size_t j = 0; j < 3; j++) {
                cfg.chunk = chunks[j];
                char *got = run(&cfg, in, n);
                expect_same("long input", got, want, "", 0);
                free(got);
            }
        }
        free(want);
    }
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_raw_records),
        cmocka_unit_test(test_next_consumes_header),
        cmocka_unit_test(test_huge_field),
        cmocka_unit_test(test_huge_field_bytewise),
        cmocka_unit_test(test_header_api),
        cmocka_unit_test(test_first_line),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_simd_choice),
        cmocka_unit_test(test_random_kernels),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_then_parse),
        cmocka_unit_test(test_long_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
