/* Fuzz target: the log's page paths and If-None-Match (infra/route.h). The first byte picks:
 *   0  a path under /web/: ov_static_path_check must agree with a plain reference (each
 *      byte in the set, split at "/", each segment non-empty and not starting with ".", at
 *      most 8 segments and 256 bytes), and what it accepts never starts with "." or "/", ends with "/", or holds "/." or "//"
 *      (so no ".." segment: "a..b" is a name);
 *   1  "ETAG\nFIELD": ov_etag_match must not read past the field, must match a field that
 *      is exactly a well-formed ETag, and keep a match when a list element is appended.
 * Any violated property aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infra/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
reference(const char *p, size_t n)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/";
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\0' || strchr(set, p[i]) == NULL) {
            return -OV_E_MALFORMED;
        }
    }
    if (n == 0 || n > OV_STATIC_MAX_PATH_LEN) {
        return -OV_E_NOT_FOUND;
    }
    size_t segs = 1, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '/') {
            if (i == start || p[start] == '.') {
                return -OV_E_NOT_FOUND;
            }
            segs += i < n;
            start = i + 1;
        }
    }
    return segs > OV_STATIC_MAX_SEGMENTS ? -OV_E_NOT_FOUND : 0;
}

static void
fuzz_path(const uint8_t *data, size_t n)
{
    char *p = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past the end */
    if (p == NULL) {
        return;
    }
    memcpy(p, data, n);
    int rc = ov_static_path_check(p, n);
    if (rc != reference(p, n)) {
        abort();
    }
    if (rc == 0 && (p[0] == '.' || memmem(p, n, "/.", 2) != NULL || memmem(p, n, "//", 2) != NULL ||
                    p[0] == '/' || p[n - 1] == '/')) {
        abort();
    }
    free(p);
}

static void
fuzz_etag(const uint8_t *data, size_t n)
{
    const uint8_t *nl = memchr(data, '\n', n);
    if (nl == NULL || (size_t)(nl - data) > 64) {
        return;
    }
    char etag[66];
    size_t elen = (size_t)(nl - data);
    memcpy(etag, data, elen);
    etag[elen] = '\0';
    size_t flen = n - elen - 1;
    char *field = malloc(flen + elen + 8);
    if (field == NULL) {
        return;
    }
    memcpy(field, nl + 1, flen);
    bool m = ov_etag_match(field, flen, etag);
    if (m && strlen(etag) < 2) {
        abort(); /* no well-formed ETag is that short */
    }
    size_t k = 0;
    while (k < flen && (field[k] == ' ' || field[k] == '\t')) {
        k++;
    }
    if (m && (k == flen || field[k] != '*')) { /* one more list element keeps the match */
        memcpy(field + flen, ", \"z\"", 5);
        if (!ov_etag_match(field, flen + 5, etag)) {
            abort();
        }
    }
    if (strlen(etag) == elen && ov_etag_match("*", 1, etag) && !ov_etag_match(etag, elen, etag)) {
        abort(); /* a well-formed tag (so "*" matched it) must match itself */
    }
    free(field);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    if (data[0] % 2 == 0) {
        fuzz_path(data + 1, size - 1);
    } else {
        fuzz_etag(data + 1, size - 1);
    }
    return 0;
}
