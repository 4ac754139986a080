/* bhttp: RFC 9292 known-length Binary HTTP, decoded and encoded.
 *
 *   Known-Length Request            | Known-Length Response
 *   ------------------------------- | -------------------------------
 *   Framing Indicator (i) = 0       | Framing Indicator (i) = 1
 *   Method Length (i), Method       | (informational responses: refused here)
 *   Scheme Length (i), Scheme       | Status Code (i) = 200..599
 *   Authority Length (i), Authority |
 *   Path Length (i), Path           |
 *   Header Section Length (i), Field Line ...
 *   Content Length (i), Content
 *   Trailer Section Length (i), Field Line ...
 *   Padding: zero bytes
 *
 *   Field Line = Name Length (i) = 1.., Name, Value Length (i), Value
 *   (i) = a QUIC variable-length integer (RFC 9000 §16): the top two bits of the first byte
 *   give its length, 1, 2, 4 or 8 bytes.
 *
 * A message may end (§3.8) right before the header section's, the content's or the trailer
 * section's length: the missing parts are empty. */
#include "protocol/bhttp.h"

#include <string.h>

#include "base/reader.h"

/* A QUIC varint; sets the reader's error on a short input. */
static uint64_t
read_varint(struct ov_reader *r)
{
    uint8_t first = ov_reader_u8(r);
    unsigned extra = (1u << (first >> 6)) - 1;
    uint64_t v = first & 0x3f;
    for (unsigned i = 0; i < extra; i++) {
        v = v << 8 | ov_reader_u8(r);
    }
    return v;
}

/* A length-prefixed view of at most max bytes. */
static void
read_lv(struct ov_reader *r, size_t max, struct ov_bytes *out)
{
    uint64_t n = read_varint(r);
    if (r->err == 0 && n > max) {
        ov_reader_fail(r, -OV_E_TOO_BIG);
    }
    ov_reader_bytes(r, r->err ? 0 : (size_t)n, out);
}

static bool
is_tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_token(struct ov_bytes b, bool lowercase)
{
    if (b.len == 0) {
        return false;
    }
    for (size_t i = 0; i < b.len; i++) {
        if (!is_tchar(b.ptr[i]) || (lowercase && b.ptr[i] >= 'A' && b.ptr[i] <= 'Z')) {
            return false;
        }
    }
    return true;
}

static bool
is_visible(struct ov_bytes b)
{
    for (size_t i = 0; i < b.len; i++) {
        if (b.ptr[i] < 0x21 || b.ptr[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* RFC 9113 §8.2.1: no NUL, CR or LF; no whitespace at either end. */
static bool
is_field_value(struct ov_bytes b)
{
    for (size_t i = 0; i < b.len; i++) {
        if (b.ptr[i] == 0 || b.ptr[i] == '\r' || b.ptr[i] == '\n') {
            return false;
        }
    }
    return b.len == 0 || (b.ptr[0] != ' ' && b.ptr[0] != '\t' && b.ptr[b.len - 1] != ' ' &&
                          b.ptr[b.len - 1] != '\t');
}

static bool
is_scheme(struct ov_bytes b)
{
    if (b.len == 0 || !((b.ptr[0] | 0x20) >= 'a' && (b.ptr[0] | 0x20) <= 'z')) {
        return false;
    }
    for (size_t i = 1; i < b.len; i++) {
        uint8_t c = b.ptr[i];
        bool ok = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '-' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int
check_request_control(const struct ov_bhttp_msg *m)
{
    bool path_ok = m->path.len > 0 && is_visible(m->path) &&
                   (m->path.ptr[0] == '/' || (m->path.len == 1 && m->path.ptr[0] == '*'));
    if (!is_token(m->method, false) || !is_scheme(m->scheme) || !is_visible(m->authority) ||
        !path_ok) {
        return -OV_E_MALFORMED;
    }
    return 0;
}

static int
check_status(uint64_t status)
{
    if (status >= 100 && status <= 199) {
        return -OV_E_RANGE; /* informational responses: not carried by onevoice */
    }
    return status >= 200 && status <= 599 ? 0 : -OV_E_MALFORMED;
}

static int
check_field(struct ov_bytes name, struct ov_bytes value)
{
    if (name.len > OV_BHTTP_MAX_NAME_LEN || value.len > OV_BHTTP_MAX_VALUE_LEN) {
        return -OV_E_TOO_BIG;
    }
    /* a pseudo-header's ':' is no tchar: refused here with the rest */
    return is_token(name, true) && is_field_value(value) ? 0 : -OV_E_MALFORMED;
}

int
ov_bhttp_add(struct ov_bhttp_section *s, struct ov_bytes name, struct ov_bytes value)
{
    if (s->n >= OV_BHTTP_MAX_FIELDS) {
        return -OV_E_TOO_BIG;
    }
    s->f[s->n].name = name;
    s->f[s->n].value = value;
    s->n++;
    return 0;
}

const struct ov_bhttp_field *
ov_bhttp_find(const struct ov_bhttp_section *s, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < s->n; i++) {
        if (s->f[i].name.len == n && memcmp(s->f[i].name.ptr, name, n) == 0) {
            return &s->f[i];
        }
    }
    return NULL;
}

static int
read_section(struct ov_reader *r, struct ov_bhttp_section *s)
{
    struct ov_bytes body;
    read_lv(r, OV_BHTTP_MAX_LEN, &body);
    if (r->err != 0) {
        return r->err;
    }
    struct ov_reader fr;
    ov_reader_init(&fr, body);
    while (fr.err == 0 && ov_reader_left(&fr) > 0) {
        struct ov_bytes name, value;
        read_lv(&fr, OV_BHTTP_MAX_NAME_LEN, &name);
        read_lv(&fr, OV_BHTTP_MAX_VALUE_LEN, &value);
        int rc = fr.err ? fr.err : check_field(name, value);
        rc = rc ? rc : ov_bhttp_add(s, name, value);
        if (rc != 0) {
            /* a field line cut by its section's end is malformed, not a short message */
            return rc == -OV_E_TRUNCATED ? -OV_E_MALFORMED : rc;
        }
    }
    return fr.err;
}

static int
decode(struct ov_reader *r, struct ov_bhttp_msg *m)
{
    uint64_t framing = read_varint(r);
    if (r->err != 0) {
        return r->err;
    }
    if (framing == 2 || framing == 3) {
        return -OV_E_RANGE; /* indeterminate length: not accepted */
    }
    if (framing > 1) {
        return -OV_E_MALFORMED;
    }
    m->response = framing == 1;
    int rc = 0;
    if (m->response) {
        uint64_t status = read_varint(r);
        rc = r->err ? r->err : check_status(status);
        m->status = (unsigned)status;
    } else {
        read_lv(r, OV_BHTTP_MAX_CONTROL_LEN, &m->method);
        read_lv(r, OV_BHTTP_MAX_CONTROL_LEN, &m->scheme);
        read_lv(r, OV_BHTTP_MAX_CONTROL_LEN, &m->authority);
        read_lv(r, OV_BHTTP_MAX_CONTROL_LEN, &m->path);
        rc = r->err ? r->err : check_request_control(m);
    }
    /* each section may be cut off before its length: then it and the rest are empty */
    rc = rc || ov_reader_left(r) == 0 ? rc : read_section(r, &m->headers);
    if (rc == 0 && ov_reader_left(r) > 0) {
        read_lv(r, OV_BHTTP_MAX_LEN, &m->content);
        rc = r->err;
    }
    rc = rc || ov_reader_left(r) == 0 ? rc : read_section(r, &m->trailers);
    while (rc == 0 && ov_reader_left(r) > 0) {
        rc = ov_reader_u8(r) == 0 ? r->err : -OV_E_MALFORMED; /* padding: zeros only */
    }
    return rc;
}

int
ov_bhttp_decode(struct ov_bytes in, struct ov_bhttp_msg *out)
{
    memset(out, 0, sizeof *out);
    if (in.len > OV_BHTTP_MAX_LEN) {
        return -OV_E_TOO_BIG;
    }
    struct ov_reader r;
    ov_reader_init(&r, in);
    int rc = decode(&r, out);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* ---- encoding ---- */

static size_t
varint_len(uint64_t v)
{
    return v < 64 ? 1 : v < 16384 ? 2 : v < (1u << 30) ? 4 : 8;
}

static int
put_varint(struct ov_buf *b, uint64_t v)
{
    uint8_t tmp[8];
    size_t n = varint_len(v);
    for (size_t i = 0; i < n; i++) {
        tmp[n - 1 - i] = (uint8_t)(v >> (8 * i));
    }
    tmp[0] |= (uint8_t)((n == 1 ? 0u : n == 2 ? 1u : n == 4 ? 2u : 3u) << 6);
    return ov_buf_append(b, tmp, n);
}

static int
put_lv(struct ov_buf *b, struct ov_bytes v)
{
    int rc = put_varint(b, v.len);
    return rc ? rc : ov_buf_append(b, v.ptr, v.len);
}

static int
put_section(struct ov_buf *b, const struct ov_bhttp_section *s)
{
    size_t len = 0;
    for (size_t i = 0; i < s->n; i++) {
        int rc = check_field(s->f[i].name, s->f[i].value);
        if (rc != 0) {
            return rc;
        }
        len += varint_len(s->f[i].name.len) + s->f[i].name.len +
               varint_len(s->f[i].value.len) + s->f[i].value.len;
    }
    int rc = s->n > OV_BHTTP_MAX_FIELDS ? -OV_E_TOO_BIG : put_varint(b, len);
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        rc = put_lv(b, s->f[i].name);
        rc = rc ? rc : put_lv(b, s->f[i].value);
    }
    return rc;
}

int
ov_bhttp_encode(const struct ov_bhttp_msg *m, struct ov_buf *out)
{
    size_t start = out->len;
    int rc = 0;
    if (m->response) {
        rc = check_status(m->status);
        rc = rc ? rc : put_varint(out, 1);
        rc = rc ? rc : put_varint(out, m->status);
    } else {
        rc = check_request_control(m);
        if (rc == 0 && (m->method.len > OV_BHTTP_MAX_CONTROL_LEN ||
                        m->scheme.len > OV_BHTTP_MAX_CONTROL_LEN ||
                        m->authority.len > OV_BHTTP_MAX_CONTROL_LEN ||
                        m->path.len > OV_BHTTP_MAX_CONTROL_LEN)) {
            rc = -OV_E_TOO_BIG;
        }
        rc = rc ? rc : put_varint(out, 0);
        rc = rc ? rc : put_lv(out, m->method);
        rc = rc ? rc : put_lv(out, m->scheme);
        rc = rc ? rc : put_lv(out, m->authority);
        rc = rc ? rc : put_lv(out, m->path);
    }
    rc = rc ? rc : put_section(out, &m->headers);
    rc = rc ? rc : put_lv(out, m->content);
    rc = rc ? rc : put_section(out, &m->trailers);
    if (rc == 0 && out->len - start > OV_BHTTP_MAX_LEN) {
        rc = -OV_E_TOO_BIG;
    }
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}
