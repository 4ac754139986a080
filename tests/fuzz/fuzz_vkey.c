/* Fuzz target: ov_note_vkey_parse / ov_note_vkey_format, and ov_keyfile_skey_parse (the x/mod
 * private key line) on the same bytes. Properties: a parsed vkey formats back to the exact
 * input and its key ID is the one derived from (name, type, key); a parsed skey's public
 * side formats to a vkey that parses again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infra/keyfile.h"
#include "primitives/note.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ov_note_verifier v, again;
    struct ov_buf b;
    if (ov_note_vkey_parse(OV_BYTES(data, size), &v) == 0) {
        ov_buf_init(&b, OV_NOTE_MAX_VKEY_LEN);
        if (ov_note_vkey_format(&v, &b) != 0 || !fuzz_same(&b, data, size)) {
            abort();
        }
        ov_buf_clear(&b);
        if (v.key_id != ov_note_key_id(OV_BYTES(v.name, v.name_len), v.type, v.pk) ||
            strlen(v.name) != v.name_len) {
            abort();
        }
    } else if (v.key_id != 0 || v.name_len != 0 || v.type != 0) {
        abort();
    }
    struct ov_note_signer *s = NULL;
    if (ov_keyfile_skey_parse(OV_BYTES(data, size), &s) == 0) {
        ov_buf_init(&b, OV_NOTE_MAX_VKEY_LEN);
        if (size < 12 || memcmp(data, "PRIVATE+KEY+", 12) != 0 ||
            ov_note_vkey_format(ov_note_signer_verifier(s), &b) != 0 ||
            ov_note_vkey_parse(ov_buf_view(&b), &again) != 0) {
            abort();
        }
        ov_buf_clear(&b);
        ov_note_signer_free(s);
    } else if (s != NULL) {
        abort();
    }
    return 0;
}
