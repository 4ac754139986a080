/* merkle: RFC 9162 §2.1 (= RFC 6962 §2.1) Merkle tree hashing over SHA-256, proof
 * generation and verification, and an append-only tree builder.
 *
 * Owns: the leaf/node hash framing (0x00 ‖ entry, 0x01 ‖ left ‖ right), the shape of the
 * tree (split at the largest power of two strictly below n), the audit-path and
 * consistency-proof algorithms, and one SHA-256 context per thread (freed at thread exit).
 *
 * Vocabulary. The tree over leaves D[0:n] is left-complete: the "perfect subtree" at
 * (level, index) covers the leaves [index·2^level, (index+1)·2^level) and its hash never
 * changes once the tree holds all of them. Every hash a proof needs is either such a
 * perfect subtree or, at most once per proof, a right-edge subtree that is combined from
 * at most 64 of them. Proof generation therefore asks a hash source (ov_merkle_src) for
 * O(log n) perfect-subtree hashes and never needs the tree in memory.
 *
 * Sizes and indices are uint64_t everywhere; no function wraps around. Lists of hashes
 * (proofs, tiles) are flat byte arrays: hash i is at offset 32·i; counts are in hashes. */
#ifndef OV_MERKLE_H
#define OV_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define OV_HASH_LEN 32
/* Longest proof for a 64-bit tree: an audit path has at most 64 hashes; a consistency
 * proof at most 65 (one per level plus the old subtree's own hash, reached only for
 * trees of more than 2^63 leaves). */
#define OV_MERKLE_MAX_PROOF 65
/* Levels of perfect subtrees that can exist below a 64-bit size: 0..63. */
#define OV_MERKLE_LEVELS 64

/* SHA-256("") = MTH of the empty tree (RFC 9162 §2.1.1): never 32 zero bytes. */
extern const uint8_t ov_merkle_empty_root[OV_HASH_LEN];

/* Plain SHA-256 on this thread's reusable digest context: without the per-call algorithm
 * fetch and context allocation of EVP_Digest(..., EVP_sha256(), ...). -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_sha256(const uint8_t *p, size_t len, uint8_t out[OV_HASH_LEN]);
/* out = SHA-256(0x00 ‖ entry[0:len]). -OV_E_CRYPTO if OpenSSL fails (out zeroed). */
OV_MUST_CHECK int ov_merkle_leaf_hash(const uint8_t *entry, size_t len, uint8_t out[OV_HASH_LEN]);
/* out = SHA-256(0x01 ‖ left ‖ right); out may alias left or right. -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_merkle_node_hash(const uint8_t left[OV_HASH_LEN],
                                      const uint8_t right[OV_HASH_LEN], uint8_t out[OV_HASH_LEN]);
/* MTH of the n consecutive leaf hashes at hashes (32·n bytes; n == 0 gives the empty
 * root). When they are the 2^h hashes of perfect subtrees at some level, this is the
 * subtree h levels above them. O(n) hashes, O(log n) memory. -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_merkle_root(const uint8_t *hashes, uint64_t n, uint8_t out[OV_HASH_LEN]);

/* A hash source: writes the hash of the perfect subtree at (level, index) into out.
 * Proof functions only ask for subtrees that lie inside the tree size they were given.
 * Returns 0 or a negative ov_err (e.g. -OV_E_NOT_FOUND, -OV_E_IO), which is passed on. */
typedef int (*ov_merkle_hash_fn)(void *ctx, unsigned level, uint64_t index,
                                 uint8_t out[OV_HASH_LEN]);
struct ov_merkle_src {
    ov_merkle_hash_fn get;
    void *ctx;
};

/* MTH(D[0:size]) from popcount(size) lookups. */
OV_MUST_CHECK int ov_merkle_root_from(const struct ov_merkle_src *src, uint64_t size,
                                      uint8_t out[OV_HASH_LEN]);
/* PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf's sibling first, into proof (room
 * for proof_max hashes), *n_proof hashes. At most 2·64 lookups. -OV_E_RANGE if index >= size,
 * -OV_E_TOO_BIG if proof_max is too small, or the source's error; on failure *n_proof = 0.
 * The caller owns proof. */
OV_MUST_CHECK int ov_merkle_inclusion_proof(const struct ov_merkle_src *src, uint64_t index,
                                            uint64_t size, uint8_t *proof, size_t proof_max,
                                            size_t *n_proof);
/* PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1), deepest node first. Empty when
 * old_size == new_size. -OV_E_RANGE if old_size == 0 or old_size > new_size (there is no
 * proof from the empty tree: callers such as a witness handle old size 0 themselves),
 * -OV_E_TOO_BIG, or the source's error; on failure *n_proof = 0. */
OV_MUST_CHECK int ov_merkle_consistency_proof(const struct ov_merkle_src *src, uint64_t old_size,
                                              uint64_t new_size, uint8_t *proof, size_t proof_max,
                                              size_t *n_proof);

/* The root that an audit path leads to (RFC 9162 §2.1.3.2 without the final compare).
 * -OV_E_RANGE if index >= size, -OV_E_BAD_PROOF if the path has the wrong length for
 * (index, size), -OV_E_CRYPTO. out is zeroed on failure. */
OV_MUST_CHECK int ov_merkle_inclusion_root(uint64_t index, uint64_t size,
                                           const uint8_t leaf[OV_HASH_LEN], const uint8_t *proof,
                                           size_t n_proof, uint8_t out[OV_HASH_LEN]);
/* 0 iff proof shows leaf at index in the tree of that size and root. -OV_E_RANGE,
 * -OV_E_BAD_PROOF (wrong length or wrong root), -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_merkle_verify_inclusion(uint64_t index, uint64_t size,
                                             const uint8_t leaf[OV_HASH_LEN], const uint8_t *proof,
                                             size_t n_proof, const uint8_t root[OV_HASH_LEN]);
/* 0 iff proof shows the tree (old_size, old_root) is a prefix of (new_size, new_root)
 * (RFC 9162 §2.1.4.2). old_size == new_size needs an empty proof and equal roots.
 * -OV_E_RANGE if old_size == 0 or old_size > new_size (as transparency-dev/merkle does:
 * a witness treats old size 0 as consistent with any tree, with an empty proof, before
 * calling this), -OV_E_BAD_PROOF, -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                               const uint8_t old_root[OV_HASH_LEN],
                                               const uint8_t new_root[OV_HASH_LEN],
                                               const uint8_t *proof, size_t n_proof);

/* Called by the builder for every perfect subtree the moment it becomes final: the leaf
 * itself (level 0), then each node it completes, lowest level first. A non-zero return
 * aborts the append (see ov_merkle_builder_append). */
typedef int (*ov_merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
                                 const uint8_t hash[OV_HASH_LEN]);

/* The right frontier of a tree (a "compact range" [0, size)): the hash of the perfect
 * subtree for every set bit of size. 2 KiB, no heap: keep it anywhere. The fields are
 * private to merkle.c. */
struct ov_merkle_builder {
    uint64_t size;
    uint8_t frontier[OV_MERKLE_LEVELS][OV_HASH_LEN]; /* [j] valid iff bit j of size is set */
    ov_merkle_node_fn on_node;                       /* may be NULL */
    void *ctx;
};

/* An empty tree. on_node may be NULL. */
void ov_merkle_builder_init(struct ov_merkle_builder *b, ov_merkle_node_fn on_node, void *ctx);
/* Resumes at size, reading the popcount(size) frontier hashes from src (e.g. after a
 * restart). Keeps on_node. On failure the builder is empty (size 0). */
OV_MUST_CHECK int ov_merkle_builder_load(struct ov_merkle_builder *b, uint64_t size,
                                         const struct ov_merkle_src *src);
/* Appends one leaf hash: about one node hash per leaf on average. -OV_E_RANGE at size
 * 2^64-1, -OV_E_CRYPTO, or on_node's error. On failure the leaf is not appended (some
 * on_node calls for it may already have run; appending it again repeats them). */
OV_MUST_CHECK int ov_merkle_builder_append(struct ov_merkle_builder *b,
                                           const uint8_t leaf[OV_HASH_LEN]);
/* MTH of the leaves appended so far (popcount(size) - 1 hashes). -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_merkle_builder_root(const struct ov_merkle_builder *b,
                                         uint8_t out[OV_HASH_LEN]);
static inline uint64_t
ov_merkle_builder_size(const struct ov_merkle_builder *b)
{
    return b->size;
}

#endif
