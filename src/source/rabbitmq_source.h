/* rabbitmq_source.h: RabbitMQ as a source of events (seed 004: API -> RabbitMQ -> worker).
 *
 * A thread consumes a durable queue with a bounded prefetch (basic.qos: SLUICE_AMQP_PREFETCH
 * unacked messages at most), gathers up to half that many message bodies (each one event, an
 * array of events, or NDJSON) and hands them to this sluice's own POST /v1/events over
 * loopback HTTP, which validates them, writes them to the WAL and answers after the fsync with
 * the stream row numbers they got ("seq"). The messages are acked (basic.ack multiple) only
 * once the stream's lane has committed those rows to its sink (GET /v1/streams/{stream},
 * "rows":{"committed":..}; for PostgreSQL: the unit's transaction committed). So:
 *   - nothing is acked that is not in the sink: a crash, or a sink that is down, leaves the
 *     messages unacked in RabbitMQ, which redelivers them to the next consumer;
 *   - a redelivered message is a second copy of its events in the WAL; the PostgreSQL sink's
 *     ON CONFLICT on the key (event_id) stores it once (ClickHouse: ReplacingMergeTree by
 *     event_id); a sink without a key would store it twice;
 *   - a batch answered 422 is retried message by message: good ones acked after the commit
 *     like the others, bad ones rejected at once without requeue (to the queue's dead-letter
 *     exchange if it has one), each logged with the reason; 429/5xx/connection errors:
 *     nothing acked, retried with backoff.
 * Acks lag the posts by a commit: the source long-polls the commit with wait_rows, which
 * makes the lane flush those rows at once instead of at SLUICE_FLUSH_INTERVAL, and a batch is
 * half the prefetch so that the next batch is consumed and posted while the previous one
 * commits. While the sink is down all `prefetch` messages stay unacked and the broker sends no
 * more: the source does not stall forever, it acks as soon as the sink commits again.
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
