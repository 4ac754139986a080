/* routes: the verifier's HTTP API (docs/PROTOCOL.md §8).
 *   POST /actions[?wait=proof]          count an action; answer with its receipt
 *   GET  /receipts/<hex leaf hash>[?wait=proof]
 *   GET  /tallies, GET /tallies/<context>
 *   GET  /contexts                      the contexts learned from the log
 *
 * POST /actions checks, in this order, each failure its own answer (nothing is stored
 * before the last one passed): the request's syntax, the context, its window, the action
 * against the context, the token (type, key id, challenge, RSA-PSS), the action signature
 * and the token's nonce binding; then the committer spends or refuses (commit.c). The
 * CPU-heavy checks run here, on the pool threads, before the one short transaction. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "actionreq.h"
#include "app.h"
#include "codec.h"
#include "receipt.h"
#include "store.h"
#include "tiles.h"

/* A request's state between its long-poll rounds. */
struct vf_req {
    struct vf_item *item; /* POST: the action in the committer's hands */
    bool wait_proof;
    bool have_row;
    int64_t row;
    uint8_t hash[32];
    struct ov_buf entry;
    bool indexed;
    uint64_t index;
};

static void
req_free(void *p)
{
    struct vf_req *st = p;
    vf_item_release(st->item);
    ov_buf_clear(&st->entry);
    free(st);
}

static struct vf_req *
req_new(struct ov_req *rq)
{
    struct vf_req *st = calloc(1, sizeof *st);
    if (st != NULL) {
        ov_buf_init(&st->entry, OV_MAX_ENTRY_LEN);
        ov_req_set_state(rq, st, req_free);
    }
    return st;
}

/* ?wait=proof (1), no wait (0), anything else (-1). */
static int
wait_arg(struct ov_req *rq)
{
    const char *v = NULL;
    int rc = ov_req_query(rq, "wait", &v);
    if (rc == -OV_E_NOT_FOUND) {
        return 0;
    }
    return rc == 0 && strcmp(v, "proof") == 0 ? 1 : -1;
}

/* ---- receipts -------------------------------------------------------------------------- */

static int
reply_receipt(struct ov_req *rq, struct vf_app *app, struct vf_req *st, bool try_proof)
{
    struct ov_receipt r;
    struct ov_buf j;
    ov_receipt_init(&r);
    r.status = st->indexed ? OV_RECEIPT_LOGGED : OV_RECEIPT_PENDING;
    memcpy(r.hash, st->hash, 32);
    r.index = st->indexed ? st->index : 0;
    int rc = ov_buf_append(&r.entry, st->entry.ptr, st->entry.len);
    if (rc == 0 && try_proof && st->indexed) {
        struct ov_buf note;
        if (vf_follower_prove(app, st->index, st->hash, &note, r.proof, &r.n_proof) == 0) {
            ov_buf_clear(&r.checkpoint);
            r.checkpoint = note;
            r.status = OV_RECEIPT_PROVEN;
        }
    }
    rc = rc ? rc : ov_receipt_format(&r, &j);
    if (rc == 0 && r.status == OV_RECEIPT_PENDING) {
        char path[OV_RECEIPT_PATH_LEN + 1];
        ov_receipt_path(r.hash, path);
        rc = ov_http_header(rq, "Location", path);
    }
    rc = rc ? rc
            : ov_http_reply(rq, r.status == OV_RECEIPT_PENDING ? 202 : 200, "application/json",
                            ov_buf_view(&j));
    ov_buf_clear(&j);
    ov_receipt_clear(&r);
    return rc;
}

/* The row's index, once the sender recorded it. */
static int
load_index(struct vf_app *app, struct vf_req *st)
{
    if (st->indexed || (uint64_t)st->row > atomic_load(&app->indexed_upto)) {
        return 0;
    }
    if (vf_idx_get(app, (uint64_t)st->row, &st->index)) {
        st->indexed = true;
        return 0;
    }
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    if (db == NULL) {
        return -OV_E_NOMEM;
    }
    sqlite3_stmt *s = ov_db_stmt(db, "entry_index");
    int rc = ov_db_bind_int64(s, 1, st->row);
    rc = rc ? rc : ov_db_step(s);
    if (rc == OV_DB_ROW && !ov_db_col_is_null(s, 0)) {
        rc = ov_db_col_uint64(s, 0, &st->index);
        st->indexed = rc == 0;
    }
    ov_db_reset(s);
    return rc < 0 ? rc : 0;
}

/* Answers with what the request waits for, or waits more. A plain POST waits for the
 * log's index; ?wait=proof for the proof; a plain GET answers at once. */
static int
answer(struct ov_req *rq, struct vf_app *app, struct vf_req *st, bool is_get)
{
    int rc = load_index(app, st);
    if (rc != 0) {
        return rc;
    }
    bool coverable = st->indexed && st->index < atomic_load(&app->verified_size);
    bool expired = ov_req_wait_expired(rq);
    if (coverable || expired || (is_get && !st->wait_proof) || (st->indexed && !st->wait_proof)) {
        return reply_receipt(rq, app, st, st->indexed);
    }
    /* woken once: when the sender recorded this row, or a checkpoint covers its index */
    return st->indexed ? ov_http_wait_until(rq, VF_CH_PROOF, st->index + 1, VF_WAIT_MS)
                       : ov_http_wait_until(rq, VF_CH_INDEX, (uint64_t)st->row, VF_WAIT_MS);
}

static int
h_receipt(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct vf_req *st = ov_req_state(rq);
    if (st != NULL) {
        return answer(rq, app, st, true);
    }
    const char *hex = ov_req_param(rq, "hash");
    uint8_t hash[32];
    size_t n = 0;
    int w = wait_arg(rq);
    if (hex == NULL || ov_hex_decode(hash, sizeof hash, &n, hex, strlen(hex)) != 0 || n != 32 ||
        w < 0) {
        return ov_http_error(rq, 400, "malformed_request",
                             "want /receipts/<64 hex digits>[?wait=proof]");
    }
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    if (db == NULL || (st = req_new(rq)) == NULL) {
        return -OV_E_NOMEM;
    }
    st->wait_proof = w == 1;
    memcpy(st->hash, hash, 32);
    int rc = vf_keys_hash(app, db, hash, &st->row);
    if (rc == 0) {
        return ov_http_error(rq, 404, "not_found", "no entry of this verifier has this hash");
    }
    if (rc < 0) {
        return rc;
    }
    sqlite3_stmt *s = ov_db_stmt(db, "entry_get");
    struct ov_bytes e;
    rc = ov_db_bind_int64(s, 1, st->row);
    rc = rc ? rc : ov_db_step(s);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_blob(s, 1, OV_MAX_ENTRY_LEN, &e);
        rc = rc ? rc : ov_buf_append(&st->entry, e.ptr, e.len);
        if (rc == 0 && !ov_db_col_is_null(s, 3)) {
            rc = ov_db_col_uint64(s, 3, &st->index);
            st->indexed = rc == 0;
        }
    } else if (rc == OV_DB_DONE) {
        rc = -OV_E_DB; /* confirmed by hash a moment ago: rows are never deleted */
    }
    ov_db_reset(s);
    if (rc != 0) {
        return rc;
    }
    st->have_row = true;
    return answer(rq, app, st, true);
}

/* ---- POST /actions --------------------------------------------------------------------- */

static int
refuse(struct ov_req *rq, unsigned status, const char *reason, const char *message)
{
    return ov_http_error(rq, status, reason, message);
}

/* The token from the Authorization header, if it uses the PrivateToken scheme: 1 found,
 * 0 none (no header, or another scheme, which is not ours to judge), -1 malformed. */
static int
header_token(struct ov_req *rq, uint8_t token[OV_PP_TOKEN_LEN])
{
    const char *h = ov_req_header(rq, "Authorization");
    if (h == NULL) {
        return 0;
    }
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    size_t n = sizeof OV_PRIVATETOKEN_SCHEME - 1;
    if (strncasecmp(h, OV_PRIVATETOKEN_SCHEME, n) != 0 || (h[n] != ' ' && h[n] != 0)) {
        return 0;
    }
    return ov_privatetoken_parse(h, strlen(h), token) == 0 ? 1 : -1;
}

/* invalid_action: the action must be one the context offers. */
static bool
action_valid(const struct vf_context *c, const struct ov_action *a)
{
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
static bool
token_valid(const struct vf_context *c, const struct ov_action *a)
{
    struct ov_pp_token t;
    if (ov_pp_token_parse(OV_BYTES(a->token, OV_PP_TOKEN_LEN), &t) != 0 ||
        memcmp(t.token_key_id, c->key.token_key_id, OV_PP_NID) != 0 ||
        CRYPTO_memcmp(t.challenge_digest, c->digest, OV_PP_DIGEST_LEN) != 0) {
        return false;
    }
    return ov_pp_token_verify(&c->key, OV_BYTES(a->token, OV_PP_TOKEN_LEN)) == 0;
}

/* bad_signature: the action signed by its pseudonym (over core/entry's signed bytes, which
 * are kept for the ballot digest), and the token issued for that pseudonym: its nonce is
 * SHA-256(pseudonym) (ov_action_verify's checks, without encoding the action twice). */
static int
signature_valid(struct vf_item *it, const struct ov_action *a)
{
    struct ov_buf signed_bytes;
    struct ov_pp_token t;
    int rc = ov_sha256(a->pseudonym, OV_PSEUDONYM_LEN, it->nonce);
    rc = rc ? rc : ov_action_signed_bytes(a, &signed_bytes);
    if (rc != 0) {
        return rc;
    }
    rc = ov_sign_verify(a->pseudonym, OV_SIGN_ACTION, signed_bytes.ptr, signed_bytes.len, a->sig);
    rc = rc ? rc : ov_sha256(signed_bytes.ptr, signed_bytes.len, it->ballot);
    ov_buf_clear(&signed_bytes);
    if (rc == 0 && a->has_token &&
        (ov_pp_token_parse(OV_BYTES(a->token, OV_PP_TOKEN_LEN), &t) != 0 ||
         CRYPTO_memcmp(t.nonce, it->nonce, OV_PP_NONCE_LEN) != 0)) {
        rc = -OV_E_BAD_SIG;
    }
    return rc;
}

/* The item's entries (with and without the token) and their leaf hashes. */
static int
build_item(struct vf_item *it, struct vf_context *c, const struct ov_action *a, uint64_t now)
{
    struct ov_entry e;
    int rc = 0;
    it->ctx = c;
    it->a = *a;
    it->a.time = now;
    memset(&e, 0, sizeof e);
    e.kind = OV_ENTRY_ACTION;
    for (int v = 0; v < 2 && rc == 0; v++) {
        /* [1] carries the token: an assembly ballot, or a pseudonym's first rating. [0]
         * does not: a later rating (the committer picks) */
        if ((v == 1 && !a->has_token) || (v == 0 && c->c.type == OV_CONTEXT_ASSEMBLY)) {
            continue;
        }
        e.u.action = it->a;
        e.u.action.has_token = v == 1;
        ov_buf_clear(&it->entry[v]);
        rc = ov_entry_encode(&e, &it->entry[v]);
        rc = rc ? rc : ov_merkle_leaf_hash(it->entry[v].ptr, it->entry[v].len, it->hash[v]);
    }
    return rc;
}

static int
action_submit(struct ov_req *rq, struct vf_app *app)
{
    struct ov_action a;
    uint8_t htok[OV_PP_TOKEN_LEN];
    int w = wait_arg(rq);
    int ht = header_token(rq, htok);
    if (ov_actionreq_parse(ov_req_body(rq), &a) != 0 || w < 0 || ht < 0 ||
        (ht == 1 && a.has_token && memcmp(a.token, htok, sizeof htok) != 0)) {
        return refuse(rq, 400, "malformed_request", "not an action request (docs/PROTOCOL.md §8)");
    }
    if (ht == 1) {
        a.has_token = true;
        memcpy(a.token, htok, sizeof htok);
    }
    struct vf_context *c = vf_context_find(app, a.context);
    if (c == NULL) {
        return refuse(rq, 404, "unknown_context", "the log has no such context");
    }
    uint64_t now = vf_now();
    if (now < c->c.opens || now >= c->c.closes) {
        return refuse(rq, 403, "context_closed", "the context is not open now");
    }
    if (!action_valid(c, &a)) {
        return refuse(rq, 400, "invalid_action",
                      c->c.type == OV_CONTEXT_RATING ? "a rating within the scale is needed"
                                                     : "not one of the context's choices");
    }
    if ((c->c.type == OV_CONTEXT_ASSEMBLY && !a.has_token) || (a.has_token && !token_valid(c, &a))) {
        return refuse(rq, 400, "bad_token", "the token is missing or not valid for this context");
    }
    struct vf_req *st = req_new(rq);
    struct vf_item *it = st ? vf_item_new() : NULL;
    if (it == NULL) {
        return -OV_E_NOMEM;
    }
    st->item = it;
    st->wait_proof = w == 1;
    int rc = signature_valid(it, &a);
    if (rc == -OV_E_BAD_SIG) {
        return refuse(rq, 400, "bad_signature",
                      "the action signature or the token's nonce does not match the pseudonym");
    }
    rc = rc ? rc : build_item(it, c, &a, now);
    rc = rc ? rc : vf_committer_submit(app, it);
    if (rc != 0) {
        return rc == -OV_E_STATE ? refuse(rq, 503, "stopping", "the verifier is stopping") : rc;
    }
    /* woken once: decided, and (when it got a row) logged */
    return ov_http_wait_until(rq, VF_CH_READY, it->seq, VF_WAIT_MS);
}

/* The committer decided: refuse, or take the row. */
static int
action_decided(struct ov_req *rq, struct vf_req *st)
{
    struct vf_item *it = st->item;
    switch (it->outcome) {
    case VF_COUNTED:
    case VF_DUPLICATE:
        break;
    case VF_SPENT:
        return refuse(rq, 409, "token_spent", "this token was spent on another ballot");
    case VF_RATED:
        return refuse(rq, 409, "already_rated", "this pseudonym rated this target already");
    case VF_UNKNOWN_PSEUDONYM:
        return refuse(rq, 403, "unknown_pseudonym",
                      "a first rating must carry the token that admits the pseudonym");
    case VF_CLOSED:
        return refuse(rq, 403, "context_closed", "the context closed");
    case VF_TOO_MANY_TARGETS:
        return refuse(rq, 400, "invalid_action", "the round has as many targets as it can count");
    case VF_FAILED:
    default:
        return refuse(rq, 503, "commit_failed", "the action was not stored; send it again");
    }
    st->have_row = true;
    st->row = it->row;
    memcpy(st->hash, it->row_hash, 32);
    st->indexed = it->row_indexed;
    st->index = it->row_index;
    return ov_buf_append(&st->entry, it->row_entry.ptr, it->row_entry.len);
}

static int
h_action(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct vf_req *st = ov_req_state(rq);
    if (st == NULL) {
        return action_submit(rq, app);
    }
    if (!st->have_row) {
        if (!atomic_load(&st->item->done)) {
            if (ov_req_wait_expired(rq)) {
                return refuse(rq, 503, "commit_pending", "the action is not stored yet");
            }
            return ov_http_wait_until(rq, VF_CH_READY, st->item->seq, VF_WAIT_MS);
        }
        int rc = action_decided(rq, st);
        if (rc != 0 || !st->have_row) {
            return rc;
        }
    }
    return answer(rq, app, st, false);
}

/* ---- tallies and contexts ---------------------------------------------------------------- */

struct list {
    struct vf_context **v;
    size_t n, cap;
};

static void
collect(void *ctx, struct vf_context *c)
{
    struct list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct vf_context **p = realloc(l->v, cap * sizeof *p);
        if (p == NULL) {
            return;
        }
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = c;
}

static int
by_id(const void *a, const void *b)
{
    return strcmp((*(struct vf_context *const *)a)->c.id, (*(struct vf_context *const *)b)->c.id);
}

static int
h_tallies(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct list l = { NULL, 0, 0 };
    const char *id = ov_req_param(rq, "context");
    if (id != NULL) {
        struct vf_context *c = vf_context_find(app, id);
        if (c == NULL) {
            return refuse(rq, 404, "unknown_context", "the log has no such context");
        }
        pthread_mutex_lock(&app->tally_mu);
        json_t *o = vf_tally_json(c, app->tally_size);
        pthread_mutex_unlock(&app->tally_mu);
        return ov_http_reply_json(rq, 200, o);
    }
    vf_context_each(app, collect, &l);
    qsort(l.v, l.n, sizeof *l.v, by_id);
    json_t *a = json_array();
    pthread_mutex_lock(&app->tally_mu);
    for (size_t i = 0; i < l.n && a != NULL; i++) {
        if (json_array_append_new(a, vf_tally_json(l.v[i], app->tally_size)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    pthread_mutex_unlock(&app->tally_mu);
    free(l.v);
    return ov_http_reply_json(rq, 200, a);
}

static json_t *
context_json(const struct vf_context *c, uint64_t now)
{
    char kid[64];
    json_t *o = NULL;
    if (ov_b64_encode(kid, sizeof kid, c->c.token_key_id, OV_PP_NID, OV_B64_URL_NOPAD) != 0) {
        return NULL;
    }
    if (c->c.type == OV_CONTEXT_ASSEMBLY) {
        json_t *ch = json_array();
        for (size_t i = 0; ch != NULL && i < c->c.n_choices; i++) {
            if (json_array_append_new(ch, json_string(c->c.choices[i])) != 0) {
                json_decref(ch);
                ch = NULL;
            }
        }
        o = json_pack("{sssssssssoso}", "id", c->c.id, "title", c->c.title, "type", "assembly",
                      "issuer", c->c.issuer, "choices", ch ? ch : json_null(), "token_key_id",
                      json_string(kid));
    } else {
        o = json_pack("{sssssssssss[II]}", "id", c->c.id, "title", c->c.title, "type", "rating",
                      "issuer", c->c.issuer, "token_key_id", kid, "scale",
                      (json_int_t)c->c.scale_min, (json_int_t)c->c.scale_max);
    }
    if (o != NULL &&
        (json_object_set_new(o, "opens", json_integer((json_int_t)c->c.opens)) != 0 ||
         json_object_set_new(o, "closes", json_integer((json_int_t)c->c.closes)) != 0 ||
         json_object_set_new(o, "quota", json_integer((json_int_t)c->c.quota)) != 0 ||
         json_object_set_new(o, "log_index", json_integer((json_int_t)c->log_index)) != 0 ||
         json_object_set_new(o, "open", json_boolean(now >= c->c.opens && now < c->c.closes)))) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static int
h_contexts(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct list l = { NULL, 0, 0 };
    uint64_t now = vf_now();
    vf_context_each(app, collect, &l);
    qsort(l.v, l.n, sizeof *l.v, by_id);
    json_t *a = json_array();
    for (size_t i = 0; i < l.n && a != NULL; i++) {
        if (json_array_append_new(a, context_json(l.v[i], now)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    free(l.v);
    return ov_http_reply_json(rq, 200, a);
}

const struct ov_http_route vf_routes[] = {
    { "POST", "/actions", h_action, OV_MAX_ACTION_REQ_LEN },
    { "GET", "/receipts/:hash", h_receipt, 0 },
    { "GET", "/tallies", h_tallies, 0 },
    { "GET", "/tallies/:context", h_tallies, 0 },
    { "GET", "/contexts", h_contexts, 0 },
};
const size_t vf_n_routes = sizeof vf_routes / sizeof vf_routes[0];
