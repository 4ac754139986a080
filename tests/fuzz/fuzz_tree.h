/* fuzz_tree.h: a fixed honest tree for the proof fuzz targets, built once per process:
 * leaf i (i < FUZZ_TREE_MAX) is the leaf hash of i as a 4-byte big-endian integer, and
 * every perfect subtree is kept, so proofs for any size up to FUZZ_TREE_MAX are cheap.
 * tests/fuzz/seed_merkle.py computes the same tree to write honest seeds. */
#ifndef OV_FUZZ_TREE_H
#define OV_FUZZ_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/merkle.h"

#define FUZZ_TREE_MAX 1024
#define FUZZ_TREE_LEVELS 11 /* 2^10 = FUZZ_TREE_MAX */

static uint8_t ft_nodes[FUZZ_TREE_LEVELS][FUZZ_TREE_MAX][OV_HASH_LEN];
static bool ft_ready;

static int
ft_record(void *ctx, unsigned level, uint64_t index, const uint8_t hash[OV_HASH_LEN])
{
    (void)ctx;
    memcpy(ft_nodes[level][index], hash, OV_HASH_LEN);
    return 0;
}

/* ov_merkle_hash_fn with ctx = const uint64_t *limit: refuses anything past the size. */
static int
ft_get(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    uint64_t limit = *(const uint64_t *)ctx;
    if (level >= FUZZ_TREE_LEVELS || index >= (limit >> level)) {
        abort(); /* proof generation asked for a subtree outside the tree */
    }
    memcpy(out, ft_nodes[level][index], OV_HASH_LEN);
    return 0;
}

static void
ft_init(void)
{
    struct ov_merkle_builder b;
    if (ft_ready) {
        return;
    }
    ov_merkle_builder_init(&b, ft_record, NULL);
    for (uint32_t i = 0; i < FUZZ_TREE_MAX; i++) {
        uint8_t be[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
        uint8_t h[OV_HASH_LEN];
        if (ov_merkle_leaf_hash(be, sizeof be, h) != 0 || ov_merkle_builder_append(&b, h) != 0) {
            abort();
        }
    }
    ft_ready = true;
}

static uint64_t
ft_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* The input of both proof targets: a u64be ‖ b u64be ‖ h1[32] ‖ h2[32] ‖ proof[32]·nq.
 * false if it is shorter or the proof is not whole hashes. */
struct ft_input {
    uint64_t a, b;
    const uint8_t *h1, *h2, *proof;
    size_t n_proof;
};

static bool
ft_split(const uint8_t *data, size_t size, struct ft_input *in)
{
    const size_t head = 16 + 2 * OV_HASH_LEN;
    if (size < head || (size - head) % OV_HASH_LEN != 0) {
        return false;
    }
    in->a = ft_be64(data);
    in->b = ft_be64(data + 8);
    in->h1 = data + 16;
    in->h2 = data + 16 + OV_HASH_LEN;
    in->proof = data + head;
    in->n_proof = (size - head) / OV_HASH_LEN;
    return true;
}

#endif
