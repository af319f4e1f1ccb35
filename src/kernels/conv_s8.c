/* Convolution: im2col of a few output pixels at a time into scratch, then the GEMM core.
 * 1x1 / stride 1 / unpadded convolutions over whole input rows read the input directly (no scratch). */
#include <string.h>

#include "gemm_s8.h"

#define QMCU_IM2COL_ROWS 8 /* output pixels per im2col block */

/* 1x1, stride 1, nothing read from padding: output pixel (oy, ox) is input pixel
 * (oy - pad_top, ox - pad_left) (a window of a patch tile's buffer has pad <= 0), read in place. */
static int is_pointwise(const qmcu_conv_params *p, const qmcu_dims *in, const qmcu_dims *filter, const qmcu_dims *out)
{
    return filter->h == 1 && filter->w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top <= 0 &&
           p->pad_left <= 0 && out->w - p->pad_left <= in->w && out->h - p->pad_top <= in->h;
}

size_t qmcu_conv_s8_scratch_size(const qmcu_conv_params *p, const qmcu_dims *in, const qmcu_dims *filter,
                                 const qmcu_dims *out)
{
    if (is_pointwise(p, in, filter, out)) return 0;
    return (size_t)QMCU_IM2COL_ROWS * (size_t)filter->h * (size_t)filter->w * (size_t)filter->c;
}

void qmcu_conv_fold_bias(const qmcu_conv_params *p, int32_t out_ch, int32_t k, const int8_t *filter_data,
                         const int32_t *bias, int32_t *folded)
{
    int32_t oc, i;
    for (oc = 0; oc < out_ch; oc++) {
        /* modulo-2^32 arithmetic: the folded value may not fit int32 on its own, but the
         * kernel's final accumulator does (checked at import), and wrapping sums are exact */
        uint32_t wsum = 0;
        for (i = 0; i < k; i++) wsum += (uint32_t)(int32_t)filter_data[(size_t)oc * k + i];
        folded[oc] = (int32_t)((uint32_t)(bias ? bias[oc] : 0) + (uint32_t)p->input_offset * wsum +
                               (uint32_t)k * (uint32_t)p->input_offset * (uint32_t)p->filter_offset);
    }
}

/* One im2col row: the filter window of output pixel (oy, ox), (kh, kw, c) order like OHWI. */
static void im2col_row(const qmcu_conv_params *p, const qmcu_dims *in, const int8_t *input, const qmcu_dims *filter,
                       int32_t oy, int32_t ox, int8_t *dst)
{
    const int8_t pad_value = (int8_t)(-p->input_offset);
    const size_t c = (size_t)in->c;
    int32_t ky, kx;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    /* undilated window row inside the input: its pixels are contiguous, one copy */
    const int row_inside = p->dil_w == 1 && x0 >= 0 && x0 + filter->w <= in->w;
    for (ky = 0; ky < filter->h; ky++) {
        const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
        if (row_inside && iy >= 0 && iy < in->h) {
            memcpy(dst, input + ((size_t)iy * in->w + x0) * c, (size_t)filter->w * c);
            dst += (size_t)filter->w * c;
            continue;
        }
        for (kx = 0; kx < filter->w; kx++) {
            const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                memset(dst, pad_value, c);
            else
                memcpy(dst, input + ((size_t)iy * in->w + ix) * c, c);
            dst += c;
        }
    }
}

qmcu_status qmcu_conv_s8(const qmcu_conv_params *p, const qmcu_requant *rq, const qmcu_dims *in, const int8_t *input,
                         const qmcu_dims *filter, const int8_t *filter_data, const int32_t *bias, const qmcu_dims *out,
                         int8_t *output, void *scratch, size_t scratch_bytes)
{
    const int32_t k = filter->h * filter->w * filter->c;
    const int32_t pixels = out->h * out->w;
    int32_t b;
    if (filter->c != in->c || filter->n != out->c) return QMCU_ERR_ARG;
    if (is_pointwise(p, in, filter, out)) {
        for (b = 0; b < in->n; b++) {
            const int8_t *inb = input + ((size_t)b * in->h * in->w - (size_t)p->pad_top * in->w - p->pad_left) * in->c;
            int8_t *outb = output + (size_t)b * pixels * out->c;
            int32_t oy;
            if (in->w == out->w) { /* whole rows: one run of pixels */
                qmcu_gemm_s8(p, rq, inb, pixels, in->c, k, filter_data, out->c, bias, outb, out->c);
                continue;
            }
            for (oy = 0; oy < out->h; oy++)
                qmcu_gemm_s8(p, rq, inb + (size_t)oy * in->w * in->c, out->w, in->c, k, filter_data, out->c, bias,
                             outb + (size_t)oy * out->w * out->c, out->c);
        }
        return QMCU_OK;
    }
    if (scratch_bytes < qmcu_conv_s8_scratch_size(p, in, filter, out) || !scratch) return QMCU_ERR_NOMEM;
    for (b = 0; b < in->n; b++) {
        const int8_t *inb = input + (size_t)b * in->h * in->w * in->c;
        int8_t *outb = output + (size_t)b * pixels * out->c;
        int32_t px = 0;
        while (px < pixels) {
            int32_t n = pixels - px < QMCU_IM2COL_ROWS ? pixels - px : QMCU_IM2COL_ROWS, r;
            for (r = 0; r < n; r++)
                im2col_row(p, in, inb, filter, (px + r) / out->w, (px + r) % out->w, (int8_t *)scratch + (size_t)r * k);
            qmcu_gemm_s8(p, rq, (const int8_t *)scratch, n, k, k, filter_data, out->c, bias, outb + (size_t)px * out->c,
                         out->c);
            px += n;
        }
    }
    return QMCU_OK;
}

qmcu_status qmcu_fully_connected_s8(const qmcu_conv_params *p, const qmcu_requant *rq, int32_t rows, int32_t k,
                                    const int8_t *input, int32_t out_ch, const int8_t *filter_data, const int32_t *bias,
                                    int8_t *output)
{
    qmcu_gemm_s8(p, rq, input, rows, k, k, filter_data, out_ch, bias, output, out_ch);
    return QMCU_OK;
}
