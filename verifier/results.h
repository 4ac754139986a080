/* results: a statement round's full results on the log itself (docs/PROTOCOL.md §11.3):
 * before its tally entry is written, both algorithms' canonical result bytes (§11.1, §11.2)
 * are uploaded as log files (POST /files, core/protocol/logfiles, as producer `verifier`,
 * the key it appends with), so the tally's `result` hashes name files anyone can GET from
 * the log. Uploads are idempotent by content (the log answers 200 for a file it holds), so a
 * restart between the uploads and the tally uploads the same bytes again. The follower's
 * thread alone calls these. */
#ifndef VF_RESULTS_H
#define VF_RESULTS_H

#include <stdbool.h>

#include "app.h"
#include "protocol/roundresult.h"

/* Whether a failed upload's backoff has passed (50 ms doubling to 2 s, as the outbox's):
 * the round is not computed again before. */
bool vf_results_due(void);

/* Uploads r's bridging bytes and, when groups ran, its groups bytes (an empty result is no
 * file). 1 when the log holds both; 0 when not yet (unreachable or refused: said in words
 * when the reason changes, tried again after the backoff); -OV_E_NOMEM. */
OV_MUST_CHECK int vf_results_upload(struct vf_app *app, const struct ov_roundresult *r);

#endif
