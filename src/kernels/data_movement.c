/* Data movement; the one float expression (uint8 concatenation with rescaling) keeps TFLite's
 * operation order, without fused multiply-adds, on every target. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <string.h>

#include "quantmcu/kernels.h"

void qmcu_broadcast_strides(const int32_t dims[4], int32_t strides[4])
{
    int d;
    strides[3] = 1;
    for (d = 2; d >= 0; d--) strides[d] = strides[d + 1] * dims[d + 1];
    for (d = 0; d < 4; d++)
        if (dims[d] == 1) strides[d] = 0;
}

void qmcu_pad(const int32_t in_dims[4], const int32_t pads[4][2], size_t elem_size, const void *pad_value,
              const void *in, void *out)
{
    int32_t od[4], i0, i1, i2, i3;
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    int d;
    for (d = 0; d < 4; d++) od[d] = in_dims[d] + pads[d][0] + pads[d][1];
    for (i0 = 0; i0 < od[0]; i0++)
        for (i1 = 0; i1 < od[1]; i1++)
            for (i2 = 0; i2 < od[2]; i2++) {
                const int inside = i0 >= pads[0][0] && i0 < pads[0][0] + in_dims[0] && i1 >= pads[1][0] &&
                                   i1 < pads[1][0] + in_dims[1] && i2 >= pads[2][0] && i2 < pads[2][0] + in_dims[2];
                for (i3 = 0; i3 < od[3]; i3++, dst += elem_size) {
                    if (inside && i3 >= pads[3][0] && i3 < pads[3][0] + in_dims[3]) {
                        memcpy(dst, src, elem_size);
                        src += elem_size;
                    } else {
                        memcpy(dst, pad_value, elem_size);
                    }
                }
            }
}

void qmcu_transpose(const int32_t in_dims[4], const int perm[4], size_t elem_size, const void *in, void *out)
{
    int32_t is[4], os[4], idx[4];
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    int d;
    is[3] = 1;
    for (d = 2; d >= 0; d--) is[d] = is[d + 1] * in_dims[d + 1];
    for (d = 0; d < 4; d++) os[d] = is[perm[d]]; /* input stride of output dim d */
    for (idx[0] = 0; idx[0] < in_dims[perm[0]]; idx[0]++)
        for (idx[1] = 0; idx[1] < in_dims[perm[1]]; idx[1]++)
            for (idx[2] = 0; idx[2] < in_dims[perm[2]]; idx[2]++)
                for (idx[3] = 0; idx[3] < in_dims[perm[3]]; idx[3]++, dst += elem_size)
                    memcpy(dst,
                           src +
                               (size_t)(idx[0] * os[0] + idx[1] * os[1] + idx[2] * os[2] + idx[3] * os[3]) * elem_size,
                           elem_size);
}

void qmcu_concat_copy(int32_t outer, int32_t in_axis, int32_t out_axis, int32_t axis_offset, int32_t inner,
                      size_t elem_size, const void *in, void *out)
{
    int32_t o;
    const size_t chunk = (size_t)in_axis * inner * elem_size;
    for (o = 0; o < outer; o++)
        memcpy((uint8_t *)out + ((size_t)o * out_axis + axis_offset) * inner * elem_size,
               (const uint8_t *)in + o * chunk, chunk);
}

void qmcu_concat_copy_rescale_u8(int32_t outer, int32_t in_axis, int32_t out_axis, int32_t axis_offset, int32_t inner,
                                 float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, const int8_t *in,
                                 int8_t *out)
{
    const float scale = in_scale * (1.0f / out_scale), bias = (float)-in_zp * scale;
    const size_t chunk = (size_t)in_axis * (size_t)inner;
    int32_t o;
    size_t j;
    for (o = 0; o < outer; o++) {
        const int8_t *src = in + (size_t)o * chunk;
        int8_t *dst = out + ((size_t)o * out_axis + axis_offset) * (size_t)inner;
        for (j = 0; j < chunk; j++) { /* uint8 values: stored + 128 */
            const float r = roundf((float)(src[j] + 128) * scale + bias);
            int32_t v = (r > -1e6f ? (r < 1e6f ? (int32_t)r : 1000000) : -1000000) + out_zp;
            v = v < 0 ? 0 : (v > 255 ? 255 : v);
            dst[j] = (int8_t)(v - 128);
        }
    }
}

void qmcu_slice_copy(int32_t outer, int32_t in_axis, int32_t out_axis, int32_t axis_offset, int32_t inner,
                     size_t elem_size, const void *in, void *out)
{
    const size_t chunk = (size_t)out_axis * (size_t)inner * elem_size;
    int32_t o;
    for (o = 0; o < outer; o++)
        memcpy((uint8_t *)out + (size_t)o * chunk,
               (const uint8_t *)in + ((size_t)o * in_axis + axis_offset) * (size_t)inner * elem_size, chunk);
}

qmcu_status qmcu_gather_nd(const int32_t *params_dims, int params_ndim, size_t elem_size, const void *params,
                           const void *indices, int indices_are_64, int32_t n_tuples, int depth, void *out)
{
    size_t slice = elem_size;
    int32_t t;
    int d;
    for (d = depth; d < params_ndim; d++) slice *= (size_t)params_dims[d];
    for (t = 0; t < n_tuples; t++) {
        size_t at = 0;
        for (d = 0; d < depth; d++) {
            const int64_t k = (int64_t)t * depth + d;
            const int64_t v = indices_are_64 ? ((const int64_t *)indices)[k] : ((const int32_t *)indices)[k];
            if (v < 0 || v >= params_dims[d]) return QMCU_ERR_ARG;
            at = at * (size_t)params_dims[d] + (size_t)v;
        }
        memcpy((uint8_t *)out + (size_t)t * slice, (const uint8_t *)params + at * slice, slice);
    }
    return QMCU_OK;
}
