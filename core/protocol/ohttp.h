/* ohttp: RFC 9458 Oblivious HTTP messages: key configurations (§3, application/ohttp-keys),
 * Encapsulated Requests (§4.3, message/ohttp-req) and Encapsulated Responses (§4.4,
 * message/ohttp-res), both sides, over primitives/hpke. The plaintext is a Binary HTTP
 * message (protocol/bhttp); this module does not look inside it. docs/PROTOCOL.md §13.
 *
 * Only KEM DHKEM(X25519, HKDF-SHA256) and KDF HKDF-SHA256 are known; the AEADs a key accepts
 * are its table entries (production: ChaCha20Poly1305 alone). A client keeps a
 * `struct ov_ohttp_client` between its request and the response; a gateway keeps a
 * `struct ov_ohttp_server` between decapsulating and answering. Both hold secrets: clear
 * them with the matching _clear on every way out. */
#ifndef OV_OHTTP_H
#define OV_OHTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/hpke.h"

#define OV_OHTTP_MAX_ALGS 4      /* (KDF, AEAD) pairs in one key configuration */
#define OV_OHTTP_MAX_CONFIGS 8   /* configurations in one application/ohttp-keys */
#define OV_OHTTP_MAX_KEYS_LEN 4096
#define OV_OHTTP_REQ_HDR_LEN 7   /* key_id (1), kem_id, kdf_id, aead_id (2 each) */
#define OV_OHTTP_REQ_OVERHEAD (OV_OHTTP_REQ_HDR_LEN + OV_HPKE_NENC + OV_HPKE_MAX_NT)
#define OV_OHTTP_RES_OVERHEAD (OV_HPKE_MAX_NK + OV_HPKE_MAX_NT)

struct ov_ohttp_alg {
    uint16_t kdf_id, aead_id;
};

/* A gateway's public key configuration (§3.1). */
struct ov_ohttp_config {
    uint8_t key_id;
    uint16_t kem_id;
    uint8_t pk[OV_HPKE_NPK];
    struct ov_ohttp_alg algs[OV_OHTTP_MAX_ALGS];
    size_t n_algs;
};

/* A gateway's private key: its id, the X25519 pair and the AEADs it accepts. */
struct ov_ohttp_key {
    uint8_t key_id;
    uint8_t sk[OV_HPKE_NSK];
    uint8_t pk[OV_HPKE_NPK];
    const struct ov_hpke_aead *aeads[OV_OHTTP_MAX_ALGS];
    size_t n_aeads;
};

struct ov_ohttp_client {
    struct ov_hpke_ctx hpke;
    uint8_t enc[OV_HPKE_NENC];
};

struct ov_ohttp_server {
    struct ov_hpke_ctx hpke;
    uint8_t enc[OV_HPKE_NENC];
};

void ov_ohttp_client_clear(struct ov_ohttp_client *c);
void ov_ohttp_server_clear(struct ov_ohttp_server *s);

/* The public configuration of a key (HKDF-SHA256 with each of its AEADs). */
void ov_ohttp_key_config(const struct ov_ohttp_key *k, struct ov_ohttp_config *out);

/* One Key Config (§3.1), without the list's length prefix, appended to out. */
OV_MUST_CHECK int ov_ohttp_config_encode(const struct ov_ohttp_config *c, struct ov_buf *out);
/* application/ohttp-keys (§3.2): each config with a 2-byte length, appended to out. */
OV_MUST_CHECK int ov_ohttp_keys_encode(const struct ov_ohttp_config *c, size_t n,
                                       struct ov_buf *out);
/* Parses application/ohttp-keys strictly (§3.2: an encoding error discards the whole list).
 * Configs of an unknown KEM are skipped (their length says where they end); known ones
 * must be exact: a symmetric-algorithms length that is a multiple of 4 in 4..65532 and no
 * byte left over. -OV_E_TRUNCATED, -OV_E_MALFORMED, -OV_E_TOO_BIG (past
 * OV_OHTTP_MAX_KEYS_LEN, max configs, or OV_OHTTP_MAX_ALGS), -OV_E_NOT_FOUND when no
 * config is usable. *n is the number written to out[0..max). */
OV_MUST_CHECK int ov_ohttp_keys_parse(struct ov_bytes in, struct ov_ohttp_config *out,
                                      size_t max, size_t *n);

/* Client: encapsulates the Binary HTTP request `req` for configuration c with `aead`
 * (which c must list with HKDF-SHA256: else -OV_E_UNKNOWN_KEY), appending the Encapsulated
 * Request to out and keeping what opens the response in *st. skE: NULL (fresh random) or a
 * test vector's ephemeral key. */
OV_MUST_CHECK int ov_ohttp_encap_request(const struct ov_ohttp_config *c,
                                         const struct ov_hpke_aead *aead, const uint8_t *skE,
                                         struct ov_bytes req, struct ov_buf *out,
                                         struct ov_ohttp_client *st);

/* Gateway: decapsulates an Encapsulated Request with the key its key_id names, appending the
 * Binary HTTP request to out. -OV_E_TRUNCATED (shorter than header, enc and a tag),
 * -OV_E_UNKNOWN_KEY (no key with that id, another KEM or KDF, an AEAD the key does not
 * accept: §4.3 step 1, answered with the "ohttp-key" problem type), -OV_E_MALFORMED (it
 * does not decrypt), -OV_E_TOO_BIG (out's cap). *st then opens the response. */
OV_MUST_CHECK int ov_ohttp_decap_request(const struct ov_ohttp_key *keys, size_t n_keys,
                                         struct ov_bytes enc_req, struct ov_buf *out,
                                         struct ov_ohttp_server *st);

/* Gateway: the Encapsulated Response for Binary HTTP response `res`, appended to out.
 * response_nonce: NULL (fresh random, max(Nn, Nk) bytes) or a test vector's. */
OV_MUST_CHECK int ov_ohttp_encap_response(const struct ov_ohttp_server *st,
                                          const uint8_t *response_nonce, struct ov_bytes res,
                                          struct ov_buf *out);

/* Client: opens an Encapsulated Response, appending the Binary HTTP response to out.
 * -OV_E_TRUNCATED, -OV_E_MALFORMED (it does not decrypt), -OV_E_TOO_BIG. */
OV_MUST_CHECK int ov_ohttp_decap_response(const struct ov_ohttp_client *st,
                                          struct ov_bytes enc_res, struct ov_buf *out);

#endif
