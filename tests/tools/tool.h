/* tool.h: the few command-line helpers the test tools (logtool, issuertool, vtool, govsim,
 * citizens, sqlbench) share. Header-only, static inline: a tool uses what it needs. */
#ifndef OV_TOOL_H
#define OV_TOOL_H

#include <string.h>
#include <time.h>

/* The value after option `name`, or def. */
static inline const char *
opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return def;
}

/* Whether flag `name` is present. */
static inline int
flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Monotonic seconds, for rates and latencies. */
static inline double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
