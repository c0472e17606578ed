/* sink_local.c: keys and the local directory sink. */
#include "sink/sink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/fsutil.h"

typedef struct {
    size_t len, cap;
    char *p;
    bool over;
} keybuf;

static void kb_put(keybuf *k, const char *s, size_t n)
{
    if (k->len + n >= k->cap) {
        k->over = true;
        return;
    }
    memcpy(k->p + k->len, s, n);
    k->len += n;
    k->p[k->len] = '\0';
}

static void kb_str(keybuf *k, const char *s)
{
    kb_put(k, s, strlen(s));
}

/* The placeholder at s (after '{'), its length without braces, or 0 if unknown. */
static const char *const placeholders[] = {"stream", "date", "hour", "partition"};

static int placeholder_at(const char *s, size_t *len)
{
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(placeholders[i]);
        if (!strncmp(s, placeholders[i], n) && s[n] == '}') {
            *len = n;
            return i;
        }
    }
    return -1;
}

sl_err sl_sink_layout_check(const char *layout, sl_sink_error *e)
{
    bool has_stream = false;
    const char *why = NULL;
    if (!*layout || layout[0] == '/')
        why = "must be a relative path (no leading '/')";
    for (const char *s = layout; !why && *s; s++) {
        if (*s == '}') {
            why = "has a '}' without '{'";
        } else if (*s == '{') {
            size_t n;
            int ph = placeholder_at(s + 1, &n);
            if (ph < 0)
                why = "has an unknown placeholder (known: {stream} {date} {hour} {partition})";
            else
                s += n + 1;
            has_stream |= ph == 0;
        }
    }
    if (!why && !has_stream)
        why = "must contain {stream}, or two streams would write the same keys";
    if (why && e) {
        snprintf(e->message, sizeof(e->message), "key layout \"%.200s\" %s", layout, why);
        snprintf(e->hint, sizeof(e->hint), "for example %s", SL_LAYOUT_S3);
        e->retryable = false;
    }
    return why ? SL_INVALID : SL_OK;
}

sl_err sl_sink_key(const char *layout, const sl_obj *o, char *out, size_t n)
{
    if (sl_sink_layout_check(layout, NULL))
        return SL_INVALID;
    keybuf k = {0, n, out, n == 0};
    if (n)
        out[0] = '\0';
    time_t secs = (time_t)(o->received_us >= 0 ? o->received_us / 1000000 : 0);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char tmp[32];
    for (const char *s = layout; *s; s++) {
        size_t len;
        int ph = *s == '{' ? placeholder_at(s + 1, &len) : -1;
        if (ph < 0) {
            kb_put(&k, s, 1);
            continue;
        }
        s += len + 1; /* now at '}' */
        switch (ph) {
        case 0:
            kb_str(&k, o->stream);
            if (o->kind == SL_OBJ_REJECTS)
                kb_str(&k, "/_rejects");
            break;
        case 1:
            snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000,
                     (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
            kb_str(&k, tmp);
            break;
        case 2:
            snprintf(tmp, sizeof(tmp), "%02d", tm.tm_hour % 100);
            kb_str(&k, tmp);
            break;
        default:
            if (o->partition && *o->partition)
                kb_str(&k, o->partition);
            else if (s[1] == '/')
                s++; /* an empty partition takes its separator along */
            break;
        }
    }
    if (!k.over && k.len && k.p[k.len - 1] != '/')
        kb_put(&k, "/", 1);
    snprintf(tmp, sizeof(tmp), "%s-%06" PRIu64 "-", o->kind == SL_OBJ_REJECTS ? "rejects" : "part",
             o->segment);
    kb_str(&k, tmp);
    snprintf(tmp, sizeof(tmp), "%012" PRIu64 "-%012" PRIu64, o->first, o->last);
    kb_str(&k, tmp);
    kb_str(&k, o->kind == SL_OBJ_REJECTS ? ".ndjson" : ".parquet");
    return k.over ? SL_INVALID : SL_OK;
}

/* ---- local directory ---------------------------------------------------------------------- */

typedef struct {
    sl_file_sink base;
    char dir[1024];
} local_sink;

static sl_err local_publish(sl_file_sink *s, const char *staged, const char *key, sl_sink_error *e)
{
    local_sink *ls = (local_sink *)s;
    char path[2048];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", ls->dir, key) >= sizeof(path)) {
        snprintf(e->message, sizeof(e->message), "output path too long: %.200s/%.200s", ls->dir,
                 key);
        e->retryable = false;
        return SL_INVALID;
    }
    char *slash = strrchr(path, '/');
    *slash = '\0';
    sl_err err = sl_mkdirs(path);
    const char *what = "creating the directory";
    if (!err) {
        *slash = '/';
        what = "renaming the staged file";
        if (rename(staged, path))
            err = errno == ENOSPC ? SL_NOSPACE : SL_IO;
        *slash = '\0';
    }
    if (!err) {
        what = "syncing the directory";
        err = sl_fsync_dir(path);
    }
    if (err) {
        int saved = errno;
        snprintf(e->message, sizeof(e->message), "%s %.300s: %s", what, path, strerror(saved));
        snprintf(e->hint, sizeof(e->hint), "%s",
                 err == SL_NOSPACE ? "free space on the output file system"
                                   : "check that the output directory is writable");
        e->retryable = true;
    }
    return err;
}

static void local_describe(const sl_file_sink *s, const char *stream, char *out, size_t n)
{
    const local_sink *ls = (const local_sink *)s;
    snprintf(out, n, "%s/%s/", ls->dir, stream);
}

static void local_destroy(sl_file_sink *s)
{
    free(s);
}

sl_file_sink *sl_sink_local_create(const char *dir)
{
    local_sink *ls = calloc(1, sizeof(*ls));
    if (!ls)
        return NULL;
    ls->base.kind = "local";
    ls->base.publish = local_publish;
    ls->base.describe = local_describe;
    ls->base.destroy = local_destroy;
    snprintf(ls->base.layout, sizeof(ls->base.layout), "%s", SL_LAYOUT_LOCAL);
    snprintf(ls->dir, sizeof(ls->dir), "%s", dir);
    return &ls->base;
}
