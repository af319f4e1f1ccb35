/* QuantMCU without the shared data: packed storage, low-bit feature maps at 8/4/2 (and
 * byte-stored 3/6) bits against a naive reference composition, VDPC switching on a tile
 * with an injected outlier, calibration/search determinism, plan.json round trip. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph_builder.h"
#include "kernels/qmcu_fixedpoint.h"
#include "kernels/reference/reference_kernels.h"
#include "planning/plan_file.h"
#include "import/tflite_import.h"
#include "planning/plan.h"
#include "prepare/prepare.h"
#include "quantize/vdq.h"
#include "runtime/lowbit_exec.h"
#include "test_util.h"

static void test_pack(void)
{
    static const int widths[] = {2, 3, 4, 6, 8};
    int wi, it;
    for (wi = 0; wi < 5; wi++)
        for (it = 0; it < 50; it++) {
            const int bits = widths[wi];
            int8_t codes[203], back[203];
            uint8_t buf[260], before[260];
            const int32_t n = rnd_range(1, 203);
            const int64_t start = rnd_range(0, 40);
            const size_t bytes = qmcu_activation_bytes(bits, start + n + 8);
            int32_t i;
            size_t b;
            for (b = 0; b < bytes; b++) buf[b] = (uint8_t)rnd();
            memcpy(before, buf, bytes);
            for (i = 0; i < n; i++) codes[i] = (int8_t)(rnd() % (1u << (bits < 8 ? bits : 7)));
            qmcu_pack(bits, codes, n, buf, start);
            qmcu_unpack(bits, buf, start, n, back);
            CHECK(memcmp(codes, back, (size_t)n) == 0, "%d-bit round trip (start %lld, n %d)", bits, (long long)start,
                  n);
            /* neighbours untouched */
            {
                int8_t nb[2];
                int8_t ob[2];
                if (start > 0) {
                    qmcu_unpack(bits, buf, start - 1, 1, nb);
                    qmcu_unpack(bits, before, start - 1, 1, ob);
                    CHECK(nb[0] == ob[0], "%d-bit pack clobbered the code before", bits);
                }
                qmcu_unpack(bits, buf, start + n, 1, nb + 1);
                qmcu_unpack(bits, before, start + n, 1, ob + 1);
                CHECK(nb[1] == ob[1], "%d-bit pack clobbered the code after", bits);
            }
        }
    for (it = 0; it < 200; it++) { /* packing and unpacking in place (QuantMCU tile buffers) */
        const int bits = it & 1 ? 4 : 2;
        int8_t codes[77];
        uint8_t buf[77];
        const int32_t n = rnd_range(1, 77);
        int32_t i;
        for (i = 0; i < n; i++) codes[i] = (int8_t)(rnd() % (1u << bits));
        memcpy(buf, codes, (size_t)n);
        qmcu_pack(bits, (const int8_t *)buf, n, buf, 0);
        {
            int8_t back[77];
            qmcu_unpack(bits, buf, 0, n, back);
            CHECK(memcmp(codes, back, (size_t)n) == 0, "%d-bit pack in place (n %d)", bits, n);
        }
        qmcu_unpack_in_place(bits, buf, n);
        CHECK(memcmp(codes, buf, (size_t)n) == 0, "%d-bit unpack in place (n %d)", bits, n);
    }
    for (it = 0; it < 200; it++) { /* range test of codes: one code out of range anywhere */
        const int bits = rnd_range(1, 7);
        int8_t codes[41];
        const int32_t n = rnd_range(1, 41);
        int32_t i;
        for (i = 0; i < n; i++) codes[i] = (int8_t)(rnd() % (1u << bits));
        CHECK(qmcu_codes_fit(bits, codes, n), "%d-bit codes in range", bits);
        i = rnd_range(0, n - 1);
        codes[i] = (int8_t)(it & 1 || bits == 7 ? -(int)rnd_range(1, 128) : rnd_range(1 << bits, 127));
        CHECK(!qmcu_codes_fit(bits, codes, n), "%d-bit code %d at %d of %d not seen", bits, codes[i], i, n);
    }
    CHECK(qmcu_activation_bytes(4, 5) == 3 && qmcu_activation_bytes(2, 5) == 2 && qmcu_activation_bytes(3, 5) == 5,
          "packed sizes");
    { /* TFLite order: element 2i in the low nibble */
        const int8_t c[4] = {1, 2, 3, 0};
        uint8_t b[2] = {0, 0};
        qmcu_pack(4, c, 2, b, 0);
        CHECK(b[0] == 0x21, "nibble order 0x%02x", b[0]);
        qmcu_pack(2, c, 4, b + 1, 0);
        CHECK(b[1] == (1 | 2 << 2 | 3 << 4), "2-bit order 0x%02x", b[1]);
    }
}

/* A QuantMCU plan with a copy of vdq's feature maps (the caller keeps vdq). */
static qmcu_plan *quantmcu_plan(const qmcu_model *m, int split, int gh, int gw, const qmcu_vdq *vdq)
{
    qmcu_plan_spec spec = {.split = 0, .grid_h = 1, .grid_w = 1, .input_in_sram = 1, .quantmcu = 1};
    qmcu_plan *q = NULL;
    qmcu_vdq *copy = qmcu_vdq_new(vdq->n_tensors);
    qmcu_error err;
    spec.split = split;
    spec.grid_h = gh;
    spec.grid_w = gw;
    memcpy(copy->fmap, vdq->fmap, sizeof *vdq->fmap * (size_t)vdq->n_tensors);
    if (qmcu_quant_plan_make(m, &spec, copy, 1, &q, &err) != QMCU_OK) {
        CHECK(0, "%s", err.msg);
        return NULL;
    }
    return q;
}

/* A plan file's spec and QuantMCU section, as the API reads them. */
static qmcu_status read_plan_with_quant(const char *path, const qmcu_graph *g, qmcu_plan_spec *spec, qmcu_vdq **vdq,
                                        qmcu_error *err)
{
    char *text = qmcu_plan_read_text(path, err);
    qmcu_status st;
    *vdq = NULL;
    if (!text) return QMCU_ERR_IO;
    st = qmcu_plan_parse_spec(text, path, g, spec, NULL, err);
    if (st == QMCU_OK) st = qmcu_vdq_parse(text, path, g, spec->split, vdq, err);
    free(text);
    return st;
}

/* The window parameters of a conv / depthwise op (strides, dilation, padding, multiplier). */
static void ref_window_params(const qmcu_op *op, qmcu_conv_params *cp)
{
    cp->stride_h = op->stride_h;
    cp->stride_w = op->stride_w;
    cp->dil_h = op->dil_h;
    cp->dil_w = op->dil_w;
    cp->pad_top = op->pad_top;
    cp->pad_left = op->pad_left;
    cp->depth_multiplier = op->depth_multiplier;
}

/* Naive conv with the quantization of a chosen input / output format: multipliers from the
 * scales (TFLite's formula), the raw bias rescaled to the input scale, codes clamped to
 * [act range] and, for low-bit outputs, to 0 .. 2^b - 1. */
static void ref_conv_format(const qmcu_graph *g, int opi, const int8_t *x, float sx, int32_t zx, float sy, int32_t zy,
                            int out_bits, int8_t *y)
{
    const qmcu_op *op = &g->ops[opi];
    const qmcu_tensor *xt = &g->tensors[op->in[0]], *wt = &g->tensors[op->in[1]], *bt = &g->tensors[op->in[2]],
                      *yt = &g->tensors[op->out];
    const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D;
    const int32_t oc = yt->dims[3];
    qmcu_conv_params cp;
    qmcu_requant rq;
    qmcu_dims in = {1, xt->dims[1], xt->dims[2], xt->dims[3]},
              fd = {wt->dims[0], wt->dims[1], wt->dims[2], wt->dims[3]},
              out = {1, yt->dims[1], yt->dims[2], yt->dims[3]};
    int32_t mult[64], shift[64], bias[64], c;
    qmcu_error err;
    memset(&cp, 0, sizeof cp);
    cp.input_offset = -zx;
    cp.filter_offset = -wt->zero_point;
    cp.output_offset = zy;
    ref_window_params(op, &cp);
    qmcu_activation_range(op->act, sy, zy, &cp.act_min, &cp.act_max);
    if (out_bits < 8) {
        cp.act_min = cp.act_min > 0 ? cp.act_min : 0;
        cp.act_max = cp.act_max < (1 << out_bits) - 1 ? cp.act_max : (1 << out_bits) - 1;
    }
    qmcu_conv_multipliers(g, opi, sx, sy, mult, shift, &err);
    for (c = 0; c < oc; c++) bias[c] = (int32_t)lround((double)((const int32_t *)bt->data)[c] * xt->scale / sx);
    rq.multiplier = mult;
    rq.shift = shift;
    qmcu_ref_conv_s8(&cp, &rq, dw, &in, x, &fd, (const int8_t *)wt->data, bias, &out, y);
}

/* Runs a plan on one input and returns the host memory (caller frees). */
static uint8_t *run_plan(const qmcu_model *m, const qmcu_exec_plan *p, const uint8_t *input, qmcu_run_stats *stats)
{
    uint8_t *mem = (uint8_t *)calloc(p->memory_bytes, 1);
    qmcu_run_options opt = {0, stats, NULL, NULL, NULL};
    qmcu_exec_set_input(m, p, mem, 0, input);
    CHECK(qmcu_exec_run(m, p, mem, &opt) == QMCU_OK, "run");
    return mem;
}

/* input 12x12x3 -> conv 3x3 [A] -> depthwise 3x3 [B] -> conv 1x1 [S] -> conv 1x1: A and B
 * low-bit on every tile (T = their largest value: no outliers) must equal the naive
 * reference composition at every bit width, halos included. */
/* Version 3 storage: whole pixels of c channels at 2 / 4 / 5 / 6 bits round-trip, neighbouring
 * pixels untouched, and the byte counts are what the planner sizes. */
static void test_store_planes(void)
{
    static const int widths[] = {2, 4, 5, 6};
    int wi, it;
    for (wi = 0; wi < 4; wi++)
        for (it = 0; it < 40; it++) {
            const int bits = widths[wi];
            const int32_t c = 8 * rnd_range(1, 12), npix = rnd_range(1, 9), first = rnd_range(0, 4);
            int8_t codes[96 * 9], back[96 * 9];
            uint8_t buf[96 * 16], before[96 * 16];
            const size_t total = qmcu_stored_bytes(bits, (int64_t)(first + npix + 1) * c);
            int32_t j;
            for (j = 0; j < c * npix; j++) codes[j] = (int8_t)rnd_range(0, (1 << bits) - 1);
            for (j = 0; j < (int32_t)total; j++) buf[j] = (uint8_t)rnd_range(0, 255);
            memcpy(before, buf, total);
            qmcu_store_pack(bits, c, codes, c * npix, buf, (int64_t)first * c);
            qmcu_store_unpack(bits, c, buf, (int64_t)first * c, c * npix, back);
            CHECK(!memcmp(codes, back, (size_t)(c * npix)), "store %d bits c %d: round trip", bits, (int)c);
            CHECK(!memcmp(buf, before, qmcu_stored_bytes(bits, (int64_t)first * c)) &&
                      !memcmp(buf + qmcu_stored_bytes(bits, (int64_t)(first + npix) * c),
                              before + qmcu_stored_bytes(bits, (int64_t)(first + npix) * c),
                              total - qmcu_stored_bytes(bits, (int64_t)(first + npix) * c)),
                  "store %d bits: neighbouring pixels kept", bits);
            CHECK(qmcu_stored_bytes(bits, c) == (size_t)c * (size_t)bits / 8, "store %d bits: pixel bytes", bits);
        }
}

/* Version 3 settling while packing: a code above its channel's bound takes the bound (no
 * outlier), one still outside 0 .. 2^b - 1 is saturated and counted; the packed bytes equal
 * packing the settled codes, and the codes in src are settled in place. */
static void test_store_pack_saturate(void)
{
    static const int widths[] = {2, 4, 5, 6};
    int wi, it;
    for (wi = 0; wi < 4; wi++)
        for (it = 0; it < 60; it++) {
            const int bits = widths[wi], top = (1 << bits) - 1;
            const int32_t c = 8 * rnd_range(1, 12), npix = rnd_range(1, 9), n = c * npix;
            int8_t codes[96 * 9], want[96 * 9], bound[96];
            uint8_t got[96 * 9], ref[96 * 9];
            const int use_bound = it % 2;
            int32_t j, count = 0, got_count;
            for (j = 0; j < c; j++) bound[j] = (int8_t)rnd_range(top, 127);
            for (j = 0; j < n; j++) {
                /* mostly in range, some above / below it (outliers) and above the bound (clamps) */
                const int r = rnd_range(0, 9);
                codes[j] = (int8_t)(r < 7 ? rnd_range(0, top) : r == 7 ? rnd_range(-128, -1) : rnd_range(top + 1, 127));
                want[j] = codes[j];
                if (use_bound && want[j] > bound[j % c]) want[j] = bound[j % c];
                if (want[j] < 0 || want[j] > top) {
                    count++;
                    want[j] = (int8_t)(want[j] < 0 ? 0 : top);
                }
            }
            memset(got, 0, sizeof got);
            memset(ref, 0, sizeof ref);
            got_count = qmcu_store_pack_saturate(bits, c, codes, n, use_bound ? bound : NULL, got, 0);
            qmcu_store_pack(bits, c, want, n, ref, 0);
            CHECK(got_count == count, "pack_saturate %d bits: %d outliers counted, want %d", bits, (int)got_count,
                  (int)count);
            CHECK(!memcmp(codes, want, (size_t)n), "pack_saturate %d bits: codes settled in place", bits);
            CHECK(!memcmp(got, ref, qmcu_stored_bytes(bits, n)), "pack_saturate %d bits: packed bytes", bits);
        }
}

static void test_lowbit_numerics(void)
{
    static const int widths[][2] = {{8, 8}, {4, 4}, {2, 2}, {4, 2}, {2, 8}, {8, 4}, {3, 6}};
    qmcu_graph *g = gb_new("lowbit");
    qmcu_model *m = NULL;
    qmcu_error err;
    int x = gb_input(g, 12, 12, 3), a, b, s, y, wi;
    uint8_t input[12 * 12 * 3];
    int8_t ra[12 * 12 * 8], rb[12 * 12 * 8], rs[12 * 12 * 6];
    size_t i;
    a = gb_conv(g, x, 8, 3, 1, 1, 1, 0);
    b = gb_conv(g, a, 8, 3, 1, 1, 1, 1);
    s = gb_conv(g, b, 6, 1, 1, 1, 1, 0);
    y = gb_conv(g, s, 4, 1, 1, 1, 1, 0);
    gb_output(g, y);
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    for (i = 0; i < sizeof input; i++) input[i] = (uint8_t)rnd();
    for (wi = 0; wi < (int)(sizeof widths / sizeof widths[0]); wi++) {
        const int ba = widths[wi][0], bb = widths[wi][1];
        const qmcu_plan_spec lspec = {.split = 0, .grid_h = 1, .grid_w = 1, .input_in_sram = 1, .quantmcu = 0};
        qmcu_plan *lp = NULL;
        qmcu_plan *qp;
        qmcu_vdq *vdq = qmcu_vdq_new(g->n_tensors);
        qmcu_run_stats stats = {0, 0, 0, 0, 0};
        uint8_t *ml, *mq;
        float sa, sb;
        int32_t za, zb;
        const qmcu_tensor *at = &g->tensors[a], *bt = &g->tensors[b], *st = &g->tensors[s];
        int8_t amax = -128, bmax = -128;
        qmcu_plan_build(m, &lspec, &lp, &err);
        ml = (uint8_t *)calloc(lp->host_bytes, 1);
        qmcu_exec_set_input(m, &lp->exec, ml, 0, input);
        qmcu_exec_run_op(m, &lp->exec, ml, -1, 0);
        for (i = 0; i < at->bytes; i++)
            amax =
                ((int8_t *)(ml + lp->tensor_offset[a]))[i] > amax ? ((int8_t *)(ml + lp->tensor_offset[a]))[i] : amax;
        qmcu_exec_run_op(m, &lp->exec, ml, -1, 1);
        for (i = 0; i < bt->bytes; i++)
            bmax =
                ((int8_t *)(ml + lp->tensor_offset[b]))[i] > bmax ? ((int8_t *)(ml + lp->tensor_offset[b]))[i] : bmax;
        vdq->fmap[a].in_scope = vdq->fmap[b].in_scope = 1;
        vdq->fmap[a].bits = ba;
        vdq->fmap[b].bits = bb;
        vdq->fmap[a].lo = vdq->fmap[b].lo = 0.0f;
        /* a touch above the largest value: no tile is an outlier tile */
        vdq->fmap[a].hi = at->scale * ((float)(amax - at->zero_point) + 0.5f);
        vdq->fmap[b].hi = bt->scale * ((float)(bmax - bt->zero_point) + 0.5f);
        qp = quantmcu_plan(m, 3, 2, 2, vdq);
        if (!qp) {
            qmcu_vdq_free(vdq);
            qmcu_plan_free(lp);
            free(ml);
            continue;
        }
        qmcu_lowbit_quant(vdq->fmap[a].lo, vdq->fmap[a].hi, ba, &sa, &za);
        qmcu_lowbit_quant(vdq->fmap[b].lo, vdq->fmap[b].hi, bb, &sb, &zb);
        if (ba == 8) {
            sa = at->scale;
            za = at->zero_point;
        }
        if (bb == 8) {
            sb = bt->scale;
            zb = bt->zero_point;
        }
        {
            int8_t xs[12 * 12 * 3];
            for (i = 0; i < sizeof xs; i++) xs[i] = (int8_t)input[i];
            ref_conv_format(g, 0, xs, g->tensors[x].scale, g->tensors[x].zero_point, sa, za, ba, ra);
        }
        ref_conv_format(g, 1, ra, sa, za, sb, zb, bb, rb);
        ref_conv_format(g, 2, rb, sb, zb, st->scale, st->zero_point, 8, rs);
        mq = run_plan(m, &qp->exec, input, &stats);
        CHECK(memcmp(mq + qp->exec.tensor_offset[s], rs, st->bytes) == 0,
              "A %d bits, B %d bits: S differs from the reference", ba, bb);
        CHECK(stats.outlier_tiles == 0 && stats.tiles == 4, "A %d B %d: %lld outlier tiles of %lld", ba, bb,
              (long long)stats.outlier_tiles, (long long)stats.tiles);
        { /* BitOPs: conv A reads the 8-bit input, B reads A, S reads B; all 4 tiles */
            int64_t want = 0;
            int tile, k;
            for (tile = 0; tile < 4; tile++)
                for (k = 0; k < 3; k++) {
                    const qmcu_window r = qmcu_tile_region(&qp->exec, tile, k);
                    const qmcu_tensor *yt = &g->tensors[g->ops[k].out];
                    const int64_t mpp = qmcu_op_macs(g, &g->ops[k]) / ((int64_t)yt->dims[1] * yt->dims[2]);
                    want += mpp * (r.h1 - r.h0) * (r.w1 - r.w0) * 8 * (k == 0 ? 8 : (k == 1 ? ba : bb));
                }
            CHECK(stats.patch_bitops == want, "A %d B %d: BitOPs %lld, expected %lld", ba, bb,
                  (long long)stats.patch_bitops, (long long)want);
        }
        if (ba == 8 && bb == 8) { /* all 8-bit: QuantMCU is patch mode, byte for byte */
            uint8_t out1[12 * 12 * 4], out2[12 * 12 * 4];
            qmcu_exec_set_input(m, &lp->exec, ml, 0, input); /* the partial run above reused the input's memory */
            qmcu_exec_run(m, &lp->exec, ml, NULL);
            qmcu_exec_get_output(m, &lp->exec, ml, 0, out1);
            qmcu_exec_get_output(m, &qp->exec, mq, 0, out2);
            CHECK(memcmp(out1, out2, g->tensors[y].bytes) == 0, "all-8 QuantMCU differs from layer mode");
        }
        free(ml);
        free(mq);
        qmcu_plan_free(lp);
        qmcu_plan_free(qp);
        qmcu_vdq_free(vdq);
    }
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

/* input 12x12x3 -> conv 3x3 [A] -> conv 1x1 [B] -> add(B, A) [S] -> conv 1x1, grid 2x2: A is
 * read by the conv (which expands a packed A in place in its buffer) and then by the add; S
 * must equal the reference composed of the naive conv and the add kernel in A's format. */
static void test_lowbit_residual(void)
{
    static const int widths[] = {2, 4, 3};
    qmcu_graph *g = gb_new("residual");
    qmcu_model *m = NULL;
    qmcu_error err;
    int x = gb_input(g, 12, 12, 3), a, b, s, y, wi;
    uint8_t input[12 * 12 * 3];
    int8_t xs[12 * 12 * 3], ra[12 * 12 * 8], rb[12 * 12 * 8], rs[12 * 12 * 8];
    size_t i;
    a = gb_conv(g, x, 8, 3, 1, 1, 1, 0);
    b = gb_conv(g, a, 8, 1, 1, 1, 1, 0);
    s = gb_add(g, b, a);
    y = gb_conv(g, s, 4, 1, 1, 1, 1, 0);
    gb_output(g, y);
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    for (i = 0; i < sizeof input; i++) input[i] = (uint8_t)rnd();
    for (i = 0; i < sizeof xs; i++) xs[i] = (int8_t)input[i];
    for (wi = 0; wi < (int)(sizeof widths / sizeof widths[0]); wi++) {
        const int ba = widths[wi];
        const qmcu_tensor *at = &g->tensors[a], *bt = &g->tensors[b], *st = &g->tensors[s];
        qmcu_vdq *vdq = qmcu_vdq_new(g->n_tensors);
        qmcu_run_stats stats = {0, 0, 0, 0, 0};
        qmcu_eltwise_params elt;
        const int32_t d[4] = {1, 12, 12, 8};
        int8_t amax = -128;
        float sa;
        int32_t za;
        qmcu_plan *qp;
        uint8_t *mq;
        ref_conv_format(g, 0, xs, g->tensors[x].scale, g->tensors[x].zero_point, at->scale, at->zero_point, 8, ra);
        for (i = 0; i < at->bytes; i++) amax = ra[i] > amax ? ra[i] : amax;
        vdq->fmap[a].in_scope = 1;
        vdq->fmap[a].bits = ba;
        vdq->fmap[a].lo = 0.0f;
        vdq->fmap[a].hi = at->scale * ((float)(amax - at->zero_point) + 0.5f); /* no outlier tile */
        qp = quantmcu_plan(m, 3, 2, 2, vdq);
        if (!qp) {
            qmcu_vdq_free(vdq);
            continue;
        }
        qmcu_lowbit_quant(vdq->fmap[a].lo, vdq->fmap[a].hi, ba, &sa, &za);
        ref_conv_format(g, 0, xs, g->tensors[x].scale, g->tensors[x].zero_point, sa, za, ba, ra);
        ref_conv_format(g, 1, ra, sa, za, bt->scale, bt->zero_point, 8, rb);
        CHECK(qmcu_eltwise_prepare(g, 2, bt->scale, bt->zero_point, sa, za, st->scale, st->zero_point, &elt, &err) ==
                  QMCU_OK,
              "%s", err.msg);
        CHECK(qmcu_eltwise_s8(&elt, d, rb, d, ra, d, rs) == QMCU_OK, "reference add");
        mq = run_plan(m, &qp->exec, input, &stats);
        CHECK(memcmp(mq + qp->exec.tensor_offset[s], rs, st->bytes) == 0,
              "A %d bits read by a conv and an add: S differs", ba);
        CHECK(stats.outlier_tiles == 0 && stats.tiles == 4, "A %d bits: %lld outlier tiles", ba,
              (long long)stats.outlier_tiles);
        free(mq);
        qmcu_plan_free(qp);
        qmcu_vdq_free(vdq);
    }
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

/* input 8x8x2 -> 1x1 conv [A] -> 1x1 conv [S] -> 1x1 conv, grid 2x2: positive weights and a
 * hot input in tile 0 only, T between tile 0's largest A and the others': tile 0 must run
 * 8-bit (= patch mode there), tiles 1..3 low-bit (= the low-bit reference there). */
static void test_vdpc(void)
{
    qmcu_graph *g = gb_new("vdpc");
    qmcu_model *m = NULL;
    qmcu_error err;
    const qmcu_plan_spec lspec = {.split = 0, .grid_h = 1, .grid_w = 1, .input_in_sram = 1, .quantmcu = 0};
    qmcu_plan *lp = NULL;
    qmcu_plan *qp;
    qmcu_vdq *vdq = qmcu_vdq_new(64);
    qmcu_run_stats stats = {0, 0, 0, 0, 0};
    int x = gb_input(g, 8, 8, 2), a, s, y, bits;
    uint8_t input[8 * 8 * 2], *ml, *mq;
    int8_t ra[8 * 8 * 4], rs[8 * 8 * 4];
    size_t i;
    a = gb_conv(g, x, 4, 1, 1, 1, 1, 0);
    s = gb_conv(g, a, 4, 1, 1, 1, 1, 0);
    y = gb_conv(g, s, 3, 1, 1, 1, 1, 0);
    gb_output(g, y);
    for (i = 0; i < g->tensors[g->ops[0].in[1]].bytes; i++) /* positive weights, small bias */
        ((int8_t *)g->tensors[g->ops[0].in[1]].data)[i] = (int8_t)(60 + rnd() % 40);
    for (i = 0; i < 4; i++) ((int32_t *)g->tensors[g->ops[0].in[2]].data)[i] = 0;
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    for (i = 0; i < 8 * 8; i++) {
        const int hot = (i / 8) < 4 && (i % 8) < 4;
        input[2 * i] = (uint8_t)(hot ? 127 : (int8_t)(-5 + (int)(rnd() % 3))); /* zero point -5: cold ~ 0 */
        input[2 * i + 1] = (uint8_t)(hot ? 120 : (int8_t)(-5 + (int)(rnd() % 3)));
    }
    qmcu_plan_build(m, &lspec, &lp, &err);
    ml = (uint8_t *)calloc(lp->host_bytes, 1);
    qmcu_exec_set_input(m, &lp->exec, ml, 0, input);
    qmcu_exec_run_op(m, &lp->exec, ml, -1, 0); /* A, before later tensors reuse its memory */
    memcpy(ra, ml + lp->tensor_offset[a], sizeof ra);
    for (i = 1; i < (size_t)g->n_ops; i++) qmcu_exec_run_op(m, &lp->exec, ml, -1, (int)i);
    {
        const qmcu_tensor *at = &g->tensors[a];
        int8_t hot_max = -128, cold_max = -128;
        for (i = 0; i < 8 * 8; i++) {
            const int hot = (i / 8) < 4 && (i % 8) < 4;
            int c;
            for (c = 0; c < 4; c++) {
                const int8_t v = ra[i * 4 + c];
                if (hot)
                    hot_max = v > hot_max ? v : hot_max;
                else
                    cold_max = v > cold_max ? v : cold_max;
            }
        }
        CHECK(hot_max > cold_max + 8, "construction: hot %d cold %d", hot_max, cold_max);
        vdq->fmap[a].in_scope = 1;
        vdq->fmap[a].lo = 0.0f;
        vdq->fmap[a].hi = at->scale * ((float)(cold_max + hot_max) / 2.0f - (float)at->zero_point);
    }
    for (bits = 2; bits <= 4; bits += 2) {
        float sa;
        int32_t za;
        qmcu_tensor *st = &g->tensors[s];
        int8_t xs[8 * 8 * 2];
        int tile;
        vdq->fmap[a].bits = bits;
        qp = quantmcu_plan(m, 2, 2, 2, vdq);
        if (!qp) break;
        memset(&stats, 0, sizeof stats);
        mq = run_plan(m, &qp->exec, input, &stats);
        CHECK(stats.tiles == 4 && stats.outlier_tiles == 1, "%d bits: %lld outlier tiles of %lld (expected 1 of 4)",
              bits, (long long)stats.outlier_tiles, (long long)stats.tiles);
        qmcu_lowbit_quant(vdq->fmap[a].lo, vdq->fmap[a].hi, bits, &sa, &za);
        for (i = 0; i < sizeof xs; i++) xs[i] = (int8_t)input[i];
        {
            int8_t ral[8 * 8 * 4];
            ref_conv_format(g, 0, xs, g->tensors[x].scale, g->tensors[x].zero_point, sa, za, bits, ral);
            ref_conv_format(g, 1, ral, sa, za, st->scale, st->zero_point, 8, rs);
        }
        for (tile = 0; tile < 4; tile++) { /* by-hand composition per tile */
            const qmcu_window r = qmcu_grid_tile(8, 8, 2, 2, tile / 2, tile % 2);
            int32_t yy, xx, bad = 0;
            for (yy = r.h0; yy < r.h1; yy++)
                for (xx = r.w0; xx < r.w1; xx++) {
                    const size_t o = ((size_t)yy * 8 + xx) * 4;
                    const int8_t *want = tile == 0 ? (const int8_t *)(ml + lp->tensor_offset[s]) + o : rs + o;
                    if (memcmp(mq + qp->exec.tensor_offset[s] + o, want, 4) != 0) bad++;
                }
            CHECK(bad == 0, "%d bits, tile %d (%s): %d pixels differ from the composition", bits, tile,
                  tile == 0 ? "outlier tile, 8-bit" : "normal tile, low-bit", bad);
        }
        qmcu_plan_free(qp);
        free(mq);
    }
    qmcu_vdq_free(vdq);
    free(ml);
    qmcu_plan_free(lp);
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

static void test_search_and_file(void)
{
    qmcu_graph *g = gb_new("search");
    qmcu_model *m = NULL;
    qmcu_error err;
    qmcu_plan *pp = NULL;
    qmcu_plan *qp;
    qmcu_plan_spec spec = {.split = 3, .grid_h = 2, .grid_w = 2, .input_in_sram = 1, .quantmcu = 0}, rspec;
    qmcu_vdq *v1 = qmcu_vdq_new(64), *v2 = qmcu_vdq_new(64), *rv = NULL;
    uint8_t *inputs[6];
    const char *path = "test_quantmcu_plan.json";
    FILE *f;
    int x = gb_input(g, 16, 16, 3), y, k, t, same = 1;
    y = gb_conv(g, x, 8, 3, 2, 1, 1, 0);
    y = gb_conv(g, y, 8, 3, 1, 1, 1, 1);
    y = gb_conv(g, y, 8, 1, 1, 1, 1, 0);
    y = gb_conv(g, y, 4, 1, 1, 1, 1, 0);
    gb_output(g, y);
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    CHECK(qmcu_plan_build(m, &spec, &pp, &err) == QMCU_OK, "%s", err.msg);
    for (k = 0; k < 6; k++) {
        size_t i;
        inputs[k] = (uint8_t *)malloc(16 * 16 * 3);
        for (i = 0; i < 16 * 16 * 3; i++) inputs[k][i] = (uint8_t)rnd();
    }
    CHECK(qmcu_calibrate(m, pp, (const uint8_t *const *)inputs, 6, 0.2, v1, NULL, &err) == QMCU_OK, "%s", err.msg);
    CHECK(qmcu_calibrate(m, pp, (const uint8_t *const *)inputs, 6, 0.2, v2, NULL, &err) == QMCU_OK, "%s", err.msg);
    v1->opt.lambda = v2->opt.lambda = 0.2; /* two maps only: each is a large share of the information */
    qmcu_vdqs_search(pp, v1);
    qmcu_vdqs_search(pp, v2);
    for (t = 0; t < g->n_tensors; t++)
        if (v1->fmap[t].in_scope != v2->fmap[t].in_scope || v1->fmap[t].bits != v2->fmap[t].bits ||
            v1->fmap[t].hi != v2->fmap[t].hi || v1->fmap[t].lo != v2->fmap[t].lo)
            same = 0;
    CHECK(same && v1->n_steps == v2->n_steps && v1->n_steps > 0, "search is not deterministic (%d vs %d steps)",
          v1->n_steps, v2->n_steps);
    CHECK(v1->fmap[g->ops[0].out].in_scope && v1->fmap[g->ops[1].out].in_scope && !v1->fmap[g->ops[2].out].in_scope,
          "scope: the two maps before S, not S");
    CHECK(qmcu_vdq_static_bitops(pp, v1) < (double)pp->patch_macs * 64.0, "the search lowers BitOPs");
    /* each step has the best score among the candidates it beat: scores do not increase */
    for (k = 1; k < v1->n_steps; k++)
        CHECK(v1->steps[k].score <= v1->steps[k - 1].score + 1e-12, "step %d score %g after %g", k, v1->steps[k].score,
              v1->steps[k - 1].score);
    /* plan.json round trip */
    qp = quantmcu_plan(m, 3, 2, 2, v1);
    if (qp) {
        const qmcu_plan_json_section section = {"quantmcu", qmcu_vdq_write_json, qp};
        f = fopen(path, "w");
        qmcu_plan_write_json(qp, &section, f);
        fclose(f);
    }
    CHECK(read_plan_with_quant(path, g, &rspec, &rv, &err) == QMCU_OK && rv, "%s", err.msg);
    if (rv) {
        same = 1;
        for (t = 0; t < g->n_tensors; t++)
            if (v1->fmap[t].in_scope && (v1->fmap[t].bits != rv->fmap[t].bits || v1->fmap[t].lo != rv->fmap[t].lo ||
                                         v1->fmap[t].hi != rv->fmap[t].hi))
                same = 0;
        CHECK(same && rspec.split == 3 && rspec.grid_h == 2, "plan.json round trip changed the plan");
        qmcu_vdq_free(rv);
    }
    { /* a feature map outside the patch stage is refused */
        char text[600];
        snprintf(
            text, sizeof text,
            "{\"format\": \"quantmcu-plan\", \"version\": 1, \"model\": {\"fingerprint\": \"%016llx\"}, \"split\": 3, "
            "\"grid\": [2, 2], \"quantmcu\": {\"feature_maps\": [{\"tensor\": %d, \"bits\": 4, \"lo\": 0, "
            "\"threshold\": 1}]}}",
            (unsigned long long)g->fingerprint, g->ops[3].out);
        f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        rv = NULL;
        CHECK(read_plan_with_quant(path, g, &rspec, &rv, &err) != QMCU_OK &&
                  strstr(err.msg, "not a low-bit feature map"),
              "out-of-scope map: %s", err.msg);
        qmcu_vdq_free(rv);
    }
    remove(path);
    for (k = 0; k < 6; k++) free(inputs[k]);
    qmcu_vdq_free(v1);
    qmcu_vdq_free(v2);
    qmcu_plan_free(qp);
    qmcu_plan_free(pp);
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

/* ---- version 2: per-channel formats, folded readers, kept outlier values --------------------- */

/* One map's v2 format in the reference: scale per channel, zero point, width, kept outliers. */
typedef struct {
    const float *s;
    int zp, bits, keep, relu6;
} ref_fmt;

/* Settles codes as the runtime defines it: ReLU6's bound per channel in code space, then kept
 * (extended) or saturated; counts the codes beyond 0 .. 2^b - 1. */
static int settle_ref(const ref_fmt *f, int8_t *y, int64_t n, int c_n)
{
    const int top = (1 << f->bits) - 1;
    int64_t e;
    int count = 0;
    for (e = 0; e < n; e++) {
        if (f->relu6) {
            const long mx = lround(6.0 / (double)f->s[e % c_n]) + f->zp;
            if (y[e] > mx) y[e] = (int8_t)(mx > 127 ? 127 : mx);
        }
        if (y[e] < 0 || y[e] > top) {
            count++;
            if (!f->keep) y[e] = (int8_t)(y[e] < 0 ? 0 : top);
        }
    }
    return count;
}

static void mult_of(double real, int32_t *m, int32_t *sh)
{
    int s;
    qmcu_quantize_multiplier(real, m, &s);
    *sh = s;
}

/* Reference of a conv / depthwise op from an input format to an output format, straight from the
 * definitions (weights re-quantized here for a conv reading a per-channel input). */
static void ref_conv_v2(const qmcu_graph *g, int opi, const int8_t *x, const float *sx, int zx, int per_channel_in,
                        const float *sy, int zy, int act_min, int act_max, int8_t *y)
{
    const qmcu_op *op = &g->ops[opi];
    const qmcu_tensor *xt = &g->tensors[op->in[0]], *wt = &g->tensors[op->in[1]], *bt = &g->tensors[op->in[2]],
                      *yt = &g->tensors[op->out];
    const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D, oc = yt->dims[3], ic = xt->dims[3];
    const int64_t k = qmcu_tensor_elems(wt) / (dw ? 1 : oc);
    qmcu_conv_params cp;
    qmcu_requant rq;
    qmcu_dims in = {1, xt->dims[1], xt->dims[2], ic}, fd = {wt->dims[0], wt->dims[1], wt->dims[2], wt->dims[3]},
              out = {1, yt->dims[1], yt->dims[2], oc};
    int32_t mult[64], shift[64], bias[64];
    int8_t wv[64 * 64 * 9];
    const int8_t *w = (const int8_t *)wt->data;
    int o;
    int64_t j;
    memset(&cp, 0, sizeof cp);
    cp.input_offset = -zx;
    cp.output_offset = zy;
    ref_window_params(op, &cp);
    cp.act_min = act_min;
    cp.act_max = act_max;
    for (o = 0; o < oc; o++) {
        const double s_w = (double)wt->scales[o], b = (double)((const int32_t *)bt->data)[o];
        if (!dw && per_channel_in) { /* W'[o][k] = real weight x input channel scale, symmetric per o */
            double amax = 0.0, s_new;
            for (j = 0; j < k; j++) amax = fmax(amax, fabs(s_w * w[o * k + j] * (double)sx[j % ic]));
            s_new = amax > 0.0 ? amax / 127.0 : 1.0;
            for (j = 0; j < k; j++) wv[o * k + j] = (int8_t)lround(s_w * w[o * k + j] * (double)sx[j % ic] / s_new);
            mult_of(s_new / (double)sy[o], &mult[o], &shift[o]);
            bias[o] = (int32_t)llround(b * (double)xt->scale * s_w / s_new);
        } else {
            const double s_in = (double)sx[dw ? o : 0];
            mult_of(s_in * s_w / (double)sy[o], &mult[o], &shift[o]);
            bias[o] = (int32_t)llround(b * (double)xt->scale / s_in);
        }
    }
    rq.multiplier = mult;
    rq.shift = shift;
    qmcu_ref_conv_s8(&cp, &rq, dw, &in, x, &fd, !dw && per_channel_in ? wv : w, bias, &out, y);
}

/* input 10x10x3 -> conv 3x3 [A, ReLU6] -> depthwise 3x3 [B, ReLU6] -> conv 1x1 [C, linear] and
 * conv 1x1 [E, linear, 8-bit] -> add(C, E) [D] -> conv 1x1 [S]: A at 5 bits, B at 4, C at 6 and D at
 * 5 bits with per-channel scales (some values beyond the ranges), grid 2x2, VDPC never falling back:
 * S must equal the reference composed from the definitions, with and without kept outliers. */
static void test_lowbit_v2_numerics(void)
{
    qmcu_graph *g = gb_new("lowbit-v2");
    qmcu_model *m = NULL;
    qmcu_error err;
    const int x = gb_input(g, 10, 10, 3);
    int a, b, c, e, d, s, y, keep, t;
    uint8_t input[10 * 10 * 3];
    static int8_t ra[10 * 10 * 8], rb[10 * 10 * 8], rc[10 * 10 * 8], re[10 * 10 * 8], rd[10 * 10 * 8], rs[10 * 10 * 6];
    size_t i;
    a = gb_conv(g, x, 8, 3, 1, 1, 1, 0);
    b = gb_conv(g, a, 8, 3, 1, 1, 1, 1);
    c = gb_conv(g, b, 8, 1, 1, 1, 1, 0);
    e = gb_conv(g, b, 8, 1, 1, 1, 1, 0);
    g->ops[2].act = g->ops[3].act = QMCU_ACT_NONE;
    d = gb_add(g, c, e);
    s = gb_conv(g, d, 6, 1, 1, 1, 1, 0);
    y = gb_conv(g, s, 4, 1, 1, 1, 1, 0);
    gb_output(g, y);
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    for (i = 0; i < sizeof input; i++) input[i] = (uint8_t)rnd();
    for (keep = 0; keep <= 1; keep++) {
        static const int map_bits[4] = {5, 4, 6, 5};
        const int maps[4] = {a, b, c, d};
        float scales[4][8];
        ref_fmt f[4];
        qmcu_vdq *vdq = qmcu_vdq_new(g->n_tensors);
        qmcu_plan_spec spec = {.split = 6, .grid_h = 2, .grid_w = 2, .input_in_sram = 1, .quantmcu = 1};
        qmcu_plan *q = NULL;
        qmcu_run_stats stats = {0, 0, 0, 0, 0};
        qmcu_eltwise_params ep[8];
        uint8_t *mem;
        int k, ch, outliers = 0;
        vdq->opt.scheme = QMCU_SCHEME_V2;
        vdq->opt.keep_outliers = keep;
        for (k = 0; k < 4; k++) {
            qmcu_fmap *fm = &vdq->fmap[maps[k]];
            const qmcu_tensor *mt = &g->tensors[maps[k]];
            fm->in_scope = 1;
            fm->bits = map_bits[k];
            fm->is_signed = k >= 2;
            fm->tau[fm->bits] = -1; /* never an outlier tile: the value level only */
            fm->lo = -1.0f;
            fm->hi = 1.0f;
            CHECK(qmcu_fmap_alloc_scales(fm, fm->bits, mt->dims[3]), "alloc");
            for (ch = 0; ch < mt->dims[3]; ch++) /* ranges from 0.25x to 1.1x the 8-bit one: some outliers */
                scales[k][ch] = fm->scale[fm->bits][ch] =
                    mt->scale * (float)(0.25 + 0.12 * ch) * 255.0f / (float)((1 << fm->bits) - 1);
            f[k].s = scales[k];
            f[k].zp = fm->is_signed ? 1 << (fm->bits - 1) : 0;
            f[k].bits = fm->bits;
            f[k].keep = keep;
            f[k].relu6 = k < 2;
        }
        CHECK(qmcu_quant_plan_make(m, &spec, vdq, 1, &q, &err) == QMCU_OK, "%s", err.msg);
        if (!q) break;
        { /* reference: A, B, C (per-channel formats), E (8-bit), D = add, S */
            int8_t xs[10 * 10 * 3];
            float s8[8];
            int32_t lo, hi;
            const qmcu_tensor *xt = &g->tensors[x], *et = &g->tensors[e], *dt = &g->tensors[d];
            for (i = 0; i < sizeof xs; i++) xs[i] = (int8_t)input[i];
            for (ch = 0; ch < 8; ch++) s8[ch] = xt->scale;
            ref_conv_v2(g, 0, xs, s8, xt->zero_point, 0, f[0].s, f[0].zp, f[0].zp, 127, ra);
            outliers += settle_ref(&f[0], ra, (int64_t)sizeof ra, 8);
            ref_conv_v2(g, 1, ra, f[0].s, f[0].zp, 1, f[1].s, f[1].zp, f[1].zp, 127, rb);
            outliers += settle_ref(&f[1], rb, (int64_t)sizeof rb, 8);
            ref_conv_v2(g, 2, rb, f[1].s, f[1].zp, 1, f[2].s, f[2].zp, -128, 127, rc);
            outliers += settle_ref(&f[2], rc, (int64_t)sizeof rc, 8);
            for (ch = 0; ch < 8; ch++) s8[ch] = et->scale;
            ref_conv_v2(g, 3, rb, f[1].s, f[1].zp, 1, s8, et->zero_point, -128, 127, re);
            for (ch = 0; ch < 8; ch++)
                CHECK(qmcu_eltwise_prepare(g, 4, f[2].s[ch], f[2].zp, et->scale, et->zero_point, f[3].s[ch], f[3].zp,
                                           &ep[ch], &err) == QMCU_OK,
                      "%s", err.msg);
            for (i = 0; i < sizeof rd; i++) {
                const int32_t one[4] = {1, 1, 1, 1};
                qmcu_ref_eltwise_s8(&ep[i % 8], one, &rc[i], one, &re[i], one, &rd[i]);
            }
            outliers += settle_ref(&f[3], rd, (int64_t)sizeof rd, 8);
            for (ch = 0; ch < 8; ch++) s8[ch] = g->tensors[s].scale;
            qmcu_activation_range(QMCU_ACT_RELU6, g->tensors[s].scale, g->tensors[s].zero_point, &lo, &hi);
            ref_conv_v2(g, 5, rd, f[3].s, f[3].zp, 1, s8, g->tensors[s].zero_point, lo, hi, rs); /* S: 8-bit */
            (void)dt;
        }
        CHECK(outliers > 0, "keep %d: the reference has no value beyond the ranges (the test would not test them)",
              keep);
        mem = run_plan(m, &q->exec, input, &stats);
        CHECK(memcmp(mem + q->exec.tensor_offset[s], rs, g->tensors[s].bytes) == 0,
              "keep %d: S differs from the reference composition of per-channel formats", keep);
        CHECK(stats.outlier_tiles == 0 && stats.outlier_values > 0, "keep %d: %lld outlier tiles, %lld outlier values",
              keep, (long long)stats.outlier_tiles, (long long)stats.outlier_values);
        for (t = 0; t < g->n_tensors; t++)
            if (q->exec.lowbit_keep[t]) CHECK(keep, "a map keeps outliers without the option");
        free(mem);
        qmcu_plan_free(q);
    }
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

int main(void)
{
    test_store_planes();
    test_store_pack_saturate();
    test_pack();
    test_lowbit_numerics();
    test_lowbit_residual();
    test_lowbit_v2_numerics();
    test_vdpc();
    test_search_and_file();
    return test_summary("test_quantmcu");
}
