/* Image decoding (JPEG/PNG/BMP via stb_image) and TF-slim evaluation preprocessing. */
#ifndef QMCU_IMAGE_H
#define QMCU_IMAGE_H

#include <stdint.h>

#include "quantmcu/status.h"
#include "quantmcu/graph.h"

#define QMCU_MAX_IMAGE_PIXELS     (64LL * 1024 * 1024)  /* larger headers are refused before decoding */
#define QMCU_MAX_IMAGE_FILE_BYTES (256LL * 1024 * 1024) /* larger files are not read */

/* Decodes an image held in memory (name: for messages) to interleaved RGB. *rgb is malloc'ed. */
qmcu_status qmcu_image_decode_rgb(const uint8_t *data, size_t len, const char *name, uint8_t **rgb, int *w, int *h,
                                  qmcu_error *err);
/* The same image as bytes in memory -> the model's input (the fuzzer's entry point). */
qmcu_status qmcu_image_bytes_to_input(const qmcu_graph *g, const uint8_t *data, size_t len, const char *name,
                                      void *input, qmcu_error *err);

/* Decodes to interleaved RGB (grayscale is expanded). *rgb is malloc'ed. */
qmcu_status qmcu_image_load_rgb(const char *path, uint8_t **rgb, int *w, int *h, qmcu_error *err);

/* Central crop of 87.5 % (offset = floor((dim - 0.875 dim) / 2) per side), then TF1
 * resize_bilinear (align_corners = false, no half-pixel centres), round to nearest, clamp. */
void qmcu_preprocess_rgb(const uint8_t *rgb, int w, int h, int out_w, int out_h, uint8_t *out);

/* Loads an image and fills `input` with the bytes of the model's input tensor (its own type):
 *  uint8: pixels as they are; int8: round((p / 255) / scale) + zero_point;
 *  float32: p / 255, or, when the input feeds a QUANTIZE op, scale * (p - 128 - zero_point)
 *  of that op's output so the quantized network sees p - 128 (the usual MCU convention). */
qmcu_status qmcu_image_to_input(const qmcu_graph *g, const char *path, void *input, qmcu_error *err);

#endif
