#include "graph.h"

#include <stdlib.h>

static const char *const k_op_names[QMCU_OP_COUNT] = {
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "AVERAGE_POOL_2D", "MAX_POOL_2D",
    "MEAN", "PAD", "RESHAPE", "SOFTMAX", "QUANTIZE", "DEQUANTIZE", "TRANSPOSE", "CONCATENATION",
    "LOGISTIC", "HARD_SWISH", "RELU", "RELU6"};

const char *qmcu_op_name(qmcu_op_type t) { return (unsigned)t < (unsigned)QMCU_OP_COUNT ? k_op_names[t] : "?"; }

const char *qmcu_dtype_name(qmcu_dtype t)
{
    switch (t) {
    case QMCU_F32: return "float32";
    case QMCU_I8: return "int8";
    case QMCU_I32: return "int32";
    case QMCU_I64: return "int64";
    }
    return "?";
}

size_t qmcu_dtype_size(qmcu_dtype t)
{
    switch (t) {
    case QMCU_I8: return 1;
    case QMCU_I64: return 8;
    default: return 4;
    }
}

int64_t qmcu_tensor_elems(const qmcu_tensor *t)
{
    int64_t n = 1;
    int i;
    for (i = 0; i < t->ndim; i++) n *= t->dims[i];
    return n;
}

void qmcu_tensor_dims4(const qmcu_tensor *t, int32_t d[4])
{
    int i;
    for (i = 0; i < 4; i++) d[i] = 1;
    for (i = 0; i < t->ndim && i < 4; i++) d[4 - t->ndim + i] = t->dims[i];
}

int qmcu_out_size(int same, int in, int filter, int stride, int dilation)
{
    int eff = (filter - 1) * dilation + 1;
    return same ? (in + stride - 1) / stride : (in + stride - eff) / stride;
}

int qmcu_pad_before(int same, int in, int filter, int stride, int dilation)
{
    int out = qmcu_out_size(same, in, filter, stride, dilation);
    int eff = (filter - 1) * dilation + 1;
    int total = (out - 1) * stride + eff - in;
    return total > 0 ? total / 2 : 0; /* the odd pixel goes after (TFLite) */
}

int64_t qmcu_op_macs(const qmcu_graph *g, const qmcu_op *op)
{
    const qmcu_tensor *y = &g->tensors[op->out];
    switch (op->type) {
    case QMCU_OP_CONV_2D: {
        const qmcu_tensor *w = &g->tensors[op->in[1]];
        return qmcu_tensor_elems(y) * w->dims[1] * w->dims[2] * w->dims[3];
    }
    case QMCU_OP_DEPTHWISE_CONV_2D: {
        const qmcu_tensor *w = &g->tensors[op->in[1]];
        return qmcu_tensor_elems(y) * w->dims[1] * w->dims[2];
    }
    case QMCU_OP_FULLY_CONNECTED: return qmcu_tensor_elems(y) * g->tensors[op->in[1]].dims[1];
    default: return 0;
    }
}

void qmcu_graph_free(qmcu_graph *g)
{
    int i;
    if (!g) return;
    for (i = 0; g->tensors && i < g->n_tensors; i++) {
        free(g->tensors[i].scales);
        free(g->tensors[i].data);
    }
    free(g->tensors);
    free(g->ops);
    free(g);
}
