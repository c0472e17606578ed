/* clickhouse.h: ClickHouse unit sink over the HTTP interface (libcurl), seed 001.
 *
 * Each unit is one INSERT ... FORMAT JSONEachRow (a format every ClickHouse since 1.1 reads;
 * Debian 12 ships 18.16, which has no Parquet, Arrow or RowBinaryWithNamesAndTypes input, no
 * insert_deduplication_token and no non_replicated_deduplication_window, so a plain MergeTree
 * there cannot deduplicate a retried insert by itself).
 *
 * Exactly once on such a server, two layers:
 *   1. the range marker: the table sluice_units (stream, row0, row1) records each unit after its
 *      INSERT; commit() first looks the unit up and skips the INSERT when it is there, so a
 *      replay after a crash or a failed attempt whose INSERT had landed sends nothing;
 *   2. the window between INSERT and marker (a crash or an error exactly there): tables made
 *      by sluice are ReplacingMergeTree ordered by the row's identity (event_id for the events
 *      stream, else _sluice_seq, the stream's row sequence number, which the WAL replays
 *      identically), so a repeated row collapses at merges and `SELECT ... FINAL` never counts
 *      it twice.
 * On ClickHouse >= 22.2 the INSERT also carries insert_deduplication_token =
 * "sluice:STREAM:ROW0:ROW1" (plus the table setting non_replicated_deduplication_window for
 * tables it creates), so there the server drops a repeated block at once.
 *
 * Types: bool UInt8, int32 Int32, int64 Int64, float Float32, double Float64, string/json
 * String, binary String (hex), date Date, decimal(p,s) Decimal(p,s), timestamp DateTime64(6)
 * (>= 20.1) or DateTime (older servers: whole seconds, the fraction is dropped), nullable
 * fields Nullable(T).
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
