/* A small FlatBuffers writer for tests and tools (the reader is src/import/flatbuf.c).
 *
 * Built back to front like the official builder: children are written before the tables that
 * refer to them, and every object is known by its "ref", its distance from the end of the buffer,
 * which stays valid while the buffer grows at the front. Alignment is kept relative to the end,
 * and fbw_finish pads the front so that positions in the final buffer keep it.
 *
 *   fbw w; fbw_init(&w);
 *   uint32_t name = fbw_string(&w, "x");
 *   fbw_table_start(&w); fbw_add_ref(&w, 3, name); fbw_add_i32(&w, 1, 9); uint32_t t = fbw_table_end(&w);
 *   fbw_finish(&w, t, "TFL3");   -> w.buf + w.cap - w.len, w.len bytes (fbw_data) */
#ifndef QMCU_FLATBUF_WRITER_H
#define QMCU_FLATBUF_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define FBW_MAX_FIELDS 32

typedef struct {
    uint8_t *buf; /* data occupies the last len bytes of cap */
    size_t cap, len;
    int oom; /* sticky: an allocation failed or a table was started inside another: every later call is a no-op */
    /* the table being built */
    int in_table, n_fields;
    uint32_t table_end; /* ref before its first field */
    uint32_t field_ref[FBW_MAX_FIELDS];
    int max_field;
} fbw;

void fbw_init(fbw *w);
void fbw_free(fbw *w);
/* The finished buffer. */
const uint8_t *fbw_data(const fbw *w);

/* Vectors: n elements of elem_size bytes each (little-endian scalars), aligned to align. */
uint32_t fbw_vector(fbw *w, const void *elems, uint32_t n, uint32_t elem_size, uint32_t align);
uint32_t fbw_vector_i32(fbw *w, const int32_t *v, uint32_t n);
uint32_t fbw_vector_f32(fbw *w, const float *v, uint32_t n);
uint32_t fbw_vector_i64(fbw *w, const int64_t *v, uint32_t n);
/* A vector of refs (tables, strings, vectors). */
uint32_t fbw_vector_refs(fbw *w, const uint32_t *refs, uint32_t n);
uint32_t fbw_string(fbw *w, const char *s);

void fbw_table_start(fbw *w);
void fbw_add_u8(fbw *w, int field, uint8_t v);
void fbw_add_i32(fbw *w, int field, int32_t v);
void fbw_add_f32(fbw *w, int field, float v);
void fbw_add_ref(fbw *w, int field, uint32_t ref);
uint32_t fbw_table_end(fbw *w);

/* Writes the root offset and the 4-byte file identifier (may be NULL); returns 0 on failure. */
int fbw_finish(fbw *w, uint32_t root, const char *identifier);

#endif
