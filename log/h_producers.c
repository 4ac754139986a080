/* h_producers: GET /producers/<name>, how many entries a producer added to the log (not
 * those it sent again) and the index of its last. Public, like the entries themselves: a
 * producer restored from an older backup compares it with the entries its database holds
 * (issuer/logcheck.c) and learns that it is behind the log. */
#include "app.h"

#include <string.h>

#include "handlers.h"
#include "store.h"

static int
scalar_u64(sqlite3_stmt *st, int col, uint64_t *v)
{
    return ov_db_col_uint64(st, col, v);
}

int
tlog_h_producer(struct ov_req *rq)
{
    struct tlog_app *app = ov_req_user(rq);
    const char *name = ov_req_rest(rq);
    uint8_t pk[OV_SIGN_PK_LEN];
    if (name == NULL || strlen(name) > TLOG_MAX_PRODUCER_NAME ||
        tlog_producers_key(app->producers, OV_BYTES(name, strlen(name)), pk) != 0) {
        return ov_http_error(rq, 404, "unknown_producer", "the log has no producer of that name");
    }
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    if (db == NULL) {
        return -OV_E_DB;
    }
    uint64_t entries = 0, last = 0, since = 0;
    bool any = false;
    int rc = ov_db_exec(db, "BEGIN"); /* one snapshot for both reads */
    sqlite3_stmt *st = ov_db_stmt(db, "producer_get");
    rc = rc ? rc : ov_db_bind_text(st, 1, name, strlen(name));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        any = true;
        rc = scalar_u64(st, 0, &entries);
        rc = rc ? rc : scalar_u64(st, 1, &last);
    } else if (rc == OV_DB_DONE) {
        rc = 0;
    }
    ov_db_reset(st);
    st = ov_db_stmt(db, "producer_since");
    int s = rc ? rc : ov_db_step(st);
    rc = s == OV_DB_ROW ? scalar_u64(st, 0, &since) : (s < 0 ? s : -OV_E_DB);
    ov_db_reset(st);
    (void)!ov_db_exec(db, "COMMIT");
    if (rc != 0) {
        return rc;
    }
    json_t *j = json_pack("{s:s, s:I, s:o, s:I}", "producer", name, "entries", (json_int_t)entries,
                          "last_index", any ? json_integer((json_int_t)last) : json_null(),
                          "counted_since", (json_int_t)since);
    rc = ov_http_header(rq, "Cache-Control", "no-cache, max-age=0");
    return rc ? rc : ov_http_reply_json(rq, 200, j);
}
