/* treewin: a window over the right end of a Merkle tree (RFC 9162), enough to prove the
 * inclusion of any leaf in the window at any tree size the window reaches, without the
 * tree's left part. The verifier keeps one over the log it follows, so it can hand out
 * inclusion proofs for the entries it just appended without asking the log for each.
 *
 * Contents for a window [base, size): the frontier of base (the popcount(base) perfect
 * subtrees that make up [0, base), as core/logreader's state and merkle.h's builder hold
 * them) and every perfect subtree completed by the leaves base..size-1 (each leaf, and each
 * node whose last leaf lies in the window, straddling base or not): about 64 bytes a leaf.
 *
 * Why that suffices: for an index i >= base, each sibling on PATH(i, n) (n <= size) is
 * either a perfect subtree ending at or after base (completed inside the window) or one
 * lying wholly below base; the latter is the left half of an ancestor of i that contains
 * base, which is exactly the frontier subtree of base at that level. Right-edge ranges that
 * are not perfect are combined by merkle.h from perfect ones.
 *
 * Not thread-safe: the owner serialises appends and proofs (a reader-writer lock). */
#ifndef OV_TREEWIN_H
#define OV_TREEWIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "primitives/merkle.h"

struct ov_treewin;

/* A window starting at tree size base, whose frontier is given as popcount(base) hashes
 * (32 bytes each, concatenated), lowest set bit of base first. max_leaves caps the window
 * (appending past it fails with -OV_E_TOO_BIG; ov_treewin_advance makes room).
 * -OV_E_MALFORMED (n_frontier != popcount(base)), -OV_E_NOMEM. The caller owns *out. */
OV_MUST_CHECK int ov_treewin_new(uint64_t base, const uint8_t *frontier, size_t n_frontier,
                                 uint64_t max_leaves, struct ov_treewin **out);
/* Accepts NULL. */
void ov_treewin_free(struct ov_treewin *w);

uint64_t ov_treewin_base(const struct ov_treewin *w);
/* The tree size the window reaches: base plus the leaves appended. */
uint64_t ov_treewin_size(const struct ov_treewin *w);

/* Appends the leaf hash at index ov_treewin_size(w). -OV_E_TOO_BIG past max_leaves,
 * -OV_E_NOMEM, -OV_E_CRYPTO; the window is unchanged on failure. */
OV_MUST_CHECK int ov_treewin_append(struct ov_treewin *w, const uint8_t leaf[OV_HASH_LEN]);

/* The leaf hash at index (base <= index < size), else -OV_E_RANGE. */
OV_MUST_CHECK int ov_treewin_leaf(const struct ov_treewin *w, uint64_t index,
                                  uint8_t out[OV_HASH_LEN]);

/* MTH of the first `size` leaves, base <= size <= ov_treewin_size(w), else -OV_E_RANGE. */
OV_MUST_CHECK int ov_treewin_root(const struct ov_treewin *w, uint64_t size,
                                  uint8_t out[OV_HASH_LEN]);

/* PATH(index, D[0:size]) (RFC 9162 §2.1.3.1) for base <= index < size <= the window's
 * size, into proof (room for proof_max hashes), *n_proof hashes. -OV_E_RANGE otherwise,
 * -OV_E_TOO_BIG, -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_treewin_proof(const struct ov_treewin *w, uint64_t index, uint64_t size,
                                   uint8_t *proof, size_t proof_max, size_t *n_proof);

/* Forgets the leaves below new_base (base <= new_base <= size, else -OV_E_RANGE), keeping
 * the frontier of new_base. O(size - new_base) hashes. -OV_E_NOMEM, -OV_E_CRYPTO; the
 * window is unchanged on failure. */
OV_MUST_CHECK int ov_treewin_advance(struct ov_treewin *w, uint64_t new_base);

#endif
