/* QuantMCU planning: calibration of the VDPC thresholds and the VDQS bit-width search,
 * exactly as DESIGN.md §3 defines them. */
#include "vdq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../prepare/prepare.h"

void qmcu_quant_options_default(qmcu_quant_options *o, qmcu_quant_scheme scheme)
{
    static const int v1_bits[] = {8, 4, 2}, v2_bits[] = {8, 6, 5, 4};
    memset(o, 0, sizeof *o);
    o->scheme = scheme == QMCU_SCHEME_V1 || scheme == QMCU_SCHEME_V2 ? scheme : QMCU_SCHEME_V3;
    o->proxy = o->scheme == QMCU_SCHEME_V1 ? QMCU_PROXY_ENTROPY : QMCU_PROXY_OUTPUT;
    o->threads = 2;
    o->keep_outliers = o->scheme >= QMCU_SCHEME_V2;
    o->per_channel = o->clipping = 1;
    o->lambda = 0.5;
    o->max_kl = o->scheme == QMCU_SCHEME_V3 ? 0.03 : 0.0;
    /* version 3: an outlier tile runs again as 8-bit sub-tiles (a whole tile more on the device), so
       fewer are targeted; its thresholds come from the counts on the sized plan (pipeline.c) */
    o->outlier_tiles = o->scheme == QMCU_SCHEME_V1 ? 0.2 : (o->scheme == QMCU_SCHEME_V3 ? 0.01 : 0.05);
    if (o->scheme == QMCU_SCHEME_V1) {
        memcpy(o->cand, v1_bits, sizeof v1_bits);
        o->n_cand = 3;
    } else {
        memcpy(o->cand, v2_bits, sizeof v2_bits);
        o->n_cand = 4;
    }
}

qmcu_vdq *qmcu_vdq_new(int n_tensors)
{
    qmcu_vdq *v = (qmcu_vdq *)calloc(1, sizeof *v);
    int t;
    if (!v) return NULL;
    v->fmap = (qmcu_fmap *)calloc((size_t)(n_tensors > 0 ? n_tensors : 1), sizeof *v->fmap);
    if (!v->fmap) {
        free(v);
        return NULL;
    }
    v->n_tensors = n_tensors;
    v->opt.scheme = QMCU_SCHEME_V1;
    v->opt.proxy = QMCU_PROXY_ENTROPY;
    for (t = 0; t < n_tensors; t++) {
        int b;
        v->fmap[t].bits = 8;
        for (b = 0; b <= 8; b++) v->fmap[t].omega[b] = -1.0;
    }
    {
        qmcu_quant_options d;
        qmcu_quant_options_default(&d, QMCU_SCHEME_V1);
        v->opt.lambda = d.lambda;
        v->opt.outlier_tiles = d.outlier_tiles;
        memcpy(v->opt.cand, d.cand, sizeof d.cand);
        v->opt.n_cand = d.n_cand;
    }
    v->agreement_pct = -1.0;
    return v;
}

void qmcu_vdq_free(qmcu_vdq *v)
{
    int t, b;
    if (!v) return;
    for (t = 0; v->fmap && t < v->n_tensors; t++)
        for (b = 0; b <= 8; b++) free(v->fmap[t].scale[b]);
    free(v->fmap);
    free(v->steps);
    free(v);
}

void qmcu_lowbit_quant(float lo, float hi, int bits, float *scale, int32_t *zero_point)
{
    const int32_t top = (1 << bits) - 1;
    float s = (hi - lo) / (float)top;
    int32_t zp;
    if (!(s > 0.0f)) s = 1.0f; /* degenerate range: never used (out of scope) */
    zp = (int32_t)lroundf(-lo / s);
    *scale = s;
    *zero_point = zp < 0 ? 0 : (zp > top ? top : zp);
}

int qmcu_fmap_alloc_scales(qmcu_fmap *fm, int bits, int channels)
{
    free(fm->scale[bits]);
    fm->scale[bits] = (float *)calloc((size_t)(channels > 0 ? channels : 1), sizeof(float));
    fm->channels = channels;
    return fm->scale[bits] != NULL;
}

void qmcu_fmap_format(const qmcu_vdq *vdq, const qmcu_graph *g, int t, float *scales, int32_t *zero_point)
{
    const qmcu_fmap *fm = &vdq->fmap[t];
    const int32_t c_n = g->tensors[t].dims[3];
    int32_t c;
    if (vdq->opt.scheme >= QMCU_SCHEME_V2 && fm->scale[fm->bits]) {
        for (c = 0; c < c_n; c++) scales[c] = fm->scale[fm->bits][c];
        *zero_point = fm->is_signed ? 1 << (fm->bits - 1) : 0;
        return;
    }
    qmcu_lowbit_quant(fm->lo, fm->hi, fm->bits, &scales[0], zero_point);
    for (c = 1; c < c_n; c++) scales[c] = scales[0];
}

/* Is tensor t read only by ops that take low-bit inputs (conv, depthwise, add; pad when its
 * own output is read only by those)? */
static int low_bit_readers_only(const qmcu_graph *g, int split, int t)
{
    int i, j;
    for (i = 0; i < split; i++)
        for (j = 0; j < g->ops[i].n_in; j++) {
            const qmcu_op *op = &g->ops[i];
            if (op->in[j] != t) continue;
            if (op->type == QMCU_OP_PAD) {
                if (!low_bit_readers_only(g, split, op->out)) return 0;
            } else if (!qmcu_op_has(op->type, QMCU_OPT_LOWBIT_READER)) {
                return 0;
            } else if (j > 0 && op->type != QMCU_OP_ADD) {
                return 0; /* a weight or bias slot */
            }
        }
    return 1;
}

/* H_i(b): entropy of the calibration values within [lo, hi], quantized to b bits. */
static double entropy_bits(const int64_t hist[256], const qmcu_tensor *x, float lo, float hi, int bits)
{
    int64_t h[256] = {0}, total = 0;
    float s;
    int32_t zp, q;
    double e = 0.0;
    const float eps = 1e-6f * (fabsf(lo) + fabsf(hi) + 1.0f);
    qmcu_lowbit_quant(lo, hi, bits, &s, &zp);
    for (q = -128; q <= 127; q++) {
        const int64_t c = hist[q + 128];
        const float r = x->scale * (float)(q - x->zero_point);
        int32_t code;
        if (!c || r < lo - eps || r > hi + eps) continue;
        code = (int32_t)lroundf(r / s) + zp;
        code = code < 0 ? 0 : (code > (1 << bits) - 1 ? (1 << bits) - 1 : code);
        h[code] += c;
        total += c;
    }
    for (q = 0; q < 256 && total; q++)
        if (h[q]) {
            const double pr = (double)h[q] / (double)total;
            e -= pr * log2(pr);
        }
    return e;
}

void qmcu_vdq_set_scope(const qmcu_plan *p, qmcu_vdq *vdq)
{
    const qmcu_graph *g = p->g;
    const int k = p->spec.split;
    int i;
    /* outputs of patch-stage conv / depthwise / add (not S) read only by low-bit ops */
    for (i = 0; i < k; i++) {
        const qmcu_op *op = &g->ops[i];
        const int t = op->out;
        vdq->fmap[t].in_scope = qmcu_op_has(op->type, QMCU_OPT_LOWBIT_PRODUCER) && g->tensors[t].type == QMCU_I8 &&
                                t != p->split_tensor && low_bit_readers_only(g, k, t);
        vdq->fmap[t].channels = g->tensors[t].dims[3];
    }
}

void qmcu_vdq_consumer_macs(const qmcu_plan *p, qmcu_vdq *vdq)
{
    const qmcu_graph *g = p->g;
    const int k = p->spec.split, nt = g->n_tensors;
    int i;
    /* BitOPs weight of each map: MACs of the convolutions reading it (directly or through PADs), as the
       tiles execute them (halo recomputation included, cached halos not) */
    for (i = 0; i < nt; i++) vdq->fmap[i].consumer_macs = 0.0;
    for (i = 0; i < k; i++) {
        const qmcu_op *op = &g->ops[i];
        const int src = qmcu_pad_source(g, k, op->in[0]);
        if (qmcu_is_conv(op->type) && vdq->fmap[src].in_scope) vdq->fmap[src].consumer_macs += (double)p->op_macs[i];
    }
}

qmcu_status qmcu_calibrate(const qmcu_model *m, const qmcu_plan *p, const uint8_t *const *inputs, int n, double f,
                           qmcu_vdq *vdq, const qmcu_progress *pr, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const int nt = g->n_tensors, k = p->spec.split, tiles = p->n_tiles;
    int32_t **maxv = (int32_t **)calloc((size_t)nt, sizeof(int32_t *)),
            **minv = (int32_t **)calloc((size_t)nt, sizeof(int32_t *));
    int64_t(*hist)[256] = (int64_t(*)[256])calloc((size_t)nt, sizeof *hist);
    uint8_t *mem = (uint8_t *)calloc(p->host_bytes ? p->host_bytes : 1, 1);
    const clock_t t0 = clock();
    qmcu_status st = QMCU_OK;
    int img, tile, i, t;
    if (!maxv || !minv || !hist || !mem) {
        st = QMCU_ERR_NOMEM;
        goto done;
    }
    if (k == 0 || n < 1) {
        qmcu_error_set(err, "%s: calibration needs a patch stage and at least one image", g->path);
        st = QMCU_ERR_ARG;
        goto done;
    }
    vdq->opt.outlier_tiles = f;
    vdq->calib_images = n;
    qmcu_vdq_set_scope(p, vdq);
    for (t = 0; t < nt; t++) {
        if (!vdq->fmap[t].in_scope) continue;
        maxv[t] = (int32_t *)malloc(sizeof(int32_t) * (size_t)n * (size_t)tiles);
        minv[t] = (int32_t *)malloc(sizeof(int32_t) * (size_t)n * (size_t)tiles);
        if (!maxv[t] || !minv[t]) {
            st = QMCU_ERR_NOMEM;
            goto done;
        }
    }
    /* per (image, tile): the largest and smallest code of every feature map, and histograms */
    for (img = 0; img < n; img++) {
        qmcu_exec_set_input(m, &p->exec, mem, 0, inputs[img]);
        for (tile = 0; tile < tiles; tile++)
            for (i = 0; i < k; i++) {
                const qmcu_window r = p->region[(size_t)tile * nt + g->ops[i].out];
                const int8_t *codes = (const int8_t *)(mem + p->tensor_offset[g->ops[i].out]);
                const size_t cnt = (size_t)((int64_t)(r.h1 - r.h0) * (r.w1 - r.w0) * g->tensors[g->ops[i].out].dims[3]);
                int32_t hi = -128, lo = 127;
                size_t e;
                if ((st = qmcu_exec_run_op(m, &p->exec, mem, tile, i)) != QMCU_OK) goto done;
                t = g->ops[i].out;
                if (!vdq->fmap[t].in_scope) continue;
                if (qmcu_window_empty(r)) { /* a tile without this map: neutral extremes */
                    maxv[t][img * tiles + tile] = -128;
                    minv[t][img * tiles + tile] = 127;
                    continue;
                }
                for (e = 0; e < cnt; e++) {
                    hi = codes[e] > hi ? codes[e] : hi;
                    lo = codes[e] < lo ? codes[e] : lo;
                    hist[t][codes[e] + 128]++;
                }
                maxv[t][img * tiles + tile] = hi;
                minv[t][img * tiles + tile] = lo;
            }
        qmcu_progress_report(pr, "calibration", img + 1, n);
    }
    /* T_i = (1 - f) quantile of the per-tile maxima; lo_i = 0 after ReLU, else the f quantile of minima */
    for (t = 0; t < nt; t++) {
        qmcu_fmap *fm = &vdq->fmap[t];
        const qmcu_tensor *x = &g->tensors[t];
        const int total = n * tiles;
        int idx, b, producer = -1;
        int32_t act_lo, act_hi;
        if (!fm->in_scope) continue;
        producer = qmcu_graph_producer(g, t, k);
        qmcu_activation_range(g->ops[producer].act, x->scale, x->zero_point, &act_lo, &act_hi);
        qsort(maxv[t], (size_t)total, sizeof(int32_t), qmcu_cmp_i32);
        qsort(minv[t], (size_t)total, sizeof(int32_t), qmcu_cmp_i32);
        idx = (int)ceil((1.0 - f) * total) - 1;
        idx = idx < 0 ? 0 : (idx >= total ? total - 1 : idx);
        fm->hi = x->scale * (float)(maxv[t][idx] - x->zero_point);
        if (act_lo >= x->zero_point) {
            fm->lo = 0.0f;
        } else {
            idx = (int)floor(f * total);
            idx = idx < 0 ? 0 : (idx >= total ? total - 1 : idx);
            fm->lo = x->scale * (float)(minv[t][idx] - x->zero_point);
        }
        if (fm->lo > 0.0f) fm->lo = 0.0f; /* real 0 must be representable */
        if (fm->hi < 0.0f) fm->hi = 0.0f;
        if (!(fm->hi - fm->lo > 2.0f * x->scale)) { /* (almost) constant map: keep 8 bits */
            fm->in_scope = 0;
            continue;
        }
        for (b = 1; b <= 8; b++) fm->entropy[b] = entropy_bits(hist[t], x, fm->lo, fm->hi, b);
    }
    qmcu_vdq_consumer_macs(p, vdq);
    vdq->calib_seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
done:
    if (st == QMCU_ERR_NOMEM) qmcu_error_set(err, "%s: out of memory during calibration", g->path);
    for (t = 0; maxv && minv && t < nt; t++) {
        free(maxv[t]);
        free(minv[t]);
    }
    free(maxv);
    free(minv);
    free(hist);
    free(mem);
    return st;
}

double qmcu_vdq_static_bitops(const qmcu_plan *p, const qmcu_vdq *vdq)
{
    double bitops = (double)p->patch_macs * 64.0;
    int t;
    for (t = 0; t < vdq->n_tensors; t++)
        if (vdq->fmap[t].in_scope) bitops -= vdq->fmap[t].consumer_macs * 8.0 * (8 - vdq->fmap[t].bits);
    return bitops;
}

static int next_lower(const qmcu_vdq *v, int bits)
{
    int c, best = 0;
    for (c = 0; c < v->opt.n_cand; c++)
        if (v->opt.cand[c] < bits && v->opt.cand[c] > best) best = v->opt.cand[c];
    return best;
}

void qmcu_vdqs_search(const qmcu_plan *p, qmcu_vdq *v)
{
    const clock_t t0 = clock();
    const double bitops8 = (double)p->patch_macs * 64.0;
    double h8 = 0.0;
    int t, cap = 0;
    free(v->steps);
    v->steps = NULL;
    v->n_steps = 0;
    for (t = 0; t < v->n_tensors; t++)
        if (v->fmap[t].in_scope) {
            v->fmap[t].bits = 8;
            h8 += v->fmap[t].entropy[8];
            cap += v->opt.n_cand;
        }
    v->steps = (qmcu_vdqs_step *)calloc((size_t)(cap > 0 ? cap : 1), sizeof *v->steps);
    if (v->opt.proxy == QMCU_PROXY_OUTPUT) h8 = v->omega_scale > 0.0 ? v->omega_scale : 1e-12;
    if (!v->steps || h8 <= 0.0 || bitops8 <= 0.0) {
        v->search_seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
        return;
    }
    for (;;) {
        qmcu_vdqs_step best;
        best.tensor = -1;
        best.score = 0.0;
        for (t = 0; t < v->n_tensors; t++) {
            const qmcu_fmap *fm = &v->fmap[t];
            const int b = fm->in_scope ? next_lower(v, fm->bits) : 0;
            double omega, phi, score;
            if (!b) continue;
            if (v->opt.proxy == QMCU_PROXY_OUTPUT) { /* measured damage of this step alone, never negative */
                omega = (fm->omega[b] - fm->omega[fm->bits]) / h8;
                if (omega < 0.0) omega = 0.0;
            } else {
                omega = (fm->entropy[fm->bits] - fm->entropy[b]) / h8;
            }
            phi = fm->consumer_macs * 8.0 * (double)(fm->bits - b) / bitops8;
            score = -v->opt.lambda * omega + (1.0 - v->opt.lambda) * phi;
            if (best.tensor < 0 || score > best.score) {
                best.tensor = t;
                best.bits = b;
                best.from_bits = fm->bits;
                best.score = score;
                best.omega = omega;
                best.phi = phi;
            }
        }
        /* a BitOPs target moves along the frontier past the point where the score turns negative */
        if (best.tensor < 0 || (best.score <= 0.0 && v->opt.bitops_target <= 0.0) || v->n_steps >= cap) break;
        best.applied = 1;
        v->fmap[best.tensor].bits = best.bits;
        v->steps[v->n_steps++] = best;
        if (v->opt.bitops_target > 0.0 && bitops8 / qmcu_vdq_static_bitops(p, v) >= v->opt.bitops_target) break;
    }
    v->search_seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
}

int qmcu_vdqs_undo_last(qmcu_vdq *v)
{
    int s;
    for (s = v->n_steps - 1; s >= 0; s--)
        if (v->steps[s].applied) {
            v->steps[s].applied = 0;
            v->fmap[v->steps[s].tensor].bits = v->steps[s].from_bits;
            return 1;
        }
    return 0;
}
