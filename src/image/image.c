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
static qmcu_status decode_jpeg(const uint8_t *data, size_t len, const char *name, uint8_t **rgb, int *w, int *h,
                               qmcu_error *err)
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
    } else if (*w < 1 || *h < 1 || (int64_t)*w * (int64_t)*h > QMCU_MAX_IMAGE_PIXELS) {
        qmcu_error_set(err, "%s: image declares %dx%d pixels (this tool decodes at most %lld pixels)", name, *w, *h,
                       (long long)QMCU_MAX_IMAGE_PIXELS);
        st = QMCU_ERR_UNSUPPORTED;
    } else if (!(*rgb = (uint8_t *)malloc((size_t)*w * (size_t)*h * 3))) {
        qmcu_error_set(err, "%s: out of memory for %dx%d pixels", name, *w, *h);
        st = QMCU_ERR_NOMEM;
    } else if (tjDecompress2(tj, data, (unsigned long)len, *rgb, *w, 0, *h, TJPF_RGB, 0) != 0) {
        qmcu_error_set(err, "%s: cannot decode image (%s)", name, tjGetErrorStr2(tj));
        free(*rgb);
        *rgb = NULL;
        st = QMCU_ERR_FORMAT;
    }
    tjDestroy(tj);
    return st;
}

qmcu_status qmcu_image_decode_rgb(const uint8_t *data, size_t len, const char *name, uint8_t **rgb, int *w, int *h,
                                  qmcu_error *err)
{
    int comp = 0;
    *rgb = NULL;
    if (len > (size_t)QMCU_MAX_IMAGE_FILE_BYTES || len > (size_t)0x7fffffff) {
        qmcu_error_set(err, "%s: image file of %zu bytes (this tool reads at most %lld)", name, len,
                       (long long)QMCU_MAX_IMAGE_FILE_BYTES);
        return QMCU_ERR_UNSUPPORTED;
    }
    /* refuse what the header declares before decoding: a hostile header must not drive allocation */
    if (stbi_info_from_memory(data, (int)len, w, h, &comp) &&
        (*w < 1 || *h < 1 || (int64_t)*w * (int64_t)*h > QMCU_MAX_IMAGE_PIXELS)) {
        qmcu_error_set(err, "%s: image declares %dx%d pixels (this tool decodes at most %lld pixels)", name, *w, *h,
                       (long long)QMCU_MAX_IMAGE_PIXELS);
        return QMCU_ERR_UNSUPPORTED;
    }
    if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return decode_jpeg(data, len, name, rgb, w, h, err);
    *rgb = stbi_load_from_memory(data, (int)len, w, h, &comp, 3);
    if (!*rgb) {
        qmcu_error_set(err, "%s: cannot decode image (%s)", name, stbi_failure_reason());
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
    st = qmcu_image_decode_rgb(data, len, path, rgb, w, h, err);
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

/* Decoded RGB -> the model's input bytes (takes rgb over). */
static qmcu_status rgb_to_input(const qmcu_graph *g, const char *path, uint8_t *rgb, int w, int h, void *input,
                                qmcu_error *err)
{
    const qmcu_tensor *t = &g->tensors[g->inputs[0]];
    uint8_t *px;
    int i, n;
    n = t->dims[1] * t->dims[2] * 3;
    px = (uint8_t *)malloc((size_t)n);
    if (!px) {
        free(rgb);
        qmcu_error_set(err, "%s: out of memory", path);
        return QMCU_ERR_NOMEM;
    }
    qmcu_preprocess_rgb(rgb, w, h, t->dims[2], t->dims[1], px);
    free(rgb);
    if (t->type == QMCU_I8 && t->from_uint8) {
        memcpy(input, px, (size_t)n);
    } else if (t->type == QMCU_I8) {
        int8_t *dst = (int8_t *)input;
        for (i = 0; i < n; i++) {
            const float q = roundf(((float)px[i] / 255.0f) / t->scale) + (float)t->zero_point;
            dst[i] = (int8_t)(q < -128.0f ? -128 : (q > 127.0f ? 127 : (int)q));
        }
    } else if (t->type == QMCU_F32) {
        float *dst = (float *)input;
        const qmcu_tensor *qt = NULL;
        int k;
        for (k = 0; k < g->n_ops; k++)
            if (g->ops[k].type == QMCU_OP_QUANTIZE && g->ops[k].in[0] == g->inputs[0]) qt = &g->tensors[g->ops[k].out];
        for (i = 0; i < n; i++)
            dst[i] = qt ? qt->scale * (float)((int)px[i] - 128 - qt->zero_point) : (float)px[i] / 255.0f;
    } else {
        free(px);
        qmcu_error_set(err, "%s: unsupported model input type %s", g->path, qmcu_dtype_name(t->type));
        return QMCU_ERR_UNSUPPORTED;
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
                                      void *input, qmcu_error *err)
{
    uint8_t *rgb;
    int w, h;
    qmcu_status st = check_image_input(g, err);
    if (st == QMCU_OK) st = qmcu_image_decode_rgb(data, len, name, &rgb, &w, &h, err);
    return st == QMCU_OK ? rgb_to_input(g, name, rgb, w, h, input, err) : st;
}
