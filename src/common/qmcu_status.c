#include "quantmcu/status.h"

#include <stdarg.h>
#include <stdio.h>

void qmcu_error_set(qmcu_error *err, const char *fmt, ...)
{
    va_list ap;
    if (!err) return;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

const char *qmcu_status_name(qmcu_status s)
{
    switch (s) {
    case QMCU_OK: return "ok";
    case QMCU_ERR_ARG: return "invalid argument";
    case QMCU_ERR_FORMAT: return "malformed input";
    case QMCU_ERR_UNSUPPORTED: return "unsupported";
    case QMCU_ERR_NOMEM: return "out of memory";
    case QMCU_ERR_IO: return "I/O error";
    case QMCU_ERR_BUDGET: return "over budget";
    }
    return "unknown status";
}
