#include "cost_model.h"

/* Coefficients per kind: instructions per MAC, per output element, per input element, per output
 * row, per call.
 * Fitted by bench/cost_model.sh (least squares on per-op `mcu --profile` instructions, the ~60
 * instructions of profiling per op execution removed first). */
static const double k_coef[QMCU_COST_KINDS][5] = {
#include "cost_model_coef.inc"
};

static const char *const k_names[QMCU_COST_KINDS] = {"pointwise", "conv", "depthwise", "dw_large", "fc",
                                                      "add",       "pad",  "pad_layer", "quantize", "other"};

qmcu_cost_kind qmcu_cost_kind_of(const qmcu_plan *p, int i)
{
    const qmcu_graph *g = p->g;
    const qmcu_op *op = &g->ops[i];
    switch (op->type) {
    case QMCU_OP_CONV_2D: {
        const qmcu_tensor *w = &g->tensors[op->in[1]];
        return w->dims[1] == 1 && w->dims[2] == 1 ? QMCU_COST_POINTWISE : QMCU_COST_CONV;
    }
    case QMCU_OP_DEPTHWISE_CONV_2D:
        return g->tensors[op->in[1]].dims[1] * g->tensors[op->in[1]].dims[2] > 9 ? QMCU_COST_DEPTHWISE_LARGE
                                                                                 : QMCU_COST_DEPTHWISE;
    case QMCU_OP_FULLY_CONNECTED: return QMCU_COST_FC;
    case QMCU_OP_ADD: return QMCU_COST_ADD;
    case QMCU_OP_PAD: return i < p->spec.split ? QMCU_COST_PAD : QMCU_COST_PAD_LAYER;
    case QMCU_OP_QUANTIZE:
    case QMCU_OP_DEQUANTIZE:
        return g->tensors[op->in[0]].type == QMCU_F32 || g->tensors[op->out].type == QMCU_F32 ? QMCU_COST_QUANTIZE
                                                                                                : QMCU_COST_OTHER;
    default: return QMCU_COST_OTHER;
    }
}

const char *qmcu_cost_kind_name(qmcu_cost_kind k)
{
    return (unsigned)k < (unsigned)QMCU_COST_KINDS ? k_names[k] : "?";
}

int64_t qmcu_cost_out_elems(const qmcu_plan *p, int i, const qmcu_op_work *w)
{
    const qmcu_tensor *y = &p->g->tensors[p->g->ops[i].out];
    return y->ndim == 4 ? w->pixels * y->dims[3] : qmcu_tensor_elems(y);
}

int64_t qmcu_cost_in_elems(const qmcu_plan *p, int i, const qmcu_op_work *w)
{
    const qmcu_tensor *x = &p->g->tensors[p->g->ops[i].in[0]], *y = &p->g->tensors[p->g->ops[i].out];
    if (x->ndim == 4 && y->ndim == 4) return w->pixels * x->dims[3];
    return qmcu_tensor_elems(x);
}

double qmcu_cost_predict_op(const qmcu_plan *p, int i, const qmcu_op_work *w)
{
    const double *c = k_coef[qmcu_cost_kind_of(p, i)];
    if (i > 0 && p->fused_next[i - 1]) return 0.0; /* ran inside op i-1 */
    return c[0] * (double)w->macs + c[1] * (double)qmcu_cost_out_elems(p, i, w) +
           c[2] * (double)qmcu_cost_in_elems(p, i, w) + c[3] * (double)w->rows + c[4] * (double)w->calls;
}

double qmcu_cost_predict(const qmcu_plan *p)
{
    double s = 0.0;
    int i;
    for (i = 0; i < p->g->n_ops; i++) {
        qmcu_op_work w;
        qmcu_plan_op_work(p, i, &w);
        s += qmcu_cost_predict_op(p, i, &w);
    }
    return s;
}
