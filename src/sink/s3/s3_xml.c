/* s3_xml.c: element lookup and entity decoding for S3 answers (see s3_xml.h). */
#include "sink/s3/s3_xml.h"

#include <stdint.h>
#include <string.h>

static const char *find(const char *h, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0 || hn < nn)
        return NULL;
    for (size_t i = 0; i + nn <= hn; i++) {
        const char *p = memchr(h + i, needle[0], hn - nn - i + 1);
        if (!p)
            return NULL;
        if (!memcmp(p, needle, nn))
            return p;
        i = (size_t)(p - h);
    }
    return NULL;
}

bool sl_s3_xml_next(const char *x, size_t n, const char *tag, size_t *pos, const char **body,
                    size_t *blen)
{
    size_t tl = strlen(tag);
    if (tl == 0 || tl > 64)
        return false;
    size_t i = *pos;
    while (i < n) {
        const char *lt = memchr(x + i, '<', n - i);
        if (!lt)
            return false;
        size_t at = (size_t)(lt - x);
        i = at + 1;
        if (n - i < tl + 1 || memcmp(x + i, tag, tl))
            continue;
        char after = x[i + tl];
        if (after != '>' && after != '/' && after != ' ' && after != '\t' && after != '\n' &&
            after != '\r')
            continue;
        const char *gt = memchr(x + i + tl, '>', n - i - tl);
        if (!gt)
            return false;
        size_t start = (size_t)(gt - x) + 1;
        if (gt[-1] == '/') { /* <tag/> */
            *body = x + start;
            *blen = 0;
            *pos = start;
            return true;
        }
        char close[70];
        close[0] = '<';
        close[1] = '/';
        memcpy(close + 2, tag, tl);
        close[tl + 2] = '>';
        const char *end = find(x + start, n - start, close, tl + 3);
        if (!end)
            return false;
        *body = x + start;
        *blen = (size_t)(end - (x + start));
        *pos = (size_t)(end - x) + tl + 3;
        return true;
    }
    return false;
}

static void put_utf8(char *out, size_t outn, size_t *o, uint32_t cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (*o + k < outn) {
        memcpy(out + *o, b, k);
        *o += k;
    }
}

size_t sl_s3_xml_decode(const char *s, size_t n, char *out, size_t outn)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    size_t o = 0;
    if (outn == 0)
        return 0;
    for (size_t i = 0; i < n && o + 1 < outn; i++) {
        if (s[i] != '&') {
            out[o++] = s[i];
            continue;
        }
        bool done = false;
        for (size_t e = 0; e < sizeof(ents) / sizeof(ents[0]) && !done; e++) {
            size_t l = strlen(ents[e].name);
            if (n - i - 1 >= l && !memcmp(s + i + 1, ents[e].name, l)) {
                out[o++] = ents[e].c;
                i += l;
                done = true;
            }
        }
        if (!done && i + 2 < n && s[i + 1] == '#') {
            bool hex = s[i + 2] == 'x' || s[i + 2] == 'X';
            size_t j = i + (hex ? 3 : 2);
            uint32_t cp = 0;
            size_t digits = 0;
            for (; j < n && digits < 8; j++, digits++) {
                char c = s[j];
                uint32_t d;
                if (c >= '0' && c <= '9')
                    d = (uint32_t)(c - '0');
                else if (hex && (c | 32) >= 'a' && (c | 32) <= 'f')
                    d = (uint32_t)((c | 32) - 'a' + 10);
                else
                    break;
                cp = cp * (hex ? 16u : 10u) + d;
            }
            if (digits && j < n && s[j] == ';' && cp > 0 && cp <= 0x10ffff &&
                !(cp >= 0xd800 && cp <= 0xdfff)) {
                put_utf8(out, outn, &o, cp);
                i = j;
                done = true;
            }
        }
        if (!done)
            out[o++] = '&';
    }
    out[o] = '\0';
    return o;
}

bool sl_s3_xml_text(const char *x, size_t n, const char *tag, char *out, size_t outn)
{
    size_t pos = 0, bl;
    const char *b;
    if (outn)
        out[0] = '\0';
    if (!sl_s3_xml_next(x, n, tag, &pos, &b, &bl))
        return false;
    sl_s3_xml_decode(b, bl, out, outn);
    return true;
}
