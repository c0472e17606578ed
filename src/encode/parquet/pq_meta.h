/* pq_meta.h: Parquet footer and page header structures, with a Thrift compact encoder and a
 * decoder for each.
 *
 * These mirror parquet.thrift (apache/parquet-format) for the parts sluice writes and reads;
 * field ids in pq_meta.c follow the IDL. The writer fills these structs and encodes them; the
 * decoder (used by `sluice inspect`, the reader, and the fuzz target) produces them from bytes.
 *
 * Ownership: a decoded sl_pq_meta owns all its arrays and strings (one arena per meta, freed by
 * sl_pq_meta_release). Binary values (statistics, names) are copies, not views into the input.
 * For encoding, the caller owns everything; sl_pq_meta_encode only reads.
 *
 * "present" flags mark optional fields; a field whose flag is false is neither written nor was
 * it read.
 */
#ifndef SL_PARQUET_META_H
#define SL_PARQUET_META_H

#include <stdbool.h>
#include <stdint.h>

#include "encode/parquet/thrift.h"

/* enum Type */
enum {
    PQ_BOOLEAN = 0,
    PQ_INT32 = 1,
    PQ_INT64 = 2,
    PQ_INT96 = 3,
    PQ_FLOAT = 4,
    PQ_DOUBLE = 5,
    PQ_BYTE_ARRAY = 6,
    PQ_FIXED_LEN_BYTE_ARRAY = 7,
};

/* enum ConvertedType (subset) */
enum {
    PQ_CT_UTF8 = 0,
    PQ_CT_DECIMAL = 5,
    PQ_CT_DATE = 6,
    PQ_CT_TIMESTAMP_MILLIS = 9,
    PQ_CT_TIMESTAMP_MICROS = 10,
    PQ_CT_INT_32 = 17,
    PQ_CT_INT_64 = 18,
    PQ_CT_JSON = 19,
};

/* enum FieldRepetitionType */
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };

/* enum Encoding */
enum {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8,
    PQ_ENC_BYTE_STREAM_SPLIT = 9,
};

/* enum CompressionCodec */
enum {
    PQ_CODEC_UNCOMPRESSED = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_GZIP = 2,
    PQ_CODEC_LZO = 3,
    PQ_CODEC_BROTLI = 4,
    PQ_CODEC_LZ4 = 5,
    PQ_CODEC_ZSTD = 6,
    PQ_CODEC_LZ4_RAW = 7,
};

/* enum PageType */
enum { PQ_DATA_PAGE = 0, PQ_INDEX_PAGE = 1, PQ_DICTIONARY_PAGE = 2, PQ_DATA_PAGE_V2 = 3 };

/* enum BoundaryOrder */
enum { PQ_UNORDERED = 0, PQ_ASCENDING = 1, PQ_DESCENDING = 2 };

/* union LogicalType: the member id (field id in the union), 0 = absent */
enum {
    PQ_LT_NONE = 0,
    PQ_LT_STRING = 1,
    PQ_LT_DECIMAL = 5,
    PQ_LT_DATE = 6,
    PQ_LT_TIME = 7,
    PQ_LT_TIMESTAMP = 8,
    PQ_LT_INTEGER = 10,
    PQ_LT_UNKNOWN = 11,
    PQ_LT_JSON = 12,
    PQ_LT_BSON = 13,
    PQ_LT_UUID = 14,
};

/* TimeUnit union member ids */
enum { PQ_UNIT_MILLIS = 1, PQ_UNIT_MICROS = 2, PQ_UNIT_NANOS = 3 };

typedef struct {
    const uint8_t *ptr; /* owned by the meta when decoded; borrowed when encoding */
    uint32_t len;
} sl_pq_bin;

typedef struct {
    int kind;            /* PQ_LT_* */
    int32_t scale;       /* DECIMAL */
    int32_t precision;   /* DECIMAL */
    bool utc;            /* TIMESTAMP/TIME: isAdjustedToUTC */
    int unit;            /* TIMESTAMP/TIME: PQ_UNIT_* */
    int8_t bit_width;    /* INTEGER */
    bool is_signed;      /* INTEGER */
} sl_pq_logical;

typedef struct {
    bool has_type;
    int32_t type; /* PQ_BOOLEAN.. */
    bool has_type_length;
    int32_t type_length;
    bool has_repetition;
    int32_t repetition;
    sl_pq_bin name;
    bool has_num_children;
    int32_t num_children;
    bool has_converted_type;
    int32_t converted_type;
    bool has_scale;
    int32_t scale;
    bool has_precision;
    int32_t precision;
    bool has_field_id;
    int32_t field_id;
    sl_pq_logical logical; /* kind PQ_LT_NONE = absent */
} sl_pq_schema_elem;

typedef struct {
    bool has_max, has_min, has_null_count, has_distinct_count;
    bool has_max_value, has_min_value, has_is_max_exact, has_is_min_exact;
    sl_pq_bin max, min; /* deprecated fields 1, 2 */
    int64_t null_count;
    int64_t distinct_count;
    sl_pq_bin max_value, min_value;
    bool is_max_value_exact, is_min_value_exact;
} sl_pq_stats;

typedef struct {
    int32_t page_type;
    int32_t encoding;
    int32_t count;
} sl_pq_enc_stats;

typedef struct {
    int32_t type;
    uint32_t nencodings;
    int32_t *encodings;
    uint32_t npath;
    sl_pq_bin *path;
    int32_t codec;
    int64_t num_values;
    int64_t total_uncompressed_size;
    int64_t total_compressed_size;
    int64_t data_page_offset;
    bool has_index_page_offset;
    int64_t index_page_offset;
    bool has_dictionary_page_offset;
    int64_t dictionary_page_offset;
    bool has_statistics;
    sl_pq_stats statistics;
    uint32_t nencoding_stats; /* 0 = absent */
    sl_pq_enc_stats *encoding_stats;
} sl_pq_col_meta;

typedef struct {
    bool has_file_path;
    sl_pq_bin file_path;
    int64_t file_offset;
    bool has_meta_data;
    sl_pq_col_meta meta_data;
    bool has_offset_index;
    int64_t offset_index_offset;
    int32_t offset_index_length;
    bool has_column_index;
    int64_t column_index_offset;
    int32_t column_index_length;
} sl_pq_col_chunk;

typedef struct {
    uint32_t ncolumns;
    sl_pq_col_chunk *columns;
    int64_t total_byte_size;
    int64_t num_rows;
    bool has_file_offset;
    int64_t file_offset;
    bool has_total_compressed_size;
    int64_t total_compressed_size;
    bool has_ordinal;
    int16_t ordinal;
} sl_pq_row_group;

typedef struct {
    sl_pq_bin key;
    bool has_value;
    sl_pq_bin value;
} sl_pq_kv;

typedef struct sl_pq_meta {
    int32_t version;
    uint32_t nschema;
    sl_pq_schema_elem *schema;
    int64_t num_rows;
    uint32_t nrow_groups;
    sl_pq_row_group *row_groups;
    uint32_t nkv; /* 0 = absent */
    sl_pq_kv *kv;
    bool has_created_by;
    sl_pq_bin created_by;
    uint32_t ncolumn_orders; /* 0 = absent; each is TYPE_ORDER (the only one we write) */
    int32_t *column_orders;  /* union member id per column: 1 = TYPE_ORDER */
    void *arena;             /* decoded metas: allocation list, freed by release */
} sl_pq_meta;

/* Encodes FileMetaData (without the length and magic that follow it in a file). */
SL_NODISCARD sl_err sl_pq_meta_encode(const sl_pq_meta *meta, sl_buf *out);
/* Decodes FileMetaData from exactly n bytes. On error *meta is released and empty, and errmsg
 * (if not NULL) gets a short reason. */
SL_NODISCARD sl_err sl_pq_meta_decode(const void *p, size_t n, sl_pq_meta *meta,
                                      char *errmsg, size_t errlen);
void sl_pq_meta_release(sl_pq_meta *meta);

typedef struct {
    int32_t num_values;
    int32_t encoding;
    int32_t definition_level_encoding;
    int32_t repetition_level_encoding;
} sl_pq_data_page;

typedef struct {
    int32_t num_values;
    int32_t encoding;
    bool has_is_sorted;
    bool is_sorted;
} sl_pq_dict_page;

typedef struct {
    int32_t num_values;
    int32_t num_nulls;
    int32_t num_rows;
    int32_t encoding;
    int32_t definition_levels_byte_length;
    int32_t repetition_levels_byte_length;
    bool has_is_compressed;
    bool is_compressed;
} sl_pq_data_page_v2;

typedef struct {
    int32_t type; /* PQ_DATA_PAGE.. */
    int32_t uncompressed_page_size;
    int32_t compressed_page_size;
    bool has_crc;
    int32_t crc;
    bool has_data_page;
    sl_pq_data_page data_page;
    bool has_dict_page;
    sl_pq_dict_page dict_page;
    bool has_data_page_v2;
    sl_pq_data_page_v2 data_page_v2;
} sl_pq_page_header;

SL_NODISCARD sl_err sl_pq_page_header_encode(const sl_pq_page_header *h, sl_buf *out);
/* Decodes a page header from the start of p; *used gets its length in bytes. */
SL_NODISCARD sl_err sl_pq_page_header_decode(const void *p, size_t n, sl_pq_page_header *h,
                                             size_t *used);

/* Page index (written between the last row group and the footer). */
typedef struct {
    int64_t offset;
    int32_t compressed_page_size;
    int64_t first_row_index;
} sl_pq_page_loc;

typedef struct {
    uint32_t npages;
    sl_pq_page_loc *pages;
    void *arena;
} sl_pq_offset_index;

typedef struct {
    uint32_t npages;
    bool *null_pages;
    sl_pq_bin *min_values;
    sl_pq_bin *max_values;
    int32_t boundary_order;
    bool has_null_counts;
    int64_t *null_counts;
    void *arena;
} sl_pq_column_index;

SL_NODISCARD sl_err sl_pq_offset_index_encode(const sl_pq_offset_index *oi, sl_buf *out);
SL_NODISCARD sl_err sl_pq_column_index_encode(const sl_pq_column_index *ci, sl_buf *out);
SL_NODISCARD sl_err sl_pq_offset_index_decode(const void *p, size_t n, sl_pq_offset_index *oi);
SL_NODISCARD sl_err sl_pq_column_index_decode(const void *p, size_t n, sl_pq_column_index *ci);
void sl_pq_offset_index_release(sl_pq_offset_index *oi);
void sl_pq_column_index_release(sl_pq_column_index *ci);

#endif
