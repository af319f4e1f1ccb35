/* QuantMCU from the public API: calibration samples loaded from a folder, then the VDPC
 * calibration and the VDQS search (src/quantize) on the patch plan's geometry. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

/* ---- QuantMCU -------------------------------------------------------------------------- */
void quantmcu_quant_options_default(quantmcu_quant_options *o, int scheme)
{
    qmcu_quant_options d;
    qmcu_quant_options_default(&d, scheme == 1 ? QMCU_SCHEME_V1 : QMCU_SCHEME_V2);
    memset(o, 0, sizeof *o);
    o->scheme = (int)d.scheme;
    o->proxy = (int)d.proxy;
    o->threads = d.threads;
    o->outlier_values = d.keep_outliers;
    o->per_channel = d.per_channel;
    o->clipping = d.clipping;
    o->calib_count = 32;
    o->lambda = d.lambda;
    o->outlier_tiles = d.outlier_tiles;
    memcpy(o->bits, d.cand, sizeof(int) * (size_t)d.n_cand);
    o->n_bits = d.n_cand;
}

/* The first n images of dir as model inputs. */
static qmcu_status load_inputs(const quantmcu_model *m, const char *dir, int limit, uint8_t ***out, int *n,
                               qmcu_error *err)
{
    char **paths = NULL;
    int count = 0, i;
    uint8_t **inputs;
    qmcu_status st = quantmcu_list_images(dir, &paths, &count, err);
    *out = NULL;
    *n = 0;
    if (st != QMCU_OK) return st;
    if (count == 0) {
        quantmcu_free_list(paths, count);
        qmcu_error_set(err, "%s: no samples for calibration (JPEG/PNG/BMP images, or .npy/.bin inputs)", dir);
        return QMCU_ERR_ARG;
    }
    *n = count < limit ? count : limit;
    if (!(inputs = (uint8_t **)calloc((size_t)*n, sizeof *inputs))) st = qmcu_api_nomem(err, dir);
    for (i = 0; st == QMCU_OK && i < *n; i++) {
        if (!(inputs[i] = (uint8_t *)malloc(quantmcu_input_bytes(m))))
            st = qmcu_api_nomem(err, dir);
        else
            st = quantmcu_sample_to_input(m, paths[i], inputs[i], err);
    }
    quantmcu_free_list(paths, count);
    *out = inputs;
    return st;
}

static void free_inputs(uint8_t **inputs, int n)
{
    int i;
    for (i = 0; inputs && i < n; i++) free(inputs[i]);
    free(inputs);
}

qmcu_status quantmcu_quantize(const quantmcu_model *m, const quantmcu_plan *patch, const quantmcu_quant_options *o,
                              quantmcu_plan **out, qmcu_error *err)
{
    qmcu_quant_options qo;
    qmcu_plan *q = NULL;
    uint8_t **inputs = NULL;
    int n = 0;
    qmcu_status st;
    *out = NULL;
    if (!o->calib_dir || o->calib_count < 1 || o->n_bits < 2 || o->n_bits > QMCU_MAX_CANDIDATES || o->bits[0] != 8) {
        qmcu_error_set(err, "%s: QuantMCU needs a calibration folder and candidate widths starting at 8", m->g->path);
        return QMCU_ERR_ARG;
    }
    qmcu_quant_options_default(&qo, o->scheme == 1 ? QMCU_SCHEME_V1 : QMCU_SCHEME_V2);
    qo.proxy = o->proxy == 1 ? QMCU_PROXY_ENTROPY : QMCU_PROXY_OUTPUT;
    qo.threads = o->threads;
    qo.keep_outliers = o->outlier_values;
    qo.per_channel = o->per_channel;
    qo.clipping = o->clipping;
    qo.lambda = o->lambda;
    qo.outlier_tiles = o->outlier_tiles;
    qo.bitops_target = o->bitops_target;
    qo.max_agreement_drop = o->max_agreement_drop;
    memcpy(qo.cand, o->bits, sizeof(int) * (size_t)o->n_bits);
    qo.n_cand = o->n_bits;
    qo.progress.fn = o->progress;
    qo.progress.ctx = o->progress_ctx;
    if (!qmcu_split_is_lowbit_capable(m->g, qmcu_api_layout(patch)->spec.split, err)) return QMCU_ERR_UNSUPPORTED;
    if (qmcu_api_layout(patch)->spec.split == 0) /* the message names the model and the remedy */
        return qmcu_quantmcu_search(m->m, qmcu_api_layout(patch), NULL, 0, &qo, &q, err);
    if ((st = load_inputs(m, o->calib_dir, o->calib_count, &inputs, &n, err)) == QMCU_OK)
        st = qmcu_quantmcu_search(m->m, qmcu_api_layout(patch), (const uint8_t *const *)inputs, n, &qo, &q, err);
    free_inputs(inputs, n);
    if (st != QMCU_OK) return st;
    return qmcu_api_wrap_plan(m, q, out, err);
}

