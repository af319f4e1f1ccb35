/* Predicted emulated Cortex-M4 instructions of a plan (DESIGN.md §2, version 3): per op kind a
 * linear model in what the op executes under the plan — MACs, output elements, input elements
 * read (output pixels x input channels), output rows, calls — fitted to `quantmcu mcu --profile` runs (bench/cost_model.sh refits it and reports its
 * error; README "Cost model"). Instructions, not cycles: QEMU has no timing model. */
#ifndef QMCU_COST_MODEL_H
#define QMCU_COST_MODEL_H

#include "plan.h"

typedef enum {
    QMCU_COST_POINTWISE, /* CONV_2D 1x1 */
    QMCU_COST_CONV,      /* CONV_2D k x k, k > 1 (the stem) */
    QMCU_COST_DEPTHWISE, /* DEPTHWISE_CONV_2D 3x3 */
    QMCU_COST_DEPTHWISE_LARGE, /* DEPTHWISE_CONV_2D 5x5, 7x7, ... */
    QMCU_COST_FC,        /* FULLY_CONNECTED */
    QMCU_COST_ADD,       /* ADD (fused into its conv: counted with the conv) */
    QMCU_COST_PAD,       /* PAD in a patch stage (pixel by pixel over the tile's window) */
    QMCU_COST_PAD_LAYER, /* PAD layer by layer (the 4-D pad kernel) */
    QMCU_COST_QUANTIZE,  /* QUANTIZE / DEQUANTIZE from or to float (double arithmetic: soft-float on an M4) */
    QMCU_COST_OTHER,     /* everything else: per output element and call */
    QMCU_COST_KINDS
} qmcu_cost_kind;

/* The kind of op i under plan p (some kinds depend on the stage the op runs in). */
qmcu_cost_kind qmcu_cost_kind_of(const qmcu_plan *p, int i);
const char *qmcu_cost_kind_name(qmcu_cost_kind k);
/* Output elements op i computes under the plan (all tiles), and input elements it reads per
 * output pixel summed over them (output pixels x input channels), from its work w. */
int64_t qmcu_cost_out_elems(const qmcu_plan *p, int i, const qmcu_op_work *w);
int64_t qmcu_cost_in_elems(const qmcu_plan *p, int i, const qmcu_op_work *w);
/* Instructions op i is predicted to take under plan p (0 for an op fused into the one before),
 * from its work w (qmcu_plan_op_work). */
double qmcu_cost_predict_op(const qmcu_plan *p, int i, const qmcu_op_work *w);
/* The whole plan: the sum over its ops. */
double qmcu_cost_predict(const qmcu_plan *p);

#endif
