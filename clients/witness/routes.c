/* routes: the witness's HTTP API (docs/PROTOCOL.md §5, c2sp.org/tlog-witness).
 *   POST /add-checkpoint              cosign a checkpoint consistent with the last one
 *   GET  /<hex SHA-256(origin)>/checkpoint   the latest cosigned checkpoint of a log
 * plus the frame's GET /healthz and GET /metrics. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/codec.h"
#include "store.h"
#include "protocol/witreq.h"

#define WITNESS_MAX_COSIG_LINE 1024
#define WITNESS_TEXT_TYPE "text/plain; charset=utf-8"

static const char *const refusal_names[WITNESS_R_COUNT] = {
    [WITNESS_R_MALFORMED] = "malformed_request",
    [WITNESS_R_UNKNOWN] = "unknown_origin",
    [WITNESS_R_FORBIDDEN] = "bad_signature",
    [WITNESS_R_OLD_TOO_BIG] = "old_size_too_big",
    [WITNESS_R_CONFLICT] = "old_size_mismatch",
    [WITNESS_R_EMPTY_ROOT] = "bad_empty_tree",
    [WITNESS_R_PROOF_NOT_EMPTY] = "proof_not_empty",
    [WITNESS_R_ROOT_MISMATCH] = "root_mismatch",
    [WITNESS_R_BAD_PROOF] = "bad_proof",
};

const char *
witness_refusal_name(enum witness_refusal r)
{
    if ((unsigned)r >= WITNESS_R_COUNT) {
        abort();
    }
    return refusal_names[r];
}

int
witness_app_init(struct witness_app *app, struct ov_metrics *m)
{
    if (ov_db_per_thread_init(&app->dbs, app->dir, witness_store_open) != 0) {
        return -OV_E_NOMEM;
    }
    int rc = ov_metrics_counter(m, "witness_checkpoints_cosigned_total",
                                "Checkpoints cosigned (answered 200)", NULL, &app->cosigned);
    for (unsigned r = 0; r < WITNESS_R_COUNT && rc == 0; r++) {
        char labels[64];
        snprintf(labels, sizeof labels, "reason=\"%s\"", refusal_names[r]);
        rc = ov_metrics_counter(m, "witness_checkpoints_refused_total",
                                "add-checkpoint requests refused, by reason", labels,
                                &app->refused[r]);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-witness: metrics unavailable: %s\n", ov_strerror(rc));
    }
    return 0;
}

static uint64_t
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec > 0 ? (uint64_t)ts.tv_sec : 1; /* C2SP: the timestamp is not zero */
}

/* Past parsing, a failure is the witness's own (memory, disk, a corrupt row): 5xx, never the
 * 4xx that ov_http_fail would pick for a code such as -OV_E_MALFORMED. */
static int
our_fault(struct ov_req *rq, int err)
{
    return ov_http_error(rq, err == -OV_E_DB_BUSY ? 503 : 500, ov_strerror(err),
                         "the witness could not answer; try again later");
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
        *res = our_fault(rq, rc);
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
static int
h_add_checkpoint(struct ov_req *rq)
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
        res = our_fault(rq, rc ? rc : -OV_E_DB);
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
    res = rc == 0 ? answer(rq, app, &s) : our_fault(rq, rc);
out:
    ov_buf_clear(&line);
    free(req);
    return res;
}

/* "— <name> <base64>\n" for one parsed signature line. */
static int
append_sig_line(struct ov_buf *out, const struct ov_note_sig *sig)
{
    int rc = ov_buf_append_str(out, "\xe2\x80\x94 ");
    rc = rc ? rc : ov_buf_append(out, sig->name.ptr, sig->name.len);
    rc = rc ? rc : ov_buf_append(out, " ", 1);
    rc = rc ? rc : ov_buf_append(out, sig->b64.ptr, sig->b64.len);
    return rc ? rc : ov_buf_append(out, "\n", 1);
}

/* The stored note with the witness's own line last. A line from the witness's key that the
 * log sent along (a re-submitted checkpoint) is dropped: a note may not carry two lines of
 * one (name, key ID). The result must parse as a note again: the rows are input too. */
static int
served_note(const struct witness_app *app, struct ov_bytes stored, struct ov_bytes cosig,
            struct ov_buf *out)
{
    const struct ov_note_verifier *me = ov_note_signer_verifier(app->signer);
    struct ov_note *n = malloc(sizeof *n);
    ov_buf_init(out, OV_NOTE_MAX_LEN);
    int rc = n ? ov_note_parse(stored, n) : -OV_E_NOMEM;
    rc = rc ? rc : ov_buf_append(out, n->text.ptr, n->text.len);
    rc = rc ? rc : ov_buf_append(out, "\n", 1);
    for (size_t i = 0; rc == 0 && i < n->n_sigs; i++) {
        const struct ov_note_sig *sig = &n->sigs[i];
        if (sig->key_id == me->key_id && sig->name.len == me->name_len &&
            memcmp(sig->name.ptr, me->name, me->name_len) == 0) {
            continue;
        }
        rc = append_sig_line(out, sig);
    }
    rc = rc ? rc : ov_buf_append(out, cosig.ptr, cosig.len);
    rc = rc ? rc : ov_note_parse(ov_buf_view(out), n);
    free(n);
    if (rc != 0) {
        ov_buf_clear(out);
        rc = rc == -OV_E_NOMEM ? rc : -OV_E_MALFORMED;
    }
    return rc;
}

/* 64 lowercase hex digits. */
static int
parse_origin_hash(const char *s, uint8_t hash[32])
{
    size_t n = 0;
    if (s == NULL || strlen(s) != 64) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return -OV_E_MALFORMED;
        }
    }
    int rc = ov_hex_decode(hash, 32, &n, s, 64);
    return rc != 0 || n != 32 ? -OV_E_MALFORMED : 0;
}

/* GET /<lowercase hex SHA-256(origin)>/checkpoint: the monitoring endpoint. */
static int
h_checkpoint(struct ov_req *rq)
{
    struct witness_app *app = ov_req_user(rq);
    uint8_t hash[32];
    if (parse_origin_hash(ov_req_param(rq, "hash"), hash) != 0) {
        return ov_http_error(rq, 404, "not_found",
                             "want /<lowercase hex SHA-256(origin)>/checkpoint");
    }
    const struct witness_log *log = witness_logs_find_hash(app->logs, hash);
    if (log == NULL) {
        return ov_http_error(rq, 404, "unknown_origin", "this witness does not follow that log");
    }
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    struct ov_buf note, cosig, out;
    ov_buf_init(&out, 0);
    int rc = db ? witness_store_latest(db, OV_BYTES(log->origin, log->origin_len), &note, &cosig)
                : -OV_E_DB;
    if (rc == -OV_E_NOT_FOUND) {
        return ov_http_error(rq, 404, "not_cosigned", "no checkpoint of that log cosigned yet");
    }
    if (rc != 0) {
        return our_fault(rq, rc);
    }
    rc = served_note(app, ov_buf_view(&note), ov_buf_view(&cosig), &out);
    rc = rc ? rc : ov_http_header(rq, "Cache-Control", "no-cache, max-age=0");
    rc = rc ? our_fault(rq, rc) : ov_http_reply(rq, 200, WITNESS_TEXT_TYPE, ov_buf_view(&out));
    ov_buf_clear(&out);
    ov_buf_clear(&note);
    ov_buf_clear(&cosig);
    return rc;
}

const struct ov_http_route witness_routes[] = {
    {"POST", "/add-checkpoint", h_add_checkpoint, OV_WITREQ_MAX_LEN},
    {"GET", "/:hash/checkpoint", h_checkpoint, 0},
};
const size_t witness_n_routes = sizeof witness_routes / sizeof witness_routes[0];
