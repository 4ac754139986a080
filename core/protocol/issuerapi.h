/* issuerapi: the messages of the issuer's HTTP API (docs/PROTOCOL.md §7) that are ours, not
 * RFC 9578's: what the issuer parses from untrusted peers and what clients build and parse
 * back. The issuer (issuer/) and the client (core/protocol/issuerclient) share this one module, so
 * both sides read the same tables.
 *
 * POST /admin/contexts, JSON object, exactly these keys (quota optional, default 1):
 *   | key       | value                                                             |
 *   |-----------|-------------------------------------------------------------------|
 *   | "id"      | text, a context id (entry.h: 1..64 of [a-z0-9-])                  |
 *   | "title"   | text, 1..OV_MAX_TITLE_LEN bytes, no control characters            |
 *   | "type"    | "assembly" (with "choices") or "rating" (with "scale")            |
 *   | "choices" | array of 2..OV_MAX_CHOICES distinct labels                        |
 *   | "scale"   | [min, max], integers, min < max                                   |
 *   | "rating_kind" | rating, optional: "helpfulness" ([0, 2]) or "agreement" ([-1, 1]): |
 *   |           | a statement round (§11.3); "scale" may then be left out           |
 *   | "statements" | with "rating_kind", optional: statements per participant, 1..64 |
 *   | "opens"   | POSIX seconds; "closes" likewise, opens < closes                  |
 *   | "quota"   | tokens per person, 1..OV_MAX_QUOTA                                |
 *
 * POST /enroll, JSON object, signed (OV_SIGN_ENROLL, header Onevoice-Signature, base64url
 * without padding) by "key" over the exact body:
 *   | key               | value                                                     |
 *   |-------------------|-----------------------------------------------------------|
 *   | "route"           | "invite", "registrar" or "attestation"                    |
 *   | "code"            | invite: the code (22 characters, base64url of 16 bytes)   |
 *   | "token"           | registrar: the enrollment token (43 characters, 32 bytes) |
 *   | "attestation"     | attestation: base64url of the IdP's CBOR statement        |
 *   | "attestation_sig" | attestation: base64url of the IdP's Ed25519 signature     |
 *   | "key"             | base64url of the citizen's Ed25519 public key             |
 *   | "time"            | the citizen's clock, POSIX milliseconds                   |
 * Exactly the keys its route needs. Base64url here is always RFC 4648 §5 without padding.
 *
 * IdP attestation: one deterministic-CBOR map (core/primitives/cbor), signed with OV_SIGN_ENROLL by
 * the IdP's key:
 *   | key       | value                                                         |
 *   |-----------|---------------------------------------------------------------|
 *   | "expires" | POSIX seconds                                                  |
 *   | "idp"     | text, the IdP's name in the issuer's --idps file (a label)     |
 *   | "key"     | bytes, 32: the citizen's Ed25519 public key it attests         |
 *   | "subject" | text, 1..OV_MAX_SUBJECT_LEN bytes: the IdP's opaque subject id |
 *
 * POST /token-request authentication headers (beside the RFC 9578 TokenRequest body):
 *   Onevoice-Enrollee: base64url(public key)   Onevoice-Time: decimal POSIX ms
 *   Onevoice-Signature: base64url(Ed25519, OV_SIGN_TOKEN_REQUEST, over u64be(time) ‖ body)
 */
#ifndef OV_ISSUERAPI_H
#define OV_ISSUERAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "protocol/entry.h"
#include "base/err.h"
#include "primitives/pp.h"
#include "primitives/sign.h"

#define OV_MAX_QUOTA 1000000u
#define OV_MAX_CONTEXT_REQ_LEN 65536     /* body of POST /admin/contexts */
#define OV_MAX_ENROLL_REQ_LEN 4096       /* body of POST /enroll */
#define OV_MAX_ATTESTATION_LEN 1024      /* the IdP's CBOR statement */
#define OV_MAX_SUBJECT_LEN 256
#define OV_MAX_IDP_NAME_LEN 64
#define OV_MAX_IDENTITY_LEN 256          /* a registrar's identity reference */
#define OV_INVITE_CODE_BYTES 16
#define OV_INVITE_CODE_LEN 22            /* base64url, no padding */
#define OV_ENROLL_TOKEN_BYTES 32
#define OV_ENROLL_TOKEN_LEN 43
#define OV_ISSUER_WINDOW_MS 60000u       /* signed requests: |their time - ours| <= this */
#define OV_ISSUER_MAX_CONTEXTS 4096      /* contexts one GET /contexts may list */
#define OV_MAX_ISSUER_LIST_LEN (16u << 20)
#define OV_MAX_DIRECTORY_LEN (1u << 20)
#define OV_ISSUER_MAX_DIRECTORY_KEYS 256 /* one per truncated key id at most */
#define OV_TOKREQ_SIGNED_LEN (8 + OV_PP_TOKEN_REQUEST_LEN)

#define OV_HDR_ENROLLEE "Onevoice-Enrollee"
#define OV_HDR_TIME "Onevoice-Time"
#define OV_HDR_SIGNATURE "Onevoice-Signature"

/* ---- contexts ---- */

/* Parses a context request into the definition fields of c (id, title, type, choices or
 * scale, opens, closes, quota); the rest of c is zeroed. -OV_E_TOO_BIG over
 * OV_MAX_CONTEXT_REQ_LEN, -OV_E_MALFORMED for anything else wrong (JSON, keys, a rule of
 * the table above). *c is zeroed on failure. */
OV_MUST_CHECK int ov_context_req_parse(struct ov_bytes body, struct ov_context *c);
/* The request body for c's definition fields (out initialised here; the caller clears it).
 * -OV_E_MALFORMED when a field breaks its rule, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_context_req_build(const struct ov_context *c, struct ov_buf *out);

/* A context as GET /contexts lists it. */
struct ov_issuer_context {
    struct ov_context def;  /* every field of the log's context entry */
    uint64_t log_index;     /* where the log holds that entry */
    bool open;              /* opens <= now < closes, by the issuer's clock */
};

/* One element of the listing (a JSON object), appended to `out` as JSON text. */
OV_MUST_CHECK int ov_issuer_context_json(const struct ov_issuer_context *c, struct ov_buf *out);
/* Parses a GET /contexts body: a JSON array of at most OV_ISSUER_MAX_CONTEXTS objects with
 * exactly the listing's keys; each token_key must be a valid RFC 9578 SPKI whose SHA-256
 * is its token_key_id, truncated_key_id its last byte, and the whole must encode as a
 * context entry (ov_entry_encode). *out (calloc'd, the caller frees it) holds *n elements.
 * -OV_E_TOO_BIG, -OV_E_MALFORMED, -OV_E_NOMEM; *out NULL and *n 0 on failure. */
OV_MUST_CHECK int ov_issuer_contexts_parse(struct ov_bytes body, struct ov_issuer_context **out,
                                           size_t *n);

/* Parses the answer to POST /admin/contexts: {"context": <a listing element>,
 * "log_index": N}, with the same checks. -OV_E_MALFORMED, -OV_E_TOO_BIG; *c zeroed then. */
OV_MUST_CHECK int ov_issuer_created_parse(struct ov_bytes body, struct ov_issuer_context *c);

/* The RFC 9578 §4 issuer directory, as a client reads it: the token keys of type 2 it
 * lists (keys of other types are skipped; unknown members are ignored, as the RFC allows). */
struct ov_issuer_directory {
    char request_uri[1024];
    size_t n_keys;
    struct {
        uint8_t spki[OV_MAX_TOKEN_KEY_LEN];
        size_t spki_len;
        uint64_t not_before; /* 0 when absent */
    } keys[OV_ISSUER_MAX_DIRECTORY_KEYS];
};
/* -OV_E_TOO_BIG, -OV_E_MALFORMED (not the RFC's shape, a token key that is not base64url
 * with padding or not an SPKI of pp.h), -OV_E_NOMEM. *out is zeroed on failure. */
OV_MUST_CHECK int ov_issuer_directory_parse(struct ov_bytes body, struct ov_issuer_directory *out);

/* ---- enrollment ---- */

struct ov_attestation {
    uint64_t expires;
    char idp[OV_MAX_IDP_NAME_LEN + 1];
    uint8_t key[OV_SIGN_PK_LEN];
    char subject[OV_MAX_SUBJECT_LEN + 1];
};

/* Encodes the statement (out initialised here, max OV_MAX_ATTESTATION_LEN).
 * -OV_E_MALFORMED, -OV_E_TOO_BIG, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_attestation_encode(const struct ov_attestation *a, struct ov_buf *out);
/* Parses one strictly (deterministic CBOR, exact keys, bounds). -OV_E_TOO_BIG,
 * -OV_E_MALFORMED, -OV_E_NONCANONICAL, -OV_E_TRUNCATED, -OV_E_TRAILING; *a zeroed then. */
OV_MUST_CHECK int ov_attestation_parse(struct ov_bytes in, struct ov_attestation *a);

struct ov_enroll_req {
    enum ov_enroll_route route; /* INVITE, REGISTRAR or ATTESTATION */
    char secret[OV_ENROLL_TOKEN_LEN + 1]; /* invite: the code; registrar: the token */
    uint8_t attestation[OV_MAX_ATTESTATION_LEN];
    size_t attestation_len;
    uint8_t attestation_sig[OV_SIGN_SIG_LEN];
    uint8_t key[OV_SIGN_PK_LEN];
    uint64_t time_ms;
};

/* Parses a POST /enroll body strictly (no signature check). -OV_E_TOO_BIG,
 * -OV_E_MALFORMED; *r zeroed on failure (it may hold a secret: the caller wipes it). */
OV_MUST_CHECK int ov_enroll_req_parse(struct ov_bytes body, struct ov_enroll_req *r);
/* The body for r (out initialised here). -OV_E_MALFORMED, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_enroll_req_build(const struct ov_enroll_req *r, struct ov_buf *out);

/* ---- token requests ---- */

/* The bytes the enrollee signs: u64be(time_ms) ‖ the TokenRequest. */
void ov_tokreq_signed_bytes(uint64_t time_ms, const uint8_t req[OV_PP_TOKEN_REQUEST_LEN],
                            uint8_t out[OV_TOKREQ_SIGNED_LEN]);

/* The three authentication headers, parsed (any may be NULL: absent). -OV_E_MALFORMED
 * for one absent, not canonical base64url of the right size, or a time that is not a
 * canonical decimal. Outputs zeroed on failure. */
OV_MUST_CHECK int ov_tokreq_auth_parse(const char *enrollee, const char *time, const char *sig,
                                       uint8_t pk[OV_SIGN_PK_LEN], uint64_t *time_ms,
                                       uint8_t sig_out[OV_SIGN_SIG_LEN]);

/* Strict base64url without padding of exactly n bytes (keys, signatures, codes): 0 or
 * -OV_E_MALFORMED (out zeroed). */
OV_MUST_CHECK int ov_b64url_fixed(const char *s, size_t len, uint8_t *out, size_t n);

#endif
