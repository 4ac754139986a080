/* tree: the log's Merkle tree as the rules read it, entry by entry, so that a tally can be
 * checked against the log's root at the size it counts (a statement round's seed,
 * docs/PROTOCOL.md §11.3), whatever that size. The tree is built again from the entries (RFC
 * 9162, core/primitives/merkle); the reader checks the same tree against the signed root.
 *
 * Kept in the state: every perfect subtree of 256 leaves or more (tree_nodes, about one row
 * per 128 entries) and the leaf hashes of each block of 256 (tree_leaves, one row per
 * block), so the root at any size costs at most 8 + 56 lookups and one block's hashing. A
 * state made before this module has no leaves of what it read: its tree is unknown and
 * seeds are not checked (audit_tree_root says so). */
#ifndef AUDIT_TREE_H
#define AUDIT_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "infra/db.h"
#include "primitives/merkle.h"

#define AUDIT_TREE_BLOCK 256 /* leaves per stored block; its subtree is level 8 */

struct audit_tree {
    struct ov_db *db;
    bool known; /* false: entries read before this module are missing */
    struct ov_merkle_builder b;
    uint64_t blk_no;                            /* the current block: size / 256 */
    uint8_t blk[AUDIT_TREE_BLOCK][OV_HASH_LEN]; /* its leaf hashes so far */
};

/* Loads the tree the state holds (db borrowed). -OV_E_DB, -OV_E_MALFORMED. */
OV_MUST_CHECK int audit_tree_load(struct audit_tree *t, struct ov_db *db);
/* Appends entry `index` (its bytes); an index that is not the next one leaves the tree
 * unknown. -OV_E_DB, -OV_E_CRYPTO. */
OV_MUST_CHECK int audit_tree_append(struct audit_tree *t, uint64_t index, struct ov_bytes entry);
/* Writes what a later run needs (the current block and the size), in the caller's
 * transaction. */
OV_MUST_CHECK int audit_tree_save(struct audit_tree *t);
/* MTH of entries [0, size): -OV_E_NOT_FOUND when the tree is unknown or smaller than size. */
OV_MUST_CHECK int audit_tree_root(struct audit_tree *t, uint64_t size, uint8_t out[OV_HASH_LEN]);

#endif
