/* server.c: `sluice serve` lifecycle: directories, WAL open and recovery, metrics, the lanes and
 * the HTTP front, then waiting for SIGTERM/SIGINT and a graceful stop (stop accepting, finish
 * the requests in flight, flush every stream, exit 0).
 *
 * Sink watch: when the unit sinks' check fails at start (Kafka offline, S3 unreachable, ...),
 * /readyz and API answers say so from the first request, not only after the first delivery
 * timeout. A thread re-runs the check every WATCH_PERIOD_S until it passes or a lane delivers
 * a unit through a sink of the failing kind; only that thread ever waits for a check.
 *
 * Lock order: srv->mu before any stream's mutex (see stream.c); watch_mu alone.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"
#include "util/fsutil.h"
#include "server/api.h"
#include "sink/router.h"
#include "util/log.h"
#include "wal/wal_internal.h" /* test hooks (SLUICE_TEST_WAL_SYNC_DELAY_MS) */

void sl_serve_config_default(sl_serve_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    c->listen_port = 8080;
    snprintf(c->data_dir, sizeof(c->data_dir), "./data");
    c->open_health = true;
    c->open_metrics = true;
    c->batch_size = 1000000;
    c->target_file_bytes = (uint64_t)64 << 20;
    c->flush_interval = 10;
    c->queue_capacity = 2000000;
    c->cache_bytes = (uint64_t)512 << 20;
    c->wal_max_bytes = (uint64_t)8 << 30;
    c->wal_segment_bytes = (uint64_t)64 << 20;
    c->wal_sync = true;
    c->wal_writeback_bytes = (uint64_t)1 << 20; /* see wal.c "Early write-back" */
    c->wal_spare_segments = 4;                  /* see wal.c "Recycling" */
    c->wal_direct = false; /* measured slower here: see wal.c "Direct I/O" */
    c->max_body_bytes = (uint64_t)1 << 30;
    c->max_header_bytes = 16384;
    c->chunk_bytes = (uint64_t)1 << 20;
    c->max_connections = 256;
    c->per_ip_connections = 0;
    c->connection_timeout = 60;
    c->upload_stall_timeout = 30;
    c->retry_after = 1;
    c->max_errors = 10;
    c->codec = SL_CODEC_SNAPPY;
    c->encode_threads = 0;
    snprintf(c->log_level, sizeof(c->log_level), "info");
    snprintf(c->events_stream, sizeof(c->events_stream), "events");
}

sl_err sl_server_inflight_add(sl_server *srv, uint64_t lsn, size_t *slot)
{
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->ninflight; i++)
        if (!srv->inflight_lsn[i]) {
            srv->inflight_lsn[i] = lsn;
            *slot = i;
            pthread_mutex_unlock(&srv->mu);
            return SL_OK;
        }
    if (srv->ninflight == srv->inflight_cap) {
        size_t cap = srv->inflight_cap ? 2 * srv->inflight_cap : 64;
        uint64_t *p = realloc(srv->inflight_lsn, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&srv->mu);
            return SL_NOMEM;
        }
        srv->inflight_lsn = p;
        srv->inflight_cap = cap;
    }
    srv->inflight_lsn[srv->ninflight] = lsn;
    *slot = srv->ninflight++;
    pthread_mutex_unlock(&srv->mu);
    return SL_OK;
}

void sl_server_inflight_del(sl_server *srv, size_t slot)
{
    pthread_mutex_lock(&srv->mu);
    if (slot < srv->ninflight)
        srv->inflight_lsn[slot] = 0;
    pthread_mutex_unlock(&srv->mu);
}

bool sl_server_cache_take(sl_server *srv, uint64_t bytes)
{
    bool ok = false;
    pthread_mutex_lock(&srv->mu);
    if (srv->cache_used + bytes <= srv->cfg.cache_bytes) {
        srv->cache_used += bytes;
        ok = true;
    }
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

void sl_server_cache_give(sl_server *srv, uint64_t bytes)
{
    pthread_mutex_lock(&srv->mu);
    srv->cache_used = srv->cache_used > bytes ? srv->cache_used - bytes : 0;
    pthread_mutex_unlock(&srv->mu);
    pthread_cond_broadcast(&srv->space_cv);
}

_Noreturn void sl_server_fatal(sl_server *srv, const char *what, sl_err err)
{
    (void)srv;
    sl_log(SL_LOG_ERROR, "fatal: the WAL cannot be trusted any more; exiting without acknowledging "
           "anything else (restart replays what is durable)",
           SL_KS("what", what), SL_KS("error", sl_strerror(err)), SL_KS("errno", strerror(errno)));
    _exit(70);
}

static void on_sync(void *ctx, double seconds, uint64_t bytes)
{
    sl_server *srv = ctx;
    (void)bytes;
    sl_mseries_observe(sl_mfamily_series0(srv->m_fsync), seconds);
}

static void collect(void *ctx)
{
    sl_server *srv = ctx;
    sl_wal_stats ws;
    sl_wal_stats_get(srv->wal, &ws);
    sl_mseries_set(sl_mfamily_series0(srv->m_wal_bytes), (double)ws.bytes);
    sl_mseries_set(sl_mfamily_series0(srv->m_wal_segments), (double)ws.segments);
    sl_mseries_set(sl_mfamily_series0(srv->m_wal_spares), (double)ws.spares);
    sl_mseries_set(sl_mfamily_series0(srv->m_wal_recycled), (double)ws.recycled);
    sl_mseries_set(sl_mfamily_series0(srv->m_queue_rows), (double)sl_streams_queued_rows(srv));
    sl_mseries_set(sl_mfamily_series0(srv->m_rss), (double)sl_process_rss());
    sl_mseries_set(sl_mfamily_series0(srv->m_inflight), (double)atomic_load(&srv->active_requests));
    pthread_mutex_lock(&srv->mu);
    double cache = (double)srv->cache_used;
    pthread_mutex_unlock(&srv->mu);
    sl_mseries_set(sl_mfamily_series0(srv->m_cache), cache);
    sl_mseries_set(sl_mfamily_series0(srv->m_lag), (double)sl_streams_backlog(srv));
    char why[256];
    sl_mseries_set(sl_mfamily_series0(srv->m_up),
                   sl_server_sinks_healthy(srv, why, sizeof(why)) && !ws.broken ? 1 : 0);
}

static const double size_buckets[] = {1024, 16384, 65536, 262144, 1048576, 8388608, 67108864,
                                      268435456, 1073741824};

static sl_err register_metrics(sl_server *srv)
{
    sl_metrics *m = srv->metrics;
    srv->m_rows = sl_metrics_family(m, SL_M_COUNTER, "sluice_ingest_rows_total",
                                    "Rows accepted (durable in the WAL) per stream.", "stream",
                                    NULL, 0);
    srv->m_rejected = sl_metrics_family(m, SL_M_COUNTER, "sluice_ingest_rejected_rows_total",
                                        "Rows rejected per stream and reason.", "stream,code", NULL,
                                        0);
    srv->m_bytes = sl_metrics_family(m, SL_M_COUNTER, "sluice_ingest_bytes_total",
                                     "Request body bytes received (decoded) per stream.", "stream",
                                     NULL, 0);
    srv->m_requests = sl_metrics_family(m, SL_M_COUNTER, "sluice_http_requests_total",
                                        "HTTP requests by route and status code.", "route,code",
                                        NULL, 0);
    srv->m_latency = sl_metrics_family(m, SL_M_HISTOGRAM, "sluice_http_request_duration_seconds",
                                       "Time from request start to answer (ingest: until durable).",
                                       "route", NULL, 0);
    srv->m_throttled = sl_metrics_family(m, SL_M_COUNTER, "sluice_throttled_requests_total",
                                         "Requests answered 429 or slowed, by reason.", "reason",
                                         NULL, 0);
    srv->m_reparsed = sl_metrics_family(
        m, SL_M_COUNTER, "sluice_reparsed_pieces_total",
        "Request pieces parsed again from the WAL (not kept in memory: over the parse cache, or "
        "replayed), by who parsed them: the stream's lane, or helper threads ahead of it.",
        "by", NULL, 0);
    srv->m_flushes = sl_metrics_family(m, SL_M_COUNTER, "sluice_flushes_total",
                                       "Units flushed per stream and trigger.", "stream,reason",
                                       NULL, 0);
    srv->m_files = sl_metrics_family(m, SL_M_COUNTER, "sluice_files_written_total",
                                     "Files published per stream and kind.", "stream,kind", NULL,
                                     0);
    srv->m_out_bytes = sl_metrics_family(m, SL_M_COUNTER, "sluice_output_bytes_total",
                                         "Bytes of files published per stream and kind.",
                                         "stream,kind", NULL, 0);
    srv->m_sink_fail = sl_metrics_family(m, SL_M_COUNTER, "sluice_sink_failures_total",
                                         "Failed writes or uploads to a sink (retried).", "sink",
                                         NULL, 0);
    srv->m_queue_rows = sl_metrics_family(m, SL_M_GAUGE, "sluice_queue_rows",
                                          "Rows acknowledged (durable) but not yet published to the sink.", NULL, NULL, 0);
    srv->m_cache = sl_metrics_family(m, SL_M_GAUGE, "sluice_queue_cache_bytes",
                                     "Memory holding parsed rows waiting for the encoder.", NULL,
                                     NULL, 0);
    srv->m_wal_bytes = sl_metrics_family(m, SL_M_GAUGE, "sluice_wal_bytes",
                                         "Bytes in live WAL segments.", NULL, NULL, 0);
    srv->m_wal_segments = sl_metrics_family(m, SL_M_GAUGE, "sluice_wal_segments",
                                            "Live WAL segments.", NULL, NULL, 0);
    srv->m_wal_spares = sl_metrics_family(m, SL_M_GAUGE, "sluice_wal_spare_segments",
                                          "Released WAL segments kept on disk for reuse.", NULL,
                                          NULL, 0);
    srv->m_wal_recycled = sl_metrics_family(m, SL_M_COUNTER, "sluice_wal_recycled_segments_total",
                                            "WAL segments started in a spare file instead of a new one.",
                                            NULL, NULL, 0);
    srv->m_fsync = sl_metrics_family(m, SL_M_HISTOGRAM, "sluice_wal_fsync_duration_seconds",
                                     "WAL fdatasync latency (one per group commit).", NULL, NULL,
                                     0);
    srv->m_rss = sl_metrics_family(m, SL_M_GAUGE, "sluice_process_resident_memory_bytes",
                                   "Resident set size of the process.", NULL, NULL, 0);
    srv->m_inflight = sl_metrics_family(m, SL_M_GAUGE, "sluice_http_requests_in_flight",
                                        "Requests being served.", NULL, NULL, 0);
    srv->m_lag = sl_metrics_family(m, SL_M_GAUGE, "sluice_recovery_backlog_requests",
                                   "Committed requests replayed from the WAL not yet encoded.",
                                   NULL, NULL, 0);
    srv->m_up = sl_metrics_family(m, SL_M_GAUGE, "sluice_sink_up",
                                  "1 when every stream's sink works, 0 while one is failing.",
                                  NULL, NULL, 0);
    srv->m_body_size = sl_metrics_family(m, SL_M_HISTOGRAM, "sluice_ingest_request_body_bytes",
                                      "Decoded body size of ingest requests.", NULL, size_buckets,
                                      sizeof(size_buckets) / sizeof(size_buckets[0]));
    if (!srv->m_rows || !srv->m_rejected || !srv->m_bytes || !srv->m_requests ||
        !srv->m_latency || !srv->m_throttled || !srv->m_flushes || !srv->m_files ||
        !srv->m_out_bytes || !srv->m_sink_fail || !srv->m_queue_rows || !srv->m_cache ||
        !srv->m_wal_bytes || !srv->m_wal_segments || !srv->m_wal_spares || !srv->m_wal_recycled || !srv->m_fsync || !srv->m_rss ||
        !srv->m_inflight || !srv->m_lag || !srv->m_up || !srv->m_body_size)
        return SL_NOMEM;
    return sl_metrics_on_collect(m, collect, srv);
}

/* Staged files of a previous run are worthless: their rows come again from the WAL. */
static void clean_stage(const char *dir)
{
    char cmd_path[1400];
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(cmd_path, sizeof(cmd_path), "%s/%s", dir, e->d_name);
        unlink(cmd_path);
    }
    closedir(d);
}

/* Requests and lanes allocate and free column buffers of megabytes all the time. glibc's
 * defaults give such blocks back to the kernel (mmap threshold, heap trimming), so every
 * request pays first-touch page faults again (~10-15% of the CPU at 8 MiB requests). Keep freed
 * memory in the process instead: RSS stays at the high-water mark of the working set, which the
 * cache budget and the pools bound anyway. */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    /* One arena. Every thread other than main gets its own arena by default, made of 64 MiB
     * heaps that glibc unmaps as soon as one is entirely free, whatever M_TRIM_THRESHOLD says:
     * a lane freeing a finished Parquet writer, or a connection thread its parse buffers, gave
     * whole heaps back and faulted them in again for the next unit. Measured (2M JSON Lines rows
     * in 8 MiB requests from 2 clients, quiet 2-core VM, 3 alternating runs each): page faults
     * per run 26.5k -> 0.85k, server CPU 0.97-1.02 -> 0.83-0.91 CPU-s per million rows, upload
     * 4-8% faster; 64 KiB and 1 KiB requests used less CPU too (no lock contention showed: the
     * hot paths allocate from per-stream pools; small blocks come from each thread's tcache).
     * An explicit MALLOC_ARENA_MAX or glibc.malloc.arena_max in GLIBC_TUNABLES wins. */
    const char *t = getenv("GLIBC_TUNABLES");
    if (!getenv("MALLOC_ARENA_MAX") && !(t && strstr(t, "glibc.malloc.arena_max")))
        mallopt(M_ARENA_MAX, 1);
}

/* Segment numbers of logs made before origins started at 1; since then a new log starts at the
 * wall clock in ms (about 1.8e12). */
#define CLOCK_SEGMENTS ((uint64_t)1000000000000)

/* DATA/origin: read it, or make it (temp file, fsync, rename, fsync the directory): 16 random
 * hex digits for a new data directory. A directory that has a checkpoint but no origin file
 * was either made by an older sluice (its log numbered from 1: origin '', as its sinks' range
 * markers have none and its units in flight must still find theirs) or has lost the file:
 * then starting with another origin would deliver its units in flight again, so it refuses. */
static sl_err load_origin(sl_server *srv, bool existing_dir, char *msg, size_t msgn)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/origin", srv->cfg.data_dir);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = sl_read_file(path, &b, 64);
    if (err == SL_OK) {
        size_t n = b.len;
        while (n && (b.ptr[n - 1] == '\n' || b.ptr[n - 1] == ' '))
            n--;
        bool ok = n == 0 || n == 16;
        for (size_t i = 0; ok && i < n; i++)
            ok = (b.ptr[i] >= '0' && b.ptr[i] <= '9') || (b.ptr[i] >= 'a' && b.ptr[i] <= 'f');
        if (ok) {
            memcpy(srv->origin, b.ptr, n);
            srv->origin[n] = '\0';
        }
        sl_buf_release(&b);
        if (!ok) {
            snprintf(msg, msgn, "%s is not 16 hex digits; restore it (sinks key what they "
                     "delivered by it) or, for a new data directory, remove it", path);
            return SL_FORMAT;
        }
        return SL_OK;
    }
    sl_buf_release(&b);
    if (err != SL_RETRY) {
        snprintf(msg, msgn, "cannot read %s: %s", path, sl_strerror(err));
        return err;
    }
    srv->origin[0] = '\0';
    sl_wal_stats ws;
    sl_wal_stats_get(srv->wal, &ws);
    if (existing_dir && ws.active_segment >= CLOCK_SEGMENTS) {
        snprintf(msg, msgn, "%s is missing, but this data directory was made with one: restore "
                 "it from a backup (sinks key what they delivered by it); only if no sink holds "
                 "anything of this directory, write 16 random hex digits there", path);
        return SL_FORMAT;
    }
    if (!existing_dir) {
        uint64_t r;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
            snprintf(msg, msgn, "getrandom failed: %s", strerror(errno));
            return SL_IO;
        }
        snprintf(srv->origin, sizeof(srv->origin), "%016" PRIx64, r);
    }
    char line[20];
    int n = snprintf(line, sizeof(line), "%s\n", srv->origin);
    if (sl_write_file_atomic(srv->cfg.data_dir, "origin", line, (size_t)n)) {
        snprintf(msg, msgn, "cannot write %s: %s", path, strerror(errno));
        return SL_IO;
    }
    return SL_OK;
}

/* Factories of the configuration not (yet) taken by the router: each destroyed once. */
static void free_cfg_units(sl_server *srv)
{
    sl_unit_sink_factory *all[SL_MAX_ROUTES + 1];
    size_t na = 0;
    all[na++] = srv->cfg.units;
    for (size_t i = 0; i < srv->cfg.nroutes; i++)
        all[na++] = srv->cfg.routes[i].units;
    for (size_t i = 0; i < na; i++) {
        bool dup = !all[i];
        for (size_t j = 0; j < i && !dup; j++)
            dup = all[j] == all[i];
        if (!dup)
            all[i]->destroy(all[i]);
    }
}

/* Our copy of the configuration must not point at factories the router owns. */
static void disown_units(sl_server *srv)
{
    srv->cfg.units = NULL;
    for (size_t i = 0; i < srv->cfg.nroutes; i++)
        srv->cfg.routes[i].units = NULL;
}

/* ---- sink watch ---------------------------------------------------------------------- */

#define WATCH_PERIOD_S 1.5

static void watch_set_locked(sl_server *srv, const char *kind, const sl_sink_error *se)
{
    snprintf(srv->watch_kind, sizeof(srv->watch_kind), "%s", kind);
    snprintf(srv->watch_why, sizeof(srv->watch_why), "%.15s sink not reachable: %.380s%s%.190s",
             kind, se->message[0] ? se->message : "its check failed",
             se->hint[0] ? "; hint: " : "", se->hint); /* fits: see watch_why */
}

/* The first check, on the opening thread: its result is what /readyz says from the start. */
static void watch_first(sl_server *srv)
{
    sl_sink_error se;
    memset(&se, 0, sizeof(se));
    const char *kind = srv->units->kind;
    if (!sl_unit_router_check(srv->units, &kind, &se))
        return;
    sl_log(SL_LOG_WARN, "sink not reachable at start; data waits in the WAL",
           SL_KS("sink", kind), SL_KS("error", se.message), SL_KS("hint", se.hint));
    pthread_mutex_lock(&srv->watch_mu);
    watch_set_locked(srv, kind, &se);
    pthread_mutex_unlock(&srv->watch_mu);
    atomic_store(&srv->sink_down, true);
}

static void *watch_main(void *arg)
{
    sl_server *srv = arg;
    pthread_mutex_lock(&srv->watch_mu);
    while (!srv->watch_stop && atomic_load(&srv->sink_down)) {
        struct timespec until = sl_deadline_after(WATCH_PERIOD_S);
        pthread_cond_timedwait(&srv->watch_cv, &srv->watch_mu, &until);
        if (srv->watch_stop || !atomic_load(&srv->sink_down))
            break;
        pthread_mutex_unlock(&srv->watch_mu);
        sl_sink_error se;
        memset(&se, 0, sizeof(se));
        const char *kind = srv->units->kind;
        sl_err err = sl_unit_router_check(srv->units, &kind, &se);
        pthread_mutex_lock(&srv->watch_mu);
        if (!atomic_load(&srv->sink_down))
            break; /* a delivery settled it meanwhile */
        if (!err) {
            atomic_store(&srv->sink_down, false);
            sl_log(SL_LOG_INFO, "sink reachable again", SL_KS("sink", srv->watch_kind));
        } else {
            watch_set_locked(srv, kind, &se);
        }
    }
    pthread_mutex_unlock(&srv->watch_mu);
    return NULL;
}

static void watch_stop(sl_server *srv)
{
    if (!srv->watch_started)
        return;
    pthread_mutex_lock(&srv->watch_mu);
    srv->watch_stop = true;
    pthread_cond_broadcast(&srv->watch_cv);
    pthread_mutex_unlock(&srv->watch_mu);
    pthread_join(srv->watch_thread, NULL); /* at most one check's own timeout */
    srv->watch_started = false;
}

bool sl_server_sinks_healthy(sl_server *srv, char *why, size_t n)
{
    if (!sl_streams_healthy(srv, why, n))
        return false;
    if (!atomic_load(&srv->sink_down))
        return true;
    pthread_mutex_lock(&srv->watch_mu);
    bool down = atomic_load(&srv->sink_down);
    if (down)
        snprintf(why, n, "%s", srv->watch_why);
    pthread_mutex_unlock(&srv->watch_mu);
    return !down;
}

void sl_server_sink_delivered(sl_server *srv, const char *kind)
{
    if (!atomic_load(&srv->sink_down))
        return;
    pthread_mutex_lock(&srv->watch_mu);
    if (atomic_load(&srv->sink_down) && !strcmp(kind, srv->watch_kind)) {
        atomic_store(&srv->sink_down, false);
        pthread_cond_broadcast(&srv->watch_cv);
        sl_log(SL_LOG_INFO, "sink delivers; its start check no longer decides readiness",
               SL_KS("sink", kind));
    }
    pthread_mutex_unlock(&srv->watch_mu);
}

const char *sl_server_sink_error(const char *why, char *msg, size_t msgn, char *hint,
                                 size_t hintn)
{
    const char *h = strstr(why, "; hint: ");
    int n = snprintf(msg, msgn, "%.*s", h ? (int)(h - why) : (int)strlen(why), why);
    n = snprintf(hint, hintn, "%s", h ? h + 8 : "");
    (void)n; /* truncation is fine */
    return strstr(why, "kafka_unavailable") ? "kafka_unavailable" : "sink_unavailable";
}

sl_err sl_server_open(const sl_serve_config *cfg, sl_server **out, char *msg, size_t msgn)
{
    tune_malloc();
    sl_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return SL_NOMEM;
    srv->cfg = *cfg;
    srv->sink = cfg->sink; /* owned from here on, even if opening fails */
    srv->cfg.sink = NULL;
    /* the unit-sink factories too: all go into a router, which owns them */
    sl_unit_sink_factory *parquet = NULL;
    srv->units = NULL;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->space_cv, NULL);
    pthread_mutex_init(&srv->watch_mu, NULL);
    pthread_cond_init(&srv->watch_cv, NULL);
    atomic_store(&srv->recovering, true);
    sl_err err;
    snprintf(srv->wal_dir, sizeof(srv->wal_dir), "%s/wal", cfg->data_dir);
    snprintf(srv->out_dir, sizeof(srv->out_dir), "%s/out", cfg->data_dir);
    snprintf(srv->stage_dir, sizeof(srv->stage_dir), "%s/stage", cfg->data_dir);
    snprintf(srv->streams_dir, sizeof(srv->streams_dir), "%s/streams", cfg->data_dir);
    if (!srv->cfg.models_dir[0]) {
        int n = snprintf(srv->cfg.models_dir, sizeof(srv->cfg.models_dir), "%.1000s/models",
                         cfg->data_dir);
        (void)n;
    }
    char ckpt[1200];
    snprintf(ckpt, sizeof(ckpt), "%s/checkpoint", cfg->data_dir);
    bool had_checkpoint = access(ckpt, F_OK) == 0; /* not new: load_origin */
    const char *dirs[] = {cfg->data_dir, srv->wal_dir, srv->out_dir, srv->stage_dir,
                          srv->streams_dir};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (sl_mkdirs(dirs[i])) {
            snprintf(msg, msgn, "cannot create directory %s: %s", dirs[i], strerror(errno));
            err = SL_IO;
            goto fail;
        }
    clean_stage(srv->stage_dir);
    if (!srv->sink)
        srv->sink = sl_sink_local_create(srv->out_dir);
    if (!srv->sink) {
        snprintf(msg, msgn, "out of memory");
        err = SL_NOMEM;
        goto fail;
    }
    sl_pq_opts po;
    sl_pq_opts_default(&po);
    po.codec = cfg->codec;
    /* 0: one encoder per core, like convert (the lane is one thread; with a single encoder it
     * fell behind fast parsers, and the rows it still held were encoded at shutdown or at the
     * next flush on one core) */
    po.threads = cfg->encode_threads > 0 ? cfg->encode_threads
                                         : (int)sysconf(_SC_NPROCESSORS_ONLN);
    /* the pool is per open file (per stream, and per partition up to 1): the default stays
     * small so many streams on a big machine do not start thousands of threads */
    if (cfg->encode_threads <= 0 && po.threads > 4)
        po.threads = 4;
    if (po.threads < 1)
        po.threads = 1;
    srv->encode_threads = po.threads;
    po.row_group_bytes = cfg->target_file_bytes < ((size_t)64 << 20)
                             ? (size_t)cfg->target_file_bytes
                             : ((size_t)64 << 20);
    if (po.row_group_bytes < ((size_t)1 << 20))
        po.row_group_bytes = (size_t)1 << 20;
    parquet = sl_unit_parquet_factory(srv->sink, srv->stage_dir, &po);
    sl_unit_sink_factory *fallback = cfg->units ? cfg->units : parquet;
    if (fallback)
        srv->units = sl_unit_router_create(fallback);
    if (!srv->units) { /* sl_server_close frees cfg's factories */
        if (parquet && parquet != cfg->units)
            parquet->destroy(parquet);
        snprintf(msg, msgn, "out of memory");
        err = SL_NOMEM;
        goto fail;
    }
    /* the router owns every factory from here on, whatever fails next */
    err = parquet ? sl_unit_router_own(srv->units, parquet) : SL_NOMEM;
    for (size_t i = 0; i < cfg->nroutes; i++)
        if (cfg->routes[i].units && sl_unit_router_own(srv->units, cfg->routes[i].units))
            err = SL_NOMEM; /* (own() only fails before taking it; a leak at worst) */
    disown_units(srv);
    for (size_t i = 0; !err && i < cfg->nroutes; i++) {
        err = sl_unit_router_add(srv->units, cfg->routes[i].pattern,
                                 cfg->routes[i].units ? cfg->routes[i].units : parquet);
        if (err == SL_INVALID) {
            snprintf(msg, msgn, "bad stream pattern in a route: '%s'", cfg->routes[i].pattern);
            goto fail;
        }
    }
    if (err) {
        snprintf(msg, msgn, "out of memory");
        goto fail;
    }
    watch_first(srv);
    if (atomic_load(&srv->sink_down)) {
        if (pthread_create(&srv->watch_thread, NULL, watch_main, srv)) {
            snprintf(msg, msgn, "cannot start the sink watch thread");
            err = SL_NOMEM;
            goto fail;
        }
        srv->watch_started = true;
    }
    if ((err = sl_metrics_create(&srv->metrics)) || (err = register_metrics(srv))) {
        snprintf(msg, msgn, "out of memory");
        goto fail;
    }
    sl_wal_opts wo;
    sl_wal_opts_default(&wo);
    wo.dir = srv->wal_dir;
    wo.segment_bytes = cfg->wal_segment_bytes;
    wo.max_bytes = cfg->wal_max_bytes;
    wo.no_sync = !cfg->wal_sync;
    wo.no_direct = !cfg->wal_direct;
    wo.writeback_bytes = cfg->wal_writeback_bytes;
    wo.spare_segments = cfg->wal_spare_segments;
    /* a new log numbers its segments from the wall clock in ms: output names carry the segment
     * (part-{segment}-{first}-{last}), and row numbers restart at 0 in a new data directory, so
     * one publishing where an old one did (same S3 prefix, stream and day) would otherwise
     * overwrite the old one's objects of the same ranges */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    wo.first_segment = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    const char *fs = getenv("SLUICE_TEST_WAL_FIRST_SEGMENT"); /* tests: a log as older sluices made */
    if (fs && *fs)
        wo.first_segment = strtoull(fs, NULL, 10);
    wo.on_sync = on_sync;
    wo.ctx = srv;
    sl_wal_recovery rep;
    memset(&rep, 0, sizeof(rep));
    err = sl_wal_open(&wo, &srv->wal, &rep);
    if (err) {
        snprintf(msg, msgn, "cannot open the WAL in %s: %s%s%s", srv->wal_dir, sl_strerror(err),
                 rep.message[0] ? ": " : "", rep.message);
        goto fail;
    }
    /* tests: slow fsyncs, to watch a request that is logged but not yet durable */
    const char *sd = getenv("SLUICE_TEST_WAL_SYNC_DELAY_MS");
    if (sd && *sd)
        sl__wal_sync_delay(srv->wal, atoi(sd));
    /* after the WAL's lock on the directory: two processes never race for DATA/origin */
    if ((err = load_origin(srv, had_checkpoint, msg, msgn)))
        goto fail;
    if (rep.message[0] || rep.truncated_bytes)
        sl_log(SL_LOG_WARN, "WAL recovered", SL_KS("detail", rep.message),
               SL_KU("truncated_bytes", rep.truncated_bytes),
               SL_KU("quarantined_segments", rep.quarantined));
    if ((err = sl_streams_load(srv))) {
        snprintf(msg, msgn, "cannot load stream definitions or the checkpoint from %s: %s",
                 cfg->data_dir, sl_strerror(err));
        goto fail;
    }
    if ((err = sl_streams_recover(srv))) {
        snprintf(msg, msgn, "WAL recovery failed: %s (see the log above)", sl_strerror(err));
        goto fail;
    }
    if ((err = sl_streams_start(srv))) {
        snprintf(msg, msgn, "cannot start stream threads");
        goto fail;
    }
    if ((err = sl_api_open(srv, msg, msgn))) /* models, jobs: metadata store and job workers */
        goto fail;
    *out = srv;
    return SL_OK;
fail:
    sl_server_close(srv);
    return err;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
    got_signal = sig;
}

static bool ws_direct(sl_server *srv)
{
    sl_wal_stats ws;
    sl_wal_stats_get(srv->wal, &ws);
    return ws.direct;
}

sl_err sl_server_run(sl_server *srv)
{
    char msg[512] = "";
    sl_err err = sl_http_start(srv, msg, sizeof(msg));
    if (err) {
        sl_log(SL_LOG_ERROR, "cannot start the HTTP server", SL_KS("error", msg));
        return err;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    char addr[96];
    snprintf(addr, sizeof(addr), "%s:%u", srv->cfg.listen_host, srv->cfg.listen_port);
    sl_log(SL_LOG_INFO, "listening", SL_KS("address", addr), SL_KS("data_dir", srv->cfg.data_dir),
           SL_KS("version", sl_version()), SL_KB("auth", srv->cfg.tokens != NULL),
           SL_KB("wal_sync", srv->cfg.wal_sync), SL_KB("wal_direct", ws_direct(srv)), SL_KI("encode_threads", srv->encode_threads));
    bool recovered_logged = false;
    while (!got_signal) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (!recovered_logged && sl_streams_backlog(srv) == 0) {
            atomic_store(&srv->recovering, false);
            recovered_logged = true;
        }
    }
    sl_log(SL_LOG_INFO, "shutting down: no new connections, finishing requests, flushing",
           SL_KS("signal", got_signal == SIGINT ? "SIGINT" : "SIGTERM"));
    atomic_store(&srv->stopping, true);
    sl_http_quiesce(srv);
    sl_http_stop(srv);
    sl_api_stop(srv);
    watch_stop(srv);
    sl_streams_stop(srv);
    sl_streams_release_wal(srv);
    sl_log0(SL_LOG_INFO, "stopped");
    return SL_OK;
}

void sl_server_close(sl_server *srv)
{
    if (!srv)
        return;
    sl_api_close(srv);
    watch_stop(srv); /* before the factories it checks go */
    sl_streams_stop(srv);
    sl_streams_free(srv);
    sl_wal_close(srv->wal);
    sl_metrics_destroy(srv->metrics);
    if (srv->units)
        srv->units->destroy(srv->units);
    else
        free_cfg_units(srv);
    if (srv->sink)
        srv->sink->destroy(srv->sink);
    free(srv->inflight_lsn);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->space_cv);
    pthread_mutex_destroy(&srv->watch_mu);
    pthread_cond_destroy(&srv->watch_cv);
    free(srv);
}
