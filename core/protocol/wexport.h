/* wexport: the wallet export file (docs/PROTOCOL.md §9): a wallet's bytes encrypted under a
 * passphrase, Argon2id (libsodium crypto_pwhash, ALG_ARGON2ID13) deriving the key of an
 * XChaCha20-Poly1305 (IETF) AEAD whose associated data is the whole header.
 *
 *   | offset | bytes | field                                                         |
 *   |--------|-------|---------------------------------------------------------------|
 *   | 0      | 16    | magic "onevoice-wallet\n"                                      |
 *   | 16     | 1     | format version, 1                                             |
 *   | 17     | 1     | KDF: 1 = Argon2id v1.3                                        |
 *   | 18     | 4     | opslimit, u32 big-endian, OV_WEXPORT_MIN_OPS..OV_WEXPORT_MAX_OPS |
 *   | 22     | 4     | memlimit in KiB, u32 big-endian, OV_WEXPORT_MIN_MEM_KIB..     |
 *   |        |       | OV_WEXPORT_MAX_MEM_KIB                                        |
 *   | 26     | 16    | salt (random)                                                 |
 *   | 42     | 24    | nonce (random)                                                |
 *   | 66     | 8     | length of what follows, u64 big-endian: plaintext + 16        |
 *   | 74     | n     | ciphertext with its 16-byte tag; AD = bytes 0..74             |
 *
 * Nothing may follow the ciphertext. The bounds keep a hostile file from making the reader
 * allocate or compute without limit (memlimit is what Argon2id allocates). */
#ifndef OV_WEXPORT_H
#define OV_WEXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"

#define OV_WEXPORT_MAGIC "onevoice-wallet\n"
#define OV_WEXPORT_MAGIC_LEN 16
#define OV_WEXPORT_VERSION 1
#define OV_WEXPORT_KDF_ARGON2ID13 1
#define OV_WEXPORT_SALT_LEN 16
#define OV_WEXPORT_NONCE_LEN 24
#define OV_WEXPORT_TAG_LEN 16
#define OV_WEXPORT_HEADER_LEN 74
#define OV_WEXPORT_MAX_PLAIN_LEN (256u << 20) /* a wallet of 256 MiB is far beyond any */
#define OV_WEXPORT_MAX_LEN (OV_WEXPORT_HEADER_LEN + OV_WEXPORT_MAX_PLAIN_LEN + OV_WEXPORT_TAG_LEN)
#define OV_WEXPORT_MIN_OPS 1u
#define OV_WEXPORT_MAX_OPS 32u
#define OV_WEXPORT_MIN_MEM_KIB 8u              /* libsodium's minimum, 8 KiB */
#define OV_WEXPORT_MAX_MEM_KIB (1024u * 1024u)  /* 1 GiB */
#define OV_WEXPORT_MAX_PASS_LEN 1024
/* Defaults for export: libsodium's MODERATE Argon2id parameters (3 passes, 256 MiB). */
#define OV_WEXPORT_DEFAULT_OPS 3u
#define OV_WEXPORT_DEFAULT_MEM_KIB (256u * 1024u)

struct ov_wexport_hdr {
    uint32_t opslimit;
    uint32_t mem_kib;
    uint8_t salt[OV_WEXPORT_SALT_LEN];
    uint8_t nonce[OV_WEXPORT_NONCE_LEN];
    struct ov_bytes header;     /* the 74 header bytes (the AD), in the parsed input */
    struct ov_bytes ciphertext; /* tag included, in the parsed input */
};

/* Parses the layout (no crypto). -OV_E_TRUNCATED, -OV_E_TRAILING, -OV_E_TOO_BIG (over
 * OV_WEXPORT_MAX_LEN), -OV_E_MALFORMED (magic, version, KDF), -OV_E_RANGE (a parameter
 * outside its bounds). *h zeroed on failure; its views borrow from in. */
OV_MUST_CHECK int ov_wexport_parse(struct ov_bytes in, struct ov_wexport_hdr *h);

/* Encrypts plain (at most OV_WEXPORT_MAX_PLAIN_LEN bytes) under pass with the given
 * Argon2id parameters (0, 0: the defaults) into out (initialised here; not secret).
 * -OV_E_TOO_BIG, -OV_E_RANGE (parameters, or an empty or over-long passphrase),
 * -OV_E_NOMEM (Argon2id could not get its memory), -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_wexport_seal(struct ov_bytes plain, const char *pass, size_t pass_len,
                                  uint32_t opslimit, uint32_t mem_kib, struct ov_buf *out);

/* Decrypts an export file. On success *plain is in sodium_malloc memory (guarded, wiped
 * by sodium_free: the caller's to free with it) of *plain_len bytes. -OV_E_BAD_SIG for a
 * wrong passphrase or a damaged file (the two cannot be told apart), the errors of
 * ov_wexport_parse, -OV_E_RANGE (passphrase length), -OV_E_NOMEM. *plain NULL on failure. */
OV_MUST_CHECK int ov_wexport_open(struct ov_bytes in, const char *pass, size_t pass_len,
                                  uint8_t **plain, size_t *plain_len);

#endif
