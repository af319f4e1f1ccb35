/* Files written whole or not at all (host only): the text goes to a temporary file in the same
 * folder, which replaces the target only once everything was written and closed. A failure
 * (unwritable folder, full disk, file size limit) leaves the previous file intact. */
#ifndef QMCU_ATOMIC_FILE_H
#define QMCU_ATOMIC_FILE_H

#include <stdio.h>

#include "quantmcu/status.h"

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
