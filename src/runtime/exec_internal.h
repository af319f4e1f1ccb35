/* Executor internals shared by the executor and the operator files (src/runtime/ops/): buffer
 * views of a plan's memory block and small helpers. Device code: no allocation, no I/O. */
#ifndef QMCU_EXEC_INTERNAL_H
#define QMCU_EXEC_INTERNAL_H

#include "quantmcu/runtime.h"
#include "tile_geometry.h"

#define QMCU_TENSOR(m, i) (&(m)->g->tensors[(i)])

/* A tensor's buffer as one op of one tile sees it. */
typedef struct {
    uint8_t *ptr;
    qmcu_window b; /* region held, global coordinates (whole tensor outside the patch stage) */
} qmcu_view;

/* Buffer of tensor t as op `i` of tile `tile` sees it (tile < 0: layer stage). */
static inline qmcu_view qmcu_view_of(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i, int t)
{
    const qmcu_tensor *x = QMCU_TENSOR(m, t);
    qmcu_view v;
    v.ptr = x->data ? (uint8_t *)x->data : mem + p->tensor_offset[t];
    v.b = qmcu_tile_buffer_region(p, tile, i, t);
    return v;
}

/* Address of global pixel (y, x) in a view of a tensor with rows of pixel_bytes per pixel. */
static inline uint8_t *qmcu_view_at(const qmcu_view *v, int32_t y, int32_t x, size_t pixel_bytes)
{
    return v->ptr + ((size_t)(y - v->b.h0) * (size_t)(v->b.w1 - v->b.w0) + (size_t)(x - v->b.w0)) * pixel_bytes;
}

static inline size_t qmcu_align16(size_t v) { return (v + 15) & ~(size_t)15; }

/* Elements before and after dimension `axis` of t: [outer][axis][inner]. */
static inline void qmcu_around_axis(const qmcu_tensor *t, int axis, int32_t *outer, int32_t *inner)
{
    int j;
    *outer = *inner = 1;
    for (j = 0; j < axis; j++) *outer *= t->dims[j];
    for (j = axis + 1; j < t->ndim; j++) *inner *= t->dims[j];
}

/* Parameters of one QuantMCU format combination of a conv / depthwise op, used instead of the
 * prepared ones (lowbit_exec.c). */
typedef struct {
    const qmcu_conv_params *conv; /* offsets, activation range, input_code_bits */
    const qmcu_requant *rq;       /* its multipliers */
    const int32_t *bias;          /* its (folded) bias */
    const int8_t *weights;        /* NULL: the op's own */
} qmcu_conv_override;

/* A window op's kernel call: output window o (whole rows of `out`, contiguous) from its input
 * buffer in_buf; ov: a format combination (conv / depthwise), NULL: the prepared parameters. */
typedef qmcu_status (*qmcu_window_rows_fn)(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, qmcu_window o,
                                           const uint8_t *in_buf, void *out, void *scratch, size_t scratch_bytes,
                                           const qmcu_conv_override *ov);
/* Window op i (conv, depthwise, pooling) on output window o of its buffer: one call when o spans
 * whole rows of the output buffer, else row by row into place (a tile of S, a halo-cached block). */
qmcu_status qmcu_exec_window_rows(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                  qmcu_window o, qmcu_window_rows_fn fn, const qmcu_conv_override *ov);

/* An element-wise kernel on n contiguous elements of op i's inputs (in1: NULL for unary ops). */
typedef qmcu_status (*qmcu_elementwise_fn)(const qmcu_model *m, int i, const void *in0, const void *in1, void *out,
                                           int64_t n);
/* Element-wise op i on window r of a patch tile, row segment by row segment. */
qmcu_status qmcu_exec_elementwise_rows(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                       qmcu_window r, qmcu_elementwise_fn fn);

/* TFLite's CalculateActivationRange for int32 outputs. */
static inline void qmcu_act_range_i32(qmcu_activation act, int32_t *lo, int32_t *hi)
{
    *lo = act == QMCU_ACT_NONE ? INT32_MIN : (act == QMCU_ACT_RELU_N1_TO_1 ? -1 : 0);
    *hi = act == QMCU_ACT_RELU6 ? 6 : (act == QMCU_ACT_RELU_N1_TO_1 ? 1 : INT32_MAX);
}

#endif
