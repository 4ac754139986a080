#include "logclient.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "logreq.h"
#include "httpc.h"

#define OV_LOGCLIENT_MAX_URL 1024
#define OV_LOGCLIENT_RESP_MAX (OV_LOG_MAX_BATCH * 4096u)

struct ov_logclient {
    char url[OV_LOGCLIENT_MAX_URL];
    char producer[65];
    const struct ov_sign_key *key;
    struct ov_httpc *http;
};

int
ov_logclient_new(const char *base_url, const char *producer, const struct ov_sign_key *key,
                 struct ov_logclient **out)
{
    *out = NULL;
    size_t ul = ov_httpc_base_len(base_url);
    if (ul + sizeof "/add" > OV_LOGCLIENT_MAX_URL || strlen(producer) > 64) {
        return -OV_E_TOO_BIG;
    }
    struct ov_logclient *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(c->url, base_url, ul);
    memcpy(c->url + ul, "/add", sizeof "/add");
    strcpy(c->producer, producer);
    c->key = key;
    int rc = ov_httpc_new(&c->http);
    if (rc != 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void
ov_logclient_free(struct ov_logclient *c)
{
    if (c != NULL) {
        ov_httpc_free(c->http);
        free(c);
    }
}

void
ov_log_ack_clear(struct ov_log_ack *ack)
{
    free(ack->indices);
    free(ack->hashes);
    free(ack->proofs);
    free(ack->n_proof);
    ov_buf_clear(&ack->checkpoint);
    memset(ack, 0, sizeof *ack);
}

static int
b64_hash(json_t *j, uint8_t out[OV_HASH_LEN])
{
    const char *s = json_string_value(j);
    size_t n = 0;
    if (s == NULL || ov_b64_decode(out, OV_HASH_LEN, &n, s, strlen(s), OV_B64_STD) != 0 ||
        n != OV_HASH_LEN) {
        return -OV_E_MALFORMED;
    }
    return 0;
}

static int
parse_ack(json_t *root, const struct ov_bytes *entries, size_t n, bool wait_checkpoint,
          struct ov_log_ack *ack)
{
    json_t *arr = json_object_get(root, "entries");
    json_t *size = json_object_get(root, "size");
    if (!json_is_array(arr) || json_array_size(arr) != n || !json_is_integer(size)) {
        return -OV_E_MALFORMED;
    }
    ack->size = (uint64_t)json_integer_value(size);
    ack->indices = calloc(n, sizeof *ack->indices);
    ack->hashes = calloc(n, sizeof *ack->hashes);
    if (ack->indices == NULL || ack->hashes == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i), *idx = json_object_get(e, "index");
        uint8_t want[OV_HASH_LEN];
        if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
            b64_hash(json_object_get(e, "hash"), ack->hashes[i]) != 0 ||
            ov_merkle_leaf_hash(entries[i].ptr, entries[i].len, want) != 0 ||
            memcmp(want, ack->hashes[i], OV_HASH_LEN) != 0) {
            return -OV_E_MALFORMED;
        }
        ack->indices[i] = (uint64_t)json_integer_value(idx);
    }
    if (!wait_checkpoint) {
        return 0;
    }
    const char *cp = json_string_value(json_object_get(root, "checkpoint"));
    json_t *cps = json_object_get(root, "checkpoint_size");
    json_t *proofs = json_object_get(root, "proofs");
    if (cp == NULL || !json_is_integer(cps) || !json_is_array(proofs) ||
        json_array_size(proofs) != n) {
        return -OV_E_MALFORMED;
    }
    ack->checkpoint_size = (uint64_t)json_integer_value(cps);
    ov_buf_init(&ack->checkpoint, 1 << 16);
    int rc = ov_buf_append_str(&ack->checkpoint, cp);
    ack->n_proof = calloc(n, sizeof *ack->n_proof);
    ack->proofs = calloc(n * OV_MERKLE_MAX_PROOF, OV_HASH_LEN);
    if (rc == 0 && (ack->n_proof == NULL || ack->proofs == NULL)) {
        rc = -OV_E_NOMEM;
    }
    size_t off = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *p = json_array_get(proofs, i);
        size_t k = json_array_size(p);
        if (!json_is_array(p) || k > OV_MERKLE_MAX_PROOF) {
            return -OV_E_MALFORMED;
        }
        for (size_t j = 0; j < k && rc == 0; j++) {
            rc = b64_hash(json_array_get(p, j), ack->proofs + (off + j) * OV_HASH_LEN);
        }
        ack->n_proof[i] = k;
        off += k;
    }
    return rc;
}

int
ov_logclient_append(struct ov_logclient *c, const struct ov_bytes *entries, size_t n,
                    bool wait_checkpoint, struct ov_log_ack *ack)
{
    struct ov_buf body;
    char sig[96], header[128];
    struct ov_httpc_resp resp;
    memset(ack, 0, sizeof *ack);
    memset(&resp, 0, sizeof resp);
    int rc = ov_logreq_build(c->key, c->producer, entries, n, wait_checkpoint, &body, sig);
    if (rc != 0) {
        return rc;
    }
    char producer[128];
    snprintf(header, sizeof header, "%s: %s", OV_LOG_SIG_HEADER, sig);
    snprintf(producer, sizeof producer, "%s: %s", OV_LOG_PRODUCER_HEADER, c->producer);
    const char *headers[2] = { header, producer };
    struct ov_httpc_req rq = {
        .method = "POST",
        .url = c->url,
        .content_type = "application/cbor",
        .body = ov_buf_view(&body),
        .headers = headers,
        .n_headers = 2,
        .timeout_ms = 60000,
        .resp_max = OV_LOGCLIENT_RESP_MAX,
    };
    rc = ov_httpc_do(c->http, &rq, &resp);
    ov_buf_clear(&body);
    if (rc != 0) {
        return -OV_E_HTTP;
    }
    ack->status = resp.status;
    json_error_t e;
    json_t *root = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, &e);
    if (resp.status != 200) {
        const char *reason = json_string_value(json_object_get(root, "error"));
        snprintf(ack->reason, sizeof ack->reason, "%s", reason ? reason : "unknown");
        rc = -OV_E_HTTP;
    } else if (root == NULL) {
        rc = -OV_E_MALFORMED;
    } else {
        rc = parse_ack(root, entries, n, wait_checkpoint, ack);
    }
    json_decref(root);
    ov_httpc_resp_clear(&resp);
    if (rc != 0) {
        unsigned status = ack->status;
        char reason[64];
        memcpy(reason, ack->reason, sizeof reason);
        ov_log_ack_clear(ack);
        ack->status = status;
        memcpy(ack->reason, reason, sizeof reason);
    }
    return rc;
}
