/* Fuzz target: the log's proof answers (core/protocol/logproof). The first byte picks the kind;
 * the rest is the JSON body, checked for index (or old) 5 and size 9. Whatever parses
 * gives the same proof when written back as the log writes it and parsed again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "protocol/logproof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t p[OV_MERKLE_MAX_PROOF * OV_HASH_LEN], q[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
    static char json[OV_MAX_LOGPROOF_LEN];
    size_t n = 0, m = 0;
    if (size == 0) {
        return 0;
    }
    enum ov_logproof_kind k = data[0] & 1 ? OV_LOGPROOF_CONSISTENCY : OV_LOGPROOF_INCLUSION;
    int rc = ov_logproof_parse(k, OV_BYTES(data + 1, size - 1), 5, 9, p, &n);
    if (rc != 0) {
        if (n != 0) {
            abort();
        }
        return 0;
    }
    if (n > OV_MERKLE_MAX_PROOF) {
        abort();
    }
    size_t off = (size_t)snprintf(json, sizeof json, "{\"%s\":5,\"size\":9,\"proof\":[",
                                  k == OV_LOGPROOF_INCLUSION ? "index" : "old");
    for (size_t i = 0; i < n; i++) {
        char b64[64];
        if (ov_b64_encode(b64, sizeof b64, p + i * OV_HASH_LEN, OV_HASH_LEN, OV_B64_STD) != 0) {
            abort();
        }
        off += (size_t)snprintf(json + off, sizeof json - off, "%s\"%s\"", i ? "," : "", b64);
    }
    off += (size_t)snprintf(json + off, sizeof json - off, "]}");
    if (off >= sizeof json || ov_logproof_parse(k, OV_BYTES(json, off), 5, 9, q, &m) != 0 ||
        m != n || memcmp(p, q, n * OV_HASH_LEN) != 0) {
        abort();
    }
    return 0;
}
