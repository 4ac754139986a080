#include "infra/route.h"

#include <string.h>

static bool
is_literal_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static bool
is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int
compile_segment(const char *s, size_t len, bool last, struct ov_route_seg *seg)
{
    if (len == 1 && s[0] == '*') {
        seg->kind = OV_SEG_REST;
        seg->s = s;
        seg->len = 0;
        return last ? 0 : -OV_E_MALFORMED;
    }
    bool param = s[0] == ':';
    seg->kind = param ? OV_SEG_PARAM : OV_SEG_LITERAL;
    seg->s = param ? s + 1 : s;
    seg->len = param ? len - 1 : len;
    if (seg->len == 0) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < seg->len; i++) {
        if (param ? !is_name_char(seg->s[i]) : !is_literal_char(seg->s[i])) {
            return -OV_E_MALFORMED;
        }
    }
    return 0;
}

int
ov_route_compile(const char *pattern, struct ov_route_pattern *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strnlen(pattern, OV_ROUTE_MAX_PATTERN_LEN + 1);
    if (n > OV_ROUTE_MAX_PATTERN_LEN) {
        return -OV_E_TOO_BIG;
    }
    if (n == 0 || pattern[0] != '/') {
        return -OV_E_MALFORMED;
    }
    out->text = pattern;
    if (n == 1) {
        return 0; /* "/" alone: zero segments */
    }
    if (pattern[n - 1] == '/') {
        out->slash = true; /* "/web/": a trailing slash after the last segment */
        n--;
    }
    size_t n_params = 0;
    for (size_t i = 1; i <= n;) {
        const char *end = memchr(pattern + i, '/', n - i);
        size_t len = end != NULL ? (size_t)(end - (pattern + i)) : n - i;
        if (len == 0 || out->n_segs == OV_ROUTE_MAX_SEGMENTS) {
            memset(out, 0, sizeof *out);
            return len == 0 ? -OV_E_MALFORMED : -OV_E_TOO_BIG;
        }
        struct ov_route_seg *seg = &out->segs[out->n_segs++];
        int rc = compile_segment(pattern + i, len, end == NULL, seg);
        if (rc == 0 && seg->kind == OV_SEG_PARAM && ++n_params > OV_ROUTE_MAX_PARAMS) {
            rc = -OV_E_TOO_BIG;
        }
        if (rc != 0) {
            memset(out, 0, sizeof *out);
            return rc;
        }
        i += len + 1;
    }
    if (out->slash && (out->n_segs == 0 || out->segs[out->n_segs - 1].kind == OV_SEG_REST)) {
        memset(out, 0, sizeof *out);
        return -OV_E_MALFORMED; /* "//", or a rest followed by a slash */
    }
    return 0;
}

bool
ov_route_match(const struct ov_route_pattern *p, const char *path, size_t path_len,
               struct ov_route_match *m)
{
    memset(m, 0, sizeof *m);
    if (path_len == 0 || path[0] != '/') {
        return false;
    }
    if (p->n_segs == 0) {
        return path_len == 1;
    }
    if (p->slash) {
        if (path_len < 2 || path[path_len - 1] != '/') {
            return false;
        }
        path_len--; /* the segments must then end exactly before that slash */
    }
    size_t off = 1; /* just after a '/' */
    for (size_t k = 0; k < p->n_segs; k++) {
        const struct ov_route_seg *seg = &p->segs[k];
        if (seg->kind == OV_SEG_REST) {
            if (off >= path_len) {
                goto fail;
            }
            m->rest = (struct ov_bytes){(const uint8_t *)path + off, path_len - off};
            return true;
        }
        if (off > path_len) {
            goto fail;
        }
        const char *end = memchr(path + off, '/', path_len - off);
        size_t len = end != NULL ? (size_t)(end - (path + off)) : path_len - off;
        if (len == 0) {
            goto fail;
        }
        if (seg->kind == OV_SEG_LITERAL) {
            if (len != seg->len || memcmp(path + off, seg->s, len) != 0) {
                goto fail;
            }
        } else {
            struct ov_route_param *pr = &m->params[m->n_params++];
            pr->name = (struct ov_bytes){(const uint8_t *)seg->s, seg->len};
            pr->value = (struct ov_bytes){(const uint8_t *)path + off, len};
        }
        off += len + 1;
    }
    /* every segment consumed: the path must end exactly here, with no trailing '/' */
    if (off == path_len + 1) {
        return true;
    }
fail:
    memset(m, 0, sizeof *m);
    return false;
}

static int
hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
ov_url_decode(const char *in, size_t in_len, bool plus_space, char *out, size_t out_max,
              size_t *out_len)
{
    size_t o = 0;
    int rc = 0;
    *out_len = 0;
    for (size_t i = 0; i < in_len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi = in_len - i > 2 ? hex_val(in[i + 1]) : -1;
            int lo = hi >= 0 ? hex_val(in[i + 2]) : -1;
            if (lo < 0 || (hi | lo) == 0) {
                rc = -OV_E_MALFORMED;
                goto fail;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        } else if (c == '\0') {
            rc = -OV_E_MALFORMED;
            goto fail;
        }
        if (o + 1 >= out_max) {
            rc = -OV_E_TOO_BIG;
            goto fail;
        }
        out[o++] = c;
    }
    if (out_max == 0) {
        return -OV_E_TOO_BIG;
    }
    out[o] = '\0';
    *out_len = o;
    return 0;
fail:
    if (out_max > 0) {
        out[0] = '\0';
    }
    return rc;
}

/* ---- If-None-Match ------------------------------------------------------------------- */

static bool
is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

static size_t
skip_ows(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    return i;
}

/* The opaque tag of an entity-tag at s[*i..n): its view, *i moved past it; false if none. */
static bool
opaque_tag(const char *s, size_t n, size_t *i, struct ov_bytes *tag)
{
    size_t k = *i;
    if (n - k >= 2 && s[k] == 'W' && s[k + 1] == '/') {
        k += 2;
    }
    if (k >= n || s[k] != '"') {
        return false;
    }
    size_t start = ++k;
    while (k < n && is_etagc((unsigned char)s[k])) {
        k++;
    }
    if (k >= n || s[k] != '"') {
        return false;
    }
    *tag = (struct ov_bytes){(const uint8_t *)s + start, k - start};
    *i = k + 1;
    return true;
}

bool
ov_etag_match(const char *field, size_t field_len, const char *etag)
{
    struct ov_bytes want, got;
    size_t j = 0, n = strlen(etag);
    if (!opaque_tag(etag, n, &j, &want) || j != n) {
        return false; /* our own tag is malformed: a bug, but never a 304 */
    }
    size_t i = skip_ows(field, 0, field_len);
    if (i < field_len && field[i] == '*') {
        return skip_ows(field, i + 1, field_len) == field_len;
    }
    bool match = false, any = false;
    while (i < field_len) {
        if (field[i] == ',') { /* empty list elements are allowed (RFC 9110 §5.6.1) */
            i = skip_ows(field, i + 1, field_len);
            continue;
        }
        if (!opaque_tag(field, field_len, &i, &got)) {
            return false;
        }
        any = true;
        match = match || (got.len == want.len && memcmp(got.ptr, want.ptr, got.len) == 0);
        i = skip_ows(field, i, field_len);
        if (i < field_len && field[i] != ',') {
            return false;
        }
    }
    return any && match;
}

/* ---- static file paths --------------------------------------------------------------- */

static bool
is_static_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/';
}

int
ov_static_path_check(const char *path, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_static_char(path[i])) {
            return -OV_E_MALFORMED;
        }
    }
    if (len == 0 || len > OV_STATIC_MAX_PATH_LEN) {
        return -OV_E_NOT_FOUND;
    }
    size_t n_segs = 0;
    for (size_t i = 0; i <= len;) {
        const char *end = memchr(path + i, '/', len - i);
        size_t seg = end != NULL ? (size_t)(end - (path + i)) : len - i;
        if (seg == 0 || path[i] == '.' || ++n_segs > OV_STATIC_MAX_SEGMENTS) {
            return -OV_E_NOT_FOUND;
        }
        i += seg + 1;
    }
    return 0;
}
