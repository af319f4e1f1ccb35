/* Image decoding (JPEG/PNG/BMP via stb_image) and TF-slim evaluation preprocessing. */
#ifndef QMCU_IMAGE_H
#define QMCU_IMAGE_H

#include <stdint.h>

#include "quantmcu/status.h"
#include "quantmcu/graph.h"

#define QMCU_MAX_IMAGE_PIXELS     (64LL * 1024 * 1024)  /* larger headers are refused before decoding */
#define QMCU_MAX_IMAGE_FILE_BYTES (256LL * 1024 * 1024) /* larger files are not read */

/* Decodes an image held in memory (name: for messages) to interleaved RGB. *rgb is malloc'ed.
 * Headers declaring more than max_pixels (QMCU_MAX_IMAGE_PIXELS for files) are refused before decoding. */
qmcu_status qmcu_image_decode_rgb(const uint8_t *data, size_t len, const char *name, int64_t max_pixels, uint8_t **rgb,
                                  int *w, int *h, qmcu_error *err);
/* The same image as bytes in memory -> the model's input (the fuzzer's entry point; it passes a
 * smaller max_pixels so that executions stay fast, the limit's code path is the same). */
qmcu_status qmcu_image_bytes_to_input(const qmcu_graph *g, const uint8_t *data, size_t len, const char *name,
                                      int64_t max_pixels, void *input, qmcu_error *err);

/* Decodes to interleaved RGB (grayscale is expanded). *rgb is malloc'ed. */
qmcu_status qmcu_image_load_rgb(const char *path, uint8_t **rgb, int *w, int *h, qmcu_error *err);

/* Central crop of 87.5 % (offset = floor((dim - 0.875 dim) / 2) per side), then TF1
 * resize_bilinear (align_corners = false, no half-pixel centres), round to nearest, clamp. */
void qmcu_preprocess_rgb(const uint8_t *rgb, int w, int h, int out_w, int out_h, uint8_t *out);

/* Loads an image and fills `input` with the bytes of the model's input tensor (its own type).
 * Pixels p (0..255) after qmcu_preprocess_rgb become:
 *  - with a normalization (g->input_norm: TFLite metadata for int8/float inputs, or the user's
 *    --input-range for any input): real = (p - mean[c]) / std[c], quantized with the input's
 *    scale and zero point for 8-bit inputs (rounded, clamped);
 *  - otherwise the full-range rule: uint8 inputs p; int8 inputs p - 128; float inputs that feed
 *    a QUANTIZE op the value whose code there is p - 128; other float inputs p / 255. */
qmcu_status qmcu_image_to_input(const qmcu_graph *g, const char *path, void *input, qmcu_error *err);

/* The rule above as it applies to this model, one line for `info` and the report. */
void qmcu_input_rule_describe(const qmcu_graph *g, char *buf, size_t cap);

#endif
