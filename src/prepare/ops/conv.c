/* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED on the host: per-output-channel multipliers with
 * TFLite 2.9's formulas, folded biases, scratch sizes; float and dynamic-range ops take their
 * strides, padding and activation range. Owns its multipliers, shifts and bias. */
#include <stdlib.h>
#include <string.h>

#include "../../kernels/qmcu_fixedpoint.h"
#include "../emit.h"
#include "../op_host.h"
#include "../prepare.h"

static qmcu_dims nhwc(const qmcu_tensor *t)
{
    qmcu_dims d;
    int32_t a[4];
    qmcu_tensor_dims4(t, a);
    d.n = a[0];
    d.h = a[1];
    d.w = a[2];
    d.c = a[3];
    return d;
}

qmcu_status qmcu_conv_multipliers(const qmcu_graph *g, int opi, float in_scale, float out_scale, int32_t *multiplier,
                                  int32_t *shift, qmcu_error *err)
{
    const qmcu_op *op = &g->ops[opi];
    const qmcu_tensor *x = &g->tensors[op->in[0]], *w = &g->tensors[op->in[1]];
    const int fc = op->type == QMCU_OP_FULLY_CONNECTED;
    const int32_t oc = qmcu_op_out_channels(g, op);
    int32_t c;
    for (c = 0; c < oc; c++) {
        /* TFLite 2.9 has two formulas. uint8 conv/depthwise and every FULLY_CONNECTED use the
         * legacy GetQuantizedConvolutionMultipler: the input*filter scale product is taken in
         * float, then divided in double. int8 conv/depthwise use the per-channel path, all in
         * double. They differ in the last bits of the multiplier, which shows on ties. */
        const float wsf = w->scales[w->n_scales > 1 ? c : 0];
        const double real = (x->from_uint8 || fc) ? (double)(in_scale * wsf) / (double)out_scale
                                                  : (double)in_scale * (double)wsf / (double)out_scale;
        int sh;
        if (!(real >= 0.0 && real < 65536.0)) {
            qmcu_error_set(err, "%s: op %d %s: quantization scales give a rescale factor of %g (outside [0, 65536))",
                           g->path, opi, qmcu_op_name(op->type), real);
            return QMCU_ERR_FORMAT;
        }
        qmcu_quantize_multiplier(real, &multiplier[c], &sh);
        shift[c] = sh;
    }
    return QMCU_OK;
}

static qmcu_status prepare_conv(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    qmcu_prepared_conv *pc = &po->u.conv;
    size_t *scratch = &po->scratch_bytes;
    const qmcu_tensor *x = QMCU_TENSOR_OF(m, op->in[0]), *w = QMCU_TENSOR_OF(m, op->in[1]), *y = QMCU_TENSOR_OF(m, op->out);
    const qmcu_tensor *b = op->n_in > 2 && op->in[2] >= 0 ? QMCU_TENSOR_OF(m, op->in[2]) : NULL;
    const int dw = op->type == QMCU_OP_DEPTHWISE_CONV_2D, fc = op->type == QMCU_OP_FULLY_CONNECTED;
    const int32_t oc = qmcu_op_out_channels(m->g, op);
    const int32_t k = (int32_t)(qmcu_tensor_elems(w) / (dw ? 1 : oc));
    int32_t *multiplier, *shift, *bias;

    if (x->type == QMCU_F32) {
        qmcu_conv_f32_params *f = &pc->f32;
        f->stride_h = op->stride_h;
        f->stride_w = op->stride_w;
        f->dil_h = op->dil_h;
        f->dil_w = op->dil_w;
        f->pad_top = op->pad_top;
        f->pad_left = op->pad_left;
        f->depth_multiplier = op->depth_multiplier;
        qmcu_act_range_f(op->act, &f->act_min, &f->act_max);
        if (qmcu_op_is_hybrid(m->g, op)) /* the input quantized at run time: one batch, one FC row */
            *scratch = fc ? (size_t)k : (size_t)(qmcu_tensor_elems(x) / x->dims[0]);
        return QMCU_OK;
    }
    qmcu_conv_params *cp = &pc->params;
    cp->input_offset = -x->zero_point;
    cp->filter_offset = -w->zero_point;
    cp->output_offset = y->zero_point;
    qmcu_act_range_q(op->act, y, &cp->act_min, &cp->act_max);
    cp->stride_h = op->stride_h;
    cp->stride_w = op->stride_w;
    cp->dil_h = op->dil_h;
    cp->dil_w = op->dil_w;
    cp->pad_top = op->pad_top;
    cp->pad_left = op->pad_left;
    cp->depth_multiplier = op->depth_multiplier;
    /* owned by the prepared op from here (qmcu_model_free) */
    pc->rq.multiplier = multiplier = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    pc->rq.shift = shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    pc->bias = bias = (int32_t *)calloc((size_t)oc, sizeof(int32_t));
    if (!multiplier || !shift || !bias) {
        qmcu_error_set(err, "%s: out of memory", m->g->path);
        return QMCU_ERR_NOMEM;
    }
    if (qmcu_conv_multipliers(m->g, (int)(op - m->g->ops), x->scale, y->scale, multiplier, shift, err) != QMCU_OK)
        return QMCU_ERR_FORMAT;
    if (dw) {
        if (b) memcpy(bias, b->data, sizeof(int32_t) * (size_t)oc);
        *scratch = qmcu_depthwise_s8_scratch_size(&(qmcu_dims){1, 1, 1, oc});
    } else {
        qmcu_conv_fold_bias(cp, oc, k, (const int8_t *)w->data, b ? (const int32_t *)b->data : NULL, bias);
        if (!fc) {
            qmcu_dims in = nhwc(x), fd = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]}, out = nhwc(y);
            *scratch = qmcu_conv_s8_scratch_size(cp, &in, &fd, &out);
        }
    }
    return QMCU_OK;
}

static void release_conv(qmcu_prepared_op *po, qmcu_op_type type)
{
    (void)type;
    free((void *)po->u.conv.rq.multiplier);
    free((void *)po->u.conv.rq.shift);
    free((void *)po->u.conv.bias);
}

static void emit_conv_arrays(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_prepared_op *po = &m->ops[i];
    const size_t oc = (size_t)qmcu_op_out_channels(m->g, &m->g->ops[i]);
    char name[32];
    if (!po->u.conv.rq.multiplier) return;
    snprintf(name, sizeof name, "op%d_mult", i);
    qmcu_emit_i32(f, name, po->u.conv.rq.multiplier, oc);
    snprintf(name, sizeof name, "op%d_shift", i);
    qmcu_emit_i32(f, name, po->u.conv.rq.shift, oc);
    snprintf(name, sizeof name, "op%d_bias", i);
    qmcu_emit_i32(f, name, po->u.conv.bias, oc);
}

/* Name of one of the op's own arrays, or NULL. */
static void array_name(FILE *f, const void *ptr, int i, const char *what)
{
    if (ptr)
        fprintf(f, "op%d_%s", i, what);
    else
        fputs("NULL", f);
}

static void emit_conv_member(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_prepared_conv *pc = &m->ops[i].u.conv;
    const qmcu_conv_f32_params *c = &pc->f32;
    fputs(",\n        .u.conv = {.params = ", f);
    qmcu_emit_conv_params(f, &pc->params);
    fputs(",\n                   .rq = {.multiplier = ", f);
    array_name(f, pc->rq.multiplier, i, "mult");
    fputs(", .shift = ", f);
    array_name(f, pc->rq.shift, i, "shift");
    fputs("}, .bias = ", f);
    array_name(f, pc->bias, i, "bias");
    fprintf(f,
            ",\n                   .f32 = {.stride_h = %d, .stride_w = %d, .dil_h = %d, .dil_w = %d, .pad_top = %d, "
            ".pad_left = %d, .depth_multiplier = %d, .act_min = ",
            c->stride_h, c->stride_w, c->dil_h, c->dil_w, c->pad_top, c->pad_left, c->depth_multiplier);
    qmcu_emit_float(f, c->act_min);
    fputs(", .act_max = ", f);
    qmcu_emit_float(f, c->act_max);
    fputs("}}", f);
}

const qmcu_op_host qmcu_host_conv = {prepare_conv, release_conv, emit_conv_arrays, emit_conv_member};
