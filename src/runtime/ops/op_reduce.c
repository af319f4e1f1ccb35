/* Layer-stage reductions: MEAN (int8 with TFLite's rounding, float), SOFTMAX (int8 table, float)
 * and ARG_MAX (int8 / float input, int32 / int64 indices). */
#include "../exec_internal.h"

static qmcu_status run_mean_int8(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    int32_t d[4];
    (void)r;
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    qmcu_tensor_dims4(QMCU_TENSOR(m, op->in[0]), d);
    return qmcu_mean_s8(&m->ops[i].u.mean, d, (const int8_t *)qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr,
                        (int8_t *)qmcu_view_of(m, p, mem, -1, i, op->out).ptr, (int32_t *)(mem + p->scratch_offset[i]),
                        p->scratch_bytes[i]);
}

static qmcu_status run_mean(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i, qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const void *in = qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr;
    void *out = qmcu_view_of(m, p, mem, -1, i, op->out).ptr;
    int32_t d[4];
    if (QMCU_TENSOR(m, op->out)->type == QMCU_I8) return run_mean_int8(m, p, mem, tile, i, r);
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    qmcu_tensor_dims4(QMCU_TENSOR(m, op->in[0]), d);
    qmcu_mean_f32(op->reduce_mask, d, (const float *)in, (float *)out);
    return QMCU_OK;
}

static qmcu_status run_softmax_int8(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                    qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    const int32_t len = y->dims[y->ndim - 1], rows = (int32_t)(qmcu_tensor_elems(y) / len);
    (void)r;
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    qmcu_softmax_s8(&m->ops[i].u.softmax, rows, len, (const int8_t *)qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr,
                    (int8_t *)qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
    return QMCU_OK;
}

static qmcu_status run_softmax(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                               qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    const void *in = qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr;
    void *out = qmcu_view_of(m, p, mem, -1, i, op->out).ptr;
    const int32_t len = y->dims[y->ndim - 1], rows = (int32_t)(qmcu_tensor_elems(y) / len);
    if (y->type == QMCU_I8) return run_softmax_int8(m, p, mem, tile, i, r);
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    qmcu_softmax_f32(op->beta, rows, len, (const float *)in, (float *)out);
    return QMCU_OK;
}

static qmcu_status run_arg_max(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                               qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]);
    int32_t outer, inner;
    (void)r;
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    qmcu_around_axis(x, op->axis, &outer, &inner);
    qmcu_arg_max(outer, x->dims[op->axis], inner, x->type == QMCU_F32, qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr,
                 QMCU_TENSOR(m, op->out)->type == QMCU_I64, qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
    return QMCU_OK;
}

const qmcu_op_kernel qmcu_kernel_mean = {run_mean};
const qmcu_op_kernel qmcu_kernel_softmax = {run_softmax};
const qmcu_op_kernel qmcu_kernel_arg_max = {run_arg_max};
const qmcu_op_kernel qmcu_kernel_mean_int8 = {run_mean_int8};
const qmcu_op_kernel qmcu_kernel_softmax_int8 = {run_softmax_int8};
