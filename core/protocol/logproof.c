/* logproof: see logproof.h. */
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
#include "primitives/tileproof.h"

#define LOGPROOF_MAX_URL 2048

struct ov_logproof {
    struct ov_logreader *reader; /* checkpoints (signature and quorum) and tiles */
    struct ov_tileproof *tp;     /* proofs from the tiles, and the tiles kept */
    uint64_t size;               /* the tree tp proves in */
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

/* The tile fetcher of lp->tp: a tile of the tree lp->tp was last given, through the reader
 * (so a partial tile the log has since completed is read from the full one). */
static int
fetch_tile(void *ctx, const struct ov_tile *t, uint8_t *out, size_t *out_len)
{
    struct ov_logproof *lp = ctx;
    return ov_logreader_tile(lp->reader, t, lp->size, out, out_len);
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
    int rc = ov_logreader_new(cfg, &lp->reader);
    rc = rc ? rc : ov_tileproof_new(fetch_tile, lp, OV_TILEPROOF_DECOYS, OV_TILEPROOF_WINDOW,
                                    &lp->tp);
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
    ov_tileproof_free(lp->tp);
    free(lp);
}

unsigned
ov_logproof_status(const struct ov_logproof *lp)
{
    return lp->status;
}

/* lp->tp set to cp's tree. */
static void
use_tree(struct ov_logproof *lp, const struct ov_logreader_cp *cp)
{
    lp->size = cp->size;
    ov_tileproof_set_tree(lp->tp, cp->size, cp->root);
}

int
ov_logproof_inclusion(struct ov_logproof *lp, const struct ov_logreader_cp *cp, uint64_t index,
                      const uint8_t leaf[OV_HASH_LEN])
{
    if (index >= cp->size) {
        return -OV_E_RANGE;
    }
    use_tree(lp, cp);
    return ov_tileproof_inclusion(lp->tp, index, leaf);
}

int
ov_logproof_consistency(struct ov_logproof *lp, uint64_t old_size,
                        const uint8_t old_root[OV_HASH_LEN], const struct ov_logreader_cp *cp)
{
    if (old_size == 0) {
        return -OV_E_RANGE;
    }
    if (old_size > cp->size) {
        return -OV_E_BAD_PROOF; /* the log shrank */
    }
    if (old_size == cp->size) {
        return sodium_memcmp(old_root, cp->root, OV_HASH_LEN) == 0 ? 0 : -OV_E_BAD_PROOF;
    }
    use_tree(lp, cp);
    return ov_tileproof_consistency(lp->tp, old_size, old_root);
}

void
ov_logproof_stats(const struct ov_logproof *lp, uint64_t *n_tiles, uint64_t *n_bytes)
{
    ov_tileproof_stats(lp->tp, n_tiles, n_bytes);
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
