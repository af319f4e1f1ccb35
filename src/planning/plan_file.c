#include "plan_file.h"

#include "../common/host_file.h"
#include "cost_model.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define QMCU_PLAN_FORMAT    "quantmcu-plan"
#define QMCU_PLAN_VERSION   1
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

void qmcu_plan_write_json(const qmcu_plan *p, const qmcu_plan_json_section *extra, FILE *f)
{
    const size_t budget = p->spec.sram_budget;
    const qmcu_graph *g = p->g;
    const int64_t redundant = p->patch_macs - p->patch_layer_macs;
    int i;
    fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"model\": {\"path\": ", QMCU_PLAN_FORMAT,
            QMCU_PLAN_VERSION);
    json_string(f, g->path);
    fprintf(f, ", \"fingerprint\": \"%016" PRIx64 "\", \"ops\": %d},\n", g->fingerprint, g->n_ops);
    fprintf(f, "  \"mode\": \"%s\",\n  \"split\": %d,\n", extra ? extra->mode : (p->spec.split ? "patch" : "layer"),
            p->spec.split);
    if (p->split_tensor >= 0) {
        const qmcu_tensor *s = &g->tensors[p->split_tensor];
        fprintf(f, "  \"split_tensor\": {\"index\": %d, \"name\": ", p->split_tensor);
        json_string(f, s->name);
        fprintf(f, ", \"shape\": [%d, %d, %d, %d]},\n", s->dims[0], s->dims[1], s->dims[2], s->dims[3]);
    }
    fprintf(f, "  \"grid\": [%d, %d],\n  \"input_in_sram\": %s,\n", p->spec.grid_h, p->spec.grid_w,
            p->spec.input_in_sram ? "true" : "false");
    if (budget)
        fprintf(f, "  \"sram_budget_bytes\": %zu,\n  \"fits_budget\": %s,\n", budget,
                p->arena_bytes <= budget ? "true" : "false");
    fprintf(f,
            "  \"metrics\": {\"peak_sram_bytes\": %zu, \"arena_bytes\": %zu, \"live_peak_bytes\": %zu, "
            "\"input_bytes\": %zu,\n"
            "              \"macs\": %" PRId64 ", \"patch_macs\": %" PRId64 ", \"patch_layer_macs\": %" PRId64
            ", \"redundant_macs\": %" PRId64 ", \"redundant_macs_pct\": %.2f,\n"
            "              \"tiles\": %d, \"input_patch\": [%d, %d], \"predicted_instructions\": %.0f},\n",
            p->arena_bytes, p->arena_bytes, p->live_peak_bytes, p->input_bytes, p->macs, p->patch_macs,
            p->patch_layer_macs, redundant,
            p->patch_layer_macs ? 100.0 * (double)redundant / (double)p->patch_layer_macs : 0.0, p->n_tiles,
            p->input_patch_h, p->input_patch_w, qmcu_cost_predict(p));
    fprintf(f, "  \"fuse_add\": %s,\n", p->spec.no_fused_add ? "false" : "true");
    if (p->spec.split) {
        fprintf(f, "  \"halo\": [");
        for (i = 0; i < p->spec.split; i++) fprintf(f, "%s\"%s\"", i ? ", " : "", qmcu_halo_name(p->halo[i]));
        fprintf(f, "],\n  \"cache_bytes\": %zu,\n", p->cache_bytes);
    }
    if (extra) extra->write(f, extra->ctx);
    fprintf(f, "  \"memory\": [\n");
    for (i = 0; i < g->n_ops; i++)
        fprintf(f,
                "    {\"op\": %d, \"type\": \"%s\", \"stage\": \"%s\", \"live_bytes\": %zu, \"scratch_bytes\": %zu, "
                "\"in_place\": %s, \"fused_with_next\": %s, \"col_cache_bytes\": %zu, \"line_buffer_bytes\": %zu}%s\n",
                i, qmcu_op_name(g->ops[i].type), i < p->spec.split ? "patch" : "layer", p->step_live_bytes[i],
                p->scratch_bytes[i], p->in_place[i] ? "true" : "false", p->fused_next[i] ? "true" : "false",
                p->col_cache_bytes[i], p->row_cache_bytes[i], i + 1 < g->n_ops ? "," : "");
    fprintf(f, "  ]\n}\n");
}

char *qmcu_plan_read_text(const char *path, qmcu_error *err)
{
    uint8_t *data;
    size_t len;
    return qmcu_read_file(path, "plan", QMCU_PLAN_MAX_BYTES, &data, &len, err) == QMCU_OK ? (char *)data : NULL;
}

int qmcu_json_get_int(const cJSON *o, const char *key, int lo, int hi, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    /* range first: converting an out-of-range double to int is undefined */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != (double)(int)v->valuedouble)
        return 0;
    *out = (int)v->valuedouble;
    return 1;
}

int qmcu_json_get_num(const cJSON *o, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)) return 0;
    *out = v->valuedouble;
    return 1;
}

qmcu_status qmcu_plan_read_spec(const char *path, const qmcu_graph *g, qmcu_plan_spec *spec, int *has_quantmcu,
                                qmcu_error *err)
{
    char *text = qmcu_plan_read_text(path, err);
    qmcu_status st;
    if (!text) return QMCU_ERR_IO;
    st = qmcu_plan_parse_spec(text, path, g, spec, has_quantmcu, err);
    free(text);
    return st;
}

qmcu_status qmcu_plan_parse_spec(const char *text, const char *path, const qmcu_graph *g, qmcu_plan_spec *spec,
                                 int *has_quantmcu, qmcu_error *err)
{
    char fp[17];
    cJSON *root, *v, *model, *grid;
    const char *end = NULL;
    qmcu_status st = QMCU_ERR_FORMAT;
    int version;
    if (has_quantmcu) *has_quantmcu = 0;
    root = cJSON_ParseWithOpts(text, &end, 0);
    memset(spec, 0, sizeof *spec);
    if (!root) { /* cJSON also stops at nesting deeper than CJSON_NESTING_LIMIT (1000) */
        size_t k, at = end ? (size_t)(end - text) : 0;
        long depth = 0, deepest = 0; /* brackets before the error (strings ignored: a hint only) */
        for (k = 0; k < at; k++) {
            depth += (text[k] == '[' || text[k] == '{') - (text[k] == ']' || text[k] == '}');
            if (depth > deepest) deepest = depth;
        }
        qmcu_error_set(err, "%s: not a JSON plan file (%s at byte %zu)", path,
                       deepest >= CJSON_NESTING_LIMIT ? "nested deeper than 1000 levels" : "syntax error", at);
        return QMCU_ERR_FORMAT;
    }
    if (!cJSON_IsObject(root)) {
        qmcu_error_set(err, "%s: not a JSON plan file", path);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, QMCU_PLAN_FORMAT) != 0) {
        qmcu_error_set(err, "%s: not a quantmcu plan (\"format\" must be \"%s\")", path, QMCU_PLAN_FORMAT);
        goto done;
    }
    if (!qmcu_json_get_int(root, "version", 1, 1000, &version) || version != QMCU_PLAN_VERSION) {
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
        qmcu_error_set(err, "%s: plan was made for another model (%s, fingerprint %.16s), not %s (fingerprint %s)",
                       path, cJSON_IsString(mp) ? mp->valuestring : "?", v->valuestring, g->path, fp);
        goto done;
    }
    grid = cJSON_GetObjectItemCaseSensitive(root, "grid");
    if (!qmcu_json_get_int(root, "split", 0, g->n_ops, &spec->split) || !cJSON_IsArray(grid) ||
        cJSON_GetArraySize(grid) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(grid, 0)) ||
        !cJSON_IsNumber(cJSON_GetArrayItem(grid, 1))) {
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
    v = cJSON_GetObjectItemCaseSensitive(root, "fuse_add");
    if (v && !cJSON_IsBool(v)) {
        qmcu_error_set(err, "%s: \"fuse_add\" must be true or false", path);
        goto done;
    }
    spec->no_fused_add = v && cJSON_IsFalse(v);
    v = cJSON_GetObjectItemCaseSensitive(root, "sram_budget_bytes");
    if (v && (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0 && v->valuedouble <= 1e15))) {
        qmcu_error_set(err, "%s: \"sram_budget_bytes\" must be a byte count", path);
        goto done;
    }
    spec->sram_budget = v ? (size_t)v->valuedouble : 0;
    if (has_quantmcu) *has_quantmcu = cJSON_GetObjectItemCaseSensitive(root, "quantmcu") != NULL;
    st = QMCU_OK;
done:
    cJSON_Delete(root);
    return st;
}

const char *qmcu_halo_name(int flags)
{
    return flags == QMCU_HALO_CACHED ? "cached" : flags == QMCU_HALO_COLS ? "cols" : "recompute";
}

qmcu_status qmcu_plan_parse_halo(const char *text, const char *path, int split, uint8_t *halo_ops, qmcu_error *err)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "halo"), *v;
    qmcu_status st = QMCU_OK;
    int i = 0;
    memset(halo_ops, 0, (size_t)(split > 0 ? split : 0));
    if (h && (!cJSON_IsArray(h) || cJSON_GetArraySize(h) != split)) {
        qmcu_error_set(err, "%s: \"halo\" must list one strategy per patch op (%d)", path, split);
        st = QMCU_ERR_FORMAT;
    }
    if (h && st == QMCU_OK) cJSON_ArrayForEach(v, h)
        {
            const char *name = cJSON_IsString(v) ? v->valuestring : "";
            if (!strcmp(name, "cached"))
                halo_ops[i] = QMCU_HALO_CACHED;
            else if (!strcmp(name, "cols"))
                halo_ops[i] = QMCU_HALO_COLS;
            else if (strcmp(name, "recompute") != 0) {
                qmcu_error_set(err, "%s: halo of op %d must be \"recompute\", \"cols\" or \"cached\"", path, i);
                st = QMCU_ERR_FORMAT;
                break;
            }
            i++;
        }
    cJSON_Delete(root);
    return st;
}
