#include "primitives/der.h"

#include <stdlib.h>

int
ov_der_read(struct ov_reader *r, uint8_t tag, struct ov_bytes *contents)
{
    contents->ptr = NULL;
    contents->len = 0;
    uint8_t t = ov_reader_u8(r);
    uint8_t l0 = ov_reader_u8(r);
    if (r->err != 0) {
        return r->err;
    }
    if (t != tag) {
        return ov_reader_fail(r, -OV_E_MALFORMED);
    }
    size_t len;
    if (l0 < 0x80) {
        len = l0;
    } else if (l0 == 0x81) {
        len = ov_reader_u8(r);
        if (r->err == 0 && len < 0x80) {
            return ov_reader_fail(r, -OV_E_NONCANONICAL);
        }
    } else if (l0 == 0x82) {
        len = ov_reader_u16be(r);
        if (r->err == 0 && len < 0x100) {
            return ov_reader_fail(r, -OV_E_NONCANONICAL);
        }
    } else if (l0 == 0x80 || l0 == 0xff) {
        return ov_reader_fail(r, -OV_E_MALFORMED); /* indefinite (BER only) or reserved */
    } else {
        return ov_reader_fail(r, -OV_E_TOO_BIG);
    }
    ov_reader_bytes(r, len, contents);
    return r->err;
}

int
ov_der_read_uint(struct ov_reader *r, struct ov_bytes *magnitude)
{
    struct ov_bytes v;
    magnitude->ptr = NULL;
    magnitude->len = 0;
    if (ov_der_read(r, OV_DER_INTEGER, &v) != 0) {
        return r->err;
    }
    if (v.len == 0) {
        return ov_reader_fail(r, -OV_E_MALFORMED);
    }
    if (v.ptr[0] & 0x80) {
        return ov_reader_fail(r, -OV_E_RANGE); /* negative */
    }
    if (v.ptr[0] == 0) {
        if (v.len == 1) {
            return ov_reader_fail(r, -OV_E_RANGE); /* zero */
        }
        if (!(v.ptr[1] & 0x80)) {
            return ov_reader_fail(r, -OV_E_NONCANONICAL); /* a redundant leading zero */
        }
        v.ptr++;
        v.len--;
    }
    *magnitude = v;
    return 0;
}

size_t
ov_der_header_len(size_t len)
{
    if (len > OV_DER_MAX_LEN) {
        abort(); /* our own encoders never build anything this large */
    }
    return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

void
ov_der_write_header(struct ov_writer *w, uint8_t tag, size_t len)
{
    size_t n = ov_der_header_len(len);
    ov_writer_u8(w, tag);
    if (n == 3) {
        ov_writer_u8(w, 0x81);
    } else if (n == 4) {
        ov_writer_u8(w, 0x82);
        ov_writer_u8(w, (uint8_t)(len >> 8));
    }
    ov_writer_u8(w, (uint8_t)len);
}

/* Contents length: one extra zero octet when the top bit is set. */
static size_t
uint_contents_len(struct ov_bytes m)
{
    if (m.len == 0 || m.ptr[0] == 0 || m.len >= OV_DER_MAX_LEN) {
        abort(); /* callers pass a minimal, non-empty magnitude */
    }
    return m.len + ((m.ptr[0] & 0x80) ? 1 : 0);
}

size_t
ov_der_uint_len(struct ov_bytes magnitude)
{
    size_t n = uint_contents_len(magnitude);
    return ov_der_header_len(n) + n;
}

void
ov_der_write_uint(struct ov_writer *w, struct ov_bytes magnitude)
{
    size_t n = uint_contents_len(magnitude);
    ov_der_write_header(w, OV_DER_INTEGER, n);
    if (n > magnitude.len) {
        ov_writer_u8(w, 0);
    }
    ov_writer_bytes(w, magnitude.ptr, magnitude.len);
}
