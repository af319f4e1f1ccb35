/* UNIDIRECTIONAL_SEQUENCE_LSTM on the host: TFLite 2.9's 8x8->16 parameters and its effective
 * biases (one owned block of eight). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/qmcu_fixedpoint.h"
#include "../emit.h"
#include "../op_host.h"
#include "../prepare.h"

/* UNIDIRECTIONAL_SEQUENCE_LSTM: TFLite's PopulateQuantizedLstmParams8x8_16 without layer norm (gate
 * pre-activations in Q3.12), and its effective biases (the zero points folded into the bias). */
static qmcu_status prepare_lstm(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *x = QMCU_TENSOR_OF(m, op->in[0]), *h = QMCU_TENSOR_OF(m, op->lstm_hidden_state);
    const qmcu_tensor *c = QMCU_TENSOR_OF(m, op->lstm_cell_state);
    qmcu_lstm_params *p = &po->u.lstm;
    const float gate_scale = 1.0f / 4096.0f; /* 2^-12 */
    const float log2_scale = logf(c->scale) * (1.0f / logf(2.0f)), rounded = roundf(log2_scale);
    int32_t *biases;
    int g, r, k, sh;
    p->n_input = x->dims[2];
    p->n_cell = QMCU_TENSOR_OF(m, op->in[4])->dims[0];
    p->n_output = QMCU_TENSOR_OF(m, op->in[8])->dims[1];
    p->time_steps = x->dims[op->time_major ? 0 : 1];
    p->reverse = 0;
    /* TFLite's CheckedLog2 and cell_scale <= -9; its tanh of the cell takes 15 + cell_scale integer bits, 0..6 */
    if (!(fabsf(log2_scale - rounded) < 1e-3f) || rounded > -9.0f || rounded < -15.0f) {
        qmcu_error_set(
            err, "%s: op %d UNIDIRECTIONAL_SEQUENCE_LSTM: cell state scale %g is not a power of two in 2^-15..2^-9",
            m->g->path, i, (double)c->scale);
        return QMCU_ERR_UNSUPPORTED;
    }
    p->cell_scale = (int32_t)rounded;
    biases = (int32_t *)malloc(sizeof(int32_t) * 8 * (size_t)p->n_cell);
    if (!biases) return qmcu_prepare_nomem(m, err);
    p->input_bias[0] = biases; /* owned from here: qmcu_model_free frees it, also after an error below */
    for (g = 0; g < 4; g++) {
        const qmcu_tensor *wi = QMCU_TENSOR_OF(m, op->in[1 + g]), *wr = QMCU_TENSOR_OF(m, op->in[5 + g]);
        const int32_t *bias = (const int32_t *)QMCU_TENSOR_OF(m, op->in[9 + g])->data;
        const float eff_in = wi->scale * x->scale / gate_scale, eff_rec = wr->scale * h->scale / gate_scale;
        int32_t *bi = biases + (size_t)(2 * g) * p->n_cell, *br = bi + p->n_cell;
        if (qmcu_check_rescale(m, i, (double)eff_in, err) != QMCU_OK || qmcu_check_rescale(m, i, (double)eff_rec, err) != QMCU_OK)
            return QMCU_ERR_FORMAT;
        p->input_weights[g] = (const int8_t *)wi->data;
        p->recurrent_weights[g] = (const int8_t *)wr->data;
        qmcu_quantize_multiplier((double)eff_in, &p->input_multiplier[g], &sh);
        p->input_shift[g] = sh;
        qmcu_quantize_multiplier((double)eff_rec, &p->recurrent_multiplier[g], &sh);
        p->recurrent_shift[g] = sh;
        for (r = 0; r < p->n_cell; r++) { /* bias - zero point * row sum, in int32 wrapping as TFLite's on x86 */
            uint32_t si = 0, sr = 0;
            for (k = 0; k < p->n_input; k++)
                si += (uint32_t)(int32_t)((const int8_t *)wi->data)[(size_t)r * p->n_input + k];
            for (k = 0; k < p->n_output; k++)
                sr += (uint32_t)(int32_t)((const int8_t *)wr->data)[(size_t)r * p->n_output + k];
            bi[r] = (int32_t)((uint32_t)bias[r] + si * (uint32_t)-x->zero_point);
            br[r] = (int32_t)(sr * (uint32_t)-h->zero_point);
        }
        p->input_bias[g] = bi;
        p->recurrent_bias[g] = br;
    }
    { /* the hidden state: 2^-15 * 2^-15 / its scale, in double as TFLite's std::pow(2, -15) terms */
        const float eff_hidden = (float)(pow(2.0, -15) / (double)op->lstm_hidden_scale * pow(2.0, -15));
        if (qmcu_check_rescale(m, i, (double)eff_hidden, err) != QMCU_OK) return QMCU_ERR_FORMAT;
        qmcu_quantize_multiplier((double)eff_hidden, &p->hidden_multiplier, &sh);
        p->hidden_shift = sh;
    }
    p->hidden_zero_point = op->lstm_hidden_zero_point;
    p->state_zero_point = h->zero_point;
    p->cell_clip = 0;
    if (op->lstm_cell_clip > 0.0f) {
        const float q = op->lstm_cell_clip / c->scale;
        p->cell_clip = (int32_t)(int16_t)(q > 32767.0f ? 32767.0f : (q < -32768.0f ? -32768.0f : q));
    }
    po->scratch_bytes = qmcu_lstm_scratch_size(p);
    return QMCU_OK;
}

static void release_lstm(qmcu_prepared_op *po, qmcu_op_type type)
{
    (void)type;
    free((void *)po->u.lstm.input_bias[0]); /* all eight effective biases */
}

static void emit_lstm_arrays(FILE *f, const qmcu_model *m, int i)
{
    char name[32];
    snprintf(name, sizeof name, "op%d_lstm_bias", i); /* the eight effective biases, one block */
    qmcu_emit_i32(f, name, m->ops[i].u.lstm.input_bias[0], 8 * (size_t)m->ops[i].u.lstm.n_cell);
}

static void emit_lstm_member(FILE *f, const qmcu_model *m, int i)
{
    const qmcu_lstm_params *l = &m->ops[i].u.lstm;
    const qmcu_op *op = &m->g->ops[i];
    int g;
    fprintf(f,
            ",\n        .u.lstm = {.n_input = %d, .n_cell = %d, .n_output = %d, .time_steps = %d, .reverse = %d, "
            ".hidden_multiplier = %d, .hidden_shift = %d, .hidden_zero_point = %d, .state_zero_point = %d, "
            ".cell_scale = %d, .cell_clip = %d",
            l->n_input, l->n_cell, l->n_output, l->time_steps, l->reverse, l->hidden_multiplier, l->hidden_shift,
            l->hidden_zero_point, l->state_zero_point, l->cell_scale, l->cell_clip);
    for (g = 0; g < 4; g++) /* weights: the op's constant tensors (t<N>_data); biases: op<i>_lstm_bias */
        fprintf(f,
                ",\n            .input_weights[%d] = (const int8_t *)t%d_data, .recurrent_weights[%d] = (const int8_t "
                "*)t%d_data, .input_bias[%d] = op%d_lstm_bias + %d, .recurrent_bias[%d] = op%d_lstm_bias + %d, "
                ".input_multiplier[%d] = %d, .input_shift[%d] = %d, .recurrent_multiplier[%d] = %d, "
                ".recurrent_shift[%d] = %d",
                g, op->in[1 + g], g, op->in[5 + g], g, i, 2 * g * l->n_cell, g, i, (2 * g + 1) * l->n_cell, g,
                l->input_multiplier[g], g, l->input_shift[g], g, l->recurrent_multiplier[g], g, l->recurrent_shift[g]);
    fputc('}', f);
}

const qmcu_op_host qmcu_host_lstm = {prepare_lstm, release_lstm, emit_lstm_arrays, emit_lstm_member};
