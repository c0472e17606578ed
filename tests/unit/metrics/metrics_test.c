/* metrics_test.c: tests of src/metrics/metrics.c (registry, updates, text exposition).
 *
 * The exposition is compared as whole text for small registries; argument validation is a
 * table of rejected names, labels and buckets; 4 threads x 100k updates on one series must give
 * exact totals (also run under TSan: make tsan && build/tsan/metrics_test); the rendered text of
 * a registry using every feature must pass `promtool check metrics` (parse + lint) when
 * /usr/bin/promtool is installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics/metrics.h"

static sl_metrics *new_registry(void)
{
    sl_metrics *m = NULL;
    assert_int_equal(sl_metrics_create(&m), SL_OK);
    assert_non_null(m);
    return m;
}

/* Renders m into a NUL-terminated heap string. */
static char *render(sl_metrics *m)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(sl_metrics_render(m, &b), SL_OK);
    assert_int_equal(sl_buf_putc(&b, 0), SL_OK);
    return (char *)sl_buf_take(&b, NULL);
}

static void assert_render(sl_metrics *m, const char *want)
{
    char *got = render(m);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, got);
    assert_string_equal(got, want);
    free(got);
}

static void test_render_small_registry(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    sl_mfamily *req =
        sl_metrics_family(m, SL_M_COUNTER, "sluice_requests_total",
                          "HTTP requests by stream and status code.", "stream,code", NULL, 0);
    sl_mfamily *q =
        sl_metrics_family(m, SL_M_GAUGE, "sluice_queue_rows", "Rows queued.", NULL, NULL, 0);
    static const double bounds[] = {0.005, 0.1, 1, 2.5};
    sl_mfamily *lat = sl_metrics_family(m, SL_M_HISTOGRAM, "sluice_flush_seconds", "Flush latency.",
                                        "sink", bounds, 4);
    sl_mfamily *empty = sl_metrics_family(m, SL_M_COUNTER, "sluice_unused_total", "Never touched.",
                                          "stream", NULL, 0);
    assert_non_null(req);
    assert_non_null(q);
    assert_non_null(lat);
    assert_non_null(empty);

    sl_mseries *a200 = sl_mfamily_series(req, (const char *const[]){"a", "200"});
    sl_mseries *b429 = sl_mfamily_series(req, (const char *const[]){"b", "429"});
    sl_mseries_inc(a200);
    sl_mseries_inc(a200);
    sl_mseries_add(b429, 5);
    sl_mseries_add(a200, 0.5);
    sl_mseries_set(sl_mfamily_series0(q), 1234);
    sl_mseries *s3 = sl_mfamily_series(lat, (const char *const[]){"s3"});
    sl_mseries_observe(s3, 0.001);                       /* le 0.005 */
    sl_mseries_observe(s3, 0.005);                       /* le 0.005 (bounds are inclusive) */
    sl_mseries_observe(s3, 0.5);                         /* le 1 */
    sl_mseries_observe(s3, 2.5);                         /* le 2.5 */
    sl_mseries_observe(s3, 100);                         /* +Inf */
    sl_mfamily_series(lat, (const char *const[]){"pg"}); /* created, never observed */

    assert_true(sl_mseries_value(a200) == 2.5);
    assert_true(sl_mseries_value(s3) == 5);

    assert_render(m, "# HELP sluice_requests_total HTTP requests by stream and status code.\n"
                     "# TYPE sluice_requests_total counter\n"
                     "sluice_requests_total{stream=\"a\",code=\"200\"} 2.5\n"
                     "sluice_requests_total{stream=\"b\",code=\"429\"} 5\n"
                     "# HELP sluice_queue_rows Rows queued.\n"
                     "# TYPE sluice_queue_rows gauge\n"
                     "sluice_queue_rows 1234\n"
                     "# HELP sluice_flush_seconds Flush latency.\n"
                     "# TYPE sluice_flush_seconds histogram\n"
                     "sluice_flush_seconds_bucket{sink=\"s3\",le=\"0.005\"} 2\n"
                     "sluice_flush_seconds_bucket{sink=\"s3\",le=\"0.1\"} 2\n"
                     "sluice_flush_seconds_bucket{sink=\"s3\",le=\"1\"} 3\n"
                     "sluice_flush_seconds_bucket{sink=\"s3\",le=\"2.5\"} 4\n"
                     "sluice_flush_seconds_bucket{sink=\"s3\",le=\"+Inf\"} 5\n"
                     "sluice_flush_seconds_sum{sink=\"s3\"} 103.006\n"
                     "sluice_flush_seconds_count{sink=\"s3\"} 5\n"
                     "sluice_flush_seconds_bucket{sink=\"pg\",le=\"0.005\"} 0\n"
                     "sluice_flush_seconds_bucket{sink=\"pg\",le=\"0.1\"} 0\n"
                     "sluice_flush_seconds_bucket{sink=\"pg\",le=\"1\"} 0\n"
                     "sluice_flush_seconds_bucket{sink=\"pg\",le=\"2.5\"} 0\n"
                     "sluice_flush_seconds_bucket{sink=\"pg\",le=\"+Inf\"} 0\n"
                     "sluice_flush_seconds_sum{sink=\"pg\"} 0\n"
                     "sluice_flush_seconds_count{sink=\"pg\"} 0\n"
                     "# HELP sluice_unused_total Never touched.\n"
                     "# TYPE sluice_unused_total counter\n");
    sl_metrics_destroy(m);
}

static void test_default_buckets_and_unlabelled_histogram(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    sl_mfamily *h = sl_metrics_family(m, SL_M_HISTOGRAM, "req_seconds", "Latency.", "", NULL, 0);
    assert_non_null(h);
    sl_mseries *s = sl_mfamily_series0(h);
    assert_non_null(s);
    assert_ptr_equal(sl_mfamily_series(h, NULL), s);
    sl_mseries_observe(s, 0.0005);
    sl_mseries_observe(s, 7);
    sl_mseries_observe(s, NAN); /* counted in +Inf; the sum becomes NaN */
    assert_render(m, "# HELP req_seconds Latency.\n"
                     "# TYPE req_seconds histogram\n"
                     "req_seconds_bucket{le=\"0.0005\"} 1\n"
                     "req_seconds_bucket{le=\"0.001\"} 1\n"
                     "req_seconds_bucket{le=\"0.0025\"} 1\n"
                     "req_seconds_bucket{le=\"0.005\"} 1\n"
                     "req_seconds_bucket{le=\"0.01\"} 1\n"
                     "req_seconds_bucket{le=\"0.025\"} 1\n"
                     "req_seconds_bucket{le=\"0.05\"} 1\n"
                     "req_seconds_bucket{le=\"0.1\"} 1\n"
                     "req_seconds_bucket{le=\"0.25\"} 1\n"
                     "req_seconds_bucket{le=\"0.5\"} 1\n"
                     "req_seconds_bucket{le=\"1\"} 1\n"
                     "req_seconds_bucket{le=\"2.5\"} 1\n"
                     "req_seconds_bucket{le=\"5\"} 1\n"
                     "req_seconds_bucket{le=\"10\"} 2\n"
                     "req_seconds_bucket{le=\"+Inf\"} 3\n"
                     "req_seconds_sum NaN\n"
                     "req_seconds_count 3\n");
    sl_metrics_destroy(m);
}

static void test_number_formatting(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0, "0"},
        {-0.0, "0"},
        {42, "42"},
        {-3, "-3"},
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {123456789012345, "123456789012345"},
        {1e15, "1e+15"},
        {1e20, "1e+20"},
        {1.5e-7, "1.5e-07"},
        {-2.25, "-2.25"},
        {NAN, "NaN"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sl_metrics *m = new_registry();
        sl_mfamily *g = sl_metrics_family(m, SL_M_GAUGE, "g", "G.", NULL, NULL, 0);
        sl_mseries_set(sl_mfamily_series0(g), cases[i].v);
        char want[128];
        snprintf(want, sizeof(want), "# HELP g G.\n# TYPE g gauge\ng %s\n", cases[i].text);
        assert_render(m, want);
        sl_metrics_destroy(m);
    }
}

static void test_label_and_help_escaping(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    sl_mfamily *f =
        sl_metrics_family(m, SL_M_GAUGE, "esc", "Back\\slash and\nnewline \"kept\".", "v", NULL, 0);
    assert_non_null(f);
    sl_mseries_set(sl_mfamily_series(f, (const char *const[]){"a\\b\"c\nd"}), 1);
    sl_mseries_set(sl_mfamily_series(f, (const char *const[]){"bad\xff\xc3(utf8\xc3\xa9"}), 2);
    sl_mseries_set(sl_mfamily_series(f, (const char *const[]){NULL}), 3); /* NULL is "" */
    assert_render(m, "# HELP esc Back\\\\slash and\\nnewline \"kept\".\n"
                     "# TYPE esc gauge\n"
                     "esc{v=\"a\\\\b\\\"c\\nd\"} 1\n"
                     "esc{v=\"bad\xef\xbf\xbd\xef\xbf\xbd(utf8\xc3\xa9\"} 2\n"
                     "esc{v=\"\"} 3\n");
    sl_metrics_destroy(m);
}

static void test_series_reuse(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    sl_mfamily *f = sl_metrics_family(m, SL_M_COUNTER, "x_total", "X.", "a,b", NULL, 0);
    assert_non_null(f);
    sl_mseries *s1 = sl_mfamily_series(f, (const char *const[]){"p", "q"});
    char p[] = "p", q[] = "q";
    sl_mseries *s2 = sl_mfamily_series(f, (const char *const[]){p, q}); /* copied, not kept */
    p[0] = 'z';
    assert_non_null(s1);
    assert_ptr_equal(s1, s2);
    assert_ptr_not_equal(sl_mfamily_series(f, (const char *const[]){"pq", ""}), s1);
    assert_ptr_not_equal(sl_mfamily_series(f, (const char *const[]){"p", "qq"}), s1);
    assert_ptr_equal(sl_mfamily_series(f, (const char *const[]){"", NULL}),
                     sl_mfamily_series(f, (const char *const[]){NULL, ""}));
    assert_null(sl_mfamily_series(f, NULL)); /* labels needed */
    assert_null(sl_mfamily_series0(f));      /* has labels */
    assert_null(sl_mfamily_series(NULL, NULL));
    assert_null(sl_mfamily_series0(NULL));

    /* many series: the hash table grows and every pointer stays the same */
    sl_mseries *all[2000];
    char v[16];
    for (int i = 0; i < 2000; i++) {
        snprintf(v, sizeof(v), "%d", i);
        all[i] = sl_mfamily_series(f, (const char *const[]){v, "k"});
        assert_non_null(all[i]);
        sl_mseries_add(all[i], i);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(v, sizeof(v), "%d", i);
        assert_ptr_equal(sl_mfamily_series(f, (const char *const[]){v, "k"}), all[i]);
        assert_true(sl_mseries_value(all[i]) == i);
    }
    sl_metrics_destroy(m);
}

static void test_series_cap(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    sl_mfamily *f = sl_metrics_family(m, SL_M_GAUGE, "many", "Many.", "i", NULL, 0);
    char v[16];
    for (int i = 0; i < SL_M_MAX_SERIES; i++) {
        snprintf(v, sizeof(v), "%d", i);
        assert_non_null(sl_mfamily_series(f, (const char *const[]){v}));
    }
    assert_null(sl_mfamily_series(f, (const char *const[]){"one more"}));
    assert_non_null(sl_mfamily_series(f, (const char *const[]){"17"})); /* existing: still found */
    sl_mseries_inc(sl_mfamily_series(f, (const char *const[]){"one more"})); /* NULL: no-op */
    sl_metrics_destroy(m);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    static const double up[] = {1, 2, 3}, equal[] = {1, 1}, down[] = {2, 1}, nan[] = {1, NAN},
                        inf[] = {1, INFINITY};
    static const double many[SL_M_MAX_BUCKETS + 1] = {0};
    static const struct {
        sl_mtype type;
        const char *name, *help, *labels;
        const double *b;
        size_t nb;
    } bad[] = {
        {SL_M_GAUGE, NULL, "h", NULL, NULL, 0},
        {SL_M_GAUGE, "", "h", NULL, NULL, 0},
        {SL_M_GAUGE, "1abc", "h", NULL, NULL, 0},
        {SL_M_GAUGE, "a-b", "h", NULL, NULL, 0},
        {SL_M_GAUGE, "a b", "h", NULL, NULL, 0},
        {SL_M_GAUGE, "caf\xc3\xa9", "h", NULL, NULL, 0},
        {SL_M_GAUGE, "ok", NULL, NULL, NULL, 0},
        {SL_M_GAUGE, "ok", "", NULL, NULL, 0},
        {SL_M_COUNTER, "requests", "h", NULL, NULL, 0},
        {SL_M_COUNTER, "requests_totals", "h", NULL, NULL, 0},
        {SL_M_COUNTER, "_total", "h", NULL, NULL, 0},
        {SL_M_GAUGE, "ok", "h", "a,,b", NULL, 0},
        {SL_M_GAUGE, "ok", "h", "a,", NULL, 0},
        {SL_M_GAUGE, ",a", "h", NULL, NULL, 0},
        {SL_M_GAUGE, "ok", "h", "a,a", NULL, 0},
        {SL_M_GAUGE, "ok", "h", "le", NULL, 0},
        {SL_M_GAUGE, "ok", "h", "__name__", NULL, 0},
        {SL_M_GAUGE, "ok", "h", "a, b", NULL, 0},
        {SL_M_GAUGE, "ok", "h", "a:b", NULL, 0},
        {SL_M_GAUGE, "ok", "h", "9a", NULL, 0},
        {SL_M_GAUGE, "ok", "h", "a,b,c,d,e", NULL, 0},
        {SL_M_GAUGE, "ok", "h", NULL, up, 3},
        {SL_M_COUNTER, "ok_total", "h", NULL, NULL, 2},
        {SL_M_HISTOGRAM, "ok", "h", NULL, equal, 2},
        {SL_M_HISTOGRAM, "ok", "h", NULL, down, 2},
        {SL_M_HISTOGRAM, "ok", "h", NULL, nan, 2},
        {SL_M_HISTOGRAM, "ok", "h", NULL, inf, 2},
        {SL_M_HISTOGRAM, "ok", "h", NULL, NULL, 3},
        {SL_M_HISTOGRAM, "ok", "h", NULL, many, SL_M_MAX_BUCKETS + 1},
        {SL_M_HISTOGRAM, "ok", "h", "le", up, 3},
        {(sl_mtype)7, "ok", "h", NULL, NULL, 0},
    };
    sl_metrics *m = new_registry();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_mfamily *f = sl_metrics_family(m, bad[i].type, bad[i].name, bad[i].help, bad[i].labels,
                                          bad[i].b, bad[i].nb);
        if (f)
            fprintf(stderr, "case %zu (%s) was accepted\n", i, bad[i].name);
        assert_null(f);
    }
    assert_null(sl_metrics_family(NULL, SL_M_GAUGE, "ok", "h", NULL, NULL, 0));
    /* nothing was registered by the failures */
    assert_render(m, "");

    /* the valid edges */
    assert_non_null(sl_metrics_family(m, SL_M_GAUGE, "a:b_c9", "h", "a,b,c,d", NULL, 0));
    assert_non_null(sl_metrics_family(m, SL_M_GAUGE, "_x", "h", "_y,Z9", NULL, 0));
    static const double zero[1] = {0};
    assert_non_null(sl_metrics_family(m, SL_M_HISTOGRAM, "only_inf", "h", NULL, zero, 0));
    assert_non_null(sl_metrics_family(m, SL_M_HISTOGRAM, "neg", "h", NULL, (double[]){-1, 0}, 2));
    sl_metrics_destroy(m);
}

static void test_reregistration(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    static const double b1[] = {1, 2}, b2[] = {1, 3};
    sl_mfamily *c = sl_metrics_family(m, SL_M_COUNTER, "c_total", "C.", "a,b", NULL, 0);
    sl_mfamily *h = sl_metrics_family(m, SL_M_HISTOGRAM, "h", "H.", NULL, b1, 2);
    assert_non_null(c);
    assert_non_null(h);
    /* same definition: the same family */
    assert_ptr_equal(sl_metrics_family(m, SL_M_COUNTER, "c_total", "C.", "a,b", NULL, 0), c);
    assert_ptr_equal(sl_metrics_family(m, SL_M_HISTOGRAM, "h", "H.", NULL, b1, 2), h);
    /* any difference: refused */
    assert_null(sl_metrics_family(m, SL_M_GAUGE, "c_total", "C.", "a,b", NULL, 0));
    assert_null(sl_metrics_family(m, SL_M_COUNTER, "c_total", "Other.", "a,b", NULL, 0));
    assert_null(sl_metrics_family(m, SL_M_COUNTER, "c_total", "C.", "a", NULL, 0));
    assert_null(sl_metrics_family(m, SL_M_COUNTER, "c_total", "C.", "b,a", NULL, 0));
    assert_null(sl_metrics_family(m, SL_M_HISTOGRAM, "h", "H.", NULL, b2, 2));
    assert_null(sl_metrics_family(m, SL_M_HISTOGRAM, "h", "H.", NULL, NULL, 0));
    /* the names a histogram renders are taken, both ways round */
    assert_null(sl_metrics_family(m, SL_M_GAUGE, "h_sum", "S.", NULL, NULL, 0));
    assert_null(sl_metrics_family(m, SL_M_GAUGE, "h_bucket", "S.", NULL, NULL, 0));
    assert_null(sl_metrics_family(m, SL_M_GAUGE, "h_count", "S.", NULL, NULL, 0));
    assert_non_null(sl_metrics_family(m, SL_M_GAUGE, "h_counts", "S.", NULL, NULL, 0));
    assert_non_null(sl_metrics_family(m, SL_M_GAUGE, "g_count", "G.", NULL, NULL, 0));
    assert_null(sl_metrics_family(m, SL_M_HISTOGRAM, "g", "G.", NULL, NULL, 0));
    sl_metrics_destroy(m);
}

static void test_update_rules(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    sl_mseries *c =
        sl_mfamily_series0(sl_metrics_family(m, SL_M_COUNTER, "c_total", "C.", NULL, NULL, 0));
    sl_mseries *g = sl_mfamily_series0(sl_metrics_family(m, SL_M_GAUGE, "g", "G.", NULL, NULL, 0));
    sl_mseries *h =
        sl_mfamily_series0(sl_metrics_family(m, SL_M_HISTOGRAM, "h", "H.", NULL, (double[]){1}, 1));
    assert_true(sl_mseries_value(c) == 0);

    sl_mseries_add(c, 2);
    sl_mseries_add(c, -1); /* counters only go up */
    sl_mseries_add(c, NAN);
    sl_mseries_observe(c, 5);
    assert_true(sl_mseries_value(c) == 2);
    sl_mseries_set(c, 10); /* mirroring an external total */
    assert_true(sl_mseries_value(c) == 10);

    sl_mseries_add(g, -5);
    sl_mseries_inc(g);
    assert_true(sl_mseries_value(g) == -4);
    sl_mseries_set(g, 0.25);
    assert_true(sl_mseries_value(g) == 0.25);

    sl_mseries_add(h, 3);
    sl_mseries_set(h, 3);
    sl_mseries_inc(h);
    assert_true(sl_mseries_value(h) == 0);
    sl_mseries_observe(h, 1);
    sl_mseries_observe(h, -7);
    assert_true(sl_mseries_value(h) == 2);

    /* NULL series: no-ops */
    sl_mseries_add(NULL, 1);
    sl_mseries_inc(NULL);
    sl_mseries_set(NULL, 1);
    sl_mseries_observe(NULL, 1);
    assert_true(sl_mseries_value(NULL) == 0);

    assert_render(m, "# HELP c_total C.\n# TYPE c_total counter\nc_total 10\n"
                     "# HELP g G.\n# TYPE g gauge\ng 0.25\n"
                     "# HELP h H.\n# TYPE h histogram\n"
                     "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 2\nh_sum -6\nh_count 2\n");
    sl_metrics_destroy(m);
    sl_metrics_destroy(NULL);
}

/* ---- threads --------------------------------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 100000

typedef struct {
    sl_mfamily *fam;
    sl_mseries *counter, *gauge, *hist;
} thread_ctx;

static void *hammer(void *arg)
{
    thread_ctx *c = arg;
    /* one lookup per thread races the others on the family's table */
    sl_mseries *mine = sl_mfamily_series(c->fam, (const char *const[]){"shared"});
    for (int i = 0; i < PER_THREAD; i++) {
        sl_mseries_inc(c->counter);
        sl_mseries_inc(mine);
        sl_mseries_add(c->gauge, (i & 1) ? 2 : -1);
        sl_mseries_observe(c->hist, (i % 4) * 0.5); /* 0, .5, 1, 1.5 */
    }
    return NULL;
}

static void *scraper(void *arg)
{
    sl_metrics *m = arg;
    for (int i = 0; i < 20; i++) {
        sl_buf b;
        sl_buf_init(&b, 0);
        assert_int_equal(sl_metrics_render(m, &b), SL_OK);
        sl_buf_release(&b);
    }
    return NULL;
}

static void test_threads_exact_totals(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    thread_ctx c;
    c.fam = sl_metrics_family(m, SL_M_COUNTER, "by_label_total", "L.", "k", NULL, 0);
    c.counter =
        sl_mfamily_series0(sl_metrics_family(m, SL_M_COUNTER, "hits_total", "H.", NULL, NULL, 0));
    c.gauge = sl_mfamily_series0(sl_metrics_family(m, SL_M_GAUGE, "level", "L.", NULL, NULL, 0));
    c.hist = sl_mfamily_series0(
        sl_metrics_family(m, SL_M_HISTOGRAM, "size_bytes", "S.", NULL, (double[]){0.5, 1}, 2));
    pthread_t t[THREADS + 1];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &c), 0);
    assert_int_equal(pthread_create(&t[THREADS], NULL, scraper, m), 0);
    for (int i = 0; i <= THREADS; i++)
        pthread_join(t[i], NULL);

    const double total = (double)THREADS * PER_THREAD;
    assert_true(sl_mseries_value(c.counter) == total);
    assert_true(sl_mseries_value(sl_mfamily_series(c.fam, (const char *const[]){"shared"})) ==
                total);
    assert_true(sl_mseries_value(c.gauge) == total / 2);
    assert_true(sl_mseries_value(c.hist) == total);
    char want[1024];
    snprintf(want, sizeof(want),
             "# HELP size_bytes S.\n# TYPE size_bytes histogram\n"
             "size_bytes_bucket{le=\"0.5\"} %d\nsize_bytes_bucket{le=\"1\"} %d\n"
             "size_bytes_bucket{le=\"+Inf\"} %d\nsize_bytes_sum %d\nsize_bytes_count %d\n",
             THREADS * PER_THREAD / 2, THREADS * PER_THREAD * 3 / 4, THREADS * PER_THREAD,
             THREADS * PER_THREAD * 3 / 4, THREADS * PER_THREAD);
    char *got = render(m);
    assert_non_null(strstr(got, want));
    free(got);
    sl_metrics_destroy(m);
}

/* ---- collect callbacks, limits --------------------------------------------------------------- */

typedef struct {
    int calls;
    sl_mseries *rss;
} collect_ctx;

static void collect(void *arg)
{
    collect_ctx *c = arg;
    c->calls++;
    sl_mseries_set(c->rss, (double)sl_process_rss());
}

static void test_on_collect(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    collect_ctx c = {0, NULL};
    c.rss = sl_mfamily_series0(sl_metrics_family(m, SL_M_GAUGE, "process_resident_memory_bytes",
                                                 "Resident memory size in bytes.", NULL, NULL, 0));
    assert_int_equal(sl_metrics_on_collect(m, collect, &c), SL_OK);
    assert_int_equal(sl_metrics_on_collect(m, NULL, &c), SL_INVALID);
    assert_int_equal(sl_metrics_on_collect(NULL, collect, &c), SL_INVALID);
    assert_true(sl_mseries_value(c.rss) == 0);
    char *text = render(m);
    assert_int_equal(c.calls, 1);
    assert_true(sl_mseries_value(c.rss) > 0);
    assert_null(strstr(text, "process_resident_memory_bytes 0\n"));
    free(text);
    text = render(m);
    assert_int_equal(c.calls, 2);
    free(text);
    sl_metrics_destroy(m);
}

static void test_render_failure_leaves_buffer(void **state)
{
    (void)state;
    sl_metrics *m = new_registry();
    sl_mfamily *f =
        sl_metrics_family(m, SL_M_GAUGE, "g", "A gauge with a long help text.", "k", NULL, 0);
    sl_mseries_set(sl_mfamily_series(f, (const char *const[]){"v"}), 1);
    sl_buf b;
    sl_buf_init(&b, 40);
    assert_int_equal(sl_buf_puts(&b, "prefix\n"), SL_OK);
    assert_int_equal(sl_metrics_render(m, &b), SL_FULL);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.ptr, "prefix\n", 7);
    sl_buf_release(&b);
    assert_int_equal(sl_metrics_render(NULL, &b), SL_INVALID);
    assert_int_equal(sl_metrics_render(m, NULL), SL_INVALID);
    sl_metrics_destroy(m);
}

static void test_process_rss(void **state)
{
    (void)state;
    uint64_t rss = sl_process_rss(), peak = sl_process_peak_rss();
    assert_true(rss > 0);
    assert_true(peak > 0);
    assert_true(peak >= rss / 2); /* both from the kernel; loose, the pages move */
}

/* ---- promtool -------------------------------------------------------------------------------- */

#define PROMTOOL "/usr/bin/promtool"

static void test_promtool_accepts_output(void **state)
{
    (void)state;
    if (access(PROMTOOL, X_OK) != 0) {
        printf("promtool not installed (" PROMTOOL "); skipping the promtool check\n");
        skip();
    }
    sl_metrics *m = new_registry();
    sl_mfamily *rows = sl_metrics_family(m, SL_M_COUNTER, "sluice_rows_total",
                                         "Rows accepted, by stream.", "stream", NULL, 0);
    sl_mfamily *req =
        sl_metrics_family(m, SL_M_COUNTER, "sluice_http_requests_total",
                          "HTTP requests by route and status code.", "route,code", NULL, 0);
    sl_mfamily *queue = sl_metrics_family(m, SL_M_GAUGE, "sluice_queue_rows",
                                          "Rows waiting in the queue.", NULL, NULL, 0);
    sl_mfamily *wal = sl_metrics_family(m, SL_M_GAUGE, "sluice_wal_bytes",
                                        "Bytes in the write-ahead log.", NULL, NULL, 0);
    sl_mfamily *odd = sl_metrics_family(m, SL_M_GAUGE, "sluice_odd_values_ratio",
                                        "Values \\ \"quoted\" \n and special.", "k", NULL, 0);
    sl_mfamily *lat = sl_metrics_family(m, SL_M_HISTOGRAM, "sluice_flush_duration_seconds",
                                        "Time to flush one batch to a sink.", "sink", NULL, 0);
    sl_mfamily *size =
        sl_metrics_family(m, SL_M_HISTOGRAM, "sluice_batch_size_bytes", "Batch sizes.", NULL,
                          (double[]){1024, 65536, 1048576, 16777216}, 4);
    sl_mfamily *unused = sl_metrics_family(m, SL_M_COUNTER, "sluice_errors_total",
                                           "Errors, by kind.", "kind", NULL, 0);
    assert_non_null(rows);
    assert_non_null(req);
    assert_non_null(queue);
    assert_non_null(wal);
    assert_non_null(odd);
    assert_non_null(lat);
    assert_non_null(size);
    assert_non_null(unused);
    sl_mseries_add(sl_mfamily_series(rows, (const char *const[]){"clicks"}), 1e6);
    sl_mseries_add(sl_mfamily_series(rows, (const char *const[]){"we\"ird\\\nname\xff"}), 3);
    sl_mseries_inc(sl_mfamily_series(req, (const char *const[]){"/v1/ingest", "200"}));
    sl_mseries_inc(sl_mfamily_series(req, (const char *const[]){"/v1/ingest", "429"}));
    sl_mseries_set(sl_mfamily_series0(queue), 12);
    sl_mseries_set(sl_mfamily_series0(wal), 1e18);
    sl_mseries_set(sl_mfamily_series(odd, (const char *const[]){"nan"}), NAN);
    sl_mseries_set(sl_mfamily_series(odd, (const char *const[]){"inf"}), INFINITY);
    sl_mseries_set(sl_mfamily_series(odd, (const char *const[]){"-inf"}), -INFINITY);
    sl_mseries_set(sl_mfamily_series(odd, (const char *const[]){"tiny"}), 1e-300);
    sl_mseries_set(sl_mfamily_series(odd, (const char *const[]){"third"}), 1.0 / 3);
    sl_mseries_set(sl_mfamily_series(odd, (const char *const[]){""}), -0.0);
    for (int i = 0; i < 50; i++)
        sl_mseries_observe(sl_mfamily_series(lat, (const char *const[]){"s3"}), i * 0.013);
    sl_mfamily_series(lat, (const char *const[]){"pg"});
    sl_mseries_observe(sl_mfamily_series0(size), 5000);

    char *text = render(m);
    char path[] = "/tmp/sluice_metrics_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    free(text);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t got = fread(out, 1, sizeof(out) - 1, p);
    out[got] = '\0';
    int status = pclose(p);
    if (status != 0 || got != 0)
        fprintf(stderr, "promtool (exit %d) on %s:\n%s\n", WEXITSTATUS(status), path, out);
    else
        unlink(path);
    assert_int_equal(status, 0);
    assert_int_equal(got, 0);
    sl_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_small_registry),
        cmocka_unit_test(test_default_buckets_and_unlabelled_histogram),
        cmocka_unit_test(test_number_formatting),
        cmocka_unit_test(test_label_and_help_escaping),
        cmocka_unit_test(test_series_reuse),
        cmocka_unit_test(test_series_cap),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_reregistration),
        cmocka_unit_test(test_update_rules),
        cmocka_unit_test(test_threads_exact_totals),
        cmocka_unit_test(test_on_collect),
        cmocka_unit_test(test_render_failure_leaves_buffer),
        cmocka_unit_test(test_process_rss),
        cmocka_unit_test(test_promtool_accepts_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
