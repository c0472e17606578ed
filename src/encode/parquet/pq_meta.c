/* pq_meta.c: Parquet FileMetaData, PageHeader, ColumnIndex and OffsetIndex in Thrift compact
 * protocol; see pq_meta.h.
 *
 * Field ids follow parquet.thrift (apache/parquet-format). The structs mirror the subset sluice
 * uses; fields outside that subset (sorting_columns, bloom filter offsets, size statistics,
 * page-header statistics, encryption, histograms, ...) are skipped on decode and never written.
 *
 * Encoder: required fields are always written (zero if unset), optional ones when their has_
 * flag (or non-zero count, for the optional lists) says so. Unions (LogicalType, TimeUnit,
 * ColumnOrder) are structs with exactly one member; the member is itself a struct, empty for
 * all members but DECIMAL, TIME, TIMESTAMP and INTEGER. On failure the output buffer is left
 * as it was.
 *
 * Decoder: the input is hostile. The sl_tr reader bounds every read and limits nesting; on top
 * of it this file
 *  - checks the compact type of every field it knows (a wrong type is SL_FORMAT, not a skip:
 *    parquet.thrift has never changed a field's type, so a mismatch means corruption),
 *  - checks that every `required` field was present (SL_FORMAT naming the field),
 *  - requires unions to hold exactly one member, a struct with a positive id,
 *  - copies binaries into an arena owned by the decoded object, NUL-terminated for
 *    convenience (the length is still authoritative: names may contain NULs),
 *  - caps the arena at ARENA_FACTOR times the input plus ARENA_SLACK. A list header can claim
 *    one element per remaining byte, and our structs are much larger than their smallest
 *    encoding (an empty ColumnChunk costs 3 bytes on the wire and ~300 bytes decoded), so
 *    without the cap a 100 MB footer could make us allocate 10 GB. Real metadata expands
 *    about 15x at most (a ColumnChunk with minimal ColumnMetaData is ~22 bytes).
 * Errors carry a message with the path of the struct being decoded, e.g. "missing required
 * field ColumnMetaData.codec (in FileMetaData.row_groups[0].columns[2].meta_data)".
 *
 * Trailing bytes after FileMetaData are accepted: files with an encrypted plaintext footer
 * append a signature inside the footer length.
 */
#include "encode/parquet/pq_meta.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------------------------ */

#define ARENA_BLOCK 8192
#define ARENA_FACTOR 32
#define ARENA_SLACK (256 * 1024)

typedef struct ablock {
    struct ablock *next;
    size_t used;
    size_t size;
    max_align_t data[];
} ablock;

typedef struct arena {
    ablock *head; /* current block for small allocations; big ones are linked after it */
    size_t total; /* bytes handed out */
    size_t budget;
} arena;

static arena *arena_create(size_t input_len)
{
    arena *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    if (input_len > (SIZE_MAX - ARENA_SLACK) / ARENA_FACTOR)
        a->budget = SIZE_MAX;
    else
        a->budget = input_len * ARENA_FACTOR + ARENA_SLACK;
    return a;
}

static void arena_destroy(arena *a)
{
    if (!a)
        return;
    ablock *b = a->head;
    while (b) {
        ablock *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

/* Zeroed memory aligned for any type. NULL with *over set when the budget is spent, NULL alone
 * when malloc failed. */
static void *arena_alloc(arena *a, size_t n, bool *over)
{
    const size_t align = sizeof(max_align_t);
    *over = false;
    if (n > a->budget - a->total || n > SIZE_MAX - align) {
        *over = true;
        return NULL;
    }
    n = (n + align - 1) / align * align;
    if (n > a->budget - a->total) {
        *over = true;
        return NULL;
    }
    ablock *b = a->head;
    if (!b || b->size - b->used < n) {
        bool big = n > ARENA_BLOCK / 2;
        size_t size = big ? n : ARENA_BLOCK;
        ablock *nb = malloc(sizeof(*nb) + size);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->size = size;
        if (big && b) {
            /* keep the current block for later small allocations */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = (uint8_t *)b->data + b->used;
    b->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

/* ---- decoder context ----------------------------------------------------------------------- */

#define PATH_MAX_DEPTH 12

typedef struct {
    sl_tr tr;
    arena *ar; /* NULL for page headers, which allocate nothing */
    sl_err err;
    char *msg;
    size_t msglen;
    int npath;
    struct {
        const char *name;
        int64_t idx; /* list index, or -1 */
    } path[PATH_MAX_DEPTH];
} dctx;

static const uint8_t empty_input[1];

static void ctx_init(dctx *c, const void *p, size_t n, arena *ar, char *msg, size_t msglen)
{
    memset(c, 0, sizeof(*c));
    /* NULL + 0 is undefined behaviour in C; give the reader a real pointer */
    sl_tr_init(&c->tr, p ? p : empty_input, p ? n : 0);
    c->ar = ar;
    c->msg = msg;
    c->msglen = msglen;
    if (msg && msglen)
        msg[0] = '\0';
}

static void format_path(const dctx *c, char *dst, size_t n)
{
    size_t len = 0;
    dst[0] = '\0';
    for (int i = 0; i < c->npath && i < PATH_MAX_DEPTH; i++) {
        int k;
        if (c->path[i].idx >= 0)
            k = snprintf(dst + len, n - len, "%s%s[%lld]", i ? "." : "", c->path[i].name,
                         (long long)c->path[i].idx);
        else
            k = snprintf(dst + len, n - len, "%s%s", i ? "." : "", c->path[i].name);
        if (k < 0 || (size_t)k >= n - len)
            return;
        len += (size_t)k;
    }
    if (c->npath > PATH_MAX_DEPTH)
        snprintf(dst + len, n - len, "...");
}

/* Records the first error (with the current struct path) and stops the reader. */
__attribute__((format(printf, 3, 4))) static void fail(dctx *c, sl_err err, const char *fmt, ...)
{
    sl_tr_fail(&c->tr);
    if (c->err)
        return;
    c->err = err;
    if (!c->msg || !c->msglen)
        return;
    char what[160];
    char where[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    format_path(c, where, sizeof(where));
    if (where[0])
        snprintf(c->msg, c->msglen, "%s (in %s)", what, where);
    else
        snprintf(c->msg, c->msglen, "%s", what);
}

static void enter(dctx *c, const char *name, int64_t idx)
{
    if (c->npath < PATH_MAX_DEPTH) {
        c->path[c->npath].name = name;
        c->path[c->npath].idx = idx;
    }
    c->npath++;
    sl_tr_struct_begin(&c->tr);
}

static void leave(dctx *c)
{
    if (c->tr.err && !c->err)
        fail(c, SL_FORMAT, "truncated or malformed Thrift data");
    sl_tr_struct_end(&c->tr);
    if (c->npath > 0)
        c->npath--;
}

static void need(dctx *c, bool seen, const char *field)
{
    if (!seen && !c->tr.err)
        fail(c, SL_FORMAT, "missing required field %s", field);
}

/* Zeroed array of n elements from the arena; NULL for n == 0 (not an error). */
static void *alloc_array(dctx *c, uint32_t n, size_t size)
{
    if (n == 0 || c->tr.err)
        return NULL;
    bool over;
    void *p = NULL;
    if ((size_t)n <= SIZE_MAX / size)
        p = arena_alloc(c->ar, (size_t)n * size, &over);
    else
        over = true;
    if (!p) {
        if (over)
            fail(c, SL_FORMAT, "decoded size exceeds %d times the input size (%zu bytes)",
                 ARENA_FACTOR, (size_t)(c->ar->budget - ARENA_SLACK) / ARENA_FACTOR);
        else
            fail(c, SL_NOMEM, "out of memory");
    }
    return p;
}

static const char *ct_name(int t)
{
    static const char *const names[] = {"stop",   "bool",   "bool", "byte", "i16", "i32",   "i64",
                                        "double", "binary", "list", "set",  "map", "struct"};
    return t >= 0 && t <= SL_CT_STRUCT ? names[t] : "invalid";
}

static bool want(dctx *c, int t, int expect, const char *field)
{
    bool ok = t == expect;
    if (expect == SL_CT_TRUE)
        ok = t == SL_CT_TRUE || t == SL_CT_FALSE;
    if (!ok)
        fail(c, SL_FORMAT, "field %s has type %s, expected %s", field, ct_name(t), ct_name(expect));
    return ok;
}

/* Field readers: true when the field had the right type and its value was read. */

static bool rd_i32(dctx *c, int t, const char *field, int32_t *v)
{
    if (!want(c, t, SL_CT_I32, field))
        return false;
    *v = sl_tr_i32(&c->tr);
    return !c->tr.err;
}

static bool rd_i64(dctx *c, int t, const char *field, int64_t *v)
{
    if (!want(c, t, SL_CT_I64, field))
        return false;
    *v = sl_tr_i64(&c->tr);
    return !c->tr.err;
}

static bool rd_i16(dctx *c, int t, const char *field, int16_t *v)
{
    if (!want(c, t, SL_CT_I16, field))
        return false;
    int64_t x = sl_tr_i64(&c->tr);
    if (c->tr.err)
        return false;
    if (x < INT16_MIN || x > INT16_MAX) {
        fail(c, SL_FORMAT, "field %s: value %lld out of i16 range", field, (long long)x);
        return false;
    }
    *v = (int16_t)x;
    return true;
}

static bool rd_i8(dctx *c, int t, const char *field, int8_t *v)
{
    if (!want(c, t, SL_CT_BYTE, field))
        return false;
    *v = sl_tr_byte(&c->tr);
    return !c->tr.err;
}

static bool rd_bool(dctx *c, int t, const char *field, bool *v)
{
    if (!want(c, t, SL_CT_TRUE, field))
        return false;
    *v = t == SL_CT_TRUE;
    return true;
}

/* Copies a binary value into the arena (NUL-terminated). */
static bool copy_bin(dctx *c, sl_pq_bin *out)
{
    size_t n;
    const uint8_t *p = sl_tr_binary(&c->tr, &n);
    if (c->tr.err)
        return false;
    if (n > UINT32_MAX - 1) {
        fail(c, SL_FORMAT, "binary value of %zu bytes is too long", n);
        return false;
    }
    uint8_t *d = alloc_array(c, (uint32_t)n + 1, 1);
    if (!d)
        return false;
    if (n)
        memcpy(d, p, n);
    out->ptr = d;
    out->len = (uint32_t)n;
    return true;
}

static bool rd_bin(dctx *c, int t, const char *field, sl_pq_bin *out)
{
    if (!want(c, t, SL_CT_BINARY, field))
        return false;
    return copy_bin(c, out);
}

/* List header of a field whose elements must have compact type elem. */
static bool rd_list(dctx *c, int t, const char *field, int elem, uint32_t *n)
{
    if (!want(c, t, SL_CT_LIST, field))
        return false;
    int e;
    uint32_t cnt = sl_tr_list(&c->tr, &e);
    if (c->tr.err)
        return false;
    bool ok = e == elem;
    if (elem == SL_CT_TRUE)
        ok = e == SL_CT_TRUE || e == SL_CT_FALSE;
    if (!ok) {
        fail(c, SL_FORMAT, "list %s has elements of type %s, expected %s", field, ct_name(e),
             ct_name(elem));
        return false;
    }
    *n = cnt;
    return true;
}

static bool rd_i32_list(dctx *c, int t, const char *field, uint32_t *n, int32_t **out)
{
    uint32_t cnt;
    if (!rd_list(c, t, field, SL_CT_I32, &cnt))
        return false;
    int32_t *a = alloc_array(c, cnt, sizeof(*a));
    for (uint32_t i = 0; i < cnt && !c->tr.err; i++)
        a[i] = sl_tr_i32(&c->tr);
    if (c->tr.err)
        return false;
    *n = cnt;
    *out = a;
    return true;
}

static bool rd_i64_list(dctx *c, int t, const char *field, uint32_t *n, int64_t **out)
{
    uint32_t cnt;
    if (!rd_list(c, t, field, SL_CT_I64, &cnt))
        return false;
    int64_t *a = alloc_array(c, cnt, sizeof(*a));
    for (uint32_t i = 0; i < cnt && !c->tr.err; i++)
        a[i] = sl_tr_i64(&c->tr);
    if (c->tr.err)
        return false;
    *n = cnt;
    *out = a;
    return true;
}

static bool rd_bin_list(dctx *c, int t, const char *field, uint32_t *n, sl_pq_bin **out)
{
    uint32_t cnt;
    if (!rd_list(c, t, field, SL_CT_BINARY, &cnt))
        return false;
    sl_pq_bin *a = alloc_array(c, cnt, sizeof(*a));
    for (uint32_t i = 0; i < cnt && !c->tr.err; i++)
        copy_bin(c, &a[i]);
    if (c->tr.err)
        return false;
    *n = cnt;
    *out = a;
    return true;
}

/* A union field: exactly one member, a struct with a positive id. Calls member() to decode
 * known members with a payload; others are skipped. Returns the member id, 0 on error. */
typedef void (*member_fn)(dctx *c, int16_t id, void *arg);

static int rd_union(dctx *c, const char *name, int64_t idx, member_fn member, void *arg)
{
    int t;
    int16_t id;
    int kind = 0;
    int members = 0;
    enter(c, name, idx);
    while (sl_tr_field(&c->tr, &t, &id)) {
        if (t != SL_CT_STRUCT || id <= 0) {
            fail(c, SL_FORMAT, "union %s: member %d has type %s, expected a struct", name, id,
                 ct_name(t));
            break;
        }
        members++;
        kind = id;
        if (member)
            member(c, id, arg);
        else
            sl_tr_skip(&c->tr, t);
    }
    if (!c->tr.err && members != 1)
        fail(c, SL_FORMAT, "union %s has %d members, expected exactly one", name, members);
    leave(c);
    return c->tr.err ? 0 : kind;
}

/* ---- decoders: FileMetaData ---------------------------------------------------------------- */

static void dec_stats(dctx *c, sl_pq_stats *s)
{
    int t;
    int16_t id;
    enter(c, "statistics", -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            s->has_max = rd_bin(c, t, "Statistics.max", &s->max);
            break;
        case 2:
            s->has_min = rd_bin(c, t, "Statistics.min", &s->min);
            break;
        case 3:
            s->has_null_count = rd_i64(c, t, "Statistics.null_count", &s->null_count);
            break;
        case 4:
            s->has_distinct_count = rd_i64(c, t, "Statistics.distinct_count", &s->distinct_count);
            break;
        case 5:
            s->has_max_value = rd_bin(c, t, "Statistics.max_value", &s->max_value);
            break;
        case 6:
            s->has_min_value = rd_bin(c, t, "Statistics.min_value", &s->min_value);
            break;
        case 7:
            s->has_is_max_exact =
                rd_bool(c, t, "Statistics.is_max_value_exact", &s->is_max_value_exact);
            break;
        case 8:
            s->has_is_min_exact =
                rd_bool(c, t, "Statistics.is_min_value_exact", &s->is_min_value_exact);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    leave(c);
}

static void dec_time_unit(dctx *c, int16_t id, void *arg)
{
    (void)id;
    (void)arg;
    sl_tr_skip(&c->tr, SL_CT_STRUCT); /* MILLIS/MICROS/NANOS are empty structs */
}

static void dec_time_type(dctx *c, sl_pq_logical *lt, const char *name)
{
    int t;
    int16_t id;
    bool seen_utc = false, seen_unit = false;
    enter(c, name, -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen_utc = rd_bool(c, t, "isAdjustedToUTC", &lt->utc);
            break;
        case 2:
            if (want(c, t, SL_CT_STRUCT, "unit")) {
                lt->unit = rd_union(c, "unit", -1, dec_time_unit, NULL);
                seen_unit = lt->unit != 0;
            }
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen_utc,
         lt->kind == PQ_LT_TIME ? "TimeType.isAdjustedToUTC" : "TimestampType.isAdjustedToUTC");
    need(c, seen_unit, lt->kind == PQ_LT_TIME ? "TimeType.unit" : "TimestampType.unit");
    leave(c);
}

static void dec_decimal_type(dctx *c, sl_pq_logical *lt)
{
    int t;
    int16_t id;
    bool seen_scale = false, seen_precision = false;
    enter(c, "DECIMAL", -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen_scale = rd_i32(c, t, "DecimalType.scale", &lt->scale);
            break;
        case 2:
            seen_precision = rd_i32(c, t, "DecimalType.precision", &lt->precision);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen_scale, "DecimalType.scale");
    need(c, seen_precision, "DecimalType.precision");
    leave(c);
}

static void dec_int_type(dctx *c, sl_pq_logical *lt)
{
    int t;
    int16_t id;
    bool seen_width = false, seen_signed = false;
    enter(c, "INTEGER", -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen_width = rd_i8(c, t, "IntType.bitWidth", &lt->bit_width);
            break;
        case 2:
            seen_signed = rd_bool(c, t, "IntType.isSigned", &lt->is_signed);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen_width, "IntType.bitWidth");
    need(c, seen_signed, "IntType.isSigned");
    leave(c);
}

static void dec_logical_member(dctx *c, int16_t id, void *arg)
{
    sl_pq_logical *lt = arg;
    /* a second member makes rd_union fail; start each member from a clean slate anyway */
    memset(lt, 0, sizeof(*lt));
    lt->kind = id;
    switch (id) {
    case PQ_LT_DECIMAL:
        dec_decimal_type(c, lt);
        break;
    case PQ_LT_TIME:
        dec_time_type(c, lt, "TIME");
        break;
    case PQ_LT_TIMESTAMP:
        dec_time_type(c, lt, "TIMESTAMP");
        break;
    case PQ_LT_INTEGER:
        dec_int_type(c, lt);
        break;
    default:
        sl_tr_skip(&c->tr, SL_CT_STRUCT); /* empty (or unknown to us) */
    }
}

static void dec_schema_elem(dctx *c, sl_pq_schema_elem *e, uint32_t idx)
{
    int t;
    int16_t id;
    bool seen_name = false;
    enter(c, "schema", idx);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            e->has_type = rd_i32(c, t, "SchemaElement.type", &e->type);
            break;
        case 2:
            e->has_type_length = rd_i32(c, t, "SchemaElement.type_length", &e->type_length);
            break;
        case 3:
            e->has_repetition = rd_i32(c, t, "SchemaElement.repetition_type", &e->repetition);
            break;
        case 4:
            seen_name = rd_bin(c, t, "SchemaElement.name", &e->name);
            break;
        case 5:
            e->has_num_children = rd_i32(c, t, "SchemaElement.num_children", &e->num_children);
            break;
        case 6:
            e->has_converted_type =
                rd_i32(c, t, "SchemaElement.converted_type", &e->converted_type);
            break;
        case 7:
            e->has_scale = rd_i32(c, t, "SchemaElement.scale", &e->scale);
            break;
        case 8:
            e->has_precision = rd_i32(c, t, "SchemaElement.precision", &e->precision);
            break;
        case 9:
            e->has_field_id = rd_i32(c, t, "SchemaElement.field_id", &e->field_id);
            break;
        case 10:
            memset(&e->logical, 0, sizeof(e->logical));
            if (want(c, t, SL_CT_STRUCT, "SchemaElement.logicalType"))
                e->logical.kind = rd_union(c, "logicalType", -1, dec_logical_member, &e->logical);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen_name, "SchemaElement.name");
    leave(c);
}

static void dec_enc_stats(dctx *c, sl_pq_enc_stats *s, uint32_t idx)
{
    int t;
    int16_t id;
    bool seen[3] = {false, false, false};
    enter(c, "encoding_stats", idx);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen[0] = rd_i32(c, t, "PageEncodingStats.page_type", &s->page_type);
            break;
        case 2:
            seen[1] = rd_i32(c, t, "PageEncodingStats.encoding", &s->encoding);
            break;
        case 3:
            seen[2] = rd_i32(c, t, "PageEncodingStats.count", &s->count);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen[0], "PageEncodingStats.page_type");
    need(c, seen[1], "PageEncodingStats.encoding");
    need(c, seen[2], "PageEncodingStats.count");
    leave(c);
}

static void dec_col_meta(dctx *c, sl_pq_col_meta *m)
{
    int t;
    int16_t id;
    uint32_t n;
    bool seen[9] = {false};
    enter(c, "meta_data", -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen[1] = rd_i32(c, t, "ColumnMetaData.type", &m->type);
            break;
        case 2:
            seen[2] = rd_i32_list(c, t, "ColumnMetaData.encodings", &m->nencodings, &m->encodings);
            break;
        case 3:
            seen[3] = rd_bin_list(c, t, "ColumnMetaData.path_in_schema", &m->npath, &m->path);
            break;
        case 4:
            seen[4] = rd_i32(c, t, "ColumnMetaData.codec", &m->codec);
            break;
        case 5:
            seen[5] = rd_i64(c, t, "ColumnMetaData.num_values", &m->num_values);
            break;
        case 6:
            seen[6] =
                rd_i64(c, t, "ColumnMetaData.total_uncompressed_size", &m->total_uncompressed_size);
            break;
        case 7:
            seen[7] =
                rd_i64(c, t, "ColumnMetaData.total_compressed_size", &m->total_compressed_size);
            break;
        case 9:
            seen[8] = rd_i64(c, t, "ColumnMetaData.data_page_offset", &m->data_page_offset);
            break;
        case 10:
            m->has_index_page_offset =
                rd_i64(c, t, "ColumnMetaData.index_page_offset", &m->index_page_offset);
            break;
        case 11:
            m->has_dictionary_page_offset =
                rd_i64(c, t, "ColumnMetaData.dictionary_page_offset", &m->dictionary_page_offset);
            break;
        case 12:
            memset(&m->statistics, 0, sizeof(m->statistics));
            m->has_statistics = want(c, t, SL_CT_STRUCT, "ColumnMetaData.statistics");
            if (m->has_statistics)
                dec_stats(c, &m->statistics);
            break;
        case 13:
            m->nencoding_stats = 0;
            m->encoding_stats = NULL;
            if (rd_list(c, t, "ColumnMetaData.encoding_stats", SL_CT_STRUCT, &n)) {
                sl_pq_enc_stats *a = alloc_array(c, n, sizeof(*a));
                for (uint32_t i = 0; i < n && !c->tr.err; i++)
                    dec_enc_stats(c, &a[i], i);
                if (!c->tr.err) {
                    m->nencoding_stats = n;
                    m->encoding_stats = a;
                }
            }
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen[1], "ColumnMetaData.type");
    need(c, seen[2], "ColumnMetaData.encodings");
    need(c, seen[3], "ColumnMetaData.path_in_schema");
    need(c, seen[4], "ColumnMetaData.codec");
    need(c, seen[5], "ColumnMetaData.num_values");
    need(c, seen[6], "ColumnMetaData.total_uncompressed_size");
    need(c, seen[7], "ColumnMetaData.total_compressed_size");
    need(c, seen[8], "ColumnMetaData.data_page_offset");
    leave(c);
}

static void dec_col_chunk(dctx *c, sl_pq_col_chunk *cc, uint32_t idx)
{
    int t;
    int16_t id;
    bool seen_offset = false;
    enter(c, "columns", idx);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            cc->has_file_path = rd_bin(c, t, "ColumnChunk.file_path", &cc->file_path);
            break;
        case 2:
            seen_offset = rd_i64(c, t, "ColumnChunk.file_offset", &cc->file_offset);
            break;
        case 3:
            memset(&cc->meta_data, 0, sizeof(cc->meta_data));
            cc->has_meta_data = want(c, t, SL_CT_STRUCT, "ColumnChunk.meta_data");
            if (cc->has_meta_data)
                dec_col_meta(c, &cc->meta_data);
            break;
        /* the index offset and length come in pairs; either one marks the index present */
        case 4:
            cc->has_offset_index |=
                rd_i64(c, t, "ColumnChunk.offset_index_offset", &cc->offset_index_offset);
            break;
        case 5:
            cc->has_offset_index |=
                rd_i32(c, t, "ColumnChunk.offset_index_length", &cc->offset_index_length);
            break;
        case 6:
            cc->has_column_index |=
                rd_i64(c, t, "ColumnChunk.column_index_offset", &cc->column_index_offset);
            break;
        case 7:
            cc->has_column_index |=
                rd_i32(c, t, "ColumnChunk.column_index_length", &cc->column_index_length);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen_offset, "ColumnChunk.file_offset");
    leave(c);
}

static void dec_row_group(dctx *c, sl_pq_row_group *rg, uint32_t idx)
{
    int t;
    int16_t id;
    uint32_t n;
    bool seen[4] = {false};
    enter(c, "row_groups", idx);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            if (rd_list(c, t, "RowGroup.columns", SL_CT_STRUCT, &n)) {
                sl_pq_col_chunk *a = alloc_array(c, n, sizeof(*a));
                for (uint32_t i = 0; i < n && !c->tr.err; i++)
                    dec_col_chunk(c, &a[i], i);
                if (!c->tr.err) {
                    rg->ncolumns = n;
                    rg->columns = a;
                    seen[1] = true;
                }
            }
            break;
        case 2:
            seen[2] = rd_i64(c, t, "RowGroup.total_byte_size", &rg->total_byte_size);
            break;
        case 3:
            seen[3] = rd_i64(c, t, "RowGroup.num_rows", &rg->num_rows);
            break;
        case 5:
            rg->has_file_offset = rd_i64(c, t, "RowGroup.file_offset", &rg->file_offset);
            break;
        case 6:
            rg->has_total_compressed_size =
                rd_i64(c, t, "RowGroup.total_compressed_size", &rg->total_compressed_size);
            break;
        case 7:
            rg->has_ordinal = rd_i16(c, t, "RowGroup.ordinal", &rg->ordinal);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen[1], "RowGroup.columns");
    need(c, seen[2], "RowGroup.total_byte_size");
    need(c, seen[3], "RowGroup.num_rows");
    leave(c);
}

static void dec_kv(dctx *c, sl_pq_kv *kv, uint32_t idx)
{
    int t;
    int16_t id;
    bool seen_key = false;
    enter(c, "key_value_metadata", idx);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen_key = rd_bin(c, t, "KeyValue.key", &kv->key);
            break;
        case 2:
            kv->has_value = rd_bin(c, t, "KeyValue.value", &kv->value);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen_key, "KeyValue.key");
    leave(c);
}

static void dec_file_meta(dctx *c, sl_pq_meta *m)
{
    int t;
    int16_t id;
    uint32_t n;
    bool seen[5] = {false};
    enter(c, "FileMetaData", -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen[1] = rd_i32(c, t, "FileMetaData.version", &m->version);
            break;
        case 2:
            if (rd_list(c, t, "FileMetaData.schema", SL_CT_STRUCT, &n)) {
                sl_pq_schema_elem *a = alloc_array(c, n, sizeof(*a));
                for (uint32_t i = 0; i < n && !c->tr.err; i++)
                    dec_schema_elem(c, &a[i], i);
                if (!c->tr.err) {
                    m->nschema = n;
                    m->schema = a;
                    seen[2] = true;
                }
            }
            break;
        case 3:
            seen[3] = rd_i64(c, t, "FileMetaData.num_rows", &m->num_rows);
            break;
        case 4:
            if (rd_list(c, t, "FileMetaData.row_groups", SL_CT_STRUCT, &n)) {
                sl_pq_row_group *a = alloc_array(c, n, sizeof(*a));
                for (uint32_t i = 0; i < n && !c->tr.err; i++)
                    dec_row_group(c, &a[i], i);
                if (!c->tr.err) {
                    m->nrow_groups = n;
                    m->row_groups = a;
                    seen[4] = true;
                }
            }
            break;
        case 5:
            if (rd_list(c, t, "FileMetaData.key_value_metadata", SL_CT_STRUCT, &n)) {
                sl_pq_kv *a = alloc_array(c, n, sizeof(*a));
                for (uint32_t i = 0; i < n && !c->tr.err; i++)
                    dec_kv(c, &a[i], i);
                if (!c->tr.err) {
                    m->nkv = n;
                    m->kv = a;
                }
            }
            break;
        case 6:
            m->has_created_by = rd_bin(c, t, "FileMetaData.created_by", &m->created_by);
            break;
        case 7:
            if (rd_list(c, t, "FileMetaData.column_orders", SL_CT_STRUCT, &n)) {
                int32_t *a = alloc_array(c, n, sizeof(*a));
                for (uint32_t i = 0; i < n && !c->tr.err; i++)
                    a[i] = rd_union(c, "column_orders", i, NULL, NULL);
                if (!c->tr.err) {
                    m->ncolumn_orders = n;
                    m->column_orders = a;
                }
            }
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen[1], "FileMetaData.version");
    need(c, seen[2], "FileMetaData.schema");
    need(c, seen[3], "FileMetaData.num_rows");
    need(c, seen[4], "FileMetaData.row_groups");
    leave(c);
}

sl_err sl_pq_meta_decode(const void *p, size_t n, sl_pq_meta *meta, char *errmsg, size_t errlen)
{
    memset(meta, 0, sizeof(*meta));
    arena *ar = arena_create(n);
    if (!ar) {
        if (errmsg && errlen)
            snprintf(errmsg, errlen, "out of memory");
        return SL_NOMEM;
    }
    dctx c;
    ctx_init(&c, p, n, ar, errmsg, errlen);
    dec_file_meta(&c, meta);
    if (c.err) {
        arena_destroy(ar);
        memset(meta, 0, sizeof(*meta));
        return c.err;
    }
    meta->arena = ar;
    return SL_OK;
}

void sl_pq_meta_release(sl_pq_meta *meta)
{
    if (!meta)
        return;
    arena_destroy(meta->arena);
    memset(meta, 0, sizeof(*meta));
}

/* ---- decoders: page header ---------------------------------------------------------------- */

static void dec_data_page(dctx *c, sl_pq_data_page *d)
{
    int t;
    int16_t id;
    bool seen[4] = {false};
    enter(c, "data_page_header", -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen[0] = rd_i32(c, t, "DataPageHeader.num_values", &d->num_values);
            break;
        case 2:
            seen[1] = rd_i32(c, t, "DataPageHeader.encoding", &d->encoding);
            break;
        case 3:
            seen[2] = rd_i32(c, t, "DataPageHeader.definition_level_encoding",
                             &d->definition_level_encoding);
            break;
        case 4:
            seen[3] = rd_i32(c, t, "DataPageHeader.repetition_level_encoding",
                             &d->repetition_level_encoding);
            break;
        default: /* 5: statistics, not kept */
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen[0], "DataPageHeader.num_values");
    need(c, seen[1], "DataPageHeader.encoding");
    need(c, seen[2], "DataPageHeader.definition_level_encoding");
    need(c, seen[3], "DataPageHeader.repetition_level_encoding");
    leave(c);
}

static void dec_dict_page(dctx *c, sl_pq_dict_page *d)
{
    int t;
    int16_t id;
    bool seen[2] = {false};
    enter(c, "dictionary_page_header", -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen[0] = rd_i32(c, t, "DictionaryPageHeader.num_values", &d->num_values);
            break;
        case 2:
            seen[1] = rd_i32(c, t, "DictionaryPageHeader.encoding", &d->encoding);
            break;
        case 3:
            d->has_is_sorted = rd_bool(c, t, "DictionaryPageHeader.is_sorted", &d->is_sorted);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen[0], "DictionaryPageHeader.num_values");
    need(c, seen[1], "DictionaryPageHeader.encoding");
    leave(c);
}

static void dec_data_page_v2(dctx *c, sl_pq_data_page_v2 *d)
{
    int t;
    int16_t id;
    bool seen[6] = {false};
    enter(c, "data_page_header_v2", -1);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen[0] = rd_i32(c, t, "DataPageHeaderV2.num_values", &d->num_values);
            break;
        case 2:
            seen[1] = rd_i32(c, t, "DataPageHeaderV2.num_nulls", &d->num_nulls);
            break;
        case 3:
            seen[2] = rd_i32(c, t, "DataPageHeaderV2.num_rows", &d->num_rows);
            break;
        case 4:
            seen[3] = rd_i32(c, t, "DataPageHeaderV2.encoding", &d->encoding);
            break;
        case 5:
            seen[4] = rd_i32(c, t, "DataPageHeaderV2.definition_levels_byte_length",
                             &d->definition_levels_byte_length);
            break;
        case 6:
            seen[5] = rd_i32(c, t, "DataPageHeaderV2.repetition_levels_byte_length",
                             &d->repetition_levels_byte_length);
            break;
        case 7:
            d->has_is_compressed =
                rd_bool(c, t, "DataPageHeaderV2.is_compressed", &d->is_compressed);
            break;
        default: /* 8: statistics, not kept */
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen[0], "DataPageHeaderV2.num_values");
    need(c, seen[1], "DataPageHeaderV2.num_nulls");
    need(c, seen[2], "DataPageHeaderV2.num_rows");
    need(c, seen[3], "DataPageHeaderV2.encoding");
    need(c, seen[4], "DataPageHeaderV2.definition_levels_byte_length");
    need(c, seen[5], "DataPageHeaderV2.repetition_levels_byte_length");
    leave(c);
}

sl_err sl_pq_page_header_decode(const void *p, size_t n, sl_pq_page_header *h, size_t *used)
{
    int t;
    int16_t id;
    bool seen[3] = {false};
    dctx c;
    memset(h, 0, sizeof(*h));
    if (used)
        *used = 0;
    ctx_init(&c, p, n, NULL, NULL, 0);
    enter(&c, "PageHeader", -1);
    while (sl_tr_field(&c.tr, &t, &id)) {
        switch (id) {
        case 1:
            seen[0] = rd_i32(&c, t, "PageHeader.type", &h->type);
            break;
        case 2:
            seen[1] =
                rd_i32(&c, t, "PageHeader.uncompressed_page_size", &h->uncompressed_page_size);
            break;
        case 3:
            seen[2] = rd_i32(&c, t, "PageHeader.compressed_page_size", &h->compressed_page_size);
            break;
        case 4:
            h->has_crc = rd_i32(&c, t, "PageHeader.crc", &h->crc);
            break;
        case 5:
            memset(&h->data_page, 0, sizeof(h->data_page));
            h->has_data_page = want(&c, t, SL_CT_STRUCT, "PageHeader.data_page_header");
            if (h->has_data_page)
                dec_data_page(&c, &h->data_page);
            break;
        case 7:
            memset(&h->dict_page, 0, sizeof(h->dict_page));
            h->has_dict_page = want(&c, t, SL_CT_STRUCT, "PageHeader.dictionary_page_header");
            if (h->has_dict_page)
                dec_dict_page(&c, &h->dict_page);
            break;
        case 8:
            memset(&h->data_page_v2, 0, sizeof(h->data_page_v2));
            h->has_data_page_v2 = want(&c, t, SL_CT_STRUCT, "PageHeader.data_page_header_v2");
            if (h->has_data_page_v2)
                dec_data_page_v2(&c, &h->data_page_v2);
            break;
        default: /* 6: index_page_header (empty) */
            sl_tr_skip(&c.tr, t);
        }
    }
    need(&c, seen[0], "PageHeader.type");
    need(&c, seen[1], "PageHeader.uncompressed_page_size");
    need(&c, seen[2], "PageHeader.compressed_page_size");
    leave(&c);
    if (c.err) {
        memset(h, 0, sizeof(*h));
        return c.err;
    }
    if (used)
        *used = (size_t)(c.tr.p - (p ? (const uint8_t *)p : empty_input));
    return SL_OK;
}

/* ---- decoders: page index ----------------------------------------------------------------- */

static void dec_page_loc(dctx *c, sl_pq_page_loc *l, uint32_t idx)
{
    int t;
    int16_t id;
    bool seen[3] = {false};
    enter(c, "page_locations", idx);
    while (sl_tr_field(&c->tr, &t, &id)) {
        switch (id) {
        case 1:
            seen[0] = rd_i64(c, t, "PageLocation.offset", &l->offset);
            break;
        case 2:
            seen[1] = rd_i32(c, t, "PageLocation.compressed_page_size", &l->compressed_page_size);
            break;
        case 3:
            seen[2] = rd_i64(c, t, "PageLocation.first_row_index", &l->first_row_index);
            break;
        default:
            sl_tr_skip(&c->tr, t);
        }
    }
    need(c, seen[0], "PageLocation.offset");
    need(c, seen[1], "PageLocation.compressed_page_size");
    need(c, seen[2], "PageLocation.first_row_index");
    leave(c);
}

sl_err sl_pq_offset_index_decode(const void *p, size_t n, sl_pq_offset_index *oi)
{
    int t;
    int16_t id;
    uint32_t cnt;
    bool seen = false;
    memset(oi, 0, sizeof(*oi));
    arena *ar = arena_create(n);
    if (!ar)
        return SL_NOMEM;
    dctx c;
    ctx_init(&c, p, n, ar, NULL, 0);
    enter(&c, "OffsetIndex", -1);
    while (sl_tr_field(&c.tr, &t, &id)) {
        switch (id) {
        case 1:
            if (rd_list(&c, t, "OffsetIndex.page_locations", SL_CT_STRUCT, &cnt)) {
                sl_pq_page_loc *a = alloc_array(&c, cnt, sizeof(*a));
                for (uint32_t i = 0; i < cnt && !c.tr.err; i++)
                    dec_page_loc(&c, &a[i], i);
                if (!c.tr.err) {
                    oi->npages = cnt;
                    oi->pages = a;
                    seen = true;
                }
            }
            break;
        default: /* 2: unencoded_byte_array_data_bytes */
            sl_tr_skip(&c.tr, t);
        }
    }
    need(&c, seen, "OffsetIndex.page_locations");
    leave(&c);
    if (c.err) {
        arena_destroy(ar);
        memset(oi, 0, sizeof(*oi));
        return c.err;
    }
    oi->arena = ar;
    return SL_OK;
}

sl_err sl_pq_column_index_decode(const void *p, size_t n, sl_pq_column_index *ci)
{
    int t;
    int16_t id;
    uint32_t cnt;
    uint32_t nnull = 0, nmin = 0, nmax = 0, ncounts = 0;
    bool seen[4] = {false};
    memset(ci, 0, sizeof(*ci));
    arena *ar = arena_create(n);
    if (!ar)
        return SL_NOMEM;
    dctx c;
    ctx_init(&c, p, n, ar, NULL, 0);
    enter(&c, "ColumnIndex", -1);
    while (sl_tr_field(&c.tr, &t, &id)) {
        switch (id) {
        case 1:
            if (rd_list(&c, t, "ColumnIndex.null_pages", SL_CT_TRUE, &cnt)) {
                bool *a = alloc_array(&c, cnt, sizeof(*a));
                for (uint32_t i = 0; i < cnt && !c.tr.err; i++)
                    a[i] = sl_tr_elem_bool(&c.tr);
                if (!c.tr.err) {
                    nnull = cnt;
                    ci->null_pages = a;
                    seen[0] = true;
                }
            }
            break;
        case 2:
            seen[1] = rd_bin_list(&c, t, "ColumnIndex.min_values", &nmin, &ci->min_values);
            break;
        case 3:
            seen[2] = rd_bin_list(&c, t, "ColumnIndex.max_values", &nmax, &ci->max_values);
            break;
        case 4:
            seen[3] = rd_i32(&c, t, "ColumnIndex.boundary_order", &ci->boundary_order);
            break;
        case 5:
            ci->has_null_counts =
                rd_i64_list(&c, t, "ColumnIndex.null_counts", &ncounts, &ci->null_counts);
            break;
        default: /* 6, 7: level histograms; 8: nan_counts */
            sl_tr_skip(&c.tr, t);
        }
    }
    need(&c, seen[0], "ColumnIndex.null_pages");
    need(&c, seen[1], "ColumnIndex.min_values");
    need(&c, seen[2], "ColumnIndex.max_values");
    need(&c, seen[3], "ColumnIndex.boundary_order");
    if (!c.tr.err && (nmin != nnull || nmax != nnull || (ci->has_null_counts && ncounts != nnull)))
        fail(&c, SL_FORMAT, "ColumnIndex lists differ in length");
    leave(&c);
    if (c.err) {
        arena_destroy(ar);
        memset(ci, 0, sizeof(*ci));
        return c.err;
    }
    ci->npages = nnull;
    ci->arena = ar;
    return SL_OK;
}

void sl_pq_offset_index_release(sl_pq_offset_index *oi)
{
    if (!oi)
        return;
    arena_destroy(oi->arena);
    memset(oi, 0, sizeof(*oi));
}

void sl_pq_column_index_release(sl_pq_column_index *ci)
{
    if (!ci)
        return;
    arena_destroy(ci->arena);
    memset(ci, 0, sizeof(*ci));
}

/* ---- encoders ------------------------------------------------------------------------------ */

static void tw_invalid(sl_tw *tw)
{
    if (!tw->err)
        tw->err = SL_INVALID;
}

static uint64_t zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void w_byte(sl_tw *tw, uint8_t v)
{
    if (!tw->err)
        tw->err = sl_buf_putc(tw->buf, v);
}

static void w_i8(sl_tw *tw, int16_t id, int8_t v)
{
    sl_tw_field(tw, SL_CT_BYTE, id);
    w_byte(tw, (uint8_t)v);
}

static void w_i16(sl_tw *tw, int16_t id, int16_t v)
{
    sl_tw_field(tw, SL_CT_I16, id);
    sl_tw_varint(tw, zigzag64(v));
}

/* A NULL array with a non-zero count is a caller bug; refuse rather than crash. */
static bool w_arr_ok(sl_tw *tw, const void *p, uint32_t n)
{
    if (n && !p) {
        tw_invalid(tw);
        return false;
    }
    return !tw->err;
}

static void w_bin(sl_tw *tw, int16_t id, sl_pq_bin b)
{
    if (b.len && !b.ptr) {
        tw_invalid(tw);
        return;
    }
    sl_tw_binary(tw, id, b.ptr, b.len);
}

static void w_elem_bin(sl_tw *tw, sl_pq_bin b)
{
    if (b.len && !b.ptr) {
        tw_invalid(tw);
        return;
    }
    sl_tw_elem_binary(tw, b.ptr, b.len);
}

/* Union member ids are positive i16 field ids. */
static bool member_ok(sl_tw *tw, int id)
{
    if (id <= 0 || id > INT16_MAX) {
        tw_invalid(tw);
        return false;
    }
    return true;
}

static void w_empty_struct(sl_tw *tw, int16_t id)
{
    sl_tw_struct_begin(tw, id);
    sl_tw_struct_end(tw);
}

static void enc_stats(sl_tw *tw, int16_t fid, const sl_pq_stats *s)
{
    sl_tw_struct_begin(tw, fid);
    if (s->has_max)
        w_bin(tw, 1, s->max);
    if (s->has_min)
        w_bin(tw, 2, s->min);
    if (s->has_null_count)
        sl_tw_i64(tw, 3, s->null_count);
    if (s->has_distinct_count)
        sl_tw_i64(tw, 4, s->distinct_count);
    if (s->has_max_value)
        w_bin(tw, 5, s->max_value);
    if (s->has_min_value)
        w_bin(tw, 6, s->min_value);
    if (s->has_is_max_exact)
        sl_tw_bool(tw, 7, s->is_max_value_exact);
    if (s->has_is_min_exact)
        sl_tw_bool(tw, 8, s->is_min_value_exact);
    sl_tw_struct_end(tw);
}

static void enc_logical(sl_tw *tw, const sl_pq_logical *lt)
{
    if (!member_ok(tw, lt->kind))
        return;
    sl_tw_struct_begin(tw, 10); /* SchemaElement.logicalType */
    sl_tw_struct_begin(tw, (int16_t)lt->kind);
    switch (lt->kind) {
    case PQ_LT_DECIMAL:
        sl_tw_i32(tw, 1, lt->scale);
        sl_tw_i32(tw, 2, lt->precision);
        break;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        sl_tw_bool(tw, 1, lt->utc);
        if (!member_ok(tw, lt->unit))
            return;
        sl_tw_struct_begin(tw, 2); /* TimeUnit union */
        w_empty_struct(tw, (int16_t)lt->unit);
        sl_tw_struct_end(tw);
        break;
    case PQ_LT_INTEGER:
        w_i8(tw, 1, lt->bit_width);
        sl_tw_bool(tw, 2, lt->is_signed);
        break;
    default:
        break; /* every other member is an empty struct */
    }
    sl_tw_struct_end(tw);
    sl_tw_struct_end(tw);
}

static void enc_schema_elem(sl_tw *tw, const sl_pq_schema_elem *e)
{
    sl_tw_elem_struct_begin(tw);
    if (e->has_type)
        sl_tw_i32(tw, 1, e->type);
    if (e->has_type_length)
        sl_tw_i32(tw, 2, e->type_length);
    if (e->has_repetition)
        sl_tw_i32(tw, 3, e->repetition);
    w_bin(tw, 4, e->name);
    if (e->has_num_children)
        sl_tw_i32(tw, 5, e->num_children);
    if (e->has_converted_type)
        sl_tw_i32(tw, 6, e->converted_type);
    if (e->has_scale)
        sl_tw_i32(tw, 7, e->scale);
    if (e->has_precision)
        sl_tw_i32(tw, 8, e->precision);
    if (e->has_field_id)
        sl_tw_i32(tw, 9, e->field_id);
    if (e->logical.kind != PQ_LT_NONE)
        enc_logical(tw, &e->logical);
    sl_tw_struct_end(tw);
}

static void enc_col_meta(sl_tw *tw, const sl_pq_col_meta *m)
{
    sl_tw_struct_begin(tw, 3); /* ColumnChunk.meta_data */
    sl_tw_i32(tw, 1, m->type);
    if (w_arr_ok(tw, m->encodings, m->nencodings)) {
        sl_tw_list_begin(tw, 2, SL_CT_I32, m->nencodings);
        for (uint32_t i = 0; i < m->nencodings; i++)
            sl_tw_elem_i32(tw, m->encodings[i]);
    }
    if (w_arr_ok(tw, m->path, m->npath)) {
        sl_tw_list_begin(tw, 3, SL_CT_BINARY, m->npath);
        for (uint32_t i = 0; i < m->npath; i++)
            w_elem_bin(tw, m->path[i]);
    }
    sl_tw_i32(tw, 4, m->codec);
    sl_tw_i64(tw, 5, m->num_values);
    sl_tw_i64(tw, 6, m->total_uncompressed_size);
    sl_tw_i64(tw, 7, m->total_compressed_size);
    sl_tw_i64(tw, 9, m->data_page_offset);
    if (m->has_index_page_offset)
        sl_tw_i64(tw, 10, m->index_page_offset);
    if (m->has_dictionary_page_offset)
        sl_tw_i64(tw, 11, m->dictionary_page_offset);
    if (m->has_statistics)
        enc_stats(tw, 12, &m->statistics);
    if (m->nencoding_stats && w_arr_ok(tw, m->encoding_stats, m->nencoding_stats)) {
        sl_tw_list_begin(tw, 13, SL_CT_STRUCT, m->nencoding_stats);
        for (uint32_t i = 0; i < m->nencoding_stats; i++) {
            const sl_pq_enc_stats *s = &m->encoding_stats[i];
            sl_tw_elem_struct_begin(tw);
            sl_tw_i32(tw, 1, s->page_type);
            sl_tw_i32(tw, 2, s->encoding);
            sl_tw_i32(tw, 3, s->count);
            sl_tw_struct_end(tw);
        }
    }
    sl_tw_struct_end(tw);
}

static void enc_col_chunk(sl_tw *tw, const sl_pq_col_chunk *cc)
{
    sl_tw_elem_struct_begin(tw);
    if (cc->has_file_path)
        w_bin(tw, 1, cc->file_path);
    sl_tw_i64(tw, 2, cc->file_offset);
    if (cc->has_meta_data)
        enc_col_meta(tw, &cc->meta_data);
    if (cc->has_offset_index) {
        sl_tw_i64(tw, 4, cc->offset_index_offset);
        sl_tw_i32(tw, 5, cc->offset_index_length);
    }
    if (cc->has_column_index) {
        sl_tw_i64(tw, 6, cc->column_index_offset);
        sl_tw_i32(tw, 7, cc->column_index_length);
    }
    sl_tw_struct_end(tw);
}

static void enc_row_group(sl_tw *tw, const sl_pq_row_group *rg)
{
    sl_tw_elem_struct_begin(tw);
    if (w_arr_ok(tw, rg->columns, rg->ncolumns)) {
        sl_tw_list_begin(tw, 1, SL_CT_STRUCT, rg->ncolumns);
        for (uint32_t i = 0; i < rg->ncolumns; i++)
            enc_col_chunk(tw, &rg->columns[i]);
    }
    sl_tw_i64(tw, 2, rg->total_byte_size);
    sl_tw_i64(tw, 3, rg->num_rows);
    if (rg->has_file_offset)
        sl_tw_i64(tw, 5, rg->file_offset);
    if (rg->has_total_compressed_size)
        sl_tw_i64(tw, 6, rg->total_compressed_size);
    if (rg->has_ordinal)
        w_i16(tw, 7, rg->ordinal);
    sl_tw_struct_end(tw);
}

/* Runs the writer over a root struct and rolls the buffer back on failure. */
static sl_err finish(sl_tw *tw, sl_buf *out, size_t start)
{
    if (tw->err)
        out->len = start;
    return tw->err;
}

sl_err sl_pq_meta_encode(const sl_pq_meta *m, sl_buf *out)
{
    sl_tw tw;
    size_t start = out->len;
    sl_tw_init(&tw, out);
    sl_tw_root_begin(&tw);
    sl_tw_i32(&tw, 1, m->version);
    if (w_arr_ok(&tw, m->schema, m->nschema)) {
        sl_tw_list_begin(&tw, 2, SL_CT_STRUCT, m->nschema);
        for (uint32_t i = 0; i < m->nschema; i++)
            enc_schema_elem(&tw, &m->schema[i]);
    }
    sl_tw_i64(&tw, 3, m->num_rows);
    if (w_arr_ok(&tw, m->row_groups, m->nrow_groups)) {
        sl_tw_list_begin(&tw, 4, SL_CT_STRUCT, m->nrow_groups);
        for (uint32_t i = 0; i < m->nrow_groups; i++)
            enc_row_group(&tw, &m->row_groups[i]);
    }
    if (m->nkv && w_arr_ok(&tw, m->kv, m->nkv)) {
        sl_tw_list_begin(&tw, 5, SL_CT_STRUCT, m->nkv);
        for (uint32_t i = 0; i < m->nkv; i++) {
            sl_tw_elem_struct_begin(&tw);
            w_bin(&tw, 1, m->kv[i].key);
            if (m->kv[i].has_value)
                w_bin(&tw, 2, m->kv[i].value);
            sl_tw_struct_end(&tw);
        }
    }
    if (m->has_created_by)
        w_bin(&tw, 6, m->created_by);
    if (m->ncolumn_orders && w_arr_ok(&tw, m->column_orders, m->ncolumn_orders)) {
        sl_tw_list_begin(&tw, 7, SL_CT_STRUCT, m->ncolumn_orders);
        for (uint32_t i = 0; i < m->ncolumn_orders && member_ok(&tw, m->column_orders[i]); i++) {
            sl_tw_elem_struct_begin(&tw);
            w_empty_struct(&tw, (int16_t)m->column_orders[i]);
            sl_tw_struct_end(&tw);
        }
    }
    sl_tw_root_end(&tw);
    return finish(&tw, out, start);
}

sl_err sl_pq_page_header_encode(const sl_pq_page_header *h, sl_buf *out)
{
    sl_tw tw;
    size_t start = out->len;
    sl_tw_init(&tw, out);
    sl_tw_root_begin(&tw);
    sl_tw_i32(&tw, 1, h->type);
    sl_tw_i32(&tw, 2, h->uncompressed_page_size);
    sl_tw_i32(&tw, 3, h->compressed_page_size);
    if (h->has_crc)
        sl_tw_i32(&tw, 4, h->crc);
    if (h->has_data_page) {
        const sl_pq_data_page *d = &h->data_page;
        sl_tw_struct_begin(&tw, 5);
        sl_tw_i32(&tw, 1, d->num_values);
        sl_tw_i32(&tw, 2, d->encoding);
        sl_tw_i32(&tw, 3, d->definition_level_encoding);
        sl_tw_i32(&tw, 4, d->repetition_level_encoding);
        sl_tw_struct_end(&tw);
    }
    if (h->has_dict_page) {
        const sl_pq_dict_page *d = &h->dict_page;
        sl_tw_struct_begin(&tw, 7);
        sl_tw_i32(&tw, 1, d->num_values);
        sl_tw_i32(&tw, 2, d->encoding);
        if (d->has_is_sorted)
            sl_tw_bool(&tw, 3, d->is_sorted);
        sl_tw_struct_end(&tw);
    }
    if (h->has_data_page_v2) {
        const sl_pq_data_page_v2 *d = &h->data_page_v2;
        sl_tw_struct_begin(&tw, 8);
        sl_tw_i32(&tw, 1, d->num_values);
        sl_tw_i32(&tw, 2, d->num_nulls);
        sl_tw_i32(&tw, 3, d->num_rows);
        sl_tw_i32(&tw, 4, d->encoding);
        sl_tw_i32(&tw, 5, d->definition_levels_byte_length);
        sl_tw_i32(&tw, 6, d->repetition_levels_byte_length);
        if (d->has_is_compressed)
            sl_tw_bool(&tw, 7, d->is_compressed);
        sl_tw_struct_end(&tw);
    }
    sl_tw_root_end(&tw);
    return finish(&tw, out, start);
}

sl_err sl_pq_offset_index_encode(const sl_pq_offset_index *oi, sl_buf *out)
{
    sl_tw tw;
    size_t start = out->len;
    sl_tw_init(&tw, out);
    sl_tw_root_begin(&tw);
    if (w_arr_ok(&tw, oi->pages, oi->npages)) {
        sl_tw_list_begin(&tw, 1, SL_CT_STRUCT, oi->npages);
        for (uint32_t i = 0; i < oi->npages; i++) {
            const sl_pq_page_loc *l = &oi->pages[i];
            sl_tw_elem_struct_begin(&tw);
            sl_tw_i64(&tw, 1, l->offset);
            sl_tw_i32(&tw, 2, l->compressed_page_size);
            sl_tw_i64(&tw, 3, l->first_row_index);
            sl_tw_struct_end(&tw);
        }
    }
    sl_tw_root_end(&tw);
    return finish(&tw, out, start);
}

sl_err sl_pq_column_index_encode(const sl_pq_column_index *ci, sl_buf *out)
{
    sl_tw tw;
    size_t start = out->len;
    uint32_t n = ci->npages;
    sl_tw_init(&tw, out);
    sl_tw_root_begin(&tw);
    if (w_arr_ok(&tw, ci->null_pages, n)) {
        sl_tw_list_begin(&tw, 1, SL_CT_TRUE, n); /* list<bool>: element type 1 */
        for (uint32_t i = 0; i < n; i++)
            sl_tw_elem_bool(&tw, ci->null_pages[i]);
    }
    if (w_arr_ok(&tw, ci->min_values, n)) {
        sl_tw_list_begin(&tw, 2, SL_CT_BINARY, n);
        for (uint32_t i = 0; i < n; i++)
            w_elem_bin(&tw, ci->min_values[i]);
    }
    if (w_arr_ok(&tw, ci->max_values, n)) {
        sl_tw_list_begin(&tw, 3, SL_CT_BINARY, n);
        for (uint32_t i = 0; i < n; i++)
            w_elem_bin(&tw, ci->max_values[i]);
    }
    sl_tw_i32(&tw, 4, ci->boundary_order);
    if (ci->has_null_counts && w_arr_ok(&tw, ci->null_counts, n)) {
        sl_tw_list_begin(&tw, 5, SL_CT_I64, n);
        for (uint32_t i = 0; i < n; i++)
            sl_tw_elem_i64(&tw, ci->null_counts[i]);
    }
    sl_tw_root_end(&tw);
    return finish(&tw, out, start);
}
