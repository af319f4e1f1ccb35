/* quantmcu plan MODEL [--sram SIZE] [--input-in-sram yes|no] [--split K --grid RxC] [-o PLAN.json] [--json]
 * and the plan options every command shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../planning/plan_file.h"
#include "cli.h"

#define DEFAULT_SRAM_BUDGET (320u * 1024u) /* f746: 320 kB */

void cli_plan_opts_init(cli_plan_opts *o)
{
    o->mode = "layer";
    o->plan_path = NULL;
    o->split = -1;
    o->grid_h = o->grid_w = 0;
    o->input_in_sram = 1;
}

static int parse_grid(const char *s, int *gh, int *gw)
{
    char *end;
    long a, b;
    if (!s) return 0;
    a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X')) return 0;
    s = end + 1;
    b = strtol(s, &end, 10);
    if (end == s || *end || a < 1 || b < 1 || a > 4096 || b > 4096) return 0;
    *gh = (int)a;
    *gw = (int)b;
    return 1;
}

int cli_parse_size(const char *s, size_t *out)
{
    char *end;
    double v;
    if (!s || !*s) return 0;
    v = strtod(s, &end);
    if (end == s || v <= 0) return 0;
    if (!strcmp(end, "K") || !strcmp(end, "k") || !strcmp(end, "KB") || !strcmp(end, "kB") || !strcmp(end, "KiB"))
        v *= 1024.0;
    else if (!strcmp(end, "M") || !strcmp(end, "MB") || !strcmp(end, "MiB"))
        v *= 1024.0 * 1024.0;
    else if (*end)
        return 0;
    if (v > 1e15) return 0;
    *out = (size_t)v;
    return 1;
}

int cli_plan_option(const char *cmd, int argc, char **argv, int *i, cli_plan_opts *o)
{
    const char *a = argv[*i], *v;
    long split;
    if (!strcmp(a, "--mode")) {
        v = cli_value(argc, argv, i);
        if (!v || (strcmp(v, "layer") && strcmp(v, "patch") && strcmp(v, "quantmcu"))) {
            cli_fail("%s: --mode needs layer|patch|quantmcu", cmd);
            return -1;
        }
        o->mode = v;
    } else if (!strcmp(a, "--plan")) {
        if (!(o->plan_path = cli_value(argc, argv, i))) {
            cli_fail("%s: --plan needs a plan file", cmd);
            return -1;
        }
    } else if (!strcmp(a, "--split")) {
        if (!cli_parse_int(cli_value(argc, argv, i), 0, 1000000, &split)) {
            cli_fail("%s: --split needs an op count K >= 0 (patch stage = ops 0..K-1)", cmd);
            return -1;
        }
        o->split = split;
    } else if (!strcmp(a, "--grid")) {
        if (!parse_grid(cli_value(argc, argv, i), &o->grid_h, &o->grid_w)) {
            cli_fail("%s: --grid needs ROWSxCOLS, e.g. 4x4 or 2x3", cmd);
            return -1;
        }
    } else if (!strcmp(a, "--input-in-sram")) {
        v = cli_value(argc, argv, i);
        if (!v || (strcmp(v, "yes") && strcmp(v, "no"))) {
            cli_fail("%s: --input-in-sram needs yes or no", cmd);
            return -1;
        }
        o->input_in_sram = !strcmp(v, "yes");
    } else {
        return 0;
    }
    return 1;
}

int cli_make_plan(const char *cmd, cli_model *cm, const cli_plan_opts *o)
{
    qmcu_plan_spec spec = {0, 1, 1, 1};
    qmcu_error err;
    spec.input_in_sram = o->input_in_sram;
    if (!strcmp(o->mode, "quantmcu")) {
        cli_fail("%s: mode 'quantmcu' is not available in this build (available: layer, patch)", cmd);
        return 0;
    }
    if (o->plan_path && o->split >= 0) {
        cli_fail("%s: give either --plan or --split/--grid, not both", cmd);
        return 0;
    }
    if ((o->split >= 0) != (o->grid_h > 0) && !(o->split == 0 && o->grid_h == 0)) {
        cli_fail("%s: --split and --grid go together", cmd);
        return 0;
    }
    if (!strcmp(o->mode, "patch")) {
        if (o->plan_path) {
            if (qmcu_plan_read_spec(o->plan_path, cm->g, &spec, &err) != QMCU_OK) {
                cli_fail("%s", err.msg);
                return 0;
            }
        } else if (o->split >= 0) {
            spec.split = (int)o->split;
            spec.grid_h = o->grid_h ? o->grid_h : 1;
            spec.grid_w = o->grid_w ? o->grid_w : 1;
        } else {
            cli_fail("%s: --mode patch needs --plan PLAN or --split K --grid RxC", cmd);
            return 0;
        }
    } else if (o->plan_path) { /* layer mode ignores the plan's geometry but still checks the file */
        qmcu_plan_spec ignored;
        if (qmcu_plan_read_spec(o->plan_path, cm->g, &ignored, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            return 0;
        }
    }
    qmcu_plan_free(cm->plan);
    cm->plan = NULL;
    if (qmcu_plan_build(cm->m, &spec, &cm->plan, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        return 0;
    }
    return 1;
}

void cli_print_plan(const qmcu_plan *p, int with_table)
{
    const qmcu_graph *g = p->g;
    const int64_t redundant = p->patch_macs - p->patch_layer_macs;
    int i;
    if (p->spec.split) {
        const qmcu_tensor *s = &g->tensors[p->split_tensor];
        printf("plan: patch stage ops 0..%d, split tensor %dx%dx%d, grid %dx%d (%d tiles), input patch %dx%d\n",
               p->spec.split - 1, s->dims[1], s->dims[2], s->dims[3], p->spec.grid_h, p->spec.grid_w, p->n_tiles,
               p->input_patch_h, p->input_patch_w);
    } else {
        printf("plan: layer by layer (no patching)\n");
    }
    printf("  peak SRAM (placed arena): %zu bytes (%.1f kB); largest live sum %zu bytes at op %d\n", p->arena_bytes,
           p->arena_bytes / 1024.0, p->live_peak_bytes, p->live_peak_op);
    printf("  input: %zu bytes, %s\n", p->input_bytes,
           p->spec.input_in_sram ? "in SRAM (counted)" : "streamed from outside SRAM (not counted)");
    printf("  MACs: %lld executed; patch stage %lld vs %lld layer by layer: redundant %lld (%.2f %%)\n", (long long)p->macs,
           (long long)p->patch_macs, (long long)p->patch_layer_macs, (long long)redundant,
           p->patch_layer_macs ? 100.0 * (double)redundant / (double)p->patch_layer_macs : 0.0);
    if (!with_table) return;
    printf("  %3s  %-18s %-6s %10s %9s %10s  %s\n", "#", "op", "stage", "live", "scratch", "total", "");
    for (i = 0; i < g->n_ops; i++)
        printf("  %3d  %-18s %-6s %10zu %9zu %10zu  %s%s\n", i, qmcu_op_name(g->ops[i].type), i < p->spec.split ? "patch" : "layer",
               p->step_live_bytes[i], p->scratch_bytes[i], p->step_live_bytes[i] + p->scratch_bytes[i],
               p->in_place[i] ? "in place" : "", i == p->live_peak_op ? (p->in_place[i] ? ", peak" : "peak") : "");
}

int cmd_plan(int argc, char **argv)
{
    const char *model_path = NULL, *out_path = NULL;
    size_t budget = DEFAULT_SRAM_BUDGET;
    int json = 0, i, rc = 1, quiet = 0;
    cli_plan_opts po;
    cli_model cm = {NULL, NULL, NULL};
    qmcu_search_stats stats = {0, 1, 0.0};
    qmcu_error err;
    cli_plan_opts_init(&po);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const int taken = cli_plan_option("plan", argc, argv, &i, &po);
        if (taken < 0) return 1;
        if (taken && (!strcmp(a, "--mode") || !strcmp(a, "--plan"))) return cli_fail("plan: option '%s' belongs to run/eval", a);
        if (taken) continue;
        if (!strcmp(a, "--sram")) {
            if (!cli_parse_size(cli_value(argc, argv, &i), &budget)) return cli_fail("plan: --sram needs a size such as 256K, 320K, 1M");
        } else if (!strcmp(a, "-o")) {
            if (!(out_path = cli_value(argc, argv, &i))) return cli_fail("plan: -o needs a file");
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            return cli_fail("plan: unknown option '%s'", a);
        } else if (!model_path) {
            model_path = a;
        } else {
            return cli_fail("plan: unexpected argument '%s'", a);
        }
    }
    if (!model_path)
        return cli_fail("plan: usage: quantmcu plan MODEL [--sram SIZE] [--input-in-sram yes|no] [--split K --grid RxC] [-o PLAN.json] [--json]");
    if ((po.split >= 0) != (po.grid_h > 0)) return cli_fail("plan: --split and --grid go together");
    if (!cli_load_model(model_path, &cm)) return 1;
    qmcu_plan_free(cm.plan);
    cm.plan = NULL;
    if (po.split >= 0) {
        qmcu_plan_spec spec;
        spec.split = (int)po.split;
        spec.grid_h = po.grid_h;
        spec.grid_w = po.grid_w;
        spec.input_in_sram = po.input_in_sram;
        if (qmcu_plan_build(cm.m, &spec, &cm.plan, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
        stats.fits = cm.plan->arena_bytes <= budget;
    } else if (qmcu_plan_search(cm.m, budget, po.input_in_sram, &cm.plan, &stats, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    if (json) {
        qmcu_plan_write_json(cm.plan, budget, stdout);
    } else {
        if (po.split < 0)
            printf("searched %d plans (every legal split x grids 1x1..8x8, and no patching) in %.3f s\n", stats.candidates,
                   stats.seconds);
        cli_print_plan(cm.plan, !quiet);
        if (stats.fits)
            printf("fits the %zu-byte (%.0f kB) SRAM budget\n", budget, budget / 1024.0);
        else
            printf("does NOT fit the %zu-byte (%.0f kB) SRAM budget%s\n", budget, budget / 1024.0,
                   po.split < 0 ? ": no plan does; this is the lowest peak" : "");
    }
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (!f) {
            cli_fail("%s: cannot write plan file", out_path);
            goto done;
        }
        qmcu_plan_write_json(cm.plan, budget, f);
        if (fclose(f) != 0) {
            cli_fail("%s: cannot write plan file", out_path);
            goto done;
        }
        if (!json) printf("wrote %s\n", out_path);
    }
    rc = 0;
done:
    cli_free_model(&cm);
    return rc;
}
