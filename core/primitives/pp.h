/* pp: Privacy Pass with publicly verifiable tokens, token type 0x0002 (Blind RSA 2048,
 * RFC 9578 §6 on RFC 9474 RSABSSA-SHA384-PSS-Deterministic), and the RFC 9577 structures
 * around it. Owns the wire formats (TokenChallenge, Token, TokenRequest, TokenResponse,
 * the issuer key as SPKI; byte tables at the top of pp.c), the token key id, and the three
 * roles' steps:
 *   client    ov_pp_client_request  -> TokenRequest, keeping struct ov_pp_client_state
 *   issuer    ov_pp_issuer_respond  -> TokenResponse (checks type and key id, blind-signs)
 *   client    ov_pp_client_finalize -> Token (verified before it is returned)
 *   verifier  ov_pp_token_verify    (type, key id, RSASSA-PSS over the first 98 bytes)
 * Double-spend checks, challenge matching and key trust are the caller's. */
#ifndef OV_PP_H
#define OV_PP_H

#include <stddef.h>
#include <stdint.h>

#include "primitives/brsa.h"
#include "base/bytes.h"
#include "base/err.h"

#define OV_PP_TOKEN_TYPE 0x0002          /* Blind RSA (2048-bit); the only type we speak */
#define OV_PP_NK 256                     /* authenticator / blinded_msg / blind_sig bytes */
#define OV_PP_NID 32                     /* token_key_id bytes */
#define OV_PP_NONCE_LEN 32
#define OV_PP_DIGEST_LEN 32              /* challenge_digest = SHA-256(TokenChallenge) */
#define OV_PP_REDEMPTION_CONTEXT_LEN 32  /* the only non-empty length allowed */
#define OV_PP_MODULUS_BITS 2048
#define OV_PP_TOKEN_INPUT_LEN (2 + OV_PP_NONCE_LEN + OV_PP_DIGEST_LEN + OV_PP_NID)  /* 98 */
#define OV_PP_TOKEN_LEN (OV_PP_TOKEN_INPUT_LEN + OV_PP_NK)                         /* 354 */
#define OV_PP_TOKEN_REQUEST_LEN (2 + 1 + OV_PP_NK)                                 /* 259 */
#define OV_PP_TOKEN_RESPONSE_LEN OV_PP_NK                                          /* 256 */

/* Our caps on the variable-length fields (the wire allows up to 65535 bytes each). An
 * issuer name is a host name (at most 253 octets); origin_info a comma-separated list. */
#define OV_MAX_ISSUER_NAME_LEN 255
#define OV_MAX_ORIGIN_INFO_LEN 4096
#define OV_MAX_TOKEN_CHALLENGE_LEN \
    (2 + 2 + OV_MAX_ISSUER_NAME_LEN + 1 + OV_PP_REDEMPTION_CONTEXT_LEN + 2 + OV_MAX_ORIGIN_INFO_LEN)
/* The issuer key (SPKI): 342 bytes for e = 65537, 344 for the largest e we accept. */
#define OV_MAX_TOKEN_KEY_LEN 344

/* A parsed TokenChallenge (RFC 9577 §2.1). The views point into the parsed input (or, for
 * encoding, into the caller's strings). */
struct ov_pp_challenge {
    uint16_t token_type;
    struct ov_bytes issuer_name;        /* 1..OV_MAX_ISSUER_NAME_LEN bytes */
    struct ov_bytes redemption_context; /* 0 or 32 bytes */
    struct ov_bytes origin_info;        /* 0..OV_MAX_ORIGIN_INFO_LEN bytes */
};

/* Token (RFC 9577 §2.2) for type 0x0002. */
struct ov_pp_token {
    uint16_t token_type;
    uint8_t nonce[OV_PP_NONCE_LEN];
    uint8_t challenge_digest[OV_PP_DIGEST_LEN];
    uint8_t token_key_id[OV_PP_NID];
    uint8_t authenticator[OV_PP_NK];
};

/* TokenRequest (RFC 9578 §6.1). */
struct ov_pp_token_request {
    uint16_t token_type;
    uint8_t truncated_token_key_id;
    uint8_t blinded_msg[OV_PP_NK];
};

/* An issuer public key as a client or verifier holds it. */
struct ov_pp_key {
    struct ov_brsa_pk *pk;           /* owned; NULL after ov_pp_key_clear */
    uint8_t token_key_id[OV_PP_NID]; /* SHA-256(spki) */
    size_t spki_len;
    uint8_t spki[OV_MAX_TOKEN_KEY_LEN];
};

/* What a client keeps between request and finalize. inv is secret: whoever holds it can
 * link the request to the token. Wipe with ov_pp_client_state_clear. */
struct ov_pp_client_state {
    uint8_t token_input[OV_PP_TOKEN_INPUT_LEN];
    uint8_t inv[OV_PP_NK];
};

/* ---- wire formats ---- */

/* Parses a TokenChallenge strictly: token_type 0x0002, issuer_name non-empty, a
 * redemption_context of 0 or 32 bytes, no trailing bytes. -OV_E_TRUNCATED, -OV_E_TRAILING,
 * -OV_E_TOO_BIG (a field over its OV_MAX_*), -OV_E_MALFORMED. On failure *out is zeroed. */
OV_MUST_CHECK int ov_pp_challenge_parse(struct ov_bytes in, struct ov_pp_challenge *out);
/* Encodes c (held to the same rules) into out. -OV_E_TOO_BIG if out_max is short or a field
 * is over its maximum, -OV_E_MALFORMED for a rule broken. *out_len is 0 on failure. */
OV_MUST_CHECK int ov_pp_challenge_encode(const struct ov_pp_challenge *c, uint8_t *out,
                                         size_t out_max, size_t *out_len);
/* challenge_digest = SHA-256 of the encoded TokenChallenge. */
void ov_pp_challenge_digest(struct ov_bytes challenge, uint8_t digest[OV_PP_DIGEST_LEN]);

/* Token: exactly OV_PP_TOKEN_LEN bytes, type 0x0002. Errors as ov_pp_challenge_parse. */
OV_MUST_CHECK int ov_pp_token_parse(struct ov_bytes in, struct ov_pp_token *out);
/* -OV_E_MALFORMED if t's type is not 0x0002. */
OV_MUST_CHECK int ov_pp_token_encode(const struct ov_pp_token *t, uint8_t out[OV_PP_TOKEN_LEN]);

/* TokenRequest: exactly OV_PP_TOKEN_REQUEST_LEN bytes, type 0x0002. */
OV_MUST_CHECK int ov_pp_token_request_parse(struct ov_bytes in, struct ov_pp_token_request *out);
OV_MUST_CHECK int ov_pp_token_request_encode(const struct ov_pp_token_request *req,
                                             uint8_t out[OV_PP_TOKEN_REQUEST_LEN]);

/* TokenResponse: exactly OV_PP_TOKEN_RESPONSE_LEN bytes (the blind signature). */
OV_MUST_CHECK int ov_pp_token_response_parse(struct ov_bytes in,
                                             uint8_t blind_sig[OV_PP_TOKEN_RESPONSE_LEN]);

/* ---- the issuer key ---- */

/* The token key: DER SubjectPublicKeyInfo with id-RSASSA-PSS (RFC 4055/5756), parameters
 * sha384 / mgf1-sha384 / saltLength 48 with the hash parameters omitted, byte for byte as
 * RFC 9578's vectors (not what OpenSSL's encoder writes). pk must be 2048-bit, else
 * -OV_E_RANGE; -OV_E_TOO_BIG if out_max is short. */
OV_MUST_CHECK int ov_pp_spki_encode(const struct ov_brsa_pk *pk, uint8_t *out, size_t out_max,
                                    size_t *out_len);
/* token_key_id = SHA-256(SPKI) for a 2048-bit pk; -OV_E_RANGE otherwise. The truncated id is
 * its last byte. */
OV_MUST_CHECK int ov_pp_token_key_id(const struct ov_brsa_pk *pk, uint8_t id[OV_PP_NID]);

/* Parses a token key strictly (the exact encoding ov_pp_spki_encode writes, a 2048-bit key)
 * into key, computing its id. -OV_E_TRUNCATED, -OV_E_TRAILING, -OV_E_MALFORMED,
 * -OV_E_NONCANONICAL, -OV_E_RANGE, -OV_E_TOO_BIG, -OV_E_NOMEM. The caller clears key
 * (ov_pp_key_clear); on failure key holds nothing. */
OV_MUST_CHECK int ov_pp_key_from_spki(struct ov_pp_key *key, struct ov_bytes spki);
/* The same from a public key (copied). */
OV_MUST_CHECK int ov_pp_key_from_pk(struct ov_pp_key *key, const struct ov_brsa_pk *pk);
/* Frees what key holds. Accepts NULL. */
void ov_pp_key_clear(struct ov_pp_key *key);

/* ---- the protocol ---- */

/* Client: builds the TokenRequest for a TokenChallenge (its exact bytes, which must parse)
 * and a nonce (32 bytes the caller chose: random, or a hash it will later open), and fills
 * st for ov_pp_client_finalize. -OV_E_* from ov_pp_challenge_parse and ov_brsa_blind. On
 * failure request and st are zeroed. */
OV_MUST_CHECK int ov_pp_client_request(const struct ov_pp_key *key, struct ov_bytes challenge,
                                       const uint8_t nonce[OV_PP_NONCE_LEN],
                                       uint8_t request[OV_PP_TOKEN_REQUEST_LEN],
                                       struct ov_pp_client_state *st);

/* Issuer: answers a TokenRequest with sk. -OV_E_TRUNCATED / -OV_E_TRAILING (wrong size),
 * -OV_E_MALFORMED (token type), -OV_E_UNKNOWN_KEY (truncated key id is not sk's),
 * -OV_E_RANGE (blinded_msg >= n, or sk not 2048-bit), -OV_E_CRYPTO, -OV_E_NOMEM: all but
 * the last two are the client's fault (HTTP 422). response is zeroed on failure. */
OV_MUST_CHECK int ov_pp_issuer_respond(const struct ov_brsa_sk *sk, struct ov_bytes request,
                                       uint8_t response[OV_PP_TOKEN_RESPONSE_LEN]);

/* Client: turns the TokenResponse into a Token, verified under key. -OV_E_TRUNCATED /
 * -OV_E_TRAILING (wrong size), -OV_E_BAD_SIG (the issuer's answer does not verify),
 * -OV_E_CRYPTO, -OV_E_NOMEM. token is zeroed on failure; st is left for the caller to clear. */
OV_MUST_CHECK int ov_pp_client_finalize(const struct ov_pp_key *key,
                                        const struct ov_pp_client_state *st,
                                        struct ov_bytes response,
                                        uint8_t token[OV_PP_TOKEN_LEN]);

/* Wipes the client state. Accepts NULL. */
void ov_pp_client_state_clear(struct ov_pp_client_state *st);

/* Verifier: 0 if token is a type-0x0002 Token under key. -OV_E_TRUNCATED, -OV_E_TRAILING,
 * -OV_E_MALFORMED (type), -OV_E_UNKNOWN_KEY (token_key_id is not key's), -OV_E_BAD_SIG,
 * -OV_E_CRYPTO, -OV_E_NOMEM. The caller still checks challenge_digest and the nonce. */
OV_MUST_CHECK int ov_pp_token_verify(const struct ov_pp_key *key, struct ov_bytes token);

/* For known-answer tests only: ov_pp_client_request with the blinding factor r and PSS
 * salt given (see ov_brsa_blind_for_testing). Never use outside tests. */
OV_MUST_CHECK int ov_pp_client_request_for_testing(const struct ov_pp_key *key,
                                                   struct ov_bytes challenge,
                                                   const uint8_t nonce[OV_PP_NONCE_LEN],
                                                   struct ov_bytes salt, struct ov_bytes r,
                                                   uint8_t request[OV_PP_TOKEN_REQUEST_LEN],
                                                   struct ov_pp_client_state *st);

#endif
