/* json_scan_fuzz.c: libFuzzer target for src/util/json_scan.c (API request bodies, CLI answers).
 *
 * Properties (any violation aborts):
 *   - nothing crashes, reads out of bounds or hits undefined behaviour, valid or not;
 *   - a failure has a message and a position within the input;
 *   - a valid document's root span is itself valid; walking every container with
 *     sl_jscan_next visits spans that are valid JSON inside the parent; every member found by
 *     iteration is found by sl_jscan_get (for keys without escapes); string decoding never
 *     writes past its buffer and yields no NUL; numbers convert without crashing.
 *
 * Seeds: tests/fuzz/corpus/json_scan/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "json_scan_fuzz: %s\n", what);
    abort();
}

static void walk(sl_jspan v, int depth)
{
    check(depth <= SL_JSCAN_MAX_DEPTH + 1, "walk deeper than the limit");
    check(sl_jscan_valid(v.p, v.n, NULL, NULL, NULL), "a member span is not valid JSON");
    sl_jtype t = sl_jscan_type(v);
    check(t != SL_JS_INVALID, "valid span of invalid type");
    char buf[64];
    if (t == SL_JS_STRING && sl_jscan_str(v, buf, sizeof(buf)))
        check(strlen(buf) < sizeof(buf), "decoded string overflows");
    int64_t i;
    double d;
    if (t == SL_JS_NUMBER) {
        (void)sl_jscan_i64(v, &i);
        check(sl_jscan_f64(v, &d) || v.n > 63, "a valid number does not convert");
    }
    if (t != SL_JS_OBJECT && t != SL_JS_ARRAY)
        return;
    size_t it = 0, prev = 0;
    sl_jspan k, m;
    int n = 0;
    while (sl_jscan_next(v, &it, &k, &m)) {
        check(it > prev && it <= v.n, "iteration does not advance within the container");
        prev = it;
        check(m.p >= v.p && m.p + m.n <= v.p + v.n, "member outside its container");
        if (t == SL_JS_OBJECT) {
            char key[128];
            if (k.n < sizeof(key) && !memchr(k.p, '\\', k.n)) {
                memcpy(key, k.p + 1, k.n - 2);
                key[k.n - 2] = 0;
                sl_jspan g;
                check(sl_jscan_get(v, key, &g), "iterated key not found by get");
            }
        }
        walk(m, depth + 1);
        if (++n > 10000)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    sl_jspan root;
    size_t pos = 0;
    const char *why = NULL;
    if (!sl_jscan_valid(p, size, &root, &pos, &why)) {
        check(why && *why, "failure without a message");
        check(pos <= size, "failure position past the input");
        return 0;
    }
    check(root.p >= p && root.p + root.n <= p + size, "root outside the input");
    walk(root, 0);
    return 0;
}
