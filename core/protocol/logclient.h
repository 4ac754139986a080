/* logclient: a producer's side of the log's append API (docs/PROTOCOL.md §4.1): builds and
 * signs the request (logreq.h), posts it, and parses the answer. Used by the issuer's and
 * the verifier's outboxes and by test tools. Not thread-safe: one per thread, like httpc. */
#ifndef OV_LOGCLIENT_H
#define OV_LOGCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "infra/httpc.h"
#include "protocol/logack.h"
#include "primitives/merkle.h"
#include "primitives/sign.h"

struct ov_logclient;


/* A client appending to the log at base_url (no trailing slash needed) as `producer` with
 * key (borrowed; must outlive the client). -OV_E_NOMEM, -OV_E_HTTP, -OV_E_TOO_BIG. */
OV_MUST_CHECK int ov_logclient_new(const char *base_url, const char *producer,
                                   const struct ov_sign_key *key, struct ov_logclient **out);
void ov_logclient_free(struct ov_logclient *c);

/* Appends entries[0..n) and fills ack (initialised here; ov_log_ack_clear it). Returns 0
 * when the log acknowledged every entry (ack->status 200) and every returned leaf hash
 * matches the entry sent; -OV_E_HTTP when the log could not be reached or refused
 * (ack->status and ack->reason say why), -OV_E_MALFORMED for an answer that does not
 * parse or does not match the request. */
OV_MUST_CHECK int ov_logclient_append(struct ov_logclient *c, const struct ov_bytes *entries,
                                      size_t n, bool wait_checkpoint, struct ov_log_ack *ack);
/* After an append that returned rc: one line for people saying why, into buf. The log's
 * reason and status; for 403 stale_request also how far this machine's clock is from the
 * log's (the answer's "time", else its Date header) and what to fix; for no answer,
 * libcurl's description; otherwise ov_strerror(rc). */
void ov_logclient_explain(const struct ov_logclient *c, int rc, const struct ov_log_ack *ack,
                          char *buf, size_t len);
/* The same for a caller that has the entries' leaf hashes already (n × OV_HASH_LEN bytes):
 * the answer is checked against those rather than hashing every entry again. */
OV_MUST_CHECK int ov_logclient_append_hashed(struct ov_logclient *c, const struct ov_bytes *entries,
                                             const uint8_t *hashes, size_t n,
                                             bool wait_checkpoint, struct ov_log_ack *ack);

#endif
