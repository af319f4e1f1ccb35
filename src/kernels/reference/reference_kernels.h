/* Naive reference kernels: the definitions, written for clarity, used by the tests to
 * check the fast kernels bit-exactly. Not used by the engine. */
#ifndef QMCU_REFERENCE_KERNELS_H
#define QMCU_REFERENCE_KERNELS_H

#include "quantmcu/kernels.h"

/* conv (depthwise when depthwise != 0): raw bias, offsets applied per tap, out-of-range taps skipped.
 * Requantization with ruy's ties-up shift for conv, away-from-zero for depthwise (as TFLite). */
void qmcu_ref_conv_s8(const qmcu_conv_params *p, const qmcu_requant *rq, int depthwise, const qmcu_dims *in,
                      const int8_t *input, const qmcu_dims *filter, const int8_t *filter_data, const int32_t *bias,
                      const qmcu_dims *out, int8_t *output);
void qmcu_ref_fully_connected_s8(const qmcu_conv_params *p, const qmcu_requant *rq, int32_t rows, int32_t k,
                                 const int8_t *input, int32_t out_ch, const int8_t *filter_data, const int32_t *bias,
                                 int8_t *output);
void qmcu_ref_pool_s8(const qmcu_pool_params *p, const qmcu_dims *in, const int8_t *input, const qmcu_dims *out,
                      int8_t *output);
void qmcu_ref_eltwise_s8(const qmcu_eltwise_params *p, const int32_t in1_dims[4], const int8_t *in1,
                         const int32_t in2_dims[4], const int8_t *in2, const int32_t out_dims[4], int8_t *out);

#endif
