/* csv_oom_test.c: fails each allocation of a CSV parse in turn (src/parse/csv.c).
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup (CMakeLists: tests
 * named *_oom_test). For k = 0, 1, 2, ... the k-th allocation fails; the scenario must then
 * stop with SL_NOMEM without crashing or leaking (ASan's leak checker), or, once it makes
 * fewer than k allocations, finish with the rows of a run without failures. A failed
 * sl_csv_feed() leaves the parser as it was: the scenario retries it once, which must work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parse/csv.h"
#include "util/buf.h"

#include "../../support/oom.h"

/* Header, quoted fields, a too-long record (skipped while it streams in), a bad row, a final
 * record without newline; fed in 7-byte chunks so the buffer grows and compacts. The count of
 * rows and of rejected rows and the sum of cell lengths go to *sum. */
static sl_err scenario(uint64_t *sum)
{
    static const char in[] = "id,\"na\"\"me\",note\r\n"
                             "1,\"a,b\",x\n"
                             "2,\"0123456789012345678901234567890123456789\",y\n"
                             "3,c\"d,z\n"
                             "4,e,\"f\ng\"";
    sl_csv_opts o;
    sl_csv *p = NULL;
    sl_rowblock b;
    bool have = false;
    sl_err err;
    sl_csv_opts_default(&o);
    o.max_record = 30;
    *sum = 0;
    if ((err = sl_csv_create(&o, &p)))
        return err;
    size_t n = sizeof(in) - 1, at = 0;
    while (at <= n) {
        bool eof = at == n;
        if (!eof) {
            size_t k = n - at < 7 ? n - at : 7;
            err = sl_csv_feed(p, in + at, k);
            if (err == SL_NOMEM)
                err = sl_csv_feed(p, in + at, k); /* nothing was fed: retry */
            if (err)
                goto out;
            at += k;
        } else {
            sl_csv_end_input(p);
            at++;
        }
        if (!have) {
            size_t nf;
            const sl_cell *names;
            const uint8_t *text;
            err = sl_csv_header(p, &nf, &names, &text);
            if (err == SL_RETRY)
                continue;
            if (err)
                goto out;
            if ((err = sl_rowblock_init(&b, nf, 2)))
                goto out;
            have = true;
        }
        for (;;) {
            sl_rowblock_clear(&b);
            if ((err = sl_csv_next(p, eof, &b)))
                goto out;
            if (!b.nrows)
                break;
            *sum += b.nrows * 1000 + b.nbad * 100;
            for (size_t i = 0; i < b.nrows * b.ncols; i++)
                *sum += b.cells[i].len;
        }
    }
    err = SL_OK;
out:
    if (have)
        sl_rowblock_release(&b);
    sl_csv_destroy(p);
    return err;
}

static void test_fail_each_allocation(void **state)
{
    (void)state;
    uint64_t want, got;
    fail_at = -1;
    assert_int_equal(scenario(&want), SL_OK);
    /* 4 rows, 2 rejected (TOO_LONG with no cells, SYNTAX), cell bytes per row */
    assert_int_equal(want, 4 * 1000 + 2 * 100 + (1 + 3 + 1) + 0 + (1 + 3 + 1) + (1 + 1 + 3));
    long k;
    for (k = 0;; k++) {
        alloc_count = 0;
        injected = 0;
        fail_at = k;
        sl_err err = scenario(&got);
        fail_at = -1;
        if (!injected) {
            assert_int_equal(err, SL_OK);
            assert_int_equal(got, want);
            break;
        }
        if (err != SL_OK)
            assert_int_equal(err, SL_NOMEM);
        else
            assert_int_equal(got, want); /* the failure hit a retried feed */
    }
    print_message("%ld allocation points\n", k);
    assert_true(k > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_each_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
