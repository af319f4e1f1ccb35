/* Host file helpers. Files read whole, with a size bound; and files written whole or not at all: the text goes to a temporary file in the same
 * folder, which replaces the target only once everything was written and closed. A failure
 * (unwritable folder, full disk, file size limit) leaves the previous file intact. */
#ifndef QMCU_HOST_FILE_H
#define QMCU_HOST_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "quantmcu/status.h"

/* Reads a whole file of at most max_bytes (what: "model", "image", "plan" for messages) into a
 * malloc'ed buffer with a NUL after the last byte; one line naming the file on failure. */
qmcu_status qmcu_read_file(const char *path, const char *what, size_t max_bytes, uint8_t **data, size_t *len,
                           qmcu_error *err);

typedef struct {
    FILE *f;
    char path[1024], tmp[1100];
} qmcu_atomic_file;

/* Opens the temporary file for path; QMCU_ERR_IO with one line naming path on failure. */
qmcu_status qmcu_atomic_open(qmcu_atomic_file *a, const char *path, qmcu_error *err);
/* Closes and renames over path; on any write error removes the temporary file instead. */
qmcu_status qmcu_atomic_commit(qmcu_atomic_file *a, qmcu_error *err);
/* The two halves, for a set of files that must appear together: close (and check) every one,
 * then replace every one. */
qmcu_status qmcu_atomic_close(qmcu_atomic_file *a, qmcu_error *err);
qmcu_status qmcu_atomic_replace(qmcu_atomic_file *a, qmcu_error *err);
/* Removes the temporary file (nothing written). */
void qmcu_atomic_abort(qmcu_atomic_file *a);

#endif
