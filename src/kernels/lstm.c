/* Fully integer UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite 2.9 runs it (lstm_eval's integer 8x8->16
 * step, portable tensor_utils): int8 input and hidden state, int16 cell state and gates. Gate
 * pre-activations are int16 Q3.12, sigmoid and tanh are gemmlowp's 16-bit fixed-point functions
 * (ported below operation by operation: int16 additions wrap, products are saturating rounding
 * doubling high multiplies), the cell update is in the cell's power-of-two scale. */
#include <string.h>

#include "qmcu_fixedpoint.h"
#include "quantmcu/kernels.h"

/* ---- gemmlowp FixedPoint<int16_t, m> (fixedpoint.h), m = integer bits --------------------- */
typedef int16_t fx16;

static fx16 wrap16(int32_t v) { return (fx16)(int16_t)(uint16_t)(uint32_t)v; }
static fx16 add16(fx16 a, fx16 b) { return wrap16((int32_t)a + b); }
static fx16 sub16(fx16 a, fx16 b) { return wrap16((int32_t)a - b); }
static fx16 neg16(fx16 a) { return wrap16(-(int32_t)a); }

static fx16 sat_add16(fx16 a, fx16 b)
{
    const int32_t s = (int32_t)a + b;
    return (fx16)(s > 32767 ? 32767 : (s < -32768 ? -32768 : s));
}

/* SaturatingRoundingDoublingHighMul<int16_t> (also the FixedPoint product) */
static fx16 mul16(fx16 a, fx16 b)
{
    const int32_t ab = (int32_t)a * b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    if (a == b && a == INT16_MIN) return INT16_MAX;
    return (fx16)((ab + nudge) / (1 << 15));
}

static fx16 rdbp16(fx16 x, int exponent) /* RoundingDivideByPOT<int16_t> */
{
    const fx16 mask = (fx16)((1 << exponent) - 1), remainder = (fx16)(x & mask);
    const fx16 threshold = (fx16)((mask >> 1) + (x < 0 ? 1 : 0));
    return (fx16)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

/* SaturatingRoundingMultiplyByPOT<exponent> */
static fx16 srmul_pot16(fx16 x, int exponent)
{
    if (exponent < 0) return rdbp16(x, -exponent);
    if (exponent > 0) {
        const int32_t threshold = (1 << (15 - exponent)) - 1;
        if (x > threshold) return INT16_MAX;
        if (x < -threshold) return INT16_MIN;
        return wrap16((int32_t)x * (1 << exponent));
    }
    return x;
}

/* Rescale<dst>(x with src integer bits) */
static fx16 rescale16(fx16 x, int src_bits, int dst_bits) { return srmul_pot16(x, src_bits - dst_bits); }

/* A 32-bit fixed-point constant as the 16-bit one (RescaleConstantInitializer) */
static fx16 const16(int32_t v) { return (fx16)qmcu_rounding_divide_by_pot(v, 16); }

static fx16 one16(int int_bits) { return int_bits == 0 ? INT16_MAX : (fx16)(1 << (15 - int_bits)); }

/* exp(x) for x in [-1/4, 0), Q0.15 */
static fx16 exp_quarter16(fx16 a)
{
    const fx16 constant_term = const16(1895147668), one_third = const16(715827883);
    const fx16 x = add16(a, (fx16)(1 << 12));
    const fx16 x2 = mul16(x, x), x3 = mul16(x2, x), x4 = mul16(x2, x2);
    const fx16 x4_over_4 = srmul_pot16(x4, -2);
    const fx16 poly = srmul_pot16(add16(mul16(add16(x4_over_4, x3), one_third), x2), -1);
    return sat_add16(constant_term, mul16(constant_term, add16(x, poly)));
}

/* exp(x) for x <= 0 with m integer bits -> Q0.15 */
static fx16 exp_negative16(fx16 a, int m)
{
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int frac = 15 - m;
    const fx16 quarter = (fx16)(1 << (frac - 2));
    const fx16 mask = sub16(quarter, 1);
    const fx16 a_mod = sub16((fx16)(a & mask), quarter);
    fx16 result = exp_quarter16(rescale16(a_mod, m, 0));
    const fx16 remainder = sub16(a_mod, a);
    int e;
    for (e = -2; e <= 4; e++) /* the barrel shifter */
        if (m > e) {
            const fx16 bit = wrap16(1 << (frac + e));
            if (remainder & bit) result = mul16(result, const16(multipliers[e + 2]));
        }
    if (m > 5) {
        const fx16 clamp = const16(-(1 << (36 - m)));
        if (a < clamp) result = 0;
    }
    return a == 0 ? INT16_MAX : result;
}

/* Newton-Raphson 1 / (1 + x) (minus = 0) or (1 - x) / (1 + x) (minus = 1) for x in (0, 1) */
static fx16 nr_divide16(fx16 a, int minus)
{
    const int32_t sum = (int32_t)a + INT16_MAX, sign = sum >= 0 ? 1 : -1;
    const fx16 half_denominator = (fx16)((sum + sign) / 2); /* RoundingHalfSum */
    const fx16 c48_17 = const16(1515870810), cneg32_17 = const16(-1010580540), one_f2 = (fx16)(1 << 13);
    fx16 x = add16(c48_17, mul16(half_denominator, cneg32_17));
    int i;
    for (i = 0; i < 3; i++) {
        const fx16 one_minus = sub16(one_f2, mul16(half_denominator, x));
        x = add16(x, rescale16(mul16(x, one_minus), 4, 2));
    }
    return minus ? rescale16(sub16(x, one_f2), 2, 0) : rescale16(x, 1, 0);
}

static fx16 logistic16(fx16 a, int m)
{
    const fx16 abs_a = a > 0 ? a : neg16(a);
    const fx16 pos = nr_divide16(exp_negative16(neg16(abs_a), m), 0);
    if (a == 0) return const16(1 << 30);
    return a > 0 ? pos : sub16(one16(0), pos);
}

static fx16 tanh16(fx16 a, int m)
{
    const fx16 n = a < 0 ? a : neg16(a);
    const fx16 t = nr_divide16(exp_negative16(n, m + 1), 1); /* ExactMulByPot<1>: one more integer bit */
    if (a == 0) return 0;
    return a < 0 ? neg16(t) : t;
}

/* ---- the step ------------------------------------------------------------------------------ */
static int16_t clamp16(int32_t v) { return (int16_t)(v > 32767 ? 32767 : (v < -32768 ? -32768 : v)); }

/* MatrixBatchVectorMultiplyAccumulate (int8 x int8 -> int16, accumulating with saturation) */
static void gate_accumulate(const int8_t *x, int32_t n_in, const int8_t *w, const int32_t *bias, int32_t n_cell,
                            int32_t multiplier, int32_t shift, int16_t *gate)
{
    int32_t r, c;
    for (r = 0; r < n_cell; r++) {
        uint32_t sum = (uint32_t)bias[r]; /* int32 wrapping, as TFLite's on x86 */
        int32_t acc;
        for (c = 0; c < n_in; c++) sum += (uint32_t)((int32_t)x[c] * w[(size_t)r * n_in + c]);
        acc = qmcu_multiply_by_quantized_multiplier((int32_t)sum, multiplier, shift);
        gate[r] = clamp16(acc + gate[r]);
    }
}

size_t qmcu_lstm_scratch_size(const qmcu_lstm_params *p)
{
    return (size_t)p->n_output + 2u * (size_t)p->n_cell /* output state, cell state */ + 4u * 2u * (size_t)p->n_cell +
           (size_t)p->n_cell + 16u;
}

/* One gate: input and recurrent contributions, then its activation. */
static void gate(const qmcu_lstm_params *p, int g, const int8_t *x, const int8_t *h, int16_t *out, int tanh_gate)
{
    int32_t c;
    memset(out, 0, sizeof(int16_t) * (size_t)p->n_cell);
    gate_accumulate(x, p->n_input, p->input_weights[g], p->input_bias[g], p->n_cell, p->input_multiplier[g],
                    p->input_shift[g], out);
    gate_accumulate(h, p->n_output, p->recurrent_weights[g], p->recurrent_bias[g], p->n_cell,
                    p->recurrent_multiplier[g], p->recurrent_shift[g], out);
    for (c = 0; c < p->n_cell; c++) out[c] = tanh_gate ? tanh16(out[c], 3) : logistic16(out[c], 3);
}

qmcu_status qmcu_lstm_s8(const qmcu_lstm_params *p, const int8_t *input, int8_t *output, void *scratch,
                         size_t scratch_bytes)
{
    const int32_t nc = p->n_cell;
    int8_t *h = (int8_t *)scratch;
    int16_t *cell = (int16_t *)(void *)((uint8_t *)scratch + (((size_t)p->n_output + 1u) & ~(size_t)1));
    int16_t *g_in = cell + nc, *g_forget = g_in + nc, *g_cell = g_forget + nc, *g_out = g_cell + nc;
    int8_t *hidden = (int8_t *)(g_out + nc);
    int32_t t, c;
    if (qmcu_lstm_scratch_size(p) > scratch_bytes || p->n_output != nc) return QMCU_ERR_ARG;
    /* the states start from zero every run, as TFLite resets variable tensors: an int8 one to its zero point */
    memset(h, (int8_t)p->state_zero_point, (size_t)p->n_output);
    memset(cell, 0, sizeof(int16_t) * (size_t)nc);
    for (t = 0; t < p->time_steps; t++) {
        const int32_t step = p->reverse ? p->time_steps - 1 - t : t;
        const int8_t *x = input + (size_t)step * p->n_input;
        gate(p, 1, x, h, g_forget, 0);
        gate(p, 2, x, h, g_cell, 1);
        gate(p, 0, x, h, g_in, 0);
        for (c = 0; c < nc; c++) { /* new cell: forget * cell + input * modulation, saturating */
            const int16_t kept = (int16_t)qmcu_rounding_divide_by_pot((int32_t)g_forget[c] * cell[c], 15);
            const int16_t added =
                (int16_t)qmcu_rounding_divide_by_pot((int32_t)g_in[c] * g_cell[c], 30 + p->cell_scale);
            int16_t v = clamp16((int32_t)kept + added);
            if (p->cell_clip > 0)
                v = (int16_t)(v > p->cell_clip ? p->cell_clip : (v < -p->cell_clip ? -p->cell_clip : v));
            cell[c] = v;
        }
        gate(p, 3, x, h, g_out, 0);
        for (c = 0; c < nc; c++) { /* hidden = output gate * tanh(cell), requantized to the int8 state */
            int32_t v = (int32_t)g_out[c] * tanh16(cell[c], 15 + p->cell_scale);
            v = qmcu_multiply_by_quantized_multiplier(v, p->hidden_multiplier, p->hidden_shift);
            v -= p->hidden_zero_point; /* sic: TFLite 2.9's PortableCwiseMul subtracts the zero point */
            hidden[c] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
        }
        memcpy(output + (size_t)step * p->n_output, hidden, (size_t)p->n_output);
        memcpy(h, hidden, (size_t)p->n_output);
    }
    return QMCU_OK;
}
