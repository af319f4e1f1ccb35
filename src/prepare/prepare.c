#include "prepare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"

#define TENSOR(m, i) (&(m)->g->tensors[(i)])

static qmcu_status nomem(const qmcu_model *m, qmcu_error *err)
{
    qmcu_error_set(err, "%s: out of memory", m->g->path);
    return QMCU_ERR_NOMEM;
}

static qmcu_dims nhwc(const qmcu_tensor *t)
{
    qmcu_dims d;
    int32_t a[4];
    qmcu_tensor_dims4(t, a);
    d.n = a[0];
    d.h = a[1];
    d.w = a[2];
    d.c = a[3];
    return d;
}

/* Rescale factors outside this range only come from broken or hostile models (and would
 * overflow the fixed-point shifts); they are rejected at prepare time. */
static qmcu_status check_rescale(const qmcu_model *m, int op, double real, qmcu_error *err)
{
    if (real >= 0.0 && real < 65536.0) return QMCU_OK;
    qmcu_error_set(err, "%s: op %d %s: quantization scales give a rescale factor of %g (outside [0, 65536))",
                   m->g->path, op, qmcu_op_name(m->g->ops[op].type), real);
    return QMCU_ERR_FORMAT;
}

void qmcu_activation_range(qmcu_activation act, float scale, int32_t zero_point, int32_t *lo, int32_t *hi)
{
    int32_t qmin = -128, qmax = 127;
#define QUANT(f) (zero_point + qmcu_float_to_int_sat(roundf((f) / scale)))
    switch (act) {
    case QMCU_ACT_RELU: qmin = QUANT(0.0f) > qmin ? QUANT(0.0f) : qmin; break;
    case QMCU_ACT_RELU6:
        qmin = QUANT(0.0f) > qmin ? QUANT(0.0f) : qmin;
        qmax = QUANT(6.0f) < qmax ? QUANT(6.0f) : qmax;
        break;
    case QMCU_ACT_RELU_N1_TO_1:
        qmin = QUANT(-1.0f) > qmin ? QUANT(-1.0f) : qmin;
        qmax = QUANT(1.0f) < qmax ? QUANT(1.0f) : qmax;
        break;
    default: break;
    }
#undef QUANT
    *lo = qmin;
    *hi = qmax;
}

static void act_range_q(qmcu_activation act, const qmcu_tensor *y, int32_t *lo, int32_t *hi)
{
    qmcu_activation_range(act, y->scale, y->zero_point, lo, hi);
}

static void act_range_f(qmcu_activation act, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (act == QMCU_ACT_RELU || act == QMCU_ACT_RELU6) *lo = 0.0f;
    if (act == QMCU_ACT_RELU6) *hi = 6.0f;
    if (act == QMCU_ACT_RELU_N1_TO_1) {
        *lo = -1.0f;
        *hi = 1.0f;
    }
}

qmcu_status qmcu_conv_multipliers(const qmcu_graph *g, int opi, float in_scale, float out_scale, int32_t *multiplier,
                                  int32_t *shift, qmcu_error *err)
{
    const qmcu_op *op = &g->ops[opi];
    const qmcu_tensor *x = &g->tensors[op->in[0]], *w = &g->tensors[op->in[1]];
    const int fc = op->type == QMCU_OP_FULLY_CONNECTED;
    const int32_t oc = qmcu_op_out_channels(g, op);
    int32_t c;
    for (c = 0; c < oc; c++) {
        /* TFLite 2.9 has two formulas. uint8 conv/depthwise and every FULLY_CONNECTED use the
         * legacy GetQuantizedConvolutionMultipler: the input*filter scale product is taken in
         * float, then divided in double. int8 conv/depthwise use the per-channel path, all in
         * double. They differ in the last bits of the multiplier, which shows on ties. */
        const float wsf = w->scales[w->n_scales > 1 ? c : 0];
        const double real = (x->from_uint8 || fc) ? (double)(in_scale * wsf) / (double)out_scale
                                                  : (double)in_scale * (double)wsf / (double)out_scale;
        int sh;
        if (!(real >= 0.0 && real < 65536.0)) {
            qmcu_error_set(err, "%s: op %d %s: quantization scales give a rescale factor of %g (outside [0, 65536))",
                           g->path, opi, qmcu_op_name(op->type), real);
            return QMCU_ERR_FORMAT;
        }
        qmcu_quantize_multiplier(real, &multiplier[c], &sh);
        shift[c] = sh;
    }
    return QMCU_OK;
}

static qmcu_status prepare_conv_like(const qmcu_model *m, const qmcu_op *op, qmcu_prepared_conv *pc, size_t *scratch,
                                     qmcu_error *err)
{
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *w = TENSOR(m, op->in[1]), *y = TENSOR(m, op->out);
    const qmcu_tensor *b = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2]) : NULL;
    const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D, fc = op->type == QMCU_OP_FULLY_CONNECTED;
    const int32_t oc = qmcu_op_out_channels(m->g, op);
    const int32_t k = (int32_t)(qmcu_tensor_elems(w) / (dw ? 1 : oc));
    int32_t *multiplier, *shift, *bias;

    if (x->type == QMCU_F32) {
        qmcu_conv_f32_params *f = &pc->f32;
        f->stride_h = op->stride_h;
        f->stride_w = op->stride_w;
        f->dil_h = op->dil_h;
        f->dil_w = op->dil_w;
        f->pad_top = op->pad_top;
        f->pad_left = op->pad_left;
        f->depth_multiplier = op->depth_multiplier;
        act_range_f(op->act, &f->act_min, &f->act_max);
        if (qmcu_op_is_hybrid(m->g, op)) /* the input quantized at run time: one batch, one FC row */
            *scratch = fc ? (size_t)k : (size_t)(qmcu_tensor_elems(x) / x->dims[0]);
        return QMCU_OK;
    }
    qmcu_conv_params *cp = &pc->params;
    cp->input_offset = -x->zero_point;
    cp->filter_offset = -w->zero_point;
    cp->output_offset = y->zero_point;
    act_range_q(op->act, y, &cp->act_min, &cp->act_max);
    cp->stride_h = op->stride_h;
    cp->stride_w = op->stride_w;
    cp->dil_h = op->dil_h;
    cp->dil_w = op->dil_w;
    cp->pad_top = op->pad_top;
    cp->pad_left = op->pad_left;
    cp->depth_multiplier = op->depth_multiplier;
    /* owned by the prepared op from here (qmcu_model_free) */
    pc->rq.multiplier = multiplier = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    pc->rq.shift = shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    pc->bias = bias = (int32_t *)calloc((size_t)oc, sizeof(int32_t));
    if (!multiplier || !shift || !bias) {
        qmcu_error_set(err, "%s: out of memory", m->g->path);
        return QMCU_ERR_NOMEM;
    }
    if (qmcu_conv_multipliers(m->g, (int)(op - m->g->ops), x->scale, y->scale, multiplier, shift, err) != QMCU_OK)
        return QMCU_ERR_FORMAT;
    if (dw) {
        if (b) memcpy(bias, b->data, sizeof(int32_t) * (size_t)oc);
        *scratch = qmcu_depthwise_s8_scratch_size(&(qmcu_dims){1, 1, 1, oc});
    } else {
        qmcu_conv_fold_bias(cp, oc, k, (const int8_t *)w->data, b ? (const int32_t *)b->data : NULL, bias);
        if (!fc) {
            qmcu_dims in = nhwc(x), fd = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]}, out = nhwc(y);
            *scratch = qmcu_conv_s8_scratch_size(cp, &in, &fd, &out);
        }
    }
    return QMCU_OK;
}

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

/* MEAN: TFLite's three paths (quantmcu/kernels.h). */
static qmcu_status prepare_mean(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *y = TENSOR(m, op->out);
    qmcu_mean_params *mp = &po->u.mean;
    int32_t d[4], n = 1, j;
    qmcu_tensor_dims4(x, d);
    for (j = 0; j < 4; j++)
        if (op->reduce_mask & (1 << j)) n *= d[j];
    mp->reduce_mask = op->reduce_mask;
    mp->value_offset = x->from_uint8 ? 128 : 0;
    mp->uint8_model = x->from_uint8;
    mp->input_zero_point = x->zero_point;
    mp->output_zero_point = y->zero_point;
    mp->input_scale = x->scale;
    mp->output_scale = y->scale;
    if (check_rescale(m, i, (double)x->scale / (double)y->scale, err) != QMCU_OK) return QMCU_ERR_FORMAT;
    if (op->keep_dims && x->ndim == 4 && op->reduce_mask == 6) {
        mp->kind = QMCU_MEAN_SPATIAL;
        if (x->from_uint8) {
            mp->value_offset = 128;
            qmcu_quantize_multiplier((double)(x->scale / ((float)n * y->scale)), &mp->multiplier, &mp->shift);
        } else {
            qmcu_quantize_multiplier((double)x->scale / (double)y->scale, &mp->multiplier, &mp->shift);
        }
    } else if (x->scale == y->scale && x->zero_point == y->zero_point) {
        mp->kind = QMCU_MEAN_SAME_QUANT;
    } else {
        mp->kind = QMCU_MEAN_RESCALE;
    }
    po->scratch_bytes = sizeof(int32_t) * (size_t)(qmcu_tensor_elems(x) / n);
    return QMCU_OK;
}

/* UNIDIRECTIONAL_SEQUENCE_LSTM: TFLite's PopulateQuantizedLstmParams8x8_16 without layer norm (gate
 * pre-activations in Q3.12), and its effective biases (the zero points folded into the bias). */
static qmcu_status prepare_lstm(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *h = TENSOR(m, op->lstm_hidden_state);
    const qmcu_tensor *c = TENSOR(m, op->lstm_cell_state);
    qmcu_lstm_params *p = &po->u.lstm;
    const float gate_scale = 1.0f / 4096.0f; /* 2^-12 */
    const float log2_scale = logf(c->scale) * (1.0f / logf(2.0f)), rounded = roundf(log2_scale);
    int32_t *biases;
    int g, r, k, sh;
    p->n_input = x->dims[2];
    p->n_cell = TENSOR(m, op->in[4])->dims[0];
    p->n_output = TENSOR(m, op->in[8])->dims[1];
    p->time_steps = x->dims[op->time_major ? 0 : 1];
    p->reverse = 0;
    /* TFLite's CheckedLog2 and cell_scale <= -9; its tanh of the cell takes 15 + cell_scale integer bits, 0..6 */
    if (!(fabsf(log2_scale - rounded) < 1e-3f) || rounded > -9.0f || rounded < -15.0f) {
        qmcu_error_set(
            err, "%s: op %d UNIDIRECTIONAL_SEQUENCE_LSTM: cell state scale %g is not a power of two in 2^-15..2^-9",
            m->g->path, i, (double)c->scale);
        return QMCU_ERR_UNSUPPORTED;
    }
    p->cell_scale = (int32_t)rounded;
    biases = (int32_t *)malloc(sizeof(int32_t) * 8 * (size_t)p->n_cell);
    if (!biases) return nomem(m, err);
    p->input_bias[0] = biases; /* owned from here: qmcu_model_free frees it, also after an error below */
    for (g = 0; g < 4; g++) {
        const qmcu_tensor *wi = TENSOR(m, op->in[1 + g]), *wr = TENSOR(m, op->in[5 + g]);
        const int32_t *bias = (const int32_t *)TENSOR(m, op->in[9 + g])->data;
        const float eff_in = wi->scale * x->scale / gate_scale, eff_rec = wr->scale * h->scale / gate_scale;
        int32_t *bi = biases + (size_t)(2 * g) * p->n_cell, *br = bi + p->n_cell;
        if (check_rescale(m, i, (double)eff_in, err) != QMCU_OK || check_rescale(m, i, (double)eff_rec, err) != QMCU_OK)
            return QMCU_ERR_FORMAT;
        p->input_weights[g] = (const int8_t *)wi->data;
        p->recurrent_weights[g] = (const int8_t *)wr->data;
        qmcu_quantize_multiplier((double)eff_in, &p->input_multiplier[g], &sh);
        p->input_shift[g] = sh;
        qmcu_quantize_multiplier((double)eff_rec, &p->recurrent_multiplier[g], &sh);
        p->recurrent_shift[g] = sh;
        for (r = 0; r < p->n_cell; r++) { /* bias - zero point * row sum, in int32 wrapping as TFLite's on x86 */
            uint32_t si = 0, sr = 0;
            for (k = 0; k < p->n_input; k++)
                si += (uint32_t)(int32_t)((const int8_t *)wi->data)[(size_t)r * p->n_input + k];
            for (k = 0; k < p->n_output; k++)
                sr += (uint32_t)(int32_t)((const int8_t *)wr->data)[(size_t)r * p->n_output + k];
            bi[r] = (int32_t)((uint32_t)bias[r] + si * (uint32_t)-x->zero_point);
            br[r] = (int32_t)(sr * (uint32_t)-h->zero_point);
        }
        p->input_bias[g] = bi;
        p->recurrent_bias[g] = br;
    }
    { /* the hidden state: 2^-15 * 2^-15 / its scale, in double as TFLite's std::pow(2, -15) terms */
        const float eff_hidden = (float)(pow(2.0, -15) / (double)op->lstm_hidden_scale * pow(2.0, -15));
        if (check_rescale(m, i, (double)eff_hidden, err) != QMCU_OK) return QMCU_ERR_FORMAT;
        qmcu_quantize_multiplier((double)eff_hidden, &p->hidden_multiplier, &sh);
        p->hidden_shift = sh;
    }
    p->hidden_zero_point = op->lstm_hidden_zero_point;
    p->state_zero_point = h->zero_point;
    p->cell_clip = 0;
    if (op->lstm_cell_clip > 0.0f) {
        const float q = op->lstm_cell_clip / c->scale;
        p->cell_clip = (int32_t)(int16_t)(q > 32767.0f ? 32767.0f : (q < -32768.0f ? -32768.0f : q));
    }
    po->scratch_bytes = qmcu_lstm_scratch_size(p);
    return QMCU_OK;
}

static qmcu_status prepare_op(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *y = TENSOR(m, op->out);
    const int q = y->type == QMCU_I8;
    act_range_f(op->act, &po->act_min_f, &po->act_max_f);

    switch (op->type) {
    case QMCU_OP_CONV_2D:
    case QMCU_OP_DEPTHWISE_CONV_2D:
    case QMCU_OP_FULLY_CONNECTED: return prepare_conv_like(m, op, &po->u.conv, &po->scratch_bytes, err);
    case QMCU_OP_ADD:
    case QMCU_OP_SUB:
    case QMCU_OP_MUL:
        if (q)
            return qmcu_eltwise_prepare(m->g, i, x->scale, x->zero_point, TENSOR(m, op->in[1])->scale,
                                        TENSOR(m, op->in[1])->zero_point, y->scale, y->zero_point, &po->u.elt, err);
        break;
    case QMCU_OP_AVERAGE_POOL_2D:
    case QMCU_OP_MAX_POOL_2D:
        po->u.pool.filter_h = op->filter_h;
        po->u.pool.filter_w = op->filter_w;
        po->u.pool.stride_h = op->stride_h;
        po->u.pool.stride_w = op->stride_w;
        po->u.pool.pad_top = op->pad_top;
        po->u.pool.pad_left = op->pad_left;
        po->u.pool.is_max = op->type == QMCU_OP_MAX_POOL_2D;
        po->u.pool.value_offset = y->from_uint8 ? 128 : 0;
        if (q) act_range_q(op->act, y, &po->u.pool.act_min, &po->u.pool.act_max);
        break;
    case QMCU_OP_MEAN: return q ? prepare_mean(m, po, i, err) : QMCU_OK;
    case QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM: return prepare_lstm(m, po, i, err);
    case QMCU_OP_DETECTION_POSTPROCESS:
        po->scratch_bytes = qmcu_detection_scratch_size(&op->detect, x->dims[1], TENSOR(m, op->in[1])->dims[2]);
        break;
    case QMCU_OP_SOFTMAX: {
        float *table;
        if (!q) break;
        if (!(table = (float *)malloc(256 * sizeof(float)))) return nomem(m, err);
        qmcu_softmax_table(x->scale, op->beta, table);
        po->u.softmax.table = table; /* owned */
        po->u.softmax.output_scale = y->scale;
        po->u.softmax.output_zero_point = y->zero_point;
        po->u.softmax.uint8_output = y->from_uint8;
        break;
    }
    case QMCU_OP_QUANTIZE:
        if (x->type == QMCU_I8) {
            int sh;
            if (check_rescale(m, i, (double)x->scale / (double)y->scale, err) != QMCU_OK) return QMCU_ERR_FORMAT;
            qmcu_quantize_multiplier((double)x->scale / (double)y->scale, &po->u.requant.multiplier, &sh);
            po->u.requant.shift = sh;
            po->u.requant.input_offset = -x->zero_point;
            po->u.requant.output_offset = y->zero_point;
            po->u.requant.act_min = -128;
            po->u.requant.act_max = 127;
        }
        break;
    case QMCU_OP_RELU:
    case QMCU_OP_RELU6:
        if (q) {
            int sh;
            const float real = x->scale / y->scale; /* float division, as TFLite */
            if (check_rescale(m, i, (double)real, err) != QMCU_OK) return QMCU_ERR_FORMAT;
            qmcu_quantize_multiplier((double)real, &po->u.requant.multiplier, &sh);
            po->u.requant.shift = sh;
            po->u.requant.input_offset = -x->zero_point;
            po->u.requant.output_offset = y->zero_point;
            act_range_q(op->type == QMCU_OP_RELU ? QMCU_ACT_RELU : QMCU_ACT_RELU6, y, &po->u.requant.act_min,
                        &po->u.requant.act_max);
        } else {
            po->act_min_f = 0.0f;
            po->act_max_f = op->type == QMCU_OP_RELU ? INFINITY : 6.0f;
        }
        break;
    case QMCU_OP_LOGISTIC:
    case QMCU_OP_HARD_SWISH: {
        int8_t *lut;
        if (!q) break;
        if (!(lut = (int8_t *)malloc(256))) return nomem(m, err);
        prepare_lut(op, x, y, lut);
        po->u.lut = lut; /* owned */
        break;
    }
    case QMCU_OP_CONCATENATION: {
        int j;
        for (j = 0; q && j < op->n_in; j++) {
            const qmcu_tensor *xi = TENSOR(m, op->in[j]);
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
        break;
    }
    default: break;
    }
    return QMCU_OK;
}

qmcu_status qmcu_model_prepare(const qmcu_graph *g, qmcu_model **out, qmcu_error *err)
{
    qmcu_model *m = (qmcu_model *)calloc(1, sizeof *m);
    qmcu_prepared_op *ops;
    qmcu_status st = QMCU_OK;
    int i;
    *out = NULL;
    if (!m) return QMCU_ERR_NOMEM;
    m->g = g;
    m->kernels = qmcu_op_kernels_all;
    m->ops = ops = (qmcu_prepared_op *)calloc((size_t)g->n_ops, sizeof *ops);
    if (!ops) {
        qmcu_model_free(m);
        qmcu_error_set(err, "%s: out of memory", g->path);
        return QMCU_ERR_NOMEM;
    }
    for (i = 0; i < g->n_ops && st == QMCU_OK; i++) st = prepare_op(m, &ops[i], i, err);
    if (st != QMCU_OK) {
        qmcu_model_free(m);
        return st;
    }
    *out = m;
    return QMCU_OK;
}

void qmcu_model_free(qmcu_model *m)
{
    int i;
    if (!m) return;
    for (i = 0; m->ops && i < m->g->n_ops; i++) { /* the arrays prepare_op allocated, per kind */
        const qmcu_prepared_op *po = &m->ops[i];
        const qmcu_op_type t = m->g->ops[i].type;
        if (qmcu_op_has(t, QMCU_OPT_WEIGHTED)) {
            free((void *)po->u.conv.rq.multiplier);
            free((void *)po->u.conv.rq.shift);
            free((void *)po->u.conv.bias);
        } else if (t == QMCU_OP_SOFTMAX) {
            free((void *)po->u.softmax.table);
        } else if (t == QMCU_OP_LOGISTIC || t == QMCU_OP_HARD_SWISH) {
            free((void *)po->u.lut);
        } else if (t == QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM) {
            free((void *)po->u.lstm.input_bias[0]); /* all eight effective biases */
        }
    }
    free((void *)m->ops);
    free(m);
}
