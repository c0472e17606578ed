/* kafka_url_fuzz.c: fuzz target for the kafka:// source URL parser (src/source/kafka_source.c).
 *
 * Input: the URL text (bytes after a NUL are ignored).
 * Properties (any violation aborts with a description):
 *   - no crash, leak or sanitizer report; every field NUL-terminated inside its array;
 *   - an accepted URL has brokers, a valid topic (letters, digits, '.', '_', '-', < 250
 *     bytes), a group, batch >= 1, CSV only with a model or columns;
 *   - round trip: the accepted configuration written back as a canonical URL (every value
 *     percent-encoded) parses to the same configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/kafka_source.h"

#define CHECK(cond, msg)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "kafka_url_fuzz: %s\n", msg);                                          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static size_t put_enc(char *out, size_t o, size_t cap, const char *s)
{
    for (; *s && o + 4 < cap; s++)
        o += (size_t)snprintf(out + o, cap - o, "%%%02X", (unsigned char)*s);
    return o;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = 0;
    sl_kafka_source_config c, c2;
    char err[256];
    sl_err e = sl_kafka_url_parse(url, &c, err, sizeof(err));
    free(url);
    CHECK(memchr(err, 0, sizeof(err)) || !e, "error message not terminated");
    if (e)
        return 0;
    CHECK(memchr(c.brokers, 0, sizeof(c.brokers)) && c.brokers[0], "brokers");
    CHECK(memchr(c.topic, 0, sizeof(c.topic)) && c.topic[0], "topic");
    CHECK(strspn(c.topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
              strlen(c.topic),
          "topic characters");
    CHECK(memchr(c.group, 0, sizeof(c.group)) && c.group[0], "group");
    CHECK(c.batch >= 1 && c.age > 0 && c.max_bytes >= 1024, "limits");
    CHECK(c.format != SL_FMT_CSV || c.model[0] || c.columns[0], "csv without a header");
    /* canonical form */
    static char u[16384];
    size_t o = (size_t)snprintf(u, sizeof(u), "kafka://%s/", c.brokers);
    o = put_enc(u, o, sizeof(u), c.topic);
    o += (size_t)snprintf(u + o, sizeof(u) - o, "?group=");
    o = put_enc(u, o, sizeof(u), c.group);
    o += (size_t)snprintf(u + o, sizeof(u) - o, "&format=%s&batch=%llu&max_bytes=%llu&age=%.17g"
                          "&session_ms=%u",
                          c.format == SL_FMT_CSV ? "csv" : "json", (unsigned long long)c.batch,
                          (unsigned long long)c.max_bytes, c.age, c.session_ms);
    const char *names[] = {"model", "columns", "props"};
    const char *vals[] = {c.model, c.columns, c.props};
    for (int i = 0; i < 3; i++)
        if (vals[i][0]) {
            o += (size_t)snprintf(u + o, sizeof(u) - o, "&%s=", names[i]);
            o = put_enc(u, o, sizeof(u), vals[i]);
        }
    CHECK(o + 8 < sizeof(u), "canonical URL too long");
    e = sl_kafka_url_parse(u, &c2, err, sizeof(err));
    if (e)
        fprintf(stderr, "kafka_url_fuzz: %s: %s\n", u, err);
    CHECK(!e, "canonical form refused");
    CHECK(!strcmp(c.brokers, c2.brokers) && !strcmp(c.topic, c2.topic) &&
              !strcmp(c.group, c2.group) && c.format == c2.format &&
              !strcmp(c.model, c2.model) && !strcmp(c.columns, c2.columns) &&
              !strcmp(c.props, c2.props) && c.batch == c2.batch &&
              c.max_bytes == c2.max_bytes && c.age == c2.age && c.session_ms == c2.session_ms,
          "round trip changed the configuration");
    return 0;
}
