/* sigv4.h: AWS Signature Version 4 for S3 requests (pure functions, no I/O).
 *
 * A request is described by its method, its raw (not yet encoded) path, its query parameters
 * as raw name/value pairs and the headers to sign. sl_sigv4_sign() builds the canonical
 * request, the string to sign, the signing key and the Authorization header value; the
 * intermediate steps are exported so tests can compare each against AWS's published vectors.
 *
 * Encoding follows S3's rules, which differ from the generic SigV4 test suite in one way: the
 * path is encoded once (each byte except A-Z a-z 0-9 - . _ ~ and '/' becomes %XX, upper-case
 * hex) and never normalised ("a/./b" and "a//b" are distinct S3 keys). The same encoded path
 * and query (sl_sigv4_uri_encode, sl_sigv4_canonical_query) must be what goes on the wire.
 *
 * Every function writes into caller buffers or an sl_buf and allocates nothing else; all are
 * thread-safe.
 */
#ifndef SL_SINK_S3_SIGV4_H
#define SL_SINK_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"
#include "util/buf.h"

#define SL_SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string, the payload hash of a request without a body */
#define SL_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct {
    const char *name;  /* any case; compared and signed lower-cased */
    const char *value; /* raw; leading/trailing blanks trimmed and inner runs collapsed */
} sl_sigv4_kv;

typedef struct {
    const char *method;           /* "GET", "PUT", ... */
    const char *path;             /* raw path starting with '/', e.g. "/bucket/a b=c.parquet" */
    const sl_sigv4_kv *query;     /* raw names and values (value NULL = "") */
    size_t nquery;
    const sl_sigv4_kv *headers;   /* every header to sign, Host included; duplicates joined */
    size_t nheaders;
    const char *payload_hash;     /* hex SHA-256 of the body, or SL_SIGV4_UNSIGNED */
} sl_sigv4_request;

typedef struct {
    const char *access_key;
    const char *secret_key;
    const char *region;   /* "us-east-1" */
    const char *service;  /* "s3" */
    const char *amz_date; /* "YYYYMMDDTHHMMSSZ" (UTC), the X-Amz-Date header */
} sl_sigv4_creds;

/* Appends s[0..n) percent-encoded: every byte except A-Z a-z 0-9 - . _ ~ (and '/' when
 * keep_slash) becomes %XX with upper-case hex. */
SL_NODISCARD sl_err sl_sigv4_uri_encode(sl_buf *out, const char *s, size_t n, bool keep_slash);

/* Appends the canonical query string: names and values encoded (keep_slash false), sorted by
 * name then value, joined with '&' ("a=1&b=" for an empty or NULL value). This string is also
 * the query to send. */
SL_NODISCARD sl_err sl_sigv4_canonical_query(sl_buf *out, const sl_sigv4_kv *q, size_t n);

/* Appends the canonical request, and writes the signed-headers list ("host;x-amz-date") to
 * signed_headers. SL_INVALID: more than 32 headers, or signed_headers too small. */
SL_NODISCARD sl_err sl_sigv4_canonical_request(sl_buf *out, const sl_sigv4_request *r,
                                               char *signed_headers, size_t shn);

/* Appends the string to sign for a canonical request. */
SL_NODISCARD sl_err sl_sigv4_string_to_sign(sl_buf *out, const sl_sigv4_creds *c,
                                            const char *creq, size_t creq_len);

/* The signing key: HMAC chain over "AWS4"+secret, date (first 8 chars of amz_date), region,
 * service, "aws4_request". SL_IO if OpenSSL fails. */
SL_NODISCARD sl_err sl_sigv4_signing_key(const sl_sigv4_creds *c, uint8_t key[32]);

/* Lower-case hex SHA-256 of data into hex[65]. */
void sl_sigv4_sha256_hex(const void *data, size_t n, char hex[65]);

/* Signs r: writes the Authorization header value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=...") to auth. With creq/sts non-NULL the canonical request and
 * string to sign are left there (for error messages and tests). */
SL_NODISCARD sl_err sl_sigv4_sign(const sl_sigv4_request *r, const sl_sigv4_creds *c, char *auth,
                                  size_t authn, sl_buf *creq, sl_buf *sts);

/* Formats t (seconds since the epoch, UTC) as "YYYYMMDDTHHMMSSZ" into out[17]. */
void sl_sigv4_amz_date(int64_t t, char out[17]);

#endif
