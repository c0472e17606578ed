/* crc32c_test.c: tests of src/util/crc32c.c.
 *
 * The standard check value and the iSCSI vectors of RFC 3720 B.4 on the software table, the
 * SSE4.2 path (when the CPU has it) and the dispatching sl_crc32c; then both paths against a
 * bit-at-a-time reference on random buffers at every alignment 0..15 and length 0..300, also
 * chained in two pieces split at every point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static uint32_t crc_bitwise(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *s = p;
    crc = ~crc;
    while (n--) {
        crc ^= *s++;
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static void check_vectors(crc_fn fn)
{
    uint8_t buf[48];
    assert_int_equal(fn(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(fn(0, NULL, 0), 0);
    assert_int_equal(fn(0x12345678u, NULL, 0), 0x12345678u);
    memset(buf, 0, 32);
    assert_int_equal(fn(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, 32);
    assert_int_equal(fn(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(fn(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(fn(0, buf, 32), 0x113FDB5Cu);
    /* iSCSI SCSI Read (10) command PDU */
    static const uint8_t pdu[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                    0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(fn(0, pdu, sizeof(pdu)), 0xD9963A56u);
}

static void test_vectors_sw(void **state)
{
    (void)state;
    check_vectors(sl__crc32c_sw);
    check_vectors(crc_bitwise);
}

static void test_vectors_hw(void **state)
{
    (void)state;
    if (!sl__crc32c_hw_available()) {
        printf("crc32c_test: no SSE4.2 on this CPU, hardware path not tested\n");
        skip();
    }
    check_vectors(sl__crc32c_hw);
}

static void test_vectors_dispatch(void **state)
{
    (void)state;
    check_vectors(sl_crc32c);
}

static void check_random(crc_fn fn)
{
    uint8_t *buf = malloc(400);
    assert_non_null(buf);
    uint32_t x = 12345;
    for (int i = 0; i < 400; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t align = 0; align < 16; align++) {
        for (size_t len = 0; len <= 300; len++) {
            uint32_t want = crc_bitwise(0, buf + align, len);
            assert_int_equal(fn(0, buf + align, len), want);
            /* chaining: any split gives the same value */
            for (size_t cut = 0; cut <= len; cut += 1 + len / 7) {
                uint32_t c = fn(fn(0, buf + align, cut), buf + align + cut, len - cut);
                assert_int_equal(c, want);
            }
            /* non-zero start value */
            assert_int_equal(fn(0xDEADBEEFu, buf + align, len),
                             crc_bitwise(0xDEADBEEFu, buf + align, len));
        }
    }
    free(buf);
}

static void test_random_sw(void **state)
{
    (void)state;
    check_random(sl__crc32c_sw);
}

static void test_random_hw(void **state)
{
    (void)state;
    if (!sl__crc32c_hw_available())
        skip();
    check_random(sl__crc32c_hw);
    check_random(sl_crc32c);
}

/* Long inputs: the hardware path's 3-stream blocks (3 x 256 and 3 x 8192 bytes) and their
 * edges, at a few alignments, against the software table (itself checked against the bitwise
 * reference here on a subset). */
static void test_long(void **state)
{
    (void)state;
    const size_t lens[] = {767,   768,   769,   1023,  1024,  1535,  1536,   1537,   24575,
                           24576, 24577, 25343, 25344, 49152, 49919, 100000, 1 << 20};
    size_t max = (1 << 20) + 16;
    uint8_t *buf = malloc(max);
    assert_non_null(buf);
    uint32_t x = 99;
    for (size_t i = 0; i < max; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    bool hw = sl__crc32c_hw_available();
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        for (size_t align = 0; align < 16; align += 5) {
            uint32_t want = sl__crc32c_sw(0, buf + align, lens[k]);
            if (lens[k] < 30000 && align == 0)
                assert_int_equal(crc_bitwise(0, buf, lens[k]), want);
            assert_int_equal(sl_crc32c(0, buf + align, lens[k]), want);
            if (hw) {
                assert_int_equal(sl__crc32c_hw(0, buf + align, lens[k]), want);
                uint32_t c = sl__crc32c_hw(0, buf + align, lens[k] / 3);
                c = sl__crc32c_hw(c, buf + align + lens[k] / 3, lens[k] - lens[k] / 3);
                assert_int_equal(c, want);
            }
        }
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_sw),       cmocka_unit_test(test_vectors_hw),
        cmocka_unit_test(test_vectors_dispatch), cmocka_unit_test(test_random_sw),
        cmocka_unit_test(test_random_hw),        cmocka_unit_test(test_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
