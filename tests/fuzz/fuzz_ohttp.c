/* Fuzz target: RFC 9458 Oblivious HTTP as a gateway and a client meet untrusted bytes
 * (core/protocol/ohttp). The first byte picks the parser: even, application/ohttp-keys
 * (every kept config must encode back to a list that parses to the same configs); odd, an
 * Encapsulated Request decapsulated with a fixed gateway key (key id 1, the RFC 9458
 * Appendix A secret key, ChaCha20Poly1305): a failure leaves out and the state empty; a
 * success must encapsulate a response. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ohttp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t SK[32] = {
    0x3c, 0x16, 0x89, 0x75, 0x67, 0x4b, 0x2f, 0xa8, 0xe4, 0x65, 0x97, 0x0b, 0x79, 0xc8, 0xdc, 0xf0,
    0x9f, 0x1c, 0x74, 0x16, 0x26, 0x48, 0x0b, 0xd4, 0xc6, 0x16, 0x2f, 0xc5, 0xb6, 0xa9, 0x8e, 0x1a,
};

static void
keys(const uint8_t *data, size_t size)
{
    struct ov_ohttp_config c[OV_OHTTP_MAX_CONFIGS], back[OV_OHTTP_MAX_CONFIGS];
    size_t n = 0, m = 0;
    if (ov_ohttp_keys_parse(OV_BYTES(data, size), c, OV_OHTTP_MAX_CONFIGS, &n) != 0) {
        return;
    }
    struct ov_buf b;
    ov_buf_init(&b, OV_OHTTP_MAX_KEYS_LEN);
    if (ov_ohttp_keys_encode(c, n, &b) != 0 ||
        ov_ohttp_keys_parse(ov_buf_view(&b), back, OV_OHTTP_MAX_CONFIGS, &m) != 0 || m != n ||
        memcmp(c, back, n * sizeof c[0]) != 0) {
        abort();
    }
    ov_buf_clear(&b);
}

static void
request(const uint8_t *data, size_t size)
{
    struct ov_ohttp_key k = { .key_id = 1, .aeads = { ov_hpke_chacha20poly1305() }, .n_aeads = 1 };
    memcpy(k.sk, SK, sizeof SK);
    if (ov_hpke_public_key(k.sk, k.pk) != 0) {
        abort();
    }
    struct ov_buf out;
    ov_buf_init(&out, 1 << 16);
    struct ov_ohttp_server st;
    int rc = ov_ohttp_decap_request(&k, 1, OV_BYTES(data, size), &out, &st);
    if (rc != 0 && (out.len != 0 || st.hpke.aead != NULL)) {
        abort();
    }
    if (rc == 0) {
        struct ov_buf res;
        ov_buf_init(&res, 1 << 17);
        if (ov_ohttp_encap_response(&st, NULL, ov_buf_view(&out), &res) != 0) {
            abort();
        }
        ov_buf_clear(&res);
    }
    ov_ohttp_server_clear(&st);
    ov_buf_clear(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if (data[0] & 1) {
        request(data + 1, size - 1);
    } else {
        keys(data + 1, size - 1);
    }
    return 0;
}
