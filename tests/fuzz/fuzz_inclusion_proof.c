/* Fuzz target: inclusion-proof verification (RFC 9162 §2.1.3.2).
 * Input: index u64be ‖ size u64be ‖ leaf[32] ‖ root[32] ‖ proof hashes[32]·k.
 * 1. Verifying the raw input never crashes, and agrees with ov_merkle_inclusion_root.
 * 2. On the honest tree of fuzz_tree.h, with n = size mod 1024 + 1 and i = index mod n,
 *    the generated proof verifies, and the fuzzed proof verifies only if it is that proof
 *    (anything else would need a SHA-256 collision, so it means a verifier bug). */
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
    uint8_t p[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], r[OV_HASH_LEN], root[OV_HASH_LEN];
    size_t np = 0;
    struct ft_input in;
    if (!ft_split(data, size, &in)) {
        return 0;
    }
    ft_init();
    int rc = ov_merkle_verify_inclusion(in.a, in.b, in.h1, in.proof, in.n_proof, in.h2);
    int rc2 = ov_merkle_inclusion_root(in.a, in.b, in.h1, in.proof, in.n_proof, r);
    if ((rc == 0) != (rc2 == 0 && memcmp(r, in.h2, OV_HASH_LEN) == 0)) {
        abort();
    }

    uint64_t n = in.b % FUZZ_TREE_MAX + 1, i = in.a % n;
    struct ov_merkle_src src = { ft_get, &n };
    if (ov_merkle_root_from(&src, n, root) != 0 ||
        ov_merkle_inclusion_proof(&src, i, n, p, OV_MERKLE_MAX_PROOF, &np) != 0 ||
        ov_merkle_verify_inclusion(i, n, ft_nodes[0][i], p, np, root) != 0) {
        abort();
    }
    if (ov_merkle_verify_inclusion(i, n, ft_nodes[0][i], in.proof, in.n_proof, root) == 0 &&
        (in.n_proof != np || memcmp(in.proof, p, np * OV_HASH_LEN) != 0)) {
        abort();
    }
    return 0;
}
