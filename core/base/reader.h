/* reader: ov_reader and ov_writer, bounded cursors over untrusted bytes.
 * The error is sticky: after the first short read every later read yields zeros and
 * the first error is kept, so a parser reads like its schema and checks once at the end
 * (ov_reader_end, which also refuses trailing bytes). */
#ifndef OV_READER_H
#define OV_READER_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"

struct ov_reader {
    const uint8_t *p;
    size_t len, off;
    int err; /* 0 or -OV_E_* */
};

struct ov_writer {
    uint8_t *p;
    size_t cap, len;
    int err;
};

void ov_reader_init(struct ov_reader *r, struct ov_bytes in);
uint8_t ov_reader_u8(struct ov_reader *r);
uint16_t ov_reader_u16be(struct ov_reader *r);
uint32_t ov_reader_u32be(struct ov_reader *r);
uint64_t ov_reader_u64be(struct ov_reader *r);
/* A view of the next n bytes (empty on error). */
void ov_reader_bytes(struct ov_reader *r, size_t n, struct ov_bytes *out);
/* Copies the next n bytes into dst (zeros on error). */
void ov_reader_copy(struct ov_reader *r, void *dst, size_t n);
size_t ov_reader_left(const struct ov_reader *r);
/* Records err (a -OV_E_* code) as the sticky error unless one is already set, for checks a
 * parser makes on values it has read (a length over its maximum, a wrong type). Returns
 * the reader's error. */
int ov_reader_fail(struct ov_reader *r, int err);
/* The first error, or -OV_E_TRAILING when bytes remain, else 0. */
OV_MUST_CHECK int ov_reader_end(const struct ov_reader *r);

void ov_writer_init(struct ov_writer *w, void *p, size_t cap);
void ov_writer_u8(struct ov_writer *w, uint8_t v);
void ov_writer_u16be(struct ov_writer *w, uint16_t v);
void ov_writer_u32be(struct ov_writer *w, uint32_t v);
void ov_writer_u64be(struct ov_writer *w, uint64_t v);
void ov_writer_bytes(struct ov_writer *w, const void *p, size_t n);
/* 0, or -OV_E_TOO_BIG if anything did not fit (nothing is ever silently cut). */
OV_MUST_CHECK int ov_writer_end(const struct ov_writer *w);

#endif
