/* keyfile: creating and loading secret key files, and the secrets they hold.
 *
 * This module owns `struct ov_secret` (generic secret bytes: a pepper, an admin secret) and
 * the on-disk formats of secrets. Every file is one line ending in 0x0A, nothing else:
 *
 *   | kind      | line                                                                     |
 *   |-----------|--------------------------------------------------------------------------|
 *   | secret    | "onevoice-secret/v1 " <label> " " base64(secret bytes)                   |
 *   | Ed25519   | the same, label "ed25519-seed", 32 bytes: the RFC 8032 seed               |
 *   | note key  | "PRIVATE+KEY+" <name> "+" <hex8 key ID> "+" base64(type || 32-byte seed) |
 *
 * base64 is RFC 4648 §4, padded, canonical; labels are 1..OV_KEYFILE_MAX_LABEL_LEN bytes of
 * [a-z0-9-] and make loading one kind of secret as another fail. The note-key line is
 * golang.org/x/mod/sumdb/note's signer key ("skey"), which is not part of C2SP; we also allow
 * type 0x04 (a cosignature/v1 witness key) where x/mod knows only 0x01. Its key ID must match
 * the one derived from the seed, so a corrupted file is refused, never used.
 *
 * Creation uses O_CREAT|O_EXCL and mode 0600 and never overwrites anything (-OV_E_EXISTS),
 * then fsyncs the file and its directory. Loading reads at most OV_KEYFILE_MAX_LEN bytes into
 * guarded memory and refuses (-OV_E_STATE) a file that is not a regular file or whose mode
 * grants any permission to group or others. Secrets are wiped on every path. */
#ifndef OV_KEYFILE_H
#define OV_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/note.h"
#include "primitives/sign.h"

#define OV_KEYFILE_MAX_LEN 1024        /* bytes of any key file */
#define OV_KEYFILE_MAX_SECRET_LEN 256  /* bytes of a generic secret */
#define OV_KEYFILE_MAX_LABEL_LEN 32
#define OV_KEYFILE_SEED_LABEL "ed25519-seed"

/* Secret bytes in sodium_malloc memory, read-only once filled. Opaque. */
struct ov_secret;

const uint8_t *ov_secret_ptr(const struct ov_secret *s);
size_t ov_secret_len(const struct ov_secret *s);
/* Wipes and frees. Accepts NULL. */
void ov_secret_free(struct ov_secret *s);

/* Creates `path` holding `len` fresh random bytes under `label`; *out (NULL to not keep them)
 * receives them, the caller's to ov_secret_free. -OV_E_EXISTS when path exists (nothing is
 * touched), -OV_E_IO, -OV_E_MALFORMED (label), -OV_E_RANGE (len 0 or over
 * OV_KEYFILE_MAX_SECRET_LEN), -OV_E_NOMEM, -OV_E_CRYPTO. */
OV_MUST_CHECK int ov_keyfile_create_secret(const char *path, const char *label, size_t len,
                                           struct ov_secret **out);
/* Loads a secret of exactly `len` bytes under `label`. -OV_E_NOT_FOUND, -OV_E_IO,
 * -OV_E_STATE (mode or file type), -OV_E_TOO_BIG, -OV_E_MALFORMED (format, label, length).
 * *out = NULL on failure. */
OV_MUST_CHECK int ov_keyfile_load_secret(const char *path, const char *label, size_t len,
                                         struct ov_secret **out);

/* An Ed25519 key in the secret format (label "ed25519-seed"). Same errors as above. */
OV_MUST_CHECK int ov_keyfile_create_sign_key(const char *path, struct ov_sign_key **out);
OV_MUST_CHECK int ov_keyfile_load_sign_key(const char *path, struct ov_sign_key **out);

/* A note signer (type OV_NOTE_TYPE_ED25519 or OV_NOTE_TYPE_COSIG_V1) named `name`, stored
 * as an x/mod skey line. *out (NULL to not keep it) is the caller's (ov_note_signer_free). */
OV_MUST_CHECK int ov_keyfile_create_note_key(const char *path, struct ov_bytes name,
                                             uint8_t type, struct ov_note_signer **out);
OV_MUST_CHECK int ov_keyfile_load_note_key(const char *path, struct ov_note_signer **out);
/* Parses an skey string exactly (no newline). -OV_E_TOO_BIG, -OV_E_MALFORMED (including a
 * key ID that does not match the seed), -OV_E_NOMEM, -OV_E_CRYPTO. *out = NULL on failure. */
OV_MUST_CHECK int ov_keyfile_skey_parse(struct ov_bytes skey, struct ov_note_signer **out);

#endif
