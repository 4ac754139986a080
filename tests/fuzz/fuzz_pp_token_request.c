/* Fuzz target: TokenRequest and TokenResponse parsing (RFC 9578 §6.1-6.2). Whatever parses
 * re-encodes to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/pp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_pp_token_request req;
    uint8_t out[OV_PP_TOKEN_REQUEST_LEN], sig[OV_PP_TOKEN_RESPONSE_LEN];

    if (ov_pp_token_request_parse(OV_BYTES(data, size), &req) == 0) {
        if (ov_pp_token_request_encode(&req, out) != 0 || size != sizeof out ||
            memcmp(out, data, size) != 0) {
            abort();
        }
    }
    if (ov_pp_token_response_parse(OV_BYTES(data, size), sig) == 0) {
        if (size != sizeof sig || memcmp(sig, data, size) != 0) {
            abort();
        }
    }
    return 0;
}
