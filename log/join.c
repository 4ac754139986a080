/* join: the log's join bundle (join.h). */
#include "join.h"

#include <stdio.h>
#include <string.h>

#include "protocol/joinnote.h"
#include "witnesses.h"

int
tlog_join_note(const struct tlog_app *app, struct ov_buf *note, char *why, size_t why_len)
{
    struct ov_buf file, text;
    struct ov_join j; /* 10 KiB */
    size_t line = 0;
    const char *what = NULL;
    ov_buf_init(note, OV_NOTE_MAX_LEN);
    int rc = ov_file_read(app->join_path, OV_JOIN_MAX_FILE, &file);
    if (rc != 0) {
        snprintf(why, why_len, "%s: %s", app->join_path, ov_strerror(rc));
        return rc;
    }
    rc = ov_join_fields_parse(ov_buf_view(&file), &j, &line, &what);
    ov_buf_clear(&file);
    if (rc != 0) {
        if (line > 0) {
            snprintf(why, why_len, "%s line %zu: %s", app->join_path, line, what);
        } else {
            snprintf(why, why_len, "%s: %s", app->join_path, what);
        }
        return rc;
    }
    snprintf(j.log_vkey, sizeof j.log_vkey, "%.*s", (int)strcspn(app->vkey, "\n"), app->vkey);
    j.n_witnesses = tlog_witnesses_count(app->witnesses);
    if (j.n_witnesses > OV_JOIN_MAX_WITNESSES) {
        snprintf(why, why_len, "%s: a join bundle lists at most %d witnesses", app->join_path,
                 OV_JOIN_MAX_WITNESSES);
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < j.n_witnesses; i++) {
        snprintf(j.witnesses[i], sizeof j.witnesses[i], "%s",
                 tlog_witnesses_vkey(app->witnesses, (unsigned)i));
    }
    j.quorum = tlog_witnesses_quorum(app->witnesses);
    const struct ov_note_signer *signers[] = { app->signer };
    rc = ov_join_text(&j, &text);
    ov_buf_clear(note);
    rc = rc ? rc : ov_note_sign(ov_buf_view(&text), signers, 1, note);
    if (rc != 0) {
        snprintf(why, why_len, "%s: cannot sign the bundle (%s)", app->join_path,
                 ov_strerror(rc));
    }
    ov_buf_clear(&text);
    return rc;
}
