/* httpc: the HTTP client (libcurl) clients and servers use to reach other services.
 * An ov_httpc owns one CURL easy handle, reused request after request, so connections
 * are kept alive. It is not thread-safe: use one per thread. A response owns its body.
 *
 * Hardening: http and https only, no redirects followed, no content decoding (no
 * decompression bombs), a response body cap (refused as soon as Content-Length or the
 * data received passes it), a total timeout, no signals (threads).
 *
 * Transport security, the same for every client of the process (the wallet, the auditor,
 * the servers' clients of each other, the platform library):
 *   - https:// verifies the server's certificate chain and name (TLS 1.2 or later) against
 *     the system's CA store (Debian: the ca-certificates package), or, when a CA file is
 *     set, against the CA certificates in that PEM file only: ov_httpc_set_ca_file, or
 *     the environment variable ONEVOICE_CA_FILE read at the first use;
 *   - plain http:// is refused, before any connection, to a host that is not this machine
 *     (127.0.0.0/8, ::1, "localhost"), unless allowed: ov_httpc_set_allow_plain_http, or
 *     ONEVOICE_ALLOW_PLAIN_HTTP=1 in the environment;
 *   - those refusals and TLS failures (libcurl's words: an unknown issuer, a name that does
 *     not match, an expired certificate, an unreadable CA file, no common protocol) are
 *     -OV_E_HTTP with ov_httpc_errmsg naming the URL and the cause, and are also said on
 *     stderr ("PROGRAM: URL: ..."), the same line at most every 10 s, since they are for
 *     the person running the program to fix. */
#ifndef OV_HTTPC_H
#define OV_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"

#define OV_HTTPC_DEFAULT_TIMEOUT_MS 10000
#define OV_HTTPC_DEFAULT_RESP_MAX (1u << 20)
#define OV_HTTPC_MAX_HEADERS 16
#define OV_HTTPC_MAX_HEADER_LEN 1024
#define OV_HTTPC_MAX_CTYPE_LEN 127
#define OV_HTTPC_MAX_URL_LEN 4096
#define OV_HTTPC_MAX_RESP_HEADERS_LEN (16u * 1024u) /* all header lines of a response */
#define OV_HTTPC_MAX_CA_PATH_LEN 1024

struct ov_httpc;

struct ov_httpc_req {
    const char *method; /* NULL: "POST" with a body (content_type set), else "GET" */
    const char *url;
    const char *content_type; /* of body; a body is sent only when this is set */
    struct ov_bytes body;
    const char *const *headers; /* "Name: value" lines */
    size_t n_headers;
    uint32_t timeout_ms; /* whole exchange; 0: OV_HTTPC_DEFAULT_TIMEOUT_MS */
    size_t resp_max;     /* 0: OV_HTTPC_DEFAULT_RESP_MAX */
};

struct ov_httpc_resp {
    unsigned status;                               /* e.g. 200; any status is a success */
    char content_type[OV_HTTPC_MAX_CTYPE_LEN + 1]; /* "" when none */
    struct ov_buf body;
    struct ov_buf headers; /* raw header lines, for ov_httpc_resp_header */
};

/* The CA certificates (a PEM file) every client of the process trusts from now on, instead
 * of the system's store; NULL or "" goes back to the system's store. Overrides
 * ONEVOICE_CA_FILE. -OV_E_TOO_BIG past OV_HTTPC_MAX_CA_PATH_LEN. Any thread. */
OV_MUST_CHECK int ov_httpc_set_ca_file(const char *path);
/* Whether plain http:// to a host that is not this machine is allowed from now on (default:
 * no, or ONEVOICE_ALLOW_PLAIN_HTTP=1). Any thread. */
void ov_httpc_set_allow_plain_http(bool allow);

/* A client: -OV_E_NOMEM, -OV_E_HTTP (libcurl init). The caller owns *out. */
OV_MUST_CHECK int ov_httpc_new(struct ov_httpc **out);
/* Accepts NULL. */
void ov_httpc_free(struct ov_httpc *c);

/* Performs one exchange. Any HTTP status is a success (read resp->status). Fails with
 * -OV_E_TOO_BIG (response body over resp_max, headers over OV_HTTPC_MAX_RESP_HEADERS_LEN,
 * or a Content-Type over its maximum),
 * -OV_E_MALFORMED (a header with CR/LF, or an over-long URL), -OV_E_HTTP (not a URL,
 * plain http:// refused, connect, TLS, timeout, protocol; ov_httpc_errmsg says which),
 * -OV_E_NOMEM. On failure *resp is cleared. The caller owns resp (ov_httpc_resp_clear). */
OV_MUST_CHECK int ov_httpc_do(struct ov_httpc *c, const struct ov_httpc_req *rq,
                              struct ov_httpc_resp *resp);

/* Tunnels: a request whose URL starts with a tunnel's prefix is handed to its fn instead of
 * being sent, for every ov_httpc of the process (as the CA file is). The wallet sends what
 * goes to the verifier and the log through an Oblivious HTTP relay this way
 * (core/protocol/ohttpclient), whichever module makes the request. fn gets the part of the
 * URL after the prefix ("/actions?wait=proof") and fills resp as ov_httpc_do would (status,
 * content type, body; headers it has, or none); it may use c for its own requests, whose
 * URLs must not start with the prefix. At most OV_HTTPC_MAX_TUNNELS; a prefix of at most
 * OV_HTTPC_MAX_URL_LEN bytes. -OV_E_TOO_BIG, -OV_E_FULL. Set them before any other thread
 * makes a request. */
#define OV_HTTPC_MAX_TUNNELS 4
typedef int (*ov_httpc_tunnel_fn)(void *ctx, struct ov_httpc *c, const struct ov_httpc_req *rq,
                                  const char *rest, struct ov_httpc_resp *resp);
OV_MUST_CHECK int ov_httpc_add_tunnel(const char *prefix, ov_httpc_tunnel_fn fn, void *ctx);
/* Removes every tunnel. */
void ov_httpc_clear_tunnels(void);
/* c's requests never go through a tunnel (what a tunnel itself must reach directly). */
void ov_httpc_set_direct(struct ov_httpc *c, bool direct);
OV_MUST_CHECK int ov_httpc_get(struct ov_httpc *c, const char *url, size_t resp_max,
                               struct ov_httpc_resp *resp);
OV_MUST_CHECK int ov_httpc_post(struct ov_httpc *c, const char *url, const char *content_type,
                                struct ov_bytes body, size_t resp_max, struct ov_httpc_resp *resp);
/* The last failure ("" when none): libcurl's description, and for a TLS failure or a
 * refused URL the URL and what to do; owned by c. */
const char *ov_httpc_errmsg(const struct ov_httpc *c);
/* Copies the value of the response header `name` (case-insensitive; the first if
 * repeated) into out, NUL-terminated and trimmed: -OV_E_NOT_FOUND, -OV_E_TOO_BIG when
 * out_max cannot hold it. */
OV_MUST_CHECK int ov_httpc_resp_header(const struct ov_httpc_resp *resp, const char *name,
                                       char *out, size_t out_max);
/* The response's Date header (the server's clock, to the second) as POSIX milliseconds:
 * how a client tells its clock from the server's. -OV_E_NOT_FOUND, -OV_E_MALFORMED. */
OV_MUST_CHECK int ov_httpc_resp_date_ms(const struct ov_httpc_resp *resp, uint64_t *ms);
/* The length of url without its trailing slashes: the base a client appends "/path" to. */
size_t ov_httpc_base_len(const char *url);
/* What every client of one service starts with: url's base (ov_httpc_base_len) copied into
 * base, NUL-terminated, and a client in *out. -OV_E_TOO_BIG when the base, `room` bytes of
 * path after it and the NUL do not fit in base_max; else as ov_httpc_new. */
OV_MUST_CHECK int ov_httpc_new_base(const char *url, size_t room, char *base, size_t base_max,
                                    struct ov_httpc **out);

/* Frees the body and headers. Accepts NULL. */
void ov_httpc_resp_clear(struct ov_httpc_resp *resp);

#endif
