/* Preparation (host only; allocates): a graph's kernel parameters — multipliers, folded biases,
 * activation ranges, lookup tables — computed once with TensorFlow Lite 2.9's formulas, so that
 * every run (host or generated code) is bit-exact with TFLite. */
#ifndef QMCU_PREPARE_H
#define QMCU_PREPARE_H

#include "quantmcu/runtime.h"

qmcu_status qmcu_model_prepare(const qmcu_graph *g, qmcu_model **out, qmcu_error *err);
void qmcu_model_free(qmcu_model *m);

/* TFLite's activation range (CalculateActivationRangeQuantized) for an output quantized with
 * (scale, zero point) in the storage domain, within int8. */
void qmcu_activation_range(qmcu_activation act, float scale, int32_t zero_point, int32_t *lo, int32_t *hi);
/* ADD/MUL parameters (TFLite's formulas) for the given input/output quantizations. */
qmcu_status qmcu_eltwise_prepare(const qmcu_graph *g, int op, float s1, int32_t zp1, float s2, int32_t zp2, float sy,
                                 int32_t zpy, qmcu_eltwise_params *e, qmcu_error *err);
/* Per-output-channel multipliers of conv / depthwise / FC op `op` for the given input and
 * output scales, with TFLite 2.9's formula for the model's type. */
qmcu_status qmcu_conv_multipliers(const qmcu_graph *g, int op, float in_scale, float out_scale, int32_t *multiplier,
                                  int32_t *shift, qmcu_error *err);

#endif
