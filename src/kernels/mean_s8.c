#include <math.h>
#include <string.h>

#include "qmcu_fixedpoint.h"
#include "quantmcu/kernels.h"

qmcu_status qmcu_mean_s8(const qmcu_mean_params *p, const int32_t dims[4], const int8_t *in, int8_t *out,
                         int32_t *scratch, size_t scratch_bytes)
{
    int32_t od[4], os[4], i0, i1, i2, i3, count = 1, n_out = 1, i;
    int d;
    for (d = 0; d < 4; d++) {
        od[d] = (p->reduce_mask & (1 << d)) ? 1 : dims[d];
        if (p->reduce_mask & (1 << d)) count *= dims[d];
        n_out *= od[d];
    }
    if (scratch_bytes < (size_t)n_out * sizeof(int32_t) || !scratch) return QMCU_ERR_NOMEM;
    qmcu_broadcast_strides(od, os); /* reduced dims have size 1 in od: stride 0 accumulates */
    memset(scratch, 0, (size_t)n_out * sizeof(int32_t));
    /* sums on the model's own values: unsigned for uint8 models, minus the zero point for SPATIAL */
    for (i0 = 0; i0 < dims[0]; i0++)
        for (i1 = 0; i1 < dims[1]; i1++)
            for (i2 = 0; i2 < dims[2]; i2++)
                for (i3 = 0; i3 < dims[3]; i3++)
                    scratch[i0 * os[0] + i1 * os[1] + i2 * os[2] + i3 * os[3]] += *in++ + p->value_offset;
    for (i = 0; i < n_out; i++) {
        int32_t v, acc = scratch[i];
        if (p->kind == QMCU_MEAN_SAME_QUANT) {
            v = acc / count - p->value_offset; /* truncating, as TFLite's reference Mean */
        } else if (p->kind == QMCU_MEAN_SPATIAL) {
            if (p->uint8_model) {
                /* TFLite uint8 Mean: bias + MBQM(sum of raw values, in_scale / (n * out_scale)) */
                const float zb = (float)(p->input_zero_point + 128) * p->input_scale / p->output_scale;
                const int32_t bias = (p->output_zero_point + 128) - qmcu_float_to_int_sat(zb);
                v = qmcu_multiply_by_quantized_multiplier(acc, p->multiplier, p->shift) + bias - 128;
            } else {
                acc -= count * p->input_zero_point;
                acc = qmcu_multiply_by_quantized_multiplier(acc, p->multiplier, p->shift);
                acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                v = acc + p->output_zero_point;
            }
        } else {
            const float scale = p->input_scale / p->output_scale;
            const float bias = -(float)(p->input_zero_point + p->value_offset) * scale;
            const float mean = (float)acc / (float)count;
            v = qmcu_float_to_int_sat(roundf(mean * scale + bias)) + p->output_zero_point;
        }
        out[i] = (int8_t)qmcu_clamp(v, -128, 127);
    }
    return QMCU_OK;
}
