/* Fuzz target: TokenChallenge parsing (RFC 9577 §2.1). A challenge that parses re-encodes to
 * exactly the input, with every field within its maximum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/pp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[OV_MAX_TOKEN_CHALLENGE_LEN];
    struct ov_pp_challenge c;
    size_t out_len;

    if (ov_pp_challenge_parse(OV_BYTES(data, size), &c) != 0) {
        if (c.issuer_name.ptr != NULL || c.token_type != 0) {
            abort(); /* a failed parse leaves nothing behind */
        }
        return 0;
    }
    if (c.token_type != OV_PP_TOKEN_TYPE || c.issuer_name.len == 0 ||
        c.issuer_name.len > OV_MAX_ISSUER_NAME_LEN || c.origin_info.len > OV_MAX_ORIGIN_INFO_LEN ||
        (c.redemption_context.len != 0 && c.redemption_context.len != 32)) {
        abort();
    }
    if (ov_pp_challenge_encode(&c, out, sizeof out, &out_len) != 0 || out_len != size ||
        memcmp(out, data, size) != 0) {
        abort();
    }
    return 0;
}
