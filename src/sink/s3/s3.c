/* s3.c: S3 client (see s3.h).
 *
 * One request = one curl easy handle owned by the calling thread (multipart workers own one
 * each). A request is signed again for every attempt (X-Amz-Date moves on). Bodies come from
 * memory or from a file range read with pread(), so any number of threads may stream parts of
 * the same file descriptor.
 *
 * Payload hash: over plain HTTP the body's SHA-256 is signed (the server checks it); over TLS
 * "UNSIGNED-PAYLOAD" saves a hash pass, and Content-MD5 still lets the server verify the bytes.
 *
 * Multipart: CreateMultipartUpload, then `concurrency` worker threads take part numbers from a
 * shared counter (mutex `mu`, the only lock) and upload them with their own retries; the first
 * failure stops the others; CompleteMultipartUpload lists the ETags in order (S3 may answer 200
 * with an <Error> document, which counts as a failure); any failure after the upload was created
 * ends in AbortMultipartUpload.
 */
#define _GNU_SOURCE
#include "sink/s3/s3.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "sink/s3/s3_xml.h"
#include "sink/s3/sigv4.h"
#include "util/buf.h"
#include "util/fsutil.h"

struct sl_s3 {
    sl_s3_config c;
    char scheme[8];    /* "http" or "https" */
    char hostport[300]; /* endpoint host[:port] */
    bool tls;
    _Atomic uint64_t requests, retries;
    _Atomic uint64_t seed;
};

/* ---- configuration ------------------------------------------------------------------------ */

void sl_s3_config_default(sl_s3_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->region, sizeof(c->region), "us-east-1");
    c->part_size = (uint64_t)16 << 20;
    c->multipart_threshold = 0; /* 0: same as part_size */
    c->concurrency = 4;
    c->connect_timeout = 5;
    c->stall_timeout = 10;
    c->retry_seconds = 20;
    c->max_attempts = 8;
    snprintf(c->layout, sizeof(c->layout), "%s", SL_LAYOUT_S3);
}

const char *const sl_s3_config_names[] = {
    "S3_ENDPOINT", "S3_BUCKET", "S3_REGION", "AWS_REGION", "S3_PREFIX", "S3_PATH_STYLE",
    "S3_FORCE_PATH_STYLE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "SLUICE_S3_PART_SIZE", "SLUICE_S3_MULTIPART_THRESHOLD", "SLUICE_S3_CONCURRENCY",
    "SLUICE_S3_RETRY_SECONDS", "SLUICE_S3_MANIFEST", "SLUICE_KEY_LAYOUT", NULL};

static bool parse_size(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || v[0] == '-')
        return false;
    uint64_t mul = 1;
    switch (*end | 32) {
    case 'k': mul = 1024; end++; break;
    case 'm': mul = 1024 * 1024; end++; break;
    case 'g': mul = (uint64_t)1 << 30; end++; break;
    default: break;
    }
    if (mul > 1 && (*end | 32) == 'i')
        end++;
    if (mul > 1 && (*end | 32) == 'b')
        end++;
    if (*end || n > UINT64_MAX / mul)
        return false;
    *out = n * mul;
    return true;
}

static bool set_str(char *dst, size_t n, const char *v, char *err, size_t errn)
{
    if (strlen(v) >= n) {
        snprintf(err, errn, "too long (at most %zu bytes)", n - 1);
        return false;
    }
    snprintf(dst, n, "%s", v);
    return true;
}

sl_err sl_s3_config_set(sl_s3_config *c, const char *name, const char *v, char *err, size_t errn)
{
    bool ok = true;
    uint64_t u;
    if (!strcmp(name, "S3_ENDPOINT")) {
        ok = set_str(c->endpoint, sizeof(c->endpoint), v, err, errn);
    } else if (!strcmp(name, "S3_BUCKET")) {
        ok = set_str(c->bucket, sizeof(c->bucket), v, err, errn);
    } else if (!strcmp(name, "S3_REGION") || !strcmp(name, "AWS_REGION")) {
        ok = set_str(c->region, sizeof(c->region), *v ? v : "us-east-1", err, errn);
    } else if (!strcmp(name, "S3_PREFIX")) {
        while (*v == '/')
            v++;
        ok = set_str(c->prefix, sizeof(c->prefix), v, err, errn);
        size_t l = strlen(c->prefix);
        while (l && c->prefix[l - 1] == '/')
            c->prefix[--l] = '\0';
        if (ok && strpbrk(c->prefix, "{}")) {
            snprintf(err, errn, "must not contain '{' or '}'");
            ok = false;
        }
    } else if (!strcmp(name, "S3_PATH_STYLE") || !strcmp(name, "S3_FORCE_PATH_STYLE") ||
               !strcmp(name, "SLUICE_S3_MANIFEST")) {
        bool b;
        if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
            !strcasecmp(v, "on"))
            b = true;
        else if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
                 !strcasecmp(v, "off"))
            b = false;
        else {
            snprintf(err, errn, "expected true or false");
            return SL_INVALID;
        }
        if (!strcmp(name, "SLUICE_S3_MANIFEST"))
            c->manifest = b;
        else
            c->path_style = b;
    } else if (!strcmp(name, "AWS_ACCESS_KEY_ID")) {
        ok = set_str(c->access_key, sizeof(c->access_key), v, err, errn);
    } else if (!strcmp(name, "AWS_SECRET_ACCESS_KEY")) {
        ok = set_str(c->secret_key, sizeof(c->secret_key), v, err, errn);
    } else if (!strcmp(name, "AWS_SESSION_TOKEN")) {
        ok = set_str(c->session_token, sizeof(c->session_token), v, err, errn);
    } else if (!strcmp(name, "SLUICE_S3_PART_SIZE") ||
               !strcmp(name, "SLUICE_S3_MULTIPART_THRESHOLD")) {
        if (!parse_size(v, &u)) {
            snprintf(err, errn, "expected a size, e.g. 16M");
            return SL_INVALID;
        }
        if (!strcmp(name, "SLUICE_S3_PART_SIZE")) {
            if (u < SL_S3_MIN_PART || u > ((uint64_t)5 << 30)) {
                snprintf(err, errn, "must be between 5M and 5G (S3's part size limits)");
                return SL_INVALID;
            }
            c->part_size = u;
        } else {
            c->multipart_threshold = u;
        }
    } else if (!strcmp(name, "SLUICE_S3_CONCURRENCY")) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (*end || end == v || n < 1 || n > 64) {
            snprintf(err, errn, "expected 1..64");
            return SL_INVALID;
        }
        c->concurrency = (unsigned)n;
    } else if (!strcmp(name, "SLUICE_S3_RETRY_SECONDS")) {
        char *end;
        double d = strtod(v, &end);
        if (*end || end == v || !(d >= 0) || d > 3600) {
            snprintf(err, errn, "expected seconds 0..3600");
            return SL_INVALID;
        }
        c->retry_seconds = d;
    } else if (!strcmp(name, "SLUICE_KEY_LAYOUT")) {
        sl_sink_error e = {0};
        if (strlen(v) >= sizeof(c->layout) || sl_sink_layout_check(v, &e)) {
            snprintf(err, errn, "%s", e.message[0] ? e.message : "too long");
            return SL_INVALID;
        }
        snprintf(c->layout, sizeof(c->layout), "%s", v);
    } else {
        return SL_UNSUPPORTED;
    }
    return ok ? SL_OK : SL_INVALID;
}

static void set_error(sl_sink_error *e, bool retryable, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_error(sl_sink_error *e, bool retryable, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    snprintf(e->hint, sizeof(e->hint), "%s", hint ? hint : "");
    e->retryable = retryable;
}

sl_err sl_s3_config_check(const sl_s3_config *c, sl_sink_error *e)
{
    if (!c->bucket[0]) {
        set_error(e, false, "set S3_BUCKET (or --s3-bucket) to the bucket's name",
                  "no S3 bucket configured");
        return SL_INVALID;
    }
    if (strchr(c->bucket, '/') || strlen(c->bucket) < 3 || strlen(c->bucket) > 63) {
        set_error(e, false, "S3_BUCKET takes the bucket name only; put folders in S3_PREFIX",
                  "S3 bucket name \"%.100s\" is not valid (3-63 characters, no '/')", c->bucket);
        return SL_INVALID;
    }
    if (c->endpoint[0] && strncmp(c->endpoint, "http://", 7) && strncmp(c->endpoint, "https://", 8)) {
        set_error(e, false, "for example S3_ENDPOINT=http://127.0.0.1:9000 (MinIO)",
                  "S3_ENDPOINT \"%.200s\" must start with http:// or https://", c->endpoint);
        return SL_INVALID;
    }
    if (!c->access_key[0] || !c->secret_key[0]) {
        set_error(e, false, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                  "S3 credentials missing");
        return SL_INVALID;
    }
    if (c->part_size < SL_S3_MIN_PART) {
        set_error(e, false, "SLUICE_S3_PART_SIZE must be at least 5M",
                  "S3 part size %" PRIu64 " is below S3's minimum of 5 MiB", c->part_size);
        return SL_INVALID;
    }
    if (sl_sink_layout_check(c->layout, e))
        return SL_INVALID;
    return SL_OK;
}

/* ---- client ------------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

sl_err sl_s3_create(const sl_s3_config *c, sl_s3 **out, sl_sink_error *e)
{
    sl_err err = sl_s3_config_check(c, e);
    if (err)
        return err;
    sl_s3 *s = calloc(1, sizeof(*s));
    if (!s)
        return SL_NOMEM;
    s->c = *c;
    if (!s->c.multipart_threshold)
        s->c.multipart_threshold = s->c.part_size;
    if (!s->c.max_attempts)
        s->c.max_attempts = 1;
    const char *ep = c->endpoint;
    char def[128];
    if (!ep[0]) {
        snprintf(def, sizeof(def), "https://s3.%s.amazonaws.com", c->region);
        ep = def;
    }
    s->tls = !strncmp(ep, "https://", 8);
    snprintf(s->scheme, sizeof(s->scheme), "%s", s->tls ? "https" : "http");
    const char *h = strstr(ep, "://") + 3;
    size_t hl = strcspn(h, "/?#");
    if (hl == 0 || hl >= sizeof(s->hostport)) {
        set_error(e, false, "for example S3_ENDPOINT=http://127.0.0.1:9000",
                  "S3_ENDPOINT \"%.200s\" has no host", c->endpoint);
        free(s);
        return SL_INVALID;
    }
    memcpy(s->hostport, h, hl);
    s->hostport[hl] = '\0';
    atomic_store(&s->seed, (uint64_t)time(NULL) * 6364136223846793005u + (uint64_t)getpid());
    pthread_once(&curl_once, curl_init_once);
    *out = s;
    return SL_OK;
}

void sl_s3_destroy(sl_s3 *s)
{
    if (!s)
        return;
    memset(s->c.secret_key, 0, sizeof(s->c.secret_key));
    free(s);
}

void sl_s3_counts(const sl_s3 *s, uint64_t *requests, uint64_t *retries)
{
    *requests = atomic_load(&((sl_s3 *)s)->requests);
    *retries = atomic_load(&((sl_s3 *)s)->retries);
}

/* uniform in [0, 1) */
static double rnd(sl_s3 *s)
{
    uint64_t x = atomic_fetch_add(&s->seed, 0x9e3779b97f4a7c15u) + 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    return (double)(x >> 11) / 9007199254740992.0;
}

static void sleep_s(double d)
{
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* ---- one request --------------------------------------------------------------------------- */

typedef struct {
    const char *method;
    const char *key;            /* NULL: the bucket itself */
    const sl_sigv4_kv *query;
    size_t nq;
    const void *mem;            /* body from memory, or */
    size_t mem_len;
    int fd;                     /* body from fd (>= 0) at off, len bytes */
    uint64_t off, len;
    char payload_hash[65];      /* "" = computed from mem / UNSIGNED over TLS */
    char content_md5[32];       /* base64, or "" */
    const char *content_type;
} s3_req;

typedef struct {
    long status;
    sl_buf body;   /* answer body (capped) */
    char etag[128];
    CURLcode cc;
    char curl_err[CURL_ERROR_SIZE];
    char code[64]; /* S3 error code from the body, or "" */
    char msg[256];
} s3_resp;

typedef struct {
    const s3_req *r;
    uint64_t pos;
} body_src;

static size_t read_cb(char *dst, size_t size, size_t nitems, void *ud)
{
    body_src *b = ud;
    const s3_req *r = b->r;
    size_t want = size * nitems;
    if (r->fd >= 0) {
        uint64_t left = r->len - b->pos;
        if (want > left)
            want = (size_t)left;
        if (!want)
            return 0;
        ssize_t got = pread(r->fd, dst, want, (off_t)(r->off + b->pos));
        if (got <= 0)
            return CURL_READFUNC_ABORT;
        b->pos += (uint64_t)got;
        return (size_t)got;
    }
    size_t left = r->mem_len - (size_t)b->pos;
    if (want > left)
        want = left;
    memcpy(dst, (const char *)r->mem + b->pos, want);
    b->pos += want;
    return want;
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    s3_resp *rs = ud;
    size_t len = size * n;
    if (rs->body.len + len <= rs->body.cap) { /* beyond the cap: dropped, not an error */
        if (sl_buf_append(&rs->body, p, len))
            return 0;
    }
    return len;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
    s3_resp *rs = ud;
    size_t len = size * n;
    if (len > 5 && !strncasecmp(p, "etag:", 5)) {
        const char *v = p + 5;
        size_t vl = len - 5;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof(rs->etag)) {
            memcpy(rs->etag, v, vl);
            rs->etag[vl] = '\0';
        }
    }
    return len;
}

static int seek_cb(void *ud, curl_off_t offset, int origin)
{
    body_src *b = ud;
    if (origin != SEEK_SET || offset < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    b->pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* The path of r on the wire and in the signature, raw: "/bucket/key" or "/key". */
static sl_err raw_path(const sl_s3 *s, const s3_req *r, sl_buf *out)
{
    sl_err err = SL_OK;
    if (s->c.path_style)
        err = sl_buf_printf(out, "/%s", s->c.bucket);
    if (!err && r->key)
        err = sl_buf_printf(out, "/%s", r->key);
    else if (!err && !s->c.path_style)
        err = sl_buf_putc(out, '/');
    if (!err)
        err = sl_buf_putc(out, '\0');
    return err;
}

/* One attempt of r; the answer in rs (status 0 = transport error in rs->cc). */
static sl_err perform(sl_s3 *s, CURL *h, const s3_req *r, s3_resp *rs)
{
    sl_buf path, url, query;
    sl_buf_init(&path, 0);
    sl_buf_init(&url, 0);
    sl_buf_init(&query, 0);
    struct curl_slist *hl = NULL;
    char host[600], amz[17], date_h[64], sha_h[100], auth[1200], auth_h[1300], md5_h[64];
    char tok_h[4200], ct_h[160];
    sl_err err = raw_path(s, r, &path);
    if (!err)
        err = sl_sigv4_canonical_query(&query, r->query, r->nq);
    if (!err)
        err = sl_buf_putc(&query, '\0');
    if (err)
        goto out;
    if (s->c.path_style)
        snprintf(host, sizeof(host), "%s", s->hostport);
    else
        snprintf(host, sizeof(host), "%s.%s", s->c.bucket, s->hostport);
    err = sl_buf_printf(&url, "%s://%s", s->scheme, host);
    if (!err)
        err = sl_sigv4_uri_encode(&url, (const char *)path.ptr, strlen((char *)path.ptr), true);
    if (!err && query.len > 1)
        err = sl_buf_printf(&url, "?%s", (const char *)query.ptr);
    if (!err)
        err = sl_buf_putc(&url, '\0');
    if (err)
        goto out;

    char hash[65];
    if (r->payload_hash[0])
        snprintf(hash, sizeof(hash), "%s", r->payload_hash);
    else if (r->fd < 0)
        sl_sigv4_sha256_hex(r->mem ? r->mem : "", r->mem_len, hash);
    else
        snprintf(hash, sizeof(hash), "%s", SL_SIGV4_UNSIGNED);
    sl_sigv4_amz_date((int64_t)time(NULL), amz);
    sl_sigv4_kv sh[6];
    size_t nh = 0;
    sh[nh++] = (sl_sigv4_kv){"host", host};
    sh[nh++] = (sl_sigv4_kv){"x-amz-content-sha256", hash};
    sh[nh++] = (sl_sigv4_kv){"x-amz-date", amz};
    if (r->content_md5[0])
        sh[nh++] = (sl_sigv4_kv){"content-md5", r->content_md5};
    if (s->c.session_token[0])
        sh[nh++] = (sl_sigv4_kv){"x-amz-security-token", s->c.session_token};
    sl_sigv4_request sr = {r->method, (const char *)path.ptr, r->query, r->nq, sh, nh, hash};
    sl_sigv4_creds cr = {s->c.access_key, s->c.secret_key, s->c.region, "s3", amz};
    err = sl_sigv4_sign(&sr, &cr, auth, sizeof(auth), NULL, NULL);
    if (err)
        goto out;
    snprintf(date_h, sizeof(date_h), "x-amz-date: %s", amz);
    snprintf(sha_h, sizeof(sha_h), "x-amz-content-sha256: %s", hash);
    snprintf(auth_h, sizeof(auth_h), "Authorization: %s", auth);
    const char *lines[8] = {date_h, sha_h, auth_h, "Expect:", NULL};
    size_t nl = 4;
    if (r->content_md5[0]) {
        snprintf(md5_h, sizeof(md5_h), "Content-MD5: %s", r->content_md5);
        lines[nl++] = md5_h;
    }
    if (s->c.session_token[0]) {
        snprintf(tok_h, sizeof(tok_h), "x-amz-security-token: %s", s->c.session_token);
        lines[nl++] = tok_h;
    }
    snprintf(ct_h, sizeof(ct_h), "Content-Type: %s",
             r->content_type ? r->content_type : "application/octet-stream");
    lines[nl++] = ct_h;
    for (size_t i = 0; i < nl; i++) {
        struct curl_slist *n2 = curl_slist_append(hl, lines[i]);
        if (!n2) {
            err = SL_NOMEM;
            goto out;
        }
        hl = n2;
    }

    curl_easy_reset(h);
    body_src src = {r, 0};
    uint64_t blen = r->fd >= 0 ? r->len : r->mem_len;
    rs->status = 0;
    rs->body.len = 0;
    rs->etag[0] = rs->code[0] = rs->msg[0] = rs->curl_err[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, (const char *)url.ptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, rs->curl_err);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->c.connect_timeout * 1000));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(s->c.stall_timeout + 0.999));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, rs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!strcmp(r->method, "PUT")) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &src);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, &src);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)blen);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
    } else if (!strcmp(r->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->mem ? (const char *)r->mem : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->mem_len);
    } else if (!strcmp(r->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "GET")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    }
    atomic_fetch_add(&s->requests, 1);
    rs->cc = curl_easy_perform(h);
    if (rs->cc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
        const char *b = (const char *)rs->body.ptr;
        if (b && rs->body.len) {
            sl_s3_xml_text(b, rs->body.len, "Code", rs->code, sizeof(rs->code));
            sl_s3_xml_text(b, rs->body.len, "Message", rs->msg, sizeof(rs->msg));
        }
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
out:
    curl_slist_free_all(hl);
    sl_buf_release(&path);
    sl_buf_release(&url);
    sl_buf_release(&query);
    return err;
}

static bool transient(const s3_resp *rs)
{
    if (rs->status == 0)
        return true; /* connection refused/reset, timeout, DNS */
    if (rs->status >= 500 || rs->status == 429 || rs->status == 408)
        return true;
    return !strcmp(rs->code, "SlowDown") || !strcmp(rs->code, "RequestTimeout") ||
           !strcmp(rs->code, "BadDigest") || !strcmp(rs->code, "XAmzContentSHA256Mismatch") ||
           !strcmp(rs->code, "InternalError") || !strcmp(rs->code, "RequestTimeTooSkewed");
}

/* Fills e from a failed answer with a hint for the usual causes. */
static void describe_failure(const sl_s3 *s, const s3_req *r, const s3_resp *rs, unsigned attempts,
                             sl_sink_error *e)
{
    char what[400];
    int wl = snprintf(what, sizeof(what), "on %s s3://%.60s/%.160s", r->method, s->c.bucket,
                      r->key ? r->key : "");
    for (size_t i = 0; i < r->nq && wl > 0 && (size_t)wl < sizeof(what); i++)
        wl += snprintf(what + wl, sizeof(what) - (size_t)wl, "%c%.30s", i ? '&' : '?',
                       r->query[i].name);
    char tries[32] = "";
    if (attempts > 1)
        snprintf(tries, sizeof(tries), " (%u attempts)", attempts);
    char hint[256] = "";
    const char *code = rs->code;
    if (rs->status == 0) {
        snprintf(hint, sizeof(hint),
                 "check S3_ENDPOINT (%.100s: host, port, http vs https) and that the server is up; "
                 "data waits in the WAL",
                 s->c.endpoint[0] ? s->c.endpoint : "AWS");
        set_error(e, true, hint, "%s%s %s", rs->curl_err[0] ? rs->curl_err : curl_easy_strerror(rs->cc),
                  tries, what);
        return;
    }
    if (!code[0] && rs->status == 404 && !r->key)
        code = "NoSuchBucket"; /* HEAD has no body */
    if (!code[0] && rs->status == 403)
        code = "AccessDenied";
    if (!strcmp(code, "SignatureDoesNotMatch"))
        snprintf(hint, sizeof(hint),
                 "check AWS_SECRET_ACCESS_KEY (and S3_REGION=%s against the bucket's region)",
                 s->c.region);
    else if (!strcmp(code, "InvalidAccessKeyId"))
        snprintf(hint, sizeof(hint), "check AWS_ACCESS_KEY_ID: the server does not know it");
    else if (!strcmp(code, "NoSuchBucket"))
        snprintf(hint, sizeof(hint), "create bucket %.100s or fix S3_BUCKET", s->c.bucket);
    else if (!strcmp(code, "ExpiredToken") || !strcmp(code, "InvalidToken") ||
             !strcmp(code, "TokenRefreshRequired"))
        snprintf(hint, sizeof(hint), "AWS_SESSION_TOKEN expired or is invalid: refresh it");
    else if (!strcmp(code, "AuthorizationHeaderMalformed") || rs->status == 301 ||
             !strcmp(code, "PermanentRedirect"))
        snprintf(hint, sizeof(hint),
                 "the bucket is in another region than S3_REGION=%s, or S3_ENDPOINT is wrong",
                 s->c.region);
    else if (!strcmp(code, "AccessDenied"))
        snprintf(hint, sizeof(hint),
                 "the credentials may lack s3:PutObject / s3:ListBucketMultipartUploads / "
                 "s3:AbortMultipartUpload on bucket %.100s, or AWS_SECRET_ACCESS_KEY is wrong",
                 s->c.bucket);
    else if (transient(rs))
        snprintf(hint, sizeof(hint), "the S3 server is failing or overloaded; sluice retries "
                                     "and the data waits in the WAL");
    /* the code says it for the usual failures; the server's text only for the others (the
     * message goes to /readyz, where space is short) */
    bool known = hint[0] && strcmp(code, "AccessDenied");
    set_error(e, transient(rs), hint, "HTTP %ld%s%s%s%.120s%s %s", rs->status, code[0] ? " " : "",
              code, !known && rs->msg[0] ? ": " : "", known ? "" : rs->msg, tries, what);
}

/* r with retries; SL_OK when the answer is 2xx (and rs holds it). */
static sl_err request(sl_s3 *s, CURL *h, const s3_req *r, s3_resp *rs, sl_sink_error *e)
{
    double t0 = sl_mono_seconds();
    for (unsigned attempt = 1;; attempt++) {
        sl_err err = perform(s, h, r, rs);
        if (err) {
            set_error(e, true, "", "%s: building the request failed: %s", r->method,
                      sl_strerror(err));
            return err;
        }
        if (rs->status >= 200 && rs->status < 300)
            return SL_OK;
        double elapsed = sl_mono_seconds() - t0;
        double cap = 0.2 * (double)(1u << (attempt < 6 ? attempt : 6)); /* 0.4 .. 12.8 s */
        if (cap > 10)
            cap = 10;
        double delay = cap * rnd(s); /* full jitter */
        if (!transient(rs) || attempt >= s->c.max_attempts ||
            elapsed + delay >= s->c.retry_seconds) {
            describe_failure(s, r, rs, attempt, e);
            return transient(rs) ? SL_RETRY : SL_INVALID;
        }
        atomic_fetch_add(&s->retries, 1);
        sleep_s(delay);
    }
}

static void resp_init(s3_resp *rs)
{
    memset(rs, 0, sizeof(*rs));
    sl_buf_init(&rs->body, 1 << 20);
}

static CURL *new_handle(sl_sink_error *e)
{
    CURL *h = curl_easy_init();
    if (!h)
        set_error(e, true, "", "cannot create a curl handle (out of memory?)");
    return h;
}

/* ---- hashing a file range ------------------------------------------------------------------ */

/* SHA-256 (hex, skipped when sha_hex is NULL) and MD5 (base64) of fd[off, off+len). */
static sl_err hash_range(int fd, uint64_t off, uint64_t len, char *sha_hex, char md5_b64[32])
{
    EVP_MD_CTX *sc = EVP_MD_CTX_new(), *mc = EVP_MD_CTX_new();
    size_t bn = 1 << 20;
    uint8_t *buf = malloc(bn);
    sl_err err = SL_OK;
    if (!sc || !mc || !buf || !EVP_DigestInit_ex(sc, EVP_sha256(), NULL) ||
        !EVP_DigestInit_ex(mc, EVP_md5(), NULL)) {
        err = SL_NOMEM;
        goto out;
    }
    uint64_t done = 0;
    while (done < len) {
        size_t want = len - done < bn ? (size_t)(len - done) : bn;
        ssize_t got = pread(fd, buf, want, (off_t)(off + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            err = SL_IO;
            goto out;
        }
        if ((sha_hex && !EVP_DigestUpdate(sc, buf, (size_t)got)) ||
            !EVP_DigestUpdate(mc, buf, (size_t)got)) {
            err = SL_IO;
            goto out;
        }
        done += (uint64_t)got;
    }
    uint8_t md[32];
    unsigned ml = 0;
    if (sha_hex) {
        if (!EVP_DigestFinal_ex(sc, md, &ml)) {
            err = SL_IO;
            goto out;
        }
        for (unsigned i = 0; i < ml; i++)
            snprintf(sha_hex + 2 * i, 3, "%02x", md[i]);
    }
    if (!EVP_DigestFinal_ex(mc, md, &ml)) {
        err = SL_IO;
        goto out;
    }
    EVP_EncodeBlock((unsigned char *)md5_b64, md, (int)ml);
out:
    free(buf);
    EVP_MD_CTX_free(sc);
    EVP_MD_CTX_free(mc);
    return err;
}

/* ---- operations ---------------------------------------------------------------------------- */

static s3_req req_init(const char *method, const char *key)
{
    s3_req r;
    memset(&r, 0, sizeof(r));
    r.method = method;
    r.key = key;
    r.fd = -1;
    return r;
}

sl_err sl_s3_head_bucket(sl_s3 *s, sl_sink_error *e)
{
    CURL *h = new_handle(e);
    if (!h)
        return SL_NOMEM;
    s3_resp rs;
    resp_init(&rs);
    s3_req r = req_init("HEAD", NULL);
    sl_err err = request(s, h, &r, &rs, e);
    sl_buf_release(&rs.body);
    curl_easy_cleanup(h);
    return err;
}

sl_err sl_s3_put_bytes(sl_s3 *s, const char *key, const void *p, size_t n,
                       const char *content_type, sl_sink_error *e)
{
    CURL *h = new_handle(e);
    if (!h)
        return SL_NOMEM;
    s3_resp rs;
    resp_init(&rs);
    s3_req r = req_init("PUT", key);
    r.mem = p;
    r.mem_len = n;
    r.content_type = content_type;
    uint8_t md[16];
    unsigned ml = 0;
    EVP_Digest(p, n, md, &ml, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)r.content_md5, md, (int)ml);
    sl_err err = request(s, h, &r, &rs, e);
    sl_buf_release(&rs.body);
    curl_easy_cleanup(h);
    return err;
}

static sl_err put_single(sl_s3 *s, CURL *h, int fd, uint64_t size, const char *key,
                         sl_sink_error *e)
{
    s3_req r = req_init("PUT", key);
    r.fd = fd;
    r.len = size;
    sl_err err = hash_range(fd, 0, size, s->tls ? NULL : r.payload_hash, r.content_md5);
    if (err) {
        set_error(e, true, "check the staging directory", "reading the staged file: %s",
                  strerror(errno));
        return err;
    }
    if (s->tls)
        snprintf(r.payload_hash, sizeof(r.payload_hash), "%s", SL_SIGV4_UNSIGNED);
    s3_resp rs;
    resp_init(&rs);
    err = request(s, h, &r, &rs, e);
    sl_buf_release(&rs.body);
    return err;
}

typedef struct {
    sl_s3 *s;
    int fd;
    uint64_t size;
    const char *key;
    const char *upload_id;
    unsigned nparts;
    pthread_mutex_t mu; /* guards next, failed, err, e */
    unsigned next;      /* next part number to take */
    bool failed;
    sl_err err;
    sl_sink_error e;
    char (*etags)[128];
} mp_job;

static void *part_worker(void *arg)
{
    mp_job *j = arg;
    sl_sink_error e = {0};
    CURL *h = curl_easy_init();
    s3_resp rs;
    resp_init(&rs);
    for (;;) {
        pthread_mutex_lock(&j->mu);
        unsigned pn = (!j->failed && h && j->next <= j->nparts) ? j->next++ : 0;
        if (!h && !j->failed) {
            j->failed = true;
            j->err = SL_NOMEM;
            set_error(&j->e, true, "", "cannot create a curl handle");
        }
        pthread_mutex_unlock(&j->mu);
        if (!pn)
            break;
        uint64_t off = (uint64_t)(pn - 1) * j->s->c.part_size;
        uint64_t len = j->size - off < j->s->c.part_size ? j->size - off : j->s->c.part_size;
        char num[16];
        snprintf(num, sizeof(num), "%u", pn);
        sl_sigv4_kv q[2] = {{"partNumber", num}, {"uploadId", j->upload_id}};
        s3_req r = req_init("PUT", j->key);
        r.query = q;
        r.nq = 2;
        r.fd = j->fd;
        r.off = off;
        r.len = len;
        sl_err err = hash_range(j->fd, off, len, j->s->tls ? NULL : r.payload_hash, r.content_md5);
        if (err)
            set_error(&e, true, "check the staging directory", "reading the staged file: %s",
                      strerror(errno));
        if (j->s->tls)
            snprintf(r.payload_hash, sizeof(r.payload_hash), "%s", SL_SIGV4_UNSIGNED);
        if (!err)
            err = request(j->s, h, &r, &rs, &e);
        if (!err && !rs.etag[0]) {
            set_error(&e, true, "", "UploadPart %u of s3://%.100s/%.200s: answer without ETag", pn,
                      j->s->c.bucket, j->key);
            err = SL_RETRY;
        }
        pthread_mutex_lock(&j->mu);
        if (err && !j->failed) {
            j->failed = true;
            j->err = err;
            j->e = e;
        } else if (!err) {
            snprintf(j->etags[pn - 1], sizeof(j->etags[0]), "%s", rs.etag);
        }
        pthread_mutex_unlock(&j->mu);
    }
    sl_buf_release(&rs.body);
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

static void abort_upload(sl_s3 *s, CURL *h, const char *key, const char *upload_id)
{
    sl_sigv4_kv q[1] = {{"uploadId", upload_id}};
    s3_req r = req_init("DELETE", key);
    r.query = q;
    r.nq = 1;
    s3_resp rs;
    resp_init(&rs);
    sl_sink_error e = {0};
    (void)request(s, h, &r, &rs, &e); /* best effort; leftovers are also cleaned at start */
    sl_buf_release(&rs.body);
}

static sl_err put_multipart(sl_s3 *s, CURL *h, int fd, uint64_t size, const char *key,
                            sl_sink_error *e)
{
    uint64_t parts64 = (size + s->c.part_size - 1) / s->c.part_size;
    if (parts64 > SL_S3_MAX_PARTS) {
        set_error(e, false, "raise SLUICE_S3_PART_SIZE",
                  "s3://%.100s/%.200s: %" PRIu64 " bytes need %" PRIu64
                  " parts, more than S3's 10000",
                  s->c.bucket, key, size, parts64);
        return SL_INVALID;
    }
    s3_resp rs;
    resp_init(&rs);
    sl_sigv4_kv q_up[1] = {{"uploads", NULL}};
    s3_req r = req_init("POST", key);
    r.query = q_up;
    r.nq = 1;
    char upload_id[1024];
    sl_err err = request(s, h, &r, &rs, e);
    if (!err && (!rs.body.len || !sl_s3_xml_text((const char *)rs.body.ptr, rs.body.len,
                                                 "UploadId", upload_id, sizeof(upload_id)) ||
                 !upload_id[0])) {
        set_error(e, true, "", "CreateMultipartUpload s3://%.100s/%.200s: no UploadId in the answer",
                  s->c.bucket, key);
        err = SL_RETRY;
    }
    if (err) {
        sl_buf_release(&rs.body);
        return err;
    }
    mp_job j;
    memset(&j, 0, sizeof(j));
    j.s = s;
    j.fd = fd;
    j.size = size;
    j.key = key;
    j.upload_id = upload_id;
    j.nparts = (unsigned)parts64;
    j.next = 1;
    j.etags = calloc(j.nparts, sizeof(*j.etags));
    pthread_mutex_init(&j.mu, NULL);
    unsigned nt = s->c.concurrency < j.nparts ? s->c.concurrency : j.nparts;
    pthread_t th[64];
    unsigned started = 0;
    if (!j.etags) {
        err = SL_NOMEM;
        set_error(e, true, "", "out of memory");
        goto abort;
    }
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, part_worker, &j))
            break;
    if (!started)
        part_worker(&j); /* no thread could start: upload from this one */
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (j.failed) {
        err = j.err;
        *e = j.e;
        goto abort;
    }
    /* complete */
    sl_buf body;
    sl_buf_init(&body, 0);
    err = sl_buf_puts(&body, "<CompleteMultipartUpload>");
    for (unsigned i = 0; !err && i < j.nparts; i++)
        err = sl_buf_printf(&body, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1,
                            j.etags[i]);
    if (!err)
        err = sl_buf_puts(&body, "</CompleteMultipartUpload>");
    if (err) {
        sl_buf_release(&body);
        set_error(e, true, "", "out of memory");
        goto abort;
    }
    sl_sigv4_kv q_c[1] = {{"uploadId", upload_id}};
    r = req_init("POST", key);
    r.query = q_c;
    r.nq = 1;
    r.mem = body.ptr;
    r.mem_len = body.len;
    r.content_type = "application/xml";
    for (unsigned tries = 0;; tries++) {
        err = request(s, h, &r, &rs, e);
        /* 200 with an <Error> document: the completion failed after all */
        if (!err && rs.body.len && rs.code[0]) {
            set_error(e, true, "", "CompleteMultipartUpload s3://%.100s/%.200s: %s: %.200s",
                      s->c.bucket, key, rs.code, rs.msg);
            err = SL_RETRY;
            if (tries < 3 && (!strcmp(rs.code, "InternalError") || !strcmp(rs.code, "SlowDown"))) {
                sleep_s(0.5 * rnd(s));
                continue;
            }
        }
        break;
    }
    sl_buf_release(&body);
    if (err)
        goto abort;
    goto out;
abort:
    abort_upload(s, h, key, upload_id);
out:
    pthread_mutex_destroy(&j.mu);
    free(j.etags);
    sl_buf_release(&rs.body);
    return err;
}

sl_err sl_s3_upload_file(sl_s3 *s, const char *path, const char *key, sl_sink_error *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_error(e, errno != ENOENT, "", "cannot open %.300s: %s", path, strerror(errno));
        return SL_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb)) {
        set_error(e, true, "", "cannot stat %.300s: %s", path, strerror(errno));
        close(fd);
        return SL_IO;
    }
    CURL *h = new_handle(e);
    if (!h) {
        close(fd);
        return SL_NOMEM;
    }
    uint64_t size = (uint64_t)sb.st_size;
    sl_err err = size > s->c.multipart_threshold ? put_multipart(s, h, fd, size, key, e)
                                                 : put_single(s, h, fd, size, key, e);
    curl_easy_cleanup(h);
    close(fd);
    return err;
}

sl_err sl_s3_abort_uploads(sl_s3 *s, const char *prefix, unsigned *aborted, sl_sink_error *e)
{
    *aborted = 0;
    CURL *h = new_handle(e);
    if (!h)
        return SL_NOMEM;
    s3_resp rs;
    resp_init(&rs);
    char key_marker[1100] = "", id_marker[1100] = "";
    sl_err err = SL_OK;
    for (int page = 0; page < 1000 && !err; page++) {
        sl_sigv4_kv q[4];
        size_t nq = 0;
        q[nq++] = (sl_sigv4_kv){"uploads", NULL};
        q[nq++] = (sl_sigv4_kv){"prefix", prefix};
        if (key_marker[0]) {
            q[nq++] = (sl_sigv4_kv){"key-marker", key_marker};
            q[nq++] = (sl_sigv4_kv){"upload-id-marker", id_marker};
        }
        s3_req r = req_init("GET", NULL);
        r.query = q;
        r.nq = nq;
        err = request(s, h, &r, &rs, e);
        if (err) {
            if (rs.status == 501 || !strcmp(rs.code, "NotImplemented"))
                err = SL_UNSUPPORTED;
            break;
        }
        const char *x = (const char *)rs.body.ptr;
        size_t n = rs.body.len, pos = 0, bl;
        const char *b;
        /* copy the answer: aborting reuses rs */
        char *doc = malloc(n + 1);
        if (!doc) {
            err = SL_NOMEM;
            break;
        }
        memcpy(doc, x ? x : "", n);
        doc[n] = '\0';
        while (sl_s3_xml_next(doc, n, "Upload", &pos, &b, &bl)) {
            char key[1100], id[1100];
            if (!sl_s3_xml_text(b, bl, "Key", key, sizeof(key)) ||
                !sl_s3_xml_text(b, bl, "UploadId", id, sizeof(id)) || !key[0] || !id[0])
                continue;
            sl_sigv4_kv qa[1] = {{"uploadId", id}};
            s3_req ra = req_init("DELETE", key);
            ra.query = qa;
            ra.nq = 1;
            sl_sink_error e2 = {0};
            if (request(s, h, &ra, &rs, &e2) == SL_OK || rs.status == 404)
                (*aborted)++;
        }
        char trunc[16] = "";
        sl_s3_xml_text(doc, n, "IsTruncated", trunc, sizeof(trunc));
        bool more = !strcmp(trunc, "true");
        if (more) {
            sl_s3_xml_text(doc, n, "NextKeyMarker", key_marker, sizeof(key_marker));
            sl_s3_xml_text(doc, n, "NextUploadIdMarker", id_marker, sizeof(id_marker));
        }
        free(doc);
        if (!more || !key_marker[0])
            break;
    }
    sl_buf_release(&rs.body);
    curl_easy_cleanup(h);
    return err;
}
