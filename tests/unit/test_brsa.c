/* Unit tests: RFC 9474 blind RSA. Every vector of rfc9474.json (Appendix A.1-A.4, and the
 * non-RFC A.4 alternate), then negative cases, key import/export and fresh-key round trips. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "primitives/brsa.h"
#include "primitives/der.h"
#include "../test.h"
#include "../vec.h"

#define K_MAX OV_BRSA_MAX_MODULUS_LEN

static const enum ov_brsa_variant all_variants[4] = {
    OV_BRSA_PSS_RANDOMIZED, OV_BRSA_PSSZERO_RANDOMIZED, OV_BRSA_PSS_DETERMINISTIC,
    OV_BRSA_PSSZERO_DETERMINISTIC
};

static enum ov_brsa_variant
variant_by_name(const char *name)
{
    static const char *const names[4] = {
        "RSABSSA-SHA384-PSS-Randomized", "RSABSSA-SHA384-PSSZERO-Randomized",
        "RSABSSA-SHA384-PSS-Deterministic", "RSABSSA-SHA384-PSSZERO-Deterministic"
    };
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            return all_variants[i];
        }
    }
    fprintf(stderr, "unknown variant %s\n", name);
    exit(1);
}

/* r = inv^-1 mod n: the vectors print the inverse; the test entry point takes r. */
static void
r_from_inv(const struct ov_buf *inv, const struct ov_buf *n, uint8_t *r)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *bi = BN_bin2bn(inv->ptr, (int)inv->len, NULL);
    BIGNUM *bn = BN_bin2bn(n->ptr, (int)n->len, NULL);
    BIGNUM *br = BN_mod_inverse(NULL, bi, bn, ctx);
    CHECK(br != NULL && BN_bn2binpad(br, r, (int)n->len) == (int)n->len);
    BN_free(br);
    BN_free(bn);
    BN_free(bi);
    BN_CTX_free(ctx);
}

/* Key of a vector, loaded once (all vectors share it; the pairwise check is slow). */
static struct ov_brsa_sk *cached;
static char cached_n[2 * K_MAX + 1];

static struct ov_brsa_sk *
vector_key(const json_t *v)
{
    const char *n_hex = vec_str(v, "n");
    if (cached != NULL && strcmp(cached_n, n_hex) == 0) {
        return cached;
    }
    ov_brsa_sk_free(cached);
    struct ov_buf n = vec_hex(v, "n"), e = vec_hex(v, "e"), d = vec_hex(v, "d");
    struct ov_buf p = vec_hex(v, "p"), q = vec_hex(v, "q");
    int rc = ov_brsa_sk_from_parts(ov_buf_view(&n), ov_buf_view(&e), ov_buf_view(&d),
                                   ov_buf_view(&p), ov_buf_view(&q), &cached);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) {
        exit(1);
    }
    snprintf(cached_n, sizeof cached_n, "%s", n_hex);
    ov_buf_clear(&n);
    ov_buf_clear(&e);
    ov_buf_clear(&d);
    ov_buf_clear(&p);
    ov_buf_clear(&q);
    return cached;
}

/* Negative cases around one valid vector (pk, v, msg, blind_sig, inv, sig). */
static void
vector_negatives(const struct ov_brsa_sk *sk, enum ov_brsa_variant v, struct ov_bytes msg,
                 struct ov_bytes blinded, struct ov_bytes blind_sig, struct ov_bytes inv,
                 struct ov_bytes sig)
{
    const struct ov_brsa_pk *pk = ov_brsa_sk_pk(sk);
    size_t k = ov_brsa_pk_modulus_len(pk);
    uint8_t buf[K_MAX + 1], out[K_MAX];

    /* a tampered signature, at its first, a middle and its last byte */
    static const size_t spots[3] = { 0, 100, 511 };
    for (int i = 0; i < 3; i++) {
        memcpy(buf, sig.ptr, k);
        buf[spots[i] % k] ^= 0x01;
        CHECK_EQ_INT(ov_brsa_verify(pk, v, msg, OV_BYTES(buf, k)), -OV_E_BAD_SIG);
    }
    /* a wrong message, the empty message, the other salt length */
    memcpy(buf, msg.ptr, msg.len);
    buf[msg.len - 1] ^= 0x80;
    CHECK_EQ_INT(ov_brsa_verify(pk, v, OV_BYTES(buf, msg.len), sig), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_brsa_verify(pk, v, OV_BYTES(NULL, 0), sig), -OV_E_BAD_SIG);
    enum ov_brsa_variant other = (v == OV_BRSA_PSS_RANDOMIZED || v == OV_BRSA_PSS_DETERMINISTIC)
                                     ? OV_BRSA_PSSZERO_DETERMINISTIC
                                     : OV_BRSA_PSS_DETERMINISTIC;
    CHECK_EQ_INT(ov_brsa_verify(pk, other, msg, sig), -OV_E_BAD_SIG);
    /* wrong sizes: one byte short, one byte long (a leading zero), empty */
    CHECK_EQ_INT(ov_brsa_verify(pk, v, msg, OV_BYTES(sig.ptr, k - 1)), -OV_E_BAD_SIG);
    buf[0] = 0;
    memcpy(buf + 1, sig.ptr, k);
    CHECK_EQ_INT(ov_brsa_verify(pk, v, msg, OV_BYTES(buf, k + 1)), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_brsa_verify(pk, v, msg, OV_BYTES(NULL, 0)), -OV_E_BAD_SIG);
    /* sig + n (as k bytes it cannot be, so: all 0xff, which is >= n) */
    memset(buf, 0xff, k);
    CHECK_EQ_INT(ov_brsa_verify(pk, v, msg, OV_BYTES(buf, k)), -OV_E_BAD_SIG);

    /* Finalize refuses a blind_sig that is not blinded_msg^d, and leaves sig zeroed */
    memcpy(buf, blind_sig.ptr, k);
    buf[k / 2] ^= 0x10;
    memset(out, 0xaa, k);
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, msg, OV_BYTES(buf, k), inv.ptr, k, out, k),
                 -OV_E_BAD_SIG);
    CHECK(sodium_is_zero(out, k));
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, msg, blinded, inv.ptr, k, out, k), -OV_E_BAD_SIG);
    memset(buf, 0xff, k); /* >= n */
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, msg, OV_BYTES(buf, k), inv.ptr, k, out, k),
                 -OV_E_BAD_SIG);
    /* ... a wrong inverse, or the right one for another message */
    memcpy(buf, inv.ptr, k);
    buf[k - 1] ^= 0x02;
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, msg, blind_sig, buf, k, out, k), -OV_E_BAD_SIG);
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, OV_BYTES(msg.ptr, msg.len - 1), blind_sig, inv.ptr, k,
                                  out, k),
                 -OV_E_BAD_SIG);
    /* ... and wrong sizes */
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, msg, OV_BYTES(blind_sig.ptr, k - 1), inv.ptr, k, out, k),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, msg, blind_sig, inv.ptr, k - 1, out, k), -OV_E_RANGE);
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, msg, blind_sig, inv.ptr, k, out, k - 1), -OV_E_RANGE);

    /* BlindSign: wrong sizes, and a value >= n */
    CHECK_EQ_INT(ov_brsa_blind_sign(sk, OV_BYTES(blinded.ptr, k - 1), out, k), -OV_E_MALFORMED);
    buf[0] = 0;
    memcpy(buf + 1, blinded.ptr, k);
    CHECK_EQ_INT(ov_brsa_blind_sign(sk, OV_BYTES(buf, k + 1), out, k), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_brsa_blind_sign(sk, blinded, out, k - 1), -OV_E_RANGE);
    memset(buf, 0xff, k);
    memset(out, 0xaa, k);
    CHECK_EQ_INT(ov_brsa_blind_sign(sk, OV_BYTES(buf, k), out, k), -OV_E_RANGE);
    CHECK(sodium_is_zero(out, k));
}

static void
test_vector(const json_t *v)
{
    const char *name = vec_str(v, "name");
    enum ov_brsa_variant var = variant_by_name(name);
    struct ov_brsa_sk *sk = vector_key(v);
    const struct ov_brsa_pk *pk = ov_brsa_sk_pk(sk);
    size_t k = ov_brsa_pk_modulus_len(pk);
    struct ov_buf n = vec_hex(v, "n"), msg = vec_hex(v, "msg"), prefix = vec_hex(v, "msg_prefix");
    struct ov_buf prepared = vec_hex(v, "prepared_msg"), salt = vec_hex(v, "salt");
    struct ov_buf em = vec_hex(v, "encoded_msg"), inv = vec_hex(v, "inv");
    struct ov_buf blinded = vec_hex(v, "blinded_msg"), blind_sig = vec_hex(v, "blind_sig");
    struct ov_buf sig = vec_hex(v, "sig");
    uint8_t r[K_MAX], em_out[K_MAX], blinded_out[K_MAX], inv_out[K_MAX], out[K_MAX];
    size_t em_len = 0;

    CHECK_EQ_INT(ov_brsa_pk_modulus_bits(pk), 4096);
    CHECK_EQ_INT(k, n.len);
    /* prepared_msg = msg_prefix || msg, with a 32-byte prefix for the randomized variants */
    CHECK_EQ_INT(prefix.len, (var == OV_BRSA_PSS_RANDOMIZED || var == OV_BRSA_PSSZERO_RANDOMIZED)
                                 ? OV_BRSA_PREFIX_LEN
                                 : 0);
    CHECK_EQ_INT(prepared.len, prefix.len + msg.len);
    CHECK(prepared.len >= prefix.len && memcmp(prepared.ptr + prefix.len, msg.ptr, msg.len) == 0);

    r_from_inv(&inv, &n, r);
    int rc = ov_brsa_blind_for_testing(pk, var, ov_buf_view(&prepared), ov_buf_view(&salt),
                                       OV_BYTES(r, k), em_out, sizeof em_out, &em_len,
                                       blinded_out, inv_out, k);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(em_len, em.len);
    CHECK_EQ_MEM(em_out, em.ptr, em.len);
    CHECK_EQ_MEM(blinded_out, blinded.ptr, k);
    CHECK_EQ_MEM(inv_out, inv.ptr, k);

    CHECK_EQ_INT(ov_brsa_blind_sign(sk, ov_buf_view(&blinded), out, k), 0);
    CHECK_EQ_MEM(out, blind_sig.ptr, k);

    CHECK_EQ_INT(ov_brsa_finalize(pk, var, ov_buf_view(&prepared), ov_buf_view(&blind_sig),
                                  inv.ptr, k, out, k),
                 0);
    CHECK_EQ_MEM(out, sig.ptr, k);
    CHECK_EQ_INT(ov_brsa_verify(pk, var, ov_buf_view(&prepared), ov_buf_view(&sig)), 0);

    /* the test entry point refuses r = 0, r = n and a salt of the wrong size */
    memset(r, 0, k);
    CHECK_EQ_INT(ov_brsa_blind_for_testing(pk, var, ov_buf_view(&prepared), ov_buf_view(&salt),
                                           OV_BYTES(r, k), em_out, sizeof em_out, &em_len,
                                           blinded_out, inv_out, k),
                 -OV_E_RANGE);
    CHECK(sodium_is_zero(blinded_out, k) && sodium_is_zero(inv_out, k));
    CHECK_EQ_INT(ov_brsa_blind_for_testing(pk, var, ov_buf_view(&prepared), ov_buf_view(&n),
                                           ov_buf_view(&n), em_out, sizeof em_out, &em_len,
                                           blinded_out, inv_out, k),
                 -OV_E_RANGE);
    CHECK_EQ_INT(ov_brsa_blind_for_testing(pk, var, ov_buf_view(&prepared), OV_BYTES(r, 47),
                                           OV_BYTES(r, k), em_out, sizeof em_out, &em_len,
                                           blinded_out, inv_out, k),
                 -OV_E_RANGE);

    vector_negatives(sk, var, ov_buf_view(&prepared), ov_buf_view(&blinded),
                     ov_buf_view(&blind_sig), ov_buf_view(&inv), ov_buf_view(&sig));

    struct ov_buf *all[] = { &n, &msg, &prefix, &prepared, &salt, &em, &inv, &blinded,
                             &blind_sig, &sig };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ov_buf_clear(all[i]);
    }
}

static void
test_vectors(void)
{
    json_t *j = vec_load("rfc9474.json");
    json_t *vs = json_object_get(j, "vectors");
    json_t *alts = json_object_get(j, "non_rfc_alternates");
    CHECK_EQ_INT(json_array_size(vs), 4);
    CHECK_EQ_INT(json_array_size(alts), 1);
    for (size_t i = 0; i < json_array_size(vs); i++) {
        test_vector(json_array_get(vs, i));
    }
    /* A.4 as published by Cloudflare: another inv (so blinded_msg, blind_sig), same sig */
    for (size_t i = 0; i < json_array_size(alts); i++) {
        json_t *a = json_array_get(alts, i);
        CHECK(json_is_true(json_object_get(a, "NOT_FROM_RFC")));
        test_vector(a);
    }
    json_decref(j);
}

/* One full protocol run with fresh randomness. */
static void
round_trip(const struct ov_brsa_sk *sk, enum ov_brsa_variant v, struct ov_bytes msg)
{
    const struct ov_brsa_pk *pk = ov_brsa_sk_pk(sk);
    size_t k = ov_brsa_pk_modulus_len(pk);
    uint8_t blinded[K_MAX], inv[K_MAX], bsig[K_MAX], sig[K_MAX];
    struct ov_buf prepared;
    ov_buf_init(&prepared, 1 << 16);
    CHECK_EQ_INT(ov_brsa_prepare(v, msg, &prepared), 0);
    CHECK_EQ_INT(ov_brsa_blind(pk, v, ov_buf_view(&prepared), blinded, inv, k), 0);
    CHECK_EQ_INT(ov_brsa_blind_sign(sk, OV_BYTES(blinded, k), bsig, k), 0);
    CHECK_EQ_INT(ov_brsa_finalize(pk, v, ov_buf_view(&prepared), OV_BYTES(bsig, k), inv, k, sig,
                                  k),
                 0);
    CHECK_EQ_INT(ov_brsa_verify(pk, v, ov_buf_view(&prepared), OV_BYTES(sig, k)), 0);
    ov_buf_clear(&prepared);
}

/* One key shared by several threads at once (the issuer's thread pool): the shared verify
 * and sign contexts are only duplicated, so every run must still succeed. */
struct thread_arg {
    const struct ov_brsa_sk *sk;
    int failures;
};

static void *
thread_main(void *p)
{
    struct thread_arg *a = p;
    const struct ov_brsa_pk *pk = ov_brsa_sk_pk(a->sk);
    size_t k = ov_brsa_pk_modulus_len(pk);
    uint8_t blinded[K_MAX], inv[K_MAX], bsig[K_MAX], sig[K_MAX];
    static const uint8_t msg[] = "threads";
    for (int i = 0; i < 20; i++) {
        enum ov_brsa_variant v = all_variants[i % 4];
        if (ov_brsa_blind(pk, v, OV_BYTES(msg, 7), blinded, inv, k) != 0 ||
            ov_brsa_blind_sign(a->sk, OV_BYTES(blinded, k), bsig, k) != 0 ||
            ov_brsa_finalize(pk, v, OV_BYTES(msg, 7), OV_BYTES(bsig, k), inv, k, sig, k) != 0 ||
            ov_brsa_verify(pk, v, OV_BYTES(msg, 7), OV_BYTES(sig, k)) != 0) {
            a->failures++;
        }
    }
    return NULL;
}

static void
test_threads(const struct ov_brsa_sk *sk)
{
    pthread_t t[4];
    struct thread_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (struct thread_arg){ sk, 0 };
        CHECK_EQ_INT(pthread_create(&t[i], NULL, thread_main, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(pthread_join(t[i], NULL), 0);
        CHECK_EQ_INT(a[i].failures, 0);
    }
}

/* The same message, signed twice, gives two different blinded messages. */
static void
test_prepare_and_randomness(const struct ov_brsa_sk *sk)
{
    const struct ov_brsa_pk *pk = ov_brsa_sk_pk(sk);
    static const uint8_t msg[] = "hello world";
    struct ov_buf a, b;
    uint8_t b1[K_MAX], b2[K_MAX], i1[K_MAX], i2[K_MAX];
    size_t k = ov_brsa_pk_modulus_len(pk);

    ov_buf_init(&a, 50);
    ov_buf_init(&b, 50);
    CHECK_EQ_INT(ov_brsa_prepare(OV_BRSA_PSS_RANDOMIZED, OV_BYTES(msg, 11), &a), 0);
    CHECK_EQ_INT(ov_brsa_prepare(OV_BRSA_PSSZERO_RANDOMIZED, OV_BYTES(msg, 11), &b), 0);
    CHECK(a.len == 43 && b.len == 43 && memcmp(a.ptr + 32, msg, 11) == 0);
    CHECK(memcmp(a.ptr, b.ptr, 32) != 0);
    ov_buf_clear(&b);
    ov_buf_init(&b, 50);
    CHECK_EQ_INT(ov_brsa_prepare(OV_BRSA_PSS_DETERMINISTIC, OV_BYTES(msg, 11), &b), 0);
    CHECK(b.len == 11 && memcmp(b.ptr, msg, 11) == 0);
    /* over the buffer's max: refused, and the buffer is unchanged */
    CHECK_EQ_INT(ov_brsa_prepare(OV_BRSA_PSS_RANDOMIZED, OV_BYTES(msg, 11), &b), -OV_E_TOO_BIG);
    CHECK_EQ_INT(b.len, 11);

    CHECK_EQ_INT(ov_brsa_blind(pk, OV_BRSA_PSSZERO_DETERMINISTIC, ov_buf_view(&b), b1, i1, k), 0);
    CHECK_EQ_INT(ov_brsa_blind(pk, OV_BRSA_PSSZERO_DETERMINISTIC, ov_buf_view(&b), b2, i2, k), 0);
    CHECK(memcmp(b1, b2, k) != 0 && memcmp(i1, i2, k) != 0);
    CHECK_EQ_INT(ov_brsa_blind(pk, OV_BRSA_PSS_DETERMINISTIC, ov_buf_view(&b), b1, i1, k - 1),
                 -OV_E_RANGE);
    ov_buf_clear(&a);
    ov_buf_clear(&b);
}

/* Signatures from one key never verify under another of the same size. */
static void
test_wrong_key(const struct ov_brsa_sk *sk1, const struct ov_brsa_sk *sk2)
{
    const struct ov_brsa_pk *pk1 = ov_brsa_sk_pk(sk1), *pk2 = ov_brsa_sk_pk(sk2);
    size_t k = ov_brsa_pk_modulus_len(pk1);
    uint8_t blinded[K_MAX], inv[K_MAX], bsig[K_MAX], sig[K_MAX];
    static const uint8_t msg[] = "one voice";
    struct ov_bytes m = OV_BYTES(msg, 9);
    enum ov_brsa_variant v = OV_BRSA_PSS_DETERMINISTIC;

    CHECK_EQ_INT(ov_brsa_pk_modulus_len(pk2), k);
    /* the issuer signs with the wrong key: Finalize refuses (blind again until the blinded
     * message, uniform below n1, is also below n2) */
    int rc = -OV_E_RANGE;
    for (int i = 0; i < 64 && rc == -OV_E_RANGE; i++) {
        CHECK_EQ_INT(ov_brsa_blind(pk1, v, m, blinded, inv, k), 0);
        rc = ov_brsa_blind_sign(sk2, OV_BYTES(blinded, k), bsig, k);
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(ov_brsa_finalize(pk1, v, m, OV_BYTES(bsig, k), inv, k, sig, k), -OV_E_BAD_SIG);
    /* the right key signs; the signature fails under the other key */
    CHECK_EQ_INT(ov_brsa_blind_sign(sk1, OV_BYTES(blinded, k), bsig, k), 0);
    CHECK_EQ_INT(ov_brsa_finalize(pk1, v, m, OV_BYTES(bsig, k), inv, k, sig, k), 0);
    CHECK_EQ_INT(ov_brsa_verify(pk1, v, m, OV_BYTES(sig, k)), 0);
    CHECK_EQ_INT(ov_brsa_verify(pk2, v, m, OV_BYTES(sig, k)), -OV_E_BAD_SIG);
}

/* A key from two fresh primes of the given sizes (OpenSSL sets each prime's top two bits, so
 * n has exactly p_bits + q_bits bits), for moduli keygen cannot make. */
static struct ov_brsa_sk *
key_from_primes(int p_bits, int q_bits)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = BN_new(), *q = BN_new(), *n = BN_new(), *e = BN_new(), *d = BN_new();
    BIGNUM *p1 = BN_new(), *q1 = BN_new(), *phi = BN_new();
    uint8_t nb[K_MAX], eb[4], db[K_MAX], pb[K_MAX], qb[K_MAX];
    struct ov_brsa_sk *sk = NULL;
    CHECK(BN_set_word(e, 65537));
    do {
        CHECK(BN_generate_prime_ex2(p, p_bits, 0, NULL, NULL, NULL, ctx));
        CHECK(BN_generate_prime_ex2(q, q_bits, 0, NULL, NULL, NULL, ctx));
        CHECK(BN_sub(p1, p, BN_value_one()) && BN_sub(q1, q, BN_value_one()));
        CHECK(BN_mul(phi, p1, q1, ctx) && BN_mul(n, p, q, ctx));
    } while (BN_mod_inverse(d, e, phi, ctx) == NULL);
    CHECK_EQ_INT(BN_num_bits(n), p_bits + q_bits);
    int rc = ov_brsa_sk_from_parts(OV_BYTES(nb, (size_t)BN_bn2bin(n, nb)),
                                   OV_BYTES(eb, (size_t)BN_bn2bin(e, eb)),
                                   OV_BYTES(db, (size_t)BN_bn2bin(d, db)),
                                   OV_BYTES(pb, (size_t)BN_bn2bin(p, pb)),
                                   OV_BYTES(qb, (size_t)BN_bn2bin(q, qb)), &sk);
    CHECK_EQ_INT(rc, 0);
    BIGNUM *all[] = { p, q, n, e, d, p1, q1, phi };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        BN_clear_free(all[i]);
    }
    BN_CTX_free(ctx);
    return sk;
}

/* Our EMSA-PSS-ENCODE against OpenSSL's RSASSA-PSS verify, on moduli whose bit length is not
 * a multiple of 8: emLen = k - 1 when modBits = 8(k-1) + 1, else a masked top byte. */
static void
test_odd_sizes(void)
{
    static const int sizes[3][2] = { { 1025, 1024 }, { 1026, 1026 }, { 1028, 1027 } };
    struct ov_brsa_sk *sk = NULL;
    CHECK_EQ_INT(ov_brsa_keygen(2049, &sk), -OV_E_RANGE); /* keygen: whole bytes only */
    for (int i = 0; i < 3; i++) {
        sk = key_from_primes(sizes[i][0], sizes[i][1]);
        if (sk == NULL) {
            continue;
        }
        CHECK_EQ_INT(ov_brsa_pk_modulus_bits(ov_brsa_sk_pk(sk)), sizes[i][0] + sizes[i][1]);
        CHECK_EQ_INT(ov_brsa_pk_modulus_len(ov_brsa_sk_pk(sk)), 257);
        for (int v = 0; v < 4; v++) {
            round_trip(sk, all_variants[v], OV_BYTES_STR("odd"));
        }
        ov_brsa_sk_free(sk);
    }
}

/* DER RSAPublicKey: round trip, then every way to get it wrong. */
static void
test_pk_der(const struct ov_brsa_sk *sk)
{
    uint8_t der[OV_BRSA_MAX_PK_DER_LEN + 8], der2[OV_BRSA_MAX_PK_DER_LEN], bad[OV_BRSA_MAX_PK_DER_LEN + 8];
    size_t len, len2;
    struct ov_brsa_pk *pk = NULL, *dup = NULL;

    CHECK_EQ_INT(ov_brsa_pk_to_der(ov_brsa_sk_pk(sk), der, sizeof der, &len), 0);
    CHECK_EQ_INT(len, 270); /* 2048-bit n, e = 65537 */
    CHECK_EQ_MEM(der, "\x30\x82\x01\x0a\x02\x82\x01\x01\x00", 9);
    CHECK_EQ_MEM(der + len - 5, "\x02\x03\x01\x00\x01", 5);
    CHECK_EQ_INT(ov_brsa_pk_to_der(ov_brsa_sk_pk(sk), der2, len - 1, &len2), -OV_E_TOO_BIG);
    CHECK_EQ_INT(len2, 0);
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(der, len), &pk), 0);
    CHECK_EQ_INT(ov_brsa_pk_dup(pk, &dup), 0);
    CHECK_EQ_INT(ov_brsa_pk_to_der(dup, der2, sizeof der2, &len2), 0);
    CHECK(len2 == len && memcmp(der, der2, len) == 0);
    ov_brsa_pk_free(pk);
    ov_brsa_pk_free(dup);
    ov_brsa_pk_free(NULL);

    for (size_t cut = 0; cut < len; cut++) {
        pk = (struct ov_brsa_pk *)1;
        int rc = ov_brsa_pk_from_der(OV_BYTES(der, cut), &pk);
        CHECK(rc == -OV_E_TRUNCATED && pk == NULL);
    }
    memcpy(bad, der, len);
    bad[len] = 0;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len + 1), &pk), -OV_E_TRAILING);
    /* extra bytes inside the SEQUENCE, after e */
    memcpy(bad, der, len);
    bad[3] = 0x0b;
    bad[len] = 0;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len + 1), &pk), -OV_E_TRAILING);
    /* a wrong outer tag, a wrong INTEGER tag */
    memcpy(bad, der, len);
    bad[0] = 0x31;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len), &pk), -OV_E_MALFORMED);
    memcpy(bad, der, len);
    bad[4] = 0x03;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len), &pk), -OV_E_MALFORMED);
    /* indefinite length; a length in three octets */
    memcpy(bad, der, len);
    bad[1] = 0x80;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len), &pk), -OV_E_MALFORMED);
    bad[1] = 0x83;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len), &pk), -OV_E_TOO_BIG);
    /* a non-minimal length: 82 01 0a written as 83 00 01 0a is refused above; 0x82 0x00 0x05 */
    {
        static const uint8_t nm[] = { 0x30, 0x82, 0x00, 0x06, 0x02, 0x01, 0x03, 0x02, 0x01, 0x03 };
        CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(nm, sizeof nm), &pk), -OV_E_NONCANONICAL);
        static const uint8_t nm2[] = { 0x30, 0x81, 0x06, 0x02, 0x01, 0x03, 0x02, 0x01, 0x03 };
        CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(nm2, sizeof nm2), &pk), -OV_E_NONCANONICAL);
    }
    /* n with a redundant leading zero (re-encode n as 00 00 n...) */
    {
        static uint8_t lz[OV_BRSA_MAX_PK_DER_LEN + 8];
        memcpy(lz, "\x30\x82\x01\x0b\x02\x82\x01\x02\x00", 9);
        memcpy(lz + 9, der + 8, len - 8);
        CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(lz, len + 1), &pk), -OV_E_NONCANONICAL);
    }
    /* n negative (drop the 00 sign octet) */
    {
        static uint8_t neg[OV_BRSA_MAX_PK_DER_LEN + 8];
        memcpy(neg, "\x30\x82\x01\x09\x02\x82\x01\x00", 8);
        memcpy(neg + 8, der + 9, len - 9);
        CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(neg, len - 1), &pk), -OV_E_RANGE);
    }
    /* even n; even e; e = 1; e of 5 bytes */
    memcpy(bad, der, len);
    bad[len - 6] ^= 1;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len), &pk), -OV_E_RANGE);
    memcpy(bad, der, len);
    bad[len - 1] = 0x02;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len), &pk), -OV_E_RANGE);
    memcpy(bad, der, len);
    memcpy(bad + len - 5, "\x02\x01\x01", 3);
    bad[3] = 0x08;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len - 2), &pk), -OV_E_RANGE);
    memcpy(bad, der, len);
    memcpy(bad + len - 5, "\x02\x05\x01\x00\x00\x00\x01", 7);
    bad[3] = 0x0c;
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, len + 2), &pk), -OV_E_RANGE);
    /* a 1024-bit modulus; a zero modulus */
    {
        static const uint8_t small_head[] = { 0x30, 0x81, 0x89, 0x02, 0x81, 0x81, 0x00 };
        uint8_t small[sizeof small_head + 128 + 5];
        memcpy(small, small_head, sizeof small_head);
        memset(small + sizeof small_head, 0xc3, 128);
        memcpy(small + sizeof small_head + 128, "\x02\x03\x01\x00\x01", 5);
        CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(small, sizeof small), &pk), -OV_E_RANGE);
        static const uint8_t zero[] = { 0x30, 0x08, 0x02, 0x01, 0x00, 0x02, 0x03, 0x01, 0x00, 0x01 };
        CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(zero, sizeof zero), &pk), -OV_E_RANGE);
    }
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(NULL, 0), &pk), -OV_E_TRUNCATED);
    memset(bad, 0x30, sizeof bad);
    CHECK_EQ_INT(ov_brsa_pk_from_der(OV_BYTES(bad, sizeof bad), &pk), -OV_E_TOO_BIG);
}

/* PKCS#8: export, reload (DER and PEM), refuse the wrong kinds of key. */
static void
test_sk_io(const struct ov_brsa_sk *sk)
{
    uint8_t *der = sodium_malloc(OV_BRSA_MAX_SK_DER_LEN);
    size_t der_len = 0;
    struct ov_brsa_sk *back = NULL;
    uint8_t a[OV_BRSA_MAX_PK_DER_LEN], b[OV_BRSA_MAX_PK_DER_LEN];
    size_t a_len, b_len;

    CHECK_EQ_INT(ov_brsa_sk_to_pkcs8(sk, der, OV_BRSA_MAX_SK_DER_LEN, &der_len), 0);
    CHECK(der_len > 1000 && der[0] == 0x30);
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(der, der_len), &back), 0);
    CHECK_EQ_INT(ov_brsa_pk_to_der(ov_brsa_sk_pk(sk), a, sizeof a, &a_len), 0);
    CHECK_EQ_INT(ov_brsa_pk_to_der(ov_brsa_sk_pk(back), b, sizeof b, &b_len), 0);
    CHECK(a_len == b_len && memcmp(a, b, a_len) == 0);
    round_trip(back, OV_BRSA_PSS_DETERMINISTIC, OV_BYTES_STR("reloaded"));
    ov_brsa_sk_free(back);

    /* a short output buffer */
    size_t short_len = 7;
    CHECK_EQ_INT(ov_brsa_sk_to_pkcs8(sk, der, 100, &short_len), -OV_E_TOO_BIG);
    CHECK_EQ_INT(short_len, 0);
    CHECK_EQ_INT(ov_brsa_sk_to_pkcs8(sk, der, OV_BRSA_MAX_SK_DER_LEN, &der_len), 0);

    /* truncated, trailing, a flipped byte in the key, garbage */
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(der, der_len - 1), &back), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(der, 10), &back), -OV_E_MALFORMED);
    der[der_len] = 0;
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(der, der_len + 1), &back), -OV_E_MALFORMED);
    der[der_len - 20] ^= 0x01; /* inside the last CRT value: the pairwise check fails */
    int rc = ov_brsa_sk_load(OV_BYTES(der, der_len), &back);
    CHECK(rc == -OV_E_RANGE || rc == -OV_E_MALFORMED);
    CHECK(back == NULL);
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES_STR("hello"), &back), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(NULL, 0), &back), -OV_E_MALFORMED);
    sodium_free(der);

    /* an RSA-PSS key (id-RSASSA-PSS in PKCS#8) is refused */
    EVP_PKEY *pss = NULL;
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    CHECK(kctx != NULL && EVP_PKEY_keygen_init(kctx) == 1 &&
          EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, 2048) == 1 && EVP_PKEY_generate(kctx, &pss) == 1);
    EVP_PKEY_CTX_free(kctx);
    OSSL_ENCODER_CTX *ectx = NULL;
    unsigned char *pss_der = NULL;
    size_t pss_len = 0;
    ectx = OSSL_ENCODER_CTX_new_for_pkey(pss, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", NULL);
    CHECK(ectx != NULL && OSSL_ENCODER_to_data(ectx, &pss_der, &pss_len) == 1);
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(pss_der, pss_len), &back), -OV_E_MALFORMED);
    OPENSSL_clear_free(pss_der, pss_len);
    OSSL_ENCODER_CTX_free(ectx);
    EVP_PKEY_free(pss);

}

/* PEM from RFC 9578 Appendix A.2, and broken variants of it. */
static void
test_pem(void)
{
    json_t *j = vec_load("rfc9578_type2.json");
    json_t *v = json_array_get(json_object_get(j, "vectors"), 0);
    const char *pem = vec_str(v, "skS_pem");
    struct ov_buf pks = vec_hex(v, "pkS");
    size_t pem_len = strlen(pem);
    struct ov_brsa_sk *sk = NULL;
    uint8_t der[OV_BRSA_MAX_PK_DER_LEN];
    size_t der_len;
    char *bad = malloc(pem_len + 2);

    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(pem, pem_len), &sk), 0);
    CHECK(sk != NULL);
    if (sk != NULL) {
        /* its public key is the RSAPublicKey inside pkS, after the 72-byte SPKI prefix */
        CHECK_EQ_INT(ov_brsa_pk_to_der(ov_brsa_sk_pk(sk), der, sizeof der, &der_len), 0);
        CHECK(der_len == pks.len - 72 && memcmp(der, pks.ptr + 72, der_len) == 0);
        round_trip(sk, OV_BRSA_PSS_DETERMINISTIC, OV_BYTES_STR("pem"));
        ov_brsa_sk_free(sk);
    }
    /* no final newline; a CR; a bad base64 character; a wrong label; truncated */
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(pem, pem_len - 1), &sk), -OV_E_MALFORMED);
    memcpy(bad, pem, pem_len);
    bad[40] = '\r';
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(bad, pem_len), &sk), -OV_E_MALFORMED);
    bad[40] = '*';
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(bad, pem_len), &sk), -OV_E_MALFORMED);
    memcpy(bad, pem, pem_len);
    memcpy(bad + 11, "RSA PRIV", 8);
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(bad, pem_len), &sk), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(pem, 30), &sk), -OV_E_MALFORMED);
    /* the body minus one base64 line */
    memcpy(bad, pem, pem_len);
    memmove(bad + 28, bad + 28 + 65, pem_len - 28 - 65);
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(bad, pem_len - 65), &sk), -OV_E_MALFORMED);
    CHECK(sk == NULL);
    free(bad);
    ov_buf_clear(&pks);
    json_decref(j);

    /* a huge input is refused before any work */
    static uint8_t huge[OV_BRSA_MAX_SK_PEM_LEN + 1];
    CHECK_EQ_INT(ov_brsa_sk_load(OV_BYTES(huge, sizeof huge), &sk), -OV_E_TOO_BIG);
}

/* ov_brsa_sk_from_parts refuses inconsistent parts. */
static void
test_bad_parts(void)
{
    json_t *j = vec_load("rfc9474.json");
    json_t *v = json_array_get(json_object_get(j, "vectors"), 0);
    struct ov_buf n = vec_hex(v, "n"), e = vec_hex(v, "e"), d = vec_hex(v, "d");
    struct ov_buf p = vec_hex(v, "p"), q = vec_hex(v, "q");
    struct ov_brsa_sk *sk = NULL;

    d.ptr[d.len - 1] ^= 0x02; /* d off by two */
    CHECK_EQ_INT(ov_brsa_sk_from_parts(ov_buf_view(&n), ov_buf_view(&e), ov_buf_view(&d),
                                       ov_buf_view(&p), ov_buf_view(&q), &sk),
                 -OV_E_RANGE);
    d.ptr[d.len - 1] ^= 0x02;
    /* p and q swapped is the same key (qInv is derived) */
    CHECK_EQ_INT(ov_brsa_sk_from_parts(ov_buf_view(&n), ov_buf_view(&e), ov_buf_view(&d),
                                       ov_buf_view(&q), ov_buf_view(&p), &sk),
                 0);
    ov_brsa_sk_free(sk);
    sk = NULL;
    /* p = n, q = 1 */
    static const uint8_t one[1] = { 1 };
    CHECK_EQ_INT(ov_brsa_sk_from_parts(ov_buf_view(&n), ov_buf_view(&e), ov_buf_view(&d),
                                       ov_buf_view(&n), OV_BYTES(one, 1), &sk),
                 -OV_E_RANGE);
    CHECK(sk == NULL);
    ov_buf_clear(&n);
    ov_buf_clear(&e);
    ov_buf_clear(&d);
    ov_buf_clear(&p);
    ov_buf_clear(&q);
    json_decref(j);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    test_vectors();
    test_bad_parts();
    test_pem();

    struct ov_brsa_sk *sk = NULL, *sk2 = NULL;
    CHECK_EQ_INT(ov_brsa_keygen(1024, &sk), -OV_E_RANGE);
    CHECK_EQ_INT(ov_brsa_keygen(4097, &sk), -OV_E_RANGE);
    CHECK_EQ_INT(ov_brsa_keygen(2048, &sk), 0);
    CHECK_EQ_INT(ov_brsa_keygen(2048, &sk2), 0);
    if (sk == NULL || sk2 == NULL) {
        TEST_DONE("brsa");
    }
    CHECK_EQ_INT(ov_brsa_pk_modulus_bits(ov_brsa_sk_pk(sk)), 2048);
    CHECK_EQ_INT(ov_brsa_pk_modulus_len(ov_brsa_sk_pk(sk)), 256);
    for (int v = 0; v < 4; v++) {
        round_trip(sk, all_variants[v], OV_BYTES_STR("a message"));
        round_trip(sk, all_variants[v], OV_BYTES(NULL, 0));
    }
    test_prepare_and_randomness(sk);
    test_threads(sk);
    test_wrong_key(sk, sk2);
    test_pk_der(sk);
    test_sk_io(sk);
    test_odd_sizes();
    ov_brsa_sk_free(sk);
    ov_brsa_sk_free(sk2);
    ov_brsa_sk_free(NULL);
    ov_brsa_sk_free(cached);
    TEST_DONE("brsa");
}
