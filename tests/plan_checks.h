/* Checks on a plan's placement shared by the plan tests. */
#ifndef QMCU_PLAN_CHECKS_H
#define QMCU_PLAN_CHECKS_H

#include "planning/plan.h"

/* Buffers that overlap in time and in memory, or reach past the arena. */
static inline int plan_placement_errors(const qmcu_plan *p)
{
    int i, j, bad = 0;
    for (i = 0; i < p->n_buffers; i++) {
        const qmcu_buffer_life *a = &p->buffers[i];
        if (a->size && a->offset + a->size > p->arena_bytes) bad++;
        for (j = i + 1; j < p->n_buffers; j++) {
            const qmcu_buffer_life *b = &p->buffers[j];
            if (!a->size || !b->size || a->first > b->last || b->first > a->last) continue;
            if (a->offset < b->offset + b->size && b->offset < a->offset + a->size) bad++;
        }
    }
    return bad;
}

#endif
