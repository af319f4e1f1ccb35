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
    float lo, hi;         /* [lo_i, T_i] */
    double entropy[9];    /* H_i(b) for b = 1..8 (index b), from calibration */
    double consumer_macs; /* MACs of the convolutions reading it (through PADs), all tiles */
} qmcu_fmap;

typedef struct {
    int tensor, bits, from_bits;
    double score, omega, phi;
    int applied; /* 0 = undone by the agreement guard */
} qmcu_vdqs_step;

typedef struct {
    int n_tensors;
    qmcu_fmap *fmap; /* per tensor */
    /* calibration */
    int calib_images;
    double outlier_tiles;          /* f */
    double calib_outlier_fraction; /* realized by VDPC on the calibration images */
    double calib_seconds;
    /* search */
    double lambda, bitops_target, max_agreement_drop; /* 0 = not set */
    int cand[QMCU_MAX_CANDIDATES], n_cand;            /* descending, cand[0] = 8 */
    qmcu_vdqs_step *steps;
    int n_steps;
    double search_seconds;
    double agreement_pct; /* top-1 agreement with patch mode on the calibration images (-1: not measured) */
} qmcu_vdq;

qmcu_vdq *qmcu_vdq_new(int n_tensors);
void qmcu_vdq_free(qmcu_vdq *v);

/* Low-bit quantization of a feature map at b bits (see above). */
void qmcu_lowbit_quant(float lo, float hi, int bits, float *scale, int32_t *zero_point);

/* Calibration (VDPC thresholds, DESIGN.md §3): runs n inputs (model-format bytes) through the
 * patch stage of plan p tile by tile, and sets for every feature map in scope T_i (and lo_i)
 * from the per-tile extremes and the entropies H_i(b) from the histogram of its values. */
qmcu_status qmcu_calibrate(const qmcu_model *m, const qmcu_plan *p, const uint8_t *const *inputs, int n,
                           double outlier_tiles, qmcu_vdq *vdq, qmcu_error *err);
/* VDQS: the greedy entropy / BitOPs search over vdq->cand with vdq->lambda and
 * vdq->bitops_target; records every step and sets fmap[].bits. Deterministic. */
void qmcu_vdqs_search(const qmcu_plan *p, qmcu_vdq *vdq);
/* Patch-stage BitOPs of plan p with vdq's bits on every tile (no outlier tiles). */
double qmcu_vdq_static_bitops(const qmcu_plan *p, const qmcu_vdq *vdq);
/* Undoes the last applied search step (agreement guard); 0 when none is left. */
int qmcu_vdqs_undo_last(qmcu_vdq *vdq);

/* ---- low-bit execution data: what the runtime needs of a vdq, derived for a plan ------- */
typedef struct {
    uint8_t *bits;       /* per tensor: bits on normal tiles (8 = 8-bit) */
    qmcu_lowbit_op *ops; /* per patch op: kernel parameters of each format combination */
    int n_ops;
} qmcu_lowbit_data;
/* Derives, for every patch op, the parameters of each input/output format combination (plan p
 * built with spec.quantmcu). */
qmcu_status qmcu_lowbit_prepare(const qmcu_model *m, const qmcu_plan *p, const qmcu_vdq *vdq, qmcu_lowbit_data **out,
                                qmcu_error *err);
void qmcu_lowbit_data_free(const qmcu_model *m, qmcu_lowbit_data *d);

/* ---- a QuantMCU plan: geometry and placement, search record, formats, runtime view ----- */
typedef struct {
    qmcu_plan *plan;          /* built with spec.quantmcu (low-bit staging in its memory); owned */
    qmcu_vdq *vdq;            /* owned */
    qmcu_lowbit_data *lowbit; /* owned */
    qmcu_exec_plan exec;      /* plan->exec with the low-bit formats: what the runtime runs */
} qmcu_quant_plan;
/* Builds the plan of `spec` (its quantmcu flag is set here) and derives the formats of vdq,
 * which it takes over (freed on failure too). */
qmcu_status qmcu_quant_plan_make(const qmcu_model *m, const qmcu_plan_spec *spec, qmcu_vdq *vdq, qmcu_quant_plan **out,
                                 qmcu_error *err);
/* Re-derives the formats after vdq's bits changed. */
qmcu_status qmcu_quant_plan_refresh(const qmcu_model *m, qmcu_quant_plan *q, qmcu_error *err);
void qmcu_quant_plan_free(const qmcu_model *m, qmcu_quant_plan *q);

/* ---- the whole pipeline: calibrate -> search -> formats -> agreement guard ------------- */
typedef struct {
    double lambda;                         /* VDQS trade-off, default 0.5 */
    double outlier_tiles;                  /* f, default 0.2 */
    double bitops_target;                  /* stop when the static ratio reaches it (0: off) */
    double max_agreement_drop;             /* undo steps until top-1 agreement >= 100 - this (0: off) */
    int cand[QMCU_MAX_CANDIDATES], n_cand; /* descending, cand[0] = 8; default {8, 4, 2} */
} qmcu_quant_options;
void qmcu_quant_options_default(qmcu_quant_options *o);
/* Calibrates on n inputs (model-format bytes) on top of the int8 patch plan `patch`, searches
 * the bit widths, derives the formats and applies the agreement guard. */
qmcu_status qmcu_quantmcu_search(const qmcu_model *m, const qmcu_plan *patch, const uint8_t *const *inputs, int n,
                                 const qmcu_quant_options *o, qmcu_quant_plan **out, qmcu_error *err);

/* ---- plan.json "quantmcu" section (quantize/vdq_file.c) ------------------------------ */
/* Writes the section (ctx: the qmcu_quant_plan); use as qmcu_plan_json_section.write. */
void qmcu_vdq_write_json(FILE *f, const void *quant_plan);
/* Reads the section of a plan file's text: thresholds and bits per feature map of a plan with
 * the given split (the rest is recomputed or informative). */
qmcu_status qmcu_vdq_parse(const char *text, const char *path, const qmcu_graph *g, int split, qmcu_vdq **out,
                           qmcu_error *err);

#endif
