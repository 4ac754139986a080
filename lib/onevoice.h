/* onevoice.h: the onevoice platform library (libonevoice), what a platform — a forum, a
 * petition site, a deliberation tool — links against to gate votes and ratings with
 * onevoice tokens, and what anyone uses to check a receipt.
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
 *            then verified offline against that key.
 *   action   a citizen's signed vote or rating, as the wallet sends it (JSON), with its token
 *            in the body or in an `Authorization: PrivateToken token=...` header.
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

/* The error's stable name ("bad_sig", "bad_proof", "malformed", "http"...). Never NULL. */
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
/* Offline: 0 when a is for context c, names a choice it offers (or a rating on its scale),
 * is signed by its pseudonym, and any token it carries passes onevoice_token_verify for
 * that pseudonym. A rating without token is a later rating of an admitted pseudonym: only
 * the verifier can tell whether it was admitted. */
int onevoice_action_verify(const struct onevoice_context *c, const struct onevoice_action *a);

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

#ifdef __cplusplus
}
#endif

#endif
