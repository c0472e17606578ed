/* parquet_read_fuzz.c: libFuzzer target for the Parquet reader (src/parse/parquet_read.c), and
 * through it the footer/page-header decoders, the codecs and every value decoder.
 *
 * Input: one option byte, then the file. Option bits:
 *   0    read through a model derived from the file's schema (every column converted: int32 ->
 *        int64, int64 -> int32, timestamp unit shifted, decimal scale - 1, float -> double,
 *        string -> json, binary -> string, json -> string, nullable -> required, plus a
 *        missing nullable column), so the conversion and reject paths run;
 *   1-2  rows per call: 1000, 1, 7, 65536;
 *   3    verify_crc off;
 *   4    skip_unsupported.
 * Properties (any violation aborts): no crash, leak, out-of-bounds access or undefined
 * behaviour (ASan/UBSan); allocations bounded (max_page_bytes 32 MiB here, libFuzzer's
 * -rss_limit_mb backs that up); a failed open leaves no reader and sets a message; a failed
 * next() leaves the batch as it was and sets a message; every batch is consistent (all
 * columns the same length, null counts right, offsets monotone); rows read + rejected add up;
 * a file read to the end delivered exactly the footer's row count.
 *
 * Seeds: tests/fuzz/corpus/parquet_read/ (files from our writer and from DuckDB; see
 * tests/fuzz/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parquet_read.h"
#include "sluice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "parquet_read_fuzz: %s\n", what);
    abort();
}

static sl_err count_reject(void *ctx, const sl_pq_reject *rej)
{
    uint64_t *n = ctx;
    check(rej->row >= 1 && rej->message && rej->detail && rej->field, "malformed reject");
    (*n)++;
    return SL_OK;
}

static void check_batch(const sl_batch *b)
{
    check(sl_batch_check(b) == SL_OK, "columns of different lengths");
    for (size_t i = 0; i < b->ncols; i++) {
        const sl_column *c = &b->cols[i];
        size_t nulls = 0;
        if (c->nullable)
            for (size_t r = 0; r < c->len; r++)
                nulls += !c->valid[r];
        check(nulls == c->null_count, "null_count does not match validity");
        if (!c->width) {
            check(c->len == 0 || c->offsets[0] == 0, "offsets[0] != 0");
            for (size_t r = 0; r < c->len; r++)
                check(c->offsets[r] <= c->offsets[r + 1], "offsets not monotone");
            check(c->len == 0 || c->offsets[c->len] == c->bytes_len, "bytes_len mismatch");
        }
    }
}

static sl_schema *derive_model(const sl_schema *fs)
{
    sl_schema *m;
    if (sl_schema_create(&m))
        return NULL;
    for (size_t i = 0; i < fs->nfields; i++) {
        sl_type t = fs->fields[i].type;
        switch (t.id) {
        case SL_TYPE_INT32:
            t = sl_type_of(SL_TYPE_INT64);
            break;
        case SL_TYPE_INT64:
            t = sl_type_of(SL_TYPE_INT32);
            break;
        case SL_TYPE_TIMESTAMP:
            t.unit = t.unit == SL_UNIT_NS ? SL_UNIT_MS : (sl_time_unit)(t.unit + 1);
            break;
        case SL_TYPE_DECIMAL:
            if (t.scale)
                t.scale--;
            break;
        case SL_TYPE_FLOAT:
            t = sl_type_of(SL_TYPE_DOUBLE);
            break;
        case SL_TYPE_STRING:
            t = sl_type_of(SL_TYPE_JSON);
            break;
        case SL_TYPE_BINARY:
        case SL_TYPE_JSON:
            t = sl_type_of(SL_TYPE_STRING);
            break;
        default:
            break;
        }
        if (sl_schema_add(m, fs->fields[i].name, t, false)) {
            sl_schema_destroy(m);
            return NULL;
        }
    }
    if (sl_schema_add(m, "__fuzz_missing", sl_type_of(SL_TYPE_STRING), true)) {
        sl_schema_destroy(m);
        return NULL;
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    static const size_t steps[4] = {1000, 1, 7, 65536};
    sl_pq_read_opts o;
    sl_pq_read_opts_default(&o);
    o.max_page_bytes = 32u << 20;
    o.verify_crc = !(opt & 8);
    o.skip_unsupported = opt & 16;
    uint64_t rejected = 0;
    o.on_reject = count_reject;
    o.reject_ctx = &rejected;
    sl_schema *model = NULL;
    sl_pq_reader *r = NULL;
    sl_pq_read_error e;
    sl_err err = sl_pq_reader_open_mem(data, size, &o, &r, &e);
    if (!err && (opt & 1)) {
        model = derive_model(sl_pq_reader_file_schema(r));
        sl_pq_reader_close(r);
        r = NULL;
        if (!model)
            return 0;
        o.model = model;
        err = sl_pq_reader_open_mem(data, size, &o, &r, &e);
    }
    if (err) {
        check(r == NULL, "failed open left a reader");
        check(e.message[0] != '\0', "failed open without a message");
        sl_schema_destroy(model);
        return 0;
    }
    sl_batch *b;
    if (sl_batch_create(sl_pq_reader_schema(r), &b)) {
        sl_pq_reader_close(r);
        sl_schema_destroy(model);
        return 0;
    }
    size_t step = steps[(opt >> 1) & 3], n = 1, kept = 0;
    uint64_t consumed = 0;
    /* a footer may claim billions of (null) rows cheaply: stop after a few million */
    while (consumed < 4000000) {
        size_t before = sl_batch_rows(b);
        uint64_t rej0 = rejected;
        err = sl_pq_reader_next(r, b, step, &n);
        if (err) {
            check(sl_batch_rows(b) == before, "failed next() changed the batch");
            check(sl_pq_reader_error(r)->message[0] != '\0', "failed next() without a message");
            break;
        }
        check_batch(b);
        check(sl_batch_rows(b) - before + (rejected - rej0) == n, "rows + rejects != consumed");
        consumed += n;
        kept += sl_batch_rows(b) - before;
        if (!n)
            break;
        if (sl_batch_rows(b) > 200000)
            sl_batch_clear(b);
    }
    check(consumed == sl_pq_reader_rows_read(r), "rows_read disagrees");
    check(rejected == sl_pq_reader_rows_rejected(r), "rows_rejected disagrees");
    if (!err && !n)
        check(consumed == sl_pq_reader_num_rows(r), "end of file before the footer's row count");
    (void)kept;
    sl_batch_destroy(b);
    sl_pq_reader_close(r);
    sl_schema_destroy(model);
    return 0;
}
