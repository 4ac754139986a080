/* store: the issuer's SQLite database (DIR/issuer.db, mode 0600): schema, migrations and
 * the table of prepared statements. Every invariant the issue names lives in the schema,
 * but for one unique key kept in memory beside its table (issuances, below):
 *
 *   contexts(id, entry, sk, truncated_id, token_key_id UNIQUE, opens, closes, quota,
 *            outbox_id UNIQUE, log_index)   the context entry exactly as logged, its token
 *                                           key (PKCS#8); log_index is NULL until the log
 *                                           acknowledged the entry: only then is it open
 *   enrollees(pseudonym, identity UNIQUE, route, created)
 *                                           identity = keyed hash of route and reference
 *                                           (§7): one identity, one enrollee, ever
 *   keys(pk, pseudonym, created, revoked)   at most one unrevoked key per pseudonym (partial
 *                                           UNIQUE index): recovery revokes, then inserts
 *   invites(hash, created, used)            invitation codes, hashed; used once
 *   reg_tokens(hash, identity, recovery, expires, used)
 *                                           registrar enrollment tokens, hashed; used once
 *   issuances(context, pseudonym, n, blinded, response, time, outbox_id)
 *                                           PRIMARY KEY (context, pseudonym, n) and a
 *                                           trigger refusing n > the context's quota: no
 *                                           person ever holds more than the quota; a
 *                                           retried blinded message finds its stored
 *                                           response through the in-memory index of
 *                                           (context, blinded) (core/infra/rowmap: a UNIQUE
 *                                           index of it wrote a page per issuance), which
 *                                           only the issuance writer adds to, rebuilt from
 *                                           the table at start-up
 *   seen_requests(expires, sig)             signatures of token requests answered inside
 *                                           the time window: replays refused
 *   outbox(id, entry, created, log_index, release, place)
 *                                           log entries written in the same transaction as
 *                                           the state they record; log_index NULL = pending;
 *                                           held until `release` (an epoch's end, 0: at
 *                                           once), then sent in `place` order
 *   counters(name, value)                   the enrollment serial of the log entries */
#ifndef ISSUER_STORE_H
#define ISSUER_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "infra/db.h"
#include "infra/rowmap.h"
#include "base/err.h"

extern const struct ov_db_schema issuer_store_schema;

/* Opens DIR/issuer.db (created 0600, migrated), without automatic WAL checkpoints (the
 * writer runs them: issuer_store_checkpoint). -OV_E_* of ov_db_open. */
OV_MUST_CHECK int issuer_store_open(const char *dir, struct ov_db **out);

/* How many identity hashes of the first format (BLAKE2b alone, before Argon2id) the state
 * held when it was migrated: a state holding any is refused at start (main.c). */
OV_MUST_CHECK int issuer_store_identity_v1(struct ov_db *db, int64_t *n);

/* Inserts an outbox row for entry (inside the caller's transaction), sent at once in
 * commit order; *id is its row id. */
OV_MUST_CHECK int issuer_store_outbox_add(struct ov_db *db, struct ov_bytes entry, uint64_t now_s,
                                          int64_t *id);
/* The same for an entry held until release_s (POSIX seconds, the end of its epoch; 0: at
 * once), sent among those released with it in `place` order (issuer_epoch_place). */
OV_MUST_CHECK int issuer_store_outbox_hold(struct ov_db *db, struct ov_bytes entry,
                                           uint64_t created_s, uint64_t release_s,
                                           uint64_t place, int64_t *id);

/* A passive WAL checkpoint (never waits for the writer). -OV_E_DB. */
OV_MUST_CHECK int issuer_store_checkpoint(struct ov_db *db);

/* Steps a statement of the table that returns no row (the savepoints). -OV_E_*. */
OV_MUST_CHECK int issuer_store_run(struct ov_db *db, const char *name);

/* The in-memory index of (context, blinded) -> the answering issuance's outbox_id: every
 * issuance's, in *out (the caller frees it with ov_rowmap_free). -OV_E_*. */
OV_MUST_CHECK int issuer_store_load_blinded(struct ov_db *db, struct ov_rowmap **out);
/* Adds an issuance to it (the writer, after the issuance's row is inserted). -OV_E_*. */
OV_MUST_CHECK int issuer_store_add_blinded(struct ov_rowmap *m, const char *context,
                                           const uint8_t blinded[256], int64_t outbox_id);

/* What an issuance decides on (iss_state, then the index above confirmed by iss_answered;
 * an unknown key reads no further). */
struct issuer_state {
    bool known, revoked;   /* the key is an enrollee's; it was replaced */
    uint8_t pseudonym[32];
    bool answered;         /* an issuance already answered this blinded message ... */
    bool answered_other;   /* ... for another enrollee */
    uint8_t response[256]; /* its TokenResponse */
    uint64_t issued;       /* the enrollee's tokens in the context */
};
OV_MUST_CHECK int issuer_store_state(struct ov_db *db, struct ov_rowmap *blinded_map,
                                     const uint8_t pk[32], const char *context,
                                     const uint8_t blinded[256], struct issuer_state *s);
/* Its second half alone: s->answered, s->response and (against s->pseudonym)
 * s->answered_other from the map's candidates, each confirmed against its row (the map may
 * hold another key's digest, or a row of the writer's transaction this connection does
 * not see); no candidate, no read. -OV_E_*. */
OV_MUST_CHECK int issuer_store_answered(struct ov_db *db, struct ov_rowmap *blinded_map,
                                        const char *context, const uint8_t blinded[256],
                                        struct issuer_state *s);

#endif
