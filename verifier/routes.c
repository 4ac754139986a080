/* routes: the verifier's HTTP API (docs/PROTOCOL.md §8) and what its handlers share.
 *   POST /actions[?wait=proof]          count an action; answer with its receipt
 *   POST /actions/batch[?wait=proof]    many actions, a line each; an answer line each
 *   GET  /receipts/<hex leaf hash>[?wait=proof]
 *   GET  /tallies, GET /tallies/<context>
 *   GET  /contexts                      the contexts learned from the log
 *   GET  /contexts/<id>/statements      a statement round's counted statements
 * The handlers: the POSTs and their checks in h_actions.c, /receipts in h_receipts.c,
 * /tallies and /contexts in h_contexts.c. Here: the refusals, a request's state (a slot per
 * action) and the answer actions and receipts wait for: each slot's receipt (with its proof
 * once it has one) or its refusal. */
#include "routes.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "commit.h"
#include "follower.h"
#include "handlers.h"
#include "protocol/actionbatch.h"
#include "protocol/actionreq.h"
#include "protocol/ohttpgw.h"
#include "protocol/receipt.h"

const struct refusal R_MALFORMED = { 400, "malformed_request",
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
                                          "the action is not stored yet" },
                     /* a failed commit whose cause the operator must fix (its stderr
                      * names the file): said, so a client does not call it a glitch */
                     R_DISK_FULL = { 503, "disk_full",
                                     "the verifier's disk is full: the action was not stored; "
                                     "send it again later" },
                     R_READ_ONLY = { 503, "read_only",
                                     "the verifier's database is read-only: the action was not "
                                     "stored; send it again later" },
                     R_DB_CORRUPT = { 503, "db_corrupt",
                                      "the verifier's database is damaged: the action was not "
                                      "stored" },
                     /* statement rounds (docs/PROTOCOL.md §11.3) */
                     R_NO_STATEMENTS = { 400, "invalid_action",
                                         "this context takes no statements" },
                     R_STATEMENT_QUOTA = { 409, "statement_quota",
                                           "this pseudonym wrote the statements the context "
                                           "allows" },
                     R_DUP_STATEMENT = { 409, "duplicate_statement",
                                         "another pseudonym wrote this statement" },
                     R_ROUND_FULL = { 400, "invalid_action",
                                      "the round has as many statements as it can count" },
                     R_UNKNOWN_STATEMENT = { 404, "unknown_statement",
                                             "no statement of the round has this id" },
                     R_OWN_STATEMENT = { 403, "own_statement",
                                         "a statement's author does not rate it" };

int
vf_refuse(struct ov_req *rq, const struct refusal *r)
{
    return ov_http_error(rq, r->status, r->reason, r->message);
}

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

struct vf_req *
vf_req_new(struct ov_req *rq, size_t n)
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
int
vf_refuse_slot(struct vf_slot *s, const struct refusal *r)
{
    vf_item_release(s->item);
    s->item = NULL;
    s->refused = r;
    return 0;
}

/* ?wait=proof (1), no wait (0), anything else (-1). */
int
vf_wait_arg(struct ov_req *rq)
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
int
vf_answer(struct ov_req *rq, struct vf_app *app, struct vf_req *st, bool is_get)
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
        /* with epochs a POST's rows wait for their epoch's end: it answers "pending" */
        if (want_row > 0 && (is_get || app->epoch_s == 0)) {
            return ov_http_wait_until(rq, VF_CH_INDEX, want_row, VF_WAIT_MS);
        }
        if (want_size > 0) {
            return ov_http_wait_until(rq, VF_CH_PROOF, want_size, VF_WAIT_MS);
        }
    }
    if (st->batch) {
        return reply_batch(rq, app, st);
    }
    return st->s[0].refused ? vf_refuse(rq, st->s[0].refused) : reply_receipt(rq, app, &st->s[0]);
}

const struct ov_http_route vf_routes[] = {
    { "POST", "/actions", vf_h_action, OV_MAX_ACTION_REQ_LEN },
    { "POST", "/actions/batch", vf_h_batch, OV_MAX_BATCH_LEN },
    { "GET", "/receipts/:hash", vf_h_receipt, 0 },
    { "GET", "/tallies", vf_h_tallies, 0 },
    { "GET", "/tallies/:context", vf_h_tallies, 0 },
    { "GET", "/contexts", vf_h_contexts, 0 },
    { "GET", "/contexts/:context/statements", vf_h_statements, 0 },
    OV_OHTTPGW_ROUTES, /* POST /gateway, GET /ohttp-keys: docs/PROTOCOL.md §13 */
};
const size_t vf_n_routes = sizeof vf_routes / sizeof vf_routes[0];
