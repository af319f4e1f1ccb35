#include "qmcu_fixedpoint.h"
#include "quantmcu/kernels.h"

qmcu_status qmcu_pool_s8(const qmcu_pool_params *p, const qmcu_dims *in, const int8_t *input, const qmcu_dims *out,
                         int8_t *output)
{
    int32_t b, oy, ox, c, ky, kx;
    for (b = 0; b < out->n; b++)
        for (oy = 0; oy < out->h; oy++)
            for (ox = 0; ox < out->w; ox++) {
                const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
                const int32_t ky0 = y0 < 0 ? -y0 : 0, kx0 = x0 < 0 ? -x0 : 0;
                const int32_t ky1 = in->h - y0 < p->filter_h ? in->h - y0 : p->filter_h;
                const int32_t kx1 = in->w - x0 < p->filter_w ? in->w - x0 : p->filter_w;
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                int8_t *o = output + (((size_t)b * out->h + oy) * out->w + ox) * out->c;
                if (count <= 0) return QMCU_ERR_ARG;
                for (c = 0; c < out->c; c++) {
                    int32_t acc = p->is_max ? -128 : 0, v;
                    for (ky = ky0; ky < ky1; ky++)
                        for (kx = kx0; kx < kx1; kx++) {
                            const int32_t x = input[(((size_t)b * in->h + y0 + ky) * in->w + x0 + kx) * in->c + c];
                            if (p->is_max)
                                acc = x > acc ? x : acc;
                            else
                                acc += x + p->value_offset;
                        }
                    if (p->is_max) {
                        v = acc;
                    } else { /* round to nearest, ties away from zero (TFLite) */
                        v = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                        v -= p->value_offset;
                    }
                    o[c] = (int8_t)qmcu_clamp(v, p->act_min, p->act_max);
                }
            }
    return QMCU_OK;
}
