/* store.h: model and job metadata in SQLite (DATA/meta.db, WAL mode), for models.c and jobs.c.
 *
 * One connection, used under the store's own mutex: every function is thread-safe and holds the
 * lock only for its statements (it is a leaf in every lock order). Schema changes go through a
 * numbered list of migrations recorded in `schema_migrations`, applied in one transaction each.
 *
 * Models are versioned: a (name, version) row per distinct schema; deleting a model marks all
 * its versions deleted (jobs keep pointing at the version they used, and a model created again
 * under the same name continues the numbering).
 *
 * Errors: SL_RETRY = not found; SL_IO = SQLite failed (message in the log); SL_NOMEM.
 */
#ifndef SL_SERVER_STORE_H
#define SL_SERVER_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice.h"
#include "util/buf.h"

typedef struct sl_store sl_store;

SL_NODISCARD sl_err sl_store_open(const char *path, sl_store **out, char *msg, size_t msgn);
void sl_store_close(sl_store *st); /* NULL is a no-op */

/* ---- models ---- */
typedef struct {
    char name[72];
    int64_t version;
    char *schema; /* canonical JSON, malloc'd (sl_store_model_release) */
    int64_t created_us;
    int64_t versions; /* number of versions (latest = version) */
} sl_model_rec;

void sl_store_model_release(sl_model_rec *m);
/* Stores `schema` (canonical JSON) as the model's next version unless it equals the latest one
 * (then *created = false). *version is the version now current. */
SL_NODISCARD sl_err sl_store_model_put(sl_store *st, const char *name, const char *schema,
                                       int64_t *version, bool *created);
/* version 0: the latest. SL_RETRY if the model (or that version) does not exist or is deleted. */
SL_NODISCARD sl_err sl_store_model_get(sl_store *st, const char *name, int64_t version,
                                       sl_model_rec *out);
/* Names of the live models, sorted, as a JSON array of {"name","version","created_at"} objects
 * appended to out. *count (may be NULL) = how many. */
SL_NODISCARD sl_err sl_store_model_list(sl_store *st, sl_buf *out, size_t *count);
/* Comma-separated list of live model names (for error hints), truncated to n. */
void sl_store_model_names(sl_store *st, char *out, size_t n);
SL_NODISCARD sl_err sl_store_model_delete(sl_store *st, const char *name);

/* ---- jobs ---- */
typedef struct {
    char id[40];
    int64_t seq;
    char model[72];
    int64_t model_version;
    char status[20];   /* queued running succeeded failed partially_failed cancelled */
    char format[12];   /* csv jsonl parquet auto */
    int64_t bytes;
    int64_t rows_read, rows_accepted, rows_rejected, output_bytes;
    int64_t created_us, started_us, finished_us;
    int64_t attempts;
    bool cancel_requested;
    char error_code[40];
    char error_message[512];
    char error_hint[256];
    char outputs[2048];      /* JSON array text */
    char dead_letters[1024]; /* location, "" if none */
    int64_t bytes_read;      /* of the upload, while running (progress) */
} sl_job_rec;

SL_NODISCARD sl_err sl_store_job_insert(sl_store *st, sl_job_rec *j); /* sets j->seq */
SL_NODISCARD sl_err sl_store_job_get(sl_store *st, const char *id, sl_job_rec *out);
/* Newest first; model/status may be NULL; before_seq 0 = from the newest. Calls fn per job.
 * *more = another page exists. */
SL_NODISCARD sl_err sl_store_job_list(sl_store *st, const char *model, const char *status,
                                      int64_t before_seq, int limit,
                                      void (*fn)(void *ctx, const sl_job_rec *j), void *ctx,
                                      bool *more);
/* Writes every mutable field of j (status, counters, times, error, outputs). */
SL_NODISCARD sl_err sl_store_job_update(sl_store *st, const sl_job_rec *j);
SL_NODISCARD sl_err sl_store_job_progress(sl_store *st, const char *id, int64_t rows_read,
                                          int64_t rows_accepted, int64_t rows_rejected,
                                          int64_t bytes_read);
/* Oldest queued job -> running (attempts+1, started_us); SL_RETRY if none. */
SL_NODISCARD sl_err sl_store_job_claim(sl_store *st, int64_t now_us, sl_job_rec *out);
/* queued/running jobs of a model */
SL_NODISCARD sl_err sl_store_jobs_active(sl_store *st, const char *model, int64_t *count);
SL_NODISCARD sl_err sl_store_job_set_cancel(sl_store *st, const char *id);
/* queued -> cancelled in one statement; *done = it was queued. */
SL_NODISCARD sl_err sl_store_job_cancel_queued(sl_store *st, const char *id, int64_t now_us,
                                               bool *done);
/* ids of jobs in state `status`, calls fn for each (used at start for "running") */
SL_NODISCARD sl_err sl_store_jobs_in(sl_store *st, const char *status,
                                     void (*fn)(void *ctx, const sl_job_rec *j), void *ctx);
bool sl_store_job_exists(sl_store *st, const char *id);

#endif
