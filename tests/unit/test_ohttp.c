/* test_ohttp: RFC 9458 Appendix A byte for byte (the key configuration, the Encapsulated
 * Request from the given ephemeral key, its decapsulation, the response's secret, PRK, key,
 * nonce and the Encapsulated Response from the given nonce, and the client opening it; it
 * uses AES-128-GCM, plugged in from tests/hpke_gcm.h); then a ChaCha20Poly1305 round trip as
 * onevoice runs it, and every refusal: unknown key id, another KEM/KDF/AEAD, a flipped bit,
 * truncation, a tampered response; application/ohttp-keys lists parsed strictly. */
#include <sodium.h>
#include <string.h>

#include "../hpke_gcm.h"
#include "../test.h"
#include "../vec.h"
#include "protocol/ohttp.h"

static const struct ov_hpke_aead *
chacha(void)
{
    return ov_hpke_chacha20poly1305();
}

static void
check_example(void)
{
    json_t *v = vec_load("ohttp-rfc9458.json");
    struct ov_buf skR = vec_hex(v, "skR"), cfg = vec_hex(v, "key_config");
    struct ov_buf req = vec_hex(v, "request"), skE = vec_hex(v, "skE"), pkE = vec_hex(v, "pkE");
    struct ov_buf info = vec_hex(v, "info"), enc_req = vec_hex(v, "enc_request");
    struct ov_buf res = vec_hex(v, "response"), secret = vec_hex(v, "secret");
    struct ov_buf nonce = vec_hex(v, "response_nonce"), prk = vec_hex(v, "prk");
    struct ov_buf aead_key = vec_hex(v, "aead_key"), aead_nonce = vec_hex(v, "aead_nonce");
    struct ov_buf enc_res = vec_hex(v, "enc_response");

    /* the gateway's key: id 1, AES-128-GCM and ChaCha20Poly1305 */
    struct ov_ohttp_key key = { .key_id = 1, .aeads = { &AES128GCM, chacha() }, .n_aeads = 2 };
    memcpy(key.sk, skR.ptr, 32);
    CHECK(ov_hpke_public_key(key.sk, key.pk) == 0);
    struct ov_ohttp_config c;
    ov_ohttp_key_config(&key, &c);
    struct ov_buf b;
    ov_buf_init(&b, 1 << 16);
    CHECK(ov_ohttp_config_encode(&c, &b) == 0);
    CHECK(b.len == cfg.len && memcmp(b.ptr, cfg.ptr, cfg.len) == 0);

    /* application/ohttp-keys of that one config parses back to it */
    b.len = 0;
    CHECK(ov_ohttp_keys_encode(&c, 1, &b) == 0);
    CHECK(b.len == cfg.len + 2 && b.ptr[0] == 0 && b.ptr[1] == cfg.len);
    struct ov_ohttp_config parsed[2];
    size_t n = 0;
    CHECK(ov_ohttp_keys_parse(ov_buf_view(&b), parsed, 2, &n) == 0 && n == 1);
    CHECK(memcmp(&parsed[0], &c, sizeof c) == 0);

    /* the client's Encapsulated Request from the example's ephemeral key */
    struct ov_ohttp_client cl;
    b.len = 0;
    CHECK(ov_ohttp_encap_request(&parsed[0], &AES128GCM, skE.ptr, ov_buf_view(&req), &b, &cl) ==
          0);
    CHECK(b.len == enc_req.len && memcmp(b.ptr, enc_req.ptr, enc_req.len) == 0);
    CHECK(memcmp(cl.enc, pkE.ptr, 32) == 0);
    CHECK(info.len == 29 && memcmp(info.ptr, "message/bhttp request\0", 22) == 0);
    CHECK(memcmp(info.ptr + 22, enc_req.ptr, 7) == 0);

    /* the gateway decapsulates it */
    struct ov_ohttp_server sv;
    struct ov_buf got;
    ov_buf_init(&got, 1 << 16);
    CHECK(ov_ohttp_decap_request(&key, 1, ov_buf_view(&enc_req), &got, &sv) == 0);
    CHECK(got.len == req.len && memcmp(got.ptr, req.ptr, req.len) == 0);

    /* the response's intermediate values, then the Encapsulated Response itself */
    uint8_t sec[16], p[32], k[16], nn[12], salt[48];
    CHECK(ov_hpke_export(&sv.hpke, (const uint8_t *)"message/bhttp response", 22, sec, 16) == 0);
    CHECK_EQ_MEM(sec, secret.ptr, 16);
    memcpy(salt, pkE.ptr, 32);
    memcpy(salt + 32, nonce.ptr, 16);
    ov_hpke_hkdf_extract(salt, 48, sec, 16, p);
    CHECK_EQ_MEM(p, prk.ptr, 32);
    CHECK(ov_hpke_hkdf_expand(p, (const uint8_t *)"key", 3, k, 16) == 0);
    CHECK(ov_hpke_hkdf_expand(p, (const uint8_t *)"nonce", 5, nn, 12) == 0);
    CHECK_EQ_MEM(k, aead_key.ptr, 16);
    CHECK_EQ_MEM(nn, aead_nonce.ptr, 12);
    b.len = 0;
    CHECK(ov_ohttp_encap_response(&sv, nonce.ptr, ov_buf_view(&res), &b) == 0);
    CHECK(b.len == enc_res.len && memcmp(b.ptr, enc_res.ptr, enc_res.len) == 0);

    /* the client opens it; a flipped bit anywhere is refused */
    got.len = 0;
    CHECK(ov_ohttp_decap_response(&cl, ov_buf_view(&enc_res), &got) == 0);
    CHECK(got.len == res.len && memcmp(got.ptr, res.ptr, res.len) == 0);
    for (size_t i = 0; i < enc_res.len; i++) {
        enc_res.ptr[i] ^= 0x40;
        got.len = 0;
        CHECK(ov_ohttp_decap_response(&cl, ov_buf_view(&enc_res), &got) == -OV_E_MALFORMED);
        enc_res.ptr[i] ^= 0x40;
    }
    CHECK(ov_ohttp_decap_response(&cl, OV_BYTES(enc_res.ptr, 31), &got) == -OV_E_TRUNCATED);

    ov_ohttp_client_clear(&cl);
    ov_ohttp_server_clear(&sv);
    CHECK(cl.hpke.aead == NULL && sodium_is_zero(sv.hpke.key, sizeof sv.hpke.key));
    struct ov_buf *all[] = { &skR, &cfg, &req, &skE, &pkE, &info, &enc_req, &res, &secret,
                             &nonce, &prk, &aead_key, &aead_nonce, &enc_res, &b, &got };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ov_buf_clear(all[i]);
    }
    json_decref(v);
}

/* onevoice's own suite, random keys: a round trip, then each refusal of §4.3 step 1. */
static void
check_chacha(void)
{
    struct ov_ohttp_key keys[2] = {
        { .key_id = 7, .aeads = { chacha() }, .n_aeads = 1 },
        { .key_id = 8, .aeads = { chacha() }, .n_aeads = 1 },
    };
    CHECK(ov_hpke_keygen(keys[0].sk, keys[0].pk) == 0);
    CHECK(ov_hpke_keygen(keys[1].sk, keys[1].pk) == 0);
    struct ov_ohttp_config c;
    ov_ohttp_key_config(&keys[1], &c);
    const uint8_t msg[] = "\x00\x03GET\x05https\x00\x0d/v1/contexts";
    struct ov_buf er, pt, eres;
    ov_buf_init(&er, 4096);
    ov_buf_init(&pt, 4096);
    ov_buf_init(&eres, 4096);
    struct ov_ohttp_client cl;
    struct ov_ohttp_server sv;
    CHECK(ov_ohttp_encap_request(&c, &AES128GCM, NULL, OV_BYTES(msg, sizeof msg - 1), &er,
                                 &cl) == -OV_E_UNKNOWN_KEY); /* not in the config */
    CHECK(er.len == 0);
    CHECK(ov_ohttp_encap_request(&c, chacha(), NULL, OV_BYTES(msg, sizeof msg - 1), &er, &cl) ==
          0);
    CHECK(er.len == sizeof msg - 1 + OV_OHTTP_REQ_HDR_LEN + 32 + 16);
    CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &pt, &sv) == 0);
    CHECK(pt.len == sizeof msg - 1 && memcmp(pt.ptr, msg, pt.len) == 0);
    CHECK(ov_ohttp_encap_response(&sv, NULL, OV_BYTES("\x01\x40\xc8", 3), &eres) == 0);
    CHECK(eres.len == 32 + 3 + 16); /* max(Nn, Nk) = 32 for ChaCha20Poly1305 */
    pt.len = 0;
    CHECK(ov_ohttp_decap_response(&cl, ov_buf_view(&eres), &pt) == 0);
    CHECK(pt.len == 3 && memcmp(pt.ptr, "\x01\x40\xc8", 3) == 0);
    /* a response for another request does not open */
    struct ov_ohttp_client other;
    struct ov_buf er2;
    ov_buf_init(&er2, 4096);
    CHECK(ov_ohttp_encap_request(&c, chacha(), NULL, OV_BYTES(msg, 4), &er2, &other) == 0);
    CHECK(ov_ohttp_decap_response(&other, ov_buf_view(&eres), &pt) == -OV_E_MALFORMED);

    /* refusals at the gateway; out is left as it was */
    size_t keep = pt.len;
    er.ptr[0] = 9; /* no key 9 */
    CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &pt, &sv) == -OV_E_UNKNOWN_KEY);
    er.ptr[0] = 8;
    er.ptr[2] = 0x21; /* another KEM */
    CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &pt, &sv) == -OV_E_UNKNOWN_KEY);
    er.ptr[2] = 0x20;
    er.ptr[4] = 2; /* HKDF-SHA384 */
    CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &pt, &sv) == -OV_E_UNKNOWN_KEY);
    er.ptr[4] = 1;
    er.ptr[6] = 1; /* AES-128-GCM: not accepted by this key */
    CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &pt, &sv) == -OV_E_UNKNOWN_KEY);
    er.ptr[6] = 3;
    er.ptr[0] = 7; /* the other key: does not decrypt */
    CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &pt, &sv) == -OV_E_MALFORMED);
    er.ptr[0] = 8;
    for (size_t i = OV_OHTTP_REQ_HDR_LEN; i < er.len; i++) {
        er.ptr[i] ^= 1;
        CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &pt, &sv) == -OV_E_MALFORMED);
        er.ptr[i] ^= 1;
    }
    for (size_t cut = 0; cut < OV_OHTTP_REQ_HDR_LEN + 32 + 16; cut++) {
        CHECK(ov_ohttp_decap_request(keys, 2, OV_BYTES(er.ptr, cut), &pt, &sv) ==
              -OV_E_TRUNCATED);
    }
    CHECK(pt.len == keep && sv.hpke.aead == NULL);
    CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &pt, &sv) == 0);
    /* the plaintext past out's cap */
    struct ov_buf small;
    ov_buf_init(&small, 4);
    CHECK(ov_ohttp_decap_request(keys, 2, ov_buf_view(&er), &small, &sv) == -OV_E_TOO_BIG);
    ov_ohttp_client_clear(&cl);
    ov_ohttp_client_clear(&other);
    ov_ohttp_server_clear(&sv);
    ov_buf_clear(&er);
    ov_buf_clear(&er2);
    ov_buf_clear(&pt);
    ov_buf_clear(&eres);
    ov_buf_clear(&small);
}

static int
parse_hex(const char *hex, size_t *n)
{
    uint8_t in[512];
    size_t len = 0;
    struct ov_ohttp_config out[OV_OHTTP_MAX_CONFIGS];
    if (ov_hex_decode(in, sizeof in, &len, hex, strlen(hex)) != 0) {
        return 99;
    }
    return ov_ohttp_keys_parse(OV_BYTES(in, len), out, OV_OHTTP_MAX_CONFIGS, n);
}

#define PK "31e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155"

static void
check_keys_parse(void)
{
    size_t n = 9;
    /* two configs (a rotation), and one of an unknown KEM skipped */
    CHECK(parse_hex("0029" "01" "0020" PK "0004" "00010003"
                    "0029" "02" "0020" PK "0004" "00010003", &n) == 0 && n == 2);
    CHECK(parse_hex("0007" "05" "0010" "aabb" "0000"
                    "0029" "02" "0020" PK "0004" "00010003", &n) == 0 && n == 1);
    CHECK(parse_hex("0007" "05" "0010" "aabb" "0000", &n) == -OV_E_NOT_FOUND && n == 0);
    CHECK(parse_hex("", &n) == -OV_E_TRUNCATED);
    CHECK(parse_hex("0029" "01" "0020" PK "0004" "000100", &n) == -OV_E_TRUNCATED);
    CHECK(parse_hex("002a" "01" "0020" PK "0004" "00010003" "00", &n) == -OV_E_MALFORMED);
    CHECK(parse_hex("0028" "01" "0020" PK "0003" "000100", &n) == -OV_E_MALFORMED);
    CHECK(parse_hex("0025" "01" "0020" PK "0000", &n) == -OV_E_MALFORMED);
    CHECK(parse_hex("0029" "01" "0020" PK "0004" "00010003" "00", &n) == -OV_E_TRUNCATED);
    CHECK(parse_hex("0039" "01" "0020" PK "0014" "0001000300010003000100030001000300010003",
                    &n) == -OV_E_TOO_BIG);
    /* a broken second config discards the first too (§3.2) */
    CHECK(parse_hex("0029" "01" "0020" PK "0004" "00010003"
                    "0029" "02" "0020" PK "0005" "00010003", &n) == -OV_E_MALFORMED && n == 0);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    check_example();
    check_chacha();
    check_keys_parse();
    TEST_DONE("test_ohttp");
}
