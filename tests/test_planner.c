/* Memory planner: hand-computed placements and peaks, plus a validity property on the real
 * models (no two buffers that are live at the same time share bytes). */
#include <string.h>

#include "graph/graph.h"
#include "planning/memory_planner.h"
#include "runtime/interpreter.h"
#include "test_util.h"

static void test_chain(void)
{
    /* A -op0-> B -op1-> C */
    qmcu_buffer_life b[3] = {{100, 0, 0, 0}, {50, 0, 1, 0}, {100, 1, 1, 0}};
    int step;
    size_t arena = qmcu_place_buffers(b, 3);
    CHECK(qmcu_peak_live_bytes(b, 3, &step) == 150, "chain peak");
    CHECK(b[0].offset == 0 && b[2].offset == 0, "A and C share offset 0 (disjoint lifetimes)");
    CHECK(b[1].offset == 112, "B placed after A, 16-aligned: %zu", b[1].offset);
    CHECK(arena == 176, "arena %zu", arena);
}

static void test_residual(void)
{
    /* X feeds op0 and the add at op2; Y = op0(X); Z = op1(Y); W = add(X, Z) */
    qmcu_buffer_life b[4] = {{64, 0, 2, 0}, {32, 0, 1, 0}, {32, 1, 2, 0}, {64, 2, 2, 0}};
    int step;
    size_t arena = qmcu_place_buffers(b, 4);
    CHECK(qmcu_peak_live_bytes(b, 4, &step) == 160 && step == 2, "residual peak at the add");
    CHECK(b[0].offset == 0 && b[3].offset == 64 && b[1].offset == 64 && b[2].offset == 128, "residual placement %zu %zu %zu %zu",
          b[0].offset, b[1].offset, b[2].offset, b[3].offset);
    CHECK(arena == 160, "arena %zu", arena);
}

static void check_model(const char *data, const char *name)
{
    char path[1024];
    qmcu_error err;
    qmcu_graph *g;
    qmcu_model *m = NULL;
    qmcu_buffer_life *life = NULL;
    int n, i, j, bad = 0;
    snprintf(path, sizeof path, "%s/models/%s", data, name);
    g = qmcu_graph_load(path, &err);
    CHECK(g != NULL, "%s", err.msg);
    if (!g) return;
    CHECK(qmcu_model_prepare(g, &m, &err) == QMCU_OK, "%s", err.msg);
    n = qmcu_layer_lifetimes(m, &life);
    qmcu_place_buffers(life, n);
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) {
            const qmcu_buffer_life *a = &life[i], *b = &life[j];
            if (!a->size || !b->size || a->first > b->last || b->first > a->last) continue;
            if (a->offset < b->offset + b->size && b->offset < a->offset + a->size) bad++;
        }
    CHECK(bad == 0, "%s: %d overlapping live buffers", name, bad);
    CHECK(m->arena_bytes >= m->peak_bytes, "%s: arena %zu below peak %zu", name, m->arena_bytes, m->peak_bytes);
    free(life);
    qmcu_model_free(m);
    qmcu_graph_free(g);
}

int main(void)
{
    const char *data;
    test_chain();
    test_residual();
    data = test_data_dir();
    check_model(data, "mobilenet_v2_1.0_224_quant.tflite");
    check_model(data, "mobilenet_v1_0.25_128_quant.tflite");
    check_model(data, "mcunet_vww_int8.tflite");
    check_model(data, "mlperf_vww_96_int8.tflite");
    check_model(data, "mlperf_vww_96_float.tflite");
    return test_summary("test_planner");
}
