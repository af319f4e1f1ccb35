#include "interpreter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"

#define TENSOR(m, i) (&(m)->g->tensors[(i)])

static void dims4(const qmcu_tensor *t, int32_t d[4])
{
    int i;
    for (i = 0; i < 4; i++) d[i] = 1;
    for (i = 0; i < t->ndim && i < 4; i++) d[4 - t->ndim + i] = t->dims[i];
}

static qmcu_dims nhwc(const qmcu_tensor *t)
{
    qmcu_dims d;
    int32_t a[4];
    dims4(t, a);
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
    qmcu_error_set(err, "%s: op %d %s: quantization scales give a rescale factor of %g (outside [0, 65536))", m->g->path, op,
                   qmcu_op_name(m->g->ops[op].type), real);
    return QMCU_ERR_FORMAT;
}

/* TFLite CalculateActivationRangeQuantized, in the storage domain. */
static void act_range_q(qmcu_activation act, const qmcu_tensor *y, int32_t *lo, int32_t *hi)
{
    int32_t qmin = -128, qmax = 127;
#define QUANT(f) (y->zero_point + qmcu_float_to_int_sat(roundf((f) / y->scale)))
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

static qmcu_status prepare_conv_like(qmcu_model *m, const qmcu_op *op, qmcu_prepared_op *po, qmcu_error *err)
{
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *w = TENSOR(m, op->in[1]), *y = TENSOR(m, op->out);
    const qmcu_tensor *b = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2]) : NULL;
    const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D, fc = op->type == QMCU_OP_FULLY_CONNECTED;
    const int32_t oc = dw ? w->dims[3] : w->dims[0];
    const int32_t k = (int32_t)(qmcu_tensor_elems(w) / (dw ? 1 : oc));
    int32_t c;

    if (x->type == QMCU_F32) {
        po->convf.stride_h = op->stride_h;
        po->convf.stride_w = op->stride_w;
        po->convf.dil_h = op->dil_h;
        po->convf.dil_w = op->dil_w;
        po->convf.pad_top = op->pad_top;
        po->convf.pad_left = op->pad_left;
        po->convf.depth_multiplier = op->depth_multiplier;
        act_range_f(op->act, &po->convf.act_min, &po->convf.act_max);
        po->act_min_f = po->convf.act_min;
        po->act_max_f = po->convf.act_max;
        return QMCU_OK;
    }
    po->conv.input_offset = -x->zero_point;
    po->conv.filter_offset = -w->zero_point;
    po->conv.output_offset = y->zero_point;
    act_range_q(op->act, y, &po->conv.act_min, &po->conv.act_max);
    po->conv.stride_h = op->stride_h;
    po->conv.stride_w = op->stride_w;
    po->conv.dil_h = op->dil_h;
    po->conv.dil_w = op->dil_w;
    po->conv.pad_top = op->pad_top;
    po->conv.pad_left = op->pad_left;
    po->conv.depth_multiplier = op->depth_multiplier;
    po->multiplier = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    po->shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    po->bias = (int32_t *)calloc((size_t)oc, sizeof(int32_t));
    if (!po->multiplier || !po->shift || !po->bias) {
        qmcu_error_set(err, "%s: out of memory", m->g->path);
        return QMCU_ERR_NOMEM;
    }
    for (c = 0; c < oc; c++) {
        /* TFLite 2.9 has two formulas. uint8 conv/depthwise and every FULLY_CONNECTED use the
         * legacy GetQuantizedConvolutionMultipler: the input*filter scale product is taken in
         * float, then divided in double. int8 conv/depthwise use the per-channel path, all in
         * double. They differ in the last bits of the multiplier, which shows on ties. */
        const float wsf = w->scales[w->n_scales > 1 ? c : 0];
        const double real = (x->from_uint8 || fc) ? (double)(x->scale * wsf) / (double)y->scale
                                                  : (double)x->scale * (double)wsf / (double)y->scale;
        int sh;
        if (check_rescale(m, (int)(op - m->g->ops), real, err) != QMCU_OK) return QMCU_ERR_FORMAT;
        qmcu_quantize_multiplier(real, &po->multiplier[c], &sh);
        po->shift[c] = sh;
    }
    po->rq.multiplier = po->multiplier;
    po->rq.shift = po->shift;
    if (dw) {
        if (b) memcpy(po->bias, b->data, sizeof(int32_t) * (size_t)oc);
        po->scratch_bytes = qmcu_depthwise_s8_scratch_size(&(qmcu_dims){1, 1, 1, oc});
    } else {
        qmcu_conv_fold_bias(&po->conv, oc, k, (const int8_t *)w->data, b ? (const int32_t *)b->data : NULL, po->bias);
        if (!fc) {
            qmcu_dims in = nhwc(x), fd = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]}, out = nhwc(y);
            po->scratch_bytes = qmcu_conv_s8_scratch_size(&po->conv, &in, &fd, &out);
        }
    }
    return QMCU_OK;
}

static qmcu_status prepare_eltwise(const qmcu_model *m, int opi, const qmcu_op *op, const qmcu_tensor *x1,
                                   const qmcu_tensor *x2, const qmcu_tensor *y, qmcu_prepared_op *po, qmcu_error *err)
{
    qmcu_eltwise_params *e = &po->elt;
    e->is_mul = op->type == QMCU_OP_MUL;
    e->input1_offset = -x1->zero_point;
    e->input2_offset = -x2->zero_point;
    e->output_offset = y->zero_point;
    act_range_q(op->act, y, &e->act_min, &e->act_max);
    if (e->is_mul) {
        /* TFLite computes this product in float before widening */
        const float real = x1->scale * x2->scale / y->scale;
        if (check_rescale(m, opi, (double)real, err) != QMCU_OK) return QMCU_ERR_FORMAT;
        qmcu_quantize_multiplier((double)real, &e->output_multiplier, &e->output_shift);
    } else {
        const double twice_max = 2.0 * (double)(x1->scale > x2->scale ? x1->scale : x2->scale);
        e->left_shift = 20;
        if (check_rescale(m, opi, twice_max / ((double)(1 << 20) * (double)y->scale), err) != QMCU_OK) return QMCU_ERR_FORMAT;
        qmcu_quantize_multiplier((double)x1->scale / twice_max, &e->input1_multiplier, &e->input1_shift);
        qmcu_quantize_multiplier((double)x2->scale / twice_max, &e->input2_multiplier, &e->input2_shift);
        qmcu_quantize_multiplier(twice_max / ((double)(1 << 20) * (double)y->scale), &e->output_multiplier,
                                 &e->output_shift);
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

static qmcu_status prepare_op(qmcu_model *m, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *y = TENSOR(m, op->out);
    const int q = y->type == QMCU_I8;
    act_range_f(op->act, &po->act_min_f, &po->act_max_f);

    switch (op->type) {
    case QMCU_OP_CONV_2D:
    case QMCU_OP_DEPTHWISE_CONV_2D:
    case QMCU_OP_FULLY_CONNECTED: return prepare_conv_like(m, op, po, err);
    case QMCU_OP_ADD:
    case QMCU_OP_MUL:
        if (q) return prepare_eltwise(m, i, op, x, TENSOR(m, op->in[1]), y, po, err);
        break;
    case QMCU_OP_AVERAGE_POOL_2D:
    case QMCU_OP_MAX_POOL_2D:
        po->pool.filter_h = op->filter_h;
        po->pool.filter_w = op->filter_w;
        po->pool.stride_h = op->stride_h;
        po->pool.stride_w = op->stride_w;
        po->pool.pad_top = op->pad_top;
        po->pool.pad_left = op->pad_left;
        po->pool.is_max = op->type == QMCU_OP_MAX_POOL_2D;
        po->pool.value_offset = y->from_uint8 ? 128 : 0;
        if (q) act_range_q(op->act, y, &po->pool.act_min, &po->pool.act_max);
        break;
    case QMCU_OP_MEAN: {
        qmcu_mean_params *mp = &po->mean;
        int32_t d[4], n = 1, j;
        if (!q) break;
        dims4(x, d);
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
        break;
    }
    case QMCU_OP_SOFTMAX:
        if (!q) break;
        qmcu_softmax_table(x->scale, op->beta, po->softmax_table);
        po->softmax.table = po->softmax_table;
        po->softmax.output_scale = y->scale;
        po->softmax.output_zero_point = y->zero_point;
        po->softmax.uint8_output = y->from_uint8;
        break;
    case QMCU_OP_QUANTIZE:
        if (x->type == QMCU_I8) {
            int sh;
            if (check_rescale(m, i, (double)x->scale / (double)y->scale, err) != QMCU_OK) return QMCU_ERR_FORMAT;
            qmcu_quantize_multiplier((double)x->scale / (double)y->scale, &po->requant.multiplier, &sh);
            po->requant.shift = sh;
            po->requant.input_offset = -x->zero_point;
            po->requant.output_offset = y->zero_point;
            po->requant.act_min = -128;
            po->requant.act_max = 127;
        }
        break;
    case QMCU_OP_RELU:
    case QMCU_OP_RELU6:
        if (q) {
            int sh;
            const float real = x->scale / y->scale; /* float division, as TFLite */
            if (check_rescale(m, i, (double)real, err) != QMCU_OK) return QMCU_ERR_FORMAT;
            qmcu_quantize_multiplier((double)real, &po->requant.multiplier, &sh);
            po->requant.shift = sh;
            po->requant.input_offset = -x->zero_point;
            po->requant.output_offset = y->zero_point;
            act_range_q(op->type == QMCU_OP_RELU ? QMCU_ACT_RELU : QMCU_ACT_RELU6, y, &po->requant.act_min,
                        &po->requant.act_max);
        } else {
            po->act_min_f = 0.0f;
            po->act_max_f = op->type == QMCU_OP_RELU ? INFINITY : 6.0f;
        }
        break;
    case QMCU_OP_LOGISTIC:
    case QMCU_OP_HARD_SWISH:
        if (q) prepare_lut(op, x, y, po->lut);
        break;
    case QMCU_OP_CONCATENATION: {
        int j;
        for (j = 0; q && j < op->n_in; j++) {
            const qmcu_tensor *xi = TENSOR(m, op->in[j]);
            if (xi->scale != y->scale || xi->zero_point != y->zero_point) {
                qmcu_error_set(err, "%s: op %d CONCATENATION with inputs of different quantization is unsupported", m->g->path, i);
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

int qmcu_layer_lifetimes(const qmcu_model *m, qmcu_buffer_life **out)
{
    const qmcu_graph *g = m->g;
    int n = g->n_tensors + g->n_ops, i, j;
    qmcu_buffer_life *b = (qmcu_buffer_life *)calloc((size_t)n, sizeof *b);
    if (!b) return -1;
    for (i = 0; i < g->n_tensors; i++) {
        b[i].first = g->n_ops; /* unused unless produced/consumed */
        b[i].last = -1;
    }
    for (i = 0; i < g->n_inputs; i++) b[g->inputs[i]].first = 0;
    for (i = 0; i < g->n_ops; i++) {
        const qmcu_op *op = &g->ops[i];
        for (j = 0; j < op->n_in; j++)
            if (op->in[j] >= 0 && !g->tensors[op->in[j]].data && b[op->in[j]].last < i) b[op->in[j]].last = i;
        if (b[op->out].first > i) b[op->out].first = i;
        if (b[op->out].last < i) b[op->out].last = i;
    }
    for (i = 0; i < g->n_outputs; i++) b[g->outputs[i]].last = g->n_ops - 1;
    for (i = 0; i < g->n_tensors; i++) {
        if (g->tensors[i].data || b[i].last < b[i].first) {
            b[i].size = 0;
            b[i].first = 0;
            b[i].last = -1;
        } else {
            b[i].size = g->tensors[i].bytes;
        }
    }
    for (i = 0; i < g->n_ops; i++) {
        b[g->n_tensors + i].size = m->ops[i].scratch_bytes;
        b[g->n_tensors + i].first = b[g->n_tensors + i].last = i;
    }
    *out = b;
    return n;
}

qmcu_status qmcu_model_prepare(const qmcu_graph *g, qmcu_model **out, qmcu_error *err)
{
    qmcu_model *m = (qmcu_model *)calloc(1, sizeof *m);
    qmcu_buffer_life *life = NULL;
    qmcu_status st = QMCU_OK;
    int i, n;
    *out = NULL;
    if (!m) return QMCU_ERR_NOMEM;
    m->g = g;
    m->ops = (qmcu_prepared_op *)calloc((size_t)g->n_ops, sizeof *m->ops);
    m->tensor_offset = (size_t *)calloc((size_t)g->n_tensors, sizeof(size_t));
    m->scratch_offset = (size_t *)calloc((size_t)g->n_ops, sizeof(size_t));
    if (!m->ops || !m->tensor_offset || !m->scratch_offset) {
        qmcu_model_free(m);
        qmcu_error_set(err, "%s: out of memory", g->path);
        return QMCU_ERR_NOMEM;
    }
    for (i = 0; i < g->n_ops && st == QMCU_OK; i++) st = prepare_op(m, i, err);
    if (st != QMCU_OK) {
        qmcu_model_free(m);
        return st;
    }
    n = qmcu_layer_lifetimes(m, &life);
    if (n < 0) {
        qmcu_model_free(m);
        qmcu_error_set(err, "%s: out of memory", g->path);
        return QMCU_ERR_NOMEM;
    }
    m->arena_bytes = qmcu_place_buffers(life, n);
    m->peak_bytes = qmcu_peak_live_bytes(life, n, &m->peak_op);
    for (i = 0; i < g->n_tensors; i++) m->tensor_offset[i] = life[i].offset;
    for (i = 0; i < g->n_ops; i++) m->scratch_offset[i] = life[g->n_tensors + i].offset;
    for (i = 0; i < g->n_inputs; i++) m->input_bytes += g->tensors[g->inputs[i]].bytes;
    free(life);
    *out = m;
    return QMCU_OK;
}

void qmcu_model_free(qmcu_model *m)
{
    int i;
    if (!m) return;
    for (i = 0; m->ops && i < m->g->n_ops; i++) {
        free(m->ops[i].multiplier);
        free(m->ops[i].shift);
        free(m->ops[i].bias);
    }
    free(m->ops);
    free(m->tensor_offset);
    free(m->scratch_offset);
    free(m);
}

void *qmcu_tensor_ptr(const qmcu_model *m, uint8_t *arena, int tensor)
{
    const qmcu_tensor *t = TENSOR(m, tensor);
    return t->data ? t->data : (void *)(arena + m->tensor_offset[tensor]);
}

void qmcu_model_set_input(const qmcu_model *m, uint8_t *arena, int index, const void *bytes)
{
    const int ti = m->g->inputs[index];
    const qmcu_tensor *t = TENSOR(m, ti);
    uint8_t *dst = (uint8_t *)qmcu_tensor_ptr(m, arena, ti);
    size_t i;
    memcpy(dst, bytes, t->bytes);
    if (t->from_uint8)
        for (i = 0; i < t->bytes; i++) dst[i] ^= 0x80;
}

void qmcu_model_get_output(const qmcu_model *m, const uint8_t *arena, int index, void *bytes)
{
    const int ti = m->g->outputs[index];
    const qmcu_tensor *t = TENSOR(m, ti);
    uint8_t *dst = (uint8_t *)bytes;
    size_t i;
    memcpy(dst, arena + m->tensor_offset[ti], t->bytes);
    if (t->from_uint8)
        for (i = 0; i < t->bytes; i++) dst[i] ^= 0x80;
}

qmcu_status qmcu_model_run_op(const qmcu_model *m, uint8_t *arena, int i)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *y = TENSOR(m, op->out);
    void *in0 = qmcu_tensor_ptr(m, arena, op->in[0]);
    void *out = qmcu_tensor_ptr(m, arena, op->out);
    void *scratch = arena + m->scratch_offset[i];
    const int q = y->type == QMCU_I8;
    const int64_t n = qmcu_tensor_elems(y);

    switch (op->type) {
    case QMCU_OP_CONV_2D:
    case QMCU_OP_DEPTHWISE_CONV_2D: {
        const qmcu_tensor *w = TENSOR(m, op->in[1]);
        qmcu_dims in = nhwc(x), fd = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]}, od = nhwc(y);
        const void *bias = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2])->data : NULL;
        if (!q) {
            if (op->type == QMCU_OP_CONV_2D)
                qmcu_conv_f32(&po->convf, &in, (const float *)in0, &fd, (const float *)w->data, (const float *)bias, &od, (float *)out);
            else
                qmcu_depthwise_conv_f32(&po->convf, &in, (const float *)in0, &fd, (const float *)w->data, (const float *)bias, &od, (float *)out);
            return QMCU_OK;
        }
        if (op->type == QMCU_OP_CONV_2D)
            return qmcu_conv_s8(&po->conv, &po->rq, &in, (const int8_t *)in0, &fd, (const int8_t *)w->data, po->bias, &od,
                                (int8_t *)out, scratch, po->scratch_bytes);
        return qmcu_depthwise_conv_s8(&po->conv, &po->rq, &in, (const int8_t *)in0, &fd, (const int8_t *)w->data, po->bias,
                                      &od, (int8_t *)out, scratch, po->scratch_bytes);
    }
    case QMCU_OP_FULLY_CONNECTED: {
        const qmcu_tensor *w = TENSOR(m, op->in[1]);
        const int32_t k = w->dims[1], rows = (int32_t)(qmcu_tensor_elems(x) / k);
        if (!q) {
            const void *bias = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2])->data : NULL;
            qmcu_fully_connected_f32(rows, k, (const float *)in0, w->dims[0], (const float *)w->data, (const float *)bias,
                                     po->act_min_f, po->act_max_f, (float *)out);
            return QMCU_OK;
        }
        return qmcu_fully_connected_s8(&po->conv, &po->rq, rows, k, (const int8_t *)in0, w->dims[0], (const int8_t *)w->data,
                                       po->bias, (int8_t *)out);
    }
    case QMCU_OP_ADD:
    case QMCU_OP_MUL: {
        const qmcu_tensor *x2 = TENSOR(m, op->in[1]);
        int32_t d1[4], d2[4], dy[4];
        dims4(x, d1);
        dims4(x2, d2);
        dims4(y, dy);
        if (q)
            return qmcu_eltwise_s8(&po->elt, d1, (const int8_t *)in0, d2, (const int8_t *)qmcu_tensor_ptr(m, arena, op->in[1]), dy,
                                   (int8_t *)out);
        qmcu_eltwise_f32(op->type == QMCU_OP_MUL, d1, (const float *)in0, d2, (const float *)qmcu_tensor_ptr(m, arena, op->in[1]), dy,
                         po->act_min_f, po->act_max_f, (float *)out);
        return QMCU_OK;
    }
    case QMCU_OP_AVERAGE_POOL_2D:
    case QMCU_OP_MAX_POOL_2D: {
        qmcu_dims in = nhwc(x), od = nhwc(y);
        if (q) return qmcu_pool_s8(&po->pool, &in, (const int8_t *)in0, &od, (int8_t *)out);
        qmcu_pool_f32(&po->pool, po->act_min_f, po->act_max_f, &in, (const float *)in0, &od, (float *)out);
        return QMCU_OK;
    }
    case QMCU_OP_MEAN: {
        int32_t d[4];
        dims4(x, d);
        if (q) return qmcu_mean_s8(&po->mean, d, (const int8_t *)in0, (int8_t *)out, (int32_t *)scratch, po->scratch_bytes);
        qmcu_mean_f32(op->reduce_mask, d, (const float *)in0, (float *)out);
        return QMCU_OK;
    }
    case QMCU_OP_PAD: {
        int32_t d[4];
        int8_t zp8 = (int8_t)y->zero_point;
        float zf = 0.0f;
        dims4(x, d);
        qmcu_pad(d, op->pads, qmcu_dtype_size(y->type), q ? (const void *)&zp8 : (const void *)&zf, in0, out);
        return QMCU_OK;
    }
    case QMCU_OP_RESHAPE:
        if (in0 != out) memmove(out, in0, y->bytes);
        return QMCU_OK;
    case QMCU_OP_TRANSPOSE: {
        int32_t d[4];
        int perm[4], j, pad = 4 - x->ndim;
        dims4(x, d);
        for (j = 0; j < 4; j++) perm[j] = j < pad ? j : op->perm[j - pad] + pad;
        qmcu_transpose(d, perm, qmcu_dtype_size(y->type), in0, out);
        return QMCU_OK;
    }
    case QMCU_OP_CONCATENATION: {
        int32_t outer = 1, inner = 1, off = 0;
        int j;
        for (j = 0; j < op->axis; j++) outer *= y->dims[j];
        for (j = op->axis + 1; j < y->ndim; j++) inner *= y->dims[j];
        for (j = 0; j < op->n_in; j++) {
            const qmcu_tensor *xi = TENSOR(m, op->in[j]);
            qmcu_concat_copy(outer, xi->dims[op->axis], y->dims[op->axis], off, inner, qmcu_dtype_size(y->type),
                             qmcu_tensor_ptr(m, arena, op->in[j]), out);
            off += xi->dims[op->axis];
        }
        return QMCU_OK;
    }
    case QMCU_OP_SOFTMAX: {
        const int32_t len = y->dims[y->ndim - 1], rows = (int32_t)(n / len);
        if (q)
            qmcu_softmax_s8(&po->softmax, rows, len, (const int8_t *)in0, (int8_t *)out);
        else
            qmcu_softmax_f32(op->beta, rows, len, (const float *)in0, (float *)out);
        return QMCU_OK;
    }
    case QMCU_OP_QUANTIZE:
        if (x->type == QMCU_I8) {
            qmcu_requantize_s8(&po->requant, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
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
    case QMCU_OP_DEQUANTIZE: {
        const int8_t *src = (const int8_t *)in0;
        float *dst = (float *)out;
        int64_t j;
        for (j = 0; j < n; j++) dst[j] = x->scale * (float)(src[j] - x->zero_point);
        return QMCU_OK;
    }
    case QMCU_OP_LOGISTIC:
    case QMCU_OP_HARD_SWISH:
        if (q) {
            qmcu_lut_s8(po->lut, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
        } else {
            const float *src = (const float *)in0;
            float *dst = (float *)out;
            int64_t j;
            for (j = 0; j < n; j++) {
                const float v = src[j];
                float r6 = v + 3.0f;
                r6 = r6 < 0.0f ? 0.0f : (r6 > 6.0f ? 6.0f : r6);
                dst[j] = op->type == QMCU_OP_LOGISTIC ? 1.0f / (1.0f + expf(-v)) : v * r6 / 6.0f;
            }
        }
        return QMCU_OK;
    case QMCU_OP_RELU:
    case QMCU_OP_RELU6:
        if (q) {
            qmcu_requantize_s8(&po->requant, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
        } else {
            const float *src = (const float *)in0;
            float *dst = (float *)out;
            int64_t j;
            for (j = 0; j < n; j++) dst[j] = src[j] < po->act_min_f ? po->act_min_f : (src[j] > po->act_max_f ? po->act_max_f : src[j]);
        }
        return QMCU_OK;
    case QMCU_OP_COUNT: break;
    }
    return QMCU_ERR_UNSUPPORTED;
}

qmcu_status qmcu_model_invoke(const qmcu_model *m, uint8_t *arena, int first, int last)
{
    int i;
    for (i = first; i < last; i++) {
        qmcu_status st = qmcu_model_run_op(m, arena, i);
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}
