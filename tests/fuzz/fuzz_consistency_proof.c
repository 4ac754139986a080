/* Fuzz target: consistency-proof verification (RFC 9162 §2.1.4.2).
 * Input: old size u64be ‖ new size u64be ‖ old root[32] ‖ new root[32] ‖ proof[32]·k.
 * 1. Verifying the raw input never crashes, and never accepts old size 0 or old > new.
 * 2. On the honest tree of fuzz_tree.h, with n = new mod 1024 + 1 and m = old mod n + 1,
 *    the generated proof verifies, and the fuzzed proof verifies only if it is that proof. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/merkle.h"
#include "fuzz_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t p[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], r1[OV_HASH_LEN], r2[OV_HASH_LEN];
    size_t np = 0;
    struct ft_input in;
    if (!ft_split(data, size, &in)) {
        return 0;
    }
    ft_init();
    int rc = ov_merkle_verify_consistency(in.a, in.b, in.h1, in.h2, in.proof, in.n_proof);
    if (rc == 0 && (in.a == 0 || in.a > in.b)) {
        abort();
    }

    uint64_t n = in.b % FUZZ_TREE_MAX + 1, m = in.a % n + 1;
    struct ov_merkle_src src = { ft_get, &n };
    if (ov_merkle_root_from(&src, m, r1) != 0 || ov_merkle_root_from(&src, n, r2) != 0 ||
        ov_merkle_consistency_proof(&src, m, n, p, OV_MERKLE_MAX_PROOF, &np) != 0 ||
        ov_merkle_verify_consistency(m, n, r1, r2, p, np) != 0) {
        abort();
    }
    if (ov_merkle_verify_consistency(m, n, r1, r2, in.proof, in.n_proof) == 0 &&
        (in.n_proof != np || memcmp(in.proof, p, np * OV_HASH_LEN) != 0)) {
        abort();
    }
    return 0;
}
