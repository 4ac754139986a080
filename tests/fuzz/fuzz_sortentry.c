/* Fuzz target: the sortition's log entries (core/protocol/sortentry), as the auditor will read
 * them from any log. Whatever decodes must encode to the very same bytes (a leaf hash covers
 * the exact bytes), a commit must reach the signature check without failing otherwise, and
 * the general entry decoder must refuse every one of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/sortentry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_sortentry e;
    if (ov_sortentry_decode(OV_BYTES(data, size), &e) != 0) {
        ov_sortentry_clear(&e);
        return 0;
    }
    struct ov_buf again;
    if (ov_sortentry_encode(&e, &again) != 0 || again.len != size ||
        memcmp(again.ptr, data, size) != 0) {
        abort();
    }
    ov_buf_clear(&again);
    if (e.kind == OV_SORTENTRY_COMMIT) {
        int rc = ov_sort_commit_verify(&e.u.commit);
        if (rc != 0 && rc != -OV_E_BAD_SIG) {
            abort();
        }
    }
    struct ov_entry other;
    if (ov_entry_decode(OV_BYTES(data, size), &other) == 0) {
        abort();
    }
    ov_entry_clear(&other);
    ov_sortentry_clear(&e);
    return 0;
}
