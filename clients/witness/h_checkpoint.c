/* h_checkpoint: GET /<hex SHA-256(origin)>/checkpoint, the latest cosigned checkpoint. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "handlers.h"
#include "store.h"

/* "— <name> <base64>\n" for one parsed signature line. */
static int
append_sig_line(struct ov_buf *out, const struct ov_note_sig *sig)
{
    int rc = ov_buf_append_str(out, "\xe2\x80\x94 ");
    rc = rc ? rc : ov_buf_append(out, sig->name.ptr, sig->name.len);
    rc = rc ? rc : ov_buf_append(out, " ", 1);
    rc = rc ? rc : ov_buf_append(out, sig->b64.ptr, sig->b64.len);
    return rc ? rc : ov_buf_append(out, "\n", 1);
}

/* The stored note with the witness's own line last. A line from the witness's key that the
 * log sent along (a re-submitted checkpoint) is dropped: a note may not carry two lines of
 * one (name, key ID). The result must parse as a note again: the rows are input too. */
static int
served_note(const struct witness_app *app, struct ov_bytes stored, struct ov_bytes cosig,
            struct ov_buf *out)
{
    const struct ov_note_verifier *me = ov_note_signer_verifier(app->signer);
    struct ov_note *n = malloc(sizeof *n);
    ov_buf_init(out, OV_NOTE_MAX_LEN);
    int rc = n ? ov_note_parse(stored, n) : -OV_E_NOMEM;
    rc = rc ? rc : ov_buf_append(out, n->text.ptr, n->text.len);
    rc = rc ? rc : ov_buf_append(out, "\n", 1);
    for (size_t i = 0; rc == 0 && i < n->n_sigs; i++) {
        const struct ov_note_sig *sig = &n->sigs[i];
        if (sig->key_id == me->key_id && sig->name.len == me->name_len &&
            memcmp(sig->name.ptr, me->name, me->name_len) == 0) {
            continue;
        }
        rc = append_sig_line(out, sig);
    }
    rc = rc ? rc : ov_buf_append(out, cosig.ptr, cosig.len);
    rc = rc ? rc : ov_note_parse(ov_buf_view(out), n);
    free(n);
    if (rc != 0) {
        ov_buf_clear(out);
        rc = rc == -OV_E_NOMEM ? rc : -OV_E_MALFORMED;
    }
    return rc;
}

/* 64 lowercase hex digits. */
static int
parse_origin_hash(const char *s, uint8_t hash[32])
{
    size_t n = 0;
    if (s == NULL || strlen(s) != 64) {
        return -OV_E_MALFORMED;
    }
    for (size_t i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return -OV_E_MALFORMED;
        }
    }
    int rc = ov_hex_decode(hash, 32, &n, s, 64);
    return rc != 0 || n != 32 ? -OV_E_MALFORMED : 0;
}

/* GET /<lowercase hex SHA-256(origin)>/checkpoint: the monitoring endpoint. */
int
witness_h_checkpoint(struct ov_req *rq)
{
    struct witness_app *app = ov_req_user(rq);
    uint8_t hash[32];
    if (parse_origin_hash(ov_req_param(rq, "hash"), hash) != 0) {
        return ov_http_error(rq, 404, "not_found",
                             "want /<lowercase hex SHA-256(origin)>/checkpoint");
    }
    const struct witness_log *log = witness_logs_find_hash(app->logs, hash);
    if (log == NULL) {
        return ov_http_error(rq, 404, "unknown_origin", "this witness does not follow that log");
    }
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    struct ov_buf note, cosig, out;
    ov_buf_init(&out, 0);
    int rc = db ? witness_store_latest(db, OV_BYTES(log->origin, log->origin_len), &note, &cosig)
                : -OV_E_DB;
    if (rc == -OV_E_NOT_FOUND) {
        return ov_http_error(rq, 404, "not_cosigned", "no checkpoint of that log cosigned yet");
    }
    if (rc != 0) {
        return witness_our_fault(rq, rc);
    }
    rc = served_note(app, ov_buf_view(&note), ov_buf_view(&cosig), &out);
    rc = rc ? rc : ov_http_header(rq, "Cache-Control", "no-cache, max-age=0");
    rc = rc ? witness_our_fault(rq, rc) : ov_http_reply(rq, 200, WITNESS_TEXT_TYPE, ov_buf_view(&out));
    ov_buf_clear(&out);
    ov_buf_clear(&note);
    ov_buf_clear(&cosig);
    return rc;
}
