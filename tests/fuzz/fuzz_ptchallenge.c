/* Fuzz target: WWW-Authenticate PrivateToken challenges (core/protocol/ptchallenge). Every challenge
 * parsed is formatted back, and that parses to the same challenge. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ptchallenge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_ptchallenge out[OV_PTCHALLENGE_MAX], again[OV_PTCHALLENGE_MAX];
    size_t n = 0, m = 0;
    if (ov_ptchallenge_parse((const char *)data, size, out, OV_PTCHALLENGE_MAX, &n) != 0) {
        if (n != 0) {
            abort();
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct ov_buf b;
        ov_buf_init(&b, OV_MAX_WWW_AUTHENTICATE_LEN);
        if (ov_ptchallenge_format(&out[i], &b) != 0 ||
            ov_ptchallenge_parse((const char *)b.ptr, b.len, again, OV_PTCHALLENGE_MAX, &m) != 0 ||
            m != 1 || memcmp(&again[0], &out[i], sizeof again[0]) != 0) {
            abort();
        }
        ov_buf_clear(&b);
    }
    return 0;
}
