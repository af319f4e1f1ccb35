#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("quantmcu: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("quantmcu: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

const char *cli_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    if (!s || !*s) return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int cli_parse_size(const char *s, size_t *out)
{
    char *end;
    double v;
    if (!s || !*s) return 0;
    v = strtod(s, &end);
    if (end == s || v <= 0) return 0;
    if (!strcmp(end, "K") || !strcmp(end, "k") || !strcmp(end, "KB") || !strcmp(end, "kB") || !strcmp(end, "KiB"))
        v *= 1024.0;
    else if (!strcmp(end, "M") || !strcmp(end, "MB") || !strcmp(end, "MiB"))
        v *= 1024.0 * 1024.0;
    else if (*end)
        return 0;
    if (v > 1e15) return 0;
    *out = (size_t)v;
    return 1;
}

int cli_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        if (f) fclose(f);
        return 0;
    }
    return fclose(f) == 0;
}

quantmcu_model *cli_load(const char *path)
{
    quantmcu_model *m;
    qmcu_error err;
    if (quantmcu_load(path, &m, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        return NULL;
    }
    return m;
}
