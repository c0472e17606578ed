/* json_scan.c: see json_scan.h. A recursive-descent skipper (depth-capped) used both to validate
 * a document and, on a validated span, to step over member values. */
#include "util/json_scan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BAD SIZE_MAX

typedef struct {
    const char *p;
    size_t n;
    size_t errpos;
    const char *errmsg;
} scan;

static size_t fail_at(scan *s, size_t i, const char *msg)
{
    if (!s->errmsg) {
        s->errpos = i;
        s->errmsg = msg;
    }
    return BAD;
}

static size_t ws(const scan *s, size_t i)
{
    while (i < s->n && (s->p[i] == ' ' || s->p[i] == '\t' || s->p[i] == '\n' || s->p[i] == '\r'))
        i++;
    return i;
}

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

static bool hex4(const char *p, size_t avail, unsigned *out)
{
    if (avail < 4)
        return false;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p[k]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

/* Length of a valid UTF-8 sequence at p (1-4), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (avail < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (p[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

static size_t skip_string(scan *s, size_t i)
{
    /* s->p[i] == '"' */
    i++;
    while (i < s->n) {
        unsigned char c = (unsigned char)s->p[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return fail_at(s, i, "control character in a string (escape it)");
        if (c == '\\') {
            if (i + 1 >= s->n)
                break;
            char e = s->p[i + 1];
            if (e == 'u') {
                unsigned u;
                if (!hex4(s->p + i + 2, s->n - i - 2, &u))
                    return fail_at(s, i, "bad \\u escape (4 hex digits expected)");
                i += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == 0)
                return fail_at(s, i, "unknown escape in a string");
            i += 2;
            continue;
        }
        size_t l = utf8_len((const unsigned char *)s->p + i, s->n - i);
        if (!l)
            return fail_at(s, i, "invalid UTF-8 in a string");
        i += l;
    }
    return fail_at(s, i, "unterminated string");
}

static size_t skip_number(scan *s, size_t i)
{
    size_t st = i;
    if (i < s->n && s->p[i] == '-')
        i++;
    if (i >= s->n || s->p[i] < '0' || s->p[i] > '9')
        return fail_at(s, st, "invalid number");
    if (s->p[i] == '0')
        i++;
    else
        while (i < s->n && s->p[i] >= '0' && s->p[i] <= '9')
            i++;
    if (i < s->n && s->p[i] == '.') {
        i++;
        if (i >= s->n || s->p[i] < '0' || s->p[i] > '9')
            return fail_at(s, i, "digit expected after '.'");
        while (i < s->n && s->p[i] >= '0' && s->p[i] <= '9')
            i++;
    }
    if (i < s->n && (s->p[i] == 'e' || s->p[i] == 'E')) {
        i++;
        if (i < s->n && (s->p[i] == '+' || s->p[i] == '-'))
            i++;
        if (i >= s->n || s->p[i] < '0' || s->p[i] > '9')
            return fail_at(s, i, "digit expected in the exponent");
        while (i < s->n && s->p[i] >= '0' && s->p[i] <= '9')
            i++;
    }
    return i;
}

static size_t skip_lit(scan *s, size_t i, const char *lit)
{
    size_t l = strlen(lit);
    if (s->n - i < l || memcmp(s->p + i, lit, l))
        return fail_at(s, i, "unexpected character (a value was expected)");
    return i + l;
}

/* Skips the value at p[i] (no leading whitespace); returns the index after it or BAD. */
static size_t skip_value(scan *s, size_t i, int depth)
{
    if (i >= s->n)
        return fail_at(s, i, "unexpected end of input (a value was expected)");
    char c = s->p[i];
    switch (c) {
    case '"':
        return skip_string(s, i);
    case 't':
        return skip_lit(s, i, "true");
    case 'f':
        return skip_lit(s, i, "false");
    case 'n':
        return skip_lit(s, i, "null");
    case '{':
    case '[': {
        if (depth >= SL_JSCAN_MAX_DEPTH)
            return fail_at(s, i, "nested too deeply");
        char close = c == '{' ? '}' : ']';
        i = ws(s, i + 1);
        if (i < s->n && s->p[i] == close)
            return i + 1;
        for (;;) {
            if (c == '{') {
                if (i >= s->n || s->p[i] != '"')
                    return fail_at(s, i, "a member name (string) was expected");
                i = skip_string(s, i);
                if (i == BAD)
                    return BAD;
                i = ws(s, i);
                if (i >= s->n || s->p[i] != ':')
                    return fail_at(s, i, "':' expected after a member name");
                i = ws(s, i + 1);
            }
            i = skip_value(s, i, depth + 1);
            if (i == BAD)
                return BAD;
            i = ws(s, i);
            if (i < s->n && s->p[i] == ',') {
                i = ws(s, i + 1);
                continue;
            }
            if (i < s->n && s->p[i] == close)
                return i + 1;
            return fail_at(s, i, c == '{' ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return skip_number(s, i);
        return fail_at(s, i, "unexpected character (a value was expected)");
    }
}

bool sl_jscan_valid(const char *p, size_t n, sl_jspan *root, size_t *errpos, const char **errmsg)
{
    scan s = {p, n, 0, NULL};
    size_t i = ws(&s, 0);
    size_t st = i;
    size_t e = skip_value(&s, i, 0);
    if (e != BAD) {
        size_t end = ws(&s, e);
        if (end != n)
            e = fail_at(&s, end, "unexpected text after the JSON value");
        else if (root) {
            root->p = p + st;
            root->n = e - st;
        }
    }
    if (e == BAD) {
        if (errpos)
            *errpos = s.errpos;
        if (errmsg)
            *errmsg = s.errmsg;
        return false;
    }
    return true;
}

sl_jtype sl_jscan_type(sl_jspan v)
{
    if (!v.p || !v.n)
        return SL_JS_INVALID;
    switch (v.p[0]) {
    case '{':
        return SL_JS_OBJECT;
    case '[':
        return SL_JS_ARRAY;
    case '"':
        return SL_JS_STRING;
    case 't':
    case 'f':
        return SL_JS_BOOL;
    case 'n':
        return SL_JS_NULL;
    default:
        return (v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9')) ? SL_JS_NUMBER
                                                                   : SL_JS_INVALID;
    }
}

bool sl_jscan_next(sl_jspan c, size_t *it, sl_jspan *key, sl_jspan *val)
{
    sl_jtype t = sl_jscan_type(c);
    if (t != SL_JS_OBJECT && t != SL_JS_ARRAY)
        return false;
    scan s = {c.p, c.n, 0, NULL};
    size_t i = *it ? *it : 1;
    i = ws(&s, i);
    if (i >= c.n || c.p[i] == '}' || c.p[i] == ']')
        return false;
    if (t == SL_JS_OBJECT) {
        size_t ks = i;
        if (c.p[i] != '"')
            return false;
        i = skip_string(&s, i);
        if (i == BAD)
            return false;
        if (key) {
            key->p = c.p + ks;
            key->n = i - ks;
        }
        i = ws(&s, i);
        if (i >= c.n || c.p[i] != ':')
            return false;
        i = ws(&s, i + 1);
    } else if (key) {
        key->p = NULL;
        key->n = 0;
    }
    size_t vs = i;
    i = skip_value(&s, i, 0);
    if (i == BAD)
        return false;
    if (val) {
        val->p = c.p + vs;
        val->n = i - vs;
    }
    i = ws(&s, i);
    if (i < c.n && c.p[i] == ',')
        i++;
    *it = i;
    return true;
}

bool sl_jscan_key_is(sl_jspan key, const char *s)
{
    size_t l = strlen(s);
    return key.n == l + 2 && key.p[0] == '"' && !memcmp(key.p + 1, s, l);
}

bool sl_jscan_get(sl_jspan obj, const char *key, sl_jspan *out)
{
    if (sl_jscan_type(obj) != SL_JS_OBJECT)
        return false;
    size_t it = 0;
    sl_jspan k, v;
    while (sl_jscan_next(obj, &it, &k, &v))
        if (sl_jscan_key_is(k, key)) {
            if (out)
                *out = v;
            return true;
        }
    return false;
}

static bool put_utf8(char *out, size_t n, size_t *o, unsigned cp)
{
    char tmp[4];
    size_t l;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        l = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | cp >> 6);
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        l = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | cp >> 12);
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        l = 3;
    } else {
        tmp[0] = (char)(0xF0 | cp >> 18);
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        l = 4;
    }
    if (*o + l >= n)
        return false;
    memcpy(out + *o, tmp, l);
    *o += l;
    return true;
}

bool sl_jscan_str(sl_jspan v, char *out, size_t n)
{
    if (!n || sl_jscan_type(v) != SL_JS_STRING || v.n < 2 || v.p[v.n - 1] != '"')
        return false;
    size_t o = 0;
    for (size_t i = 1; i + 1 < v.n;) {
        char c = v.p[i];
        if (c != '\\') {
            if (c == 0 || o + 1 >= n)
                return false;
            out[o++] = c;
            i++;
            continue;
        }
        if (i + 2 >= v.n)
            return false;
        char e = v.p[i + 1];
        unsigned cp;
        if (e == 'u') {
            if (!hex4(v.p + i + 2, v.n - 1 - (i + 2), &cp))
                return false;
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
                unsigned lo;
                if (i + 6 < v.n && v.p[i] == '\\' && v.p[i + 1] == 'u' &&
                    hex4(v.p + i + 2, v.n - 1 - (i + 2), &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            if (cp == 0 || !put_utf8(out, n, &o, cp))
                return false;
            continue;
        }
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, e);
        if (!k || !e || o + 1 >= n)
            return false;
        out[o++] = to[k - from];
        i += 2;
    }
    out[o] = 0;
    return true;
}

bool sl_jscan_i64(sl_jspan v, int64_t *out)
{
    if (sl_jscan_type(v) != SL_JS_NUMBER || v.n > 24)
        return false;
    char tmp[32];
    memcpy(tmp, v.p, v.n);
    tmp[v.n] = 0;
    if (strpbrk(tmp, ".eE"))
        return false;
    errno = 0;
    char *end;
    long long x = strtoll(tmp, &end, 10);
    if (errno || *end)
        return false;
    *out = x;
    return true;
}

bool sl_jscan_f64(sl_jspan v, double *out)
{
    if (sl_jscan_type(v) != SL_JS_NUMBER || v.n > 63)
        return false;
    char tmp[64];
    memcpy(tmp, v.p, v.n);
    tmp[v.n] = 0;
    char *end;
    double d = strtod(tmp, &end);
    if (*end)
        return false;
    *out = d;
    return true;
}
