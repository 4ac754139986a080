/* decide: the verifier's decision table (decide.c tables it): for each action of a batch, in
 * queue order and inside the committer's transaction, whether it is counted (a new row), a
 * duplicate of an earlier ballot (that row), or refused (spent, already rated, unknown
 * pseudonym, closed, too many targets). Tested on its own against a real SQLite file
 * (tests/unit/test_verifier_decide.c). */
#ifndef VF_DECIDE_H
#define VF_DECIDE_H

#include "app.h"
#include "commit.h"

/* Decides every item of the list (linked by vf_item_next) at time `now`, setting each
 * outcome, row and row entry; writes the rows and their keys (app->keys) into db, whose
 * transaction the caller holds. Repeatable: a retry starts every item afresh. 0, or the
 * database's error (the caller rolls back). */
OV_MUST_CHECK int vf_decide(struct vf_app *app, struct ov_db *db, struct vf_item *items,
                            uint64_t now);

/* After the transaction (committed or not), for each item of the batch: what vf_decide
 * kept for the batch in the item's context (its new targets and statements) becomes the
 * round's, or is dropped. */
void vf_decide_settle(struct vf_item *it, bool committed);

#endif
