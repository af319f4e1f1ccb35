/* .tflite writer for tests (see tflite_builder.h); field ids from TFLite's schema.fbs. */
#include "tflite_builder.h"

#include <string.h>

enum {
    MODEL_VERSION = 0,
    MODEL_OPCODES = 1,
    MODEL_SUBGRAPHS = 2,
    MODEL_DESCRIPTION = 3,
    MODEL_BUFFERS = 4,
    MODEL_METADATA = 6
};
enum { OPCODE_DEPRECATED = 0, OPCODE_CUSTOM = 1, OPCODE_VERSION = 2, OPCODE_BUILTIN = 3 };
enum { SG_TENSORS = 0, SG_INPUTS = 1, SG_OUTPUTS = 2, SG_OPERATORS = 3 };
enum { T_SHAPE = 0, T_TYPE = 1, T_BUFFER = 2, T_NAME = 3, T_QUANT = 4, T_IS_VARIABLE = 5 };
enum { Q_SCALE = 2, Q_ZERO_POINT = 3, Q_DIM = 6 };
enum {
    OP_OPCODE = 0,
    OP_INPUTS = 1,
    OP_OUTPUTS = 2,
    OP_OPTIONS_TYPE = 3,
    OP_OPTIONS = 4,
    OP_CUSTOM_OPTIONS = 5,
    OP_INTERMEDIATES = 8
};

void tfb_init(tfb *b)
{
    memset(b, 0, sizeof *b);
    fbw_init(&b->w);
    tfb_buffer(b, NULL, 0); /* buffer 0: the empty sentinel every TFLite file has */
}

void tfb_free(tfb *b) { fbw_free(&b->w); }
fbw *tfb_w(tfb *b) { return &b->w; }

int tfb_buffer(tfb *b, const void *data, size_t n)
{
    uint32_t vec = 0;
    if (b->n_buffers >= TFB_MAX) return b->failed = 1, 0;
    if (data && n) vec = fbw_vector(&b->w, data, (uint32_t)n, 1, 16);
    fbw_table_start(&b->w);
    if (vec) fbw_add_ref(&b->w, 0, vec);
    b->buffers[b->n_buffers] = fbw_table_end(&b->w);
    return b->n_buffers++;
}

static int add_tensor(tfb *b, const char *name, int type, const int *shape, int ndim, int buffer, const float *scales,
                      int n_scales, int dim)
{
    int32_t dims[8];
    int64_t zps[TFB_MAX];
    uint32_t shape_ref, name_ref, q = 0;
    int i;
    if (b->n_tensors >= TFB_MAX || ndim > 8 || n_scales > TFB_MAX) return b->failed = 1, 0;
    for (i = 0; i < ndim; i++) dims[i] = shape[i];
    shape_ref = fbw_vector_i32(&b->w, dims, (uint32_t)ndim);
    name_ref = fbw_string(&b->w, name);
    if (n_scales > 0) {
        uint32_t s_ref, z_ref;
        for (i = 0; i < n_scales; i++) zps[i] = 0;
        if (n_scales == 1) zps[0] = dim; /* per-tensor: `dim` carries the zero point */
        s_ref = fbw_vector_f32(&b->w, scales, (uint32_t)n_scales);
        z_ref = fbw_vector_i64(&b->w, zps, (uint32_t)n_scales);
        fbw_table_start(&b->w);
        fbw_add_ref(&b->w, Q_SCALE, s_ref);
        fbw_add_ref(&b->w, Q_ZERO_POINT, z_ref);
        if (n_scales > 1) fbw_add_i32(&b->w, Q_DIM, dim);
        q = fbw_table_end(&b->w);
    }
    fbw_table_start(&b->w);
    fbw_add_ref(&b->w, T_SHAPE, shape_ref);
    fbw_add_u8(&b->w, T_TYPE, (uint8_t)type);
    fbw_add_i32(&b->w, T_BUFFER, buffer < 0 ? 0 : buffer);
    fbw_add_ref(&b->w, T_NAME, name_ref);
    if (q) fbw_add_ref(&b->w, T_QUANT, q);
    if (b->variable_next) fbw_add_u8(&b->w, T_IS_VARIABLE, 1);
    b->variable_next = 0;
    b->tensors[b->n_tensors] = fbw_table_end(&b->w);
    return b->n_tensors++;
}

int tfb_tensor(tfb *b, const char *name, int type, const int *shape, int ndim, int buffer, float scale, int zero_point)
{
    return add_tensor(b, name, type, shape, ndim, buffer, &scale, scale != 0.0f ? 1 : 0, zero_point);
}

int tfb_tensor_pc(tfb *b, const char *name, int type, const int *shape, int ndim, int buffer, const float *scales,
                  int n, int dim)
{
    return add_tensor(b, name, type, shape, ndim, buffer, scales, n, n > 1 ? dim : 0);
}

static int opcode_index_custom(tfb *b, int builtin, const char *custom)
{
    int i;
    uint32_t name = 0;
    for (i = 0; i < b->n_codes; i++)
        if (b->code_of[i] == builtin && (!custom || (b->custom_of[i] && !strcmp(b->custom_of[i], custom)))) return i;
    if (b->n_codes >= TFB_MAX) return b->failed = 1, 0;
    if (custom) name = fbw_string(&b->w, custom);
    b->custom_of[b->n_codes] = custom;
    fbw_table_start(&b->w);
    if (custom) fbw_add_ref(&b->w, OPCODE_CUSTOM, name);
    fbw_add_u8(&b->w, OPCODE_DEPRECATED, (uint8_t)(builtin < 127 ? builtin : 127));
    fbw_add_i32(&b->w, OPCODE_VERSION, 1);
    fbw_add_i32(&b->w, OPCODE_BUILTIN, builtin);
    b->codes[b->n_codes] = fbw_table_end(&b->w);
    b->code_of[b->n_codes] = builtin;
    return b->n_codes++;
}

static int opcode_index(tfb *b, int builtin) { return opcode_index_custom(b, builtin, NULL); }

int tfb_op(tfb *b, int builtin, const int *in, int n_in, int out, int options_type, uint32_t options)
{
    return tfb_op_multi(b, builtin, in, n_in, &out, 1, options_type, options);
}

int tfb_op_multi(tfb *b, int builtin, const int *in, int n_in, const int *out, int n_out, int options_type,
                 uint32_t options)
{
    return tfb_op_full(b, builtin, in, n_in, out, n_out, options_type, options, NULL, 0);
}

int tfb_op_full(tfb *b, int builtin, const int *in, int n_in, const int *out, int n_out, int options_type,
                uint32_t options, const int *intermediates, int n_intermediates)
{
    int32_t ins[32], outs[16], inter[16];
    uint32_t in_ref, out_ref, inter_ref = 0;
    int i, code = opcode_index(b, builtin);
    if (b->n_ops >= TFB_MAX || n_in > 32 || n_out > 16 || n_intermediates > 16) return b->failed = 1, 0;
    for (i = 0; i < n_in; i++) ins[i] = in[i];
    for (i = 0; i < n_out; i++) outs[i] = out[i];
    for (i = 0; i < n_intermediates; i++) inter[i] = intermediates[i];
    in_ref = fbw_vector_i32(&b->w, ins, (uint32_t)n_in);
    out_ref = fbw_vector_i32(&b->w, outs, (uint32_t)n_out);
    if (n_intermediates) inter_ref = fbw_vector_i32(&b->w, inter, (uint32_t)n_intermediates);
    fbw_table_start(&b->w);
    if (inter_ref) fbw_add_ref(&b->w, OP_INTERMEDIATES, inter_ref);
    fbw_add_i32(&b->w, OP_OPCODE, code);
    fbw_add_ref(&b->w, OP_INPUTS, in_ref);
    fbw_add_ref(&b->w, OP_OUTPUTS, out_ref);
    if (options_type) {
        fbw_add_u8(&b->w, OP_OPTIONS_TYPE, (uint8_t)options_type);
        fbw_add_ref(&b->w, OP_OPTIONS, options);
    }
    b->ops[b->n_ops] = fbw_table_end(&b->w);
    return b->n_ops++;
}

int tfb_op_custom(tfb *b, const char *name, const int *in, int n_in, const int *out, int n_out, const uint8_t *options,
                  size_t options_len)
{
    int32_t ins[16], outs[16];
    uint32_t in_ref, out_ref, opt_ref;
    int i, code = opcode_index_custom(b, TFB_CUSTOM, name);
    if (b->n_ops >= TFB_MAX || n_in > 16 || n_out > 16) return b->failed = 1, 0;
    for (i = 0; i < n_in; i++) ins[i] = in[i];
    for (i = 0; i < n_out; i++) outs[i] = out[i];
    in_ref = fbw_vector_i32(&b->w, ins, (uint32_t)n_in);
    out_ref = fbw_vector_i32(&b->w, outs, (uint32_t)n_out);
    opt_ref = fbw_vector(&b->w, options, (uint32_t)options_len, 1, 1);
    fbw_table_start(&b->w);
    fbw_add_i32(&b->w, OP_OPCODE, code);
    fbw_add_ref(&b->w, OP_INPUTS, in_ref);
    fbw_add_ref(&b->w, OP_OUTPUTS, out_ref);
    fbw_add_ref(&b->w, OP_CUSTOM_OPTIONS, opt_ref); /* custom_options_format 0 = FLEXBUFFERS (default) */
    b->ops[b->n_ops] = fbw_table_end(&b->w);
    return b->n_ops++;
}

/* FlexBuffers, every width 4 bytes: the key strings, the keys vector (size, then an offset back to
 * each key), the map (keys vector offset, keys width, size, values, one type byte per value), then
 * the root (an offset back to the map's values), its type byte and its width. */
static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

size_t tfb_flex_map(const tfb_flex_entry *e, int n, uint8_t *out, size_t cap)
{
    size_t pos = 0, key_at[32], keys, map;
    int i;
    if (n > 32) return 0;
    for (i = 0; i < n; i++) {
        const size_t len = strlen(e[i].key) + 1;
        if (pos + len > cap) return 0;
        memcpy(out + pos, e[i].key, len);
        key_at[i] = pos;
        pos += len;
    }
    pos = (pos + 3) & ~(size_t)3;
    if (pos + 4 * (size_t)(2 * n + 5) + (size_t)n + 6 > cap) return 0;
    put_u32(out + pos, (uint32_t)n); /* keys vector */
    keys = pos + 4;
    for (i = 0; i < n; i++) put_u32(out + keys + 4 * (size_t)i, (uint32_t)(keys + 4 * (size_t)i - key_at[i]));
    pos = keys + 4 * (size_t)n;
    map = pos + 12;
    put_u32(out + pos, (uint32_t)(pos - keys));
    put_u32(out + pos + 4, 4);
    put_u32(out + pos + 8, (uint32_t)n);
    for (i = 0; i < n; i++) {
        uint8_t *v = out + map + 4 * (size_t)i;
        if (e[i].kind == 1) {
            const float f = (float)e[i].value;
            uint32_t u;
            memcpy(&u, &f, 4);
            put_u32(v, u);
        } else {
            put_u32(v, (uint32_t)(int32_t)e[i].value);
        }
        out[map + 4 * (size_t)n + (size_t)i] = (uint8_t)((e[i].kind == 1 ? 3 : e[i].kind == 2 ? 26 : 1) << 2);
    }
    pos = map + 5 * (size_t)n;
    pos = (pos + 3) & ~(size_t)3;
    put_u32(out + pos, (uint32_t)(pos - map));
    out[pos + 4] = (uint8_t)(9 << 2 | 2); /* a map of 4-byte elements */
    out[pos + 5] = 4;
    return pos + 6;
}

void tfb_io(tfb *b, int input, int output)
{
    if (input >= 0 && b->n_inputs < 4) b->inputs[b->n_inputs++] = input;
    if (output >= 0 && b->n_outputs < 4) b->outputs[b->n_outputs++] = output;
}

int tfb_finish(tfb *b, const char *description)
{
    int32_t ins[4], outs[4];
    uint32_t tensors, inputs, outputs, ops, sg, sgs, codes, buffers, desc = 0, model, metadata = 0;
    int i;
    for (i = 0; i < b->n_inputs; i++) ins[i] = b->inputs[i];
    for (i = 0; i < b->n_outputs; i++) outs[i] = b->outputs[i];
    tensors = fbw_vector_refs(&b->w, b->tensors, (uint32_t)b->n_tensors);
    inputs = fbw_vector_i32(&b->w, ins, (uint32_t)b->n_inputs);
    outputs = fbw_vector_i32(&b->w, outs, (uint32_t)b->n_outputs);
    ops = fbw_vector_refs(&b->w, b->ops, (uint32_t)b->n_ops);
    fbw_table_start(&b->w);
    fbw_add_ref(&b->w, SG_TENSORS, tensors);
    fbw_add_ref(&b->w, SG_INPUTS, inputs);
    fbw_add_ref(&b->w, SG_OUTPUTS, outputs);
    fbw_add_ref(&b->w, SG_OPERATORS, ops);
    sg = fbw_table_end(&b->w);
    sgs = fbw_vector_refs(&b->w, &sg, 1);
    codes = fbw_vector_refs(&b->w, b->codes, (uint32_t)b->n_codes);
    buffers = fbw_vector_refs(&b->w, b->buffers, (uint32_t)b->n_buffers);
    if (description) desc = fbw_string(&b->w, description);
    if (b->metadata_buffer) { /* Model.metadata: [Metadata { name, buffer }] */
        const uint32_t name = fbw_string(&b->w, "TFLITE_METADATA");
        uint32_t entry;
        fbw_table_start(&b->w);
        fbw_add_ref(&b->w, 0, name);
        fbw_add_i32(&b->w, 1, b->metadata_buffer);
        entry = fbw_table_end(&b->w);
        metadata = fbw_vector_refs(&b->w, &entry, 1);
    }
    fbw_table_start(&b->w);
    fbw_add_i32(&b->w, MODEL_VERSION, 3);
    fbw_add_ref(&b->w, MODEL_OPCODES, codes);
    fbw_add_ref(&b->w, MODEL_SUBGRAPHS, sgs);
    if (desc) fbw_add_ref(&b->w, MODEL_DESCRIPTION, desc);
    fbw_add_ref(&b->w, MODEL_BUFFERS, buffers);
    if (metadata) fbw_add_ref(&b->w, MODEL_METADATA, metadata);
    model = fbw_table_end(&b->w);
    return fbw_finish(&b->w, model, "TFL3") && !b->failed;
}

void tfb_metadata_normalization(tfb *b, const float *mean, const float *std, int n)
{
    fbw m; /* ModelMetadata { subgraph_metadata: [ { input_tensor_metadata: [ { process_units: [...] } ] } ] } */
    uint32_t units = 0, tm, ins, sg, sgs, name, root;
    fbw_init(&m);
    if (n > 0) {
        const uint32_t mean_ref = fbw_vector_f32(&m, mean, (uint32_t)n), std_ref = fbw_vector_f32(&m, std, (uint32_t)n);
        uint32_t opts, unit;
        fbw_table_start(&m); /* NormalizationOptions */
        fbw_add_ref(&m, 0, mean_ref);
        fbw_add_ref(&m, 1, std_ref);
        opts = fbw_table_end(&m);
        fbw_table_start(&m); /* ProcessUnit: options_type 1 = NormalizationOptions */
        fbw_add_u8(&m, 0, 1);
        fbw_add_ref(&m, 1, opts);
        unit = fbw_table_end(&m);
        units = fbw_vector_refs(&m, &unit, 1);
    }
    name = fbw_string(&m, "image");
    fbw_table_start(&m); /* TensorMetadata */
    fbw_add_ref(&m, 0, name);
    if (units) fbw_add_ref(&m, 4, units);
    tm = fbw_table_end(&m);
    ins = fbw_vector_refs(&m, &tm, 1);
    fbw_table_start(&m); /* SubGraphMetadata */
    fbw_add_ref(&m, 2, ins);
    sg = fbw_table_end(&m);
    sgs = fbw_vector_refs(&m, &sg, 1);
    name = fbw_string(&m, "generated test model");
    fbw_table_start(&m); /* ModelMetadata */
    fbw_add_ref(&m, 0, name);
    fbw_add_ref(&m, 3, sgs);
    root = fbw_table_end(&m);
    if (fbw_finish(&m, root, "M001"))
        b->metadata_buffer = tfb_buffer(b, fbw_data(&m), m.len);
    else
        b->failed = 1;
    fbw_free(&m);
}

const uint8_t *tfb_bytes(const tfb *b) { return fbw_data(&b->w); }
size_t tfb_size(const tfb *b) { return b->w.len; }

uint32_t tfb_conv_options(tfb *b, int same, int stride, int act)
{
    fbw_table_start(&b->w);
    fbw_add_u8(&b->w, 0, (uint8_t)(same ? 0 : 1)); /* Padding: SAME = 0, VALID = 1 */
    fbw_add_i32(&b->w, 1, stride);
    fbw_add_i32(&b->w, 2, stride);
    fbw_add_u8(&b->w, 3, (uint8_t)act);
    return fbw_table_end(&b->w);
}

uint32_t tfb_depthwise_options(tfb *b, int same, int stride, int multiplier, int act)
{
    fbw_table_start(&b->w);
    fbw_add_u8(&b->w, 0, (uint8_t)(same ? 0 : 1));
    fbw_add_i32(&b->w, 1, stride);
    fbw_add_i32(&b->w, 2, stride);
    fbw_add_i32(&b->w, 3, multiplier);
    fbw_add_u8(&b->w, 4, (uint8_t)act);
    return fbw_table_end(&b->w);
}

uint32_t tfb_pool_options(tfb *b, int same, int stride, int filter, int act)
{
    fbw_table_start(&b->w);
    fbw_add_u8(&b->w, 0, (uint8_t)(same ? 0 : 1));
    fbw_add_i32(&b->w, 1, stride);
    fbw_add_i32(&b->w, 2, stride);
    fbw_add_i32(&b->w, 3, filter);
    fbw_add_i32(&b->w, 4, filter);
    fbw_add_u8(&b->w, 5, (uint8_t)act);
    return fbw_table_end(&b->w);
}

uint32_t tfb_act_options(tfb *b, int act)
{
    fbw_table_start(&b->w);
    fbw_add_u8(&b->w, 0, (uint8_t)act);
    return fbw_table_end(&b->w);
}
