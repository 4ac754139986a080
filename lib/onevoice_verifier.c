/* libonevoice: the verifier client and receipts (core/protocol/verifierclient, core/protocol/receipt). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "lib_int.h"
#include "protocol/receipt.h"
#include "protocol/verifierclient.h"

struct onevoice_verifier {
    struct ov_vclient *c;
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
    if (rc != 0) {
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
