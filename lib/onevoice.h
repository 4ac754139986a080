/* onevoice.h: the onevoice platform library (libonevoice), what a platform — a forum, a
 * petition site, a deliberation tool — links against to gate votes, ratings and statements
 * with onevoice tokens, and what anyone uses to check a receipt.
 *
 * It owns nothing of the protocol itself (docs/PROTOCOL.md in the onevoice sources): it
 * wraps the same core the onevoice servers and wallet use, behind a small C API with no
 * other header to include. Link with `pkg-config --cflags --libs onevoice`.
 *
 *   log      a transparency log and the keys that vouch for it (its own key and a quorum
 *            of witnesses). Every check below that involves the log is against a checkpoint
 *            that carries the log's signature and that quorum of cosignatures.
 *   context  an assembly or rating round whose token key is PROVEN in the log (key
 *            transparency: an issuer cannot give some people a key of its own). Tokens are
 *            then verified offline against that key. A statement round is a rating round
 *            whose participants also write the statements they rate (PROTOCOL §11.3).
 *   action   a citizen's signed vote, rating or statement, as the wallet sends it (JSON),
 *            with its token in the body or in an `Authorization: PrivateToken token=...`
 *            header.
 *   results  a statement round's tally: the statements rated helpful and not helpful
 *            across viewpoints, the opinion groups and the statements of most consensus.
 *   verifier the service that counts actions once and logs them; it answers a receipt.
 *   receipt  proof that the action is in the log: checkable offline with the log's keys.
 *
 * Conventions: functions return 0 or a negative error (onevoice_strerror names it);
 * outputs are the caller's to free with the matching _free; nothing is thread-safe per
 * object (use one object per thread), and distinct objects may be used concurrently. */
#ifndef ONEVOICE_H
#define ONEVOICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONEVOICE_TOKEN_LEN 354             /* an RFC 9577 Token of type 0x0002 */
#define ONEVOICE_PSEUDONYM_LEN 32          /* a one-time Ed25519 public key */
#define ONEVOICE_HASH_LEN 32               /* a log leaf hash */
#define ONEVOICE_AUTHORIZATION_MAX 512     /* an Authorization: PrivateToken value, NUL included */
#define ONEVOICE_CHALLENGE_HEADER_MAX 2048 /* a WWW-Authenticate value, NUL included */
#define ONEVOICE_SEED_LEN 32               /* a one-time key's Ed25519 seed */
#define ONEVOICE_STATEMENT_MAX 1000        /* a statement's text, in bytes */
#define ONEVOICE_STATEMENT_ID_LEN 32       /* a statement id's hex digits (NUL not included) */

/* The error's stable name ("bad_signature", "bad_proof", "malformed", "http_error"...).
 * Never NULL. */
const char *onevoice_strerror(int err);

/* ---- the log ---- */

struct onevoice_log;

/* A log at url with its C2SP verifier key (vkey), and the cosignature/v1 verifier keys of
 * its witnesses, quorum of which must have cosigned every checkpoint used. Negative for a
 * key that does not parse or quorum > n_witnesses. */
int onevoice_log_new(const char *url, const char *vkey, const char *const *witnesses,
                     size_t n_witnesses, unsigned quorum, struct onevoice_log **out);
void onevoice_log_free(struct onevoice_log *log);

/* ---- contexts ---- */

struct onevoice_context;

/* Fetches context `id` from the issuer's public listing and proves in the log that its
 * context entry — every field, the token key included — is the one logged (it waits a few
 * seconds for a checkpoint to cover a context just created). Fails with the "bad_proof"
 * error when the issuer shows a key the log does not: such a key must never be trusted.
 * "not_found" when the issuer lists no such context. */
int onevoice_context_fetch(struct onevoice_log *log, const char *issuer_url, const char *id,
                           struct onevoice_context **out);
void onevoice_context_free(struct onevoice_context *c);
const char *onevoice_context_id(const struct onevoice_context *c);
/* 1 for a rating round, 0 for an assembly. */
int onevoice_context_is_rating(const struct onevoice_context *c);
/* 1 when opens <= now < closes (POSIX seconds). */
int onevoice_context_is_open(const struct onevoice_context *c, uint64_t now);
/* The index of the context's entry in the log. */
uint64_t onevoice_context_log_index(const struct onevoice_context *c);

/* A rating round's kind: a free scale, or a statement round's (PROTOCOL §11.3), which fixes
 * the scale: helpfulness 0..2 (2 helpful, 1 somewhat, 0 not helpful), agreement -1..1
 * (1 agree, -1 disagree, 0 pass). */
enum onevoice_rating_kind {
    ONEVOICE_RATING_SCALE = 0,
    ONEVOICE_RATING_HELPFULNESS = 1,
    ONEVOICE_RATING_AGREEMENT = 2
};
/* The kind of a rating round (ONEVOICE_RATING_SCALE for an assembly too). */
enum onevoice_rating_kind onevoice_context_rating_kind(const struct onevoice_context *c);
/* How many statements each participant of a statement round may write (1..64); 0 where
 * none are written (an assembly, a free rating round, a round that takes none). */
uint64_t onevoice_context_statement_quota(const struct onevoice_context *c);

/* Offline: 0 when token is a Token of this context: type 2, its logged key, the context's
 * TokenChallenge, a valid RSA-PSS signature, and — when pseudonym is not NULL — a nonce
 * that is SHA-256(pseudonym). Double spending is the verifier's to refuse, not this. */
int onevoice_token_verify(const struct onevoice_context *c, const uint8_t *token, size_t len,
                          const uint8_t *pseudonym);

/* The WWW-Authenticate value asking for a token of this context (RFC 9577 §2.1:
 * `PrivateToken challenge="...", token-key="..."`), NUL-terminated into out. */
int onevoice_challenge_header(const struct onevoice_context *c, char *out, size_t out_max);
/* Client side: 0 when the WWW-Authenticate value carries a PrivateToken challenge for this
 * context, and any token-key it names is the logged key; the "unknown_key" error when a
 * challenge for this context names another key; "not_found" when none is for it. */
int onevoice_challenge_check(const struct onevoice_context *c, const char *value, size_t len);

/* ---- RFC 9577 Authorization headers ---- */

/* Parses an `Authorization: PrivateToken token=...` value into token. */
int onevoice_authorization_parse(const char *value, size_t len,
                                 uint8_t token[ONEVOICE_TOKEN_LEN]);
/* Writes `PrivateToken token="..."` (NUL-terminated, at most ONEVOICE_AUTHORIZATION_MAX). */
int onevoice_authorization_format(const uint8_t token[ONEVOICE_TOKEN_LEN], char *out,
                                  size_t out_max);

/* ---- actions ---- */

struct onevoice_action;

/* Parses the JSON body of an action (as the wallet sends it to POST /actions) strictly. */
int onevoice_action_parse(const char *json, size_t len, struct onevoice_action **out);
void onevoice_action_free(struct onevoice_action *a);
/* Attaches a token that came in an Authorization header ("conflict" if the body carries
 * another one). */
int onevoice_action_set_token(struct onevoice_action *a, const uint8_t token[ONEVOICE_TOKEN_LEN]);
int onevoice_action_has_token(const struct onevoice_action *a);
const char *onevoice_action_context(const struct onevoice_action *a);
const char *onevoice_action_platform(const struct onevoice_action *a);
/* Offline, the shape alone (no signature): 0 when a fits context c. Its id; a vote names a
 * choice c offers; a rating is in a rating round, on its scale, and in a statement round
 * rates a statement id; a statement is in a statement round that takes statements. The
 * "malformed" error for an action of the wrong kind or context, "out_of_range" for a
 * choice or rating c does not offer. */
int onevoice_action_fits(const struct onevoice_context *c, const struct onevoice_action *a);
/* Offline: 0 when a fits c (onevoice_action_fits), is signed by its pseudonym, and any
 * token it carries passes onevoice_token_verify for that pseudonym. An action without token
 * is a later action of an admitted pseudonym: only the verifier can tell whether it was
 * admitted. */
int onevoice_action_verify(const struct onevoice_context *c, const struct onevoice_action *a);
/* 1 for a statement (then onevoice_action_text is its text), else 0. */
int onevoice_action_is_statement(const struct onevoice_action *a);
/* A statement's text; NULL for a vote or rating. */
const char *onevoice_action_text(const struct onevoice_action *a);

/* ---- statement rounds (PROTOCOL §11.3) ---- */

/* The id of statement `text` in context `context`, NUL-terminated into out: lowercase hex
 * of the first 16 bytes of SHA-256("onevoice/v1/statement" 0x00 context 0x00 text). The
 * same text is one statement; nobody can put another text behind an id. "malformed" for a
 * context id or text that breaks its rule. */
int onevoice_statement_id(const char *context, const char *text,
                          char out[ONEVOICE_STATEMENT_ID_LEN + 1]);
/* Builds and signs a statement (1..ONEVOICE_STATEMENT_MAX bytes of UTF-8 text without
 * control characters) in `context`, made on `platform`, with the one-time key whose seed is
 * `seed` (its public key is the pseudonym). token (ONEVOICE_TOKEN_LEN bytes, or NULL) goes
 * with the pseudonym's first action only. The caller frees *out (onevoice_action_free);
 * submit it with onevoice_submit. "malformed" for a field that breaks its rule. */
int onevoice_statement_new(const char *context, const char *text, const char *platform,
                           const uint8_t seed[ONEVOICE_SEED_LEN], const uint8_t *token,
                           struct onevoice_action **out);
/* The same for a rating of `target` (in a statement round a statement's id). */
int onevoice_rating_new(const char *context, const char *target, int64_t rating,
                        const char *platform, const uint8_t seed[ONEVOICE_SEED_LEN],
                        const uint8_t *token, struct onevoice_action **out);

/* ---- the verifier and receipts ---- */

struct onevoice_verifier;

struct onevoice_answer {
    unsigned status;  /* the verifier's HTTP status; 0 when it did not answer */
    char reason[64];  /* its error code on a refusal ("token_spent"...), else "" */
};

int onevoice_verifier_new(const char *url, struct onevoice_verifier **out);
void onevoice_verifier_free(struct onevoice_verifier *v);
/* Submits a (its token, if any, in an Authorization header) and, with wait_proof, waits a
 * little for the log's proof. On success *receipt (malloc'd, NUL-terminated, the caller
 * frees it) is the verifier's receipt JSON, checked to be for this very action. The "http"
 * error with ans filled for a refusal (e.g. 409 token_spent) or no answer. */
int onevoice_submit(struct onevoice_verifier *v, const struct onevoice_action *a, int wait_proof,
                    char **receipt, size_t *receipt_len, struct onevoice_answer *ans);
/* Submits a[0..n) in one request (POST /actions/batch; 1..ONEVOICE_BATCH_MAX actions, each
 * with its token, if any, in its own line): what a platform that gathers many actions
 * sends. Returns 0 when the verifier answered the batch; then for each i, ans[i] is a[i]'s
 * answer: 200 or 202 with receipts[i] its receipt JSON (malloc'd, NUL-terminated, checked
 * to be for a[i]; receipt_lens[i] its length), or a refusal's status and reason with
 * receipts[i] NULL. The "http" error with *batch_ans filled when the batch itself was
 * refused or not answered; "too_big" for n out of range or a body over the verifier's
 * 512 KiB (256 actions as the wallet writes them always fit). */
#define ONEVOICE_BATCH_MAX 256
int onevoice_submit_batch(struct onevoice_verifier *v, const struct onevoice_action *const *a,
                          size_t n, int wait_proof, char **receipts, size_t *receipt_lens,
                          struct onevoice_answer *ans, struct onevoice_answer *batch_ans);
/* Fetches the receipt of the action whose leaf hash is hash (wait_proof as above). */
int onevoice_receipt_fetch(struct onevoice_verifier *v, const uint8_t hash[ONEVOICE_HASH_LEN],
                           int wait_proof, char **receipt, size_t *receipt_len,
                           struct onevoice_answer *ans);
/* Offline: 0 when the receipt proves its entry in the log (its checkpoint signed by the log
 * with the quorum of cosignatures, the inclusion proof leading to its root); the entry's
 * leaf hash into hash when not NULL. "state" for a receipt that has no proof yet. */
int onevoice_receipt_check(const struct onevoice_log *log, const char *json, size_t len,
                           uint8_t hash[ONEVOICE_HASH_LEN]);

/* ---- a statement round's results ---- */

struct onevoice_results;

/* The lists of statement ids in a round's results. */
enum onevoice_results_list {
    ONEVOICE_RESULTS_HELPFUL = 0,     /* rated helpful across viewpoints (bridging), by id */
    ONEVOICE_RESULTS_NOT_HELPFUL = 1, /* rated not helpful, by id */
    ONEVOICE_RESULTS_CONSENSUS = 2    /* the statements of most consensus, best first */
};

/* Fetches GET /tallies/<context> from the verifier: a statement round's results, final once
 * its tally entry is written, provisional (what is counted so far) before. The "http_error"
 * with ans filled (e.g. 404 unknown_context) for a refusal or no answer; "not_found" for a
 * context that is not a statement round; "malformed" for an answer that is not results.
 * ans may be NULL. The caller frees *out (onevoice_results_free). */
int onevoice_results_fetch(struct onevoice_verifier *v, const char *context,
                           struct onevoice_results **out, struct onevoice_answer *ans);
/* The same from the JSON of GET /tallies/<context>, got by other means. */
int onevoice_results_parse(const char *json, size_t len, struct onevoice_results **out);
void onevoice_results_free(struct onevoice_results *r);
/* 1 once the tally entry is in the log (the results are final), 0 while provisional. */
int onevoice_results_final(const struct onevoice_results *r);
/* The log size the results count: entries [0, size). */
uint64_t onevoice_results_size(const struct onevoice_results *r);
/* How many ids the list holds, and the i-th (NUL-terminated, ONEVOICE_STATEMENT_ID_LEN hex
 * digits; NULL past the end). Valid until onevoice_results_free. */
size_t onevoice_results_count(const struct onevoice_results *r, enum onevoice_results_list list);
const char *onevoice_results_id(const struct onevoice_results *r, enum onevoice_results_list list,
                                size_t i);
/* The opinion groups: how many (0..5), and the i-th's size in participants (0 past the
 * end). */
size_t onevoice_results_groups(const struct onevoice_results *r);
uint64_t onevoice_results_group_size(const struct onevoice_results *r, size_t i);

#ifdef __cplusplus
}
#endif

#endif
