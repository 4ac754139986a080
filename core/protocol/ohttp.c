/* ohttp: RFC 9458 Oblivious HTTP encapsulation.
 *
 *   Key Config (§3.1)                     | Encapsulated Request (§4.1)
 *   ------------------------------------- | ------------------------------------------
 *   Key Identifier (8)                    | Key Identifier (8)
 *   HPKE KEM ID (16)                      | HPKE KEM ID (16), KDF ID (16), AEAD ID (16)
 *   HPKE Public Key (Npk * 8)             | Encapsulated KEM Shared Secret (Nenc * 8)
 *   Symmetric Algorithms Length (16)      | HPKE-Protected Request (..)
 *   (KDF ID (16), AEAD ID (16)) ...       |
 *
 *   application/ohttp-keys (§3.2): (Length (16), Key Config) ...
 *   Encapsulated Response (§4.2): Nonce (max(Nn, Nk) * 8), AEAD-Protected Response (..)
 *
 * Request: info = "message/bhttp request" || 0x00 || header, SetupBaseS/R, Seal/Open with
 * empty aad. Response (§4.4): secret = Export("message/bhttp response", max(Nn, Nk)),
 * prk = Extract(enc || response_nonce, secret), key = Expand(prk, "key", Nk),
 * nonce = Expand(prk, "nonce", Nn) (plain HKDF, not the labeled kind), empty aad. */
#include "protocol/ohttp.h"

#include <string.h>

#include <sodium.h>

#include "base/reader.h"

static const char REQ_LABEL[] = "message/bhttp request";
static const char RES_LABEL[] = "message/bhttp response";

void
ov_ohttp_client_clear(struct ov_ohttp_client *c)
{
    if (c != NULL) {
        sodium_memzero(c, sizeof *c);
    }
}

void
ov_ohttp_server_clear(struct ov_ohttp_server *s)
{
    if (s != NULL) {
        sodium_memzero(s, sizeof *s);
    }
}

void
ov_ohttp_key_config(const struct ov_ohttp_key *k, struct ov_ohttp_config *out)
{
    memset(out, 0, sizeof *out);
    out->key_id = k->key_id;
    out->kem_id = OV_HPKE_KEM_X25519_SHA256;
    memcpy(out->pk, k->pk, sizeof out->pk);
    for (size_t i = 0; i < k->n_aeads && i < OV_OHTTP_MAX_ALGS; i++) {
        out->algs[i].kdf_id = OV_HPKE_KDF_HKDF_SHA256;
        out->algs[i].aead_id = k->aeads[i]->id;
        out->n_algs++;
    }
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int
ov_ohttp_config_encode(const struct ov_ohttp_config *c, struct ov_buf *out)
{
    uint8_t b[1 + 2 + OV_HPKE_NPK + 2 + 4 * OV_OHTTP_MAX_ALGS];
    if (c->kem_id != OV_HPKE_KEM_X25519_SHA256 || c->n_algs == 0 ||
        c->n_algs > OV_OHTTP_MAX_ALGS) {
        return -OV_E_RANGE;
    }
    size_t n = 0;
    b[n++] = c->key_id;
    put16(b + n, c->kem_id);
    n += 2;
    memcpy(b + n, c->pk, OV_HPKE_NPK);
    n += OV_HPKE_NPK;
    put16(b + n, (uint16_t)(4 * c->n_algs));
    n += 2;
    for (size_t i = 0; i < c->n_algs; i++) {
        put16(b + n, c->algs[i].kdf_id);
        put16(b + n + 2, c->algs[i].aead_id);
        n += 4;
    }
    return ov_buf_append(out, b, n);
}

int
ov_ohttp_keys_encode(const struct ov_ohttp_config *c, size_t n, struct ov_buf *out)
{
    size_t start = out->len;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t at = out->len;
        uint8_t len[2] = { 0, 0 };
        rc = ov_buf_append(out, len, 2);
        rc = rc ? rc : ov_ohttp_config_encode(&c[i], out);
        if (rc == 0) {
            put16(out->ptr + at, (uint16_t)(out->len - at - 2));
        }
    }
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

/* One length-delimited config; 1 when kept, 0 when skipped (another KEM), or an error. */
static int
parse_config(struct ov_bytes in, struct ov_ohttp_config *c)
{
    struct ov_reader r;
    ov_reader_init(&r, in);
    memset(c, 0, sizeof *c);
    c->key_id = ov_reader_u8(&r);
    c->kem_id = ov_reader_u16be(&r);
    if (r.err == 0 && c->kem_id != OV_HPKE_KEM_X25519_SHA256) {
        return 0;
    }
    ov_reader_copy(&r, c->pk, sizeof c->pk);
    uint16_t algs_len = ov_reader_u16be(&r);
    if (r.err == 0 && (algs_len < 4 || algs_len % 4 != 0 || algs_len > 65532)) {
        return -OV_E_MALFORMED;
    }
    if (r.err == 0 && algs_len / 4 > OV_OHTTP_MAX_ALGS) {
        return -OV_E_TOO_BIG;
    }
    c->n_algs = r.err ? 0 : algs_len / 4u;
    for (size_t i = 0; i < c->n_algs; i++) {
        c->algs[i].kdf_id = ov_reader_u16be(&r);
        c->algs[i].aead_id = ov_reader_u16be(&r);
    }
    int rc = ov_reader_end(&r);
    return rc == 0 ? 1 : rc == -OV_E_TRAILING ? -OV_E_MALFORMED : rc;
}

int
ov_ohttp_keys_parse(struct ov_bytes in, struct ov_ohttp_config *out, size_t max, size_t *n)
{
    *n = 0;
    if (in.len > OV_OHTTP_MAX_KEYS_LEN) {
        return -OV_E_TOO_BIG;
    }
    struct ov_reader r;
    ov_reader_init(&r, in);
    int rc = in.len == 0 ? -OV_E_TRUNCATED : 0;
    while (rc == 0 && ov_reader_left(&r) > 0) {
        struct ov_bytes one;
        uint16_t len = ov_reader_u16be(&r);
        ov_reader_bytes(&r, len, &one);
        struct ov_ohttp_config c;
        rc = r.err ? r.err : parse_config(one, &c);
        if (rc == 1) {
            rc = *n < max && *n < OV_OHTTP_MAX_CONFIGS ? 0 : -OV_E_TOO_BIG;
            if (rc == 0) {
                out[(*n)++] = c;
            }
        }
    }
    if (rc == 0 && *n == 0) {
        rc = -OV_E_NOT_FOUND;
    }
    if (rc != 0) {
        memset(out, 0, max * sizeof *out);
        *n = 0;
    }
    return rc;
}

static size_t
make_info(uint8_t key_id, uint16_t aead_id, uint8_t info[sizeof REQ_LABEL + 7],
          uint8_t hdr[OV_OHTTP_REQ_HDR_LEN])
{
    hdr[0] = key_id;
    put16(hdr + 1, OV_HPKE_KEM_X25519_SHA256);
    put16(hdr + 3, OV_HPKE_KDF_HKDF_SHA256);
    put16(hdr + 5, aead_id);
    memcpy(info, REQ_LABEL, sizeof REQ_LABEL); /* the label and its terminating zero byte */
    memcpy(info + sizeof REQ_LABEL, hdr, OV_OHTTP_REQ_HDR_LEN);
    return sizeof REQ_LABEL + OV_OHTTP_REQ_HDR_LEN;
}

int
ov_ohttp_encap_request(const struct ov_ohttp_config *c, const struct ov_hpke_aead *aead,
                       const uint8_t *skE, struct ov_bytes req, struct ov_buf *out,
                       struct ov_ohttp_client *st)
{
    memset(st, 0, sizeof *st);
    int listed = 0;
    for (size_t i = 0; i < c->n_algs && i < OV_OHTTP_MAX_ALGS; i++) {
        listed |= c->algs[i].kdf_id == OV_HPKE_KDF_HKDF_SHA256 && c->algs[i].aead_id == aead->id;
    }
    if (c->kem_id != OV_HPKE_KEM_X25519_SHA256 || !listed) {
        return -OV_E_UNKNOWN_KEY;
    }
    uint8_t info[sizeof REQ_LABEL + OV_OHTTP_REQ_HDR_LEN], hdr[OV_OHTTP_REQ_HDR_LEN];
    size_t info_len = make_info(c->key_id, aead->id, info, hdr);
    size_t start = out->len;
    int rc = ov_hpke_setup_base_s(&st->hpke, aead, c->pk, skE, info, info_len, st->enc);
    rc = rc ? rc : ov_buf_reserve(out, OV_OHTTP_REQ_HDR_LEN + OV_HPKE_NENC + req.len + aead->nt);
    rc = rc ? rc : ov_buf_append(out, hdr, sizeof hdr);
    rc = rc ? rc : ov_buf_append(out, st->enc, OV_HPKE_NENC);
    rc = rc ? rc : ov_hpke_seal(&st->hpke, NULL, 0, req.ptr, req.len, out->ptr + out->len);
    if (rc == 0) {
        out->len += req.len + aead->nt;
    } else {
        out->len = start;
        ov_ohttp_client_clear(st);
    }
    return rc;
}

static const struct ov_hpke_aead *
accepted_aead(const struct ov_ohttp_key *k, uint16_t aead_id)
{
    for (size_t i = 0; i < k->n_aeads && i < OV_OHTTP_MAX_ALGS; i++) {
        if (k->aeads[i]->id == aead_id) {
            return k->aeads[i];
        }
    }
    return NULL;
}

int
ov_ohttp_decap_request(const struct ov_ohttp_key *keys, size_t n_keys, struct ov_bytes enc_req,
                       struct ov_buf *out, struct ov_ohttp_server *st)
{
    memset(st, 0, sizeof *st);
    struct ov_reader r;
    ov_reader_init(&r, enc_req);
    uint8_t key_id = ov_reader_u8(&r);
    uint16_t kem_id = ov_reader_u16be(&r), kdf_id = ov_reader_u16be(&r);
    uint16_t aead_id = ov_reader_u16be(&r);
    ov_reader_copy(&r, st->enc, OV_HPKE_NENC);
    if (r.err != 0) {
        return r.err;
    }
    const struct ov_ohttp_key *k = NULL;
    for (size_t i = 0; i < n_keys && k == NULL; i++) {
        k = keys[i].key_id == key_id ? &keys[i] : NULL;
    }
    const struct ov_hpke_aead *aead = k ? accepted_aead(k, aead_id) : NULL;
    if (aead == NULL || kem_id != OV_HPKE_KEM_X25519_SHA256 || kdf_id != OV_HPKE_KDF_HKDF_SHA256) {
        return -OV_E_UNKNOWN_KEY;
    }
    size_t ct_len = ov_reader_left(&r);
    if (ct_len < aead->nt) {
        return -OV_E_TRUNCATED;
    }
    uint8_t info[sizeof REQ_LABEL + OV_OHTTP_REQ_HDR_LEN], hdr[OV_OHTTP_REQ_HDR_LEN];
    size_t info_len = make_info(key_id, aead_id, info, hdr);
    size_t pt_len = ct_len - aead->nt;
    uint8_t ss[OV_HPKE_NSECRET];
    int rc = ov_buf_reserve(out, pt_len);
    if (rc == 0 && (ov_hpke_decap_pk(st->enc, k->sk, k->pk, ss) != 0 ||
                    ov_hpke_key_schedule(&st->hpke, aead, ss, info, info_len) != 0 ||
                    ov_hpke_open(&st->hpke, NULL, 0, enc_req.ptr + r.off, ct_len,
                                 out->ptr + out->len) != 0)) {
        rc = -OV_E_MALFORMED; /* a small-order enc or a bad tag: it does not decapsulate */
    }
    sodium_memzero(ss, sizeof ss);
    if (rc == 0) {
        out->len += pt_len;
    } else {
        ov_ohttp_server_clear(st);
    }
    return rc;
}

/* The response's AEAD key and nonce (§4.4 steps 1, 3-5). */
static int
response_keys(const struct ov_hpke_ctx *ctx, const uint8_t enc[OV_HPKE_NENC],
              const uint8_t *nonce, size_t nonce_len, uint8_t key[OV_HPKE_MAX_NK],
              uint8_t aead_nonce[OV_HPKE_MAX_NN])
{
    uint8_t secret[OV_HPKE_MAX_NK], salt[OV_HPKE_NENC + OV_HPKE_MAX_NK], prk[OV_HPKE_NH];
    memcpy(salt, enc, OV_HPKE_NENC);
    memcpy(salt + OV_HPKE_NENC, nonce, nonce_len);
    int rc = ov_hpke_export(ctx, (const uint8_t *)RES_LABEL, sizeof RES_LABEL - 1, secret,
                            nonce_len);
    if (rc == 0) {
        ov_hpke_hkdf_extract(salt, OV_HPKE_NENC + nonce_len, secret, nonce_len, prk);
        rc = ov_hpke_hkdf_expand(prk, (const uint8_t *)"key", 3, key, ctx->aead->nk);
        rc = rc ? rc
                : ov_hpke_hkdf_expand(prk, (const uint8_t *)"nonce", 5, aead_nonce,
                                      ctx->aead->nn);
    }
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(prk, sizeof prk);
    return rc;
}

static size_t
nonce_len(const struct ov_hpke_aead *a)
{
    return a->nn > a->nk ? a->nn : a->nk;
}

int
ov_ohttp_encap_response(const struct ov_ohttp_server *st, const uint8_t *response_nonce,
                        struct ov_bytes res, struct ov_buf *out)
{
    const struct ov_hpke_aead *aead = st->hpke.aead;
    if (aead == NULL) {
        return -OV_E_STATE;
    }
    uint8_t nonce[OV_HPKE_MAX_NK], key[OV_HPKE_MAX_NK], aead_nonce[OV_HPKE_MAX_NN];
    size_t n = nonce_len(aead), start = out->len;
    if (response_nonce != NULL) {
        memcpy(nonce, response_nonce, n);
    } else {
        randombytes_buf(nonce, n);
    }
    int rc = response_keys(&st->hpke, st->enc, nonce, n, key, aead_nonce);
    rc = rc ? rc : ov_buf_reserve(out, n + res.len + aead->nt);
    rc = rc ? rc : ov_buf_append(out, nonce, n);
    rc = rc ? rc : aead->seal(key, aead_nonce, NULL, 0, res.ptr, res.len, out->ptr + out->len);
    if (rc == 0) {
        out->len += res.len + aead->nt;
    } else {
        out->len = start;
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(aead_nonce, sizeof aead_nonce);
    return rc;
}

int
ov_ohttp_decap_response(const struct ov_ohttp_client *st, struct ov_bytes enc_res,
                        struct ov_buf *out)
{
    const struct ov_hpke_aead *aead = st->hpke.aead;
    if (aead == NULL) {
        return -OV_E_STATE;
    }
    size_t n = nonce_len(aead);
    if (enc_res.len < n + aead->nt) {
        return -OV_E_TRUNCATED;
    }
    uint8_t key[OV_HPKE_MAX_NK], aead_nonce[OV_HPKE_MAX_NN];
    size_t ct_len = enc_res.len - n, pt_len = ct_len - aead->nt;
    int rc = response_keys(&st->hpke, st->enc, enc_res.ptr, n, key, aead_nonce);
    rc = rc ? rc : ov_buf_reserve(out, pt_len);
    if (rc == 0 && aead->open(key, aead_nonce, NULL, 0, enc_res.ptr + n, ct_len,
                              out->ptr + out->len) != 0) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        out->len += pt_len;
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(aead_nonce, sizeof aead_nonce);
    return rc;
}
