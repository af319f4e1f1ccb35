/* The "quantmcu" section of plan.json: calibration and search record (informative), and per
 * feature map the thresholds and bits (what a plan file must carry to be run). */
#include <stdlib.h>
#include <string.h>

#include "../planning/plan_file.h"
#include "vdq.h"


void qmcu_vdq_write_json(FILE *f, const void *quant_plan)
{
    const qmcu_plan *p = (const qmcu_plan *)quant_plan;
    const qmcu_quant_section *q = p->quant;
    const qmcu_vdq *v = q->vdq;
    const qmcu_graph *g = p->g;
    const double b8 = (double)p->patch_macs * 64.0, bq = qmcu_vdq_static_bitops(p, v);
    int t, s, c, first = 1;
    fprintf(f,
            "  \"quantmcu\": {\n    \"scheme\": \"v%d\", \"proxy\": \"%s\", \"outlier_values\": %s,\n"
            "    \"calibration\": {\"images\": %d, \"outlier_tiles\": %g, "
            "\"realized_outlier_tile_fraction\": %.4f, \"realized_outlier_value_fraction\": %.5f, "
            "\"seconds\": %.3f},\n",
            (int)v->opt.scheme, v->opt.proxy == QMCU_PROXY_OUTPUT ? "output" : "entropy",
            v->opt.scheme >= QMCU_SCHEME_V2 && v->opt.keep_outliers ? "true" : "false", v->calib_images, v->opt.outlier_tiles,
            v->calib_outlier_fraction, v->calib_outlier_value_fraction, v->calib_seconds);
    fprintf(f, "    \"search\": {\"lambda\": %g, \"candidates\": [", v->opt.lambda);
    for (c = 0; c < v->opt.n_cand; c++) fprintf(f, c ? ", %d" : "%d", v->opt.cand[c]);
    fprintf(f,
            "], \"bitops_target\": %g, \"max_agreement_drop\": %g, \"seconds\": %.6f, \"calib_top1_agreement_pct\": "
            "%.2f,\n",
            v->opt.bitops_target, v->opt.max_agreement_drop, v->search_seconds, v->agreement_pct);
    fprintf(f, "               \"steps\": [");
    for (s = 0; s < v->n_steps; s++)
        fprintf(f,
                "%s\n        {\"tensor\": %d, \"op\": %d, \"bits\": %d, \"from_bits\": %d, \"score\": %.6g, \"omega\": "
                "%.6g, \"phi\": %.6g, \"applied\": %s}",
                s ? "," : "", v->steps[s].tensor, qmcu_graph_producer(g, v->steps[s].tensor, g->n_ops), v->steps[s].bits,
                v->steps[s].from_bits, v->steps[s].score, v->steps[s].omega, v->steps[s].phi,
                v->steps[s].applied ? "true" : "false");
    fprintf(f,
            "]},\n    \"patch_bitops_int8\": %.0f, \"patch_bitops\": %.0f, \"patch_bitops_ratio\": %.4f, "
            "\"weight_variant_bytes\": %zu,\n",
            b8, bq, bq > 0 ? b8 / bq : 0.0, q->lowbit ? q->lowbit->weight_variant_bytes : (size_t)0);
    fprintf(f, "    \"feature_maps\": [");
    for (t = 0; t < v->n_tensors; t++) {
        const qmcu_fmap *fm = &v->fmap[t];
        if (!fm->in_scope) continue;
        fprintf(f,
                "%s\n      {\"tensor\": %d, \"op\": %d, \"bits\": %d, \"lo\": %.9g, \"threshold\": %.9g, "
                "\"consumer_macs\": %.0f, \"entropy\": [",
                first ? "" : ",", t, qmcu_graph_producer(g, t, g->n_ops), fm->bits, (double)fm->lo, (double)fm->hi, fm->consumer_macs);
        for (c = 1; c <= 8; c++) fprintf(f, c > 1 ? ", %.4f" : "%.4f", fm->entropy[c]);
        fprintf(f, "]");
        if (v->opt.scheme >= QMCU_SCHEME_V2) {
            fprintf(f, ", \"omega\": [");
            for (c = 2; c <= 8; c++) fprintf(f, c > 2 ? ", %.6g" : "%.6g", fm->omega[c]);
            fprintf(f, "], \"signed\": %s, \"tau\": %d", fm->is_signed ? "true" : "false", (int)fm->tau[fm->bits]);
            if (fm->bits < 8 && fm->scale[fm->bits]) { /* the format the plan runs: one scale per channel */
                fprintf(f, ",\n       \"scales\": [");
                for (c = 0; c < fm->channels; c++) fprintf(f, c ? ", %.9g" : "%.9g", (double)fm->scale[fm->bits][c]);
                fprintf(f, "]");
            }
        }
        fprintf(f, "}");
        first = 0;
    }
    fprintf(f, "\n    ]\n  },\n");
}

/* "quantmcu": thresholds and bits per feature map (the rest is recomputed or informative). */
/* Version 2 of a feature map: signedness, tau and the per-channel scales at its bits. */
static int read_v2_map(const cJSON *fm, const qmcu_graph *g, int t, qmcu_fmap *m)
{
    const cJSON *sg = cJSON_GetObjectItemCaseSensitive(fm, "signed");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(fm, "scales"), *e;
    const int c_n = g->tensors[t].dims[3];
    int tau, c = 0;
    if (!cJSON_IsBool(sg) || !qmcu_json_get_int(fm, "tau", -1, 1 << 30, &tau)) return 0;
    m->is_signed = cJSON_IsTrue(sg);
    m->tau[m->bits] = tau;
    if (m->bits == 8) return 1;
    if (!cJSON_IsArray(sc) || cJSON_GetArraySize(sc) != c_n || !qmcu_fmap_alloc_scales(m, m->bits, c_n)) return 0;
    cJSON_ArrayForEach(e, sc)
    {
        if (!cJSON_IsNumber(e) || !(e->valuedouble > 1e-30 && e->valuedouble < 1e30)) return 0;
        m->scale[m->bits][c++] = (float)e->valuedouble;
    }
    return 1;
}

static qmcu_status read_quantmcu(const char *path, const cJSON *q, const qmcu_graph *g, int split, qmcu_vdq **out,
                                 qmcu_error *err)
{
    const cJSON *scheme = cJSON_GetObjectItemCaseSensitive(q, "scheme");
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
    if (scheme &&
        (!cJSON_IsString(scheme) ||
         (strcmp(scheme->valuestring, "v1") && strcmp(scheme->valuestring, "v2") && strcmp(scheme->valuestring, "v3")))) {
        qmcu_error_set(err, "%s: \"scheme\" must be \"v1\", \"v2\" or \"v3\"", path);
        return QMCU_ERR_FORMAT;
    }
    if (!(v = qmcu_vdq_new(g->n_tensors))) {
        qmcu_error_set(err, "%s: out of memory", path);
        return QMCU_ERR_NOMEM;
    }
    if (scheme && strcmp(scheme->valuestring, "v1")) {
        const cJSON *keep = cJSON_GetObjectItemCaseSensitive(q, "outlier_values");
        v->opt.scheme = scheme->valuestring[1] == '3' ? QMCU_SCHEME_V3 : QMCU_SCHEME_V2;
        v->opt.keep_outliers = cJSON_IsTrue(keep);
    }
    { /* what calibration realized (the cost model's expected outlier tiles); optional */
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(q, "calibration");
        double f;
        if (c && qmcu_json_get_num(c, "realized_outlier_tile_fraction", 0.0, 1.0, &f)) v->calib_outlier_fraction = f;
    }
    cJSON_ArrayForEach(fm, maps)
    {
        int t, bits, prod;
        double lo, hi;
        if (!qmcu_json_get_int(fm, "tensor", 0, g->n_tensors - 1, &t) || !qmcu_json_get_int(fm, "bits", 2, 8, &bits) ||
            !qmcu_json_get_num(fm, "lo", -1e30, 0.0, &lo) || !qmcu_json_get_num(fm, "threshold", 0.0, 1e30, &hi) ||
            !(hi > lo)) {
            qmcu_error_set(err, "%s: each feature map needs \"tensor\", \"bits\" (2..8), \"lo\" <= 0 < \"threshold\"",
                           path);
            qmcu_vdq_free(v);
            return QMCU_ERR_FORMAT;
        }
        prod = qmcu_graph_producer(g, t, split);
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
        v->fmap[t].channels = g->tensors[t].dims[3];
        if (v->opt.scheme >= QMCU_SCHEME_V2 && !read_v2_map(fm, g, t, &v->fmap[t])) {
            qmcu_error_set(err,
                           "%s: tensor %d: a version-2 feature map needs \"signed\", \"tau\" and one positive scale "
                           "per channel (%d)",
                           path, t, g->tensors[t].dims[3]);
            qmcu_vdq_free(v);
            return QMCU_ERR_FORMAT;
        }
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
