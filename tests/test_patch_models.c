/* Patch == layer, byte for byte, on every shared model: grids 1x1, 2x2, 3x3, 4x4, 2x3 and a
 * ragged 5x5, at the shallowest and the deepest legal split, on a real dev image; and every
 * plan's placement is overlap-free. QuantMCU version 3 sizing on the MobileNets: buffers, caches
 * and scratch sized for 4-bit maps hold every tile's packed region, every outlier sub-tile's
 * 8-bit region and every row staging; the patch stage's peak is below the int8 plan's. Args:
 * [IMAGES_PER_PLAN] (default 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "plan_checks.h"
#include "import/tflite_import.h"
#include "planning/plan.h"
#include "prepare/prepare.h"
#include "runtime/lowbit_exec.h"
#include "test_util.h"

static const char *const k_models[] = {"mobilenet_v2_1.0_224_quant.tflite", "mobilenet_v1_0.25_128_quant.tflite",
                                       "mcunet_vww_int8.tflite", "mlperf_vww_96_int8.tflite",
                                       "mlperf_vww_96_float.tflite"};
static const char *const k_images[] = {"0000_n01440764_tench.JPEG", "0002_n01484850_great_white_shark.JPEG"};
static const int k_grids[][2] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {2, 3}, {5, 5}};

static void run(const qmcu_model *m, const qmcu_plan *p, const void *input, void *output)
{
    uint8_t *mem = (uint8_t *)calloc(p->host_bytes ? p->host_bytes : 1, 1);
    qmcu_exec_set_input(m, &p->exec, mem, 0, input);
    CHECK(qmcu_exec_run(m, &p->exec, mem, NULL) == QMCU_OK, "%s: run failed", m->g->path);
    qmcu_exec_get_output(m, &p->exec, mem, 0, output);
    free(mem);
}

static void check_model(const char *data, const char *name, int n_images)
{
    char path[1024], why[256];
    qmcu_error err;
    qmcu_graph *g;
    qmcu_model *m = NULL;
    qmcu_plan *lp = NULL;
    qmcu_plan_spec spec = {.split = 0, .grid_h = 1, .grid_w = 1, .input_in_sram = 1, .quantmcu = 0};
    int k, si, gi, im, hi, plans = 0;
    void *input, *ref, *got;
    snprintf(path, sizeof path, "%s/models/%s", data, name);
    g = qmcu_graph_load(path, &err);
    CHECK(g != NULL, "%s", err.msg);
    if (!g) return;
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    CHECK(qmcu_plan_build(m, &spec, &lp, &err) == QMCU_OK, "%s", err.msg);
    CHECK(plan_placement_errors(lp) == 0, "%s: layer plan has overlapping buffers", name);
    input = malloc(g->tensors[g->inputs[0]].bytes);
    ref = malloc(g->tensors[g->outputs[0]].bytes);
    got = malloc(g->tensors[g->outputs[0]].bytes);
    for (im = 0; im < n_images && im < 2; im++) {
        snprintf(path, sizeof path, "%s/imagenet-dev/%s", data, k_images[im]);
        CHECK(qmcu_image_to_input(g, path, input, &err) == QMCU_OK, "%s", err.msg);
        run(m, lp, input, ref);
        for (gi = 0; gi < (int)(sizeof k_grids / sizeof k_grids[0]); gi++) {
            /* the shallowest and the deepest legal split whose split tensor this grid cuts into
             * non-empty tiles */
            qmcu_plan *pp = NULL, *first = NULL, *last = NULL;
            for (k = 1; k <= g->n_ops; k++) {
                if (!qmcu_split_is_legal(g, k, why, sizeof why)) continue;
                spec.split = k;
                spec.grid_h = k_grids[gi][0];
                spec.grid_w = k_grids[gi][1];
                spec.input_in_sram = gi % 2;
                if (qmcu_plan_build(m, &spec, &pp, &err) != QMCU_OK) continue;
                if (!first) {
                    first = pp;
                } else {
                    qmcu_plan_free(last);
                    last = pp;
                }
            }
            for (si = 0; si < 2; si++) {
                const qmcu_plan *tp = si ? last : first;
                if (!tp) continue;
                CHECK(plan_placement_errors(tp) == 0, "%s: split %d grid %dx%d has overlapping buffers", name,
                      tp->spec.split, tp->spec.grid_h, tp->spec.grid_w);
                run(m, tp, input, got);
                CHECK(memcmp(ref, got, g->tensors[g->outputs[0]].bytes) == 0,
                      "%s: split %d grid %dx%d: patch output differs from layer mode", name, tp->spec.split,
                      tp->spec.grid_h, tp->spec.grid_w);
                if (im == 0)
                    printf("%s: split %2d grid %dx%d: same bytes as layer mode\n", name, tp->spec.split,
                           tp->spec.grid_h, tp->spec.grid_w);
                plans++;
                for (hi = 0; hi < 3; hi++) { /* the same geometry with its halo cached, then without fused adds */
                    qmcu_plan_spec hs = tp->spec;
                    qmcu_plan *hp = NULL;
                    hs.halo = hi == 0 ? QMCU_HALO_COLS : hi == 1 ? QMCU_HALO_CACHED : QMCU_HALO_RECOMPUTE;
                    hs.no_fused_add = hi == 2;
                    CHECK(qmcu_plan_build(m, &hs, &hp, &err) == QMCU_OK, "%s", err.msg);
                    if (!hp) continue;
                    CHECK(plan_placement_errors(hp) == 0, "%s: split %d grid %dx%d halo %d: overlapping buffers", name,
                          hs.split, hs.grid_h, hs.grid_w, hs.halo);
                    CHECK(hp->patch_macs <= tp->patch_macs && hp->patch_macs >= hp->patch_layer_macs,
                          "%s: split %d grid %dx%d halo %d: patch MACs %lld outside [layer %lld, recompute %lld]", name,
                          hs.split, hs.grid_h, hs.grid_w, hs.halo, (long long)hp->patch_macs,
                          (long long)hp->patch_layer_macs, (long long)tp->patch_macs);
                    run(m, hp, input, got);
                    CHECK(memcmp(ref, got, g->tensors[g->outputs[0]].bytes) == 0,
                          "%s: split %d grid %dx%d halo %d fused adds %d: output differs from layer mode", name,
                          hs.split, hs.grid_h, hs.grid_w, hs.halo, !hs.no_fused_add);
                    if (im == 0 && hi < 2)
                        printf("%s: split %2d grid %dx%d halo %-6s: same bytes, patch MACs %+.1f %% vs layer "
                               "(recompute %+.1f %%), caches %zu B, peak %zu B (recompute %zu B)\n",
                               name, hs.split, hs.grid_h, hs.grid_w, hi ? "cached" : "cols",
                               100.0 * (double)(hp->patch_macs - hp->patch_layer_macs) / (double)hp->patch_layer_macs,
                               100.0 * (double)(tp->patch_macs - tp->patch_layer_macs) / (double)tp->patch_layer_macs,
                               hp->cache_bytes, hp->arena_bytes, tp->arena_bytes);
                    plans++;
                    qmcu_plan_free(hp);
                }
            }
            CHECK(first != NULL, "%s: no legal split for grid %dx%d", name, k_grids[gi][0], k_grids[gi][1]);
            qmcu_plan_free(first);
            qmcu_plan_free(last);
        }
    }
    printf("%s: %d patch runs compared with layer mode\n", name, plans);
    free(input);
    free(ref);
    free(got);
    qmcu_plan_free(lp);
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

/* Version 3 plan of model `name`, split k, grid gh x gw, all cached, every map at 4 bits. */
static void check_v3_sizing(const char *data, const char *name, int k, int gh, int gw)
{
    char path[1024];
    qmcu_error err;
    qmcu_graph *g;
    qmcu_model *m = NULL;
    qmcu_plan *p8 = NULL, *p4 = NULL;
    qmcu_plan_spec spec = {.split = k, .grid_h = gh, .grid_w = gw, .input_in_sram = 0, .halo = QMCU_HALO_CACHED};
    uint8_t *four;
    int t, tile, a, i, packed = 0;
    snprintf(path, sizeof path, "%s/models/%s", data, name);
    if (!(g = qmcu_graph_load(path, &err))) {
        CHECK(0, "%s", err.msg);
        return;
    }
    four = (uint8_t *)malloc((size_t)g->n_tensors);
    memset(four, 4, (size_t)g->n_tensors);
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    CHECK(m && qmcu_plan_build(m, &spec, &p8, &err) == QMCU_OK, "%s", err.msg);
    spec.quantmcu = spec.packed = 1;
    spec.tensor_bits = four;
    CHECK(m && qmcu_plan_build(m, &spec, &p4, &err) == QMCU_OK, "%s", err.msg);
    if (p8 && p4) {
        const int nsub = p4->fallback_h * p4->fallback_w;
        CHECK(plan_placement_errors(p4) == 0, "%s v3: overlapping buffers", name);
        const size_t peak4 = qmcu_plan_patch_peak(p4, NULL), peak8 = qmcu_plan_patch_peak(p8, NULL);
        CHECK(p4->arena_bytes <= p8->arena_bytes && peak4 < peak8, "%s v3: arena %zu / patch stage %zu vs int8 %zu / %zu",
              name, p4->arena_bytes, peak4, p8->arena_bytes, peak8);
        for (t = 0; t < g->n_tensors; t++) {
            const int prod = qmcu_graph_producer(g, t, k);
            const qmcu_tensor *x = &g->tensors[t];
            if (prod < 0 || t == p4->split_tensor || x->type != QMCU_I8 || qmcu_lowbit_store_bits(4, x->dims[3]) != 4)
                continue;
            packed++;
            for (tile = 0; tile < p4->n_tiles; tile++) {
                const qmcu_window r = p4->region[(size_t)tile * g->n_tensors + t];
                const int64_t n = qmcu_window_empty(r) ? 0 : (int64_t)(r.h1 - r.h0) * (r.w1 - r.w0) * x->dims[3];
                CHECK(p4->tensor_bytes[t] >= qmcu_activation_bytes(4, n), "%s v3: tensor %d tile %d", name, t, tile);
                CHECK(p4->tensor_bytes[t] < p8->tensor_bytes[t] || nsub, "%s v3: tensor %d not smaller", name, t);
                for (a = 0; a < nsub; a++) { /* an outlier tile's 8-bit sub-tiles use the same buffers */
                    const qmcu_window s = p4->fallback_region[((size_t)tile * nsub + a) * k + prod];
                    const int64_t e = qmcu_window_empty(s) ? 0 : (int64_t)(s.h1 - s.h0) * (s.w1 - s.w0) * x->dims[3];
                    CHECK(p4->tensor_bytes[t] >= (size_t)e, "%s v3: tensor %d sub-tile %d", name, t, a);
                }
            }
        }
        CHECK(packed > 0, "%s v3: no packed map", name);
        for (i = 0; i < k; i++) { /* row staging of every conv / depthwise fits its scratch */
            const int x = g->ops[i].in[0], y = g->ops[i].out;
            const int si = qmcu_graph_producer(g, x, k) >= 0 ? qmcu_lowbit_store_bits(4, g->tensors[x].dims[3]) : 8;
            const int so = y != p4->split_tensor ? qmcu_lowbit_store_bits(4, g->tensors[y].dims[3]) : 8;
            for (tile = 0; tile < p4->n_tiles && qmcu_is_conv(g->ops[i].type); tile++)
                CHECK(p4->scratch_bytes[i] >= qmcu_lowbit_packed_conv_scratch(m, &p4->exec, tile, i, si, so),
                      "%s v3: op %d staging", name, i);
        }
    }
    free(four);
    qmcu_plan_free(p4);
    qmcu_plan_free(p8);
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

int main(int argc, char **argv)
{
    const char *data = test_data_dir();
    const int n_images = argc > 1 ? atoi(argv[1]) : 1;
    size_t i;
    for (i = 0; i < sizeof k_models / sizeof k_models[0]; i++) check_model(data, k_models[i], n_images);
    check_v3_sizing(data, "mobilenet_v2_1.0_224_quant.tflite", 13, 4, 4);
    check_v3_sizing(data, "mobilenet_v1_0.25_128_quant.tflite", 8, 4, 4);
    return test_summary("test_patch_models");
}
