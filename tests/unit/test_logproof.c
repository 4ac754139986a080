/* core/logproof: the proof endpoints' answers (parse) and the checks built on them. */
#include <sodium.h>

#include "../test.h"
#include "base/codec.h"
#include "protocol/logproof.h"

static uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
static size_t n_proof;

static int
parse(enum ov_logproof_kind k, const char *s, uint64_t a, uint64_t size)
{
    return ov_logproof_parse(k, OV_BYTES(s, strlen(s)), a, size, proof, &n_proof);
}

#define H "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define H1 "\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\""

static void
test_parse(void)
{
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[" H "," H1 "]}", 5, 9), 0);
    CHECK_EQ_INT(n_proof, 2);
    CHECK(proof[32] == 1 && proof[63] == 1 && proof[0] == 0);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, " {\"proof\":[],\"size\":1,\"index\":0} ", 0, 1), 0);
    CHECK_EQ_INT(n_proof, 0);
    CHECK_EQ_INT(parse(OV_LOGPROOF_CONSISTENCY, "{\"old\":3,\"size\":9,\"proof\":[" H "]}", 3, 9), 0);
    CHECK_EQ_INT(n_proof, 1);
    /* other numbers than asked */
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":4,\"size\":9,\"proof\":[]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":10,\"proof\":[]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":-5,\"size\":9,\"proof\":[]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5.0,\"size\":9,\"proof\":[]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":\"5\",\"size\":9,\"proof\":[]}", 5, 9), -OV_E_MALFORMED);
    /* the other kind's key */
    CHECK_EQ_INT(parse(OV_LOGPROOF_CONSISTENCY, "{\"index\":3,\"size\":9,\"proof\":[]}", 3, 9), -OV_E_MALFORMED);
    /* keys missing, extra, twice */
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[],\"x\":1}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"index\":5,\"size\":9,\"proof\":[]}", 5, 9), -OV_E_MALFORMED);
    /* hashes: padded standard base64 of 32 bytes, nothing else */
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[\"_____________________________________________w=\"]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\"]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[1]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":{}}", 5, 9), -OV_E_MALFORMED);
    /* not an object, trailing bytes, not JSON */
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "[]", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[]}x", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "", 5, 9), -OV_E_MALFORMED);
    /* a failure leaves nothing behind */
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, "{\"index\":5,\"size\":9,\"proof\":[" H1 ",1]}", 5, 9), -OV_E_MALFORMED);
    CHECK_EQ_INT(n_proof, 0);
    CHECK(proof[0] == 0 && proof[31] == 0);
    /* bounds: 65 hashes, 66 too many; the body's size */
    char big[OV_MAX_LOGPROOF_LEN + 2];
    for (int count = 65; count <= 66; count++) {
        size_t off = (size_t)snprintf(big, sizeof big, "{\"index\":5,\"size\":9,\"proof\":[");
        for (int i = 0; i < count; i++) {
            off += (size_t)snprintf(big + off, sizeof big - off, "%s" H, i ? "," : "");
        }
        snprintf(big + off, sizeof big - off, "]}");
        CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, big, 5, 9), count == 65 ? 0 : -OV_E_TOO_BIG);
    }
    memset(big, ' ', sizeof big);
    memcpy(big, "{\"index\":5,\"size\":9,\"proof\":[]}", 31);
    big[OV_MAX_LOGPROOF_LEN] = 0;
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, big, 5, 9), 0);
    big[OV_MAX_LOGPROOF_LEN] = ' ';
    big[OV_MAX_LOGPROOF_LEN + 1] = 0;
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, big, 5, 9), -OV_E_TOO_BIG);
}

/* A parsed proof verifies with core/primitives/merkle as the log computes it. */
static uint8_t leaves[9][OV_HASH_LEN];

static int
leaf_src(void *ctx, unsigned level, uint64_t index, uint8_t out[OV_HASH_LEN])
{
    (void)ctx;
    return ov_merkle_root(leaves[index << level], 1ull << level, out);
}

/* The JSON the log writes for a proof of n hashes. */
static void
answer(char *json, size_t max, const char *head, const uint8_t *p, size_t n)
{
    size_t off = (size_t)snprintf(json, max, "%s", head);
    for (size_t i = 0; i < n; i++) {
        char b64[64];
        CHECK_EQ_INT(ov_b64_encode(b64, sizeof b64, p + i * 32, 32, OV_B64_STD), 0);
        off += (size_t)snprintf(json + off, max - off, "%s\"%s\"", i ? "," : "", b64);
    }
    snprintf(json + off, max - off, "]}");
}

static void
test_with_merkle(void)
{
    for (int i = 0; i < 9; i++) {
        uint8_t e = (uint8_t)i;
        CHECK_EQ_INT(ov_merkle_leaf_hash(&e, 1, leaves[i]), 0);
    }
    struct ov_merkle_src src = { leaf_src, NULL };
    uint8_t p[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], root[OV_HASH_LEN], old[OV_HASH_LEN];
    size_t n = 0;
    CHECK_EQ_INT(ov_merkle_root(leaves[0], 9, root), 0);
    CHECK_EQ_INT(ov_merkle_root(leaves[0], 3, old), 0);
    CHECK_EQ_INT(ov_merkle_inclusion_proof(&src, 5, 9, p, OV_MERKLE_MAX_PROOF, &n), 0);
    char json[4096];
    answer(json, sizeof json, "{\"index\":5,\"size\":9,\"proof\":[", p, n);
    CHECK_EQ_INT(parse(OV_LOGPROOF_INCLUSION, json, 5, 9), 0);
    CHECK_EQ_INT(ov_merkle_verify_inclusion(5, 9, leaves[5], proof, n_proof, root), 0);
    CHECK(ov_merkle_verify_inclusion(5, 9, leaves[4], proof, n_proof, root) != 0);
    CHECK_EQ_INT(ov_merkle_consistency_proof(&src, 3, 9, p, OV_MERKLE_MAX_PROOF, &n), 0);
    answer(json, sizeof json, "{\"old\":3,\"size\":9,\"proof\":[", p, n);
    CHECK_EQ_INT(parse(OV_LOGPROOF_CONSISTENCY, json, 3, 9), 0);
    CHECK_EQ_INT(ov_merkle_verify_consistency(3, 9, old, root, proof, n_proof), 0);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_parse();
    test_with_merkle();
    TEST_DONE("test_logproof");
}
