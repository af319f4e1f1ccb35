/* Status codes shared by every stage. Kernels return them; the host stages add a
 * human-readable message through qmcu_error (one line, naming the file). */
#ifndef QMCU_STATUS_H
#define QMCU_STATUS_H

typedef enum {
    QMCU_OK = 0,
    QMCU_ERR_ARG,         /* invalid argument / parameter combination */
    QMCU_ERR_FORMAT,      /* malformed input file (model, image, plan) */
    QMCU_ERR_UNSUPPORTED, /* valid input we do not support (operator, type) */
    QMCU_ERR_NOMEM,       /* allocation failed or buffer too small */
    QMCU_ERR_IO,          /* file could not be read or written */
    QMCU_ERR_BUDGET       /* plan does not fit a memory budget */
} qmcu_status;

/* Host-side error message: a single line without trailing newline. */
typedef struct {
    char msg[512];
} qmcu_error;

void qmcu_error_set(qmcu_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

const char *qmcu_status_name(qmcu_status s);

#endif
