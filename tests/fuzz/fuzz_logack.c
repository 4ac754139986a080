/* Fuzz target: the log's answer to an append, as a producer reads it (core/protocol/logack). The
 * input's first byte is the number of entries sent, its second's low bit wait_checkpoint;
 * entry i's leaf hash is 32 bytes of i + 1. The scan of the compact durable form and the
 * jansson reader agree on every input (result and every field); a durable answer read
 * writes back into one that reads the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/logack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const struct ov_log_ack *a, const struct ov_log_ack *b, size_t n)
{
    size_t total = 0;
    if (a->n != b->n || a->size != b->size || a->checkpoint_size != b->checkpoint_size ||
        a->checkpoint.len != b->checkpoint.len ||
        (a->checkpoint.len && memcmp(a->checkpoint.ptr, b->checkpoint.ptr, a->checkpoint.len)) ||
        (n && (memcmp(a->indices, b->indices, n * sizeof *a->indices) != 0 ||
               memcmp(a->hashes, b->hashes, n * sizeof *a->hashes) != 0)) ||
        (a->n_proof == NULL) != (b->n_proof == NULL)) {
        abort();
    }
    for (size_t i = 0; a->n_proof != NULL && i < n; i++) {
        if (a->n_proof[i] != b->n_proof[i]) {
            abort();
        }
        total += a->n_proof[i];
    }
    if (total && memcmp(a->proofs, b->proofs, total * OV_HASH_LEN) != 0) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    size_t n = data[0];
    bool wait_cp = data[1] & 1;
    uint8_t want[256 * OV_HASH_LEN];
    for (size_t i = 0; i < n; i++) {
        memset(want + i * OV_HASH_LEN, (int)(i + 1), OV_HASH_LEN);
    }
    struct ov_bytes body = OV_BYTES(data + 2, size - 2);
    struct ov_log_ack a, b;
    int rc = ov_log_ack_parse(body, want, n, wait_cp, &a);
    if (ov_log_ack_parse_tree(body, want, n, wait_cp, &b) != rc) {
        abort();
    }
    if (rc == 0) {
        same(&a, &b, n);
        if (a.n != n || memcmp(a.hashes, want, n * OV_HASH_LEN) != 0) {
            abort();
        }
    }
    if (rc == 0 && !wait_cp) {
        struct ov_buf out;
        struct ov_log_ack c;
        if (ov_log_ack_write(a.size, a.indices, want, n, &out) != 0 ||
            ov_log_ack_parse(ov_buf_view(&out), want, n, false, &c) != 0) {
            abort();
        }
        same(&a, &c, n);
        ov_log_ack_clear(&c);
        ov_buf_clear(&out);
    }
    ov_log_ack_clear(&a);
    ov_log_ack_clear(&b);
    return 0;
}
