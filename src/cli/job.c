/* job.c: `sluice job create MODEL FILE [--wait] | list | show ID | cancel ID`.
 *
 * create streams the file to POST /v1/jobs?model=MODEL (never reads it whole; a progress bar
 * with bytes, MB/s and ETA on a terminal), then with --wait polls GET /v1/jobs/ID until the job
 * ends (rows processed on a terminal) and exits 0 (succeeded) or 1 (failed, partially failed,
 * cancelled). Before uploading it checks what it can locally: the file exists, is not empty and
 * looks like CSV, JSON Lines or Parquet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice job create MODEL FILE [--wait] [--format csv|jsonl|parquet] [options]\n"
            "       sluice job list [--model M] [--status S] [--limit N] [--cursor C] [options]\n"
            "       sluice job show ID [options]\n"
            "       sluice job cancel ID [options]\n\n"
            "create uploads FILE (CSV with a header, JSON Lines or Parquet; up to 1 GiB) as a job\n"
            "for MODEL; the server converts it to Parquet and puts rejected rows in the job's\n"
            "dead letters. --wait waits for the end and sets the exit code.\n\n"
            "options:\n" SL_CLI_COMMON_HELP
            "  --wait             (create) wait until the job ends\n"
            "  --timeout S        (create --wait) give up waiting after S seconds (exit 8)\n\n"
            "exit codes: 0 ok/succeeded, 1 job failed, partially failed or cancelled, 2 usage,\n"
            "3 server unreachable, 4 auth, 5 model or job not found, 6 file rejected (too big,\n"
            "wrong format, empty), 7 conflict (job already ended), 8 server error\n");
}

static bool terminal(const char *s)
{
    return strcmp(s, "queued") && strcmp(s, "running");
}

static int status_exit(const char *s)
{
    return !strcmp(s, "succeeded") ? SL_EXIT_OK : SL_EXIT_JOB_FAILED;
}

static void urlenc(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (; *s && o + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~", c))
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, n - o, "%%%02X", c);
    }
    out[o] = 0;
}

static const char *content_type_for(const char *file, const char *fmt)
{
    const char *dot = strrchr(file, '.');
    const char *ext = fmt ? fmt : dot ? dot + 1 : "";
    if (!strcasecmp(ext, "csv") || !strcasecmp(ext, "tsv"))
        return "text/csv";
    if (!strcasecmp(ext, "jsonl") || !strcasecmp(ext, "ndjson") || !strcasecmp(ext, "json"))
        return "application/x-ndjson";
    if (!strcasecmp(ext, "parquet") || !strcasecmp(ext, "pq"))
        return "application/vnd.apache.parquet";
    return "application/octet-stream";
}

/* A quick local look at the first bytes (the server checks again). */
static bool looks_ok(const char *file, char *why, size_t n)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true; /* reported by the upload */
    unsigned char h[512];
    ssize_t got = read(fd, h, sizeof(h));
    close(fd);
    if (got < 4)
        return true;
    if (!memcmp(h, "PAR1", 4) || (h[0] == 0x1f && h[1] == 0x8b) ||
        !memcmp(h, "\x28\xb5\x2f\xfd", 4))
        return true;
    for (ssize_t i = 0; i < got; i++)
        if (h[i] == 0 || (h[i] < 0x20 && !strchr("\t\r\n\f", h[i]))) {
            snprintf(why, n, "the file is binary (byte 0x%02x at offset %zd), not CSV, JSON Lines or Parquet",
                     h[i], i);
            return false;
        }
    return true;
}

static void print_job_table(sl_jspan j)
{
    char id[64], model[128], status[32], fmt[16], created[40], finished[40], dl[1024];
    sl_jspan rows, err, outs, o;
    sl_cli_str(j, "id", id, sizeof(id));
    sl_cli_str(j, "model", model, sizeof(model));
    sl_cli_str(j, "status", status, sizeof(status));
    sl_cli_str(j, "format", fmt, sizeof(fmt));
    sl_cli_str(j, "created_at", created, sizeof(created));
    sl_cli_str(j, "finished_at", finished, sizeof(finished));
    sl_cli_str(j, "dead_letters", dl, sizeof(dl));
    printf("id:            %s\nmodel:         %s (version %lld)\nstatus:        %s\n", id, model,
           (long long)sl_cli_int(j, "model_version"), status);
    char b[32];
    sl_cli_human_bytes((double)sl_cli_int(j, "bytes"), b, sizeof(b));
    printf("format:        %s, %s\n", fmt, b);
    if (sl_jscan_get(j, "rows", &rows))
        printf("rows:          %lld read, %lld accepted, %lld rejected\n",
               (long long)sl_cli_int(rows, "read"), (long long)sl_cli_int(rows, "accepted"),
               (long long)sl_cli_int(rows, "rejected"));
    printf("created:       %s\nfinished:      %s\n", created, finished);
    if (sl_jscan_get(j, "outputs", &outs)) {
        size_t it = 0;
        while (sl_jscan_next(outs, &it, NULL, &o)) {
            char loc[1100];
            sl_cli_str(o, "location", loc, sizeof(loc));
            printf("output:        %s\n", loc);
        }
    }
    if (strcmp(dl, "null"))
        printf("dead letters:  %s\n", dl);
    if (sl_jscan_get(j, "error", &err) && sl_jscan_type(err) == SL_JS_OBJECT) {
        char m[600], h[400];
        sl_cli_str(err, "message", m, sizeof(m));
        sl_cli_str(err, "hint", h, sizeof(h));
        printf("error:         %s\n", m);
        if (h[0] && strcmp(h, "null"))
            printf("hint:          %s\n", h);
    }
}

static int print_job(const sl_cli_ctx *cx, const sl_cli_resp *r, char *status, size_t sn)
{
    sl_jspan root;
    if (!sl_cli_parse(r, &root))
        return SL_EXIT_SERVER;
    if (status)
        sl_cli_str(root, "status", status, sn);
    if (cx->output == OUT_TABLE)
        print_job_table(root);
    else
        sl_cli_print_json(cx, (const char *)r->body.ptr, r->body.len);
    return SL_EXIT_OK;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static int wait_job(const sl_cli_ctx *cx, const char *id, double timeout)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/jobs/%s", id);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool drawn = false;
    double p0 = -1, t_p0 = 0; /* first progress seen while running, for the ETA */
    for (;;) {
        sl_cli_resp r;
        sl_cli_resp_init(&r);
        int rc = sl_cli_request(cx, "GET", path, NULL, 0, NULL, &r);
        if (!rc && r.status != 200)
            rc = sl_cli_fail(cx, &r, "the job");
        sl_jspan root, rows;
        char status[32] = "";
        if (!rc && !sl_cli_parse(&r, &root))
            rc = SL_EXIT_SERVER;
        if (rc) {
            if (drawn)
                fputc('\n', stderr);
            sl_cli_resp_release(&r);
            return rc;
        }
        sl_cli_str(root, "status", status, sizeof(status));
        if (terminal(status)) {
            if (drawn)
                fputc('\n', stderr);
            print_job(cx, &r, NULL, 0);
            sl_cli_resp_release(&r);
            return status_exit(status);
        }
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if (cx->progress && sl_jscan_get(root, "rows", &rows)) {
            long long rd = (long long)sl_cli_int(rows, "read");
            long long rj = (long long)sl_cli_int(rows, "rejected");
            sl_jspan pv;
            double prog = -1;
            if (!strcmp(status, "running") && sl_jscan_get(root, "progress", &pv))
                (void)sl_jscan_f64(pv, &prog);
            char pct[64] = "", eta[32] = "";
            if (prog >= 0) {
                snprintf(pct, sizeof(pct), "%3.0f%% ", prog * 100);
                if (p0 < 0) {
                    p0 = prog;
                    t_p0 = el;
                } else if (prog > p0 && el > t_p0) {
                    double left = (1 - prog) * (el - t_p0) / (prog - p0);
                    snprintf(eta, sizeof(eta), ", ETA %ld:%02ld", (long)left / 60,
                             (long)left % 60);
                }
            }
            fprintf(stderr, "\r  %s: %s%lld rows processed (%lld rejected), %.0f s%s   ", status,
                    pct, rd, rj, el, eta);
            drawn = true;
        }
        sl_cli_resp_release(&r);
        if (timeout > 0 && el > timeout) {
            if (drawn)
                fputc('\n', stderr);
            fprintf(stderr,
                    "sluice job: error: job %s still %s after %.0f s\n"
                    "  hint: it keeps running; check it with 'sluice job show %s'\n",
                    id, status, timeout, id);
            return SL_EXIT_SERVER;
        }
        sleep_s(0.25);
    }
}

static int create(sl_cli_ctx *cx, const char *model, const char *file, const char *fmt,
                  bool wait, double timeout)
{
    struct stat sb;
    if (stat(file, &sb) || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "sluice job: error: cannot read %s: %s\n", file,
                errno && !S_ISREG(sb.st_mode) ? strerror(errno) : "not a regular file");
        return SL_EXIT_USAGE;
    }
    if (sb.st_size == 0) {
        fprintf(stderr, "sluice job: error: %s is empty\n  hint: upload a file with rows\n", file);
        return SL_EXIT_REJECTED;
    }
    char why[200];
    if (!looks_ok(file, why, sizeof(why))) {
        fprintf(stderr,
                "sluice job: error: %s: %s (wrong_format)\n"
                "  hint: upload CSV (with a header row), JSON Lines or Parquet\n",
                file, why);
        return SL_EXIT_REJECTED;
    }
    char path[512], enc[256];
    urlenc(model, enc, sizeof(enc));
    snprintf(path, sizeof(path), "/v1/jobs?model=%s", enc);
    sl_cli_resp r;
    sl_cli_resp_init(&r);
    int rc = sl_cli_upload(cx, path, file, (uint64_t)sb.st_size, content_type_for(file, fmt), &r);
    if (!rc && r.status != 202) {
        char what[300];
        snprintf(what, sizeof(what), "job for model '%s'", model);
        rc = sl_cli_fail(cx, &r, what);
    }
    if (rc) {
        sl_cli_resp_release(&r);
        return rc;
    }
    sl_jspan root;
    char id[64] = "";
    if (!sl_cli_parse(&r, &root)) {
        sl_cli_resp_release(&r);
        return SL_EXIT_SERVER;
    }
    sl_cli_str(root, "id", id, sizeof(id));
    if (!wait) {
        rc = print_job(cx, &r, NULL, 0);
        sl_cli_resp_release(&r);
        return rc;
    }
    sl_cli_resp_release(&r);
    if (cx->progress)
        fprintf(stderr, "  job %s accepted; waiting for it to finish\n", id);
    return wait_job(cx, id, timeout);
}

static int list(const sl_cli_ctx *cx, const char *model, const char *status, const char *limit,
                const char *cursor)
{
    char path[512], a[128], b[64], c[32], d[32];
    urlenc(model ? model : "", a, sizeof(a));
    urlenc(status ? status : "", b, sizeof(b));
    urlenc(limit ? limit : "", c, sizeof(c));
    urlenc(cursor ? cursor : "", d, sizeof(d));
    snprintf(path, sizeof(path), "/v1/jobs?model=%s&status=%s&limit=%s&cursor=%s", a, b,
             limit ? c : "50", d);
    sl_cli_resp r;
    sl_cli_resp_init(&r);
    int rc = sl_cli_request(cx, "GET", path, NULL, 0, NULL, &r);
    if (!rc && r.status != 200)
        rc = sl_cli_fail(cx, &r, "the jobs");
    sl_jspan root, jobs, j;
    if (!rc && !sl_cli_parse(&r, &root))
        rc = SL_EXIT_SERVER;
    if (!rc && cx->output != OUT_TABLE)
        sl_cli_print_json(cx, (const char *)r.body.ptr, r.body.len);
    else if (!rc && sl_jscan_get(root, "jobs", &jobs)) {
        printf("%-21s %-20s %-4s %-17s %12s %12s %10s %9s  %s\n", "ID", "MODEL", "VER", "STATUS",
               "READ", "ACCEPTED", "REJECTED", "SIZE", "CREATED");
        size_t it = 0;
        while (sl_jscan_next(jobs, &it, NULL, &j)) {
            char id[64], m[128], st[32], cr[40], sz[32];
            sl_jspan rows = {NULL, 0};
            sl_cli_str(j, "id", id, sizeof(id));
            sl_cli_str(j, "model", m, sizeof(m));
            sl_cli_str(j, "status", st, sizeof(st));
            sl_cli_str(j, "created_at", cr, sizeof(cr));
            sl_cli_human_bytes((double)sl_cli_int(j, "bytes"), sz, sizeof(sz));
            (void)sl_jscan_get(j, "rows", &rows);
            printf("%-21s %-20s %-4lld %-17s %12lld %12lld %10lld %9s  %s\n", id, m,
                   (long long)sl_cli_int(j, "model_version"), st,
                   (long long)sl_cli_int(rows, "read"), (long long)sl_cli_int(rows, "accepted"),
                   (long long)sl_cli_int(rows, "rejected"), sz, cr);
        }
        char next[32];
        sl_cli_str(root, "next_cursor", next, sizeof(next));
        if (next[0] && strcmp(next, "null"))
            printf("(more: --cursor %s)\n", next);
    }
    sl_cli_resp_release(&r);
    return rc;
}

int sl_cli_job(int argc, char **argv)
{
    sl_cli_ctx cx;
    sl_cli_ctx_init(&cx, "sluice job");
    const char *pos[3] = {NULL, NULL, NULL};
    size_t npos = 0;
    const char *model = NULL, *status = NULL, *limit = NULL, *cursor = NULL, *fmt = NULL;
    bool wait = false;
    double timeout = 0;
    for (int i = 1; i < argc; i++) {
        int k = sl_cli_common_opt(&cx, argc, argv, &i);
        if (k < 0)
            return SL_EXIT_USAGE;
        if (k)
            continue;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return SL_EXIT_OK;
        }
        if (!strcmp(a, "--wait")) {
            wait = true;
            continue;
        }
        const char **val = !strcmp(a, "--model")    ? &model
                           : !strcmp(a, "--status") ? &status
                           : !strcmp(a, "--limit")  ? &limit
                           : !strcmp(a, "--cursor") ? &cursor
                           : !strcmp(a, "--format") ? &fmt
                                                    : NULL;
        if (val || !strcmp(a, "--timeout")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice job: %s needs a value\n", a);
                return SL_EXIT_USAGE;
            }
            if (val)
                *val = argv[++i];
            else
                timeout = atof(argv[++i]);
            continue;
        }
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "sluice job: unknown option %s\n", a);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
        if (npos == 3) {
            fprintf(stderr, "sluice job: too many arguments\n");
            return SL_EXIT_USAGE;
        }
        pos[npos++] = a;
    }
    if (!npos) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *cmd = pos[0];
    if (fmt && strcmp(fmt, "csv") && strcmp(fmt, "jsonl") && strcmp(fmt, "parquet")) {
        fprintf(stderr, "sluice job: --format is csv, jsonl or parquet\n");
        return SL_EXIT_USAGE;
    }
    if (!strcmp(cmd, "create")) {
        if (npos != 3) {
            fprintf(stderr, "usage: sluice job create MODEL FILE [--wait]\n");
            return SL_EXIT_USAGE;
        }
        return create(&cx, pos[1], pos[2], fmt, wait, timeout);
    }
    if (!strcmp(cmd, "list")) {
        if (npos != 1) {
            fprintf(stderr, "usage: sluice job list [--model M] [--status S]\n");
            return SL_EXIT_USAGE;
        }
        return list(&cx, model, status, limit, cursor);
    }
    if (!strcmp(cmd, "show") || !strcmp(cmd, "cancel")) {
        if (npos != 2) {
            fprintf(stderr, "usage: sluice job %s ID\n", cmd);
            return SL_EXIT_USAGE;
        }
        char path[256], id[128];
        urlenc(pos[1], id, sizeof(id));
        snprintf(path, sizeof(path), "/v1/jobs/%s", id);
        bool cancel = !strcmp(cmd, "cancel");
        sl_cli_resp r;
        sl_cli_resp_init(&r);
        int rc = sl_cli_request(&cx, cancel ? "DELETE" : "GET", path, NULL, 0, NULL, &r);
        char what[200];
        snprintf(what, sizeof(what), "job '%s'", pos[1]);
        if (!rc && r.status / 100 != 2)
            rc = sl_cli_fail(&cx, &r, what);
        else if (!rc)
            rc = print_job(&cx, &r, NULL, 0);
        sl_cli_resp_release(&r);
        return rc;
    }
    fprintf(stderr, "sluice job: unknown command '%s'\n", cmd);
    usage(stderr);
    return SL_EXIT_USAGE;
}
