/* Depthwise convolution, direct: per output pixel, accumulate every in-range tap into an
 * int32 row over all output channels (contiguous in NHWC, so the channel loop vectorises),
 * then requantize. Out-of-range taps are skipped: they contribute (zp - zp) * w = 0.
 *
 * In-place variant (TinyEngine's idea, done by rows): the output overwrites the input buffer.
 * Output rows are computed into a small ring in scratch and copied to their final place as
 * soon as no later output row reads the input bytes they cover. */
#include <string.h>

#include "qmcu_fixedpoint.h"
#include "quantmcu/kernels.h"

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

/* Cortex-M DSP path (depth multiplier 1, channels a multiple of 4). Per chunk of up to QMCU_DW_CHUNK output pixels of
 * one row, the taps are listed once with the range of pixels whose input lies inside the
 * image (contiguous: no bounds test is left in the inner loop). Then for every four channels:
 * int32 accumulators in a small stack array, each tap's weight word sign-extended once
 * (SXTAB16 with the filter offset) and run over its pixels — one input word, two SXTAB16
 * (input offset added), four SMLABB / SMLATT, the accumulators moved with LDM / STM — and a
 * requantization pass per channel with its constants in registers. Integer sums are exact
 * in any order: the results are the portable kernel's. */
#define QMCU_DW_MAX_TAPS 64
#define QMCU_DW_CHUNK    32

/* n pixels of one tap: acc[4 j .. 4 j + 3] += (x_j + xo) * (w + wo) lane by lane, x_j the
 * four channels at xp + j * step (channels 0..3 in order: SXTAB16 gives 0/2, ror 8 gives 1/3). */
static inline void dw_tap_run(const int8_t *xp, int32_t step, uint32_t we, uint32_t wd, uint32_t xo, int32_t *acc,
                              int32_t n)
{
    uint32_t x, xe, xd;
    __asm__ volatile("1:\n\t"
                     "ldr %[x], [%[xp]]\n\t"
                     "add %[xp], %[xp], %[step]\n\t"
                     "sxtab16 %[xe], %[xo], %[x]\n\t"
                     "sxtab16 %[xd], %[xo], %[x], ror #8\n\t"
                     "ldmia %[acc], {r8, r9, r10, r11}\n\t"
                     "smlabb r8, %[xe], %[we], r8\n\t"
                     "smlabb r9, %[xd], %[wd], r9\n\t"
                     "smlatt r10, %[xe], %[we], r10\n\t"
                     "smlatt r11, %[xd], %[wd], r11\n\t"
                     "stmia %[acc]!, {r8, r9, r10, r11}\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [xp] "+r"(xp), [acc] "+r"(acc), [n] "+r"(n), [x] "=&r"(x), [xe] "=&r"(xe), [xd] "=&r"(xd)
                     : [step] "r"(step), [we] "r"(we), [wd] "r"(wd), [xo] "r"(xo)
                     : "r8", "r9", "r10", "r11", "cc", "memory");
}

/* First output x whose input column ox * s + col is >= 0, and one past the last < w. */
static inline int32_t dw_first_inside(int32_t col, int32_t s) { return col >= 0 ? 0 : (-col + s - 1) / s; }
static inline int32_t dw_end_inside(int32_t col, int32_t s, int32_t w)
{
    return w - 1 - col < 0 ? 0 : (w - 1 - col) / s + 1;
}

/* n accumulators of one channel (every 4th int32) -> its outputs, cn bytes apart. */
static inline void dw_requant_channel(const int32_t *acc, int32_t n, int32_t m, int32_t sh, int32_t off, int32_t lo,
                                      int32_t hi, const int left, int8_t *o, int32_t cn)
{
    int32_t j;
    for (j = 0; j < n; j++, acc += 4, o += cn) *o = requant_dw(*acc, m, sh, off, lo, hi, left);
}

typedef struct {
    int32_t x, w, a, n; /* input byte offset of the first pixel, weight offset, first accumulator, pixels */
} dw_tap;

static inline __attribute__((always_inline)) void depthwise_dsp(const qmcu_conv_params *p, const qmcu_requant *rq,
                                                                const qmcu_dims *in, const int8_t *input,
                                                                const qmcu_dims *filter, const int8_t *filter_data,
                                                                const int32_t *bias, const qmcu_dims *out,
                                                                int8_t *output, const int left)
{
    const int32_t cn = out->c, step = p->stride_w * cn;
    const uint32_t xo = ((uint32_t)p->input_offset & 0xFFFFu) | ((uint32_t)p->input_offset << 16);
    const uint32_t wo = ((uint32_t)p->filter_offset & 0xFFFFu) | ((uint32_t)p->filter_offset << 16);
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    dw_tap tap[QMCU_DW_MAX_TAPS];
    int32_t acc[4 * QMCU_DW_CHUNK];
    int32_t oy, ox0, ky, kx, c, t, j, k, nt;
    for (oy = 0; oy < out->h; oy++)
        for (ox0 = 0; ox0 < out->w; ox0 += QMCU_DW_CHUNK) {
            const int32_t n = out->w - ox0 < QMCU_DW_CHUNK ? out->w - ox0 : QMCU_DW_CHUNK;
            int8_t *o = output + ((size_t)oy * out->w + ox0) * cn;
            nt = 0;
            for (ky = 0; ky < filter->h; ky++) {
                const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                if (iy < 0 || iy >= in->h) continue;
                for (kx = 0; kx < filter->w; kx++) {
                    const int32_t col = kx * p->dil_w - p->pad_left; /* ix = ox * stride + col */
                    int32_t a = dw_first_inside(col, p->stride_w), e = dw_end_inside(col, p->stride_w, in->w);
                    if (a < ox0) a = ox0;
                    if (e > ox0 + n) e = ox0 + n;
                    if (a >= e) continue;
                    tap[nt].x = (iy * in->w + a * p->stride_w + col) * cn;
                    tap[nt].w = (ky * filter->w + kx) * cn;
                    tap[nt].a = 4 * (a - ox0);
                    tap[nt++].n = e - a;
                }
            }
            for (c = 0; c + 4 <= cn; c += 4) {
                for (j = 0; j < n; j++)
                    for (k = 0; k < 4; k++) acc[4 * j + k] = bias ? bias[c + k] : 0;
                for (t = 0; t < nt; t++) {
                    const uint32_t w = qmcu_load_word(filter_data + tap[t].w + c);
                    dw_tap_run(input + tap[t].x + c, step, qmcu_sxtab16(wo, w), qmcu_sxtab16_ror8(wo, w), xo,
                               acc + tap[t].a, tap[t].n);
                }
                for (k = 0; k < 4; k++) /* one channel at a time: its constants stay in registers */
                    if (left == 2 ? rq->shift[c + k] > 0 : left)
                        dw_requant_channel(acc + k, n, rq->multiplier[c + k], rq->shift[c + k], off, lo, hi, 1,
                                           o + c + k, cn);
                    else
                        dw_requant_channel(acc + k, n, rq->multiplier[c + k], rq->shift[c + k], off, lo, hi, 0,
                                           o + c + k, cn);
            }
        }
}

/* Three specialised copies: the sign of the shifts a constant in two, chosen per channel in the
 * third (QuantMCU's per-channel formats mix them). */
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

static __attribute__((noinline)) void depthwise_dsp_mixed(const qmcu_conv_params *p, const qmcu_requant *rq,
                                                          const qmcu_dims *in, const int8_t *input,
                                                          const qmcu_dims *filter, const int8_t *filter_data,
                                                          const int32_t *bias, const qmcu_dims *out, int8_t *output)
{
    depthwise_dsp(p, rq, in, input, filter, filter_data, bias, out, output, 2);
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
        const qmcu_shift_signs shifts = qmcu_requant_shift_signs(rq->shift, oc_n);
        if (dm == 1 && oc_n % 4 == 0 && filter->h * filter->w <= QMCU_DW_MAX_TAPS) {
            for (b = 0; b < in->n; b++) {
                const int8_t *inb = input + (size_t)b * in->h * in->w * in->c;
                int8_t *outb = output + (size_t)b * out->h * out->w * oc_n;
                if (shifts == QMCU_SHIFTS_RIGHT)
                    depthwise_dsp_right(p, rq, in, inb, filter, filter_data, bias, out, outb);
                else if (shifts == QMCU_SHIFTS_LEFT)
                    depthwise_dsp_left(p, rq, in, inb, filter, filter_data, bias, out, outb);
                else
                    depthwise_dsp_mixed(p, rq, in, inb, filter, filter_data, bias, out, outb);
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
