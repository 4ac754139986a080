/* issuerclient: the client side of the issuer's API (docs/PROTOCOL.md §7), for the citizen's
 * wallet and for operators' tools: enrollment by any route, the public context listing and
 * RFC 9578 directory, and Privacy Pass token issuance with the lost-response retry rule.
 * The message formats are core/issuerapi's; this module adds HTTP (core/infra/httpc), clocks and
 * signatures. An ov_issuerclient is not thread-safe (one per thread, as httpc).
 *
 * Getting a token, as a wallet does it:
 *   1. ov_issuerclient_contexts         the contexts (check each against the log first:
 *                                       the listing's log_index names its context entry)
 *   2. ov_token_job_init(ctx, nonce)    nonce = SHA-256(the one-time key's public key);
 *                                       builds the TokenChallenge (ov_entry_challenge) and
 *                                       the blinded TokenRequest; keep the job
 *   3. ov_issuerclient_token(job)       signs the request afresh with the enrollee key,
 *                                       sends it, finalizes and verifies the token.
 *      On a transport failure (status 0) or a 5xx, call it again with the SAME job: the
 *      issuer recognises the blinded message and answers the same blind signature without
 *      spending quota again, so a lost response never costs a voice. A new job would be a
 *      new token request and spend quota.
 *   4. ov_token_job_clear               wipes the blinding secret.
 *
 * Every call returns 0, or -OV_E_HTTP when the issuer could not be reached (st->status 0)
 * or refused (st->status and st->reason, the stable error code of §6/§7), -OV_E_MALFORMED
 * when its answer does not parse or does not verify, or another -OV_E_*. */
#ifndef OV_ISSUERCLIENT_H
#define OV_ISSUERCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "protocol/entry.h"
#include "base/err.h"
#include "protocol/issuerapi.h"
#include "primitives/pp.h"
#include "primitives/sign.h"

struct ov_issuerclient;

/* What the issuer answered: the HTTP status (0: not reached) and its error reason. */
struct ov_issuer_status {
    unsigned status;
    char reason[64];
    char message[256]; /* the refusal's "message", for people ("" when none) */
};

/* A client of the issuer at base_url (no trailing slash needed). -OV_E_TOO_BIG (URL),
 * -OV_E_NOMEM, -OV_E_HTTP. The caller owns *out (ov_issuerclient_free). */
OV_MUST_CHECK int ov_issuerclient_new(const char *base_url, struct ov_issuerclient **out);
/* Accepts NULL. */
void ov_issuerclient_free(struct ov_issuerclient *c);

/* ---- citizens ---- */

/* Enrolls `key` by req's route (req->route and its secret or attestation; the call fills
 * the key and the time and signs the body). *recovered says whether the issuer took it as
 * a recovery (the registrar's re-enrollment of a known identity with a new key). */
OV_MUST_CHECK int ov_issuerclient_enroll(struct ov_issuerclient *c, const struct ov_enroll_req *req,
                                         const struct ov_sign_key *key, bool *recovered,
                                         struct ov_issuer_status *st);

/* GET /contexts: *out (the caller frees it with free()) holds *n contexts, each checked
 * as ov_issuer_contexts_parse does. */
OV_MUST_CHECK int ov_issuerclient_contexts(struct ov_issuerclient *c,
                                           struct ov_issuer_context **out, size_t *n,
                                           struct ov_issuer_status *st);
/* GET /.well-known/private-token-issuer-directory. */
OV_MUST_CHECK int ov_issuerclient_directory(struct ov_issuerclient *c,
                                            struct ov_issuer_directory *out,
                                            struct ov_issuer_status *st);

/* One token being fetched; see the retry rule above. Holds the blinding secret. */
struct ov_token_job {
    char context[OV_MAX_CONTEXT_ID_LEN + 1];
    struct ov_pp_key key; /* the context's token key (owned) */
    uint8_t request[OV_PP_TOKEN_REQUEST_LEN];
    struct ov_pp_client_state st;
};

/* Prepares a token request for ctx with the given nonce (32 bytes; onevoice wallets use
 * SHA-256 of a fresh one-time Ed25519 public key). -OV_E_MALFORMED (ctx), -OV_E_* of
 * ov_pp_client_request. On failure *j holds nothing. */
OV_MUST_CHECK int ov_token_job_init(struct ov_token_job *j, const struct ov_issuer_context *ctx,
                                    const uint8_t nonce[OV_PP_NONCE_LEN]);
/* Wipes and frees what j holds. Accepts NULL. */
void ov_token_job_clear(struct ov_token_job *j);

/* Sends j's TokenRequest signed by enrollee at the current time, finalizes the answer and
 * verifies the token under the context key. token is zeroed on failure. Repeatable. */
OV_MUST_CHECK int ov_issuerclient_token(struct ov_issuerclient *c,
                                        const struct ov_sign_key *enrollee,
                                        const struct ov_token_job *j,
                                        uint8_t token[OV_PP_TOKEN_LEN],
                                        struct ov_issuer_status *st);

/* The raw exchange under ov_issuerclient_token, for tests and tools: POST /token-request
 * with `request` signed by enrollee for time_ms; the TokenResponse into response. */
OV_MUST_CHECK int ov_issuerclient_token_send(struct ov_issuerclient *c,
                                             const struct ov_sign_key *enrollee,
                                             const uint8_t request[OV_PP_TOKEN_REQUEST_LEN],
                                             uint64_t time_ms,
                                             uint8_t response[OV_PP_TOKEN_RESPONSE_LEN],
                                             struct ov_issuer_status *st);

/* Why the last exchange failed when st->status is 0 (libcurl's words, or a TLS refusal
 * naming the URL); "" otherwise. Owned by c. */
const char *ov_issuerclient_errmsg(const struct ov_issuerclient *c);

/* ---- operators (credentials: the base64url secrets of §7) ---- */

/* POST /admin/contexts with def's definition fields; *out is the context as created and
 * logged (its log_index is where the log holds its entry). */
OV_MUST_CHECK int ov_issuerclient_create_context(struct ov_issuerclient *c, const char *admin,
                                                 const struct ov_context *def,
                                                 struct ov_issuer_context *out,
                                                 struct ov_issuer_status *st);
/* POST /admin/invites: count fresh codes, for the sortition draw `draw` (a draw id, §10) or
 * for none (NULL), the CSV text in csv (initialised here; it holds secrets: wipe it with
 * sodium_memzero before clearing). -OV_E_MALFORMED for a draw id that is not a slug. */
OV_MUST_CHECK int ov_issuerclient_invites(struct ov_issuerclient *c, const char *admin,
                                          size_t count, const char *draw, struct ov_buf *csv,
                                          struct ov_issuer_status *st);
/* POST /registrar/tokens: a one-time enrollment token for identity (recovery: for a new
 * key of an identity already enrolled). */
OV_MUST_CHECK int ov_issuerclient_registrar_token(struct ov_issuerclient *c, const char *registrar,
                                                  const char *identity, bool recovery,
                                                  char token[OV_ENROLL_TOKEN_LEN + 1],
                                                  uint64_t *expires, struct ov_issuer_status *st);

#endif
