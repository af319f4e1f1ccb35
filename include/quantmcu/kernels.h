/* quantmcu kernels: portable C99, no allocation, caller-provided buffers.
 *
 * Layouts are NHWC for activations, OHWI for conv filters, 1HWO for depthwise filters.
 * All 8-bit data is int8 (uint8 models are shifted by -128 at import, see graph.h).
 * Offsets follow TFLite/CMSIS-NN: input_offset = -input_zero_point, filter_offset =
 * -filter_zero_point, output_offset = +output_zero_point. Requantization of an int32
 * accumulator: out = clamp(MBQM(acc, multiplier[c], shift[c]) + output_offset, act_min, act_max)
 * with MBQM = qmcu_multiply_by_quantized_multiplier (shift > 0 = left shift).
 *
 * The same sources build for the host and for Cortex-M. */
#ifndef QMCU_KERNELS_H
#define QMCU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "quantmcu/status.h"

typedef struct {
    int32_t n, h, w, c;
} qmcu_dims;

/* Convolution-family parameters (conv, depthwise, fully connected use a subset). */
typedef struct {
    int32_t input_offset;
    int32_t filter_offset; /* non-zero only for uint8 per-tensor weights */
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_top, pad_left; /* padding before; out-of-range taps count as the zero point */
    int32_t depth_multiplier;  /* depthwise only */
    int32_t input_code_bits;   /* 2: every input value (padding included) is a code 0..3 (QuantMCU
                                  2-bit maps; the Cortex-M GEMM then packs two pixels per lane);
                                  0: any int8 */
} qmcu_conv_params;

/* Per-output-channel requantization. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} qmcu_requant;

/* ---- convolution (im2col + blocked integer GEMM) ---------------------------------------
 * `bias` is the folded bias of qmcu_conv_fold_bias(); scratch must hold
 * qmcu_conv_s8_scratch_size() bytes (0 for 1x1 stride-1 unpadded convolutions). */
size_t qmcu_conv_s8_scratch_size(const qmcu_conv_params *p, const qmcu_dims *in, const qmcu_dims *filter,
                                 const qmcu_dims *out);
qmcu_status qmcu_conv_s8(const qmcu_conv_params *p, const qmcu_requant *rq, const qmcu_dims *in, const int8_t *input,
                         const qmcu_dims *filter, const int8_t *filter_data, const int32_t *bias, const qmcu_dims *out,
                         int8_t *output, void *scratch, size_t scratch_bytes);
/* Folds the zero-point terms into the bias (done once, offline):
 * folded[oc] = bias[oc] + input_offset * sum_k w[oc][k] + K * input_offset * filter_offset.
 * The kernels then add filter_offset * sum_k x[k] per output pixel when filter_offset != 0. */
void qmcu_conv_fold_bias(const qmcu_conv_params *p, int32_t out_ch, int32_t k, const int8_t *filter_data,
                         const int32_t *bias, int32_t *folded);

/* Fully connected: rows = batches, filter [out_ch][k]. Same folded bias as conv. */
qmcu_status qmcu_fully_connected_s8(const qmcu_conv_params *p, const qmcu_requant *rq, int32_t rows, int32_t k,
                                    const int8_t *input, int32_t out_ch, const int8_t *filter_data, const int32_t *bias,
                                    int8_t *output);

/* ---- depthwise convolution (direct, channels innermost) ------------------------------
 * bias is the raw TFLite bias (may be NULL); scratch: qmcu_depthwise_s8_scratch_size(). */
size_t qmcu_depthwise_s8_scratch_size(const qmcu_dims *out);
qmcu_status qmcu_depthwise_conv_s8(const qmcu_conv_params *p, const qmcu_requant *rq, const qmcu_dims *in,
                                   const int8_t *input, const qmcu_dims *filter, const int8_t *filter_data,
                                   const int32_t *bias, const qmcu_dims *out, int8_t *output, void *scratch,
                                   size_t scratch_bytes);
/* In place: `buffer` holds the input (in dims) and receives the output (out dims); batch 1. */
size_t qmcu_depthwise_s8_inplace_scratch_size(const qmcu_conv_params *p, const qmcu_dims *in, const qmcu_dims *out);
qmcu_status qmcu_depthwise_conv_s8_inplace(const qmcu_conv_params *p, const qmcu_requant *rq, const qmcu_dims *in,
                                           const qmcu_dims *filter, const int8_t *filter_data, const int32_t *bias,
                                           const qmcu_dims *out, int8_t *buffer, void *scratch, size_t scratch_bytes);

/* ---- pooling ---------------------------------------------------------------------------
 * Average pooling divides by the number of in-range taps with TFLite's rounding, computed
 * on (value + value_offset): value_offset = 128 for uint8 models, where TFLite rounds
 * the unsigned sum half up. */
typedef struct {
    int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max;
    int32_t value_offset;
    int is_max;
} qmcu_pool_params;
qmcu_status qmcu_pool_s8(const qmcu_pool_params *p, const qmcu_dims *in, const int8_t *input, const qmcu_dims *out,
                         int8_t *output);

/* ---- element-wise with 4-D broadcasting ------------------------------------------------
 * ADD follows TFLite: both inputs are shifted left by left_shift (20), rescaled by their own
 * multipliers to a common scale, summed and rescaled to the output. MUL multiplies
 * (x1 + offset1) * (x2 + offset2) and rescales by output multiplier. */
typedef struct {
    int is_mul;
    int32_t input1_offset, input2_offset, output_offset;
    int32_t left_shift;
    int32_t input1_multiplier, input2_multiplier, output_multiplier;
    int input1_shift, input2_shift, output_shift;
    int32_t act_min, act_max;
} qmcu_eltwise_params;
/* dims are right-aligned 4-D shapes; an input dim of 1 broadcasts. */
qmcu_status qmcu_eltwise_s8(const qmcu_eltwise_params *p, const int32_t in1_dims[4], const int8_t *in1,
                            const int32_t in2_dims[4], const int8_t *in2, const int32_t out_dims[4], int8_t *out);

/* Same-shape add with parameters per channel (QuantMCU per-channel formats): p[c] for channel c
 * of n_pixels pixels of `channels` interleaved channels. */
qmcu_status qmcu_eltwise_s8_per_channel(const qmcu_eltwise_params *p, int32_t channels, int32_t n_pixels,
                                        const int8_t *in1, const int8_t *in2, int8_t *out);

/* ---- requantize (QUANTIZE int8->int8, RELU/RELU6 as ops) --------------------------------- */
typedef struct {
    int32_t input_offset, output_offset;
    int32_t multiplier;
    int shift;
    int32_t act_min, act_max;
} qmcu_requantize_params;
void qmcu_requantize_s8(const qmcu_requantize_params *p, int32_t n, const int8_t *in, int8_t *out);

/* ---- table lookup (LOGISTIC, HARD_SWISH): out = table[(uint8)in] -------------------------- */
void qmcu_lut_s8(const int8_t table[256], int32_t n, const int8_t *in, int8_t *out);

/* LEAKY_RELU (TFLite's QuantizeLeakyRelu): x - input_zp >= 0 is rescaled by the identity
 * multiplier, below 0 by the alpha one; + output zero point, clamped to int8. */
typedef struct {
    int32_t input_zero_point, output_zero_point;
    int32_t identity_multiplier, identity_shift;
    int32_t alpha_multiplier, alpha_shift;
    float alpha; /* float models */
} qmcu_leaky_relu_params;
void qmcu_leaky_relu_s8(const qmcu_leaky_relu_params *p, int32_t n, const int8_t *in, int8_t *out);
void qmcu_leaky_relu_f32(float alpha, int32_t n, const float *in, float *out);

/* ---- softmax (TFLite's float lookup-table softmax) -------------------------------------
 * table[255 - v] = exp(-input_scale * beta * v); out = round(p / output_scale) + zero point. */
typedef struct {
    const float *table; /* 256 entries */
    float output_scale;
    int32_t output_zero_point; /* storage domain */
    int uint8_output;          /* TFLite rounds uint8 outputs as (int)(x + 0.5f) */
} qmcu_softmax_params;
void qmcu_softmax_s8(const qmcu_softmax_params *p, int32_t rows, int32_t row_len, const int8_t *in, int8_t *out);
void qmcu_softmax_table(float input_scale, float beta, float table[256]);

/* ---- mean over a set of axes of a right-aligned 4-D shape ---------------------------------
 * Three TFLite behaviours, chosen at prepare time:
 *  QMCU_MEAN_SPATIAL: 4-D, axes {1,2}, keep_dims: integer path with multiplier/shift;
 *  QMCU_MEAN_SAME_QUANT: same scale/zero point: raw sum / count, truncated (reference Mean);
 *  QMCU_MEAN_RESCALE: float rescale (QuantizedMeanOrSum). */
typedef enum { QMCU_MEAN_SPATIAL, QMCU_MEAN_SAME_QUANT, QMCU_MEAN_RESCALE } qmcu_mean_kind;
typedef struct {
    qmcu_mean_kind kind;
    int reduce_mask;
    int32_t value_offset;                        /* 128 for uint8 models (sums are taken on unsigned values) */
    int32_t input_zero_point, output_zero_point; /* storage domain */
    int32_t multiplier;
    int shift;
    float input_scale, output_scale;
    int uint8_model;
} qmcu_mean_params;
/* scratch: int32 per output element */
qmcu_status qmcu_mean_s8(const qmcu_mean_params *p, const int32_t dims[4], const int8_t *in, int8_t *out,
                         int32_t *scratch, size_t scratch_bytes);

/* ---- data movement (any element size) ----------------------------------------------- */
/* Row-major strides of a 4-D shape, with stride 0 for dimensions of size 1, so that indexing
 * an output-shaped loop with them broadcasts (eltwise) or accumulates (mean). */
void qmcu_broadcast_strides(const int32_t dims[4], int32_t strides[4]);
void qmcu_pad(const int32_t in_dims[4], const int32_t pads[4][2], size_t elem_size, const void *pad_value,
              const void *in, void *out);
void qmcu_transpose(const int32_t in_dims[4], const int perm[4], size_t elem_size, const void *in, void *out);
/* Copies one input of a concatenation into its slot of the output ([outer][axis][inner]). */
void qmcu_concat_copy(int32_t outer, int32_t in_axis, int32_t out_axis, int32_t axis_offset, int32_t inner,
                      size_t elem_size, const void *in, void *out);
/* The same for a uint8 input quantized differently from the output (zero points in uint8 terms, bytes
 * stored as int8 = uint8 - 128): TFLite's ConcatenationWithScaling, round(u * s + b) + zp in float. */
void qmcu_concat_copy_rescale_u8(int32_t outer, int32_t in_axis, int32_t out_axis, int32_t axis_offset, int32_t inner,
                                 float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, const int8_t *in,
                                 int8_t *out);
/* GATHER_ND: n_tuples index tuples of `depth` int32 (or int64) indices into the leading dimensions of
 * params (ndim dims); each selects a slice of the remaining dimensions, copied to out in order.
 * QMCU_ERR_ARG when an index is outside its dimension (nothing is read out of bounds). */
qmcu_status qmcu_gather_nd(const int32_t *params_dims, int params_ndim, size_t elem_size, const void *params,
                           const void *indices, int indices_are_64, int32_t n_tuples, int depth, void *out);
/* The reverse: [outer][axis_offset, axis_offset + out_axis)[inner] of an [outer][in_axis][inner] input. */
void qmcu_slice_copy(int32_t outer, int32_t in_axis, int32_t out_axis, int32_t axis_offset, int32_t inner,
                     size_t elem_size, const void *in, void *out);

/* ---- resize and arg max (resize.c) ---------------------------------------------------------
 * RESIZE_BILINEAR as TFLite 2.9 computes it (NHWC, batch 1..n, channels kept):
 *  - int8: reference ResizeBilinearInteger, 10-bit fixed-point positions and weights, rounded
 *    half away from zero;
 *  - uint8 (stored as int8, value + 128 is the uint8 byte): the optimized kernel's float path
 *    (ResizeBilinearGenericSmallChannel: float weights, + 0.5, truncated);
 *  - float32: the optimized generic path (four weighted sums accumulated in order), and its
 *    exact 2x upsampling special case. */
typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int align_corners, half_pixel_centers;
    /* a patch tile: the input buffer holds rows from view_y0 and columns [view_x0, view_x0 + view_w) of
     * the image; output columns [out_x0, out_x1) are computed (whole image: 0, 0, in_w and 0, out_w) */
    int32_t view_y0, view_x0, view_w, out_x0, out_x1;
} qmcu_resize_params;
/* The input rows (axis 0) or columns (axis 1) [*i0, *i1) that output rows / columns [o0, o1) read:
 * kind 0 bilinear int8, 1 bilinear uint8 / float, 2 nearest, 3 nearest with the uint8 fixed-point rule. */
void qmcu_resize_source_range(const qmcu_resize_params *p, int kind, int axis, int32_t o0, int32_t o1, int32_t *i0,
                              int32_t *i1);
/* Output rows [row0, row1) (rows counted over batches x out_h), columns [out_x0, out_x1), into out
 * (row row0 first, rows of out_x1 - out_x0 pixels). */
void qmcu_resize_bilinear_s8(const qmcu_resize_params *p, const int8_t *in, int32_t row0, int32_t row1, int8_t *out);
void qmcu_resize_bilinear_u8(const qmcu_resize_params *p, const int8_t *in, int32_t row0, int32_t row1, int8_t *out);
void qmcu_resize_bilinear_f32(const qmcu_resize_params *p, const float *in, int32_t row0, int32_t row1, float *out);
/* RESIZE_NEAREST_NEIGHBOR: pixels of elem_size bytes copied from TFLite's nearest source pixel:
 * the reference rule (float scale, floor, or round with align_corners; half-pixel offset), or with
 * fixed_point the optimized uint8 kernel's rule for plain resizes, (y * ((in << 16) / out + 1)) >> 16. */
void qmcu_resize_nearest(const qmcu_resize_params *p, size_t elem_size, int fixed_point, int32_t row0, int32_t row1,
                         const void *in, void *out);
/* ARG_MAX over the middle dimension of [outer][axis][inner]: the first index of the largest
 * value; 8-bit values are compared as stored (uint8 - 128 keeps the order). out: int32 or int64. */
void qmcu_arg_max(int32_t outer, int32_t axis, int32_t inner, int is_float, const void *in, int out_is_64, void *out);

/* ---- detection post-processing (detection.c) -------------------------------------------
 * TFLite's custom op TFLite_Detection_PostProcess (SSD heads), with its float arithmetic: box
 * decoding against the anchors (centre-size encoding, in double), then non-max suppression,
 * either "fast" (each anchor ranked by its best class, one NMS) or "regular" (NMS per class, then
 * the best max_detections over all classes). Ties rank as TFLite ranks them: a stable sort by
 * score, and where TFLite uses std::partial_sort, the same heap algorithm (libstdc++'s). */
typedef struct {
    int32_t max_detections, max_classes_per_detection, detections_per_class, num_classes;
    int32_t use_regular_nms;
    float score_threshold, iou_threshold;
    float y_scale, x_scale, h_scale, w_scale;
} qmcu_detection_params;
/* The inputs: box encodings [boxes][code_len] (code_len >= 4), class scores [boxes][classes with
 * background] and anchors [boxes][4]; each float32 (scale 0) or 8-bit, real = scale * (q - zero
 * point) of the stored int8 bytes. Index 0 boxes, 1 scores, 2 anchors. */
typedef struct {
    int32_t num_boxes, code_len, num_classes_with_background;
    const void *boxes, *scores, *anchors;
    float scale[3];
    int32_t zero_point[3];
} qmcu_detection_inputs;
/* Scratch bytes for these sizes. */
size_t qmcu_detection_scratch_size(const qmcu_detection_params *p, int32_t num_boxes, int32_t num_classes_with_bg);
/* out: boxes [N][4] (ymin, xmin, ymax, xmax), classes [N], scores [N], count [1], N =
 * max_detections * max_classes_per_detection, as float; entries after the detections are 0.
 * QMCU_ERR_FORMAT when a decoded box is inverted (TFLite fails the same way). */
qmcu_status qmcu_detection_postprocess(const qmcu_detection_params *p, const qmcu_detection_inputs *in, void *scratch,
                                       size_t scratch_bytes, float *out);

/* ---- integer LSTM (lstm.c) ----------------------------------------------------------------
 * UNIDIRECTIONAL_SEQUENCE_LSTM with int8 input/hidden state and an int16 cell state, batch 1,
 * without peephole, projection or layer normalization: TFLite 2.9's integer 8x8->16 step. Gates
 * 0 input, 1 forget, 2 cell, 3 output; biases are TFLite's effective ones (gate bias minus the
 * input zero point times each weight row sum; the recurrent ones minus the state's). */
typedef struct {
    int32_t n_input, n_cell, n_output, time_steps, reverse;
    const int8_t *input_weights[4], *recurrent_weights[4]; /* [n_cell][n_input], [n_cell][n_output] */
    const int32_t *input_bias[4], *recurrent_bias[4];      /* [n_cell] */
    int32_t input_multiplier[4], input_shift[4], recurrent_multiplier[4], recurrent_shift[4];
    int32_t hidden_multiplier, hidden_shift, hidden_zero_point;
    int32_t state_zero_point; /* the int8 hidden state's (its value when a run starts) */
    int32_t cell_scale;       /* log2 of the cell state's scale (<= -9) */
    int32_t cell_clip;        /* 0: none */
} qmcu_lstm_params;
size_t qmcu_lstm_scratch_size(const qmcu_lstm_params *p);
/* input [time_steps][n_input] -> output [time_steps][n_output]; the states start at zero (real). */
qmcu_status qmcu_lstm_s8(const qmcu_lstm_params *p, const int8_t *input, int8_t *output, void *scratch,
                         size_t scratch_bytes);

/* ---- low-bit activations (lowbit.c) ------------------------------------------------------
 * 4-bit: 2 codes per byte, 2-bit: 4 per byte, element 2i / 4i in the low bits (TFLite order),
 * along the flat NHWC index; other widths one code per byte. Codes are 0 .. 2^b - 1. */
size_t qmcu_activation_bytes(int bits, int64_t n);
/* Codes [start, start + n) of a buffer -> one int8 per code. */
void qmcu_unpack(int bits, const uint8_t *src, int64_t start, int32_t n, int8_t *dst);
/* n codes -> positions [start, start + n) of a buffer (neighbouring codes kept); with start 0,
 * src may be dst (packing in place). */
void qmcu_pack(int bits, const int8_t *src, int32_t n, uint8_t *dst, int64_t start);
/* Codes [0, n) of a packed buffer expanded to one per byte in the same buffer (n bytes). The
 * reverse is qmcu_pack(bits, buf, n, buf, 0), which may run in place. */
void qmcu_unpack_in_place(int bits, uint8_t *buf, int32_t n);
/* 1 when every one of n int8 codes lies in 0 .. 2^bits - 1 (bits 1..7). */
int qmcu_codes_fit(int bits, const int8_t *codes, int32_t n);
/* QuantMCU version 3 storage, whole pixels of c channels: `store` bits a code. 8: a byte each; 4
 * with c a multiple of 8: the 4-bit plane (per 8 codes a word, byte j = code j | code j + 4 << 4:
 * word-wide unpack and pack); other 4 and 2: as qmcu_pack; 5 and 6: per pixel the low 4 bits of
 * its c codes as a 4-bit plane (c / 2 bytes), then the high 1 / 2 bits as 1-bit / 2-bit codes
 * (c / 8, c / 4 bytes), so every pixel stays byte-aligned (c a multiple of 8). start and n count
 * codes and are whole pixels (or, on the 4-bit plane, multiples of 8). */
size_t qmcu_stored_bytes(int store, int64_t n);
void qmcu_store_unpack(int store, int32_t c, const uint8_t *src, int64_t start, int32_t n, int8_t *dst);
void qmcu_store_pack(int store, int32_t c, const int8_t *src, int32_t n, uint8_t *dst, int64_t start);
/* qmcu_store_pack of codes that may lie outside 0 .. 2^store - 1 (VDPC's outliers): a code outside
 * is first held to its channel's bound (bound: per channel, each >= 2^store - 1, or NULL: an
 * activation's clamp is no outlier), then, still outside, saturated (in src too) and counted.
 * Returns the count. */
int32_t qmcu_store_pack_saturate(int store, int32_t c, int8_t *src, int32_t n, const int8_t *bound, uint8_t *dst,
                                 int64_t start);

/* ---- float32 kernels (for float models and reference) ---------------------------------- */
typedef struct {
    int32_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, depth_multiplier;
    float act_min, act_max;
} qmcu_conv_f32_params;
void qmcu_conv_f32(const qmcu_conv_f32_params *p, const qmcu_dims *in, const float *input, const qmcu_dims *filter,
                   const float *filter_data, const float *bias, const qmcu_dims *out, float *output);
void qmcu_depthwise_conv_f32(const qmcu_conv_f32_params *p, const qmcu_dims *in, const float *input,
                             const qmcu_dims *filter, const float *filter_data, const float *bias, const qmcu_dims *out,
                             float *output);
void qmcu_fully_connected_f32(int32_t rows, int32_t k, const float *input, int32_t out_ch, const float *w,
                              const float *bias, float act_min, float act_max, float *output);
void qmcu_pool_f32(const qmcu_pool_params *p, float act_min, float act_max, const qmcu_dims *in, const float *input,
                   const qmcu_dims *out, float *output);
/* kind: 0 add, 1 mul, 2 sub (in1 - in2), 3 div, 4 floor div (in double, as TFLite's FloorDiv) */
void qmcu_eltwise_f32(int kind, const int32_t in1_dims[4], const float *in1, const int32_t in2_dims[4],
                      const float *in2, const int32_t out_dims[4], float act_min, float act_max, float *out);
/* Dynamic-range CONV_2D (float input and output, int8 OHWI weights with filter_scales: one, or one
 * per output channel when per_channel): TFLite 2.9's hybrid kernels (hybrid.c). scratch: one batch
 * of the input as int8 (in->h * in->w * in->c bytes). */
void qmcu_conv_hybrid(const qmcu_conv_f32_params *p, const qmcu_dims *in, const float *input, const qmcu_dims *filter,
                      const int8_t *filter_data, const float *filter_scales, int per_channel, const float *bias,
                      const qmcu_dims *out, float *output, int8_t *scratch);
/* int32 ADD / MUL / SUB / FLOOR_DIV (kinds as above, wrapping), clamped to [act_min, act_max];
 * QMCU_ERR_ARG on a division by zero. */
qmcu_status qmcu_eltwise_i32(int kind, const int32_t in1_dims[4], const int32_t *in1, const int32_t in2_dims[4],
                             const int32_t *in2, const int32_t out_dims[4], int32_t act_min, int32_t act_max,
                             int32_t *out);
/* Dynamic-range FULLY_CONNECTED: each input row quantized symmetrically (TFLite's default). */
void qmcu_fully_connected_hybrid(int32_t rows, int32_t k, const float *input, int32_t out_ch, const int8_t *w,
                                 float w_scale, const float *bias, float act_min, float act_max, float *output,
                                 int8_t *scratch);
void qmcu_softmax_f32(float beta, int32_t rows, int32_t row_len, const float *in, float *out);
void qmcu_mean_f32(int reduce_mask, const int32_t dims[4], const float *in, float *out);

#endif
