/* bhttp: RFC 9292 Binary HTTP messages, known-length form only (framing indicators 0 and 1),
 * the plaintext Oblivious HTTP carries (protocol/ohttp, docs/PROTOCOL.md §13).
 *
 * A decoded message is a set of views into the input (the caller keeps the input alive).
 * Decoding is strict: indeterminate-length framing (2, 3) and informational (1xx) responses
 * are refused with -OV_E_RANGE; pseudo-header fields (names starting with ':'), field names
 * that are not lowercase RFC 9110 tokens, values with NUL, CR, LF or surrounding
 * whitespace (RFC 9113 §8.2.1), non-zero padding and truncation anywhere but before a
 * section's length (RFC 9292 §3.8) are -OV_E_MALFORMED or -OV_E_TRUNCATED. Varints need not
 * be minimal (RFC 9292 §3); the encoder writes them minimal.
 * Limits: OV_BHTTP_MAX_LEN bytes in all, OV_BHTTP_MAX_FIELDS field lines per section,
 * OV_BHTTP_MAX_NAME_LEN / OV_BHTTP_MAX_VALUE_LEN per field line, OV_BHTTP_MAX_CONTROL_LEN
 * per control field (method, scheme, authority, path); past one: -OV_E_TOO_BIG. */
#ifndef OV_BHTTP_H
#define OV_BHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"

#define OV_BHTTP_MAX_LEN (4u << 20)
#define OV_BHTTP_MAX_FIELDS 32
#define OV_BHTTP_MAX_NAME_LEN 128
#define OV_BHTTP_MAX_VALUE_LEN 4096
#define OV_BHTTP_MAX_CONTROL_LEN 4096

struct ov_bhttp_field {
    struct ov_bytes name, value;
};

struct ov_bhttp_section {
    struct ov_bhttp_field f[OV_BHTTP_MAX_FIELDS];
    size_t n;
};

struct ov_bhttp_msg {
    bool response;
    struct ov_bytes method, scheme, authority, path; /* a request's control data */
    unsigned status;                                 /* a response's: 200..599 */
    struct ov_bhttp_section headers, trailers;
    struct ov_bytes content;
};

/* Decodes one known-length message of either kind. On failure *out is zeroed. */
OV_MUST_CHECK int ov_bhttp_decode(struct ov_bytes in, struct ov_bhttp_msg *out);

/* Appends a header line (views, not copies) to a message being built: -OV_E_TOO_BIG when
 * the section is full. */
OV_MUST_CHECK int ov_bhttp_add(struct ov_bhttp_section *s, struct ov_bytes name,
                               struct ov_bytes value);

/* The first header named `name` (lowercase), or NULL. */
const struct ov_bhttp_field *ov_bhttp_find(const struct ov_bhttp_section *s, const char *name);

/* Encodes msg in known-length form, every section present (minimal varints), appended to
 * out. The same checks as the decoder apply (a message it would refuse is not written):
 * -OV_E_MALFORMED, -OV_E_RANGE, -OV_E_TOO_BIG. */
OV_MUST_CHECK int ov_bhttp_encode(const struct ov_bhttp_msg *msg, struct ov_buf *out);

#endif
