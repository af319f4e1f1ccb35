#include "cost_model.h"

#include "../runtime/lowbit_exec.h"

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

/* QuantMCU version 3 on the normal tiles: what a low-bit side adds to the op's int8 cost, per
 * element it writes in a low-bit format (settled and packed: a word per 8 codes on the 4-bit plane,
 * plus the high plane of 5 / 6-bit maps) and per element it reads from a packed map (unpacked into
 * row staging; a depthwise op also moves its staged rows up). Per op kind and storage ([0]: 4 / 2
 * bits, [1]: 5 / 6-bit planes), least squares on the per-op difference between QuantMCU and int8 at
 * the same geometry (MobileNetV2 split 13, 4x4 cached, `mcu --profile`, board big, dev image 33;
 * two plans: 4-bit maps only, and 6/5/4-bit maps). README "Cost model". */
static const double k_lowbit_out[2][QMCU_COST_KINDS] = {{1.8, 1.8, 0.9, 0.9, 0, 2.0, 1.0, 0, 0, 0},
                                                        {6.8, 6.8, 4.3, 4.3, 0, 8.6, 2.0, 0, 0, 0}};
static const double k_packed_in[2][QMCU_COST_KINDS] = {{0.3, 0.3, 6.2, 6.2, 0, 0, 1.15, 0, 0, 0},
                                                       {0.3, 0.3, 4.0, 4.0, 0, 0, 2.0, 0, 0, 0}};
/* Per output row of an op with a low-bit side (its kernel call, the row's staging and settling set
 * up): the mean residual per row of MobileNetV1-0.25 at 17K streamed (8x8 tiles of 16-32 px, 5/6-bit
 * planes: 3.9 M over 2924 rows), which the per-element terms fitted on MobileNetV2 miss. */
#define QMCU_COST_LOWBIT_ROW 1300.0

static double int8_op(const qmcu_plan *p, int i, const qmcu_op_work *w)
{
    const double *c = k_coef[qmcu_cost_kind_of(p, i)];
    return c[0] * (double)w->macs + c[1] * (double)qmcu_cost_out_elems(p, i, w) +
           c[2] * (double)qmcu_cost_in_elems(p, i, w) + c[3] * (double)w->rows + c[4] * (double)w->calls;
}

/* Version 3: the planned bits of patch map t and how it is stored (the QuantMCU tables, else a
 * plan sized for spec.tensor_bits, as the geometry search builds them); 8 for anything else. */
static int map_bits(const qmcu_plan *p, int t)
{
    const int src = qmcu_pad_source(p->g, p->spec.split, t);
    if (!p->spec.packed || !qmcu_plan_lowbit_map(p, t)) return 8;
    if (p->lowbit.bits) return p->lowbit.bits[src];
    return p->spec.tensor_bits ? p->spec.tensor_bits[src] : 8;
}

static int map_store(const qmcu_plan *p, int t)
{
    if (p->lowbit.store) return p->lowbit.store[t];
    return qmcu_lowbit_store_bits(map_bits(p, t), p->g->tensors[t].ndim == 4 ? p->g->tensors[t].dims[3] : 1);
}

double qmcu_cost_predict_op(const qmcu_plan *p, int i, const qmcu_op_work *w)
{
    const qmcu_op *op = &p->g->ops[i];
    double s;
    if (i > 0 && p->fused_next[i - 1]) return 0.0; /* ran inside op i-1 */
    s = int8_op(p, i, w);
    if (p->spec.packed && i < p->spec.split) {
        const qmcu_cost_kind k = qmcu_cost_kind_of(p, i);
        const int so = map_store(p, op->out), si = map_store(p, op->in[0]), low_out = map_bits(p, op->out) < 8;
        if (low_out) s += k_lowbit_out[so == 5 || so == 6][k] * (double)qmcu_cost_out_elems(p, i, w);
        if (si < 8) s += k_packed_in[si == 5 || si == 6][k] * (double)qmcu_cost_in_elems(p, i, w);
        if (low_out || map_bits(p, op->in[0]) < 8) s += QMCU_COST_LOWBIT_ROW * (double)w->rows;
    }
    return s;
}

/* An outlier tile of a version 3 plan again, as its 8-bit sub-tiles (every halo recomputed). */
static double fallback_tile(const qmcu_plan *p, int tile)
{
    const qmcu_graph *g = p->g;
    const int nsub = p->fallback_h * p->fallback_w, k = p->spec.split;
    double s = 0.0;
    int a, i;
    for (a = 0; a < nsub; a++)
        for (i = 0; i < k; i++) {
            const qmcu_window r = p->fallback_region[((size_t)tile * nsub + a) * k + i];
            const qmcu_tensor *y = &g->tensors[g->ops[i].out];
            qmcu_op_work w;
            if (qmcu_window_empty(r)) continue;
            w.pixels = (int64_t)(r.h1 - r.h0) * (r.w1 - r.w0);
            w.rows = r.h1 - r.h0;
            w.calls = 1;
            w.macs = qmcu_op_macs(g, &g->ops[i]) / ((int64_t)y->dims[1] * y->dims[2]) * w.pixels;
            s += int8_op(p, i, &w);
        }
    return s;
}

double qmcu_cost_predict(const qmcu_plan *p)
{
    double s = 0.0;
    int i, tile;
    for (i = 0; i < p->g->n_ops; i++) {
        qmcu_op_work w;
        qmcu_plan_op_work(p, i, &w);
        s += qmcu_cost_predict_op(p, i, &w);
    }
    if (p->lowbit.store && p->fallback_region && p->lowbit.outlier_tile_fraction > 0.0) /* expected fallbacks */
        for (tile = 0; tile < p->n_tiles; tile++) s += p->lowbit.outlier_tile_fraction * fallback_tile(p, tile);
    return s;
}
