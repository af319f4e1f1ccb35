/* Code generation: a prepared model + plan as a C module for an MCU (or the host).
 *
 * The module holds, as const data (flash): the weights, the folded biases and per-channel
 * multipliers/shifts, the graph and plan tables (tile regions, arena offsets, QuantMCU format
 * variants); and one static arena (the planner's size). It runs through the project's own
 * runtime and kernels (the qmcu_runtime library: src/runtime, src/kernels, src/graph/graph.c), the
 * same files the host runs, with no allocation. Entry points (DIR/qmcu_model.h):
 *   int qmcu_model_run(const void *input, void *output);   (output: every output, output 0 first)
 *   uint8_t *qmcu_model_input(void);  const uint8_t *qmcu_model_output_at(int k);
 *   size_t qmcu_model_output_size(int k);                  (qmcu_model_output(): output 0) */
#ifndef QMCU_CODEGEN_H
#define QMCU_CODEGEN_H

#include <stddef.h>

#include "quantmcu/runtime.h"

typedef struct {
    const char *name;
    size_t sram_bytes, flash_bytes;
} qmcu_board;

/* f746 = 320 kB / 1 MB, h743 = 512 kB / 2 MB, big = 512 kB / 4 MB; NULL if unknown. */
const qmcu_board *qmcu_board_find(const char *name);

#define QMCU_MCU_STACK_BYTES 8192 /* reserved at the bottom of SRAM (overflow faults) */

/* Writes DIR/qmcu_model.h, DIR/qmcu_model_data.c (the runtime's own types, designated
 * initializers; it includes only quantmcu/runtime.h) and, for an MCU board, DIR/board.ld, for the
 * exec plan e (arena_bytes: the planner's peak, reported in the header). Refuses up front a plan
 * whose memory or weights exceed the board (board may be NULL: no check). */
qmcu_status qmcu_codegen(const qmcu_model *m, const qmcu_exec_plan *e, size_t arena_bytes, const char *dir,
                         const qmcu_board *board, qmcu_error *err);

/* Bytes of constant tensors (weights, biases) the module stores. */
size_t qmcu_codegen_weight_bytes(const qmcu_graph *g);

#endif
