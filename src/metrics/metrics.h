/* metrics.h: Prometheus metrics registry (counters, gauges, histograms) and its text exposition.
 *
 * At startup register families and, where the label values are known, look up their series:
 *
 *     sl_mfamily *f = sl_metrics_family(m, SL_M_COUNTER, "sluice_rows_total", "Rows accepted.",
 *                                       "stream", NULL, 0);
 *     sl_mseries *s = sl_mfamily_series(f, (const char *const[]){"clicks"});
 *     ...
 *     sl_mseries_add(s, (double)nrows);       // hot path: a few relaxed atomics, no lock
 *
 * and GET /metrics calls sl_metrics_render(). Families and series live until
 * sl_metrics_destroy(); their pointers are stable, so callers cache them. Every update accepts a
 * NULL series as a no-op, so a failed registration (NULL) degrades to "not counted", never to a
 * crash; check registrations at startup all the same.
 *
 * Thread-safety: everything is thread-safe except sl_metrics_destroy(), which must run after all
 * other use. Updates are lock-free; registration, series lookup and rendering take mutexes.
 */
#ifndef SL_METRICS_METRICS_H
#define SL_METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sluice.h"
#include "util/buf.h"

#define SL_M_MAX_LABELS 4
#define SL_M_MAX_SERIES 10000 /* per family */
#define SL_M_MAX_BUCKETS 64

typedef struct sl_metrics sl_metrics; /* a registry */
typedef struct sl_mfamily sl_mfamily; /* one metric name with fixed label names */
typedef struct sl_mseries sl_mseries; /* one labelled time series; pointer stable until
                                         sl_metrics_destroy */
typedef enum { SL_M_COUNTER, SL_M_GAUGE, SL_M_HISTOGRAM } sl_mtype;

/* An empty registry; on SL_OK *out is yours (sl_metrics_destroy). SL_NOMEM. */
SL_NODISCARD sl_err sl_metrics_create(sl_metrics **out);
/* Frees the registry with its families and series. NULL is a no-op. */
void sl_metrics_destroy(sl_metrics *m);

/* Registers a family. name: Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*; counters must end in
 * "_total"). help: one line, required (newlines and backslashes are escaped on render).
 * labels: comma-separated label names ("stream,code"), NULL or "" for none; at most
 * SL_M_MAX_LABELS, each [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", not "le", no duplicates.
 * buckets: histograms only (NULL otherwise): finite upper bounds, strictly increasing, at most
 * SL_M_MAX_BUCKETS; +Inf is implied. NULL = default latency buckets in seconds
 * (.0005 .001 .0025 .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10). Strings and buckets are copied.
 *
 * Registering the same name again with the same type, help, labels and buckets returns the
 * existing family (so two components may share one); any other clash, including with the
 * _bucket/_sum/_count names of a histogram, returns NULL. A family without labels gets its one
 * series at once, so it renders 0 before the first update.
 * Returns NULL on invalid arguments or OOM. Not for the hot path. Thread-safe. */
sl_mfamily *sl_metrics_family(sl_metrics *m, sl_mtype type, const char *name, const char *help,
                              const char *labels, const double *buckets, size_t nbuckets);

/* The series for these label values (one per label name, in the family's order; NULL when the
 * family has none; a NULL value is taken as ""), created on first use, then the same pointer.
 * Values are copied, and escaped on render (invalid UTF-8 is rendered as U+FFFD). NULL if f is
 * NULL, label_values is missing, on OOM or past SL_M_MAX_SERIES series in the family.
 * Thread-safe: a hash lookup under the family's mutex; cache the pointer where you can. */
sl_mseries *sl_mfamily_series(sl_mfamily *f, const char *const *label_values);
/* The series of a family without labels (NULL if f is NULL or has labels). */
sl_mseries *sl_mfamily_series0(sl_mfamily *f);

/* Updates: lock-free (relaxed atomics), safe from any thread; a NULL series is a no-op, and so
 * is an update that does not fit the series' type. */
void sl_mseries_add(sl_mseries *s, double v); /* counter (v >= 0; else ignored) or gauge */
void sl_mseries_inc(sl_mseries *s);           /* add 1 */
/* Gauge; also counters, to mirror a total kept elsewhere (e.g. from an on_collect callback). */
void sl_mseries_set(sl_mseries *s, double v);
void sl_mseries_observe(sl_mseries *s, double v); /* histogram: bucket, count and sum */
/* Counter/gauge value; for a histogram the number of observations; 0 for NULL. */
double sl_mseries_value(const sl_mseries *s);

/* Adds a callback run at the start of every render, in the order added, e.g. to set gauges for
 * queue length, RSS, WAL bytes. It runs on the rendering thread, one render at a time; it may
 * update series and look them up, but must not call sl_metrics_render(). SL_INVALID, SL_NOMEM. */
SL_NODISCARD sl_err sl_metrics_on_collect(sl_metrics *m, void (*fn)(void *ctx), void *ctx);

/* Appends every family in registration order in the Prometheus text exposition format 0.0.4:
 * # HELP, # TYPE, then the series in creation order; histograms as cumulative
 * _bucket{...,le="..."} lines ending with le="+Inf", then _sum and _count (which always equals
 * the +Inf bucket). Integral values print without exponent or decimal point below 1e15, others
 * with the fewest digits (up to 17) that read back exactly; NaN, +Inf, -Inf as such.
 * On failure (SL_NOMEM, SL_FULL from out's cap) out is left as it was. Thread-safe against
 * updates, which a render sees individually (not as one snapshot). */
SL_NODISCARD sl_err sl_metrics_render(sl_metrics *m, sl_buf *out);

/* Resident set size of this process in bytes (/proc/self/statm), 0 if unknown. */
uint64_t sl_process_rss(void);
/* Peak resident set size in bytes (VmHWM in /proc/self/status), 0 if unknown. */
uint64_t sl_process_peak_rss(void);

#endif
