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
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"
#include "lowbit.h"

#define TENSOR(m, i) (&(m)->g->tensors[(i)])

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
    if (!qmcu_bits_packed(v->bits)) return (const int8_t *)v->ptr + start;
    qmcu_unpack(v->bits, v->ptr, start, (int32_t)((int64_t)(r1 - r0) * w * c), stage);
    return stage;
}

/* Codes of pixels [x0, x1) of row y. */
static const int8_t *span_of(const lb_view *v, int32_t c, int32_t y, int32_t x0, int32_t x1, int8_t *stage)
{
    const int64_t start = ((int64_t)(y - v->b.h0) * (v->b.w1 - v->b.w0) + (x0 - v->b.w0)) * c;
    if (!qmcu_bits_packed(v->bits)) return (const int8_t *)v->ptr + start;
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
    in_part = qmcu_lowbit_stage_in_bytes(p, tile, i);
    stage_in = scratch;
    stage_in1 = scratch + (size_t)ow * (size_t)cin;
    stage_out = scratch + align16(in_part);
    kscratch = stage_out + align16((size_t)n);
    kbytes = stage_bytes - (size_t)(kscratch - scratch);
    if ((size_t)(kscratch - scratch) > stage_bytes) return QMCU_ERR_NOMEM;
    *outlier = 0;
    for (y = r.h0; y < r.h1; y++) {
        /* byte-stored outputs are written in place, packed ones staged */
        const int64_t out_start = ((int64_t)(y - out.b.h0) * (out.b.w1 - out.b.w0) + (r.w0 - out.b.w0)) * cout;
        int8_t *const dst = qmcu_bits_packed(bout) ? stage_out : (int8_t *)out.ptr + out_start;
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
            /* 2-bit codes, zero point (the padding value) among them: */
            cp.input_code_bits = b0 == 2 && -cp.input_offset >= 0 && -cp.input_offset <= 3 ? 2 : 0;
            st = op->type == QMCU_OP_CONV_2D
                     ? qmcu_conv_s8(&cp, &v->rq, &ind, src, &fd, (const int8_t *)w->data, v->bias, &od, dst, kscratch, kbytes)
                     : qmcu_depthwise_conv_s8(&cp, &v->rq, &ind, src, &fd, (const int8_t *)w->data, v->bias, &od, dst,
                                              kscratch, kbytes);
            if (st != QMCU_OK) return st;
            break;
        }
        case QMCU_OP_ADD: {
            const int32_t d[4] = {1, 1, 1, n};
            const int8_t *a = span_of(&in0, cin, y, r.w0, r.w1, stage_in);
            const int8_t *b = span_of(&in1, cin, y, r.w0, r.w1, stage_in1);
            qmcu_status st = qmcu_eltwise_s8(&v->elt, d, a, d, b, d, dst);
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
                    memcpy(dst + (size_t)j * cout, row + (size_t)(ix - in0.b.w0) * cin, (size_t)cout);
                else
                    memset(dst + (size_t)j * cout, v->pad_value, (size_t)cout);
            }
            break;
        }
        }
        if (!check && bout < 8 && op->type != QMCU_OP_PAD) /* no VDPC (ablation): saturate to the code range */
            for (j = 0; j < n; j++) dst[j] = (int8_t)qmcu_clamp(dst[j], 0, top);
        if (check && !qmcu_codes_fit(bout, dst, n)) {
            *outlier = 1;
            return QMCU_OK;
        }
        if (check && bout == 7) /* 7-bit codes reach int8's limit: 127 may be a clamped value */
            for (j = 0; j < n; j++)
                if (dst[j] == 127) {
                    *outlier = 1;
                    return QMCU_OK;
                }
        if (dst == stage_out) qmcu_pack(bout, stage_out, n, out.ptr, out_start);
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
    unsigned char bits[QMCU_LOWBIT_MAX_TENSORS]; /* bits each tensor has on this tile */
    int switched = 0, i;
    qmcu_status st = QMCU_OK;
    if (g->n_tensors > QMCU_LOWBIT_MAX_TENSORS) return QMCU_ERR_UNSUPPORTED;
    memset(bits, 8, (size_t)g->n_tensors);
    for (i = 0; i < n_ops && i < p->spec.split && st == QMCU_OK; i++) {
        const qmcu_op *op = &g->ops[i];
        const qmcu_window r = p->region[(size_t)tile * g->n_tensors + op->out];
        const int b0 = bits[op->in[0]], b1 = op->type == QMCU_OP_ADD ? bits[op->in[1]] : 8;
        int bout = 8, outlier = 0;
        if (qmcu_window_empty(r)) continue;
        if (qmcu_op_hook) qmcu_op_hook(i, 0);
        if (qmcu_lowbit_capable(op->type) && TENSOR(m, op->out)->type == QMCU_I8) {
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
        if (qmcu_op_hook) qmcu_op_hook(i, 1);
        bits[op->out] = (unsigned char)bout;
        if (stats && (op->type == QMCU_OP_CONV_2D || op->type == QMCU_OP_DEPTHWISE_CONV_2D))
            stats->patch_bitops += p->lowbit[i].macs_per_pixel * (int64_t)(r.h1 - r.h0) * (r.w1 - r.w0) * 8 * b0;
    }
    if (stats) {
        stats->tiles++;
        stats->outlier_tiles += switched;
    }
    return st;
}
