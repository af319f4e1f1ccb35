#include <math.h>

#include "qmcu_fixedpoint.h"

void qmcu_quantize_multiplier(double real, int32_t *multiplier, int *shift)
{
    double q;
    int64_t q_fixed;
    if (real == 0.0 || !isfinite(real)) { /* callers refuse non-finite factors; never an undefined cast */
        *multiplier = 0;
        *shift = 0;
        return;
    }
    q = frexp(real, shift);
    q_fixed = (int64_t)round(q * (double)(1LL << 31)); /* TfLiteRound: half away from zero */
    if (q_fixed == (1LL << 31)) {
        q_fixed /= 2;
        ++*shift;
    }
    if (*shift < -31) { /* too small to represent: TFLite flushes to zero */
        *shift = 0;
        q_fixed = 0;
    }
    *multiplier = (int32_t)q_fixed;
}
