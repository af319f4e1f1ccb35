/* RESIZE_BILINEAR and ARG_MAX with TFLite 2.9's arithmetic (see quantmcu/kernels.h). The float
 * expressions keep TFLite's operation order, and no multiply-add may be fused (TFLite's x86 build
 * does not fuse them; a Cortex-M4F or an FMA host would): contraction is off for this file, so the
 * host and the MCU compute the same bytes. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <string.h>

#include "quantmcu/kernels.h"

/* ComputeInterpolationValues: source position, lower and upper neighbour. */
static void interp_f(int32_t v, float scale, int half_pixel, int32_t size, float *pos, int32_t *lo, int32_t *hi)
{
    const float s = half_pixel ? ((float)v + 0.5f) * scale - 0.5f : (float)v * scale;
    const int32_t f = (int32_t)floorf(s), c = (int32_t)ceilf(s);
    *pos = s;
    *lo = f > 0 ? f : 0;
    *hi = c < size - 1 ? c : size - 1;
}

static float scale_f(int align_corners, int32_t in, int32_t out)
{
    return align_corners && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
}

/* Pixel (y, x) of the image in the input view. */
#define VIEW_PX(img, p, y, x, c)                                                                                       \
    ((img) + ((size_t)((y) - (p)->view_y0) * (size_t)(p)->view_w + (size_t)((x) - (p)->view_x0)) * (size_t)(c))

void qmcu_resize_bilinear_u8(const qmcu_resize_params *p, const int8_t *in, int32_t row0, int32_t row1, int8_t *out)
{
    const float hs = scale_f(p->align_corners, p->in_h, p->out_h), ws = scale_f(p->align_corners, p->in_w, p->out_w);
    const int32_t c = p->channels;
    int32_t r, x, d;
    for (r = row0; r < row1; r++) {
        const int32_t b = r / p->out_h, y = r % p->out_h;
        const int8_t *img = in + (size_t)b * p->in_h * p->view_w * c;
        {
            float fy;
            int32_t y0, y1;
            interp_f(y, hs, p->half_pixel_centers, p->in_h, &fy, &y0, &y1);
            for (x = p->out_x0; x < p->out_x1; x++) {
                float fx, w[4];
                int32_t x0, x1;
                const int8_t *q[4];
                interp_f(x, ws, p->half_pixel_centers, p->in_w, &fx, &x0, &x1);
                w[0] = (1 - (fy - (float)y0)) * (1 - (fx - (float)x0));
                w[1] = (1 - (fy - (float)y0)) * (fx - (float)x0);
                w[2] = (fy - (float)y0) * (1 - (fx - (float)x0));
                w[3] = (fy - (float)y0) * (fx - (float)x0);
                q[0] = VIEW_PX(img, p, y0, x0, c);
                q[1] = VIEW_PX(img, p, y0, x1, c);
                q[2] = VIEW_PX(img, p, y1, x0, c);
                q[3] = VIEW_PX(img, p, y1, x1, c);
                for (d = 0; d < c; d++) { /* on the uint8 values, then back to storage */
                    const float v = (float)(q[0][d] + 128) * w[0] + (float)(q[1][d] + 128) * w[1] +
                                    (float)(q[2][d] + 128) * w[2] + (float)(q[3][d] + 128) * w[3] + 0.5f;
                    const float t = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v); /* in range already */
                    *out++ = (int8_t)((int32_t)(uint8_t)t - 128);                /* static_cast<uint8_t>: truncation */
                }
            }
        }
    }
}

/* ComputeInterpolationValuesInteger: positions in 1/1024. */
static void interp_i(int32_t v, int32_t scale_10, int half_pixel, int32_t size, int32_t *pos, int32_t *lo, int32_t *hi)
{
    const int32_t s = half_pixel ? v * scale_10 + scale_10 / 2 - (1 << 9) : v * scale_10;
    const int32_t l = s / (1 << 10), h = (s + (1 << 10) - 1) / (1 << 10);
    *pos = s;
    *lo = l > 0 ? l : 0;
    *hi = h < size - 1 ? h : size - 1;
}

static int32_t scale_10(int align_corners, int32_t in, int32_t out)
{
    return align_corners && out > 1 ? ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1)
                                    : ((1 << 10) * in + out / 2) / out;
}

void qmcu_resize_bilinear_s8(const qmcu_resize_params *p, const int8_t *in, int32_t row0, int32_t row1, int8_t *out)
{
    const int32_t hs = scale_10(p->align_corners, p->in_h, p->out_h),
                  ws = scale_10(p->align_corners, p->in_w, p->out_w);
    const int32_t c = p->channels;
    int32_t r, x, d;
    for (r = row0; r < row1; r++) {
        const int32_t b = r / p->out_h, y = r % p->out_h;
        const int8_t *img = in + (size_t)b * p->in_h * p->view_w * c;
        {
            int32_t py, y0, y1;
            interp_i(y, hs, p->half_pixel_centers, p->in_h, &py, &y0, &y1);
            for (x = p->out_x0; x < p->out_x1; x++) {
                int32_t px, x0, x1;
                int64_t wy1, wy0, wx1, wx0;
                const int8_t *q00, *q01, *q10, *q11;
                interp_i(x, ws, p->half_pixel_centers, p->in_w, &px, &x0, &x1);
                wy1 = py - (1 << 10) * y0; /* weight of row y1, in 1/1024 */
                wy0 = (1 << 10) - wy1;
                wx1 = px - (1 << 10) * x0;
                wx0 = (1 << 10) - wx1;
                q00 = VIEW_PX(img, p, y0, x0, c);
                q01 = VIEW_PX(img, p, y0, x1, c);
                q10 = VIEW_PX(img, p, y1, x0, c);
                q11 = VIEW_PX(img, p, y1, x1, c);
                for (d = 0; d < c; d++) {
                    const int64_t acc = (int64_t)q00[d] * wy0 * wx0 + (int64_t)q10[d] * wy1 * wx0 +
                                        (int64_t)q01[d] * wy0 * wx1 + (int64_t)q11[d] * wy1 * wx1;
                    *out++ = (int8_t)((acc + (acc > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
                }
            }
        }
    }
}

/* One output pixel of the optimized float path: out = in * scale accumulated corner by corner. */
static void accumulate_f32(const float *src, int32_t c, float scale, float *dst)
{
    int32_t d;
    for (d = 0; d < c; d++) dst[d] += src[d] * scale;
}

void qmcu_resize_bilinear_f32(const qmcu_resize_params *p, const float *in, int32_t row0, int32_t row1, float *out)
{
    const int32_t c = p->channels;
    const float hs = scale_f(p->align_corners, p->in_h, p->out_h), ws = scale_f(p->align_corners, p->in_w, p->out_w);
    const int exact2x =
        !p->align_corners && !p->half_pixel_centers && p->out_h == 2 * p->in_h && p->out_w == 2 * p->in_w;
    int32_t r, x, d;
    for (r = row0; r < row1; r++) {
        const int32_t b = r / p->out_h, y = r % p->out_h;
        const float *img = in + (size_t)b * p->in_h * p->view_w * c;
        if (exact2x) { /* TFLite's 2x kernel: averages of neighbours, bottom rows from the averaged left column */
            const int32_t iy = y / 2, iy1 = iy + 1 < p->in_h ? iy + 1 : p->in_h - 1;
            for (x = p->out_x0; x < p->out_x1; x++) { /* output column x: input column x / 2, left or right half */
                const int32_t ix = x / 2, ix1 = ix + 1 < p->in_w ? ix + 1 : p->in_w - 1;
                const float *a = VIEW_PX(img, p, iy, ix, c), *bq = VIEW_PX(img, p, iy, ix1, c);
                const float *cq = VIEW_PX(img, p, iy1, ix, c), *dq = VIEW_PX(img, p, iy1, ix1, c);
                for (d = 0; d < c; d++) {
                    if (y % 2 == 0) {
                        out[d] = x % 2 == 0 ? a[d] : (a[d] + bq[d]) / 2;
                    } else {
                        const float bl = (a[d] + cq[d]) / 2;
                        out[d] = x % 2 == 0 ? bl : (bl + ((bq[d] + dq[d]) / 2)) / 2;
                    }
                }
                out += c;
            }
            continue;
        }
        {
            float fy;
            int32_t y0, y1;
            interp_f(y, hs, p->half_pixel_centers, p->in_h, &fy, &y0, &y1);
            for (x = p->out_x0; x < p->out_x1; x++) {
                float fx;
                int32_t x0, x1;
                interp_f(x, ws, p->half_pixel_centers, p->in_w, &fx, &x0, &x1);
                for (d = 0; d < c; d++) out[d] = 0.0f;
                accumulate_f32(VIEW_PX(img, p, y0, x0, c), c, (1 - (fy - y0)) * (1 - (fx - x0)), out);
                accumulate_f32(VIEW_PX(img, p, y0, x1, c), c, (1 - (fy - y0)) * (fx - x0), out);
                accumulate_f32(VIEW_PX(img, p, y1, x0, c), c, (fy - y0) * (1 - (fx - x0)), out);
                accumulate_f32(VIEW_PX(img, p, y1, x1, c), c, (fy - y0) * (fx - x0), out);
                out += c;
            }
        }
    }
}

/* GetNearestNeighbor (reference) or the fixed-point index of the optimized uint8 kernel. */
static int32_t nearest(int32_t v, int32_t in, int32_t out, const qmcu_resize_params *p, int fixed_point)
{
    int32_t r;
    if (fixed_point) {
        r = (int32_t)(((int64_t)v * (((int64_t)in << 16) / out + 1)) >> 16);
        return r < in - 1 ? r : in - 1;
    } else {
        const float scale = p->align_corners && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
        const float s = ((float)v + (p->half_pixel_centers ? 0.5f : 0.0f)) * scale;
        r = p->align_corners ? (int32_t)roundf(s) : (int32_t)floorf(s);
        r = r < in - 1 ? r : in - 1;
        return p->half_pixel_centers && r < 0 ? 0 : r;
    }
}

void qmcu_resize_nearest(const qmcu_resize_params *p, size_t elem_size, int fixed_point, int32_t row0, int32_t row1,
                         const void *in, void *out)
{
    const size_t px = (size_t)p->channels * elem_size;
    uint8_t *dst = (uint8_t *)out;
    int32_t r, x;
    for (r = row0; r < row1; r++) {
        const int32_t b = r / p->out_h, y = r % p->out_h;
        const uint8_t *img = (const uint8_t *)in + (size_t)b * p->in_h * p->view_w * px;
        const int32_t iy = nearest(y, p->in_h, p->out_h, p, fixed_point);
        for (x = p->out_x0; x < p->out_x1; x++, dst += px)
            memcpy(dst, VIEW_PX(img, p, iy, nearest(x, p->in_w, p->out_w, p, fixed_point), px), px);
    }
}

void qmcu_resize_source_range(const qmcu_resize_params *p, int kind, int axis, int32_t o0, int32_t o1, int32_t *i0,
                              int32_t *i1)
{
    const int32_t in = axis ? p->in_w : p->in_h, outn = axis ? p->out_w : p->out_h;
    const int exact2x =
        kind == 1 && !p->align_corners && !p->half_pixel_centers && p->out_h == 2 * p->in_h && p->out_w == 2 * p->in_w;
    int32_t o, lo = in, hi = 0;
    for (o = o0; o < o1; o++) { /* each output index reads input indices [a, b] */
        int32_t a, b, pos;
        float fpos;
        if (kind >= 2) {
            a = b = nearest(o, in, outn, p, kind == 3);
        } else if (exact2x) {
            a = o / 2;
            b = a + 1 < in ? a + 1 : in - 1;
        } else if (kind == 0) {
            interp_i(o, scale_10(p->align_corners, in, outn), p->half_pixel_centers, in, &pos, &a, &b);
        } else {
            interp_f(o, scale_f(p->align_corners, in, outn), p->half_pixel_centers, in, &fpos, &a, &b);
        }
        if (a < lo) lo = a;
        if (b + 1 > hi) hi = b + 1;
    }
    *i0 = lo < hi ? lo : 0;
    *i1 = lo < hi ? hi : 0;
}

void qmcu_arg_max(int32_t outer, int32_t axis, int32_t inner, int is_float, const void *in, int out_is_64, void *out)
{
    int32_t o, k, i;
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            const size_t base = (size_t)o * axis * inner + i;
            int32_t best = 0;
            for (k = 1; k < axis; k++) { /* strictly greater: the first index of the largest value wins */
                const size_t at = base + (size_t)k * inner, cur = base + (size_t)best * inner;
                if (is_float ? ((const float *)in)[at] > ((const float *)in)[cur]
                             : ((const int8_t *)in)[at] > ((const int8_t *)in)[cur])
                    best = k;
            }
            if (out_is_64)
                ((int64_t *)out)[(size_t)o * inner + i] = best;
            else
                ((int32_t *)out)[(size_t)o * inner + i] = best;
        }
}
