/* Unit tests: Privacy Pass token type 2. All five vectors of rfc9578_type2.json byte for byte
 * (SPKI from the private key, key ids, challenge, request, response, token, verification),
 * then truncation, trailing bytes, wrong types and keys, tampering, and fresh-key runs. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "primitives/brsa.h"
#include "primitives/pp.h"
#include "base/reader.h"
#include "../test.h"
#include "../vec.h"

static struct ov_brsa_sk *issuer_sk; /* the vectors' skS, loaded once */

static struct ov_bytes
view(const struct ov_buf *b)
{
    return ov_buf_view(b);
}

/* Every prefix of a valid encoding is refused as truncated; one more byte as trailing. */
static void
check_truncation(const struct ov_buf *valid, int (*parse)(struct ov_bytes, void *), void *out)
{
    uint8_t longer[OV_MAX_TOKEN_CHALLENGE_LEN + 1];
    for (size_t cut = 0; cut < valid->len; cut++) {
        CHECK_EQ_INT(parse(OV_BYTES(valid->ptr, cut), out), -OV_E_TRUNCATED);
    }
    memcpy(longer, valid->ptr, valid->len);
    longer[valid->len] = 0;
    CHECK_EQ_INT(parse(OV_BYTES(longer, valid->len + 1), out), -OV_E_TRAILING);
}

static int
parse_challenge(struct ov_bytes in, void *out)
{
    return ov_pp_challenge_parse(in, out);
}

static int
parse_token(struct ov_bytes in, void *out)
{
    return ov_pp_token_parse(in, out);
}

static int
parse_request(struct ov_bytes in, void *out)
{
    return ov_pp_token_request_parse(in, out);
}

static int
parse_response(struct ov_bytes in, void *out)
{
    return ov_pp_token_response_parse(in, out);
}

static int
parse_spki(struct ov_bytes in, void *out)
{
    int rc = ov_pp_key_from_spki(out, in);
    ov_pp_key_clear(out);
    return rc;
}

static void
test_challenge(const json_t *v, const json_t *der)
{
    struct ov_buf raw = vec_hex(v, "token_challenge"), rc_hex = vec_hex(der, "token_challenge.redemption_context");
    struct ov_buf digest = vec_hex(der, "challenge_digest");
    struct ov_pp_challenge c;
    uint8_t out[OV_MAX_TOKEN_CHALLENGE_LEN], d[OV_PP_DIGEST_LEN];
    size_t out_len;
    const char *issuer = vec_str(der, "token_challenge.issuer_name");
    const char *origin = vec_str(der, "token_challenge.origin_info");

    CHECK_EQ_INT(ov_pp_challenge_parse(view(&raw), &c), 0);
    CHECK_EQ_INT(c.token_type, 2);
    CHECK(c.issuer_name.len == strlen(issuer) && memcmp(c.issuer_name.ptr, issuer, strlen(issuer)) == 0);
    CHECK(c.origin_info.len == strlen(origin) &&
          (c.origin_info.len == 0 || memcmp(c.origin_info.ptr, origin, strlen(origin)) == 0));
    CHECK(c.redemption_context.len == rc_hex.len &&
          (rc_hex.len == 0 || memcmp(c.redemption_context.ptr, rc_hex.ptr, rc_hex.len) == 0));
    CHECK_EQ_INT(ov_pp_challenge_encode(&c, out, sizeof out, &out_len), 0);
    CHECK(out_len == raw.len && memcmp(out, raw.ptr, raw.len) == 0);
    CHECK_EQ_INT(ov_pp_challenge_encode(&c, out, raw.len - 1, &out_len), -OV_E_TOO_BIG);
    CHECK_EQ_INT(out_len, 0);
    ov_pp_challenge_digest(view(&raw), d);
    CHECK_EQ_MEM(d, digest.ptr, sizeof d);

    check_truncation(&raw, parse_challenge, &c);
    /* a wrong token type (0x0001 is a valid type, just not ours) */
    memcpy(out, raw.ptr, raw.len);
    out[1] = 0x01;
    CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(out, raw.len), &c), -OV_E_MALFORMED);
    CHECK(c.issuer_name.ptr == NULL && c.token_type == 0);
    ov_buf_clear(&raw);
    ov_buf_clear(&rc_hex);
    ov_buf_clear(&digest);
}

/* Hand-built challenges around the length rules. */
static void
test_challenge_rules(void)
{
    static uint8_t name[OV_MAX_ISSUER_NAME_LEN + 1], origin[OV_MAX_ORIGIN_INFO_LEN + 1];
    static uint8_t ctx[33], buf[OV_MAX_TOKEN_CHALLENGE_LEN + 64];
    struct ov_pp_challenge c = { 2, OV_BYTES(name, 1), OV_BYTES(ctx, 0), OV_BYTES(origin, 0) };
    struct ov_pp_challenge p;
    size_t len;
    memset(name, 'a', sizeof name);
    memset(origin, 'o', sizeof origin);

    /* the largest accepted challenge round-trips */
    c.issuer_name.len = OV_MAX_ISSUER_NAME_LEN;
    c.redemption_context.len = 32;
    c.origin_info.len = OV_MAX_ORIGIN_INFO_LEN;
    CHECK_EQ_INT(ov_pp_challenge_encode(&c, buf, sizeof buf, &len), 0);
    CHECK_EQ_INT(len, OV_MAX_TOKEN_CHALLENGE_LEN);
    CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(buf, len), &p), 0);
    CHECK(p.issuer_name.len == OV_MAX_ISSUER_NAME_LEN && p.origin_info.len == OV_MAX_ORIGIN_INFO_LEN);

    /* one over each maximum, on the wire and when encoding */
    struct ov_writer w;
    ov_writer_init(&w, buf, sizeof buf);
    ov_writer_u16be(&w, 2);
    ov_writer_u16be(&w, OV_MAX_ISSUER_NAME_LEN + 1);
    ov_writer_bytes(&w, name, OV_MAX_ISSUER_NAME_LEN + 1);
    ov_writer_u8(&w, 0);
    ov_writer_u16be(&w, 0);
    CHECK_EQ_INT(ov_writer_end(&w), 0);
    CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(buf, w.len), &p), -OV_E_TOO_BIG);
    /* ... even when the input is cut short right after the length */
    CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(buf, 4), &p), -OV_E_TOO_BIG);
    c.issuer_name.len = OV_MAX_ISSUER_NAME_LEN + 1;
    CHECK_EQ_INT(ov_pp_challenge_encode(&c, buf, sizeof buf, &len), -OV_E_TOO_BIG);
    c.issuer_name.len = 1;

    ov_writer_init(&w, buf, sizeof buf);
    ov_writer_u16be(&w, 2);
    ov_writer_u16be(&w, 1);
    ov_writer_u8(&w, 'a');
    ov_writer_u8(&w, 0);
    ov_writer_u16be(&w, OV_MAX_ORIGIN_INFO_LEN + 1);
    ov_writer_bytes(&w, origin, OV_MAX_ORIGIN_INFO_LEN + 1);
    CHECK_EQ_INT(ov_writer_end(&w), 0);
    CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(buf, w.len), &p), -OV_E_TOO_BIG);
    c.origin_info.len = OV_MAX_ORIGIN_INFO_LEN + 1;
    CHECK_EQ_INT(ov_pp_challenge_encode(&c, buf, sizeof buf, &len), -OV_E_TOO_BIG);
    c.origin_info.len = 0;

    /* redemption_context of every length 0..33: only 0 and 32 pass */
    for (size_t n = 0; n <= 33; n++) {
        ov_writer_init(&w, buf, sizeof buf);
        ov_writer_u16be(&w, 2);
        ov_writer_u16be(&w, 1);
        ov_writer_u8(&w, 'a');
        ov_writer_u8(&w, (uint8_t)n);
        ov_writer_bytes(&w, ctx, n);
        ov_writer_u16be(&w, 0);
        CHECK_EQ_INT(ov_writer_end(&w), 0);
        CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(buf, w.len), &p),
                     (n == 0 || n == 32) ? 0 : -OV_E_MALFORMED);
        c.redemption_context.len = n;
        CHECK_EQ_INT(ov_pp_challenge_encode(&c, buf, sizeof buf, &len),
                     (n == 0 || n == 32) ? 0 : -OV_E_MALFORMED);
    }
    c.redemption_context.len = 0;

    /* an empty issuer name */
    static const uint8_t empty_name[] = { 0, 2, 0, 0, 0, 0, 0 };
    CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(empty_name, sizeof empty_name), &p),
                 -OV_E_MALFORMED);
    c.issuer_name.len = 0;
    CHECK_EQ_INT(ov_pp_challenge_encode(&c, buf, sizeof buf, &len), -OV_E_MALFORMED);
    c.issuer_name.len = 1;
    c.token_type = 1;
    CHECK_EQ_INT(ov_pp_challenge_encode(&c, buf, sizeof buf, &len), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_pp_challenge_parse(OV_BYTES(NULL, 0), &p), -OV_E_TRUNCATED);
}

/* The token key: pkS from skS, its id, strict parsing. */
static void
test_key(const json_t *v, const json_t *der, struct ov_pp_key *key)
{
    struct ov_buf pks = vec_hex(v, "pkS"), id = vec_hex(der, "token_key_id");
    uint8_t spki[OV_MAX_TOKEN_KEY_LEN], kid[OV_PP_NID];
    size_t spki_len;

    CHECK_EQ_INT(pks.len, 342);
    CHECK_EQ_INT(ov_pp_spki_encode(ov_brsa_sk_pk(issuer_sk), spki, sizeof spki, &spki_len), 0);
    CHECK(spki_len == pks.len && memcmp(spki, pks.ptr, pks.len) == 0);
    CHECK_EQ_INT(ov_pp_spki_encode(ov_brsa_sk_pk(issuer_sk), spki, 341, &spki_len), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_pp_token_key_id(ov_brsa_sk_pk(issuer_sk), kid), 0);
    CHECK_EQ_MEM(kid, id.ptr, OV_PP_NID);
    CHECK_EQ_INT(kid[OV_PP_NID - 1],
                 json_integer_value(json_object_get(der, "truncated_token_key_id")));

    CHECK_EQ_INT(ov_pp_key_from_spki(key, view(&pks)), 0);
    CHECK_EQ_MEM(key->token_key_id, id.ptr, OV_PP_NID);
    CHECK(key->spki_len == 342 && memcmp(key->spki, pks.ptr, 342) == 0);
    struct ov_pp_key k2;
    CHECK_EQ_INT(ov_pp_key_from_pk(&k2, ov_brsa_sk_pk(issuer_sk)), 0);
    CHECK_EQ_MEM(k2.token_key_id, id.ptr, OV_PP_NID);
    ov_pp_key_clear(&k2);
    CHECK(k2.pk == NULL);
    ov_buf_clear(&pks);
    ov_buf_clear(&id);
}

/* Every way a token key can be wrong. */
static void
test_key_negatives(const json_t *v)
{
    struct ov_buf pks = vec_hex(v, "pkS");
    struct ov_pp_key k;
    uint8_t bad[OV_MAX_TOKEN_KEY_LEN + 16];

    check_truncation(&pks, parse_spki, &k);
    CHECK(k.pk == NULL);
    /* OpenSSL's own encoding: NULL parameters after each sha384 OID (346 bytes) */
    static const uint8_t openssl_alg[] = {
        0x30, 0x82, 0x01, 0x56, 0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
        0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
        0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48,
        0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
        0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x30,
    };
    memcpy(bad, openssl_alg, sizeof openssl_alg);
    memcpy(bad + sizeof openssl_alg, pks.ptr + 67, pks.len - 67);
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, sizeof openssl_alg + pks.len - 67)),
                 -OV_E_TOO_BIG); /* 346 bytes: over the size any token key can have */
    /* saltLength 32; the plain rsaEncryption OID; sha256 instead of sha384 */
    memcpy(bad, pks.ptr, pks.len);
    bad[66] = 0x20;
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, pks.len)), -OV_E_MALFORMED);
    memcpy(bad, pks.ptr, pks.len);
    bad[16] = 0x01;
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, pks.len)), -OV_E_MALFORMED);
    memcpy(bad, pks.ptr, pks.len);
    bad[33] = 0x01;
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, pks.len)), -OV_E_MALFORMED);
    /* unused bits in the BIT STRING; a wrong BIT STRING tag */
    memcpy(bad, pks.ptr, pks.len);
    bad[71] = 0x01;
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, pks.len)), -OV_E_MALFORMED);
    memcpy(bad, pks.ptr, pks.len);
    bad[67] = 0x04;
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, pks.len)), -OV_E_MALFORMED);
    /* even modulus; trailing bytes inside the SEQUENCE */
    memcpy(bad, pks.ptr, pks.len);
    bad[pks.len - 6] ^= 0x01;
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, pks.len)), -OV_E_RANGE);
    memcpy(bad, pks.ptr, pks.len);
    bad[3] = 0x53;
    bad[pks.len] = 0;
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, pks.len + 1)), -OV_E_TRAILING);
    /* a 2040-bit modulus (n without its top byte): the right format, the wrong size */
    {
        static uint8_t s[400];
        struct ov_writer w;
        ov_writer_init(&w, s, sizeof s);
        ov_writer_bytes(&w, "\x30\x82\x01\x51", 4);
        ov_writer_bytes(&w, pks.ptr + 4, 63);
        ov_writer_bytes(&w, "\x03\x82\x01\x0e\x00\x30\x82\x01\x09\x02\x82\x01\x00\x00", 14);
        ov_writer_u8(&w, pks.ptr[82] | 0x80);
        ov_writer_bytes(&w, pks.ptr + 83, 254);
        ov_writer_bytes(&w, "\x02\x03\x01\x00\x01", 5);
        CHECK_EQ_INT(ov_writer_end(&w), 0);
        CHECK_EQ_INT(w.len, 341);
        CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(s, w.len)), -OV_E_RANGE);
    }
    memset(bad, 0x30, sizeof bad);
    CHECK_EQ_INT(ov_pp_key_from_spki(&k, OV_BYTES(bad, sizeof bad)), -OV_E_TOO_BIG);
    CHECK(k.pk == NULL);
    ov_pp_key_clear(&k);
    ov_pp_key_clear(NULL);
    ov_buf_clear(&pks);
}

static void
test_vector(const json_t *v, struct ov_pp_key *key)
{
    const json_t *der = json_object_get(v, "derived");
    struct ov_buf chal = vec_hex(v, "token_challenge"), nonce = vec_hex(v, "nonce");
    struct ov_buf blind = vec_hex(v, "blind"), salt = vec_hex(v, "salt");
    struct ov_buf req = vec_hex(v, "token_request"), resp = vec_hex(v, "token_response");
    struct ov_buf token = vec_hex(v, "token"), input = vec_hex(der, "token_input");
    struct ov_buf inv = vec_hex(der, "inv"), blinded = vec_hex(der, "blinded_msg");
    struct ov_buf auth = vec_hex(der, "authenticator");
    struct ov_pp_client_state st;
    uint8_t out_req[OV_PP_TOKEN_REQUEST_LEN], out_resp[OV_PP_TOKEN_RESPONSE_LEN];
    uint8_t out_token[OV_PP_TOKEN_LEN], buf[OV_PP_TOKEN_LEN + 1];

    test_challenge(v, der);
    CHECK_EQ_INT(req.len, OV_PP_TOKEN_REQUEST_LEN);
    CHECK_EQ_INT(resp.len, OV_PP_TOKEN_RESPONSE_LEN);
    CHECK_EQ_INT(token.len, OV_PP_TOKEN_LEN);

    /* client: the request, with the vector's blind r and salt */
    CHECK_EQ_INT(ov_pp_client_request_for_testing(key, view(&chal), nonce.ptr, view(&salt),
                                                  view(&blind), out_req, &st),
                 0);
    CHECK_EQ_MEM(out_req, req.ptr, OV_PP_TOKEN_REQUEST_LEN);
    CHECK_EQ_MEM(st.token_input, input.ptr, OV_PP_TOKEN_INPUT_LEN);
    CHECK_EQ_MEM(st.inv, inv.ptr, OV_PP_NK);

    /* the request parses to its fields and re-encodes */
    struct ov_pp_token_request tr;
    CHECK_EQ_INT(ov_pp_token_request_parse(view(&req), &tr), 0);
    CHECK_EQ_INT(tr.token_type, 2);
    CHECK_EQ_INT(tr.truncated_token_key_id, key->token_key_id[OV_PP_NID - 1]);
    CHECK_EQ_MEM(tr.blinded_msg, blinded.ptr, OV_PP_NK);
    CHECK_EQ_INT(ov_pp_token_request_encode(&tr, out_req), 0);
    CHECK_EQ_MEM(out_req, req.ptr, OV_PP_TOKEN_REQUEST_LEN);

    /* issuer */
    CHECK_EQ_INT(ov_pp_issuer_respond(issuer_sk, view(&req), out_resp), 0);
    CHECK_EQ_MEM(out_resp, resp.ptr, OV_PP_TOKEN_RESPONSE_LEN);

    /* client: finalize into the token */
    CHECK_EQ_INT(ov_pp_client_finalize(key, &st, view(&resp), out_token), 0);
    CHECK_EQ_MEM(out_token, token.ptr, OV_PP_TOKEN_LEN);
    ov_pp_client_state_clear(&st);
    CHECK(sodium_is_zero(st.inv, sizeof st.inv));

    /* the token parses to its fields, re-encodes and verifies */
    struct ov_pp_token t;
    uint8_t digest[OV_PP_DIGEST_LEN];
    CHECK_EQ_INT(ov_pp_token_parse(view(&token), &t), 0);
    CHECK_EQ_INT(t.token_type, 2);
    CHECK_EQ_MEM(t.nonce, nonce.ptr, OV_PP_NONCE_LEN);
    ov_pp_challenge_digest(view(&chal), digest);
    CHECK_EQ_MEM(t.challenge_digest, digest, OV_PP_DIGEST_LEN);
    CHECK_EQ_MEM(t.token_key_id, key->token_key_id, OV_PP_NID);
    CHECK_EQ_MEM(t.authenticator, auth.ptr, OV_PP_NK);
    CHECK_EQ_INT(ov_pp_token_encode(&t, out_token), 0);
    CHECK_EQ_MEM(out_token, token.ptr, OV_PP_TOKEN_LEN);
    CHECK_EQ_INT(ov_pp_token_verify(key, view(&token)), 0);

    /* negatives: truncation and trailing bytes of every message */
    check_truncation(&token, parse_token, &t);
    check_truncation(&req, parse_request, &tr);
    check_truncation(&resp, parse_response, out_resp);
    for (size_t cut = 0; cut < token.len; cut++) {
        CHECK_EQ_INT(ov_pp_token_verify(key, OV_BYTES(token.ptr, cut)), -OV_E_TRUNCATED);
    }
    memcpy(buf, token.ptr, token.len);
    buf[token.len] = 0;
    CHECK_EQ_INT(ov_pp_token_verify(key, OV_BYTES(buf, token.len + 1)), -OV_E_TRAILING);
    /* a wrong type, a wrong key id, and a flipped bit in each field the signature covers */
    static const struct {
        size_t at;
        int want;
    } flips[] = { { 1, -OV_E_MALFORMED }, { 0, -OV_E_MALFORMED }, { 2, -OV_E_BAD_SIG },
                  { 40, -OV_E_BAD_SIG },  { 66, -OV_E_UNKNOWN_KEY }, { 97, -OV_E_UNKNOWN_KEY },
                  { 98, -OV_E_BAD_SIG },  { 353, -OV_E_BAD_SIG } };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(buf, token.ptr, token.len);
        buf[flips[i].at] ^= 0x01;
        CHECK_EQ_INT(ov_pp_token_verify(key, OV_BYTES(buf, token.len)), flips[i].want);
    }
    memcpy(buf, token.ptr, token.len);
    buf[1] = 0x01;
    CHECK_EQ_INT(ov_pp_token_parse(OV_BYTES(buf, token.len), &t), -OV_E_MALFORMED);
    t.token_type = 1;
    CHECK_EQ_INT(ov_pp_token_encode(&t, out_token), -OV_E_MALFORMED);

    /* issuer: a wrong type, a wrong truncated key id, a blinded_msg >= n, wrong sizes */
    memcpy(buf, req.ptr, req.len);
    buf[1] = 0x01;
    CHECK_EQ_INT(ov_pp_issuer_respond(issuer_sk, OV_BYTES(buf, req.len), out_resp),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_pp_token_request_parse(OV_BYTES(buf, req.len), &tr), -OV_E_MALFORMED);
    memcpy(buf, req.ptr, req.len);
    buf[2] ^= 0x40;
    CHECK_EQ_INT(ov_pp_issuer_respond(issuer_sk, OV_BYTES(buf, req.len), out_resp),
                 -OV_E_UNKNOWN_KEY);
    CHECK(sodium_is_zero(out_resp, sizeof out_resp));
    memcpy(buf, req.ptr, req.len);
    memset(buf + 3, 0xff, OV_PP_NK);
    CHECK_EQ_INT(ov_pp_issuer_respond(issuer_sk, OV_BYTES(buf, req.len), out_resp), -OV_E_RANGE);
    CHECK_EQ_INT(ov_pp_issuer_respond(issuer_sk, OV_BYTES(req.ptr, req.len - 1), out_resp),
                 -OV_E_TRUNCATED);
    memcpy(buf, req.ptr, req.len);
    buf[req.len] = 0;
    CHECK_EQ_INT(ov_pp_issuer_respond(issuer_sk, OV_BYTES(buf, req.len + 1), out_resp),
                 -OV_E_TRAILING);
    tr.token_type = 3;
    CHECK_EQ_INT(ov_pp_token_request_encode(&tr, out_req), -OV_E_MALFORMED);

    /* client: a tampered response, wrong sizes */
    CHECK_EQ_INT(ov_pp_client_request_for_testing(key, view(&chal), nonce.ptr, view(&salt),
                                                  view(&blind), out_req, &st),
                 0);
    memcpy(buf, resp.ptr, resp.len);
    buf[128] ^= 0x01;
    CHECK_EQ_INT(ov_pp_client_finalize(key, &st, OV_BYTES(buf, resp.len), out_token),
                 -OV_E_BAD_SIG);
    CHECK(sodium_is_zero(out_token, sizeof out_token));
    CHECK_EQ_INT(ov_pp_client_finalize(key, &st, OV_BYTES(resp.ptr, resp.len - 1), out_token),
                 -OV_E_TRUNCATED);
    /* the response to another request (vector 1's blinded message signed) does not fit */
    CHECK_EQ_INT(ov_pp_client_finalize(key, &st, view(&blinded), out_token), -OV_E_BAD_SIG);
    ov_pp_client_state_clear(&st);
    /* the test entry point wants a 48-byte salt; a malformed challenge is refused */
    CHECK_EQ_INT(ov_pp_client_request_for_testing(key, view(&chal), nonce.ptr,
                                                  OV_BYTES(salt.ptr, 47), view(&blind), out_req,
                                                  &st),
                 -OV_E_RANGE);
    CHECK_EQ_INT(ov_pp_client_request(key, OV_BYTES(chal.ptr, chal.len - 1), nonce.ptr, out_req,
                                      &st),
                 -OV_E_TRUNCATED);
    CHECK(sodium_is_zero(out_req, sizeof out_req) && sodium_is_zero((const unsigned char *)&st, sizeof st));

    struct ov_buf *all[] = { &chal, &nonce, &blind, &salt, &req, &resp, &token, &input, &inv,
                             &blinded, &auth };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ov_buf_clear(all[i]);
    }
}

static void
test_vectors(void)
{
    json_t *j = vec_load("rfc9578_type2.json");
    json_t *vs = json_object_get(j, "vectors");
    json_t *v0 = json_array_get(vs, 0);
    struct ov_buf sks = vec_hex(v0, "skS");
    const char *pem = vec_str(v0, "skS_pem");
    struct ov_pp_key key;

    CHECK_EQ_INT(json_array_size(vs), 5);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "token_type")), 2);
    CHECK(sks.len == strlen(pem) && memcmp(sks.ptr, pem, sks.len) == 0);
    CHECK_EQ_INT(ov_brsa_sk_load(view(&sks), &issuer_sk), 0);
    if (issuer_sk == NULL) {
        exit(1);
    }
    for (size_t i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i);
        struct ov_buf sk_i = vec_hex(v, "skS");
        CHECK(sk_i.len == sks.len && memcmp(sk_i.ptr, sks.ptr, sks.len) == 0);
        test_key(v, json_object_get(v, "derived"), &key);
        test_vector(v, &key);
        ov_pp_key_clear(&key);
        ov_buf_clear(&sk_i);
    }
    test_key_negatives(v0);
    ov_buf_clear(&sks);
    json_decref(j);
}

/* A full run with fresh keys and randomness; then requests crossing issuers. */
static void
test_fresh(void)
{
    struct ov_brsa_sk *a = NULL, *b = NULL;
    struct ov_pp_key ka, kb;
    struct ov_pp_client_state st;
    uint8_t nonce[OV_PP_NONCE_LEN], req[OV_PP_TOKEN_REQUEST_LEN], resp[OV_PP_TOKEN_RESPONSE_LEN];
    uint8_t token[OV_PP_TOKEN_LEN], chal[64];
    size_t chal_len;
    struct ov_pp_challenge c = { 2, OV_BYTES_STR("issuer.onevoice.example"), OV_BYTES(NULL, 0),
                                 OV_BYTES_STR("vote.example") };

    CHECK_EQ_INT(ov_brsa_keygen(2048, &a), 0);
    CHECK_EQ_INT(ov_brsa_keygen(2048, &b), 0);
    if (a == NULL || b == NULL) {
        return;
    }
    CHECK_EQ_INT(ov_pp_key_from_pk(&ka, ov_brsa_sk_pk(a)), 0);
    CHECK_EQ_INT(ov_pp_key_from_pk(&kb, ov_brsa_sk_pk(b)), 0);
    CHECK_EQ_INT(ka.spki_len, 342);
    CHECK_EQ_INT(ov_pp_challenge_encode(&c, chal, sizeof chal, &chal_len), 0);
    randombytes_buf(nonce, sizeof nonce);

    CHECK_EQ_INT(ov_pp_client_request(&ka, OV_BYTES(chal, chal_len), nonce, req, &st), 0);
    CHECK_EQ_INT(ov_pp_issuer_respond(a, OV_BYTES(req, sizeof req), resp), 0);
    CHECK_EQ_INT(ov_pp_client_finalize(&ka, &st, OV_BYTES(resp, sizeof resp), token), 0);
    CHECK_EQ_INT(ov_pp_token_verify(&ka, OV_BYTES(token, sizeof token)), 0);
    CHECK_EQ_INT(ov_pp_token_verify(&kb, OV_BYTES(token, sizeof token)), -OV_E_UNKNOWN_KEY);
    /* the token under b's key id but a's signature: bad signature */
    memcpy(token + 66, kb.token_key_id, OV_PP_NID);
    CHECK_EQ_INT(ov_pp_token_verify(&kb, OV_BYTES(token, sizeof token)), -OV_E_BAD_SIG);

    /* a request for a, sent to b: refused by key id (unless the truncated ids collide, 1 in
     * 256, when b signs and the client's Finalize refuses instead) */
    int rc = ov_pp_issuer_respond(b, OV_BYTES(req, sizeof req), resp);
    if (ka.token_key_id[OV_PP_NID - 1] != kb.token_key_id[OV_PP_NID - 1]) {
        CHECK_EQ_INT(rc, -OV_E_UNKNOWN_KEY);
    } else if (rc == 0) {
        CHECK_EQ_INT(ov_pp_client_finalize(&ka, &st, OV_BYTES(resp, sizeof resp), token),
                     -OV_E_BAD_SIG);
    }
    ov_pp_client_state_clear(&st);

    /* two requests for the same challenge and nonce are unlinkable: different blinded_msg */
    uint8_t req2[OV_PP_TOKEN_REQUEST_LEN];
    CHECK_EQ_INT(ov_pp_client_request(&ka, OV_BYTES(chal, chal_len), nonce, req, &st), 0);
    CHECK_EQ_INT(ov_pp_client_request(&ka, OV_BYTES(chal, chal_len), nonce, req2, &st), 0);
    CHECK(memcmp(req + 3, req2 + 3, OV_PP_NK) != 0);
    ov_pp_client_state_clear(&st);

    ov_pp_key_clear(&ka);
    ov_pp_key_clear(&kb);
    ov_brsa_sk_free(a);
    ov_brsa_sk_free(b);

    /* keys of other sizes are not token keys */
    struct ov_brsa_sk *big = NULL;
    uint8_t id[OV_PP_NID], spki[OV_MAX_TOKEN_KEY_LEN];
    size_t spki_len;
    CHECK_EQ_INT(ov_brsa_keygen(3072, &big), 0);
    if (big != NULL) {
        CHECK_EQ_INT(ov_pp_token_key_id(ov_brsa_sk_pk(big), id), -OV_E_RANGE);
        CHECK_EQ_INT(ov_pp_spki_encode(ov_brsa_sk_pk(big), spki, sizeof spki, &spki_len),
                     -OV_E_RANGE);
        CHECK_EQ_INT(ov_pp_key_from_pk(&ka, ov_brsa_sk_pk(big)), -OV_E_RANGE);
        CHECK(ka.pk == NULL);
        memset(req, 0, sizeof req);
        req[1] = 2;
        CHECK_EQ_INT(ov_pp_issuer_respond(big, OV_BYTES(req, sizeof req), resp), -OV_E_RANGE);
        ov_brsa_sk_free(big);
    }
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_challenge_rules();
    test_vectors();
    test_fresh();
    ov_brsa_sk_free(issuer_sk);
    TEST_DONE("pp");
}
