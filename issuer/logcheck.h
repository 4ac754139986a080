/* logcheck: whether this issuer's database is behind the log. The log counts the entries
 * each producer added (GET /producers/<name>, docs/PROTOCOL.md §4.2); once the outbox has
 * sent every row, a database that is whole has at least as many acknowledged rows. One with
 * fewer was restored from an older backup: the enrollments and issuances after it are lost
 * here, so serving would let a used invitation enroll again or a quota be spent twice. The
 * sender thread (outbox.c) runs the check after each start, before any write is served. */
#ifndef ISSUER_LOGCHECK_H
#define ISSUER_LOGCHECK_H

#include <stddef.h>

#include "app.h"
#include "infra/httpc.h"

enum issuer_log_state {
    ISSUER_LOG_CHECKING = 0, /* writes wait (ISSUER_CH_LOGCHECK), then 503 checking_log */
    ISSUER_LOG_OK,
    ISSUER_LOG_BEHIND        /* writes get 503 behind_log */
};

#define ISSUER_CH_LOGCHECK 2u /* level 1 once the check ended, either way */

/* Compares the log's count for producer with db's rows (none pending). 0 whole, 1 behind
 * (why says by how much), < 0 the log could not be asked (-OV_E_HTTP, -OV_E_MALFORMED) or
 * the database failed. A database with no row at all (a first start, or --init) records
 * the log's count as its base instead, through the writer. */
OV_MUST_CHECK int issuer_logcheck(struct issuer_app *app, struct ov_db *db, struct ov_httpc *http,
                                  const char *url, const char *producer, char *why, size_t len);

/* Whether a copy of issuer.db (a backup, a file to restore) can stand for the state: a
 * database with no base and no outbox row was never checked against the log, and when it
 * came back its first check would take everything the log then holds as from before it
 * (as for --init), hiding the enrollments and issuances made after the copy. So such a
 * copy is refused (1, why filled); 0 otherwise, < 0 unreadable. ov_server's
 * state_copy_check. */
OV_MUST_CHECK int issuer_logcheck_copy(const char *file, char *why, size_t len);

/* For a write handler's first lines: 1 go on; otherwise it has replied or waits. */
OV_MUST_CHECK int issuer_log_gate(struct ov_req *rq);

#endif
