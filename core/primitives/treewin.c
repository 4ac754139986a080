#include "primitives/treewin.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The nodes completed at one level: node index first + k is at hashes[32 k]. */
struct level {
    uint64_t first; /* base >> level: the first node not wholly below base */
    uint8_t *hashes;
    size_t n, cap;
};

struct ov_treewin {
    uint64_t base, max_leaves;
    uint8_t frontier[OV_MERKLE_LEVELS][OV_HASH_LEN]; /* [j] valid iff bit j of base is set */
    struct level lv[OV_MERKLE_LEVELS];
    struct ov_merkle_builder b;
    int node_err; /* set by on_node */
};

/* The builder completed a perfect subtree: keep it at its level. */
static int
on_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[OV_HASH_LEN])
{
    struct ov_treewin *w = ctx;
    struct level *l = &w->lv[level];
    if (index != l->first + l->n) {
        abort(); /* the builder completes each level's nodes in order */
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        uint8_t *p = realloc(l->hashes, cap * OV_HASH_LEN);
        if (p == NULL) {
            return -OV_E_NOMEM;
        }
        l->hashes = p;
        l->cap = cap;
    }
    memcpy(l->hashes + l->n * OV_HASH_LEN, hash, OV_HASH_LEN);
    l->n++;
    return 0;
}

/* The hash source for proofs and roots: window nodes, else base's frontier. */
static int
win_get(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    const struct ov_treewin *w = ctx;
    const struct level *l = &w->lv[level];
    if (index >= l->first && index - l->first < l->n) {
        memcpy(out, l->hashes + (index - l->first) * OV_HASH_LEN, OV_HASH_LEN);
        return 0;
    }
    if (level < 64 && ((w->base >> level) & 1) != 0 && index == (w->base >> level) - 1) {
        memcpy(out, w->frontier[level], OV_HASH_LEN);
        return 0;
    }
    return -OV_E_RANGE;
}

static void
levels_free(struct level *lv)
{
    for (unsigned j = 0; j < OV_MERKLE_LEVELS; j++) {
        free(lv[j].hashes);
    }
}

/* Sets up an empty window at base from the frontier hashes (lowest bit first). */
static int
win_init(struct ov_treewin *w, uint64_t base, const uint8_t *frontier, size_t n_frontier,
         uint64_t max_leaves)
{
    memset(w, 0, sizeof *w);
    if (n_frontier != (size_t)__builtin_popcountll(base)) {
        return -OV_E_MALFORMED;
    }
    w->base = base;
    w->max_leaves = max_leaves;
    for (unsigned j = 0, k = 0; j < OV_MERKLE_LEVELS; j++) {
        w->lv[j].first = base >> j;
        if (((base >> j) & 1) != 0) {
            memcpy(w->frontier[j], frontier + (size_t)k++ * OV_HASH_LEN, OV_HASH_LEN);
        }
    }
    ov_merkle_builder_init(&w->b, on_node, w);
    struct ov_merkle_src src = { win_get, w };
    /* the builder's frontier of base: exactly the hashes just stored */
    return ov_merkle_builder_load(&w->b, base, &src);
}

int
ov_treewin_new(uint64_t base, const uint8_t *frontier, size_t n_frontier, uint64_t max_leaves,
               struct ov_treewin **out)
{
    *out = NULL;
    struct ov_treewin *w = malloc(sizeof *w);
    if (w == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = win_init(w, base, frontier, n_frontier, max_leaves);
    if (rc != 0) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void
ov_treewin_free(struct ov_treewin *w)
{
    if (w != NULL) {
        levels_free(w->lv);
        free(w);
    }
}

uint64_t
ov_treewin_base(const struct ov_treewin *w)
{
    return w->base;
}

uint64_t
ov_treewin_size(const struct ov_treewin *w)
{
    return ov_merkle_builder_size(&w->b);
}

int
ov_treewin_append(struct ov_treewin *w, const uint8_t leaf[OV_HASH_LEN])
{
    if (ov_treewin_size(w) - w->base >= w->max_leaves) {
        return -OV_E_TOO_BIG;
    }
    size_t saved[OV_MERKLE_LEVELS];
    for (unsigned j = 0; j < OV_MERKLE_LEVELS; j++) {
        saved[j] = w->lv[j].n;
    }
    int rc = ov_merkle_builder_append(&w->b, leaf);
    if (rc != 0) {
        /* the builder did not grow: drop the nodes this leaf completed before failing */
        for (unsigned j = 0; j < OV_MERKLE_LEVELS; j++) {
            w->lv[j].n = saved[j];
        }
    }
    return rc;
}

int
ov_treewin_leaf(const struct ov_treewin *w, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    if (index < w->base || index >= ov_treewin_size(w)) {
        memset(out, 0, OV_HASH_LEN);
        return -OV_E_RANGE;
    }
    memcpy(out, w->lv[0].hashes + (index - w->base) * OV_HASH_LEN, OV_HASH_LEN);
    return 0;
}

int
ov_treewin_root(const struct ov_treewin *w, uint64_t size, uint8_t out[OV_HASH_LEN])
{
    if (size < w->base || size > ov_treewin_size(w)) {
        memset(out, 0, OV_HASH_LEN);
        return -OV_E_RANGE;
    }
    /* the frontier of size lies in the window or is base's own */
    struct ov_merkle_src src = { win_get, (void *)(uintptr_t)w };
    return ov_merkle_root_from(&src, size, out);
}

int
ov_treewin_proof(const struct ov_treewin *w, uint64_t index, uint64_t size, uint8_t *proof,
                 size_t proof_max, size_t *n_proof)
{
    *n_proof = 0;
    if (index < w->base || index >= size || size > ov_treewin_size(w)) {
        return -OV_E_RANGE;
    }
    struct ov_merkle_src src = { win_get, (void *)(uintptr_t)w };
    return ov_merkle_inclusion_proof(&src, index, size, proof, proof_max, n_proof);
}

int
ov_treewin_advance(struct ov_treewin *w, uint64_t new_base)
{
    uint64_t size = ov_treewin_size(w);
    if (new_base < w->base || new_base > size) {
        return -OV_E_RANGE;
    }
    if (new_base == w->base) {
        return 0;
    }
    uint8_t frontier[OV_MERKLE_LEVELS * OV_HASH_LEN];
    size_t k = 0;
    int rc = 0;
    for (unsigned j = 0; j < OV_MERKLE_LEVELS && rc == 0; j++) {
        if (((new_base >> j) & 1) != 0) {
            rc = win_get(w, j, (new_base >> j) - 1, frontier + k++ * OV_HASH_LEN);
        }
    }
    struct ov_treewin *next = NULL;
    rc = rc ? rc : ov_treewin_new(new_base, frontier, k, w->max_leaves, &next);
    for (uint64_t i = new_base; i < size && rc == 0; i++) {
        rc = ov_treewin_append(next, w->lv[0].hashes + (i - w->base) * OV_HASH_LEN);
    }
    if (rc != 0) {
        ov_treewin_free(next);
        return rc == -OV_E_RANGE ? -OV_E_CRYPTO : rc;
    }
    /* adopt next's contents; the builder's ctx must point at w, not next */
    levels_free(w->lv);
    *w = *next;
    w->b.ctx = w;
    free(next);
    return 0;
}
