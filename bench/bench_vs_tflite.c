/* Host speed, single thread, same process and same input: quantmcu layer mode vs
 * TensorFlow Lite 2.9's C library. Prints ms/inference (median of R rounds of N runs)
 * and the ratio. Not a test: no thresholds.
 * usage: bench_vs_tflite MODEL IMAGE [N] [ROUNDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quantmcu/quantmcu.h"
#include "tensorflow/lite/c/c_api.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    quantmcu_model *m;
    quantmcu_plan *plan;
    quantmcu_plan_options po;
    qmcu_error err;
    TfLiteModel *tm;
    TfLiteInterpreterOptions *opt;
    TfLiteInterpreter *ti;
    uint8_t *arena, *input, *out1, *out2;
    size_t in_bytes, out_bytes;
    int n = argc > 3 ? atoi(argv[3]) : 20, rounds = argc > 4 ? atoi(argv[4]) : 5, r, i;
    double ours[64], theirs[64];
    if (argc < 3 || n < 1 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "usage: bench_vs_tflite MODEL IMAGE [N] [ROUNDS<=64]\n");
        return 2;
    }
    quantmcu_plan_options_default(&po);
    po.split = 0; /* layer by layer */
    if (quantmcu_load(argv[1], &m, &err) != QMCU_OK || quantmcu_plan_make(m, &po, &plan, NULL, &err) != QMCU_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    in_bytes = quantmcu_input_bytes(m);
    out_bytes = quantmcu_output_bytes(m);
    arena = (uint8_t *)calloc(quantmcu_plan_memory_bytes(plan), 1);
    input = (uint8_t *)malloc(in_bytes);
    out1 = (uint8_t *)malloc(out_bytes);
    out2 = (uint8_t *)malloc(out_bytes);
    if (quantmcu_run_image(m, plan, arena, argv[2], input, out1, NULL, &err) != QMCU_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    tm = TfLiteModelCreateFromFile(argv[1]);
    opt = TfLiteInterpreterOptionsCreate();
    TfLiteInterpreterOptionsSetNumThreads(opt, 1);
    ti = TfLiteInterpreterCreate(tm, opt);
    if (!ti || TfLiteInterpreterAllocateTensors(ti) != kTfLiteOk) return 1;
    TfLiteTensorCopyFromBuffer(TfLiteInterpreterGetInputTensor(ti, 0), input, in_bytes);
    TfLiteInterpreterInvoke(ti); /* warm-up both */
    (void)quantmcu_run(m, plan, arena, input, out1, NULL, &err);
    for (r = 0; r < rounds; r++) { /* interleaved rounds so both see the same machine state */
        double t0 = now_ms();
        for (i = 0; i < n; i++) {
            (void)quantmcu_run(m, plan, arena, input, out1, NULL, &err);
        }
        ours[r] = (now_ms() - t0) / n;
        t0 = now_ms();
        for (i = 0; i < n; i++) {
            TfLiteTensorCopyFromBuffer(TfLiteInterpreterGetInputTensor(ti, 0), input, in_bytes);
            TfLiteInterpreterInvoke(ti);
        }
        theirs[r] = (now_ms() - t0) / n;
    }
    TfLiteTensorCopyToBuffer(TfLiteInterpreterGetOutputTensor(ti, 0), out2, out_bytes);
    qsort(ours, (size_t)rounds, sizeof(double), cmp_d);
    qsort(theirs, (size_t)rounds, sizeof(double), cmp_d);
    printf("%s, 1 thread, median of %d rounds x %d runs:\n", argv[1], rounds, n);
    printf("  quantmcu layer mode   %8.2f ms/inference\n", ours[rounds / 2]);
    printf("  TFLite 2.9 (C API)    %8.2f ms/inference\n", theirs[rounds / 2]);
    printf("  ratio quantmcu/TFLite %8.2f   (outputs %s)\n", ours[rounds / 2] / theirs[rounds / 2],
           memcmp(out1, out2, out_bytes) ? "DIFFER" : "identical");
    return 0;
}
