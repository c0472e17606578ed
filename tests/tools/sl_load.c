/* sl_load.c: HTTP load generator for `sluice serve` (and anything speaking its ingest contract).
 *
 * Two modes (`sl_load --help` has every flag):
 *   file mode  cuts a CSV or JSON Lines file into requests of about N bytes at record boundaries
 *              and POSTs them over C keep-alive connections, closed loop (each connection sends
 *              its next request when the previous one is answered) or open loop (--rate: a
 *              fixed schedule). Reports rows/s, MB/s and ack-latency percentiles, and checks the
 *              rows it sent in 2xx requests against the sum of "rows_accepted" in the answers.
 *   gen-ids    generates CSV requests `id,name,amount` with unique increasing ids for the crash
 *              recovery test and appends "FIRST LAST\n" to an ack log for every 2xx answer.
 *
 * Design: T event-loop threads (--threads, default 1), each a curl multi handle driven by epoll
 * (curl_multi_socket_action) plus one timerfd, owning C/T easy handles ("clients"). A client
 * keeps its connection (the multi's connection cache is sized to its clients), so a request
 * costs a few syscalls and no handshake; one loop thread sustains tens of thousands of small
 * requests a second. The timerfd fires at the earliest of curl's timeout, a client's scheduled
 * send time (--rate, Retry-After, the 20 ms pause after a failed connection) and 100 ms (to
 * notice --duration's end and signals), with nanosecond precision, so pacing is not rounded to
 * milliseconds.
 *
 * Work is shared through atomics: the next request index (file mode; modulo the number of
 * requests in --duration mode), the next open-loop slot (slot k is due at t0 + k / rate) and the
 * next id (gen-ids). A client claims its next slot when it becomes idle, so a slot waits only
 * while every client is busy, and its latency is measured from the slot's due time, not from
 * the moment a client got free to send it (no coordinated omission). Retries after 429 keep the
 * original start time, so the reported latency includes the back-off.
 *
 * Invariants: a request's body is read-only and lives as long as the run (the file read into
 * memory and the gzip arena, both before timing) or in its client's own buffer; per-thread counters are merged
 * only after the threads are joined. Latencies go into a log-linear histogram (128 sub-buckets
 * per power of two of nanoseconds: < 0.8% error), so memory does not grow with the run.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define NS 1000000000ull
#define SUB_BITS 7
#define SUB (1u << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS + 1) * SUB)
#define RESP_CAP (256u << 10)
#define SMALL_BODY (64u << 10) /* CSV bodies up to this are copied whole (one send) */
#define MAX_STATUS 600
#define MAX_PRINTED_BODIES 5
#define FAIL_PAUSE_NS (20 * 1000000ull)

enum { FMT_CSV, FMT_JSONL };
/* IDLE: claims work next; WAITING: sends `work` at `wake`; PAUSED: idle again at `wake` */
enum { CL_IDLE, CL_WAITING, CL_PAUSED, CL_RUNNING, CL_DONE };

typedef struct slice {
    size_t off, len;       /* data bytes in the file's copy (after the header line) */
    size_t gz_off, gz_len; /* --gzip: the whole compressed body in the gzip arena */
    uint64_t rows;
} slice;

typedef struct hist {
    uint64_t n[NBUCKETS];
    uint64_t max;
} hist;

typedef struct stats {
    uint64_t requests, ok, conn_err, other_err, retried429, abandoned;
    uint64_t status[MAX_STATUS];
    uint64_t rows, raw_bytes, wire_bytes;
    uint64_t rows_accepted, rows_rejected, unparsed, mismatched;
    uint64_t t_last;
    hist lat; /* ack latency of 2xx answers */
    hist lag; /* --rate: how late requests left after their due time (client side) */
} stats;

typedef struct load {
    /* options */
    const char *url, *file, *token, *ack_log;
    int format, clients, threads;
    size_t request_bytes;
    double duration, rate, timeout;
    long passes;
    bool gzip, json, gen, quiet;
    long long gen_start;
    long rows_per_request;
    /* input (file mode) */
    const char *map;
    size_t map_len, hdr_len;
    slice *slices;
    size_t nslices;
    uint8_t *gz;
    /* run */
    uint64_t t0, deadline, total_work, interval_ns;
    int ack_fd;
    _Atomic uint64_t next_work, next_slot, ok_seen;
    _Atomic long long next_id;
    _Atomic int printed;
    _Atomic bool unreachable;
} load;

struct loop;

typedef struct client {
    struct loop *lp;
    CURL *easy;
    int state;
    uint64_t work;  /* file mode: slice index */
    uint64_t start; /* latency origin: first send, or the open-loop slot's due time */
    uint64_t wake;  /* CL_WAITING: when to send */
    long long first_id, last_id;
    uint64_t rows, raw_len, wire_len;
    const uint8_t *seg[2]; /* read-callback body: header line, then the slice */
    size_t seg_len[2], seg_i, seg_pos;
    uint8_t *body;
    size_t body_cap;
    char *resp;
    size_t resp_len, resp_cap;
} client;

typedef struct loop {
    load *ld;
    pthread_t thread;
    int epfd, tfd;
    CURLM *multi;
    struct curl_slist *hdrs;
    client *cl;
    int ncl, running;
    uint64_t curl_due; /* 0: no curl timeout pending */
    uint64_t armed;    /* the timerfd's deadline; 0 after it fired */
    stats st;
} loop;

/* set by SIGINT/SIGTERM, read by every loop (a lock-free atomic is signal-safe) */
static atomic_int stop_flag;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    if (atomic_exchange_explicit(&stop_flag, 1, memory_order_relaxed))
        _exit(130); /* second signal: don't wait for requests in flight */
}

/* ---- latency histogram ---- */

static unsigned hist_index(uint64_t v)
{
    if (v < SUB)
        return (unsigned)v;
    unsigned k = 63u - (unsigned)__builtin_clzll(v); /* k >= SUB_BITS */
    unsigned sub = (unsigned)(v >> (k - SUB_BITS)) & (SUB - 1);
    return (k - SUB_BITS + 1) * SUB + sub;
}

static double hist_value(unsigned idx)
{
    if (idx < SUB)
        return idx;
    unsigned k = idx / SUB + SUB_BITS - 1, sub = idx % SUB;
    double lo = ldexp((double)(SUB + sub), (int)(k - SUB_BITS));
    return lo + ldexp(0.5, (int)(k - SUB_BITS)); /* bucket midpoint */
}

static void hist_add(hist *h, uint64_t v)
{
    h->n[hist_index(v)]++;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(hist *to, const hist *from)
{
    for (unsigned i = 0; i < NBUCKETS; i++)
        to->n[i] += from->n[i];
    if (from->max > to->max)
        to->max = from->max;
}

/* q-quantile in milliseconds (0 when empty) */
static double hist_quantile_ms(const hist *h, double q)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < NBUCKETS; i++)
        n += h->n[i];
    if (!n)
        return 0;
    uint64_t want = (uint64_t)ceil(q * (double)n), seen = 0;
    if (want < 1)
        want = 1;
    double v = (double)h->max;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        seen += h->n[i];
        if (seen >= want) {
            v = hist_value(i) < v ? hist_value(i) : v;
            break;
        }
    }
    return v / 1e6;
}

/* ---- input: cut the file into requests ---- */

/* End of the CSV record starting at p (one past its '\n'), honouring quoted newlines. */
static const char *csv_record_end(const char *p, const char *end)
{
    bool quoted = false;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        for (const char *q = p; (q = memchr(q, '"', (size_t)(stop - q))) != NULL; q++)
            quoted = !quoted;
        if (!nl)
            return end;
        p = nl + 1;
        if (!quoted)
            return p;
    }
    return end;
}

static const char *jsonl_record_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

static bool blank_record(const char *p, const char *e)
{
    while (e > p && (e[-1] == '\n' || e[-1] == '\r'))
        e--;
    return e == p;
}

static int cut_file(load *ld)
{
    const char *base = ld->map, *end = ld->map + ld->map_len, *p = base;
    const char *(*rec_end)(const char *, const char *) =
        ld->format == FMT_CSV ? csv_record_end : jsonl_record_end;
    if (ld->format == FMT_CSV) {
        p = csv_record_end(base, end);
        ld->hdr_len = (size_t)(p - base);
        if (p == end) {
            fprintf(stderr, "sl_load: %s: no data after the header line\n", ld->file);
            return -1;
        }
    }
    size_t target = ld->request_bytes > ld->hdr_len ? ld->request_bytes - ld->hdr_len : 1;
    size_t cap = 1024, n = 0;
    slice *s = malloc(cap * sizeof(*s));
    if (!s)
        return -1;
    while (p < end) {
        const char *start = p;
        uint64_t rows = 0;
        while (p < end && (size_t)(p - start) < target) {
            const char *e = rec_end(p, end);
            rows += !blank_record(p, e);
            p = e;
        }
        if (!rows)
            continue; /* only blank lines left */
        if (n == cap) {
            cap *= 2;
            slice *ns = realloc(s, cap * sizeof(*s));
            if (!ns) {
                free(s);
                return -1;
            }
            s = ns;
        }
        s[n++] = (slice){.off = (size_t)(start - base), .len = (size_t)(p - start), .rows = rows};
    }
    ld->slices = s;
    ld->nslices = n;
    return n ? 0 : -1;
}

/* --gzip: compress every request body once, before timing, into one arena. */
static int gzip_slices(load *ld)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    int ret = -1;
    size_t total = 0, at = 0;
    for (size_t i = 0; i < ld->nslices; i++)
        total += (size_t)deflateBound(&z, (uLong)(ld->hdr_len + ld->slices[i].len));
    ld->gz = malloc(total);
    if (!ld->gz)
        goto out_end;
    for (size_t i = 0; i < ld->nslices; i++) {
        slice *s = &ld->slices[i];
        size_t room = total - at;
        if (deflateReset(&z) != Z_OK)
            goto out_end;
        z.next_out = ld->gz + at;
        z.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        z.next_in = (Bytef *)ld->map;
        z.avail_in = (uInt)ld->hdr_len;
        int rc = ld->hdr_len ? deflate(&z, Z_NO_FLUSH) : Z_OK;
        z.next_in = (Bytef *)(ld->map + s->off);
        z.avail_in = (uInt)s->len;
        if (rc == Z_OK)
            rc = deflate(&z, Z_FINISH);
        if (rc != Z_STREAM_END)
            goto out_end;
        s->gz_off = at;
        s->gz_len = (size_t)(z.next_out - (ld->gz + at));
        at += s->gz_len;
    }
    ret = 0;
out_end:
    deflateEnd(&z);
    return ret;
}

/* ---- curl plumbing ---- */

/* socketp is non-NULL once the socket is in the epoll set (curl forgets it on REMOVE). */
static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    loop *lp = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(lp->epfd, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                                       (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                             .data.fd = s};
    if (socketp) {
        if (!epoll_ctl(lp->epfd, EPOLL_CTL_MOD, s, &ev) || errno != ENOENT)
            return 0;
    }
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, s, &ev) && errno == EEXIST)
        epoll_ctl(lp->epfd, EPOLL_CTL_MOD, s, &ev);
    curl_multi_assign(lp->multi, s, lp);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    loop *lp = userp;
    lp->curl_due = timeout_ms < 0 ? 0 : now_ns() + (uint64_t)timeout_ms * 1000000ull;
    if (timeout_ms == 0)
        lp->curl_due = 1; /* due now */
    return 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *userp)
{
    client *c = userp;
    size_t len = size * n, room = c->resp_cap - 1 - c->resp_len;
    size_t take = len < room ? len : room;
    memcpy(c->resp + c->resp_len, p, take);
    c->resp_len += take;
    c->resp[c->resp_len] = 0;
    return len;
}

static size_t read_cb(char *dst, size_t size, size_t n, void *userp)
{
    client *c = userp;
    size_t room = size * n, out = 0;
    while (out < room && c->seg_i < 2) {
        size_t left = c->seg_len[c->seg_i] - c->seg_pos;
        if (!left) {
            c->seg_i++;
            c->seg_pos = 0;
            continue;
        }
        size_t take = left < room - out ? left : room - out;
        memcpy(dst + out, c->seg[c->seg_i] + c->seg_pos, take);
        out += take;
        c->seg_pos += take;
    }
    return out;
}

static int body_reserve(client *c, size_t n)
{
    if (c->body_cap >= n)
        return 0;
    uint8_t *b = realloc(c->body, n);
    if (!b)
        return -1;
    c->body = b;
    c->body_cap = n;
    return 0;
}

/* gen-ids names: non-ASCII, and quoted fields holding commas and doubled quotes */
static const char *const gen_names[] = {
    "alice",     "\"Zoë, 42\"", "Bob Smith", "\"say \"\"hi\"\", ok\"", "José", "日本語",
    "\"a,b,c\"", "Ωmega",       "plain",     "\"Ünïcödé, straße\""};

static int build_gen_body(client *c)
{
    load *ld = c->lp->ld;
    long r = ld->rows_per_request;
    if (body_reserve(c, 16 + (size_t)r * 64))
        return -1;
    c->first_id = atomic_fetch_add_explicit(&ld->next_id, r, memory_order_relaxed);
    c->last_id = c->first_id + r - 1;
    char *p = (char *)c->body;
    size_t len = 0;
    len += (size_t)sprintf(p, "id,name,amount\n");
    for (long long id = c->first_id; id <= c->last_id; id++) {
        long long cents = (id * 7919) % 2000000 - 500000;
        long long a = cents < 0 ? -cents : cents;
        len += (size_t)sprintf(p + len, "%lld,%s,%s%lld.%02lld\n", id,
                               gen_names[(unsigned long long)id % 10], cents < 0 ? "-" : "",
                               a / 100, a % 100);
    }
    c->rows = (uint64_t)r;
    c->raw_len = c->wire_len = len;
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    return 0;
}

static int build_file_body(client *c)
{
    load *ld = c->lp->ld;
    const slice *s = &ld->slices[c->work % ld->nslices];
    c->rows = s->rows;
    c->raw_len = ld->hdr_len + s->len;
    if (ld->gzip) {
        c->wire_len = s->gz_len;
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, ld->gz + s->gz_off);
    } else if (!ld->hdr_len) {
        c->wire_len = s->len;
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, ld->map + s->off);
    } else if (c->raw_len <= SMALL_BODY) {
        if (body_reserve(c, SMALL_BODY))
            return -1;
        memcpy(c->body, ld->map, ld->hdr_len);
        memcpy(c->body + ld->hdr_len, ld->map + s->off, s->len);
        c->wire_len = c->raw_len;
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    } else {
        c->seg[0] = (const uint8_t *)ld->map;
        c->seg_len[0] = ld->hdr_len;
        c->seg[1] = (const uint8_t *)ld->map + s->off;
        c->seg_len[1] = s->len;
        c->seg_i = c->seg_pos = 0;
        c->wire_len = c->raw_len;
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(c->easy, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c->easy, CURLOPT_READDATA, c);
    }
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->wire_len);
    return 0;
}

static int client_send(client *c, uint64_t now)
{
    int rc = c->lp->ld->gen ? build_gen_body(c) : build_file_body(c);
    if (rc)
        return rc;
    if (c->lp->ld->interval_ns)
        hist_add(&c->lp->st.lag, now > c->wake ? now - c->wake : 0);
    c->resp_len = 0;
    c->resp[0] = 0;
    c->state = CL_RUNNING;
    c->lp->running++;
    c->lp->st.requests++;
    return curl_multi_add_handle(c->lp->multi, c->easy) == CURLM_OK ? 0 : -1;
}

/* Claims the next piece of work for an idle client: CL_WAITING with its send time, or CL_DONE. */
static void client_claim(client *c, uint64_t now)
{
    load *ld = c->lp->ld;
    if (atomic_load_explicit(&stop_flag, memory_order_relaxed) ||
        atomic_load_explicit(&ld->unreachable, memory_order_relaxed) ||
        (ld->deadline && now >= ld->deadline)) {
        c->state = CL_DONE;
        return;
    }
    if (!ld->gen) {
        c->work = atomic_fetch_add_explicit(&ld->next_work, 1, memory_order_relaxed);
        if (ld->total_work && c->work >= ld->total_work) {
            c->state = CL_DONE;
            return;
        }
    }
    c->start = c->wake = now;
    if (ld->interval_ns) {
        uint64_t k = atomic_fetch_add_explicit(&ld->next_slot, 1, memory_order_relaxed);
        c->start = c->wake = ld->t0 + k * ld->interval_ns;
        if (ld->deadline && c->wake >= ld->deadline) {
            c->state = CL_DONE;
            return;
        }
    }
    c->state = CL_WAITING;
}

static bool is_conn_error(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_PARTIAL_FILE;
}

/* Finds `"key"` then `:` and parses an unsigned integer; -1 if absent. */
static long long json_uint(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    if (!p)
        return -1;
    p += strlen(key);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    return strtoll(p, NULL, 10);
}

static void print_body(client *c, long status, const char *what)
{
    load *ld = c->lp->ld;
    if (atomic_fetch_add(&ld->printed, 1) >= MAX_PRINTED_BODIES)
        return;
    int n = (int)(c->resp_len < 400 ? c->resp_len : 400);
    while (n > 0 && (c->resp[n - 1] == '\n' || c->resp[n - 1] == '\r'))
        n--;
    fprintf(stderr, "sl_load: %s %ld: %.*s\n", what, status, n, n ? c->resp : "(empty)");
}

static void client_done(client *c, CURLcode rc, uint64_t now)
{
    loop *lp = c->lp;
    load *ld = lp->ld;
    stats *st = &lp->st;
    long status = 0;
    curl_multi_remove_handle(lp->multi, c->easy);
    lp->running--;
    c->state = CL_IDLE;
    if (rc != CURLE_OK) {
        bool conn = is_conn_error(rc);
        if (conn)
            st->conn_err++;
        else
            st->other_err++;
        if (!ld->quiet && (st->conn_err + st->other_err) <= 3)
            fprintf(stderr, "sl_load: request failed: %s\n", curl_easy_strerror(rc));
        if (!ld->gen && conn && !atomic_load_explicit(&ld->ok_seen, memory_order_relaxed))
            atomic_store(&ld->unreachable, true); /* nothing ever answered: give up */
        /* outcome unknown: never retried; pause, then go on with new work (new ids) */
        c->state = CL_PAUSED;
        c->wake = now + FAIL_PAUSE_NS;
        return;
    }
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status > 0 && status < MAX_STATUS)
        st->status[status]++;
    atomic_store_explicit(&ld->ok_seen, 1, memory_order_relaxed);
    if (status == 429) {
        curl_off_t ra = 0;
        curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &ra);
        uint64_t pause = ra > 0 ? (uint64_t)ra * NS : NS / 10;
        st->retried429++;
        c->wake = now + pause;
        /* file mode: the same request again; gen-ids: fresh ids after the pause */
        c->state = ld->gen ? CL_PAUSED : CL_WAITING;
        if (!ld->gen && ld->deadline && c->wake >= ld->deadline) {
            st->abandoned++;
            c->state = CL_DONE;
        }
        return;
    }
    if (status < 200 || status > 299) {
        print_body(c, status, "status");
        if (ld->gen) {
            c->state = CL_PAUSED;
            c->wake = now + FAIL_PAUSE_NS;
        }
        return;
    }
    st->ok++;
    st->rows += c->rows;
    st->raw_bytes += c->raw_len;
    st->wire_bytes += c->wire_len;
    st->t_last = now;
    hist_add(&st->lat, now - c->start);
    long long acc = json_uint(c->resp, "\"rows_accepted\"");
    long long rej = json_uint(c->resp, "\"rows_rejected\"");
    if (acc < 0) {
        if (!st->unparsed++)
            print_body(c, status, "no rows_accepted in answer");
    } else {
        st->rows_accepted += (uint64_t)acc;
        if ((uint64_t)acc != c->rows && !st->mismatched++)
            fprintf(stderr, "sl_load: MISMATCH: sent %" PRIu64 " rows, answer: %.400s\n", c->rows,
                    c->resp);
    }
    if (rej > 0)
        st->rows_rejected += (uint64_t)rej;
    if (ld->gen && ld->ack_fd >= 0) {
        char line[64];
        int n = snprintf(line, sizeof(line), "%lld %lld\n", c->first_id, c->last_id);
        if (write(ld->ack_fd, line, (size_t)n) != n) {
            perror("sl_load: ack log");
            exit(1);
        }
    }
}

static void arm_timer(loop *lp, uint64_t due)
{
    struct itimerspec its = {0};
    if (!due)
        due = 1; /* 0 would disarm; any past time fires at once */
    its.it_value.tv_sec = (time_t)(due / NS);
    its.it_value.tv_nsec = (long)(due % NS);
    timerfd_settime(lp->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void *loop_run(void *arg)
{
    loop *lp = arg;
    struct epoll_event evs[64];
    int running = 0;
    for (;;) {
        uint64_t now = now_ns(), due = now + NS / 10;
        int live = 0;
        for (int i = 0; i < lp->ncl; i++) {
            client *c = &lp->cl[i];
            if ((c->state == CL_WAITING || c->state == CL_PAUSED) &&
                atomic_load_explicit(&stop_flag, memory_order_relaxed))
                c->state = CL_DONE;
            if (c->state == CL_PAUSED && c->wake <= now)
                c->state = CL_IDLE;
            if (c->state == CL_IDLE)
                client_claim(c, now);
            if (c->state == CL_WAITING && c->wake <= now) {
                if (client_send(c, now)) {
                    fprintf(stderr, "sl_load: out of memory\n");
                    exit(1);
                }
            }
            if ((c->state == CL_WAITING || c->state == CL_PAUSED) && c->wake < due)
                due = c->wake;
            live += c->state != CL_DONE;
        }
        if (!live)
            break;
        if (lp->curl_due && lp->curl_due < due)
            due = lp->curl_due;
        /* Something due already (curl asks for a 0 ms timeout after every add): just poll.
         * Else an earlier wake-up is harmless, so re-arm only to wake sooner. Both save
         * timerfd syscalls, which cost a lot in a VM. */
        int wait_ms = -1;
        if (due <= now_ns())
            wait_ms = 0;
        else if (!lp->armed || due < lp->armed) {
            arm_timer(lp, due);
            lp->armed = due;
        }
        int n = epoll_wait(lp->epfd, evs, 64, wait_ms);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == lp->tfd) {
                uint64_t ticks;
                if (read(lp->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
                    perror("sl_load: timerfd");
                lp->armed = 0;
                continue;
            }
            int mask = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(lp->multi, evs[i].data.fd, mask, &running);
        }
        if (lp->curl_due && lp->curl_due <= now_ns()) {
            lp->curl_due = 0;
            curl_multi_socket_action(lp->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        CURLMsg *msg;
        int left;
        now = now_ns();
        while ((msg = curl_multi_info_read(lp->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            char *priv;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            client_done((client *)priv, msg->data.result, now);
        }
    }
    return NULL;
}

static int loop_init(loop *lp, load *ld, int ncl)
{
    lp->ld = ld;
    lp->ncl = ncl;
    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    lp->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    lp->multi = curl_multi_init();
    lp->cl = calloc((size_t)ncl, sizeof(client));
    if (lp->epfd < 0 || lp->tfd < 0 || !lp->multi || !lp->cl)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lp->tfd};
    epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->tfd, &ev);
    curl_multi_setopt(lp->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(lp->multi, CURLMOPT_SOCKETDATA, lp);
    curl_multi_setopt(lp->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(lp->multi, CURLMOPT_TIMERDATA, lp);
    curl_multi_setopt(lp->multi, CURLMOPT_MAXCONNECTS, (long)ncl);
    curl_multi_setopt(lp->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)ncl);

    const char *ctype = ld->gen || ld->format == FMT_CSV ? "Content-Type: text/csv"
                                                         : "Content-Type: application/x-ndjson";
    lp->hdrs = curl_slist_append(NULL, ctype);
    lp->hdrs = curl_slist_append(lp->hdrs, "Expect:"); /* no 100-continue round trip */
    if (ld->gzip)
        lp->hdrs = curl_slist_append(lp->hdrs, "Content-Encoding: gzip");
    if (ld->token) {
        char auth[1024];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ld->token);
        lp->hdrs = curl_slist_append(lp->hdrs, auth);
    }
    if (!lp->hdrs)
        return -1;
    long upbuf = (long)(ld->request_bytes > (2u << 20) ? (2u << 20) : ld->request_bytes);
    for (int i = 0; i < ncl; i++) {
        client *c = &lp->cl[i];
        c->lp = lp;
        c->resp_cap = RESP_CAP;
        c->resp = malloc(c->resp_cap);
        c->easy = curl_easy_init();
        if (!c->resp || !c->easy)
            return -1;
        c->resp[0] = 0;
        CURL *e = c->easy;
        curl_easy_setopt(e, CURLOPT_URL, ld->url);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, lp->hdrs);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(e, CURLOPT_PRIVATE, c);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(ld->timeout * 1000));
        if (upbuf > 65536)
            curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, upbuf);
        c->state = CL_IDLE;
    }
    return 0;
}

static void loop_release(loop *lp)
{
    for (int i = 0; lp->cl && i < lp->ncl; i++) {
        curl_easy_cleanup(lp->cl[i].easy);
        free(lp->cl[i].body);
        free(lp->cl[i].resp);
    }
    free(lp->cl);
    if (lp->multi)
        curl_multi_cleanup(lp->multi);
    curl_slist_free_all(lp->hdrs);
    if (lp->epfd >= 0)
        close(lp->epfd);
    if (lp->tfd >= 0)
        close(lp->tfd);
}

static void stats_merge(stats *to, const stats *from)
{
    to->requests += from->requests;
    to->ok += from->ok;
    to->conn_err += from->conn_err;
    to->other_err += from->other_err;
    to->retried429 += from->retried429;
    to->abandoned += from->abandoned;
    for (int i = 0; i < MAX_STATUS; i++)
        to->status[i] += from->status[i];
    to->rows += from->rows;
    to->raw_bytes += from->raw_bytes;
    to->wire_bytes += from->wire_bytes;
    to->rows_accepted += from->rows_accepted;
    to->rows_rejected += from->rows_rejected;
    to->unparsed += from->unparsed;
    to->mismatched += from->mismatched;
    if (from->t_last > to->t_last)
        to->t_last = from->t_last;
    hist_merge(&to->lat, &from->lat);
    hist_merge(&to->lag, &from->lag);
}

/* ---- command line ---- */

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sl_load --url URL --file PATH --request-bytes N --clients C [options]\n"
        "       sl_load --url URL --gen-ids START --rows-per-request R --clients C\n"
        "               --duration SEC --ack-log FILE [options]\n"
        "\n"
        "HTTP load generator for `sluice serve`: POSTs CSV or JSON Lines over C keep-alive\n"
        "connections and reports rows/s, MB/s (10^6 bytes of uncompressed body) and ack latency.\n"
        "\n"
        "file mode:\n"
        "  --url URL            e.g. http://127.0.0.1:8080/ingest or .../v1/streams/S/ingest\n"
        "                       (add ?mode=strict|dlq to the URL as needed)\n"
        "  --file PATH          CSV or JSON Lines; read into memory (huge pages) before timing\n"
        "  --format csv|jsonl   default: jsonl for *.jsonl/*.ndjson, else csv\n"
        "  --request-bytes N    cut the file into requests of about N bytes (suffix K, M, G =\n"
        "                       KiB, MiB, GiB) at record boundaries, each at least one record;\n"
        "                       CSV: every request starts with the file's header line; a\n"
        "                       newline inside a quoted field does not end a record. 0 or more\n"
        "                       than the file: one request with everything\n"
        "  --passes P           send the file P times (default 1)\n"
        "  --duration SEC       instead: cycle through the file until SEC have passed (requests\n"
        "                       in flight then finish; a 429 back-off past the end is dropped)\n"
        "  --rate R             open loop: R requests/s in total, request k due at t0 + k/R;\n"
        "                       latency counts from the due time, so a backed-up server shows\n"
        "                       (no coordinated omission). Default: closed loop, each client\n"
        "                       sends its next request when the last one is answered\n"
        "  --gzip               Content-Encoding: gzip (bodies compressed, level 1, before\n"
        "                       the clock starts)\n"
        "  rows = records sent in 2xx requests (header lines and blank lines excluded); they\n"
        "  must equal the sum of rows_accepted in the answers, else MISMATCH and exit 1.\n"
        "\n"
        "gen-ids mode (crash-recovery test):\n"
        "  --gen-ids START      request bodies `id,name,amount` + R rows, ids START, START+1,\n"
        "                       ...; each request a fresh contiguous range, ids never reused\n"
        "  --rows-per-request R rows per request (default 100)\n"
        "  --ack-log FILE       for every 2xx answer append `FIRST LAST\\n` (one O_APPEND\n"
        "                       write per line: complete up to the last line even after kill -9)\n"
        "  A request whose outcome is unknown (connection refused/reset, timeout) or not\n"
        "  accepted (429, other non-2xx) is never retried: count, pause (20 ms; 429: its\n"
        "  Retry-After) and go on with new ids. At exit prints on stdout\n"
        "  {\"next_id\":..,\"acked_requests\":..,\"acked_rows\":..,\"failed_requests\":..}.\n"
        "  Names include non-ASCII text and quoted fields with commas and doubled quotes.\n"
        "\n"
        "common:\n"
        "  --clients C          concurrent connections (default 8)\n"
        "  --threads T          event-loop threads sharing the clients (default 1)\n"
        "  --token T            Authorization: Bearer T\n"
        "  --timeout SEC        per-request timeout (default 120)\n"
        "  --json               file mode: one JSON object on stdout:\n"
        "                       {\"requests\",\"ok\",\"status\":{\"200\":..},\"rows\",\"bytes\",\n"
        "                       \"seconds\",\"rows_per_s\",\"mb_per_s\",\"req_per_s\",\n"
        "                       "
        "\"lat_ms\":{\"p50\",\"p95\",\"p99\",\"max\"},\"send_lag_ms\":{..},...}\n"
        "                       send_lag_ms (--rate): how late requests left after their due\n"
        "                       time; when large, the client or the machine is behind\n"
        "  --quiet              no human summary on stderr\n"
        "  On 429 the same request is sent again after Retry-After seconds (absent or 0: 100 ms),\n"
        "  and its latency includes the wait. Other non-2xx answers are counted by status (the\n"
        "  first %d bodies printed) and not retried.\n"
        "\n"
        "exit: 0 success; 1 usage error, row-count mismatch or no 2xx answer at all; 2 the\n"
        "      server could not be reached\n",
        MAX_PRINTED_BODIES);
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    switch (*end) {
    case 'k':
    case 'K':
        v *= 1024;
        end++;
        break;
    case 'm':
    case 'M':
        v *= 1024 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        v *= 1024.0 * 1024 * 1024;
        end++;
        break;
    }
    if (*end == 'i')
        end++;
    if (*end == 'B')
        end++;
    if (*end)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_num(const char *s, double lo, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo))
        return -1;
    *out = v;
    return 0;
}

static int parse_args(load *ld, int argc, char **argv)
{
    enum {
        O_URL = 256,
        O_FILE,
        O_FORMAT,
        O_RBYTES,
        O_CLIENTS,
        O_THREADS,
        O_DURATION,
        O_PASSES,
        O_RATE,
        O_TOKEN,
        O_GZIP,
        O_JSON,
        O_GEN,
        O_RPR,
        O_ACK,
        O_TIMEOUT,
        O_QUIET,
        O_HELP
    };
    static const struct option opts[] = {
        {"url", required_argument, NULL, O_URL},
        {"file", required_argument, NULL, O_FILE},
        {"format", required_argument, NULL, O_FORMAT},
        {"request-bytes", required_argument, NULL, O_RBYTES},
        {"clients", required_argument, NULL, O_CLIENTS},
        {"threads", required_argument, NULL, O_THREADS},
        {"duration", required_argument, NULL, O_DURATION},
        {"passes", required_argument, NULL, O_PASSES},
        {"rate", required_argument, NULL, O_RATE},
        {"token", required_argument, NULL, O_TOKEN},
        {"gzip", no_argument, NULL, O_GZIP},
        {"json", no_argument, NULL, O_JSON},
        {"gen-ids", required_argument, NULL, O_GEN},
        {"rows-per-request", required_argument, NULL, O_RPR},
        {"ack-log", required_argument, NULL, O_ACK},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    double v;
    bool have_rbytes = false, have_passes = false;
    int o;
    ld->format = -1;
    ld->clients = 8;
    ld->threads = 1;
    ld->passes = 1;
    ld->timeout = 120;
    ld->rows_per_request = 100;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_URL:
            ld->url = optarg;
            break;
        case O_FILE:
            ld->file = optarg;
            break;
        case O_FORMAT:
            if (!strcmp(optarg, "csv"))
                ld->format = FMT_CSV;
            else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "ndjson"))
                ld->format = FMT_JSONL;
            else
                goto bad;
            break;
        case O_RBYTES:
            if (parse_size(optarg, &ld->request_bytes))
                goto bad;
            have_rbytes = true;
            break;
        case O_CLIENTS:
            if (parse_num(optarg, 1, &v) || v > 10000)
                goto bad;
            ld->clients = (int)v;
            break;
        case O_THREADS:
            if (parse_num(optarg, 1, &v) || v > 256)
                goto bad;
            ld->threads = (int)v;
            break;
        case O_DURATION:
            if (parse_num(optarg, 0.001, &ld->duration))
                goto bad;
            break;
        case O_PASSES:
            if (parse_num(optarg, 1, &v))
                goto bad;
            ld->passes = (long)v;
            have_passes = true;
            break;
        case O_RATE:
            if (parse_num(optarg, 0.001, &ld->rate))
                goto bad;
            break;
        case O_TOKEN:
            ld->token = optarg;
            break;
        case O_GZIP:
            ld->gzip = true;
            break;
        case O_JSON:
            ld->json = true;
            break;
        case O_GEN: {
            char *end;
            errno = 0;
            ld->gen_start = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || ld->gen_start < 0)
                goto bad;
            ld->gen = true;
            break;
        }
        case O_RPR:
            if (parse_num(optarg, 1, &v) || v > 10000000)
                goto bad;
            ld->rows_per_request = (long)v;
            break;
        case O_ACK:
            ld->ack_log = optarg;
            break;
        case O_TIMEOUT:
            if (parse_num(optarg, 0.001, &ld->timeout))
                goto bad;
            break;
        case O_QUIET:
            ld->quiet = true;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sl_load: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (!ld->url) {
        fprintf(stderr, "sl_load: --url is required (see --help)\n");
        return -1;
    }
    if (ld->gen) {
        if (ld->file || ld->gzip || have_passes || have_rbytes) {
            fprintf(stderr, "sl_load: --gen-ids does not take --file, --request-bytes, --passes or "
                            "--gzip\n");
            return -1;
        }
        if (ld->duration == 0) {
            fprintf(stderr, "sl_load: --gen-ids needs --duration\n");
            return -1;
        }
        ld->format = FMT_CSV;
        ld->request_bytes = (size_t)ld->rows_per_request * 64;
        return 0;
    }
    if (!ld->file || !have_rbytes) {
        fprintf(stderr, "sl_load: --file and --request-bytes are required (see --help)\n");
        return -1;
    }
    if (ld->duration > 0 && have_passes) {
        fprintf(stderr, "sl_load: --duration and --passes exclude each other\n");
        return -1;
    }
    if (ld->format < 0) {
        size_t n = strlen(ld->file);
        bool j = (n >= 6 && !strcmp(ld->file + n - 6, ".jsonl")) ||
                 (n >= 7 && !strcmp(ld->file + n - 7, ".ndjson"));
        ld->format = j ? FMT_JSONL : FMT_CSV;
    }
    return 0;
bad:
    fprintf(stderr, "sl_load: bad value for --%s: '%s'\n", opts[o - O_URL].name, optarg);
    return -1;
}

static int open_input(load *ld)
{
    int fd = open(ld->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "sl_load: %s: %s\n", ld->file, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) || sb.st_size == 0) {
        fprintf(stderr, "sl_load: %s: empty or unreadable\n", ld->file);
        close(fd);
        return -1;
    }
    ld->map_len = (size_t)sb.st_size;
    /* The file is read into anonymous memory backed by huge pages where the kernel allows it,
     * not mapped: libcurl copies every body into its upload buffer, and from 4 KiB page-cache
     * pages that copy was most of the client's CPU (which competes with the server here). */
    size_t huge = (size_t)2 << 20, len = (ld->map_len + huge - 1) / huge * huge;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "sl_load: %s: cannot allocate %zu bytes: %s\n", ld->file, len,
                strerror(errno));
        close(fd);
        return -1;
    }
    (void)madvise(m, len, MADV_HUGEPAGE);
    for (size_t got = 0; got < ld->map_len;) {
        ssize_t r = read(fd, (char *)m + got, ld->map_len - got);
        if (r <= 0) {
            fprintf(stderr, "sl_load: read %s: %s\n", ld->file, r ? strerror(errno) : "short file");
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    ld->map = m;
    if (ld->request_bytes == 0 || ld->request_bytes > ld->map_len)
        ld->request_bytes = ld->map_len;
    if (cut_file(ld)) {
        fprintf(stderr, "sl_load: %s: no records to send\n", ld->file);
        return -1;
    }
    if (ld->gzip && gzip_slices(ld)) {
        fprintf(stderr, "sl_load: gzip failed\n");
        return -1;
    }
    return 0;
}

static void report(const load *ld, const stats *st, double secs)
{
    double p50 = hist_quantile_ms(&st->lat, 0.50), p95 = hist_quantile_ms(&st->lat, 0.95);
    double p99 = hist_quantile_ms(&st->lat, 0.99), mx = (double)st->lat.max / 1e6;
    double g50 = hist_quantile_ms(&st->lag, 0.50), g95 = hist_quantile_ms(&st->lag, 0.95);
    double g99 = hist_quantile_ms(&st->lag, 0.99), gmx = (double)st->lag.max / 1e6;
    double rps = secs > 0 ? (double)st->rows / secs : 0;
    double mbps = secs > 0 ? (double)st->raw_bytes / 1e6 / secs : 0;
    double qps = secs > 0 ? (double)st->ok / secs : 0;
    if (!ld->quiet) {
        fprintf(stderr,
                "sl_load: %" PRIu64 " requests, %" PRIu64 " ok, %" PRIu64 " rows, %.1f MB in "
                "%.3f s: %.0f rows/s, %.1f MB/s, %.0f req/s (%d clients%s)\n",
                st->requests, st->ok, st->rows, (double)st->raw_bytes / 1e6, secs, rps, mbps, qps,
                ld->clients, ld->rate > 0 ? ", open loop" : "");
        fprintf(stderr, "  status:");
        for (int i = 0; i < MAX_STATUS; i++)
            if (st->status[i])
                fprintf(stderr, " %d x %" PRIu64, i, st->status[i]);
        if (st->conn_err || st->other_err)
            fprintf(stderr, "; transport errors: %" PRIu64 " connection, %" PRIu64 " other",
                    st->conn_err, st->other_err);
        if (st->abandoned)
            fprintf(stderr, "; %" PRIu64 " 429 back-offs past the end dropped", st->abandoned);
        fprintf(stderr, "\n  ack latency ms: p50 %.3f  p95 %.3f  p99 %.3f  max %.3f\n", p50, p95,
                p99, mx);
        if (ld->rate > 0)
            fprintf(stderr,
                    "  send lag ms (sent after due time; large = client or machine behind): "
                    "p50 %.3f  p95 %.3f  p99 %.3f  max %.3f\n",
                    g50, g95, g99, gmx);
        if (st->rows_rejected)
            fprintf(stderr, "  rows_rejected: %" PRIu64 "\n", st->rows_rejected);
    }
    if (!ld->json)
        return;
    printf("{\"requests\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"status\":{", st->requests, st->ok);
    const char *sep = "";
    for (int i = 0; i < MAX_STATUS; i++) {
        if (st->status[i]) {
            printf("%s\"%d\":%" PRIu64, sep, i, st->status[i]);
            sep = ",";
        }
    }
    printf("},\"conn_errors\":%" PRIu64 ",\"other_errors\":%" PRIu64 ",\"rows\":%" PRIu64
           ",\"rows_accepted\":%" PRIu64 ",\"rows_rejected\":%" PRIu64 ",\"bytes\":%" PRIu64
           ",\"wire_bytes\":%" PRIu64 ",\"seconds\":%.6f,\"rows_per_s\":%.1f,\"mb_per_s\":%.3f,"
           "\"req_per_s\":%.1f,\"clients\":%d,\"rate\":%.1f,"
           "\"lat_ms\":{\"p50\":%.4f,\"p95\":%.4f,\"p99\":%.4f,\"max\":%.4f},"
           "\"send_lag_ms\":{\"p50\":%.4f,\"p95\":%.4f,\"p99\":%.4f,\"max\":%.4f}}\n",
           st->conn_err, st->other_err, st->rows, st->rows_accepted, st->rows_rejected,
           st->raw_bytes, st->wire_bytes, secs, rps, mbps, qps, ld->clients, ld->rate, p50, p95,
           p99, mx, g50, g95, g99, gmx);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static load ld;
    ld.ack_fd = -1;
    if (parse_args(&ld, argc, argv))
        return 1;
    if (!ld.gen && open_input(&ld))
        return 1;
    if (ld.gen && ld.ack_log) {
        ld.ack_fd = open(ld.ack_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (ld.ack_fd < 0) {
            fprintf(stderr, "sl_load: %s: %s\n", ld.ack_log, strerror(errno));
            return 1;
        }
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        fprintf(stderr, "sl_load: curl_global_init failed\n");
        return 1;
    }
    if (ld.threads > ld.clients)
        ld.threads = ld.clients;
    loop *loops = calloc((size_t)ld.threads, sizeof(loop));
    if (!loops)
        return 1;
    for (int t = 0; t < ld.threads; t++) {
        loops[t].epfd = loops[t].tfd = -1;
        int n = ld.clients / ld.threads + (t < ld.clients % ld.threads);
        if (loop_init(&loops[t], &ld, n)) {
            fprintf(stderr, "sl_load: cannot set up clients\n");
            return 1;
        }
    }
    atomic_store(&ld.next_id, ld.gen_start);
    ld.total_work = ld.duration > 0 ? 0 : (uint64_t)ld.passes * ld.nslices;
    ld.interval_ns = ld.rate > 0 ? (uint64_t)((double)NS / ld.rate) : 0;
    if (ld.rate > 0 && !ld.interval_ns)
        ld.interval_ns = 1;
    ld.t0 = now_ns();
    ld.deadline = ld.duration > 0 ? ld.t0 + (uint64_t)(ld.duration * (double)NS) : 0;
    for (int t = 0; t < ld.threads; t++) {
        if (pthread_create(&loops[t].thread, NULL, loop_run, &loops[t])) {
            fprintf(stderr, "sl_load: cannot start a thread\n");
            return 1;
        }
    }
    static stats total;
    for (int t = 0; t < ld.threads; t++) {
        pthread_join(loops[t].thread, NULL);
        stats_merge(&total, &loops[t].st);
    }
    uint64_t t_end = total.t_last ? total.t_last : now_ns();
    if (ld.duration > 0 && ld.rate > 0)
        t_end = t_end > ld.deadline ? t_end : ld.deadline;
    double secs = (double)(t_end - ld.t0) / 1e9;
    for (int t = 0; t < ld.threads; t++)
        loop_release(&loops[t]);
    free(loops);
    curl_global_cleanup();

    int rc = 0;
    bool reached = total.ok || total.requests > total.conn_err;
    if (ld.gen) {
        ld.json = false; /* gen-ids prints its own JSON line */
        report(&ld, &total, secs);
        printf("{\"next_id\":%lld,\"acked_requests\":%" PRIu64 ",\"acked_rows\":%" PRIu64
               ",\"failed_requests\":%" PRIu64 ",\"rows_accepted\":%" PRIu64 "}\n",
               atomic_load(&ld.next_id), total.ok, total.rows, total.requests - total.ok,
               total.rows_accepted);
        if (ld.ack_fd >= 0)
            close(ld.ack_fd);
    } else {
        report(&ld, &total, secs);
    }
    if (!reached) {
        fprintf(stderr, "sl_load: could not reach %s\n", ld.url);
        return 2;
    }
    if (total.mismatched || total.unparsed || (total.ok && total.rows != total.rows_accepted)) {
        fprintf(stderr,
                "sl_load: MISMATCH: %" PRIu64 " rows sent in 2xx requests, answers say %" PRIu64
                " accepted (%" PRIu64 " answers differ, %" PRIu64 " without rows_accepted)\n",
                total.rows, total.rows_accepted, total.mismatched, total.unparsed);
        rc = 1;
    }
    if (!total.ok) {
        fprintf(stderr, "sl_load: no request was accepted (no 2xx answer)\n");
        rc = 1;
    }
    return rc;
}
