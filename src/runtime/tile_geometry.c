/* Tile geometry at run time (host and MCU): see tile_geometry.h. */
#include "tile_geometry.h"

#include <string.h>

#define T(g, i) (&(g)->tensors[(i)])

qmcu_resize_params qmcu_op_resize_params(const qmcu_graph *g, const qmcu_op *op)
{
    const qmcu_tensor *x = T(g, op->in[0]), *y = T(g, op->out);
    qmcu_resize_params rp;
    rp.batches = x->dims[0];
    rp.in_h = x->dims[1];
    rp.in_w = x->dims[2];
    rp.channels = x->dims[3];
    rp.out_h = y->dims[1];
    rp.out_w = y->dims[2];
    rp.align_corners = op->align_corners;
    rp.half_pixel_centers = op->half_pixel_centers;
    rp.view_y0 = rp.view_x0 = 0;
    rp.view_w = rp.in_w;
    rp.out_x0 = 0;
    rp.out_x1 = rp.out_w;
    return rp;
}

int qmcu_op_resize_kind(const qmcu_graph *g, const qmcu_op *op)
{
    const qmcu_tensor *x = T(g, op->in[0]);
    if (op->type == QMCU_OP_RESIZE_NEAREST_NEIGHBOR) /* TFLite 2.9: uint8 plain resizes by its fixed-point rule */
        return x->from_uint8 && !op->align_corners && !op->half_pixel_centers ? 3 : 2;
    return x->type == QMCU_I8 && !x->from_uint8 ? 0 : 1;
}

qmcu_window qmcu_op_input_window(const qmcu_graph *g, const qmcu_op *op, qmcu_window o)
{
    qmcu_window r = o;
    if (op->type == QMCU_OP_RESIZE_BILINEAR || op->type == QMCU_OP_RESIZE_NEAREST_NEIGHBOR) {
        const qmcu_resize_params rp = qmcu_op_resize_params(g, op);
        const int kind = qmcu_op_resize_kind(g, op);
        qmcu_resize_source_range(&rp, kind, 0, o.h0, o.h1, &r.h0, &r.h1);
        qmcu_resize_source_range(&rp, kind, 1, o.w0, o.w1, &r.w0, &r.w1);
        return r;
    }
    int32_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
    switch (op->type) {
    case QMCU_OP_CONV_2D:
    case QMCU_OP_DEPTHWISE_CONV_2D:
    case QMCU_OP_AVERAGE_POOL_2D:
    case QMCU_OP_MAX_POOL_2D: {
        const int conv = qmcu_is_conv(op->type);
        kh = conv ? T(g, op->in[1])->dims[1] : op->filter_h; /* filters are OHWI / 1HWO */
        kw = conv ? T(g, op->in[1])->dims[2] : op->filter_w;
        sh = op->stride_h;
        sw = op->stride_w;
        dh = op->dil_h; /* 1 for pooling */
        dw = op->dil_w;
        ph = op->pad_top;
        pw = op->pad_left;
        break;
    }
    case QMCU_OP_PAD:
        ph = op->pads[1][0];
        pw = op->pads[2][0];
        break;
    default: return r; /* element-wise */
    }
    /* output rows [o0, o1) read input rows [o0*s - p, (o1-1)*s - p + d*(k-1) + 1) */
    r.h0 = o.h0 * sh - ph;
    r.h1 = (o.h1 - 1) * sh - ph + dh * (kh - 1) + 1;
    r.w0 = o.w0 * sw - pw;
    r.w1 = (o.w1 - 1) * sw - pw + dw * (kw - 1) + 1;
    return r;
}

qmcu_window qmcu_grid_tile(int32_t h, int32_t w, int grid_h, int grid_w, int r, int c)
{
    const int32_t th = (h + grid_h - 1) / grid_h, tw = (w + grid_w - 1) / grid_w;
    qmcu_window t;
    t.h0 = r * th;
    t.h1 = (r + 1) * th < h ? (r + 1) * th : h;
    t.w0 = c * tw;
    t.w1 = (c + 1) * tw < w ? (c + 1) * tw : w;
    return t;
}

void qmcu_op_call_geometry(const qmcu_model *m, int i, qmcu_window b, qmcu_window o, qmcu_conv_params *cp,
                           qmcu_pool_params *pp, qmcu_dims *in, qmcu_dims *out, size_t *in_skip)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_tensor *x = T(g, op->in[0]), *y = T(g, op->out);
    const qmcu_window need = qmcu_op_input_window(g, op, o);
    const int32_t top = b.h0 - need.h0, left = b.w0 - need.w0; /* padding before the first window, buffer coordinates */
    int32_t skip = top < 0 ? -top : 0;
    if (skip > b.h1 - b.h0) skip = b.h1 - b.h0;
    *in_skip = (size_t)skip * (size_t)(b.w1 - b.w0) * (size_t)x->dims[3] * qmcu_dtype_size(x->type);
    in->n = 1;
    in->h = b.h1 - b.h0 - skip;
    in->w = b.w1 - b.w0;
    in->c = x->dims[3];
    out->n = 1;
    out->h = o.h1 - o.h0;
    out->w = o.w1 - o.w0;
    out->c = y->dims[3];
    if (cp) { /* float convolutions and pooling take only the padding from it */
        if (qmcu_is_conv(op->type))
            *cp = m->ops[i].u.conv.params;
        else
            memset(cp, 0, sizeof *cp);
        cp->pad_top = top + skip;
        cp->pad_left = left;
    }
    if (pp) {
        if (op->type == QMCU_OP_AVERAGE_POOL_2D || op->type == QMCU_OP_MAX_POOL_2D)
            *pp = m->ops[i].u.pool;
        else
            memset(pp, 0, sizeof *pp);
        pp->pad_top = top + skip;
        pp->pad_left = left;
    }
}

/* The patch op producing tensor t (t is produced in the patch stage). */
static int producer_of(const qmcu_exec_plan *p, int t)
{
    const int i = qmcu_graph_producer(p->g, t, p->split);
    return i < 0 ? 0 : i;
}

qmcu_window qmcu_tile_buffer_region(const qmcu_exec_plan *p, int tile, int i, int t)
{
    const qmcu_graph *g = p->g;
    const qmcu_tensor *x = T(g, t);
    qmcu_window full;
    full.h0 = full.w0 = 0;
    full.h1 = x->ndim == 4 ? x->dims[1] : 1;
    full.w1 = x->ndim == 4 ? x->dims[2] : 1;
    if (tile >= 0 && i < p->split && t != p->split_tensor && !qmcu_graph_is_input(g, t))
        return qmcu_tile_region(p, tile, producer_of(p, t));
    return full;
}

qmcu_window qmcu_op_window(const qmcu_exec_plan *p, int tile, int i)
{
    if (i < p->split && tile >= 0) return qmcu_tile_region(p, tile, i);
    return qmcu_tile_buffer_region(p, -1, i, p->g->ops[i].out);
}

void qmcu_tile_op_call(const qmcu_exec_plan *p, const qmcu_model *m, int tile, int i, qmcu_window o,
                       qmcu_conv_params *cp, qmcu_pool_params *pp, qmcu_dims *in, qmcu_dims *out, size_t *in_skip)
{
    const qmcu_op *op = &p->g->ops[i];
    const int patch = i < p->split;
    qmcu_op_call_geometry(m, i, qmcu_tile_buffer_region(p, patch ? tile : -1, i, op->in[0]), o, cp, pp, in, out,
                          in_skip);
}

qmcu_window qmcu_halo_compute_window(const qmcu_exec_plan *p, int tile, int i)
{
    qmcu_window r = qmcu_tile_region(p, tile, i);
    const int f = p->halo ? p->halo[i] : 0;
    if ((f & QMCU_HALO_COLS) && tile % p->grid_w > 0) {
        const int32_t prev_end = qmcu_tile_region(p, tile - 1, i).w1;
        if (prev_end > r.w0) r.w0 = prev_end < r.w1 ? prev_end : r.w1;
    }
    if ((f & QMCU_HALO_ROWS) && tile >= p->grid_w) {
        const int32_t above_end = qmcu_tile_region(p, tile - p->grid_w, i).h1;
        if (above_end > r.h0) r.h0 = above_end < r.h1 ? above_end : r.h1;
    }
    return r;
}

void qmcu_tile_op_call_whole(const qmcu_exec_plan *p, const qmcu_model *m, int tile, int i, qmcu_conv_params *cp,
                             qmcu_dims *in, qmcu_dims *out)
{
    size_t skip;
    int32_t rows;
    qmcu_tile_op_call(p, m, tile, i, qmcu_op_window(p, tile, i), cp, NULL, in, out, &skip);
    rows = (int32_t)(skip / ((size_t)in->w * (size_t)in->c));
    in->h += rows;
    cp->pad_top -= rows;
}

int qmcu_pad_source(const qmcu_graph *g, int split, int t)
{
    int i;
    for (i = split - 1; i >= 0; i--)
        if (g->ops[i].out == t && g->ops[i].type == QMCU_OP_PAD) t = g->ops[i].in[0];
    return t;
}

size_t qmcu_lowbit_stage_in_bytes(const qmcu_exec_plan *p, int tile, int i)
{
    const qmcu_graph *g = p->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_window r = qmcu_tile_region(p, tile, i);
    const qmcu_window b = qmcu_tile_buffer_region(p, tile, i, op->in[0]);
    const size_t cin = (size_t)T(g, op->in[0])->dims[3];
    if (op->type == QMCU_OP_ADD) return 2 * (size_t)(r.w1 - r.w0) * cin; /* a row span of each input */
    return (size_t)(b.w1 - b.w0) * cin;                                  /* PAD: one input row */
}
