/* A bounds-checked reader for the FlexBuffers maps TFLite custom operators keep their options in
 * (scalar entries: integers, floats, booleans). Nothing outside the buffer is ever read. */
#ifndef QMCU_FLEXBUF_H
#define QMCU_FLEXBUF_H

#include <stddef.h>
#include <stdint.h>

typedef enum { FLEX_ABSENT = 0, FLEX_FOUND = 1, FLEX_CORRUPT = -1 } flex_result;

/* The number stored under `key` in the root map of buf (an integer, float or boolean): FLEX_FOUND
 * with *value set, FLEX_ABSENT (no such key, or a null), or FLEX_CORRUPT (not a map, bad offsets,
 * a non-scalar value). */
flex_result flex_map_number(const uint8_t *buf, size_t len, const char *key, double *value);

#endif
