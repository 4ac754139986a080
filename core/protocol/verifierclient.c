#include "protocol/verifierclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "protocol/actionreq.h"
#include "infra/httpc.h"

#define OV_VCLIENT_MAX_URL 1024

struct ov_vclient {
    char url[OV_VCLIENT_MAX_URL]; /* without a trailing slash */
    struct ov_httpc *http;
};

int
ov_vclient_new(const char *base_url, struct ov_vclient **out)
{
    *out = NULL;
    struct ov_vclient *c = calloc(1, sizeof *c);
    int rc = c ? ov_httpc_new_base(base_url, OV_RECEIPT_PATH_LEN + 32, c->url, sizeof c->url,
                                   &c->http)
               : -OV_E_NOMEM;
    if (rc != 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void
ov_vclient_free(struct ov_vclient *c)
{
    if (c != NULL) {
        ov_httpc_free(c->http);
        free(c);
    }
}

/* Fills ans from a response; for a refusal, its "error" code. */
static void
answer_from(const struct ov_httpc_resp *resp, struct ov_vclient_answer *ans)
{
    ans->status = resp->status;
    ans->reason[0] = 0;
    if (resp->status == 200 || resp->status == 202) {
        return;
    }
    json_error_t e;
    json_t *j = json_loadb((const char *)resp->body.ptr, resp->body.len, 0, &e);
    const char *reason = json_string_value(json_object_get(j, "error"));
    if (reason != NULL) {
        snprintf(ans->reason, sizeof ans->reason, "%s", reason);
    }
    json_decref(j);
}

/* Parses a 200/202 answer into r; anything else is -OV_E_HTTP. */
static int
receipt_from(const struct ov_httpc_resp *resp, struct ov_receipt *r, struct ov_vclient_answer *ans)
{
    answer_from(resp, ans);
    if (resp->status != 200 && resp->status != 202) {
        ov_receipt_init(r);
        return -OV_E_HTTP;
    }
    int rc = ov_receipt_parse(ov_buf_view(&resp->body), r);
    if (rc == 0 && (resp->status == 202) != (r->status == OV_RECEIPT_PENDING)) {
        rc = -OV_E_MALFORMED; /* 202 is exactly "not in the log yet" */
    }
    if (rc != 0) {
        ov_receipt_clear(r);
        ov_receipt_init(r);
    }
    return rc == -OV_E_TOO_BIG ? -OV_E_MALFORMED : rc;
}

/* The receipt's entry must be the action we sent (the signature aside: a retried ballot
 * keeps the receipt of its first submission). */
static int
same_action(const struct ov_receipt *r, const struct ov_action *a)
{
    struct ov_entry e;
    uint8_t h[OV_HASH_LEN];
    int rc = ov_merkle_leaf_hash(r->entry.ptr, r->entry.len, h);
    if (rc == 0 && memcmp(h, r->hash, OV_HASH_LEN) != 0) {
        return -OV_E_BAD_PROOF;
    }
    if (rc != 0 || ov_entry_decode(ov_buf_view(&r->entry), &e) != 0) {
        return -OV_E_BAD_PROOF;
    }
    const struct ov_action *g = &e.u.action;
    bool same = e.kind == (a->is_statement ? OV_ENTRY_STATEMENT : OV_ENTRY_ACTION) &&
                strcmp(g->context, a->context) == 0 &&
                memcmp(g->pseudonym, a->pseudonym, OV_PSEUDONYM_LEN) == 0 &&
                strcmp(g->platform, a->platform) == 0 && g->is_rating == a->is_rating &&
                (a->is_statement ? strcmp(g->text, a->text) == 0
                 : a->is_rating  ? strcmp(g->target, a->target) == 0 && g->rating == a->rating
                                 : strcmp(g->choice, a->choice) == 0);
    ov_entry_clear(&e);
    return same ? 0 : -OV_E_BAD_PROOF;
}

int
ov_vclient_submit(struct ov_vclient *c, const struct ov_action *a, unsigned flags,
                  struct ov_receipt *r, struct ov_vclient_answer *ans)
{
    struct ov_buf body;
    struct ov_httpc_resp resp;
    char url[OV_VCLIENT_MAX_URL + 32], auth[sizeof "Authorization: " + OV_PRIVATETOKEN_HEADER_LEN];
    const char *headers[1] = { auth };
    bool in_header = (flags & OV_VCLIENT_TOKEN_IN_HEADER) != 0 && a->has_token;
    memset(ans, 0, sizeof *ans);
    memset(&resp, 0, sizeof resp);
    ov_receipt_init(r);
    snprintf(url, sizeof url, "%s/actions%s", c->url,
             (flags & OV_VCLIENT_WAIT_PROOF) ? "?wait=proof" : "");
    int rc = ov_actionreq_build(a, !in_header, &body);
    if (rc == 0 && in_header) {
        memcpy(auth, "Authorization: ", sizeof "Authorization: " - 1);
        rc = ov_privatetoken_format(a->token, auth + sizeof "Authorization: " - 1,
                                    sizeof auth - (sizeof "Authorization: " - 1));
    }
    if (rc == 0) {
        struct ov_httpc_req rq = {
            .url = url,
            .content_type = "application/json",
            .body = ov_buf_view(&body),
            .headers = headers,
            .n_headers = in_header ? 1 : 0,
            .timeout_ms = OV_VCLIENT_TIMEOUT_MS,
            .resp_max = OV_MAX_RECEIPT_LEN,
        };
        rc = ov_httpc_do(c->http, &rq, &resp);
        rc = rc == 0 ? 0 : -OV_E_HTTP;
    }
    if (rc == 0) {
        ov_receipt_clear(r);
        rc = receipt_from(&resp, r, ans);
    }
    if (rc == 0) {
        rc = same_action(r, a);
    }
    if (rc != 0) {
        ov_receipt_clear(r);
        ov_receipt_init(r);
    }
    ov_buf_clear(&body);
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_vclient_submit_batch(struct ov_vclient *c, const struct ov_action *a, size_t n,
                        unsigned flags, struct ov_batch_answer *out,
                        struct ov_vclient_answer *ans)
{
    struct ov_buf body, line;
    struct ov_httpc_resp resp;
    char url[OV_VCLIENT_MAX_URL + 32];
    memset(ans, 0, sizeof *ans);
    memset(&resp, 0, sizeof resp);
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        ov_receipt_init(&out[i].receipt);
    }
    if (n == 0 || n > OV_MAX_BATCH_ACTIONS) {
        return -OV_E_TOO_BIG;
    }
    snprintf(url, sizeof url, "%s/actions/batch%s", c->url,
             (flags & OV_VCLIENT_WAIT_PROOF) ? "?wait=proof" : "");
    ov_buf_init(&body, OV_MAX_BATCH_LEN);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = ov_actionreq_build(&a[i], true, &line);
        rc = rc ? rc : ov_buf_append(&body, line.ptr, line.len);
        rc = rc ? rc : ov_buf_append(&body, "\n", 1);
        ov_buf_clear(&line);
    }
    if (rc == 0) {
        struct ov_httpc_req rq = {
            .url = url,
            .content_type = OV_BATCH_CONTENT_TYPE,
            .body = ov_buf_view(&body),
            .timeout_ms = OV_VCLIENT_TIMEOUT_MS,
            .resp_max = n * (OV_MAX_RECEIPT_LEN + 1),
        };
        rc = ov_httpc_do(c->http, &rq, &resp) == 0 ? 0 : -OV_E_HTTP;
    }
    if (rc == 0) {
        answer_from(&resp, ans);
        rc = resp.status == 200 ? 0 : -OV_E_HTTP;
    }
    rc = rc ? rc : ov_actionbatch_answers_parse(ov_buf_view(&resp.body), n, out);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (out[i].reason[0] == 0) {
            rc = same_action(&out[i].receipt, &a[i]);
        }
    }
    if (rc != 0) {
        ov_actionbatch_answers_clear(out, n);
    }
    ov_buf_clear(&body);
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_vclient_receipt(struct ov_vclient *c, const uint8_t hash[OV_HASH_LEN], bool wait_proof,
                   struct ov_receipt *r, struct ov_vclient_answer *ans)
{
    char url[OV_VCLIENT_MAX_URL + OV_RECEIPT_PATH_LEN + 16], path[OV_RECEIPT_PATH_LEN + 1];
    struct ov_httpc_resp resp;
    memset(ans, 0, sizeof *ans);
    memset(&resp, 0, sizeof resp);
    ov_receipt_init(r);
    ov_receipt_path(hash, path);
    snprintf(url, sizeof url, "%s%s%s", c->url, path, wait_proof ? "?wait=proof" : "");
    struct ov_httpc_req rq = {
        .url = url,
        .timeout_ms = OV_VCLIENT_TIMEOUT_MS,
        .resp_max = OV_MAX_RECEIPT_LEN,
    };
    int rc = ov_httpc_do(c->http, &rq, &resp) == 0 ? 0 : -OV_E_HTTP;
    if (rc == 0) {
        ov_receipt_clear(r);
        rc = receipt_from(&resp, r, ans);
    }
    if (rc == 0 && memcmp(r->hash, hash, OV_HASH_LEN) != 0) {
        rc = -OV_E_MALFORMED;
    }
    if (rc != 0) {
        ov_receipt_clear(r);
        ov_receipt_init(r);
    }
    ov_httpc_resp_clear(&resp);
    return rc;
}
