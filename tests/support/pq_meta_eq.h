/* pq_meta_eq.h: field-by-field equality of the pq_meta.h structs, for tests and fuzzers.
 *
 * Header-only (static inline) so that tests/unit and tests/fuzz can share it without a library.
 * Each function returns NULL when equal, else a static string naming the first field that
 * differs (the comparison expression), which makes test failures readable.
 */
#ifndef SL_TESTS_PQ_META_EQ_H
#define SL_TESTS_PQ_META_EQ_H

#include <string.h>

#include "encode/parquet/pq_meta.h"

/* Evaluates to the name of the check when it fails; keeps the first difference found. */
#define PQ_EQ(cond) (diff = diff ? diff : ((cond) ? NULL : #cond))

static inline bool pq_bin_eq(sl_pq_bin a, sl_pq_bin b)
{
    return a.len == b.len && (a.len == 0 || !memcmp(a.ptr, b.ptr, a.len));
}

static inline const char *pq_logical_diff(const sl_pq_logical *a, const sl_pq_logical *b)
{
    const char *diff = NULL;
    PQ_EQ(a->kind == b->kind);
    if (a->kind == PQ_LT_DECIMAL) {
        PQ_EQ(a->scale == b->scale);
        PQ_EQ(a->precision == b->precision);
    }
    if (a->kind == PQ_LT_TIME || a->kind == PQ_LT_TIMESTAMP) {
        PQ_EQ(a->utc == b->utc);
        PQ_EQ(a->unit == b->unit);
    }
    if (a->kind == PQ_LT_INTEGER) {
        PQ_EQ(a->bit_width == b->bit_width);
        PQ_EQ(a->is_signed == b->is_signed);
    }
    return diff;
}

static inline const char *pq_schema_elem_diff(const sl_pq_schema_elem *a,
                                              const sl_pq_schema_elem *b)
{
    const char *diff = NULL;
    PQ_EQ(a->has_type == b->has_type && (!a->has_type || a->type == b->type));
    PQ_EQ(a->has_type_length == b->has_type_length &&
          (!a->has_type_length || a->type_length == b->type_length));
    PQ_EQ(a->has_repetition == b->has_repetition &&
          (!a->has_repetition || a->repetition == b->repetition));
    PQ_EQ(pq_bin_eq(a->name, b->name));
    PQ_EQ(a->has_num_children == b->has_num_children &&
          (!a->has_num_children || a->num_children == b->num_children));
    PQ_EQ(a->has_converted_type == b->has_converted_type &&
          (!a->has_converted_type || a->converted_type == b->converted_type));
    PQ_EQ(a->has_scale == b->has_scale && (!a->has_scale || a->scale == b->scale));
    PQ_EQ(a->has_precision == b->has_precision &&
          (!a->has_precision || a->precision == b->precision));
    PQ_EQ(a->has_field_id == b->has_field_id && (!a->has_field_id || a->field_id == b->field_id));
    if (!diff)
        diff = pq_logical_diff(&a->logical, &b->logical);
    return diff;
}

static inline const char *pq_stats_diff(const sl_pq_stats *a, const sl_pq_stats *b)
{
    const char *diff = NULL;
    PQ_EQ(a->has_max == b->has_max && (!a->has_max || pq_bin_eq(a->max, b->max)));
    PQ_EQ(a->has_min == b->has_min && (!a->has_min || pq_bin_eq(a->min, b->min)));
    PQ_EQ(a->has_null_count == b->has_null_count &&
          (!a->has_null_count || a->null_count == b->null_count));
    PQ_EQ(a->has_distinct_count == b->has_distinct_count &&
          (!a->has_distinct_count || a->distinct_count == b->distinct_count));
    PQ_EQ(a->has_max_value == b->has_max_value &&
          (!a->has_max_value || pq_bin_eq(a->max_value, b->max_value)));
    PQ_EQ(a->has_min_value == b->has_min_value &&
          (!a->has_min_value || pq_bin_eq(a->min_value, b->min_value)));
    PQ_EQ(a->has_is_max_exact == b->has_is_max_exact &&
          (!a->has_is_max_exact || a->is_max_value_exact == b->is_max_value_exact));
    PQ_EQ(a->has_is_min_exact == b->has_is_min_exact &&
          (!a->has_is_min_exact || a->is_min_value_exact == b->is_min_value_exact));
    return diff;
}

static inline const char *pq_col_meta_diff(const sl_pq_col_meta *a, const sl_pq_col_meta *b)
{
    const char *diff = NULL;
    PQ_EQ(a->type == b->type);
    PQ_EQ(a->nencodings == b->nencodings);
    for (uint32_t i = 0; !diff && i < a->nencodings; i++)
        PQ_EQ(a->encodings[i] == b->encodings[i]);
    PQ_EQ(a->npath == b->npath);
    for (uint32_t i = 0; !diff && i < a->npath; i++)
        PQ_EQ(pq_bin_eq(a->path[i], b->path[i]));
    PQ_EQ(a->codec == b->codec);
    PQ_EQ(a->num_values == b->num_values);
    PQ_EQ(a->total_uncompressed_size == b->total_uncompressed_size);
    PQ_EQ(a->total_compressed_size == b->total_compressed_size);
    PQ_EQ(a->data_page_offset == b->data_page_offset);
    PQ_EQ(a->has_index_page_offset == b->has_index_page_offset &&
          (!a->has_index_page_offset || a->index_page_offset == b->index_page_offset));
    PQ_EQ(
        a->has_dictionary_page_offset == b->has_dictionary_page_offset &&
        (!a->has_dictionary_page_offset || a->dictionary_page_offset == b->dictionary_page_offset));
    PQ_EQ(a->has_statistics == b->has_statistics);
    if (!diff && a->has_statistics)
        diff = pq_stats_diff(&a->statistics, &b->statistics);
    PQ_EQ(a->nencoding_stats == b->nencoding_stats);
    for (uint32_t i = 0; !diff && i < a->nencoding_stats; i++) {
        PQ_EQ(a->encoding_stats[i].page_type == b->encoding_stats[i].page_type);
        PQ_EQ(a->encoding_stats[i].encoding == b->encoding_stats[i].encoding);
        PQ_EQ(a->encoding_stats[i].count == b->encoding_stats[i].count);
    }
    return diff;
}

static inline const char *pq_col_chunk_diff(const sl_pq_col_chunk *a, const sl_pq_col_chunk *b)
{
    const char *diff = NULL;
    PQ_EQ(a->has_file_path == b->has_file_path &&
          (!a->has_file_path || pq_bin_eq(a->file_path, b->file_path)));
    PQ_EQ(a->file_offset == b->file_offset);
    PQ_EQ(a->has_meta_data == b->has_meta_data);
    if (!diff && a->has_meta_data)
        diff = pq_col_meta_diff(&a->meta_data, &b->meta_data);
    PQ_EQ(a->has_offset_index == b->has_offset_index);
    PQ_EQ(!a->has_offset_index || (a->offset_index_offset == b->offset_index_offset &&
                                   a->offset_index_length == b->offset_index_length));
    PQ_EQ(a->has_column_index == b->has_column_index);
    PQ_EQ(!a->has_column_index || (a->column_index_offset == b->column_index_offset &&
                                   a->column_index_length == b->column_index_length));
    return diff;
}

static inline const char *pq_row_group_diff(const sl_pq_row_group *a, const sl_pq_row_group *b)
{
    const char *diff = NULL;
    PQ_EQ(a->ncolumns == b->ncolumns);
    for (uint32_t i = 0; !diff && i < a->ncolumns; i++)
        diff = pq_col_chunk_diff(&a->columns[i], &b->columns[i]);
    PQ_EQ(a->total_byte_size == b->total_byte_size);
    PQ_EQ(a->num_rows == b->num_rows);
    PQ_EQ(a->has_file_offset == b->has_file_offset &&
          (!a->has_file_offset || a->file_offset == b->file_offset));
    PQ_EQ(a->has_total_compressed_size == b->has_total_compressed_size &&
          (!a->has_total_compressed_size || a->total_compressed_size == b->total_compressed_size));
    PQ_EQ(a->has_ordinal == b->has_ordinal && (!a->has_ordinal || a->ordinal == b->ordinal));
    return diff;
}

static inline const char *pq_meta_diff(const sl_pq_meta *a, const sl_pq_meta *b)
{
    const char *diff = NULL;
    PQ_EQ(a->version == b->version);
    PQ_EQ(a->nschema == b->nschema);
    for (uint32_t i = 0; !diff && i < a->nschema; i++)
        diff = pq_schema_elem_diff(&a->schema[i], &b->schema[i]);
    PQ_EQ(a->num_rows == b->num_rows);
    PQ_EQ(a->nrow_groups == b->nrow_groups);
    for (uint32_t i = 0; !diff && i < a->nrow_groups; i++)
        diff = pq_row_group_diff(&a->row_groups[i], &b->row_groups[i]);
    PQ_EQ(a->nkv == b->nkv);
    for (uint32_t i = 0; !diff && i < a->nkv; i++) {
        PQ_EQ(pq_bin_eq(a->kv[i].key, b->kv[i].key));
        PQ_EQ(a->kv[i].has_value == b->kv[i].has_value &&
              (!a->kv[i].has_value || pq_bin_eq(a->kv[i].value, b->kv[i].value)));
    }
    PQ_EQ(a->has_created_by == b->has_created_by &&
          (!a->has_created_by || pq_bin_eq(a->created_by, b->created_by)));
    PQ_EQ(a->ncolumn_orders == b->ncolumn_orders);
    for (uint32_t i = 0; !diff && i < a->ncolumn_orders; i++)
        PQ_EQ(a->column_orders[i] == b->column_orders[i]);
    return diff;
}

static inline const char *pq_page_header_diff(const sl_pq_page_header *a,
                                              const sl_pq_page_header *b)
{
    const char *diff = NULL;
    PQ_EQ(a->type == b->type);
    PQ_EQ(a->uncompressed_page_size == b->uncompressed_page_size);
    PQ_EQ(a->compressed_page_size == b->compressed_page_size);
    PQ_EQ(a->has_crc == b->has_crc && (!a->has_crc || a->crc == b->crc));
    PQ_EQ(a->has_data_page == b->has_data_page);
    if (a->has_data_page) {
        PQ_EQ(a->data_page.num_values == b->data_page.num_values);
        PQ_EQ(a->data_page.encoding == b->data_page.encoding);
        PQ_EQ(a->data_page.definition_level_encoding == b->data_page.definition_level_encoding);
        PQ_EQ(a->data_page.repetition_level_encoding == b->data_page.repetition_level_encoding);
    }
    PQ_EQ(a->has_dict_page == b->has_dict_page);
    if (a->has_dict_page) {
        PQ_EQ(a->dict_page.num_values == b->dict_page.num_values);
        PQ_EQ(a->dict_page.encoding == b->dict_page.encoding);
        PQ_EQ(a->dict_page.has_is_sorted == b->dict_page.has_is_sorted &&
              (!a->dict_page.has_is_sorted || a->dict_page.is_sorted == b->dict_page.is_sorted));
    }
    PQ_EQ(a->has_data_page_v2 == b->has_data_page_v2);
    if (a->has_data_page_v2) {
        const sl_pq_data_page_v2 *x = &a->data_page_v2, *y = &b->data_page_v2;
        PQ_EQ(x->num_values == y->num_values);
        PQ_EQ(x->num_nulls == y->num_nulls);
        PQ_EQ(x->num_rows == y->num_rows);
        PQ_EQ(x->encoding == y->encoding);
        PQ_EQ(x->definition_levels_byte_length == y->definition_levels_byte_length);
        PQ_EQ(x->repetition_levels_byte_length == y->repetition_levels_byte_length);
        PQ_EQ(x->has_is_compressed == y->has_is_compressed &&
              (!x->has_is_compressed || x->is_compressed == y->is_compressed));
    }
    return diff;
}

static inline const char *pq_column_index_diff(const sl_pq_column_index *a,
                                               const sl_pq_column_index *b)
{
    const char *diff = NULL;
    PQ_EQ(a->npages == b->npages);
    for (uint32_t i = 0; !diff && i < a->npages; i++) {
        PQ_EQ(a->null_pages[i] == b->null_pages[i]);
        PQ_EQ(pq_bin_eq(a->min_values[i], b->min_values[i]));
        PQ_EQ(pq_bin_eq(a->max_values[i], b->max_values[i]));
    }
    PQ_EQ(a->boundary_order == b->boundary_order);
    PQ_EQ(a->has_null_counts == b->has_null_counts);
    for (uint32_t i = 0; !diff && a->has_null_counts && i < a->npages; i++)
        PQ_EQ(a->null_counts[i] == b->null_counts[i]);
    return diff;
}

static inline const char *pq_offset_index_diff(const sl_pq_offset_index *a,
                                               const sl_pq_offset_index *b)
{
    const char *diff = NULL;
    PQ_EQ(a->npages == b->npages);
    for (uint32_t i = 0; !diff && i < a->npages; i++) {
        PQ_EQ(a->pages[i].offset == b->pages[i].offset);
        PQ_EQ(a->pages[i].compressed_page_size == b->pages[i].compressed_page_size);
        PQ_EQ(a->pages[i].first_row_index == b->pages[i].first_row_index);
    }
    return diff;
}

#undef PQ_EQ

#endif
