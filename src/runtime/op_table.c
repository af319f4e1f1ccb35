/* Every op kernel by op type: the host's table (a generated module emits its model's own). */
#include "quantmcu/runtime.h"

#define QMCU_OP_KERNEL_ENTRY(type, name) [QMCU_OP_##type] = &qmcu_kernel_##name,
const qmcu_op_kernel *const qmcu_op_kernels_all[QMCU_OP_COUNT] = {QMCU_OP_KERNELS(QMCU_OP_KERNEL_ENTRY)};
#undef QMCU_OP_KERNEL_ENTRY
