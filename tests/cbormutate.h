/* cbormutate.h: for unit tests of strict CBOR decoders (test_entry, test_sortentry): a copy of
 * an encoded map with one key set to another value, or removed. Needs test.h first. */
#ifndef OV_TEST_CBORMUTATE_H
#define OV_TEST_CBORMUTATE_H

#include "primitives/cbor.h"

/* A copy of the map's bytes with key set to v (or removed when v is NULL; v is consumed). */
static void
mutate(struct ov_bytes in, const char *key, cbor_item_t *v, struct ov_buf *out)
{
    cbor_item_t *m = NULL, *n = ov_cbor_map_new();
    int rc = ov_cbor_decode_map(in, &m);
    CHECK_EQ_INT(rc, 0);
    size_t np = rc == 0 ? cbor_map_size(m) : 0;
    struct cbor_pair *p = rc == 0 ? cbor_map_handle(m) : NULL;
    for (size_t i = 0; i < np; i++) {
        char k[64];
        size_t kl = cbor_string_length(p[i].key);
        if (kl >= sizeof k) {
            continue;
        }
        memcpy(k, cbor_string_handle(p[i].key), kl);
        k[kl] = 0;
        if (strcmp(k, key) != 0) {
            CHECK_EQ_INT(ov_cbor_put(n, k, cbor_incref(p[i].value)), 0);
        }
    }
    if (v != NULL) {
        CHECK_EQ_INT(ov_cbor_put(n, key, v), 0);
    }
    ov_buf_init(out, 2 * OV_MAX_CBOR_LEN);
    CHECK_EQ_INT(ov_cbor_encode(n, out), 0);
    ov_cbor_free(m);
    ov_cbor_free(n);
}

#endif
