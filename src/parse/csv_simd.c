/* csv_simd.c: SSE2 and AVX2 builds of the CSV block kernels (csv_kernel.h).
 *
 * Each instruction set supplies a classifier, which turns 64 input bytes into bit masks (quote,
 * delimiter, LF, CR, and "spec": NUL or >= 0x80), and a prefix XOR (carry-less multiply by all
 * ones, PCLMULQDQ). The kernels are compiled with target attributes, so the rest of the library
 * stays baseline x86-64; csv.c calls one only after checking the CPU (sl_csv_simd_supported).
 */
#include "parse/csv_internal.h"

#include <string.h>

#ifdef SL__CSV_X86
#include <immintrin.h>

typedef struct {
    uint64_t q, d, lf, cr, spec;
} kmasks;

/* ---- SSE2 + PCLMULQDQ -------------------------------------------------------------------- */

#define KTARGET __attribute__((target("sse2,pclmul,popcnt")))
#define KNAME(x) x##_sse2

KTARGET static inline uint64_t prefix_xor_sse2(uint64_t x)
{
    __m128i v = _mm_set_epi64x(0, (long long)x);
    __m128i r = _mm_clmulepi64_si128(v, _mm_set1_epi8((char)0xFF), 0);
    return (uint64_t)_mm_cvtsi128_si64(r);
}

KTARGET static inline uint64_t eq_sse2(__m128i a, __m128i b, __m128i c, __m128i d, __m128i v)
{
    uint64_t r0 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, v));
    uint64_t r1 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, v));
    uint64_t r2 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(c, v));
    uint64_t r3 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(d, v));
    return r0 | r1 << 16 | r2 << 32 | r3 << 48;
}

KTARGET static inline void classify_sse2(const uint8_t *p, uint8_t quote, uint8_t delim, kmasks *m)
{
    __m128i a = _mm_loadu_si128((const __m128i *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(p + 48));
    m->q = eq_sse2(a, b, c, d, _mm_set1_epi8((char)quote));
    m->d = eq_sse2(a, b, c, d, _mm_set1_epi8((char)delim));
    m->lf = eq_sse2(a, b, c, d, _mm_set1_epi8('\n'));
    m->cr = eq_sse2(a, b, c, d, _mm_set1_epi8('\r'));
    uint64_t hi = (uint64_t)(uint32_t)_mm_movemask_epi8(a) |
                  (uint64_t)(uint32_t)_mm_movemask_epi8(b) << 16 |
                  (uint64_t)(uint32_t)_mm_movemask_epi8(c) << 32 |
                  (uint64_t)(uint32_t)_mm_movemask_epi8(d) << 48;
    m->spec = hi | eq_sse2(a, b, c, d, _mm_setzero_si128());
}

#define KCLASSIFY classify_sse2
#define KPREFIX_XOR prefix_xor_sse2
#include "parse/csv_kernel.h"
#undef KTARGET
#undef KNAME
#undef KCLASSIFY
#undef KPREFIX_XOR

/* ---- AVX2 + PCLMULQDQ -------------------------------------------------------------------- */

#define KTARGET __attribute__((target("avx2,pclmul,popcnt,bmi")))
#define KNAME(x) x##_avx2

KTARGET static inline uint64_t prefix_xor_avx2(uint64_t x)
{
    __m128i v = _mm_set_epi64x(0, (long long)x);
    __m128i r = _mm_clmulepi64_si128(v, _mm_set1_epi8((char)0xFF), 0);
    return (uint64_t)_mm_cvtsi128_si64(r);
}

KTARGET static inline uint64_t eq_avx2(__m256i a, __m256i b, __m256i v)
{
    uint64_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, v));
    uint64_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, v));
    return lo | hi << 32;
}

KTARGET static inline void classify_avx2(const uint8_t *p, uint8_t quote, uint8_t delim, kmasks *m)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));
    m->q = eq_avx2(a, b, _mm256_set1_epi8((char)quote));
    m->d = eq_avx2(a, b, _mm256_set1_epi8((char)delim));
    m->lf = eq_avx2(a, b, _mm256_set1_epi8('\n'));
    m->cr = eq_avx2(a, b, _mm256_set1_epi8('\r'));
    uint64_t hi = (uint64_t)(uint32_t)_mm256_movemask_epi8(a) |
                  (uint64_t)(uint32_t)_mm256_movemask_epi8(b) << 32;
    m->spec = hi | eq_avx2(a, b, _mm256_setzero_si256());
}

#define KCLASSIFY classify_avx2
#define KPREFIX_XOR prefix_xor_avx2
#include "parse/csv_kernel.h"
#undef KTARGET
#undef KNAME
#undef KCLASSIFY
#undef KPREFIX_XOR

#endif
