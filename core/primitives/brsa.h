/* brsa: RSA blind signatures, RFC 9474 (RSABSSA-SHA384-*), over OpenSSL 3 (EVP, BN and
 * OSSL_PARAM only). Owns the RSA key objects: a public key (struct ov_brsa_pk) and a
 * private key (struct ov_brsa_sk), whose d, p, q and CRT values live only inside OpenSSL.
 *
 * The protocol, for one message (RFC 9474 §4):
 *   client  prepared = Prepare(msg)                 ov_brsa_prepare
 *   client  blinded_msg, inv = Blind(pk, prepared)  ov_brsa_blind
 *   issuer  blind_sig = BlindSign(sk, blinded_msg)  ov_brsa_blind_sign
 *   client  sig = Finalize(pk, prepared, blind_sig, inv)   ov_brsa_finalize (verifies sig)
 *   anyone  Verify(pk, prepared, sig)               ov_brsa_verify
 * `inv` is the client's secret: whoever learns it links blinded_msg to sig.
 *
 * Byte strings that are integers mod n (blinded_msg, inv, blind_sig, sig) are exactly
 * ov_brsa_pk_modulus_len(pk) bytes, big-endian. Keys and contexts are immutable once
 * made, so one key may serve many threads at once. */
#ifndef OV_BRSA_H
#define OV_BRSA_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"

/* The four variants of RFC 9474 §5 (all SHA-384 with MGF1-SHA-384). */
enum ov_brsa_variant {
    OV_BRSA_PSS_RANDOMIZED,         /* RSABSSA-SHA384-PSS-Randomized: salt 48, prefix 32 */
    OV_BRSA_PSSZERO_RANDOMIZED,     /* RSABSSA-SHA384-PSSZERO-Randomized: salt 0, prefix 32 */
    OV_BRSA_PSS_DETERMINISTIC,      /* RSABSSA-SHA384-PSS-Deterministic: salt 48, no prefix */
    OV_BRSA_PSSZERO_DETERMINISTIC   /* RSABSSA-SHA384-PSSZERO-Deterministic: salt 0, no prefix */
};

#define OV_BRSA_HASH_LEN 48        /* SHA-384 */
#define OV_BRSA_SALT_LEN 48        /* the PSS variants' sLen (= hLen) */
#define OV_BRSA_PREFIX_LEN 32      /* the randomized variants' msg_prefix (§4.1) */
#define OV_BRSA_MIN_MODULUS_BITS 2048
#define OV_BRSA_MAX_MODULUS_BITS 4096
#define OV_BRSA_MAX_MODULUS_LEN (OV_BRSA_MAX_MODULUS_BITS / 8)
/* The public exponent must fit 32 bits (keygen always uses 65537). */
#define OV_BRSA_MAX_E_LEN 4
/* Largest DER RSAPublicKey we read or write (4096-bit n, 4-byte e). */
#define OV_BRSA_MAX_PK_DER_LEN (4 + 4 + OV_BRSA_MAX_MODULUS_LEN + 1 + 2 + OV_BRSA_MAX_E_LEN + 1)
/* Largest private key we load: PKCS#8 DER, or its PEM text. */
#define OV_BRSA_MAX_SK_DER_LEN 4096
#define OV_BRSA_MAX_SK_PEM_LEN 8192

struct ov_brsa_pk;
struct ov_brsa_sk;

/* ---- keys ---- */

/* A fresh key pair: `modulus_bits` a multiple of 8 in [OV_BRSA_MIN_MODULUS_BITS,
 * OV_BRSA_MAX_MODULUS_BITS], e = 65537. -OV_E_RANGE for another size, -OV_E_CRYPTO, -OV_E_NOMEM. The caller owns
 * *out (ov_brsa_sk_free); *out is NULL on failure. */
OV_MUST_CHECK int ov_brsa_keygen(unsigned modulus_bits, struct ov_brsa_sk **out);

/* Loads an unencrypted PKCS#8 RSA private key (rsaEncryption) from DER or from PEM
 * ("-----BEGIN PRIVATE KEY-----", LF line ends). The key must pass OpenSSL's pairwise
 * consistency check and the size rules of ov_brsa_keygen. -OV_E_TOO_BIG, -OV_E_MALFORMED,
 * -OV_E_RANGE, -OV_E_NOMEM. Intermediate DER copies are wiped. The caller owns *out and
 * still owns (and should wipe) `in`. */
OV_MUST_CHECK int ov_brsa_sk_load(struct ov_bytes in, struct ov_brsa_sk **out);

/* A private key from its big-endian parts (the form RFC 9474 Appendix A prints); the CRT
 * values are derived. Checks as ov_brsa_sk_load. The caller owns *out. */
OV_MUST_CHECK int ov_brsa_sk_from_parts(struct ov_bytes n, struct ov_bytes e, struct ov_bytes d,
                                        struct ov_bytes p, struct ov_bytes q,
                                        struct ov_brsa_sk **out);

/* Writes the private key as PKCS#8 DER into out (give it sodium_malloc memory; wipe it
 * after use). -OV_E_TOO_BIG if out_max is short, -OV_E_CRYPTO. *out_len is 0 on failure. */
OV_MUST_CHECK int ov_brsa_sk_to_pkcs8(const struct ov_brsa_sk *sk, uint8_t *out, size_t out_max,
                                      size_t *out_len);

/* Frees the key; OpenSSL clears the secret numbers. Accepts NULL. */
void ov_brsa_sk_free(struct ov_brsa_sk *sk);

/* The public half, borrowed: valid as long as sk. */
const struct ov_brsa_pk *ov_brsa_sk_pk(const struct ov_brsa_sk *sk);

/* Parses a DER RSAPublicKey (RFC 8017 A.1.1: SEQUENCE { n INTEGER, e INTEGER }), strictly:
 * minimal DER, n odd with OV_BRSA_MIN..MAX_MODULUS_BITS bits, e odd, 3 <= e < 2^32, no
 * trailing bytes. -OV_E_TRUNCATED, -OV_E_TRAILING, -OV_E_MALFORMED, -OV_E_NONCANONICAL,
 * -OV_E_RANGE, -OV_E_NOMEM, -OV_E_CRYPTO. The caller owns *out (ov_brsa_pk_free). */
OV_MUST_CHECK int ov_brsa_pk_from_der(struct ov_bytes der, struct ov_brsa_pk **out);

/* Writes the DER RSAPublicKey; the exact inverse of ov_brsa_pk_from_der.
 * -OV_E_TOO_BIG if out_max is short (OV_BRSA_MAX_PK_DER_LEN always suffices). */
OV_MUST_CHECK int ov_brsa_pk_to_der(const struct ov_brsa_pk *pk, uint8_t *out, size_t out_max,
                                    size_t *out_len);

/* An independent copy that the caller owns. -OV_E_NOMEM, -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_brsa_pk_dup(const struct ov_brsa_pk *pk, struct ov_brsa_pk **out);

/* Frees a public key from ov_brsa_pk_from_der or ov_brsa_pk_dup. Accepts NULL. */
void ov_brsa_pk_free(struct ov_brsa_pk *pk);

/* The modulus size in bytes (the length of every blinded message and signature) and bits. */
size_t ov_brsa_pk_modulus_len(const struct ov_brsa_pk *pk);
unsigned ov_brsa_pk_modulus_bits(const struct ov_brsa_pk *pk);

/* ---- the protocol ---- */

/* Prepare (§4.1): appends to `prepared` the message the variant signs: 32 random bytes then
 * msg (randomized variants), or msg itself (deterministic ones). -OV_E_TOO_BIG past the
 * buffer's max, -OV_E_NOMEM; `prepared` is left as it was on failure. */
OV_MUST_CHECK int ov_brsa_prepare(enum ov_brsa_variant v, struct ov_bytes msg,
                                  struct ov_buf *prepared);

/* Blind (§4.2): blinded_msg and inv, each `len` = modulus_len bytes, for a prepared
 * message. -OV_E_RANGE if len is wrong, -OV_E_MALFORMED if the encoded message shares a
 * factor with n ("invalid input"), -OV_E_CRYPTO, -OV_E_NOMEM. Both outputs are zeroed on
 * failure. The caller owns inv, a secret: keep it for Finalize, then wipe it. */
OV_MUST_CHECK int ov_brsa_blind(const struct ov_brsa_pk *pk, enum ov_brsa_variant v,
                                struct ov_bytes prepared, uint8_t *blinded_msg, uint8_t *inv,
                                size_t len);

/* BlindSign (§4.3), the issuer: blind_sig = blinded_msg^d mod n, computed by OpenSSL's
 * blinded CRT private operation, then checked by blind_sig^e == blinded_msg as the RFC
 * requires. `blind_sig_len` must be modulus_len. -OV_E_MALFORMED for a blinded_msg that is
 * not modulus_len bytes, -OV_E_RANGE for one >= n, -OV_E_CRYPTO (including a failed
 * check: no faulty signature ever leaves), -OV_E_NOMEM. blind_sig is zeroed on failure. */
OV_MUST_CHECK int ov_brsa_blind_sign(const struct ov_brsa_sk *sk, struct ov_bytes blinded_msg,
                                     uint8_t *blind_sig, size_t blind_sig_len);

/* Finalize (§4.4): unblinds blind_sig with inv into sig (`len` = modulus_len bytes each)
 * and verifies sig over the prepared message; a signature that does not verify is never
 * returned. -OV_E_RANGE if inv or len has the wrong size, -OV_E_MALFORMED if blind_sig
 * does, -OV_E_BAD_SIG, -OV_E_CRYPTO, -OV_E_NOMEM. sig is zeroed on failure. */
OV_MUST_CHECK int ov_brsa_finalize(const struct ov_brsa_pk *pk, enum ov_brsa_variant v,
                                   struct ov_bytes prepared, struct ov_bytes blind_sig,
                                   const uint8_t *inv, size_t inv_len, uint8_t *sig, size_t len);

/* Verify (RSASSA-PSS-VERIFY, RFC 8017 §8.1.2, with SHA-384, MGF1-SHA-384 and the variant's
 * salt length) of sig over the prepared message. 0 if valid; -OV_E_BAD_SIG otherwise
 * (including a sig that is not modulus_len bytes); -OV_E_CRYPTO, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_brsa_verify(const struct ov_brsa_pk *pk, enum ov_brsa_variant v,
                                 struct ov_bytes prepared, struct ov_bytes sig);

/* ---- for known-answer tests only ----
 * Blind with a caller-chosen blinding factor r (1 <= r < n, modulus_len bytes, NOT its
 * inverse) and PSS salt (48 bytes for the PSS variants, empty for PSSZERO), and also
 * returns encoded_msg (EMSA-PSS-ENCODE output, emLen = ceil((modBits-1)/8) bytes; pass
 * its capacity in encoded_max). A reused or known r or salt breaks unlinkability, so
 * nothing but tests may call this. Fails as ov_brsa_blind, and with -OV_E_RANGE for r or
 * salt of the wrong size or value. */
OV_MUST_CHECK int ov_brsa_blind_for_testing(const struct ov_brsa_pk *pk, enum ov_brsa_variant v,
                                            struct ov_bytes prepared, struct ov_bytes salt,
                                            struct ov_bytes r, uint8_t *encoded_msg,
                                            size_t encoded_max, size_t *encoded_len,
                                            uint8_t *blinded_msg, uint8_t *inv, size_t len);

#endif
