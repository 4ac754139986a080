/* Fuzz target: RFC 9292 known-length Binary HTTP (core/protocol/bhttp), the plaintext an
 * Oblivious HTTP gateway decrypts from anyone. Every decoded message must re-encode, and the
 * re-encoding must decode to the same message (the encoder writes every section, so the bytes
 * may differ from a truncated or padded input, not the meaning). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/bhttp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_bytes(struct ov_bytes a, struct ov_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void
same_section(const struct ov_bhttp_section *a, const struct ov_bhttp_section *b)
{
    if (a->n != b->n) {
        abort();
    }
    for (size_t i = 0; i < a->n; i++) {
        if (!same_bytes(a->f[i].name, b->f[i].name) || !same_bytes(a->f[i].value, b->f[i].value)) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_bhttp_msg m, back;
    if (ov_bhttp_decode(OV_BYTES(data, size), &m) != 0) {
        return 0;
    }
    struct ov_buf b;
    ov_buf_init(&b, OV_BHTTP_MAX_LEN);
    if (ov_bhttp_encode(&m, &b) != 0 || ov_bhttp_decode(ov_buf_view(&b), &back) != 0 ||
        m.response != back.response || m.status != back.status ||
        !same_bytes(m.method, back.method) || !same_bytes(m.scheme, back.scheme) ||
        !same_bytes(m.authority, back.authority) || !same_bytes(m.path, back.path) ||
        !same_bytes(m.content, back.content)) {
        abort();
    }
    same_section(&m.headers, &back.headers);
    same_section(&m.trailers, &back.trailers);
    ov_buf_clear(&b);
    return 0;
}
