/* oom.h: allocation-failure injection for the *_oom_test programs.
 *
 * Those tests link with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup (see
 * CMakeLists.txt), so every allocation made by libsluice code linked into the test goes through
 * the wrappers below. Set fail_at = k to make the k-th allocation (counted from alloc_count = 0)
 * fail, and read `injected` to learn whether it happened; `paused` exempts the test's own
 * allocations. Include this header in exactly one file of a test program.
 */
#ifndef SL_TEST_OOM_H
#define SL_TEST_OOM_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long alloc_count;
static long fail_at = -1; /* -1: never */
static int injected;
static int paused;

static int should_fail(void)
{
    if (fail_at < 0 || paused)
        return 0;
    if (alloc_count++ == fail_at) {
        injected = 1;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return should_fail() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return should_fail() ? NULL : __real_strdup(s);
}

#endif
