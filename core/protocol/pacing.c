/* pacing: the moments a wallet fetches, sends and checks (pacing.h says why). */
#include "protocol/pacing.h"

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* A uniform moment in [lo, hi] (hi >= lo); a span beyond 32 bits is cut (the caps keep
 * every span far below it). */
static uint64_t
pick(uint64_t lo, uint64_t hi, ov_pacing_uniform rnd)
{
    uint64_t span = min_u64(hi - lo, UINT32_MAX - 1u);
    return lo + (span == 0 ? 0 : rnd((uint32_t)(span + 1u)));
}

int
ov_pacing_fetch_at(uint64_t opens, uint64_t closes, uint64_t now, ov_pacing_uniform rnd,
                   uint64_t *at)
{
    *at = 0;
    if (closes <= opens) {
        return -OV_E_RANGE;
    }
    if (now >= closes) {
        return -OV_E_STATE;
    }
    uint64_t start = now > opens ? now : opens;
    uint64_t window = min_u64((closes - start) / OV_PACING_FETCH_SHARE_DIV, OV_PACING_FETCH_MAX_S);
    *at = pick(start, start + window, rnd);
    return 0;
}

int
ov_pacing_send_at(uint64_t opens, uint64_t closes, uint64_t now, uint64_t fetched,
                  ov_pacing_uniform rnd, uint64_t *at)
{
    *at = 0;
    if (closes <= opens) {
        return -OV_E_RANGE;
    }
    if (now >= closes) {
        return -OV_E_STATE;
    }
    uint64_t length = closes - opens;
    uint64_t age = min_u64(length / OV_PACING_AGE_DIV, OV_PACING_AGE_MAX_S);
    uint64_t margin = min_u64(length / OV_PACING_MARGIN_DIV, OV_PACING_MARGIN_MAX_S);
    uint64_t lo = fetched > UINT64_MAX - age ? UINT64_MAX : fetched + age;
    lo = lo > now ? lo : now;
    if (lo >= closes) {
        *at = now; /* too late to wait: sent now rather than never */
        return 0;
    }
    uint64_t hi = closes - margin > lo ? closes - margin : lo;
    hi = min_u64(hi, lo + OV_PACING_SEND_MAX_S);
    *at = pick(lo, hi, rnd);
    return 0;
}

int
ov_pacing_check_at(uint64_t opens, uint64_t closes, uint64_t sent, ov_pacing_uniform rnd,
                   uint64_t *at)
{
    *at = 0;
    if (closes <= opens) {
        return -OV_E_RANGE;
    }
    uint64_t length = closes - opens;
    uint64_t lo = min_u64(length / OV_PACING_CHECK_MIN_DIV, OV_PACING_CHECK_MIN_MAX_S);
    uint64_t spread = min_u64(length / OV_PACING_CHECK_SPREAD_DIV, OV_PACING_CHECK_SPREAD_MAX_S);
    lo = sent + (lo == 0 ? 1 : lo);
    *at = pick(lo, lo + spread, rnd);
    return 0;
}
