/* wexport: see wexport.h for the layout. */
#include "protocol/wexport.h"

#include <string.h>

#include <sodium.h>

#include "base/reader.h"

_Static_assert(OV_WEXPORT_SALT_LEN == crypto_pwhash_SALTBYTES, "Argon2id salt size");
_Static_assert(OV_WEXPORT_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(OV_WEXPORT_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag");
_Static_assert(OV_WEXPORT_HEADER_LEN == OV_WEXPORT_MAGIC_LEN + 1 + 1 + 4 + 4 +
                                            OV_WEXPORT_SALT_LEN + OV_WEXPORT_NONCE_LEN + 8,
               "header layout");
_Static_assert(sizeof OV_WEXPORT_MAGIC - 1 == OV_WEXPORT_MAGIC_LEN, "magic");

static int
params_ok(uint32_t ops, uint32_t mem_kib)
{
    if (ops < OV_WEXPORT_MIN_OPS || ops > OV_WEXPORT_MAX_OPS || mem_kib < OV_WEXPORT_MIN_MEM_KIB ||
        mem_kib > OV_WEXPORT_MAX_MEM_KIB) {
        return -OV_E_RANGE;
    }
    return 0;
}

int
ov_wexport_parse(struct ov_bytes in, struct ov_wexport_hdr *h)
{
    struct ov_reader r;
    struct ov_bytes magic;
    memset(h, 0, sizeof *h);
    if (in.len > OV_WEXPORT_MAX_LEN) {
        return -OV_E_TOO_BIG;
    }
    ov_reader_init(&r, in);
    ov_reader_bytes(&r, OV_WEXPORT_MAGIC_LEN, &magic);
    uint8_t version = ov_reader_u8(&r);
    uint8_t kdf = ov_reader_u8(&r);
    h->opslimit = ov_reader_u32be(&r);
    h->mem_kib = ov_reader_u32be(&r);
    ov_reader_copy(&r, h->salt, sizeof h->salt);
    ov_reader_copy(&r, h->nonce, sizeof h->nonce);
    uint64_t n = ov_reader_u64be(&r);
    if (r.err == 0 && (memcmp(magic.ptr, OV_WEXPORT_MAGIC, OV_WEXPORT_MAGIC_LEN) != 0 ||
                       version != OV_WEXPORT_VERSION || kdf != OV_WEXPORT_KDF_ARGON2ID13 ||
                       n < OV_WEXPORT_TAG_LEN)) {
        (void)ov_reader_fail(&r, -OV_E_MALFORMED);
    }
    if (r.err == 0 && n > OV_WEXPORT_MAX_PLAIN_LEN + OV_WEXPORT_TAG_LEN) {
        (void)ov_reader_fail(&r, -OV_E_TOO_BIG);
    }
    if (r.err == 0) {
        (void)ov_reader_fail(&r, params_ok(h->opslimit, h->mem_kib));
    }
    ov_reader_bytes(&r, r.err == 0 ? (size_t)n : 0, &h->ciphertext);
    int rc = ov_reader_end(&r);
    if (rc != 0) {
        memset(h, 0, sizeof *h);
        return rc;
    }
    h->header = OV_BYTES(in.ptr, OV_WEXPORT_HEADER_LEN);
    return 0;
}

/* The AEAD key from the passphrase, into guarded memory (sodium_free it). */
static int
derive(const char *pass, size_t pass_len, const uint8_t salt[OV_WEXPORT_SALT_LEN], uint32_t ops,
       uint32_t mem_kib, uint8_t **key)
{
    *key = NULL;
    if (pass_len == 0 || pass_len > OV_WEXPORT_MAX_PASS_LEN) {
        return -OV_E_RANGE;
    }
    uint8_t *k = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    if (k == NULL) {
        return -OV_E_NOMEM;
    }
    if (crypto_pwhash(k, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, pass_len, salt, ops,
                      (size_t)mem_kib * 1024u, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_free(k);
        return -OV_E_NOMEM; /* Argon2id fails only when its memory cannot be had */
    }
    *key = k;
    return 0;
}

int
ov_wexport_seal(struct ov_bytes plain, const char *pass, size_t pass_len, uint32_t opslimit,
                uint32_t mem_kib, struct ov_buf *out)
{
    uint8_t salt[OV_WEXPORT_SALT_LEN], nonce[OV_WEXPORT_NONCE_LEN];
    uint8_t *key = NULL;
    ov_buf_init(out, OV_WEXPORT_MAX_LEN);
    if (opslimit == 0 && mem_kib == 0) {
        opslimit = OV_WEXPORT_DEFAULT_OPS;
        mem_kib = OV_WEXPORT_DEFAULT_MEM_KIB;
    }
    if (plain.len > OV_WEXPORT_MAX_PLAIN_LEN) {
        return -OV_E_TOO_BIG;
    }
    int rc = params_ok(opslimit, mem_kib);
    if (rc != 0) {
        return rc;
    }
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    rc = derive(pass, pass_len, salt, opslimit, mem_kib, &key);
    rc = rc ? rc : ov_buf_reserve(out, OV_WEXPORT_HEADER_LEN + plain.len + OV_WEXPORT_TAG_LEN);
    if (rc == 0) {
        struct ov_writer w;
        ov_writer_init(&w, out->ptr, OV_WEXPORT_HEADER_LEN);
        ov_writer_bytes(&w, OV_WEXPORT_MAGIC, OV_WEXPORT_MAGIC_LEN);
        ov_writer_u8(&w, OV_WEXPORT_VERSION);
        ov_writer_u8(&w, OV_WEXPORT_KDF_ARGON2ID13);
        ov_writer_u32be(&w, opslimit);
        ov_writer_u32be(&w, mem_kib);
        ov_writer_bytes(&w, salt, sizeof salt);
        ov_writer_bytes(&w, nonce, sizeof nonce);
        ov_writer_u64be(&w, (uint64_t)plain.len + OV_WEXPORT_TAG_LEN);
        rc = ov_writer_end(&w);
    }
    if (rc == 0) {
        unsigned long long clen = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(out->ptr + OV_WEXPORT_HEADER_LEN, &clen,
                                                   plain.ptr, plain.len, out->ptr,
                                                   OV_WEXPORT_HEADER_LEN, NULL, nonce, key);
        out->len = OV_WEXPORT_HEADER_LEN + (size_t)clen;
    }
    sodium_free(key);
    if (rc != 0) {
        ov_buf_clear(out);
        ov_buf_init(out, OV_WEXPORT_MAX_LEN);
    }
    return rc;
}

int
ov_wexport_open(struct ov_bytes in, const char *pass, size_t pass_len, uint8_t **plain,
                size_t *plain_len)
{
    struct ov_wexport_hdr h;
    uint8_t *key = NULL, *p = NULL;
    unsigned long long n = 0;
    *plain = NULL;
    *plain_len = 0;
    int rc = ov_wexport_parse(in, &h);
    rc = rc ? rc : derive(pass, pass_len, h.salt, h.opslimit, h.mem_kib, &key);
    if (rc == 0) {
        /* sodium_malloc(0) is allowed and gives a valid pointer */
        p = sodium_malloc(h.ciphertext.len - OV_WEXPORT_TAG_LEN);
        rc = p ? 0 : -OV_E_NOMEM;
    }
    if (rc == 0 && crypto_aead_xchacha20poly1305_ietf_decrypt(
                       p, &n, NULL, h.ciphertext.ptr, h.ciphertext.len, h.header.ptr,
                       h.header.len, h.nonce, key) != 0) {
        rc = -OV_E_BAD_SIG;
    }
    sodium_free(key);
    if (rc != 0) {
        sodium_free(p);
        return rc;
    }
    *plain = p;
    *plain_len = (size_t)n;
    return 0;
}
