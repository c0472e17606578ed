/* schema_json_test.c: tests of src/column/schema_json.c.
 *
 * Valid model documents (every type spelling, formatting, event_key and partition_by), exact
 * round trips through sl_schema_to_json / sl_model_to_json, and one vector per error message
 * with its JSON path, line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

static const struct {
    const char *in;
    const char *canon; /* sl_type_format, or NULL for an error */
} type_vecs[] = {
    {"bool", "bool"},
    {"boolean", "bool"},
    {"BOOL", "bool"},
    {"int32", "int32"},
    {"int", "int32"},
    {"integer", "int32"},
    {"int64", "int64"},
    {"bigint", "int64"},
    {"long", "int64"},
    {"Int64", "int64"},
    {"float", "float"},
    {"float32", "float"},
    {"double", "double"},
    {"float64", "double"},
    {"string", "string"},
    {"utf8", "string"},
    {"text", "string"},
    {"binary", "binary"},
    {"bytes", "binary"},
    {"json", "json"},
    {"date", "date"},
    {"timestamp", "timestamp[us]"},
    {"timestamp[ms]", "timestamp[ms]"},
    {"timestamp[us]", "timestamp[us]"},
    {"timestamp[ns]", "timestamp[ns]"},
    {"timestamp[us, UTC]", "timestamp[us, UTC]"},
    {"timestamp[ns,utc]", "timestamp[ns, UTC]"},
    {"timestamp[ms, Z]", "timestamp[ms, UTC]"},
    {"timestamp[ms, +00:00]", "timestamp[ms, UTC]"},
    {"timestamp[ms, Etc/UTC]", "timestamp[ms, UTC]"},
    {"TIMESTAMP [ US , UTC ]", "timestamp[us, UTC]"},
    {"timestamptz", "timestamp[us, UTC]"},
    {"decimal(12,2)", "decimal(12,2)"},
    {"decimal(12, 2)", "decimal(12,2)"},
    {"decimal ( 38 , 38 )", "decimal(38,38)"},
    {"decimal(1,0)", "decimal(1,0)"},
    {"decimal(10)", "decimal(10,0)"},
    {"numeric(5,1)", "decimal(5,1)"},
    {" int64 ", "int64"},
    {"int128", NULL},
    {"", NULL},
    {"int 64", NULL},
    {"timestamp[s]", NULL},
    {"timestamp[us", NULL},
    {"timestamp[us, Europe/Paris]", NULL},
    {"timestamp[us, UTC] x", NULL},
    {"timestamp()", NULL},
    {"timestamptz[us]", NULL},
    {"decimal", NULL},
    {"decimal(0,0)", NULL},
    {"decimal(39,0)", NULL},
    {"decimal(5,6)", NULL},
    {"decimal(5,)", NULL},
    {"decimal(-5,1)", NULL},
    {"decimal(1234,1)", NULL},
    {"decimal(5,2", NULL},
    {"decimal[5,2]", NULL},
    {"decimal(5,2)x", NULL},
};

static void test_type_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(type_vecs) / sizeof(type_vecs[0]); i++) {
        sl_type t;
        char msg[256] = "";
        sl_err err = sl_type_parse(type_vecs[i].in, strlen(type_vecs[i].in), &t, msg, sizeof(msg));
        if (!type_vecs[i].canon) {
            if (err != SL_FORMAT)
                fail_msg("'%s' parses", type_vecs[i].in);
            assert_true(msg[0] != 0);
            continue;
        }
        if (err)
            fail_msg("'%s': %s", type_vecs[i].in, msg);
        char buf[64];
        sl_type_format(t, buf, sizeof(buf));
        if (strcmp(buf, type_vecs[i].canon))
            fail_msg("'%s' -> %s, want %s", type_vecs[i].in, buf, type_vecs[i].canon);
    }
    char msg[256];
    sl_type t;
    assert_int_equal(sl_type_parse("int128", 6, &t, msg, sizeof(msg)), SL_FORMAT);
    assert_string_equal(msg, "unknown type 'int128' (expected one of: bool, int32, int64, float, "
                             "double, string, binary, json, date, timestamp[ms|us|ns][, UTC], "
                             "decimal(p,s))");
    assert_int_equal(sl_type_parse("timestamp[us, Europe/Paris]", 27, &t, msg, sizeof(msg)),
                     SL_FORMAT);
    assert_string_equal(msg, "time zone 'Europe/Paris' is not supported in 'timestamp[us, "
                             "Europe/Paris]': only UTC (a zoned timestamp is stored as a UTC "
                             "instant: use timestamp[us, UTC])");
    assert_int_equal(sl_type_parse("decimal(39,2)", 13, &t, msg, sizeof(msg)), SL_FORMAT);
    assert_string_equal(msg, "decimal precision 39 out of range in 'decimal(39,2)' (1..38)");
    assert_int_equal(sl_type_parse("decimal(5,6)", 12, &t, msg, sizeof(msg)), SL_FORMAT);
    assert_string_equal(msg, "decimal scale 6 greater than the precision 5 in 'decimal(5,6)'");
    assert_int_equal(sl_type_parse("decimal", 7, &t, msg, sizeof(msg)), SL_FORMAT);
    assert_string_equal(msg, "'decimal' needs a precision: decimal(p,s), e.g. decimal(12,2)");
    assert_int_equal(sl_type_parse("timestamp[s]", 12, &t, msg, sizeof(msg)), SL_FORMAT);
    assert_string_equal(msg,
                        "unknown timestamp unit 's' in 'timestamp[s]' (expected ms, us or ns)");
    /* NULL errmsg is fine; the length bounds the text */
    assert_int_equal(sl_type_parse("x", 1, &t, NULL, 0), SL_FORMAT);
    assert_int_equal(sl_type_parse("int64", 3, &t, NULL, 0), SL_OK); /* "int" */
    assert_int_equal(t.id, SL_TYPE_INT32);
}

static const char example[] =
    "{\"fields\":[{\"name\":\"id\",\"type\":\"int64\",\"nullable\":false},"
    "{\"name\":\"ts\",\"type\":\"timestamp[us, UTC]\"},"
    "{\"name\":\"amount\",\"type\":\"decimal(12,2)\"},"
    "{\"name\":\"dt\",\"type\":\"date\",\"nullable\":true}],"
    " \"event_key\": \"id\", \"partition_by\": [\"dt\"]}";

static void test_model(void **state)
{
    (void)state;
    sl_model *m;
    char msg[256];
    assert_int_equal(sl_model_from_json(example, strlen(example), &m, msg, sizeof(msg)), SL_OK);
    assert_string_equal(msg, "");
    const sl_schema *s = m->schema;
    assert_int_equal(s->nfields, 4);
    assert_string_equal(s->fields[0].name, "id");
    assert_int_equal(s->fields[0].type.id, SL_TYPE_INT64);
    assert_false(s->fields[0].nullable);
    assert_int_equal(s->fields[1].type.id, SL_TYPE_TIMESTAMP);
    assert_int_equal(s->fields[1].type.unit, SL_UNIT_US);
    assert_true(s->fields[1].type.utc);
    assert_true(s->fields[1].nullable); /* default */
    assert_int_equal(s->fields[2].type.precision, 12);
    assert_int_equal(s->fields[2].type.scale, 2);
    assert_string_equal(m->event_key, "id");
    assert_int_equal(m->npartition_by, 1);
    assert_string_equal(m->partition_by[0], "dt");

    char *text;
    assert_int_equal(sl_model_to_json(m, &text), SL_OK);
    assert_string_equal(text,
                        "{\"fields\":[{\"name\":\"id\",\"type\":\"int64\",\"nullable\":false},"
                        "{\"name\":\"ts\",\"type\":\"timestamp[us, UTC]\",\"nullable\":true},"
                        "{\"name\":\"amount\",\"type\":\"decimal(12,2)\",\"nullable\":true},"
                        "{\"name\":\"dt\",\"type\":\"date\",\"nullable\":true}],"
                        "\"event_key\":\"id\",\"partition_by\":[\"dt\"]}");
    /* and back */
    sl_model *m2;
    assert_int_equal(sl_model_from_json(text, strlen(text), &m2, msg, sizeof(msg)), SL_OK);
    char *text2;
    assert_int_equal(sl_model_to_json(m2, &text2), SL_OK);
    assert_string_equal(text, text2);
    free(text2);
    sl_model_destroy(m2);
    free(text);

    char *st;
    assert_int_equal(sl_schema_to_json(m->schema, &st), SL_OK);
    assert_non_null(strstr(st, "\"fields\":["));
    assert_null(strstr(st, "event_key"));
    sl_schema *s2;
    assert_int_equal(sl_schema_from_json(st, strlen(st), &s2, NULL, 0), SL_OK);
    assert_int_equal(s2->nfields, 4);
    sl_schema_destroy(s2);
    free(st);
    sl_model_destroy(m);
    sl_model_destroy(NULL);
}

static void test_formatting_and_names(void **state)
{
    (void)state;
    /* a BOM, CRLF, tabs, escapes in names, null event key, empty partition list */
    const char *doc =
        "\xEF\xBB\xBF{\r\n\t\"fields\" : [\r\n"
        "\t\t{ \"type\" : \"string\", \"name\" : \"na\\u00efve \\\"q\\\" \\ud83d\\ude00\" },\r\n"
        "\t\t{ \"name\" : \"\xc3\xa9t\xc3\xa9\", \"type\" : \"json\", \"nullable\": false }\r\n"
        "\t],\r\n\t\"event_key\": null, \"partition_by\": []\r\n}\r\n";
    sl_model *m;
    char msg[256];
    if (sl_model_from_json(doc, strlen(doc), &m, msg, sizeof(msg)))
        fail_msg("%s", msg);
    assert_string_equal(m->schema->fields[0].name, "na\xc3\xafve \"q\" \xf0\x9f\x98\x80");
    assert_string_equal(m->schema->fields[1].name, "\xc3\xa9t\xc3\xa9");
    assert_null(m->event_key);
    assert_int_equal(m->npartition_by, 0);
    char *text;
    assert_int_equal(sl_model_to_json(m, &text), SL_OK);
    assert_string_equal(text,
                        "{\"fields\":[{\"name\":\"na\xc3\xafve \\\"q\\\" \xf0\x9f\x98\x80\","
                        "\"type\":\"string\",\"nullable\":true},"
                        "{\"name\":\"\xc3\xa9t\xc3\xa9\",\"type\":\"json\",\"nullable\":false}]}");
    free(text);
    sl_model_destroy(m);

    /* to_json refuses a name that is not UTF-8 (it could not be read back) */
    sl_schema *s;
    assert_int_equal(sl_schema_create(&s), SL_OK);
    assert_int_equal(sl_schema_add(s, "a\xff", sl_type_of(SL_TYPE_INT64), true), SL_OK);
    assert_int_equal(sl_schema_to_json(s, &text), SL_INVALID);
    sl_schema_destroy(s);

    /* every type survives the round trip */
    assert_int_equal(sl_schema_create(&s), SL_OK);
    const char *types[] = {"bool",
                           "int32",
                           "int64",
                           "float",
                           "double",
                           "string",
                           "binary",
                           "json",
                           "date",
                           "timestamp[ms]",
                           "timestamp[us]",
                           "timestamp[ns]",
                           "timestamp[ms, UTC]",
                           "timestamp[us, UTC]",
                           "timestamp[ns, UTC]",
                           "decimal(1,0)",
                           "decimal(18,18)",
                           "decimal(38,10)"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        sl_type t;
        char name[16];
        assert_int_equal(sl_type_parse(types[i], strlen(types[i]), &t, NULL, 0), SL_OK);
        snprintf(name, sizeof(name), "f%zu", i);
        assert_int_equal(sl_schema_add(s, name, t, i & 1), SL_OK);
    }
    assert_int_equal(sl_schema_to_json(s, &text), SL_OK);
    sl_schema *back;
    assert_int_equal(sl_schema_from_json(text, strlen(text), &back, msg, sizeof(msg)), SL_OK);
    assert_int_equal(back->nfields, s->nfields);
    for (size_t i = 0; i < s->nfields; i++) {
        assert_string_equal(back->fields[i].name, s->fields[i].name);
        /* field by field: the struct's padding bytes are not part of the value */
        const sl_type *x = &back->fields[i].type, *y = &s->fields[i].type;
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->unit, y->unit);
        assert_int_equal(x->utc, y->utc);
        assert_int_equal(x->precision, y->precision);
        assert_int_equal(x->scale, y->scale);
        assert_int_equal(back->fields[i].nullable, s->fields[i].nullable);
    }
    sl_schema_destroy(back);
    sl_schema_destroy(s);
    free(text);
}

static const struct {
    const char *in;
    const char *msg;
} err_vecs[] = {
    {"", "unexpected end of text: a value is expected (line 1, column 1)"},
    {"   \n  ", "unexpected end of text: a value is expected (line 2, column 3)"},
    {"[]", "a model is a JSON object {\"fields\": [...]}, got an array (line 1, column 1)"},
    {"{}", "missing \"fields\" (line 1, column 1)"},
    {"{\"fields\":[]}", "fields: no fields: a model needs at least one (line 1, column 11)"},
    {"{\"fields\":{}}", "fields: expected an array of fields, got an object (line 1, column 11)"},
    {"{\"fields\":[1]}", "fields[0]: expected an object {\"name\": ..., \"type\": ...}, got a "
                         "number (line 1, column 12)"},
    {"{\"fields\":[\n {\"name\":\"a\",\"type\":\"int64\"},\n {\"name\":\"b\",\"type\":\"int64\"},\n"
     " {\"name\":\"c\",\"type\":\"int128\"}\n]}",
     "fields[2].type: unknown type 'int128' (expected one of: bool, int32, int64, float, double, "
     "string, binary, json, date, timestamp[ms|us|ns][, UTC], decimal(p,s)) (line 4, column 21)"},
    {"{\"fields\":[{\"type\":\"int64\"}]}", "fields[0]: missing \"name\" (line 1, column 12)"},
    {"{\"fields\":[{\"name\":\"a\"}]}", "fields[0]: missing \"type\" (line 1, column 12)"},
    {"{\"fields\":[{\"name\":\"\",\"type\":\"int64\"}]}",
     "fields[0].name: a field name is empty (line 1, column 20)"},
    {"{\"fields\":[{\"name\":7,\"type\":\"int64\"}]}",
     "fields[0].name: expected a field name (a string), got a number (line 1, column 20)"},
    {"{\"fields\":[{\"name\":\"a\\u0000b\",\"type\":\"int64\"}]}",
     "fields[0].name: a field name contains a NUL character (line 1, column 20)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"},{\"name\":\"a\",\"type\":\"date\"}]}",
     "fields[1].name: duplicate field name \"a\" (also fields[0]) (line 1, column 48)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":64}]}",
     "fields[0].type: expected a type name (a string), got a number (line 1, column 31)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\",\"nullable\":\"no\"}]}",
     "fields[0].nullable: expected true or false, got a string (line 1, column 50)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\",\"nullable\":null}]}",
     "fields[0].nullable: expected true or false, got null (line 1, column 50)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\",\"nullabel\":false}]}",
     "fields[0]: unknown key \"nullabel\" (expected name, type, nullable) (line 1, column 39)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"}],\"name\":\"x\"}",
     "unknown key \"name\" (expected fields, event_key, partition_by) (line 1, column 41)"},
    {"{\"fields\":[{\"name\":\"a\",\"name\":\"b\",\"type\":\"int64\"}]}",
     "duplicate key \"name\" (line 1, column 24)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"}],\"event_key\":\"b\"}",
     "event_key: no field named \"b\" (line 1, column 53)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"}],\"event_key\":[\"a\"]}",
     "event_key: expected a field name (a string), got an array (line 1, column 53)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"}],\"partition_by\":\"a\"}",
     "partition_by: expected an array of field names, got a string (line 1, column 56)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"}],\"partition_by\":[\"a\",\"b\"]}",
     "partition_by[1]: no field named \"b\" (line 1, column 61)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"}],\"partition_by\":[\"a\",\"a\"]}",
     "partition_by[1]: \"a\" is listed twice (line 1, column 61)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"}],\"partition_by\":[1]}",
     "partition_by[0]: expected a field name (a string), got a number (line 1, column 57)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"timestamp[us, Europe/Paris]\"}]}",
     "fields[0].type: time zone 'Europe/Paris' is not supported in 'timestamp[us, "
     "Europe/Paris]': only UTC (a zoned timestamp is stored as a UTC instant: use "
     "timestamp[us, UTC]) (line 1, column 31)"},
    /* syntax */
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\"},]}",
     "trailing comma before ']' (line 1, column 40)"},
    {"{\"fields\":[{\"name\":\"a\",\"type\":\"int64\",}]}",
     "trailing comma before '}' (line 1, column 39)"},
    {"{\"fields\":[{\"name\":\"a\" \"type\":\"int64\"}]}",
     "',' or '}' expected (line 1, column 24)"},
    {"{\"fields\" [", "':' expected after object key (line 1, column 11)"},
    {"{fields:1}", "object key (a string) expected (line 1, column 2)"},
    {"{\"fields\":[{\"name\":'a'}]}",
     "unexpected character ''': a value is expected (line 1, column 20)"},
    {"{\"fields\":[1 2]}", "',' or ']' expected (line 1, column 14)"},
    {"{\"fields\":[]} x", "text after the end of the JSON value (line 1, column 15)"},
    {"{\"fields\":[]}}", "text after the end of the JSON value (line 1, column 14)"},
    {"{\"a\":\"abc", "unterminated string (line 1, column 6)"},
    {"{\"a\":\"a\\qb\"}", "bad escape '\\q' in string (line 1, column 8)"},
    {"{\"a\":\"\\u12\"}", "bad \\u escape in string (line 1, column 7)"},
    {"{\"a\":\"\\ud800x\"}", "lone high surrogate \\uD800 in string (line 1, column 7)"},
    {"{\"a\":\"\\udc00\"}", "lone low surrogate \\uDC00 in string (line 1, column 7)"},
    {"{\"a\":\"a\tb\"}", "control character 0x09 in string (escape it) (line 1, column 8)"},
    {"{\"a\":\"\xc3\xa9\xff\"}", "invalid UTF-8 in string (line 1, column 8)"},
    {"{\"a\":01}", "',' or '}' expected (line 1, column 7)"},
    {"{\"a\":1.}", "malformed number (line 1, column 6)"},
    {"{\"a\":-}", "malformed number (line 1, column 6)"},
    {"{\"a\":tru}", "unexpected character 't': a value is expected (line 1, column 6)"},
    {"{\"a\":\x01}", "unexpected byte 0x01: a value is expected (line 1, column 6)"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_vecs) / sizeof(err_vecs[0]); i++) {
        sl_model *m = NULL;
        char msg[512] = "x";
        sl_err err =
            sl_model_from_json(err_vecs[i].in, strlen(err_vecs[i].in), &m, msg, sizeof(msg));
        if (err != SL_FORMAT)
            fail_msg("vector %zu parses (%d)", i, err);
        if (strcmp(msg, err_vecs[i].msg))
            fail_msg("vector %zu:\n got  %s\n want %s", i, msg, err_vecs[i].msg);
        assert_null(m);
    }
    /* depth */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    char msg[512];
    sl_schema *s = NULL;
    assert_int_equal(sl_schema_from_json(deep, 200, &s, msg, sizeof(msg)), SL_FORMAT);
    assert_string_equal(msg, "nesting deeper than 64 levels (line 1, column 65)");
    /* a short message buffer is truncated, never overrun; NULL is fine */
    char tiny[8];
    assert_int_equal(sl_schema_from_json("[]", 2, &s, tiny, sizeof(tiny)), SL_FORMAT);
    assert_string_equal(tiny, "a model");
    assert_int_equal(sl_schema_from_json("[]", 2, &s, NULL, 0), SL_FORMAT);
    assert_null(s);
    /* the length bounds the text: no NUL needed */
    assert_int_equal(sl_schema_from_json(example, 10, &s, msg, sizeof(msg)), SL_FORMAT);
    /* lines and columns count characters */
    const char *doc = "{\"fields\":[{\"name\":\"\xc3\xa9\xc3\xa9\",\"type\":\"x\"}]}";
    assert_int_equal(sl_schema_from_json(doc, strlen(doc), &s, msg, sizeof(msg)), SL_FORMAT);
    assert_non_null(strstr(msg, "(line 1, column 32)")); /* 34 in bytes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_parse),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_formatting_and_names),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
