/* ARM semihosting (bkpt 0xab), as QEMU implements it with -semihosting-config enable=on:
 * host files for the model input/output, text on QEMU's stderr, the exit status. */
#ifndef QMCU_SEMIHOST_H
#define QMCU_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

int sh_open(const char *path, int write);        /* fd, or -1 */
int sh_read(int fd, void *buf, size_t n);        /* 0 when all n bytes were read */
int sh_write(int fd, const void *buf, size_t n); /* 0 when all n bytes were written */
void sh_close(int fd);
void sh_print(const char *s); /* on QEMU's stderr */
void sh_print_u64(uint64_t v);
void sh_exit(int code) __attribute__((noreturn));

#endif
