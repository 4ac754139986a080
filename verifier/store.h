/* store: the verifier's database, DIR/verifier.db (SQLite, WAL, synchronous=FULL): its
 * schema and its statements. Tables (STRICT):
 *
 *   contexts  the context entries read from the log (id, entry bytes, log index) and, once
 *             the context closed and was counted, the row of its tally entry
 *   entries   the outbox: every entry this verifier appends (actions, tallies), with its
 *             leaf hash (UNIQUE: the receipt's key), the action's ballot digest (SHA-256
 *             of the signed bytes: the same ballot again gets the same receipt), its
 *             choice or target and rating (for tallies), and the log index once the log
 *             acknowledged it (NULL until then: the sender's work list). A statement's
 *             row (§11.3) has its id as label, its author as pseudonym and no rating: a
 *             rating's row always has one, an assembly ballot's no pseudonym
 *   spent     one row per (context, token nonce): the token spent on an assembly ballot or
 *             the pseudonym it admitted into a rating round
 *   ratings   one row per (context, pseudonym, target): each pseudonym rates a target once
 *   targets   the targets rated in each round (bounds the tally entry's size)
 *   follow    the log reader's state (size and frontier) and the checkpoint it verified
 *   sent      the committed log size of the last acknowledgement the sender recorded
 *
 * Spending (or rating) and writing the outbox row happen in one transaction (commit.c). */
#ifndef VF_STORE_H
#define VF_STORE_H

#include "infra/db.h"

/* Opens DIR/verifier.db, creating and migrating it. -OV_E_* as ov_db_open. */
OV_MUST_CHECK int vf_store_open(const char *dir, struct ov_db **out);

#endif
