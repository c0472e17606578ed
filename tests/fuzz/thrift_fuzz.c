/* thrift_fuzz.c: libFuzzer target for the Parquet Thrift decoders (src/encode/parquet/
 * pq_meta.c on top of thrift.c).
 *
 * The first input byte picks the structure (low two bits): 0 FileMetaData, 1 PageHeader,
 * 2 ColumnIndex, 3 OffsetIndex; the rest is decoded as that structure. Whatever decodes must
 * survive a round trip:
 *     decode(input) = A;  encode(A) = E1;  decode(E1) = B;  A == B field by field;
 *     encode(B) = E2;  E1 == E2 byte for byte.
 * Decoding arbitrary bytes must never crash, leak, read out of bounds (ASan), hit undefined
 * behaviour (UBSan) or allocate without bound (libFuzzer's -rss_limit_mb / -malloc_limit_mb);
 * failures must come with an error message. Any violated property aborts with a description.
 *
 * Build and run: see tests/fuzz/README.md. Seeds: tests/fuzz/corpus/thrift/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/pq_meta_eq.h"
#include "encode/parquet/pq_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what, const char *detail)
{
    if (ok)
        return;
    fprintf(stderr, "thrift_fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_same_bytes(const sl_buf *a, const sl_buf *b)
{
    check(a->len == b->len && (a->len == 0 || !memcmp(a->ptr, b->ptr, a->len)),
          "re-encoding differs from the first encoding", NULL);
}

static void fuzz_meta(const uint8_t *p, size_t n)
{
    sl_pq_meta a, b;
    char msg[256];
    sl_err err = sl_pq_meta_decode(p, n, &a, msg, sizeof(msg));
    if (err) {
        check(err == SL_FORMAT || err == SL_NOMEM, "unexpected error code", sl_strerror(err));
        check(msg[0] != '\0', "error without a message", NULL);
        check(a.arena == NULL && a.schema == NULL && a.row_groups == NULL,
              "failed decode left data behind", NULL);
        return;
    }
    sl_buf e1, e2;
    sl_buf_init(&e1, 0);
    sl_buf_init(&e2, 0);
    err = sl_pq_meta_encode(&a, &e1);
    check(err == SL_OK, "encoding a decoded FileMetaData failed", sl_strerror(err));
    err = sl_pq_meta_decode(e1.ptr, e1.len, &b, msg, sizeof(msg));
    check(err == SL_OK, "decoding our own encoding failed", msg);
    check(pq_meta_diff(&a, &b) == NULL, "FileMetaData differs after a round trip",
          pq_meta_diff(&a, &b));
    err = sl_pq_meta_encode(&b, &e2);
    check(err == SL_OK, "second encoding failed", sl_strerror(err));
    check_same_bytes(&e1, &e2);
    sl_pq_meta_release(&a);
    sl_pq_meta_release(&b);
    sl_buf_release(&e1);
    sl_buf_release(&e2);
}

static void fuzz_page_header(const uint8_t *p, size_t n)
{
    sl_pq_page_header a, b;
    size_t used = 0, used2 = 0;
    if (sl_pq_page_header_decode(p, n, &a, &used) != SL_OK) {
        check(used == 0, "failed decode reported a length", NULL);
        return;
    }
    check(used > 0 && used <= n, "page header length out of range", NULL);
    sl_buf e1, e2;
    sl_buf_init(&e1, 0);
    sl_buf_init(&e2, 0);
    check(sl_pq_page_header_encode(&a, &e1) == SL_OK, "encoding a page header failed", NULL);
    check(sl_pq_page_header_decode(e1.ptr, e1.len, &b, &used2) == SL_OK,
          "decoding our own page header failed", NULL);
    check(used2 == e1.len, "page header length differs after a round trip", NULL);
    check(pq_page_header_diff(&a, &b) == NULL, "page header differs after a round trip",
          pq_page_header_diff(&a, &b));
    check(sl_pq_page_header_encode(&b, &e2) == SL_OK, "second page header encoding failed", NULL);
    check_same_bytes(&e1, &e2);
    sl_buf_release(&e1);
    sl_buf_release(&e2);
}

static void fuzz_column_index(const uint8_t *p, size_t n)
{
    sl_pq_column_index a, b;
    if (sl_pq_column_index_decode(p, n, &a) != SL_OK) {
        check(a.arena == NULL && a.npages == 0, "failed decode left data behind", NULL);
        return;
    }
    sl_buf e1, e2;
    sl_buf_init(&e1, 0);
    sl_buf_init(&e2, 0);
    check(sl_pq_column_index_encode(&a, &e1) == SL_OK, "encoding a column index failed", NULL);
    check(sl_pq_column_index_decode(e1.ptr, e1.len, &b) == SL_OK,
          "decoding our own column index failed", NULL);
    check(pq_column_index_diff(&a, &b) == NULL, "column index differs after a round trip",
          pq_column_index_diff(&a, &b));
    check(sl_pq_column_index_encode(&b, &e2) == SL_OK, "second column index encoding failed", NULL);
    check_same_bytes(&e1, &e2);
    sl_pq_column_index_release(&a);
    sl_pq_column_index_release(&b);
    sl_buf_release(&e1);
    sl_buf_release(&e2);
}

static void fuzz_offset_index(const uint8_t *p, size_t n)
{
    sl_pq_offset_index a, b;
    if (sl_pq_offset_index_decode(p, n, &a) != SL_OK) {
        check(a.arena == NULL && a.npages == 0, "failed decode left data behind", NULL);
        return;
    }
    sl_buf e1, e2;
    sl_buf_init(&e1, 0);
    sl_buf_init(&e2, 0);
    check(sl_pq_offset_index_encode(&a, &e1) == SL_OK, "encoding an offset index failed", NULL);
    check(sl_pq_offset_index_decode(e1.ptr, e1.len, &b) == SL_OK,
          "decoding our own offset index failed", NULL);
    check(pq_offset_index_diff(&a, &b) == NULL, "offset index differs after a round trip",
          pq_offset_index_diff(&a, &b));
    check(sl_pq_offset_index_encode(&b, &e2) == SL_OK, "second offset index encoding failed", NULL);
    check_same_bytes(&e1, &e2);
    sl_pq_offset_index_release(&a);
    sl_pq_offset_index_release(&b);
    sl_buf_release(&e1);
    sl_buf_release(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] & 3) {
    case 0:
        fuzz_meta(p, n);
        break;
    case 1:
        fuzz_page_header(p, n);
        break;
    case 2:
        fuzz_column_index(p, n);
        break;
    default:
        fuzz_offset_index(p, n);
        break;
    }
    return 0;
}
