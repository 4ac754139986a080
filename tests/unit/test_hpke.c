/* test_hpke: RFC 9180 Appendix A.1.1 and A.2.1 (base mode, X25519, HKDF-SHA256, with
 * AES-128-GCM and ChaCha20Poly1305): every intermediate value, every encryption, every
 * export; then the refusals (bad tag, small-order keys, short ciphertexts, limits).
 * AES-128-GCM comes from OpenSSL's EVP here, in the test only: it is plugged into the AEAD
 * table to reproduce A.1; the project itself uses ChaCha20Poly1305 alone. */
#include <sodium.h>
#include <string.h>

#include "primitives/hpke.h"
#include "../hpke_gcm.h"
#include "../test.h"
#include "../vec.h"

#define HEX(field) struct ov_buf field = vec_hex(v, #field)

static void
check_encryptions(const json_t *v, const struct ov_hpke_ctx *s0, const struct ov_hpke_ctx *r0)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(v, "encryptions"), i, e) {
        struct ov_buf pt = vec_hex(e, "pt"), aad = vec_hex(e, "aad"), ct = vec_hex(e, "ct");
        struct ov_hpke_ctx s = *s0, r = *r0;
        s.seq = r.seq = (uint64_t)json_integer_value(json_object_get(e, "seq"));
        uint8_t out[256], back[256];
        CHECK(ov_hpke_seal(&s, aad.ptr, aad.len, pt.ptr, pt.len, out) == 0);
        CHECK(ct.len == pt.len + s.aead->nt);
        CHECK_EQ_MEM(out, ct.ptr, ct.len);
        CHECK(ov_hpke_open(&r, aad.ptr, aad.len, ct.ptr, ct.len, back) == 0);
        CHECK_EQ_MEM(back, pt.ptr, pt.len);
        CHECK(s.seq == r.seq);
        /* the next sequence number's nonce must not open this one */
        CHECK(ov_hpke_open(&r, aad.ptr, aad.len, ct.ptr, ct.len, back) == -OV_E_CRYPTO);
        ov_buf_clear(&pt);
        ov_buf_clear(&aad);
        ov_buf_clear(&ct);
    }
}

static void
check_exports(const json_t *v, const struct ov_hpke_ctx *s, const struct ov_hpke_ctx *r)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(v, "exports"), i, e) {
        struct ov_buf c = vec_hex(e, "exporter_context"), want = vec_hex(e, "exported_value");
        size_t len = (size_t)json_integer_value(json_object_get(e, "L"));
        uint8_t a[64], b[64];
        CHECK(len == want.len && len <= sizeof a);
        CHECK(ov_hpke_export(s, c.ptr, c.len, a, len) == 0);
        CHECK(ov_hpke_export(r, c.ptr, c.len, b, len) == 0);
        CHECK_EQ_MEM(a, want.ptr, len);
        CHECK_EQ_MEM(b, want.ptr, len);
        ov_buf_clear(&c);
        ov_buf_clear(&want);
    }
}

static void
check_vector(const json_t *v)
{
    int aead_id = (int)json_integer_value(json_object_get(v, "aead_id"));
    const struct ov_hpke_aead *aead =
        aead_id == OV_HPKE_AEAD_AES128GCM ? &AES128GCM : ov_hpke_chacha20poly1305();
    CHECK(json_integer_value(json_object_get(v, "mode")) == 0);
    CHECK(json_integer_value(json_object_get(v, "kem_id")) == OV_HPKE_KEM_X25519_SHA256);
    CHECK(json_integer_value(json_object_get(v, "kdf_id")) == OV_HPKE_KDF_HKDF_SHA256);
    CHECK(aead->id == aead_id);
    HEX(info); HEX(ikmE); HEX(pkEm); HEX(skEm); HEX(ikmR); HEX(pkRm); HEX(skRm); HEX(enc);
    HEX(shared_secret); HEX(key); HEX(base_nonce); HEX(exporter_secret);

    uint8_t sk[32], pk[32];
    CHECK(ov_hpke_derive_keypair(ikmE.ptr, ikmE.len, sk, pk) == 0);
    CHECK_EQ_MEM(sk, skEm.ptr, 32);
    CHECK_EQ_MEM(pk, pkEm.ptr, 32);
    CHECK(ov_hpke_derive_keypair(ikmR.ptr, ikmR.len, sk, pk) == 0);
    CHECK_EQ_MEM(sk, skRm.ptr, 32);
    CHECK_EQ_MEM(pk, pkRm.ptr, 32);

    uint8_t ss[32], e[32];
    CHECK(ov_hpke_encap(pkRm.ptr, skEm.ptr, ss, e) == 0);
    CHECK_EQ_MEM(ss, shared_secret.ptr, 32);
    CHECK_EQ_MEM(e, enc.ptr, 32);
    CHECK(ov_hpke_decap(enc.ptr, skRm.ptr, ss) == 0);
    CHECK_EQ_MEM(ss, shared_secret.ptr, 32);
    memset(ss, 0, sizeof ss);
    CHECK(ov_hpke_decap_pk(enc.ptr, skRm.ptr, pkRm.ptr, ss) == 0);
    CHECK_EQ_MEM(ss, shared_secret.ptr, 32);

    struct ov_hpke_ctx s, r;
    CHECK(ov_hpke_setup_base_s(&s, aead, pkRm.ptr, skEm.ptr, info.ptr, info.len, e) == 0);
    CHECK(ov_hpke_setup_base_r(&r, aead, enc.ptr, skRm.ptr, info.ptr, info.len) == 0);
    CHECK_EQ_MEM(e, enc.ptr, 32);
    CHECK(key.len == aead->nk && base_nonce.len == aead->nn);
    CHECK_EQ_MEM(s.key, key.ptr, key.len);
    CHECK_EQ_MEM(r.key, key.ptr, key.len);
    CHECK_EQ_MEM(s.base_nonce, base_nonce.ptr, base_nonce.len);
    CHECK_EQ_MEM(r.exporter_secret, exporter_secret.ptr, 32);
    check_encryptions(v, &s, &r);
    check_exports(v, &s, &r);

    /* single shot: a random ephemeral key, opened by the recipient */
    uint8_t ct[64], pt[48], enc2[32];
    const uint8_t msg[] = "one person, one voice";
    CHECK(ov_hpke_seal_base(aead, pkRm.ptr, info.ptr, info.len, NULL, 0, msg, sizeof msg, enc2,
                            ct) == 0);
    CHECK(ov_hpke_open_base(aead, enc2, skRm.ptr, info.ptr, info.len, NULL, 0, ct,
                            sizeof msg + aead->nt, pt) == 0);
    CHECK_EQ_MEM(pt, msg, sizeof msg);
    /* another info, a flipped bit, a short ciphertext: refused */
    CHECK(ov_hpke_open_base(aead, enc2, skRm.ptr, info.ptr, info.len - 1, NULL, 0, ct,
                            sizeof msg + aead->nt, pt) == -OV_E_CRYPTO);
    ct[3] ^= 1;
    CHECK(ov_hpke_open_base(aead, enc2, skRm.ptr, info.ptr, info.len, NULL, 0, ct,
                            sizeof msg + aead->nt, pt) == -OV_E_CRYPTO);
    CHECK(ov_hpke_open_base(aead, enc2, skRm.ptr, info.ptr, info.len, NULL, 0, ct,
                            aead->nt - 1, pt) == -OV_E_TRUNCATED);

    ov_hpke_ctx_clear(&s);
    ov_hpke_ctx_clear(&r);
    CHECK(sodium_is_zero(s.key, sizeof s.key) && s.aead == NULL);
    struct ov_buf *all[] = { &info, &ikmE, &pkEm, &skEm, &ikmR, &pkRm, &skRm, &enc,
                             &shared_secret, &key, &base_nonce, &exporter_secret };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ov_buf_clear(all[i]);
    }
}

/* RFC 5869 Appendix A.1 (HKDF-SHA256), for the unlabeled Extract/Expand OHTTP uses. */
static void
check_hkdf(void)
{
    uint8_t ikm[22], salt[13], info[10], prk[32], okm[42], want_prk[32], want_okm[42];
    size_t n = 0;
    memset(ikm, 0x0b, sizeof ikm);
    for (size_t i = 0; i < sizeof salt; i++) {
        salt[i] = (uint8_t)i;
    }
    for (size_t i = 0; i < sizeof info; i++) {
        info[i] = (uint8_t)(0xf0 + i);
    }
    CHECK(ov_hex_decode(want_prk, sizeof want_prk, &n,
                        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", 64) ==
          0);
    CHECK(ov_hex_decode(want_okm, sizeof want_okm, &n,
                        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                        "34007208d5b887185865", 84) == 0);
    ov_hpke_hkdf_extract(salt, sizeof salt, ikm, sizeof ikm, prk);
    CHECK_EQ_MEM(prk, want_prk, 32);
    CHECK(ov_hpke_hkdf_expand(prk, info, sizeof info, okm, sizeof okm) == 0);
    CHECK_EQ_MEM(okm, want_okm, sizeof okm);
    CHECK(ov_hpke_hkdf_expand(prk, info, sizeof info, okm, 255 * 32 + 1) == -OV_E_RANGE);
}

/* Small-order public keys give an all-zero DH output: refused, outputs zeroed. */
static void
check_refusals(void)
{
    uint8_t sk[32], pk[32], ss[32], enc[32], zero[32] = { 0 }, one[32] = { 1 };
    CHECK(ov_hpke_keygen(sk, pk) == 0);
    memset(ss, 0xaa, sizeof ss);
    CHECK(ov_hpke_encap(zero, NULL, ss, enc) == -OV_E_CRYPTO);
    CHECK(sodium_is_zero(ss, sizeof ss) && sodium_is_zero(enc, sizeof enc));
    CHECK(ov_hpke_encap(one, NULL, ss, enc) == -OV_E_CRYPTO);
    CHECK(ov_hpke_decap(zero, sk, ss) == -OV_E_CRYPTO);
    struct ov_hpke_ctx c;
    CHECK(ov_hpke_setup_base_r(&c, ov_hpke_chacha20poly1305(), one, sk, NULL, 0) ==
          -OV_E_CRYPTO);
    CHECK(c.aead == NULL);
    /* a sequence number at its end refuses to wrap the nonce */
    CHECK(ov_hpke_setup_base_s(&c, ov_hpke_chacha20poly1305(), pk, NULL, NULL, 0, enc) == 0);
    c.seq = UINT64_MAX;
    uint8_t ct[16];
    CHECK(ov_hpke_seal(&c, NULL, 0, NULL, 0, ct) == -OV_E_RANGE);
    uint8_t big[1];
    CHECK(ov_hpke_export(&c, NULL, 0, big, OV_HPKE_MAX_EXPORT_LEN + 1) == -OV_E_RANGE);
    ov_hpke_ctx_clear(&c);
    /* an AEAD table entry past the maxima is refused, not overrun */
    struct ov_hpke_aead wide = *ov_hpke_chacha20poly1305();
    wide.nk = OV_HPKE_MAX_NK + 1;
    CHECK(ov_hpke_key_schedule(&c, &wide, ss, NULL, 0) == -OV_E_RANGE);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    json_t *all = vec_load("hpke-rfc9180-x25519.json");
    size_t i;
    json_t *v;
    CHECK(json_array_size(all) == 2);
    json_array_foreach(all, i, v) {
        check_vector(v);
    }
    json_decref(all);
    check_hkdf();
    check_refusals();
    TEST_DONE("test_hpke");
}
