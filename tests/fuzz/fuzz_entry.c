/* Fuzz target: the onevoice log entry decoder (core/protocol/entry). Whatever decodes must encode to
 * the very same bytes (a leaf hash covers the exact bytes, so one value has one encoding);
 * a decoded action must yield its signed bytes, and a decoded context its TokenChallenge,
 * since the auditor and the verifier rely on both succeeding for any entry the log holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_entry e;
    if (ov_entry_decode(OV_BYTES(data, size), &e) != 0) {
        return 0;
    }
    struct ov_buf again;
    if (ov_entry_encode(&e, &again) != 0 || again.len != size ||
        memcmp(again.ptr, data, size) != 0) {
        abort();
    }
    ov_buf_clear(&again);
    if (e.kind == OV_ENTRY_ACTION || e.kind == OV_ENTRY_STATEMENT) {
        struct ov_buf signed_bytes;
        if (ov_action_signed_bytes(&e.u.action, &signed_bytes) != 0) {
            abort();
        }
        ov_buf_clear(&signed_bytes);
    } else if (e.kind == OV_ENTRY_CONTEXT) {
        uint8_t ch[OV_ENTRY_MAX_CHALLENGE_LEN];
        size_t n;
        if (ov_entry_challenge(e.u.context.issuer, e.u.context.id, ch, sizeof ch, &n) != 0) {
            abort();
        }
    } else if (e.kind == OV_ENTRY_TALLY) {
        for (size_t i = 1; i < e.u.tally.n; i++) {
            if (strcmp(e.u.tally.items[i - 1].name, e.u.tally.items[i].name) >= 0) {
                abort(); /* sorted, no duplicates */
            }
        }
    }
    ov_entry_clear(&e);
    return 0;
}
