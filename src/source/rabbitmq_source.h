/* rabbitmq_source.h: RabbitMQ as a source of events (seed 004: API -> RabbitMQ -> worker).
 *
 * A thread consumes a durable queue with a bounded prefetch (SLUICE_AMQP_PREFETCH unacked
 * messages at most), gathers up to that many message bodies (each one event, an array of
 * events, or NDJSON) and hands them to this sluice's own POST /v1/events over loopback HTTP,
 * which validates them, writes them to the WAL and answers only after the fsync. Then it acks
 * every message of the batch (basic.ack multiple). So:
 *   - nothing is acked that is not durable in sluice: a crash before the ack gets the messages
 *     redelivered; the WAL carries them on to the sink exactly as HTTP events;
 *   - a redelivered message is a second copy of its events in the WAL; the PostgreSQL sink's
 *     ON CONFLICT (event_id) stores it once (ClickHouse: ReplacingMergeTree by event_id);
 *   - a batch answered 422 is retried message by message: good ones acked, bad ones rejected
 *     without requeue (to the queue's dead-letter exchange if it has one), each logged with
 *     the reason; 429/5xx/connection errors: nothing acked, retried with backoff.
 * Acking after the WAL fsync rather than after the sink's commit keeps the redelivery window
 * (and so the duplicates the key absorbs) as small as for HTTP clients; the WAL is the durable
 * buffer between the broker and the sinks.
 */
#ifndef SL_SOURCE_RABBITMQ_SOURCE_H
#define SL_SOURCE_RABBITMQ_SOURCE_H

#include "sluice.h"

typedef struct {
    char url[1024];      /* AMQP_URL */
    char queue[128];     /* SLUICE_AMQP_SOURCE_QUEUE: consume this queue ("" = no source) */
    unsigned prefetch;   /* SLUICE_AMQP_PREFETCH (default 500) */
    char target[256];    /* http://127.0.0.1:PORT/v1/events (set by the caller) */
    char token[256];     /* bearer token for target, or "" */
} sl_amqp_source_config;

typedef struct sl_amqp_source sl_amqp_source;

SL_NODISCARD sl_err sl_amqp_source_start(const sl_amqp_source_config *c, sl_amqp_source **out,
                                         char *msg, size_t msgn);
void sl_amqp_source_stop(sl_amqp_source *s); /* NULL: no-op; unacked messages are redelivered */

#endif
