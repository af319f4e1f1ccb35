/* Runs a plan: the patch stage tile by tile (each op on the tile's window, reading its input
 * buffers through padding relative to their regions), then the layer stage. Windows that
 * reach outside a tensor read the zero point (virtual padding), exactly like layer mode, so
 * every plan gives the same output bytes. */
#include <math.h>
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"
#include "lowbit_exec.h"
#include "tile_geometry.h"

#define TENSOR(m, i) (&(m)->g->tensors[(i)])

typedef struct {
    uint8_t *ptr;
    qmcu_window b; /* region held, global coordinates (whole tensor outside the patch stage) */
} view;

/* Buffer of tensor t as op `i` of tile `tile` sees it (tile < 0: layer stage). */
static view buffer_of(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i, int t)
{
    const qmcu_tensor *x = TENSOR(m, t);
    view v;
    v.ptr = x->data ? (uint8_t *)x->data : mem + p->tensor_offset[t];
    v.b = qmcu_tile_buffer_region(p, tile, i, t);
    return v;
}

/* Address of global pixel (y, x) in a view of a tensor with row elements c * elem bytes. */
static uint8_t *at(const view *v, int32_t y, int32_t x, size_t pixel_bytes)
{
    return v->ptr + ((size_t)(y - v->b.h0) * (size_t)(v->b.w1 - v->b.w0) + (size_t)(x - v->b.w0)) * pixel_bytes;
}

static void cast_values(const qmcu_tensor *x, const void *in, const qmcu_tensor *y, void *out, int64_t n);
static int binary_kind(qmcu_op_type t);
static void act_range_i32(qmcu_activation act, int32_t *lo, int32_t *hi);

/* Element-wise ops on n contiguous elements (both inputs of ADD/MUL have the output's shape). */
static qmcu_status run_elementwise(const qmcu_model *m, int i, const void *in0, const void *in1, void *out, int64_t n)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *y = TENSOR(m, op->out);
    const int q = y->type == QMCU_I8;
    const float *fin = (const float *)in0;
    float *fout = (float *)out;
    int64_t j;
    switch (op->type) {
    case QMCU_OP_ADD:
    case QMCU_OP_SUB:
    case QMCU_OP_MUL: {
        const int32_t d[4] = {1, 1, 1, (int32_t)n};
        if (q) return qmcu_eltwise_s8(&po->u.elt, d, (const int8_t *)in0, d, (const int8_t *)in1, d, (int8_t *)out);
        if (y->type == QMCU_I32) {
            int32_t lo, hi;
            act_range_i32(op->act, &lo, &hi);
            return qmcu_eltwise_i32(binary_kind(op->type), d, (const int32_t *)in0, d, (const int32_t *)in1, d, lo, hi,
                                    (int32_t *)out);
        }
        qmcu_eltwise_f32(op->type == QMCU_OP_MUL   ? 1
                         : op->type == QMCU_OP_SUB ? 2
                                                   : 0,
                         d, fin, d, (const float *)in1, d, po->act_min_f, po->act_max_f, fout);
        return QMCU_OK;
    }
    case QMCU_OP_QUANTIZE:
        if (x->type == QMCU_I8) {
            qmcu_requantize_s8(&po->u.requant, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
        } else { /* float -> 8 bit: round(x / scale) + zero point, in double as TFLite's optimized path */
            int8_t *dst = (int8_t *)out;
            for (j = 0; j < n; j++) {
                const double v = round((double)fin[j] / (double)y->scale) + y->zero_point;
                dst[j] = (int8_t)(v > -128.0 ? (v < 127.0 ? (int32_t)v : 127) : -128); /* NaN -> -128 */
            }
        }
        return QMCU_OK;
    case QMCU_OP_CAST: cast_values(x, in0, y, out, n); return QMCU_OK;
    case QMCU_OP_DEQUANTIZE: {
        const int8_t *src = (const int8_t *)in0;
        for (j = 0; j < n; j++) fout[j] = x->scale * (float)(src[j] - x->zero_point);
        return QMCU_OK;
    }
    case QMCU_OP_LOGISTIC:
    case QMCU_OP_HARD_SWISH:
        if (q) {
            qmcu_lut_s8(po->u.lut, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
        } else {
            for (j = 0; j < n; j++) {
                const float v = fin[j];
                float r6 = v + 3.0f;
                r6 = r6 < 0.0f ? 0.0f : (r6 > 6.0f ? 6.0f : r6);
                /* exp in double, rounded once: the same bytes with every C library (host, newlib) */
                fout[j] = op->type == QMCU_OP_LOGISTIC ? (float)(1.0 / (1.0 + exp(-(double)v))) : v * r6 / 6.0f;
            }
        }
        return QMCU_OK;
    case QMCU_OP_RELU:
    case QMCU_OP_RELU6:
        if (q) {
            qmcu_requantize_s8(&po->u.requant, (int32_t)n, (const int8_t *)in0, (int8_t *)out);
        } else {
            for (j = 0; j < n; j++)
                fout[j] = fin[j] < po->act_min_f ? po->act_min_f : (fin[j] > po->act_max_f ? po->act_max_f : fin[j]);
        }
        return QMCU_OK;
    default: return QMCU_ERR_UNSUPPORTED;
    }
}

/* TFLite's per-channel hybrid path: the filter has several scales and they are not all equal. */
static int hybrid_per_channel(const qmcu_tensor *w)
{
    int k;
    for (k = 1; k < w->n_scales; k++)
        if (w->scales[k] != w->scales[0]) return 1;
    return 0;
}

static int is_spatial(qmcu_op_type t) { return qmcu_op_has(t, QMCU_OPT_WINDOW); }

/* Conv / depthwise / pool for output window o of op i into `out` (contiguous); ov: the parameters
 * of a QuantMCU format combination instead of the prepared ones (NULL: prepared). */
static qmcu_status run_spatial(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                               const uint8_t *in_buf, void *out, void *scratch, size_t scratch_bytes,
                               const qmcu_conv_override *ov)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const int q = TENSOR(m, op->out)->type == QMCU_I8;
    qmcu_conv_params cp;
    qmcu_pool_params pp;
    qmcu_conv_f32_params fp;
    qmcu_dims in, od, fd = {1, 1, 1, 1};
    size_t skip;
    const void *w = NULL, *bias = NULL;
    const qmcu_requant *rq = &po->u.conv.rq;
    const int32_t *qbias = po->u.conv.bias; /* int8: the prepared (folded) bias */
    qmcu_tile_op_call(p, m, tile, i, o, &cp, &pp, &in, &od, &skip);
    in_buf += skip;
    if (op->type == QMCU_OP_CONV_2D || op->type == QMCU_OP_DEPTHWISE_CONV_2D) {
        const qmcu_tensor *wt = TENSOR(m, op->in[1]);
        fd = (qmcu_dims){wt->dims[0], wt->dims[1], wt->dims[2], wt->dims[3]};
        w = wt->data;
        bias = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2])->data : NULL;
        fp = po->u.conv.f32;
        fp.pad_top = cp.pad_top;
        fp.pad_left = cp.pad_left;
    }
    if (ov) { /* a QuantMCU format combination: its offsets, range, multipliers, bias (and weights) */
        cp.input_offset = ov->conv->input_offset;
        cp.filter_offset = ov->conv->filter_offset;
        if (ov->weights) w = ov->weights;
        cp.output_offset = ov->conv->output_offset;
        cp.act_min = ov->conv->act_min;
        cp.act_max = ov->conv->act_max;
        cp.input_code_bits = ov->conv->input_code_bits;
        rq = ov->rq;
        qbias = ov->bias;
    }
    switch (op->type) {
    case QMCU_OP_CONV_2D:
        if (q)
            return qmcu_conv_s8(&cp, rq, &in, (const int8_t *)in_buf, &fd, (const int8_t *)w, qbias, &od, (int8_t *)out,
                                scratch, scratch_bytes);
        if (qmcu_op_is_hybrid(m->g, op)) { /* layer stage only: the whole input */
            const qmcu_tensor *wt = TENSOR(m, op->in[1]);
            if ((size_t)(in.h * in.w * in.c) > scratch_bytes) return QMCU_ERR_NOMEM;
            qmcu_conv_hybrid(&fp, &in, (const float *)in_buf, &fd, (const int8_t *)w,
                             wt->n_scales > 1 ? wt->scales : &wt->scale, hybrid_per_channel(wt), (const float *)bias,
                             &od, (float *)out, (int8_t *)scratch);
            return QMCU_OK;
        }
        qmcu_conv_f32(&fp, &in, (const float *)in_buf, &fd, (const float *)w, (const float *)bias, &od, (float *)out);
        return QMCU_OK;
    case QMCU_OP_DEPTHWISE_CONV_2D:
        if (q)
            return qmcu_depthwise_conv_s8(&cp, rq, &in, (const int8_t *)in_buf, &fd, (const int8_t *)w, qbias, &od,
                                          (int8_t *)out, scratch, scratch_bytes);
        qmcu_depthwise_conv_f32(&fp, &in, (const float *)in_buf, &fd, (const float *)w, (const float *)bias, &od,
                                (float *)out);
        return QMCU_OK;
    default:
        if (q) return qmcu_pool_s8(&pp, &in, (const int8_t *)in_buf, &od, (int8_t *)out);
        qmcu_pool_f32(&pp, po->act_min_f, po->act_max_f, &in, (const float *)in_buf, &od, (float *)out);
        return QMCU_OK;
    }
}

static qmcu_status run_inplace_depthwise(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *wt = TENSOR(m, op->in[1]);
    const qmcu_dims fd = {wt->dims[0], wt->dims[1], wt->dims[2], wt->dims[3]};
    qmcu_conv_params cp;
    qmcu_dims in, od;
    qmcu_tile_op_call_whole(p, m, tile, i, &cp, &in, &od);
    return qmcu_depthwise_conv_s8_inplace(&cp, &po->u.conv.rq, &in, &fd, (const int8_t *)wt->data, po->u.conv.bias, &od,
                                          (int8_t *)mem + p->tensor_offset[op->in[0]], mem + p->scratch_offset[i],
                                          p->scratch_bytes[i]);
}

/* PAD on a window: each output pixel is the input pixel it maps to, or the zero point. */
static void run_pad_window(const qmcu_model *m, int i, const view *in, const view *out, qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *y = TENSOR(m, op->out);
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    int32_t oy, ox;
    for (oy = r.h0; oy < r.h1; oy++)
        for (ox = r.w0; ox < r.w1; ox++) {
            const int32_t iy = oy - op->pads[1][0], ix = ox - op->pads[2][0];
            uint8_t *dst = at(out, oy, ox, px);
            if (iy >= 0 && iy < x->dims[1] && ix >= 0 && ix < x->dims[2])
                memcpy(dst, at(in, iy, ix, px), px);
            else if (y->type == QMCU_I8)
                memset(dst, (int8_t)y->zero_point, px);
            else
                memset(dst, 0, px); /* float 0.0 */
        }
}

/* Ops that only exist layer by layer: whole tensors, broadcasting allowed. */
/* Elements before and after dimension `axis` of t: [outer][axis][inner]. */
static void around_axis(const qmcu_tensor *t, int axis, int32_t *outer, int32_t *inner)
{
    int j;
    *outer = *inner = 1;
    for (j = 0; j < axis; j++) *outer *= t->dims[j];
    for (j = axis + 1; j < t->ndim; j++) *inner *= t->dims[j];
}

/* RESIZE_BILINEAR output rows [r0, r1) for the input's type. */
static void resize_rows(const qmcu_resize_params *rp, const qmcu_tensor *x, const void *in, int32_t r0, int32_t r1,
                        void *out)
{
    if (x->type == QMCU_F32)
        qmcu_resize_bilinear_f32(rp, (const float *)in, r0, r1, (float *)out);
    else if (x->from_uint8)
        qmcu_resize_bilinear_u8(rp, (const int8_t *)in, r0, r1, (int8_t *)out);
    else
        qmcu_resize_bilinear_s8(rp, (const int8_t *)in, r0, r1, (int8_t *)out);
}

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

/* TFLite's CalculateActivationRange for int32 outputs. */
static void act_range_i32(qmcu_activation act, int32_t *lo, int32_t *hi)
{
    *lo = act == QMCU_ACT_NONE ? INT32_MIN : (act == QMCU_ACT_RELU_N1_TO_1 ? -1 : 0);
    *hi = act == QMCU_ACT_RELU6 ? 6 : (act == QMCU_ACT_RELU_N1_TO_1 ? 1 : INT32_MAX);
}

/* CAST: n values converted (static_cast): 8-bit tensors hold raw integers (uint8: stored + 128). */
static void cast_values(const qmcu_tensor *x, const void *in, const qmcu_tensor *y, void *out, int64_t n)
{
    int64_t j;
    for (j = 0; j < n; j++) {
        int64_t iv = 0;
        float fv = 0.0f;
        int is_f = 0;
        switch (x->type) {
        case QMCU_F32:
            fv = ((const float *)in)[j];
            is_f = 1;
            break;
        case QMCU_I8: iv = ((const int8_t *)in)[j] + (x->from_uint8 ? 128 : 0); break;
        case QMCU_I32: iv = ((const int32_t *)in)[j]; break;
        case QMCU_I64: iv = ((const int64_t *)in)[j]; break;
        case QMCU_I16: iv = ((const int16_t *)in)[j]; break;
        }
        switch (y->type) {
        case QMCU_F32: ((float *)out)[j] = is_f ? fv : (x->type == QMCU_I64 ? (float)iv : (float)(int32_t)iv); break;
        case QMCU_I32: /* float -> int truncates; out-of-range values saturate (undefined in C++) */
            ((int32_t *)out)[j] =
                is_f ? (fv >= 2147483647.0f ? INT32_MAX : (fv > -2147483648.0f ? (int32_t)fv : INT32_MIN))
                     : (int32_t)iv;
            break;
        case QMCU_I64:
            ((int64_t *)out)[j] =
                is_f ? (fv >= 9.2233720e18f ? INT64_MAX : (fv > -9.2233720e18f ? (int64_t)fv : INT64_MIN)) : iv;
            break;
        default: break; /* 8-bit outputs are not CAST targets (import) */
        }
    }
}

static qmcu_status run_global(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int i)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *x = TENSOR(m, op->in[0]), *y = TENSOR(m, op->out);
    void *in0 = buffer_of(m, p, mem, -1, i, op->in[0]).ptr;
    void *out = buffer_of(m, p, mem, -1, i, op->out).ptr;
    void *scratch = mem + p->scratch_offset[i];
    const int q = y->type == QMCU_I8;
    const int64_t n = qmcu_tensor_elems(y);
    int32_t d[4];
    qmcu_tensor_dims4(x, d);
    switch (op->type) {
    case QMCU_OP_FULLY_CONNECTED: {
        const qmcu_tensor *w = TENSOR(m, op->in[1]);
        const int32_t k = w->dims[1], rows = (int32_t)(qmcu_tensor_elems(x) / k);
        if (!q && w->type == QMCU_I8) { /* dynamic range */
            const void *bias = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2])->data : NULL;
            if ((size_t)k > p->scratch_bytes[i]) return QMCU_ERR_NOMEM;
            qmcu_fully_connected_hybrid(rows, k, (const float *)in0, w->dims[0], (const int8_t *)w->data, w->scale,
                                        (const float *)bias, po->act_min_f, po->act_max_f, (float *)out,
                                        (int8_t *)scratch);
            return QMCU_OK;
        }
        if (!q) {
            const void *bias = op->n_in > 2 && op->in[2] >= 0 ? TENSOR(m, op->in[2])->data : NULL;
            qmcu_fully_connected_f32(rows, k, (const float *)in0, w->dims[0], (const float *)w->data,
                                     (const float *)bias, po->act_min_f, po->act_max_f, (float *)out);
            return QMCU_OK;
        }
        return qmcu_fully_connected_s8(&po->u.conv.params, &po->u.conv.rq, rows, k, (const int8_t *)in0, w->dims[0],
                                       (const int8_t *)w->data, po->u.conv.bias, (int8_t *)out);
    }
    case QMCU_OP_ADD:
    case QMCU_OP_SUB:
    case QMCU_OP_MUL:
    case QMCU_OP_DIV:
    case QMCU_OP_FLOOR_DIV: {
        const qmcu_tensor *x2 = TENSOR(m, op->in[1]);
        const void *in1 = buffer_of(m, p, mem, -1, i, op->in[1]).ptr;
        const int kind = binary_kind(op->type);
        int32_t d2[4], dy[4];
        qmcu_tensor_dims4(x2, d2);
        qmcu_tensor_dims4(y, dy);
        if (q) return qmcu_eltwise_s8(&po->u.elt, d, (const int8_t *)in0, d2, (const int8_t *)in1, dy, (int8_t *)out);
        if (y->type == QMCU_I32) {
            int32_t lo, hi;
            act_range_i32(op->act, &lo, &hi);
            return qmcu_eltwise_i32(kind, d, (const int32_t *)in0, d2, (const int32_t *)in1, dy, lo, hi,
                                    (int32_t *)out);
        }
        qmcu_eltwise_f32(kind, d, (const float *)in0, d2, (const float *)in1, dy, po->act_min_f, po->act_max_f,
                         (float *)out);
        return QMCU_OK;
    }
    case QMCU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM:
        return qmcu_lstm_s8(&po->u.lstm, (const int8_t *)in0, (int8_t *)out, scratch, p->scratch_bytes[i]);
    case QMCU_OP_SQRT: {
        int64_t j;
        for (j = 0; j < n; j++) ((float *)out)[j] = sqrtf(((const float *)in0)[j]);
        return QMCU_OK;
    }
    case QMCU_OP_PACK: { /* inputs of one shape stacked along the output's axis */
        int32_t outer, inner;
        int j;
        around_axis(y, op->axis, &outer, &inner);
        for (j = 0; j < op->n_in; j++)
            qmcu_concat_copy(outer, 1, op->n_in, j, inner, qmcu_dtype_size(y->type),
                             buffer_of(m, p, mem, -1, i, op->in[j]).ptr, out);
        return QMCU_OK;
    }
    case QMCU_OP_GATHER_ND: {
        const qmcu_tensor *ix = TENSOR(m, op->in[1]);
        const int depth = ix->dims[ix->ndim - 1];
        return qmcu_gather_nd(x->dims, x->ndim, qmcu_dtype_size(x->type), in0,
                              buffer_of(m, p, mem, -1, i, op->in[1]).ptr, ix->type == QMCU_I64,
                              (int32_t)(qmcu_tensor_elems(ix) / depth), depth, out);
    }
    case QMCU_OP_MEAN:
        if (q)
            return qmcu_mean_s8(&po->u.mean, d, (const int8_t *)in0, (int8_t *)out, (int32_t *)scratch,
                                p->scratch_bytes[i]);
        qmcu_mean_f32(op->reduce_mask, d, (const float *)in0, (float *)out);
        return QMCU_OK;
    case QMCU_OP_PAD: {
        const int8_t zp8 = (int8_t)y->zero_point;
        const float zf = 0.0f;
        qmcu_pad(d, op->pads, qmcu_dtype_size(y->type), q ? (const void *)&zp8 : (const void *)&zf, in0, out);
        return QMCU_OK;
    }
    case QMCU_OP_RESHAPE:
        if (in0 != out) memmove(out, in0, y->bytes);
        return QMCU_OK;
    case QMCU_OP_TRANSPOSE: {
        int perm[4], j, pad = 4 - x->ndim;
        for (j = 0; j < 4; j++) perm[j] = j < pad ? j : op->perm[j - pad] + pad;
        qmcu_transpose(d, perm, qmcu_dtype_size(y->type), in0, out);
        return QMCU_OK;
    }
    case QMCU_OP_CONCATENATION: {
        int32_t outer, inner, off = 0;
        int j;
        around_axis(y, op->axis, &outer, &inner);
        for (j = 0; j < op->n_in; j++) {
            const qmcu_tensor *xi = TENSOR(m, op->in[j]);
            const void *src = buffer_of(m, p, mem, -1, i, op->in[j]).ptr;
            if (q && (xi->scale != y->scale || xi->zero_point != y->zero_point)) /* uint8 only (prepare) */
                qmcu_concat_copy_rescale_u8(outer, xi->dims[op->axis], y->dims[op->axis], off, inner, xi->scale,
                                            xi->zero_point + 128, y->scale, y->zero_point + 128, (const int8_t *)src,
                                            (int8_t *)out);
            else
                qmcu_concat_copy(outer, xi->dims[op->axis], y->dims[op->axis], off, inner, qmcu_dtype_size(y->type),
                                 src, out);
            off += xi->dims[op->axis];
        }
        return QMCU_OK;
    }
    case QMCU_OP_RESIZE_BILINEAR: {
        const qmcu_resize_params rp = qmcu_op_resize_params(m->g, op);
        const int32_t rows = rp.batches * rp.out_h;
        int32_t r;
        if (!(p->fused_next && p->fused_next[i])) {
            resize_rows(&rp, x, in0, 0, rows, out);
            return QMCU_OK;
        }
        { /* fused with the ARG_MAX over channels after it: one resized row at a time in scratch */
            const qmcu_tensor *cls = TENSOR(m, m->g->ops[i + 1].out);
            uint8_t *dst = (uint8_t *)buffer_of(m, p, mem, -1, i + 1, m->g->ops[i + 1].out).ptr;
            const size_t row_bytes = (size_t)rp.out_w * qmcu_dtype_size(cls->type);
            for (r = 0; r < rows; r++) {
                resize_rows(&rp, x, in0, r, r + 1, scratch);
                qmcu_arg_max(rp.out_w, rp.channels, 1, !q, scratch, cls->type == QMCU_I64, dst + (size_t)r * row_bytes);
            }
        }
        return QMCU_OK;
    }
    case QMCU_OP_RESIZE_NEAREST_NEIGHBOR: {
        const qmcu_resize_params rp = qmcu_op_resize_params(m->g, op);
        qmcu_resize_nearest(&rp, qmcu_dtype_size(y->type), qmcu_op_resize_kind(m->g, op) == 3, 0, rp.batches * rp.out_h,
                            in0, out);
        return QMCU_OK;
    }
    case QMCU_OP_SLICE: { /* the output's entries along the axis: all of them over outer x inner */
        int32_t outer, inner;
        around_axis(x, op->axis, &outer, &inner);
        qmcu_slice_copy(outer, x->dims[op->axis], (int32_t)(n / ((int64_t)outer * inner)), op->slice_begin, inner,
                        qmcu_dtype_size(y->type), in0, out);
        return QMCU_OK;
    }
    case QMCU_OP_DETECTION_POSTPROCESS: {
        const qmcu_tensor *sc = TENSOR(m, op->in[1]);
        qmcu_detection_inputs di;
        int k;
        for (k = 0; k < 3; k++) {
            const qmcu_tensor *t = TENSOR(m, op->in[k]);
            di.scale[k] = t->type == QMCU_I8 ? t->scale : 0.0f;
            di.zero_point[k] = t->zero_point;
        }
        di.num_boxes = x->dims[1];
        di.code_len = x->dims[2];
        di.num_classes_with_background = sc->dims[2];
        di.boxes = in0;
        di.scores = buffer_of(m, p, mem, -1, i, op->in[1]).ptr;
        di.anchors = buffer_of(m, p, mem, -1, i, op->in[2]).ptr;
        return qmcu_detection_postprocess(&op->detect, &di, scratch, p->scratch_bytes[i], (float *)out);
    }
    case QMCU_OP_ARG_MAX: {
        int32_t outer, inner;
        around_axis(x, op->axis, &outer, &inner);
        qmcu_arg_max(outer, x->dims[op->axis], inner, x->type == QMCU_F32, in0, y->type == QMCU_I64, out);
        return QMCU_OK;
    }
    case QMCU_OP_SOFTMAX: {
        const int32_t len = y->dims[y->ndim - 1], rows = (int32_t)(n / len);
        if (q)
            qmcu_softmax_s8(&po->u.softmax, rows, len, (const int8_t *)in0, (int8_t *)out);
        else
            qmcu_softmax_f32(op->beta, rows, len, (const float *)in0, (float *)out);
        return QMCU_OK;
    }
    default: return run_elementwise(m, i, in0, NULL, out, n);
    }
}

/* A spatial op's output window o (a part of its tile region): one call when o spans whole rows
 * of the output buffer, else row by row into place (a tile of S, a halo-cached block). */
static qmcu_status run_spatial_window(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                      qmcu_window o, const qmcu_conv_override *ov)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = TENSOR(m, op->out);
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    const view out = buffer_of(m, p, mem, tile, i, op->out), in0 = buffer_of(m, p, mem, tile, i, op->in[0]);
    void *scratch = mem + p->scratch_offset[i];
    qmcu_window row = o;
    if (o.w0 == out.b.w0 && o.w1 == out.b.w1)
        return run_spatial(m, p, tile, i, o, in0.ptr, at(&out, o.h0, o.w0, px), scratch, p->scratch_bytes[i], ov);
    for (row.h0 = o.h0; row.h0 < o.h1; row.h0++) {
        qmcu_status st;
        row.h1 = row.h0 + 1;
        st = run_spatial(m, p, tile, i, row, in0.ptr, at(&out, row.h0, o.w0, px), scratch, p->scratch_bytes[i], ov);
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
    return run_spatial_window(m, p, mem, tile, i, w, ov);
}

static size_t align16(size_t v) { return (v + 15) & ~(size_t)15; }

/* A conv fused with the ADD after it (p->fused_next): output window o row by row into a row buffer
 * (start of the conv's scratch; the conv's own scratch follows), then the ADD of that row and
 * the other input's row, written over the other input (element by element: in place is safe).
 * The bytes equal the two ops run one after the other. */
static qmcu_status run_conv_add(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                qmcu_window o)
{
    const qmcu_op *op = &m->g->ops[i], *add = &m->g->ops[i + 1];
    const qmcu_tensor *y = TENSOR(m, op->out);
    const int32_t cout = y->dims[3], n = (o.w1 - o.w0) * cout;
    const int first = add->in[0] == op->out; /* the conv's output is the ADD's first input */
    const view skip = buffer_of(m, p, mem, tile, i + 1, add->in[first ? 1 : 0]);
    const view z = buffer_of(m, p, mem, tile, i + 1, add->out);
    int8_t *rowbuf = (int8_t *)(mem + p->scratch_offset[i]);
    const size_t row_bytes = align16((size_t)n);
    const int32_t d[4] = {1, 1, 1, n};
    qmcu_window row = o;
    if (row_bytes > p->scratch_bytes[i]) return QMCU_ERR_NOMEM;
    for (row.h0 = o.h0; row.h0 < o.h1; row.h0++) {
        const int8_t *other = (const int8_t *)at(&skip, row.h0, o.w0, (size_t)cout);
        qmcu_status st;
        row.h1 = row.h0 + 1;
        st = run_spatial(m, p, tile, i, row, buffer_of(m, p, mem, tile, i, op->in[0]).ptr, rowbuf,
                         (uint8_t *)rowbuf + row_bytes, p->scratch_bytes[i] - row_bytes, NULL);
        if (st != QMCU_OK) return st;
        st = qmcu_eltwise_s8(&m->ops[i + 1].u.elt, d, first ? rowbuf : other, d, first ? other : rowbuf, d,
                             (int8_t *)at(&z, row.h0, o.w0, (size_t)cout));
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

/* A binary element-wise op whose other input is a per-channel or scalar constant, on window r: row
 * segments [1, 1, w, C] against the constant broadcast ([1, 1, 1, C] or [1, 1, 1, 1]). */
static qmcu_status run_channel_constant_rows(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile,
                                             int i, qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_tensor *y = TENSOR(m, op->out);
    const int c = qmcu_op_channel_constant(m->g, op) - 1, a = 1 - c; /* constant input, activation input */
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    const view out = buffer_of(m, p, mem, tile, i, op->out), act = buffer_of(m, p, mem, tile, i, op->in[a]);
    const void *k = TENSOR(m, op->in[c])->data;
    const int32_t seg[4] = {1, 1, r.w1 - r.w0, y->dims[3]};
    int32_t kd[4], row;
    qmcu_tensor_dims4(TENSOR(m, op->in[c]), kd);
    for (row = r.h0; row < r.h1; row++) {
        const void *x = at(&act, row, r.w0, px);
        const void *in1 = c ? x : k, *in2 = c ? k : x;
        const int32_t *d1 = c ? seg : kd, *d2 = c ? kd : seg;
        void *o = at(&out, row, r.w0, px);
        qmcu_status st = QMCU_OK;
        if (y->type == QMCU_I8) {
            st = qmcu_eltwise_s8(&po->u.elt, d1, (const int8_t *)in1, d2, (const int8_t *)in2, seg, (int8_t *)o);
        } else if (y->type == QMCU_I32) {
            int32_t lo, hi;
            act_range_i32(op->act, &lo, &hi);
            st = qmcu_eltwise_i32(binary_kind(op->type), d1, (const int32_t *)in1, d2, (const int32_t *)in2, seg, lo,
                                  hi, (int32_t *)o);
        } else {
            qmcu_eltwise_f32(binary_kind(op->type), d1, (const float *)in1, d2, (const float *)in2, seg, po->act_min_f,
                             po->act_max_f, (float *)o);
        }
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

/* Op i on window r of its output (a part of its tile region; layer stage: the whole tensor). */
static qmcu_status run_op_window(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = TENSOR(m, op->out);
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    const view out = buffer_of(m, p, mem, tile, i, op->out), in0 = buffer_of(m, p, mem, tile, i, op->in[0]);
    view in1;
    int32_t row;
    if (qmcu_window_empty(r)) return QMCU_OK;
    if (p->fused_next && p->fused_next[i]) return run_conv_add(m, p, mem, tile, i, r);
    if (is_spatial(op->type)) {
        if (p->in_place[i]) return run_inplace_depthwise(m, p, mem, tile, i);
        return run_spatial_window(m, p, mem, tile, i, r, NULL);
    }
    if (op->type == QMCU_OP_PAD) {
        run_pad_window(m, i, &in0, &out, r);
        return QMCU_OK;
    }
    if (op->type == QMCU_OP_RESIZE_BILINEAR || op->type == QMCU_OP_RESIZE_NEAREST_NEIGHBOR) {
        qmcu_resize_params rp = qmcu_op_resize_params(m->g, op); /* over the input buffer's region */
        const qmcu_tensor *x = TENSOR(m, op->in[0]);
        rp.view_y0 = in0.b.h0;
        rp.view_x0 = in0.b.w0;
        rp.view_w = in0.b.w1 - in0.b.w0;
        rp.out_x0 = r.w0;
        rp.out_x1 = r.w1;
        for (row = r.h0; row < r.h1; row++) {
            void *o = at(&out, row, r.w0, px);
            if (op->type == QMCU_OP_RESIZE_NEAREST_NEIGHBOR)
                qmcu_resize_nearest(&rp, qmcu_dtype_size(y->type), qmcu_op_resize_kind(m->g, op) == 3, row, row + 1,
                                    in0.ptr, o);
            else
                resize_rows(&rp, x, in0.ptr, row, row + 1, o);
        }
        return QMCU_OK;
    }
    if (qmcu_op_channel_constant(m->g, op)) return run_channel_constant_rows(m, p, mem, tile, i, r);
    in1 = op->n_in > 1 ? buffer_of(m, p, mem, tile, i, op->in[1]) : in0;
    for (row = r.h0; row < r.h1; row++) { /* element-wise, row segment by row segment */
        const size_t in_px = (size_t)y->dims[3] * qmcu_dtype_size(TENSOR(m, op->in[0])->type);
        const qmcu_status st = run_elementwise(m, i, at(&in0, row, r.w0, in_px), at(&in1, row, r.w0, in_px),
                                               at(&out, row, r.w0, px), (int64_t)(r.w1 - r.w0) * y->dims[3]);
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

/* Copies n pixels of px bytes, converting the codes when cv is given (one code per byte). */
static void copy_pixels(uint8_t *dst, const uint8_t *src, int32_t n, size_t px, const qmcu_code_convert *cv)
{
    const int32_t c_n = (int32_t)px;
    int32_t j, c;
    if (!cv) {
        memcpy(dst, src, (size_t)n * px);
        return;
    }
    for (j = 0; j < n; j++)
        for (c = 0; c < c_n; c++) {
            const int32_t in = (int8_t)src[(size_t)j * px + (size_t)c];
            int32_t v = qmcu_multiply_by_quantized_multiplier(in - cv->in_zp, cv->rq.multiplier[c], cv->rq.shift[c]) +
                        cv->out_zp;
            v = qmcu_clamp(v, cv->lo, cv->hi);
            if (cv->code_max && v > cv->code_max[c]) v = cv->code_max[c];
            dst[(size_t)j * px + (size_t)c] = (uint8_t)(int8_t)v;
        }
}

qmcu_status qmcu_exec_halo_copy_in(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                   const qmcu_halo_io *io)
{
    const qmcu_tensor *y = TENSOR(m, m->g->ops[i].out);
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    const size_t line = (size_t)y->dims[2] * px; /* a line-buffer row: the tensor's width */
    const view out = buffer_of(m, p, mem, tile, i, m->g->ops[i].out);
    const qmcu_window r = qmcu_tile_region(p, tile, i), c = qmcu_halo_compute_window(p, tile, i);
    int32_t yy;
    if (!p->halo || !p->halo[i] || qmcu_window_empty(r)) return QMCU_OK;
    if (c.w0 > r.w0) { /* columns [r.w0, c.w0) of every row: the column cache (written by the tile before) */
        const uint8_t *cols = mem + p->col_cache_offset[i];
        const qmcu_code_convert *cv = io ? io->from[cols[0] & 1] : NULL;
        cols += qmcu_halo_col_tag_bytes(p);
        for (yy = r.h0; yy < r.h1; yy++)
            copy_pixels(at(&out, yy, r.w0, px), cols + (size_t)(yy - r.h0) * (size_t)(c.w0 - r.w0) * px, c.w0 - r.w0,
                        px, cv);
    }
    if (c.h0 > r.h0) { /* rows [r.h0, c.h0), columns [c.w0, r.w1): the line buffer (written by the tile above) */
        const uint8_t *lines = mem + p->row_cache_offset[i];
        const qmcu_code_convert *cv = io ? io->from[lines[tile % p->grid_w] & 1] : NULL;
        lines += qmcu_halo_row_tag_bytes(p);
        for (yy = r.h0; yy < c.h0; yy++)
            copy_pixels(at(&out, yy, c.w0, px), lines + (size_t)(yy - r.h0) * line + (size_t)c.w0 * px, r.w1 - c.w0, px,
                        cv);
    }
    return QMCU_OK;
}

void qmcu_exec_halo_save(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                         const qmcu_halo_io *io)
{
    const qmcu_tensor *y = TENSOR(m, m->g->ops[i].out);
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    const size_t line = (size_t)y->dims[2] * px;
    const view out = buffer_of(m, p, mem, tile, i, m->g->ops[i].out);
    const qmcu_window r = qmcu_tile_region(p, tile, i), c = qmcu_halo_compute_window(p, tile, i);
    const int f = p->halo ? p->halo[i] : 0;
    int32_t yy;
    if (!f || qmcu_window_empty(r)) return;
    if ((f & QMCU_HALO_COLS) && tile % p->grid_w + 1 < p->grid_w) {
        /* the next tile of the row reads columns [next.w0, r.w1) */
        const qmcu_window next = qmcu_tile_region(p, tile + 1, i);
        uint8_t *cols = mem + p->col_cache_offset[i];
        if (qmcu_halo_col_tag_bytes(p)) cols[0] = (uint8_t)(io ? io->fmt : 1);
        cols += qmcu_halo_col_tag_bytes(p);
        if (!qmcu_window_empty(next) && next.w0 < r.w1)
            for (yy = r.h0; yy < r.h1; yy++)
                copy_pixels(cols + (size_t)(yy - r.h0) * (size_t)(r.w1 - next.w0) * px, at(&out, yy, next.w0, px),
                            r.w1 - next.w0, px, NULL);
    }
    if ((f & QMCU_HALO_ROWS) && tile + p->grid_w < p->n_tiles) {
        /* the tile below reads rows [below.h0, r.h1); this tile owns columns [c.w0, r.w1) of the line buffer,
           which no later tile of this row reads any more */
        const qmcu_window below = qmcu_tile_region(p, tile + p->grid_w, i);
        uint8_t *lines = mem + p->row_cache_offset[i];
        if (qmcu_halo_row_tag_bytes(p)) lines[tile % p->grid_w] = (uint8_t)(io ? io->fmt : 1);
        lines += qmcu_halo_row_tag_bytes(p);
        for (yy = below.h0 > r.h0 ? below.h0 : r.h0; !qmcu_window_empty(below) && yy < r.h1; yy++)
            copy_pixels(lines + (size_t)(yy - below.h0) * line + (size_t)c.w0 * px, at(&out, yy, c.w0, px), r.w1 - c.w0,
                        px, NULL);
    }
}

qmcu_status qmcu_exec_run_window(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window w)
{
    return run_op_window(m, p, mem, tile, i, w);
}

/* Op i of a tile with a cached halo: copy in what the neighbours computed (left columns from the
 * column cache, top rows from the line buffer), compute the rest, then keep what the next tile
 * of the row and the next row of tiles will read (see QMCU_HALO_*). Tiles run in raster order. */
static qmcu_status run_cached(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i)
{
    qmcu_status st;
    if (qmcu_window_empty(qmcu_tile_region(p, tile, i))) return QMCU_OK; /* a trailing tile: nothing to do */
    if ((st = qmcu_exec_halo_copy_in(m, p, mem, tile, i, NULL)) != QMCU_OK) return st;
    if ((st = run_op_window(m, p, mem, tile, i, qmcu_halo_compute_window(p, tile, i))) != QMCU_OK) return st;
    qmcu_exec_halo_save(m, p, mem, tile, i, NULL);
    return QMCU_OK;
}

qmcu_status qmcu_exec_run_op(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i)
{
    const qmcu_op *op = &m->g->ops[i];
    if (i >= p->split) tile = -1;
    if (i > 0 && p->fused_next && p->fused_next[i - 1]) return QMCU_OK; /* it ran with the op before it */
    if (tile < 0 && !is_spatial(op->type)) return run_global(m, p, mem, i);
    if (tile >= 0 && p->halo && p->halo[i]) return run_cached(m, p, mem, tile, i);
    return run_op_window(m, p, mem, tile, i, qmcu_op_window(p, tile, i));
}

qmcu_op_hook_fn qmcu_op_hook = 0;

qmcu_status qmcu_exec_run(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, const qmcu_run_options *opt)
{
    static const qmcu_run_options defaults = {0, NULL, NULL, NULL};
    int tile, i;
    qmcu_status st;
    if (!opt) opt = &defaults;
    for (tile = 0; tile < p->n_tiles; tile++) {
        if (p->lowbit) {
            if ((st = qmcu_lowbit_run_tile_ops(m, p, mem, tile, p->split, opt)) != QMCU_OK) return st;
            continue;
        }
        for (i = 0; i < p->split; i++) {
            if (qmcu_op_hook) qmcu_op_hook(i, 0);
            st = qmcu_exec_run_op(m, p, mem, tile, i);
            if (st != QMCU_OK && opt && opt->failed_op) *opt->failed_op = i;
            if (qmcu_op_hook) qmcu_op_hook(i, 1);
            if (st != QMCU_OK) return st;
        }
    }
    if (opt->stats && !p->lowbit) {
        opt->stats->patch_bitops += p->patch_macs * 64;
        opt->stats->tiles += p->n_tiles;
    }
    for (i = p->split; i < m->g->n_ops; i++) {
        if (qmcu_op_hook) qmcu_op_hook(i, 0);
        st = qmcu_exec_run_op(m, p, mem, -1, i);
        if (st != QMCU_OK && opt && opt->failed_op) *opt->failed_op = i;
        if (qmcu_op_hook) qmcu_op_hook(i, 1);
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

void qmcu_exec_set_input(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int index, const void *bytes)
{
    const int ti = m->g->inputs[index];
    const qmcu_tensor *t = TENSOR(m, ti);
    uint8_t *dst = mem + p->tensor_offset[ti];
    size_t i;
    memcpy(dst, bytes, t->bytes);
    if (t->from_uint8)
        for (i = 0; i < t->bytes; i++) dst[i] ^= 0x80;
}

void qmcu_exec_get_output(const qmcu_model *m, const qmcu_exec_plan *p, const uint8_t *mem, int index, void *bytes)
{
    const int ti = m->g->outputs[index];
    const qmcu_tensor *t = TENSOR(m, ti);
    uint8_t *dst = (uint8_t *)bytes;
    size_t i;
    memcpy(dst, mem + p->tensor_offset[ti], t->bytes);
    if (t->from_uint8)
        for (i = 0; i < t->bytes; i++) dst[i] ^= 0x80;
}
