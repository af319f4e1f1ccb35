/* Requantize, table lookup, leaky relu and softmax. */
#include <math.h>

#include "qmcu_fixedpoint.h"
#include "quantmcu/kernels.h"

void qmcu_requantize_s8(const qmcu_requantize_params *p, int32_t n, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        int32_t v = qmcu_multiply_by_quantized_multiplier(in[i] + p->input_offset, p->multiplier, p->shift);
        out[i] = (int8_t)qmcu_clamp(v + p->output_offset, p->act_min, p->act_max);
    }
}

void qmcu_lut_s8(const int8_t table[256], int32_t n, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < n; i++) out[i] = table[(uint8_t)in[i]];
}

void qmcu_leaky_relu_s8(const qmcu_leaky_relu_params *p, int32_t n, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t x = in[i] - p->input_zero_point;
        const int32_t y = p->output_zero_point +
                          (x >= 0 ? qmcu_multiply_by_quantized_multiplier(x, p->identity_multiplier, p->identity_shift)
                                  : qmcu_multiply_by_quantized_multiplier(x, p->alpha_multiplier, p->alpha_shift));
        out[i] = (int8_t)(y < -128 ? -128 : (y > 127 ? 127 : y));
    }
}

void qmcu_leaky_relu_f32(float alpha, int32_t n, const float *in, float *out)
{
    int32_t i;
    for (i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : in[i] * alpha; /* alpha may be > 1: no max() */
}

void qmcu_softmax_table(float input_scale, float beta, float table[256])
{
    const float scale = -input_scale * beta;
    int32_t v;
    for (v = 0; v <= 255; v++) table[255 - v] = expf(scale * (float)v);
}

void qmcu_softmax_s8(const qmcu_softmax_params *p, int32_t rows, int32_t row_len, const int8_t *in, int8_t *out)
{
    int32_t r, j;
    for (r = 0; r < rows; r++, in += row_len, out += row_len) {
        int32_t max_val = -128;
        const float *t;
        float sum = 0.0f, inv;
        for (j = 0; j < row_len; j++) max_val = in[j] > max_val ? in[j] : max_val;
        /* t[x] = exp(-scale * beta * (max - x)); differences are shift-invariant */
        t = p->table + 255 - max_val - 128;
        for (j = 0; j < row_len; j++) sum += t[in[j] + 128];
        inv = 1.0f / (sum * p->output_scale);
        for (j = 0; j < row_len; j++) {
            const float prob = t[in[j] + 128] * inv;
            const int32_t c = qmcu_float_to_int_sat(p->uint8_output ? prob + 0.5f : roundf(prob));
            const int32_t q = p->uint8_output ? c - 128 : c + p->output_zero_point;
            out[j] = (int8_t)qmcu_clamp(q, -128, 127);
        }
    }
}
