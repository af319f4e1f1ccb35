/* QuantMCU: derives, for every patch op, the kernel parameters of each input/output format
 * combination (8-bit or the plan's low-bit format): multipliers for the new scale pair, the
 * int32 bias rescaled to the new input scale (conv folds the new input offset into it), the
 * activation range in the output's code domain. Host only (allocates). */
#include <math.h>
#include <stdlib.h>

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

static void format_quant(const qmcu_plan *p, const qmcu_vdq *vdq, int t, int low, float *scale, int32_t *zp)
{
    const qmcu_tensor *x = &p->g->tensors[t];
    if (!low) {
        *scale = x->scale;
        *zp = x->zero_point;
        return;
    }
    t = qmcu_pad_source(p->g, p->spec.split, t);
    qmcu_lowbit_quant(vdq->fmap[t].lo, vdq->fmap[t].hi, vdq->fmap[t].bits, scale, zp);
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
}

static qmcu_status prepare_variant(const qmcu_model *m, const qmcu_plan *p, const qmcu_vdq *vdq, int i, int idx,
                                   qmcu_lowbit_variant *v, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const int in0_low = idx & 1, in1_low = (idx >> 1) & 1, out_low = (idx >> 2) & 1;
    float s0, s1 = 0.0f, sy;
    int32_t z0, z1 = 0, zy;
    format_quant(p, vdq, op->in[0], in0_low, &s0, &z0);
    if (op->type == QMCU_OP_ADD) format_quant(p, vdq, op->in[1], in1_low, &s1, &z1);
    format_quant(p, vdq, op->out, out_low, &sy, &zy);
    v->valid = 1;
    if (op->type == QMCU_OP_PAD) {
        v->pad_value = (int8_t)zy;
        return QMCU_OK;
    }
    if (op->type == QMCU_OP_ADD) {
        if (!idx) {
            v->elt = po->u.elt;
            return QMCU_OK;
        }
        /* clamped to the activation's range only: codes beyond 0 .. 2^b-1 stay visible */
        return qmcu_eltwise_prepare(g, i, s0, z0, s1, z1, sy, zy, &v->elt, err);
    }
    /* conv / depthwise */
    v->conv = po->u.conv.params;
    v->rq = po->u.conv.rq;
    v->bias = po->u.conv.bias;
    if (!idx) return QMCU_OK;
    {
        const qmcu_tensor *w = TENSOR(m, op->in[1]);
        const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D;
        const int32_t oc = qmcu_op_out_channels(g, op);
        const int32_t k = (int32_t)(qmcu_tensor_elems(w) / (dw ? 1 : oc));
        const qmcu_tensor *b = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2]) : NULL;
        int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc),
                *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
        v->rq.multiplier = mult; /* owned from here (free_variant) */
        v->rq.shift = shift;
        if (!mult || !shift) return nomem(g, err);
        if (qmcu_conv_multipliers(g, i, s0, sy, mult, shift, err) != QMCU_OK) return QMCU_ERR_FORMAT;
        v->conv.input_offset = -z0;
        v->conv.output_offset = zy;
        qmcu_activation_range(op->act, sy, zy, &v->conv.act_min, &v->conv.act_max);
        if (in0_low) {
            /* the int32 bias is in units of input scale x weight scale: rescale it to the
             * low-bit input scale; conv then folds the new input offset into it */
            const float s_orig = TENSOR(m, op->in[0])->scale;
            int32_t c, *bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
            v->bias = bias; /* owned from here */
            if (!bias) return nomem(g, err);
            for (c = 0; c < oc; c++) {
                const double raw = b ? (double)((const int32_t *)b->data)[c] * (double)s_orig / (double)s0 : 0.0;
                bias[c] =
                    (int32_t)(raw > 2147483647.0 ? 2147483647.0 : (raw < -2147483648.0 ? -2147483648.0 : lround(raw)));
            }
            if (!dw) qmcu_conv_fold_bias(&v->conv, oc, k, (const int8_t *)w->data, bias, bias);
        }
    }
    return QMCU_OK;
}

void qmcu_lowbit_data_free(const qmcu_model *m, qmcu_lowbit_data *d)
{
    int i, idx;
    if (!d) return;
    for (i = 0; d->ops && i < d->n_ops; i++)
        if (qmcu_is_conv(m->g->ops[i].type))
            for (idx = 0; idx < 8; idx++)
                if (d->ops[i].v[idx].valid) free_variant(&m->ops[i], &d->ops[i].v[idx]);
    free(d->ops);
    free(d->bits);
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
        !(d->bits = (uint8_t *)malloc((size_t)g->n_tensors))) {
        qmcu_lowbit_data_free(m, d);
        return nomem(g, err);
    }
    d->n_ops = p->spec.split;
    for (t = 0; t < g->n_tensors; t++) /* bits on normal tiles of the maps producers requantize into */
        d->bits[t] = (uint8_t)(t < vdq->n_tensors && vdq->fmap[t].in_scope ? vdq->fmap[t].bits : 8);
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
            if (((idx & 1) && !low0) || ((idx & 2) && !low1) || ((idx & 4) && !lowy)) continue;
            if (op->type == QMCU_OP_PAD && ((idx & 1) != ((idx >> 2) & 1))) continue;
            if (prepare_variant(m, p, vdq, i, idx, &lo->v[idx], err) != QMCU_OK) {
                if (qmcu_is_conv(op->type)) free_variant(&m->ops[i], &lo->v[idx]);
                lo->v[idx].valid = 0;
                qmcu_lowbit_data_free(m, d);
                return QMCU_ERR_FORMAT;
            }
        }
    }
    *out = d;
    return QMCU_OK;
}
