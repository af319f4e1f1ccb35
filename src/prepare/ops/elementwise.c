/* Element-wise families on the host: ADD, SUB, MUL (TFLite's fixed-point rescaling), QUANTIZE,
 * RELU, RELU6 (a requantization with the activation's clamp), LOGISTIC and HARD_SWISH (a 256-entry
 * table, owned), LEAKY_RELU (two multipliers) and CONCATENATION (checks only: TFLite's int8 rule). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/qmcu_fixedpoint.h"
#include "../emit.h"
#include "../op_host.h"
#include "../prepare.h"

qmcu_status qmcu_eltwise_prepare(const qmcu_graph *g, int opi, float s1, int32_t zp1, float s2, int32_t zp2, float sy,
                                 int32_t zpy, qmcu_eltwise_params *e, qmcu_error *err)
{
    const qmcu_op *op = &g->ops[opi];
    double rescale;
    e->is_mul = op->type == QMCU_OP_MUL;
    e->input1_offset = -zp1;
    e->input2_offset = -zp2;
    e->output_offset = zpy;
    qmcu_activation_range(op->act, sy, zpy, &e->act_min, &e->act_max);
    if (e->is_mul) {
        const float real = s1 * s2 / sy; /* TFLite computes this product in float before widening */
        rescale = (double)real;
        /* Any finite factor: a shift above 31 is taken mod 32, as TFLite 2.9 computes x * (1 << shift) on x86
         * (measured bit-exact on the coral traffic model, whose LSTM state MUL has a factor of 3e30) */
        if (rescale >= 0.0 && isfinite(rescale)) {
            qmcu_quantize_multiplier((double)real, &e->output_multiplier, &e->output_shift);
            return QMCU_OK;
        }
    } else {
        const double twice_max = 2.0 * (double)(s1 > s2 ? s1 : s2);
        e->left_shift = 20;
        rescale = twice_max / ((double)(1 << 20) * (double)sy);
        if (rescale >= 0.0 && rescale < 65536.0) {
            qmcu_quantize_multiplier((double)s1 / twice_max, &e->input1_multiplier, &e->input1_shift);
            qmcu_quantize_multiplier((double)s2 / twice_max, &e->input2_multiplier, &e->input2_shift);
            qmcu_quantize_multiplier(rescale, &e->output_multiplier, &e->output_shift);
        }
        /* SUB is ADD with the second input's multiplier negated: both roundings are symmetric, so this
         * equals TFLite's scaled difference */
        if (op->type == QMCU_OP_SUB) e->input2_multiplier = -e->input2_multiplier;
    }
    if (!(rescale >= 0.0 && rescale < 65536.0)) {
        qmcu_error_set(err, "%s: op %d %s: quantization scales give a rescale factor of %g (outside [0, 65536))",
                       g->path, opi, qmcu_op_name(op->type), rescale);
        return QMCU_ERR_FORMAT;
    }
    return QMCU_OK;
}

static qmcu_status prepare_eltwise(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR_OF(m, op->in[0]), *x2 = QMCU_TENSOR_OF(m, op->in[1]),
                      *y = QMCU_TENSOR_OF(m, op->out);
    if (y->type != QMCU_I8) return QMCU_OK;
    return qmcu_eltwise_prepare(m->g, i, x->scale, x->zero_point, x2->scale, x2->zero_point, y->scale, y->zero_point,
                                &po->u.elt, err);
}

static void emit_eltwise_member(FILE *f, const qmcu_model *m, int i)
{
    fputs(",\n        .u.elt = ", f);
    qmcu_emit_elt(f, &m->ops[i].u.elt);
}

const qmcu_op_host qmcu_host_eltwise = {prepare_eltwise, NULL, NULL, emit_eltwise_member};

static qmcu_status prepare_requantize(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR_OF(m, op->in[0]), *y = QMCU_TENSOR_OF(m, op->out);
    int sh;
    if (op->type == QMCU_OP_QUANTIZE) {
        if (x->type != QMCU_I8) return QMCU_OK; /* float -> 8 bit: no parameters */
        if (qmcu_check_rescale(m, i, (double)x->scale / (double)y->scale, err) != QMCU_OK) return QMCU_ERR_FORMAT;
        qmcu_quantize_multiplier((double)x->scale / (double)y->scale, &po->u.requant.multiplier, &sh);
        po->u.requant.shift = sh;
        po->u.requant.input_offset = -x->zero_point;
        po->u.requant.output_offset = y->zero_point;
        po->u.requant.act_min = -128;
        po->u.requant.act_max = 127;
        return QMCU_OK;
    }
    if (y->type == QMCU_I8) { /* RELU, RELU6 */
        const float real = x->scale / y->scale; /* float division, as TFLite */
        if (qmcu_check_rescale(m, i, (double)real, err) != QMCU_OK) return QMCU_ERR_FORMAT;
        qmcu_quantize_multiplier((double)real, &po->u.requant.multiplier, &sh);
        po->u.requant.shift = sh;
        po->u.requant.input_offset = -x->zero_point;
        po->u.requant.output_offset = y->zero_point;
        qmcu_act_range_q(op->type == QMCU_OP_RELU ? QMCU_ACT_RELU : QMCU_ACT_RELU6, y, &po->u.requant.act_min,
                         &po->u.requant.act_max);
    } else {
        po->act_min_f = 0.0f;
        po->act_max_f = op->type == QMCU_OP_RELU ? INFINITY : 6.0f;
    }
    return QMCU_OK;
}

static void emit_requantize_member(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_requantize_params *r = &m->ops[i].u.requant;
    fprintf(f,
            ",\n        .u.requant = {.input_offset = %d, .output_offset = %d, .multiplier = %d, .shift = %d, "
            ".act_min = %d, .act_max = %d}",
            r->input_offset, r->output_offset, r->multiplier, r->shift, r->act_min, r->act_max);
}

const qmcu_op_host qmcu_host_requantize = {prepare_requantize, NULL, NULL, emit_requantize_member};

/* TFLite PopulateLookupTable: out = quantize(f(dequantize(in))) for every input byte. */
static void prepare_lut(const qmcu_op *op, const qmcu_tensor *x, const qmcu_tensor *y, int8_t lut[256])
{
    int32_t v;
    const float inv = 1.0f / y->scale;
    for (v = -128; v <= 127; v++) {
        const float xr = x->scale * (float)(v - x->zero_point);
        float fr, q;
        if (op->type == QMCU_OP_LOGISTIC) {
            fr = 1.0f / (1.0f + expf(-xr));
        } else { /* hard swish: x * relu6(x + 3) / 6 */
            float r6 = xr + 3.0f;
            r6 = r6 < 0.0f ? 0.0f : (r6 > 6.0f ? 6.0f : r6);
            fr = xr * r6 / 6.0f;
        }
        q = roundf(fr * inv) + (float)y->zero_point;
        lut[(uint8_t)(int8_t)v] = (int8_t)(q > -128.0f ? (q < 127.0f ? (int32_t)q : 127) : -128);
    }
}

static qmcu_status prepare_lut_op(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR_OF(m, op->in[0]), *y = QMCU_TENSOR_OF(m, op->out);
    int8_t *lut;
    if (y->type != QMCU_I8) return QMCU_OK;
    if (!(lut = (int8_t *)malloc(256))) return qmcu_prepare_nomem(m, err);
    prepare_lut(op, x, y, lut);
    po->u.lut = lut; /* owned */
    return QMCU_OK;
}

static void release_lut(qmcu_prepared_op *po, qmcu_op_type type)
{
    (void)type;
    free((void *)po->u.lut);
}

static void emit_lut_arrays(FILE *f, const qmcu_model *m, int i)
{
    const int8_t *lut = m->ops[i].u.lut;
    int k;
    if (!lut) return;
    fprintf(f, "static const int8_t op%d_lut[256] = {", i);
    for (k = 0; k < 256; k++) fprintf(f, "%s%d", qmcu_emit_sep((size_t)k, 24), lut[k]);
    fputs("\n};\n", f);
}

static void emit_lut_member(FILE *f, const qmcu_model *m, int i)
{
    if (m->ops[i].u.lut) fprintf(f, ",\n        .u.lut = op%d_lut", i);
}

const qmcu_op_host qmcu_host_lut = {prepare_lut_op, release_lut, emit_lut_arrays, emit_lut_member};

/* LEAKY_RELU (TFLite 2.9's LeakyReluPrepare: both factors in float, then QuantizeMultiplier). */
static qmcu_status prepare_leaky_relu(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR_OF(m, op->in[0]), *y = QMCU_TENSOR_OF(m, op->out);
    qmcu_leaky_relu_params *p = &po->u.leaky;
    const float alpha = x->scale * op->alpha / y->scale, identity = x->scale / y->scale;
    int sh;
    p->alpha = op->alpha;
    if (y->type != QMCU_I8) return QMCU_OK;
    if (qmcu_check_rescale(m, i, (double)alpha, err) != QMCU_OK ||
        qmcu_check_rescale(m, i, (double)identity, err) != QMCU_OK)
        return QMCU_ERR_FORMAT;
    p->input_zero_point = x->zero_point;
    p->output_zero_point = y->zero_point;
    qmcu_quantize_multiplier((double)alpha, &p->alpha_multiplier, &sh);
    p->alpha_shift = sh;
    qmcu_quantize_multiplier((double)identity, &p->identity_multiplier, &sh);
    p->identity_shift = sh;
    return QMCU_OK;
}

static void emit_leaky_relu_member(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_leaky_relu_params *p = &m->ops[i].u.leaky;
    fprintf(f,
            ",\n        .u.leaky = {.input_zero_point = %d, .output_zero_point = %d, .identity_multiplier = %d, "
            ".identity_shift = %d, .alpha_multiplier = %d, .alpha_shift = %d, .alpha = ",
            p->input_zero_point, p->output_zero_point, p->identity_multiplier, p->identity_shift, p->alpha_multiplier,
            p->alpha_shift);
    qmcu_emit_float(f, p->alpha);
    fputc('}', f);
}

const qmcu_op_host qmcu_host_leaky_relu = {prepare_leaky_relu, NULL, NULL, emit_leaky_relu_member};

static qmcu_status prepare_concatenation(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR_OF(m, op->out);
    int j;
    (void)po;
    for (j = 0; y->type == QMCU_I8 && j < op->n_in; j++) {
        const qmcu_tensor *xi = QMCU_TENSOR_OF(m, op->in[j]);
        if (!y->from_uint8 && (xi->scale != y->scale || xi->zero_point != y->zero_point)) {
            qmcu_error_set(err,
                           "%s: op %d CONCATENATION: int8 inputs quantized differently from the output (TFLite "
                           "requires equal quantization for int8)",
                           m->g->path, i);
            return QMCU_ERR_UNSUPPORTED;
        }
    }
    if (op->act != QMCU_ACT_NONE) {
        qmcu_error_set(err, "%s: op %d CONCATENATION with a fused activation is unsupported", m->g->path, i);
        return QMCU_ERR_UNSUPPORTED;
    }
    return QMCU_OK;
}

const qmcu_op_host qmcu_host_concatenation = {prepare_concatenation, NULL, NULL, NULL};
