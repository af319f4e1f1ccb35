/* AVERAGE_POOL_2D and MAX_POOL_2D (int8 and float) on a patch tile's window or the whole tensor. */
#include "../exec_internal.h"

static qmcu_status pool_rows_int8(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                                  const uint8_t *in_buf, void *out, void *scratch, size_t scratch_bytes,
                                  const qmcu_conv_override *ov)
{
    qmcu_pool_params pp;
    qmcu_dims in, od;
    size_t skip;
    (void)scratch, (void)scratch_bytes, (void)ov;
    qmcu_tile_op_call(p, m, tile, i, o, NULL, &pp, &in, &od, &skip);
    return qmcu_pool_s8(&pp, &in, (const int8_t *)(in_buf + skip), &od, (int8_t *)out);
}

static qmcu_status pool_rows(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                             const uint8_t *in_buf, void *out, void *scratch, size_t scratch_bytes,
                             const qmcu_conv_override *ov)
{
    const qmcu_prepared_op *po = &m->ops[i];
    qmcu_pool_params pp;
    qmcu_dims in, od;
    size_t skip;
    if (QMCU_TENSOR(m, m->g->ops[i].out)->type == QMCU_I8)
        return pool_rows_int8(m, p, tile, i, o, in_buf, out, scratch, scratch_bytes, ov);
    (void)ov;
    qmcu_tile_op_call(p, m, tile, i, o, NULL, &pp, &in, &od, &skip);
    in_buf += skip;
    qmcu_pool_f32(&pp, po->act_min_f, po->act_max_f, &in, (const float *)in_buf, &od, (float *)out);
    return QMCU_OK;
}

static qmcu_status run_pool(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i, qmcu_window r)
{
    return qmcu_exec_window_rows(m, p, mem, tile, i, r, pool_rows, NULL);
}

static qmcu_status run_pool_int8(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window r)
{
    return qmcu_exec_window_rows(m, p, mem, tile, i, r, pool_rows_int8, NULL);
}

const qmcu_op_kernel qmcu_kernel_average_pool_2d = {run_pool};
const qmcu_op_kernel qmcu_kernel_max_pool_2d = {run_pool};
const qmcu_op_kernel qmcu_kernel_average_pool_2d_int8 = {run_pool_int8};
const qmcu_op_kernel qmcu_kernel_max_pool_2d_int8 = {run_pool_int8};
