/* ohttpgw: the Oblivious HTTP gateway (RFC 9458 "Oblivious Gateway Resource") a server
 * mounts beside its own routes, so that a client can reach it through a relay
 * (onevoice-relay) that sees the client's address but not the request, while the server
 * sees the request but not the address. docs/PROTOCOL.md §13.
 *
 *   POST /gateway     message/ohttp-req -> 200 message/ohttp-res
 *   GET  /ohttp-keys  application/ohttp-keys: the configurations it accepts, preferred first
 *
 * A decapsulated request (Binary HTTP, protocol/bhttp) runs through the server's OWN route
 * table as an inner request (infra/http.h, ov_req_inner): the same checks, limits, long
 * polls and answers as a direct one, without a client address. Its answer, whatever its
 * status, is encapsulated in a 200 (RFC 9458 §5). Refusals before decapsulation are not
 * encapsulated (§5.2): 415 (Content-Type), 413 (the route's cap), 400
 * application/problem+json of type "ohttp-key" for a key id, KEM, KDF or AEAD the gateway
 * does not have, 400 {"error":"ohttp_decapsulation"} for one that does not open. After
 * decapsulation: an encapsulated 400 {"error":"bad_bhttp"} for a Binary HTTP request it
 * refuses (bhttp.h), or one with "Expect: 100-continue" (§5.1).
 *
 * Keys: DIR/ohttp-key, an X25519 key and its key id (keyfile's secret format, label
 * "ohttp-x25519", 33 bytes: key_id || secret key), created 0600 on the first start. A
 * rotation (docs/OPERATIONS.md): stop, rename ohttp-key to ohttp-key.old, start: a new key
 * with the next key id is made; both are accepted and both served (the new one first) while
 * ohttp-key.old exists; remove it and restart once clients have fetched the new one.
 * AEAD: ChaCha20Poly1305 only; KDF HKDF-SHA256.
 *
 * One gateway per process (the route handlers find it without the server's app).
 * Metrics: ohttp_gateway_requests_total, ohttp_gateway_failures_total{reason}. */
#ifndef OV_OHTTPGW_H
#define OV_OHTTPGW_H

#include "base/err.h"
#include "infra/http.h"
#include "infra/metrics.h"
#include "protocol/ohttp.h"

#define OV_OHTTPGW_KEY_FILE "ohttp-key"
#define OV_OHTTPGW_OLD_KEY_FILE "ohttp-key.old"
#define OV_OHTTPGW_KEY_LABEL "ohttp-x25519"
/* An Encapsulated Request's largest size: the inner request's route holds it to its own. */
#define OV_OHTTPGW_BODY_MAX (256u * 1024u)

/* The two routes, for a server's table. */
#define OV_OHTTPGW_ROUTES                                                     \
    { "POST", "/gateway", ov_ohttpgw_h_gateway, OV_OHTTPGW_BODY_MAX },         \
    { "GET", "/ohttp-keys", ov_ohttpgw_h_keys, 0 }

/* Loads DIR/ohttp-key (creating it on the first start) and DIR/ohttp-key.old if there.
 * Says what failed on stderr. -OV_E_STATE (a key file with group or other permissions),
 * -OV_E_MALFORMED (a damaged file), -OV_E_IO, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_ohttpgw_open(const char *dir);
/* Registers the gateway's series in m (the server's registry). */
OV_MUST_CHECK int ov_ohttpgw_metrics(struct ov_metrics *m);
/* Wipes and forgets the keys. */
void ov_ohttpgw_close(void);

/* The key configurations served (application/ohttp-keys), for tests and tools. */
OV_MUST_CHECK int ov_ohttpgw_keys(struct ov_buf *out);

int ov_ohttpgw_h_gateway(struct ov_req *rq);
int ov_ohttpgw_h_keys(struct ov_req *rq);

#endif
