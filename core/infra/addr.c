#include "infra/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* "0" or 1..65535 without leading zeros. */
static int
parse_port(const char *s, size_t n, uint16_t *port)
{
    if (n == 0 || n > 5 || (s[0] == '0' && n > 1)) {
        return -OV_E_MALFORMED;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -OV_E_MALFORMED;
        }
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v > 65535) {
        return -OV_E_RANGE;
    }
    *port = (uint16_t)v;
    return 0;
}

int
ov_addr_parse(const char *s, struct ov_addr *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strnlen(s, OV_MAX_LISTEN_LEN + 1);
    if (n > OV_MAX_LISTEN_LEN) {
        return -OV_E_TOO_BIG;
    }
    char host[OV_MAX_LISTEN_LEN + 1];
    const char *colon;
    bool v6 = n > 0 && s[0] == '[';
    if (v6) {
        const char *close = memchr(s, ']', n);
        if (close == NULL || close[1] != ':') {
            return -OV_E_MALFORMED;
        }
        colon = close + 1;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
    } else {
        colon = memchr(s, ':', n);
        if (colon == NULL) {
            return -OV_E_MALFORMED;
        }
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    uint16_t port = 0;
    int rc = parse_port(colon + 1, n - (size_t)(colon + 1 - s), &port);
    if (rc != 0) {
        return rc;
    }
    if (v6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->ss;
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
            memset(out, 0, sizeof *out);
            return -OV_E_MALFORMED;
        }
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        out->len = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&out->ss;
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
            memset(out, 0, sizeof *out);
            return -OV_E_MALFORMED;
        }
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        out->len = sizeof *a4;
    }
    return 0;
}

int
ov_addr_format(const struct ov_addr *a, char *out, size_t out_max)
{
    char host[INET6_ADDRSTRLEN];
    const void *raw;
    if (a->ss.ss_family == AF_INET6) {
        raw = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
    } else if (a->ss.ss_family == AF_INET) {
        raw = &((const struct sockaddr_in *)&a->ss)->sin_addr;
    } else {
        return -OV_E_MALFORMED;
    }
    if (inet_ntop(a->ss.ss_family, raw, host, sizeof host) == NULL) {
        return -OV_E_MALFORMED;
    }
    bool v6 = a->ss.ss_family == AF_INET6;
    int n = snprintf(out, out_max, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
                     (unsigned)ov_addr_port(a));
    if (n < 0 || (size_t)n >= out_max) {
        if (out_max > 0) {
            out[0] = '\0';
        }
        return -OV_E_TOO_BIG;
    }
    return 0;
}

uint16_t
ov_addr_port(const struct ov_addr *a)
{
    if (a->ss.ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    }
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

void
ov_addr_set_port(struct ov_addr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
    } else {
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    }
}

bool
ov_addr_is_ipv6(const struct ov_addr *a)
{
    return a->ss.ss_family == AF_INET6;
}

int
ov_addr_check(const char *s)
{
    struct ov_addr a;
    return ov_addr_parse(s, &a);
}
