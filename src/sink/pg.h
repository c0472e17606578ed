/* pg.h: PostgreSQL unit sink (libpq): each unit of a stream becomes one transaction.
 *
 * begin() connects (or reuses the connection; a broken one is dropped and made again on the
 * next begin, the lane's backoff spacing the attempts), creates the table if missing, opens a
 * transaction and a COPY into a temporary staging table; rows() streams the rows as COPY text;
 * commit() ends the COPY and, in the same transaction,
 *   INSERT INTO sluice_units (stream, origin, row0, row1) ... ON CONFLICT DO NOTHING
 *       (origin: the data directory's identity, as row numbers restart in a new one)
 *       -> 0 rows: this range was committed before (a replay after a crash): roll back, done;
 *   INSERT INTO table (cols) SELECT cols FROM staging [ON CONFLICT (key) DO NOTHING];
 *   COMMIT.
 * So a unit is in the table exactly once whether or not the table has a key, and with a key
 * (event_id for events) a row whose key is already there is skipped: posting the same event
 * twice stores it once. The key: SLUICE_PG_KEY, else the event key of the stream's model
 * (event_key, fixed when the stream was created), else event_id when the stream has it. The
 * lane marks the WAL range done only after COMMIT returned.
 *
 * Tables: the events stream (the schema of server/event_api.h) gets
 *   events(seq bigserial, event_id varchar PRIMARY KEY, type text, occurred_at timestamptz,
 *          payload jsonb, received_at timestamptz)
 * where seq numbers rows in commit order (one writer per table: the stream's lane) for the
 * MariaDB projection; other streams get their schema's columns (types mapped: int64 bigint,
 * timestamp[.., UTC] timestamptz, json jsonb, decimal(p,s) numeric(p,s), ...) and a primary key
 * on the key column when there is one. An existing table is used as it is (its columns must
 * include the stream's).
 */
#ifndef SL_SINK_PG_H
#define SL_SINK_PG_H

#include "sink/unit_sink.h"
#include "util/buf.h"

typedef struct {
    char url[1024];   /* POSTGRES_URL: postgresql://user:pass@host:port/db or key=value */
    char table[128];  /* SLUICE_PG_TABLE: table name; "{stream}" (default) = the stream name */
    char key[64];     /* SLUICE_PG_KEY: conflict key column; "": the stream's event key (its
                       * model's event_key, sl_unit.key), else event_id if the stream has it */
    char schema[64];  /* SLUICE_PG_SCHEMA: schema of the tables (default public) */
    unsigned connect_timeout; /* seconds (default 5) */
} sl_pg_config;

void sl_pg_config_default(sl_pg_config *c);
/* Sets one option by its environment name (POSTGRES_URL, SLUICE_PG_URL, SLUICE_PG_TABLE,
 * SLUICE_PG_KEY, SLUICE_PG_SCHEMA, SLUICE_PG_CONNECT_TIMEOUT); false with err on a bad value. */
bool sl_pg_config_set(sl_pg_config *c, const char *name, const char *v, char *err, size_t errn);

/* The factory; SL_INVALID (with e) when POSTGRES_URL is not set. The config is copied. */
SL_NODISCARD sl_err sl_unit_pg_factory(const sl_pg_config *c, sl_unit_sink_factory **out,
                                       sl_sink_error *e);

/* PostgreSQL text for one value of a column (COPY text format escaping when copy is true,
 * else plain text); appended to b. NULL values: "\N" (copy) or nothing. For tests. */
SL_NODISCARD sl_err sl_pg_value_text(const sl_column *col, size_t row, bool copy, sl_buf *b);

#endif
