/* crc32c.c: CRC-32C, hardware (SSE4.2 crc32, 8 bytes per instruction) with a slicing-by-8
 * software fallback. See crc32c.h.
 *
 * Both paths keep the running register inverted (init ~0, final ~) so that results chain: the
 * caller passes the previous result and gets the CRC of the concatenation. The hardware path
 * runs three independent crc32 streams over three adjacent blocks (the instruction has a
 * latency of 3 cycles but a throughput of 1) and merges them by linearity: CRC(A || B) =
 * shift(CRC(A), |B| zero bytes) ^ CRC0(B), the shift being a 32x32 GF(2) matrix applied as 4
 * table lookups (the method of Mark Adler's crc32c.c, zlib licence, reimplemented). ~3x the
 * single-stream speed on 1 MiB (7.7 -> 20+ GB/s here). Tables (slicing 8 x 256, shift 2 x 4 x
 * 256) are built once under pthread_once. The hardware path is selected per call by
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

#define LONG_BLOCK 8192 /* bytes per stream in the 3-way loops */
#define SHORT_BLOCK 256

static uint32_t table[8][256];
static uint32_t shift_long[4][256], shift_short[4][256]; /* append LONG/SHORT_BLOCK zero bytes */
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec)
{
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1)
            sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat)
{
    for (int n = 0; n < 32; n++)
        square[n] = gf2_times(mat, mat[n]);
}

/* The operator that feeds `len` (a power of two >= 1) zero bytes through the CRC register. */
static void zeros_op(uint32_t even[32], size_t len)
{
    uint32_t odd[32];
    odd[0] = POLY; /* one zero bit */
    for (int n = 1; n < 32; n++)
        odd[n] = (uint32_t)1 << (n - 1);
    gf2_square(even, odd); /* two zero bits */
    gf2_square(odd, even); /* four */
    /* each square doubles: even gets 1 zero byte, odd 2, even 4, ... until len runs out */
    do {
        gf2_square(even, odd);
        len >>= 1;
        if (len == 0)
            return;
        gf2_square(odd, even);
        len >>= 1;
    } while (len);
    memcpy(even, odd, sizeof(odd));
}

static void shift_table(uint32_t t[4][256], size_t len)
{
    uint32_t op[32];
    zeros_op(op, len);
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 0; k < 4; k++)
            t[k][n] = gf2_times(op, n << (8 * k));
}

static uint32_t shift(uint32_t t[4][256], uint32_t crc)
{
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

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
    shift_table(shift_long, LONG_BLOCK);
    shift_table(shift_short, SHORT_BLOCK);
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
        uint32_t lo =
            (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
        uint32_t hi =
            (uint32_t)s[4] | (uint32_t)s[5] << 8 | (uint32_t)s[6] << 16 | (uint32_t)s[7] << 24;
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
    if (n >= 3 * SHORT_BLOCK)
        pthread_once(&table_once, table_init);
    /* three streams over adjacent blocks, merged by shifting */
    while (n >= 3 * LONG_BLOCK) {
        uint64_t c1 = 0, c2 = 0;
        for (const uint8_t *end = s + LONG_BLOCK; s < end; s += 8) {
            uint64_t v0, v1, v2;
            memcpy(&v0, s, 8);
            memcpy(&v1, s + LONG_BLOCK, 8);
            memcpy(&v2, s + 2 * LONG_BLOCK, 8);
            c64 = _mm_crc32_u64(c64, v0);
            c1 = _mm_crc32_u64(c1, v1);
            c2 = _mm_crc32_u64(c2, v2);
        }
        c64 = shift(shift_long, (uint32_t)c64) ^ (uint32_t)c1;
        c64 = shift(shift_long, (uint32_t)c64) ^ (uint32_t)c2;
        s += 2 * LONG_BLOCK;
        n -= 3 * LONG_BLOCK;
    }
    while (n >= 3 * SHORT_BLOCK) {
        uint64_t c1 = 0, c2 = 0;
        for (const uint8_t *end = s + SHORT_BLOCK; s < end; s += 8) {
            uint64_t v0, v1, v2;
            memcpy(&v0, s, 8);
            memcpy(&v1, s + SHORT_BLOCK, 8);
            memcpy(&v2, s + 2 * SHORT_BLOCK, 8);
            c64 = _mm_crc32_u64(c64, v0);
            c1 = _mm_crc32_u64(c1, v1);
            c2 = _mm_crc32_u64(c2, v2);
        }
        c64 = shift(shift_short, (uint32_t)c64) ^ (uint32_t)c1;
        c64 = shift(shift_short, (uint32_t)c64) ^ (uint32_t)c2;
        s += 2 * SHORT_BLOCK;
        n -= 3 * SHORT_BLOCK;
    }
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
