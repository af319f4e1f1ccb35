/* Writes small .tflite models (one subgraph) for tests, fuzz seeds and the differential tests
 * against TFLite: buffers, tensors with quantization, operators with their builtin options.
 *
 *   tfb b; tfb_init(&b);
 *   int x = tfb_tensor(&b, "x", TFB_INT8, (int[]){1, 8, 8, 3}, 4, -1, 0.5f, -128);
 *   ...
 *   fbw_table_start(tfb_w(&b)); fbw_add_i32(tfb_w(&b), 1, 1); ... opts = fbw_table_end(tfb_w(&b));
 *   tfb_op(&b, TFB_CONV_2D, (int[]){x, w, bias}, 3, y, TFB_OPT_CONV, opts);
 *   tfb_io(&b, x, y); tfb_finish(&b, NULL) -> tfb_bytes / tfb_size */
#ifndef QMCU_TFLITE_BUILDER_H
#define QMCU_TFLITE_BUILDER_H

#include "flatbuf_writer.h"

/* TensorType */
enum { TFB_FLOAT32 = 0, TFB_INT32 = 2, TFB_UINT8 = 3, TFB_INT64 = 4, TFB_INT16 = 7, TFB_INT8 = 9 };
/* BuiltinOperator codes used here */
enum {
    TFB_ADD = 0,
    TFB_AVERAGE_POOL_2D = 1,
    TFB_CONCATENATION = 2,
    TFB_CONV_2D = 3,
    TFB_DEPTHWISE_CONV_2D = 4,
    TFB_DEQUANTIZE = 6,
    TFB_FULLY_CONNECTED = 9,
    TFB_LOGISTIC = 14,
    TFB_MAX_POOL_2D = 17,
    TFB_MUL = 18,
    TFB_RESHAPE = 22,
    TFB_CUSTOM = 32,
    TFB_RESIZE_BILINEAR = 23,
    TFB_SOFTMAX = 25,
    TFB_PAD = 34,
    TFB_MEAN = 40,
    TFB_SUB = 41,
    TFB_UNIDIRECTIONAL_SEQUENCE_LSTM = 44,
    TFB_DIV = 42,
    TFB_SPLIT = 49,
    TFB_CAST = 53,
    TFB_ARG_MAX = 56,
    TFB_SQRT = 75,
    TFB_PACK = 83,
    TFB_UNPACK = 88,
    TFB_FLOOR_DIV = 90,
    TFB_GATHER_ND = 107,
    TFB_QUANTIZE = 114,
    TFB_RESIZE_NEAREST_NEIGHBOR = 97,
    TFB_LEAKY_RELU = 98,
    TFB_HARD_SWISH = 117
};
/* BuiltinOptions union types */
enum {
    TFB_OPT_NONE = 0,
    TFB_OPT_CONV = 1,
    TFB_OPT_DEPTHWISE = 2,
    TFB_OPT_POOL = 5,
    TFB_OPT_FULLY_CONNECTED = 8,
    TFB_OPT_SOFTMAX = 9,
    TFB_OPT_CONCATENATION = 10,
    TFB_OPT_ADD = 11,
    TFB_OPT_RESIZE_BILINEAR = 15,
    TFB_OPT_RESHAPE = 17,
    TFB_OPT_MUL = 21,
    TFB_OPT_PAD = 22,
    TFB_OPT_REDUCER = 27,
    TFB_OPT_SUB = 28,
    TFB_OPT_SPLIT = 35,
    TFB_OPT_DIV = 29,
    TFB_OPT_ARG_MAX = 40,
    TFB_OPT_PACK = 59,
    TFB_OPT_UNPACK = 64,
    TFB_OPT_UNIDIRECTIONAL_SEQUENCE_LSTM = 71,
    TFB_OPT_RESIZE_NEAREST_NEIGHBOR = 74,
    TFB_OPT_LEAKY_RELU = 75
};

#define TFB_MAX 256

typedef struct {
    fbw w;
    uint32_t buffers[TFB_MAX], tensors[TFB_MAX], ops[TFB_MAX], codes[TFB_MAX];
    int n_buffers, n_tensors, n_ops, n_codes;
    int code_of[TFB_MAX];           /* builtin code of each operator-code entry */
    const char *custom_of[TFB_MAX]; /* its custom code (CUSTOM entries) */
    int inputs[4], outputs[4], n_inputs, n_outputs;
    int metadata_buffer; /* TFLITE_METADATA buffer index, 0 = none */
    int variable_next;   /* the next tensor is a variable (LSTM state) */
    int failed;
} tfb;

void tfb_init(tfb *b);
void tfb_free(tfb *b);
fbw *tfb_w(tfb *b);
/* A constant buffer (its index); data may be NULL for an activation's empty buffer. */
int tfb_buffer(tfb *b, const void *data, size_t n);
/* A tensor: buffer -1 = activation (empty buffer); scale 0 = not quantized. */
int tfb_tensor(tfb *b, const char *name, int type, const int *shape, int ndim, int buffer, float scale, int zero_point);
/* Per-channel quantized constant (weights): scales[n], zero points 0, along dim. */
int tfb_tensor_pc(tfb *b, const char *name, int type, const int *shape, int ndim, int buffer, const float *scales,
                  int n, int dim);
int tfb_op(tfb *b, int builtin, const int *in, int n_in, int out, int options_type, uint32_t options);
/* An operator with several outputs (SPLIT). */
int tfb_op_multi(tfb *b, int builtin, const int *in, int n_in, const int *out, int n_out, int options_type,
                 uint32_t options);
/* With intermediate tensors (the integer LSTM's). */
int tfb_op_full(tfb *b, int builtin, const int *in, int n_in, const int *out, int n_out, int options_type,
                uint32_t options, const int *intermediates, int n_intermediates);
/* A custom operator (builtin CUSTOM, custom_code `name`) with FlexBuffers options. */
int tfb_op_custom(tfb *b, const char *name, const int *in, int n_in, const int *out, int n_out, const uint8_t *options,
                  size_t options_len);
void tfb_io(tfb *b, int input, int output);

/* A FlexBuffers map of scalars (custom operator options). Keys must be given in strcmp order. */
typedef struct {
    const char *key;
    int kind; /* 0 int, 1 float, 2 bool */
    double value;
} tfb_flex_entry;
/* Writes the map into out (cap bytes); returns its length, 0 when it does not fit. */
size_t tfb_flex_map(const tfb_flex_entry *e, int n, uint8_t *out, size_t cap);
/* TFLite metadata (tflite-support schema) with the input's NormalizationOptions mean/std (n = 1 or 3;
 * n = 0 writes metadata without normalization). */
void tfb_metadata_normalization(tfb *b, const float *mean, const float *std, int n);
/* Writes the model (description may be NULL); returns 0 on failure. */
int tfb_finish(tfb *b, const char *description);
const uint8_t *tfb_bytes(const tfb *b);
size_t tfb_size(const tfb *b);

/* Options tables */
uint32_t tfb_conv_options(tfb *b, int same, int stride, int act);
uint32_t tfb_depthwise_options(tfb *b, int same, int stride, int multiplier, int act);
uint32_t tfb_pool_options(tfb *b, int same, int stride, int filter, int act);
uint32_t tfb_act_options(tfb *b, int act); /* ADD, MUL, FULLY_CONNECTED */

#endif
