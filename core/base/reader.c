#include "base/reader.h"

#include <string.h>

void
ov_reader_init(struct ov_reader *r, struct ov_bytes in)
{
    r->p = in.ptr;
    r->len = in.len;
    r->off = 0;
    r->err = 0;
}

/* Returns a pointer to the next n bytes, or NULL (and sets the sticky error). */
static const uint8_t *
take(struct ov_reader *r, size_t n)
{
    if (r->err != 0) {
        return NULL;
    }
    if (n > r->len - r->off) {
        r->err = -OV_E_TRUNCATED;
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

uint8_t
ov_reader_u8(struct ov_reader *r)
{
    const uint8_t *q = take(r, 1);
    return q ? q[0] : 0;
}

uint16_t
ov_reader_u16be(struct ov_reader *r)
{
    const uint8_t *q = take(r, 2);
    return q ? (uint16_t)((unsigned)q[0] << 8 | q[1]) : 0;
}

uint32_t
ov_reader_u32be(struct ov_reader *r)
{
    const uint8_t *q = take(r, 4);
    return q ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3] : 0;
}

uint64_t
ov_reader_u64be(struct ov_reader *r)
{
    uint64_t hi = ov_reader_u32be(r);
    uint64_t lo = ov_reader_u32be(r);
    return hi << 32 | lo;
}

void
ov_reader_bytes(struct ov_reader *r, size_t n, struct ov_bytes *out)
{
    const uint8_t *q = take(r, n);
    out->ptr = q;
    out->len = q ? n : 0;
}

void
ov_reader_copy(struct ov_reader *r, void *dst, size_t n)
{
    const uint8_t *q = take(r, n);
    if (q) {
        memcpy(dst, q, n);
    } else if (n > 0) {
        memset(dst, 0, n);
    }
}

size_t
ov_reader_left(const struct ov_reader *r)
{
    return r->err ? 0 : r->len - r->off;
}

int
ov_reader_fail(struct ov_reader *r, int err)
{
    if (r->err == 0) {
        r->err = err;
    }
    return r->err;
}

int
ov_reader_end(const struct ov_reader *r)
{
    if (r->err != 0) {
        return r->err;
    }
    return r->off == r->len ? 0 : -OV_E_TRAILING;
}

void
ov_writer_init(struct ov_writer *w, void *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->len = 0;
    w->err = 0;
}

void
ov_writer_bytes(struct ov_writer *w, const void *p, size_t n)
{
    if (w->err != 0) {
        return;
    }
    if (n > w->cap - w->len) {
        w->err = -OV_E_TOO_BIG;
        return;
    }
    if (n > 0) {
        memcpy(w->p + w->len, p, n);
    }
    w->len += n;
}

void
ov_writer_u8(struct ov_writer *w, uint8_t v)
{
    ov_writer_bytes(w, &v, 1);
}

void
ov_writer_u16be(struct ov_writer *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    ov_writer_bytes(w, b, sizeof b);
}

void
ov_writer_u32be(struct ov_writer *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    ov_writer_bytes(w, b, sizeof b);
}

void
ov_writer_u64be(struct ov_writer *w, uint64_t v)
{
    ov_writer_u32be(w, (uint32_t)(v >> 32));
    ov_writer_u32be(w, (uint32_t)v);
}

int
ov_writer_end(const struct ov_writer *w)
{
    return w->err;
}
