/* join: the log's join bundle (GET /join, --join FILE): the operator's fields completed with
 * what only the log knows for sure (its key, its witnesses, their quorum) and signed with
 * its checkpoint key (core/protocol/joinnote.h has the format). */
#ifndef TLOG_JOIN_H
#define TLOG_JOIN_H

#include "app.h"

/* The signed note from app->join_path as the file reads now. note is initialised here and
 * cleared on failure, with why (a NUL-terminated phrase naming the file, and its line when
 * one is at fault). Errors: those of reading the file, -OV_E_MALFORMED, -OV_E_NOMEM. */
OV_MUST_CHECK int tlog_join_note(const struct tlog_app *app, struct ov_buf *note, char *why,
                                 size_t why_len);

#endif
