/* sigv4.c: AWS Signature Version 4 (see sigv4.h).
 *
 * canonical request = METHOD \n encoded-path \n canonical-query \n
 *                     (lower-name:normalised-value \n)* \n signed-headers \n payload-hash
 * string to sign    = "AWS4-HMAC-SHA256" \n amz-date \n date/region/service/aws4_request \n
 *                     hex(sha256(canonical request))
 * signing key       = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
 * signature         = hex(HMAC(signing key, string to sign))
 */
#include "sink/s3/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define MAX_HEADERS 32

static const char hexdig[] = "0123456789ABCDEF";
static const char hexlow[] = "0123456789abcdef";

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

sl_err sl_sigv4_uri_encode(sl_buf *out, const char *s, size_t n, bool keep_slash)
{
    sl_err err = sl_buf_reserve(out, n * 3);
    if (err)
        return err;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            out->ptr[out->len++] = c;
        } else {
            out->ptr[out->len++] = '%';
            out->ptr[out->len++] = (uint8_t)hexdig[c >> 4];
            out->ptr[out->len++] = (uint8_t)hexdig[c & 15];
        }
    }
    return SL_OK;
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexlow[p[i] >> 4];
        out[2 * i + 1] = hexlow[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void sl_sigv4_sha256_hex(const void *data, size_t n, char hex[65])
{
    uint8_t md[32];
    SHA256(data, n, md);
    to_hex(md, 32, hex);
}

/* Compares two encoded strings byte-wise (the canonical order is by code point of the
 * encoded form). */
static int cmp_enc(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

sl_err sl_sigv4_canonical_query(sl_buf *out, const sl_sigv4_kv *q, size_t n)
{
    if (n == 0)
        return SL_OK;
    /* encode every pair into one scratch buffer, then emit them in sorted order */
    sl_buf tmp;
    sl_buf_init(&tmp, 0);
    size_t offs[64][3]; /* name start, value start, end */
    sl_err err = n > 64 ? SL_INVALID : sl_buf_reserve(&tmp, 64); /* ptr never NULL below */
    for (size_t i = 0; !err && i < n; i++) {
        offs[i][0] = tmp.len;
        err = sl_sigv4_uri_encode(&tmp, q[i].name, strlen(q[i].name), false);
        offs[i][1] = tmp.len;
        if (!err && q[i].value)
            err = sl_sigv4_uri_encode(&tmp, q[i].value, strlen(q[i].value), false);
        offs[i][2] = tmp.len;
    }
    size_t order[64];
    for (size_t i = 0; !err && i < n; i++) {
        size_t j = i;
        order[i] = i;
        while (j > 0) {
            size_t a = order[j - 1], b = order[j];
            int c = cmp_enc(tmp.ptr + offs[a][0], offs[a][1] - offs[a][0], tmp.ptr + offs[b][0],
                            offs[b][1] - offs[b][0]);
            if (!c)
                c = cmp_enc(tmp.ptr + offs[a][1], offs[a][2] - offs[a][1], tmp.ptr + offs[b][1],
                            offs[b][2] - offs[b][1]);
            if (c <= 0)
                break;
            order[j - 1] = b;
            order[j] = a;
            j--;
        }
    }
    for (size_t i = 0; !err && i < n; i++) {
        size_t k = order[i];
        if (i)
            err = sl_buf_putc(out, '&');
        if (!err)
            err = sl_buf_append(out, tmp.ptr + offs[k][0], offs[k][1] - offs[k][0]);
        if (!err)
            err = sl_buf_putc(out, '=');
        if (!err)
            err = sl_buf_append(out, tmp.ptr + offs[k][1], offs[k][2] - offs[k][1]);
    }
    sl_buf_release(&tmp);
    return err;
}

/* Appends a header value trimmed, with runs of blanks collapsed to one space. */
static sl_err put_value(sl_buf *out, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    bool blank = false;
    sl_err err = SL_OK;
    for (; !err && *v; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') {
            blank = true;
            continue;
        }
        if (blank)
            err = sl_buf_putc(out, ' ');
        blank = false;
        if (!err)
            err = sl_buf_putc(out, (uint8_t)*v);
    }
    return err;
}

sl_err sl_sigv4_canonical_request(sl_buf *out, const sl_sigv4_request *r, char *signed_headers,
                                  size_t shn)
{
    if (r->nheaders > MAX_HEADERS || shn == 0)
        return SL_INVALID;
    /* stable insertion sort of the headers by lower-case name: values of a repeated header
     * keep their order */
    size_t order[MAX_HEADERS];
    for (size_t i = 0; i < r->nheaders; i++) {
        size_t j = i;
        order[i] = i;
        while (j > 0 && strcasecmp(r->headers[order[j - 1]].name, r->headers[order[j]].name) > 0) {
            size_t t = order[j - 1];
            order[j - 1] = order[j];
            order[j] = t;
            j--;
        }
    }
    sl_err err = sl_buf_puts(out, r->method);
    if (!err)
        err = sl_buf_putc(out, '\n');
    if (!err)
        err = sl_sigv4_uri_encode(out, r->path, strlen(r->path), true);
    if (!err)
        err = sl_buf_putc(out, '\n');
    if (!err)
        err = sl_sigv4_canonical_query(out, r->query, r->nquery);
    if (!err)
        err = sl_buf_putc(out, '\n');
    size_t sl = 0;
    signed_headers[0] = '\0';
    for (size_t i = 0; !err && i < r->nheaders; i++) {
        const sl_sigv4_kv *h = &r->headers[order[i]];
        bool same = i > 0 && !strcasecmp(r->headers[order[i - 1]].name, h->name);
        if (same) {
            /* out ends with "\n": replace it with ',' and append this value */
            out->len--;
            err = sl_buf_putc(out, ',');
        } else {
            size_t nl = strlen(h->name);
            if (sl + nl + 2 > shn)
                return SL_INVALID;
            if (sl)
                signed_headers[sl++] = ';';
            for (size_t k = 0; k < nl; k++) {
                char c = (char)tolower((unsigned char)h->name[k]);
                signed_headers[sl++] = c;
                if (!err)
                    err = sl_buf_putc(out, (uint8_t)c);
            }
            signed_headers[sl] = '\0';
            if (!err)
                err = sl_buf_putc(out, ':');
        }
        if (!err)
            err = put_value(out, h->value);
        if (!err)
            err = sl_buf_putc(out, '\n');
    }
    if (!err)
        err = sl_buf_printf(out, "\n%s\n%s", signed_headers, r->payload_hash);
    return err;
}

static void scope(const sl_sigv4_creds *c, char *out, size_t n)
{
    snprintf(out, n, "%.8s/%s/%s/aws4_request", c->amz_date, c->region, c->service);
}

sl_err sl_sigv4_string_to_sign(sl_buf *out, const sl_sigv4_creds *c, const char *creq,
                               size_t creq_len)
{
    char hex[65], sc[256];
    sl_sigv4_sha256_hex(creq, creq_len, hex);
    scope(c, sc, sizeof(sc));
    return sl_buf_printf(out, "AWS4-HMAC-SHA256\n%s\n%s\n%s", c->amz_date, sc, hex);
}

static sl_err hmac(const uint8_t *key, size_t kn, const void *d, size_t n, uint8_t out[32])
{
    unsigned len = 32;
    if (!HMAC(EVP_sha256(), key, (int)kn, d, n, out, &len) || len != 32)
        return SL_IO;
    return SL_OK;
}

sl_err sl_sigv4_signing_key(const sl_sigv4_creds *c, uint8_t key[32])
{
    char k0[300];
    int kn = snprintf(k0, sizeof(k0), "AWS4%s", c->secret_key);
    if (kn < 0 || (size_t)kn >= sizeof(k0))
        return SL_INVALID;
    uint8_t a[32], b[32];
    sl_err err = hmac((const uint8_t *)k0, (size_t)kn, c->amz_date, strnlen(c->amz_date, 8), a);
    if (!err)
        err = hmac(a, 32, c->region, strlen(c->region), b);
    if (!err)
        err = hmac(b, 32, c->service, strlen(c->service), a);
    if (!err)
        err = hmac(a, 32, "aws4_request", 12, key);
    memset(k0, 0, sizeof(k0));
    return err;
}

sl_err sl_sigv4_sign(const sl_sigv4_request *r, const sl_sigv4_creds *c, char *auth,
                     size_t authn, sl_buf *creq_out, sl_buf *sts_out)
{
    sl_buf creq, sts;
    sl_buf_init(&creq, 0);
    sl_buf_init(&sts, 0);
    char sh[1024];
    uint8_t key[32], sig[32];
    char sighex[65], sc[256];
    sl_err err = sl_sigv4_canonical_request(&creq, r, sh, sizeof(sh));
    if (!err)
        err = sl_sigv4_string_to_sign(&sts, c, (const char *)creq.ptr, creq.len);
    if (!err)
        err = sl_sigv4_signing_key(c, key);
    if (!err)
        err = hmac(key, 32, sts.ptr, sts.len, sig);
    if (!err) {
        to_hex(sig, 32, sighex);
        scope(c, sc, sizeof(sc));
        int n = snprintf(auth, authn,
                         "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                         c->access_key, sc, sh, sighex);
        if (n < 0 || (size_t)n >= authn)
            err = SL_INVALID;
    }
    if (!err && creq_out) {
        creq_out->len = 0;
        err = sl_buf_append(creq_out, creq.ptr, creq.len);
    }
    if (!err && sts_out) {
        sts_out->len = 0;
        err = sl_buf_append(sts_out, sts.ptr, sts.len);
    }
    memset(key, 0, sizeof(key));
    sl_buf_release(&creq);
    sl_buf_release(&sts);
    return err;
}

void sl_sigv4_amz_date(int64_t t, char out[17])
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}
