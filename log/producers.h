/* producers: who may append to the log, and the refusal of replayed append requests.
 *
 * Configuration file: one producer per line, "<name> <base64 Ed25519 public key>" ('#'
 * starts a comment line). An append request names its producer and carries that
 * producer's domain-separated signature (OV_SIGN_LOG_APPEND) over the exact request body,
 * a time within OV_LOG_APPEND_WINDOW_MS of the log's clock and a fresh 16-byte nonce. A
 * nonce is remembered (in memory, and with its batch in the database across restarts)
 * until the window has passed, so a replay inside the window is refused and one outside
 * it fails the time check. */
#ifndef TLOG_PRODUCERS_H
#define TLOG_PRODUCERS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/bytes.h"
#include "infra/db.h"
#include "base/err.h"
#include "primitives/sign.h"

#define TLOG_MAX_PRODUCERS 64
#define TLOG_MAX_PRODUCER_NAME 64
#define OV_LOG_APPEND_WINDOW_MS 60000u

struct tlog_producers;

OV_MUST_CHECK int tlog_producers_load(const char *path, struct tlog_producers **out);
void tlog_producers_free(struct tlog_producers *p);
/* Loads the nonces still live from the database (at start-up). */
OV_MUST_CHECK int tlog_producers_load_nonces(struct tlog_producers *p, struct ov_db *db,
                                             uint64_t now_ms);
/* The public key of producer `name`: -OV_E_UNKNOWN_KEY. */
OV_MUST_CHECK int tlog_producers_key(const struct tlog_producers *p, struct ov_bytes name,
                                     uint8_t pk[OV_SIGN_PK_LEN]);
/* Records nonce until expires_ms: -OV_E_CONFLICT when it is already live (a replay). */
OV_MUST_CHECK int tlog_producers_use_nonce(struct tlog_producers *p, const uint8_t nonce[16],
                                           uint64_t expires_ms, uint64_t now_ms);

/* Forgets a nonce whose request stored nothing, so the producer may resend it. */
void tlog_producers_forget_nonce(struct tlog_producers *p, const uint8_t nonce[16]);

#endif
