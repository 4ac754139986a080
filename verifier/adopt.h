/* adopt: rows the log holds that this database does not. The verifier is the only producer
 * of `action` and `tally` entries, so one the follower reads in the log without a row of
 * ours is ours, lost: the database was restored from a backup, or begun again with --init.
 * Each is adopted as a row (its keys spent, its rating held, its tally final) before any new
 * action is decided, so no token counts twice; the sender then sends it again, and the
 * log, idempotent by leaf hash, gives back its index. */
#ifndef VF_ADOPT_H
#define VF_ADOPT_H

#include "app.h"

/* An entry the follower read at index (an action or a tally, perhaps of ours). */
struct vf_logged {
    uint64_t index;
    struct ov_bytes entry;
};

/* Adopts every entry of the list that has no row here, in one committer transaction that
 * also runs with(db, with_ctx) (the follower saves its reader's position there: the position
 * moves past these entries exactly when their rows are in); with runs in a transaction of
 * its own when there is nothing to adopt. *adopted counts them. 0, or the database's or
 * with's error. The follower calls it for one chunk of the log at a time (follower.c), so
 * what it holds is bounded by the chunk. */
OV_MUST_CHECK int vf_adopt(struct vf_app *app, const struct vf_logged *list, size_t n,
                           ov_db_tx_fn with, void *with_ctx, size_t *adopted);

#endif
