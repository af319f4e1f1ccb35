/* Every input and output of a model as bytes: raw files and NumPy .npy (version 1-3, C order),
 * and a run over all of them. Byte format = the model's: uint8 tensors as uint8, int8, int32,
 * int64, float32 little-endian. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/host_file.h"
#include "../image/image.h"
#include "api_internal.h"
#include "quantmcu/quantmcu.h"

#define NPY_MAX_HEADER 65536

static const qmcu_tensor *io_tensor(const quantmcu_model *m, int is_output, int k)
{
    const qmcu_graph *g = quantmcu_graph(m);
    const int n = is_output ? g->n_outputs : g->n_inputs;
    if (k < 0 || k >= n) return NULL;
    return &g->tensors[is_output ? g->outputs[k] : g->inputs[k]];
}

int quantmcu_num_inputs(const quantmcu_model *m) { return quantmcu_graph(m)->n_inputs; }
int quantmcu_num_outputs(const quantmcu_model *m) { return quantmcu_graph(m)->n_outputs; }

size_t quantmcu_tensor_bytes(const quantmcu_model *m, int is_output, int k)
{
    const qmcu_tensor *t = io_tensor(m, is_output, k);
    return t ? t->bytes : 0;
}

/* NumPy's name of a tensor's byte format. */
static const char *npy_descr(const qmcu_tensor *t)
{
    switch (t->type) {
    case QMCU_I8: return t->from_uint8 ? "|u1" : "|i1";
    case QMCU_F32: return "<f4";
    case QMCU_I32: return "<i4";
    case QMCU_I64: return "<i8";
    case QMCU_I16: return "<i2";
    }
    return "?";
}

void quantmcu_tensor_describe(const quantmcu_model *m, int is_output, int k, char *buf, size_t cap)
{
    const qmcu_tensor *t = io_tensor(m, is_output, k);
    size_t len = 0;
    int i;
    if (!t || cap == 0) {
        if (cap) buf[0] = 0;
        return;
    }
    buf[0] = 0;
    for (i = 0; i < t->ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? "x%d" : "%d", t->dims[i]);
    if (len < cap) snprintf(buf + len, cap - len, " %s", t->from_uint8 ? "uint8" : qmcu_dtype_name(t->type));
}

/* The value of 'key': in a .npy header dict, or NULL. */
static const char *npy_field(const char *h, const char *key)
{
    char pat[32];
    const char *p;
    snprintf(pat, sizeof pat, "'%s'", key);
    if (!(p = strstr(h, pat))) return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

qmcu_status quantmcu_load_input(const quantmcu_model *m, int k, const char *path, void *dst, qmcu_error *err)
{
    const qmcu_tensor *t = io_tensor(m, 0, k);
    uint8_t *data;
    size_t len, off = 0;
    qmcu_status st;
    if (!t) {
        qmcu_error_set(err, "%s: the model has no input %d", path, k);
        return QMCU_ERR_ARG;
    }
    if ((st = qmcu_read_file(path, "input", t->bytes + NPY_MAX_HEADER, &data, &len, err)) != QMCU_OK) return st;
    if (len >= 10 && !memcmp(data, "\x93NUMPY", 6)) { /* magic, version, header length, header dict */
        const size_t hl = data[6] == 1 ? (size_t)data[8] | ((size_t)data[9] << 8)
                                       : (len >= 12 ? (size_t)data[8] | ((size_t)data[9] << 8) |
                                                          ((size_t)data[10] << 16) | ((size_t)data[11] << 24)
                                                    : (size_t)-1);
        const size_t start = data[6] == 1 ? 10 : 12;
        char *h, descr[8] = "";
        const char *v;
        int64_t elems = 1;
        if (hl > NPY_MAX_HEADER || start + hl > len) {
            qmcu_error_set(err, "%s: truncated .npy header", path);
            free(data);
            return QMCU_ERR_FORMAT;
        }
        h = (char *)malloc(hl + 1);
        if (!h) {
            free(data);
            qmcu_error_set(err, "%s: out of memory", path);
            return QMCU_ERR_NOMEM;
        }
        memcpy(h, data + start, hl);
        h[hl] = 0;
        if ((v = npy_field(h, "descr")) && *v == '\'') sscanf(v + 1, "%7[^']", descr);
        v = npy_field(h, "fortran_order");
        if (!v || strncmp(v, "False", 5) != 0) {
            qmcu_error_set(err, "%s: .npy data must be in C order (fortran_order False)", path);
            st = QMCU_ERR_FORMAT;
        } else if (strcmp(descr, npy_descr(t)) != 0) {
            qmcu_error_set(err, "%s: .npy dtype '%s' but input %d is %s ('%s')", path, descr, k,
                           t->from_uint8 ? "uint8" : qmcu_dtype_name(t->type), npy_descr(t));
            st = QMCU_ERR_FORMAT;
        } else if (!(v = npy_field(h, "shape")) || *v != '(') {
            qmcu_error_set(err, "%s: .npy header has no shape", path);
            st = QMCU_ERR_FORMAT;
        } else {
            char *end;
            for (v++; *v && *v != ')';) {
                const long d = strtol(v, &end, 10);
                if (end == v || d < 0 || d > (1L << 30)) break;
                elems *= d;
                if (elems > (int64_t)1 << 40) break;
                v = end;
                while (*v == ',' || *v == ' ') v++;
            }
            if (*v != ')' || elems != qmcu_tensor_elems(t)) {
                qmcu_error_set(err, "%s: .npy shape does not hold the %lld elements of input %d", path,
                               (long long)qmcu_tensor_elems(t), k);
                st = QMCU_ERR_FORMAT;
            }
        }
        free(h);
        off = start + hl;
        if (st == QMCU_OK && len - off != t->bytes) {
            qmcu_error_set(err, "%s: .npy data has %zu bytes, input %d needs %zu", path, len - off, k, t->bytes);
            st = QMCU_ERR_FORMAT;
        }
    } else if (len != t->bytes) {
        qmcu_error_set(err, "%s: %zu bytes, but input %d (raw bytes) needs %zu", path, len, k, t->bytes);
        st = QMCU_ERR_FORMAT;
    }
    if (st == QMCU_OK) memcpy(dst, data + off, t->bytes);
    free(data);
    return st;
}

qmcu_status quantmcu_save_output(const quantmcu_model *m, int k, const void *src, const char *path, qmcu_error *err)
{
    const qmcu_tensor *t = io_tensor(m, 1, k);
    const size_t n = strlen(path);
    qmcu_atomic_file a;
    qmcu_status st;
    if (!t) {
        qmcu_error_set(err, "%s: the model has no output %d", path, k);
        return QMCU_ERR_ARG;
    }
    if ((st = qmcu_atomic_open(&a, path, err)) != QMCU_OK) return st;
    if (n > 4 && !strcmp(path + n - 4, ".npy")) { /* version 1.0, header padded to 64 bytes, ending in \n */
        char h[256];
        size_t len, i;
        int j;
        len = (size_t)snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", npy_descr(t));
        for (j = 0; j < t->ndim; j++) len += (size_t)snprintf(h + len, sizeof h - len, "%d, ", t->dims[j]);
        len += (size_t)snprintf(h + len, sizeof h - len, "), }");
        while ((10 + len + 1) % 64) h[len++] = ' ';
        h[len++] = '\n';
        fwrite("\x93NUMPY\x01\x00", 1, 8, a.f);
        fputc((int)(len & 255), a.f);
        fputc((int)(len >> 8), a.f);
        for (i = 0; i < len; i++) fputc(h[i], a.f);
    }
    fwrite(src, 1, t->bytes, a.f);
    return qmcu_atomic_commit(&a, err);
}

qmcu_status quantmcu_run_all(const quantmcu_model *m, const quantmcu_plan *p, uint8_t *mem, const void *const *inputs,
                             void *const *outputs, const qmcu_run_options *opt, qmcu_error *err)
{
    const qmcu_exec_plan *e = quantmcu_plan_exec(p);
    const qmcu_graph *g = quantmcu_graph(m);
    qmcu_status st;
    int k;
    qmcu_run_options o = {0, NULL, NULL, NULL, NULL};
    int failed = -1;
    if (opt) o = *opt;
    o.failed_op = &failed;
    for (k = 0; k < g->n_inputs; k++) qmcu_exec_set_input(quantmcu_runtime_model(m), e, mem, k, inputs[k]);
    if ((st = qmcu_exec_run(quantmcu_runtime_model(m), e, mem, &o)) != QMCU_OK) {
        qmcu_api_run_failed(g, st, failed, err);
        return st;
    }
    for (k = 0; k < g->n_outputs; k++) qmcu_exec_get_output(quantmcu_runtime_model(m), e, mem, k, outputs[k]);
    return QMCU_OK;
}

qmcu_status quantmcu_sample_to_input(const quantmcu_model *m, const char *path, void *input, qmcu_error *err)
{
    const char *dot = strrchr(path, '.');
    if (dot && (!strcmp(dot, ".npy") || !strcmp(dot, ".bin") || !strcmp(dot, ".NPY") || !strcmp(dot, ".BIN")))
        return quantmcu_load_input(m, 0, path, input, err);
    return qmcu_image_to_input(m->g, path, input, err);
}
