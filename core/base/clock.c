#include "base/clock.h"

uint64_t
ov_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct timespec
ov_timespec_add_us(struct timespec t, uint64_t us)
{
    t.tv_sec += (time_t)(us / 1000000u);
    t.tv_nsec += (long)(us % 1000000u) * 1000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

struct timespec
ov_deadline_us(clockid_t clock, uint64_t us)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return ov_timespec_add_us(now, us);
}
