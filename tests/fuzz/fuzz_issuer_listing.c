/* Fuzz target: what a wallet reads from an issuer (core/protocol/issuerapi): the GET /contexts
 * listing, the answer to a context creation, the RFC 9578 directory, and the token-request
 * authentication headers (the input split at the first two NUL bytes). Listed contexts that
 * parse are valid context entries and survive a round trip through their JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/issuerapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
listing(const uint8_t *data, size_t size)
{
    struct ov_issuer_context *v = NULL, *w = NULL;
    size_t n = 0, m = 0;
    struct ov_buf again;
    if (ov_issuer_contexts_parse(OV_BYTES(data, size), &v, &n) != 0) {
        if (v != NULL || n != 0) {
            abort();
        }
        return;
    }
    ov_buf_init(&again, OV_MAX_ISSUER_LIST_LEN);
    int rc = ov_buf_append_str(&again, "[");
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = i ? ov_buf_append_str(&again, ",") : 0;
        rc = rc ? rc : ov_issuer_context_json(&v[i], &again);
    }
    rc = rc ? rc : ov_buf_append_str(&again, "]");
    if (rc != 0 || ov_issuer_contexts_parse(ov_buf_view(&again), &w, &m) != 0 || m != n ||
        (n > 0 && memcmp(v, w, n * sizeof *v) != 0)) {
        abort();
    }
    ov_buf_clear(&again);
    free(v);
    free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ov_issuer_directory dir;
    struct ov_issuer_context c;
    listing(data, size);
    if (ov_issuer_created_parse(OV_BYTES(data, size), &c) == 0 &&
        ov_context_id_check(c.def.id) != 0) {
        abort();
    }
    if (ov_issuer_directory_parse(OV_BYTES(data, size), &dir) == 0 &&
        dir.n_keys > OV_ISSUER_MAX_DIRECTORY_KEYS) {
        abort();
    }
    /* three header values, NUL-separated */
    const uint8_t *z1 = memchr(data, 0, size);
    const uint8_t *z2 = z1 ? memchr(z1 + 1, 0, size - (size_t)(z1 + 1 - data)) : NULL;
    char *s = z2 ? malloc(size + 1) : NULL;
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = 0;
    const char *e = s, *t = s + (z1 - data) + 1, *g = s + (z2 - data) + 1;
    uint8_t pk[OV_SIGN_PK_LEN], sig[OV_SIGN_SIG_LEN];
    uint64_t ms = 0;
    if (ov_tokreq_auth_parse(e, t, g, pk, &ms, sig) == 0 && (strlen(e) != 43 || strlen(g) != 86)) {
        abort(); /* base64url without padding of 32 and 64 bytes, nothing else */
    }
    free(s);
    return 0;
}
