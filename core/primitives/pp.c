/* pp: Privacy Pass token type 0x0002. Wire formats (all integers big-endian):
 *
 * TokenChallenge (RFC 9577 §2.1)
 *   offset  size        field
 *   0       2           token_type = 0x0002
 *   2       2           issuer_name length L1 (1..OV_MAX_ISSUER_NAME_LEN)
 *   4       L1          issuer_name
 *   4+L1    1           redemption_context length L2 (0 or 32; anything else is refused)
 *   5+L1    L2          redemption_context
 *   5+L1+L2 2           origin_info length L3 (0..OV_MAX_ORIGIN_INFO_LEN)
 *   7+L1+L2 L3          origin_info
 *
 * Token (RFC 9577 §2.2), 354 bytes; token_input (what the authenticator signs) = bytes 0..97
 *   0       2           token_type = 0x0002
 *   2       32          nonce
 *   34      32          challenge_digest = SHA-256(TokenChallenge)
 *   66      32          token_key_id = SHA-256(token key SPKI)
 *   98      256         authenticator (RSASSA-PSS, SHA-384, MGF1-SHA-384, sLen 48)
 *
 * TokenRequest (RFC 9578 §6.1), 259 bytes
 *   0       2           token_type = 0x0002
 *   2       1           truncated_token_key_id = last byte of token_key_id
 *   3       256         blinded_msg
 *
 * TokenResponse (RFC 9578 §6.2), 256 bytes: blind_sig
 *
 * Token key (RFC 9578 §6.5), DER, 342 bytes for a 2048-bit n and e = 65537:
 *   30 82 01 52                        SEQUENCE (SubjectPublicKeyInfo)
 *     30 3d 06 09 2a864886f70d01010a   AlgorithmIdentifier: id-RSASSA-PSS
 *       30 30                          RSASSA-PSS-params
 *         a0 0d 30 0b 06 09 608648016503040202          [0] hashAlgorithm sha384
 *         a1 1a 30 18 06 09 2a864886f70d010108          [1] maskGenAlgorithm mgf1
 *                   30 0b 06 09 608648016503040202          with sha384
 *         a2 03 02 01 30                                [2] saltLength 48
 *     03 82 01 0f 00                   BIT STRING, no unused bits
 *       30 82 01 0a 02 82 01 01 00 <n: 256> 02 03 010001   RSAPublicKey
 * The hash AlgorithmIdentifiers carry no NULL parameters (OpenSSL's encoder adds them and
 * so gets another key id), hence the fixed AlgorithmIdentifier below. */
#include "primitives/pp.h"

#include <string.h>

#include <sodium.h>

#include "primitives/der.h"
#include "base/reader.h"

/* The AlgorithmIdentifier of every token key, exactly as RFC 9578 Appendix A.2's pkS. */
static const uint8_t pss_alg_id[] = {
    0x30, 0x3d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x30,
    0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
    0xa1, 0x1a, 0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
    0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
    0xa2, 0x03, 0x02, 0x01, 0x30,
};
_Static_assert(sizeof pss_alg_id == 63, "AlgorithmIdentifier is 63 bytes");
_Static_assert(OV_PP_NK * 8 == OV_PP_MODULUS_BITS, "Nk is the modulus size");
_Static_assert(OV_PP_DIGEST_LEN == crypto_hash_sha256_BYTES, "SHA-256 digests");
_Static_assert(OV_PP_NID == crypto_hash_sha256_BYTES, "SHA-256 key ids");

/* The signature variant of token type 2 (RFC 9578 §6: PrepareIdentity, sLen 48). */
#define PP_VARIANT OV_BRSA_PSS_DETERMINISTIC

/* Reads a token_type and records -OV_E_MALFORMED unless it is ours (RFC 9577: challenges of
 * an unsupported type MUST be ignored). */
static uint16_t
read_type(struct ov_reader *r)
{
    uint16_t t = ov_reader_u16be(r);
    if (r->err == 0 && t != OV_PP_TOKEN_TYPE) {
        (void)ov_reader_fail(r, -OV_E_MALFORMED);
    }
    return t;
}

/* Reads a field of n bytes after checking n against its maximum (before any use of it). */
static void
read_field(struct ov_reader *r, size_t n, size_t max, struct ov_bytes *out)
{
    if (r->err == 0 && n > max) {
        (void)ov_reader_fail(r, -OV_E_TOO_BIG);
    }
    ov_reader_bytes(r, n, out);
}

/* ---- TokenChallenge ---- */

int
ov_pp_challenge_parse(struct ov_bytes in, struct ov_pp_challenge *out)
{
    struct ov_reader r;
    struct ov_pp_challenge c;
    memset(out, 0, sizeof *out);
    ov_reader_init(&r, in);
    c.token_type = read_type(&r);
    read_field(&r, ov_reader_u16be(&r), OV_MAX_ISSUER_NAME_LEN, &c.issuer_name);
    if (r.err == 0 && c.issuer_name.len == 0) {
        (void)ov_reader_fail(&r, -OV_E_MALFORMED); /* issuer_name<1..2^16-1> */
    }
    size_t ctx_len = ov_reader_u8(&r);
    if (r.err == 0 && ctx_len != 0 && ctx_len != OV_PP_REDEMPTION_CONTEXT_LEN) {
        (void)ov_reader_fail(&r, -OV_E_MALFORMED); /* "0 or 32 bytes" */
    }
    ov_reader_bytes(&r, ctx_len, &c.redemption_context);
    read_field(&r, ov_reader_u16be(&r), OV_MAX_ORIGIN_INFO_LEN, &c.origin_info);
    int rc = ov_reader_end(&r);
    if (rc == 0) {
        *out = c;
    }
    return rc;
}

int
ov_pp_challenge_encode(const struct ov_pp_challenge *c, uint8_t *out, size_t out_max,
                       size_t *out_len)
{
    struct ov_writer w;
    *out_len = 0;
    if (c->token_type != OV_PP_TOKEN_TYPE || c->issuer_name.len == 0 ||
        (c->redemption_context.len != 0 &&
         c->redemption_context.len != OV_PP_REDEMPTION_CONTEXT_LEN)) {
        return -OV_E_MALFORMED;
    }
    if (c->issuer_name.len > OV_MAX_ISSUER_NAME_LEN ||
        c->origin_info.len > OV_MAX_ORIGIN_INFO_LEN) {
        return -OV_E_TOO_BIG;
    }
    ov_writer_init(&w, out, out_max);
    ov_writer_u16be(&w, c->token_type);
    ov_writer_u16be(&w, (uint16_t)c->issuer_name.len);
    ov_writer_bytes(&w, c->issuer_name.ptr, c->issuer_name.len);
    ov_writer_u8(&w, (uint8_t)c->redemption_context.len);
    ov_writer_bytes(&w, c->redemption_context.ptr, c->redemption_context.len);
    ov_writer_u16be(&w, (uint16_t)c->origin_info.len);
    ov_writer_bytes(&w, c->origin_info.ptr, c->origin_info.len);
    int rc = ov_writer_end(&w);
    if (rc == 0) {
        *out_len = w.len;
    }
    return rc;
}

void
ov_pp_challenge_digest(struct ov_bytes challenge, uint8_t digest[OV_PP_DIGEST_LEN])
{
    crypto_hash_sha256(digest, challenge.ptr, challenge.len);
}

/* ---- Token, TokenRequest, TokenResponse ---- */

int
ov_pp_token_parse(struct ov_bytes in, struct ov_pp_token *out)
{
    struct ov_reader r;
    ov_reader_init(&r, in);
    out->token_type = read_type(&r);
    ov_reader_copy(&r, out->nonce, sizeof out->nonce);
    ov_reader_copy(&r, out->challenge_digest, sizeof out->challenge_digest);
    ov_reader_copy(&r, out->token_key_id, sizeof out->token_key_id);
    ov_reader_copy(&r, out->authenticator, sizeof out->authenticator);
    int rc = ov_reader_end(&r);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int
ov_pp_token_encode(const struct ov_pp_token *t, uint8_t out[OV_PP_TOKEN_LEN])
{
    struct ov_writer w;
    if (t->token_type != OV_PP_TOKEN_TYPE) {
        return -OV_E_MALFORMED;
    }
    ov_writer_init(&w, out, OV_PP_TOKEN_LEN);
    ov_writer_u16be(&w, t->token_type);
    ov_writer_bytes(&w, t->nonce, sizeof t->nonce);
    ov_writer_bytes(&w, t->challenge_digest, sizeof t->challenge_digest);
    ov_writer_bytes(&w, t->token_key_id, sizeof t->token_key_id);
    ov_writer_bytes(&w, t->authenticator, sizeof t->authenticator);
    return ov_writer_end(&w);
}

int
ov_pp_token_request_parse(struct ov_bytes in, struct ov_pp_token_request *out)
{
    struct ov_reader r;
    ov_reader_init(&r, in);
    out->token_type = read_type(&r);
    out->truncated_token_key_id = ov_reader_u8(&r);
    ov_reader_copy(&r, out->blinded_msg, sizeof out->blinded_msg);
    int rc = ov_reader_end(&r);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int
ov_pp_token_request_encode(const struct ov_pp_token_request *req,
                           uint8_t out[OV_PP_TOKEN_REQUEST_LEN])
{
    struct ov_writer w;
    if (req->token_type != OV_PP_TOKEN_TYPE) {
        return -OV_E_MALFORMED;
    }
    ov_writer_init(&w, out, OV_PP_TOKEN_REQUEST_LEN);
    ov_writer_u16be(&w, req->token_type);
    ov_writer_u8(&w, req->truncated_token_key_id);
    ov_writer_bytes(&w, req->blinded_msg, sizeof req->blinded_msg);
    return ov_writer_end(&w);
}

int
ov_pp_token_response_parse(struct ov_bytes in, uint8_t blind_sig[OV_PP_TOKEN_RESPONSE_LEN])
{
    struct ov_reader r;
    ov_reader_init(&r, in);
    ov_reader_copy(&r, blind_sig, OV_PP_TOKEN_RESPONSE_LEN);
    int rc = ov_reader_end(&r);
    if (rc != 0) {
        memset(blind_sig, 0, OV_PP_TOKEN_RESPONSE_LEN);
    }
    return rc;
}

/* ---- the issuer key ---- */

int
ov_pp_spki_encode(const struct ov_brsa_pk *pk, uint8_t *out, size_t out_max, size_t *out_len)
{
    uint8_t rsa[OV_BRSA_MAX_PK_DER_LEN];
    size_t rsa_len;
    struct ov_writer w;

    *out_len = 0;
    if (ov_brsa_pk_modulus_bits(pk) != OV_PP_MODULUS_BITS) {
        return -OV_E_RANGE;
    }
    int rc = ov_brsa_pk_to_der(pk, rsa, sizeof rsa, &rsa_len);
    if (rc != 0) {
        return rc;
    }
    size_t bits_len = 1 + rsa_len;
    size_t body_len = sizeof pss_alg_id + ov_der_header_len(bits_len) + bits_len;
    ov_writer_init(&w, out, out_max);
    ov_der_write_header(&w, OV_DER_SEQUENCE, body_len);
    ov_writer_bytes(&w, pss_alg_id, sizeof pss_alg_id);
    ov_der_write_header(&w, OV_DER_BIT_STRING, bits_len);
    ov_writer_u8(&w, 0); /* no unused bits */
    ov_writer_bytes(&w, rsa, rsa_len);
    if ((rc = ov_writer_end(&w)) == 0) {
        *out_len = w.len;
    }
    return rc;
}

int
ov_pp_token_key_id(const struct ov_brsa_pk *pk, uint8_t id[OV_PP_NID])
{
    uint8_t spki[OV_MAX_TOKEN_KEY_LEN];
    size_t spki_len;
    int rc = ov_pp_spki_encode(pk, spki, sizeof spki, &spki_len);
    if (rc != 0) {
        memset(id, 0, OV_PP_NID);
        return rc;
    }
    crypto_hash_sha256(id, spki, spki_len);
    return 0;
}

/* Fills key from pk (taking ownership of it) and its SPKI. */
static int
key_adopt(struct ov_pp_key *key, struct ov_brsa_pk *pk)
{
    memset(key, 0, sizeof *key);
    int rc = ov_pp_spki_encode(pk, key->spki, sizeof key->spki, &key->spki_len);
    if (rc != 0) {
        ov_brsa_pk_free(pk);
        memset(key, 0, sizeof *key);
        return rc;
    }
    crypto_hash_sha256(key->token_key_id, key->spki, key->spki_len);
    key->pk = pk;
    return 0;
}

int
ov_pp_key_from_spki(struct ov_pp_key *key, struct ov_bytes spki)
{
    struct ov_reader r, body;
    struct ov_bytes seq, alg, bits, rsa;
    struct ov_brsa_pk *pk = NULL;

    memset(key, 0, sizeof *key);
    if (spki.len > OV_MAX_TOKEN_KEY_LEN) {
        return -OV_E_TOO_BIG;
    }
    ov_reader_init(&r, spki);
    ov_der_read(&r, OV_DER_SEQUENCE, &seq);
    int rc = ov_reader_end(&r);
    if (rc != 0) {
        return rc;
    }
    ov_reader_init(&body, seq);
    ov_reader_bytes(&body, sizeof pss_alg_id, &alg);
    if (body.err == 0 && memcmp(alg.ptr, pss_alg_id, sizeof pss_alg_id) != 0) {
        (void)ov_reader_fail(&body, -OV_E_MALFORMED); /* another algorithm or parameters */
    }
    ov_der_read(&body, OV_DER_BIT_STRING, &bits);
    if ((rc = ov_reader_end(&body)) != 0) {
        return rc;
    }
    if (bits.len < 1 || bits.ptr[0] != 0) {
        return -OV_E_MALFORMED; /* unused bits in a key */
    }
    rsa = OV_BYTES(bits.ptr + 1, bits.len - 1);
    if ((rc = ov_brsa_pk_from_der(rsa, &pk)) != 0) {
        return rc;
    }
    if (ov_brsa_pk_modulus_bits(pk) != OV_PP_MODULUS_BITS) {
        ov_brsa_pk_free(pk);
        return -OV_E_RANGE;
    }
    if ((rc = key_adopt(key, pk)) != 0) {
        return rc;
    }
    /* Every piece was read strictly, so this holds; it is what the key id hashes. */
    if (key->spki_len != spki.len || memcmp(key->spki, spki.ptr, spki.len) != 0) {
        ov_pp_key_clear(key);
        return -OV_E_NONCANONICAL;
    }
    return 0;
}

int
ov_pp_key_from_pk(struct ov_pp_key *key, const struct ov_brsa_pk *pk)
{
    struct ov_brsa_pk *dup = NULL;
    memset(key, 0, sizeof *key);
    int rc = ov_brsa_pk_dup(pk, &dup);
    return rc != 0 ? rc : key_adopt(key, dup);
}

void
ov_pp_key_clear(struct ov_pp_key *key)
{
    if (key == NULL) {
        return;
    }
    ov_brsa_pk_free(key->pk);
    memset(key, 0, sizeof *key);
}

/* ---- the protocol ---- */

/* token_input = type || nonce || SHA-256(challenge) || token_key_id, after checking the
 * challenge parses. */
static int
build_token_input(const struct ov_pp_key *key, struct ov_bytes challenge,
                  const uint8_t nonce[OV_PP_NONCE_LEN], uint8_t input[OV_PP_TOKEN_INPUT_LEN])
{
    struct ov_pp_challenge c;
    int rc = ov_pp_challenge_parse(challenge, &c);
    if (rc != 0) {
        return rc;
    }
    input[0] = (uint8_t)(OV_PP_TOKEN_TYPE >> 8);
    input[1] = (uint8_t)OV_PP_TOKEN_TYPE;
    memcpy(input + 2, nonce, OV_PP_NONCE_LEN);
    ov_pp_challenge_digest(challenge, input + 2 + OV_PP_NONCE_LEN);
    memcpy(input + 2 + OV_PP_NONCE_LEN + OV_PP_DIGEST_LEN, key->token_key_id, OV_PP_NID);
    return 0;
}

/* The shared body of ov_pp_client_request and its test twin (salt.len == 0: random). */
static int
client_request(const struct ov_pp_key *key, struct ov_bytes challenge,
               const uint8_t nonce[OV_PP_NONCE_LEN], struct ov_bytes salt, struct ov_bytes r,
               uint8_t request[OV_PP_TOKEN_REQUEST_LEN], struct ov_pp_client_state *st)
{
    struct ov_pp_token_request req = { .token_type = OV_PP_TOKEN_TYPE };
    uint8_t em[OV_PP_NK];
    size_t em_len;
    struct ov_bytes input = OV_BYTES(st->token_input, OV_PP_TOKEN_INPUT_LEN);

    memset(request, 0, OV_PP_TOKEN_REQUEST_LEN);
    int rc = build_token_input(key, challenge, nonce, st->token_input);
    if (rc == 0 && salt.len == 0) {
        rc = ov_brsa_blind(key->pk, PP_VARIANT, input, req.blinded_msg, st->inv, OV_PP_NK);
    } else if (rc == 0) {
        rc = ov_brsa_blind_for_testing(key->pk, PP_VARIANT, input, salt, r, em, sizeof em, &em_len,
                                       req.blinded_msg, st->inv, OV_PP_NK);
    }
    req.truncated_token_key_id = key->token_key_id[OV_PP_NID - 1];
    if (rc == 0) {
        rc = ov_pp_token_request_encode(&req, request);
    }
    if (rc != 0) {
        ov_pp_client_state_clear(st);
        memset(request, 0, OV_PP_TOKEN_REQUEST_LEN);
    }
    sodium_memzero(em, sizeof em);
    return rc;
}

int
ov_pp_client_request(const struct ov_pp_key *key, struct ov_bytes challenge,
                     const uint8_t nonce[OV_PP_NONCE_LEN],
                     uint8_t request[OV_PP_TOKEN_REQUEST_LEN], struct ov_pp_client_state *st)
{
    return client_request(key, challenge, nonce, OV_BYTES(NULL, 0), OV_BYTES(NULL, 0), request,
                          st);
}

int
ov_pp_client_request_for_testing(const struct ov_pp_key *key, struct ov_bytes challenge,
                                 const uint8_t nonce[OV_PP_NONCE_LEN], struct ov_bytes salt,
                                 struct ov_bytes r, uint8_t request[OV_PP_TOKEN_REQUEST_LEN],
                                 struct ov_pp_client_state *st)
{
    if (salt.len != OV_BRSA_SALT_LEN) {
        memset(request, 0, OV_PP_TOKEN_REQUEST_LEN);
        ov_pp_client_state_clear(st);
        return -OV_E_RANGE;
    }
    return client_request(key, challenge, nonce, salt, r, request, st);
}

int
ov_pp_issuer_respond(const struct ov_brsa_sk *sk, struct ov_bytes request,
                     uint8_t response[OV_PP_TOKEN_RESPONSE_LEN])
{
    struct ov_pp_token_request req;
    uint8_t id[OV_PP_NID];

    memset(response, 0, OV_PP_TOKEN_RESPONSE_LEN);
    int rc = ov_pp_token_request_parse(request, &req);
    if (rc != 0) {
        return rc;
    }
    if ((rc = ov_pp_token_key_id(ov_brsa_sk_pk(sk), id)) != 0) {
        return rc;
    }
    if (req.truncated_token_key_id != id[OV_PP_NID - 1]) {
        return -OV_E_UNKNOWN_KEY;
    }
    return ov_brsa_blind_sign(sk, OV_BYTES(req.blinded_msg, OV_PP_NK), response,
                              OV_PP_TOKEN_RESPONSE_LEN);
}

int
ov_pp_client_finalize(const struct ov_pp_key *key, const struct ov_pp_client_state *st,
                      struct ov_bytes response, uint8_t token[OV_PP_TOKEN_LEN])
{
    uint8_t blind_sig[OV_PP_TOKEN_RESPONSE_LEN];
    memset(token, 0, OV_PP_TOKEN_LEN);
    int rc = ov_pp_token_response_parse(response, blind_sig);
    if (rc != 0) {
        return rc;
    }
    /* Finalize verifies the unblinded signature (RFC 9474 §4.4) before we use it. */
    rc = ov_brsa_finalize(key->pk, PP_VARIANT, OV_BYTES(st->token_input, OV_PP_TOKEN_INPUT_LEN),
                          OV_BYTES(blind_sig, sizeof blind_sig), st->inv, sizeof st->inv,
                          token + OV_PP_TOKEN_INPUT_LEN, OV_PP_NK);
    if (rc == 0) {
        memcpy(token, st->token_input, OV_PP_TOKEN_INPUT_LEN);
    } else {
        memset(token, 0, OV_PP_TOKEN_LEN);
    }
    return rc;
}

void
ov_pp_client_state_clear(struct ov_pp_client_state *st)
{
    if (st != NULL) {
        sodium_memzero(st, sizeof *st);
    }
}

int
ov_pp_token_verify(const struct ov_pp_key *key, struct ov_bytes token)
{
    struct ov_pp_token t;
    int rc = ov_pp_token_parse(token, &t);
    if (rc != 0) {
        return rc;
    }
    /* Public values: a plain comparison is fine. */
    if (memcmp(t.token_key_id, key->token_key_id, OV_PP_NID) != 0) {
        return -OV_E_UNKNOWN_KEY;
    }
    return ov_brsa_verify(key->pk, PP_VARIANT, OV_BYTES(token.ptr, OV_PP_TOKEN_INPUT_LEN),
                          OV_BYTES(t.authenticator, OV_PP_NK));
}
