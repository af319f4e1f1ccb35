/* TFLite flatbuffer -> qmcu_graph, with validation of everything the kernels rely on
 * (shapes, types, constant sizes), so that a hostile model is rejected here, once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tflite_import.h"

#include "../common/host_file.h"
#include "flatbuf.h"
#include "flexbuf.h"

/* TFLite schema field ids (schema.fbs). */
enum { MODEL_OPCODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4, MODEL_METADATA = 6 };
enum { METADATA_NAME = 0, METADATA_BUFFER = 1 };
/* TFLite metadata schema (tflite-support metadata_schema.fbs, identifier M001) field ids. */
enum { MM_SUBGRAPHS = 3, SGM_INPUTS = 2, TM_PROCESS_UNITS = 4, PU_OPTIONS_TYPE = 0, PU_OPTIONS = 1 };
enum { PU_NORMALIZATION = 1, NORM_MEAN = 0, NORM_STD = 1 };
enum { OPCODE_DEPRECATED = 0, OPCODE_CUSTOM = 1, OPCODE_BUILTIN = 3 };
enum { SG_TENSORS = 0, SG_INPUTS = 1, SG_OUTPUTS = 2, SG_OPERATORS = 3 };
enum { T_SHAPE = 0, T_TYPE = 1, T_BUFFER = 2, T_NAME = 3, T_QUANT = 4, T_SPARSITY = 6 };
enum { Q_SCALE = 2, Q_ZERO_POINT = 3, Q_DIM = 6 };
enum {
    OP_OPCODE = 0,
    OP_INPUTS = 1,
    OP_OUTPUTS = 2,
    OP_OPTIONS = 4,
    OP_CUSTOM_OPTIONS = 5,
    OP_CUSTOM_FORMAT = 6,
    OP_INTERMEDIATES = 8
};
enum { BUF_DATA = 0 };
enum { TFL_FLOAT32 = 0, TFL_INT32 = 2, TFL_UINT8 = 3, TFL_INT64 = 4, TFL_INT16 = 7, TFL_INT8 = 9 };

/* BuiltinOperator codes we import. */
static const struct {
    int code;
    qmcu_op_type type;
} k_builtin[] = {
    {0, QMCU_OP_ADD},
    {1, QMCU_OP_AVERAGE_POOL_2D},
    {2, QMCU_OP_CONCATENATION},
    {3, QMCU_OP_CONV_2D},
    {4, QMCU_OP_DEPTHWISE_CONV_2D},
    {6, QMCU_OP_DEQUANTIZE},
    {9, QMCU_OP_FULLY_CONNECTED},
    {14, QMCU_OP_LOGISTIC},
    {17, QMCU_OP_MAX_POOL_2D},
    {18, QMCU_OP_MUL},
    {19, QMCU_OP_RELU},
    {21, QMCU_OP_RELU6},
    {22, QMCU_OP_RESHAPE},
    {23, QMCU_OP_RESIZE_BILINEAR},
    {25, QMCU_OP_SOFTMAX},
    {34, QMCU_OP_PAD},
    {39, QMCU_OP_TRANSPOSE},
    {40, QMCU_OP_MEAN},
    {41, QMCU_OP_SUB},
    {44, QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM},
    {42, QMCU_OP_DIV},
    {49, QMCU_OP_SLICE}, /* SPLIT: one SLICE per output */
    {53, QMCU_OP_CAST},
    {56, QMCU_OP_ARG_MAX},
    {75, QMCU_OP_SQRT},
    {83, QMCU_OP_PACK},
    {88, QMCU_OP_SLICE}, /* UNPACK: one SLICE per output */
    {90, QMCU_OP_FLOOR_DIV},
    {97, QMCU_OP_RESIZE_NEAREST_NEIGHBOR},
    {98, QMCU_OP_LEAKY_RELU},
    {102, QMCU_OP_SLICE}, /* SPLIT_V */
    {107, QMCU_OP_GATHER_ND},
    {114, QMCU_OP_QUANTIZE},
    {117, QMCU_OP_HARD_SWISH},
};

/* Every BuiltinOperator name of TFLite's schema (2.9 and the codes after it), indexed by code,
 * so that an error always names the operator. */
// clang-format off
static const char *const k_builtin_names[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2",
    "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX",
    "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN",
    "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT",
    "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT",
    "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL",
    "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
    "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
    "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D",
    "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL",
    "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN",
    "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT"
};
// clang-format on

static const char *builtin_name(int code)
{
    return code >= 0 && code < (int)(sizeof k_builtin_names / sizeof k_builtin_names[0]) ? k_builtin_names[code] : NULL;
}

typedef struct {
    fb_reader r;
    qmcu_graph *g;
    qmcu_error *err;
    const char *name;
    fb_vec buffers;
    int next_extra_tensor; /* tensors the import adds after the model's (packed detection outputs) */
} importer;

/* Custom operators we import, by their custom_code. */
static const char k_detection_custom[] = "TFLite_Detection_PostProcess";

#define FAIL(st, ...)                                                                                                  \
    do {                                                                                                               \
        char m_[400];                                                                                                  \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                                                          \
        qmcu_error_set(im->err, "%s: %s", im->name, m_);                                                               \
        return (st);                                                                                                   \
    } while (0)

static qmcu_status import_tensor(importer *im, fb_table tt, int index)
{
    qmcu_tensor *t = &im->g->tensors[index];
    fb_reader *r = &im->r;
    fb_vec shape = fb_vec_field(r, tt, T_SHAPE, 4);
    int8_t ttype = fb_i8(r, tt, T_TYPE, 0);
    uint32_t buf = fb_u32(r, tt, T_BUFFER, 0);
    fb_table q = fb_table_field(r, tt, T_QUANT);
    int64_t elems = 1;
    uint32_t i;

    fb_string_field(r, tt, T_NAME, t->name, sizeof t->name);
    if (r->err) return QMCU_ERR_FORMAT;
    if (shape.n > QMCU_MAX_DIMS)
        FAIL(QMCU_ERR_UNSUPPORTED, "tensor %d '%s' has rank %u (max %d)", index, t->name, shape.n, QMCU_MAX_DIMS);
    t->ndim = (int)shape.n;
    for (i = 0; i < shape.n; i++) {
        int32_t d = fb_vec_i32(r, shape, i);
        if (d < 0 || d > (1 << 24)) /* 0: an empty tensor (ops refuse them; LSTM intermediates are empty) */
            FAIL(QMCU_ERR_FORMAT, "tensor %d '%s' has invalid dimension %d", index, t->name, d);
        t->dims[i] = d;
        elems *= d;
        if (elems > (1 << 28)) { /* the whole declared count, in double (it may exceed any integer) */
            double all = (double)elems;
            for (i++; i < shape.n; i++) all *= fb_vec_i32(r, shape, i) > 0 ? (double)fb_vec_i32(r, shape, i) : 1.0;
            FAIL(QMCU_ERR_FORMAT, "tensor %d '%s' declares %.0f elements (more than the 2^28 limit)", index, t->name,
                 all);
        }
    }
    if (fb_has(r, tt, T_SPARSITY)) FAIL(QMCU_ERR_UNSUPPORTED, "tensor %d '%s' is sparse (unsupported)", index, t->name);
    switch (ttype) {
    case TFL_FLOAT32: t->type = QMCU_F32; break;
    case TFL_INT32: t->type = QMCU_I32; break;
    case TFL_INT64: t->type = QMCU_I64; break;
    case TFL_INT16: t->type = QMCU_I16; break; /* LSTM cell states only (import_lstm) */
    case TFL_INT8: t->type = QMCU_I8; break;
    case TFL_UINT8:
        t->type = QMCU_I8;
        t->from_uint8 = 1;
        break;
    default: FAIL(QMCU_ERR_UNSUPPORTED, "tensor %d '%s' has unsupported type %d", index, t->name, ttype);
    }
    t->bytes = (size_t)elems * qmcu_dtype_size(t->type);

    if (q.pos) {
        fb_vec sc = fb_vec_field(r, q, Q_SCALE, 4);
        fb_vec zp = fb_vec_field(r, q, Q_ZERO_POINT, 8);
        int qdim = fb_i32(r, q, Q_DIM, 0);
        if (r->err) return QMCU_ERR_FORMAT;
        if (sc.n > 0) {
            if (zp.n != sc.n && zp.n != 1)
                FAIL(QMCU_ERR_FORMAT, "tensor '%s': %u scales but %u zero points", t->name, sc.n, zp.n);
            if (sc.n > 1 && (qdim < 0 || qdim >= t->ndim || (uint32_t)t->dims[qdim] != sc.n))
                FAIL(QMCU_ERR_FORMAT, "tensor '%s': %u per-channel scales do not match dimension %d", t->name, sc.n,
                     qdim);
            t->quantized = 1;
            t->n_scales = (int)sc.n;
            t->quant_dim = qdim;
            t->scales = (float *)malloc(sizeof(float) * sc.n);
            if (!t->scales) FAIL(QMCU_ERR_NOMEM, "out of memory");
            for (i = 0; i < sc.n; i++) {
                float s = fb_vec_f32(r, sc, i);
                if (!(s > 0.0f) || !isfinite(s))
                    FAIL(QMCU_ERR_FORMAT, "tensor '%s' has invalid scale %g", t->name, (double)s);
                t->scales[i] = s;
            }
            t->scale = t->scales[0];
            {
                int64_t z0 = fb_vec_i64(r, zp, 0);
                for (i = 1; i < zp.n; i++)
                    if (fb_vec_i64(r, zp, i) != z0)
                        FAIL(QMCU_ERR_UNSUPPORTED, "tensor '%s' has per-channel zero points", t->name);
                if (t->type == QMCU_I8) {
                    if (t->from_uint8 ? (z0 < 0 || z0 > 255) : (z0 < -128 || z0 > 127))
                        FAIL(QMCU_ERR_FORMAT, "tensor '%s' has zero point %lld outside its type", t->name,
                             (long long)z0);
                    t->zero_point = (int32_t)(t->from_uint8 ? z0 - 128 : z0);
                } else if (z0 != 0) {
                    FAIL(QMCU_ERR_UNSUPPORTED, "tensor '%s' (%s) has a non-zero zero point", t->name,
                         qmcu_dtype_name(t->type));
                }
            }
        }
    }
    if (t->type == QMCU_I8 && !t->quantized) { /* raw 8-bit integers (e.g. a uint8 image CAST to float) */
        t->quantized = 1;
        t->n_scales = 1;
        t->scales = (float *)malloc(sizeof(float));
        if (!t->scales) FAIL(QMCU_ERR_NOMEM, "out of memory");
        t->scale = t->scales[0] = 1.0f;
        t->zero_point = t->from_uint8 ? -128 : 0;
    }

    if (buf != 0) {
        fb_table bt;
        fb_vec data;
        if (buf >= im->buffers.n)
            FAIL(QMCU_ERR_FORMAT, "tensor '%s' refers to buffer %u of %u", t->name, buf, im->buffers.n);
        bt = fb_vec_table(r, im->buffers, buf);
        data = fb_vec_field(r, bt, BUF_DATA, 1);
        if (r->err) return QMCU_ERR_FORMAT;
        if (data.n > 0) {
            const uint8_t *src = fb_vec_bytes(r, data);
            if (data.n != t->bytes)
                FAIL(QMCU_ERR_FORMAT, "tensor '%s' has %u data bytes, its shape needs %zu", t->name, data.n, t->bytes);
            t->data = malloc(t->bytes ? t->bytes : 1);
            if (!t->data) FAIL(QMCU_ERR_NOMEM, "out of memory");
            memcpy(t->data, src, t->bytes);
            if (t->from_uint8) { /* uint8 -> int8 storage: u - 128 == u ^ 0x80 */
                uint8_t *p = (uint8_t *)t->data;
                for (i = 0; i < data.n; i++) p[i] ^= 0x80;
            }
        }
    }
    return QMCU_OK;
}

/* ---- per-op validation ------------------------------------------------------------ */

static const qmcu_tensor *T(importer *im, int idx) { return idx >= 0 ? &im->g->tensors[idx] : NULL; }

static int same_shape(const qmcu_tensor *a, const qmcu_tensor *b)
{
    int i;
    if (a->ndim != b->ndim) return 0;
    for (i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

static int32_t const_i32(const qmcu_tensor *t, int64_t i)
{
    if (t->type == QMCU_I64) return (int32_t)((const int64_t *)t->data)[i];
    return ((const int32_t *)t->data)[i];
}

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) FAIL(QMCU_ERR_FORMAT, __VA_ARGS__);                                                               \
    } while (0)

enum { ACT_INT32 = 1, ACT_CONST = 2 }; /* also allowed: int32 tensors, a constant input */

static qmcu_status check_types(importer *im, int opi, const qmcu_tensor *x, const qmcu_tensor *y, unsigned allow)
{
    const char *on = qmcu_op_name(im->g->ops[opi].type);
    CHECK(x->type == y->type &&
              (x->type == QMCU_I8 || x->type == QMCU_F32 || ((allow & ACT_INT32) && x->type == QMCU_I32)),
          "op %d %s: input '%s' (%s) and output '%s' (%s) must both be int8/uint8 or float32%s", opi, on, x->name,
          qmcu_dtype_name(x->type), y->name, qmcu_dtype_name(y->type), allow & ACT_INT32 ? " or int32" : "");
    CHECK(x->from_uint8 == y->from_uint8, "op %d %s: mixes uint8 and int8 tensors", opi, on);
    CHECK((allow & ACT_CONST) || x->data == NULL, "op %d %s: constant data input '%s' is not supported here", opi, on,
          x->name);
    return QMCU_OK;
}

static qmcu_status check_act_type(importer *im, int opi, const qmcu_tensor *x, const qmcu_tensor *y)
{
    return check_types(im, opi, x, y, 0);
}

/* The exact int32 accumulator of every output channel, bias + sum (x - zx) * (w - zw), is
 * bounded by |bias| + 255 * sum |w - zw|; require that bound to fit in int32 (the kernels'
 * intermediate sums wrap harmlessly, see gemm_s8.c). */
static qmcu_status check_accumulation(importer *im, int opi, const qmcu_tensor *x, const qmcu_tensor *w,
                                      const qmcu_tensor *b, int depthwise)
{
    const char *on = qmcu_op_name(im->g->ops[opi].type);
    const int8_t *wd = (const int8_t *)w->data;
    const int64_t n = qmcu_tensor_elems(w);
    const int32_t oc = depthwise ? w->dims[w->ndim - 1] : w->dims[0];
    const int64_t k = n / oc;
    int32_t c;
    if (x->type != QMCU_I8) return QMCU_OK;
    if (k > 65536) FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s: accumulation depth %lld exceeds 65536", opi, on, (long long)k);
    for (c = 0; c < oc; c++) {
        int64_t bound = b ? ((const int32_t *)b->data)[c] : 0, j;
        if (bound < 0) bound = -bound;
        for (j = 0; j < k; j++) {
            const int32_t v = wd[depthwise ? j * oc + c : c * k + j] - w->zero_point;
            bound += 255 * (v < 0 ? -v : v);
        }
        CHECK(bound <= INT32_MAX, "op %d %s: output channel %d can overflow a 32-bit accumulator", opi, on, c);
    }
    return QMCU_OK;
}

/* Ops that move values without rescaling them: output quantization = input quantization. */
static qmcu_status check_same_quant(importer *im, int opi, const char *on, const qmcu_tensor *x, const qmcu_tensor *y)
{
    if (x->type == QMCU_I8)
        CHECK(x->scale == y->scale && x->zero_point == y->zero_point, "op %d %s: input and output quantization differ",
              opi, on);
    return QMCU_OK;
}

/* Float activations with 8-bit constant weights: TFLite's dynamic-range ("hybrid") kernels, which
 * quantize the input at run time. Named as such rather than as a type mismatch. */
static qmcu_status check_hybrid(importer *im, int opi, const char *on, const qmcu_tensor *x, const qmcu_tensor *w)
{
    if (x->type == QMCU_F32 && w->type == QMCU_I8 && w->data &&
        (im->g->ops[opi].type == QMCU_OP_CONV_2D || im->g->ops[opi].type == QMCU_OP_FULLY_CONNECTED)) {
        CHECK(im->g->ops[opi].type != QMCU_OP_FULLY_CONNECTED || w->n_scales == 1,
              "op %d %s: dynamic-range weights '%s' must have one scale", opi, on, w->name);
        CHECK(!w->from_uint8 && w->zero_point == 0,
              "op %d %s: dynamic-range filter '%s' must be int8 with zero point 0", opi, on, w->name);
        return QMCU_OK; /* hybrid CONV_2D (hybrid.c) */
    }
    if (x->type == QMCU_F32 && w->type == QMCU_I8 && w->data)
        FAIL(QMCU_ERR_UNSUPPORTED,
             "op %d %s: float activations with 8-bit weights '%s' (dynamic-range quantization) are not supported; "
             "use a fully quantized model or a float one",
             opi, on, w->name);
    return QMCU_OK;
}

static qmcu_status validate_conv(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                 const qmcu_tensor *y)
{
    qmcu_status st;
    const qmcu_tensor *w = T(im, op->in[1]), *b = op->n_in > 2 ? T(im, op->in[2]) : NULL;
    int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D;
    int oc, kh, kw, oh, ow;
    if ((st = check_act_type(im, opi, x, y))) return st;
    CHECK(x->ndim == 4 && w->ndim == 4 && y->ndim == 4, "op %d %s: input, filter and output must be 4-D", opi, on);
    if ((st = check_hybrid(im, opi, on, x, w))) return st;
    CHECK(w->data != NULL && (w->type == x->type || qmcu_op_is_hybrid(im->g, op)),
          "op %d %s: filter '%s' must be constant and of the input's type", opi, on, w->name);
    oc = dw ? w->dims[3] : w->dims[0];
    kh = w->dims[1];
    kw = w->dims[2];
    if (dw) {
        CHECK(w->dims[0] == 1 && oc % x->dims[3] == 0, "op %d %s: filter shape does not fit input channels", opi, on);
        op->depth_multiplier = oc / x->dims[3];
    } else {
        if (w->dims[3] != x->dims[3])
            FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s: grouped convolution (filter depth %d, input depth %d) is unsupported",
                 opi, on, w->dims[3], x->dims[3]);
    }
    CHECK(op->stride_h > 0 && op->stride_w > 0 && op->dil_h > 0 && op->dil_w > 0 && op->stride_h < 64 &&
              op->stride_w < 64 && op->dil_h < 64 && op->dil_w < 64,
          "op %d %s: invalid stride or dilation", opi, on);
    oh = qmcu_out_size(op->padding_same, x->dims[1], kh, op->stride_h, op->dil_h);
    ow = qmcu_out_size(op->padding_same, x->dims[2], kw, op->stride_w, op->dil_w);
    CHECK(y->dims[0] == x->dims[0] && y->dims[1] == oh && y->dims[2] == ow && y->dims[3] == oc,
          "op %d %s: output shape %dx%dx%dx%d does not match the computed %dx%dx%dx%d", opi, on, y->dims[0], y->dims[1],
          y->dims[2], y->dims[3], x->dims[0], oh, ow, oc);
    op->pad_top = qmcu_pad_before(op->padding_same, x->dims[1], kh, op->stride_h, op->dil_h);
    op->pad_left = qmcu_pad_before(op->padding_same, x->dims[2], kw, op->stride_w, op->dil_w);
    if (x->type == QMCU_I8) {
        int wch = dw ? 3 : 0;
        CHECK(w->n_scales == 1 || (w->n_scales == oc && w->quant_dim == wch),
              "op %d %s: filter quantization does not match output channels", opi, on);
        CHECK(w->n_scales == 1 || w->zero_point == 0, "op %d %s: per-channel filter with non-zero zero point", opi, on);
    }
    if (b) {
        CHECK(b->data != NULL && b->ndim == 1 && b->dims[0] == oc &&
                  b->type == (x->type == QMCU_I8 ? QMCU_I32 : QMCU_F32),
              "op %d %s: bias '%s' must be a constant %s vector of %d", opi, on, b->name,
              x->type == QMCU_I8 ? "int32" : "float32", oc);
    }
    if ((st = check_accumulation(im, opi, x, w, b, dw))) return st;
    return QMCU_OK;
}

static qmcu_status validate_fully_connected(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                            const qmcu_tensor *y)
{
    qmcu_status st;
    const qmcu_tensor *w = T(im, op->in[1]), *b = op->n_in > 2 ? T(im, op->in[2]) : NULL;
    int64_t k, n = qmcu_tensor_elems(x);
    if ((st = check_act_type(im, opi, x, y))) return st;
    if ((st = check_hybrid(im, opi, on, x, w))) return st;
    CHECK(w->ndim == 2 && w->data != NULL && (w->type == x->type || qmcu_op_is_hybrid(im->g, op)),
          "op %d %s: filter must be a constant 2-D tensor of the input's type", opi, on);
    k = w->dims[1];
    CHECK(n % k == 0 && qmcu_tensor_elems(y) == (n / k) * w->dims[0],
          "op %d %s: shapes do not match (input %lld, filter %dx%d, output %lld)", opi, on, (long long)n, w->dims[0],
          w->dims[1], (long long)qmcu_tensor_elems(y));
    CHECK(x->type != QMCU_I8 || w->n_scales == 1, "op %d %s: per-channel fully-connected weights are unsupported", opi,
          on);
    if (b)
        CHECK(b->data != NULL && b->ndim == 1 && b->dims[0] == w->dims[0] &&
                  b->type == (x->type == QMCU_I8 ? QMCU_I32 : QMCU_F32),
              "op %d %s: bias must be a constant vector matching the filter", opi, on);
    if ((st = check_accumulation(im, opi, x, w, b, 0))) return st;
    return QMCU_OK;
}

static qmcu_status validate_elementwise2(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                         const qmcu_tensor *y)
{
    qmcu_status st;
    int i;
    const qmcu_tensor *x2 = T(im, op->in[1]);
    int nd = x->ndim > x2->ndim ? x->ndim : x2->ndim;
    /* int8/uint8 ADD, SUB, MUL; int32 ADD, SUB, MUL, FLOOR_DIV; float all; either input may be constant */
    if ((st = check_types(im, opi, x, y, ACT_CONST | (op->type != QMCU_OP_DIV ? ACT_INT32 : 0)))) return st;
    CHECK(x2->type == x->type && x2->from_uint8 == x->from_uint8, "op %d %s: input types differ", opi, on);
    CHECK(y->type != QMCU_I8 || (op->type != QMCU_OP_DIV && op->type != QMCU_OP_FLOOR_DIV),
          "op %d %s: 8-bit division is not supported", opi, on);
    CHECK(nd <= 4 && y->ndim == nd, "op %d %s: rank above 4 or output rank mismatch", opi, on);
    for (i = 0; i < nd; i++) { /* right-aligned broadcasting */
        int a = i - (nd - x->ndim) >= 0 ? x->dims[i - (nd - x->ndim)] : 1;
        int c = i - (nd - x2->ndim) >= 0 ? x2->dims[i - (nd - x2->ndim)] : 1;
        CHECK(a == c || a == 1 || c == 1, "op %d %s: shapes cannot broadcast", opi, on);
        CHECK(y->dims[i] == (a > c ? a : c), "op %d %s: output shape does not match the broadcast shape", opi, on);
    }
    return QMCU_OK;
}

static qmcu_status validate_pool(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                 const qmcu_tensor *y)
{
    qmcu_status st;
    int oh, ow;
    if ((st = check_act_type(im, opi, x, y))) return st;
    CHECK(x->ndim == 4 && y->ndim == 4, "op %d %s: tensors must be 4-D", opi, on);
    CHECK(op->stride_h > 0 && op->stride_w > 0 && op->filter_h > 0 && op->filter_w > 0 && op->filter_h < 4096 &&
              op->filter_w < 4096 && op->stride_h < 4096 && op->stride_w < 4096,
          "op %d %s: invalid filter or stride", opi, on);
    oh = qmcu_out_size(op->padding_same, x->dims[1], op->filter_h, op->stride_h, 1);
    ow = qmcu_out_size(op->padding_same, x->dims[2], op->filter_w, op->stride_w, 1);
    CHECK(oh > 0 && ow > 0 && y->dims[0] == x->dims[0] && y->dims[1] == oh && y->dims[2] == ow &&
              y->dims[3] == x->dims[3],
          "op %d %s: output shape does not match", opi, on);
    op->pad_top = qmcu_pad_before(op->padding_same, x->dims[1], op->filter_h, op->stride_h, 1);
    op->pad_left = qmcu_pad_before(op->padding_same, x->dims[2], op->filter_w, op->stride_w, 1);
    if ((st = check_same_quant(im, opi, on, x, y))) return st;
    return QMCU_OK;
}

static qmcu_status validate_resize(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                   const qmcu_tensor *y)
{
    qmcu_status st;
    const qmcu_tensor *sz = op->n_in > 1 && op->in[1] >= 0 ? T(im, op->in[1]) : NULL;
    if ((st = check_act_type(im, opi, x, y))) return st;
    CHECK(x->ndim == 4 && y->ndim == 4 && x->dims[0] == y->dims[0] && x->dims[3] == y->dims[3],
          "op %d %s: needs NHWC input and output with the same batch and channels", opi, on);
    CHECK(sz && sz->data && sz->type == QMCU_I32 && qmcu_tensor_elems(sz) == 2 && const_i32(sz, 0) == y->dims[1] &&
              const_i32(sz, 1) == y->dims[2],
          "op %d %s: the size must be a constant int32 pair equal to the output's height and width", opi, on);
    CHECK(!(op->align_corners && op->half_pixel_centers), "op %d %s: align_corners and half_pixel_centers together",
          opi, on);
    /* TFLite's uint8 bilinear kernel has a separate 8.8 fixed-point path for exact 8x half-pixel upsampling */
    CHECK(!(op->type == QMCU_OP_RESIZE_BILINEAR && x->from_uint8 && op->half_pixel_centers && x->dims[3] % 8 == 0 &&
            y->dims[1] >= 8 && y->dims[2] >= 8 && y->dims[1] == 8 * x->dims[1] && y->dims[2] == 8 * x->dims[2]),
          "op %d %s: uint8 8x upsampling with half-pixel centres (TFLite's 8.8 fixed-point variant) is not "
          "implemented",
          opi, on);
    return x->type == QMCU_I8 ? check_same_quant(im, opi, on, x, y) : QMCU_OK;
}

static qmcu_status validate_arg_max(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                    const qmcu_tensor *y)
{
    const qmcu_tensor *ax = op->n_in > 1 && op->in[1] >= 0 ? T(im, op->in[1]) : NULL;
    int a, i, k;
    CHECK(x->type == QMCU_I8 || x->type == QMCU_F32, "op %d %s: needs an 8-bit or float32 input", opi, on);
    CHECK(y->type == QMCU_I32 || y->type == QMCU_I64, "op %d %s: the output must be int32 or int64", opi, on);
    CHECK(ax && ax->data && (ax->type == QMCU_I32 || ax->type == QMCU_I64) && qmcu_tensor_elems(ax) == 1,
          "op %d %s: the axis must be one constant integer", opi, on);
    a = const_i32(ax, 0);
    if (a < 0) a += x->ndim;
    CHECK(a >= 0 && a < x->ndim && y->ndim == x->ndim - 1, "op %d %s: axis %d does not fit the shapes", opi, on,
          const_i32(ax, 0));
    for (i = 0, k = 0; i < x->ndim; i++)
        if (i != a) CHECK(y->dims[k++] == x->dims[i], "op %d %s: output shape does not match", opi, on);
    op->axis = a;
    return QMCU_OK;
}

static qmcu_status validate_mean(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                 const qmcu_tensor *y)
{
    qmcu_status st;
    int i;
    const qmcu_tensor *ax = T(im, op->in[1]);
    if ((st = check_act_type(im, opi, x, y))) return st;
    CHECK(ax->data != NULL && (ax->type == QMCU_I32 || ax->type == QMCU_I64),
          "op %d %s: axes must be a constant int tensor", opi, on);
    CHECK(x->ndim <= 4 && qmcu_tensor_elems(ax) >= 1 && qmcu_tensor_elems(ax) <= 4,
          "op %d %s: rank above 4 or invalid axes", opi, on);
    op->reduce_mask = 0;
    for (i = 0; i < (int)qmcu_tensor_elems(ax); i++) {
        int a = const_i32(ax, i);
        if (a < 0) a += x->ndim;
        CHECK(a >= 0 && a < x->ndim, "op %d %s: axis %d out of range", opi, on, const_i32(ax, i));
        op->reduce_mask |= 1 << (a + 4 - x->ndim); /* bit over the 4-D (right-aligned) shape */
    }
    {
        int64_t kept = 1;
        for (i = 0; i < x->ndim; i++)
            if (!(op->reduce_mask & (1 << (i + 4 - x->ndim)))) kept *= x->dims[i];
        CHECK(qmcu_tensor_elems(y) == kept, "op %d %s: output shape does not match", opi, on);
    }
    return QMCU_OK;
}

static qmcu_status validate_pad(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                const qmcu_tensor *y)
{
    qmcu_status st;
    int i;
    const qmcu_tensor *pp = T(im, op->in[1]);
    if ((st = check_act_type(im, opi, x, y))) return st;
    CHECK(pp->data != NULL && (pp->type == QMCU_I32 || pp->type == QMCU_I64) && pp->ndim == 2 &&
              pp->dims[0] == x->ndim && pp->dims[1] == 2,
          "op %d %s: paddings must be a constant [rank,2] int tensor", opi, on);
    CHECK(x->ndim <= 4 && x->ndim == y->ndim, "op %d %s: rank above 4 or rank mismatch", opi, on);
    for (i = 0; i < 4; i++) op->pads[i][0] = op->pads[i][1] = 0;
    for (i = 0; i < x->ndim; i++) {
        int d = i + 4 - x->ndim;
        int32_t b0 = const_i32(pp, 2 * i), b1 = const_i32(pp, 2 * i + 1);
        CHECK(b0 >= 0 && b1 >= 0 && b0 < (1 << 16) && b1 < (1 << 16) && y->dims[i] == x->dims[i] + b0 + b1,
              "op %d %s: paddings do not match the output shape", opi, on);
        op->pads[d][0] = b0;
        op->pads[d][1] = b1;
    }
    if ((st = check_same_quant(im, opi, on, x, y))) return st;
    return QMCU_OK;
}

static qmcu_status validate_transpose(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                      const qmcu_tensor *y)
{
    qmcu_status st;
    int i;
    const qmcu_tensor *pp = T(im, op->in[1]);
    int seen = 0;
    if ((st = check_act_type(im, opi, x, y))) return st;
    CHECK(pp->data != NULL && (pp->type == QMCU_I32 || pp->type == QMCU_I64) && qmcu_tensor_elems(pp) == x->ndim &&
              x->ndim <= 4 && y->ndim == x->ndim,
          "op %d %s: permutation must be a constant vector of the input rank (<= 4)", opi, on);
    for (i = 0; i < x->ndim; i++) {
        int p = const_i32(pp, i);
        CHECK(p >= 0 && p < x->ndim && !(seen & (1 << p)) && y->dims[i] == x->dims[p], "op %d %s: invalid permutation",
              opi, on);
        seen |= 1 << p;
        op->perm[i] = p;
    }
    return QMCU_OK;
}

static qmcu_status validate_concatenation(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                          const qmcu_tensor *y)
{
    qmcu_status st;
    int i;
    int64_t sum = 0;
    if ((st = check_types(im, opi, x, y, ACT_INT32 | ACT_CONST))) return st;
    if (op->axis < 0) op->axis += y->ndim;
    CHECK(op->axis >= 0 && op->axis < y->ndim, "op %d %s: invalid axis", opi, on);
    for (i = 0; i < op->n_in; i++) {
        const qmcu_tensor *xi = T(im, op->in[i]);
        int d;
        CHECK(xi && xi->type == y->type && xi->ndim == y->ndim && xi->from_uint8 == y->from_uint8,
              "op %d %s: input %d does not match the output", opi, on, i);
        for (d = 0; d < y->ndim; d++)
            CHECK(d == op->axis || xi->dims[d] == y->dims[d], "op %d %s: input %d shape mismatch", opi, on, i);
        sum += xi->dims[op->axis];
    }
    CHECK(sum == y->dims[op->axis], "op %d %s: sizes along the axis do not add up", opi, on);
    return QMCU_OK;
}

static int is_int_type(qmcu_dtype t) { return t == QMCU_I32 || t == QMCU_I64; }

/* CAST: values converted between int8/uint8 (raw integers), int32, int64 and float32. */
static qmcu_status validate_cast(importer *im, int opi, const char *on, const qmcu_tensor *x, const qmcu_tensor *y)
{
    CHECK(!x->data && qmcu_tensor_elems(x) == qmcu_tensor_elems(y),
          "op %d %s: needs an activation input of the output's size", opi, on);
    CHECK(x->type != QMCU_I8 || (x->scale == 1.0f && x->zero_point == (x->from_uint8 ? -128 : 0)),
          "op %d %s: input '%s' is quantized (CAST converts raw integers)", opi, on, x->name);
    CHECK(y->type == QMCU_F32 || is_int_type(y->type), "op %d %s: output type %s is not supported", opi, on,
          qmcu_dtype_name(y->type));
    return QMCU_OK;
}

/* PACK (values_count inputs of one shape) along a new axis of the output. */
static qmcu_status validate_pack(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                 const qmcu_tensor *y)
{
    qmcu_status st;
    int i, d;
    if ((st = check_types(im, opi, x, y, ACT_INT32 | ACT_CONST))) return st;
    if (op->axis < 0) op->axis += y->ndim;
    CHECK(y->ndim == x->ndim + 1 && op->axis >= 0 && op->axis < y->ndim && y->dims[op->axis] == op->n_in,
          "op %d %s: %d inputs of rank %d do not stack into the output along axis %d", opi, on, op->n_in, x->ndim,
          op->axis);
    for (d = 0; d < x->ndim; d++)
        CHECK(x->dims[d] == y->dims[d < op->axis ? d : d + 1], "op %d %s: output shape does not match", opi, on);
    for (i = 1; i < op->n_in; i++) {
        const qmcu_tensor *xi = T(im, op->in[i]);
        CHECK(xi && same_shape(xi, x) && xi->type == x->type && xi->from_uint8 == x->from_uint8,
              "op %d %s: input %d differs from input 0", opi, on, i);
    }
    return check_same_quant(im, opi, on, x, y);
}

/* GATHER_ND: index tuples (last dimension of in[1], int32/int64) into in[0]'s leading dimensions. */
static qmcu_status validate_gather_nd(importer *im, int opi, qmcu_op *op, const char *on, const qmcu_tensor *x,
                                      const qmcu_tensor *y)
{
    const qmcu_tensor *idx = T(im, op->in[1]);
    int depth, d, k = 0;
    CHECK(x->type == y->type && x->from_uint8 == y->from_uint8 && !x->data, "op %d %s: params and output types differ",
          opi, on);
    CHECK(is_int_type(idx->type) && idx->ndim >= 1, "op %d %s: indices must be int32 or int64", opi, on);
    depth = idx->dims[idx->ndim - 1];
    CHECK(depth >= 1 && depth <= x->ndim && y->ndim == idx->ndim - 1 + x->ndim - depth,
          "op %d %s: index depth %d does not fit params of rank %d", opi, on, depth, x->ndim);
    for (d = 0; d < idx->ndim - 1; d++)
        CHECK(y->dims[k++] == idx->dims[d], "op %d %s: output shape does not match", opi, on);
    for (d = depth; d < x->ndim; d++)
        CHECK(y->dims[k++] == x->dims[d], "op %d %s: output shape does not match", opi, on);
    return x->type == QMCU_I8 ? check_same_quant(im, opi, on, x, y) : QMCU_OK;
}

static qmcu_status validate_op(importer *im, int opi)
{
    qmcu_op *op = &im->g->ops[opi];
    const char *on = qmcu_op_name(op->type);
    const qmcu_tensor *x = T(im, op->in[0]), *y = T(im, op->out);
    qmcu_status st;
    int need_in = 1;
    int i;

    switch (op->type) {
    case QMCU_OP_CONV_2D:
    case QMCU_OP_DEPTHWISE_CONV_2D:
    case QMCU_OP_FULLY_CONNECTED: need_in = 2; break;
    case QMCU_OP_ADD:
    case QMCU_OP_SUB:
    case QMCU_OP_MUL:
    case QMCU_OP_DIV:
    case QMCU_OP_FLOOR_DIV:
    case QMCU_OP_GATHER_ND:
    case QMCU_OP_PAD:
    case QMCU_OP_MEAN:
    case QMCU_OP_TRANSPOSE: need_in = 2; break;
    default: break;
    }
    CHECK(op->n_in >= need_in, "op %d %s: has %d inputs, needs %d", opi, on, op->n_in, need_in);
    for (i = 0; i < need_in; i++) CHECK(op->in[i] >= 0, "op %d %s: required input %d is missing", opi, on, i);
    CHECK(y->data == NULL, "op %d %s: output '%s' is a constant", opi, on, y->name);

    switch (op->type) {
    case QMCU_OP_CONV_2D:
    case QMCU_OP_DEPTHWISE_CONV_2D: return validate_conv(im, opi, op, on, x, y);
    case QMCU_OP_FULLY_CONNECTED: return validate_fully_connected(im, opi, op, on, x, y);
    case QMCU_OP_ADD:
    case QMCU_OP_SUB:
    case QMCU_OP_MUL:
    case QMCU_OP_DIV:
    case QMCU_OP_FLOOR_DIV: return validate_elementwise2(im, opi, op, on, x, y);
    case QMCU_OP_CAST: return validate_cast(im, opi, on, x, y);
    case QMCU_OP_PACK: return validate_pack(im, opi, op, on, x, y);
    case QMCU_OP_GATHER_ND: return validate_gather_nd(im, opi, op, on, x, y);
    case QMCU_OP_SQRT:
        CHECK(x->type == QMCU_F32 && y->type == QMCU_F32 && !x->data && same_shape(x, y),
              "op %d %s: needs a float32 activation and an output of its shape", opi, on);
        break;
    case QMCU_OP_AVERAGE_POOL_2D:
    case QMCU_OP_MAX_POOL_2D: return validate_pool(im, opi, op, on, x, y);
    case QMCU_OP_MEAN: return validate_mean(im, opi, op, on, x, y);
    case QMCU_OP_PAD: return validate_pad(im, opi, op, on, x, y);
    case QMCU_OP_RESHAPE:
        if ((st = check_types(im, opi, x, y, ACT_INT32))) return st;
        CHECK(qmcu_tensor_elems(x) == qmcu_tensor_elems(y), "op %d %s: element counts differ", opi, on);
        return check_same_quant(im, opi, on, x, y);
    case QMCU_OP_TRANSPOSE: return validate_transpose(im, opi, op, on, x, y);
    case QMCU_OP_CONCATENATION: return validate_concatenation(im, opi, op, on, x, y);
    case QMCU_OP_RESIZE_BILINEAR:
    case QMCU_OP_RESIZE_NEAREST_NEIGHBOR: return validate_resize(im, opi, op, on, x, y);
    case QMCU_OP_ARG_MAX: return validate_arg_max(im, opi, op, on, x, y);
    case QMCU_OP_SLICE: /* validated by import_split, import_detection */
    case QMCU_OP_DETECTION_POSTPROCESS:
    case QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM: break;
    case QMCU_OP_SOFTMAX:
        if ((st = check_act_type(im, opi, x, y))) return st;
        CHECK(same_shape(x, y) && x->ndim >= 1, "op %d %s: input and output shapes differ", opi, on);
        break;
    case QMCU_OP_LOGISTIC:
    case QMCU_OP_HARD_SWISH:
    case QMCU_OP_RELU:
    case QMCU_OP_RELU6:
    case QMCU_OP_LEAKY_RELU:
        if ((st = check_act_type(im, opi, x, y))) return st;
        CHECK(same_shape(x, y), "op %d %s: input and output shapes differ", opi, on);
        break;
    case QMCU_OP_QUANTIZE:
        CHECK((x->type == QMCU_F32 || x->type == QMCU_I8) && y->type == QMCU_I8 && x->data == NULL,
              "op %d %s: needs a float32 or 8-bit input and an 8-bit output", opi, on);
        CHECK(qmcu_tensor_elems(x) == qmcu_tensor_elems(y), "op %d %s: element counts differ", opi, on);
        break;
    case QMCU_OP_DEQUANTIZE:
        CHECK(x->type == QMCU_I8 && y->type == QMCU_F32 && x->data == NULL,
              "op %d %s: needs an 8-bit input and a float32 output", opi, on);
        CHECK(qmcu_tensor_elems(x) == qmcu_tensor_elems(y), "op %d %s: element counts differ", opi, on);
        break;
    case QMCU_OP_COUNT: break;
    }
    return QMCU_OK;
}

/* SPLIT (axis, input), SPLIT_V (input, size_splits, axis) and UNPACK (input; axis in its options) at
 * op index opi: one SLICE op per output, written at opi, opi + 1, ...; *n_written gets their number.
 * An UNPACK output lacks the axis (each is one entry along it). */
static qmcu_status import_split(importer *im, fb_vec ins, fb_vec outs, fb_table o, int opi, int *n_written)
{
    fb_reader *r = &im->r;
    qmcu_graph *g = im->g;
    const int v = ins.n == 3, unpack = ins.n == 1; /* SPLIT_V, UNPACK */
    const char *on = unpack ? "UNPACK" : "SPLIT";
    int32_t ti[3], axis, begin = 0;
    const qmcu_tensor *x;
    uint32_t i;
    for (i = 0; i < ins.n && i < 3; i++) {
        ti[i] = fb_vec_i32(r, ins, i);
        if (ti[i] < 0 || ti[i] >= g->n_tensors)
            FAIL(QMCU_ERR_FORMAT, "op %d refers to tensor %d of %d", opi, ti[i], g->n_tensors);
    }
    if (ins.n < 1 || ins.n > 3) FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s has %u inputs", opi, on, ins.n);
    x = T(im, v || unpack ? ti[0] : ti[1]);
    if (unpack) {
        axis = fb_i32(r, o, 1, 0); /* UnpackOptions: num, axis */
    } else {
        const qmcu_tensor *ax = T(im, v ? ti[2] : ti[0]);
        CHECK(ax->data && (ax->type == QMCU_I32 || ax->type == QMCU_I64) && qmcu_tensor_elems(ax) == 1,
              "op %d %s: the axis must be one constant integer", opi, on);
        axis = const_i32(ax, 0);
    }
    CHECK(!x->data && (x->type == QMCU_I8 || x->type == QMCU_F32 || x->type == QMCU_I32),
          "op %d %s: needs an 8-bit, int32 or float32 activation", opi, on);
    if (axis < 0) axis += x->ndim;
    CHECK(axis >= 0 && axis < x->ndim, "op %d %s: axis %d out of range", opi, on, axis);
    for (i = 0; i < outs.n; i++) {
        qmcu_op *op = &g->ops[opi + (int)i];
        const int32_t out = fb_vec_i32(r, outs, i);
        const qmcu_tensor *y;
        int d;
        if (out < 0 || out >= g->n_tensors)
            FAIL(QMCU_ERR_FORMAT, "op %d writes tensor %d of %d", opi, out, g->n_tensors);
        y = T(im, out);
        CHECK(y->type == x->type && y->ndim == x->ndim - unpack, "op %d %s: output %u differs in type or rank", opi, on,
              i);
        for (d = 0; d < x->ndim; d++)
            CHECK(d == axis || y->dims[unpack && d > axis ? d - 1 : d] == x->dims[d],
                  "op %d %s: output %u does not match the input's shape", opi, on, i);
        if (x->type == QMCU_I8)
            CHECK(y->scale == x->scale && y->zero_point == x->zero_point && y->from_uint8 == x->from_uint8,
                  "op %d %s: output %u is quantized differently from the input", opi, on, i);
        op->type = QMCU_OP_SLICE;
        op->n_in = 1;
        op->in[0] = v || unpack ? ti[0] : ti[1];
        op->out = out;
        op->axis = axis;
        op->slice_begin = begin;
        op->stride_h = op->stride_w = op->dil_h = op->dil_w = 1;
        op->beta = 1.0f;
        begin += unpack ? 1 : y->dims[axis];
    }
    CHECK(begin == x->dims[axis], "op %d %s: the outputs cover %d of the %d entries along axis %d", opi, on, begin,
          x->dims[axis], axis);
    *n_written = (int)outs.n;
    return QMCU_OK;
}

/* One number of a custom op's FlexBuffers options into *v (def when absent). */
static qmcu_status custom_option(importer *im, int opi, const uint8_t *opts, uint32_t n, const char *key, double def,
                                 int required, double *v)
{
    const flex_result fr = flex_map_number(opts, n, key, v);
    if (fr == FLEX_CORRUPT)
        FAIL(QMCU_ERR_FORMAT, "op %d %s: corrupt custom options (at '%s')", opi, k_detection_custom, key);
    if (fr == FLEX_ABSENT) {
        if (required) FAIL(QMCU_ERR_FORMAT, "op %d %s: custom option '%s' is missing", opi, k_detection_custom, key);
        *v = def;
    }
    return QMCU_OK;
}

static void set_shape(qmcu_tensor *t, int ndim, const int32_t *dims)
{
    int i;
    t->ndim = ndim;
    t->type = QMCU_F32;
    for (i = 0; i < ndim; i++) t->dims[i] = dims[i];
    t->bytes = (size_t)qmcu_tensor_elems(t) * sizeof(float);
}

/* TFLite_Detection_PostProcess (box encodings, class scores, anchors) -> (boxes, classes, scores,
 * count), at op index opi: one DETECTION_POSTPROCESS op writing a packed float tensor (added after
 * the model's tensors) and four SLICE ops copying its parts to the outputs. TFLite sizes the outputs
 * itself (the model declares them without a shape); so does this import. */
static qmcu_status import_detection(importer *im, fb_table ot, fb_vec ins, fb_vec outs, int opi, int *n_written)
{
    fb_reader *r = &im->r;
    qmcu_graph *g = im->g;
    const char *on = k_detection_custom;
    const fb_vec opts = fb_vec_field(r, ot, OP_CUSTOM_OPTIONS, 1);
    const uint8_t *ob = fb_vec_bytes(r, opts);
    qmcu_detection_params *d = &g->ops[opi].detect;
    const qmcu_tensor *box, *score, *anchor;
    double v[11];
    int32_t t[7], n, k;
    uint32_t i;
    qmcu_status st;
    static const char *const keys[11] = {"max_detections",
                                         "max_classes_per_detection",
                                         "detections_per_class",
                                         "use_regular_nms",
                                         "nms_score_threshold",
                                         "nms_iou_threshold",
                                         "num_classes",
                                         "y_scale",
                                         "x_scale",
                                         "h_scale",
                                         "w_scale"};
    static const int required[11] = {1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1};
    static const double defaults[11] = {0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0};
    if (r->err) return QMCU_ERR_FORMAT;
    if (ins.n != 3 || outs.n != 4)
        FAIL(QMCU_ERR_FORMAT, "op %d %s has %u inputs and %u outputs (3 and 4 expected)", opi, on, ins.n, outs.n);
    for (i = 0; i < 7; i++) {
        t[i] = fb_vec_i32(r, i < 3 ? ins : outs, i < 3 ? i : i - 3);
        if (t[i] < 0 || t[i] >= g->n_tensors)
            FAIL(QMCU_ERR_FORMAT, "op %d refers to tensor %d of %d", opi, t[i], g->n_tensors);
    }
    if (fb_u8(r, ot, OP_CUSTOM_FORMAT, 0) != 0 || opts.n == 0)
        FAIL(QMCU_ERR_FORMAT, "op %d %s: its options are not a FlexBuffers map", opi, on);
    for (k = 0; k < 11; k++)
        if ((st = custom_option(im, opi, ob, opts.n, keys[k], defaults[k], required[k], &v[k]))) return st;
    for (k = 0; k < 11; k++) CHECK(isfinite(v[k]), "op %d %s: option '%s' is not finite", opi, on, keys[k]);
    CHECK(v[0] >= 1 && v[0] <= 10000 && v[1] >= 1 && v[1] <= 1000 && v[2] >= 1 && v[2] <= 100000 && v[6] >= 1 &&
              v[6] <= 100000 && v[0] * v[1] <= 1e6,
          "op %d %s: max_detections %g, max_classes_per_detection %g, detections_per_class %g or num_classes %g out of "
          "range",
          opi, on, v[0], v[1], v[2], v[6]);
    CHECK(v[5] > 0.0 && v[5] <= 1.0, "op %d %s: nms_iou_threshold %g is not in (0, 1]", opi, on, v[5]);
    CHECK(v[7] != 0.0 && v[8] != 0.0 && v[9] != 0.0 && v[10] != 0.0, "op %d %s: a box coder scale is 0", opi, on);
    d->max_detections = (int32_t)v[0];
    d->max_classes_per_detection = (int32_t)v[1];
    d->detections_per_class = (int32_t)v[2];
    d->use_regular_nms = v[3] != 0.0;
    d->score_threshold = (float)v[4];
    d->iou_threshold = (float)v[5];
    d->num_classes = (int32_t)v[6];
    d->y_scale = (float)v[7];
    d->x_scale = (float)v[8];
    d->h_scale = (float)v[9];
    d->w_scale = (float)v[10];

    box = T(im, t[0]);
    score = T(im, t[1]);
    anchor = T(im, t[2]);
    CHECK(box->ndim == 3 && box->dims[0] == 1 && box->dims[2] >= 4 && !box->data,
          "op %d %s: box encodings must be an activation [1, boxes, >= 4]", opi, on);
    CHECK(score->ndim == 3 && score->dims[0] == 1 && score->dims[1] == box->dims[1] && !score->data &&
              score->dims[2] >= d->num_classes && score->dims[2] - d->num_classes <= 1,
          "op %d %s: class scores must be an activation [1, %d, %d or %d] for %d classes", opi, on, box->dims[1],
          d->num_classes, d->num_classes + 1, d->num_classes);
    CHECK(anchor->ndim == 2 && anchor->dims[0] == box->dims[1] && anchor->dims[1] == 4,
          "op %d %s: anchors must be [%d, 4]", opi, on, box->dims[1]);
    CHECK((box->type == QMCU_F32 || box->type == QMCU_I8) && anchor->type == box->type &&
              (score->type == QMCU_F32 || score->type == QMCU_I8),
          "op %d %s: box encodings and anchors must both be 8-bit or both float32, scores 8-bit or float32", opi, on);
    CHECK((box->type != QMCU_I8 || (box->n_scales == 1 && anchor->n_scales == 1)) &&
              (score->type != QMCU_I8 || score->n_scales == 1),
          "op %d %s: per-channel quantized inputs", opi, on);

    n = d->max_detections * d->max_classes_per_detection;
    {
        const int32_t boxes_dims[3] = {1, n, 4}, list_dims[2] = {1, n}, one = 1, packed = 6 * n + 1;
        qmcu_tensor *p = &g->tensors[im->next_extra_tensor];
        for (k = 3; k < 7; k++) {
            qmcu_tensor *y = &g->tensors[t[k]];
            CHECK(!y->data && (y->type == QMCU_F32 || !y->quantized),
                  "op %d %s: output '%s' must be a float32 activation", opi, on, y->name);
            set_shape(y, k == 3 ? 3 : k == 6 ? 1 : 2, k == 3 ? boxes_dims : k == 6 ? &one : list_dims);
        }
        snprintf(p->name, sizeof p->name, "op %d detections (packed)", opi);
        set_shape(p, 1, &packed);
    }
    g->ops[opi].type = QMCU_OP_DETECTION_POSTPROCESS;
    g->ops[opi].n_in = 3;
    for (k = 0; k < 3; k++) g->ops[opi].in[k] = t[k];
    g->ops[opi].out = im->next_extra_tensor;
    for (k = 0; k < 4; k++) {
        qmcu_op *s = &g->ops[opi + 1 + k];
        s->type = QMCU_OP_SLICE;
        s->n_in = 1;
        s->in[0] = im->next_extra_tensor;
        s->out = t[3 + k];
        s->axis = 0;
        s->slice_begin = k == 0 ? 0 : (3 + k) * n;
    }
    for (k = 0; k < 5; k++) {
        qmcu_op *o = &g->ops[opi + k];
        o->stride_h = o->stride_w = o->dil_h = o->dil_w = 1;
        o->beta = 1.0f;
    }
    im->next_extra_tensor++;
    *n_written = 5;
    return QMCU_OK;
}

/* UNIDIRECTIONAL_SEQUENCE_LSTM (20 or 24 inputs), the fully integer kind: int8 input, hidden state
 * and weights, int16 cell state with a power-of-two scale, int32 biases, batch 1; no peephole,
 * projection, layer normalization or CIFG (each refused by name). The states become the op's own
 * (zeroed when a run starts); their quantization, and the hidden one (intermediate 4), are kept. */
static qmcu_status import_lstm(importer *im, fb_table ot, fb_vec ins, fb_vec outs, fb_table o, int opi)
{
    fb_reader *r = &im->r;
    qmcu_graph *g = im->g;
    qmcu_op *op = &g->ops[opi];
    const char *on = "UNIDIRECTIONAL_SEQUENCE_LSTM";
    const fb_vec inter = fb_vec_field(r, ot, OP_INTERMEDIATES, 4);
    int32_t t[24], y_idx, n_cell, n_input, n_output, steps, k;
    const qmcu_tensor *x, *y, *h, *c, *hid;
    if (r->err) return QMCU_ERR_FORMAT;
    if ((ins.n != 20 && ins.n != 24) || outs.n != 1)
        FAIL(QMCU_ERR_FORMAT, "op %d %s has %u inputs and %u outputs (20 or 24 and 1 expected)", opi, on, ins.n,
             outs.n);
    for (k = 0; k < 24; k++) {
        t[k] = k < (int32_t)ins.n ? fb_vec_i32(r, ins, (uint32_t)k) : -1;
        if (t[k] < -1 || t[k] >= g->n_tensors)
            FAIL(QMCU_ERR_FORMAT, "op %d refers to tensor %d of %d", opi, t[k], g->n_tensors);
    }
    y_idx = fb_vec_i32(r, outs, 0);
    if (y_idx < 0 || y_idx >= g->n_tensors)
        FAIL(QMCU_ERR_FORMAT, "op %d writes tensor %d of %d", opi, y_idx, g->n_tensors);
    if (t[9] >= 0 || t[10] >= 0 || t[11] >= 0)
        FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s: peephole connections are not supported", opi, on);
    if (t[16] >= 0 || t[17] >= 0) FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s: a projection is not supported", opi, on);
    for (k = 20; k < 24; k++)
        if (t[k] >= 0) FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s: layer normalization is not supported", opi, on);
    if (t[1] < 0 || t[5] < 0 || t[12] < 0)
        FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s: CIFG (no input gate) is not supported", opi, on);
    {
        static const int required[] = {0, 2, 3, 4, 6, 7, 8, 13, 14, 15, 18, 19};
        for (k = 0; k < (int32_t)(sizeof required / sizeof required[0]); k++)
            CHECK(t[required[k]] >= 0, "op %d %s: required input %d is missing", opi, on, required[k]);
    }
    x = T(im, t[0]);
    y = T(im, y_idx);
    h = T(im, t[18] >= 0 ? t[18] : 0);
    c = T(im, t[19] >= 0 ? t[19] : 0);
    if (x->type == QMCU_F32)
        FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s: float and dynamic-range LSTMs are not supported yet", opi, on);
    CHECK(t[18] >= 0 && t[19] >= 0 && x->type == QMCU_I8 && !x->from_uint8 && !x->data && y->type == QMCU_I8 &&
              !y->from_uint8 && h->type == QMCU_I8 && c->type == QMCU_I16 && c->quantized && !h->data && !c->data,
          "op %d %s: needs an int8 input, output and hidden state and an int16 cell state", opi, on);
    CHECK(x->ndim == 3 && y->ndim == 3, "op %d %s: input and output must be 3-D", opi, on);
    op->time_major =
        fb_u8(r, o, 3, 0) != 0; /* UnidirectionalSequenceLSTMOptions: act, cell_clip, proj_clip, time_major */
    op->lstm_cell_clip = fb_f32(r, o, 1, 0.0f);
    CHECK(x->dims[op->time_major ? 1 : 0] == 1, "op %d %s: batch %d (only batch 1 is supported)", opi, on,
          x->dims[op->time_major ? 1 : 0]);
    steps = x->dims[op->time_major ? 0 : 1];
    n_input = x->dims[2];
    n_cell = T(im, t[4])->ndim == 2 ? T(im, t[4])->dims[0] : -1;
    n_output = T(im, t[8])->ndim == 2 ? T(im, t[8])->dims[1] : -1;
    CHECK(n_cell > 0 && n_cell == n_output && qmcu_tensor_elems(h) == n_output && qmcu_tensor_elems(c) == n_cell &&
              y->dims[0] == x->dims[0] && y->dims[1] == x->dims[1] && y->dims[2] == n_output && steps > 0,
          "op %d %s: state, weight and output shapes do not match", opi, on);
    for (k = 1; k <= 8; k++) {
        const qmcu_tensor *w = T(im, t[k]);
        CHECK(w->type == QMCU_I8 && !w->from_uint8 && w->data && w->ndim == 2 && w->dims[0] == n_cell &&
                  w->dims[1] == (k <= 4 ? n_input : n_output) && w->n_scales == 1 && w->zero_point == 0,
              "op %d %s: weight '%s' must be constant int8 [%d, %d] with one scale and zero point 0", opi, on, w->name,
              n_cell, k <= 4 ? n_input : n_output);
    }
    for (k = 12; k <= 15; k++) {
        const qmcu_tensor *b = T(im, t[k]);
        CHECK(b->type == QMCU_I32 && b->data && qmcu_tensor_elems(b) == n_cell,
              "op %d %s: bias '%s' must be constant int32 [%d]", opi, on, b->name, n_cell);
    }
    CHECK(inter.n >= 5, "op %d %s: the integer LSTM needs its 5 intermediate tensors (found %u)", opi, on, inter.n);
    {
        const int32_t hi = fb_vec_i32(r, inter, 4);
        CHECK(hi >= 0 && hi < g->n_tensors, "op %d %s: intermediate tensor %d of %d", opi, on, hi, g->n_tensors);
        hid = T(im, hi);
        CHECK(hid->quantized && hid->scale > 0.0f, "op %d %s: intermediate '%s' has no quantization", opi, on,
              hid->name);
        op->lstm_hidden_scale = hid->scale;
        op->lstm_hidden_zero_point = hid->zero_point;
    }
    op->type = QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM;
    op->n_in = 13;
    op->in[0] = t[0];
    for (k = 1; k <= 8; k++) op->in[k] = t[k];
    for (k = 0; k < 4; k++) op->in[9 + k] = t[12 + k];
    op->out = y_idx;
    op->lstm_hidden_state = t[18];
    op->lstm_cell_state = t[19];
    op->stride_h = op->stride_w = op->dil_h = op->dil_w = 1;
    op->beta = 1.0f;
    return QMCU_OK;
}

static qmcu_status import_op(importer *im, fb_table ot, int opi, const qmcu_op_type *op_types, uint32_t n_codes,
                             int *n_written)
{
    fb_reader *r = &im->r;
    qmcu_op *op = &im->g->ops[opi];
    uint32_t code = fb_u32(r, ot, OP_OPCODE, 0);
    fb_vec ins = fb_vec_field(r, ot, OP_INPUTS, 4), outs = fb_vec_field(r, ot, OP_OUTPUTS, 4);
    fb_table o = fb_table_field(r, ot, OP_OPTIONS);
    uint32_t i;

    if (r->err) return QMCU_ERR_FORMAT;
    if (code >= n_codes) FAIL(QMCU_ERR_FORMAT, "op %d uses operator code %u of %u", opi, code, n_codes);
    op->type = op_types[code];
    *n_written = 1;
    if (op->type == QMCU_OP_SLICE) return import_split(im, ins, outs, o, opi, n_written);
    if (op->type == QMCU_OP_DETECTION_POSTPROCESS) return import_detection(im, ot, ins, outs, opi, n_written);
    if (op->type == QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM) return import_lstm(im, ot, ins, outs, o, opi);
    if (ins.n > QMCU_MAX_OP_INPUTS || ins.n == 0 || outs.n != 1)
        FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s has %u inputs and %u outputs", opi, qmcu_op_name(op->type), ins.n, outs.n);
    op->n_in = (int)ins.n;
    for (i = 0; i < ins.n; i++) {
        int32_t ti = fb_vec_i32(r, ins, i);
        if (ti < -1 || ti >= im->g->n_tensors)
            FAIL(QMCU_ERR_FORMAT, "op %d refers to tensor %d of %d", opi, ti, im->g->n_tensors);
        op->in[i] = ti;
    }
    op->out = fb_vec_i32(r, outs, 0);
    if (op->out < 0 || op->out >= im->g->n_tensors)
        FAIL(QMCU_ERR_FORMAT, "op %d writes tensor %d of %d", opi, op->out, im->g->n_tensors);

    op->stride_h = op->stride_w = op->dil_h = op->dil_w = 1;
    op->beta = 1.0f;
    switch (op->type) {
    case QMCU_OP_CONV_2D:
        op->padding_same = fb_i8(r, o, 0, 0) == 0;
        op->stride_w = fb_i32(r, o, 1, 0);
        op->stride_h = fb_i32(r, o, 2, 0);
        op->act = (qmcu_activation)fb_i8(r, o, 3, 0);
        op->dil_w = fb_i32(r, o, 4, 1);
        op->dil_h = fb_i32(r, o, 5, 1);
        break;
    case QMCU_OP_DEPTHWISE_CONV_2D:
        op->padding_same = fb_i8(r, o, 0, 0) == 0;
        op->stride_w = fb_i32(r, o, 1, 0);
        op->stride_h = fb_i32(r, o, 2, 0);
        op->act = (qmcu_activation)fb_i8(r, o, 4, 0);
        op->dil_w = fb_i32(r, o, 5, 1);
        op->dil_h = fb_i32(r, o, 6, 1);
        break;
    case QMCU_OP_AVERAGE_POOL_2D:
    case QMCU_OP_MAX_POOL_2D:
        op->padding_same = fb_i8(r, o, 0, 0) == 0;
        op->stride_w = fb_i32(r, o, 1, 0);
        op->stride_h = fb_i32(r, o, 2, 0);
        op->filter_w = fb_i32(r, o, 3, 0);
        op->filter_h = fb_i32(r, o, 4, 0);
        op->act = (qmcu_activation)fb_i8(r, o, 5, 0);
        break;
    case QMCU_OP_FULLY_CONNECTED:
        op->act = (qmcu_activation)fb_i8(r, o, 0, 0);
        if (fb_i8(r, o, 1, 0) != 0) FAIL(QMCU_ERR_UNSUPPORTED, "op %d FULLY_CONNECTED uses shuffled weights", opi);
        if (fb_u8(r, o, 3, 0) != 0 && op->n_in > 1 && op->in[0] >= 0 && op->in[1] >= 0 &&
            T(im, op->in[0])->type == QMCU_F32 && T(im, op->in[1])->type == QMCU_I8)
            FAIL(QMCU_ERR_UNSUPPORTED, "op %d FULLY_CONNECTED: asymmetric_quantize_inputs is not supported", opi);
        break;
    case QMCU_OP_ADD:
    case QMCU_OP_SUB:
    case QMCU_OP_MUL:
    case QMCU_OP_DIV: op->act = (qmcu_activation)fb_i8(r, o, 0, 0); break;
    case QMCU_OP_PACK: op->axis = fb_i32(r, o, 1, 0); break; /* PackOptions: values_count, axis */
    case QMCU_OP_CONCATENATION:
        op->axis = fb_i32(r, o, 0, 0);
        op->act = (qmcu_activation)fb_i8(r, o, 1, 0);
        break;
    case QMCU_OP_SOFTMAX: op->beta = fb_f32(r, o, 0, 1.0f); break;
    case QMCU_OP_LEAKY_RELU: op->alpha = fb_f32(r, o, 0, 0.0f); break; /* LeakyReluOptions: alpha */
    case QMCU_OP_MEAN: op->keep_dims = fb_u8(r, o, 0, 0) != 0; break;
    case QMCU_OP_RESIZE_BILINEAR: /* ResizeBilinearOptions: new_height, new_width (unused), align_corners, half_pixel */
        op->align_corners = fb_u8(r, o, 2, 0) != 0;
        op->half_pixel_centers = fb_u8(r, o, 3, 0) != 0;
        break;
    case QMCU_OP_RESIZE_NEAREST_NEIGHBOR: /* ResizeNearestNeighborOptions: align_corners, half_pixel_centers */
        op->align_corners = fb_u8(r, o, 0, 0) != 0;
        op->half_pixel_centers = fb_u8(r, o, 1, 0) != 0;
        break;
    default: break;
    }
    if (r->err) return QMCU_ERR_FORMAT;
    if ((int)op->act < 0 || op->act > QMCU_ACT_RELU6)
        FAIL(QMCU_ERR_UNSUPPORTED, "op %d %s has unsupported fused activation %d", opi, qmcu_op_name(op->type),
             (int)op->act);
    if (op->type == QMCU_OP_SOFTMAX && !(op->beta > 0.0f && isfinite(op->beta)))
        FAIL(QMCU_ERR_FORMAT, "op %d SOFTMAX has invalid beta", opi);
    if (op->type == QMCU_OP_LEAKY_RELU && !(op->alpha >= 0.0f && isfinite(op->alpha)))
        FAIL(QMCU_ERR_UNSUPPORTED, "op %d LEAKY_RELU with alpha %g (0 or more supported)", opi, (double)op->alpha);
    return validate_op(im, opi);
}

/* The input's normalization from the model's TFLITE_METADATA (NormalizationOptions of input 0).
 * Metadata is advisory (TFLite ignores it when running): when it is unusable the model still
 * loads, with the reason kept for `info`. */
static void import_input_norm(importer *im, fb_table model)
{
    qmcu_input_norm *n = &im->g->input_norm;
    fb_reader *r = &im->r, mr;
    fb_vec md = fb_vec_field(r, model, MODEL_METADATA, 4), data, sgs, ins, units, mean, std;
    fb_table root, unit;
    uint32_t i, k, buf = 0;
    int found = 0;
    char name[32];
#define META_FAIL(...)                                                                                                 \
    do {                                                                                                               \
        snprintf(n->metadata_error, sizeof n->metadata_error, __VA_ARGS__);                                            \
        n->present = 0;                                                                                                \
        r->err = NULL;                                                                                                 \
        return;                                                                                                        \
    } while (0)
    for (i = 0; i < md.n && !r->err; i++) {
        const fb_table t = fb_vec_table(r, md, i);
        fb_string_field(r, t, METADATA_NAME, name, sizeof name);
        if (!strcmp(name, "TFLITE_METADATA")) {
            buf = fb_u32(r, t, METADATA_BUFFER, 0);
            found = 1;
            break;
        }
    }
    if (r->err) META_FAIL("the model's metadata list is corrupt (%s)", r->err);
    if (!found) return;
    if (buf >= im->buffers.n) META_FAIL("TFLITE_METADATA names buffer %u of %u", buf, im->buffers.n);
    data = fb_vec_field(r, fb_vec_table(r, im->buffers, buf), BUF_DATA, 1);
    if (r->err || data.n < 8) META_FAIL("TFLITE_METADATA buffer is %s", r->err ? "out of bounds" : "empty");
    fb_init(&mr, fb_vec_bytes(r, data), data.n);
    if (memcmp(mr.buf + 4, "M001", 4) != 0) META_FAIL("TFLITE_METADATA is not a metadata flatbuffer (no M001)");
    root = fb_root(&mr);
    sgs = fb_vec_field(&mr, root, MM_SUBGRAPHS, 4);
    ins = fb_vec_field(&mr, fb_vec_table(&mr, sgs, 0), SGM_INPUTS, 4);
    units = fb_vec_field(&mr, fb_vec_table(&mr, ins, 0), TM_PROCESS_UNITS, 4);
    for (i = 0; i < units.n && !mr.err; i++) {
        unit = fb_vec_table(&mr, units, i);
        if (fb_u8(&mr, unit, PU_OPTIONS_TYPE, 0) != PU_NORMALIZATION) continue;
        mean = fb_vec_field(&mr, fb_table_field(&mr, unit, PU_OPTIONS), NORM_MEAN, 4);
        std = fb_vec_field(&mr, fb_table_field(&mr, unit, PU_OPTIONS), NORM_STD, 4);
        if (mr.err) break;
        if ((mean.n != 1 && mean.n != 3) || (std.n != 1 && std.n != 3))
            META_FAIL("input normalization has %u means and %u stds (1 or 3 expected)", mean.n, std.n);
        for (k = 0; k < 3; k++) {
            n->mean[k] = fb_vec_f32(&mr, mean, mean.n == 3 ? k : 0);
            n->std[k] = fb_vec_f32(&mr, std, std.n == 3 ? k : 0);
            if (!isfinite(n->mean[k]) || !isfinite(n->std[k]) || n->std[k] == 0.0f)
                META_FAIL("input normalization mean %g std %g is unusable", (double)n->mean[k], (double)n->std[k]);
        }
        n->present = 1;
        return;
    }
    if (mr.err) META_FAIL("TFLITE_METADATA is corrupt (%s)", mr.err);
#undef META_FAIL
}

/* The op type of every operator code (builtin, or the custom detection post-processing); an
 * unsupported operator is named. op_types: codes.n entries, allocated here. */
static qmcu_status read_opcodes(importer *im, fb_vec codes, qmcu_op_type **out)
{
    fb_reader *r = &im->r;
    qmcu_op_type *op_types = (qmcu_op_type *)calloc(codes.n ? codes.n : 1, sizeof *op_types);
    uint32_t i;
    *out = NULL;
    if (!op_types) FAIL(QMCU_ERR_NOMEM, "out of memory");
    for (i = 0; i < codes.n; i++) {
        fb_table ct = fb_vec_table(r, codes, i);
        int32_t code = fb_i8(r, ct, OPCODE_DEPRECATED, 0), code2 = fb_i32(r, ct, OPCODE_BUILTIN, 0);
        size_t j;
        int found = 0;
        if (code2 > code) code = code2; /* TFLite: effective code is the larger of the two */
        if (r->err) break;
        for (j = 0; j < sizeof k_builtin / sizeof k_builtin[0]; j++)
            if (k_builtin[j].code == code) {
                op_types[i] = k_builtin[j].type;
                found = 1;
            }
        if (!found && code == 32) {
            char custom[64];
            fb_string_field(r, ct, OPCODE_CUSTOM, custom, sizeof custom);
            if (!strcmp(custom, k_detection_custom)) {
                op_types[i] = QMCU_OP_DETECTION_POSTPROCESS;
                found = 1;
            }
        }
        if (!found) {
            const char *nm = builtin_name(code);
            char custom[64];
            fb_string_field(r, ct, OPCODE_CUSTOM, custom, sizeof custom);
            free(op_types);
            if (code == 32) FAIL(QMCU_ERR_UNSUPPORTED, "unsupported operator CUSTOM '%s'", custom);
            if (nm) FAIL(QMCU_ERR_UNSUPPORTED, "unsupported operator %s (builtin code %d)", nm, code);
            FAIL(QMCU_ERR_UNSUPPORTED, "unsupported operator with builtin code %d", code);
        }
    }
    *out = op_types;
    return QMCU_OK;
}

/* Graph ops and tensors to allocate: a SPLIT becomes one op per output, a detection
 * post-processing five ops and a tensor. */
static qmcu_status count_graph(importer *im, fb_vec ops, const qmcu_op_type *op_types, uint32_t n_codes,
                               uint32_t *extra_ops, uint32_t *extra_tensors)
{
    fb_reader *r = &im->r;
    uint32_t i;
    *extra_ops = *extra_tensors = 0;
    for (i = 0; i < ops.n && !r->err; i++) {
        const fb_table ot = fb_vec_table(r, ops, i);
        const uint32_t c = fb_u32(r, ot, OP_OPCODE, 0), n_out = fb_vec_field(r, ot, OP_OUTPUTS, 4).n;
        if (c < n_codes && op_types[c] == QMCU_OP_SLICE) {
            if (n_out < 1 || n_out > 256)
                FAIL(QMCU_ERR_UNSUPPORTED, "op %u SPLIT/UNPACK has %u outputs (1..256 supported)", i, n_out);
            *extra_ops += n_out - 1;
        }
        if (c < n_codes && op_types[c] == QMCU_OP_DETECTION_POSTPROCESS) {
            *extra_ops += 4;
            (*extra_tensors)++;
        }
    }
    if (r->err) FAIL(QMCU_ERR_FORMAT, "corrupt operator list (%s)", r->err);
    return QMCU_OK;
}

/* Ops must be in execution order: every activation input produced earlier or a model input; no
 * empty tensor where an op or the model's I/O uses it. */
static qmcu_status check_execution_order(importer *im, unsigned char *ready)
{
    const qmcu_graph *g = im->g;
    int k, oi, j;
    for (k = 0; k < g->n_inputs; k++) ready[g->inputs[k]] = 1;
    for (k = 0; k < g->n_tensors; k++)
        if (g->tensors[k].data) ready[k] = 1;
    for (k = 0; k < g->n_inputs + g->n_outputs; k++)
        if (qmcu_tensor_elems(&g->tensors[k < g->n_inputs ? g->inputs[k] : g->outputs[k - g->n_inputs]]) == 0)
            FAIL(QMCU_ERR_FORMAT, "a model input or output is an empty tensor");
    for (oi = 0; oi < g->n_ops; oi++) {
        const qmcu_op *op = &g->ops[oi];
        for (j = 0; j < op->n_in; j++)
            if ((op->in[j] >= 0 && qmcu_tensor_elems(&g->tensors[op->in[j]]) == 0) ||
                qmcu_tensor_elems(&g->tensors[op->out]) == 0)
                FAIL(QMCU_ERR_FORMAT, "op %d %s uses an empty tensor", oi, qmcu_op_name(op->type));
        for (j = 0; j < op->n_in; j++)
            if (op->in[j] >= 0 && !ready[op->in[j]])
                FAIL(QMCU_ERR_FORMAT, "op %d %s reads tensor '%s' before it is computed", oi, qmcu_op_name(op->type),
                     g->tensors[op->in[j]].name);
        if (ready[op->out])
            FAIL(QMCU_ERR_FORMAT, "op %d %s overwrites tensor '%s'", oi, qmcu_op_name(op->type),
                 g->tensors[op->out].name);
        ready[op->out] = 1;
    }
    for (k = 0; k < g->n_outputs; k++)
        if (!ready[g->outputs[k]])
            FAIL(QMCU_ERR_FORMAT, "model output '%s' is never computed", g->tensors[g->outputs[k]].name);
    return QMCU_OK;
}

static qmcu_status import_model(importer *im)
{
    fb_reader *r = &im->r;
    fb_table model = fb_root(r), sg;
    fb_vec codes, sgs, tensors, ops, gin, gout;
    qmcu_op_type *op_types = NULL;
    qmcu_graph *g = im->g;
    qmcu_status st = QMCU_OK;
    uint32_t i, extra_ops, extra_tensors;
    unsigned char *ready;
    int k;

    if (!model.pos) FAIL(QMCU_ERR_FORMAT, "not a TFLite flatbuffer (%s)", r->err ? r->err : "no root table");
    if (im->r.len >= 8 && memcmp(im->r.buf + 4, "TFL3", 4) != 0)
        FAIL(QMCU_ERR_FORMAT, "not a TFLite model (file identifier is not TFL3)");
    codes = fb_vec_field(r, model, MODEL_OPCODES, 4);
    sgs = fb_vec_field(r, model, MODEL_SUBGRAPHS, 4);
    im->buffers = fb_vec_field(r, model, MODEL_BUFFERS, 4);
    if (r->err) FAIL(QMCU_ERR_FORMAT, "corrupt model header (%s)", r->err);
    import_input_norm(im, model);
    if (sgs.n != 1) FAIL(QMCU_ERR_UNSUPPORTED, "model has %u subgraphs (exactly 1 supported)", sgs.n);
    if ((st = read_opcodes(im, codes, &op_types)) != QMCU_OK) return st;
    sg = fb_vec_table(r, sgs, 0);
    tensors = fb_vec_field(r, sg, SG_TENSORS, 4);
    ops = fb_vec_field(r, sg, SG_OPERATORS, 4);
    gin = fb_vec_field(r, sg, SG_INPUTS, 4);
    gout = fb_vec_field(r, sg, SG_OUTPUTS, 4);
    if (r->err) {
        free(op_types);
        FAIL(QMCU_ERR_FORMAT, "corrupt subgraph (%s)", r->err);
    }
    if (tensors.n == 0 || ops.n == 0 || tensors.n > 100000 || ops.n > 100000) {
        free(op_types);
        FAIL(QMCU_ERR_FORMAT, "subgraph has %u tensors and %u operators", tensors.n, ops.n);
    }
    if (gin.n < 1 || gin.n > QMCU_MAX_IO || gout.n < 1 || gout.n > QMCU_MAX_IO) {
        free(op_types);
        FAIL(QMCU_ERR_UNSUPPORTED, "model has %u inputs and %u outputs (1..16 supported)", gin.n, gout.n);
    }
    g->n_tensors = (int)tensors.n;
    if ((st = count_graph(im, ops, op_types, codes.n, &extra_ops, &extra_tensors)) != QMCU_OK) {
        free(op_types);
        return st;
    }
    g->n_ops = (int)(ops.n + extra_ops);
    g->tensors = (qmcu_tensor *)calloc(tensors.n + extra_tensors, sizeof *g->tensors);
    im->next_extra_tensor = (int)tensors.n;
    g->ops = (qmcu_op *)calloc((size_t)g->n_ops, sizeof *g->ops);
    if (!g->tensors || !g->ops) st = QMCU_ERR_NOMEM;
    for (i = 0; st == QMCU_OK && i < tensors.n; i++) {
        st = import_tensor(im, fb_vec_table(r, tensors, i), (int)i);
        if (st == QMCU_OK && r->err) st = QMCU_ERR_FORMAT;
    }
    {
        int at = 0, written = 0;
        for (i = 0; st == QMCU_OK && i < ops.n; i++, at += written) {
            st = import_op(im, fb_vec_table(r, ops, i), at, op_types, codes.n, &written);
            if (st == QMCU_OK && r->err) st = QMCU_ERR_FORMAT;
        }
    }
    free(op_types);
    if (st != QMCU_OK) {
        if (r->err) FAIL(st, "corrupt model (%s)", r->err);
        return st;
    }
    g->n_tensors = im->next_extra_tensor; /* the model's tensors, then the ones the import added */
    g->n_inputs = (int)gin.n;
    g->n_outputs = (int)gout.n;
    for (k = 0; k < g->n_inputs; k++) g->inputs[k] = fb_vec_i32(r, gin, (uint32_t)k);
    for (k = 0; k < g->n_outputs; k++) g->outputs[k] = fb_vec_i32(r, gout, (uint32_t)k);
    for (k = 0; k < g->n_inputs + g->n_outputs; k++) {
        int ti = k < g->n_inputs ? g->inputs[k] : g->outputs[k - g->n_inputs];
        if (ti < 0 || ti >= g->n_tensors)
            FAIL(QMCU_ERR_FORMAT, "model input/output refers to tensor %d of %d", ti, g->n_tensors);
    }
    if (!(ready = (unsigned char *)calloc((size_t)g->n_tensors, 1))) FAIL(QMCU_ERR_NOMEM, "out of memory");
    st = check_execution_order(im, ready);
    free(ready);
    return st;
}

qmcu_graph *qmcu_graph_parse(const void *data, size_t len, const char *name, qmcu_error *err)
{
    importer im;
    qmcu_graph *g = (qmcu_graph *)calloc(1, sizeof *g);
    if (!g) {
        qmcu_error_set(err, "%s: out of memory", name);
        return NULL;
    }
    snprintf(g->path, sizeof g->path, "%s", name);
    { /* FNV-1a 64 of the file: plans name the model they were made for */
        const uint8_t *b = (const uint8_t *)data;
        size_t i;
        g->fingerprint = 0xcbf29ce484222325ull;
        for (i = 0; i < len; i++) g->fingerprint = (g->fingerprint ^ b[i]) * 0x100000001b3ull;
    }
    im.g = g;
    im.err = err;
    im.name = name;
    fb_init(&im.r, data, len);
    if (import_model(&im) != QMCU_OK) {
        qmcu_graph_free(g);
        return NULL;
    }
    return g;
}

qmcu_graph *qmcu_graph_load(const char *path, qmcu_error *err)
{
    uint8_t *buf;
    size_t len;
    qmcu_graph *g;
    if (qmcu_read_file(path, "model", QMCU_MAX_MODEL_FILE_BYTES, &buf, &len, err) != QMCU_OK) return NULL;
    if (len == 0) {
        free(buf);
        qmcu_error_set(err, "%s: model file is empty", path);
        return NULL;
    }
    g = qmcu_graph_parse(buf, len, path, err);
    free(buf);
    return g;
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
