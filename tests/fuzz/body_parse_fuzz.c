/* body_parse_fuzz.c: the request-body path of `sluice serve` (src/server/body_parse.c).
 *
 * Input: byte 0 picks the format (CSV / JSON Lines), byte 1 the piece size; the rest is a body.
 * Like the HTTP handler, the target takes the CSV header record (sl_csv_first_record), infers a
 * schema from the body (sl_bodyp_infer), then parses the body twice: whole, and cut into
 * pieces at record boundaries (sl_csv_split / last newline) the way requests are logged in the
 * WAL and parsed again after a crash; the pieces are parsed in place (sl_bodyp_parse_inplace,
 * from a padded copy, as the HTTP handler parses its request buffer). Invariants: no crash or
 * leak; both ways accept and reject the same number of rows, produce identical rows and
 * byte-identical rejects, since recovery relies on re-parsing giving the same result; parsing
 * in place leaves the piece's bytes as they were (they go to the WAL afterwards). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/csv.h"
#include "server/body_parse.h"

static void fail(const char *why)
{
    __builtin_trap();
    (void)why;
}

static int batches_equal(const sl_batch *a, const sl_batch *b)
{
    if (sl_batch_rows(a) != sl_batch_rows(b))
        return 0;
    for (size_t c = 0; c < a->ncols; c++) {
        const sl_column *x = &a->cols[c], *y = &b->cols[c];
        size_t n = x->len;
        if ((x->valid && memcmp(x->valid, y->valid, n)) || x->null_count != y->null_count)
            return 0;
        if (x->width && n && memcmp(x->data, y->data, n * x->width))
            return 0;
        if (!x->width && n &&
            (x->offsets[n] != y->offsets[n] ||
             (x->offsets[n] && memcmp(x->bytes, y->bytes, x->offsets[n]))))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > (1 << 20))
        return 0;
    sl_format fmt = (data[0] & 1) ? SL_FMT_JSONL : SL_FMT_CSV;
    size_t piece = 16 + (size_t)data[1] * 4;
    const uint8_t *body = data + 2;
    size_t n = size - 2;
    const uint8_t *hdr = NULL;
    size_t hdr_len = 0;
    uint64_t first_line = 1;
    if (fmt == SL_FMT_CSV) {
        size_t next = 0;
        hdr_len = sl_csv_first_record(body, n, &next);
        if (hdr_len == SIZE_MAX)
            return 0;
        hdr = body;
        body += next;
        n -= next;
        first_line = 2;
    }
    sl_schema *schema = NULL;
    char msg[256];
    if (sl_bodyp_infer(fmt, hdr, hdr_len, body, n, 1000, &schema, msg, sizeof(msg)))
        return 0;
    sl_bodyp_opts o = {schema, fmt, (data[0] & 2) != 0};
    sl_bodyp *whole = NULL, *cut = NULL;
    sl_batch *b1 = NULL, *b2 = NULL;
    sl_buf r1, r2;
    sl_buf_init(&r1, 0);
    sl_buf_init(&r2, 0);
    sl_row_report rep[4];
    sl_body_result s1 = {0, 0, 0, 4, rep}, s2 = {0, 0, 0, 4, rep};
    if (sl_bodyp_create(&o, &whole) || sl_bodyp_create(&o, &cut) || sl_batch_create(schema, &b1) ||
        sl_batch_create(schema, &b2))
        goto out;
    if (fmt == SL_FMT_CSV &&
        (sl_bodyp_set_header(whole, hdr, hdr_len, msg, sizeof(msg)) ||
         sl_bodyp_set_header(cut, hdr, hdr_len, msg, sizeof(msg))))
        goto out;
    if (sl_bodyp_parse(whole, body, n, first_line, b1, &r1, &s1))
        goto out;
    size_t off = 0;
    uint64_t line = first_line;
    sl_csv_opts co;
    sl_csv_opts_default(&co);
    while (off < n) {
        size_t len = n - off < piece ? n - off : piece;
        size_t take;
        uint64_t nl = 0;
        if (off + len == n) {
            take = len;
            for (size_t i = 0; i < len; i++)
                nl += body[off + i] == '\n';
        } else if (fmt == SL_FMT_CSV) {
            take = sl_csv_split(&co, body + off, len, &nl);
        } else {
            const uint8_t *q = memrchr(body + off, '\n', len);
            take = q ? (size_t)(q - (body + off)) + 1 : 0;
            for (size_t i = 0; i < take; i++)
                nl += body[off + i] == '\n';
        }
        if (take == 0) { /* a record longer than the piece: grow it, as the server does */
            piece *= 2;
            continue;
        }
        uint8_t *copy = malloc(take + SL_BODYP_PAD);
        if (!copy)
            goto out;
        memcpy(copy, body + off, take);
        sl_err err = sl_bodyp_parse_inplace(cut, copy, take, take + SL_BODYP_PAD, line, b2, &r2,
                                            &s2);
        if (!err && take && memcmp(copy, body + off, take))
            fail("parsing in place changed the piece");
        free(copy);
        if (err)
            goto out;
        off += take;
        line += nl;
    }
    if (s1.rows_ok != s2.rows_ok || s1.rows_rejected != s2.rows_rejected)
        fail("row counts differ between whole and pieces");
    if (!batches_equal(b1, b2))
        fail("rows differ between whole and pieces");
    if (r1.len != r2.len || (r1.len && memcmp(r1.ptr, r2.ptr, r1.len)))
        fail("rejects differ between whole and pieces");
out:
    sl_buf_release(&r1);
    sl_buf_release(&r2);
    sl_batch_destroy(b1);
    sl_batch_destroy(b2);
    sl_bodyp_destroy(whole);
    sl_bodyp_destroy(cut);
    sl_schema_destroy(schema);
    return 0;
}
