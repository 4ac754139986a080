/* adopt: a row for each action or tally the log holds and this database lost (adopt.h).
 * What a row needs is what the committer writes (decide.c): the entry and its leaf hash,
 * the context, the ballot digest (SHA-256 of the signed bytes) and the keys. An entry that
 * breaks a rule the committer keeps (a token spent twice, a target rated twice, a second
 * tally) is not adopted: the log then holds a violation, which the auditor reports; the
 * decision stays with the earlier row. */
#include "adopt.h"

#include <stdio.h>
#include <string.h>

#include "commit.h"
#include "contexts.h"
#include "keys.h"
#include "primitives/merkle.h"
#include "sender.h"

struct adoption {
    struct vf_app *app;
    const struct vf_logged *list;
    size_t n;
    /* set by the transaction (afresh on each try) */
    size_t adopted, refused;
    int64_t last_row;
    struct vf_context *tallied[64]; /* contexts whose tally was adopted */
    uint64_t tally_size[64];
    uint8_t tally_hash[64][32];
    size_t n_tallied;
};

static int
step_done(sqlite3_stmt *st)
{
    int rc = ov_db_step(st);
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
}

/* The round's target, for the tally-size budget (as decide.c's target_room, without the
 * refusal: the log holds it already). */
static int
note_target(struct ov_db *db, struct vf_context *c, const char *target)
{
    sqlite3_stmt *st = ov_db_stmt(db, "target_get");
    size_t len = strlen(target);
    int rc = ov_db_bind_text(st, 1, c->c.id, strlen(c->c.id));
    rc = rc ? rc : ov_db_bind_text(st, 2, target, len);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc < 0 ? rc : 0; /* known */
    }
    st = ov_db_stmt(db, "target_put");
    rc = ov_db_bind_text(st, 1, c->c.id, strlen(c->c.id));
    rc = rc ? rc : ov_db_bind_text(st, 2, target, len);
    rc = rc ? rc : step_done(st);
    if (rc == 0) {
        c->n_targets++;
        c->target_bytes += len + 3 + 19;
    }
    return rc;
}

/* 1 adopted, 0 refused (a rule the log's entry breaks), < 0 error. */
static int
adopt_action(struct adoption *ad, struct ov_db *db, const struct ov_action *a,
             const struct vf_logged *l, const uint8_t hash[32])
{
    struct vf_app *app = ad->app;
    struct vf_context *c = vf_context_find(app, a->context);
    if (c == NULL || (c->c.type == OV_CONTEXT_RATING) != a->is_rating) {
        return 0;
    }
    uint8_t nonce[32], ballot[32];
    struct ov_buf signed_bytes;
    int64_t row = 0;
    int rc = ov_sha256(a->pseudonym, OV_PSEUDONYM_LEN, nonce);
    rc = rc ? rc : ov_action_signed_bytes(a, &signed_bytes);
    if (rc != 0) {
        return rc;
    }
    rc = ov_sha256(signed_bytes.ptr, signed_bytes.len, ballot);
    ov_buf_clear(&signed_bytes);
    int spent = rc ? rc : vf_keys_spent(app, db, a->context, nonce, &row);
    if (spent < 0) {
        return spent;
    }
    bool spends = a->has_token && spent == 0;
    if (!a->is_rating && !spends) {
        return 0; /* an assembly ballot without its token, or whose token a row spent */
    }
    if (a->is_rating) {
        int rated = vf_keys_rated(app, db, a->context, a->pseudonym, a->target, &row);
        if (rated != 0) {
            return rated < 0 ? rated : 0;
        }
        if (!a->has_token && spent == 0) {
            return 0; /* a rating by a pseudonym no token admitted */
        }
        rc = note_target(db, c, a->target);
    }
    const char *label = a->is_rating ? a->target : a->choice;
    sqlite3_stmt *st = ov_db_stmt(db, "action_put");
    rc = rc ? rc : ov_db_bind_blob(st, 1, OV_BYTES(hash, 32));
    rc = rc ? rc : ov_db_bind_blob(st, 2, l->entry);
    rc = rc ? rc : ov_db_bind_text(st, 3, a->context, strlen(a->context));
    rc = rc ? rc : ov_db_bind_blob(st, 4, OV_BYTES(ballot, 32));
    rc = rc ? rc : ov_db_bind_text(st, 5, label, strlen(label));
    rc = rc ? rc : (a->is_rating ? ov_db_bind_int64(st, 6, a->rating) : ov_db_bind_null(st, 6));
    rc = rc ? rc : (spends ? ov_db_bind_blob(st, 7, OV_BYTES(nonce, 32)) : ov_db_bind_null(st, 7));
    rc = rc ? rc
            : (a->is_rating ? ov_db_bind_blob(st, 8, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN))
                            : ov_db_bind_null(st, 8));
    rc = rc ? rc : step_done(st);
    ad->last_row = sqlite3_last_insert_rowid(ov_db_handle(db));
    rc = rc ? rc
            : vf_keys_add(app, ad->last_row, a->context, hash, spends ? nonce : NULL,
                          a->is_rating ? a->pseudonym : NULL, a->is_rating ? a->target : NULL);
    return rc ? rc : 1;
}

/* 1 adopted, 0 refused (the context has a tally of ours already, or is unknown), < 0. */
static int
adopt_tally(struct adoption *ad, struct ov_db *db, const struct ov_tally *t,
            const struct vf_logged *l, const uint8_t hash[32])
{
    struct vf_context *c = vf_context_find(ad->app, t->context);
    bool pending = false;
    for (size_t i = 0; i < ad->n_tallied; i++) {
        pending |= ad->tallied[i] == c;
    }
    if (c == NULL || c->tallied || pending || ad->n_tallied == 64) {
        return 0;
    }
    sqlite3_stmt *st = ov_db_stmt(db, "entry_put");
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(hash, 32));
    rc = rc ? rc : ov_db_bind_blob(st, 2, l->entry);
    rc = rc ? rc : ov_db_bind_text(st, 3, c->c.id, strlen(c->c.id));
    rc = rc ? rc : step_done(st);
    ad->last_row = sqlite3_last_insert_rowid(ov_db_handle(db));
    rc = rc ? rc : vf_keys_add(ad->app, ad->last_row, c->c.id, hash, NULL, NULL, NULL);
    st = ov_db_stmt(db, "context_tallied");
    rc = rc ? rc : ov_db_bind_int64(st, 1, ad->last_row);
    rc = rc ? rc : ov_db_bind_text(st, 2, c->c.id, strlen(c->c.id));
    rc = rc ? rc : step_done(st);
    if (rc == 0) {
        ad->tallied[ad->n_tallied] = c;
        ad->tally_size[ad->n_tallied] = t->size;
        memcpy(ad->tally_hash[ad->n_tallied], hash, 32);
        ad->n_tallied++;
    }
    return rc ? rc : 1;
}

static int
adopt_tx(struct ov_db *db, void *arg)
{
    struct adoption *ad = arg;
    ad->adopted = ad->refused = ad->n_tallied = 0;
    ad->last_row = 0;
    int rc = 0;
    for (size_t i = 0; i < ad->n && rc == 0; i++) {
        const struct vf_logged *l = &ad->list[i];
        uint8_t hash[32];
        int64_t row = 0;
        struct ov_entry e;
        rc = ov_merkle_leaf_hash(l->entry.ptr, l->entry.len, hash);
        int known = rc ? rc : vf_keys_hash(ad->app, db, hash, &row);
        if (known != 0) {
            rc = known < 0 ? known : 0; /* a row of ours: the common case */
            continue;
        }
        if (ov_entry_decode(l->entry, &e) != 0) {
            continue; /* the follower's marker matched inside another entry */
        }
        int r = e.kind == OV_ENTRY_ACTION  ? adopt_action(ad, db, &e.u.action, l, hash)
                : e.kind == OV_ENTRY_TALLY ? adopt_tally(ad, db, &e.u.tally, l, hash)
                                           : 2;
        ov_entry_clear(&e);
        if (r < 0) {
            rc = r;
        } else if (r == 0) {
            ad->refused++;
            fprintf(stderr, "onevoice-verifier: log entry %llu is ours but breaks a rule this "
                            "database keeps (a token spent twice, a target rated twice, a second "
                            "tally, or an unknown context): not adopted\n",
                    (unsigned long long)l->index);
        } else if (r == 1) {
            ad->adopted++;
        }
    }
    return rc;
}

int
vf_adopt(struct vf_app *app, const struct vf_logged *list, size_t n, size_t *adopted)
{
    struct adoption ad;
    memset(&ad, 0, sizeof ad);
    ad.app = app;
    ad.list = list;
    ad.n = n;
    *adopted = 0;
    if (n == 0) {
        return 0;
    }
    int rc = vf_committer_run(app, adopt_tx, &ad, false);
    if (rc != 0 || ad.adopted == 0) {
        return rc;
    }
    pthread_mutex_lock(&app->tally_mu);
    for (size_t i = 0; i < ad.n_tallied; i++) {
        struct vf_context *c = ad.tallied[i];
        c->tally.final = true;
        c->tally.final_size = ad.tally_size[i];
        memcpy(c->tally.final_hash, ad.tally_hash[i], 32);
        c->tallied = true;
    }
    pthread_mutex_unlock(&app->tally_mu);
    if (ad.last_row > 0 && (uint64_t)ad.last_row > atomic_load(&app->committed_upto)) {
        atomic_store(&app->committed_upto, (uint64_t)ad.last_row);
    }
    vf_sender_kick(app); /* the adopted rows go to the log again, for their indices */
    *adopted = ad.adopted;
    return 0;
}
