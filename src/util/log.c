/* log.c: structured JSON-lines logger; see log.h.
 *
 * Design: each call builds its whole line in a stack buffer of SL_LOG_LINE_MAX bytes, then
 * writes it with one write(2) while holding write_mu. The mutex is what keeps lines from
 * different threads whole, also for lines above PIPE_BUF and after a short write (the rest is
 * written before the lock is released). Level and fd are relaxed atomics, so sl_log_enabled() is
 * one load.
 *
 * Truncation: appends never go past SL_LOG_LINE_MAX - sizeof(TAIL_TRUNC) + 1 bytes, which keeps
 * room for ,"truncated":true}\n. Every append either fits whole or is rolled back, except a
 * string value, which is cut at a UTF-8 boundary and closed with its quote, so the line stays
 * valid JSON. After the first cut nothing more is appended.
 *
 * Lock order: write_mu only (a leaf).
 */
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = SL_LOG_INFO;
static _Atomic int log_fd = 2;
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static const char TAIL_OK[] = "}\n";
static const char TAIL_TRUNC[] = ",\"truncated\":true}\n";

/* The line being built. `lim` is the last byte appends may use; the tail goes after it. */
typedef struct {
    char *p;
    size_t len;
    size_t lim;
    bool cut; /* something was dropped or shortened; stop appending */
} line;

void sl_log_set_level(sl_log_level lvl)
{
    atomic_store_explicit(&log_level, (int)lvl, memory_order_relaxed);
}

void sl_log_set_fd(int fd)
{
    atomic_store_explicit(&log_fd, fd, memory_order_relaxed);
}

bool sl_log_enabled(sl_log_level lvl)
{
    return lvl < SL_LOG_OFF && (int)lvl >= atomic_load_explicit(&log_level, memory_order_relaxed);
}

sl_err sl_log_level_parse(const char *s, sl_log_level *out)
{
    static const struct {
        const char *name;
        sl_log_level lvl;
    } names[] = {
        {"debug", SL_LOG_DEBUG},  {"info", SL_LOG_INFO},   {"warn", SL_LOG_WARN},
        {"warning", SL_LOG_WARN}, {"error", SL_LOG_ERROR}, {"off", SL_LOG_OFF},
    };
    if (!s || !out)
        return SL_INVALID;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].lvl;
            return SL_OK;
        }
    }
    return SL_INVALID;
}

size_t sl__utf8_seq_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t min, cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, cp = c & 0x07u;
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static bool put(line *l, const char *s, size_t n)
{
    if (l->cut || n > l->lim - l->len) {
        l->cut = true;
        return false;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
    return true;
}

/* Appends s as a JSON string. If it does not fit, as much as fits is kept (never splitting an
 * escape or a UTF-8 sequence) and the line is marked cut. Returns false if not even the two
 * quotes fit (then nothing was appended). */
static bool put_json_str(line *l, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (l->cut || l->lim - l->len < 2) {
        l->cut = true;
        return false;
    }
    /* room for the content, keeping one byte for the closing quote */
    size_t end = l->lim - 1;
    char *p = l->p;
    size_t o = l->len;
    p[o++] = '"';
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        char esc[6];
        const char *piece = esc;
        size_t plen, adv = 1;
        uint8_t c = u[i];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, plen = 2;
        } else if (c >= 0x20 && c < 0x80) {
            piece = (const char *)u + i, plen = 1;
        } else if (c < 0x20) {
            esc[0] = '\\';
            plen = 2;
            switch (c) {
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            case '\b':
                esc[1] = 'b';
                break;
            case '\f':
                esc[1] = 'f';
                break;
            default:
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                plen = 6;
            }
        } else {
            adv = sl__utf8_seq_len(u + i, n - i);
            if (adv) {
                piece = (const char *)u + i, plen = adv;
            } else {
                piece = "\xef\xbf\xbd", plen = 3; /* U+FFFD for one bad byte */
                adv = 1;
            }
        }
        if (plen > end - o) {
            l->cut = true;
            break;
        }
        memcpy(p + o, piece, plen);
        o += plen;
        i += adv;
    }
    p[o++] = '"';
    l->len = o;
    return true;
}

static bool put_cstr(line *l, const char *s)
{
    if (!s)
        return put(l, "null", 4);
    return put_json_str(l, s, strlen(s));
}

static void put_field(line *l, const sl_log_field *f)
{
    size_t mark = l->len;
    char num[40];
    int nn = 0;
    if (!put(l, ",", 1) || !put_cstr(l, f->k ? f->k : "") || l->cut || !put(l, ":", 1))
        goto out_rollback;
    switch (f->kind) {
    case SL_KV_STR:
        /* a cut value is kept: the start of a long string is what a reader wants */
        if (!put_cstr(l, f->v.s))
            goto out_rollback;
        return;
    case SL_KV_RAW:
        if (!(f->v.s ? put(l, f->v.s, strlen(f->v.s)) : put(l, "null", 4)))
            goto out_rollback;
        return;
    case SL_KV_INT:
        nn = snprintf(num, sizeof(num), "%" PRId64, f->v.i);
        break;
    case SL_KV_UINT:
        nn = snprintf(num, sizeof(num), "%" PRIu64, f->v.u);
        break;
    case SL_KV_DBL:
        if (!isfinite(f->v.d)) {
            nn = snprintf(num, sizeof(num), "null");
            break;
        }
        /* shortest of 15..17 digits that reads back to the same double */
        for (int prec = 15; prec <= 17; prec++) {
            nn = snprintf(num, sizeof(num), "%.*g", prec, f->v.d);
            if (strtod(num, NULL) == f->v.d)
                break;
        }
        break;
    case SL_KV_BOOL:
        nn = snprintf(num, sizeof(num), "%s", f->v.b ? "true" : "false");
        break;
    default:
        nn = snprintf(num, sizeof(num), "null");
        break;
    }
    if (put(l, num, (size_t)nn))
        return;
out_rollback:
    l->len = mark;
    l->cut = true;
}

static const char *level_name(sl_log_level lvl)
{
    switch (lvl) {
    case SL_LOG_DEBUG:
        return "debug";
    case SL_LOG_INFO:
        return "info";
    case SL_LOG_WARN:
        return "warn";
    case SL_LOG_ERROR:
        return "error";
    default:
        return "off";
    }
}

static void write_line(int fd, const char *p, size_t n)
{
    pthread_mutex_lock(&write_mu);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break; /* EAGAIN, EPIPE, EBADF...: the line is lost */
        }
        p += w;
        n -= (size_t)w;
    }
    pthread_mutex_unlock(&write_mu);
}

void sl_log_kv(sl_log_level lvl, const char *msg, const sl_log_field *kv, size_t n)
{
    if (!sl_log_enabled(lvl))
        return;
    int saved_errno = errno; /* callers log right before looking at errno */
    char buf[SL_LOG_LINE_MAX];
    line l = {buf, 0, sizeof(buf) - (sizeof(TAIL_TRUNC) - 1), false};

    struct timespec ts = {0, 0};
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!gmtime_r(&ts.tv_sec, &tm))
        memset(&tm, 0, sizeof(tm));
    /* the prefix is < 100 bytes, far below lim */
    int hn = snprintf(buf, sizeof(buf),
                      "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"level\":\"%s\",\"msg\":",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, (int)(ts.tv_nsec / 1000000), level_name(lvl));
    l.len = (size_t)hn;
    put_cstr(&l, msg); /* at least a cut string fits after the short prefix */
    for (size_t i = 0; i < n && !l.cut; i++)
        put_field(&l, &kv[i]);

    const char *tail = l.cut ? TAIL_TRUNC : TAIL_OK;
    size_t tn = l.cut ? sizeof(TAIL_TRUNC) - 1 : sizeof(TAIL_OK) - 1;
    memcpy(buf + l.len, tail, tn);
    write_line(atomic_load_explicit(&log_fd, memory_order_relaxed), buf, l.len + tn);
    errno = saved_errno;
}
