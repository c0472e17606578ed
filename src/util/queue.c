/* queue.c: bounded blocking queue; see queue.h. A ring buffer under one mutex. */
#include "util/queue.h"

#include <stdlib.h>

sl_err sl_queue_init(sl_queue *q, size_t cap)
{
    if (!cap)
        return SL_INVALID;
    q->items = calloc(cap, sizeof(*q->items));
    if (!q->items)
        return SL_NOMEM;
    q->cap = cap;
    q->head = q->len = 0;
    q->closed = false;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return SL_OK;
}

void sl_queue_release(sl_queue *q)
{
    if (!q->items)
        return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->items);
    q->items = NULL;
}

static void put(sl_queue *q, void *item)
{
    q->items[(q->head + q->len) % q->cap] = item;
    q->len++;
    pthread_cond_signal(&q->not_empty);
}

sl_err sl_queue_push(sl_queue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    while (q->len == q->cap && !q->closed)
        pthread_cond_wait(&q->not_full, &q->mu);
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        return SL_STATE;
    }
    put(q, item);
    pthread_mutex_unlock(&q->mu);
    return SL_OK;
}

sl_err sl_queue_try_push(sl_queue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    sl_err err = q->closed ? SL_STATE : q->len == q->cap ? SL_FULL : SL_OK;
    if (!err)
        put(q, item);
    pthread_mutex_unlock(&q->mu);
    return err;
}

bool sl_queue_pop(sl_queue *q, void **item)
{
    pthread_mutex_lock(&q->mu);
    while (q->len == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->mu);
    if (q->len == 0) {
        pthread_mutex_unlock(&q->mu);
        return false;
    }
    *item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->mu);
    return true;
}

void sl_queue_close(sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

size_t sl_queue_len(sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->len;
    pthread_mutex_unlock(&q->mu);
    return n;
}
