/* json_oom_test.c: fails each allocation of the JSON parser (src/parse/json.c) in turn.
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup (CMakeLists: tests
 * named *_oom_test). Scenarios: JSON Lines with COLLECT (member list, per-row key set and the
 * COLLECT text area grow), array mode, and key discovery (sl_json_scan_keys), each fed in
 * chunks so the input buffer grows too. For k = 0, 1, 2, ... the k-th allocation fails, then:
 *   - abort mode: the scenario must stop with SL_NOMEM (or succeed if it made fewer than k
 *     allocations) without crashing, and ASan's leak checker must find nothing;
 *   - retry mode: after the failure, injection stops and the failed call is repeated; the rows
 *     must then be exactly those of a run without failures (json.h: a failed feed or next
 *     leaves the parser as it was).
 * The loop ends at the first k the scenario survives without an injected failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../support/json_dump.h"

#include "../../support/oom.h"

static const char *const names[] = {"a", "b", "c", "_extra"};

/* Input: records with many distinct unknown keys (COLLECT grows its lists), escapes, a bad row;
 * long enough to make the buffer grow past its first allocation. */
static void make_input(sl_buf *in, bool arr)
{
    jd(sl_buf_puts(in, arr ? "[" : ""));
    for (int r = 0; r < 300; r++) {
        if (arr && r)
            jd(sl_buf_puts(in, ",\n"));
        jd(sl_buf_printf(in, "{\"a\":%d,\"b\":\"s\\n%d\"", r, r));
        for (int k = 0; k < (r % 40); k++)
            jd(sl_buf_printf(in, ",\"k%d_\\u00e9\":[%d,{\"z\":null}]", k, k));
        if (r % 50 == 7)
            jd(sl_buf_puts(in, ",\"k1_\\u00e9\":1")); /* duplicate unknown key */
        jd(sl_buf_puts(in, "}"));
        if (!arr)
            jd(sl_buf_puts(in, "\n"));
    }
    jd(sl_buf_puts(in, arr ? "]" : ""));
    /* one long record, so the buffer must grow beyond 64 KiB */
    if (!arr) {
        jd(sl_buf_puts(in, "{\"c\":\""));
        for (int i = 0; i < 100000; i++)
            jd(sl_buf_putc(in, (uint8_t)('a' + i % 26)));
        jd(sl_buf_puts(in, "\"}\n"));
    }
}

/* Parses `in` in 10 KB chunks; dumps rows into out. Returns the first error; with `retry`, a
 * failed call is repeated once injection is switched off. */
static sl_err parse_all(const sl_json_opts *o, const sl_buf *in, bool retry, sl_buf *out)
{
    sl_json *p = NULL;
    sl_rowblock b;
    sl_err err = sl_json_create(o, names, 4, &p);
    if (err == SL_NOMEM && retry) {
        fail_at = -1;
        err = sl_json_create(o, names, 4, &p);
    }
    if (err)
        return err;
    err = sl_rowblock_init(&b, 4, 64);
    if (err == SL_NOMEM && retry) {
        fail_at = -1;
        err = sl_rowblock_init(&b, 4, 64);
    }
    if (err)
        goto out_destroy;
    for (size_t at = 0; at <= in->len;) {
        size_t n = in->len - at < 10000 ? in->len - at : 10000;
        bool eof = at + n == in->len;
        err = sl_json_feed(p, in->ptr + at, n);
        if (err && retry && err == SL_NOMEM) {
            fail_at = -1;
            err = sl_json_feed(p, in->ptr + at, n);
        }
        if (err)
            goto out_release;
        for (;;) {
            sl_rowblock_clear(&b);
            err = sl_json_next(p, eof, &b);
            if (err && retry && err == SL_NOMEM) {
                fail_at = -1;
                sl_rowblock_clear(&b);
                err = sl_json_next(p, eof, &b);
            }
            if (err)
                goto out_release;
            if (!b.nrows)
                break;
            paused = 1;
            json_dump_rows(out, &b, true);
            paused = 0;
        }
        at += n;
        if (eof)
            break;
    }
out_release:
    sl_rowblock_release(&b);
out_destroy:
    sl_json_destroy(p);
    return err;
}

static void run_modes(bool arr)
{
    sl_json_opts o;
    sl_json_opts_default(&o);
    o.unknown = SL_JSON_UNKNOWN_COLLECT;
    o.dup_last_wins = true;
    o.array_mode = arr;
    sl_buf in, want;
    sl_buf_init(&in, 0);
    sl_buf_init(&want, 0);
    make_input(&in, arr);
    fail_at = -1;
    assert_int_equal(parse_all(&o, &in, false, &want), SL_OK);
    assert_true(want.len > 1000);
    for (int mode = 0; mode < 2; mode++) {
        for (long k = 0;; k++) {
            sl_buf got;
            sl_buf_init(&got, 0);
            alloc_count = 0;
            injected = 0;
            fail_at = k;
            sl_err err = parse_all(&o, &in, mode == 1, &got);
            fail_at = -1;
            if (mode == 0 && injected)
                assert_int_equal(err, SL_NOMEM);
            if (mode == 1 || !injected) {
                assert_int_equal(err, SL_OK);
                if (got.len != want.len || memcmp(got.ptr, want.ptr, want.len))
                    fail_msg("k=%ld: rows differ after a failed allocation and retry", k);
            }
            sl_buf_release(&got);
            if (!injected)
                break;
        }
    }
    sl_buf_release(&in);
    sl_buf_release(&want);
}

static void test_lines_collect(void **state)
{
    (void)state;
    run_modes(false);
}

static void test_array_collect(void **state)
{
    (void)state;
    run_modes(true);
}

static void test_scan_keys(void **state)
{
    (void)state;
    sl_buf in;
    sl_buf_init(&in, 0);
    make_input(&in, false);
    for (long k = 0;; k++) {
        sl_json_keys keys;
        alloc_count = 0;
        injected = 0;
        fail_at = k;
        sl_err err = sl_json_scan_keys(NULL, in.ptr, in.len, true, 0, &keys);
        fail_at = -1;
        if (injected) {
            assert_int_equal(err, SL_NOMEM);
            assert_int_equal(keys.n, 0);
            assert_null(keys.names);
        } else {
            assert_int_equal(err, SL_OK);
            assert_int_equal(keys.n, 3 + 39); /* a, b, k0_é .. k38_é, c */
            assert_string_equal(keys.names[keys.n - 1], "c");
        }
        sl_json_keys_release(&keys);
        if (!injected)
            break;
    }
    sl_buf_release(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_collect),
        cmocka_unit_test(test_array_collect),
        cmocka_unit_test(test_scan_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
