#include "plan_file.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define QMCU_PLAN_FORMAT "quantmcu-plan"
#define QMCU_PLAN_VERSION 1
#define QMCU_PLAN_MAX_BYTES (64u << 20)

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static int producer(const qmcu_graph *g, int t)
{
    int i;
    for (i = 0; i < g->n_ops; i++)
        if (g->ops[i].out == t) return i;
    return -1;
}

static void write_quantmcu(const qmcu_plan *p, FILE *f)
{
    const qmcu_vdq *v = p->vdq;
    const qmcu_graph *g = p->g;
    const double b8 = (double)p->patch_macs * 64.0, bq = qmcu_vdq_static_bitops(p, v);
    int t, s, c, first = 1;
    fprintf(f, "  \"quantmcu\": {\n    \"calibration\": {\"images\": %d, \"outlier_tiles\": %g, \"realized_outlier_tile_fraction\": %.4f, "
               "\"seconds\": %.3f},\n", v->calib_images, v->outlier_tiles, v->calib_outlier_fraction, v->calib_seconds);
    fprintf(f, "    \"search\": {\"lambda\": %g, \"candidates\": [", v->lambda);
    for (c = 0; c < v->n_cand; c++) fprintf(f, c ? ", %d" : "%d", v->cand[c]);
    fprintf(f, "], \"bitops_target\": %g, \"max_agreement_drop\": %g, \"seconds\": %.6f, \"calib_top1_agreement_pct\": %.2f,\n",
            v->bitops_target, v->max_agreement_drop, v->search_seconds, v->agreement_pct);
    fprintf(f, "               \"steps\": [");
    for (s = 0; s < v->n_steps; s++)
        fprintf(f, "%s\n        {\"tensor\": %d, \"op\": %d, \"bits\": %d, \"from_bits\": %d, \"score\": %.6g, \"omega\": %.6g, \"phi\": %.6g, \"applied\": %s}",
                s ? "," : "", v->steps[s].tensor, producer(g, v->steps[s].tensor), v->steps[s].bits, v->steps[s].from_bits,
                v->steps[s].score, v->steps[s].omega, v->steps[s].phi, v->steps[s].applied ? "true" : "false");
    fprintf(f, "]},\n    \"patch_bitops_int8\": %.0f, \"patch_bitops\": %.0f, \"patch_bitops_ratio\": %.4f,\n", b8, bq, bq > 0 ? b8 / bq : 0.0);
    fprintf(f, "    \"feature_maps\": [");
    for (t = 0; t < v->n_tensors; t++) {
        const qmcu_fmap *fm = &v->fmap[t];
        if (!fm->in_scope) continue;
        fprintf(f, "%s\n      {\"tensor\": %d, \"op\": %d, \"bits\": %d, \"lo\": %.9g, \"threshold\": %.9g, \"consumer_macs\": %.0f, \"entropy\": [",
                first ? "" : ",", t, producer(g, t), fm->bits, (double)fm->lo, (double)fm->hi, fm->consumer_macs);
        for (c = 1; c <= 8; c++) fprintf(f, c > 1 ? ", %.4f" : "%.4f", fm->entropy[c]);
        fprintf(f, "]}");
        first = 0;
    }
    fprintf(f, "\n    ]\n  },\n");
}

void qmcu_plan_write_json(const qmcu_plan *p, size_t budget, FILE *f)
{
    const qmcu_graph *g = p->g;
    const int64_t redundant = p->patch_macs - p->patch_layer_macs;
    int i;
    fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"model\": {\"path\": ", QMCU_PLAN_FORMAT, QMCU_PLAN_VERSION);
    json_string(f, g->path);
    fprintf(f, ", \"fingerprint\": \"%016" PRIx64 "\", \"ops\": %d},\n", g->fingerprint, g->n_ops);
    fprintf(f, "  \"mode\": \"%s\",\n  \"split\": %d,\n", p->vdq ? "quantmcu" : (p->spec.split ? "patch" : "layer"), p->spec.split);
    if (p->split_tensor >= 0) {
        const qmcu_tensor *s = &g->tensors[p->split_tensor];
        fprintf(f, "  \"split_tensor\": {\"index\": %d, \"name\": ", p->split_tensor);
        json_string(f, s->name);
        fprintf(f, ", \"shape\": [%d, %d, %d, %d]},\n", s->dims[0], s->dims[1], s->dims[2], s->dims[3]);
    }
    fprintf(f, "  \"grid\": [%d, %d],\n  \"input_in_sram\": %s,\n", p->spec.grid_h, p->spec.grid_w,
            p->spec.input_in_sram ? "true" : "false");
    if (budget) fprintf(f, "  \"sram_budget_bytes\": %zu,\n  \"fits_budget\": %s,\n", budget, p->arena_bytes <= budget ? "true" : "false");
    fprintf(f,
            "  \"metrics\": {\"peak_sram_bytes\": %zu, \"arena_bytes\": %zu, \"live_peak_bytes\": %zu, \"input_bytes\": %zu,\n"
            "              \"macs\": %" PRId64 ", \"patch_macs\": %" PRId64 ", \"patch_layer_macs\": %" PRId64
            ", \"redundant_macs\": %" PRId64 ", \"redundant_macs_pct\": %.2f,\n"
            "              \"tiles\": %d, \"input_patch\": [%d, %d]},\n",
            p->arena_bytes, p->arena_bytes, p->live_peak_bytes, p->input_bytes, p->macs, p->patch_macs, p->patch_layer_macs,
            redundant, p->patch_layer_macs ? 100.0 * (double)redundant / (double)p->patch_layer_macs : 0.0, p->n_tiles,
            p->input_patch_h, p->input_patch_w);
    if (p->vdq) write_quantmcu(p, f);
    fprintf(f, "  \"memory\": [\n");
    for (i = 0; i < g->n_ops; i++)
        fprintf(f, "    {\"op\": %d, \"type\": \"%s\", \"stage\": \"%s\", \"live_bytes\": %zu, \"scratch_bytes\": %zu, \"in_place\": %s}%s\n",
                i, qmcu_op_name(g->ops[i].type), i < p->spec.split ? "patch" : "layer", p->step_live_bytes[i],
                p->scratch_bytes[i], p->in_place[i] ? "true" : "false", i + 1 < g->n_ops ? "," : "");
    fprintf(f, "  ]\n}\n");
}

static char *read_text(const char *path, qmcu_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f) {
        qmcu_error_set(err, "%s: cannot open plan file", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || (unsigned long)n > QMCU_PLAN_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = (char *)malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        qmcu_error_set(err, "%s: cannot read plan file", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int get_int(const cJSON *o, const char *key, int lo, int hi, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    /* range first: converting an out-of-range double to int is undefined */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) || v->valuedouble != (double)(int)v->valuedouble)
        return 0;
    *out = (int)v->valuedouble;
    return 1;
}

static int get_num(const cJSON *o, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)) return 0;
    *out = v->valuedouble;
    return 1;
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
        if (!get_int(fm, "tensor", 0, g->n_tensors - 1, &t) || !get_int(fm, "bits", 2, 8, &bits) ||
            !get_num(fm, "lo", -1e30, 0.0, &lo) || !get_num(fm, "threshold", 0.0, 1e30, &hi) || !(hi > lo)) {
            qmcu_error_set(err, "%s: each feature map needs \"tensor\", \"bits\" (2..8), \"lo\" <= 0 < \"threshold\"", path);
            qmcu_vdq_free(v);
            return QMCU_ERR_FORMAT;
        }
        for (i = 0; i < split; i++)
            if (g->ops[i].out == t) prod = i;
        if (prod < 0 || prod == split - 1 || g->tensors[t].type != QMCU_I8 ||
            (g->ops[prod].type != QMCU_OP_CONV_2D && g->ops[prod].type != QMCU_OP_DEPTHWISE_CONV_2D &&
             g->ops[prod].type != QMCU_OP_ADD)) {
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

qmcu_status qmcu_plan_read_spec(const char *path, const qmcu_graph *g, qmcu_plan_spec *spec, qmcu_vdq **vdq,
                                qmcu_error *err)
{
    char *text = read_text(path, err);
    qmcu_status st;
    if (!text) return QMCU_ERR_IO;
    st = qmcu_plan_parse_spec(text, path, g, spec, vdq, err);
    free(text);
    return st;
}

qmcu_status qmcu_plan_parse_spec(const char *text, const char *path, const qmcu_graph *g, qmcu_plan_spec *spec,
                                 qmcu_vdq **vdq, qmcu_error *err)
{
    char fp[17];
    cJSON *root, *v, *model, *grid;
    qmcu_status st = QMCU_ERR_FORMAT;
    int version;
    if (vdq) *vdq = NULL;
    root = cJSON_Parse(text);
    memset(spec, 0, sizeof *spec);
    if (!root || !cJSON_IsObject(root)) {
        qmcu_error_set(err, "%s: not a JSON plan file", path);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, QMCU_PLAN_FORMAT) != 0) {
        qmcu_error_set(err, "%s: not a quantmcu plan (\"format\" must be \"%s\")", path, QMCU_PLAN_FORMAT);
        goto done;
    }
    if (!get_int(root, "version", 1, 1000, &version) || version != QMCU_PLAN_VERSION) {
        qmcu_error_set(err, "%s: unsupported plan version (this build reads version %d)", path, QMCU_PLAN_VERSION);
        goto done;
    }
    model = cJSON_GetObjectItemCaseSensitive(root, "model");
    v = cJSON_GetObjectItemCaseSensitive(model, "fingerprint");
    snprintf(fp, sizeof fp, "%016" PRIx64, g->fingerprint);
    if (!cJSON_IsString(v)) {
        qmcu_error_set(err, "%s: plan has no model fingerprint", path);
        goto done;
    }
    if (strcmp(v->valuestring, fp) != 0) {
        const cJSON *mp = cJSON_GetObjectItemCaseSensitive(model, "path");
        qmcu_error_set(err, "%s: plan was made for another model (%s, fingerprint %.16s), not %s (fingerprint %s)", path,
                       cJSON_IsString(mp) ? mp->valuestring : "?", v->valuestring, g->path, fp);
        goto done;
    }
    grid = cJSON_GetObjectItemCaseSensitive(root, "grid");
    if (!get_int(root, "split", 0, g->n_ops, &spec->split) || !cJSON_IsArray(grid) || cJSON_GetArraySize(grid) != 2 ||
        !cJSON_IsNumber(cJSON_GetArrayItem(grid, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(grid, 1))) {
        qmcu_error_set(err, "%s: plan needs \"split\" (0..%d) and \"grid\": [rows, cols]", path, g->n_ops);
        goto done;
    }
    {
        const double gh = cJSON_GetArrayItem(grid, 0)->valuedouble, gw = cJSON_GetArrayItem(grid, 1)->valuedouble;
        spec->grid_h = gh >= 1.0 && gh <= 4096.0 ? (int)gh : 0;
        spec->grid_w = gw >= 1.0 && gw <= 4096.0 ? (int)gw : 0;
        if (gh != spec->grid_h || gw != spec->grid_w) spec->grid_h = 0;
    }
    if (spec->grid_h < 1 || spec->grid_w < 1) {
        qmcu_error_set(err, "%s: \"grid\" must hold two positive integers", path);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "input_in_sram");
    spec->input_in_sram = v ? cJSON_IsTrue(v) : 1;
    if (v && !cJSON_IsBool(v)) {
        qmcu_error_set(err, "%s: \"input_in_sram\" must be true or false", path);
        goto done;
    }
    if (vdq) {
        *vdq = NULL;
        v = cJSON_GetObjectItemCaseSensitive(root, "quantmcu");
        if (v && (st = read_quantmcu(path, v, g, spec->split, vdq, err)) != QMCU_OK) goto done;
    }
    st = QMCU_OK;
done:
    cJSON_Delete(root);
    return st;
}
