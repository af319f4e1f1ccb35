#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void report_line(const char *fmt, va_list ap)
{
    fputs("quantmcu: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_line(fmt, ap);
    va_end(ap);
    return 1;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_line(fmt, ap);
    va_end(ap);
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

quantmcu_model *cli_load(const char *path, const char *input_range)
{
    quantmcu_model *m;
    qmcu_error err;
    if (quantmcu_load(path, &m, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        return NULL;
    }
    if (input_range && quantmcu_set_input_range(m, input_range, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        quantmcu_free(m);
        return NULL;
    }
    return m;
}

void cli_progress_init(cli_progress *ps, const char *what, const char *unit, int min_total)
{
    clock_gettime(CLOCK_MONOTONIC, &ps->start);
    ps->tty = isatty(fileno(stderr));
    ps->line_open = 0;
    ps->what = what;
    ps->unit = unit;
    ps->min_total = min_total;
}

void cli_progress_update(int done, int total, void *ctx)
{
    cli_progress *ps = (cli_progress *)ctx;
    struct timespec t;
    double s, rate;
    const int step = total >= 10 ? total / 10 : 1;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (done == 0) { /* the work starts now */
        ps->start = t;
        return;
    }
    s = (double)(t.tv_sec - ps->start.tv_sec) + 1e-9 * (double)(t.tv_nsec - ps->start.tv_nsec);
    rate = s > 0.0 ? done / s : 0.0;
    if (ps->tty) {
        fprintf(stderr, "\r%s: %d/%d %s, %.1f %s/s, ETA %.0f s ", ps->what, done, total, ps->unit, rate, ps->unit,
                rate > 0.0 ? (total - done) / rate : 0.0);
        ps->line_open = done < total;
        if (done == total) fputc('\n', stderr);
    } else if (total >= ps->min_total && (done % step == 0 || done == total)) { /* short runs need none */
        fprintf(stderr, "%s: %d/%d %s, %.1f %s/s\n", ps->what, done, total, ps->unit, rate, ps->unit);
    }
}

/* FILE, then FILE.1 (or name.1.npy / name.1.bin) and so on: one file per tensor of several. */
void cli_indexed_name(const char *path, int k, char *buf, size_t cap)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (k == 0)
        snprintf(buf, cap, "%s", path);
    else if (dot && (!slash || dot > slash) && (!strcmp(dot, ".npy") || !strcmp(dot, ".bin")))
        snprintf(buf, cap, "%.*s.%d%s", (int)(dot - path), path, k, dot);
    else
        snprintf(buf, cap, "%s.%d", path, k);
}
