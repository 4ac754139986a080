/* h_actions: POST /actions and POST /actions/batch, their checks and their CPU work. */
/* POST /actions checks, in this order, each failure its own answer (nothing is stored
 * before the last one passed): the request's syntax, the context, its window, the action
 * against the context, the token (type, key id, challenge, RSA-PSS), the action signature
 * and the token's nonce binding; then the committer spends or refuses (commit.c). The
 * CPU-heavy checks run here, on the pool threads, before the one short transaction. */
#include "handlers.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "app.h"
#include "base/epoch.h"
#include "commit.h"
#include "contexts.h"
#include "primitives/merkle.h"
#include "protocol/actionbatch.h"
#include "protocol/actionreq.h"

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

/* The item's entries (with and without the token) and their leaf hashes; with epochs the
 * time is the epoch's start, kept in the window (docs/PROTOCOL.md §3.1). */
static int
build_item(struct vf_item *it, struct vf_context *c, const struct ov_action *a, uint64_t now,
           uint32_t epoch_s)
{
    struct ov_entry e;
    int rc = 0;
    it->ctx = c;
    it->a = *a;
    it->a.time = ov_epoch_time_in(now, epoch_s, c->c.opens);
    memset(&e, 0, sizeof e);
    e.kind = a->is_statement ? OV_ENTRY_STATEMENT : OV_ENTRY_ACTION;
    if (a->is_statement) {
        rc = ov_statement_id(a->context, a->text, it->stmt_id);
    }
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
        return vf_refuse_slot(s, &R_UNKNOWN_CONTEXT);
    }
    if (now < c->c.opens || now >= c->c.closes) {
        return vf_refuse_slot(s, &R_NOT_OPEN);
    }
    if (!vf_action_valid(c, a)) {
        return vf_refuse_slot(s, a->is_statement                 ? &R_NO_STATEMENTS
                                 : c->c.type == OV_CONTEXT_RATING ? &R_NOT_A_RATING
                                                                  : &R_NOT_A_CHOICE);
    }
    if ((c->c.type == OV_CONTEXT_ASSEMBLY && !a->has_token) || (a->has_token && !vf_token_valid(c, a))) {
        return vf_refuse_slot(s, &R_BAD_TOKEN);
    }
    if ((s->item = vf_item_new()) == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = signature_valid(s->item, a);
    if (rc == -OV_E_BAD_SIG) {
        return vf_refuse_slot(s, &R_BAD_SIGNATURE);
    }
    rc = rc ? rc : build_item(s->item, c, a, now, app->epoch_s);
    rc = rc ? rc : vf_committer_submit(app, s->item);
    return rc == -OV_E_STATE ? vf_refuse_slot(s, &R_STOPPING) : rc;
}

/* POST /actions: one action, its token in the body or the Authorization header. */
static int
action_submit(struct ov_req *rq, struct vf_app *app)
{
    struct ov_action a;
    uint8_t htok[OV_PP_TOKEN_LEN];
    int w = vf_wait_arg(rq);
    int ht = header_token(rq, htok);
    if (ov_actionreq_parse(ov_req_body(rq), &a) != 0 || w < 0 || ht < 0 ||
        (ht == 1 && a.has_token && memcmp(a.token, htok, sizeof htok) != 0)) {
        return vf_refuse(rq, &R_MALFORMED);
    }
    if (ht == 1) {
        a.has_token = true;
        memcpy(a.token, htok, sizeof htok);
    }
    struct vf_req *st = vf_req_new(rq, 1);
    if (st == NULL) {
        return -OV_E_NOMEM;
    }
    st->wait_proof = w == 1;
    int rc = slot_submit(app, &st->s[0], &a, vf_now());
    if (rc != 0 || st->s[0].refused != NULL) {
        return rc ? rc : vf_refuse(rq, st->s[0].refused);
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
    int w = vf_wait_arg(rq);
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
    struct vf_req *st = vf_req_new(rq, n);
    if (st == NULL) {
        return -OV_E_NOMEM;
    }
    st->wait_proof = w == 1;
    st->batch = true;
    uint64_t now = vf_now(), last = 0;
    for (size_t i = 0; i < n && ov_actionbatch_next(&rest, &line); i++) {
        struct ov_action a;
        int rc = ov_actionreq_parse(line, &a) != 0 ? vf_refuse_slot(&st->s[i], &R_MALFORMED)
                                                   : slot_submit(app, &st->s[i], &a, now);
        if (rc != 0) {
            return rc; /* what was queued is counted anyway, as for a lost answer */
        }
        last = st->s[i].item != NULL ? st->s[i].item->seq : last;
    }
    ov_req_body_drop(rq); /* up to 512 KiB, not held for the wait */
    return last > 0 ? ov_http_wait_until(rq, VF_CH_READY, last, VF_WAIT_MS)
                    : vf_answer(rq, app, st, false);
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
        [VF_STATEMENT_QUOTA] = &R_STATEMENT_QUOTA,
        [VF_DUP_STATEMENT] = &R_DUP_STATEMENT,
        [VF_ROUND_FULL] = &R_ROUND_FULL,
        [VF_UNKNOWN_STATEMENT] = &R_UNKNOWN_STATEMENT,
        [VF_OWN_STATEMENT] = &R_OWN_STATEMENT,
        [VF_FAILED] = &R_COMMIT_FAILED,
    };
    struct vf_item *it = s->item;
    if (it->outcome == VF_FAILED && (it->err == -OV_E_FULL || it->err == -OV_E_READ_ONLY ||
                                     it->err == -OV_E_CORRUPT)) {
        return vf_refuse_slot(s, it->err == -OV_E_FULL       ? &R_DISK_FULL
                                 : it->err == -OV_E_READ_ONLY ? &R_READ_ONLY
                                                              : &R_DB_CORRUPT);
    }
    if (it->outcome != VF_COUNTED && it->outcome != VF_DUPLICATE) {
        unsigned o = (unsigned)it->outcome;
        bool known = o < sizeof by_outcome / sizeof by_outcome[0] && by_outcome[o] != NULL;
        return vf_refuse_slot(s, known ? by_outcome[o] : &R_COMMIT_FAILED);
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
            vf_refuse_slot(s, &R_COMMIT_PENDING);
        } else {
            undecided = s->item->seq;
        }
    }
    if (undecided > 0) {
        return ov_http_wait_until(rq, VF_CH_READY, undecided, VF_WAIT_MS);
    }
    return vf_answer(rq, app, st, false);
}

/* Before the follower has read the log once since start-up, this database may lack rows
 * the log holds (restored from a backup): a request waits for that read, or is refused. */
static int
await_log(struct ov_req *rq, struct vf_app *app)
{
    if (atomic_load(&app->caught_up)) {
        return 1;
    }
    if (ov_req_wait_expired(rq)) {
        return ov_http_error(rq, 503, "catching_up",
                             "the verifier has not read the log since it started; retry soon");
    }
    return ov_http_wait_until(rq, VF_CH_CAUGHT_UP, 1, VF_WAIT_MS);
}

int
vf_h_action(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct vf_req *st = ov_req_state(rq);
    int ready = st == NULL ? await_log(rq, app) : 1;
    if (ready != 1) {
        return ready;
    }
    return st == NULL ? action_submit(rq, app) : actions_again(rq, app, st);
}

int
vf_h_batch(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct vf_req *st = ov_req_state(rq);
    int ready = st == NULL ? await_log(rq, app) : 1;
    if (ready != 1) {
        return ready;
    }
    return st == NULL ? batch_submit(rq, app) : actions_again(rq, app, st);
}
