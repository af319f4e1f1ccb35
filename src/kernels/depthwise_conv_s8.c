/* Depthwise convolution, direct: per output pixel, accumulate every in-range tap into an
 * int32 row over all output channels (contiguous in NHWC, so the channel loop vectorises),
 * then requantize. Out-of-range taps are skipped: they contribute (zp - zp) * w = 0.
 *
 * In-place variant (TinyEngine's idea, done by rows): the output overwrites the input buffer.
 * Output rows are computed into a small ring in scratch and copied to their final place as
 * soon as no later output row reads the input bytes they cover. */
#include <string.h>

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

/* First input byte that output rows >= y still read (SIZE_MAX when y is past the end). */
static size_t first_needed_byte(const qmcu_conv_params *p, const qmcu_dims *in, const qmcu_dims *out, int32_t y)
{
    int32_t row;
    if (y >= out->h) return (size_t)-1;
    row = y * p->stride_h - p->pad_top;
    return (size_t)(row > 0 ? row : 0) * (size_t)in->w * (size_t)in->c;
}

/* Ring rows the in-place schedule needs: replays the schedule of the kernel below. */
static int32_t inplace_ring_rows(const qmcu_conv_params *p, const qmcu_dims *in, const qmcu_dims *out)
{
    const size_t row_bytes = (size_t)out->w * (size_t)out->c;
    int32_t y, flushed = 0, ring = 1;
    for (y = 0; y < out->h; y++) {
        const size_t need = first_needed_byte(p, in, out, y + 1);
        if (y - flushed + 1 > ring) ring = y - flushed + 1;
        while (flushed <= y && (size_t)(flushed + 1) * row_bytes <= need) flushed++;
    }
    return ring;
}

size_t qmcu_depthwise_s8_inplace_scratch_size(const qmcu_conv_params *p, const qmcu_dims *in, const qmcu_dims *out)
{
    const size_t ring = (size_t)inplace_ring_rows(p, in, out) * (size_t)out->w * (size_t)out->c;
    return ((ring + 3) & ~(size_t)3) + qmcu_depthwise_s8_scratch_size(out);
}

qmcu_status qmcu_depthwise_conv_s8_inplace(const qmcu_conv_params *p, const qmcu_requant *rq, const qmcu_dims *in,
                                           const qmcu_dims *filter, const int8_t *filter_data, const int32_t *bias,
                                           const qmcu_dims *out, int8_t *buffer, void *scratch, size_t scratch_bytes)
{
    const int32_t ring = inplace_ring_rows(p, in, out);
    const size_t row_bytes = (size_t)out->w * (size_t)out->c;
    const size_t ring_bytes = ((size_t)ring * row_bytes + 3) & ~(size_t)3;
    const size_t in_row = (size_t)in->w * (size_t)in->c;
    int8_t *rows = (int8_t *)scratch;
    int32_t y, flushed = 0;
    if (in->n != 1 || out->n != 1) return QMCU_ERR_ARG;
    if (!scratch || scratch_bytes < qmcu_depthwise_s8_inplace_scratch_size(p, in, out)) return QMCU_ERR_NOMEM;
    for (y = 0; y < out->h; y++) {
        /* one output row: shift the input view down to the row's first tap */
        qmcu_conv_params row_p = *p;
        qmcu_dims row_in = *in, row_out = *out;
        int32_t top = y * p->stride_h - p->pad_top, skip = top > 0 ? top : 0;
        size_t need;
        qmcu_status st;
        if (skip > in->h) skip = in->h;
        row_p.pad_top = skip - top;
        row_in.h = in->h - skip;
        row_out.h = 1;
        st = qmcu_depthwise_conv_s8(&row_p, rq, &row_in, buffer + (size_t)skip * in_row, filter, filter_data, bias,
                                    &row_out, rows + (size_t)(y % ring) * row_bytes, (int8_t *)scratch + ring_bytes,
                                    scratch_bytes - ring_bytes);
        if (st != QMCU_OK) return st;
        need = first_needed_byte(p, in, out, y + 1);
        while (flushed <= y && (size_t)(flushed + 1) * row_bytes <= need) {
            memcpy(buffer + (size_t)flushed * row_bytes, rows + (size_t)(flushed % ring) * row_bytes, row_bytes);
            flushed++;
        }
    }
    return QMCU_OK;
}
