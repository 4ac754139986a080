/* entry: the onevoice log entries (docs/PROTOCOL.md §3), the TokenChallenge a context's
 * tokens answer, and the signed action. Every part that writes or reads the log uses this
 * one module: the issuer (context, enrollment, issuance), the verifier (action, tally), the
 * auditor and the wallet (all of them).
 *
 * Encoding: one deterministic-CBOR map per entry (core/primitives/cbor), text keys, always "kind" and
 * "v" (= 1). Decoding is strict: exact key set per kind, every bound checked, ids are slugs.
 * Strings are stored NUL-terminated in fixed arrays after decoding; text fields may not
 * contain control characters (so no NUL). */
#ifndef OV_ENTRY_H
#define OV_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "primitives/pp.h"
#include "primitives/sign.h"

#define OV_ENTRY_VERSION 1
/* The one limit on an encoded entry, in bytes: a C2SP entry bundle (core/primitives/tiles)
 * prefixes each entry with its length as a u16. Producers' encoders, the log's append
 * request (core/protocol/logreq) and every reader cap entries with it. Two other limits are
 * not entry sizes: OV_MAX_CBOR_LEN (64 KiB, core/primitives/cbor), the CBOR profile's
 * default for any one message, a layer below entries (an entry fits it: entry.c asserts
 * so), and OV_LOG_MAX_REQUEST_LEN, an append request's, which carries many entries. */
#define OV_MAX_ENTRY_LEN 65535
#define OV_MAX_CONTEXT_ID_LEN 64   /* [a-z0-9-], starting with a letter or digit */
#define OV_MAX_TITLE_LEN 256
#define OV_MAX_CHOICES 64
#define OV_MAX_LABEL_LEN 128       /* a choice, a rating target, a platform name */
#define OV_MAX_ISSUER_NAME 128
#define OV_MAX_TALLY_ITEMS 4096
/* A statement round (docs/PROTOCOL.md §11.3): a statement's text, how many one participant
 * may write (the context's `statements`), how many a round holds (its tally entry must fit
 * one entry: every id in `result` and in at most one status list), an id's hex digits. */
#define OV_MAX_STATEMENT_LEN 1000
#define OV_MAX_STATEMENT_QUOTA 64
#define OV_MAX_ROUND_STATEMENTS 512
#define OV_STATEMENT_ID_LEN 32
#define OV_TALLY_CONSENSUS_MAX 10
#define OV_TALLY_MAX_GROUPS 5
#define OV_TAG_LEN 32
#define OV_PSEUDONYM_LEN OV_SIGN_PK_LEN

enum ov_entry_kind {
    OV_ENTRY_CONTEXT = 1,
    OV_ENTRY_ENROLLMENT,
    OV_ENTRY_ISSUANCE,
    OV_ENTRY_ACTION,
    OV_ENTRY_TALLY,
    OV_ENTRY_INVITATIONS,
    OV_ENTRY_STATEMENT /* decoded into u.action, with is_statement */
};

enum ov_context_type { OV_CONTEXT_ASSEMBLY = 1, OV_CONTEXT_RATING };

/* A rating round's kind (§11.3): a free scale with free targets, or a statement round whose
 * participants write statements and rate them as helpful (0..2) or agree (-1..1). */
#define OV_RATING_KIND_DEFINED 1
enum ov_rating_kind { OV_RATING_SCALE = 0, OV_RATING_HELPFULNESS = 1, OV_RATING_AGREEMENT = 2 };

enum ov_enroll_route {
    OV_ROUTE_INVITE = 1,
    OV_ROUTE_REGISTRAR,
    OV_ROUTE_ATTESTATION,
    OV_ROUTE_RECOVERY
};

struct ov_context {
    char id[OV_MAX_CONTEXT_ID_LEN + 1];
    char title[OV_MAX_TITLE_LEN + 1];
    enum ov_context_type type;
    size_t n_choices;                               /* assembly: 2..OV_MAX_CHOICES */
    char choices[OV_MAX_CHOICES][OV_MAX_LABEL_LEN + 1];
    int64_t scale_min, scale_max;                   /* rating: min < max */
    enum ov_rating_kind rating_kind;                /* rating: OV_RATING_SCALE unless set */
    uint64_t statements;                            /* per participant, 0..OV_MAX_STATEMENT_QUOTA */
    uint64_t opens, closes;                         /* POSIX seconds, opens < closes */
    uint64_t quota;                                 /* tokens per person, >= 1 */
    char issuer[OV_MAX_ISSUER_NAME + 1];            /* TokenChallenge issuer_name */
    uint8_t token_key[OV_MAX_TOKEN_KEY_LEN];        /* the SPKI (RFC 9578) */
    size_t token_key_len;
    uint8_t token_key_id[OV_PP_NID];                /* SHA-256(token_key) */
    uint64_t time;
};

/* The log deduplicates entries by leaf hash, so each enrollment and issuance entry carries a
 * serial `n` that makes it unique: without it two enrollments (or two issuances to one person)
 * in the same second would be one leaf, and the public count would be short. */
struct ov_enrollment {
    enum ov_enroll_route route;
    uint64_t n;    /* the issuer's enrollment serial: 1, 2, 3... over all routes */
    uint64_t time;
};

/* A batch of invitation codes the issuer made (the codes never appear): for the draw `draw`
 * (a sortition draw id, docs/PROTOCOL.md §10) or, with draw empty, for none. total is the
 * number of codes made so far for that draw (or for none), this batch included, so each
 * batch's entry is a distinct leaf and anyone can check that a draw's invitations never
 * exceed its panel and reserves, and that enrollments by invitation never exceed the
 * invitations logged before them. */
#define OV_MAX_INVITES_BATCH 100000
struct ov_invitations {
    char draw[OV_MAX_CONTEXT_ID_LEN + 1]; /* "" for none; else an id as a context's */
    uint64_t count;                       /* 1..OV_MAX_INVITES_BATCH */
    uint64_t total;                       /* >= count */
    uint64_t time;
};

struct ov_issuance {
    char context[OV_MAX_CONTEXT_ID_LEN + 1];
    uint8_t tag[OV_TAG_LEN]; /* keyed hash of (enrollee, context): counts, never links */
    uint64_t n;              /* this tag's issuance number in the context: 1..quota */
    uint64_t time;
};

/* A vote (assembly: choice), a rating (rating round: target and rating) or a statement
 * (statement round: text; entry kind "statement"), signed by the one-time key `pseudonym`.
 * The first action of a pseudonym carries the token whose nonce is SHA-256(pseudonym). */
struct ov_action {
    char context[OV_MAX_CONTEXT_ID_LEN + 1];
    uint8_t pseudonym[OV_PSEUDONYM_LEN];
    bool has_token;
    uint8_t token[OV_PP_TOKEN_LEN];
    bool is_rating;
    char choice[OV_MAX_LABEL_LEN + 1]; /* assembly */
    char target[OV_MAX_LABEL_LEN + 1]; /* rating round */
    int64_t rating;                    /* rating round */
    bool is_statement;                 /* then neither a choice nor a rating */
    char text[OV_MAX_STATEMENT_LEN + 1];
    char platform[OV_MAX_LABEL_LEN + 1];
    uint8_t sig[OV_SIGN_SIG_LEN];
    uint64_t time;                     /* set by the verifier when it counts it */
};

#define OV_TALLY_PLURALITY "onevoice/plurality/v1" /* result: {choice: count} */
#define OV_TALLY_RATINGS "onevoice/ratings/v1"     /* result: {target: [count, sum]} */

struct ov_tally_item {
    char name[OV_MAX_LABEL_LEN + 1];
    uint64_t count;
    int64_t sum; /* ratings only */
};

typedef char ov_statement_id_str[OV_STATEMENT_ID_LEN + 1];

/* A statement round's results in its tally (§11.3): the seed, both algorithms' result
 * hashes and what a reader wants without recomputing. */
struct ov_tally_results {
    uint8_t seed[32];
    uint32_t min_ratings_per_rater, min_raters_per_note;
    uint8_t bridging[32], groups[32]; /* SHA-256 of each algorithm's result bytes */
    size_t n_helpful, n_not_helpful;
    ov_statement_id_str *helpful, *not_helpful; /* owned; each sorted */
    size_t k;                               /* groups, 0..OV_TALLY_MAX_GROUPS */
    uint64_t sizes[OV_TALLY_MAX_GROUPS];
    size_t n_consensus;                     /* 0..OV_TALLY_CONSENSUS_MAX */
    ov_statement_id_str consensus[OV_TALLY_CONSENSUS_MAX];
};

struct ov_tally {
    char context[OV_MAX_CONTEXT_ID_LEN + 1];
    uint64_t size; /* the log size the count covers: entries [0, size) */
    bool ratings;  /* algorithm: OV_TALLY_RATINGS, else OV_TALLY_PLURALITY */
    size_t n;
    struct ov_tally_item *items; /* owned; sorted by name (bytewise) */
    bool has_results;            /* a statement round's (ratings only) */
    struct ov_tally_results results;
    uint64_t time;
};

/* A decoded entry of any kind. */
struct ov_entry {
    enum ov_entry_kind kind;
    union {
        struct ov_context context;
        struct ov_enrollment enrollment;
        struct ov_issuance issuance;
        struct ov_action action;
        struct ov_tally tally;
        struct ov_invitations invitations;
    } u;
};

/* 0 if s is a context id: 1..64 of [a-z0-9-], not starting with '-'. */
OV_MUST_CHECK int ov_context_id_check(const char *s);
/* 0 if s is a label (choice, target, platform): 1..OV_MAX_LABEL_LEN bytes of UTF-8 with
 * no control character. */
OV_MUST_CHECK int ov_label_check(const char *s);
/* The same rule with another maximum (titles: OV_MAX_TITLE_LEN). */
OV_MUST_CHECK int ov_text_check(const char *s, size_t max);

/* Encodes e into out (initialised here, max OV_MAX_ENTRY_LEN). -OV_E_MALFORMED when a field
 * breaks its rule, -OV_E_TOO_BIG (over OV_MAX_ENTRY_LEN or a cap), -OV_E_NOMEM. */
OV_MUST_CHECK int ov_entry_encode(const struct ov_entry *e, struct ov_buf *out);
/* Decodes one entry strictly. The caller owns *e (ov_entry_clear: tallies hold memory).
 * -OV_E_MALFORMED / -OV_E_NONCANONICAL / -OV_E_TRUNCATED / -OV_E_TRAILING / -OV_E_TOO_BIG
 * (over OV_MAX_ENTRY_LEN, checked first); *e is zeroed on failure. On success only kind and
 * the member of e->u that kind names are defined (the rest of the union is not zeroed). */
OV_MUST_CHECK int ov_entry_decode(struct ov_bytes in, struct ov_entry *e);
/* Frees what e holds and zeroes the part its kind used (kind 0: all of it). */
void ov_entry_clear(struct ov_entry *e);
/* Whether in is shaped as a onevoice entry, which is all the log asks of what it appends
 * (docs/PROTOCOL.md §3): one map in core/cbor's profile whose "kind" is text of at most 32
 * bytes. Builds no tree. The profile check's codes, or -OV_E_MALFORMED (not a map, a kind
 * that is not text), -OV_E_NOT_FOUND (no kind), -OV_E_TOO_BIG (a longer kind). */
OV_MUST_CHECK int ov_entry_check_shape(struct ov_bytes in);

/* 0 if s is a statement id: OV_STATEMENT_ID_LEN lowercase hex digits. */
OV_MUST_CHECK int ov_statement_id_check(const char *s);
/* The id of statement `text` in context `context` (§11.3): the lowercase hex of the first 16
 * bytes of SHA-256("onevoice/v1/statement" || 0x00 || context || 0x00 || text). */
OV_MUST_CHECK int ov_statement_id(const char *context, const char *text,
                                  char out[OV_STATEMENT_ID_LEN + 1]);

/* The RFC 9577 TokenChallenge for context `id` of issuer `issuer`: token type 2,
 * issuer_name = issuer, redemption_context = SHA-256("onevoice/v1/redemption-context" ||
 * 0x00 || id), origin_info empty. out must hold OV_ENTRY_MAX_CHALLENGE_LEN bytes. The byte
 * layout and a worked example are in docs/PROTOCOL.md §7.1 (pinned by tests/unit/test_entry.c,
 * test_challenge_doc_example): change one, change both. */
#define OV_ENTRY_MAX_CHALLENGE_LEN (2 + 2 + OV_MAX_ISSUER_NAME + 1 + 32 + 2)
OV_MUST_CHECK int ov_entry_challenge(const char *issuer, const char *context_id, uint8_t *out,
                                     size_t out_max, size_t *out_len);

/* The bytes an action's signature covers: the deterministic CBOR map {"context",
 * "pseudonym", "platform", and "choice", or "target" and "rating", or "text"}, signed with
 * purpose OV_SIGN_ACTION. out is initialised here. */
OV_MUST_CHECK int ov_action_signed_bytes(const struct ov_action *a, struct ov_buf *out);
/* Signs a (fills a->sig and a->pseudonym from key). */
OV_MUST_CHECK int ov_action_sign(struct ov_action *a, const struct ov_sign_key *key);
/* Checks the action's signature under its pseudonym and, when it carries a token, that the
 * token's nonce is SHA-256(pseudonym): -OV_E_BAD_SIG, -OV_E_MALFORMED. (The token's own
 * signature and challenge are the caller's to check against the context's key.) */
OV_MUST_CHECK int ov_action_verify(const struct ov_action *a);

#endif
