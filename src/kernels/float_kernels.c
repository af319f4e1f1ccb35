/* float32 kernels for float models (not bit-exact with TFLite's XNNPACK/ruy summation order). */
#include <math.h>
#include <string.h>

#include "quantmcu/kernels.h"

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

void qmcu_conv_f32(const qmcu_conv_f32_params *p, const qmcu_dims *in, const float *input, const qmcu_dims *filter,
                   const float *filter_data, const float *bias, const qmcu_dims *out, float *output)
{
    int32_t b, oy, ox, oc, ky, kx, c;
    for (b = 0; b < out->n; b++)
        for (oy = 0; oy < out->h; oy++)
            for (ox = 0; ox < out->w; ox++) {
                float *o = output + (((size_t)b * out->h + oy) * out->w + ox) * out->c;
                for (oc = 0; oc < out->c; oc++) {
                    float acc = bias ? bias[oc] : 0.0f;
                    for (ky = 0; ky < filter->h; ky++) {
                        const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                        if (iy < 0 || iy >= in->h) continue;
                        for (kx = 0; kx < filter->w; kx++) {
                            const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                            const float *x, *w;
                            if (ix < 0 || ix >= in->w) continue;
                            x = input + (((size_t)b * in->h + iy) * in->w + ix) * in->c;
                            w = filter_data + (((size_t)oc * filter->h + ky) * filter->w + kx) * filter->c;
                            for (c = 0; c < in->c; c++) acc += x[c] * w[c];
                        }
                    }
                    o[oc] = clampf(acc, p->act_min, p->act_max);
                }
            }
}

void qmcu_depthwise_conv_f32(const qmcu_conv_f32_params *p, const qmcu_dims *in, const float *input,
                             const qmcu_dims *filter, const float *filter_data, const float *bias, const qmcu_dims *out,
                             float *output)
{
    int32_t b, oy, ox, oc, ky, kx;
    for (b = 0; b < out->n; b++)
        for (oy = 0; oy < out->h; oy++)
            for (ox = 0; ox < out->w; ox++)
                for (oc = 0; oc < out->c; oc++) {
                    float acc = bias ? bias[oc] : 0.0f;
                    const int32_t ic = oc / p->depth_multiplier;
                    for (ky = 0; ky < filter->h; ky++) {
                        const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                        if (iy < 0 || iy >= in->h) continue;
                        for (kx = 0; kx < filter->w; kx++) {
                            const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                            if (ix < 0 || ix >= in->w) continue;
                            acc += input[(((size_t)b * in->h + iy) * in->w + ix) * in->c + ic] *
                                   filter_data[((size_t)ky * filter->w + kx) * out->c + oc];
                        }
                    }
                    output[(((size_t)b * out->h + oy) * out->w + ox) * out->c + oc] =
                        clampf(acc, p->act_min, p->act_max);
                }
}

void qmcu_fully_connected_f32(int32_t rows, int32_t k, const float *input, int32_t out_ch, const float *w,
                              const float *bias, float act_min, float act_max, float *output)
{
    int32_t r, oc, i;
    for (r = 0; r < rows; r++)
        for (oc = 0; oc < out_ch; oc++) {
            float acc = bias ? bias[oc] : 0.0f;
            for (i = 0; i < k; i++) acc += input[(size_t)r * k + i] * w[(size_t)oc * k + i];
            output[(size_t)r * out_ch + oc] = clampf(acc, act_min, act_max);
        }
}

void qmcu_pool_f32(const qmcu_pool_params *p, float act_min, float act_max, const qmcu_dims *in, const float *input,
                   const qmcu_dims *out, float *output)
{
    int32_t b, oy, ox, c, ky, kx;
    for (b = 0; b < out->n; b++)
        for (oy = 0; oy < out->h; oy++)
            for (ox = 0; ox < out->w; ox++)
                for (c = 0; c < out->c; c++) {
                    const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
                    float acc = p->is_max ? -INFINITY : 0.0f;
                    int32_t count = 0;
                    for (ky = 0; ky < p->filter_h; ky++)
                        for (kx = 0; kx < p->filter_w; kx++) {
                            const int32_t iy = y0 + ky, ix = x0 + kx;
                            float x;
                            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w) continue;
                            x = input[(((size_t)b * in->h + iy) * in->w + ix) * in->c + c];
                            acc = p->is_max ? (x > acc ? x : acc) : acc + x;
                            count++;
                        }
                    if (!p->is_max && count) acc /= (float)count;
                    output[(((size_t)b * out->h + oy) * out->w + ox) * out->c + c] = clampf(acc, act_min, act_max);
                }
}

/* The output elements of a broadcast binary op in order, with the offsets of both inputs. */
typedef struct {
    int32_t s1[4], s2[4], d[4], i[4];
    int started;
} broadcast_walk;

static void walk_init(broadcast_walk *w, const int32_t in1_dims[4], const int32_t in2_dims[4],
                      const int32_t out_dims[4])
{
    int k;
    qmcu_broadcast_strides(in1_dims, w->s1);
    qmcu_broadcast_strides(in2_dims, w->s2);
    for (k = 0; k < 4; k++) {
        w->d[k] = out_dims[k];
        w->i[k] = 0;
    }
    w->started = 0;
}

/* 0 when every element was visited; else the offsets of the next one. */
static int walk_next(broadcast_walk *w, int32_t *o1, int32_t *o2)
{
    int k;
    if (w->started) {
        for (k = 3; k >= 0; k--) { /* odometer */
            if (++w->i[k] < w->d[k]) break;
            w->i[k] = 0;
        }
        if (k < 0) return 0;
    } else {
        for (k = 0; k < 4; k++)
            if (w->d[k] <= 0) return 0;
        w->started = 1;
    }
    *o1 = *o2 = 0;
    for (k = 0; k < 4; k++) {
        *o1 += w->i[k] * w->s1[k];
        *o2 += w->i[k] * w->s2[k];
    }
    return 1;
}

void qmcu_eltwise_f32(int kind, const int32_t in1_dims[4], const float *in1, const int32_t in2_dims[4],
                      const float *in2, const int32_t out_dims[4], float act_min, float act_max, float *out)
{
    broadcast_walk w;
    int32_t o1, o2;
    walk_init(&w, in1_dims, in2_dims, out_dims);
    while (walk_next(&w, &o1, &o2)) {
        const float a = in1[o1], b = in2[o2];
        float v;
        switch (kind) {
        case 1: v = a * b; break;
        case 2: v = a - b; break;
        case 3: v = a / b; break;
        case 4: v = (float)floor((double)a / (double)b); break; /* TFLite's FloorDiv, in double */
        default: v = a + b; break;
        }
        *out++ = clampf(v, act_min, act_max);
    }
}

void qmcu_softmax_f32(float beta, int32_t rows, int32_t row_len, const float *in, float *out)
{
    int32_t r, j;
    for (r = 0; r < rows; r++, in += row_len, out += row_len) {
        float m = in[0], sum = 0.0f;
        for (j = 1; j < row_len; j++) m = in[j] > m ? in[j] : m;
        for (j = 0; j < row_len; j++) sum += (out[j] = expf((in[j] - m) * beta));
        for (j = 0; j < row_len; j++) out[j] /= sum;
    }
}

void qmcu_mean_f32(int reduce_mask, const int32_t dims[4], const float *in, float *out)
{
    int32_t od[4], os[4], i0, i1, i2, i3, count = 1, n_out = 1, i;
    int d;
    for (d = 0; d < 4; d++) {
        od[d] = (reduce_mask & (1 << d)) ? 1 : dims[d];
        if (reduce_mask & (1 << d)) count *= dims[d];
        n_out *= od[d];
    }
    qmcu_broadcast_strides(od, os); /* reduced dims have size 1 in od: stride 0 accumulates */
    memset(out, 0, (size_t)n_out * sizeof(float));
    for (i0 = 0; i0 < dims[0]; i0++)
        for (i1 = 0; i1 < dims[1]; i1++)
            for (i2 = 0; i2 < dims[2]; i2++)
                for (i3 = 0; i3 < dims[3]; i3++) out[i0 * os[0] + i1 * os[1] + i2 * os[2] + i3 * os[3]] += *in++;
    for (i = 0; i < n_out; i++) out[i] /= (float)count;
}

qmcu_status qmcu_eltwise_i32(int kind, const int32_t in1_dims[4], const int32_t *in1, const int32_t in2_dims[4],
                             const int32_t *in2, const int32_t out_dims[4], int32_t act_min, int32_t act_max,
                             int32_t *out)
{
    broadcast_walk w;
    int32_t o1, o2;
    walk_init(&w, in1_dims, in2_dims, out_dims);
    while (walk_next(&w, &o1, &o2)) {
        const int32_t a = in1[o1], b = in2[o2];
        int32_t v;
        switch (kind) { /* wrapping two's complement, as TFLite's int32 kernels on every target */
        case 1: v = (int32_t)((uint32_t)a * (uint32_t)b); break;
        case 2: v = (int32_t)((uint32_t)a - (uint32_t)b); break;
        case 4:
            if (b == 0) return QMCU_ERR_ARG; /* TFLite: "Division by 0" */
            { /* INT32_MIN / -1 overflows: saturate (TFLite's static_cast is undefined there) */
                const double q = floor((double)a / (double)b);
                v = q >= 2147483647.0 ? INT32_MAX : (int32_t)q;
            }
            break;
        default: v = (int32_t)((uint32_t)a + (uint32_t)b); break;
        }
        *out++ = v < act_min ? act_min : (v > act_max ? act_max : v);
    }
    return QMCU_OK;
}
