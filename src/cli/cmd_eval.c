/* quantmcu eval MODEL --images DIR [--limit N] [--mode layer|patch] [--plan PLAN | --split K --grid RxC]
 *               [--threads N] [--json]
 * Labels come from the leading integer of each file name (ImageNet class index);
 * a 1001-output model's index 0 is background, so its expected output is index + 1. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

typedef struct {
    const cli_model *cm;
    char **paths;
    int n, n_threads, thread;
    int label_offset;
    int *top1, *top5; /* per image: 1 = hit */
    double *ms;
    int failed;
    pthread_mutex_t *progress_lock;
    int *done;
    qmcu_run_stats stats; /* this worker's */
} eval_job;

static int label_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (base[0] < '0' || base[0] > '9') return -1;
    return atoi(base);
}

static void *eval_worker(void *arg)
{
    eval_job *j = (eval_job *)arg;
    const qmcu_graph *g = j->cm->g;
    const int n_out = cli_output_count(g);
    uint8_t *arena = (uint8_t *)calloc(j->cm->plan->host_bytes ? j->cm->plan->host_bytes : 1, 1);
    void *input = calloc(g->tensors[g->inputs[0]].bytes, 1), *output = calloc(g->tensors[g->outputs[0]].bytes, 1);
    float *scores = (float *)calloc((size_t)n_out, sizeof(float));
    int i, idx[5], k;
    if (!arena || !input || !output || !scores) {
        j->failed = 1;
        goto out;
    }
    for (i = j->thread; i < j->n; i += j->n_threads) {
        const int label = label_of(j->paths[i]) + j->label_offset;
        if (!cli_infer_image(j->cm, arena, j->paths[i], input, output, &j->ms[i], &j->stats)) {
            j->failed = 1;
            break;
        }
        cli_output_scores(g, output, scores, n_out);
        cli_top_k(scores, n_out, n_out < 5 ? n_out : 5, idx);
        j->top1[i] = idx[0] == label;
        for (k = 0; k < (n_out < 5 ? n_out : 5); k++)
            if (idx[k] == label) j->top5[i] = 1;
        pthread_mutex_lock(j->progress_lock);
        ++*j->done;
        if (*j->done % 25 == 0 || *j->done == j->n) fprintf(stderr, "eval: %d/%d images\r%s", *j->done, j->n, *j->done == j->n ? "\n" : "");
        pthread_mutex_unlock(j->progress_lock);
    }
out:
    free(arena);
    free(input);
    free(output);
    free(scores);
    return NULL;
}

int cmd_eval(int argc, char **argv)
{
    const char *model_path = NULL, *dir = NULL;
    cli_plan_opts po;
    long limit = -1, threads = 1, skip = 0;
    int json = 0, i, n = 0, rc = 1, n_out, t, done = 0;
    char **paths = NULL;
    cli_model cm = {NULL, NULL, NULL};
    int *top1 = NULL, *top5 = NULL;
    double *ms = NULL, wall0, wall1, ms_sum = 0;
    int64_t macs = 0;
    eval_job jobs[64];
    pthread_t tids[64];
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct timespec ts;

    cli_plan_opts_init(&po);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const int taken = cli_plan_option("eval", argc, argv, &i, &po);
        if (taken < 0) return 1;
        if (taken) continue;
        if (!strcmp(a, "--images")) {
            if (!(dir = cli_value(argc, argv, &i))) return cli_fail("eval: --images needs a folder");
        } else if (!strcmp(a, "--limit")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 1, 100000000, &limit)) return cli_fail("eval: --limit needs a positive number");
        } else if (!strcmp(a, "--skip")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 0, 100000000, &skip)) return cli_fail("eval: --skip needs a number >= 0");
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), 1, 64, &threads)) return cli_fail("eval: --threads needs a number 1..64");
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1]) {
            return cli_fail("eval: unknown option '%s'", a);
        } else if (!model_path) {
            model_path = a;
        } else {
            return cli_fail("eval: unexpected argument '%s'", a);
        }
    }
    if (!model_path || !dir)
        return cli_fail("eval: usage: quantmcu eval MODEL --images DIR [--skip N] [--limit N] [--mode layer|patch|quantmcu] [--plan PLAN | --split K --grid RxC] [--no-vdpc] [--threads N] [--json]");
    if (!cli_list_images(dir, &paths, &n)) return cli_fail("%s: cannot read image folder", dir);
    if (n == 0) {
        cli_free_list(paths, n);
        return cli_fail("%s: no JPEG/PNG/BMP images in folder", dir);
    }
    if (skip > 0) { /* e.g. the calibration images: --skip 32 */
        const int k = skip < n ? (int)skip : n;
        for (i = 0; i < k; i++) free(paths[i]);
        memmove(paths, paths + k, sizeof(char *) * (size_t)(n - k));
        n -= k;
        if (n == 0) {
            cli_free_list(paths, n);
            return cli_fail("%s: no images left after --skip %ld", dir, skip);
        }
    }
    if (limit > 0 && limit < n) {
        for (i = (int)limit; i < n; i++) free(paths[i]);
        n = (int)limit;
    }
    for (i = 0; i < n; i++)
        if (label_of(paths[i]) < 0) {
            cli_fail("%s: file name does not start with a class index", paths[i]);
            goto done;
        }
    if (!cli_load_model(model_path, &cm) || !cli_make_plan("eval", &cm, &po)) goto done;
    n_out = cli_output_count(cm.g);
    for (i = 0; i < n; i++)
        if (label_of(paths[i]) + (n_out == 1001 ? 1 : 0) >= n_out) {
            cli_fail("%s: class index %d is beyond the model's %d outputs", paths[i], label_of(paths[i]), n_out);
            goto done;
        }
    top1 = (int *)calloc((size_t)n, sizeof(int));
    top5 = (int *)calloc((size_t)n, sizeof(int));
    ms = (double *)calloc((size_t)n, sizeof(double));
    if (!top1 || !top5 || !ms) {
        cli_fail("out of memory");
        goto done;
    }
    if (threads > n) threads = n;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    wall0 = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    for (t = 0; t < threads; t++) {
        eval_job *j = &jobs[t];
        j->cm = &cm;
        j->paths = paths;
        j->n = n;
        j->n_threads = (int)threads;
        j->thread = t;
        j->label_offset = n_out == 1001 ? 1 : 0;
        j->top1 = top1;
        j->top5 = top5;
        j->ms = ms;
        j->failed = 0;
        j->progress_lock = &lock;
        j->done = &done;
        memset(&j->stats, 0, sizeof j->stats);
        if (threads == 1)
            eval_worker(j);
        else if (pthread_create(&tids[t], NULL, eval_worker, j) != 0) {
            cli_fail("eval: cannot start thread");
            goto done;
        }
    }
    if (threads > 1)
        for (t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    wall1 = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    for (t = 0; t < threads; t++)
        if (jobs[t].failed) goto done;
    {
        int h1 = 0, h5 = 0;
        for (i = 0; i < n; i++) {
            h1 += top1[i];
            h5 += top5[i];
            ms_sum += ms[i];
        }
        const qmcu_plan *p = cm.plan;
        qmcu_run_stats total = {0, 0, 0};
        /* BitOPs = MACs x weight bits x input activation bits: 8 x 8 outside the QuantMCU patch
         * stage (32 x 32 for a float model); the patch stage as the tiles really ran (per image) */
        const int fbits = cm.g->tensors[cm.g->inputs[0]].type == QMCU_F32 && cm.g->tensors[cm.g->outputs[0]].type == QMCU_F32 ? 32 : 8;
        double patch_bitops, patch_bitops8, layer_bitops;
        for (t = 0; t < threads; t++) {
            total.patch_bitops += jobs[t].stats.patch_bitops;
            total.tiles += jobs[t].stats.tiles;
            total.outlier_tiles += jobs[t].stats.outlier_tiles;
        }
        macs = p->macs;
        patch_bitops8 = (double)p->patch_macs * fbits * fbits;
        patch_bitops = p->lowbit ? (double)total.patch_bitops / n : patch_bitops8;
        layer_bitops = (double)(p->macs - p->patch_macs) * fbits * fbits;
        if (json) {
            printf("{\"model\":\"%s\",\"mode\":\"%s\",\"images\":%d,\"top1_pct\":%.2f,\"top5_pct\":%.2f,\"macs\":%lld,"
                   "\"bitops\":%.0f,\"patch_bitops\":%.0f,\"patch_bitops_int8\":%.0f,\"patch_bitops_ratio\":%.4f,"
                   "\"bitops_ratio\":%.4f,\"peak_sram_bytes\":%zu,\"arena_bytes\":%zu,"
                   "\"input_bytes\":%zu,\"input_in_sram\":%s,\"split\":%d,\"grid\":[%d,%d],\"redundant_macs\":%lld,"
                   "\"outlier_tile_fraction\":%.4f,\"ms_per_image\":%.3f,\"wall_ms_per_image\":%.3f,\"threads\":%ld}\n",
                   model_path, po.mode, n, 100.0 * h1 / n, 100.0 * h5 / n, (long long)macs, patch_bitops + layer_bitops, patch_bitops,
                   patch_bitops8, patch_bitops > 0 ? patch_bitops8 / patch_bitops : 0.0,
                   (patch_bitops8 + layer_bitops) / (patch_bitops + layer_bitops), p->arena_bytes, p->arena_bytes,
                   p->input_bytes, p->spec.input_in_sram ? "true" : "false", p->spec.split, p->spec.grid_h, p->spec.grid_w,
                   (long long)(p->patch_macs - p->patch_layer_macs), total.tiles ? (double)total.outlier_tiles / total.tiles : 0.0,
                   ms_sum / n, (wall1 - wall0) / n, threads);
        } else {
            printf("model %s, mode %s, %d images: top-1 %.2f %%, top-5 %.2f %%\n", model_path, po.mode, n, 100.0 * h1 / n,
                   100.0 * h5 / n);
            printf("MACs %lld, peak SRAM %zu bytes, inference %.2f ms/image (%ld thread%s, wall %.2f ms/image incl. decoding)\n",
                   (long long)macs, p->arena_bytes, ms_sum / n, threads, threads > 1 ? "s" : "", (wall1 - wall0) / n);
            if (p->lowbit)
                printf("patch-stage BitOPs %.4g vs %.4g all 8-bit (ratio %.2f), whole model ratio %.2f, outlier tiles %.2f %%\n",
                       patch_bitops, patch_bitops8, patch_bitops8 / patch_bitops,
                       (patch_bitops8 + layer_bitops) / (patch_bitops + layer_bitops),
                       total.tiles ? 100.0 * (double)total.outlier_tiles / total.tiles : 0.0);
        }
    }
    rc = 0;
done:
    free(top1);
    free(top5);
    free(ms);
    if (cm.g) cli_free_model(&cm);
    cli_free_list(paths, n);
    return rc;
}
