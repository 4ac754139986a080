/* tileproof: see tileproof.h. */
#include "primitives/tileproof.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define TP_MAX_PLAN 2   /* real level-0 tiles one proof needs: at most the one by its index */
#define TP_MAX_BATCH 16 /* a real tile and its decoys, or the window */

/* A tile as fetched: its first `width` hashes; `checked` is the tree epoch it was checked
 * under (0: not yet); `nodes` the subtrees of heights 1..8 over its hashes, made at first
 * use (height j's (width >> j) nodes from offset 256 - (512 >> j)), so that a run's proofs
 * hash each tile once. */
struct kept {
    int level;
    uint64_t n;
    unsigned width;
    uint64_t checked;
    uint8_t *hashes;
    uint8_t *nodes;
};
#define TP_NODES (OV_TILE_WIDTH - 1)

struct ov_tileproof {
    ov_tileproof_fetch_fn fetch;
    void *ctx;
    unsigned n_decoys, window;
    uint64_t size;
    uint8_t root[OV_HASH_LEN];
    uint64_t epoch;        /* bumped with each new tree; 0: no tree yet */
    uint64_t edge_checked; /* the epoch whose edge hashed to the root */
    bool planning;         /* reads record the level-0 tiles needed and serve zeros */
    bool raw;              /* reads serve unchecked hashes (checking the edge itself) */
    uint64_t plan[TP_MAX_PLAN];
    size_t n_plan;
    uint64_t n_fetched, n_bytes;
    size_t n_tiles;
    struct kept tiles[OV_TILEPROOF_MAX_TILES];
    uint8_t buf[OV_TILE_MAX_LEN];
};

/* Tiles one proof may add: each planned tile's batch and their ancestors, and the edge. */
#define TP_OP_ROOM (TP_MAX_PLAN * TP_MAX_BATCH * OV_TILE_LEVELS + OV_TILE_LEVELS)

int
ov_tileproof_new(ov_tileproof_fetch_fn fetch, void *ctx, unsigned n_decoys, unsigned window,
                 struct ov_tileproof **out)
{
    *out = NULL;
    if (n_decoys + 1 > TP_MAX_BATCH || window > TP_MAX_BATCH) {
        return -OV_E_RANGE;
    }
    _Static_assert(TP_OP_ROOM < OV_TILEPROOF_MAX_TILES, "one proof's tiles fit in the cache");
    struct ov_tileproof *tp = calloc(1, sizeof *tp);
    if (tp == NULL) {
        return -OV_E_NOMEM;
    }
    tp->fetch = fetch;
    tp->ctx = ctx;
    tp->n_decoys = n_decoys;
    tp->window = window;
    *out = tp;
    return 0;
}

static void
forget_all(struct ov_tileproof *tp)
{
    for (size_t i = 0; i < tp->n_tiles; i++) {
        free(tp->tiles[i].hashes);
        free(tp->tiles[i].nodes);
    }
    memset(tp->tiles, 0, tp->n_tiles * sizeof tp->tiles[0]);
    tp->n_tiles = 0;
    tp->edge_checked = 0;
}

void
ov_tileproof_free(struct ov_tileproof *tp)
{
    if (tp != NULL) {
        forget_all(tp);
        free(tp);
    }
}

void
ov_tileproof_set_tree(struct ov_tileproof *tp, uint64_t size, const uint8_t root[OV_HASH_LEN])
{
    if (tp->epoch != 0 && size == tp->size && memcmp(root, tp->root, OV_HASH_LEN) == 0) {
        return;
    }
    tp->size = size;
    memcpy(tp->root, root, OV_HASH_LEN);
    tp->epoch++;
}

void
ov_tileproof_stats(const struct ov_tileproof *tp, uint64_t *n_fetched, uint64_t *n_bytes)
{
    *n_fetched = tp->n_fetched;
    *n_bytes = tp->n_bytes;
}

/* The width tile (level, n) has in the tree: 256, the partial's, or 0 (no such tile). */
static unsigned
width_at(const struct ov_tileproof *tp, int level, uint64_t n)
{
    uint64_t n_full;
    unsigned partial;
    ov_tile_level_shape(tp->size, level, &n_full, &partial);
    return n < n_full ? OV_TILE_WIDTH : n == n_full ? partial : 0;
}

static struct kept *
find(struct ov_tileproof *tp, int level, uint64_t n)
{
    for (size_t i = 0; i < tp->n_tiles; i++) {
        if (tp->tiles[i].level == level && tp->tiles[i].n == n) {
            return &tp->tiles[i];
        }
    }
    return NULL;
}

/* Tile (level, n) with at least `width` hashes: kept, or fetched (replacing a narrower one). */
static int
get(struct ov_tileproof *tp, int level, uint64_t n, unsigned width, struct kept **out)
{
    struct kept *k = find(tp, level, n);
    *out = NULL;
    if (k != NULL && k->width >= width) {
        *out = k;
        return 0;
    }
    if (k == NULL && tp->n_tiles == OV_TILEPROOF_MAX_TILES) {
        return -OV_E_NOMEM; /* not reached: room is made before each proof */
    }
    struct ov_tile t = { level, n, width };
    size_t len = 0;
    int rc = tp->fetch(tp->ctx, &t, tp->buf, &len);
    if (rc != 0) {
        return rc;
    }
    tp->n_fetched++;
    tp->n_bytes += len;
    if (len != (size_t)width * OV_HASH_LEN && len != OV_TILE_MAX_LEN) {
        return -OV_E_MALFORMED;
    }
    uint8_t *h = malloc(len);
    if (h == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(h, tp->buf, len);
    if (k == NULL) {
        k = &tp->tiles[tp->n_tiles++];
    }
    free(k->hashes);
    free(k->nodes);
    *k = (struct kept){ level, n, (unsigned)(len / OV_HASH_LEN), 0, h, NULL };
    *out = k;
    return 0;
}

static bool
in(const uint64_t *set, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i] == x) {
            return true;
        }
    }
    return false;
}

static int check(struct ov_tileproof *tp, struct kept *k);

/* The subtree of height h (0..8) at index i among kept tile k's hashes. */
static int
node_of(struct kept *k, unsigned h, uint64_t i, uint8_t out[OV_HASH_LEN])
{
    if (h > OV_TILE_HEIGHT || i >= (k->width >> h)) {
        return -OV_E_RANGE;
    }
    if (h == 0) {
        memcpy(out, k->hashes + i * OV_HASH_LEN, OV_HASH_LEN);
        return 0;
    }
    int rc = 0;
    if (k->nodes == NULL) {
        k->nodes = malloc((size_t)TP_NODES * OV_HASH_LEN);
        rc = k->nodes ? 0 : -OV_E_NOMEM;
        for (unsigned j = 1; j <= OV_TILE_HEIGHT && rc == 0; j++) {
            const uint8_t *below = j == 1 ? k->hashes
                                          : k->nodes + (size_t)(OV_TILE_WIDTH -
                                                                (2 * OV_TILE_WIDTH >> (j - 1))) *
                                                           OV_HASH_LEN;
            uint8_t *row = k->nodes + (size_t)(OV_TILE_WIDTH - (2 * OV_TILE_WIDTH >> j)) *
                                          OV_HASH_LEN;
            for (unsigned x = 0; x < (k->width >> j) && rc == 0; x++) {
                rc = ov_merkle_node_hash(below + 2 * x * OV_HASH_LEN,
                                         below + (2 * x + 1) * OV_HASH_LEN, row + x * OV_HASH_LEN);
            }
        }
        if (rc != 0) {
            free(k->nodes);
            k->nodes = NULL;
            return rc;
        }
    }
    size_t at = (size_t)(OV_TILE_WIDTH - (2 * OV_TILE_WIDTH >> h)) + (size_t)i;
    memcpy(out, k->nodes + at * OV_HASH_LEN, OV_HASH_LEN);
    return 0;
}

/* ov_merkle_hash_fn over the tree's tiles: from checked tiles (or, while planning, zeros,
 * noting the full level-0 tiles the proof needs and that are not kept). */
static int
tree_node(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    struct ov_tileproof *tp = ctx;
    memset(out, 0, OV_HASH_LEN);
    if (level >= OV_MERKLE_LEVELS || index >= (tp->size >> level)) {
        return -OV_E_RANGE;
    }
    int l = (int)(level / OV_TILE_HEIGHT);
    unsigned h = level % OV_TILE_HEIGHT;
    uint64_t first = index << h; /* at binary level 8l */
    uint64_t n = first >> OV_TILE_HEIGHT;
    unsigned w = width_at(tp, l, n);
    if (tp->planning) {
        if (l == 0 && w == OV_TILE_WIDTH && find(tp, 0, n) == NULL &&
            !in(tp->plan, tp->n_plan, n) && tp->n_plan < TP_MAX_PLAN) {
            tp->plan[tp->n_plan++] = n;
        }
        return 0;
    }
    struct kept *k = NULL;
    int rc = get(tp, l, n, w, &k);
    if (rc == 0 && !tp->raw) {
        rc = check(tp, k);
    }
    return rc ? rc : node_of(k, h, (first & (OV_TILE_WIDTH - 1)) >> h, out);
}

/* The partial tiles of the tree, fetched, must hash to its root. */
static int
check_edge(struct ov_tileproof *tp)
{
    if (tp->edge_checked == tp->epoch) {
        return 0;
    }
    int rc = 0;
    for (int l = 0; l < OV_TILE_LEVELS && rc == 0; l++) {
        uint64_t n_full;
        unsigned partial;
        struct kept *k;
        ov_tile_level_shape(tp->size, l, &n_full, &partial);
        rc = partial > 0 ? get(tp, l, n_full, partial, &k) : 0;
    }
    uint8_t got[OV_HASH_LEN];
    struct ov_merkle_src ms = { tree_node, tp };
    tp->raw = true;
    rc = rc ? rc : ov_merkle_root_from(&ms, tp->size, got);
    tp->raw = false;
    if (rc == 0 && memcmp(got, tp->root, OV_HASH_LEN) != 0) {
        rc = -OV_E_BAD_PROOF;
    }
    tp->edge_checked = rc == 0 ? tp->epoch : 0;
    return rc;
}

/* A kept tile is the tree's: a partial one through the edge, a full one through its hash in
 * the tile above, checked in turn. */
static int
check(struct ov_tileproof *tp, struct kept *k)
{
    if (k->checked == tp->epoch) {
        return 0;
    }
    unsigned w = width_at(tp, k->level, k->n);
    int rc;
    if (w == 0 || k->width < w) {
        return -OV_E_RANGE; /* not a tile of this tree: the caller's bug */
    }
    if (w < OV_TILE_WIDTH) {
        rc = check_edge(tp);
    } else {
        uint8_t mine[OV_HASH_LEN];
        uint64_t up = k->n >> OV_TILE_HEIGHT;
        struct kept *parent = NULL;
        rc = k->level + 1 < OV_TILE_LEVELS ? 0 : -OV_E_RANGE;
        rc = rc ? rc : node_of(k, OV_TILE_HEIGHT, 0, mine);
        rc = rc ? rc : get(tp, k->level + 1, up, width_at(tp, k->level + 1, up), &parent);
        rc = rc ? rc : check(tp, parent);
        if (rc == 0 && memcmp(parent->hashes + (k->n & (OV_TILE_WIDTH - 1)) * OV_HASH_LEN, mine,
                              OV_HASH_LEN) != 0) {
            rc = -OV_E_BAD_PROOF;
        }
    }
    k->checked = rc == 0 ? tp->epoch : 0;
    return rc;
}

/* Uniform in [0, bound), bound > 0. */
static uint64_t
uniform(uint64_t bound)
{
    uint64_t x, limit = UINT64_MAX - UINT64_MAX % bound;
    do {
        randombytes_buf(&x, sizeof x);
    } while (x >= limit);
    return x % bound;
}

/* The level-0 tiles to fetch with the needed full tile `real` (not kept): the window's tiles
 * when it is among them, else it and up to n_decoys others older than the window. */
static size_t
choose_batch(struct ov_tileproof *tp, uint64_t real, uint64_t batch[TP_MAX_BATCH])
{
    uint64_t n_full = tp->size >> OV_TILE_HEIGHT;
    uint64_t lo = n_full > tp->window ? n_full - tp->window : 0;
    size_t n = 0;
    if (real >= lo) {
        for (uint64_t i = lo; i < n_full; i++) {
            if (find(tp, 0, i) == NULL) {
                batch[n++] = i;
            }
        }
        return n;
    }
    batch[n++] = real;
    /* rejection sampling among the older tiles not kept; bounded when few remain */
    for (unsigned tries = 0; n < 1 + (size_t)tp->n_decoys && tries < 64 * (tp->n_decoys + 1u);
         tries++) {
        uint64_t d = uniform(lo);
        if (!in(batch, n, d) && find(tp, 0, d) == NULL) {
            batch[n++] = d;
        }
    }
    return n;
}

/* Fetches each planned tile with its batch, in a random order, then checks them all. */
static int
fetch_planned(struct ov_tileproof *tp)
{
    int rc = 0;
    for (size_t p = 0; p < tp->n_plan && rc == 0; p++) {
        uint64_t batch[TP_MAX_BATCH];
        if (find(tp, 0, tp->plan[p]) != NULL) {
            continue; /* came with an earlier batch */
        }
        size_t n = choose_batch(tp, tp->plan[p], batch);
        for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)uniform(i);
            uint64_t x = batch[i - 1];
            batch[i - 1] = batch[j];
            batch[j] = x;
        }
        struct kept *k;
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = get(tp, 0, batch[i], OV_TILE_WIDTH, &k);
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            k = find(tp, 0, batch[i]);
            rc = k != NULL ? check(tp, k) : -OV_E_STATE;
        }
    }
    return rc;
}

enum op { OP_INCLUSION, OP_CONSISTENCY };

/* One proof computation over the tiles (planning or real). */
static int
compute(struct ov_tileproof *tp, enum op op, uint64_t a, uint8_t old_root[OV_HASH_LEN],
        uint8_t *proof, size_t proof_max, size_t *n_proof)
{
    struct ov_merkle_src ms = { tree_node, tp };
    if (op == OP_INCLUSION) {
        return ov_merkle_inclusion_proof(&ms, a, tp->size, proof, proof_max, n_proof);
    }
    int rc = ov_merkle_root_from(&ms, a, old_root);
    return rc ? rc : ov_merkle_consistency_proof(&ms, a, tp->size, proof, proof_max, n_proof);
}

/* The edge, then what the proof needs with its decoys, then the proof from checked tiles. */
static int
prove(struct ov_tileproof *tp, enum op op, uint64_t a, uint8_t old_root[OV_HASH_LEN],
      uint8_t *proof, size_t proof_max, size_t *n_proof)
{
    *n_proof = 0;
    if (tp->n_tiles + TP_OP_ROOM > OV_TILEPROOF_MAX_TILES) {
        forget_all(tp);
    }
    int rc = check_edge(tp);
    if (rc == 0) {
        tp->planning = true;
        tp->n_plan = 0;
        rc = compute(tp, op, a, old_root, proof, proof_max, n_proof);
        tp->planning = false;
    }
    rc = rc ? rc : fetch_planned(tp);
    rc = rc ? rc : compute(tp, op, a, old_root, proof, proof_max, n_proof);
    if (rc != 0) {
        *n_proof = 0;
    }
    return rc;
}

int
ov_tileproof_inclusion_proof(struct ov_tileproof *tp, uint64_t index, uint8_t *proof,
                             size_t proof_max, size_t *n_proof)
{
    *n_proof = 0;
    if (tp->epoch == 0 || index >= tp->size) {
        return -OV_E_RANGE;
    }
    return prove(tp, OP_INCLUSION, index, NULL, proof, proof_max, n_proof);
}

int
ov_tileproof_consistency_proof(struct ov_tileproof *tp, uint64_t old_size,
                               uint8_t old_root[OV_HASH_LEN], uint8_t *proof, size_t proof_max,
                               size_t *n_proof)
{
    *n_proof = 0;
    memset(old_root, 0, OV_HASH_LEN);
    if (tp->epoch == 0 || old_size == 0 || old_size > tp->size) {
        return -OV_E_RANGE;
    }
    int rc = prove(tp, OP_CONSISTENCY, old_size, old_root, proof, proof_max, n_proof);
    if (rc != 0) {
        memset(old_root, 0, OV_HASH_LEN);
    }
    return rc;
}

/* A verification's failure other than the library's own is the log's. */
static int
as_proof_error(int rc)
{
    return rc == 0 || rc == -OV_E_CRYPTO ? rc : -OV_E_BAD_PROOF;
}

int
ov_tileproof_inclusion(struct ov_tileproof *tp, uint64_t index, const uint8_t leaf[OV_HASH_LEN])
{
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    size_t n = 0;
    int rc = ov_tileproof_inclusion_proof(tp, index, proof, OV_MERKLE_MAX_PROOF, &n);
    if (rc == 0) {
        rc = as_proof_error(
            ov_merkle_verify_inclusion(index, tp->size, leaf, proof, n, tp->root));
    }
    return rc;
}

int
ov_tileproof_consistency(struct ov_tileproof *tp, uint64_t old_size,
                         const uint8_t old_root[OV_HASH_LEN])
{
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], got[OV_HASH_LEN];
    size_t n = 0;
    int rc = ov_tileproof_consistency_proof(tp, old_size, got, proof, OV_MERKLE_MAX_PROOF, &n);
    if (rc == 0 && sodium_memcmp(got, old_root, OV_HASH_LEN) != 0) {
        rc = -OV_E_BAD_PROOF; /* the old tree is not this tree's prefix */
    }
    if (rc == 0) {
        rc = as_proof_error(
            ov_merkle_verify_consistency(old_size, tp->size, old_root, tp->root, proof, n));
    }
    return rc;
}
