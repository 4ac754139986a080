#include "primitives/brsa.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "base/codec.h"
#include "primitives/der.h"
#include "base/reader.h"

struct ov_brsa_pk {
    EVP_PKEY *pkey;     /* public only, even inside an sk: no private value behind a pk */
    BIGNUM *n;
    BIGNUM *e;
    BN_MONT_CTX *mont;  /* for n, built once: Blind and the BlindSign check reuse it */
    EVP_MD *sha384;     /* fetched once: an implicit fetch per call costs a lock and lookup */
    /* RSASSA-PSS verify contexts, [0] for sLen 48 and [1] for sLen 0, set up once (setting
     * up costs about a fifth of a 2048-bit verify). They are only ever duplicated, never
     * used, so threads may share them: EVP_PKEY_CTX_dup only takes references. */
    EVP_PKEY_CTX *verify_tpl[2];
    size_t mod_len;
    unsigned mod_bits;
};

struct ov_brsa_sk {
    EVP_PKEY *pkey;     /* the key pair; OpenSSL keeps its blinding and CRT contexts here */
    EVP_PKEY_CTX *sign_tpl; /* raw private operation, set up once and duplicated per call */
    struct ov_brsa_pk pub;
};

/* Names handed to OpenSSL as OSSL_PARAM strings (which take a non-const pointer). */
static char md_name[] = "SHA384";

static const char pem_begin[] = "-----BEGIN PRIVATE KEY-----\n";
static const char pem_end[] = "-----END PRIVATE KEY-----\n";

/* ---- public keys ---- */

/* The rules every key we accept follows (see ov_brsa_pk_from_der). */
static int
check_n_e(const BIGNUM *n, const BIGNUM *e)
{
    int bits = BN_num_bits(n);
    if (bits < OV_BRSA_MIN_MODULUS_BITS || bits > OV_BRSA_MAX_MODULUS_BITS || !BN_is_odd(n)) {
        return -OV_E_RANGE;
    }
    if (!BN_is_odd(e) || BN_num_bits(e) > 8 * OV_BRSA_MAX_E_LEN || BN_cmp(e, BN_value_one()) <= 0) {
        return -OV_E_RANGE;
    }
    return 0;
}

static void
pk_clear(struct ov_brsa_pk *pk)
{
    EVP_PKEY_free(pk->pkey);
    BN_free(pk->n);
    BN_free(pk->e);
    BN_MONT_CTX_free(pk->mont);
    EVP_MD_free(pk->sha384);
    EVP_PKEY_CTX_free(pk->verify_tpl[0]);
    EVP_PKEY_CTX_free(pk->verify_tpl[1]);
    memset(pk, 0, sizeof *pk);
}

/* An RSA EVP_PKEY from OSSL_PARAMs (public or key pair, per `selection`); NULL on failure. */
static EVP_PKEY *
pkey_from_params(OSSL_PARAM *params, int selection)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* A verify context for RSASSA-PSS with SHA-384, MGF1-SHA-384 and the given salt length. */
static EVP_PKEY_CTX *
verify_template(EVP_PKEY *pkey, int salt_len)
{
    int pad = RSA_PKCS1_PSS_PADDING;
    OSSL_PARAM params[] = {
        OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &pad),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, md_name, sizeof md_name - 1),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, md_name, sizeof md_name - 1),
        OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &salt_len),
        OSSL_PARAM_END,
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx != NULL && EVP_PKEY_verify_init_ex(ctx, params) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* Fills pk from n and e (copied). pk must be zeroed; it is cleared again on failure. */
static int
pk_init(struct ov_brsa_pk *pk, const BIGNUM *n, const BIGNUM *e)
{
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    BN_CTX *ctx = NULL;
    int rc = check_n_e(n, e);
    if (rc != 0) {
        return rc;
    }
    rc = -OV_E_NOMEM;
    pk->n = BN_dup(n);
    pk->e = BN_dup(e);
    pk->mont = BN_MONT_CTX_new();
    ctx = BN_CTX_new();
    bld = OSSL_PARAM_BLD_new();
    if (pk->n == NULL || pk->e == NULL || pk->mont == NULL || ctx == NULL || bld == NULL) {
        goto out;
    }
    rc = -OV_E_CRYPTO;
    if (!BN_MONT_CTX_set(pk->mont, pk->n, ctx) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (pk->pkey = pkey_from_params(params, EVP_PKEY_PUBLIC_KEY)) == NULL ||
        (pk->sha384 = EVP_MD_fetch(NULL, md_name, NULL)) == NULL ||
        (pk->verify_tpl[0] = verify_template(pk->pkey, OV_BRSA_SALT_LEN)) == NULL ||
        (pk->verify_tpl[1] = verify_template(pk->pkey, 0)) == NULL) {
        goto out;
    }
    pk->mod_bits = (unsigned)BN_num_bits(n);
    pk->mod_len = (size_t)BN_num_bytes(n);
    rc = 0;
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_CTX_free(ctx);
    if (rc != 0) {
        pk_clear(pk);
        ERR_clear_error();
    }
    return rc;
}

int
ov_brsa_pk_from_der(struct ov_bytes der, struct ov_brsa_pk **out)
{
    struct ov_reader r, seq;
    struct ov_bytes body, n_mag, e_mag;
    BIGNUM *n = NULL, *e = NULL;
    struct ov_brsa_pk *pk = NULL;
    int rc;

    *out = NULL;
    if (der.len > OV_BRSA_MAX_PK_DER_LEN) {
        return -OV_E_TOO_BIG;
    }
    ov_reader_init(&r, der);
    ov_der_read(&r, OV_DER_SEQUENCE, &body);
    if ((rc = ov_reader_end(&r)) != 0) {
        return rc;
    }
    ov_reader_init(&seq, body);
    ov_der_read_uint(&seq, &n_mag);
    ov_der_read_uint(&seq, &e_mag);
    if ((rc = ov_reader_end(&seq)) != 0) {
        return rc;
    }
    if (n_mag.len > OV_BRSA_MAX_MODULUS_LEN || e_mag.len > OV_BRSA_MAX_E_LEN) {
        return -OV_E_RANGE;
    }
    rc = -OV_E_NOMEM;
    n = BN_bin2bn(n_mag.ptr, (int)n_mag.len, NULL);
    e = BN_bin2bn(e_mag.ptr, (int)e_mag.len, NULL);
    pk = calloc(1, sizeof *pk);
    if (n == NULL || e == NULL || pk == NULL) {
        goto out;
    }
    if ((rc = pk_init(pk, n, e)) != 0) {
        goto out;
    }
    *out = pk;
    pk = NULL;
out:
    free(pk);
    BN_free(n);
    BN_free(e);
    return rc;
}

int
ov_brsa_pk_to_der(const struct ov_brsa_pk *pk, uint8_t *out, size_t out_max, size_t *out_len)
{
    uint8_t n_buf[OV_BRSA_MAX_MODULUS_LEN], e_buf[OV_BRSA_MAX_E_LEN];
    struct ov_writer w;
    size_t n_len = (size_t)BN_bn2bin(pk->n, n_buf);
    size_t e_len = (size_t)BN_bn2bin(pk->e, e_buf);
    struct ov_bytes n = OV_BYTES(n_buf, n_len), e = OV_BYTES(e_buf, e_len);
    size_t body = ov_der_uint_len(n) + ov_der_uint_len(e);

    *out_len = 0;
    ov_writer_init(&w, out, out_max);
    ov_der_write_header(&w, OV_DER_SEQUENCE, body);
    ov_der_write_uint(&w, n);
    ov_der_write_uint(&w, e);
    int rc = ov_writer_end(&w);
    if (rc == 0) {
        *out_len = w.len;
    }
    return rc;
}

int
ov_brsa_pk_dup(const struct ov_brsa_pk *pk, struct ov_brsa_pk **out)
{
    uint8_t der[OV_BRSA_MAX_PK_DER_LEN];
    size_t der_len;
    *out = NULL;
    int rc = ov_brsa_pk_to_der(pk, der, sizeof der, &der_len);
    return rc != 0 ? rc : ov_brsa_pk_from_der(OV_BYTES(der, der_len), out);
}

void
ov_brsa_pk_free(struct ov_brsa_pk *pk)
{
    if (pk == NULL) {
        return;
    }
    pk_clear(pk);
    free(pk);
}

size_t
ov_brsa_pk_modulus_len(const struct ov_brsa_pk *pk)
{
    return pk->mod_len;
}

unsigned
ov_brsa_pk_modulus_bits(const struct ov_brsa_pk *pk)
{
    return pk->mod_bits;
}

/* ---- private keys ---- */

/* Takes ownership of pkey (freed on failure): checks it and builds the public half. */
static int
sk_adopt(EVP_PKEY *pkey, struct ov_brsa_sk **out)
{
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    struct ov_brsa_sk *sk = NULL;
    int rc = -OV_E_MALFORMED;

    *out = NULL;
    if (!EVP_PKEY_is_a(pkey, "RSA") || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
        goto out;
    }
    if ((rc = check_n_e(n, e)) != 0) {
        goto out;
    }
    /* Primes, n = pq, d*e = 1 and the CRT values: a bad key must fail here, not at 3 a.m. */
    rc = -OV_E_RANGE;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL || EVP_PKEY_pairwise_check(ctx) != 1) {
        goto out;
    }
    rc = -OV_E_NOMEM;
    if ((sk = calloc(1, sizeof *sk)) == NULL) {
        goto out;
    }
    if ((rc = pk_init(&sk->pub, n, e)) != 0) {
        goto out;
    }
    rc = -OV_E_CRYPTO;
    sk->sign_tpl = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (sk->sign_tpl == NULL || EVP_PKEY_decrypt_init(sk->sign_tpl) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(sk->sign_tpl, RSA_NO_PADDING) <= 0) {
        goto out;
    }
    rc = 0;
    sk->pkey = pkey;
    pkey = NULL;
    *out = sk;
    sk = NULL;
out:
    if (sk != NULL) {
        EVP_PKEY_CTX_free(sk->sign_tpl);
        pk_clear(&sk->pub);
        free(sk);
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    BN_free(n);
    BN_free(e);
    if (rc != 0) {
        ERR_clear_error();
    }
    return rc;
}

int
ov_brsa_keygen(unsigned modulus_bits, struct ov_brsa_sk **out)
{
    EVP_PKEY *pkey = NULL;
    size_t bits = modulus_bits;
    OSSL_PARAM params[] = { OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits), OSSL_PARAM_END };

    *out = NULL;
    /* Whole bytes only: OpenSSL cannot make 8k+1-bit moduli (it returns 8k bits). */
    if (modulus_bits < OV_BRSA_MIN_MODULUS_BITS || modulus_bits > OV_BRSA_MAX_MODULUS_BITS ||
        modulus_bits % 8 != 0) {
        return -OV_E_RANGE;
    }
    /* OpenSSL's default public exponent is 65537 (RSA_F4). */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 || !EVP_PKEY_CTX_set_params(ctx, params) ||
        EVP_PKEY_generate(ctx, &pkey) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return -OV_E_CRYPTO;
    }
    EVP_PKEY_CTX_free(ctx);
    int rc = sk_adopt(pkey, out);
    if (rc == 0 && (ov_brsa_sk_pk(*out)->mod_bits != modulus_bits ||
                    !BN_is_word(ov_brsa_sk_pk(*out)->e, RSA_F4))) {
        ov_brsa_sk_free(*out);
        *out = NULL;
        rc = -OV_E_CRYPTO;
    }
    return rc;
}

/* PEM text to DER: strips the armor and the line feeds, then decodes strictly. */
static int
pem_to_der(struct ov_bytes pem, uint8_t *der, size_t der_max, size_t *der_len)
{
    size_t nb = sizeof pem_begin - 1, ne = sizeof pem_end - 1;
    *der_len = 0;
    if (pem.len < nb + ne || memcmp(pem.ptr, pem_begin, nb) != 0 ||
        memcmp(pem.ptr + pem.len - ne, pem_end, ne) != 0) {
        return -OV_E_MALFORMED;
    }
    /* The body text is secret too: gather it in guarded memory. */
    size_t body_len = pem.len - nb - ne, n = 0;
    char *b64 = sodium_malloc(body_len + 1);
    if (b64 == NULL) {
        return -OV_E_NOMEM;
    }
    for (size_t i = 0; i < body_len; i++) {
        char c = (char)pem.ptr[nb + i];
        if (c != '\n') {
            b64[n++] = c;
        }
    }
    int rc = ov_b64_decode(der, der_max, der_len, b64, n, OV_B64_STD);
    sodium_free(b64);
    return rc == -OV_E_TOO_BIG ? rc : rc != 0 ? -OV_E_MALFORMED : 0;
}

/* PKCS#8 DER to a checked key. */
static int
sk_from_pkcs8(struct ov_bytes der, struct ov_brsa_sk **out)
{
    const unsigned char *p = der.ptr;
    const ASN1_OBJECT *alg = NULL;
    EVP_PKEY *pkey = NULL;

    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der.len);
    /* Only rsaEncryption: an RSA-PSS key would refuse the raw private operation. */
    if (p8 != NULL && p == der.ptr + der.len && PKCS8_pkey_get0(&alg, NULL, NULL, NULL, p8) &&
        OBJ_obj2nid(alg) == NID_rsaEncryption) {
        pkey = EVP_PKCS82PKEY_ex(p8, NULL, NULL);
    }
    PKCS8_PRIV_KEY_INFO_free(p8); /* clears the private key octets */
    if (pkey == NULL) {
        ERR_clear_error();
        return -OV_E_MALFORMED;
    }
    return sk_adopt(pkey, out);
}

int
ov_brsa_sk_load(struct ov_bytes in, struct ov_brsa_sk **out)
{
    *out = NULL;
    if (in.len > OV_BRSA_MAX_SK_PEM_LEN) {
        return -OV_E_TOO_BIG;
    }
    if (in.len == 0 || in.ptr[0] != '-') {
        if (in.len > OV_BRSA_MAX_SK_DER_LEN) {
            return -OV_E_TOO_BIG;
        }
        return sk_from_pkcs8(in, out);
    }
    size_t der_len;
    uint8_t *der = sodium_malloc(OV_BRSA_MAX_SK_DER_LEN);
    if (der == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = pem_to_der(in, der, OV_BRSA_MAX_SK_DER_LEN, &der_len);
    if (rc == 0) {
        rc = sk_from_pkcs8(OV_BYTES(der, der_len), out);
    }
    sodium_free(der); /* wipes */
    return rc;
}

int
ov_brsa_sk_from_parts(struct ov_bytes n_b, struct ov_bytes e_b, struct ov_bytes d_b,
                      struct ov_bytes p_b, struct ov_bytes q_b, struct ov_brsa_sk **out)
{
    BN_CTX *ctx = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *n = NULL, *e = NULL;
    int rc = -OV_E_RANGE;

    *out = NULL;
    if (n_b.len > OV_BRSA_MAX_MODULUS_LEN || e_b.len > OV_BRSA_MAX_E_LEN ||
        d_b.len > OV_BRSA_MAX_MODULUS_LEN || p_b.len > OV_BRSA_MAX_MODULUS_LEN ||
        q_b.len > OV_BRSA_MAX_MODULUS_LEN) {
        return rc;
    }
    /* Secure BNs: OSSL_PARAM_BLD then keeps their copies in memory it clears on free. */
    if ((ctx = BN_CTX_secure_new()) == NULL) {
        return -OV_E_NOMEM;
    }
    BN_CTX_start(ctx);
    rc = -OV_E_NOMEM;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL) {
        goto out;
    }
    BIGNUM *d = BN_CTX_get(ctx), *p = BN_CTX_get(ctx), *q = BN_CTX_get(ctx);
    BIGNUM *p1 = BN_CTX_get(ctx), *q1 = BN_CTX_get(ctx), *dp = BN_CTX_get(ctx);
    BIGNUM *dq = BN_CTX_get(ctx), *qinv = BN_CTX_get(ctx);
    n = BN_bin2bn(n_b.ptr, (int)n_b.len, NULL);
    e = BN_bin2bn(e_b.ptr, (int)e_b.len, NULL);
    if (qinv == NULL || n == NULL || e == NULL) {
        goto out;
    }
    BN_set_flags(d, BN_FLG_CONSTTIME);
    BN_set_flags(p, BN_FLG_CONSTTIME);
    BN_set_flags(q, BN_FLG_CONSTTIME);
    rc = -OV_E_RANGE;
    if (!BN_bin2bn(d_b.ptr, (int)d_b.len, d) || !BN_bin2bn(p_b.ptr, (int)p_b.len, p) ||
        !BN_bin2bn(q_b.ptr, (int)q_b.len, q) || BN_is_zero(p) || BN_is_zero(q) ||
        !BN_sub(p1, p, BN_value_one()) || !BN_sub(q1, q, BN_value_one()) ||
        !BN_mod(dp, d, p1, ctx) || !BN_mod(dq, d, q1, ctx) ||
        !BN_mod_inverse(qinv, q, p, ctx)) {
        goto out;
    }
    rc = -OV_E_CRYPTO;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (pkey = pkey_from_params(params, EVP_PKEY_KEYPAIR)) == NULL) {
        goto out;
    }
    rc = sk_adopt(pkey, out);
out:
    OSSL_PARAM_free(params); /* clears the secure part */
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    BN_CTX_end(ctx);
    BN_CTX_free(ctx); /* clears every BN it handed out */
    ERR_clear_error();
    return rc;
}

int
ov_brsa_sk_to_pkcs8(const struct ov_brsa_sk *sk, uint8_t *out, size_t out_max, size_t *out_len)
{
    *out_len = 0;
    OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(sk->pkey, EVP_PKEY_KEYPAIR, "DER",
                                                           "PrivateKeyInfo", NULL);
    if (ectx == NULL) {
        ERR_clear_error();
        return -OV_E_CRYPTO;
    }
    /* Given our buffer, OpenSSL copies into it and clears its own BIO buffer. */
    unsigned char *p = out;
    size_t left = out_max;
    int ok = OSSL_ENCODER_to_data(ectx, &p, &left);
    OSSL_ENCODER_CTX_free(ectx);
    if (!ok) {
        sodium_memzero(out, out_max);
        ERR_clear_error();
        return -OV_E_TOO_BIG;
    }
    *out_len = out_max - left;
    return 0;
}

void
ov_brsa_sk_free(struct ov_brsa_sk *sk)
{
    if (sk == NULL) {
        return;
    }
    EVP_PKEY_CTX_free(sk->sign_tpl);
    EVP_PKEY_free(sk->pkey); /* RSA_free clears d, p, q and the CRT values */
    pk_clear(&sk->pub);
    free(sk);
}

const struct ov_brsa_pk *
ov_brsa_sk_pk(const struct ov_brsa_sk *sk)
{
    return &sk->pub;
}

/* ---- EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 and MGF1-SHA-384 ---- */

static size_t
variant_salt_len(enum ov_brsa_variant v)
{
    switch (v) {
    case OV_BRSA_PSS_RANDOMIZED:
    case OV_BRSA_PSS_DETERMINISTIC:
        return OV_BRSA_SALT_LEN;
    case OV_BRSA_PSSZERO_RANDOMIZED:
    case OV_BRSA_PSSZERO_DETERMINISTIC:
        return 0;
    default:
        abort(); /* not a variant: the caller's bug */
    }
}

/* SHA-384 of the concatenation of n_parts parts. */
static int
hash_parts(const struct ov_brsa_pk *pk, EVP_MD_CTX *md, const struct ov_bytes *parts,
           size_t n_parts, uint8_t out[OV_BRSA_HASH_LEN])
{
    if (!EVP_DigestInit_ex(md, pk->sha384, NULL)) {
        return -OV_E_CRYPTO;
    }
    for (size_t i = 0; i < n_parts; i++) {
        if (parts[i].len > 0 && !EVP_DigestUpdate(md, parts[i].ptr, parts[i].len)) {
            return -OV_E_CRYPTO;
        }
    }
    return EVP_DigestFinal_ex(md, out, NULL) ? 0 : -OV_E_CRYPTO;
}

/* out ^= MGF1-SHA-384(seed, out_len) (RFC 8017 §B.2.1). */
static int
mgf1_xor(const struct ov_brsa_pk *pk, EVP_MD_CTX *md, const uint8_t seed[OV_BRSA_HASH_LEN],
         uint8_t *out, size_t out_len)
{
    uint8_t t[OV_BRSA_HASH_LEN];
    for (uint32_t c = 0; out_len > 0; c++) {
        uint8_t cb[4] = { (uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c };
        struct ov_bytes parts[2] = { OV_BYTES(seed, OV_BRSA_HASH_LEN), OV_BYTES(cb, 4) };
        int rc = hash_parts(pk, md, parts, 2, t);
        if (rc != 0) {
            return rc;
        }
        size_t n = out_len < sizeof t ? out_len : sizeof t;
        for (size_t i = 0; i < n; i++) {
            out[i] ^= t[i];
        }
        out += n;
        out_len -= n;
    }
    return 0;
}

/* EM for msg, em_bits = modBits - 1 (RFC 9474 §4.2 says bit_len(n), but its vectors and
 * RSASSA-PSS-VERIFY use modBits - 1: see the vectors README). em is em_len bytes. */
static int
emsa_pss_encode(const struct ov_brsa_pk *pk, EVP_MD_CTX *md, struct ov_bytes msg,
                struct ov_bytes salt, uint8_t *em, size_t em_len, unsigned em_bits)
{
    uint8_t m_hash[OV_BRSA_HASH_LEN], h[OV_BRSA_HASH_LEN];
    static const uint8_t zeros[8];
    if (em_len < OV_BRSA_HASH_LEN + salt.len + 2) {
        return -OV_E_RANGE; /* "encoding error" */
    }
    struct ov_bytes m_prime[3] = { OV_BYTES(zeros, 8), OV_BYTES(m_hash, sizeof m_hash), salt };
    int rc = hash_parts(pk, md, &msg, 1, m_hash);
    if (rc == 0) {
        rc = hash_parts(pk, md, m_prime, 3, h);
    }
    sodium_memzero(m_hash, sizeof m_hash); /* the client's message, in digest form */
    if (rc != 0) {
        return rc;
    }
    /* DB = PS || 0x01 || salt, masked; then H and 0xbc. */
    size_t db_len = em_len - OV_BRSA_HASH_LEN - 1;
    size_t ps_len = db_len - salt.len - 1;
    memset(em, 0, ps_len);
    em[ps_len] = 0x01;
    if (salt.len > 0) {
        memcpy(em + ps_len + 1, salt.ptr, salt.len);
    }
    if ((rc = mgf1_xor(pk, md, h, em, db_len)) != 0) {
        return rc;
    }
    em[0] &= (uint8_t)(0xffu >> (8 * em_len - em_bits));
    memcpy(em + db_len, h, OV_BRSA_HASH_LEN);
    em[em_len - 1] = 0xbc;
    return 0;
}

/* ---- the protocol ---- */

static int
is_randomized(enum ov_brsa_variant v)
{
    return v == OV_BRSA_PSS_RANDOMIZED || v == OV_BRSA_PSSZERO_RANDOMIZED;
}

int
ov_brsa_prepare(enum ov_brsa_variant v, struct ov_bytes msg, struct ov_buf *prepared)
{
    uint8_t prefix[OV_BRSA_PREFIX_LEN];
    size_t pre = is_randomized(v) ? sizeof prefix : 0;
    (void)variant_salt_len(v); /* validates v */
    if (msg.len > SIZE_MAX - pre) {
        return -OV_E_TOO_BIG;
    }
    /* Reserve first, so the appends below cannot fail halfway. */
    int rc = ov_buf_reserve(prepared, pre + msg.len);
    if (rc == 0 && pre > 0) {
        randombytes_buf(prefix, pre);
        rc = ov_buf_append(prepared, prefix, pre);
    }
    if (rc == 0) {
        rc = ov_buf_append(prepared, msg.ptr, msg.len);
    }
    return rc;
}

/* r uniform in [1, n) by rejection from randombytes_buf (RFC 9474 random_integer_uniform);
 * each draw succeeds with probability > 1/2, so 128 failures mean a broken RNG. */
static int
random_below_n(const struct ov_brsa_pk *pk, BIGNUM *r)
{
    uint8_t buf[OV_BRSA_MAX_MODULUS_LEN];
    unsigned top = pk->mod_bits % 8;
    int rc = -OV_E_CRYPTO;
    for (int i = 0; i < 128 && rc != 0; i++) {
        randombytes_buf(buf, pk->mod_len);
        if (top != 0) {
            buf[0] &= (uint8_t)((1u << top) - 1);
        }
        if (BN_bin2bn(buf, (int)pk->mod_len, r) == NULL) {
            break;
        }
        if (!BN_is_zero(r) && BN_cmp(r, pk->n) < 0) {
            rc = 0;
        }
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

/* Blind, with r drawn here when r_in is empty. em receives EMSA-PSS-ENCODE(prepared). */
static int
blind_core(const struct ov_brsa_pk *pk, struct ov_bytes prepared, struct ov_bytes salt,
           struct ov_bytes r_in, uint8_t *em, size_t em_len, uint8_t *blinded_msg,
           uint8_t *inv, size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    BN_CTX *ctx = BN_CTX_secure_new();
    int rc = -OV_E_NOMEM;
    if (md == NULL || ctx == NULL) {
        goto out;
    }
    BN_CTX_start(ctx);
    BIGNUM *m = BN_CTX_get(ctx), *r = BN_CTX_get(ctx), *ri = BN_CTX_get(ctx);
    BIGNUM *x = BN_CTX_get(ctx), *z = BN_CTX_get(ctx), *g = BN_CTX_get(ctx);
    if (g == NULL) {
        goto out;
    }
    if ((rc = emsa_pss_encode(pk, md, prepared, salt, em, em_len, pk->mod_bits - 1)) != 0) {
        goto out;
    }
    rc = -OV_E_CRYPTO;
    if (BN_bin2bn(em, (int)em_len, m) == NULL || !BN_gcd(g, m, pk->n, ctx)) {
        goto out;
    }
    if (!BN_is_one(g)) {
        rc = -OV_E_MALFORMED; /* "invalid input" (§4.2 step 5) */
        goto out;
    }
    if (r_in.len == 0) {
        rc = random_below_n(pk, r);
    } else if (BN_bin2bn(r_in.ptr, (int)r_in.len, r) == NULL) {
        rc = -OV_E_NOMEM;
    } else {
        rc = (BN_is_zero(r) || BN_cmp(r, pk->n) >= 0) ? -OV_E_RANGE : 0;
    }
    if (rc != 0) {
        goto out;
    }
    BN_set_flags(r, BN_FLG_CONSTTIME); /* r is the secret that hides m */
    rc = -OV_E_CRYPTO;                 /* "blinding error" when r shares a factor with n */
    if (BN_mod_inverse(ri, r, pk->n, ctx) == NULL ||
        !BN_mod_exp_mont(x, r, pk->e, pk->n, ctx, pk->mont) ||
        !BN_mod_mul(z, m, x, pk->n, ctx) || BN_bn2binpad(z, blinded_msg, (int)len) < 0 ||
        BN_bn2binpad(ri, inv, (int)len) < 0) {
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        sodium_memzero(blinded_msg, len);
        sodium_memzero(inv, len);
        ERR_clear_error();
    }
    if (ctx != NULL) {
        BN_CTX_end(ctx);
    }
    BN_CTX_free(ctx); /* clears r, its inverse, m and the rest */
    EVP_MD_CTX_free(md);
    return rc;
}

int
ov_brsa_blind(const struct ov_brsa_pk *pk, enum ov_brsa_variant v, struct ov_bytes prepared,
              uint8_t *blinded_msg, uint8_t *inv, size_t len)
{
    uint8_t salt[OV_BRSA_SALT_LEN], em[OV_BRSA_MAX_MODULUS_LEN];
    size_t salt_len = variant_salt_len(v);
    if (len != pk->mod_len) {
        return -OV_E_RANGE;
    }
    randombytes_buf(salt, salt_len);
    int rc = blind_core(pk, prepared, OV_BYTES(salt, salt_len), OV_BYTES(NULL, 0), em,
                        (pk->mod_bits - 1 + 7) / 8, blinded_msg, inv, len);
    sodium_memzero(em, sizeof em); /* EM is the message in disguise: keep it from the heap */
    sodium_memzero(salt, sizeof salt);
    return rc;
}

int
ov_brsa_blind_for_testing(const struct ov_brsa_pk *pk, enum ov_brsa_variant v,
                          struct ov_bytes prepared, struct ov_bytes salt, struct ov_bytes r,
                          uint8_t *encoded_msg, size_t encoded_max, size_t *encoded_len,
                          uint8_t *blinded_msg, uint8_t *inv, size_t len)
{
    size_t em_len = (pk->mod_bits - 1 + 7) / 8;
    *encoded_len = 0;
    if (len != pk->mod_len || salt.len != variant_salt_len(v) || r.len != pk->mod_len ||
        encoded_max < em_len) {
        return -OV_E_RANGE;
    }
    int rc = blind_core(pk, prepared, salt, r, encoded_msg, em_len, blinded_msg, inv, len);
    if (rc == 0) {
        *encoded_len = em_len;
    }
    return rc;
}

int
ov_brsa_blind_sign(const struct ov_brsa_sk *sk, struct ov_bytes blinded_msg, uint8_t *blind_sig,
                   size_t blind_sig_len)
{
    const struct ov_brsa_pk *pk = &sk->pub;
    EVP_PKEY_CTX *pctx = NULL;
    BN_CTX *ctx = NULL;
    size_t k = pk->mod_len, out_len = k;
    int rc = -OV_E_RANGE;

    if (blind_sig_len != k) {
        return -OV_E_RANGE;
    }
    memset(blind_sig, 0, blind_sig_len);
    if (blinded_msg.len != k) {
        return -OV_E_MALFORMED; /* "unexpected input size" */
    }
    if ((ctx = BN_CTX_new()) == NULL) {
        return -OV_E_NOMEM;
    }
    BN_CTX_start(ctx);
    BIGNUM *m = BN_CTX_get(ctx), *s = BN_CTX_get(ctx), *m2 = BN_CTX_get(ctx);
    if (m2 == NULL || BN_bin2bn(blinded_msg.ptr, (int)k, m) == NULL) {
        rc = -OV_E_NOMEM;
        goto out;
    }
    if (BN_cmp(m, pk->n) >= 0) {
        rc = -OV_E_RANGE; /* RSASP1: "message representative out of range" */
        goto out;
    }
    /* s = m^d mod n: OpenSSL's raw private operation, with CRT and its cached blinding. */
    rc = -OV_E_CRYPTO;
    pctx = EVP_PKEY_CTX_dup(sk->sign_tpl);
    if (pctx == NULL ||
        EVP_PKEY_decrypt(pctx, blind_sig, &out_len, blinded_msg.ptr, k) <= 0 || out_len != k) {
        goto out;
    }
    /* §4.3 steps 3-4: RSAVP1(pk, s) must give m back, or no signature leaves (a faulty CRT
     * result would reveal a factor of n). */
    if (BN_bin2bn(blind_sig, (int)k, s) == NULL ||
        !BN_mod_exp_mont(m2, s, pk->e, pk->n, ctx, pk->mont) || BN_cmp(m, m2) != 0) {
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        sodium_memzero(blind_sig, blind_sig_len);
        ERR_clear_error();
    }
    EVP_PKEY_CTX_free(pctx);
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return rc;
}

int
ov_brsa_verify(const struct ov_brsa_pk *pk, enum ov_brsa_variant v, struct ov_bytes prepared,
               struct ov_bytes sig)
{
    uint8_t m_hash[OV_BRSA_HASH_LEN];
    EVP_PKEY_CTX *tpl = pk->verify_tpl[variant_salt_len(v) == OV_BRSA_SALT_LEN ? 0 : 1];
    /* RFC 8017 §8.1.2 step 1: a signature is exactly k octets. */
    if (sig.len != pk->mod_len) {
        return -OV_E_BAD_SIG;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -OV_E_NOMEM;
    }
    int rc = hash_parts(pk, md, &prepared, 1, m_hash);
    EVP_MD_CTX_free(md);
    if (rc != 0) {
        return rc;
    }
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_dup(tpl);
    if (pctx == NULL) {
        rc = -OV_E_CRYPTO;
    } else {
        /* 1 is valid; 0 and errors (s >= n, bad padding) are all an invalid signature. */
        rc = EVP_PKEY_verify(pctx, sig.ptr, sig.len, m_hash, sizeof m_hash) == 1 ? 0
                                                                                 : -OV_E_BAD_SIG;
    }
    EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    return rc;
}

int
ov_brsa_finalize(const struct ov_brsa_pk *pk, enum ov_brsa_variant v, struct ov_bytes prepared,
                 struct ov_bytes blind_sig, const uint8_t *inv, size_t inv_len, uint8_t *sig,
                 size_t len)
{
    size_t k = pk->mod_len;
    BN_CTX *ctx = NULL;
    int rc;

    (void)variant_salt_len(v);
    if (len != k || inv_len != k) {
        return -OV_E_RANGE;
    }
    memset(sig, 0, len);
    if (blind_sig.len != k) {
        return -OV_E_MALFORMED; /* "unexpected input size" (§4.4 step 1) */
    }
    if ((ctx = BN_CTX_secure_new()) == NULL) {
        return -OV_E_NOMEM;
    }
    BN_CTX_start(ctx);
    BIGNUM *z = BN_CTX_get(ctx), *ri = BN_CTX_get(ctx), *s = BN_CTX_get(ctx);
    rc = -OV_E_NOMEM;
    if (s == NULL || BN_bin2bn(blind_sig.ptr, (int)k, z) == NULL ||
        BN_bin2bn(inv, (int)k, ri) == NULL) {
        goto out;
    }
    rc = -OV_E_BAD_SIG;
    if (BN_cmp(z, pk->n) >= 0 || BN_is_zero(ri) || BN_cmp(ri, pk->n) >= 0) {
        goto out;
    }
    rc = -OV_E_CRYPTO;
    if (!BN_mod_mul(s, z, ri, pk->n, ctx) || BN_bn2binpad(s, sig, (int)k) < 0) {
        goto out;
    }
    /* §4.4 step 5: a signature that does not verify is never handed out. */
    rc = ov_brsa_verify(pk, v, prepared, OV_BYTES(sig, k));
out:
    if (rc != 0) {
        sodium_memzero(sig, len);
        ERR_clear_error();
    }
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return rc;
}
