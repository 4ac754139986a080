/* Benchmarks: RFC 9474 BlindSign and RFC 9578 token verification on one thread, each against
 * its physical limit measured in the same run: the raw RSA-2048 private operation (no padding,
 * one reused EVP_PKEY_CTX) for BlindSign, the raw public operation for verification. BlindSign
 * adds the s^e == m check and a context per call; verify adds SHA-384 and the PSS decoding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "primitives/brsa.h"
#include "primitives/pp.h"
#include "bench.h"

#define RUN_SECONDS 1.5 /* per side */
#define SLICE_SECONDS 0.05

static void
die(const char *what)
{
    fprintf(stderr, "bench_brsa: %s failed\n", what);
    exit(1);
}

struct side {
    int (*fn)(void *);
    void *arg;
    long n;
    double seconds;
};

/* Runs one slice of s; accumulates its operations and time. */
static void
slice(struct side *s)
{
    double start = bench_cpu_now(), elapsed;
    long n = 0;
    do {
        if (s->fn(s->arg) != 0) {
            die("operation");
        }
        n++;
        elapsed = bench_cpu_now() - start;
    } while (elapsed < SLICE_SECONDS);
    s->n += n;
    s->seconds += elapsed;
}

/* Operations per second of a and of its limit b, measured in alternating slices so that
 * both see the same machine. */
static void
rate_pair(struct side *a, struct side *b)
{
    while (a->seconds < RUN_SECONDS || b->seconds < RUN_SECONDS) {
        slice(a);
        slice(b);
    }
}

struct raw {
    EVP_PKEY_CTX *ctx;
    const uint8_t *in;
    uint8_t out[OV_PP_NK];
};

static int
raw_private(void *p)
{
    struct raw *r = p;
    size_t len = sizeof r->out;
    return EVP_PKEY_sign(r->ctx, r->out, &len, r->in, OV_PP_NK) == 1 ? 0 : -1;
}

static int
raw_public(void *p)
{
    struct raw *r = p;
    size_t len = sizeof r->out;
    return EVP_PKEY_verify_recover(r->ctx, r->out, &len, r->in, OV_PP_NK) == 1 ? 0 : -1;
}

struct sign_arg {
    const struct ov_brsa_sk *sk;
    const uint8_t *blinded;
    uint8_t out[OV_PP_NK];
};

static int
blind_sign(void *p)
{
    struct sign_arg *a = p;
    return ov_brsa_blind_sign(a->sk, OV_BYTES(a->blinded, OV_PP_NK), a->out, sizeof a->out);
}

struct verify_arg {
    const struct ov_pp_key *key;
    const uint8_t *token;
};

static int
token_verify(void *p)
{
    struct verify_arg *a = p;
    return ov_pp_token_verify(a->key, OV_BYTES(a->token, OV_PP_TOKEN_LEN));
}

/* An EVP_PKEY for sk's key pair, from its PKCS#8 export (the bench needs the raw handle). */
static EVP_PKEY *
raw_pkey(const struct ov_brsa_sk *sk)
{
    uint8_t der[OV_BRSA_MAX_SK_DER_LEN];
    size_t der_len;
    if (ov_brsa_sk_to_pkcs8(sk, der, sizeof der, &der_len) != 0) {
        die("export");
    }
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)der_len);
    sodium_memzero(der, sizeof der);
    return pkey;
}

static void
report(const char *name, double value, double limit)
{
    printf("bench %s %.0f ops/s limit %.0f ratio %.3f\n", name, value, limit, value / limit);
}

int
main(void)
{
    struct ov_brsa_sk *sk = NULL;
    struct ov_pp_key key;
    struct ov_pp_client_state st;
    uint8_t nonce[OV_PP_NONCE_LEN], req[OV_PP_TOKEN_REQUEST_LEN], resp[OV_PP_NK];
    uint8_t token[OV_PP_TOKEN_LEN], chal[64];
    size_t chal_len;
    struct ov_pp_challenge c = { OV_PP_TOKEN_TYPE, OV_BYTES_STR("issuer.example"),
                                 OV_BYTES(NULL, 0), OV_BYTES(NULL, 0) };

    if (sodium_init() < 0 || ov_brsa_keygen(2048, &sk) != 0 ||
        ov_pp_key_from_pk(&key, ov_brsa_sk_pk(sk)) != 0 ||
        ov_pp_challenge_encode(&c, chal, sizeof chal, &chal_len) != 0) {
        die("setup");
    }
    randombytes_buf(nonce, sizeof nonce);
    if (ov_pp_client_request(&key, OV_BYTES(chal, chal_len), nonce, req, &st) != 0 ||
        ov_pp_issuer_respond(sk, OV_BYTES(req, sizeof req), resp) != 0 ||
        ov_pp_client_finalize(&key, &st, OV_BYTES(resp, sizeof resp), token) != 0) {
        die("issuance");
    }

    EVP_PKEY *pkey = raw_pkey(sk);
    struct raw r = { .in = req + 3 };
    if (pkey == NULL || (r.ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
        EVP_PKEY_sign_init(r.ctx) != 1 || EVP_PKEY_CTX_set_rsa_padding(r.ctx, RSA_NO_PADDING) != 1) {
        die("raw private context");
    }
    struct sign_arg sa = { .sk = sk, .blinded = req + 3 };
    struct side sign = { blind_sign, &sa, 0, 0 }, limit = { raw_private, &r, 0, 0 };
    rate_pair(&sign, &limit);
    report("brsa_blind_sign", (double)sign.n / sign.seconds, (double)limit.n / limit.seconds);
    EVP_PKEY_CTX_free(r.ctx);

    r.in = token + OV_PP_TOKEN_INPUT_LEN;
    if ((r.ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
        EVP_PKEY_verify_recover_init(r.ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(r.ctx, RSA_NO_PADDING) != 1) {
        die("raw public context");
    }
    struct verify_arg va = { .key = &key, .token = token };
    struct side verify = { token_verify, &va, 0, 0 }, vlimit = { raw_public, &r, 0, 0 };
    rate_pair(&verify, &vlimit);
    report("pp_token_verify", (double)verify.n / verify.seconds,
           (double)vlimit.n / vlimit.seconds);

    EVP_PKEY_CTX_free(r.ctx);
    EVP_PKEY_free(pkey);
    ov_pp_client_state_clear(&st);
    ov_pp_key_clear(&key);
    ov_brsa_sk_free(sk);
    return 0;
}
