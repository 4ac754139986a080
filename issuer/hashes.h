/* hashes: the issuer's keyed hashes (docs/PROTOCOL.md §7, "Keyed hashes").
 *
 * Two kinds of secret reach the issuer, and they need different hashes:
 *   - random secrets it handed out itself (invitation codes, 128 bits; registrar enrollment
 *     tokens, 256 bits): nobody can guess them, so one keyed BLAKE2b is enough;
 *   - identity references a registrar or an identity provider vouches for (a national id
 *     number, a name and birth date): a dictionary of them is small. Their hash is
 *     memory-hard (Argon2id) as well as keyed, so that whoever holds the database AND the
 *     pepper still pays ISSUER_ID_MEMLIMIT bytes and ISSUER_ID_OPSLIMIT passes per guess.
 * Every hash names its route, and the two kinds have different tags, so no invitation's
 * hash can equal a registrar identity's. */
#ifndef ISSUER_HASHES_H
#define ISSUER_HASHES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "infra/keyfile.h"
#include "protocol/entry.h"

/* Argon2id's work per identity hash: OWASP's "m=12 MiB, t=3, p=1" baseline. About 20 ms of
 * one core here: a registrar's bulk import still runs at ~58 identities per second on two
 * cores (162 before), while a dictionary of 10^9 identity numbers costs an attacker holding
 * the pepper ~2*10^7 CPU-seconds instead of ~7 minutes of BLAKE2b (issuer/README.md).
 * Changing them changes every identity hash. */
#define ISSUER_ID_OPSLIMIT 3ull
#define ISSUER_ID_MEMLIMIT (12u * 1024u * 1024u)
#define ISSUER_ID_SALT_LEN 16 /* crypto_pwhash_SALTBYTES */

/* BLAKE2b-256 keyed by the pepper over "onevoice/v1/identity" 0 route 0 secret: for the
 * issuer's own random secrets (routes "invite" and "enroll-token"). */
void issuer_code_hash(const struct ov_secret *pepper, const char *route, const uint8_t *code,
                      size_t code_len, uint8_t out[32]);

/* The identity hash of a guessable reference (routes "registrar" and "attestation"):
 *   salt = BLAKE2b-128 keyed by the pepper over "onevoice/v2/identity-salt" 0 route
 *   s    = Argon2id v1.3 (reference, salt, ISSUER_ID_OPSLIMIT, ISSUER_ID_MEMLIMIT), 32 bytes
 *   out  = BLAKE2b-256 keyed by the pepper over "onevoice/v2/identity" 0 route 0 s
 * -OV_E_NOMEM when Argon2id cannot have its memory (out is then zero). */
OV_MUST_CHECK int issuer_identity_hash(const struct ov_secret *pepper, const char *route,
                                       const uint8_t *ref, size_t ref_len, uint8_t out[32]);

/* BLAKE2b keyed by tag.secret over "onevoice/v1/tag" 0 pseudonym context. */
void issuer_issuance_tag(const struct ov_secret *tag, const uint8_t pseudonym[32],
                         const char *context, uint8_t out[OV_TAG_LEN]);

#endif
