#include "parallel.h"

#include <pthread.h>

enum { QMCU_MAX_THREADS = 64 };

int qmcu_parallel_run(void *jobs, size_t job_size, int n, void *(*fn)(void *))
{
    pthread_t tids[QMCU_MAX_THREADS];
    char *job = (char *)jobs;
    int k, started = 0;
    if (n > QMCU_MAX_THREADS) n = QMCU_MAX_THREADS;
    if (n == 1) {
        fn(job);
        return 1;
    }
    for (k = 0; k < n; k++) {
        if (pthread_create(&tids[k], NULL, fn, job + (size_t)k * job_size) != 0) break;
        started = k + 1;
    }
    for (k = 0; k < started; k++) pthread_join(tids[k], NULL);
    return started;
}
