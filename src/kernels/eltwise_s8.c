#include "qmcu_fixedpoint.h"
#include "quantmcu/kernels.h"

static inline int8_t eltwise_one(const qmcu_eltwise_params *p, int32_t a, int32_t b)
{
    int32_t v;
    a += p->input1_offset;
    b += p->input2_offset;
    if (p->is_mul) {
        v = qmcu_multiply_by_quantized_multiplier(a * b, p->output_multiplier, p->output_shift);
    } else {
        const int32_t sa =
            qmcu_multiply_by_quantized_multiplier(a * (1 << p->left_shift), p->input1_multiplier, p->input1_shift);
        const int32_t sb =
            qmcu_multiply_by_quantized_multiplier(b * (1 << p->left_shift), p->input2_multiplier, p->input2_shift);
        v = qmcu_multiply_by_quantized_multiplier(sa + sb, p->output_multiplier, p->output_shift);
    }
    return (int8_t)qmcu_clamp(v + p->output_offset, p->act_min, p->act_max);
}

qmcu_status qmcu_eltwise_s8(const qmcu_eltwise_params *p, const int32_t in1_dims[4], const int8_t *in1,
                            const int32_t in2_dims[4], const int8_t *in2, const int32_t out_dims[4], int8_t *out)
{
    int32_t s1[4], s2[4], i0, i1, i2, i3;
    int d, same = 1;
    for (d = 0; d < 4; d++)
        if (in1_dims[d] != out_dims[d] || in2_dims[d] != out_dims[d]) same = 0;
    if (same) {
        const int32_t n = out_dims[0] * out_dims[1] * out_dims[2] * out_dims[3];
        for (i0 = 0; i0 < n; i0++) out[i0] = eltwise_one(p, in1[i0], in2[i0]);
        return QMCU_OK;
    }
    qmcu_broadcast_strides(in1_dims, s1);
    qmcu_broadcast_strides(in2_dims, s2);
    for (i0 = 0; i0 < out_dims[0]; i0++)
        for (i1 = 0; i1 < out_dims[1]; i1++)
            for (i2 = 0; i2 < out_dims[2]; i2++)
                for (i3 = 0; i3 < out_dims[3]; i3++)
                    *out++ = eltwise_one(p, in1[i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3]],
                                         in2[i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3]]);
    return QMCU_OK;
}

qmcu_status qmcu_eltwise_s8_per_channel(const qmcu_eltwise_params *p, int32_t channels, int32_t n_pixels,
                                        const int8_t *in1, const int8_t *in2, int8_t *out)
{
    int32_t px, c;
    for (px = 0; px < n_pixels; px++)
        for (c = 0; c < channels; c++, in1++, in2++, out++) *out = eltwise_one(&p[c], *in1, *in2);
    return QMCU_OK;
}
