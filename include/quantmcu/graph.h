/* quantmcu graph IR: tensors and operators imported from a TFLite model.
 *
 * Quantization conventions (subtle, read once):
 *  - Every 8-bit activation and weight is stored as int8. A model's uint8 tensors are
 *    converted at import: stored = uint8 - 128 and zero_point = zp_uint8 - 128. All integer
 *    arithmetic uses (q - zero_point), which this shift leaves unchanged, so one int8 kernel
 *    serves uint8 and int8 models bit-exactly. `from_uint8` remembers the original type for
 *    I/O (input/output bytes are converted back) and for the few ops whose rounding depends
 *    on the unshifted value (average pooling, mean, softmax output).
 *  - real = scale * (q - zero_point). Per-channel weights keep one scale per output channel
 *    (quantized_dimension); their zero points are 0 (TFLite int8 rule).
 *  - Dimensions are TFLite's NHWC; filters are OHWI (conv) and 1HWO (depthwise). */
#ifndef QMCU_GRAPH_H
#define QMCU_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "quantmcu/kernels.h"
#include "quantmcu/status.h"

#define QMCU_MAX_DIMS      6
#define QMCU_MAX_OP_INPUTS 16
#define QMCU_MAX_IO        16 /* model inputs, model outputs */

typedef enum { QMCU_F32 = 0, QMCU_I8, QMCU_I32, QMCU_I64, QMCU_I16 } qmcu_dtype; /* I16: LSTM cell states */

typedef struct {
    char name[96];
    int ndim;
    int32_t dims[QMCU_MAX_DIMS];
    qmcu_dtype type;
    int from_uint8;     /* model stores it as uint8 (values here are uint8 - 128) */
    int quantized;      /* has scale/zero point */
    float scale;        /* per-tensor scale (channel 0 for per-channel tensors) */
    int32_t zero_point; /* storage-domain zero point */
    int n_scales;       /* > 1 for per-channel quantization */
    float *scales;      /* owned, n_scales entries (always >= 1 when quantized) */
    int quant_dim;
    void *data;   /* owned copy of constant data, NULL for activations */
    size_t bytes; /* element count * element size */
} qmcu_tensor;

typedef enum {
    QMCU_OP_CONV_2D,
    QMCU_OP_DEPTHWISE_CONV_2D,
    QMCU_OP_FULLY_CONNECTED,
    QMCU_OP_ADD,
    QMCU_OP_MUL,
    QMCU_OP_AVERAGE_POOL_2D,
    QMCU_OP_MAX_POOL_2D,
    QMCU_OP_MEAN,
    QMCU_OP_PAD,
    QMCU_OP_RESHAPE,
    QMCU_OP_SOFTMAX,
    QMCU_OP_QUANTIZE,
    QMCU_OP_DEQUANTIZE,
    QMCU_OP_TRANSPOSE,
    QMCU_OP_CONCATENATION,
    QMCU_OP_LOGISTIC,
    QMCU_OP_HARD_SWISH,
    QMCU_OP_RELU,
    QMCU_OP_RELU6,
    QMCU_OP_RESIZE_BILINEAR,
    QMCU_OP_ARG_MAX,
    QMCU_OP_SLICE, /* one output of a TFLite SPLIT / SPLIT_V: [begin, begin + size) along `axis` */
    QMCU_OP_RESIZE_NEAREST_NEIGHBOR,
    QMCU_OP_SUB,
    QMCU_OP_CAST,                         /* value conversion between element types (no rescaling) */
    QMCU_OP_DIV,                          /* float */
    QMCU_OP_FLOOR_DIV,                    /* int32, float */
    QMCU_OP_SQRT,                         /* float */
    QMCU_OP_PACK,                         /* stacks its inputs along a new axis */
    QMCU_OP_GATHER_ND,                    /* slices of in[0] at the index tuples of in[1] */
    QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM, /* in: input, weights i->{i,f,c,o}, h->{i,f,c,o}, biases {i,f,c,o}; its
                                             cell and hidden states are its own (zero when a run starts) */
    QMCU_OP_DETECTION_POSTPROCESS, /* custom TFLite_Detection_PostProcess; its four outputs are packed into one float
                                      tensor (boxes, classes, scores, count) that four SLICE ops unpack */
    QMCU_OP_LEAKY_RELU,            /* x >= 0 ? x : alpha * x */
    QMCU_OP_COUNT
} qmcu_op_type;

typedef enum { QMCU_ACT_NONE = 0, QMCU_ACT_RELU, QMCU_ACT_RELU_N1_TO_1, QMCU_ACT_RELU6 } qmcu_activation;

typedef struct {
    qmcu_op_type type;
    int n_in;
    int in[QMCU_MAX_OP_INPUTS]; /* tensor indices, -1 = optional input absent */
    int out;
    /* options (only those the op type uses are meaningful) */
    int padding_same;
    int stride_h, stride_w, dil_h, dil_w;
    int filter_h, filter_w; /* pooling */
    int depth_multiplier;
    qmcu_activation act;
    int axis;                              /* concatenation, arg max (normalised to >= 0) */
    int align_corners, half_pixel_centers; /* resize */
    int slice_begin; /* slice: first index along axis (the size: the output's elements over the other dims) */
    int keep_dims;   /* mean */
    float beta;      /* softmax */
    float alpha;     /* leaky relu */
    qmcu_detection_params detect;           /* detection post-processing: its custom options */
    int lstm_cell_state, lstm_hidden_state; /* LSTM: the model's state tensors (their quantization) */
    int time_major;                         /* LSTM: input [time][batch][features] */
    float lstm_cell_clip;                   /* LSTM: 0 = none */
    float lstm_hidden_scale;                /* LSTM: the hidden state's quantization (intermediate 4) */
    int lstm_hidden_zero_point;
    /* derived at import */
    int pad_top, pad_left;   /* TFLite SAME/VALID padding before (conv, pool) */
    int32_t pads[4][2];      /* PAD: before/after per NHWC dim */
    int perm[QMCU_MAX_DIMS]; /* TRANSPOSE */
    int reduce_mask;         /* MEAN: bit d set = reduce dim d of the 4-D right-aligned shape */
} qmcu_op;

/* How image pixels p (0..255, per channel c) become the model's input (src/image applies it):
 * with a normalization, real = (p - mean[c]) / std[c], quantized with the input's own scale and
 * zero point for 8-bit inputs; without one, the full-range rule (see qmcu_image_to_input). */
typedef struct {
    int present;   /* mean/std are set */
    int from_user; /* set by --input-range (quantmcu_set_input_range), else TFLite metadata */
    float mean[3], std[3];
    char metadata_error[96]; /* TFLite metadata present but unusable (the default rule applies) */
} qmcu_input_norm;

typedef struct {
    char path[256];
    int n_tensors;
    qmcu_tensor *tensors;
    int n_ops;
    qmcu_op *ops;
    int n_inputs, n_outputs;
    int inputs[QMCU_MAX_IO], outputs[QMCU_MAX_IO];
    uint64_t fingerprint; /* FNV-1a 64 of the model file */
    qmcu_input_norm input_norm;
} qmcu_graph;

/* Op traits: one table (graph.c) says what each op type is to every stage. */
enum {
    QMCU_OPT_WEIGHTED = 1,        /* conv / depthwise / FC: in[1] constant weights, in[2] bias */
    QMCU_OPT_WINDOW = 2,          /* output pixel from a kernel window (conv, depthwise, pooling) */
    QMCU_OPT_ELEMENTWISE = 4,     /* output element from the same element of each input */
    QMCU_OPT_LOWBIT_READER = 8,   /* may read a QuantMCU low-bit map (conv, depthwise, add, pad) */
    QMCU_OPT_LOWBIT_PRODUCER = 16 /* its int32 results may be requantized to a low-bit map */
};
typedef struct {
    const char *name; /* TFLite's builtin name */
    unsigned flags;   /* QMCU_OPT_* */
} qmcu_op_traits;
const qmcu_op_traits *qmcu_op_traits_of(qmcu_op_type t);
int qmcu_op_has(qmcu_op_type t, unsigned trait);
/* Which input (1 or 2; 0: none) of an element-wise op is a constant that broadcasts only over
 * batch, height and width (shape [C] / [1,1,1,C] or a scalar): such an op is still spatially local. */
int qmcu_op_channel_constant(const qmcu_graph *g, const qmcu_op *op);
/* A dynamic-range ("hybrid") op: float activations, constant int8 weights (CONV_2D). */
int qmcu_op_is_hybrid(const qmcu_graph *g, const qmcu_op *op);
/* CONV_2D or DEPTHWISE_CONV_2D. */
int qmcu_is_conv(qmcu_op_type t);
/* Output channels of a weighted op (from its filter). */
int32_t qmcu_op_out_channels(const qmcu_graph *g, const qmcu_op *op);
int qmcu_graph_is_input(const qmcu_graph *g, int t);
/* The op among ops [0, n_ops) that writes tensor t, or -1 (a tensor has at most one writer). */
int qmcu_graph_producer(const qmcu_graph *g, int t, int n_ops);
int qmcu_graph_is_output(const qmcu_graph *g, int t);

const char *qmcu_op_name(qmcu_op_type t);
const char *qmcu_dtype_name(qmcu_dtype t);
size_t qmcu_dtype_size(qmcu_dtype t);
int64_t qmcu_tensor_elems(const qmcu_tensor *t);
/* Shape right-aligned to 4 dimensions (leading 1s). */
void qmcu_tensor_dims4(const qmcu_tensor *t, int32_t d[4]);
/* Multiply-accumulates of one op over its whole output (0 for non-MAC ops). */
int64_t qmcu_op_macs(const qmcu_graph *g, const qmcu_op *op);
/* TFLite's output size / padding rule (ComputeOutSize + ComputePaddingWithOffset). */
int qmcu_out_size(int same, int in, int filter, int stride, int dilation);
int qmcu_pad_before(int same, int in, int filter, int stride, int dilation);

#endif
