/* schema_json_fuzz.c: libFuzzer target for src/column/schema_json.c (model JSON and type
 * spellings).
 *
 * The input is parsed as a model document and, separately, as a type spelling. Properties
 * (any violation aborts with a description):
 *   - nothing crashes, reads out of bounds, leaks or hits undefined behaviour;
 *   - a failure is SL_FORMAT (or SL_NOMEM) with a non-empty message ending in
 *     "(line L, column C)", and leaves *out untouched;
 *   - a model that parses round-trips: to_json(A) = T1, from_json(T1) = B, A == B field by
 *     field (names, types, nullability, event key, partition list), to_json(B) = T1 byte for
 *     byte; the same through sl_schema_from_json / sl_schema_to_json;
 *   - a type spelling that parses formats to a canonical name that parses to the same type.
 *
 * Build and run: see tests/fuzz/README.md. Seeds: tests/fuzz/corpus/schema_json/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "schema_json_fuzz: %s\n", what);
    abort();
}

static void same_schema(const sl_schema *a, const sl_schema *b)
{
    check(a->nfields == b->nfields, "field count differs after a round trip");
    for (size_t i = 0; i < a->nfields; i++) {
        check(!strcmp(a->fields[i].name, b->fields[i].name), "name differs");
        check(!memcmp(&a->fields[i].type, &b->fields[i].type, sizeof(sl_type)), "type differs");
        check(a->fields[i].nullable == b->fields[i].nullable, "nullable differs");
    }
}

static void check_failure(sl_err err, const char *msg)
{
    check(err == SL_FORMAT || err == SL_NOMEM, "unexpected error code");
    check(msg[0] != 0, "empty error message");
    if (err == SL_FORMAT) {
        size_t n = strlen(msg);
        check(n > 0 && msg[n - 1] == ')' && strstr(msg, "(line "), "message without a position");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char msg[1024];
    sl_model *m = (sl_model *)1;
    sl_err err = sl_model_from_json(text, size, &m, msg, sizeof(msg));
    if (err) {
        check(m == (sl_model *)1, "*out written on failure");
        check_failure(err, msg);
    } else {
        char *t1, *t2;
        sl_model *b;
        check(sl_model_to_json(m, &t1) == SL_OK, "to_json fails on a parsed model");
        err = sl_model_from_json(t1, strlen(t1), &b, msg, sizeof(msg));
        if (err) {
            fprintf(stderr, "schema_json_fuzz: %s\n%s\n", msg, t1);
            abort();
        }
        same_schema(m->schema, b->schema);
        check((!m->event_key && !b->event_key) ||
                  (m->event_key && b->event_key && !strcmp(m->event_key, b->event_key)),
              "event_key differs");
        check(m->npartition_by == b->npartition_by, "partition count differs");
        for (size_t i = 0; i < m->npartition_by; i++)
            check(!strcmp(m->partition_by[i], b->partition_by[i]), "partition differs");
        check(sl_model_to_json(b, &t2) == SL_OK && !strcmp(t1, t2), "to_json not stable");
        free(t2);
        free(t1);
        sl_model_destroy(b);

        sl_schema *s, *s2;
        check(sl_schema_from_json(text, size, &s, NULL, 0) == SL_OK, "schema_from_json differs");
        same_schema(s, m->schema);
        check(sl_schema_to_json(s, &t1) == SL_OK, "schema to_json");
        check(sl_schema_from_json(t1, strlen(t1), &s2, NULL, 0) == SL_OK, "schema reparse");
        same_schema(s, s2);
        free(t1);
        sl_schema_destroy(s2);
        sl_schema_destroy(s);
        sl_model_destroy(m);
    }

    sl_type t, t2;
    if (sl_type_parse(text, size, &t, msg, sizeof(msg)) == SL_OK) {
        char canon[64];
        size_t n = sl_type_format(t, canon, sizeof(canon));
        check(n < sizeof(canon), "type name too long");
        check(sl_type_parse(canon, n, &t2, msg, sizeof(msg)) == SL_OK, "canonical type");
        check(t.id == t2.id &&
                  (t.id != SL_TYPE_TIMESTAMP || (t.unit == t2.unit && t.utc == t2.utc)) &&
                  (t.id != SL_TYPE_DECIMAL || (t.precision == t2.precision && t.scale == t2.scale)),
              "type round trip");
    } else {
        check(msg[0] != 0, "type error without message");
    }
    return 0;
}
