/* quantmcu plan MODEL [--sram SIZE] [--input-in-sram yes|no] [--split K --grid RxC] [-o PLAN.json] [--json]
 *               [--calib DIR [--calib-count N] [--quant-scheme v2|v1] [--proxy output|entropy] [--bits 8,6,5,4]
 *                [--lambda L] [--outlier-tiles F]
 *                [--bitops-target R] [--max-agreement-drop P]]
 * and the plan options every command shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_SRAM_BUDGET (320u * 1024u) /* f746: 320 kB */

void cli_plan_opts_init(cli_plan_opts *o)
{
    o->mode = "layer";
    o->plan_path = NULL;
    o->split = -1;
    o->grid_h = o->grid_w = 0;
    o->input_in_sram = 1;
    o->no_vdpc = 0;
    o->halo = QUANTMCU_HALO_AUTO;
    o->fuse_add = 1;
    o->input_range = NULL;
}

/* --halo NAME -> QUANTMCU_HALO_AUTO / QMCU_HALO_*; -2 = not a strategy */
static int parse_halo(const char *v)
{
    if (!v) return -2;
    if (!strcmp(v, "auto")) return QUANTMCU_HALO_AUTO;
    if (!strcmp(v, "recompute")) return QMCU_HALO_RECOMPUTE;
    if (!strcmp(v, "cols")) return QMCU_HALO_COLS;
    if (!strcmp(v, "cached")) return QMCU_HALO_CACHED;
    return -2;
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

int cli_plan_option(const char *cmd, int argc, char **argv, int *i, cli_plan_opts *o)
{
    const char *a = argv[*i], *v;
    long split;
    if (!strcmp(a, "--mode")) {
        v = cli_value(argc, argv, i);
        if (!v || (strcmp(v, "layer") && strcmp(v, "patch") && strcmp(v, "quantmcu"))) {
            cli_usage("%s: --mode needs layer|patch|quantmcu", cmd);
            return -1;
        }
        o->mode = v;
    } else if (!strcmp(a, "--plan")) {
        if (!(o->plan_path = cli_value(argc, argv, i))) {
            cli_usage("%s: --plan needs a plan file", cmd);
            return -1;
        }
    } else if (!strcmp(a, "--split")) {
        if (!cli_parse_int(cli_value(argc, argv, i), 0, 1000000, &split)) {
            cli_usage("%s: --split needs an op count K >= 0 (patch stage = ops 0..K-1)", cmd);
            return -1;
        }
        o->split = split;
    } else if (!strcmp(a, "--grid")) {
        if (!parse_grid(cli_value(argc, argv, i), &o->grid_h, &o->grid_w)) {
            cli_usage("%s: --grid needs ROWSxCOLS, e.g. 4x4 or 2x3", cmd);
            return -1;
        }
    } else if (!strcmp(a, "--no-vdpc")) {
        o->no_vdpc = 1;
    } else if (!strcmp(a, "--halo")) {
        if ((o->halo = parse_halo(cli_value(argc, argv, i))) == -2) {
            cli_usage("%s: --halo needs auto|recompute|cols|cached", cmd);
            return -1;
        }
    } else if (!strcmp(a, "--fuse-add")) {
        v = cli_value(argc, argv, i);
        if (!v || (strcmp(v, "yes") && strcmp(v, "no"))) {
            cli_usage("%s: --fuse-add needs yes or no", cmd);
            return -1;
        }
        o->fuse_add = !strcmp(v, "yes");
    } else if (!strcmp(a, "--input-range")) {
        double lo, hi;
        qmcu_error err;
        if (!(o->input_range = cli_value(argc, argv, i)) ||
            (strcmp(o->input_range, "auto") && quantmcu_parse_input_range(o->input_range, &lo, &hi, &err))) {
            cli_usage("%s: --input-range needs LO,HI, e.g. 0,1 or -1,1 or 0,255", cmd);
            return -1;
        }
    } else if (!strcmp(a, "--input-in-sram")) {
        v = cli_value(argc, argv, i);
        if (!v || (strcmp(v, "yes") && strcmp(v, "no"))) {
            cli_usage("%s: --input-in-sram needs yes or no", cmd);
            return -1;
        }
        o->input_in_sram = !strcmp(v, "yes");
    } else {
        return 0;
    }
    return 2;
}

/* QuantMCU's stages, one progress line each: calibration (image passes), then the search. */
static void quant_progress(const char *stage, int done, int total, void *ctx)
{
    cli_progress *ps = (cli_progress *)ctx;
    if (strcmp(ps->what, stage) != 0) {
        if (ps->line_open) fputc('\n', stderr);
        cli_progress_init(ps, stage, strcmp(stage, "calibration") ? "measurements" : "image passes", 1);
    }
    cli_progress_update(done, total, ps);
}

quantmcu_plan *cli_make_plan(const char *cmd, const quantmcu_model *m, const cli_plan_opts *o)
{
    const int quantmcu = !strcmp(o->mode, "quantmcu"), from_file = !strcmp(o->mode, "plan");
    quantmcu_plan *p = NULL;
    qmcu_error err;
    qmcu_status st;
    if (o->plan_path && o->split >= 0) return cli_fail("%s: give either --plan or --split/--grid, not both", cmd), NULL;
    if ((o->split >= 0) != (o->grid_h > 0) && !(o->split == 0 && o->grid_h == 0))
        return cli_fail("%s: --split and --grid go together", cmd), NULL;
    if (quantmcu && !o->plan_path)
        return cli_fail("%s: --mode quantmcu needs --plan PLAN from 'quantmcu plan --calib DIR'", cmd), NULL;
    if (from_file && !o->plan_path) return cli_fail("%s: needs --plan PLAN", cmd), NULL;
    if (o->no_vdpc && !quantmcu) return cli_fail("%s: --no-vdpc only applies to --mode quantmcu", cmd), NULL;
    if (o->plan_path) {
        const quantmcu_mode mode = quantmcu                    ? QUANTMCU_MODE_QUANTMCU
                                   : from_file                 ? QUANTMCU_MODE_AS_FILE
                                   : !strcmp(o->mode, "layer") ? QUANTMCU_MODE_LAYER
                                                               : QUANTMCU_MODE_PATCH;
        st = quantmcu_plan_read(m, o->plan_path, mode, &p, &err);
    } else {
        quantmcu_plan_options po;
        quantmcu_plan_options_default(&po);
        po.input_in_sram = o->input_in_sram;
        po.halo = o->halo;
        po.fuse_add = o->fuse_add;
        if (strcmp(o->mode, "layer") == 0) {
            po.split = 0;
        } else if (o->split >= 0) {
            po.split = (int)o->split;
            po.grid_h = o->grid_h ? o->grid_h : 1;
            po.grid_w = o->grid_w ? o->grid_w : 1;
        } else {
            return cli_fail("%s: --mode patch needs --plan PLAN or --split K --grid RxC", cmd), NULL;
        }
        st = quantmcu_plan_make(m, &po, &p, NULL, &err);
    }
    if (st != QMCU_OK) return cli_fail("%s", err.msg), NULL;
    return p;
}

void cli_print_plan(const quantmcu_model *m, const quantmcu_plan *qp, int with_table)
{
    const qmcu_graph *g = quantmcu_graph(m);
    quantmcu_plan_info p;
    int64_t redundant;
    int i;
    quantmcu_plan_get_info(qp, &p);
    redundant = p.patch_macs - p.patch_layer_macs;
    if (p.split) {
        const qmcu_tensor *s = &g->tensors[p.split_tensor];
        printf("plan: patch stage ops 0..%d, split tensor %dx%dx%d, grid %dx%d (%d tiles), input patch %dx%d\n",
               p.split - 1, s->dims[1], s->dims[2], s->dims[3], p.grid_h, p.grid_w, p.n_tiles, p.input_patch_h,
               p.input_patch_w);
    } else {
        printf("plan: layer by layer (no patching)\n");
    }
    printf("  peak SRAM (placed arena): %zu bytes (%.1f kB); largest live sum %zu bytes at op %d\n", p.arena_bytes,
           p.arena_bytes / 1024.0, p.live_peak_bytes, p.live_peak_op);
    printf("  input: %zu bytes, %s\n", p.input_bytes,
           p.input_in_sram ? "in SRAM (counted)" : "streamed from outside SRAM (not counted)");
    printf("  MACs: %lld executed; patch stage %lld vs %lld layer by layer: redundant %lld (%.2f %%)\n",
           (long long)p.macs, (long long)p.patch_macs, (long long)p.patch_layer_macs, (long long)redundant,
           p.patch_layer_macs ? 100.0 * (double)redundant / (double)p.patch_layer_macs : 0.0);
    if (p.split)
        printf("  halo: %d patch ops recompute, %d cache columns, %d cache columns and rows; caches %zu bytes; "
               "%d fused conv+add\n",
               p.halo_ops[0], p.halo_ops[1], p.halo_ops[3], p.cache_bytes, p.fused_adds);
    printf("  predicted: %.1f M emulated Cortex-M4 instructions per inference (cost model; all 8-bit)\n",
           p.predicted_instructions / 1e6);
    if (!with_table) return;
    printf("  %3s  %-18s %-6s %10s %9s %10s  %s\n", "#", "op", "stage", "live", "scratch", "total", "");
    for (i = 0; i < g->n_ops; i++) {
        quantmcu_plan_op row, prev;
        char note[160];
        size_t n = 0;
        note[0] = 0;
        quantmcu_plan_get_op(qp, i, &row);
        if (quantmcu_plan_get_op(qp, i - 1, &prev) != QMCU_OK) prev.fused_next = 0;
        if (row.in_place) n += (size_t)snprintf(note + n, sizeof note - n, "in place, ");
        if (row.fused_next)
            n += (size_t)snprintf(note + n, sizeof note - n, "fused with op %d (%s), ", i + 1,
                                  qmcu_op_name(g->ops[i + 1].type));
        if (prev.fused_next) n += (size_t)snprintf(note + n, sizeof note - n, "runs in op %d, ", i - 1);
        if (row.halo)
            n += (size_t)snprintf(note + n, sizeof note - n, "halo cached: columns %zu B, line buffer %zu B, ",
                                  row.col_cache_bytes, row.row_cache_bytes);
        if (i == p.live_peak_op) n += (size_t)snprintf(note + n, sizeof note - n, "peak, ");
        if (n >= 2 && n < sizeof note) note[n - 2] = 0;
        printf("  %3d  %-18s %-6s %10zu %9zu %10zu  %s\n", i, qmcu_op_name(g->ops[i].type),
               row.patch ? "patch" : "layer", row.live_bytes, row.scratch_bytes, row.live_bytes + row.scratch_bytes,
               note);
    }
}

static int parse_bits(const char *s, quantmcu_quant_options *q)
{
    char *end;
    int seen[9] = {0};
    q->n_bits = 0;
    while (s && *s) {
        const long b = strtol(s, &end, 10);
        if (end == s || b < 2 || b > 8 || seen[b] || q->n_bits >= 8) return 0;
        seen[b] = 1;
        q->n_bits++;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    if (!seen[8]) return 0; /* the search starts at 8 */
    {
        int b, n = 0;
        for (b = 8; b >= 2; b--)
            if (seen[b]) q->bits[n++] = b;
    }
    return q->n_bits > 1;
}

static void print_quantmcu(const quantmcu_model *m, const quantmcu_plan *qplan, const quantmcu_plan *pplan)
{
    const qmcu_graph *g = quantmcu_graph(m);
    quantmcu_quant_info v;
    quantmcu_plan_info qp, pp;
    double b8, bq;
    int64_t layer_macs;
    int k;
    if (quantmcu_quant_get_info(qplan, &v) != QMCU_OK) return;
    quantmcu_plan_get_info(qplan, &qp);
    quantmcu_plan_get_info(pplan, &pp);
    b8 = qp.patch_bitops_int8;
    bq = qp.patch_bitops;
    layer_macs = qp.macs - qp.patch_macs;
    printf("QuantMCU v%d: calibrated on %d images (%.2f s), outlier tiles f = %g; VDQS (%s proxy) lambda = %g, %d steps "
           "in %.2f s\n",
           v.scheme, v.calib_images, v.calib_seconds, v.outlier_tiles, v.proxy ? "entropy" : "output", v.lambda,
           v.n_steps, v.search_seconds);
    if (v.scheme >= 2)
        printf("  %4s %4s %-18s %5s %6s %8s %9s %9s %9s %9s\n", "map", "op", "producer", "bits", "signed", "tau",
               "KL(7)", "KL(6)", "KL(5)", "KL(4)");
    else
        printf("  %4s %4s %-18s %5s %10s %10s %7s %7s %7s\n", "map", "op", "producer", "bits", "lo", "T", "H(8)",
               "H(4)", "H(2)");
    for (k = 0; k < v.n_maps; k++) {
        quantmcu_quant_map fm;
        quantmcu_quant_get_map(qplan, k, &fm);
        if (v.scheme >= 2)
            printf("  %4d %4d %-18s %5d %6s %8d %9.5f %9.5f %9.5f %9.5f\n", fm.tensor, fm.producer,
                   qmcu_op_name(g->ops[fm.producer].type), fm.bits, fm.is_signed ? "yes" : "no", (int)fm.tau,
                   fm.damage[7], fm.damage[6], fm.damage[5], fm.damage[4]);
        else
            printf("  %4d %4d %-18s %5d %10.4f %10.4f %7.3f %7.3f %7.3f\n", fm.tensor, fm.producer,
                   qmcu_op_name(g->ops[fm.producer].type), fm.bits, fm.lo, fm.hi, fm.entropy[8], fm.entropy[4],
                   fm.entropy[2]);
    }
    if (v.geometry_searched)
        printf("  bits: 8 except where the SRAM budget needs fewer (the VDQS steps above are not used: with the "
               "geometry searched, the objective is device instructions)\n");
    else
        printf("  steps applied: %d of %d%s\n", v.steps_applied, v.n_steps,
               v.steps_applied < v.n_steps ? " (rest undone by the accuracy guard)" : "");
    printf("  patch-stage BitOPs (all tiles low-bit): %.4g vs %.4g all 8-bit: ratio %.2f; whole model %.2f\n", bq, b8,
           bq > 0 ? b8 / bq : 0.0, (b8 + (double)layer_macs * 64.0) / (bq + (double)layer_macs * 64.0));
    printf(
        "  on the calibration images: top-1 agreement with patch mode %.2f %%, outlier tiles %.2f %%, outlier values "
        "%.3f %%\n",
        v.agreement_pct, 100.0 * v.calib_outlier_tile_fraction, 100.0 * v.calib_outlier_value_fraction);
    if (v.geometry_searched) {
        printf("  geometry: split %d, grid %dx%d (halo: %d recompute, %d columns, %d cached): ", qp.split, qp.grid_h,
               qp.grid_w, qp.halo_ops[0], qp.halo_ops[1], qp.halo_ops[3]);
        if (v.geometry_from_bits && v.int8_predicted <= 0.0)
            printf("no int8 plan fits the budget; with 4-bit maps this one does (%.1f M instructions predicted)\n",
                   v.bits_predicted / 1e6);
        else if (v.geometry_from_bits)
            printf("bits pay: %.1f M instructions predicted with 4-bit maps vs %.1f M for the best int8 plan (%.2fx "
                   "fewer)\n",
                   v.bits_predicted / 1e6, v.int8_predicted / 1e6, v.int8_predicted / v.bits_predicted);
        else if (v.bits_predicted > 0.0 && v.int8_predicted <= 0.0)
            printf("the int8 plan's lowest-peak geometry, with maps lowered where the budget needs it\n");
        else if (v.bits_predicted > 0.0 && !v.geometry_guard_failed)
            printf("the int8 plan's: the best geometry 4-bit maps would fit is predicted %.1f M instructions vs %.1f M "
                   "(bits buy no faster geometry at this budget)\n",
                   v.bits_predicted / 1e6, v.int8_predicted / 1e6);
        else if (v.bits_predicted > 0.0)
            printf("the int8 plan's\n");
        else
            printf("the int8 plan's (no geometry fits the budget even with 4-bit maps)\n");
        if (v.geometry_guard_failed)
            printf("  (the geometry 4-bit maps fit, split %d, grid %dx%d, predicted %.1f M instructions, missed the "
                   "accuracy guard: KL %.4f)\n",
                   v.failed_split, v.failed_grid_h, v.failed_grid_w, v.bits_predicted / 1e6, v.failed_kl);
    }
    if (v.scheme >= 3)
        printf("  predicted: %.1f M emulated Cortex-M4 instructions (low-bit staging and the expected outlier tiles "
               "included) vs %.1f M for the int8 plan above\n",
               qp.predicted_instructions / 1e6, pp.predicted_instructions / 1e6);
    if (v.scheme >= 3)
        printf("  accuracy guard: mean KL at the logits vs int8 on the calibration images %.4f, %s %.4g%s\n", v.calib_kl,
               v.guard_met ? "within" : "NOT within", v.max_kl, v.max_kl > 0.0 ? "" : " (off)");
    if (v.maps_for_memory)
        printf("  %d map(s) lowered after the search (6, 5 or 4 bits, stored packed) so the plan fits its SRAM budget(s), least measured KL per bit saved first\n",
               v.maps_for_memory);
    if (v.scheme >= 3 && !qp.fallback_h)
        printf("  peak SRAM: %zu bytes vs %zu patch int8 (buffers and caches sized for the bits, 4/2-bit maps packed; no "
               "grid of 8-bit sub-tiles for outlier tiles fits the budget, so they keep their low bits and their outliers "
               "saturate); re-quantized weights of conv readers: %zu bytes of flash\n",
               qp.arena_bytes, pp.arena_bytes, v.weight_variant_bytes);
    else if (v.scheme >= 3)
        printf("  peak SRAM: %zu bytes vs %zu patch int8 (buffers and caches sized for the bits, 4/2-bit maps packed; an "
               "outlier tile runs again as %dx%d 8-bit sub-tiles, every halo recomputed, adding %zu bytes); re-quantized "
               "weights of conv readers: %zu bytes of flash\n",
               qp.arena_bytes, pp.arena_bytes, qp.fallback_h, qp.fallback_w, qp.fallback_excess_bytes,
               v.weight_variant_bytes);
    else
        printf("  peak SRAM: %zu bytes (8-bit fallback buffers included; no in-place depthwise in the patch stage) vs "
               "%zu patch int8; re-quantized weights of conv readers: %zu bytes of flash\n",
               qp.arena_bytes, pp.arena_bytes, v.weight_variant_bytes);
}

typedef struct {
    const char *model_path, *out_path;
    size_t budget;
    int budget_given; /* --sram on the command line (a fixed geometry is only checked against a given one) */
    int json, quiet, quantmcu_asked;
    cli_plan_opts po;
    quantmcu_quant_options qo;
} plan_args;

/* A QuantMCU number option; 1 = taken, -1 = bad value (message printed). */
static int quant_number(const char *a, const char *v, quantmcu_quant_options *q)
{
    char *end;
    const double d = v ? strtod(v, &end) : 0.0;
    if (!v || *end || end == v) return cli_usage("plan: %s needs a number", a), -1;
    if (!strcmp(a, "--lambda")) {
        if (!(d >= 0.0 && d <= 1.0)) return cli_usage("plan: --lambda must be in [0, 1]"), -1;
        q->lambda = d;
    } else if (!strcmp(a, "--outlier-tiles")) {
        if (!(d >= 0.0 && d < 1.0)) return cli_usage("plan: --outlier-tiles must be in [0, 1)"), -1;
        q->outlier_tiles = d;
    } else if (!strcmp(a, "--max-kl")) {
        if (!(d >= 0.0 && d <= 100.0)) return cli_usage("plan: --max-kl must be in [0, 100] (0: off)"), -1;
        q->max_kl = d;
    } else if (!strcmp(a, "--bitops-target")) {
        if (!(d >= 1.0 && d <= 64.0)) return cli_usage("plan: --bitops-target must be a ratio in [1, 64]"), -1;
        q->bitops_target = d;
    } else {
        if (!(d >= 0.0 && d <= 100.0))
            return cli_usage("plan: --max-agreement-drop must be a percentage in [0, 100]"), -1;
        q->max_agreement_drop = d;
    }
    return 2;
}

/* 0 = parsed, else the exit status (message printed). */
static int parse_plan_args(int argc, char **argv, plan_args *a)
{
    int i, scheme = 3;
    long count;
    memset(a, 0, sizeof *a);
    a->budget = DEFAULT_SRAM_BUDGET;
    cli_plan_opts_init(&a->po);
    for (i = 0; i + 1 < argc; i++) /* the scheme sets the other QuantMCU defaults */
        if (!strcmp(argv[i], "--quant-scheme")) {
            if (strcmp(argv[i + 1], "v1") && strcmp(argv[i + 1], "v2") && strcmp(argv[i + 1], "v3"))
                return cli_usage("plan: --quant-scheme needs v3 (default), v2 or v1 (the paper's method as first defined)");
            scheme = argv[i + 1][1] - '0';
        }
    quantmcu_quant_options_default(&a->qo, scheme);
    a->qo.choose_geometry = 1; /* unless --split/--grid fix it (below) */
    for (i = 0; i < argc; i++) {
        const char *o = argv[i];
        const int taken = cli_plan_option("plan", argc, argv, &i, &a->po);
        if (taken < 0) return 2;
        if (taken && (!strcmp(o, "--mode") || !strcmp(o, "--plan")))
            return cli_usage("plan: option '%s' belongs to run/eval", o);
        if (taken) continue;
        if (!strcmp(o, "--calib")) {
            if (!(a->qo.calib_dir = cli_value(argc, argv, &i))) return cli_usage("plan: --calib needs an image folder");
        } else if (!strcmp(o, "--calib-count")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 1, 100000, &count))
                return cli_usage("plan: --calib-count needs a positive number");
            a->qo.calib_count = (int)count;
            a->quantmcu_asked = 1;
        } else if (!strcmp(o, "--quant-scheme")) {
            (void)cli_value(argc, argv, &i); /* taken above */
            a->quantmcu_asked = 1;
        } else if (!strcmp(o, "--outlier-values") || !strcmp(o, "--per-channel") || !strcmp(o, "--clipping")) {
            const char *v = cli_value(argc, argv, &i);
            int *flag = !strcmp(o, "--outlier-values") ? &a->qo.outlier_values
                        : !strcmp(o, "--per-channel")  ? &a->qo.per_channel
                                                       : &a->qo.clipping;
            if (!v || (strcmp(v, "yes") && strcmp(v, "no"))) return cli_usage("plan: %s needs yes or no", o);
            *flag = !strcmp(v, "yes");
            a->quantmcu_asked = 1;
        } else if (!strcmp(o, "--proxy")) {
            const char *v = cli_value(argc, argv, &i);
            if (!v || (strcmp(v, "output") && strcmp(v, "entropy")))
                return cli_usage("plan: --proxy needs output (measured KL at the logits) or entropy");
            a->qo.proxy = !strcmp(v, "entropy");
            a->quantmcu_asked = 1;
        } else if (!strcmp(o, "--bits")) {
            if (!parse_bits(cli_value(argc, argv, &i), &a->qo))
                return cli_usage("plan: --bits needs a list of widths 2..8 that includes 8, e.g. 8,4,2");
            a->quantmcu_asked = 1;
        } else if (!strcmp(o, "--lambda") || !strcmp(o, "--outlier-tiles") || !strcmp(o, "--bitops-target") ||
                   !strcmp(o, "--max-kl") ||
                   !strcmp(o, "--max-agreement-drop")) {
            if (quant_number(o, cli_value(argc, argv, &i), &a->qo) < 0) return 2;
            a->quantmcu_asked = 1;
        } else if (!strcmp(o, "--patch-sram")) {
            if (!cli_parse_size(cli_value(argc, argv, &i), &a->qo.patch_sram))
                return cli_usage("plan: --patch-sram needs a size such as 128K");
            a->quantmcu_asked = 1;
        } else if (!strcmp(o, "--sram")) {
            if (!cli_parse_size(cli_value(argc, argv, &i), &a->budget))
                return cli_usage("plan: --sram needs a size such as 256K, 320K, 1M");
            a->budget_given = 1;
        } else if (!strcmp(o, "-o")) {
            if (!(a->out_path = cli_value(argc, argv, &i))) return cli_usage("plan: -o needs a file");
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
        } else if (!strcmp(o, "--quiet")) {
            a->quiet = 1;
        } else if (o[0] == '-' && o[1]) {
            return cli_usage("plan: unknown option '%s'", o);
        } else if (!a->model_path) {
            a->model_path = o;
        } else {
            return cli_usage("plan: unexpected argument '%s'", o);
        }
    }
    if (!a->model_path)
        return cli_usage("plan: usage: quantmcu plan MODEL [--sram SIZE] [--input-in-sram yes|no] [--split K --grid "
                         "RxC] [-o PLAN.json] [--json]");
    if ((a->po.split >= 0) != (a->po.grid_h > 0)) return cli_usage("plan: --split and --grid go together");
    a->qo.choose_geometry = a->po.split < 0;
    if (a->quantmcu_asked && !a->qo.calib_dir)
        return cli_usage("plan: the QuantMCU options need --calib DIR (calibration images)");
    return 0;
}

int cmd_plan(int argc, char **argv)
{
    plan_args a;
    quantmcu_model *m = NULL;
    quantmcu_plan *p = NULL, *qp = NULL;
    quantmcu_plan_options po;
    quantmcu_search_info info;
    cli_progress progress;
    qmcu_error err;
    int rc;
    if (cli_help_asked("plan", argc, argv)) return 0;
    if ((rc = parse_plan_args(argc, argv, &a)) != 0) return rc;
    rc = 1;
    if (!(m = cli_load(a.model_path, a.po.input_range))) return 1;
    quantmcu_plan_options_default(&po);
    po.sram_budget = a.budget;
    po.input_in_sram = a.po.input_in_sram;
    po.halo = a.po.halo;
    po.fuse_add = a.po.fuse_add;
    if (a.po.split >= 0) {
        po.split = (int)a.po.split;
        po.grid_h = a.po.grid_h;
        po.grid_w = a.po.grid_w;
    }
    cli_progress_init(&progress, "calibration", "image passes", 1);
    a.qo.progress = quant_progress;
    a.qo.progress_ctx = &progress;
    if (quantmcu_plan_make(m, &po, &p, &info, &err) != QMCU_OK ||
        (a.qo.calib_dir &&
         (info.fits || a.qo.scheme >= 3 || (a.po.split >= 0 && !a.budget_given)) &&
         quantmcu_quantize(m, p, &a.qo, &qp, &err) != QMCU_OK)) {
        cli_fail("%s", err.msg);
        goto done;
    }
    if (a.json) {
        quantmcu_plan_write(qp ? qp : p, stdout);
    } else {
        if (a.po.split < 0)
            printf(
                "searched %d plans (every legal split x grids 1x1..8x8 x halo strategies, and no patching) in %.3f s\n",
                info.candidates, info.seconds);
        cli_print_plan(m, p, !a.quiet);
        if (a.po.split < 0 && a.po.halo == QUANTMCU_HALO_AUTO) { /* why: the best plan recomputing its halo */
            quantmcu_plan *rp = NULL;
            quantmcu_search_info ri;
            po.halo = QMCU_HALO_RECOMPUTE;
            if (quantmcu_plan_make(m, &po, &rp, &ri, &err) == QMCU_OK) {
                quantmcu_plan_info r, c;
                quantmcu_plan_get_info(rp, &r);
                quantmcu_plan_get_info(p, &c);
                printf("chosen: %s; the best plan recomputing every halo (MCUNetV2) is %s%d, grid %dx%d: %.1f M "
                       "predicted instructions (%+.1f %%), %lld MACs (%+.1f %%), peak %zu bytes%s\n",
                       info.fits ? "the fewest predicted device instructions within the budget (ties: fewer tiles, "
                                   "then the smaller arena)"
                                 : "no plan fits, so the lowest peak",
                       r.split ? "split " : "layer by layer, split ", r.split, r.grid_h, r.grid_w,
                       r.predicted_instructions / 1e6,
                       c.predicted_instructions > 0 ? 100.0 * (r.predicted_instructions - c.predicted_instructions) /
                                                          c.predicted_instructions
                                                    : 0.0,
                       (long long)r.macs, c.macs ? 100.0 * (double)(r.macs - c.macs) / (double)c.macs : 0.0,
                       r.arena_bytes, ri.fits ? "" : " (does not fit)");
                quantmcu_plan_free(rp);
            }
        }
        if (info.fits)
            printf("fits the %zu-byte (%.0f kB) SRAM budget\n", a.budget, a.budget / 1024.0);
        else
            printf("does NOT fit the %zu-byte (%.0f kB) SRAM budget%s\n", a.budget, a.budget / 1024.0,
                   a.po.split < 0 ? ": no plan does; this is the lowest peak" : "");
        if (qp) {
            quantmcu_quant_info qi;
            if (quantmcu_quant_get_info(qp, &qi) == QMCU_OK)
                print_quantmcu(m, qp, p);
            else
                printf("QuantMCU: the int8 plan above runs layer by layer within the budget, the fastest plan: no patch "
                       "stage, nothing for low bits to buy (it is written as it is)\n");
        }
    }
    if (qp && !info.fits) { /* version 3: the bits may fit what int8 does not */
        quantmcu_plan_info c;
        quantmcu_plan_get_info(qp, &c);
        info.fits = c.arena_bytes <= a.budget;
        if (!a.json)
            printf("QuantMCU plan: %zu bytes, %s the %zu-byte SRAM budget\n", c.arena_bytes,
                   info.fits ? "fits" : "does NOT fit", a.budget);
    }
    if (!info.fits && (a.po.split < 0 || a.budget_given)) { /* shown above; an error all the same: no file */
        quantmcu_plan_info c;
        quantmcu_plan_get_info(qp ? qp : p, &c);
        cli_fail("%s: %s %zu bytes, more than the %zu-byte SRAM budget; nothing written", a.model_path,
                 a.po.split < 0 ? "no plan fits: the lowest peak needs" : "the plan needs", c.arena_bytes, a.budget);
        goto done;
    }
    if (a.out_path) {
        if (quantmcu_plan_save(qp ? qp : p, a.out_path, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
        if (!a.json) printf("wrote %s\n", a.out_path);
    }
    rc = 0;
done:
    quantmcu_plan_free(qp);
    quantmcu_plan_free(p);
    quantmcu_free(m);
    return rc;
}
