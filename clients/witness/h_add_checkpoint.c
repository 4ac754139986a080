/* h_add_checkpoint: POST /add-checkpoint, the stateless checks, the cosignature, the store. */
#include "app.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "protocol/witreq.h"
#include "store.h"

#define WITNESS_MAX_COSIG_LINE 1024

static uint64_t
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec > 0 ? (uint64_t)ts.tv_sec : 1; /* C2SP: the timestamp is not zero */
}

static int
refuse(struct ov_req *rq, struct witness_app *app, enum witness_refusal r, unsigned status,
       const char *message)
{
    ov_counter_add(app->refused[r], 1);
    return ov_http_error(rq, status, witness_refusal_name(r), message);
}

/* Every check that needs no state, in the order of c2sp.org/tlog-witness: 404, 403, 400,
 * then the 422s that do not depend on what was cosigned before. Returns 1 when it replied. */
static int
precheck(struct ov_req *rq, struct witness_app *app, const struct ov_witreq *req, int *res)
{
    const struct witness_log *log = witness_logs_find(app->logs, req->cp.origin);
    if (log == NULL) {
        *res = refuse(rq, app, WITNESS_R_UNKNOWN, 404, "this witness does not follow that log");
        return 1;
    }
    int rc = ov_note_verify(&req->note, log->keys, log->n_keys, NULL);
    if (rc == -OV_E_UNKNOWN_KEY || rc == -OV_E_BAD_SIG) {
        *res = refuse(rq, app, WITNESS_R_FORBIDDEN, 403,
                      rc == -OV_E_BAD_SIG ? "a signature by the log's key does not verify"
                                          : "no signature by the log's key");
        return 1;
    }
    if (rc != 0) {
        *res = witness_our_fault(rq, rc);
        return 1;
    }
    if (req->old > req->cp.size) {
        *res = refuse(rq, app, WITNESS_R_OLD_TOO_BIG, 400, "old size is above the checkpoint's");
        return 1;
    }
    if (req->cp.size == 0 && memcmp(req->cp.root, ov_merkle_empty_root, OV_HASH_LEN) != 0) {
        *res = refuse(rq, app, WITNESS_R_EMPTY_ROOT, 422, "an empty tree's root is SHA-256(\"\")");
        return 1;
    }
    /* PROOF(0, n) and PROOF(n, n) are empty (RFC 6962 §2.1.2; C2SP: "The proof MUST be
     * empty if the old size is zero") */
    if ((req->old == 0 || req->old == req->cp.size) && req->n_proof != 0) {
        *res = refuse(rq, app, WITNESS_R_PROOF_NOT_EMPTY, 422,
                      "old size 0 or the checkpoint's size takes no proof");
        return 1;
    }
    return 0;
}

static int
answer(struct ov_req *rq, struct witness_app *app, const struct witness_submission *s)
{
    char size[OV_WITREQ_MAX_SIZE_LEN + 1];
    switch (s->verdict) {
    case WITNESS_ACCEPTED:
        ov_counter_add(app->cosigned, 1);
        return ov_http_reply(rq, 200, WITNESS_TEXT_TYPE, s->cosig);
    case WITNESS_SIZE_MISMATCH:
        ov_counter_add(app->refused[WITNESS_R_CONFLICT], 1);
        return ov_http_reply(rq, 409, OV_WITREQ_SIZE_CONTENT_TYPE,
                             OV_BYTES(size, ov_witreq_size_format(s->stored_size, size)));
    case WITNESS_ROOT_MISMATCH:
        return refuse(rq, app, WITNESS_R_ROOT_MISMATCH, 422,
                      "another root was cosigned for this size");
    case WITNESS_BAD_PROOF:
        return refuse(rq, app, WITNESS_R_BAD_PROOF, 422, "the consistency proof does not verify");
    default:
        abort();
    }
}

/* POST /add-checkpoint: parse, check the log's signature and the stateless rules, sign, then
 * compare-and-store in one durable transaction, and only then answer. The cosignature is made
 * before the transaction (it touches no state) so the row stores exactly the line sent. */
int
witness_h_add_checkpoint(struct ov_req *rq)
{
    struct witness_app *app = ov_req_user(rq);
    struct ov_witreq *req = malloc(sizeof *req);
    struct ov_buf line;
    int res = 0;
    ov_buf_init(&line, WITNESS_MAX_COSIG_LINE);
    if (req == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = ov_witreq_parse(ov_req_body(rq), req);
    if (rc != 0) {
        res = refuse(rq, app, WITNESS_R_MALFORMED, 400, ov_strerror(rc));
        goto out;
    }
    if (precheck(rq, app, req, &res)) {
        goto out;
    }
    uint64_t t = now_s();
    rc = ov_cosig_sign_line(app->signer, req->note.text, t, &line);
    struct ov_db *db = rc == 0 ? ov_db_per_thread_get(&app->dbs) : NULL;
    if (db == NULL) {
        res = witness_our_fault(rq, rc ? rc : -OV_E_DB);
        goto out;
    }
    struct witness_submission s = {
        .origin = req->cp.origin,
        .old = req->old,
        .size = req->cp.size,
        .root = req->cp.root,
        .proof = req->proof,
        .n_proof = req->n_proof,
        .note = req->note_bytes,
        .cosig = ov_buf_view(&line),
        .time = t,
    };
    rc = witness_store_submit(db, &s);
    res = rc == 0 ? answer(rq, app, &s) : witness_our_fault(rq, rc);
out:
    ov_buf_clear(&line);
    free(req);
    return res;
}
