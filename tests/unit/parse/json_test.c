/* json_test.c: unit tests for the JSON Lines / array parser (src/parse/json.c).
 *
 * Table-driven: each case is an input, options and the rows it must give, rendered by
 * tests/support/json_dump.h ("<line>: cells" or "<line>: !<code>@<line>:<column> [f<field>]").
 * Every case is then run again and must give identical rows and errors (detail text and raw
 * record bytes included) when the input is split at every position, fed one byte at a time,
 * parsed into one-row blocks, and parsed with each string scanner (scalar, SSE2, AVX2).
 * Further tests: long strings (> 1 MiB), too long records while streaming, deep nesting,
 * sl_json_unescape / sl_json_utf8_valid vectors, key discovery, the API's argument checks,
 * and a seeded random differential over generated and mutated records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../support/json_dump.h"

/* case flags */
enum {
    ARR = 1,      /* array_mode */
    REJ = 2,      /* unknown: reject */
    COL = 4,      /* unknown: collect into a 4th column "_extra" */
    LAST = 8,     /* dup_last_wins */
    NAMES_U = 16, /* columns "é", "a b", "" instead of a, b, c */
    NAMES_X = 32, /* columns "q\"k", "b\\s", 70 x's */
};

typedef struct {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    unsigned flags;
    size_t max_depth;  /* 0: default */
    size_t max_record; /* 0: default */
    const char *expect;
} jcase;

#define S(x) x, sizeof(x) - 1 /* input with embedded NULs */
#define X70                                                                                        \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" /* a 70-byte name */

/* clang-format off */
static const jcase cases[] = {
    /* ---- valid JSON Lines ---- */
    {"all value kinds",
     "{\"a\":1,\"b\":\"x\",\"c\":true}\n{\"a\":-0.5e+10,\"b\":null,\"c\":false}\n"
     "{\"a\":[1,\"x\",{\"y\":null}],\"b\":{},\"c\":[]}\n", 0, 0, 0, 0,
     "1: 1 \"x\" true\n2: -0.5e+10 null false\n3: J[1,\"x\",{\"y\":null}] J{} J[]\n"},
    {"numbers valid",
     "{\"a\":0,\"b\":-0,\"c\":0.0}\n{\"a\":1E5,\"b\":1e-5,\"c\":-0.0e-0}\n"
     "{\"a\":10.25,\"b\":2e+07,\"c\":-123}\n", 0, 0, 0, 0,
     "1: 0 -0 0.0\n2: 1E5 1e-5 -0.0e-0\n3: 10.25 2e+07 -123\n"},
    {"numbers out of range are text",
     "{\"a\":1e400,\"b\":123456789012345678901234567890,\"c\":-9223372036854775809}\n", 0, 0, 0, 0,
     "1: 1e400 123456789012345678901234567890 -9223372036854775809\n"},
    {"escapes",
     "{\"b\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00 \\uFFFF \\u0000\"}\n",
     0, 0, 0, 0,
     "1: - e\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00 \\uFFFF \\u0000\" -\n"},
    {"keys with escapes map to columns",
     "{\"\\u0061\":1,\"\\u0062\":2,\"\\\\\":3,\"c\\u0000\":4,\"\\u0063\":5}\n", 0, 0, 0, 0,
     "1: 1 2 5\n"},
    {"whitespace everywhere",
     " \t{ \"a\" : 1 , \"b\"\t:\r\"x\" ,\"c\":[ 1 , { } ] } \t\r\n", 0, 0, 0, 0,
     "1: 1 \"x\" J[ 1 , { } ]\n"},
    {"key order shuffled", "{\"c\":3,\"b\":2,\"a\":1}\n{\"b\":2,\"a\":1}\n", 0, 0, 0, 0,
     "1: 1 2 3\n2: 1 2 -\n"},
    {"missing keys", "{}\n{\"b\":1}\n{ }\n", 0, 0, 0, 0, "1: - - -\n2: - 1 -\n3: - - -\n"},
    {"key orders change between rows (the parser learns them)",
     "{\"c\":1,\"a\":2}\n{\"c\":3,\"a\":4}\n{\"a\":5,\"b\":6,\"c\":7}\n{\"b\":8}\n"
     "{\"c\":9,\"x\":0,\"a\":10}\n{\"c\":11,\"c\":12}\n{\"c\":13,\"a\":14}\n", 0, 0, 0, 0,
     "1: 2 - 1\n2: 4 - 3\n3: 5 6 7\n4: - 8 -\n5: 10 - 9\n6: !duplicate_key@6:9 f2\n"
     "7: 14 - 13\n"},
    {"unicode values and DEL",
     "{\"b\":\"h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \x7f \xf4\x8f\xbf\xbf\"}\n",
     0, 0, 0, 0,
     "1: - \"h\\xc3\\xa9llo \\xe6\\x97\\xa5\\xe6\\x9c\\xac \\xf0\\x9f\\x98\\x80 \\x7f "
     "\\xf4\\x8f\\xbf\\xbf\" -\n"},
    {"unicode column names",
     "{\"\xc3\xa9\":1,\"a b\":2,\"\":3}\n{\"\\u00e9\":4,\"a\\u0020b\":5}\n", 0, NAMES_U, 0, 0,
     "1: 1 2 3\n2: 4 5 -\n"},
    {"empty and blank lines are skipped",
     "\n  \n{\"a\":1}\n\t\r\n\n{\"a\":2}\n \n", 0, 0, 0, 0, "3: 1 - -\n6: 2 - -\n"},
    {"CRLF", "{\"a\":1}\r\n{\"a\":2}\r\n\r\n{\"a\":3}\r", 0, 0, 0, 0,
     "1: 1 - -\n2: 2 - -\n4: 3 - -\n"},
    {"BOM at start is skipped", "\xef\xbb\xbf{\"a\":1}\n{\"a\":2}\n", 0, 0, 0, 0,
     "1: 1 - -\n2: 2 - -\n"},
    {"BOM alone", "\xef\xbb\xbf", 0, 0, 0, 0, ""},
    {"BOM then error column counts after it", "\xef\xbb\xbf{\"a\":x}", 0, 0, 0, 0,
     "1: !syntax@1:6 f0\n"},
    {"BOM later is an error", "{\"a\":1}\n\xef\xbb\xbf{\"a\":2}\n", 0, 0, 0, 0,
     "1: 1 - -\n2: !syntax@2:1\n"},
    {"partial BOM", "\xef\xbb{}\n", 0, 0, 0, 0, "1: !utf8@1:1\n"},
    {"last line without newline", "{\"a\":1}\n{\"a\":2}", 0, 0, 0, 0, "1: 1 - -\n2: 2 - -\n"},
    {"empty input", "", 0, 0, 0, 0, ""},
    {"nested values keep duplicate keys and raw text",
     "{\"c\":{\"k\":1,\"k\":[true,false,null,\"\\u0041\"]}}\n", 0, 0, 0, 0,
     "1: - - J{\"k\":1,\"k\":[true,false,null,\"\\u0041\"]}\n"},
    {"names that need escapes", "{\"q\\\"k\":1,\"b\\\\s\":2,\"" X70 "\":3}\n"
     "{\"q\"k\":1}\n{\"b\\\\s\":1,\"b\\u005cs\":2}\n{\"q\\u0022k\":4,\"b\\\\s\" :5}\n"
     "{\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0, NAMES_X, 0, 0,
     "1: 1 2 3\n2: !syntax@2:5\n3: !duplicate_key@3:11 f1\n4: 4 5 -\n5: !syntax@5:33\n"},
    {"a key that starts like a name", "{\"ab\":1,\"a\":2,\"b\" :3,\"c\"\t:4}\n", 0, 0, 0, 0,
     "1: 2 3 4\n"},
    {"DEL and high bytes in keys", "{\"\x7f\xc3\xa9\":1,\"a\":2}\n", 0, 0, 0, 0, "1: 2 - -\n"},

    /* ---- strings ---- */
    {"lone high surrogate", "{\"b\":\"\\ud800\"}\n", 0, 0, 0, 0, "1: !utf8@1:7 f1\n"},
    {"lone low surrogate", "{\"b\":\"x\\udc00\"}\n", 0, 0, 0, 0, "1: !utf8@1:8 f1\n"},
    {"high surrogate then non-low escape", "{\"b\":\"\\ud800\\u0041\"}\n", 0, 0, 0, 0,
     "1: !utf8@1:7 f1\n"},
    {"high surrogate then text", "{\"b\":\"\\uD83Dx\"}\n", 0, 0, 0, 0, "1: !utf8@1:7 f1\n"},
    {"surrogates reversed", "{\"b\":\"\\ude00\\ud83d\"}\n", 0, 0, 0, 0, "1: !utf8@1:7 f1\n"},
    {"lone surrogate in a key", "{\"\\ud800\":1}\n", 0, 0, 0, 0, "1: !utf8@1:3\n"},
    {"lone surrogate in an ignored field", "{\"x\":[\"\\udfff\"]}\n", 0, 0, 0, 0,
     "1: !utf8@1:8\n"},
    {"bad escape \\x", "{\"b\":\"\\x41\"}\n", 0, 0, 0, 0, "1: !syntax@1:8 f1\n"},
    {"bad escape \\U", "{\"b\":\"\\U0041\"}\n", 0, 0, 0, 0, "1: !syntax@1:8 f1\n"},
    {"short \\u escape", "{\"b\":\"\\u12\"}\n", 0, 0, 0, 0, "1: !syntax@1:11 f1\n"},
    {"non-hex \\u escape", "{\"b\":\"\\u12g4\"}\n", 0, 0, 0, 0, "1: !syntax@1:11 f1\n"},
    {"escaped newline is fine, raw one ends the line", "{\"b\":\"x\\ny\"}\n{\"b\":\"x\ny\"}\n",
     0, 0, 0, 0, "1: - e\"x\\ny\" -\n2: !syntax@2:8 f1\n3: !syntax@3:1\n"},
    {"raw tab in string", "{\"b\":\"a\tb\"}\n", 0, 0, 0, 0, "1: !syntax@1:8 f1\n"},
    {"raw control chars in string", "{\"b\":\"\x01\"}\n{\"b\":\"\x1f\"}\n{\"x\":\"\x1b\"}\n",
     0, 0, 0, 0, "1: !syntax@1:7 f1\n2: !syntax@2:7 f1\n3: !syntax@3:7\n"},
    {"very short strings", "{\"a\":\"\",\"b\":\"\\\"\",\"c\":\"\\\\\"}\n", 0, 0, 0, 0,
     "1: \"\" e\"\\\"\" e\"\\\\\"\n"},

    /* ---- numbers ---- */
    {"number 01", "{\"a\":01}\n", 0, 0, 0, 0, "1: !syntax@1:6 f0\n"},
    {"number -01", "{\"a\":-01}\n", 0, 0, 0, 0, "1: !syntax@1:7 f0\n"},
    {"number -", "{\"a\":-}\n", 0, 0, 0, 0, "1: !syntax@1:7 f0\n"},
    {"number --1", "{\"a\":--1}\n", 0, 0, 0, 0, "1: !syntax@1:7 f0\n"},
    {"number 1.", "{\"a\":1.}\n", 0, 0, 0, 0, "1: !syntax@1:8 f0\n"},
    {"number .5", "{\"a\":.5}\n", 0, 0, 0, 0, "1: !syntax@1:6 f0\n"},
    {"number 1e", "{\"a\":1e}\n", 0, 0, 0, 0, "1: !syntax@1:8 f0\n"},
    {"number 1e+", "{\"a\":1e+}\n", 0, 0, 0, 0, "1: !syntax@1:9 f0\n"},
    {"number 1.5e3.2", "{\"a\":1.5e3.2}\n", 0, 0, 0, 0, "1: !syntax@1:11\n"},
    {"number +1", "{\"a\":+1}\n", 0, 0, 0, 0, "1: !syntax@1:6 f0\n"},
    {"number NaN", "{\"a\":NaN}\n", 0, 0, 0, 0, "1: !syntax@1:6 f0\n"},
    {"number Infinity", "{\"a\":Infinity}\n{\"a\":-Infinity}\n", 0, 0, 0, 0,
     "1: !syntax@1:6 f0\n2: !syntax@2:7 f0\n"},
    {"number 0x10", "{\"a\":0x10}\n", 0, 0, 0, 0, "1: !syntax@1:7\n"},
    {"number at end of input", "{\"a\":12", 0, 0, 0, 0, "1: !syntax@1:8\n"},
    {"bad number in ignored field", "{\"x\":1.e5,\"a\":1}\n", 0, 0, 0, 0, "1: !syntax@1:8\n"},
    {"literals", "{\"a\":tru}\n{\"a\":nul}\n{\"a\":True}\n{\"a\":falsey}\n{\"a\":nullx}\n",
     0, 0, 0, 0,
     "1: !syntax@1:9 f0\n2: !syntax@2:9 f0\n3: !syntax@3:6 f0\n4: !syntax@4:11\n"
     "5: !syntax@5:10\n"},

    /* ---- structure ---- */
    {"trailing comma in object", "{\"a\":1,}\n", 0, 0, 0, 0, "1: !syntax@1:8\n"},
    {"trailing comma in array value", "{\"a\":[1,]}\n", 0, 0, 0, 0, "1: !syntax@1:9 f0\n"},
    {"trailing comma in nested object", "{\"a\":{\"x\":1,}}\n", 0, 0, 0, 0,
     "1: !syntax@1:13 f0\n"},
    {"missing comma", "{\"a\":1 \"b\":2}\n", 0, 0, 0, 0, "1: !syntax@1:8\n"},
    {"missing colon", "{\"a\" 1}\n", 0, 0, 0, 0, "1: !syntax@1:6\n"},
    {"missing value", "{\"a\":}\n{\"a\":,\"b\":1}\n", 0, 0, 0, 0,
     "1: !syntax@1:6 f0\n2: !syntax@2:6 f0\n"},
    {"unquoted key", "{a:1}\n", 0, 0, 0, 0, "1: !syntax@1:2\n"},
    {"single quotes", "{'a':1}\n{\"a\":'x'}\n", 0, 0, 0, 0, "1: !syntax@1:2\n2: !syntax@2:6 f0\n"},
    {"comments", "{\"a\":1} // c\n/* c */ {\"a\":1}\n{\"a\":1 /* x */}\n# c\n", 0, 0, 0, 0,
     "1: !syntax@1:9\n2: !syntax@2:1\n3: !syntax@3:8\n4: !syntax@4:1\n"},
    {"mismatched brackets", "{\"a\":[1}\n{\"a\":{\"x\":1]}\n{\"a\":1]\n", 0, 0, 0, 0,
     "1: !syntax@1:8 f0\n2: !syntax@2:12 f0\n3: !syntax@3:7\n"},
    {"two objects on a line", "{\"a\":1}{\"a\":2}\n{\"a\":1} x\n", 0, 0, 0, 0,
     "1: !syntax@1:8\n2: !syntax@2:9\n"},
    {"valid UTF-8 outside strings is a syntax error", "{\"a\":\xc3\xa9}\n", 0, 0, 0, 0,
     "1: !syntax@1:6 f0\n"},
    {"truncated last line: string", "{\"a\":1}\n{\"a\":\"abc", 0, 0, 0, 0,
     "1: 1 - -\n2: !syntax@2:10 f0\n"},
    {"truncated: various",
     "{\n{\"a\n{\"a\":\n{\"a\":1,\n{\"a\":tr\n{\"a\":\"\\\n{\"a\":\"\\u00\n{\"a\":[",
     0, 0, 0, 0,
     "1: !syntax@1:2\n2: !syntax@2:4\n3: !syntax@3:6 f0\n4: !syntax@4:8\n5: !syntax@5:8 f0\n"
     "6: !syntax@6:8 f0\n7: !syntax@7:11 f0\n8: !syntax@8:7 f0\n"},

    /* ---- not objects ---- */
    {"non-object lines",
     "[1,2]\n\"str\"\n42\ntrue\nnull\n [ ] \n-1.5\n", 0, 0, 0, 0,
     "1: !not_object@1:1\n2: !not_object@2:1\n3: !not_object@3:1\n4: !not_object@4:1\n"
     "5: !not_object@5:1\n6: !not_object@6:2\n7: !not_object@7:1\n"},
    {"invalid non-object lines are syntax errors", "[1,\n\"a\n01\n[1] 2\n}\n", 0, 0, 0, 0,
     "1: !syntax@1:4\n2: !syntax@2:3\n3: !syntax@3:1\n4: !syntax@4:5\n5: !syntax@5:1\n"},

    /* ---- invalid UTF-8 ---- */
    {"UTF-8 0xFF", "{\"b\":\"\xff\"}\n", 0, 0, 0, 0, "1: !utf8@1:7 f1\n"},
    {"UTF-8 lone continuation", "{\"b\":\"a\x80\"}\n", 0, 0, 0, 0, "1: !utf8@1:8 f1\n"},
    {"UTF-8 overlong 2 bytes", "{\"b\":\"\xc0\x80\"}\n{\"b\":\"\xc1\xbf\"}\n", 0, 0, 0, 0,
     "1: !utf8@1:7 f1\n2: !utf8@2:7 f1\n"},
    {"UTF-8 overlong 3 bytes", "{\"b\":\"\xe0\x80\x80\"}\n{\"b\":\"\xe0\x9f\xbf\"}\n", 0, 0, 0,
     0, "1: !utf8@1:7 f1\n2: !utf8@2:7 f1\n"},
    {"UTF-8 overlong 4 bytes", "{\"b\":\"\xf0\x80\x80\x80\"}\n{\"b\":\"\xf0\x8f\xbf\xbf\"}\n", 0,
     0, 0, 0, "1: !utf8@1:7 f1\n2: !utf8@2:7 f1\n"},
    {"UTF-8 surrogate encodings", "{\"b\":\"\xed\xa0\x80\"}\n{\"b\":\"\xed\xbf\xbf\"}\n", 0, 0,
     0, 0, "1: !utf8@1:7 f1\n2: !utf8@2:7 f1\n"},
    {"UTF-8 beyond U+10FFFF", "{\"b\":\"\xf4\x90\x80\x80\"}\n{\"b\":\"\xf5\x80\x80\x80\"}\n", 0,
     0, 0, 0, "1: !utf8@1:7 f1\n2: !utf8@2:7 f1\n"},
    {"UTF-8 truncated sequences",
     "{\"b\":\"\xe2\x82\"}\n{\"b\":\"\xf0\x9f\x98\"}\n{\"b\":\"\xc3\"}\n{\"b\":\"\xc3", 0, 0, 0, 0,
     "1: !utf8@1:7 f1\n2: !utf8@2:7 f1\n3: !utf8@3:7 f1\n4: !utf8@4:7 f1\n"},
    {"UTF-8 in key, ignored field, nested value, outside strings",
     "{\"\xff\":1}\n{\"x\":\"\xfe\"}\n{\"c\":[{\"k\":\"\xc0\xaf\"}]}\n{\"a\":1}\xff\n", 0, 0, 0,
     0, "1: !utf8@1:3\n2: !utf8@2:7\n3: !utf8@3:13 f2\n4: !utf8@4:8\n"},

    /* ---- NUL ---- */
    {"NUL in string", S("{\"b\":\"x\0y\"}\n"), 0, 0, 0, "1: !nul@1:8 f1\n"},
    {"NUL after record", S("{\"a\":1}\0\n"), 0, 0, 0, "1: !nul@1:8\n"},
    {"NUL line", S("\0\n{\"a\":1}\n"), 0, 0, 0, "1: !nul@1:1\n2: 1 - -\n"},
    {"NUL between tokens", S("{\"a\"\0:1}\n{\"a\":\0}\n{\"a\":1\0}\n"), 0, 0, 0,
     "1: !nul@1:5\n2: !nul@2:6 f0\n3: !nul@3:7\n"},
    {"NUL at end of last line", S("{\"a\":1}\n{\0"), 0, 0, 0, "1: 1 - -\n2: !nul@2:2\n"},
    {"escaped NUL is fine", "{\"b\":\"\\u0000\"}\n", 0, 0, 0, 0, "1: - e\"\\u0000\" -\n"},

    /* ---- depth ---- */
    {"depth: max_depth is fine, one more is not",
     "{\"a\":{\"b\":{}}}\n{\"a\":{\"b\":{\"c\":{}}}}\n{\"a\":[[[]]]}\n{\"x\":[[{}]]}\n"
      "[[[[]]]]\n", 0, 0,
     3, 0,
     "1: J{\"b\":{}} - -\n2: !too_deep@2:16 f0\n3: !too_deep@3:8 f0\n4: !too_deep@4:8\n"
     "5: !too_deep@5:4\n"},
    {"depth 1: only flat objects", "{\"a\":1}\n{\"a\":[]}\n", 0, 0, 1, 0,
     "1: 1 - -\n2: !too_deep@2:6 f0\n"},

    /* ---- duplicates ---- */
    {"duplicate key is an error", "{\"a\":1,\"a\":2}\n{\"a\":1,\"b\":2,\"\\u0061\":3}\n", 0, 0, 0,
     0, "1: !duplicate_key@1:8 f0\n2: !duplicate_key@2:14 f0\n"},
    {"duplicate key: last wins", "{\"a\":1,\"a\":2}\n{\"a\":1,\"b\":2,\"\\u0061\":[3]}\n", 0,
     LAST, 0, 0, "1: 2 - -\n2: J[3] 2 -\n"},
    {"duplicate key: last wins still validates", "{\"a\":1,\"a\":x}\n", 0, LAST, 0, 0,
     "1: !syntax@1:12 f0\n"},
    {"duplicate unknown keys are ignored", "{\"x\":1,\"x\":2,\"a\":1}\n", 0, 0, 0, 0,
     "1: 1 - -\n"},

    /* ---- unknown fields ---- */
    {"unknown: ignore", "{\"a\":1,\"x\":{\"y\":[1]},\"b\":2}\n", 0, 0, 0, 0, "1: 1 2 -\n"},
    {"unknown: reject", "{\"a\":1,\"x\":{\"y\":[1]},\"b\":2}\n{\"a\":1}\n", 0, REJ, 0, 0,
     "1: !unknown_field@1:8\n2: 1 - -\n"},
    {"unknown: reject an escaped unknown key", "{\"\\u0078\":1}\n", 0, REJ, 0, 0,
     "1: !unknown_field@1:2\n"},
    {"unknown: collect",
     "{\"a\":1,\"x\":{\"y\":[1]},\"b\":2, \"z\" :\t\"q\\n\"}\n{\"a\":1}\n{}\n"
     "{\"_extra\":5,\"\\u0078\":true}\n", 0, COL, 0, 0,
     "1: 1 2 - J{\"x\":{\"y\":[1]},\"z\" :\\x09\"q\\n\"}\n2: 1 - - -\n3: - - - -\n"
     "4: - - - J{\"_extra\":5,\"\\u0078\":true}\n"},
    {"unknown: collect duplicates", "{\"x\":1,\"a\":2,\"x\":3}\n{\"x\":1,\"\\u0078\":3}\n", 0, COL,
     0, 0, "1: !duplicate_key@1:14\n2: !duplicate_key@2:8\n"},
    {"unknown: collect duplicates, last wins",
     "{\"x\":1,\"a\":2,\"y\":0,\"x\":3}\n{\"x\":1,\"\\u0078\":3}\n", 0, COL | LAST, 0, 0,
     "1: 2 - - J{\"y\":0,\"x\":3}\n2: - - - J{\"\\u0078\":3}\n"},
    {"unknown: collect invalid value", "{\"x\":[1,}\n", 0, COL, 0, 0, "1: !syntax@1:9\n"},
    {"unknown: collect duplicate found at its key, before its value",
     "{\"x\":1,\"x\":[1,}\n", 0, COL, 0, 0, "1: !duplicate_key@1:8\n"},

    /* ---- too long ---- */
    {"too long lines", "{\"a\":12345678}\n{\"a\":123456789}\n{\"a\":1}\n{\"a\":12345678}\r\n"
     "{\"a\":123456789}\r\n{\"a\":1234567890123}", 0, 0, 0, 14,
     "1: 12345678 - -\n2: !too_long@2:15\n3: 1 - -\n4: 12345678 - -\n5: !too_long@5:15\n"
     "6: !too_long@6:15\n"},
    {"too long line at eof by one byte", "{\"a\":1}\n{\"a\":123456789}", 0, 0, 0, 14,
     "1: 1 - -\n2: !too_long@2:15\n"},
    {"the length limit applies to blank lines too", "                              \n{\"a\":1}\n",
     0, 0, 0, 14, "1: !too_long@1:15\n2: 1 - -\n"},

    /* ---- array mode ---- */
    {"array: objects", "[{\"a\":1},{\"b\":2}]", 0, ARR, 0, 0, "1: 1 - -\n1: - 2 -\n"},
    {"array: pretty printed",
     "[\n  {\"a\": 1,\n   \"b\": 2},\n  {\"c\": 3}\n]\n", 0, ARR, 0, 0, "2: 1 2 -\n4: - - 3\n"},
    {"array: single object", "{\"a\":1,\"b\":\"x\"}", 0, ARR, 0, 0, "1: 1 \"x\" -\n"},
    {"array: single pretty object", "\n{\n \"a\": 1,\n \"c\": [\n  1\n ]\n}\n", 0, ARR, 0, 0,
     "2: 1 - J[\\x0a  1\\x0a ]\n"},
    {"array: NDJSON and concatenated values", "{\"a\":1}\n{\"a\":2}{\"a\":3} [{\"a\":4}]\n", 0,
     ARR, 0, 0, "1: 1 - -\n2: 2 - -\n2: 3 - -\n2: 4 - -\n"},
    {"array: empty array and empty input", "[] [ ]\n[\n]", 0, ARR, 0, 0, ""},
    {"array: whitespace only", " \n\t\r\n ", 0, ARR, 0, 0, ""},
    {"array: BOM", "\xef\xbb\xbf[{\"a\":1}]", 0, ARR, 0, 0, "1: 1 - -\n"},
    {"array: not an array", "42\n\"x\"\ntrue", 0, ARR, 0, 0,
     "1: !not_object@1:1\n2: !not_object@2:1\n3: !not_object@3:1\n"},
    {"array: elements that are not objects are rejected, the rest kept",
     "[1,{\"a\":1},\"x]\",null,[{\"a\":2}],-2.5e1]", 0, ARR, 0, 0,
     "1: !not_object@1:2\n1: 1 - -\n1: !not_object@1:12\n1: !not_object@1:17\n"
     "1: !not_object@1:22\n1: !not_object@1:32\n"},
    {"array: bad element is a row, the rest kept",
     "[{\"a\":1},{\"a\":01},{\"a\":\"\xff\"},{\"a\":1,\"a\":2},{\"a\":3}]", 0, ARR, 0, 0,
     "1: 1 - -\n1: !syntax@1:15 f0\n1: !utf8@1:25 f0\n1: !duplicate_key@1:36 f0\n1: 3 - -\n"},
    {"array: error positions are physical", "[\n{\"a\":\n  tru},\n  {\"a\":\n\"\x01\"}]", 0,
     ARR, 0, 0, "2: !syntax@3:6 f0\n4: !syntax@5:2 f0\n"},
    {"array: trailing comma", "[{\"a\":1},]\n{\"a\":2}", 0, ARR, 0, 0,
     "1: 1 - -\n1: !syntax@1:10\n2: 2 - -\n"},
    {"array: empty elements", "[,{\"a\":1},,{\"a\":2}]", 0, ARR, 0, 0,
     "1: !syntax@1:2\n1: 1 - -\n1: !syntax@1:11\n1: 2 - -\n"},
    {"array: missing comma", "[{\"a\":1} {\"a\":2}\n{\"a\":3}]", 0, ARR, 0, 0,
     "1: 1 - -\n1: !syntax@1:10\n2: !syntax@2:1\n"},
    {"array: not closed", "[{\"a\":1},\n{\"a\":2}\n", 0, ARR, 0, 0,
     "1: 1 - -\n2: 2 - -\n3: !syntax@3:1\n"},
    {"array: not closed after a scalar", "[1", 0, ARR, 0, 0,
     "1: !not_object@1:2\n1: !syntax@1:3\n"},
    {"array: not closed after comma", "[{\"a\":1},", 0, ARR, 0, 0,
     "1: 1 - -\n1: !syntax@1:10\n"},
    {"array: truncated element is reported once", "[{\"a\":1},{\"a\":", 0, ARR, 0, 0,
     "1: 1 - -\n1: !syntax@1:15 f0\n"},
    {"array: truncated string element", "[\"abc", 0, ARR, 0, 0, "1: !syntax@1:6\n"},
    {"array: stray characters at top level", "{\"a\":1} x {\"a\":2}]} :,", 0, ARR, 0, 0,
     "1: 1 - -\n1: !syntax@1:9\n1: 2 - -\n1: !syntax@1:18\n1: !syntax@1:19\n"
     "1: !syntax@1:21\n1: !syntax@1:22\n"},
    {"array: brackets and escapes inside strings", "[{\"a\":\"]}[{\\\"\",\"b\":\"\\\\\"}]", 0,
     ARR, 0, 0, "1: e\"]}[{\\\"\" e\"\\\\\" -\n"},
    {"array: nested arrays of records are not flattened", "[[{\"a\":1}]]", 0, ARR, 0, 0,
     "1: !not_object@1:2\n"},
    {"array: bracket typo swallows to the matching close", "[{\"a\":[1},{\"a\":2}],{\"a\":3}]",
     0, ARR, 0, 0, "1: !syntax@1:9 f0\n1: 3 - -\n"},
    {"array: depth counts from the element", "[{\"a\":{\"b\":{}}},{\"a\":{\"b\":{\"c\":1}}}]", 0,
     ARR, 2, 0, "1: !too_deep@1:12 f0\n1: !too_deep@1:27 f0\n"},
    {"array: NUL inside", S("[{\"a\":1},{\"a\":\"\0\"}]"), ARR, 0, 0,
     "1: 1 - -\n1: !nul@1:16 f0\n"},
    {"array: too long element", "[{\"a\":1},\n{\"a\":\n123456789},{\"a\":2}]", 0, ARR, 0, 14,
     "1: 1 - -\n2: !too_long@3:9\n3: 2 - -\n"},
    {"array: too long truncated element", "[{\"a\":1},{\"a\":\"12345678901234567890", 0, ARR,
     0, 14, "1: 1 - -\n1: !too_long@1:24\n"},
    {"array: collect", "[{\"a\":1,\"x\":2},\n{\"y\":[\n1]}]", 0, ARR | COL, 0, 0,
     "1: 1 - - J{\"x\":2}\n2: - - - J{\"y\":[\\x0a1]}\n"},
    {"array: CRLF and tabs", "[\r\n\t{\"a\":1},\r\n\t{\"a\":\"\t\"}\r\n]\r\n", 0, ARR, 0, 0,
     "2: 1 - -\n3: !syntax@3:8 f0\n"},
};
/* clang-format on */

static const char *const abc_names[] = {"a", "b", "c", "_extra"};
static const char *const u_names[] = {"\xc3\xa9", "a b", "", "_extra"};
static const char *const x_names[] = {"q\"k", "b\\s", X70, "_extra"};

static const sl_json_simd variants[] = {SL_JSON_SIMD_SCALAR, SL_JSON_SIMD_SSE2, SL_JSON_SIMD_AVX2};

static void case_cfg(const jcase *c, sl_json_opts *o, json_run_cfg *cfg, sl_json_simd simd,
                     size_t cap_rows, bool full)
{
    sl_json_opts_default(o);
    o->array_mode = (c->flags & ARR) != 0;
    o->unknown = c->flags & REJ   ? SL_JSON_UNKNOWN_REJECT
                 : c->flags & COL ? SL_JSON_UNKNOWN_COLLECT
                                  : SL_JSON_UNKNOWN_IGNORE;
    o->dup_last_wins = (c->flags & LAST) != 0;
    if (c->max_depth)
        o->max_depth = c->max_depth;
    if (c->max_record)
        o->max_record = c->max_record;
    o->simd = simd;
    cfg->opts = o;
    cfg->names = c->flags & NAMES_U ? u_names : c->flags & NAMES_X ? x_names : abc_names;
    cfg->ncols = c->flags & COL ? 4 : 3;
    cfg->cap_rows = cap_rows;
    cfg->full = full;
}

static size_t case_len(const jcase *c)
{
    return c->len ? c->len : strlen(c->in);
}

static char *run_case(const jcase *c, sl_json_simd simd, size_t cap_rows, bool full, size_t step,
                      const size_t *cuts, size_t ncuts)
{
    sl_json_opts o;
    json_run_cfg cfg;
    case_cfg(c, &o, &cfg, simd, cap_rows, full);
    sl_err err;
    char *s = json_run(&cfg, c->in, case_len(c), step, cuts, ncuts, &err);
    if (!s)
        fail_msg("case '%s': run failed: %s", c->name, sl_strerror(err));
    return s;
}

static void check_same(const jcase *c, const char *want, char *got, const char *how)
{
    if (strcmp(want, got) != 0) {
        print_error("case '%s' (%s)\nwant:\n%sgot:\n%s", c->name, how, want, got);
        free(got);
        fail();
    }
    free(got);
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const jcase *c = &cases[i];
        char *got = run_case(c, SL_JSON_SIMD_AUTO, 0, false, 0, NULL, 0);
        if (strcmp(got, c->expect) != 0) {
            print_error("case '%s'\nwant:\n%sgot:\n%s", c->name, c->expect, got);
            free(got);
            fail();
        }
        free(got);
    }
}

/* Every case: identical full dumps for every split point, 1-byte chunks, 1-row blocks and
 * every scanner. */
static void test_chunk_differential(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const jcase *c = &cases[i];
        size_t n = case_len(c);
        char *want = run_case(c, SL_JSON_SIMD_SCALAR, 0, true, 0, NULL, 0);
        for (size_t v = 0; v < 3; v++)
            check_same(c, want, run_case(c, variants[v], 0, true, 0, NULL, 0), "scanner");
        check_same(c, want, run_case(c, SL_JSON_SIMD_AUTO, 1, true, 0, NULL, 0), "1-row blocks");
        check_same(c, want, run_case(c, SL_JSON_SIMD_AUTO, 0, true, 1, NULL, 0), "1-byte chunks");
        check_same(c, want, run_case(c, SL_JSON_SIMD_AUTO, 2, true, 3, NULL, 0),
                   "3-byte chunks, 2-row blocks");
        for (size_t at = 1; at < n; at++) {
            char how[64];
            snprintf(how, sizeof(how), "split at %zu", at);
            check_same(c, want, run_case(c, SL_JSON_SIMD_AUTO, 0, true, 0, &at, 1), how);
            size_t two[2] = {at / 2, at};
            check_same(c, want, run_case(c, SL_JSON_SIMD_SCALAR, 3, true, 0, two, 2), how);
        }
        free(want);
    }
}

/* Detail messages and raw records of a few rows. */
static void test_details(void **state)
{
    (void)state;
    static const jcase c = {"details",
                            "{\"a\":1,\"a\":2}\r\n{\"a\":\"abc\n[1]\n{\"a\":01}\n{\"x\":1}\n"
                            "{\"a\":\"\\ud800\"}\n{\"b\":\"\xff\"}\n\"\\q\"\n{\"a\":1}\r\n",
                            0,
                            REJ,
                            0,
                            0,
                            NULL};
    char *got = run_case(&c, SL_JSON_SIMD_AUTO, 0, true, 0, NULL, 0);
    const char *want =
        "1: !duplicate_key@1:8 f0 \"\"a\"\" | 1 - -  rec={\"a\":1,\"a\":2}\n"
        "2: !syntax@2:10 f0 \"unexpected end of input\" | - - -  rec={\"a\":\"abc\n"
        "3: !not_object@3:1 \"record is an array\" | - - -  rec=[1]\n"
        "4: !syntax@4:6 f0 \"leading zero in number\" | - - -  rec={\"a\":01}\n"
        "5: !unknown_field@5:2 \"\"x\"\" | - - -  rec={\"x\":1}\n"
        "6: !utf8@6:7 f0 \"lone surrogate in \\u escape\" | - - -  rec={\"a\":\"\\ud800\"}\n"
        "7: !utf8@7:7 f1 \"invalid UTF-8 in string\" | - - -  rec={\"b\":\"\\xff\"}\n"
        "8: !syntax@8:3 \"invalid escape\" | - - -  rec=\"\\q\"\n"
        "9: 1 - -  rec={\"a\":1}\n";
    check_same(&c, want, got, "details");
}

/* A string longer than 1 MiB, in various chunkings and with every scanner. */
static void test_long_string(void **state)
{
    (void)state;
    size_t n = (3u << 19) + 7; /* 1.5 MiB */
    sl_buf in;
    sl_buf_init(&in, 0);
    assert_int_equal(sl_buf_puts(&in, "{\"a\":1,\"b\":\""), SL_OK);
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = (uint8_t)('a' + i % 26);
        if (i % 1000 == 999) {
            assert_int_equal(sl_buf_puts(&in, "\xc3\xa9"), SL_OK); /* é */
            continue;
        }
        assert_int_equal(sl_buf_putc(&in, ch), SL_OK);
    }
    assert_int_equal(sl_buf_puts(&in, "\\n\",\"c\":2}\n{\"a\":3}\n"), SL_OK);
    jcase c = {"long string", (const char *)in.ptr, in.len, 0, 0, 0, NULL};
    char *want = run_case(&c, SL_JSON_SIMD_SCALAR, 0, true, 0, NULL, 0);
    /* row 1: escaped string of the expected length; row 2 good */
    assert_non_null(strstr(want, "2: 3 - -"));
    assert_null(strstr(want, "!"));
    for (size_t v = 0; v < 3; v++)
        check_same(&c, want, run_case(&c, variants[v], 0, true, 0, NULL, 0), "scanner");
    check_same(&c, want, run_case(&c, SL_JSON_SIMD_AUTO, 0, true, 4093, NULL, 0), "4093 chunks");
    size_t cuts[] = {5, 13, 100000, 1000003, in.len - 20};
    check_same(&c, want, run_case(&c, SL_JSON_SIMD_AUTO, 0, true, 0, cuts, 5), "cuts");

    /* the cell itself */
    sl_json *p;
    sl_rowblock b;
    assert_int_equal(sl_json_create(NULL, abc_names, 3, &p), SL_OK);
    assert_int_equal(sl_rowblock_init(&b, 3, 16), SL_OK);
    assert_int_equal(sl_json_feed(p, in.ptr, in.len), SL_OK);
    assert_int_equal(sl_json_next(p, true, &b), SL_OK);
    assert_int_equal(b.nrows, 2);
    assert_int_equal(b.nbad, 0);
    const sl_cell *cb = &b.cells[1];
    assert_int_equal(cb->kind, SL_CELL_STRING);
    assert_int_equal(cb->flags, SL_CELLF_JSON_ESCAPES);
    assert_int_equal(cb->len, n + n / 1000 + 2);
    sl_rowblock_release(&b);
    sl_json_destroy(p);
    free(want);
    sl_buf_release(&in);
}

/* Lines and elements much longer than max_record stream through in bounded memory. */
static void test_too_long_streaming(void **state)
{
    (void)state;
    sl_json_opts o;
    sl_json_opts_default(&o);
    o.max_record = 100;
    o.max_buffer = 300;
    for (int arr = 0; arr < 2; arr++) {
        o.array_mode = arr;
        sl_json *p;
        sl_rowblock b;
        assert_int_equal(sl_json_create(&o, abc_names, 3, &p), SL_OK);
        assert_int_equal(sl_rowblock_init(&b, 3, 8), SL_OK);
        const char *head = arr ? "[{\"a\":1},{\"b\":\"" : "{\"a\":1}\n{\"b\":\"";
        const char *tail = arr ? "\"},{\"a\":2}]" : "\"}\n{\"a\":2}\n";
        assert_int_equal(sl_json_feed(p, head, strlen(head)), SL_OK);
        size_t rows = 0, bad = 0;
        char chunk[64];
        memset(chunk, 'x', sizeof(chunk));
        for (int i = 0; i < 10000; i++) { /* 640 KB through a 300-byte buffer */
            assert_int_equal(sl_json_feed(p, chunk, sizeof(chunk)), SL_OK);
            do {
                sl_rowblock_clear(&b);
                assert_int_equal(sl_json_next(p, false, &b), SL_OK);
                rows += b.nrows;
                bad += b.nbad;
            } while (b.nrows);
        }
        assert_int_equal(sl_json_feed(p, tail, strlen(tail)), SL_OK);
        do {
            sl_rowblock_clear(&b);
            assert_int_equal(sl_json_next(p, true, &b), SL_OK);
            for (size_t r = 0; r < b.nrows; r++) {
                if (b.row_err[r].code != SL_ROW_OK) {
                    assert_int_equal(b.row_err[r].code, SL_ROW_TOO_LONG);
                    assert_int_equal(b.line[r], arr ? 1 : 2);
                    assert_int_equal(b.rec_len[r], 100);
                }
            }
            rows += b.nrows;
            bad += b.nbad;
        } while (b.nrows);
        assert_int_equal(rows, 3);
        assert_int_equal(bad, 1);
        /* a too large feed is refused */
        char big[400] = {0};
        assert_int_equal(sl_json_feed(p, big, sizeof(big)), SL_FULL);
        sl_rowblock_release(&b);
        sl_json_destroy(p);
    }
}

static char *nest(const char *open, const char *close, size_t levels, const char *prefix)
{
    size_t lo = strlen(open), lc = strlen(close), lp = strlen(prefix);
    char *s = malloc(lp + levels * (lo + lc) + 3);
    assert_non_null(s);
    char *w = s;
    memcpy(w, prefix, lp);
    w += lp;
    for (size_t i = 0; i < levels; i++, w += lo)
        memcpy(w, open, lo);
    for (size_t i = 0; i < levels; i++, w += lc)
        memcpy(w, close, lc);
    memcpy(w, "}\n", 3);
    return s;
}

/* Default max_depth 64: 64 levels fine, 65 not; 100001 levels neither crash nor recurse. */
static void test_deep_nesting(void **state)
{
    (void)state;
    char *ok = nest("[", "]", 63, "{\"a\":"); /* object + 63 arrays = depth 64 */
    char *deep = nest("[", "]", 64, "{\"a\":");
    char *deeper = nest("{\"k\":[", "]}", 50000, "{\"x\":"); /* 100001 levels */
    jcase c1 = {"depth 64", ok, 0, 0, 0, 0, NULL};
    jcase c2 = {"depth 65", deep, 0, 0, 0, 0, NULL};
    jcase c3 = {"depth 100001", deeper, 0, 0, 0, 0, NULL};
    char *r1 = run_case(&c1, SL_JSON_SIMD_AUTO, 0, false, 0, NULL, 0);
    char *r2 = run_case(&c2, SL_JSON_SIMD_AUTO, 0, false, 0, NULL, 0);
    char *r3 = run_case(&c3, SL_JSON_SIMD_AUTO, 0, false, 0, NULL, 0);
    assert_true(strncmp(r1, "1: J[[[", 7) == 0);
    assert_string_equal(r2, "1: !too_deep@1:69 f0\n"); /* 5 + 64 */
    assert_string_equal(r3, "1: !too_deep@1:197\n"); /* level 65: '[' of unit 32, 6 + 31 * 6 + 5 */
    /* max_depth can be raised */
    sl_json_opts o;
    sl_json_opts_default(&o);
    o.max_depth = 200000;
    json_run_cfg cfg = {&o, abc_names, 3, 0, false};
    char *r4 = json_run(&cfg, deeper, strlen(deeper), 0, NULL, 0, NULL);
    assert_string_equal(r4, "1: - - -\n");
    free(r1);
    free(r2);
    free(r3);
    free(r4);
    free(ok);
    free(deep);
    free(deeper);
}

typedef struct {
    const char *in;
    const char *out;
    size_t out_len; /* 0: strlen(out) */
} unesc_case;

static void test_unescape(void **state)
{
    (void)state;
    static const unesc_case v[] = {
        {"", "", 0},
        {"plain", "plain", 0},
        {"\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t", 0},
        {"a\\u0061b", "aab", 0},
        {"\\u00e9\\u00E9", "\xc3\xa9\xc3\xa9", 0},
        {"\\u20ac", "\xe2\x82\xac", 0},
        {"\\uffff", "\xef\xbf\xbf", 0},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80", 0},
        {"\\uD834\\uDD1E!", "\xf0\x9d\x84\x9e!", 0},
        {"\\udbff\\udfff", "\xf4\x8f\xbf\xbf", 0},
        {"\\u0000x", "\0x", 2},
        {"\\u007f\\u0080\\u07ff\\u0800", "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80", 0},
        {"h\xc3\xa9\\n", "h\xc3\xa9\n", 0},
        /* not valid per the parser; still bounded and defined */
        {"\\ud800", "\xef\xbf\xbd", 0},
        {"\\udc00x", "\xef\xbf\xbdx", 0},
        {"\\ud800\\u0041",
         "\xef\xbf\xbd"
         "A",
         0},
        {"\\x", "\\x", 0},
        {"\\u12", "\\u12", 0},
        {"a\\", "a\\", 0},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i].in), want = v[i].out_len ? v[i].out_len : strlen(v[i].out);
        uint8_t out[64];
        memset(out, 0xAA, sizeof(out));
        size_t got = sl_json_unescape((const uint8_t *)v[i].in, n, out);
        assert_true(got <= n);
        if (got != want || memcmp(out, v[i].out, want) != 0)
            fail_msg("unescape vector %zu '%s': got %zu bytes", i, v[i].in, got);
        assert_int_equal(out[n], 0xAA); /* nothing written past n */
        /* in place */
        uint8_t buf[64];
        memcpy(buf, v[i].in, n);
        assert_int_equal(sl_json_unescape(buf, n, buf), want);
        assert_memory_equal(buf, v[i].out, want);
    }
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } v[] = {
        {"", true},
        {"ascii", true},
        {"\xc3\xa9", true},
        {"\xe2\x82\xac", true},
        {"\xf0\x9f\x98\x80", true},
        {"\xf4\x8f\xbf\xbf", true},
        {"\xed\x9f\xbf", true},
        {"\xee\x80\x80", true},
        {"\xc0\x80", false},
        {"\xc1\xbf", false},
        {"\xe0\x9f\xbf", false},
        {"\xf0\x8f\xbf\xbf", false},
        {"\xed\xa0\x80", false},
        {"\xf4\x90\x80\x80", false},
        {"\xf5\x80\x80\x80", false},
        {"\xff", false},
        {"\x80", false},
        {"\xc3", false},
        {"\xe2\x82", false},
        {"a\xf0\x9f\x98", false},
        {"\xc3\x28", false},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (sl_json_utf8_valid((const uint8_t *)v[i].s, strlen(v[i].s)) != v[i].ok)
            fail_msg("utf8 vector %zu", i);
    }
}

static void test_scan_keys(void **state)
{
    (void)state;
    const char *in = "{\"id\":1,\"name\":\"x\"}\n"
                     "{\"name\":\"y\",\"\\u0069d\":2,\"tags\":[1],\"n\\u0000ul\":1}\n"
                     "{\"bad\":01}\n"
                     "\n"
                     "{\"id\":3,\"extra\":{\"inner\":1},\"id\":4}\n"
                     "{\"late\":1}\n"
                     "{\"partial\":";
    sl_json_keys k;
    assert_int_equal(sl_json_scan_keys(NULL, in, strlen(in), false, 0, &k), SL_OK);
    assert_int_equal(k.records, 5);
    assert_int_equal(k.bad, 1);
    assert_int_equal(k.n, 5);
    assert_string_equal(k.names[0], "id");
    assert_string_equal(k.names[1], "name");
    assert_string_equal(k.names[2], "tags");
    assert_string_equal(k.names[3], "extra");
    assert_string_equal(k.names[4], "late");
    assert_int_equal(k.lens[3], 5);
    sl_json_keys_release(&k);

    /* at eof the partial record counts (and is bad); max_records stops early */
    assert_int_equal(sl_json_scan_keys(NULL, in, strlen(in), true, 0, &k), SL_OK);
    assert_int_equal(k.records, 6);
    assert_int_equal(k.bad, 2);
    sl_json_keys_release(&k);
    assert_int_equal(sl_json_scan_keys(NULL, in, strlen(in), true, 2, &k), SL_OK);
    assert_int_equal(k.records, 2);
    assert_int_equal(k.n, 3);
    sl_json_keys_release(&k);

    /* array mode */
    sl_json_opts o;
    sl_json_opts_default(&o);
    o.array_mode = true;
    const char *arr = "[{\"b\":1,\"a\":2},\n{\"c\":3,\"a\":4}]";
    assert_int_equal(sl_json_scan_keys(&o, arr, strlen(arr), true, 0, &k), SL_OK);
    assert_int_equal(k.records, 2);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.names[0], "b");
    assert_string_equal(k.names[1], "a");
    assert_string_equal(k.names[2], "c");
    sl_json_keys_release(&k);

    /* then parse with the discovered names */
    assert_int_equal(sl_json_scan_keys(NULL, in, strlen(in), false, 0, &k), SL_OK);
    json_run_cfg cfg = {NULL, (const char *const *)k.names, k.n, 0, false};
    char *s = json_run(&cfg, in, strlen(in), 0, NULL, 0, NULL);
    assert_string_equal(s, "1: 1 \"x\" - - -\n"
                           "2: 2 \"y\" J[1] - -\n"
                           "3: !syntax@3:8\n"
                           "5: !duplicate_key@5:29 f0\n"
                           "6: - - - - 1\n"
                           "7: !syntax@7:12\n");
    free(s);
    sl_json_keys_release(&k);
}

static void test_api(void **state)
{
    (void)state;
    sl_json *p = (sl_json *)1;
    const char *dup[] = {"a", "b", "a"};
    assert_int_equal(sl_json_create(NULL, dup, 3, &p), SL_INVALID);
    assert_null(p);
    const char *nul[] = {"a", NULL};
    assert_int_equal(sl_json_create(NULL, nul, 2, &p), SL_INVALID);
    sl_json_opts o;
    sl_json_opts_default(&o);
    assert_int_equal(o.max_depth, 64);
    assert_int_equal(o.max_record, 16u << 20);
    assert_false(o.dup_last_wins);
    assert_int_equal(o.unknown, SL_JSON_UNKNOWN_IGNORE);
    o.unknown = SL_JSON_UNKNOWN_COLLECT;
    assert_int_equal(sl_json_create(&o, NULL, 0, &p), SL_INVALID);
    const char *clash[] = {"a", "a"}; /* collect column named like a data column */
    assert_int_equal(sl_json_create(&o, clash, 2, &p), SL_INVALID);
    o.unknown = (sl_json_unknown)7;
    assert_int_equal(sl_json_create(&o, abc_names, 3, &p), SL_INVALID);
    sl_json_destroy(NULL);

    /* no columns: every key is unknown */
    assert_int_equal(sl_json_create(NULL, NULL, 0, &p), SL_OK);
    sl_rowblock b0, b3;
    assert_int_equal(sl_rowblock_init(&b0, 0, 4), SL_OK);
    assert_int_equal(sl_rowblock_init(&b3, 3, 4), SL_OK);
    assert_int_equal(sl_json_next(p, false, &b3), SL_INVALID);
    assert_int_equal(sl_json_feed(p, "{\"a\":1}\n[]\n", 11), SL_OK);
    assert_int_equal(sl_json_next(p, false, &b0), SL_OK);
    assert_int_equal(b0.nrows, 2);
    assert_int_equal(b0.nbad, 1);
    assert_int_equal(sl_json_next(p, false, &b0), SL_STATE); /* not cleared */
    sl_json_destroy(p);

    /* reset and first line */
    assert_int_equal(sl_json_create(NULL, abc_names, 3, &p), SL_OK);
    sl_json_set_first_line(p, 41);
    assert_int_equal(sl_json_feed(p, "{\"a\":1}\n{\"a\":", 13), SL_OK);
    sl_rowblock_clear(&b3);
    assert_int_equal(sl_json_next(p, false, &b3), SL_OK);
    assert_int_equal(b3.nrows, 1);
    assert_int_equal(b3.line[0], 41);
    sl_json_reset(p);
    assert_int_equal(sl_json_feed(p, "\xef\xbb\xbf{}\n{\"b\":2}", 13), SL_OK);
    sl_rowblock_clear(&b3);
    assert_int_equal(sl_json_next(p, false, &b3), SL_OK);
    assert_int_equal(b3.nrows, 1); /* a BOM is kept mid-file: syntax error */
    assert_int_equal(b3.line[0], 41);
    assert_int_equal(b3.row_err[0].code, SL_ROW_SYNTAX);
    sl_json_reset(p);
    assert_int_equal(sl_json_feed(p, "\n{\"b\":2}", 8), SL_OK);
    sl_rowblock_clear(&b3);
    assert_int_equal(sl_json_next(p, true, &b3), SL_OK);
    assert_int_equal(b3.nrows, 1);
    assert_int_equal(b3.line[0], 42);
    assert_int_equal(b3.cells[1].kind, SL_CELL_TEXT);
    assert_memory_equal(b3.text + b3.cells[1].off, "2", 1);
    sl_rowblock_clear(&b3);
    assert_int_equal(sl_json_next(p, true, &b3), SL_OK);
    assert_int_equal(b3.nrows, 0);
    sl_json_destroy(p);

    /* zero-copy feeding */
    assert_int_equal(sl_json_create(NULL, abc_names, 3, &p), SL_OK);
    void *dst;
    assert_int_equal(sl_json_reserve(p, 64, &dst), SL_OK);
    memcpy(dst, "{\"a\":7}\n{\"b\"", 12);
    assert_int_equal(sl_json_commit(p, 65), SL_INVALID);
    assert_int_equal(sl_json_commit(p, 12), SL_OK);
    assert_int_equal(sl_json_commit(p, 1), SL_INVALID); /* reservation used up */
    assert_int_equal(sl_json_reserve(p, 64, &dst), SL_OK);
    memcpy(dst, ":8}", 3);
    assert_int_equal(sl_json_commit(p, 3), SL_OK);
    sl_rowblock_clear(&b3);
    assert_int_equal(sl_json_next(p, true, &b3), SL_OK);
    assert_int_equal(b3.nrows, 2);
    assert_memory_equal(b3.text + b3.cells[0].off, "7", 1);
    assert_memory_equal(b3.text + b3.cells[4].off, "8", 1);
    assert_int_equal(sl_json_reserve(p, (size_t)1 << 40, &dst), SL_FULL);
    assert_null(dst);

    /* borrowed input: parsed where it is, the same rows and errors as fed input, the bytes
     * unchanged afterwards, the parser's own buffer back after a reset */
    {
        static const char in[] = "{\"a\":1,\"b\":\"x\\n\"}\n{\"a\":2,\"c\":[1,{\"d\":2}]}\r\n"
                                 "{\"a\":3,\n\n{\"c\":null}"; /* a bad line; no final newline */
        size_t n = sizeof(in) - 1, cap = n + SL_JSON_BORROW_PAD;
        uint8_t *mem = malloc(cap);
        assert_non_null(mem);
        memcpy(mem, in, n);
        assert_int_equal(sl_json_borrow(p, mem, n, cap - 1), SL_INVALID); /* no room to pad */
        sl_json_set_first_line(p, 10);
        assert_int_equal(sl_json_borrow(p, mem, n, cap), SL_OK);
        assert_int_equal(sl_json_feed(p, "{}\n", 3), SL_STATE);
        assert_int_equal(sl_json_reserve(p, 8, &dst), SL_STATE);
        sl_rowblock_clear(&b3);
        assert_int_equal(sl_json_next(p, true, &b3), SL_OK);
        assert_memory_equal(mem, in, n);
        sl_json *q;
        sl_rowblock bq;
        assert_int_equal(sl_rowblock_init(&bq, 3, 16), SL_OK);
        assert_int_equal(sl_json_create(NULL, abc_names, 3, &q), SL_OK);
        sl_json_set_first_line(q, 10);
        assert_int_equal(sl_json_feed(q, in, n), SL_OK);
        assert_int_equal(sl_json_next(q, true, &bq), SL_OK);
        assert_int_equal(b3.nrows, 4);
        assert_int_equal(bq.nrows, b3.nrows);
        for (size_t r = 0; r < b3.nrows; r++) {
            assert_int_equal(b3.line[r], bq.line[r]);
            assert_int_equal(b3.row_err[r].code, bq.row_err[r].code);
            if (b3.row_err[r].code != SL_ROW_OK)
                assert_int_equal(b3.row_err[r].column, bq.row_err[r].column);
            for (size_t k = 0; k < 3; k++) {
                const sl_cell *x = &b3.cells[r * 3 + k], *y = &bq.cells[r * 3 + k];
                assert_int_equal(x->kind, y->kind);
                assert_int_equal(x->len, y->len);
                assert_memory_equal(b3.text + x->off, bq.text + y->off, x->len);
            }
        }
        assert_int_equal(b3.line[2], 12);
        assert_int_not_equal(b3.row_err[2].code, SL_ROW_OK);
        sl_json_destroy(q);
        sl_rowblock_release(&bq);
        /* reset gives the buffer back: feeding works again */
        sl_json_reset(p);
        assert_int_equal(sl_json_feed(p, "{\"a\":5}\n", 8), SL_OK);
        sl_rowblock_clear(&b3);
        assert_int_equal(sl_json_next(p, false, &b3), SL_OK);
        assert_int_equal(b3.nrows, 1);
        assert_memory_equal(b3.text + b3.cells[0].off, "5", 1);
        /* destroyed while borrowing: frees its own buffer, not the borrowed one (ASan) */
        assert_int_equal(sl_json_borrow(p, mem, n, cap), SL_OK);
        sl_json_destroy(p);
        assert_memory_equal(mem, in, n);
        /* COLLECT writes after the input: no borrowing */
        sl_json_opts co;
        sl_json_opts_default(&co);
        co.unknown = SL_JSON_UNKNOWN_COLLECT;
        assert_int_equal(sl_json_create(&co, abc_names, 3, &p), SL_OK);
        assert_int_equal(sl_json_borrow(p, mem, n, cap), SL_INVALID);
        free(mem);
    }
    sl_json_destroy(p);

    /* scanner names and the environment override */
    o.unknown = SL_JSON_UNKNOWN_IGNORE;
    o.simd = SL_JSON_SIMD_SCALAR;
    assert_int_equal(sl_json_create(&o, abc_names, 3, &p), SL_OK);
    assert_string_equal(sl_json_simd_name(p), "scalar");
    sl_json_destroy(p);
    o.simd = SL_JSON_SIMD_SSE2;
    assert_int_equal(sl_json_create(&o, abc_names, 3, &p), SL_OK);
#if defined(__x86_64__)
    assert_string_equal(sl_json_simd_name(p), "sse2");
#endif
    sl_json_destroy(p);
    const char *old = getenv("SLUICE_SIMD");
    char *saved = old ? strdup(old) : NULL;
    setenv("SLUICE_SIMD", "scalar", 1);
    o.simd = SL_JSON_SIMD_AUTO;
    assert_int_equal(sl_json_create(&o, abc_names, 3, &p), SL_OK);
    assert_string_equal(sl_json_simd_name(p), "scalar");
    sl_json_destroy(p);
    if (saved) {
        setenv("SLUICE_SIMD", saved, 1);
        free(saved);
    } else {
        unsetenv("SLUICE_SIMD");
    }
    sl_rowblock_release(&b0);
    sl_rowblock_release(&b3);
}

/* ---- seeded random differential -------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

static void gen_value(sl_buf *o, int depth);

static void gen_string(sl_buf *o)
{
    static const char *const parts[] = {"a",
                                        "xyz",
                                        " ",
                                        "\\n",
                                        "\\\"",
                                        "\\u00e9",
                                        "\\ud83d\\ude00",
                                        "\xc3\xa9",
                                        "\xe6\x97\xa5",
                                        "\\/",
                                        "\\t",
                                        "0123456789abcdefghij"};
    jd(sl_buf_putc(o, '"'));
    for (uint32_t i = rnd(6); i > 0; i--)
        jd(sl_buf_puts(o, parts[rnd(sizeof(parts) / sizeof(parts[0]))]));
    jd(sl_buf_putc(o, '"'));
}

static void gen_value(sl_buf *o, int depth)
{
    static const char *const nums[] = {"0", "-1", "3.25", "1e10", "-0.5E-3", "123456789012"};
    switch (rnd(depth > 3 ? 5 : 7)) {
    case 0:
        jd(sl_buf_puts(o, nums[rnd(6)]));
        break;
    case 1:
        gen_string(o);
        break;
    case 2:
        jd(sl_buf_puts(o, rnd(2) ? "true" : "false"));
        break;
    case 3:
        jd(sl_buf_puts(o, "null"));
        break;
    case 4:
        jd(sl_buf_puts(o, nums[rnd(6)]));
        break;
    case 5:
        jd(sl_buf_putc(o, '['));
        for (uint32_t i = rnd(4), k = 0; k < i; k++) {
            if (k)
                jd(sl_buf_puts(o, rnd(4) ? "," : " , "));
            gen_value(o, depth + 1);
        }
        jd(sl_buf_putc(o, ']'));
        break;
    default:
        jd(sl_buf_putc(o, '{'));
        for (uint32_t i = rnd(4), k = 0; k < i; k++) {
            if (k)
                jd(sl_buf_putc(o, ','));
            gen_string(o);
            jd(sl_buf_puts(o, rnd(4) ? ":" : " :\t"));
            gen_value(o, depth + 1);
        }
        jd(sl_buf_putc(o, '}'));
        break;
    }
}

static void gen_record(sl_buf *o)
{
    static const char *const keys[] = {"\"a\"", "\"b\"", "\"c\"", "\"x\"", "\"\\u0062\""};
    jd(sl_buf_putc(o, '{'));
    for (uint32_t i = rnd(5), k = 0; k < i; k++) {
        if (k)
            jd(sl_buf_putc(o, ','));
        jd(sl_buf_puts(o, keys[rnd(5)]));
        jd(sl_buf_putc(o, ':'));
        gen_value(o, 1);
    }
    jd(sl_buf_putc(o, '}'));
}

static void test_random_differential(void **state)
{
    (void)state;
    rng_state = 12345;
    static const char junk[] = "{}[]\",:\\\n\r \x00\x80\xc3\xed\xff"
                               "e-+.0ux";
    for (int iter = 0; iter < 300; iter++) {
        bool arr = iter % 3 == 2;
        sl_buf in;
        sl_buf_init(&in, 0);
        if (arr)
            jd(sl_buf_putc(&in, '['));
        for (uint32_t r = 0, nr = 1 + rnd(8); r < nr; r++) {
            if (arr && r)
                jd(sl_buf_puts(&in, rnd(3) ? "," : ",\n"));
            gen_record(&in);
            if (!arr)
                jd(sl_buf_puts(&in, rnd(5) ? "\n" : "\r\n"));
        }
        if (arr)
            jd(sl_buf_putc(&in, ']'));
        /* mutate some inputs */
        for (uint32_t m = rnd(3) == 0 ? rnd(4) : 0; m > 0 && in.len; m--) {
            size_t at = rnd((uint32_t)in.len);
            switch (rnd(3)) {
            case 0:
                in.ptr[at] = (uint8_t)junk[rnd(sizeof(junk) - 1)];
                break;
            case 1:
                memmove(in.ptr + at, in.ptr + at + 1, in.len - at - 1);
                in.len--;
                break;
            default:
                in.len = at;
                break;
            }
        }
        unsigned flags = (arr ? ARR : 0) | (iter % 4 == 1 ? COL : 0) | (iter % 5 == 3 ? LAST : 0);
        jcase c = {"random",
                   (const char *)(in.ptr ? in.ptr : (uint8_t *)""),
                   in.len,
                   flags,
                   (size_t)(iter % 7 == 0 ? 3 : 0),
                   (size_t)(iter % 11 == 0 ? 40 : 0),
                   NULL};
        if (!in.len)
            c.in = "";
        char *want = run_case(&c, SL_JSON_SIMD_SCALAR, 0, true, 0, NULL, 0);
        for (size_t v = 1; v < 3; v++)
            check_same(&c, want, run_case(&c, variants[v], 0, true, 0, NULL, 0), "scanner");
        check_same(&c, want, run_case(&c, SL_JSON_SIMD_AUTO, 1, true, 1, NULL, 0), "1-byte");
        size_t cuts[4];
        for (int k = 0; k < 4; k++)
            cuts[k] = in.len ? rnd((uint32_t)in.len + 1) : 0;
        for (int a = 0; a < 4; a++) /* sort */
            for (int b2 = a + 1; b2 < 4; b2++)
                if (cuts[b2] < cuts[a]) {
                    size_t t = cuts[a];
                    cuts[a] = cuts[b2];
                    cuts[b2] = t;
                }
        check_same(&c, want, run_case(&c, SL_JSON_SIMD_AUTO, 2, true, 0, cuts, 4), "random cuts");
        free(want);
        sl_buf_release(&in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_chunk_differential),
        cmocka_unit_test(test_details),
        cmocka_unit_test(test_long_string),
        cmocka_unit_test(test_too_long_streaming),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_scan_keys),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_random_differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
