/* The host's one thread pool: n jobs (an array of job_size-byte structs), each run by fn on its
 * own thread; one job runs on the calling thread. Host only (pthreads). */
#ifndef QMCU_PARALLEL_H
#define QMCU_PARALLEL_H

#include <stddef.h>

/* Runs fn(&jobs[k]) for k = 0 .. n-1 and waits for all. Returns the number of jobs that ran: n,
 * or fewer when a thread could not be started (the jobs from that one on did not run). */
int qmcu_parallel_run(void *jobs, size_t job_size, int n, void *(*fn)(void *));

#endif
