/* The host side of each op family (src/prepare/ops/, one file each): its kernel parameters with
 * TensorFlow Lite 2.9's formulas, what it owns, and its part of the generated module. Its device
 * side, the kernel that runs it, is src/runtime/ops/ (registered in quantmcu/runtime.h). */
#ifndef QMCU_OP_HOST_H
#define QMCU_OP_HOST_H

#include <stdio.h>

#include "quantmcu/runtime.h"

typedef struct {
    /* the kernel parameters of op i into po (po's float activation range is already set); what
       it allocates is owned by po (release frees it, also after a failure) */
    qmcu_status (*prepare)(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err);
    void (*release)(qmcu_prepared_op *po, qmcu_op_type type); /* NULL: owns nothing */
    void (*emit_arrays)(FILE *f, const qmcu_model *m, int i); /* its owned arrays as const C arrays; NULL: none */
    void (*emit_member)(FILE *f, const qmcu_model *m, int i); /* ", .u.<member> = {...}"; NULL: none */
} qmcu_op_host;

/* The host side of op type t (never NULL: a type with nothing to prepare gets an empty one). */
const qmcu_op_host *qmcu_op_host_of(qmcu_op_type t);

/* The families (src/prepare/ops/), by the prepared data they share. */
extern const qmcu_op_host qmcu_host_conv;          /* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED */
extern const qmcu_op_host qmcu_host_pool;          /* AVERAGE_POOL_2D, MAX_POOL_2D */
extern const qmcu_op_host qmcu_host_eltwise;       /* ADD, SUB, MUL */
extern const qmcu_op_host qmcu_host_requantize;    /* QUANTIZE, RELU, RELU6 */
extern const qmcu_op_host qmcu_host_lut;           /* LOGISTIC, HARD_SWISH */
extern const qmcu_op_host qmcu_host_concatenation; /* CONCATENATION (checks only) */
extern const qmcu_op_host qmcu_host_mean;          /* MEAN */
extern const qmcu_op_host qmcu_host_softmax;       /* SOFTMAX */
extern const qmcu_op_host qmcu_host_lstm;          /* UNIDIRECTIONAL_SEQUENCE_LSTM */
extern const qmcu_op_host qmcu_host_detection;     /* DETECTION_POSTPROCESS */
extern const qmcu_op_host qmcu_host_leaky_relu;    /* LEAKY_RELU */

/* Helpers the families share (prepare.c). */
#define QMCU_TENSOR_OF(m, i) (&(m)->g->tensors[(i)])
qmcu_status qmcu_prepare_nomem(const qmcu_model *m, qmcu_error *err);
/* Rescale factors outside [0, 65536) only come from broken or hostile models: refused, named. */
qmcu_status qmcu_check_rescale(const qmcu_model *m, int op, double real, qmcu_error *err);
/* The activation range of a fused activation: float, and quantized for output y (int8). */
void qmcu_act_range_f(qmcu_activation act, float *lo, float *hi);
void qmcu_act_range_q(qmcu_activation act, const qmcu_tensor *y, int32_t *lo, int32_t *hi);

#endif
