/* Fuzz target: the Authorization: PrivateToken header parser (core/protocol/actionreq). A header
 * that parses yields a token whose canonical header parses back to the same token. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/actionreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t tok[OV_PP_TOKEN_LEN], again[OV_PP_TOKEN_LEN];
    char h[OV_PRIVATETOKEN_HEADER_LEN];
    if (ov_privatetoken_parse((const char *)data, size, tok) != 0) {
        return 0;
    }
    if (size > OV_MAX_PRIVATETOKEN_HEADER_LEN || ov_privatetoken_format(tok, h, sizeof h) != 0 ||
        ov_privatetoken_parse(h, strlen(h), again) != 0 || memcmp(tok, again, sizeof tok) != 0) {
        abort();
    }
    return 0;
}
