/* CONV_2D and DEPTHWISE_CONV_2D: int8 (per-channel or uint8-derived per-tensor weights), float
 * and dynamic-range (hybrid) conv, on a patch tile's window or the whole tensor. A CONV_2D whose
 * only reader is an ADD may run fused with it, in place over the ADD's other input
 * (p->fused_next); a DEPTHWISE_CONV_2D may overwrite its own input (p->in_place). */
#include "../lowbit_exec.h"

/* TFLite's per-channel hybrid path: the filter has several scales and they are not all equal. */
static int hybrid_per_channel(const qmcu_tensor *w)
{
    int k;
    for (k = 1; k < w->n_scales; k++)
        if (w->scales[k] != w->scales[0]) return 1;
    return 0;
}

/* What a conv / depthwise call takes: geometry relative to the input buffer, weights, bias and
 * the requantization (prepared, or a QuantMCU format combination's). */
typedef struct {
    qmcu_conv_params cp;
    qmcu_conv_f32_params fp;
    qmcu_dims in, od, fd;
    const uint8_t *in_buf;
    const void *w, *bias;
    const qmcu_requant *rq;
    const int32_t *qbias; /* int8: the prepared (folded) bias */
} conv_call;

/* Op i on output window o from an input buffer holding region b (global coordinates). */
static void conv_call_setup_at(const qmcu_model *m, int i, qmcu_window b, qmcu_window o, const uint8_t *in_buf,
                               const qmcu_conv_override *ov, conv_call *c)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *wt = QMCU_TENSOR(m, op->in[1]);
    size_t skip;
    qmcu_op_call_geometry(m, i, b, o, &c->cp, NULL, &c->in, &c->od, &skip);
    c->in_buf = in_buf + skip;
    c->rq = &po->u.conv.rq;
    c->qbias = po->u.conv.bias;
    c->fd = (qmcu_dims){wt->dims[0], wt->dims[1], wt->dims[2], wt->dims[3]};
    c->w = wt->data;
    c->bias = op->n_in > 2 && op->in[2] >= 0 ? QMCU_TENSOR(m, op->in[2])->data : NULL;
    c->fp = po->u.conv.f32;
    c->fp.pad_top = c->cp.pad_top;
    c->fp.pad_left = c->cp.pad_left;
    if (ov) { /* a QuantMCU format combination: its offsets, range, multipliers, bias (and weights) */
        c->cp.input_offset = ov->conv->input_offset;
        c->cp.filter_offset = ov->conv->filter_offset;
        if (ov->weights) c->w = ov->weights;
        c->cp.output_offset = ov->conv->output_offset;
        c->cp.act_min = ov->conv->act_min;
        c->cp.act_max = ov->conv->act_max;
        c->cp.input_code_bits = ov->conv->input_code_bits;
        c->rq = ov->rq;
        c->qbias = ov->bias;
    }
}

static void conv_call_setup(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                            const uint8_t *in_buf, const qmcu_conv_override *ov, conv_call *c)
{
    const int patch = i < p->split;
    conv_call_setup_at(m, i, qmcu_tile_buffer_region(p, patch ? tile : -1, i, m->g->ops[i].in[0]), o, in_buf, ov, c);
}

static qmcu_status conv_2d_rows_int8(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                                     const uint8_t *in_buf, void *out, void *scratch, size_t scratch_bytes,
                                     const qmcu_conv_override *ov)
{
    conv_call c;
    conv_call_setup(m, p, tile, i, o, in_buf, ov, &c);
    return qmcu_conv_s8(&c.cp, c.rq, &c.in, (const int8_t *)c.in_buf, &c.fd, (const int8_t *)c.w, c.qbias, &c.od,
                        (int8_t *)out, scratch, scratch_bytes);
}

static qmcu_status conv_2d_rows(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                                const uint8_t *in_buf, void *out, void *scratch, size_t scratch_bytes,
                                const qmcu_conv_override *ov)
{
    const qmcu_op *op = &m->g->ops[i];
    conv_call c;
    if (QMCU_TENSOR(m, op->out)->type == QMCU_I8)
        return conv_2d_rows_int8(m, p, tile, i, o, in_buf, out, scratch, scratch_bytes, ov);
    conv_call_setup(m, p, tile, i, o, in_buf, ov, &c);
    if (qmcu_op_is_hybrid(m->g, op)) { /* layer stage only: the whole input */
        const qmcu_tensor *wt = QMCU_TENSOR(m, op->in[1]);
        if ((size_t)(c.in.h * c.in.w * c.in.c) > scratch_bytes) return QMCU_ERR_NOMEM;
        qmcu_conv_hybrid(&c.fp, &c.in, (const float *)c.in_buf, &c.fd, (const int8_t *)c.w,
                         wt->n_scales > 1 ? wt->scales : &wt->scale, hybrid_per_channel(wt), (const float *)c.bias,
                         &c.od, (float *)out, (int8_t *)scratch);
        return QMCU_OK;
    }
    qmcu_conv_f32(&c.fp, &c.in, (const float *)c.in_buf, &c.fd, (const float *)c.w, (const float *)c.bias, &c.od,
                  (float *)out);
    return QMCU_OK;
}

static qmcu_status depthwise_rows_int8(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                                       const uint8_t *in_buf, void *out, void *scratch, size_t scratch_bytes,
                                       const qmcu_conv_override *ov)
{
    conv_call c;
    conv_call_setup(m, p, tile, i, o, in_buf, ov, &c);
    return qmcu_depthwise_conv_s8(&c.cp, c.rq, &c.in, (const int8_t *)c.in_buf, &c.fd, (const int8_t *)c.w, c.qbias,
                                  &c.od, (int8_t *)out, scratch, scratch_bytes);
}

static qmcu_status depthwise_rows(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                                  const uint8_t *in_buf, void *out, void *scratch, size_t scratch_bytes,
                                  const qmcu_conv_override *ov)
{
    conv_call c;
    if (QMCU_TENSOR(m, m->g->ops[i].out)->type == QMCU_I8)
        return depthwise_rows_int8(m, p, tile, i, o, in_buf, out, scratch, scratch_bytes, ov);
    conv_call_setup(m, p, tile, i, o, in_buf, ov, &c);
    qmcu_depthwise_conv_f32(&c.fp, &c.in, (const float *)c.in_buf, &c.fd, (const float *)c.w, (const float *)c.bias,
                            &c.od, (float *)out);
    return QMCU_OK;
}

static qmcu_status run_inplace_depthwise(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *wt = QMCU_TENSOR(m, op->in[1]);
    const qmcu_dims fd = {wt->dims[0], wt->dims[1], wt->dims[2], wt->dims[3]};
    qmcu_conv_params cp;
    qmcu_dims in, od;
    qmcu_tile_op_call_whole(p, m, tile, i, &cp, &in, &od);
    return qmcu_depthwise_conv_s8_inplace(&cp, &po->u.conv.rq, &in, &fd, (const int8_t *)wt->data, po->u.conv.bias, &od,
                                          (int8_t *)mem + p->tensor_offset[op->in[0]], mem + p->scratch_offset[i],
                                          p->scratch_bytes[i]);
}

/* A conv fused with the ADD after it (p->fused_next): output window o row by row into a row buffer
 * (start of the conv's scratch; the conv's own scratch follows), then the ADD of that row and
 * the other input's row, written over the other input (element by element: in place is safe).
 * The bytes equal the two ops run one after the other. */
static qmcu_status run_conv_add(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                qmcu_window o)
{
    const qmcu_op *op = &m->g->ops[i], *add = &m->g->ops[i + 1];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    const int32_t cout = y->dims[3], n = (o.w1 - o.w0) * cout;
    const int first = add->in[0] == op->out; /* the conv's output is the ADD's first input */
    const qmcu_view skip = qmcu_view_of(m, p, mem, tile, i + 1, add->in[first ? 1 : 0]);
    const qmcu_view z = qmcu_view_of(m, p, mem, tile, i + 1, add->out);
    int8_t *rowbuf = (int8_t *)(mem + p->scratch_offset[i]);
    const size_t row_bytes = qmcu_align16((size_t)n);
    const int32_t d[4] = {1, 1, 1, n};
    qmcu_window row = o;
    if (row_bytes > p->scratch_bytes[i]) return QMCU_ERR_NOMEM;
    for (row.h0 = o.h0; row.h0 < o.h1; row.h0++) {
        const int8_t *other = (const int8_t *)qmcu_view_at(&skip, row.h0, o.w0, (size_t)cout);
        qmcu_status st;
        row.h1 = row.h0 + 1;
        st = conv_2d_rows_int8(m, p, tile, i, row, qmcu_view_of(m, p, mem, tile, i, op->in[0]).ptr, rowbuf,
                          (uint8_t *)rowbuf + row_bytes, p->scratch_bytes[i] - row_bytes, NULL);
        if (st != QMCU_OK) return st;
        st = qmcu_eltwise_s8(&m->ops[i + 1].u.elt, d, first ? rowbuf : other, d, first ? other : rowbuf, d,
                             (int8_t *)qmcu_view_at(&z, row.h0, o.w0, (size_t)cout));
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

qmcu_status qmcu_exec_run_conv_window(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                      qmcu_window w, const qmcu_conv_override *ov)
{
    const qmcu_op_type t = m->g->ops[i].type;
    if ((t != QMCU_OP_CONV_2D && t != QMCU_OP_DEPTHWISE_CONV_2D) || tile < 0 || i >= p->split || p->in_place[i])
        return QMCU_ERR_ARG;
    /* QuantMCU maps are int8-only */
    return qmcu_exec_window_rows(m, p, mem, tile, i, w, t == QMCU_OP_CONV_2D ? conv_2d_rows_int8 : depthwise_rows_int8,
                                 ov);
}

qmcu_status qmcu_exec_conv_rows_from(const qmcu_model *m, int i, qmcu_window b, const uint8_t *in_buf, qmcu_window o,
                                     int8_t *out, void *scratch, size_t scratch_bytes, const qmcu_conv_override *ov)
{
    conv_call c;
    conv_call_setup_at(m, i, b, o, in_buf, ov, &c);
    if (m->g->ops[i].type == QMCU_OP_CONV_2D)
        return qmcu_conv_s8(&c.cp, c.rq, &c.in, (const int8_t *)c.in_buf, &c.fd, (const int8_t *)c.w, c.qbias, &c.od,
                            out, scratch, scratch_bytes);
    return qmcu_depthwise_conv_s8(&c.cp, c.rq, &c.in, (const int8_t *)c.in_buf, &c.fd, (const int8_t *)c.w, c.qbias,
                                  &c.od, out, scratch, scratch_bytes);
}

size_t qmcu_exec_conv_rows_scratch(const qmcu_model *m, int i, qmcu_window b, qmcu_window o)
{
    const qmcu_tensor *wt = QMCU_TENSOR(m, m->g->ops[i].in[1]);
    const qmcu_dims fd = {wt->dims[0], wt->dims[1], wt->dims[2], wt->dims[3]};
    qmcu_conv_params cp;
    qmcu_dims in, od;
    size_t skip;
    if (m->g->ops[i].type != QMCU_OP_CONV_2D) return m->ops[i].scratch_bytes;
    qmcu_op_call_geometry(m, i, b, o, &cp, NULL, &in, &od, &skip);
    return qmcu_conv_s8_scratch_size(&cp, &in, &fd, &od);
}

/* The kernels: every element type, or int8 only (qmcu_kernel_*_int8). A fused conv + ADD is int8. */
#define QMCU_CONV_KERNEL(name, rows)                                                                                   \
    static qmcu_status run_##name(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,        \
                                  qmcu_window r)                                                                       \
    {                                                                                                                  \
        if (p->fused_next && p->fused_next[i]) return run_conv_add(m, p, mem, tile, i, r);                             \
        return qmcu_exec_window_rows(m, p, mem, tile, i, r, rows, NULL);                                               \
    }                                                                                                                  \
    const qmcu_op_kernel qmcu_kernel_##name = {run_##name};
#define QMCU_DEPTHWISE_KERNEL(name, rows)                                                                              \
    static qmcu_status run_##name(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,        \
                                  qmcu_window r)                                                                       \
    {                                                                                                                  \
        if (p->in_place[i]) return run_inplace_depthwise(m, p, mem, tile, i);                                          \
        return qmcu_exec_window_rows(m, p, mem, tile, i, r, rows, NULL);                                               \
    }                                                                                                                  \
    const qmcu_op_kernel qmcu_kernel_##name = {run_##name};
QMCU_CONV_KERNEL(conv_2d, conv_2d_rows)
QMCU_CONV_KERNEL(conv_2d_int8, conv_2d_rows_int8)
QMCU_DEPTHWISE_KERNEL(depthwise_conv_2d, depthwise_rows)
QMCU_DEPTHWISE_KERNEL(depthwise_conv_2d_int8, depthwise_rows_int8)
