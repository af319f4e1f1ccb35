/* A small bounds-checked FlatBuffers reader (enough for the TFLite schema).
 *
 * Every access is checked against the buffer; a bad offset never reads outside it.
 * Errors are sticky: the first violation sets r->err (with a short description) and
 * every later access returns zero/empty values, so callers can read a whole structure
 * and test r->err once. */
#ifndef QMCU_FLATBUF_H
#define QMCU_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *buf;
    size_t len;
    const char *err; /* NULL while everything was in bounds */
} fb_reader;

typedef struct {
    uint32_t pos;    /* table start (0 = absent table) */
    uint32_t vtable; /* vtable start */
    uint16_t vt_len; /* vtable length in bytes */
} fb_table;

typedef struct {
    uint32_t pos; /* position of element 0 */
    uint32_t n;   /* number of elements */
} fb_vec;

void fb_init(fb_reader *r, const void *buf, size_t len);
fb_table fb_root(fb_reader *r);
int fb_has(const fb_reader *r, fb_table t, int field);
/* Absolute position of a present field's value (0 when absent): for tools that patch models. */
uint32_t fb_field_pos(const fb_reader *r, fb_table t, int field);

uint8_t fb_u8(fb_reader *r, fb_table t, int field, uint8_t def);
int8_t fb_i8(fb_reader *r, fb_table t, int field, int8_t def);
int32_t fb_i32(fb_reader *r, fb_table t, int field, int32_t def);
uint32_t fb_u32(fb_reader *r, fb_table t, int field, uint32_t def);
float fb_f32(fb_reader *r, fb_table t, int field, float def);

/* Sub-table; pos == 0 when absent. */
fb_table fb_table_field(fb_reader *r, fb_table t, int field);
/* Vector of elem_size-byte elements (tables: elem_size 4); n == 0 when absent. */
fb_vec fb_vec_field(fb_reader *r, fb_table t, int field, uint32_t elem_size);
/* String into out (NUL-terminated, truncated to cap-1); empty when absent. */
void fb_string_field(fb_reader *r, fb_table t, int field, char *out, size_t cap);

fb_table fb_vec_table(fb_reader *r, fb_vec v, uint32_t i);
int32_t fb_vec_i32(fb_reader *r, fb_vec v, uint32_t i);
int64_t fb_vec_i64(fb_reader *r, fb_vec v, uint32_t i);
float fb_vec_f32(fb_reader *r, fb_vec v, uint32_t i);
const uint8_t *fb_vec_bytes(fb_reader *r, fb_vec v);

#endif
