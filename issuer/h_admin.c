/* h_admin: the operator's endpoints (admin secret).
 *   POST /admin/contexts  creates a context with a fresh RSA-2048 token key whose truncated
 *                         id no context still open (or yet to open) uses, writes its entry
 *                         to the outbox in the same transaction, then waits (a long poll)
 *                         until the log has acknowledged the entry: only then does the
 *                         context open for issuance, and only then does this answer 201.
 *   POST /admin/invites   {"count": N[, "draw": ID]} -> N one-time invitation codes as CSV;
 *                         only their keyed hashes are stored, and an `invitations` entry
 *                         (the batch, the draw's running total) goes to the log. */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "app.h"
#include "logcheck.h"
#include "base/codec.h"
#include "contexts.h"
#include "outbox.h"
#include "store.h"

/* how long a closed context keeps its truncated key id (after closing) */
#define ISSUER_TRUNCATED_ID_GRACE_S 3600

#define CREATE_WAIT_MS 30000
#define KEYGEN_TRIES 64
#define MAX_INVITES OV_MAX_INVITES_BATCH /* one invitations entry a batch */

/* ---- POST /admin/contexts --------------------------------------------------------- */

struct create_tx {
    const struct ov_context *def;
    struct ov_bytes entry, sk;
    uint64_t now_s;
    bool exists, taken;
};

static int
create_fn(struct ov_db *db, void *arg)
{
    struct create_tx *t = arg;
    uint8_t trunc = t->def->token_key_id[OV_PP_NID - 1];
    int64_t outbox_id = 0;
    t->exists = t->taken = false;
    sqlite3_stmt *st = ov_db_stmt(db, "ctx_exists");
    int rc = ov_db_bind_text(st, 1, t->def->id, strlen(t->def->id));
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc == OV_DB_ROW) {
        t->exists = true;
        return -OV_E_EXISTS;
    }
    st = ov_db_stmt(db, "ctx_taken");
    rc = rc < 0 ? rc : ov_db_bind_int64(st, 1, trunc);
    /* A closed context keeps its truncated id for a while: a token request prepared for it
     * must be refused as closed, not signed with a newer context's key that took its byte. */
    rc = rc ? rc : ov_db_bind_uint64(st, 2, t->now_s > ISSUER_TRUNCATED_ID_GRACE_S
                                                ? t->now_s - ISSUER_TRUNCATED_ID_GRACE_S
                                                : 0);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    if (rc == OV_DB_ROW) {
        t->taken = true;
        return -OV_E_CONFLICT;
    }
    rc = rc < 0 ? rc : issuer_store_outbox_add(db, t->entry, t->now_s, &outbox_id);
    st = ov_db_stmt(db, "ctx_insert");
    rc = rc ? rc : ov_db_bind_text(st, 1, t->def->id, strlen(t->def->id));
    rc = rc ? rc : ov_db_bind_blob(st, 2, t->entry);
    rc = rc ? rc : ov_db_bind_blob(st, 3, t->sk);
    rc = rc ? rc : ov_db_bind_int64(st, 4, trunc);
    rc = rc ? rc : ov_db_bind_blob(st, 5, OV_BYTES(t->def->token_key_id, OV_PP_NID));
    rc = rc ? rc : ov_db_bind_uint64(st, 6, t->def->opens);
    rc = rc ? rc : ov_db_bind_uint64(st, 7, t->def->closes);
    rc = rc ? rc : ov_db_bind_uint64(st, 8, t->def->quota);
    rc = rc ? rc : ov_db_bind_int64(st, 9, outbox_id);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

/* One attempt: a fresh key, the entry, the transaction. -OV_E_CONFLICT when the key's
 * truncated id is taken (try again), -OV_E_EXISTS when the id is. */
static int
create_once(struct issuer_app *app, struct ov_context *def, uint64_t now_s)
{
    struct ov_brsa_sk *sk = NULL;
    struct ov_entry e;
    struct ov_buf entry;
    size_t der_len = 0;
    uint8_t *der = sodium_malloc(OV_BRSA_MAX_SK_DER_LEN);
    ov_buf_init(&entry, 0);
    int rc = der ? ov_brsa_keygen(OV_PP_MODULUS_BITS, &sk) : -OV_E_NOMEM;
    rc = rc ? rc : ov_pp_spki_encode(ov_brsa_sk_pk(sk), def->token_key, sizeof def->token_key,
                                     &def->token_key_len);
    rc = rc ? rc : ov_pp_token_key_id(ov_brsa_sk_pk(sk), def->token_key_id);
    rc = rc ? rc : ov_brsa_sk_to_pkcs8(sk, der, OV_BRSA_MAX_SK_DER_LEN, &der_len);
    if (rc == 0) {
        memset(&e, 0, sizeof e);
        e.kind = OV_ENTRY_CONTEXT;
        e.u.context = *def;
        rc = ov_entry_encode(&e, &entry);
    }
    struct create_tx t = { def, ov_buf_view(&entry), OV_BYTES(der, der_len), now_s, false, false };
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    rc = rc ? rc : (db ? ov_db_tx(db, create_fn, &t) : -OV_E_DB);
    if (der != NULL) {
        sodium_free(der); /* wipes */
    }
    ov_brsa_sk_free(sk);
    ov_buf_clear(&entry);
    return rc;
}

static int
created_reply(struct ov_req *rq, const struct issuer_ctx *c)
{
    struct ov_buf out;
    char head[64];
    ov_buf_init(&out, OV_MAX_CONTEXT_REQ_LEN * 2);
    int rc = ov_buf_append_str(&out, "{\"context\":");
    rc = rc ? rc : issuer_ctx_json(c, ov_now_ms() / 1000, &out);
    snprintf(head, sizeof head, ",\"log_index\":%llu}", (unsigned long long)c->log_index);
    rc = rc ? rc : ov_buf_append_str(&out, head);
    rc = rc ? rc : ov_http_reply(rq, 201, "application/json", ov_buf_view(&out));
    ov_buf_clear(&out);
    return rc;
}

/* Later rounds: the context opens once the sender has the log's acknowledgement. */
static int
create_wait(struct ov_req *rq, struct issuer_app *app, const char *id)
{
    const struct issuer_ctx *c = issuer_contexts_find(app->contexts, id);
    if (c != NULL) {
        return created_reply(rq, c);
    }
    if (ov_req_wait_expired(rq)) {
        return ov_http_error(rq, 503, "log_pending",
                             "the context is stored; it opens once the log has its entry");
    }
    return ov_http_wait(rq, CREATE_WAIT_MS);
}

int
issuer_h_create_context(struct ov_req *rq)
{
    struct issuer_app *app = ov_req_user(rq);
    char *id = ov_req_state(rq);
    if (id != NULL) {
        return create_wait(rq, app, id);
    }
    int gate = issuer_log_gate(rq);
    if (gate != 1) {
        return gate;
    }
    if (issuer_check_bearer(rq, app->admin) != 0) {
        return issuer_refuse(rq, 401, R_UNAUTHORIZED, "unauthorized", "admin secret needed");
    }
    struct ov_context *def = malloc(sizeof *def);
    if (def == NULL) {
        return -OV_E_NOMEM;
    }
    uint64_t now_s = ov_now_ms() / 1000;
    int rc = ov_context_req_parse(ov_req_body(rq), def);
    if (rc != 0) {
        free(def);
        return issuer_refuse(rq, 400, R_MALFORMED, "malformed_request",
                             "not a context request (docs/PROTOCOL.md §7)");
    }
    if (def->closes <= now_s) {
        free(def);
        return issuer_refuse(rq, 400, R_MALFORMED, "invalid_context", "it closes in the past");
    }
    memcpy(def->issuer, app->name, strlen(app->name) + 1);
    def->time = now_s;
    rc = -OV_E_CONFLICT;
    for (int i = 0; i < KEYGEN_TRIES && rc == -OV_E_CONFLICT; i++) {
        rc = create_once(app, def, now_s); /* a taken truncated id: another key */
    }
    if (rc == 0) {
        id = strdup(def->id);
    }
    free(def);
    if (rc == -OV_E_EXISTS) {
        return ov_http_error(rq, 409, "context_exists", "a context with this id exists");
    }
    if (rc == -OV_E_CONFLICT) {
        return ov_http_error(rq, 503, "key_ids_exhausted",
                             "no free truncated key id among the open contexts");
    }
    if (rc != 0 || id == NULL) {
        return rc ? rc : -OV_E_NOMEM;
    }
    ov_gauge_add(app->backlog, 1);
    issuer_outbox_kick(app->outbox);
    ov_req_set_state(rq, id, free);
    return ov_http_wait(rq, CREATE_WAIT_MS);
}

/* ---- POST /admin/invites ---------------------------------------------------------- */

struct invites_tx {
    const uint8_t (*hashes)[32];
    size_t n;
    uint64_t now_s;
    const char *draw; /* "" for none */
};

/* The batch's `invitations` entry (docs/PROTOCOL.md §3), with the draw's running total,
 * into the outbox: in the codes' transaction, so no code exists before its entry is due. */
static int
invites_entry(struct ov_db *db, const struct invites_tx *t)
{
    char name[16 + OV_MAX_CONTEXT_ID_LEN];
    int64_t total = 0, outbox_id = 0;
    struct ov_entry e;
    struct ov_buf entry;
    snprintf(name, sizeof name, "invites:%s", t->draw);
    sqlite3_stmt *st = ov_db_stmt(db, "invites_total_add");
    int rc = ov_db_bind_text(st, 1, name, strlen(name));
    rc = rc ? rc : ov_db_bind_int64(st, 2, (int64_t)t->n);
    rc = rc ? rc : (ov_db_step(st) == OV_DB_ROW ? ov_db_col_int64(st, 0, &total) : -OV_E_DB);
    ov_db_reset(st);
    memset(&e, 0, sizeof e);
    e.kind = OV_ENTRY_INVITATIONS;
    snprintf(e.u.invitations.draw, sizeof e.u.invitations.draw, "%s", t->draw);
    e.u.invitations.count = t->n;
    e.u.invitations.total = (uint64_t)total;
    e.u.invitations.time = t->now_s;
    int enc = rc ? rc : ov_entry_encode(&e, &entry);
    rc = enc ? enc : issuer_store_outbox_add(db, ov_buf_view(&entry), t->now_s, &outbox_id);
    if (enc == 0) {
        ov_buf_clear(&entry);
    }
    return rc;
}

static int
invites_fn(struct ov_db *db, void *arg)
{
    struct invites_tx *t = arg;
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        sqlite3_stmt *st = ov_db_stmt(db, "invite_insert");
        rc = ov_db_bind_blob(st, 1, OV_BYTES(t->hashes[i], 32));
        rc = rc ? rc : ov_db_bind_uint64(st, 2, t->now_s);
        rc = rc ? rc : ov_db_step(st);
        ov_db_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    return rc ? rc : invites_entry(db, t);
}

/* {"count": N} or {"count": N, "draw": ID}: draw into draw (NUL-terminated, "" for none). */
static int
parse_count(struct ov_bytes body, size_t *n, char draw[OV_MAX_CONTEXT_ID_LEN + 1])
{
    json_t *o = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, NULL);
    json_t *c = json_object_get(o, "count"), *d = json_object_get(o, "draw");
    int rc = json_is_object(o) && json_object_size(o) == 1u + (d != NULL) &&
                     json_is_integer(c) && json_integer_value(c) >= 1 &&
                     json_integer_value(c) <= MAX_INVITES && (d == NULL || json_is_string(d))
                 ? 0
                 : -OV_E_MALFORMED;
    const char *ds = d != NULL ? json_string_value(d) : "";
    if (rc == 0 && (strlen(ds) > OV_MAX_CONTEXT_ID_LEN || (*ds && ov_context_id_check(ds) != 0))) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        memcpy(draw, ds, strlen(ds) + 1);
    }
    *n = rc == 0 ? (size_t)json_integer_value(c) : 0;
    json_decref(o);
    return rc;
}

int
issuer_h_invites(struct ov_req *rq)
{
    struct issuer_app *app = ov_req_user(rq);
    size_t n = 0;
    char draw[OV_MAX_CONTEXT_ID_LEN + 1] = "";
    if (issuer_check_bearer(rq, app->admin) != 0) {
        return issuer_refuse(rq, 401, R_UNAUTHORIZED, "unauthorized", "admin secret needed");
    }
    int gate = issuer_log_gate(rq);
    if (gate != 1) {
        return gate;
    }
    if (parse_count(ov_req_body(rq), &n, draw) != 0) {
        return issuer_refuse(rq, 400, R_MALFORMED, "malformed_request",
                             "want {\"count\": 1..100000} or {\"count\": N, \"draw\": ID}");
    }
    uint8_t(*hashes)[32] = calloc(n, sizeof *hashes);
    struct ov_buf csv;
    ov_buf_init(&csv, 8 + n * (OV_INVITE_CODE_LEN + 1));
    int rc = hashes ? ov_buf_append_str(&csv, "code\n") : -OV_E_NOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t raw[OV_INVITE_CODE_BYTES];
        char code[OV_INVITE_CODE_LEN + 1];
        randombytes_buf(raw, sizeof raw);
        rc = ov_b64_encode(code, sizeof code, raw, sizeof raw, OV_B64_URL_NOPAD);
        issuer_code_hash(app->pepper, "invite", (const uint8_t *)code, OV_INVITE_CODE_LEN,
                         hashes[i]);
        rc = rc ? rc : ov_buf_append_str(&csv, code);
        rc = rc ? rc : ov_buf_append_str(&csv, "\n");
        sodium_memzero(raw, sizeof raw);
        sodium_memzero(code, sizeof code);
    }
    struct invites_tx t = { (const uint8_t(*)[32])hashes, n, ov_now_ms() / 1000, draw };
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    rc = rc ? rc : (db ? ov_db_tx(db, invites_fn, &t) : -OV_E_DB);
    if (rc == 0) {
        ov_gauge_add(app->backlog, 1);
        issuer_outbox_kick(app->outbox);
    }
    rc = rc ? rc : ov_http_header(rq, "Cache-Control", "no-store");
    rc = rc ? rc : ov_http_reply(rq, 200, "text/csv; charset=utf-8", ov_buf_view(&csv));
    if (csv.ptr != NULL) {
        sodium_memzero(csv.ptr, csv.len);
    }
    ov_buf_clear(&csv);
    free(hashes);
    return rc;
}
