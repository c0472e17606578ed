/* crc32c.c: CRC-32C, hardware (SSE4.2 crc32, 8 bytes per instruction) with a slicing-by-8
 * software fallback. See crc32c.h.
 *
 * Both paths keep the running register inverted (init ~0, final ~) so that results chain: the
 * caller passes the previous result and gets the CRC of the concatenation. The software tables
 * (8 x 256 words) are built once under pthread_once. The hardware path is selected per call by
 * __builtin_cpu_supports, a load of a word libgcc/compiler-rt filled in at startup.
 */
#include "util/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define SL_CRC_HAVE_X86 1
#endif

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t sl__crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *s = p;
    uint32_t c = ~crc;
    pthread_once(&table_once, table_init);
    while (n && ((uintptr_t)s & 7)) {
        c = (c >> 8) ^ table[0][(c ^ *s++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint32_t lo = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                      (uint32_t)s[3] << 24;
        uint32_t hi = (uint32_t)s[4] | (uint32_t)s[5] << 8 | (uint32_t)s[6] << 16 |
                      (uint32_t)s[7] << 24;
        lo ^= c;
        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
            table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
            table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        s += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ table[0][(c ^ *s++) & 0xff];
    return ~c;
}

#ifdef SL_CRC_HAVE_X86
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const uint8_t *s,
                                                             size_t n)
{
    uint32_t c = ~crc;
    while (n && ((uintptr_t)s & 7)) {
        c = _mm_crc32_u8(c, *s++);
        n--;
    }
#if defined(__x86_64__)
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        c64 = _mm_crc32_u64(c64, v);
        s += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
#endif
    while (n >= 4) {
        uint32_t v;
        memcpy(&v, s, 4);
        c = _mm_crc32_u32(c, v);
        s += 4;
        n -= 4;
    }
    while (n--)
        c = _mm_crc32_u8(c, *s++);
    return ~c;
}
#endif

bool sl__crc32c_hw_available(void)
{
#ifdef SL_CRC_HAVE_X86
    return __builtin_cpu_supports("sse4.2");
#else
    return false;
#endif
}

uint32_t sl__crc32c_hw(uint32_t crc, const void *p, size_t n)
{
#ifdef SL_CRC_HAVE_X86
    return crc_sse42(crc, p, n);
#else
    return sl__crc32c_sw(crc, p, n);
#endif
}

uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n)
{
#ifdef SL_CRC_HAVE_X86
    if (__builtin_cpu_supports("sse4.2"))
        return crc_sse42(crc, p, n);
#endif
    return sl__crc32c_sw(crc, p, n);
}
