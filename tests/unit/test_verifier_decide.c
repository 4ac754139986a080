/* Unit tests: the verifier's decision table (verifier/decide.c) against a real SQLite file,
 * linked with the verifier's own modules. Assembly: counted, the same ballot again (its
 * row), another ballot on a spent token, two ballots of one token in one batch, closed
 * windows. Rating round: unknown pseudonym, admission by the first rating, later ratings
 * without the token, the same rating again, another rating of a rated target, a round whose
 * tally would not fit. A statement round (docs/PROTOCOL.md §11.3): a statement admits its
 * pseudonym, the same statement again (its row), the same text by another pseudonym, the
 * author's quota, a round full, a statement where none is taken; ratings of an unknown
 * statement, of the rater's own, of a statement written in the same batch; a failed batch
 * forgets its statements. A rolled-back batch leaves no key behind, and the keys rebuilt
 * from the table at a restart decide as before (statements included). A statement round's
 * tally entry with 512 statements and its results fits an entry. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../verifier/app.h"
#include "../../verifier/commit.h"
#include "../../verifier/contexts.h"
#include "../../verifier/decide.h"
#include "../../verifier/keys.h"
#include "../../verifier/store.h"
#include "../../verifier/tally.h"
#include "protocol/roundresult.h"

#include "../test.h"

#define NOW 1000000u

static struct vf_context asm_ctx, rate_ctx, stmt_ctx;

static void
contexts(void)
{
    memset(&asm_ctx, 0, sizeof asm_ctx);
    snprintf(asm_ctx.c.id, sizeof asm_ctx.c.id, "budget");
    asm_ctx.c.type = OV_CONTEXT_ASSEMBLY;
    asm_ctx.c.opens = NOW - 100;
    asm_ctx.c.closes = NOW + 100;
    memset(&rate_ctx, 0, sizeof rate_ctx);
    snprintf(rate_ctx.c.id, sizeof rate_ctx.c.id, "notes");
    rate_ctx.c.type = OV_CONTEXT_RATING;
    rate_ctx.c.opens = NOW - 100;
    rate_ctx.c.closes = NOW + 100;
    memset(&stmt_ctx, 0, sizeof stmt_ctx);
    snprintf(stmt_ctx.c.id, sizeof stmt_ctx.c.id, "round");
    stmt_ctx.c.type = OV_CONTEXT_RATING;
    stmt_ctx.c.rating_kind = OV_RATING_HELPFULNESS;
    stmt_ctx.c.scale_min = 0;
    stmt_ctx.c.scale_max = 2;
    stmt_ctx.c.statements = 2;
    stmt_ctx.c.opens = NOW - 100;
    stmt_ctx.c.closes = NOW + 100;
    stmt_ctx.stmts = calloc(OV_MAX_ROUND_STATEMENTS, sizeof *stmt_ctx.stmts);
    stmt_ctx.tally.stmts = calloc(OV_MAX_ROUND_STATEMENTS, sizeof *stmt_ctx.tally.stmts);
}

static struct vf_item *fake_entries(struct vf_item *it, const char *text);

/* An action as a handler hands it over: nonce, ballot, both entries and their hashes. The
 * entry bytes name the ballot, so a row's entry shows whose it is. */
static struct vf_item *
item(struct vf_context *c, uint8_t who, uint8_t ballot, const char *label, bool token)
{
    struct vf_item *it = vf_item_new();
    if (it == NULL) {
        return NULL;
    }
    it->ctx = c;
    snprintf(it->a.context, sizeof it->a.context, "%s", c->c.id);
    memset(it->a.pseudonym, who, sizeof it->a.pseudonym);
    it->a.is_rating = c->c.type == OV_CONTEXT_RATING;
    it->a.has_token = token;
    if (it->a.is_rating) {
        snprintf(it->a.target, sizeof it->a.target, "%s", label);
        it->a.rating = ballot;
    } else {
        snprintf(it->a.choice, sizeof it->a.choice, "%s", label);
    }
    char text[256];
    snprintf(text, sizeof text, "%s/%u/%u/%s", c->c.id, who, ballot, label);
    return fake_entries(it, text);
}

/* A statement of pseudonym `who` (its platform makes another ballot of the same text). */
static struct vf_item *
statement(struct vf_context *c, uint8_t who, const char *text, const char *platform, bool token)
{
    struct vf_item *it = vf_item_new();
    if (it == NULL) {
        return NULL;
    }
    it->ctx = c;
    snprintf(it->a.context, sizeof it->a.context, "%s", c->c.id);
    memset(it->a.pseudonym, who, sizeof it->a.pseudonym);
    it->a.is_statement = true;
    it->a.has_token = token;
    snprintf(it->a.text, sizeof it->a.text, "%s", text);
    CHECK_EQ_INT(ov_statement_id(c->c.id, text, it->stmt_id), 0);
    char b[300];
    snprintf(b, sizeof b, "%s/%u/s/%s/%s", c->c.id, who, platform, text);
    return fake_entries(it, b);
}

/* The nonce, the ballot digest and both entries of an item named by text. */
static struct vf_item *
fake_entries(struct vf_item *it, const char *text)
{
    crypto_hash_sha256(it->nonce, it->a.pseudonym, sizeof it->a.pseudonym);
    crypto_hash_sha256(it->ballot, (const uint8_t *)text, strlen(text));
    for (int v = 0; v < 2; v++) {
        char e[300];
        snprintf(e, sizeof e, "%s/%d", text, v);
        if (ov_buf_append(&it->entry[v], e, strlen(e)) != 0) {
            vf_item_release(it);
            return NULL;
        }
        crypto_hash_sha256(it->hash[v], (const uint8_t *)e, strlen(e));
    }
    return it;
}

struct batch {
    struct vf_app *app;
    struct vf_item **items;
    size_t n;
    uint64_t now;
    bool fail_after; /* the transaction fails after deciding: everything must be undone */
};

static int
decide_tx(struct ov_db *db, void *arg)
{
    struct batch *b = arg;
    for (size_t i = 0; i + 1 < b->n; i++) {
        b->items[i]->job.next = &b->items[i + 1]->job;
    }
    b->items[b->n - 1]->job.next = NULL;
    int rc = vf_decide(b->app, db, b->items[0], b->now);
    return rc == 0 && b->fail_after ? -OV_E_DB : rc;
}

/* Decides the items in one transaction; returns its result. */
static int
decide(struct vf_app *app, struct ov_db *db, struct vf_item **items, size_t n, uint64_t now,
       bool fail_after)
{
    struct batch b = { app, items, n, now, fail_after };
    int rc = ov_rowmap_tx(app->keys, db, decide_tx, &b);
    for (size_t i = 0; i < n; i++) {
        vf_decide_settle(items[i], rc == 0); /* as the committer's batch_done */
    }
    return rc;
}

/* Decides the fresh item alone, lets it go and returns its outcome (row into *row). */
static enum vf_outcome
alone(struct vf_app *app, struct ov_db *db, struct vf_item *it, int64_t *row)
{
    enum vf_outcome out = VF_FAILED;
    if (it != NULL && decide(app, db, &it, 1, NOW, false) == 0) {
        out = it->outcome;
        if (row != NULL) {
            *row = it->row;
        }
    }
    vf_item_release(it);
    return out;
}

/* Decides one fresh action alone and returns its outcome (row into *row). */
static enum vf_outcome
one(struct vf_app *app, struct ov_db *db, struct vf_context *c, uint8_t who, uint8_t ballot,
    const char *label, bool token, int64_t *row)
{
    return alone(app, db, item(c, who, ballot, label, token), row);
}

static void
test_assembly(struct vf_app *app, struct ov_db *db)
{
    int64_t r1 = 0, r = 0;
    CHECK_EQ_INT(one(app, db, &asm_ctx, 1, 1, "yes", true, &r1), VF_COUNTED);
    CHECK(r1 > 0);
    /* the same ballot again (a lost answer, retried): its row, not a second count */
    struct vf_item *again = item(&asm_ctx, 1, 1, "yes", true);
    CHECK(again != NULL && decide(app, db, &again, 1, NOW, false) == 0);
    if (again != NULL) {
        CHECK_EQ_INT(again->outcome, VF_DUPLICATE);
        CHECK_EQ_INT(again->row, r1);
        CHECK(again->row_entry.len == again->entry[1].len &&
              memcmp(again->row_entry.ptr, again->entry[1].ptr, again->entry[1].len) == 0);
    }
    vf_item_release(again);
    /* another ballot on the spent token */
    CHECK_EQ_INT(one(app, db, &asm_ctx, 1, 2, "no", true, NULL), VF_SPENT);
    /* another token counts */
    CHECK_EQ_INT(one(app, db, &asm_ctx, 2, 1, "no", true, &r), VF_COUNTED);
    CHECK(r > r1);
    /* two ballots of one token in one batch: the first counts, the second is refused */
    struct vf_item *pair[3] = { item(&asm_ctx, 3, 1, "yes", true), item(&asm_ctx, 3, 2, "no", true),
                                item(&asm_ctx, 3, 1, "yes", true) };
    CHECK(pair[0] && pair[1] && pair[2] && decide(app, db, pair, 3, NOW, false) == 0);
    if (pair[0] && pair[1] && pair[2]) {
        CHECK_EQ_INT(pair[0]->outcome, VF_COUNTED);
        CHECK_EQ_INT(pair[1]->outcome, VF_SPENT);
        CHECK_EQ_INT(pair[2]->outcome, VF_DUPLICATE);
        CHECK_EQ_INT(pair[2]->row, pair[0]->row);
    }
    for (int i = 0; i < 3; i++) {
        vf_item_release(pair[i]);
    }
    /* the window, at the batch's time: before it opens and from its close on */
    struct vf_item *early = item(&asm_ctx, 4, 1, "yes", true);
    CHECK(early && decide(app, db, &early, 1, asm_ctx.c.opens - 1, false) == 0);
    CHECK(early && early->outcome == VF_CLOSED && early->row == 0);
    vf_item_release(early);
    struct vf_item *late = item(&asm_ctx, 4, 1, "yes", true);
    CHECK(late && decide(app, db, &late, 1, asm_ctx.c.closes, false) == 0);
    CHECK(late && late->outcome == VF_CLOSED);
    vf_item_release(late);
    /* a failed transaction keeps neither row nor key: the same ballot then counts */
    struct vf_item *lost = item(&asm_ctx, 5, 1, "yes", true);
    CHECK(lost && decide(app, db, &lost, 1, NOW, true) == -OV_E_DB);
    vf_item_release(lost);
    CHECK_EQ_INT(one(app, db, &asm_ctx, 5, 1, "yes", true, NULL), VF_COUNTED);
}

static void
test_rating(struct vf_app *app, struct ov_db *db)
{
    int64_t first = 0, r = 0;
    /* a pseudonym never admitted, without its token */
    CHECK_EQ_INT(one(app, db, &rate_ctx, 10, 3, "note-1", false, NULL), VF_UNKNOWN_PSEUDONYM);
    /* its first rating brings the token: counted with the token's entry */
    struct vf_item *adm = item(&rate_ctx, 10, 3, "note-1", true);
    CHECK(adm && decide(app, db, &adm, 1, NOW, false) == 0);
    if (adm != NULL) {
        CHECK_EQ_INT(adm->outcome, VF_COUNTED);
        CHECK_EQ_MEM(adm->row_hash, adm->hash[1], 32);
        first = adm->row;
    }
    vf_item_release(adm);
    /* later ratings need no token; one that still carries it is logged without it */
    struct vf_item *later = item(&rate_ctx, 10, 4, "note-2", true);
    CHECK(later && decide(app, db, &later, 1, NOW, false) == 0);
    CHECK(later && later->outcome == VF_COUNTED && memcmp(later->row_hash, later->hash[0], 32) == 0);
    vf_item_release(later);
    CHECK_EQ_INT(one(app, db, &rate_ctx, 10, 5, "note-3", false, &r), VF_COUNTED);
    /* the same rating again: its row; another rating of a rated target: refused */
    CHECK_EQ_INT(one(app, db, &rate_ctx, 10, 3, "note-1", true, &r), VF_DUPLICATE);
    CHECK_EQ_INT(r, first);
    CHECK_EQ_INT(one(app, db, &rate_ctx, 10, 1, "note-1", false, NULL), VF_RATED);
    /* another pseudonym rates the same target */
    CHECK_EQ_INT(one(app, db, &rate_ctx, 11, 1, "note-1", true, NULL), VF_COUNTED);
    /* a new target that would not fit in the round's tally entry */
    uint64_t saved = rate_ctx.target_bytes;
    rate_ctx.target_bytes = VF_MAX_TALLY_BYTES - 10;
    CHECK_EQ_INT(one(app, db, &rate_ctx, 11, 1, "note-new", false, NULL), VF_TOO_MANY_TARGETS);
    /* a known target still fits */
    CHECK_EQ_INT(one(app, db, &rate_ctx, 11, 1, "note-2", false, NULL), VF_COUNTED);
    rate_ctx.target_bytes = saved;
}


/* Decides one statement alone: its outcome (row into *row). */
static enum vf_outcome
one_statement(struct vf_app *app, struct ov_db *db, uint8_t who, const char *text,
              const char *platform, bool token, int64_t *row)
{
    return alone(app, db, statement(&stmt_ctx, who, text, platform, token), row);
}

static char id_a[OV_STATEMENT_ID_LEN + 1], id_b[OV_STATEMENT_ID_LEN + 1];

static void
test_statements(struct vf_app *app, struct ov_db *db)
{
    int64_t first = 0, r = 0;
    CHECK_EQ_INT(ov_statement_id("round", "parks first", id_a), 0);
    CHECK_EQ_INT(ov_statement_id("round", "buses first", id_b), 0);
    /* which contexts take statements (the handler's invalid_action) */
    struct vf_item *probe = statement(&stmt_ctx, 20, "x", "p", true);
    if (probe != NULL) {
        CHECK(vf_action_valid(&stmt_ctx, &probe->a));
        CHECK(!vf_action_valid(&rate_ctx, &probe->a));
        CHECK(!vf_action_valid(&asm_ctx, &probe->a));
        stmt_ctx.c.statements = 0;
        CHECK(!vf_action_valid(&stmt_ctx, &probe->a));
        stmt_ctx.c.statements = 2;
    }
    vf_item_release(probe);
    /* a statement where the committer keeps no list (the handler refuses it before) */
    struct vf_item *plain = statement(&rate_ctx, 20, "x", "p", true);
    CHECK(plain && decide(app, db, &plain, 1, NOW, false) == 0);
    CHECK(plain && plain->outcome == VF_ROUND_FULL);
    vf_item_release(plain);
    /* a pseudonym never admitted, without its token */
    CHECK_EQ_INT(one_statement(app, db, 20, "parks first", "p", false, NULL), VF_UNKNOWN_PSEUDONYM);
    /* a first statement admits the pseudonym: counted with the token's entry */
    struct vf_item *adm = statement(&stmt_ctx, 20, "parks first", "p", true);
    CHECK(adm && decide(app, db, &adm, 1, NOW, false) == 0);
    if (adm != NULL) {
        CHECK_EQ_INT(adm->outcome, VF_COUNTED);
        CHECK_EQ_MEM(adm->row_hash, adm->hash[1], 32);
        first = adm->row;
    }
    vf_item_release(adm);
    CHECK_EQ_INT((int)stmt_ctx.n_stmts, 1);
    /* the same statement again: its row; the same text by its author on another platform,
     * or by another pseudonym: duplicate_statement (and it admits nobody) */
    CHECK_EQ_INT(one_statement(app, db, 20, "parks first", "p", true, &r), VF_DUPLICATE);
    CHECK_EQ_INT(r, first);
    CHECK_EQ_INT(one_statement(app, db, 20, "parks first", "q", false, NULL), VF_DUP_STATEMENT);
    CHECK_EQ_INT(one_statement(app, db, 21, "parks first", "p", true, NULL), VF_DUP_STATEMENT);
    CHECK_EQ_INT(one_statement(app, db, 21, "x", "p", false, NULL), VF_UNKNOWN_PSEUDONYM);
    /* the author's quota (2), without the token now */
    CHECK_EQ_INT(one_statement(app, db, 20, "buses first", "p", false, NULL), VF_COUNTED);
    CHECK_EQ_INT(one_statement(app, db, 20, "trams first", "p", false, NULL), VF_STATEMENT_QUOTA);
    /* ratings: of an unknown statement, of the rater's own, of another's */
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 21, 2, "0123456789abcdef0123456789abcdef", true, NULL),
                 VF_UNKNOWN_STATEMENT);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 20, 2, id_a, false, NULL), VF_OWN_STATEMENT);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 21, 2, id_a, true, &r), VF_COUNTED);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 21, 2, id_a, true, NULL), VF_DUPLICATE);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 21, 0, id_a, false, NULL), VF_RATED);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 21, 1, id_b, false, NULL), VF_COUNTED);
    /* a statement and its rating in one batch: the rating sees it */
    char id_c[OV_STATEMENT_ID_LEN + 1];
    CHECK_EQ_INT(ov_statement_id("round", "bikes first", id_c), 0);
    struct vf_item *pair[2] = { statement(&stmt_ctx, 22, "bikes first", "p", true),
                                item(&stmt_ctx, 23, 2, id_c, true) };
    CHECK(pair[0] && pair[1] && decide(app, db, pair, 2, NOW, false) == 0);
    CHECK(pair[0] && pair[1] && pair[0]->outcome == VF_COUNTED && pair[1]->outcome == VF_COUNTED);
    vf_item_release(pair[0]);
    vf_item_release(pair[1]);
    /* a failed batch forgets its statement: nobody rates it, its author writes it again */
    char id_l[OV_STATEMENT_ID_LEN + 1];
    CHECK_EQ_INT(ov_statement_id("round", "lost", id_l), 0);
    struct vf_item *lost = statement(&stmt_ctx, 24, "lost", "p", true);
    CHECK(lost && decide(app, db, &lost, 1, NOW, true) == -OV_E_DB);
    vf_item_release(lost);
    CHECK_EQ_INT((int)stmt_ctx.n_stmts, 3);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 23, 2, id_l, false, NULL), VF_UNKNOWN_STATEMENT);
    CHECK_EQ_INT(one_statement(app, db, 24, "lost", "p", true, NULL), VF_COUNTED);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 23, 2, id_l, false, NULL), VF_COUNTED);
    /* a rating off the kind's scale (the handler's invalid_action) */
    struct vf_item *off = item(&stmt_ctx, 23, 3, id_a, false);
    CHECK(off && !vf_action_valid(&stmt_ctx, &off->a));
    vf_item_release(off);
    /* the round full: OV_MAX_ROUND_STATEMENTS (the known ones still answer) */
    size_t saved = stmt_ctx.n_stmts;
    stmt_ctx.n_stmts = OV_MAX_ROUND_STATEMENTS;
    CHECK_EQ_INT(one_statement(app, db, 25, "one too many", "p", true, NULL), VF_ROUND_FULL);
    CHECK_EQ_INT(one_statement(app, db, 20, "parks first", "p", true, NULL), VF_DUPLICATE);
    stmt_ctx.n_stmts = saved;
    memset(&stmt_ctx.stmts[saved], 0, (OV_MAX_ROUND_STATEMENTS - saved) * sizeof *stmt_ctx.stmts);
}

/* After a restart the keys come from the table: the same decisions. */
static void
test_restart(struct vf_app *app, struct ov_db *db)
{
    vf_keys_free(app);
    CHECK_EQ_INT(vf_keys_load(app, db), 0);
    int64_t r = 0;
    CHECK_EQ_INT(one(app, db, &asm_ctx, 1, 1, "yes", true, &r), VF_DUPLICATE);
    CHECK_EQ_INT(one(app, db, &asm_ctx, 1, 2, "no", true, NULL), VF_SPENT);
    CHECK_EQ_INT(one(app, db, &rate_ctx, 10, 1, "note-1", false, NULL), VF_RATED);
    CHECK_EQ_INT(one(app, db, &rate_ctx, 12, 1, "note-1", false, NULL), VF_UNKNOWN_PSEUDONYM);
    CHECK_EQ_INT(one(app, db, &asm_ctx, 6, 1, "yes", true, NULL), VF_COUNTED);
    /* a statement round's list, rebuilt from the rows */
    CHECK_EQ_INT((int)stmt_ctx.n_stmts, 4);
    CHECK_EQ_INT(one_statement(app, db, 20, "parks first", "p", true, &r), VF_DUPLICATE);
    CHECK_EQ_INT(one_statement(app, db, 21, "buses first", "p", false, NULL), VF_DUP_STATEMENT);
    CHECK_EQ_INT(one_statement(app, db, 20, "trams first", "p", false, NULL), VF_STATEMENT_QUOTA);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 20, 2, id_b, false, NULL), VF_OWN_STATEMENT);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 21, 0, id_a, false, NULL), VF_RATED);
    CHECK_EQ_INT(one(app, db, &stmt_ctx, 22, 1, id_a, false, NULL), VF_COUNTED);
}

/* A statement round's tally entry at its largest: 512 statements each rated, its results
 * from the count (tally.c), every id in `result`, and the status lists at their longest. */
static void
test_tally_fits(void)
{
    struct vf_context *c = &stmt_ctx;
    struct ov_round_input in;
    struct ov_roundresult r;
    struct ov_tally_results res;
    uint8_t seed[32] = { 7 }, who[OV_PSEUDONYM_LEN];
    char id[OV_STATEMENT_ID_LEN + 1], text[32];
    int bad = 0;
    vf_tally_reset(c);
    for (unsigned i = 0; i < OV_MAX_ROUND_STATEMENTS; i++) {
        snprintf(text, sizeof text, "statement %u", i);
        bad |= ov_statement_id(c->c.id, text, id);
        memset(who, (int)(i % 40), sizeof who);
        bad |= vf_tally_statement(c, id, who, (int64_t)i + 1);
        for (unsigned k = 0; k < 12; k++) {
            memset(who, 40 + (int)k, sizeof who);
            bad |= vf_tally_rating(c, who, id, (int64_t)((i + k) % 3));
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(vf_tally_statement(c, id, who, 9) != 0); /* the round is full */
    struct ov_bridge_params p = { 5, 10 };
    struct vf_round_copy cp;
    CHECK_EQ_INT(vf_round_copy(c, &cp), 0);
    CHECK_EQ_INT(vf_round_input(&cp, &p, seed, &in), 0);
    CHECK_EQ_INT((int)in.n_statements, OV_MAX_ROUND_STATEMENTS);
    CHECK_EQ_INT(ov_roundresult_run(&in, &r), 0);
    vf_round_input_free(&in);
    CHECK_EQ_INT(ov_roundresult_summary(&r, &res), 0);
    ov_roundresult_free(&r);
    struct ov_buf e;
    CHECK_EQ_INT(vf_tally_entry(c, 99999, NOW, &res, &e), 0);
    free(res.helpful);
    free(res.not_helpful);
    /* the worst case: every statement in a status list, max counts and sums */
    memset(&res, 0, sizeof res);
    res.helpful = calloc(OV_MAX_ROUND_STATEMENTS, sizeof *res.helpful);
    res.n_helpful = 0;
    for (size_t i = 0; res.helpful != NULL && i < c->tally.n_targets; i++) {
        memcpy(res.helpful[res.n_helpful++], c->tally.targets[i].name, OV_STATEMENT_ID_LEN + 1);
        c->tally.targets[i].count = UINT64_MAX;
        c->tally.targets[i].sum = INT64_MIN;
    }
    res.k = OV_TALLY_MAX_GROUPS;
    for (size_t g = 0; g < res.k; g++) {
        res.sizes[g] = UINT64_MAX;
    }
    res.n_consensus = OV_TALLY_CONSENSUS_MAX;
    for (size_t i = 0; res.helpful != NULL && i < res.n_consensus; i++) {
        memcpy(res.consensus[i], res.helpful[i], OV_STATEMENT_ID_LEN + 1);
    }
    struct ov_buf big;
    CHECK_EQ_INT(vf_tally_entry(c, UINT64_MAX, UINT64_MAX, &res, &big), 0);
    CHECK(big.len < 50000); /* (45,314 bytes: docs/PROTOCOL.md §8 says under 50,000) */
    struct ov_entry d;
    CHECK_EQ_INT(ov_entry_decode(ov_buf_view(&big), &d), 0);
    CHECK(d.kind == OV_ENTRY_TALLY && d.u.tally.has_results &&
          d.u.tally.n == OV_MAX_ROUND_STATEMENTS &&
          d.u.tally.results.n_helpful == OV_MAX_ROUND_STATEMENTS);
    ov_entry_clear(&d);
    ov_buf_clear(&big);
    ov_buf_clear(&e);
    free(res.helpful);
    vf_tally_reset(c);
}

int
main(void)
{
    CHECK(sodium_init() >= 0);
    char dir[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ov_test_decide.XXXXXX", tmp != NULL ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    static struct vf_app app;
    app.dir = dir;
    struct ov_db *db = NULL;
    contexts();
    CHECK(pthread_rwlock_init(&app.ctx_lock, NULL) == 0);
    CHECK_EQ_INT(vf_context_register(&app, &stmt_ctx), 0);
    CHECK(vf_store_open(dir, &db) == 0);
    CHECK(db != NULL && vf_keys_load(&app, db) == 0);
    if (db != NULL && app.keys != NULL) {
        test_assembly(&app, db);
        test_rating(&app, db);
        test_statements(&app, db);
        stmt_ctx.n_stmts = 0; /* as at a start: the list comes from the table */
        test_restart(&app, db);
    }
    test_tally_fits();
    vf_keys_free(&app);
    free(app.ctx_tab);
    free(stmt_ctx.stmts);
    free(stmt_ctx.tally.stmts);
    ov_db_close(db);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    TEST_DONE("test_verifier_decide");
}
