/* QuantMCU (DESIGN.md §3), host side: the record of a plan: per feature map the outlier thresholds from
 * calibration (VDPC) and the low bit width chosen by the entropy/BitOPs search (VDQS).
 *
 * Feature maps in scope: outputs of patch-stage CONV_2D / DEPTHWISE_CONV_2D / ADD other than
 * the split tensor S. A PAD copies codes, so its output keeps its input's format. Everything
 * else (input image, S, layer stage, pooling, LUT activations) stays 8-bit.
 *
 * Low-bit format of feature map i at b bits (normal tiles): real range [lo_i, T_i], scale
 * (T_i - lo_i) / (2^b - 1), zero point round(-lo_i / scale) so real 0 is exact, unsigned codes
 * 0 .. 2^b - 1. lo_i = 0 when the 8-bit tensor cannot go below 0 (ReLU/ReLU6 outputs);
 * otherwise lo_i is the calibrated lower threshold (the f quantile of per-tile minima), the
 * mirror of T_i. A code that would fall outside 0 .. 2^b - 1 before clamping is an outlier. */
#ifndef QMCU_QUANTMCU_H
#define QMCU_QUANTMCU_H

#include <stdint.h>
#include <stdio.h>

#include "../planning/plan.h"
#include "quantmcu/runtime.h"

#define QMCU_MAX_CANDIDATES 8

typedef struct {
    int in_scope;         /* may run low-bit */
    int bits;             /* on normal tiles; 8 = unchanged */
    int for_memory;       /* version 3: lowered after the search so the plan fits its SRAM budget(s) */
    float lo, hi;         /* version 1: [lo_i, T_i] */
    double entropy[9];    /* H_i(b) for b = 1..8 (index b), from calibration */
    double consumer_macs; /* MACs of the convolutions reading it (through PADs), all tiles */
    /* version 2: per-channel formats. Channel c at b bits: code = clamp(round(x / scale[b][c]) + zp),
     * zp = 0 for a map that cannot go below 0 (ReLU), 2^(b-1) otherwise (one zero point for all
     * channels, so kernels keep scalar offsets); scales MSE-optimal on the calibration values. */
    int channels;
    int is_signed;
    float *scale[9]; /* [b][c], b = 2..7; owned; NULL where not calibrated */
    int32_t tau[9];  /* VDPC at b bits: most codes per op outside 0 .. 2^b - 1 on a normal tile */
    double omega[9]; /* output proxy: KL at the logits with this map alone at b bits (-1: not measured) */
} qmcu_fmap;

typedef struct {
    int tensor, bits, from_bits;
    double score, omega, phi;
    int applied; /* 0 = undone by the agreement guard */
} qmcu_vdqs_step;

/* Version 3 = version 2's formats and search, stored packed in buffers sized for the bits (DESIGN.md §3). */
typedef enum { QMCU_SCHEME_V1 = 1, QMCU_SCHEME_V2 = 2, QMCU_SCHEME_V3 = 3 } qmcu_quant_scheme;
typedef enum { QMCU_PROXY_OUTPUT = 0, QMCU_PROXY_ENTROPY = 1 } qmcu_quant_proxy;

/* Progress of the long steps (may have fn NULL): stage name, units done of total. */
typedef struct {
    void (*fn)(const char *stage, int done, int total, void *ctx);
    void *ctx;
} qmcu_progress;

/* QuantMCU's options (the API maps its public options onto these; a record keeps its own copy). */
typedef struct {
    qmcu_quant_scheme scheme;              /* default version 3 */
    qmcu_quant_proxy proxy;                /* default: output (version 2), entropy (version 1) */
    int threads;                           /* output proxy measurements (default 2) */
    int keep_outliers;                     /* version 2: keep outlier values (default 1) */
    int per_channel, clipping;             /* version 2: per-channel scales, MSE clipping (default 1; ablations) */
    double lambda;                         /* VDQS trade-off, default 0.5 */
    double outlier_tiles;                  /* f, default 0.2 */
    double bitops_target;                  /* stop when the static ratio reaches it (0: off) */
    double max_agreement_drop;             /* undo steps until top-1 agreement >= 100 - this (0: off) */
    size_t patch_sram;                     /* version 3: the patch stage's own peak to reach too (0: none) */
    double max_kl;                         /* version 3 accuracy guard: mean KL at the logits vs int8 on the
                                              calibration images (default 0.03; 0: off) */
    int memory_only;                       /* version 3: maps leave 8 bits only where the SRAM budget needs it
                                              (the geometry search: device instructions are the objective) */
    int cand[QMCU_MAX_CANDIDATES], n_cand; /* descending, cand[0] = 8; default {8, 6, 5, 4} (v1: {8, 4, 2}) */
    qmcu_progress progress;                /* "calibration": per image and pass; "QuantMCU search": per measurement */
} qmcu_quant_options;

typedef struct {
    int n_tensors;
    qmcu_fmap *fmap; /* per tensor */
    qmcu_quant_options opt; /* the options it was made with: scheme, proxy, formats, f, VDQS settings (their only
                               copy; threads and progress matter only while it is made) */
    double omega_scale;     /* output proxy: KL with every map at its lowest candidate */
    /* calibration */
    int calib_images;
    double calib_outlier_fraction;       /* realized by VDPC on the calibration images */
    double calib_outlier_value_fraction; /* values beyond their format's range on normal tiles (v2) */
    double calib_seconds;
    /* search */
    qmcu_vdqs_step *steps;
    int n_steps;
    double search_seconds;
    double agreement_pct; /* top-1 agreement with patch mode on the calibration images (-1: not measured) */
    double calib_kl; /* version 3: mean KL at the logits vs the int8 plan on the calibration images */
    int guard_met;   /* version 3: calib_kl <= opt.max_kl (or the guard off) */
    /* version 3 geometry search (API; 0 when not searched) */
    int geometry_searched, geometry_from_bits;
    int geometry_guard_failed; /* the bits' geometry missed the accuracy guard: the int8 plan's was used */
    int failed_split, failed_grid_h, failed_grid_w; /* that geometry */
    double failed_kl;                               /* and the KL its sized plan reached */
    double int8_predicted, bits_predicted;
} qmcu_vdq;

qmcu_vdq *qmcu_vdq_new(int n_tensors);
void qmcu_vdq_free(qmcu_vdq *v);

/* Low-bit quantization of a feature map at b bits (version 1, see above). */
void qmcu_lowbit_quant(float lo, float hi, int bits, float *scale, int32_t *zero_point);
/* The format of map t (both versions) at its planned bits: per-channel scales (c = 0 .. C-1, all
 * equal for version 1) and the zero point. */
void qmcu_fmap_format(const qmcu_vdq *vdq, const qmcu_graph *g, int t, float *scales, int32_t *zero_point);
/* Allocates fmap[t].scale[b] (channels entries); 0 on failure. */
int qmcu_fmap_alloc_scales(qmcu_fmap *fm, int bits, int channels);

static inline void qmcu_progress_report(const qmcu_progress *p, const char *stage, int done, int total)
{
    if (p && p->fn) p->fn(stage, done, total, p->ctx);
}

/* Scope: outputs of patch-stage conv / depthwise / add (not S) read only by ops that take low-bit
 * inputs; and each map's BitOPs weight (MACs of the convolutions reading it, all tiles). */
void qmcu_vdq_set_scope(const qmcu_plan *p, qmcu_vdq *vdq);
void qmcu_vdq_consumer_macs(const qmcu_plan *p, qmcu_vdq *vdq);
/* Calibration, version 2: per-channel histograms of every map in scope, MSE-optimal per-channel
 * scales at every candidate width below 8, and the VDPC thresholds tau (per width: the
 * per-map quantile of out-of-range counts per tile that makes about a fraction f of tiles of the
 * whole branch fall back). */
qmcu_status qmcu_calibrate_v2(const qmcu_model *m, const qmcu_plan *p, const uint8_t *const *inputs, int n,
                              double outlier_tiles, qmcu_vdq *vdq, const qmcu_progress *pr, qmcu_error *err);
/* VDPC threshold of one map from its out-of-range counts on `total` calibration tiles (sorted in
 * place): the quantile that leaves a fraction f_map of the tiles above it, with 1 - (1 - f_map)^k
 * = f over the k maps of the branch; -1 (never fall back) when f <= 0. */
int32_t qmcu_vdpc_tau(int32_t *counts, int total, double f, int k);
/* qsort order of int32_t. */
int qmcu_cmp_i32(const void *a, const void *b);
/* Calibration (version 1, VDPC thresholds, DESIGN.md §3): runs n inputs (model-format bytes) through the
 * patch stage of plan p tile by tile, and sets for every feature map in scope T_i (and lo_i)
 * from the per-tile extremes and the entropies H_i(b) from the histogram of its values. */
qmcu_status qmcu_calibrate(const qmcu_model *m, const qmcu_plan *p, const uint8_t *const *inputs, int n,
                           double outlier_tiles, qmcu_vdq *vdq, const qmcu_progress *pr, qmcu_error *err);
/* VDQS: the greedy entropy / BitOPs search over vdq->opt.cand with vdq->opt.lambda and
 * vdq->opt.bitops_target; records every step and sets fmap[].bits. Deterministic. */
void qmcu_vdqs_search(const qmcu_plan *p, qmcu_vdq *vdq);
/* Patch-stage BitOPs of plan p with vdq's bits on every tile (no outlier tiles). */
double qmcu_vdq_static_bitops(const qmcu_plan *p, const qmcu_vdq *vdq);
/* Undoes the last applied search step (agreement guard); 0 when none is left. */
int qmcu_vdqs_undo_last(qmcu_vdq *vdq);

/* ---- low-bit execution data: what the runtime needs of a vdq, derived for a plan ------- */
typedef struct {
    uint8_t *bits;         /* per tensor: bits on normal tiles (8 = 8-bit) */
    int32_t *tau;          /* per tensor: VDPC threshold (qmcu_exec_plan.lowbit_tau) */
    uint8_t *keep;         /* per tensor: outlier values kept (qmcu_exec_plan.lowbit_keep) */
    int32_t *outlier_macs; /* per tensor: the readers' MACs per kept outlier value */
    uint8_t *store;        /* version 3: per tensor, bits per stored code (qmcu_exec_plan.lowbit_store); else NULL */
    qmcu_lowbit_op *ops;   /* per patch op: kernel parameters of each format combination */
    int n_ops;
    size_t weight_variant_bytes; /* re-quantized conv weights of the variants (extra flash) */
} qmcu_lowbit_data;
/* Derives, for every patch op, the parameters of each input/output format combination (plan p
 * built with spec.quantmcu). */
qmcu_status qmcu_lowbit_prepare(const qmcu_model *m, const qmcu_plan *p, const qmcu_vdq *vdq, qmcu_lowbit_data **out,
                                qmcu_error *err);
void qmcu_lowbit_data_free(const qmcu_model *m, qmcu_lowbit_data *d);

/* ---- a QuantMCU plan: the plan object (planning/plan.h) with its QuantMCU section -------- */
typedef struct qmcu_quant_section_s {
    const qmcu_model *m;      /* the model the formats were derived for */
    qmcu_vdq *vdq;            /* the calibration and search record; owned */
    qmcu_lowbit_data *lowbit; /* the formats (the plan's runtime tables point into it); owned */
} qmcu_quant_section;
/* Builds the plan of `spec` (its quantmcu flag is set here) with a QuantMCU section: the formats
 * of vdq, which it takes over (freed on failure too). Freed by qmcu_plan_free. Version 3: with
 * sized, buffers and caches sized for vdq's bits (a final plan: its bits may no longer change);
 * else for 8 bits (the search's plan). */
qmcu_status qmcu_quant_plan_make(const qmcu_model *m, const qmcu_plan_spec *spec, qmcu_vdq *vdq, int sized,
                                 qmcu_plan **out, qmcu_error *err);
/* Re-derives the formats of a QuantMCU plan after its record's bits changed. */
qmcu_status qmcu_quant_plan_refresh(const qmcu_model *m, qmcu_plan *p, qmcu_error *err);
/* The record of a QuantMCU plan (NULL: an all-8-bit plan). */
static inline qmcu_vdq *qmcu_plan_vdq(const qmcu_plan *p) { return p->quant ? p->quant->vdq : NULL; }

/* ---- the whole pipeline: calibrate -> search -> formats -> agreement guard ------------- */
/* Defaults of a scheme (version 3 unless QMCU_SCHEME_V1 / _V2). */
void qmcu_quant_options_default(qmcu_quant_options *o, qmcu_quant_scheme scheme);
/* Calibrates on n inputs (model-format bytes) on top of the int8 patch plan `patch`, searches
 * the bit widths, derives the formats and applies the agreement guard. */
qmcu_status qmcu_quantmcu_search(const qmcu_model *m, const qmcu_plan *patch, const uint8_t *const *inputs, int n,
                                 const qmcu_quant_options *o, qmcu_plan **out, qmcu_error *err);

/* The output proxy's view of a run in mem: softmax of the dequantized logits (the input of a final
 * SOFTMAX, else the output), qmcu_logits_count(g) entries. */
int qmcu_logits_count(const qmcu_graph *g);
void qmcu_logit_probabilities(const qmcu_graph *g, const qmcu_exec_plan *e, const uint8_t *mem, double *prob);
/* acc + KL(ref || p) of two probability vectors of n classes (p floored at 1e-300), added term by term. */
double qmcu_kl_accumulate(double acc, const double *ref, const double *p, int n);

/* ---- plan.json "quantmcu" section (quantize/vdq_file.c) ------------------------------ */
/* Writes the section (ctx: the QuantMCU qmcu_plan); use as qmcu_plan_json_section.write. */
void qmcu_vdq_write_json(FILE *f, const void *quant_plan);
/* Reads the section of a plan file's text: thresholds and bits per feature map of a plan with
 * the given split (the rest is recomputed or informative). */
qmcu_status qmcu_vdq_parse(const char *text, const char *path, const qmcu_graph *g, int split, qmcu_vdq **out,
                           qmcu_error *err);

#endif
