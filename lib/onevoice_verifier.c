/* libonevoice: the verifier client, receipts and a statement round's results
 * (core/protocol/verifierclient, core/protocol/receipt, GET /tallies/<context>). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "infra/httpc.h"
#include "lib_int.h"
#include "protocol/receipt.h"
#include "protocol/verifierclient.h"

struct onevoice_verifier {
    struct ov_vclient *c;
    char *url; /* for the public GETs the client has no call for */
};

int
onevoice_verifier_new(const char *url, struct onevoice_verifier **out)
{
    struct onevoice_verifier *v = calloc(1, sizeof *v);
    *out = NULL;
    if (v == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = ov_vclient_new(url, &v->c);
    v->url = rc == 0 ? strdup(url) : NULL;
    rc = rc == 0 && v->url == NULL ? -OV_E_NOMEM : rc;
    if (rc != 0) {
        ov_vclient_free(v->c);
        free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void
onevoice_verifier_free(struct onevoice_verifier *v)
{
    if (v != NULL) {
        ov_vclient_free(v->c);
        free(v->url);
        free(v);
    }
}

/* The receipt as JSON text for the caller. */
static int
receipt_out(int rc, const struct ov_receipt *r, const struct ov_vclient_answer *va,
            char **receipt, size_t *len, struct onevoice_answer *ans)
{
    struct ov_buf json;
    *receipt = NULL;
    *len = 0;
    if (ans != NULL) {
        ans->status = va->status;
        memcpy(ans->reason, va->reason, sizeof ans->reason);
        ans->reason[sizeof ans->reason - 1] = 0;
    }
    rc = rc ? rc : ov_receipt_format(r, &json);
    if (rc == 0) {
        *receipt = strndup((const char *)json.ptr, json.len);
        *len = json.len;
        rc = *receipt ? 0 : -OV_E_NOMEM;
        ov_buf_clear(&json);
    }
    return rc;
}

int
onevoice_submit(struct onevoice_verifier *v, const struct onevoice_action *a, int wait_proof,
                char **receipt, size_t *receipt_len, struct onevoice_answer *ans)
{
    struct ov_receipt r;
    struct ov_vclient_answer va;
    unsigned flags = OV_VCLIENT_TOKEN_IN_HEADER | (wait_proof ? OV_VCLIENT_WAIT_PROOF : 0u);
    int rc = ov_vclient_submit(v->c, &a->a, flags, &r, &va);
    rc = receipt_out(rc, &r, &va, receipt, receipt_len, ans);
    ov_receipt_clear(&r);
    return rc;
}

int
onevoice_submit_batch(struct onevoice_verifier *v, const struct onevoice_action *const *a,
                      size_t n, int wait_proof, char **receipts, size_t *receipt_lens,
                      struct onevoice_answer *ans, struct onevoice_answer *batch_ans)
{
    struct ov_vclient_answer va = { 0, "" };
    memset(batch_ans, 0, sizeof *batch_ans);
    if (n == 0 || n > ONEVOICE_BATCH_MAX) {
        return -OV_E_TOO_BIG;
    }
    struct ov_action *as = malloc(n * sizeof *as);
    struct ov_batch_answer *out = malloc(n * sizeof *out);
    int rc = as != NULL && out != NULL ? 0 : -OV_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        as[i] = a[i]->a;
    }
    rc = rc ? rc : ov_vclient_submit_batch(v->c, as, n, wait_proof ? OV_VCLIENT_WAIT_PROOF : 0u,
                                           out, &va);
    batch_ans->status = va.status;
    memcpy(batch_ans->reason, va.reason, sizeof batch_ans->reason);
    batch_ans->reason[sizeof batch_ans->reason - 1] = 0;
    for (size_t i = 0; i < n; i++) {
        struct ov_vclient_answer one = { 0, "" };
        receipts[i] = NULL;
        receipt_lens[i] = 0;
        memset(&ans[i], 0, sizeof ans[i]);
        if (rc == 0) {
            one.status = out[i].status;
            memcpy(one.reason, out[i].reason, sizeof out[i].reason);
            /* a refusal only fills ans[i]; a receipt is also formatted for the caller */
            int r = receipt_out(one.reason[0] ? -OV_E_HTTP : 0, &out[i].receipt, &one,
                                &receipts[i], &receipt_lens[i], &ans[i]);
            rc = one.reason[0] ? 0 : r;
        }
    }
    if (rc != 0) {
        for (size_t i = 0; i < n; i++) {
            free(receipts[i]);
            receipts[i] = NULL;
            receipt_lens[i] = 0;
        }
    }
    if (out != NULL && as != NULL) {
        ov_actionbatch_answers_clear(out, n);
    }
    free(out);
    free(as);
    return rc;
}

int
onevoice_receipt_fetch(struct onevoice_verifier *v, const uint8_t hash[ONEVOICE_HASH_LEN],
                       int wait_proof, char **receipt, size_t *receipt_len,
                       struct onevoice_answer *ans)
{
    struct ov_receipt r;
    struct ov_vclient_answer va;
    int rc = ov_vclient_receipt(v->c, hash, wait_proof != 0, &r, &va);
    rc = receipt_out(rc, &r, &va, receipt, receipt_len, ans);
    ov_receipt_clear(&r);
    return rc;
}

int
onevoice_receipt_check(const struct onevoice_log *log, const char *json, size_t len,
                       uint8_t hash[ONEVOICE_HASH_LEN])
{
    struct ov_receipt r;
    struct ov_logreader_cfg cfg;
    lib_log_cfg(log, &cfg);
    int rc = ov_receipt_parse(OV_BYTES(json, len), &r);
    rc = rc ? rc : ov_receipt_check(&r, &cfg, NULL);
    if (rc == 0 && hash != NULL) {
        memcpy(hash, r.hash, ONEVOICE_HASH_LEN);
    }
    ov_receipt_clear(&r);
    return rc;
}

/* ---- a statement round's results (docs/PROTOCOL.md §11.3) ---- */

/* GET /tallies/<context> with every participant and statement's numbers: large. */
#define LIB_MAX_TALLY_JSON (32u << 20)

struct onevoice_results {
    bool final;
    uint64_t size;
    size_t n[3];                                          /* per enum onevoice_results_list */
    ov_statement_id_str ids[3][OV_MAX_ROUND_STATEMENTS];
    size_t k;
    uint64_t sizes[OV_TALLY_MAX_GROUPS];
};

/* The ids of the statements in `from` (objects with "id"), those whose "status" is
 * `status` (all when NULL), into list `which`. */
static int
take_ids(json_t *from, const char *status, struct onevoice_results *r,
         enum onevoice_results_list which)
{
    size_t i;
    json_t *s;
    if (!json_is_array(from) || json_array_size(from) > OV_MAX_ROUND_STATEMENTS) {
        return -OV_E_MALFORMED;
    }
    json_array_foreach(from, i, s) {
        const char *id = json_string_value(json_object_get(s, "id"));
        const char *st = json_string_value(json_object_get(s, "status"));
        if (id == NULL || ov_statement_id_check(id) != 0 || (status != NULL && st == NULL)) {
            return -OV_E_MALFORMED;
        }
        if (status == NULL || strcmp(st, status) == 0) {
            memcpy(r->ids[which][r->n[which]++], id, OV_STATEMENT_ID_LEN + 1);
        }
    }
    return 0;
}

static int
results_from(json_t *t, struct onevoice_results *r)
{
    json_t *b = json_object_get(t, "bridging"), *g = json_object_get(t, "groups");
    json_t *sizes = json_object_get(g, "sizes"), *size = json_object_get(t, "size"), *n;
    size_t i;
    if (!json_is_object(t) || !json_is_boolean(json_object_get(t, "final")) ||
        !json_is_integer(size) || json_integer_value(size) < 0) {
        return -OV_E_MALFORMED;
    }
    if (b == NULL && g == NULL) {
        return -OV_E_NOT_FOUND; /* an assembly's or a free rating round's tally */
    }
    r->final = json_is_true(json_object_get(t, "final"));
    r->size = (uint64_t)json_integer_value(size);
    int rc = take_ids(json_object_get(b, "statements"), "helpful", r, ONEVOICE_RESULTS_HELPFUL);
    rc = rc ? rc
            : take_ids(json_object_get(b, "statements"), "not_helpful", r,
                       ONEVOICE_RESULTS_NOT_HELPFUL);
    rc = rc ? rc : take_ids(json_object_get(g, "consensus"), NULL, r, ONEVOICE_RESULTS_CONSENSUS);
    if (rc == 0 && (!json_is_array(sizes) || json_array_size(sizes) > OV_TALLY_MAX_GROUPS)) {
        rc = -OV_E_MALFORMED;
    }
    json_array_foreach(rc == 0 ? sizes : NULL, i, n) {
        if (!json_is_integer(n) || json_integer_value(n) < 0) {
            return -OV_E_MALFORMED;
        }
        r->sizes[r->k++] = (uint64_t)json_integer_value(n);
    }
    return rc;
}

int
onevoice_results_parse(const char *json, size_t len, struct onevoice_results **out)
{
    struct onevoice_results *r = NULL;
    *out = NULL;
    if (len > LIB_MAX_TALLY_JSON) {
        return -OV_E_TOO_BIG;
    }
    json_t *t = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    int rc = t ? 0 : -OV_E_MALFORMED;
    if (rc == 0) {
        r = calloc(1, sizeof *r);
        rc = r ? results_from(t, r) : -OV_E_NOMEM;
    }
    json_decref(t);
    if (rc != 0) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int
onevoice_results_fetch(struct onevoice_verifier *v, const char *context,
                       struct onevoice_results **out, struct onevoice_answer *ans)
{
    struct ov_httpc *h = NULL;
    struct ov_httpc_resp resp;
    char base[2048], url[2048 + OV_MAX_CONTEXT_ID_LEN + 16];
    memset(&resp, 0, sizeof resp);
    *out = NULL;
    if (ans != NULL) {
        memset(ans, 0, sizeof *ans);
    }
    if (context == NULL || ov_context_id_check(context) != 0) {
        return -OV_E_MALFORMED;
    }
    int rc = ov_httpc_new_base(v->url, OV_MAX_CONTEXT_ID_LEN + 16, base, sizeof base, &h);
    if (rc == 0) {
        snprintf(url, sizeof url, "%s/tallies/%s", base, context);
        rc = ov_httpc_get(h, url, LIB_MAX_TALLY_JSON, &resp);
    }
    if (rc == 0 && ans != NULL) {
        ans->status = resp.status;
    }
    if (rc == 0 && resp.status != 200) {
        json_t *e = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
        const char *reason = json_string_value(json_object_get(e, "error"));
        if (ans != NULL && reason != NULL) {
            snprintf(ans->reason, sizeof ans->reason, "%s", reason);
        }
        json_decref(e);
        rc = -OV_E_HTTP;
    }
    rc = rc ? rc : onevoice_results_parse((const char *)resp.body.ptr, resp.body.len, out);
    ov_httpc_resp_clear(&resp);
    ov_httpc_free(h);
    return rc;
}

void
onevoice_results_free(struct onevoice_results *r)
{
    free(r);
}

int
onevoice_results_final(const struct onevoice_results *r)
{
    return r->final;
}

uint64_t
onevoice_results_size(const struct onevoice_results *r)
{
    return r->size;
}

size_t
onevoice_results_count(const struct onevoice_results *r, enum onevoice_results_list list)
{
    return (unsigned)list < 3 ? r->n[list] : 0;
}

const char *
onevoice_results_id(const struct onevoice_results *r, enum onevoice_results_list list, size_t i)
{
    return (unsigned)list < 3 && i < r->n[list] ? r->ids[list][i] : NULL;
}

size_t
onevoice_results_groups(const struct onevoice_results *r)
{
    return r->k;
}

uint64_t
onevoice_results_group_size(const struct onevoice_results *r, size_t i)
{
    return i < r->k ? r->sizes[i] : 0;
}
