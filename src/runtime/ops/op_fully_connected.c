/* FULLY_CONNECTED: int8, float and dynamic-range (int8 weights, float activations quantized per
 * row as TFLite does); layer stage. */
#include "../exec_internal.h"

static qmcu_status run_fully_connected_int8(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile,
                                            int i, qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]), *w = QMCU_TENSOR(m, op->in[1]);
    const int32_t k = w->dims[1], rows = (int32_t)(qmcu_tensor_elems(x) / k);
    (void)r;
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    return qmcu_fully_connected_s8(&po->u.conv.params, &po->u.conv.rq, rows, k,
                                   (const int8_t *)qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr, w->dims[0],
                                   (const int8_t *)w->data, po->u.conv.bias,
                                   (int8_t *)qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
}

static qmcu_status run_fully_connected(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                       qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]), *w = QMCU_TENSOR(m, op->in[1]);
    const int32_t k = w->dims[1], rows = (int32_t)(qmcu_tensor_elems(x) / k);
    const void *in = qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr;
    void *out = qmcu_view_of(m, p, mem, -1, i, op->out).ptr;
    const void *bias = op->n_in > 2 && op->in[2] >= 0 ? QMCU_TENSOR(m, op->in[2])->data : NULL;
    if (QMCU_TENSOR(m, op->out)->type == QMCU_I8) return run_fully_connected_int8(m, p, mem, tile, i, r);
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    if (w->type == QMCU_I8) { /* dynamic range */
        if ((size_t)k > p->scratch_bytes[i]) return QMCU_ERR_NOMEM;
        qmcu_fully_connected_hybrid(rows, k, (const float *)in, w->dims[0], (const int8_t *)w->data, w->scale,
                                    (const float *)bias, po->act_min_f, po->act_max_f, (float *)out,
                                    (int8_t *)(mem + p->scratch_offset[i]));
        return QMCU_OK;
    }
    qmcu_fully_connected_f32(rows, k, (const float *)in, w->dims[0], (const float *)w->data, (const float *)bias,
                             po->act_min_f, po->act_max_f, (float *)out);
    return QMCU_OK;
}

const qmcu_op_kernel qmcu_kernel_fully_connected = {run_fully_connected};
const qmcu_op_kernel qmcu_kernel_fully_connected_int8 = {run_fully_connected_int8};
