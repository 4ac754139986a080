/* routes: the issuer's HTTP API (docs/PROTOCOL.md §7) and what its handlers share.
 *   POST /admin/contexts   POST /admin/invites            (h_admin.c, admin secret)
 *   POST /registrar/tokens                                 (h_enroll.c, registrar secret)
 *   POST /enroll                                           (h_enroll.c, signed by the key)
 *   POST /token-request                                    (h_token.c, RFC 9578)
 *   GET  /contexts         GET /.well-known/private-token-issuer-directory   (here) */
#include "app.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "contexts.h"
#include "handlers.h"
#include "store.h"

int
issuer_app_init(struct issuer_app *app)
{
    return ov_db_per_thread_init(&app->dbs, app->dir, issuer_store_open);
}

static const char *const reason_labels[R_COUNT] = {
    [R_MALFORMED] = "reason=\"malformed_request\"",
    [R_WRONG_TOKEN_TYPE] = "reason=\"wrong_token_type\"",
    [R_UNKNOWN_KEY_ID] = "reason=\"unknown_key_id\"",
    [R_BAD_SIGNATURE] = "reason=\"bad_signature\"",
    [R_STALE] = "reason=\"stale_request\"",
    [R_REPLAYED] = "reason=\"replayed_request\"",
    [R_UNKNOWN_ENROLLEE] = "reason=\"unknown_enrollee\"",
    [R_REVOKED] = "reason=\"revoked_key\"",
    [R_CONTEXT_CLOSED] = "reason=\"context_closed\"",
    [R_QUOTA_SPENT] = "reason=\"quota_spent\"",
    [R_UNAUTHORIZED] = "reason=\"unauthorized\"",
    [R_ENROLL] = "reason=\"enrollment_refused\"",
};

void
issuer_app_metrics(struct issuer_app *app, struct ov_metrics *m)
{
    int rc = 0;
    rc |= ov_metrics_counter(m, "issuer_issuances_total", "Tokens issued (quota spent)", NULL,
                             &app->issued);
    rc |= ov_metrics_counter(m, "issuer_issuance_retries_total",
                             "Token requests answered again from a stored issuance", NULL,
                             &app->retried);
    rc |= ov_metrics_counter(m, "issuer_enrollments_total", "Enrollments and recoveries", NULL,
                             &app->enrolled);
    for (int r = 0; r < R_COUNT; r++) {
        rc |= ov_metrics_counter(m, "issuer_refusals_total", "Requests refused, by reason",
                                 reason_labels[r], &app->refused[r]);
    }
    rc |= ov_metrics_gauge(m, "issuer_outbox_backlog",
                           "Log entries written but not yet acknowledged by the log", NULL,
                           &app->backlog);
    rc |= ov_metrics_gauge(m, "issuer_outbox_held",
                           "Log entries held until their epoch ends (--epoch-seconds)", NULL,
                           &app->held);
    rc |= ov_metrics_counter(m, "issuer_epoch_flushes_total",
                             "Epochs whose held entries the outbox sent", NULL, &app->flushes);
    if (rc != 0) {
        fprintf(stderr, "onevoice-issuer: some metrics are unavailable\n");
    }
}

int
issuer_refuse(struct ov_req *rq, unsigned status, enum issuer_reason r, const char *reason,
              const char *message)
{
    struct issuer_app *app = ov_req_user(rq);
    ov_counter_add(app->refused[r], 1);
    return ov_http_error(rq, status, reason, message);
}

int
issuer_check_bearer(struct ov_req *rq, const struct ov_secret *secret)
{
    const char *h = ov_req_header(rq, "Authorization");
    uint8_t got[ISSUER_SECRET_LEN];
    static const char prefix[] = "Bearer ";
    if (h == NULL || strncmp(h, prefix, sizeof prefix - 1) != 0 ||
        ov_b64url_fixed(h + sizeof prefix - 1, strlen(h + sizeof prefix - 1), got,
                        sizeof got) != 0) {
        return -OV_E_BAD_SIG;
    }
    int rc = ov_secret_len(secret) == ISSUER_SECRET_LEN &&
                     crypto_verify_32(got, ov_secret_ptr(secret)) == 0
                 ? 0
                 : -OV_E_BAD_SIG;
    sodium_memzero(got, sizeof got);
    return rc;
}

/* ---- public reads ----------------------------------------------------------------- */

static int
h_contexts(struct ov_req *rq)
{
    struct issuer_app *app = ov_req_user(rq);
    struct ov_buf out;
    ov_buf_init(&out, OV_MAX_ISSUER_LIST_LEN);
    int rc = issuer_contexts_list(app->contexts, ov_now_ms() / 1000, &out);
    rc = rc ? rc : ov_http_header(rq, "Cache-Control", "no-cache");
    rc = rc ? rc : ov_http_reply(rq, 200, "application/json", ov_buf_view(&out));
    ov_buf_clear(&out);
    return rc;
}

static int
h_directory(struct ov_req *rq)
{
    struct issuer_app *app = ov_req_user(rq);
    struct ov_buf out;
    ov_buf_init(&out, OV_MAX_DIRECTORY_LEN);
    int rc = issuer_contexts_directory(app->contexts, ov_now_ms() / 1000, &out);
    rc = rc ? rc : ov_http_header(rq, "Cache-Control", "no-cache");
    rc = rc ? rc : ov_http_reply(rq, 200, "application/private-token-issuer-directory",
                                 ov_buf_view(&out));
    ov_buf_clear(&out);
    return rc;
}

const struct ov_http_route issuer_routes[] = {
    { "POST", "/admin/contexts", issuer_h_create_context, OV_MAX_CONTEXT_REQ_LEN },
    { "POST", "/admin/invites", issuer_h_invites, 256 },
    { "POST", "/registrar/tokens", issuer_h_registrar_token, 4096 },
    { "POST", "/enroll", issuer_h_enroll, OV_MAX_ENROLL_REQ_LEN },
    /* 1 KiB, not 259: RFC 9578 §6.2 answers a TokenRequest of the wrong size 422, so a
     * short overrun is read and refused by h_token.c; a larger body is 413 unread */
    { "POST", "/token-request", issuer_h_token, 1024 },
    { "GET", "/contexts", h_contexts, 0 },
    { "GET", "/.well-known/private-token-issuer-directory", h_directory, 0 },
};
const size_t issuer_n_routes = sizeof issuer_routes / sizeof issuer_routes[0];
