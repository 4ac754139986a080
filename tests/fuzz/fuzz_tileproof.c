/* Fuzz target: proofs from tiles a log serves (core/primitives/tileproof). The tree is a
 * true one of up to 1,200 leaves (leaf i = the leaf hash of its 4-byte index), so its root
 * is known; the input picks the size (bytes 0-1), an index and an old size (bytes 2-5), and
 * how each tile fetch is answered (one byte each, then correctly): 0 as is, 1..127 one byte
 * flipped, 128..254 that many bytes short, 255 a refusal. Whatever was served: a false leaf
 * or old root is never accepted, and every outcome is 0 or a documented error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/tileproof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LEAVES 1200

static uint8_t leaves[MAX_LEAVES][OV_HASH_LEN];
static int ready;

struct feed {
    uint64_t tree;
    const uint8_t *p;
    size_t len;
};

static int
fetch(void *ctx, const struct ov_tile *t, uint8_t *out, size_t *out_len)
{
    struct feed *f = ctx;
    uint64_t per = UINT64_C(1) << (8 * t->level); /* leaves under one hash */
    size_t len = (size_t)t->width * OV_HASH_LEN;
    uint8_t how = 0;
    if (f->len > 0) {
        how = *f->p++;
        f->len--;
    }
    if (how == 255 || t->level > 1 || (t->n * 256 + t->width) * per > f->tree) {
        return -OV_E_HTTP;
    }
    for (unsigned i = 0; i < t->width; i++) {
        if (ov_merkle_root(leaves[(t->n * 256 + i) * per], per, out + i * OV_HASH_LEN) != 0) {
            abort();
        }
    }
    if (how >= 128) {
        len = how - 127u < len ? len - (how - 127u) : 0;
    } else if (how > 0) {
        out[(how * 37u) % len] ^= 1;
    }
    *out_len = len;
    return 0;
}

static int
known(int rc)
{
    return rc == 0 || rc == -OV_E_BAD_PROOF || rc == -OV_E_HTTP || rc == -OV_E_MALFORMED;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        for (uint32_t i = 0; i < MAX_LEAVES; i++) {
            uint8_t e[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
            if (ov_merkle_leaf_hash(e, sizeof e, leaves[i]) != 0) {
                abort();
            }
        }
        ready = 1;
    }
    if (size < 6) {
        return 0;
    }
    struct feed f = { (uint64_t)((data[0] << 8 | data[1]) % MAX_LEAVES) + 1, data + 6, size - 6 };
    uint64_t index = (uint64_t)(data[2] << 8 | data[3]) % f.tree;
    uint64_t old = (uint64_t)(data[4] << 8 | data[5]) % f.tree + 1;
    uint8_t root[OV_HASH_LEN], old_root[OV_HASH_LEN], other[OV_HASH_LEN];
    struct ov_tileproof *tp = NULL;
    if (ov_merkle_root(leaves[0], f.tree, root) != 0 ||
        ov_merkle_root(leaves[0], old, old_root) != 0 ||
        ov_tileproof_new(fetch, &f, 0, 0, &tp) != 0) {
        abort();
    }
    ov_tileproof_set_tree(tp, f.tree, root);
    memcpy(other, leaves[index], OV_HASH_LEN);
    other[0] ^= 1;
    if (ov_tileproof_inclusion(tp, index, other) == 0 ||
        !known(ov_tileproof_inclusion(tp, index, leaves[index]))) {
        abort();
    }
    memcpy(other, old_root, OV_HASH_LEN);
    other[31] ^= 0x80;
    if (ov_tileproof_consistency(tp, old, other) == 0 ||
        !known(ov_tileproof_consistency(tp, old, old_root))) {
        abort();
    }
    ov_tileproof_free(tp);
    return 0;
}
