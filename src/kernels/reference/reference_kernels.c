#include "reference_kernels.h"

#include "../qmcu_fixedpoint.h"

void qmcu_ref_conv_s8(const qmcu_conv_params *p, const qmcu_requant *rq, int depthwise, const qmcu_dims *in,
                      const int8_t *input, const qmcu_dims *filter, const int8_t *filter_data, const int32_t *bias,
                      const qmcu_dims *out, int8_t *output)
{
    int32_t b, oy, ox, oc, ky, kx, ic;
    for (b = 0; b < out->n; b++)
        for (oy = 0; oy < out->h; oy++)
            for (ox = 0; ox < out->w; ox++)
                for (oc = 0; oc < out->c; oc++) {
                    int32_t acc = bias ? bias[oc] : 0, v;
                    for (ky = 0; ky < filter->h; ky++)
                        for (kx = 0; kx < filter->w; kx++) {
                            const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                            const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w) continue;
                            if (depthwise) {
                                const int32_t x =
                                    input[(((size_t)b * in->h + iy) * in->w + ix) * in->c + oc / p->depth_multiplier];
                                const int32_t w = filter_data[((size_t)ky * filter->w + kx) * filter->c + oc];
                                acc += (x + p->input_offset) * (w + p->filter_offset);
                            } else {
                                for (ic = 0; ic < in->c; ic++) {
                                    const int32_t x = input[(((size_t)b * in->h + iy) * in->w + ix) * in->c + ic];
                                    const int32_t w =
                                        filter_data[(((size_t)oc * filter->h + ky) * filter->w + kx) * filter->c + ic];
                                    acc += (x + p->input_offset) * (w + p->filter_offset);
                                }
                            }
                        }
                    v = depthwise
                            ? qmcu_multiply_by_quantized_multiplier(acc, rq->multiplier[oc], rq->shift[oc])
                            : qmcu_multiply_by_quantized_multiplier_ties_up(acc, rq->multiplier[oc], rq->shift[oc]);
                    output[(((size_t)b * out->h + oy) * out->w + ox) * out->c + oc] =
                        (int8_t)qmcu_clamp(v + p->output_offset, p->act_min, p->act_max);
                }
}

void qmcu_ref_fully_connected_s8(const qmcu_conv_params *p, const qmcu_requant *rq, int32_t rows, int32_t k,
                                 const int8_t *input, int32_t out_ch, const int8_t *filter_data, const int32_t *bias,
                                 int8_t *output)
{
    int32_t r, oc, i;
    for (r = 0; r < rows; r++)
        for (oc = 0; oc < out_ch; oc++) {
            int32_t acc = bias ? bias[oc] : 0, v;
            for (i = 0; i < k; i++)
                acc +=
                    (input[(size_t)r * k + i] + p->input_offset) * (filter_data[(size_t)oc * k + i] + p->filter_offset);
            v = qmcu_multiply_by_quantized_multiplier_ties_up(acc, rq->multiplier[oc], rq->shift[oc]);
            output[(size_t)r * out_ch + oc] = (int8_t)qmcu_clamp(v + p->output_offset, p->act_min, p->act_max);
        }
}

void qmcu_ref_pool_s8(const qmcu_pool_params *p, const qmcu_dims *in, const int8_t *input, const qmcu_dims *out,
                      int8_t *output)
{
    int32_t b, oy, ox, c, ky, kx;
    for (b = 0; b < out->n; b++)
        for (oy = 0; oy < out->h; oy++)
            for (ox = 0; ox < out->w; ox++)
                for (c = 0; c < out->c; c++) {
                    int32_t acc = p->is_max ? -128 : 0, count = 0, v;
                    for (ky = 0; ky < p->filter_h; ky++)
                        for (kx = 0; kx < p->filter_w; kx++) {
                            const int32_t iy = oy * p->stride_h - p->pad_top + ky,
                                          ix = ox * p->stride_w - p->pad_left + kx;
                            int32_t x;
                            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w) continue;
                            x = input[(((size_t)b * in->h + iy) * in->w + ix) * in->c + c] + p->value_offset;
                            acc = p->is_max ? (x - p->value_offset > acc ? x - p->value_offset : acc) : acc + x;
                            count++;
                        }
                    if (p->is_max) {
                        v = acc;
                    } else {
                        /* nearest, ties away from zero: sign(acc) * floor((|acc| + count/2) / count) */
                        const int32_t mag = ((acc < 0 ? -acc : acc) + count / 2) / count;
                        v = (acc < 0 ? -mag : mag) - p->value_offset;
                    }
                    output[(((size_t)b * out->h + oy) * out->w + ox) * out->c + c] =
                        (int8_t)qmcu_clamp(v, p->act_min, p->act_max);
                }
}

void qmcu_ref_eltwise_s8(const qmcu_eltwise_params *p, const int32_t in1_dims[4], const int8_t *in1,
                         const int32_t in2_dims[4], const int8_t *in2, const int32_t out_dims[4], int8_t *out)
{
    int32_t i[4], d;
    for (i[0] = 0; i[0] < out_dims[0]; i[0]++)
        for (i[1] = 0; i[1] < out_dims[1]; i[1]++)
            for (i[2] = 0; i[2] < out_dims[2]; i[2]++)
                for (i[3] = 0; i[3] < out_dims[3]; i[3]++) {
                    int32_t o1 = 0, o2 = 0, a, b, v;
                    for (d = 0; d < 4; d++) {
                        o1 = o1 * in1_dims[d] + (in1_dims[d] == 1 ? 0 : i[d]);
                        o2 = o2 * in2_dims[d] + (in2_dims[d] == 1 ? 0 : i[d]);
                    }
                    a = in1[o1] + p->input1_offset;
                    b = in2[o2] + p->input2_offset;
                    if (p->is_mul) {
                        v = qmcu_multiply_by_quantized_multiplier(a * b, p->output_multiplier, p->output_shift);
                    } else {
                        a = qmcu_multiply_by_quantized_multiplier(a * (1 << p->left_shift), p->input1_multiplier,
                                                                  p->input1_shift);
                        b = qmcu_multiply_by_quantized_multiplier(b * (1 << p->left_shift), p->input2_multiplier,
                                                                  p->input2_shift);
                        v = qmcu_multiply_by_quantized_multiplier(a + b, p->output_multiplier, p->output_shift);
                    }
                    *out++ = (int8_t)qmcu_clamp(v + p->output_offset, p->act_min, p->act_max);
                }
}
