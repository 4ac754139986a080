/* bench_merkle: leaf hashing + tree building, proof verification, and rebuilding the whole
 * 70,000-entry tile set, each beside the limit measured in the same run: OpenSSL SHA-256 on
 * 64-byte inputs (the best of a reused EVP_MD_CTX and one-shot EVP_Digest, both with the
 * EVP_MD fetched once). A 64-byte input and our 65-byte node input both cost two SHA-256
 * compressions, so the limit for N hashes is N / (64-byte hashes per second).
 * The machine is shared, so every figure (limit included) is the best of REPEATS runs.
 * Prints: bench NAME VALUE UNIT limit LIMIT ratio VALUE/LIMIT (for the rebuild time, a
 * ratio above 1 is the factor by which it is slower than hashing alone). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/bytes.h"
#include "primitives/merkle.h"
#include "primitives/tiles.h"
#include "bench.h"

#define N_LEAVES (1u << 18)
#define REPEATS 7
#define ENTRY_LEN 64
#define FIXTURE_SIZE 70000

static void
die(const char *what)
{
    fprintf(stderr, "bench_merkle: %s failed\n", what);
    exit(1);
}

/* SHA-256 of 64-byte inputs per second over a short sample: a reused EVP_MD_CTX when
 * oneshot is 0, else EVP_Digest; the EVP_MD is fetched once either way. */
static double
sha256_64_per_s(int oneshot)
{
    static EVP_MD *md;
    static EVP_MD_CTX *c;
    uint8_t in[64] = {0}, out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    unsigned long count = 0;
    if (md == NULL) {
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
        c = EVP_MD_CTX_new();
    }
    if (md == NULL || c == NULL) {
        die("EVP setup");
    }
    double t0 = bench_now(), t;
    do {
        for (int i = 0; i < 10000; i++) {
            in[0] = out[0];
            if (!oneshot ? (EVP_DigestInit_ex2(c, md, NULL) != 1 ||
                            EVP_DigestUpdate(c, in, sizeof in) != 1 ||
                            EVP_DigestFinal_ex(c, out, &n) != 1)
                         : EVP_Digest(in, sizeof in, out, &n, md, NULL) != 1) {
                die("EVP digest");
            }
        }
        count += 10000;
        t = bench_now() - t0;
    } while (t < 0.05);
    return (double)count / t;
}

static void
line(const char *name, double value, const char *unit, double limit)
{
    printf("bench %s %.6g %s limit %.6g ratio %.3f\n", name, value, unit, limit, value / limit);
}

/* One run over N_LEAVES leaves of ENTRY_LEN bytes: seconds. */
static double
run_leaves(void)
{
    static uint8_t entry[ENTRY_LEN];
    struct ov_merkle_builder b;
    uint8_t h[OV_HASH_LEN];
    ov_merkle_builder_init(&b, NULL, NULL);
    double t0 = bench_now();
    for (uint32_t i = 0; i < N_LEAVES; i++) {
        memcpy(entry, &i, sizeof i);
        if (ov_merkle_leaf_hash(entry, sizeof entry, h) != 0 ||
            ov_merkle_builder_append(&b, h) != 0) {
            die("append");
        }
    }
    if (ov_merkle_builder_root(&b, h) != 0) {
        die("root");
    }
    return bench_now() - t0;
}

/* VERIFY_RUN inclusion proofs into a 2^20 tree of equal leaves (20 node hashes each). */
#define VERIFY_RUN 20000
static double
run_verify(void)
{
    static uint8_t level[21][OV_HASH_LEN];
    uint8_t proof[20 * OV_HASH_LEN];
    if (ov_merkle_leaf_hash((const uint8_t *)"x", 1, level[0]) != 0) {
        die("leaf");
    }
    for (int l = 1; l <= 20; l++) {
        if (ov_merkle_node_hash(level[l - 1], level[l - 1], level[l]) != 0) {
            die("node");
        }
        memcpy(proof + (l - 1) * OV_HASH_LEN, level[l - 1], OV_HASH_LEN);
    }
    double t0 = bench_now();
    for (uint64_t i = 0; i < VERIFY_RUN; i++) {
        if (ov_merkle_verify_inclusion(i * 7919 % (1u << 20), 1u << 20, level[0], proof, 20,
                                       level[20]) != 0) {
            die("verify");
        }
    }
    return bench_now() - t0;
}

static int
count_sink(void *ctx, const struct ov_tile *t, const uint8_t *hashes, size_t len)
{
    (void)t;
    (void)hashes;
    *(size_t *)ctx += len;
    return 0;
}

/* Everything a log does to publish the fixture from scratch, in memory: leaf hashes,
 * tree, every tile and every entry bundle. Seconds. */
static double
run_tiles(void)
{
    struct ov_tiler *t = NULL;
    struct ov_buf bundle;
    size_t tile_bytes = 0, bundle_bytes = 0;
    char e[64];
    ov_buf_init(&bundle, OV_MAX_BUNDLE_LEN);
    double t0 = bench_now();
    if (ov_tiler_new(&t, 0, NULL, count_sink, &tile_bytes) != 0) {
        die("tiler");
    }
    for (uint64_t i = 0; i < FIXTURE_SIZE; i++) {
        uint8_t h[OV_HASH_LEN];
        int n = snprintf(e, sizeof e, "fixture entry %llu", (unsigned long long)i);
        if (ov_merkle_leaf_hash((const uint8_t *)e, (size_t)n, h) != 0 ||
            ov_tiler_append(t, h) != 0 ||
            ov_bundle_append(&bundle, (const uint8_t *)e, (size_t)n) != 0) {
            die("tiler append");
        }
        if ((i + 1) % OV_TILE_WIDTH == 0 || i + 1 == FIXTURE_SIZE) {
            bundle_bytes += bundle.len;
            bundle.len = 0;
        }
    }
    if (ov_tiler_flush(t) != 0) {
        die("flush");
    }
    double secs = bench_now() - t0;
    ov_tiler_free(t);
    ov_buf_clear(&bundle);
    /* 273 + 1 full tiles, partials of 112, 17 and 1 hashes */
    if (tile_bytes != (273 + 1) * OV_TILE_MAX_LEN + (112 + 17 + 1) * OV_HASH_LEN ||
        bundle_bytes == 0) {
        die("tile set size");
    }
    return secs;
}

static double
min_d(double a, double b)
{
    return a < b ? a : b;
}

int
main(void)
{
    double sha_rate = 0, t_leaves = 1e300, t_verify = 1e300, t_tiles = 1e300;
    /* interleaved, so the limit and the figures see the same machine load */
    for (int i = 0; i < REPEATS; i++) {
        sha_rate = -min_d(-sha_rate, -sha256_64_per_s(0));
        sha_rate = -min_d(-sha_rate, -sha256_64_per_s(1));
        t_leaves = min_d(t_leaves, run_leaves());
        t_verify = min_d(t_verify, run_verify());
        t_tiles = min_d(t_tiles, run_tiles());
    }
    /* per leaf: one leaf hash (1 + 64 bytes) and, amortised, one node hash (65 bytes) */
    double hashes = 2.0 * N_LEAVES - 1,
           bytes = (double)N_LEAVES * (1 + ENTRY_LEN) + (double)(N_LEAVES - 1) * 65;
    line("merkle_leaves", N_LEAVES / t_leaves, "leaves/s", sha_rate * N_LEAVES / hashes);
    line("merkle_leaves_sha_input", bytes / t_leaves, "B/s", sha_rate * 64);
    line("merkle_verify_inclusion_2^20", VERIFY_RUN / t_verify, "proofs/s", sha_rate / 20);
    line("merkle_tiles_70000_rebuild", t_tiles * 1e3, "ms",
         (2.0 * FIXTURE_SIZE - 1) / sha_rate * 1e3);
    return 0;
}
