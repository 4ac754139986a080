/* receipt: the verifier's receipt for a counted action or a tally (docs/PROTOCOL.md §8),
 * its JSON format (the verifier writes it, wallets and platforms parse it) and its offline
 * check: with the log's verifier key alone (and the witnesses' keys, when a quorum of
 * cosignatures is required), anyone can tell that the entry is in the log.
 *
 * JSON (one object, at most OV_MAX_RECEIPT_LEN bytes, no other keys, no key twice):
 *
 *   | key        | when            | content                                                 |
 *   |------------|-----------------|---------------------------------------------------------|
 *   | status     | always          | "pending": counted and durable at the verifier, not yet  |
 *   |            |                 | acknowledged by the log; "logged": the log gave it an    |
 *   |            |                 | index; "proven": a signed checkpoint covers it           |
 *   | hash       | always          | base64 (padded): the RFC 9162 leaf hash of entry         |
 *   | entry      | always          | base64 (padded): the log entry's bytes (core/protocol/entry)      |
 *   | receipt    | always          | "/receipts/" + lowercase hex of hash: where to poll      |
 *   | index      | logged, proven  | the entry's index in the log                             |
 *   | checkpoint | proven          | the signed checkpoint note (C2SP), cosignatures included |
 *   | proof      | proven          | array of base64 hashes: RFC 9162 PATH(index, size)       |
 *
 * The check (ov_receipt_check): hash = leaf hash of entry, entry is a onevoice entry, the
 * checkpoint carries the log's signature (and a quorum of witness cosignatures) for the
 * log's origin, index < its size, and the proof leads from hash to its root. */
#ifndef OV_RECEIPT_H
#define OV_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "protocol/entry.h"
#include "base/err.h"
#include "protocol/logreader.h"
#include "primitives/merkle.h"

#define OV_MAX_RECEIPT_LEN (256u * 1024u) /* bytes of the JSON */
#define OV_RECEIPT_PATH_PREFIX "/receipts/"
#define OV_RECEIPT_PATH_LEN (sizeof OV_RECEIPT_PATH_PREFIX - 1 + 2 * OV_HASH_LEN)

enum ov_receipt_status { OV_RECEIPT_PENDING = 1, OV_RECEIPT_LOGGED, OV_RECEIPT_PROVEN };

struct ov_receipt {
    enum ov_receipt_status status;
    uint8_t hash[OV_HASH_LEN];
    struct ov_buf entry;      /* up to OV_MAX_ENTRY_LEN bytes */
    uint64_t index;           /* logged and proven */
    struct ov_buf checkpoint; /* proven: the note, up to OV_NOTE_MAX_LEN bytes */
    size_t n_proof;           /* proven */
    uint8_t proof[OV_MERKLE_MAX_PROOF * OV_HASH_LEN];
};

/* An empty receipt (every buffer empty, status 0). */
void ov_receipt_init(struct ov_receipt *r);
/* Frees the buffers and zeroes r. Accepts NULL. */
void ov_receipt_clear(struct ov_receipt *r);

/* Parses the JSON strictly into r (initialised here). -OV_E_TOO_BIG over
 * OV_MAX_RECEIPT_LEN (or an entry, note or proof over its maximum), -OV_E_MALFORMED for
 * anything outside the table (wrong fields for the status, a receipt path that is not the
 * hash's, bad base64...), -OV_E_NOMEM. Only the syntax is checked here: see
 * ov_receipt_check. r is cleared on failure. */
OV_MUST_CHECK int ov_receipt_parse(struct ov_bytes json, struct ov_receipt *r);

/* Writes r as JSON, keys sorted, compact. out is initialised here (max
 * OV_MAX_RECEIPT_LEN). -OV_E_MALFORMED when r breaks the table's rules, -OV_E_TOO_BIG,
 * -OV_E_NOMEM; out is cleared on failure. */
OV_MUST_CHECK int ov_receipt_format(const struct ov_receipt *r, struct ov_buf *out);

/* The receipt path of a leaf hash, NUL-terminated, into out (OV_RECEIPT_PATH_LEN + 1). */
void ov_receipt_path(const uint8_t hash[OV_HASH_LEN], char out[OV_RECEIPT_PATH_LEN + 1]);

/* Checks a receipt offline (see the top). log holds the log's key, the witnesses' keys and
 * the quorum (its url is not used). On success, when entry is not NULL, *entry holds the
 * decoded entry (the caller's to ov_entry_clear) so the caller can compare it with what it
 * submitted. -OV_E_STATE (not proven, or fewer than quorum cosignatures), -OV_E_BAD_PROOF
 * (hash is not the entry's, or the proof does not lead to the checkpoint's root),
 * -OV_E_BAD_SIG (the checkpoint is not signed by the log, a trusted witness's cosignature
 * is bad, or it names another origin), -OV_E_MALFORMED (an entry that is not a onevoice
 * entry, a malformed checkpoint, an index past its size), -OV_E_NOMEM. */
OV_MUST_CHECK int ov_receipt_check(const struct ov_receipt *r, const struct ov_logreader_cfg *log,
                                   struct ov_entry *entry);

#endif
