/* kafka_mock: runs librdkafka's mock cluster (rdkafka_mock.h, a real implementation of the Kafka
 * protocol, in memory) for the integration tests and benchmarks.
 *
 *   kafka_mock [--brokers N] [--port P] [--topic NAME:PARTITIONS]...
 *
 * Prints one line "bootstrap HOST:PORT,..." on stdout when ready (with --port: 127.0.0.1:P, a
 * TCP forwarder to broker 1 on that fixed port, so a client configured before the cluster
 * exists finds it at a known address), then reads commands on stdin, one per line, answering
 * "ok" or "error ..." on stdout:
 *   down ID | up ID          take broker ID (1..N) down (connections closed, none accepted) / up
 *   rtt ID MS                delay broker ID's answers
 *   err APIKEY CODE COUNT    the next COUNT requests of APIKEY (0 = Produce, 1 = Fetch, 3 =
 *                            Metadata, 8 = OffsetCommit, ...) fail with Kafka error CODE
 *   topic NAME PARTITIONS    create a topic
 *   quit                     (or end of input) stop
 * Brokers listen on random 127.0.0.1 ports; the mock cluster does not answer CreateTopics
 * (Admin API), topics come from broker-side auto-creation on first use or from "topic".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char target_host[64];
static int target_port;

/* One forwarded connection: bytes both ways until either side closes. */
static void *pipe_main(void *arg)
{
    int *fds = arg;
    int a = fds[0], b = fds[1];
    free(fds);
    struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buf[65536];
    for (;;) {
        if (poll(p, 2, -1) < 0)
            break;
        int from = -1;
        if (p[0].revents)
            from = 0;
        else if (p[1].revents)
            from = 1;
        if (from < 0)
            continue;
        ssize_t n = read(p[from].fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(p[1 - from].fd, buf + off, (size_t)(n - off));
            if (w <= 0)
                goto out;
            off += w;
        }
    }
out:
    close(a);
    close(b);
    return NULL;
}

static void *accept_main(void *arg)
{
    int ls = *(int *)arg;
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            continue;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)target_port);
        inet_pton(AF_INET, target_host, &sa.sin_addr);
        if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
            if (s >= 0)
                close(s);
            close(c);
            continue;
        }
        int *fds = malloc(2 * sizeof(int));
        if (!fds) {
            close(c);
            close(s);
            continue;
        }
        fds[0] = c;
        fds[1] = s;
        pthread_t t;
        if (pthread_create(&t, NULL, pipe_main, fds)) {
            close(c);
            close(s);
            free(fds);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

static int listen_on(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 64)) {
        perror("kafka_mock: listen");
        return -1;
    }
    return s;
}

int main(int argc, char **argv)
{
    int nbrokers = 1, port = 0;
    signal(SIGPIPE, SIG_IGN);
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
            nbrokers = atoi(argv[++i]);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers")) {
            i++;
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
            char name[256];
            int parts = 1;
            snprintf(name, sizeof(name), "%s", argv[++i]);
            char *colon = strrchr(name, ':');
            if (colon) {
                *colon = 0;
                parts = atoi(colon + 1);
            }
            if (rd_kafka_mock_topic_create(mc, name, parts, 1)) {
                fprintf(stderr, "kafka_mock: cannot create topic %s\n", name);
                return 1;
            }
        } else {
            fprintf(stderr, "usage: kafka_mock [--brokers N] [--port P] [--topic NAME:PARTS]\n");
            return 2;
        }
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    if (port) {
        /* forward to the first broker of the bootstrap list */
        const char *colon = strchr(boot, ':');
        size_t hl = (size_t)(colon - boot);
        if (hl >= sizeof(target_host))
            hl = sizeof(target_host) - 1;
        memcpy(target_host, boot, hl);
        target_port = atoi(colon + 1);
        static int ls;
        ls = listen_on(port);
        if (ls < 0)
            return 1;
        pthread_t t;
        pthread_create(&t, NULL, accept_main, &ls);
        pthread_detach(t);
        printf("bootstrap 127.0.0.1:%d\n", port);
    } else {
        printf("bootstrap %s\n", boot);
    }
    fflush(stdout);
    char line[512];
    while (fgets(line, sizeof(line), stdin)) {
        char cmd[32] = "", name[256] = "";
        int a = 0, b = 0, c = 0;
        int n = sscanf(line, "%31s", cmd);
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (n < 1)
            continue;
        if (!strcmp(cmd, "quit"))
            break;
        if (!strcmp(cmd, "down") && sscanf(line, "%*s %d", &a) == 1)
            err = rd_kafka_mock_broker_set_down(mc, a);
        else if (!strcmp(cmd, "up") && sscanf(line, "%*s %d", &a) == 1)
            err = rd_kafka_mock_broker_set_up(mc, a);
        else if (!strcmp(cmd, "rtt") && sscanf(line, "%*s %d %d", &a, &b) == 2)
            err = rd_kafka_mock_broker_set_rtt(mc, a, b);
        else if (!strcmp(cmd, "err") && sscanf(line, "%*s %d %d %d", &a, &b, &c) == 3) {
            for (int i = 0; i < c; i++)
                rd_kafka_mock_push_request_errors(mc, (int16_t)a, 1, (rd_kafka_resp_err_t)b);
        } else if (!strcmp(cmd, "topic") && sscanf(line, "%*s %255s %d", name, &a) == 2)
            err = rd_kafka_mock_topic_create(mc, name, a, 1);
        else {
            printf("error unknown command: %s", line);
            fflush(stdout);
            continue;
        }
        if (err)
            printf("error %s\n", rd_kafka_err2str(err));
        else
            printf("ok\n");
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
