#include "memory_planner.h"

#include <stdlib.h>

static size_t align_up(size_t v) { return (v + QMCU_ARENA_ALIGN - 1) & ~(size_t)(QMCU_ARENA_ALIGN - 1); }

static int overlaps(const qmcu_buffer_life *a, const qmcu_buffer_life *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* Buffer ordering heuristics; the placement keeps whichever gives the smallest arena. */
typedef enum { BY_SIZE, BY_LIFETIME_LENGTH, BY_FIRST_STEP, N_ORDERS } order_kind;

static int comes_before(const qmcu_buffer_life *a, int ia, const qmcu_buffer_life *b, int ib, order_kind kind)
{
    const int la = a->last - a->first, lb = b->last - b->first;
    if (kind == BY_LIFETIME_LENGTH && la != lb) return la > lb;
    if (kind == BY_FIRST_STEP && a->first != b->first) return a->first < b->first;
    if (a->size != b->size) return a->size > b->size;
    return ia < ib; /* stable: placements are deterministic */
}

/* First fit in the given order: each buffer at the lowest offset that overlaps no placed,
 * time-overlapping buffer. Returns the arena end. */
static size_t place_in_order(qmcu_buffer_life *bufs, const int *order, int n)
{
    size_t arena = 0;
    int i, k;
    for (i = 0; i < n; i++) {
        qmcu_buffer_life *b = &bufs[order[i]];
        size_t candidate = 0;
        int moved = 1;
        if (b->size == 0) {
            b->offset = 0;
            continue;
        }
        while (moved) {
            moved = 0;
            for (k = 0; k < i; k++) {
                const qmcu_buffer_life *o = &bufs[order[k]];
                if (o->size == 0 || !overlaps(o, b)) continue;
                if (candidate < o->offset + o->size && o->offset < candidate + b->size) {
                    candidate = align_up(o->offset + o->size);
                    moved = 1;
                }
            }
        }
        b->offset = candidate;
        if (candidate + b->size > arena) arena = candidate + b->size;
    }
    return align_up(arena);
}

size_t qmcu_place_buffers(qmcu_buffer_life *bufs, int n)
{
    int *order = (int *)malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    size_t *best_offset = (size_t *)malloc(sizeof(size_t) * (size_t)(n > 0 ? n : 1));
    size_t best = (size_t)-1;
    int i, j, kind;
    if (!order || !best_offset) {
        free(order);
        free(best_offset);
        return (size_t)-1;
    }
    for (i = 0; i < n; i++) bufs[i].offset = 0;
    for (kind = 0; kind < N_ORDERS; kind++) {
        size_t arena;
        int m = 0;
        for (i = 0; i < n; i++) /* only what takes memory (aliases, constants and absent caches do not) */
            if (bufs[i].size) order[m++] = i;
        for (i = 1; i < m; i++) { /* insertion sort */
            const int v = order[i];
            for (j = i - 1; j >= 0 && comes_before(&bufs[v], v, &bufs[order[j]], order[j], (order_kind)kind); j--)
                order[j + 1] = order[j];
            order[j + 1] = v;
        }
        arena = place_in_order(bufs, order, m);
        if (arena < best) {
            best = arena;
            for (i = 0; i < n; i++) best_offset[i] = bufs[i].offset;
        }
    }
    for (i = 0; i < n; i++) bufs[i].offset = best_offset[i];
    free(order);
    free(best_offset);
    return best;
}

size_t qmcu_live_bytes_at(const qmcu_buffer_life *bufs, int n, int step)
{
    size_t live = 0;
    int i;
    for (i = 0; i < n; i++)
        if (bufs[i].first <= step && step <= bufs[i].last) live += bufs[i].size;
    return live;
}

size_t qmcu_peak_live_bytes(const qmcu_buffer_life *bufs, int n, int *at_step)
{
    int lo = 0, hi = 0, s, i, best_step = 0;
    size_t best = 0;
    for (i = 0; i < n; i++) {
        if (i == 0 || bufs[i].first < lo) lo = bufs[i].first;
        if (i == 0 || bufs[i].last > hi) hi = bufs[i].last;
    }
    for (s = lo; s <= hi; s++) {
        const size_t live = qmcu_live_bytes_at(bufs, n, s);
        if (live > best) {
            best = live;
            best_step = s;
        }
    }
    if (at_step) *at_step = best_step;
    return best;
}
