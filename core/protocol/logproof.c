/* logproof: see logproof.h for the answers' table. */
#include "protocol/logproof.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "primitives/cbor.h"
#include "base/codec.h"
#include "protocol/entry.h"
#include "infra/httpc.h"

#define LOGPROOF_MAX_URL 2048

struct ov_logproof {
    struct ov_logreader *reader; /* checkpoints: signature and quorum */
    struct ov_httpc *http;       /* proofs */
    char url[LOGPROOF_MAX_URL];
    unsigned status;
};

/* A JSON integer member equal to want. */
static bool
num_is(json_t *o, const char *key, uint64_t want)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 &&
           (uint64_t)json_integer_value(v) == want;
}

int
ov_logproof_parse(enum ov_logproof_kind kind, struct ov_bytes body, uint64_t a, uint64_t size,
                  uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], size_t *n_proof)
{
    const char *first = kind == OV_LOGPROOF_INCLUSION ? "index" : "old";
    *n_proof = 0;
    memset(proof, 0, OV_MERKLE_MAX_PROOF * OV_HASH_LEN);
    if (body.len > OV_MAX_LOGPROOF_LEN) {
        return -OV_E_TOO_BIG;
    }
    json_t *j = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, NULL);
    json_t *p = json_object_get(j, "proof");
    int rc = json_is_object(j) && json_object_size(j) == 3 && num_is(j, first, a) &&
                     num_is(j, "size", size) && json_is_array(p)
                 ? 0
                 : -OV_E_MALFORMED;
    if (rc == 0 && json_array_size(p) > OV_MERKLE_MAX_PROOF) {
        rc = -OV_E_TOO_BIG;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(p); i++) {
        json_t *s = json_array_get(p, i);
        size_t len = 0;
        rc = json_is_string(s) ? ov_b64_decode(proof + i * OV_HASH_LEN, OV_HASH_LEN, &len,
                                               json_string_value(s), json_string_length(s),
                                               OV_B64_STD)
                               : -OV_E_MALFORMED;
        rc = rc == 0 && len == OV_HASH_LEN ? 0 : -OV_E_MALFORMED;
    }
    if (rc == 0) {
        *n_proof = json_array_size(p);
    } else {
        memset(proof, 0, OV_MERKLE_MAX_PROOF * OV_HASH_LEN);
    }
    json_decref(j);
    return rc;
}

int
ov_logproof_new(const struct ov_logreader_cfg *cfg, struct ov_logproof **out)
{
    *out = NULL;
    size_t ul = ov_httpc_base_len(cfg->url);
    if (ul == 0 || ul >= LOGPROOF_MAX_URL) {
        return -OV_E_MALFORMED;
    }
    struct ov_logproof *lp = calloc(1, sizeof *lp);
    if (lp == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(lp->url, cfg->url, ul);
    int rc = ov_logreader_new(cfg, &lp->reader);
    rc = rc ? rc : ov_httpc_new(&lp->http);
    if (rc != 0) {
        ov_logproof_free(lp);
        return rc;
    }
    *out = lp;
    return 0;
}

void
ov_logproof_free(struct ov_logproof *lp)
{
    if (lp == NULL) {
        return;
    }
    ov_logreader_free(lp->reader);
    ov_httpc_free(lp->http);
    free(lp);
}

unsigned
ov_logproof_status(const struct ov_logproof *lp)
{
    return lp->status;
}

/* GET <url>/proof/<kind>?<first>=a&size=size, parsed. */
static int
fetch_proof(struct ov_logproof *lp, enum ov_logproof_kind kind, uint64_t a, uint64_t size,
            uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], size_t *n_proof)
{
    char url[LOGPROOF_MAX_URL + 96];
    struct ov_httpc_resp resp;
    *n_proof = 0;
    lp->status = 0;
    int n = snprintf(url, sizeof url, "%s/proof/%s?%s=%llu&size=%llu", lp->url,
                     kind == OV_LOGPROOF_INCLUSION ? "inclusion" : "consistency",
                     kind == OV_LOGPROOF_INCLUSION ? "index" : "old", (unsigned long long)a,
                     (unsigned long long)size);
    if (n < 0 || (size_t)n >= sizeof url) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_httpc_get(lp->http, url, OV_MAX_LOGPROOF_LEN, &resp);
    if (rc == 0 && resp.status != 200) {
        lp->status = resp.status;
        rc = -OV_E_HTTP;
    }
    if (rc == 0) {
        rc = ov_logproof_parse(kind, ov_buf_view(&resp.body), a, size, proof, n_proof);
        rc = rc == -OV_E_TOO_BIG ? -OV_E_MALFORMED : rc;
    } else if (rc == -OV_E_TOO_BIG) {
        rc = -OV_E_MALFORMED; /* an answer longer than any proof */
    }
    ov_httpc_resp_clear(&resp);
    return rc;
}

int
ov_logproof_inclusion(struct ov_logproof *lp, const struct ov_logreader_cp *cp, uint64_t index,
                      const uint8_t leaf[OV_HASH_LEN])
{
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    size_t n = 0;
    if (index >= cp->size) {
        return -OV_E_RANGE;
    }
    int rc = fetch_proof(lp, OV_LOGPROOF_INCLUSION, index, cp->size, proof, &n);
    if (rc == 0) {
        rc = ov_merkle_verify_inclusion(index, cp->size, leaf, proof, n, cp->root);
        rc = rc == 0 || rc == -OV_E_CRYPTO ? rc : -OV_E_BAD_PROOF;
    }
    return rc;
}

int
ov_logproof_consistency(struct ov_logproof *lp, uint64_t old_size,
                        const uint8_t old_root[OV_HASH_LEN], const struct ov_logreader_cp *cp)
{
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    size_t n = 0;
    if (old_size == 0) {
        return -OV_E_RANGE;
    }
    if (old_size > cp->size) {
        return -OV_E_BAD_PROOF; /* the log shrank */
    }
    if (old_size == cp->size) {
        return sodium_memcmp(old_root, cp->root, OV_HASH_LEN) == 0 ? 0 : -OV_E_BAD_PROOF;
    }
    int rc = fetch_proof(lp, OV_LOGPROOF_CONSISTENCY, old_size, cp->size, proof, &n);
    if (rc == 0) {
        rc = ov_merkle_verify_consistency(old_size, cp->size, old_root, cp->root, proof, n);
        rc = rc == 0 || rc == -OV_E_CRYPTO ? rc : -OV_E_BAD_PROOF;
    }
    return rc;
}

int
ov_logproof_checkpoint(struct ov_logproof *lp, const struct ov_logproof_head *prev,
                       struct ov_logreader_cp *cp)
{
    lp->status = 0;
    int rc = ov_logreader_checkpoint(lp->reader, cp);
    if (rc == 0 && prev != NULL && prev->size > 0) {
        rc = ov_logproof_consistency(lp, prev->size, prev->root, cp);
        if (rc != 0) {
            ov_logreader_cp_clear(cp);
        }
    }
    return rc;
}

int
ov_logproof_context(struct ov_logproof *lp, const struct ov_logreader_cp *cp,
                    const struct ov_issuer_context *c, struct ov_buf *entry)
{
    struct ov_entry *e = calloc(1, sizeof *e);
    struct ov_buf enc;
    uint8_t leaf[OV_HASH_LEN];
    ov_buf_init(&enc, OV_MAX_ENTRY_LEN);
    int rc = e ? 0 : -OV_E_NOMEM;
    if (rc == 0) {
        e->kind = OV_ENTRY_CONTEXT;
        e->u.context = c->def;
        rc = ov_entry_encode(e, &enc);
        rc = rc == -OV_E_NOMEM ? rc : (rc != 0 ? -OV_E_MALFORMED : 0);
    }
    rc = rc ? rc : ov_merkle_leaf_hash(enc.ptr, enc.len, leaf);
    rc = rc ? rc : ov_logproof_inclusion(lp, cp, c->log_index, leaf);
    if (rc == 0 && entry != NULL) {
        *entry = enc;
        ov_buf_init(&enc, OV_MAX_ENTRY_LEN);
    }
    ov_buf_clear(&enc);
    free(e);
    return rc;
}
