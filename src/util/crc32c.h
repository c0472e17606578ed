/* crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4
 * and the WAL (src/wal/wal.c).
 *
 * sl_crc32c(0, "123456789", 9) == 0xE3069283. The value is chainable: pass the result of the
 * previous call as `crc` to continue over more bytes, so crc(A || B) == sl_crc32c(sl_crc32c(0,
 * A), B). Uses the SSE4.2 crc32 instruction when the CPU has it (checked at run time), else a
 * slicing-by-8 table. Thread-safe, no allocation; p may be NULL when n is 0.
 */
#ifndef SL_UTIL_CRC32C_H
#define SL_UTIL_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n);

/* The two implementations, for tests and benchmarks. sl__crc32c_hw may only be called when
 * sl__crc32c_hw_available() says so. */
uint32_t sl__crc32c_sw(uint32_t crc, const void *p, size_t n);
uint32_t sl__crc32c_hw(uint32_t crc, const void *p, size_t n);
bool sl__crc32c_hw_available(void);

#endif
