#include "gemm_s8.h"

#include "qmcu_fixedpoint.h"

static inline int8_t requant_val(int32_t acc, int32_t multiplier, int32_t shift, int32_t offset, int32_t lo, int32_t hi)
{
    const int32_t v = qmcu_multiply_by_quantized_multiplier_ties_up(acc, multiplier, (int)shift) + offset;
    return (int8_t)qmcu_clamp(v, lo, hi);
}

static inline int8_t requant_one(const qmcu_conv_params *p, const qmcu_requant *rq, int32_t acc, int32_t oc)
{
    return requant_val(acc, rq->multiplier[oc], rq->shift[oc], p->output_offset, p->act_min, p->act_max);
}

/* acc = dot + folded bias + filter_offset * row sum, added modulo 2^32 (see fold_bias). */
static inline int32_t wrap_add3(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)a + (uint32_t)b + (uint32_t)c);
}

#if defined(__ARM_FEATURE_DSP)
#include "qmcu_dsp.h"
#endif

/* Sum of k int8 (the filter-offset term of a row). DSP: 8 bytes at a time, each biased by 128
 * (XOR of the sign bits) and summed as unsigned by USADA8, the bias taken off at the end. */
static inline int32_t row_sum(const int8_t *a, int32_t k)
{
    int32_t s = 0, i = 0;
#if defined(__ARM_FEATURE_DSP)
    uint32_t u = 0;
    for (; i + 8 <= k; i += 8)
        u = qmcu_usada8(qmcu_load_word(a + i + 4) ^ 0x80808080u, qmcu_usada8(qmcu_load_word(a + i) ^ 0x80808080u, u));
    s = (int32_t)u - 128 * i;
#endif
    for (; i < k; i++) s += a[i];
    return s;
}

/* Dot products of 2 rows x 4 filters: each loaded input byte is used four times and each
 * weight byte twice. Written so that compilers vectorise the k loop (widening multiply-add). */
static inline void dot_2x4(const int8_t *a0, const int8_t *a1, const int8_t *b0, const int8_t *b1, const int8_t *b2,
                           const int8_t *b3, int32_t k, int32_t s[8])
{
    int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, i;
    for (i = 0; i < k; i++) {
        const int16_t x0 = a0[i], x1 = a1[i];
        const int16_t w0 = b0[i], w1 = b1[i], w2 = b2[i], w3 = b3[i];
        s00 += x0 * w0;
        s01 += x0 * w1;
        s02 += x0 * w2;
        s03 += x0 * w3;
        s10 += x1 * w0;
        s11 += x1 * w1;
        s12 += x1 * w2;
        s13 += x1 * w3;
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s02;
    s[3] = s03;
    s[4] = s10;
    s[5] = s11;
    s[6] = s12;
    s[7] = s13;
}

static inline int32_t dot_1x1(const int8_t *a, const int8_t *b, int32_t k)
{
    int32_t s = 0, i;
    for (i = 0; i < k; i++) s += (int16_t)a[i] * (int16_t)b[i];
    return s;
}

#if defined(__ARM_FEATURE_DSP)
/* Cortex-M DSP path: four int8 per word, sign-extended pairwise (SXTB16 of bytes 0/2 and,
 * rotated, 1/3) and accumulated two products per SMLAD. 2 rows x 2 filters per pass: each
 * expanded input word feeds 4 SMLADs, each expanded weight word 4. */

/* acc + the four products of one input word with one weight word, both given as their
 * SXTB16 lane pairs (bytes 0/2, then 1/3). */
static inline int32_t smlad_word(uint32_t xe, uint32_t xo, uint32_t we, uint32_t wo, int32_t acc)
{
    return qmcu_smlad(xo, wo, qmcu_smlad(xe, we, acc));
}

static inline void dot_2x2_dsp(const int8_t *a0, const int8_t *a1, const int8_t *b0, const int8_t *b1, int32_t k,
                               int32_t s[4])
{
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
    const int8_t *const end = a0 + (k & ~3);
    while (a0 < end) { /* pointers walk, no shared index: fewer live registers */
        const uint32_t x0 = qmcu_load_word(a0), x1 = qmcu_load_word(a1);
        const uint32_t x0e = qmcu_sxtb16(x0), x0o = qmcu_sxtb16_ror8(x0);
        const uint32_t x1e = qmcu_sxtb16(x1), x1o = qmcu_sxtb16_ror8(x1);
        uint32_t w = qmcu_load_word(b0), we = qmcu_sxtb16(w), wo = qmcu_sxtb16_ror8(w);
        s00 = smlad_word(x0e, x0o, we, wo, s00);
        s10 = smlad_word(x1e, x1o, we, wo, s10);
        w = qmcu_load_word(b1);
        we = qmcu_sxtb16(w);
        wo = qmcu_sxtb16_ror8(w);
        s01 = smlad_word(x0e, x0o, we, wo, s01);
        s11 = smlad_word(x1e, x1o, we, wo, s11);
        a0 += 4;
        a1 += 4;
        b0 += 4;
        b1 += 4;
    }
    for (k &= 3; k > 0; k--) {
        s00 += *a0 * *b0;
        s01 += *a0++ * *b1;
        s10 += *a1 * *b0++;
        s11 += *a1++ * *b1++;
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
}

/* 2-bit codes (0..3: QuantMCU's 2-bit maps) of two pixels share one int16 lane,
 * lane = q(p) + q(p') * 2^13, so each SMLAD makes four MACs. |q * w| <= 384: the low 13-bit
 * field holds 8 products (8 k) and is then moved out, sign-extended, while the high field
 * keeps accumulating in place: |sum| * 2^13 <= 512 * 384 * 2^13 < 2^31 for k <= 512. */
#define QMCU_PAIR_SHIFT 13

/* Four rows as two pixel pairs, for each word of 4 k: pair A's lanes (k0, k2), (k1, k3), then
 * pair B's — the lane order of the SXTB16-extended weights. */
static void expand_pairs_2bit(const int8_t *a0, const int8_t *a1, const int8_t *a2, const int8_t *a3, int32_t k,
                              uint32_t *e)
{
    int32_t i;
    for (i = 0; i + 4 <= k; i += 4) {
        const uint32_t x0 = qmcu_load_word(a0 + i), x1 = qmcu_load_word(a1 + i);
        const uint32_t x2 = qmcu_load_word(a2 + i), x3 = qmcu_load_word(a3 + i);
        e[0] = qmcu_sxtb16(x0) + (qmcu_sxtb16(x1) << QMCU_PAIR_SHIFT);
        e[1] = qmcu_sxtb16_ror8(x0) + (qmcu_sxtb16_ror8(x1) << QMCU_PAIR_SHIFT);
        e[2] = qmcu_sxtb16(x2) + (qmcu_sxtb16(x3) << QMCU_PAIR_SHIFT);
        e[3] = qmcu_sxtb16_ror8(x2) + (qmcu_sxtb16_ror8(x3) << QMCU_PAIR_SHIFT);
        e += 4;
    }
}

/* Moves the low field of a pair accumulator into the first pixel's sum. */
static inline void pair_flush(int32_t *pair, int32_t *first)
{
    const int32_t low = (int32_t)((uint32_t)*pair << (32 - QMCU_PAIR_SHIFT)) >> (32 - QMCU_PAIR_SHIFT);
    *first += low;
    *pair -= low;
}

/* 4 rows (2 pixel pairs) x 1 filter: per 8 k, 4 LDRD of pair lanes, 2 weight words extended,
 * 8 SMLADs (32 MACs), 6 instructions of field moves, 2 of loop control. */
static inline void dot_4x1_pairs(const uint32_t *e, const int8_t *b, int32_t k4, int32_t s[4])
{
    int32_t pa = 0, pb = 0, ra = 0, rb = 0;
    const uint32_t *const end = e + (k4 & ~7);
    if (k4 >= 8) {
        uint32_t xa, xb, ya, yb, t, w;
        __asm__ volatile("1:\n\t"
                         ".rept 2\n\t" /* 2 x 4 k */
                         "ldrd %[xa], %[xb], [%[e]], #8\n\t"
                         "ldrd %[ya], %[yb], [%[e]], #8\n\t"
                         "ldr %[w], [%[b]], #4\n\t"
                         "sxtb16 %[t], %[w]\n\t"
                         "sxtb16 %[w], %[w], ror #8\n\t"
                         "smlad %[pa], %[xa], %[t], %[pa]\n\t"
                         "smlad %[pa], %[xb], %[w], %[pa]\n\t"
                         "smlad %[pb], %[ya], %[t], %[pb]\n\t"
                         "smlad %[pb], %[yb], %[w], %[pb]\n\t"
                         ".endr\n\t"
                         "sbfx %[t], %[pa], #0, #13\n\t"
                         "add %[ra], %[ra], %[t]\n\t"
                         "sub %[pa], %[pa], %[t]\n\t"
                         "sbfx %[t], %[pb], #0, #13\n\t"
                         "add %[rb], %[rb], %[t]\n\t"
                         "sub %[pb], %[pb], %[t]\n\t"
                         "cmp %[e], %[end]\n\t"
                         "bne 1b\n\t"
                         : [pa] "+r"(pa), [pb] "+r"(pb), [ra] "+r"(ra), [rb] "+r"(rb), [e] "+r"(e), [b] "+r"(b),
                           [xa] "=&r"(xa), [xb] "=&r"(xb), [ya] "=&r"(ya), [yb] "=&r"(yb), [t] "=&r"(t), [w] "=&r"(w)
                         : [end] "r"(end)
                         : "cc", "memory");
    }
    if (k4 & 4) {
        const uint32_t w = qmcu_load_word(b), we = qmcu_sxtb16(w), wo = qmcu_sxtb16_ror8(w);
        pa = qmcu_smlad(e[1], wo, qmcu_smlad(e[0], we, pa));
        pb = qmcu_smlad(e[3], wo, qmcu_smlad(e[2], we, pb));
        pair_flush(&pa, &ra);
        pair_flush(&pb, &rb);
    }
    s[0] = ra;
    s[1] = pa >> QMCU_PAIR_SHIFT; /* exact: the low field is empty */
    s[2] = rb;
    s[3] = pb >> QMCU_PAIR_SHIFT;
}

/* The requantization of requant_val for a row whose shifts all have one sign (`left`: all
 * >= 0, else all <= 0): the other shift and its branches drop out; multipliers are >= 0 by
 * construction, so the doubling high multiply cannot hit its single overflow case. */
static inline void requant_row_signed(const int32_t *acc, int32_t n, const int32_t *bias, int32_t row_term,
                                      const int32_t *mult, const int32_t *shf, int32_t off, int32_t lo, int32_t hi,
                                      const int left, int8_t *out)
{
    int32_t j;
    for (j = 0; j < n; j++) {
        int32_t x = wrap_add3(acc[j], bias[j], row_term), h;
        if (left) x = (int32_t)((uint32_t)x << shf[j]);
        h = (int32_t)(((int64_t)x * mult[j] + ((int64_t)1 << 30)) >> 31);
        if (!left && shf[j]) h = (h >> -shf[j]) + ((h >> (-shf[j] - 1)) & 1); /* ruy: ties upwards */
        h += off;
        out[j] = (int8_t)(h < lo ? lo : (h > hi ? hi : h));
    }
}

/* Requantizes n accumulators of one output row (channels oc0..): a tight loop of its own,
 * with every register free for it. */
static void requant_row(const int32_t *acc, int32_t n, int32_t oc0, const int32_t *bias, int32_t row_term,
                        qmcu_shift_signs shifts, const qmcu_conv_params *p, const qmcu_requant *rq, int8_t *out)
{
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t *mult = rq->multiplier + oc0, *shf = rq->shift + oc0;
    int32_t j;
    if (bias && shifts == QMCU_SHIFTS_RIGHT && !row_term) { /* int8 weights: no row-sum term */
        requant_row_signed(acc, n, bias + oc0, 0, mult, shf, off, lo, hi, 0, out);
        return;
    }
    if (bias && shifts == QMCU_SHIFTS_RIGHT) {
        requant_row_signed(acc, n, bias + oc0, row_term, mult, shf, off, lo, hi, 0, out);
        return;
    }
    if (bias && shifts == QMCU_SHIFTS_LEFT) {
        requant_row_signed(acc, n, bias + oc0, row_term, mult, shf, off, lo, hi, 1, out);
        return;
    }
    if (bias && shifts == QMCU_SHIFTS_MIXED) { /* QuantMCU's per-channel formats mix the signs */
        bias += oc0;
        for (j = 0; j < n; j++) {
            /* branch-free: left shift max(s, 0), then the rounding right shift r = max(-s, 0)
               (ties upwards), its rounding bit r - 1 of h read as bit r of 2h (r = 0: none) */
            const int32_t sh = shf[j], left = sh > 0 ? sh : 0, right = left - sh;
            const int32_t x = (int32_t)((uint32_t)wrap_add3(acc[j], bias[j], row_term) << left);
            int32_t h = (int32_t)(((int64_t)x * mult[j] + ((int64_t)1 << 30)) >> 31);
            h = (h >> right) + (int32_t)(((uint32_t)h << 1 >> right) & 1u) + off;
            out[j] = (int8_t)(h < lo ? lo : (h > hi ? hi : h));
        }
        return;
    }
    if (bias) bias += oc0;
    for (j = 0; j < n; j++)
        out[j] = requant_val(wrap_add3(acc[j], bias ? bias[j] : 0, row_term), mult[j], shf[j], off, lo, hi);
}

#define QMCU_GEMM_CHUNK      32  /* output channels per requantization pass (2 x 32 int32 on the stack) */
#define QMCU_GEMM_EXPAND_MAX 512 /* rows up to this length are pre-expanded to int16 (2 x 1 kB of stack) */

/* Rows of 2-bit codes, four at a time (two pixel pairs x one filter), expanded into ex;
 * returns the rows done. */
static int32_t gemm_rows_2bit(const qmcu_conv_params *p, const qmcu_requant *rq, const int8_t *a, int32_t rows,
                              int32_t lda, int32_t k, const int8_t *b, int32_t out_ch, const int32_t *bias, int8_t *out,
                              int32_t out_stride, qmcu_shift_signs shifts, uint32_t *ex)
{
    int32_t acc[4][QMCU_GEMM_CHUNK], r, q;
    for (r = 0; r + 4 <= rows; r += 4) {
        const int8_t *ar[4];
        int32_t rs[4], oc = 0;
        for (q = 0; q < 4; q++) {
            ar[q] = a + (size_t)(r + q) * lda;
            rs[q] = p->filter_offset ? (int32_t)((uint32_t)p->filter_offset * (uint32_t)row_sum(ar[q], k)) : 0;
        }
        expand_pairs_2bit(ar[0], ar[1], ar[2], ar[3], k, ex);
        while (oc < out_ch) {
            const int32_t n = out_ch - oc < QMCU_GEMM_CHUNK ? out_ch - oc : QMCU_GEMM_CHUNK;
            int32_t j, i, s[4];
            for (j = 0; j < n; j++) {
                const int8_t *bj = b + (size_t)(oc + j) * k;
                dot_4x1_pairs(ex, bj, k & ~3, s);
                for (i = k & ~3; i < k; i++)
                    for (q = 0; q < 4; q++) s[q] += ar[q][i] * bj[i];
                for (q = 0; q < 4; q++) acc[q][j] = s[q];
            }
            for (q = 0; q < 4; q++)
                requant_row(acc[q], n, oc, bias, rs[q], shifts, p, rq, out + (size_t)(r + q) * out_stride + oc);
            oc += n;
        }
    }
    return r;
}

/* The first k & ~3 int8 of two rows as int16 pairs in SMLAD order, interleaved: for each
 * word of 4 bytes, row 0's (x0, x2), (x1, x3) — the lanes SXTB16 / SXTB16-ror-8 give the
 * weights — then row 1's. */
static void expand_rows(const int8_t *a0, const int8_t *a1, int32_t k, uint32_t *e)
{
    int32_t i;
    for (i = 0; i + 4 <= k; i += 4) {
        const uint32_t x0 = qmcu_load_word(a0 + i), x1 = qmcu_load_word(a1 + i);
        e[0] = qmcu_sxtb16(x0);
        e[1] = qmcu_sxtb16_ror8(x0);
        e[2] = qmcu_sxtb16(x1);
        e[3] = qmcu_sxtb16_ror8(x1);
        e += 4;
    }
}

/* 2 pre-expanded rows x 2 filters over k4 = k & ~3 (k4 > 0). Per 4 k: 2 LDRD of input (no
 * extension), 2 weight words extended, 8 SMLADs, 2 instructions of loop control. Written
 * in assembly because it needs all 14 registers: GCC spills the loop bound otherwise. */
static inline void dot_2x2_expanded(const uint32_t *e, const int8_t *b0, const int8_t *b1, int32_t k4, int32_t s[4])
{
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
    const uint32_t *const end = e + k4;
    uint32_t xa, xb, ya, yb, t, w;
    __asm__ volatile(
        "1:\n\t"
        "ldrd %[xa], %[xb], [%[e]], #8\n\t"
        "ldrd %[ya], %[yb], [%[e]], #8\n\t"
        "ldr %[w], [%[b0]], #4\n\t"
        "sxtb16 %[t], %[w]\n\t"
        "sxtb16 %[w], %[w], ror #8\n\t"
        "smlad %[s00], %[xa], %[t], %[s00]\n\t"
        "smlad %[s00], %[xb], %[w], %[s00]\n\t"
        "smlad %[s10], %[ya], %[t], %[s10]\n\t"
        "smlad %[s10], %[yb], %[w], %[s10]\n\t"
        "ldr %[w], [%[b1]], #4\n\t"
        "sxtb16 %[t], %[w]\n\t"
        "sxtb16 %[w], %[w], ror #8\n\t"
        "smlad %[s01], %[xa], %[t], %[s01]\n\t"
        "smlad %[s01], %[xb], %[w], %[s01]\n\t"
        "smlad %[s11], %[ya], %[t], %[s11]\n\t"
        "smlad %[s11], %[yb], %[w], %[s11]\n\t"
        "cmp %[e], %[end]\n\t"
        "bne 1b\n\t"
        : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11), [e] "+r"(e), [b0] "+r"(b0), [b1] "+r"(b1),
          [xa] "=&r"(xa), [xb] "=&r"(xb), [ya] "=&r"(ya), [yb] "=&r"(yb), [t] "=&r"(t), [w] "=&r"(w)
        : [end] "r"(end)
        : "cc", "memory");
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
}

/* The last k % 4 products, from the int8 rows. */
static inline void dot_2x2_tail(const int8_t *a0, const int8_t *a1, const int8_t *b0, const int8_t *b1, int32_t k,
                                int32_t s[4])
{
    int32_t i;
    for (i = k & ~3; i < k; i++) {
        s[0] += a0[i] * b0[i];
        s[1] += a0[i] * b1[i];
        s[2] += a1[i] * b0[i];
        s[3] += a1[i] * b1[i];
    }
}

/* One row x 4 filters (fully connected layers, odd last rows): each expanded input word
 * feeds 8 SMLADs. */
static inline void dot_1x4_dsp(const int8_t *a0, const int8_t *b0, int32_t k, int32_t s[4])
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
    const int8_t *const end = a0 + (k & ~3);
    const int8_t *b = b0;
    while (a0 < end) {
        const uint32_t x = qmcu_load_word(a0), xe = qmcu_sxtb16(x), xo = qmcu_sxtb16_ror8(x);
        uint32_t w = qmcu_load_word(b);
        s0 = smlad_word(xe, xo, qmcu_sxtb16(w), qmcu_sxtb16_ror8(w), s0);
        w = qmcu_load_word(b + k);
        s1 = smlad_word(xe, xo, qmcu_sxtb16(w), qmcu_sxtb16_ror8(w), s1);
        w = qmcu_load_word(b + 2 * k);
        s2 = smlad_word(xe, xo, qmcu_sxtb16(w), qmcu_sxtb16_ror8(w), s2);
        w = qmcu_load_word(b + 3 * k);
        s3 = smlad_word(xe, xo, qmcu_sxtb16(w), qmcu_sxtb16_ror8(w), s3);
        a0 += 4;
        b += 4;
    }
    for (i = 0; i < (k & 3); i++) {
        s0 += a0[i] * b[i];
        s1 += a0[i] * b[k + i];
        s2 += a0[i] * b[2 * k + i];
        s3 += a0[i] * b[3 * k + i];
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

/* One row x 2 filters (fully connected layers, odd last rows). */
static inline void dot_1x2_dsp(const int8_t *a0, const int8_t *b0, const int8_t *b1, int32_t k, int32_t s[2])
{
    int32_t s0 = 0, s1 = 0, i = 0;
    for (; i + 4 <= k; i += 4) {
        const uint32_t x = qmcu_load_word(a0 + i), xe = qmcu_sxtb16(x), xo = qmcu_sxtb16_ror8(x);
        uint32_t w = qmcu_load_word(b0 + i);
        s0 = smlad_word(xe, xo, qmcu_sxtb16(w), qmcu_sxtb16_ror8(w), s0);
        w = qmcu_load_word(b1 + i);
        s1 = smlad_word(xe, xo, qmcu_sxtb16(w), qmcu_sxtb16_ror8(w), s1);
    }
    for (; i < k; i++) {
        s0 += a0[i] * b0[i];
        s1 += a0[i] * b1[i];
    }
    s[0] = s0;
    s[1] = s1;
}
#endif

void qmcu_gemm_s8(const qmcu_conv_params *p, const qmcu_requant *rq, const int8_t *a, int32_t rows, int32_t lda,
                  int32_t k, const int8_t *b, int32_t out_ch, const int32_t *bias, int8_t *out, int32_t out_stride)
{
    int32_t r = 0, oc = 0, j;
#if defined(__ARM_FEATURE_DSP)
    uint32_t ex[QMCU_GEMM_EXPAND_MAX]; /* expanded rows (2 KB of stack) */
    const qmcu_shift_signs shifts = qmcu_requant_shift_signs(rq->shift, out_ch);
    if (p->input_code_bits == 2 && k >= 8 && k <= QMCU_GEMM_EXPAND_MAX)
        r = gemm_rows_2bit(p, rq, a, rows, lda, k, b, out_ch, bias, out, out_stride, shifts, ex);
#endif
    for (; r + 2 <= rows; r += 2) {
        const int8_t *a0 = a + (size_t)r * lda, *a1 = a0 + lda;
        int8_t *o0 = out + (size_t)r * out_stride, *o1 = o0 + out_stride;
        const int32_t rs0 = p->filter_offset ? (int32_t)((uint32_t)p->filter_offset * (uint32_t)row_sum(a0, k)) : 0;
        const int32_t rs1 = p->filter_offset ? (int32_t)((uint32_t)p->filter_offset * (uint32_t)row_sum(a1, k)) : 0;
        oc = 0;
#if defined(__ARM_FEATURE_DSP)
        {
            /* 2 rows x 2 filters of SMLAD dot products into a small accumulator block, then
             * one requantization pass per row */
            int32_t acc[2][QMCU_GEMM_CHUNK];
            const int32_t even = out_ch & ~1;
            const int expanded = k <= QMCU_GEMM_EXPAND_MAX && k >= 4;
            if (expanded) expand_rows(a0, a1, k, ex); /* once per row pair, reused by every filter */
            while (oc < even) {
                const int32_t n = even - oc < QMCU_GEMM_CHUNK ? even - oc : QMCU_GEMM_CHUNK;
                int32_t s[4];
                for (j = 0; j < n; j += 2) {
                    const int8_t *b0 = b + (size_t)(oc + j) * k;
                    if (expanded) {
                        dot_2x2_expanded(ex, b0, b0 + k, k & ~3, s);
                        if (k & 3) dot_2x2_tail(a0, a1, b0, b0 + k, k, s);
                    } else {
                        dot_2x2_dsp(a0, a1, b0, b0 + k, k, s);
                    }
                    acc[0][j] = s[0];
                    acc[0][j + 1] = s[1];
                    acc[1][j] = s[2];
                    acc[1][j + 1] = s[3];
                }
                requant_row(acc[0], n, oc, bias, rs0, shifts, p, rq, o0 + oc);
                requant_row(acc[1], n, oc, bias, rs1, shifts, p, rq, o1 + oc);
                oc += n;
            }
        }
#endif
        for (; oc + 4 <= out_ch; oc += 4) {
            int32_t s[8];
            const int8_t *b0 = b + (size_t)oc * k;
            dot_2x4(a0, a1, b0, b0 + k, b0 + 2 * k, b0 + 3 * k, k, s);
            for (j = 0; j < 4; j++) {
                const int32_t bj = bias ? bias[oc + j] : 0;
                o0[oc + j] = requant_one(p, rq, wrap_add3(s[j], bj, rs0), oc + j);
                o1[oc + j] = requant_one(p, rq, wrap_add3(s[4 + j], bj, rs1), oc + j);
            }
        }
        for (; oc < out_ch; oc++) {
            const int8_t *bo = b + (size_t)oc * k;
            const int32_t bj = bias ? bias[oc] : 0;
            o0[oc] = requant_one(p, rq, wrap_add3(dot_1x1(a0, bo, k), bj, rs0), oc);
            o1[oc] = requant_one(p, rq, wrap_add3(dot_1x1(a1, bo, k), bj, rs1), oc);
        }
    }
    for (; r < rows; r++) {
        const int8_t *a0 = a + (size_t)r * lda;
        int8_t *o0 = out + (size_t)r * out_stride;
        const int32_t rs0 = p->filter_offset ? (int32_t)((uint32_t)p->filter_offset * (uint32_t)row_sum(a0, k)) : 0;
        oc = 0;
#if defined(__ARM_FEATURE_DSP)
        {
            int32_t acc[QMCU_GEMM_CHUNK];
            const int32_t even = out_ch & ~1;
            while (oc < even) {
                const int32_t n = even - oc < QMCU_GEMM_CHUNK ? even - oc : QMCU_GEMM_CHUNK;
                int32_t s[4];
                for (j = 0; j + 4 <= n; j += 4) {
                    dot_1x4_dsp(a0, b + (size_t)(oc + j) * k, k, s);
                    acc[j] = s[0];
                    acc[j + 1] = s[1];
                    acc[j + 2] = s[2];
                    acc[j + 3] = s[3];
                }
                for (; j < n; j += 2) {
                    const int8_t *b0 = b + (size_t)(oc + j) * k;
                    dot_1x2_dsp(a0, b0, b0 + k, k, s);
                    acc[j] = s[0];
                    acc[j + 1] = s[1];
                }
                requant_row(acc, n, oc, bias, rs0, shifts, p, rq, o0 + oc);
                oc += n;
            }
        }
#endif
        for (; oc < out_ch; oc++)
            o0[oc] = requant_one(p, rq, wrap_add3(dot_1x1(a0, b + (size_t)oc * k, k), bias ? bias[oc] : 0, rs0), oc);
    }
}
