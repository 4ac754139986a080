/* epoch: the verifier's epochs (--epoch-seconds N, docs/PROTOCOL.md §3.1; core/base/epoch.h).
 * An action's row is held until its epoch has ended, then goes to the log with the rest of
 * its epoch in a random order, its entry's time the epoch's start (kept in the context's
 * window).
 *
 * Each row gets, in the transaction that writes it, a `place`: its epoch × 2^28 plus 28
 * random bits (libsodium's CSPRNG). Rows keep their ids in commit order, so an epoch's rows
 * are the ids after those of the epochs before; the sender (sender.c) takes the ids whose
 * place is below vf_epoch_limit, and sends them in place order: the epoch's order, drawn
 * when the rows were written, so a crash in the middle of its flush resends the rest in
 * that order. vf_epoch_limit is the place of the oldest epoch that may still get rows: the
 * clock's, or that of a committer batch still open, whichever is older (a batch that chose
 * its epoch just before the boundary commits after it); the committer never chooses an
 * epoch the sender has begun to send (a clock set back), nor one older than its last. */
#ifndef VF_EPOCH_H
#define VF_EPOCH_H

#include <stdint.h>

#include "app.h"

#define VF_EPOCH_S 300 /* --epoch-seconds' default */

/* The committer, before a batch that may write rows: the epoch they go in (0 without
 * epochs), now open until vf_epoch_close. */
uint64_t vf_epoch_open(struct vf_app *app, uint64_t now_s);
/* The epoch a row written now outside a batch goes in (a tally, an adopted row), by the
 * committer's thread: not older than the last batch's nor than what the sender passed. */
uint64_t vf_epoch_now(struct vf_app *app);
/* The committer, once that batch's transaction ended (committed or not). */
void vf_epoch_close(struct vf_app *app);
/* A row's place in epoch e: e × 2^28 plus 28 random bits (0 without epochs). */
int64_t vf_epoch_place(const struct vf_app *app, uint64_t e);
/* The sender and the follower: the rows with a place below this may go (INT64_MAX without
 * epochs); the rest are held. */
int64_t vf_epoch_limit(struct vf_app *app);

#endif
