/* logproof: checking single entries against a log without following it, for clients that
 * hold a few entries of interest rather than the whole tree: the citizen's wallet (its
 * contexts' keys and its receipts) and platforms. Proofs are computed from the
 * log's C2SP tiles alone (core/primitives/tileproof: the tiles of the checkpoint's size any
 * reader of it fetches, with decoys for the level-0 tile an index falls in), never asked of
 * the log's /proof endpoints, so the log is not told an index or a size the client stored
 * (docs/PROTOCOL.md §8.1). Nothing served is trusted: every tile used must hash up to a
 * checkpoint that carries the log's signature and a quorum of witness cosignatures
 * (core/protocol/logreader), so a lying log server can only fail, never convince.
 *
 * ov_logproof_parse stays for those who read the log's proof endpoints (docs/PROTOCOL.md
 * §4.2; fuzzed by tests/fuzz/fuzz_logproof.c); the checks below do not use it.
 *
 * Answers of the proof endpoints (JSON objects, at most OV_MAX_LOGPROOF_LEN bytes, exactly
 * these keys, no key twice):
 *
 *   | endpoint                               | keys                                        |
 *   |----------------------------------------|---------------------------------------------|
 *   | GET /proof/inclusion?index=I&size=S    | "index": I, "size": S, "proof": [b64...]    |
 *   | GET /proof/consistency?old=M&size=N    | "old": M, "size": N, "proof": [b64...]      |
 *
 * The numbers must be the ones asked for, each proof element is padded base64 (RFC 4648 §4)
 * of exactly 32 bytes, and there are at most OV_MERKLE_MAX_PROOF of them.
 *
 * Not thread-safe: one ov_logproof per thread (it owns HTTP connections). */
#ifndef OV_LOGPROOF_H
#define OV_LOGPROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "protocol/issuerapi.h"
#include "protocol/logreader.h"
#include "primitives/merkle.h"

#define OV_MAX_LOGPROOF_LEN 8192 /* 65 hashes of 44 characters, with room */

enum ov_logproof_kind { OV_LOGPROOF_INCLUSION = 1, OV_LOGPROOF_CONSISTENCY };

/* Parses a proof endpoint's answer. a is the index (inclusion) or old size (consistency)
 * asked for, size the tree size; both must be what the answer names. proof needs room for
 * OV_MERKLE_MAX_PROOF hashes. -OV_E_TOO_BIG (body or proof too long), -OV_E_MALFORMED
 * (not the table's shape, other numbers); *n_proof = 0 and proof zeroed on failure. */
OV_MUST_CHECK int ov_logproof_parse(enum ov_logproof_kind kind, struct ov_bytes body, uint64_t a,
                                    uint64_t size, uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN],
                                    size_t *n_proof);

/* A log's latest state as a client remembers it between runs: a verified checkpoint's size
 * and root (size 0: nothing seen yet). */
struct ov_logproof_head {
    uint64_t size;
    uint8_t root[OV_HASH_LEN];
};

struct ov_logproof;

/* A client of the log cfg names (its URL, its key, the witnesses and quorum; the witness
 * array is copied). -OV_E_MALFORMED (cfg), -OV_E_NOMEM, -OV_E_HTTP. The caller owns *out. */
OV_MUST_CHECK int ov_logproof_new(const struct ov_logreader_cfg *cfg, struct ov_logproof **out);
/* Accepts NULL. */
void ov_logproof_free(struct ov_logproof *lp);

/* Fetches the latest checkpoint, verified as ov_logreader_checkpoint does (log signature,
 * quorum of cosignatures), and, when prev->size > 0, proven to extend prev: a checkpoint
 * smaller than prev, or one of the same size with another root, or one whose consistency
 * proof fails, is -OV_E_BAD_PROOF (the log forked or rolled back: keep both as evidence).
 * Other errors as ov_logreader_checkpoint. cp is initialised here (ov_logreader_cp_clear). */
OV_MUST_CHECK int ov_logproof_checkpoint(struct ov_logproof *lp, const struct ov_logproof_head *prev,
                                         struct ov_logreader_cp *cp);

/* 0 when the log's tiles prove that leaf (an RFC 9162 leaf hash) is at index in the tree of
 * the verified checkpoint cp. -OV_E_RANGE (index >= cp->size: not yet covered),
 * -OV_E_BAD_PROOF (the tiles do not hash to cp's root, or hold another leaf there),
 * -OV_E_HTTP (no answer, or a refusal such as a missing tile), -OV_E_MALFORMED (a tile of
 * the wrong length), -OV_E_NOMEM. */
OV_MUST_CHECK int ov_logproof_inclusion(struct ov_logproof *lp, const struct ov_logreader_cp *cp,
                                        uint64_t index, const uint8_t leaf[OV_HASH_LEN]);

/* 0 when the log's tiles at cp's size prove the tree (old_size, old_root) is a prefix of
 * cp's tree: old_size is never sent.
 * -OV_E_BAD_PROOF (not a prefix, or old_size > cp->size), -OV_E_RANGE (old_size 0), and
 * the errors of ov_logproof_inclusion. */
OV_MUST_CHECK int ov_logproof_consistency(struct ov_logproof *lp, uint64_t old_size,
                                          const uint8_t old_root[OV_HASH_LEN],
                                          const struct ov_logreader_cp *cp);

/* Key transparency for one context (docs/THREAT-MODEL.md "Per-person keys"): 0 when the
 * context entry the issuer's listing describes — every field, its token key included,
 * encoded as the issuer logged it — is the leaf at c->log_index under the verified
 * checkpoint cp. -OV_E_RANGE (the log does not cover that index yet), -OV_E_BAD_PROOF (the
 * log holds something else there: the issuer shows a key the log does not), -OV_E_MALFORMED
 * (c does not encode as a context entry), and the errors of ov_logproof_inclusion. When
 * entry is not NULL it receives the encoded entry (initialised here; the caller clears it). */
OV_MUST_CHECK int ov_logproof_context(struct ov_logproof *lp, const struct ov_logreader_cp *cp,
                                      const struct ov_issuer_context *c, struct ov_buf *entry);

/* The HTTP status of the last refused request (0 when none; tile refusals are -OV_E_HTTP
 * without a status). */
unsigned ov_logproof_status(const struct ov_logproof *lp);

/* Tiles fetched for proofs and their bytes since ov_logproof_new (checkpoints not counted). */
void ov_logproof_stats(const struct ov_logproof *lp, uint64_t *n_tiles, uint64_t *n_bytes);

#endif
