/* sign: Ed25519 signing keys (libsodium) and the domain-separated signatures onevoice defines.
 *
 * This module owns `struct ov_sign_key`, the one place an Ed25519 secret key lives: in
 * sodium_malloc memory (guard pages, mlock, no core dumps), made read-only once built, and
 * wiped by sodium_free. Nothing else ever holds the 64-byte secret key.
 *
 * Framing of every signature *we* define (ov_sign / ov_sign_verify):
 *
 *   | bytes      | content                                                       |
 *   |------------|---------------------------------------------------------------|
 *   | len(tag)   | the purpose's ASCII tag, e.g. "onevoice/v1/action"             |
 *   | 1          | 0x00 (tags never contain NUL, so the tag ends unambiguously)   |
 *   | 4          | u32 big-endian length of msg                                   |
 *   | len(msg)   | msg                                                            |
 *
 * Ed25519 (RFC 8032, pure, deterministic) signs those bytes. The tag keeps a signature made
 * for one purpose from ever verifying for another; the NUL also keeps our messages apart from
 * C2SP notes, which may not contain NUL bytes. Standard formats (C2SP notes and cosignatures)
 * keep their own framing and use ov_sign_raw / ov_sign_verify_raw instead.
 *
 * Extension point: to add a purpose, append an enum constant before OV_SIGN_PURPOSE_COUNT
 * and its tag to the table in sign.c (a static assert keeps the two in step). Never change
 * or reuse an existing tag: signatures already made would change meaning. */
#ifndef OV_SIGN_H
#define OV_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "base/err.h"

#define OV_SIGN_SEED_LEN crypto_sign_SEEDBYTES     /* 32 */
#define OV_SIGN_PK_LEN crypto_sign_PUBLICKEYBYTES  /* 32 */
#define OV_SIGN_SIG_LEN crypto_sign_BYTES          /* 64 */
/* The largest message ov_sign/ov_sign_verify accept (the framed copy is allocated). */
#define OV_SIGN_MAX_MSG_LEN (1u << 20)

enum ov_sign_purpose {
    OV_SIGN_LOG_APPEND,    /* "onevoice/v1/log-append": a producer's append request to the log */
    OV_SIGN_ENROLL,        /* "onevoice/v1/enroll": an attester's enrollment statement */
    OV_SIGN_TOKEN_REQUEST, /* "onevoice/v1/token-request": an enrollee's TokenRequest */
    OV_SIGN_ACTION,        /* "onevoice/v1/action": a ballot or rating by a one-time key */
    OV_SIGN_RECEIPT,       /* "onevoice/v1/receipt": the verifier's receipt for an action */
    OV_SIGN_ADMIN,         /* "onevoice/v1/admin": an operator command (context creation...) */
    OV_SIGN_SORTITION_COMMIT, /* "onevoice/v1/sortition-commit": a party's seed commitment */
    OV_SIGN_LOG_FILE,      /* "onevoice/v1/log-file": a producer's file upload to the log */
    OV_SIGN_PURPOSE_COUNT
};

/* An Ed25519 key pair in guarded, read-only memory. Opaque. */
struct ov_sign_key;

/* The ASCII tag of a purpose (no NUL inside). Aborts on a value outside the enum. */
const char *ov_sign_tag(enum ov_sign_purpose p);

/* A fresh random key (randombytes_buf). *out is the caller's, to free with ov_sign_key_free.
 * -OV_E_NOMEM or -OV_E_CRYPTO; *out = NULL on failure. */
OV_MUST_CHECK int ov_sign_key_generate(struct ov_sign_key **out);
/* The key derived from a 32-byte RFC 8032 seed (the seed is not kept apart from the key; the
 * caller still owns and wipes its copy). Errors as above. */
OV_MUST_CHECK int ov_sign_key_from_seed(const uint8_t seed[OV_SIGN_SEED_LEN],
                                        struct ov_sign_key **out);
/* Wipes and frees. Accepts NULL. */
void ov_sign_key_free(struct ov_sign_key *k);
/* Copies the public key. */
void ov_sign_key_public(const struct ov_sign_key *k, uint8_t pk[OV_SIGN_PK_LEN]);
/* A pointer to the public key inside the key object (valid until ov_sign_key_free). */
const uint8_t *ov_sign_key_pk(const struct ov_sign_key *k);

/* Signs tag(p) || 0x00 || u32be(len) || msg. -OV_E_TOO_BIG over OV_SIGN_MAX_MSG_LEN,
 * -OV_E_NOMEM; sig is zeroed on failure. */
OV_MUST_CHECK int ov_sign(const struct ov_sign_key *k, enum ov_sign_purpose p,
                          const uint8_t *msg, size_t len, uint8_t sig[OV_SIGN_SIG_LEN]);
/* 0 when sig is a valid signature by pk over the framing above; -OV_E_BAD_SIG otherwise
 * (libsodium's strict check: canonical s, no small-order R or A), -OV_E_TOO_BIG, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_sign_verify(const uint8_t pk[OV_SIGN_PK_LEN], enum ov_sign_purpose p,
                                 const uint8_t *msg, size_t len,
                                 const uint8_t sig[OV_SIGN_SIG_LEN]);

/* Plain Ed25519 over msg, with no framing: only for standard formats that frame their own
 * messages (C2SP notes and cosignatures). sig is zeroed on failure (-OV_E_CRYPTO). */
OV_MUST_CHECK int ov_sign_raw(const struct ov_sign_key *k, const uint8_t *msg, size_t len,
                              uint8_t sig[OV_SIGN_SIG_LEN]);
/* 0 or -OV_E_BAD_SIG (crypto_sign_verify_detached). */
OV_MUST_CHECK int ov_sign_verify_raw(const uint8_t pk[OV_SIGN_PK_LEN], const uint8_t *msg,
                                     size_t len, const uint8_t sig[OV_SIGN_SIG_LEN]);

#endif
