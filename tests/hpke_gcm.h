/* hpke_gcm.h: AES-128-GCM (HPKE AEAD 0x0001) from OpenSSL's EVP, as an HPKE AEAD table entry,
 * for tests only: RFC 9180 A.1 and RFC 9458 Appendix A use it. The project itself uses
 * ChaCha20Poly1305 alone (it takes only RSA and SHA-2 from libcrypto). */
#ifndef OV_TEST_HPKE_GCM_H
#define OV_TEST_HPKE_GCM_H

#include <openssl/evp.h>
#include <string.h>

#include "primitives/hpke.h"

static int
gcm(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
    const uint8_t *in, size_t in_len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c != NULL && EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce, enc);
    ok = ok && (aad_len == 0 || EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len));
    ok = ok && (in_len == 0 || EVP_CipherUpdate(c, out, &n, in, (int)in_len));
    ok = ok && (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag));
    ok = ok && EVP_CipherFinal_ex(c, out + (in_len ? in_len : 0), &n);
    ok = ok && (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag));
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -OV_E_CRYPTO;
}

static int
gcm_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
         const uint8_t *pt, size_t pt_len, uint8_t *ct)
{
    return gcm(1, key, nonce, aad, aad_len, pt, pt_len, ct, ct + pt_len);
}

static int
gcm_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
         const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
    uint8_t tag[16];
    memcpy(tag, ct + ct_len - 16, 16);
    return gcm(0, key, nonce, aad, aad_len, ct, ct_len - 16, pt, tag);
}

static const struct ov_hpke_aead AES128GCM = {
    .id = OV_HPKE_AEAD_AES128GCM, .nk = 16, .nn = 12, .nt = 16,
    .seal = gcm_seal, .open = gcm_open,
};

#endif
