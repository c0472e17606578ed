/* router_test.c: per-stream choice of unit sink (src/sink/router.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/router.h"

typedef struct {
    sl_unit_sink_factory base;
    int *destroyed;
    int creates;
} fake;

static sl_err fake_create(sl_unit_sink_factory *f, const char *stream, const sl_schema *schema,
                          sl_unit_sink **out, sl_sink_error *e)
{
    (void)stream;
    (void)schema;
    (void)e;
    ((fake *)f)->creates++;
    *out = NULL;
    return SL_OK;
}

static sl_err fake_check_fail(sl_unit_sink_factory *f, sl_sink_error *e)
{
    snprintf(e->message, sizeof(e->message), "%s down", f->kind);
    return SL_IO;
}

static void fake_destroy(sl_unit_sink_factory *f)
{
    (*((fake *)f)->destroyed)++;
    free(f);
}

static sl_unit_sink_factory *mk(const char *kind, int *destroyed)
{
    fake *f = calloc(1, sizeof(*f));
    f->base.kind = kind;
    f->base.create = fake_create;
    f->base.destroy = fake_destroy;
    f->destroyed = destroyed;
    return &f->base;
}

static void routes_pick_and_own(void **state)
{
    (void)state;
    int d_def = 0, d_pg = 0, d_kafka = 0;
    sl_unit_sink_factory *def = mk("local", &d_def), *pg = mk("postgres", &d_pg),
                         *kafka = mk("kafka", &d_kafka);
    sl_unit_sink_factory *r = sl_unit_router_create(def);
    assert_non_null(r);
    assert_int_equal(sl_unit_router_add(r, "events", pg), SL_OK);
    assert_int_equal(sl_unit_router_add(r, "clicks*", kafka), SL_OK);
    assert_int_equal(sl_unit_router_add(r, "ev*", pg), SL_OK); /* shared factory */
    assert_int_equal(sl_unit_router_add(r, "a*b", pg), SL_INVALID);
    assert_int_equal(sl_unit_router_add(r, "", pg), SL_INVALID);
    assert_ptr_equal(sl_unit_router_pick(r, "events"), pg);
    assert_ptr_equal(sl_unit_router_pick(r, "events2"), pg);    /* via ev* */
    assert_ptr_equal(sl_unit_router_pick(r, "clicks"), kafka);  /* empty rest of the prefix */
    assert_ptr_equal(sl_unit_router_pick(r, "clicks_eu"), kafka);
    assert_ptr_equal(sl_unit_router_pick(r, "orders"), def);
    assert_ptr_equal(sl_unit_router_pick(r, "event"), pg); /* "ev*" */
    sl_unit_sink *us = (sl_unit_sink *)1;
    sl_sink_error e = {0};
    assert_int_equal(r->create(r, "clicks_us", NULL, &us, &e), SL_OK);
    assert_int_equal(((fake *)kafka)->creates, 1);
    assert_int_equal(r->check(r, &e), SL_OK); /* no checks: fine */
    pg->check = fake_check_fail;
    assert_int_equal(r->check(r, &e), SL_IO);
    assert_string_equal(e.message, "postgres down");
    const char *kind = NULL; /* which sink failed (the server's readiness names it) */
    assert_int_equal(sl_unit_router_check(r, &kind, &e), SL_IO);
    assert_string_equal(kind, "postgres");
    r->destroy(r);
    assert_int_equal(d_def, 1);
    assert_int_equal(d_pg, 1); /* once, though routed twice */
    assert_int_equal(d_kafka, 1);
}

static void own_without_route(void **state)
{
    (void)state;
    int d_def = 0, d_x = 0;
    sl_unit_sink_factory *def = mk("local", &d_def), *x = mk("x", &d_x);
    sl_unit_sink_factory *r = sl_unit_router_create(def);
    assert_int_equal(sl_unit_router_own(r, x), SL_OK);
    assert_int_equal(sl_unit_router_own(r, def), SL_OK); /* already owned: no double free */
    assert_ptr_equal(sl_unit_router_pick(r, "anything"), def);
    r->destroy(r);
    assert_int_equal(d_def, 1);
    assert_int_equal(d_x, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_pick_and_own),
        cmocka_unit_test(own_without_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
