#include "codegen.h"

#include "../common/host_file.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../prepare/emit.h"
#include "../prepare/op_host.h"
#include "../runtime/lowbit_exec.h"

static const qmcu_board k_boards[] = {
    {"f746", 320u * 1024u, 1024u * 1024u},
    {"h743", 512u * 1024u, 2u * 1024u * 1024u},
    {"big", 512u * 1024u, 4u * 1024u * 1024u},
};

const qmcu_board *qmcu_board_find(const char *name)
{
    size_t i;
    for (i = 0; name && i < sizeof k_boards / sizeof k_boards[0]; i++)
        if (!strcmp(k_boards[i].name, name)) return &k_boards[i];
    return NULL;
}

size_t qmcu_codegen_weight_bytes(const qmcu_graph *g)
{
    size_t b = 0;
    int t;
    for (t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].data) b += g->tensors[t].bytes;
    return b;
}

/* ---- emitters (the shared ones: src/prepare/emit.h) ----------------------------------- */

/* Name of the array behind a multiplier/shift/bias pointer of op i: the prepared op's, or one of
 * a QuantMCU variant (emitted under that name). */
static void array_ref(FILE *f, const int32_t *ptr, const qmcu_prepared_conv *pc, int i, const char *what, int variant)
{
    if (!ptr)
        fputs("NULL", f);
    else if (ptr == pc->rq.multiplier)
        fprintf(f, "op%d_mult", i);
    else if (ptr == pc->rq.shift)
        fprintf(f, "op%d_shift", i);
    else if (ptr == pc->bias)
        fprintf(f, "op%d_bias", i);
    else
        fprintf(f, "lb%d_%d_%s", i, variant, what);
}

static const char *dtype_enum(qmcu_dtype t)
{
    switch (t) {
    case QMCU_F32: return "QMCU_F32";
    case QMCU_I8: return "QMCU_I8";
    case QMCU_I32: return "QMCU_I32";
    case QMCU_I64: return "QMCU_I64";
    case QMCU_I16: return "QMCU_I16";
    }
    return "QMCU_I8";
}

static const char *act_enum(qmcu_activation a)
{
    switch (a) {
    case QMCU_ACT_RELU: return "QMCU_ACT_RELU";
    case QMCU_ACT_RELU_N1_TO_1: return "QMCU_ACT_RELU_N1_TO_1";
    case QMCU_ACT_RELU6: return "QMCU_ACT_RELU6";
    default: return "QMCU_ACT_NONE";
    }
}

static void emit_int_list(FILE *f, const int32_t *v, int n)
{
    int j;
    fputc('{', f);
    for (j = 0; j < n; j++) fprintf(f, j ? ", %d" : "%d", v[j]);
    fputc('}', f);
}

static void emit_tensors(FILE *f, const qmcu_graph *g)
{
    int t;
    char name[32];
    for (t = 0; t < g->n_tensors; t++) {
        const qmcu_tensor *x = &g->tensors[t];
        if (!x->data) continue;
        snprintf(name, sizeof name, "t%d_data", t);
        fprintf(f, "/* tensor %d: %s %d-D */\n", t, qmcu_dtype_name(x->type), x->ndim);
        if (x->type == QMCU_I8)
            qmcu_emit_bytes(f, "int8_t", name, (const uint8_t *)x->data, x->bytes, 1);
        else if (x->type == QMCU_I32)
            qmcu_emit_i32(f, name, (const int32_t *)x->data, x->bytes / 4);
        else if (x->type == QMCU_F32)
            qmcu_emit_floats(f, name, (const float *)x->data, x->bytes / 4);
        else
            qmcu_emit_bytes(f, "uint8_t", name, (const uint8_t *)x->data, x->bytes, 0);
        if (x->n_scales > 1 && x->scales) { /* per-channel scales (read by hybrid ops at run time) */
            snprintf(name, sizeof name, "t%d_scales", t);
            qmcu_emit_floats(f, name, x->scales, (size_t)x->n_scales);
        }
    }
    /* the graph's structs hold non-const pointers (the host owns and frees them); the runtime
     * never writes through them */
    fprintf(f, "\nstatic const qmcu_tensor k_tensors[%d] = {\n", g->n_tensors);
    for (t = 0; t < g->n_tensors; t++) {
        const qmcu_tensor *x = &g->tensors[t];
        fprintf(f, "    [%d] = {.ndim = %d, .dims = ", t, x->ndim);
        emit_int_list(f, x->dims, QMCU_MAX_DIMS);
        fprintf(f, ", .type = %s, .from_uint8 = %d, .quantized = %d, .scale = ", dtype_enum(x->type), x->from_uint8,
                x->quantized);
        qmcu_emit_float(f, x->scale);
        fprintf(f, ", .zero_point = %d, .n_scales = %d, .quant_dim = %d", x->zero_point, x->n_scales, x->quant_dim);
        if (x->data) fprintf(f, ", .data = (void *)t%d_data", t);
        if (x->data && x->n_scales > 1 && x->scales) fprintf(f, ", .scales = (float *)t%d_scales", t);
        fprintf(f, ", .bytes = %zu},\n", x->bytes);
    }
    fputs("};\n\n", f);
}

static void emit_ops(FILE *f, const qmcu_graph *g)
{
    int i, j;
    fprintf(f, "static const qmcu_op k_ops[%d] = {\n", g->n_ops);
    for (i = 0; i < g->n_ops; i++) {
        const qmcu_op *o = &g->ops[i];
        fprintf(f, "    [%d] = {.type = QMCU_OP_%s, .n_in = %d, .in = ", i, qmcu_op_name(o->type), o->n_in);
        emit_int_list(f, o->in, QMCU_MAX_OP_INPUTS);
        fprintf(
            f,
            ", .out = %d, .padding_same = %d, .stride_h = %d, .stride_w = %d, .dil_h = %d, .dil_w = %d, "
            ".filter_h = %d, .filter_w = %d, .depth_multiplier = %d, .act = %s, .axis = %d, .keep_dims = %d, .beta = ",
            o->out, o->padding_same, o->stride_h, o->stride_w, o->dil_h, o->dil_w, o->filter_h, o->filter_w,
            o->depth_multiplier, act_enum(o->act), o->axis, o->keep_dims);
        qmcu_emit_float(f, o->beta);
        fprintf(f, ", .pad_top = %d, .pad_left = %d, .pads = {", o->pad_top, o->pad_left);
        for (j = 0; j < 4; j++) fprintf(f, "%s{%d, %d}", j ? ", " : "", o->pads[j][0], o->pads[j][1]);
        fputs("}, .perm = {", f);
        for (j = 0; j < QMCU_MAX_DIMS; j++) fprintf(f, j ? ", %d" : "%d", o->perm[j]);
        fprintf(f, "}, .reduce_mask = %d, .align_corners = %d, .half_pixel_centers = %d, .slice_begin = %d",
                o->reduce_mask, o->align_corners, o->half_pixel_centers, o->slice_begin);
        if (o->type == QMCU_OP_DETECTION_POSTPROCESS) {
            const qmcu_detection_params *d = &o->detect;
            const float fv[6] = {d->score_threshold, d->iou_threshold, d->y_scale, d->x_scale, d->h_scale, d->w_scale};
            static const char *const fn[6] = {"score_threshold", "iou_threshold", "y_scale",
                                              "x_scale",         "h_scale",       "w_scale"};
            fprintf(f,
                    ",\n        .detect = {.max_detections = %d, .max_classes_per_detection = %d, "
                    ".detections_per_class = %d, .num_classes = %d, .use_regular_nms = %d",
                    d->max_detections, d->max_classes_per_detection, d->detections_per_class, d->num_classes,
                    d->use_regular_nms);
            for (j = 0; j < 6; j++) {
                fprintf(f, ", .%s = ", fn[j]);
                qmcu_emit_float(f, fv[j]);
            }
            fputc('}', f);
        }
        fputs("},\n", f);
    }
    fputs("};\n\n", f);
}

/* The per-channel arrays and tables of prepared ops that have them (each family emits its own). */
static void emit_prepared_arrays(FILE *f, const qmcu_model *m)
{
    int i;
    for (i = 0; i < m->g->n_ops; i++) {
        const qmcu_op_host *h = qmcu_op_host_of(m->g->ops[i].type);
        if (h->emit_arrays) h->emit_arrays(f, m, i);
    }
}

/* One prepared op: only its kind's member of the union (emitted by its family). */
static void emit_prepared_op(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_op_type ty = m->g->ops[i].type;
    const qmcu_prepared_op *po = &m->ops[i];
    const qmcu_op_host *h = qmcu_op_host_of(ty);
    fprintf(f, "    [%d] = {/* %s */ .scratch_bytes = %zu, .act_min_f = ", i, qmcu_op_name(ty), po->scratch_bytes);
    qmcu_emit_float(f, po->act_min_f);
    fputs(", .act_max_f = ", f);
    qmcu_emit_float(f, po->act_max_f);
    if (h->emit_member) h->emit_member(f, m, i);
    fputs("},\n", f);
}

static void emit_prepared(FILE *f, const qmcu_model *m)
{
    int i;
    emit_prepared_arrays(f, m);
    fprintf(f, "\nstatic const qmcu_prepared_op k_prepared[%d] = {\n", m->g->n_ops);
    for (i = 0; i < m->g->n_ops; i++) emit_prepared_op(f, m, i);
    fputs("};\n\n", f);
}

/* QuantMCU formats: per-tensor bits and, per patch op, its valid format combinations. */
static void emit_i8(FILE *f, const char *name, const int8_t *d, size_t n)
{
    qmcu_emit_bytes(f, "int8_t", name, (const uint8_t *)d, n, 1);
}

/* The arrays a format combination owns: multipliers, bias, re-quantized weights, per-channel add
 * parameters, per-channel activation bounds. */
static void emit_variant_arrays(FILE *f, const qmcu_model *m, int i, int k, const qmcu_lowbit_variant *lv)
{
    const qmcu_graph *g = m->g;
    const qmcu_op *op = &g->ops[i];
    const size_t oc = (size_t)g->tensors[op->out].dims[3];
    const qmcu_prepared_conv *pc = &m->ops[i].u.conv;
    char name[48];
    size_t c;
    if (qmcu_is_conv(op->type)) {
        if (lv->rq.multiplier && lv->rq.multiplier != pc->rq.multiplier) {
            snprintf(name, sizeof name, "lb%d_%d_mult", i, k);
            qmcu_emit_i32(f, name, lv->rq.multiplier, oc);
        }
        if (lv->rq.shift && lv->rq.shift != pc->rq.shift) {
            snprintf(name, sizeof name, "lb%d_%d_shift", i, k);
            qmcu_emit_i32(f, name, lv->rq.shift, oc);
        }
        if (lv->bias && lv->bias != pc->bias) {
            snprintf(name, sizeof name, "lb%d_%d_bias", i, k);
            qmcu_emit_i32(f, name, lv->bias, oc);
        }
        if (lv->weights) {
            snprintf(name, sizeof name, "lb%d_%d_weights", i, k);
            emit_i8(f, name, lv->weights, (size_t)qmcu_tensor_elems(&g->tensors[op->in[1]]));
        }
    }
    if (lv->code_max) {
        snprintf(name, sizeof name, "lb%d_%d_code_max", i, k);
        emit_i8(f, name, lv->code_max, oc);
    }
    if (lv->elt_c) {
        fprintf(f, "static const qmcu_eltwise_params lb%d_%d_elt[%zu] = {\n", i, k, oc);
        for (c = 0; c < oc; c++) {
            fputs("    ", f);
            qmcu_emit_elt(f, &lv->elt_c[c]);
            fputs(",\n", f);
        }
        fputs("};\n", f);
    }
}

/* QuantMCU formats: per-tensor bits, VDPC thresholds, kept outliers and, per patch op, its valid
 * format combinations. */
static void emit_lowbit(FILE *f, const qmcu_model *m, const qmcu_exec_plan *e)
{
    const qmcu_graph *g = m->g;
    int i, k, t;
    fprintf(f, "static const uint8_t k_lowbit_bits[%d] = {", g->n_tensors);
    for (t = 0; t < g->n_tensors; t++) fprintf(f, "%s%d", qmcu_emit_sep((size_t)t, 24), e->lowbit_bits[t]);
    fputs("\n};\n", f);
    qmcu_emit_i32(f, "k_lowbit_tau", e->lowbit_tau, (size_t)g->n_tensors);
    if (e->lowbit_keep) {
        qmcu_emit_bytes(f, "uint8_t", "k_lowbit_keep", e->lowbit_keep, (size_t)g->n_tensors, 0);
        qmcu_emit_i32(f, "k_lowbit_outlier_macs", e->lowbit_outlier_macs, (size_t)g->n_tensors);
    }
    for (i = 0; i < e->split; i++) {
        const qmcu_lowbit_op *lo = &e->lowbit[i];
        const int32_t c_n = g->tensors[g->ops[i].out].dims[3];
        for (k = 0; k < 8; k++)
            if (lo->v[k].valid) emit_variant_arrays(f, m, i, k, &lo->v[k]);
        if (lo->to_int8.rq.multiplier) { /* halo caches of a low-bit map */
            char name[48];
            snprintf(name, sizeof name, "lb%d_up_mult", i);
            qmcu_emit_i32(f, name, lo->to_int8.rq.multiplier, (size_t)c_n);
            snprintf(name, sizeof name, "lb%d_up_shift", i);
            qmcu_emit_i32(f, name, lo->to_int8.rq.shift, (size_t)c_n);
            snprintf(name, sizeof name, "lb%d_down_mult", i);
            qmcu_emit_i32(f, name, lo->to_codes.rq.multiplier, (size_t)c_n);
            snprintf(name, sizeof name, "lb%d_down_shift", i);
            qmcu_emit_i32(f, name, lo->to_codes.rq.shift, (size_t)c_n);
        }
    }
    fprintf(f, "\nstatic const qmcu_lowbit_op k_lowbit[%d] = {\n", e->split);
    for (i = 0; i < e->split; i++) {
        const int conv = qmcu_is_conv(g->ops[i].type);
        const qmcu_prepared_conv *pc = &m->ops[i].u.conv;
        fprintf(f, "    [%d] = {/* %s */ .macs_per_pixel = %" PRId64 ", .v = {\n", i, qmcu_op_name(g->ops[i].type),
                e->lowbit[i].macs_per_pixel);
        for (k = 0; k < 8; k++) {
            const qmcu_lowbit_variant *lv = &e->lowbit[i].v[k];
            if (!lv->valid) continue;
            fprintf(f, "        [%d] = {.valid = 1, .pad_value = %d", k, lv->pad_value);
            if (conv) {
                fputs(", .conv = ", f);
                qmcu_emit_conv_params(f, &lv->conv);
                fputs(",\n               .rq = {.multiplier = ", f);
                array_ref(f, lv->rq.multiplier, pc, i, "mult", k);
                fputs(", .shift = ", f);
                array_ref(f, lv->rq.shift, pc, i, "shift", k);
                fputs("}, .bias = ", f);
                array_ref(f, lv->bias, pc, i, "bias", k);
                if (lv->weights) fprintf(f, ", .weights = lb%d_%d_weights", i, k);
            } else if (g->ops[i].type == QMCU_OP_ADD) {
                fputs(", .elt = ", f);
                qmcu_emit_elt(f, &lv->elt);
                if (lv->elt_c) fprintf(f, ", .elt_c = lb%d_%d_elt", i, k);
            }
            if (lv->code_max) fprintf(f, ", .code_max = lb%d_%d_code_max", i, k);
            fputs("},\n", f);
        }
        fputs("    }", f);
        if (e->lowbit[i].to_int8.rq.multiplier) {
            const qmcu_code_convert *up = &e->lowbit[i].to_int8, *down = &e->lowbit[i].to_codes;
            int cm = -1;
            for (k = 0; k < 8; k++)
                if (e->lowbit[i].v[k].valid && down->code_max && e->lowbit[i].v[k].code_max == down->code_max) cm = k;
            fprintf(f,
                    ",\n      .to_int8 = {.rq = {.multiplier = lb%d_up_mult, .shift = lb%d_up_shift}, .in_zp = %d, "
                    ".out_zp = %d, .lo = %d, .hi = %d},\n"
                    "      .to_codes = {.rq = {.multiplier = lb%d_down_mult, .shift = lb%d_down_shift}, .in_zp = %d, "
                    ".out_zp = %d, .lo = %d, .hi = %d",
                    i, i, up->in_zp, up->out_zp, up->lo, up->hi, i, i, down->in_zp, down->out_zp, down->lo, down->hi);
            if (cm >= 0) fprintf(f, ", .code_max = lb%d_%d_code_max", i, cm);
            fputs("}", f);
        }
        fputs("},\n", f);
    }
    fputs("};\n\n", f);
}

static void emit_plan(FILE *f, const qmcu_model *m, const qmcu_exec_plan *e)
{
    const qmcu_graph *g = m->g;
    const size_t nreg = (size_t)e->n_tiles * (size_t)e->split;
    size_t r;
    int i, halo = 0, fused = 0;
    fprintf(f, "static const qmcu_window k_region[%zu] = {", nreg ? nreg : 1);
    for (r = 0; r < nreg; r++)
        fprintf(f, "%s{%d, %d, %d, %d}", qmcu_emit_sep(r, 6), e->region[r].h0, e->region[r].h1, e->region[r].w0, e->region[r].w1);
    fputs(nreg ? "\n};\n" : "{0, 0, 0, 0}};\n", f);
    fprintf(f, "static const uint8_t k_in_place[%d] = {", g->n_ops);
    for (i = 0; i < g->n_ops; i++) fprintf(f, "%s%d", i ? ", " : "", e->in_place[i]);
    fputs("};\n", f);
    qmcu_emit_sizes(f, "k_tensor_offset", e->tensor_offset, (size_t)g->n_tensors);
    qmcu_emit_sizes(f, "k_scratch_offset", e->scratch_offset, (size_t)g->n_ops);
    qmcu_emit_sizes(f, "k_scratch_bytes", e->scratch_bytes, (size_t)g->n_ops);
    for (i = 0; e->halo && i < e->split && !e->halo[i]; i++) continue;
    if (e->halo && i < e->split) { /* halo caching: per patch op its strategy and cache offsets */
        fprintf(f, "static const uint8_t k_halo[%d] = {", e->split);
        for (i = 0; i < e->split; i++) fprintf(f, "%s%d", i ? ", " : "", e->halo[i]);
        fputs("};\n", f);
        qmcu_emit_sizes(f, "k_col_cache_offset", e->col_cache_offset, (size_t)e->split);
        qmcu_emit_sizes(f, "k_row_cache_offset", e->row_cache_offset, (size_t)e->split);
        halo = 1;
    }
    for (i = 0; e->fused_next && i < g->n_ops && !e->fused_next[i]; i++) continue;
    if (e->fused_next && i < g->n_ops) { /* conv + ADD fused in place */
        fprintf(f, "static const uint8_t k_fused_next[%d] = {", g->n_ops);
        for (i = 0; i < g->n_ops; i++) fprintf(f, "%s%d", i ? ", " : "", e->fused_next[i]);
        fputs("};\n", f);
        fused = 1;
    }
    if (e->lowbit) emit_lowbit(f, m, e);
    if (e->lowbit && e->lowbit_store) { /* version 3: storage and the outlier tiles' sub-tiles (if any) */
        const size_t nfb = (size_t)e->n_tiles * (size_t)e->fallback_h * (size_t)e->fallback_w * (size_t)e->split;
        fprintf(f, "static const uint8_t k_lowbit_store[%d] = {", g->n_tensors);
        for (i = 0; i < g->n_tensors; i++) fprintf(f, "%s%d", i ? ", " : "", e->lowbit_store[i]);
        fputs("};\n", f);
        if (e->fallback_region) {
            fprintf(f, "static const qmcu_window k_fallback_region[%zu] = {", nfb);
            for (r = 0; r < nfb; r++)
                fprintf(f, "%s{%d, %d, %d, %d}", qmcu_emit_sep(r, 6), e->fallback_region[r].h0,
                        e->fallback_region[r].h1, e->fallback_region[r].w0, e->fallback_region[r].w1);
            fputs("\n};\n", f);
        }
    }
    fprintf(f,
            "\nstatic const qmcu_exec_plan k_plan = {\n    .g = &k_graph, .split = %d, .grid_h = %d, .grid_w = %d, "
            ".n_tiles = %d, .split_tensor = %d,\n    .region = k_region, .in_place = k_in_place, .tensor_offset = "
            "k_tensor_offset, .scratch_offset = k_scratch_offset,\n    .scratch_bytes = k_scratch_bytes, .memory_bytes "
            "= %zu, "
            ".patch_macs = %" PRId64 ",\n    .lowbit_bits = %s, .lowbit_tau = %s, .lowbit_keep = %s,\n"
            "    .lowbit_outlier_macs = %s, .lowbit = %s, .run_lowbit_tile = %s,\n"
            "    .halo = %s, .col_cache_offset = %s, .row_cache_offset = %s, .fused_next = %s,\n"
            "    .lowbit_store = %s, .fallback_h = %d, .fallback_w = %d, .fallback_region = %s};\n\n",
            e->split, e->grid_h, e->grid_w, e->n_tiles, e->split_tensor, e->memory_bytes, e->patch_macs,
            e->lowbit ? "k_lowbit_bits" : "NULL", e->lowbit ? "k_lowbit_tau" : "NULL",
            e->lowbit && e->lowbit_keep ? "k_lowbit_keep" : "NULL",
            e->lowbit && e->lowbit_keep ? "k_lowbit_outlier_macs" : "NULL", e->lowbit ? "k_lowbit" : "NULL",
            e->lowbit ? "qmcu_lowbit_run_tile_ops" : "NULL",
            halo ? "k_halo" : "NULL", halo ? "k_col_cache_offset" : "NULL", halo ? "k_row_cache_offset" : "NULL",
            fused ? "k_fused_next" : "NULL", e->lowbit && e->lowbit_store ? "k_lowbit_store" : "NULL",
            e->lowbit_store ? e->fallback_h : 0, e->lowbit_store ? e->fallback_w : 0,
            e->lowbit && e->lowbit_store && e->fallback_region ? "k_fallback_region" : "NULL");
}

/* Each generated file is written whole or not at all (common/host_file.h). */
static qmcu_status open_out(qmcu_atomic_file *a, const char *dir, const char *name, qmcu_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return qmcu_atomic_open(a, path, err);
}

static void emit_linker_script(FILE *f, const qmcu_board *b)
{
    fprintf(
        f,
        "/* %s: %zu kB SRAM, %zu kB flash (DESIGN.md §7); generated by quantmcu codegen. The stack sits at\n"
        " * the bottom of SRAM so an overflow faults instead of corrupting data. */\n"
        "MEMORY\n{\n  FLASH (rx) : ORIGIN = 0x00000000, LENGTH = %zu\n  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = "
        "%zu\n}\n"
        "ENTRY(Reset_Handler)\n"
        "SECTIONS\n{\n"
        "  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH\n"
        "  .ARM.exidx : { *(.ARM.exidx*) } > FLASH\n"
        "  .stack (NOLOAD) : { . = ALIGN(8); . += %d; __stack_top = .; } > RAM\n"
        "  .data : { . = ALIGN(4); __data_start = .; *(.data*) . = ALIGN(4); __data_end = .; } > RAM AT > FLASH\n"
        "  __data_load = LOADADDR(.data);\n"
        "  .bss (NOLOAD) : { . = ALIGN(16); __bss_start = .; *(.bss*) *(COMMON) . = ALIGN(16); __bss_end = .; } > RAM\n"
        "  .arena (NOLOAD) : { . = ALIGN(16); __arena_start = .; KEEP(*(.qmcu_arena)) __arena_end = .; } > RAM\n"
        "  __flash_used = LOADADDR(.data) + SIZEOF(.data);\n"
        "}\n",
        b->name, b->sram_bytes / 1024, b->flash_bytes / 1024, b->flash_bytes, b->sram_bytes, QMCU_MCU_STACK_BYTES);
}

static const char *mode_name(const qmcu_exec_plan *e)
{
    return e->lowbit ? "quantmcu" : (e->split ? "patch" : "layer");
}

/* Bytes of all outputs, one after the other. */
static size_t outputs_bytes(const qmcu_graph *g)
{
    size_t n = 0;
    int k;
    for (k = 0; k < g->n_outputs; k++) n += g->tensors[g->outputs[k]].bytes;
    return n;
}

/* qmcu_model.h: the entry points and sizes. */
static void emit_header(FILE *f, const qmcu_model *m, const qmcu_exec_plan *e, size_t arena_bytes, const char *base)
{
    const qmcu_graph *g = m->g;
    fprintf(
        f,
        "/* Generated by quantmcu codegen from %s (fingerprint %016" PRIx64
        "), plan: split %d, grid %dx%d, mode %s. */\n"
        "#ifndef QMCU_MODEL_H\n#define QMCU_MODEL_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
        "#define QMCU_MODEL_OPS %d\n#define QMCU_MODEL_INPUT_BYTES %zu\n"
        "#define QMCU_MODEL_OUTPUTS %d\n#define QMCU_MODEL_OUTPUT_BYTES %zu /* every output, one after the other */\n"
        "#define QMCU_MODEL_ARENA_BYTES %zu /* planner: peak SRAM of the plan */\n"
        "#define QMCU_MODEL_MEMORY_BYTES %zu /* the static block: arena (+ input when it streams) */\n\n"
        "/* Runs one inference: input and outputs in the model's own byte format (uint8 models: uint8).\n"
        " * input may be qmcu_model_input() (no copy); output (may be NULL) receives every output, output 0\n"
        " * first. Returns 0 on success. */\n"
        "int qmcu_model_run(const void *input, void *output);\n"
        "uint8_t *qmcu_model_input(void);\n"
        "/* Output k where it lies after a run (no copy), and its size. */\n"
        "const uint8_t *qmcu_model_output_at(int k);\nsize_t qmcu_model_output_size(int k);\n"
        "#define qmcu_model_output() qmcu_model_output_at(0)\n\n#endif\n",
        base, g->fingerprint, e->split, e->grid_h, e->grid_w, mode_name(e), g->n_ops, g->tensors[g->inputs[0]].bytes,
        g->n_outputs, outputs_bytes(g), arena_bytes, e->memory_bytes);
}

/* The kernels of the op types this model uses, by type: the linker keeps only these. A type whose
 * ops all compute in int8 (int8 input and output: no float, no dynamic range) gets its int8-only
 * kernel where it has one. */
static void emit_kernel_table(FILE *f, const qmcu_graph *g)
{
#define QMCU_KERNEL_NAME(type, name) [QMCU_OP_##type] = {"QMCU_OP_" #type, "qmcu_kernel_" #name},
#define QMCU_KERNEL_INT8(type, name) [QMCU_OP_##type] = 1,
    static const char *const names[QMCU_OP_COUNT][2] = {QMCU_OP_KERNELS(QMCU_KERNEL_NAME)};
    static const unsigned char has_int8[QMCU_OP_COUNT] = {QMCU_OP_KERNELS_INT8(QMCU_KERNEL_INT8)};
#undef QMCU_KERNEL_NAME
#undef QMCU_KERNEL_INT8
    unsigned char used[QMCU_OP_COUNT] = {0}, not_int8[QMCU_OP_COUNT] = {0};
    int i, t;
    for (i = 0; i < g->n_ops; i++) {
        const qmcu_op *op = &g->ops[i];
        if ((unsigned)op->type >= (unsigned)QMCU_OP_COUNT) continue;
        used[op->type] = 1;
        if (g->tensors[op->out].type != QMCU_I8 || g->tensors[op->in[0]].type != QMCU_I8) not_int8[op->type] = 1;
    }
    fputs("/* the kernels of this model's op types (src/runtime/ops/); no other kernel is linked */\n"
          "static const qmcu_op_kernel *const k_kernels[QMCU_OP_COUNT] = {\n",
          f);
    for (t = 0; t < QMCU_OP_COUNT; t++)
        if (used[t] && names[t][0])
            fprintf(f, "    [%s] = &%s%s,\n", names[t][0], names[t][1], has_int8[t] && !not_int8[t] ? "_int8" : "");
    fputs("};\n\n", f);
}

/* qmcu_model_data.c: const tables in the runtime's own types, the arena, qmcu_model_run(). */
static void emit_data(FILE *f, const qmcu_model *m, const qmcu_exec_plan *e, const char *base)
{
    const qmcu_graph *g = m->g;
    const int in_t = g->inputs[0];
    const size_t in_bytes = g->tensors[in_t].bytes;
    int k;
    fprintf(f,
            "/* Generated by quantmcu codegen from %s: weights, kernel parameters, plan tables, arena. */\n"
            "#include <math.h>\n#include <string.h>\n\n#include \"qmcu_model.h\"\n#include \"quantmcu/runtime.h\"\n\n",
            base);
    emit_tensors(f, g);
    emit_ops(f, g);
    fprintf(f,
            "static const qmcu_graph k_graph = {.path = \"%s\", .n_tensors = %d, .tensors = (qmcu_tensor *)k_tensors,\n"
            "    .n_ops = %d, .ops = (qmcu_op *)k_ops, .n_inputs = %d, .n_outputs = %d, .inputs = ",
            base, g->n_tensors, g->n_ops, g->n_inputs, g->n_outputs);
    emit_int_list(f, g->inputs, g->n_inputs);
    fputs(", .outputs = ", f);
    emit_int_list(f, g->outputs, g->n_outputs);
    fprintf(f, ", .fingerprint = 0x%016" PRIx64 "ull};\n\n", g->fingerprint);
    emit_prepared(f, m);
    emit_kernel_table(f, g);
    fputs("static const qmcu_model k_model = {.g = &k_graph, .ops = k_prepared, .kernels = k_kernels};\n\n", f);
    emit_plan(f, m, e);
    fprintf(f, "static uint8_t qmcu_arena[%zu] __attribute__((aligned(16), section(\".qmcu_arena\")));\n\n",
            e->memory_bytes ? e->memory_bytes : 16);
    fputs("static const size_t k_output_offset[QMCU_MODEL_OUTPUTS] = {", f);
    for (k = 0; k < g->n_outputs; k++) fprintf(f, "%s%zu", k ? ", " : "", e->tensor_offset[g->outputs[k]]);
    fputs("};\nstatic const size_t k_output_size[QMCU_MODEL_OUTPUTS] = {", f);
    for (k = 0; k < g->n_outputs; k++) fprintf(f, "%s%zu", k ? ", " : "", g->tensors[g->outputs[k]].bytes);
    fputs("};\n/* uint8 outputs: their int8 storage is flipped back (xor 0x80) */\n"
          "static const uint8_t k_output_uint8[QMCU_MODEL_OUTPUTS] = {",
          f);
    for (k = 0; k < g->n_outputs; k++) fprintf(f, "%s%d", k ? ", " : "", g->tensors[g->outputs[k]].from_uint8);
    fprintf(f,
            "};\n\n"
            "uint8_t *qmcu_model_input(void) { return qmcu_arena + %zu; }\n"
            "const uint8_t *qmcu_model_output_at(int k) { return qmcu_arena + k_output_offset[k]; }\n"
            "size_t qmcu_model_output_size(int k) { return k_output_size[k]; }\n\n"
            "int qmcu_model_run(const void *input, void *output)\n{\n"
            "    uint8_t *in = qmcu_arena + %zu, *dst = (uint8_t *)output;\n"
            "    size_t i;\n"
            "    int st, k;\n"
            "    if (input != in) memcpy(in, input, %zu);\n",
            e->tensor_offset[in_t], e->tensor_offset[in_t], in_bytes);
    if (g->tensors[in_t].from_uint8)
        fprintf(f, "    for (i = 0; i < %zu; i++) in[i] ^= 0x80; /* uint8 -> int8 storage */\n", in_bytes);
    fputs("    st = (int)qmcu_exec_run(&k_model, &k_plan, qmcu_arena, NULL);\n"
          "    for (k = 0; k < QMCU_MODEL_OUTPUTS; k++) {\n"
          "        uint8_t *out = qmcu_arena + k_output_offset[k];\n"
          "        if (k_output_uint8[k])\n"
          "            for (i = 0; i < k_output_size[k]; i++) out[i] ^= 0x80; /* back to uint8 */\n"
          "        if (dst) {\n"
          "            memmove(dst, out, k_output_size[k]);\n"
          "            dst += k_output_size[k];\n"
          "        }\n"
          "    }\n"
          "    (void)i;\n    return st;\n}\n",
          f);
}

static qmcu_status check_fits(const qmcu_graph *g, const qmcu_exec_plan *e, const qmcu_board *board, qmcu_error *err)
{
    const size_t weights = qmcu_codegen_weight_bytes(g);
    if (g->n_inputs != 1) {
        qmcu_error_set(err, "%s: codegen supports models with one input (this one has %d)", g->path, g->n_inputs);
        return QMCU_ERR_UNSUPPORTED;
    }
    if (g->n_tensors > QMCU_LOWBIT_MAX_TENSORS) {
        qmcu_error_set(err, "%s: %d tensors, more than the %d the MCU runtime handles", g->path, g->n_tensors,
                       QMCU_LOWBIT_MAX_TENSORS);
        return QMCU_ERR_UNSUPPORTED;
    }
    if (board && e->memory_bytes + QMCU_MCU_STACK_BYTES > board->sram_bytes) {
        qmcu_error_set(err,
                       "%s: plan does not fit board %s: arena %zu bytes + %d stack > %zu bytes of SRAM (try 'quantmcu "
                       "plan --sram')",
                       g->path, board->name, e->memory_bytes, QMCU_MCU_STACK_BYTES, board->sram_bytes);
        return QMCU_ERR_BUDGET;
    }
    if (board && weights >= board->flash_bytes) {
        qmcu_error_set(err, "%s: weights (%zu bytes) do not fit board %s's %zu bytes of flash", g->path, weights,
                       board->name, board->flash_bytes);
        return QMCU_ERR_BUDGET;
    }
    return QMCU_OK;
}

qmcu_status qmcu_codegen(const qmcu_model *m, const qmcu_exec_plan *e, size_t arena_bytes, const char *dir,
                         const qmcu_board *board, qmcu_error *err)
{
    static const char *const names[3] = {"qmcu_model.h", "qmcu_model_data.c", "board.ld"};
    const qmcu_graph *g = m->g;
    const char *base = strrchr(g->path, '/');
    const int n = board ? 3 : 2;
    qmcu_atomic_file a[3];
    qmcu_status st;
    int k, opened = 0;
    base = base ? base + 1 : g->path;
    if ((st = check_fits(g, e, board, err)) != QMCU_OK) return st;
    for (k = 0; k < n && st == QMCU_OK; k++)
        if ((st = open_out(&a[k], dir, names[k], err)) == QMCU_OK) opened++;
    if (st == QMCU_OK) {
        emit_header(a[0].f, m, e, arena_bytes, base);
        emit_data(a[1].f, m, e, base);
        if (board) emit_linker_script(a[2].f, board);
    }
    /* all three written and closed before any replaces its target: the set changes together */
    for (k = 0; k < opened; k++)
        if (st != QMCU_OK)
            qmcu_atomic_abort(&a[k]);
        else if ((st = qmcu_atomic_close(&a[k], err)) != QMCU_OK)
            while (++k < opened) qmcu_atomic_abort(&a[k]);
    if (st != QMCU_OK) {
        for (k = 0; k < opened; k++) remove(a[k].tmp); /* the ones closed before the failure */
        return st;
    }
    for (k = 0; k < n && st == QMCU_OK; k++) st = qmcu_atomic_replace(&a[k], err);
    return st;
}
