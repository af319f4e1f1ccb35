#include "host_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

qmcu_status qmcu_read_file(const char *path, const char *what, size_t max_bytes, uint8_t **data, size_t *len,
                           qmcu_error *err)
{
    FILE *f = fopen(path, "rb");
    long n;
    *data = NULL;
    *len = 0;
    if (!f) {
        qmcu_error_set(err, "%s: cannot open %s file", path, what);
        return QMCU_ERR_IO;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        qmcu_error_set(err, "%s: cannot read %s file", path, what);
        return QMCU_ERR_IO;
    }
    if ((unsigned long)n > max_bytes) {
        fclose(f);
        qmcu_error_set(err, "%s: %s file of %ld bytes (this tool reads at most %zu)", path, what, n, max_bytes);
        return QMCU_ERR_UNSUPPORTED;
    }
    if (!(*data = (uint8_t *)malloc((size_t)n + 1)) || fread(*data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*data);
        *data = NULL;
        qmcu_error_set(err, "%s: cannot read %s file", path, what);
        return QMCU_ERR_IO;
    }
    fclose(f);
    (*data)[n] = 0;
    *len = (size_t)n;
    return QMCU_OK;
}

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
