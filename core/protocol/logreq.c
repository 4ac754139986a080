#include "protocol/logreq.h"

#include <string.h>

#include <sodium.h>

#include "primitives/cbor.h"
#include "base/clock.h"
#include "base/codec.h"

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
    /* written by hand, in the profile's key order (shorter keys first): no tree of up to
     * 4 MB to build and copy; the check at the end proves the bytes canonical */
    int rc = ov_cbor_write_head(body, OV_CBOR_MAP, 5);
    rc = rc ? rc : ov_cbor_write_text(body, "time");
    rc = rc ? rc : ov_cbor_write_head(body, OV_CBOR_UINT, ov_now_ms());
    rc = rc ? rc : ov_cbor_write_text(body, "wait");
    rc = rc ? rc : ov_cbor_write_text(body, wait_checkpoint ? "checkpoint" : "durable");
    rc = rc ? rc : ov_cbor_write_text(body, "nonce");
    rc = rc ? rc : ov_cbor_write_bytes(body, nonce, sizeof nonce);
    rc = rc ? rc : ov_cbor_write_text(body, "entries");
    rc = rc ? rc : ov_cbor_write_head(body, OV_CBOR_ARRAY, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = entries[i].len == 0 || entries[i].len > OV_MAX_ENTRY_LEN
                 ? -OV_E_TOO_BIG
                 : ov_cbor_write_bytes(body, entries[i].ptr, entries[i].len);
    }
    rc = rc ? rc : ov_cbor_write_text(body, "producer");
    rc = rc ? rc : ov_cbor_write_text(body, producer);
    rc = rc ? rc : ov_cbor_check_limits(ov_buf_view(body), &ov_logreq_limits);
    if (rc == 0) {
        rc = ov_sign(key, OV_SIGN_LOG_APPEND, body->ptr, body->len, sig);
    }
    if (rc == 0) {
        rc = ov_b64_encode(sig_b64, 96, sig, sizeof sig, OV_B64_STD);
    }
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
    struct ov_bytes arr, elems, v, wait;
    size_t n = 0;
    req->n = 0;
    if (body.len > OV_LOG_MAX_REQUEST_LEN) {
        return -OV_E_TOO_BIG;
    }
    /* checked whole first, then read in place: no tree of a 4 MB request */
    int rc = ov_cbor_check_limits(body, &ov_logreq_limits);
    if (rc == 0) {
        rc = ov_cbor_view_only_keys(body, keys, sizeof keys / sizeof keys[0]);
    }
    if (rc == 0) {
        rc = ov_cbor_view_get(body, "entries", &arr);
    }
    if (rc == 0) {
        rc = ov_cbor_view_array(arr, OV_LOG_MAX_BATCH, &n, &elems);
    }
    if (rc == 0 && n == 0) {
        rc = -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = ov_cbor_view_next(&elems, &v);
        rc = rc ? rc : ov_cbor_view_bytes(v, 1, OV_MAX_ENTRY_LEN, &req->entries[i]);
    }
    if (rc == 0) {
        rc = ov_cbor_view_get(body, "nonce", &v);
        rc = rc ? rc : ov_cbor_view_fixed(v, req->nonce, OV_LOG_NONCE_LEN);
    }
    if (rc == 0) {
        rc = ov_cbor_view_get(body, "producer", &v);
        rc = rc ? rc : ov_cbor_view_text(v, 64, &req->producer);
    }
    if (rc == 0) {
        rc = ov_cbor_view_get(body, "time", &v);
        rc = rc ? rc : ov_cbor_view_uint(v, UINT64_MAX, &req->time_ms);
    }
    if (rc == 0) {
        rc = ov_cbor_view_get(body, "wait", &v);
        rc = rc ? rc : ov_cbor_view_text(v, 16, &wait);
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
