/* metrics.c: Prometheus registry and text exposition (format 0.0.4); see metrics.h.
 *
 * Layout: a registry holds its families in registration order; a family holds its series in
 * creation order plus an open-addressing hash table (FNV-1a over the label values) that maps label
 * values to a series. Series are allocated one by one and never moved or freed before
 * sl_metrics_destroy(), which is what makes cached sl_mseries pointers safe.
 *
 * Values: a counter or gauge is a double kept as its bit pattern in an _Atomic uint64_t, updated
 * by a relaxed compare-exchange loop (add) or store (set). A histogram keeps per-bucket
 * non-cumulative counts (the last slot is +Inf) and the sum of observations; an observation is one
 * fetch_add on its bucket plus the CAS loop on the sum. The count is not stored: render adds the
 * buckets up, so _count always equals the +Inf bucket even while observations race with it.
 *
 * Invariants: label names, buckets, help and name are fixed after registration and read without
 * locks; series[] and table[] change only under the family's mutex.
 *
 * Lock order: render_mu -> registry mu -> family mu. Collect callbacks run under render_mu alone,
 * so they may register families and look up series.
 */
#include "metrics/metrics.h"

#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

struct sl_mseries {
    const sl_mfamily *fam;
    uint64_t hash;
    _Atomic uint64_t val;                /* counter/gauge value or histogram sum: double bits */
    const char *values[SL_M_MAX_LABELS]; /* point into the same allocation, after buckets[] */
    _Atomic uint64_t buckets[];          /* histogram: nbounds + 1 counts, last is +Inf */
};

struct sl_mfamily {
    sl_mtype type;
    char *name;
    char *help;
    char *label_block; /* the label list, commas replaced by NULs */
    const char *labels[SL_M_MAX_LABELS];
    size_t nlabels;
    double *bounds;
    size_t nbounds;
    sl_mseries *s0; /* the series of a family without labels */

    pthread_mutex_t mu; /* guards everything below */
    sl_mseries **series;
    size_t nseries;
    size_t series_cap;
    sl_mseries **table; /* power-of-two size, at most half full */
    size_t table_cap;
};

typedef struct {
    void (*fn)(void *ctx);
    void *ctx;
} collector;

struct sl_metrics {
    pthread_mutex_t render_mu; /* one render (and its callbacks) at a time */
    pthread_mutex_t mu;        /* guards fams and cbs */
    sl_mfamily **fams;
    size_t nfams;
    size_t fams_cap;
    collector *cbs;
    size_t ncbs;
    size_t cbs_cap;
};

static const double default_buckets[] = {.0005, .001, .0025, .005, .01, .025, .05,
                                         .1,    .25,  .5,    1,    2.5, 5,    10};

/* ---- atomic doubles -------------------------------------------------------------------------- */

static inline uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static inline double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static void atomic_add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

static double load_double(const _Atomic uint64_t *a)
{
    /* a load does not write; the cast keeps older compilers happy about const atomics */
    return bitsd(atomic_load_explicit((_Atomic uint64_t *)a, memory_order_relaxed));
}

/* ---- registry -------------------------------------------------------------------------------- */

sl_err sl_metrics_create(sl_metrics **out)
{
    sl_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return SL_NOMEM;
    if (pthread_mutex_init(&m->render_mu, NULL))
        goto out_free;
    if (pthread_mutex_init(&m->mu, NULL))
        goto out_destroy_render_mu;
    *out = m;
    return SL_OK;
out_destroy_render_mu:
    pthread_mutex_destroy(&m->render_mu);
out_free:
    free(m);
    return SL_NOMEM;
}

static void family_free(sl_mfamily *f)
{
    for (size_t i = 0; i < f->nseries; i++)
        free(f->series[i]);
    free(f->series);
    free(f->table);
    free(f->bounds);
    free(f->label_block);
    free(f->help);
    free(f->name);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void sl_metrics_destroy(sl_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfams; i++)
        family_free(m->fams[i]);
    free(m->fams);
    free(m->cbs);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->render_mu);
    free(m);
}

sl_err sl_metrics_on_collect(sl_metrics *m, void (*fn)(void *ctx), void *ctx)
{
    if (!m || !fn)
        return SL_INVALID;
    sl_err err = SL_OK;
    pthread_mutex_lock(&m->mu);
    if (m->ncbs == m->cbs_cap) {
        size_t cap = m->cbs_cap ? m->cbs_cap * 2 : 4;
        collector *p = realloc(m->cbs, cap * sizeof(*p));
        if (!p) {
            err = SL_NOMEM;
            goto out_unlock;
        }
        m->cbs = p;
        m->cbs_cap = cap;
    }
    m->cbs[m->ncbs++] = (collector){fn, ctx};
out_unlock:
    pthread_mutex_unlock(&m->mu);
    return err;
}

/* ---- family registration --------------------------------------------------------------------- */

static bool is_metric_name(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && (p == s || c < '0' || c > '9'))
            return false;
    }
    return true;
}

static bool is_label_name(const char *s)
{
    if (!*s || (s[0] == '_' && s[1] == '_') || strcmp(s, "le") == 0)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && (p == s || c < '0' || c > '9'))
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Whether `full` is `base` followed by one of the names a histogram adds. */
static bool is_histogram_child(const char *full, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(full, base, n) != 0)
        return false;
    const char *rest = full + n;
    return !strcmp(rest, "_bucket") || !strcmp(rest, "_sum") || !strcmp(rest, "_count");
}

/* Splits a copy of `labels` into f->labels. */
static sl_err parse_labels(sl_mfamily *f, const char *labels)
{
    if (!labels || !*labels)
        return SL_OK;
    f->label_block = strdup(labels);
    if (!f->label_block)
        return SL_NOMEM;
    char *p = f->label_block;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (f->nlabels == SL_M_MAX_LABELS || !is_label_name(p))
            return SL_INVALID;
        for (size_t i = 0; i < f->nlabels; i++) {
            if (strcmp(f->labels[i], p) == 0)
                return SL_INVALID;
        }
        f->labels[f->nlabels++] = p;
        if (!comma)
            return SL_OK;
        p = comma + 1;
    }
}

static sl_err copy_buckets(sl_mfamily *f, const double *buckets, size_t nbuckets)
{
    if (f->type != SL_M_HISTOGRAM)
        return buckets || nbuckets ? SL_INVALID : SL_OK;
    if (!buckets) {
        if (nbuckets)
            return SL_INVALID;
        buckets = default_buckets;
        nbuckets = sizeof(default_buckets) / sizeof(default_buckets[0]);
    }
    if (nbuckets > SL_M_MAX_BUCKETS)
        return SL_INVALID;
    for (size_t i = 0; i < nbuckets; i++) {
        if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
            return SL_INVALID;
    }
    if (nbuckets) {
        f->bounds = malloc(nbuckets * sizeof(double));
        if (!f->bounds)
            return SL_NOMEM;
        memcpy(f->bounds, buckets, nbuckets * sizeof(double));
    }
    f->nbounds = nbuckets;
    return SL_OK;
}

static bool same_definition(const sl_mfamily *a, const sl_mfamily *b)
{
    if (a->type != b->type || strcmp(a->help, b->help) != 0 || a->nlabels != b->nlabels ||
        a->nbounds != b->nbounds)
        return false;
    for (size_t i = 0; i < a->nlabels; i++) {
        if (strcmp(a->labels[i], b->labels[i]) != 0)
            return false;
    }
    for (size_t i = 0; i < a->nbounds; i++) {
        if (a->bounds[i] != b->bounds[i])
            return false;
    }
    return true;
}

static sl_mseries *series_get(sl_mfamily *f, const char *const *values);

sl_mfamily *sl_metrics_family(sl_metrics *m, sl_mtype type, const char *name, const char *help,
                              const char *labels, const double *buckets, size_t nbuckets)
{
    if (!m || (type != SL_M_COUNTER && type != SL_M_GAUGE && type != SL_M_HISTOGRAM) || !name ||
        !is_metric_name(name) || !help || !*help)
        return NULL;
    if (type == SL_M_COUNTER && (!ends_with(name, "_total") || strcmp(name, "_total") == 0))
        return NULL;

    sl_mfamily *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->type = type;
    if (pthread_mutex_init(&f->mu, NULL)) {
        free(f);
        return NULL;
    }
    f->name = strdup(name);
    f->help = strdup(help);
    if (!f->name || !f->help)
        goto out_free_family;
    if (parse_labels(f, labels) || copy_buckets(f, buckets, nbuckets))
        goto out_free_family;
    if (f->nlabels == 0) {
        f->s0 = series_get(f, NULL);
        if (!f->s0)
            goto out_free_family;
    }

    sl_mfamily *ret = NULL;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->nfams; i++) {
        sl_mfamily *o = m->fams[i];
        if (strcmp(o->name, name) == 0) {
            if (same_definition(o, f))
                ret = o;
            goto out_unlock;
        }
        if ((o->type == SL_M_HISTOGRAM && is_histogram_child(name, o->name)) ||
            (type == SL_M_HISTOGRAM && is_histogram_child(o->name, name)))
            goto out_unlock;
    }
    if (m->nfams == m->fams_cap) {
        size_t cap = m->fams_cap ? m->fams_cap * 2 : 16;
        sl_mfamily **p = realloc(m->fams, cap * sizeof(*p));
        if (!p)
            goto out_unlock;
        m->fams = p;
        m->fams_cap = cap;
    }
    m->fams[m->nfams++] = f;
    ret = f;
    f = NULL;
out_unlock:
    pthread_mutex_unlock(&m->mu);
    if (f)
        family_free(f);
    return ret;
out_free_family:
    family_free(f);
    return NULL;
}

/* ---- series ---------------------------------------------------------------------------------- */

static uint64_t hash_values(size_t n, const char *const *values)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i] ? values[i] : "";
        for (const unsigned char *p = (const unsigned char *)v; *p; p++)
            h = (h ^ *p) * 0x100000001b3u;
        h = (h ^ 0xffu) * 0x100000001b3u; /* separator: ("ab","") and ("a","b") differ */
    }
    return h;
}

static bool values_equal(const sl_mseries *s, size_t n, const char *const *values)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
            return false;
    }
    return true;
}

static void table_insert(sl_mseries **table, size_t cap, sl_mseries *s)
{
    size_t i = (size_t)s->hash & (cap - 1);
    while (table[i])
        i = (i + 1) & (cap - 1);
    table[i] = s;
}

/* Room for one more series in series[] and table[]; on failure nothing changed. */
static sl_err series_reserve(sl_mfamily *f)
{
    if (f->nseries == f->series_cap) {
        size_t cap = f->series_cap ? f->series_cap * 2 : 8;
        sl_mseries **p = realloc(f->series, cap * sizeof(*p));
        if (!p)
            return SL_NOMEM;
        f->series = p;
        f->series_cap = cap;
    }
    if ((f->nseries + 1) * 2 > f->table_cap) {
        size_t cap = f->table_cap ? f->table_cap * 2 : 16;
        sl_mseries **t = calloc(cap, sizeof(*t));
        if (!t)
            return SL_NOMEM;
        for (size_t i = 0; i < f->nseries; i++)
            table_insert(t, cap, f->series[i]);
        free(f->table);
        f->table = t;
        f->table_cap = cap;
    }
    return SL_OK;
}

static sl_mseries *series_new(const sl_mfamily *f, uint64_t hash, const char *const *values)
{
    size_t nb = f->type == SL_M_HISTOGRAM ? f->nbounds + 1 : 0;
    size_t head = sizeof(sl_mseries) + nb * sizeof(_Atomic uint64_t);
    size_t lens[SL_M_MAX_LABELS];
    size_t total = head;
    for (size_t i = 0; i < f->nlabels; i++) {
        lens[i] = strlen(values[i] ? values[i] : "");
        total += lens[i] + 1;
    }
    sl_mseries *s = calloc(1, total);
    if (!s)
        return NULL;
    s->fam = f;
    s->hash = hash;
    atomic_init(&s->val, dbits(0.0));
    for (size_t i = 0; i < nb; i++)
        atomic_init(&s->buckets[i], 0);
    char *p = (char *)s + head;
    for (size_t i = 0; i < f->nlabels; i++) {
        sl_memcpy(p, values[i], lens[i]);
        p[lens[i]] = '\0';
        s->values[i] = p;
        p += lens[i] + 1;
    }
    return s;
}

static sl_mseries *series_get(sl_mfamily *f, const char *const *values)
{
    uint64_t h = hash_values(f->nlabels, values);
    sl_mseries *s = NULL;
    pthread_mutex_lock(&f->mu);
    if (f->table_cap) {
        for (size_t i = (size_t)h & (f->table_cap - 1); f->table[i];
             i = (i + 1) & (f->table_cap - 1)) {
            sl_mseries *c = f->table[i];
            if (c->hash == h && values_equal(c, f->nlabels, values)) {
                s = c;
                goto out_unlock;
            }
        }
    }
    if (f->nseries >= SL_M_MAX_SERIES || series_reserve(f))
        goto out_unlock;
    s = series_new(f, h, values);
    if (!s)
        goto out_unlock;
    f->series[f->nseries++] = s;
    table_insert(f->table, f->table_cap, s);
out_unlock:
    pthread_mutex_unlock(&f->mu);
    return s;
}

sl_mseries *sl_mfamily_series(sl_mfamily *f, const char *const *label_values)
{
    if (!f)
        return NULL;
    if (f->nlabels == 0)
        return f->s0;
    if (!label_values)
        return NULL;
    return series_get(f, label_values);
}

sl_mseries *sl_mfamily_series0(sl_mfamily *f)
{
    return f ? f->s0 : NULL;
}

/* ---- updates --------------------------------------------------------------------------------- */

void sl_mseries_add(sl_mseries *s, double v)
{
    if (!s)
        return;
    switch (s->fam->type) {
    case SL_M_COUNTER:
        if (!(v >= 0)) /* also NaN */
            return;
        break;
    case SL_M_GAUGE:
        break;
    default:
        return;
    }
    atomic_add_double(&s->val, v);
}

void sl_mseries_inc(sl_mseries *s)
{
    sl_mseries_add(s, 1.0);
}

void sl_mseries_set(sl_mseries *s, double v)
{
    if (!s || s->fam->type == SL_M_HISTOGRAM)
        return;
    atomic_store_explicit(&s->val, dbits(v), memory_order_relaxed);
}

void sl_mseries_observe(sl_mseries *s, double v)
{
    if (!s || s->fam->type != SL_M_HISTOGRAM)
        return;
    /* first bound >= v; NaN compares false everywhere and lands in +Inf */
    const double *b = s->fam->bounds;
    size_t lo = 0, hi = s->fam->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= b[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
    atomic_add_double(&s->val, v);
}

static uint64_t histogram_count(const sl_mseries *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= s->fam->nbounds; i++)
        n += atomic_load_explicit((_Atomic uint64_t *)&s->buckets[i], memory_order_relaxed);
    return n;
}

double sl_mseries_value(const sl_mseries *s)
{
    if (!s)
        return 0;
    if (s->fam->type == SL_M_HISTOGRAM)
        return (double)histogram_count(s);
    return load_double(&s->val);
}

/* ---- rendering ------------------------------------------------------------------------------- */

/* Appends to b, keeping the first error; later appends are no-ops. */
typedef struct {
    sl_buf *b;
    sl_err err;
} writer;

static void w_put(writer *w, const char *s, size_t n)
{
    if (!w->err)
        w->err = sl_buf_append(w->b, s, n);
}

static void w_puts(writer *w, const char *s)
{
    w_put(w, s, strlen(s));
}

/* Prometheus number: integral -> digits; else shortest of %.15g..%.17g that round-trips.
 * Assumes the C numeric locale (the service never calls setlocale). */
static void fmt_num(char out[40], double v)
{
    if (isnan(v)) {
        strcpy(out, "NaN");
    } else if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
    } else if (v == trunc(v) && fabs(v) < 1e15) {
        snprintf(out, 40, "%" PRId64, (int64_t)v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, 40, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
}

static void w_num(writer *w, double v)
{
    char num[40];
    fmt_num(num, v);
    w_puts(w, num);
}

static void w_u64(writer *w, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, v);
    w_put(w, num, (size_t)n);
}

/* Escapes \ and newline (and " when in_quotes); bad UTF-8 bytes become U+FFFD, because one
 * invalid label value makes Prometheus reject the whole scrape. */
static void w_escaped(writer *w, const char *s, bool in_quotes)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), run = 0, i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t len = 1;
        const char *rep = NULL;
        if (c == '\\')
            rep = "\\\\";
        else if (c == '\n')
            rep = "\\n";
        else if (c == '"' && in_quotes)
            rep = "\\\"";
        else if (c >= 0x80 && (len = sl__utf8_seq_len(p + i, n - i)) == 0)
            rep = "\xef\xbf\xbd", len = 1;
        if (rep) {
            w_put(w, s + run, i - run);
            w_puts(w, rep);
            run = i + len;
        }
        i += len;
    }
    w_put(w, s + run, n - run);
}

/* {a="x",b="y",le="0.5"}; nothing when there are no labels and no le. */
static void w_labels(writer *w, const sl_mseries *s, const char *le)
{
    const sl_mfamily *f = s->fam;
    if (f->nlabels == 0 && !le)
        return;
    w_put(w, "{", 1);
    for (size_t i = 0; i < f->nlabels; i++) {
        if (i)
            w_put(w, ",", 1);
        w_puts(w, f->labels[i]);
        w_put(w, "=\"", 2);
        w_escaped(w, s->values[i], true);
        w_put(w, "\"", 1);
    }
    if (le) {
        w_puts(w, f->nlabels ? ",le=\"" : "le=\"");
        w_puts(w, le);
        w_put(w, "\"", 1);
    }
    w_put(w, "}", 1);
}

static void w_histogram(writer *w, const sl_mseries *s)
{
    const sl_mfamily *f = s->fam;
    uint64_t cum = 0;
    for (size_t i = 0; i <= f->nbounds; i++) {
        char le[40];
        if (i < f->nbounds)
            fmt_num(le, f->bounds[i]);
        else
            strcpy(le, "+Inf");
        cum += atomic_load_explicit((_Atomic uint64_t *)&s->buckets[i], memory_order_relaxed);
        w_puts(w, f->name);
        w_puts(w, "_bucket");
        w_labels(w, s, le);
        w_put(w, " ", 1);
        w_u64(w, cum);
        w_put(w, "\n", 1);
    }
    w_puts(w, f->name);
    w_puts(w, "_sum");
    w_labels(w, s, NULL);
    w_put(w, " ", 1);
    w_num(w, load_double(&s->val));
    w_put(w, "\n", 1);
    w_puts(w, f->name);
    w_puts(w, "_count");
    w_labels(w, s, NULL);
    w_put(w, " ", 1);
    w_u64(w, cum);
    w_put(w, "\n", 1);
}

static void w_family(writer *w, sl_mfamily *f)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    w_puts(w, "# HELP ");
    w_puts(w, f->name);
    w_put(w, " ", 1);
    w_escaped(w, f->help, false);
    w_puts(w, "\n# TYPE ");
    w_puts(w, f->name);
    w_put(w, " ", 1);
    w_puts(w, type_names[f->type]);
    w_put(w, "\n", 1);
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nseries && !w->err; i++) {
        const sl_mseries *s = f->series[i];
        if (f->type == SL_M_HISTOGRAM) {
            w_histogram(w, s);
            continue;
        }
        w_puts(w, f->name);
        w_labels(w, s, NULL);
        w_put(w, " ", 1);
        w_num(w, load_double(&s->val));
        w_put(w, "\n", 1);
    }
    pthread_mutex_unlock(&f->mu);
}

sl_err sl_metrics_render(sl_metrics *m, sl_buf *out)
{
    if (!m || !out)
        return SL_INVALID;
    writer w = {out, SL_OK};
    size_t start = out->len;
    pthread_mutex_lock(&m->render_mu);

    /* Callbacks run without m->mu so they may register; a copy of the list keeps them safe
     * from a concurrent sl_metrics_on_collect() growing it. */
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&m->mu);
        collector c = {NULL, NULL};
        if (i < m->ncbs)
            c = m->cbs[i];
        pthread_mutex_unlock(&m->mu);
        if (!c.fn)
            break;
        c.fn(c.ctx);
    }

    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->nfams && !w.err; i++)
        w_family(&w, m->fams[i]);
    pthread_mutex_unlock(&m->mu);

    pthread_mutex_unlock(&m->render_mu);
    if (w.err)
        out->len = start;
    return w.err;
}

/* ---- process memory -------------------------------------------------------------------------- */

/* Reads up to n-1 bytes of a small /proc file, NUL-terminated; false on failure. */
static bool read_proc(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t len = 0;
    while (len < n - 1) {
        ssize_t r = read(fd, buf + len, n - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    return len > 0;
}

uint64_t sl_process_rss(void)
{
    char buf[256];
    unsigned long long size, resident;
    if (!read_proc("/proc/self/statm", buf, sizeof(buf)) ||
        sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}

uint64_t sl_process_peak_rss(void)
{
    char buf[4096];
    unsigned long long kb;
    if (!read_proc("/proc/self/status", buf, sizeof(buf)))
        return 0;
    const char *p = strstr(buf, "VmHWM:");
    if (!p || sscanf(p + 6, "%llu", &kb) != 1)
        return 0;
    return (uint64_t)kb * 1024;
}
