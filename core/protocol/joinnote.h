/* joinnote: the join bundle, one signed note an assembly publishes so that a citizen's wallet
 * is set up in one step (`onevoice init --join URL --log-vkey VKEY`) instead of four URLs and
 * a list of keys typed by hand (docs/PROTOCOL.md §12).
 *
 * The note is signed by the log's own checkpoint key, which the citizen pins: whoever can
 * sign it can also sign the log's checkpoints, so the bundle asks the citizen to trust no
 * key beyond the one they must trust anyway. Its first line, "onevoice/v1/join", is never a
 * log's origin (the log refuses that origin), so a join note never reads as a checkpoint of
 * the log, nor a checkpoint as a join note.
 *
 * Text (every line ends with '\n'; keys in this order; "?" optional, "*" repeatable):
 *
 *   | line                   | value                                                   |
 *   |------------------------|---------------------------------------------------------|
 *   | onevoice/v1/join       | (the first line, exactly)                               |
 *   | name TEXT ?            | the assembly's name for people, 1..256 bytes            |
 *   | log URL                | the log                                                 |
 *   | log-vkey VKEY          | the log's verifier key: the key that signed this note   |
 *   | witness VKEY *         | a witness's cosignature/v1 key, at most 16              |
 *   | quorum K               | cosignatures a checkpoint needs, 0..witnesses            |
 *   | issuer URL             | the issuer                                              |
 *   | verifier URL           | the verifier                                            |
 *   | relay URL ?            | an Oblivious HTTP relay for actions and receipt checks  |
 *   | web URL ?              | the transparency page                                   |
 *
 * URLs are http:// or https://, at most 1,024 bytes, without blanks, '?' or '#'. A reader
 * skips a line whose key it does not know (a later version may add some) but refuses a
 * known key out of order, twice (except witness) or malformed, and a missing required one.
 *
 * The log's --join FILE holds the lines the log cannot know (name, log, issuer, verifier,
 * relay, web) in the same "key value" form, any order, with blank lines and '#' comments;
 * the log adds the first line, its key, its witnesses and quorum, and signs. */
#ifndef OV_JOINNOTE_H
#define OV_JOINNOTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/note.h"

#define OV_JOIN_FIRST_LINE "onevoice/v1/join"
#define OV_JOIN_MAX_URL 1024
#define OV_JOIN_MAX_NAME 256
#define OV_JOIN_MAX_WITNESSES 16
#define OV_JOIN_MAX_FILE (16u * 1024u) /* the log's --join FILE */

struct ov_join {
    char name[OV_JOIN_MAX_NAME + 1]; /* "" when absent */
    char log[OV_JOIN_MAX_URL + 1];
    char log_vkey[OV_NOTE_MAX_VKEY_LEN + 1];
    char witnesses[OV_JOIN_MAX_WITNESSES][OV_NOTE_MAX_VKEY_LEN + 1];
    size_t n_witnesses;
    uint32_t quorum;
    char issuer[OV_JOIN_MAX_URL + 1];
    char verifier[OV_JOIN_MAX_URL + 1];
    char relay[OV_JOIN_MAX_URL + 1]; /* "" when absent */
    char web[OV_JOIN_MAX_URL + 1];   /* "" when absent */
};

/* Reads the log's --join FILE text into out (zeroed first): only name, log, issuer,
 * verifier, relay and web. -OV_E_MALFORMED with *bad_line (1-based) and *why (a short
 * phrase) for a line that is not one of them or is malformed, or a required key missing
 * (*bad_line 0). */
OV_MUST_CHECK int ov_join_fields_parse(struct ov_bytes text, struct ov_join *out,
                                       size_t *bad_line, const char **why);

/* The note text of j (the table's order). out is initialised here (max OV_NOTE_MAX_LEN) and
 * cleared on failure. -OV_E_MALFORMED (a field that breaks the table's rules), -OV_E_NOMEM. */
OV_MUST_CHECK int ov_join_text(const struct ov_join *j, struct ov_buf *out);

/* Parses note text (no signature lines) into out (zeroed first). -OV_E_MALFORMED with *why. */
OV_MUST_CHECK int ov_join_text_parse(struct ov_bytes text, struct ov_join *out,
                                     const char **why);

/* Opens a signed join note: the log's key (log, a type-0x01 note key) must have signed it,
 * and its log-vkey line must be that key. -OV_E_MALFORMED (not a signed note, or not a join
 * note's text: *why says), -OV_E_UNKNOWN_KEY (not signed by log), -OV_E_BAD_SIG
 * (its signature fails); -OV_E_MALFORMED too when its log-vkey line names another key. */
OV_MUST_CHECK int ov_join_open(struct ov_bytes note, const struct ov_note_verifier *log,
                               struct ov_join *out, const char **why);

#endif
