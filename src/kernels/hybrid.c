/* Dynamic-range ("hybrid") CONV_2D as TFLite 2.9 runs it: float activations, int8 weights. The
 * input is quantized at run time, per batch, then the integer sums are scaled back to float:
 *  - weights with one scale (or all scales equal): SymmetricQuantizeFloats (scale max|x| / 127,
 *    codes -127..127), out = sum * (input scale * filter scale) + bias (HybridConv);
 *  - weights with per-channel scales: AsymmetricQuantizeFloats (range [min(0, x), max(0, x)] over
 *    -128..127, nudged zero point, in double), out = (sum - zero point terms) * (channel scale *
 *    input scale) + bias (HybridConvPerChannel).
 * Padding contributes nothing in either (TFLite pads with the zero point and subtracts it). Float
 * expressions keep TFLite's order, without fused multiply-adds. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <string.h>

#include "qmcu_fixedpoint.h"
#include "quantmcu/kernels.h"

static void quantize_symmetric(const float *v, int64_t n, int8_t *q, float *scale)
{
    float lo = v[0], hi = v[0], range, inv;
    int64_t i;
    for (i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    range = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
    if (range == 0.0f) {
        memset(q, 0, (size_t)n);
        *scale = 1.0f;
        return;
    }
    *scale = range / 127.0f;
    inv = 127.0f / range;
    for (i = 0; i < n; i++) {
        const int32_t c = qmcu_float_to_int_sat(roundf(v[i] * inv)); /* NaN / inf inputs saturate, never trap */
        q[i] = (int8_t)(c < -127 ? -127 : (c > 127 ? 127 : c));
    }
}

static void quantize_asymmetric(const float *v, int64_t n, int8_t *q, float *scale, int32_t *zero_point)
{
    float lo = v[0], hi = v[0], inv;
    double rmin, rmax, s, zp_min, zp_max, zp;
    int64_t i;
    for (i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    rmin = lo < 0.0f ? (double)lo : 0.0;
    rmax = hi > 0.0f ? (double)hi : 0.0;
    if (rmin == rmax) {
        memset(q, 0, (size_t)n);
        *scale = 1.0f;
        *zero_point = 0;
        return;
    }
    s = (rmax - rmin) / 255.0;
    zp_min = -128.0 - rmin / s;
    zp_max = 127.0 - rmax / s;
    zp = 128.0 + fabs(rmin / s) < 127.0 + fabs(rmax / s) ? zp_min : zp_max;
    *zero_point = !(zp > -128.0) ? -128 : (zp >= 127.0 ? 127 : (int32_t)round(zp)); /* NaN: -128 */
    *scale = (float)s;
    inv = (float)(1.0 / (double)*scale);
    for (i = 0; i < n; i++) {
        const int32_t c = qmcu_float_to_int_sat(roundf((float)*zero_point + v[i] * inv));
        q[i] = (int8_t)(c < -128 ? -128 : (c > 127 ? 127 : c));
    }
}

void qmcu_fully_connected_hybrid(int32_t rows, int32_t k, const float *input, int32_t out_ch, const int8_t *w,
                                 float w_scale, const float *bias, float act_min, float act_max, float *output,
                                 int8_t *scratch)
{
    int32_t r, o, j;
    for (r = 0; r < rows; r++, input += k, output += out_ch) {
        float scale;
        quantize_symmetric(input, k, scratch, &scale);
        scale *= w_scale; /* TFLite: scaling_factors[b] *= filter scale */
        for (o = 0; o < out_ch; o++) {
            uint32_t dot = 0; /* int32 wrapping, as TFLite's */
            float v;
            for (j = 0; j < k; j++) dot += (uint32_t)((int32_t)w[(size_t)o * k + j] * scratch[j]);
            v = (bias ? bias[o] : 0.0f) + (float)(int32_t)dot * scale; /* output = bias, then += dot * scale */
            output[o] = v < act_min ? act_min : (v > act_max ? act_max : v);
        }
    }
}

void qmcu_conv_hybrid(const qmcu_conv_f32_params *p, const qmcu_dims *in, const float *input, const qmcu_dims *filter,
                      const int8_t *filter_data, const float *filter_scales, int per_channel, const float *bias,
                      const qmcu_dims *out, float *output, int8_t *scratch)
{
    const int64_t batch_elems = (int64_t)in->h * in->w * in->c;
    int32_t b, oy, ox, oc, ky, kx, c;
    for (b = 0; b < out->n; b++) {
        const int8_t *q = scratch;
        float in_scale;
        int32_t zp = 0;
        if (per_channel)
            quantize_asymmetric(input + b * batch_elems, batch_elems, scratch, &in_scale, &zp);
        else
            quantize_symmetric(input + b * batch_elems, batch_elems, scratch, &in_scale);
        for (oy = 0; oy < out->h; oy++)
            for (ox = 0; ox < out->w; ox++) {
                float *o = output + (((size_t)b * out->h + oy) * out->w + ox) * out->c;
                for (oc = 0; oc < out->c; oc++) {
                    uint32_t acc = 0; /* int32 wrapping, as TFLite's */
                    float v;
                    for (ky = 0; ky < filter->h; ky++) {
                        const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                        if (iy < 0 || iy >= in->h) continue;
                        for (kx = 0; kx < filter->w; kx++) {
                            const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                            const int8_t *x, *w;
                            if (ix < 0 || ix >= in->w) continue;
                            x = q + ((size_t)iy * in->w + ix) * in->c;
                            w = filter_data + (((size_t)oc * filter->h + ky) * filter->w + kx) * filter->c;
                            for (c = 0; c < in->c; c++) acc += (uint32_t)((int32_t)w[c] * ((int32_t)x[c] - zp));
                        }
                    }
                    if (per_channel) {
                        v = (float)(int32_t)acc * (filter_scales[oc] * in_scale);
                    } else {
                        v = 0.0f + (float)(int32_t)acc * (in_scale * filter_scales[0]);
                    }
                    if (bias) v = v + bias[oc];
                    o[oc] = v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v);
                }
            }
    }
}
