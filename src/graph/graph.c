#include "quantmcu/graph.h"

/* What every stage needs to know about an op type, in one place (a new op starts here). */
#define W QMCU_OPT_WEIGHTED
#define K QMCU_OPT_WINDOW
#define E QMCU_OPT_ELEMENTWISE
#define R QMCU_OPT_LOWBIT_READER
#define P QMCU_OPT_LOWBIT_PRODUCER
static const qmcu_op_traits k_traits[QMCU_OP_COUNT] = {
    [QMCU_OP_CONV_2D] = {"CONV_2D", W | K | R | P},
    [QMCU_OP_DEPTHWISE_CONV_2D] = {"DEPTHWISE_CONV_2D", W | K | R | P},
    [QMCU_OP_FULLY_CONNECTED] = {"FULLY_CONNECTED", W},
    [QMCU_OP_ADD] = {"ADD", E | R | P},
    [QMCU_OP_MUL] = {"MUL", E},
    [QMCU_OP_AVERAGE_POOL_2D] = {"AVERAGE_POOL_2D", K},
    [QMCU_OP_MAX_POOL_2D] = {"MAX_POOL_2D", K},
    [QMCU_OP_MEAN] = {"MEAN", 0},
    [QMCU_OP_PAD] = {"PAD", R},
    [QMCU_OP_RESHAPE] = {"RESHAPE", 0},
    [QMCU_OP_SOFTMAX] = {"SOFTMAX", 0},
    [QMCU_OP_QUANTIZE] = {"QUANTIZE", E},
    [QMCU_OP_DEQUANTIZE] = {"DEQUANTIZE", E},
    [QMCU_OP_TRANSPOSE] = {"TRANSPOSE", 0},
    [QMCU_OP_CONCATENATION] = {"CONCATENATION", 0},
    [QMCU_OP_LOGISTIC] = {"LOGISTIC", E},
    [QMCU_OP_HARD_SWISH] = {"HARD_SWISH", E},
    [QMCU_OP_RELU] = {"RELU", E},
    [QMCU_OP_RELU6] = {"RELU6", E},
    [QMCU_OP_RESIZE_BILINEAR] = {"RESIZE_BILINEAR", 0},
    [QMCU_OP_ARG_MAX] = {"ARG_MAX", 0},
    [QMCU_OP_SLICE] = {"SLICE", 0},
    [QMCU_OP_RESIZE_NEAREST_NEIGHBOR] = {"RESIZE_NEAREST_NEIGHBOR", 0},
    [QMCU_OP_SUB] = {"SUB", E},
    [QMCU_OP_CAST] = {"CAST", E},
    [QMCU_OP_DIV] = {"DIV", 0},
    [QMCU_OP_FLOOR_DIV] = {"FLOOR_DIV", 0},
    [QMCU_OP_SQRT] = {"SQRT", 0},
    [QMCU_OP_PACK] = {"PACK", 0},
    [QMCU_OP_GATHER_ND] = {"GATHER_ND", 0},
    [QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM] = {"UNIDIRECTIONAL_SEQUENCE_LSTM", 0},
    [QMCU_OP_DETECTION_POSTPROCESS] = {"DETECTION_POSTPROCESS", 0},
    [QMCU_OP_LEAKY_RELU] = {"LEAKY_RELU", E},
};
#undef W
#undef K
#undef E
#undef R
#undef P

static const qmcu_op_traits k_unknown = {"?", 0};

const qmcu_op_traits *qmcu_op_traits_of(qmcu_op_type t)
{
    return (unsigned)t < (unsigned)QMCU_OP_COUNT ? &k_traits[t] : &k_unknown;
}

const char *qmcu_op_name(qmcu_op_type t) { return qmcu_op_traits_of(t)->name; }

int qmcu_op_has(qmcu_op_type t, unsigned trait) { return (qmcu_op_traits_of(t)->flags & trait) != 0; }

int qmcu_op_channel_constant(const qmcu_graph *g, const qmcu_op *op)
{
    const qmcu_tensor *y = &g->tensors[op->out];
    int j;
    if (!qmcu_op_has(op->type, QMCU_OPT_ELEMENTWISE) || op->n_in != 2) return 0;
    for (j = 0; j < 2; j++) {
        const qmcu_tensor *c = op->in[j] >= 0 ? &g->tensors[op->in[j]] : NULL;
        int32_t d[4];
        if (!c || !c->data) continue;
        qmcu_tensor_dims4(c, d);
        if (d[0] == 1 && d[1] == 1 && d[2] == 1 && (d[3] == 1 || (y->ndim == 4 && d[3] == y->dims[3]))) return j + 1;
    }
    return 0;
}

int qmcu_op_is_hybrid(const qmcu_graph *g, const qmcu_op *op)
{
    return qmcu_op_has(op->type, QMCU_OPT_WEIGHTED) && g->tensors[op->in[0]].type == QMCU_F32 &&
           g->tensors[op->in[1]].type == QMCU_I8;
}

int qmcu_graph_producer(const qmcu_graph *g, int t, int n_ops)
{
    int i;
    for (i = 0; i < n_ops && i < g->n_ops; i++)
        if (g->ops[i].out == t) return i;
    return -1;
}

int qmcu_is_conv(qmcu_op_type t) { return t == QMCU_OP_CONV_2D || t == QMCU_OP_DEPTHWISE_CONV_2D; }

int32_t qmcu_op_out_channels(const qmcu_graph *g, const qmcu_op *op)
{
    const qmcu_tensor *w = &g->tensors[op->in[1]]; /* OHWI, 1HWO, [out][k] */
    return op->type == QMCU_OP_DEPTHWISE_CONV_2D ? w->dims[3] : w->dims[0];
}

int qmcu_graph_is_input(const qmcu_graph *g, int t)
{
    int i;
    for (i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] == t) return 1;
    return 0;
}

int qmcu_graph_is_output(const qmcu_graph *g, int t)
{
    int i;
    for (i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == t) return 1;
    return 0;
}

const char *qmcu_dtype_name(qmcu_dtype t)
{
    switch (t) {
    case QMCU_F32: return "float32";
    case QMCU_I8: return "int8";
    case QMCU_I32: return "int32";
    case QMCU_I64: return "int64";
    case QMCU_I16: return "int16";
    }
    return "?";
}

size_t qmcu_dtype_size(qmcu_dtype t)
{
    switch (t) {
    case QMCU_I8: return 1;
    case QMCU_I16: return 2;
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
