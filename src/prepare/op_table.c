/* Which family prepares and emits each op type (the runtime's kernels: quantmcu/runtime.h). */
#include "op_host.h"

static const qmcu_op_host k_nothing = {NULL, NULL, NULL, NULL};

static const qmcu_op_host *const k_host[QMCU_OP_COUNT] = {
    [QMCU_OP_CONV_2D] = &qmcu_host_conv,
    [QMCU_OP_DEPTHWISE_CONV_2D] = &qmcu_host_conv,
    [QMCU_OP_FULLY_CONNECTED] = &qmcu_host_conv,
    [QMCU_OP_AVERAGE_POOL_2D] = &qmcu_host_pool,
    [QMCU_OP_MAX_POOL_2D] = &qmcu_host_pool,
    [QMCU_OP_ADD] = &qmcu_host_eltwise,
    [QMCU_OP_SUB] = &qmcu_host_eltwise,
    [QMCU_OP_MUL] = &qmcu_host_eltwise,
    [QMCU_OP_QUANTIZE] = &qmcu_host_requantize,
    [QMCU_OP_RELU] = &qmcu_host_requantize,
    [QMCU_OP_RELU6] = &qmcu_host_requantize,
    [QMCU_OP_LOGISTIC] = &qmcu_host_lut,
    [QMCU_OP_HARD_SWISH] = &qmcu_host_lut,
    [QMCU_OP_CONCATENATION] = &qmcu_host_concatenation,
    [QMCU_OP_MEAN] = &qmcu_host_mean,
    [QMCU_OP_SOFTMAX] = &qmcu_host_softmax,
    [QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM] = &qmcu_host_lstm,
    [QMCU_OP_DETECTION_POSTPROCESS] = &qmcu_host_detection,
    [QMCU_OP_LEAKY_RELU] = &qmcu_host_leaky_relu,
};

const qmcu_op_host *qmcu_op_host_of(qmcu_op_type t)
{
    return (unsigned)t < (unsigned)QMCU_OP_COUNT && k_host[t] ? k_host[t] : &k_nothing;
}
