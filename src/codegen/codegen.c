#include "codegen.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../runtime/lowbit.h"

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

/* ---- emitters ------------------------------------------------------------------------ */

/* Separator before element i of a list printed `per_line` to a line. */
static const char *sep(size_t i, size_t per_line) { return i == 0 ? "\n    " : (i % per_line ? "," : ",\n    "); }

static void emit_float(FILE *f, float v)
{
    if (isinf(v))
        fputs(v > 0 ? "INFINITY" : "-INFINITY", f);
    else
        fprintf(f, "%af", (double)v);
}

static void emit_bytes(FILE *f, const char *type, const char *name, const uint8_t *d, size_t n, int is_signed)
{
    size_t i;
    fprintf(f, "static const %s %s[%zu] = {", type, name, n ? n : 1);
    for (i = 0; i < n; i++) fprintf(f, "%s%d", sep(i, 24), is_signed ? (int)(int8_t)d[i] : (int)d[i]);
    fputs(n ? "\n};\n" : "0};\n", f);
}

static void emit_i32(FILE *f, const char *name, const int32_t *d, size_t n)
{
    size_t i;
    fprintf(f, "static const int32_t %s[%zu] = {", name, n ? n : 1);
    for (i = 0; i < n; i++) fprintf(f, "%s%" PRId32, sep(i, 10), d[i]);
    fputs(n ? "\n};\n" : "0};\n", f);
}

static void emit_sizes(FILE *f, const char *name, const size_t *d, size_t n)
{
    size_t i;
    fprintf(f, "static const size_t %s[%zu] = {", name, n ? n : 1);
    for (i = 0; i < n; i++) fprintf(f, "%s%zu", sep(i, 10), d[i]);
    fputs(n ? "\n};\n" : "0};\n", f);
}

static void emit_floats(FILE *f, const char *name, const float *d, size_t n)
{
    size_t i;
    fprintf(f, "static const float %s[%zu] = {", name, n ? n : 1);
    for (i = 0; i < n; i++) {
        fputs(sep(i, 6), f);
        emit_float(f, d[i]);
    }
    fputs(n ? "\n};\n" : "0};\n", f);
}

static void emit_conv_params(FILE *f, const qmcu_conv_params *c)
{
    fprintf(f, "{%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d}", c->input_offset, c->filter_offset, c->output_offset,
            c->act_min, c->act_max, c->stride_h, c->stride_w, c->dil_h, c->dil_w, c->pad_top, c->pad_left, c->depth_multiplier,
            c->input_code_bits);
}

static void emit_elt(FILE *f, const qmcu_eltwise_params *e)
{
    fprintf(f, "{%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d}", e->is_mul, e->input1_offset, e->input2_offset,
            e->output_offset, e->left_shift, e->input1_multiplier, e->input2_multiplier, e->output_multiplier, e->input1_shift,
            e->input2_shift, e->output_shift, e->act_min, e->act_max);
}

/* Name of the array behind a multiplier/shift/bias pointer of op i (a prepared array, or one
 * of a QuantMCU variant, emitted on the fly). */
static void array_ref(FILE *f, const int32_t *ptr, const qmcu_prepared_op *po, int i, const char *what, int variant)
{
    if (!ptr)
        fputs("NULL", f);
    else if (ptr == po->multiplier)
        fprintf(f, "(int32_t *)op%d_mult", i);
    else if (ptr == po->shift)
        fprintf(f, "(int32_t *)op%d_shift", i);
    else if (ptr == po->bias)
        fprintf(f, "(int32_t *)op%d_bias", i);
    else
        fprintf(f, "(int32_t *)lb%d_%d_%s", i, variant, what);
}

static int out_channels(const qmcu_graph *g, const qmcu_op *op)
{
    const qmcu_tensor *w = &g->tensors[op->in[1]];
    return op->type == QMCU_OP_DEPTHWISE_CONV_2D ? w->dims[3] : w->dims[0];
}

static int is_conv_like(qmcu_op_type t)
{
    return t == QMCU_OP_CONV_2D || t == QMCU_OP_DEPTHWISE_CONV_2D || t == QMCU_OP_FULLY_CONNECTED;
}

static void emit_tensors(FILE *f, const qmcu_graph *g)
{
    int t, d;
    char name[32];
    for (t = 0; t < g->n_tensors; t++) {
        const qmcu_tensor *x = &g->tensors[t];
        if (!x->data) continue;
        snprintf(name, sizeof name, "t%d_data", t);
        fprintf(f, "/* tensor %d: %s %d-D */\n", t, qmcu_dtype_name(x->type), x->ndim);
        if (x->type == QMCU_I8)
            emit_bytes(f, "int8_t", name, (const uint8_t *)x->data, x->bytes, 1);
        else if (x->type == QMCU_I32)
            emit_i32(f, name, (const int32_t *)x->data, x->bytes / 4);
        else if (x->type == QMCU_F32)
            emit_floats(f, name, (const float *)x->data, x->bytes / 4);
        else
            emit_bytes(f, "uint8_t", name, (const uint8_t *)x->data, x->bytes, 0);
    }
    fprintf(f, "\nstatic const qmcu_tensor k_tensors[%d] = {\n", g->n_tensors);
    for (t = 0; t < g->n_tensors; t++) {
        const qmcu_tensor *x = &g->tensors[t];
        fprintf(f, "    {\"\", %d, {", x->ndim);
        for (d = 0; d < QMCU_MAX_DIMS; d++) fprintf(f, d ? ", %d" : "%d", x->dims[d]);
        fprintf(f, "}, (qmcu_dtype)%d, %d, %d, ", (int)x->type, x->from_uint8, x->quantized);
        emit_float(f, x->scale);
        fprintf(f, ", %d, %d, NULL, %d, ", x->zero_point, x->n_scales, x->quant_dim);
        if (x->data)
            fprintf(f, "(void *)t%d_data", t);
        else
            fputs("NULL", f);
        fprintf(f, ", %zu},\n", x->bytes);
    }
    fputs("};\n\n", f);
}

static void emit_ops(FILE *f, const qmcu_graph *g)
{
    int i, j;
    fprintf(f, "static const qmcu_op k_ops[%d] = {\n", g->n_ops);
    for (i = 0; i < g->n_ops; i++) {
        const qmcu_op *o = &g->ops[i];
        fprintf(f, "    {(qmcu_op_type)%d /* %s */, %d, {", (int)o->type, qmcu_op_name(o->type), o->n_in);
        for (j = 0; j < QMCU_MAX_OP_INPUTS; j++) fprintf(f, j ? ", %d" : "%d", o->in[j]);
        fprintf(f, "}, %d, %d, %d, %d, %d, %d, %d, %d, %d, (qmcu_activation)%d, %d, %d, ", o->out, o->padding_same, o->stride_h,
                o->stride_w, o->dil_h, o->dil_w, o->filter_h, o->filter_w, o->depth_multiplier, (int)o->act, o->axis, o->keep_dims);
        emit_float(f, o->beta);
        fprintf(f, ", %d, %d, {{%d, %d}, {%d, %d}, {%d, %d}, {%d, %d}}, {", o->pad_top, o->pad_left, o->pads[0][0], o->pads[0][1],
                o->pads[1][0], o->pads[1][1], o->pads[2][0], o->pads[2][1], o->pads[3][0], o->pads[3][1]);
        for (j = 0; j < QMCU_MAX_DIMS; j++) fprintf(f, j ? ", %d" : "%d", o->perm[j]);
        fprintf(f, "}, %d},\n", o->reduce_mask);
    }
    fputs("};\n\n", f);
}

static void emit_prepared(FILE *f, const qmcu_model *m)
{
    const qmcu_graph *g = m->g;
    int i, k;
    char name[32];
    for (i = 0; i < g->n_ops; i++) {
        const qmcu_prepared_op *po = &m->ops[i];
        if (!is_conv_like(g->ops[i].type) || !po->multiplier) continue;
        {
            const int oc = out_channels(g, &g->ops[i]);
            snprintf(name, sizeof name, "op%d_mult", i);
            emit_i32(f, name, po->multiplier, (size_t)oc);
            snprintf(name, sizeof name, "op%d_shift", i);
            emit_i32(f, name, po->shift, (size_t)oc);
            snprintf(name, sizeof name, "op%d_bias", i);
            emit_i32(f, name, po->bias, (size_t)oc);
        }
    }
    fprintf(f, "\nstatic const qmcu_prepared_op k_prepared[%d] = {\n", g->n_ops);
    for (i = 0; i < g->n_ops; i++) {
        const qmcu_prepared_op *po = &m->ops[i];
        const qmcu_op_type ty = g->ops[i].type;
        fprintf(f, "    [%d] = { /* %s */\n        .conv = ", i, qmcu_op_name(ty));
        emit_conv_params(f, &po->conv);
        fputs(",\n        .rq = {", f);
        array_ref(f, po->rq.multiplier, po, i, "mult", 0);
        fputs(", ", f);
        array_ref(f, po->rq.shift, po, i, "shift", 0);
        fputs("},\n        .multiplier = ", f);
        array_ref(f, po->multiplier, po, i, "mult", 0);
        fputs(", .shift = ", f);
        array_ref(f, po->shift, po, i, "shift", 0);
        fputs(", .bias = ", f);
        array_ref(f, po->bias, po, i, "bias", 0);
        fprintf(f, ",\n        .pool = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d},\n        .elt = ", po->pool.filter_h, po->pool.filter_w,
                po->pool.stride_h, po->pool.stride_w, po->pool.pad_top, po->pool.pad_left, po->pool.act_min, po->pool.act_max,
                po->pool.value_offset, po->pool.is_max);
        emit_elt(f, &po->elt);
        fprintf(f, ",\n        .requant = {%d, %d, %d, %d, %d, %d},\n", po->requant.input_offset, po->requant.output_offset,
                po->requant.multiplier, po->requant.shift, po->requant.act_min, po->requant.act_max);
        fprintf(f, "        .mean = {(qmcu_mean_kind)%d, %d, %d, %d, %d, %d, %d, ", (int)po->mean.kind, po->mean.reduce_mask,
                po->mean.value_offset, po->mean.input_zero_point, po->mean.output_zero_point, po->mean.multiplier, po->mean.shift);
        emit_float(f, po->mean.input_scale);
        fputs(", ", f);
        emit_float(f, po->mean.output_scale);
        fprintf(f, ", %d},\n", po->mean.uint8_model);
        if (ty == QMCU_OP_SOFTMAX) {
            fprintf(f, "        .softmax = {k_prepared[%d].softmax_table, ", i);
            emit_float(f, po->softmax.output_scale);
            fprintf(f, ", %d, %d},\n        .softmax_table = {", po->softmax.output_zero_point, po->softmax.uint8_output);
            for (k = 0; k < 256; k++) {
                fputs(k == 0 ? "\n            " : (k % 6 ? ", " : ",\n            "), f);
                emit_float(f, po->softmax_table[k]);
            }
            fputs("},\n", f);
        }
        if (ty == QMCU_OP_LOGISTIC || ty == QMCU_OP_HARD_SWISH) {
            fputs("        .lut = {", f);
            for (k = 0; k < 256; k++) fprintf(f, "%s%d", k == 0 ? "\n            " : (k % 24 ? "," : ",\n            "), po->lut[k]);
            fputs("},\n", f);
        }
        fprintf(f, "        .convf = {%d, %d, %d, %d, %d, %d, %d, ", po->convf.stride_h, po->convf.stride_w, po->convf.dil_h,
                po->convf.dil_w, po->convf.pad_top, po->convf.pad_left, po->convf.depth_multiplier);
        emit_float(f, po->convf.act_min);
        fputs(", ", f);
        emit_float(f, po->convf.act_max);
        fputs("},\n        .act_min_f = ", f);
        emit_float(f, po->act_min_f);
        fputs(", .act_max_f = ", f);
        emit_float(f, po->act_max_f);
        fprintf(f, ", .scratch_bytes = %zu},\n", po->scratch_bytes);
    }
    fputs("};\n\n", f);
}

static void emit_lowbit(FILE *f, const qmcu_model *m, const qmcu_plan *p)
{
    const qmcu_graph *g = m->g;
    const qmcu_vdq *v = p->vdq;
    int i, k, t;
    char name[48];
    fprintf(f, "static const qmcu_fmap k_fmap[%d] = {\n", v->n_tensors);
    for (t = 0; t < v->n_tensors; t++) {
        fprintf(f, "    {%d, %d, ", v->fmap[t].in_scope, v->fmap[t].bits);
        emit_float(f, v->fmap[t].lo);
        fputs(", ", f);
        emit_float(f, v->fmap[t].hi);
        fputs(", {0}, 0},\n", f);
    }
    fputs("};\n", f);
    fprintf(f, "static const qmcu_vdq k_vdq = {%d, (qmcu_fmap *)k_fmap, 0, 0, 0, 0, 0, 0, 0, {0}, 0, NULL, 0, 0, 0};\n\n", v->n_tensors);
    for (i = 0; i < p->spec.split; i++) {
        const qmcu_prepared_op *po = &m->ops[i];
        if (g->ops[i].type != QMCU_OP_CONV_2D && g->ops[i].type != QMCU_OP_DEPTHWISE_CONV_2D) continue;
        for (k = 0; k < 8; k++) {
            const lowbit_variant *lv = &p->lowbit[i].v[k];
            const int oc = out_channels(g, &g->ops[i]);
            if (!lv->valid) continue;
            if (lv->rq.multiplier && lv->rq.multiplier != po->multiplier) {
                snprintf(name, sizeof name, "lb%d_%d_mult", i, k);
                emit_i32(f, name, lv->rq.multiplier, (size_t)oc);
                snprintf(name, sizeof name, "lb%d_%d_shift", i, k);
                emit_i32(f, name, lv->rq.shift, (size_t)oc);
            }
            if (lv->bias && lv->bias != po->bias) {
                snprintf(name, sizeof name, "lb%d_%d_bias", i, k);
                emit_i32(f, name, lv->bias, (size_t)oc);
            }
        }
    }
    fprintf(f, "\nstatic const struct qmcu_lowbit_op_s k_lowbit[%d] = {\n", p->spec.split);
    for (i = 0; i < p->spec.split; i++) {
        const qmcu_prepared_op *po = &m->ops[i];
        fprintf(f, "    { /* op %d %s */ {\n", i, qmcu_op_name(g->ops[i].type));
        for (k = 0; k < 8; k++) {
            const lowbit_variant *lv = &p->lowbit[i].v[k];
            fputs("        {", f);
            emit_conv_params(f, &lv->conv);
            fputs(", {", f);
            array_ref(f, lv->rq.multiplier, po, i, "mult", k);
            fputs(", ", f);
            array_ref(f, lv->rq.shift, po, i, "shift", k);
            fputs("}, NULL, NULL, NULL, ", f);
            array_ref(f, lv->bias, po, i, "bias", k);
            fputs(", ", f);
            emit_elt(f, &lv->elt);
            fprintf(f, ", %d, %d},\n", lv->pad_value, lv->valid);
        }
        fprintf(f, "    }, %" PRId64 "},\n", p->lowbit[i].macs_per_pixel);
    }
    fputs("};\n\n", f);
}

static void emit_plan(FILE *f, const qmcu_model *m, const qmcu_plan *p)
{
    const qmcu_graph *g = m->g;
    const size_t nreg = (size_t)p->n_tiles * (size_t)g->n_tensors;
    size_t r;
    int i;
    fprintf(f, "static const qmcu_window k_region[%zu] = {", nreg ? nreg : 1);
    for (r = 0; r < nreg; r++)
        fprintf(f, "%s{%d, %d, %d, %d}", sep(r, 6), p->region[r].h0, p->region[r].h1, p->region[r].w0, p->region[r].w1);
    fputs(nreg ? "\n};\n" : "{0, 0, 0, 0}};\n", f);
    fprintf(f, "static const unsigned char k_in_place[%d] = {", g->n_ops);
    for (i = 0; i < g->n_ops; i++) fprintf(f, "%s%d", i ? ", " : "", p->in_place[i]);
    fputs("};\n", f);
    emit_sizes(f, "k_tensor_offset", p->tensor_offset, (size_t)g->n_tensors);
    emit_sizes(f, "k_scratch_offset", p->scratch_offset, (size_t)g->n_ops);
    emit_sizes(f, "k_scratch_bytes", p->scratch_bytes, (size_t)g->n_ops);
    if (p->lowbit) emit_lowbit(f, m, p);
    fprintf(f, "\nstatic const qmcu_plan k_plan = {\n    {%d, %d, %d, %d, %d}, &k_graph, %d, %d, (qmcu_window *)k_region,\n",
            p->spec.split, p->spec.grid_h, p->spec.grid_w, p->spec.input_in_sram, p->spec.quantmcu, p->split_tensor, p->n_tiles);
    fprintf(f, "    %" PRId64 ", %" PRId64 ", %" PRId64 ", %d, %d,\n", p->macs, p->patch_macs, p->patch_layer_macs, p->input_patch_h,
            p->input_patch_w);
    fprintf(f, "    (unsigned char *)k_in_place, NULL, (size_t *)k_tensor_offset, (size_t *)k_scratch_bytes, (size_t *)k_scratch_offset, NULL,\n");
    fprintf(f, "    %zu, %zu, %d, %zu, %zu, NULL, 0, %s, %s, %d};\n\n", p->arena_bytes, p->live_peak_bytes, p->live_peak_op,
            p->input_bytes, p->host_bytes, p->lowbit ? "(qmcu_vdq *)&k_vdq" : "NULL",
            p->lowbit ? "(struct qmcu_lowbit_op_s *)k_lowbit" : "NULL", p->no_vdpc);
}

static FILE *open_out(const char *dir, const char *name, qmcu_error *err)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f) qmcu_error_set(err, "%s: cannot write (does the output folder exist?)", path);
    return f;
}

static void emit_linker_script(FILE *f, const qmcu_board *b)
{
    fprintf(f,
            "/* %s: %zu kB SRAM, %zu kB flash (DESIGN.md §7); generated by quantmcu codegen. The stack sits at\n"
            " * the bottom of SRAM so an overflow faults instead of corrupting data. */\n"
            "MEMORY\n{\n  FLASH (rx) : ORIGIN = 0x00000000, LENGTH = %zu\n  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = %zu\n}\n"
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

qmcu_status qmcu_codegen(const qmcu_model *m, const qmcu_plan *p, const char *dir, const qmcu_board *board, qmcu_error *err)
{
    const qmcu_graph *g = m->g;
    const int in_t = g->inputs[0], out_t = g->outputs[0];
    const size_t weights = qmcu_codegen_weight_bytes(g);
    const char *base = strrchr(g->path, '/');
    FILE *f;
    base = base ? base + 1 : g->path;
    if (g->n_inputs != 1 || g->n_outputs != 1) {
        qmcu_error_set(err, "%s: codegen supports one input and one output", g->path);
        return QMCU_ERR_UNSUPPORTED;
    }
    if (g->n_tensors > QMCU_LOWBIT_MAX_TENSORS) {
        qmcu_error_set(err, "%s: %d tensors, more than the %d the MCU runtime handles", g->path, g->n_tensors, QMCU_LOWBIT_MAX_TENSORS);
        return QMCU_ERR_UNSUPPORTED;
    }
    if (board && p->host_bytes + QMCU_MCU_STACK_BYTES > board->sram_bytes) {
        qmcu_error_set(err, "%s: plan does not fit board %s: arena %zu bytes + %d stack > %zu bytes of SRAM (try 'quantmcu plan --sram')",
                       g->path, board->name, p->host_bytes, QMCU_MCU_STACK_BYTES, board->sram_bytes);
        return QMCU_ERR_BUDGET;
    }
    if (board && weights >= board->flash_bytes) {
        qmcu_error_set(err, "%s: weights (%zu bytes) do not fit board %s's %zu bytes of flash", g->path, weights, board->name,
                       board->flash_bytes);
        return QMCU_ERR_BUDGET;
    }
    if (!(f = open_out(dir, "qmcu_model.h", err))) return QMCU_ERR_IO;
    fprintf(f,
            "/* Generated by quantmcu codegen from %s (fingerprint %016" PRIx64 "), plan: split %d, grid %dx%d, mode %s. */\n"
            "#ifndef QMCU_MODEL_H\n#define QMCU_MODEL_H\n\n#include <stdint.h>\n\n"
            "#define QMCU_MODEL_OPS %d\n#define QMCU_MODEL_INPUT_BYTES %zu\n#define QMCU_MODEL_OUTPUT_BYTES %zu\n"
            "#define QMCU_MODEL_ARENA_BYTES %zu /* planner: peak SRAM of the plan */\n"
            "#define QMCU_MODEL_MEMORY_BYTES %zu /* the static block: arena (+ input when it streams) */\n\n"
            "/* Runs one inference: input and output in the model's own byte format (uint8 models: uint8).\n"
            " * input may be qmcu_model_input() (no copy). Returns 0 on success. */\n"
            "int qmcu_model_run(const void *input, void *output);\n"
            "uint8_t *qmcu_model_input(void);\nconst uint8_t *qmcu_model_output(void);\n\n#endif\n",
            base, g->fingerprint, p->spec.split, p->spec.grid_h, p->spec.grid_w, p->lowbit ? "quantmcu" : (p->spec.split ? "patch" : "layer"),
            g->n_ops, g->tensors[in_t].bytes, g->tensors[out_t].bytes, p->arena_bytes, p->host_bytes);
    if (fclose(f) != 0) {
        qmcu_error_set(err, "%s: write failed", dir);
        return QMCU_ERR_IO;
    }
    if (!(f = open_out(dir, "qmcu_model_data.c", err))) return QMCU_ERR_IO;
    fprintf(f, "/* Generated by quantmcu codegen from %s: weights, kernel parameters, plan tables, arena. */\n"
               "#include <math.h>\n#include <string.h>\n\n#include \"qmcu_model.h\"\n#include \"runtime/lowbit.h\"\n\n",
            base);
    emit_tensors(f, g);
    emit_ops(f, g);
    fprintf(f, "static const qmcu_graph k_graph = {\"%s\", %d, (qmcu_tensor *)k_tensors, %d, (qmcu_op *)k_ops, %d, %d, {%d, %d, %d, %d}, "
               "{%d, %d, %d, %d}, 0x%016" PRIx64 "ull};\n\n",
            base, g->n_tensors, g->n_ops, g->n_inputs, g->n_outputs, g->inputs[0], g->inputs[1], g->inputs[2], g->inputs[3],
            g->outputs[0], g->outputs[1], g->outputs[2], g->outputs[3], g->fingerprint);
    emit_prepared(f, m);
    fputs("static const qmcu_model k_model = {&k_graph, (qmcu_prepared_op *)k_prepared};\n\n", f);
    emit_plan(f, m, p);
    fprintf(f,
            "static uint8_t qmcu_arena[%zu] __attribute__((aligned(16), section(\".qmcu_arena\")));\n\n"
            "uint8_t *qmcu_model_input(void) { return qmcu_arena + %zu; }\n"
            "const uint8_t *qmcu_model_output(void) { return qmcu_arena + %zu; }\n\n"
            "int qmcu_model_run(const void *input, void *output)\n{\n"
            "    uint8_t *in = qmcu_arena + %zu, *out = qmcu_arena + %zu;\n"
            "    size_t i;\n"
            "    int st;\n"
            "    if (input != in) memcpy(in, input, %zu);\n",
            p->host_bytes ? p->host_bytes : 16, p->tensor_offset[in_t], p->tensor_offset[out_t], p->tensor_offset[in_t],
            p->tensor_offset[out_t], g->tensors[in_t].bytes);
    if (g->tensors[in_t].from_uint8) fprintf(f, "    for (i = 0; i < %zu; i++) in[i] ^= 0x80; /* uint8 -> int8 storage */\n", g->tensors[in_t].bytes);
    fputs("    st = (int)qmcu_plan_run(&k_model, &k_plan, qmcu_arena);\n", f);
    if (g->tensors[out_t].from_uint8) fprintf(f, "    for (i = 0; i < %zu; i++) out[i] ^= 0x80; /* back to uint8 */\n", g->tensors[out_t].bytes);
    fprintf(f, "    if (output && output != out) memcpy(output, out, %zu);\n    (void)i;\n    return st;\n}\n", g->tensors[out_t].bytes);
    if (fclose(f) != 0) {
        qmcu_error_set(err, "%s: write failed", dir);
        return QMCU_ERR_IO;
    }
    if (board) {
        if (!(f = open_out(dir, "board.ld", err))) return QMCU_ERR_IO;
        emit_linker_script(f, board);
        fclose(f);
    }
    return QMCU_OK;
}
