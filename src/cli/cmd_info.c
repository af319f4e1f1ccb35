/* quantmcu info MODEL [--json] [--plan PLAN | --split K --grid RxC] [--input-in-sram yes|no]:
 * per-layer table (op, shapes, MACs, activation bytes, live bytes) and the layer-by-layer
 * peak SRAM from the arena planner; with a plan, that plan's summary and memory table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void shape_str(const qmcu_tensor *t, char *buf, size_t cap)
{
    int i;
    size_t len = 0;
    buf[0] = 0;
    for (i = 0; i < t->ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? "x%d" : "%d", t->dims[i]);
}

static void shape_json(const qmcu_tensor *t)
{
    int i;
    putchar('[');
    for (i = 0; i < t->ndim; i++) printf(i ? ",%d" : "%d", t->dims[i]);
    putchar(']');
}

/* The per-layer rows (text or the JSON "layers" array) with the layer-by-layer plan's memory;
 * returns the model's MACs. */
static int64_t print_layers(const qmcu_graph *g, const quantmcu_plan *layer_plan, const quantmcu_plan_info *lp,
                            int json)
{
    int64_t total_macs = 0;
    int i;
    for (i = 0; i < g->n_ops; i++) {
        const qmcu_op *op = &g->ops[i];
        const qmcu_tensor *x = &g->tensors[op->in[0]], *y = &g->tensors[op->out];
        const int64_t macs = qmcu_op_macs(g, op);
        quantmcu_plan_op row;
        size_t live, act = 0;
        int j;
        quantmcu_plan_get_op(layer_plan, i, &row);
        live = row.live_bytes + row.scratch_bytes;
        for (j = 0; j < op->n_in; j++)
            if (op->in[j] >= 0 && !g->tensors[op->in[j]].data) act += g->tensors[op->in[j]].bytes;
        act += y->bytes;
        total_macs += macs;
        if (json) {
            printf("%s{\"index\":%d,\"op\":\"%s\",\"input_shape\":", i ? "," : "", i, qmcu_op_name(op->type));
            shape_json(x);
            printf(",\"output_shape\":");
            shape_json(y);
            printf(",\"macs\":%lld,\"activation_bytes\":%zu,\"scratch_bytes\":%zu,\"live_bytes\":%zu,\"in_place\":%s}",
                   (long long)macs, act, row.scratch_bytes, live, row.in_place ? "true" : "false");
        } else {
            char a[64], b[64];
            shape_str(x, a, sizeof a);
            shape_str(y, b, sizeof b);
            printf("%3d  %-18s %-16s %-16s %12lld %10zu %10zu%s%s\n", i, qmcu_op_name(op->type), a, b, (long long)macs,
                   act, live, row.in_place ? "  in place" : "", i == lp->live_peak_op ? "  <- peak" : "");
        }
    }
    return total_macs;
}

/* The header lines before the per-layer table (text). */
static void print_header(const quantmcu_model *m, const char *model_path)
{
    const qmcu_graph *g = quantmcu_graph(m);
    const qmcu_tensor *in = &g->tensors[g->inputs[0]], *out = &g->tensors[g->outputs[0]];
    char a[64], b[64], rule[400];
    shape_str(in, a, sizeof a);
    shape_str(out, b, sizeof b);
    printf("model %s: %d ops, input %s %s%s, output %s %s\n", model_path, g->n_ops, a,
           in->from_uint8 ? "uint8" : qmcu_dtype_name(in->type), in->n_scales > 1 ? " per-channel" : "", b,
           out->from_uint8 ? "uint8" : qmcu_dtype_name(out->type));
    quantmcu_input_rule(m, rule, sizeof rule);
    printf("image input: %s\n", rule);
    printf("%3s  %-18s %-16s %-16s %12s %10s %10s\n", "#", "op", "input", "output", "MACs", "act bytes", "live bytes");
}

/* The totals after the table; with a plan (patch_plan non-NULL), that plan too. */
static void print_totals(const quantmcu_model *m, const quantmcu_plan_info *lp, const quantmcu_plan *patch_plan,
                         int64_t total_macs, int json)
{
    const size_t weight_bytes = quantmcu_weight_bytes(m);
    if (json) {
        char rule[400];
        quantmcu_input_rule(m, rule, sizeof rule);
        printf("],\"image_input\":\"%s\",\"macs\":%lld,\"weight_bytes\":%zu,\"layer_peak_sram_bytes\":%zu,"
               "\"arena_bytes\":%zu,\"live_peak_bytes\":%zu,\"input_bytes\":%zu,\"input_in_sram\":%s",
               rule, (long long)total_macs, weight_bytes, lp->arena_bytes, lp->arena_bytes, lp->live_peak_bytes,
               lp->input_bytes, lp->input_in_sram ? "true" : "false");
        if (patch_plan) {
            quantmcu_plan_info patch;
            quantmcu_plan_get_info(patch_plan, &patch);
            printf(",\"plan\":{\"split\":%d,\"grid\":[%d,%d],\"peak_sram_bytes\":%zu,\"macs\":%lld,"
                   "\"redundant_macs\":%lld,\"input_patch\":[%d,%d]}",
                   patch.split, patch.grid_h, patch.grid_w, patch.arena_bytes, (long long)patch.macs,
                   (long long)(patch.patch_macs - patch.patch_layer_macs), patch.input_patch_h, patch.input_patch_w);
        }
        printf("}\n");
        return;
    }
    printf("total MACs: %lld\nweights: %zu bytes\n", (long long)total_macs, weight_bytes);
    printf("layer-by-layer peak SRAM: %zu bytes (%.1f kB) placed (first fit, largest first; in-place depthwise where it"
           " saves memory); largest live sum %zu bytes at op %d; the %zu-byte input is %s\n",
           lp->arena_bytes, lp->arena_bytes / 1024.0, lp->live_peak_bytes, lp->live_peak_op, lp->input_bytes,
           lp->input_in_sram ? "counted while live" : "streamed (not counted)");
    if (patch_plan) cli_print_plan(m, patch_plan, 1);
}

int cmd_info(int argc, char **argv)
{
    const char *model_path = NULL;
    int json = 0, i;
    quantmcu_model *m;
    cli_plan_opts po, layer_opts;
    quantmcu_plan_info lp;
    quantmcu_plan *layer_plan, *patch_plan = NULL;
    cli_plan_opts_init(&po);
    if (cli_help_asked("info", argc, argv)) return 0;
    for (i = 0; i < argc; i++) {
        const int taken = cli_plan_option("info", argc, argv, &i, &po);
        if (taken < 0) return 2;
        if (taken) continue;
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage("info: unknown option '%s'", argv[i]);
        else if (!model_path)
            model_path = argv[i];
        else
            return cli_usage("info: unexpected argument '%s'", argv[i]);
    }
    if (!model_path)
        return cli_usage(
            "info: usage: quantmcu info MODEL [--json] [--plan PLAN | --split K --grid RxC] [--input-in-sram yes|no]");
    if (!(m = cli_load(model_path, po.input_range))) return 1;
    if (po.plan_path || po.split >= 0) { /* the plan to show next to the layer-by-layer one */
        po.mode = "patch";
        if (!(patch_plan = cli_make_plan("info", m, &po))) {
            quantmcu_free(m);
            return 1;
        }
    }
    cli_plan_opts_init(&layer_opts);
    layer_opts.input_in_sram = po.input_in_sram;
    if (!(layer_plan = cli_make_plan("info", m, &layer_opts))) {
        quantmcu_plan_free(patch_plan);
        quantmcu_free(m);
        return 1;
    }
    quantmcu_plan_get_info(layer_plan, &lp);
    if (json)
        printf("{\"model\":\"%s\",\"layers\":[", model_path);
    else
        print_header(m, model_path);
    print_totals(m, &lp, patch_plan, print_layers(quantmcu_graph(m), layer_plan, &lp, json), json);
    quantmcu_plan_free(patch_plan);
    quantmcu_plan_free(layer_plan);
    quantmcu_free(m);
    return 0;
}
