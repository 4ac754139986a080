/* core/tileproof: proofs from the official fixture log's tiles (tests/vectors/fixture-log,
 * 70,000 entries) equal those of tlog-witness-and-proofs.json; proofs from tiles equal
 * core/primitives/merkle's RFC 9162 proofs for every (index, size) and (old, size) up to 600
 * leaves, and on a tree of 70,000 leaves (three tile levels); tiles that do not hash to the root, of the wrong length, or missing are refused;
 * decoys and the window are what tileproof.h says. The tiles are computed here from the
 * leaves, independently of core/primitives/tiles' tiler. */
#include <sodium.h>

#include "../hashvec.h"
#include "../test.h"
#include "../vec.h"
#include "base/bytes.h"
#include "primitives/tileproof.h"

#define BIG 70000
#define SMALL 600

static uint8_t (*leaves)[OV_HASH_LEN];  /* BIG leaf hashes */
static uint8_t (*lvl1)[OV_HASH_LEN];    /* perfect subtrees of 256 leaves */
static uint8_t (*lvl2)[OV_HASH_LEN];    /* of 65536 */
static uint64_t tree_size;              /* the tree the fetcher serves tiles of */

/* Faults the fetcher makes, and what it saw. */
static struct {
    int flip_level;        /* -1: none; else flip a byte of tile (flip_level, flip_n) */
    uint64_t flip_n;
    size_t flip_at;        /* the byte flipped: 0 for the middle */
    int missing_level;     /* -1: none; tile (missing_level, missing_n) is not served */
    uint64_t missing_n;
    bool short_tiles;      /* every tile one byte short */
    bool full_for_partial; /* partial tiles answered by the full one (the log grew) */
    uint8_t (*fork)[OV_HASH_LEN]; /* when set, level-0 tiles come from these leaves */
    unsigned bad_width;    /* partial tiles asked at another width than the tree's */
    unsigned n_level0;     /* full level-0 tiles fetched */
    uint64_t level0[64];
} f;

static int
fetch(void *ctx, const struct ov_tile *t, uint8_t *out, size_t *out_len)
{
    (void)ctx;
    unsigned width = t->width;
    uint64_t have = tree_size >> (8 * t->level); /* hashes at that level */
    if (width < OV_TILE_WIDTH && width != have % 256) {
        f.bad_width++;
    }
    if (f.full_for_partial && width < OV_TILE_WIDTH && (t->n + 1) * 256 <= ((uint64_t)BIG >> (8 * t->level))) {
        width = OV_TILE_WIDTH;
        have = (uint64_t)BIG >> (8 * t->level);
    }
    if (t->level < 0 || t->level > 2 || t->n * 256 + width > have ||
        (t->level == f.missing_level && t->n == f.missing_n)) {
        return -OV_E_HTTP;
    }
    uint8_t(*src)[OV_HASH_LEN] = t->level == 0 ? (f.fork ? f.fork : leaves)
                                 : t->level == 1 ? lvl1 : lvl2;
    memcpy(out, src[t->n * 256], (size_t)width * OV_HASH_LEN);
    *out_len = (size_t)width * OV_HASH_LEN - (f.short_tiles ? 1 : 0);
    if (t->level == f.flip_level && t->n == f.flip_n) {
        out[f.flip_at ? f.flip_at : (size_t)width * OV_HASH_LEN / 2] ^= 1;
    }
    if (t->level == 0 && width == OV_TILE_WIDTH && f.n_level0 < 64) {
        f.level0[f.n_level0++] = t->n;
    }
    return 0;
}

static void
no_faults(void)
{
    memset(&f, 0, sizeof f);
    f.flip_level = f.missing_level = -1;
}

/* merkle.c's own source: every perfect subtree, from a table of them (levels 0..16). */
#define LEVELS 17
static uint8_t (*nodes[LEVELS])[OV_HASH_LEN];

static int
leaf_src(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    (void)ctx;
    if (level >= LEVELS || index >= ((uint64_t)BIG >> level)) {
        return -OV_E_RANGE;
    }
    memcpy(out, nodes[level][index], OV_HASH_LEN);
    return 0;
}
static const struct ov_merkle_src msrc = { leaf_src, NULL };

static void
setup(void)
{
    leaves = malloc((size_t)BIG * OV_HASH_LEN);
    lvl1 = malloc((size_t)(BIG / 256) * OV_HASH_LEN);
    lvl2 = malloc((size_t)(BIG / 65536 + 1) * OV_HASH_LEN);
    int rc = 0;
    for (uint32_t i = 0; i < BIG; i++) {
        uint8_t e[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
        rc |= ov_merkle_leaf_hash(e, sizeof e, leaves[i]);
    }
    nodes[0] = leaves;
    for (unsigned l = 1; l < LEVELS; l++) {
        nodes[l] = malloc(((size_t)BIG >> l) * OV_HASH_LEN);
        for (uint64_t i = 0; i < ((uint64_t)BIG >> l); i++) {
            rc |= ov_merkle_node_hash(nodes[l - 1][2 * i], nodes[l - 1][2 * i + 1], nodes[l][i]);
        }
    }
    /* the tiles above level 0, by ov_merkle_root of the level below (not the table) */
    for (uint32_t i = 0; i < BIG / 256; i++) {
        rc |= ov_merkle_root(leaves[i * 256], 256, lvl1[i]);
        rc |= memcmp(lvl1[i], nodes[8][i], OV_HASH_LEN);
    }
    for (uint32_t i = 0; i < BIG / 65536; i++) {
        rc |= ov_merkle_root(lvl1[i * 256], 256, lvl2[i]);
    }
    CHECK_EQ_INT(rc, 0);
}

static void
set_tree(struct ov_tileproof *tp, uint64_t size)
{
    uint8_t root[OV_HASH_LEN];
    CHECK_EQ_INT(ov_merkle_root_from(&msrc, size, root), 0);
    tree_size = size;
    ov_tileproof_set_tree(tp, size, root);
}

/* Every proof of a tree from tiles is merkle.c's proof (index and old size every `step`,
 * and the last); counts mismatches. */
static unsigned
compare_size(struct ov_tileproof *tp, uint64_t size, uint64_t step)
{
    uint8_t a[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], b[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    uint8_t old[OV_HASH_LEN], want_old[OV_HASH_LEN];
    size_t na, nb;
    unsigned bad = 0;
    set_tree(tp, size);
    for (uint64_t i = 0; i < size; i += (i + step < size || i + 1 == size) ? step : size - 1 - i) {
        int rc = ov_tileproof_inclusion_proof(tp, i, a, OV_MERKLE_MAX_PROOF, &na);
        rc = rc ? rc : ov_merkle_inclusion_proof(&msrc, i, size, b, OV_MERKLE_MAX_PROOF, &nb);
        bad += rc != 0 || na != nb || memcmp(a, b, na * OV_HASH_LEN) != 0;
        bool verify = i % 7 == 0 || i + 1 == size; /* the checking forms, on a sample */
        bad += verify && ov_tileproof_inclusion(tp, i, leaves[i]) != 0;
        uint64_t m = i + 1; /* old sizes 1..size */
        rc = ov_tileproof_consistency_proof(tp, m, old, a, OV_MERKLE_MAX_PROOF, &na);
        rc = rc ? rc : ov_merkle_consistency_proof(&msrc, m, size, b, OV_MERKLE_MAX_PROOF, &nb);
        rc = rc ? rc : ov_merkle_root_from(&msrc, m, want_old);
        bad += rc != 0 || na != nb || memcmp(a, b, na * OV_HASH_LEN) != 0 ||
               memcmp(old, want_old, OV_HASH_LEN) != 0;
        bad += verify && ov_tileproof_consistency(tp, m, want_old) != 0;
        if (i + 1 == size) {
            break;
        }
    }
    return bad;
}

static void
test_equal_merkle(void)
{
    struct ov_tileproof *tp = NULL;
    no_faults();
    CHECK_EQ_INT(ov_tileproof_new(fetch, NULL, OV_TILEPROOF_DECOYS, OV_TILEPROOF_WINDOW, &tp), 0);
    unsigned bad = 0;
    for (uint64_t size = 1; size <= SMALL; size++) { /* every pair */
        bad += compare_size(tp, size, 1);
    }
    CHECK_EQ_INT(bad, 0);
    /* sizes at and around tile edges of every level, and the big tree, sampled */
    const uint64_t sizes[] = { 65535, 65536, 65537, 65792, 69999, BIG };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        CHECK_EQ_INT(compare_size(tp, sizes[s], 997), 0);
    }
    /* the leaf must be the one there; an old root must be the old tree's */
    set_tree(tp, BIG);
    CHECK_EQ_INT(ov_tileproof_inclusion(tp, 12345, leaves[12346]), -OV_E_BAD_PROOF);
    CHECK_EQ_INT(ov_tileproof_consistency(tp, 300, leaves[0]), -OV_E_BAD_PROOF);
    CHECK_EQ_INT(ov_tileproof_inclusion(tp, BIG, leaves[0]), -OV_E_RANGE);
    CHECK_EQ_INT(ov_tileproof_consistency(tp, BIG + 1, leaves[0]), -OV_E_RANGE);
    CHECK_EQ_INT(ov_tileproof_consistency(tp, 0, leaves[0]), -OV_E_RANGE);
    ov_tileproof_free(tp);
}

/* One check on a fresh prover of the big tree under the current faults. */
static int
fresh_inclusion(uint64_t index)
{
    struct ov_tileproof *tp = NULL;
    int rc = ov_tileproof_new(fetch, NULL, OV_TILEPROOF_DECOYS, OV_TILEPROOF_WINDOW, &tp);
    if (rc == 0) {
        set_tree(tp, BIG);
        rc = ov_tileproof_inclusion(tp, index, leaves[index]);
    }
    ov_tileproof_free(tp);
    return rc;
}

static void
test_refusals(void)
{
    /* BIG: level 0 has 273 full tiles and one of 112, level 1 one full and one of 17,
     * level 2 one of 1 */
    no_faults();
    CHECK_EQ_INT(fresh_inclusion(300), 0);
    f.flip_level = 0, f.flip_n = 1; /* the tile the index is in */
    CHECK_EQ_INT(fresh_inclusion(300), -OV_E_BAD_PROOF);
    f.flip_at = 44 * OV_HASH_LEN + 7; /* the index's own hash, which its audit path does not
                                       * use: only the tile's check up to the root sees it */
    CHECK_EQ_INT(fresh_inclusion(300), -OV_E_BAD_PROOF);
    f.flip_at = 0;
    f.flip_level = 1, f.flip_n = 0; /* the full tile above it */
    CHECK_EQ_INT(fresh_inclusion(300), -OV_E_BAD_PROOF);
    f.flip_level = 1, f.flip_n = 1; /* a partial tile */
    CHECK_EQ_INT(fresh_inclusion(300), -OV_E_BAD_PROOF);
    f.flip_level = 0, f.flip_n = BIG / 256; /* the partial level-0 tile: the edge */
    CHECK_EQ_INT(fresh_inclusion(300), -OV_E_BAD_PROOF);
    no_faults();
    f.missing_level = 0, f.missing_n = 1;
    CHECK_EQ_INT(fresh_inclusion(300), -OV_E_HTTP);
    no_faults();
    f.short_tiles = true;
    CHECK_EQ_INT(fresh_inclusion(300), -OV_E_MALFORMED);
    /* a forked tree: other leaves in level 0, the upper tiles the true tree's */
    no_faults();
    uint8_t(*fork)[OV_HASH_LEN] = malloc((size_t)BIG * OV_HASH_LEN);
    memcpy(fork, leaves, (size_t)BIG * OV_HASH_LEN);
    fork[310][0] ^= 0x80;
    f.fork = fork;
    CHECK_EQ_INT(fresh_inclusion(300), -OV_E_BAD_PROOF);
    free(fork);
    /* the log grew: partial tiles answered in full are read in their first hashes */
    no_faults();
    struct ov_tileproof *tp = NULL;
    CHECK_EQ_INT(ov_tileproof_new(fetch, NULL, 0, 0, &tp), 0);
    set_tree(tp, 1000);
    f.full_for_partial = true;
    CHECK_EQ_INT(ov_tileproof_inclusion(tp, 999, leaves[999]), 0);
    uint8_t old[OV_HASH_LEN];
    CHECK_EQ_INT(ov_merkle_root(leaves[0], 300, old), 0);
    CHECK_EQ_INT(ov_tileproof_consistency(tp, 300, old), 0);
    CHECK_EQ_INT(f.bad_width, 0);
    ov_tileproof_free(tp);
}

static bool
fetched(uint64_t n)
{
    for (unsigned i = 0; i < f.n_level0; i++) {
        if (f.level0[i] == n) {
            return true;
        }
    }
    return false;
}

static void
test_decoys(void)
{
    struct ov_tileproof *tp = NULL;
    uint64_t n_tiles, n_bytes, n_tiles2, n_bytes2;
    no_faults();
    CHECK_EQ_INT(ov_tileproof_new(fetch, NULL, OV_TILEPROOF_DECOYS, OV_TILEPROOF_WINDOW, &tp), 0);
    set_tree(tp, BIG); /* level 0: 273 full tiles, the window is tiles 265..272 */
    /* an old index: its tile and 8 decoys, distinct, older than the window */
    CHECK_EQ_INT(ov_tileproof_inclusion(tp, 300, leaves[300]), 0);
    CHECK_EQ_INT(f.n_level0, 1 + OV_TILEPROOF_DECOYS);
    CHECK(fetched(1));
    unsigned distinct = 0, old = 0;
    for (unsigned i = 0; i < f.n_level0; i++) {
        bool seen = false;
        for (unsigned j = 0; j < i; j++) {
            seen = seen || f.level0[j] == f.level0[i];
        }
        distinct += !seen;
        old += f.level0[i] < 265;
    }
    CHECK_EQ_INT(distinct, f.n_level0);
    CHECK_EQ_INT(old, f.n_level0);
    uint64_t first[64];
    unsigned n_first = f.n_level0;
    memcpy(first, f.level0, sizeof first);
    /* again in the same run: nothing fetched */
    ov_tileproof_stats(tp, &n_tiles, &n_bytes);
    CHECK_EQ_INT(ov_tileproof_inclusion(tp, 301, leaves[301]), 0);
    ov_tileproof_stats(tp, &n_tiles2, &n_bytes2);
    CHECK_EQ_INT(n_tiles2, n_tiles);
    CHECK_EQ_INT(n_bytes2, n_bytes);
    /* a recent index: the whole window, whatever the index in it */
    f.n_level0 = 0;
    CHECK_EQ_INT(ov_tileproof_inclusion(tp, 266 * 256 + 5, leaves[266 * 256 + 5]), 0);
    CHECK_EQ_INT(f.n_level0, OV_TILEPROOF_WINDOW);
    for (uint64_t n = 265; n < 273; n++) {
        CHECK(fetched(n));
    }
    /* an old size in the window, in a later tree: no new level-0 tile */
    uint8_t root[OV_HASH_LEN];
    CHECK_EQ_INT(ov_merkle_root(leaves[0], 267 * 256 + 10, root), 0);
    f.n_level0 = 0;
    set_tree(tp, BIG);
    CHECK_EQ_INT(ov_tileproof_consistency(tp, 267 * 256 + 10, root), 0);
    CHECK_EQ_INT(f.n_level0, 0);
    ov_tileproof_free(tp);
    /* another run chooses other decoys */
    no_faults();
    CHECK_EQ_INT(fresh_inclusion(300), 0);
    CHECK_EQ_INT(f.n_level0, 1 + OV_TILEPROOF_DECOYS);
    unsigned same = 0;
    for (unsigned i = 0; i < n_first; i++) {
        same += fetched(first[i]);
    }
    CHECK(same < n_first);
    CHECK_EQ_INT(f.bad_width, 0);
}

/* ---- the official vectors, from the fixture log's tiles on disk ------------------------ */

static int
disk_fetch(void *ctx, const struct ov_tile *t, uint8_t *out, size_t *out_len)
{
    char path[OV_MAX_TILE_PATH_LEN + 1], full[2048];
    size_t n = 0;
    struct ov_buf b;
    (void)ctx;
    int rc = ov_tile_path(t, path, sizeof path, &n);
    if (rc == 0) {
        snprintf(full, sizeof full, "%s/fixture-log/%s", test_vectors_dir(), path);
        rc = ov_file_read(full, OV_TILE_MAX_LEN, &b);
    }
    if (rc == 0) {
        memcpy(out, b.ptr, b.len);
        *out_len = b.len;
        ov_buf_clear(&b);
    }
    return rc;
}

static void
test_vectors(void)
{
    json_t *j = hashvec_load("tlog-witness-and-proofs.json"), *c;
    struct ov_tileproof *tp = NULL;
    uint8_t p[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], want[OV_MERKLE_MAX_PROOF][OV_HASH_LEN];
    uint8_t root[OV_HASH_LEN], r1[OV_HASH_LEN], old[OV_HASH_LEN], leaf[OV_HASH_LEN];
    size_t i, np = 0, nw = 0;
    CHECK(j != NULL);
    CHECK_EQ_INT(ov_tileproof_new(disk_fetch, NULL, OV_TILEPROOF_DECOYS, OV_TILEPROOF_WINDOW, &tp),
                 0);
    CHECK(hashvec_hash(json_array_get(json_object_get(j, "fixture_inclusion_proofs"), 0), "root",
                       root));
    ov_tileproof_set_tree(tp, 70000, root);
    json_array_foreach(json_object_get(j, "fixture_inclusion_proofs"), i, c)
    {
        uint64_t idx = hashvec_u64(c, "leafIdx");
        CHECK_EQ_INT(hashvec_u64(c, "treeSize"), 70000);
        CHECK(hashvec_hash(c, "leafHash", leaf) && hashvec_proof(c, "proof", want, OV_MERKLE_MAX_PROOF, &nw));
        CHECK_EQ_INT(ov_tileproof_inclusion_proof(tp, idx, p, OV_MERKLE_MAX_PROOF, &np), 0);
        CHECK(np == nw && memcmp(p, want, nw * OV_HASH_LEN) == 0);
        CHECK_EQ_INT(ov_tileproof_inclusion(tp, idx, leaf), 0);
    }
    CHECK_EQ_INT(i, 7);
    json_t *cons = json_copy(json_object_get(j, "fixture_consistency_proofs"));
    json_array_append(cons, json_object_get(j, "consistency_proof"));
    json_array_foreach(cons, i, c)
    {
        uint64_t s1 = hashvec_u64(c, "size1");
        CHECK_EQ_INT(hashvec_u64(c, "size2"), 70000);
        CHECK(hashvec_hash(c, "root1", r1) && hashvec_proof(c, "proof", want, OV_MERKLE_MAX_PROOF, &nw));
        CHECK_EQ_INT(ov_tileproof_consistency_proof(tp, s1, old, p, OV_MERKLE_MAX_PROOF, &np), 0);
        CHECK_EQ_MEM(old, r1, OV_HASH_LEN);
        CHECK(np == nw && memcmp(p, want, nw * OV_HASH_LEN) == 0);
        CHECK_EQ_INT(ov_tileproof_consistency(tp, s1, r1), 0);
    }
    CHECK_EQ_INT(i, 7);
    json_decref(cons);
    json_decref(j);
    ov_tileproof_free(tp);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_vectors();
    setup();
    test_equal_merkle();
    test_refusals();
    test_decoys();
    free(leaves);
    free(lvl1);
    free(lvl2);
    for (unsigned l = 1; l < LEVELS; l++) {
        free(nodes[l]);
    }
    TEST_DONE("test_tileproof");
}
