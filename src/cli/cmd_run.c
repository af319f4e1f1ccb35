/* quantmcu run MODEL IMAGE... [--mode layer|patch] [--plan PLAN | --split K --grid RxC] [--top K] [--labels FILE]
 *                              [--dump-input FILE] [--dump-output FILE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../image/image.h"
#include "cli.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int cli_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        if (f) fclose(f);
        return 0;
    }
    return fclose(f) == 0;
}

int cli_infer_image(const cli_model *cm, uint8_t *mem, const char *image, void *input, void *output, double *ms,
                    qmcu_run_stats *stats)
{
    qmcu_error err;
    qmcu_status st;
    double t0;
    if (qmcu_image_to_input(cm->g, image, input, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        return 0;
    }
    t0 = now_ms();
    qmcu_plan_set_input(cm->m, cm->plan, mem, 0, input);
    st = qmcu_plan_run_stats(cm->m, cm->plan, mem, stats);
    if (st != QMCU_OK) {
        cli_fail("%s: inference failed (%s)", cm->g->path, qmcu_status_name(st));
        return 0;
    }
    qmcu_plan_get_output(cm->m, cm->plan, mem, 0, output);
    if (ms) *ms = now_ms() - t0;
    return 1;
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

int cmd_run(int argc, char **argv)
{
    const char *model_path = NULL, *labels_path = NULL, *dump_in = NULL, *dump_out = NULL;
    cli_plan_opts po;
    const char **images = (const char **)calloc((size_t)argc + 1, sizeof(char *));
    int n_images = 0, i, rc = 1, n_labels = 0, n_out;
    long top = 5;
    char **labels = NULL;
    cli_model cm = {NULL, NULL, NULL};
    uint8_t *arena = NULL;
    void *input = NULL, *output = NULL;
    float *scores = NULL;
    int *idx = NULL;

    if (!images) return cli_fail("out of memory");
    cli_plan_opts_init(&po);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const int taken = cli_plan_option("run", argc, argv, &i, &po);
        if (taken < 0) goto done;
        if (taken) continue;
        if (!strcmp(a, "--top")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 1, 1000, &top)) { cli_fail("run: --top needs a number 1..1000"); goto done; }
        } else if (!strcmp(a, "--labels")) {
            if (!(labels_path = cli_value(argc, argv, &i))) { cli_fail("run: --labels needs a file"); goto done; }
        } else if (!strcmp(a, "--dump-input")) {
            if (!(dump_in = cli_value(argc, argv, &i))) { cli_fail("run: --dump-input needs a file"); goto done; }
        } else if (!strcmp(a, "--dump-output")) {
            if (!(dump_out = cli_value(argc, argv, &i))) { cli_fail("run: --dump-output needs a file"); goto done; }
        } else if (a[0] == '-' && a[1]) {
            cli_fail("run: unknown option '%s'", a);
            goto done;
        } else if (!model_path) {
            model_path = a;
        } else {
            images[n_images++] = a;
        }
    }
    if (!model_path || n_images == 0) { cli_fail("run: usage: quantmcu run MODEL IMAGE... [--mode layer|patch] [--plan PLAN | --split K --grid RxC] [--top K] [--labels FILE] [--dump-input FILE] [--dump-output FILE]"); goto done; }
    if (labels_path && !(labels = load_labels(labels_path, &n_labels))) { cli_fail("%s: cannot read labels file", labels_path); goto done; }
    if (!cli_load_model(model_path, &cm) || !cli_make_plan("run", &cm, &po)) goto done;
    n_out = cli_output_count(cm.g);
    if (top > n_out) top = n_out;
    arena = (uint8_t *)calloc(cm.plan->host_bytes ? cm.plan->host_bytes : 1, 1);
    input = calloc(cm.g->tensors[cm.g->inputs[0]].bytes, 1);
    output = calloc(cm.g->tensors[cm.g->outputs[0]].bytes, 1);
    scores = (float *)calloc((size_t)n_out, sizeof(float));
    idx = (int *)calloc((size_t)top, sizeof(int));
    if (!arena || !input || !output || !scores || !idx) { cli_fail("out of memory"); goto done; }
    for (i = 0; i < n_images; i++) {
        double ms;
        int j;
        if (!cli_infer_image(&cm, arena, images[i], input, output, &ms, NULL)) goto done;
        cli_output_scores(cm.g, output, scores, n_out);
        cli_top_k(scores, n_out, (int)top, idx);
        printf("%s (%.2f ms)\n", images[i], ms);
        for (j = 0; j < top; j++)
            printf("  %5d  %8.5f  %s\n", idx[j], scores[idx[j]], labels && idx[j] < n_labels ? labels[idx[j]] : "");
    }
    if (dump_in && !cli_write_file(dump_in, input, cm.g->tensors[cm.g->inputs[0]].bytes)) { cli_fail("%s: cannot write input dump", dump_in); goto done; }
    if (dump_out && !cli_write_file(dump_out, output, cm.g->tensors[cm.g->outputs[0]].bytes)) { cli_fail("%s: cannot write output dump", dump_out); goto done; }
    rc = 0;
done:
    for (i = 0; i < n_labels; i++) free(labels[i]);
    free(labels);
    free(arena);
    free(input);
    free(output);
    free(scores);
    free(idx);
    if (cm.g) cli_free_model(&cm);
    free(images);
    return rc;
}
