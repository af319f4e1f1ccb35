/* Low-bit activation storage. 4-bit codes are packed 2 per byte and 2-bit codes 4 per byte,
 * element 2i (4i) in the lowest bits (TFLite's order), along the flat NHWC index of the
 * buffer; 3/5/6/7-bit codes are stored one per byte, like 8-bit ones. Codes are unsigned
 * (0 .. 2^b - 1) and are handled as int8 values by the kernels between unpack and pack. */
#include <string.h>

#include "qmcu_kernels.h"

size_t qmcu_activation_bytes(int bits, int64_t n)
{
    if (bits == 4) return (size_t)((n + 1) / 2);
    if (bits == 2) return (size_t)((n + 3) / 4);
    return (size_t)n;
}

void qmcu_unpack(int bits, const uint8_t *src, int64_t start, int32_t n, int8_t *dst)
{
    int32_t i;
    if (bits == 4) {
        for (i = 0; i < n; i++) {
            const int64_t e = start + i;
            dst[i] = (int8_t)((src[e >> 1] >> ((e & 1) * 4)) & 0xF);
        }
    } else if (bits == 2) {
        for (i = 0; i < n; i++) {
            const int64_t e = start + i;
            dst[i] = (int8_t)((src[e >> 2] >> ((e & 3) * 2)) & 0x3);
        }
    } else {
        memcpy(dst, src + start, (size_t)n);
    }
}

void qmcu_pack(int bits, const int8_t *src, int32_t n, uint8_t *dst, int64_t start)
{
    int32_t i;
    if (bits == 4) {
        for (i = 0; i < n; i++) {
            const int64_t e = start + i;
            const int sh = (int)(e & 1) * 4;
            dst[e >> 1] = (uint8_t)((dst[e >> 1] & ~(0xF << sh)) | ((src[i] & 0xF) << sh));
        }
    } else if (bits == 2) {
        for (i = 0; i < n; i++) {
            const int64_t e = start + i;
            const int sh = (int)(e & 3) * 2;
            dst[e >> 2] = (uint8_t)((dst[e >> 2] & ~(0x3 << sh)) | ((src[i] & 0x3) << sh));
        }
    } else {
        memcpy(dst + start, src, (size_t)n);
    }
}
