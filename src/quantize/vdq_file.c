/* The "quantmcu" section of plan.json: calibration and search record (informative), and per
 * feature map the thresholds and bits (what a plan file must carry to be run). */
#include <stdlib.h>

#include "../planning/plan_file.h"
#include "vdq.h"

static int producer(const qmcu_graph *g, int t)
{
    int i;
    for (i = 0; i < g->n_ops; i++)
        if (g->ops[i].out == t) return i;
    return -1;
}

void qmcu_vdq_write_json(FILE *f, const void *quant_plan)
{
    const qmcu_quant_plan *q = (const qmcu_quant_plan *)quant_plan;
    const qmcu_plan *p = q->plan;
    const qmcu_vdq *v = q->vdq;
    const qmcu_graph *g = p->g;
    const double b8 = (double)p->patch_macs * 64.0, bq = qmcu_vdq_static_bitops(p, v);
    int t, s, c, first = 1;
    fprintf(f,
            "  \"quantmcu\": {\n    \"calibration\": {\"images\": %d, \"outlier_tiles\": %g, "
            "\"realized_outlier_tile_fraction\": %.4f, "
            "\"seconds\": %.3f},\n",
            v->calib_images, v->outlier_tiles, v->calib_outlier_fraction, v->calib_seconds);
    fprintf(f, "    \"search\": {\"lambda\": %g, \"candidates\": [", v->lambda);
    for (c = 0; c < v->n_cand; c++) fprintf(f, c ? ", %d" : "%d", v->cand[c]);
    fprintf(f,
            "], \"bitops_target\": %g, \"max_agreement_drop\": %g, \"seconds\": %.6f, \"calib_top1_agreement_pct\": "
            "%.2f,\n",
            v->bitops_target, v->max_agreement_drop, v->search_seconds, v->agreement_pct);
    fprintf(f, "               \"steps\": [");
    for (s = 0; s < v->n_steps; s++)
        fprintf(f,
                "%s\n        {\"tensor\": %d, \"op\": %d, \"bits\": %d, \"from_bits\": %d, \"score\": %.6g, \"omega\": "
                "%.6g, \"phi\": %.6g, \"applied\": %s}",
                s ? "," : "", v->steps[s].tensor, producer(g, v->steps[s].tensor), v->steps[s].bits,
                v->steps[s].from_bits, v->steps[s].score, v->steps[s].omega, v->steps[s].phi,
                v->steps[s].applied ? "true" : "false");
    fprintf(f, "]},\n    \"patch_bitops_int8\": %.0f, \"patch_bitops\": %.0f, \"patch_bitops_ratio\": %.4f,\n", b8, bq,
            bq > 0 ? b8 / bq : 0.0);
    fprintf(f, "    \"feature_maps\": [");
    for (t = 0; t < v->n_tensors; t++) {
        const qmcu_fmap *fm = &v->fmap[t];
        if (!fm->in_scope) continue;
        fprintf(f,
                "%s\n      {\"tensor\": %d, \"op\": %d, \"bits\": %d, \"lo\": %.9g, \"threshold\": %.9g, "
                "\"consumer_macs\": %.0f, \"entropy\": [",
                first ? "" : ",", t, producer(g, t), fm->bits, (double)fm->lo, (double)fm->hi, fm->consumer_macs);
        for (c = 1; c <= 8; c++) fprintf(f, c > 1 ? ", %.4f" : "%.4f", fm->entropy[c]);
        fprintf(f, "]}");
        first = 0;
    }
    fprintf(f, "\n    ]\n  },\n");
}

/* "quantmcu": thresholds and bits per feature map (the rest is recomputed or informative). */
static qmcu_status read_quantmcu(const char *path, const cJSON *q, const qmcu_graph *g, int split, qmcu_vdq **out,
                                 qmcu_error *err)
{
    const cJSON *maps = cJSON_GetObjectItemCaseSensitive(q, "feature_maps"), *fm;
    qmcu_vdq *v;
    if (!cJSON_IsArray(maps)) {
        qmcu_error_set(err, "%s: \"quantmcu\" needs a \"feature_maps\" array", path);
        return QMCU_ERR_FORMAT;
    }
    if (split == 0) {
        qmcu_error_set(err, "%s: a \"quantmcu\" section needs a patch stage (split > 0)", path);
        return QMCU_ERR_FORMAT;
    }
    if (!(v = qmcu_vdq_new(g->n_tensors))) {
        qmcu_error_set(err, "%s: out of memory", path);
        return QMCU_ERR_NOMEM;
    }
    cJSON_ArrayForEach(fm, maps)
    {
        int t, bits, i, prod = -1;
        double lo, hi;
        if (!qmcu_json_get_int(fm, "tensor", 0, g->n_tensors - 1, &t) || !qmcu_json_get_int(fm, "bits", 2, 8, &bits) ||
            !qmcu_json_get_num(fm, "lo", -1e30, 0.0, &lo) || !qmcu_json_get_num(fm, "threshold", 0.0, 1e30, &hi) ||
            !(hi > lo)) {
            qmcu_error_set(err, "%s: each feature map needs \"tensor\", \"bits\" (2..8), \"lo\" <= 0 < \"threshold\"",
                           path);
            qmcu_vdq_free(v);
            return QMCU_ERR_FORMAT;
        }
        for (i = 0; i < split; i++)
            if (g->ops[i].out == t) prod = i;
        if (prod < 0 || prod == split - 1 || g->tensors[t].type != QMCU_I8 ||
            !qmcu_op_has(g->ops[prod].type, QMCU_OPT_LOWBIT_PRODUCER)) {
            qmcu_error_set(err, "%s: tensor %d is not a low-bit feature map of this plan's patch stage", path, t);
            qmcu_vdq_free(v);
            return QMCU_ERR_FORMAT;
        }
        v->fmap[t].in_scope = 1;
        v->fmap[t].bits = bits;
        v->fmap[t].lo = (float)lo;
        v->fmap[t].hi = (float)hi;
    }
    *out = v;
    return QMCU_OK;
}

qmcu_status qmcu_vdq_parse(const char *text, const char *path, const qmcu_graph *g, int split, qmcu_vdq **out,
                           qmcu_error *err)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *q = root ? cJSON_GetObjectItemCaseSensitive(root, "quantmcu") : NULL;
    qmcu_status st;
    *out = NULL;
    if (!q) {
        qmcu_error_set(err, "%s: plan has no QuantMCU section (make it with 'quantmcu plan --calib DIR')", path);
        cJSON_Delete(root);
        return QMCU_ERR_FORMAT;
    }
    st = read_quantmcu(path, q, g, split, out, err);
    cJSON_Delete(root);
    return st;
}
