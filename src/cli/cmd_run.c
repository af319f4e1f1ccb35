/* quantmcu run MODEL IMAGE... [--mode layer|patch] [--plan PLAN | --split K --grid RxC] [--top K] [--labels FILE]
 *                              [--dump-input FILE] [--dump-output FILE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char **load_labels(const char *path, int *n)
{
    FILE *f = fopen(path, "r");
    char line[512], **labels = NULL;
    int cap = 0;
    *n = 0;
    if (!f) return NULL;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (*n == cap) {
            char **nl;
            cap = cap ? cap * 2 : 1024;
            nl = (char **)realloc(labels, sizeof(char *) * (size_t)cap);
            if (!nl) break;
            labels = nl;
        }
        labels[*n] = (char *)malloc(len + 1);
        if (!labels[*n]) break;
        memcpy(labels[*n], line, len + 1);
        ++*n;
    }
    fclose(f);
    return labels;
}

typedef struct {
    const char *model_path, *labels_path, *dump_in, *dump_out;
    long top;
    cli_plan_opts po;
} run_args;

/* Arguments of `run`: 0 = parsed, else the exit status (message printed). */
static int parse_run_args(int argc, char **argv, run_args *r, const char **images, int *n_images)
{
    int i;
    memset(r, 0, sizeof *r);
    r->top = 5;
    *n_images = 0;
    cli_plan_opts_init(&r->po);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const int taken = cli_plan_option("run", argc, argv, &i, &r->po);
        if (taken < 0) return 2;
        if (taken) continue;
        if (!strcmp(a, "--top")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 1, 1000, &r->top))
                return cli_usage("run: --top needs a number 1..1000");
        } else if (!strcmp(a, "--labels")) {
            if (!(r->labels_path = cli_value(argc, argv, &i))) return cli_usage("run: --labels needs a file");
        } else if (!strcmp(a, "--dump-input")) {
            if (!(r->dump_in = cli_value(argc, argv, &i))) return cli_usage("run: --dump-input needs a file");
        } else if (!strcmp(a, "--dump-output")) {
            if (!(r->dump_out = cli_value(argc, argv, &i))) return cli_usage("run: --dump-output needs a file");
        } else if (a[0] == '-' && a[1]) {
            return cli_usage("run: unknown option '%s'", a);
        } else if (!r->model_path) {
            r->model_path = a;
        } else {
            images[(*n_images)++] = a;
        }
    }
    if (!r->model_path || *n_images == 0)
        return cli_usage(
            "run: usage: quantmcu run MODEL IMAGE... [--mode layer|patch|quantmcu] [--plan PLAN | --split K "
            "--grid RxC] [--no-vdpc] [--top K] [--labels FILE] [--dump-input FILE] [--dump-output FILE]");
    return 0;
}

int cmd_run(int argc, char **argv)
{
    const char *model_path, *labels_path, *dump_in, *dump_out;
    run_args ra;
    cli_plan_opts po;
    const char **images = (const char **)calloc((size_t)argc + 1, sizeof(char *));
    int n_images = 0, i, rc = 1, n_labels = 0, n_out;
    long top;
    char **labels = NULL;
    quantmcu_model *m = NULL;
    quantmcu_plan *plan = NULL;
    qmcu_run_options ropt = {0, NULL, NULL};
    qmcu_error err;
    uint8_t *arena = NULL;
    void *input = NULL, *output = NULL;
    float *scores = NULL;
    int *idx = NULL;
    if (cli_help_asked("run", argc, argv)) {
        free(images);
        return 0;
    }
    if (!images) return cli_fail("out of memory");
    if ((rc = parse_run_args(argc, argv, &ra, images, &n_images)) != 0) {
        free(images);
        return rc;
    }
    rc = 1;
    model_path = ra.model_path;
    labels_path = ra.labels_path;
    dump_in = ra.dump_in;
    dump_out = ra.dump_out;
    top = ra.top;
    po = ra.po;
    if (labels_path && !(labels = load_labels(labels_path, &n_labels))) {
        cli_fail("%s: cannot read labels file", labels_path);
        goto done;
    }
    if (!(m = cli_load(model_path, po.input_range)) || !(plan = cli_make_plan("run", m, &po))) goto done;
    ropt.no_vdpc = po.no_vdpc;
    n_out = quantmcu_output_count(m);
    if (top > n_out) top = n_out;
    arena = (uint8_t *)calloc(quantmcu_plan_memory_bytes(plan) + 1, 1);
    input = calloc(quantmcu_input_bytes(m), 1);
    output = calloc(quantmcu_output_bytes(m), 1);
    scores = (float *)calloc((size_t)n_out, sizeof(float));
    idx = (int *)calloc((size_t)top, sizeof(int));
    if (!arena || !input || !output || !scores || !idx) {
        cli_fail("out of memory");
        goto done;
    }
    for (i = 0; i < n_images; i++) {
        double t0, ms;
        int j;
        if (quantmcu_image_to_input(m, images[i], input, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
        t0 = now_ms();
        if (quantmcu_run(m, plan, arena, input, output, &ropt, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
        ms = now_ms() - t0;
        quantmcu_scores(m, output, scores);
        quantmcu_top_k(scores, n_out, (int)top, idx);
        printf("%s (%.2f ms)\n", images[i], ms);
        for (j = 0; j < top; j++)
            printf("  %5d  %8.5f  %s\n", idx[j], scores[idx[j]], labels && idx[j] < n_labels ? labels[idx[j]] : "");
    }
    if (dump_in && !cli_write_file(dump_in, input, quantmcu_input_bytes(m))) {
        cli_fail("%s: cannot write input dump", dump_in);
        goto done;
    }
    if (dump_out && !cli_write_file(dump_out, output, quantmcu_output_bytes(m))) {
        cli_fail("%s: cannot write output dump", dump_out);
        goto done;
    }
    rc = 0;
done:
    for (i = 0; i < n_labels; i++) free(labels[i]);
    free(labels);
    free(arena);
    free(input);
    free(output);
    free(scores);
    free(idx);
    quantmcu_plan_free(plan);
    quantmcu_free(m);
    free(images);
    return rc;
}
