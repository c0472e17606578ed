/* echo_server.c: the cheapest server that speaks sluice's ingest answer, to measure the load
 * generator (tests/tools/sl_load.c) on its own: bench/serve.sh reports its req/s as the ceiling
 * of the client side on this machine.
 *
 * usage: echo_server PORT [THREADS] [REJECT_EVERY]
 *   Listens on 127.0.0.1:PORT (libmicrohttpd, epoll, THREADS threads, default 1). Every POST is
 *   answered 200 {"stream":"default","rows_accepted":N,"rows_rejected":0} where N counts the
 *   body's lines (a last line without '\n' included), less one header line for text/csv; a
 *   gzip body (Content-Encoding: gzip) is inflated first. Nothing is stored. With
 *   REJECT_EVERY = k, every k-th request is answered 429 with Retry-After: 0 (tests the retry
 *   path). Stops on SIGTERM/SIGINT and prints requests and connections seen to stderr.
 * Build: gcc -O2 -o echo_server bench/echo_server.c -lmicrohttpd -lz
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef struct req {
    unsigned long long lines;
    int last_nl, gzip, csv, any;
    z_stream z;
} req;

static atomic_ullong n_requests, n_connections;
static unsigned long long reject_every;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void count(req *r, const char *p, size_t n)
{
    for (const char *q = p; (q = memchr(q, '\n', (size_t)(p + n - q))) != NULL; q++)
        r->lines++;
    if (n) {
        r->last_nl = p[n - 1] == '\n';
        r->any = 1;
    }
}

static void feed(req *r, const char *p, size_t n)
{
    if (!r->gzip) {
        count(r, p, n);
        return;
    }
    char out[65536];
    r->z.next_in = (Bytef *)p;
    r->z.avail_in = (uInt)n;
    while (r->z.avail_in) {
        r->z.next_out = (Bytef *)out;
        r->z.avail_out = sizeof(out);
        int rc = inflate(&r->z, Z_NO_FLUSH);
        count(r, out, sizeof(out) - r->z.avail_out);
        if (rc == Z_STREAM_END)
            inflateReset(&r->z);
        else if (rc != Z_OK)
            break;
    }
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
    (void)cls;
    (void)url;
    (void)version;
    req *r = *state;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        const char *ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        r->gzip = ce && !strcmp(ce, "gzip");
        r->csv = !ct || !strncmp(ct, "text/csv", 8);
        if (r->gzip && inflateInit2(&r->z, 15 + 32) != Z_OK)
            return MHD_NO;
        *state = r;
        return MHD_YES;
    }
    if (*size) {
        feed(r, data, *size);
        *size = 0;
        return MHD_YES;
    }
    unsigned long long k = atomic_fetch_add(&n_requests, 1) + 1;
    char body[160];
    unsigned status = MHD_HTTP_OK;
    if (strcmp(method, "POST")) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        snprintf(body, sizeof(body), "{\"error\":{\"code\":\"method\",\"message\":\"POST only\"}}");
    } else if (reject_every && k % reject_every == 0) {
        status = MHD_HTTP_TOO_MANY_REQUESTS;
        snprintf(body, sizeof(body), "{\"error\":{\"code\":\"overloaded\",\"message\":\"retry\"}}");
    } else {
        unsigned long long rows = r->lines + (r->any && !r->last_nl);
        if (r->csv && rows)
            rows--;
        snprintf(
            body, sizeof(body),
            "{\"stream\":\"default\",\"rows_accepted\":%llu,\"rows_rejected\":0,\"errors\":[]}",
            rows);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (status == MHD_HTTP_TOO_MANY_REQUESTS)
        MHD_add_response_header(resp, "Retry-After", "0");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **state,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req *r = *state;
    if (r && r->gzip)
        inflateEnd(&r->z);
    free(r);
    *state = NULL;
}

static void notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                   enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)conn;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&n_connections, 1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: echo_server PORT [THREADS] [REJECT_EVERY]\n");
        return 2;
    }
    unsigned port = (unsigned)atoi(argv[1]);
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
    reject_every = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, (uint16_t)port, NULL, NULL, answer, NULL,
        MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_NOTIFY_CONNECTION, notify, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "echo_server: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    fprintf(stderr, "echo_server: %llu requests, %llu connections\n",
            (unsigned long long)n_requests, (unsigned long long)n_connections);
    return 0;
}
