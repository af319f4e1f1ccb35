/* TFLite_Detection_PostProcess on the host: its scratch (the options are the op's own). */
#include "../op_host.h"

static qmcu_status prepare_detection(const qmcu_model *m, qmcu_prepared_op *po, int i, qmcu_error *err)
{
    const qmcu_op *op = &m->g->ops[i];
    (void)err;
    po->scratch_bytes = qmcu_detection_scratch_size(&op->detect, QMCU_TENSOR_OF(m, op->in[0])->dims[1],
                                                    QMCU_TENSOR_OF(m, op->in[1])->dims[2]);
    return QMCU_OK;
}

const qmcu_op_host qmcu_host_detection = {prepare_detection, NULL, NULL, NULL};
