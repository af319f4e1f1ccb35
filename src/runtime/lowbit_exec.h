/* QuantMCU execution internals (host and MCU): low-bit tiles with VDPC (lowbit_exec.c, reached
 * through qmcu_exec_plan.run_lowbit_tile) on top of the 8-bit executor (executor.c) and the conv
 * kernels (ops/op_conv.c). */
#ifndef QMCU_LOWBIT_EXEC_H
#define QMCU_LOWBIT_EXEC_H

#include "exec_internal.h"

#define QMCU_LOWBIT_MAX_TENSORS 1024 /* per-tile format bytes live on the (small) MCU stack */

static inline int qmcu_bits_packed(int bits) { return bits == 4 || bits == 2; }

/* Bits per stored code of a map planned at `bits` with `channels` channels in a version 3 plan:
 * 2, 4, 5 and 6 packed (qmcu_store_pack) when every pixel stays byte-aligned (5 / 6: channels a
 * multiple of 8, at most QMCU_STORE_MAX_CHANNELS), else 8 (one code per byte; 3 and 7 bits too). */
#define QMCU_STORE_MAX_CHANNELS 512
static inline int qmcu_lowbit_store_bits(int bits, int32_t channels)
{
    if (bits == 4 || bits == 2) return ((int64_t)channels * bits) % 8 == 0 ? bits : 8;
    if (bits == 5 || bits == 6) return channels % 8 == 0 && channels <= QMCU_STORE_MAX_CHANNELS ? bits : 8;
    return 8;
}
/* Bytes of one pixel of tensor t as buffers and caches store it. */
static inline size_t qmcu_stored_pixel_bytes(const qmcu_model *m, const qmcu_exec_plan *p, int t)
{
    const qmcu_tensor *x = &m->g->tensors[t];
    const size_t c = (size_t)x->dims[3];
    return p->lowbit_store ? c * p->lowbit_store[t] / 8 : c * qmcu_dtype_size(x->type);
}
/* Conv / depthwise op i (int8) on output window o (whole rows of `out`) from an input buffer
 * holding region b, one code per byte (ops/op_conv.c); the scratch that call needs. */
qmcu_status qmcu_exec_conv_rows_from(const qmcu_model *m, int i, qmcu_window b, const uint8_t *in_buf, qmcu_window o,
                                     int8_t *out, void *scratch, size_t scratch_bytes, const qmcu_conv_override *ov);
size_t qmcu_exec_conv_rows_scratch(const qmcu_model *m, int i, qmcu_window b, qmcu_window o);
/* Version 3: the scratch conv / depthwise op i of a tile needs for its row staging (input stored
 * at in_store bits, output at out_store; 8 = a code per byte): the unpacked input rows one output
 * row reads, the output row, then the kernel's own scratch. Planner and runner both use it. */
size_t qmcu_lowbit_packed_conv_scratch(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, int in_store,
                                       int out_store);

/* Conv / depthwise op i of a patch tile (not in place) on output window w (a part of its region),
 * with a format combination's parameters (qmcu_conv_override, exec_internal.h); ops/op_conv.c. */
qmcu_status qmcu_exec_run_conv_window(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                      qmcu_window w, const qmcu_conv_override *ov);
/* Any patch op on output window w of its tile region, all 8-bit, through its kernel (executor.c). */
qmcu_status qmcu_exec_run_window(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window w);
/* How a tile moves a halo-cached map through its caches. On QuantMCU plans (p->lowbit) every
 * cache segment starts with a tag, the format its writer used (the column cache: 16 bytes, one
 * tag; the line buffer: one tag per column of tiles, rounded up to 16 bytes), so a value is read
 * in the format it was written and converted only when the reading tile's format differs. */
typedef struct {
    int fmt;                          /* this tile's format of the map: 0 its low-bit codes, 1 eight bits */
    const qmcu_code_convert *from[2]; /* applied to data written in format 0 / 1 (NULL: copied as is) */
} qmcu_halo_io;
/* Halo caching of op i on a tile (p->halo[i] set; no-ops otherwise): what the neighbours computed
 * into the tile buffer, and what the next tiles read out of it (io NULL: 8 bits, untagged). */
qmcu_status qmcu_exec_halo_copy_in(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                   const qmcu_halo_io *io);
void qmcu_exec_halo_save(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                         const qmcu_halo_io *io);
/* Bytes before the data of a column cache / a line buffer (the tags; QuantMCU plans only). */
static inline size_t qmcu_halo_col_tag_bytes(const qmcu_exec_plan *p) { return p->lowbit && !p->lowbit_store ? 16 : 0; }
static inline size_t qmcu_halo_row_tag_bytes(const qmcu_exec_plan *p)
{
    return p->lowbit && !p->lowbit_store ? ((size_t)p->grid_w + 15) & ~(size_t)15 : 0;
}
/* Version 3 fallback: what a sub-tile computed of op i (src: its buffer, a code per byte at 8
 * bits) saved into the caches of tile `tile` for its neighbours, converted by cv (NULL: copied)
 * to the stored format, where it lies in what the tile would have saved. */
void qmcu_exec_halo_save_from(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                              const qmcu_view *src, const qmcu_code_convert *cv);

#endif
