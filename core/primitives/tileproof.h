/* tileproof: RFC 9162 inclusion and consistency proofs for a tree of known size and root,
 * computed from its C2SP tlog-tiles alone (as web/merkle.js does in the browser), so that a
 * client asks the log only for what every reader of the same checkpoint may ask for: tiles
 * of that size (full tiles, and partial tiles at that size's widths), never an index or an
 * old size of its own.
 *
 * Every hash is checked before use. The partial tiles of the tree ("the edge") must hash to
 * the root; a full tile at level L must hash to its entry in the level L+1 tile above it,
 * itself checked the same way, up to the edge. A proof is computed only from checked tiles
 * and then verified against the root once more.
 *
 * What the log still sees is which level-0 tile holds an index (1 of size/256). Decoys blur
 * it (docs/PROTOCOL.md §8.1): when a check needs a full level-0 tile, it fetches, in a random
 * order, either every full level-0 tile of the last `window` (when the tile is among them:
 * the same set for every client of that size), or the tile and `n_decoys` others chosen
 * uniformly among the older ones. Decoys are checked like the tile itself (their ancestors
 * are fetched too, which blurs the level-1 tile as well).
 *
 * Tiles fetched are kept (at most OV_TILEPROOF_MAX_TILES) for the object's life: a run's
 * repeated checks, and later trees of a consistent log, do not fetch them again. Not
 * thread-safe. */
#ifndef OV_TILEPROOF_H
#define OV_TILEPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "primitives/merkle.h"
#include "primitives/tiles.h"

#define OV_TILEPROOF_MAX_TILES 512   /* kept tiles (4 MiB); the cache is emptied past it */
#define OV_TILEPROOF_DECOYS 8        /* decoys per older level-0 tile needed */
#define OV_TILEPROOF_WINDOW 8        /* the last full level-0 tiles fetched as one set */

/* Fetches hash tile t (t->width: the width it has at the tree's size; a full tile at a
 * partial's place is also accepted, of which the first t->width hashes are used). Writes the
 * tile into out (room for OV_TILE_MAX_LEN bytes) and *out_len. Returns 0 or a negative
 * ov_err, passed on. */
typedef int (*ov_tileproof_fetch_fn)(void *ctx, const struct ov_tile *t, uint8_t *out,
                                     size_t *out_len);

struct ov_tileproof;

/* A prover with no tree yet. -OV_E_NOMEM. The caller frees *out with ov_tileproof_free. */
OV_MUST_CHECK int ov_tileproof_new(ov_tileproof_fetch_fn fetch, void *ctx, unsigned n_decoys,
                                   unsigned window, struct ov_tileproof **out);
void ov_tileproof_free(struct ov_tileproof *tp); /* accepts NULL */

/* The tree later calls prove: a verified checkpoint's size (> 0) and root. Tiles kept from
 * another tree are checked again before use under this one. */
void ov_tileproof_set_tree(struct ov_tileproof *tp, uint64_t size, const uint8_t root[OV_HASH_LEN]);

/* The audit path of index in the tree (as ov_merkle_inclusion_proof gives it), from checked
 * tiles. -OV_E_RANGE (index >= size, or no tree), -OV_E_BAD_PROOF (the tiles do not hash to
 * the root), -OV_E_MALFORMED (a tile of the wrong length), -OV_E_TOO_BIG (proof_max), the
 * fetch function's errors. */
OV_MUST_CHECK int ov_tileproof_inclusion_proof(struct ov_tileproof *tp, uint64_t index,
                                               uint8_t *proof, size_t proof_max, size_t *n_proof);
/* The root of the tree's first old_size leaves and PROOF(old_size, tree), from checked
 * tiles. -OV_E_RANGE (old_size 0 or over the size), and the errors above. */
OV_MUST_CHECK int ov_tileproof_consistency_proof(struct ov_tileproof *tp, uint64_t old_size,
                                                 uint8_t old_root[OV_HASH_LEN], uint8_t *proof,
                                                 size_t proof_max, size_t *n_proof);

/* 0 when leaf is at index in the tree; -OV_E_BAD_PROOF when it is not, and the errors of
 * ov_tileproof_inclusion_proof. */
OV_MUST_CHECK int ov_tileproof_inclusion(struct ov_tileproof *tp, uint64_t index,
                                         const uint8_t leaf[OV_HASH_LEN]);
/* 0 when (old_size, old_root) is a prefix of the tree; -OV_E_BAD_PROOF when it is not. */
OV_MUST_CHECK int ov_tileproof_consistency(struct ov_tileproof *tp, uint64_t old_size,
                                           const uint8_t old_root[OV_HASH_LEN]);

/* Tiles fetched and their bytes, since ov_tileproof_new. */
void ov_tileproof_stats(const struct ov_tileproof *tp, uint64_t *n_fetched, uint64_t *n_bytes);

#endif
