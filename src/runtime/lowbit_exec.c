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
    int v3; /* version 3 storage (qmcu_store_unpack), else qmcu_unpack's */
} lb_view;


/* Codes of pixels [x0, x1) of row y. */
static const int8_t *span_of(const lb_view *v, int32_t c, int32_t y, int32_t x0, int32_t x1, int8_t *stage)
{
    const int64_t start = ((int64_t)(y - v->b.h0) * (v->b.w1 - v->b.w0) + (x0 - v->b.w0)) * c;
    if (v->bits == 8) return (const int8_t *)v->ptr + start;
    if (v->v3)
        qmcu_store_unpack(v->bits, c, v->ptr, start, (x1 - x0) * c, stage);
    else
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
    int store;              /* bits per stored code of the output (8: one per byte; else qmcu_store_pack) */
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

/* Version 3: n codes of a row settled and packed into dst at code index `at` (s->store bits); 1
 * when the tile has become an outlier tile. Codes the bounds cannot touch: one pass. */
static int settle_pack(settle_state *s, int8_t *codes, int32_t n, uint8_t *dst, int64_t at)
{
    if (s->bits == s->store && !s->keep && (!s->code_max || s->code_max_above)) {
        s->values += n;
        s->count += qmcu_store_pack_saturate(s->store, s->channels, codes, n, s->code_max, dst, at);
        return s->tau >= 0 && s->count > s->tau;
    }
    if (settle_codes(s, codes, n)) return 1;
    qmcu_store_pack(s->store, s->channels, codes, n, dst, at);
    return 0;
}

/* A new op's settling (bits, tau, keep, bytewise set): the variant's per-channel bounds. */
static void settle_begin(settle_state *s, const qmcu_lowbit_variant *v, int32_t channels)
{
    int32_t c;
    s->code_max = s->bits < 8 ? v->code_max : NULL;
    s->channels = channels;
    s->count = s->values = 0;
    s->code_max_above = 1;
    for (c = 0; s->code_max && c < channels; c++) s->code_max_above &= s->code_max[c] >= (1 << s->bits) - 1;
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
    in0.v3 = p->lowbit_store != NULL;
    out.ptr = mem + p->tensor_offset[op->out];
    out.b = qmcu_tile_buffer_region(p, tile, i, op->out);
    out.bits = bout;
    in1 = in0;
    if (op->type == QMCU_OP_ADD) {
        in1.ptr = mem + p->tensor_offset[op->in[1]];
        in1.b = qmcu_tile_buffer_region(p, tile, i, op->in[1]);
        in1.bits = fmt_store(fmt, op->in[1]);
        in1.v3 = in0.v3;
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
        int8_t *const dst = ss->store == 8 ? (int8_t *)out.ptr + out_start : stage_out;
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
        if (dst == stage_out && in0.v3) {
            if (settle_pack(ss, dst, n, out.ptr, out_start)) {
                *outlier = 1;
                return QMCU_OK;
            }
            continue;
        }
        if (settle_codes(ss, dst, n)) {
            *outlier = 1;
            return QMCU_OK;
        }
        if (dst == stage_out) qmcu_pack(ss->store, stage_out, n, out.ptr, out_start);
    }
    return QMCU_OK;
}

/* A conv / depthwise format combination as kernel parameters (cp: its storage). */
static void conv_override_of(const qmcu_lowbit_variant *v, int b0, qmcu_conv_params *cp, qmcu_conv_override *ov)
{
    *cp = v->conv;
    /* 2-bit codes, the zero point (padding value) among them: lane-packed GEMM on Cortex-M */
    cp->input_code_bits = b0 == 2 && -cp->input_offset >= 0 && -cp->input_offset <= 3 ? 2 : 0;
    ov->conv = cp;
    ov->rq = &v->rq;
    ov->bias = v->bias;
    ov->weights = v->weights;
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
    conv_override_of(v, b0, &cp, &ov);
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
    settle_begin(ss, &p->lowbit[i].v[(b0 < 8) | ((b1 < 8) << 1) | ((ss->bits < 8) << 2)],
                 QMCU_TENSOR(m, op->out)->dims[3]);
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

/* ---- version 3: packed storage, buffers sized for the planned bits, 8-bit sub-tiles for outlier tiles ---- */

/* Rows of op i's input one output row reads (kernel height with dilation), within buffer region b. */
static int32_t rows_per_output_row(const qmcu_model *m, int i, qmcu_window b)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *w = QMCU_TENSOR(m, op->in[1]);
    const int32_t rows = (w->dims[1] - 1) * op->dil_h + 1;
    return rows < b.h1 - b.h0 ? rows : b.h1 - b.h0;
}

/* The row staging of op i at the start of its scratch: the unpacked input rows one output row
 * reads (input buffer region b, packed input), then one output row of out_w pixels (packed
 * output). Returns its bytes; *out_at: where the output row starts. */
static size_t staging_layout(const qmcu_model *m, int i, qmcu_window b, int32_t out_w, int in_store, int out_store,
                             size_t *out_at)
{
    const qmcu_op *op = &m->g->ops[i];
    size_t s = 0;
    if (in_store < 8)
        s = qmcu_align16((size_t)rows_per_output_row(m, i, b) * (size_t)(b.w1 - b.w0) *
                         (size_t)QMCU_TENSOR(m, op->in[0])->dims[3]);
    *out_at = s;
    if (out_store < 8) s += qmcu_align16((size_t)out_w * (size_t)QMCU_TENSOR(m, op->out)->dims[3]);
    return s;
}

size_t qmcu_lowbit_packed_conv_scratch(const qmcu_model *m, const qmcu_exec_plan *p, int tile, int i, int in_store,
                                       int out_store)
{
    const qmcu_window b = qmcu_tile_buffer_region(p, tile, i, m->g->ops[i].in[0]), r = qmcu_tile_region(p, tile, i);
    const qmcu_window row = {r.h0, r.h0 + 1, r.w0, r.w1};
    size_t out_at;
    if (qmcu_window_empty(r)) return 0;
    return staging_layout(m, i, b, r.w1 - r.w0, in_store, out_store, &out_at) + qmcu_exec_conv_rows_scratch(m, i, b, row);
}

/* Conv / depthwise op i of a version 3 tile on output window w of its region, row by row: the
 * input rows a row reads unpacked into scratch (rows already there from the row before move up,
 * so every code is unpacked once), the kernel run with the format combination's parameters, the
 * output row settled (VDPC) and packed into place. Stops with *outlier = 1 at the row where more
 * than tau codes have fallen outside the output's range. */
static qmcu_status run_packed_conv(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                   qmcu_window w, int b0, settle_state *ss, const unsigned char *fmt, int *outlier)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_lowbit_variant *v = &p->lowbit[i].v[(b0 < 8) | ((ss->bits < 8) << 2)];
    const int x = op->in[0], in_store = fmt_store(fmt, x), out_store = fmt_store(fmt, op->out);
    const qmcu_window bin = qmcu_tile_buffer_region(p, tile, i, x), r = qmcu_tile_buffer_region(p, tile, i, op->out);
    const int32_t cin = QMCU_TENSOR(m, x)->dims[3], cout = QMCU_TENSOR(m, op->out)->dims[3];
    const size_t in_row = (size_t)(bin.w1 - bin.w0) * (size_t)cin;
    const int32_t n = (w.w1 - w.w0) * cout;
    uint8_t *const xbuf = mem + p->tensor_offset[x], *const ybuf = mem + p->tensor_offset[op->out];
    uint8_t *const stage_in = mem + p->scratch_offset[i], *stage_out, *kscratch;
    size_t used, out_at0;
    int32_t have0 = 0, have1 = 0, y, block;
    qmcu_conv_params cp;
    qmcu_conv_override ov;
    if (!v->valid) return QMCU_ERR_ARG;
    used = staging_layout(m, i, bin, w.w1 - w.w0, in_store, out_store, &out_at0);
    stage_out = stage_in + out_at0;
    kscratch = stage_in + used;
    if (used > p->scratch_bytes[i]) return QMCU_ERR_NOMEM;
    conv_override_of(v, b0, &cp, &ov);
    /* with neither side packed, blocks of rows over the whole buffer width in one call */
    block = in_store == 8 && out_store == 8 && w.w0 == r.w0 && w.w1 == r.w1 ? QMCU_LOWBIT_ROW_BLOCK : 1;
    *outlier = 0;
    for (y = w.h0; y < w.h1; y += block) {
        const qmcu_window row = {y, y + block < w.h1 ? y + block : w.h1, w.w0, w.w1};
        const int64_t out_at = ((int64_t)(y - r.h0) * (r.w1 - r.w0) + (w.w0 - r.w0)) * cout; /* code index in its buffer */
        qmcu_window in_b = bin;
        const uint8_t *in_ptr = xbuf;
        int8_t *dst = out_store < 8 ? (int8_t *)stage_out : (int8_t *)ybuf + out_at;
        qmcu_status st;
        if (in_store < 8) {
            const qmcu_window need = qmcu_op_input_window(m->g, op, row);
            const int32_t n0 = need.h0 > bin.h0 ? need.h0 : bin.h0, n1 = need.h1 < bin.h1 ? need.h1 : bin.h1;
            int32_t from = n0;
            if (n0 >= have0 && n0 < have1) { /* rows [n0, have1) are staged already: move them up */
                memmove(stage_in, stage_in + (size_t)(n0 - have0) * in_row, (size_t)(have1 - n0) * in_row);
                from = have1;
            }
            if (n1 > from)
                qmcu_store_unpack(in_store, cin, xbuf, (int64_t)(from - bin.h0) * (int64_t)in_row,
                                  (int32_t)((n1 - from) * (int64_t)in_row), (int8_t *)stage_in + (size_t)(from - n0) * in_row);
            have0 = n0;
            have1 = n1 > from ? n1 : have1;
            in_b.h0 = n0;
            in_b.h1 = n1;
            in_ptr = stage_in;
        }
        st = qmcu_exec_conv_rows_from(m, i, in_b, in_ptr, row, dst, kscratch, p->scratch_bytes[i] - used, &ov);
        if (st != QMCU_OK) return st;
        if (out_store < 8 ? settle_pack(ss, dst, n, ybuf, out_at) : settle_codes(ss, dst, n * (row.h1 - row.h0))) {
            *outlier = 1;
            return QMCU_OK;
        }
    }
    return QMCU_OK;
}

/* An outlier tile (version 3): its part of S again, all 8 bits, as the plan's sub-tiles (every
 * halo recomputed from the input; their 8-bit buffers fit the low-bit ones), each saving what
 * the tile owes its neighbours' caches in the caches' format. */
static qmcu_status run_fallback(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int n_ops,
                                qmcu_run_stats *stats)
{
    const int nsub = p->fallback_h * p->fallback_w;
    qmcu_exec_plan sub = *p;
    int s, i;
    sub.grid_h = p->fallback_h;
    sub.grid_w = p->fallback_w;
    sub.n_tiles = nsub;
    sub.region = p->fallback_region + (size_t)tile * (size_t)nsub * (size_t)p->split;
    sub.halo = NULL;
    sub.lowbit_bits = sub.lowbit_keep = sub.lowbit_store = NULL;
    sub.lowbit_tau = sub.lowbit_outlier_macs = NULL;
    sub.lowbit = NULL;
    sub.run_lowbit_tile = NULL;
    if (!p->fallback_region || nsub <= 0) return QMCU_ERR_ARG;
    for (s = 0; s < nsub; s++)
        for (i = 0; i < n_ops && i < p->split; i++) {
            const qmcu_window r = qmcu_tile_region(&sub, s, i);
            qmcu_status st;
            if (qmcu_window_empty(r)) continue;
            if (qmcu_op_hook) qmcu_op_hook(i, 0);
            st = qmcu_exec_run_op(m, &sub, mem, s, i);
            if (qmcu_op_hook) qmcu_op_hook(i, 1);
            if (st != QMCU_OK) return st;
            if (p->halo && p->halo[i]) {
                const int t = m->g->ops[i].out;
                const qmcu_view src = qmcu_view_of(m, &sub, mem, s, i, t);
                const int low = p->lowbit_bits[qmcu_pad_source(m->g, p->split, t)] < 8 && t != p->split_tensor;
                qmcu_exec_halo_save_from(m, p, mem, tile, i, &src, low ? &p->lowbit[i].to_codes : NULL);
            }
            if (stats && qmcu_is_conv(m->g->ops[i].type))
                stats->patch_bitops += p->lowbit[i].macs_per_pixel * (int64_t)(r.h1 - r.h0) * (r.w1 - r.w0) * 64;
        }
    return QMCU_OK;
}

/* A tile of a version 3 plan: every map in its planned format (packed where stored so); the
 * first op whose output has more than tau codes outside its range (VDPC) stops the tile, which
 * then runs as 8-bit sub-tiles. */
static qmcu_status run_tile_packed(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int n_ops,
                                   const qmcu_run_options *opt)
{
    qmcu_run_stats *const stats = opt ? opt->stats : NULL;
    const int no_vdpc = opt ? opt->no_vdpc : 0;
    const qmcu_graph *g = m->g;
    unsigned char fmt[QMCU_LOWBIT_MAX_TENSORS]; /* bits and storage of each tensor on this tile */
    int i;
    if (g->n_tensors > QMCU_LOWBIT_MAX_TENSORS) return QMCU_ERR_UNSUPPORTED;
    memset(fmt, 8 | 8 << 4, (size_t)g->n_tensors);
    if (opt && opt->tile_switch) opt->tile_switch[tile] = -1;
    if (stats) stats->tiles++;
    for (i = 0; i < n_ops && i < p->split; i++) {
        const qmcu_op *op = &g->ops[i];
        const qmcu_window r = qmcu_tile_region(p, tile, i);
        const int cached = p->halo && p->halo[i];
        const qmcu_window w = cached ? qmcu_halo_compute_window(p, tile, i) : r;
        const int b0 = fmt_bits(fmt, op->in[0]), b1 = op->type == QMCU_OP_ADD ? fmt_bits(fmt, op->in[1]) : 8;
        const int lowbit_op = qmcu_op_has(op->type, QMCU_OPT_LOWBIT_READER) && QMCU_TENSOR(m, op->out)->type == QMCU_I8;
        int bout = 8, store = 8, outlier = 0;
        qmcu_status st = QMCU_OK;
        if (qmcu_window_empty(r)) continue;
        if (lowbit_op && op->out != p->split_tensor) {
            bout = op->type == QMCU_OP_PAD ? b0 : p->lowbit_bits[op->out];
            store = op->type == QMCU_OP_PAD ? fmt_store(fmt, op->in[0]) : p->lowbit_store[op->out];
        }
        fmt[op->out] = (unsigned char)(bout | store << 4);
        if (qmcu_op_hook) qmcu_op_hook(i, 0);
        if (b0 == 8 && b1 == 8 && bout == 8) {
            st = qmcu_exec_run_op(m, p, mem, tile, i); /* the 8-bit path of patch mode (caches of 8-bit maps too) */
        } else {
            settle_state ss;
            ss.bits = bout;
            /* VDPC: the map's threshold, where the plan has sub-tiles to fall back to */
            ss.tau = op->type == QMCU_OP_PAD || bout == 8 || no_vdpc || !p->fallback_region ? -1 : p->lowbit_tau[op->out];
            ss.keep = store == 8 && p->lowbit_keep && p->lowbit_keep[op->out];
            ss.bytewise = store == 8;
            ss.store = store;
            if (cached) st = qmcu_exec_halo_copy_in(m, p, mem, tile, i, NULL);
            if (st == QMCU_OK) {
                settle_begin(&ss, &p->lowbit[i].v[(b0 < 8) | ((b1 < 8) << 1) | ((bout < 8) << 2)],
                             QMCU_TENSOR(m, op->out)->dims[3]);
                st = qmcu_is_conv(op->type) ? run_packed_conv(m, p, mem, tile, i, w, b0, &ss, fmt, &outlier)
                                            : run_staged(m, p, mem, tile, i, w, b0, b1, &ss, fmt, &outlier);
            }
            if (st == QMCU_OK && outlier) { /* VDPC: the tile again, 8-bit sub-tiles */
                if (qmcu_op_hook) qmcu_op_hook(i, 1);
                if (opt && opt->tile_switch) opt->tile_switch[tile] = (int16_t)i;
                if (stats) stats->outlier_tiles++;
                return run_fallback(m, p, mem, tile, n_ops, stats);
            }
            if (opt && opt->map_outliers && op->type != QMCU_OP_PAD && bout < 8)
                opt->map_outliers[(size_t)tile * (size_t)g->n_tensors + (size_t)op->out] = ss.count;
            if (stats && op->type != QMCU_OP_PAD && bout < 8) {
                stats->lowbit_values += ss.values;
                stats->outlier_values += ss.count;
                if (ss.keep) stats->patch_bitops += (int64_t)ss.count * p->lowbit_outlier_macs[op->out] * 64;
            }
            if (cached && st == QMCU_OK) qmcu_exec_halo_save(m, p, mem, tile, i, NULL);
        }
        if (qmcu_op_hook) qmcu_op_hook(i, 1);
        if (st != QMCU_OK) return st;
        if (stats && qmcu_is_conv(op->type) && !qmcu_window_empty(w))
            stats->patch_bitops += p->lowbit[i].macs_per_pixel * (int64_t)(w.h1 - w.h0) * (w.w1 - w.w0) * 8 * b0;
    }
    return QMCU_OK;
}

qmcu_status qmcu_lowbit_run_tile_ops(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int n_ops,
                                     const qmcu_run_options *opt)
{
    if (p->lowbit_store) return run_tile_packed(m, p, mem, tile, n_ops, opt);
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
            ss.store = byte_stored(bout, bytewise) ? 8 : bout;
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
