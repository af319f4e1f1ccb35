/* libFuzzer target for the image loader: any byte string as a JPEG / PNG / BMP (stb_image, with our
 * header and size limits), then the TF-slim preprocessing into a 32x32x3 uint8 and an int8 input. */
#include <stdint.h>
#include <stdlib.h>

#include "../tests/graph_builder.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qmcu_graph *g_u8, *g_i8;

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
    }
    (void)qmcu_image_bytes_to_input(g_u8, data, size, "fuzz-image", input, &err);
    (void)qmcu_image_bytes_to_input(g_i8, data, size, "fuzz-image", input, &err);
    return 0;
}
