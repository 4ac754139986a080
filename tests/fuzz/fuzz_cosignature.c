/* Fuzz target: cosignature/v1. The input is used three ways: as a signed note opened with the
 * fixture witness key (type 0x04) and log key, every signature blob also split with
 * ov_cosig_blob_parse; as a raw 76-byte blob; and as note text for ov_cosig_message, whose
 * output must be exactly "cosignature/v1\ntime <t>\n" || text. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "primitives/note.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
blob(const uint8_t *p, size_t n)
{
    uint32_t id;
    uint64_t t;
    uint8_t sig[OV_SIGN_SIG_LEN];
    int rc = ov_cosig_blob_parse(p, n, &id, &t, sig);
    if (rc == 0 && (n != OV_COSIG_SIG_LEN || t > OV_COSIG_MAX_TIME)) {
        abort();
    }
    if (rc != 0 && (id != 0 || t != 0)) {
        abort();
    }
}

static void
message(const uint8_t *data, size_t size)
{
    /* the time: the first 8 bytes when there are any, so it varies with the input */
    uint64_t t = 0;
    for (size_t i = 0; i < size && i < 8; i++) {
        t = t << 8 | data[i];
    }
    struct ov_buf m;
    char head[64];
    int h = snprintf(head, sizeof head, "cosignature/v1\ntime %" PRIu64 "\n", t);
    int rc = ov_cosig_message(OV_BYTES(data, size), t, &m);
    if (rc == 0) {
        if (t > OV_COSIG_MAX_TIME || ov_note_text_check(OV_BYTES(data, size)) != 0 ||
            m.len != (size_t)h + size || memcmp(m.ptr, head, (size_t)h) != 0 ||
            memcmp(m.ptr + h, data, size) != 0) {
            abort();
        }
        ov_buf_clear(&m);
    } else if (m.ptr != NULL) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct ov_note_verifier *vs = fuzz_keys() + 3; /* log key, witness key */
    struct ov_note n;
    struct ov_note_check chk[2];
    blob(data, size);
    message(data, size);
    if (ov_note_parse(OV_BYTES(data, size), &n) != 0) {
        return 0;
    }
    for (size_t i = 0; i < n.n_sigs; i++) {
        uint8_t raw[OV_COSIG_SIG_LEN + 1];
        size_t raw_len = 0;
        if (ov_b64_decode(raw, sizeof raw, &raw_len, (const char *)n.sigs[i].b64.ptr,
                          n.sigs[i].b64.len, OV_B64_STD) == 0) {
            blob(raw, raw_len);
        }
    }
    if (ov_note_verify(&n, vs, 2, chk) == 0 && chk[1].verified &&
        chk[1].timestamp > OV_COSIG_MAX_TIME) {
        abort();
    }
    return 0;
}
