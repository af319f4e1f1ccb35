/* FlatBuffers writer, back to front (see flatbuf_writer.h). */
#include "flatbuf_writer.h"

#include <stdlib.h>
#include <string.h>

void fbw_init(fbw *w) { memset(w, 0, sizeof *w); }

void fbw_free(fbw *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

const uint8_t *fbw_data(const fbw *w) { return w->buf + w->cap - w->len; }

static int grow(fbw *w, size_t n)
{
    size_t cap;
    uint8_t *b;
    if (w->oom) return 0;
    if (w->cap - w->len >= n) return 1;
    cap = w->cap ? w->cap : 1024;
    while (cap - w->len < n) cap *= 2;
    if (!(b = (uint8_t *)malloc(cap))) {
        w->oom = 1;
        return 0;
    }
    if (w->len) memcpy(b + cap - w->len, w->buf + w->cap - w->len, w->len);
    free(w->buf);
    w->buf = b;
    w->cap = cap;
    return 1;
}

static void push(fbw *w, const void *data, size_t n)
{
    if (n == 0 || !grow(w, n)) return;
    w->len += n;
    if (data)
        memcpy(w->buf + w->cap - w->len, data, n);
    else
        memset(w->buf + w->cap - w->len, 0, n);
}

/* Zero padding so that after writing n more bytes the object starts `align`-aligned. */
static void align_for(fbw *w, size_t n, size_t align)
{
    const size_t pad = (align - (w->len + n) % align) % align;
    push(w, NULL, pad);
}

static void push_u32(fbw *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    push(w, b, 4);
}

uint32_t fbw_vector(fbw *w, const void *elems, uint32_t n, uint32_t elem_size, uint32_t align)
{
    const size_t bytes = (size_t)n * elem_size;
    align_for(w, bytes, align < 4 ? 4 : align);
    push(w, elems, bytes); /* the host is little-endian, as the format */
    push_u32(w, n);
    return (uint32_t)w->len;
}

uint32_t fbw_vector_i32(fbw *w, const int32_t *v, uint32_t n) { return fbw_vector(w, v, n, 4, 4); }
uint32_t fbw_vector_f32(fbw *w, const float *v, uint32_t n) { return fbw_vector(w, v, n, 4, 4); }
uint32_t fbw_vector_i64(fbw *w, const int64_t *v, uint32_t n) { return fbw_vector(w, v, n, 8, 8); }

uint32_t fbw_vector_refs(fbw *w, const uint32_t *refs, uint32_t n)
{
    uint32_t i;
    align_for(w, (size_t)n * 4, 4);
    for (i = n; i-- > 0;) push_u32(w, (uint32_t)(w->len + 4 - refs[i])); /* element i -> its object */
    push_u32(w, n);
    return (uint32_t)w->len;
}

uint32_t fbw_string(fbw *w, const char *s)
{
    const size_t n = strlen(s);
    align_for(w, n + 1, 4);
    push(w, NULL, 1); /* NUL */
    push(w, s, n);
    push_u32(w, (uint32_t)n);
    return (uint32_t)w->len;
}

void fbw_table_start(fbw *w)
{
    if (w->in_table) w->oom = 1; /* tables cannot nest: write children first (the whole buffer is refused) */
    w->in_table = 1;
    w->table_end = (uint32_t)w->len;
    w->max_field = -1;
    memset(w->field_ref, 0, sizeof w->field_ref);
}

static void add_scalar(fbw *w, int field, const void *v, size_t n)
{
    if (field < 0 || field >= FBW_MAX_FIELDS) return;
    align_for(w, n, n);
    push(w, v, n);
    w->field_ref[field] = (uint32_t)w->len;
    if (field > w->max_field) w->max_field = field;
}

void fbw_add_u8(fbw *w, int field, uint8_t v) { add_scalar(w, field, &v, 1); }
void fbw_add_i32(fbw *w, int field, int32_t v) { add_scalar(w, field, &v, 4); }
void fbw_add_f32(fbw *w, int field, float v) { add_scalar(w, field, &v, 4); }

void fbw_add_ref(fbw *w, int field, uint32_t ref)
{
    if (field < 0 || field >= FBW_MAX_FIELDS) return;
    align_for(w, 4, 4);
    push_u32(w, (uint32_t)(w->len + 4 - ref));
    w->field_ref[field] = (uint32_t)w->len;
    if (field > w->max_field) w->max_field = field;
}

uint32_t fbw_table_end(fbw *w)
{
    uint16_t vt[2 + FBW_MAX_FIELDS];
    const int n = w->max_field + 1;
    uint32_t table_ref, vt_ref;
    int32_t soffset;
    int f;
    align_for(w, 4, 4);
    push(w, NULL, 4); /* soffset to the vtable, patched below */
    table_ref = (uint32_t)w->len;
    vt[0] = (uint16_t)(4 + 2 * n);
    vt[1] = (uint16_t)(table_ref - w->table_end);
    for (f = 0; f < n; f++) vt[2 + f] = (uint16_t)(w->field_ref[f] ? table_ref - w->field_ref[f] : 0);
    push(w, vt, (size_t)vt[0]); /* the vtable right before the table */
    vt_ref = (uint32_t)w->len;
    soffset = (int32_t)(vt_ref - table_ref); /* vtable = table - soffset */
    if (!w->oom) memcpy(w->buf + w->cap - table_ref, &soffset, 4);
    w->in_table = 0;
    return table_ref;
}

int fbw_finish(fbw *w, uint32_t root, const char *identifier)
{
    align_for(w, identifier ? 8 : 4, 8);
    if (identifier) push(w, identifier, 4);
    push_u32(w, (uint32_t)(w->len + 4 - root));
    return !w->oom;
}
