/* TFLite's fixed-point requantization, reproduced exactly (gemmlowp rounding).
 *
 * A real multiplier M is stored as (multiplier, shift) with M = multiplier * 2^(shift - 31),
 * multiplier in [2^30, 2^31). shift > 0 is a left shift (TFLite's exponent convention). */
#ifndef QMCU_FIXEDPOINT_H
#define QMCU_FIXEDPOINT_H

#include <stdint.h>

/* gemmlowp SaturatingRoundingDoublingHighMul: (a * b + nudge) / 2^31 with nudge = 2^30 for
 * a*b >= 0 and 1 - 2^30 otherwise, C division truncating. For a negative product that
 * truncation equals floor((a*b + 2^30) / 2^31), the same expression as for a positive one, so
 * one rounding add and one arithmetic shift are exact for every sign (a single SMLAL + shift
 * on Cortex-M). The one overflow case (INT32_MIN squared) saturates. */
static inline int32_t qmcu_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) return INT32_MAX;
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent (0..31) rounded to nearest, ties away from zero (gemmlowp
 * RoundingDivideByPOT). 32-bit only: a variable 64-bit shift is a library call on Cortex-M. */
static inline int32_t qmcu_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)((1u << exponent) - 1u);
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + ((x & mask) > threshold ? 1 : 0);
}

/* shift above 31 (only MUL by an extreme scale ratio): taken mod 32, as x86 does in TFLite 2.9's
 * x * (1 << shift), so that such models match TFLite on every target. */
static inline int32_t qmcu_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift & 31 : 0;
    const int right = shift > 0 ? 0 : -shift;
    return qmcu_rounding_divide_by_pot(qmcu_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier),
                                       right);
}

/* The same with ruy's final shift, which breaks ties upwards (toward +inf). TFLite runs its
 * GEMM-based ops (CONV_2D, FULLY_CONNECTED) through ruy, so bit-exactness with TFLite needs
 * this variant there; depthwise, add and the other ops use the away-from-zero one above. */
static inline int32_t qmcu_multiply_by_quantized_multiplier_ties_up(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t h = qmcu_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier);
    /* (h + 2^(right-1)) >> right without overflow: floor(h / 2^right) plus bit right-1 of h */
    return right ? (h >> right) + ((h >> (right - 1)) & 1) : h;
}

/* Converts an already rounded float to int32, saturating to +-1e6 (NaN -> -1e6), so that
 * huge values from broken scales never overflow the cast; callers clamp to their range. */
static inline int32_t qmcu_float_to_int_sat(float r)
{
    return r > -1e6f ? (r < 1e6f ? (int32_t)r : 1000000) : -1000000;
}

static inline int32_t qmcu_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Signs of a layer's requantization shifts: all <= 0 (multipliers below 1, the usual case),
 * all >= 0 (e.g. low-bit inputs), or mixed. The Cortex-M kernels specialise on it. */
typedef enum { QMCU_SHIFTS_MIXED, QMCU_SHIFTS_RIGHT, QMCU_SHIFTS_LEFT } qmcu_shift_signs;

static inline qmcu_shift_signs qmcu_requant_shift_signs(const int32_t *shift, int32_t n)
{
    int right = 1, left = 1;
    int32_t i;
    for (i = 0; i < n; i++) {
        right &= shift[i] <= 0;
        left &= shift[i] >= 0;
    }
    return right ? QMCU_SHIFTS_RIGHT : (left ? QMCU_SHIFTS_LEFT : QMCU_SHIFTS_MIXED);
}

/* TFLite QuantizeMultiplier: double -> (multiplier, shift). Host-side (prepare) only. */
void qmcu_quantize_multiplier(double real, int32_t *multiplier, int *shift);

#endif
