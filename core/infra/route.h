/* route: URL path patterns and their matching, and strict percent-decoding of query
 * values. No I/O and no libmicrohttpd here, so the fuzzer reaches every line.
 *
 * Pattern grammar (our own constants; a bad one is a bug and ov_route_compile says so):
 *
 *   pattern = "/" / 1*( "/" segment ) [ "/" "*" / "/" ]
 *   segment = literal / ":" name
 *   literal = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" ), not starting with ":"
 *   name    = 1*( lowercase / DIGIT / "_" )
 *
 * A literal matches itself exactly; ":name" matches one non-empty segment (any bytes but
 * "/") and captures it; a final "*" matches one or more remaining bytes, slashes included,
 * handed to the handler as `rest` for it to validate. Otherwise the segment count must be
 * equal: "/a/:x" matches "/a/1" but not "/a/1/", "/a" or "/a//". A final "/" (a pattern "/web/") asks for the
 * trailing slash: "/web/" matches "/web/" only, neither "/web" nor "/web/x". Paths are matched as
 * sent, not percent-decoded (none of our URLs needs an escape; a handler that meets "%"
 * in a parameter rejects it as malformed). */
#ifndef OV_ROUTE_H
#define OV_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/bytes.h"
#include "base/err.h"

#define OV_ROUTE_MAX_SEGMENTS 16
#define OV_ROUTE_MAX_PARAMS 8
#define OV_ROUTE_MAX_PATTERN_LEN 256
#define OV_MAX_URL_LEN 2048 /* request path plus query string */

enum ov_seg_kind { OV_SEG_LITERAL, OV_SEG_PARAM, OV_SEG_REST };

struct ov_route_seg {
    enum ov_seg_kind kind;
    const char *s; /* into the pattern: the literal, or the name after ':' */
    size_t len;
};

/* A compiled pattern; borrows the pattern string, which must outlive it. */
struct ov_route_pattern {
    const char *text;
    bool slash; /* the pattern ends with "/" after a segment */
    size_t n_segs;
    struct ov_route_seg segs[OV_ROUTE_MAX_SEGMENTS];
};

struct ov_route_param {
    struct ov_bytes name;
    struct ov_bytes value; /* into the matched path */
};

struct ov_route_match {
    size_t n_params;
    struct ov_route_param params[OV_ROUTE_MAX_PARAMS];
    struct ov_bytes rest; /* the "*" part, or {NULL, 0} */
};

/* -OV_E_MALFORMED for text outside the grammar, -OV_E_TOO_BIG past the maxima. */
OV_MUST_CHECK int ov_route_compile(const char *pattern, struct ov_route_pattern *out);
/* Whether `path` (path_len bytes, no query) matches; on a match *m holds views into
 * path. On no match *m is zeroed. */
bool ov_route_match(const struct ov_route_pattern *p, const char *path, size_t path_len,
                    struct ov_route_match *m);

/* Percent-decodes a query key or value: "%XX" (two hex digits, either case) becomes the
 * byte, and "+" becomes a space when plus_space (application/x-www-form-urlencoded).
 * Strict: a "%" without two hex digits, or one that decodes to NUL, is -OV_E_MALFORMED;
 * -OV_E_TOO_BIG when out_max cannot hold the result and a NUL (in_len + 1 always can).
 * out is NUL-terminated; *out_len excludes the NUL. */
OV_MUST_CHECK int ov_url_decode(const char *in, size_t in_len, bool plus_space, char *out,
                                size_t out_max, size_t *out_len);

/* Whether an If-None-Match field value (RFC 9110 §13.1.2: "*" or a comma-separated list
 * of entity-tags, each [W/]"opaque") names etag (a whole entity-tag such as "\"ab\"").
 * The weak comparison: the opaque tags are equal, W/ on either side ignored. A field that is
 * not of this grammar matches nothing (the full answer is sent). */
bool ov_etag_match(const char *field, size_t field_len, const char *etag);

/* Static files served under a folder (the log's /web/<path>): the path after the prefix,
 * as sent. 0 when it names a file inside the folder: only A-Z a-z 0-9 . _ / - (else
 * -OV_E_MALFORMED: "%", so no escape, "\", a NUL...), and then -OV_E_NOT_FOUND for an empty
 * path or segment (a leading, doubled or trailing "/"), a segment starting with "." (so no
 * ".." and no dotfile), more than OV_STATIC_MAX_SEGMENTS segments or OV_STATIC_MAX_PATH_LEN
 * bytes. What it accepts can be joined to the folder's path as it is. */
#define OV_STATIC_MAX_SEGMENTS 8
#define OV_STATIC_MAX_PATH_LEN 256
OV_MUST_CHECK int ov_static_path_check(const char *path, size_t len);

#endif
