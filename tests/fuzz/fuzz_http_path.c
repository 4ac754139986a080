/* Fuzz target: every parser of untrusted strings on the HTTP path. The first byte picks:
 *   0  a listen address: parse, format, parse again must give the same address, and the
 *      canonical text must be a fixed point;
 *   1  "PATTERN\nPATH": compile the pattern, match the path, and on a match rebuild the
 *      path from the pattern's literals, the captured parameters and the rest, which must
 *      give back the path byte for byte; the path is also run through a fixed table of
 *      real routes with the same check;
 *   2  a query value: decode, re-encode every byte, decode again must round-trip.
 * Any violated property aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infra/addr.h"
#include "infra/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_addr(const uint8_t *p, size_t n)
{
    char s[OV_MAX_LISTEN_LEN + 8];
    n = n < sizeof s - 1 ? n : sizeof s - 1;
    memcpy(s, p, n);
    s[n] = '\0';
    struct ov_addr a, b;
    if (ov_addr_parse(s, &a) != 0) {
        if (a.len != 0) {
            abort(); /* outputs zeroed on failure */
        }
        return;
    }
    char t1[OV_MAX_LISTEN_LEN + 1], t2[OV_MAX_LISTEN_LEN + 1];
    if (ov_addr_format(&a, t1, sizeof t1) != 0 || ov_addr_parse(t1, &b) != 0 || a.len != b.len ||
        memcmp(&a.ss, &b.ss, a.len) != 0 || ov_addr_format(&b, t2, sizeof t2) != 0 ||
        strcmp(t1, t2) != 0) {
        abort();
    }
}

/* Rebuilds the matched path from the pattern and the captures; it must equal the path. */
static void
check_match(const struct ov_route_pattern *p, const char *path, size_t len,
            const struct ov_route_match *m)
{
    char out[OV_MAX_URL_LEN + 2];
    size_t o = 0, k = 0;
    if (p->n_segs == 0) {
        out[o++] = '/';
    }
    for (size_t i = 0; i < p->n_segs; i++) {
        const struct ov_route_seg *seg = &p->segs[i];
        struct ov_bytes v;
        if (seg->kind == OV_SEG_LITERAL) {
            v = (struct ov_bytes){(const uint8_t *)seg->s, seg->len};
        } else if (seg->kind == OV_SEG_PARAM) {
            if (k >= m->n_params) {
                abort();
            }
            v = m->params[k++].value;
            if (v.len == 0 || memchr(v.ptr, '/', v.len) != NULL) {
                abort();
            }
        } else {
            v = m->rest;
            if (v.len == 0) {
                abort();
            }
        }
        if (v.len + 1 > sizeof out - o) {
            abort();
        }
        out[o++] = '/';
        memcpy(out + o, v.ptr, v.len);
        o += v.len;
    }
    if (p->slash) {
        if (o >= sizeof out) {
            abort();
        }
        out[o++] = '/';
    }
    if (k != m->n_params || o != len || memcmp(out, path, len) != 0) {
        abort();
    }
}

static const char *const table[] = {"/",          "/healthz",     "/metrics",
                                    "/tile/*",    "/receipt/:id", "/checkpoint",
                                    "/a/:x/b/:y", "/t/:n/*",      "/*",
                                    "/web/"};

static void
fuzz_route(const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t plen = nl != NULL ? (size_t)(nl - p) : 0;
    const char *path = nl != NULL ? (const char *)nl + 1 : (const char *)p;
    size_t len = n - (nl != NULL ? plen + 1 : 0);
    if (len > OV_MAX_URL_LEN) {
        return; /* the frame answers 414 before matching */
    }
    struct ov_route_pattern pat;
    struct ov_route_match m;
    char pattern[OV_ROUTE_MAX_PATTERN_LEN + 2];
    if (nl != NULL && plen < sizeof pattern) {
        memcpy(pattern, p, plen);
        pattern[plen] = '\0';
        if (ov_route_compile(pattern, &pat) == 0 && ov_route_match(&pat, path, len, &m)) {
            check_match(&pat, path, len, &m);
        }
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (ov_route_compile(table[i], &pat) != 0) {
            abort();
        }
        if (ov_route_match(&pat, path, len, &m)) {
            check_match(&pat, path, len, &m);
        } else if (m.n_params != 0 || m.rest.ptr != NULL) {
            abort();
        }
    }
}

static void
fuzz_decode(const uint8_t *p, size_t n)
{
    if (n > OV_MAX_URL_LEN) {
        return;
    }
    char dec[OV_MAX_URL_LEN + 1], enc[3 * OV_MAX_URL_LEN + 1], again[OV_MAX_URL_LEN + 1];
    size_t dn, an;
    if (ov_url_decode((const char *)p, n, true, dec, sizeof dec, &dn) != 0) {
        return;
    }
    if (dn > n || dec[dn] != '\0' || memchr(dec, '\0', dn) != NULL) {
        abort();
    }
    static const char hex[] = "0123456789ABCDEF";
    size_t e = 0;
    for (size_t i = 0; i < dn; i++) {
        uint8_t c = (uint8_t)dec[i];
        enc[e++] = '%';
        enc[e++] = hex[c >> 4];
        enc[e++] = hex[c & 15];
    }
    if (ov_url_decode(enc, e, true, again, sizeof again, &an) != 0 || an != dn ||
        memcmp(again, dec, dn) != 0) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        fuzz_addr(data + 1, size - 1);
        break;
    case 1:
        fuzz_route(data + 1, size - 1);
        break;
    default:
        fuzz_decode(data + 1, size - 1);
        break;
    }
    return 0;
}
