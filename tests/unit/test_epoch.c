/* Unit tests: core/base/epoch, the producers' epochs (docs/PROTOCOL.md §3.1): an epoch's
 * start and end for every second of several epochs, no epochs (0), an action's time kept in
 * its window at both ends of the window, and the shuffle keys: below 2^62, and an order of
 * 12 by them that is not always the same (a check that fails by chance with probability
 * (1/12!)^100). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "../test.h"
#include "base/epoch.h"

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const uint64_t base = UINT64_C(1796650000); /* a multiple of 300 and of 8 */
    for (uint64_t t = base; t < base + 1000; t++) {
        uint64_t s = ov_epoch_start(t, 300);
        CHECK(s % 300 == 0 && s <= t && t < s + 300);
        CHECK(ov_epoch_end(t, 300) == s + 300);
        CHECK(ov_epoch_start(t, 0) == t && ov_epoch_end(t, 0) == 0); /* no epochs */
    }
    CHECK(ov_epoch_start(base + 7, 8) == base && ov_epoch_start(base + 8, 8) == base + 8);
    /* a window [opens, closes) that begins inside an epoch: its actions of that epoch keep
     * opens, later ones the epoch's start; never outside the window */
    uint64_t opens = base + 7, closes = base + 23;
    for (uint64_t t = opens; t < closes; t++) {
        uint64_t k = ov_epoch_time_in(t, 8, opens);
        CHECK(k >= opens && k <= t && k < closes);
        CHECK(k == (t < base + 8 ? opens : ov_epoch_start(t, 8)));
    }
    CHECK(ov_epoch_time_in(base + 9, 0, opens) == base + 9);
    /* the keys: below 2^62 (a class may go above), and not a fixed order */
    bool moved = false;
    for (int round = 0; round < 100 && !moved; round++) {
        uint64_t k[12];
        for (int i = 0; i < 12; i++) {
            k[i] = ov_epoch_shuffle_key();
            CHECK(k[i] < (UINT64_C(1) << 62));
        }
        for (int i = 1; i < 12; i++) {
            moved = moved || k[i] < k[i - 1];
        }
    }
    CHECK(moved);
    TEST_DONE("test_epoch");
}
