/* Pacing in the wallet: the words for a moment, and a receipt's next check
 * (core/protocol/pacing.h says why each thing waits). */
#include <stdio.h>
#include <time.h>

#include <sodium.h>

#include "protocol/pacing.h"
#include "wallet.h"

void
w_time_words(uint64_t t, char out[W_TIME_WORDS_LEN])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, W_TIME_WORDS_LEN, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(out, W_TIME_WORDS_LEN, "%llu (Unix time)", (unsigned long long)t);
    }
}

void
w_schedule_check(struct wallet *w, int64_t n, const struct ov_context *c)
{
    uint64_t at = 0;
    if (ov_pacing_check_at(c->opens, c->closes, w_now(), randombytes_uniform, &at) == 0) {
        (void)w_stmt(w, "act_check_set", NULL, "ui", at, n);
    }
}
