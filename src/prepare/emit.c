#include "emit.h"

#include <inttypes.h>
#include <math.h>

const char *qmcu_emit_sep(size_t i, size_t per_line) { return i == 0 ? "\n    " : (i % per_line ? "," : ",\n    "); }

void qmcu_emit_float(FILE *f, float v)
{
    if (isinf(v))
        fputs(v > 0 ? "INFINITY" : "-INFINITY", f);
    else
        fprintf(f, "%af", (double)v);
}

void qmcu_emit_bytes(FILE *f, const char *type, const char *name, const uint8_t *d, size_t n, int is_signed)
{
    size_t i;
    fprintf(f, "static const %s %s[%zu] = {", type, name, n ? n : 1);
    for (i = 0; i < n; i++) fprintf(f, "%s%d", qmcu_emit_sep(i, 24), is_signed ? (int)(int8_t)d[i] : (int)d[i]);
    fputs(n ? "\n};\n" : "0};\n", f);
}

void qmcu_emit_i32(FILE *f, const char *name, const int32_t *d, size_t n)
{
    size_t i;
    fprintf(f, "static const int32_t %s[%zu] = {", name, n ? n : 1);
    for (i = 0; i < n; i++) fprintf(f, "%s%" PRId32, qmcu_emit_sep(i, 10), d[i]);
    fputs(n ? "\n};\n" : "0};\n", f);
}

void qmcu_emit_sizes(FILE *f, const char *name, const size_t *d, size_t n)
{
    size_t i;
    fprintf(f, "static const size_t %s[%zu] = {", name, n ? n : 1);
    for (i = 0; i < n; i++) fprintf(f, "%s%zu", qmcu_emit_sep(i, 10), d[i]);
    fputs(n ? "\n};\n" : "0};\n", f);
}

void qmcu_emit_floats(FILE *f, const char *name, const float *d, size_t n)
{
    size_t i;
    fprintf(f, "static const float %s[%zu] = {", name, n ? n : 1);
    for (i = 0; i < n; i++) {
        fputs(qmcu_emit_sep(i, 6), f);
        qmcu_emit_float(f, d[i]);
    }
    fputs(n ? "\n};\n" : "0};\n", f);
}

void qmcu_emit_conv_params(FILE *f, const qmcu_conv_params *c)
{
    fprintf(
        f,
        "{.input_offset = %d, .filter_offset = %d, .output_offset = %d, .act_min = %d, .act_max = %d, .stride_h = %d, "
        ".stride_w = %d, .dil_h = %d, .dil_w = %d, .pad_top = %d, .pad_left = %d, .depth_multiplier = %d, "
        ".input_code_bits = %d}",
        c->input_offset, c->filter_offset, c->output_offset, c->act_min, c->act_max, c->stride_h, c->stride_w, c->dil_h,
        c->dil_w, c->pad_top, c->pad_left, c->depth_multiplier, c->input_code_bits);
}

void qmcu_emit_elt(FILE *f, const qmcu_eltwise_params *e)
{
    fprintf(f,
            "{.is_mul = %d, .input1_offset = %d, .input2_offset = %d, .output_offset = %d, .left_shift = %d, "
            ".input1_multiplier = %d, .input2_multiplier = %d, .output_multiplier = %d, .input1_shift = %d, "
            ".input2_shift = %d, .output_shift = %d, .act_min = %d, .act_max = %d}",
            e->is_mul, e->input1_offset, e->input2_offset, e->output_offset, e->left_shift, e->input1_multiplier,
            e->input2_multiplier, e->output_multiplier, e->input1_shift, e->input2_shift, e->output_shift, e->act_min,
            e->act_max);
}
