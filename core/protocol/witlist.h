/* witlist: the witnesses file that the verifier, the auditor and the wallet read: one
 * witness a line, its cosignature/v1 verifier key, optionally after its URL ("[URL ]VKEY",
 * so the log's own --witnesses file serves as it is); blank lines and lines starting with
 * '#' are skipped, and blanks around a line are ignored. */
#ifndef OV_WITLIST_H
#define OV_WITLIST_H

#include <stddef.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/note.h"

#define OV_WITLIST_MAX_FILE (64u * 1024u)

struct ov_witness_line {
    struct ov_note_verifier key;
    char vkey[OV_NOTE_MAX_VKEY_LEN + 1]; /* the key as written, NUL-terminated */
};

/* Parses text into out[0..*n). -OV_E_MALFORMED (*bad_line: the 1-based line whose last field
 * is not a cosignature/v1 key), -OV_E_TOO_BIG (more than max witnesses, *bad_line the first
 * one too many; or text over OV_WITLIST_MAX_FILE, *bad_line 0). */
OV_MUST_CHECK int ov_witlist_parse(struct ov_bytes text, struct ov_witness_line *out, size_t max,
                                   size_t *n, size_t *bad_line);

/* Reads the file at path and parses it into out[0..*n) (its keys, max of them), saying why
 * not on stderr after "prog: " (the file and its line). Errors: those of reading the file,
 * and ov_witlist_parse's. */
OV_MUST_CHECK int ov_witlist_load(const char *prog, const char *path,
                                  struct ov_witness_line *out, size_t max, size_t *n);

#endif
