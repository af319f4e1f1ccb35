/* Integer GEMM core shared by convolution and fully connected (internal). */
#ifndef QMCU_GEMM_S8_H
#define QMCU_GEMM_S8_H

#include "quantmcu/kernels.h"

/* out[r * out_stride + oc] = requant(sum_k a[r][k] * b[oc][k] + filter_offset * sum_k a[r][k] + bias[oc])
 * a: rows of k int8 at stride lda; b: out_ch rows of k int8 (contiguous). */
void qmcu_gemm_s8(const qmcu_conv_params *p, const qmcu_requant *rq, const int8_t *a, int32_t rows, int32_t lda,
                  int32_t k, const int8_t *b, int32_t out_ch, const int32_t *bias, int8_t *out, int32_t out_stride);

#endif
