/* api_internal.h: shared by api.c, models.c and jobs.c (not used elsewhere). */
#ifndef SL_SERVER_API_INTERNAL_H
#define SL_SERVER_API_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "server/api.h"
#include "server/store.h"
#include "util/buf.h"

#define SL_API_MAX_WORKERS 4
#define SL_API_SMALL_BODY ((size_t)1 << 20) /* JSON bodies (models) */

typedef struct {
    char id[40]; /* running job, "" if idle (under api->mu) */
    atomic_bool cancel;
} sl_api_slot;

typedef struct sl_api {
    sl_server *srv;
    sl_store *store;
    char jobs_dir[1100];
    uint64_t max_job_bytes; /* SLUICE_JOB_MAX_BYTES, default 1 GiB */
    int nworkers;           /* SLUICE_JOB_WORKERS, default 1 */
    int convert_threads;    /* SLUICE_JOB_THREADS, default 2 */
    int test_delay_ms;      /* SLUICE_TEST_JOB_DELAY_MS: sleep per chunk (tests only), 0 */
    pthread_t workers[SL_API_MAX_WORKERS];
    int started;
    /* Lock order: mu, then the store's mutex (a leaf); models_mu before mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* work queued or stop */
    bool wake;
    atomic_bool stop;
    sl_api_slot slots[SL_API_MAX_WORKERS];
    pthread_mutex_t models_mu; /* model writes: database row + DATA/models/NAME.json */
    /* metrics (registered on srv->metrics; NULL-safe) */
    sl_mfamily *m_jobs;      /* sluice_jobs_finished_total{status} */
    sl_mfamily *m_job_rows;  /* sluice_job_rows_total{result} */
    sl_mfamily *m_job_bytes; /* sluice_job_upload_bytes_total */
    sl_mfamily *m_job_secs;  /* sluice_job_duration_seconds (histogram) */
} sl_api;

enum {
    A_MODELS_LIST,
    A_MODEL_CREATE,
    A_MODEL_GET,
    A_MODEL_DELETE,
    A_JOBS_LIST,
    A_JOB_CREATE,
    A_JOB_GET,
    A_JOB_CANCEL
};

typedef struct sl_upload sl_upload;

struct sl_api_req {
    sl_server *srv;
    sl_api *api;
    int kind;
    char arg[80]; /* model name or job id from the URL */
    sl_buf body;  /* small JSON bodies */
    sl_upload *up;
    /* failure remembered during the body, answered at its end */
    unsigned fail_status;
    char code[40];
    char msg[640];
    char hint[320];
    uint64_t discarded;
};

enum MHD_Result sl__api_send(struct MHD_Connection *c, unsigned status, sl_buf *body,
                             const char *location);
enum MHD_Result sl__api_error(struct MHD_Connection *c, unsigned status, const char *code,
                              const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void sl__api_fail(sl_api_req *a, unsigned status, const char *code, const char *hint,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* ISO 8601 UTC with milliseconds, or "null" for 0 (quoted when a time). */
sl_err sl__api_put_time(sl_buf *b, int64_t us);
int64_t sl__api_now_us(void);

/* models.c */
enum MHD_Result sl__models_begin(sl_api_req *a, struct MHD_Connection *c, const char *method);
enum MHD_Result sl__models_end(sl_api_req *a, struct MHD_Connection *c);
/* 404 model_not_found with the list of models in the hint */
enum MHD_Result sl__model_not_found(sl_api *api, struct MHD_Connection *c, const char *name);

/* jobs.c */
enum MHD_Result sl__jobs_begin(sl_api_req *a, struct MHD_Connection *c, const char *method);
enum MHD_Result sl__jobs_body(sl_api_req *a, const char *data, size_t n);
enum MHD_Result sl__jobs_end(sl_api_req *a, struct MHD_Connection *c);
void sl__upload_free(sl_upload *up);
SL_NODISCARD sl_err sl__jobs_start(sl_api *api, char *msg, size_t msgn);
void sl__jobs_stop(sl_api *api);

#endif
