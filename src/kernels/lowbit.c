/* Low-bit activation storage. 4-bit codes are packed 2 per byte and 2-bit codes 4 per byte,
 * element 2i (4i) in the lowest bits (TFLite's order), along the flat NHWC index of the
 * buffer; 3/5/6/7-bit codes are stored one per byte, like 8-bit ones. Codes are unsigned
 * (0 .. 2^b - 1) and are handled as int8 values by the kernels between unpack and pack.
 *
 * Whole bytes move four codes at a time with shift-and-mask spreading inside one word
 * (portable C, ~2 instructions per code on Cortex-M); only a partial first or last byte goes
 * code by code. */
#include <string.h>

#include "qmcu_kernels.h"

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

void qmcu_unpack(int bits, const uint8_t *src, int64_t start, int32_t n, int8_t *dst)
{
    const int per = bits == 4 ? 2 : 4, mask = (1 << bits) - 1;
    int e;
    if (bits != 4 && bits != 2) {
        memcpy(dst, src + start, (size_t)n);
        return;
    }
    src += start / per;
    for (e = (int)(start % per); e && e < per && n > 0; e++, n--) *dst++ = (int8_t)((*src >> (e * bits)) & mask);
    if (e) src++; /* the partial first byte is done */
    if (bits == 4) {
        for (; n >= 4; n -= 4, src += 2, dst += 4) { /* 2 bytes -> 4 codes, one per byte */
            uint32_t t = (uint32_t)src[0] | (uint32_t)src[1] << 16;
            t = (t | t << 4) & 0x0F0F0F0Fu;
            store_word(dst, t);
        }
    } else {
        for (; n >= 4; n -= 4, src++, dst += 4) { /* 1 byte -> 4 codes */
            uint32_t t = *src;
            t = (t | t << 12) & 0x000F000Fu;
            t = (t | t << 6) & 0x03030303u;
            store_word(dst, t);
        }
    }
    for (e = 0; e < n; e++) dst[e] = (int8_t)((src[e / per] >> ((e % per) * bits)) & mask);
}

void qmcu_unpack_in_place(int bits, uint8_t *buf, int32_t n)
{
    const int per = bits == 4 ? 2 : 4, mask = (1 << bits) - 1;
    int32_t e = n, j;
    if (bits != 4 && bits != 2) return;
    /* from the end: code e lands at byte e >= e / per, and every byte it overwrites has been read */
    for (; e & 3; e--) buf[e - 1] = (uint8_t)((buf[(e - 1) / per] >> (((e - 1) % per) * bits)) & mask);
    if (bits == 4) {
        for (j = e / 4 - 1; j >= 0; j--) {
            uint32_t t = (uint32_t)buf[2 * j] | (uint32_t)buf[2 * j + 1] << 16;
            t = (t | t << 4) & 0x0F0F0F0Fu;
            store_word((int8_t *)buf + 4 * j, t);
        }
    } else {
        for (j = e / 4 - 1; j >= 0; j--) {
            uint32_t t = buf[j];
            t = (t | t << 12) & 0x000F000Fu;
            t = (t | t << 6) & 0x03030303u;
            store_word((int8_t *)buf + 4 * j, t);
        }
    }
}

static inline void put_code(int bits, uint8_t *dst, int64_t e, int8_t code)
{
    const int per = bits == 4 ? 2 : 4, mask = (1 << bits) - 1, sh = (int)(e % per) * bits;
    dst[e / per] = (uint8_t)((dst[e / per] & ~(mask << sh)) | ((code & mask) << sh));
}

void qmcu_pack(int bits, const int8_t *src, int32_t n, uint8_t *dst, int64_t start)
{
    const int per = bits == 4 ? 2 : 4;
    if (bits != 4 && bits != 2) {
        memcpy(dst + start, src, (size_t)n);
        return;
    }
    for (; start % per && n > 0; n--) put_code(bits, dst, start++, *src++); /* partial first byte */
    dst += start / per;
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
