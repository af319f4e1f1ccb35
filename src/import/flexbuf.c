/* FlexBuffers (flatbuffers/flexbuffers.h): the root is at the end of the buffer (last byte: its
 * byte width, the byte before: its packed type = type << 2 | log2(bit width)). A map stores its
 * values (each of the map's byte width) followed by one packed type byte per value; before the
 * values, at -1, -2, -3 widths: the element count, the keys vector's byte width and its offset. A
 * key is an offset back to a NUL-terminated string. Offsets are unsigned and point backwards. */
#include "flexbuf.h"

#include <string.h>

enum {
    FLEX_NULL = 0,
    FLEX_INT = 1,
    FLEX_UINT = 2,
    FLEX_FLOAT = 3,
    FLEX_INDIRECT_INT = 6,
    FLEX_INDIRECT_UINT = 7,
    FLEX_INDIRECT_FLOAT = 8,
    FLEX_MAP = 9,
    FLEX_BOOL = 26
};

typedef struct {
    const uint8_t *buf;
    int64_t len;
    int bad;
} flex;

static int width_ok(int64_t w) { return w == 1 || w == 2 || w == 4 || w == 8; }

static uint64_t read_u(flex *f, int64_t pos, int64_t width)
{
    uint64_t v = 0;
    int64_t i;
    if (!width_ok(width) || pos < 0 || pos + width > f->len) {
        f->bad = 1;
        return 0;
    }
    for (i = width - 1; i >= 0; i--) v = v << 8 | f->buf[pos + i];
    return v;
}

static int64_t read_i(flex *f, int64_t pos, int64_t width)
{
    const uint64_t u = read_u(f, pos, width);
    const int shift = 64 - 8 * (int)width;
    return width == 8 ? (int64_t)u : (int64_t)(u << shift) >> shift; /* sign-extend */
}

static double read_float(flex *f, int64_t pos, int64_t width)
{
    const uint64_t u = read_u(f, pos, width);
    if (width == 4) {
        const uint32_t b = (uint32_t)u;
        float x;
        memcpy(&x, &b, 4);
        return x;
    }
    if (width == 8) {
        double x;
        memcpy(&x, &u, 8);
        return x;
    }
    f->bad = 1;
    return 0.0;
}

/* The position an offset at pos (of `width` bytes) points back to. */
static int64_t follow(flex *f, int64_t pos, int64_t width)
{
    const uint64_t off = read_u(f, pos, width);
    if (f->bad || off > (uint64_t)pos) {
        f->bad = 1;
        return 0;
    }
    return pos - (int64_t)off;
}

static int key_equals(flex *f, int64_t pos, const char *key)
{
    const size_t n = strlen(key);
    if (pos < 0 || pos + (int64_t)n >= f->len) return 0;
    return memcmp(f->buf + pos, key, n) == 0 && f->buf[pos + (int64_t)n] == 0;
}

flex_result flex_map_number(const uint8_t *buf, size_t len, const char *key, double *value)
{
    flex f = {buf, (int64_t)len, 0};
    int64_t root_width, root, map, width, size, keys, key_width, i;
    int packed;
    if (len < 3 || len > ((size_t)1 << 30)) return FLEX_CORRUPT;
    root_width = buf[len - 1];
    packed = buf[len - 2];
    root = (int64_t)len - 2 - root_width;
    if (!width_ok(root_width) || root < 0 || packed >> 2 != FLEX_MAP) return FLEX_CORRUPT;
    map = follow(&f, root, root_width);
    width = (int64_t)1 << (packed & 3);
    size = (int64_t)read_u(&f, map - width, width);
    key_width = (int64_t)read_u(&f, map - 2 * width, width);
    keys = follow(&f, map - 3 * width, width);
    if (f.bad || !width_ok(key_width) || size < 0 || size > f.len || map + size * width + size > f.len ||
        keys + size * key_width > f.len)
        return FLEX_CORRUPT;
    for (i = 0; i < size; i++) {
        const int64_t key_at = follow(&f, keys + i * key_width, key_width);
        const int64_t at = map + i * width;
        const int type = buf[map + size * width + i];
        const int64_t value_width = (int64_t)1 << (type & 3);
        if (f.bad) return FLEX_CORRUPT;
        if (!key_equals(&f, key_at, key)) continue;
        switch (type >> 2) {
        case FLEX_NULL: return FLEX_ABSENT;
        case FLEX_INT: *value = (double)read_i(&f, at, width); break;
        case FLEX_UINT:
        case FLEX_BOOL: *value = (double)read_u(&f, at, width); break;
        case FLEX_FLOAT: *value = read_float(&f, at, width); break;
        case FLEX_INDIRECT_INT: *value = (double)read_i(&f, follow(&f, at, width), value_width); break;
        case FLEX_INDIRECT_UINT: *value = (double)read_u(&f, follow(&f, at, width), value_width); break;
        case FLEX_INDIRECT_FLOAT: *value = read_float(&f, follow(&f, at, width), value_width); break;
        default: return FLEX_CORRUPT;
        }
        return f.bad ? FLEX_CORRUPT : FLEX_FOUND;
    }
    return FLEX_ABSENT;
}
