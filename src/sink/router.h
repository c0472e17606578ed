/* router.h: per-stream choice of unit sink.
 *
 * A router is itself a unit-sink factory: for each stream it asks the first route whose
 * pattern matches the stream name (an exact name, or a prefix ending in '*', in the order
 * added), else the fallback. The router owns every factory given to it (each destroyed once,
 * even when several routes share it). Configured from SLUICE_ROUTES (see src/cli/serve.c),
 * e.g. "events=postgres,clicks*=kafka": streams not named go to the default sink.
 */
#ifndef SL_SINK_ROUTER_H
#define SL_SINK_ROUTER_H

#include <stdbool.h>

#include "sink/unit_sink.h"

sl_unit_sink_factory *sl_unit_router_create(sl_unit_sink_factory *fallback);
/* SL_INVALID for an empty pattern or a '*' anywhere but at the end. */
SL_NODISCARD sl_err sl_unit_router_add(sl_unit_sink_factory *router, const char *pattern,
                                       sl_unit_sink_factory *to);
/* Makes the router own f (destroyed with it) without a route to it. */
SL_NODISCARD sl_err sl_unit_router_own(sl_unit_sink_factory *router, sl_unit_sink_factory *f);
/* The router's check: each factory's check in turn; the first failure, with that factory's
 * kind ("kafka", "s3", ...) in *kind (kind may be NULL). */
SL_NODISCARD sl_err sl_unit_router_check(sl_unit_sink_factory *router, const char **kind,
                                         sl_sink_error *e);
/* The factory a stream would get. */
sl_unit_sink_factory *sl_unit_router_pick(sl_unit_sink_factory *router, const char *stream);

#endif
