/* api.h: the models and jobs API (/v1/models, /v1/jobs) of `sluice serve`.
 *
 * http.c routes these URLs here after its framing and auth checks, then hands every later call
 * of the request (body chunks, the end) to sl_api_next(); sl_api_free() runs in its completion
 * callback. server.c opens the API after the streams (metadata store, job recovery, workers),
 * stops it after HTTP (workers finish their batch; a job cut by the shutdown goes back to
 * "queued" and resumes on the next start) and closes it last.
 *
 * Implementation: api.c (routing, answers, lifecycle), models.c, jobs.c (uploads, workers),
 * store.c (SQLite). Docs: docs/jobs.md.
 */
#ifndef SL_SERVER_API_H
#define SL_SERVER_API_H

#include <microhttpd.h>
#include <stdbool.h>

#include "server/server.h"

typedef struct sl_api_req sl_api_req;

bool sl_api_route(const char *url);
/* First call of a request (headers read). *out is the request state (NULL if answered). */
enum MHD_Result sl_api_begin(sl_server *srv, struct MHD_Connection *c, const char *url,
                             const char *method, sl_api_req **out);
/* Every later call: a body chunk (*size > 0; consumed) or the end of the body. a may be NULL. */
enum MHD_Result sl_api_next(sl_api_req *a, struct MHD_Connection *c, const char *data,
                            size_t *size);
void sl_api_free(sl_api_req *a); /* NULL is a no-op */

SL_NODISCARD sl_err sl_api_open(sl_server *srv, char *msg, size_t msgn);
void sl_api_stop(sl_server *srv);  /* idempotent */
void sl_api_close(sl_server *srv); /* stops, closes the store; NULL state is fine */

#endif
