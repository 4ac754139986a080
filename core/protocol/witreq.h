/* witreq: the C2SP tlog-witness wire formats (c2sp.org/tlog-witness): the body of
 * POST <submission prefix>/add-checkpoint, and the text/x.tlog.size body of its 409 answer.
 * Shared by the witness (which parses requests) and the log (which builds them). No I/O and no
 * crypto here: parsing checks syntax only; signatures and proofs are the caller's to verify.
 *
 * add-checkpoint request body (every line ends in 0x0A, nothing else is allowed):
 *
 *   | line                       | content                                                  |
 *   |----------------------------|----------------------------------------------------------|
 *   | "old " <decimal> 0x0A      | the size the client believes the witness last cosigned:  |
 *   |                            | no sign, no leading zero (but "0"), below 2^64           |
 *   | <base64 hash> 0x0A         | 0..OV_WITREQ_MAX_PROOF lines: RFC 6962 PROOF(old, size), |
 *   |                            | each exactly 44 characters of padded, canonical RFC 4648 |
 *   |                            | §4 base64 of a 32-byte hash                              |
 *   | 0x0A                       | the empty line                                           |
 *   | <signed note>              | the rest of the body: a signed note (note.h) whose text  |
 *   |                            | is a checkpoint; 1..OV_NOTE_MAX_LEN bytes                |
 *
 * text/x.tlog.size body (409): <decimal size> 0x0A, the same decimal rules. */
#ifndef OV_WITREQ_H
#define OV_WITREQ_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/merkle.h"
#include "primitives/note.h"

/* C2SP: "The client MUST NOT send more than 63 consistency proof lines." */
#define OV_WITREQ_MAX_PROOF 63
#define OV_WITREQ_HASH_B64_LEN 44 /* padded base64 of 32 bytes */
/* The largest valid body: "old " + 20 digits + LF, the proof lines, LF, the note. */
#define OV_WITREQ_MAX_LEN                                                                          \
    (4 + 20 + 1 + OV_WITREQ_MAX_PROOF * (OV_WITREQ_HASH_B64_LEN + 1) + 1 + OV_NOTE_MAX_LEN)
#define OV_WITREQ_SIZE_CONTENT_TYPE "text/x.tlog.size"
#define OV_WITREQ_MAX_SIZE_LEN 21 /* 20 digits and LF */

/* A parsed add-checkpoint request. Every view borrows from the parsed body. */
struct ov_witreq {
    uint64_t old;
    size_t n_proof;
    uint8_t proof[OV_WITREQ_MAX_PROOF * OV_HASH_LEN]; /* hash i at 32·i */
    struct ov_bytes note_bytes;                       /* the signed note, exactly as sent */
    struct ov_note note;                              /* note_bytes parsed */
    struct ov_checkpoint cp;                          /* note.text parsed */
};

/* Parses an add-checkpoint body strictly (the table above), including the signed note
 * (ov_note_parse) and its text as a checkpoint (ov_checkpoint_parse). -OV_E_TOO_BIG over
 * OV_WITREQ_MAX_LEN, OV_WITREQ_MAX_PROOF lines or the note's maxima; -OV_E_MALFORMED,
 * -OV_E_NONCANONICAL (a leading zero) or -OV_E_RANGE (overflow) for anything else. *out
 * borrows from body and is zeroed on failure. */
OV_MUST_CHECK int ov_witreq_parse(struct ov_bytes body, struct ov_witreq *out);

/* Builds a body from its parts (proof: n_proof hashes of 32 bytes; note: a signed note, not
 * checked here). out is initialised here (max OV_WITREQ_MAX_LEN) and cleared on failure.
 * -OV_E_TOO_BIG (more than OV_WITREQ_MAX_PROOF hashes, or too long), -OV_E_NOMEM. */
OV_MUST_CHECK int ov_witreq_format(uint64_t old, const uint8_t *proof, size_t n_proof,
                                   struct ov_bytes note, struct ov_buf *out);

/* Parses a text/x.tlog.size body. -OV_E_MALFORMED, -OV_E_NONCANONICAL, -OV_E_RANGE,
 * -OV_E_TOO_BIG; *size = 0 on failure. */
OV_MUST_CHECK int ov_witreq_size_parse(struct ov_bytes body, uint64_t *size);
/* Writes "<size>\n" into out (OV_WITREQ_MAX_SIZE_LEN + 1 bytes, NUL-terminated); returns
 * its length without the NUL. Never fails. */
size_t ov_witreq_size_format(uint64_t size, char out[OV_WITREQ_MAX_SIZE_LEN + 1]);

#endif
