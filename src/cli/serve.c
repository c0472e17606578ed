/* serve.c: `sluice serve`: configuration from defaults < config file < environment < flags,
 * then the server (src/server) until SIGTERM/SIGINT.
 *
 * Every setting has one row in `opts`: its flag, its environment variable (and the seed-000
 * name where one exists: BATCH_SIZE, QUEUE_CAPACITY), a kind and help. A config file holds
 * KEY=VALUE lines with the same environment names (or flag names without the dashes); '#'
 * starts a comment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "server/server.h"
#include "sink/kafka_sink.h"
#include "sink/amqp_sink.h"
#include "sink/clickhouse.h"
#include "sink/mysql_projection.h"
#include "sink/pg.h"
#include "sink/s3/sink_s3.h"
#include "source/rabbitmq_source.h"
#include "source/kafka_source.h"
#include "sluice.h"
#include "util/log.h"

enum kind { K_LISTEN, K_PATH, K_TOKENS, K_U64, K_BYTES, K_SECONDS, K_BOOL, K_CODEC, K_LEVEL,
            K_MODE, K_INT, K_OPEN, K_SINK, K_S3, K_ROUTES, K_KAFKA, K_SOURCE,
            K_PG, K_EVENTS, K_MYPROJ, K_CH, K_AMQP };

/* Sink kinds for SLUICE_SINK and SLUICE_ROUTES. File sinks (Parquet files): local, s3, parquet
 * (= whichever file sink is configured). Row sinks add their name here and in units_for(). */
static const char *const sink_kinds[] = {"local", "s3", "parquet", "kafka", "postgres",
                                         "clickhouse", "amqp"};
#define NKINDS (sizeof(sink_kinds) / sizeof(sink_kinds[0]))

/* Everything the settings fill: the server's configuration and the sink's. */
typedef struct {
    sl_serve_config cfg;
    sl_s3_config s3;
    sl_pg_config pg;
    sl_myproj_config myproj;
    sl_ch_config ch;
    sl_amqp_config amqp;
    sl_amqp_source_config amqp_src;
    sl_kafka_config kafka;
    sl_kafka_source_config source; /* --source kafka://...: valid when source.topic[0] */
    char sink[16];         /* a sink_kinds name, or "" (s3 when a bucket is set, else local) */
    char routes[1024];     /* SLUICE_ROUTES: "stream=kind,prefix*=kind" */
    sl_unit_sink_factory *made[NKINDS]; /* row-sink factories made so far, by kind */
    bool path_style_set;   /* S3_PATH_STYLE given (else on for a custom S3_ENDPOINT) */
} settings;

typedef struct {
    const char *flag;  /* without "--" */
    const char *env;
    const char *alias; /* second environment name, or NULL */
    enum kind kind;
    size_t off;
    const char *help;
} opt;

#define OFF(f) offsetof(sl_serve_config, f)

static const opt opts[] = {
    {"listen", "SLUICE_LISTEN", NULL, K_LISTEN, 0, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 = any free port)"},
    {"data-dir", "SLUICE_DATA_DIR", NULL, K_PATH, OFF(data_dir), "WAL in DIR/wal, output in DIR/out (default ./data)"},
    {"models-dir", "SLUICE_MODELS_DIR", NULL, K_PATH, OFF(models_dir), "schema files NAME.json for ?model=NAME (default DATA/models)"},
    {"auth-tokens", "SLUICE_AUTH_TOKENS", NULL, K_TOKENS, 0, "comma-separated bearer tokens; empty = no auth"},
    {"open-endpoints", "SLUICE_OPEN_ENDPOINTS", NULL, K_OPEN, 0, "endpoints served without a token: healthz,metrics (default), healthz, metrics or none"},
    {"batch-size", "BATCH_SIZE", "SLUICE_BATCH_SIZE", K_U64, OFF(batch_size), "rows per output file (default 1000000)"},
    {"target-file-bytes", "SLUICE_TARGET_FILE_BYTES", NULL, K_BYTES, OFF(target_file_bytes), "flush a file once it holds this much uncompressed data (default 64M)"},
    {"flush-interval", "SLUICE_FLUSH_INTERVAL", NULL, K_SECONDS, OFF(flush_interval), "seconds: flush a file this old (default 10)"},
    {"queue-capacity", "QUEUE_CAPACITY", "SLUICE_QUEUE_CAPACITY", K_U64, OFF(queue_capacity), "rows acknowledged but not yet published to the sink; over it new requests get 429 and uploads wait (default 2000000; keep it above BATCH_SIZE)"},
    {"cache-bytes", "SLUICE_CACHE_BYTES", NULL, K_BYTES, OFF(cache_bytes), "memory for parsed rows waiting for the encoder; beyond it rows are re-read from the WAL (default 512M)"},
    {"wal-max-bytes", "SLUICE_WAL_MAX_BYTES", NULL, K_BYTES, OFF(wal_max_bytes), "WAL size limit: over it new requests get 429, uploads wait (default 8G)"},
    {"wal-segment-bytes", "SLUICE_WAL_SEGMENT_BYTES", NULL, K_BYTES, OFF(wal_segment_bytes), "WAL segment size (default 64M)"},
    {"wal-spare-segments", "SLUICE_WAL_SPARE_SEGMENTS", NULL, K_INT, OFF(wal_spare_segments), "released WAL segments kept and overwritten by later ones instead of new files: appends and fsyncs cost less; up to N x the segment size of extra disk, given back when the disk fills (default 4; 0 = delete them)"},
    {"wal-sync", "SLUICE_WAL_SYNC", NULL, K_BOOL, OFF(wal_sync), "fdatasync the WAL before answering (default true; false is NOT durable, for benchmarks)"},
    {"wal-writeback", "SLUICE_WAL_WRITEBACK", NULL, K_BYTES, OFF(wal_writeback_bytes), "start writing the WAL out to disk every this many bytes, so the fsync that acknowledges a request waits for less (default 1M; 0 = only at fsync)"},
    {"wal-direct", "SLUICE_WAL_DIRECT", NULL, K_BOOL, OFF(wal_direct), "write request bodies (WAL records >= 128 KiB) with O_DIRECT where the file system supports it (default false: on the VMs we measured buffered writes were faster)"},
    {"max-body-bytes", "SLUICE_MAX_BODY_BYTES", NULL, K_BYTES, OFF(max_body_bytes), "largest decoded request body, else 413 (default 1G)"},
    {"max-header-bytes", "SLUICE_MAX_HEADER_BYTES", NULL, K_BYTES, OFF(max_header_bytes), "largest total of request headers, else 431 (default 16K)"},
    {"chunk-bytes", "SLUICE_CHUNK_BYTES", NULL, K_BYTES, OFF(chunk_bytes), "body piece parsed and logged at once (default 1M)"},
    {"max-connections", "SLUICE_MAX_CONNECTIONS", NULL, K_INT, OFF(max_connections), "concurrent connections (default 256)"},
    {"per-ip-connections", "SLUICE_PER_IP_CONNECTIONS", NULL, K_INT, OFF(per_ip_connections), "connections per client address, 0 = no limit (default 0)"},
    {"connection-timeout", "SLUICE_CONNECTION_TIMEOUT", NULL, K_INT, OFF(connection_timeout), "seconds of client inactivity before the connection is closed (default 60)"},
    {"upload-stall-timeout", "SLUICE_UPLOAD_STALL_TIMEOUT", NULL, K_SECONDS, OFF(upload_stall_timeout), "seconds an upload may wait for WAL space before 503 (default 30)"},
    {"retry-after", "SLUICE_RETRY_AFTER", NULL, K_INT, OFF(retry_after), "seconds, sent in Retry-After with 429 (default 1)"},
    {"max-errors", "SLUICE_MAX_ERRORS", NULL, K_INT, OFF(max_errors), "rejected rows listed in an answer (default 10)"},
    {"mode", "SLUICE_MODE", NULL, K_MODE, 0, "default for requests without ?mode=: dlq (default) or strict"},
    {"codec", "SLUICE_CODEC", NULL, K_CODEC, 0, "Parquet compression: snappy (default), zstd, gzip, lz4_raw, none"},
    {"threads", "SLUICE_THREADS", NULL, K_INT, OFF(encode_threads), "threads encoding a file's columns, per stream (default 0 = one per core, at most 4)"},
    {"log-level", "SLUICE_LOG_LEVEL", NULL, K_LEVEL, 0, "debug, info (default), warn, error"},
    {"sink", "SLUICE_SINK", NULL, K_SINK, 0, "where rows go: local (Parquet in DATA/out, default), s3 (Parquet in a bucket; default when S3_BUCKET is set), kafka (a message per row, see KAFKA_BROKERS)"},
    {"routes", "SLUICE_ROUTES", NULL, K_ROUTES, 0, "per-stream sinks, e.g. events=postgres,logs*=s3 (a name, or a prefix ending in *); other streams use --sink"},
    {"postgres-url", "POSTGRES_URL", "SLUICE_PG_URL", K_PG, 0, "PostgreSQL for the postgres sink, e.g. postgresql://user:pass@host:5432/db (seed 004)"},
    {"pg-table", "SLUICE_PG_TABLE", NULL, K_PG, 0, "table of the postgres sink; {stream} = the stream name (default {stream}); created if missing"},
    {"pg-key", "SLUICE_PG_KEY", NULL, K_PG, 0, "conflict key column (INSERT ... ON CONFLICT DO NOTHING) for every stream; default: the event_key of the stream's model (fixed when the stream is created), else event_id when the stream has it"},
    {"pg-schema", "SLUICE_PG_SCHEMA", NULL, K_PG, 0, "PostgreSQL schema of the tables (default public)"},
    {"pg-connect-timeout", "SLUICE_PG_CONNECT_TIMEOUT", NULL, K_PG, 0, "seconds (default 5)"},
    {"mysql-url", "MYSQL_URL", "SLUICE_MYSQL_URL", K_MYPROJ, 0, "MariaDB/MySQL for the best-effort projection of the PostgreSQL events table, e.g. mysql://user:pass@host:3306/db (seed 004); needs POSTGRES_URL"},
    {"projection-table", "SLUICE_PROJECTION_TABLE", NULL, K_MYPROJ, 0, "events table copied to MariaDB (same name there; default events)"},
    {"projection-interval", "SLUICE_PROJECTION_INTERVAL", NULL, K_MYPROJ, 0, "seconds between projection polls when caught up (default 0.2)"},
    {"clickhouse-url", "CLICKHOUSE_URL", NULL, K_CH, 0, "ClickHouse HTTP interface for the clickhouse sink, e.g. http://user:pass@host:8123 (seed 001)"},
    {"ch-database", "SLUICE_CH_DATABASE", NULL, K_CH, 0, "ClickHouse database (default default)"},
    {"ch-table", "SLUICE_CH_TABLE", NULL, K_CH, 0, "ClickHouse table; {stream} = the stream name (default {stream}); created if missing (ReplacingMergeTree)"},
    {"ch-timeout", "SLUICE_CH_TIMEOUT", NULL, K_CH, 0, "seconds per ClickHouse request (default 30)"},
    {"amqp-url", "AMQP_URL", NULL, K_AMQP, 0, "RabbitMQ for the amqp sink, e.g. amqp://user:pass@host:5672/vhost (seed 004)"},
    {"amqp-exchange", "SLUICE_AMQP_EXCHANGE", NULL, K_AMQP, 0, "exchange of the amqp sink (default: the default exchange, with a durable queue per routing key)"},
    {"amqp-routing-key", "SLUICE_AMQP_ROUTING_KEY", NULL, K_AMQP, 0, "routing key; {stream} = the stream name (default {stream})"},
    {"amqp-source-queue", "SLUICE_AMQP_SOURCE_QUEUE", NULL, K_AMQP, 0, "consume this RabbitMQ queue (AMQP_URL) into POST /v1/events; messages acked once the stream's sink committed them (unacked, hence redelivered, until then)"},
    {"amqp-prefetch", "SLUICE_AMQP_PREFETCH", NULL, K_AMQP, 0, "unacked messages the RabbitMQ source holds at most (basic.qos); it posts batches of half as many (default 500)"},
    {"amqp-timeout", "SLUICE_AMQP_TIMEOUT", NULL, K_AMQP, 0, "seconds to connect and to wait for publisher confirms (default 30)"},
    {"events-stream", "SLUICE_EVENTS_STREAM", NULL, K_EVENTS, 0, "stream that POST /v1/events writes (default events)"},
    {"events-missing-id", "SLUICE_EVENTS_MISSING_ID", NULL, K_EVENTS, 0, "event without event_id: reject (422, default) or generate (a UUIDv7)"},
    {"s3-endpoint", "S3_ENDPOINT", NULL, K_S3, 0, "S3 server URL, e.g. http://127.0.0.1:9000 for MinIO (default: AWS, https://s3.REGION.amazonaws.com)"},
    {"s3-bucket", "S3_BUCKET", NULL, K_S3, 0, "bucket for the s3 sink (must exist)"},
    {"s3-region", "AWS_REGION", "S3_REGION", K_S3, 0, "region signed into requests (default us-east-1)"},
    {"s3-prefix", "S3_PREFIX", NULL, K_S3, 0, "key prefix: objects go to PREFIX/STREAM/dt=DAY/hour=HH/part-SEG-FIRST-LAST.parquet"},
    {"s3-path-style", "S3_FORCE_PATH_STYLE", "S3_PATH_STYLE", K_S3, 0, "true: ENDPOINT/BUCKET/KEY, false: BUCKET.ENDPOINT/KEY (default true with S3_ENDPOINT, false for AWS)"},
    {"aws-access-key-id", "AWS_ACCESS_KEY_ID", NULL, K_S3, 0, "access key for the s3 sink"},
    {"aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", NULL, K_S3, 0, "secret key for the s3 sink"},
    {"aws-session-token", "AWS_SESSION_TOKEN", NULL, K_S3, 0, "session token of temporary credentials (sent as X-Amz-Security-Token)"},
    {"s3-part-size", "SLUICE_S3_PART_SIZE", NULL, K_S3, 0, "multipart part size, at least 5M (default 16M)"},
    {"s3-multipart-threshold", "SLUICE_S3_MULTIPART_THRESHOLD", NULL, K_S3, 0, "files larger than this are uploaded in parts (default: the part size)"},
    {"s3-concurrency", "SLUICE_S3_CONCURRENCY", NULL, K_S3, 0, "parts of one file uploaded at once (default 4)"},
    {"s3-retry-seconds", "SLUICE_S3_RETRY_SECONDS", NULL, K_S3, 0, "time one upload retries transient errors (5xx, 429, SlowDown, timeouts) with backoff and jitter before the stream is marked failing and retried from the WAL (default 20)"},
    {"s3-manifest", "SLUICE_S3_MANIFEST", NULL, K_S3, 0, "true: also write KEY.manifest.json after each object (default false)"},
    {"source", "SLUICE_SOURCE", NULL, K_SOURCE, 0, "also consume kafka://BROKERS/TOPIC?group=NAME[&format=json|csv&model=M&columns=a,b&batch=N&age=S] into Parquet files TOPIC/TOPIC-PARTITION-FIRST-LAST.parquet; model=M (from POST /v1/models, waited for if not there yet) gives every file M's schema, else types are inferred per file (see docs/kafka.md)"},
    {"kafka-brokers", "KAFKA_BROKERS", NULL, K_KAFKA, 0, "Kafka bootstrap servers HOST:PORT,... for the kafka sink (default 127.0.0.1:9092)"},
    {"kafka-topic", "SLUICE_KAFKA_TOPIC", NULL, K_KAFKA, 0, "topic of a stream's rows, {stream} = the stream's name (default {stream}); rejected rows go to TOPIC.dlq"},
    {"kafka-format", "SLUICE_KAFKA_FORMAT", NULL, K_KAFKA, 0, "message value: json (an object per row, default), csv (a CSV line) or raw (the first column's bytes)"},
    {"kafka-key", "SLUICE_KAFKA_KEY", NULL, K_KAFKA, 0, "column whose value is the message key (partitioning); default the stream's event key (model event_key, or an event_id column), else none"},
    {"kafka-partitions", "SLUICE_KAFKA_PARTITIONS", NULL, K_KAFKA, 0, "partitions of topics sluice creates (Admin API; default 1)"},
    {"kafka-replication", "SLUICE_KAFKA_REPLICATION", NULL, K_KAFKA, 0, "replication factor of topics sluice creates (default 1)"},
    {"kafka-create-topics", "SLUICE_KAFKA_CREATE_TOPICS", NULL, K_KAFKA, 0, "true: create each topic and its .dlq with the Admin API (default true; else broker auto-creation)"},
    {"kafka-timeout", "SLUICE_KAFKA_TIMEOUT", NULL, K_KAFKA, 0, "seconds a message may wait for the broker's acknowledgement before the unit is retried from the WAL (default 30); /readyz says Kafka is down from the start, without waiting for it"},
    {"kafka-properties", "KAFKA_PROPERTIES", NULL, K_KAFKA, 0, "librdkafka properties passed through, key=value;key=value (e.g. compression.type=zstd)"},
    {"kafka-security-protocol", "KAFKA_SECURITY_PROTOCOL", NULL, K_KAFKA, 0, "security.protocol: plaintext, ssl, sasl_plaintext, sasl_ssl"},
    {"kafka-sasl-mechanism", "KAFKA_SASL_MECHANISM", NULL, K_KAFKA, 0, "sasl.mechanisms: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"},
    {"kafka-sasl-username", "KAFKA_SASL_USERNAME", NULL, K_KAFKA, 0, "sasl.username"},
    {"kafka-sasl-password", "KAFKA_SASL_PASSWORD", NULL, K_KAFKA, 0, "sasl.password"},
    {"kafka-ssl-ca-location", "KAFKA_SSL_CA_LOCATION", NULL, K_KAFKA, 0, "ssl.ca.location: CA certificate file"},
    {"key-layout", "SLUICE_KEY_LAYOUT", NULL, K_S3, 0, "object key layout below the prefix; placeholders {stream} {date} {hour} {partition} (default {stream}/dt={date}/hour={hour}/{partition})"},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static bool parse_bytes(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || v[0] == '-')
        return false;
    uint64_t mul = 1;
    if (*end) {
        switch (*end | 32) {
        case 'k': mul = 1024; break;
        case 'm': mul = 1024 * 1024; break;
        case 'g': mul = (uint64_t)1 << 30; break;
        case 't': mul = (uint64_t)1 << 40; break;
        default: return false;
        }
        end++;
        if ((*end | 32) == 'i')
            end++;
        if ((*end | 32) == 'b')
            end++;
        if (*end)
            return false;
    }
    if (n > UINT64_MAX / mul)
        return false;
    *out = n * mul;
    return true;
}

static void free_tokens(sl_serve_config *c)
{
    if (!c->tokens)
        return;
    for (char **t = c->tokens; *t; t++)
        free(*t);
    free(c->tokens);
    c->tokens = NULL;
}

static bool set_tokens(sl_serve_config *c, const char *v)
{
    free_tokens(c);
    size_t n = 1;
    for (const char *p = v; *p; p++)
        n += *p == ',';
    char **arr = calloc(n + 1, sizeof(*arr));
    if (!arr)
        return false;
    size_t k = 0;
    const char *p = v;
    while (*p) {
        size_t l = strcspn(p, ",");
        const char *s = p;
        while (l && (*s == ' ' || *s == '\t')) {
            s++;
            l--;
        }
        while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
            l--;
        if (l)
            arr[k++] = strndup(s, l);
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    if (k == 0) {
        free(arr);
        return true; /* empty: no auth */
    }
    c->tokens = arr;
    return true;
}

/* Applies one setting; on failure err says why. */
static int kind_index(const char *v)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (!strcmp(v, sink_kinds[i]))
            return (int)i;
    return -1;
}

static void kinds_list(char *err, size_t errn)
{
    size_t used = (size_t)snprintf(err, errn, "expected one of:");
    for (size_t i = 0; i < NKINDS && used < errn; i++)
        used += (size_t)snprintf(err + used, errn - used, " %s", sink_kinds[i]);
}

/* "name=kind,prefix*=kind": names as streams allow, '*' only at the end, kinds known. */
static bool check_routes(const char *v, char *err, size_t errn)
{
    if (strlen(v) >= 1024) {
        snprintf(err, errn, "too long");
        return false;
    }
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", v);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok) {
            snprintf(err, errn, "'%.40s': expected STREAM=SINK", tok);
            return false;
        }
        *eq = '\0';
        char *star = strchr(tok, '*');
        if (star && star[1]) {
            snprintf(err, errn, "'%.40s': '*' only at the end of a stream prefix", tok);
            return false;
        }
        if (kind_index(eq + 1) < 0) {
            char k[120];
            kinds_list(k, sizeof(k));
            snprintf(err, errn, "'%.40s': unknown sink; %.100s", eq + 1, k);
            return false;
        }
    }
    return true;
}

static bool apply(settings *st, const opt *o, const char *v, char *err, size_t errn)
{
    sl_serve_config *c = &st->cfg;
    char *base = (char *)c;
    uint64_t u;
    switch (o->kind) {
    case K_LISTEN: {
        const char *colon = strrchr(v, ':');
        if (!colon || colon == v || (size_t)(colon - v) >= sizeof(c->listen_host)) {
            snprintf(err, errn, "expected HOST:PORT, e.g. 127.0.0.1:8080");
            return false;
        }
        char *end;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (*end || port > 65535 || end == colon + 1) {
            snprintf(err, errn, "invalid port '%s'", colon + 1);
            return false;
        }
        memcpy(c->listen_host, v, (size_t)(colon - v));
        c->listen_host[colon - v] = 0;
        if (!strcmp(c->listen_host, "localhost"))
            snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
        c->listen_port = (unsigned)port;
        return true;
    }
    case K_PATH:
        if (strlen(v) >= 1000 || !*v) {
            snprintf(err, errn, "path empty or too long");
            return false;
        }
        snprintf(base + o->off, 1024, "%s", v);
        return true;
    case K_TOKENS:
        return set_tokens(c, v);
    case K_OPEN:
        c->open_health = strstr(v, "healthz") || strstr(v, "readyz");
        c->open_metrics = strstr(v, "metrics") != NULL;
        if (!c->open_health && !c->open_metrics && strcmp(v, "none")) {
            snprintf(err, errn, "expected a list of healthz, metrics, or none");
            return false;
        }
        return true;
    case K_U64:
    case K_BYTES:
        if (!parse_bytes(v, &u) || (o->kind == K_U64 && strpbrk(v, "kKmMgGtT"))) {
            snprintf(err, errn, "expected a number%s", o->kind == K_BYTES ? " (K, M, G suffixes)" : "");
            return false;
        }
        if (u == 0 && o->off != OFF(wal_max_bytes) && o->off != OFF(wal_writeback_bytes)) {
            snprintf(err, errn, "must be greater than 0");
            return false;
        }
        memcpy(base + o->off, &u, sizeof(u));
        return true;
    case K_INT: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || *end || end == v || n < 0 || n > 1000000) {
            snprintf(err, errn, "expected a whole number 0..1000000");
            return false;
        }
        if (o->off == OFF(encode_threads)) {
            int iv = (int)n;
            memcpy(base + o->off, &iv, sizeof(iv));
        } else {
            unsigned uv = (unsigned)n;
            memcpy(base + o->off, &uv, sizeof(uv));
        }
        return true;
    }
    case K_SECONDS: {
        char *end;
        double d = strtod(v, &end);
        if (end == v || (*end && strcmp(end, "s")) || !(d > 0) || d > 86400) {
            snprintf(err, errn, "expected seconds, e.g. 10 or 0.5");
            return false;
        }
        memcpy(base + o->off, &d, sizeof(d));
        return true;
    }
    case K_BOOL: {
        bool b;
        if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
            !strcasecmp(v, "on"))
            b = true;
        else if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
                 !strcasecmp(v, "off"))
            b = false;
        else {
            snprintf(err, errn, "expected true or false");
            return false;
        }
        memcpy(base + o->off, &b, sizeof(b));
        return true;
    }
    case K_CODEC:
        if (sl_codec_parse(v, &c->codec)) {
            snprintf(err, errn, "expected snappy, zstd, gzip, lz4_raw or none");
            return false;
        }
        return true;
    case K_LEVEL: {
        sl_log_level l;
        if (sl_log_level_parse(v, &l)) {
            snprintf(err, errn, "expected debug, info, warn or error");
            return false;
        }
        snprintf(c->log_level, sizeof(c->log_level), "%s", v);
        return true;
    }
    case K_SINK:
        if (kind_index(v) < 0) {
            kinds_list(err, errn);
            return false;
        }
        snprintf(st->sink, sizeof(st->sink), "%s", v);
        return true;
    case K_ROUTES:
        if (!check_routes(v, err, errn))
            return false;
        snprintf(st->routes, sizeof(st->routes), "%s", v);
        return true;
    case K_AMQP:
        if (!strcmp(o->env, "SLUICE_AMQP_SOURCE_QUEUE")) {
            if (!*v || strlen(v) >= sizeof(st->amqp_src.queue)) {
                snprintf(err, errn, "expected a queue name");
                return false;
            }
            snprintf(st->amqp_src.queue, sizeof(st->amqp_src.queue), "%s", v);
            return true;
        }
        if (!strcmp(o->env, "SLUICE_AMQP_PREFETCH")) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*end || end == v || !n || n > 65535) {
                snprintf(err, errn, "expected 1..65535");
                return false;
            }
            st->amqp_src.prefetch = (unsigned)n;
            return true;
        }
        return sl_amqp_config_set(&st->amqp, o->env, v, err, errn);
    case K_CH:
        return sl_ch_config_set(&st->ch, o->env, v, err, errn);
    case K_MYPROJ:
        return sl_myproj_config_set(&st->myproj, o->env, v, err, errn);
    case K_PG:
        return sl_pg_config_set(&st->pg, o->env, v, err, errn);
    case K_EVENTS:
        if (!strcmp(o->env, "SLUICE_EVENTS_STREAM")) {
            if (strlen(v) >= sizeof(c->events_stream) || !*v) {
                snprintf(err, errn, "expected a stream name");
                return false;
            }
            snprintf(c->events_stream, sizeof(c->events_stream), "%s", v);
        } else if (!strcmp(v, "generate") || !strcmp(v, "reject")) {
            c->events_generate_ids = v[0] == 'g';
        } else {
            snprintf(err, errn, "expected reject or generate");
            return false;
        }
        return true;
    case K_S3:
        if (sl_s3_config_set(&st->s3, o->env, v, err, errn))
            return false;
        if (!strcmp(o->env, "S3_FORCE_PATH_STYLE"))
            st->path_style_set = true;
        return true;
    case K_SOURCE:
        return sl_kafka_url_parse(v, &st->source, err, errn) == SL_OK;
    case K_KAFKA:
        return sl_kafka_config_set(&st->kafka, o->env, v, err, errn) == SL_OK;
    case K_MODE:
        if (!strcmp(v, "strict"))
            c->default_strict = true;
        else if (!strcmp(v, "dlq"))
            c->default_strict = false;
        else {
            snprintf(err, errn, "expected dlq or strict");
            return false;
        }
        return true;
    }
    return false;
}

static const opt *find_flag(const char *name, size_t n)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].flag) == n && !strncmp(opts[i].flag, name, n))
            return &opts[i];
    return NULL;
}

static const opt *find_key(const char *key)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (!strcmp(opts[i].env, key) || (opts[i].alias && !strcmp(opts[i].alias, key)) ||
            !strcmp(opts[i].flag, key))
            return &opts[i];
    return NULL;
}

static int load_config_file(settings *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "sluice serve: cannot read config file %s: %s\n", path, strerror(errno));
        return 2;
    }
    char line[4096];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
            p[--n] = 0;
        if (!*p || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            fprintf(stderr, "sluice serve: %s:%u: expected KEY=VALUE\n", path, lineno);
            rc = 2;
            break;
        }
        *eq = 0;
        char *key = p, *val = eq + 1;
        size_t kl = strlen(key);
        while (kl && key[kl - 1] == ' ')
            key[--kl] = 0;
        while (*val == ' ')
            val++;
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = 0;
            val++;
        }
        const opt *o = find_key(key);
        if (!o) {
            fprintf(stderr, "sluice serve: %s:%u: unknown setting '%s' (see sluice serve --help)\n",
                    path, lineno, key);
            rc = 2;
            break;
        }
        char err[160];
        if (!apply(c, o, val, err, sizeof(err))) {
            fprintf(stderr, "sluice serve: %s:%u: %s: %s\n", path, lineno, key, err);
            rc = 2;
            break;
        }
    }
    fclose(f);
    return rc;
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: sluice serve [--listen HOST:PORT] [--data-dir DIR] [--config FILE] [options]\n"
            "\n"
            "Runs the ingest service: POST CSV or JSON Lines to /ingest (stream \"default\") or\n"
            "/v1/streams/NAME/ingest; the answer comes once the rows are fsync'd in the WAL;\n"
            "rows are delivered as Parquet to DIR/out/NAME/dt=DAY/part-SEG-FIRST-LAST.parquet,\n"
            "bad rows to DIR/out/NAME/_rejects/ (mode=dlq) or refused with 422 (mode=strict).\n"
            "With S3_BUCKET (or --sink s3) files go to s3://BUCKET/PREFIX/NAME/dt=DAY/hour=HH/.\n"
            "POST /v1/events takes JSON events (all or nothing; ?mode=dlq: good ones in, bad\n"
            "ones to the stream's dead letters). Answers name the stream row numbers the\n"
            "request got (\"seq\":{\"first\",\"last\"}); GET /v1/streams/NAME tells the rows\n"
            "committed by the sink (?wait_rows=N&timeout=S waits for rows [0, N) and flushes\n"
            "them now). Endpoints: GET / /v1/streams /v1/streams/NAME /metrics /healthz\n"
            "/readyz. SIGTERM/SIGINT: finish requests in flight, flush, exit 0.\n"
            "\n"
            "Each setting: --flag VALUE, or the environment variable, or KEY=VALUE in the\n"
            "--config file (environment names). Flags beat the environment, which beats the file.\n\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char names[96];
        snprintf(names, sizeof(names), "--%s, %s%s%s", opts[i].flag, opts[i].env,
                 opts[i].alias ? ", " : "", opts[i].alias ? opts[i].alias : "");
        fprintf(f, "  %s\n      %s\n", names, opts[i].help);
    }
    fprintf(f, "  --config FILE, SLUICE_CONFIG\n      KEY=VALUE settings file\n"
               "\nExit codes: 0 stopped cleanly, 2 bad configuration, 3 cannot start (data\n"
               "directory, WAL recovery, port), 70 the WAL failed (fsync error): restart to\n"
               "replay what is durable.\n");
}

/* Creates the sink the settings ask for into st->cfg.sink; 0 or exit code 2. */
static int make_sink(settings *st)
{
    bool s3 = !strcmp(st->sink, "s3") || (!st->sink[0] && st->s3.bucket[0]);
    if (!s3)
        return 0;
    if (!st->path_style_set && st->s3.endpoint[0])
        st->s3.path_style = true; /* MinIO and most S3-compatible servers */
    sl_sink_error e = {0};
    if (sl_sink_s3_create(&st->s3, &st->cfg.sink, &e)) {
        fprintf(stderr, "sluice serve: s3 sink: %s\n", e.message);
        if (e.hint[0])
            fprintf(stderr, "hint: %s\n", e.hint);
        return 2;
    }
    return 0;
}

/* The unit-sink factory for a kind: NULL for Parquet files (the server makes that one over the
 * file sink); row sinks (databases, brokers) are made here once per kind. */
static int units_for(settings *st, const char *kind, sl_unit_sink_factory **out)
{
    *out = NULL;
    int k = kind_index(kind);
    if (k < 0)
        return 2;
    if (!strcmp(kind, "local") || !strcmp(kind, "s3") || !strcmp(kind, "parquet"))
        return 0;
    if (st->made[k]) {
        *out = st->made[k];
        return 0;
    }
    sl_sink_error e = {0};
    sl_err err = SL_UNSUPPORTED;
    snprintf(e.message, sizeof(e.message), "sink %s is not built in", kind);
    /* row sinks: if (!strcmp(kind, "postgres")) err = sl_unit_pg_factory(&st->pg, out, &e); */
    if (!strcmp(kind, "kafka"))
        err = sl_unit_kafka_factory(&st->kafka, out, &e);
    if (!strcmp(kind, "postgres"))
        err = sl_unit_pg_factory(&st->pg, out, &e);
    if (!strcmp(kind, "clickhouse"))
        err = sl_unit_ch_factory(&st->ch, out, &e);
    if (!strcmp(kind, "amqp"))
        err = sl_unit_amqp_factory(&st->amqp, out, &e);
    if (err) {
        fprintf(stderr, "sluice serve: %s sink: %s\n", kind, e.message);
        if (e.hint[0])
            fprintf(stderr, "hint: %s\n", e.hint);
        return 2;
    }
    st->made[k] = *out;
    return 0;
}

/* SLUICE_SINK (default for every stream) and SLUICE_ROUTES (per stream) into cfg.units and
 * cfg.routes. */
static int make_units(settings *st)
{
    int rc;
    if (st->sink[0] && (rc = units_for(st, st->sink, &st->cfg.units)))
        return rc;
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", st->routes);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *eq = strchr(tok, '=');
        *eq = '\0';
        if (st->cfg.nroutes == SL_MAX_ROUTES) {
            fprintf(stderr, "sluice serve: more than %d routes\n", SL_MAX_ROUTES);
            return 2;
        }
        sl_stream_route *r = &st->cfg.routes[st->cfg.nroutes++];
        snprintf(r->pattern, sizeof(r->pattern), "%s", tok);
        if ((rc = units_for(st, eq + 1, &r->units)))
            return rc;
    }
    return 0;
}

int sl_cli_serve(int argc, char **argv)
{
    settings st;
    memset(&st, 0, sizeof(st));
    sl_serve_config_default(&st.cfg);
    sl_s3_config_default(&st.s3);
    sl_pg_config_default(&st.pg);
    sl_myproj_config_default(&st.myproj);
    sl_ch_config_default(&st.ch);
    sl_amqp_config_default(&st.amqp);
    sl_kafka_config_default(&st.kafka);
    int rc = 0;
    /* config file first (flag or environment) */
    const char *cfile = getenv("SLUICE_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            cfile = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            cfile = argv[i] + 9;
    }
    if (cfile && (rc = load_config_file(&st, cfile)))
        goto out;
    char err[160];
    for (size_t i = 0; i < NOPTS; i++) {
        const char *names[2] = {opts[i].env, opts[i].alias};
        for (int k = 0; k < 2; k++) {
            const char *v = names[k] ? getenv(names[k]) : NULL;
            if (!v)
                continue;
            if (!apply(&st, &opts[i], v, err, sizeof(err))) {
                fprintf(stderr, "sluice serve: %s=%s: %s\n", names[k], v, err);
                rc = 2;
                goto out;
            }
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2)) {
            fprintf(stderr, "sluice serve: unexpected argument '%s' (see --help)\n", a);
            rc = 2;
            goto out;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        if (n == 6 && !strncmp(a, "config", 6)) {
            if (!eq)
                i++;
            continue;
        }
        if (n == 11 && !strncmp(a, "no-wal-sync", 11)) {
            st.cfg.wal_sync = false;
            continue;
        }
        const opt *o = find_flag(a, n);
        if (!o) {
            fprintf(stderr, "sluice serve: unknown option --%.*s (see --help)\n", (int)n, a);
            rc = 2;
            goto out;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) {
            fprintf(stderr, "sluice serve: --%s needs a value\n", o->flag);
            rc = 2;
            goto out;
        }
        if (!apply(&st, o, v, err, sizeof(err))) {
            fprintf(stderr, "sluice serve: --%s %s: %s\n", o->flag, v, err);
            rc = 2;
            goto out;
        }
    }
    sl_log_level lvl;
    if (sl_log_level_parse(st.cfg.log_level, &lvl) == SL_OK)
        sl_log_set_level(lvl);
    if (st.cfg.chunk_bytes > ((uint64_t)64 << 20))
        st.cfg.chunk_bytes = (uint64_t)64 << 20;
    if ((rc = make_sink(&st)) || (rc = make_units(&st)))
        goto out;
    sl_server *srv = NULL;
    char msg[1024] = "";
    sl_unit_sink_factory *kafka_units = st.made[kind_index("kafka")]; /* borrowed below */
    sl_err oerr = sl_server_open(&st.cfg, &srv, msg, sizeof(msg));
    /* the server owns the sinks now, opened or not */
    memset(st.made, 0, sizeof(st.made));
    if (!oerr && kafka_units)
        sl_unit_kafka_metrics(kafka_units, srv->metrics);
    st.cfg.sink = NULL;
    if (oerr) {
        sl_log(SL_LOG_ERROR, "cannot start", SL_KS("error", msg));
        fprintf(stderr, "sluice serve: %s\n", msg);
        rc = 3;
        goto out;
    }
    sl_myproj *proj = NULL; /* MariaDB projection: beside the lanes, never in their way */
    if (st.myproj.url[0] &&
        sl_myproj_start(&st.myproj, st.pg.url, srv->metrics, &proj, msg, sizeof(msg))) {
        fprintf(stderr, "sluice serve: MariaDB projection: %s\n", msg);
        sl_server_close(srv);
        rc = 2;
        goto out;
    }
    sl_kafka_source *ksrc = NULL; /* --source kafka://: its own consumer thread */
    if (st.source.topic[0]) {
        sl_kafka_source_env env = {srv->sink, srv->stage_dir, srv->cfg.models_dir, {0},
                                   srv->metrics, st.kafka.props};
        sl_pq_opts_default(&env.po);
        env.po.codec = st.cfg.codec;
        env.po.threads = st.cfg.encode_threads;
        if (sl_kafka_source_start(&st.source, &env, &ksrc, msg, sizeof(msg))) {
            fprintf(stderr, "sluice serve: --source: %s\n", msg);
            sl_myproj_stop(proj); /* it updates srv->metrics */
            sl_server_close(srv);
            rc = 2;
            goto out;
        }
    }
    sl_amqp_source *asrc = NULL; /* RabbitMQ -> this server's POST /v1/events over loopback */
    if (st.amqp_src.queue[0]) {
        snprintf(st.amqp_src.url, sizeof(st.amqp_src.url), "%s", st.amqp.url);
        snprintf(st.amqp_src.target, sizeof(st.amqp_src.target), "http://%s:%u/v1/events",
                 strcmp(st.cfg.listen_host, "0.0.0.0") ? st.cfg.listen_host : "127.0.0.1",
                 st.cfg.listen_port);
        if (st.cfg.tokens)
            snprintf(st.amqp_src.token, sizeof(st.amqp_src.token), "%s", st.cfg.tokens[0]);
        if (!st.cfg.listen_port ||
            sl_amqp_source_start(&st.amqp_src, &asrc, msg, sizeof(msg))) {
            fprintf(stderr, "sluice serve: RabbitMQ source: %s\n",
                    st.cfg.listen_port ? msg : "needs a fixed listen port (not 0)");
            sl_kafka_source_stop(ksrc);
            sl_myproj_stop(proj);
            sl_server_close(srv);
            rc = 2;
            goto out;
        }
    }
    if (sl_server_run(srv))
        rc = 3;
    sl_amqp_source_stop(asrc);
    sl_kafka_source_stop(ksrc);
    sl_myproj_stop(proj);
    sl_server_close(srv);
out:
    for (size_t i = 0; i < NKINDS; i++) /* not handed to a server */
        if (st.made[i])
            st.made[i]->destroy(st.made[i]);
    if (st.cfg.sink)
        st.cfg.sink->destroy(st.cfg.sink);
    free_tokens(&st.cfg);
    return rc;
}
