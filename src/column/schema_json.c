/* schema_json.c: models (schemas) as JSON text, both ways (see "schema JSON" in sluice.h; the
 * accepted document and type grammar are docs/coercion.md, "Schema JSON").
 *
 * Design: model documents are small configuration files, so a small DOM is built first
 * (strict RFC 8259: no comments, no trailing commas, strings valid UTF-8, duplicate keys
 * rejected, depth <= 64), then walked to build the sl_model; every node remembers its byte
 * offset so each error names the JSON path and the line and column (counted in characters,
 * 1-based) where it is. The walk is strict: unknown keys are errors, so a typo ("nullabel")
 * cannot silently fall back to a default.
 *
 * This file does not depend on src/parse (includes point down the pipeline), hence its own
 * string decoder.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"
#include "util/utf8.h"
#include "util/buf.h"

#define MAX_DEPTH 64

enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

static const char *const jtype_names[] = {"null",     "false",    "true",     "a number",
                                          "a string", "an array", "an object"};

typedef struct jnode {
    uint8_t type;
    size_t pos; /* offset of the value's first byte */
    char *s;    /* J_STR: decoded, NUL-terminated */
    size_t len;
    struct jnode *kids; /* J_ARR items, J_OBJ members */
    size_t n, cap;
    char *key; /* member of an object: its key (decoded) */
    size_t klen;
    size_t kpos; /* offset of the key */
} jnode;

typedef struct {
    const uint8_t *p;
    size_t n;
    size_t i;
    sl_err err; /* first error */
    char *msg;
    size_t msglen;
} jparser;

static void jnode_free(jnode *j)
{
    for (size_t k = 0; k < j->n; k++)
        jnode_free(&j->kids[k]);
    free(j->kids);
    free(j->s);
    free(j->key);
}

/* Line and column (1-based; the column counts characters) of byte offset pos. */
static void line_col(const jparser *jp, size_t pos, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;
    if (pos > jp->n)
        pos = jp->n;
    for (size_t i = 0; i < pos; i++) {
        if (jp->p[i] == '\n') {
            l++;
            c = 1;
        } else if ((jp->p[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Records the first error: "<path>: <message> (line L, column C)". */
static void fail(jparser *jp, size_t pos, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(jparser *jp, size_t pos, const char *path, const char *fmt, ...)
{
    if (jp->err)
        return;
    jp->err = SL_FORMAT;
    if (!jp->msg || !jp->msglen)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    size_t line, col;
    line_col(jp, pos, &line, &col);
    if (path && *path)
        snprintf(jp->msg, jp->msglen, "%s: %s (line %zu, column %zu)", path, text, line, col);
    else
        snprintf(jp->msg, jp->msglen, "%s (line %zu, column %zu)", text, line, col);
}

static void fail_nomem(jparser *jp)
{
    if (jp->err)
        return;
    jp->err = SL_NOMEM;
    if (jp->msg && jp->msglen)
        snprintf(jp->msg, jp->msglen, "out of memory");
}

/* ---- JSON text -> DOM ---- */

static void skip_ws(jparser *jp)
{
    while (jp->i < jp->n) {
        uint8_t c = jp->p[jp->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        jp->i++;
    }
}

static int hexv(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int hex4(const uint8_t *p)
{
    int a = hexv(p[0]), b = hexv(p[1]), c = hexv(p[2]), d = hexv(p[3]);
    return (a | b | c | d) < 0 ? -1 : a << 12 | b << 8 | c << 4 | d;
}


static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at jp->i (a '"'); decoded into *out (malloc'd, NUL-terminated). */
static bool parse_string(jparser *jp, char **out, size_t *outlen)
{
    const uint8_t *p = jp->p;
    size_t n = jp->n, i = jp->i + 1;
    /* the decoded text is never longer than the raw one */
    size_t end = i;
    while (end < n && p[end] != '"')
        end += p[end] == '\\' ? 2 : 1;
    if (end >= n) {
        fail(jp, jp->i, NULL, "unterminated string");
        return false;
    }
    char *s = malloc(end - i + 1);
    if (!s) {
        fail_nomem(jp);
        return false;
    }
    size_t o = 0;
    while (i < end) {
        uint8_t c = p[i];
        if (c == '\\') {
            uint8_t e = p[i + 1];
            int cp;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                s[o++] = (char)e;
                break;
            case 'b':
                s[o++] = '\b';
                break;
            case 'f':
                s[o++] = '\f';
                break;
            case 'n':
                s[o++] = '\n';
                break;
            case 'r':
                s[o++] = '\r';
                break;
            case 't':
                s[o++] = '\t';
                break;
            case 'u':
                if (end - i < 6 || (cp = hex4(p + i + 2)) < 0) {
                    fail(jp, i, NULL, "bad \\u escape in string");
                    goto bad;
                }
                if (cp >= 0xDC00 && cp < 0xE000) {
                    fail(jp, i, NULL, "lone low surrogate \\u%04X in string", (unsigned)cp);
                    goto bad;
                }
                if (cp >= 0xD800 && cp < 0xDC00) {
                    int lo =
                        end - i >= 12 && p[i + 6] == '\\' && p[i + 7] == 'u' ? hex4(p + i + 8) : -1;
                    if (lo < 0xDC00 || lo >= 0xE000) {
                        fail(jp, i, NULL, "lone high surrogate \\u%04X in string", (unsigned)cp);
                        goto bad;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
                o += put_utf8(s + o, (uint32_t)cp);
                i += 4;
                break;
            default:
                fail(jp, i, NULL, "bad escape '\\%c' in string", e >= 0x20 && e < 0x7F ? e : '?');
                goto bad;
            }
            i += 2;
        } else if (c < 0x20) {
            fail(jp, i, NULL, "control character 0x%02X in string (escape it)", c);
            goto bad;
        } else if (c >= 0x80) {
            size_t k = sl_utf8_seq(p + i, end - i);
            if (!k) {
                fail(jp, i, NULL, "invalid UTF-8 in string");
                goto bad;
            }
            memcpy(s + o, p + i, k);
            o += k;
            i += k;
        } else {
            s[o++] = (char)c;
            i++;
        }
    }
    s[o] = 0;
    *out = s;
    *outlen = o;
    jp->i = end + 1;
    return true;
bad:
    free(s);
    return false;
}

static bool parse_number(jparser *jp)
{
    const uint8_t *p = jp->p;
    size_t n = jp->n, i = jp->i;
    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0') {
        i++;
    } else if (i < n && p[i] >= '1' && p[i] <= '9') {
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    } else {
        goto bad;
    }
    if (i < n && p[i] == '.') {
        i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            goto bad;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            goto bad;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    jp->i = i;
    return true;
bad:
    fail(jp, jp->i, NULL, "malformed number");
    return false;
}

static bool push_kid(jparser *jp, jnode *parent, jnode *kid)
{
    if (parent->n == parent->cap) {
        size_t ncap = parent->cap ? parent->cap * 2 : 4;
        jnode *k = realloc(parent->kids, ncap * sizeof(*k));
        if (!k) {
            fail_nomem(jp);
            return false;
        }
        parent->kids = k;
        parent->cap = ncap;
    }
    parent->kids[parent->n++] = *kid;
    return true;
}

static bool parse_value(jparser *jp, jnode *v, int depth)
{
    memset(v, 0, sizeof(*v));
    skip_ws(jp);
    v->pos = jp->i;
    if (jp->i >= jp->n) {
        fail(jp, jp->i, NULL, "unexpected end of text: a value is expected");
        return false;
    }
    const uint8_t *p = jp->p;
    uint8_t c = p[jp->i];
    size_t left = jp->n - jp->i;
    if (c == '"') {
        v->type = J_STR;
        return parse_string(jp, &v->s, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        v->type = J_NUM;
        return parse_number(jp);
    }
    if (left >= 4 && !memcmp(p + jp->i, "null", 4)) {
        v->type = J_NULL;
        jp->i += 4;
        return true;
    }
    if (left >= 4 && !memcmp(p + jp->i, "true", 4)) {
        v->type = J_TRUE;
        jp->i += 4;
        return true;
    }
    if (left >= 5 && !memcmp(p + jp->i, "false", 5)) {
        v->type = J_FALSE;
        jp->i += 5;
        return true;
    }
    if (c != '[' && c != '{') {
        if (c >= 0x20 && c < 0x7F)
            fail(jp, jp->i, NULL, "unexpected character '%c': a value is expected", c);
        else
            fail(jp, jp->i, NULL, "unexpected byte 0x%02X: a value is expected", c);
        return false;
    }
    if (depth >= MAX_DEPTH) {
        fail(jp, jp->i, NULL, "nesting deeper than %d levels", MAX_DEPTH);
        return false;
    }
    bool obj = c == '{';
    uint8_t close = obj ? '}' : ']';
    v->type = obj ? J_OBJ : J_ARR;
    jp->i++;
    skip_ws(jp);
    if (jp->i < jp->n && p[jp->i] == close) {
        jp->i++;
        return true;
    }
    for (;;) {
        jnode kid;
        memset(&kid, 0, sizeof(kid));
        if (obj) {
            skip_ws(jp);
            if (jp->i >= jp->n || p[jp->i] != '"') {
                if (jp->i < jp->n && p[jp->i] == '}')
                    fail(jp, jp->i, NULL, "trailing comma before '}'");
                else
                    fail(jp, jp->i, NULL, "object key (a string) expected");
                return false;
            }
            size_t kpos = jp->i;
            char *key;
            size_t klen;
            if (!parse_string(jp, &key, &klen))
                return false;
            for (size_t k = 0; k < v->n; k++) {
                if (v->kids[k].klen == klen && !memcmp(v->kids[k].key, key, klen)) {
                    fail(jp, kpos, NULL, "duplicate key \"%s\"", key);
                    free(key);
                    return false;
                }
            }
            skip_ws(jp);
            if (jp->i >= jp->n || p[jp->i] != ':') {
                fail(jp, jp->i, NULL, "':' expected after object key");
                free(key);
                return false;
            }
            jp->i++;
            bool ok = parse_value(jp, &kid, depth + 1);
            kid.key = key;
            kid.klen = klen;
            kid.kpos = kpos;
            if (!ok || !push_kid(jp, v, &kid)) {
                jnode_free(&kid);
                return false;
            }
        } else {
            skip_ws(jp);
            if (jp->i < jp->n && p[jp->i] == ']') {
                fail(jp, jp->i, NULL, "trailing comma before ']'");
                return false;
            }
            if (!parse_value(jp, &kid, depth + 1) || !push_kid(jp, v, &kid)) {
                jnode_free(&kid);
                return false;
            }
        }
        skip_ws(jp);
        if (jp->i < jp->n && p[jp->i] == ',') {
            jp->i++;
            continue;
        }
        if (jp->i < jp->n && p[jp->i] == close) {
            jp->i++;
            return true;
        }
        fail(jp, jp->i, NULL, obj ? "',' or '}' expected" : "',' or ']' expected");
        return false;
    }
}

/* ---- types ---- */

#define TYPE_LIST                                                                                  \
    "bool, int32, int64, float, double, string, binary, json, date, "                              \
    "timestamp[ms|us|ns][, UTC], decimal(p,s)"

static bool word_eq(const char *s, size_t n, const char *w)
{
    size_t i = 0;
    for (; i < n && w[i]; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (c != w[i])
            return false;
    }
    return i == n && !w[i];
}

static void skip_sp(const char *s, size_t n, size_t *i)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
}

/* Unsigned decimal of at most 3 digits. */
static bool small_uint(const char *s, size_t n, size_t *i, unsigned *v)
{
    size_t i0 = *i;
    *v = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - i0 < 3)
        *v = *v * 10 + (unsigned)(s[(*i)++] - '0');
    return *i > i0 && !(*i < n && s[*i] >= '0' && s[*i] <= '9');
}

static int type_err(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int type_err(char *msg, size_t len, const char *fmt, ...)
{
    if (msg && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, len, fmt, ap);
        va_end(ap);
    }
    return 0;
}

/* Shown text of a type spelling in messages: at most 40 bytes, printable. */
static void shown(const char *s, size_t n, char out[48])
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < 40; i++)
        out[o++] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7F ? s[i] : '?';
    if (n > 40) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
}

sl_err sl_type_parse(const char *s, size_t n, sl_type *out, char *errmsg, size_t errlen)
{
    static const struct {
        const char *name;
        sl_type_id id;
    } names[] = {
        {"bool", SL_TYPE_BOOL},     {"boolean", SL_TYPE_BOOL},  {"int32", SL_TYPE_INT32},
        {"int", SL_TYPE_INT32},     {"integer", SL_TYPE_INT32}, {"int64", SL_TYPE_INT64},
        {"bigint", SL_TYPE_INT64},  {"long", SL_TYPE_INT64},    {"float", SL_TYPE_FLOAT},
        {"float32", SL_TYPE_FLOAT}, {"double", SL_TYPE_DOUBLE}, {"float64", SL_TYPE_DOUBLE},
        {"string", SL_TYPE_STRING}, {"utf8", SL_TYPE_STRING},   {"text", SL_TYPE_STRING},
        {"binary", SL_TYPE_BINARY}, {"bytes", SL_TYPE_BINARY},  {"json", SL_TYPE_JSON},
        {"date", SL_TYPE_DATE},
    };
    char sh[48];
    size_t i = 0;
    skip_sp(s, n, &i);
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t w0 = i;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        i++;
    const char *w = s + w0;
    size_t wl = i - w0;
    shown(s + w0, n - w0, sh);
    if (wl == n - w0) {
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            if (word_eq(w, wl, names[k].name)) {
                *out = sl_type_of(names[k].id);
                return SL_OK;
            }
        }
    }
    if (word_eq(w, wl, "timestamptz") && wl == n - w0) {
        *out = sl_type_timestamp(SL_UNIT_US, true);
        return SL_OK;
    }
    if (word_eq(w, wl, "timestamp")) {
        sl_time_unit unit = SL_UNIT_US;
        bool utc = false;
        skip_sp(s, n, &i);
        if (i == n) {
            *out = sl_type_timestamp(unit, utc);
            return SL_OK;
        }
        if (s[i] != '[')
            goto bad_ts;
        i++;
        skip_sp(s, n, &i);
        size_t u0 = i;
        while (i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
            i++;
        if (word_eq(s + u0, i - u0, "ms"))
            unit = SL_UNIT_MS;
        else if (word_eq(s + u0, i - u0, "us"))
            unit = SL_UNIT_US;
        else if (word_eq(s + u0, i - u0, "ns"))
            unit = SL_UNIT_NS;
        else {
            char su[48];
            shown(s + u0, i - u0, su);
            type_err(errmsg, errlen, "unknown timestamp unit '%s' in '%s' (expected ms, us or ns)",
                     su, sh);
            return SL_FORMAT;
        }
        skip_sp(s, n, &i);
        if (i < n && s[i] == ',') {
            i++;
            skip_sp(s, n, &i);
            size_t z0 = i;
            while (i < n && s[i] != ']')
                i++;
            size_t z1 = i;
            while (z1 > z0 && (s[z1 - 1] == ' ' || s[z1 - 1] == '\t'))
                z1--;
            if (word_eq(s + z0, z1 - z0, "utc") || word_eq(s + z0, z1 - z0, "z") ||
                word_eq(s + z0, z1 - z0, "+00:00") || word_eq(s + z0, z1 - z0, "etc/utc")) {
                utc = true;
            } else {
                char sz[48];
                shown(s + z0, z1 - z0, sz);
                type_err(errmsg, errlen,
                         "time zone '%s' is not supported in '%s': only UTC (a zoned "
                         "timestamp is stored as a UTC instant: use timestamp[%s, UTC])",
                         sz, sh,
                         unit == SL_UNIT_MS   ? "ms"
                         : unit == SL_UNIT_US ? "us"
                                              : "ns");
                return SL_FORMAT;
            }
        }
        if (i >= n || s[i] != ']' || i + 1 != n)
            goto bad_ts;
        *out = sl_type_timestamp(unit, utc);
        return SL_OK;
    bad_ts:
        type_err(errmsg, errlen,
                 "malformed timestamp type '%s' (expected timestamp, timestamp[ms|us|ns] or "
                 "timestamp[ms|us|ns, UTC])",
                 sh);
        return SL_FORMAT;
    }
    if (word_eq(w, wl, "decimal") || word_eq(w, wl, "numeric")) {
        unsigned p = 0, sc = 0;
        skip_sp(s, n, &i);
        if (i == n) {
            type_err(errmsg, errlen, "'%s' needs a precision: decimal(p,s), e.g. decimal(12,2)",
                     sh);
            return SL_FORMAT;
        }
        if (s[i] != '(')
            goto bad_dec;
        i++;
        skip_sp(s, n, &i);
        if (!small_uint(s, n, &i, &p))
            goto bad_dec;
        skip_sp(s, n, &i);
        if (i < n && s[i] == ',') {
            i++;
            skip_sp(s, n, &i);
            if (!small_uint(s, n, &i, &sc))
                goto bad_dec;
            skip_sp(s, n, &i);
        }
        if (i >= n || s[i] != ')' || i + 1 != n)
            goto bad_dec;
        if (p < 1 || p > SL_DECIMAL_MAX_PRECISION) {
            type_err(errmsg, errlen, "decimal precision %u out of range in '%s' (1..%d)", p, sh,
                     SL_DECIMAL_MAX_PRECISION);
            return SL_FORMAT;
        }
        if (sc > p) {
            type_err(errmsg, errlen, "decimal scale %u greater than the precision %u in '%s'", sc,
                     p, sh);
            return SL_FORMAT;
        }
        *out = sl_type_decimal(p, sc);
        return SL_OK;
    bad_dec:
        type_err(errmsg, errlen,
                 "malformed decimal type '%s' (expected decimal(p,s), e.g. "
                 "decimal(12,2))",
                 sh);
        return SL_FORMAT;
    }
    type_err(errmsg, errlen, "unknown type '%s' (expected one of: " TYPE_LIST ")", sh);
    return SL_FORMAT;
}

/* ---- DOM -> model ---- */

static const jnode *member(const jnode *obj, const char *key)
{
    for (size_t k = 0; k < obj->n; k++)
        if (obj->kids[k].klen == strlen(key) && !memcmp(obj->kids[k].key, key, obj->kids[k].klen))
            return &obj->kids[k];
    return NULL;
}

/* Every key of obj must be one of keys[] (NULL-terminated). */
static bool only_keys(jparser *jp, const jnode *obj, const char *path, const char *const *keys,
                      const char *expected)
{
    for (size_t k = 0; k < obj->n; k++) {
        bool ok = false;
        for (size_t j = 0; keys[j] && !ok; j++)
            ok = obj->kids[k].klen == strlen(keys[j]) &&
                 !memcmp(obj->kids[k].key, keys[j], obj->kids[k].klen);
        if (!ok) {
            char sh[48];
            shown(obj->kids[k].key, obj->kids[k].klen, sh);
            fail(jp, obj->kids[k].kpos, path, "unknown key \"%s\" (expected %s)", sh, expected);
            return false;
        }
    }
    return true;
}

static const sl_field *find_field(const sl_schema *s, const char *name, size_t *idx)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (!strcmp(s->fields[i].name, name)) {
            if (idx)
                *idx = i;
            return &s->fields[i];
        }
    return NULL;
}

static bool field_name(jparser *jp, const jnode *v, const char *path, const char *what)
{
    if (v->type != J_STR) {
        fail(jp, v->pos, path, "expected %s (a string), got %s", what, jtype_names[v->type]);
        return false;
    }
    if (!v->len) {
        fail(jp, v->pos, path, "%s is empty", what);
        return false;
    }
    if (strlen(v->s) != v->len) {
        fail(jp, v->pos, path, "%s contains a NUL character", what);
        return false;
    }
    return true;
}

static bool build_fields(jparser *jp, const jnode *fields, sl_schema *s)
{
    static const char *const keys[] = {"name", "type", "nullable", NULL};
    char path[64], sub[80];
    if (fields->type != J_ARR) {
        fail(jp, fields->pos, "fields", "expected an array of fields, got %s",
             jtype_names[fields->type]);
        return false;
    }
    if (!fields->n) {
        fail(jp, fields->pos, "fields", "no fields: a model needs at least one");
        return false;
    }
    for (size_t k = 0; k < fields->n; k++) {
        const jnode *f = &fields->kids[k];
        snprintf(path, sizeof(path), "fields[%zu]", k);
        if (f->type != J_OBJ) {
            fail(jp, f->pos, path, "expected an object {\"name\": ..., \"type\": ...}, got %s",
                 jtype_names[f->type]);
            return false;
        }
        if (!only_keys(jp, f, path, keys, "name, type, nullable"))
            return false;
        const jnode *name = member(f, "name"), *type = member(f, "type"),
                    *nullable = member(f, "nullable");
        if (!name) {
            fail(jp, f->pos, path, "missing \"name\"");
            return false;
        }
        snprintf(sub, sizeof(sub), "%s.name", path);
        if (!field_name(jp, name, sub, "a field name"))
            return false;
        size_t prev;
        if (find_field(s, name->s, &prev)) {
            char sh[48];
            shown(name->s, name->len, sh);
            fail(jp, name->pos, sub, "duplicate field name \"%s\" (also fields[%zu])", sh, prev);
            return false;
        }
        if (!type) {
            fail(jp, f->pos, path, "missing \"type\"");
            return false;
        }
        snprintf(sub, sizeof(sub), "%s.type", path);
        if (type->type != J_STR) {
            fail(jp, type->pos, sub, "expected a type name (a string), got %s",
                 jtype_names[type->type]);
            return false;
        }
        sl_type t;
        char terr[300];
        if (sl_type_parse(type->s, type->len, &t, terr, sizeof(terr))) {
            fail(jp, type->pos, sub, "%s", terr);
            return false;
        }
        bool nl = true;
        if (nullable) {
            snprintf(sub, sizeof(sub), "%s.nullable", path);
            if (nullable->type != J_TRUE && nullable->type != J_FALSE) {
                fail(jp, nullable->pos, sub, "expected true or false, got %s",
                     jtype_names[nullable->type]);
                return false;
            }
            nl = nullable->type == J_TRUE;
        }
        sl_err err = sl_schema_add(s, name->s, t, nl);
        if (err == SL_NOMEM) {
            fail_nomem(jp);
            return false;
        }
        if (err) {
            fail(jp, f->pos, path, "invalid field (%s)", sl_strerror(err));
            return false;
        }
    }
    return true;
}

static bool build_model(jparser *jp, const jnode *root, sl_model *m)
{
    static const char *const keys[] = {"fields", "event_key", "partition_by", NULL};
    if (root->type != J_OBJ) {
        fail(jp, root->pos, NULL, "a model is a JSON object {\"fields\": [...]}, got %s",
             jtype_names[root->type]);
        return false;
    }
    if (!only_keys(jp, root, NULL, keys, "fields, event_key, partition_by"))
        return false;
    const jnode *fields = member(root, "fields"), *key = member(root, "event_key"),
                *part = member(root, "partition_by");
    if (!fields) {
        fail(jp, root->pos, NULL, "missing \"fields\"");
        return false;
    }
    if (!build_fields(jp, fields, m->schema))
        return false;
    if (key && key->type != J_NULL) {
        if (!field_name(jp, key, "event_key", "a field name"))
            return false;
        if (!find_field(m->schema, key->s, NULL)) {
            char sh[48];
            shown(key->s, key->len, sh);
            fail(jp, key->pos, "event_key", "no field named \"%s\"", sh);
            return false;
        }
        m->event_key = strdup(key->s);
        if (!m->event_key) {
            fail_nomem(jp);
            return false;
        }
    }
    if (part && part->type != J_NULL) {
        if (part->type != J_ARR) {
            fail(jp, part->pos, "partition_by", "expected an array of field names, got %s",
                 jtype_names[part->type]);
            return false;
        }
        m->partition_by = calloc(part->n ? part->n : 1, sizeof(char *));
        if (!m->partition_by) {
            fail_nomem(jp);
            return false;
        }
        for (size_t k = 0; k < part->n; k++) {
            const jnode *v = &part->kids[k];
            char path[48];
            snprintf(path, sizeof(path), "partition_by[%zu]", k);
            if (!field_name(jp, v, path, "a field name"))
                return false;
            char sh[48];
            shown(v->s, v->len, sh);
            if (!find_field(m->schema, v->s, NULL)) {
                fail(jp, v->pos, path, "no field named \"%s\"", sh);
                return false;
            }
            for (size_t j = 0; j < m->npartition_by; j++)
                if (!strcmp(m->partition_by[j], v->s)) {
                    fail(jp, v->pos, path, "\"%s\" is listed twice", sh);
                    return false;
                }
            m->partition_by[m->npartition_by] = strdup(v->s);
            if (!m->partition_by[m->npartition_by]) {
                fail_nomem(jp);
                return false;
            }
            m->npartition_by++;
        }
    }
    return true;
}

void sl_model_destroy(sl_model *m)
{
    if (!m)
        return;
    sl_schema_destroy(m->schema);
    free(m->event_key);
    for (size_t i = 0; i < m->npartition_by; i++)
        free(m->partition_by[i]);
    free(m->partition_by);
    free(m);
}

sl_err sl_model_from_json(const char *text, size_t n, sl_model **out, char *errmsg, size_t errlen)
{
    jparser jp = {(const uint8_t *)text, n, 0, SL_OK, errmsg, errlen};
    if (errmsg && errlen)
        errmsg[0] = 0;
    sl_model *m = calloc(1, sizeof(*m));
    if (!m) {
        fail_nomem(&jp);
        return jp.err;
    }
    if (sl_schema_create(&m->schema)) {
        free(m);
        fail_nomem(&jp);
        return jp.err;
    }
    jnode root;
    /* a UTF-8 byte order mark is tolerated: editors on some systems write one */
    if (n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        jp.i = 3;
    if (parse_value(&jp, &root, 0)) {
        skip_ws(&jp);
        if (jp.i < jp.n)
            fail(&jp, jp.i, NULL, "text after the end of the JSON value");
        else
            build_model(&jp, &root, m);
    }
    jnode_free(&root);
    if (jp.err) {
        sl_model_destroy(m);
        return jp.err;
    }
    *out = m;
    return SL_OK;
}

sl_err sl_schema_from_json(const char *text, size_t n, sl_schema **out, char *errmsg, size_t errlen)
{
    sl_model *m;
    sl_err err = sl_model_from_json(text, n, &m, errmsg, errlen);
    if (err)
        return err;
    *out = m->schema;
    m->schema = NULL;
    sl_model_destroy(m);
    return SL_OK;
}

/* ---- model -> JSON text ---- */

static bool valid_utf8(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = sl_utf8_seq(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static sl_err put_name(sl_buf *b, const char *s)
{
    if (!valid_utf8(s))
        return SL_INVALID;
    return sl_buf_json_str(b, s, strlen(s));
}

static sl_err put_schema(sl_buf *b, const sl_schema *s)
{
    sl_err err = sl_buf_puts(b, "{\"fields\":[");
    for (size_t i = 0; i < s->nfields && !err; i++) {
        const sl_field *f = &s->fields[i];
        char tn[64];
        sl_type_format(f->type, tn, sizeof(tn));
        err = sl_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        if (!err)
            err = put_name(b, f->name);
        if (!err)
            err = sl_buf_printf(b, ",\"type\":\"%s\",\"nullable\":%s}", tn,
                                f->nullable ? "true" : "false");
    }
    if (!err)
        err = sl_buf_puts(b, "]");
    return err;
}

static sl_err finish(sl_buf *b, sl_err err, char **out)
{
    if (!err)
        err = sl_buf_puts(b, "}");
    if (!err)
        err = sl_buf_putc(b, 0);
    if (err) {
        sl_buf_release(b);
        return err;
    }
    *out = (char *)sl_buf_take(b, NULL);
    return SL_OK;
}

sl_err sl_schema_to_json(const sl_schema *schema, char **out)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    return finish(&b, put_schema(&b, schema), out);
}

sl_err sl_model_to_json(const sl_model *m, char **out)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_err err = put_schema(&b, m->schema);
    if (!err && m->event_key) {
        err = sl_buf_puts(&b, ",\"event_key\":");
        if (!err)
            err = put_name(&b, m->event_key);
    }
    if (!err && m->npartition_by) {
        err = sl_buf_puts(&b, ",\"partition_by\":[");
        for (size_t i = 0; i < m->npartition_by && !err; i++) {
            if (i)
                err = sl_buf_putc(&b, ',');
            if (!err)
                err = put_name(&b, m->partition_by[i]);
        }
        if (!err)
            err = sl_buf_putc(&b, ']');
    }
    return finish(&b, err, out);
}
