/* Execution of a qmcu_graph: prepare once (kernel parameters, multipliers, folded biases),
 * plan (planning/plan.h: layer or patch, with the arena placement), then run any number of
 * times on caller memory.
 * A prepared model is read-only during invoke, so threads can share it. */
#ifndef QMCU_INTERPRETER_H
#define QMCU_INTERPRETER_H

#include <stddef.h>
#include <stdint.h>

#include "../graph/graph.h"
#include "../kernels/qmcu_kernels.h"
#include "../planning/plan.h"

typedef struct {
    qmcu_conv_params conv;
    qmcu_requant rq;
    int32_t *multiplier, *shift; /* owned arrays behind rq */
    int32_t *bias;               /* folded (conv, FC) or raw copy (depthwise); owned */
    qmcu_pool_params pool;
    qmcu_eltwise_params elt;
    qmcu_requantize_params requant;
    qmcu_mean_params mean;
    qmcu_softmax_params softmax;
    float softmax_table[256];
    int8_t lut[256];
    qmcu_conv_f32_params convf;
    float act_min_f, act_max_f;
    size_t scratch_bytes;
} qmcu_prepared_op;

typedef struct qmcu_model_s {
    const qmcu_graph *g;
    qmcu_prepared_op *ops;
} qmcu_model;

qmcu_status qmcu_model_prepare(const qmcu_graph *g, qmcu_model **out, qmcu_error *err);
void qmcu_model_free(qmcu_model *m);

/* ---- execution of a plan (executor.c) ------------------------------------------------
 * `mem` is the host memory block of plan->host_bytes (the arena, plus the input when it
 * streams from outside SRAM). Patch stage: tile after tile, ops [0, split) on the tile's
 * regions; then the layer stage. Output bytes are identical for every plan. */
qmcu_status qmcu_plan_run(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem);
/* Runs only op i (tile: for patch-stage ops). */
qmcu_status qmcu_plan_run_op(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int tile, int i);

/* Model I/O in the model's own byte format (uint8 models: uint8 bytes). */
void qmcu_plan_set_input(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int index, const void *bytes);
void qmcu_plan_get_output(const qmcu_model *m, const qmcu_plan *p, const uint8_t *mem, int index, void *bytes);

#endif
