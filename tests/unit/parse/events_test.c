/* events_test.c: tests of src/parse/events.c (event validation and normalization), table-driven.
 *
 * Each vector is a request body and either the exact canonical NDJSON it must produce (with
 * received_at fixed) or the first error (index, line, field, code) it must report; plus UUIDv7
 * form, generated ids, and the error cap.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/events.h"

#define RECV 1795430400000000 /* 2026-11-23T10:40:00Z */
#define R ",\"received_at\":\"2026-11-23T10:40:00Z\"}\n"

static void run_opts(const char *in, bool gen, size_t max_errors, bool dlq, sl_buf *out,
                     sl_events **evp)
{
    sl_events_opts o = {gen, RECV, max_errors, 0, dlq};
    assert_int_equal(sl_events_create(&o, evp), SL_OK);
    sl_buf_init(out, 0);
    /* fed in two pieces to cross a record boundary */
    size_t n = strlen(in), h = n / 2;
    assert_int_equal(sl_events_feed(*evp, (const uint8_t *)in, h, out), SL_OK);
    assert_int_equal(sl_events_feed(*evp, (const uint8_t *)in + h, n - h, out), SL_OK);
    assert_int_equal(sl_events_finish(*evp, out), SL_OK);
}

static void run(const char *in, bool gen, size_t max_errors, sl_buf *out, sl_events **evp)
{
    run_opts(in, gen, max_errors, false, out, evp);
}

static const struct {
    const char *in, *out;
} good[] = {
    {"{\"event_id\":\"a\",\"type\":\"t\",\"occurred_at\":\"2026-11-23T10:00:00Z\",\"payload\":{\"x\":1}}",
     "{\"event_id\":\"a\",\"type\":\"t\",\"occurred_at\":\"2026-11-23T10:00:00Z\",\"payload\":{\"x\":1}" R},
    /* array, offset to UTC, fraction kept, key order normalized, pretty payload minified */
    {"[ {\"payload\": [1, \"a b\",\n {\"k\" : null}], \"occurred_at\":\"2026-11-23T12:00:00.5+02:00\","
     "\"type\":\"t\",\"event_id\":\"b\\u00e9\"} ]",
     "{\"event_id\":\"b\\u00e9\",\"type\":\"t\",\"occurred_at\":\"2026-11-23T10:00:00.500000Z\","
     "\"payload\":[1,\"a b\",{\"k\":null}]" R},
    /* NDJSON, no payload -> null, a string payload keeps its escapes, received_at ignored */
    {"{\"event_id\":\"c\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}\n"
     "{\"event_id\":\"d\",\"type\":\"t\",\"occurred_at\":\"2026-11-23 10:00\",\"payload\":\"q\\\"\\n\","
     "\"received_at\":\"1999-01-01T00:00:00Z\"}\n",
     "{\"event_id\":\"c\",\"type\":\"t\",\"occurred_at\":\"2026-11-23T00:00:00Z\",\"payload\":null" R
     "{\"event_id\":\"d\",\"type\":\"t\",\"occurred_at\":\"2026-11-23T10:00:00Z\",\"payload\":\"q\\\"\\n\"" R},
    {"", ""},
    {"  \n [] \n", ""},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sl_buf out;
        sl_events *ev;
        run(good[i].in, false, 4, &out, &ev);
        if (sl_events_bad(ev))
            fail_msg("vector %zu: %s", i, sl_events_error(ev, 0)->message);
        assert_int_equal(out.len, strlen(good[i].out));
        assert_memory_equal(out.ptr, good[i].out, out.len);
        sl_buf_release(&out);
        sl_events_destroy(ev);
    }
}

static const struct {
    const char *in;
    uint64_t index, line;
    const char *field, *code;
} bad[] = {
    {"{\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}", 0, 1, "event_id", "missing"},
    {"{\"event_id\":null,\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}", 0, 1, "event_id", "missing"},
    {"{\"event_id\":7,\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}", 0, 1, "event_id", "type"},
    {"{\"event_id\":\"\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}", 0, 1, "event_id", "empty"},
    {"{\"event_id\":\"a\\tb\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}", 0, 1, "event_id",
     "control_character"},
    {"[{\"event_id\":\"a\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"},\n{\"event_id\":\"b\","
     "\"occurred_at\":\"2026-11-23\"}]", 1, 2, "type", "missing"},
    {"{\"event_id\":\"a\",\"type\":[],\"occurred_at\":\"2026-11-23\"}", 0, 1, "type", "type"},
    {"{\"event_id\":\"a\",\"type\":\"t\"}", 0, 1, "occurred_at", "missing"},
    {"{\"event_id\":\"a\",\"type\":\"t\",\"occurred_at\":1700000000}", 0, 1, "occurred_at", "type"},
    {"{\"event_id\":\"a\",\"type\":\"t\",\"occurred_at\":\"soon\"}", 0, 1, "occurred_at", "timestamp"},
    {"{\"event_id\":\"a\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\",\"x\":1}", 0, 1, "",
     "unknown_field"},
    {"{\"event_id\":\"a\",\"event_id\":\"b\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}", 0, 1,
     "event_id", "duplicate_key"},
    {"[1]", 0, 1, "", "not_object"},
    {"{\"event_id\":\"a\",", 0, 1, "", "syntax"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_buf out;
        sl_events *ev;
        run(bad[i].in, false, 4, &out, &ev);
        if (sl_events_bad(ev) == 0)
            fail_msg("vector %zu: accepted", i);
        const sl_event_error *e = sl_events_error(ev, 0);
        if (e->index != bad[i].index || e->line != bad[i].line || strcmp(e->field, bad[i].field) ||
            strcmp(e->code, bad[i].code))
            fail_msg("vector %zu: got index %llu line %llu field '%s' code '%s' (%s)", i,
                     (unsigned long long)e->index, (unsigned long long)e->line, e->field, e->code,
                     e->message);
        assert_true(e->message[0] != 0);
        sl_buf_release(&out);
        sl_events_destroy(ev);
    }
}

static void test_generate_and_cap(void **state)
{
    (void)state;
    sl_buf out;
    sl_events *ev;
    run("[{\"type\":\"t\",\"occurred_at\":\"2026-11-23\"},{\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}]",
        true, 4, &out, &ev);
    assert_int_equal(sl_events_bad(ev), 0);
    assert_int_equal(sl_events_generated(ev), 2);
    regex_t re;
    assert_int_equal(regcomp(&re, "^\\{\"event_id\":\"01a207fd-c000-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\",\"type\"",
                             REG_EXTENDED | REG_NOSUB), 0);
    char line[256];
    size_t n = (size_t)((const uint8_t *)memchr(out.ptr, '\n', out.len) - out.ptr);
    memcpy(line, out.ptr, n);
    line[n] = 0;
    assert_int_equal(regexec(&re, line, 0, NULL, 0), 0);
    assert_int_not_equal(memcmp(out.ptr, out.ptr + n + 1, 60), 0); /* two different ids */
    regfree(&re);
    sl_buf_release(&out);
    sl_events_destroy(ev);
    /* 3 bad events, 2 kept in detail; nothing written once one is bad */
    run("{\"event_id\":\"ok\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}\n{}\n{}\n{}\n"
        "{\"event_id\":\"ok2\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}\n",
        false, 2, &out, &ev);
    assert_int_equal(sl_events_total(ev), 5);
    assert_int_equal(sl_events_bad(ev), 3);
    assert_int_equal(sl_events_nerrors(ev), 2);
    assert_int_equal(sl_events_error(ev, 1)->index, 2);
    assert_null(memmem(out.ptr, out.len, "ok2", 3));
    sl_buf_release(&out);
    sl_events_destroy(ev);
}

/* dlq: good events as usual, each bad one a dead-letter line in its place (the rejects-file
 * object with the event's code, reason, index and raw text) */
static void test_dlq(void **state)
{
    (void)state;
    sl_buf out;
    sl_events *ev;
    run_opts("[{\"event_id\":\"a\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"},\n"
             " {\"event_id\":\"b\",\"type\":\"t\",\"occurred_at\":\"yesterday\"},\n"
             " {\"event_id\":\"c\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\",\"x\":1},\n"
             " {\"event_id\":\"d\",\"type\":\"t\",\"occurred_at\":\"2026-11-23\"}]",
             false, 1, true, &out, &ev);
    assert_int_equal(sl_events_total(ev), 4);
    assert_int_equal(sl_events_bad(ev), 2);
    assert_int_equal(sl_events_nerrors(ev), 1); /* the cap limits the answer, not the lines */
    static const char first[] =
        "{\"event_id\":\"a\",\"type\":\"t\",\"occurred_at\":\"2026-11-23T00:00:00Z\",\"payload\":null" R
        "#{\"line\":2,\"column\":null,\"field\":\"occurred_at\",\"code\":\"timestamp\",\"reason\":"
        "\"occurred_at \\\"yesterday\\\" is not a timestamp like 2026-01-31T12:00:00Z";
    if (out.len < sizeof(first) - 1 || memcmp(out.ptr, first, sizeof(first) - 1))
        fail_msg("dlq output:\n%.*s", (int)out.len, (const char *)out.ptr);
    char *text = strndup((const char *)out.ptr, out.len);
    char *l2 = strchr(text, '\n') + 1, *l3 = strchr(l2, '\n') + 1, *l4 = strchr(l3, '\n') + 1;
    assert_non_null(strstr(l2, "\",\"index\":1,\"raw\":\"{\\\"event_id\\\":\\\"b\\\",\\\"type\\\""));
    assert_true(l3[0] == SL_EVENT_REJECT_MARK);
    assert_non_null(strstr(l3, "\"code\":\"unknown_field\""));
    assert_non_null(strstr(l3, "\"index\":2,\"raw\":"));
    assert_true(!strncmp(l4, "{\"event_id\":\"d\"", 15));
    free(text);
    sl_buf_release(&out);
    sl_events_destroy(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_generate_and_cap),
        cmocka_unit_test(test_dlq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
