/* h_enroll: enrollment (docs/PROTOCOL.md §7).
 *   POST /registrar/tokens  the registrar vouches for an identity reference: a one-time
 *                           enrollment token (7 days), for a first enrollment or, with
 *                           "recovery", for a new key of an identity already enrolled
 *   POST /enroll            a citizen registers its Ed25519 key by invitation code,
 *                           registrar token or IdP attestation; signed by that key
 * Identity references, codes and tokens are stored only as keyed hashes (hashes.h); the log
 * gets an enrollment entry with the route, a serial and the time, nothing else. Each
 * enrollment is one transaction: the secret is spent, the enrollee and key recorded, the
 * entry written to the outbox. */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "app.h"
#include "logcheck.h"
#include "base/codec.h"
#include "base/epoch.h"
#include "outbox.h"
#include "store.h"

#define TOKEN_ROUTE "enroll-token" /* the keyed-hash route of registrar tokens */

/* ---- POST /registrar/tokens ------------------------------------------------------- */

static int
parse_token_req(struct ov_bytes body, char *identity, bool *recovery)
{
    json_t *o = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, NULL);
    json_t *id = json_object_get(o, "identity"), *rec = json_object_get(o, "recovery");
    size_t n = json_string_length(id);
    int rc = json_is_object(o) && json_is_string(id) && n > 0 && n <= OV_MAX_IDENTITY_LEN &&
                     (rec == NULL || json_is_boolean(rec)) &&
                     json_object_size(o) == (rec ? 2u : 1u)
                 ? 0
                 : -OV_E_MALFORMED;
    if (rc == 0) {
        memcpy(identity, json_string_value(id), n);
        identity[n] = 0;
        *recovery = json_is_true(rec);
        rc = ov_text_check(identity, OV_MAX_IDENTITY_LEN);
    }
    json_decref(o);
    return rc;
}

/* Whether an enrollee has this identity hash (reads with the thread's connection). */
static int
enrolled(struct ov_db *db, const uint8_t identity[32], bool *yes)
{
    sqlite3_stmt *st = ov_db_stmt(db, "enrollee_by_identity");
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(identity, 32));
    rc = rc ? rc : ov_db_step(st);
    *yes = rc == OV_DB_ROW;
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

int
issuer_h_registrar_token(struct ov_req *rq)
{
    struct issuer_app *app = ov_req_user(rq);
    int gate = issuer_log_gate(rq);
    if (gate != 1) {
        return gate;
    }
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    char ref[OV_MAX_IDENTITY_LEN + 1], token[OV_ENROLL_TOKEN_LEN + 1];
    uint8_t identity[32], raw[OV_ENROLL_TOKEN_BYTES], hash[32];
    bool recovery = false, known = false;
    if (issuer_check_bearer(rq, app->registrar) != 0) {
        return issuer_refuse(rq, 401, R_UNAUTHORIZED, "unauthorized", "registrar secret needed");
    }
    if (db == NULL) {
        return -OV_E_DB;
    }
    if (parse_token_req(ov_req_body(rq), ref, &recovery) != 0) {
        sodium_memzero(ref, sizeof ref);
        return issuer_refuse(rq, 400, R_MALFORMED, "malformed_request",
                             "want {\"identity\": text, \"recovery\": bool}");
    }
    /* Argon2id: tens of ms of this pool thread, behind the registrar's secret */
    int rc = issuer_identity_hash(app->pepper, "registrar", (const uint8_t *)ref, strlen(ref),
                                  identity);
    sodium_memzero(ref, sizeof ref);
    rc = rc ? rc : enrolled(db, identity, &known);
    if (rc != 0) {
        return rc;
    }
    if (known && !recovery) {
        return issuer_refuse(rq, 409, R_ENROLL, "already_enrolled",
                             "this identity is enrolled; ask for a recovery token");
    }
    if (!known && recovery) {
        return issuer_refuse(rq, 409, R_ENROLL, "not_enrolled", "nothing to recover");
    }
    randombytes_buf(raw, sizeof raw);
    rc = ov_b64_encode(token, sizeof token, raw, sizeof raw, OV_B64_URL_NOPAD);
    issuer_code_hash(app->pepper, TOKEN_ROUTE, (const uint8_t *)token, OV_ENROLL_TOKEN_LEN,
                     hash);
    uint64_t expires = ov_now_ms() / 1000 + ISSUER_TOKEN_VALID_S;
    sqlite3_stmt *st = ov_db_stmt(db, "regtok_insert");
    rc = rc ? rc : ov_db_bind_blob(st, 1, OV_BYTES(hash, 32));
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(identity, 32));
    rc = rc ? rc : ov_db_bind_int64(st, 3, recovery);
    rc = rc ? rc : ov_db_bind_uint64(st, 4, expires);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc >= 0) {
        json_t *j = json_pack("{sssI}", "token", token, "expires", (json_int_t)expires);
        rc = ov_http_header(rq, "Cache-Control", "no-store");
        rc = rc ? (json_decref(j), rc) : ov_http_reply_json(rq, 200, j);
    }
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(token, sizeof token);
    return rc;
}

/* ---- POST /enroll ----------------------------------------------------------------- */

enum refusal {
    OK = 0,
    UNKNOWN_CODE,
    CODE_USED,
    UNKNOWN_TOKEN,
    TOKEN_USED,
    TOKEN_EXPIRED,
    ALREADY_ENROLLED,
    NOT_ENROLLED,
    KEY_IN_USE,
    N_REFUSALS
};

static const struct {
    unsigned status;
    const char *reason, *message;
} refusals[N_REFUSALS] = {
    [UNKNOWN_CODE] = { 403, "unknown_code", "no such invitation code" },
    [CODE_USED] = { 409, "code_used", "this invitation code has enrolled someone" },
    [UNKNOWN_TOKEN] = { 403, "unknown_token", "no such enrollment token" },
    [TOKEN_USED] = { 409, "token_used", "this enrollment token has been used" },
    [TOKEN_EXPIRED] = { 403, "token_expired", "this enrollment token has expired" },
    [ALREADY_ENROLLED] = { 409, "already_enrolled", "this identity is enrolled" },
    [NOT_ENROLLED] = { 409, "not_enrolled", "this identity is not enrolled" },
    [KEY_IN_USE] = { 409, "key_in_use", "this key is registered already" },
};

struct enroll_tx {
    struct issuer_app *app;
    enum ov_enroll_route route;
    uint8_t secret_hash[32]; /* invite: the code's; registrar: the token's */
    uint8_t identity[32];    /* attestation: the subject's; set from the token (registrar) */
    uint8_t pseudonym[32];   /* fresh, for a new enrollee */
    uint8_t key[OV_SIGN_PK_LEN];
    uint64_t now_s;
    uint64_t kept_s; /* the time the rows and the entry keep: now_s's epoch's start */
    bool recovery;
    enum refusal refusal;
};

/* Runs a one-row statement binding one blob: OV_DB_ROW / OV_DB_DONE, the row left for
 * the caller to read and reset. */
static int
step_blob(struct ov_db *db, const char *name, const uint8_t *p, size_t n, sqlite3_stmt **out)
{
    sqlite3_stmt *st = ov_db_stmt(db, name);
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(p, n));
    *out = st;
    return rc ? rc : ov_db_step(st);
}

/* Marks the one-time secret t->secret_hash used (invite_use, regtok_use). */
static int
mark_used(struct ov_db *db, const char *stmt, const struct enroll_tx *t)
{
    sqlite3_stmt *st = ov_db_stmt(db, stmt);
    int rc = ov_db_bind_uint64(st, 1, t->kept_s);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(t->secret_hash, 32));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

/* Spends the invitation code. */
static int
spend_code(struct ov_db *db, struct enroll_tx *t)
{
    sqlite3_stmt *st = NULL;
    int rc = step_blob(db, "invite_get", t->secret_hash, 32, &st);
    if (rc == OV_DB_DONE) {
        t->refusal = UNKNOWN_CODE;
    } else if (rc == OV_DB_ROW && !ov_db_col_is_null(st, 0)) {
        t->refusal = CODE_USED;
    }
    ov_db_reset(st);
    if (rc < 0 || t->refusal != OK) {
        return rc < 0 ? rc : -OV_E_CONFLICT;
    }
    memcpy(t->identity, t->secret_hash, 32); /* a code is its holder's identity */
    return mark_used(db, "invite_use", t);
}

/* Spends the registrar token: its identity and whether it is for a recovery. */
static int
spend_token(struct ov_db *db, struct enroll_tx *t)
{
    sqlite3_stmt *st = NULL;
    int64_t rec = 0;
    uint64_t expires = 0;
    int rc = step_blob(db, "regtok_get", t->secret_hash, 32, &st);
    if (rc == OV_DB_DONE) {
        t->refusal = UNKNOWN_TOKEN;
    } else if (rc == OV_DB_ROW) {
        rc = ov_db_col_fixed(st, 0, t->identity, 32);
        rc = rc ? rc : ov_db_col_int64(st, 1, &rec);
        rc = rc ? rc : ov_db_col_uint64(st, 2, &expires);
        if (rc == 0 && !ov_db_col_is_null(st, 3)) {
            t->refusal = TOKEN_USED;
        } else if (rc == 0 && expires <= t->now_s) {
            t->refusal = TOKEN_EXPIRED;
        }
    }
    ov_db_reset(st);
    if (rc < 0 || t->refusal != OK) {
        return rc < 0 ? rc : -OV_E_CONFLICT;
    }
    t->recovery = rec == 1;
    return mark_used(db, "regtok_use", t);
}

static int
add_enrollee(struct ov_db *db, struct enroll_tx *t, const char *route)
{
    sqlite3_stmt *st = ov_db_stmt(db, "enrollee_insert");
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(t->pseudonym, 32));
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(t->identity, 32));
    rc = rc ? rc : ov_db_bind_text(st, 3, route, strlen(route));
    rc = rc ? rc : ov_db_bind_uint64(st, 4, t->kept_s);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc == -OV_E_CONFLICT) {
        t->refusal = ALREADY_ENROLLED;
    }
    return rc < 0 ? rc : 0;
}

/* Recovery: the identity's pseudonym stays (and with it the quotas spent); its key is
 * revoked, so the new key is its only one. */
static int
recover(struct ov_db *db, struct enroll_tx *t)
{
    sqlite3_stmt *st = NULL;
    int rc = step_blob(db, "enrollee_by_identity", t->identity, 32, &st);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_fixed(st, 0, t->pseudonym, 32);
    } else if (rc == OV_DB_DONE) {
        t->refusal = NOT_ENROLLED;
        rc = -OV_E_CONFLICT;
    }
    ov_db_reset(st);
    if (rc != 0) {
        return rc;
    }
    st = ov_db_stmt(db, "key_revoke");
    rc = ov_db_bind_uint64(st, 1, t->kept_s);
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(t->pseudonym, 32));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int
log_enrollment(struct ov_db *db, struct enroll_tx *t, enum ov_enroll_route route)
{
    sqlite3_stmt *st = ov_db_stmt(db, "serial_next");
    struct ov_entry e;
    struct ov_buf entry;
    int64_t outbox_id = 0;
    memset(&e, 0, sizeof e);
    int rc = ov_db_step(st);
    rc = rc == OV_DB_ROW ? ov_db_col_uint64(st, 0, &e.u.enrollment.n) : (rc < 0 ? rc : -OV_E_DB);
    ov_db_reset(st);
    if (rc != 0) {
        return rc;
    }
    e.kind = OV_ENTRY_ENROLLMENT;
    e.u.enrollment.route = route;
    e.u.enrollment.time = t->kept_s;
    rc = ov_entry_encode(&e, &entry);
    rc = rc ? rc : issuer_store_outbox_hold(db, ov_buf_view(&entry), t->kept_s,
                                            ov_epoch_end(t->now_s, t->app->epoch_s),
                                            issuer_epoch_place(t->app, ISSUER_HELD_ENROLLMENT),
                                            &outbox_id);
    ov_buf_clear(&entry);
    return rc;
}

static int
enroll_fn(struct ov_db *db, void *arg)
{
    struct enroll_tx *t = arg;
    int rc = 0;
    t->refusal = OK;
    t->recovery = false;
    static const char *const names[] = { [OV_ROUTE_INVITE] = "invite",
                                         [OV_ROUTE_REGISTRAR] = "registrar",
                                         [OV_ROUTE_ATTESTATION] = "attestation" };
    if (t->route == OV_ROUTE_INVITE) {
        rc = spend_code(db, t);
    } else if (t->route == OV_ROUTE_REGISTRAR) {
        rc = spend_token(db, t);
    }
    if (rc == 0 && t->recovery) {
        rc = recover(db, t);
    } else if (rc == 0) {
        rc = add_enrollee(db, t, names[t->route]);
    }
    if (rc == 0 && t->refusal == OK) {
        sqlite3_stmt *st = ov_db_stmt(db, "key_insert");
        rc = ov_db_bind_blob(st, 1, OV_BYTES(t->key, OV_SIGN_PK_LEN));
        rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(t->pseudonym, 32));
        rc = rc ? rc : ov_db_bind_uint64(st, 3, t->kept_s);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        if (rc == -OV_E_CONFLICT) {
            t->refusal = KEY_IN_USE;
        }
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0 && t->refusal == OK) {
        rc = log_enrollment(db, t, t->recovery ? OV_ROUTE_RECOVERY : t->route);
    }
    return rc == 0 && t->refusal != OK ? -OV_E_CONFLICT : rc;
}

/* The attestation route's checks: a statement signed by a configured IdP, unexpired, for
 * this key. Its identity is the keyed hash of idp NUL subject. */
static int
check_attestation(struct ov_req *rq, struct issuer_app *app, const struct ov_enroll_req *r,
                  struct enroll_tx *t)
{
    struct ov_attestation a;
    const struct issuer_idp *idp = NULL;
    if (ov_attestation_parse(OV_BYTES(r->attestation, r->attestation_len), &a) != 0) {
        return issuer_refuse(rq, 403, R_ENROLL, "bad_attestation", "not an attestation");
    }
    for (size_t i = 0; i < app->n_idps && idp == NULL; i++) {
        idp = strcmp(app->idps[i].name, a.idp) == 0 ? &app->idps[i] : NULL;
    }
    if (idp == NULL) {
        return issuer_refuse(rq, 403, R_ENROLL, "unknown_idp", "no such identity provider");
    }
    if (ov_sign_verify(idp->pk, OV_SIGN_ENROLL, r->attestation, r->attestation_len,
                       r->attestation_sig) != 0 ||
        sodium_memcmp(a.key, r->key, OV_SIGN_PK_LEN) != 0) {
        return issuer_refuse(rq, 403, R_ENROLL, "bad_attestation",
                             "the attestation is not the IdP's, or not for this key");
    }
    if (a.expires <= t->now_s) {
        return issuer_refuse(rq, 403, R_ENROLL, "attestation_expired", "the attestation expired");
    }
    uint8_t ref[OV_MAX_IDP_NAME_LEN + 1 + OV_MAX_SUBJECT_LEN];
    size_t il = strlen(a.idp), sl = strlen(a.subject);
    memcpy(ref, a.idp, il + 1);
    memcpy(ref + il + 1, a.subject, sl);
    int rc = issuer_identity_hash(app->pepper, "attestation", ref, il + 1 + sl, t->identity);
    sodium_memzero(ref, sizeof ref);
    sodium_memzero(&a, sizeof a);
    return rc ? rc : 1; /* go on */
}

static int
enroll_checked(struct ov_req *rq, struct issuer_app *app, const struct ov_enroll_req *r,
               struct enroll_tx *t)
{
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    if (db == NULL) {
        return -OV_E_DB;
    }
    t->app = app;
    t->route = r->route;
    memcpy(t->key, r->key, sizeof t->key);
    randombytes_buf(t->pseudonym, sizeof t->pseudonym);
    if (r->route == OV_ROUTE_INVITE) {
        issuer_code_hash(app->pepper, "invite", (const uint8_t *)r->secret, strlen(r->secret),
                         t->secret_hash);
    } else if (r->route == OV_ROUTE_REGISTRAR) {
        issuer_code_hash(app->pepper, TOKEN_ROUTE, (const uint8_t *)r->secret,
                         strlen(r->secret), t->secret_hash);
    } else {
        int k = check_attestation(rq, app, r, t);
        if (k != 1) {
            return k;
        }
    }
    int rc = ov_db_tx(db, enroll_fn, t);
    if (rc == -OV_E_CONFLICT && t->refusal != OK) {
        return issuer_refuse(rq, refusals[t->refusal].status, R_ENROLL,
                             refusals[t->refusal].reason, refusals[t->refusal].message);
    }
    if (rc != 0) {
        return rc;
    }
    ov_counter_add(app->enrolled, 1);
    ov_gauge_add(app->backlog, 1);
    issuer_outbox_kick(app->outbox);
    return ov_http_reply_json(rq, 200, json_pack("{sbsb}", "enrolled", 1, "recovered",
                                                 t->recovery));
}

int
issuer_h_enroll(struct ov_req *rq)
{
    struct issuer_app *app = ov_req_user(rq);
    int gate = issuer_log_gate(rq);
    if (gate != 1) {
        return gate;
    }
    struct ov_bytes body = ov_req_body(rq);
    struct ov_enroll_req *r = malloc(sizeof *r);
    struct enroll_tx *t = calloc(1, sizeof *t);
    uint8_t sig[OV_SIGN_SIG_LEN];
    const char *h = ov_req_header(rq, OV_HDR_SIGNATURE);
    uint64_t now = ov_now_ms();
    int rc = r && t ? 0 : -OV_E_NOMEM;
    if (rc == 0 && ov_enroll_req_parse(body, r) != 0) {
        rc = issuer_refuse(rq, 400, R_MALFORMED, "malformed_request",
                           "not an enrollment request (docs/PROTOCOL.md §7)");
    } else if (rc == 0 && (h == NULL || ov_b64url_fixed(h, strlen(h), sig, sizeof sig) != 0 ||
                           ov_sign_verify(r->key, OV_SIGN_ENROLL, body.ptr, body.len, sig) != 0)) {
        rc = issuer_refuse(rq, 401, R_BAD_SIGNATURE, "bad_signature",
                           "the body must be signed by the key it registers");
    } else if (rc == 0 && (r->time_ms + OV_ISSUER_WINDOW_MS < now ||
                           r->time_ms > now + OV_ISSUER_WINDOW_MS)) {
        rc = issuer_refuse(rq, 401, R_STALE, "stale_request", "the request time is too far off");
    } else if (rc == 0) {
        t->now_s = now / 1000;
        t->kept_s = ov_epoch_start(t->now_s, app->epoch_s); /* docs/PROTOCOL.md §3.1 */
        rc = enroll_checked(rq, app, r, t);
    }
    if (r != NULL) {
        sodium_memzero(r, sizeof *r);
    }
    if (t != NULL) {
        sodium_memzero(t, sizeof *t);
    }
    free(r);
    free(t);
    return rc;
}
