/* PAD (constant: the zero point, or 0.0 for float): the whole tensor, or a patch tile's window
 * where each output pixel is the input pixel it maps to or the pad value. */
#include <string.h>

#include "../exec_internal.h"

static qmcu_status run_pad(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i, qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]), *y = QMCU_TENSOR(m, op->out);
    const qmcu_view in = qmcu_view_of(m, p, mem, tile, i, op->in[0]), out = qmcu_view_of(m, p, mem, tile, i, op->out);
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    int32_t oy, ox;
    if (tile < 0) {
        const int8_t zp8 = (int8_t)y->zero_point;
        const float zf = 0.0f;
        int32_t d[4];
        qmcu_tensor_dims4(x, d);
        qmcu_pad(d, op->pads, qmcu_dtype_size(y->type), y->type == QMCU_I8 ? (const void *)&zp8 : (const void *)&zf,
                 in.ptr, out.ptr);
        return QMCU_OK;
    }
    for (oy = r.h0; oy < r.h1; oy++)
        for (ox = r.w0; ox < r.w1; ox++) {
            const int32_t iy = oy - op->pads[1][0], ix = ox - op->pads[2][0];
            uint8_t *dst = qmcu_view_at(&out, oy, ox, px);
            if (iy >= 0 && iy < x->dims[1] && ix >= 0 && ix < x->dims[2])
                memcpy(dst, qmcu_view_at(&in, iy, ix, px), px);
            else if (y->type == QMCU_I8)
                memset(dst, (int8_t)y->zero_point, px);
            else
                memset(dst, 0, px); /* float 0.0 */
        }
    return QMCU_OK;
}

const qmcu_op_kernel qmcu_kernel_pad = {run_pad};
