/* quantmcu host API: everything the `quantmcu` command does, as library calls.
 *
 *   quantmcu_model *m;  quantmcu_plan *p, *q;  qmcu_error err;
 *   quantmcu_load("model.tflite", &m, &err);
 *   quantmcu_plan_options po;  quantmcu_plan_options_default(&po);  po.sram_budget = 256 * 1024;
 *   quantmcu_plan_make(m, &po, &p, NULL, &err);              // searched split x grid (MCUNetV2)
 *   quantmcu_quant_options qo;  quantmcu_quant_options_default(&qo);  qo.calib_dir = "images/";
 *   quantmcu_quantize(m, p, &qo, &q, &err);                   // QuantMCU: VDPC + VDQS
 *   uint8_t *mem = malloc(quantmcu_plan_memory_bytes(q));    // caller-provided memory
 *   quantmcu_run_image(m, q, mem, "cat.jpg", input, output, NULL, &err);
 *
 * Every call returns a status (qmcu_status) and, on failure, one line naming the file and the
 * problem in err; nothing here exits or prints. Models and plans are read-only once made, so
 * threads may share them (each with its own memory block). The conventions of the numbers and
 * the device-side types are in quantmcu/runtime.h. */
#ifndef QUANTMCU_QUANTMCU_H
#define QUANTMCU_QUANTMCU_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "quantmcu/runtime.h"

#define QUANTMCU_VERSION "0.9.0"
const char *quantmcu_version(void);

/* ---- models ---------------------------------------------------------------------------- */
typedef struct quantmcu_model quantmcu_model;
/* Imports a .tflite file (validated) and prepares its kernel parameters. */
qmcu_status quantmcu_load(const char *path, quantmcu_model **out, qmcu_error *err);
void quantmcu_free(quantmcu_model *m);
const qmcu_graph *quantmcu_graph(const quantmcu_model *m);
const qmcu_model *quantmcu_runtime_model(const quantmcu_model *m);
size_t quantmcu_input_bytes(const quantmcu_model *m);  /* input tensor 0, model byte format */
size_t quantmcu_output_bytes(const quantmcu_model *m); /* output tensor 0 */
size_t quantmcu_outputs_bytes(const quantmcu_model *m); /* every output tensor, one after the other */
int quantmcu_output_count(const quantmcu_model *m);    /* elements of output 0 */
/* How image pixels become the input (qmcu_input_norm): "LO,HI" maps pixels 0..255 linearly onto
 * [LO, HI] (e.g. "0,1", "-1,1", "0,255"), replacing the model's metadata or full-range rule;
 * NULL or "auto" restores the model's own rule. */
qmcu_status quantmcu_set_input_range(quantmcu_model *m, const char *range, qmcu_error *err);
/* Parses "LO,HI" (LO < HI, finite): QMCU_OK or QMCU_ERR_ARG with the reason. */
qmcu_status quantmcu_parse_input_range(const char *range, double *lo, double *hi, qmcu_error *err);
/* The rule in effect, as one line of text. */
void quantmcu_input_rule(const quantmcu_model *m, char *buf, size_t cap);

/* Every input and output (index k), as bytes in the model's format (uint8 as uint8; int8, int32,
 * int64, float32 little-endian). */
int quantmcu_num_inputs(const quantmcu_model *m);
int quantmcu_num_outputs(const quantmcu_model *m);
size_t quantmcu_tensor_bytes(const quantmcu_model *m, int is_output, int k);
/* "1x49x10x1 int8" */
void quantmcu_tensor_describe(const quantmcu_model *m, int is_output, int k, char *buf, size_t cap);
/* Input k from a file: raw bytes (exactly the tensor's size) or a NumPy .npy (C order, the tensor's
 * dtype, the same number of elements). */
qmcu_status quantmcu_load_input(const quantmcu_model *m, int k, const char *path, void *dst, qmcu_error *err);
/* Output k to a file (written whole or not at all): .npy when the name ends in .npy, else raw bytes. */
qmcu_status quantmcu_save_output(const quantmcu_model *m, int k, const void *src, const char *path, qmcu_error *err);

/* ---- plans ----------------------------------------------------------------------------- */
typedef struct quantmcu_plan quantmcu_plan;
typedef struct {
    int split;          /* -1: search (fewest predicted instructions within sram_budget); 0: layer by layer; K: ops 0..K-1 */
    int grid_h, grid_w; /* with split > 0 */
    size_t sram_budget; /* for the search; default 320 kB (f746) */
    int input_in_sram;  /* count the input image in the peak (default 1) */
    int halo;           /* QMCU_HALO_RECOMPUTE / _COLS / _CACHED for every patch op that can, or
                           QUANTMCU_HALO_AUTO (default): the fewest predicted instructions within sram_budget */
    int fuse_add;       /* fuse a conv with the ADD after it, in place over the skip (default 1) */
} quantmcu_plan_options;
#define QUANTMCU_HALO_AUTO (-1)
void quantmcu_plan_options_default(quantmcu_plan_options *o);

typedef struct {
    int candidates; /* plans evaluated */
    int fits;       /* the chosen plan fits the budget */
    double seconds;
} quantmcu_search_info;
/* A layer-by-layer, fixed patch or searched plan (8-bit); info may be NULL. */
qmcu_status quantmcu_plan_make(const quantmcu_model *m, const quantmcu_plan_options *o, quantmcu_plan **out,
                               quantmcu_search_info *info, qmcu_error *err);

typedef enum {
    QUANTMCU_MODE_LAYER,    /* layer by layer; a plan file is only checked */
    QUANTMCU_MODE_PATCH,    /* the file's geometry, all 8-bit */
    QUANTMCU_MODE_QUANTMCU, /* the file's geometry and its QuantMCU section (required) */
    QUANTMCU_MODE_AS_FILE   /* QuantMCU when the file has the section, else patch */
} quantmcu_mode;
/* Reads plan.json (rejects other models' plans and malformed files). */
qmcu_status quantmcu_plan_read(const quantmcu_model *m, const char *path, quantmcu_mode mode, quantmcu_plan **out,
                               qmcu_error *err);
/* plan.json to a stream / file, with the SRAM budget the plan was made for (plan options; a
 * plan read back keeps its file's). */
void quantmcu_plan_write(const quantmcu_plan *p, FILE *f);
qmcu_status quantmcu_plan_save(const quantmcu_plan *p, const char *path, qmcu_error *err);
void quantmcu_plan_free(quantmcu_plan *p);

/* What a plan costs (the numbers `plan` and `info` print). */
typedef struct {
    const char *mode; /* "layer", "patch" or "quantmcu" */
    int split, grid_h, grid_w, n_tiles, split_tensor;
    int input_patch_h, input_patch_w;
    int input_in_sram;
    size_t arena_bytes;     /* peak SRAM: the placed arena */
    size_t live_peak_bytes; /* largest simultaneously live sum (lower bound) */
    int live_peak_op;
    size_t input_bytes, memory_bytes;
    int64_t macs, patch_macs, patch_layer_macs; /* redundant = patch_macs - patch_layer_macs */
    double patch_bitops, patch_bitops_int8;     /* QuantMCU: all tiles at their planned bits */
    int halo_ops[4];    /* patch ops by halo strategy: [0] recompute, [1] cache columns, [3] cache columns and rows */
    size_t cache_bytes; /* every halo cache (live during the whole patch stage) */
    int fused_adds;     /* convs fused with the ADD after them */
    int fallback_h, fallback_w;  /* QuantMCU v3: an outlier tile runs again as this grid of 8-bit sub-tiles (0: none) */
    size_t fallback_excess_bytes; /* what those sub-tiles add to the buffers sized for the bits */
    size_t sram_budget; /* the SRAM budget it was planned for (plan.json's sram_budget_bytes); 0: none */
    double predicted_instructions; /* emulated Cortex-M4 instructions per inference, from the cost model */
} quantmcu_plan_info;
void quantmcu_plan_get_info(const quantmcu_plan *p, quantmcu_plan_info *out);
/* "layer", "patch" or "quantmcu" (quantmcu_plan_info.mode). */
const char *quantmcu_plan_mode(const quantmcu_plan *p);
/* The runtime's view of a plan, and bytes of the memory block a run needs. */
const qmcu_exec_plan *quantmcu_plan_exec(const quantmcu_plan *p);
size_t quantmcu_plan_memory_bytes(const quantmcu_plan *p);
/* One op of a plan (the rows `info`, `plan` and `mcu --profile` print). */
typedef struct {
    int patch;                /* 1: in the patch stage (ops 0 .. split-1) */
    int64_t macs;             /* as executed: every tile, halo recomputation included, cached halos not */
    size_t live_bytes;        /* activation buffers live while it runs (scratch not included) */
    size_t scratch_bytes;     /* its scratch */
    int in_place;             /* depthwise writing over its input */
    int fused_next;           /* runs together with the next op (conv + ADD, RESIZE_BILINEAR + ARG_MAX) */
    int halo;                 /* patch op: QMCU_HALO_* in effect (0: recomputed) */
    size_t col_cache_bytes;   /* its column cache (0: none) */
    size_t row_cache_bytes;   /* its line buffer (0: none) */
    const char *cost_kind;    /* its kind in the cost model: pointwise, conv, depthwise, dw_large, fc, add, pad,
                                 pad_layer, quantize, other; fused: it runs inside the op before it */
    int64_t out_elems;        /* output elements computed, all tiles (cached halos not recomputed) */
    int64_t in_elems;         /* input elements read per output pixel, summed (output pixels x input channels) */
    int64_t out_rows;         /* output rows computed, all tiles */
    int64_t calls;            /* times it runs: tiles that compute something, or 1 (layer stage) */
    double predicted_instructions; /* the cost model's emulated Cortex-M4 instructions (0: runs inside op-1) */
} quantmcu_plan_op;
/* Op `op` (0 .. n_ops-1) of a plan; QMCU_ERR_ARG for an op the model does not have. */
qmcu_status quantmcu_plan_get_op(const quantmcu_plan *p, int op, quantmcu_plan_op *out);

/* A QuantMCU plan's calibration and search record (`plan` prints it). */
typedef struct {
    int scheme;           /* 3, 2 or 1 (--quant-scheme) */
    int proxy;            /* 0: output (measured KL), 1: entropy */
    int calib_images;     /* calibration samples */
    double calib_seconds; /* calibration time */
    double outlier_tiles; /* f, the outlier-tile target */
    double lambda;        /* VDQS weight of the accuracy proxy */
    int n_steps;          /* VDQS steps taken */
    int steps_applied;    /* of which kept (the rest undone by --max-agreement-drop) */
    double search_seconds;
    double agreement_pct;                /* top-1 agreement with patch mode on the calibration images (-1: not measured) */
    double calib_outlier_tile_fraction;  /* realized by VDPC on the calibration images */
    double calib_outlier_value_fraction; /* values beyond their format's range on normal tiles (v2) */
    size_t weight_variant_bytes;         /* re-quantized conv weights of the low-bit readers (extra flash) */
    int n_maps;                          /* feature maps in scope (quantmcu_quant_get_map) */
    int maps_for_memory;                 /* v3: maps set to 4 bits after the search to meet the SRAM budget(s) */
    /* v3 with choose_geometry: why this geometry (0 when not searched) */
    int geometry_searched;               /* 1: split x grid x halo searched with the bits */
    int geometry_from_bits;              /* 1: a geometry only the bits fit, or one they make faster; 0: the int8 plan's */
    double int8_predicted;               /* the best int8 plan's predicted instructions (0: none fits the budget) */
    double bits_predicted;               /* the best geometry with every patch map at 4 bits (0: none fits) */
    int geometry_guard_failed;           /* the bits' geometry missed the accuracy guard (the int8 plan's used) */
    int failed_split, failed_grid_h, failed_grid_w; /* that geometry */
    double failed_kl;                    /* the mean KL (calibration images) its plan reached */
    double calib_kl;                     /* v3: mean KL at the logits vs int8 on the calibration images */
    int guard_met;                       /* v3: calib_kl <= max_kl (the accuracy guard; 1 when off) */
    double max_kl;                       /* v3: the guard */
} quantmcu_quant_info;
/* One feature map in scope of a QuantMCU plan. */
typedef struct {
    int tensor;        /* its tensor */
    int producer;      /* the op writing it */
    int bits;          /* on normal tiles */
    int is_signed;     /* v2: its format has negative values */
    int32_t tau;       /* VDPC threshold at its bits */
    double damage[9];  /* output proxy: KL at the logits with this map alone at b bits (index b; -1: not measured) */
    double lo, hi;     /* v1: its range [lo, T] */
    double entropy[9]; /* v1: entropy at b bits (index b) */
} quantmcu_quant_map;
/* QMCU_ERR_ARG when p is not a QuantMCU plan (or k is not a map in scope, 0 .. n_maps-1). */
qmcu_status quantmcu_quant_get_info(const quantmcu_plan *p, quantmcu_quant_info *out);
qmcu_status quantmcu_quant_get_map(const quantmcu_plan *p, int k, quantmcu_quant_map *out);

/* ---- QuantMCU: VDPC thresholds and VDQS bit widths on top of a patch plan --------------- */
typedef struct {
    int scheme;                /* 3 (default): version 2 stored packed in buffers sized for the bits; 2: per-channel
                                  formats, MSE clipping, measured proxy (a code per byte); 1: the paper's */
    int proxy;                 /* 0: output (measured KL at the logits; v2 default), 1: entropy (v1 default) */
    int threads;               /* for the output proxy, default 2 */
    int outlier_values;        /* v2/v3: keep outlier values as extended codes (default 1; v3: maps stored a code
                                  per byte only, packed maps saturate them); 0: they saturate */
    int per_channel, clipping; /* v2: per-channel scales, MSE clipping (default 1; 0 for ablations) */
    const char *calib_dir;     /* calibration images (JPEG/PNG/BMP), the first calib_count in name order */
    int calib_count;           /* default 32 */
    double lambda;             /* default 0.5 */
    double outlier_tiles;      /* f: fraction of tiles that fall back to 8 bits, default 0.05 (v1: 0.2) */
    double bitops_target;      /* 0: off */
    double max_agreement_drop; /* 0: off */
    double max_kl;             /* v3 accuracy guard: search steps are undone while the mean KL at the logits vs the
                                  int8 plan on the calibration images exceeds it (default 0.03; 0: off) */
    int choose_geometry;       /* v3: search split x grid x halo with the bits (the patch plan then gives only the
                                  budget and the input placement); 0: quantize the patch plan's geometry */
    size_t patch_sram;         /* v3: maps go to 4 bits (least measured loss first) until the plan fits its SRAM
                                  budget and the patch stage's own peak (live + scratch of ops 0..split-1) fits
                                  this (0: the budget only) */
    int bits[8], n_bits;       /* candidate widths incl. 8; default {8, 6, 5, 4} (v1: {8, 4, 2}) */
    /* may be NULL; stage "calibration" (unit: image passes) then "QuantMCU search" (measurements) */
    void (*progress)(const char *stage, int done, int total, void *ctx);
    void *progress_ctx;
} quantmcu_quant_options;
/* Defaults of a scheme (3; 2; or 1 for the paper-faithful version 1). */
void quantmcu_quant_options_default(quantmcu_quant_options *o, int scheme);
qmcu_status quantmcu_quantize(const quantmcu_model *m, const quantmcu_plan *patch, const quantmcu_quant_options *o,
                              quantmcu_plan **out, qmcu_error *err);

/* ---- inference ------------------------------------------------------------------------- */
/* Decodes and preprocesses an image into the model's input bytes (DESIGN.md §5). */
qmcu_status quantmcu_image_to_input(const quantmcu_model *m, const char *path, void *input, qmcu_error *err);
/* A sample file as input 0: .npy / .bin as quantmcu_load_input, anything else as an image. */
qmcu_status quantmcu_sample_to_input(const quantmcu_model *m, const char *path, void *input, qmcu_error *err);
/* One inference in mem (quantmcu_plan_memory_bytes): input/output in the model's byte format;
 * opt may be NULL. */
qmcu_status quantmcu_run(const quantmcu_model *m, const quantmcu_plan *p, uint8_t *mem, const void *input, void *output,
                         const qmcu_run_options *opt, qmcu_error *err);
/* quantmcu_image_to_input + quantmcu_run; input receives the input bytes (may be NULL). */
/* Every input in, every output out (arrays of quantmcu_num_inputs / num_outputs buffers). */
qmcu_status quantmcu_run_all(const quantmcu_model *m, const quantmcu_plan *p, uint8_t *mem, const void *const *inputs,
                             void *const *outputs, const qmcu_run_options *opt, qmcu_error *err);
qmcu_status quantmcu_run_image(const quantmcu_model *m, const quantmcu_plan *p, uint8_t *mem, const char *image,
                               void *input, void *output, const qmcu_run_options *opt, qmcu_error *err);
/* Output k as floats: 8-bit outputs dequantized, integer outputs (class maps) as they are. */
void quantmcu_output_values(const quantmcu_model *m, int k, const void *out_bytes, float *values);
/* Output 0 as real scores (dequantized), and the indices of the k largest (ties: lower index). */
void quantmcu_scores(const quantmcu_model *m, const void *output, float *scores);
void quantmcu_top_k(const float *scores, int n, int k, int *idx);

/* Detectors (a model whose outputs come from TFLite_Detection_PostProcess): the detections of one
 * run, best first, up to max; returns their number, or -1 when the model has no detection head. */
typedef struct {
    int cls;
    float score;
    float ymin, xmin, ymax, xmax; /* normalized box corners, as the model's anchors */
} quantmcu_detection;
int quantmcu_detections(const quantmcu_model *m, void *const *outputs, quantmcu_detection *det, int max);

/* ---- evaluation over a folder ------------------------------------------------------------ */
typedef struct {
    int skip, limit;                /* leave out the first `skip` images; then at most `limit` (0: all) */
    int threads;                    /* over images; results identical to 1 thread */
    int no_vdpc;                    /* QuantMCU ablation */
    const quantmcu_plan *reference; /* also run this plan (e.g. the int8 patch plan) on each image: agreement, KL */
    void (*progress)(int done, int total, void *ctx); /* may be NULL */
    void *progress_ctx;
    int strict;               /* stop at the first image that cannot be decoded (else: name it, count it, go on) */
    const char *classes;      /* WordNet ids, one per line, line k = class k (class folders or ground truth by wnid) */
    const char *ground_truth; /* lines "FILE CLASS" (index or wnid); else the leading integer of each file name
                                 or, for a folder of class sub-folders (ImageFolder layout), the folder's name */
    void (*on_error)(const char *message, void *ctx); /* each broken image (non-strict); ctx: progress_ctx */
} quantmcu_eval_options;
typedef struct {
    int images; /* evaluated (broken images left out) */
    int errors; /* images that could not be decoded (non-strict runs) */
    double top1_pct, top5_pct;
    double ms_per_image;                            /* inference only, per image and thread */
    double wall_ms_per_image;                       /* whole run, decoding included */
    qmcu_run_stats stats;                           /* summed over images */
    double bitops, patch_bitops, patch_bitops_int8; /* per image: as the tiles ran */
    double agreement_pct, kl; /* with a reference plan: top-1 agreement, mean KL(reference || this) at the logits */
} quantmcu_eval_result;
void quantmcu_eval_options_default(quantmcu_eval_options *o);
/* Labels (+1 for 1001-output models): a ground-truth file, else the leading integer of each file
 * name, or, for a folder without images at the top, the name of each class sub-folder (an index
 * or a WordNet id of the class list). */
qmcu_status quantmcu_eval(const quantmcu_model *m, const quantmcu_plan *p, const char *dir,
                          const quantmcu_eval_options *o, quantmcu_eval_result *out, qmcu_error *err);
/* Image files (JPEG/PNG/BMP) of a folder in sorted name order; free with quantmcu_free_list. */
qmcu_status quantmcu_list_images(const char *dir, char ***paths, int *count, qmcu_error *err);
void quantmcu_free_list(char **paths, int count);

/* ---- code generation and the emulated MCU ------------------------------------------------ */
/* Board budgets: f746 = 320 kB / 1 MB, h743 = 512 kB / 2 MB, big = 512 kB / 4 MB. */
int quantmcu_board_known(const char *name);
/* DIR/qmcu_model.h, DIR/qmcu_model_data.c and, for a board (NULL: host), DIR/board.ld. */
qmcu_status quantmcu_codegen(const quantmcu_model *m, const quantmcu_plan *p, const char *dir, const char *board,
                             qmcu_error *err);
size_t quantmcu_weight_bytes(const quantmcu_model *m);

/* Firmware built for an emulated Cortex-M (arm-none-eabi-gcc, cached by content) and run
 * under QEMU (-icount shift=0): emulated instructions, not cycles. */
typedef struct quantmcu_firmware quantmcu_firmware;
typedef struct {
    const char *target;    /* "cortex-m4" (mps2-an386) or "cortex-m7" (mps2-an500) */
    const char *board;     /* f746 | h743 | big */
    int profile;           /* per-op instruction counts */
    const char *cache_dir; /* NULL: $QUANTMCU_CACHE, else $TMPDIR/quantmcu-cache */
} quantmcu_mcu_options;
qmcu_status quantmcu_mcu_build(const quantmcu_model *m, const quantmcu_plan *p, const quantmcu_mcu_options *o,
                               quantmcu_firmware **out, qmcu_error *err);
/* Section sizes of the firmware: flash (text + data) and the arena. */
void quantmcu_mcu_sizes(const quantmcu_firmware *fw, size_t *flash_bytes, size_t *arena_bytes);
/* One input through the firmware: its output bytes (every output, output 0 first: quantmcu_outputs_bytes), emulated instructions and, when built with
 * profile, per-op instructions (op_insns: graph ops entries; may be NULL). */
qmcu_status quantmcu_mcu_run(const quantmcu_firmware *fw, const void *input, void *output, unsigned long long *insns,
                             unsigned long long *op_insns, qmcu_error *err);
void quantmcu_mcu_free(quantmcu_firmware *fw);

/* ---- report ------------------------------------------------------------------------------ */
typedef struct {
    const quantmcu_plan
        *int8_plan;           /* the same geometry at 8 bits: its accuracy next to a QuantMCU plan (may be NULL) */
    const char *images;       /* evaluate on this folder (NULL: no accuracy) */
    int skip, limit, threads; /* of the images; default 0, 100, 2 */
    const char *sample_image; /* the tile map's picture (NULL: the first evaluated image) */
    size_t sram_budget;       /* drawn and checked; 0: the plan's own (quantmcu_plan_info.sram_budget) */
    const char *mcu_board;    /* per-op emulated Cortex-M4 instructions on the sample image (NULL: none) */
    const char *frontier;     /* JSON lines of bench/quantmcu_frontier.sh: accuracy vs BitOPs plot (NULL: none) */
} quantmcu_report_options;
void quantmcu_report_options_default(quantmcu_report_options *o);
/* One self-contained HTML file (inline SVG, a few lines of inline JS, no network), written whole
 * or not at all: summary, memory timeline, tile map (VDPC per tile), per-layer MACs and BitOPs,
 * and with the options MCU instructions per op and the frontier. */
qmcu_status quantmcu_report(const quantmcu_model *m, const quantmcu_plan *p, const quantmcu_report_options *o,
                            const char *html_path, qmcu_error *err);

#endif
