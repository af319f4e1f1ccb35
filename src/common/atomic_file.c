#include "atomic_file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

qmcu_status qmcu_atomic_open(qmcu_atomic_file *a, const char *path, qmcu_error *err)
{
    a->f = NULL;
    if (strlen(path) >= sizeof a->path) {
        qmcu_error_set(err, "%.200s...: path too long", path);
        return QMCU_ERR_ARG;
    }
    strcpy(a->path, path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp%ld", path, (long)getpid());
    if (!(a->f = fopen(a->tmp, "wb"))) {
        qmcu_error_set(err, "%s: cannot write (%s)", path, strerror(errno));
        return QMCU_ERR_IO;
    }
    return QMCU_OK;
}

static qmcu_status failed(qmcu_atomic_file *a, int e, qmcu_error *err)
{
    remove(a->tmp);
    qmcu_error_set(err, "%s: write failed (%s); the previous file, if any, is unchanged", a->path,
                   e ? strerror(e) : "I/O error");
    return QMCU_ERR_IO;
}

qmcu_status qmcu_atomic_close(qmcu_atomic_file *a, qmcu_error *err)
{
    int bad = ferror(a->f) != 0 || fflush(a->f) != 0;
    int e = errno;
    if (fclose(a->f) != 0) {
        bad = 1;
        e = errno;
    }
    a->f = NULL;
    return bad ? failed(a, e, err) : QMCU_OK;
}

qmcu_status qmcu_atomic_replace(qmcu_atomic_file *a, qmcu_error *err)
{
    return rename(a->tmp, a->path) != 0 ? failed(a, errno, err) : QMCU_OK;
}

qmcu_status qmcu_atomic_commit(qmcu_atomic_file *a, qmcu_error *err)
{
    const qmcu_status st = qmcu_atomic_close(a, err);
    return st != QMCU_OK ? st : qmcu_atomic_replace(a, err);
}

void qmcu_atomic_abort(qmcu_atomic_file *a)
{
    if (a->f) fclose(a->f);
    a->f = NULL;
    remove(a->tmp);
}
