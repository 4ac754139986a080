/* hpke: RFC 9180 Hybrid Public Key Encryption, base mode, for the one suite onevoice uses:
 * KEM DHKEM(X25519, HKDF-SHA256) (0x0020), KDF HKDF-SHA256 (0x0001), AEAD ChaCha20Poly1305
 * (0x0003), all on libsodium. Oblivious HTTP (protocol/ohttp) is its user.
 *
 * The AEAD sits behind `struct ov_hpke_aead`, a small table of {id, Nk, Nn, Nt, seal, open}:
 * production code uses ov_hpke_chacha20poly1305() only (the project takes nothing but RSA
 * and SHA-2 from libcrypto); a test may plug in another AEAD (AES-128-GCM, 0x0001) to
 * reproduce the RFCs' vectors that use it.
 *
 * A context (`struct ov_hpke_ctx`) is the caller's storage; it holds the AEAD key, the base
 * nonce, the sequence number and the exporter secret, and ov_hpke_ctx_clear wipes it.
 * Every intermediate secret (DH output, PRKs, shared secret) is wiped on every way out. */
#ifndef OV_HPKE_H
#define OV_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define OV_HPKE_KEM_X25519_SHA256 0x0020
#define OV_HPKE_KDF_HKDF_SHA256 0x0001
#define OV_HPKE_AEAD_AES128GCM 0x0001
#define OV_HPKE_AEAD_CHACHA20POLY1305 0x0003

#define OV_HPKE_NH 32    /* HKDF-SHA256 output */
#define OV_HPKE_NSK 32   /* X25519 secret key */
#define OV_HPKE_NPK 32   /* X25519 public key */
#define OV_HPKE_NENC 32  /* encapsulated key: the ephemeral public key */
#define OV_HPKE_NSECRET 32
#define OV_HPKE_MAX_NK 32 /* the largest AEAD key any table entry may have */
#define OV_HPKE_MAX_NN 12 /* the largest AEAD nonce */
#define OV_HPKE_MAX_NT 16 /* the largest AEAD tag */
/* RFC 9180 §4: LabeledExpand's L is at most 255 * Nh. */
#define OV_HPKE_MAX_EXPORT_LEN (255u * OV_HPKE_NH)

/* One AEAD. seal writes pt_len + nt bytes to ct; open writes ct_len - nt bytes to pt and
 * returns -OV_E_CRYPTO when the tag does not verify (pt then holds zeros). */
struct ov_hpke_aead {
    uint16_t id;
    size_t nk, nn, nt;
    int (*seal)(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                const uint8_t *pt, size_t pt_len, uint8_t *ct);
    int (*open)(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                const uint8_t *ct, size_t ct_len, uint8_t *pt);
};

/* ChaCha20Poly1305 (RFC 8439) through libsodium's IETF construction. */
const struct ov_hpke_aead *ov_hpke_chacha20poly1305(void);

struct ov_hpke_ctx {
    const struct ov_hpke_aead *aead;
    uint8_t suite_id[10]; /* "HPKE" || kem_id || kdf_id || aead_id */
    uint8_t key[OV_HPKE_MAX_NK];
    uint8_t base_nonce[OV_HPKE_MAX_NN];
    uint8_t exporter_secret[OV_HPKE_NH];
    uint64_t seq;
};

/* Wipes a context. Accepts NULL. */
void ov_hpke_ctx_clear(struct ov_hpke_ctx *ctx);

/* HKDF-SHA256 (RFC 5869) Extract and Expand, unlabeled (Oblivious HTTP's response keys use
 * them). An empty salt means Nh zero bytes. Expand: -OV_E_RANGE when len > 255 * Nh. */
void ov_hpke_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                          size_t ikm_len, uint8_t prk[OV_HPKE_NH]);
OV_MUST_CHECK int ov_hpke_hkdf_expand(const uint8_t prk[OV_HPKE_NH], const uint8_t *info,
                                      size_t info_len, uint8_t *out, size_t len);

/* A fresh X25519 key pair (randombytes), or the one RFC 9180 §7.1.3 DeriveKeyPair gives for
 * ikm. -OV_E_CRYPTO only if the library fails. */
OV_MUST_CHECK int ov_hpke_keygen(uint8_t sk[OV_HPKE_NSK], uint8_t pk[OV_HPKE_NPK]);
OV_MUST_CHECK int ov_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len,
                                         uint8_t sk[OV_HPKE_NSK], uint8_t pk[OV_HPKE_NPK]);
/* The public key of sk. -OV_E_CRYPTO if it is degenerate. */
OV_MUST_CHECK int ov_hpke_public_key(const uint8_t sk[OV_HPKE_NSK], uint8_t pk[OV_HPKE_NPK]);

/* DHKEM Encap/Decap (§4.1). skE: the ephemeral secret key, or NULL for a fresh random one
 * (a test passes the vector's). -OV_E_CRYPTO when the DH output is all zeros (a small-order
 * peer key). Outputs are zeroed on failure. */
OV_MUST_CHECK int ov_hpke_encap(const uint8_t pkR[OV_HPKE_NPK], const uint8_t *skE,
                                uint8_t shared_secret[OV_HPKE_NSECRET],
                                uint8_t enc[OV_HPKE_NENC]);
OV_MUST_CHECK int ov_hpke_decap(const uint8_t enc[OV_HPKE_NENC], const uint8_t skR[OV_HPKE_NSK],
                                uint8_t shared_secret[OV_HPKE_NSECRET]);
/* Decap with skR's public key given (a server that keeps it saves an X25519 base-point
 * multiplication a request); pkR must be skR's. */
OV_MUST_CHECK int ov_hpke_decap_pk(const uint8_t enc[OV_HPKE_NENC],
                                   const uint8_t skR[OV_HPKE_NSK],
                                   const uint8_t pkR[OV_HPKE_NPK],
                                   uint8_t shared_secret[OV_HPKE_NSECRET]);

/* KeySchedule for mode_base (§5.1): fills ctx from the shared secret and info.
 * -OV_E_RANGE for an AEAD table entry over the maxima above. */
OV_MUST_CHECK int ov_hpke_key_schedule(struct ov_hpke_ctx *ctx, const struct ov_hpke_aead *aead,
                                       const uint8_t shared_secret[OV_HPKE_NSECRET],
                                       const uint8_t *info, size_t info_len);

/* SetupBaseS / SetupBaseR (§5.1.1). skE as for ov_hpke_encap. On failure ctx is wiped. */
OV_MUST_CHECK int ov_hpke_setup_base_s(struct ov_hpke_ctx *ctx, const struct ov_hpke_aead *aead,
                                       const uint8_t pkR[OV_HPKE_NPK], const uint8_t *skE,
                                       const uint8_t *info, size_t info_len,
                                       uint8_t enc[OV_HPKE_NENC]);
OV_MUST_CHECK int ov_hpke_setup_base_r(struct ov_hpke_ctx *ctx, const struct ov_hpke_aead *aead,
                                       const uint8_t enc[OV_HPKE_NENC],
                                       const uint8_t skR[OV_HPKE_NSK], const uint8_t *info,
                                       size_t info_len);

/* Seal/Open (§5.2) with the context's next nonce; the sequence number then advances.
 * ct holds pt_len + aead->nt bytes; pt holds ct_len - aead->nt. Open: -OV_E_CRYPTO on a
 * bad tag (the sequence number then stays), -OV_E_TRUNCATED for ct shorter than a tag,
 * -OV_E_RANGE when the sequence number would overflow the nonce. */
OV_MUST_CHECK int ov_hpke_seal(struct ov_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                               const uint8_t *pt, size_t pt_len, uint8_t *ct);
OV_MUST_CHECK int ov_hpke_open(struct ov_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                               const uint8_t *ct, size_t ct_len, uint8_t *pt);

/* Export (§5.3): len bytes (at most OV_HPKE_MAX_EXPORT_LEN, else -OV_E_RANGE). */
OV_MUST_CHECK int ov_hpke_export(const struct ov_hpke_ctx *ctx, const uint8_t *exporter_context,
                                 size_t exporter_context_len, uint8_t *out, size_t len);

/* Single-shot SealBase / OpenBase (§6.1): setup, one Seal or Open, context wiped. */
OV_MUST_CHECK int ov_hpke_seal_base(const struct ov_hpke_aead *aead,
                                    const uint8_t pkR[OV_HPKE_NPK], const uint8_t *info,
                                    size_t info_len, const uint8_t *aad, size_t aad_len,
                                    const uint8_t *pt, size_t pt_len, uint8_t enc[OV_HPKE_NENC],
                                    uint8_t *ct);
OV_MUST_CHECK int ov_hpke_open_base(const struct ov_hpke_aead *aead,
                                    const uint8_t enc[OV_HPKE_NENC],
                                    const uint8_t skR[OV_HPKE_NSK], const uint8_t *info,
                                    size_t info_len, const uint8_t *aad, size_t aad_len,
                                    const uint8_t *ct, size_t ct_len, uint8_t *pt);

#endif
