/* ptchallenge: the RFC 9577 §2.1 token challenge an origin (a platform) sends in
 * `WWW-Authenticate` to ask for a Privacy Pass token, both ways: platforms produce it,
 * clients parse it. (The answer, `Authorization: PrivateToken token=...`, is
 * core/actionreq's.)
 *
 * Grammar (RFC 9110 §11.6.1 and §11.2, RFC 9577 §2.1.2):
 *
 *   WWW-Authenticate = #challenge
 *   challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param       = token BWS "=" BWS ( token / quoted-string )
 *
 * A PrivateToken challenge has the parameters (names case-insensitive, each at most once;
 * others are ignored, as RFC 9577 requires):
 *
 *   | parameter | value                                                                 |
 *   |-----------|-----------------------------------------------------------------------|
 *   | challenge | required: base64url with padding of a TokenChallenge                   |
 *   | token-key | optional: base64url with padding of the issuer's key (an SPKI)        |
 *   | max-age   | optional: seconds the origin accepts the challenge (decimal)          |
 *
 * Challenges of other schemes, and PrivateToken challenges whose TokenChallenge is of another
 * token type than 0x0002, are skipped. A type-2 TokenChallenge must parse strictly
 * (core/primitives/pp). The encoder quotes both values (padding needs it: '=' is not a token char). */
#ifndef OV_PTCHALLENGE_H
#define OV_PTCHALLENGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/pp.h"

#define OV_MAX_WWW_AUTHENTICATE_LEN 16384 /* bytes of one header value */
#define OV_PTCHALLENGE_MAX 8              /* type-2 PrivateToken challenges in one value */
#define OV_PTCHALLENGE_MAX_PARAMS 32      /* auth-params in one value, all schemes */

struct ov_ptchallenge {
    uint8_t challenge[OV_MAX_TOKEN_CHALLENGE_LEN]; /* the TokenChallenge */
    size_t challenge_len;
    uint8_t token_key[OV_MAX_TOKEN_KEY_LEN];       /* token_key_len 0: absent */
    size_t token_key_len;
    bool has_max_age;
    uint64_t max_age;
};

/* Parses a WWW-Authenticate value; the type-2 PrivateToken challenges go into out[0..*n)
 * (room for max). -OV_E_TOO_BIG (value, parameter count, a value over its field, more than
 * max challenges), -OV_E_MALFORMED (syntax, a parameter twice, a PrivateToken challenge
 * without "challenge", with token68, bad base64url, a TokenChallenge that does not parse, a
 * max-age that is not a canonical decimal). On failure *n is 0 and out zeroed. */
OV_MUST_CHECK int ov_ptchallenge_parse(const char *value, size_t len, struct ov_ptchallenge *out,
                                       size_t max, size_t *n);

/* Appends `PrivateToken challenge="...", token-key="..."[, max-age=N]` (no token-key when
 * its length is 0) to out. -OV_E_MALFORMED (a challenge that does not parse as a type-2
 * TokenChallenge, a key over its maximum), -OV_E_TOO_BIG, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_ptchallenge_format(const struct ov_ptchallenge *c, struct ov_buf *out);

#endif
