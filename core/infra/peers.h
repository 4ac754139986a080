/* peers: the connections open from each client address, held to a limit, with the
 * addresses exempt from it (a platform or a reverse proxy that relays many people).
 *
 * libmicrohttpd's own per-address limit has no exemptions, so the HTTP frame counts here
 * instead: it asks ov_peers_admit at accept, and adds and removes each connection as it
 * opens and closes. Addresses are kept as 16 bytes (IPv4 as ::ffff:a.b.c.d) in a table
 * hashed with a per-process random key, so that chosen addresses cannot pile into one
 * bucket. Thread-safe.
 *
 * Exemptions are a comma-separated list of at most OV_PEERS_MAX_EXEMPT prefixes:
 *   list   = prefix *("," prefix)
 *   prefix = ipv4 ["/" 0..32] / ipv6 ["/" 0..128]      (numeric, as inet_pton takes them)
 * A bare address is the whole address (/32 or /128). */
#ifndef OV_PEERS_H
#define OV_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/err.h"

#define OV_PEERS_MAX_EXEMPT 16
#define OV_PEERS_MAX_LIST 1024 /* bytes of the exemption list */

struct ov_peers;

/* An address as the table keeps it; ok is false for a family other than IPv4 or IPv6
 * (a UNIX socket), which is neither counted nor limited. */
struct ov_peer {
    unsigned char a[16];
    bool ok;
};

/* A table for `limit` connections an address (limit >= 1), and the exemptions `exempt`
 * (NULL or "" for none): -OV_E_MALFORMED for a list outside the grammar, -OV_E_TOO_BIG
 * past its bounds, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_peers_new(unsigned limit, const char *exempt, struct ov_peers **out);
void ov_peers_free(struct ov_peers *p);

/* The address of a sockaddr_in or sockaddr_in6 (len checked). */
struct ov_peer ov_peer_of(const struct sockaddr *sa, socklen_t len);

/* Whether one more connection from `who` may open: exempt, or under the limit. */
bool ov_peers_admit(struct ov_peers *p, const struct ov_peer *who);
/* ov_peers_admit and ov_peers_open at once, under one lock, so that concurrent accepts
 * cannot pass the limit: true when the connection may open (and is counted open). */
bool ov_peers_take(struct ov_peers *p, const struct ov_peer *who);
/* Counts a connection from `who` open, or closed. A close without its open is ignored. */
OV_MUST_CHECK int ov_peers_open(struct ov_peers *p, const struct ov_peer *who);
void ov_peers_close(struct ov_peers *p, const struct ov_peer *who);
/* Connections counted open from `who` (for tests). */
unsigned ov_peers_count(struct ov_peers *p, const struct ov_peer *who);

/* Whether `list` is a valid exemption list; shaped to serve as an ov_cli option check. */
OV_MUST_CHECK int ov_peers_check(const char *list);

#endif
