/* plan.json: what a plan is (split, grid, input placement), for which model (fingerprint), and
 * what it costs (recomputed on load; written for people and tools). Schema: README. The
 * QuantMCU section is written and read by the quantize stage (quantize/vdq_file.c). */
#ifndef QMCU_PLAN_FILE_H
#define QMCU_PLAN_FILE_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "plan.h"

/* A further top-level section and the plan's mode name (QuantMCU). */
typedef struct {
    const char *mode;
    void (*write)(FILE *f, const void *ctx);
    const void *ctx;
} qmcu_plan_json_section;

/* budget: the --sram budget the plan was searched for, 0 if none; extra may be NULL. */
void qmcu_plan_write_json(const qmcu_plan *p, const qmcu_plan_json_section *extra, FILE *f);
/* Reads the plan's spec; rejects malformed files and plans made for another model.
 * *has_quantmcu (may be NULL): the file has a "quantmcu" section. */
qmcu_status qmcu_plan_read_spec(const char *path, const qmcu_graph *g, qmcu_plan_spec *spec, int *has_quantmcu,
                                qmcu_error *err);
/* The same on a NUL-terminated text (path only names it in messages). */
qmcu_status qmcu_plan_parse_spec(const char *text, const char *path, const qmcu_graph *g, qmcu_plan_spec *spec,
                                 int *has_quantmcu, qmcu_error *err);

/* The per-op halo strategy of a plan file's patch stage into halo_ops[split] (all recompute when
 * the file has none); split from qmcu_plan_parse_spec. */
qmcu_status qmcu_plan_parse_halo(const char *text, const char *path, int split, uint8_t *halo_ops, qmcu_error *err);
const char *qmcu_halo_name(int flags); /* "recompute", "cols", "cached" */

/* A plan file's text (bounded size), malloc'ed; NULL with a message on failure. */
char *qmcu_plan_read_text(const char *path, qmcu_error *err);
/* Typed members, range-checked before conversion (1 = present and valid). */
int qmcu_json_get_int(const cJSON *o, const char *key, int lo, int hi, int *out);
int qmcu_json_get_num(const cJSON *o, const char *key, double lo, double hi, double *out);

#endif
