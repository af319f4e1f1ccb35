/* Embedding quantmcu in your own host tool, through the installed package only
 * (find_package(quantmcu) / pkg-config quantmcu; header quantmcu/quantmcu.h):
 * load a model, plan it for 256 kB of SRAM, calibrate and search QuantMCU on a folder of
 * images, run one image and print its top-5.
 *
 * usage: embed_host MODEL.tflite CALIBRATION_DIR IMAGE */
#include <stdio.h>
#include <stdlib.h>

#include <quantmcu/quantmcu.h>

int main(int argc, char **argv)
{
    quantmcu_model *model = NULL;
    quantmcu_plan *patch = NULL, *plan = NULL;
    quantmcu_plan_options po;
    quantmcu_quant_options qo;
    quantmcu_plan_info info;
    qmcu_error err;
    uint8_t *memory = NULL;
    void *output = NULL;
    float *scores = NULL;
    int top[5], k, n, rc = 1;
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.tflite CALIBRATION_DIR IMAGE\n", argv[0]);
        return 2;
    }
    if (quantmcu_load(argv[1], &model, &err) != QMCU_OK) goto fail;

    quantmcu_plan_options_default(&po); /* search split x grid: fewest MACs that fit */
    po.sram_budget = 256 * 1024;
    if (quantmcu_plan_make(model, &po, &patch, NULL, &err) != QMCU_OK) goto fail;

    quantmcu_plan_get_info(patch, &info);
    if (info.split > 0) { /* QuantMCU (version 2) on top of that geometry */
        quantmcu_quant_options_default(&qo, 2);
        qo.calib_dir = argv[2];
        qo.calib_count = 8;
        if (quantmcu_quantize(model, patch, &qo, &plan, &err) != QMCU_OK) goto fail;
        quantmcu_plan_get_info(plan, &info);
    } else { /* the whole model fits layer by layer: nothing to patch, nothing for QuantMCU */
        printf("the model fits %zu bytes layer by layer: no patch stage, QuantMCU not applied\n", po.sram_budget);
    }
    printf("plan: %s, split %d, grid %dx%d, peak SRAM %zu bytes", info.mode, info.split, info.grid_h, info.grid_w,
           info.arena_bytes);
    if (info.split > 0) printf(", patch-stage BitOPs ratio %.2f", info.patch_bitops_int8 / info.patch_bitops);
    printf("\n");

    n = quantmcu_output_count(model);
    if (!plan) plan = patch, patch = NULL;
    memory = (uint8_t *)calloc(quantmcu_plan_memory_bytes(plan), 1); /* the caller owns all memory */
    output = malloc(quantmcu_output_bytes(model));
    scores = (float *)malloc(sizeof(float) * (size_t)n);
    if (!memory || !output || !scores) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    if (quantmcu_run_image(model, plan, memory, argv[3], NULL, output, NULL, &err) != QMCU_OK) goto fail;
    quantmcu_scores(model, output, scores);
    quantmcu_top_k(scores, n, n < 5 ? n : 5, top);
    printf("%s:\n", argv[3]);
    for (k = 0; k < 5 && k < n; k++) printf("  class %4d  score %.5f\n", top[k], scores[top[k]]);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "%s\n", err.msg);
done:
    free(memory);
    free(output);
    free(scores);
    quantmcu_plan_free(plan);
    quantmcu_plan_free(patch);
    quantmcu_free(model);
    return rc;
}
