/* logreq: the log's append request, shared by the log (which parses and checks it) and
 * the producers, the issuer and the verifier (which build and sign it).
 *
 *   POST /add   Content-Type: application/cbor
 *               Onevoice-Producer: <the producer's name, as in the body>
 *               Onevoice-Signature: base64(Ed25519 signature, OV_SIGN_LOG_APPEND, over the body)
 *   body: one deterministic-CBOR map
 *     | key        | value                                                              |
 *     |------------|--------------------------------------------------------------------|
 *     | "entries"  | array of 1..OV_LOG_MAX_BATCH byte strings, 1..OV_MAX_ENTRY_LEN each|
 *     | "nonce"    | byte string, 16 random bytes                                       |
 *     | "producer" | text, the producer's name in the log's configuration               |
 *     | "time"     | unsigned, the producer's clock in POSIX milliseconds               |
 *     | "wait"     | text, "durable" (answer once the entries are stored) or           |
 *     |            | "checkpoint" (once a published checkpoint covers them, with proofs)|
 * No other key is allowed. */
#ifndef OV_LOGREQ_H
#define OV_LOGREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "primitives/cbor.h"
#include "base/err.h"
#include "primitives/sign.h"
#include "protocol/entry.h"

#define OV_LOG_MAX_BATCH 4096
#define OV_LOG_MAX_REQUEST_LEN (4u << 20) /* also the log's body cap */
#define OV_LOG_NONCE_LEN 16
#define OV_LOG_SIG_HEADER "Onevoice-Signature"
#define OV_LOG_PRODUCER_HEADER "Onevoice-Producer" /* = "producer", checked before the body */

/* The CBOR limits of a request body: larger than one entry's. */
extern const struct ov_cbor_limits ov_logreq_limits;

struct ov_logreq {
    size_t n;
    struct ov_bytes entries[OV_LOG_MAX_BATCH]; /* views into the request body */
    uint8_t nonce[OV_LOG_NONCE_LEN];
    struct ov_bytes producer;
    uint64_t time_ms;
    bool wait_checkpoint;
};

/* Builds and signs a request for entries[0..n). body is initialised here; sig_b64 receives
 * the header value (NUL-terminated). -OV_E_TOO_BIG, -OV_E_MALFORMED, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_logreq_build(const struct ov_sign_key *key, const char *producer,
                                  const struct ov_bytes *entries, size_t n, bool wait_checkpoint,
                                  struct ov_buf *body, char sig_b64[96]);

/* Parses a request body strictly (deterministic CBOR, exact key set, bounds). The entries
 * and the producer are views into body, which must outlive *req. *req must be released
 * with ov_logreq_clear whatever the result. No signature check here. */
OV_MUST_CHECK int ov_logreq_parse(struct ov_bytes body, struct ov_logreq *req);
void ov_logreq_clear(struct ov_logreq *req);

/* Checks the signature header value (base64) over body with pk: 0 or -OV_E_BAD_SIG. */
OV_MUST_CHECK int ov_logreq_verify(const uint8_t pk[OV_SIGN_PK_LEN], struct ov_bytes body,
                                   const char *sig_b64);

#endif
