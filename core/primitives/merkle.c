/* merkle: RFC 9162 §2.1 hashing, proofs and the append-only builder (see merkle.h).
 *
 * Speed: every hash is one SHA-256 over at most 65 bytes, so the cost that matters is
 * OpenSSL's per-call overhead, not the compression function (which uses the CPU's SHA
 * instructions). The EVP_MD is fetched once per process and each thread reuses one
 * EVP_MD_CTX (EVP_DigestInit_ex2 re-initialises it in place), so no call allocates or
 * looks up a provider. */
#include "primitives/merkle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

_Static_assert(OV_HASH_LEN == 32, "SHA-256 output");

const uint8_t ov_merkle_empty_root[OV_HASH_LEN] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

static EVP_MD *sha256_md;
static pthread_key_t ctx_key;
static int ctx_key_ok;
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_MD_CTX *thread_ctx;

static void
free_thread_ctx(void *p)
{
    EVP_MD_CTX_free(p);
}

static void
sha_setup(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    ctx_key_ok = pthread_key_create(&ctx_key, free_thread_ctx) == 0;
}

/* This thread's digest context, created on first use and freed when the thread exits. */
static EVP_MD_CTX *
sha_ctx(void)
{
    if (thread_ctx != NULL) {
        return thread_ctx;
    }
    if (pthread_once(&sha_once, sha_setup) != 0 || sha256_md == NULL || !ctx_key_ok) {
        return NULL;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL) {
        return NULL;
    }
    if (pthread_setspecific(ctx_key, c) != 0) {
        EVP_MD_CTX_free(c);
        return NULL;
    }
    thread_ctx = c;
    return c;
}

/* out = SHA-256(a ‖ b). */
static int
sha256_2(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[OV_HASH_LEN])
{
    EVP_MD_CTX *c = sha_ctx();
    unsigned int n = 0;
    if (c == NULL || EVP_DigestInit_ex2(c, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(c, a, a_len) != 1 || (b_len != 0 && EVP_DigestUpdate(c, b, b_len) != 1) ||
        EVP_DigestFinal_ex(c, out, &n) != 1 || n != OV_HASH_LEN) {
        memset(out, 0, OV_HASH_LEN);
        return -OV_E_CRYPTO;
    }
    return 0;
}

int
ov_sha256(const uint8_t *p, size_t len, uint8_t out[OV_HASH_LEN])
{
    return sha256_2(p, len, NULL, 0, out);
}

int
ov_merkle_leaf_hash(const uint8_t *entry, size_t len, uint8_t out[OV_HASH_LEN])
{
    static const uint8_t leaf_prefix = 0x00;
    uint8_t in[256];
    if (len >= sizeof in) {
        return sha256_2(&leaf_prefix, 1, entry, len, out);
    }
    /* small entries (most log entries): one update instead of two */
    in[0] = leaf_prefix;
    if (len > 0) {
        memcpy(in + 1, entry, len);
    }
    return sha256_2(in, 1 + len, NULL, 0, out);
}

int
ov_merkle_node_hash(const uint8_t left[OV_HASH_LEN], const uint8_t right[OV_HASH_LEN],
                    uint8_t out[OV_HASH_LEN])
{
    /* One contiguous 65-byte input: a single update is cheaper than three. */
    uint8_t in[1 + 2 * OV_HASH_LEN];
    in[0] = 0x01;
    memcpy(in + 1, left, OV_HASH_LEN);
    memcpy(in + 1 + OV_HASH_LEN, right, OV_HASH_LEN);
    return sha256_2(in, sizeof in, NULL, 0, out);
}

/* The largest power of two strictly less than n (n >= 2): the RFC 9162 split point k. */
static uint64_t
split_point(uint64_t n)
{
    return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* MTH(D[lo:hi]) for a subtree of the RFC recursion, whose lo is a multiple of every
 * power of two up to hi - lo. Its perfect parts are the set bits of hi - lo, largest on
 * the left; folding them right to left costs popcount(hi - lo) lookups. */
static int
range_hash(const struct ov_merkle_src *src, uint64_t lo, uint64_t hi, uint8_t out[OV_HASH_LEN])
{
    uint64_t w = hi - lo;
    int have = 0, rc = 0;
    if (w == 0) {
        memcpy(out, ov_merkle_empty_root, OV_HASH_LEN);
        return 0;
    }
    for (unsigned j = 0; j < 64 && rc == 0; j++) {
        if (((w >> j) & 1) == 0) {
            continue;
        }
        /* the part for bit j starts after all larger parts (bits above j) */
        uint64_t start = lo + (w & ~((UINT64_C(2) << j) - 1));
        uint8_t part[OV_HASH_LEN];
        rc = src->get(src->ctx, j, start >> j, part);
        if (rc == 0 && have) {
            rc = ov_merkle_node_hash(part, out, out);
        } else if (rc == 0) {
            memcpy(out, part, OV_HASH_LEN);
            have = 1;
        }
    }
    if (rc != 0) {
        memset(out, 0, OV_HASH_LEN);
    }
    return rc;
}

int
ov_merkle_root_from(const struct ov_merkle_src *src, uint64_t size, uint8_t out[OV_HASH_LEN])
{
    return range_hash(src, 0, size, out);
}

/* Each step of a proof walk halves the subtree at least, so a 64-bit tree needs at most 64
 * steps plus one final node (see OV_MERKLE_MAX_PROOF); more would be our own bug. */
static void
check_depth(size_t n)
{
    if (n >= OV_MERKLE_MAX_PROOF) {
        abort();
    }
}

/* Copies the n nodes collected root-first into proof[] leaf-first, as RFC 9162 orders them. */
static int
emit_reversed(uint8_t (*nodes)[OV_HASH_LEN], size_t n, uint8_t *proof, size_t proof_max,
              size_t *n_proof)
{
    if (n > proof_max) {
        return -OV_E_TOO_BIG;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(proof + i * OV_HASH_LEN, nodes[n - 1 - i], OV_HASH_LEN);
    }
    *n_proof = n;
    return 0;
}

/* Walking down from the root, each step emits one sibling. At most one sibling is a ragged
 * right edge (after it the walk stays inside a perfect subtree), so the whole proof costs
 * at most 64 + 64 lookups. */
int
ov_merkle_inclusion_proof(const struct ov_merkle_src *src, uint64_t index, uint64_t size,
                          uint8_t *proof, size_t proof_max, size_t *n_proof)
{
    uint8_t nodes[OV_MERKLE_MAX_PROOF][OV_HASH_LEN];
    uint64_t lo = 0, hi = size;
    size_t n = 0;
    int rc = 0;
    *n_proof = 0;
    if (index >= size) {
        return -OV_E_RANGE;
    }
    while (hi - lo > 1 && rc == 0) {
        uint64_t k = split_point(hi - lo);
        check_depth(n);
        if (index < lo + k) {
            rc = range_hash(src, lo + k, hi, nodes[n++]);
            hi = lo + k;
        } else {
            rc = range_hash(src, lo, lo + k, nodes[n++]);
            lo += k;
        }
    }
    return rc != 0 ? rc : emit_reversed(nodes, n, proof, proof_max, n_proof);
}

/* SUBPROOF(m, D[lo:hi], b) unrolled: the invariant lo < old_size <= hi holds throughout. */
int
ov_merkle_consistency_proof(const struct ov_merkle_src *src, uint64_t old_size, uint64_t new_size,
                            uint8_t *proof, size_t proof_max, size_t *n_proof)
{
    uint8_t nodes[OV_MERKLE_MAX_PROOF][OV_HASH_LEN];
    uint64_t lo = 0, hi = new_size;
    size_t n = 0;
    int rc = 0, whole = 1; /* b in RFC 9162: still on the path of the whole old tree */
    *n_proof = 0;
    if (old_size == 0 || old_size > new_size) {
        return -OV_E_RANGE;
    }
    if (old_size == new_size) {
        return 0;
    }
    while (rc == 0) {
        check_depth(n);
        if (old_size == hi) {
            if (!whole) {
                rc = range_hash(src, lo, hi, nodes[n++]);
            }
            break;
        }
        uint64_t k = split_point(hi - lo);
        if (old_size <= lo + k) {
            rc = range_hash(src, lo + k, hi, nodes[n++]);
            hi = lo + k;
        } else {
            rc = range_hash(src, lo, lo + k, nodes[n++]);
            lo += k;
            whole = 0;
        }
    }
    return rc != 0 ? rc : emit_reversed(nodes, n, proof, proof_max, n_proof);
}

/* The walk both verifiers share (RFC 9162 §2.1.3.2 step 5, §2.1.4.2 step 5): starting at
 * node fn of a level whose last node is sn, combine r with each proof hash, as the right
 * child when fn is a right child or the last node of its level, else as the left child.
 * `also` (may be NULL) absorbs only the hashes that sit to the left, which rebuilds the
 * old root of a consistency proof. -OV_E_BAD_PROOF unless the proof ends at the root. */
static int
fold_path(uint64_t fn, uint64_t sn, const uint8_t *proof, size_t n_proof, uint8_t r[OV_HASH_LEN],
          uint8_t *also)
{
    int rc = 0;
    for (size_t i = 0; i < n_proof && rc == 0; i++) {
        const uint8_t *p = proof + i * OV_HASH_LEN;
        if (sn == 0) {
            return -OV_E_BAD_PROOF; /* path too long */
        }
        if ((fn & 1) != 0 || fn == sn) {
            rc = ov_merkle_node_hash(p, r, r);
            if (rc == 0 && also != NULL) {
                rc = ov_merkle_node_hash(p, also, also);
            }
            /* skip the levels where this node has no right sibling (step 5.2) */
            while (fn != 0 && (fn & 1) == 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            rc = ov_merkle_node_hash(r, p, r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (rc == 0 && sn != 0) {
        rc = -OV_E_BAD_PROOF; /* path too short */
    }
    return rc;
}

int
ov_merkle_inclusion_root(uint64_t index, uint64_t size, const uint8_t leaf[OV_HASH_LEN],
                         const uint8_t *proof, size_t n_proof, uint8_t out[OV_HASH_LEN])
{
    uint8_t r[OV_HASH_LEN];
    memset(out, 0, OV_HASH_LEN);
    if (index >= size) {
        return -OV_E_RANGE;
    }
    memcpy(r, leaf, OV_HASH_LEN);
    int rc = fold_path(index, size - 1, proof, n_proof, r, NULL);
    if (rc == 0) {
        memcpy(out, r, OV_HASH_LEN);
    }
    return rc;
}

int
ov_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[OV_HASH_LEN],
                           const uint8_t *proof, size_t n_proof, const uint8_t root[OV_HASH_LEN])
{
    uint8_t r[OV_HASH_LEN];
    int rc = ov_merkle_inclusion_root(index, size, leaf, proof, n_proof, r);
    if (rc == 0 && memcmp(r, root, OV_HASH_LEN) != 0) {
        rc = -OV_E_BAD_PROOF;
    }
    return rc;
}

int
ov_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                             const uint8_t old_root[OV_HASH_LEN],
                             const uint8_t new_root[OV_HASH_LEN], const uint8_t *proof,
                             size_t n_proof)
{
    uint8_t fr[OV_HASH_LEN], sr[OV_HASH_LEN];
    if (old_size == 0 || old_size > new_size) {
        return -OV_E_RANGE;
    }
    if (old_size == new_size) {
        return n_proof == 0 && memcmp(old_root, new_root, OV_HASH_LEN) == 0 ? 0 : -OV_E_BAD_PROOF;
    }
    if (n_proof == 0) {
        return -OV_E_BAD_PROOF;
    }
    /* A power-of-two old tree is itself a node of the new one, so the proof omits it. */
    if ((old_size & (old_size - 1)) == 0) {
        memcpy(fr, old_root, OV_HASH_LEN);
    } else {
        memcpy(fr, proof, OV_HASH_LEN);
        proof += OV_HASH_LEN;
        n_proof--;
    }
    memcpy(sr, fr, OV_HASH_LEN);
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    int rc = fold_path(fn, sn, proof, n_proof, sr, fr);
    if (rc == 0 &&
        (memcmp(fr, old_root, OV_HASH_LEN) != 0 || memcmp(sr, new_root, OV_HASH_LEN) != 0)) {
        rc = -OV_E_BAD_PROOF;
    }
    return rc;
}

void
ov_merkle_builder_init(struct ov_merkle_builder *b, ov_merkle_node_fn on_node, void *ctx)
{
    memset(b, 0, sizeof *b);
    b->on_node = on_node;
    b->ctx = ctx;
}

int
ov_merkle_builder_load(struct ov_merkle_builder *b, uint64_t size, const struct ov_merkle_src *src)
{
    int rc = 0;
    memset(b->frontier, 0, sizeof b->frontier);
    b->size = 0;
    for (unsigned j = 0; j < 64 && rc == 0; j++) {
        if (((size >> j) & 1) != 0) {
            /* the perfect subtree for bit j ends at the larger bits' start + 2^j */
            rc = src->get(src->ctx, j, (size >> j) - 1, b->frontier[j]);
        }
    }
    if (rc != 0) {
        memset(b->frontier, 0, sizeof b->frontier);
        return rc;
    }
    b->size = size;
    return 0;
}

static int
emit_node(const struct ov_merkle_builder *b, unsigned level, uint64_t index,
          const uint8_t hash[OV_HASH_LEN])
{
    return b->on_node != NULL ? b->on_node(b->ctx, level, index, hash) : 0;
}

/* A binary increment: each trailing 1 bit of size merges a frontier hash with the carry.
 * Nothing is stored until every hash and callback succeeded. */
int
ov_merkle_builder_append(struct ov_merkle_builder *b, const uint8_t leaf[OV_HASH_LEN])
{
    uint8_t h[OV_HASH_LEN];
    uint64_t idx = b->size;
    unsigned level = 0;
    if (b->size == UINT64_MAX) {
        return -OV_E_RANGE;
    }
    memcpy(h, leaf, OV_HASH_LEN);
    int rc = emit_node(b, 0, idx, h);
    while (rc == 0 && (idx & 1) != 0) {
        rc = ov_merkle_node_hash(b->frontier[level], h, h);
        level++;
        idx >>= 1;
        if (rc == 0) {
            rc = emit_node(b, level, idx, h);
        }
    }
    if (rc != 0) {
        return rc;
    }
    memcpy(b->frontier[level], h, OV_HASH_LEN);
    b->size++;
    return 0;
}

int
ov_merkle_builder_root(const struct ov_merkle_builder *b, uint8_t out[OV_HASH_LEN])
{
    int have = 0, rc = 0;
    if (b->size == 0) {
        memcpy(out, ov_merkle_empty_root, OV_HASH_LEN);
        return 0;
    }
    for (unsigned j = 0; j < 64 && rc == 0; j++) {
        if (((b->size >> j) & 1) == 0) {
            continue;
        }
        if (have) {
            rc = ov_merkle_node_hash(b->frontier[j], out, out);
        } else {
            memcpy(out, b->frontier[j], OV_HASH_LEN);
            have = 1;
        }
    }
    if (rc != 0) {
        memset(out, 0, OV_HASH_LEN);
    }
    return rc;
}

int
ov_merkle_root(const uint8_t *hashes, uint64_t n, uint8_t out[OV_HASH_LEN])
{
    struct ov_merkle_builder b;
    int rc = 0;
    ov_merkle_builder_init(&b, NULL, NULL);
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        rc = ov_merkle_builder_append(&b, hashes + i * OV_HASH_LEN);
    }
    if (rc == 0) {
        rc = ov_merkle_builder_root(&b, out);
    } else {
        memset(out, 0, OV_HASH_LEN);
    }
    return rc;
}
