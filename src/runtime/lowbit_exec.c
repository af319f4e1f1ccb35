/* QuantMCU execution of the patch stage: low-bit feature maps on normal tiles, 8 bits on
 * outlier tiles (VDPC, DESIGN.md §3).
 *
 * Per tile, each conv / depthwise / add / pad runs with the formats its inputs really have
 * and, for its output, the plan's low bit width unless the tile has switched. Low-bit rows
 * are staged: the input rows an output row reads are unpacked to int8 codes, the int8 kernel
 * computes the output row with the parameters of that format combination (multipliers,
 * offsets, folded bias derived at prepare time), and the row is packed. The requantization
 * is clamped to the activation's range only, so a code outside 0 .. 2^b - 1 shows the row
 * holds an outlier: the op is then recomputed at 8 bits with the original quantization and
 * every later feature map of the tile stays at 8 bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"
#include "interpreter.h"

#define TENSOR(m, i) (&(m)->g->tensors[(i)])

typedef struct {
    qmcu_conv_params conv;
    qmcu_requant rq;
    int32_t *own_multiplier, *own_shift, *own_bias; /* NULL when borrowed from the prepared op */
    const int32_t *bias;
    qmcu_eltwise_params elt;
    int8_t pad_value;
    int valid;
} lowbit_variant;

/* Variant index: input 0 low | input 1 low << 1 | output low << 2. */
struct qmcu_lowbit_op_s {
    lowbit_variant v[8];
    int64_t macs_per_pixel;
};

static int is_packed(int bits) { return bits == 4 || bits == 2; }

static int lowbit_capable(qmcu_op_type t)
{
    return t == QMCU_OP_CONV_2D || t == QMCU_OP_DEPTHWISE_CONV_2D || t == QMCU_OP_ADD || t == QMCU_OP_PAD;
}

/* Bits tensor t has on a normal tile under the plan (8 when it is not a low-bit feature map);
 * PAD outputs follow their input. */
static int planned_bits(const qmcu_plan *p, int t)
{
    const qmcu_graph *g = p->g;
    int i;
    for (i = 0; i < p->spec.split; i++)
        if (g->ops[i].out == t && g->ops[i].type == QMCU_OP_PAD) return planned_bits(p, g->ops[i].in[0]);
    if (t < 0 || t >= p->vdq->n_tensors || !p->vdq->fmap[t].in_scope || t == p->split_tensor) return 8;
    return p->vdq->fmap[t].bits;
}

static void format_quant(const qmcu_plan *p, int t, int low, float *scale, int32_t *zp)
{
    const qmcu_tensor *x = &p->g->tensors[t];
    int pt = t, i;
    if (!low) {
        *scale = x->scale;
        *zp = x->zero_point;
        return;
    }
    for (i = p->spec.split - 1; i >= 0; i--) /* a PAD output has its input's format */
        if (p->g->ops[i].out == pt && p->g->ops[i].type == QMCU_OP_PAD) pt = p->g->ops[i].in[0];
    qmcu_lowbit_quant(p->vdq->fmap[pt].lo, p->vdq->fmap[pt].hi, p->vdq->fmap[pt].bits, scale, zp);
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
        if (!lowbit_capable(op->type) || y->type != QMCU_I8) continue;
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

typedef struct {
    uint8_t *ptr;
    qmcu_window b;
    int bits;
} lb_view;

static size_t align16(size_t v) { return (v + 15) & ~(size_t)15; }

/* Codes of rows [r0, r1) x the whole buffer width, as int8: in place for byte-stored
 * formats, unpacked into `stage` for packed ones. */
static const int8_t *rows_of(const lb_view *v, int32_t c, int32_t r0, int32_t r1, int8_t *stage)
{
    const int64_t w = v->b.w1 - v->b.w0, start = (int64_t)(r0 - v->b.h0) * w * c;
    if (!is_packed(v->bits)) return (const int8_t *)v->ptr + start;
    qmcu_unpack(v->bits, v->ptr, start, (int32_t)((int64_t)(r1 - r0) * w * c), stage);
    return stage;
}

/* Codes of pixels [x0, x1) of row y. */
static const int8_t *span_of(const lb_view *v, int32_t c, int32_t y, int32_t x0, int32_t x1, int8_t *stage)
{
    const int64_t start = ((int64_t)(y - v->b.h0) * (v->b.w1 - v->b.w0) + (x0 - v->b.w0)) * c;
    if (!is_packed(v->bits)) return (const int8_t *)v->ptr + start;
    qmcu_unpack(v->bits, v->ptr, start, (x1 - x0) * c, stage);
    return stage;
}

/* Runs op i of a tile with the given formats, row by row. check: stop with *outlier = 1 at
 * the first code outside 0 .. 2^out_bits - 1. */
static qmcu_status run_staged(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int tile, int i, int b0, int b1,
                              int bout, int check, int *outlier)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const int idx = (b0 < 8) | ((b1 < 8) << 1) | ((bout < 8) << 2);
    const lowbit_variant *v = &p->lowbit[i].v[idx];
    const qmcu_window r = p->region[(size_t)tile * g->n_tensors + op->out];
    const int32_t cin = TENSOR(m, op->in[0])->dims[3], cout = TENSOR(m, op->out)->dims[3];
    const int32_t ow = r.w1 - r.w0, n = ow * cout, top = (1 << bout) - 1;
    const size_t stage_bytes = p->scratch_bytes[i];
    int8_t *scratch = (int8_t *)(mem + p->scratch_offset[i]);
    lb_view in0, in1, out;
    int8_t *stage_in, *stage_in1, *stage_out, *kscratch;
    size_t in_part, kbytes;
    int32_t y, j;
    if (!v->valid) return QMCU_ERR_ARG;
    in0.ptr = mem + p->tensor_offset[op->in[0]];
    in0.b = qmcu_plan_buffer_region(p, tile, i, op->in[0]);
    in0.bits = b0;
    out.ptr = mem + p->tensor_offset[op->out];
    out.b = qmcu_plan_buffer_region(p, tile, i, op->out);
    out.bits = bout;
    in1 = in0;
    if (op->type == QMCU_OP_ADD) {
        in1.ptr = mem + p->tensor_offset[op->in[1]];
        in1.b = qmcu_plan_buffer_region(p, tile, i, op->in[1]);
        in1.bits = b1;
    }
    /* scratch layout (planner: lowbit_staging): input rows | output row | kernel scratch */
    in_part = op->type == QMCU_OP_ADD ? 2 * (size_t)ow * (size_t)cin : 0;
    if (op->type == QMCU_OP_CONV_2D || op->type == QMCU_OP_DEPTHWISE_CONV_2D) {
        const qmcu_tensor *w = TENSOR(m, op->in[1]);
        size_t rows = (size_t)(op->dil_h * (w->dims[1] - 1) + 1);
        if (rows > (size_t)(in0.b.h1 - in0.b.h0)) rows = (size_t)(in0.b.h1 - in0.b.h0);
        in_part = rows * (size_t)(in0.b.w1 - in0.b.w0) * (size_t)cin;
    } else if (op->type == QMCU_OP_PAD) {
        in_part = (size_t)(in0.b.w1 - in0.b.w0) * (size_t)cin;
    }
    stage_in = scratch;
    stage_in1 = scratch + (size_t)ow * (size_t)cin;
    stage_out = scratch + align16(in_part);
    kscratch = stage_out + align16((size_t)n);
    kbytes = stage_bytes - (size_t)(kscratch - scratch);
    if ((size_t)(kscratch - scratch) > stage_bytes) return QMCU_ERR_NOMEM;
    *outlier = 0;
    for (y = r.h0; y < r.h1; y++) {
        qmcu_window o;
        o.h0 = y;
        o.h1 = y + 1;
        o.w0 = r.w0;
        o.w1 = r.w1;
        switch (op->type) {
        case QMCU_OP_CONV_2D:
        case QMCU_OP_DEPTHWISE_CONV_2D: {
            const qmcu_tensor *w = TENSOR(m, op->in[1]);
            const qmcu_dims fd = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]};
            const qmcu_window need = qmcu_op_input_window(g, op, o);
            qmcu_window rows = in0.b;
            qmcu_conv_params cp;
            qmcu_dims ind, od;
            size_t skip;
            const int8_t *src;
            qmcu_status st;
            if (need.h0 > rows.h0) rows.h0 = need.h0;
            if (need.h1 < rows.h1) rows.h1 = need.h1;
            if (rows.h1 < rows.h0) rows.h1 = rows.h0;
            src = rows_of(&in0, cin, rows.h0, rows.h1, stage_in);
            qmcu_op_call_geometry(m, i, rows, o, &cp, NULL, &ind, &od, &skip);
            src += skip;
            cp.input_offset = v->conv.input_offset;
            cp.output_offset = v->conv.output_offset;
            cp.act_min = v->conv.act_min;
            cp.act_max = v->conv.act_max;
            st = op->type == QMCU_OP_CONV_2D
                     ? qmcu_conv_s8(&cp, &v->rq, &ind, src, &fd, (const int8_t *)w->data, v->bias, &od, stage_out, kscratch, kbytes)
                     : qmcu_depthwise_conv_s8(&cp, &v->rq, &ind, src, &fd, (const int8_t *)w->data, v->bias, &od, stage_out,
                                              kscratch, kbytes);
            if (st != QMCU_OK) return st;
            break;
        }
        case QMCU_OP_ADD: {
            const int32_t d[4] = {1, 1, 1, n};
            const int8_t *a = span_of(&in0, cin, y, r.w0, r.w1, stage_in);
            const int8_t *b = span_of(&in1, cin, y, r.w0, r.w1, stage_in1);
            qmcu_status st = qmcu_eltwise_s8(&v->elt, d, a, d, b, d, stage_out);
            if (st != QMCU_OK) return st;
            break;
        }
        default: { /* PAD */
            const qmcu_tensor *x = TENSOR(m, op->in[0]);
            const int32_t iy = y - op->pads[1][0];
            const int8_t *row = NULL;
            if (iy >= 0 && iy < x->dims[1]) row = span_of(&in0, cin, iy, in0.b.w0, in0.b.w1, stage_in);
            for (j = 0; j < ow; j++) {
                const int32_t ix = r.w0 + j - op->pads[2][0];
                if (row && ix >= 0 && ix < x->dims[2])
                    memcpy(stage_out + (size_t)j * cout, row + (size_t)(ix - in0.b.w0) * cin, (size_t)cout);
                else
                    memset(stage_out + (size_t)j * cout, v->pad_value, (size_t)cout);
            }
            break;
        }
        }
        if (!check && bout < 8 && op->type != QMCU_OP_PAD) /* no VDPC (ablation): saturate to the code range */
            for (j = 0; j < n; j++) stage_out[j] = (int8_t)qmcu_clamp(stage_out[j], 0, top);
        if (check)
            for (j = 0; j < n; j++)
                if (stage_out[j] < 0 || stage_out[j] > top || (bout == 7 && stage_out[j] == 127)) {
                    *outlier = 1; /* 7-bit codes reach int8's limit: 127 may be clamped */
                    return QMCU_OK;
                }
        qmcu_pack(bout, stage_out, n, out.ptr,
                  ((int64_t)(y - out.b.h0) * (out.b.w1 - out.b.w0) + (r.w0 - out.b.w0)) * cout);
    }
    return QMCU_OK;
}

qmcu_status qmcu_lowbit_run_tile(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int tile, qmcu_run_stats *stats)
{
    return qmcu_lowbit_run_tile_ops(m, p, mem, tile, p->spec.split, stats);
}

qmcu_status qmcu_lowbit_run_tile_ops(const qmcu_model *m, const qmcu_plan *p, uint8_t *mem, int tile, int n_ops,
                                     qmcu_run_stats *stats)
{
    const qmcu_graph *g = m->g;
    unsigned char *bits = (unsigned char *)malloc((size_t)g->n_tensors);
    int switched = 0, i;
    qmcu_status st = QMCU_OK;
    if (!bits) return QMCU_ERR_NOMEM;
    memset(bits, 8, (size_t)g->n_tensors);
    for (i = 0; i < n_ops && i < p->spec.split && st == QMCU_OK; i++) {
        const qmcu_op *op = &g->ops[i];
        const qmcu_window r = p->region[(size_t)tile * g->n_tensors + op->out];
        const int b0 = bits[op->in[0]], b1 = op->type == QMCU_OP_ADD ? bits[op->in[1]] : 8;
        int bout = 8, outlier = 0;
        if (qmcu_window_empty(r)) continue;
        if (lowbit_capable(op->type) && TENSOR(m, op->out)->type == QMCU_I8) {
            if (op->type == QMCU_OP_PAD)
                bout = b0;
            else if (!switched && op->out != p->split_tensor && p->vdq->fmap[op->out].in_scope)
                bout = p->vdq->fmap[op->out].bits;
        }
        if (b0 == 8 && b1 == 8 && bout == 8) { /* the 8-bit path of patch mode, same bytes */
            st = qmcu_plan_run_op(m, p, mem, tile, i);
        } else {
            st = run_staged(m, p, mem, tile, i, b0, b1, bout, op->type != QMCU_OP_PAD && bout < 8 && !p->no_vdpc, &outlier);
            if (st == QMCU_OK && outlier) { /* VDPC: this feature map and the rest of the tile at 8 bits */
                switched = 1;
                bout = 8;
                st = b0 == 8 && b1 == 8 ? qmcu_plan_run_op(m, p, mem, tile, i)
                                        : run_staged(m, p, mem, tile, i, b0, b1, 8, 0, &outlier);
            }
        }
        bits[op->out] = (unsigned char)bout;
        if (stats && (op->type == QMCU_OP_CONV_2D || op->type == QMCU_OP_DEPTHWISE_CONV_2D))
            stats->patch_bitops += p->lowbit[i].macs_per_pixel * (int64_t)(r.h1 - r.h0) * (r.w1 - r.w0) * 8 * b0;
    }
    if (stats) {
        stats->tiles++;
        stats->outlier_tiles += switched;
    }
    free(bits);
    return st;
}
