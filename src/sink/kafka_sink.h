/* kafka_sink.h: a unit sink that produces each row of a stream as one Kafka message, and each
 * rejected row to the dead-letter topic `{topic}.dlq`.
 *
 * One idempotent producer (enable.idempotence, acks=all) per factory, shared by the streams
 * routed to Kafka; a poll thread serves its delivery reports. A unit's commit() returns SL_OK
 * only when every message produced for the unit has a successful delivery report, so the lane
 * releases the WAL range only after the broker has acknowledged all of it. A failed unit is
 * replayed from the WAL by the lane: messages of the failed attempt that did reach the broker
 * are produced again (at-least-once for that unit; idempotence only dedupes the producer's own
 * retries within one producer session). Every message carries headers `sluice.stream` and
 * `sluice.seq` (the row's sequence number in the stream) so a consumer can drop such repeats.
 *
 * A fatal producer error (enable.idempotence: sequence desynchronization, fenced producer)
 * does not need a restart of sluice: the factory replaces its producer and the units in flight
 * are sent again from the WAL (see kafka_sink.c, "Fatal errors").
 *
 * Thread-safety: the factory may be used from any lane; one unit sink per lane (see
 * unit_sink.h).
 */
#ifndef SL_SINK_KAFKA_SINK_H
#define SL_SINK_KAFKA_SINK_H

#include <stdbool.h>

#include "metrics/metrics.h"
#include "sink/unit_sink.h"

typedef enum { SL_KAFKA_JSON, SL_KAFKA_CSV, SL_KAFKA_RAW } sl_kafka_format;

typedef struct {
    char brokers[1024];     /* KAFKA_BROKERS: host:port,... */
    char topic[256];        /* topic name template, {stream} = the stream's name */
    sl_kafka_format format; /* message value: JSON object (default), CSV line, raw column */
    char key_column[128];   /* message key from this column; "" = no key */
    int partitions;         /* for topics sluice creates (Admin API); default 1 */
    int replication;        /* default 1 */
    bool create_topics;     /* try CreateTopics for the topic and its .dlq (default true) */
    unsigned timeout_ms;    /* delivery timeout of one message (message.timeout.ms) */
    char props[4096];       /* librdkafka properties, "key=value;key=value" (SASL, TLS, ...) */
} sl_kafka_config;

void sl_kafka_config_default(sl_kafka_config *c);

/* Applies one setting by its environment name (KAFKA_BROKERS, SLUICE_KAFKA_TOPIC,
 * SLUICE_KAFKA_FORMAT, SLUICE_KAFKA_KEY, SLUICE_KAFKA_PARTITIONS, SLUICE_KAFKA_REPLICATION,
 * SLUICE_KAFKA_CREATE_TOPICS, SLUICE_KAFKA_TIMEOUT, KAFKA_PROPERTIES and the pass-through
 * KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD,
 * KAFKA_SSL_CA_LOCATION). SL_INVALID with a reason in err. */
SL_NODISCARD sl_err sl_kafka_config_set(sl_kafka_config *c, const char *env, const char *v,
                                        char *err, size_t errn);

/* The factory; SL_INVALID with e->message for a configuration librdkafka refuses. The
 * producer connects in the background: an unreachable broker is not an error here (check()
 * and the units' commits report it). */
SL_NODISCARD sl_err sl_unit_kafka_factory(const sl_kafka_config *c, sl_unit_sink_factory **out,
                                          sl_sink_error *e);

/* Counts the producer's restarts after fatal errors in m, as
 * sluice_kafka_producer_restarts_total (the series is made at once, so it shows 0). uf is a
 * factory of sl_unit_kafka_factory; m must outlive it. */
void sl_unit_kafka_metrics(sl_unit_sink_factory *uf, sl_metrics *m);

/* Splits "k=v;k=v" (';' or newline separated) and calls set(k, v) for each; a malformed item
 * stops with SL_INVALID. Also used by the Kafka source. */
SL_NODISCARD sl_err sl_kafka_props_each(const char *props,
                                        sl_err (*set)(void *ctx, const char *k, const char *v),
                                        void *ctx);

#endif
