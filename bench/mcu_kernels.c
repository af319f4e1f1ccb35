/* Cortex-M kernel benchmark (firmware, run under QEMU by bench/mcu_kernels.sh): emulated
 * instructions per call of the int8 conv / pointwise / depthwise / FC kernels on MobileNetV2
 * layer shapes (the shapes of Arm CMSIS-NN's published table in issue 5), random data,
 * per-channel requantization; three pointwise shapes again with 2-bit input codes (the QuantMCU
 * lane-packed path). Prints one line per shape: instructions, MACs, instructions/MAC. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "firmware/systick.h"
#include "quantmcu/graph.h"
#include "quantmcu/kernels.h"

typedef struct {
    const char *name;
    int kind; /* 0 conv, 1 depthwise, 2 fully connected */
    int32_t h, w, c, k, stride, oc;
    int two_bit; /* input holds QuantMCU 2-bit codes (0..3) */
} shape;

static const shape k_shapes[] = {
    {"conv 3x3 s2 SAME 56x56x3 -> 28x28x32", 0, 56, 56, 3, 3, 2, 32, 0},
    {"pw 28x28x32 -> 192", 0, 28, 28, 32, 1, 1, 192, 0},
    {"pw 28x28x192 -> 32", 0, 28, 28, 192, 1, 1, 32, 0},
    {"pw 14x14x64 -> 384", 0, 14, 14, 64, 1, 1, 384, 0},
    {"pw 7x7x160 -> 960", 0, 7, 7, 160, 1, 1, 960, 0},
    {"pw 56x56x24 -> 144", 0, 56, 56, 24, 1, 1, 144, 0},
    {"dw 3x3 s1 28x28x192", 1, 28, 28, 192, 3, 1, 192, 0},
    {"dw 3x3 s2 56x56x144 -> 28x28", 1, 56, 56, 144, 3, 2, 144, 0},
    {"dw 3x3 s1 14x14x384", 1, 14, 14, 384, 3, 1, 384, 0},
    {"FC 1280 -> 1000", 2, 1, 1, 1280, 1, 1, 1000, 0},
    {"pw 28x28x32 -> 192, 2-bit in", 0, 28, 28, 32, 1, 1, 192, 1},
    {"pw 28x28x192 -> 32, 2-bit in", 0, 28, 28, 192, 1, 1, 32, 1},
    {"pw 56x56x24 -> 144, 2-bit in", 0, 56, 56, 24, 1, 1, 144, 1},
};

static uint32_t g_rng = 0x2545F491u;
static int8_t rnd8(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return (int8_t)g_rng;
}

__attribute__((noinline)) static void run_one(const shape *s)
{
    const int same = 1;
    qmcu_conv_params p = {0};
    qmcu_requant rq;
    qmcu_dims in = {1, s->h, s->w, s->c}, fd, out;
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)s->oc),
            *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)s->oc);
    int32_t *bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)s->oc);
    int8_t *x, *w, *y;
    void *scratch;
    size_t xb, wb, yb, sb, i;
    uint64_t t0, t1;
    int64_t macs;
    out.n = 1;
    out.h = s->kind == 2 ? 1 : qmcu_out_size(same, s->h, s->k, s->stride, 1);
    out.w = s->kind == 2 ? 1 : qmcu_out_size(same, s->w, s->k, s->stride, 1);
    out.c = s->oc;
    if (s->kind == 1) {
        fd.n = 1;
        fd.h = s->k;
        fd.w = s->k;
        fd.c = s->oc;
    } else {
        fd.n = s->oc;
        fd.h = s->k;
        fd.w = s->k;
        fd.c = s->c;
    }
    p.input_offset = s->two_bit ? -1 : 128;
    p.input_code_bits = s->two_bit ? 2 : 0;
    p.output_offset = -3;
    p.act_min = -128;
    p.act_max = 127;
    p.stride_h = p.stride_w = s->stride;
    p.dil_h = p.dil_w = 1;
    p.depth_multiplier = 1;
    p.pad_top = qmcu_pad_before(same, s->h, s->k, s->stride, 1);
    p.pad_left = qmcu_pad_before(same, s->w, s->k, s->stride, 1);
    for (i = 0; i < (size_t)s->oc; i++) {
        mult[i] = 1200000000 + (int32_t)(i * 1000);
        shift[i] = -9;
        bias[i] = (int32_t)(i * 37) - 2000;
    }
    rq.multiplier = mult;
    rq.shift = shift;
    xb = (size_t)s->h * s->w * s->c;
    wb = (size_t)fd.n * fd.h * fd.w * fd.c;
    yb = (size_t)out.h * out.w * out.c;
    sb = s->kind == 1 ? qmcu_depthwise_s8_scratch_size(&out)
                      : (s->kind == 0 ? qmcu_conv_s8_scratch_size(&p, &in, &fd, &out) : 0);
    x = (int8_t *)malloc(xb);
    w = (int8_t *)malloc(wb);
    y = (int8_t *)malloc(yb);
    scratch = malloc(sb ? sb : 4);
    if (!x || !w || !y || !scratch || !mult || !shift || !bias) {
        printf("%s: out of memory\n", s->name);
        return;
    }
    for (i = 0; i < xb; i++) x[i] = s->two_bit ? (int8_t)(rnd8() & 3) : rnd8();
    for (i = 0; i < wb; i++) w[i] = rnd8();
    t0 = systick_ticks();
    if (s->kind == 0)
        qmcu_conv_s8(&p, &rq, &in, x, &fd, w, bias, &out, y, scratch, sb);
    else if (s->kind == 1)
        qmcu_depthwise_conv_s8(&p, &rq, &in, x, &fd, w, bias, &out, y, scratch, sb);
    else
        qmcu_fully_connected_s8(&p, &rq, 1, s->c, x, s->oc, w, bias, y);
    t1 = systick_ticks();
    macs = (int64_t)out.h * out.w * out.c * s->k * s->k * (s->kind == 1 ? 1 : s->c);
    printf("%-32s | %10lu | %9lu | %5.2f\n", s->name, (unsigned long)((t1 - t0) * QMCU_INSTRUCTIONS_PER_TICK),
           (unsigned long)macs, (double)((t1 - t0) * QMCU_INSTRUCTIONS_PER_TICK) / (double)macs);
    free(x);
    free(w);
    free(y);
    free(scratch);
    free(mult);
    free(shift);
    free(bias);
}

int qmcu_test_main(void);
int qmcu_test_main(void)
{
    size_t i;
    systick_start();
    printf("%-32s | %10s | %9s | %s\n", "layer", "instr", "MACs", "instr/MAC");
    for (i = 0; i < sizeof k_shapes / sizeof k_shapes[0]; i++) run_one(&k_shapes[i]);
    return 0;
}
