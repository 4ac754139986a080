/* Unit tests: issuer/hashes (docs/PROTOCOL.md §7, "Keyed hashes"): recorded vectors of each
 * hash, each rebuilt here from the documented formula, route separation, and the pepper's
 * part. The issuer's module is a program file: it is compiled into this test directly. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/codec.h"
#include "infra/keyfile.h"
#include "../../issuer/hashes.h"
#include "../test.h"

static char dir[] = "/tmp/ov_idhash_XXXXXX";

/* A pepper file holding bytes first, first+1, ... (the vectors' keys). */
static struct ov_secret *
pepper(uint8_t first)
{
    uint8_t raw[32];
    char b64[64], path[256], line[128];
    for (size_t i = 0; i < sizeof raw; i++) {
        raw[i] = (uint8_t)(first + i);
    }
    snprintf(path, sizeof path, "%s/p%u", dir, first);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(line, sizeof line, "onevoice-secret/v1 pepper %s\n", b64);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    struct ov_secret *s = NULL;
    if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd) != 0 ||
        ov_keyfile_load_secret(path, "pepper", 32, &s) != 0) {
        fprintf(stderr, "cannot make %s\n", path);
        exit(1);
    }
    unlink(path);
    return s;
}

static void
check_hex(const uint8_t h[32], const char *want)
{
    char got[65];
    CHECK(ov_hex_encode(got, sizeof got, h, 32) == 0 && strcmp(got, want) == 0);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "  got %s\n want %s\n", got, want);
    }
}

/* BLAKE2b keyed by the pepper over a 0 b [0 c], as PROTOCOL.md writes it. */
static void
blake(const struct ov_secret *k, const char *a, const char *b, const uint8_t *c, size_t cl,
      uint8_t *out, size_t out_len)
{
    crypto_generichash_state s;
    crypto_generichash_init(&s, ov_secret_ptr(k), ov_secret_len(k), out_len);
    crypto_generichash_update(&s, (const uint8_t *)a, strlen(a) + 1);
    crypto_generichash_update(&s, (const uint8_t *)b, strlen(b) + (c != NULL));
    if (c != NULL) {
        crypto_generichash_update(&s, c, cl);
    }
    crypto_generichash_final(&s, out, out_len);
}

static const char ref[] = "NID 123456789";

static void
test_vectors(const struct ov_secret *p)
{
    uint8_t h[32], want[32], salt[16], s[32];
    /* recorded once (libsodium 1.0.18), so that a change of format is seen */
    CHECK_EQ_INT(issuer_identity_hash(p, "registrar", (const uint8_t *)ref, strlen(ref), h), 0);
    check_hex(h, "da57014b04a073c1585d7e879c2385a609a07844b5363bada82b1f77b9f8ddca");
    CHECK_EQ_INT(issuer_identity_hash(p, "attestation", (const uint8_t *)ref, strlen(ref), h),
                 0);
    check_hex(h, "1b990890d384906bfcd924b85a738d581911deef10b7bc07c825af20f8694f64");
    issuer_code_hash(p, "invite", (const uint8_t *)ref, strlen(ref), h);
    check_hex(h, "5a7b9f65a8b24b48d884e03a5cd1e5a8bebfffe73e137ed73bc93609a3fc9d5d");
    /* rebuilt from the documented formula */
    blake(p, "onevoice/v2/identity-salt", "registrar", NULL, 0, salt, sizeof salt);
    CHECK(crypto_pwhash(s, 32, ref, strlen(ref), salt, 3, 12u << 20,
                        crypto_pwhash_ALG_ARGON2ID13) == 0);
    blake(p, "onevoice/v2/identity", "registrar", s, 32, want, 32);
    CHECK_EQ_INT(issuer_identity_hash(p, "registrar", (const uint8_t *)ref, strlen(ref), h), 0);
    CHECK_EQ_MEM(h, want, 32);
    blake(p, "onevoice/v1/identity", "invite", (const uint8_t *)ref, strlen(ref), want, 32);
    issuer_code_hash(p, "invite", (const uint8_t *)ref, strlen(ref), h);
    CHECK_EQ_MEM(h, want, 32);
    /* the issuance tag did not change */
    uint8_t pseudonym[32] = { 7 };
    issuer_issuance_tag(p, pseudonym, "c1", h);
    crypto_generichash_state st;
    crypto_generichash_init(&st, ov_secret_ptr(p), 32, 32); /* tag 0 pseudonym context */
    crypto_generichash_update(&st, (const uint8_t *)"onevoice/v1/tag", 16);
    crypto_generichash_update(&st, pseudonym, 32);
    crypto_generichash_update(&st, (const uint8_t *)"c1", 2);
    crypto_generichash_final(&st, want, 32);
    CHECK_EQ_MEM(h, want, 32);
}

/* One reference, four routes: four unrelated hashes; another pepper: others again. */
static void
test_separation(const struct ov_secret *p, const struct ov_secret *q)
{
    uint8_t h[6][32];
    const uint8_t *r = (const uint8_t *)ref;
    CHECK_EQ_INT(issuer_identity_hash(p, "registrar", r, strlen(ref), h[0]), 0);
    CHECK_EQ_INT(issuer_identity_hash(p, "attestation", r, strlen(ref), h[1]), 0);
    issuer_code_hash(p, "invite", r, strlen(ref), h[2]);
    issuer_code_hash(p, "enroll-token", r, strlen(ref), h[3]);
    issuer_code_hash(p, "registrar", r, strlen(ref), h[4]); /* the first format's hash */
    CHECK_EQ_INT(issuer_identity_hash(q, "registrar", r, strlen(ref), h[5]), 0);
    for (int i = 0; i < 6; i++) {
        for (int j = i + 1; j < 6; j++) {
            CHECK(memcmp(h[i], h[j], 32) != 0);
        }
    }
    uint8_t again[32];
    CHECK_EQ_INT(issuer_identity_hash(p, "registrar", r, strlen(ref), again), 0);
    CHECK_EQ_MEM(again, h[0], 32); /* deterministic: the same person is recognised */
    CHECK_EQ_INT(issuer_identity_hash(p, "registrar", r, strlen(ref) - 1, again), 0);
    CHECK(memcmp(again, h[0], 32) != 0);
}

int
main(void)
{
    if (sodium_init() < 0 || mkdtemp(dir) == NULL) {
        return 1;
    }
    struct ov_secret *p = pepper(0), *q = pepper(1);
    test_vectors(p);
    test_separation(p, q);
    ov_secret_free(p);
    ov_secret_free(q);
    rmdir(dir);
    TEST_DONE("test_issuer_hashes");
}
