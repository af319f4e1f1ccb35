/* Cortex-M DSP extension helpers (only included under __ARM_FEATURE_DSP). GCC 12 does not
 * fold the rotate into SXTB16, hence the inline assembly for the odd bytes. */
#ifndef QMCU_DSP_H
#define QMCU_DSP_H

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

/* Unaligned word load (one LDR on ARMv7E-M). */
static inline uint32_t qmcu_load_word(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* bytes 0 and 2, sign-extended to two int16 lanes */
static inline uint32_t qmcu_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int32_t)x); }

/* bytes 1 and 3 */
static inline uint32_t qmcu_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* bytes 0/2 (1/3 with ror8) sign-extended and added to the two int16 lanes of `add` */
static inline uint32_t qmcu_sxtab16(uint32_t add, uint32_t x) { return (uint32_t)__sxtab16((int32_t)add, (int32_t)x); }

static inline uint32_t qmcu_sxtab16_ror8(uint32_t add, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(add), "r"(x));
    return r;
}

/* acc + the sum of the four bytes of x read as unsigned (USADA8 against zero) */
static inline uint32_t qmcu_usada8(uint32_t x, uint32_t acc) { return __usada8(x, 0u, acc); }

/* acc + lo(a) * lo(b) + hi(a) * hi(b) */
static inline int32_t qmcu_smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad((int32_t)a, (int32_t)b, acc); }
/* acc + lo(a) * lo(b) */
static inline int32_t qmcu_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb((int32_t)a, (int32_t)b, acc); }
/* acc + hi(a) * hi(b) */
static inline int32_t qmcu_smlatt(uint32_t a, uint32_t b, int32_t acc) { return __smlatt((int32_t)a, (int32_t)b, acc); }

#endif
