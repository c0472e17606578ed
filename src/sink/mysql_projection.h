/* mysql_projection.h: best-effort copy of the PostgreSQL events table into MariaDB/MySQL
 * (seed 004: PostgreSQL is the source of truth, MySQL a projection for fast reads).
 *
 * Not a unit sink: it never sits in the lane, so MariaDB being slow or down cannot block or
 * lose primary data. A background thread reads committed rows from PostgreSQL in `seq` order
 * (the events table's bigserial; one writer per table, the stream's lane, so commit order is
 * seq order and a row with a smaller seq never appears later) and upserts them into MariaDB
 * (INSERT ... ON DUPLICATE KEY UPDATE on event_id) together with its cursor (table
 * sluice_projection: name -> last seq) in one MariaDB transaction. A crash between the two
 * databases at most re-applies a batch, which the upsert makes harmless. When MariaDB or
 * PostgreSQL is unreachable it retries with exponential backoff (at most 5 s) and catches up.
 *
 * Metrics: sluice_projection_lag_rows, sluice_projection_lag_seconds (age of the oldest row
 * not yet projected), sluice_projection_rows_total, sluice_projection_up.
 */
#ifndef SL_SINK_MYSQL_PROJECTION_H
#define SL_SINK_MYSQL_PROJECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics/metrics.h"
#include "sluice.h"

typedef struct {
    char url[1024];     /* MYSQL_URL: mysql://user:password@host:port/database */
    char table[64];     /* SLUICE_PROJECTION_TABLE: the events table in both (default events) */
    double interval;    /* SLUICE_PROJECTION_INTERVAL: seconds between polls when caught up */
    unsigned batch;     /* rows per MariaDB transaction (default 1000) */
} sl_myproj_config;

void sl_myproj_config_default(sl_myproj_config *c);
bool sl_myproj_config_set(sl_myproj_config *c, const char *name, const char *v, char *err,
                          size_t errn);

/* Parsed MYSQL_URL; false with err when it is not mysql://[user[:password]@]host[:port][/db]
 * (user and password may be %-encoded; port default 3306). */
typedef struct {
    char user[128], password[256], host[256], db[128];
    unsigned port;
} sl_mysql_url;
bool sl_mysql_url_parse(const char *url, sl_mysql_url *out, char *err, size_t errn);

typedef struct sl_myproj sl_myproj;

/* Starts the projection thread reading the table from pg_url. m: where the metrics go
 * (borrowed; must outlive the projection). */
SL_NODISCARD sl_err sl_myproj_start(const sl_myproj_config *c, const char *pg_url, sl_metrics *m,
                                    sl_myproj **out, char *msg, size_t msgn);
/* Stops and joins the thread (a batch in progress finishes or fails first). NULL: no-op. */
void sl_myproj_stop(sl_myproj *p);

#endif
