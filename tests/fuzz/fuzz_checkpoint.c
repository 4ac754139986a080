/* Fuzz target: ov_checkpoint_parse / ov_checkpoint_format, on the input as checkpoint text
 * and, when the input is a signed note, on its text (verified with the fixture log key).
 * Property: a parsed checkpoint formats back to the exact text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/note.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(struct ov_bytes text)
{
    struct ov_checkpoint c;
    struct ov_buf b;
    if (ov_checkpoint_parse(text, &c) != 0) {
        if (c.origin.len != 0 || c.size != 0 || c.extensions.len != 0) {
            abort();
        }
        return;
    }
    if (c.origin.len == 0 || ov_checkpoint_format(&c, &b) != 0 ||
        !fuzz_same(&b, text.ptr, text.len)) {
        abort();
    }
    ov_buf_clear(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_note n;
    round_trip(OV_BYTES(data, size));
    if (ov_note_parse(OV_BYTES(data, size), &n) == 0) {
        round_trip(n.text);
        /* only the fixture log signed this: its text must be a well-formed checkpoint */
        struct ov_checkpoint c;
        if (ov_note_verify(&n, &fuzz_keys()[3], 1, NULL) == 0 &&
            ov_checkpoint_parse(n.text, &c) != 0) {
            abort();
        }
    }
    return 0;
}
