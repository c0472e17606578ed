/* schema.c: field lists and type names. A schema only grows; names are unique. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

sl_err sl_schema_create(sl_schema **out)
{
    sl_schema *s = calloc(1, sizeof(*s));
    if (!s)
        return SL_NOMEM;
    *out = s;
    return SL_OK;
}

void sl_schema_destroy(sl_schema *schema)
{
    if (!schema)
        return;
    for (size_t i = 0; i < schema->nfields; i++)
        free(schema->fields[i].name);
    free(schema->fields);
    free(schema);
}

static bool type_valid(sl_type t)
{
    if ((unsigned)t.id >= SL_TYPE_COUNT)
        return false;
    if (t.id == SL_TYPE_TIMESTAMP && (unsigned)t.unit > SL_UNIT_NS)
        return false;
    if (t.id == SL_TYPE_DECIMAL &&
        (t.precision < 1 || t.precision > SL_DECIMAL_MAX_PRECISION || t.scale > t.precision))
        return false;
    return true;
}

sl_err sl_schema_add(sl_schema *schema, const char *name, sl_type type, bool nullable)
{
    if (!name || !*name || !type_valid(type))
        return SL_INVALID;
    for (size_t i = 0; i < schema->nfields; i++)
        if (strcmp(schema->fields[i].name, name) == 0)
            return SL_INVALID;
    if (schema->nfields == schema->cap) {
        size_t ncap = schema->cap ? schema->cap * 2 : 8;
        sl_field *f = realloc(schema->fields, ncap * sizeof(*f));
        if (!f)
            return SL_NOMEM;
        schema->fields = f;
        schema->cap = ncap;
    }
    char *copy = strdup(name);
    if (!copy)
        return SL_NOMEM;
    /* normalise fields that do not apply so that equal types compare equal */
    if (type.id != SL_TYPE_TIMESTAMP) {
        type.unit = SL_UNIT_US;
        type.utc = true;
    }
    if (type.id != SL_TYPE_DECIMAL)
        type.precision = type.scale = 0;
    schema->fields[schema->nfields++] = (sl_field){copy, type, nullable};
    return SL_OK;
}

static const char *const type_names[SL_TYPE_COUNT] = {
    [SL_TYPE_BOOL] = "bool",       [SL_TYPE_INT32] = "int32",   [SL_TYPE_INT64] = "int64",
    [SL_TYPE_FLOAT] = "float",     [SL_TYPE_DOUBLE] = "double", [SL_TYPE_STRING] = "string",
    [SL_TYPE_BINARY] = "binary",   [SL_TYPE_JSON] = "json",     [SL_TYPE_DATE] = "date",
    [SL_TYPE_TIMESTAMP] = "timestamp", [SL_TYPE_DECIMAL] = "decimal",
};

size_t sl_type_format(sl_type t, char *dst, size_t n)
{
    static const char *const units[] = {"ms", "us", "ns"};
    int len;
    if (!type_valid(t))
        len = snprintf(dst, n, "invalid");
    else if (t.id == SL_TYPE_TIMESTAMP)
        len = snprintf(dst, n, "timestamp[%s%s]", units[t.unit], t.utc ? ", UTC" : "");
    else if (t.id == SL_TYPE_DECIMAL)
        len = snprintf(dst, n, "decimal(%u,%u)", t.precision, t.scale);
    else
        len = snprintf(dst, n, "%s", type_names[t.id]);
    return len < 0 ? 0 : (size_t)len;
}
