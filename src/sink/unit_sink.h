/* unit_sink.h: where a stream's rows go, one unit at a time.
 *
 * A stream's lane (src/server/stream.c) cuts the stream into units: the consecutive rows
 * [row0, row1) and rejected rows [rej0, rej1) between two flushes. The cut is deterministic:
 * before anything of a unit may become visible, the lane records its range (the checkpoint
 * "intent"), and after a crash the same range is rebuilt from the WAL and committed again.
 *
 * For each unit the lane calls begin(), then rows() and rejects() in sequence order, then
 * commit(). commit() must leave every row of the unit durable in the destination, and must be
 * idempotent: committing the same range again (after a crash, a failed attempt, a retry) must
 * not duplicate anything (deterministic object names, ON CONFLICT on a key, a deduplication
 * token derived from the range, ...). On any error the lane calls abort(), backs off, and
 * replays the unit from the WAL: begin() again with the same row0/rej0.
 *
 * rejects == NULL: the lane writes the unit's rejected rows itself, as an NDJSON file
 * published through the server's file sink (the stream's dead letters).
 *
 * One sl_unit_sink per stream (lane), made by the server's sl_unit_sink_factory. Calls on one
 * unit sink come from its lane thread only.
 */
#ifndef SL_SINK_UNIT_SINK_H
#define SL_SINK_UNIT_SINK_H

#include <stdint.h>

#include "sink/sink.h"
#include "sluice.h"

#define SL_MAX_PARTITION 8 /* partition columns per stream */

typedef struct {
    const char *stream;
    const sl_schema *schema;
    uint64_t row0, rej0;  /* first row / reject sequence numbers of the unit */
    uint64_t segment;     /* WAL segment of the unit's first request */
    int64_t received_us;  /* when the unit's first request was received (partition time) */
    const size_t *partition_cols; /* Hive partitioning: columns whose values name directories */
    size_t npartition;            /* (from the model's partition_by; 0: none) */
    /* The stream's event key column: its model's event_key, fixed when the stream was created
     * (DATA/streams/NAME.key), so a later change of the model cannot change a replayed unit;
     * NULL: none. A sink deduplicating by key (PostgreSQL's ON CONFLICT) uses it unless its own
     * configuration names a key. */
    const char *key;
    /* The data directory's identity (sl_server.origin): row numbers restart at 0 in a new data
     * directory, so a sink remembering committed ranges keys them by (stream, origin, row0);
     * "" for jobs (their stream names are unique) and for data directories older than it. */
    const char *origin;
} sl_unit;

typedef struct sl_unit_sink sl_unit_sink;
struct sl_unit_sink {
    const char *kind; /* metrics label and messages: "local", "s3", "postgres", "kafka", ... */
    sl_err (*begin)(sl_unit_sink *s, const sl_unit *u, sl_sink_error *e);
    /* All rows of b, which are the stream's rows [seq, seq + rows(b)). */
    sl_err (*rows)(sl_unit_sink *s, const sl_batch *b, uint64_t seq, sl_sink_error *e);
    /* count NDJSON lines (one rejected row each: line, column, field, code, reason, raw),
     * numbered from seq. NULL: the lane keeps them in the stream's dead-letter files. */
    sl_err (*rejects)(sl_unit_sink *s, const uint8_t *ndjson, size_t n, uint64_t count,
                      uint64_t seq, sl_sink_error *e);
    /* Rows [row0, row1) and rejects [rej0, rej1) of the unit begun are all given: make them
     * durable in the destination (idempotently, see above). */
    sl_err (*commit)(sl_unit_sink *s, uint64_t row1, uint64_t rej1, sl_sink_error *e);
    /* Forget the unit begun (after an error or at shutdown without commit). */
    void (*abort)(sl_unit_sink *s);
    void (*destroy)(sl_unit_sink *s);
    uint64_t committed_bytes; /* bytes the last commit wrote (metrics), 0 if unknown */
    /* true: nothing of a unit leaves the server before commit() (a staged file, an open
     * transaction, a buffer), so the lane may hand it rows of requests whose COMMIT record is
     * not yet durable (encoding overlaps the request's fsync) and waits for that fsync before
     * commit; false: rows() may deliver at once, so the lane waits before rows() */
    bool staged;
};

typedef struct sl_unit_sink_factory sl_unit_sink_factory;
struct sl_unit_sink_factory {
    const char *kind;
    /* A unit sink for one stream. An error here (bad configuration for this stream) is
     * reported to the client that creates the stream. */
    sl_err (*create)(sl_unit_sink_factory *f, const char *stream, const sl_schema *schema,
                     sl_unit_sink **out, sl_sink_error *e);
    /* Reachability at start and for /readyz while failing; NULL: always fine. */
    sl_err (*check)(sl_unit_sink_factory *f, sl_sink_error *e);
    void (*destroy)(sl_unit_sink_factory *f);
};

/* Parquet files (and, through rejects == NULL, NDJSON dead letters) staged in stage_dir and
 * published through files (local directory, S3): the default. `files` is borrowed and must
 * outlive the factory. */
sl_unit_sink_factory *sl_unit_parquet_factory(sl_file_sink *files, const char *stage_dir,
                                              const sl_pq_opts *po);

#endif
