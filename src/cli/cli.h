/* Command-line front end: argument parsing and printing only; every piece of work is a call of
 * the public API (include/quantmcu/quantmcu.h). */
#ifndef QMCU_CLI_H
#define QMCU_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "quantmcu/quantmcu.h"

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_codegen(int argc, char **argv);
int cmd_mcu(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Prints "quantmcu: <msg>" to stderr and returns the exit status 1. */
int cli_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* `COMMAND --help` / `-h` anywhere in argv: prints the command's help to stdout, returns 1. */
int cli_help_asked(const char *cmd, int argc, char **argv);

/* Progress on stderr: a rewritten line with rate and ETA on a terminal, plain periodic lines
 * (about every 10 %, no carriage returns) in a log for runs of at least min_total units. */
typedef struct {
    struct timespec start;
    int tty, line_open, min_total;
    const char *what, *unit;
} cli_progress;
void cli_progress_init(cli_progress *ps, const char *what, const char *unit, int min_total);
void cli_progress_update(int done, int total, void *ctx); /* ctx: a cli_progress */

/* A usage error (bad or missing option): the same one line, exit status 2. */
int cli_usage(const char *fmt, ...);

/* Option parsing: returns the value of "--name VALUE" at argv[*i] and advances *i. */
const char *cli_value(int argc, char **argv, int *i);
int cli_parse_int(const char *s, long lo, long hi, long *out);
/* "256K", "1M", "300000" -> bytes */
int cli_parse_size(const char *s, size_t *out);
int cli_write_file(const char *path, const void *data, size_t n);

/* Plan options shared by info/run/eval/mcu/codegen: --mode, --plan, --split, --grid,
 * --input-in-sram, --halo, --fuse-add, --no-vdpc. */
typedef struct {
    const char *mode; /* layer | patch | quantmcu; "plan" (codegen): whatever the file holds */
    const char *plan_path;
    long split; /* -1: not given */
    int grid_h, grid_w;
    int input_in_sram;
    int no_vdpc;             /* --no-vdpc: QuantMCU bits on every tile (ablation) */
    int halo;                /* --halo: QUANTMCU_HALO_AUTO or QMCU_HALO_* */
    int fuse_add;            /* --fuse-add yes|no */
    const char *input_range; /* --input-range LO,HI (NULL: the model's own rule) */
} cli_plan_opts;
void cli_plan_opts_init(cli_plan_opts *o);
/* Consumes argv[*i] if it is a plan option: 1 = taken, 0 = not a plan option, -1 = bad value
 * (message printed). */
int cli_plan_option(const char *cmd, int argc, char **argv, int *i, cli_plan_opts *o);
/* Loads the model and applies --input-range (NULL: the model's rule, the range string was
 * checked when parsed); prints the error line on failure. */
quantmcu_model *cli_load(const char *path, const char *input_range);
/* The plan the options ask for: layer mode ignores a plan's geometry (the file is still checked);
 * patch mode needs --plan or --split/--grid. Prints one error line and returns NULL on failure. */
quantmcu_plan *cli_make_plan(const char *cmd, const quantmcu_model *m, const cli_plan_opts *o);
/* Human-readable plan summary and per-op memory table. */
void cli_print_plan(const quantmcu_model *m, const quantmcu_plan *p, int with_table);

/* The k-th of several files named after path (k = 0: path itself). */
void cli_indexed_name(const char *path, int k, char *buf, size_t cap);

/* The k-th of several files named after path (k = 0: path itself). */
void cli_indexed_name(const char *path, int k, char *buf, size_t cap);

#endif
