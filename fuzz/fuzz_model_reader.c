/* libFuzzer target for the TFLite reader: parse, validate and prepare any byte string.
 * A model that passes validation and is small is also run once on a zero input, so the
 * kernels see every shape the validator lets through. Build: see fuzz/CMakeLists.txt. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "quantmcu/graph.h"
#include "import/tflite_import.h"
#include "planning/plan.h"
#include "prepare/prepare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qmcu_error err;
    qmcu_model *m = NULL;
    qmcu_graph *g = qmcu_graph_parse(data, size, "fuzz.tflite", &err);
    int64_t macs = 0;
    int i;
    if (!g) return 0;
    for (i = 0; i < g->n_ops; i++) macs += qmcu_op_macs(g, &g->ops[i]);
    if (qmcu_model_prepare(g, &m, &err) == QMCU_OK) {
        const qmcu_plan_spec spec = {.split = 0, .grid_h = 1, .grid_w = 1, .input_in_sram = 1, .quantmcu = 0};
        qmcu_plan *p = NULL;
        if (qmcu_plan_build(m, &spec, &p, &err) == QMCU_OK && p->host_bytes < (8u << 20) && macs < 50000000) {
            uint8_t *arena = (uint8_t *)calloc(p->host_bytes ? p->host_bytes : 1, 1);
            if (arena) qmcu_exec_run(m, &p->exec, arena, NULL);
            free(arena);
        }
        qmcu_plan_free(p);
        qmcu_model_free(m);
    }
    qmcu_graph_free(g);
    return 0;
}
