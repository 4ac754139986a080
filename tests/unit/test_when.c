/* Unit tests: operators' dates and durations (base/when): each form, zones, local time
 * under a fixed TZ, calendar checks, and the refusals. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "../test.h"
#include "base/when.h"

#define NOW 1800000000ull  /* 2027-01-15 08:00:00 UTC */

static uint64_t
when(const char *text, uint64_t base)
{
    uint64_t t = 0;
    return ov_when_parse(text, NOW, base, &t) == 0 ? t : UINT64_MAX;
}

static void
test_forms(void)
{
    CHECK_EQ_INT(when("now", 0), NOW);
    CHECK_EQ_INT(when("@1803000000", 0), 1803000000);
    CHECK_EQ_INT(when("+90m", NOW), NOW + 5400);
    CHECK_EQ_INT(when("+1h30m", 100), 100 + 5400);
    CHECK_EQ_INT(when("+2d", NOW), NOW + 2 * 86400);
    CHECK_EQ_INT(when("+1w1s", 0), 7 * 86400 + 1);
    /* 2027-03-01 01:00:00 UTC = 1803862800 */
    CHECK_EQ_INT(when("2027-03-01 01:00 UTC", 0), 1803862800);
    CHECK_EQ_INT(when("2027-03-01T01:00:00Z", 0), 1803862800);
    CHECK_EQ_INT(when("2027-03-01 09:00 +08:00", 0), 1803862800);
    CHECK_EQ_INT(when("2027-03-01 09:00+0800", 0), 1803862800);
    CHECK_EQ_INT(when("2027-02-28 20:00:00 -05", 0), 1803862800);
    CHECK_EQ_INT(when("2027-03-01 UTC", 0), 1803859200);
    CHECK_EQ_INT(when("2028-02-29 00:00 Z", 0), 1835395200); /* a leap day */
}

static void
test_local(void)
{
    /* without a zone: this machine's local time */
    setenv("TZ", "CST-8", 1); /* POSIX rule: Taipei's +08:00, no tzdata needed */
    tzset();
    CHECK_EQ_INT(when("2027-03-01 09:00", 0), 1803862800);
    CHECK_EQ_INT(when("2027-03-01", 0), 1803859200 - 8 * 3600);
    char buf[OV_WHEN_FORMAT_LEN];
    ov_when_format(1803862800, 0, buf, sizeof buf);
    CHECK(strcmp(buf, "2027-03-01 09:00:00 +0800") == 0);
    ov_when_format(1803862800, 1, buf, sizeof buf);
    CHECK(strcmp(buf, "2027-03-01 01:00:00 UTC") == 0);
    setenv("TZ", "UTC", 1);
    tzset();
    CHECK_EQ_INT(when("2027-03-01 01:00", 0), 1803862800);
}

static void
test_refused(void)
{
    const char *bad[] = {
        "", "tomorrow", "@", "@12x", "+", "+5", "+5y", "+m", "+1h-", "2027-02-29 00:00 Z",
        "2027-13-01", "2027-04-31", "2027-03-01 24:00 Z", "2027-03-01 09:60 Z",
        "2027-03-01 09:00:60 Z", "2027-3-1", "27-03-01", "2027-03-01 9:00", "1969-12-31 Z",
        "10000-01-01", "2027-03-01 09:00 +8", "2027-03-01 09:00 +15:00", "2027-03-01 09:00 CET",
        "2027-03-01 09:00 Z trailing", "2027-03-01T", "+100000000000000000000s", "+40000d",
        "now ", " now",
        "2027-03-01 09:00:00 +08:00 0123456789012345678901234567890123456789",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t t;
        int rc = ov_when_parse(bad[i], NOW, NOW, &t);
        if (rc != -OV_E_MALFORMED) {
            fprintf(stderr, "accepted: '%s'\n", bad[i]);
        }
        CHECK_EQ_INT(rc, -OV_E_MALFORMED);
    }
    uint64_t t;
    CHECK_EQ_INT(ov_when_parse("+1s", NOW, UINT64_MAX, &t), -OV_E_MALFORMED); /* overflow */
}

int
main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    test_forms();
    test_local();
    test_refused();
    TEST_DONE("test_when");
}
