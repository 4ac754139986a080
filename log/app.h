/* app: what the log's HTTP handlers share (struct tlog_app) and its routing table. */
#ifndef TLOG_APP_H
#define TLOG_APP_H

#include <pthread.h>
#include <stdbool.h>

#include "cache.h"
#include "infra/db.h"
#include "infra/http.h"
#include "infra/metrics.h"
#include "primitives/note.h"
#include "producers.h"
#include "seq.h"

#define OV_LOG_WEB_MAX_FILE (8u << 20) /* the largest file under --web served */

struct tlog_app {
    const char *dir;
    const char *origin;
    const char *web_dir; /* --web: the page's files; NULL: none served */
    const char *join_path; /* --join: the join bundle's fields (GET /join); NULL: none */
    const struct ov_note_signer *signer; /* the checkpoint key, which signs the bundle too */
    char vkey[OV_NOTE_MAX_VKEY_LEN + 2]; /* with its newline */
    bool opaque_entries;                 /* accept entries that are not onevoice CBOR */
    struct tlog_seq *seq;
    struct tlog_producers *producers;
    struct tlog_witnesses *witnesses; /* NULL: none */
    struct ov_http *http;
    struct ov_db_per_thread dbs; /* each pool thread's read connection */
    struct tlog_cache *cache; /* full tiles and bundles */
    struct ov_counter *appended, *refused;
    uint64_t max_file_bytes; /* POST /files: the largest file taken (--max-file-bytes) */
    struct ov_counter *files_stored, *file_bytes_stored, *files_refused;
};

extern const struct ov_http_route tlog_routes[];
/* The frame's precheck: refuses an append from an unknown or unsigned producer before its
 * body is read. */
int tlog_precheck(struct ov_req *rq);
extern const size_t tlog_n_routes;

/* h_files.c: DIR/files made at start (0 when it exists); the precheck of POST /files. */
OV_MUST_CHECK int tlog_files_init(const char *dir);
int tlog_files_precheck(struct ov_req *rq, struct tlog_app *app);

/* Sets up what the handlers share beyond the fields the caller fills. -OV_E_NOMEM. */
OV_MUST_CHECK int tlog_app_init(struct tlog_app *app);

#endif
