/* quantmcu run MODEL (IMAGE... | --input FILE...) [--mode layer|patch|quantmcu] [--plan PLAN | --split K --grid RxC]
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

#define RUN_MAX_INPUTS QMCU_MAX_IO

typedef struct {
    const char *model_path, *labels_path, *dump_in, *dump_out;
    const char *inputs[RUN_MAX_INPUTS];
    int n_inputs;
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
        } else if (!strcmp(a, "--input")) {
            if (r->n_inputs == RUN_MAX_INPUTS || !(r->inputs[r->n_inputs++] = cli_value(argc, argv, &i)))
                return cli_usage("run: --input needs a file (raw bytes or .npy), once per model input (at most %d)",
                                 RUN_MAX_INPUTS);
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
    if (!r->model_path || (*n_images == 0) == (r->n_inputs == 0))
        return cli_usage("run: usage: quantmcu run MODEL (IMAGE... | --input FILE...) [--mode layer|patch|quantmcu] "
                         "[--plan PLAN | --split K --grid RxC] [--no-vdpc] [--top K] [--labels FILE] [--dump-input "
                         "FILE] [--dump-output FILE]");
    return 0;
}

/* FILE for tensor 0, FILE.k (before a .npy / .bin extension: out.1.npy) for tensor k. */
/* What the outputs say: classes (top K of a score vector), a class map (pixel histogram), or the
 * range of the values. */
static void print_outputs(const quantmcu_model *m, void *const *outputs, long top, char **labels, int n_labels)
{
    const qmcu_graph *g = quantmcu_graph(m);
    quantmcu_detection det[64];
    const int n_det = quantmcu_detections(m, outputs, det, 64);
    int k;
    if (n_det >= 0) { /* a detector: its boxes rather than its four raw outputs */
        printf("  %d detection%s%s\n", n_det, n_det == 1 ? "" : "s",
               n_det ? " (class, score, box ymin xmin ymax xmax):" : "");
        for (k = 0; k < n_det && k < top * 4; k++)
            printf("  %5d  %8.5f  [%.3f %.3f %.3f %.3f]  %s\n", det[k].cls, (double)det[k].score, (double)det[k].ymin,
                   (double)det[k].xmin, (double)det[k].ymax, (double)det[k].xmax,
                   labels && det[k].cls >= 0 && det[k].cls < n_labels ? labels[det[k].cls] : "");
        return;
    }
    for (k = 0; k < g->n_outputs; k++) {
        const qmcu_tensor *t = &g->tensors[g->outputs[k]];
        const int64_t n = qmcu_tensor_elems(t);
        float *v = (float *)malloc(sizeof(float) * (size_t)n);
        char desc[96];
        int64_t i;
        if (!v) return;
        quantmcu_output_values(m, k, outputs[k], v);
        quantmcu_tensor_describe(m, 1, k, desc, sizeof desc);
        if (t->type == QMCU_F32 && t->ndim == 4 && t->dims[0] == 1 && t->dims[1] == 1 && t->dims[3] == 3) {
            /* keypoints [1, 1, K, (y, x, score)] (MoveNet); COCO names for the usual 17 */
            static const char *const coco[17] = {
                "nose",           "left_eye",   "right_eye",   "left_ear",   "right_ear",   "left_shoulder",
                "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
                "right_hip",      "left_knee",  "right_knee",  "left_ankle", "right_ankle"};
            printf("  output %d (%s): %d keypoints (y, x, score):\n", k, desc, t->dims[2]);
            for (i = 0; i < t->dims[2]; i++)
                printf("  %5d  %6.3f %6.3f  %6.3f  %s\n", (int)i, (double)v[3 * i], (double)v[3 * i + 1],
                       (double)v[3 * i + 2], t->dims[2] == 17 ? coco[i] : "");
        } else if ((t->type == QMCU_I32 || t->type == QMCU_I64) && t->ndim >= 2 && n > 1) { /* a segmentation map */
            int counts[256] = {0}, c, shown = 0, other = 0;
            for (i = 0; i < n; i++) {
                if (v[i] >= 0.0f && v[i] < 256.0f)
                    counts[(int)v[i]]++;
                else
                    other++;
            }
            printf("  output %d (%s): class map, pixels per class:", k, desc);
            while (shown < top) {
                int best = -1;
                for (c = 0; c < 256; c++)
                    if (counts[c] > 0 && (best < 0 || counts[c] > counts[best])) best = c;
                if (best < 0) break;
                printf(" %d%s%s%s %.1f%%", best, labels && best < n_labels ? " (" : "",
                       labels && best < n_labels ? labels[best] : "", labels && best < n_labels ? ")" : "",
                       100.0 * counts[best] / (double)n);
                counts[best] = 0;
                shown++;
            }
            if (other) printf(" other %.1f%%", 100.0 * other / (double)n);
            putchar('\n');
        } else if (k == 0 && t->ndim <= 2 && n > 1) { /* class scores */
            int *idx = (int *)malloc(sizeof(int) * (size_t)(top < n ? top : n)), j;
            const int kk = (int)(top < n ? top : n);
            if (idx) {
                quantmcu_top_k(v, (int)n, kk, idx);
                for (j = 0; j < kk; j++)
                    printf("  %5d  %8.5f  %s\n", idx[j], v[idx[j]], labels && idx[j] < n_labels ? labels[idx[j]] : "");
            }
            free(idx);
        } else {
            float lo = v[0], hi = v[0];
            for (i = 1; i < n; i++) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
            printf("  output %d (%s): values %g .. %g\n", k, desc, (double)lo, (double)hi);
        }
        free(v);
    }
}

int cmd_run(int argc, char **argv)
{
    run_args ra;
    const char **images = (const char **)calloc((size_t)argc + 1, sizeof(char *));
    int n_images = 0, i, k, rc = 1, n_labels = 0, n_in = 0, n_out = 0, samples;
    char **labels = NULL;
    quantmcu_model *m = NULL;
    quantmcu_plan *plan = NULL;
    qmcu_run_options ropt = {0, NULL, NULL, NULL, NULL};
    qmcu_error err;
    uint8_t *arena = NULL;
    void *inputs[RUN_MAX_INPUTS] = {NULL}, *outputs[QMCU_MAX_IO] = {NULL};
    char name[1200];
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
    if (ra.labels_path && !(labels = load_labels(ra.labels_path, &n_labels))) {
        cli_fail("%s: cannot read labels file", ra.labels_path);
        goto done;
    }
    if (!(m = cli_load(ra.model_path, ra.po.input_range)) || !(plan = cli_make_plan("run", m, &ra.po))) goto done;
    n_in = quantmcu_num_inputs(m);
    n_out = quantmcu_num_outputs(m);
    if (ra.n_inputs && ra.n_inputs != n_in) {
        rc = cli_usage("run: %s has %d input%s: give --input %d time%s", ra.model_path, n_in, n_in > 1 ? "s" : "", n_in,
                       n_in > 1 ? "s" : "");
        goto done;
    }
    ropt.no_vdpc = ra.po.no_vdpc;
    arena = (uint8_t *)calloc(quantmcu_plan_memory_bytes(plan) + 1, 1);
    for (k = 0; k < n_in; k++) inputs[k] = calloc(quantmcu_tensor_bytes(m, 0, k) + 1, 1);
    for (k = 0; k < n_out; k++) outputs[k] = calloc(quantmcu_tensor_bytes(m, 1, k) + 1, 1);
    for (k = 0, i = arena != NULL; k < n_in || k < n_out; k++)
        i = i && (k >= n_in || inputs[k]) && (k >= n_out || outputs[k]);
    if (!i) {
        cli_fail("out of memory");
        goto done;
    }
    samples = ra.n_inputs ? 1 : n_images;
    for (i = 0; i < samples; i++) {
        double t0, ms;
        for (k = 0; k < ra.n_inputs; k++)
            if (quantmcu_load_input(m, k, ra.inputs[k], inputs[k], &err) != QMCU_OK) {
                cli_fail("%s", err.msg);
                goto done;
            }
        if (!ra.n_inputs && quantmcu_image_to_input(m, images[i], inputs[0], &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
        t0 = now_ms();
        if (quantmcu_run_all(m, plan, arena, (const void *const *)inputs, outputs, &ropt, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
        ms = now_ms() - t0;
        printf("%s (%.2f ms)\n", ra.n_inputs ? ra.inputs[0] : images[i], ms);
        print_outputs(m, outputs, ra.top, labels, n_labels);
    }
    for (k = 0; ra.dump_in && k < n_in; k++) { /* the last sample's inputs: FILE, FILE.1, ... */
        cli_indexed_name(ra.dump_in, k, name, sizeof name);
        if (!cli_write_file(name, inputs[k], quantmcu_tensor_bytes(m, 0, k))) {
            cli_fail("%s: cannot write input dump", name);
            goto done;
        }
    }
    for (k = 0; ra.dump_out && k < n_out; k++) { /* every output: FILE, FILE.1 (out.1.npy), ... */
        cli_indexed_name(ra.dump_out, k, name, sizeof name);
        if (quantmcu_save_output(m, k, outputs[k], name, &err) != QMCU_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
    }
    rc = 0;
done:
    for (i = 0; i < n_labels; i++) free(labels[i]);
    free(labels);
    free(arena);
    for (k = 0; k < RUN_MAX_INPUTS; k++) free(inputs[k]);
    for (k = 0; k < QMCU_MAX_IO; k++) free(outputs[k]);
    quantmcu_plan_free(plan);
    quantmcu_free(m);
    free(images);
    return rc;
}
