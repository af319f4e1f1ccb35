/* Element-wise ops of one input: QUANTIZE, DEQUANTIZE, CAST, LOGISTIC, HARD_SWISH, RELU, RELU6,
 * LEAKY_RELU (whole tensors, or row segments of a patch tile) and SQRT (layer stage). */
#include <math.h>

#include "../exec_internal.h"

static qmcu_status quantize_elements(const qmcu_model *m, int i, const void *in0, const void *in1, void *out,
                                     int64_t n)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]), *y = QMCU_TENSOR(m, op->out);
    (void)in1;
    if (x->type == QMCU_I8) {
        qmcu_requantize_s8(&m->ops[i].u.requant, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
    } else { /* float -> 8 bit: round(x / scale) + zero point, in double as TFLite's optimized path */
        const float *src = (const float *)in0;
        int8_t *dst = (int8_t *)out;
        int64_t j;
        for (j = 0; j < n; j++) {
            const double v = round((double)src[j] / (double)y->scale) + y->zero_point;
            dst[j] = (int8_t)(v > -128.0 ? (v < 127.0 ? (int32_t)v : 127) : -128); /* NaN -> -128 */
        }
    }
    return QMCU_OK;
}

static qmcu_status dequantize_elements(const qmcu_model *m, int i, const void *in0, const void *in1, void *out,
                                       int64_t n)
{
    const qmcu_tensor *x = QMCU_TENSOR(m, m->g->ops[i].in[0]);
    const int8_t *src = (const int8_t *)in0;
    float *dst = (float *)out;
    int64_t j;
    (void)in1;
    for (j = 0; j < n; j++) dst[j] = x->scale * (float)(src[j] - x->zero_point);
    return QMCU_OK;
}

/* CAST: n values converted (static_cast): 8-bit tensors hold raw integers (uint8: stored + 128). */
static qmcu_status cast_elements(const qmcu_model *m, int i, const void *in, const void *in1, void *out, int64_t n)
{
    const qmcu_tensor *x = QMCU_TENSOR(m, m->g->ops[i].in[0]), *y = QMCU_TENSOR(m, m->g->ops[i].out);
    int64_t j;
    (void)in1;
    for (j = 0; j < n; j++) {
        int64_t iv = 0;
        float fv = 0.0f;
        int is_f = 0;
        switch (x->type) {
        case QMCU_F32:
            fv = ((const float *)in)[j];
            is_f = 1;
            break;
        case QMCU_I8: iv = ((const int8_t *)in)[j] + (x->from_uint8 ? 128 : 0); break;
        case QMCU_I32: iv = ((const int32_t *)in)[j]; break;
        case QMCU_I64: iv = ((const int64_t *)in)[j]; break;
        case QMCU_I16: iv = ((const int16_t *)in)[j]; break;
        }
        switch (y->type) {
        case QMCU_F32: ((float *)out)[j] = is_f ? fv : (x->type == QMCU_I64 ? (float)iv : (float)(int32_t)iv); break;
        case QMCU_I32: /* float -> int truncates; out-of-range values saturate (undefined in C++) */
            ((int32_t *)out)[j] =
                is_f ? (fv >= 2147483647.0f ? INT32_MAX : (fv > -2147483648.0f ? (int32_t)fv : INT32_MIN))
                     : (int32_t)iv;
            break;
        case QMCU_I64:
            ((int64_t *)out)[j] =
                is_f ? (fv >= 9.2233720e18f ? INT64_MAX : (fv > -9.2233720e18f ? (int64_t)fv : INT64_MIN)) : iv;
            break;
        default: break; /* 8-bit outputs are not CAST targets (import) */
        }
    }
    return QMCU_OK;
}

/* LOGISTIC and HARD_SWISH: int8 through the prepared 256-entry table; float directly. */
static qmcu_status lut_elements(const qmcu_model *m, int i, const void *in0, const void *in1, void *out, int64_t n)
{
    const qmcu_op *op = &m->g->ops[i];
    const float *fin = (const float *)in0;
    float *fout = (float *)out;
    int64_t j;
    (void)in1;
    if (QMCU_TENSOR(m, op->out)->type == QMCU_I8) {
        qmcu_lut_s8(m->ops[i].u.lut, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
        return QMCU_OK;
    }
    for (j = 0; j < n; j++) {
        const float v = fin[j];
        float r6 = v + 3.0f;
        r6 = r6 < 0.0f ? 0.0f : (r6 > 6.0f ? 6.0f : r6);
        /* exp in double, rounded once: the same bytes with every C library (host, newlib) */
        fout[j] = op->type == QMCU_OP_LOGISTIC ? (float)(1.0 / (1.0 + exp(-(double)v))) : v * r6 / 6.0f;
    }
    return QMCU_OK;
}

/* RELU and RELU6: int8 as a requantization with the activation's clamp; float clamps. */
static qmcu_status relu_elements(const qmcu_model *m, int i, const void *in0, const void *in1, void *out, int64_t n)
{
    const qmcu_prepared_op *po = &m->ops[i];
    const float *fin = (const float *)in0;
    float *fout = (float *)out;
    int64_t j;
    (void)in1;
    if (QMCU_TENSOR(m, m->g->ops[i].out)->type == QMCU_I8) {
        qmcu_requantize_s8(&po->u.requant, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
        return QMCU_OK;
    }
    for (j = 0; j < n; j++)
        fout[j] = fin[j] < po->act_min_f ? po->act_min_f : (fin[j] > po->act_max_f ? po->act_max_f : fin[j]);
    return QMCU_OK;
}

/* LEAKY_RELU: int8 with TFLite's two multipliers; float directly. */
static qmcu_status leaky_relu_elements(const qmcu_model *m, int i, const void *in0, const void *in1, void *out,
                                       int64_t n)
{
    const qmcu_leaky_relu_params *p = &m->ops[i].u.leaky;
    (void)in1;
    if (QMCU_TENSOR(m, m->g->ops[i].out)->type == QMCU_I8)
        qmcu_leaky_relu_s8(p, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
    else
        qmcu_leaky_relu_f32(p->alpha, (int32_t)n, (const float *)in0, (float *)out);
    return QMCU_OK;
}

/* A unary op on the whole tensor (layer stage) or row segments of a tile's window. */
static qmcu_status run_unary(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                             qmcu_window r, qmcu_elementwise_fn fn)
{
    const qmcu_op *op = &m->g->ops[i];
    if (tile >= 0) return qmcu_exec_elementwise_rows(m, p, mem, tile, i, r, fn);
    return fn(m, i, qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr, NULL, qmcu_view_of(m, p, mem, -1, i, op->out).ptr,
              qmcu_tensor_elems(QMCU_TENSOR(m, op->out)));
}

#define QMCU_UNARY_KERNEL(name, fn)                                                                                    \
    static qmcu_status run_##name(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,        \
                                  qmcu_window r)                                                                       \
    {                                                                                                                  \
        return run_unary(m, p, mem, tile, i, r, fn);                                                                   \
    }                                                                                                                  \
    const qmcu_op_kernel qmcu_kernel_##name = {run_##name};
QMCU_UNARY_KERNEL(quantize, quantize_elements)
QMCU_UNARY_KERNEL(dequantize, dequantize_elements)
QMCU_UNARY_KERNEL(cast, cast_elements)
QMCU_UNARY_KERNEL(logistic, lut_elements)
QMCU_UNARY_KERNEL(hard_swish, lut_elements)
QMCU_UNARY_KERNEL(relu, relu_elements)
QMCU_UNARY_KERNEL(relu6, relu_elements)
QMCU_UNARY_KERNEL(leaky_relu, leaky_relu_elements)

static qmcu_status run_sqrt(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i, qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const float *in = (const float *)qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr;
    float *out = (float *)qmcu_view_of(m, p, mem, -1, i, op->out).ptr;
    const int64_t n = qmcu_tensor_elems(QMCU_TENSOR(m, op->out));
    int64_t j;
    (void)r;
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED; /* layer stage only */
    for (j = 0; j < n; j++) out[j] = sqrtf(in[j]);
    return QMCU_OK;
}
const qmcu_op_kernel qmcu_kernel_sqrt = {run_sqrt};
