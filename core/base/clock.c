#include "base/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_once_t offset_once = PTHREAD_ONCE_INIT;
static int64_t offset_ms;

/* The test hook of clock.h: a skewed machine, without faketime. */
static void
offset_init(void)
{
    const char *v = getenv(OV_CLOCK_OFFSET_ENV);
    if (v == NULL || *v == '\0') {
        return;
    }
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno == 0 && *end == '\0' && n >= -1000000000000LL && n <= 1000000000000LL) {
        offset_ms = (int64_t)n;
    }
}

uint64_t
ov_now_ms(void)
{
    struct timespec ts;
    pthread_once(&offset_once, offset_init);
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return offset_ms < 0 ? now - (uint64_t)-offset_ms : now + (uint64_t)offset_ms;
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
