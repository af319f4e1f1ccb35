/* QuantMCU data of a plan (DESIGN.md §3): per feature map the outlier thresholds from
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

#include "../common/qmcu_status.h"

#define QMCU_MAX_CANDIDATES 8

typedef struct {
    int in_scope; /* may run low-bit */
    int bits;     /* on normal tiles; 8 = unchanged */
    float lo, hi; /* [lo_i, T_i] */
    double entropy[9]; /* H_i(b) for b = 1..8 (index b), from calibration */
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
    double outlier_tiles;             /* f */
    double calib_outlier_fraction;    /* realized by VDPC on the calibration images */
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

struct qmcu_model_s;
struct qmcu_plan_s;

/* Calibration (VDPC thresholds, DESIGN.md §3): runs n inputs (model-format bytes) through the
 * patch stage of plan p tile by tile, and sets for every feature map in scope T_i (and lo_i)
 * from the per-tile extremes and the entropies H_i(b) from the histogram of its values. */
qmcu_status qmcu_calibrate(const struct qmcu_model_s *m, const struct qmcu_plan_s *p, const uint8_t *const *inputs, int n,
                           double outlier_tiles, qmcu_vdq *vdq, qmcu_error *err);
/* VDQS: the greedy entropy / BitOPs search over vdq->cand with vdq->lambda and
 * vdq->bitops_target; records every step and sets fmap[].bits. Deterministic. */
void qmcu_vdqs_search(const struct qmcu_plan_s *p, qmcu_vdq *vdq);
/* Patch-stage BitOPs of plan p with vdq's bits on every tile (no outlier tiles). */
double qmcu_vdq_static_bitops(const struct qmcu_plan_s *p, const qmcu_vdq *vdq);
/* Undoes the last applied search step (agreement guard); 0 when none is left. */
int qmcu_vdqs_undo_last(qmcu_vdq *vdq);

#endif
