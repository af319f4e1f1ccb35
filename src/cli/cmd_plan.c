/* quantmcu plan MODEL [--sram SIZE] [--input-in-sram yes|no] [--split K --grid RxC] [-o PLAN.json] [--json]
 *               [--calib DIR [--calib-count N] [--bits 8,4,2] [--lambda L] [--outlier-tiles F]
 *                [--bitops-target R] [--max-agreement-drop P]]
 * and the plan options every command shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../image/image.h"
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
    o->no_vdpc = 0;
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
    } else if (!strcmp(a, "--no-vdpc")) {
        o->no_vdpc = 1;
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
    qmcu_plan_spec spec = {0, 1, 1, 1, 0};
    qmcu_vdq *vdq = NULL;
    qmcu_error err;
    /* mode "plan" (codegen): whatever the plan file holds, QuantMCU when it has that section */
    const int quantmcu = !strcmp(o->mode, "quantmcu"), from_file = !strcmp(o->mode, "plan");
    spec.input_in_sram = o->input_in_sram;
    if (o->plan_path && o->split >= 0) {
        cli_fail("%s: give either --plan or --split/--grid, not both", cmd);
        return 0;
    }
    if ((o->split >= 0) != (o->grid_h > 0) && !(o->split == 0 && o->grid_h == 0)) {
        cli_fail("%s: --split and --grid go together", cmd);
        return 0;
    }
    if (quantmcu && !o->plan_path) {
        cli_fail("%s: --mode quantmcu needs --plan PLAN from 'quantmcu plan --calib DIR'", cmd);
        return 0;
    }
    if (from_file && !o->plan_path) {
        cli_fail("%s: needs --plan PLAN", cmd);
        return 0;
    }
    if (strcmp(o->mode, "layer") != 0) {
        if (o->plan_path) {
            if (qmcu_plan_read_spec(o->plan_path, cm->g, &spec, quantmcu || from_file ? &vdq : NULL, &err) != QMCU_OK) {
                cli_fail("%s", err.msg);
                return 0;
            }
            if (quantmcu && !vdq) {
                cli_fail("%s: plan has no QuantMCU section (make it with 'quantmcu plan --calib DIR')", o->plan_path);
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
        if (qmcu_plan_read_spec(o->plan_path, cm->g, &ignored, NULL, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            return 0;
        }
    }
    spec.quantmcu = vdq != NULL;
    qmcu_plan_free(cm->plan);
    cm->plan = NULL;
    if (qmcu_plan_build(cm->m, &spec, &cm->plan, &err) != QMCU_OK ||
        (vdq && qmcu_lowbit_prepare(cm->m, cm->plan, vdq, &err) != QMCU_OK)) {
        if (!cm->plan || cm->plan->vdq != vdq) qmcu_vdq_free(vdq);
        cli_fail("%s", err.msg);
        return 0;
    }
    if (o->no_vdpc && !quantmcu) {
        cli_fail("%s: --no-vdpc only applies to --mode quantmcu", cmd);
        return 0;
    }
    cm->plan->no_vdpc = o->no_vdpc;
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

typedef struct {
    const char *calib_dir;
    long calib_count;
    double lambda, outlier_tiles, bitops_target, max_agreement_drop;
    int cand[QMCU_MAX_CANDIDATES], n_cand;
} quantmcu_opts;

static int parse_bits(const char *s, quantmcu_opts *q)
{
    char *end;
    int seen[9] = {0};
    q->n_cand = 0;
    while (s && *s) {
        const long b = strtol(s, &end, 10);
        if (end == s || b < 2 || b > 8 || seen[b] || q->n_cand >= QMCU_MAX_CANDIDATES) return 0;
        seen[b] = 1;
        q->n_cand++;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    if (!seen[8]) return 0; /* the search starts at 8 */
    {
        int b, n = 0;
        for (b = 8; b >= 2; b--)
            if (seen[b]) q->cand[n++] = b;
    }
    return q->n_cand > 1;
}

/* Top-1 of the first output. */
static int top1(const qmcu_graph *g, const void *out, float *scores)
{
    int idx;
    const int n = cli_output_count(g);
    cli_output_scores(g, out, scores, n);
    cli_top_k(scores, n, 1, &idx);
    return idx;
}

/* Calibration images through patch (P) and QuantMCU (Q) plans: top-1 agreement and VDPC statistics. */
static int compare_on_calib(const cli_model *cm, const qmcu_plan *pp, const qmcu_plan *qp, uint8_t **inputs, int n,
                            double *agree_pct, qmcu_run_stats *stats)
{
    const qmcu_graph *g = cm->g;
    const size_t ob = g->tensors[g->outputs[0]].bytes;
    uint8_t *mp = (uint8_t *)calloc(pp->host_bytes, 1), *mq = (uint8_t *)calloc(qp->host_bytes, 1);
    void *o1 = malloc(ob), *o2 = malloc(ob);
    float *scores = (float *)malloc(sizeof(float) * (size_t)cli_output_count(g));
    int i, agree = 0, ok = mp && mq && o1 && o2 && scores;
    memset(stats, 0, sizeof *stats);
    for (i = 0; ok && i < n; i++) {
        qmcu_plan_set_input(cm->m, pp, mp, 0, inputs[i]);
        qmcu_plan_set_input(cm->m, qp, mq, 0, inputs[i]);
        ok = qmcu_plan_run(cm->m, pp, mp) == QMCU_OK && qmcu_plan_run_stats(cm->m, qp, mq, stats) == QMCU_OK;
        qmcu_plan_get_output(cm->m, pp, mp, 0, o1);
        qmcu_plan_get_output(cm->m, qp, mq, 0, o2);
        agree += top1(g, o1, scores) == top1(g, o2, scores);
    }
    *agree_pct = n ? 100.0 * agree / n : 0.0;
    free(mp);
    free(mq);
    free(o1);
    free(o2);
    free(scores);
    return ok;
}

/* Calibrates and searches on top of patch plan pp; returns the QuantMCU plan (or NULL). */
static qmcu_plan *make_quantmcu_plan(cli_model *cm, const qmcu_plan *pp, const quantmcu_opts *q)
{
    const qmcu_graph *g = cm->g;
    char **paths = NULL;
    uint8_t **inputs = NULL;
    int n_files = 0, n, i;
    qmcu_vdq *vdq = NULL;
    qmcu_plan *qp = NULL;
    qmcu_plan_spec spec = pp->spec;
    qmcu_error err;
    qmcu_run_stats stats;
    double agree = 0.0;
    if (pp->spec.split == 0) {
        cli_fail("%s: the plan has no patch stage, so QuantMCU has nothing to quantize (give --split/--grid or a smaller --sram)",
                 g->path);
        return NULL;
    }
    if (!cli_list_images(q->calib_dir, &paths, &n_files)) {
        cli_fail("%s: cannot read calibration folder", q->calib_dir);
        return NULL;
    }
    n = n_files < q->calib_count ? n_files : (int)q->calib_count;
    if (n == 0) {
        cli_fail("%s: no JPEG/PNG/BMP images for calibration", q->calib_dir);
        goto fail;
    }
    inputs = (uint8_t **)calloc((size_t)n, sizeof *inputs);
    vdq = qmcu_vdq_new(g->n_tensors);
    if (!inputs || !vdq) {
        cli_fail("out of memory");
        goto fail;
    }
    for (i = 0; i < n; i++) {
        inputs[i] = (uint8_t *)malloc(g->tensors[g->inputs[0]].bytes);
        if (!inputs[i] || qmcu_image_to_input(g, paths[i], inputs[i], &err) != QMCU_OK) {
            cli_fail("%s", inputs[i] ? err.msg : "out of memory");
            goto fail;
        }
    }
    vdq->lambda = q->lambda;
    vdq->bitops_target = q->bitops_target;
    vdq->max_agreement_drop = q->max_agreement_drop;
    memcpy(vdq->cand, q->cand, sizeof q->cand);
    vdq->n_cand = q->n_cand;
    if (qmcu_calibrate(cm->m, pp, (const uint8_t *const *)inputs, n, q->outlier_tiles, vdq, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        goto fail;
    }
    qmcu_vdqs_search(pp, vdq);
    spec.quantmcu = 1;
    if (qmcu_plan_build(cm->m, &spec, &qp, &err) != QMCU_OK || qmcu_lowbit_prepare(cm->m, qp, vdq, &err) != QMCU_OK) {
        if (!qp || qp->vdq != vdq) qmcu_vdq_free(vdq);
        vdq = NULL;
        cli_fail("%s", err.msg);
        goto fail;
    }
    for (;;) { /* agreement guard: undo the last steps until top-1 agreement >= 100 - P */
        if (!compare_on_calib(cm, pp, qp, inputs, n, &agree, &stats)) {
            cli_fail("%s: calibration run failed", g->path);
            goto fail;
        }
        if (q->max_agreement_drop <= 0.0 || agree >= 100.0 - q->max_agreement_drop || !qmcu_vdqs_undo_last(vdq)) break;
        if (qmcu_lowbit_prepare(cm->m, qp, vdq, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto fail;
        }
    }
    vdq->agreement_pct = agree;
    vdq->calib_outlier_fraction = stats.tiles ? (double)stats.outlier_tiles / (double)stats.tiles : 0.0;
    for (i = 0; i < n; i++) free(inputs[i]);
    free(inputs);
    cli_free_list(paths, n_files);
    return qp;
fail:
    if (qp) qmcu_plan_free(qp); /* owns vdq once prepared */
    else qmcu_vdq_free(vdq);
    for (i = 0; inputs && i < n; i++) free(inputs[i]);
    free(inputs);
    cli_free_list(paths, n_files);
    return NULL;
}

static void print_quantmcu(const qmcu_plan *qp, const qmcu_plan *pp)
{
    const qmcu_vdq *v = qp->vdq;
    const qmcu_graph *g = qp->g;
    const double b8 = (double)qp->patch_macs * 64.0, bq = qmcu_vdq_static_bitops(qp, v);
    int t, s, i, applied = 0;
    int64_t layer_macs = qp->macs - qp->patch_macs;
    printf("QuantMCU: calibrated on %d images (%.2f s), outlier tiles f = %g; VDQS lambda = %g, %d steps in %.3f ms\n",
           v->calib_images, v->calib_seconds, v->outlier_tiles, v->lambda, v->n_steps, v->search_seconds * 1e3);
    printf("  %4s %4s %-18s %5s %10s %10s %7s %7s %7s\n", "map", "op", "producer", "bits", "lo", "T", "H(8)", "H(4)", "H(2)");
    for (t = 0; t < v->n_tensors; t++) {
        if (!v->fmap[t].in_scope) continue;
        for (i = 0; i < g->n_ops && g->ops[i].out != t; i++) {
        }
        printf("  %4d %4d %-18s %5d %10.4f %10.4f %7.3f %7.3f %7.3f\n", t, i, qmcu_op_name(g->ops[i].type), v->fmap[t].bits,
               (double)v->fmap[t].lo, (double)v->fmap[t].hi, v->fmap[t].entropy[8], v->fmap[t].entropy[4], v->fmap[t].entropy[2]);
    }
    for (s = 0; s < v->n_steps; s++) applied += v->steps[s].applied;
    printf("  steps applied: %d of %d%s\n", applied, v->n_steps, applied < v->n_steps ? " (rest undone by --max-agreement-drop)" : "");
    printf("  patch-stage BitOPs (all tiles low-bit): %.4g vs %.4g all 8-bit: ratio %.2f; whole model %.2f\n", bq, b8,
           bq > 0 ? b8 / bq : 0.0, (b8 + (double)layer_macs * 64.0) / (bq + (double)layer_macs * 64.0));
    printf("  on the calibration images: top-1 agreement with patch mode %.2f %%, outlier tiles %.2f %%\n", v->agreement_pct,
           100.0 * v->calib_outlier_fraction);
    printf("  peak SRAM: %zu bytes (8-bit fallback buffers included; no in-place depthwise in the patch stage) vs %zu patch int8\n",
           qp->arena_bytes, pp->arena_bytes);
}

int cmd_plan(int argc, char **argv)
{
    const char *model_path = NULL, *out_path = NULL;
    size_t budget = DEFAULT_SRAM_BUDGET;
    int json = 0, i, rc = 1, quiet = 0, quantmcu_asked = 0;
    cli_plan_opts po;
    quantmcu_opts qo;
    qmcu_plan *qp = NULL;
    cli_model cm = {NULL, NULL, NULL};
    qmcu_search_stats stats = {0, 1, 0.0};
    qmcu_error err;
    cli_plan_opts_init(&po);
    memset(&qo, 0, sizeof qo);
    qo.calib_count = 32;
    qo.lambda = 0.5;
    qo.outlier_tiles = 0.2;
    qo.cand[0] = 8;
    qo.cand[1] = 4;
    qo.cand[2] = 2;
    qo.n_cand = 3;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const int taken = cli_plan_option("plan", argc, argv, &i, &po);
        char *end;
        const char *v;
        if (taken < 0) return 1;
        if (taken && (!strcmp(a, "--mode") || !strcmp(a, "--plan"))) return cli_fail("plan: option '%s' belongs to run/eval", a);
        if (taken) continue;
        if (!strcmp(a, "--calib")) {
            if (!(qo.calib_dir = cli_value(argc, argv, &i))) return cli_fail("plan: --calib needs an image folder");
        } else if (!strcmp(a, "--calib-count")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 1, 100000, &qo.calib_count)) return cli_fail("plan: --calib-count needs a positive number");
            quantmcu_asked = 1;
        } else if (!strcmp(a, "--bits")) {
            if (!parse_bits(cli_value(argc, argv, &i), &qo)) return cli_fail("plan: --bits needs a list of widths 2..8 that includes 8, e.g. 8,4,2");
            quantmcu_asked = 1;
        } else if (!strcmp(a, "--lambda") || !strcmp(a, "--outlier-tiles") || !strcmp(a, "--bitops-target") ||
                   !strcmp(a, "--max-agreement-drop")) {
            double d;
            v = cli_value(argc, argv, &i);
            d = v ? strtod(v, &end) : 0.0;
            if (!v || *end || end == v) return cli_fail("plan: %s needs a number", a);
            if (!strcmp(a, "--lambda")) {
                if (!(d >= 0.0 && d <= 1.0)) return cli_fail("plan: --lambda must be in [0, 1]");
                qo.lambda = d;
            } else if (!strcmp(a, "--outlier-tiles")) {
                if (!(d >= 0.0 && d < 1.0)) return cli_fail("plan: --outlier-tiles must be in [0, 1)");
                qo.outlier_tiles = d;
            } else if (!strcmp(a, "--bitops-target")) {
                if (!(d >= 1.0 && d <= 64.0)) return cli_fail("plan: --bitops-target must be a ratio in [1, 64]");
                qo.bitops_target = d;
            } else {
                if (!(d >= 0.0 && d <= 100.0)) return cli_fail("plan: --max-agreement-drop must be a percentage in [0, 100]");
                qo.max_agreement_drop = d;
            }
            quantmcu_asked = 1;
        } else if (!strcmp(a, "--sram")) {
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
    if (quantmcu_asked && !qo.calib_dir) return cli_fail("plan: the QuantMCU options need --calib DIR (calibration images)");
    if (!cli_load_model(model_path, &cm)) return 1;
    if (po.split >= 0) {
        po.mode = "patch";
        if (!cli_make_plan("plan", &cm, &po)) goto done;
        stats.fits = cm.plan->arena_bytes <= budget;
    } else {
        if (qmcu_plan_search(cm.m, budget, po.input_in_sram, &cm.plan, &stats, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
    }
    if (qo.calib_dir && !(qp = make_quantmcu_plan(&cm, cm.plan, &qo))) goto done;
    if (json) {
        qmcu_plan_write_json(qp ? qp : cm.plan, budget, stdout);
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
        if (qp) print_quantmcu(qp, cm.plan);
    }
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (!f) {
            cli_fail("%s: cannot write plan file", out_path);
            goto done;
        }
        qmcu_plan_write_json(qp ? qp : cm.plan, budget, f);
        if (fclose(f) != 0) {
            cli_fail("%s: cannot write plan file", out_path);
            goto done;
        }
        if (!json) printf("wrote %s\n", out_path);
    }
    rc = 0;
done:
    qmcu_plan_free(qp);
    cli_free_model(&cm);
    return rc;
}
