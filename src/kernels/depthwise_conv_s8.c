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

#if defined(__ARM_FEATURE_DSP)
#include "qmcu_dsp.h"

/* gemmlowp requantization (ties away from zero), for a call whose shifts all have one sign
 * (`left`: all >= 0, else all <= 0; the usual case is multipliers below 1, right shifts
 * only): the other shift and its branches drop out, and multipliers are >= 0 by
 * construction, so the high multiply's overflow case cannot occur. Same results. */
static inline int8_t requant_dw(int32_t acc, int32_t multiplier, int32_t shift, int32_t offset, int32_t lo, int32_t hi,
                                const int left)
{
    int32_t h;
    if (left) {
        h = (int32_t)(((int64_t)(int32_t)((uint32_t)acc << shift) * multiplier + ((int64_t)1 << 30)) >> 31);
    } else {
        const int32_t r = -shift, mask = (int32_t)((1u << r) - 1u);
        h = (int32_t)(((int64_t)acc * multiplier + ((int64_t)1 << 30)) >> 31);
        h = (h >> r) + ((h & mask) > ((mask >> 1) + (h < 0)) ? 1 : 0);
    }
    h += offset;
    return (int8_t)(h < lo ? lo : (h > hi ? hi : h));
}

/* One tap on four channels: the input word x (its input offset added to each lane, xo) times
 * the weight lanes we (channels 0, 2) and wd (1, 3). */
#define QMCU_DW_MAC4(x, we, wd, a0, a1, a2, a3)                    \
    do {                                                            \
        const uint32_t x_ = (x);                                    \
        const uint32_t xe_ = qmcu_sxtab16(xo, x_);                  \
        const uint32_t xd_ = qmcu_sxtab16_ror8(xo, x_);             \
        (a0) = qmcu_smlabb(xe_, (we), (a0));                        \
        (a2) = qmcu_smlatt(xe_, (we), (a2));                        \
        (a1) = qmcu_smlabb(xd_, (wd), (a1));                        \
        (a3) = qmcu_smlatt(xd_, (wd), (a3));                        \
    } while (0)

/* Requantized store of four channels' accumulators. */
static inline void dw_store4(int8_t *o, int32_t a0, int32_t a1, int32_t a2, int32_t a3, const int32_t *mult,
                             const int32_t *shf, int32_t off, int32_t lo, int32_t hi, const int left)
{
    o[0] = requant_dw(a0, mult[0], shf[0], off, lo, hi, left);
    o[1] = requant_dw(a1, mult[1], shf[1], off, lo, hi, left);
    o[2] = requant_dw(a2, mult[2], shf[2], off, lo, hi, left);
    o[3] = requant_dw(a3, mult[3], shf[3], off, lo, hi, left);
}

/* Cortex-M DSP path (depth multiplier 1): the in-range taps of an output pixel are listed
 * once, then four channels per pass run over them with their accumulators in registers
 * (two neighbouring output pixels at once inside the row, sharing the weight words).
 * Input and weight words are sign-extended by pairs with their offsets added (SXTAB16) and
 * multiplied lane by lane (SMLABB / SMLATT). */
#define QMCU_DW_MAX_TAPS 64

static inline __attribute__((always_inline)) void depthwise_dsp(const qmcu_conv_params *p, const qmcu_requant *rq,
                                                               const qmcu_dims *in, const int8_t *input,
                                                               const qmcu_dims *filter, const int8_t *filter_data,
                                                               const int32_t *bias, const qmcu_dims *out, int8_t *output,
                                                               const int left)
{
    const int32_t cn = out->c;
    const uint32_t xo = ((uint32_t)p->input_offset & 0xFFFFu) | ((uint32_t)p->input_offset << 16);
    const uint32_t wo = ((uint32_t)p->filter_offset & 0xFFFFu) | ((uint32_t)p->filter_offset << 16);
    const int8_t *xs[QMCU_DW_MAX_TAPS], *ws[QMCU_DW_MAX_TAPS];
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max, *mult = rq->multiplier, *shf = rq->shift;
    int32_t oy, ox, ky, kx, c, t, nt;
    for (oy = 0; oy < out->h; oy++)
        for (ox = 0; ox < out->w; ox++) {
            int8_t *o = output + ((size_t)oy * out->w + ox) * cn;
            int pair;
            nt = 0;
            for (ky = 0; ky < filter->h; ky++) {
                const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                if (iy < 0 || iy >= in->h) continue;
                for (kx = 0; kx < filter->w; kx++) {
                    const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                    if (ix < 0 || ix >= in->w) continue;
                    xs[nt] = input + ((size_t)iy * in->w + ix) * cn;
                    ws[nt++] = filter_data + ((size_t)ky * filter->w + kx) * cn;
                }
            }
            /* the next pixel of the row reads the same taps shifted by one stride when both
             * windows lie inside the row: compute the two together, sharing the weights */
            {
                const int32_t x0 = ox * p->stride_w - p->pad_left, x1 = x0 + p->stride_w;
                pair = ox + 1 < out->w && x0 >= 0 && x1 + (filter->w - 1) * p->dil_w < in->w;
            }
            if (pair) {
                const size_t step = (size_t)p->stride_w * cn;
                int8_t *o1 = o + cn;
                for (c = 0; c + 4 <= cn; c += 4) {
                    int32_t a0 = bias ? bias[c] : 0, a1 = bias ? bias[c + 1] : 0, a2 = bias ? bias[c + 2] : 0,
                            a3 = bias ? bias[c + 3] : 0;
                    int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
                    for (t = 0; t < nt; t++) {
                        const uint32_t w = qmcu_load_word(ws[t] + c);
                        const uint32_t we = qmcu_sxtab16(wo, w), wd = qmcu_sxtab16_ror8(wo, w);
                        QMCU_DW_MAC4(qmcu_load_word(xs[t] + c), we, wd, a0, a1, a2, a3);
                        QMCU_DW_MAC4(qmcu_load_word(xs[t] + step + c), we, wd, b0, b1, b2, b3);
                    }
                    dw_store4(o + c, a0, a1, a2, a3, mult + c, shf + c, off, lo, hi, left);
                    dw_store4(o1 + c, b0, b1, b2, b3, mult + c, shf + c, off, lo, hi, left);
                }
                for (; c < cn; c++) {
                    int32_t a = bias ? bias[c] : 0, b = a;
                    for (t = 0; t < nt; t++) {
                        const int32_t w = ws[t][c] + p->filter_offset;
                        a += (xs[t][c] + p->input_offset) * w;
                        b += (xs[t][step + c] + p->input_offset) * w;
                    }
                    o[c] = requant_dw(a, mult[c], shf[c], off, lo, hi, left);
                    o1[c] = requant_dw(b, mult[c], shf[c], off, lo, hi, left);
                }
                ox++;
                continue;
            }
            for (c = 0; c + 4 <= cn; c += 4) {
                int32_t a0 = bias ? bias[c] : 0, a1 = bias ? bias[c + 1] : 0, a2 = bias ? bias[c + 2] : 0,
                        a3 = bias ? bias[c + 3] : 0;
                for (t = 0; t < nt; t++) {
                    const uint32_t x = qmcu_load_word(xs[t] + c), w = qmcu_load_word(ws[t] + c);
                    const uint32_t we = qmcu_sxtab16(wo, w), wd = qmcu_sxtab16_ror8(wo, w);
                    QMCU_DW_MAC4(x, we, wd, a0, a1, a2, a3);
                }
                dw_store4(o + c, a0, a1, a2, a3, mult + c, shf + c, off, lo, hi, left);
            }
            for (; c < cn; c++) {
                int32_t a = bias ? bias[c] : 0;
                for (t = 0; t < nt; t++) a += (xs[t][c] + p->input_offset) * (ws[t][c] + p->filter_offset);
                o[c] = requant_dw(a, mult[c], shf[c], off, lo, hi, left);
            }
        }
}

/* Two specialised copies: the sign of the shifts is a constant in each. */
static __attribute__((noinline)) void depthwise_dsp_right(const qmcu_conv_params *p, const qmcu_requant *rq,
                                                          const qmcu_dims *in, const int8_t *input,
                                                          const qmcu_dims *filter, const int8_t *filter_data,
                                                          const int32_t *bias, const qmcu_dims *out, int8_t *output)
{
    depthwise_dsp(p, rq, in, input, filter, filter_data, bias, out, output, 0);
}

static __attribute__((noinline)) void depthwise_dsp_left(const qmcu_conv_params *p, const qmcu_requant *rq,
                                                         const qmcu_dims *in, const int8_t *input,
                                                         const qmcu_dims *filter, const int8_t *filter_data,
                                                         const int32_t *bias, const qmcu_dims *out, int8_t *output)
{
    depthwise_dsp(p, rq, in, input, filter, filter_data, bias, out, output, 1);
}
#endif

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
#if defined(__ARM_FEATURE_DSP)
    {
        int right_only = 1, left_only = 1;
        for (c = 0; c < oc_n; c++) {
            right_only &= rq->shift[c] <= 0;
            left_only &= rq->shift[c] >= 0;
        }
        if (dm == 1 && filter->h * filter->w <= QMCU_DW_MAX_TAPS && (right_only || left_only)) {
            for (b = 0; b < in->n; b++) {
                const int8_t *inb = input + (size_t)b * in->h * in->w * in->c;
                int8_t *outb = output + (size_t)b * out->h * out->w * oc_n;
                if (right_only)
                    depthwise_dsp_right(p, rq, in, inb, filter, filter_data, bias, out, outb);
                else
                    depthwise_dsp_left(p, rq, in, inb, filter, filter_data, bias, out, outb);
            }
            return QMCU_OK;
        }
    }
#endif
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
