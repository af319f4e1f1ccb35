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
 * input dies there writes over its input (in place) when that saves memory.
 *
 * Halo (DESIGN.md §2): per patch op, recompute or cache (QMCU_HALO_*): a cached op's column
 * cache and line buffer are arena buffers live during the whole patch stage; its executed MACs
 * count only what each tile computes itself. A conv whose output only feeds the ADD after it is
 * fused with it, the ADD writing over its other input when that input has no reader left (the
 * conv's output then needs only a row buffer). */
#ifndef QMCU_PLAN_H
#define QMCU_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/tile_geometry.h"
#include "memory_planner.h"
#include "quantmcu/runtime.h"

typedef struct {
    int split;               /* patch stage = ops [0, split); 0 = layer by layer */
    int grid_h, grid_w;      /* tiles over S */
    int input_in_sram;       /* count the model input in SRAM (else it streams from outside the arena) */
    int quantmcu;            /* room for QuantMCU execution (low-bit staging, no in-place patch depthwise) */
    int packed;              /* QuantMCU version 3 (with quantmcu): low-bit maps stored packed, buffers and caches
                                sized for tensor_bits, 8-bit fallback sub-tiles for outlier tiles */
    const uint8_t *tensor_bits; /* version 3: per tensor, its bits on normal tiles (the plan keeps a copy);
                                   NULL: not known yet (buffers sized for 8 bits, rows staged as if packed) */
    int fallback_grid;          /* version 3: 1 + index of the outlier tiles' sub-grid (plan.c); -1: none (outlier
                                   tiles keep their low bits, outliers saturate); 0: among the sub-grids whose plan
                                   meets sram_budget and patch_budget, the smallest arena, then the smallest
                                   patch-stage peak, then the fewest sub-tiles; none if no sub-grid does */
    size_t patch_budget;        /* version 3: the patch stage's own peak to meet (0: none) */
    int halo;                /* halo strategy of every patch op that can cache (QMCU_HALO_*; ROWS implies COLS) */
    const uint8_t *halo_ops; /* per op: the strategy instead of `halo` (a plan file's choice); NULL: `halo` */
    int no_fused_add;        /* 1: never fuse a conv with the ADD after it (DESIGN.md §2: fused by default) */
    size_t sram_budget;      /* the budget it was planned for (plan.json, report); 0: none recorded */
} qmcu_plan_spec;

struct qmcu_quant_section_s; /* src/quantize: a QuantMCU plan's calibration and search record, its formats */

/* The runtime tables of a QuantMCU plan (qmcu_exec_plan's low-bit fields; all NULL: all 8-bit). */
typedef struct {
    const uint8_t *bits;
    const int32_t *tau;
    const uint8_t *keep;
    const int32_t *outlier_macs;
    const qmcu_lowbit_op *ops;
    const uint8_t *store; /* version 3: bits per stored code (qmcu_exec_plan.lowbit_store) */
    double outlier_tile_fraction; /* realized on the calibration images (the cost model's expected fallbacks) */
} qmcu_plan_lowbit;

/* The one plan object: geometry, halo, memory, budget and, for QuantMCU, its section. */
typedef struct qmcu_plan_s {
    qmcu_plan_spec spec;
    qmcu_exec_plan exec; /* what the runtime runs: a view of the arrays below and of `lowbit` (qmcu_plan_exec_view) */
    const qmcu_graph *g;
    int split_tensor; /* S, -1 without a patch stage */
    int n_tiles;
    qmcu_window *region;    /* [tile * n_tensors + tensor]; empty where a tile holds none of it */
    qmcu_window *op_region; /* [tile * split + op]: region of op's output (the runtime's compact copy) */

    /* compute */
    int64_t macs;                         /* whole model as executed (patch stage with its halo) */
    int64_t patch_macs;                   /* executed by the patch stage */
    int64_t patch_layer_macs;             /* the same ops layer by layer; redundant = patch_macs - this */
    int64_t *op_macs;                     /* per op: MACs as executed (all tiles; cached halos not recomputed) */
    double predicted;                     /* emulated Cortex-M4 instructions from the cost model (set by the search,
                                             qmcu_plan_search / _choose_halo; 0 otherwise) */
    int32_t input_patch_h, input_patch_w; /* largest input region of a tile */

    /* halo caching and fused adds */
    unsigned char *halo;       /* per op: QMCU_HALO_* flags in effect (patch ops that can cache) */
    unsigned char *fused_next; /* per op: runs with the next op (conv + ADD in place; RESIZE_BILINEAR + ARG_MAX) */
    size_t *col_cache_bytes;   /* per op: its column cache (0: none) */
    size_t *row_cache_bytes;   /* per op: its line buffer (0: none) */
    size_t *col_cache_offset;  /* per op */
    size_t *row_cache_offset;  /* per op */
    size_t cache_bytes;        /* all caches (live during the whole patch stage) */

    /* QuantMCU version 3 (spec.packed): the outlier tiles' 8-bit sub-tiles */
    uint8_t *tensor_bits;            /* the spec's copy */
    int fallback_h, fallback_w;      /* sub-grid over a tile's part of S */
    qmcu_window *fallback_region;    /* [(tile * subs + sub) * split + op] (qmcu_exec_plan.fallback_region) */
    size_t fallback_excess_bytes;    /* what the 8-bit sub-tiles add to the buffers sized for the bits */

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
    size_t input_bytes;        /* model input(s) */
    size_t host_bytes;         /* arena + input when the input is outside the arena */
    qmcu_buffer_life *buffers; /* the placement: one per tensor (aliases have size 0), one per op scratch, then
                                  per op its column cache and its line buffer */
    int n_buffers;

    /* QuantMCU (quant NULL: an all-8-bit plan); set by src/quantize */
    struct qmcu_quant_section_s *quant; /* owned, freed through quant_free */
    void (*quant_free)(struct qmcu_quant_section_s *q);
    qmcu_plan_lowbit lowbit; /* the section's runtime tables */
} qmcu_plan;

/* What op i executes under the plan, all tiles: output pixels computed (cached halos not
 * recomputed), output rows computed (a window narrower than its buffer runs row by row) and the
 * times it runs (tiles that compute something, or 1 in the layer stage). */
typedef struct {
    int64_t macs, pixels, rows, calls;
} qmcu_op_work;
void qmcu_plan_op_work(const qmcu_plan *p, int i, qmcu_op_work *w);

/* Version 3: may tensor t be stored in a low-bit format? An int8 NHWC map produced in the patch
 * stage other than S (the planner sizes, the cost model counts and the QuantMCU tables store only
 * these). */
int qmcu_plan_lowbit_map(const qmcu_plan *p, int t);
/* The patch stage's own peak: live + scratch, largest over ops 0..split-1 (*at: that op; may be
 * NULL). */
size_t qmcu_plan_patch_peak(const qmcu_plan *p, int *at);

/* (Re)builds p->exec from the plan's arrays and its low-bit tables: the only place it is built. */
void qmcu_plan_exec_view(qmcu_plan *p);

/* Is ops [0, split) a legal patch stage? 1 = yes; else 0 and the reason in why. */
int qmcu_split_is_legal(const qmcu_graph *g, int split, char *why, size_t why_len);
/* 0 (message in err) when QuantMCU cannot run the patch stage ops [0, split). */
int qmcu_split_is_lowbit_capable(const qmcu_graph *g, int split, qmcu_error *err);

/* Builds geometry and memory for a prepared model. Errors name the model and the problem. */
qmcu_status qmcu_plan_build(const qmcu_model *m, const qmcu_plan_spec *spec, qmcu_plan **out, qmcu_error *err);
void qmcu_plan_free(qmcu_plan *p);

/* Plan search (DESIGN.md §2): every legal split x grid 1x1..8x8 x halo strategy (recompute, columns
 * cached, all cached; or the one given) and "no patching"; the fewest predicted device
 * instructions (cost_model.h: version 3's latency estimate) whose arena fits `sram_budget`, else
 * the smallest arena. */
typedef struct {
    int candidates; /* plans evaluated */
    int fits;       /* the chosen plan fits the budget */
    double seconds; /* search time */
} qmcu_search_stats;
#define QMCU_HALO_AUTO (-1) /* search: the halo strategy is chosen too */
/* A plan whose memory (arena + streamed inputs) exceeds this is refused: no MCU has it, and the
 * host would fail to allocate it or swap. */
#define QMCU_MAX_HOST_MEMORY_BYTES ((size_t)2000 * 1000 * 1000)
qmcu_status qmcu_plan_search(const qmcu_model *m, size_t sram_budget, int input_in_sram, int halo, qmcu_plan **out,
                             qmcu_search_stats *stats, qmcu_error *err);
/* QuantMCU version 3, the geometry half of its search: every legal split x grid 1x1..8x8 x halo
 * strategy (recompute, columns, cached) whose plan with every patch-stage map at 4 bits packed
 * (and no outlier sub-tiles: a lower bound of what the bits can reach) fits `sram_budget`; the
 * fewest predicted instructions (then the smaller arena). *out: that geometry all 8-bit (to
 * calibrate on), NULL when none fits; *predicted: the 4-bit plan's prediction. */
qmcu_status qmcu_plan_search_lowbit(const qmcu_model *m, size_t sram_budget, int input_in_sram, qmcu_plan **out,
                                    double *predicted, qmcu_error *err);
/* One geometry (spec: split, grid, input), its halo strategy chosen like the search does
 * (spec->halo and halo_ops are ignored). */
qmcu_status qmcu_plan_choose_halo(const qmcu_model *m, const qmcu_plan_spec *spec, size_t sram_budget, qmcu_plan **out,
                                  qmcu_error *err);

#endif
