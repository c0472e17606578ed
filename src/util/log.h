/* log.h: structured logging, one JSON object per line.
 *
 *     sl_log(SL_LOG_INFO, "batch flushed", SL_KS("stream", name), SL_KU("rows", n));
 *     sl_log0(SL_LOG_WARN, "disk almost full");
 *
 * writes
 *
 *     {"ts":"2026-11-23T13:45:01.123Z","level":"info","msg":"batch flushed","rows":42}
 *
 * to the log fd (stderr unless sl_log_set_fd() says otherwise). Each line goes out in a single
 * write(2) under a mutex, so lines from different threads never interleave. Keys and string values
 * are JSON-escaped; invalid UTF-8 becomes U+FFFD; non-finite doubles become null. A line longer
 * than SL_LOG_LINE_MAX bytes is cut at a field boundary (a long string value is cut inside) and
 * ends with "truncated":true; it is never dropped.
 *
 * The fields are borrowed for the duration of the call. Logging allocates nothing (the line is
 * built on the stack). Everything here is thread-safe; the level and fd are process-wide.
 *
 * Note: sluice.h already uses the name sl_kv (Parquet key-value metadata), so a log field is an
 * sl_log_field; the SL_K* constructors and sl_log() hide the name.
 */
#ifndef SL_UTIL_LOG_H
#define SL_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"

/* A line, newline included, is at most this long. */
#define SL_LOG_LINE_MAX 16384

typedef enum { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR, SL_LOG_OFF } sl_log_level;

typedef enum {
    SL_KV_STR, /* NUL-terminated UTF-8; NULL is logged as null */
    SL_KV_INT,
    SL_KV_UINT,
    SL_KV_DBL, /* NaN and infinities are logged as null */
    SL_KV_BOOL,
    SL_KV_RAW /* already JSON, copied as is (NULL -> null); never cut, dropped whole if too long */
} sl_kv_kind;

typedef struct {
    const char *k;
    sl_kv_kind kind;
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double d;
        bool b;
    } v;
} sl_log_field;

#define SL_KS(key, val) ((sl_log_field){.k = (key), .kind = SL_KV_STR, .v.s = (val)})
#define SL_KI(key, val) ((sl_log_field){.k = (key), .kind = SL_KV_INT, .v.i = (int64_t)(val)})
#define SL_KU(key, val) ((sl_log_field){.k = (key), .kind = SL_KV_UINT, .v.u = (uint64_t)(val)})
#define SL_KD(key, val) ((sl_log_field){.k = (key), .kind = SL_KV_DBL, .v.d = (double)(val)})
#define SL_KB(key, val) ((sl_log_field){.k = (key), .kind = SL_KV_BOOL, .v.b = (val)})
#define SL_KJ(key, val) ((sl_log_field){.k = (key), .kind = SL_KV_RAW, .v.s = (val)})

/* Lines below `lvl` are skipped; SL_LOG_OFF silences everything. Default SL_LOG_INFO. */
void sl_log_set_level(sl_log_level lvl);
/* debug|info|warn|warning|error|off, any case. SL_INVALID otherwise (*out untouched). */
SL_NODISCARD sl_err sl_log_level_parse(const char *s, sl_log_level *out);
/* Where lines go; default 2. The fd stays the caller's. */
void sl_log_set_fd(int fd);
/* Whether a line at `lvl` would be written: test it before computing expensive fields. */
bool sl_log_enabled(sl_log_level lvl);

/* Writes one line: ts, level, msg (NULL -> null), then the n fields in order. kv may be NULL
 * when n is 0. Write errors are ignored (there is nowhere to report them). */
void sl_log_kv(sl_log_level lvl, const char *msg, const sl_log_field *kv, size_t n);

#define sl_log(lvl, msg, ...)                                                                      \
    sl_log_kv((lvl), (msg), (const sl_log_field[]){__VA_ARGS__},                                   \
              sizeof((const sl_log_field[]){__VA_ARGS__}) / sizeof(sl_log_field))
#define sl_log0(lvl, msg) sl_log_kv((lvl), (msg), NULL, 0)

/* Internal, shared with src/metrics/metrics.c: the length (1..4) of the well-formed UTF-8
 * sequence at p[0..n), or 0 if it is not one (stray continuation byte, overlong form,
 * surrogate, above U+10FFFF, cut short). n must be > 0. */
size_t sl__utf8_seq_len(const uint8_t *p, size_t n);

#endif
