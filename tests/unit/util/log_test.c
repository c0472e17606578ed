/* log_test.c: tests of src/util/log.c (JSON-lines logger).
 *
 * Lines are captured through a pipe (sl_log_set_fd), checked with a small strict JSON validator
 * (grammar, escapes, well-formed UTF-8, no raw control characters) and compared as text with
 * the timestamp masked. Covers escaping, every field kind, level filtering and parsing,
 * truncation at SL_LOG_LINE_MAX, and 4 threads logging lines below and above PIPE_BUF into one
 * pipe: every line must arrive whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* ---- capture: a pipe drained by a thread ----------------------------------------------------- */

typedef struct {
    int rfd, wfd;
    pthread_t reader;
    char *data;
    size_t len, cap;
} capture;

static void *drain(void *arg)
{
    capture *c = arg;
    for (;;) {
        if (c->cap - c->len < 65536) {
            c->cap = c->cap ? c->cap * 2 : 1 << 20;
            c->data = realloc(c->data, c->cap);
            assert_non_null(c->data);
        }
        ssize_t r = read(c->rfd, c->data + c->len, c->cap - c->len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        c->len += (size_t)r;
    }
    c->data[c->len] = '\0';
    return NULL;
}

static void capture_start(capture *c)
{
    memset(c, 0, sizeof(*c));
    int p[2];
    assert_int_equal(pipe(p), 0);
    c->rfd = p[0];
    c->wfd = p[1];
    sl_log_set_fd(c->wfd);
    assert_int_equal(pthread_create(&c->reader, NULL, drain, c), 0);
}

/* Everything logged since capture_start, NUL-terminated; free() it. */
static char *capture_end(capture *c, size_t *len)
{
    sl_log_set_fd(2);
    close(c->wfd);
    pthread_join(c->reader, NULL);
    close(c->rfd);
    if (len)
        *len = c->len;
    return c->data;
}

/* ---- a strict JSON validator ----------------------------------------------------------------- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

static const char *json_value(const char *p, int depth);

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL; /* raw control character or end of text */
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (hexval(p[i]) < 0)
                        return NULL;
                }
                p += 5;
            } else if (*p && strchr("\"\\/bfnrt", *p)) {
                p++;
            } else {
                return NULL;
            }
        } else if (c < 0x80) {
            p++;
        } else {
            size_t n = sl__utf8_seq_len((const uint8_t *)p, strlen(p));
            if (!n)
                return NULL;
            p += n;
        }
    }
}

static const char *json_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *json_value(const char *p, int depth)
{
    if (depth > 32)
        return NULL;
    p = skip_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = skip_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = json_string(skip_ws(p));
                if (!p)
                    return NULL;
                p = skip_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = json_value(p, depth + 1);
            if (!p)
                return NULL;
            p = skip_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (*p == '"')
        return json_string(p);
    if (!strncmp(p, "true", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    if (!strncmp(p, "null", 4))
        return p + 4;
    return json_number(p);
}

/* One line (without its newline) is exactly one JSON object. */
static bool json_line_ok(const char *line, size_t n)
{
    char *copy = strndup(line, n);
    assert_non_null(copy);
    const char *end = skip_ws(copy);
    bool ok = *end == '{' && (end = json_value(end, 0)) != NULL && *end == '\0';
    free(copy);
    return ok;
}

/* Checks every line of `text` and returns how many there are; the text must end with '\n'. */
static size_t check_lines(const char *text, size_t len)
{
    size_t lines = 0;
    const char *p = text, *end = text + len;
    assert_true(len == 0 || end[-1] == '\n');
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        assert_true((size_t)(nl - p) + 1 <= SL_LOG_LINE_MAX);
        if (!json_line_ok(p, (size_t)(nl - p))) {
            fprintf(stderr, "not JSON: %.*s\n", (int)(nl - p > 300 ? 300 : nl - p), p);
            fail();
        }
        lines++;
        p = nl + 1;
    }
    return lines;
}

/* Replaces the value of every "ts" with T after checking its shape (YYYY-MM-DDTHH:MM:SS.mmmZ). */
static void mask_ts(char *text)
{
    static const char key[] = "{\"ts\":\"";
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    char *p = text;
    while ((p = strstr(p, key)) != NULL) {
        char *v = p + sizeof(key) - 1;
        for (size_t i = 0; i < sizeof(shape) - 1; i++) {
            if (shape[i] == 'd')
                assert_true(v[i] >= '0' && v[i] <= '9');
            else
                assert_int_equal(v[i], shape[i]);
        }
        assert_int_equal(v[sizeof(shape) - 1], '"');
        v[0] = 'T';
        memmove(v + 1, v + sizeof(shape) - 1, strlen(v + sizeof(shape) - 1) + 1);
        p = v;
    }
}

static void expect_output(char *got, const char *want)
{
    mask_ts(got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, got);
    assert_string_equal(got, want);
}

static int setup(void **state)
{
    (void)state;
    sl_log_set_level(SL_LOG_INFO);
    return 0;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_field_kinds(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    sl_log0(SL_LOG_INFO, "no fields");
    sl_log(SL_LOG_WARN, "one", SL_KS("s", "v"));
    sl_log(SL_LOG_ERROR, "several", SL_KS("s", "v"), SL_KS("null_s", NULL), SL_KI("i", -5),
           SL_KI("imin", INT64_MIN), SL_KU("u", UINT64_MAX), SL_KD("d", 0.5), SL_KD("tenth", 0.1),
           SL_KD("big", 1e300), SL_KD("third", 1.0 / 3), SL_KD("nan", NAN), SL_KD("inf", -INFINITY),
           SL_KB("t", true), SL_KB("f", false), SL_KJ("j", "{\"a\":[1,2]}"), SL_KJ("null_j", NULL));
    sl_log(SL_LOG_INFO, NULL, SL_KI("n", 3u));
    size_t len;
    char *out = capture_end(&c, &len);
    assert_int_equal(check_lines(out, len), 4);
    expect_output(out, "{\"ts\":\"T\",\"level\":\"info\",\"msg\":\"no fields\"}\n"
                       "{\"ts\":\"T\",\"level\":\"warn\",\"msg\":\"one\",\"s\":\"v\"}\n"
                       "{\"ts\":\"T\",\"level\":\"error\",\"msg\":\"several\",\"s\":\"v\","
                       "\"null_s\":null,\"i\":-5,\"imin\":-9223372036854775808,"
                       "\"u\":18446744073709551615,\"d\":0.5,\"tenth\":0.1,\"big\":1e+300,"
                       "\"third\":0.3333333333333333,\"nan\":null,\"inf\":null,\"t\":true,"
                       "\"f\":false,\"j\":{\"a\":[1,2]},\"null_j\":null}\n"
                       "{\"ts\":\"T\",\"level\":\"info\",\"msg\":null,\"n\":3}\n");
    free(out);
}

static void test_timestamp_is_now(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    time_t before = time(NULL);
    sl_log0(SL_LOG_INFO, "x");
    char *out = capture_end(&c, NULL);
    struct tm tm = {0};
    int ms;
    assert_int_equal(sscanf(out, "{\"ts\":\"%d-%d-%dT%d:%d:%d.%dZ\"", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    assert_true(t >= before && t <= before + 5);
    assert_true(ms >= 0 && ms <= 999);
    free(out);
}

static void test_escaping(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "\"plain\""},
        {"q\"uo\\te", "\"q\\\"uo\\\\te\""},
        {"nl\nret\rtab\tbs\bff\f", "\"nl\\nret\\rtab\\tbs\\bff\\f\""},
        {"\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
         "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"bad\xff!", "\"bad\xef\xbf\xbd!\""},
        {"\x80lone", "\"\xef\xbf\xbdlone\""},
        {"over\xc0\xaf", "\"over\xef\xbf\xbd\xef\xbf\xbd\""},
        {"sur\xed\xa0\x80", "\"sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"big\xf4\x90\x80\x80", "\"big\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"cut\xe2\x82", "\"cut\xef\xbf\xbd\xef\xbf\xbd\""},
        {"max\xf4\x8f\xbf\xbf", "\"max\xf4\x8f\xbf\xbf\""},
        {"", "\"\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        capture c;
        capture_start(&c);
        sl_log(SL_LOG_INFO, cases[i].in, SL_KS(cases[i].in, cases[i].in));
        size_t len;
        char *out = capture_end(&c, &len);
        assert_int_equal(check_lines(out, len), 1);
        char want[256];
        snprintf(want, sizeof(want), "{\"ts\":\"T\",\"level\":\"info\",\"msg\":%s,%s:%s}\n",
                 cases[i].out, cases[i].out, cases[i].out);
        expect_output(out, want);
        free(out);
    }
}

static void test_levels(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    assert_false(sl_log_enabled(SL_LOG_DEBUG)); /* default INFO */
    assert_true(sl_log_enabled(SL_LOG_INFO));
    sl_log0(SL_LOG_DEBUG, "d0");
    sl_log_set_level(SL_LOG_WARN);
    assert_false(sl_log_enabled(SL_LOG_INFO));
    assert_true(sl_log_enabled(SL_LOG_ERROR));
    assert_false(sl_log_enabled(SL_LOG_OFF));
    sl_log0(SL_LOG_DEBUG, "d");
    sl_log0(SL_LOG_INFO, "i");
    sl_log0(SL_LOG_WARN, "w");
    sl_log0(SL_LOG_ERROR, "e");
    sl_log0(SL_LOG_OFF, "never, an OFF line is not a level");
    sl_log_set_level(SL_LOG_DEBUG);
    sl_log(SL_LOG_DEBUG, "d2", SL_KB("x", 1));
    sl_log_set_level(SL_LOG_OFF);
    sl_log0(SL_LOG_ERROR, "silenced");
    assert_false(sl_log_enabled(SL_LOG_ERROR));
    sl_log_set_level(SL_LOG_INFO);
    char *out = capture_end(&c, NULL);
    expect_output(out, "{\"ts\":\"T\",\"level\":\"warn\",\"msg\":\"w\"}\n"
                       "{\"ts\":\"T\",\"level\":\"error\",\"msg\":\"e\"}\n"
                       "{\"ts\":\"T\",\"level\":\"debug\",\"msg\":\"d2\",\"x\":true}\n");
    free(out);
}

static void test_level_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        sl_log_level lvl;
    } ok[] = {
        {"debug", SL_LOG_DEBUG},  {"DEBUG", SL_LOG_DEBUG}, {"info", SL_LOG_INFO},
        {"Info", SL_LOG_INFO},    {"warn", SL_LOG_WARN},   {"warning", SL_LOG_WARN},
        {"WARNING", SL_LOG_WARN}, {"error", SL_LOG_ERROR}, {"off", SL_LOG_OFF},
        {"OFF", SL_LOG_OFF},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        sl_log_level lvl = SL_LOG_ERROR;
        assert_int_equal(sl_log_level_parse(ok[i].s, &lvl), SL_OK);
        assert_int_equal(lvl, ok[i].lvl);
    }
    static const char *const bad[] = {"", "inf", "infos", " info", "err", "trace", "none"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_log_level lvl = SL_LOG_ERROR;
        assert_int_equal(sl_log_level_parse(bad[i], &lvl), SL_INVALID);
        assert_int_equal(lvl, SL_LOG_ERROR);
    }
    sl_log_level lvl;
    assert_int_equal(sl_log_level_parse(NULL, &lvl), SL_INVALID);
    assert_int_equal(sl_log_level_parse("info", NULL), SL_INVALID);
}

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = malloc(n * times + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    s[n * times] = '\0';
    return s;
}

static void test_truncation(void **state)
{
    (void)state;
    static const char trunc_tail[] = ",\"truncated\":true}\n";
    char *long_msg = repeat("m", 20000);
    char *ctl = repeat("\x01", 5000);          /* 6 bytes each once escaped */
    char *utf8 = repeat("\xe2\x82\xac", 9000); /* 3-byte characters */
    char *raw = repeat("1", 17000);
    char *mid = repeat("x", 15000);
    capture c;
    capture_start(&c);
    /* a long message is cut; fields after it are dropped */
    sl_log(SL_LOG_INFO, long_msg, SL_KI("after", 1));
    /* a long string value is cut inside, never mid-escape or mid-character */
    sl_log(SL_LOG_INFO, "ctl", SL_KI("before", 1), SL_KS("v", ctl), SL_KI("after", 2));
    sl_log(SL_LOG_INFO, "utf8", SL_KS("v", utf8));
    /* raw JSON that does not fit is dropped whole */
    sl_log(SL_LOG_INFO, "raw", SL_KI("before", 1), SL_KJ("v", raw));
    /* many small fields: whole fields are kept up to the limit */
    sl_log_field many[2000];
    for (size_t i = 0; i < 2000; i++)
        many[i] = SL_KU("field", i);
    sl_log_kv(SL_LOG_INFO, "many", many, 2000);
    /* a long line that fits is not marked */
    sl_log(SL_LOG_INFO, "fits", SL_KS("v", mid));
    size_t len;
    char *out = capture_end(&c, &len);
    assert_int_equal(check_lines(out, len), 6);

    char *line = out;
    for (int i = 0; i < 6; i++) {
        char *nl = strchr(line, '\n');
        size_t n = (size_t)(nl - line) + 1;
        bool cut = n >= sizeof(trunc_tail) - 1 && memcmp(nl + 1 - (sizeof(trunc_tail) - 1),
                                                         trunc_tail, sizeof(trunc_tail) - 1) == 0;
        *nl = '\0';
        if (i < 5) {
            assert_true(cut);
            /* nothing wasted: the cut is within a few bytes of the limit (a field up to
               "field":1999 or one escape may not have fit) */
            assert_true(n > SL_LOG_LINE_MAX - 40 || i == 3);
            assert_true(n <= SL_LOG_LINE_MAX);
        } else {
            assert_false(cut);
        }
        switch (i) {
        case 0:
            assert_null(strstr(line, "after"));
            break;
        case 1:
            assert_non_null(strstr(line, "\"before\":1,\"v\":\"\\u0001"));
            assert_null(strstr(line, "after"));
            break;
        case 3:
            assert_non_null(strstr(line, "\"msg\":\"raw\",\"before\":1,\"truncated\":true}"));
            break;
        case 4:
            assert_non_null(strstr(line, "\"field\":0,\"field\":1,"));
            break;
        default:
            break;
        }
        line = nl + 1;
    }
    free(out);
    free(long_msg);
    free(ctl);
    free(utf8);
    free(raw);
    free(mid);
}

static void test_errno_preserved(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    errno = ENOENT;
    sl_log(SL_LOG_ERROR, "open failed", SL_KS("path", "/nope"));
    assert_int_equal(errno, ENOENT);
    sl_log_set_fd(-1); /* a write error is swallowed */
    sl_log0(SL_LOG_ERROR, "lost");
    assert_int_equal(errno, ENOENT);
    free(capture_end(&c, NULL));
}

/* ---- threads --------------------------------------------------------------------------------- */

#define THREADS 4
#define LINES 2000

static void *log_many(void *arg)
{
    int t = (int)(intptr_t)arg;
    char *pad = repeat("p", 6000); /* lines up to ~6 KiB: above PIPE_BUF (4096) */
    for (int i = 0; i < LINES; i++) {
        size_t padlen = (size_t)((i * 7919 + t * 104729) % 6000);
        pad[padlen] = '\0';
        sl_log(SL_LOG_INFO, "hammer", SL_KI("t", t), SL_KI("seq", i), SL_KS("pad", pad));
        pad[padlen] = 'p';
    }
    free(pad);
    return NULL;
}

static void test_concurrent_lines_whole(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, log_many, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    size_t len;
    char *out = capture_end(&c, &len);
    assert_int_equal(check_lines(out, len), THREADS * LINES);

    /* each thread's lines arrive once each, in order */
    int next[THREADS] = {0};
    for (char *p = out, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        *nl = '\0'; /* sscanf would strlen() the rest of the text on every call */
        int t, seq;
        char *f = strstr(p, "\"t\":");
        assert_non_null(f);
        assert_int_equal(sscanf(f, "\"t\":%d,\"seq\":%d", &t, &seq), 2);
        assert_true(t >= 0 && t < THREADS);
        assert_int_equal(seq, next[t]);
        next[t]++;
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(next[t], LINES);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_field_kinds, setup),
        cmocka_unit_test_setup(test_timestamp_is_now, setup),
        cmocka_unit_test_setup(test_escaping, setup),
        cmocka_unit_test_setup(test_levels, setup),
        cmocka_unit_test_setup(test_level_parse, setup),
        cmocka_unit_test_setup(test_truncation, setup),
        cmocka_unit_test_setup(test_errno_preserved, setup),
        cmocka_unit_test_setup(test_concurrent_lines_whole, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
