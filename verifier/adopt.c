/* adopt: a row for each action or tally the log holds and this database lost (adopt.h).
 * What a row needs is what the committer writes (decide.c): the entry and its leaf hash,
 * the context, the ballot digest (SHA-256 of the signed bytes) and the keys.
 *
 * Three steps, so the committer's transactions hold no RSA: which entries have no row here
 * (a transaction: the keys are the committer's), whether each of those is one this verifier
 * would have counted (outside: the action's signature, its token under the context's key,
 * the window; a tally only for a closed context), then the rows (a transaction that checks
 * the keys again). Any producer may append any entry, so an entry that does not verify, or
 * that breaks a rule the committer keeps (a token spent twice, a target rated twice, a
 * second tally), is not adopted: the log then holds a violation, which the auditor reports,
 * and the decision stays with the earlier row. */
#include "adopt.h"

#include <stdio.h>
#include <string.h>

#include "commit.h"
#include "contexts.h"
#include "epoch.h"
#include "keys.h"
#include "primitives/merkle.h"
#include "primitives/pp.h"
#include "sender.h"

#include <sodium.h>

/* A context's change, applied once the transaction committed. */
struct change {
    struct vf_context *c;
    bool tallied;             /* its tally entry adopted: */
    uint64_t tally_size;
    uint8_t tally_hash[32];
    uint8_t tally_seed[32];
    uint64_t targets, target_bytes; /* new targets of a rating round */
};

struct adoption {
    struct vf_app *app;
    const struct vf_logged *list;
    size_t n;
    uint8_t *state; /* per entry: UNKNOWN after the first step, VALID after the second */
    uint8_t *taken; /* per entry: adopted by this try of the last transaction */
    /* set by the last transaction (afresh on each try) */
    size_t adopted;
    int64_t last_row;
    struct change *changes; /* at most one per entry */
    size_t n_changes;
    struct pending *pending; /* the statements adopted (at most one per entry) */
    size_t n_pending;
    bool budgets_added;
    ov_db_tx_fn with; /* the caller's write, in the rows' transaction */
    void *with_ctx;
};

/* A statement adopted: added to its round's list once the transaction committed. */
struct pending {
    struct vf_context *c;
    struct vf_stmt s;
};

enum { ENTRY_KNOWN = 0, ENTRY_UNKNOWN = 1, ENTRY_VALID = 2 };

/* The statement of c with this id, committed or adopted in this transaction. */
static const struct vf_stmt *
stmt_find(const struct adoption *ad, const struct vf_context *c, const char *id)
{
    const struct vf_stmt *s = vf_stmt_find(c->stmts, c->n_stmts, id);
    for (size_t i = 0; s == NULL && i < ad->n_pending; i++) {
        s = ad->pending[i].c == c ? vf_stmt_find(&ad->pending[i].s, 1, id) : NULL;
    }
    return s;
}

/* A statement the committer would have counted (decide.c's rules): 1, else 0. Kept. */
static int
take_statement(struct adoption *ad, struct vf_context *c, const struct ov_action *a,
               const char *id)
{
    size_t n = c->n_stmts, mine = vf_stmt_count_by(c->stmts, c->n_stmts, a->pseudonym);
    for (size_t i = 0; i < ad->n_pending; i++) {
        n += ad->pending[i].c == c;
        mine += ad->pending[i].c == c && vf_stmt_count_by(&ad->pending[i].s, 1, a->pseudonym);
    }
    if (stmt_find(ad, c, id) != NULL || n >= OV_MAX_ROUND_STATEMENTS || mine >= c->c.statements) {
        return 0;
    }
    struct pending *p = &ad->pending[ad->n_pending++];
    p->c = c;
    memcpy(p->s.id, id, sizeof p->s.id);
    memcpy(p->s.author, a->pseudonym, OV_PSEUDONYM_LEN);
    p->s.row = 0; /* set with the row */
    return 1;
}

static struct change *
change_of(struct adoption *ad, struct vf_context *c)
{
    for (size_t i = 0; i < ad->n_changes; i++) {
        if (ad->changes[i].c == c) {
            return &ad->changes[i];
        }
    }
    struct change *ch = &ad->changes[ad->n_changes++];
    memset(ch, 0, sizeof *ch);
    ch->c = c;
    return ch;
}

static int
step_done(sqlite3_stmt *st)
{
    int rc = ov_db_step(st);
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_DB);
}

/* The round's target, for the tally-size budget (as decide.c's target_room, without the
 * refusal: the log holds it already); counted once the transaction committed. */
static int
note_target(struct adoption *ad, struct ov_db *db, struct vf_context *c, const char *target)
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
        struct change *ch = change_of(ad, c);
        ch->targets++;
        ch->target_bytes += len + 3 + 19;
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
    bool by = a->is_rating || a->is_statement; /* by a pseudonym a token admits */
    if (c == NULL || (c->c.type == OV_CONTEXT_RATING) != by) {
        return 0;
    }
    uint8_t nonce[32], ballot[32];
    char id[OV_STATEMENT_ID_LEN + 1] = "";
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
    if ((!by && !spends) || (by && !a->has_token && spent == 0)) {
        return 0; /* a ballot without its token or whose token a row spent; a rating or
                   * statement by a pseudonym no token admitted */
    }
    if (a->is_statement) {
        rc = ov_statement_id(a->context, a->text, id);
        if (rc != 0 || c->stmts == NULL || take_statement(ad, c, a, id) == 0) {
            return rc;
        }
    }
    if (a->is_rating) {
        int rated = vf_keys_rated(app, db, a->context, a->pseudonym, a->target, &row);
        if (rated != 0) {
            return rated < 0 ? rated : 0;
        }
        const struct vf_stmt *s = c->stmts ? stmt_find(ad, c, a->target) : NULL;
        if (c->stmts != NULL &&
            (s == NULL || memcmp(s->author, a->pseudonym, OV_PSEUDONYM_LEN) == 0)) {
            return 0; /* not a statement of the round (in this chunk or before), or its own */
        }
        rc = note_target(ad, db, c, a->target);
    }
    const char *label = a->is_statement ? id : a->is_rating ? a->target : a->choice;
    sqlite3_stmt *st = ov_db_stmt(db, "action_put");
    rc = rc ? rc : ov_db_bind_blob(st, 1, OV_BYTES(hash, 32));
    rc = rc ? rc : ov_db_bind_blob(st, 2, l->entry);
    rc = rc ? rc : ov_db_bind_text(st, 3, a->context, strlen(a->context));
    rc = rc ? rc : ov_db_bind_blob(st, 4, OV_BYTES(ballot, 32));
    rc = rc ? rc : ov_db_bind_text(st, 5, label, strlen(label));
    rc = rc ? rc : (a->is_rating ? ov_db_bind_int64(st, 6, a->rating) : ov_db_bind_null(st, 6));
    rc = rc ? rc : (spends ? ov_db_bind_blob(st, 7, OV_BYTES(nonce, 32)) : ov_db_bind_null(st, 7));
    rc = rc ? rc
            : (by ? ov_db_bind_blob(st, 8, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN))
                  : ov_db_bind_null(st, 8));
    /* logged already (so never sent in an epoch's order), but placed in the current epoch
     * like every row written now: places rise with the ids (epoch.h) */
    rc = rc ? rc : ov_db_bind_int64(st, 9, vf_epoch_place(app, vf_epoch_now(app)));
    rc = rc ? rc : step_done(st);
    ad->last_row = sqlite3_last_insert_rowid(ov_db_handle(db));
    /* its index is known: the log holds it there. Recorded now, not when the sender's resend
     * is answered, so that the follower's count, which trusts that a row not yet recorded
     * lands at or after the log size an answer gave, does not pass over it (an adopted row
     * sits below that size) */
    st = ov_db_stmt(db, "outbox_done");
    rc = rc ? rc : ov_db_bind_int64(st, 1, ad->last_row);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, l->index);
    rc = rc ? rc : step_done(st);
    if (a->is_statement) {
        ad->pending[ad->n_pending - 1].s.row = ad->last_row;
    }
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
    if (c == NULL || c->tallied || change_of(ad, c)->tallied) {
        return 0;
    }
    sqlite3_stmt *st = ov_db_stmt(db, "entry_put");
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(hash, 32));
    rc = rc ? rc : ov_db_bind_blob(st, 2, l->entry);
    rc = rc ? rc : ov_db_bind_text(st, 3, c->c.id, strlen(c->c.id));
    rc = rc ? rc : ov_db_bind_int64(st, 4, vf_epoch_place(ad->app, vf_epoch_now(ad->app)));
    rc = rc ? rc : step_done(st);
    ad->last_row = sqlite3_last_insert_rowid(ov_db_handle(db));
    /* its index is known: the log holds it there. Recorded now, not when the sender's resend
     * is answered, so that the follower's count, which trusts that a row not yet recorded
     * lands at or after the log size an answer gave, does not pass over it (an adopted row
     * sits below that size) */
    st = ov_db_stmt(db, "outbox_done");
    rc = rc ? rc : ov_db_bind_int64(st, 1, ad->last_row);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, l->index);
    rc = rc ? rc : step_done(st);
    rc = rc ? rc : vf_keys_add(ad->app, ad->last_row, c->c.id, hash, NULL, NULL, NULL);
    st = ov_db_stmt(db, "context_tallied");
    rc = rc ? rc : ov_db_bind_int64(st, 1, ad->last_row);
    rc = rc ? rc : ov_db_bind_text(st, 2, c->c.id, strlen(c->c.id));
    rc = rc ? rc : step_done(st);
    if (rc == 0) {
        struct change *ch = change_of(ad, c);
        ch->tallied = true;
        ch->tally_size = t->size;
        memcpy(ch->tally_hash, hash, 32);
        if (t->has_results) {
            memcpy(ch->tally_seed, t->results.seed, 32);
        }
    }
    return rc ? rc : 1;
}

/* Step 1: which entries have no row here. */
static int
unknown_tx(struct ov_db *db, void *arg)
{
    struct adoption *ad = arg;
    int rc = 0;
    for (size_t i = 0; i < ad->n && rc == 0; i++) {
        uint8_t hash[32];
        int64_t row = 0;
        rc = ov_merkle_leaf_hash(ad->list[i].entry.ptr, ad->list[i].entry.len, hash);
        int known = rc ? rc : vf_keys_hash(ad->app, db, hash, &row);
        rc = known < 0 ? known : 0;
        ad->state[i] = known == 0 ? ENTRY_UNKNOWN : ENTRY_KNOWN;
    }
    return rc;
}

/* Step 2: an action this verifier would have counted (as h_actions.c checks one), or a
 * tally of a closed context. */
static bool
would_count(struct vf_app *app, const struct ov_entry *e)
{
    if (e->kind == OV_ENTRY_TALLY) {
        const struct vf_context *c = vf_context_find(app, e->u.tally.context);
        return c != NULL && e->u.tally.time >= c->c.closes;
    }
    if (e->kind != OV_ENTRY_ACTION && e->kind != OV_ENTRY_STATEMENT) {
        return false;
    }
    const struct ov_action *a = &e->u.action;
    const struct vf_context *c = vf_context_find(app, a->context);
    if (c == NULL || a->time < c->c.opens || a->time >= c->c.closes || !vf_action_valid(c, a) ||
        (c->c.type == OV_CONTEXT_ASSEMBLY && !a->has_token)) {
        return false;
    }
    struct ov_buf msg;
    uint8_t nonce[32];
    struct ov_pp_token t;
    if (ov_action_signed_bytes(a, &msg) != 0) {
        return false;
    }
    bool ok = ov_sign_verify(a->pseudonym, OV_SIGN_ACTION, msg.ptr, msg.len, a->sig) == 0;
    ov_buf_clear(&msg);
    if (ok && a->has_token) {
        ok = ov_sha256(a->pseudonym, OV_PSEUDONYM_LEN, nonce) == 0 &&
             ov_pp_token_parse(OV_BYTES(a->token, OV_PP_TOKEN_LEN), &t) == 0 &&
             sodium_memcmp(t.nonce, nonce, OV_PP_NONCE_LEN) == 0 && vf_token_valid(c, a);
    }
    return ok;
}

static void
say_not_adopted(uint64_t index, const char *why)
{
    fprintf(stderr, "onevoice-verifier: log entry %llu is an action or tally with no row here "
                    "that %s: not adopted (the auditor reports it)\n",
            (unsigned long long)index, why);
}

/* Adopts entry i if it may be now: 1 adopted (or known), 0 not (yet), < 0 error. */
static int
adopt_one(struct adoption *ad, struct ov_db *db, size_t i)
{
    const struct vf_logged *l = &ad->list[i];
    uint8_t hash[32];
    int64_t row = 0;
    struct ov_entry e;
    int rc = ov_merkle_leaf_hash(l->entry.ptr, l->entry.len, hash);
    int known = rc ? rc : vf_keys_hash(ad->app, db, hash, &row);
    if (known != 0 || ov_entry_decode(l->entry, &e) != 0) {
        return known < 0 ? known : 1; /* (known: a row of this chunk's, the same entry) */
    }
    int r = e.kind == OV_ENTRY_TALLY ? adopt_tally(ad, db, &e.u.tally, l, hash)
                                     : adopt_action(ad, db, &e.u.action, l, hash);
    ov_entry_clear(&e);
    ad->adopted += r == 1;
    return r;
}

/* Step 3: the rows, and the caller's write in the same transaction (adopt.h). The log's
 * order need not be the order the committer decided in (the sender's batches, a statement
 * round's rating before the statement it rates, a pseudonym's token on a later entry): what
 * a pass cannot adopt yet is tried again while a pass adopts anything. */
static int
adopt_tx(struct ov_db *db, void *arg)
{
    struct adoption *ad = arg;
    ad->adopted = ad->n_changes = ad->n_pending = 0;
    ad->last_row = 0;
    memset(ad->taken, 0, ad->n);
    int rc = 0;
    for (bool progress = true; progress && rc == 0;) {
        progress = false;
        for (size_t i = 0; i < ad->n && rc == 0; i++) {
            if (ad->state[i] == ENTRY_VALID && !ad->taken[i]) {
                int r = adopt_one(ad, db, i);
                rc = r < 0 ? r : 0;
                ad->taken[i] = r == 1;
                progress |= r == 1;
            }
        }
    }
    for (size_t i = 0; i < ad->n && rc == 0; i++) {
        if (ad->state[i] == ENTRY_VALID && !ad->taken[i]) {
            say_not_adopted(ad->list[i].index,
                            "breaks a rule this database keeps (a token spent twice, a target "
                            "rated twice, a second tally, a statement's rules)");
        }
    }
    return rc ? rc : ad->with(db, ad->with_ctx);
}

/* The rounds' target budgets are the committer's own (decide.c reads them in its thread):
 * the adopted targets are added there, once. */
static int
budgets_tx(struct ov_db *db, void *arg)
{
    struct adoption *ad = arg;
    (void)db;
    for (size_t i = 0; i < ad->n_changes && !ad->budgets_added; i++) {
        ad->changes[i].c->n_targets += ad->changes[i].targets;
        ad->changes[i].c->target_bytes += ad->changes[i].target_bytes;
    }
    for (size_t i = 0; i < ad->n_pending && !ad->budgets_added; i++) {
        struct vf_context *c = ad->pending[i].c;
        if (c->n_stmts < OV_MAX_ROUND_STATEMENTS) {
            c->stmts[c->n_stmts++] = ad->pending[i].s;
        }
    }
    ad->budgets_added = true;
    return 0;
}

/* What the committed rows change in memory: the contexts they tallied, the committed rows
 * (the sender's), and the sender woken for them. */
static void
adopted_now(struct vf_app *app, const struct adoption *ad)
{
    pthread_mutex_lock(&app->tally_mu);
    for (size_t i = 0; i < ad->n_changes; i++) {
        const struct change *ch = &ad->changes[i];
        if (ch->tallied) {
            ch->c->tally.final = true;
            ch->c->tally.final_size = ch->tally_size;
            memcpy(ch->c->tally.final_hash, ch->tally_hash, 32);
            memcpy(ch->c->tally.final_seed, ch->tally_seed, 32);
            ch->c->tallied = true;
        }
    }
    pthread_mutex_unlock(&app->tally_mu);
    if ((uint64_t)ad->last_row > atomic_load(&app->committed_upto)) {
        atomic_store(&app->committed_upto, (uint64_t)ad->last_row);
    }
    vf_sender_kick(app); /* the adopted rows go to the log again, for their indices */
}

int
vf_adopt(struct vf_app *app, const struct vf_logged *list, size_t n, ov_db_tx_fn with,
         void *with_ctx, size_t *adopted)
{
    struct adoption ad;
    memset(&ad, 0, sizeof ad);
    ad.app = app;
    ad.list = list;
    ad.n = n;
    ad.with = with;
    ad.with_ctx = with_ctx;
    *adopted = 0;
    if (n == 0) {
        return vf_committer_run(app, with, with_ctx, false);
    }
    ad.state = calloc(n, 1);
    ad.taken = calloc(n, 1);
    ad.changes = calloc(n, sizeof *ad.changes);
    ad.pending = calloc(n, sizeof *ad.pending);
    int rc = ad.state && ad.taken && ad.changes && ad.pending ? vf_committer_run(app, unknown_tx, &ad, false) : -OV_E_NOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct ov_entry e;
        if (ad.state[i] != ENTRY_UNKNOWN) {
            continue;
        }
        int d = ov_entry_decode(list[i].entry, &e);
        if (d == 0 && would_count(app, &e)) {
            ad.state[i] = ENTRY_VALID;
        } else if (d == 0 && (e.kind == OV_ENTRY_ACTION || e.kind == OV_ENTRY_STATEMENT ||
                              e.kind == OV_ENTRY_TALLY)) {
            say_not_adopted(list[i].index, "does not verify (signature, token, window, or a tally "
                                           "before its context closed)");
        }
        ov_entry_clear(&e);
    }
    rc = rc ? rc : vf_committer_run(app, adopt_tx, &ad, false); /* with nothing valid: with's */
    if (rc == 0 && ad.adopted > 0) {
        adopted_now(app, &ad); /* committed, with the caller's write: whatever follows */
        *adopted = ad.adopted;
        rc = vf_committer_run(app, budgets_tx, &ad, false);
    }
    free(ad.state);
    free(ad.taken);
    free(ad.changes);
    free(ad.pending);
    return rc;
}
