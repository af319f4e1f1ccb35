/* QuantMCU: derives, for every patch op, the kernel parameters of each input/output format
 * combination (8-bit or the plan's low-bit format): multipliers for the new scale pair, the
 * int32 bias rescaled to the new input scale (conv folds the new input offset into it), the
 * activation range in the output's code domain. Host only (allocates). */
#include <math.h>
#include <stdlib.h>

#include "../kernels/qmcu_fixedpoint.h"
#include "lowbit.h"

#define TENSOR(m, i) (&(m)->g->tensors[(i)])

/* Bits tensor t has on a normal tile under the plan (8 when it is not a low-bit feature map);
 * PAD outputs follow their input. */
static int planned_bits(const qmcu_plan *p, int t)
{
    t = qmcu_pad_source(p->g, p->spec.split, t); /* a PAD output has its input's format */
    if (t < 0 || t >= p->vdq->n_tensors || !p->vdq->fmap[t].in_scope || t == p->split_tensor) return 8;
    return p->vdq->fmap[t].bits;
}

static void format_quant(const qmcu_plan *p, int t, int low, float *scale, int32_t *zp)
{
    const qmcu_tensor *x = &p->g->tensors[t];
    if (!low) {
        *scale = x->scale;
        *zp = x->zero_point;
        return;
    }
    t = qmcu_pad_source(p->g, p->spec.split, t);
    qmcu_lowbit_quant(p->vdq->fmap[t].lo, p->vdq->fmap[t].hi, p->vdq->fmap[t].bits, scale, zp);
}

static qmcu_status prepare_variant(const qmcu_model *m, const qmcu_plan *p, int i, int idx, lowbit_variant *v,
                                   qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const int in0_low = idx & 1, in1_low = (idx >> 1) & 1, out_low = (idx >> 2) & 1;
    float s0, s1 = 0.0f, sy;
    int32_t z0, z1 = 0, zy;
    format_quant(p, op->in[0], in0_low, &s0, &z0);
    if (op->type == QMCU_OP_ADD) format_quant(p, op->in[1], in1_low, &s1, &z1);
    format_quant(p, op->out, out_low, &sy, &zy);
    v->valid = 1;
    if (op->type == QMCU_OP_PAD) {
        v->pad_value = (int8_t)zy;
        return QMCU_OK;
    }
    if (op->type == QMCU_OP_ADD) {
        if (!idx) {
            v->elt = po->elt;
            return QMCU_OK;
        }
        /* clamped to the activation's range only: codes beyond 0 .. 2^b-1 stay visible */
        return qmcu_eltwise_prepare(g, i, s0, z0, s1, z1, sy, zy, &v->elt, err);
    }
    /* conv / depthwise */
    v->conv = po->conv;
    v->rq = po->rq;
    v->bias = po->bias;
    if (!idx) return QMCU_OK;
    {
        const qmcu_tensor *w = TENSOR(m, op->in[1]);
        const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D;
        const int32_t oc = dw ? w->dims[3] : w->dims[0];
        const int32_t k = (int32_t)(qmcu_tensor_elems(w) / (dw ? 1 : oc));
        const qmcu_tensor *b = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2]) : NULL;
        v->own_multiplier = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
        v->own_shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
        if (!v->own_multiplier || !v->own_shift) {
            qmcu_error_set(err, "%s: out of memory", g->path);
            return QMCU_ERR_NOMEM;
        }
        if (qmcu_conv_multipliers(g, i, s0, sy, v->own_multiplier, v->own_shift, err) != QMCU_OK) return QMCU_ERR_FORMAT;
        v->rq.multiplier = v->own_multiplier;
        v->rq.shift = v->own_shift;
        v->conv.input_offset = -z0;
        v->conv.output_offset = zy;
        qmcu_activation_range(op->act, sy, zy, &v->conv.act_min, &v->conv.act_max);
        if (in0_low) {
            /* the int32 bias is in units of input scale x weight scale: rescale it to the
             * low-bit input scale; conv then folds the new input offset into it */
            const float s_orig = TENSOR(m, op->in[0])->scale;
            int32_t c;
            v->own_bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
            if (!v->own_bias) {
                qmcu_error_set(err, "%s: out of memory", g->path);
                return QMCU_ERR_NOMEM;
            }
            for (c = 0; c < oc; c++) {
                const double raw = b ? (double)((const int32_t *)b->data)[c] * (double)s_orig / (double)s0 : 0.0;
                v->own_bias[c] = (int32_t)(raw > 2147483647.0 ? 2147483647.0 : (raw < -2147483648.0 ? -2147483648.0 : lround(raw)));
            }
            if (!dw) qmcu_conv_fold_bias(&v->conv, oc, k, (const int8_t *)w->data, v->own_bias, v->own_bias);
            v->bias = v->own_bias;
        }
    }
    return QMCU_OK;
}

qmcu_status qmcu_lowbit_prepare(const qmcu_model *m, qmcu_plan *p, qmcu_vdq *vdq, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    int i, idx;
    if (!p->spec.quantmcu || p->spec.split == 0) {
        qmcu_error_set(err, "%s: a QuantMCU plan needs a patch stage", g->path);
        return QMCU_ERR_ARG;
    }
    qmcu_lowbit_free(p);
    if (p->vdq != vdq) qmcu_vdq_free(p->vdq);
    p->vdq = vdq;
    p->lowbit = (struct qmcu_lowbit_op_s *)calloc((size_t)p->spec.split, sizeof *p->lowbit);
    if (!p->lowbit) {
        qmcu_error_set(err, "%s: out of memory", g->path);
        return QMCU_ERR_NOMEM;
    }
    for (i = 0; i < p->spec.split; i++) {
        const qmcu_op *op = &g->ops[i];
        const qmcu_tensor *y = TENSOR(m, op->out);
        struct qmcu_lowbit_op_s *lo = &p->lowbit[i];
        const int low0 = planned_bits(p, op->in[0]) < 8;
        const int low1 = op->type == QMCU_OP_ADD && planned_bits(p, op->in[1]) < 8;
        const int lowy = op->type == QMCU_OP_PAD ? low0 : planned_bits(p, op->out) < 8;
        if (y->ndim == 4) lo->macs_per_pixel = qmcu_op_macs(g, op) / ((int64_t)y->dims[1] * y->dims[2]);
        if (!qmcu_lowbit_capable(op->type) || y->type != QMCU_I8) continue;
        for (idx = 0; idx < 8; idx++) {
            if (((idx & 1) && !low0) || ((idx & 2) && !low1) || ((idx & 4) && !lowy)) continue;
            if (op->type == QMCU_OP_PAD && ((idx & 1) != ((idx >> 2) & 1))) continue;
            if (prepare_variant(m, p, i, idx, &lo->v[idx], err) != QMCU_OK) {
                qmcu_lowbit_free(p);
                return QMCU_ERR_FORMAT;
            }
        }
    }
    return QMCU_OK;
}

void qmcu_lowbit_free(qmcu_plan *p)
{
    int i, idx;
    if (!p->lowbit) return;
    for (i = 0; i < p->spec.split; i++)
        for (idx = 0; idx < 8; idx++) {
            free(p->lowbit[i].v[idx].own_multiplier);
            free(p->lowbit[i].v[idx].own_shift);
            free(p->lowbit[i].v[idx].own_bias);
        }
    free(p->lowbit);
    p->lowbit = NULL;
}

