/* QuantMCU: derives, for every patch op, the kernel parameters of each input/output format
 * combination (8-bit, or the plan's low-bit format of that map, per-tensor in version 1 and
 * per-channel in version 2). Host only (allocates).
 *
 * A format is a scale per channel and one zero point. For each combination:
 *  - the producer requantizes its int32 accumulators straight into the output format
 *    (multiplier per output channel: input scale x weight scale / output scale);
 *  - a depthwise reader folds its per-channel input scales into those multipliers and rescales
 *    its bias (exact);
 *  - a conv reader whose input scales differ per channel gets re-quantized int8 weights: the real
 *    weight times its input channel's scale, symmetric per output channel (filter_offset 0); the
 *    bias is rescaled to the new accumulator unit and the input offset folded in;
 *  - an add gets per-channel parameters when a format is per-channel;
 *  - a pad writes the output format's zero point.
 * Activation ranges are those of the output format's code domain, clamped to the activation only,
 * so codes beyond 0 .. 2^b - 1 stay visible to VDPC. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"
#include "../prepare/prepare.h"
#include "../runtime/lowbit_exec.h"
#include "vdq.h"

#define TENSOR(m, i) (&(m)->g->tensors[(i)])

/* Bits tensor t has on a normal tile under the plan (8 when it is not a low-bit feature map);
 * PAD outputs follow their input. */
static int planned_bits(const qmcu_plan *p, const qmcu_vdq *vdq, int t)
{
    t = qmcu_pad_source(p->g, p->spec.split, t); /* a PAD output has its input's format */
    if (t < 0 || t >= vdq->n_tensors || !vdq->fmap[t].in_scope || t == p->split_tensor) return 8;
    return vdq->fmap[t].bits;
}

/* A tensor's format in a combination: scales per channel (owned) and zero point. */
typedef struct {
    float *s;
    int32_t zp;
    int per_channel; /* the scales differ between channels */
} format;

static int format_of(const qmcu_plan *p, const qmcu_vdq *vdq, int t, int low, format *f)
{
    const qmcu_tensor *x = &p->g->tensors[t];
    const int32_t c_n = x->dims[3];
    int32_t c;
    f->s = (float *)malloc(sizeof(float) * (size_t)c_n);
    f->per_channel = 0;
    if (!f->s) return 0;
    if (!low) {
        for (c = 0; c < c_n; c++) f->s[c] = x->scale;
        f->zp = x->zero_point;
        return 1;
    }
    qmcu_fmap_format(vdq, p->g, qmcu_pad_source(p->g, p->spec.split, t), f->s, &f->zp);
    for (c = 1; c < c_n; c++)
        if (f->s[c] != f->s[0]) f->per_channel = 1;
    return 1;
}

static qmcu_status nomem(const qmcu_graph *g, qmcu_error *err)
{
    qmcu_error_set(err, "%s: out of memory", g->path);
    return QMCU_ERR_NOMEM;
}

/* Variants own the arrays that differ from their prepared op's. */
static void free_variant(const qmcu_prepared_op *po, qmcu_lowbit_variant *v)
{
    if (v->rq.multiplier != po->u.conv.rq.multiplier) free((void *)v->rq.multiplier);
    if (v->rq.shift != po->u.conv.rq.shift) free((void *)v->rq.shift);
    if (v->bias != po->u.conv.bias) free((void *)v->bias);
    free((void *)v->weights);
    free((void *)v->elt_c);
    free((void *)v->code_max);
}

static int32_t round_sat32(double v)
{
    return (int32_t)(v > 2147483647.0 ? 2147483647.0 : (v < -2147483648.0 ? -2147483648.0 : llround(v)));
}

static qmcu_status prepare_add(const qmcu_model *m, int i, int idx, const format *f0, const format *f1,
                               const format *fy, qmcu_lowbit_variant *v, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const int32_t c_n = TENSOR(m, g->ops[i].out)->dims[3];
    qmcu_eltwise_params *pc;
    int32_t c;
    if (!idx) {
        v->elt = m->ops[i].u.elt;
        return QMCU_OK;
    }
    if (!f0->per_channel && !f1->per_channel && !fy->per_channel) /* clamped to the activation only */
        return qmcu_eltwise_prepare(g, i, f0->s[0], f0->zp, f1->s[0], f1->zp, fy->s[0], fy->zp, &v->elt, err);
    if (!(pc = (qmcu_eltwise_params *)calloc((size_t)c_n, sizeof *pc))) return nomem(g, err);
    v->elt_c = pc; /* owned from here */
    for (c = 0; c < c_n; c++)
        if (qmcu_eltwise_prepare(g, i, f0->s[c], f0->zp, f1->s[c], f1->zp, fy->s[c], fy->zp, &pc[c], err) != QMCU_OK)
            return QMCU_ERR_FORMAT;
    return QMCU_OK;
}

/* Real-valued weight [o][k] of a conv / depthwise filter (per-channel or per-tensor scale). */
static double real_weight(const qmcu_tensor *w, int32_t o, int64_t k_index)
{
    const int8_t q = ((const int8_t *)w->data)[k_index];
    return (double)w->scales[w->n_scales > 1 ? o : 0] * (double)(q - w->zero_point);
}

/* Conv reader of a per-channel input: weights re-quantized with the input channel scales folded in
 * (w_scale[o]: the new weight scale per output channel); bias in the new accumulator unit. */
static qmcu_status conv_weight_variant(const qmcu_model *m, int i, const format *f0, qmcu_lowbit_variant *v,
                                       double *w_scale, int32_t *bias, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *w = TENSOR(m, op->in[1]);
    const qmcu_tensor *b = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2]) : NULL;
    const int32_t oc = w->dims[0], cin = w->dims[3];
    const int64_t k = qmcu_tensor_elems(w) / oc;
    int8_t *nw = (int8_t *)malloc((size_t)qmcu_tensor_elems(w));
    int32_t o;
    int64_t j;
    if (!nw) return nomem(g, err);
    v->weights = nw; /* owned from here */
    for (o = 0; o < oc; o++) {
        double amax = 0.0;
        for (j = 0; j < k; j++) {
            const double r = fabs(real_weight(w, o, o * k + j) * (double)f0->s[j % cin]);
            if (r > amax) amax = r;
        }
        w_scale[o] = amax > 0.0 ? amax / 127.0 : 1.0;
        for (j = 0; j < k; j++) {
            const double r = real_weight(w, o, o * k + j) * (double)f0->s[j % cin] / w_scale[o];
            nw[o * k + j] = (int8_t)(r > 127.0 ? 127 : (r < -127.0 ? -127 : lround(r)));
        }
        /* TFLite's bias is in units of the original input scale x weight scale */
        bias[o] = b ? round_sat32((double)((const int32_t *)b->data)[o] * (double)x->scale *
                                  (double)w->scales[w->n_scales > 1 ? o : 0] / w_scale[o])
                    : 0;
    }
    return QMCU_OK;
}

static qmcu_status set_multipliers(const qmcu_graph *g, int i, const double *real, int32_t oc, qmcu_lowbit_variant *v,
                                   qmcu_error *err)
{
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc),
            *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    int32_t o;
    v->rq.multiplier = mult; /* owned from here (free_variant) */
    v->rq.shift = shift;
    if (!mult || !shift) return nomem(g, err);
    for (o = 0; o < oc; o++) {
        int sh;
        if (!(real[o] >= 0.0 && real[o] < 65536.0)) {
            qmcu_error_set(err, "%s: op %d: a low-bit format gives a rescale factor of %g", g->path, i, real[o]);
            return QMCU_ERR_FORMAT;
        }
        qmcu_quantize_multiplier(real[o], &mult[o], &sh);
        shift[o] = sh;
    }
    return QMCU_OK;
}

/* Conv / depthwise with a per-channel format on either side. */
static qmcu_status prepare_conv_per_channel(const qmcu_model *m, int i, const format *f0, const format *fy,
                                            qmcu_lowbit_variant *v, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *w = TENSOR(m, op->in[1]);
    const qmcu_tensor *b = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2]) : NULL;
    const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D;
    const int32_t oc = qmcu_op_out_channels(g, op), k = (int32_t)(qmcu_tensor_elems(w) / (dw ? 1 : oc));
    double *real = (double *)malloc(sizeof(double) * (size_t)oc),
           *w_scale = (double *)malloc(sizeof(double) * (size_t)oc);
    int32_t *bias = (int32_t *)calloc((size_t)oc, sizeof(int32_t));
    qmcu_status st = real && w_scale && bias ? QMCU_OK : nomem(g, err);
    int32_t o;
    v->bias = bias;                                /* owned from here */
    if (st == QMCU_OK && !dw && f0->per_channel) { /* re-quantized weights */
        st = conv_weight_variant(m, i, f0, v, w_scale, bias, err);
        v->conv.filter_offset = 0;
        for (o = 0; st == QMCU_OK && o < oc; o++) real[o] = w_scale[o] / (double)fy->s[o];
    } else if (st == QMCU_OK) { /* depthwise (input channel = o / depth multiplier) or per-tensor input */
        for (o = 0; o < oc; o++) {
            const double s_in = (double)f0->s[dw ? o / op->depth_multiplier : 0];
            const double s_w = (double)w->scales[w->n_scales > 1 ? o : 0];
            real[o] = s_in * s_w / (double)fy->s[o];
            bias[o] = b ? round_sat32((double)((const int32_t *)b->data)[o] * (double)x->scale / s_in) : 0;
        }
    }
    if (st == QMCU_OK) st = set_multipliers(g, i, real, oc, v, err);
    if (st == QMCU_OK && !dw)
        qmcu_conv_fold_bias(&v->conv, oc, k, v->weights ? v->weights : (const int8_t *)w->data, bias, bias);
    free(real);
    free(w_scale);
    return st;
}

/* Conv / depthwise with per-tensor formats (version 1): TFLite's multiplier formula for the new
 * scale pair; with a low-bit input the bias is rescaled to it (conv folds the new offset). */
static qmcu_status prepare_conv_per_tensor(const qmcu_model *m, int i, int in0_low, const format *f0, const format *fy,
                                           qmcu_lowbit_variant *v, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_tensor *w = TENSOR(m, op->in[1]);
    const qmcu_tensor *b = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2]) : NULL;
    const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D;
    const int32_t oc = qmcu_op_out_channels(g, op), k = (int32_t)(qmcu_tensor_elems(w) / (dw ? 1 : oc));
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc),
            *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    int32_t c, *bias;
    v->rq.multiplier = mult; /* owned from here (free_variant) */
    v->rq.shift = shift;
    if (!mult || !shift) return nomem(g, err);
    if (qmcu_conv_multipliers(g, i, f0->s[0], fy->s[0], mult, shift, err) != QMCU_OK) return QMCU_ERR_FORMAT;
    if (!in0_low) return QMCU_OK;
    /* the int32 bias is in units of input scale x weight scale: rescale it to the low-bit input scale */
    if (!(bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc))) return nomem(g, err);
    v->bias = bias; /* owned from here */
    for (c = 0; c < oc; c++)
        bias[c] = b ? round_sat32((double)((const int32_t *)b->data)[c] * (double)TENSOR(m, op->in[0])->scale /
                                  (double)f0->s[0])
                    : 0;
    if (!dw) qmcu_conv_fold_bias(&v->conv, oc, k, (const int8_t *)w->data, bias, bias);
    return QMCU_OK;
}

static qmcu_status prepare_variant(const qmcu_model *m, const qmcu_plan *p, const qmcu_vdq *vdq, int i, int idx,
                                   qmcu_lowbit_variant *v, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const int in0_low = idx & 1, in1_low = (idx >> 1) & 1, out_low = (idx >> 2) & 1;
    format f0 = {NULL, 0, 0}, f1 = {NULL, 0, 0}, fy = {NULL, 0, 0};
    qmcu_status st = QMCU_OK;
    v->valid = 1;
    if (qmcu_is_conv(op->type)) { /* the prepared op's parameters until the combination replaces them */
        v->conv = po->u.conv.params;
        v->rq = po->u.conv.rq;
        v->bias = po->u.conv.bias;
    }
    if (!format_of(p, vdq, op->in[0], in0_low, &f0) || !format_of(p, vdq, op->out, out_low, &fy) ||
        (op->type == QMCU_OP_ADD && !format_of(p, vdq, op->in[1], in1_low, &f1))) {
        st = nomem(g, err);
    } else if (op->type == QMCU_OP_PAD) {
        v->pad_value = (int8_t)fy.zp;
    } else if (op->type == QMCU_OP_ADD) {
        st = prepare_add(m, i, idx, &f0, &f1, &fy, v, err);
    } else if (idx) { /* conv / depthwise in a low-bit combination */
        v->conv.input_offset = -f0.zp;
        v->conv.output_offset = fy.zp;
        qmcu_activation_range(op->act, fy.s[0], fy.zp, &v->conv.act_min, &v->conv.act_max);
        if (fy.per_channel) { /* the activation's upper bound differs per channel: code_max below */
            qmcu_activation_range(QMCU_ACT_RELU, fy.s[0], fy.zp, &v->conv.act_min, &v->conv.act_max);
            if (op->act == QMCU_ACT_NONE) v->conv.act_min = -128;
            v->conv.act_max = 127;
            if (op->act == QMCU_ACT_RELU6 || op->act == QMCU_ACT_RELU_N1_TO_1) {
                const int32_t c_n = TENSOR(m, op->out)->dims[3];
                int8_t *cm = (int8_t *)malloc((size_t)c_n);
                int32_t c, lo, hi;
                v->code_max = cm; /* owned from here */
                if (!cm) st = nomem(g, err);
                for (c = 0; cm && c < c_n; c++) {
                    qmcu_activation_range(op->act, fy.s[c], fy.zp, &lo, &hi);
                    cm[c] = (int8_t)hi;
                    /* the kernel clamps at the largest bound: no code above every bound reaches
                       the settling (same codes, fewer to settle; ReLU6 maps at their range's top) */
                    if (c == 0 || hi > v->conv.act_max) v->conv.act_max = hi;
                }
            }
        }
        if (st == QMCU_OK)
            st = f0.per_channel || fy.per_channel ? prepare_conv_per_channel(m, i, &f0, &fy, v, err)
                                                  : prepare_conv_per_tensor(m, i, in0_low, &f0, &fy, v, err);
    }
    free(f0.s);
    free(f1.s);
    free(fy.s);
    return st;
}

/* The conversions of a halo-cached op's low-bit output map (runtime.h, qmcu_lowbit_op): 8 bits <->
 * the map's codes, per channel, through real values. */
static qmcu_status prepare_cache_convert(const qmcu_model *m, const qmcu_plan *p, const qmcu_vdq *vdq, int i,
                                         qmcu_lowbit_op *lo, int keep, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const qmcu_tensor *y = TENSOR(m, g->ops[i].out);
    const int32_t c_n = y->dims[3];
    const int bits = planned_bits(p, vdq, g->ops[i].out);
    double *up = (double *)malloc(sizeof(double) * (size_t)c_n), *down = (double *)malloc(sizeof(double) * (size_t)c_n);
    qmcu_lowbit_variant tmp_up, tmp_down;
    format f = {NULL, 0, 0};
    qmcu_status st = up && down && format_of(p, vdq, g->ops[i].out, 1, &f) ? QMCU_OK : nomem(g, err);
    int32_t c, idx;
    memset(&tmp_up, 0, sizeof tmp_up);
    memset(&tmp_down, 0, sizeof tmp_down);
    for (c = 0; st == QMCU_OK && c < c_n; c++) {
        up[c] = (double)f.s[c] / (double)y->scale;   /* codes -> 8 bits */
        down[c] = (double)y->scale / (double)f.s[c]; /* 8 bits -> codes */
    }
    if (st == QMCU_OK) st = set_multipliers(g, i, up, c_n, &tmp_up, err);
    lo->to_int8.rq = tmp_up.rq; /* owned from here */
    if (st == QMCU_OK) st = set_multipliers(g, i, down, c_n, &tmp_down, err);
    lo->to_codes.rq = tmp_down.rq;
    lo->to_int8.in_zp = f.zp;
    lo->to_int8.out_zp = y->zero_point;
    lo->to_int8.lo = -128;
    lo->to_int8.hi = 127;
    lo->to_codes.in_zp = y->zero_point;
    lo->to_codes.out_zp = f.zp;
    lo->to_codes.lo = keep ? -128 : 0; /* kept outliers stay extended codes; else they saturate */
    lo->to_codes.hi = keep ? 127 : (1 << bits) - 1;
    for (idx = 4; idx < 8; idx++) /* the activation's per-channel bound in code space, as the producer has it */
        if (lo->v[idx].valid && lo->v[idx].code_max) lo->to_codes.code_max = lo->v[idx].code_max;
    free(up);
    free(down);
    free(f.s);
    return st;
}

void qmcu_lowbit_data_free(const qmcu_model *m, qmcu_lowbit_data *d)
{
    int i, idx;
    if (!d) return;
    for (i = 0; d->ops && i < d->n_ops; i++) {
        for (idx = 0; idx < 8; idx++)
            if (d->ops[i].v[idx].valid) free_variant(&m->ops[i], &d->ops[i].v[idx]);
        free((void *)d->ops[i].to_int8.rq.multiplier);
        free((void *)d->ops[i].to_int8.rq.shift);
        free((void *)d->ops[i].to_codes.rq.multiplier);
        free((void *)d->ops[i].to_codes.rq.shift);
    }
    free(d->ops);
    free(d->bits);
    free(d->tau);
    free(d->keep);
    free(d->store);
    free(d->outlier_macs);
    free(d);
}

qmcu_status qmcu_lowbit_prepare(const qmcu_model *m, const qmcu_plan *p, const qmcu_vdq *vdq, qmcu_lowbit_data **out,
                                qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    qmcu_lowbit_data *d;
    int i, idx, t;
    *out = NULL;
    if (!p->spec.quantmcu || p->spec.split == 0) {
        qmcu_error_set(err, "%s: a QuantMCU plan needs a patch stage", g->path);
        return QMCU_ERR_ARG;
    }
    if (g->n_tensors > QMCU_LOWBIT_MAX_TENSORS) {
        qmcu_error_set(err, "%s: %d tensors, more than the %d QuantMCU execution handles", g->path, g->n_tensors,
                       QMCU_LOWBIT_MAX_TENSORS);
        return QMCU_ERR_UNSUPPORTED;
    }
    d = (qmcu_lowbit_data *)calloc(1, sizeof *d);
    if (!d || !(d->ops = (qmcu_lowbit_op *)calloc((size_t)p->spec.split, sizeof *d->ops)) ||
        !(d->bits = (uint8_t *)malloc((size_t)g->n_tensors)) ||
        !(d->tau = (int32_t *)calloc((size_t)g->n_tensors, sizeof(int32_t))) ||
        !(d->keep = (uint8_t *)calloc((size_t)g->n_tensors, 1)) ||
        !(d->outlier_macs = (int32_t *)calloc((size_t)g->n_tensors, sizeof(int32_t)))) {
        qmcu_lowbit_data_free(m, d);
        return nomem(g, err);
    }
    d->n_ops = p->spec.split;
    for (t = 0; t < g->n_tensors; t++) { /* bits on normal tiles of the maps producers requantize into */
        const qmcu_fmap *fm = t < vdq->n_tensors ? &vdq->fmap[t] : NULL;
        d->bits[t] = (uint8_t)(fm && fm->in_scope ? fm->bits : 8);
        d->tau[t] = fm && fm->in_scope && vdq->opt.scheme >= QMCU_SCHEME_V2 ? fm->tau[fm->bits] : 0;
    }
    for (t = 0; t < g->n_tensors; t++) { /* kept outlier values: the map's (a PAD output follows its source) */
        const int src = qmcu_pad_source(g, p->spec.split, t);
        d->keep[t] = (uint8_t)(vdq->opt.scheme >= QMCU_SCHEME_V2 && vdq->opt.keep_outliers && src < vdq->n_tensors &&
                               vdq->fmap[src].in_scope && vdq->fmap[src].bits < 8);
    }
    if (p->spec.packed) { /* version 3: how each map is stored; packed maps saturate their outliers */
        if (!(d->store = (uint8_t *)malloc((size_t)g->n_tensors))) {
            qmcu_lowbit_data_free(m, d);
            return nomem(g, err);
        }
        for (t = 0; t < g->n_tensors; t++) {
            const int src = qmcu_pad_source(g, p->spec.split, t);
            const qmcu_tensor *x = TENSOR(m, t);
            int st = 8;
            if (qmcu_plan_lowbit_map(p, t) && src < vdq->n_tensors && vdq->fmap[src].in_scope) {
                st = qmcu_lowbit_store_bits(vdq->fmap[src].bits, x->dims[3]);
                if (p->spec.tensor_bits && qmcu_lowbit_store_bits(p->spec.tensor_bits[src], x->dims[3]) != st) {
                    qmcu_error_set(err, "%s: the plan's buffers are sized for %d-bit codes of tensor %d, its format has %d bits",
                                   g->path, qmcu_lowbit_store_bits(p->spec.tensor_bits[src], x->dims[3]), t,
                                   vdq->fmap[src].bits);
                    qmcu_lowbit_data_free(m, d);
                    return QMCU_ERR_FORMAT;
                }
            }
            d->store[t] = (uint8_t)st;
            if (st < 8) d->keep[t] = 0;
        }
    }
    for (i = 0; i < p->spec.split; i++) { /* a conv reader's MACs per input element, summed per map */
        const qmcu_op *op = &g->ops[i];
        const int src = qmcu_pad_source(g, p->spec.split, op->in[0]);
        if (qmcu_is_conv(op->type))
            d->outlier_macs[src] += (int32_t)(qmcu_op_macs(g, op) / qmcu_tensor_elems(TENSOR(m, op->in[0])));
    }
    for (i = 0; i < p->spec.split; i++) {
        const qmcu_op *op = &g->ops[i];
        const qmcu_tensor *y = TENSOR(m, op->out);
        qmcu_lowbit_op *lo = &d->ops[i];
        const int low0 = planned_bits(p, vdq, op->in[0]) < 8;
        const int low1 = op->type == QMCU_OP_ADD && planned_bits(p, vdq, op->in[1]) < 8;
        const int lowy = op->type == QMCU_OP_PAD ? low0 : planned_bits(p, vdq, op->out) < 8;
        if (y->ndim == 4) lo->macs_per_pixel = qmcu_op_macs(g, op) / ((int64_t)y->dims[1] * y->dims[2]);
        if (!qmcu_op_has(op->type, QMCU_OPT_LOWBIT_READER) || y->type != QMCU_I8) continue;
        for (idx = 0; idx < 8; idx++) {
            qmcu_lowbit_variant *v = &lo->v[idx];
            if (((idx & 1) && !low0) || ((idx & 2) && !low1) || ((idx & 4) && !lowy)) continue;
            if (op->type == QMCU_OP_PAD && ((idx & 1) != ((idx >> 2) & 1))) continue;
            if (prepare_variant(m, p, vdq, i, idx, v, err) != QMCU_OK) {
                qmcu_lowbit_data_free(m, d);
                return QMCU_ERR_FORMAT;
            }
            if (v->weights) d->weight_variant_bytes += (size_t)qmcu_tensor_elems(TENSOR(m, op->in[1]));
        }
        if (lowy && p->halo[i] && op->out != p->split_tensor &&
            prepare_cache_convert(m, p, vdq, i, lo, d->keep[op->out], err) != QMCU_OK) {
            qmcu_lowbit_data_free(m, d);
            return QMCU_ERR_FORMAT;
        }
    }
    *out = d;
    return QMCU_OK;
}
