/* h_web: the public transparency page, static files from --web DIR (docs/PROTOCOL.md §4.2).
 *   GET /, GET /web      302 to /web/
 *   GET /web/            DIR/index.html
 *   GET /web/<path>      DIR/<path>
 * The path is checked by ov_static_path_check (infra/route.h: no escape, no "..", no
 * dotfile), and opened one segment at a time under DIR without following a symbolic link,
 * so nothing outside DIR's tree is ever served: the page's scripts and whatever an operator
 * or a watchdog publishes beside them (audit.json). Files are read at each request (an
 * upgrade replaces them under a running log); their ETag is their size, modification time
 * and inode, so a revalidation costs a stat. Without --web every one of these is 404. */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handlers.h"
#include "infra/route.h"

#define WEB_ETAG_MAX 80

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

static const struct {
    const char *ext, *type;
} types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".ico", "image/x-icon" },
    { ".woff2", "font/woff2" },
};

static const char *
type_of(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t k = strlen(types[i].ext);
        if (n > k && strcmp(path + n - k, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* The headers of every answer under /web, errors included. */
static int
web_headers(struct ov_req *rq)
{
    int rc = ov_http_header(rq, "Content-Security-Policy", csp);
    rc = rc ? rc : ov_http_header(rq, "X-Content-Type-Options", "nosniff");
    rc = rc ? rc : ov_http_header(rq, "Referrer-Policy", "no-referrer");
    return rc;
}

int
tlog_h_root(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    if (app->web_dir == NULL) {
        return ov_http_error(rq, 404, "not_found", "no such resource");
    }
    int rc = ov_http_header(rq, "Location", "/web/");
    rc = rc ? rc : ov_http_header(rq, "Cache-Control", "no-cache");
    return rc ? rc : ov_http_reply(rq, 302, "text/plain; charset=utf-8",
                                   OV_BYTES_STR("the page is at /web/\n"));
}

/* Opens path (checked) under dir, one segment at a time, refusing symbolic links and
 * anything but a regular file of at most OV_LOG_WEB_MAX_FILE bytes. -OV_E_NOT_FOUND. */
static int
open_under(const char *dir, const char *path, int *fd, struct stat *st)
{
    char seg[OV_STATIC_MAX_PATH_LEN + 1];
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *fd = -1;
    while (d >= 0) {
        const char *slash = strchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : strlen(path);
        memcpy(seg, path, n);
        seg[n] = '\0';
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (slash ? O_DIRECTORY : O_NONBLOCK);
        int next = openat(d, seg, flags);
        close(d);
        if (slash == NULL) {
            *fd = next;
            break;
        }
        d = next;
        path = slash + 1;
    }
    if (*fd < 0) {
        return -OV_E_NOT_FOUND; /* missing, a symbolic link, not a folder on the way */
    }
    if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > OV_LOG_WEB_MAX_FILE) {
        close(*fd);
        *fd = -1;
        return -OV_E_NOT_FOUND;
    }
    return 0;
}

/* The file's bytes; one that grew past the cap since its stat is -OV_E_TOO_BIG. */
static int
read_all(int fd, size_t size, struct ov_buf *out)
{
    uint8_t chunk[16384];
    int rc = ov_buf_reserve(out, size);
    while (rc == 0) {
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k == 0) {
            break;
        }
        if (k < 0) {
            rc = errno == EINTR ? 0 : -OV_E_IO;
            continue;
        }
        rc = ov_buf_append(out, chunk, (size_t)k);
    }
    return rc;
}

static int
serve(struct ov_req *rq, const char *dir, const char *path)
{
    int fd;
    struct stat st;
    if (open_under(dir, path, &fd, &st) != 0) {
        return ov_http_error(rq, 404, "not_found", "no such file");
    }
    char etag[WEB_ETAG_MAX];
    snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 ".%lx-%" PRIx64 "\"", (uint64_t)st.st_size,
             (uint64_t)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec, (uint64_t)st.st_ino);
    struct ov_buf data;
    ov_buf_init(&data, OV_LOG_WEB_MAX_FILE);
    int rc = 0;
    if (!ov_req_holds(rq, etag)) {
        rc = read_all(fd, (size_t)st.st_size, &data); /* a 304 reads nothing */
    }
    close(fd);
    if (rc == -OV_E_TOO_BIG) {
        ov_buf_clear(&data); /* grown past the cap since its stat: as a file too large */
        return ov_http_error(rq, 404, "not_found", "no such file");
    }
    /* the validators on a good answer only: an error is never cached (no-store) */
    rc = rc ? rc : ov_http_reply_validated(rq, "no-cache", etag, type_of(path), ov_buf_view(&data));
    ov_buf_clear(&data);
    return rc;
}

int
tlog_h_web(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    const char *rest = ov_req_rest(rq);
    const char *path = rest != NULL ? rest : "index.html"; /* GET /web/ */
    int rc = web_headers(rq);
    if (rc != 0) {
        return rc;
    }
    if (app->web_dir == NULL) {
        return ov_http_error(rq, 404, "not_found", "this log serves no page (--web)");
    }
    rc = ov_static_path_check(path, strlen(path));
    if (rc == -OV_E_MALFORMED) {
        return ov_http_error(rq, 400, "malformed_name",
                             "a page's file is named with A-Z a-z 0-9 . _ - and /");
    }
    if (rc != 0) {
        return ov_http_error(rq, 404, "not_found", "no such file");
    }
    return serve(rq, app->web_dir, path);
}
