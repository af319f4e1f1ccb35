/* Static arena placement by lifetime intervals: first fit, with buffers taken largest first (as
 * TFLite Micro), longest-lived first and earliest first; the smallest of the three wins.
 * The result is a real placement: offsets a linker/codegen can use, not an estimate. */
#ifndef QMCU_MEMORY_PLANNER_H
#define QMCU_MEMORY_PLANNER_H

#include <stddef.h>

typedef struct {
    size_t size;   /* bytes */
    int first;     /* first step it is live (inclusive) */
    int last;      /* last step it is live (inclusive) */
    size_t offset; /* output: placement in the arena */
} qmcu_buffer_life;

#define QMCU_ARENA_ALIGN 16

/* Places all buffers; returns the arena size (aligned). Buffers of size 0 get offset 0. */
size_t qmcu_place_buffers(qmcu_buffer_life *bufs, int n);
/* Sum of sizes of the buffers live at `step`. */
size_t qmcu_live_bytes_at(const qmcu_buffer_life *bufs, int n, int step);
/* Largest sum of sizes of buffers live at the same step (the lower bound the placement meets
 * or exceeds); *at_step receives the step where it occurs (may be NULL). */
size_t qmcu_peak_live_bytes(const qmcu_buffer_life *bufs, int n, int *at_step);

#endif
