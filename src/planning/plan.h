/* Execution plans: layer-by-layer or patch-based (MCUNetV2), with their geometry and their
 * memory placement. One structure serves every mode, so the numbers the host reports are
 * the numbers the MCU arena is sized with.
 *
 * Geometry (DESIGN.md §2). The patch stage is ops [0, split); its last op produces the split
 * tensor S, cut into a grid_h x grid_w grid of tiles (ceil-sized, the last row/column of
 * tiles may be smaller). Walking back from S, each tile gets, for every patch-stage tensor,
 * the region it must hold: the hull of what its consumers need, clipped to the tensor. A
 * consumer window that reaches outside the tensor reads virtual padding (the zero point),
 * never stored. Regions are global coordinates [h0, h1) x [w0, w1).
 *
 * Memory. Buffers are placed by lifetime intervals (first fit, largest first), one step per
 * op. Patch-stage tensors get tile-sized buffers (largest tile), reused by every tile; the
 * model input and S are full-size and live during the whole patch stage. A depthwise op whose
 * input dies there writes over its input (in place) when that saves memory. */
#ifndef QMCU_PLAN_H
#define QMCU_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../common/qmcu_status.h"
#include "../graph/graph.h"
#include "../kernels/qmcu_kernels.h"
#include "memory_planner.h"
#include "quantmcu.h"

struct qmcu_model_s;

typedef struct {
    int32_t h0, h1, w0, w1;
} qmcu_window;

static inline int qmcu_window_empty(qmcu_window w) { return w.h0 >= w.h1 || w.w0 >= w.w1; }

typedef struct {
    int split;          /* patch stage = ops [0, split); 0 = layer by layer */
    int grid_h, grid_w; /* tiles over S */
    int input_in_sram;  /* count the model input in SRAM (else it streams from outside the arena) */
    int quantmcu;       /* QuantMCU execution: low-bit feature maps with VDPC (see quantmcu.h) */
} qmcu_plan_spec;

typedef struct qmcu_plan_s {
    qmcu_plan_spec spec;
    const qmcu_graph *g;
    int split_tensor; /* S, -1 without a patch stage */
    int n_tiles;
    qmcu_window *region; /* [tile * n_tensors + tensor]; empty where a tile holds none of it */

    /* compute */
    int64_t macs;             /* whole model as executed (patch stage with its halo) */
    int64_t patch_macs;       /* executed by the patch stage */
    int64_t patch_layer_macs; /* the same ops layer by layer; redundant = patch_macs - this */
    int32_t input_patch_h, input_patch_w; /* largest input region of a tile */

    /* memory: real placements */
    unsigned char *in_place; /* per op: depthwise output overwrites its input buffer */
    size_t *tensor_bytes;    /* per tensor: buffer size (tile-sized in the patch stage) */
    size_t *tensor_offset;   /* per tensor: offset in the host memory block */
    size_t *scratch_bytes;   /* per op */
    size_t *scratch_offset;  /* per op */
    size_t *step_live_bytes; /* per op: activation buffers live while it runs (excl. scratch) */
    size_t arena_bytes;      /* placed arena = peak SRAM of the plan (input included if in SRAM) */
    size_t live_peak_bytes;  /* largest sum of simultaneously live bytes (the placement meets or exceeds it) */
    int live_peak_op;
    size_t input_bytes;      /* model input(s) */
    size_t host_bytes;       /* arena + input when the input is outside the arena */
    qmcu_buffer_life *buffers; /* the placement: one per tensor (aliases have size 0), then one per op scratch */
    int n_buffers;

    /* QuantMCU (spec.quantmcu): thresholds and bit widths, and the kernel parameters of every
     * input/output format combination of each patch op (runtime/lowbit_exec.c) */
    qmcu_vdq *vdq;
    struct qmcu_lowbit_op_s *lowbit;
    int no_vdpc; /* ablation: every tile low-bit, outliers saturate */
} qmcu_plan;

/* Is ops [0, split) a legal patch stage? 1 = yes; else 0 and the reason in why. */
int qmcu_split_is_legal(const qmcu_graph *g, int split, char *why, size_t why_len);

/* Input window (global, unclipped) that op's data input `k` needs for output window `out`. */
qmcu_window qmcu_op_input_window(const qmcu_graph *g, const qmcu_op *op, qmcu_window out);

/* Tile (r, c) of an h x w tensor cut into a grid_h x grid_w grid (ceil-sized tiles). */
qmcu_window qmcu_grid_tile(int32_t h, int32_t w, int grid_h, int grid_w, int r, int c);

/* Builds geometry and memory for a prepared model. Errors name the model and the problem. */
qmcu_status qmcu_plan_build(const struct qmcu_model_s *m, const qmcu_plan_spec *spec, qmcu_plan **out,
                            qmcu_error *err);
void qmcu_plan_free(qmcu_plan *p);

/* Kernel-call geometry of op i on tile `tile` (ignored for layer-stage ops) for output rows
 * [y0, y1) of its window (-1, -1: the whole window): conv/pool parameters with padding
 * relative to the input buffer, buffer dims, and the byte offset that skips input rows no
 * output row reads (so unpadded 1x1 convolutions keep their direct path). cp/pp may be NULL.
 * The memory planner and the executor both use it, so scratch sizes match the calls. */
void qmcu_plan_op_call(const qmcu_plan *p, const struct qmcu_model_s *m, int tile, int i, int32_t y0, int32_t y1,
                       qmcu_conv_params *cp, qmcu_pool_params *pp, qmcu_dims *in, qmcu_dims *out, size_t *in_skip);

/* The same for an explicit input buffer region b and output window o (global coordinates). */
void qmcu_op_call_geometry(const struct qmcu_model_s *m, int i, qmcu_window b, qmcu_window o, qmcu_conv_params *cp,
                           qmcu_pool_params *pp, qmcu_dims *in, qmcu_dims *out, size_t *in_skip);
/* Region held by the buffer of tensor t as op i of tile `tile` sees it (tile < 0: layer stage). */
qmcu_window qmcu_plan_buffer_region(const qmcu_plan *p, int tile, int i, int t);
/* qmcu_plan_op_call for the whole window over the whole input buffer (no row skip): in-place
 * depthwise walks its buffer itself. */
void qmcu_plan_op_call_whole(const qmcu_plan *p, const struct qmcu_model_s *m, int tile, int i, qmcu_conv_params *cp,
                             qmcu_dims *in, qmcu_dims *out);
/* The tensor whose codes t holds: t itself, or, through patch-stage PADs (which copy codes),
 * the PAD chain's input. */
int qmcu_pad_source(const qmcu_graph *g, int split, int t);
/* QuantMCU staging of patch add / pad op i on one tile: bytes of the unpacked input row span
 * one output row reads (both inputs for ADD). The output row follows it. (Conv and depthwise
 * need none: they expand packed inputs inside their own buffers.) */
size_t qmcu_lowbit_stage_in_bytes(const qmcu_plan *p, int tile, int i);

/* Plan search (DESIGN.md §2): every legal split x grid 1x1..8x8 and "no patching"; the fewest
 * executed MACs whose arena fits `sram_budget`, else the smallest arena. */
typedef struct {
    int candidates;      /* plans evaluated */
    int fits;            /* the chosen plan fits the budget */
    double seconds;      /* search time */
} qmcu_search_stats;
qmcu_status qmcu_plan_search(const struct qmcu_model_s *m, size_t sram_budget, int input_in_sram, qmcu_plan **out,
                             qmcu_search_stats *stats, qmcu_error *err);

#endif
