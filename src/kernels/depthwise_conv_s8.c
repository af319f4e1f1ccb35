/* Depthwise convolution, direct: per output pixel, accumulate every in-range tap into an
 * int32 row over all output channels (contiguous in NHWC, so the channel loop vectorises),
 * then requantize. Out-of-range taps are skipped: they contribute (zp - zp) * w = 0. */
#include "qmcu_fixedpoint.h"
#include "qmcu_kernels.h"

size_t qmcu_depthwise_s8_scratch_size(const qmcu_dims *out) { return (size_t)out->c * sizeof(int32_t); }

qmcu_status qmcu_depthwise_conv_s8(const qmcu_conv_params *p, const qmcu_requant *rq, const qmcu_dims *in,
                                   const int8_t *input, const qmcu_dims *filter, const int8_t *filter_data,
                                   const int32_t *bias, const qmcu_dims *out, int8_t *output, void *scratch,
                                   size_t scratch_bytes)
{
    const int32_t oc_n = out->c, dm = p->depth_multiplier;
    int32_t *acc = (int32_t *)scratch;
    int32_t b, oy, ox, ky, kx, c, m;
    if (scratch_bytes < qmcu_depthwise_s8_scratch_size(out) || !scratch) return QMCU_ERR_NOMEM;
    if (filter->c != oc_n || in->c * dm != oc_n) return QMCU_ERR_ARG;
    for (b = 0; b < in->n; b++) {
        const int8_t *inb = input + (size_t)b * in->h * in->w * in->c;
        for (oy = 0; oy < out->h; oy++) {
            for (ox = 0; ox < out->w; ox++) {
                int8_t *o = output + (((size_t)b * out->h + oy) * out->w + ox) * oc_n;
                for (c = 0; c < oc_n; c++) acc[c] = bias ? bias[c] : 0;
                for (ky = 0; ky < filter->h; ky++) {
                    const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                    if (iy < 0 || iy >= in->h) continue;
                    for (kx = 0; kx < filter->w; kx++) {
                        const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                        const int8_t *x, *w;
                        if (ix < 0 || ix >= in->w) continue;
                        x = inb + ((size_t)iy * in->w + ix) * in->c;
                        w = filter_data + ((size_t)ky * filter->w + kx) * oc_n;
                        if (dm == 1) {
                            const int16_t xo = (int16_t)p->input_offset, wo = (int16_t)p->filter_offset;
                            for (c = 0; c < oc_n; c++) acc[c] += (int16_t)(x[c] + xo) * (int16_t)(w[c] + wo);
                        } else {
                            for (c = 0; c < in->c; c++)
                                for (m = 0; m < dm; m++)
                                    acc[c * dm + m] += (x[c] + p->input_offset) * (w[c * dm + m] + p->filter_offset);
                        }
                    }
                }
                for (c = 0; c < oc_n; c++) {
                    int32_t v = qmcu_multiply_by_quantized_multiplier(acc[c], rq->multiplier[c], rq->shift[c]);
                    o[c] = (int8_t)qmcu_clamp(v + p->output_offset, p->act_min, p->act_max);
                }
            }
        }
    }
    return QMCU_OK;
}
