#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/lowbit_exec.h"
#include "memory_planner.h"

#define T(g, i) (&(g)->tensors[(i)])

static int is_activation(const qmcu_graph *g, int t) { return t >= 0 && !T(g, t)->data; }


/* Last op reading t (-1 if none). */
static int last_consumer(const qmcu_graph *g, int t)
{
    int i, j, last = -1;
    for (i = 0; i < g->n_ops; i++)
        for (j = 0; j < g->ops[i].n_in; j++)
            if (g->ops[i].in[j] == t) last = i;
    return last;
}

static int is_nhwc1(const qmcu_tensor *t) { return t->ndim == 4 && t->dims[0] == 1; }

static int same_shape(const qmcu_tensor *a, const qmcu_tensor *b)
{
    return a->ndim == b->ndim && !memcmp(a->dims, b->dims, sizeof(int32_t) * (size_t)a->ndim);
}

/* Ops that compute each output pixel from a bounded input window. */
static int spatially_local(const qmcu_graph *g, const qmcu_op *op)
{
    const qmcu_tensor *y = T(g, op->out);
    int j;
    if (qmcu_op_is_hybrid(g, op)) return 0; /* its input is quantized with the whole tensor's range */
    if (op->type == QMCU_OP_RESIZE_BILINEAR || op->type == QMCU_OP_RESIZE_NEAREST_NEIGHBOR) return 1;
    if (qmcu_op_has(op->type, QMCU_OPT_WINDOW)) return 1;
    if (op->type == QMCU_OP_PAD) /* spatial padding only */
        return !op->pads[0][0] && !op->pads[0][1] && !op->pads[3][0] && !op->pads[3][1];
    if (!qmcu_op_has(op->type, QMCU_OPT_ELEMENTWISE)) return 0;
    for (j = 0; j < op->n_in; j++) /* element-wise: no broadcasting, but for a per-channel or scalar constant */
        if (!same_shape(T(g, op->in[j]), y) && qmcu_op_channel_constant(g, op) != j + 1) return 0;
    return 1;
}

int qmcu_split_is_lowbit_capable(const qmcu_graph *g, int split, qmcu_error *err)
{
    int i;
    for (i = 0; i < split && i < g->n_ops; i++) /* low-bit maps are read from activations of one 8-bit type */
        if (qmcu_op_channel_constant(g, &g->ops[i]) || g->ops[i].type == QMCU_OP_CAST) {
            qmcu_error_set(err,
                           "%s: QuantMCU: op %d %s (a constant input or a type change) in the patch stage is not "
                           "supported; split before it or run the plan at 8 bits",
                           g->path, i, qmcu_op_name(g->ops[i].type));
            return 0;
        }
    return 1;
}

int qmcu_split_is_legal(const qmcu_graph *g, int split, char *why, size_t why_len)
{
    int i, j, s;
    if (split < 1 || split > g->n_ops) {
        snprintf(why, why_len, "split %d is outside 1..%d", split, g->n_ops);
        return 0;
    }
    s = g->ops[split - 1].out;
    for (i = 0; i < split; i++) {
        const qmcu_op *op = &g->ops[i];
        if (!spatially_local(g, op)) {
            snprintf(why, why_len, "op %d %s is not spatially local (a patch stage ends before it)", i,
                     qmcu_op_name(op->type));
            return 0;
        }
        if (!is_nhwc1(T(g, op->out))) {
            snprintf(why, why_len, "op %d %s does not produce a 1xHxWxC tensor", i, qmcu_op_name(op->type));
            return 0;
        }
        for (j = 0; j < op->n_in; j++) {
            const int t = op->in[j];
            int p;
            if (!is_activation(g, t)) continue;
            p = qmcu_graph_producer(g, t, g->n_ops);
            if (!is_nhwc1(T(g, t)) || (p < 0 && !qmcu_graph_is_input(g, t))) {
                snprintf(why, why_len,
                         "op %d %s reads tensor %d, which is not a 1xHxWxC model input or patch-stage result", i,
                         qmcu_op_name(op->type), t);
                return 0;
            }
        }
        if (op->out != s && (last_consumer(g, op->out) >= split || qmcu_graph_is_output(g, op->out))) {
            snprintf(why, why_len, "tensor %d (op %d) is used after op %d: only op %d's output may cross the split",
                     op->out, i, split - 1, split - 1);
            return 0;
        }
    }
    for (i = 0; i < g->n_inputs; i++)
        if (last_consumer(g, g->inputs[i]) >= split) {
            snprintf(why, why_len, "the model input is used after op %d", split - 1);
            return 0;
        }
    return 1;
}

static qmcu_window clip(qmcu_window r, const qmcu_tensor *t)
{
    if (r.h0 < 0) r.h0 = 0;
    if (r.w0 < 0) r.w0 = 0;
    if (r.h1 > t->dims[1]) r.h1 = t->dims[1];
    if (r.w1 > t->dims[2]) r.w1 = t->dims[2];
    return r;
}

static qmcu_window hull(qmcu_window a, qmcu_window b)
{
    if (qmcu_window_empty(a)) return b;
    if (qmcu_window_empty(b)) return a;
    if (b.h0 < a.h0) a.h0 = b.h0;
    if (b.w0 < a.w0) a.w0 = b.w0;
    if (b.h1 > a.h1) a.h1 = b.h1;
    if (b.w1 > a.w1) a.w1 = b.w1;
    return a;
}

static int64_t area(qmcu_window r) { return qmcu_window_empty(r) ? 0 : (int64_t)(r.h1 - r.h0) * (r.w1 - r.w0); }

static size_t region_bytes(const qmcu_tensor *t, qmcu_window r)
{
    return (size_t)area(r) * (size_t)t->dims[3] * qmcu_dtype_size(t->type);
}

/* Version 3: bits per stored code the plan sizes tensor t for: 4 / 2 packed, 8 a code per byte,
 * 0 not known yet (sized for 8 bits, rows staged as if packed). Maps produced in the patch
 * stage (not S) only. */
int qmcu_plan_lowbit_map(const qmcu_plan *p, int t)
{
    const qmcu_tensor *x = T(p->g, t);
    return t != p->split_tensor && qmcu_graph_producer(p->g, t, p->spec.split) >= 0 && x->type == QMCU_I8 &&
           x->ndim == 4;
}

static int plan_store(const qmcu_plan *p, int t)
{
    if (!p->spec.packed || !qmcu_plan_lowbit_map(p, t)) return 8;
    if (!p->spec.tensor_bits) return 0;
    return qmcu_lowbit_store_bits(p->spec.tensor_bits[qmcu_pad_source(p->g, p->spec.split, t)], T(p->g, t)->dims[3]);
}

/* Bytes of region r of tensor t as the plan stores it. */
static size_t stored_region_bytes(const qmcu_plan *p, int t, qmcu_window r)
{
    const int st = plan_store(p, t);
    if (st > 0 && st < 8) return qmcu_stored_bytes(st, area(r) * T(p->g, t)->dims[3]);
    return region_bytes(T(p->g, t), r);
}

static qmcu_status nomem(const qmcu_graph *g, qmcu_error *err)
{
    qmcu_error_set(err, "%s: out of memory", g->path);
    return QMCU_ERR_NOMEM;
}

/* Can patch op i cache its halo? Its tile regions must be non-empty, the same rows along a row of
 * tiles and the same columns along a column, and move forward from tile to tile (raster order
 * then meets every element before it is needed again); S itself has no halo. */
static int can_cache(const qmcu_plan *p, int i)
{
    const int gw = p->spec.grid_w;
    int tile;
    if (p->g->ops[i].out == p->split_tensor) return 0;
    for (tile = 0; tile < p->n_tiles; tile++) {
        const qmcu_window r = qmcu_tile_region(&p->exec, tile, i);
        if (qmcu_window_empty(r)) continue; /* a trailing tile whose consumers' neighbours did it all */
        if (tile % gw > 0) {
            const qmcu_window l = qmcu_tile_region(&p->exec, tile - 1, i);
            if (qmcu_window_empty(l) || l.h0 != r.h0 || l.h1 != r.h1 || l.w0 > r.w0 || l.w1 > r.w1) return 0;
        }
        if (tile >= gw) {
            const qmcu_window u = qmcu_tile_region(&p->exec, tile - gw, i);
            if (qmcu_window_empty(u) || u.w0 != r.w0 || u.w1 != r.w1 || u.h0 > r.h0 || u.h1 > r.h1) return 0;
        }
    }
    return 1;
}

/* Halo strategy of patch op i (its tile regions known) and the caches it needs. */
static void choose_halo(qmcu_plan *p, int i)
{
    const qmcu_graph *g = p->g;
    const int gw = p->spec.grid_w;
    const qmcu_tensor *y = T(g, g->ops[i].out);
    const int st = plan_store(p, g->ops[i].out);
    const size_t px = st > 0 && st < 8 ? (size_t)y->dims[3] * (size_t)st / 8 : (size_t)y->dims[3] * qmcu_dtype_size(y->type);
    int f = (p->spec.halo_ops ? p->spec.halo_ops[i] : p->spec.halo) & QMCU_HALO_CACHED, tile;
    if (f & QMCU_HALO_ROWS) f |= QMCU_HALO_COLS;
    if (!f || !can_cache(p, i)) return;
    for (tile = 0; tile < p->n_tiles; tile++) {
        const qmcu_window r = qmcu_tile_region(&p->exec, tile, i);
        if (tile % gw + 1 < gw) { /* columns the next tile of the row reads again */
            const qmcu_window n = qmcu_tile_region(&p->exec, tile + 1, i);
            const size_t b =
                !qmcu_window_empty(n) && n.w0 < r.w1 ? (size_t)(r.h1 - r.h0) * (size_t)(r.w1 - n.w0) * px : 0;
            if (b > p->col_cache_bytes[i]) p->col_cache_bytes[i] = b;
        }
        if ((f & QMCU_HALO_ROWS) && tile + gw < p->n_tiles) { /* rows the next row of tiles reads, full width */
            const qmcu_window n = qmcu_tile_region(&p->exec, tile + gw, i);
            const size_t b = !qmcu_window_empty(n) && n.h0 < r.h1 ? (size_t)(r.h1 - n.h0) * (size_t)y->dims[2] * px : 0;
            if (b > p->row_cache_bytes[i]) p->row_cache_bytes[i] = b;
        }
    }
    /* what does not overlap needs no cache */
    p->halo[i] =
        (unsigned char)((p->col_cache_bytes[i] ? QMCU_HALO_COLS : 0) | (p->row_cache_bytes[i] ? QMCU_HALO_ROWS : 0));
    if (p->halo[i] == QMCU_HALO_ROWS) p->halo[i] = QMCU_HALO_CACHED; /* one column of tiles: rows alone */
    if (p->spec.quantmcu && !p->spec.packed) { /* the format tags of QuantMCU caches (runtime/lowbit_exec.h) */
        if (p->col_cache_bytes[i]) p->col_cache_bytes[i] += 16;
        if (p->row_cache_bytes[i]) p->row_cache_bytes[i] += ((size_t)gw + 15) & ~(size_t)15;
    }
}

/* What op computing output window o reads of its activation inputs, added to their regions
 * (reg: per tensor). */
static void add_input_needs(const qmcu_graph *g, const qmcu_op *op, qmcu_window o, qmcu_window *reg)
{
    int j;
    for (j = 0; j < op->n_in; j++) {
        const int t = op->in[j];
        qmcu_window need;
        if (!is_activation(g, t) || (j > 0 && qmcu_is_conv(op->type))) continue;
        need = clip(qmcu_op_input_window(g, op, o), T(g, t));
        if (!qmcu_window_empty(need)) reg[t] = hull(reg[t], need);
    }
}

/* Regions per tile, walking back from S op by op: an op's region on a tile is the hull of what its
 * consumers compute there need (a cached consumer computes only the part its neighbours did not),
 * clipped to the tensor; then the op's halo strategy is settled on those regions. */
static void build_geometry(qmcu_plan *p)
{
    const qmcu_graph *g = p->g;
    const int k = p->spec.split, nt = g->n_tensors;
    const qmcu_tensor *s = T(g, p->split_tensor);
    int tile, i;
    for (i = 0; i < k; i++) p->patch_layer_macs += qmcu_op_macs(g, &g->ops[i]);
    for (tile = 0; tile < p->n_tiles; tile++)
        p->region[(size_t)tile * nt + p->split_tensor] = qmcu_grid_tile(
            s->dims[1], s->dims[2], p->spec.grid_h, p->spec.grid_w, tile / p->spec.grid_w, tile % p->spec.grid_w);
    for (i = k - 1; i >= 0; i--) {
        const qmcu_op *op = &g->ops[i];
        for (tile = 0; tile < p->n_tiles; tile++)
            p->op_region[(size_t)tile * k + i] = p->region[(size_t)tile * nt + op->out];
        choose_halo(p, i);
        for (tile = 0; tile < p->n_tiles; tile++) {
            qmcu_window *reg = p->region + (size_t)tile * nt;
            const qmcu_window o = qmcu_halo_compute_window(&p->exec, tile, i);
            if (!qmcu_window_empty(o)) add_input_needs(g, op, o, reg);
        }
    }
    for (tile = 0; tile < p->n_tiles; tile++) {
        const qmcu_window r = p->region[(size_t)tile * nt + g->inputs[0]];
        if (area(r) > (int64_t)p->input_patch_h * p->input_patch_w) {
            p->input_patch_h = r.h1 - r.h0;
            p->input_patch_w = r.w1 - r.w0;
        }
    }
}

/* Output pixels, rows and calls of patch op i over every tile: the part of each tile's region it
 * computes itself. */
static void patch_op_work(const qmcu_plan *p, int i, qmcu_op_work *w)
{
    int tile;
    w->pixels = w->rows = w->calls = 0;
    for (tile = 0; tile < p->n_tiles; tile++) {
        const qmcu_window c = qmcu_halo_compute_window(&p->exec, tile, i);
        if (qmcu_window_empty(c)) continue;
        w->pixels += area(c);
        w->rows += c.h1 - c.h0;
        w->calls++;
    }
}

void qmcu_plan_op_work(const qmcu_plan *p, int i, qmcu_op_work *w)
{
    const qmcu_tensor *y = T(p->g, p->g->ops[i].out);
    if (i < p->spec.split) {
        patch_op_work(p, i, w);
    } else {
        w->rows = y->ndim == 4 ? (int64_t)y->dims[0] * y->dims[1] : 1;
        w->pixels = w->rows * (y->ndim == 4 ? y->dims[2] : 1);
        w->calls = 1;
    }
    w->macs = p->op_macs[i];
}

/* MACs as executed: a patch op's MACs per output pixel times the pixels its tiles compute. */
static void count_macs(qmcu_plan *p)
{
    const qmcu_graph *g = p->g;
    int i;
    for (i = 0; i < g->n_ops; i++) {
        p->op_macs[i] = qmcu_op_macs(g, &g->ops[i]);
        if (i < p->spec.split) {
            const qmcu_tensor *y = T(g, g->ops[i].out);
            qmcu_op_work w;
            patch_op_work(p, i, &w);
            p->op_macs[i] = p->op_macs[i] / ((int64_t)y->dims[1] * y->dims[2]) * w.pixels;
            p->patch_macs += p->op_macs[i];
        }
        p->macs += p->op_macs[i];
    }
}

static size_t align16(size_t v) { return (v + 15) & ~(size_t)15; }

/* QuantMCU stages add / pad rows through unpacked int8 buffers: per output row, the input
 * row spans it reads and the output row. Conv and depthwise expand packed inputs in place in
 * their own (8-bit sized) buffers and need only their kernel scratch. */
static size_t lowbit_staging(const qmcu_plan *p, int tile, int i)
{
    const qmcu_graph *g = p->g;
    const qmcu_op *op = &g->ops[i];
    const qmcu_window r = p->region[(size_t)tile * g->n_tensors + op->out];
    if (op->type != QMCU_OP_ADD && op->type != QMCU_OP_PAD) return 0;
    return align16(qmcu_lowbit_stage_in_bytes(&p->exec, tile, i)) +
           align16((size_t)(r.w1 - r.w0) * T(g, op->out)->dims[3]);
}

/* Scratch of op i on one tile (or layer op): im2col / accumulators / in-place ring. */
static size_t op_scratch(const qmcu_plan *p, const qmcu_model *m, int tile, int i, int in_place)
{
    const qmcu_op *op = &p->g->ops[i];
    qmcu_conv_params cp;
    qmcu_dims in, out, fd;
    size_t skip;
    const qmcu_tensor *w;
    if (i >= p->spec.split && !in_place) return m->ops[i].scratch_bytes;
    if (!qmcu_is_conv(op->type)) return m->ops[i].scratch_bytes;
    if (T(p->g, op->out)->type != QMCU_I8) return 0;
    w = T(p->g, op->in[1]);
    fd = (qmcu_dims){w->dims[0], w->dims[1], w->dims[2], w->dims[3]};
    if (in_place) {
        qmcu_tile_op_call_whole(&p->exec, m, tile, i, &cp, &in, &out);
        return qmcu_depthwise_s8_inplace_scratch_size(&cp, &in, &out);
    }
    if (op->type == QMCU_OP_DEPTHWISE_CONV_2D) return m->ops[i].scratch_bytes;
    qmcu_tile_op_call(&p->exec, m, tile, i, qmcu_op_window(&p->exec, tile, i), &cp, NULL, &in, &out, &skip);
    return qmcu_conv_s8_scratch_size(&cp, &in, &fd, &out);
}

/* ---- version 3: the outlier tiles' 8-bit sub-tiles ---- */
static const int k_fallback_grids[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}, {2, 3}, {3, 2}, {3, 3}, {4, 4}};

/* The runtime's view of tile `tile`'s sub-tiles (qmcu_exec_plan of run_fallback, lowbit_exec.c). */
static qmcu_exec_plan fallback_view(const qmcu_plan *p, int tile)
{
    qmcu_exec_plan e = p->exec;
    const int nsub = p->fallback_h * p->fallback_w;
    e.grid_h = p->fallback_h;
    e.grid_w = p->fallback_w;
    e.n_tiles = nsub;
    e.region = p->fallback_region + (size_t)tile * (size_t)nsub * (size_t)p->spec.split;
    e.halo = NULL;
    return e;
}

/* Op output windows of an 8-bit tile computing window sw of S with every halo recomputed
 * (reg: per tensor, scratch). */
static void recompute_windows(const qmcu_plan *p, qmcu_window sw, qmcu_window *reg, qmcu_window *op_out)
{
    const qmcu_graph *g = p->g;
    int i;
    memset(reg, 0, sizeof *reg * (size_t)g->n_tensors);
    reg[p->split_tensor] = sw;
    for (i = p->spec.split - 1; i >= 0; i--) {
        const qmcu_op *op = &g->ops[i];
        op_out[i] = reg[op->out];
        if (!qmcu_window_empty(op_out[i])) add_input_needs(g, op, op_out[i], reg);
    }
}

/* Sub-windows of S: tile `tile` cut fh x fw, with their op windows, into out (nsub * split). */
static void fallback_windows(const qmcu_plan *p, int tile, int fh, int fw, qmcu_window *reg, qmcu_window *out)
{
    const qmcu_window t = p->region[(size_t)tile * p->g->n_tensors + p->split_tensor];
    int a;
    for (a = 0; a < fh * fw; a++) {
        qmcu_window sw = qmcu_grid_tile(t.h1 - t.h0, t.w1 - t.w0, fh, fw, a / fw, a % fw);
        if (!qmcu_window_empty(sw)) {
            sw.h0 += t.h0;
            sw.h1 += t.h0;
            sw.w0 += t.w0;
            sw.w1 += t.w0;
        }
        recompute_windows(p, sw, reg, out + (size_t)a * p->spec.split);
    }
}

/* Largest 8-bit buffer of patch tensor t over the sub-tiles in fb (n_tiles * nsub * split). */
static size_t fallback_tensor_bytes(const qmcu_plan *p, const qmcu_window *fb, int nsub, int t)
{
    const int i = qmcu_graph_producer(p->g, t, p->spec.split);
    size_t best = 0;
    int a;
    if (i < 0) return 0;
    for (a = 0; a < p->n_tiles * nsub; a++) {
        const size_t b = region_bytes(T(p->g, t), fb[(size_t)a * p->spec.split + i]);
        if (b > best) best = b;
    }
    return best;
}

/* Largest buffer of patch tensor t over the normal tiles, as stored. */
static size_t tile_tensor_bytes(const qmcu_plan *p, int t)
{
    size_t best = 0;
    int tile;
    for (tile = 0; tile < p->n_tiles; tile++) {
        const size_t b = stored_region_bytes(p, t, p->region[(size_t)tile * p->g->n_tensors + t]);
        if (b > best) best = b;
    }
    return best;
}

size_t qmcu_plan_patch_peak(const qmcu_plan *p, int *at)
{
    size_t best = 0;
    int i;
    for (i = 0; i < p->spec.split; i++)
        if (p->step_live_bytes[i] + p->scratch_bytes[i] > best) {
            best = p->step_live_bytes[i] + p->scratch_bytes[i];
            if (at) *at = i;
        }
    return best;
}

#define QMCU_FALLBACK_GRIDS ((int)(sizeof k_fallback_grids / sizeof k_fallback_grids[0]))

/* Records the windows of the spec's sub-grid and what its 8-bit sub-tiles add to the buffers
 * sized for the bits. */
static qmcu_status build_fallback(qmcu_plan *p)
{
    const qmcu_graph *g = p->g;
    const int nt = g->n_tensors, k = p->spec.split, c = p->spec.fallback_grid - 1;
    const int fh = k_fallback_grids[c][0], fw = k_fallback_grids[c][1], nsub = fh * fw;
    qmcu_window *reg = (qmcu_window *)malloc(sizeof *reg * (size_t)nt);
    int t, tile;
    p->fallback_region = (qmcu_window *)malloc(sizeof *p->fallback_region * (size_t)p->n_tiles * (size_t)nsub * (size_t)k);
    if (!reg || !p->fallback_region) {
        free(reg);
        return QMCU_ERR_NOMEM;
    }
    p->fallback_h = fh;
    p->fallback_w = fw;
    for (tile = 0; tile < p->n_tiles; tile++)
        fallback_windows(p, tile, fh, fw, reg, p->fallback_region + (size_t)tile * (size_t)nsub * (size_t)k);
    for (t = 0; t < nt; t++) {
        size_t f, n;
        if (!is_activation(g, t) || t == p->split_tensor || qmcu_graph_producer(g, t, k) < 0) continue;
        f = fallback_tensor_bytes(p, p->fallback_region, nsub, t);
        n = tile_tensor_bytes(p, t);
        if (f > n) p->fallback_excess_bytes += f - n;
    }
    free(reg);
    return QMCU_OK;
}

/* Version 3: both maps of a depthwise stay 8-bit on every tile (known only once the bits are):
 * it may run in place like in an int8 plan. */
static int eight_bit_maps(const qmcu_plan *p, int x, int y)
{
    const uint8_t *b = p->spec.tensor_bits;
    return p->spec.packed && b && b[qmcu_pad_source(p->g, p->spec.split, x)] == 8 && b[y] == 8;
}

/* Scratch of op i on the sub-tiles (8-bit kernels; in place: its row ring). */
static size_t fallback_scratch(const qmcu_plan *p, const qmcu_model *m, int i, int in_place)
{
    const qmcu_op *op = &p->g->ops[i];
    const int nsub = p->fallback_h * p->fallback_w;
    size_t best = m->ops[i].scratch_bytes;
    int tile, a;
    if (in_place) {
        for (tile = 0; tile < p->n_tiles; tile++) {
            const qmcu_exec_plan e = fallback_view(p, tile);
            for (a = 0; a < nsub; a++) {
                qmcu_conv_params cp;
                qmcu_dims in, out;
                size_t sz;
                if (qmcu_window_empty(qmcu_tile_region(&e, a, i))) continue;
                qmcu_tile_op_call_whole(&e, m, a, i, &cp, &in, &out);
                sz = qmcu_depthwise_s8_inplace_scratch_size(&cp, &in, &out);
                if (sz > best) best = sz;
            }
        }
        return best;
    }
    if (op->type != QMCU_OP_CONV_2D || T(p->g, op->out)->type != QMCU_I8) return best;
    for (tile = 0; tile < p->n_tiles; tile++) {
        const qmcu_exec_plan e = fallback_view(p, tile);
        for (a = 0; a < nsub; a++) {
            const qmcu_tensor *w = T(p->g, op->in[1]);
            const qmcu_dims fd = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]};
            qmcu_conv_params cp;
            qmcu_dims in, out;
            size_t skip, sz;
            if (qmcu_window_empty(qmcu_tile_region(&e, a, i))) continue;
            qmcu_tile_op_call(&e, m, a, i, qmcu_op_window(&e, a, i), &cp, NULL, &in, &out, &skip);
            sz = qmcu_conv_s8_scratch_size(&cp, &in, &fd, &out);
            if (sz > best) best = sz;
        }
    }
    return best;
}

static size_t max_over_tiles_scratch(const qmcu_plan *p, const qmcu_model *m, int i, int in_place)
{
    size_t best = 0, s;
    int tile;
    if (i >= p->spec.split) return op_scratch(p, m, 0, i, in_place);
    for (tile = 0; tile < p->n_tiles; tile++) {
        if (qmcu_window_empty(p->region[(size_t)tile * p->g->n_tensors + p->g->ops[i].out])) continue;
        s = op_scratch(p, m, tile, i, in_place);
        if (p->spec.quantmcu && qmcu_op_has(p->g->ops[i].type, QMCU_OPT_LOWBIT_READER) &&
            T(p->g, p->g->ops[i].out)->type == QMCU_I8) {
            const size_t st = lowbit_staging(p, tile, i);
            if (st > s) s = st;
            if (p->spec.packed && qmcu_is_conv(p->g->ops[i].type)) { /* row staging of packed maps */
                const int si = plan_store(p, p->g->ops[i].in[0]), so = plan_store(p, p->g->ops[i].out);
                const size_t sp = si < 8 || so < 8 ? qmcu_lowbit_packed_conv_scratch(m, &p->exec, tile, i, si ? si : 4,
                                                                                     so ? so : 4)
                                                   : 0;
                if (sp > s) s = sp;
            }
        }
        if (s > best) best = s;
    }
    if (p->spec.packed && p->fallback_region) { /* the 8-bit sub-tiles of an outlier tile */
        const size_t f = fallback_scratch(p, m, i, in_place);
        if (f > best) best = f;
    }
    return best;
}

static int root_of(const int *alias, int t)
{
    while (alias[t] >= 0) t = alias[t];
    return t;
}

/* Can conv i be fused with ADD i + 1, the ADD writing over its other input x? The conv's output
 * has no other reader, x none after the ADD; both ops in the same stage; in the patch stage the
 * ADD's output and x hold the same region on every tile, neither op caches and no QuantMCU. */
static int can_fuse_add(const qmcu_plan *p, const int *prod, const int *last_use, int i)
{
    const qmcu_graph *g = p->g;
    const qmcu_op *op = &g->ops[i], *add = i + 1 < g->n_ops ? &g->ops[i + 1] : NULL;
    const int k = p->spec.split;
    int x, readers = 0, j, q, tile;
    if (p->spec.no_fused_add || op->type != QMCU_OP_CONV_2D || !add || add->type != QMCU_OP_ADD) return 0;
    if (T(g, op->out)->type != QMCU_I8 || T(g, add->out)->type != QMCU_I8 || add->n_in != 2) return 0;
    if (add->in[0] == add->in[1] || (add->in[0] != op->out && add->in[1] != op->out)) return 0;
    x = add->in[0] == op->out ? add->in[1] : add->in[0];
    for (q = 0; q < g->n_ops; q++)
        for (j = 0; j < g->ops[q].n_in; j++) readers += g->ops[q].in[j] == op->out;
    if (readers != 1 || qmcu_graph_is_output(g, op->out) || !is_activation(g, x) || qmcu_graph_is_input(g, x) ||
        qmcu_graph_is_output(g, x) || last_use[x] != i + 1 || prod[x] < 0 || !same_shape(T(g, x), T(g, add->out)))
        return 0;
    if ((i < k) != (i + 1 < k)) return 0;
    if (i >= k ? prod[x] < k && x != p->split_tensor : prod[x] >= k) return 0; /* x full-size / a tile buffer */
    if (i < k) {
        if (p->spec.quantmcu || p->halo[i] || p->halo[i + 1] || add->out == p->split_tensor) return 0;
        for (tile = 0; tile < p->n_tiles; tile++) {
            const qmcu_window a = p->region[(size_t)tile * g->n_tensors + add->out];
            const qmcu_window b = p->region[(size_t)tile * g->n_tensors + x];
            if (a.h0 != b.h0 || a.h1 != b.h1 || a.w0 != b.w0 || a.w1 != b.w1) return 0;
        }
    }
    return 1;
}

/* RESIZE_BILINEAR i read only by ARG_MAX i + 1 over channels (after the patch stage): the resized map is
 * never stored, only one row of it at a time. */
static int can_fuse_resize_argmax(const qmcu_plan *p, int i)
{
    const qmcu_graph *g = p->g;
    const qmcu_op *op = &g->ops[i], *am = i + 1 < g->n_ops ? &g->ops[i + 1] : NULL;
    int readers = 0, j, q;
    if (i < p->spec.split || op->type != QMCU_OP_RESIZE_BILINEAR || !am || am->type != QMCU_OP_ARG_MAX) return 0;
    if (am->in[0] != op->out || am->axis != 3 || qmcu_graph_is_output(g, op->out)) return 0;
    for (q = 0; q < g->n_ops; q++)
        for (j = 0; j < g->ops[q].n_in; j++) readers += g->ops[q].in[j] == op->out;
    return readers == 1;
}

/* A fused op's scratch: its largest output row (the row buffer), then its own scratch. */
static size_t fused_row_bytes(const qmcu_plan *p, int i)
{
    const qmcu_tensor *y = T(p->g, p->g->ops[i].out);
    int32_t w = y->dims[2];
    int tile;
    if (i < p->spec.split)
        for (w = 0, tile = 0; tile < p->n_tiles; tile++) {
            const qmcu_window r = qmcu_tile_region(&p->exec, tile, i);
            if (r.w1 - r.w0 > w) w = r.w1 - r.w0;
        }
    return align16((size_t)w * (size_t)y->dims[3] * qmcu_dtype_size(y->type));
}

/* Working arrays of build_memory: per tensor its alias root, producer op and last reader. */
typedef struct {
    int *alias, *prod, *last_use;
    qmcu_buffer_life *life; /* one per tensor, one per op scratch, then per op its two halo caches */
} memory_work;

/* Producer and last reader of every tensor (once), and every buffer's size: tile-sized inside the
 * patch stage, full-size elsewhere. */
static void size_buffers(qmcu_plan *p, memory_work *w)
{
    const qmcu_graph *g = p->g;
    const int nt = g->n_tensors, k = p->spec.split;
    int i, j, t;
    for (t = 0; t < nt; t++) w->prod[t] = w->last_use[t] = w->alias[t] = -1;
    for (i = 0; i < g->n_ops; i++) {
        w->prod[g->ops[i].out] = i;
        for (j = 0; j < g->ops[i].n_in; j++)
            if (g->ops[i].in[j] >= 0) w->last_use[g->ops[i].in[j]] = i;
    }
    for (t = 0; t < nt; t++) {
        if (!is_activation(g, t)) continue;
        if (k > 0 && t != p->split_tensor && !qmcu_graph_is_input(g, t) && w->prod[t] >= 0 && w->prod[t] < k) {
            p->tensor_bytes[t] = tile_tensor_bytes(p, t);
            if (p->spec.packed && p->fallback_region) { /* an outlier tile's 8-bit sub-tiles use the same buffers */
                const size_t f = fallback_tensor_bytes(p, p->fallback_region, p->fallback_h * p->fallback_w, t);
                if (f > p->tensor_bytes[t]) p->tensor_bytes[t] = f;
            }
        } else {
            p->tensor_bytes[t] = T(g, t)->bytes;
        }
    }
}

/* Buffers shared by two tensors: fused conv + ADD (the conv's output is never stored, the ADD
 * writes over its other input), resize + arg max, and in-place depthwise where legal and where it
 * saves more than its row ring costs. */
static void share_buffers(qmcu_plan *p, const qmcu_model *m, memory_work *w)
{
    const qmcu_graph *g = p->g;
    const int no = g->n_ops, k = p->spec.split;
    int i;
    for (i = 0; i + 1 < no; i++)
        if (can_fuse_add(p, w->prod, w->last_use, i)) {
            const qmcu_op *add = &g->ops[i + 1];
            p->fused_next[i] = 1;
            p->tensor_bytes[g->ops[i].out] = 0;
            w->alias[add->out] = add->in[0] == g->ops[i].out ? add->in[1] : add->in[0];
        }
    for (i = 0; i + 1 < no; i++) /* resize + arg max: the class map is written while op i runs */
        if (can_fuse_resize_argmax(p, i)) {
            p->fused_next[i] = 1;
            p->tensor_bytes[g->ops[i].out] = 0;
            w->prod[g->ops[i + 1].out] = i;
        }
    for (i = 0; i < no; i++) {
        const qmcu_op *op = &g->ops[i];
        const int x = op->in[0], y = op->out;
        size_t ring;
        if (op->type != QMCU_OP_DEPTHWISE_CONV_2D || T(g, y)->type != QMCU_I8 || op->depth_multiplier != 1) continue;
        if (qmcu_graph_is_input(g, x) || qmcu_graph_is_output(g, x) || w->last_use[x] != i || y == p->split_tensor)
            continue;
        if (i < k && p->halo[i]) continue; /* a cached op keeps its own buffer */
        if ((i < k) != (w->prod[x] < k)) continue;
        if (i < k && p->spec.quantmcu && !eight_bit_maps(p, x, y)) continue; /* low-bit rows are staged */
        ring = max_over_tiles_scratch(p, m, i, 1);
        if (ring >= max_over_tiles_scratch(p, m, i, 0) +
                        (p->tensor_bytes[x] < p->tensor_bytes[y] ? p->tensor_bytes[x] : p->tensor_bytes[y]))
            continue;
        p->in_place[i] = 1;
        w->alias[y] = x;
    }
}

/* Lifetimes (step = op index; aliased tensors extend their root), scratch per op and the halo
 * caches (live while any tile runs). */
static void buffer_lifetimes(qmcu_plan *p, const qmcu_model *m, memory_work *w)
{
    const qmcu_graph *g = p->g;
    const int nt = g->n_tensors, no = g->n_ops, k = p->spec.split;
    qmcu_buffer_life *life = w->life;
    int i, j, t;
    for (t = 0; t < nt; t++) {
        life[t].first = no;
        life[t].last = -1;
    }
    for (t = 0; t < nt; t++) {
        int r, first, last;
        if (!is_activation(g, t)) continue;
        r = root_of(w->alias, t);
        first = qmcu_graph_is_input(g, t) ? 0 : w->prod[t];
        if (first < 0) continue;             /* neither input nor produced: unused */
        if (t == p->split_tensor) first = 0; /* every tile writes into S */
        last = w->last_use[t];
        if (qmcu_graph_is_output(g, t)) last = no - 1;
        if (k > 0 && qmcu_graph_is_input(g, t) && last < k - 1) last = k - 1; /* every tile reads the input */
        if (last < first) last = first;
        if (first < life[r].first) life[r].first = first;
        if (last > life[r].last) life[r].last = last;
        if (p->tensor_bytes[t] > life[r].size) life[r].size = p->tensor_bytes[t];
    }
    for (t = 0; t < nt; t++) {
        if (life[t].last < life[t].first) {
            life[t].size = 0;
            life[t].first = 0;
            life[t].last = -1;
        }
        if (qmcu_graph_is_input(g, t)) {
            p->input_bytes += life[t].size;
            if (!p->spec.input_in_sram) life[t].size = 0;
        }
    }
    for (i = 0; i < no; i++) {
        p->scratch_bytes[i] = max_over_tiles_scratch(p, m, i, p->in_place[i]);
        if (p->fused_next[i]) p->scratch_bytes[i] += fused_row_bytes(p, i);
        life[nt + i].size = p->scratch_bytes[i];
        life[nt + i].first = life[nt + i].last = i;
    }
    for (i = 0; i < k; i++) {
        life[nt + no + 2 * i].size = p->col_cache_bytes[i];
        life[nt + no + 2 * i + 1].size = p->row_cache_bytes[i];
        for (j = 0; j < 2; j++) {
            life[nt + no + 2 * i + j].first = 0;
            life[nt + no + 2 * i + j].last = k - 1;
        }
        p->cache_bytes += p->col_cache_bytes[i] + p->row_cache_bytes[i];
    }
}

/* Offsets from the placement; a streamed input gets its own block after the arena. */
static void record_offsets(qmcu_plan *p, const memory_work *w)
{
    const qmcu_graph *g = p->g;
    const int nt = g->n_tensors, no = g->n_ops;
    const qmcu_buffer_life *life = w->life;
    int i, t;
    p->live_peak_bytes = qmcu_peak_live_bytes(life, nt + 3 * no, &p->live_peak_op);
    for (i = 0; i < no; i++)
        p->step_live_bytes[i] = qmcu_live_bytes_at(life, nt, i) + (i < p->spec.split ? p->cache_bytes : 0);
    p->host_bytes = p->arena_bytes;
    for (t = 0; t < nt; t++) p->tensor_offset[t] = life[root_of(w->alias, t)].offset;
    for (i = 0; i < g->n_inputs; i++)
        if (!p->spec.input_in_sram) {
            p->tensor_offset[g->inputs[i]] = p->host_bytes;
            p->host_bytes += (T(g, g->inputs[i])->bytes + QMCU_ARENA_ALIGN - 1) & ~(size_t)(QMCU_ARENA_ALIGN - 1);
        }
    for (i = 0; i < no; i++) {
        p->scratch_offset[i] = life[nt + i].offset;
        p->col_cache_offset[i] = life[nt + no + 2 * i].offset;
        p->row_cache_offset[i] = life[nt + no + 2 * i + 1].offset;
    }
}

static qmcu_status build_memory(qmcu_plan *p, const qmcu_model *m, qmcu_error *err)
{
    const qmcu_graph *g = p->g;
    const int nt = g->n_tensors, no = g->n_ops;
    memory_work w;
    w.alias = (int *)malloc(sizeof(int) * (size_t)nt * 3);
    w.prod = w.alias ? w.alias + nt : NULL;
    w.last_use = w.alias ? w.prod + nt : NULL;
    w.life = (qmcu_buffer_life *)calloc((size_t)(nt + 3 * no), sizeof *w.life);
    if (!w.alias || !w.life) {
        free(w.alias);
        free(w.life);
        return nomem(g, err);
    }
    size_buffers(p, &w);
    share_buffers(p, m, &w);
    buffer_lifetimes(p, m, &w);
    p->arena_bytes = qmcu_place_buffers(w.life, nt + 3 * no);
    if (p->arena_bytes == (size_t)-1) {
        free(w.alias);
        free(w.life);
        return nomem(g, err);
    }
    record_offsets(p, &w);
    free(w.alias);
    p->buffers = w.life;
    p->n_buffers = nt + 3 * no;
    return QMCU_OK;
}

void qmcu_plan_exec_view(qmcu_plan *p)
{
    qmcu_exec_plan *e = &p->exec;
    memset(e, 0, sizeof *e);
    e->g = p->g;
    e->split = p->spec.split;
    e->grid_h = p->spec.grid_h;
    e->grid_w = p->spec.grid_w;
    e->n_tiles = p->n_tiles;
    e->split_tensor = p->split_tensor;
    e->region = p->op_region;
    e->in_place = p->in_place;
    e->tensor_offset = p->tensor_offset;
    e->scratch_offset = p->scratch_offset;
    e->scratch_bytes = p->scratch_bytes;
    e->memory_bytes = p->host_bytes;
    e->patch_macs = p->patch_macs;
    e->halo = p->halo;
    e->col_cache_offset = p->col_cache_offset;
    e->row_cache_offset = p->row_cache_offset;
    e->fused_next = p->fused_next;
    if (p->lowbit.ops) {
        e->lowbit_bits = p->lowbit.bits;
        e->lowbit_tau = p->lowbit.tau;
        e->lowbit_keep = p->lowbit.keep;
        e->lowbit_outlier_macs = p->lowbit.outlier_macs;
        e->lowbit = p->lowbit.ops;
        e->run_lowbit_tile = qmcu_lowbit_run_tile_ops;
        e->lowbit_store = p->lowbit.store;
        e->fallback_h = p->fallback_h;
        e->fallback_w = p->fallback_w;
        e->fallback_region = p->fallback_region;
    }
}

qmcu_status qmcu_plan_build(const qmcu_model *m, const qmcu_plan_spec *spec, qmcu_plan **out, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    qmcu_plan *p;
    qmcu_status st;
    char why[256];
    *out = NULL;
    if (spec->packed && spec->quantmcu && spec->split > 0 && spec->fallback_grid == 0) {
        /* version 3: the outlier tiles' sub-grid that meets the budgets (see plan.h), else none */
        qmcu_plan_spec s = *spec;
        int c;
        for (c = 0; c < QMCU_FALLBACK_GRIDS; c++) {
            qmcu_plan *cand = NULL;
            s.fallback_grid = c + 1;
            if ((st = qmcu_plan_build(m, &s, &cand, err)) != QMCU_OK) {
                qmcu_plan_free(*out);
                *out = NULL;
                return st;
            }
            if ((spec->sram_budget && cand->arena_bytes > spec->sram_budget) ||
                (spec->patch_budget && qmcu_plan_patch_peak(cand, NULL) > spec->patch_budget)) {
                qmcu_plan_free(cand);
                continue;
            }
            if (!*out || cand->arena_bytes < (*out)->arena_bytes ||
                (cand->arena_bytes == (*out)->arena_bytes && qmcu_plan_patch_peak(cand, NULL) < qmcu_plan_patch_peak(*out, NULL))) {
                qmcu_plan_free(*out);
                *out = cand;
            } else {
                qmcu_plan_free(cand);
            }
        }
        if (*out) return QMCU_OK;
        s.fallback_grid = -1;
        return qmcu_plan_build(m, &s, out, err);
    }
    if (spec->fallback_grid > QMCU_FALLBACK_GRIDS) {
        qmcu_error_set(err, "%s: no outlier sub-grid %d", g->path, spec->fallback_grid);
        return QMCU_ERR_ARG;
    }
    if (spec->split > 0) {
        const qmcu_tensor *s;
        if (!qmcu_split_is_legal(g, spec->split, why, sizeof why)) {
            qmcu_error_set(err, "%s: cannot split after op %d: %s", g->path, spec->split - 1, why);
            return QMCU_ERR_ARG;
        }
        s = T(g, g->ops[spec->split - 1].out);
        if (spec->grid_h < 1 || spec->grid_w < 1 || spec->grid_h > s->dims[1] || spec->grid_w > s->dims[2] ||
            qmcu_window_empty(qmcu_grid_tile(s->dims[1], s->dims[2], spec->grid_h, spec->grid_w, spec->grid_h - 1,
                                             spec->grid_w - 1))) {
            qmcu_error_set(err, "%s: grid %dx%d does not cut the %dx%d split tensor into non-empty tiles", g->path,
                           spec->grid_h, spec->grid_w, s->dims[1], s->dims[2]);
            return QMCU_ERR_ARG;
        }
    }
    if (spec->quantmcu && !qmcu_split_is_lowbit_capable(g, spec->split, err)) return QMCU_ERR_UNSUPPORTED;
    p = (qmcu_plan *)calloc(1, sizeof *p);
    if (!p) return nomem(g, err);
    p->spec = *spec;
    p->spec.tensor_bits = NULL;
    p->g = g;
    if (spec->packed && spec->tensor_bits) { /* the caller's array may go */
        p->tensor_bits = (uint8_t *)malloc((size_t)g->n_tensors);
        if (!p->tensor_bits) {
            free(p);
            return nomem(g, err);
        }
        memcpy(p->tensor_bits, spec->tensor_bits, (size_t)g->n_tensors);
        p->spec.tensor_bits = p->tensor_bits;
    }
    if (spec->split == 0) p->spec.grid_h = p->spec.grid_w = 1;
    p->split_tensor = spec->split > 0 ? g->ops[spec->split - 1].out : -1;
    p->n_tiles = spec->split > 0 ? spec->grid_h * spec->grid_w : 0;
    p->region = (qmcu_window *)calloc((size_t)(p->n_tiles ? p->n_tiles : 1) * (size_t)g->n_tensors, sizeof *p->region);
    p->in_place = (unsigned char *)calloc((size_t)g->n_ops, 1);
    p->tensor_bytes = (size_t *)calloc((size_t)g->n_tensors, sizeof(size_t));
    p->tensor_offset = (size_t *)calloc((size_t)g->n_tensors, sizeof(size_t));
    p->scratch_bytes = (size_t *)calloc((size_t)g->n_ops, sizeof(size_t));
    p->scratch_offset = (size_t *)calloc((size_t)g->n_ops, sizeof(size_t));
    p->step_live_bytes = (size_t *)calloc((size_t)g->n_ops, sizeof(size_t));
    p->op_macs = (int64_t *)calloc((size_t)g->n_ops, sizeof(int64_t));
    p->halo = (unsigned char *)calloc((size_t)g->n_ops * 2, 1);
    p->fused_next = p->halo ? p->halo + g->n_ops : NULL;
    p->col_cache_bytes = (size_t *)calloc((size_t)g->n_ops * 4, sizeof(size_t));
    if (p->col_cache_bytes) {
        p->row_cache_bytes = p->col_cache_bytes + g->n_ops;
        p->col_cache_offset = p->row_cache_bytes + g->n_ops;
        p->row_cache_offset = p->col_cache_offset + g->n_ops;
    }
    if (!p->region || !p->in_place || !p->tensor_bytes || !p->tensor_offset || !p->scratch_bytes ||
        !p->scratch_offset || !p->step_live_bytes || !p->halo || !p->col_cache_bytes || !p->op_macs) {
        qmcu_plan_free(p);
        return nomem(g, err);
    }
    if (p->n_tiles) {
        p->op_region = (qmcu_window *)calloc((size_t)p->n_tiles * (size_t)spec->split, sizeof *p->op_region);
        if (!p->op_region) {
            qmcu_plan_free(p);
            return nomem(g, err);
        }
        qmcu_plan_exec_view(p); /* the geometry calls read it */
        build_geometry(p);
        count_macs(p);
        if (p->spec.packed && p->spec.quantmcu && p->spec.fallback_grid > 0 && build_fallback(p) != QMCU_OK) {
            qmcu_plan_free(p);
            return nomem(g, err);
        }
    } else {
        qmcu_plan_exec_view(p);
        count_macs(p);
    }
    st = build_memory(p, m, err);
    if (st == QMCU_OK && p->host_bytes > QMCU_MAX_HOST_MEMORY_BYTES) { /* refused before anyone allocates it */
        qmcu_error_set(err, "%s: the plan needs %.1f GB of activation memory, more than the %.0f GB limit", g->path,
                       (double)p->host_bytes / 1e9, (double)QMCU_MAX_HOST_MEMORY_BYTES / 1e9);
        st = QMCU_ERR_BUDGET;
    }
    if (st != QMCU_OK) {
        qmcu_plan_free(p);
        return st;
    }
    qmcu_plan_exec_view(p);
    p->spec.halo_ops = p->halo; /* the caller's array may go; rebuilding from spec gives the same halo */
    *out = p;
    return QMCU_OK;
}

void qmcu_plan_free(qmcu_plan *p)
{
    if (!p) return;
    if (p->quant && p->quant_free) p->quant_free(p->quant);
    free(p->region);
    free(p->op_region);
    free(p->in_place);
    free(p->tensor_bytes);
    free(p->tensor_offset);
    free(p->scratch_bytes);
    free(p->scratch_offset);
    free(p->step_live_bytes);
    free(p->op_macs);
    free(p->halo);
    free(p->col_cache_bytes);
    free(p->buffers);
    free(p->tensor_bits);
    free(p->fallback_region);
    free(p);
}
