/* Unit tests: core/primitives/treewin. Every proof and root a window gives must be byte-identical to
 * what merkle.h computes over the whole tree, for every base, index and size in small
 * trees, and after advancing the window. */
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "primitives/merkle.h"
#include "primitives/treewin.h"

#define N 300

static uint8_t leaves[N][OV_HASH_LEN];

/* A hash source over all N leaves, for the reference proofs. */
static int
full_get(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    (void)ctx;
    uint64_t lo = index << level, n = (uint64_t)1 << level;
    if (lo + n > N) {
        return -OV_E_RANGE;
    }
    return ov_merkle_root(leaves[lo], n, out);
}

/* The frontier of base, lowest bit first, from a builder over the first base leaves. */
static size_t
frontier_of(uint64_t base, uint8_t *out)
{
    struct ov_merkle_builder b;
    size_t k = 0;
    ov_merkle_builder_init(&b, NULL, NULL);
    for (uint64_t i = 0; i < base; i++) {
        if (ov_merkle_builder_append(&b, leaves[i]) != 0) {
            exit(1);
        }
    }
    for (unsigned j = 0; j < 64; j++) {
        if ((base >> j) & 1) {
            memcpy(out + k++ * OV_HASH_LEN, b.frontier[j], OV_HASH_LEN);
        }
    }
    return k;
}

static int bad_proofs, bad_roots;

/* Checks every proof in [base, size) at every size up to top against the reference. */
static void
check_window(const struct ov_treewin *w, uint64_t top)
{
    struct ov_merkle_src full = { full_get, NULL };
    uint64_t base = ov_treewin_base(w);
    for (uint64_t size = base; size <= top; size++) {
        uint8_t r1[OV_HASH_LEN], r2[OV_HASH_LEN];
        if (ov_treewin_root(w, size, r1) != 0 || ov_merkle_root(leaves[0], size, r2) != 0 ||
            memcmp(r1, r2, OV_HASH_LEN) != 0) {
            bad_roots++;
        }
        for (uint64_t i = base; i < size; i++) {
            uint8_t p1[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], p2[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
            size_t n1 = 0, n2 = 0;
            if (ov_treewin_proof(w, i, size, p1, OV_MERKLE_MAX_PROOF, &n1) != 0 ||
                ov_merkle_inclusion_proof(&full, i, size, p2, OV_MERKLE_MAX_PROOF, &n2) != 0 ||
                n1 != n2 || memcmp(p1, p2, n1 * OV_HASH_LEN) != 0 ||
                ov_merkle_verify_inclusion(i, size, leaves[i], p1, n1, r2) != 0) {
                bad_proofs++;
            }
        }
    }
}

int
main(void)
{
    for (int i = 0; i < N; i++) {
        memset(leaves[i], 0, OV_HASH_LEN);
        leaves[i][0] = (uint8_t)i;
        leaves[i][1] = (uint8_t)(i >> 8);
        leaves[i][31] = 0xa5;
    }
    uint8_t fr[64 * OV_HASH_LEN];
    /* every base up to 70, windows reaching 80; some larger shapes */
    static const uint64_t bases[] = { 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  15, 16, 17, 31,
                                      32, 33, 63, 64, 65, 69, 127, 128, 129, 200, 255, 256 };
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        uint64_t base = bases[b], top = base + 44 < N ? base + 44 : N;
        struct ov_treewin *w = NULL;
        size_t k = frontier_of(base, fr);
        CHECK(ov_treewin_new(base, fr, k, 1000, &w) == 0);
        for (uint64_t i = base; i < top; i++) {
            CHECK(ov_treewin_append(w, leaves[i]) == 0);
        }
        CHECK_EQ_INT(ov_treewin_size(w), top);
        check_window(w, top);
        /* leaves come back; nothing outside the window */
        uint8_t h[OV_HASH_LEN], p[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
        size_t np = 9;
        if (top > base) {
            CHECK(ov_treewin_leaf(w, top - 1, h) == 0 && memcmp(h, leaves[top - 1], 32) == 0);
        }
        CHECK(ov_treewin_leaf(w, top, h) == -OV_E_RANGE);
        CHECK(ov_treewin_proof(w, top, top + 1, p, OV_MERKLE_MAX_PROOF, &np) == -OV_E_RANGE);
        CHECK_EQ_INT(np, 0);
        if (base > 0) {
            CHECK(ov_treewin_leaf(w, base - 1, h) == -OV_E_RANGE);
            CHECK(ov_treewin_proof(w, base - 1, top, p, OV_MERKLE_MAX_PROOF, &np) ==
                  -OV_E_RANGE);
            CHECK(ov_treewin_root(w, base - 1, h) == -OV_E_RANGE);
        }
        /* advance to the middle, then grow again: same answers */
        uint64_t mid = base + (top - base) / 2;
        CHECK(ov_treewin_advance(w, mid) == 0);
        CHECK_EQ_INT(ov_treewin_base(w), mid);
        CHECK_EQ_INT(ov_treewin_size(w), top);
        uint64_t top2 = top + 20 < N ? top + 20 : N;
        for (uint64_t i = top; i < top2; i++) {
            CHECK(ov_treewin_append(w, leaves[i]) == 0);
        }
        check_window(w, top2);
        CHECK(ov_treewin_advance(w, mid - (mid > 0)) == (mid > 0 ? -OV_E_RANGE : 0));
        CHECK(ov_treewin_advance(w, top2 + 1) == -OV_E_RANGE);
        CHECK(ov_treewin_advance(w, top2) == 0);
        CHECK_EQ_INT(ov_treewin_size(w), top2);
        check_window(w, top2);
        ov_treewin_free(w);
    }
    CHECK_EQ_INT(bad_proofs, 0);
    CHECK_EQ_INT(bad_roots, 0);

    /* bad frontiers and the cap */
    struct ov_treewin *w = NULL;
    size_t k = frontier_of(5, fr);
    CHECK(ov_treewin_new(5, fr, k - 1, 10, &w) == -OV_E_MALFORMED && w == NULL);
    CHECK(ov_treewin_new(5, fr, k + 1, 10, &w) == -OV_E_MALFORMED && w == NULL);
    CHECK(ov_treewin_new(5, fr, k, 3, &w) == 0);
    for (int i = 5; i < 8; i++) {
        CHECK(ov_treewin_append(w, leaves[i]) == 0);
    }
    CHECK(ov_treewin_append(w, leaves[8]) == -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_treewin_size(w), 8);
    CHECK(ov_treewin_advance(w, 7) == 0);
    CHECK(ov_treewin_append(w, leaves[8]) == 0);
    check_window(w, 9);
    ov_treewin_free(w);
    ov_treewin_free(NULL);
    CHECK_EQ_INT(bad_proofs, 0);
    TEST_DONE("test_treewin");
}
