/* Cortex-M4F / M7 startup for QEMU mps2-an386 / mps2-an500: vector table, FPU on, .data
 * copied, .bss zeroed (the arena is NOLOAD), SysTick as a 64-bit tick counter, faults
 * reported through semihosting. */
#include <stdint.h>

#include "semihost.h"
#include "systick.h"

extern uint32_t __stack_top, __data_start, __data_end, __data_load, __bss_start, __bss_end;
int main(void);

void Reset_Handler(void);
void Fault_Handler(void);
void SysTick_Handler(void);

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {(void (*)(void))(&__stack_top),
                                                                                     Reset_Handler,
                                                                                     Fault_Handler,
                                                                                     Fault_Handler,
                                                                                     Fault_Handler,
                                                                                     Fault_Handler,
                                                                                     Fault_Handler,
                                                                                     0,
                                                                                     0,
                                                                                     0,
                                                                                     0,
                                                                                     Fault_Handler,
                                                                                     Fault_Handler,
                                                                                     0,
                                                                                     Fault_Handler,
                                                                                     SysTick_Handler};

void Reset_Handler(void)
{
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    uint32_t *s, *d;
    *cpacr |= 0xFu << 20; /* CP10, CP11: the FPU, before any C code uses it */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    for (s = &__data_load, d = &__data_start; d < &__data_end;) *d++ = *s++;
    for (d = &__bss_start; d < &__bss_end;) *d++ = 0;
    sh_exit(main());
}

void Fault_Handler(void)
{
    sh_print("firmware: fault (stack overflow or bad memory access)\n");
    sh_exit(3);
}

/* ---- SysTick: under -icount shift=0 one tick = 40 guest instructions (25 MHz) ---- */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static volatile uint32_t g_wraps;

void SysTick_Handler(void) { g_wraps++; }

void systick_start(void)
{
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7u;          /* processor clock, interrupt, enable */
    while (SYST_CVR == 0) { /* reads 0 until the first reload */
    }
}

uint64_t systick_ticks(void)
{
    uint32_t w, v;
    do {
        w = g_wraps;
        v = SYST_CVR;
    } while (w != g_wraps);
    return (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
}
