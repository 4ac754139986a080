#include "primitives/sign.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/reader.h"

struct ov_sign_key {
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || pk, as libsodium wants it */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

_Static_assert(crypto_sign_SECRETKEYBYTES == 64, "Ed25519 secret key is seed || pk");
_Static_assert(OV_SIGN_MAX_MSG_LEN <= UINT32_MAX, "the length field is a u32");

/* Index = enum ov_sign_purpose. Append only; never edit an existing tag. */
static const char *const sign_tags[] = {
    [OV_SIGN_LOG_APPEND] = "onevoice/v1/log-append",
    [OV_SIGN_ENROLL] = "onevoice/v1/enroll",
    [OV_SIGN_TOKEN_REQUEST] = "onevoice/v1/token-request",
    [OV_SIGN_ACTION] = "onevoice/v1/action",
    [OV_SIGN_RECEIPT] = "onevoice/v1/receipt",
    [OV_SIGN_ADMIN] = "onevoice/v1/admin",
    [OV_SIGN_SORTITION_COMMIT] = "onevoice/v1/sortition-commit",
    [OV_SIGN_LOG_FILE] = "onevoice/v1/log-file",
};
_Static_assert(sizeof sign_tags / sizeof sign_tags[0] == OV_SIGN_PURPOSE_COUNT,
               "every purpose has a tag");

const char *
ov_sign_tag(enum ov_sign_purpose p)
{
    if ((unsigned)p >= OV_SIGN_PURPOSE_COUNT) {
        abort(); /* a caller bug, never peer input */
    }
    return sign_tags[p];
}

/* Builds the key in guarded memory from a seed, then seals it read-only. */
static int
key_build(const uint8_t seed[OV_SIGN_SEED_LEN], struct ov_sign_key **out)
{
    *out = NULL;
    if (sodium_init() < 0) {
        return -OV_E_CRYPTO;
    }
    struct ov_sign_key *k = sodium_malloc(sizeof *k);
    if (k == NULL) {
        return -OV_E_NOMEM;
    }
    if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0 ||
        sodium_mprotect_readonly(k) != 0) {
        sodium_free(k);
        return -OV_E_CRYPTO;
    }
    *out = k;
    return 0;
}

int
ov_sign_key_generate(struct ov_sign_key **out)
{
    uint8_t seed[OV_SIGN_SEED_LEN];
    *out = NULL;
    if (sodium_init() < 0) {
        return -OV_E_CRYPTO;
    }
    randombytes_buf(seed, sizeof seed);
    int rc = key_build(seed, out);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int
ov_sign_key_from_seed(const uint8_t seed[OV_SIGN_SEED_LEN], struct ov_sign_key **out)
{
    return key_build(seed, out);
}

void
ov_sign_key_free(struct ov_sign_key *k)
{
    if (k != NULL) {
        sodium_free(k); /* wipes, and handles the read-only protection itself */
    }
}

void
ov_sign_key_public(const struct ov_sign_key *k, uint8_t pk[OV_SIGN_PK_LEN])
{
    memcpy(pk, k->pk, OV_SIGN_PK_LEN);
}

const uint8_t *
ov_sign_key_pk(const struct ov_sign_key *k)
{
    return k->pk;
}

/* tag || 0x00 || u32be(len) || msg into a fresh buffer the caller clears. */
static int
frame(enum ov_sign_purpose p, const uint8_t *msg, size_t len, struct ov_buf *out)
{
    const char *tag = ov_sign_tag(p);
    size_t tag_len = strlen(tag);
    ov_buf_init(out, tag_len + 1 + 4 + OV_SIGN_MAX_MSG_LEN);
    if (len > OV_SIGN_MAX_MSG_LEN) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_buf_reserve(out, tag_len + 1 + 4 + len);
    if (rc != 0) {
        return rc;
    }
    struct ov_writer w;
    ov_writer_init(&w, out->ptr, out->cap);
    ov_writer_bytes(&w, tag, tag_len + 1); /* the tag's own NUL is the separator */
    ov_writer_u32be(&w, (uint32_t)len);
    ov_writer_bytes(&w, msg, len);
    out->len = w.len;
    return ov_writer_end(&w);
}

int
ov_sign(const struct ov_sign_key *k, enum ov_sign_purpose p, const uint8_t *msg, size_t len,
        uint8_t sig[OV_SIGN_SIG_LEN])
{
    struct ov_buf m;
    int rc = frame(p, msg, len, &m);
    if (rc == 0) {
        rc = ov_sign_raw(k, m.ptr, m.len, sig);
    }
    if (rc != 0) {
        memset(sig, 0, OV_SIGN_SIG_LEN);
    }
    ov_buf_clear(&m);
    return rc;
}

int
ov_sign_verify(const uint8_t pk[OV_SIGN_PK_LEN], enum ov_sign_purpose p, const uint8_t *msg,
               size_t len, const uint8_t sig[OV_SIGN_SIG_LEN])
{
    struct ov_buf m;
    int rc = frame(p, msg, len, &m);
    if (rc == 0) {
        rc = ov_sign_verify_raw(pk, m.ptr, m.len, sig);
    }
    ov_buf_clear(&m);
    return rc;
}

int
ov_sign_raw(const struct ov_sign_key *k, const uint8_t *msg, size_t len,
            uint8_t sig[OV_SIGN_SIG_LEN])
{
    if (crypto_sign_detached(sig, NULL, msg, len, k->sk) != 0) {
        memset(sig, 0, OV_SIGN_SIG_LEN);
        return -OV_E_CRYPTO;
    }
    return 0;
}

int
ov_sign_verify_raw(const uint8_t pk[OV_SIGN_PK_LEN], const uint8_t *msg, size_t len,
                   const uint8_t sig[OV_SIGN_SIG_LEN])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -OV_E_BAD_SIG;
}
