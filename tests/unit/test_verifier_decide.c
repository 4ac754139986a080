/* Unit tests: the verifier's decision table (verifier/decide.c) against a real SQLite file,
 * linked with the verifier's own modules. Assembly: counted, the same ballot again (its
 * row), another ballot on a spent token, two ballots of one token in one batch, closed
 * windows. Rating round: unknown pseudonym, admission by the first rating, later ratings
 * without the token, the same rating again, another rating of a rated target, a round whose
 * tally would not fit. A rolled-back batch leaves no key behind, and the keys rebuilt from
 * the table at a restart decide as before. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../verifier/app.h"
#include "../../verifier/commit.h"
#include "../../verifier/decide.h"
#include "../../verifier/keys.h"
#include "../../verifier/store.h"

#include "../test.h"

#define NOW 1000000u

static struct vf_context asm_ctx, rate_ctx;

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
}

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
    crypto_hash_sha256(it->nonce, it->a.pseudonym, sizeof it->a.pseudonym);
    char text[256];
    snprintf(text, sizeof text, "%s/%u/%u/%s", c->c.id, who, ballot, label);
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
    return ov_rowmap_tx(app->keys, db, decide_tx, &b);
}

/* Decides one fresh item alone and returns its outcome (row into *row). */
static enum vf_outcome
one(struct vf_app *app, struct ov_db *db, struct vf_context *c, uint8_t who, uint8_t ballot,
    const char *label, bool token, int64_t *row)
{
    struct vf_item *it = item(c, who, ballot, label, token);
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
    CHECK(vf_store_open(dir, &db) == 0);
    CHECK(db != NULL && vf_keys_load(&app, db) == 0);
    if (db != NULL && app.keys != NULL) {
        test_assembly(&app, db);
        test_rating(&app, db);
        test_restart(&app, db);
    }
    vf_keys_free(&app);
    ov_db_close(db);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    TEST_DONE("test_verifier_decide");
}
