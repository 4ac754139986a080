/* routes: the verifier's HTTP API (docs/PROTOCOL.md §8).
 *   POST /actions[?wait=proof]          count an action; answer with its receipt
 *   POST /actions/batch[?wait=proof]    many actions, a line each; an answer line each
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

#include "protocol/actionbatch.h"
#include "protocol/actionreq.h"
#include "app.h"
#include "commit.h"
#include "contexts.h"
#include "follower.h"
#include "keys.h"
#include "routes.h"
#include "tally.h"
#include "base/codec.h"
#include "protocol/receipt.h"
#include "store.h"
#include "primitives/tiles.h"

/* A refusal: its HTTP status, reason code and message (docs/PROTOCOL.md §8). */
struct refusal {
    unsigned status;
    const char *reason;
    const char *message;
};

static const struct refusal R_MALFORMED = { 400, "malformed_request",
                                            "not an action request (docs/PROTOCOL.md §8)" },
                            R_UNKNOWN_CONTEXT = { 404, "unknown_context",
                                                  "the log has no such context" },
                            R_NOT_OPEN = { 403, "context_closed", "the context is not open now" },
                            R_NOT_A_RATING = { 400, "invalid_action",
                                               "a rating within the scale is needed" },
                            R_NOT_A_CHOICE = { 400, "invalid_action",
                                               "not one of the context's choices" },
                            R_BAD_TOKEN = { 400, "bad_token",
                                            "the token is missing or not valid for this context" },
                            R_BAD_SIGNATURE = { 400, "bad_signature",
                                                "the action signature or the token's nonce does "
                                                "not match the pseudonym" },
                            R_STOPPING = { 503, "stopping", "the verifier is stopping" },
                            R_SPENT = { 409, "token_spent",
                                        "this token was spent on another ballot" },
                            R_RATED = { 409, "already_rated",
                                        "this pseudonym rated this target already" },
                            R_UNKNOWN_PSEUDONYM = { 403, "unknown_pseudonym",
                                                    "a first rating must carry the token that "
                                                    "admits the pseudonym" },
                            R_CLOSED = { 403, "context_closed", "the context closed" },
                            R_TOO_MANY_TARGETS = { 400, "invalid_action",
                                                   "the round has as many targets as it can count" },
                            R_COMMIT_FAILED = { 503, "commit_failed",
                                                "the action was not stored; send it again" },
                            R_COMMIT_PENDING = { 503, "commit_pending",
                                                 "the action is not stored yet" };

static int
refuse(struct ov_req *rq, const struct refusal *r)
{
    return ov_http_error(rq, r->status, r->reason, r->message);
}

/* One action of a request (a POST carries one, a batch up to OV_MAX_BATCH_ACTIONS, a GET
 * names one row): its item while the committer decides, then its refusal or its row. */
struct vf_slot {
    struct vf_item *item;
    const struct refusal *refused;
    bool have_row;
    int64_t row;
    uint8_t hash[32];
    struct ov_buf entry;
    bool indexed;
    uint64_t index;
};

/* A request's state between its long-poll rounds. */
struct vf_req {
    bool wait_proof;
    bool batch; /* answers with a line per action (POST /actions/batch) */
    size_t n;
    struct vf_slot s[];
};

static void
req_free(void *p)
{
    struct vf_req *st = p;
    for (size_t i = 0; i < st->n; i++) {
        vf_item_release(st->s[i].item);
        ov_buf_clear(&st->s[i].entry);
    }
    free(st);
}

static struct vf_req *
req_new(struct ov_req *rq, size_t n)
{
    struct vf_req *st = calloc(1, sizeof *st + n * sizeof st->s[0]);
    if (st != NULL) {
        st->n = n;
        for (size_t i = 0; i < n; i++) {
            ov_buf_init(&st->s[i].entry, OV_MAX_ENTRY_LEN);
        }
        ov_req_set_state(rq, st, req_free);
    }
    return st;
}

/* Settles a slot as refused, dropping our hold on its item (the committer keeps its own on
 * an item it still holds: one refused commit_pending may yet be counted, as when the
 * answer is lost, and a retry then gets its receipt). */
static int
refuse_slot(struct vf_slot *s, const struct refusal *r)
{
    vf_item_release(s->item);
    s->item = NULL;
    s->refused = r;
    return 0;
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

/* The receipt of a slot's row as it stands, as JSON into j (initialised here); with its
 * proof once logged and covered by a verified checkpoint (local_only: from the window
 * alone, never asking the log). */
static int
slot_receipt(struct vf_app *app, const struct vf_slot *s, bool local_only, struct ov_buf *j,
             enum ov_receipt_status *status)
{
    struct ov_receipt r;
    ov_receipt_init(&r);
    ov_buf_init(j, OV_MAX_RECEIPT_LEN);
    r.status = s->indexed ? OV_RECEIPT_LOGGED : OV_RECEIPT_PENDING;
    memcpy(r.hash, s->hash, 32);
    r.index = s->indexed ? s->index : 0;
    int rc = ov_buf_append(&r.entry, s->entry.ptr, s->entry.len);
    if (rc == 0 && s->indexed) {
        struct ov_buf note;
        if (vf_follower_prove(app, s->index, s->hash, &note, r.proof, &r.n_proof, local_only) ==
            0) {
            ov_buf_clear(&r.checkpoint);
            r.checkpoint = note;
            r.status = OV_RECEIPT_PROVEN;
        }
    }
    rc = rc ? rc : ov_receipt_format(&r, j);
    *status = r.status;
    ov_receipt_clear(&r);
    return rc;
}

static int
reply_receipt(struct ov_req *rq, struct vf_app *app, const struct vf_slot *s)
{
    struct ov_buf j;
    enum ov_receipt_status status;
    int rc = slot_receipt(app, s, false, &j, &status);
    if (rc == 0 && status == OV_RECEIPT_PENDING) {
        char path[OV_RECEIPT_PATH_LEN + 1];
        ov_receipt_path(s->hash, path);
        rc = ov_http_header(rq, "Location", path);
    }
    rc = rc ? rc
            : ov_http_reply(rq, status == OV_RECEIPT_PENDING ? 202 : 200, "application/json",
                            ov_buf_view(&j));
    ov_buf_clear(&j);
    return rc;
}

/* A batch's answer: a line per action, in the request's order: its receipt, or its
 * refusal {"error","message","http_status"}. Proofs come from the window alone: a batch of
 * old ballots must not make the thread ask the log for each (GET /receipts does). */
static int
reply_batch(struct ov_req *rq, struct vf_app *app, const struct vf_req *st)
{
    struct ov_buf out, j;
    enum ov_receipt_status status;
    int rc = 0;
    ov_buf_init(&out, st->n * (OV_MAX_RECEIPT_LEN + 1));
    for (size_t i = 0; i < st->n && rc == 0; i++) {
        const struct vf_slot *s = &st->s[i];
        if (s->refused != NULL) {
            rc = ov_actionbatch_refusal(s->refused->status, s->refused->reason,
                                          s->refused->message, &out);
            continue;
        }
        rc = slot_receipt(app, s, true, &j, &status);
        rc = rc ? rc : ov_buf_append(&out, j.ptr, j.len);
        rc = rc ? rc : ov_buf_append(&out, (const uint8_t *)"\n", 1);
        ov_buf_clear(&j);
    }
    rc = rc ? rc : ov_http_reply(rq, 200, OV_BATCH_CONTENT_TYPE, ov_buf_view(&out));
    ov_buf_clear(&out);
    return rc;
}

/* The row's index, once the sender recorded it. */
static int
load_index(struct vf_app *app, struct vf_slot *s)
{
    if (s->indexed || (uint64_t)s->row > atomic_load(&app->indexed_upto)) {
        return 0;
    }
    if (vf_idx_get(app, (uint64_t)s->row, &s->index)) {
        s->indexed = true;
        return 0;
    }
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    if (db == NULL) {
        return -OV_E_NOMEM;
    }
    sqlite3_stmt *q = ov_db_stmt(db, "entry_index");
    int rc = ov_db_bind_int64(q, 1, s->row);
    rc = rc ? rc : ov_db_step(q);
    if (rc == OV_DB_ROW && !ov_db_col_is_null(q, 0)) {
        rc = ov_db_col_uint64(q, 0, &s->index);
        s->indexed = rc == 0;
    }
    ov_db_reset(q);
    return rc < 0 ? rc : 0;
}

/* Answers with what the request waits for, or waits more. A plain POST waits for the
 * log's index of each of its rows; ?wait=proof for their proofs; a plain GET answers at
 * once. */
static int
answer(struct ov_req *rq, struct vf_app *app, struct vf_req *st, bool is_get)
{
    uint64_t want_row = 0, want_size = 0;
    for (size_t i = 0; i < st->n; i++) {
        struct vf_slot *s = &st->s[i];
        if (!s->have_row) {
            continue;
        }
        int rc = load_index(app, s);
        if (rc != 0) {
            return rc;
        }
        if (!s->indexed) {
            want_row = (uint64_t)s->row > want_row ? (uint64_t)s->row : want_row;
        } else if (st->wait_proof && s->index >= atomic_load(&app->verified_size)) {
            want_size = s->index + 1 > want_size ? s->index + 1 : want_size;
        }
    }
    if (!ov_req_wait_expired(rq) && !(is_get && !st->wait_proof)) {
        /* woken once: when the sender recorded these rows, or a checkpoint covers them */
        if (want_row > 0) {
            return ov_http_wait_until(rq, VF_CH_INDEX, want_row, VF_WAIT_MS);
        }
        if (want_size > 0) {
            return ov_http_wait_until(rq, VF_CH_PROOF, want_size, VF_WAIT_MS);
        }
    }
    if (st->batch) {
        return reply_batch(rq, app, st);
    }
    return st->s[0].refused ? refuse(rq, st->s[0].refused) : reply_receipt(rq, app, &st->s[0]);
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
    if (db == NULL || (st = req_new(rq, 1)) == NULL) {
        return -OV_E_NOMEM;
    }
    struct vf_slot *s = &st->s[0];
    st->wait_proof = w == 1;
    memcpy(s->hash, hash, 32);
    int rc = vf_keys_hash(app, db, hash, &s->row);
    if (rc == 0) {
        return ov_http_error(rq, 404, "not_found", "no entry of this verifier has this hash");
    }
    if (rc < 0) {
        return rc;
    }
    sqlite3_stmt *q = ov_db_stmt(db, "entry_get");
    struct ov_bytes e;
    rc = ov_db_bind_int64(q, 1, s->row);
    rc = rc ? rc : ov_db_step(q);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_blob(q, 1, OV_MAX_ENTRY_LEN, &e);
        rc = rc ? rc : ov_buf_append(&s->entry, e.ptr, e.len);
        if (rc == 0 && !ov_db_col_is_null(q, 3)) {
            rc = ov_db_col_uint64(q, 3, &s->index);
            s->indexed = rc == 0;
        }
    } else if (rc == OV_DB_DONE) {
        rc = -OV_E_DB; /* confirmed by hash a moment ago: rows are never deleted */
    }
    ov_db_reset(q);
    if (rc != 0) {
        return rc;
    }
    s->have_row = true;
    return answer(rq, app, st, true);
}

/* ---- POST /actions --------------------------------------------------------------------- */

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

/* Checks one parsed action (the context, its window, the action, the token, the
 * signature) and hands it to the committer: 0 with s->item queued, or with s->refused set;
 * < 0 for a failure of ours. */
static int
slot_submit(struct vf_app *app, struct vf_slot *s, const struct ov_action *a, uint64_t now)
{
    struct vf_context *c = vf_context_find(app, a->context);
    if (c == NULL) {
        return refuse_slot(s, &R_UNKNOWN_CONTEXT);
    }
    if (now < c->c.opens || now >= c->c.closes) {
        return refuse_slot(s, &R_NOT_OPEN);
    }
    if (!action_valid(c, a)) {
        return refuse_slot(s, c->c.type == OV_CONTEXT_RATING ? &R_NOT_A_RATING : &R_NOT_A_CHOICE);
    }
    if ((c->c.type == OV_CONTEXT_ASSEMBLY && !a->has_token) || (a->has_token && !token_valid(c, a))) {
        return refuse_slot(s, &R_BAD_TOKEN);
    }
    if ((s->item = vf_item_new()) == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = signature_valid(s->item, a);
    if (rc == -OV_E_BAD_SIG) {
        return refuse_slot(s, &R_BAD_SIGNATURE);
    }
    rc = rc ? rc : build_item(s->item, c, a, now);
    rc = rc ? rc : vf_committer_submit(app, s->item);
    return rc == -OV_E_STATE ? refuse_slot(s, &R_STOPPING) : rc;
}

/* POST /actions: one action, its token in the body or the Authorization header. */
static int
action_submit(struct ov_req *rq, struct vf_app *app)
{
    struct ov_action a;
    uint8_t htok[OV_PP_TOKEN_LEN];
    int w = wait_arg(rq);
    int ht = header_token(rq, htok);
    if (ov_actionreq_parse(ov_req_body(rq), &a) != 0 || w < 0 || ht < 0 ||
        (ht == 1 && a.has_token && memcmp(a.token, htok, sizeof htok) != 0)) {
        return refuse(rq, &R_MALFORMED);
    }
    if (ht == 1) {
        a.has_token = true;
        memcpy(a.token, htok, sizeof htok);
    }
    struct vf_req *st = req_new(rq, 1);
    if (st == NULL) {
        return -OV_E_NOMEM;
    }
    st->wait_proof = w == 1;
    int rc = slot_submit(app, &st->s[0], &a, vf_now());
    if (rc != 0 || st->s[0].refused != NULL) {
        return rc ? rc : refuse(rq, st->s[0].refused);
    }
    /* woken once: decided, and (when it got a row) logged */
    return ov_http_wait_until(rq, VF_CH_READY, st->s[0].item->seq, VF_WAIT_MS);
}

/* POST /actions/batch: a line per action, each checked, counted and answered as if it
 * came alone; the request waits for the last one. */
static int
batch_submit(struct ov_req *rq, struct vf_app *app)
{
    struct ov_bytes body = ov_req_body(rq), rest = body, line;
    uint8_t htok[OV_PP_TOKEN_LEN];
    int w = wait_arg(rq);
    size_t n = ov_actionbatch_count(body);
    if (w < 0 || header_token(rq, htok) != 0 || n == 0) {
        return ov_http_error(rq, 400, "malformed_request",
                             "a batch is one action request a line, each with its token, and no "
                             "Authorization token (docs/PROTOCOL.md §8)");
    }
    if (n > OV_MAX_BATCH_ACTIONS) {
        return ov_http_error(rq, 413, "too_many_actions",
                             "a batch holds too many actions (docs/PROTOCOL.md §8)");
    }
    struct vf_req *st = req_new(rq, n);
    if (st == NULL) {
        return -OV_E_NOMEM;
    }
    st->wait_proof = w == 1;
    st->batch = true;
    uint64_t now = vf_now(), last = 0;
    for (size_t i = 0; i < n && ov_actionbatch_next(&rest, &line); i++) {
        struct ov_action a;
        int rc = ov_actionreq_parse(line, &a) != 0 ? refuse_slot(&st->s[i], &R_MALFORMED)
                                                   : slot_submit(app, &st->s[i], &a, now);
        if (rc != 0) {
            return rc; /* what was queued is counted anyway, as for a lost answer */
        }
        last = st->s[i].item != NULL ? st->s[i].item->seq : last;
    }
    ov_req_body_drop(rq); /* up to 512 KiB, not held for the wait */
    return last > 0 ? ov_http_wait_until(rq, VF_CH_READY, last, VF_WAIT_MS)
                    : answer(rq, app, st, false);
}

/* The committer decided: the slot is refused, or has its row (and lets its item go). */
static int
slot_decided(struct vf_slot *s)
{
    static const struct refusal *const by_outcome[] = {
        [VF_SPENT] = &R_SPENT,
        [VF_RATED] = &R_RATED,
        [VF_UNKNOWN_PSEUDONYM] = &R_UNKNOWN_PSEUDONYM,
        [VF_CLOSED] = &R_CLOSED,
        [VF_TOO_MANY_TARGETS] = &R_TOO_MANY_TARGETS,
        [VF_FAILED] = &R_COMMIT_FAILED,
    };
    struct vf_item *it = s->item;
    if (it->outcome != VF_COUNTED && it->outcome != VF_DUPLICATE) {
        unsigned o = (unsigned)it->outcome;
        bool known = o < sizeof by_outcome / sizeof by_outcome[0] && by_outcome[o] != NULL;
        return refuse_slot(s, known ? by_outcome[o] : &R_COMMIT_FAILED);
    }
    s->row = it->row;
    memcpy(s->hash, it->row_hash, 32);
    s->indexed = it->row_indexed;
    s->index = it->row_index;
    int rc = ov_buf_append(&s->entry, it->row_entry.ptr, it->row_entry.len);
    if (rc != 0) {
        return rc; /* counted, but we cannot say so: 500, and a retry gets the receipt */
    }
    s->have_row = true;
    vf_item_release(it);
    s->item = NULL;
    return 0;
}

/* Later rounds of a POST: every action decided (or, at the deadline, commit_pending), then
 * the answer. */
static int
actions_again(struct ov_req *rq, struct vf_app *app, struct vf_req *st)
{
    uint64_t undecided = 0;
    bool expired = ov_req_wait_expired(rq);
    for (size_t i = 0; i < st->n; i++) {
        struct vf_slot *s = &st->s[i];
        if (s->refused != NULL || s->have_row) {
            continue;
        }
        if (atomic_load(&s->item->done)) {
            int rc = slot_decided(s);
            if (rc != 0) {
                return rc;
            }
        } else if (expired) {
            refuse_slot(s, &R_COMMIT_PENDING);
        } else {
            undecided = s->item->seq;
        }
    }
    if (undecided > 0) {
        return ov_http_wait_until(rq, VF_CH_READY, undecided, VF_WAIT_MS);
    }
    return answer(rq, app, st, false);
}

static int
h_action(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct vf_req *st = ov_req_state(rq);
    return st == NULL ? action_submit(rq, app) : actions_again(rq, app, st);
}

static int
h_batch(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct vf_req *st = ov_req_state(rq);
    return st == NULL ? batch_submit(rq, app) : actions_again(rq, app, st);
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
            return refuse(rq, &R_UNKNOWN_CONTEXT);
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
    { "POST", "/actions/batch", h_batch, OV_MAX_BATCH_LEN },
    { "GET", "/receipts/:hash", h_receipt, 0 },
    { "GET", "/tallies", h_tallies, 0 },
    { "GET", "/tallies/:context", h_tallies, 0 },
    { "GET", "/contexts", h_contexts, 0 },
};
const size_t vf_n_routes = sizeof vf_routes / sizeof vf_routes[0];
