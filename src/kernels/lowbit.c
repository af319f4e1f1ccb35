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

/* Per byte of a word of int8 codes, the bits a code in 0 .. 2^bits - 1 never has (negative codes
 * have bit 7). */
static inline uint32_t outside_mask(int bits) { return (0xFFu & ~((1u << bits) - 1u)) * 0x01010101u; }

int qmcu_codes_fit(int bits, const int8_t *codes, int32_t n)
{
    const uint32_t outside = outside_mask(bits);
    uint32_t any = 0;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) any |= load_word(codes + i);
    for (; i < n; i++) any |= (uint8_t)codes[i];
    return (any & outside) == 0;
}

/* ---- version 3 storage: 4-bit planes; 5 / 6-bit codes split into a 4-bit plane and a 1 / 2-bit plane per pixel ---- */

/* The 4-bit plane of version 3 (4-bit maps of c channels, c a multiple of 8, and the low 4 bits
 * of 5 / 6-bit maps): per 8 codes one little-endian word whose byte j holds code j (low nibble)
 * and code j + 4 (high nibble). A word unpacks with two masks and packs with one shifted OR,
 * about one instruction per code on Cortex-M. n is a multiple of 8. */
static void plane4_unpack(const uint8_t *src, int32_t n, int8_t *dst)
{
    for (; n > 0; n -= 8, src += 4, dst += 8) {
        uint32_t w;
        memcpy(&w, src, 4);
        store_word(dst, w & 0x0F0F0F0Fu);
        store_word(dst + 4, (w >> 4) & 0x0F0F0F0Fu);
    }
}

/* The plane word of 8 codes given as two words of 4 (their low 4 bits). */
static inline uint32_t plane_word(uint32_t a, uint32_t b) { return (a & 0x0F0F0F0Fu) | (b & 0x0F0F0F0Fu) << 4; }

static void plane4_pack(const int8_t *src, int32_t n, uint8_t *dst)
{
    for (; n > 0; n -= 8, src += 8, dst += 4) {
        const uint32_t w = plane_word(load_word(src), load_word(src + 4));
        memcpy(dst, &w, 4);
    }
}

/* 4-bit maps use the plane layout when their pixels are whole words of it. */
static int plane4(int store, int32_t c) { return store == 4 && c % 8 == 0; }

size_t qmcu_stored_bytes(int store, int64_t n)
{
    if (store == 5 || store == 6) return (size_t)((n * store + 7) / 8);
    return qmcu_activation_bytes(store, n);
}

/* The high plane of 5 / 6-bit codes (bit 4, or bits 4-5, of each code; code j in the low bits of
 * its byte, TFLite order), four codes at a time: spread to / gathered from one word of codes. */
static inline uint32_t high_spread(int store, uint32_t b)
{
    if (store == 6) { /* 4 codes x 2 bits of one byte -> bits 0-1 of 4 bytes */
        const uint32_t t = (b | b << 12) & 0x000F000Fu;
        return (t | t << 6) & 0x03030303u;
    }
    return (b * 0x00204081u) & 0x01010101u; /* 4 bits of a nibble -> bit 0 of 4 bytes */
}

static inline uint32_t high_gather(int store, uint32_t x)
{
    if (store == 6) {
        uint32_t t = (x >> 4) & 0x03030303u;
        t = (t | t >> 6) & 0x000F000Fu;
        return (t | t >> 12) & 0xFFu;
    }
    return ((x >> 4) & 0x01010101u) * 0x10204080u >> 28;
}

/* Codes ch .. ch + 7 of a 5 / 6-bit pixel stored at px (c channels), given as two words of 4. */
static inline void put_planes(int store, int32_t c, uint8_t *px, int32_t ch, uint32_t a, uint32_t b)
{
    const uint32_t w = plane_word(a, b);
    memcpy(px + ch / 2, &w, 4);
    if (store == 6) {
        px[c / 2 + ch / 4] = (uint8_t)high_gather(6, a);
        px[c / 2 + ch / 4 + 1] = (uint8_t)high_gather(6, b);
    } else {
        px[c / 2 + ch / 8] = (uint8_t)(high_gather(5, a) | high_gather(5, b) << 4);
    }
}

void qmcu_store_unpack(int store, int32_t c, const uint8_t *src, int64_t start, int32_t n, int8_t *dst)
{
    const size_t px = (size_t)c * (size_t)store / 8;
    int32_t p, k;
    if (plane4(store, c)) {
        plane4_unpack(src + start / 2, n, dst);
        return;
    }
    if (store != 5 && store != 6) {
        qmcu_unpack(store, src, start, n, dst);
        return;
    }
    src += (size_t)(start / c) * px;
    for (p = 0; p < n / c; p++, src += px) {
        const uint8_t *hi = src + c / 2; /* 8 codes a step: a word of the 4-bit plane, 1 or 2 bytes of the high one */
        for (k = 0; k < c / 8; k++, dst += 8) {
            uint32_t w, lo0, lo1, h;
            memcpy(&w, src + 4 * k, 4);
            lo0 = w & 0x0F0F0F0Fu;
            lo1 = (w >> 4) & 0x0F0F0F0Fu;
            if (store == 6) {
                if ((h = hi[2 * k]) != 0) lo0 |= high_spread(6, h) << 4;
                if ((h = hi[2 * k + 1]) != 0) lo1 |= high_spread(6, h) << 4;
            } else if ((h = hi[k]) != 0) { /* codes below 16 (common after ReLU): nothing to add */
                lo0 |= high_spread(5, h & 15u) << 4;
                lo1 |= high_spread(5, h >> 4) << 4;
            }
            store_word(dst, lo0);
            store_word(dst + 4, lo1);
        }
    }
}

void qmcu_store_pack(int store, int32_t c, const int8_t *src, int32_t n, uint8_t *dst, int64_t start)
{
    const size_t px = (size_t)c * (size_t)store / 8;
    int32_t p, k;
    if (plane4(store, c)) {
        plane4_pack(src, n, dst + start / 2);
        return;
    }
    if (store != 5 && store != 6) {
        qmcu_pack(store, src, n, dst, start);
        return;
    }
    dst += (size_t)(start / c) * px;
    for (p = 0; p < n / c; p++, dst += px)
        for (k = 0; k < c; k += 8, src += 8) put_planes(store, c, dst, k, load_word(src), load_word(src + 4));
}

/* Byte-wise minimum of two words whose bytes are all 0 .. 127: per byte 0x80 + y - x keeps its
 * top bit exactly when y >= x, and never borrows from the next byte. */
static inline uint32_t min_u7(uint32_t x, uint32_t y)
{
    const uint32_t keep = (((y | 0x80808080u) - x) >> 7 & 0x01010101u) * 0xFFu; /* 0xFF where x <= y */
    return (x & keep) | (y & ~keep);
}

/* One code settled: held to its channel's bound (bnd: NULL for none), then to 0 .. top; 1 when
 * it was outside that range (an outlier). */
static inline int32_t settle_one(int8_t *code, const int8_t *bnd, int32_t top)
{
    if (bnd && *code > *bnd) *code = *bnd;
    if (*code >= 0 && *code <= top) return 0;
    *code = (int8_t)(*code < 0 ? 0 : top);
    return 1;
}

/* 8 codes with one outside 0 .. 2^bits - 1 (rare: an outlier, or a value its channel's bound clamps)
 * settled in place (bnd: their channels' bounds, or NULL); returns the outliers. Kept out of
 * line so the packing loop keeps its registers. */
static __attribute__((noinline)) int32_t settle8(int8_t *src, const int8_t *bnd, int bits)
{
    const int32_t top = (1 << bits) - 1;
    const uint32_t outside = outside_mask(bits);
    uint32_t a = load_word(src), b = load_word(src + 4);
    int32_t count = 0, k;
    if (bnd && !((a | b) & 0x80808080u)) { /* no negative code: the bounds word-wise */
        a = min_u7(a, load_word(bnd));
        b = min_u7(b, load_word(bnd + 4));
        store_word(src, a);
        store_word(src + 4, b);
        if (!((a | b) & outside)) return 0;
    }
    for (k = 0; k < 8; k++) count += settle_one(src + k, bnd ? bnd + k : NULL, top);
    return count;
}

int32_t qmcu_store_pack_saturate(int store, int32_t c, int8_t *src, int32_t n, const int8_t *bound, uint8_t *dst,
                                 int64_t start)
{
    const int32_t top = (1 << store) - 1;
    const uint32_t outside = outside_mask(store);
    int8_t *const first = src; /* starts a pixel */
    const int8_t *const end = src + n;
    int32_t count = 0, k;
    if (plane4(store, c)) { /* one pass: 8 codes checked and packed as one word */
        uint32_t *d = (uint32_t *)(void *)(dst + start / 2);
        for (; src < end; src += 8) {
            uint32_t a = load_word(src), b = load_word(src + 4), w;
            if ((a | b) & outside) {
                count += settle8(src, bound ? bound + (src - first) % c : NULL, store);
                a = load_word(src);
                b = load_word(src + 4);
            }
            w = a | b << 4; /* settled: every code is 0 .. 15, no mask needed */
            memcpy(d++, &w, 4);
        }
        return count;
    }
    if ((store == 5 || store == 6) && c % 8 == 0) { /* one pass: 8 codes checked, then both planes */
        const size_t px = (size_t)c * (size_t)store / 8;
        uint8_t *d = dst + (size_t)(start / c) * px;
        int32_t ch;
        for (; src < end; d += px)
            for (ch = 0; ch < c; ch += 8, src += 8) {
                uint32_t a = load_word(src), b = load_word(src + 4);
                if ((a | b) & outside) {
                    count += settle8(src, bound ? bound + ch : NULL, store);
                    a = load_word(src);
                    b = load_word(src + 4);
                }
                put_planes(store, c, d, ch, a, b);
            }
        return count;
    }
    for (k = 0; k < n; k++) /* other layouts: settled, then packed */
        if (src[k] < 0 || src[k] > top) count += settle_one(src + k, bound ? bound + k % c : NULL, top);
    qmcu_store_pack(store, c, src, n, dst, start);
    return count;
}
