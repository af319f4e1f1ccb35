/* QuantMCU version 2 calibration (DESIGN.md §3): per-channel ranges chosen to minimise the
 * quantization error at each candidate width (MSE-optimal clipping on the calibration values),
 * and the VDPC outlier-tile thresholds.
 *
 * Pass 1 runs the 8-bit patch stage tile by tile and histograms every map in scope per channel.
 * The scale of channel c at b bits minimises sum_v h_c[v] (x_v - Q(x_v))^2 over a grid of clipping
 * points (ReLU maps: [0, hi], zero point 0; signed maps: zero point 2^(b-1)). (At run time ReLU6 is
 * applied per channel in code space, so values at 6 count as out of range here and there alike.)
 * Pass 2 runs again and counts, per (image, tile, map, width), the values outside the range: tau
 * is the quantile of those counts that leaves a fraction f_map of tiles above it, with f_map
 * chosen so that about f of the tiles fall back somewhere on the branch (1 - (1 - f_map)^k = f for
 * the k maps in scope). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../prepare/prepare.h"
#include "../runtime/lowbit_exec.h"
#include "vdq.h"

#define CLIP_GRID           96   /* clipping points tried per channel and width */
#define QMCU_OUTLIER_BUDGET 0.01 /* kept outlier values: at most this fraction of a channel's calibration values */

/* Real value of 8-bit code q of tensor x. */
static double real_of(const qmcu_tensor *x, int q) { return (double)x->scale * (double)(q - x->zero_point); }

static int code_of(double v, double s, int zp, int top)
{
    const long q = lround(v / s) + zp;
    return (int)(q < 0 ? 0 : (q > top ? top : q));
}

/* MSE-optimal scale of one channel at b bits from its 256-bin histogram. Without kept outliers a
 * value beyond the range is clipped; with them (keep_budget > 0: the largest fraction of values
 * allowed beyond the range) it keeps an extended code (to the int8 limits), so the error is the
 * rounding error almost everywhere and the best scale is about the smallest the budget allows. */
static float best_scale(const int64_t *h, const qmcu_tensor *x, int bits, int is_signed, int clipping,
                        double keep_budget)
{
    const int top = (1 << bits) - 1, zp = is_signed ? 1 << (bits - 1) : 0;
    double vmin = 0.0, vmax = 0.0, s_full, best_err = -1.0, best_s, total = 0.0;
    int q, k;
    for (q = -128; q <= 127; q++)
        if (h[q + 128]) {
            const double v = real_of(x, q);
            if (v < vmin) vmin = v;
            if (v > vmax) vmax = v;
            total += (double)h[q + 128];
        }
    /* the scale that covers the whole observed range */
    s_full = is_signed ? fmax(-vmin / (double)zp, vmax / (double)(top - zp)) : vmax / (double)top;
    if (!(s_full > 0.0)) return x->scale; /* a constant channel: any scale */
    if (!clipping) return (float)s_full;  /* ablation: the whole observed range */
    best_s = s_full;
    for (k = CLIP_GRID; k >= 1; k--) {
        const double s = s_full * (double)k / CLIP_GRID;
        double e = 0.0, beyond = 0.0;
        for (q = -128; q <= 127; q++)
            if (h[q + 128]) {
                const double v = real_of(x, q);
                int code = code_of(v, s, zp, top);
                if (keep_budget > 0.0) {
                    const long ext = lround(v / s) + zp;
                    if (ext != code) beyond += (double)h[q + 128];
                    code = (int)(ext < -128 ? -128 : (ext > 127 ? 127 : ext));
                }
                e += (double)h[q + 128] * (v - (double)(code - zp) * s) * (v - (double)(code - zp) * s);
            }
        if (keep_budget > 0.0 && beyond > keep_budget * total) continue;
        if (best_err < 0.0 || e < best_err) {
            best_err = e;
            best_s = s;
        }
    }
    return (float)best_s;
}


/* Codes of one tile's map outside the range at b bits. */
static int32_t clipped_count(const qmcu_fmap *fm, const qmcu_tensor *x, const int8_t *codes, int64_t n, int bits)
{
    const int top = (1 << bits) - 1, zp = fm->is_signed ? 1 << (bits - 1) : 0, c_n = x->dims[3];
    const float *sc = fm->scale[bits];
    int32_t count = 0;
    int64_t e;
    for (e = 0; e < n; e++) {
        const double v = real_of(x, codes[e]);
        const long q = lround(v / (double)sc[e % c_n]) + zp;
        count += q < 0 || q >= top + (bits != 7); /* as the runtime counts: at 7 bits 127 may hide a larger value */
    }
    return count;
}

int qmcu_cmp_i32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int32_t qmcu_vdpc_tau(int32_t *counts, int total, double f, int k)
{
    const double f_map = k ? 1.0 - pow(1.0 - f, 1.0 / k) : f;
    int idx;
    if (f <= 0.0 || total < 1) return -1; /* f = 0: never fall back */
    qsort(counts, (size_t)total, sizeof(int32_t), qmcu_cmp_i32);
    idx = (int)ceil((1.0 - f_map) * total) - 1; /* at most a fraction f_map of tiles above it */
    return counts[idx < 0 ? 0 : (idx >= total ? total - 1 : idx)];
}

typedef struct {
    const qmcu_model *m;
    const qmcu_plan *p;
    qmcu_vdq *vdq;
    int64_t **hist;   /* pass 1: per map, [channel][256] */
    int32_t **counts; /* pass 2: per map, [width][image * tiles + tile] */
    int n, pass;
    const qmcu_progress *progress;
} calib_ctx;

/* Pass `pass` over every image and tile. */
static qmcu_status run_pass(calib_ctx *cx, const uint8_t *const *inputs, uint8_t *mem)
{
    const qmcu_graph *g = cx->m->g;
    const qmcu_plan *p = cx->p;
    const int nt = g->n_tensors, k = p->spec.split, tiles = p->n_tiles;
    int img, tile, i, b;
    qmcu_status st;
    for (img = 0; img < cx->n; img++) {
        qmcu_exec_set_input(cx->m, &p->exec, mem, 0, inputs[img]);
        for (tile = 0; tile < tiles; tile++)
            for (i = 0; i < k; i++) {
                const int t = g->ops[i].out;
                const qmcu_tensor *x = &g->tensors[t];
                const qmcu_window r = p->region[(size_t)tile * nt + t];
                const int8_t *codes = (const int8_t *)(mem + p->tensor_offset[t]);
                const int64_t cnt = qmcu_window_empty(r) ? 0 : (int64_t)(r.h1 - r.h0) * (r.w1 - r.w0) * x->dims[3];
                qmcu_fmap *fm = &cx->vdq->fmap[t];
                int64_t e;
                if ((st = qmcu_exec_run_op(cx->m, &p->exec, mem, tile, i)) != QMCU_OK) return st;
                if (!fm->in_scope) continue;
                if (cx->pass == 1) {
                    for (e = 0; e < cnt; e++) cx->hist[t][(e % x->dims[3]) * 256 + codes[e] + 128]++;
                } else {
                    for (b = 2; b < 8; b++)
                        if (fm->scale[b])
                            cx->counts[t][(size_t)b * (size_t)cx->n * tiles + (size_t)img * tiles + tile] =
                                clipped_count(fm, x, codes, cnt, b);
                }
            }
        qmcu_progress_report(cx->progress, "calibration", (cx->pass - 1) * cx->n + img + 1, 2 * cx->n);
    }
    return QMCU_OK;
}

/* Pass 1 results: signedness, per-channel scales at every candidate width below 8, entropies. */
static qmcu_status choose_scales(calib_ctx *cx, qmcu_error *err)
{
    const qmcu_graph *g = cx->m->g;
    const qmcu_vdq *vdq = cx->vdq;
    int t, b, c, k;
    for (t = 0; t < g->n_tensors; t++) {
        qmcu_fmap *fm = &cx->vdq->fmap[t];
        const qmcu_tensor *x = &g->tensors[t];
        const qmcu_op *producer;
        int32_t act_lo, act_hi;
        if (!fm->in_scope) continue;
        producer = &g->ops[qmcu_graph_producer(g, t, cx->p->spec.split)];
        qmcu_activation_range(producer->act, x->scale, x->zero_point, &act_lo, &act_hi);
        fm->is_signed = act_lo < x->zero_point; /* can go below 0 */
        {                                       /* the observed range (informative in the plan file) */
            int q, lo_q = 127, hi_q = -128;
            for (c = 0; c < x->dims[3]; c++)
                for (q = -128; q <= 127; q++)
                    if (cx->hist[t][(size_t)c * 256 + q + 128]) {
                        if (q < lo_q) lo_q = q;
                        if (q > hi_q) hi_q = q;
                    }
            fm->lo = lo_q <= hi_q ? (float)fmin(0.0, real_of(x, lo_q)) : 0.0f;
            fm->hi = lo_q <= hi_q ? (float)fmax(real_of(x, hi_q), (double)fm->lo + (double)x->scale) : x->scale;
        }
        for (k = 0; k < vdq->opt.n_cand; k++) {
            double keep_budget;
            b = vdq->opt.cand[k];
            if (b >= 8) continue;
            /* version 3 saturates the outliers of a packed map (it has no extended codes): its
               range minimises the error with them clipped */
            keep_budget = vdq->opt.keep_outliers && !(vdq->opt.scheme >= QMCU_SCHEME_V3 &&
                                                      qmcu_lowbit_store_bits(b, x->dims[3]) < 8)
                              ? QMCU_OUTLIER_BUDGET
                              : 0.0;
            if (!qmcu_fmap_alloc_scales(fm, b, x->dims[3])) {
                qmcu_error_set(err, "%s: out of memory during calibration", g->path);
                return QMCU_ERR_NOMEM;
            }
            if (vdq->opt.per_channel) {
                for (c = 0; c < x->dims[3]; c++)
                    fm->scale[b][c] =
                        best_scale(cx->hist[t] + (size_t)c * 256, x, b, fm->is_signed, vdq->opt.clipping, keep_budget);
            } else { /* ablation: one scale for the whole map, from the pooled histogram */
                int64_t pooled[256] = {0};
                int q2;
                float sc;
                for (c = 0; c < x->dims[3]; c++)
                    for (q2 = 0; q2 < 256; q2++) pooled[q2] += cx->hist[t][(size_t)c * 256 + q2];
                sc = best_scale(pooled, x, b, fm->is_signed, vdq->opt.clipping, keep_budget);
                for (c = 0; c < x->dims[3]; c++) fm->scale[b][c] = sc;
            }
        }
        for (b = 1; b <= 8; b++) fm->entropy[b] = 0.0; /* the entropy proxy: pooled codes at each width */
        for (k = 0; k < vdq->opt.n_cand; k++) {
            int64_t hc[256] = {0}, total = 0;
            int q;
            b = vdq->opt.cand[k];
            if (b >= 8) continue;
            for (c = 0; c < x->dims[3]; c++)
                for (q = -128; q <= 127; q++) {
                    const int64_t h = cx->hist[t][(size_t)c * 256 + q + 128];
                    if (!h) continue;
                    hc[code_of(real_of(x, q), (double)fm->scale[b][c], fm->is_signed ? 1 << (b - 1) : 0,
                               (1 << b) - 1)] += h;
                    total += h;
                }
            for (q = 0; q < 256 && total; q++)
                if (hc[q]) fm->entropy[b] -= (double)hc[q] / (double)total * log2((double)hc[q] / (double)total);
        }
        { /* 8 bits: the map's own codes, pooled over channels */
            int64_t total = 0, hq[256] = {0};
            int q;
            for (c = 0; c < x->dims[3]; c++)
                for (q = 0; q < 256; q++) hq[q] += cx->hist[t][(size_t)c * 256 + q];
            for (q = 0; q < 256; q++) total += hq[q];
            for (q = 0; q < 256 && total; q++)
                if (hq[q]) fm->entropy[8] -= (double)hq[q] / (double)total * log2((double)hq[q] / (double)total);
        }
    }
    return QMCU_OK;
}

/* Pass 2 results: tau per map and width. */
static void choose_tau(calib_ctx *cx, double f)
{
    const qmcu_graph *g = cx->m->g;
    const int total = cx->n * cx->p->n_tiles;
    int t, b, in_scope = 0;
    for (t = 0; t < g->n_tensors; t++) in_scope += cx->vdq->fmap[t].in_scope;
    for (t = 0; t < g->n_tensors; t++) {
        qmcu_fmap *fm = &cx->vdq->fmap[t];
        if (!fm->in_scope) continue;
        for (b = 2; b < 8; b++)
            if (fm->scale[b]) fm->tau[b] = qmcu_vdpc_tau(cx->counts[t] + (size_t)b * total, total, f, in_scope);
    }
}

qmcu_status qmcu_calibrate_v2(const qmcu_model *m, const qmcu_plan *p, const uint8_t *const *inputs, int n, double f,
                              qmcu_vdq *vdq, const qmcu_progress *pr, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const int nt = g->n_tensors, tiles = p->n_tiles;
    const clock_t t0 = clock();
    calib_ctx cx;
    uint8_t *mem = (uint8_t *)calloc(p->host_bytes ? p->host_bytes : 1, 1);
    qmcu_status st = QMCU_OK;
    int t;
    memset(&cx, 0, sizeof cx);
    cx.m = m;
    cx.p = p;
    cx.vdq = vdq;
    cx.n = n;
    cx.progress = pr;
    if (p->spec.split == 0 || n < 1) {
        free(mem);
        qmcu_error_set(err, "%s: calibration needs a patch stage and at least one image", g->path);
        return QMCU_ERR_ARG;
    }
    if (vdq->opt.scheme < QMCU_SCHEME_V2) vdq->opt.scheme = QMCU_SCHEME_V2;
    vdq->opt.outlier_tiles = f;
    vdq->calib_images = n;
    qmcu_vdq_set_scope(p, vdq);
    cx.hist = (int64_t **)calloc((size_t)nt, sizeof *cx.hist);
    cx.counts = (int32_t **)calloc((size_t)nt, sizeof *cx.counts);
    if (!mem || !cx.hist || !cx.counts) st = QMCU_ERR_NOMEM;
    for (t = 0; st == QMCU_OK && t < nt; t++) {
        if (!vdq->fmap[t].in_scope) continue;
        cx.hist[t] = (int64_t *)calloc((size_t)g->tensors[t].dims[3] * 256, sizeof(int64_t));
        cx.counts[t] = (int32_t *)calloc((size_t)8 * (size_t)n * (size_t)tiles, sizeof(int32_t));
        if (!cx.hist[t] || !cx.counts[t]) st = QMCU_ERR_NOMEM;
    }
    if (st == QMCU_ERR_NOMEM) qmcu_error_set(err, "%s: out of memory during calibration", g->path);
    cx.pass = 1;
    qmcu_progress_report(pr, "calibration", 0, 2 * n);
    if (st == QMCU_OK) st = run_pass(&cx, inputs, mem);
    if (st == QMCU_OK) st = choose_scales(&cx, err);
    cx.pass = 2;
    if (st == QMCU_OK) st = run_pass(&cx, inputs, mem);
    if (st == QMCU_OK) {
        choose_tau(&cx, f);
        qmcu_vdq_consumer_macs(p, vdq);
    }
    vdq->calib_seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
    for (t = 0; t < nt; t++) {
        if (cx.hist) free(cx.hist[t]);
        if (cx.counts) free(cx.counts[t]);
    }
    free(cx.hist);
    free(cx.counts);
    free(mem);
    return st;
}
