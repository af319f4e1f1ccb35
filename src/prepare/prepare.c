#include "prepare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"
#include "op_host.h"

qmcu_status qmcu_prepare_nomem(const qmcu_model *m, qmcu_error *err)
{
    qmcu_error_set(err, "%s: out of memory", m->g->path);
    return QMCU_ERR_NOMEM;
}

/* Rescale factors outside this range only come from broken or hostile models (and would
 * overflow the fixed-point shifts); they are rejected at prepare time. */
qmcu_status qmcu_check_rescale(const qmcu_model *m, int op, double real, qmcu_error *err)
{
    if (real >= 0.0 && real < 65536.0) return QMCU_OK;
    qmcu_error_set(err, "%s: op %d %s: quantization scales give a rescale factor of %g (outside [0, 65536))",
                   m->g->path, op, qmcu_op_name(m->g->ops[op].type), real);
    return QMCU_ERR_FORMAT;
}

void qmcu_activation_range(qmcu_activation act, float scale, int32_t zero_point, int32_t *lo, int32_t *hi)
{
    int32_t qmin = -128, qmax = 127;
#define QUANT(f) (zero_point + qmcu_float_to_int_sat(roundf((f) / scale)))
    switch (act) {
    case QMCU_ACT_RELU: qmin = QUANT(0.0f) > qmin ? QUANT(0.0f) : qmin; break;
    case QMCU_ACT_RELU6:
        qmin = QUANT(0.0f) > qmin ? QUANT(0.0f) : qmin;
        qmax = QUANT(6.0f) < qmax ? QUANT(6.0f) : qmax;
        break;
    case QMCU_ACT_RELU_N1_TO_1:
        qmin = QUANT(-1.0f) > qmin ? QUANT(-1.0f) : qmin;
        qmax = QUANT(1.0f) < qmax ? QUANT(1.0f) : qmax;
        break;
    default: break;
    }
#undef QUANT
    *lo = qmin;
    *hi = qmax;
}

void qmcu_act_range_q(qmcu_activation act, const qmcu_tensor *y, int32_t *lo, int32_t *hi)
{
    qmcu_activation_range(act, y->scale, y->zero_point, lo, hi);
}

void qmcu_act_range_f(qmcu_activation act, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (act == QMCU_ACT_RELU || act == QMCU_ACT_RELU6) *lo = 0.0f;
    if (act == QMCU_ACT_RELU6) *hi = 6.0f;
    if (act == QMCU_ACT_RELU_N1_TO_1) {
        *lo = -1.0f;
        *hi = 1.0f;
    }
}

/* Op i: its float activation range, then its family's parameters (src/prepare/ops/). */
static qmcu_status prepare_op(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op_host *h = qmcu_op_host_of(m->g->ops[i].type);
    qmcu_act_range_f(m->g->ops[i].act, &po->act_min_f, &po->act_max_f);
    return h->prepare ? h->prepare(m, po, i, err) : QMCU_OK;
}

qmcu_status qmcu_model_prepare(const qmcu_graph *g, qmcu_model **out, qmcu_error *err)
{
    qmcu_model *m = (qmcu_model *)calloc(1, sizeof *m);
    qmcu_prepared_op *ops;
    qmcu_status st = QMCU_OK;
    int i;
    *out = NULL;
    if (!m) return QMCU_ERR_NOMEM;
    m->g = g;
    m->kernels = qmcu_op_kernels_all;
    m->ops = ops = (qmcu_prepared_op *)calloc((size_t)g->n_ops, sizeof *ops);
    if (!ops) {
        qmcu_model_free(m);
        qmcu_error_set(err, "%s: out of memory", g->path);
        return QMCU_ERR_NOMEM;
    }
    for (i = 0; i < g->n_ops && st == QMCU_OK; i++) st = prepare_op(m, &ops[i], i, err);
    if (st != QMCU_OK) {
        qmcu_model_free(m);
        return st;
    }
    *out = m;
    return QMCU_OK;
}

void qmcu_model_free(qmcu_model *m)
{
    int i;
    if (!m) return;
    for (i = 0; m->ops && i < m->g->n_ops; i++) { /* what each op's family allocated */
        const qmcu_op_host *h = qmcu_op_host_of(m->g->ops[i].type);
        if (h->release) h->release((qmcu_prepared_op *)&m->ops[i], m->g->ops[i].type);
    }
    free((void *)m->ops);
    free(m);
}
