/* Runs a host test program as Cortex-M firmware under QEMU: newlib's semihosting stdio
 * (rdimon) for printf, a heap above the arena for malloc, the test's own main. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern void initialise_monitor_handles(void);
int qmcu_test_main(void);

extern char __heap_start, __heap_end;

/* The stack sits below the heap (bottom of SRAM), so newlib's own _sbrk would refuse. */
void *_sbrk(ptrdiff_t incr)
{
    static char *brk = &__heap_start;
    char *old = brk;
    if (incr < 0 || brk + incr > &__heap_end) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk += incr;
    return old;
}

int main(void)
{
    initialise_monitor_handles();
    return qmcu_test_main();
}
