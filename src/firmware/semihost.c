#include "semihost.h"

#define SYS_OPEN                     0x01
#define SYS_CLOSE                    0x02
#define SYS_WRITE0                   0x04
#define SYS_WRITE                    0x05
#define SYS_READ                     0x06
#define SYS_EXIT_EXTENDED            0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static int sh_call(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static size_t length(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

int sh_open(const char *path, int write)
{
    uint32_t args[3];
    args[0] = (uint32_t)(uintptr_t)path;
    args[1] = write ? 5u : 1u; /* "wb" : "rb" */
    args[2] = (uint32_t)length(path);
    return sh_call(SYS_OPEN, args);
}

int sh_read(int fd, void *buf, size_t n)
{
    uint32_t args[3];
    args[0] = (uint32_t)fd;
    args[1] = (uint32_t)(uintptr_t)buf;
    args[2] = (uint32_t)n;
    return sh_call(SYS_READ, args);
}

int sh_write(int fd, const void *buf, size_t n)
{
    uint32_t args[3];
    args[0] = (uint32_t)fd;
    args[1] = (uint32_t)(uintptr_t)buf;
    args[2] = (uint32_t)n;
    return sh_call(SYS_WRITE, args);
}

void sh_close(int fd)
{
    uint32_t args[1];
    args[0] = (uint32_t)fd;
    (void)sh_call(SYS_CLOSE, args);
}

void sh_print(const char *s) { (void)sh_call(SYS_WRITE0, (void *)(uintptr_t)s); }

void sh_print_u64(uint64_t v)
{
    char buf[24];
    int i = 22;
    buf[23] = 0;
    do {
        buf[i--] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v && i >= 0);
    sh_print(buf + i + 1);
}

void sh_exit(int code)
{
    uint32_t args[2];
    args[0] = ADP_STOPPED_APPLICATION_EXIT;
    args[1] = (uint32_t)code;
    for (;;) (void)sh_call(SYS_EXIT_EXTENDED, args);
}
