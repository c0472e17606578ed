/* client.h: what `sluice model` and `sluice job` share: the server URL and token (flags, then
 * SLUICE_URL / SLUICE_TOKEN), HTTP requests with libcurl, output (pretty colored JSON on a
 * terminal, compact JSON in a pipe, or tables), actionable error messages and exit codes.
 *
 * Exit codes (documented in docs/jobs.md; scripts rely on them):
 *   0 ok   1 job failed, partially failed or cancelled   2 usage   3 server unreachable
 *   4 authentication   5 not found   6 input rejected (bad file, schema, too big, wrong format)
 *   7 conflict (model in use, job already ended)   8 server error or unexpected answer
 */
#ifndef SL_CLI_CLIENT_H
#define SL_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/json_scan.h"

enum {
    SL_EXIT_OK = 0,
    SL_EXIT_JOB_FAILED = 1,
    SL_EXIT_USAGE = 2,
    SL_EXIT_UNREACHABLE = 3,
    SL_EXIT_AUTH = 4,
    SL_EXIT_NOT_FOUND = 5,
    SL_EXIT_REJECTED = 6,
    SL_EXIT_CONFLICT = 7,
    SL_EXIT_SERVER = 8,
};

enum { OUT_AUTO, OUT_JSON, OUT_TABLE };

typedef struct {
    char url[512];    /* no trailing '/' */
    char token[512];
    int output;       /* OUT_* */
    bool color;       /* stdout is a terminal (and NO_COLOR unset) */
    bool pretty;      /* indent JSON (stdout is a terminal) */
    bool progress;    /* stderr is a terminal and --no-progress not given */
    const char *prog; /* "sluice model" / "sluice job" for messages */
} sl_cli_ctx;

typedef struct {
    long status; /* HTTP status, 0 if no answer */
    sl_buf body;
    char curl_error[256];
} sl_cli_resp;

/* Defaults from the environment. */
void sl_cli_ctx_init(sl_cli_ctx *cx, const char *prog);
/* Consumes a common option at argv[*i] (--url U, --token T, --output json|table, -o,
 * --no-progress); returns 1 if consumed, 0 if not ours, -1 on a usage error (printed). */
int sl_cli_common_opt(sl_cli_ctx *cx, int argc, char **argv, int *i);
#define SL_CLI_COMMON_HELP                                                                     \
    "  --url URL          server (default $SLUICE_URL or http://127.0.0.1:8080)\n"             \
    "  --token TOKEN      bearer token (default $SLUICE_TOKEN)\n"                              \
    "  -o, --output FMT   json or table (default: pretty JSON on a terminal, compact JSON in a " \
    "pipe)\n"                                                                                  \
    "  --no-progress      no progress bar\n"

void sl_cli_resp_init(sl_cli_resp *r);
void sl_cli_resp_release(sl_cli_resp *r);

/* One request; body may be NULL. Returns SL_EXIT_OK when an HTTP answer came (any status),
 * SL_EXIT_UNREACHABLE otherwise (message printed). */
int sl_cli_request(const sl_cli_ctx *cx, const char *method, const char *path, const char *body,
                   size_t body_len, const char *content_type, sl_cli_resp *resp);
/* Streams a file as the body of a POST (never read whole); progress bar on stderr if enabled. */
int sl_cli_upload(const sl_cli_ctx *cx, const char *path, const char *file, uint64_t size,
                  const char *content_type, sl_cli_resp *resp);

/* For a non-2xx answer: prints the server's error (message, code, hint) to stderr and returns
 * the exit code for its status. `what` says what was asked (e.g. "model 'orders'"). */
int sl_cli_fail(const sl_cli_ctx *cx, const sl_cli_resp *resp, const char *what);

/* Prints a JSON document per cx (pretty/colored or compact), with a final newline. */
void sl_cli_print_json(const sl_cli_ctx *cx, const char *p, size_t n);

/* Parses a response body; false (message printed, exit SL_EXIT_SERVER) if it is not JSON. */
bool sl_cli_parse(const sl_cli_resp *resp, sl_jspan *root);
/* Helpers for tables. */
void sl_cli_str(sl_jspan obj, const char *key, char *out, size_t n); /* "" / "-" if absent */
int64_t sl_cli_int(sl_jspan obj, const char *key);                   /* 0 if absent */

/* "12.3 MB" */
void sl_cli_human_bytes(double b, char *out, size_t n);

#endif
