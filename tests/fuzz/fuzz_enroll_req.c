/* Fuzz target: the enrollment request of POST /enroll (core/protocol/issuerapi). A request that parses
 * has exactly its route's fields, rebuilds, and the rebuilt body parses to the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/issuerapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_enroll_req a, b;
    struct ov_buf body;
    if (ov_enroll_req_parse(OV_BYTES(data, size), &a) != 0) {
        if (a.route != 0 || a.secret[0] != 0 || a.attestation_len != 0) {
            abort();
        }
        return 0;
    }
    size_t sl = strlen(a.secret);
    if ((a.route == OV_ROUTE_INVITE && sl != OV_INVITE_CODE_LEN) ||
        (a.route == OV_ROUTE_REGISTRAR && sl != OV_ENROLL_TOKEN_LEN) ||
        (a.route == OV_ROUTE_ATTESTATION && (sl != 0 || a.attestation_len == 0)) ||
        a.route == OV_ROUTE_RECOVERY || a.route == 0) {
        abort();
    }
    if (ov_enroll_req_build(&a, &body) != 0 || ov_enroll_req_parse(ov_buf_view(&body), &b) != 0 ||
        memcmp(&a, &b, sizeof a) != 0) {
        abort();
    }
    ov_buf_clear(&body);
    return 0;
}
