/* server.h: `sluice serve`: the durable HTTP ingest service (internal to src/server).
 *
 * Pieces:
 *   http.c    libmicrohttpd handlers: routing, auth, HTTP hygiene, request bodies cut into
 *             record-aligned pieces, parsed (body_parse.h), appended to the WAL as DATA records,
 *             then one COMMIT record per request; the answer waits for the group commit.
 *   stream.c  streams (a schema and row/reject sequence numbers), one lane thread per stream
 *             that turns committed requests into Parquet files and rejects files, flushed on
 *             rows / bytes / age, named from the row range, published atomically; a checkpoint
 *             file; recovery from the WAL after a crash.
 *   server.c  configuration defaults, start (WAL open, recovery), metrics, readiness, shutdown.
 *
 * WAL records (little-endian):
 *   DATA   (type 1): u64 txn, u32 piece, u8 format, u8 flags, u16 header_len, u64 first_line,
 *                    header bytes (CSV header record), then the piece's records (raw text).
 *   COMMIT (type 2): u64 txn, u64 first_data_lsn, u32 ndata, u8 format, u8 flags, u16 name_len,
 *                    u64 first_row, u64 nrows, u64 first_reject, u64 nrejects, i64 received_us,
 *                    stream name.
 *   A request is in the log only if its COMMIT is: DATA records of a request that failed, was
 *   rejected (strict mode) or was cut by a crash are ignored by recovery and released with the
 *   segments that hold them.
 *
 * Exactly once: every accepted row gets a per-stream sequence number when its request's COMMIT
 * is appended (under the stream's mutex, so numbers follow log order). A flush writes rows
 * [a, b] and rejects [r, s] to files named from those numbers. The checkpoint records, per
 * stream, the rows and rejects already published, and an intent (a, b, r, s) written before
 * publishing, so a flush repeated after a crash cuts at the same rows and replaces the same
 * files. WAL segments are released only below every record still needed.
 */
#ifndef SL_SERVER_SERVER_H
#define SL_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics/metrics.h"
#include "server/body_parse.h"
#include "sink/sink.h"
#include "sink/unit_sink.h"
#include "sluice.h"
#include "util/buf.h"
#include "wal/wal.h"

#define SL_REC_DATA 1
#define SL_REC_COMMIT 2

#define SL_TXNF_UNKNOWN_REJECT 1 /* JSON: unknown keys reject the row */
#define SL_TXNF_EVENT_REJECTS 2  /* events in dlq mode: dead-letter lines (body_parse.h) */

#define SL_MAX_ROUTES 32

typedef struct {
    char pattern[72];           /* stream name, or a prefix ending in '*' */
    sl_unit_sink_factory *units; /* NULL: Parquet files through the file sink */
} sl_stream_route;

typedef struct sl_serve_config {
    char listen_host[64];
    unsigned listen_port;
    char data_dir[1024];
    char models_dir[1024];      /* default DATA/models */
    char **tokens;              /* bearer tokens (NULL-terminated), NULL = no auth */
    bool open_health;           /* /healthz, /readyz without a token (default true) */
    bool open_metrics;          /* /metrics without a token (default true) */
    uint64_t batch_size;        /* rows per file (BATCH_SIZE), default 1,000,000 */
    uint64_t target_file_bytes; /* flush when the open file holds this many uncompressed bytes */
    double flush_interval;      /* seconds; flush a file this old (SLUICE_FLUSH_INTERVAL) */
    uint64_t queue_capacity;    /* rows acknowledged, not yet published (QUEUE_CAPACITY) */
    uint64_t cache_bytes;       /* memory for parsed rows waiting for the encoder */
    uint64_t wal_max_bytes;
    uint64_t wal_segment_bytes;
    bool wal_sync;              /* false: no fdatasync (benchmarks only; not durable) */
    uint64_t wal_writeback_bytes; /* early write-back of the WAL every N bytes (0: off) */
    unsigned wal_spare_segments;  /* released WAL segments kept for reuse (see wal.c "Recycling") */
    bool wal_direct;            /* large WAL records with O_DIRECT where the file system allows */
    uint64_t max_body_bytes;    /* decoded body limit (413) */
    uint64_t max_header_bytes;  /* 431 */
    uint64_t chunk_bytes;       /* body piece parsed and logged at once */
    unsigned max_connections;
    unsigned per_ip_connections;
    unsigned connection_timeout; /* seconds of inactivity */
    double upload_stall_timeout; /* seconds a running upload may wait for WAL space */
    unsigned retry_after;        /* seconds, in 429 answers */
    unsigned max_errors;         /* rejected rows listed in an answer */
    bool default_strict;         /* mode when the request does not say */
    sl_codec codec;
    int encode_threads;
    char log_level[16];
    sl_file_sink *sink;          /* where files go; NULL = local DATA/out. The server owns it. */
    sl_unit_sink_factory *units; /* where rows go; NULL = Parquet files through `sink`. Owned. */
    sl_stream_route routes[SL_MAX_ROUTES]; /* per-stream exceptions to `units`; factories owned */
    size_t nroutes;
    char events_stream[72];   /* stream of POST /v1/events (default "events") */
    bool events_generate_ids; /* event without event_id: generate a UUIDv7 (else 422) */
} sl_serve_config;

void sl_serve_config_default(sl_serve_config *c);

typedef struct sl_server sl_server;

/* A committed request handed to its stream's lane. */
typedef struct sl_stream sl_stream;

typedef struct sl_txn {
    struct sl_txn *next;
    uint64_t txn;
    uint64_t first_data_lsn;
    uint64_t commit_lsn;
    uint64_t commit_segment;
    int64_t received_us;
    uint64_t first_row, nrows;
    uint64_t first_reject, nrejects;
    uint8_t format; /* sl_format */
    uint8_t flags;
    /* parsed on ingest (NULL: parse again from the WAL) */
    sl_batch **batches; /* one per DATA record (piece), ndata of them; NULL: not cached */
    sl_stream *pool_owner; /* batches go back to this stream's pool (or NULL: freed) */
    sl_buf rejects;     /* NDJSON lines, when batches != NULL */
    uint64_t cache_charge; /* bytes of the cache budget held */
    /* per DATA record (piece), when cached: rows and rejects it produced and the rejects'
     * NDJSON bytes, so the lane interleaves rows and rejects as a re-parse would */
    uint32_t *piece_rows;
    uint32_t *piece_rejs;
    uint64_t *piece_rej_bytes;
    size_t ndata;
    sl_wal_loc *locs;  /* DATA records, in piece order */
    uint64_t *lsns;
} sl_txn;

void sl_txn_free(sl_server *srv, sl_txn *t);
/* Drops the parsed rows of a txn (and their cache budget); it is parsed again from the WAL. */
void sl_txn_uncache(sl_server *srv, sl_txn *t);


/* ---- stream.c ---- */
sl_stream *sl_stream_find(sl_server *srv, const char *name);
/* Finds or creates (and persists) a stream. schema is taken (freed if the stream exists).
 * model may be NULL. */
SL_NODISCARD sl_err sl_stream_get_or_create(sl_server *srv, const char *name, sl_schema *schema,
                                            const char *model, sl_stream **out, char *msg,
                                            size_t msgn);
const sl_schema *sl_stream_schema(const sl_stream *st);
/* A cleared batch of the stream's schema, from its pool of reused batches or new. */
SL_NODISCARD sl_err sl_stream_batch_take(sl_stream *st, sl_batch **out);
/* Gives a batch back for reuse (freed if the pool is full or the batch is very large). */
void sl_stream_batch_give(sl_stream *st, sl_batch *b);
/* A body parser for the stream's schema (body_parse.h), reused from an earlier request or new;
 * a CSV request sets its header on it. Give it back when the request is done. */
SL_NODISCARD sl_err sl_stream_bodyp_take(sl_stream *st, sl_format fmt, bool unknown_reject,
                                         sl_bodyp **out);
void sl_stream_bodyp_give(sl_stream *st, sl_format fmt, bool unknown_reject, sl_bodyp *p);
const char *sl_stream_model(const sl_stream *st);
const char *sl_stream_name(const sl_stream *st);
/* Where a stream is: rows [0, next_row) and rejects [0, next_reject) are acknowledged (in the
 * WAL); rows [0, committed_row) and rejects [0, committed_reject) are committed by the sink
 * (the unit that holds them was flushed: in PostgreSQL, published as files, ...). */
typedef struct {
    uint64_t next_row, next_reject;
    uint64_t committed_row, committed_reject;
} sl_stream_pos;
void sl_stream_progress(sl_stream *st, sl_stream_pos *out);
/* Waits up to timeout seconds until rows [0, rows) and rejects [0, rejects) are committed, and
 * asks the lane to flush its open unit as soon as it holds them (instead of at the flush
 * interval). True if they are; *out is the position at return. Any thread. */
bool sl_stream_wait_committed(sl_stream *st, uint64_t rows, uint64_t rejects, double timeout,
                              sl_stream_pos *out);
/* Assigns sequence numbers to t's rows and rejects and appends its COMMIT record. */
SL_NODISCARD sl_err sl_stream_commit(sl_stream *st, sl_txn *t);
/* Hands a durable committed txn to the lane (which owns it from now on). */
void sl_stream_push(sl_stream *st, sl_txn *t);
bool sl_stream_name_valid(const char *name, size_t n);

SL_NODISCARD sl_err sl_streams_load(sl_server *srv);    /* stream definitions + checkpoint */
SL_NODISCARD sl_err sl_streams_recover(sl_server *srv); /* WAL replay into the lanes */
SL_NODISCARD sl_err sl_streams_start(sl_server *srv);   /* lane threads */
void sl_streams_stop(sl_server *srv);                   /* flush everything, join */
void sl_streams_free(sl_server *srv);
/* The lowest LSN still needed, for sl_wal_release. */
void sl_streams_release_wal(sl_server *srv);
/* Rows queued (committed, not yet encoded) over all streams; a lane's failing reason. */
uint64_t sl_streams_queued_rows(sl_server *srv);
bool sl_streams_healthy(sl_server *srv, char *why, size_t n);
uint64_t sl_streams_backlog(sl_server *srv); /* txns still to replay after recovery */

/* ---- server.c ---- */
struct sl_server {
    sl_serve_config cfg;
    int encode_threads; /* effective: cfg.encode_threads, 0 resolved to the cores (<= 4) */
    /* This data directory's identity (DATA/origin, 16 hex digits, made once): stream row numbers
     * restart at 0 in a new data directory, so sinks that remember committed ranges (the
     * PostgreSQL and ClickHouse range markers) key them by origin too. "" for a data directory
     * made before origins existed (its markers were written without one). */
    char origin[17];
    char wal_dir[1100];
    char out_dir[1100];
    char stage_dir[1100];
    char streams_dir[1100];
    sl_wal *wal;
    sl_metrics *metrics;
    sl_file_sink *sink; /* cfg.sink, or the local DATA/out sink */
    sl_unit_sink_factory *units; /* cfg.units, or Parquet files through sink */

    pthread_mutex_t mu; /* streams list, in-flight set, cache budget */
    pthread_cond_t space_cv; /* WAL space or cache freed */
    sl_stream **streams;
    size_t nstreams, streams_cap;
    uint64_t *inflight_lsn; /* first DATA lsn of requests in progress (0 = slot free) */
    size_t ninflight, inflight_cap;
    uint64_t cache_used;
    atomic_uint_fast64_t next_txn;
    atomic_bool recovering;
    atomic_bool stopping;
    atomic_int active_requests;
    atomic_uint_fast64_t queued_rows; /* acknowledged, not yet published, all streams */
    atomic_uint failing_streams;      /* lanes whose `failing` is set (a fast healthy check) */

    /* metrics */
    sl_mfamily *m_rows, *m_rejected, *m_bytes, *m_requests, *m_latency, *m_throttled, *m_reparsed;
    sl_mfamily *m_flushes, *m_files, *m_out_bytes, *m_sink_fail, *m_queue_rows, *m_rss;
    sl_mfamily *m_wal_bytes, *m_wal_segments, *m_wal_spares, *m_wal_recycled, *m_fsync, *m_body_size, *m_inflight, *m_cache;
    sl_mfamily *m_lag, *m_up;

    void *http; /* http.c state */
    void *api;  /* models and jobs (api.h) */

    /* sink watch (server.c): the unit sinks' check failing since start, re-run in the
     * background until it passes or a unit is delivered */
    atomic_bool sink_down;
    pthread_mutex_t watch_mu; /* the fields below */
    pthread_cond_t watch_cv;
    pthread_t watch_thread;
    bool watch_started, watch_stop;
    char watch_kind[16];  /* kind of the sink whose check fails */
    char watch_why[640];  /* "<kind> sink not reachable: <message>; hint: <hint>" */
};

/* Requests in progress keep their WAL records from being released. */
SL_NODISCARD sl_err sl_server_inflight_add(sl_server *srv, uint64_t lsn, size_t *slot);
void sl_server_inflight_del(sl_server *srv, size_t slot);
/* Cache budget for parsed rows: true if granted. */
bool sl_server_cache_take(sl_server *srv, uint64_t bytes);
void sl_server_cache_give(sl_server *srv, uint64_t bytes);
/* Whether the sinks can take data now. A failing stream lane comes first (its reason), then
 * the sinks' reachability check when it failed at start: it is re-run every ~1.5 s on a
 * thread of its own (a check may take its full timeout: Kafka metadata 3 s, S3 retries, ...;
 * no caller of this function waits for it) until it passes or a sink of that kind delivers
 * a unit. False with "...; hint: ..." in why. Any thread. */
bool sl_server_sinks_healthy(sl_server *srv, char *why, size_t n);
/* A lane delivered a unit through a sink of this kind: a check of that kind still failing is
 * not a reason to be unready any more (e.g. S3 credentials allowed to put objects but not to
 * HEAD the bucket). */
void sl_server_sink_delivered(sl_server *srv, const char *kind);
/* A reason of sl_server_sinks_healthy() as an API error: message and hint (split at
 * "; hint: "); returns the code, "kafka_unavailable" or "sink_unavailable". */
const char *sl_server_sink_error(const char *why, char *msg, size_t msgn, char *hint,
                                 size_t hintn);
/* Fatal WAL failure: log and exit without acknowledging anything more. */
_Noreturn void sl_server_fatal(sl_server *srv, const char *what, sl_err err);

SL_NODISCARD sl_err sl_server_open(const sl_serve_config *cfg, sl_server **out, char *msg,
                                   size_t msgn);
/* Runs until SIGTERM/SIGINT; then stops accepting, finishes requests, flushes. */
SL_NODISCARD sl_err sl_server_run(sl_server *srv);
void sl_server_close(sl_server *srv);

/* ---- http.c ---- */
/* Appends {"error":{"code":..,"message":..[,"hint":..]}} and a newline: the body of every JSON
 * error answer. */
SL_NODISCARD sl_err sl_http_error_json(sl_buf *b, const char *code, const char *message,
                                       const char *hint);
/* Appends "column":N|null,"field":..|null,"code":..,"message":..} : the end of the object that
 * reports one rejected row (or event); the caller has written its opening fields. */
SL_NODISCARD sl_err sl_http_report_tail(sl_buf *b, uint32_t column, const char *field,
                                        const char *code, const char *message);
/* While a sink cannot take data (sl_server_sinks_healthy): appends
 * before "warning":{"code":..,"message":..,"hint":..} after, for an answer that accepted data
 * (durable, not yet delivered). Appends nothing while the sinks are fine. */
SL_NODISCARD sl_err sl_http_sink_warning(sl_buf *b, sl_server *srv, const char *before,
                                         const char *after);
SL_NODISCARD sl_err sl_http_start(sl_server *srv, char *msg, size_t msgn);
void sl_http_quiesce(sl_server *srv); /* stop accepting new connections */
void sl_http_stop(sl_server *srv);    /* waits for in-flight requests */

/* little-endian record helpers (32-bit: sl_store_le32 / sl_load_le32 in util/buf.h) */
static inline void sl_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void sl_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t sl_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint64_t sl_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#define SL_DATA_HDR 24   /* bytes before the CSV header in a DATA record */
#define SL_COMMIT_HDR 64 /* bytes before the stream name in a COMMIT record */

#endif
