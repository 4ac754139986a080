/* codec: hex, base64 and base64url, thin wrappers over libsodium's constant-time codecs.
 * Decoders are strict: no whitespace, no junk, padding exactly as the variant demands,
 * unused bits zero. Each decoder takes an output capacity and reports the length written. */
#ifndef OV_CODEC_H
#define OV_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"

enum ov_b64 {
    OV_B64_STD,          /* RFC 4648 §4, padded (C2SP notes) */
    OV_B64_STD_NOPAD,
    OV_B64_URL,          /* RFC 4648 §5, padded */
    OV_B64_URL_NOPAD     /* RFC 4648 §5, unpadded (RFC 9577 tokens) */
};

/* Lowercase hex into out (needs 2*n+1 bytes, NUL-terminated). */
OV_MUST_CHECK int ov_hex_encode(char *out, size_t out_max, const uint8_t *in, size_t n);
OV_MUST_CHECK int ov_hex_decode(uint8_t *out, size_t out_max, size_t *out_len,
                                const char *in, size_t in_len);
/* The exact size of the encoding, NUL included. */
size_t ov_b64_encoded_size(size_t n, enum ov_b64 v);
OV_MUST_CHECK int ov_b64_encode(char *out, size_t out_max, const uint8_t *in, size_t n,
                                enum ov_b64 v);
OV_MUST_CHECK int ov_b64_decode(uint8_t *out, size_t out_max, size_t *out_len,
                                const char *in, size_t in_len, enum ov_b64 v);
/* ov_b64_decode(..., OV_B64_URL_NOPAD) for bytes that are public (tokens, signatures,
 * public keys, all bound for the log): table-driven, so not constant-time, and several
 * times faster than libsodium's; the same strictness and results (tests/unit/test_codec
 * compares them on random input). */
OV_MUST_CHECK int ov_b64url_decode_public(uint8_t *out, size_t out_max, size_t *out_len,
                                          const char *in, size_t in_len);
/* ov_buf_append_b64(b, in, n, OV_B64_STD) for public bytes (log entries, hashes): a table
 * encoder, not constant-time, the same output (test_codec compares them). */
OV_MUST_CHECK int ov_buf_append_b64_public(struct ov_buf *b, const uint8_t *in, size_t n);
/* Appends the encoding (no NUL) to an ov_buf. */
OV_MUST_CHECK int ov_buf_append_b64(struct ov_buf *b, const uint8_t *in, size_t n, enum ov_b64 v);
OV_MUST_CHECK int ov_buf_append_hex(struct ov_buf *b, const uint8_t *in, size_t n);

/* Strict unsigned decimal: 1..20 digits, no sign, no space, no leading zero (but "0"),
 * no overflow. -OV_E_MALFORMED, -OV_E_NONCANONICAL (leading zero), -OV_E_RANGE. */
OV_MUST_CHECK int ov_parse_u64(const char *s, size_t len, uint64_t *out);

#endif
