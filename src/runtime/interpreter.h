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

/* TFLite's activation range (CalculateActivationRangeQuantized) for an output quantized with
 * (scale, zero point) in the storage domain, within int8. */
void qmcu_activation_range(qmcu_activation act, float scale, int32_t zero_point, int32_t *lo, int32_t *hi);
/* ADD/MUL parameters (TFLite's formulas) for the given input/output quantizations. */
qmcu_status qmcu_eltwise_prepare(const qmcu_graph *g, int op, float s1, int32_t zp1, float s2, int32_t zp2, float sy,
                                 int32_t zpy, qmcu_eltwise_params *e, qmcu_error *err);
/* Per-output-channel multipliers of conv / depthwise / FC op `op` for the given input and
 * output scales, with TFLite 2.9's formula for the model's type. */
qmcu_status qmcu_conv_multipliers(const qmcu_graph *g, int op, float in_scale, float out_scale, int32_t *multiplier,
                                  int32_t *shift, qmcu_error *err);

/* ---- execution of a plan (executor.c) ------------------------------------------------
 * `mem` is the host memory block of plan->host_bytes (the arena, plus the input when it
 * streams from outside SRAM). Patch stage: tile after tile, ops [0, split) on the tile's
 * regions; then the layer stage. Output bytes are identical for every plan. */
qmcu_status qmcu_plan_run(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem);

/* What a run executed (accumulated over runs). */
typedef struct {
    int64_t patch_bitops;  /* patch stage: MACs x weight bits (8) x input bits each tile really used */
    int64_t tiles;         /* tiles run */
    int64_t outlier_tiles; /* tiles VDPC switched to 8 bits */
} qmcu_run_stats;
qmcu_status qmcu_plan_run_stats(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, qmcu_run_stats *stats);

/* Profiling hook (firmware builds with QMCU_PROFILE set it): called before (end = 0) and after
 * (end = 1) every op execution, per tile in the patch stage. NULL = off. */
typedef void (*qmcu_op_hook_fn)(int op, int end);
extern qmcu_op_hook_fn qmcu_op_hook;
/* Runs only op i (tile: for patch-stage ops). */
qmcu_status qmcu_plan_run_op(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int tile, int i);
/* Parameters of one QuantMCU format combination of a conv / depthwise op (offsets, activation
 * range, input_code_bits from conv; its multipliers and folded bias). */
typedef struct {
    const qmcu_conv_params *conv;
    const qmcu_requant *rq;
    const int32_t *bias;
} qmcu_conv_override;
/* Conv / depthwise op i of a patch tile (not in place): output rows [y0, y1) of its window
 * (-1: all) with the override's parameters, on the tile buffers as they are. */
qmcu_status qmcu_plan_run_conv_rows(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int tile, int i, int32_t y0,
                                    int32_t y1, const qmcu_conv_override *ov);

/* ---- QuantMCU execution (lowbit_exec.c) -------------------------------------------------
 * qmcu_lowbit_prepare: attaches vdq to a plan built with spec.quantmcu and derives the kernel
 * parameters of every input/output format combination; the plan then runs its patch stage
 * with low-bit feature maps and VDPC (qmcu_plan_run). The plan owns vdq afterwards. */
qmcu_status qmcu_lowbit_prepare(const qmcu_model *m, qmcu_plan *p, qmcu_vdq *vdq, qmcu_error *err);
void qmcu_lowbit_free(qmcu_plan *p);
qmcu_status qmcu_lowbit_run_tile(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int tile, qmcu_run_stats *stats);
/* The first n_ops patch ops of a tile only (tests and tools inspect feature maps with it). */
qmcu_status qmcu_lowbit_run_tile_ops(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int tile, int n_ops,
                                     qmcu_run_stats *stats);

/* Model I/O in the model's own byte format (uint8 models: uint8 bytes). */
void qmcu_plan_set_input(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int index, const void *bytes);
void qmcu_plan_get_output(const qmcu_model *m, const qmcu_plan *p, const uint8_t *mem, int index, void *bytes);

#endif
