/* TFLite's fixed-point requantization, reproduced exactly (gemmlowp rounding).
 *
 * A real multiplier M is stored as (multiplier, shift) with M = multiplier * 2^(shift - 31),
 * multiplier in [2^30, 2^31). shift > 0 is a left shift (TFLite's exponent convention). */
#ifndef QMCU_FIXEDPOINT_H
#define QMCU_FIXEDPOINT_H

#include <stdint.h>

/* (a * b * 2) >> 32 with rounding to nearest; saturates the single overflow case. */
static inline int32_t qmcu_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    int64_t ab, nudge;
    if (a == b && a == INT32_MIN) return INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates, as TFLite's */
}

/* x / 2^exponent rounded to nearest, ties away from zero. */
static inline int32_t qmcu_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t qmcu_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return qmcu_rounding_divide_by_pot(
        qmcu_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier), right);
}

/* The same with ruy's final shift, which breaks ties upwards (toward +inf). TFLite runs its
 * GEMM-based ops (CONV_2D, FULLY_CONNECTED) through ruy, so bit-exactness with TFLite needs
 * this variant there; depthwise, add and the other ops use the away-from-zero one above. */
static inline int32_t qmcu_multiply_by_quantized_multiplier_ties_up(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t h = qmcu_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier);
    return right ? (int32_t)(((int64_t)h + ((int64_t)1 << (right - 1))) >> right) : h;
}

/* Converts an already rounded float to int32, saturating to +-1e6 (NaN -> -1e6), so that
 * huge values from broken scales never overflow the cast; callers clamp to their range. */
static inline int32_t qmcu_float_to_int_sat(float r) { return r > -1e6f ? (r < 1e6f ? (int32_t)r : 1000000) : -1000000; }

static inline int32_t qmcu_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* TFLite QuantizeMultiplier: double -> (multiplier, shift). Host-side (prepare) only. */
void qmcu_quantize_multiplier(double real, int32_t *multiplier, int *shift);

#endif
