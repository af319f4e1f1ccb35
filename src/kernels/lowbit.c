/* Low-bit activation storage. 4-bit codes are packed 2 per byte and 2-bit codes 4 per byte,
 * element 2i (4i) in the lowest bits (TFLite's order), along the flat NHWC index of the
 * buffer; 3/5/6/7-bit codes are stored one per byte, like 8-bit ones. Codes are unsigned
 * (0 .. 2^b - 1) and are handled as int8 values by the kernels between unpack and pack.
 *
 * Whole bytes move four codes at a time with shift-and-mask spreading inside one word
 * (portable C, ~2 instructions per code on Cortex-M); only a partial first or last byte goes
 * code by code. */
#include <string.h>

#include "quantmcu/kernels.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lowbit.c moves four int8 codes as one little-endian word"
#endif

size_t qmcu_activation_bytes(int bits, int64_t n)
{
    if (bits == 4) return (size_t)((n + 1) / 2);
    if (bits == 2) return (size_t)((n + 3) / 4);
    return (size_t)n;
}

static inline uint32_t load_word(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void store_word(int8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Four codes, one per byte of the result, from 2 bytes of 4-bit codes / 1 byte of 2-bit ones. */
static inline uint32_t spread_4bit(uint32_t b0, uint32_t b1)
{
    const uint32_t t = b0 | b1 << 16;
    return (t | t << 4) & 0x0F0F0F0Fu;
}

static inline uint32_t spread_2bit(uint32_t b)
{
    const uint32_t t = (b | b << 12) & 0x000F000Fu;
    return (t | t << 6) & 0x03030303u;
}

/* Code e of a packed buffer: byte e / per, bits (e % per) * bits (per = 2 or 4 codes a byte:
 * shifts and masks, no 64-bit division on the MCU). */
static inline int8_t get_code(int bits, const uint8_t *src, int64_t e)
{
    const int lg = bits == 4 ? 1 : 2;
    return (int8_t)((src[e >> lg] >> ((int)(e & ((1 << lg) - 1)) * bits)) & ((1 << bits) - 1));
}

void qmcu_unpack(int bits, const uint8_t *src, int64_t start, int32_t n, int8_t *dst)
{
    const int per = bits == 4 ? 2 : 4;
    int e;
    if (bits != 4 && bits != 2) {
        memcpy(dst, src + start, (size_t)n);
        return;
    }
    for (; (start & (per - 1)) && n > 0; n--) *dst++ = get_code(bits, src, start++); /* partial first byte */
    src += start >> (per == 2 ? 1 : 2);
    if (bits == 4) {
        for (; n >= 4; n -= 4, src += 2, dst += 4) store_word(dst, spread_4bit(src[0], src[1]));
    } else {
        for (; n >= 4; n -= 4, src++, dst += 4) store_word(dst, spread_2bit(*src));
    }
    for (e = 0; e < n; e++) dst[e] = get_code(bits, src, e); /* partial last byte */
}

void qmcu_unpack_in_place(int bits, uint8_t *buf, int32_t n)
{
    int32_t e = n, j;
    if (bits != 4 && bits != 2) return;
    /* from the end: code e lands at byte e >= e / per, and every byte it overwrites has been read */
    for (; e & 3; e--) buf[e - 1] = (uint8_t)get_code(bits, buf, e - 1);
    if (bits == 4)
        for (j = e / 4 - 1; j >= 0; j--) store_word((int8_t *)buf + 4 * j, spread_4bit(buf[2 * j], buf[2 * j + 1]));
    else
        for (j = e / 4 - 1; j >= 0; j--) store_word((int8_t *)buf + 4 * j, spread_2bit(buf[j]));
}

static inline void put_code(int bits, uint8_t *dst, int64_t e, int8_t code)
{
    const int lg = bits == 4 ? 1 : 2, mask = (1 << bits) - 1, sh = (int)(e & ((1 << lg) - 1)) * bits;
    dst[e >> lg] = (uint8_t)((dst[e >> lg] & ~(mask << sh)) | ((code & mask) << sh));
}

void qmcu_pack(int bits, const int8_t *src, int32_t n, uint8_t *dst, int64_t start)
{
    const int per = bits == 4 ? 2 : 4;
    if (bits != 4 && bits != 2) {
        memcpy(dst + start, src, (size_t)n);
        return;
    }
    for (; (start & (per - 1)) && n > 0; n--) put_code(bits, dst, start++, *src++); /* partial first byte */
    dst += start >> (per == 2 ? 1 : 2);
    if (bits == 4) {
        for (; n >= 4; n -= 4, src += 4, dst += 2) { /* 4 codes -> 2 bytes */
            uint32_t t = load_word(src) & 0x0F0F0F0Fu;
            t |= t >> 4;
            dst[0] = (uint8_t)t;
            dst[1] = (uint8_t)(t >> 16);
        }
    } else {
        for (; n >= 4; n -= 4, src += 4, dst++) { /* 4 codes -> 1 byte */
            uint32_t t = load_word(src) & 0x03030303u;
            t = (t | t >> 6) & 0x000F000Fu;
            *dst = (uint8_t)(t | t >> 12);
        }
    }
    for (start = 0; start < n; start++) put_code(bits, dst, start, src[start]); /* partial last byte */
}

int qmcu_codes_fit(int bits, const int8_t *codes, int32_t n)
{
    const uint32_t outside = (0xFFu & ~((1u << bits) - 1u)) * 0x01010101u; /* negative codes have bit 7 */
    uint32_t any = 0;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) any |= load_word(codes + i);
    for (; i < n; i++) any |= (uint8_t)codes[i];
    return (any & outside) == 0;
}

/* ---- version 3 storage: 5 / 6-bit codes split into a 4-bit plane and a 1 / 2-bit plane per pixel ---- */

size_t qmcu_stored_bytes(int store, int64_t n)
{
    if (store == 5 || store == 6) return (size_t)((n * store + 7) / 8);
    return qmcu_activation_bytes(store, n);
}

void qmcu_store_unpack(int store, int32_t c, const uint8_t *src, int64_t start, int32_t n, int8_t *dst)
{
    const size_t px = (size_t)c * (size_t)store / 8;
    const int32_t hb = store == 6 ? 2 : 1, per = 8 / hb; /* the high plane: hb bits a code, per codes a byte */
    const uint32_t mask = (1u << hb) - 1u;
    int32_t p, k, j;
    if (store != 5 && store != 6) {
        qmcu_unpack(store, src, start, n, dst);
        return;
    }
    src += (size_t)(start / c) * px;
    for (p = 0; p < n / c; p++, src += px, dst += c) {
        const uint8_t *hi = src + c / 2;
        qmcu_unpack(4, src, 0, c, dst); /* the low 4 bits */
        for (k = 0; k < c / per; k++) {
            const uint32_t b = hi[k];
            if (!b) continue; /* codes below 16: nothing to add (common after ReLU) */
            for (j = 0; j < per; j++) dst[per * k + j] = (int8_t)(dst[per * k + j] | (int8_t)(((b >> (hb * j)) & mask) << 4));
        }
    }
}

void qmcu_store_pack(int store, int32_t c, const int8_t *src, int32_t n, uint8_t *dst, int64_t start)
{
    const size_t px = (size_t)c * (size_t)store / 8;
    const int32_t hb = store == 6 ? 2 : 1, per = 8 / hb; /* the high plane: hb bits a code, per codes a byte */
    const uint32_t mask = (1u << hb) - 1u;
    int32_t p, k, j;
    if (store != 5 && store != 6) {
        qmcu_pack(store, src, n, dst, start);
        return;
    }
    dst += (size_t)(start / c) * px;
    for (p = 0; p < n / c; p++, src += c, dst += px) {
        uint8_t *hi = dst + c / 2;
        qmcu_pack(4, src, c, dst, 0); /* the low 4 bits (qmcu_pack keeps only those) */
        for (k = 0; k < c / per; k++) {
            uint32_t b = 0;
            for (j = 0; j < per; j++) b |= ((uint32_t)(src[per * k + j] >> 4) & mask) << (hb * j);
            hi[k] = (uint8_t)b;
        }
    }
}
