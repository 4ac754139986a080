#include "protocol/issuerclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/clock.h"
#include "base/codec.h"
#include "infra/httpc.h"

#define OV_ISSUERCLIENT_MAX_URL 1024
#define CT_JSON "application/json"

struct ov_issuerclient {
    char base[OV_ISSUERCLIENT_MAX_URL];
    struct ov_httpc *http;
};

int
ov_issuerclient_new(const char *base_url, struct ov_issuerclient **out)
{
    *out = NULL;
    struct ov_issuerclient *c = calloc(1, sizeof *c);
    int rc = c ? ov_httpc_new_base(base_url, 64, c->base, sizeof c->base, &c->http) : -OV_E_NOMEM;
    if (rc != 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void
ov_issuerclient_free(struct ov_issuerclient *c)
{
    if (c != NULL) {
        ov_httpc_free(c->http);
        free(c);
    }
}

/* One exchange. 0 when the status is `want` (resp then holds the answer, the caller's to
 * clear); -OV_E_HTTP otherwise, with st filled (reason from the JSON error body). */
static int
exchange(struct ov_issuerclient *c, const char *method, const char *path, const char *ctype,
         struct ov_bytes body, const char *const *headers, size_t n_headers, size_t resp_max,
         unsigned want, struct ov_httpc_resp *resp, struct ov_issuer_status *st)
{
    char url[OV_ISSUERCLIENT_MAX_URL + 64];
    memset(st, 0, sizeof *st);
    memset(resp, 0, sizeof *resp);
    snprintf(url, sizeof url, "%s%s", c->base, path);
    struct ov_httpc_req rq = {
        .method = method,
        .url = url,
        .content_type = ctype,
        .body = body,
        .headers = headers,
        .n_headers = n_headers,
        .timeout_ms = 60000,
        .resp_max = resp_max,
    };
    int rc = ov_httpc_do(c->http, &rq, resp);
    if (rc != 0) {
        return rc == -OV_E_NOMEM ? rc : -OV_E_HTTP;
    }
    st->status = resp->status;
    if (resp->status == want) {
        return 0;
    }
    json_t *j = json_loadb((const char *)resp->body.ptr, resp->body.len, 0, NULL);
    const char *reason = json_string_value(json_object_get(j, "error"));
    const char *message = json_string_value(json_object_get(j, "message"));
    snprintf(st->reason, sizeof st->reason, "%s", reason ? reason : "unknown");
    snprintf(st->message, sizeof st->message, "%s", message ? message : "");
    json_decref(j);
    ov_httpc_resp_clear(resp);
    return -OV_E_HTTP;
}

/* "Name: value" with value the base64url (no padding) of p. */
static int
b64_header(char *out, size_t max, const char *name, const uint8_t *p, size_t n)
{
    int k = snprintf(out, max, "%s: ", name);
    if (k < 0 || (size_t)k >= max) {
        return -OV_E_TOO_BIG;
    }
    return ov_b64_encode(out + k, max - (size_t)k, p, n, OV_B64_URL_NOPAD);
}

static int
bearer(char *out, size_t max, const char *cred)
{
    int k = snprintf(out, max, "Authorization: Bearer %s", cred);
    return k < 0 || (size_t)k >= max ? -OV_E_TOO_BIG : 0;
}

/* ---- citizens --------------------------------------------------------------------- */

int
ov_issuerclient_enroll(struct ov_issuerclient *c, const struct ov_enroll_req *req,
                       const struct ov_sign_key *key, bool *recovered, struct ov_issuer_status *st)
{
    struct ov_enroll_req r;
    struct ov_buf body;
    struct ov_httpc_resp resp;
    uint8_t sig[OV_SIGN_SIG_LEN];
    char h[160];
    *recovered = false;
    memset(st, 0, sizeof *st);
    memcpy(&r, req, sizeof r);
    ov_sign_key_public(key, r.key);
    r.time_ms = ov_now_ms();
    int rc = ov_enroll_req_build(&r, &body);
    sodium_memzero(&r, sizeof r);
    rc = rc ? rc : ov_sign(key, OV_SIGN_ENROLL, body.ptr, body.len, sig);
    rc = rc ? rc : b64_header(h, sizeof h, OV_HDR_SIGNATURE, sig, sizeof sig);
    if (rc != 0) {
        ov_buf_clear(&body);
        return rc;
    }
    const char *hdrs[1] = { h };
    rc = exchange(c, "POST", "/enroll", CT_JSON, ov_buf_view(&body), hdrs, 1, 4096, 200, &resp,
                  st);
    sodium_memzero(body.ptr, body.len); /* it carried the code or token */
    ov_buf_clear(&body);
    if (rc != 0) {
        return rc;
    }
    json_t *j = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
    json_t *rec = json_object_get(j, "recovered");
    if (!json_is_true(json_object_get(j, "enrolled")) || !json_is_boolean(rec)) {
        rc = -OV_E_MALFORMED;
    } else {
        *recovered = json_is_true(rec);
    }
    json_decref(j);
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_issuerclient_contexts(struct ov_issuerclient *c, struct ov_issuer_context **out, size_t *n,
                         struct ov_issuer_status *st)
{
    struct ov_httpc_resp resp;
    *out = NULL;
    *n = 0;
    int rc = exchange(c, "GET", "/contexts", NULL, OV_BYTES(NULL, 0), NULL, 0,
                      OV_MAX_ISSUER_LIST_LEN, 200, &resp, st);
    if (rc == 0) {
        rc = ov_issuer_contexts_parse(ov_buf_view(&resp.body), out, n);
    }
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_issuerclient_directory(struct ov_issuerclient *c, struct ov_issuer_directory *out,
                          struct ov_issuer_status *st)
{
    struct ov_httpc_resp resp;
    memset(out, 0, sizeof *out);
    int rc = exchange(c, "GET", "/.well-known/private-token-issuer-directory", NULL,
                      OV_BYTES(NULL, 0), NULL, 0, OV_MAX_DIRECTORY_LEN, 200, &resp, st);
    if (rc == 0) {
        rc = ov_issuer_directory_parse(ov_buf_view(&resp.body), out);
    }
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_token_job_init(struct ov_token_job *j, const struct ov_issuer_context *ctx,
                  const uint8_t nonce[OV_PP_NONCE_LEN])
{
    uint8_t chal[OV_ENTRY_MAX_CHALLENGE_LEN];
    size_t chal_len = 0;
    memset(j, 0, sizeof *j);
    int rc = ov_pp_key_from_spki(&j->key, OV_BYTES(ctx->def.token_key, ctx->def.token_key_len));
    if (rc == 0 && memcmp(j->key.token_key_id, ctx->def.token_key_id, OV_PP_NID) != 0) {
        rc = -OV_E_MALFORMED;
    }
    rc = rc ? rc : ov_entry_challenge(ctx->def.issuer, ctx->def.id, chal, sizeof chal, &chal_len);
    rc = rc ? rc : ov_pp_client_request(&j->key, OV_BYTES(chal, chal_len), nonce, j->request,
                                        &j->st);
    if (rc != 0) {
        ov_token_job_clear(j);
        return rc;
    }
    memcpy(j->context, ctx->def.id, sizeof j->context);
    return 0;
}

void
ov_token_job_clear(struct ov_token_job *j)
{
    if (j == NULL) {
        return;
    }
    ov_pp_key_clear(&j->key);
    ov_pp_client_state_clear(&j->st);
    sodium_memzero(j, sizeof *j);
}

int
ov_issuerclient_token_send(struct ov_issuerclient *c, const struct ov_sign_key *enrollee,
                           const uint8_t request[OV_PP_TOKEN_REQUEST_LEN], uint64_t time_ms,
                           uint8_t response[OV_PP_TOKEN_RESPONSE_LEN], struct ov_issuer_status *st)
{
    uint8_t msg[OV_TOKREQ_SIGNED_LEN], sig[OV_SIGN_SIG_LEN];
    char h_key[128], h_time[64], h_sig[160];
    struct ov_httpc_resp resp;
    memset(response, 0, OV_PP_TOKEN_RESPONSE_LEN);
    memset(st, 0, sizeof *st);
    ov_tokreq_signed_bytes(time_ms, request, msg);
    int rc = ov_sign(enrollee, OV_SIGN_TOKEN_REQUEST, msg, sizeof msg, sig);
    rc = rc ? rc : b64_header(h_key, sizeof h_key, OV_HDR_ENROLLEE, ov_sign_key_pk(enrollee),
                              OV_SIGN_PK_LEN);
    rc = rc ? rc : b64_header(h_sig, sizeof h_sig, OV_HDR_SIGNATURE, sig, sizeof sig);
    snprintf(h_time, sizeof h_time, "%s: %llu", OV_HDR_TIME, (unsigned long long)time_ms);
    if (rc != 0) {
        return rc;
    }
    const char *hdrs[3] = { h_key, h_time, h_sig };
    rc = exchange(c, "POST", "/token-request", "application/private-token-request",
                  OV_BYTES(request, OV_PP_TOKEN_REQUEST_LEN), hdrs, 3, 4096, 200, &resp, st);
    if (rc == 0) {
        if (strcmp(resp.content_type, "application/private-token-response") != 0 ||
            ov_pp_token_response_parse(ov_buf_view(&resp.body), response) != 0) {
            rc = -OV_E_MALFORMED;
        }
    }
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_issuerclient_token(struct ov_issuerclient *c, const struct ov_sign_key *enrollee,
                      const struct ov_token_job *j, uint8_t token[OV_PP_TOKEN_LEN],
                      struct ov_issuer_status *st)
{
    uint8_t response[OV_PP_TOKEN_RESPONSE_LEN];
    memset(token, 0, OV_PP_TOKEN_LEN);
    int rc = ov_issuerclient_token_send(c, enrollee, j->request, ov_now_ms(), response, st);
    if (rc == 0) {
        /* finalize verifies the unblinded signature under the context key */
        rc = ov_pp_client_finalize(&j->key, &j->st, OV_BYTES(response, sizeof response), token);
        rc = rc == 0 ? 0 : -OV_E_MALFORMED;
    }
    return rc;
}

const char *
ov_issuerclient_errmsg(const struct ov_issuerclient *c)
{
    return ov_httpc_errmsg(c->http);
}

/* ---- operators -------------------------------------------------------------------- */

int
ov_issuerclient_create_context(struct ov_issuerclient *c, const char *admin,
                               const struct ov_context *def, struct ov_issuer_context *out,
                               struct ov_issuer_status *st)
{
    struct ov_buf body;
    struct ov_httpc_resp resp;
    char h[256];
    memset(out, 0, sizeof *out);
    memset(st, 0, sizeof *st);
    int rc = bearer(h, sizeof h, admin);
    rc = rc ? rc : ov_context_req_build(def, &body);
    if (rc != 0) {
        return rc;
    }
    const char *hdrs[1] = { h };
    rc = exchange(c, "POST", "/admin/contexts", CT_JSON, ov_buf_view(&body), hdrs, 1,
                  OV_MAX_CONTEXT_REQ_LEN * 2, 201, &resp, st);
    ov_buf_clear(&body);
    if (rc == 0) {
        rc = ov_issuer_created_parse(ov_buf_view(&resp.body), out);
    }
    ov_httpc_resp_clear(&resp);
    sodium_memzero(h, sizeof h);
    return rc;
}

int
ov_issuerclient_invites(struct ov_issuerclient *c, const char *admin, size_t count,
                        const char *draw, struct ov_buf *csv, struct ov_issuer_status *st)
{
    char h[256], body[64 + OV_MAX_CONTEXT_ID_LEN];
    struct ov_httpc_resp resp;
    ov_buf_init(csv, 0);
    memset(st, 0, sizeof *st);
    if (draw != NULL && ov_context_id_check(draw) != 0) {
        return -OV_E_MALFORMED; /* a slug: nothing in it needs escaping in the JSON below */
    }
    int rc = bearer(h, sizeof h, admin);
    int k = draw == NULL ? snprintf(body, sizeof body, "{\"count\":%zu}", count)
                         : snprintf(body, sizeof body, "{\"count\":%zu,\"draw\":\"%s\"}", count,
                                    draw);
    if (rc != 0 || k < 0 || (size_t)k >= sizeof body) {
        return -OV_E_TOO_BIG;
    }
    const char *hdrs[1] = { h };
    rc = exchange(c, "POST", "/admin/invites", CT_JSON, OV_BYTES(body, (size_t)k), hdrs, 1,
                  64u << 20, 200, &resp, st);
    sodium_memzero(h, sizeof h);
    if (rc == 0) {
        *csv = resp.body; /* handed over: the caller wipes and clears it */
        memset(&resp.body, 0, sizeof resp.body);
    }
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_issuerclient_registrar_token(struct ov_issuerclient *c, const char *registrar,
                                const char *identity, bool recovery,
                                char token[OV_ENROLL_TOKEN_LEN + 1], uint64_t *expires,
                                struct ov_issuer_status *st)
{
    char h[256];
    struct ov_httpc_resp resp;
    memset(token, 0, OV_ENROLL_TOKEN_LEN + 1);
    *expires = 0;
    memset(st, 0, sizeof *st);
    int rc = bearer(h, sizeof h, registrar);
    json_t *o = json_pack("{sssb}", "identity", identity, "recovery", recovery);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (rc != 0 || body == NULL) {
        free(body);
        return rc ? rc : -OV_E_NOMEM;
    }
    const char *hdrs[1] = { h };
    rc = exchange(c, "POST", "/registrar/tokens", CT_JSON, OV_BYTES(body, strlen(body)), hdrs, 1,
                  4096, 200, &resp, st);
    sodium_memzero(body, strlen(body));
    free(body);
    sodium_memzero(h, sizeof h);
    if (rc != 0) {
        return rc;
    }
    json_t *j = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
    json_t *t = json_object_get(j, "token"), *e = json_object_get(j, "expires");
    uint8_t raw[OV_ENROLL_TOKEN_BYTES];
    if (!json_is_string(t) || !json_is_integer(e) || json_integer_value(e) < 0 ||
        ov_b64url_fixed(json_string_value(t), json_string_length(t), raw, sizeof raw) != 0) {
        rc = -OV_E_MALFORMED;
    } else {
        memcpy(token, json_string_value(t), OV_ENROLL_TOKEN_LEN);
        *expires = (uint64_t)json_integer_value(e);
    }
    sodium_memzero(raw, sizeof raw);
    json_decref(j);
    sodium_memzero(resp.body.ptr, resp.body.len);
    ov_httpc_resp_clear(&resp);
    return rc;
}
