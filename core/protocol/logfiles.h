/* logfiles: files the log serves beside its tiles, by their SHA-256 (docs/PROTOCOL.md §4.3):
 * a draw's public pool file, whose hash its `pool` entry holds. Shared by the log (which
 * parses names and checks uploads) and its clients (onevoice-sortition uploads, the auditor
 * fetches).
 *
 *   GET  /files/<64 lowercase hex: the file's SHA-256>    the bytes, immutable
 *   POST /files   Content-Type: application/octet-stream, body: the file
 *                 Onevoice-Producer: <the producer's name>
 *                 Onevoice-Time: <the producer's clock, POSIX milliseconds, decimal>
 *                 Onevoice-Signature: base64(Ed25519, OV_SIGN_LOG_FILE, over the message)
 *   message (never sent: both sides build it): the deterministic-CBOR map
 *     { "size": body length, "time": Onevoice-Time, "sha256": SHA-256(body) (32 bytes),
 *       "producer": Onevoice-Producer }
 * The purpose tag keeps an upload signature from passing as an append's and back; an upload
 * replayed inside the time window stores the same bytes again, which changes nothing, so no
 * nonce is needed. */
#ifndef OV_LOGFILES_H
#define OV_LOGFILES_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "infra/httpc.h"
#include "primitives/sign.h"

#define OV_LOGFILE_HEX_LEN 64
#define OV_LOGFILE_TIME_HEADER "Onevoice-Time"
#define OV_LOGFILE_WINDOW_MS 60000u            /* an upload's time within 60 s of the log's */
#define OV_LOGFILE_DEFAULT_MAX (64u << 20)     /* the log's --max-file-bytes default */
#define OV_LOGFILE_HARD_MAX (1024u << 20)      /* no --max-file-bytes above (= a pool file's) */

/* name must be exactly 64 lowercase hex digits (NUL-terminated): sha gets them. Else
 * -OV_E_MALFORMED (uppercase too: one file, one name). */
OV_MUST_CHECK int ov_logfile_name_parse(const char *name, uint8_t sha[32]);
/* The name of sha: 64 lowercase hex digits and a NUL. */
void ov_logfile_name(const uint8_t sha[32], char out[OV_LOGFILE_HEX_LEN + 1]);

/* The signature header value (base64, NUL-terminated) over the message above. -OV_E_NOMEM,
 * -OV_E_TOO_BIG (a producer name over 64 bytes). */
OV_MUST_CHECK int ov_logfile_sign(const struct ov_sign_key *key, const char *producer,
                                  const uint8_t sha[32], uint64_t size, uint64_t time_ms,
                                  char sig_b64[96]);
/* 0 when sig_b64 is producer pk's signature of that message, else -OV_E_BAD_SIG. */
OV_MUST_CHECK int ov_logfile_verify(const uint8_t pk[OV_SIGN_PK_LEN], const char *producer,
                                    const uint8_t sha[32], uint64_t size, uint64_t time_ms,
                                    const char *sig_b64);

/* What the log answered an upload. */
struct ov_logfile_ack {
    unsigned status;  /* 0: no answer */
    char reason[64];  /* the log's error code, "" on success */
    uint8_t sha256[32];
    uint64_t size;
};

/* Uploads file to the log at base_url as producer (key borrowed). 0 when the log answered
 * 200 or 201 with the file's own hash and size; -OV_E_HTTP when it could not be reached or
 * refused (ack says why), -OV_E_MALFORMED for an answer that does not name this file. */
OV_MUST_CHECK int ov_logfile_upload(const char *base_url, const char *producer,
                                    const struct ov_sign_key *key, struct ov_bytes file,
                                    struct ov_logfile_ack *ack);

/* GETs the file named sha from the log at base_url with http, at most max bytes, into resp
 * (the caller's; ov_httpc_resp_clear) and its URL into url. The bytes are as served: the
 * caller checks their hash (a file that does not match is evidence against the log). */
OV_MUST_CHECK int ov_logfile_fetch(struct ov_httpc *http, const char *base_url,
                                   const uint8_t sha[32], size_t max, char *url, size_t url_max,
                                   struct ov_httpc_resp *resp);

#endif
