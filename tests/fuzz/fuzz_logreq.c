/* Fuzz target: the log's append request parser (core/logreq). Whatever parses must be
 * re-encodable to the very same bytes (the body is signed, so one value has one encoding),
 * and every entry view must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "logreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_logreq req;
    int rc = ov_logreq_parse(OV_BYTES(data, size), &req);
    if (rc == 0) {
        struct ov_buf again;
        ov_buf_init(&again, OV_LOG_MAX_REQUEST_LEN);
        if (req.n == 0 || req.n > OV_LOG_MAX_BATCH || ov_cbor_encode_limits(req.tree, &ov_logreq_limits, &again) != 0 ||
            again.len != size || memcmp(again.ptr, data, size) != 0) {
            abort();
        }
        for (size_t i = 0; i < req.n; i++) {
            if (req.entries[i].len == 0 || req.entries[i].len > OV_LOG_MAX_ENTRY_LEN) {
                abort();
            }
        }
        ov_buf_clear(&again);
    }
    ov_logreq_clear(&req);
    return 0;
}
