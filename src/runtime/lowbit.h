/* QuantMCU runtime internals shared by lowbit_prepare.c (host: derives the parameters) and
 * lowbit_exec.c (host and MCU: runs them). */
#ifndef QMCU_LOWBIT_H
#define QMCU_LOWBIT_H

#include "interpreter.h"

#define QMCU_LOWBIT_MAX_TENSORS 1024

/* Kernel parameters of one input/output format combination of a patch op. */
typedef struct {
    qmcu_conv_params conv;
    qmcu_requant rq;
    int32_t *own_multiplier, *own_shift, *own_bias; /* NULL when borrowed from the prepared op */
    const int32_t *bias;
    qmcu_eltwise_params elt;
    int8_t pad_value;
    int valid;
} lowbit_variant;

/* Variant index: input 0 low | input 1 low << 1 | output low << 2. */
struct qmcu_lowbit_op_s {
    lowbit_variant v[8];
    int64_t macs_per_pixel;
};

static inline int qmcu_bits_packed(int bits) { return bits == 4 || bits == 2; }

static inline int qmcu_lowbit_capable(qmcu_op_type t)
{
    return t == QMCU_OP_CONV_2D || t == QMCU_OP_DEPTHWISE_CONV_2D || t == QMCU_OP_ADD || t == QMCU_OP_PAD;
}

#endif
