/* h_token: POST /token-request, RFC 9578 §6 issuance with onevoice's enrollee signature
 * (docs/PROTOCOL.md §7). Order: the TokenRequest as RFC 9578 §6.2 checks it, each failure
 * 422 (token type, truncated key id, then size: a request of another type is refused for
 * its type, whatever its size), the context found closed or not yet open (403), the
 * enrollee signature and time window (401), then,
 * read-only, the enrollee (403) and the two cheap refusals (a stored answer for this
 * blinded message: no RSA; a spent quota: 429), from what the writer noted of the key
 * (quota.h) and the in-memory index of answered messages (store.h) when it can, so most
 * requests read nothing from the database; then the blind signature, computed here,
 * on this pool thread, outside any lock; then the writer's transaction re-checks everything
 * and records the issuance with its log entry, while the request long-polls for that
 * commit without holding its thread (writer.h). Every refusal stores nothing. */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "app.h"
#include "logcheck.h"
#include "contexts.h"
#include "quota.h"
#include "store.h"
#include "writer.h"

static int
sign(struct issuer_job *j)
{
    int rc = ov_brsa_blind_sign(j->ctx->sk, OV_BYTES(j->blinded, OV_PP_NK), j->response,
                                sizeof j->response);
    j->have_sig = rc == 0;
    return rc;
}

static int
answer(struct ov_req *rq, struct issuer_app *app, struct issuer_job *j)
{
    switch (j->result) {
    case JOB_ISSUED:
    case JOB_RETRY:
        ov_counter_add(j->result == JOB_ISSUED ? app->issued : app->retried, 1);
        return ov_http_reply(rq, 200, "application/private-token-response",
                             OV_BYTES(j->response, sizeof j->response));
    case JOB_UNKNOWN:
        return issuer_refuse(rq, 403, R_UNKNOWN_ENROLLEE, "unknown_enrollee",
                             "no enrollee holds this key");
    case JOB_REVOKED:
        return issuer_refuse(rq, 403, R_REVOKED, "revoked_key", "this key was replaced");
    case JOB_REPLAYED:
        return issuer_refuse(rq, 409, R_REPLAYED, "replayed_request",
                             "this signed request was answered already; sign it afresh");
    case JOB_QUOTA:
        return issuer_refuse(rq, 429, R_QUOTA_SPENT, "quota_spent",
                             "every token of this context's quota is issued");
    case JOB_NEED_SIG:
    case JOB_FAILED:
    default: {
        /* a cause the operator must fix (docs/PROTOCOL.md §6) is named as such */
        int err = j->err ? j->err : -OV_E_DB;
        bool named = err == -OV_E_FULL || err == -OV_E_READ_ONLY || err == -OV_E_CORRUPT;
        return ov_http_error(rq, 503, named ? ov_strerror(err) : "internal_error",
                             named ? "the issuance was not stored; retry once the operator "
                                     "has acted" : ov_strerror(err));
    }
    }
}

/* token's answer when the job is ready for the writer (every other outcome replied) */
#define QUEUE 1
/* how long a request waits for its batch to commit */
#define ISSUER_COMMIT_WAIT_MS 30000u

/* The checks before the writer, and the blind signature. */
static int
token(struct ov_req *rq, struct issuer_app *app, struct issuer_job *j)
{
    struct ov_bytes body = ov_req_body(rq);
    uint8_t msg[OV_TOKREQ_SIGNED_LEN];
    uint64_t now = ov_now_ms();
    bool closed = false;
    /* RFC 9578 §6.2: each of these is 422 (Unprocessable Content) */
    if (body.len >= 2 && ((unsigned)body.ptr[0] << 8 | body.ptr[1]) != OV_PP_TOKEN_TYPE) {
        return issuer_refuse(rq, 422, R_WRONG_TOKEN_TYPE, "wrong_token_type",
                             "only token type 2 (Blind RSA 2048) is issued");
    }
    j->ctx = body.len >= 3 ? issuer_contexts_by_key(app->contexts, body.ptr[2], now / 1000,
                                                    &closed)
                           : NULL;
    if (j->ctx == NULL && body.len >= 3) {
        return issuer_refuse(rq, 422, R_UNKNOWN_KEY_ID, "unknown_key_id",
                             "no context has this truncated token key id");
    }
    if (body.len != OV_PP_TOKEN_REQUEST_LEN) {
        return issuer_refuse(rq, 422, R_MALFORMED, "malformed_request",
                             "a TokenRequest of type 2 is 259 bytes (RFC 9578 §6.1)");
    }
    if (closed || now / 1000 < j->ctx->def.opens) {
        return issuer_refuse(rq, 403, R_CONTEXT_CLOSED, "context_closed",
                             closed ? "the context closed" : "the context is not open yet");
    }
    memcpy(j->blinded, body.ptr + 3, OV_PP_NK);
    if (ov_tokreq_auth_parse(ov_req_header(rq, OV_HDR_ENROLLEE), ov_req_header(rq, OV_HDR_TIME),
                             ov_req_header(rq, OV_HDR_SIGNATURE), j->pk, &j->time_ms,
                             j->sig) != 0) {
        return issuer_refuse(rq, 401, R_BAD_SIGNATURE, "bad_signature",
                             "Onevoice-Enrollee, -Time and -Signature are required");
    }
    ov_tokreq_signed_bytes(j->time_ms, body.ptr, msg);
    if (ov_sign_verify(j->pk, OV_SIGN_TOKEN_REQUEST, msg, sizeof msg, j->sig) != 0) {
        return issuer_refuse(rq, 401, R_BAD_SIGNATURE, "bad_signature",
                             "the signature does not verify");
    }
    if (j->time_ms + OV_ISSUER_WINDOW_MS < now || j->time_ms > now + OV_ISSUER_WINDOW_MS) {
        return issuer_refuse(rq, 401, R_STALE, "stale_request", "the request time is too far off");
    }
    j->now_s = now / 1000;
    struct issuer_state p;
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    int rc = db ? 0 : -OV_E_DB;
    memset(&p, 0, sizeof p);
    /* what the writer noted is enough (quota.h): no read unless the blinded message may
     * have been answered; a key it has not seen is read in full */
    if (rc == 0 && issuer_quota_get(app->quota, j->pk, j->ctx, &p.issued, &p.revoked)) {
        p.known = true;
        rc = issuer_store_answered(db, app->blinded, j->ctx->def.id, j->blinded, &p);
    } else if (rc == 0) {
        rc = issuer_store_state(db, app->blinded, j->pk, j->ctx->def.id, j->blinded, &p);
    }
    if (rc != 0) {
        return rc;
    }
    if (!p.known || p.revoked) {
        j->result = p.known ? JOB_REVOKED : JOB_UNKNOWN;
        return answer(rq, app, j);
    }
    if (!p.answered && p.issued >= j->ctx->def.quota) {
        j->result = JOB_QUOTA;
        return answer(rq, app, j);
    }
    /* the RSA, before the transaction; an answered message needs none */
    if (!p.answered && (rc = sign(j)) != 0) {
        return rc == -OV_E_RANGE || rc == -OV_E_MALFORMED
                   ? issuer_refuse(rq, 400, R_MALFORMED, "malformed_request",
                                   "blinded_msg is not below the key's modulus")
                   : rc;
    }
    return QUEUE;
}

static void
job_release(void *job)
{
    struct issuer_job *j = job;
    issuer_writer_release(j->owner, j);
}

/* Hands the job to the writer and long-polls for its commit. */
static int
queue(struct ov_req *rq, struct issuer_app *app, struct issuer_job *j)
{
    uint64_t seq = issuer_writer_submit(app->writer, j, ov_req_server(rq));
    return ov_http_wait_until(rq, ISSUER_CH_ISSUED, seq, ISSUER_COMMIT_WAIT_MS);
}

int
issuer_h_token(struct ov_req *rq)
{
    struct issuer_app *app = ov_req_user(rq);
    static _Thread_local bool niced;
    if (!niced && atomic_load(&app->nice_pool)) {
        niced = true; /* see writer.c: commits come before more RSA */
        (void)!setpriority(PRIO_PROCESS, (id_t)gettid(), 5);
    }
    struct issuer_job *j = ov_req_state(rq);
    int gate = j == NULL ? issuer_log_gate(rq) : 1;
    if (gate != 1) {
        return gate;
    }
    if (j == NULL) { /* first round */
        j = calloc(1, sizeof *j);
        if (j == NULL) {
            return -OV_E_NOMEM;
        }
        j->owner = app->writer;
        ov_req_set_state(rq, j, job_release);
        int rc = token(rq, app, j);
        return rc == QUEUE ? queue(rq, app, j) : rc;
    }
    bool done = issuer_writer_done(app->writer, j);
    if (ov_req_wait_expired(rq) && (!done || j->result == JOB_NEED_SIG)) {
        /* a queued job stays queued (a retry gets its answer); one that needs a signature
         * stored nothing */
        return ov_http_error(rq, 503, "busy", "the issuance did not commit in time; retry");
    }
    if (!done) {
        return ov_http_wait_until(rq, ISSUER_CH_ISSUED, j->seq, ISSUER_COMMIT_WAIT_MS);
    }
    if (j->result == JOB_NEED_SIG) { /* answered, we thought; it was not: sign and go */
        int rc = sign(j);
        return rc != 0 ? rc : queue(rq, app, j);
    }
    return answer(rq, app, j);
}
