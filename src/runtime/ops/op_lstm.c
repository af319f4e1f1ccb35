/* UNIDIRECTIONAL_SEQUENCE_LSTM, fully integer (TFLite 2.9's 8x8->16 step); layer stage. Its
 * states live in its scratch and start from their zero points on every run. */
#include "../exec_internal.h"

static qmcu_status run_lstm(const qmcu_model *m, const qmcu_exec_plan *p, uint8_t *mem, int tile, int i, qmcu_window r)
{
    const qmcu_op *op = &m->g->ops[i];
    (void)r;
    if (tile >= 0) return QMCU_ERR_UNSUPPORTED;
    return qmcu_lstm_s8(&m->ops[i].u.lstm, (const int8_t *)qmcu_view_of(m, p, mem, -1, i, op->in[0]).ptr,
                        (int8_t *)qmcu_view_of(m, p, mem, -1, i, op->out).ptr, mem + p->scratch_offset[i],
                        p->scratch_bytes[i]);
}

const qmcu_op_kernel qmcu_kernel_unidirectional_sequence_lstm = {run_lstm};
