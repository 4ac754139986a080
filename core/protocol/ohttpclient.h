/* ohttpclient: the client side of Oblivious HTTP (docs/PROTOCOL.md §13): a gateway's key
 * configuration fetched from the gateway itself, and one request sent through a relay
 * (onevoice-relay's POST /relay/NAME) to that gateway, its answer opened.
 *
 * The relay sees the client's address and the sizes, never the request nor the answer; the
 * gateway's server sees the request, never the address. Every client fetches the key
 * configuration the same way (GET <gateway>/ohttp-keys, directly: it is public and the same
 * for all) so that no client can be singled out by the key it is given; a client should
 * keep it and fetch it again when the gateway refuses its key (a 400 that is not
 * encapsulated: -OV_E_UNKNOWN_KEY here). */
#ifndef OV_OHTTPCLIENT_H
#define OV_OHTTPCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "infra/httpc.h"
#include "protocol/ohttp.h"

/* The inner request: method, target (path and query, "/actions?wait=proof"), authority
 * (the origin's host, "" if none), an optional body with its content type, and extra
 * "name: value" headers already lowercase (n at most 8; NULL for none). */
struct ov_ohttpc_req {
    const char *method;
    const char *target;
    const char *authority;
    const char *content_type;
    struct ov_bytes body;
    const char *const *headers;
    size_t n_headers;
    uint32_t timeout_ms; /* the whole exchange; 0: OV_HTTPC_DEFAULT_TIMEOUT_MS (a long poll
                          * such as ?wait=proof wants more) */
};

/* The inner response: its status, Content-Type ("" if none) and body (the caller's, to
 * ov_buf_clear). */
struct ov_ohttpc_resp {
    unsigned status;
    char content_type[OV_HTTPC_MAX_CTYPE_LEN + 1];
    struct ov_buf body;
};

/* GET gateway_base + "/ohttp-keys", parsed (ohttp.h: ov_ohttp_keys_parse); the first config
 * that offers ChaCha20Poly1305 with HKDF-SHA256 goes into *out. -OV_E_HTTP (transport, or
 * a status other than 200), -OV_E_NOT_FOUND (no usable config), else the parser's error. */
OV_MUST_CHECK int ov_ohttpc_fetch_config(struct ov_httpc *hc, const char *gateway_base,
                                         struct ov_ohttp_config *out);

/* Sends rq, encapsulated for cfg, as POST relay_url (message/ohttp-req), and opens the
 * answer into *resp. -OV_E_UNKNOWN_KEY (the gateway refused the key: fetch the config
 * again), -OV_E_HTTP (transport; or a relay or gateway error that is not encapsulated:
 * *relay_status, if not NULL, then holds its status, e.g. 502 from the relay),
 * -OV_E_MALFORMED (an answer that does not open or is no Binary HTTP response),
 * -OV_E_TOO_BIG. resp_max caps the inner body (0: OV_HTTPC_DEFAULT_RESP_MAX). */
OV_MUST_CHECK int ov_ohttpc_send(struct ov_httpc *hc, const char *relay_url,
                                 const struct ov_ohttp_config *cfg,
                                 const struct ov_ohttpc_req *rq, size_t resp_max,
                                 struct ov_ohttpc_resp *resp, unsigned *relay_status);

void ov_ohttpc_resp_clear(struct ov_ohttpc_resp *resp);

#endif
