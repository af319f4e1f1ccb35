/* plan.json: what a plan is (split, grid, input placement), for which model (fingerprint),
 * and what it costs (recomputed on load; written for people and tools). Schema: README. */
#ifndef QMCU_PLAN_FILE_H
#define QMCU_PLAN_FILE_H

#include <stdio.h>

#include "plan.h"

/* budget: the --sram budget the plan was searched for, 0 if none. */
void qmcu_plan_write_json(const qmcu_plan *p, size_t budget, FILE *f);
/* Reads the plan's spec; rejects malformed files and plans made for another model. With vdq
 * non-NULL, also its QuantMCU section (*vdq = NULL when the plan has none; caller frees). */
qmcu_status qmcu_plan_read_spec(const char *path, const qmcu_graph *g, qmcu_plan_spec *spec, qmcu_vdq **vdq,
                                qmcu_error *err);

/* The same on a NUL-terminated text (path only names it in messages). */
qmcu_status qmcu_plan_parse_spec(const char *text, const char *path, const qmcu_graph *g, qmcu_plan_spec *spec,
                                 qmcu_vdq **vdq, qmcu_error *err);

#endif
