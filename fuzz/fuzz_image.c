/* libFuzzer target for the image loader: any byte string as a JPEG / PNG / BMP (stb_image, with our
 * header and size limits), then the TF-slim preprocessing into a 32x32x3 uint8 input, an int8 input (full-range rule) and an
 * int8 input with a mean/std normalization. */
#include <stdint.h>
#include <stdlib.h>

#include "../tests/graph_builder.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PIXELS (1 << 20) /* 1 Mpx instead of 64: a 192 MB allocation per input would be ~100x slower */

static qmcu_graph *g_u8, *g_i8, *g_norm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t input[32 * 32 * 3];
    qmcu_error err;
    if (!g_u8) { /* two one-conv models: a uint8 input and an int8 input */
        g_u8 = gb_new("fuzz-u8");
        gb_output(g_u8, gb_conv(g_u8, gb_input(g_u8, 32, 32, 3), 4, 1, 1, 1, 1, 0));
        g_u8->tensors[g_u8->inputs[0]].from_uint8 = 1;
        g_i8 = gb_new("fuzz-i8");
        gb_output(g_i8, gb_conv(g_i8, gb_input(g_i8, 32, 32, 3), 4, 1, 1, 1, 1, 0));
        g_norm = gb_new("fuzz-norm"); /* int8 input with a mean/std normalization (metadata or --input-range) */
        gb_output(g_norm, gb_conv(g_norm, gb_input(g_norm, 32, 32, 3), 4, 1, 1, 1, 1, 0));
        g_norm->input_norm.present = 1;
        g_norm->input_norm.mean[0] = g_norm->input_norm.mean[1] = g_norm->input_norm.mean[2] = 127.5f;
        g_norm->input_norm.std[0] = g_norm->input_norm.std[1] = g_norm->input_norm.std[2] = 127.5f;
    }
    (void)qmcu_image_bytes_to_input(g_u8, data, size, "fuzz-image", FUZZ_MAX_PIXELS, input, &err);
    (void)qmcu_image_bytes_to_input(g_i8, data, size, "fuzz-image", FUZZ_MAX_PIXELS, input, &err);
    (void)qmcu_image_bytes_to_input(g_norm, data, size, "fuzz-image", FUZZ_MAX_PIXELS, input, &err);
    return 0;
}
