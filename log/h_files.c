/* h_files: GET /files/<sha256 hex> and POST /files, the files the log serves beside its
 * tiles by their SHA-256 (core/protocol/logfiles.h, docs/PROTOCOL.md §4.3): a draw's pool
 * file, whose hash its pool entry holds. Stored as DIR/files/<hex> (0600, like log.db),
 * outside the database: a file is written once (temp file, fsync, rename, fsync of the
 * folder) and never changes, so it needs no transaction, and an upload never waits on the
 * sequencer. */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/codec.h"
#include "handlers.h"
#include "infra/route.h"
#include "protocol/logfiles.h"
#include "protocol/logreq.h"

#define FILES_PATH_MAX 4096

int
tlog_files_init(const char *dir)
{
    char path[FILES_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/files", dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        return -OV_E_TOO_BIG;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        return ov_err_errno(errno, -OV_E_IO);
    }
    return 0;
}

static int
file_path(const struct tlog_app *app, const uint8_t sha[32], const char *suffix, char *out,
          size_t len)
{
    char name[OV_LOGFILE_HEX_LEN + 1];
    ov_logfile_name(sha, name);
    int n = snprintf(out, len, "%s/files/%s%s", app->dir, name, suffix);
    return n < 0 || (size_t)n >= len ? -OV_E_TOO_BIG : 0;
}

/* ------------------------------------------------------------------ GET */

int
tlog_h_file(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    uint8_t sha[32];
    char path[FILES_PATH_MAX], etag[OV_LOGFILE_HEX_LEN + 3];
    if (ov_logfile_name_parse(ov_req_param(rq, "name"), sha) != 0) {
        return ov_http_error(rq, 400, "malformed_name",
                             "a file is named by its SHA-256: 64 lowercase hex digits");
    }
    snprintf(etag, sizeof etag, "\"%s\"", ov_req_param(rq, "name"));
    int rc = file_path(app, sha, "", path, sizeof path);
    if (rc != 0) {
        return rc;
    }
    static const char immutable[] = "public, max-age=31536000, immutable";
    if (ov_req_holds(rq, etag) && access(path, F_OK) == 0) {
        /* the bytes of a name never change: a 304 without reading them */
        return ov_http_reply_validated(rq, immutable, etag, NULL, OV_BYTES(NULL, 0));
    }
    struct ov_buf data;
    rc = ov_file_read(path, OV_LOGFILE_HARD_MAX, &data);
    if (rc == -OV_E_NOT_FOUND) {
        return ov_http_error(rq, 404, "not_found", "the log holds no file by that SHA-256");
    }
    /* served as stored, not hashed again: a reader checks the hash against the entry's */
    rc = rc ? rc : ov_http_reply_validated(rq, immutable, etag, "application/octet-stream",
                                           ov_buf_view(&data));
    ov_buf_clear(&data);
    return rc;
}

/* ------------------------------------------------------------------ POST */

/* The Onevoice-Time header: the producer's clock in ms, decimal. */
static int
upload_time(struct ov_req *rq, uint64_t *ms)
{
    const char *t = ov_req_header(rq, OV_LOGFILE_TIME_HEADER);
    return t != NULL && ov_parse_u64(t, strlen(t), ms) == 0 ? 0 : -OV_E_MALFORMED;
}

/* Before the body: a known producer that signs, a fresh time, a size under the cap. */
static int
precheck(struct ov_req *rq, struct tlog_app *app)
{
    const char *name = ov_req_header(rq, OV_LOG_PRODUCER_HEADER);
    const char *len = ov_req_header(rq, "Content-Length");
    uint8_t pk[OV_SIGN_PK_LEN];
    uint64_t t = 0, n = 0, now = ov_now_ms();
    if (name == NULL || tlog_producers_key(app->producers, OV_BYTES(name, strlen(name)), pk) != 0) {
        return ov_http_error(rq, 403, "unknown_producer", "name a producer the log knows");
    }
    if (ov_req_header(rq, OV_LOG_SIG_HEADER) == NULL) {
        return ov_http_error(rq, 403, "bad_signature", "the upload is not signed");
    }
    if (upload_time(rq, &t) != 0) {
        return ov_http_error(rq, 400, "malformed_request", "Onevoice-Time: the producer's "
                             "clock in POSIX milliseconds is needed");
    }
    if (t + OV_LOGFILE_WINDOW_MS < now || t > now + OV_LOGFILE_WINDOW_MS) {
        return ov_http_reply_json(rq, 403, json_pack("{s:s, s:s, s:I}", "error", "stale_request",
                                                     "message", "the upload's time is more than "
                                                     "60 s off the log's clock: fix the clock "
                                                     "that is wrong (NTP)", "time",
                                                     (json_int_t)now));
    }
    if (len != NULL && (ov_parse_u64(len, strlen(len), &n) != 0 || n > app->max_file_bytes)) {
        char msg[96];
        snprintf(msg, sizeof msg, "a file is at most %" PRIu64 " bytes (--max-file-bytes)",
                 app->max_file_bytes);
        return ov_http_error(rq, 413, "body_too_large", msg);
    }
    return 1; /* go on */
}

int
tlog_files_precheck(struct ov_req *rq, struct tlog_app *app)
{
    int rc = precheck(rq, app);
    if (rc == 1) {
        return 0;
    }
    ov_counter_add(app->files_refused, 1); /* answered, or failed to: refused either way */
    return rc;
}

/* Writes data as DIR/files/<hex>: a temp file of its own, fsync, rename, fsync of the folder.
 * Two uploads of one file at once each rename the same bytes into place. */
static int
store(const struct tlog_app *app, const uint8_t sha[32], struct ov_bytes data, bool *fresh)
{
    char path[FILES_PATH_MAX], tmp[FILES_PATH_MAX], suffix[40];
    uint8_t r[8];
    randombytes_buf(r, sizeof r);
    snprintf(suffix, sizeof suffix, ".tmp.%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7]);
    int rc = file_path(app, sha, "", path, sizeof path);
    rc = rc ? rc : file_path(app, sha, suffix, tmp, sizeof tmp);
    if (rc != 0) {
        return rc;
    }
    *fresh = access(path, F_OK) != 0;
    if (!*fresh) {
        return 0; /* content-addressed: the bytes there are these (or the disk lies) */
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return ov_err_errno(errno, -OV_E_IO);
    }
    for (size_t off = 0; rc == 0 && off < data.len;) {
        ssize_t k = write(fd, data.ptr + off, data.len - off);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        rc = k > 0 ? 0 : (k < 0 ? ov_err_errno(errno, -OV_E_IO) : -OV_E_IO);
        off += k > 0 ? (size_t)k : 0;
    }
    if (rc == 0 && fsync(fd) != 0) {
        rc = ov_err_errno(errno, -OV_E_IO);
    }
    if (close(fd) != 0 && rc == 0) {
        rc = ov_err_errno(errno, -OV_E_IO);
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = ov_err_errno(errno, -OV_E_IO);
    }
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    return ov_fsync_dir_of(path);
}

static int
store_failed(struct ov_req *rq, struct tlog_app *app, int rc)
{
    ov_counter_add(app->files_refused, 1);
    fprintf(stderr, "onevoice-log: storing a file in %s/files: %s\n", app->dir, ov_strerror(rc));
    if (rc == -OV_E_FULL) {
        return ov_http_error(rq, 503, "disk_full", "the log's disk is full; nothing was stored: "
                             "retry later");
    }
    if (rc == -OV_E_READ_ONLY) {
        return ov_http_error(rq, 503, "read_only", "the log's data directory is read-only; "
                             "nothing was stored: retry later");
    }
    return ov_http_error(rq, 503, "store_failed", ov_strerror(rc));
}

int
tlog_h_file_add(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    struct ov_bytes body = ov_req_body(rq);
    const char *producer = ov_req_header(rq, OV_LOG_PRODUCER_HEADER);
    uint8_t pk[OV_SIGN_PK_LEN], sha[32];
    uint64_t t = 0;
    char hex[OV_LOGFILE_HEX_LEN + 1];
    bool fresh = false;
    /* the precheck ran: a known producer, a signature header, a fresh time, the size */
    if (producer == NULL || upload_time(rq, &t) != 0 ||
        tlog_producers_key(app->producers, OV_BYTES(producer, strlen(producer)), pk) != 0) {
        return ov_http_error(rq, 400, "malformed_request", "producer or time missing");
    }
    if (body.len == 0) {
        return ov_http_error(rq, 400, "malformed_request", "an empty file is not a file");
    }
    crypto_hash_sha256(sha, body.ptr, body.len);
    if (ov_logfile_verify(pk, producer, sha, body.len, t,
                          ov_req_header(rq, OV_LOG_SIG_HEADER)) != 0) {
        ov_counter_add(app->files_refused, 1);
        return ov_http_error(rq, 403, "bad_signature", "not the producer's signature of this "
                             "upload (onevoice/v1/log-file over its SHA-256, size and time)");
    }
    int rc = store(app, sha, body, &fresh);
    if (rc != 0) {
        return store_failed(rq, app, rc);
    }
    if (fresh) {
        ov_counter_add(app->files_stored, 1);
        ov_counter_add(app->file_bytes_stored, body.len);
    }
    ov_logfile_name(sha, hex);
    return ov_http_reply_json(rq, fresh ? 201 : 200,
                              json_pack("{s:s, s:I}", "sha256", hex, "size",
                                        (json_int_t)body.len));
}
