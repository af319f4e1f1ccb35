/* Patch-based inference without the shared data: geometry on hand-computed cases, peaks of
 * small graphs known by hand, patch == layer bit for bit on constructed graphs (stride 2 on
 * even and odd sizes, dilation, PAD ops, residual ADD, pooling, ragged grids), plan files. */
#include <stdio.h>
#include <string.h>

#include "graph_builder.h"
#include "plan_checks.h"
#include "planning/plan_file.h"
#include "import/tflite_import.h"
#include "planning/plan.h"
#include "prepare/op_host.h"
#include "prepare/prepare.h"
#include "test_util.h"

static qmcu_window win(int32_t h0, int32_t h1, int32_t w0, int32_t w1)
{
    qmcu_window w;
    w.h0 = h0;
    w.h1 = h1;
    w.w0 = w0;
    w.w1 = w1;
    return w;
}

static int same_window(qmcu_window a, qmcu_window b)
{
    return a.h0 == b.h0 && a.h1 == b.h1 && a.w0 == b.w0 && a.w1 == b.w1;
}

static void test_geometry(void)
{
    qmcu_graph *g = gb_new("geometry");
    const int x8 = gb_input(g, 8, 8, 2), x7 = gb_tensor(g, 1, 7, 7, 2, 0.02f, 0),
              x10 = gb_tensor(g, 1, 10, 10, 2, 0.02f, 0);
    qmcu_window r;
    int i;
    gb_conv(g, x8, 4, 3, 2, 1, 1, 0);  /* op 0: 8 -> 4, SAME s2 on an even size: TFLite pads 0 before, 1 after */
    gb_conv(g, x7, 4, 3, 2, 1, 1, 0);  /* op 1: 7 -> 4, SAME s2 on an odd size: 1 before, 1 after */
    gb_conv(g, x10, 4, 3, 1, 2, 1, 1); /* op 2: dilation 2, SAME: 2 before */
    gb_pad(g, x8, 1, 0, 2, 0);         /* op 3: PAD top 1, left 2 */
    gb_pool(g, x8, 2, 2, 0, 1);        /* op 4: max pool 2x2 s2 VALID */
    CHECK(g->ops[0].pad_top == 0 && g->ops[1].pad_top == 1 && g->ops[2].pad_top == 2, "pads %d %d %d",
          g->ops[0].pad_top, g->ops[1].pad_top, g->ops[2].pad_top);
    r = qmcu_op_input_window(g, &g->ops[0], win(0, 2, 2, 4));
    CHECK(same_window(r, win(0, 5, 4, 9)), "s2 even: [%d,%d)x[%d,%d)", r.h0, r.h1, r.w0, r.w1);
    r = qmcu_op_input_window(g, &g->ops[1], win(0, 2, 2, 4));
    CHECK(same_window(r, win(-1, 4, 3, 8)), "s2 odd: [%d,%d)x[%d,%d)", r.h0, r.h1, r.w0, r.w1);
    r = qmcu_op_input_window(g, &g->ops[2], win(3, 5, 0, 1));
    CHECK(same_window(r, win(1, 7, -2, 3)), "dilation 2: [%d,%d)x[%d,%d)", r.h0, r.h1, r.w0, r.w1);
    r = qmcu_op_input_window(g, &g->ops[3], win(0, 3, 0, 4));
    CHECK(same_window(r, win(-1, 2, -2, 2)), "pad: [%d,%d)x[%d,%d)", r.h0, r.h1, r.w0, r.w1);
    r = qmcu_op_input_window(g, &g->ops[4], win(1, 3, 0, 1));
    CHECK(same_window(r, win(2, 6, 0, 2)), "pool: [%d,%d)x[%d,%d)", r.h0, r.h1, r.w0, r.w1);
    /* ragged grid: 28 rows in 5 -> 6,6,6,6,4 */
    for (i = 0; i < 5; i++) {
        r = qmcu_grid_tile(28, 28, 5, 5, i, 4 - i);
        CHECK(r.h0 == 6 * i && r.h1 == (i == 4 ? 28 : 6 * i + 6) && r.w0 == 6 * (4 - i), "tile %d: [%d,%d)x[%d,%d)", i,
              r.h0, r.h1, r.w0, r.w1);
    }
    qmcu_graph_free(g);
}

static int check_no_overlap(const qmcu_plan *p, const char *what)
{
    const int bad = plan_placement_errors(p);
    CHECK(bad == 0, "%s: %d overlapping or out-of-arena buffers", what, bad);
    CHECK(p->arena_bytes >= p->live_peak_bytes, "%s: arena %zu below live peak %zu", what, p->arena_bytes,
          p->live_peak_bytes);
    return bad == 0;
}

static qmcu_plan *plan(const qmcu_model *m, int split, int gh, int gw, int input_in_sram)
{
    qmcu_plan_spec spec;
    qmcu_plan *p = NULL;
    qmcu_error err;
    memset(&spec, 0, sizeof spec);
    spec.split = split;
    spec.grid_h = gh;
    spec.grid_w = gw;
    spec.input_in_sram = input_in_sram;
    spec.quantmcu = 0;
    if (qmcu_plan_build(m, &spec, &p, &err) != QMCU_OK) return NULL;
    return p;
}

/* input 8x8x4 -> c1 1x1 -> 8x8x8 -> c2 3x3 -> 8x8x8 -> c3 1x1 -> 8x8x4 (bytes by hand below) */
static void test_hand_peaks(void)
{
    qmcu_graph *g = gb_new("hand");
    qmcu_model *m = NULL;
    qmcu_plan *p;
    qmcu_error err;
    int x = gb_input(g, 8, 8, 4), y;
    y = gb_conv(g, x, 8, 1, 1, 1, 1, 0);
    y = gb_conv(g, y, 8, 3, 1, 1, 1, 0);
    y = gb_conv(g, y, 4, 1, 1, 1, 1, 0);
    gb_output(g, y);
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    /* layer: op 1 holds c1 512 + c2 512 + im2col 8 rows x 72 = 576 -> 1600 */
    p = plan(m, 0, 1, 1, 1);
    CHECK(p && p->live_peak_bytes == 1600 && p->live_peak_op == 1, "layer peak %zu at %d", p ? p->live_peak_bytes : 0,
          p ? p->live_peak_op : -1);
    CHECK(p && p->arena_bytes == 1600, "layer arena %zu", p ? p->arena_bytes : 0);
    if (p) check_no_overlap(p, "hand layer");
    qmcu_plan_free(p);
    /* patch split 2 (S = c2 out), 2x2: tiles of c1 are 5x5x8 = 200; at op 1: input 256 (every tile
     * reads it) + S 512 + c1 tile 200 + im2col 576 = 1544. Redundant: c1 computes 4 x 25 pixels
     * instead of 64, 36 x 32 MACs each. */
    p = plan(m, 2, 2, 2, 1);
    CHECK(p && p->live_peak_bytes == 1544 && p->live_peak_op == 1, "patch peak %zu at %d", p ? p->live_peak_bytes : 0,
          p ? p->live_peak_op : -1);
    CHECK(p && p->patch_macs - p->patch_layer_macs == 36 * 32, "redundant %lld",
          p ? (long long)(p->patch_macs - p->patch_layer_macs) : -1LL);
    CHECK(p && p->input_patch_h == 5 && p->input_patch_w == 5, "input patch %dx%d", p ? p->input_patch_h : 0,
          p ? p->input_patch_w : 0);
    if (p) check_no_overlap(p, "hand patch");
    qmcu_plan_free(p);
    /* same plan with the input streamed: 1544 - 256 */
    p = plan(m, 2, 2, 2, 0);
    CHECK(p && p->live_peak_bytes == 1288 && p->input_bytes == 256, "streamed-input peak %zu",
          p ? p->live_peak_bytes : 0);
    qmcu_plan_free(p);
    qmcu_model_free(m);
    qmcu_graph_free(g);

    /* in-place depthwise: input 256 -> c1 512 -> dw 3x3 (in place: ring of 2 rows = 128 + acc 32)
     * -> c3 256. Without in place op 1 would hold 512 + 512 + 32 = 1056; with it 512 + 160. */
    g = gb_new("inplace");
    x = gb_input(g, 8, 8, 4);
    y = gb_conv(g, x, 8, 1, 1, 1, 1, 0);
    y = gb_conv(g, y, 8, 3, 1, 1, 1, 1);
    y = gb_conv(g, y, 4, 1, 1, 1, 1, 0);
    gb_output(g, y);
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    p = plan(m, 0, 1, 1, 1);
    CHECK(p && p->in_place[1] && p->scratch_bytes[1] == 160, "in place %d scratch %zu", p ? p->in_place[1] : -1,
          p ? p->scratch_bytes[1] : 0);
    CHECK(p && p->live_peak_bytes == 768, "in-place layer peak %zu", p ? p->live_peak_bytes : 0);
    qmcu_plan_free(p);
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

/* Runs the graph with every legal split x grids on random inputs: patch == layer. */
static void check_patch_equals_layer(qmcu_graph *g, int inputs)
{
    static const int grids[][2] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {2, 3}, {3, 2}, {5, 5}, {1, 4}, {7, 1}};
    qmcu_model *m = NULL;
    qmcu_error err;
    qmcu_plan *lp;
    const qmcu_tensor *in = &g->tensors[g->inputs[0]], *out = &g->tensors[g->outputs[0]];
    uint8_t *x = (uint8_t *)malloc(in->bytes), *ref = (uint8_t *)malloc(out->bytes),
            *got = (uint8_t *)malloc(out->bytes);
    int k, gi, it, legal = 0;
    char why[256];
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    lp = plan(m, 0, 1, 1, 1);
    check_no_overlap(lp, g->path);
    for (k = 1; k < g->n_ops; k++) {
        const qmcu_tensor *s = &g->tensors[g->ops[k - 1].out];
        if (!qmcu_split_is_legal(g, k, why, sizeof why)) continue;
        legal++;
        for (gi = 0; gi < (int)(sizeof grids / sizeof grids[0]); gi++) {
            qmcu_plan *pp;
            if (grids[gi][0] > s->dims[1] || grids[gi][1] > s->dims[2]) continue;
            pp = plan(m, k, grids[gi][0], grids[gi][1], gi % 2);
            if (!pp) continue; /* a grid with an empty last tile */
            check_no_overlap(pp, g->path);
            for (it = 0; it < inputs; it++) {
                uint8_t *ma = (uint8_t *)calloc(lp->host_bytes, 1), *mb = (uint8_t *)calloc(pp->host_bytes, 1);
                size_t i;
                for (i = 0; i < in->bytes; i++) x[i] = (uint8_t)rnd();
                qmcu_exec_set_input(m, &lp->exec, ma, 0, x);
                qmcu_exec_set_input(m, &pp->exec, mb, 0, x);
                CHECK(qmcu_exec_run(m, &lp->exec, ma, NULL) == QMCU_OK, "layer run");
                CHECK(qmcu_exec_run(m, &pp->exec, mb, NULL) == QMCU_OK, "patch run");
                qmcu_exec_get_output(m, &lp->exec, ma, 0, ref);
                qmcu_exec_get_output(m, &pp->exec, mb, 0, got);
                CHECK(memcmp(ref, got, out->bytes) == 0, "%s: split %d grid %dx%d differs from layer mode", g->path, k,
                      grids[gi][0], grids[gi][1]);
                free(ma);
                free(mb);
            }
            qmcu_plan_free(pp);
        }
    }
    CHECK(legal >= 2, "%s: only %d legal splits", g->path, legal);
    qmcu_plan_free(lp);
    qmcu_model_free(m);
    free(x);
    free(ref);
    free(got);
}

static void test_patch_graphs(void)
{
    qmcu_graph *g;
    int x, a, b, c, d;
    /* even size, stride 2, residual block, explicit PAD + VALID conv, dilation, pooling */
    g = gb_new("even");
    x = gb_input(g, 16, 16, 3);
    a = gb_conv(g, x, 8, 3, 2, 1, 1, 0); /* 8x8x8 */
    b = gb_conv(g, a, 8, 3, 1, 1, 1, 1); /* dw */
    c = gb_conv(g, b, 8, 1, 1, 1, 1, 0);
    d = gb_add(g, a, c);                  /* residual */
    d = gb_pad(g, d, 1, 1, 1, 1);         /* 10x10 */
    d = gb_conv(g, d, 12, 3, 1, 1, 0, 0); /* VALID: 8x8x12 */
    d = gb_conv(g, d, 12, 5, 2, 1, 1, 1); /* dw 5x5 s2: 4x4 */
    d = gb_pool(g, d, 2, 1, 1, 0);        /* avg 2x2 s1 SAME */
    d = gb_conv(g, d, 6, 3, 1, 2, 1, 0);  /* dilation 2 */
    d = gb_conv(g, d, 5, 1, 1, 1, 1, 0);
    gb_output(g, d);
    check_patch_equals_layer(g, 2);
    qmcu_graph_free(g);
    /* odd, non-square sizes: stride 2 pads 1 before; max pool; dw stride 2 */
    g = gb_new("odd");
    x = gb_input(g, 23, 17, 4);
    a = gb_conv(g, x, 6, 3, 2, 1, 1, 0); /* 12x9 */
    a = gb_pool(g, a, 3, 1, 1, 1);       /* max 3x3 s1 SAME */
    a = gb_conv(g, a, 6, 3, 2, 1, 1, 1); /* dw s2: 6x5 */
    b = gb_conv(g, a, 12, 1, 1, 1, 1, 0);
    b = gb_conv(g, b, 12, 3, 1, 1, 1, 1);
    b = gb_conv(g, b, 6, 1, 1, 1, 1, 0);
    d = gb_add(g, b, a);
    d = gb_conv(g, d, 7, 1, 1, 1, 1, 0);
    gb_output(g, d);
    check_patch_equals_layer(g, 2);
    qmcu_graph_free(g);
}

static void test_plan_file(void)
{
    qmcu_graph *g = gb_new("planfile"), *other;
    qmcu_model *m = NULL;
    qmcu_plan *p;
    qmcu_plan_spec spec;
    qmcu_error err;
    const char *path = "test_patch_plan.json";
    FILE *f;
    int x = gb_input(g, 16, 16, 3), y;
    y = gb_conv(g, x, 8, 3, 2, 1, 1, 0);
    y = gb_conv(g, y, 8, 3, 1, 1, 1, 1);
    y = gb_conv(g, y, 4, 1, 1, 1, 1, 0);
    gb_output(g, y);
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    p = plan(m, 2, 2, 3, 0);
    p->spec.sram_budget = 4096;
    f = fopen(path, "w");
    qmcu_plan_write_json(p, NULL, f);
    fclose(f);
    CHECK(qmcu_plan_read_spec(path, g, &spec, NULL, &err) == QMCU_OK, "%s", err.msg);
    CHECK(spec.split == 2 && spec.grid_h == 2 && spec.grid_w == 3 && spec.input_in_sram == 0 &&
              spec.sram_budget == 4096,
          "round trip %d %dx%d %d budget %zu", spec.split, spec.grid_h, spec.grid_w, spec.input_in_sram,
          spec.sram_budget);
    other = gb_new("other");
    other->fingerprint = 0x999u;
    CHECK(qmcu_plan_read_spec(path, other, &spec, NULL, &err) != QMCU_OK && strstr(err.msg, "another model"),
          "other model: %s", err.msg);
    f = fopen(path, "w");
    fputs("{\"format\": \"quantmcu-plan\", \"version\": 1, \"model\": {\"fingerprint\": \"0000000000001234\"}, "
          "\"split\": 2}",
          f);
    fclose(f);
    CHECK(qmcu_plan_read_spec(path, g, &spec, NULL, &err) != QMCU_OK && strstr(err.msg, "grid"), "missing grid: %s",
          err.msg);
    f = fopen(path, "w");
    fputs("{\"format\": \"quantmcu-plan\", \"version\": 1, \"model\": {\"fingerprint\": \"0000000000001234\"}, "
          "\"split\": 2,",
          f);
    fclose(f);
    CHECK(qmcu_plan_read_spec(path, g, &spec, NULL, &err) != QMCU_OK && strstr(err.msg, "JSON"), "truncated: %s",
          err.msg);
    /* huge numbers (found by fuzz_plan_reader: the int conversion was undefined) */
    CHECK(qmcu_plan_parse_spec(
              "{\"format\": \"quantmcu-plan\", \"version\": 1e300, \"split\": 1e300, \"grid\": [1e300, -1e300]}",
              "huge.json", g, &spec, NULL, &err) != QMCU_OK &&
              strstr(err.msg, "huge.json"),
          "huge numbers: %s", err.msg);
    {
        char text[300];
        snprintf(
            text, sizeof text,
            "{\"format\": \"quantmcu-plan\", \"version\": 1, \"model\": {\"fingerprint\": \"%016llx\"}, \"split\": 2, "
            "\"grid\": [1e300, 2]}",
            (unsigned long long)g->fingerprint);
        CHECK(qmcu_plan_parse_spec(text, "huge.json", g, &spec, NULL, &err) != QMCU_OK && strstr(err.msg, "grid"),
              "huge grid: %s", err.msg);
    }
    CHECK(qmcu_plan_read_spec("no-such-plan.json", g, &spec, NULL, &err) != QMCU_OK &&
              strstr(err.msg, "no-such-plan.json"),
          "missing file: %s", err.msg);
    /* illegal geometry is refused by the plan builder with a reason */
    memset(&spec, 0, sizeof spec);
    spec.split = 2;
    spec.grid_h = 9;
    spec.grid_w = 1;
    spec.input_in_sram = 1;
    spec.quantmcu = 0;
    qmcu_plan_free(p);
    CHECK(qmcu_plan_build(m, &spec, &p, &err) != QMCU_OK && strstr(err.msg, "grid 9x1"), "grid too fine: %s", err.msg);
    remove(path);
    qmcu_model_free(m);
    qmcu_graph_free(g);
    qmcu_graph_free(other);
}

/* Every op type has a kernel on the device and a family on the host that knows what it owns; the
 * int8-only kernels are registered under their own names. */
static void test_op_registration(void)
{
#define INT8_KERNEL(type, name) {QMCU_OP_##type, &qmcu_kernel_##name##_int8},
    static const struct {
        qmcu_op_type type;
        const qmcu_op_kernel *k;
    } int8[] = {QMCU_OP_KERNELS_INT8(INT8_KERNEL)};
#undef INT8_KERNEL
    size_t j;
    int t;
    for (t = 0; t < QMCU_OP_COUNT; t++) {
        const qmcu_op_host *h = qmcu_op_host_of((qmcu_op_type)t);
        CHECK(qmcu_op_kernels_all[t] && qmcu_op_kernels_all[t]->run, "op type %d (%s) has no kernel", t,
              qmcu_op_name((qmcu_op_type)t));
        CHECK(h && (!h->emit_arrays || h->release),
              "op type %d (%s): a family that emits arrays must own them", t, qmcu_op_name((qmcu_op_type)t));
        CHECK(strcmp(qmcu_op_name((qmcu_op_type)t), "?") != 0, "op type %d has no traits row", t);
    }
    for (j = 0; j < sizeof int8 / sizeof int8[0]; j++)
        CHECK(int8[j].k->run && int8[j].k != qmcu_op_kernels_all[int8[j].type], "int8 kernel of %s",
              qmcu_op_name(int8[j].type));
}

int main(void)
{
    test_op_registration();
    test_geometry();
    test_hand_peaks();
    test_patch_graphs();
    test_plan_file();
    return test_summary("test_patch");
}
