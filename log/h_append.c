/* h_append: POST /add, the append path: the precheck, then a long poll for the commit. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/codec.h"
#include "handlers.h"
#include "witnesses.h"
#include "protocol/entry.h"
#include "protocol/logack.h"
#include "protocol/logreq.h"

#define TLOG_APPEND_WAIT_MS 30000

static void
free_ticket(void *t)
{
    tlog_ticket_release(t);
}

/* Before any body is read: only a known producer that signs may upload one. */
int
tlog_precheck(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    if (strcmp(ov_req_path(rq), "/files") == 0 && strcmp(ov_req_method(rq), "POST") == 0) {
        return tlog_files_precheck(rq, app);
    }
    if (strcmp(ov_req_path(rq), "/add") != 0) {
        return 0;
    }
    const char *name = ov_req_header(rq, OV_LOG_PRODUCER_HEADER);
    uint8_t pk[OV_SIGN_PK_LEN];
    if (name == NULL || tlog_producers_key(app->producers, OV_BYTES(name, strlen(name)), pk) != 0) {
        return ov_http_error(rq, 403, "unknown_producer", "name a producer the log knows");
    }
    if (ov_req_header(rq, OV_LOG_SIG_HEADER) == NULL) {
        return ov_http_error(rq, 403, "bad_signature", "the request is not signed");
    }
    if (tlog_witnesses_behind(app->witnesses)) {
        return ov_http_error(rq, 503, "history_behind_witnesses",
                             "the witnesses cosigned a larger tree of this log than it holds (a "
                             "database restored from an older backup?): appending would fork "
                             "that history; the operator must restore the newest state");
    }
    return 0;
}

/* 403 stale_request with the log's clock ("time", ms) and the skew in words: a producer's
 * clock that is off is the operator's to fix, and both sides' times say by how much. */
static int
stale(struct ov_req *rq, uint64_t now, int64_t skew_ms)
{
    char msg[200];
    uint64_t off = skew_ms < 0 ? (uint64_t)-skew_ms : (uint64_t)skew_ms;
    snprintf(msg, sizeof msg, "the request's time is %llu.%03llu s %s the log's clock (at most "
             "%u s are taken): fix the clock that is wrong (NTP)", (unsigned long long)(off / 1000),
             (unsigned long long)(off % 1000), skew_ms < 0 ? "behind" : "ahead of",
             (unsigned)(OV_LOG_APPEND_WINDOW_MS / 1000));
    return ov_http_reply_json(rq, 403, json_pack("{s:s, s:s, s:I}", "error", "stale_request",
                                                 "message", msg, "time", (json_int_t)now));
}

/* First call: authenticate, validate, queue the batch. */
static int
add_submit(struct ov_req *rq, struct tlog_app *app)
{
    struct ov_bytes body = ov_req_body(rq);
    struct ov_logreq *req = malloc(sizeof *req);
    struct tlog_ticket *t = NULL;
    uint8_t pk[OV_SIGN_PK_LEN];
    uint64_t now = ov_now_ms();
    if (req == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = ov_logreq_parse(body, req);
    const char *reason = "malformed_request";
    unsigned status = 400;
    const char *hdr = ov_req_header(rq, OV_LOG_PRODUCER_HEADER);
    if (rc == 0 && (hdr == NULL || strlen(hdr) != req->producer.len ||
                    memcmp(hdr, req->producer.ptr, req->producer.len) != 0)) {
        rc = -OV_E_MALFORMED; /* the header must name the producer the body names */
    }
    if (rc == 0) {
        rc = tlog_producers_key(app->producers, req->producer, pk);
        reason = "unknown_producer";
        status = 403;
    }
    if (rc == 0) {
        rc = ov_logreq_verify(pk, body, ov_req_header(rq, OV_LOG_SIG_HEADER));
        reason = "bad_signature";
    }
    int64_t skew_ms = 0; /* the request's time minus the log's, for a stale request */
    if (rc == 0 && (req->time_ms + OV_LOG_APPEND_WINDOW_MS < now ||
                    req->time_ms > now + OV_LOG_APPEND_WINDOW_MS)) {
        rc = -OV_E_RANGE;
        reason = "stale_request";
        skew_ms = req->time_ms > now ? (int64_t)(req->time_ms - now) : -(int64_t)(now - req->time_ms);
    }
    for (size_t i = 0; rc == 0 && !app->opaque_entries && i < req->n; i++) {
        rc = ov_entry_check_shape(req->entries[i]);
        reason = "bad_entry";
        status = 400;
    }
    if (rc == 0) {
        rc = tlog_producers_use_nonce(app->producers, req->nonce,
                                      now + 2 * OV_LOG_APPEND_WINDOW_MS, now);
        reason = "replayed_request";
        status = 409;
    }
    if (rc == 0) {
        rc = tlog_ticket_new(req->entries, req->n, req->nonce, now + 2 * OV_LOG_APPEND_WINDOW_MS,
                             &t);
        reason = NULL;
    }
    if (rc == 0 && req->producer.len <= TLOG_MAX_PRODUCER_NAME) {
        memcpy(t->producer, req->producer.ptr, req->producer.len); /* zeroed by calloc */
    }
    if (rc == 0) {
        rc = tlog_seq_submit(app->seq, t);
        if (rc != 0) {
            tlog_producers_forget_nonce(app->producers, t->nonce);
            reason = "shutting_down";
            status = 503;
        }
    }
    bool wait_cp = req->wait_checkpoint;
    ov_logreq_clear(req);
    free(req);
    if (rc != 0) {
        tlog_ticket_release(t);
        ov_counter_add(app->refused, 1);
        if (skew_ms != 0) {
            return stale(rq, now, skew_ms);
        }
        return reason ? ov_http_error(rq, status, reason, ov_strerror(rc)) : rc;
    }
    t->wait_checkpoint = wait_cp;
    ov_req_set_state(rq, t, free_ticket);
    return ov_http_wait_on(rq, TLOG_EVENT_COMMIT, TLOG_APPEND_WAIT_MS);
}

static int
add_reply(struct ov_req *rq, struct tlog_app *app, struct tlog_ticket *t)
{
    struct ov_buf note;
    uint64_t cp_size = 0;
    int rc = 0;
    if (!t->wait_checkpoint) {
        struct ov_buf body;
        rc = ov_log_ack_write(t->size, t->indices, (const uint8_t *)t->hashes, t->n,
                              &body);
        if (rc == 0) {
            ov_counter_add(app->appended, t->n);
            rc = ov_http_reply(rq, 200, "application/json", ov_buf_view(&body));
        }
        ov_buf_clear(&body);
        return rc;
    }
    uint64_t need = 0; /* the checkpoint must cover every entry */
    for (size_t i = 0; i < t->n; i++) {
        need = t->indices[i] + 1 > need ? t->indices[i] + 1 : need;
    }
    ov_buf_init(&note, 0);
    rc = tlog_seq_published(app->seq, &note, &cp_size);
    if (rc == -OV_E_NOT_FOUND) { /* none published yet (no quorum so far): wait, as for one */
        rc = 0;
        cp_size = 0;
    }
    if (rc == 0 && cp_size < need) {
        ov_buf_clear(&note);
        if (ov_req_wait_expired(rq)) {
            char msg[TLOG_WITNESSES_WHY_MAX + 64], why[TLOG_WITNESSES_WHY_MAX];
            tlog_witnesses_why(why, sizeof why); /* what the witnesses answered, if that is it */
            snprintf(msg, sizeof msg, "entries are durable; no checkpoint covers them yet%s%s",
                     why[0] ? ": " : "", why);
            return ov_http_error(rq, 503, "checkpoint_pending", msg);
        }
        return ov_http_wait_on(rq, TLOG_EVENT_CHECKPOINT, TLOG_APPEND_WAIT_MS);
    }
    json_t *entries = json_array(), *proofs = json_array();
    json_t *res = json_object();
    rc = rc == 0 && entries && res && proofs ? 0 : -OV_E_NOMEM;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        char b64[64];
        rc = ov_b64_encode(b64, sizeof b64, t->hashes[i], OV_HASH_LEN, OV_B64_STD);
        if (rc == 0) {
            rc = json_array_append_new(entries, json_pack("{sIss}", "index",
                                                          (json_int_t)t->indices[i], "hash",
                                                          b64)) == 0 ? 0 : -OV_E_NOMEM;
        }
        if (rc == 0) {
            json_t *p = NULL;
            rc = tlog_inclusion_proof(app, t->indices[i], cp_size, &p);
            if (rc == 0) {
                rc = json_array_append_new(proofs, p) == 0 ? 0 : -OV_E_NOMEM;
            }
        }
    }
    if (rc == 0) {
        json_object_set_new(res, "size", json_integer((json_int_t)t->size));
        json_object_set(res, "entries", entries);
        json_object_set_new(res, "checkpoint", json_stringn((const char *)note.ptr, note.len));
        json_object_set_new(res, "checkpoint_size", json_integer((json_int_t)cp_size));
        json_object_set(res, "proofs", proofs);
    }
    json_decref(entries);
    json_decref(proofs);
    ov_buf_clear(&note);
    if (rc != 0) {
        json_decref(res);
        return rc;
    }
    ov_counter_add(app->appended, t->n);
    return ov_http_reply_json(rq, 200, res);
}

int
tlog_h_add(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    struct tlog_ticket *t = ov_req_state(rq);
    if (t == NULL) {
        return add_submit(rq, app);
    }
    if (!atomic_load(&t->done)) {
        if (ov_req_wait_expired(rq)) {
            return ov_http_error(rq, 503, "append_pending", "the batch is not durable yet");
        }
        return ov_http_wait_on(rq, TLOG_EVENT_COMMIT, TLOG_APPEND_WAIT_MS);
    }
    if (t->err != 0) {
        /* nothing was stored: the producer may send the very same request again */
        tlog_producers_forget_nonce(app->producers, t->nonce);
        if (t->err == -OV_E_FULL || t->err == -OV_E_READ_ONLY) {
            /* the operator's to fix, and the producer's to retry: say which */
            return ov_http_error(rq, 503, ov_strerror(t->err),
                                 t->err == -OV_E_FULL
                                     ? "the log's disk is full; nothing was stored: retry later"
                                     : "the log's data directory is read-only; nothing was "
                                       "stored: retry later");
        }
        return ov_http_error(rq, 503, "append_failed", ov_strerror(t->err));
    }
    return add_reply(rq, app, t);
}
