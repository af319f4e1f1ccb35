/* Helpers shared by the API's files (not part of the public API). */
#ifndef QMCU_API_INTERNAL_H
#define QMCU_API_INTERNAL_H

#include "quantmcu/quantmcu.h"

/* A failed run's message: the op that failed when the runtime knows it (op >= 0). */
void qmcu_api_run_failed(const qmcu_graph *g, qmcu_status st, int op, qmcu_error *err);

#endif
