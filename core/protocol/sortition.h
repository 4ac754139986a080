/* sortition: the stratified draw of an assembly's panel, deterministic given the pool and a
 * 32-byte seed, so that anyone can re-run it (docs/PROTOCOL.md §10). Algorithm
 * "onevoice/sortition/legacy/v1": the Sortition Foundation's greedy "legacy" method with
 * its randomness specified:
 *
 *   attempt a = 0, 1, ... (up to max_attempts): a ChaCha20 stream (RFC 8439), key
 *   SHA-256("onevoice/v1/sortition" || 0x00 || seed), nonce 0x00000000 || u64le(a), read
 *   as little-endian u64s; below(n) draws x until x < 2^64 - (2^64 mod n), returns x mod n.
 *     1. every member is in the pool; the values whose max is 0 are emptied;
 *     2. P times: over the categories in order and their values in order, a value whose
 *        remaining members are fewer than it still needs (min - selected) fails the
 *        attempt; among the values with remaining members and max > 0, the one with the
 *        largest (min - selected) / remaining (exactly, by cross-multiplication; the first
 *        on ties) is chosen; its below(remaining)-th remaining member in pool order is
 *        selected, leaving the pool with the other members of its household; each of its
 *        values that reached its max is emptied; an empty pool before the last step fails;
 *     3. a panel with a value outside [min, max] fails.
 *   Reserves continue the same stream: R times, the below(eligible)-th member in pool
 *   order of those eligible (not selected, not in the household of a selected member or
 *   of an earlier reserve, no value whose max is 0); none eligible fails the draw.
 *
 * What it does not promise: equal chances. Each member's probability depends on the pool;
 * ov_sort_stats estimates it over many seeds (the honest report of the method's fairness). */
#ifndef OV_SORTITION_H
#define OV_SORTITION_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define OV_SORT_ALGORITHM "onevoice/sortition/legacy/v1"
#define OV_SORT_MAX_CATEGORIES 16
#define OV_SORT_MAX_VALUES 64
#define OV_SORT_MAX_MEMBERS 10000000u
#define OV_SORT_MAX_ATTEMPTS 10000u
#define OV_SORT_NO_HOUSEHOLD UINT32_MAX
#define OV_SORT_SEED_LEN 32

struct ov_sort_quota {
    uint32_t min, max;
};

/* A pool: members in pool order, each with one value index per category. */
struct ov_sort_pool {
    size_t n_categories;
    size_t n_values[OV_SORT_MAX_CATEGORIES];
    struct ov_sort_quota quota[OV_SORT_MAX_CATEGORIES][OV_SORT_MAX_VALUES];
    size_t n_members;
    const uint8_t *values;      /* n_members x n_categories, row by row: values[m*C + c] */
    const uint32_t *household;  /* n_members household numbers, OV_SORT_NO_HOUSEHOLD for
                                 * none; NULL: no households */
};

/* Checks what can be checked without drawing: the shape (every value index within its
 * category, 1..OV_SORT_MAX_* sizes), min <= max, each min within the members having that
 * value, and per category sum(min) <= panel <= sum(min(max, members)); panel <= members.
 * 0, or -OV_E_RANGE with every problem found written into why (one per line). */
OV_MUST_CHECK int ov_sort_check(const struct ov_sort_pool *p, uint32_t panel, char *why,
                                size_t why_len);

/* The draw: panel_out[panel] in selection order, reserves_out[reserves] in order (may be
 * NULL when reserves is 0), *attempt the attempt that succeeded. -OV_E_STATE when no
 * attempt of max_attempts met every quota (or reserves exceed the eligible members),
 * -OV_E_RANGE for a pool ov_sort_check refuses, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_sort_draw(const struct ov_sort_pool *p, uint32_t panel, uint32_t reserves,
                               const uint8_t seed[OV_SORT_SEED_LEN], uint32_t max_attempts,
                               uint32_t *panel_out, uint32_t *reserves_out, uint32_t *attempt);

/* Runs n_runs draws with seeds SHA-256("onevoice/v1/sortition-stats" || 0x00 || base ||
 * u64be(i)) and adds 1 to counts[m] for each member m selected; *failed counts the draws
 * that failed. Selection probability estimate: counts[m] / (n_runs - *failed). */
OV_MUST_CHECK int ov_sort_stats(const struct ov_sort_pool *p, uint32_t panel,
                                const uint8_t base[OV_SORT_SEED_LEN], uint32_t max_attempts,
                                uint64_t n_runs, uint64_t *counts, uint64_t *failed);

#endif
