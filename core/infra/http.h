/* http: the HTTP server frame every onevoice server runs on (libmicrohttpd 0.9.75).
 * It owns the daemon, the routing table, each request's state (struct ov_req, from the
 * first access callback to the completion callback, its one owner), the request body,
 * replies, the built-in GET /healthz and GET /metrics, and the long-poll waiters.
 *
 * Request flow, in the access callback:
 *   1. first call: allocate the ov_req; check the URL (414 past OV_MAX_URL_LEN, 400 for
 *      bytes outside visible ASCII) and header names (400 unless RFC 9110 tokens; the
 *      daemon also refuses HTTP/1.1 without Host); route: exact method and pattern
 *      (route.h; HEAD runs a GET route, whose body libmicrohttpd then drops), else 405 with
 *      Allow (listing HEAD wherever GET is) when some route has that path, else 404; 411 for
 *      a chunked body (Transfer-Encoding: libmicrohttpd 0.9.75 cannot reply in
 *      mid-upload, so every body must declare its length); 413 at once when
 *      Content-Length exceeds the route's body_max (the body is never read;
 *      libmicrohttpd then closes the connection after the reply);
 *   2. body calls: append to an ov_buf capped at body_max;
 *   3. last call: run the handler, which replies through ov_http_reply* / ov_http_error.
 * Every frame-made error has the body {"error":"<reason_code>","message":"<text>"}.
 *
 * Threads: handlers run concurrently on the daemon's pool threads. A handler that must
 * answer later (a long poll) does NOT block its thread: it calls ov_http_wait and
 * returns; the frame suspends the connection (MHD_suspend_connection) and runs the
 * handler again from the top, on some pool thread, after ov_http_notify or when the
 * wait's deadline passes (ov_req_wait_expired then tells it to answer with what it has).
 * Handlers therefore must be idempotent up to their reply. Bounded blocking (a database
 * busy-wait) is fine; a pool thread blocked for long is a thread no one else gets.
 *
 * Connections (docs/PROTOCOL.md §6). A flood from many addresses must not take every
 * connection, nor keep them: at most per_ip_limit connections from one address (default
 * 256; more are closed at accept; the addresses in `exempt`, relays of many people, are
 * not held to it: infra/peers.h), at most conn_limit in all (default 12,288 = 48 x 256,
 * so 40 addresses at their limit leave 2,048 for everyone else; past it new connections
 * wait in the listen queue). Each request must be complete (headers and body) within
 * deadline_s (default 10 s) of the connection's start or of the end of its previous
 * request (keep-alive): libmicrohttpd's own timeout (timeout_s, default 30 s) is reset by
 * every byte, so a client trickling a byte every few seconds would keep its connection
 * for ever. Past the deadline the socket is shut down without a reply (the client reads
 * end of file); a request whose handler runs, a long poll included, is never cut. So an
 * idle keep-alive connection lasts deadline_s. ov_http_start raises the open-file soft
 * limit (RLIMIT_NOFILE) to conn_limit + OV_HTTP_FD_RESERVE, up to the hard limit; below
 * that it lowers conn_limit to fit and says so on stderr. Memory: libmicrohttpd keeps a
 * pool of memory_limit bytes per connection (default 64 KiB; zeroed after each request,
 * so resident once a connection has served one), so the pools take at most conn_limit x
 * memory_limit (768 MiB with the defaults; the verifier: 12,288 x 16 KiB = 192 MiB),
 * plus about 1 KiB of libmicrohttpd's and the frame's state per connection; when the
 * connections open fall to half their peak (of 1,024 or more), the frame hands the freed
 * memory back to the system (malloc_trim), so repeated floods do not ratchet it up.
 * libmicrohttpd runs with epoll: in poll() mode it accepts one connection per turn of its
 * loop, and a turn walks every connection, so a flood that keeps reconnecting what is
 * refused or cut made a normal client wait seconds in the listen queue
 * (tests/bench/bench_flood.sh).
 *
 * HTTPS (cfg.tls, infra/tls.h): libmicrohttpd's TLS on GnuTLS, TLS 1.2 and 1.3 with
 * OV_TLS_PRIORITIES. The certificate is not given to libmicrohttpd, which cannot replace it
 * while running: GnuTLS asks the frame for one at each handshake, and gets the pair current
 * in cfg.tls then, which the connection holds until it closes; so ov_tls_reload takes
 * effect at the next handshake, and a handshake never loses its key. The request deadline
 * counts the handshake.
 *
 * Metrics (Prometheus, served at /metrics): http_requests_total{method,route,code},
 * http_request_duration_seconds{method,route} (first byte of request to completion),
 * http_requests_in_flight, http_requests_aborted_total, http_connections_open,
 * http_connections_cut_total{reason="deadline"} (cut past the deadline),
 * http_connections_refused_total{reason="limit"} (closed at accept by either limit).
 * Unrouted requests count under method="",route="unmatched"; a HEAD counts under its GET route. */
#ifndef OV_HTTP_H
#define OV_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "infra/addr.h"
#include "base/bytes.h"
#include "base/err.h"
#include "infra/metrics.h"
#include "infra/route.h"

#define OV_HTTP_MAX_ROUTES 64
#define OV_HTTP_MAX_REPLY_HEADERS 8
#define OV_HTTP_MAX_HEADER_LEN 1024 /* one extra reply header, name plus value */
#define OV_HTTP_MAX_WAIT_MS 60000   /* longest long-poll */
#define OV_HTTP_MAX_METHOD_LEN 16   /* an inner request's method */
#define OV_HTTP_MAX_INNER_HEADERS 32
#define OV_HTTP_MAX_QUERY_VALUE_LEN OV_MAX_URL_LEN
#define OV_HTTP_DEFAULT_TIMEOUT_S 30
#define OV_HTTP_DEFAULT_DEADLINE_S 10 /* for a complete request: see "Connections" above */
#define OV_HTTP_DEFAULT_CONN_LIMIT 12288
#define OV_HTTP_DEFAULT_PER_IP_LIMIT 256
#define OV_HTTP_DEFAULT_MEMORY_LIMIT (64u * 1024u) /* per connection: headers and URL */
#define OV_HTTP_FD_RESERVE 256 /* open files kept for all but connections */

struct ov_http;
struct ov_req;
struct ov_tls;

/* A handler returns 0 once it has replied (or called ov_http_wait), or a negative
 * ov_err without replying, which the frame answers as ov_http_fail would. */
typedef int (*ov_http_handler)(struct ov_req *rq);

struct ov_http_route {
    const char *method;  /* exact, e.g. "GET" */
    const char *pattern; /* see route.h */
    ov_http_handler handler;
    size_t body_max; /* largest accepted body; 0 refuses any body with 413 */
};

struct ov_http_cfg {
    const char *listen;                 /* "HOST:PORT" (addr.h); NULL: OV_ADDR_DEFAULT */
    const struct ov_http_route *routes; /* borrowed; must outlive the server */
    size_t n_routes;
    void *user;                 /* handed to handlers by ov_req_user */
    unsigned n_threads;         /* 0: the number of online cores */
    unsigned timeout_s;         /* idle connection timeout; 0: default */
    unsigned deadline_s;        /* for a complete request (headers, body); 0: default */
    unsigned conn_limit;        /* 0: default */
    unsigned per_ip_limit;      /* from one address (capped at conn_limit); 0: default */
    const char *exempt;         /* addresses not held to per_ip_limit (infra/peers.h) */
    size_t memory_limit;        /* per connection; 0: default */
    struct ov_metrics *metrics; /* NULL: the server makes (and frees) its own */
    bool quiet;                 /* no libmicrohttpd error log (fuzz/bench) */
    /* NULL: plain HTTP. Else HTTPS (TLS 1.2 and 1.3, OV_TLS_PRIORITIES) with the pair current
     * in tls at each handshake (infra/tls.h: ov_tls_reload swaps it while serving). Borrowed:
     * freed by the caller after ov_http_stop. */
    struct ov_tls *tls;
    /* Optional: runs for every routed request once its headers are in, before any body is
     * read. It returns 0 to go on, or replies (or returns a negative ov_err) to refuse the
     * request at once, so an unauthenticated client cannot make the server buffer bodies. */
    ov_http_handler precheck;
};

/* Binds and starts serving. Fails with -OV_E_MALFORMED (listen address or a route
 * pattern), -OV_E_TOO_BIG (too many routes), -OV_E_IO (bind or daemon start),
 * -OV_E_NOMEM. The caller owns *out (ov_http_stop). */
OV_MUST_CHECK int ov_http_start(const struct ov_http_cfg *cfg, struct ov_http **out);
/* Answers pending long polls as expired, stops the daemon (closing connections), frees
 * everything. Accepts NULL. */
void ov_http_stop(struct ov_http *srv);
/* The bound port (the kernel's choice when port 0 was asked for). */
uint16_t ov_http_port(const struct ov_http *srv);
/* The registry /metrics renders; applications may register their own series in it. */
struct ov_metrics *ov_http_metrics(struct ov_http *srv);
/* Wakes every waiting long poll so its handler re-checks its condition. Any thread. */
void ov_http_notify(struct ov_http *srv);

/* Request accessors; the strings live until the request completes. */
const char *ov_req_method(const struct ov_req *rq);
/* The path as sent (no query, not percent-decoded). */
const char *ov_req_path(const struct ov_req *rq);
/* A ":name" segment's value, or NULL. */
const char *ov_req_param(const struct ov_req *rq, const char *name);
/* What the pattern's trailing "*" matched (never empty), or NULL without one. */
const char *ov_req_rest(const struct ov_req *rq);
/* A request header (case-insensitive name), or NULL. Header values are untrusted. */
const char *ov_req_header(const struct ov_req *rq, const char *name);
/* The body received (empty for none). */
struct ov_bytes ov_req_body(const struct ov_req *rq);
/* Frees the body now (a long poll that has read it need not hold it); it reads empty after. */
void ov_req_body_drop(struct ov_req *rq);
void *ov_req_user(const struct ov_req *rq);
struct ov_http *ov_req_server(const struct ov_req *rq);
/* A query argument, percent-decoded ("+" as space): -OV_E_NOT_FOUND if absent,
 * -OV_E_MALFORMED if repeated or badly escaped, -OV_E_NOMEM. A key given without
 * "=" reads as "". *val is owned by the request. */
OV_MUST_CHECK int ov_req_query(struct ov_req *rq, const char *key, const char **val);

/* Adds a header to the reply this request will send (Cache-Control, Location...).
 * Copied. -OV_E_MALFORMED for a name that is not an HTTP token or a value with control
 * characters (no header injection), -OV_E_TOO_BIG past the maxima. */
OV_MUST_CHECK int ov_http_header(struct ov_req *rq, const char *name, const char *value);
/* Queues the reply (body copied; content_type NULL for none). Returns 0, or
 * -OV_E_NOMEM / -OV_E_HTTP when no reply could be queued (the frame then drops the
 * connection). Replying twice is a bug and aborts. */
OV_MUST_CHECK int ov_http_reply(struct ov_req *rq, unsigned status, const char *content_type,
                                struct ov_bytes body);
/* Conditional GET (RFC 9110 §13.1.2): adds `ETag: etag` (a whole entity-tag, quotes
 * included) to the reply and sets *not_modified when the request's If-None-Match names it
 * (the weak comparison, or "*": route.h, ov_etag_match). The handler then answers
 * ov_http_reply(rq, 304, NULL, empty), which keeps the ETag and the other headers it added
 * (Cache-Control); else its full answer. */
OV_MUST_CHECK int ov_http_etag(struct ov_req *rq, const char *etag, bool *not_modified);
/* Whether the request's If-None-Match names etag: a handler that can tell its ETag before
 * reading its bytes (a file's stat, an immutable name) then skips reading them. */
bool ov_req_holds(struct ov_req *rq, const char *etag);
/* A good answer with its validators: Cache-Control cache (NULL: none), ETag etag, then 304
 * when the request holds etag, else 200 with type and body (never for an error: a cache must
 * not keep a 500). */
OV_MUST_CHECK int ov_http_reply_validated(struct ov_req *rq, const char *cache, const char *etag,
                                          const char *type, struct ov_bytes body);
/* Replies with j serialised compactly as application/json. Takes ownership of j (it is
 * decref'd on every path); a NULL j (a failed json_pack) is answered with 500. */
OV_MUST_CHECK int ov_http_reply_json(struct ov_req *rq, unsigned status, json_t *j);
/* Replies {"error": reason, "message": message} as application/json, no-store. */
OV_MUST_CHECK int ov_http_error(struct ov_req *rq, unsigned status, const char *reason,
                                const char *message);
/* The status for an ov_err: peer input errors 400, TOO_BIG 413, NOT_FOUND 404,
 * CONFLICT/EXISTS/STATE 409, DB_BUSY 503, everything else (our side) 500. */
unsigned ov_http_status_for(int err);
/* ov_http_error with ov_http_status_for(err) and reason ov_strerror(err). */
OV_MUST_CHECK int ov_http_fail(struct ov_req *rq, int err);

/* Long poll: asks to run this handler again after ov_http_notify or at most max_ms
 * (capped at OV_HTTP_MAX_WAIT_MS) after the first call of this request; the handler
 * returns 0 right after. The deadline is set once per request, so re-waiting never
 * extends it. After the deadline ov_req_wait_expired is true and the handler must
 * reply (waiting again is then answered 503). Returns 0. */
OV_MUST_CHECK int ov_http_wait(struct ov_req *rq, uint32_t max_ms);
/* Channels keep a notify from waking polls that wait for something else (a log wakes
 * its append polls on each commit, its receipt polls on each checkpoint). ov_http_wait
 * waits on channel 0; ov_http_notify wakes every channel. channel < OV_HTTP_CHANNELS. */
#define OV_HTTP_CHANNELS 4
OV_MUST_CHECK int ov_http_wait_on(struct ov_req *rq, unsigned channel, uint32_t max_ms);
void ov_http_notify_channel(struct ov_http *srv, unsigned channel);
/* Long poll for a level: waits on channel until ov_http_notify_upto has raised the
 * channel's level to at least `until` (> 0; levels only grow), or the deadline. Only the
 * requests whose level was reached are woken, so a server with many waiters (each for its
 * own row, say) resumes each of them once. ov_http_notify_channel and ov_http_notify wake
 * them too. Returns 0. */
OV_MUST_CHECK int ov_http_wait_until(struct ov_req *rq, unsigned channel, uint64_t until,
                                     uint32_t max_ms);
/* Raises channel's level to level (when higher) and wakes the channel's waiters whose level
 * is reached, and its plain (ov_http_wait_on) waiters. Any thread. */
void ov_http_notify_upto(struct ov_http *srv, unsigned channel, uint64_t level);
bool ov_req_wait_expired(const struct ov_req *rq);

/* Per-request state a long-polling handler keeps between its rounds: set on the first
 * round, read back on the next ones (NULL until set). The frame calls state_free (if not
 * NULL) when the request completes, however it ends, or when the state is replaced. */
void ov_req_set_state(struct ov_req *rq, void *state, void (*state_free)(void *));
void *ov_req_state(const struct ov_req *rq);

/* Inner requests: a request that came inside this one (an Oblivious HTTP gateway's
 * decapsulated request, protocol/ohttpgw) runs through the server's own routes as if it had
 * come directly: the same URL and header checks, route, method, body_max, precheck and
 * handler, long polls included. It has no connection and no client address of its own
 * (the server's per-address limits counted the connection that carried it); it is not
 * counted in http_requests_total (the carrier counts its own).
 *
 * The carrier's handler calls ov_req_inner with the request on its first round and with
 * NULL on later ones. *done: the inner request has its reply (read it with
 * ov_req_inner_reply, valid until the carrier completes); else the inner handler waits, and
 * so does the carrier: its handler returns 0 at once and is run again on the same wake-up.
 * Refusals (404, 405, 413, ...) are the inner request's replies, as for a direct one.
 * Returns -OV_E_MALFORMED (an empty or long method, too many headers, a NUL in a header),
 * -OV_E_STATE (rq is itself an inner request: they do not nest) or -OV_E_NOMEM, with
 * nothing run. */
struct ov_http_kv {
    struct ov_bytes name, value;
};
struct ov_http_inner_req {
    const char *method;     /* NUL-terminated, at most OV_HTTP_MAX_METHOD_LEN */
    struct ov_bytes target; /* path and query, as a direct request's URL */
    const struct ov_http_kv *headers;
    size_t n_headers;       /* at most OV_HTTP_MAX_INNER_HEADERS */
    struct ov_bytes body;
};
struct ov_http_inner_reply {
    unsigned status;
    const char *content_type; /* or NULL */
    struct ov_bytes body;
    const char *const *headers; /* "name\0value\0" each */
    size_t n_headers;
};
OV_MUST_CHECK int ov_req_inner(struct ov_req *rq, const struct ov_http_inner_req *spec,
                               bool *done);
void ov_req_inner_reply(const struct ov_req *rq, struct ov_http_inner_reply *out);
/* True for an inner request (a handler that must know: none needs to today). */
bool ov_req_is_inner(const struct ov_req *rq);

#endif
