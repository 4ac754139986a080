/* logcheck: the issuer's database against the log's count of its entries (logcheck.h). */
#include "logcheck.h"

#include <stdio.h>
#include <string.h>

#include "writer.h"

static int
count(struct ov_db *db, const char *stmt, const int64_t *arg, int64_t *out)
{
    sqlite3_stmt *st = ov_db_stmt(db, stmt);
    int rc = arg ? ov_db_bind_int64(st, 1, *arg) : 0;
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_DONE) {
        *out = -1; /* no row */
        rc = 0;
    } else if (rc == OV_DB_ROW) {
        rc = ov_db_col_int64(st, 0, out);
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

/* The log's answer: {"entries": N, "counted_since": S, ...}. */
static int
ask_log(struct ov_httpc *http, const char *url, const char *producer, int64_t *entries,
        int64_t *since)
{
    char u[1400];
    struct ov_httpc_resp resp;
    int n = snprintf(u, sizeof u, "%s/producers/%s", url, producer);
    if (n < 0 || (size_t)n >= sizeof u) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_httpc_get(http, u, 4096, &resp);
    rc = rc ? rc : (resp.status == 200 ? 0 : -OV_E_HTTP);
    json_t *j = rc ? NULL : json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
    json_t *e = json_object_get(j, "entries"), *s = json_object_get(j, "counted_since");
    if (rc == 0 && (!json_is_integer(e) || !json_is_integer(s) || json_integer_value(e) < 0 ||
                    json_integer_value(s) < 0)) {
        rc = -OV_E_MALFORMED;
    }
    if (rc == 0) {
        *entries = json_integer_value(e);
        *since = json_integer_value(s);
    }
    json_decref(j);
    ov_httpc_resp_clear(&resp);
    return rc;
}

static int
put_base(struct ov_db *db, void *arg)
{
    sqlite3_stmt *st = ov_db_stmt(db, "log_base_put");
    int rc = ov_db_bind_int64(st, 1, *(const int64_t *)arg);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

int
issuer_logcheck(struct issuer_app *app, struct ov_db *db, struct ov_httpc *http, const char *url,
                const char *producer, char *why, size_t len)
{
    int64_t logged = 0, since = 0, rows = 0, ours = 0, base = 0;
    int rc = ask_log(http, url, producer, &logged, &since);
    rc = rc ? rc : count(db, "outbox_rows", NULL, &rows);
    rc = rc ? rc : count(db, "log_base_get", NULL, &base);
    if (rc != 0) {
        return rc;
    }
    if (base < 0 && rows == 0) {
        /* a new database: what the log holds of this producer came before it (--init) */
        return issuer_writer_call(app->writer, put_base, &logged);
    }
    base = base < 0 ? 0 : base;
    rc = count(db, "outbox_logged_since", &since, &ours);
    if (rc != 0 || logged <= ours + base) {
        return rc;
    }
    snprintf(why, len,
             "the log holds %lld entries from producer '%s' (counted since its entry %lld) but "
             "this issuer.db has only %lld of them acknowledged: it is older than the log "
             "(restored from an older backup?), and the enrollments and tokens of the %lld "
             "missing entries are not in it",
             (long long)logged, producer, (long long)since, (long long)(ours + base),
             (long long)(logged - ours - base));
    return 1;
}

int
issuer_logcheck_copy(const char *file, char *why, size_t len)
{
    static const char *const sql[2] = {
        "SELECT count(*) FROM counters WHERE name = 'log_base'",
        "SELECT count(*) FROM (SELECT 1 FROM outbox LIMIT 1)",
    };
    sqlite3 *conn = NULL;
    int64_t n[2] = {0, 0};
    int rc = sqlite3_open_v2(file, &conn, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    for (int q = 0; q < 2 && rc == SQLITE_OK; q++) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(conn, sql[q], -1, &st, NULL);
        rc = rc == SQLITE_OK ? sqlite3_step(st) : rc;
        if (rc == SQLITE_ROW) {
            n[q] = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close_v2(conn);
    if (rc != SQLITE_OK) {
        return -OV_E_DB;
    }
    if (n[0] == 0 && n[1] == 0) {
        snprintf(why, len,
                 "%s was never checked against the log (it records no base count and no "
                 "outbox row), so once restored it could not tell the log's entries from "
                 "before it from those made after it: start the issuer with its log "
                 "reachable until it serves, then take the backup", file);
        return 1;
    }
    return 0;
}

int
issuer_log_gate(struct ov_req *rq)
{
    struct issuer_app *app = ov_req_user(rq);
    int state = atomic_load(&app->log_state);
    if (state == ISSUER_LOG_OK) {
        return 1;
    }
    if (state == ISSUER_LOG_BEHIND) {
        return ov_http_error(rq, 503, "behind_log",
                             "this issuer's database is older than the log; the operator must "
                             "restore its newest backup (see the issuer's output)");
    }
    if (ov_req_wait_expired(rq)) {
        return ov_http_error(rq, 503, "checking_log",
                             "the issuer has not yet checked its state against the log; retry");
    }
    return ov_http_wait_until(rq, ISSUER_CH_LOGCHECK, 1, 10000);
}
