/* actionreq: the verifier's action request (docs/PROTOCOL.md §8), both sides: the JSON
 * body of POST /actions and the RFC 9577 §2.2 `Authorization: PrivateToken token=...`
 * header a platform may carry the token in instead. The verifier parses them (strictly:
 * they are untrusted input); the wallet and platform libraries build them. The signed
 * action itself (what the signature covers) is core/entry's.
 *
 * JSON body (at most OV_MAX_ACTION_REQ_LEN bytes, one object, no other keys, no key twice):
 *
 *   | key       | type    | content                                                     |
 *   |-----------|---------|-------------------------------------------------------------|
 *   | context   | string  | the context id (core/entry: 1..64 of [a-z0-9-])             |
 *   | pseudonym | string  | base64url, unpadded: the 32-byte one-time Ed25519 key       |
 *   | token     | string  | base64url, unpadded: the 354-byte RFC 9577 Token (optional) |
 *   | choice    | string  | assembly: the choice (a label, core/protocol/entry)                  |
 *   | target    | string  | rating round: what is rated (a label); with "rating"        |
 *   | rating    | integer | rating round: the rating (any int64; the scale is checked   |
 *   |           |         | against the context, not here)                              |
 *   | text      | string  | statement round: the statement (1..OV_MAX_STATEMENT_LEN     |
 *   |           |         | bytes, a label's rules otherwise)                           |
 *   | platform  | string  | the platform the action was made on (a label)               |
 *   | sig       | string  | base64url, unpadded: the 64-byte Ed25519 action signature   |
 *
 * Exactly one of "choice", ("target" and "rating") or "text". Strings are JSON strings (UTF-8,
 * escapes allowed, no U+0000); labels must then pass ov_label_check.
 *
 * Header (RFC 9110 §11.4 credentials with auth-params, RFC 9577 §2.2):
 *
 *   credentials = "PrivateToken" 1*SP auth-param *( OWS "," OWS auth-param )
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 *
 * The scheme and parameter names are case-insensitive; empty list elements are skipped;
 * a parameter named twice is refused; parameters other than "token" are ignored (RFC 9110
 * §11.2), at most OV_MAX_AUTH_PARAMS of them. The token value is base64url, padded (then
 * necessarily quoted, since "=" is not a token character) or not, decoding to exactly one
 * Token. token68 credentials are refused. */
#ifndef OV_ACTIONREQ_H
#define OV_ACTIONREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "base/bytes.h"
#include "protocol/entry.h"
#include "base/err.h"

#define OV_MAX_ACTION_REQ_LEN 4096          /* bytes of the JSON body */
#define OV_MAX_PRIVATETOKEN_HEADER_LEN 2048 /* bytes of the Authorization value */
#define OV_MAX_AUTH_PARAMS 16
#define OV_PRIVATETOKEN_SCHEME "PrivateToken"

/* Parses a JSON action request into *a (a->time = 0). -OV_E_TOO_BIG over
 * OV_MAX_ACTION_REQ_LEN, -OV_E_MALFORMED for anything outside the table above (not JSON,
 * trailing bytes, unknown or repeated keys, wrong types, bad base64, wrong lengths, an
 * invalid context id or label, both or neither of the two action shapes), -OV_E_NOMEM.
 * On failure *a is zeroed. */
OV_MUST_CHECK int ov_actionreq_parse(struct ov_bytes body, struct ov_action *a);
/* The same through jansson's tree alone. ov_actionreq_parse scans the common shape of a
 * request (ASCII strings without escapes, plain integers) in place, without building a
 * tree, and leaves everything else to this one; both give the same result for every input (fuzz_actionreq
 * checks it). */
OV_MUST_CHECK int ov_actionreq_parse_tree(struct ov_bytes body, struct ov_action *a);

/* Builds the JSON body for a (its token only when a->has_token and with_token), compact,
 * keys sorted. out is initialised here (max OV_MAX_ACTION_REQ_LEN). -OV_E_MALFORMED when
 * a breaks a rule of the table (the verifier would refuse it), -OV_E_TOO_BIG, -OV_E_NOMEM;
 * out is cleared on failure. */
OV_MUST_CHECK int ov_actionreq_build(const struct ov_action *a, bool with_token,
                                     struct ov_buf *out);

/* Parses an Authorization header value carrying a Token. -OV_E_TOO_BIG over
 * OV_MAX_PRIVATETOKEN_HEADER_LEN or OV_MAX_AUTH_PARAMS, -OV_E_MALFORMED (another scheme,
 * bad syntax, no or two "token" parameters, bad base64, not 354 bytes). token is zeroed on
 * failure. Only the Token's length is checked here, not its fields (ov_pp_token_parse). */
OV_MUST_CHECK int ov_privatetoken_parse(const char *value, size_t len,
                                        uint8_t token[OV_PP_TOKEN_LEN]);

/* Writes `PrivateToken token="<base64url, unpadded>"` NUL-terminated into out.
 * -OV_E_TOO_BIG when out_max is short. */
#define OV_PRIVATETOKEN_HEADER_LEN (sizeof OV_PRIVATETOKEN_SCHEME + 8 + 472 + 1)
OV_MUST_CHECK int ov_privatetoken_format(const uint8_t token[OV_PP_TOKEN_LEN], char *out,
                                         size_t out_max);

#endif
