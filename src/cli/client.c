/* client.c: HTTP client and output helpers for `sluice model` and `sluice job` (client.h). */
#define _GNU_SOURCE
#include "cli/client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define C_RESET "\033[0m"
#define C_KEY "\033[1;34m"
#define C_STR "\033[32m"
#define C_NUM "\033[36m"
#define C_LIT "\033[35m"
#define C_ERR "\033[1;31m"

void sl_cli_ctx_init(sl_cli_ctx *cx, const char *prog)
{
    memset(cx, 0, sizeof(*cx));
    cx->prog = prog;
    const char *u = getenv("SLUICE_URL");
    snprintf(cx->url, sizeof(cx->url), "%s", u && *u ? u : "http://127.0.0.1:8080");
    const char *t = getenv("SLUICE_TOKEN");
    snprintf(cx->token, sizeof(cx->token), "%s", t ? t : "");
    bool tty = isatty(STDOUT_FILENO);
    cx->pretty = tty;
    cx->color = tty && !getenv("NO_COLOR");
    cx->progress = isatty(STDERR_FILENO);
    cx->output = OUT_AUTO;
}

static void trim_url(sl_cli_ctx *cx)
{
    size_t n = strlen(cx->url);
    while (n && cx->url[n - 1] == '/')
        cx->url[--n] = 0;
}

int sl_cli_common_opt(sl_cli_ctx *cx, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *val = NULL;
    int which = 0;
    if (!strcmp(a, "--url"))
        which = 1;
    else if (!strcmp(a, "--token"))
        which = 2;
    else if (!strcmp(a, "--output") || !strcmp(a, "-o"))
        which = 3;
    else if (!strncmp(a, "--url=", 6))
        which = 1, val = a + 6;
    else if (!strncmp(a, "--token=", 8))
        which = 2, val = a + 8;
    else if (!strncmp(a, "--output=", 9))
        which = 3, val = a + 9;
    else if (!strcmp(a, "--no-progress")) {
        cx->progress = false;
        return 1;
    } else
        return 0;
    if (!val) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs a value\n", cx->prog, a);
            return -1;
        }
        val = argv[++*i];
    }
    if (which == 1) {
        snprintf(cx->url, sizeof(cx->url), "%s", val);
        trim_url(cx);
    } else if (which == 2) {
        snprintf(cx->token, sizeof(cx->token), "%s", val);
    } else if (!strcmp(val, "json")) {
        cx->output = OUT_JSON;
    } else if (!strcmp(val, "table")) {
        cx->output = OUT_TABLE;
    } else {
        fprintf(stderr, "%s: --output is json or table, not '%s'\n", cx->prog, val);
        return -1;
    }
    return 1;
}

void sl_cli_resp_init(sl_cli_resp *r)
{
    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->body, (size_t)64 << 20);
}

void sl_cli_resp_release(sl_cli_resp *r)
{
    sl_buf_release(&r->body);
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    sl_buf *b = ud;
    return sl_buf_append(b, p, sz * nm) ? 0 : sz * nm;
}

static bool curl_ready;

static CURL *start(const sl_cli_ctx *cx, const char *method, const char *path,
                   struct curl_slist **hdrs, const char *content_type, sl_cli_resp *resp)
{
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    char url[1200];
    snprintf(url, sizeof(url), "%s%s", cx->url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->curl_error);
    char v[600];
    *hdrs = curl_slist_append(*hdrs, "Accept: application/json");
    if (cx->token[0]) {
        snprintf(v, sizeof(v), "Authorization: Bearer %s", cx->token);
        *hdrs = curl_slist_append(*hdrs, v);
    }
    if (content_type) {
        snprintf(v, sizeof(v), "Content-Type: %s", content_type);
        *hdrs = curl_slist_append(*hdrs, v);
    }
    return h;
}

static int finish(const sl_cli_ctx *cx, CURL *h, struct curl_slist *hdrs, sl_cli_resp *resp)
{
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    if (cc != CURLE_OK && status == 0) {
        fprintf(stderr,
                "%s: error: cannot reach the sluice server at %s: %s\n"
                "  hint: start it with 'sluice serve', or point --url / SLUICE_URL at it\n",
                cx->prog, cx->url, resp->curl_error[0] ? resp->curl_error : curl_easy_strerror(cc));
        return SL_EXIT_UNREACHABLE;
    }
    resp->status = status;
    return SL_EXIT_OK;
}

int sl_cli_request(const sl_cli_ctx *cx, const char *method, const char *path, const char *body,
                   size_t body_len, const char *content_type, sl_cli_resp *resp)
{
    struct curl_slist *hdrs = NULL;
    CURL *h = start(cx, method, path, &hdrs, content_type, resp);
    if (!h)
        return SL_EXIT_SERVER;
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    return finish(cx, h, hdrs, resp);
}

void sl_cli_human_bytes(double b, char *out, size_t n)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) {
        b /= 1000;
        i++;
    }
    snprintf(out, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

typedef struct {
    const sl_cli_ctx *cx;
    const char *name;
    double t0, last;
    bool drawn;
} upload_bar;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    upload_bar *ub = ud;
    double now = mono();
    if (now - ub->last < 0.1 && ulnow != ultotal)
        return 0;
    if (ultotal <= 0)
        return 0;
    ub->last = now;
    double frac = (double)ulnow / (double)ultotal;
    double secs = now - ub->t0;
    double rate = secs > 0 ? (double)ulnow / secs : 0;
    char done[32], total[32];
    sl_cli_human_bytes((double)ulnow, done, sizeof(done));
    sl_cli_human_bytes((double)ultotal, total, sizeof(total));
    char bar[31];
    int w = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < w ? '#' : ' ';
    bar[30] = 0;
    char eta[32] = "--";
    if (rate > 0 && ulnow < ultotal) {
        long left = (long)((double)(ultotal - ulnow) / rate);
        snprintf(eta, sizeof(eta), "%ld:%02ld", left / 60, left % 60);
    } else if (ulnow >= ultotal) {
        snprintf(eta, sizeof(eta), "0:00");
    }
    fprintf(stderr, "\r  uploading %3.0f%% [%s] %s / %s  %.1f MB/s  ETA %s   ", frac * 100, bar,
            done, total, rate / 1e6, eta);
    ub->drawn = true;
    return 0;
}

int sl_cli_upload(const sl_cli_ctx *cx, const char *path, const char *file, uint64_t size,
                  const char *content_type, sl_cli_resp *resp)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "%s: error: cannot open %s: %m\n", cx->prog, file);
        return SL_EXIT_USAGE;
    }
    struct curl_slist *hdrs = NULL;
    CURL *h = start(cx, "POST", path, &hdrs, content_type, resp);
    if (!h) {
        fclose(f);
        return SL_EXIT_SERVER;
    }
    /* the server checks model, size and type before the body: wait for its go-ahead */
    hdrs = curl_slist_append(hdrs, "Expect: 100-continue");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, fread);
    curl_easy_setopt(h, CURLOPT_READDATA, f);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 10000L);
    upload_bar ub = {cx, file, mono(), 0, false};
    if (cx->progress) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xfer);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ub);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    int rc = finish(cx, h, hdrs, resp);
    if (ub.drawn)
        fputc('\n', stderr);
    fclose(f);
    return rc;
}

bool sl_cli_parse(const sl_cli_resp *resp, sl_jspan *root)
{
    size_t pos;
    const char *why;
    if (!sl_jscan_valid((const char *)resp->body.ptr, resp->body.len, root, &pos, &why)) {
        fprintf(stderr, "sluice: error: the server's answer (HTTP %ld) is not JSON: %s at byte %zu\n",
                resp->status, why, pos);
        return false;
    }
    return true;
}

void sl_cli_str(sl_jspan obj, const char *key, char *out, size_t n)
{
    sl_jspan v;
    out[0] = 0;
    if (!sl_jscan_get(obj, key, &v))
        return;
    if (sl_jscan_type(v) == SL_JS_STRING) {
        if (!sl_jscan_str(v, out, n))
            out[0] = 0;
    } else {
        snprintf(out, n, "%.*s", (int)v.n, v.p);
    }
}

int64_t sl_cli_int(sl_jspan obj, const char *key)
{
    sl_jspan v;
    int64_t x = 0;
    if (sl_jscan_get(obj, key, &v) && sl_jscan_i64(v, &x))
        return x;
    return 0;
}

int sl_cli_fail(const sl_cli_ctx *cx, const sl_cli_resp *resp, const char *what)
{
    char code[64] = "", msg[1024] = "", hint[1024] = "";
    sl_jspan root, e;
    size_t pos;
    const char *why;
    if (resp->body.len &&
        sl_jscan_valid((const char *)resp->body.ptr, resp->body.len, &root, &pos, &why) &&
        sl_jscan_get(root, "error", &e)) {
        sl_cli_str(e, "code", code, sizeof(code));
        sl_cli_str(e, "message", msg, sizeof(msg));
        sl_cli_str(e, "hint", hint, sizeof(hint));
    } else {
        snprintf(msg, sizeof(msg), "HTTP %ld from the server for %s", resp->status, what);
    }
    long s = resp->status;
    if (s == 401 || s == 403) {
        if (!cx->token[0])
            snprintf(hint, sizeof(hint),
                     "the server requires a token: set SLUICE_TOKEN or pass --token");
        else
            snprintf(hint, sizeof(hint),
                     "the token was refused: use one of the server's SLUICE_AUTH_TOKENS");
    }
    bool color = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
    fprintf(stderr, "%s: %serror:%s %s%s%s%s\n", cx->prog, color ? C_ERR : "",
            color ? C_RESET : "", msg, code[0] ? " (" : "", code, code[0] ? ")" : "");
    if (hint[0])
        fprintf(stderr, "  hint: %s\n", hint);
    if (s == 401 || s == 403)
        return SL_EXIT_AUTH;
    if (s == 404)
        return SL_EXIT_NOT_FOUND;
    if (s == 409)
        return SL_EXIT_CONFLICT;
    if (s == 400 || s == 411 || s == 413 || s == 415 || s == 422)
        return SL_EXIT_REJECTED;
    return SL_EXIT_SERVER;
}

/* ---- JSON output -------------------------------------------------------------------------- */

static void indent(FILE *f, int d)
{
    fputc('\n', f);
    for (int i = 0; i < d; i++)
        fputs("  ", f);
}

/* Re-indents valid JSON; a key is a string directly after '{' or ',' inside an object. */
static void pretty(const sl_cli_ctx *cx, FILE *f, const char *p, size_t n)
{
    char stack[SL_JSCAN_MAX_DEPTH + 2];
    int d = 0;
    bool expect_key = false;
    for (size_t i = 0; i < n;) {
        char c = p[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (c == '{' || c == '[') {
            char close = c == '{' ? '}' : ']';
            size_t j = i + 1;
            while (j < n && strchr(" \n\t\r", p[j]))
                j++;
            if (j < n && p[j] == close) { /* empty */
                fputc(c, f);
                fputc(close, f);
                i = j + 1;
                expect_key = false;
                continue;
            }
            fputc(c, f);
            if (d < SL_JSCAN_MAX_DEPTH + 1)
                stack[d] = c;
            d++;
            indent(f, d);
            expect_key = c == '{';
            i++;
            continue;
        }
        if (c == '}' || c == ']') {
            d = d > 0 ? d - 1 : 0;
            indent(f, d);
            fputc(c, f);
            expect_key = false;
            i++;
            continue;
        }
        if (c == ',') {
            fputc(',', f);
            indent(f, d);
            expect_key = d > 0 && d <= SL_JSCAN_MAX_DEPTH + 1 && stack[d - 1] == '{';
            i++;
            continue;
        }
        if (c == ':') {
            fputs(": ", f);
            i++;
            continue;
        }
        size_t j = i;
        if (c == '"') {
            j++;
            while (j < n && p[j] != '"')
                j += p[j] == '\\' ? 2 : 1;
            j = j < n ? j + 1 : n;
        } else {
            while (j < n && !strchr(",:]} \n\t\r", p[j]))
                j++;
        }
        const char *col = !cx->color  ? NULL
                          : c == '"'  ? (expect_key ? C_KEY : C_STR)
                          : (c == 't' || c == 'f' || c == 'n') ? C_LIT
                                                               : C_NUM;
        if (col)
            fputs(col, f);
        fwrite(p + i, 1, j - i, f);
        if (col)
            fputs(C_RESET, f);
        expect_key = false;
        i = j;
    }
    fputc('\n', f);
}

void sl_cli_print_json(const sl_cli_ctx *cx, const char *p, size_t n)
{
    while (n && (p[n - 1] == '\n' || p[n - 1] == ' '))
        n--;
    if (cx->pretty && sl_jscan_valid(p, n, NULL, NULL, NULL)) {
        pretty(cx, stdout, p, n);
    } else {
        fwrite(p, 1, n, stdout);
        fputc('\n', stdout);
    }
    fflush(stdout);
}
