#include "memory_planner.h"

#include <stdlib.h>

static size_t align_up(size_t v) { return (v + QMCU_ARENA_ALIGN - 1) & ~(size_t)(QMCU_ARENA_ALIGN - 1); }

static int overlaps(const qmcu_buffer_life *a, const qmcu_buffer_life *b)
{
    return a->first <= b->last && b->first <= a->last;
}

size_t qmcu_place_buffers(qmcu_buffer_life *bufs, int n)
{
    int *order = (int *)malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    int i, j, k;
    size_t arena = 0;
    if (!order) return (size_t)-1;
    for (i = 0; i < n; i++) order[i] = i;
    /* largest first (stable: ties by index, so placements are deterministic) */
    for (i = 1; i < n; i++) {
        int v = order[i];
        for (j = i - 1; j >= 0 && (bufs[order[j]].size < bufs[v].size ||
                                   (bufs[order[j]].size == bufs[v].size && order[j] > v));
             j--)
            order[j + 1] = order[j];
        order[j + 1] = v;
    }
    for (i = 0; i < n; i++) {
        qmcu_buffer_life *b = &bufs[order[i]];
        size_t candidate = 0;
        int moved = 1;
        if (b->size == 0) {
            b->offset = 0;
            continue;
        }
        /* first fit: lowest offset not overlapping any placed, time-overlapping buffer */
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
    free(order);
    return align_up(arena);
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
