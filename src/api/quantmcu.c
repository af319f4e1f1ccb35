/* The public host API (include/quantmcu/quantmcu.h): each call composes the stages below it —
 * import, prepare, planning, quantize, runtime, codegen — and reports one error line. */
#include "quantmcu/quantmcu.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../codegen/codegen.h"
#include "api_internal.h"
#include "../common/host_file.h"
#include "../image/image.h"
#include "../import/tflite_import.h"
#include "../planning/plan_file.h"
#include "../prepare/prepare.h"
#include "../quantize/vdq.h"

const char *quantmcu_version(void) { return QUANTMCU_VERSION; }

qmcu_status qmcu_api_nomem(qmcu_error *err, const char *what)
{
    qmcu_error_set(err, "%s: out of memory", what);
    return QMCU_ERR_NOMEM;
}

/* ---- models ---------------------------------------------------------------------------- */
qmcu_status quantmcu_load(const char *path, quantmcu_model **out, qmcu_error *err)
{
    quantmcu_model *qm = (quantmcu_model *)calloc(1, sizeof *qm);
    qmcu_status st;
    *out = NULL;
    if (!qm) return qmcu_api_nomem(err, path);
    if (!(qm->g = qmcu_graph_load(path, err))) {
        free(qm);
        return QMCU_ERR_FORMAT;
    }
    qm->model_norm = qm->g->input_norm;
    if ((st = qmcu_model_prepare(qm->g, &qm->m, err)) != QMCU_OK) {
        quantmcu_free(qm);
        return st;
    }
    *out = qm;
    return QMCU_OK;
}

void quantmcu_free(quantmcu_model *m)
{
    if (!m) return;
    qmcu_model_free(m->m);
    qmcu_graph_free(m->g);
    free(m);
}

const qmcu_graph *quantmcu_graph(const quantmcu_model *m) { return m->g; }

qmcu_status quantmcu_parse_input_range(const char *range, double *lo, double *hi, qmcu_error *err)
{
    char *end;
    const char *h;
    *lo = strtod(range, &end);
    if (end == range || *end != ',') goto bad;
    h = end + 1;
    *hi = strtod(h, &end);
    if (end == h || *end || !(*hi > *lo) || !isfinite(*lo) || !isfinite(*hi)) goto bad;
    return QMCU_OK;
bad:
    qmcu_error_set(err, "input range '%s' is not LO,HI with LO < HI (e.g. 0,1 or -1,1 or 0,255)", range);
    return QMCU_ERR_ARG;
}

qmcu_status quantmcu_set_input_range(quantmcu_model *m, const char *range, qmcu_error *err)
{
    qmcu_input_norm *n = &m->g->input_norm;
    double lo, hi;
    qmcu_status st;
    int c;
    if (!range || !strcmp(range, "auto")) {
        *n = m->model_norm;
        return QMCU_OK;
    }
    if ((st = quantmcu_parse_input_range(range, &lo, &hi, err)) != QMCU_OK) return st;
    memset(n, 0, sizeof *n);
    n->present = n->from_user = 1;
    for (c = 0; c < 3; c++) { /* real = lo + p (hi - lo) / 255 = (p - mean) / std */
        n->std[c] = (float)(255.0 / (hi - lo));
        n->mean[c] = (float)(-lo * 255.0 / (hi - lo) + 0.0); /* + 0.0: no "-0" */
    }
    return QMCU_OK;
}

void quantmcu_input_rule(const quantmcu_model *m, char *buf, size_t cap) { qmcu_input_rule_describe(m->g, buf, cap); }
const qmcu_model *quantmcu_runtime_model(const quantmcu_model *m) { return m->m; }
size_t quantmcu_input_bytes(const quantmcu_model *m) { return m->g->tensors[m->g->inputs[0]].bytes; }
size_t quantmcu_output_bytes(const quantmcu_model *m) { return m->g->tensors[m->g->outputs[0]].bytes; }
size_t quantmcu_outputs_bytes(const quantmcu_model *m)
{
    size_t n = 0;
    int k;
    for (k = 0; k < m->g->n_outputs; k++) n += m->g->tensors[m->g->outputs[k]].bytes;
    return n;
}
int quantmcu_output_count(const quantmcu_model *m) { return (int)qmcu_tensor_elems(&m->g->tensors[m->g->outputs[0]]); }

/* ---- plans ----------------------------------------------------------------------------- */
void quantmcu_plan_options_default(quantmcu_plan_options *o)
{
    o->split = -1;
    o->grid_h = o->grid_w = 1;
    o->sram_budget = 320u * 1024u;
    o->input_in_sram = 1;
    o->halo = QUANTMCU_HALO_AUTO;
    o->fuse_add = 1;
}

qmcu_status qmcu_api_wrap_plan(const quantmcu_model *m, qmcu_plan *plan, quantmcu_plan **out, qmcu_error *err)
{
    quantmcu_plan *p = (quantmcu_plan *)calloc(1, sizeof *p);
    if (!p) {
        qmcu_plan_free(plan);
        return qmcu_api_nomem(err, m->g->path);
    }
    p->model = m;
    p->plan = plan;
    *out = p;
    return QMCU_OK;
}

qmcu_status quantmcu_plan_make(const quantmcu_model *m, const quantmcu_plan_options *o, quantmcu_plan **out,
                               quantmcu_search_info *info, qmcu_error *err)
{
    qmcu_plan *plan = NULL;
    qmcu_status st;
    *out = NULL;
    if (o->split < 0) {
        qmcu_search_stats stats;
        if ((st = qmcu_plan_search(m->m, o->sram_budget, o->input_in_sram, o->halo, &plan, &stats, err)) != QMCU_OK)
            return st;
        if (info) {
            info->candidates = stats.candidates;
            info->fits = stats.fits;
            info->seconds = stats.seconds;
        }
    } else {
        qmcu_plan_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.split = o->split;
        spec.grid_h = o->split ? o->grid_h : 1;
        spec.grid_w = o->split ? o->grid_w : 1;
        spec.input_in_sram = o->input_in_sram;
        spec.halo = o->halo == QUANTMCU_HALO_AUTO ? 0 : o->halo;
        spec.no_fused_add = !o->fuse_add;
        st = o->halo == QUANTMCU_HALO_AUTO && o->split > 0
                 ? qmcu_plan_choose_halo(m->m, &spec, o->sram_budget, &plan, err)
                 : qmcu_plan_build(m->m, &spec, &plan, err);
        if (st != QMCU_OK) return st;
        if (info) {
            info->candidates = 1;
            info->fits = plan->arena_bytes <= o->sram_budget;
            info->seconds = 0.0;
        }
    }
    plan->spec.sram_budget = o->sram_budget;
    return qmcu_api_wrap_plan(m, plan, out, err);
}

qmcu_status quantmcu_plan_read(const quantmcu_model *m, const char *path, quantmcu_mode mode, quantmcu_plan **out,
                               qmcu_error *err)
{
    char *text = qmcu_plan_read_text(path, err);
    qmcu_plan_spec spec;
    qmcu_plan *plan = NULL;
    qmcu_vdq *vdq = NULL;
    uint8_t *halo_ops = NULL;
    int has_quant = 0;
    qmcu_status st;
    *out = NULL;
    if (!text) return QMCU_ERR_IO;
    st = qmcu_plan_parse_spec(text, path, m->g, &spec, &has_quant, err);
    if (st == QMCU_OK && spec.split > 0) {
        if (!(halo_ops = (uint8_t *)malloc((size_t)spec.split))) {
            qmcu_error_set(err, "%s: out of memory", path);
            st = QMCU_ERR_NOMEM;
        } else if ((st = qmcu_plan_parse_halo(text, path, spec.split, halo_ops, err)) == QMCU_OK) {
            spec.halo_ops = halo_ops;
        }
    }
    if (st == QMCU_OK && mode == QUANTMCU_MODE_QUANTMCU && !has_quant) {
        qmcu_error_set(err, "%s: plan has no QuantMCU section (make it with 'quantmcu plan --calib DIR')", path);
        st = QMCU_ERR_FORMAT;
    }
    if (st == QMCU_OK && (mode == QUANTMCU_MODE_QUANTMCU || (mode == QUANTMCU_MODE_AS_FILE && has_quant)))
        st = qmcu_vdq_parse(text, path, m->g, spec.split, &vdq, err);
    free(text);
    if (st != QMCU_OK) {
        free(halo_ops);
        return st;
    }
    if (mode == QUANTMCU_MODE_LAYER) { /* the file was checked; its geometry is not used */
        const int in_sram = spec.input_in_sram;
        memset(&spec, 0, sizeof spec);
        spec.grid_h = spec.grid_w = 1;
        spec.input_in_sram = in_sram;
    }
    if (vdq)
        st = qmcu_quant_plan_make(m->m, &spec, vdq, 1, &plan, err);
    else
        st = qmcu_plan_build(m->m, &spec, &plan, err);
    free(halo_ops);
    if (st != QMCU_OK) return st;
    return qmcu_api_wrap_plan(m, plan, out, err);
}

const qmcu_plan *qmcu_api_layout(const quantmcu_plan *p) { return p->plan; }

void quantmcu_plan_write(const quantmcu_plan *p, FILE *f)
{
    if (p->plan->quant) {
        const qmcu_plan_json_section section = {"quantmcu", qmcu_vdq_write_json, p->plan};
        qmcu_plan_write_json(p->plan, &section, f);
    } else {
        qmcu_plan_write_json(p->plan, NULL, f);
    }
}

qmcu_status quantmcu_plan_save(const quantmcu_plan *p, const char *path, qmcu_error *err)
{
    qmcu_atomic_file a;
    const qmcu_status st = qmcu_atomic_open(&a, path, err);
    if (st != QMCU_OK) return st;
    quantmcu_plan_write(p, a.f);
    return qmcu_atomic_commit(&a, err);
}

void quantmcu_plan_free(quantmcu_plan *p)
{
    if (!p) return;
    qmcu_plan_free(p->plan);
    free(p);
}

void quantmcu_plan_get_info(const quantmcu_plan *p, quantmcu_plan_info *o)
{
    const qmcu_plan *l = qmcu_api_layout(p);
    int i;
    memset(o, 0, sizeof *o);
    o->mode = p->plan->quant ? "quantmcu" : (l->spec.split ? "patch" : "layer");
    o->split = l->spec.split;
    o->grid_h = l->spec.grid_h;
    o->grid_w = l->spec.grid_w;
    o->n_tiles = l->n_tiles;
    o->split_tensor = l->split_tensor;
    o->input_patch_h = l->input_patch_h;
    o->input_patch_w = l->input_patch_w;
    o->input_in_sram = l->spec.input_in_sram;
    o->arena_bytes = l->arena_bytes;
    o->live_peak_bytes = l->live_peak_bytes;
    o->live_peak_op = l->live_peak_op;
    o->input_bytes = l->input_bytes;
    o->memory_bytes = l->host_bytes;
    o->macs = l->macs;
    o->patch_macs = l->patch_macs;
    o->patch_layer_macs = l->patch_layer_macs;
    o->sram_budget = l->spec.sram_budget;
    o->predicted_instructions = qmcu_cost_predict(l);
    o->patch_bitops_int8 = (double)l->patch_macs * 64.0;
    o->patch_bitops = l->quant ? qmcu_vdq_static_bitops(l, l->quant->vdq) : o->patch_bitops_int8;
    memset(o->halo_ops, 0, sizeof o->halo_ops);
    for (i = 0; i < l->spec.split; i++) o->halo_ops[l->halo[i] & 3]++;
    o->cache_bytes = l->cache_bytes;
    o->fallback_h = l->spec.packed ? l->fallback_h : 0;
    o->fallback_w = l->spec.packed ? l->fallback_w : 0;
    o->fallback_excess_bytes = l->spec.packed ? l->fallback_excess_bytes : 0;
    o->fused_adds = 0;
    for (i = 0; i < l->g->n_ops; i++) o->fused_adds += l->fused_next[i] && qmcu_is_conv(l->g->ops[i].type);
}

const char *quantmcu_plan_mode(const quantmcu_plan *p)
{
    return p->plan->quant ? "quantmcu" : (qmcu_api_layout(p)->spec.split ? "patch" : "layer");
}

qmcu_status quantmcu_plan_get_op(const quantmcu_plan *p, int op, quantmcu_plan_op *o)
{
    const qmcu_plan *l = qmcu_api_layout(p);
    memset(o, 0, sizeof *o);
    if (op < 0 || op >= l->g->n_ops) return QMCU_ERR_ARG;
    o->patch = op < l->spec.split;
    o->macs = l->op_macs[op];
    o->live_bytes = l->step_live_bytes[op];
    o->scratch_bytes = l->scratch_bytes[op];
    o->in_place = l->in_place[op];
    o->fused_next = l->fused_next[op];
    {
        qmcu_op_work w;
        qmcu_plan_op_work(l, op, &w);
        o->cost_kind = op > 0 && l->fused_next[op - 1] ? "fused" /* runs inside op - 1 */
                                                       : qmcu_cost_kind_name(qmcu_cost_kind_of(l, op));
        o->out_elems = qmcu_cost_out_elems(l, op, &w);
        o->in_elems = qmcu_cost_in_elems(l, op, &w);
        o->out_rows = w.rows;
        o->calls = w.calls;
        o->predicted_instructions = qmcu_cost_predict_op(l, op, &w);
    }
    if (o->patch) {
        o->halo = l->halo[op];
        o->col_cache_bytes = l->col_cache_bytes[op];
        o->row_cache_bytes = l->row_cache_bytes[op];
    }
    return QMCU_OK;
}

qmcu_status quantmcu_quant_get_info(const quantmcu_plan *p, quantmcu_quant_info *o)
{
    const qmcu_vdq *v = qmcu_plan_vdq(p->plan);
    int t, s;
    memset(o, 0, sizeof *o);
    if (!v) return QMCU_ERR_ARG;
    o->scheme = (int)v->opt.scheme;
    o->proxy = v->opt.proxy == QMCU_PROXY_ENTROPY;
    o->calib_images = v->calib_images;
    o->calib_seconds = v->calib_seconds;
    o->outlier_tiles = v->opt.outlier_tiles;
    o->lambda = v->opt.lambda;
    o->n_steps = v->n_steps;
    for (s = 0; s < v->n_steps; s++) o->steps_applied += v->steps[s].applied;
    o->search_seconds = v->search_seconds;
    o->agreement_pct = v->agreement_pct;
    o->calib_outlier_tile_fraction = v->calib_outlier_fraction;
    o->calib_outlier_value_fraction = v->calib_outlier_value_fraction;
    o->weight_variant_bytes = p->plan->quant->lowbit->weight_variant_bytes;
    for (t = 0; t < v->n_tensors; t++) {
        o->n_maps += v->fmap[t].in_scope;
        o->maps_for_memory += v->fmap[t].in_scope && v->fmap[t].for_memory;
    }
    o->geometry_searched = v->geometry_searched;
    o->geometry_from_bits = v->geometry_from_bits;
    o->int8_predicted = v->int8_predicted;
    o->bits_predicted = v->bits_predicted;
    o->geometry_guard_failed = v->geometry_guard_failed;
    o->failed_split = v->failed_split;
    o->failed_grid_h = v->failed_grid_h;
    o->failed_grid_w = v->failed_grid_w;
    o->failed_kl = v->failed_kl;
    o->calib_kl = v->calib_kl;
    o->guard_met = v->guard_met;
    o->max_kl = v->opt.max_kl;
    return QMCU_OK;
}

qmcu_status quantmcu_quant_get_map(const quantmcu_plan *p, int k, quantmcu_quant_map *o)
{
    const qmcu_vdq *v = qmcu_plan_vdq(p->plan);
    int t, b;
    memset(o, 0, sizeof *o);
    for (t = 0; v && t < v->n_tensors; t++) {
        const qmcu_fmap *fm = &v->fmap[t];
        if (!fm->in_scope || k-- > 0) continue;
        o->tensor = t;
        o->producer = qmcu_graph_producer(p->model->g, t, p->model->g->n_ops);
        o->bits = fm->bits;
        o->is_signed = fm->is_signed;
        o->tau = fm->tau[fm->bits];
        o->lo = fm->lo;
        o->hi = fm->hi;
        for (b = 0; b < 9; b++) {
            o->damage[b] = fm->omega[b];
            o->entropy[b] = fm->entropy[b];
        }
        return QMCU_OK;
    }
    return QMCU_ERR_ARG;
}

const qmcu_exec_plan *quantmcu_plan_exec(const quantmcu_plan *p) { return &p->plan->exec; }
size_t quantmcu_plan_memory_bytes(const quantmcu_plan *p) { return quantmcu_plan_exec(p)->memory_bytes; }

/* ---- inference ------------------------------------------------------------------------- */
qmcu_status quantmcu_image_to_input(const quantmcu_model *m, const char *path, void *input, qmcu_error *err)
{
    return qmcu_image_to_input(m->g, path, input, err);
}

void qmcu_api_run_failed(const qmcu_graph *g, qmcu_status st, int op, qmcu_error *err)
{
    if (op >= 0 && op < g->n_ops)
        qmcu_error_set(err, "%s: inference failed at op %d %s (%s%s)", g->path, op, qmcu_op_name(g->ops[op].type),
                       qmcu_status_name(st),
                       st == QMCU_ERR_ARG ? ": an index out of range or a division by zero in the data" : "");
    else
        qmcu_error_set(err, "%s: inference failed (%s)", g->path, qmcu_status_name(st));
}

qmcu_status quantmcu_run(const quantmcu_model *m, const quantmcu_plan *p, uint8_t *mem, const void *input, void *output,
                         const qmcu_run_options *opt, qmcu_error *err)
{
    const qmcu_exec_plan *e = quantmcu_plan_exec(p);
    qmcu_status st;
    qmcu_run_options o = {0, NULL, NULL, NULL, NULL};
    int failed = -1;
    if (opt) o = *opt;
    o.failed_op = &failed;
    qmcu_exec_set_input(m->m, e, mem, 0, input);
    if ((st = qmcu_exec_run(m->m, e, mem, &o)) != QMCU_OK) {
        qmcu_api_run_failed(m->g, st, failed, err);
        return st;
    }
    qmcu_exec_get_output(m->m, e, mem, 0, output);
    return QMCU_OK;
}

qmcu_status quantmcu_run_image(const quantmcu_model *m, const quantmcu_plan *p, uint8_t *mem, const char *image,
                               void *input, void *output, const qmcu_run_options *opt, qmcu_error *err)
{
    void *buf = input ? input : malloc(quantmcu_input_bytes(m));
    qmcu_status st;
    if (!buf) return qmcu_api_nomem(err, image);
    st = qmcu_image_to_input(m->g, image, buf, err);
    if (st == QMCU_OK) st = quantmcu_run(m, p, mem, buf, output, opt, err);
    if (buf != input) free(buf);
    return st;
}

void quantmcu_output_values(const quantmcu_model *m, int k, const void *out_bytes, float *values)
{
    const qmcu_tensor *t = &m->g->tensors[m->g->outputs[k]];
    const int64_t n = qmcu_tensor_elems(t);
    int64_t i;
    for (i = 0; i < n; i++) {
        if (t->type == QMCU_F32)
            values[i] = ((const float *)out_bytes)[i];
        else if (t->type == QMCU_I32)
            values[i] = (float)((const int32_t *)out_bytes)[i];
        else if (t->type == QMCU_I64)
            values[i] = (float)((const int64_t *)out_bytes)[i];
        else if (t->from_uint8)
            values[i] = t->scale * (float)((int)((const uint8_t *)out_bytes)[i] - (t->zero_point + 128));
        else
            values[i] = t->scale * (float)((int)((const int8_t *)out_bytes)[i] - t->zero_point);
    }
}

/* The model output written by SLICE `part` (0 boxes, 1 classes, 2 scores, 3 count) of detection op d. */
static int detection_output(const qmcu_graph *g, int d, int part)
{
    int k;
    for (k = 0; k < g->n_outputs; k++)
        if (d + 1 + part < g->n_ops && g->ops[d + 1 + part].out == g->outputs[k]) return k;
    return -1;
}

int quantmcu_detections(const quantmcu_model *m, void *const *outputs, quantmcu_detection *det, int max)
{
    const qmcu_graph *g = m->g;
    int d, part, k[4], n, i;
    for (d = 0; d < g->n_ops && g->ops[d].type != QMCU_OP_DETECTION_POSTPROCESS; d++) continue;
    if (d == g->n_ops) return -1;
    for (part = 0; part < 4; part++)
        if ((k[part] = detection_output(g, d, part)) < 0) return -1;
    {
        const float *boxes = (const float *)outputs[k[0]], *cls = (const float *)outputs[k[1]];
        const float *score = (const float *)outputs[k[2]], count = ((const float *)outputs[k[3]])[0];
        const qmcu_detection_params *p = &g->ops[d].detect;
        const int per_anchor =
            p->max_classes_per_detection < p->num_classes ? p->max_classes_per_detection : p->num_classes;
        const int slots = p->max_detections * p->max_classes_per_detection;
        n = 0;
        for (i = 0; i < slots && n < max; i++) { /* fast NMS: per_anchor classes per kept anchor */
            const int anchor = p->use_regular_nms ? i : i / p->max_classes_per_detection;
            if (anchor >= (int)count || (!p->use_regular_nms && i % p->max_classes_per_detection >= per_anchor))
                continue;
            det[n].cls = (int)cls[i];
            det[n].score = score[i];
            det[n].ymin = boxes[4 * i];
            det[n].xmin = boxes[4 * i + 1];
            det[n].ymax = boxes[4 * i + 2];
            det[n].xmax = boxes[4 * i + 3];
            n++;
        }
    }
    return n;
}

void quantmcu_scores(const quantmcu_model *m, const void *out_bytes, float *scores)
{
    quantmcu_output_values(m, 0, out_bytes, scores);
}

void quantmcu_top_k(const float *scores, int n, int k, int *idx)
{
    int i, j;
    for (j = 0; j < k; j++) idx[j] = -1;
    for (i = 0; i < n; i++) {
        for (j = 0; j < k; j++)
            if (idx[j] < 0 || scores[i] > scores[idx[j]]) break;
        if (j < k) {
            memmove(idx + j + 1, idx + j, sizeof(int) * (size_t)(k - j - 1));
            idx[j] = i;
        }
    }
}

/* ---- codegen --------------------------------------------------------------------------- */
int quantmcu_board_known(const char *name) { return qmcu_board_find(name) != NULL; }

size_t quantmcu_weight_bytes(const quantmcu_model *m) { return qmcu_codegen_weight_bytes(m->g); }

qmcu_status quantmcu_codegen(const quantmcu_model *m, const quantmcu_plan *p, const char *dir, const char *board,
                             qmcu_error *err)
{
    const qmcu_board *b = board ? qmcu_board_find(board) : NULL;
    if (board && !b) {
        qmcu_error_set(err, "%s: unknown board (f746, h743, big)", board);
        return QMCU_ERR_ARG;
    }
    return qmcu_codegen(m->m, quantmcu_plan_exec(p), qmcu_api_layout(p)->arena_bytes, dir, b, err);
}
