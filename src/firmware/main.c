/* Firmware: reads input.bin (the model input tensor bytes) through semihosting, runs the
 * generated model once, writes output.bin (every output, one after the other) and prints "instructions N" (emulated instructions
 * of qmcu_model_run, SysTick under QEMU -icount shift=0; resolution 40). */
#include "qmcu_model.h"
#include "semihost.h"
#include "systick.h"

#ifdef QMCU_PROFILE
/* per-op cost: SysTick ticks accumulated over every execution (tiles) of each op */
#include "quantmcu/runtime.h"
static uint64_t g_op_ticks[QMCU_MODEL_OPS], g_op_start;
static void profile_hook(int op, int end)
{
    const uint64_t t = systick_ticks();
    if (!end)
        g_op_start = t;
    else if (op >= 0 && op < QMCU_MODEL_OPS)
        g_op_ticks[op] += t - g_op_start;
}
#endif

int main(void)
{
    uint64_t t0, t1;
    int fd, st;
    fd = sh_open("input.bin", 0);
    if (fd < 0 || sh_read(fd, qmcu_model_input(), QMCU_MODEL_INPUT_BYTES) != 0) {
        sh_print("firmware: cannot read input.bin\n");
        return 4;
    }
    sh_close(fd);
    systick_start();
#ifdef QMCU_PROFILE
    qmcu_op_hook = profile_hook;
#endif
    t0 = systick_ticks();
    st = qmcu_model_run(qmcu_model_input(), 0);
    t1 = systick_ticks();
    fd = sh_open("output.bin", 1); /* every output, one after the other */
    if (fd < 0) {
        sh_print("firmware: cannot write output.bin\n");
        return 4;
    }
    {
        int k;
        for (k = 0; k < QMCU_MODEL_OUTPUTS; k++)
            if (sh_write(fd, qmcu_model_output_at(k), qmcu_model_output_size(k)) != 0) {
                sh_print("firmware: cannot write output.bin\n");
                return 4;
            }
    }
    sh_close(fd);
    sh_print("instructions ");
    sh_print_u64((t1 - t0) * QMCU_INSTRUCTIONS_PER_TICK);
    sh_print("\n");
#ifdef QMCU_PROFILE
    {
        int i;
        for (i = 0; i < QMCU_MODEL_OPS; i++) {
            sh_print("op ");
            sh_print_u64((uint64_t)i);
            sh_print(" ");
            sh_print_u64(g_op_ticks[i] * QMCU_INSTRUCTIONS_PER_TICK);
            sh_print("\n");
        }
    }
#endif
    return st == 0 ? 0 : 2;
}
