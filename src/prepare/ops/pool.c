/* AVERAGE_POOL_2D and MAX_POOL_2D on the host: window, strides, padding, activation range. */
#include "../emit.h"
#include "../op_host.h"

static qmcu_status prepare_pool(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR_OF(m, op->out);
    (void)err;
    po->u.pool.filter_h = op->filter_h;
    po->u.pool.filter_w = op->filter_w;
    po->u.pool.stride_h = op->stride_h;
    po->u.pool.stride_w = op->stride_w;
    po->u.pool.pad_top = op->pad_top;
    po->u.pool.pad_left = op->pad_left;
    po->u.pool.is_max = op->type == QMCU_OP_MAX_POOL_2D;
    po->u.pool.value_offset = y->from_uint8 ? 128 : 0;
    if (y->type == QMCU_I8) qmcu_act_range_q(op->act, y, &po->u.pool.act_min, &po->u.pool.act_max);
    return QMCU_OK;
}

static void emit_pool_member(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_pool_params *pp = &m->ops[i].u.pool;
    fprintf(f,
            ",\n        .u.pool = {.filter_h = %d, .filter_w = %d, .stride_h = %d, .stride_w = %d, .pad_top = %d, "
            ".pad_left = %d, .act_min = %d, .act_max = %d, .value_offset = %d, .is_max = %d}",
            pp->filter_h, pp->filter_w, pp->stride_h, pp->stride_w, pp->pad_top, pp->pad_left, pp->act_min,
            pp->act_max, pp->value_offset, pp->is_max);
}

const qmcu_op_host qmcu_host_pool = {prepare_pool, NULL, NULL, emit_pool_member};
