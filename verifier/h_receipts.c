/* h_receipts: GET /receipts/<hex leaf hash>[?wait=proof], a receipt by its leaf hash. */
#include "handlers.h"

#include <string.h>

#include "app.h"
#include "base/codec.h"
#include "keys.h"

int
vf_h_receipt(struct ov_req *rq)
{
    struct vf_app *app = ov_req_user(rq);
    struct vf_req *st = ov_req_state(rq);
    if (st != NULL) {
        return vf_answer(rq, app, st, true);
    }
    const char *hex = ov_req_param(rq, "hash");
    uint8_t hash[32];
    size_t n = 0;
    int w = vf_wait_arg(rq);
    if (hex == NULL || ov_hex_decode(hash, sizeof hash, &n, hex, strlen(hex)) != 0 || n != 32 ||
        w < 0) {
        return ov_http_error(rq, 400, "malformed_request",
                             "want /receipts/<64 hex digits>[?wait=proof]");
    }
    struct ov_db *db = ov_db_per_thread_get(&app->dbs);
    if (db == NULL || (st = vf_req_new(rq, 1)) == NULL) {
        return -OV_E_NOMEM;
    }
    struct vf_slot *s = &st->s[0];
    st->wait_proof = w == 1;
    memcpy(s->hash, hash, 32);
    int rc = vf_keys_hash(app, db, hash, &s->row);
    if (rc == 0) {
        return ov_http_error(rq, 404, "not_found", "no entry of this verifier has this hash");
    }
    if (rc < 0) {
        return rc;
    }
    sqlite3_stmt *q = ov_db_stmt(db, "entry_get");
    struct ov_bytes e;
    rc = ov_db_bind_int64(q, 1, s->row);
    rc = rc ? rc : ov_db_step(q);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_blob(q, 1, OV_MAX_ENTRY_LEN, &e);
        rc = rc ? rc : ov_buf_append(&s->entry, e.ptr, e.len);
        if (rc == 0 && !ov_db_col_is_null(q, 3)) {
            rc = ov_db_col_uint64(q, 3, &s->index);
            s->indexed = rc == 0;
        }
    } else if (rc == OV_DB_DONE) {
        rc = -OV_E_DB; /* confirmed by hash a moment ago: rows are never deleted */
    }
    ov_db_reset(q);
    if (rc != 0) {
        return rc;
    }
    s->have_row = true;
    return vf_answer(rq, app, st, true);
}
