/* hashes: the keyed hashes of docs/PROTOCOL.md §7 (hashes.h says which is for what). */
#include "hashes.h"

#include <string.h>

#include <sodium.h>

/* BLAKE2b keyed by key over tag 0 [part1 0] p2 [p3], out_len bytes. */
static void
keyed_hash(const struct ov_secret *key, const char *tag, const char *part1, const uint8_t *p2,
           size_t n2, const uint8_t *p3, size_t n3, uint8_t *out, size_t out_len)
{
    crypto_generichash_state s;
    static const uint8_t nul = 0;
    crypto_generichash_init(&s, ov_secret_ptr(key), ov_secret_len(key), out_len);
    crypto_generichash_update(&s, (const uint8_t *)tag, strlen(tag));
    crypto_generichash_update(&s, &nul, 1);
    if (part1 != NULL) {
        crypto_generichash_update(&s, (const uint8_t *)part1, strlen(part1));
        crypto_generichash_update(&s, &nul, 1);
    }
    crypto_generichash_update(&s, p2, n2);
    if (p3 != NULL) {
        crypto_generichash_update(&s, p3, n3);
    }
    crypto_generichash_final(&s, out, out_len);
    sodium_memzero(&s, sizeof s);
}

void
issuer_code_hash(const struct ov_secret *pepper, const char *route, const uint8_t *code,
                 size_t code_len, uint8_t out[32])
{
    keyed_hash(pepper, "onevoice/v1/identity", route, code, code_len, NULL, 0, out, 32);
}

int
issuer_identity_hash(const struct ov_secret *pepper, const char *route, const uint8_t *ref,
                     size_t ref_len, uint8_t out[32])
{
    uint8_t salt[ISSUER_ID_SALT_LEN], s[32];
    /* the salt is secret (derived from the pepper): without the pepper there is nothing to
     * stretch guesses against; per route, so one reference gives unrelated hashes */
    keyed_hash(pepper, "onevoice/v2/identity-salt", NULL, (const uint8_t *)route,
               strlen(route), NULL, 0, salt, sizeof salt);
    int rc = crypto_pwhash(s, sizeof s, (const char *)ref, ref_len, salt, ISSUER_ID_OPSLIMIT,
                           ISSUER_ID_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) == 0
                 ? 0
                 : -OV_E_NOMEM;
    /* keyed again with the whole pepper: the salt carries only 128 bits of it */
    if (rc == 0) {
        keyed_hash(pepper, "onevoice/v2/identity", route, s, sizeof s, NULL, 0, out, 32);
    } else {
        memset(out, 0, 32);
    }
    sodium_memzero(salt, sizeof salt);
    sodium_memzero(s, sizeof s);
    return rc;
}

void
issuer_issuance_tag(const struct ov_secret *tag, const uint8_t pseudonym[32], const char *context,
                    uint8_t out[OV_TAG_LEN])
{
    keyed_hash(tag, "onevoice/v1/tag", NULL, pseudonym, 32, (const uint8_t *)context,
               strlen(context), out, OV_TAG_LEN);
}
