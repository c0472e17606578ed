/* events.h: validation and normalization of JSON events (POST /v1/events, seed 004).
 *
 * Input: one event `{...}`, an array of events `[{...}, ...]`, NDJSON, or concatenated objects
 * (the JSON parser's array mode, parse/json.h), fed in chunks of any size. Each event is an
 * object with exactly these keys:
 *   event_id     string, 1..SL_EVENT_ID_MAX bytes (decoded), no control characters. Missing or
 *                null: an error "missing", or with generate_ids a new UUIDv7.
 *   type         string, 1..SL_EVENT_TYPE_MAX bytes (decoded)
 *   occurred_at  string, RFC 3339 / ISO 8601 timestamp; without an offset it is taken as UTC
 *   payload      any JSON value (optional; absent = null)
 *   received_at  ignored if present (sluice sets it: the time the request arrived)
 * Any other key is an error "unknown_field" (nothing is dropped silently).
 *
 * Output: for every good event one NDJSON line in a canonical form, appended to `out`:
 *   {"event_id":"...","type":"...","occurred_at":"2026-11-23T10:00:00.000001Z",
 *    "payload":<raw JSON>,"received_at":"..."}
 * Everything that varies per run (a generated id, received_at) is decided here, before the
 * caller writes the lines to the WAL, so a replay from the WAL gives the same rows.
 * Once an event is bad nothing more is appended (the caller rejects the whole request), but
 * validation goes on so that every bad event is reported (the first max_errors in detail).
 *
 * With dlq, good events are written as above and each bad event becomes a dead-letter line
 * in its place, SL_EVENT_REJECT_MARK followed by the rejects-file object
 *   #{"line":..,"column":..|null,"field":..|null,"code":..,"reason":..,"index":..,"raw":..}
 * (raw: the event's text as sent, or raw_base64 when it is not UTF-8), which the body parser
 * (server/body_parse.h, event_rejects) passes to the stream's dead letters as it is. Being
 * part of what goes to the WAL, a replay gives the same dead letters with the same reasons.
 *
 * Ownership: the validator owns its parser; `out` is the caller's. Thread-safety: one validator
 * per thread.
 */
#ifndef SL_PARSE_EVENTS_H
#define SL_PARSE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"
#include "util/buf.h"

#define SL_EVENT_ID_MAX 255
#define SL_EVENT_TYPE_MAX 255

typedef struct {
    uint64_t index;   /* 0-based position of the event in the request */
    uint64_t line;    /* 1-based line of the error */
    uint32_t column;  /* 1-based byte column, 0 = unknown */
    char field[32];   /* "event_id", "type", "occurred_at", "payload", or "" (the event) */
    char code[24];    /* "missing", "type", "empty", "too_long", "timestamp", "syntax", ... */
    char message[192];
} sl_event_error;

typedef struct {
    bool generate_ids;   /* missing event_id: generate a UUIDv7 (else reject) */
    int64_t received_us; /* received_at of every event (UTC microseconds) */
    size_t max_errors;   /* errors kept in detail */
    size_t max_record;   /* largest event in bytes (0 = 1 MiB) */
    bool dlq;            /* bad events become dead-letter lines (see above) */
} sl_events_opts;

#define SL_EVENT_REJECT_MARK '#' /* first byte of a dead-letter line (never starts JSON) */

typedef struct sl_events sl_events;

SL_NODISCARD sl_err sl_events_create(const sl_events_opts *o, sl_events **out);
void sl_events_destroy(sl_events *ev); /* NULL is a no-op */

/* Validates what of data[0..n) completes events; good ones go to out as NDJSON lines.
 * SL_NOMEM (out may hold part of a line then: discard it). */
SL_NODISCARD sl_err sl_events_feed(sl_events *ev, const uint8_t *data, size_t n, sl_buf *out);
/* End of input: the last event (or an unterminated one, which is an error). */
SL_NODISCARD sl_err sl_events_finish(sl_events *ev, sl_buf *out);

uint64_t sl_events_total(const sl_events *ev);     /* events seen, good and bad */
uint64_t sl_events_bad(const sl_events *ev);       /* events rejected */
uint64_t sl_events_generated(const sl_events *ev); /* ids generated */
size_t sl_events_nerrors(const sl_events *ev);     /* min(bad, max_errors) */
const sl_event_error *sl_events_error(const sl_events *ev, size_t i);

/* A new UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, 74 random bits, in the
 * canonical 36-character form plus NUL. */
void sl_uuid7(int64_t unix_ms, char out[37]);

#endif
