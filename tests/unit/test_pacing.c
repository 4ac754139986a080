/* core/pacing: the moments a wallet fetches, sends and checks (issue 18). Bounds with the
 * random source at both ends and in between, the distribution over many draws, and the
 * edges: a context half over, closing in seconds, closed, month-long. */
#include <sodium.h>

#include "../test.h"
#include "protocol/pacing.h"

static uint32_t
lowest(uint32_t upper)
{
    (void)upper;
    return 0;
}

static uint32_t
highest(uint32_t upper)
{
    return upper - 1;
}

static uint32_t last_upper; /* what the function last asked for */

static uint32_t
recording(uint32_t upper)
{
    last_upper = upper;
    return upper / 2;
}

#define T0 1800000000ull /* opens */
#define HOUR 3600ull
#define DAY (24ull * HOUR)

static void
fetch_bounds(void)
{
    uint64_t at = 1;
    /* a ten-hour context seen at its opening: the first quarter, 2.5 hours */
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 10 * HOUR, T0, lowest, &at), 0);
    CHECK_EQ_INT(at, T0);
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 10 * HOUR, T0, highest, &at), 0);
    CHECK_EQ_INT(at, T0 + 10 * HOUR / 4);
    /* half over: a quarter of what is left, from now */
    uint64_t now = T0 + 5 * HOUR;
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 10 * HOUR, now, highest, &at), 0);
    CHECK_EQ_INT(at, now + 5 * HOUR / 4);
    /* not open yet: from the opening, not from now */
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 10 * HOUR, T0 - DAY, lowest, &at), 0);
    CHECK_EQ_INT(at, T0);
    /* a month: capped at 12 hours */
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 30 * DAY, T0, highest, &at), 0);
    CHECK_EQ_INT(at, T0 + OV_PACING_FETCH_MAX_S);
    /* closing in 3 s: nothing to spread, now */
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 10 * HOUR, T0 + 10 * HOUR - 3, highest, &at), 0);
    CHECK_EQ_INT(at, T0 + 10 * HOUR - 3);
    /* a 12 s demo context: within its first 3 seconds */
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 12, T0, highest, &at), 0);
    CHECK_EQ_INT(at, T0 + 3);
    /* closed, and a window that is not one */
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 10, T0 + 10, lowest, &at), -OV_E_STATE);
    CHECK_EQ_INT(at, 0);
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0 + 10, T0 + 99, lowest, &at), -OV_E_STATE);
    CHECK_EQ_INT(ov_pacing_fetch_at(T0, T0, T0 - 5, lowest, &at), -OV_E_RANGE);
    CHECK_EQ_INT(ov_pacing_fetch_at(T0 + 5, T0, T0 - 5, lowest, &at), -OV_E_RANGE);
}

static void
send_bounds(void)
{
    uint64_t at = 1, closes = T0 + 10 * HOUR;
    /* fetched at the opening, decided at once: from 1h15 (an eighth) to 1 hour before the
     * close (the margin's cap; a tenth would be an hour too) */
    CHECK_EQ_INT(ov_pacing_send_at(T0, closes, T0, T0, lowest, &at), 0);
    CHECK_EQ_INT(at, T0 + 10 * HOUR / 8);
    CHECK_EQ_INT(ov_pacing_send_at(T0, closes, T0, T0, highest, &at), 0);
    CHECK_EQ_INT(at, closes - HOUR);
    /* the span asked for is exactly that */
    CHECK_EQ_INT(ov_pacing_send_at(T0, closes, T0, T0, recording, &at), 0);
    CHECK_EQ_INT(last_upper, (closes - HOUR) - (T0 + 10 * HOUR / 8) + 1);
    /* decided later than the token's age: from now */
    uint64_t now = T0 + 5 * HOUR;
    CHECK_EQ_INT(ov_pacing_send_at(T0, closes, now, T0, lowest, &at), 0);
    CHECK_EQ_INT(at, now);
    /* inside the margin: no span, now */
    now = closes - 60;
    CHECK_EQ_INT(ov_pacing_send_at(T0, closes, now, T0, highest, &at), 0);
    CHECK_EQ_INT(at, now);
    /* fetched so late that the age would pass the close: now, not never */
    CHECK_EQ_INT(ov_pacing_send_at(T0, closes, closes - 100, closes - 100, highest, &at), 0);
    CHECK_EQ_INT(at, closes - 100);
    /* fetched late, the age still before the close but within the margin: at the age */
    CHECK_EQ_INT(ov_pacing_send_at(T0, closes, closes - 2 * HOUR, closes - 2 * HOUR, highest,
                                   &at), 0);
    CHECK_EQ_INT(at, closes - 2 * HOUR + 10 * HOUR / 8);
    CHECK(at < closes);
    /* a month: at most 36 hours of span after a 6-hour age */
    CHECK_EQ_INT(ov_pacing_send_at(T0, T0 + 30 * DAY, T0, T0, highest, &at), 0);
    CHECK_EQ_INT(at, T0 + OV_PACING_AGE_MAX_S + OV_PACING_SEND_MAX_S);
    /* a 12 s demo context: from 1 s after the fetch to 1 s before the close */
    CHECK_EQ_INT(ov_pacing_send_at(T0, T0 + 12, T0 + 2, T0 + 2, lowest, &at), 0);
    CHECK_EQ_INT(at, T0 + 3);
    CHECK_EQ_INT(ov_pacing_send_at(T0, T0 + 12, T0 + 2, T0 + 2, highest, &at), 0);
    CHECK_EQ_INT(at, T0 + 11);
    /* closed, and a window that is not one */
    CHECK_EQ_INT(ov_pacing_send_at(T0, closes, closes, T0, lowest, &at), -OV_E_STATE);
    CHECK_EQ_INT(at, 0);
    CHECK_EQ_INT(ov_pacing_send_at(closes, T0, T0, T0, lowest, &at), -OV_E_RANGE);
}

static void
check_bounds(void)
{
    uint64_t at = 1, sent = T0 + HOUR;
    /* ten hours: at least an hour (the cap; an eighth is 1h15) after, within 2h30 more */
    CHECK_EQ_INT(ov_pacing_check_at(T0, T0 + 10 * HOUR, sent, lowest, &at), 0);
    CHECK_EQ_INT(at, sent + HOUR);
    CHECK_EQ_INT(ov_pacing_check_at(T0, T0 + 10 * HOUR, sent, highest, &at), 0);
    CHECK_EQ_INT(at, sent + HOUR + 10 * HOUR / 4);
    /* a month: at most a day of spread */
    CHECK_EQ_INT(ov_pacing_check_at(T0, T0 + 30 * DAY, sent, highest, &at), 0);
    CHECK_EQ_INT(at, sent + HOUR + DAY);
    /* a 24 s context: 3 to 9 s after */
    CHECK_EQ_INT(ov_pacing_check_at(T0, T0 + 24, sent, lowest, &at), 0);
    CHECK_EQ_INT(at, sent + 3);
    CHECK_EQ_INT(ov_pacing_check_at(T0, T0 + 24, sent, highest, &at), 0);
    CHECK_EQ_INT(at, sent + 9);
    /* a 2 s context: still after the send */
    CHECK_EQ_INT(ov_pacing_check_at(T0, T0 + 2, sent, lowest, &at), 0);
    CHECK_EQ_INT(at, sent + 1);
    /* after the close is allowed: a receipt is checked whenever */
    CHECK_EQ_INT(ov_pacing_check_at(T0, T0 + 24, T0 + 99, lowest, &at), 0);
    CHECK_EQ_INT(at, T0 + 102);
    CHECK_EQ_INT(ov_pacing_check_at(T0, T0, sent, lowest, &at), -OV_E_RANGE);
    CHECK_EQ_INT(at, 0);
}

/* With the CSPRNG: every draw in bounds, spread over the span (each tenth of it hit, means
 * near the middle), and two contexts' fetch moments independent (not equal every time). */
static void
distribution(void)
{
    enum { N = 20000 };
    uint64_t closes = T0 + 10 * HOUR, lo = T0 + 10 * HOUR / 8, hi = closes - HOUR;
    unsigned bins[10] = { 0 }, same = 0;
    double sum = 0;
    int in_bounds = 1;
    for (int i = 0; i < N; i++) {
        uint64_t at = 0, a = 0, b = 0;
        if (ov_pacing_send_at(T0, closes, T0, T0, randombytes_uniform, &at) != 0 || at < lo ||
            at > hi) {
            in_bounds = 0;
            continue;
        }
        bins[(at - lo) * 10 / (hi - lo + 1)]++;
        sum += (double)(at - lo);
        if (ov_pacing_fetch_at(T0, closes, T0, randombytes_uniform, &a) != 0 ||
            ov_pacing_fetch_at(T0, closes, T0, randombytes_uniform, &b) != 0) {
            in_bounds = 0;
        }
        same += a == b;
    }
    CHECK(in_bounds);
    for (int k = 0; k < 10; k++) {
        CHECK(bins[k] > N / 10 * 8 / 10 && bins[k] < N / 10 * 12 / 10); /* ±20 % of 2,000 */
    }
    double mean = sum / N, mid = (double)(hi - lo) / 2;
    CHECK(mean > mid * 0.97 && mean < mid * 1.03);
    CHECK(same < N / 100); /* 9,000 moments: two equal about 1 time in 9,000 */
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    fetch_bounds();
    send_bounds();
    check_bounds();
    distribution();
    TEST_DONE("test_pacing");
}
