/* Layer-by-layer execution of a qmcu_graph: prepare once (kernel parameters, multipliers,
 * folded biases, arena placement), then invoke any number of times on caller arenas.
 * A prepared model is read-only during invoke, so threads can share it. */
#ifndef QMCU_INTERPRETER_H
#define QMCU_INTERPRETER_H

#include <stddef.h>
#include <stdint.h>

#include "../graph/graph.h"
#include "../kernels/qmcu_kernels.h"
#include "../planning/memory_planner.h"

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

typedef struct {
    const qmcu_graph *g;
    qmcu_prepared_op *ops;
    size_t *tensor_offset;       /* arena offset per tensor (activations only) */
    size_t *scratch_offset;      /* per op */
    size_t arena_bytes;          /* placed arena size */
    size_t peak_bytes;           /* max live bytes at any op (activations + scratch) */
    int peak_op;
    size_t input_bytes;          /* bytes of the model input tensor(s) */
} qmcu_model;

qmcu_status qmcu_model_prepare(const qmcu_graph *g, qmcu_model **out, qmcu_error *err);
void qmcu_model_free(qmcu_model *m);

/* Runs ops [first, last) on an arena of m->arena_bytes. */
qmcu_status qmcu_model_invoke(const qmcu_model *m, uint8_t *arena, int first, int last);
/* One op; inputs/outputs found through the arena placement. */
qmcu_status qmcu_model_run_op(const qmcu_model *m, uint8_t *arena, int op_index);

/* Model I/O in the model's own byte format (uint8 models: uint8 bytes). */
void qmcu_model_set_input(const qmcu_model *m, uint8_t *arena, int index, const void *bytes);
void qmcu_model_get_output(const qmcu_model *m, const uint8_t *arena, int index, void *bytes);
void *qmcu_tensor_ptr(const qmcu_model *m, uint8_t *arena, int tensor);

/* Lifetime table used by the planner: one entry per activation tensor, then one per op scratch.
 * Step i = op i; model inputs are live from step 0. Returns count; caller frees *out. */
int qmcu_layer_lifetimes(const qmcu_model *m, qmcu_buffer_life **out);

#endif
