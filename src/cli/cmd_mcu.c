/* quantmcu codegen MODEL --plan PLAN -o DIR [--target host|cortex-m4|cortex-m7] [--board f746|h743|big]
 * quantmcu mcu MODEL --plan PLAN [--mode layer|patch|quantmcu] [--target cortex-m4|cortex-m7]
 *              [--board f746|h743|big] IMAGE... [--json] [--dump-output FILE] [--profile]
 * Parsing and printing; generation, the firmware build and QEMU runs are library calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

typedef struct {
    const char *model_path, *target, *board_name, *out_dir, *dump_out;
    int json, profile;
} mcu_opts;

/* mkdir -p */
static int make_dirs(const char *path)
{
    char tmp[1024];
    struct stat st;
    size_t i;
    if (strlen(path) >= sizeof tmp) return 0;
    strcpy(tmp, path);
    for (i = 1; tmp[i]; i++)
        if (tmp[i] == '/') {
            tmp[i] = 0;
            (void)mkdir(tmp, 0755);
            tmp[i] = '/';
        }
    (void)mkdir(tmp, 0755);
    return stat(tmp, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Per-op table of a --profile run (first image): what each op executes under the plan (MACs,
 * output and input elements, rows, calls: tiles and halo included) and its instructions, measured and as the
 * cost model predicts them. */
static void print_profile(const quantmcu_model *m, const quantmcu_plan *plan, const unsigned long long *op_insns)
{
    const qmcu_graph *g = quantmcu_graph(m);
    quantmcu_plan_info info;
    unsigned long long total = 0;
    double predicted = 0.0;
    int i;
    printf("per-op cost, first image (profiling adds ~60 instructions per op execution):\n%3s  %-18s %-6s %-9s %12s "
           "%10s %10s %7s %6s %14s %14s %9s\n",
           "#", "op", "stage", "kind", "MACs", "out elems", "in elems", "rows", "calls", "instructions", "predicted",
           "instr/MAC");
    quantmcu_plan_get_info(plan, &info);
    for (i = 0; i < g->n_ops; i++) {
        quantmcu_plan_op row;
        char ratio[32] = "";
        quantmcu_plan_get_op(plan, i, &row);
        total += op_insns[i];
        predicted += row.predicted_instructions;
        if (row.macs > 0) snprintf(ratio, sizeof ratio, "%.2f", (double)op_insns[i] / (double)row.macs);
        printf("%3d  %-18s %-6s %-9s %12lld %10lld %10lld %7lld %6lld %14llu %14.0f %9s\n", i,
               qmcu_op_name(g->ops[i].type), row.patch ? "patch" : "layer", row.cost_kind, (long long)row.macs,
               (long long)row.out_elems, (long long)row.in_elems, (long long)row.out_rows, (long long)row.calls, op_insns[i], row.predicted_instructions, ratio);
    }
    printf("sum over ops: %llu instructions (predicted %.0f)", total, predicted);
    if (info.split > 0) {
        unsigned long long patch = 0;
        for (i = 0; i < info.split; i++) patch += op_insns[i];
        printf("; patch stage (ops 0..%d): %llu", info.split - 1, patch);
    }
    printf("\n");
}

static int parse_common(const char *cmd, int argc, char **argv, int *i, mcu_opts *o)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--target")) {
        o->target = cli_value(argc, argv, i);
        if (!o->target ||
            (strcmp(o->target, "cortex-m4") && strcmp(o->target, "cortex-m7") && strcmp(o->target, "host") != 0))
            return cli_usage("%s: --target needs host, cortex-m4 or cortex-m7", cmd), -1;
        return 2;
    }
    if (!strcmp(a, "--board")) {
        o->board_name = cli_value(argc, argv, i);
        if (!o->board_name || !quantmcu_board_known(o->board_name))
            return cli_usage("%s: --board needs f746, h743 or big", cmd), -1;
        return 2;
    }
    return 0;
}

static void mcu_opts_init(mcu_opts *o, cli_plan_opts *po)
{
    memset(o, 0, sizeof *o);
    o->target = "cortex-m4";
    o->board_name = "f746";
    cli_plan_opts_init(po);
}

int cmd_codegen(int argc, char **argv)
{
    mcu_opts o;
    cli_plan_opts po;
    quantmcu_model *m = NULL;
    quantmcu_plan *p = NULL;
    const char *board;
    qmcu_error err;
    int i, rc = 1;
    mcu_opts_init(&o, &po);
    if (cli_help_asked("codegen", argc, argv)) return 0;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        int t = parse_common("codegen", argc, argv, &i, &o);
        if (t < 0) return 2;
        if (t) continue;
        if (!strcmp(a, "--plan")) {
            if (!(po.plan_path = cli_value(argc, argv, &i))) {
                cli_usage("codegen: --plan needs a plan file");
                return 2;
            }
        } else if (!strcmp(a, "-o")) {
            if (!(o.out_dir = cli_value(argc, argv, &i))) {
                cli_usage("codegen: -o needs a folder");
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            {
                cli_usage("codegen: unknown option '%s'", a);
                return 2;
            }
        } else if (!o.model_path) {
            o.model_path = a;
        } else {
            {
                cli_usage("codegen: unexpected argument '%s'", a);
                return 2;
            }
        }
    }
    if (!o.model_path || !po.plan_path || !o.out_dir) {
        cli_usage("codegen: usage: quantmcu codegen MODEL --plan PLAN -o DIR [--target host|cortex-m4|cortex-m7] "
                  "[--board f746|h743|big]");
        return 2;
    }
    if (!(m = cli_load(o.model_path, NULL))) return 1;
    po.mode = "plan";
    if (!(p = cli_make_plan("codegen", m, &po))) goto done;
    board = strcmp(o.target, "host") ? o.board_name : NULL;
    if (!make_dirs(o.out_dir)) {
        cli_fail("%s: cannot create folder", o.out_dir);
        goto done;
    }
    if (quantmcu_codegen(m, p, o.out_dir, board, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    {
        quantmcu_plan_info pi;
        quantmcu_plan_get_info(p, &pi);
        printf("wrote %s/qmcu_model.h, %s/qmcu_model_data.c%s (mode %s, arena %zu bytes, weights %zu bytes)\n",
               o.out_dir, o.out_dir, board ? " and board.ld" : "", pi.mode, pi.arena_bytes, quantmcu_weight_bytes(m));
    }
    rc = 0;
done:
    quantmcu_plan_free(p);
    quantmcu_free(m);
    return rc;
}

/* Arguments of `mcu`: 0 = parsed, else the exit status (message printed). */
static int parse_mcu_args(int argc, char **argv, mcu_opts *o, cli_plan_opts *po, const char **images, int *n_images)
{
    int i;
    mcu_opts_init(o, po);
    *n_images = 0;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        int t = parse_common("mcu", argc, argv, &i, o);
        if (t < 0) return 2;
        if (t) continue;
        t = cli_plan_option("mcu", argc, argv, &i, po);
        if (t < 0) return 2;
        if (t) continue;
        if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--profile")) {
            o->profile = 1;
        } else if (!strcmp(a, "--dump-output")) {
            if (!(o->dump_out = cli_value(argc, argv, &i))) return cli_usage("mcu: --dump-output needs a file");
        } else if (a[0] == '-' && a[1]) {
            return cli_usage("mcu: unknown option '%s'", a);
        } else if (!o->model_path) {
            o->model_path = a;
        } else {
            images[(*n_images)++] = a;
        }
    }
    if (!o->model_path || !*n_images)
        return cli_usage(
            "mcu: usage: quantmcu mcu MODEL [--plan PLAN] [--mode layer|patch|quantmcu] "
            "[--target cortex-m4|cortex-m7] [--board f746|h743|big] SAMPLE... [--json] [--dump-output FILE]");
    if (!strcmp(o->target, "host"))
        return cli_usage("mcu: --target host is for codegen; mcu runs cortex-m4 or cortex-m7 under QEMU");
    return 0;
}

/* What the runs measured, per image. */
typedef struct {
    unsigned long long *insns, *patch_insns, *op_insns; /* op_insns: first image | current */
    int *pred;
    size_t flash, arena;
} mcu_runs;

static void print_mcu_json(const mcu_opts *o, const char *mode, const quantmcu_plan *plan, const mcu_runs *r, int n)
{
    int i;
    printf("{\"model\":\"%s\",\"mode\":\"%s\",\"target\":\"%s\",\"board\":\"%s\",\"instructions\":[", o->model_path,
           mode, o->target, o->board_name);
    for (i = 0; i < n; i++) printf(i ? ",%llu" : "%llu", r->insns[i]);
    if (o->profile) {
        printf("],\"patch_stage_instructions\":[");
        for (i = 0; i < n; i++) printf(i ? ",%llu" : "%llu", r->patch_insns[i]);
    }
    printf("],\"arena_bytes\":%zu,\"planned_arena_bytes\":%zu,\"flash_bytes\":%zu,\"predictions\":[", r->arena,
           quantmcu_plan_memory_bytes(plan), r->flash);
    for (i = 0; i < n; i++) printf(i ? ",%d" : "%d", r->pred[i]);
    printf("]}\n");
}

/* Each image through the firmware: prediction and instructions (printed unless --json). */
static int run_images(const quantmcu_model *m, const quantmcu_plan *plan, const quantmcu_firmware *fw,
                      const mcu_opts *o, const char *const *images, int n, void *output, mcu_runs *r)
{
    const int n_out = quantmcu_output_count(m), n_ops = quantmcu_graph(m)->n_ops;
    void *input = malloc(quantmcu_input_bytes(m));
    float *scores = (float *)malloc(sizeof(float) * (size_t)n_out);
    qmcu_error err;
    cli_progress ps; /* on stderr when the per-image lines are not on a terminal (JSON, or stdout redirected) */
    const int show = n > 1 && (o->json || !isatty(fileno(stdout)));
    int i, k, ok = input && scores;
    if (!ok) cli_fail("out of memory");
    cli_progress_init(&ps, "mcu", "images", 2);
    if (show) cli_progress_update(0, n, &ps);
    for (i = 0; ok && i < n; i++) {
        unsigned long long *ops = r->op_insns + (i ? n_ops : 0);
        if (quantmcu_sample_to_input(m, images[i], input, &err) != QMCU_OK || /* an image, or a .npy / .bin tensor */
            quantmcu_mcu_run(fw, input, output, &r->insns[i], ops, &err) != QMCU_OK) {
            ok = !cli_fail("%s", err.msg);
            break;
        }
        for (k = 0; k < quantmcu_plan_exec(plan)->split; k++) r->patch_insns[i] += ops[k]; /* --profile */
        quantmcu_scores(m, output, scores);
        quantmcu_top_k(scores, n_out, 1, &r->pred[i]);
        if (!o->json)
            printf("%s: class %d (%.5f), %llu emulated instructions\n", images[i], r->pred[i], scores[r->pred[i]],
                   r->insns[i]);
        if (show) cli_progress_update(i + 1, n, &ps);
    }
    free(input);
    free(scores);
    return ok;
}

int cmd_mcu(int argc, char **argv)
{
    mcu_opts o;
    cli_plan_opts po;
    quantmcu_model *m = NULL;
    quantmcu_plan *plan = NULL;
    quantmcu_firmware *fw = NULL;
    quantmcu_mcu_options mo;
    qmcu_error err;
    mcu_runs r;
    const char **images = (const char **)calloc((size_t)argc + 1, sizeof(char *));
    void *output = NULL;
    int n_images = 0, rc = 1;
    memset(&r, 0, sizeof r);
    if (cli_help_asked("mcu", argc, argv)) {
        free(images);
        return 0;
    }
    if (!images) return cli_fail("out of memory");
    if ((rc = parse_mcu_args(argc, argv, &o, &po, images, &n_images)) != 0) goto done;
    rc = 1;
    if (!(m = cli_load(o.model_path, po.input_range)) || !(plan = cli_make_plan("mcu", m, &po))) goto done;
    memset(&mo, 0, sizeof mo);
    mo.target = o.target;
    mo.board = o.board_name;
    mo.profile = o.profile;
    if (quantmcu_mcu_build(m, plan, &mo, &fw, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    quantmcu_mcu_sizes(fw, &r.flash, &r.arena);
    output = malloc(quantmcu_outputs_bytes(m));
    r.insns = (unsigned long long *)calloc((size_t)n_images, sizeof *r.insns);
    r.patch_insns = (unsigned long long *)calloc((size_t)n_images, sizeof *r.patch_insns);
    r.op_insns = (unsigned long long *)calloc((size_t)quantmcu_graph(m)->n_ops * 2, sizeof *r.op_insns);
    r.pred = (int *)calloc((size_t)n_images, sizeof *r.pred);
    if (!output || !r.insns || !r.patch_insns || !r.op_insns || !r.pred) {
        cli_fail("out of memory");
        goto done;
    }
    if (!run_images(m, plan, fw, &o, images, n_images, output, &r)) goto done;
    if (o.json)
        print_mcu_json(&o, po.mode, plan, &r, n_images);
    else
        printf("%s on %s (%s, QEMU %s): arena %zu bytes (planner: %zu), flash %zu bytes; instructions are emulated, "
               "not cycles\n",
               po.mode, o.board_name, o.target, strcmp(o.target, "cortex-m7") ? "mps2-an386" : "mps2-an500", r.arena,
               quantmcu_plan_memory_bytes(plan), r.flash);
    if (o.profile && !o.json) print_profile(m, plan, r.op_insns);
    { /* the last image's outputs: FILE, FILE.1, ... (the firmware writes them one after the other) */
        size_t at = 0;
        int k;
        for (k = 0; o.dump_out && k < quantmcu_num_outputs(m); k++) {
            char name[1100];
            const size_t bytes = quantmcu_tensor_bytes(m, 1, k);
            cli_indexed_name(o.dump_out, k, name, sizeof name);
            if (!cli_write_file(name, (const uint8_t *)output + at, bytes)) {
                cli_fail("%s: cannot write output dump", name);
                goto done;
            }
            at += bytes;
        }
    }
    rc = 0;
done:
    free(images);
    free(output);
    free(r.insns);
    free(r.patch_insns);
    free(r.op_insns);
    free(r.pred);
    quantmcu_mcu_free(fw);
    quantmcu_plan_free(plan);
    quantmcu_free(m);
    return rc;
}
