/* QuantMCU execution of the patch stage: low-bit feature maps on normal tiles, 8 bits on
 * outlier tiles (VDPC, DESIGN.md §3).
 *
 * Per tile, each conv / depthwise / add / pad runs with the formats its inputs really have
 * and, for its output, the plan's low bit width unless the tile has switched. Every buffer of
 * the patch stage is sized for 8-bit codes (a tile may switch), so a conv / depthwise expands
 * a packed input in place to one code per byte and runs the int8 kernel on the whole tile,
 * with the parameters of that format combination (multipliers, offsets, folded bias derived at
 * prepare time), block of rows by block of rows; the output is packed in place at the end.
 * The requantization is clamped to the activation's range only, so a code outside
 * 0 .. 2^b - 1 shows the block holds an outlier: the op is then recomputed at 8 bits with the
 * original quantization and every later feature map of the tile stays at 8 bits. Add and pad
 * stage their rows (unpacked copies in scratch). */
#include <string.h>

#include "../kernels/qmcu_fixedpoint.h"
#include "lowbit_exec.h"
#include "tile_geometry.h"

typedef struct {
    uint8_t *ptr;
    qmcu_window b;
    int bits;
} lb_view;


/* Codes of pixels [x0, x1) of row y. */
static const int8_t *span_of(const lb_view *v, int32_t c, int32_t y, int32_t x0, int32_t x1, int8_t *stage)
{
    const int64_t start = ((int64_t)(y - v->b.h0) * (v->b.w1 - v->b.w0) + (x0 - v->b.w0)) * c;
    if (!qmcu_bits_packed(v->bits)) return (const int8_t *)v->ptr + start;
    qmcu_unpack(v->bits, v->ptr, start, (x1 - x0) * c, stage);
    return stage;
}

/* Per tile, one byte per tensor (the MCU stack is small): the bits the map has on this tile
 * (low nibble) and how it is stored now (high nibble: 4 / 2 packed, 8 one code per byte). */
static inline int fmt_bits(const unsigned char *f, int t) { return f[t] & 15; }
static inline int fmt_store(const unsigned char *f, int t) { return f[t] >> 4; }
static inline void set_store(unsigned char *f, int t, int store) { f[t] = (unsigned char)((f[t] & 15) | store << 4); }

/* How the codes an op produces for a low-bit map are settled (VDPC). */
typedef struct {
    int bits;
    int32_t tau;            /* outlier tile when more than tau codes fall outside 0 .. 2^b - 1; < 0: never */
    int keep;               /* outlier values kept as extended codes (else saturated) */
    int bytewise;           /* codes stored one per byte (kept outliers, or a halo-cached map) */
    const int8_t *code_max; /* per-channel activation bound in code space, or NULL */
    int code_max_above;     /* every bound >= 2^b - 1: only codes outside the range can meet one */
    int32_t channels;
    int32_t count;  /* codes outside the range so far (this op, this tile) */
    int32_t values; /* codes produced */
} settle_state;

/* Stored one code per byte (else 4/2-bit codes are packed). */
static int byte_stored(int bits, int keep) { return !qmcu_bits_packed(bits) || keep; }

/* n codes of a b-bit map just produced (whole pixels): the per-channel activation bound applied, the
 * codes outside 0 .. 2^b - 1 (at 7 bits, 127 may be a clamped value too) counted and, unless kept,
 * saturated. 8-bit maps pass as they are. Returns 1 when the count exceeds tau (an outlier tile). */
static void settle_code(settle_state *s, int8_t *code, int32_t j, int32_t top)
{
    if (s->code_max) {
        const int8_t mx = s->code_max[j % s->channels];
        if (*code > mx) *code = mx;
    }
    if (*code < 0 || *code >= top + (s->bits != 7)) {
        s->count++;
        if (!s->keep) *code = (int8_t)qmcu_clamp(*code, 0, top);
    }
}

static int settle_codes(settle_state *s, int8_t *codes, int32_t n)
{
    const int32_t top = (1 << s->bits) - 1;
    int32_t j;
    if (s->bits == 8) return 0;
    s->values += n;
    if (s->bits != 7 && (!s->code_max || s->code_max_above)) {
        /* codes inside 0 .. 2^b - 1 pass untouched (no bound is below them): four at a time, a
           word with a bit outside the range has its codes settled one by one (rare: outliers) */
        const uint32_t outside = (0xFFu & ~(uint32_t)top) * 0x01010101u;
        for (j = 0; j + 4 <= n; j += 4) {
            uint32_t w;
            int k;
            memcpy(&w, codes + j, 4);
            if (w & outside)
                for (k = 0; k < 4; k++) settle_code(s, codes + j + k, j + k, top);
        }
        for (; j < n; j++) settle_code(s, codes + j, j, top);
        return s->tau >= 0 && s->count > s->tau;
    }
    if (s->code_max)
        for (j = 0; j < n; j++) {
            const int8_t mx = s->code_max[j % s->channels];
            if (codes[j] > mx) codes[j] = mx;
        }
    if (qmcu_codes_fit(s->bits, codes, n) && s->bits != 7) return 0;
    for (j = 0; j < n; j++)
        if (codes[j] < 0 || codes[j] >= top + (s->bits != 7)) {
            s->count++;
            if (!s->keep) codes[j] = (int8_t)qmcu_clamp(codes[j], 0, top);
        }
    return s->tau >= 0 && s->count > s->tau;
}

/* Runs add / pad op i of a tile with the given formats, row by row (fmt: the tile's formats).
 * Stops with *outlier = 1 as soon as more than tau codes fell outside the output's range. */
static qmcu_status run_staged(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                              qmcu_window r, int b0, int b1, settle_state *ss, const unsigned char *fmt, int *outlier)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const int bout = ss->bits;
    const int idx = (b0 < 8) | ((b1 < 8) << 1) | ((bout < 8) << 2);
    const qmcu_lowbit_variant *v = &p->lowbit[i].v[idx];
    const int32_t cin = QMCU_TENSOR(m, op->in[0])->dims[3], cout = QMCU_TENSOR(m, op->out)->dims[3];
    const int32_t ow = r.w1 - r.w0, n = ow * cout;
    const size_t stage_bytes = p->scratch_bytes[i];
    int8_t *scratch = (int8_t *)(mem + p->scratch_offset[i]);
    lb_view in0, in1, out;
    int8_t *stage_in, *stage_in1, *stage_out;
    int32_t y, j;
    if (!v->valid) return QMCU_ERR_ARG;
    in0.ptr = mem + p->tensor_offset[op->in[0]];
    in0.b = qmcu_tile_buffer_region(p, tile, i, op->in[0]);
    in0.bits = fmt_store(fmt, op->in[0]);
    out.ptr = mem + p->tensor_offset[op->out];
    out.b = qmcu_tile_buffer_region(p, tile, i, op->out);
    out.bits = bout;
    in1 = in0;
    if (op->type == QMCU_OP_ADD) {
        in1.ptr = mem + p->tensor_offset[op->in[1]];
        in1.b = qmcu_tile_buffer_region(p, tile, i, op->in[1]);
        in1.bits = fmt_store(fmt, op->in[1]);
    }
    /* scratch layout (planner: lowbit_staging): input row(s) | output row */
    stage_in = scratch;
    stage_in1 = scratch + (size_t)ow * (size_t)cin;
    stage_out = scratch + qmcu_align16(qmcu_lowbit_stage_in_bytes(p, tile, i));
    if ((size_t)(stage_out - scratch) + (size_t)n > stage_bytes) return QMCU_ERR_NOMEM;
    *outlier = 0;
    for (y = r.h0; y < r.h1; y++) {
        /* byte-stored outputs are written in place, packed ones staged */
        const int64_t out_start = ((int64_t)(y - out.b.h0) * (out.b.w1 - out.b.w0) + (r.w0 - out.b.w0)) * cout;
        int8_t *const dst = byte_stored(bout, ss->bytewise) ? (int8_t *)out.ptr + out_start : stage_out;
        switch (op->type) {
        case QMCU_OP_ADD: {
            const int32_t d[4] = {1, 1, 1, n};
            const int8_t *a = span_of(&in0, cin, y, r.w0, r.w1, stage_in);
            const int8_t *b = span_of(&in1, cin, y, r.w0, r.w1, stage_in1);
            qmcu_status st = v->elt_c ? qmcu_eltwise_s8_per_channel(v->elt_c, cout, ow, a, b, dst)
                                      : qmcu_eltwise_s8(&v->elt, d, a, d, b, d, dst);
            if (st != QMCU_OK) return st;
            break;
        }
        default: { /* PAD */
            const qmcu_tensor *x = QMCU_TENSOR(m, op->in[0]);
            const int32_t iy = y - op->pads[1][0];
            const int8_t *row = NULL;
            if (iy >= 0 && iy < x->dims[1]) row = span_of(&in0, cin, iy, in0.b.w0, in0.b.w1, stage_in);
            for (j = 0; j < ow; j++) {
                const int32_t ix = r.w0 + j - op->pads[2][0];
                if (row && ix >= 0 && ix < x->dims[2])
                    memcpy(dst + (size_t)j * cout, row + (size_t)(ix - in0.b.w0) * cin, (size_t)cout);
                else
                    memset(dst + (size_t)j * cout, v->pad_value, (size_t)cout);
            }
            break;
        }
        }
        if (settle_codes(ss, dst, n)) {
            *outlier = 1;
            return QMCU_OK;
        }
        if (dst == stage_out) qmcu_pack(bout, stage_out, n, out.ptr, out_start);
    }
    return QMCU_OK;
}

#define QMCU_LOWBIT_ROW_BLOCK 4 /* output rows per kernel call: outliers are seen this early */

/* Runs conv / depthwise op i of a tile with the given formats on the tile buffers (see the
 * top of the file), output window w of its region. Stops with *outlier = 1 at the block where
 * more than tau codes have fallen outside the output's range. */
static qmcu_status run_direct(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                              qmcu_window w, int b0, settle_state *ss, unsigned char *fmt, int *outlier)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const int bout = ss->bits;
    const qmcu_lowbit_variant *v = &p->lowbit[i].v[(b0 < 8) | ((bout < 8) << 2)];
    const qmcu_window r = qmcu_tile_region(p, tile, i);
    const int32_t cout = QMCU_TENSOR(m, op->out)->dims[3], row_codes = (r.w1 - r.w0) * cout;
    const int x = op->in[0];
    int8_t *const out = (int8_t *)(mem + p->tensor_offset[op->out]); /* a low-bit map's buffer is its region */
    qmcu_conv_params cp;
    qmcu_conv_override ov;
    qmcu_window blk = w;
    if (!v->valid) return QMCU_ERR_ARG;
    if (fmt_store(fmt, x) != 8) { /* packed input -> one code per byte, in its own buffer */
        const qmcu_window b = qmcu_tile_buffer_region(p, tile, i, x);
        qmcu_unpack_in_place(fmt_store(fmt, x), mem + p->tensor_offset[x],
                             (b.h1 - b.h0) * (b.w1 - b.w0) * QMCU_TENSOR(m, x)->dims[3]);
        set_store(fmt, x, 8);
    }
    cp = v->conv;
    /* 2-bit codes, the zero point (padding value) among them: lane-packed GEMM on Cortex-M */
    cp.input_code_bits = b0 == 2 && -cp.input_offset >= 0 && -cp.input_offset <= 3 ? 2 : 0;
    ov.conv = &cp;
    ov.rq = &v->rq;
    ov.bias = v->bias;
    ov.weights = v->weights;
    *outlier = 0;
    for (blk.h0 = w.h0; blk.h0 < w.h1; blk.h0 = blk.h1) {
        qmcu_status st;
        int32_t y;
        blk.h1 = blk.h0 + QMCU_LOWBIT_ROW_BLOCK < w.h1 ? blk.h0 + QMCU_LOWBIT_ROW_BLOCK : w.h1;
        if ((st = qmcu_exec_run_conv_window(m, p, mem, tile, i, blk, &ov)) != QMCU_OK) return st;
        for (y = blk.h0; y < blk.h1; y++) /* the block's codes, row by row (a part of the region's rows) */
            if (settle_codes(ss, out + (size_t)(y - r.h0) * (size_t)row_codes + (size_t)(w.w0 - r.w0) * (size_t)cout,
                             (w.w1 - w.w0) * cout)) {
                *outlier = 1;
                return QMCU_OK;
            }
    }
    if (!byte_stored(bout, ss->bytewise)) qmcu_pack(bout, out, (r.h1 - r.h0) * row_codes, (uint8_t *)out, 0);
    return QMCU_OK;
}

/* Op i of a tile with the given formats (low-bit in or out). */
static qmcu_status run_lowbit_op(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window w, int b0, int b1, settle_state *ss, unsigned char *fmt, int *outlier)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_lowbit_variant *v = &p->lowbit[i].v[(b0 < 8) | ((b1 < 8) << 1) | ((ss->bits < 8) << 2)];
    ss->code_max = ss->bits < 8 ? v->code_max : NULL;
    ss->channels = QMCU_TENSOR(m, op->out)->dims[3];
    ss->code_max_above = 1;
    if (ss->code_max) {
        int32_t c;
        for (c = 0; c < ss->channels; c++) ss->code_max_above &= ss->code_max[c] >= (1 << ss->bits) - 1;
    }
    ss->count = ss->values = 0;
    if (qmcu_is_conv(op->type)) return run_direct(m, p, mem, tile, i, w, b0, ss, fmt, outlier);
    return run_staged(m, p, mem, tile, i, w, b0, b1, ss, fmt, outlier);
}

/* Halo caching on a QuantMCU tile: the tile's format of the map (planned: its bits on normal tiles,
 * bout: what this tile produces) and the conversions of what neighbours wrote in the other one. */
static qmcu_halo_io halo_io(const qmcu_exec_plan *p, int i, int planned, int bout)
{
    qmcu_halo_io io;
    io.fmt = planned == 8 || bout == 8;
    io.from[0] = io.fmt && planned < 8 ? &p->lowbit[i].to_int8 : NULL; /* codes read by an 8-bit tile */
    io.from[1] = !io.fmt ? &p->lowbit[i].to_codes : NULL;              /* 8 bits read by a low-bit tile */
    return io;
}

qmcu_status qmcu_lowbit_run_tile_ops(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int n_ops,
                                     const qmcu_run_options *opt)
{
    qmcu_run_stats *const stats = opt ? opt->stats : NULL;
    const int no_vdpc = opt ? opt->no_vdpc : 0;
    const qmcu_graph *g = m->g;
    unsigned char fmt[QMCU_LOWBIT_MAX_TENSORS]; /* bits and storage of each tensor on this tile */
    int switched = 0, i;
    qmcu_status st = QMCU_OK;
    if (g->n_tensors > QMCU_LOWBIT_MAX_TENSORS) return QMCU_ERR_UNSUPPORTED;
    memset(fmt, 8 | 8 << 4, (size_t)g->n_tensors);
    if (opt && opt->tile_switch) opt->tile_switch[tile] = -1;
    for (i = 0; i < n_ops && i < p->split && st == QMCU_OK; i++) {
        const qmcu_op *op = &g->ops[i];
        const qmcu_window r = qmcu_tile_region(p, tile, i);
        const int cached = p->halo && p->halo[i];
        const qmcu_window w = cached ? qmcu_halo_compute_window(p, tile, i) : r; /* what this tile computes */
        const int b0 = fmt_bits(fmt, op->in[0]), b1 = op->type == QMCU_OP_ADD ? fmt_bits(fmt, op->in[1]) : 8;
        const int lowbit_op = qmcu_op_has(op->type, QMCU_OPT_LOWBIT_READER) && QMCU_TENSOR(m, op->out)->type == QMCU_I8;
        /* the map's bits on normal tiles (a PAD output has its source's): its caches hold that format */
        const int planned =
            lowbit_op && op->out != p->split_tensor ? p->lowbit_bits[qmcu_pad_source(g, p->split, op->out)] : 8;
        const int bytewise = (p->lowbit_keep && p->lowbit_keep[op->out]) || cached;
        int bout = 8, outlier = 0;
        settle_state ss;
        if (qmcu_window_empty(r)) continue;
        if (qmcu_op_hook) qmcu_op_hook(i, 0);
        if (lowbit_op) {
            if (op->type == QMCU_OP_PAD)
                bout = b0;
            else if (!switched && op->out != p->split_tensor)
                bout = p->lowbit_bits[op->out];
        }
        if (b0 == 8 && b1 == 8 && bout == 8 && !cached) {
            st = qmcu_exec_run_op(m, p, mem, tile, i); /* the 8-bit path of patch mode */
        } else {
            qmcu_halo_io io = halo_io(p, i, planned, bout);
            if (cached) st = qmcu_exec_halo_copy_in(m, p, mem, tile, i, &io);
            /* VDPC: the map's threshold; pad copies codes (never an outlier); the ablation never falls back */
            ss.bits = bout;
            ss.tau = op->type == QMCU_OP_PAD || bout == 8 || no_vdpc ? -1 : p->lowbit_tau[op->out];
            ss.keep = p->lowbit_keep && p->lowbit_keep[op->out];
            ss.bytewise = bytewise;
            if (st == QMCU_OK)
                st = b0 == 8 && b1 == 8 && bout == 8 ? qmcu_exec_run_window(m, p, mem, tile, i, w)
                                                     : run_lowbit_op(m, p, mem, tile, i, w, b0, b1, &ss, fmt, &outlier);
            if (st == QMCU_OK && outlier) { /* VDPC: this feature map and the rest of the tile at 8 bits */
                switched = 1;
                if (opt && opt->tile_switch) opt->tile_switch[tile] = (int16_t)i;
                bout = ss.bits = 8;
                ss.tau = -1;
                io = halo_io(p, i, planned, bout);
                if (cached) st = qmcu_exec_halo_copy_in(m, p, mem, tile, i, &io);
                if (st == QMCU_OK)
                    st = b0 == 8 && b1 == 8 ? qmcu_exec_run_window(m, p, mem, tile, i, w)
                                            : run_lowbit_op(m, p, mem, tile, i, w, b0, b1, &ss, fmt, &outlier);
            } else if (stats && op->type != QMCU_OP_PAD && bout < 8) { /* the readers' extra MACs on kept outliers */
                stats->lowbit_values += ss.values;
                stats->outlier_values += ss.count;
                if (ss.keep) stats->patch_bitops += (int64_t)ss.count * p->lowbit_outlier_macs[op->out] * 64;
            }
            if (cached && st == QMCU_OK) qmcu_exec_halo_save(m, p, mem, tile, i, &io);
        }
        if (qmcu_op_hook) qmcu_op_hook(i, 1);
        fmt[op->out] = (unsigned char)(bout | (byte_stored(bout, bytewise) ? 8 : bout) << 4); /* as produced */
        if (stats && qmcu_is_conv(op->type) && !qmcu_window_empty(w))
            stats->patch_bitops += p->lowbit[i].macs_per_pixel * (int64_t)(w.h1 - w.h0) * (w.w1 - w.w0) * 8 * b0;
    }
    if (stats) {
        stats->tiles++;
        stats->outlier_tiles += switched;
    }
    return st;
}
