/* Unit tests: core/primitives/sign (Ed25519 with domain separation). Known answers: RFC 8032 §7.1
 * TEST 1, TEST 2 and TEST 3 (https://www.rfc-editor.org/rfc/rfc8032#section-7.1), copied
 * from the RFC text (and matching pyca/cryptography's ed25519 vector file). */
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/codec.h"
#include "base/reader.h"
#include "primitives/sign.h"
#include "../test.h"

struct rfc8032_case {
    const char *seed, *pk, *msg, *sig;
};

static const struct rfc8032_case rfc8032[] = {
    { /* TEST 1: empty message */
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
    { /* TEST 2: one byte */
      "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
    { /* TEST 3: two bytes */
      "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
      "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

static size_t
unhex(uint8_t *out, size_t cap, const char *s)
{
    size_t n = 0;
    if (ov_hex_decode(out, cap, &n, s, strlen(s)) != 0) {
        fprintf(stderr, "bad hex in test\n");
        exit(1);
    }
    return n;
}

static void
test_rfc8032(void)
{
    for (size_t i = 0; i < sizeof rfc8032 / sizeof rfc8032[0]; i++) {
        uint8_t seed[32], pk[32], msg[8], want[64], sig[64], got_pk[32];
        CHECK_EQ_INT(unhex(seed, sizeof seed, rfc8032[i].seed), 32);
        CHECK_EQ_INT(unhex(pk, sizeof pk, rfc8032[i].pk), 32);
        size_t msg_len = unhex(msg, sizeof msg, rfc8032[i].msg);
        CHECK_EQ_INT(unhex(want, sizeof want, rfc8032[i].sig), 64);

        struct ov_sign_key *k = NULL;
        CHECK_EQ_INT(ov_sign_key_from_seed(seed, &k), 0);
        ov_sign_key_public(k, got_pk);
        CHECK_EQ_MEM(got_pk, pk, 32);
        CHECK_EQ_MEM(ov_sign_key_pk(k), pk, 32);
        CHECK_EQ_INT(ov_sign_raw(k, msg, msg_len, sig), 0);
        CHECK_EQ_MEM(sig, want, 64);
        CHECK_EQ_INT(ov_sign_verify_raw(pk, msg, msg_len, sig), 0);
        /* any flipped bit anywhere in the signature fails */
        for (size_t bit = 0; bit < 512; bit += 7) {
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            CHECK_EQ_INT(ov_sign_verify_raw(pk, msg, msg_len, sig), -OV_E_BAD_SIG);
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* a different message fails */
        uint8_t other[9] = { 0 };
        memcpy(other, msg, msg_len);
        CHECK_EQ_INT(ov_sign_verify_raw(pk, other, msg_len + 1, sig), -OV_E_BAD_SIG);
        ov_sign_key_free(k);
    }
}

/* s + L (the group order) is the same scalar, non-canonically encoded: must be refused. */
static void
test_strict(void)
{
    static const uint8_t L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                   0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
    uint8_t seed[32], pk[32], sig[64], bad[64];
    unhex(seed, sizeof seed, rfc8032[0].seed);
    unhex(pk, sizeof pk, rfc8032[0].pk);
    unhex(sig, sizeof sig, rfc8032[0].sig);
    memcpy(bad, sig, 64);
    unsigned carry = 0;
    for (size_t i = 0; i < 32; i++) {
        unsigned v = bad[32 + i] + L[i] + carry;
        bad[32 + i] = (uint8_t)v;
        carry = v >> 8;
    }
    CHECK_EQ_INT(carry, 0);
    CHECK_EQ_INT(ov_sign_verify_raw(pk, NULL, 0, bad), -OV_E_BAD_SIG);

    /* the identity point as a public key (small order) never verifies */
    uint8_t ident[32] = { 1 };
    CHECK_EQ_INT(ov_sign_verify_raw(ident, NULL, 0, sig), -OV_E_BAD_SIG);
}

static void
test_framing(void)
{
    struct ov_sign_key *k = NULL, *k2 = NULL;
    uint8_t sig[64], pk[32];
    static const uint8_t msg[] = "ballot: yes";
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    CHECK_EQ_INT(ov_sign_key_generate(&k2), 0);
    CHECK(k != NULL && k2 != NULL);
    CHECK(memcmp(ov_sign_key_pk(k), ov_sign_key_pk(k2), 32) != 0);
    ov_sign_key_public(k, pk);

    CHECK_EQ_INT(ov_sign(k, OV_SIGN_ACTION, msg, sizeof msg - 1, sig), 0);
    CHECK_EQ_INT(ov_sign_verify(pk, OV_SIGN_ACTION, msg, sizeof msg - 1, sig), 0);
    /* another purpose, another length, another key, the raw message: all fail */
    for (int p = 0; p < OV_SIGN_PURPOSE_COUNT; p++) {
        if (p != OV_SIGN_ACTION) {
            CHECK_EQ_INT(ov_sign_verify(pk, (enum ov_sign_purpose)p, msg, sizeof msg - 1, sig),
                         -OV_E_BAD_SIG);
        }
    }
    CHECK_EQ_INT(ov_sign_verify(pk, OV_SIGN_ACTION, msg, sizeof msg - 2, sig), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_sign_verify(ov_sign_key_pk(k2), OV_SIGN_ACTION, msg, sizeof msg - 1, sig),
                 -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_sign_verify_raw(pk, msg, sizeof msg - 1, sig), -OV_E_BAD_SIG);

    /* the documented framing: tag || 0x00 || u32be(len) || msg, byte for byte */
    uint8_t framed[64];
    struct ov_writer w;
    ov_writer_init(&w, framed, sizeof framed);
    ov_writer_bytes(&w, "onevoice/v1/action", 18);
    ov_writer_u8(&w, 0);
    ov_writer_u32be(&w, (uint32_t)(sizeof msg - 1));
    ov_writer_bytes(&w, msg, sizeof msg - 1);
    CHECK_EQ_INT(ov_writer_end(&w), 0);
    CHECK_EQ_INT(ov_sign_verify_raw(pk, framed, w.len, sig), 0);

    /* tags: distinct, printable, no NUL, and none a prefix of another */
    for (int a = 0; a < OV_SIGN_PURPOSE_COUNT; a++) {
        const char *ta = ov_sign_tag((enum ov_sign_purpose)a);
        CHECK(strncmp(ta, "onevoice/v1/", 12) == 0);
        for (int b = 0; b < OV_SIGN_PURPOSE_COUNT; b++) {
            const char *tb = ov_sign_tag((enum ov_sign_purpose)b);
            if (a != b) {
                CHECK(strncmp(ta, tb, strlen(ta)) != 0);
            }
        }
    }

    /* empty message, and the size cap (sig is zeroed on failure) */
    CHECK_EQ_INT(ov_sign(k, OV_SIGN_RECEIPT, NULL, 0, sig), 0);
    CHECK_EQ_INT(ov_sign_verify(pk, OV_SIGN_RECEIPT, NULL, 0, sig), 0);
    uint8_t *big = calloc(1, OV_SIGN_MAX_MSG_LEN + 1);
    CHECK(big != NULL);
    CHECK_EQ_INT(ov_sign(k, OV_SIGN_LOG_APPEND, big, OV_SIGN_MAX_MSG_LEN, sig), 0);
    CHECK_EQ_INT(ov_sign_verify(pk, OV_SIGN_LOG_APPEND, big, OV_SIGN_MAX_MSG_LEN, sig), 0);
    CHECK_EQ_INT(ov_sign(k, OV_SIGN_LOG_APPEND, big, OV_SIGN_MAX_MSG_LEN + 1, sig),
                 -OV_E_TOO_BIG);
    static const uint8_t zero[64];
    CHECK_EQ_MEM(sig, zero, 64);
    CHECK_EQ_INT(ov_sign_verify(pk, OV_SIGN_LOG_APPEND, big, OV_SIGN_MAX_MSG_LEN + 1, sig),
                 -OV_E_TOO_BIG);
    free(big);
    ov_sign_key_free(k);
    ov_sign_key_free(k2);
    ov_sign_key_free(NULL);
}

/* The key lives in read-only memory: a stray write must crash, not corrupt the key. */
static void
test_readonly(void)
{
    struct ov_sign_key *k = NULL;
    CHECK_EQ_INT(ov_sign_key_generate(&k), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stderr) == NULL) { /* keep a sanitizer's report quiet */
            _exit(2);
        }
        uint8_t *p = (uint8_t *)(uintptr_t)ov_sign_key_pk(k);
        p[0] ^= 1;
        _exit(0); /* reached only if the write went through */
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    ov_sign_key_free(k);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_rfc8032();
    test_strict();
    test_framing();
    test_readonly();
    TEST_DONE("sign");
}
