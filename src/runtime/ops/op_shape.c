/* Layer-stage data movement: RESHAPE, TRANSPOSE, CONCATENATION (uint8 inputs of other
 * quantizations rescaled as TFLite's ConcatenationWithScaling), SLICE (one output of a SPLIT /
 * SPLIT_V), PACK and GATHER_ND. */
#include <string.h>

#include "../exec_internal.h"

#define LAYER_STAGE_ONLY(tile, r)                                                                                      \
    do {                                                                                                               \
        (void)(r);                                                                                                     \
        if ((tile) >= 0) return QMCU_ERR_UNSUPPORTED;                                                                  \
    } while (0)

static qmcu_status run_reshape(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                               qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const void *in = qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr;
    void *out = qmcu_view_of(m, p, mem, -1, i, op->out).ptr;
    LAYER_STAGE_ONLY(tile, r);
    if (in != out) memmove(out, in, QMCU_TENSOR(m, op->out)->bytes);
    return QMCU_OK;
}

static qmcu_status run_transpose(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]);
    int perm[4], j, pad = 4 - x->ndim;
    int32_t d[4];
    LAYER_STAGE_ONLY(tile, r);
    qmcu_tensor_dims4(x, d);
    for (j = 0; j < 4; j++) perm[j] = j < pad ? j : op->perm[j - pad] + pad;
    qmcu_transpose(d, perm, qmcu_dtype_size(QMCU_TENSOR(m, op->out)->type), qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr,
                   qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
    return QMCU_OK;
}

static qmcu_status run_concatenation(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                     qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    void *out = qmcu_view_of(m, p, mem, -1, i, op->out).ptr;
    int32_t outer, inner, off = 0;
    int j;
    LAYER_STAGE_ONLY(tile, r);
    qmcu_around_axis(y, op->axis, &outer, &inner);
    for (j = 0; j < op->n_in; j++) {
        const qmcu_tensor *xi = QMCU_TENSOR(m, op->in[j]);
        const void *src = qmcu_view_of(m, p, mem, -1, i, op->in[j]).ptr;
        if (y->type == QMCU_I8 && (xi->scale != y->scale || xi->zero_point != y->zero_point)) /* uint8 only (prepare) */
            qmcu_concat_copy_rescale_u8(outer, xi->dims[op->axis], y->dims[op->axis], off, inner, xi->scale,
                                        xi->zero_point + 128, y->scale, y->zero_point + 128, (const int8_t *)src,
                                        (int8_t *)out);
        else
            qmcu_concat_copy(outer, xi->dims[op->axis], y->dims[op->axis], off, inner, qmcu_dtype_size(y->type), src,
                             out);
        off += xi->dims[op->axis];
    }
    return QMCU_OK;
}

/* The output's entries along the axis: all of them over outer x inner. */
static qmcu_status run_slice(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                             qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]), *y = QMCU_TENSOR(m, op->out);
    int32_t outer, inner;
    LAYER_STAGE_ONLY(tile, r);
    qmcu_around_axis(x, op->axis, &outer, &inner);
    qmcu_slice_copy(outer, x->dims[op->axis], (int32_t)(qmcu_tensor_elems(y) / ((int64_t)outer * inner)),
                    op->slice_begin, inner, qmcu_dtype_size(y->type), qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr,
                    qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
    return QMCU_OK;
}

/* Inputs of one shape stacked along the output's axis. */
static qmcu_status run_pack(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i, qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    void *out = qmcu_view_of(m, p, mem, -1, i, op->out).ptr;
    int32_t outer, inner;
    int j;
    LAYER_STAGE_ONLY(tile, r);
    qmcu_around_axis(y, op->axis, &outer, &inner);
    for (j = 0; j < op->n_in; j++)
        qmcu_concat_copy(outer, 1, op->n_in, j, inner, qmcu_dtype_size(y->type),
                         qmcu_view_of(m, p, mem, -1, i, op->in[j]).ptr, out);
    return QMCU_OK;
}

static qmcu_status run_gather_nd(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]), *ix = QMCU_TENSOR(m, op->in[1]);
    const int depth = ix->dims[ix->ndim - 1];
    LAYER_STAGE_ONLY(tile, r);
    return qmcu_gather_nd(x->dims, x->ndim, qmcu_dtype_size(x->type), qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr,
                          qmcu_view_of(m, p, mem, -1, i, op->in[1]).ptr, ix->type == QMCU_I64,
                          (int32_t)(qmcu_tensor_elems(ix) / depth), depth, qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
}

const qmcu_op_kernel qmcu_kernel_reshape = {run_reshape};
const qmcu_op_kernel qmcu_kernel_transpose = {run_transpose};
const qmcu_op_kernel qmcu_kernel_concatenation = {run_concatenation};
const qmcu_op_kernel qmcu_kernel_slice = {run_slice};
const qmcu_op_kernel qmcu_kernel_pack = {run_pack};
const qmcu_op_kernel qmcu_kernel_gather_nd = {run_gather_nd};
