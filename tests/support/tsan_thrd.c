/* tsan_thrd.c: C11 thread functions routed through pthreads, for TSan builds only.
 *
 * Debian's librdkafka starts its threads with glibc's thrd_create(), which clang 14's TSan
 * runtime does not intercept: those threads are unknown to TSan and the process dies with a
 * SEGV in the runtime as soon as one of them runs (seen with `SLUICE_SINK=kafka` and the mock
 * cluster). Its mtx_* and cnd_* calls go straight to glibc's internal pthread functions, so
 * TSan would not see its locking either and report false races inside it. Defining these C11
 * functions in the executable preempts glibc's for librdkafka (the executable's definitions
 * come first in symbol lookup); the pthread_* calls they make are intercepted, so TSan knows
 * the threads and the happens-before of librdkafka's locks. glibc's mtx_t and cnd_t are
 * pthread_mutex_t and pthread_cond_t under another name (same size and layout; glibc's own
 * mtx_lock is a cast and a call). Compiled into every executable of a -DSL_SANITIZE=thread
 * build (CMakeLists.txt), nowhere else.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

typedef struct {
    thrd_start_t func;
    void *arg;
} tramp;

static void *tramp_main(void *p)
{
    tramp t = *(tramp *)p;
    free(p);
    return (void *)(intptr_t)t.func(t.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    tramp *t = malloc(sizeof(*t));
    if (!t)
        return thrd_nomem;
    t->func = func;
    t->arg = arg;
    pthread_t pt;
    int r = pthread_create(&pt, NULL, tramp_main, t);
    if (r) {
        free(t);
        return r == ENOMEM || r == EAGAIN ? thrd_nomem : thrd_error;
    }
    *thr = (thrd_t)pt;
    return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
    void *v = NULL;
    if (pthread_join((pthread_t)thr, &v))
        return thrd_error;
    if (res)
        *res = (int)(intptr_t)v;
    return thrd_success;
}

int thrd_detach(thrd_t thr)
{
    return pthread_detach((pthread_t)thr) ? thrd_error : thrd_success;
}

static int th_ret(int r)
{
    return r == 0 ? thrd_success : r == ETIMEDOUT ? thrd_timedout : r == EBUSY ? thrd_busy
                                 : r == ENOMEM ? thrd_nomem : thrd_error;
}

int mtx_init(mtx_t *m, int type)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (type & mtx_recursive)
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    int r = pthread_mutex_init((pthread_mutex_t *)m, &a);
    pthread_mutexattr_destroy(&a);
    return th_ret(r);
}

int mtx_lock(mtx_t *m)
{
    return th_ret(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
    return th_ret(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
    return th_ret(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int mtx_unlock(mtx_t *m)
{
    return th_ret(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
    pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
    return th_ret(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c)
{
    return th_ret(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
    return th_ret(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
    return th_ret(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
    return th_ret(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}

void cnd_destroy(cnd_t *c)
{
    pthread_cond_destroy((pthread_cond_t *)c);
}
