/* h_read: GET /checkpoint, GET /tile/... (tiles and entry bundles) and GET /vkey. */
#include "app.h"

#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "primitives/tiles.h"
#include "store.h"

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
    rc = ov_http_header(rq, "Cache-Control", "no-cache, max-age=0");
    if (rc == 0) {
        rc = ov_http_reply(rq, 200, "text/plain; charset=utf-8", ov_buf_view(&note));
    }
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
    if (rc == 0) {
        rc = ov_http_header(rq, "Cache-Control", "public, max-age=31536000, immutable");
    }
    if (rc == 0) {
        rc = ov_http_reply(rq, 200, "application/octet-stream", ov_buf_view(&data));
    }
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
