/* h_read: GET /checkpoint, GET /tile/... (tiles and entry bundles), GET /vkey,
 * GET /witnesses and GET /join. The checkpoint, the tiles and the bundle carry an ETag, and
 * If-None-Match is answered 304 (docs/PROTOCOL.md §4.2): a browser or a cache that polls the
 * checkpoint, or keeps the partial tiles at the right edge, revalidates without the bytes. */
#include "app.h"

#include <stdio.h>
#include <string.h>

#include "base/codec.h"
#include "handlers.h"
#include "join.h"
#include "primitives/merkle.h"
#include "primitives/tiles.h"
#include "store.h"
#include "witnesses.h"

#define ETAG_HASH_LEN 16 /* bytes of SHA-256 in an ETag: 128 bits, no accidental collision */
#define ETAG_MAX (OV_MAX_TILE_PATH_LEN + 2 * ETAG_HASH_LEN + 8)

/* "<hex of the first 16 bytes of SHA-256(bytes)>", after prefix when not NULL. */
static int
etag_of(const char *prefix, struct ov_bytes bytes, char out[ETAG_MAX])
{
    uint8_t h[OV_HASH_LEN];
    char hex[2 * ETAG_HASH_LEN + 1];
    int rc = ov_sha256(bytes.ptr, bytes.len, h);
    rc = rc ? rc : ov_hex_encode(hex, sizeof hex, h, ETAG_HASH_LEN);
    if (rc == 0) {
        int n = snprintf(out, ETAG_MAX, "\"%s%s%s\"", prefix ? prefix : "", prefix ? "-" : "",
                         hex);
        rc = n < 0 || n >= ETAG_MAX ? -OV_E_TOO_BIG : 0;
    }
    return rc;
}

int
tlog_h_checkpoint(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    struct ov_buf note;
    uint64_t size;
    int rc = tlog_seq_published(app->seq, &note, &size);
    if (rc != 0) {
        return rc;
    }
    char etag[ETAG_MAX];
    rc = etag_of(NULL, ov_buf_view(&note), etag);
    rc = rc ? rc : ov_http_reply_validated(rq, "no-cache, max-age=0", etag,
                                           "text/plain; charset=utf-8", ov_buf_view(&note));
    ov_buf_clear(&note);
    return rc;
}

/* The last leaf index a tile covers, plus one: it must not pass the published size. */
static int
tile_within(const struct ov_tile *t, uint64_t size)
{
    int level = t->level < 0 ? 0 : t->level;
    uint64_t n_full;
    unsigned partial;
    ov_tile_level_shape(size, level, &n_full, &partial);
    if (t->n < n_full) {
        return t->width == OV_TILE_WIDTH;
    }
    return t->n == n_full && t->width <= partial && t->width < OV_TILE_WIDTH;
}

int
tlog_h_tile(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    char path[OV_MAX_TILE_PATH_LEN + 8];
    const char *rest = ov_req_rest(rq);
    struct ov_tile t;
    int n = snprintf(path, sizeof path, "tile/%s", rest ? rest : "");
    if (n < 0 || (size_t)n >= sizeof path ||
        ov_tile_parse_path(path, (size_t)n, &t) != 0) {
        return ov_http_error(rq, 404, "not_a_tile", "no such tile path");
    }
    if (!tile_within(&t, tlog_seq_published_size(app->seq))) {
        return ov_http_error(rq, 404, "not_found", "the published tree has no such tile");
    }
    /* A full tile's ETag is its path (its bytes never change), answered without reading
     * them; a partial one's is its path and its bytes' hash. */
    static const char immutable[] = "public, max-age=31536000, immutable";
    char etag[ETAG_MAX];
    bool full = t.width == OV_TILE_WIDTH;
    if (full) {
        snprintf(etag, sizeof etag, "\"%s\"", path); /* sizeof etag > sizeof path + 2 */
        if (ov_req_holds(rq, etag)) {
            return ov_http_reply_validated(rq, immutable, etag, NULL, OV_BYTES(NULL, 0));
        }
    }
    struct ov_buf data;
    ov_buf_init(&data, OV_MAX_BUNDLE_LEN);
    int rc = 0;
    if (!tlog_cache_get(app->cache, &t, &data)) {
        struct ov_db *db = ov_db_per_thread_get(&app->dbs);
        rc = db ? tlog_store_read_tile(db, &t, &data) : -OV_E_NOMEM;
        if (rc == 0) {
            tlog_cache_put(app->cache, &t, ov_buf_view(&data));
        }
    }
    if (rc == 0 && !full) {
        rc = etag_of(path, ov_buf_view(&data), etag);
    }
    rc = rc ? rc : ov_http_reply_validated(rq, immutable, etag, "application/octet-stream",
                                           ov_buf_view(&data));
    ov_buf_clear(&data);
    return rc;
}

int
tlog_h_vkey(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    return ov_http_reply(rq, 200, "text/plain; charset=utf-8",
                         OV_BYTES(app->vkey, strlen(app->vkey)));
}

int
tlog_h_witnesses(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    json_t *list = json_array();
    unsigned n = tlog_witnesses_count(app->witnesses);
    for (unsigned i = 0; list != NULL && i < n; i++) {
        if (json_array_append_new(list, json_string(tlog_witnesses_vkey(app->witnesses, i))) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    int rc = ov_http_header(rq, "Cache-Control", "no-cache");
    /* o: a NULL list makes json_pack fail, which ov_http_reply_json answers 500 */
    return rc ? rc
              : ov_http_reply_json(rq, 200, json_pack("{s:s, s:I, s:o}", "origin", app->origin,
                                                      "quorum",
                                                      (json_int_t)tlog_witnesses_quorum(app->witnesses),
                                                      "witnesses", list));
}

/* The join bundle, made from its file at each request: an operator's edit (a server that
 * moved) is served without a restart; no file yet is a 404, a file broken since the start a
 * 503. */
int
tlog_h_join(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    if (app->join_path == NULL) {
        return ov_http_error(rq, 404, "not_found", "this log publishes no join bundle (--join)");
    }
    struct ov_buf note;
    char why[256], etag[ETAG_MAX];
    int rc = tlog_join_note(app, &note, why, sizeof why);
    if (rc == -OV_E_NOT_FOUND) {
        return ov_http_error(rq, 404, "not_found", "the join bundle is not published yet");
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-log: GET /join: --join %s\n", why);
        return ov_http_error(rq, 503, "join_unavailable", "the join bundle's file is broken "
                             "(the log's operator sees why)");
    }
    rc = etag_of("join", ov_buf_view(&note), etag);
    rc = rc ? rc : ov_http_reply_validated(rq, "no-cache", etag, "text/plain; charset=utf-8",
                                           ov_buf_view(&note));
    ov_buf_clear(&note);
    return rc;
}
