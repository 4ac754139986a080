/* bytes: ov_bytes, a borrowed view of bytes, and ov_buf, an owned buffer that grows
 * but never past its cap `max`. A pointer always travels with its length. */
#ifndef OV_BYTES_H
#define OV_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct ov_bytes {
    const uint8_t *ptr;
    size_t len;
};

struct ov_buf {
    uint8_t *ptr;
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
    size_t max; /* the most this buffer may ever hold */
};

#define OV_BYTES(p, n) ((struct ov_bytes){ (const uint8_t *)(p), (n) })
#define OV_BYTES_STR(s) ((struct ov_bytes){ (const uint8_t *)(s), sizeof(s) - 1 })

/* An empty buffer that may grow to `max` bytes. */
void ov_buf_init(struct ov_buf *b, size_t max);
/* Frees the memory (wiping it first). Accepts NULL. */
void ov_buf_clear(struct ov_buf *b);
/* Ensures room for `n` more bytes: -OV_E_TOO_BIG past max, -OV_E_NOMEM. */
OV_MUST_CHECK int ov_buf_reserve(struct ov_buf *b, size_t n);
OV_MUST_CHECK int ov_buf_append(struct ov_buf *b, const void *p, size_t n);
OV_MUST_CHECK int ov_buf_append_str(struct ov_buf *b, const char *s);
/* printf-style append; fails with -OV_E_TOO_BIG rather than truncating. */
OV_MUST_CHECK int ov_buf_printf(struct ov_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends a NUL after the data without counting it in len (for C-string consumers). */
OV_MUST_CHECK int ov_buf_terminate(struct ov_buf *b);
static inline struct ov_bytes
ov_buf_view(const struct ov_buf *b)
{
    return (struct ov_bytes){ b->ptr, b->len };
}

/* Reads a whole file of at most `max` bytes into a fresh buffer. */
OV_MUST_CHECK int ov_file_read(const char *path, size_t max, struct ov_buf *out);
/* Writes a file atomically (temp file, fsync, rename). */
OV_MUST_CHECK int ov_file_write_atomic(const char *path, const void *p, size_t n, int mode);
/* fsyncs the directory holding path, so that a name just made in it survives a crash too.
 * -OV_E_IO, -OV_E_TOO_BIG. */
OV_MUST_CHECK int ov_fsync_dir_of(const char *path);

#endif
