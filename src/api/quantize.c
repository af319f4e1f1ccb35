/* QuantMCU from the public API: calibration samples loaded from a folder, then the VDPC
 * calibration and the VDQS search (src/quantize) on the patch plan's geometry. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

/* ---- QuantMCU -------------------------------------------------------------------------- */
/* The public scheme number (1, 2, 3; anything else: the default, 3) as the library's. */
static qmcu_quant_scheme qmcu_api_scheme(int scheme)
{
    return scheme == 1 ? QMCU_SCHEME_V1 : (scheme == 2 ? QMCU_SCHEME_V2 : QMCU_SCHEME_V3);
}

void quantmcu_quant_options_default(quantmcu_quant_options *o, int scheme)
{
    qmcu_quant_options d;
    qmcu_quant_options_default(&d, qmcu_api_scheme(scheme));
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
    o->max_kl = d.max_kl;
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
    qmcu_plan *q = NULL, *geom = NULL;
    const qmcu_plan *base;
    uint8_t **inputs = NULL;
    double int8_pred = 0.0, bits_pred = 0.0;
    int n = 0, from_bits = 0;
    qmcu_status st;
    *out = NULL;
    if (!o->calib_dir || o->calib_count < 1 || o->n_bits < 2 || o->n_bits > QMCU_MAX_CANDIDATES || o->bits[0] != 8) {
        qmcu_error_set(err, "%s: QuantMCU needs a calibration folder and candidate widths starting at 8", m->g->path);
        return QMCU_ERR_ARG;
    }
    qmcu_quant_options_default(&qo, qmcu_api_scheme(o->scheme));
    qo.proxy = o->proxy == 1 ? QMCU_PROXY_ENTROPY : QMCU_PROXY_OUTPUT;
    qo.threads = o->threads;
    qo.keep_outliers = o->outlier_values;
    qo.per_channel = o->per_channel;
    qo.clipping = o->clipping;
    qo.lambda = o->lambda;
    qo.outlier_tiles = o->outlier_tiles;
    qo.bitops_target = o->bitops_target;
    qo.max_agreement_drop = o->max_agreement_drop;
    qo.patch_sram = o->patch_sram;
    qo.max_kl = o->max_kl;
    memcpy(qo.cand, o->bits, sizeof(int) * (size_t)o->n_bits);
    qo.n_cand = o->n_bits;
    qo.progress.fn = o->progress;
    qo.progress.ctx = o->progress_ctx;
    if (o->choose_geometry && qo.scheme == QMCU_SCHEME_V3) { /* split x grid x halo with the bits */
        const qmcu_plan *p8 = qmcu_api_layout(patch);
        const double int8 = p8->arena_bytes <= p8->spec.sram_budget ? qmcu_cost_predict(p8) : 0.0;
        if ((st = qmcu_plan_search_lowbit(m->m, p8->spec.sram_budget, p8->spec.input_in_sram, &geom, &bits_pred, err)) !=
            QMCU_OK)
            return st;
        /* the bits' geometry when only it fits, or when it is predicted >= 1 % faster */
        from_bits = geom && (int8 <= 0.0 || bits_pred < 0.99 * int8);
        if (!from_bits) {
            qmcu_plan_free(geom);
            geom = NULL;
        }
        base = geom ? geom : p8;
        qo.memory_only = 1; /* bits where the budget needs them: the objective is device instructions */
        if (base->spec.split == 0 && p8->arena_bytes <= p8->spec.sram_budget) {
            /* layer by layer fits and is the fastest: no patch stage, so nothing for bits to buy; the
               int8 plan itself (no QuantMCU section) */
            qmcu_plan *same = NULL;
            qmcu_plan_spec spec = p8->spec;
            qmcu_plan_free(geom);
            if ((st = qmcu_plan_build(m->m, &spec, &same, err)) != QMCU_OK) return st;
            same->spec.sram_budget = p8->spec.sram_budget;
            return qmcu_api_wrap_plan(m, same, out, err);
        }
        if (!qmcu_split_is_lowbit_capable(m->g, base->spec.split, err)) {
            qmcu_plan_free(geom);
            return QMCU_ERR_UNSUPPORTED;
        }
        int8_pred = int8;
    } else {
        base = qmcu_api_layout(patch);
        if (!qmcu_split_is_lowbit_capable(m->g, base->spec.split, err)) return QMCU_ERR_UNSUPPORTED;
    }
    if (base->spec.split == 0) { /* the message names the model and the remedy */
        st = qmcu_quantmcu_search(m->m, base, NULL, 0, &qo, &q, err);
        qmcu_plan_free(geom);
        return st;
    }
    if ((st = load_inputs(m, o->calib_dir, o->calib_count, &inputs, &n, err)) == QMCU_OK)
        st = qmcu_quantmcu_search(m->m, base, (const uint8_t *const *)inputs, n, &qo, &q, err);
    if (st == QMCU_OK && from_bits && !qmcu_plan_vdq(q)->guard_met) {
        /* the bits' geometry misses the accuracy guard: the int8 plan's geometry instead */
        qmcu_plan *again = NULL;
        const int fs = q->spec.split, fh = q->spec.grid_h, fw = q->spec.grid_w;
        const double fkl = qmcu_plan_vdq(q)->calib_kl;
        if ((st = qmcu_quantmcu_search(m->m, qmcu_api_layout(patch), (const uint8_t *const *)inputs, n, &qo, &again,
                                       err)) == QMCU_OK) {
            qmcu_plan_free(q);
            q = again;
            from_bits = 0;
            qmcu_plan_vdq(q)->geometry_guard_failed = 1;
            qmcu_plan_vdq(q)->failed_split = fs;
            qmcu_plan_vdq(q)->failed_grid_h = fh;
            qmcu_plan_vdq(q)->failed_grid_w = fw;
            qmcu_plan_vdq(q)->failed_kl = fkl;
        }
    }
    free_inputs(inputs, n);
    qmcu_plan_free(geom);
    if (st != QMCU_OK) {
        qmcu_plan_free(q);
        return st;
    }
    if (o->choose_geometry && qo.scheme == QMCU_SCHEME_V3) {
        qmcu_vdq *v = qmcu_plan_vdq(q);
        v->geometry_searched = 1;
        v->geometry_from_bits = from_bits;
        v->int8_predicted = int8_pred;
        v->bits_predicted = bits_pred;
    }
    return qmcu_api_wrap_plan(m, q, out, err);
}

