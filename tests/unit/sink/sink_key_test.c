/* sink_key_test.c: object keys from layouts (src/sink/sink_local.c) and the local sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink/sink.h"

/* 2026-11-23T07:05:00Z */
#define T0 (INT64_C(1795417500) * 1000000)

static void key_default_layouts(void **state)
{
    (void)state;
    char k[512];
    sl_obj o = {SL_OBJ_PARQUET, "events", T0, 3, 0, 999, NULL};
    assert_int_equal(sl_sink_key(SL_LAYOUT_LOCAL, &o, k, sizeof(k)), SL_OK);
    assert_string_equal(k, "events/dt=2026-11-23/part-000003-000000000000-000000000999.parquet");
    assert_int_equal(sl_sink_key(SL_LAYOUT_S3, &o, k, sizeof(k)), SL_OK);
    assert_string_equal(k, "events/dt=2026-11-23/hour=07/part-000003-000000000000-000000000999.parquet");
    o.kind = SL_OBJ_REJECTS;
    o.first = 5;
    o.last = 5;
    assert_int_equal(sl_sink_key(SL_LAYOUT_S3, &o, k, sizeof(k)), SL_OK);
    assert_string_equal(k,
                        "events/_rejects/dt=2026-11-23/hour=07/rejects-000003-000000000005-000000000005.ndjson");
}

static void key_partition(void **state)
{
    (void)state;
    char k[512];
    sl_obj o = {SL_OBJ_PARQUET, "s", T0, 1, 10, 19, "country=DE/kind=a%20b"};
    assert_int_equal(sl_sink_key(SL_LAYOUT_LOCAL, &o, k, sizeof(k)), SL_OK);
    assert_string_equal(k, "s/dt=2026-11-23/country=DE/kind=a%20b/part-000001-000000000010-000000000019.parquet");
    assert_int_equal(sl_sink_key("{partition}/{stream}", &o, k, sizeof(k)), SL_OK);
    assert_string_equal(k, "country=DE/kind=a%20b/s/part-000001-000000000010-000000000019.parquet");
    o.partition = "";
    assert_int_equal(sl_sink_key("{partition}/{stream}", &o, k, sizeof(k)), SL_OK);
    assert_string_equal(k, "s/part-000001-000000000010-000000000019.parquet");
}

static void key_limits_and_bad_layouts(void **state)
{
    (void)state;
    char k[40];
    sl_obj o = {SL_OBJ_PARQUET, "events", T0, 1, 0, 1, NULL};
    assert_int_equal(sl_sink_key(SL_LAYOUT_LOCAL, &o, k, sizeof(k)), SL_INVALID); /* too long */
    sl_sink_error e = {0};
    assert_int_equal(sl_sink_layout_check("{stream}/{day}", &e), SL_INVALID);
    assert_non_null(strstr(e.message, "unknown placeholder"));
    assert_false(e.retryable);
    assert_int_equal(sl_sink_layout_check("dt={date}", &e), SL_INVALID);
    assert_non_null(strstr(e.message, "{stream}"));
    assert_int_equal(sl_sink_layout_check("/abs/{stream}", &e), SL_INVALID);
    assert_int_equal(sl_sink_layout_check("{stream}}", &e), SL_INVALID);
    assert_int_equal(sl_sink_layout_check("{stream", &e), SL_INVALID);
    assert_int_equal(sl_sink_layout_check("raw/{stream}/y={date}/{hour}", &e), SL_OK);
}

static void local_publish_replaces(void **state)
{
    (void)state;
    char dir[] = "/tmp/sl_sink_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    sl_file_sink *s = sl_sink_local_create(dir);
    assert_non_null(s);
    char staged[600], path[700];
    for (int round = 0; round < 2; round++) {
        snprintf(staged, sizeof(staged), "%s/staged", dir);
        FILE *f = fopen(staged, "w");
        assert_non_null(f);
        fprintf(f, "round %d", round);
        fclose(f);
        sl_sink_error e = {0};
        assert_int_equal(s->publish(s, staged, "a/dt=x/part.parquet", &e), SL_OK);
        assert_int_equal(access(staged, F_OK), -1); /* consumed */
    }
    snprintf(path, sizeof(path), "%s/a/dt=x/part.parquet", dir);
    char got[32] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof(got), f));
    fclose(f);
    assert_string_equal(got, "round 1");
    /* a missing staged file is an error with a message, not a crash */
    sl_sink_error e = {0};
    assert_int_not_equal(s->publish(s, staged, "a/b.parquet", &e), SL_OK);
    assert_non_null(strstr(e.message, "renaming"));
    char where[700];
    s->describe(s, "ev", where, sizeof(where));
    snprintf(path, sizeof(path), "%s/ev/", dir);
    assert_string_equal(where, path);
    s->destroy(s);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_default_layouts),
        cmocka_unit_test(key_partition),
        cmocka_unit_test(key_limits_and_bad_layouts),
        cmocka_unit_test(local_publish_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
