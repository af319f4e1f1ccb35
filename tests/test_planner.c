/* Memory planner: hand-computed placements and peaks, plus a validity property on the real
 * models (no two buffers that are live at the same time share bytes). */
#include <string.h>

#include "quantmcu/graph.h"
#include "planning/memory_planner.h"
#include "import/tflite_import.h"
#include "planning/plan.h"
#include "prepare/prepare.h"
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
    CHECK(b[0].offset == 0 && b[3].offset == 64 && b[1].offset == 64 && b[2].offset == 128,
          "residual placement %zu %zu %zu %zu", b[0].offset, b[1].offset, b[2].offset, b[3].offset);
    CHECK(arena == 160, "arena %zu", arena);
}

int main(void)
{
    test_chain();
    test_residual();
    return test_summary("test_planner");
}
