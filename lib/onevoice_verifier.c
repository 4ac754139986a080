/* libonevoice: the verifier client and receipts (core/verifierclient, core/receipt). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lib_int.h"
#include "receipt.h"
#include "verifierclient.h"

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
