/* Fuzz target: the context request of POST /admin/contexts (core/protocol/issuerapi). A request that
 * parses satisfies every rule of the table, rebuilds, and the rebuilt body parses to the
 * same definition. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/issuerapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_context a, b;
    struct ov_buf body;
    if (ov_context_req_parse(OV_BYTES(data, size), &a) != 0) {
        if (a.id[0] != 0 || a.quota != 0) {
            abort(); /* a failed parse leaves nothing behind */
        }
        return 0;
    }
    if (ov_context_id_check(a.id) != 0 || a.quota == 0 || a.quota > OV_MAX_QUOTA ||
        a.opens >= a.closes ||
        (a.type == OV_CONTEXT_ASSEMBLY ? a.n_choices < 2 : a.scale_min >= a.scale_max)) {
        abort();
    }
    if (ov_context_req_build(&a, &body) != 0 || ov_context_req_parse(ov_buf_view(&body), &b) != 0 ||
        memcmp(&a, &b, sizeof a) != 0) {
        abort();
    }
    ov_buf_clear(&body);
    return 0;
}
