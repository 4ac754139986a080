/* note: C2SP signed notes (c2sp.org/signed-note), verifier keys (vkeys), checkpoints
 * (c2sp.org/tlog-checkpoint) and Ed25519 cosignatures (c2sp.org/tlog-cosignature, v1).
 *
 * This module owns the byte formats below; note.c documents them as tables. Parsers borrow:
 * every ov_bytes they return points into the caller's input, which must outlive the result.
 * Parsing never does crypto; ov_note_verify does. A note is accepted only if at least one
 * signature from a known (name, key ID) verifies and every known one verifies.
 *
 * Signed note (UTF-8, no byte below 0x20 except 0x0A):
 *     <text, one or more lines, each ending in 0x0A>   (may contain empty lines)
 *     0x0A                                              (the last empty line splits)
 *     "— " <key name> " " base64(key ID[4] || signature) 0x0A      (one or more)
 * Key ID = SHA-256(name || 0x0A || type || public key)[:4], big-endian.
 * vkey   = <name> "+" <8 lowercase hex digits of the key ID> "+" base64(type || public key).
 * Checkpoint text = origin 0x0A, decimal tree size 0x0A, base64(root) 0x0A, [extension 0x0A]*.
 * cosignature/v1 blob = key ID[4] || u64be timestamp || Ed25519 signature over
 *     "cosignature/v1\ntime <timestamp>\n" || checkpoint text. */
#ifndef OV_NOTE_H
#define OV_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/sign.h"

#define OV_NOTE_MAX_LEN 65536      /* a whole signed note, signatures included */
#define OV_NOTE_MAX_SIGS 64        /* signature lines per note (C2SP: at least 16) */
#define OV_NOTE_MAX_NAME_LEN 255   /* bytes of a key name */
#define OV_NOTE_MAX_SIG_LEN 5120   /* decoded bytes of one signature (post-quantum: ~5 kB) */
#define OV_NOTE_MAX_VKEY_LEN 512   /* a vkey string */

#define OV_NOTE_TYPE_ED25519 0x01  /* note signature by a log (signed-note) */
#define OV_NOTE_TYPE_COSIG_V1 0x04 /* timestamped Ed25519 cosignature (tlog-cosignature) */

#define OV_NOTE_ED25519_SIG_LEN (4 + OV_SIGN_SIG_LEN)  /* 68: key ID || signature */
#define OV_COSIG_SIG_LEN (4 + 8 + OV_SIGN_SIG_LEN)     /* 76: key ID || time || signature */
#define OV_COSIG_MAX_TIME ((uint64_t)INT64_MAX)        /* timestamps are below 2^63 */
#define OV_CHECKPOINT_HASH_LEN 32

/* A public key that verifies notes: parsed from a vkey or built with ov_note_verifier_init. */
struct ov_note_verifier {
    char name[OV_NOTE_MAX_NAME_LEN + 1]; /* NUL-terminated */
    size_t name_len;
    uint8_t type;                        /* OV_NOTE_TYPE_ED25519 or OV_NOTE_TYPE_COSIG_V1 */
    uint32_t key_id;
    uint8_t pk[OV_SIGN_PK_LEN];
};

/* One signature line, as written. All views borrow from the parsed input. */
struct ov_note_sig {
    struct ov_bytes name; /* the key name */
    struct ov_bytes b64;  /* the base64 blob, key ID included */
    uint32_t key_id;      /* the blob's first four bytes, big-endian */
};

/* A parsed (not yet verified) signed note. */
struct ov_note {
    struct ov_bytes text; /* the signed text, final newline included */
    size_t n_sigs;
    struct ov_note_sig sigs[OV_NOTE_MAX_SIGS];
};

/* What ov_note_verify found for one trusted verifier. */
struct ov_note_check {
    int verified;       /* 1: a line from this key was present and its signature is valid */
    uint64_t timestamp; /* cosignature/v1 only: the signed time (else 0) */
};

/* A checkpoint's fields. origin and extensions borrow from the parsed text. */
struct ov_checkpoint {
    struct ov_bytes origin;     /* the first line, without its newline */
    uint64_t size;
    uint8_t root[OV_CHECKPOINT_HASH_LEN];
    struct ov_bytes extensions; /* zero or more non-empty lines, each with its newline */
};

/* A key that signs notes (type 0x01) or cosigns checkpoints (type 0x04). Opaque. */
struct ov_note_signer;

/* ---- names, key IDs, verifiers ---- */

/* 0 if name is a valid key name: 1..OV_NOTE_MAX_NAME_LEN bytes of UTF-8 with no Unicode
 * space, no '+' and no control byte; else -OV_E_MALFORMED or -OV_E_TOO_BIG. */
OV_MUST_CHECK int ov_note_name_check(struct ov_bytes name);
/* SHA-256(name || 0x0A || type || pk): the hash whose first four bytes are the key ID. */
void ov_note_key_hash(struct ov_bytes name, uint8_t type, const uint8_t pk[OV_SIGN_PK_LEN],
                      uint8_t out[32]);
uint32_t ov_note_key_id(struct ov_bytes name, uint8_t type, const uint8_t pk[OV_SIGN_PK_LEN]);
/* Fills *v (computing the key ID). -OV_E_MALFORMED for a bad name, an unsupported type or a
 * public key that is not a valid Ed25519 point; *v is zeroed on failure. */
OV_MUST_CHECK int ov_note_verifier_init(struct ov_note_verifier *v, struct ov_bytes name,
                                        uint8_t type, const uint8_t pk[OV_SIGN_PK_LEN]);
/* Splits "<name>+<hex8>+<rest>" at the first two '+' (the vkey and skey layout): the key ID
 * must be exactly 8 lowercase hex digits. Checks nothing else (not the name, not rest).
 * Views borrow from in. -OV_E_MALFORMED; outputs emptied on failure. */
OV_MUST_CHECK int ov_note_vkey_split(struct ov_bytes in, struct ov_bytes *name,
                                     uint32_t *key_id, struct ov_bytes *b64);
/* Parses a vkey exactly (no surrounding whitespace, lowercase hex, padded base64, the key ID
 * must match). -OV_E_TOO_BIG over OV_NOTE_MAX_VKEY_LEN, -OV_E_MALFORMED; *v zeroed. */
OV_MUST_CHECK int ov_note_vkey_parse(struct ov_bytes vkey, struct ov_note_verifier *v);
/* Appends the vkey (no newline) to out. -OV_E_TOO_BIG, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_note_vkey_format(const struct ov_note_verifier *v, struct ov_buf *out);

/* ---- signers ---- */

/* A signer named `name` of the given type, adopting `key` (freed here even on failure).
 * *out is the caller's (ov_note_signer_free). -OV_E_MALFORMED, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_note_signer_new(struct ov_bytes name, uint8_t type, struct ov_sign_key *key,
                                     struct ov_note_signer **out);
/* Frees the signer and wipes its key. Accepts NULL. */
void ov_note_signer_free(struct ov_note_signer *s);
/* The signer's public side (name, type, key ID, public key), valid while s lives. */
const struct ov_note_verifier *ov_note_signer_verifier(const struct ov_note_signer *s);

/* ---- signed notes ---- */

/* 0 if text may be signed: non-empty, valid UTF-8, no control byte but 0x0A, ending in 0x0A,
 * at most OV_NOTE_MAX_LEN bytes. Else -OV_E_MALFORMED or -OV_E_TOO_BIG. */
OV_MUST_CHECK int ov_note_text_check(struct ov_bytes text);
/* Parses the syntax of a signed note (no crypto). Rejects, with -OV_E_MALFORMED: invalid UTF-8,
 * control bytes, no blank line, no or unterminated signature lines, a line not starting with
 * "— ", a bad name, non-canonical base64, a blob under 5 bytes, and two lines with the same
 * (name, key ID). -OV_E_TOO_BIG over OV_NOTE_MAX_LEN, OV_NOTE_MAX_SIGS or OV_NOTE_MAX_SIG_LEN.
 * *out borrows from in; it is zeroed on failure. */
OV_MUST_CHECK int ov_note_parse(struct ov_bytes in, struct ov_note *out);
/* Checks the signatures of the trusted verifiers vs[0..n_vs). Lines whose (name, key ID) match
 * no verifier are ignored. 0 when at least one verifies and none fails; -OV_E_BAD_SIG when a
 * known key's signature fails (the whole note is rejected), -OV_E_UNKNOWN_KEY when no known key
 * signed, -OV_E_CONFLICT when two verifiers share a (name, key ID), -OV_E_NOMEM. checks (NULL or
 * n_vs entries) reports per verifier; all zero on failure. */
OV_MUST_CHECK int ov_note_verify(const struct ov_note *n, const struct ov_note_verifier *vs,
                                 size_t n_vs, struct ov_note_check *checks);
/* ov_note_parse then ov_note_verify. */
OV_MUST_CHECK int ov_note_open(struct ov_bytes in, const struct ov_note_verifier *vs,
                               size_t n_vs, struct ov_note *out, struct ov_note_check *checks);
/* Writes the note back (text, blank line, every signature line as read): the exact input of
 * ov_note_parse. out is initialised here (max OV_NOTE_MAX_LEN); cleared on failure. */
OV_MUST_CHECK int ov_note_serialize(const struct ov_note *n, struct ov_buf *out);
/* Appends "— <name> base64(key ID || Ed25519(text))\n" for a type-0x01 signer. out is the
 * caller's (already initialised); on failure it is left as it was. -OV_E_MALFORMED (text or
 * signer type), -OV_E_TOO_BIG, -OV_E_NOMEM, -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_note_sign_line(const struct ov_note_signer *s, struct ov_bytes text,
                                    struct ov_buf *out);
/* text, the blank line, then one line per type-0x01 signer, in order. out is initialised here
 * (max OV_NOTE_MAX_LEN) and cleared on failure. Errors as ov_note_sign_line. */
OV_MUST_CHECK int ov_note_sign(struct ov_bytes text, const struct ov_note_signer *const *signers,
                               size_t n_signers, struct ov_buf *out);

/* ---- checkpoints ---- */

/* Parses checkpoint note text strictly: note-text rules, non-empty origin, tree size in decimal
 * without sign or leading zeros (< 2^64), root as padded base64 of exactly 32 bytes, extension
 * lines non-empty. -OV_E_MALFORMED, -OV_E_NONCANONICAL (leading zero), -OV_E_RANGE (overflow),
 * -OV_E_TOO_BIG. *out borrows from text; zeroed on failure. */
OV_MUST_CHECK int ov_checkpoint_parse(struct ov_bytes text, struct ov_checkpoint *out);
/* The note text of c (which ov_checkpoint_parse gives back unchanged). out is initialised
 * here (max OV_NOTE_MAX_LEN) and cleared on failure. -OV_E_MALFORMED for an empty origin,
 * a bad extension block or bytes a note may not hold, -OV_E_TOO_BIG, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_checkpoint_format(const struct ov_checkpoint *c, struct ov_buf *out);

/* ---- cosignature/v1 ---- */

/* The signed message "cosignature/v1\ntime <t>\n" || text. out is initialised here and cleared
 * on failure. -OV_E_RANGE for t >= 2^63, -OV_E_MALFORMED (text), -OV_E_TOO_BIG, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_cosig_message(struct ov_bytes text, uint64_t t, struct ov_buf *out);
/* Splits a decoded 76-byte cosignature/v1 blob. -OV_E_MALFORMED (length), -OV_E_RANGE (time
 * >= 2^63); outputs zeroed on failure. */
OV_MUST_CHECK int ov_cosig_blob_parse(const uint8_t *blob, size_t len, uint32_t *key_id,
                                      uint64_t *t, uint8_t sig[OV_SIGN_SIG_LEN]);
/* Appends the cosignature line "— <name> base64(key ID || u64be(t) || sig)\n" of a type-0x04
 * signer over checkpoint text. Same contract as ov_note_sign_line, plus -OV_E_RANGE. */
OV_MUST_CHECK int ov_cosig_sign_line(const struct ov_note_signer *s, struct ov_bytes text,
                                     uint64_t t, struct ov_buf *out);

#endif
