/* kafka_source.h: `sluice serve --source kafka://BROKERS/TOPIC?group=NAME`: consume a topic as
 * a member of a consumer group and write its messages (one CSV line or one JSON object each) as
 * Parquet files, one file per partition and offset range, named
 * TOPIC/TOPIC-PARTITION-FIRST-LAST.parquet (rejected messages in TOPIC/_rejects/...ndjson),
 * through the server's file sink (local directory or S3).
 *
 * Exactly once, across crashes and rebalances: offsets are committed only after the file is
 * published, and the cut of every file is deterministic. Before publishing a file that ends at
 * offset LAST, the source commits the file's first offset again with the metadata
 * "sluice-cut=LAST" (the intent); after publishing it commits LAST+1. Whoever consumes the
 * partition next (this instance after a restart, or another after a rebalance) starts at the
 * committed offset and, if an intent is there, ends its first file exactly at LAST: the same
 * messages make the same file under the same name, which replaces the object instead of adding
 * a second one. Without an intent, files are cut at `batch` messages, at `max_bytes`, or when
 * the oldest buffered message is `age` seconds old.
 *
 * The schema comes from a model (model=NAME: DATA/models/NAME.json, the file POST /v1/models
 * and `sluice model create` write, as for ingest's ?model=) or is inferred from each file's own
 * messages (so a rewritten file gets the same schema, but two files of a topic may differ).
 * With a model every file has the model's schema and a message that does not fit it goes to
 * _rejects with its reason (counted in sluice_kafka_source_rejected_total). A model not created
 * yet is waited for: nothing is consumed until it exists. CSV without a model needs
 * columns=a,b,c (the header the messages lack).
 *
 * Threads: one consumer thread per source; start/stop from one thread.
 */
#ifndef SL_SOURCE_KAFKA_SOURCE_H
#define SL_SOURCE_KAFKA_SOURCE_H

#include <stdint.h>

#include "metrics/metrics.h"
#include "sink/sink.h"
#include "sluice.h"

typedef struct {
    char brokers[512];
    char topic[250];
    char group[250];
    sl_format format;      /* SL_FMT_JSONL (default) or SL_FMT_CSV */
    char model[128];       /* "" = infer per file */
    char columns[1024];    /* CSV header (comma-separated names) when there is no model */
    uint64_t batch;        /* messages per file, default 100000 */
    uint64_t max_bytes;    /* bytes per file, default 64 MiB */
    double age;            /* seconds, default 10 */
    unsigned session_ms;   /* consumer group session timeout, default 10000 */
    char props[1024];      /* librdkafka properties, "k=v;k=v" (props=... percent-encoded) */
} sl_kafka_source_config;

/* Parses kafka://HOST:PORT[,HOST:PORT...]/TOPIC?group=NAME[&format=json|csv][&model=NAME]
 * [&columns=a,b][&batch=N][&max_bytes=N][&age=SECONDS][&session_ms=N][&props=k%3Dv%3B...].
 * Values are percent-decoded. SL_INVALID with the reason in err. */
SL_NODISCARD sl_err sl_kafka_url_parse(const char *url, sl_kafka_source_config *out, char *err,
                                       size_t errn);

typedef struct {
    sl_file_sink *files;    /* borrowed; must outlive the source */
    const char *stage_dir;  /* staged files (same file system as a local sink's directory) */
    const char *models_dir; /* model=NAME is models_dir/NAME.json (read until it exists) */
    sl_pq_opts po;
    sl_metrics *metrics;    /* may be NULL */
    const char *props;      /* extra librdkafka properties (KAFKA_PROPERTIES), may be NULL */
} sl_kafka_source_env;

typedef struct sl_kafka_source sl_kafka_source;

/* Starts the consumer thread. The broker need not be up (the consumer connects in the
 * background and logs what fails), nor the model exist yet (see above). SL_INVALID
 * (configuration, a model that does not parse) with msg. */
SL_NODISCARD sl_err sl_kafka_source_start(const sl_kafka_source_config *c,
                                          const sl_kafka_source_env *env,
                                          sl_kafka_source **out, char *msg, size_t msgn);
/* Publishes what is buffered (cut there, with an intent like any other file), commits, leaves
 * the group, joins the thread. NULL is a no-op. */
void sl_kafka_source_stop(sl_kafka_source *s);

#endif
