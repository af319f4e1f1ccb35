/* Differential test against TensorFlow Lite 2.9's C library (the oracle, DESIGN.md section 6):
 * for each image, the same input bytes (our preprocessing) go through quantmcu and through
 * TFLite; the output bytes must be identical (quantized models). Float models report
 * the largest absolute difference and whether top-1 agrees.
 *
 * usage: tflite_diff MODEL_FILE N   (MODEL_FILE under $QUANTMCU_DATA/models or a path with '/'; images from
 * $QUANTMCU_DATA/imagenet-dev, the first N in sorted order) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantmcu/quantmcu.h"
#include "tensorflow/lite/c/c_api.h"
#include "test_util.h"

int main(int argc, char **argv)
{
    char **paths = NULL;
    int n_paths = 0, n = 0, i, mismatches = 0, top1_disagree = 0, varied = 0;
    long limit;
    quantmcu_model *m;
    quantmcu_plan *plan;
    quantmcu_plan_options po;
    const qmcu_graph *g;
    qmcu_error err;
    TfLiteModel *tm;
    TfLiteInterpreterOptions *opt;
    TfLiteInterpreter *ti;
    uint8_t *arena, *input, *ours, *theirs, *first;
    size_t in_bytes, out_bytes;
    double max_diff = 0.0;
    int is_float;
    char model_path[1400], image_dir[1100];
    const char *data;
    if (argc < 3 || (limit = strtol(argv[2], NULL, 10)) < 1) {
        fprintf(stderr, "usage: tflite_diff MODEL_FILE N\n");
        return 2;
    }
    data = test_data_dir();
    if (strchr(argv[1], '/')) /* a path (generated models), else a file under the shared models */
        snprintf(model_path, sizeof model_path, "%.1300s", argv[1]);
    else
        snprintf(model_path, sizeof model_path, "%s/models/%.200s", data, argv[1]);
    snprintf(image_dir, sizeof image_dir, "%s/imagenet-dev", data);
    quantmcu_plan_options_default(&po);
    po.split = 0; /* layer by layer */
    if (quantmcu_load(model_path, &m, &err) != QMCU_OK || quantmcu_plan_make(m, &po, &plan, NULL, &err) != QMCU_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    g = quantmcu_graph(m);
    if (quantmcu_list_images(image_dir, &paths, &n_paths, &err) != QMCU_OK || n_paths == 0) {
        fprintf(stderr, "%s: no images\n", image_dir);
        return 1;
    }
    n = n_paths < limit ? n_paths : (int)limit;
    tm = TfLiteModelCreateFromFile(model_path);
    opt = TfLiteInterpreterOptionsCreate();
    TfLiteInterpreterOptionsSetNumThreads(opt, 1);
    ti = tm ? TfLiteInterpreterCreate(tm, opt) : NULL;
    if (!ti || TfLiteInterpreterAllocateTensors(ti) != kTfLiteOk) {
        fprintf(stderr, "%s: TFLite cannot load the model\n", model_path);
        return 1;
    }
    in_bytes = g->tensors[g->inputs[0]].bytes;
    out_bytes = g->tensors[g->outputs[0]].bytes;
    /* a float model (no 8-bit tensor anywhere) is compared with a tolerance; every other
     * model, including int8 models with float input/output, must match byte for byte */
    is_float = 1;
    for (i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].type == QMCU_I8) is_float = 0;
    if (TfLiteTensorByteSize(TfLiteInterpreterGetInputTensor(ti, 0)) != in_bytes ||
        TfLiteTensorByteSize(TfLiteInterpreterGetOutputTensor(ti, 0)) != out_bytes) {
        fprintf(stderr, "%s: tensor sizes differ between quantmcu and TFLite\n", model_path);
        return 1;
    }
    arena = (uint8_t *)calloc(quantmcu_plan_memory_bytes(plan), 1);
    input = (uint8_t *)malloc(in_bytes);
    ours = (uint8_t *)malloc(out_bytes);
    theirs = (uint8_t *)malloc(out_bytes);
    first = (uint8_t *)malloc(out_bytes);
    for (i = 0; i < n; i++) {
        if (quantmcu_run_image(m, plan, arena, paths[i], input, ours, NULL, &err) != QMCU_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        TfLiteTensorCopyFromBuffer(TfLiteInterpreterGetInputTensor(ti, 0), input, in_bytes);
        if (TfLiteInterpreterInvoke(ti) != kTfLiteOk) {
            fprintf(stderr, "TFLite invoke failed\n");
            return 1;
        }
        TfLiteTensorCopyToBuffer(TfLiteInterpreterGetOutputTensor(ti, 0), theirs, out_bytes);
        if (i == 0) memcpy(first, ours, out_bytes);
        varied += memcmp(first, ours, out_bytes) != 0;
        if (is_float) {
            const float *a = (const float *)ours, *b = (const float *)theirs;
            size_t k, na = out_bytes / 4, ia = 0, ib = 0;
            for (k = 0; k < na; k++) {
                double d = fabs((double)a[k] - (double)b[k]);
                if (d > max_diff) max_diff = d;
                if (a[k] > a[ia]) ia = k;
                if (b[k] > b[ib]) ib = k;
            }
            if (ia != ib) top1_disagree++;
        } else if (memcmp(ours, theirs, out_bytes) != 0) {
            size_t k, first = 0, cnt = 0;
            for (k = 0; k < out_bytes; k++)
                if (ours[k] != theirs[k]) {
                    if (!cnt) first = k;
                    cnt++;
                }
            fprintf(stderr, "MISMATCH %s: %zu of %zu bytes differ (first at %zu: ours %d, TFLite %d)\n", paths[i], cnt,
                    out_bytes, first, ours[first], theirs[first]);
            mismatches++;
        }
    }
    if (is_float) {
        printf("%s: %d images, float model: max |diff| %.3g, top-1 disagreements %d\n", model_path, n, max_diff,
               top1_disagree);
        if (!(max_diff < 1e-3) || top1_disagree) mismatches = 1;
    } else {
        printf("%s: %d images, %d bit-exact, %d mismatched\n", model_path, n, n - mismatches, mismatches);
    }
    if (n >= 4 && varied == 0) { /* a comparison of constant outputs would prove little */
        printf("%s: every image gave the same output: the comparison is not informative\n", model_path);
        mismatches++;
    }
    free(arena);
    free(input);
    free(ours);
    free(theirs);
    free(first);
    TfLiteInterpreterDelete(ti);
    TfLiteInterpreterOptionsDelete(opt);
    TfLiteModelDelete(tm);
    quantmcu_free_list(paths, n_paths);
    quantmcu_plan_free(plan);
    quantmcu_free(m);
    return mismatches ? 1 : 0;
}
