/* decide: the verifier's decision table, run by the committer inside its transaction for
 * each queued action, in queue order (see commit.c for the thread around it):
 *
 *   assembly:  the token's (context, nonce) already spent?  the same ballot: its row
 *                                                            (duplicate), else token_spent
 *              else: insert the outbox row (the entry with its token), spend the nonce
 *   rating:    the pseudonym admitted before (spent (context, SHA-256(pseudonym)))?
 *              no and no token: unknown_pseudonym
 *              this pseudonym rated this target before? the same ballot: its row, else
 *              already_rated
 *              a statement round's: the target a statement of the round? (else
 *              unknown_statement) the rater's own? (own_statement)
 *              a target new to the round that would make its tally entry too big: refused
 *              else: insert the row (with the token when it admits the pseudonym), the
 *              rating, the admission
 *   statement: admitted as a rating is (unknown_pseudonym); a statement of the round with
 *              its id? the same ballot: its row, else duplicate_statement; the round full
 *              (OV_MAX_ROUND_STATEMENTS): invalid_action; its author wrote the context's
 *              `statements` already: statement_quota; else insert the row and keep the
 *              statement in the context's list (ctx->stmts, this batch's after the
 *              committed ones: batch_done commits them, a failed batch drops them)
 *
 * Each item is also checked against its context's window at the batch's time, so nothing
 * is counted once the context closed (the tally writer relies on that: follower.c). */
#include "decide.h"

#include <string.h>

#include "contexts.h"
#include "epoch.h"
#include "keys.h"
#include "primitives/cbor.h"

/* ---- one item inside the transaction -------------------------------------------------- */

/* Loads an existing row into the item: the same ballot makes it a duplicate. */
static int
existing(struct ov_db *db, struct vf_item *it, int64_t row, enum vf_outcome other)
{
    sqlite3_stmt *st = ov_db_stmt(db, "entry_get");
    uint8_t ballot[32] = { 0 }; /* set with the row (cppcheck cannot follow rc) */
    struct ov_bytes e;
    int rc = ov_db_bind_int64(st, 1, row);
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_DONE) {
        rc = -OV_E_DB; /* a spend without its row: the schema's invariant broke */
    }
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_fixed(st, 2, ballot, sizeof ballot);
        rc = rc ? rc : ov_db_col_fixed(st, 0, it->row_hash, sizeof it->row_hash);
        rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &e);
    }
    if (rc == 0 && memcmp(ballot, it->ballot, sizeof ballot) != 0) {
        it->outcome = other;
    } else if (rc == 0) {
        it->outcome = VF_DUPLICATE;
        it->row = row;
        it->row_indexed = !ov_db_col_is_null(st, 3);
        rc = it->row_indexed ? ov_db_col_uint64(st, 3, &it->row_index) : 0;
        rc = rc ? rc : ov_buf_append(&it->row_entry, e.ptr, e.len);
    }
    ov_db_reset(st);
    return rc;
}

/* Inserts the outbox row for entry variant v (1 carries the token and spends its nonce)
 * and records its keys. The caller checked that none of them is taken. */
static int
insert_row(struct vf_app *app, struct ov_db *db, struct vf_item *it, int v)
{
    sqlite3_stmt *st = ov_db_stmt(db, "action_put");
    const struct ov_action *a = &it->a;
    const char *label = a->is_statement ? it->stmt_id : a->is_rating ? a->target : a->choice;
    bool by_pseudonym = a->is_rating || a->is_statement;
    /* the item holds every bound byte until the reset below */
    int rc = ov_db_bind_blob_ref(st, 1, OV_BYTES(it->hash[v], 32));
    rc = rc ? rc : ov_db_bind_blob_ref(st, 2, ov_buf_view(&it->entry[v]));
    rc = rc ? rc : ov_db_bind_text_ref(st, 3, a->context, strlen(a->context));
    rc = rc ? rc : ov_db_bind_blob_ref(st, 4, OV_BYTES(it->ballot, 32));
    rc = rc ? rc : ov_db_bind_text_ref(st, 5, label, strlen(label));
    rc = rc ? rc : (a->is_rating ? ov_db_bind_int64(st, 6, a->rating) : ov_db_bind_null(st, 6));
    rc = rc ? rc
            : (v == 1 ? ov_db_bind_blob_ref(st, 7, OV_BYTES(it->nonce, 32)) : ov_db_bind_null(st, 7));
    rc = rc ? rc
            : (by_pseudonym ? ov_db_bind_blob_ref(st, 8, OV_BYTES(a->pseudonym, OV_PSEUDONYM_LEN))
                            : ov_db_bind_null(st, 8));
    /* with epochs, its place in its epoch's random order (epoch.h) */
    rc = rc ? rc : ov_db_bind_int64(st, 9, vf_epoch_place(app, app->batch_epoch));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc < 0 ? rc : -OV_E_DB;
    }
    it->row = sqlite3_last_insert_rowid(ov_db_handle(db));
    memcpy(it->row_hash, it->hash[v], 32);
    it->outcome = VF_COUNTED;
    rc = vf_keys_add(app, it->row, a->context, it->hash[v], v == 1 ? it->nonce : NULL,
                     a->is_rating ? a->pseudonym : NULL, a->is_rating ? a->target : NULL);
    return rc ? rc : ov_buf_append(&it->row_entry, it->entry[v].ptr, it->entry[v].len);
}

/* The token spent before: by the same ballot (a duplicate) or another; else a new row. */
static int
commit_assembly(struct vf_app *app, struct ov_db *db, struct vf_item *it)
{
    int64_t row = 0;
    int rc = vf_keys_spent(app, db, it->a.context, it->nonce, &row);
    if (rc != 0) {
        return rc < 0 ? rc : existing(db, it, row, VF_SPENT);
    }
    return insert_row(app, db, it, 1);
}

/* A target the round has not seen: within the tally entry's budget? (1 yes, 0 no) */
static int
target_room(struct ov_db *db, struct vf_item *it)
{
    struct vf_context *c = it->ctx;
    sqlite3_stmt *st = ov_db_stmt(db, "target_get");
    size_t len = strlen(it->a.target);
    int rc = ov_db_bind_text(st, 1, it->a.context, strlen(it->a.context));
    rc = rc ? rc : ov_db_bind_text(st, 2, it->a.target, len);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc < 0 ? rc : 1; /* known target */
    }
    /* per target: its text (head included) and [count, sum] (at most 19 bytes) */
    uint64_t cost = len + 3 + 19;
    if (c->n_targets + c->batch_targets + 1 > OV_MAX_TALLY_ITEMS ||
        c->target_bytes + c->batch_bytes + cost > VF_MAX_TALLY_BYTES) {
        return 0;
    }
    st = ov_db_stmt(db, "target_put");
    rc = ov_db_bind_text(st, 1, it->a.context, strlen(it->a.context));
    rc = rc ? rc : ov_db_bind_text(st, 2, it->a.target, len);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc != OV_DB_DONE) {
        return rc < 0 ? rc : -OV_E_DB;
    }
    c->batch_targets++;
    c->batch_bytes += cost;
    return 1;
}

/* The pseudonym admitted before (its token spent)? 1 yes, 0 not yet but this action's token
 * admits it, < 0 refused (outcome set: unknown_pseudonym) or an error (returned). */
static int
admission(struct vf_app *app, struct ov_db *db, struct vf_item *it, int *err)
{
    int64_t row = 0;
    int rc = vf_keys_spent(app, db, it->a.context, it->nonce, &row);
    *err = rc < 0 ? rc : 0;
    if (rc == 0 && !it->a.has_token) {
        it->outcome = VF_UNKNOWN_PSEUDONYM;
        return -1;
    }
    return rc < 0 ? -1 : rc;
}

/* A statement round's rating: of a statement of the round, not the rater's own. */
static bool
statement_target(struct vf_item *it)
{
    const struct vf_context *c = it->ctx;
    const struct vf_stmt *s = vf_stmt_find(c->stmts, c->n_stmts + c->batch_stmts, it->a.target);
    if (s == NULL || memcmp(s->author, it->a.pseudonym, OV_PSEUDONYM_LEN) == 0) {
        it->outcome = s == NULL ? VF_UNKNOWN_STATEMENT : VF_OWN_STATEMENT;
        return false;
    }
    return true;
}

static int
commit_statement(struct vf_app *app, struct ov_db *db, struct vf_item *it)
{
    struct vf_context *c = it->ctx;
    size_t n = c->n_stmts + c->batch_stmts;
    int err = 0, admitted = admission(app, db, it, &err);
    if (admitted < 0) {
        return err;
    }
    const struct vf_stmt *s = c->stmts ? vf_stmt_find(c->stmts, n, it->stmt_id) : NULL;
    if (s != NULL) {
        return existing(db, it, s->row, VF_DUP_STATEMENT);
    }
    if (n >= OV_MAX_ROUND_STATEMENTS || c->stmts == NULL) {
        it->outcome = VF_ROUND_FULL; /* (a context without statements: the handler's) */
        return 0;
    }
    if (vf_stmt_count_by(c->stmts, n, it->a.pseudonym) >= c->c.statements) {
        it->outcome = VF_STATEMENT_QUOTA;
        return 0;
    }
    int rc = insert_row(app, db, it, admitted ? 0 : 1);
    if (rc == 0) {
        struct vf_stmt *ns = &c->stmts[n];
        memcpy(ns->id, it->stmt_id, sizeof ns->id);
        memcpy(ns->author, it->a.pseudonym, OV_PSEUDONYM_LEN);
        ns->row = it->row;
        c->batch_stmts++;
    }
    return rc;
}

static int
commit_rating(struct vf_app *app, struct ov_db *db, struct vf_item *it)
{
    int64_t row = 0;
    /* the pseudonym admitted before (its token spent)? Without a token it must have been */
    int err = 0, admitted = admission(app, db, it, &err);
    if (admitted < 0) {
        return err;
    }
    int rc = vf_keys_rated(app, db, it->a.context, it->a.pseudonym, it->a.target, &row);
    if (rc != 0) {
        return rc < 0 ? rc : existing(db, it, row, VF_RATED);
    }
    if (it->ctx->stmts != NULL && !statement_target(it)) {
        return 0;
    }
    rc = target_room(db, it);
    if (rc <= 0) {
        it->outcome = rc == 0 ? VF_TOO_MANY_TARGETS : it->outcome;
        return rc;
    }
    /* with its token, this rating admits the pseudonym, unless an earlier one did */
    return insert_row(app, db, it, admitted ? 0 : 1);
}

int
vf_decide(struct vf_app *app, struct ov_db *db, struct vf_item *items, uint64_t now)
{
    int rc = 0;
    for (struct vf_item *it = items; it != NULL; it = vf_item_next(it)) {
        it->ctx->batch_targets = it->ctx->batch_bytes = 0;
        it->ctx->batch_stmts = 0;
    }
    for (struct vf_item *it = items; it != NULL && rc == 0; it = vf_item_next(it)) {
        const struct ov_context *c = &it->ctx->c;
        it->outcome = 0;
        it->row = 0;
        it->row_indexed = false;
        it->row_entry.len = 0;
        if (now < c->opens || now >= c->closes) {
            it->outcome = VF_CLOSED;
            continue;
        }
        rc = c->type == OV_CONTEXT_ASSEMBLY ? commit_assembly(app, db, it)
             : it->a.is_statement           ? commit_statement(app, db, it)
                                            : commit_rating(app, db, it);
    }
    return rc;
}

void
vf_decide_settle(struct vf_item *it, bool committed)
{
    struct vf_context *c = it->ctx;
    if (committed) {
        c->n_targets += c->batch_targets;
        c->target_bytes += c->batch_bytes;
        c->n_stmts += c->batch_stmts; /* the batch's statements, committed */
    }
    c->batch_targets = c->batch_bytes = 0;
    c->batch_stmts = 0;
}
