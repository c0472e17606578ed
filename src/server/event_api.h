/* event_api.h: the parts of POST /v1/events that are not HTTP plumbing (which http.c shares
 * with stream ingest): the events stream's fixed schema, the accepted media types, and the
 * 422 answer listing each bad event.
 *
 * An events request is a stream ingest whose body is first validated and normalized by
 * parse/events.h into canonical NDJSON; that NDJSON is what goes to the WAL, so recovery and
 * the lane see ordinary JSON Lines of the events schema. A request with any bad event is
 * rejected whole (422, nothing logged as committed), like ingest's mode=strict. With
 * ?mode=dlq the good events are ingested and each bad one becomes a dead-letter line of the
 * stream (parse/events.h), answered 200 with the counts and the first errors.
 */
#ifndef SL_SERVER_EVENT_API_H
#define SL_SERVER_EVENT_API_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/events.h"
#include "sluice.h"
#include "util/buf.h"

/* event_id string (not null), type string (not null), occurred_at timestamp[us, UTC] (not
 * null), payload json (nullable), received_at timestamp[us, UTC] (not null). Caller owns it. */
SL_NODISCARD sl_err sl_event_schema(sl_schema **out);
/* True if an existing stream's schema is the events schema (names, types, in order). */
bool sl_event_schema_ok(const sl_schema *s);
/* application/json, application/x-ndjson (and the other JSON Lines names), or no type. */
bool sl_event_content_type_ok(const char *ct, char *why, size_t whyn);
/* The 422 body: {"error":{...},"stream":..,"events_accepted":0,"events_rejected":N,
 * "errors":[{"index":..,"line":..,"column":..,"field":..,"code":..,"message":..}],
 * "errors_truncated":..} */
SL_NODISCARD sl_err sl_event_rejected_body(const sl_events *ev, const char *stream, sl_buf *b);
/* "errors":[{"index":..,"line":..,"column":..,"field":..,"code":..,"message":..}],
 * "errors_truncated":.. (the 422 body's list; also in the 200 answer of mode=dlq). */
SL_NODISCARD sl_err sl_event_errors_json(const sl_events *ev, sl_buf *b);

#endif
