/* libFuzzer target for plan.json: any text is parsed against a small graph (tests'
 * graph builder); what parses is built into a plan, QuantMCU-prepared when it has a
 * QuantMCU section, and run once. Seed: fuzz/plan_seed.json (fingerprint of that graph).
 * Built with FUZZ_CODEGEN (target fuzz_codegen), every plan that builds is also generated as
 * C (the codegen input: a plan + model pair) into a scratch folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tests/graph_builder.h"
#include "codegen/codegen.h"
#include "planning/plan_file.h"
#include "import/tflite_import.h"
#include "planning/plan.h"
#include "prepare/prepare.h"
#include "quantize/vdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qmcu_graph *g_graph;
static qmcu_model *g_model;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = (char *)malloc(size + 1);
    qmcu_plan_spec spec;
    qmcu_vdq *vdq = NULL;
    qmcu_plan *p = NULL;
    qmcu_error err;
    int has_quant = 0;
    uint8_t halo_ops[64];
    if (!text) return 0;
    if (!g_graph) { /* 16x16x3 -> conv s2 -> dw -> conv 1x1 -> conv 1x1 */
        int x, y;
        qmcu_error e;
        g_graph = gb_new("fuzz");
        x = gb_input(g_graph, 16, 16, 3);
        y = gb_conv(g_graph, x, 8, 3, 2, 1, 1, 0);
        y = gb_conv(g_graph, y, 8, 3, 1, 1, 1, 1);
        y = gb_conv(g_graph, y, 8, 1, 1, 1, 1, 0);
        y = gb_conv(g_graph, y, 4, 1, 1, 1, 1, 0);
        gb_output(g_graph, y);
        if (qmcu_model_prepare(g_graph, &g_model, &e) != QMCU_OK) abort();
    }
    memcpy(text, data, size);
    text[size] = 0;
    if (qmcu_plan_parse_spec(text, "fuzz.json", g_graph, &spec, &has_quant, &err) == QMCU_OK &&
        (spec.split <= 0 || spec.split > (int)sizeof halo_ops ||
         ((spec.halo_ops = halo_ops),
          qmcu_plan_parse_halo(text, "fuzz.json", spec.split, halo_ops, &err) == QMCU_OK)) &&
        (!has_quant || qmcu_vdq_parse(text, "fuzz.json", g_graph, spec.split, &vdq, &err) == QMCU_OK)) {
        const qmcu_exec_plan *e = NULL;
        if (vdq) { /* the QuantMCU plan takes vdq over */
            if (qmcu_quant_plan_make(g_model, &spec, vdq, 1, &p, &err) == QMCU_OK) e = &p->exec;
        } else if (qmcu_plan_build(g_model, &spec, &p, &err) == QMCU_OK) {
            e = &p->exec;
        }
        if (e) {
            uint8_t *mem = (uint8_t *)calloc(e->memory_bytes ? e->memory_bytes : 1, 1);
            if (mem) qmcu_exec_run(g_model, e, mem, NULL);
            free(mem);
#if defined(FUZZ_CODEGEN)
            {
                static char dir[64];
                if (!dir[0]) {
                    snprintf(dir, sizeof dir, "/tmp/qmcu_fuzz_codegen_%d", (int)getpid());
                    mkdir(dir, 0700);
                }
                (void)qmcu_codegen(g_model, e, e->memory_bytes, dir, qmcu_board_find("f746"), &err);
            }
#endif
        }
        qmcu_plan_free(p);
    }
    free(text);
    return 0;
}
