/* Reductions on the host: MEAN (TFLite's three integer paths) and SOFTMAX (its exp table, owned). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/qmcu_fixedpoint.h"
#include "../emit.h"
#include "../op_host.h"
#include "../prepare.h"

/* MEAN: TFLite's three paths (quantmcu/kernels.h). */
static qmcu_status prepare_mean_s8(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR_OF(m, op->in[0]), *y = QMCU_TENSOR_OF(m, op->out);
    qmcu_mean_params *mp = &po->u.mean;
    int32_t d[4], n = 1, j;
    qmcu_tensor_dims4(x, d);
    for (j = 0; j < 4; j++)
        if (op->reduce_mask & (1 << j)) n *= d[j];
    mp->reduce_mask = op->reduce_mask;
    mp->value_offset = x->from_uint8 ? 128 : 0;
    mp->uint8_model = x->from_uint8;
    mp->input_zero_point = x->zero_point;
    mp->output_zero_point = y->zero_point;
    mp->input_scale = x->scale;
    mp->output_scale = y->scale;
    if (qmcu_check_rescale(m, i, (double)x->scale / (double)y->scale, err) != QMCU_OK) return QMCU_ERR_FORMAT;
    if (op->keep_dims && x->ndim == 4 && op->reduce_mask == 6) {
        mp->kind = QMCU_MEAN_SPATIAL;
        if (x->from_uint8) {
            mp->value_offset = 128;
            qmcu_quantize_multiplier((double)(x->scale / ((float)n * y->scale)), &mp->multiplier, &mp->shift);
        } else {
            qmcu_quantize_multiplier((double)x->scale / (double)y->scale, &mp->multiplier, &mp->shift);
        }
    } else if (x->scale == y->scale && x->zero_point == y->zero_point) {
        mp->kind = QMCU_MEAN_SAME_QUANT;
    } else {
        mp->kind = QMCU_MEAN_RESCALE;
    }
    po->scratch_bytes = sizeof(int32_t) * (size_t)(qmcu_tensor_elems(x) / n);
    return QMCU_OK;
}

static qmcu_status prepare_mean(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    if (QMCU_TENSOR_OF(m, m->g->ops[i].out)->type != QMCU_I8) return QMCU_OK;
    return prepare_mean_s8(m, po, i, err);
}

static void emit_mean_member(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_mean_params *mp = &m->ops[i].u.mean;
    fprintf(f,
            ",\n        .u.mean = {.kind = (qmcu_mean_kind)%d, .reduce_mask = %d, .value_offset = %d, "
            ".input_zero_point = %d, .output_zero_point = %d, .multiplier = %d, .shift = %d, .input_scale = ",
            (int)mp->kind, mp->reduce_mask, mp->value_offset, mp->input_zero_point, mp->output_zero_point,
            mp->multiplier, mp->shift);
    qmcu_emit_float(f, mp->input_scale);
    fputs(", .output_scale = ", f);
    qmcu_emit_float(f, mp->output_scale);
    fprintf(f, ", .uint8_model = %d}", mp->uint8_model);
}

const qmcu_op_host qmcu_host_mean = {prepare_mean, NULL, NULL, emit_mean_member};

static qmcu_status prepare_softmax(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR_OF(m, op->in[0]), *y = QMCU_TENSOR_OF(m, op->out);
    float *table;
    if (y->type != QMCU_I8) return QMCU_OK;
    if (!(table = (float *)malloc(256 * sizeof(float)))) return qmcu_prepare_nomem(m, err);
    qmcu_softmax_table(x->scale, op->beta, table);
    po->u.softmax.table = table; /* owned */
    po->u.softmax.output_scale = y->scale;
    po->u.softmax.output_zero_point = y->zero_point;
    po->u.softmax.uint8_output = y->from_uint8;
    return QMCU_OK;
}

static void release_softmax(qmcu_prepared_op *po, qmcu_op_type type)
{
    (void)type;
    free((void *)po->u.softmax.table);
}

static void emit_softmax_arrays(FILE *f, const qmcu_model *m, int i)
{
    char name[32];
    if (!m->ops[i].u.softmax.table) return;
    snprintf(name, sizeof name, "op%d_softmax_table", i);
    qmcu_emit_floats(f, name, m->ops[i].u.softmax.table, 256);
}

static void emit_softmax_member(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_softmax_params *s = &m->ops[i].u.softmax;
    if (!s->table) return;
    fprintf(f, ",\n        .u.softmax = {.table = op%d_softmax_table, .output_scale = ", i);
    qmcu_emit_float(f, s->output_scale);
    fprintf(f, ", .output_zero_point = %d, .uint8_output = %d}", s->output_zero_point, s->uint8_output);
}

const qmcu_op_host qmcu_host_softmax = {prepare_softmax, release_softmax, emit_softmax_arrays, emit_softmax_member};
