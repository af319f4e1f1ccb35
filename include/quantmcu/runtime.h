/* quantmcu device runtime: what a generated model (and the host) runs. No allocation, no I/O,
 * builds for Cortex-M. A generated module includes this header only.
 *
 * Quantization conventions (read once; every stage follows them):
 *  - real = scale * (q - zero_point). Every 8-bit tensor is stored as int8: a uint8 model's
 *    tensors are shifted at import (stored = u - 128, zero_point = zp_u8 - 128), which leaves
 *    (q - zero_point) unchanged, so one int8 kernel serves both. `from_uint8` marks tensors whose
 *    bytes are converted back at the model's input and output (qmcu_exec_set_input/get_output).
 *  - Weights: per-channel int8 (zero point 0) or per-tensor uint8-derived (filter_offset != 0).
 *  - Kernel offsets follow TFLite/CMSIS-NN: input_offset = -input zero point, output_offset =
 *    +output zero point. Requantization of an int32 accumulator:
 *    out = clamp(MBQM(acc, multiplier[c], shift[c]) + output_offset, act_min, act_max),
 *    shift > 0 = left shift, with TFLite's rounding (quantmcu/kernels.h).
 *  - QuantMCU low-bit feature maps hold unsigned codes 0 .. 2^b - 1 of their own affine format;
 *    4- and 2-bit maps are packed (element 2i / 4i in the low bits), other widths one code per
 *    byte. Every patch-stage buffer is sized for 8-bit codes: a tile may fall back (VDPC).
 *  - Layouts: activations NHWC, conv filters OHWI, depthwise filters 1HWO. */
#ifndef QUANTMCU_RUNTIME_H
#define QUANTMCU_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "quantmcu/graph.h"
#include "quantmcu/kernels.h"
#include "quantmcu/status.h"

/* ---- prepared operators: kernel parameters per op, sized for its kind ---------------- */
typedef struct {
    qmcu_conv_params params;  /* int8: offsets, activation range, strides, dilation, padding */
    qmcu_requant rq;          /* per-output-channel multipliers and shifts */
    const int32_t *bias;      /* conv / FC: folded (qmcu_conv_fold_bias); depthwise: TFLite's */
    qmcu_conv_f32_params f32; /* float models */
} qmcu_prepared_conv;

typedef struct {
    size_t scratch_bytes;       /* layer-by-layer scratch (im2col, accumulators) */
    float act_min_f, act_max_f; /* float models: the fused activation's range */
    union {
        qmcu_prepared_conv conv;        /* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED */
        qmcu_pool_params pool;          /* AVERAGE_POOL_2D, MAX_POOL_2D */
        qmcu_eltwise_params elt;        /* ADD, MUL */
        qmcu_requantize_params requant; /* QUANTIZE int8 -> int8, RELU, RELU6 */
        qmcu_mean_params mean;          /* MEAN */
        qmcu_softmax_params softmax;    /* SOFTMAX: its 256-entry table belongs to this op only */
        const int8_t *lut;              /* LOGISTIC, HARD_SWISH: 256 entries */
        qmcu_lstm_params lstm;          /* UNIDIRECTIONAL_SEQUENCE_LSTM: its effective biases are owned */
        qmcu_leaky_relu_params leaky;   /* LEAKY_RELU */
    } u;
} qmcu_prepared_op;

struct qmcu_op_kernel_s;

/* A model ready to run: the graph, one prepared op per graph op and the kernel of each op type
 * it uses. Read-only while running, so threads can share it. */
typedef struct qmcu_model_s {
    const qmcu_graph *g;
    const qmcu_prepared_op *ops;
    /* per op type (QMCU_OP_COUNT entries): how the runtime runs it; NULL = not linked (a run of
     * such an op fails with QMCU_ERR_UNSUPPORTED). The host uses qmcu_op_kernels_all; a generated
     * module lists only its model's op types, so the linker drops every other kernel. */
    const struct qmcu_op_kernel_s *const *kernels;
} qmcu_model;

/* ---- execution plans ----------------------------------------------------------------- */
/* A rectangle of a tensor in global coordinates: rows [h0, h1) x columns [w0, w1). */
typedef struct {
    int32_t h0, h1, w0, w1;
} qmcu_window;

static inline int qmcu_window_empty(qmcu_window w) { return w.h0 >= w.h1 || w.w0 >= w.w1; }

/* Kernel parameters of one QuantMCU input/output format combination of a patch op. Low-bit
 * formats may be per-channel (version 2): a depthwise reader folds the input channel scales into
 * its multipliers and bias; a conv reader runs a re-quantized copy of its weights (per output
 * channel, the input channel scales folded in); an add has parameters per channel. */
typedef struct {
    qmcu_conv_params conv;            /* conv / depthwise: offsets and activation range of the formats */
    qmcu_requant rq;                  /* its multipliers */
    const int32_t *bias;              /* its bias (folded for conv) */
    const int8_t *weights;            /* conv: re-quantized weights (filter_offset 0); NULL: the op's own */
    qmcu_eltwise_params elt;          /* add (per-tensor formats) */
    const qmcu_eltwise_params *elt_c; /* add with per-channel formats: one per channel; NULL: elt */
    const int8_t *code_max;           /* per output channel: the activation's upper bound in that channel's
                                         code domain (per-channel ReLU6 outputs); NULL: none */
    int8_t pad_value;                 /* pad: the zero point of the format */
    int8_t valid;
} qmcu_lowbit_variant;

/* A per-channel code conversion between a map's 8-bit format and its low-bit format:
 * out = clamp(MBQM(in - in_zp, multiplier[c], shift[c]) + out_zp, lo, hi), then <= code_max[c]. */
typedef struct {
    qmcu_requant rq; /* NULL multiplier: no conversion defined */
    int32_t in_zp, out_zp, lo, hi;
    const int8_t *code_max; /* NULL: none */
} qmcu_code_convert;

/* Variant index: input 0 low-bit | input 1 low-bit << 1 | output low-bit << 2. */
typedef struct {
    qmcu_lowbit_variant v[8];
    int64_t macs_per_pixel; /* conv / depthwise: MACs per output pixel (BitOPs accounting) */
    /* A halo-cached op with a low-bit output map: its caches hold the map's low-bit codes (one per
     * byte, like its tile buffer); a tile that switched to 8 bits (VDPC) converts what it copies in
     * to its 8-bit format and what it saves to the codes, so no tile reads another's scale. */
    qmcu_code_convert to_int8, to_codes;
} qmcu_lowbit_op;

/* Halo strategy of a patch op (DESIGN.md §2, flags). Recompute: every tile computes its whole
 * window, overlap with its neighbours included (MCUNetV2). Cached: tiles run in raster order;
 * with COLS a tile keeps, in the op's column cache, the columns the next tile of the row reads
 * again; with ROWS (only together with COLS) it keeps in the op's line buffer (full tensor width)
 * the rows the next row of tiles reads again. A tile copies those in and computes only the rest,
 * so with both every element of the op is computed once. */
#define QMCU_HALO_RECOMPUTE 0
#define QMCU_HALO_COLS      1
#define QMCU_HALO_ROWS      2
#define QMCU_HALO_CACHED    (QMCU_HALO_COLS | QMCU_HALO_ROWS)

struct qmcu_run_options_s;

/* Everything the runtime needs to run a model: geometry (tiles), placement (offsets into one
 * memory block) and, for QuantMCU, the low-bit formats. Built on the host by the planner (or
 * emitted as const tables by codegen); the runtime only reads it. */
typedef struct qmcu_exec_plan_s {
    const qmcu_graph *g;
    int split;                      /* patch stage = ops [0, split); 0 = layer by layer */
    int grid_h, grid_w;             /* tiles over the split tensor S */
    int n_tiles;                    /* grid_h * grid_w; 0 without a patch stage */
    int split_tensor;               /* S; -1 without a patch stage */
    const qmcu_window *region;      /* [tile * split + op]: the window of op's output a patch tile computes */
    const uint8_t *in_place;        /* per op: depthwise output overwrites its input buffer */
    const size_t *tensor_offset;    /* per tensor: offset of its buffer in the memory block */
    const size_t *scratch_offset;   /* per op */
    const size_t *scratch_bytes;    /* per op */
    size_t memory_bytes;            /* the block: arena, plus the input when it streams */
    int64_t patch_macs;             /* MACs of the patch stage as executed (halo included) */
    const uint8_t *halo;            /* per patch op: QMCU_HALO_* flags; NULL: every op recomputes */
    const size_t *col_cache_offset; /* per patch op with COLS: its column cache in the memory block */
    const size_t *row_cache_offset; /* per patch op with ROWS: its line buffer in the memory block */
    const uint8_t *fused_next;      /* per op: 1 = runs together with the next op, which is then skipped; the
                                     output between them is never stored. A conv whose only reader is an ADD
                                     whose other input has no reader left: the conv's output rows go through a
                                     row buffer at the start of its scratch straight into the ADD, which writes
                                     over that input (in place). A RESIZE_BILINEAR read only by an ARG_MAX over
                                     channels: resized row by row into its scratch, each row reduced to class
                                     indices. NULL: none */
    /* QuantMCU (both NULL for an all-8-bit plan) */
    const uint8_t *lowbit_bits;         /* per tensor: bits of the map on normal tiles (8 = 8-bit) */
    const int32_t *lowbit_tau;          /* per tensor: a tile whose codes fall outside 0 .. 2^b - 1 more than this
                                     many times in one op is an outlier tile (VDPC). 0 = any outlier (version 1) */
    const uint8_t *lowbit_keep;         /* per tensor: 1 = outlier values are kept (VDPC at value level): stored as
                                     extended codes beyond 0 .. 2^b - 1 at the map's own step, one code per
                                     byte; 0 = they saturate. NULL: none kept */
    const int32_t *lowbit_outlier_macs; /* per tensor: MACs the readers spend on one kept outlier value */
    const qmcu_lowbit_op *lowbit;       /* per patch op: parameters of each format combination */
    /* QuantMCU version 3 (NULL / 0 for version 1 and 2 plans): low-bit maps stored packed in
       buffers and caches sized for their bits; an outlier tile runs again as 8-bit sub-tiles */
    const uint8_t *lowbit_store;        /* per tensor: bits per stored code (4 / 2: packed, two / four codes a
                                           byte, every pixel byte-aligned; 8: one code per byte) */
    int fallback_h, fallback_w;         /* an outlier tile's sub-grid over its part of S */
    const qmcu_window *fallback_region; /* [(tile * fallback_h * fallback_w + sub) * split + op]: the window of
                                           op's output a sub-tile computes (every halo recomputed) */
    /* runs a tile of a QuantMCU plan (qmcu_lowbit_run_tile_ops; set together with lowbit, so an
       all-8-bit firmware links no low-bit code) */
    qmcu_status (*run_lowbit_tile)(const qmcu_model *m, const struct qmcu_exec_plan_s *p, uint8_t *mem, int tile,
                                   int n_ops, const struct qmcu_run_options_s *opt);
} qmcu_exec_plan;

/* The window of patch op i's output that tile `tile` computes. */
static inline qmcu_window qmcu_tile_region(const qmcu_exec_plan *p, int tile, int i)
{
    return p->region[(size_t)tile * (size_t)p->split + (size_t)i];
}

/* ---- operators: one file each (or per family) in src/runtime/ops/, registered here ---- */
/* Runs op i on output window r: a part of its region on patch tile `tile` (tile >= 0), or its
 * whole output in the layer stage (tile < 0; r is then the whole tensor). */
typedef qmcu_status (*qmcu_op_run_fn)(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                      qmcu_window r);
typedef struct qmcu_op_kernel_s {
    qmcu_op_run_fn run;
} qmcu_op_kernel;

/* Every op type the runtime runs: X(QMCU_OP_ suffix, kernel name). The kernel of type T is
 * qmcu_kernel_<name>, defined in src/runtime/ops/. Adding an op: one line here, its file there. */
#define QMCU_OP_KERNELS(X)                                                                                             \
    X(CONV_2D, conv_2d)                                                                                                \
    X(DEPTHWISE_CONV_2D, depthwise_conv_2d)                                                                            \
    X(FULLY_CONNECTED, fully_connected)                                                                                \
    X(ADD, add)                                                                                                        \
    X(MUL, mul)                                                                                                        \
    X(AVERAGE_POOL_2D, average_pool_2d)                                                                                \
    X(MAX_POOL_2D, max_pool_2d)                                                                                        \
    X(MEAN, mean)                                                                                                      \
    X(PAD, pad)                                                                                                        \
    X(RESHAPE, reshape)                                                                                                \
    X(SOFTMAX, softmax)                                                                                                \
    X(QUANTIZE, quantize)                                                                                              \
    X(DEQUANTIZE, dequantize)                                                                                          \
    X(TRANSPOSE, transpose)                                                                                            \
    X(CONCATENATION, concatenation)                                                                                    \
    X(LOGISTIC, logistic)                                                                                              \
    X(HARD_SWISH, hard_swish)                                                                                          \
    X(RELU, relu)                                                                                                      \
    X(RELU6, relu6)                                                                                                    \
    X(RESIZE_BILINEAR, resize_bilinear)                                                                                \
    X(ARG_MAX, arg_max)                                                                                                \
    X(SLICE, slice)                                                                                                    \
    X(RESIZE_NEAREST_NEIGHBOR, resize_nearest_neighbor)                                                                \
    X(SUB, sub)                                                                                                        \
    X(CAST, cast)                                                                                                      \
    X(DIV, div)                                                                                                        \
    X(FLOOR_DIV, floor_div)                                                                                            \
    X(SQRT, sqrt)                                                                                                      \
    X(PACK, pack)                                                                                                      \
    X(GATHER_ND, gather_nd)                                                                                            \
    X(UNIDIRECTIONAL_SEQUENCE_LSTM, unidirectional_sequence_lstm)                                                      \
    X(DETECTION_POSTPROCESS, detection_postprocess)                                                                    \
    X(LEAKY_RELU, leaky_relu)

/* Op types that also have an int8-only kernel, qmcu_kernel_<name>_int8 (TFLite Micro's
 * Register_X_INT8): a generated module whose ops of that type are all int8 links no float or
 * dynamic-range code for it. */
#define QMCU_OP_KERNELS_INT8(X)                                                                                        \
    X(CONV_2D, conv_2d)                                                                                                \
    X(DEPTHWISE_CONV_2D, depthwise_conv_2d)                                                                            \
    X(AVERAGE_POOL_2D, average_pool_2d)                                                                                \
    X(MAX_POOL_2D, max_pool_2d)                                                                                        \
    X(FULLY_CONNECTED, fully_connected)                                                                                \
    X(MEAN, mean)                                                                                                      \
    X(SOFTMAX, softmax)

#define QMCU_DECLARE_OP_KERNEL(type, name) extern const qmcu_op_kernel qmcu_kernel_##name;
#define QMCU_DECLARE_OP_KERNEL_INT8(type, name) extern const qmcu_op_kernel qmcu_kernel_##name##_int8;
QMCU_OP_KERNELS(QMCU_DECLARE_OP_KERNEL)
QMCU_OP_KERNELS_INT8(QMCU_DECLARE_OP_KERNEL_INT8)
#undef QMCU_DECLARE_OP_KERNEL
#undef QMCU_DECLARE_OP_KERNEL_INT8

/* Every kernel, indexed by op type (src/runtime/op_table.c): what the host runs. */
extern const qmcu_op_kernel *const qmcu_op_kernels_all[QMCU_OP_COUNT];

/* ---- running ------------------------------------------------------------------------- */
/* What a run executed (accumulated over runs). */
typedef struct {
    int64_t patch_bitops;   /* patch stage: MACs x weight bits (8) x input bits each tile used, plus
                               the readers' MACs on kept outlier values x 8 x 8 */
    int64_t tiles;          /* tiles run */
    int64_t outlier_tiles;  /* tiles VDPC switched to 8 bits */
    int64_t lowbit_values;  /* values produced in a low-bit format on normal tiles */
    int64_t outlier_values; /* of which beyond the format's range (kept, or saturated) */
} qmcu_run_stats;

/* Options of one run (NULL = defaults). */
typedef struct qmcu_run_options_s {
    int no_vdpc;           /* ablation: low-bit maps on every tile, outliers saturate */
    qmcu_run_stats *stats; /* accumulated when non-NULL */
    int16_t *tile_switch;  /* QuantMCU, when non-NULL: per tile, the op at which VDPC switched it to 8 bits,
                              or -1 (n_tiles entries) */
    int *failed_op;        /* when non-NULL and a run fails: the op that failed (-1: not known) */
    int32_t *map_outliers; /* QuantMCU version 3, when non-NULL: per tile and tensor (n_tiles x n_tensors), the
                              codes of a low-bit map that fell outside its range (written for the tiles run) */
} qmcu_run_options;

/* Runs the patch stage tile by tile, then the layer stage, in `mem` (p->memory_bytes). The input
 * must have been set; output bytes are identical for every plan of the same model. */
qmcu_status qmcu_exec_run(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, const qmcu_run_options *opt);
/* The first n_ops patch ops of tile `tile` of a QuantMCU plan, low-bit maps with VDPC (n_ops =
 * p->split: the whole tile; tests inspect feature maps with fewer): what p->run_lowbit_tile is. */
qmcu_status qmcu_lowbit_run_tile_ops(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int n_ops,
                                     const qmcu_run_options *opt);
/* Runs only op i (tile: which patch tile, for patch-stage ops), all 8-bit. */
qmcu_status qmcu_exec_run_op(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i);

/* Model I/O in the model's own byte format (uint8 models: uint8 bytes). */
void qmcu_exec_set_input(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int index, const void *bytes);
void qmcu_exec_get_output(const qmcu_model *m, const qmcu_exec_plan *p, const uint8_t *mem, int index, void *bytes);

/* Profiling hook (firmware built with QMCU_PROFILE sets it): called before (end = 0) and after
 * (end = 1) every op execution, per tile in the patch stage. NULL = off. */
typedef void (*qmcu_op_hook_fn)(int op, int end);
extern qmcu_op_hook_fn qmcu_op_hook;

#endif
