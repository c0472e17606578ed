/* amqp_sink.h: RabbitMQ unit sink (librabbitmq): one persistent message per row, published with
 * publisher confirms; commit() returns only when the broker has confirmed every message of the
 * unit (a nack or a lost connection fails the unit, which the lane replays from the WAL).
 *
 * Delivery is at least once: a unit replayed after a crash or a failed attempt is published
 * again. Every message carries message_id "STREAM:SEQ" (the stream's row sequence number,
 * identical on replay) and, for events, the event_id in the body, so consumers deduplicate
 * (the PostgreSQL sink's ON CONFLICT does exactly that).
 *
 * Body: the row as one JSON object (encode/text_out.h NDJSON forms), content type
 * application/json, delivery mode 2 (persistent). Exchange SLUICE_AMQP_EXCHANGE (default "",
 * the default exchange), routing key SLUICE_AMQP_ROUTING_KEY ("{stream}" = the stream name);
 * with the default exchange a durable queue of that name is declared.
 */
#ifndef SL_SINK_AMQP_SINK_H
#define SL_SINK_AMQP_SINK_H

#include "sink/unit_sink.h"

typedef struct {
    char url[1024];        /* AMQP_URL: amqp://user:pass@host:5672/vhost */
    char exchange[128];    /* SLUICE_AMQP_EXCHANGE */
    char routing_key[128]; /* SLUICE_AMQP_ROUTING_KEY, "{stream}" by default */
    unsigned timeout;      /* seconds to wait for confirms / connect (default 30) */
} sl_amqp_config;

void sl_amqp_config_default(sl_amqp_config *c);
bool sl_amqp_config_set(sl_amqp_config *c, const char *name, const char *v, char *err,
                        size_t errn);
SL_NODISCARD sl_err sl_unit_amqp_factory(const sl_amqp_config *c, sl_unit_sink_factory **out,
                                         sl_sink_error *e);

#endif
