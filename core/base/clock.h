/* clock: the wall clock in milliseconds (the times in onevoice's messages and entries),
 * and deadlines for timed waits (pthread_cond_timedwait and the like), which take an
 * absolute time on the clock the wait was set up with. */
#ifndef OV_CLOCK_H
#define OV_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME), plus OV_CLOCK_OFFSET_MS.
 *
 * Test hook: the environment variable OV_CLOCK_OFFSET_MS (a signed integer of milliseconds,
 * at most ±10^12; read once, at the first call) shifts this clock, and so every time a
 * program of onevoice writes into or checks in its messages, as a machine whose clock is
 * off would. tests/e2e/errors.sh uses it for clock skew. Timed waits (ov_deadline_us) and
 * the HTTP Date header are not shifted. Unset or malformed: no shift. */
#define OV_CLOCK_OFFSET_ENV "OV_CLOCK_OFFSET_MS"
uint64_t ov_now_ms(void);
/* t plus us microseconds, tv_nsec kept below one second. */
struct timespec ov_timespec_add_us(struct timespec t, uint64_t us);
/* The clock's time now plus us microseconds. */
struct timespec ov_deadline_us(clockid_t clock, uint64_t us);

#endif
