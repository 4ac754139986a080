/* logack: the log's answer to an append (docs/PROTOCOL.md §4.1), written by the log and read
 * by producers (core/protocol/logclient). The durable answer, the one every batch gets, is written
 * by hand, and read by a scan of exactly that compact form; anything else (proofs,
 * whitespace, another key order) is read with jansson. fuzz_logack checks that both
 * readers agree on every input. */
#ifndef OV_LOGACK_H
#define OV_LOGACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/merkle.h"

/* What the log answered for one append. */
struct ov_log_ack {
    size_t n;                       /* entries acknowledged, in request order */
    uint64_t *indices;              /* n */
    uint8_t (*hashes)[OV_HASH_LEN]; /* n: the leaf hashes the log computed */
    uint64_t size;                  /* the committed tree size after the batch */
    struct ov_buf checkpoint;       /* with wait_checkpoint: the signed checkpoint note */
    uint64_t checkpoint_size;
    uint8_t *proofs;                /* with wait_checkpoint: n_proof[i] hashes per entry, */
    size_t *n_proof;                /* concatenated in proofs */
    unsigned status;                /* the HTTP status (200 on success) */
    char reason[64];                /* the log's error reason when status != 200 */
};

void ov_log_ack_clear(struct ov_log_ack *ack);

/* The durable answer: {"size":S,"entries":[{"index":I,"hash":"<base64>"},...]}, compact,
 * in this key order (what jansson writes for the same tree). out is initialised here. */
OV_MUST_CHECK int ov_log_ack_write(uint64_t size, const uint64_t *indices,
                                   const uint8_t *hashes, size_t n,
                                   struct ov_buf *out);

/* Reads a 200 answer to an append of n entries whose leaf hashes are want (n × 32 bytes) into
 * ack (initialised here; cleared again on failure). -OV_E_MALFORMED unless it acknowledges
 * exactly those entries, in order (and, with wait_checkpoint, carries a checkpoint and one
 * proof of at most OV_MERKLE_MAX_PROOF hashes per entry); -OV_E_NOMEM. The proofs are not
 * checked here. */
OV_MUST_CHECK int ov_log_ack_parse(struct ov_bytes body, const uint8_t *want,
                                   size_t n, bool wait_checkpoint, struct ov_log_ack *ack);
/* The same with jansson alone: the reference the scan is fuzzed against. */
OV_MUST_CHECK int ov_log_ack_parse_tree(struct ov_bytes body, const uint8_t *want,
                                        size_t n, bool wait_checkpoint, struct ov_log_ack *ack);

#endif
