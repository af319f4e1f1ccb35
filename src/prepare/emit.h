/* C emitters for prepared data: what codegen writes is the runtime's own structs and arrays, and
 * each op family (src/prepare/ops/) emits its own part with these. Host only. */
#ifndef QMCU_EMIT_H
#define QMCU_EMIT_H

#include <stdio.h>

#include "quantmcu/runtime.h"

/* Separator before element i of a list printed per_line to a line. */
const char *qmcu_emit_sep(size_t i, size_t per_line);
/* A float as a C literal (hex float, exact; INFINITY for infinities). */
void qmcu_emit_float(FILE *f, float v);
/* static const arrays: `type name[n]` of bytes (signed or not), int32, size_t, float. */
void qmcu_emit_bytes(FILE *f, const char *type, const char *name, const uint8_t *d, size_t n, int is_signed);
void qmcu_emit_i32(FILE *f, const char *name, const int32_t *d, size_t n);
void qmcu_emit_sizes(FILE *f, const char *name, const size_t *d, size_t n);
void qmcu_emit_floats(FILE *f, const char *name, const float *d, size_t n);
/* Struct initializers (designated): conv parameters, element-wise parameters. */
void qmcu_emit_conv_params(FILE *f, const qmcu_conv_params *c);
void qmcu_emit_elt(FILE *f, const qmcu_eltwise_params *e);

#endif
