/* TensorFlow Lite import: a .tflite flatbuffer into a qmcu_graph (host only; allocates). Every
 * offset and size is bounds-checked; the graph is validated (shapes, types, quantization) so
 * that later stages may trust it. */
#ifndef QMCU_TFLITE_IMPORT_H
#define QMCU_TFLITE_IMPORT_H

#include <stddef.h>

#include "quantmcu/graph.h"

#define QMCU_MAX_MODEL_FILE_BYTES ((size_t)1 << 30) /* larger files are not read */

/* Loads a .tflite file; on failure returns NULL with a one-line message in err. */
qmcu_graph *qmcu_graph_load(const char *path, qmcu_error *err);
/* Parses a model already in memory (the fuzzer's entry point). */
qmcu_graph *qmcu_graph_parse(const void *data, size_t len, const char *name, qmcu_error *err);
void qmcu_graph_free(qmcu_graph *g);

#endif
