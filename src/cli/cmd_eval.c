/* quantmcu eval MODEL --images DIR [--skip N] [--limit N] [--mode layer|patch|quantmcu]
 *               [--plan PLAN | --split K --grid RxC] [--no-vdpc] [--threads N] [--json]
 * Labels come from the leading integer of each file name (ImageNet class index); a 1001-output
 * model's index 0 is background, so its expected output is index + 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void broken_image(const char *message, void *ctx)
{
    cli_progress *ps = (cli_progress *)ctx;
    if (ps->line_open) fputc('\n', stderr); /* do not write over the progress line */
    ps->line_open = 0;
    fprintf(stderr, "quantmcu: %s (skipped)\n", message);
}

static void print_result(const char *model_path, const char *mode, const quantmcu_plan *p,
                         const quantmcu_eval_result *r, int threads, int json, int vs_int8)
{
    quantmcu_plan_info pi;
    const double layer_bitops = r->bitops - r->patch_bitops;
    const double ratio = r->patch_bitops > 0 ? r->patch_bitops_int8 / r->patch_bitops : 0.0;
    const double whole = (r->patch_bitops_int8 + layer_bitops) / r->bitops;
    const double outliers = r->stats.tiles ? (double)r->stats.outlier_tiles / (double)r->stats.tiles : 0.0;
    const double value_outliers =
        r->stats.lowbit_values ? (double)r->stats.outlier_values / (double)r->stats.lowbit_values : 0.0;
    quantmcu_plan_get_info(p, &pi);
    if (json) {
        printf("{\"model\":\"%s\",\"mode\":\"%s\",\"images\":%d,\"top1_pct\":%.2f,\"top5_pct\":%.2f,\"macs\":%lld,"
               "\"bitops\":%.0f,\"patch_bitops\":%.0f,\"patch_bitops_int8\":%.0f,\"patch_bitops_ratio\":%.4f,"
               "\"bitops_ratio\":%.4f,\"peak_sram_bytes\":%zu,\"arena_bytes\":%zu,"
               "\"input_bytes\":%zu,\"input_in_sram\":%s,\"split\":%d,\"grid\":[%d,%d],\"redundant_macs\":%lld,"
               "\"outlier_tile_fraction\":%.4f,\"outlier_value_fraction\":%.5f,\"ms_per_image\":%.3f,"
               "\"wall_ms_per_image\":%.3f,\"threads\":%d,\"agreement_with_int8_pct\":%.2f,\"kl_vs_int8\":%.6f,"
               "\"errors\":%d}\n",
               model_path, mode, r->images, r->top1_pct, r->top5_pct, (long long)pi.macs, r->bitops, r->patch_bitops,
               r->patch_bitops_int8, ratio, whole, pi.arena_bytes, pi.arena_bytes, pi.input_bytes,
               pi.input_in_sram ? "true" : "false", pi.split, pi.grid_h, pi.grid_w,
               (long long)(pi.patch_macs - pi.patch_layer_macs), outliers, value_outliers, r->ms_per_image,
               r->wall_ms_per_image, threads, vs_int8 ? r->agreement_pct : -1.0, vs_int8 ? r->kl : -1.0, r->errors);
        return;
    }
    printf("model %s, mode %s, %d images: top-1 %.2f %%, top-5 %.2f %%%s\n", model_path, mode, r->images, r->top1_pct,
           r->top5_pct, r->errors ? " (broken images left out: see stderr)" : "");
    printf("MACs %lld, peak SRAM %zu bytes, inference %.2f ms/image (%d thread%s, wall %.2f ms/image incl. decoding)\n",
           (long long)pi.macs, pi.arena_bytes, r->ms_per_image, threads, threads > 1 ? "s" : "", r->wall_ms_per_image);
    if (quantmcu_plan_exec(p)->lowbit)
        printf("patch-stage BitOPs %.4g vs %.4g all 8-bit (ratio %.2f), whole model ratio %.2f, outlier tiles %.2f %%, "
               "outlier values %.3f %%\n",
               r->patch_bitops, r->patch_bitops_int8, ratio, whole, 100.0 * outliers, 100.0 * value_outliers);
    if (vs_int8) printf("vs the same plan all 8-bit: top-1 agreement %.2f %%, KL %.5f\n", r->agreement_pct, r->kl);
}

int cmd_eval(int argc, char **argv)
{
    const char *model_path = NULL, *dir = NULL;
    cli_plan_opts po;
    quantmcu_eval_options eo;
    quantmcu_eval_result r;
    quantmcu_model *m = NULL;
    quantmcu_plan *p = NULL;
    qmcu_error err;
    long v;
    int json = 0, vs_int8 = 0, i, rc = 1;
    cli_progress ps;
    char classes_default[1024];
    quantmcu_plan *ref = NULL;
    cli_plan_opts_init(&po);
    quantmcu_eval_options_default(&eo);
    eo.progress = cli_progress_update;
    eo.on_error = broken_image;
    cli_progress_init(&ps, "eval", "images", 50);
    eo.progress_ctx = &ps;
    if (cli_help_asked("eval", argc, argv)) return 0;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const int taken = cli_plan_option("eval", argc, argv, &i, &po);
        if (taken < 0) return 2;
        if (taken) continue;
        if (!strcmp(a, "--images") || !strcmp(a, "--inputs")) {
            if (!(dir = cli_value(argc, argv, &i))) return cli_usage("eval: --images needs a folder");
        } else if (!strcmp(a, "--limit")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 1, 100000000, &v))
                return cli_usage("eval: --limit needs a positive number");
            eo.limit = (int)v;
        } else if (!strcmp(a, "--skip")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 0, 100000000, &v))
                return cli_usage("eval: --skip needs a number >= 0");
            eo.skip = (int)v;
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 1, 64, &v))
                return cli_usage("eval: --threads needs a number 1..64");
            eo.threads = (int)v;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--vs-int8")) {
            vs_int8 = 1;
        } else if (!strcmp(a, "--strict")) {
            eo.strict = 1;
        } else if (!strcmp(a, "--classes")) {
            if (!(eo.classes = cli_value(argc, argv, &i)))
                return cli_usage("eval: --classes needs a file of WordNet ids");
        } else if (!strcmp(a, "--ground-truth")) {
            if (!(eo.ground_truth = cli_value(argc, argv, &i)))
                return cli_usage("eval: --ground-truth needs a file of 'FILE CLASS' lines");
        } else if (a[0] == '-' && a[1]) {
            return cli_usage("eval: unknown option '%s'", a);
        } else if (!model_path) {
            model_path = a;
        } else {
            return cli_usage("eval: unexpected argument '%s'", a);
        }
    }
    if (!model_path || !dir)
        return cli_usage(
            "eval: usage: quantmcu eval MODEL --images DIR [--skip N] [--limit N] [--mode layer|patch|quantmcu] "
            "[--plan PLAN | --split K --grid RxC] [--no-vdpc] [--threads N] [--json] [--vs-int8] [--strict] [--classes "
            "FILE] [--ground-truth FILE]");
    eo.no_vdpc = po.no_vdpc;
    if (!eo.classes) { /* the standard sorted ILSVRC2012 list next to the shared models, when there */
        const char *data = getenv("QUANTMCU_DATA");
        snprintf(classes_default, sizeof classes_default, "%s/models/imagenet_wnids.txt", data ? data : "../shared");
        eo.classes = classes_default;
    }
    if (!(m = cli_load(model_path, po.input_range)) || !(p = cli_make_plan("eval", m, &po))) goto done;
    if (vs_int8) { /* the same plan all 8-bit, run next to it on every image */
        cli_plan_opts ro = po;
        ro.mode = po.plan_path || po.split >= 0 ? "patch" : "layer";
        ro.no_vdpc = 0;
        if (!(ref = cli_make_plan("eval", m, &ro))) goto done;
        eo.reference = ref;
    }
    if (quantmcu_eval(m, p, dir, &eo, &r, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    print_result(model_path, po.mode, p, &r, eo.threads < r.images ? eo.threads : r.images, json, vs_int8);
    rc = 0;
done:
    quantmcu_plan_free(ref);
    quantmcu_plan_free(p);
    quantmcu_free(m);
    return rc;
}
