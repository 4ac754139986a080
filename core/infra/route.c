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
