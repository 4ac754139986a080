/* Fuzz target: the wallet export file (core/protocol/wexport). Whatever parses re-serialises to the
 * same header; files with cheap Argon2id parameters are also decrypted under a fixed
 * passphrase, and whatever decrypts seals and opens back to the same plaintext. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/wexport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PASS "fuzz"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    struct ov_wexport_hdr h;
    if (!init) {
        if (sodium_init() < 0) {
            abort();
        }
        init = 1;
    }
    if (ov_wexport_parse(OV_BYTES(data, size), &h) != 0) {
        return 0;
    }
    /* the header is exactly what its fields say */
    uint8_t hdr[OV_WEXPORT_HEADER_LEN];
    memcpy(hdr, OV_WEXPORT_MAGIC, OV_WEXPORT_MAGIC_LEN);
    hdr[16] = OV_WEXPORT_VERSION;
    hdr[17] = OV_WEXPORT_KDF_ARGON2ID13;
    for (int i = 0; i < 4; i++) {
        hdr[18 + i] = (uint8_t)(h.opslimit >> (24 - 8 * i));
        hdr[22 + i] = (uint8_t)(h.mem_kib >> (24 - 8 * i));
    }
    memcpy(hdr + 26, h.salt, sizeof h.salt);
    memcpy(hdr + 42, h.nonce, sizeof h.nonce);
    uint64_t n = h.ciphertext.len;
    for (int i = 0; i < 8; i++) {
        hdr[66 + i] = (uint8_t)(n >> (56 - 8 * i));
    }
    if (h.header.len != sizeof hdr || memcmp(hdr, data, sizeof hdr) != 0 ||
        h.ciphertext.ptr != data + sizeof hdr || sizeof hdr + h.ciphertext.len != size) {
        abort();
    }
    if (h.opslimit > 2 || h.mem_kib > 64) {
        return 0; /* keep the fuzzer fast: Argon2id's cost is the file's to choose */
    }
    uint8_t *plain = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    int rc = ov_wexport_open(OV_BYTES(data, size), FUZZ_PASS, 4, &plain, &len);
    if (rc != 0) {
        if (plain != NULL || len != 0) {
            abort();
        }
        return 0;
    }
    if (len + OV_WEXPORT_TAG_LEN != h.ciphertext.len) {
        abort();
    }
    struct ov_buf out;
    if (ov_wexport_seal(OV_BYTES(plain, len), FUZZ_PASS, 4, h.opslimit, h.mem_kib, &out) != 0 ||
        ov_wexport_open(ov_buf_view(&out), FUZZ_PASS, 4, &again, &len2) != 0 || len2 != len ||
        (len > 0 && memcmp(plain, again, len) != 0)) {
        abort();
    }
    ov_buf_clear(&out);
    sodium_free(plain);
    sodium_free(again);
    return 0;
}
