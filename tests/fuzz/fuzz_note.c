/* Fuzz target: ov_note_parse / ov_note_verify / ov_note_serialize.
 * Properties: a parsed note serializes back to the exact input; its text is a prefix of the
 * input that passes ov_note_text_check; verification never reports a key it did not verify,
 * and reports nothing on failure. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "primitives/note.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct ov_note_verifier *vs = fuzz_keys();
    struct ov_note n;
    struct ov_buf b;
    struct ov_note_check chk[FUZZ_N_KEYS];
    if (ov_note_parse(OV_BYTES(data, size), &n) != 0) {
        if (n.text.len != 0 || n.n_sigs != 0) {
            abort();
        }
        return 0;
    }
    if (ov_note_serialize(&n, &b) != 0 || !fuzz_same(&b, data, size)) {
        abort();
    }
    ov_buf_clear(&b);
    if (n.text.ptr != data || n.n_sigs == 0 || n.n_sigs > OV_NOTE_MAX_SIGS ||
        ov_note_text_check(n.text) != 0) {
        abort();
    }
    for (size_t i = 0; i < n.n_sigs; i++) {
        if (ov_note_name_check(n.sigs[i].name) != 0) {
            abort();
        }
    }
    int rc = ov_note_verify(&n, vs, FUZZ_N_KEYS, chk);
    size_t n_ok = 0;
    for (size_t k = 0; k < FUZZ_N_KEYS; k++) {
        n_ok += (size_t)chk[k].verified;
        if (chk[k].timestamp != 0 && (!chk[k].verified || vs[k].type != OV_NOTE_TYPE_COSIG_V1)) {
            abort();
        }
    }
    if ((rc == 0) != (n_ok > 0)) {
        abort();
    }
    return 0;
}
