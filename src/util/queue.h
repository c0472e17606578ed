/* queue.h: bounded multi-producer multi-consumer queue of pointers.
 *
 * sl_queue_push blocks while the queue is full; sl_queue_try_push returns SL_FULL instead
 * (HTTP answers 429 on that). sl_queue_pop blocks while empty and returns false once the queue
 * is closed and drained. After a push the producer must not touch the item.
 * Lock order: a queue's mutex is a leaf; never call out while holding it.
 */
#ifndef SL_UTIL_QUEUE_H
#define SL_UTIL_QUEUE_H

#include <pthread.h>
#include <stdbool.h>

#include "sluice.h"

typedef struct sl_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    void **items;
    size_t cap, head, len;
    bool closed;
} sl_queue;

SL_NODISCARD sl_err sl_queue_init(sl_queue *q, size_t cap);
void sl_queue_release(sl_queue *q);
/* SL_STATE if the queue is closed. */
SL_NODISCARD sl_err sl_queue_push(sl_queue *q, void *item);
SL_NODISCARD sl_err sl_queue_try_push(sl_queue *q, void *item);
bool sl_queue_pop(sl_queue *q, void **item);
/* Wakes every waiter; pops drain what is left, pushes fail. */
void sl_queue_close(sl_queue *q);
size_t sl_queue_len(sl_queue *q);

#endif
