/* pacing: when a citizen's wallet does each thing, so that its times do not tie its actions
 * to its tokens (issue 18; docs/THREAT-MODEL.md, "Linkage, measured").
 *
 * The issuer knows who fetched a token and when; the verifier and the log know when an
 * action arrived. A wallet that fetches every context's token back to back right after
 * enrolling, and sends its vote right after fetching, lets operators pooling those times
 * (any reverse proxy's access log has them) pair a ballot with its issuance. So by default
 * the wallet picks, from the context's own window (its entry's opens and closes) and a
 * CSPRNG:
 *
 *   fetch   each context's token at its own moment, uniform in the first quarter of what
 *           is left of the window (at most OV_PACING_FETCH_MAX_S after now or the
 *           opening): independent per context, early enough to leave most of the window
 *           for acting;
 *   send    an action at a moment uniform between max(now, fetched + a minimum age) and a
 *           margin before the close (at most OV_PACING_SEND_MAX_S after its start): its time
 *           says nothing of the fetch's beyond "after it";
 *   check   a receipt at a moment uniform in [sent + a minimum, + a spread], one receipt
 *           a time: a verifier's or log's epoch has passed, and checks of one
 *           person's receipts are not a burst that ties them together.
 *
 * Each delay is a share of the context's length (so a 30 s demo context paces in seconds)
 * and capped in seconds (so a month-long context does not hold a vote for weeks). Pure
 * functions: the random source is passed in (randombytes_uniform, or a test's). Times are
 * Unix seconds. */
#ifndef OV_PACING_H
#define OV_PACING_H

#include <stdint.h>

#include "base/err.h"

/* fetch: within the first quarter of what is left of the window, at most 12 hours on:
 * late enough to be independent of enrolling and of the other contexts, early enough that
 * a citizen holds the token long before acting */
#define OV_PACING_FETCH_SHARE_DIV 4
#define OV_PACING_FETCH_MAX_S (12u * 3600u)
/* send: a token is at least an eighth of the window (at most 6 hours) old when used, and
 * the action goes out at least a tenth of the window (at most 1 hour) before the close, for
 * retries and a laptop that sleeps; the random span is at most 36 hours */
#define OV_PACING_AGE_DIV 8
#define OV_PACING_AGE_MAX_S (6u * 3600u)
#define OV_PACING_MARGIN_DIV 10
#define OV_PACING_MARGIN_MAX_S 3600u
#define OV_PACING_SEND_MAX_S (36u * 3600u)
/* check: at least an eighth of the window (at most 1 hour: several epochs) after sending,
 * within a further quarter of the window (at most a day) */
#define OV_PACING_CHECK_MIN_DIV 8
#define OV_PACING_CHECK_MIN_MAX_S 3600u
#define OV_PACING_CHECK_SPREAD_DIV 4
#define OV_PACING_CHECK_SPREAD_MAX_S (24u * 3600u)

/* A uniform integer in [0, upper) (upper >= 1); randombytes_uniform has this shape. */
typedef uint32_t (*ov_pacing_uniform)(uint32_t upper);

/* The moment to fetch a token of the context open [opens, closes), seen at now, into *at
 * (>= now). -OV_E_STATE when the context is closed (now >= closes), -OV_E_RANGE when
 * closes <= opens; *at is then 0. */
int ov_pacing_fetch_at(uint64_t opens, uint64_t closes, uint64_t now, ov_pacing_uniform rnd,
                       uint64_t *at) OV_MUST_CHECK;

/* The moment to send an action whose token was fetched at fetched, decided at now, into
 * *at (>= now, < closes). When no span is left (fetched late, the close near) *at is the
 * earliest moment that keeps the token's age, or now when even that would be past the close:
 * an action counted early is worth more than one lost. Failures as ov_pacing_fetch_at. */
int ov_pacing_send_at(uint64_t opens, uint64_t closes, uint64_t now, uint64_t fetched,
                      ov_pacing_uniform rnd, uint64_t *at) OV_MUST_CHECK;

/* The moment to check the receipt of an action sent at sent (or to check it again, from the
 * last check) into *at (> sent); the context's close does not bound it. -OV_E_RANGE when
 * closes <= opens. */
int ov_pacing_check_at(uint64_t opens, uint64_t closes, uint64_t sent, ov_pacing_uniform rnd,
                       uint64_t *at) OV_MUST_CHECK;

#endif
