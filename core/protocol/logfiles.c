#include "protocol/logfiles.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "base/clock.h"
#include "base/codec.h"
#include "primitives/cbor.h"

#define LOGFILE_URL_MAX 1024
#define LOGFILE_ANSWER_MAX 4096

int
ov_logfile_name_parse(const char *name, uint8_t sha[32])
{
    size_t n = 0;
    if (name == NULL || strlen(name) != OV_LOGFILE_HEX_LEN) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < OV_LOGFILE_HEX_LEN; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return -OV_E_MALFORMED; /* uppercase too: a file has exactly one name */
        }
    }
    int rc = ov_hex_decode(sha, 32, &n, name, OV_LOGFILE_HEX_LEN);
    return rc == 0 && n == 32 ? 0 : -OV_E_MALFORMED;
}

void
ov_logfile_name(const uint8_t sha[32], char out[OV_LOGFILE_HEX_LEN + 1])
{
    if (ov_hex_encode(out, OV_LOGFILE_HEX_LEN + 1, sha, 32) != 0) {
        out[0] = 0; /* cannot happen: the buffer fits */
    }
}

/* The signed message (logfiles.h), keys in the profile's order (shorter first). */
static int
message(const char *producer, const uint8_t sha[32], uint64_t size, uint64_t time_ms,
        struct ov_buf *m)
{
    ov_buf_init(m, 256);
    if (producer == NULL || strlen(producer) == 0 || strlen(producer) > 64) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_cbor_write_head(m, OV_CBOR_MAP, 4);
    rc = rc ? rc : ov_cbor_write_text(m, "size");
    rc = rc ? rc : ov_cbor_write_head(m, OV_CBOR_UINT, size);
    rc = rc ? rc : ov_cbor_write_text(m, "time");
    rc = rc ? rc : ov_cbor_write_head(m, OV_CBOR_UINT, time_ms);
    rc = rc ? rc : ov_cbor_write_text(m, "sha256");
    rc = rc ? rc : ov_cbor_write_bytes(m, sha, 32);
    rc = rc ? rc : ov_cbor_write_text(m, "producer");
    rc = rc ? rc : ov_cbor_write_text(m, producer);
    return rc;
}

int
ov_logfile_sign(const struct ov_sign_key *key, const char *producer, const uint8_t sha[32],
                uint64_t size, uint64_t time_ms, char sig_b64[96])
{
    struct ov_buf m;
    uint8_t sig[OV_SIGN_SIG_LEN];
    sig_b64[0] = 0;
    int rc = message(producer, sha, size, time_ms, &m);
    rc = rc ? rc : ov_sign(key, OV_SIGN_LOG_FILE, m.ptr, m.len, sig);
    rc = rc ? rc : ov_b64_encode(sig_b64, 96, sig, sizeof sig, OV_B64_STD);
    ov_buf_clear(&m);
    if (rc != 0) {
        sig_b64[0] = 0;
    }
    return rc;
}

int
ov_logfile_verify(const uint8_t pk[OV_SIGN_PK_LEN], const char *producer, const uint8_t sha[32],
                  uint64_t size, uint64_t time_ms, const char *sig_b64)
{
    uint8_t sig[OV_SIGN_SIG_LEN];
    size_t n = 0;
    struct ov_buf m;
    if (sig_b64 == NULL ||
        ov_b64_decode(sig, sizeof sig, &n, sig_b64, strlen(sig_b64), OV_B64_STD) != 0 ||
        n != sizeof sig) {
        return -OV_E_BAD_SIG;
    }
    int rc = message(producer, sha, size, time_ms, &m);
    rc = rc ? rc : ov_sign_verify(pk, OV_SIGN_LOG_FILE, m.ptr, m.len, sig);
    ov_buf_clear(&m);
    return rc == 0 ? 0 : -OV_E_BAD_SIG;
}

/* The log's JSON answer: its error code, or the file's hash and size. */
static int
read_answer(const struct ov_httpc_resp *resp, struct ov_logfile_ack *ack)
{
    json_error_t e;
    json_t *root = json_loadb((const char *)resp->body.ptr, resp->body.len, 0, &e);
    int rc = 0;
    if (resp->status != 200 && resp->status != 201) {
        const char *reason = json_string_value(json_object_get(root, "error"));
        snprintf(ack->reason, sizeof ack->reason, "%s", reason ? reason : "unknown");
        rc = -OV_E_HTTP;
    } else {
        const char *hex = json_string_value(json_object_get(root, "sha256"));
        json_t *size = json_object_get(root, "size");
        rc = ov_logfile_name_parse(hex, ack->sha256);
        rc = rc ? rc : (json_is_integer(size) && json_integer_value(size) >= 0 ? 0
                                                                               : -OV_E_MALFORMED);
        ack->size = rc == 0 ? (uint64_t)json_integer_value(size) : 0;
    }
    json_decref(root);
    return rc;
}

int
ov_logfile_upload(const char *base_url, const char *producer, const struct ov_sign_key *key,
                  struct ov_bytes file, struct ov_logfile_ack *ack)
{
    char url[LOGFILE_URL_MAX], sig[96], h_sig[128], h_prod[128], h_time[64];
    uint8_t sha[32];
    uint64_t now = ov_now_ms();
    struct ov_httpc *http = NULL;
    struct ov_httpc_resp resp;
    memset(ack, 0, sizeof *ack);
    memset(&resp, 0, sizeof resp);
    crypto_hash_sha256(sha, file.ptr, file.len);
    int rc = ov_logfile_sign(key, producer, sha, file.len, now, sig);
    rc = rc ? rc : ov_httpc_new_base(base_url, strlen("/files"), url, sizeof url, &http);
    if (rc != 0) {
        return rc;
    }
    strcat(url, "/files");
    snprintf(h_sig, sizeof h_sig, "Onevoice-Signature: %s", sig);
    snprintf(h_prod, sizeof h_prod, "Onevoice-Producer: %s", producer);
    snprintf(h_time, sizeof h_time, OV_LOGFILE_TIME_HEADER ": %" PRIu64, now);
    const char *headers[3] = { h_sig, h_prod, h_time };
    struct ov_httpc_req rq = {
        .method = "POST",
        .url = url,
        .content_type = "application/octet-stream",
        .body = file,
        .headers = headers,
        .n_headers = 3,
        .timeout_ms = 120000,
        .resp_max = LOGFILE_ANSWER_MAX,
    };
    rc = ov_httpc_do(http, &rq, &resp);
    ov_httpc_free(http);
    if (rc != 0) {
        return -OV_E_HTTP;
    }
    ack->status = resp.status;
    rc = read_answer(&resp, ack);
    ov_httpc_resp_clear(&resp);
    if (rc == 0 && (memcmp(ack->sha256, sha, 32) != 0 || ack->size != file.len)) {
        rc = -OV_E_MALFORMED; /* the log stored something else */
    }
    return rc;
}

int
ov_logfile_fetch(struct ov_httpc *http, const char *base_url, const uint8_t sha[32], size_t max,
                 char *url, size_t url_max, struct ov_httpc_resp *resp)
{
    char name[OV_LOGFILE_HEX_LEN + 1];
    memset(resp, 0, sizeof *resp);
    ov_logfile_name(sha, name);
    size_t base = ov_httpc_base_len(base_url);
    int n = snprintf(url, url_max, "%.*s/files/%s", (int)base, base_url, name);
    if (n < 0 || (size_t)n >= url_max) {
        return -OV_E_TOO_BIG;
    }
    return ov_httpc_get(http, url, max, resp);
}
