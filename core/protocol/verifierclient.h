/* verifierclient: the client side of the verifier's HTTP API (docs/PROTOCOL.md §8), for
 * the citizen's wallet, platform libraries and test tools: submit a signed action, fetch
 * or wait for its receipt. Receipts themselves (format, offline check) are core/receipt's.
 * An ov_vclient owns one HTTP connection (core/infra/httpc): not thread-safe, one per thread.
 *
 * Usage:
 *   ov_action_sign(&a, one_time_key);                      (core/protocol/entry)
 *   ov_vclient_submit(c, &a, OV_VCLIENT_WAIT_PROOF, &r, &ans);
 *   ov_receipt_check(&r, &log_cfg, NULL);                  (core/receipt; keep r for later) */
#ifndef OV_VERIFIERCLIENT_H
#define OV_VERIFIERCLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/actionbatch.h"
#include "protocol/entry.h"
#include "base/err.h"
#include "primitives/merkle.h"
#include "protocol/receipt.h"

#define OV_VCLIENT_TOKEN_IN_HEADER 0x1u /* send the token as Authorization: PrivateToken */
#define OV_VCLIENT_WAIT_PROOF 0x2u      /* ask the verifier to wait (<= 10 s) for the proof */
#define OV_VCLIENT_TIMEOUT_MS 20000     /* one exchange, long polls included */

/* What the verifier answered. */
struct ov_vclient_answer {
    unsigned status;  /* HTTP status; 0 when no answer came */
    char reason[64];  /* the "error" code of a refusal (e.g. "token_spent"), else "" */
};

struct ov_vclient;

/* A client for the verifier at base_url. -OV_E_TOO_BIG (URL), -OV_E_NOMEM, -OV_E_HTTP.
 * The caller owns *out (ov_vclient_free). */
OV_MUST_CHECK int ov_vclient_new(const char *base_url, struct ov_vclient **out);
void ov_vclient_free(struct ov_vclient *c);

/* Submits a (signed; its token included when a->has_token) to POST /actions. Returns 0 when
 * the verifier counted it, 200 or 202 (r then holds the receipt, r->status saying how far it
 * got), after checking that the receipt is for this very action: its hash is its entry's and
 * the entry is an action (a statement: a statement entry) with a's context, pseudonym,
 * platform and choice, rating or text (-OV_E_BAD_PROOF otherwise). -OV_E_HTTP for a
 * refusal or no answer (ans says which), -OV_E_MALFORMED for an answer that is not a
 * receipt, -OV_E_NOMEM. r is initialised here (ov_receipt_clear it) and empty on failure;
 * ans is always filled. */
OV_MUST_CHECK int ov_vclient_submit(struct ov_vclient *c, const struct ov_action *a,
                                    unsigned flags, struct ov_receipt *r,
                                    struct ov_vclient_answer *ans);

/* Submits a[0..n) (1..OV_MAX_BATCH_ACTIONS signed actions, each with its token when
 * has_token; OV_VCLIENT_TOKEN_IN_HEADER does not apply) to POST /actions/batch in one
 * request. 0 when the verifier answered the batch: out[i] (initialised here; clear them with
 * ov_actionbatch_answers_clear) is a[i]'s answer, a receipt checked as ov_vclient_submit
 * checks it (-OV_E_BAD_PROOF for one that is not its action's) or a refusal. -OV_E_HTTP
 * when the batch was refused or not answered (ans says which), -OV_E_MALFORMED for an
 * answer that is not a line per action, -OV_E_TOO_BIG over the batch's limits, -OV_E_NOMEM.
 * ans is always filled. */
OV_MUST_CHECK int ov_vclient_submit_batch(struct ov_vclient *c, const struct ov_action *a,
                                          size_t n, unsigned flags, struct ov_batch_answer *out,
                                          struct ov_vclient_answer *ans);

/* GET /receipts/<hex hash>, with ?wait=proof when wait_proof. 0 with r filled (200 or 202),
 * -OV_E_HTTP (404 for a hash the verifier never counted), -OV_E_MALFORMED (including a
 * receipt for another hash), -OV_E_NOMEM. r and ans as above. */
OV_MUST_CHECK int ov_vclient_receipt(struct ov_vclient *c, const uint8_t hash[OV_HASH_LEN],
                                     bool wait_proof, struct ov_receipt *r,
                                     struct ov_vclient_answer *ans);

#endif
