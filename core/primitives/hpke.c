/* hpke: RFC 9180 base mode for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and a table AEAD.
 *
 * The labeled functions, exact to §4:
 *   LabeledExtract(salt, label, ikm)   = HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm)
 *   LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id
 *                                                    || label || info, L)
 * with suite_id "KEM" || I2OSP(kem_id, 2) inside the KEM and "HPKE" || kem_id || kdf_id ||
 * aead_id elsewhere. The concatenations are fed to HMAC piece by piece: nothing is copied. */
#include "primitives/hpke.h"

#include <string.h>

#include <sodium.h>

_Static_assert(crypto_scalarmult_BYTES == OV_HPKE_NPK, "X25519 sizes");
_Static_assert(crypto_auth_hmacsha256_BYTES == OV_HPKE_NH, "HMAC-SHA256 size");

struct part {
    const uint8_t *p;
    size_t n;
};

#define PART_STR(s) ((struct part){ (const uint8_t *)(s), sizeof(s) - 1 })

static const uint8_t KEM_SUITE[5] = { 'K', 'E', 'M', 0x00, 0x20 };

static void
hmac_update(crypto_auth_hmacsha256_state *st, const struct part *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (parts[i].n > 0) {
            crypto_auth_hmacsha256_update(st, parts[i].p, parts[i].n);
        }
    }
}

/* HKDF-Extract over the concatenation of parts. */
static void
extract_parts(const uint8_t *salt, size_t salt_len, const struct part *ikm, size_t n_ikm,
              uint8_t prk[OV_HPKE_NH])
{
    static const uint8_t zeros[OV_HPKE_NH];
    crypto_auth_hmacsha256_state st;
    if (salt_len == 0) {
        salt = zeros;
        salt_len = sizeof zeros;
    }
    crypto_auth_hmacsha256_init(&st, salt, salt_len);
    hmac_update(&st, ikm, n_ikm);
    crypto_auth_hmacsha256_final(&st, prk);
    sodium_memzero(&st, sizeof st);
}

/* HKDF-Expand over the concatenation of parts as info. */
static int
expand_parts(const uint8_t prk[OV_HPKE_NH], const struct part *info, size_t n_info,
             uint8_t *out, size_t len)
{
    if (len > OV_HPKE_MAX_EXPORT_LEN) {
        return -OV_E_RANGE;
    }
    crypto_auth_hmacsha256_state st;
    uint8_t t[OV_HPKE_NH];
    size_t t_len = 0, done = 0;
    for (unsigned i = 1; done < len; i++) {
        uint8_t counter = (uint8_t)i;
        crypto_auth_hmacsha256_init(&st, prk, OV_HPKE_NH);
        if (t_len > 0) {
            crypto_auth_hmacsha256_update(&st, t, t_len);
        }
        hmac_update(&st, info, n_info);
        crypto_auth_hmacsha256_update(&st, &counter, 1);
        crypto_auth_hmacsha256_final(&st, t);
        t_len = sizeof t;
        size_t n = len - done < sizeof t ? len - done : sizeof t;
        memcpy(out + done, t, n);
        done += n;
    }
    sodium_memzero(t, sizeof t);
    sodium_memzero(&st, sizeof st);
    return 0;
}

void
ov_hpke_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                     uint8_t prk[OV_HPKE_NH])
{
    struct part p = { ikm, ikm_len };
    extract_parts(salt, salt_len, &p, 1, prk);
}

int
ov_hpke_hkdf_expand(const uint8_t prk[OV_HPKE_NH], const uint8_t *info, size_t info_len,
                    uint8_t *out, size_t len)
{
    struct part p = { info, info_len };
    return expand_parts(prk, &p, 1, out, len);
}

static void
labeled_extract(const uint8_t *suite, size_t suite_len, const uint8_t *salt, size_t salt_len,
                const char *label, const uint8_t *ikm, size_t ikm_len, uint8_t prk[OV_HPKE_NH])
{
    struct part parts[4] = {
        PART_STR("HPKE-v1"),
        { suite, suite_len },
        { (const uint8_t *)label, strlen(label) },
        { ikm, ikm_len },
    };
    extract_parts(salt, salt_len, parts, 4, prk);
}

static int
labeled_expand(const uint8_t *suite, size_t suite_len, const uint8_t prk[OV_HPKE_NH],
               const char *label, const uint8_t *info, size_t info_len, uint8_t *out, size_t len)
{
    if (len > OV_HPKE_MAX_EXPORT_LEN) {
        return -OV_E_RANGE;
    }
    uint8_t l2[2] = { (uint8_t)(len >> 8), (uint8_t)len };
    struct part parts[5] = {
        { l2, 2 },
        PART_STR("HPKE-v1"),
        { suite, suite_len },
        { (const uint8_t *)label, strlen(label) },
        { info, info_len },
    };
    return expand_parts(prk, parts, 5, out, len);
}

/* ---- the AEAD table's one production entry ---- */

static int
chacha_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
            const uint8_t *pt, size_t pt_len, uint8_t *ct)
{
    unsigned long long ct_len = 0;
    return crypto_aead_chacha20poly1305_ietf_encrypt(ct, &ct_len, pt, pt_len, aad, aad_len, NULL,
                                                     nonce, key) == 0 ? 0 : -OV_E_CRYPTO;
}

static int
chacha_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
            const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
    unsigned long long pt_len = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, &pt_len, NULL, ct, ct_len, aad, aad_len,
                                                  nonce, key) != 0) {
        if (ct_len > crypto_aead_chacha20poly1305_ietf_ABYTES) {
            sodium_memzero(pt, ct_len - crypto_aead_chacha20poly1305_ietf_ABYTES);
        }
        return -OV_E_CRYPTO;
    }
    return 0;
}

static const struct ov_hpke_aead CHACHA = {
    .id = OV_HPKE_AEAD_CHACHA20POLY1305,
    .nk = crypto_aead_chacha20poly1305_ietf_KEYBYTES,
    .nn = crypto_aead_chacha20poly1305_ietf_NPUBBYTES,
    .nt = crypto_aead_chacha20poly1305_ietf_ABYTES,
    .seal = chacha_seal,
    .open = chacha_open,
};

const struct ov_hpke_aead *
ov_hpke_chacha20poly1305(void)
{
    return &CHACHA;
}

void
ov_hpke_ctx_clear(struct ov_hpke_ctx *ctx)
{
    if (ctx != NULL) {
        sodium_memzero(ctx, sizeof *ctx);
    }
}

/* ---- DHKEM(X25519, HKDF-SHA256), §4.1 and §7.1 ---- */

int
ov_hpke_public_key(const uint8_t sk[OV_HPKE_NSK], uint8_t pk[OV_HPKE_NPK])
{
    if (crypto_scalarmult_base(pk, sk) != 0) {
        sodium_memzero(pk, OV_HPKE_NPK);
        return -OV_E_CRYPTO;
    }
    return 0;
}

int
ov_hpke_keygen(uint8_t sk[OV_HPKE_NSK], uint8_t pk[OV_HPKE_NPK])
{
    randombytes_buf(sk, OV_HPKE_NSK);
    int rc = ov_hpke_public_key(sk, pk);
    if (rc != 0) {
        sodium_memzero(sk, OV_HPKE_NSK);
    }
    return rc;
}

int
ov_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[OV_HPKE_NSK],
                       uint8_t pk[OV_HPKE_NPK])
{
    uint8_t prk[OV_HPKE_NH];
    labeled_extract(KEM_SUITE, sizeof KEM_SUITE, NULL, 0, "dkp_prk", ikm, ikm_len, prk);
    int rc = labeled_expand(KEM_SUITE, sizeof KEM_SUITE, prk, "sk", NULL, 0, sk, OV_HPKE_NSK);
    rc = rc ? rc : ov_hpke_public_key(sk, pk);
    sodium_memzero(prk, sizeof prk);
    if (rc != 0) {
        sodium_memzero(sk, OV_HPKE_NSK);
    }
    return rc;
}

/* DH with the all-zero check of §7.1.4 (libsodium also refuses it; checked twice on purpose,
 * since a zero output would make the shared secret public). */
static int
dh(const uint8_t sk[OV_HPKE_NSK], const uint8_t pk[OV_HPKE_NPK], uint8_t out[OV_HPKE_NPK])
{
    if (crypto_scalarmult(out, sk, pk) != 0 || sodium_is_zero(out, OV_HPKE_NPK)) {
        sodium_memzero(out, OV_HPKE_NPK);
        return -OV_E_CRYPTO;
    }
    return 0;
}

/* ExtractAndExpand(dh, kem_context) with kem_context = enc || pkRm. */
static int
extract_and_expand(const uint8_t dhv[OV_HPKE_NPK], const uint8_t enc[OV_HPKE_NENC],
                   const uint8_t pkR[OV_HPKE_NPK], uint8_t shared_secret[OV_HPKE_NSECRET])
{
    uint8_t prk[OV_HPKE_NH], kem_context[OV_HPKE_NENC + OV_HPKE_NPK];
    memcpy(kem_context, enc, OV_HPKE_NENC);
    memcpy(kem_context + OV_HPKE_NENC, pkR, OV_HPKE_NPK);
    labeled_extract(KEM_SUITE, sizeof KEM_SUITE, NULL, 0, "eae_prk", dhv, OV_HPKE_NPK, prk);
    int rc = labeled_expand(KEM_SUITE, sizeof KEM_SUITE, prk, "shared_secret", kem_context,
                            sizeof kem_context, shared_secret, OV_HPKE_NSECRET);
    sodium_memzero(prk, sizeof prk);
    return rc;
}

int
ov_hpke_encap(const uint8_t pkR[OV_HPKE_NPK], const uint8_t *skE,
              uint8_t shared_secret[OV_HPKE_NSECRET], uint8_t enc[OV_HPKE_NENC])
{
    uint8_t sk[OV_HPKE_NSK], dhv[OV_HPKE_NPK];
    int rc = 0;
    if (skE != NULL) {
        memcpy(sk, skE, sizeof sk);
        rc = ov_hpke_public_key(sk, enc);
    } else {
        rc = ov_hpke_keygen(sk, enc);
    }
    rc = rc ? rc : dh(sk, pkR, dhv);
    rc = rc ? rc : extract_and_expand(dhv, enc, pkR, shared_secret);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(dhv, sizeof dhv);
    if (rc != 0) {
        sodium_memzero(shared_secret, OV_HPKE_NSECRET);
        sodium_memzero(enc, OV_HPKE_NENC);
    }
    return rc;
}

int
ov_hpke_decap(const uint8_t enc[OV_HPKE_NENC], const uint8_t skR[OV_HPKE_NSK],
              uint8_t shared_secret[OV_HPKE_NSECRET])
{
    uint8_t pkR[OV_HPKE_NPK];
    int rc = ov_hpke_public_key(skR, pkR);
    rc = rc ? rc : ov_hpke_decap_pk(enc, skR, pkR, shared_secret);
    if (rc != 0) {
        sodium_memzero(shared_secret, OV_HPKE_NSECRET);
    }
    return rc;
}

int
ov_hpke_decap_pk(const uint8_t enc[OV_HPKE_NENC], const uint8_t skR[OV_HPKE_NSK],
                 const uint8_t pkR[OV_HPKE_NPK], uint8_t shared_secret[OV_HPKE_NSECRET])
{
    uint8_t dhv[OV_HPKE_NPK];
    int rc = dh(skR, enc, dhv);
    rc = rc ? rc : extract_and_expand(dhv, enc, pkR, shared_secret);
    sodium_memzero(dhv, sizeof dhv);
    if (rc != 0) {
        sodium_memzero(shared_secret, OV_HPKE_NSECRET);
    }
    return rc;
}

/* ---- the key schedule and the context, §5 ---- */

int
ov_hpke_key_schedule(struct ov_hpke_ctx *ctx, const struct ov_hpke_aead *aead,
                     const uint8_t shared_secret[OV_HPKE_NSECRET], const uint8_t *info,
                     size_t info_len)
{
    memset(ctx, 0, sizeof *ctx);
    if (aead->nk > OV_HPKE_MAX_NK || aead->nn > OV_HPKE_MAX_NN || aead->nn < 8 ||
        aead->nt > OV_HPKE_MAX_NT) {
        return -OV_E_RANGE;
    }
    ctx->aead = aead;
    static const uint8_t head[8] = { 'H', 'P', 'K', 'E', 0x00, 0x20, 0x00, 0x01 };
    memcpy(ctx->suite_id, head, sizeof head);
    ctx->suite_id[8] = (uint8_t)(aead->id >> 8);
    ctx->suite_id[9] = (uint8_t)aead->id;
    const uint8_t *sid = ctx->suite_id;
    size_t sid_len = sizeof ctx->suite_id;

    /* key_schedule_context = mode || psk_id_hash || info_hash; mode_base, empty psk_id */
    uint8_t ks[1 + 2 * OV_HPKE_NH], secret[OV_HPKE_NH];
    ks[0] = 0x00;
    labeled_extract(sid, sid_len, NULL, 0, "psk_id_hash", NULL, 0, ks + 1);
    labeled_extract(sid, sid_len, NULL, 0, "info_hash", info, info_len, ks + 1 + OV_HPKE_NH);
    labeled_extract(sid, sid_len, shared_secret, OV_HPKE_NSECRET, "secret", NULL, 0, secret);
    int rc = labeled_expand(sid, sid_len, secret, "key", ks, sizeof ks, ctx->key, aead->nk);
    rc = rc ? rc
            : labeled_expand(sid, sid_len, secret, "base_nonce", ks, sizeof ks, ctx->base_nonce,
                             aead->nn);
    rc = rc ? rc
            : labeled_expand(sid, sid_len, secret, "exp", ks, sizeof ks, ctx->exporter_secret,
                             OV_HPKE_NH);
    sodium_memzero(secret, sizeof secret);
    if (rc != 0) {
        ov_hpke_ctx_clear(ctx);
    }
    return rc;
}

int
ov_hpke_setup_base_s(struct ov_hpke_ctx *ctx, const struct ov_hpke_aead *aead,
                     const uint8_t pkR[OV_HPKE_NPK], const uint8_t *skE, const uint8_t *info,
                     size_t info_len, uint8_t enc[OV_HPKE_NENC])
{
    uint8_t ss[OV_HPKE_NSECRET];
    memset(ctx, 0, sizeof *ctx);
    int rc = ov_hpke_encap(pkR, skE, ss, enc);
    rc = rc ? rc : ov_hpke_key_schedule(ctx, aead, ss, info, info_len);
    sodium_memzero(ss, sizeof ss);
    return rc;
}

int
ov_hpke_setup_base_r(struct ov_hpke_ctx *ctx, const struct ov_hpke_aead *aead,
                     const uint8_t enc[OV_HPKE_NENC], const uint8_t skR[OV_HPKE_NSK],
                     const uint8_t *info, size_t info_len)
{
    uint8_t ss[OV_HPKE_NSECRET];
    memset(ctx, 0, sizeof *ctx);
    int rc = ov_hpke_decap(enc, skR, ss);
    rc = rc ? rc : ov_hpke_key_schedule(ctx, aead, ss, info, info_len);
    sodium_memzero(ss, sizeof ss);
    return rc;
}

/* ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn); seq is 64 bits, Nn at least 8. */
static int
compute_nonce(const struct ov_hpke_ctx *ctx, uint8_t nonce[OV_HPKE_MAX_NN])
{
    if (ctx->aead == NULL || ctx->seq == UINT64_MAX) {
        return ctx->aead == NULL ? -OV_E_STATE : -OV_E_RANGE;
    }
    size_t nn = ctx->aead->nn;
    memcpy(nonce, ctx->base_nonce, nn);
    for (size_t i = 0; i < 8; i++) {
        nonce[nn - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
    }
    return 0;
}

int
ov_hpke_seal(struct ov_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
             size_t pt_len, uint8_t *ct)
{
    uint8_t nonce[OV_HPKE_MAX_NN];
    int rc = compute_nonce(ctx, nonce);
    rc = rc ? rc : ctx->aead->seal(ctx->key, nonce, aad, aad_len, pt, pt_len, ct);
    if (rc == 0) {
        ctx->seq++;
    }
    return rc;
}

int
ov_hpke_open(struct ov_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
             size_t ct_len, uint8_t *pt)
{
    uint8_t nonce[OV_HPKE_MAX_NN];
    int rc = compute_nonce(ctx, nonce);
    if (rc == 0 && ct_len < ctx->aead->nt) {
        rc = -OV_E_TRUNCATED;
    }
    rc = rc ? rc : ctx->aead->open(ctx->key, nonce, aad, aad_len, ct, ct_len, pt);
    if (rc == 0) {
        ctx->seq++;
    }
    return rc;
}

int
ov_hpke_export(const struct ov_hpke_ctx *ctx, const uint8_t *exporter_context,
               size_t exporter_context_len, uint8_t *out, size_t len)
{
    int rc = labeled_expand(ctx->suite_id, sizeof ctx->suite_id, ctx->exporter_secret, "sec",
                            exporter_context, exporter_context_len, out, len);
    if (rc != 0 && len <= OV_HPKE_MAX_EXPORT_LEN) {
        sodium_memzero(out, len);
    }
    return rc;
}

int
ov_hpke_seal_base(const struct ov_hpke_aead *aead, const uint8_t pkR[OV_HPKE_NPK],
                  const uint8_t *info, size_t info_len, const uint8_t *aad, size_t aad_len,
                  const uint8_t *pt, size_t pt_len, uint8_t enc[OV_HPKE_NENC], uint8_t *ct)
{
    struct ov_hpke_ctx ctx;
    int rc = ov_hpke_setup_base_s(&ctx, aead, pkR, NULL, info, info_len, enc);
    rc = rc ? rc : ov_hpke_seal(&ctx, aad, aad_len, pt, pt_len, ct);
    ov_hpke_ctx_clear(&ctx);
    return rc;
}

int
ov_hpke_open_base(const struct ov_hpke_aead *aead, const uint8_t enc[OV_HPKE_NENC],
                  const uint8_t skR[OV_HPKE_NSK], const uint8_t *info, size_t info_len,
                  const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                  uint8_t *pt)
{
    struct ov_hpke_ctx ctx;
    int rc = ov_hpke_setup_base_r(&ctx, aead, enc, skR, info, info_len);
    rc = rc ? rc : ov_hpke_open(&ctx, aad, aad_len, ct, ct_len, pt);
    ov_hpke_ctx_clear(&ctx);
    return rc;
}
