/* Small generated .tflite models (random weights, fixed seed) for tests, fuzz seeds and the
 * differential tests against TFLite:
 *
 *   make_models OUTDIR
 *
 * int8_raw_pixels.tflite   int8 input with scale 1.0, zero point -128 (trained on raw 0..255
 *                          pixels, as the MLPerf Tiny ResNet-8): conv, depthwise, add, pool, FC, softmax
 * float_metadata.tflite    float input with TFLite metadata normalization mean 127.5 std 127.5,
 *                          QUANTIZE, int8 body, DEQUANTIZE
 * uint8_body.tflite        uint8 throughout (per-tensor asymmetric weights, as the old MobileNets)
 * ops_int8.tflite          pad, max pool, mul, logistic, hard swish, concatenation, mean
 * resize_{int8,uint8,float}.tflite  RESIZE_BILINEAR: plain, exact 2x, half-pixel centres, aligned corners
 * argmax_int8.tflite       the int8 chain, then ARG_MAX over channels (int32 output)
 * split_{int8,uint8}.tflite  SPLIT along channels and along rows; two outputs
 * nearest_{int8,uint8,float}.tflite  RESIZE_NEAREST_NEIGHBOR in the same variants as the bilinear chain
 * sub_{int8,uint8,float}.tflite  SUB, with and without a fused RELU
 * leaky_relu_{int8,uint8,float}.tflite  LEAKY_RELU with alpha 0.2 and 1.5, on both signs
 * pose_ops.tflite          CAST, SUB / MUL with broadcast constants, FLOOR_DIV / MUL / SUB on int32, PACK, UNPACK,
 *                          GATHER_ND, SQRT, DIV (MoveNet's pre- and post-processing); two outputs
 * lstm_int8.tflite         fully integer UNIDIRECTIONAL_SEQUENCE_LSTM (not an image model)
 * hybrid_float.tflite      dynamic-range CONV_2D (float activations, int8 weights): per-tensor, per-channel;
 *                          then a dynamic-range FULLY_CONNECTED
 * detect_{fast,regular}_{uint8,float}.tflite  an SSD-style head ending in the custom
 *                          TFLite_Detection_PostProcess (four float outputs)
 * Every model but lstm_int8 is a 1xHxWx3 image model, so `quantmcu run/eval` and tflite_diff can feed it images.
 *
 *   make_models --hostile OUTDIR   well-formed flatbuffers with hostile content (tests/test_hostile.sh):
 * huge_tensor (a 4 GB tensor), huge_arena (three live 1 GB float tensors), short_weights (a filter
 * buffer shorter than its shape), bad_tensor_index, reads_before_written, zero_scale,
 * corrupt_metadata (loads: metadata is advisory, `info` says why it is ignored), mfcc_input (a
 * 1x49x10x1 keyword-spotting input, not an image), div_by_zero (an int32 FLOOR_DIV by a constant 0),
 * lstm_missing_input (an LSTM whose input-to-output weights are marked absent), negative_alpha (a
 * LEAKY_RELU with alpha -0.5). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tflite_builder.h"

typedef struct {
    int id, type;
    int shape[4];
    float scale;
    int zp;
} tinfo;

typedef struct {
    tfb b;
    uint32_t rng;
    int n_names;
} gen;

static uint32_t rnd(gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 17;
    g->rng ^= g->rng << 5;
    return g->rng;
}

static const char *next_name(gen *g, const char *what)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "%s_%d", what, g->n_names++);
    return buf;
}

static tinfo activation(gen *g, int type, int h, int w, int c, float scale, int zp)
{
    tinfo t;
    t.type = type;
    t.shape[0] = 1;
    t.shape[1] = h;
    t.shape[2] = w;
    t.shape[3] = c;
    t.scale = scale;
    t.zp = zp;
    t.id = tfb_tensor(&g->b, next_name(g, "act"), type, t.shape, 4, -1, scale, zp);
    return t;
}

static int const_i32(gen *g, const int32_t *v, int n, const int *shape, int ndim)
{
    const int buf = tfb_buffer(&g->b, v, sizeof(int32_t) * (size_t)n);
    return tfb_tensor(&g->b, next_name(g, "const"), TFB_INT32, shape, ndim, buf, 0.0f, 0);
}

/* Conv (dw = 0) or depthwise (dw = 1) with random weights: per-channel int8, or per-tensor
 * uint8 with zero point 128 when x is uint8. The output scale keeps the values spread. */
static tinfo conv(gen *g, tinfo x, int cout, int k, int stride, int same, int act, int dw)
{
    const int cin = x.shape[3], u8 = x.type == TFB_UINT8;
    const int oh = same ? (x.shape[1] + stride - 1) / stride : (x.shape[1] - k) / stride + 1;
    const int ow = same ? (x.shape[2] + stride - 1) / stride : (x.shape[2] - k) / stride + 1;
    const int per = dw ? k * k : k * k * cin, n = dw ? k * k * cout : cout * k * k * cin;
    int8_t *wq = (int8_t *)malloc((size_t)n);
    int32_t *bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)cout);
    float *ws = (float *)malloc(sizeof(float) * (size_t)cout), *bs = (float *)malloc(sizeof(float) * (size_t)cout);
    int wshape[4], bshape[1] = {cout}, i, w, bi;
    uint32_t opts;
    tinfo y;
    for (i = 0; i < n; i++) wq[i] = (int8_t)((int)(rnd(g) % 255) - 127);
    for (i = 0; i < cout; i++) {
        ws[i] = u8 ? 0.01f : 0.002f + 0.0001f * (float)(rnd(g) % 40);
        bs[i] = x.scale * ws[i];
        bias[i] = (int32_t)(rnd(g) % 2001) - 1000;
    }
    if (u8) /* per-tensor uint8 weights: stored bytes are q + 128 with zero point 128 */
        for (i = 0; i < n; i++) wq[i] = (int8_t)(uint8_t)((int)wq[i] + 128);
    wshape[0] = dw ? 1 : cout;
    wshape[1] = wshape[2] = k;
    wshape[3] = dw ? cout : cin;
    w = tfb_buffer(&g->b, wq, (size_t)n);
    w = u8 ? tfb_tensor(&g->b, next_name(g, "filter"), TFB_UINT8, wshape, 4, w, ws[0], 128)
           : tfb_tensor_pc(&g->b, next_name(g, "filter"), TFB_INT8, wshape, 4, w, ws, cout, dw ? 3 : 0);
    bi = tfb_buffer(&g->b, bias, sizeof(int32_t) * (size_t)cout);
    bi = u8 ? tfb_tensor(&g->b, next_name(g, "bias"), TFB_INT32, bshape, 1, bi, bs[0], 0)
            : tfb_tensor_pc(&g->b, next_name(g, "bias"), TFB_INT32, bshape, 1, bi, bs, cout, 0);
    y = activation(g, x.type, oh, ow, cout, x.scale * ws[0] * sqrtf((float)per) * 150.0f, u8 ? 128 : -128 + 60);
    opts =
        dw ? tfb_depthwise_options(&g->b, same, stride, cout / cin, act) : tfb_conv_options(&g->b, same, stride, act);
    tfb_op(&g->b, dw ? TFB_DEPTHWISE_CONV_2D : TFB_CONV_2D, (const int[]){x.id, w, bi}, 3, y.id,
           dw ? TFB_OPT_DEPTHWISE : TFB_OPT_CONV, opts);
    free(wq);
    free(bias);
    free(ws);
    free(bs);
    return y;
}

static tinfo binary_act(gen *g, int op, tinfo a, tinfo b, float scale, int zp, int act)
{
    tinfo y = activation(g, a.type, a.shape[1], a.shape[2], a.shape[3], scale, zp);
    tfb_op(&g->b, op, (const int[]){a.id, b.id}, 2, y.id,
           op == TFB_ADD ? TFB_OPT_ADD : (op == TFB_SUB ? TFB_OPT_SUB : TFB_OPT_MUL), tfb_act_options(&g->b, act));
    return y;
}

static tinfo binary(gen *g, int op, tinfo a, tinfo b, float scale, int zp)
{
    return binary_act(g, op, a, b, scale, zp, 0);
}

/* Average pool 2x2, flatten, FC to `classes`, softmax (spatial features keep the logits image-dependent). */
static tinfo classifier(gen *g, tinfo x, int classes)
{
    const int c = (x.shape[1] / 2) * (x.shape[2] / 2) * x.shape[3], u8 = x.type == TFB_UINT8;
    tinfo p = activation(g, x.type, x.shape[1] / 2, x.shape[2] / 2, x.shape[3], x.scale, x.zp), f, s, r;
    int8_t *wq = (int8_t *)malloc((size_t)classes * (size_t)c);
    int32_t *bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)classes);
    const int32_t new_shape[2] = {1, c};
    int i, w, bi, shape2[2] = {classes, c}, bshape[1] = {classes}, rshape[2] = {1, c}, one[1] = {2};
    const float ws = 0.01f;
    tfb_op(&g->b, TFB_AVERAGE_POOL_2D, &x.id, 1, p.id, TFB_OPT_POOL, tfb_pool_options(&g->b, 0, 2, 2, 0));
    r = p;
    r.shape[0] = 1;
    r.id = tfb_tensor(&g->b, next_name(g, "flat"), x.type, rshape, 2, -1, x.scale, x.zp);
    tfb_op(&g->b, TFB_RESHAPE, (const int[]){p.id, const_i32(g, new_shape, 2, one, 1)}, 2, r.id, 0, 0);
    for (i = 0; i < classes * c; i++) wq[i] = (int8_t)((int)(rnd(g) % 255) - 127);
    if (u8)
        for (i = 0; i < classes * c; i++) wq[i] = (int8_t)(uint8_t)((int)wq[i] + 128);
    for (i = 0; i < classes; i++) bias[i] = (int32_t)(rnd(g) % 4001) - 2000;
    w = tfb_buffer(&g->b, wq, (size_t)classes * (size_t)c);
    w = tfb_tensor(&g->b, next_name(g, "fc_w"), u8 ? TFB_UINT8 : TFB_INT8, shape2, 2, w, ws, u8 ? 128 : 0);
    bi = tfb_buffer(&g->b, bias, sizeof(int32_t) * (size_t)classes);
    bi = tfb_tensor(&g->b, next_name(g, "fc_b"), TFB_INT32, bshape, 1, bi, x.scale * ws, 0);
    f.type = x.type;
    f.scale = x.scale * ws * sqrtf((float)c) * 200.0f;
    f.zp = u8 ? 128 : 0;
    f.id = tfb_tensor(&g->b, next_name(g, "logits"), x.type, (const int[]){1, classes}, 2, -1, f.scale, f.zp);
    tfb_op(&g->b, TFB_FULLY_CONNECTED, (const int[]){r.id, w, bi}, 3, f.id, TFB_OPT_FULLY_CONNECTED,
           tfb_act_options(&g->b, 0));
    s.type = x.type;
    s.scale = 1.0f / 256.0f;
    s.zp = u8 ? 0 : -128;
    s.id = tfb_tensor(&g->b, next_name(g, "probs"), x.type, (const int[]){1, classes}, 2, -1, s.scale, s.zp);
    fbw_table_start(tfb_w(&g->b));
    fbw_add_f32(tfb_w(&g->b), 0, 1.0f);
    tfb_op(&g->b, TFB_SOFTMAX, &f.id, 1, s.id, TFB_OPT_SOFTMAX, fbw_table_end(tfb_w(&g->b)));
    free(wq);
    free(bias);
    return s;
}

static int save(gen *g, const char *dir, const char *name, int in, int out)
{
    char path[1024];
    FILE *f;
    int ok;
    tfb_io(&g->b, in, out);
    if (!tfb_finish(&g->b, "quantmcu generated test model")) {
        fprintf(stderr, "make_models: %s: the builder failed\n", name);
        tfb_free(&g->b);
        return 0;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ok = (f = fopen(path, "wb")) != NULL && fwrite(tfb_bytes(&g->b), 1, tfb_size(&g->b), f) == tfb_size(&g->b);
    if (f) ok = fclose(f) == 0 && ok;
    if (!ok) fprintf(stderr, "make_models: %s: cannot write\n", path);
    tfb_free(&g->b);
    return ok;
}

static void start(gen *g, uint32_t seed)
{
    tfb_init(&g->b);
    g->rng = seed;
    g->n_names = 0;
}

/* int8 input, scale 1.0, zero point -128: the network sees raw pixels (real value = p). */
static int int8_raw_pixels(gen *g, const char *dir)
{
    tinfo x, a, b, c, s;
    start(g, 0x1234567u);
    x = activation(g, TFB_INT8, 32, 32, 3, 1.0f, -128);
    a = conv(g, x, 8, 3, 1, 1, 1, 0);
    b = conv(g, a, 8, 3, 2, 1, 1, 1); /* RELU: at this scale RELU6 would clamp everything */
    c = conv(g, b, 8, 1, 1, 1, 0, 0);
    c = binary(g, TFB_ADD, b, c, b.scale * 1.5f, -128 + 20);
    c = conv(g, c, 16, 3, 2, 1, 1, 0);
    s = classifier(g, c, 10);
    return save(g, dir, "int8_raw_pixels.tflite", x.id, s.id);
}

/* float in and out around an int8 body; metadata says pixels map to [-1, 1]. */
static int float_metadata(gen *g, const char *dir)
{
    const float mean = 127.5f, std = 127.5f;
    tinfo x, q, a, s, d;
    start(g, 0x2345678u);
    tfb_metadata_normalization(&g->b, &mean, &std, 1);
    x = activation(g, TFB_FLOAT32, 24, 24, 3, 0.0f, 0);
    q = activation(g, TFB_INT8, 24, 24, 3, 2.0f / 255.0f, 0);
    tfb_op(&g->b, TFB_QUANTIZE, &x.id, 1, q.id, 0, 0);
    a = conv(g, q, 8, 3, 2, 1, 3, 0);
    a = conv(g, a, 8, 3, 1, 1, 3, 1);
    s = classifier(g, a, 5);
    d = s;
    d.id = tfb_tensor(&g->b, "probs_float", TFB_FLOAT32, (const int[]){1, 5}, 2, -1, 0.0f, 0);
    tfb_op(&g->b, TFB_DEQUANTIZE, &s.id, 1, d.id, 0, 0);
    return save(g, dir, "float_metadata.tflite", x.id, d.id);
}

/* uint8 throughout, input scale 1/128 zero point 128 ([-1, 1]) as the quantized MobileNets. */
static int uint8_body(gen *g, const char *dir)
{
    tinfo x, a, s;
    start(g, 0x3456789u);
    x = activation(g, TFB_UINT8, 32, 32, 3, 1.0f / 128.0f, 128);
    a = conv(g, x, 8, 3, 2, 1, 3, 0);
    a = conv(g, a, 8, 3, 1, 1, 3, 1);
    a = conv(g, a, 12, 1, 1, 1, 3, 0);
    s = classifier(g, a, 7);
    return save(g, dir, "uint8_body.tflite", x.id, s.id);
}

/* The other int8 ops: pad, max pool, mul, logistic, hard swish, concatenation, mean. */
static int ops_int8(gen *g, const char *dir)
{
    const int32_t pads[8] = {0, 0, 1, 1, 1, 1, 0, 0}, axes[2] = {1, 2};
    tinfo x, a, p, m, l, h, c, mu, mean;
    int shape_pads[2] = {4, 2}, shape_axes[1] = {2}, k;
    start(g, 0x456789au);
    x = activation(g, TFB_INT8, 16, 16, 3, 1.0f / 255.0f, -128);
    a = conv(g, x, 8, 3, 1, 0, 1, 0); /* VALID: 14x14 */
    p = activation(g, TFB_INT8, 16, 16, 8, a.scale, a.zp);
    k = const_i32(g, pads, 8, shape_pads, 2); /* every tensor before the options table is opened */
    fbw_table_start(tfb_w(&g->b));            /* PadOptions: no fields */
    tfb_op(&g->b, TFB_PAD, (const int[]){a.id, k}, 2, p.id, TFB_OPT_PAD, fbw_table_end(tfb_w(&g->b)));
    m = activation(g, TFB_INT8, 8, 8, 8, p.scale, p.zp);
    tfb_op(&g->b, TFB_MAX_POOL_2D, &p.id, 1, m.id, TFB_OPT_POOL, tfb_pool_options(&g->b, 1, 2, 2, 0));
    l = activation(g, TFB_INT8, 8, 8, 8, 1.0f / 256.0f, -128);
    tfb_op(&g->b, TFB_LOGISTIC, &m.id, 1, l.id, 0, 0);
    h = activation(g, TFB_INT8, 8, 8, 8, m.scale * 0.8f, -100);
    tfb_op(&g->b, TFB_HARD_SWISH, &m.id, 1, h.id, 0, 0);
    mu = binary(g, TFB_MUL, l, h, h.scale * 0.5f, -110);
    c = activation(g, TFB_INT8, 8, 8, 16, mu.scale, mu.zp);
    fbw_table_start(tfb_w(&g->b));
    fbw_add_i32(tfb_w(&g->b), 0, 3);
    tfb_op(&g->b, TFB_CONCATENATION, (const int[]){mu.id, mu.id}, 2, c.id, TFB_OPT_CONCATENATION,
           fbw_table_end(tfb_w(&g->b)));
    mean = activation(g, TFB_INT8, 1, 1, 16, c.scale, c.zp);
    k = const_i32(g, axes, 2, shape_axes, 1);
    fbw_table_start(tfb_w(&g->b));
    fbw_add_u8(tfb_w(&g->b), 0, 1); /* keep_dims */
    tfb_op(&g->b, TFB_MEAN, (const int[]){c.id, k}, 2, mean.id, TFB_OPT_REDUCER, fbw_table_end(tfb_w(&g->b)));
    return save(g, dir, "ops_int8.tflite", x.id, mean.id);
}

/* RESIZE_BILINEAR in every variant TFLite has (plain, exact 2x, half-pixel centres, aligned corners,
 * down- and upscaling), for one activation type, then ARG_MAX over the channels (argmax = 1) or not. */
static int resize_chain(gen *g, const char *dir, int type, int argmax, int nearest, const char *name)
{
    /* h, w, variant (1 align corners, 2 half-pixel); the last step, 8 -> 82 rows: output row 41 is source row 3
     * by the float rule and 4 by the fixed-point one of TFLite's optimized uint8 nearest-neighbour kernel */
    static const int sizes[7][3] = {{13, 11, 0}, {26, 22, 0}, {30, 40, 2}, {17, 19, 1},
                                    {7, 37, 0},  {8, 21, 0},  {82, 21, 0}};
    const int u8 = type == TFB_UINT8, fl = type == TFB_FLOAT32;
    tinfo x, a, q;
    int k;
    start(g, 5 + (uint32_t)type);
    if (fl) { /* float body: QUANTIZE-free, conv weights are int8 per-channel only, so resize the input itself */
        x = activation(g, TFB_FLOAT32, 8, 8, 3, 0.0f, 0);
        a = x;
    } else {
        x = activation(g, type, 16, 16, 3, u8 ? 1.0f / 128.0f : 1.0f / 255.0f, u8 ? 128 : -128);
        a = conv(g, x, 8, 3, 2, 1, 0, 0);
    }
    for (k = 0; k < 7; k++) {
        const int32_t size[2] = {sizes[k][0], sizes[k][1]};
        const int one[1] = {2};
        const int size_ref = const_i32(g, size, 2, one, 1);
        q = activation(g, a.type, sizes[k][0], sizes[k][1], a.shape[3], a.scale, a.zp);
        /* ResizeBilinearOptions: align_corners 2, half_pixel_centers 3; ResizeNearestNeighborOptions: 0, 1 */
        fbw_table_start(tfb_w(&g->b));
        fbw_add_u8(tfb_w(&g->b), nearest ? 0 : 2, (uint8_t)(sizes[k][2] == 1));
        fbw_add_u8(tfb_w(&g->b), nearest ? 1 : 3, (uint8_t)(sizes[k][2] == 2));
        tfb_op(&g->b, nearest ? TFB_RESIZE_NEAREST_NEIGHBOR : TFB_RESIZE_BILINEAR, (const int[]){a.id, size_ref}, 2,
               q.id, nearest ? TFB_OPT_RESIZE_NEAREST_NEIGHBOR : TFB_OPT_RESIZE_BILINEAR, fbw_table_end(tfb_w(&g->b)));
        a = q;
    }
    if (argmax) {
        const int32_t axis[1] = {3};
        const int one[1] = {1};
        const int oshape[3] = {1, a.shape[1], a.shape[2]};
        const int y = tfb_tensor(&g->b, "argmax", TFB_INT32, oshape, 3, -1, 0.0f, 0);
        const int axis_ref = const_i32(g, axis, 1, one, 1);
        fbw_table_start(tfb_w(&g->b)); /* ArgMaxOptions: output_type */
        fbw_add_u8(tfb_w(&g->b), 0, TFB_INT32);
        tfb_op(&g->b, TFB_ARG_MAX, (const int[]){a.id, axis_ref}, 2, y, TFB_OPT_ARG_MAX, fbw_table_end(tfb_w(&g->b)));
        return save(g, dir, name, x.id, y);
    }
    return save(g, dir, name, x.id, a.id);
}

/* SPLIT along channels (two 4-channel halves multiplied) and along rows (two outputs): a model
 * with two outputs, for the all-outputs comparison (tflite_diff --random). */
static int split_model(gen *g, const char *dir, int type, const char *name)
{
    const int32_t axis_c[1] = {3}, axis_h[1] = {1};
    const int one[1] = {1};
    const int u8 = type == TFB_UINT8;
    tinfo x, a, h0, h1, m, r0, r1;
    int axis_ref;
    start(g, 9 + (uint32_t)type);
    x = activation(g, type, 16, 16, 3, u8 ? 1.0f / 128.0f : 1.0f / 255.0f, u8 ? 128 : -128);
    a = conv(g, x, 8, 3, 2, 1, 0, 0); /* 8x8x8 */
    h0 = activation(g, type, 8, 8, 4, a.scale, a.zp);
    h1 = activation(g, type, 8, 8, 4, a.scale, a.zp);
    axis_ref = const_i32(g, axis_c, 1, one, 1);
    fbw_table_start(tfb_w(&g->b)); /* SplitOptions: num_splits */
    fbw_add_i32(tfb_w(&g->b), 0, 2);
    tfb_op_multi(&g->b, TFB_SPLIT, (const int[]){axis_ref, a.id}, 2, (const int[]){h0.id, h1.id}, 2, TFB_OPT_SPLIT,
                 fbw_table_end(tfb_w(&g->b)));
    m = binary(g, TFB_MUL, h0, h1, h0.scale * h1.scale * 40.0f, u8 ? 128 : 0);
    r0 = activation(g, type, 4, 8, 4, m.scale, m.zp); /* rows 0..3 and 4..7: the model's two outputs */
    r1 = activation(g, type, 4, 8, 4, m.scale, m.zp);
    axis_ref = const_i32(g, axis_h, 1, one, 1);
    fbw_table_start(tfb_w(&g->b)); /* the options table last: nothing else may be written while it is open */
    fbw_add_i32(tfb_w(&g->b), 0, 2);
    tfb_op_multi(&g->b, TFB_SPLIT, (const int[]){axis_ref, m.id}, 2, (const int[]){r0.id, r1.id}, 2, TFB_OPT_SPLIT,
                 fbw_table_end(tfb_w(&g->b)));
    tfb_io(&g->b, -1, r0.id);
    return save(g, dir, name, x.id, r1.id);
}

/* SUB of two convolutions, then SUB with a fused RELU (float: of the input and its square). */
static int sub_model(gen *g, const char *dir, int type, const char *name)
{
    const int u8 = type == TFB_UINT8;
    tinfo x, a, b, d, e;
    start(g, 13 + (uint32_t)type);
    if (type == TFB_FLOAT32) {
        x = activation(g, TFB_FLOAT32, 8, 8, 3, 0.0f, 0);
        a = binary(g, TFB_MUL, x, x, 0.0f, 0);        /* x^2 */
        d = binary_act(g, TFB_SUB, x, a, 0.0f, 0, 0); /* x - x^2 */
        e = binary_act(g, TFB_SUB, a, d, 0.0f, 0, 1); /* relu(2 x^2 - x) */
        return save(g, dir, name, x.id, e.id);
    }
    x = activation(g, type, 16, 16, 3, u8 ? 1.0f / 128.0f : 1.0f / 255.0f, u8 ? 128 : -128);
    a = conv(g, x, 8, 3, 2, 1, 0, 0);
    b = conv(g, x, 8, 3, 2, 1, 0, 0);
    d = binary_act(g, TFB_SUB, a, b, a.scale * 1.3f, u8 ? 120 : -5, 0);
    e = binary_act(g, TFB_SUB, d, a, d.scale * 0.9f, u8 ? 100 : -20, 1); /* fused RELU */
    return save(g, dir, name, x.id, e.id);
}

/* LEAKY_RELU with alpha 0.2 (the usual) and 1.5 (above 1: no max()), both signs of input. */
static tinfo leaky_relu(gen *g, tinfo x, float alpha, float scale, int zp)
{
    tinfo y = activation(g, x.type, x.shape[1], x.shape[2], x.shape[3], scale, zp);
    fbw_table_start(tfb_w(&g->b)); /* LeakyReluOptions: alpha */
    fbw_add_f32(tfb_w(&g->b), 0, alpha);
    tfb_op(&g->b, TFB_LEAKY_RELU, &x.id, 1, y.id, TFB_OPT_LEAKY_RELU, fbw_table_end(tfb_w(&g->b)));
    return y;
}

/* A LEAKY_RELU with a negative alpha (TFLite runs it; refused here by name). */
static int negative_alpha(gen *g, const char *dir)
{
    tinfo x, l;
    start(g, 0x51u);
    x = activation(g, TFB_INT8, 8, 8, 3, 1.0f / 255.0f, -128);
    l = leaky_relu(g, x, -0.5f, 1.0f / 255.0f, 0);
    return save(g, dir, "negative_alpha.tflite", x.id, l.id);
}

static int leaky_relu_model(gen *g, const char *dir, int type, const char *name)
{
    const int u8 = type == TFB_UINT8;
    tinfo x, a, l1, b, l2;
    start(g, 21 + (uint32_t)type);
    if (type == TFB_FLOAT32) { /* x^2 - x <= 0, then x - leaky(x^2 - x) >= 0 */
        x = activation(g, TFB_FLOAT32, 8, 8, 3, 0.0f, 0);
        a = binary(g, TFB_MUL, x, x, 0.0f, 0);
        b = binary(g, TFB_SUB, a, x, 0.0f, 0);
        l1 = leaky_relu(g, b, 0.2f, 0.0f, 0);
        b = binary(g, TFB_SUB, x, l1, 0.0f, 0);
        l2 = leaky_relu(g, b, 1.5f, 0.0f, 0);
        return save(g, dir, name, x.id, l2.id);
    }
    x = activation(g, type, 16, 16, 3, u8 ? 1.0f / 128.0f : 1.0f / 255.0f, u8 ? 128 : -128);
    a = conv(g, x, 8, 3, 2, 1, 0, 0);
    l1 = leaky_relu(g, a, 0.2f, a.scale * 0.7f, u8 ? 100 : -30);
    b = conv(g, l1, 8, 1, 1, 1, 0, 0);
    l2 = leaky_relu(g, b, 1.5f, b.scale * 1.6f, u8 ? 140 : 10);
    return save(g, dir, name, x.id, l2.id);
}

/* Dynamic-range ("hybrid") CONV_2D: float activations, int8 weights with a float bias. */
static tinfo hybrid_conv(gen *g, tinfo x, int cout, int k, int stride, int per_channel, int act)
{
    const int cin = x.shape[3], n = cout * k * k * cin;
    const int oh = (x.shape[1] + stride - 1) / stride, ow = (x.shape[2] + stride - 1) / stride;
    int8_t wq[16 * 3 * 3 * 16];
    float ws[16], bias[16];
    const int wshape[4] = {cout, k, k, cin}, bshape[1] = {cout};
    int i, w, b;
    tinfo y;
    for (i = 0; i < n; i++) wq[i] = (int8_t)((int)(rnd(g) % 255) - 127);
    for (i = 0; i < cout; i++) {
        ws[i] = per_channel ? 0.002f + 0.0005f * (float)(rnd(g) % 20) : 0.004f;
        bias[i] = (float)((int)(rnd(g) % 200) - 100) / 100.0f;
    }
    w = tfb_buffer(&g->b, wq, (size_t)n);
    w = tfb_tensor_pc(&g->b, next_name(g, "hybrid_filter"), TFB_INT8, wshape, 4, w, ws, per_channel ? cout : 1, 0);
    b = tfb_tensor(&g->b, next_name(g, "bias"), TFB_FLOAT32, bshape, 1,
                   tfb_buffer(&g->b, bias, sizeof(float) * (size_t)cout), 0.0f, 0);
    y = activation(g, TFB_FLOAT32, oh, ow, cout, 0.0f, 0);
    tfb_op(&g->b, TFB_CONV_2D, (const int[]){x.id, w, b}, 3, y.id, TFB_OPT_CONV,
           tfb_conv_options(&g->b, 1, stride, act));
    return y;
}

static int tensor_nd(gen *g, int type, const int *shape, int ndim, float scale, int zp);
static int reshape_to(gen *g, int x, int type, const int *shape, int ndim, float scale, int zp);

/* A float model with dynamic-range convolutions: per-tensor weights (symmetric input
 * quantization), then per-channel weights (asymmetric), as TFLite's converter writes them. */
static int hybrid_model(gen *g, const char *dir, const char *name)
{
    tinfo x, a, b;
    start(g, 31);
    x = activation(g, TFB_FLOAT32, 12, 12, 3, 0.0f, 0);
    a = hybrid_conv(g, x, 8, 3, 2, 0, 1); /* RELU */
    b = hybrid_conv(g, a, 6, 3, 1, 1, 0);
    { /* then a dynamic-range FULLY_CONNECTED over the flattened map (per-tensor weights) */
        const int flat[2] = {1, 6 * 6 * 6}, wshape[2] = {10, 6 * 6 * 6}, bshape[1] = {10}, yshape[2] = {1, 10};
        int8_t w[10 * 216];
        float bias[10];
        int r, wt, bt, y, k;
        for (k = 0; k < 10 * 216; k++) w[k] = (int8_t)((int)(rnd(g) % 255) - 127);
        for (k = 0; k < 10; k++) bias[k] = (float)((int)(rnd(g) % 200) - 100) / 50.0f;
        r = reshape_to(g, b.id, TFB_FLOAT32, flat, 2, 0.0f, 0);
        wt = tfb_tensor(&g->b, "fc_w", TFB_INT8, wshape, 2, tfb_buffer(&g->b, w, sizeof w), 0.003f, 0);
        bt = tfb_tensor(&g->b, "fc_b", TFB_FLOAT32, bshape, 1, tfb_buffer(&g->b, bias, sizeof bias), 0.0f, 0);
        y = tensor_nd(g, TFB_FLOAT32, yshape, 2, 0.0f, 0);
        tfb_op(&g->b, TFB_FULLY_CONNECTED, (const int[]){r, wt, bt}, 3, y, TFB_OPT_FULLY_CONNECTED,
               tfb_act_options(&g->b, 0));
        return save(g, dir, name, x.id, y);
    }
}

/* An activation of any shape (scale 0: not quantized). */
static int tensor_nd(gen *g, int type, const int *shape, int ndim, float scale, int zp)
{
    return tfb_tensor(&g->b, next_name(g, "t"), type, shape, ndim, -1, scale, zp);
}

static int reshape_to(gen *g, int x, int type, const int *shape, int ndim, float scale, int zp)
{
    const int n[1] = {ndim};
    const int32_t s32[4] = {shape[0], ndim > 1 ? shape[1] : 0, ndim > 2 ? shape[2] : 0, ndim > 3 ? shape[3] : 0};
    const int y = tensor_nd(g, type, shape, ndim, scale, zp);
    tfb_op(&g->b, TFB_RESHAPE, (const int[]){x, const_i32(g, s32, ndim, n, 1)}, 2, y, 0, 0);
    return y;
}

/* The post-processing ops of pose models (MoveNet): a raw uint8 image CAST to float, QUANTIZE, a conv,
 * the arg max of each channel over the pixels turned into (row, column) by int32 FLOOR_DIV, MUL and
 * SUB, PACKed with the channel into index tuples (CONCATENATION with a constant column) for
 * GATHER_ND, PACK / UNPACK of int8 values, SUB with a constant first input, DEQUANTIZE, SQRT, DIV;
 * two outputs (float values, the arg max CAST to float). */
static int pose_ops_model(gen *g, const char *dir, const char *name)
{
    const int one[1] = {1}, four[1] = {4}, s4x1[2] = {4, 1}, s4[1] = {4}, s14[2] = {1, 4}, s43[2] = {4, 3};
    const int s44[2] = {4, 4}, s42[2] = {4, 2}, s164[3] = {1, 64, 4};
    const int32_t eight[1] = {8}, axis1[1] = {1}, channels[4] = {0, 1, 2, 3}, zeros[4] = {0, 0, 0, 0};
    const int8_t c8[4] = {10, -20, 30, -40};
    const float divisors[4] = {2.0f, 3.0f, 4.0f, 5.0f};
    tinfo x, q, c;
    int f, r, am, fd, mu, md, fd1, md1, idx, idx4, gv, pk, u0, u1, ad, cst, sb, fl, sq, sq2, dv, amf;
    start(g, 41);
    x = activation(g, TFB_UINT8, 8, 8, 3, 0.0f, 0); /* raw uint8, no quantization (as MoveNet's input) */
    f = tensor_nd(g, TFB_FLOAT32, x.shape, 4, 0.0f, 0);
    tfb_op(&g->b, TFB_CAST, &x.id, 1, f, 0, 0);
    q = activation(g, TFB_INT8, 8, 8, 3, 1.0f, -128);
    tfb_op(&g->b, TFB_QUANTIZE, &f, 1, q.id, 0, 0);
    { /* MoveNet's input normalization: minus a per-channel constant, times a scalar (broadcast constants) */
        const int8_t mean[3] = {-20, 5, 30}, gain[1] = {64};
        const int s3[4] = {1, 1, 1, 3};
        tinfo d = activation(g, TFB_INT8, 8, 8, 3, 1.5f, -10), e = activation(g, TFB_INT8, 8, 8, 3, 0.9f, 3);
        const int mc = tfb_tensor(&g->b, "mean", TFB_INT8, s3, 4, tfb_buffer(&g->b, mean, 3), 1.0f, 0);
        const int gc = tfb_tensor(&g->b, "gain", TFB_INT8, NULL, 0, tfb_buffer(&g->b, gain, 1), 0.01f, 0);
        tfb_op(&g->b, TFB_SUB, (const int[]){q.id, mc}, 2, d.id, TFB_OPT_SUB, tfb_act_options(&g->b, 0));
        tfb_op(&g->b, TFB_MUL, (const int[]){gc, d.id}, 2, e.id, TFB_OPT_MUL, tfb_act_options(&g->b, 0));
        q = e;
    }
    c = conv(g, q, 4, 3, 1, 1, 0, 0);
    r = reshape_to(g, c.id, TFB_INT8, s164, 3, c.scale, c.zp);
    am = tensor_nd(g, TFB_INT32, s14, 2, 0.0f, 0);
    {
        const int axis_ref = const_i32(g, axis1, 1, one, 1); /* before the options table: no nesting */
        fbw_table_start(tfb_w(&g->b));                       /* ArgMaxOptions: output_type */
        fbw_add_u8(tfb_w(&g->b), 0, TFB_INT32);
        tfb_op(&g->b, TFB_ARG_MAX, (const int[]){r, axis_ref}, 2, am, TFB_OPT_ARG_MAX, fbw_table_end(tfb_w(&g->b)));
    }
    fd = tensor_nd(g, TFB_INT32, s14, 2, 0.0f, 0); /* row = index / 8 */
    tfb_op(&g->b, TFB_FLOOR_DIV, (const int[]){am, const_i32(g, eight, 1, NULL, 0)}, 2, fd, 0, 0);
    mu = tensor_nd(g, TFB_INT32, s14, 2, 0.0f, 0);
    tfb_op(&g->b, TFB_MUL, (const int[]){fd, const_i32(g, eight, 1, NULL, 0)}, 2, mu, TFB_OPT_MUL,
           tfb_act_options(&g->b, 0));
    md = tensor_nd(g, TFB_INT32, s14, 2, 0.0f, 0); /* column = index - 8 row */
    tfb_op(&g->b, TFB_SUB, (const int[]){am, mu}, 2, md, TFB_OPT_SUB, tfb_act_options(&g->b, 0));
    fd1 = reshape_to(g, fd, TFB_INT32, s4, 1, 0.0f, 0);
    md1 = reshape_to(g, md, TFB_INT32, s4, 1, 0.0f, 0);
    idx = tensor_nd(g, TFB_INT32, s43, 2, 0.0f, 0);
    {
        const int ch = const_i32(g, channels, 4, four, 1);
        fbw_table_start(tfb_w(&g->b)); /* PackOptions: values_count, axis */
        fbw_add_i32(tfb_w(&g->b), 0, 3);
        fbw_add_i32(tfb_w(&g->b), 1, 1);
        tfb_op(&g->b, TFB_PACK, (const int[]){fd1, md1, ch}, 3, idx, TFB_OPT_PACK, fbw_table_end(tfb_w(&g->b)));
    }
    idx4 = tensor_nd(g, TFB_INT32, s44, 2, 0.0f, 0);
    {
        const int z = const_i32(g, zeros, 4, s4x1, 2);
        fbw_table_start(tfb_w(&g->b)); /* ConcatenationOptions: axis */
        fbw_add_i32(tfb_w(&g->b), 0, 1);
        tfb_op(&g->b, TFB_CONCATENATION, (const int[]){z, idx}, 2, idx4, TFB_OPT_CONCATENATION,
               fbw_table_end(tfb_w(&g->b)));
    }
    gv = tensor_nd(g, TFB_INT8, s4, 1, c.scale, c.zp);
    tfb_op(&g->b, TFB_GATHER_ND, (const int[]){c.id, idx4}, 2, gv, 0, 0);
    pk = tensor_nd(g, TFB_INT8, s42, 2, c.scale, c.zp);
    fbw_table_start(tfb_w(&g->b));
    fbw_add_i32(tfb_w(&g->b), 0, 2);
    fbw_add_i32(tfb_w(&g->b), 1, 1);
    tfb_op(&g->b, TFB_PACK, (const int[]){gv, gv}, 2, pk, TFB_OPT_PACK, fbw_table_end(tfb_w(&g->b)));
    u0 = tensor_nd(g, TFB_INT8, s4, 1, c.scale, c.zp);
    u1 = tensor_nd(g, TFB_INT8, s4, 1, c.scale, c.zp);
    fbw_table_start(tfb_w(&g->b)); /* UnpackOptions: num, axis */
    fbw_add_i32(tfb_w(&g->b), 0, 2);
    fbw_add_i32(tfb_w(&g->b), 1, 1);
    tfb_op_multi(&g->b, TFB_UNPACK, &pk, 1, (const int[]){u0, u1}, 2, TFB_OPT_UNPACK, fbw_table_end(tfb_w(&g->b)));
    ad = tensor_nd(g, TFB_INT8, s4, 1, c.scale * 2.0f, c.zp);
    tfb_op(&g->b, TFB_ADD, (const int[]){u0, u1}, 2, ad, TFB_OPT_ADD, tfb_act_options(&g->b, 0));
    cst = tfb_tensor(&g->b, "const_i8", TFB_INT8, s4, 1, tfb_buffer(&g->b, c8, 4), c.scale * 2.0f, c.zp);
    sb = tensor_nd(g, TFB_INT8, s4, 1, c.scale * 3.0f, c.zp);
    tfb_op(&g->b, TFB_SUB, (const int[]){cst, ad}, 2, sb, TFB_OPT_SUB, tfb_act_options(&g->b, 0));
    fl = tensor_nd(g, TFB_FLOAT32, s4, 1, 0.0f, 0);
    tfb_op(&g->b, TFB_DEQUANTIZE, &sb, 1, fl, 0, 0);
    sq2 = tensor_nd(g, TFB_FLOAT32, s4, 1, 0.0f, 0);
    tfb_op(&g->b, TFB_MUL, (const int[]){fl, fl}, 2, sq2, TFB_OPT_MUL, tfb_act_options(&g->b, 0));
    sq = tensor_nd(g, TFB_FLOAT32, s4, 1, 0.0f, 0);
    tfb_op(&g->b, TFB_SQRT, &sq2, 1, sq, 0, 0);
    dv = tensor_nd(g, TFB_FLOAT32, s4, 1, 0.0f, 0);
    {
        const int den =
            tfb_tensor(&g->b, "divisors", TFB_FLOAT32, s4, 1, tfb_buffer(&g->b, divisors, sizeof divisors), 0.0f, 0);
        fbw_table_start(tfb_w(&g->b)); /* DivOptions: fused_activation_function */
        fbw_add_u8(tfb_w(&g->b), 0, 0);
        tfb_op(&g->b, TFB_DIV, (const int[]){sq, den}, 2, dv, TFB_OPT_DIV, fbw_table_end(tfb_w(&g->b)));
    }
    amf = tensor_nd(g, TFB_FLOAT32, s14, 2, 0.0f, 0);
    tfb_op(&g->b, TFB_CAST, &am, 1, amf, 0, 0);
    tfb_io(&g->b, -1, dv);
    return save(g, dir, name, x.id, amf);
}

/* A fully integer UNIDIRECTIONAL_SEQUENCE_LSTM as the TFLite converter writes it: int8 input, hidden
 * state and weights, an int16 cell state with scale 2^-11, int32 biases, 5 intermediates (4 empty
 * float ones, the hidden state's quantization), a cell clip that binds (0.5). Not an image model:
 * compared on random inputs. */
static int lstm_model(gen *g, const char *dir, const char *name, int drop_input)
{
    enum { T = 6, N_IN = 5, N_CELL = 4 };
    const int xs[3] = {1, T, N_IN}, ys[3] = {1, T, N_CELL}, hs[2] = {1, N_CELL}, empty[1] = {0};
    const float x_scale = 1.0f / 64.0f, h_scale = 1.0f / 100.0f;
    int in[24], inter[5], x, y, k, i;
    start(g, 51);
    x = tfb_tensor(&g->b, "x", TFB_INT8, xs, 3, -1, x_scale, -3);
    for (k = 0; k < 24; k++) in[k] = -1;
    in[0] = x;
    for (k = 0; k < 8; k++) { /* input-to-gate, then recurrent-to-gate weights: input, forget, cell, output */
        int8_t w[N_CELL * N_IN];
        const int cols = k < 4 ? N_IN : N_CELL, shape[2] = {N_CELL, cols};
        for (i = 0; i < N_CELL * cols; i++) w[i] = (int8_t)((int)(rnd(g) % 255) - 127);
        in[1 + k] = tfb_tensor(&g->b, next_name(g, "w"), TFB_INT8, shape, 2,
                               tfb_buffer(&g->b, w, (size_t)(N_CELL * cols)), 0.004f + 0.001f * (float)k, 0);
    }
    for (k = 0; k < 4; k++) { /* gate biases, in the input x weight scale */
        int32_t bias[N_CELL];
        const int bshape[1] = {N_CELL};
        for (i = 0; i < N_CELL; i++) bias[i] = (int32_t)(rnd(g) % 4001) - 2000;
        in[12 + k] = tfb_tensor(&g->b, next_name(g, "b"), TFB_INT32, bshape, 1, tfb_buffer(&g->b, bias, sizeof bias),
                                x_scale * (0.004f + 0.001f * (float)k), 0);
    }
    g->b.variable_next = 1;
    in[18] = tfb_tensor(&g->b, "hidden_state", TFB_INT8, hs, 2, -1, h_scale, 2);
    g->b.variable_next = 1;
    in[19] = tfb_tensor(&g->b, "cell_state", TFB_INT16, hs, 2, -1, 1.0f / 2048.0f, 0);
    for (k = 0; k < 4; k++)
        inter[k] = tfb_tensor(&g->b, next_name(g, "intermediate"), TFB_FLOAT32, empty, 1, -1, 0.0f, 0);
    inter[4] = tfb_tensor(&g->b, "hidden_intermediate", TFB_INT8, empty, 1, -1, h_scale, 2);
    y = tfb_tensor(&g->b, "y", TFB_INT8, ys, 3, -1, h_scale, 2);
    fbw_table_start(tfb_w(&g->b)); /* UnidirectionalSequenceLSTMOptions: activation TANH, cell_clip */
    fbw_add_u8(tfb_w(&g->b), 0, 4);
    fbw_add_f32(tfb_w(&g->b), 1, 0.5f);
    if (drop_input) in[drop_input] = -1; /* hostile: a required input marked absent */
    tfb_op_full(&g->b, TFB_UNIDIRECTIONAL_SEQUENCE_LSTM, in, 24, &y, 1, TFB_OPT_UNIDIRECTIONAL_SEQUENCE_LSTM,
                fbw_table_end(tfb_w(&g->b)), inter, 5);
    return save(g, dir, name, x, y);
}

/* A tensor reshaped to [1, rows, cols] (same quantization). */
static int reshape3(gen *g, tinfo x, int rows, int cols)
{
    const int32_t shape[3] = {1, rows, cols};
    const int three[1] = {3}, oshape[3] = {1, rows, cols};
    const int y = tfb_tensor(&g->b, next_name(g, "reshaped"), x.type, oshape, 3, -1, x.scale, x.zp);
    tfb_op(&g->b, TFB_RESHAPE, (const int[]){x.id, const_i32(g, shape, 3, three, 1)}, 2, y, 0, 0);
    return y;
}

/* An SSD-style head: box encodings and class scores from the image, anchors as a constant, then
 * TFLite_Detection_PostProcess (fast or regular NMS) with its four float outputs. uint8: two convs
 * (2 anchors per cell of an 8x8 map, 3 classes + background, LOGISTIC scores: many equal scores, so
 * the ranking of ties is tested; the encodings concatenate two differently quantized maps); float: the image itself as encodings (code length 6) and its
 * LOGISTIC as scores of 3 classes without background. */
static int detection_model(gen *g, const char *dir, int type, int regular, int max_classes, const char *name)
{
    const int fl = type == TFB_FLOAT32, boxes = fl ? 16 : 128, ncb = fl ? 3 : 4;
    tinfo x, e, c, sig;
    int enc, sc, anchors, outs[4], k;
    uint8_t opts[512];
    size_t n_opts;
    start(g, 21 + (uint32_t)type + 2 * (uint32_t)regular);
    if (fl) {
        x = activation(g, TFB_FLOAT32, 4, 4, 3, 0.0f, 0);
        e = activation(g, TFB_FLOAT32, 4, 4, 6, 0.0f, 0);
        fbw_table_start(tfb_w(&g->b)); /* ConcatenationOptions: axis */
        fbw_add_i32(tfb_w(&g->b), 0, 3);
        tfb_op(&g->b, TFB_CONCATENATION, (const int[]){x.id, x.id}, 2, e.id, TFB_OPT_CONCATENATION,
               fbw_table_end(tfb_w(&g->b)));
        enc = reshape3(g, e, boxes, 6);
        sig = activation(g, TFB_FLOAT32, 4, 4, 3, 0.0f, 0);
        tfb_op(&g->b, TFB_LOGISTIC, &x.id, 1, sig.id, 0, 0);
        sc = reshape3(g, sig, boxes, ncb);
    } else {
        x = activation(g, type, 16, 16, 3, 1.0f / 128.0f, 128);
        tinfo e0 = conv(g, x, 4, 3, 2, 1, 0, 0), e1 = conv(g, x, 4, 3, 2, 1, 0, 0);
        /* 8x8x(2 anchors x 4): two maps quantized differently, concatenated with rescaling (uint8) */
        e = activation(g, type, 8, 8, 8, e0.scale * 1.7f, 120);
        fbw_table_start(tfb_w(&g->b)); /* ConcatenationOptions: axis */
        fbw_add_i32(tfb_w(&g->b), 0, 3);
        tfb_op(&g->b, TFB_CONCATENATION, (const int[]){e0.id, e1.id}, 2, e.id, TFB_OPT_CONCATENATION,
               fbw_table_end(tfb_w(&g->b)));
        enc = reshape3(g, e, boxes, 4);
        c = conv(g, x, 2 * ncb, 3, 2, 1, 0, 0);
        sig = activation(g, type, 8, 8, 2 * ncb, 1.0f / 256.0f, 0);
        tfb_op(&g->b, TFB_LOGISTIC, &c.id, 1, sig.id, 0, 0);
        sc = reshape3(g, sig, boxes, ncb);
    }
    { /* anchors (y, x, h, w): centres on a grid, sizes 0.1 .. 0.5 */
        const int ashape[2] = {boxes, 4};
        float af[128 * 4];
        uint8_t aq[128 * 4];
        for (k = 0; k < boxes; k++) {
            af[4 * k] = (float)(k / 4 % 8) / 8.0f + 0.06f;
            af[4 * k + 1] = (float)(k % 8) / 8.0f + 0.06f;
            af[4 * k + 2] = 0.1f + 0.1f * (float)(rnd(g) % 5);
            af[4 * k + 3] = 0.1f + 0.1f * (float)(rnd(g) % 5);
        }
        for (k = 0; k < 4 * boxes; k++) aq[k] = (uint8_t)lroundf(af[k] * 255.0f);
        anchors = fl ? tfb_tensor(&g->b, "anchors", TFB_FLOAT32, ashape, 2,
                                  tfb_buffer(&g->b, af, sizeof(float) * 4 * (size_t)boxes), 0.0f, 0)
                     : tfb_tensor(&g->b, "anchors", TFB_UINT8, ashape, 2, tfb_buffer(&g->b, aq, 4 * (size_t)boxes),
                                  1.0f / 255.0f, 0);
    }
    for (k = 0; k < 4; k++) { /* declared without a shape, as converted SSD models do: TFLite sizes them */
        static const char *const names[4] = {"detection_boxes", "detection_classes", "detection_scores",
                                             "num_detections"};
        outs[k] = tfb_tensor(&g->b, names[k], TFB_FLOAT32, NULL, 0, -1, 0.0f, 0);
    }
    {
        const tfb_flex_entry e_opts[] = {
            {"detections_per_class", 0, 5},
            {"h_scale", 1, 5.0},
            {"max_classes_per_detection", 0, max_classes},
            {"max_detections", 0, regular ? 8 : 10},
            {"nms_iou_threshold", 1, 0.4},
            {"nms_score_threshold", 1, fl ? 0.55 : 0.3},
            {"num_classes", 0, 3},
            {"use_regular_nms", 2, regular},
            {"w_scale", 1, 5.0},
            {"x_scale", 1, 10.0},
            {"y_scale", 1, 10.0},
        };
        n_opts = tfb_flex_map(e_opts, (int)(sizeof e_opts / sizeof e_opts[0]), opts, sizeof opts);
        if (!n_opts) return 0;
    }
    tfb_op_custom(&g->b, "TFLite_Detection_PostProcess", (const int[]){enc, sc, anchors}, 3, outs, 4, opts, n_opts);
    for (k = 0; k < 3; k++) tfb_io(&g->b, -1, outs[k]);
    return save(g, dir, name, x.id, outs[3]);
}

/* A float ADD chain over 1x16384x16384x1 tensors (2^28 elements, 1 GB each): three are live at once. */
static int huge_arena(gen *g, const char *dir)
{
    const int s[4] = {1, 16384, 16384, 1};
    int x, y, z, w;
    start(g, 1);
    x = tfb_tensor(&g->b, "x", TFB_FLOAT32, s, 4, -1, 0.0f, 0);
    y = tfb_tensor(&g->b, "y", TFB_FLOAT32, s, 4, -1, 0.0f, 0);
    z = tfb_tensor(&g->b, "z", TFB_FLOAT32, s, 4, -1, 0.0f, 0);
    w = tfb_tensor(&g->b, "w", TFB_FLOAT32, s, 4, -1, 0.0f, 0);
    tfb_op(&g->b, TFB_ADD, (const int[]){x, x}, 2, y, TFB_OPT_ADD, tfb_act_options(&g->b, 0));
    tfb_op(&g->b, TFB_ADD, (const int[]){x, y}, 2, z, TFB_OPT_ADD, tfb_act_options(&g->b, 0));
    tfb_op(&g->b, TFB_ADD, (const int[]){y, z}, 2, w, TFB_OPT_ADD, tfb_act_options(&g->b, 0));
    return save(g, dir, "huge_arena.tflite", x, w);
}

/* A small conv model with one thing wrong (what: 0 huge tensor, 1 short weights, 2 bad tensor index,
 * 3 reads before written, 4 zero scale, 5 a shape whose element count overflows 64 bits). */
static int broken_conv(gen *g, const char *dir, int what, const char *name)
{
    const int xs[4] = {1, 8, 8, 3}, big[4] = {1, 65536, 65536, 1}, ws[4] = {4, 3, 3, 3}, bs[1] = {4};
    const int huge6[6] = {1 << 24, 1 << 24, 1 << 24, 1 << 24, 1 << 24, 1 << 24}; /* 2^144 elements */
    const float wsc[4] = {0.01f, 0.01f, 0.01f, 0.01f}, bsc[4] = {0.001f, 0.001f, 0.001f, 0.001f};
    int8_t wq[108];
    int32_t bias[4] = {0, 0, 0, 0};
    int x, w, b, y, z;
    memset(wq, 3, sizeof wq);
    start(g, 2);
    const float zero = 0.0f;
    x = what == 4   ? tfb_tensor_pc(&g->b, "x", TFB_INT8, xs, 4, -1, &zero, 1, 0) /* a quantization scale of 0 */
        : what == 5 ? tfb_tensor(&g->b, "x", TFB_INT8, huge6, 6, -1, 0.1f, 0)
                    : tfb_tensor(&g->b, "x", TFB_INT8, what == 0 ? big : xs, 4, -1, 0.1f, 0);
    w = tfb_tensor_pc(&g->b, "w", TFB_INT8, ws, 4, tfb_buffer(&g->b, wq, what == 1 ? 10 : sizeof wq), wsc, 4, 0);
    b = tfb_tensor_pc(&g->b, "b", TFB_INT32, bs, 1, tfb_buffer(&g->b, bias, sizeof bias), bsc, 4, 0);
    y = tfb_tensor(&g->b, "y", TFB_INT8, (const int[]){1, 8, 8, 4}, 4, -1, 0.2f, 0);
    z = tfb_tensor(&g->b, "z", TFB_INT8, (const int[]){1, 8, 8, 4}, 4, -1, 0.2f, 0);
    if (what == 3) /* z's producer comes after its reader */
        tfb_op(&g->b, TFB_ADD, (const int[]){z, z}, 2, y, TFB_OPT_ADD, tfb_act_options(&g->b, 0));
    tfb_op(&g->b, TFB_CONV_2D, (const int[]){x, w, what == 2 ? 999 : b}, 3, what == 3 ? z : y, TFB_OPT_CONV,
           tfb_conv_options(&g->b, 1, 1, 0));
    return save(g, dir, name, x, y);
}

/* A keyword-spotting shaped input (1x49x10x1 MFCC features): not an image. */
static int mfcc_input(gen *g, const char *dir)
{
    tinfo x, a;
    start(g, 4);
    x = activation(g, TFB_INT8, 49, 10, 1, 0.05f, 0);
    a = conv(g, x, 4, 3, 1, 1, 1, 0);
    return save(g, dir, "mfcc_input.tflite", x.id, a.id);
}

/* An image CAST to int32 and FLOOR_DIVided by a constant 0: well formed, fails when it runs (as in TFLite). */
static int div_by_zero(gen *g, const char *dir)
{
    const int32_t zero[1] = {0};
    tinfo x;
    int c, y;
    start(g, 6);
    x = activation(g, TFB_UINT8, 4, 4, 3, 0.0f, 0);
    c = tensor_nd(g, TFB_INT32, x.shape, 4, 0.0f, 0);
    tfb_op(&g->b, TFB_CAST, &x.id, 1, c, 0, 0);
    y = tensor_nd(g, TFB_INT32, x.shape, 4, 0.0f, 0);
    tfb_op(&g->b, TFB_FLOOR_DIV, (const int[]){c, const_i32(g, zero, 1, NULL, 0)}, 2, y, 0, 0);
    return save(g, dir, "div_by_zero.tflite", x.id, y);
}

static int corrupt_metadata(gen *g, const char *dir)
{
    const float mean = 127.5f, std = 0.0f; /* std 0: unusable */
    tinfo x, a;
    start(g, 3);
    tfb_metadata_normalization(&g->b, &mean, &std, 1);
    x = activation(g, TFB_INT8, 8, 8, 3, 0.05f, 0);
    a = conv(g, x, 4, 3, 1, 1, 0, 0);
    return save(g, dir, "corrupt_metadata.tflite", x.id, a.id);
}

int main(int argc, char **argv)
{
    gen g;
    memset(&g, 0, sizeof g);
    if (argc == 3 && !strcmp(argv[1], "--hostile"))
        return broken_conv(&g, argv[2], 0, "huge_tensor.tflite") && huge_arena(&g, argv[2]) &&
                       broken_conv(&g, argv[2], 1, "short_weights.tflite") &&
                       broken_conv(&g, argv[2], 2, "bad_tensor_index.tflite") &&
                       broken_conv(&g, argv[2], 3, "reads_before_written.tflite") &&
                       broken_conv(&g, argv[2], 4, "zero_scale.tflite") && corrupt_metadata(&g, argv[2]) &&
                       mfcc_input(&g, argv[2]) && broken_conv(&g, argv[2], 5, "overflowing_shape.tflite") &&
                       div_by_zero(&g, argv[2]) && lstm_model(&g, argv[2], "lstm_missing_input.tflite", 4) &&
                       negative_alpha(&g, argv[2])
                   ? 0
                   : 1;
    if (argc != 2) {
        fprintf(stderr, "usage: make_models OUTDIR | make_models --hostile OUTDIR\n");
        return 2;
    }
    return int8_raw_pixels(&g, argv[1]) && float_metadata(&g, argv[1]) && uint8_body(&g, argv[1]) &&
                   ops_int8(&g, argv[1]) && resize_chain(&g, argv[1], TFB_INT8, 0, 0, "resize_int8.tflite") &&
                   resize_chain(&g, argv[1], TFB_UINT8, 0, 0, "resize_uint8.tflite") &&
                   resize_chain(&g, argv[1], TFB_FLOAT32, 0, 0, "resize_float.tflite") &&
                   resize_chain(&g, argv[1], TFB_INT8, 1, 0, "argmax_int8.tflite") &&
                   resize_chain(&g, argv[1], TFB_INT8, 0, 1, "nearest_int8.tflite") &&
                   resize_chain(&g, argv[1], TFB_UINT8, 0, 1, "nearest_uint8.tflite") &&
                   resize_chain(&g, argv[1], TFB_FLOAT32, 0, 1, "nearest_float.tflite") &&
                   split_model(&g, argv[1], TFB_INT8, "split_int8.tflite") &&
                   split_model(&g, argv[1], TFB_UINT8, "split_uint8.tflite") &&
                   sub_model(&g, argv[1], TFB_INT8, "sub_int8.tflite") &&
                   sub_model(&g, argv[1], TFB_UINT8, "sub_uint8.tflite") &&
                   sub_model(&g, argv[1], TFB_FLOAT32, "sub_float.tflite") &&
                   leaky_relu_model(&g, argv[1], TFB_INT8, "leaky_relu_int8.tflite") &&
                   leaky_relu_model(&g, argv[1], TFB_UINT8, "leaky_relu_uint8.tflite") &&
                   leaky_relu_model(&g, argv[1], TFB_FLOAT32, "leaky_relu_float.tflite") &&
                   hybrid_model(&g, argv[1], "hybrid_float.tflite") && pose_ops_model(&g, argv[1], "pose_ops.tflite") &&
                   lstm_model(&g, argv[1], "lstm_int8.tflite", 0) &&
                   detection_model(&g, argv[1], TFB_UINT8, 0, 2, "detect_fast_uint8.tflite") &&
                   detection_model(&g, argv[1], TFB_UINT8, 1, 1, "detect_regular_uint8.tflite") &&
                   detection_model(&g, argv[1], TFB_FLOAT32, 1, 1, "detect_regular_float.tflite") &&
                   detection_model(&g, argv[1], TFB_FLOAT32, 0, 1, "detect_fast_float.tflite")
               ? 0
               : 1;
}
