/* ADD, SUB, MUL, DIV, FLOOR_DIV: int8 (TFLite's fixed-point rescaling), int32 and float. Layer
 * stage: whole tensors with broadcasting. Patch stage (ADD, SUB, MUL): row segments of two
 * patch-stage maps, or of one map against a per-channel or scalar constant. */
#include "../exec_internal.h"

/* Float / int32 kernel kind of a binary op (qmcu_eltwise_f32, qmcu_eltwise_i32). */
static int binary_kind(qmcu_op_type t)
{
    switch (t) {
    case QMCU_OP_MUL: return 1;
    case QMCU_OP_SUB: return 2;
    case QMCU_OP_DIV: return 3;
    case QMCU_OP_FLOOR_DIV: return 4;
    default: return 0;
    }
}

/* One binary op over inputs of dims d1, d2 broadcast to dy (4-D, right-aligned). */
static qmcu_status binary_broadcast(const qmcu_model *m, int i, const int32_t d1[4], const void *in1,
                                    const int32_t d2[4], const void *in2, const int32_t dy[4], void *out)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    const int kind = binary_kind(op->type);
    if (y->type == QMCU_I8)
        return qmcu_eltwise_s8(&po->u.elt, d1, (const int8_t *)in1, d2, (const int8_t *)in2, dy, (int8_t *)out);
    if (y->type == QMCU_I32) {
        int32_t lo, hi;
        qmcu_act_range_i32(op->act, &lo, &hi);
        return qmcu_eltwise_i32(kind, d1, (const int32_t *)in1, d2, (const int32_t *)in2, dy, lo, hi, (int32_t *)out);
    }
    qmcu_eltwise_f32(kind, d1, (const float *)in1, d2, (const float *)in2, dy, po->act_min_f, po->act_max_f,
                     (float *)out);
    return QMCU_OK;
}

/* n contiguous elements, both inputs of the output's shape (patch stage: ADD, SUB, MUL). */
static qmcu_status binary_elements(const qmcu_model *m, int i, const void *in0, const void *in1, void *out, int64_t n)
{
    const int32_t d[4] = {1, 1, 1, (int32_t)n};
    const qmcu_op_type t = m->g->ops[i].type;
    if (t != QMCU_OP_ADD && t != QMCU_OP_SUB && t != QMCU_OP_MUL) return QMCU_ERR_UNSUPPORTED;
    return binary_broadcast(m, i, d, in0, d, in1, d, out);
}

/* A binary op whose other input is a per-channel or scalar constant, on window r: row segments
 * [1, 1, w, C] against the constant broadcast ([1, 1, 1, C] or [1, 1, 1, 1]). */
static qmcu_status channel_constant_rows(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                         qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    const int c = qmcu_op_channel_constant(m->g, op) - 1, a = 1 - c; /* constant input, activation input */
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    const qmcu_view out = qmcu_view_of(m, p, mem, tile, i, op->out), act = qmcu_view_of(m, p, mem, tile, i, op->in[a]);
    const void *k = QMCU_TENSOR(m, op->in[c])->data;
    const int32_t seg[4] = {1, 1, r.w1 - r.w0, y->dims[3]};
    int32_t kd[4], row;
    qmcu_tensor_dims4(QMCU_TENSOR(m, op->in[c]), kd);
    for (row = r.h0; row < r.h1; row++) {
        const void *x = qmcu_view_at(&act, row, r.w0, px);
        const qmcu_status st = binary_broadcast(m, i, c ? seg : kd, c ? x : k, c ? kd : seg, c ? k : x, seg,
                                                qmcu_view_at(&out, row, r.w0, px));
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

static qmcu_status run_binary(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                              qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    if (tile < 0) { /* whole tensors, broadcasting */
        int32_t d1[4], d2[4], dy[4];
        qmcu_tensor_dims4(QMCU_TENSOR(m, op->in[0]), d1);
        qmcu_tensor_dims4(QMCU_TENSOR(m, op->in[1]), d2);
        qmcu_tensor_dims4(QMCU_TENSOR(m, op->out), dy);
        return binary_broadcast(m, i, d1, qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr, d2,
                                qmcu_view_of(m, p, mem, -1, i, op->in[1]).ptr, dy,
                                qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
    }
    if (qmcu_op_channel_constant(m->g, op)) return channel_constant_rows(m, p, mem, tile, i, r);
    return qmcu_exec_elementwise_rows(m, p, mem, tile, i, r, binary_elements);
}

const qmcu_op_kernel qmcu_kernel_add = {run_binary};
const qmcu_op_kernel qmcu_kernel_sub = {run_binary};
const qmcu_op_kernel qmcu_kernel_mul = {run_binary};
const qmcu_op_kernel qmcu_kernel_div = {run_binary};
const qmcu_op_kernel qmcu_kernel_floor_div = {run_binary};
