/* SysTick as a 64-bit counter. Under QEMU -icount shift=0 a tick is 40 emulated instructions. */
#ifndef QMCU_SYSTICK_H
#define QMCU_SYSTICK_H

#include <stdint.h>

#define QMCU_INSTRUCTIONS_PER_TICK 40u

void systick_start(void);
uint64_t systick_ticks(void);

#endif
