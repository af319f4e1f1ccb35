/* QuantMCU as one library call: calibrate on the int8 patch plan, search the bit widths (VDQS),
 * build the QuantMCU plan and its formats, then the agreement guard (undo the last steps until
 * top-1 agreement with patch mode on the calibration images is high enough). */
#include <stdlib.h>
#include <string.h>

#include "vdq.h"

void qmcu_quant_options_default(qmcu_quant_options *o)
{
    memset(o, 0, sizeof *o);
    o->lambda = 0.5;
    o->outlier_tiles = 0.2;
    o->cand[0] = 8;
    o->cand[1] = 4;
    o->cand[2] = 2;
    o->n_cand = 3;
}

static void sync_exec(qmcu_quant_plan *q)
{
    q->exec = q->plan->exec;
    q->exec.lowbit_bits = q->lowbit->bits;
    q->exec.lowbit = q->lowbit->ops;
}

qmcu_status qmcu_quant_plan_make(const qmcu_model *m, const qmcu_plan_spec *spec, qmcu_vdq *vdq, qmcu_quant_plan **out,
                                 qmcu_error *err)
{
    qmcu_quant_plan *q = (qmcu_quant_plan *)calloc(1, sizeof *q);
    qmcu_plan_spec s = *spec;
    qmcu_status st;
    *out = NULL;
    if (!q) {
        qmcu_vdq_free(vdq);
        qmcu_error_set(err, "%s: out of memory", m->g->path);
        return QMCU_ERR_NOMEM;
    }
    q->vdq = vdq;
    s.quantmcu = 1;
    if ((st = qmcu_plan_build(m, &s, &q->plan, err)) != QMCU_OK ||
        (st = qmcu_lowbit_prepare(m, q->plan, vdq, &q->lowbit, err)) != QMCU_OK) {
        qmcu_quant_plan_free(m, q);
        return st;
    }
    sync_exec(q);
    *out = q;
    return QMCU_OK;
}

qmcu_status qmcu_quant_plan_refresh(const qmcu_model *m, qmcu_quant_plan *q, qmcu_error *err)
{
    qmcu_lowbit_data *d;
    const qmcu_status st = qmcu_lowbit_prepare(m, q->plan, q->vdq, &d, err);
    if (st != QMCU_OK) return st;
    qmcu_lowbit_data_free(m, q->lowbit);
    q->lowbit = d;
    sync_exec(q);
    return QMCU_OK;
}

void qmcu_quant_plan_free(const qmcu_model *m, qmcu_quant_plan *q)
{
    if (!q) return;
    qmcu_lowbit_data_free(m, q->lowbit);
    qmcu_plan_free(q->plan);
    qmcu_vdq_free(q->vdq);
    free(q);
}

/* Index of the largest output value (first output; ties to the lower index). */
static int top1_index(const qmcu_graph *g, const uint8_t *out)
{
    const qmcu_tensor *t = &g->tensors[g->outputs[0]];
    const int64_t n = qmcu_tensor_elems(t);
    int64_t i, best = 0;
    for (i = 1; i < n; i++) {
        const int better = t->type == QMCU_F32 ? ((const float *)out)[i] > ((const float *)out)[best]
                                               : (int8_t)(out[i] ^ (t->from_uint8 ? 0x80 : 0)) >
                                                     (int8_t)(out[best] ^ (t->from_uint8 ? 0x80 : 0));
        if (better) best = i;
    }
    return (int)best;
}

/* The calibration inputs through patch plan pp and QuantMCU plan q: top-1 agreement (%) and
 * the VDPC statistics of q. */
static qmcu_status compare_on_calib(const qmcu_model *m, const qmcu_plan *pp, const qmcu_quant_plan *q,
                                    const uint8_t *const *inputs, int n, double *agree_pct, qmcu_run_stats *stats)
{
    const qmcu_graph *g = m->g;
    const size_t ob = g->tensors[g->outputs[0]].bytes;
    uint8_t *mp = (uint8_t *)calloc(pp->host_bytes ? pp->host_bytes : 1, 1);
    uint8_t *mq = (uint8_t *)calloc(q->exec.memory_bytes ? q->exec.memory_bytes : 1, 1);
    uint8_t *o1 = (uint8_t *)malloc(ob), *o2 = (uint8_t *)malloc(ob);
    qmcu_run_options opt = {0, stats};
    qmcu_status st = mp && mq && o1 && o2 ? QMCU_OK : QMCU_ERR_NOMEM;
    int i, agree = 0;
    memset(stats, 0, sizeof *stats);
    for (i = 0; st == QMCU_OK && i < n; i++) {
        qmcu_exec_set_input(m, &pp->exec, mp, 0, inputs[i]);
        qmcu_exec_set_input(m, &q->exec, mq, 0, inputs[i]);
        if ((st = qmcu_exec_run(m, &pp->exec, mp, NULL)) != QMCU_OK ||
            (st = qmcu_exec_run(m, &q->exec, mq, &opt)) != QMCU_OK)
            break;
        qmcu_exec_get_output(m, &pp->exec, mp, 0, o1);
        qmcu_exec_get_output(m, &q->exec, mq, 0, o2);
        agree += top1_index(g, o1) == top1_index(g, o2);
    }
    *agree_pct = n ? 100.0 * agree / n : 0.0;
    free(mp);
    free(mq);
    free(o1);
    free(o2);
    return st;
}

qmcu_status qmcu_quantmcu_search(const qmcu_model *m, const qmcu_plan *patch, const uint8_t *const *inputs, int n,
                                 const qmcu_quant_options *o, qmcu_quant_plan **out, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    qmcu_vdq *vdq;
    qmcu_quant_plan *q = NULL;
    qmcu_run_stats stats;
    qmcu_status st;
    double agree = 0.0;
    *out = NULL;
    if (patch->spec.split == 0) {
        qmcu_error_set(err,
                       "%s: the plan has no patch stage, so QuantMCU has nothing to quantize (give --split/--grid or a "
                       "smaller --sram)",
                       g->path);
        return QMCU_ERR_ARG;
    }
    if (!(vdq = qmcu_vdq_new(g->n_tensors))) {
        qmcu_error_set(err, "%s: out of memory", g->path);
        return QMCU_ERR_NOMEM;
    }
    vdq->lambda = o->lambda;
    vdq->bitops_target = o->bitops_target;
    vdq->max_agreement_drop = o->max_agreement_drop;
    memcpy(vdq->cand, o->cand, sizeof o->cand);
    vdq->n_cand = o->n_cand;
    if ((st = qmcu_calibrate(m, patch, inputs, n, o->outlier_tiles, vdq, err)) != QMCU_OK) {
        qmcu_vdq_free(vdq);
        return st;
    }
    qmcu_vdqs_search(patch, vdq);
    if ((st = qmcu_quant_plan_make(m, &patch->spec, vdq, &q, err)) != QMCU_OK) return st;
    for (;;) { /* agreement guard: undo the last steps until top-1 agreement >= 100 - P */
        if ((st = compare_on_calib(m, patch, q, inputs, n, &agree, &stats)) != QMCU_OK) {
            qmcu_error_set(err, "%s: calibration run failed (%s)", g->path, qmcu_status_name(st));
            break;
        }
        if (o->max_agreement_drop <= 0.0 || agree >= 100.0 - o->max_agreement_drop || !qmcu_vdqs_undo_last(q->vdq))
            break;
        if ((st = qmcu_quant_plan_refresh(m, q, err)) != QMCU_OK) break;
    }
    if (st != QMCU_OK) {
        qmcu_quant_plan_free(m, q);
        return st;
    }
    q->vdq->agreement_pct = agree;
    q->vdq->calib_outlier_fraction = stats.tiles ? (double)stats.outlier_tiles / (double)stats.tiles : 0.0;
    *out = q;
    return QMCU_OK;
}
