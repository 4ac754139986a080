/* Clocks and memory for the C benchmarks (tests/bench/bench_*.c), one definition each. */
#ifndef OV_BENCH_H
#define OV_BENCH_H

#include <sys/resource.h>
#include <time.h>

/* Seconds on the monotonic clock: wall time, other processes included. */
static inline double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds of this thread's CPU time: the work itself, not time lost to other processes. */
static inline double
bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The process's peak resident memory so far, KiB (getrusage: VmHWM). */
static inline long
bench_peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

#endif
