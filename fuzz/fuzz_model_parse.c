/* libFuzzer target, fast: parse and validate any byte string as a .tflite model (no preparation,
 * no run), so that the reader sees thousands of inputs per second. fuzz_model_reader adds
 * preparation and one run. */
#include <stddef.h>
#include <stdint.h>

#include "import/tflite_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qmcu_error err;
    qmcu_graph *g = qmcu_graph_parse(data, size, "fuzz.tflite", &err);
    int64_t macs = 0;
    int i;
    if (!g) return 0;
    for (i = 0; i < g->n_ops; i++) macs += qmcu_op_macs(g, &g->ops[i]); /* reads what validation vouched for */
    qmcu_graph_free(g);
    return macs < 0;
}
