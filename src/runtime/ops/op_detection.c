/* TFLite_Detection_PostProcess (custom op): box decoding and fast or regular NMS into one packed
 * float tensor (boxes, classes, scores, count) that four SLICE ops unpack; layer stage. */
#include "../exec_internal.h"

static qmcu_status run_detection(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i,
                                 qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    const qmcu_tensor *boxes = QMCU_TENSOR(m, op->in[0]), *scores = QMCU_TENSOR(m, op->in[1]);
    qmcu_detection_inputs di;
    int k;
    (void)r;
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    for (k = 0; k < 3; k++) {
        const qmcu_tensor *t = QMCU_TENSOR(m, op->in[k]);
        di.scale[k] = t->type == QMCU_I8 ? t->scale : 0.0f;
        di.zero_point[k] = t->zero_point;
    }
    di.num_boxes = boxes->dims[1];
    di.code_len = boxes->dims[2];
    di.num_classes_with_background = scores->dims[2];
    di.boxes = qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr;
    di.scores = qmcu_view_of(m, p, mem, -1, i, op->in[1]).ptr;
    di.anchors = qmcu_view_of(m, p, mem, -1, i, op->in[2]).ptr;
    return qmcu_detection_postprocess(&op->detect, &di, mem + p->scratch_offset[i], p->scratch_bytes[i],
                                      (float *)qmcu_view_of(m, p, mem, -1, i, op->out).ptr);
}

const qmcu_op_kernel qmcu_kernel_detection_postprocess = {run_detection};
