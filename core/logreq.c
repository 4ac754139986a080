#include "logreq.h"

#include <string.h>

#include <sodium.h>

#include "cbor.h"
#include "clock.h"
#include "codec.h"

const struct ov_cbor_limits ov_logreq_limits = { OV_LOG_MAX_REQUEST_LEN, OV_LOG_MAX_BATCH + 16 };

int
ov_logreq_build(const struct ov_sign_key *key, const char *producer,
                const struct ov_bytes *entries, size_t n, bool wait_checkpoint,
                struct ov_buf *body, char sig_b64[96])
{
    uint8_t nonce[OV_LOG_NONCE_LEN], sig[OV_SIGN_SIG_LEN];
    ov_buf_init(body, OV_LOG_MAX_REQUEST_LEN);
    sig_b64[0] = 0;
    if (n == 0 || n > OV_LOG_MAX_BATCH) {
        return -OV_E_RANGE;
    }
    randombytes_buf(nonce, sizeof nonce);
    cbor_item_t *m = ov_cbor_map_new();
    cbor_item_t *arr = ov_cbor_array_new();
    int rc = (m && arr) ? 0 : -OV_E_NOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = entries[i].len == 0 || entries[i].len > OV_LOG_MAX_ENTRY_LEN
                 ? -OV_E_TOO_BIG
                 : ov_cbor_push(arr, ov_cbor_bytes(entries[i].ptr, entries[i].len));
    }
    if (rc == 0) {
        rc = ov_cbor_put(m, "entries", arr);
        arr = NULL;
    }
    if (rc == 0) {
        rc = ov_cbor_put_bytes(m, "nonce", nonce, sizeof nonce);
    }
    if (rc == 0) {
        rc = ov_cbor_put_text(m, "producer", producer);
    }
    if (rc == 0) {
        rc = ov_cbor_put_uint(m, "time", ov_now_ms());
    }
    if (rc == 0) {
        rc = ov_cbor_put_text(m, "wait", wait_checkpoint ? "checkpoint" : "durable");
    }
    if (rc == 0) {
        rc = ov_cbor_encode_limits(m, &ov_logreq_limits, body);
    }
    if (rc == 0) {
        rc = ov_sign(key, OV_SIGN_LOG_APPEND, body->ptr, body->len, sig);
    }
    if (rc == 0) {
        rc = ov_b64_encode(sig_b64, 96, sig, sizeof sig, OV_B64_STD);
    }
    ov_cbor_free(arr);
    ov_cbor_free(m);
    if (rc != 0) {
        ov_buf_clear(body);
        sig_b64[0] = 0;
    }
    return rc;
}

static const char *const keys[] = { "entries", "nonce", "producer", "time", "wait" };

int
ov_logreq_parse(struct ov_bytes body, struct ov_logreq *req)
{
    const cbor_item_t *arr = NULL;
    struct ov_bytes wait;
    size_t n = 0;
    req->n = 0;
    req->tree = NULL;
    if (body.len > OV_LOG_MAX_REQUEST_LEN) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_cbor_decode_limits(body, &ov_logreq_limits, &req->tree);
    if (rc == 0 && !cbor_isa_map(req->tree)) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        rc = ov_cbor_only_keys(req->tree, keys, sizeof keys / sizeof keys[0]);
    }
    if (rc == 0) {
        rc = ov_cbor_get_array(req->tree, "entries", OV_LOG_MAX_BATCH, &arr, &n);
    }
    if (rc == 0 && n == 0) {
        rc = -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = ov_cbor_as_bytes(ov_cbor_at(arr, i), 1, OV_LOG_MAX_ENTRY_LEN, &req->entries[i]);
    }
    if (rc == 0) {
        rc = ov_cbor_get_fixed(req->tree, "nonce", req->nonce, OV_LOG_NONCE_LEN);
    }
    if (rc == 0) {
        rc = ov_cbor_get_text(req->tree, "producer", 64, &req->producer);
    }
    if (rc == 0) {
        rc = ov_cbor_get_uint(req->tree, "time", UINT64_MAX, &req->time_ms);
    }
    if (rc == 0) {
        rc = ov_cbor_get_text(req->tree, "wait", 16, &wait);
    }
    if (rc == 0) {
        req->wait_checkpoint = ov_cbor_text_eq(wait, "checkpoint");
        if (!req->wait_checkpoint && !ov_cbor_text_eq(wait, "durable")) {
            rc = -OV_E_MALFORMED;
        }
    }
    if (rc == 0) {
        req->n = n;
    }
    return rc;
}

void
ov_logreq_clear(struct ov_logreq *req)
{
    ov_cbor_free(req->tree);
    req->tree = NULL;
    req->n = 0;
}

int
ov_logreq_verify(const uint8_t pk[OV_SIGN_PK_LEN], struct ov_bytes body, const char *sig_b64)
{
    uint8_t sig[OV_SIGN_SIG_LEN];
    size_t n = 0;
    if (sig_b64 == NULL ||
        ov_b64_decode(sig, sizeof sig, &n, sig_b64, strlen(sig_b64), OV_B64_STD) != 0 ||
        n != sizeof sig) {
        return -OV_E_BAD_SIG;
    }
    return ov_sign_verify(pk, OV_SIGN_LOG_APPEND, body.ptr, body.len, sig) == 0 ? 0
                                                                                : -OV_E_BAD_SIG;
}
