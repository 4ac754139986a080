/* Fuzz target: an identity provider's attestation (deterministic CBOR, core/protocol/issuerapi). One
 * that parses re-encodes to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/issuerapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_attestation a;
    struct ov_buf out;
    if (ov_attestation_parse(OV_BYTES(data, size), &a) != 0) {
        if (a.idp[0] != 0 || a.subject[0] != 0 || a.expires != 0) {
            abort();
        }
        return 0;
    }
    if (a.idp[0] == 0 || a.subject[0] == 0 || ov_label_check(a.idp) != 0) {
        abort();
    }
    if (ov_attestation_encode(&a, &out) != 0 || out.len != size ||
        memcmp(out.ptr, data, size) != 0) {
        abort();
    }
    ov_buf_clear(&out);
    return 0;
}
