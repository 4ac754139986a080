#include "base/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

void
ov_buf_init(struct ov_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
ov_buf_clear(struct ov_buf *b)
{
    if (b == NULL) {
        return;
    }
    if (b->ptr != NULL) {
        sodium_memzero(b->ptr, b->cap);
        free(b->ptr);
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Invariant: once allocated, cap >= len + 1, so a NUL always fits after the data. */
int
ov_buf_reserve(struct ov_buf *b, size_t n)
{
    /* the last test keeps need (and max + 1 below) from wrapping when max is SIZE_MAX */
    if (b->len > b->max || n > b->max - b->len || n >= SIZE_MAX - b->len) {
        return -OV_E_TOO_BIG;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap = (cap > SIZE_MAX / 2) ? need : cap * 2;
    }
    if (b->max < SIZE_MAX && cap > b->max + 1) {
        cap = b->max + 1;
    }
    uint8_t *p = malloc(cap);
    if (p == NULL) {
        return -OV_E_NOMEM;
    }
    if (b->ptr != NULL) {
        memcpy(p, b->ptr, b->len);
        sodium_memzero(b->ptr, b->cap);
        free(b->ptr);
    }
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int
ov_buf_append(struct ov_buf *b, const void *p, size_t n)
{
    int rc = ov_buf_reserve(b, n);
    if (rc != 0) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->ptr + b->len, p, n);
    }
    b->len += n;
    return 0;
}

int
ov_buf_append_str(struct ov_buf *b, const char *s)
{
    return ov_buf_append(b, s, strlen(s));
}

int
ov_buf_printf(struct ov_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return -OV_E_MALFORMED;
    }
    int rc = ov_buf_reserve(b, (size_t)n);
    if (rc != 0) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int
ov_buf_terminate(struct ov_buf *b)
{
    int rc = ov_buf_reserve(b, 0);
    if (rc != 0) {
        return rc;
    }
    b->ptr[b->len] = 0;
    return 0;
}

int
ov_file_read(const char *path, size_t max, struct ov_buf *out)
{
    ov_buf_init(out, max);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? -OV_E_NOT_FOUND : -OV_E_IO;
    }
    int rc = 0;
    for (;;) {
        uint8_t chunk[4096];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = -OV_E_IO;
            break;
        }
        if (n == 0) {
            break;
        }
        rc = ov_buf_append(out, chunk, (size_t)n);
        sodium_memzero(chunk, sizeof chunk);
        if (rc != 0) {
            break;
        }
    }
    close(fd);
    if (rc == 0) {
        rc = ov_buf_terminate(out);
    }
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
ov_file_write_atomic(const char *path, const void *p, size_t n, int mode)
{
    char tmp[4096];
    int w = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (w < 0 || (size_t)w >= sizeof tmp) {
        return -OV_E_TOO_BIG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        return ov_err_errno(errno, -OV_E_IO); /* a full or read-only disk is named */
    }
    const uint8_t *q = p;
    size_t left = n;
    while (left > 0) {
        ssize_t k = write(fd, q, left);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            int rc = k < 0 ? ov_err_errno(errno, -OV_E_IO) : -OV_E_IO;
            close(fd);
            unlink(tmp);
            return rc;
        }
        q += k;
        left -= (size_t)k;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -OV_E_IO;
    }
    return 0;
}

int
ov_fsync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : (slash == path ? 1 : (size_t)(slash - path));
    if (n >= sizeof dir) {
        return -OV_E_TOO_BIG;
    }
    if (n == 0) {
        dir[0] = '.', n = 1;
    } else {
        memcpy(dir, path, n);
    }
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -OV_E_IO;
    }
    int rc = fsync(fd) == 0 ? 0 : -OV_E_IO;
    close(fd);
    return rc;
}
