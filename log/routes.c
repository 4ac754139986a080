/* routes: the log's HTTP API (docs/PROTOCOL.md §4) and what its handlers share.
 *   POST /add                          append entries (producers only, signed)
 *   GET  /checkpoint                   the latest published checkpoint (C2SP tlog-checkpoint)
 *   GET  /tile/<L>/<N>[.p/<W>]         hash tiles (C2SP tlog-tiles)
 *   GET  /tile/entries/<N>[.p/<W>]     entry bundles
 *   GET  /proof/inclusion?index=I&size=S  or  ?hash=<base64url leaf hash>&size=S
 *   GET  /proof/consistency?old=M&size=N
 *   GET  /vkey                         the log's verifier key
 *   GET  /producers/<name>             how many entries a producer added (h_producers.c)
 *   POST /files                        store a file by its SHA-256 (producers only, signed)
 *   GET  /files/<sha256 hex>           a stored file (a draw's pool file)
 *   GET  /witnesses                    the witnesses and quorum a checkpoint needs
 *   GET  /join                         the join bundle (--join), a note signed by the log
 *   GET  /, /web, /web/, /web/<path>   the transparency page from --web DIR
 * HEAD too wherever GET (the frame). The handlers: /add in h_append.c, /proof/... in
 * h_proof.c, /files in h_files.c, the page in h_web.c, the other reads in h_read.c. */
#include "app.h"

#include "handlers.h"
#include "protocol/logfiles.h"
#include "protocol/logreq.h"
#include "protocol/ohttpgw.h"
#include "store.h"

int
tlog_app_init(struct tlog_app *app)
{
    int rc = tlog_cache_new(&app->cache);
    rc = rc ? rc : ov_db_per_thread_init(&app->dbs, app->dir, tlog_store_open);
    return rc;
}

const struct ov_http_route tlog_routes[] = {
    { "POST", "/add", tlog_h_add, OV_LOG_MAX_REQUEST_LEN },
    { "GET", "/checkpoint", tlog_h_checkpoint, 0 },
    { "GET", "/tile/*", tlog_h_tile, 0 },
    { "GET", "/proof/inclusion", tlog_h_inclusion, 0 },
    { "GET", "/proof/consistency", tlog_h_consistency, 0 },
    { "GET", "/vkey", tlog_h_vkey, 0 },
    { "GET", "/producers/*", tlog_h_producer, 0 },
    /* the route's cap is the hard one; the precheck holds uploads to --max-file-bytes */
    { "POST", "/files", tlog_h_file_add, OV_LOGFILE_HARD_MAX },
    { "GET", "/files/:name", tlog_h_file, 0 },
    { "GET", "/witnesses", tlog_h_witnesses, 0 },
    { "GET", "/join", tlog_h_join, 0 },
    { "GET", "/", tlog_h_root, 0 },
    { "GET", "/web", tlog_h_root, 0 },
    { "GET", "/web/", tlog_h_web, 0 },
    { "GET", "/web/*", tlog_h_web, 0 },
    OV_OHTTPGW_ROUTES, /* POST /gateway, GET /ohttp-keys: docs/PROTOCOL.md §13 */
};
const size_t tlog_n_routes = sizeof tlog_routes / sizeof tlog_routes[0];
