/* Unit tests: core/protocol/verifierclient against a scripted verifier (core/infra/http on 127.0.0.1:0):
 * what it sends (the body, the PrivateToken header, ?wait=proof), and what it accepts: a
 * receipt for the very action it sent, 202 only when pending, refusals with their reason,
 * and nothing else (a receipt for another action, another hash, a malformed answer). */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "protocol/actionreq.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "infra/http.h"
#include "primitives/merkle.h"
#include "protocol/receipt.h"
#include "protocol/verifierclient.h"

/* what the scripted server answers next */
enum mode { M_RECEIPT, M_PENDING_202, M_PENDING_200, M_OTHER_ACTION, M_REFUSE, M_GARBAGE };
static _Atomic int mode;
static struct ov_action sent;      /* the action the server decoded last */
static char last_auth[600];
static char last_query[32];

/* A receipt for action a (entry encoded as the verifier would). */
static int
receipt_for(const struct ov_action *a, enum ov_receipt_status status, struct ov_buf *json)
{
    struct ov_entry e;
    struct ov_receipt r;
    memset(&e, 0, sizeof e);
    e.kind = OV_ENTRY_ACTION;
    e.u.action = *a;
    e.u.action.time = 1700000000;
    ov_receipt_init(&r);
    r.status = status;
    r.index = status == OV_RECEIPT_PENDING ? 0 : 7;
    struct ov_buf entry;
    int rc = ov_entry_encode(&e, &entry);
    rc = rc ? rc : ov_buf_append(&r.entry, entry.ptr, entry.len);
    rc = rc ? rc : ov_merkle_leaf_hash(entry.ptr, entry.len, r.hash);
    rc = rc ? rc : ov_receipt_format(&r, json);
    ov_buf_clear(&entry);
    ov_receipt_clear(&r);
    return rc;
}

static int
h_actions(struct ov_req *rq)
{
    struct ov_action a;
    const char *w = NULL, *auth = ov_req_header(rq, "Authorization");
    snprintf(last_auth, sizeof last_auth, "%s", auth ? auth : "");
    snprintf(last_query, sizeof last_query, "%s", ov_req_query(rq, "wait", &w) == 0 ? w : "");
    if (ov_actionreq_parse(ov_req_body(rq), &a) != 0) {
        return ov_http_error(rq, 400, "malformed_request", "test");
    }
    if (auth != NULL && ov_privatetoken_parse(auth, strlen(auth), a.token) == 0) {
        a.has_token = true;
    }
    sent = a;
    struct ov_buf j;
    int rc = 0;
    switch (atomic_load(&mode)) {
    case M_RECEIPT:
        rc = receipt_for(&a, OV_RECEIPT_LOGGED, &j);
        return rc ? rc : (rc = ov_http_reply(rq, 200, "application/json", ov_buf_view(&j)),
                          ov_buf_clear(&j), rc);
    case M_PENDING_202:
    case M_PENDING_200:
        rc = receipt_for(&a, OV_RECEIPT_PENDING, &j);
        return rc ? rc
                  : (rc = ov_http_reply(rq, atomic_load(&mode) == M_PENDING_202 ? 202 : 200,
                                        "application/json", ov_buf_view(&j)),
                     ov_buf_clear(&j), rc);
    case M_OTHER_ACTION:
        strcpy(a.choice, "no");
        rc = receipt_for(&a, OV_RECEIPT_LOGGED, &j);
        return rc ? rc : (rc = ov_http_reply(rq, 200, "application/json", ov_buf_view(&j)),
                          ov_buf_clear(&j), rc);
    case M_REFUSE:
        return ov_http_error(rq, 409, "token_spent", "test");
    case M_GARBAGE:
    default:
        return ov_http_reply(rq, 200, "application/json", OV_BYTES_STR("{\"status\":1}"));
    }
}

static int
h_receipt(struct ov_req *rq)
{
    struct ov_buf j;
    struct ov_action a = sent;
    int rc = receipt_for(&a, OV_RECEIPT_LOGGED, &j);
    rc = rc ? rc : ov_http_reply(rq, 200, "application/json", ov_buf_view(&j));
    ov_buf_clear(&j);
    return rc;
}

static const struct ov_http_route routes[] = {
    { "POST", "/actions", h_actions, OV_MAX_ACTION_REQ_LEN },
    { "GET", "/receipts/:hash", h_receipt, 0 },
};

int
main(void)
{
    struct ov_http_cfg cfg = { .listen = "127.0.0.1:0", .routes = routes, .n_routes = 2,
                               .n_threads = 2, .quiet = true };
    struct ov_http *srv = NULL;
    struct ov_vclient *c = NULL;
    char url[64];
    if (ov_http_start(&cfg, &srv) != 0) {
        TEST_DONE("test_verifierclient");
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)ov_http_port(srv));
    CHECK(ov_vclient_new(url, &c) == 0);

    struct ov_action a;
    struct ov_sign_key *k = NULL;
    memset(&a, 0, sizeof a);
    strcpy(a.context, "town");
    strcpy(a.choice, "yes");
    strcpy(a.platform, "p.example");
    a.has_token = true;
    a.token[1] = 2;
    a.token[100] = 0x5a;
    CHECK(ov_sign_key_generate(&k) == 0 && ov_action_sign(&a, k) == 0);

    struct ov_receipt r;
    struct ov_vclient_answer ans;
    /* a receipt for this action; the token in the body, no wait */
    atomic_store(&mode, M_RECEIPT);
    CHECK(ov_vclient_submit(c, &a, 0, &r, &ans) == 0);
    CHECK(ans.status == 200 && ans.reason[0] == 0 && r.status == OV_RECEIPT_LOGGED &&
          r.index == 7);
    CHECK(sent.has_token && memcmp(sent.token, a.token, sizeof a.token) == 0 &&
          last_auth[0] == 0 && last_query[0] == 0);
    uint8_t hash[OV_HASH_LEN];
    memcpy(hash, r.hash, sizeof hash);
    ov_receipt_clear(&r);
    /* the token in the header, and ?wait=proof */
    CHECK(ov_vclient_submit(c, &a, OV_VCLIENT_TOKEN_IN_HEADER | OV_VCLIENT_WAIT_PROOF, &r,
                            &ans) == 0);
    CHECK(strncmp(last_auth, "PrivateToken token=", 19) == 0 && strcmp(last_query, "proof") == 0);
    CHECK(sent.has_token && memcmp(sent.token, a.token, sizeof a.token) == 0);
    ov_receipt_clear(&r);
    /* pending: 202 and "pending" go together */
    atomic_store(&mode, M_PENDING_202);
    CHECK(ov_vclient_submit(c, &a, 0, &r, &ans) == 0 && ans.status == 202 &&
          r.status == OV_RECEIPT_PENDING);
    ov_receipt_clear(&r);
    atomic_store(&mode, M_PENDING_200);
    CHECK(ov_vclient_submit(c, &a, 0, &r, &ans) == -OV_E_MALFORMED && r.entry.len == 0);
    ov_receipt_clear(&r);
    /* a receipt for another action is no receipt for this one */
    atomic_store(&mode, M_OTHER_ACTION);
    CHECK(ov_vclient_submit(c, &a, 0, &r, &ans) == -OV_E_BAD_PROOF && r.entry.len == 0);
    ov_receipt_clear(&r);
    /* refusals carry their reason */
    atomic_store(&mode, M_REFUSE);
    CHECK(ov_vclient_submit(c, &a, 0, &r, &ans) == -OV_E_HTTP && ans.status == 409 &&
          strcmp(ans.reason, "token_spent") == 0);
    ov_receipt_clear(&r);
    atomic_store(&mode, M_GARBAGE);
    CHECK(ov_vclient_submit(c, &a, 0, &r, &ans) == -OV_E_MALFORMED);
    ov_receipt_clear(&r);
    /* an action the verifier would refuse is not sent */
    struct ov_action bad = a;
    bad.choice[0] = '\n';
    CHECK(ov_vclient_submit(c, &bad, 0, &r, &ans) == -OV_E_MALFORMED && ans.status == 0);
    ov_receipt_clear(&r);
    /* GET /receipts: the hash asked for, else refused */
    atomic_store(&mode, M_RECEIPT);
    CHECK(ov_vclient_receipt(c, hash, false, &r, &ans) == 0 && memcmp(r.hash, hash, 32) == 0);
    ov_receipt_clear(&r);
    hash[0] ^= 1;
    CHECK(ov_vclient_receipt(c, hash, true, &r, &ans) == -OV_E_MALFORMED);
    ov_receipt_clear(&r);
    /* nobody there */
    struct ov_vclient *gone = NULL;
    CHECK(ov_vclient_new("http://127.0.0.1:1", &gone) == 0);
    CHECK(ov_vclient_submit(gone, &a, 0, &r, &ans) == -OV_E_HTTP && ans.status == 0);
    ov_receipt_clear(&r);
    ov_vclient_free(gone);

    ov_sign_key_free(k);
    ov_vclient_free(c);
    ov_http_stop(srv);
    TEST_DONE("test_verifierclient");
}
