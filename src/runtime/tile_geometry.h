/* Tile geometry at run time (host and MCU; no allocation): the input window an op reads, grid
 * tiles, the region a buffer holds, and kernel-call parameters relative to a buffer. The planner
 * sizes scratch with the same calls the executor makes, so the two cannot drift apart. */
#ifndef QMCU_TILE_GEOMETRY_H
#define QMCU_TILE_GEOMETRY_H

#include "quantmcu/runtime.h"

/* Input window (global, unclipped) that op's data input needs for output window `out`:
 * output rows [o0, o1) read input rows [o0*s - p, (o1-1)*s - p + d*(k-1) + 1). */
qmcu_window qmcu_op_input_window(const qmcu_graph *g, const qmcu_op *op, qmcu_window out);

/* RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR: its parameters over the whole image, and which source
 * rule its type uses (qmcu_resize_source_range's kind). */
qmcu_resize_params qmcu_op_resize_params(const qmcu_graph *g, const qmcu_op *op);
int qmcu_op_resize_kind(const qmcu_graph *g, const qmcu_op *op);

/* Tile (r, c) of an h x w tensor cut into a grid_h x grid_w grid (ceil-sized tiles). */
qmcu_window qmcu_grid_tile(int32_t h, int32_t w, int grid_h, int grid_w, int r, int c);

/* Kernel-call geometry of op i for an input buffer holding region b and output window o
 * (global coordinates): conv/pool parameters with padding relative to the buffer, buffer dims,
 * and the byte offset that skips input rows no output row reads (so unpadded 1x1 convolutions
 * keep their direct path). cp/pp may be NULL. */
void qmcu_op_call_geometry(const qmcu_model *m, int i, qmcu_window b, qmcu_window o, qmcu_conv_params *cp,
                           qmcu_pool_params *pp, qmcu_dims *in, qmcu_dims *out, size_t *in_skip);

/* Region held by the buffer of tensor t as op i of tile `tile` sees it (tile < 0: layer stage). */
qmcu_window qmcu_tile_buffer_region(const qmcu_exec_plan *p, int tile, int i, int t);

/* The window op i computes on tile `tile` without halo caching: its tile region (patch ops) or
 * its whole output (layer-stage ops, tile < 0). */
qmcu_window qmcu_op_window(const qmcu_exec_plan *p, int tile, int i);
/* qmcu_op_call_geometry for op i of tile `tile` (ignored for layer-stage ops) computing output
 * window o (a part of qmcu_op_window), reading its input buffer as the tile holds it. */
void qmcu_tile_op_call(const qmcu_exec_plan *p, const qmcu_model *m, int tile, int i, qmcu_window o,
                       qmcu_conv_params *cp, qmcu_pool_params *pp, qmcu_dims *in, qmcu_dims *out, size_t *in_skip);
/* Halo caching: the part of op i's tile region that tile `tile` computes itself (the rest, left
 * columns from the column cache and top rows from the line buffer, its neighbours computed).
 * The whole region when the op recomputes (p->halo). */
qmcu_window qmcu_halo_compute_window(const qmcu_exec_plan *p, int tile, int i);
/* The same for the whole window over the whole input buffer (no row skip): in-place depthwise
 * walks its buffer itself. */
void qmcu_tile_op_call_whole(const qmcu_exec_plan *p, const qmcu_model *m, int tile, int i, qmcu_conv_params *cp,
                             qmcu_dims *in, qmcu_dims *out);

/* The tensor whose codes t holds: t itself, or, through patch-stage PADs (which copy codes),
 * the PAD chain's input. */
int qmcu_pad_source(const qmcu_graph *g, int split, int t);

/* QuantMCU staging of patch add / pad op i on one tile: bytes of the unpacked input row span one
 * output row reads (both inputs for ADD); the output row follows it. (Conv and depthwise need
 * none: they expand packed inputs inside their own buffers.) */
size_t qmcu_lowbit_stage_in_bytes(const qmcu_exec_plan *p, int tile, int i);

#endif
