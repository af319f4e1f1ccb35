/* QuantMCU as one library call: calibrate on the int8 patch plan, search the bit widths (VDQS),
 * build the QuantMCU plan and its formats, then the agreement guard (undo the last steps until
 * top-1 agreement with patch mode on the calibration images is high enough). */
#include <stdlib.h>
#include <string.h>

#include <math.h>
#include <time.h>

#include "../common/parallel.h"
#include "../runtime/lowbit_exec.h"
#include "vdq.h"

static void section_free(qmcu_quant_section *q)
{
    if (!q) return;
    qmcu_lowbit_data_free(q->m, q->lowbit);
    qmcu_vdq_free(q->vdq);
    free(q);
}

/* The plan's runtime tables from its section's formats, then its exec view. */
static void attach_formats(qmcu_plan *p)
{
    const qmcu_lowbit_data *d = p->quant->lowbit;
    p->lowbit.bits = d->bits;
    p->lowbit.tau = d->tau;
    p->lowbit.keep = d->keep;
    p->lowbit.outlier_macs = d->outlier_macs;
    p->lowbit.ops = d->ops;
    p->lowbit.store = d->store;
    p->lowbit.outlier_tile_fraction = p->quant->vdq->calib_outlier_fraction;
    qmcu_plan_exec_view(p);
}

qmcu_status qmcu_quant_plan_make(const qmcu_model *m, const qmcu_plan_spec *spec, qmcu_vdq *vdq, int sized,
                                 qmcu_plan **out, qmcu_error *err)
{
    qmcu_quant_section *q = (qmcu_quant_section *)calloc(1, sizeof *q);
    uint8_t *bits = NULL;
    qmcu_plan_spec s = *spec;
    qmcu_plan *p = NULL;
    qmcu_status st;
    int t;
    *out = NULL;
    s.quantmcu = 1;
    s.packed = vdq->opt.scheme == QMCU_SCHEME_V3;
    s.tensor_bits = NULL;
    s.fallback_grid = 0; /* chosen for these bits */
    if (q && s.packed && sized && (bits = (uint8_t *)malloc((size_t)m->g->n_tensors)) != NULL) {
        for (t = 0; t < m->g->n_tensors; t++)
            bits[t] = (uint8_t)(t < vdq->n_tensors && vdq->fmap[t].in_scope ? vdq->fmap[t].bits : 8);
        s.tensor_bits = bits;
    }
    if (!q || (s.packed && sized && !bits)) {
        free(q);
        qmcu_vdq_free(vdq);
        qmcu_error_set(err, "%s: out of memory", m->g->path);
        return QMCU_ERR_NOMEM;
    }
    q->m = m;
    q->vdq = vdq;
    st = qmcu_plan_build(m, &s, &p, err);
    free(bits);
    if (st != QMCU_OK) {
        section_free(q);
        return st;
    }
    p->quant = q;
    p->quant_free = section_free;
    qmcu_vdq_consumer_macs(p, vdq);
    if ((st = qmcu_lowbit_prepare(m, p, vdq, &q->lowbit, err)) != QMCU_OK) {
        qmcu_plan_free(p);
        return st;
    }
    attach_formats(p);
    *out = p;
    return QMCU_OK;
}

qmcu_status qmcu_quant_plan_refresh(const qmcu_model *m, qmcu_plan *p, qmcu_error *err)
{
    qmcu_lowbit_data *d;
    const qmcu_status st = qmcu_lowbit_prepare(m, p, p->quant->vdq, &d, err);
    if (st != QMCU_OK) return st;
    qmcu_lowbit_data_free(m, p->quant->lowbit);
    p->quant->lowbit = d;
    attach_formats(p);
    return QMCU_OK;
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
static qmcu_status compare_on_calib(const qmcu_model *m, const qmcu_plan *pp, const qmcu_plan *q,
                                    const uint8_t *const *inputs, int n, double *agree_pct, qmcu_run_stats *stats)
{
    const qmcu_graph *g = m->g;
    const size_t ob = g->tensors[g->outputs[0]].bytes;
    uint8_t *mp = (uint8_t *)calloc(pp->host_bytes ? pp->host_bytes : 1, 1);
    uint8_t *mq = (uint8_t *)calloc(q->exec.memory_bytes ? q->exec.memory_bytes : 1, 1);
    uint8_t *o1 = (uint8_t *)malloc(ob), *o2 = (uint8_t *)malloc(ob);
    qmcu_run_options opt = {0, stats, NULL, NULL, NULL};
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

/* ---- the output proxy: KL divergence at the logits, measured on the calibration inputs ---- */

/* The logits: the input of a final SOFTMAX, else the output. */
static int logits_tensor(const qmcu_graph *g)
{
    const qmcu_op *last = &g->ops[g->n_ops - 1];
    return last->type == QMCU_OP_SOFTMAX && last->out == g->outputs[0] ? last->in[0] : g->outputs[0];
}

int qmcu_logits_count(const qmcu_graph *g) { return (int)qmcu_tensor_elems(&g->tensors[logits_tensor(g)]); }

/* Softmax of the dequantized logits in mem (probabilities, n_classes). */
void qmcu_logit_probabilities(const qmcu_graph *g, const qmcu_exec_plan *e, const uint8_t *mem, double *prob)
{
    const int t = logits_tensor(g);
    const qmcu_tensor *x = &g->tensors[t];
    const int64_t n = qmcu_tensor_elems(x);
    double mx = -1e300, sum = 0.0;
    int64_t j;
    for (j = 0; j < n; j++) {
        prob[j] = x->type == QMCU_F32
                      ? (double)((const float *)(mem + e->tensor_offset[t]))[j]
                      : (double)x->scale * (((const int8_t *)(mem + e->tensor_offset[t]))[j] - x->zero_point);
        if (prob[j] > mx) mx = prob[j];
    }
    for (j = 0; j < n; j++) sum += prob[j] = exp(prob[j] - mx);
    for (j = 0; j < n; j++) prob[j] /= sum;
}

double qmcu_kl_accumulate(double acc, const double *ref, const double *p, int n)
{
    int c;
    for (c = 0; c < n; c++)
        if (ref[c] > 0.0) acc += ref[c] * (log(ref[c]) - log(p[c] > 1e-300 ? p[c] : 1e-300));
    return acc;
}

typedef struct {
    const qmcu_model *m;
    const qmcu_exec_plan *e;
    const uint8_t *const *inputs;
    const double *ref; /* [image][class] reference probabilities (NULL: fill ref_out) */
    double *ref_out;
    int n, first, step, classes;
    qmcu_run_stats stats;
    double kl;
    int agree;
    qmcu_status st;
} measure_job;

static int argmax(const double *v, int n)
{
    int j, best = 0;
    for (j = 1; j < n; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

static void *measure_worker(void *arg)
{
    measure_job *j = (measure_job *)arg;
    uint8_t *mem = (uint8_t *)calloc(j->e->memory_bytes ? j->e->memory_bytes : 1, 1);
    double *prob = (double *)malloc(sizeof(double) * (size_t)j->classes);
    qmcu_run_options opt = {0, &j->stats, NULL, NULL, NULL};
    int i;
    j->st = mem && prob ? QMCU_OK : QMCU_ERR_NOMEM;
    for (i = j->first; j->st == QMCU_OK && i < j->n; i += j->step) {
        qmcu_exec_set_input(j->m, j->e, mem, 0, j->inputs[i]);
        if ((j->st = qmcu_exec_run(j->m, j->e, mem, &opt)) != QMCU_OK) break;
        qmcu_logit_probabilities(j->m->g, j->e, mem, prob);
        if (!j->ref) {
            memcpy(j->ref_out + (size_t)i * j->classes, prob, sizeof(double) * (size_t)j->classes);
            continue;
        }
        {
            const double *r = j->ref + (size_t)i * j->classes;
            j->kl = qmcu_kl_accumulate(j->kl, r, prob, j->classes);
            j->agree += argmax(r, j->classes) == argmax(prob, j->classes);
        }
    }
    free(mem);
    free(prob);
    return NULL;
}

/* Runs plan e on the inputs (threads): mean KL against ref and top-1 agreement (%), or, with
 * ref NULL, stores the probabilities into ref_out. */
static qmcu_status measure(const qmcu_model *m, const qmcu_exec_plan *e, const uint8_t *const *inputs, int n,
                           int threads, const double *ref, double *ref_out, double *kl, double *agree_pct,
                           qmcu_run_stats *stats)
{
    measure_job jobs[8];
    const int classes = (int)qmcu_tensor_elems(&m->g->tensors[logits_tensor(m->g)]);
    int t, started = 0, agree = 0;
    qmcu_status st = QMCU_OK;
    if (threads < 1) threads = 1;
    if (threads > 8) threads = 8;
    if (threads > n) threads = n;
    for (t = 0; t < threads; t++) {
        measure_job *j = &jobs[t];
        memset(j, 0, sizeof *j);
        j->m = m;
        j->e = e;
        j->inputs = inputs;
        j->ref = ref;
        j->ref_out = ref_out;
        j->n = n;
        j->first = t;
        j->step = threads;
        j->classes = classes;
    }
    started = qmcu_parallel_run(jobs, sizeof jobs[0], threads, measure_worker);
    for (t = started; t < threads; t++) jobs[t].st = QMCU_ERR_NOMEM; /* a thread could not be started */
    if (kl) *kl = 0.0;
    if (stats) memset(stats, 0, sizeof *stats);
    for (t = 0; t < threads; t++) {
        if (jobs[t].st != QMCU_OK) st = jobs[t].st;
        if (kl) *kl += jobs[t].kl / n;
        agree += jobs[t].agree;
        if (stats) {
            stats->patch_bitops += jobs[t].stats.patch_bitops;
            stats->tiles += jobs[t].stats.tiles;
            stats->outlier_tiles += jobs[t].stats.outlier_tiles;
            stats->lowbit_values += jobs[t].stats.lowbit_values;
            stats->outlier_values += jobs[t].stats.outlier_values;
        }
    }
    if (agree_pct) *agree_pct = 100.0 * agree / n;
    return st;
}

/* Omega(i, b): the KL of each map alone at each candidate width below 8 (every other map at 8),
 * and the scale: every map at its lowest candidate. */
static qmcu_status measure_omega(const qmcu_model *m, qmcu_plan *q, const uint8_t *const *inputs, int n,
                                 const qmcu_quant_options *o, const double *ref, qmcu_error *err)
{
    qmcu_vdq *v = q->quant->vdq;
    const int lowest = v->opt.cand[v->opt.n_cand - 1], threads = o->threads;
    qmcu_status st = QMCU_OK;
    int t, k, done = 0, total = 1; /* measurements: every map at every lower width, then all at the lowest */
    for (t = 0; t < v->n_tensors; t++)
        for (k = 0; v->fmap[t].in_scope && k < v->opt.n_cand; k++) total += v->opt.cand[k] < 8;
    qmcu_progress_report(&o->progress, "QuantMCU search", 0, total);
    for (t = 0; t < v->n_tensors && st == QMCU_OK; t++) {
        qmcu_fmap *fm = &v->fmap[t];
        if (!fm->in_scope) continue;
        fm->omega[8] = 0.0;
        for (k = 0; k < v->opt.n_cand && st == QMCU_OK; k++) {
            const int b = v->opt.cand[k];
            if (b >= 8) continue;
            fm->bits = b;
            if ((st = qmcu_quant_plan_refresh(m, q, err)) == QMCU_OK &&
                (st = measure(m, &q->exec, inputs, n, threads, ref, NULL, &fm->omega[b], NULL, NULL)) != QMCU_OK)
                qmcu_error_set(err, "%s: measuring the output proxy failed (%s)", m->g->path, qmcu_status_name(st));
            qmcu_progress_report(&o->progress, "QuantMCU search", ++done, total);
        }
        fm->bits = 8;
    }
    for (t = 0; t < v->n_tensors; t++)
        if (v->fmap[t].in_scope) v->fmap[t].bits = lowest;
    if (st == QMCU_OK && (st = qmcu_quant_plan_refresh(m, q, err)) == QMCU_OK)
        st = measure(m, &q->exec, inputs, n, threads, ref, NULL, &v->omega_scale, NULL, NULL);
    if (st == QMCU_OK) qmcu_progress_report(&o->progress, "QuantMCU search", total, total);
    for (t = 0; t < v->n_tensors; t++) v->fmap[t].bits = 8;
    return st;
}

/* Does a tensor whose codes are t's (t itself or a PAD of it) live while op `op` of plan p runs
 * (its buffer, or its halo caches: those live through the whole patch stage)? */
static int map_live_at(const qmcu_plan *p, int t, int op)
{
    const qmcu_graph *g = p->g;
    const int split = p->spec.split;
    int u, i, j;
    for (u = 0; u < g->n_tensors; u++) {
        int first, last = -1;
        if (qmcu_pad_source(g, split, u) != t || (first = qmcu_graph_producer(g, u, split)) < 0) continue;
        if (p->col_cache_bytes[first] || p->row_cache_bytes[first]) return 1;
        if (first > op) continue;
        for (i = 0; i < g->n_ops; i++)
            for (j = 0; j < g->ops[i].n_in; j++)
                if (g->ops[i].in[j] == u) last = i;
        if (last >= op) return 1;
    }
    return 0;
}

/* Version 3, SRAM first: while the plan sized for the bits exceeds `budget` (its peak in the patch
 * stage) or its patch stage exceeds `patch_budget` (0: none), a map live at that peak op goes to a
 * lower candidate width that stores it in fewer bits (6, 5, 4 or 2 packed): the (map, width) with
 * the least measured KL (omega) per stored bit saved. Stops when both fit or no such map is left
 * (the peak is then in the layer stage, or 8-bit only). */
static qmcu_status fit_budget(const qmcu_model *m, const qmcu_plan_spec *spec, size_t budget, size_t patch_budget,
                              qmcu_vdq *v, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    uint8_t *bits = (uint8_t *)malloc((size_t)g->n_tensors);
    qmcu_status st = bits ? QMCU_OK : QMCU_ERR_NOMEM;
    int t;
    while (st == QMCU_OK) {
        qmcu_plan_spec s = *spec;
        qmcu_plan *p = NULL;
        int best = -1, best_bits = 8, op, k;
        double best_cost = 0.0;
        for (t = 0; t < g->n_tensors; t++) bits[t] = (uint8_t)(t < v->n_tensors && v->fmap[t].in_scope ? v->fmap[t].bits : 8);
        s.quantmcu = s.packed = 1;
        s.tensor_bits = bits;
        s.patch_budget = patch_budget;
        s.fallback_grid = 0;
        if ((st = qmcu_plan_build(m, &s, &p, err)) != QMCU_OK) break;
        op = p->live_peak_op;
        if (patch_budget && qmcu_plan_patch_peak(p, &op) > patch_budget) {
            /* op: the patch stage's peak */
        } else if (p->arena_bytes > budget && op < spec->split) {
            op = p->live_peak_op;
        } else {
            qmcu_plan_free(p);
            break;
        }
        for (t = 0; t < v->n_tensors; t++) { /* (map, width): the least measured KL per stored bit saved */
            const qmcu_fmap *fm = &v->fmap[t];
            const int32_t c = g->tensors[t].dims[3];
            const int now = qmcu_lowbit_store_bits(fm->bits, c);
            if (!fm->in_scope || !map_live_at(p, t, op)) continue;
            for (k = 0; k < v->opt.n_cand; k++) {
                const int b = v->opt.cand[k], st = qmcu_lowbit_store_bits(b, c);
                const double cost = (fm->omega[b] >= 0.0 ? fm->omega[b] : 1e9) / (double)(now - st);
                if (b >= fm->bits || st >= now || !fm->scale[b]) continue;
                if (best < 0 || cost < best_cost) {
                    best = t;
                    best_bits = b;
                    best_cost = cost;
                }
            }
        }
        qmcu_plan_free(p);
        if (best < 0) break;
        v->fmap[best].bits = best_bits;
        v->fmap[best].for_memory = 1;
    }
    free(bits);
    return st;
}

/* Does spec's geometry fit the budgets with every map at 8 bits (the int8 plan, run by QuantMCU)? */
static int all_8bit_fits(const qmcu_model *m, const qmcu_plan_spec *spec, size_t budget, size_t patch_budget)
{
    uint8_t *eight = (uint8_t *)malloc((size_t)m->g->n_tensors);
    qmcu_plan_spec s = *spec;
    qmcu_plan *p = NULL;
    qmcu_error err;
    int fits = 0;
    if (!eight) return 0;
    memset(eight, 8, (size_t)m->g->n_tensors);
    s.quantmcu = s.packed = 1;
    s.tensor_bits = eight;
    s.fallback_grid = -1;
    if (qmcu_plan_build(m, &s, &p, &err) == QMCU_OK)
        fits = p->arena_bytes <= budget && (!patch_budget || qmcu_plan_patch_peak(p, NULL) <= patch_budget);
    qmcu_plan_free(p);
    free(eight);
    return fits;
}

/* Version 3: tau from the counts the device sees. Calibration pass 2 counts a map's values outside
 * its range with every other map at 8 bits; on the sized plan the low-bit maps upstream add to
 * them (MobileNetV2 split 13 4x4 cached, four 4-bit maps: the pass-2 taus let 2.3-3.1 % of the
 * calibration tiles and 11 % of dev 32..499's fall back). The sized plan runs the calibration
 * images without VDPC, counting per tile and map; a low-bit map's tau is the quantile of its counts
 * (qmcu_vdpc_tau) over the k low-bit maps of the branch. */
static qmcu_status retune_tau(const qmcu_model *m, const qmcu_plan *q, const uint8_t *const *inputs, int n,
                              qmcu_vdq *v)
{
    const int nt = m->g->n_tensors, tiles = q->n_tiles, total = n * tiles;
    uint8_t *mem = (uint8_t *)calloc(q->exec.memory_bytes ? q->exec.memory_bytes : 1, 1);
    int32_t *counts = (int32_t *)calloc((size_t)total * (size_t)nt, sizeof(int32_t));
    int32_t *col = (int32_t *)malloc(sizeof(int32_t) * (size_t)(total > 0 ? total : 1));
    qmcu_run_options opt = {1, NULL, NULL, NULL, NULL}; /* no VDPC: every tile runs its low-bit maps through */
    qmcu_status st = mem && counts && col ? QMCU_OK : QMCU_ERR_NOMEM;
    int i, t, k = 0;
    for (i = 0; st == QMCU_OK && i < n; i++) {
        opt.map_outliers = counts + (size_t)i * (size_t)tiles * (size_t)nt;
        qmcu_exec_set_input(m, &q->exec, mem, 0, inputs[i]);
        st = qmcu_exec_run(m, &q->exec, mem, &opt);
    }
    for (t = 0; t < nt && t < v->n_tensors; t++) k += v->fmap[t].in_scope && v->fmap[t].bits < 8;
    for (t = 0; st == QMCU_OK && t < nt && t < v->n_tensors; t++) {
        qmcu_fmap *fm = &v->fmap[t];
        if (!fm->in_scope || fm->bits >= 8) continue;
        for (i = 0; i < total; i++) col[i] = counts[(size_t)i * (size_t)nt + (size_t)t];
        fm->tau[fm->bits] = qmcu_vdpc_tau(col, total, v->opt.outlier_tiles, k);
    }
    free(mem);
    free(counts);
    free(col);
    return st;
}

/* Version 3 after the search: the plan sized for its bits, maps lowered to 4 bits where the SRAM
 * budget(s) need it (fit_budget), then the accuracy guard: while the mean KL at the logits
 * against the int8 plan on the calibration images exceeds o->max_kl, the last search step is
 * undone and the budget met again. *qp: the search's plan in, the final plan out (freed and NULL
 * on failure). */
static qmcu_status finish_v3(const qmcu_model *m, const qmcu_plan *patch, const uint8_t *const *inputs, int n,
                             const qmcu_quant_options *o, qmcu_plan **qp, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const int classes = (int)qmcu_tensor_elems(&g->tensors[logits_tensor(g)]);
    qmcu_vdq *v = (*qp)->quant->vdq;
    qmcu_plan_spec spec = (*qp)->spec;
    double *ref = (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1) * (size_t)classes);
    uint8_t *searched = (uint8_t *)malloc((size_t)v->n_tensors), *halo = (uint8_t *)malloc((size_t)spec.split);
    qmcu_plan *sized = NULL;
    qmcu_run_stats stats;
    qmcu_status st = ref && searched && halo ? QMCU_OK : QMCU_ERR_NOMEM;
    const size_t budget = patch->spec.sram_budget ? patch->spec.sram_budget : (size_t)-1;
    double kl = 0.0, agree = 0.0;
    int t, all8 = 0;
    if (halo) memcpy(halo, (*qp)->halo, (size_t)spec.split); /* the spec's halo_ops point into the plan */
    spec.halo_ops = halo;
    (*qp)->quant->vdq = NULL; /* v is this function's until it moves to the final plan */
    qmcu_plan_free(*qp);
    *qp = NULL;
    spec.patch_budget = o->patch_sram;
    if (st == QMCU_OK) st = measure(m, &patch->exec, inputs, n, o->threads, NULL, ref, NULL, NULL, NULL);
    for (t = 0; t < v->n_tensors; t++) searched[t] = (uint8_t)(o->memory_only ? 8 : v->fmap[t].bits);
    while (st == QMCU_OK) {
        for (t = 0; t < v->n_tensors; t++) { /* the search's bits, then what the budget needs */
            v->fmap[t].bits = searched[t];
            v->fmap[t].for_memory = 0;
        }
        if (!all8 && (patch->spec.sram_budget || o->patch_sram) &&
            (st = fit_budget(m, &spec, budget, o->patch_sram, v, err)) != QMCU_OK)
            break;
        if ((st = qmcu_quant_plan_make(m, &spec, v, 1, &sized, err)) != QMCU_OK) {
            v = NULL; /* freed by qmcu_quant_plan_make */
            break;
        }
        if (sized->exec.lowbit_store && (st = retune_tau(m, sized, inputs, n, v)) == QMCU_OK) {
            sized->quant->vdq = NULL; /* the plan again with the new thresholds */
            qmcu_plan_free(sized);
            sized = NULL;
            if ((st = qmcu_quant_plan_make(m, &spec, v, 1, &sized, err)) != QMCU_OK) {
                v = NULL;
                break;
            }
        }
        if (st != QMCU_OK) break;
        if ((st = measure(m, &sized->exec, inputs, n, o->threads, ref, NULL, &kl, &agree, &stats)) != QMCU_OK) break;
        v->calib_kl = kl;
        v->guard_met = o->max_kl <= 0.0 || kl <= o->max_kl;
        if (v->guard_met || all8) break;
        if (!o->memory_only && qmcu_vdqs_undo_last(v)) {
            for (t = 0; t < v->n_tensors; t++) searched[t] = (uint8_t)v->fmap[t].bits;
        } else if (all_8bit_fits(m, &spec, budget, o->patch_sram)) {
            /* every step undone and still over: the maps the budget forced down are to blame, and the
               int8 plan fits: QuantMCU keeps every map at 8 bits */
            all8 = 1;
            for (t = 0; t < v->n_tensors; t++) searched[t] = 8;
        } else {
            break; /* the budget needs bits the guard does not allow: reported */
        }
        sized->quant->vdq = NULL; /* back to this function for the next round */
        qmcu_plan_free(sized);
        sized = NULL;
    }
    free(ref);
    free(searched);
    free(halo);
    if (st != QMCU_OK) {
        if (sized) {
            qmcu_plan_free(sized); /* frees v with it */
        } else {
            qmcu_vdq_free(v);
        }
        if (st == QMCU_ERR_NOMEM) qmcu_error_set(err, "%s: out of memory", g->path);
        return st;
    }
    v->agreement_pct = agree;
    v->calib_outlier_fraction = stats.tiles ? (double)stats.outlier_tiles / (double)stats.tiles : 0.0;
    v->calib_outlier_value_fraction =
        stats.lowbit_values ? (double)stats.outlier_values / (double)stats.lowbit_values : 0.0;
    sized->lowbit.outlier_tile_fraction = v->calib_outlier_fraction;
    *qp = sized;
    return QMCU_OK;
}

qmcu_status qmcu_quantmcu_search(const qmcu_model *m, const qmcu_plan *patch, const uint8_t *const *inputs, int n,
                                 const qmcu_quant_options *o, qmcu_plan **out, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    qmcu_vdq *vdq;
    qmcu_plan *q = NULL;
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
    vdq->opt = *o; /* the record keeps the options it was made with (their only copy) */
    st = o->scheme == QMCU_SCHEME_V1 ? qmcu_calibrate(m, patch, inputs, n, o->outlier_tiles, vdq, &o->progress, err)
                                     : qmcu_calibrate_v2(m, patch, inputs, n, o->outlier_tiles, vdq, &o->progress, err);
    if (st != QMCU_OK) {
        qmcu_vdq_free(vdq);
        return st;
    }
    if ((st = qmcu_quant_plan_make(m, &patch->spec, vdq, 0, &q, err)) != QMCU_OK) return st;
    {
        struct timespec w0, w1;
        clock_gettime(CLOCK_MONOTONIC, &w0);
        if (o->proxy == QMCU_PROXY_OUTPUT) {
            const int classes = (int)qmcu_tensor_elems(&g->tensors[logits_tensor(g)]);
            double *ref = (double *)malloc(sizeof(double) * (size_t)n * (size_t)classes);
            if (!ref) st = QMCU_ERR_NOMEM;
            if (st == QMCU_OK) st = measure(m, &patch->exec, inputs, n, o->threads, NULL, ref, NULL, NULL, NULL);
            if (st == QMCU_OK) st = measure_omega(m, q, inputs, n, o, ref, err);
            free(ref);
        }
        if (st == QMCU_OK) qmcu_vdqs_search(patch, q->quant->vdq);
        if (st == QMCU_OK) st = qmcu_quant_plan_refresh(m, q, err);
        clock_gettime(CLOCK_MONOTONIC, &w1);
        q->quant->vdq->search_seconds = (double)(w1.tv_sec - w0.tv_sec) + 1e-9 * (double)(w1.tv_nsec - w0.tv_nsec);
        if (st != QMCU_OK) {
            if (st == QMCU_ERR_NOMEM) qmcu_error_set(err, "%s: out of memory in the search", g->path);
            qmcu_plan_free(q);
            return st;
        }
    }
    for (;;) { /* agreement guard: undo the last steps until top-1 agreement >= 100 - P */
        if ((st = compare_on_calib(m, patch, q, inputs, n, &agree, &stats)) != QMCU_OK) {
            qmcu_error_set(err, "%s: calibration run failed (%s)", g->path, qmcu_status_name(st));
            break;
        }
        if (o->max_agreement_drop <= 0.0 || agree >= 100.0 - o->max_agreement_drop || !qmcu_vdqs_undo_last(q->quant->vdq))
            break;
        if ((st = qmcu_quant_plan_refresh(m, q, err)) != QMCU_OK) break;
    }
    if (st != QMCU_OK) {
        qmcu_plan_free(q);
        return st;
    }
    q->quant->vdq->agreement_pct = agree;
    q->quant->vdq->calib_outlier_fraction = stats.tiles ? (double)stats.outlier_tiles / (double)stats.tiles : 0.0;
    q->quant->vdq->calib_outlier_value_fraction =
        stats.lowbit_values ? (double)stats.outlier_values / (double)stats.lowbit_values : 0.0;
    if (o->scheme == QMCU_SCHEME_V3 && (st = finish_v3(m, patch, inputs, n, o, &q, err)) != QMCU_OK) return st;
    *out = q;
    return QMCU_OK;
}
