#include "image.h"

#include "../common/host_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <turbojpeg.h>

/* JPEG through libjpeg-turbo with libjpeg's defaults (accurate integer IDCT, fancy upsampling), as
 * PIL and TensorFlow decode it: the same pixels as the reference pipelines (stb_image's JPEG
 * decoder differs by up to 2 in ~1 % of the input bytes). Warnings (a truncated file) are errors. */
static qmcu_status decode_jpeg(const uint8_t *data, size_t len, const char *name, int64_t max_pixels, uint8_t **rgb,
                               int *w, int *h, qmcu_error *err)
{
    tjhandle tj = tjInitDecompress();
    int subsamp = 0, colorspace = 0;
    qmcu_status st = QMCU_OK;
    if (!tj) {
        qmcu_error_set(err, "%s: cannot start the JPEG decoder", name);
        return QMCU_ERR_NOMEM;
    }
    if (tjDecompressHeader3(tj, data, (unsigned long)len, w, h, &subsamp, &colorspace) != 0) {
        qmcu_error_set(err, "%s: cannot decode image (%s)", name, tjGetErrorStr2(tj));
        st = QMCU_ERR_FORMAT;
    } else if (*w < 1 || *h < 1) {
        qmcu_error_set(err, "%s: cannot decode image (no frame header in its %zu bytes: truncated?)", name, len);
        st = QMCU_ERR_FORMAT;
    } else if ((int64_t)*w * (int64_t)*h > max_pixels) {
        qmcu_error_set(err, "%s: image declares %dx%d pixels (this tool decodes at most %lld pixels)", name, *w, *h,
                       (long long)max_pixels);
        st = QMCU_ERR_UNSUPPORTED;
    } else if (!(*rgb = (uint8_t *)malloc((size_t)*w * (size_t)*h * 3))) {
        qmcu_error_set(err, "%s: out of memory for %dx%d pixels", name, *w, *h);
        st = QMCU_ERR_NOMEM;
    } else if (tjDecompress2(tj, data, (unsigned long)len, *rgb, *w, 0, *h, TJPF_RGB, TJFLAG_STOPONWARNING) != 0) {
        qmcu_error_set(err, "%s: cannot decode image (%s)", name, tjGetErrorStr2(tj));
        free(*rgb);
        *rgb = NULL;
        st = QMCU_ERR_FORMAT;
    }
    tjDestroy(tj);
    return st;
}

qmcu_status qmcu_image_decode_rgb(const uint8_t *data, size_t len, const char *name, int64_t max_pixels, uint8_t **rgb,
                                  int *w, int *h, qmcu_error *err)
{
    int comp = 0;
    int64_t dw = 0, dh = 0;
    uint32_t bmp_bits = 0;
    int bmp_rgb = 0;
    const char *kind;
    *rgb = NULL;
    if (len > (size_t)QMCU_MAX_IMAGE_FILE_BYTES || len > (size_t)0x7fffffff) {
        qmcu_error_set(err, "%s: image file of %zu bytes (this tool reads at most %lld)", name, len,
                       (long long)QMCU_MAX_IMAGE_FILE_BYTES);
        return QMCU_ERR_UNSUPPORTED;
    }
    *w = *h = 0;
    if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) /* checks its own header first */
        return decode_jpeg(data, len, name, max_pixels, rgb, w, h, err);
    if (len >= 24 && !memcmp(data, "\x89PNG\r\n\x1a\n", 8)) { /* IHDR: big-endian width, height */
        kind = "PNG";
        dw = ((int64_t)data[16] << 24) | (data[17] << 16) | (data[18] << 8) | data[19];
        dh = ((int64_t)data[20] << 24) | (data[21] << 16) | (data[22] << 8) | data[23];
    } else if (len >= 26 && data[0] == 'B' && data[1] == 'M') { /* BITMAPINFOHEADER: little-endian, h may be < 0 */
        kind = "BMP";
        dw = (int32_t)((uint32_t)data[18] | ((uint32_t)data[19] << 8) | ((uint32_t)data[20] << 16) |
                       ((uint32_t)data[21] << 24));
        dh = (int32_t)((uint32_t)data[22] | ((uint32_t)data[23] << 8) | ((uint32_t)data[24] << 16) |
                       ((uint32_t)data[25] << 24));
        dh = dh < 0 ? -dh : dh;
        if (len >= 34) { /* bits per pixel, compression (0 = BI_RGB: rows of raw pixels) */
            bmp_bits = (uint32_t)data[28] | ((uint32_t)data[29] << 8);
            bmp_rgb = data[30] == 0 && data[31] == 0 && data[32] == 0 && data[33] == 0;
        }
    } else {
        qmcu_error_set(err, "%s: cannot decode image (not a JPEG, PNG or BMP file)", name);
        return QMCU_ERR_FORMAT;
    }
    /* refuse what the header declares before decoding: a hostile header must not drive allocation */
    if (dw < 1 || dh < 1 || dw > max_pixels || dh > max_pixels || dw * dh > max_pixels) {
        qmcu_error_set(err, "%s: image declares %lldx%lld pixels (this tool decodes at most %lld pixels)", name,
                       (long long)dw, (long long)dh, (long long)max_pixels);
        return QMCU_ERR_UNSUPPORTED;
    }
    if (bmp_rgb && bmp_bits > 0 && bmp_bits <= 32 && (((dw * bmp_bits + 31) / 32) * 4) * dh > (int64_t)len) {
        qmcu_error_set(err,
                       "%s: cannot decode BMP image (declares %lldx%lld pixels at %u bits, the file has %zu bytes)",
                       name, (long long)dw, (long long)dh, bmp_bits, len);
        return QMCU_ERR_FORMAT;
    }
    *rgb = stbi_load_from_memory(data, (int)len, w, h, &comp, 3);
    if (!*rgb) {
        const char *why = stbi_failure_reason();
        qmcu_error_set(err, "%s: cannot decode %s image (corrupt or unsupported data%s%s)", name, kind, why ? ": " : "",
                       why ? why : "");
        return QMCU_ERR_FORMAT;
    }
    if (*w < 1 || *h < 1) {
        free(*rgb);
        *rgb = NULL;
        qmcu_error_set(err, "%s: image has no pixels", name);
        return QMCU_ERR_FORMAT;
    }
    return QMCU_OK;
}

qmcu_status qmcu_image_load_rgb(const char *path, uint8_t **rgb, int *w, int *h, qmcu_error *err)
{
    uint8_t *data;
    size_t len;
    qmcu_status st = qmcu_read_file(path, "image", (size_t)QMCU_MAX_IMAGE_FILE_BYTES, &data, &len, err);
    *rgb = NULL;
    if (st != QMCU_OK) return st;
    st = qmcu_image_decode_rgb(data, len, path, QMCU_MAX_IMAGE_PIXELS, rgb, w, h, err);
    free(data);
    return st;
}

void qmcu_preprocess_rgb(const uint8_t *rgb, int w, int h, int out_w, int out_h, uint8_t *out)
{
    /* central crop, as tf.image.central_crop(image, 0.875) */
    const int off_y = (int)floor((h - 0.875 * h) / 2.0), off_x = (int)floor((w - 0.875 * w) / 2.0);
    const int ch = h - 2 * off_y, cw = w - 2 * off_x;
    const float sy = (float)ch / (float)out_h, sx = (float)cw / (float)out_w;
    int oy, ox, c;
    for (oy = 0; oy < out_h; oy++) {
        const float in_y = (float)oy * sy;
        const int y0 = (int)floorf(in_y), y1 = y0 + 1 < ch ? y0 + 1 : ch - 1;
        const float ly = in_y - (float)y0;
        for (ox = 0; ox < out_w; ox++) {
            const float in_x = (float)ox * sx;
            const int x0 = (int)floorf(in_x), x1 = x0 + 1 < cw ? x0 + 1 : cw - 1;
            const float lx = in_x - (float)x0;
            for (c = 0; c < 3; c++) {
#define PX(yy, xx) ((float)rgb[((size_t)(off_y + (yy)) * w + off_x + (xx)) * 3 + c])
                const float tl = PX(y0, x0), tr = PX(y0, x1), bl = PX(y1, x0), br = PX(y1, x1);
#undef PX
                const float top = tl + (tr - tl) * lx, bottom = bl + (br - bl) * lx;
                const float v = roundf(top + (bottom - top) * ly);
                out[((size_t)oy * out_w + ox) * 3 + c] = (uint8_t)(v < 0.0f ? 0 : (v > 255.0f ? 255 : v));
            }
        }
    }
}

/* The QUANTIZE op reading a float input, if any (its output's codes are what the network sees). */
static const qmcu_tensor *quantize_of_input(const qmcu_graph *g)
{
    int k;
    for (k = 0; k < g->n_ops; k++)
        if (g->ops[k].type == QMCU_OP_QUANTIZE && g->ops[k].in[0] == g->inputs[0]) return &g->tensors[g->ops[k].out];
    return NULL;
}

/* Metadata normalization applies to int8 and float inputs; uint8 inputs take the pixels as they are
 * (as the TFLite Task Library does), unless the user asked for a range. */
static int normalizes(const qmcu_graph *g)
{
    const qmcu_tensor *t = &g->tensors[g->inputs[0]];
    return g->input_norm.present && (g->input_norm.from_user || !t->from_uint8);
}

void qmcu_input_rule_describe(const qmcu_graph *g, char *buf, size_t cap)
{
    const qmcu_tensor *t = &g->tensors[g->inputs[0]], *qt = quantize_of_input(g);
    const qmcu_input_norm *n = &g->input_norm;
    size_t len;
    if (t->ndim != 4 || t->dims[0] != 1 || t->dims[3] != 3) {
        snprintf(buf, cap, "none: the input is not a 1xHxWx3 image (feed it with run --input FILE, raw or .npy)");
        return;
    }
    if (normalizes(g)) {
        len = (size_t)snprintf(buf, cap, "(p - mean) / std, mean %g,%g,%g std %g,%g,%g (%s)", (double)n->mean[0],
                               (double)n->mean[1], (double)n->mean[2], (double)n->std[0], (double)n->std[1],
                               (double)n->std[2], n->from_user ? "--input-range" : "TFLite metadata");
        if (t->type == QMCU_I8 && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, ", quantized with the input's scale %g and zero point %d",
                                    (double)t->scale, (int)t->zero_point + (t->from_uint8 ? 128 : 0));
    } else if (t->type == QMCU_I8 && t->from_uint8) {
        len = (size_t)snprintf(buf, cap, "uint8 pixels as they are (p)");
        if (n->present && len < cap)
            len += (size_t)snprintf(buf + len, cap - len,
                                    "; the TFLite metadata's mean %g std %g is not applied to a uint8 input (as in "
                                    "the TFLite Task Library)",
                                    (double)n->mean[0], (double)n->std[0]);
    } else if (t->type == QMCU_I8) {
        len = (size_t)snprintf(buf, cap,
                               "p - 128 (full range: the input's own quantization, scale %g zero point %d, "
                               "covers the pixels; the MLPerf Tiny and TFLite Micro convention)",
                               (double)t->scale, (int)t->zero_point);
    } else if (qt) {
        len = (size_t)snprintf(buf, cap, "the float whose code after the first QUANTIZE is p - 128 (full range)");
    } else {
        len = (size_t)snprintf(buf, cap, "p / 255 (range 0..1; no metadata, see --input-range)");
    }
    if (n->metadata_error[0] && len < cap) snprintf(buf + len, cap - len, "; metadata ignored: %s", n->metadata_error);
}

/* Decoded RGB -> the model's input bytes (takes rgb over); qmcu_image_to_input states the rule. */
static qmcu_status rgb_to_input(const qmcu_graph *g, const char *path, uint8_t *rgb, int w, int h, void *input,
                                qmcu_error *err)
{
    const qmcu_tensor *t = &g->tensors[g->inputs[0]], *qt = quantize_of_input(g);
    const qmcu_input_norm *nm = &g->input_norm;
    const int norm = normalizes(g);
    uint8_t *px;
    int i, n;
    if (t->type != QMCU_I8 && t->type != QMCU_F32) {
        free(rgb);
        qmcu_error_set(err, "%s: unsupported model input type %s", g->path, qmcu_dtype_name(t->type));
        return QMCU_ERR_UNSUPPORTED;
    }
    n = t->dims[1] * t->dims[2] * 3;
    px = (uint8_t *)malloc((size_t)n);
    if (!px) {
        free(rgb);
        qmcu_error_set(err, "%s: out of memory", path);
        return QMCU_ERR_NOMEM;
    }
    qmcu_preprocess_rgb(rgb, w, h, t->dims[2], t->dims[1], px);
    free(rgb);
    for (i = 0; i < n; i++) {
        const int c = i % 3;
        const float real = norm ? ((float)px[i] - nm->mean[c]) / nm->std[c] : 0.0f;
        if (t->type == QMCU_I8) { /* int8 storage; a uint8 input's bytes are written as uint8 */
            const int lo = t->from_uint8 ? 0 : -128, zp = (int)t->zero_point + (t->from_uint8 ? 128 : 0);
            float q = norm ? roundf(real / t->scale) + (float)zp : (float)(px[i] + lo);
            q = q < (float)lo ? (float)lo : (q > (float)(lo + 255) ? (float)(lo + 255) : q);
            if (t->from_uint8)
                ((uint8_t *)input)[i] = (uint8_t)q;
            else
                ((int8_t *)input)[i] = (int8_t)q;
        } else {
            ((float *)input)[i] = norm ? real
                                  : qt ? qt->scale * (float)((int)px[i] - 128 - qt->zero_point)
                                       : (float)px[i] / 255.0f;
        }
    }
    free(px);
    return QMCU_OK;
}

static qmcu_status check_image_input(const qmcu_graph *g, qmcu_error *err)
{
    const qmcu_tensor *t = &g->tensors[g->inputs[0]];
    if (t->ndim != 4 || t->dims[0] != 1 || t->dims[3] != 3) {
        qmcu_error_set(err, "%s: model input is not a 1xHxWx3 image tensor", g->path);
        return QMCU_ERR_UNSUPPORTED;
    }
    return QMCU_OK;
}

qmcu_status qmcu_image_to_input(const qmcu_graph *g, const char *path, void *input, qmcu_error *err)
{
    uint8_t *rgb;
    int w, h;
    qmcu_status st = check_image_input(g, err);
    if (st == QMCU_OK) st = qmcu_image_load_rgb(path, &rgb, &w, &h, err);
    return st == QMCU_OK ? rgb_to_input(g, path, rgb, w, h, input, err) : st;
}

qmcu_status qmcu_image_bytes_to_input(const qmcu_graph *g, const uint8_t *data, size_t len, const char *name,
                                      int64_t max_pixels, void *input, qmcu_error *err)
{
    uint8_t *rgb;
    int w, h;
    qmcu_status st = check_image_input(g, err);
    if (st == QMCU_OK) st = qmcu_image_decode_rgb(data, len, name, max_pixels, &rgb, &w, &h, err);
    return st == QMCU_OK ? rgb_to_input(g, name, rgb, w, h, input, err) : st;
}
