/* RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (int8, uint8, float): whole tensors, or the rows of
 * a patch tile's window over its input buffer. A RESIZE_BILINEAR read only by an ARG_MAX over
 * channels may run fused with it (p->fused_next): resized row by row into scratch, each row
 * reduced to class indices, so the resized map is never stored. */
#include "../exec_internal.h"

/* RESIZE_BILINEAR output rows [r0, r1) for the input's type. */
static void bilinear_rows(const qmcu_resize_params *rp, const qmcu_tensor *x, const void *in, int32_t r0, int32_t r1,
                          void *out)
{
    if (x->type == QMCU_F32)
        qmcu_resize_bilinear_f32(rp, (const float *)in, r0, r1, (float *)out);
    else if (x->from_uint8)
        qmcu_resize_bilinear_u8(rp, (const int8_t *)in, r0, r1, (int8_t *)out);
    else
        qmcu_resize_bilinear_s8(rp, (const int8_t *)in, r0, r1, (int8_t *)out);
}

static void resize_rows(const qmcu_model *m, const qmcu_op *op, const qmcu_resize_params *rp, const void *in,
                        int32_t r0, int32_t r1, void *out)
{
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]), *y = QMCU_TENSOR(m, op->out);
    if (op->type == QMCU_OP_RESIZE_NEAREST_NEIGHBOR)
        qmcu_resize_nearest(rp, qmcu_dtype_size(y->type), qmcu_op_resize_kind(m->g, op) == 3, r0, r1, in, out);
    else
        bilinear_rows(rp, x, in, r0, r1, out);
}

static qmcu_status run_resize(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                              qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]), *y = QMCU_TENSOR(m, op->out);
    const qmcu_view in = qmcu_view_of(m, p, mem, tile, i, op->in[0]);
    qmcu_resize_params rp = qmcu_op_resize_params(m->g, op);
    int32_t row;
    if (tile < 0 && !(p->fused_next && p->fused_next[i])) {
        resize_rows(m, op, &rp, in.ptr, 0, rp.batches * rp.out_h, qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
        return QMCU_OK;
    }
    if (tile < 0) { /* fused with the ARG_MAX over channels after it: one resized row at a time in scratch */
        const qmcu_tensor *cls = QMCU_TENSOR(m, m->g->ops[i + 1].out);
        uint8_t *dst = qmcu_view_of(m, p, mem, -1, i + 1, m->g->ops[i + 1].out).ptr;
        uint8_t *scratch = mem + p->scratch_offset[i];
        const size_t row_bytes = (size_t)rp.out_w * qmcu_dtype_size(cls->type);
        for (row = 0; row < rp.batches * rp.out_h; row++) {
            bilinear_rows(&rp, x, in.ptr, row, row + 1, scratch);
            qmcu_arg_max(rp.out_w, rp.channels, 1, y->type != QMCU_I8, scratch, cls->type == QMCU_I64,
                         dst + (size_t)row * row_bytes);
        }
        return QMCU_OK;
    }
    { /* a patch tile: output rows of window r over the input buffer's region */
        const qmcu_view out = qmcu_view_of(m, p, mem, tile, i, op->out);
        const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
        rp.view_y0 = in.b.h0;
        rp.view_x0 = in.b.w0;
        rp.view_w = in.b.w1 - in.b.w0;
        rp.out_x0 = r.w0;
        rp.out_x1 = r.w1;
        for (row = r.h0; row < r.h1; row++) resize_rows(m, op, &rp, in.ptr, row, row + 1, qmcu_view_at(&out, row, r.w0, px));
    }
    return QMCU_OK;
}

const qmcu_op_kernel qmcu_kernel_resize_bilinear = {run_resize};
const qmcu_op_kernel qmcu_kernel_resize_nearest_neighbor = {run_resize};
