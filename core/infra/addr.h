/* addr: the "HOST:PORT" listen-address syntax shared by every server's --listen.
 *
 *   listen = ipv4 ":" port / "[" ipv6 "]" ":" port
 *   ipv4   = dotted quad as inet_pton(AF_INET) takes it (no leading zeros, no short forms)
 *   ipv6   = any inet_pton(AF_INET6) form, without a zone ("%eth0")
 *   port   = "0" / a decimal 1..65535 without leading zeros or sign
 *
 * Hosts are numeric on purpose: a server binds exactly what it was told, with no DNS
 * lookup at start and no name that could resolve to several families. Port 0 asks the
 * kernel for a free port (tests read it back). The input is at most OV_MAX_LISTEN_LEN. */
#ifndef OV_ADDR_H
#define OV_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/err.h"

#define OV_MAX_LISTEN_LEN 64 /* "[" + 45-char IPv6 + "]:" + 5 digits = 53 */
#define OV_ADDR_DEFAULT "127.0.0.1:0"

struct ov_addr {
    struct sockaddr_storage ss; /* sockaddr_in or sockaddr_in6, port in network order */
    socklen_t len;
};

/* Parses `s`: -OV_E_MALFORMED for anything outside the grammar, -OV_E_TOO_BIG past
 * OV_MAX_LISTEN_LEN. On failure *out is zeroed. */
OV_MUST_CHECK int ov_addr_parse(const char *s, struct ov_addr *out);
/* The canonical text of `a` ("127.0.0.1:8080", "[::1]:8080") into out (NUL-terminated):
 * -OV_E_TOO_BIG if out_max is too small, -OV_E_MALFORMED for an unknown family. */
OV_MUST_CHECK int ov_addr_format(const struct ov_addr *a, char *out, size_t out_max);
uint16_t ov_addr_port(const struct ov_addr *a);
void ov_addr_set_port(struct ov_addr *a, uint16_t port);
bool ov_addr_is_ipv6(const struct ov_addr *a);
/* Whether `s` parses; shaped to serve as an ov_cli option check. */
OV_MUST_CHECK int ov_addr_check(const char *s);

#endif
