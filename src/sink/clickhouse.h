/* clickhouse.h: ClickHouse unit sink over the HTTP interface (libcurl), seed 001.
 *
 * Each unit is one INSERT INTO db.table (_sluice_seq, field...) FORMAT RowBinary: per row, per
 * column in that list, the value little-endian in the column's type, no names, no text (Debian 12
 * ships 18.16, which reads RowBinary but has no Parquet, Arrow or RowBinaryWithNamesAndTypes
 * input, no insert_deduplication_token and no non_replicated_deduplication_window, so a plain
 * MergeTree there cannot deduplicate a retried insert by itself).
 *
 * Exactly once on such a server, two layers:
 *   1. the range marker: the table sluice_units (stream, origin, row0, row1) records each unit
 *      (origin: the data directory's identity, since row numbers restart at 0 in a new one;
 *      keyed by stream alone, a new data directory's rows were skipped as committed) after its
 *      INSERT; commit() first looks the unit up and skips the INSERT when it is there, so a
 *      replay after a crash or a failed attempt whose INSERT had landed sends nothing;
 *   2. the window between INSERT and marker (a crash or an error exactly there): tables made
 *      by sluice are ReplacingMergeTree ordered by the row's identity (event_id for the events
 *      stream, else (_sluice_origin, _sluice_seq): the data directory and the stream's row
 *      sequence number, which the WAL replays identically), so a repeated row collapses at
 *      merges and `SELECT ... FINAL` never counts it twice.
 * On ClickHouse >= 22.2 the INSERT also carries insert_deduplication_token =
 * "sluice:STREAM:ORIGIN:ROW0:ROW1" (plus the table setting non_replicated_deduplication_window for
 * tables it creates), so there the server drops a repeated block at once.
 *
 * Types: bool UInt8, int32 Int32, int64 Int64, float Float32, double Float64, string/json
 * String, binary String (hex), date Date, decimal(p,s) Decimal(p,s) (sent as Int32, Int64 or
 * Int128 for p <= 9, 18, 38), timestamp DateTime64(3|6|9 as the unit) (>= 20.1) or DateTime
 * (older servers: whole seconds, the fraction is dropped, rounded down), nullable fields
 * Nullable(T) (the events key event_id never). A timestamp without UTC is sent as the wall time
 * it says read as UTC, so the server's timezone should be UTC (as the text was read in the
 * server's timezone, it then shows the same).
 *
 * RowBinary carries no types, so nothing is wrapped or misread:
 *   - a date outside 1970-01-01..2149-06-06 (UInt16 days) or, on DateTime, a timestamp outside
 *     1970-01-01 00:00:00..2106-02-07 06:28:15 UTC (UInt32 seconds), or a decimal with more
 *     digits than its precision, fails the unit with a permanent error naming the stream, row,
 *     column and value (/readyz); the rows stay in the WAL. (JSONEachRow on 18.16 stored such a
 *     date as 0000-00-00 and wrapped such a DateTime, silently.)
 *   - a table that exists with another type for one of the columns sent (made by hand, or for
 *     another schema) fails the first unit with a permanent error naming the column; sluice
 *     checks system.columns once per sink after CREATE TABLE IF NOT EXISTS.
 */
#ifndef SL_SINK_CLICKHOUSE_H
#define SL_SINK_CLICKHOUSE_H

#include "sink/unit_sink.h"

typedef struct {
    char url[1024];     /* CLICKHOUSE_URL: http://[user:password@]host:8123 */
    char database[64];  /* SLUICE_CH_DATABASE (default "default") */
    char table[128];    /* SLUICE_CH_TABLE: "{stream}" (default) = the stream name */
    unsigned timeout;   /* seconds per request (default 30) */
} sl_ch_config;

void sl_ch_config_default(sl_ch_config *c);
bool sl_ch_config_set(sl_ch_config *c, const char *name, const char *v, char *err, size_t errn);
SL_NODISCARD sl_err sl_unit_ch_factory(const sl_ch_config *c, sl_unit_sink_factory **out,
                                       sl_sink_error *e);

#endif
