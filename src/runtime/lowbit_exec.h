/* QuantMCU execution internals (host and MCU): low-bit tiles with VDPC (lowbit_exec.c, reached
 * through qmcu_exec_plan.run_lowbit_tile) on top of the 8-bit executor (executor.c) and the conv
 * kernels (ops/op_conv.c). */
#ifndef QMCU_LOWBIT_EXEC_H
#define QMCU_LOWBIT_EXEC_H

#include "exec_internal.h"

#define QMCU_LOWBIT_MAX_TENSORS 1024 /* per-tile format bytes live on the (small) MCU stack */

static inline int qmcu_bits_packed(int bits) { return bits == 4 || bits == 2; }

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
static inline size_t qmcu_halo_col_tag_bytes(const qmcu_exec_plan *p) { return p->lowbit ? 16 : 0; }
static inline size_t qmcu_halo_row_tag_bytes(const qmcu_exec_plan *p)
{
    return p->lowbit ? ((size_t)p->grid_w + 15) & ~(size_t)15 : 0;
}

#endif
