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
} cli_model;
int cli_load_model(const char *path, cli_model *cm);
void cli_free_model(cli_model *cm);

/* Output tensor as real scores (dequantized). */
void cli_output_scores(const qmcu_graph *g, const void *out_bytes, float *scores, int n);
int cli_output_count(const qmcu_graph *g);
/* Indices of the k largest scores, ties to the lower index. */
void cli_top_k(const float *scores, int n, int k, int *idx);

/* Preprocesses one image into the model input, runs it and copies the output bytes.
 * input/output are model-format byte buffers of the input/output tensor sizes. */
int cli_infer_image(const cli_model *cm, uint8_t *arena, const char *image, void *input, void *output, double *ms);
int cli_write_file(const char *path, const void *data, size_t n);

/* Preprocesses one image into the model input, runs it and copies the output bytes.
 * input/output are model-format byte buffers of the input/output tensor sizes. */
int cli_infer_image(const cli_model *cm, uint8_t *arena, const char *image, void *input, void *output, double *ms);
int cli_write_file(const char *path, const void *data, size_t n);

#endif
