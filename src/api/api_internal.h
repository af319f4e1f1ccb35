/* Helpers shared by the API's files (not part of the public API). */
#ifndef QMCU_API_INTERNAL_H
#define QMCU_API_INTERNAL_H

#include "quantmcu/quantmcu.h"

#include "../planning/cost_model.h"
#include "../planning/plan.h"
#include "../quantize/vdq.h"

struct quantmcu_model {
    qmcu_graph *g;
    qmcu_model *m;
    qmcu_input_norm model_norm; /* the model's own input rule, before any --input-range */
};

/* The plan object (planning/plan.h), all 8-bit or with its QuantMCU section. */
struct quantmcu_plan {
    const quantmcu_model *model;
    qmcu_plan *plan;
};

/* "PATH: out of memory". */
qmcu_status qmcu_api_nomem(qmcu_error *err, const char *what);
/* A public plan around a plan object (taken over; freed on failure). */
qmcu_status qmcu_api_wrap_plan(const quantmcu_model *m, qmcu_plan *plan, quantmcu_plan **out, qmcu_error *err);
/* The planner's record of a plan (its geometry and memory), QuantMCU or not. */
const qmcu_plan *qmcu_api_layout(const quantmcu_plan *p);
/* A failed run's message: the op that failed when the runtime knows it (op >= 0). */
void qmcu_api_run_failed(const qmcu_graph *g, qmcu_status st, int op, qmcu_error *err);

#endif
