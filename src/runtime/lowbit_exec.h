/* QuantMCU execution internals (host and MCU): low-bit tiles with VDPC (lowbit_exec.c) on top of
 * the 8-bit executor (executor.c). */
#ifndef QMCU_LOWBIT_EXEC_H
#define QMCU_LOWBIT_EXEC_H

#include "quantmcu/runtime.h"

#define QMCU_LOWBIT_MAX_TENSORS 1024 /* per-tile format bytes live on the (small) MCU stack */

static inline int qmcu_bits_packed(int bits) { return bits == 4 || bits == 2; }

/* The first n_ops patch ops of a tile of a QuantMCU plan (n_ops = p->split: the whole tile;
 * tests inspect feature maps with fewer). */
qmcu_status qmcu_lowbit_run_tile_ops(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int n_ops,
                                     const qmcu_run_options *opt);

/* Parameters of one format combination of a conv / depthwise op (offsets, activation range,
 * input_code_bits from conv; its multipliers and folded bias). */
typedef struct {
    const qmcu_conv_params *conv;
    const qmcu_requant *rq;
    const int32_t *bias;
    const int8_t *weights; /* NULL: the op's own */
} qmcu_conv_override;
/* Conv / depthwise op i of a patch tile (not in place): output rows [y0, y1) of its window
 * (-1: all) with the override's parameters, on the tile buffers as they are. */
qmcu_status qmcu_exec_run_conv_rows(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                    int32_t y0, int32_t y1, const qmcu_conv_override *ov);

#endif
