/* Command-line front end: shared helpers. */
#ifndef QMCU_CLI_H
#define QMCU_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "../graph/graph.h"
#include "../runtime/interpreter.h"

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_codegen(int argc, char **argv);
int cmd_mcu(int argc, char **argv);

/* Prints "quantmcu: <msg>" to stderr and returns the exit status 1. */
int cli_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Option parsing: returns the value of "--name VALUE" at argv[*i] and advances *i. */
const char *cli_value(int argc, char **argv, int *i);
int cli_parse_int(const char *s, long lo, long hi, long *out);

/* Image files (JPEG/PNG/BMP by extension) of a folder in sorted name order. */
int cli_list_images(const char *dir, char ***paths, int *count);
void cli_free_list(char **paths, int count);

/* A loaded and prepared model with one arena (one per thread). */
typedef struct {
    qmcu_graph *g;
    qmcu_model *m;
    qmcu_plan *plan; /* set by cli_make_plan */
} cli_model;
/* Loads and prepares; cli_make_plan then sets cm->plan. */
int cli_load_model(const char *path, cli_model *cm);
void cli_free_model(cli_model *cm);

/* Output tensor as real scores (dequantized). */
void cli_output_scores(const qmcu_graph *g, const void *out_bytes, float *scores, int n);
int cli_output_count(const qmcu_graph *g);
/* Indices of the k largest scores, ties to the lower index. */
void cli_top_k(const float *scores, int n, int k, int *idx);

/* Preprocesses one image into the model input, runs it and copies the output bytes.
 * input/output are model-format byte buffers of the input/output tensor sizes. */
int cli_infer_image(const cli_model *cm, uint8_t *mem, const char *image, void *input, void *output, double *ms,
                    qmcu_run_stats *stats);
int cli_write_file(const char *path, const void *data, size_t n);


/* Plan options shared by info/run/eval/plan: --mode, --plan, --split, --grid, --input-in-sram. */
typedef struct {
    const char *mode; /* layer | patch | quantmcu */
    const char *plan_path;
    long split;       /* -1: not given */
    int grid_h, grid_w;
    int input_in_sram;
    int no_vdpc;      /* --no-vdpc: QuantMCU bits on every tile (ablation) */
} cli_plan_opts;
void cli_plan_opts_init(cli_plan_opts *o);
/* Consumes argv[*i] if it is a plan option: 1 = taken, 0 = not a plan option, -1 = bad value
 * (message printed). */
int cli_plan_option(const char *cmd, int argc, char **argv, int *i, cli_plan_opts *o);
/* Builds cm->plan from the options: layer mode ignores the plan; patch mode needs --plan or
 * --split/--grid. Prints one error line and returns 0 on failure. */
int cli_make_plan(const char *cmd, cli_model *cm, const cli_plan_opts *o);
/* Human-readable plan summary and per-op memory table. */
void cli_print_plan(const qmcu_plan *p, int with_table);
/* "256K", "1M", "300000" -> bytes */
int cli_parse_size(const char *s, size_t *out);

#endif
