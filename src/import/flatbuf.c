#include "flatbuf.h"

#include <string.h>

static int fb_check(fb_reader *r, uint64_t pos, uint64_t size, const char *what)
{
    if (r->err) return 0;
    if (pos > r->len || size > r->len - pos) {
        r->err = what;
        return 0;
    }
    return 1;
}

static uint32_t rd_u32(const fb_reader *r, uint32_t pos)
{
    uint32_t v;
    memcpy(&v, r->buf + pos, 4);
    return v; /* FlatBuffers are little-endian; so are all our hosts and targets */
}

static uint16_t rd_u16(const fb_reader *r, uint32_t pos)
{
    uint16_t v;
    memcpy(&v, r->buf + pos, 2);
    return v;
}

void fb_init(fb_reader *r, const void *buf, size_t len)
{
    r->buf = (const uint8_t *)buf;
    r->len = len > 0x7fffffffu ? 0x7fffffffu : len; /* flatbuffers address at most 2 GB */
    r->err = NULL;
}

static fb_table fb_table_at(fb_reader *r, uint64_t pos)
{
    fb_table t = {0, 0, 0};
    int32_t soff;
    int64_t vt;
    uint16_t vt_len, tbl_len;
    if (pos == 0 || !fb_check(r, pos, 4, "table offset out of bounds")) return t;
    memcpy(&soff, r->buf + pos, 4);
    vt = (int64_t)pos - soff;
    if (vt < 0 || !fb_check(r, (uint64_t)vt, 4, "vtable out of bounds")) return t;
    vt_len = rd_u16(r, (uint32_t)vt);
    tbl_len = rd_u16(r, (uint32_t)vt + 2);
    if (vt_len < 4 || (vt_len & 1) || !fb_check(r, (uint64_t)vt, vt_len, "vtable truncated") ||
        !fb_check(r, pos, tbl_len < 4 ? 4 : tbl_len, "table truncated")) {
        if (!r->err) r->err = "bad vtable";
        return t;
    }
    t.pos = (uint32_t)pos;
    t.vtable = (uint32_t)vt;
    t.vt_len = vt_len;
    return t;
}

fb_table fb_root(fb_reader *r)
{
    fb_table none = {0, 0, 0};
    if (!fb_check(r, 0, 8, "file too short for a flatbuffer")) return none;
    return fb_table_at(r, rd_u32(r, 0));
}

/* Field offset inside the table, or 0 when absent. */
static uint32_t fb_field_off(const fb_reader *r, fb_table t, int field)
{
    uint32_t slot = 4u + 2u * (uint32_t)field;
    if (r->err || t.pos == 0 || field < 0 || slot + 2 > t.vt_len) return 0;
    return rd_u16(r, t.vtable + slot);
}

int fb_has(const fb_reader *r, fb_table t, int field) { return fb_field_off(r, t, field) != 0; }

uint32_t fb_field_pos(const fb_reader *r, fb_table t, int field)
{
    uint32_t off = fb_field_off(r, t, field);
    return off ? t.pos + off : 0;
}

static int fb_scalar(fb_reader *r, fb_table t, int field, void *out, uint32_t size)
{
    uint32_t off = fb_field_off(r, t, field);
    if (!off || !fb_check(r, (uint64_t)t.pos + off, size, "scalar field out of bounds")) return 0;
    memcpy(out, r->buf + t.pos + off, size);
    return 1;
}

uint8_t fb_u8(fb_reader *r, fb_table t, int field, uint8_t def)
{
    uint8_t v;
    return fb_scalar(r, t, field, &v, 1) ? v : def;
}

int8_t fb_i8(fb_reader *r, fb_table t, int field, int8_t def)
{
    int8_t v;
    return fb_scalar(r, t, field, &v, 1) ? v : def;
}

int32_t fb_i32(fb_reader *r, fb_table t, int field, int32_t def)
{
    int32_t v;
    return fb_scalar(r, t, field, &v, 4) ? v : def;
}

uint32_t fb_u32(fb_reader *r, fb_table t, int field, uint32_t def)
{
    uint32_t v;
    return fb_scalar(r, t, field, &v, 4) ? v : def;
}

float fb_f32(fb_reader *r, fb_table t, int field, float def)
{
    float v;
    return fb_scalar(r, t, field, &v, 4) ? v : def;
}

/* Follows a uoffset stored at pos; returns the target position or 0. */
static uint64_t fb_deref(fb_reader *r, uint64_t pos)
{
    uint32_t rel;
    if (!fb_check(r, pos, 4, "offset out of bounds")) return 0;
    rel = rd_u32(r, (uint32_t)pos);
    if (rel == 0 || !fb_check(r, pos + rel, 4, "offset target out of bounds")) return 0;
    return pos + rel;
}

fb_table fb_table_field(fb_reader *r, fb_table t, int field)
{
    fb_table none = {0, 0, 0};
    uint32_t off = fb_field_off(r, t, field);
    if (!off) return none;
    return fb_table_at(r, fb_deref(r, (uint64_t)t.pos + off));
}

fb_vec fb_vec_field(fb_reader *r, fb_table t, int field, uint32_t elem_size)
{
    fb_vec v = {0, 0};
    uint32_t off = fb_field_off(r, t, field);
    uint64_t at;
    uint32_t n;
    if (!off) return v;
    at = fb_deref(r, (uint64_t)t.pos + off);
    if (!at) return v;
    n = rd_u32(r, (uint32_t)at);
    if (!fb_check(r, at + 4, (uint64_t)n * elem_size, "vector runs past end of file")) return v;
    v.pos = (uint32_t)(at + 4);
    v.n = n;
    return v;
}

void fb_string_field(fb_reader *r, fb_table t, int field, char *out, size_t cap)
{
    fb_vec v = fb_vec_field(r, t, field, 1);
    size_t n = v.n < cap - 1 ? v.n : cap - 1;
    if (n) memcpy(out, r->buf + v.pos, n);
    out[n] = 0;
}

fb_table fb_vec_table(fb_reader *r, fb_vec v, uint32_t i)
{
    fb_table none = {0, 0, 0};
    if (i >= v.n) {
        if (!r->err) r->err = "vector index out of range";
        return none;
    }
    return fb_table_at(r, fb_deref(r, (uint64_t)v.pos + 4u * (uint64_t)i));
}

int32_t fb_vec_i32(fb_reader *r, fb_vec v, uint32_t i)
{
    int32_t x;
    if (i >= v.n || r->err) {
        if (!r->err) r->err = "vector index out of range";
        return 0;
    }
    memcpy(&x, r->buf + v.pos + 4u * i, 4);
    return x;
}

int64_t fb_vec_i64(fb_reader *r, fb_vec v, uint32_t i)
{
    int64_t x;
    if (i >= v.n || r->err) {
        if (!r->err) r->err = "vector index out of range";
        return 0;
    }
    memcpy(&x, r->buf + v.pos + 8u * i, 8);
    return x;
}

float fb_vec_f32(fb_reader *r, fb_vec v, uint32_t i)
{
    float x;
    if (i >= v.n || r->err) {
        if (!r->err) r->err = "vector index out of range";
        return 0;
    }
    memcpy(&x, r->buf + v.pos + 4u * i, 4);
    return x;
}

const uint8_t *fb_vec_bytes(fb_reader *r, fb_vec v) { return (r->err || v.n == 0) ? NULL : r->buf + v.pos; }
