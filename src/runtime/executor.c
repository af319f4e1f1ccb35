/* Runs a plan: the patch stage tile by tile (each op on the tile's window, reading its input
 * buffers through padding relative to their regions), then the layer stage. Windows that
 * reach outside a tensor read the zero point (virtual padding), exactly like layer mode, so
 * every plan gives the same output bytes. Each op type runs through its kernel (src/runtime/ops/,
 * found in the model's table m->kernels); this file walks tiles, ops and halo caches. */
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"
#include "exec_internal.h"
#include "lowbit_exec.h"


static int is_spatial(qmcu_op_type t) { return qmcu_op_has(t, QMCU_OPT_WINDOW); }

qmcu_status qmcu_exec_window_rows(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                  qmcu_window o, qmcu_window_rows_fn fn, const qmcu_conv_override *ov)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    const qmcu_view out = qmcu_view_of(m, p, mem, tile, i, op->out), in0 = qmcu_view_of(m, p, mem, tile, i, op->in[0]);
    void *scratch = mem + p->scratch_offset[i];
    qmcu_window row = o;
    if (o.w0 == out.b.w0 && o.w1 == out.b.w1)
        return fn(m, p, tile, i, o, in0.ptr, qmcu_view_at(&out, o.h0, o.w0, px), scratch, p->scratch_bytes[i], ov);
    for (row.h0 = o.h0; row.h0 < o.h1; row.h0++) {
        qmcu_status st;
        row.h1 = row.h0 + 1;
        st = fn(m, p, tile, i, row, in0.ptr, qmcu_view_at(&out, row.h0, o.w0, px), scratch, p->scratch_bytes[i], ov);
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

qmcu_status qmcu_exec_elementwise_rows(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                       qmcu_window r, qmcu_elementwise_fn fn)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *y = QMCU_TENSOR(m, op->out);
    const size_t px = (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    const size_t in_px = (size_t)y->dims[3] * qmcu_dtype_size(QMCU_TENSOR(m, op->in[0])->type);
    const qmcu_view out = qmcu_view_of(m, p, mem, tile, i, op->out), in0 = qmcu_view_of(m, p, mem, tile, i, op->in[0]);
    const qmcu_view in1 = op->n_in > 1 ? qmcu_view_of(m, p, mem, tile, i, op->in[1]) : in0;
    int32_t row;
    for (row = r.h0; row < r.h1; row++) {
        const qmcu_status st = fn(m, i, qmcu_view_at(&in0, row, r.w0, in_px), qmcu_view_at(&in1, row, r.w0, in_px),
                                  qmcu_view_at(&out, row, r.w0, px), (int64_t)(r.w1 - r.w0) * y->dims[3]);
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

/* Op i on window r of its output through its kernel: a part of its tile region, or (tile < 0)
 * the whole tensor. Windows of patch tiles and of window ops may be empty (trailing tiles). */
static qmcu_status run_kernel(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                              qmcu_window r)
{
    const qmcu_op_type t = m->g->ops[i].type;
    const qmcu_op_kernel *k = m->kernels && (unsigned)t < (unsigned)QMCU_OP_COUNT ? m->kernels[t] : NULL;
    if ((tile >= 0 || is_spatial(t)) && qmcu_window_empty(r)) return QMCU_OK;
    if (!k || !k->run) return QMCU_ERR_UNSUPPORTED;
    return k->run(m, p, mem, tile, i, r);
}

/* Code conversion of channels [c0, c0 + n) of one pixel (one code per byte). */
static void convert_codes(int8_t *dst, const uint8_t *src, int32_t c0, int32_t n, const qmcu_code_convert *cv)
{
    int32_t c;
    for (c = c0; c < c0 + n; c++) {
        const int32_t in = (int8_t)src[c - c0];
        int32_t v =
            qmcu_multiply_by_quantized_multiplier(in - cv->in_zp, cv->rq.multiplier[c], cv->rq.shift[c]) + cv->out_zp;
        v = qmcu_clamp(v, cv->lo, cv->hi);
        if (cv->code_max && v > cv->code_max[c]) v = cv->code_max[c];
        dst[c - c0] = (int8_t)v;
    }
}

/* Copies n pixels of px bytes, converting the codes when cv is given (one code per byte). */
static void copy_pixels(uint8_t *dst, const uint8_t *src, int32_t n, size_t px, const qmcu_code_convert *cv)
{
    int32_t j;
    if (!cv) {
        memcpy(dst, src, (size_t)n * px);
        return;
    }
    for (j = 0; j < n; j++) convert_codes((int8_t *)dst + (size_t)j * px, src + (size_t)j * px, 0, (int32_t)px, cv);
}

qmcu_status qmcu_exec_halo_copy_in(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                   const qmcu_halo_io *io)
{
    const qmcu_tensor *y = QMCU_TENSOR(m, m->g->ops[i].out);
    const size_t px = qmcu_stored_pixel_bytes(m, p, m->g->ops[i].out);
    const size_t line = (size_t)y->dims[2] * px; /* a line-buffer row: the tensor's width */
    const qmcu_view out = qmcu_view_of(m, p, mem, tile, i, m->g->ops[i].out);
    const qmcu_window r = qmcu_tile_region(p, tile, i), c = qmcu_halo_compute_window(p, tile, i);
    int32_t yy;
    if (!p->halo || !p->halo[i] || qmcu_window_empty(r)) return QMCU_OK;
    if (c.w0 > r.w0) { /* columns [r.w0, c.w0) of every row: the column cache (written by the tile before) */
        const uint8_t *cols = mem + p->col_cache_offset[i];
        const qmcu_code_convert *cv = io ? io->from[cols[0] & 1] : NULL;
        cols += qmcu_halo_col_tag_bytes(p);
        for (yy = r.h0; yy < r.h1; yy++)
            copy_pixels(qmcu_view_at(&out, yy, r.w0, px), cols + (size_t)(yy - r.h0) * (size_t)(c.w0 - r.w0) * px, c.w0 - r.w0,
                        px, cv);
    }
    if (c.h0 > r.h0) { /* rows [r.h0, c.h0), columns [c.w0, r.w1): the line buffer (written by the tile above) */
        const uint8_t *lines = mem + p->row_cache_offset[i];
        const qmcu_code_convert *cv = io ? io->from[lines[tile % p->grid_w] & 1] : NULL;
        lines += qmcu_halo_row_tag_bytes(p);
        for (yy = r.h0; yy < c.h0; yy++)
            copy_pixels(qmcu_view_at(&out, yy, c.w0, px), lines + (size_t)(yy - r.h0) * line + (size_t)c.w0 * px, r.w1 - c.w0, px,
                        cv);
    }
    return QMCU_OK;
}

void qmcu_exec_halo_save(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                         const qmcu_halo_io *io)
{
    const qmcu_tensor *y = QMCU_TENSOR(m, m->g->ops[i].out);
    const size_t px = qmcu_stored_pixel_bytes(m, p, m->g->ops[i].out);
    const size_t line = (size_t)y->dims[2] * px;
    const qmcu_view out = qmcu_view_of(m, p, mem, tile, i, m->g->ops[i].out);
    const qmcu_window r = qmcu_tile_region(p, tile, i), c = qmcu_halo_compute_window(p, tile, i);
    const int f = p->halo ? p->halo[i] : 0;
    int32_t yy;
    if (!f || qmcu_window_empty(r)) return;
    if ((f & QMCU_HALO_COLS) && tile % p->grid_w + 1 < p->grid_w) {
        /* the next tile of the row reads columns [next.w0, r.w1) */
        const qmcu_window next = qmcu_tile_region(p, tile + 1, i);
        uint8_t *cols = mem + p->col_cache_offset[i];
        if (qmcu_halo_col_tag_bytes(p)) cols[0] = (uint8_t)(io ? io->fmt : 1);
        cols += qmcu_halo_col_tag_bytes(p);
        if (!qmcu_window_empty(next) && next.w0 < r.w1)
            for (yy = r.h0; yy < r.h1; yy++)
                copy_pixels(cols + (size_t)(yy - r.h0) * (size_t)(r.w1 - next.w0) * px, qmcu_view_at(&out, yy, next.w0, px),
                            r.w1 - next.w0, px, NULL);
    }
    if ((f & QMCU_HALO_ROWS) && tile + p->grid_w < p->n_tiles) {
        /* the tile below reads rows [below.h0, r.h1); this tile owns columns [c.w0, r.w1) of the line buffer,
           which no later tile of this row reads any more */
        const qmcu_window below = qmcu_tile_region(p, tile + p->grid_w, i);
        uint8_t *lines = mem + p->row_cache_offset[i];
        if (qmcu_halo_row_tag_bytes(p)) lines[tile % p->grid_w] = (uint8_t)(io ? io->fmt : 1);
        lines += qmcu_halo_row_tag_bytes(p);
        for (yy = below.h0 > r.h0 ? below.h0 : r.h0; !qmcu_window_empty(below) && yy < r.h1; yy++)
            copy_pixels(lines + (size_t)(yy - below.h0) * line + (size_t)c.w0 * px, qmcu_view_at(&out, yy, c.w0, px), r.w1 - c.w0,
                        px, NULL);
    }
}

/* Pixels [x0, x1) of row yy of src (a code per byte), converted, stored at dst (`store` bits a
 * code, pixels of px bytes). */
static void store_span(uint8_t *dst, const qmcu_view *src, int32_t yy, int32_t x0, int32_t x1, int32_t c_n, int store,
                       size_t px, const qmcu_code_convert *cv)
{
    int8_t tmp[QMCU_STORE_MAX_CHANNELS]; /* one pixel (a packed map has at most this many channels) */
    int32_t x, c;
    for (x = x0; x < x1; x++) {
        const uint8_t *s = qmcu_view_at(src, yy, x, (size_t)c_n);
        uint8_t *d = dst + (size_t)(x - x0) * px;
        if (store == 8) { /* a code per byte */
            if (cv)
                convert_codes((int8_t *)d, s, 0, c_n, cv);
            else
                memcpy(d, s, (size_t)c_n);
        } else if (store == 4 || store == 2) { /* any number of channels, a chunk at a time */
            for (c = 0; c < c_n; c += 32) {
                const int32_t n = c_n - c < 32 ? c_n - c : 32;
                if (cv)
                    convert_codes(tmp, s + c, c, n, cv);
                else
                    memcpy(tmp, s + c, (size_t)n);
                qmcu_store_pack(store, c_n, tmp, n, d, c);
            }
        } else { /* 5 / 6 bits: the whole pixel (at most QMCU_STORE_MAX_CHANNELS, qmcu_lowbit_store_bits) */
            if (cv)
                convert_codes(tmp, s, 0, c_n, cv);
            else
                memcpy(tmp, s, (size_t)c_n);
            qmcu_store_pack(store, c_n, tmp, c_n, d, 0);
        }
    }
}

void qmcu_exec_halo_save_from(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                              const qmcu_view *src, const qmcu_code_convert *cv)
{
    const int t = m->g->ops[i].out;
    const qmcu_tensor *y = QMCU_TENSOR(m, t);
    const int store = p->lowbit_store ? p->lowbit_store[t] : 8;
    const size_t px = qmcu_stored_pixel_bytes(m, p, t), line = (size_t)y->dims[2] * px;
    const qmcu_window r = qmcu_tile_region(p, tile, i), c = qmcu_halo_compute_window(p, tile, i), b = src->b;
    const int f = p->halo ? p->halo[i] : 0;
    int32_t yy, x0, x1;
    if (!f || qmcu_window_empty(r)) return;
    if ((f & QMCU_HALO_COLS) && tile % p->grid_w + 1 < p->grid_w) { /* as qmcu_exec_halo_save */
        const qmcu_window next = qmcu_tile_region(p, tile + 1, i);
        uint8_t *cols = mem + p->col_cache_offset[i];
        x0 = next.w0 > b.w0 ? next.w0 : b.w0;
        x1 = r.w1 < b.w1 ? r.w1 : b.w1;
        if (!qmcu_window_empty(next) && next.w0 < r.w1)
            for (yy = r.h0 > b.h0 ? r.h0 : b.h0; x0 < x1 && yy < r.h1 && yy < b.h1; yy++)
                store_span(cols + ((size_t)(yy - r.h0) * (size_t)(r.w1 - next.w0) + (size_t)(x0 - next.w0)) * px, src, yy,
                           x0, x1, y->dims[3], store, px, cv);
    }
    if ((f & QMCU_HALO_ROWS) && tile + p->grid_w < p->n_tiles) {
        const qmcu_window below = qmcu_tile_region(p, tile + p->grid_w, i);
        uint8_t *lines = mem + p->row_cache_offset[i];
        int32_t y0 = below.h0 > r.h0 ? below.h0 : r.h0;
        if (b.h0 > y0) y0 = b.h0;
        x0 = c.w0 > b.w0 ? c.w0 : b.w0;
        x1 = r.w1 < b.w1 ? r.w1 : b.w1;
        for (yy = y0; !qmcu_window_empty(below) && x0 < x1 && yy < r.h1 && yy < b.h1; yy++)
            store_span(lines + (size_t)(yy - below.h0) * line + (size_t)x0 * px, src, yy, x0, x1, y->dims[3], store, px,
                       cv);
    }
}

qmcu_status qmcu_exec_run_window(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window w)
{
    return run_kernel(m, p, mem, tile, i, w);
}

/* Op i of a tile with a cached halo: copy in what the neighbours computed (left columns from the
 * column cache, top rows from the line buffer), compute the rest, then keep what the next tile
 * of the row and the next row of tiles will read (see QMCU_HALO_*). Tiles run in raster order. */
static qmcu_status run_cached(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i)
{
    qmcu_status st;
    if (qmcu_window_empty(qmcu_tile_region(p, tile, i))) return QMCU_OK; /* a trailing tile: nothing to do */
    if ((st = qmcu_exec_halo_copy_in(m, p, mem, tile, i, NULL)) != QMCU_OK) return st;
    if ((st = run_kernel(m, p, mem, tile, i, qmcu_halo_compute_window(p, tile, i))) != QMCU_OK) return st;
    qmcu_exec_halo_save(m, p, mem, tile, i, NULL);
    return QMCU_OK;
}

qmcu_status qmcu_exec_run_op(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i)
{
    if (i >= p->split) tile = -1;
    if (i > 0 && p->fused_next && p->fused_next[i - 1]) return QMCU_OK; /* it ran with the op before it */
    if (tile >= 0 && p->halo && p->halo[i]) return run_cached(m, p, mem, tile, i);
    return run_kernel(m, p, mem, tile, i, qmcu_op_window(p, tile, i));
}

qmcu_op_hook_fn qmcu_op_hook = 0;

qmcu_status qmcu_exec_run(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, const qmcu_run_options *opt)
{
    static const qmcu_run_options defaults = {0, NULL, NULL, NULL, NULL};
    int tile, i;
    qmcu_status st;
    if (!opt) opt = &defaults;
    for (tile = 0; tile < p->n_tiles; tile++) {
        if (p->lowbit) {
            if (!p->run_lowbit_tile) return QMCU_ERR_UNSUPPORTED;
            if ((st = p->run_lowbit_tile(m, p, mem, tile, p->split, opt)) != QMCU_OK) return st;
            continue;
        }
        for (i = 0; i < p->split; i++) {
            if (qmcu_op_hook) qmcu_op_hook(i, 0);
            st = qmcu_exec_run_op(m, p, mem, tile, i);
            if (st != QMCU_OK && opt && opt->failed_op) *opt->failed_op = i;
            if (qmcu_op_hook) qmcu_op_hook(i, 1);
            if (st != QMCU_OK) return st;
        }
    }
    if (opt->stats && !p->lowbit) {
        opt->stats->patch_bitops += p->patch_macs * 64;
        opt->stats->tiles += p->n_tiles;
    }
    for (i = p->split; i < m->g->n_ops; i++) {
        if (qmcu_op_hook) qmcu_op_hook(i, 0);
        st = qmcu_exec_run_op(m, p, mem, -1, i);
        if (st != QMCU_OK && opt && opt->failed_op) *opt->failed_op = i;
        if (qmcu_op_hook) qmcu_op_hook(i, 1);
        if (st != QMCU_OK) return st;
    }
    return QMCU_OK;
}

void qmcu_exec_set_input(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int index, const void *bytes)
{
    const int ti = m->g->inputs[index];
    const qmcu_tensor *t = QMCU_TENSOR(m, ti);
    uint8_t *dst = mem + p->tensor_offset[ti];
    size_t i;
    memcpy(dst, bytes, t->bytes);
    if (t->from_uint8)
        for (i = 0; i < t->bytes; i++) dst[i] ^= 0x80;
}

void qmcu_exec_get_output(const qmcu_model *m, const qmcu_exec_plan *p, const uint8_t *mem, int index, void *bytes)
{
    const int ti = m->g->outputs[index];
    const qmcu_tensor *t = QMCU_TENSOR(m, ti);
    uint8_t *dst = (uint8_t *)bytes;
    size_t i;
    memcpy(dst, mem + p->tensor_offset[ti], t->bytes);
    if (t->from_uint8)
        for (i = 0; i < t->bytes; i++) dst[i] ^= 0x80;
}
