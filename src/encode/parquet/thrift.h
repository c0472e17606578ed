/* thrift.h: Thrift compact protocol, the encoding of Parquet's footer and page headers.
 *
 * Writer: sl_tw appends to an sl_buf. Fields are written with their id; the writer keeps the
 * last field id of each open struct to delta-encode headers. Errors are sticky: check
 * sl_tw.err once at the end.
 *
 * Reader: sl_tr walks a byte range. Every read checks bounds; a malformed input sets tr->err
 * (SL_FORMAT) and all later reads return zeros, so a decoder can read on and test err once.
 * Nesting is limited to SL_THRIFT_MAX_DEPTH and container sizes to the bytes left, so hostile
 * input cannot recurse deeply or allocate much.
 */
#ifndef SL_PARQUET_THRIFT_H
#define SL_PARQUET_THRIFT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

enum {
    SL_CT_STOP = 0,
    SL_CT_TRUE = 1,
    SL_CT_FALSE = 2,
    SL_CT_BYTE = 3,
    SL_CT_I16 = 4,
    SL_CT_I32 = 5,
    SL_CT_I64 = 6,
    SL_CT_DOUBLE = 7,
    SL_CT_BINARY = 8,
    SL_CT_LIST = 9,
    SL_CT_SET = 10,
    SL_CT_MAP = 11,
    SL_CT_STRUCT = 12,
};

#define SL_THRIFT_MAX_DEPTH 32

typedef struct sl_tw {
    sl_buf *buf;
    sl_err err;
    int depth;
    int16_t last[SL_THRIFT_MAX_DEPTH];
} sl_tw;

void sl_tw_init(sl_tw *tw, sl_buf *buf);
void sl_tw_varint(sl_tw *tw, uint64_t v);
void sl_tw_field(sl_tw *tw, int type, int16_t id);
void sl_tw_i32(sl_tw *tw, int16_t id, int32_t v);
void sl_tw_i64(sl_tw *tw, int16_t id, int64_t v);
void sl_tw_bool(sl_tw *tw, int16_t id, bool v);
void sl_tw_binary(sl_tw *tw, int16_t id, const void *p, size_t n);
void sl_tw_string(sl_tw *tw, int16_t id, const char *s);
/* Opens a struct field; close with sl_tw_struct_end. */
void sl_tw_struct_begin(sl_tw *tw, int16_t id);
void sl_tw_struct_end(sl_tw *tw);
/* Opens a list field of n elements of compact type elem; then write n elements with the
 * sl_tw_elem_* calls (structs: sl_tw_elem_struct_begin ... sl_tw_struct_end). */
void sl_tw_list_begin(sl_tw *tw, int16_t id, int elem, uint32_t n);
void sl_tw_elem_i32(sl_tw *tw, int32_t v);
void sl_tw_elem_i64(sl_tw *tw, int64_t v);
void sl_tw_elem_bool(sl_tw *tw, bool v);
void sl_tw_elem_binary(sl_tw *tw, const void *p, size_t n);
void sl_tw_elem_struct_begin(sl_tw *tw);
/* Top-level struct: begin/end without a field header. */
void sl_tw_root_begin(sl_tw *tw);
void sl_tw_root_end(sl_tw *tw);

typedef struct sl_tr {
    const uint8_t *p;
    const uint8_t *end;
    sl_err err;
    int depth;
    int16_t last[SL_THRIFT_MAX_DEPTH];
} sl_tr;

void sl_tr_init(sl_tr *tr, const void *p, size_t n);
uint64_t sl_tr_varint(sl_tr *tr);
/* Enters a struct (root or nested). */
void sl_tr_struct_begin(sl_tr *tr);
void sl_tr_struct_end(sl_tr *tr);
/* Next field of the current struct: returns false at STOP (or on error). *type is the compact
 * type; for booleans the value is in the type (SL_CT_TRUE/FALSE). */
bool sl_tr_field(sl_tr *tr, int *type, int16_t *id);
int32_t sl_tr_i32(sl_tr *tr);
int64_t sl_tr_i64(sl_tr *tr);
int8_t sl_tr_byte(sl_tr *tr);
double sl_tr_double(sl_tr *tr);
/* Borrowed view into the input. */
const uint8_t *sl_tr_binary(sl_tr *tr, size_t *n);
/* List header: element type and count (count bounded by bytes left). */
uint32_t sl_tr_list(sl_tr *tr, int *elem);
/* Boolean list element. */
bool sl_tr_elem_bool(sl_tr *tr);
/* Skips a value of compact type `type` (fields of a struct included). */
void sl_tr_skip(sl_tr *tr, int type);
/* Marks the input malformed. */
void sl_tr_fail(sl_tr *tr);

#endif
