/* Differential test against TensorFlow Lite 2.9's C library (the oracle, DESIGN.md section 6):
 * for each image, the same input bytes (our preprocessing) go through quantmcu and through
 * TFLite; the output bytes must be identical (quantized models). Float models report
 * the largest absolute difference and whether top-1 agrees.
 *
 * usage: tflite_diff MODEL_FILE N   (MODEL_FILE under $QUANTMCU_DATA/models or a path with '/'; images from
 * $QUANTMCU_DATA/imagenet-dev, the first N in sorted order)
 *        tflite_diff --random MODEL_FILE N [SRAM_BYTES]   any model: N random inputs (every input
 * tensor), every output compared; with SRAM_BYTES also the plan searched for that budget: when it
 * patches, its outputs must equal layer mode's. One summary line (the model sweep parses it).
 *        tflite_diff --tflite-runs MODEL_FILE   whether TFLite itself loads and runs the model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planning/plan.h"
#include "quantmcu/quantmcu.h"
#include "tensorflow/lite/c/c_api.h"
#include "test_util.h"

/* Random bytes in the tensor's format: 8-bit any code, float in [-1, 1], integers 0..9. */
static void fill_random(const qmcu_tensor *t, void *dst)
{
    const int64_t n = qmcu_tensor_elems(t);
    int64_t i;
    for (i = 0; i < n; i++) {
        if (t->type == QMCU_I8)
            ((uint8_t *)dst)[i] = (uint8_t)rnd();
        else if (t->type == QMCU_F32)
            ((float *)dst)[i] = (float)(rnd() % 20001) / 10000.0f - 1.0f;
        else if (t->type == QMCU_I32)
            ((int32_t *)dst)[i] = (int32_t)(rnd() % 10);
        else
            ((int64_t *)dst)[i] = (int64_t)(rnd() % 10);
    }
}

/* In TFLite's C API (c_api_experimental.h), not in the headers the package ships. */
TfLiteStatus TfLiteInterpreterResetVariableTensors(TfLiteInterpreter *interpreter);

/* One inference from zero states: TFLite keeps variable tensors (LSTM states) across invocations,
 * quantmcu starts every run from zero, so each comparison starts TFLite from zero too. */
static TfLiteStatus invoke(TfLiteInterpreter *ti)
{
    if (TfLiteInterpreterResetVariableTensors(ti) != kTfLiteOk) return kTfLiteError;
    return TfLiteInterpreterInvoke(ti);
}

/* TFLite 2.9 on one model, one thread. */
typedef struct {
    TfLiteModel *tm;
    TfLiteInterpreterOptions *opt;
    TfLiteInterpreter *ti;
} oracle;

/* 1 = loaded and tensors allocated; 0 = cannot load (o->ti NULL) or allocate (o->ti set). */
static int oracle_open(oracle *o, const char *model_path)
{
    o->tm = TfLiteModelCreateFromFile(model_path);
    o->opt = TfLiteInterpreterOptionsCreate();
    TfLiteInterpreterOptionsSetNumThreads(o->opt, 1);
    o->ti = o->tm ? TfLiteInterpreterCreate(o->tm, o->opt) : NULL;
    return o->ti && TfLiteInterpreterAllocateTensors(o->ti) == kTfLiteOk;
}

static void oracle_close(oracle *o)
{
    if (o->ti) TfLiteInterpreterDelete(o->ti);
    TfLiteInterpreterOptionsDelete(o->opt);
    if (o->tm) TfLiteModelDelete(o->tm);
}

/* The model and its layer-by-layer plan. */
static qmcu_status load_layer(const char *model_path, quantmcu_model **m, quantmcu_plan **plan, qmcu_error *err)
{
    quantmcu_plan_options po;
    quantmcu_plan_options_default(&po);
    po.split = 0;
    *plan = NULL;
    if (quantmcu_load(model_path, m, err) != QMCU_OK) return QMCU_ERR_FORMAT;
    return quantmcu_plan_make(*m, &po, plan, NULL, err);
}

/* Which part of a TFLite_Detection_PostProcess an output is (0 boxes, 1 classes, 2 scores, 3 count),
 * with the op's parameters; part -1: not a detection output. Found once per output. */
typedef struct {
    const qmcu_detection_params *d;
    int part;
} detection_part;

static detection_part detection_part_of(const qmcu_graph *g, int k)
{
    detection_part r = {NULL, -1};
    int i;
    for (i = 1; i < g->n_ops; i++) { /* the detection op precedes its four SLICEs, one per part */
        const qmcu_op *s = &g->ops[i], *d = &g->ops[i - 1];
        if (s->type != QMCU_OP_SLICE || s->out != g->outputs[k]) continue;
        while (d > g->ops && d->type == QMCU_OP_SLICE) d--;
        if (d->type == QMCU_OP_DETECTION_POSTPROCESS && s->in[0] == d->out) {
            const int32_t n = d->detect.max_detections * d->detect.max_classes_per_detection;
            r.d = &d->detect;
            r.part = s->slice_begin == 0 ? 0 : s->slice_begin == 4 * n ? 1 : s->slice_begin == 5 * n ? 2 : 3;
        }
        break;
    }
    return r;
}

/* The detection count (the count part among the outputs), or 0. */
static float detection_count(const qmcu_graph *g, void *const *outs)
{
    int k;
    for (k = 0; k < g->n_outputs; k++)
        if (detection_part_of(g, k).part == 3) return ((const float *)outs[k])[0];
    return 0.0f;
}

/* Whether element e of an output is defined by TFLite: TFLite_Detection_PostProcess writes only part
 * of its outputs (fast NMS writes the detections it keeps, the rest is whatever the arena held);
 * `count` is the number of detections (ours). Other outputs: every element. */
static int element_defined(detection_part dp, size_t e, float count)
{
    const qmcu_detection_params *d = dp.d;
    int32_t slot, per_anchor;
    if (dp.part < 0 || dp.part == 3) return 1;
    slot = (int32_t)(dp.part == 0 ? e / 4 : e);
    if (d->use_regular_nms) return slot < d->max_detections;
    per_anchor = d->max_classes_per_detection < d->num_classes ? d->max_classes_per_detection : d->num_classes;
    return slot / d->max_classes_per_detection < (int32_t)count && slot % d->max_classes_per_detection < per_anchor;
}

/* Compares one output; returns the number of differing defined elements (float: updates max_diff).
 * TFLITE_DIFF_VERBOSE names the first difference. */
static size_t compare_output(const qmcu_graph *g, int k, const void *ours, const void *theirs, float count,
                             int tolerance, double *max_diff)
{
    const qmcu_tensor *y = &g->tensors[g->outputs[k]];
    const detection_part dp = detection_part_of(g, k);
    const size_t esize = qmcu_dtype_size(y->type), n = y->bytes / esize;
    size_t e, diff = 0;
    for (e = 0; e < n; e++) {
        if (!element_defined(dp, e, count)) continue;
        if (tolerance && y->type == QMCU_F32) {
            const double d = fabs((double)((const float *)ours)[e] - (double)((const float *)theirs)[e]);
            if (!(d <= *max_diff)) *max_diff = d; /* NaN counts as a difference */
        } else if (memcmp((const uint8_t *)ours + e * esize, (const uint8_t *)theirs + e * esize, esize) != 0) {
            if (!diff && getenv("TFLITE_DIFF_VERBOSE")) fprintf(stderr, "output %d: element %zu differs\n", k, e);
            diff++;
        }
    }
    return diff;
}

static int run_random(const char *model_path, int n, size_t sram)
{
    quantmcu_model *m;
    quantmcu_plan *plan = NULL, *patch = NULL;
    const qmcu_graph *g;
    qmcu_error err;
    oracle o;
    TfLiteInterpreter *ti;
    void *in[QMCU_MAX_IO] = {NULL}, *ours[QMCU_MAX_IO] = {NULL}, *theirs[QMCU_MAX_IO] = {NULL},
         *ppatch[QMCU_MAX_IO] = {NULL};
    uint8_t *arena, *parena = NULL;
    int i, k, mismatches = 0, patch_mismatches = 0, is_float = 1;
    double max_diff = 0.0;
    if (load_layer(model_path, &m, &plan, &err) != QMCU_OK) {
        printf("%s: quantmcu: %s\n", model_path, err.msg);
        return 3;
    }
    g = quantmcu_graph(m);
    for (i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].type == QMCU_I8 && !g->tensors[i].data) is_float = 0; /* int8 weights: dynamic range */
    if (!oracle_open(&o, model_path)) {
        printf("%s: TFLite cannot load the model\n", model_path);
        return 4;
    }
    ti = o.ti;
    if (TfLiteInterpreterGetInputTensorCount(ti) != g->n_inputs ||
        TfLiteInterpreterGetOutputTensorCount(ti) != g->n_outputs) {
        printf("%s: input/output counts differ between quantmcu and TFLite\n", model_path);
        return 1;
    }
    for (k = 0; k < g->n_inputs; k++) in[k] = malloc(quantmcu_tensor_bytes(m, 0, k));
    for (k = 0; k < g->n_outputs; k++) {
        ours[k] = malloc(quantmcu_tensor_bytes(m, 1, k));
        theirs[k] = malloc(quantmcu_tensor_bytes(m, 1, k));
        ppatch[k] = malloc(quantmcu_tensor_bytes(m, 1, k));
        if (TfLiteTensorByteSize(TfLiteInterpreterGetOutputTensor(ti, k)) != quantmcu_tensor_bytes(m, 1, k)) {
            printf("%s: output %d sizes differ between quantmcu and TFLite\n", model_path, k);
            return 1;
        }
    }
    arena = (uint8_t *)calloc(quantmcu_plan_memory_bytes(plan), 1);
    if (sram) { /* the plan searched for this budget */
        quantmcu_plan_options pp;
        quantmcu_plan_options_default(&pp);
        pp.sram_budget = sram;
        if (quantmcu_plan_make(m, &pp, &patch, NULL, &err) == QMCU_OK && quantmcu_plan_exec(patch)->split > 0)
            parena = (uint8_t *)calloc(quantmcu_plan_memory_bytes(patch), 1);
    }
    for (i = 0; i < n; i++) {
        for (k = 0; k < g->n_inputs; k++) {
            fill_random(&g->tensors[g->inputs[k]], in[k]);
            TfLiteTensorCopyFromBuffer(TfLiteInterpreterGetInputTensor(ti, k), in[k], quantmcu_tensor_bytes(m, 0, k));
        }
        if (quantmcu_run_all(m, plan, arena, (const void *const *)in, ours, NULL, &err) != QMCU_OK ||
            invoke(ti) != kTfLiteOk) {
            printf("%s: a run failed (%s)\n", model_path, err.msg);
            return 1;
        }
        if (parena && quantmcu_run_all(m, patch, parena, (const void *const *)in, ppatch, NULL, &err) != QMCU_OK) {
            printf("%s: the patch run failed (%s)\n", model_path, err.msg);
            return 1;
        }
        for (k = 0; k < g->n_outputs; k++) {
            const size_t bytes = quantmcu_tensor_bytes(m, 1, k);
            TfLiteTensorCopyToBuffer(TfLiteInterpreterGetOutputTensor(ti, k), theirs[k], bytes);
            if (parena && memcmp(ours[k], ppatch[k], bytes) != 0) patch_mismatches++;
            if (compare_output(g, k, ours[k], theirs[k], detection_count(g, ours), is_float, &max_diff)) mismatches++;
        }
    }
    printf("%s: %d random inputs, %d outputs: %s", model_path, n, g->n_outputs,
           is_float ? "" : (mismatches ? "MISMATCH" : "bit-exact"));
    if (is_float) printf("float, max abs difference %.3g", max_diff);
    if (sram)
        printf("; plan for %zu B: %s", sram,
               !parena ? "layer by layer"
                       : (patch_mismatches ? "patch MISMATCH with layer" : "patch bit-exact with layer"));
    if (parena) {
        quantmcu_plan_info pi, li;
        quantmcu_plan_get_info(patch, &pi);
        quantmcu_plan_get_info(plan, &li);
        printf(" (split %d, %dx%d, peak %zu B; layer %zu B)", pi.split, pi.grid_h, pi.grid_w, pi.arena_bytes,
               li.arena_bytes);
    }
    printf("\n");
    for (k = 0; k < QMCU_MAX_IO; k++) {
        free(in[k]);
        free(ours[k]);
        free(theirs[k]);
        free(ppatch[k]);
    }
    free(arena);
    free(parena);
    oracle_close(&o);
    quantmcu_plan_free(patch);
    quantmcu_plan_free(plan);
    quantmcu_free(m);
    return mismatches || patch_mismatches || (is_float && !(max_diff < 1e-3)) ? 1 : 0;
}

/* TFLite alone: load, allocate and invoke on zero inputs (for models quantmcu does not import). */
static int tflite_runs(const char *model_path)
{
    oracle o;
    const int ok = oracle_open(&o, model_path) && TfLiteInterpreterInvoke(o.ti) == kTfLiteOk;
    printf("%s: TFLite %s\n", model_path, ok ? "runs it" : (o.ti ? "cannot run it" : "cannot load it"));
    oracle_close(&o);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    char **paths = NULL;
    int n_paths = 0, n = 0, i, mismatches = 0, top1_disagree = 0, varied = 0;
    long limit;
    quantmcu_model *m;
    quantmcu_plan *plan;
    const qmcu_graph *g;
    qmcu_error err;
    oracle o;
    TfLiteInterpreter *ti;
    uint8_t *arena, *input, *ours, *theirs, *first;
    size_t in_bytes, out_bytes;
    double max_diff = 0.0;
    int is_float;
    char model_path[1400], image_dir[1100];
    const char *data;
    if (argc >= 3 && !strcmp(argv[1], "--tflite-runs")) return tflite_runs(argv[2]);
    if (argc >= 4 && !strcmp(argv[1], "--random"))
        return run_random(argv[2], (int)strtol(argv[3], NULL, 10), argc >= 5 ? (size_t)strtoul(argv[4], NULL, 10) : 0);
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
    if (load_layer(model_path, &m, &plan, &err) != QMCU_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    g = quantmcu_graph(m);
    if (quantmcu_list_images(image_dir, &paths, &n_paths, &err) != QMCU_OK || n_paths == 0) {
        fprintf(stderr, "%s: no images\n", image_dir);
        return 1;
    }
    n = n_paths < limit ? n_paths : (int)limit;
    if (!oracle_open(&o, model_path)) {
        fprintf(stderr, "%s: TFLite cannot load the model\n", model_path);
        return 1;
    }
    ti = o.ti;
    in_bytes = g->tensors[g->inputs[0]].bytes;
    out_bytes = g->tensors[g->outputs[0]].bytes;
    /* a float model (no 8-bit tensor anywhere) is compared with a tolerance; every other
     * model, including int8 models with float input/output, must match byte for byte */
    is_float = 1;
    for (i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].type == QMCU_I8 && !g->tensors[i].data) is_float = 0; /* int8 weights: dynamic range */
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
        if (invoke(ti) != kTfLiteOk) {
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
    oracle_close(&o);
    quantmcu_free_list(paths, n_paths);
    quantmcu_plan_free(plan);
    quantmcu_free(m);
    return mismatches ? 1 : 0;
}
