/* Kernel unit tests: fast kernels vs the naive reference on random shapes, strides,
 * paddings, dilations, zero points and multipliers, bit-exact; fixed-point edge cases. */
#include <string.h>

#include "quantmcu/graph.h"
#include "kernels/qmcu_fixedpoint.h"
#include "quantmcu/kernels.h"
#include "kernels/reference/reference_kernels.h"
#include "test_util.h"

static void fill(int8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = (int8_t)rnd_range(-128, 127);
}

static void random_requant(int32_t *m, int32_t *s, int n)
{
    int i;
    const int mode = rnd_range(0, 2); /* mixed signs, right shifts only, left shifts only */
    for (i = 0; i < n; i++) {
        m[i] = rnd_range(1 << 30, 0x7fffffff);
        s[i] = mode == 0 ? rnd_range(-12, 1) : (mode == 1 ? rnd_range(-12, 0) : rnd_range(0, 3));
    }
}

static void test_fixed_point(void)
{
    int32_t m;
    int s;
    qmcu_quantize_multiplier(0.5, &m, &s);
    CHECK(m == (1 << 30) && s == 0, "0.5 -> %d,%d", (int)m, s);
    qmcu_quantize_multiplier(1.0, &m, &s);
    CHECK(m == (1 << 30) && s == 1, "1.0 -> %d,%d", (int)m, s);
    qmcu_quantize_multiplier(0.0, &m, &s);
    CHECK(m == 0 && s == 0, "0 -> %d,%d", (int)m, s);
    qmcu_quantize_multiplier(1e-12, &m, &s);
    CHECK(m == 0 && s == 0, "tiny multipliers flush to zero (%d,%d)", (int)m, s);
    /* a value just below 1 rounds up to 2^31 and is renormalised */
    qmcu_quantize_multiplier(0.99999999999, &m, &s);
    CHECK(m == (1 << 30) && s == 1, "renormalise -> %d,%d", (int)m, s);
    /* ties: -3712 / 2^8 = -14.5 (after the doubling high mul) */
    CHECK(qmcu_rounding_divide_by_pot(-3712, 8) == -15, "ties away from zero");
    CHECK(qmcu_rounding_divide_by_pot(3712, 8) == 15, "positive tie");
    CHECK(qmcu_multiply_by_quantized_multiplier_ties_up(-7370, 1081754815, -8) == -14, "ruy ties up");
    CHECK(qmcu_multiply_by_quantized_multiplier(-7370, 1081754815, -8) == -15, "gemmlowp ties away");
    CHECK(qmcu_multiply_by_quantized_multiplier(-7370, 1081754833, -8) == -15, "not a tie");
    CHECK(qmcu_sat_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) == INT32_MAX, "saturation");
    CHECK(qmcu_multiply_by_quantized_multiplier(100, 1 << 30, 2) == 200, "left shift: 100 * 0.5 * 4");
    { /* the fast forms against gemmlowp's literal definitions, random and edge operands */
        static const int32_t edge[] = {0,       1,          -1,    2,     -2, INT32_MAX, INT32_MIN, INT32_MIN + 1,
                                       1 << 30, -(1 << 30), 12345, -12345};
        int it, bad = 0;
        for (it = 0; it < 200000; it++) {
            const int32_t a = it < 144 ? edge[it % 12] : (int32_t)rnd();
            const int32_t b =
                it < 144 ? edge[it / 12] : (it & 1 ? (int32_t)(rnd() | 0x40000000u) & 0x7FFFFFFF : (int32_t)rnd());
            const int e = (int)(rnd() % 32);
            int64_t ab = (int64_t)a * b, nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
            const int32_t want_h =
                (a == b && a == INT32_MIN) ? INT32_MAX : (int32_t)((ab + nudge) / ((int64_t)1 << 31));
            const int32_t mask = (int32_t)(((int64_t)1 << e) - 1), rem = a & mask, thr = (mask >> 1) + (a < 0 ? 1 : 0);
            const int32_t want_d = (a >> e) + (rem > thr ? 1 : 0);
            const int32_t want_u = e ? (int32_t)(((int64_t)a + ((int64_t)1 << (e - 1))) >> e) : a; /* ruy */
            if (qmcu_sat_rounding_doubling_high_mul(a, b) != want_h || qmcu_rounding_divide_by_pot(a, e) != want_d)
                bad++;
            if (qmcu_multiply_by_quantized_multiplier_ties_up(a, 1 << 30, -e) !=
                (e ? (int32_t)(((int64_t)qmcu_sat_rounding_doubling_high_mul(a, 1 << 30) + ((int64_t)1 << (e - 1))) >>
                               e)
                   : qmcu_sat_rounding_doubling_high_mul(a, 1 << 30)))
                bad++;
            (void)want_u;
        }
        CHECK(bad == 0, "%d fixed-point results differ from gemmlowp's definitions", bad);
    }
    CHECK(qmcu_out_size(1, 224, 3, 2, 1) == 112 && qmcu_pad_before(1, 224, 3, 2, 1) == 0,
          "SAME stride 2 even size pads after");
    CHECK(qmcu_pad_before(1, 225, 3, 2, 1) == 1 && qmcu_out_size(0, 225, 3, 2, 1) == 112, "odd size / VALID");
    CHECK(qmcu_pad_before(1, 10, 3, 1, 2) == 2, "dilation 2 pads 2");
}

static void test_conv(int depthwise, int iters)
{
    int it;
    for (it = 0; it < iters; it++) {
        qmcu_conv_params p;
        qmcu_requant rq;
        qmcu_dims in, fd, out;
        int32_t mult[64], shift[64], bias[64], folded[64];
        int8_t *x, *w, *y1, *y2;
        void *scratch;
        size_t sbytes, k;
        const int same = (int)(rnd() & 1);
        int32_t kh = rnd_range(1, 5), kw = rnd_range(1, 5);
        in.n = rnd_range(1, 2);
        in.h = rnd_range(1, 13);
        in.w = rnd_range(1, 13);
        in.c = rnd_range(1, 20);
        memset(&p, 0, sizeof p);
        p.stride_h = rnd_range(1, 3);
        p.stride_w = rnd_range(1, 3);
        p.dil_h = rnd_range(1, 2);
        p.dil_w = rnd_range(1, 2);
        if (rnd() % 3 == 0) kh = kw = 1, p.stride_h = p.stride_w = 1, p.dil_h = p.dil_w = 1; /* pointwise path */
        if (!same && ((kh - 1) * p.dil_h + 1 > in.h || (kw - 1) * p.dil_w + 1 > in.w)) {
            it--;
            continue;
        }
        p.depth_multiplier = depthwise ? rnd_range(1, 3) : 1;
        out.n = in.n;
        out.h = qmcu_out_size(same, in.h, kh, p.stride_h, p.dil_h);
        out.w = qmcu_out_size(same, in.w, kw, p.stride_w, p.dil_w);
        out.c = depthwise ? in.c * p.depth_multiplier : rnd_range(1, 40);
        if (out.c > 64) out.c = 64;
        if (depthwise && out.c % in.c) {
            it--;
            continue;
        }
        p.pad_top = qmcu_pad_before(same, in.h, kh, p.stride_h, p.dil_h);
        p.pad_left = qmcu_pad_before(same, in.w, kw, p.stride_w, p.dil_w);
        p.input_offset = rnd_range(-127, 128);
        p.filter_offset = (rnd() & 1) ? 0 : rnd_range(-127, 128); /* uint8-style asymmetric weights */
        p.output_offset = rnd_range(-128, 127);
        p.act_min = rnd_range(-128, 0);
        p.act_max = rnd_range(0, 127);
        if (depthwise) {
            fd.n = 1;
            fd.h = kh;
            fd.w = kw;
            fd.c = out.c;
        } else {
            fd.n = out.c;
            fd.h = kh;
            fd.w = kw;
            fd.c = in.c;
        }
        k = (size_t)fd.n * fd.h * fd.w * fd.c;
        x = (int8_t *)malloc((size_t)in.n * in.h * in.w * in.c);
        w = (int8_t *)malloc(k);
        y1 = (int8_t *)malloc((size_t)out.n * out.h * out.w * out.c);
        y2 = (int8_t *)malloc((size_t)out.n * out.h * out.w * out.c);
        fill(x, (size_t)in.n * in.h * in.w * in.c);
        fill(w, k);
        random_requant(mult, shift, out.c);
        for (k = 0; k < (size_t)out.c; k++) bias[k] = rnd_range(-20000, 20000);
        rq.multiplier = mult;
        rq.shift = shift;
        sbytes = depthwise ? qmcu_depthwise_s8_scratch_size(&out) : qmcu_conv_s8_scratch_size(&p, &in, &fd, &out);
        scratch = malloc(sbytes ? sbytes : 1);
        qmcu_ref_conv_s8(&p, &rq, depthwise, &in, x, &fd, w, bias, &out, y1);
        if (depthwise) {
            CHECK(qmcu_depthwise_conv_s8(&p, &rq, &in, x, &fd, w, bias, &out, y2, scratch, sbytes) == QMCU_OK,
                  "dw status");
            if (in.n == 1) { /* in place: the output overwrites the input buffer through a row ring */
                const size_t xin = (size_t)in.h * in.w * in.c, yout = (size_t)out.h * out.w * out.c;
                const size_t ib = qmcu_depthwise_s8_inplace_scratch_size(&p, &in, &out);
                int8_t *buf = (int8_t *)malloc(xin > yout ? xin : yout);
                void *iscratch = malloc(ib);
                memcpy(buf, x, xin);
                CHECK(qmcu_depthwise_conv_s8_inplace(&p, &rq, &in, &fd, w, bias, &out, buf, iscratch, ib) == QMCU_OK,
                      "in-place dw status");
                CHECK(memcmp(buf, y1, yout) == 0,
                      "in-place depthwise mismatch: in %dx%dx%d k %dx%d s %d,%d d %d,%d %s dm %d", (int)in.h, (int)in.w,
                      (int)in.c, (int)kh, (int)kw, (int)p.stride_h, (int)p.stride_w, (int)p.dil_h, (int)p.dil_w,
                      same ? "SAME" : "VALID", (int)p.depth_multiplier);
                free(buf);
                free(iscratch);
            }
        } else {
            qmcu_conv_fold_bias(&p, out.c, kh * kw * in.c, w, bias, folded);
            CHECK(qmcu_conv_s8(&p, &rq, &in, x, &fd, w, folded, &out, y2, scratch, sbytes) == QMCU_OK, "conv status");
        }
        CHECK(memcmp(y1, y2, (size_t)out.n * out.h * out.w * out.c) == 0,
              "%s mismatch: in %dx%dx%dx%d k %dx%d s %d,%d d %d,%d %s oc %d dm %d foff %d",
              depthwise ? "depthwise" : "conv", (int)in.n, (int)in.h, (int)in.w, (int)in.c, (int)kh, (int)kw,
              (int)p.stride_h, (int)p.stride_w, (int)p.dil_h, (int)p.dil_w, same ? "SAME" : "VALID", (int)out.c,
              (int)p.depth_multiplier, (int)p.filter_offset);
        free(x);
        free(w);
        free(y1);
        free(y2);
        free(scratch);
    }
}

static void test_fully_connected(int iters)
{
    int it;
    for (it = 0; it < iters; it++) {
        qmcu_conv_params p;
        qmcu_requant rq;
        int32_t rows = rnd_range(1, 9), k = rnd_range(1, 300), oc = rnd_range(1, 64), mult[64], shift[64], bias[64],
                folded[64], i;
        int8_t *x = (int8_t *)malloc((size_t)rows * k), *w = (int8_t *)malloc((size_t)oc * k);
        int8_t y1[9 * 64], y2[9 * 64];
        const int two_bit = rnd_range(0, 2) == 0, extreme = two_bit && rnd_range(0, 3) == 0;
        memset(&p, 0, sizeof p);
        p.input_offset = rnd_range(-127, 128);
        p.filter_offset = (rnd() & 1) ? 0 : rnd_range(-127, 128);
        p.output_offset = rnd_range(-128, 127);
        p.act_min = -128;
        p.act_max = 127;
        fill(x, (size_t)rows * k);
        fill(w, (size_t)oc * k);
        if (two_bit) { /* QuantMCU 2-bit codes (the DSP GEMM packs two pixels per lane); extreme:
                          every product at its largest magnitude, the packed fields' worst case */
            p.input_code_bits = 2;
            for (i = 0; i < rows * k; i++) x[i] = (int8_t)(extreme ? 3 : rnd() % 4);
            if (extreme) memset(w, rnd() & 1 ? 0x80 : 0x7f, (size_t)oc * k);
        }
        random_requant(mult, shift, 1);
        for (i = 1; i < oc; i++) mult[i] = mult[0], shift[i] = shift[0];
        for (i = 0; i < oc; i++) bias[i] = rnd_range(-50000, 50000);
        rq.multiplier = mult;
        rq.shift = shift;
        qmcu_ref_fully_connected_s8(&p, &rq, rows, k, x, oc, w, bias, y1);
        qmcu_conv_fold_bias(&p, oc, k, w, bias, folded);
        qmcu_fully_connected_s8(&p, &rq, rows, k, x, oc, w, folded, y2);
        CHECK(memcmp(y1, y2, (size_t)rows * oc) == 0, "fc mismatch rows %d k %d oc %d%s", (int)rows, (int)k, (int)oc,
              two_bit ? " (2-bit codes)" : "");
        free(x);
        free(w);
    }
}

static void test_pool(int iters)
{
    int it;
    for (it = 0; it < iters; it++) {
        qmcu_pool_params p;
        qmcu_dims in, out;
        const int same = (int)(rnd() & 1);
        int8_t *x, *y1, *y2;
        size_t n;
        in.n = 1;
        in.h = rnd_range(1, 12);
        in.w = rnd_range(1, 12);
        in.c = rnd_range(1, 9);
        p.filter_h = rnd_range(1, 4);
        p.filter_w = rnd_range(1, 4);
        p.stride_h = rnd_range(1, 3);
        p.stride_w = rnd_range(1, 3);
        if (!same && (p.filter_h > in.h || p.filter_w > in.w)) {
            it--;
            continue;
        }
        out.n = 1;
        out.h = qmcu_out_size(same, in.h, p.filter_h, p.stride_h, 1);
        out.w = qmcu_out_size(same, in.w, p.filter_w, p.stride_w, 1);
        out.c = in.c;
        p.pad_top = qmcu_pad_before(same, in.h, p.filter_h, p.stride_h, 1);
        p.pad_left = qmcu_pad_before(same, in.w, p.filter_w, p.stride_w, 1);
        p.is_max = (int)(rnd() & 1);
        p.value_offset = (rnd() & 1) ? 128 : 0;
        p.act_min = rnd_range(-128, -100);
        p.act_max = rnd_range(100, 127);
        n = (size_t)in.h * in.w * in.c;
        x = (int8_t *)malloc(n);
        y1 = (int8_t *)malloc((size_t)out.h * out.w * out.c);
        y2 = (int8_t *)malloc((size_t)out.h * out.w * out.c);
        fill(x, n);
        qmcu_ref_pool_s8(&p, &in, x, &out, y1);
        CHECK(qmcu_pool_s8(&p, &in, x, &out, y2) == QMCU_OK, "pool status");
        CHECK(memcmp(y1, y2, (size_t)out.h * out.w * out.c) == 0, "pool mismatch");
        free(x);
        free(y1);
        free(y2);
    }
}

static void test_eltwise(int iters)
{
    int it;
    for (it = 0; it < iters; it++) {
        qmcu_eltwise_params p;
        int32_t d1[4], d2[4], dy[4], d;
        int8_t a[4 * 5 * 6 * 7], b[4 * 5 * 6 * 7], y1[4 * 5 * 6 * 7], y2[4 * 5 * 6 * 7];
        memset(&p, 0, sizeof p);
        for (d = 0; d < 4; d++) {
            dy[d] = rnd_range(1, 4 + d);
            d1[d] = (rnd() % 3 == 0) ? 1 : dy[d];
            d2[d] = (rnd() % 3 == 0) ? 1 : dy[d];
        }
        fill(a, sizeof a);
        fill(b, sizeof b);
        p.is_mul = (int)(rnd() & 1);
        p.input1_offset = rnd_range(-127, 128);
        p.input2_offset = rnd_range(-127, 128);
        p.output_offset = rnd_range(-128, 127);
        p.left_shift = 20;
        p.input1_multiplier = rnd_range(1 << 30, 0x7fffffff);
        p.input2_multiplier = rnd_range(1 << 30, 0x7fffffff);
        p.output_multiplier = rnd_range(1 << 30, 0x7fffffff);
        p.input1_shift = rnd_range(-3, 0);
        p.input2_shift = rnd_range(-3, 0);
        p.output_shift = p.is_mul ? rnd_range(-12, -6) : rnd_range(-22, -18);
        p.act_min = -128;
        p.act_max = 127;
        qmcu_ref_eltwise_s8(&p, d1, a, d2, b, dy, y1);
        qmcu_eltwise_s8(&p, d1, a, d2, b, dy, y2);
        CHECK(memcmp(y1, y2, (size_t)dy[0] * dy[1] * dy[2] * dy[3]) == 0, "%s mismatch", p.is_mul ? "mul" : "add");
    }
}

static void test_data_movement(void)
{
    int32_t d[4] = {1, 2, 3, 2}, pads[4][2] = {{0, 0}, {1, 0}, {0, 2}, {0, 1}};
    int8_t x[12], y[1 * 3 * 5 * 3], zp = -7;
    int perm[4] = {0, 3, 1, 2};
    int8_t t[12];
    int i;
    for (i = 0; i < 12; i++) x[i] = (int8_t)i;
    qmcu_pad(d, pads, 1, &zp, x, y);
    CHECK(y[0] == -7 && y[3 * 5 * 1 + 0] == 0 && y[3 * 5 + 2] == -7 && y[3 * 5 + 3 + 1] == 3, "pad layout");
    qmcu_transpose(d, perm, 1, x, t); /* NHWC -> NCHW */
    CHECK(t[0] == 0 && t[1] == 2 && t[6] == 1 && t[7] == 3, "transpose layout");
}

int main(void)
{
    test_fixed_point();
    test_conv(0, 400);
    test_conv(1, 400);
    test_fully_connected(200);
    test_pool(300);
    test_eltwise(300);
    test_data_movement();
    return test_summary("test_kernels");
}
