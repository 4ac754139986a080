/* contexts: the contexts the verifier learned from the log, by id (an open-addressing
 * table of pointers; entries are never removed, so a pointer handed out stays valid). */
#include "app.h"
#include "contexts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static size_t
slot_of(const char *id, size_t cap)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h = (h ^ *p) * 1099511628211u;
    }
    return (size_t)h & (cap - 1);
}

static struct vf_context *
find_locked(struct vf_app *app, const char *id)
{
    if (app->ctx_cap == 0) {
        return NULL;
    }
    for (size_t i = slot_of(id, app->ctx_cap);; i = (i + 1) & (app->ctx_cap - 1)) {
        struct vf_context *c = app->ctx_tab[i];
        if (c == NULL || strcmp(c->c.id, id) == 0) {
            return c;
        }
    }
}

struct vf_context *
vf_context_find(struct vf_app *app, const char *id)
{
    pthread_rwlock_rdlock(&app->ctx_lock);
    struct vf_context *c = find_locked(app, id);
    pthread_rwlock_unlock(&app->ctx_lock);
    return c;
}

static void
put_locked(struct vf_app *app, struct vf_context *c)
{
    size_t i = slot_of(c->c.id, app->ctx_cap);
    while (app->ctx_tab[i] != NULL) {
        i = (i + 1) & (app->ctx_cap - 1);
    }
    app->ctx_tab[i] = c;
}

/* Keeps the table at most half full. */
static int
grow_locked(struct vf_app *app)
{
    if (2 * (app->n_ctx + 1) <= app->ctx_cap) {
        return 0;
    }
    size_t old_cap = app->ctx_cap, cap = old_cap ? 2 * old_cap : 64;
    struct vf_context **old = app->ctx_tab, **tab = calloc(cap, sizeof *tab);
    if (tab == NULL) {
        return -OV_E_NOMEM;
    }
    app->ctx_tab = tab;
    app->ctx_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i] != NULL) {
            put_locked(app, old[i]);
        }
    }
    free(old);
    return 0;
}

/* Parses and checks a context entry into a new vf_context. */
static int
context_new(struct ov_bytes entry, uint64_t index, struct vf_context **out)
{
    struct ov_entry e;
    uint8_t ch[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t ch_len = 0;
    *out = NULL;
    int rc = ov_entry_decode(entry, &e);
    if (rc != 0 || e.kind != OV_ENTRY_CONTEXT) {
        ov_entry_clear(&e);
        return -OV_E_MALFORMED;
    }
    struct vf_context *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return -OV_E_NOMEM;
    }
    c->c = e.u.context;
    c->log_index = index;
    /* sums of ratings stay far from int64's range with scales within +-2^31 */
    if (c->c.type == OV_CONTEXT_RATING &&
        (c->c.scale_min < -(INT64_C(1) << 31) || c->c.scale_max > (INT64_C(1) << 31))) {
        free(c);
        return -OV_E_MALFORMED;
    }
    rc = ov_pp_key_from_spki(&c->key, OV_BYTES(c->c.token_key, c->c.token_key_len));
    if (rc == 0 && memcmp(c->key.token_key_id, c->c.token_key_id, OV_PP_NID) != 0) {
        rc = -OV_E_MALFORMED; /* the logged key id must be the key's */
    }
    rc = rc ? rc : ov_entry_challenge(c->c.issuer, c->c.id, ch, sizeof ch, &ch_len);
    if (rc != 0) {
        ov_pp_key_clear(&c->key);
        free(c);
        return rc == -OV_E_NOMEM ? rc : -OV_E_MALFORMED;
    }
    ov_pp_challenge_digest(OV_BYTES(ch, ch_len), c->digest);
    if (vf_statement_round(c)) {
        c->stmts = calloc(OV_MAX_ROUND_STATEMENTS, sizeof *c->stmts);
        c->tally.stmts = calloc(OV_MAX_ROUND_STATEMENTS, sizeof *c->tally.stmts);
        if (c->stmts == NULL || c->tally.stmts == NULL) {
            vf_context_free(c);
            return -OV_E_NOMEM;
        }
    }
    *out = c;
    return 0;
}

void
vf_context_free(struct vf_context *c)
{
    ov_pp_key_clear(&c->key);
    free(c->tally.targets);
    free(c->tally.stmts);
    free(c->tally.ratings);
    free(c->stmts);
    vf_round_body_release(c->round_body);
    free(c);
}

int
vf_context_register(struct vf_app *app, struct vf_context *c)
{
    int rc = 0;
    pthread_rwlock_wrlock(&app->ctx_lock);
    if (find_locked(app, c->c.id) != NULL) {
        rc = -OV_E_EXISTS;
    }
    rc = rc ? rc : grow_locked(app);
    if (rc == 0) {
        put_locked(app, c);
        app->n_ctx++;
    }
    pthread_rwlock_unlock(&app->ctx_lock);
    if (rc == 0) {
        ov_gauge_set(app->m_contexts, (int64_t)app->n_ctx);
    }
    return rc;
}

int
vf_context_add(struct vf_app *app, struct ov_bytes entry, uint64_t index, struct vf_context **out)
{
    struct vf_context *c = NULL;
    *out = NULL;
    int rc = context_new(entry, index, &c);
    if (rc != 0) {
        return rc;
    }
    rc = vf_context_register(app, c);
    if (rc != 0) {
        vf_context_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void
vf_context_each(struct vf_app *app, void (*fn)(void *ctx, struct vf_context *c), void *ctx)
{
    pthread_rwlock_rdlock(&app->ctx_lock);
    for (size_t i = 0; i < app->ctx_cap; i++) {
        if (app->ctx_tab[i] != NULL) {
            fn(ctx, app->ctx_tab[i]);
        }
    }
    pthread_rwlock_unlock(&app->ctx_lock);
}

bool
vf_statement_round(const struct vf_context *c)
{
    return c->c.type == OV_CONTEXT_RATING && c->c.rating_kind != OV_RATING_SCALE;
}

const struct vf_stmt *
vf_stmt_find(const struct vf_stmt *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(v[i].id, id, OV_STATEMENT_ID_LEN + 1) == 0) {
            return &v[i];
        }
    }
    return NULL;
}

size_t
vf_stmt_count_by(const struct vf_stmt *v, size_t n, const uint8_t *author)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += memcmp(v[i].author, author, OV_PSEUDONYM_LEN) == 0;
    }
    return k;
}

/* invalid_action: the action must be one the context offers. */
bool
vf_action_valid(const struct vf_context *c, const struct ov_action *a)
{
    if (a->is_statement) {
        return vf_statement_round(c) && c->c.statements > 0;
    }
    if (c->c.type == OV_CONTEXT_RATING) {
        return a->is_rating && a->rating >= c->c.scale_min && a->rating <= c->c.scale_max;
    }
    for (size_t i = 0; !a->is_rating && i < c->c.n_choices; i++) {
        if (strcmp(c->c.choices[i], a->choice) == 0) {
            return true;
        }
    }
    return false;
}

/* bad_token: a type-2 Token under the context's logged key, for its challenge. */
bool
vf_token_valid(const struct vf_context *c, const struct ov_action *a)
{
    struct ov_pp_token t;
    if (ov_pp_token_parse(OV_BYTES(a->token, OV_PP_TOKEN_LEN), &t) != 0 ||
        memcmp(t.token_key_id, c->key.token_key_id, OV_PP_NID) != 0 ||
        CRYPTO_memcmp(t.challenge_digest, c->digest, OV_PP_DIGEST_LEN) != 0) {
        return false;
    }
    return ov_pp_token_verify(&c->key, OV_BYTES(a->token, OV_PP_TOKEN_LEN)) == 0;
}
