#include "store.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "primitives/note.h"

#define WITNESS_MAX_COSIG_LINE 1024 /* "— " + a 255-byte name + " " + 104 base64 + LF */

static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, origin TEXT NOT NULL,"
    "  size INTEGER NOT NULL CHECK (size >= 0),"
    "  root BLOB NOT NULL CHECK (length(root) = 32),"
    "  note TEXT NOT NULL, cosigned_at INTEGER NOT NULL, cosig TEXT NOT NULL,"
    "  UNIQUE (origin, size)) STRICT;"
    "CREATE TABLE refused (id INTEGER PRIMARY KEY, origin TEXT NOT NULL,"
    "  size INTEGER NOT NULL, root BLOB NOT NULL, old INTEGER NOT NULL, reason TEXT NOT NULL,"
    "  note TEXT NOT NULL, received_at INTEGER NOT NULL, UNIQUE (origin, size, root)) STRICT;",
};

static const struct ov_db_stmt_def stmts[] = {
    /* submit_tx: an origin's latest state (UNIQUE (origin, size) is the index) */
    {"latest_state",
     "SELECT size, root FROM checkpoints WHERE origin = ? ORDER BY size DESC LIMIT 1"},
    /* witness_store_latest: what GET /<hash>/checkpoint serves */
    {"latest_note",
     "SELECT note, cosig FROM checkpoints WHERE origin = ? ORDER BY size DESC LIMIT 1"},
    /* submit_tx: a checkpoint larger than any before */
    {"cp_insert", "INSERT INTO checkpoints (origin, size, root, note, cosigned_at, cosig)"
                  " VALUES (?, ?, ?, ?, ?, ?)"},
    /* submit_tx: the latest checkpoint submitted again (old == size): a fresh cosignature */
    {"cp_recosign",
     "UPDATE checkpoints SET cosigned_at = ?, cosig = ? WHERE origin = ? AND size = ?"},
    /* submit_tx: a signed checkpoint that failed the consistency checks */
    {"refused_put", "INSERT OR IGNORE INTO refused (origin, size, root, old, reason, note,"
                    " received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"},
    /* witness_store_check: the origins, from the last down (a skip scan of the index) */
    {"origin_before", "SELECT max(origin) FROM checkpoints WHERE origin < ?"},
    /* witness_store_check: the last rows, the pages the next insertions touch */
    {"last_rows", "SELECT (SELECT note FROM checkpoints ORDER BY id DESC LIMIT 1),"
                  " (SELECT note FROM refused ORDER BY id DESC LIMIT 1)"},
};

static const struct ov_db_schema schema = {
    migrations,
    sizeof migrations / sizeof migrations[0],
    stmts,
    sizeof stmts / sizeof stmts[0],
};

int
witness_store_open(const char *dir, struct ov_db **out)
{
    return ov_db_open_in(dir, "witness.db", 0, &schema, NULL, out);
}

static int
bind_origin(sqlite3_stmt *st, int idx, struct ov_bytes origin)
{
    return ov_db_bind_text(st, idx, (const char *)origin.ptr, origin.len);
}

/* The latest (size, root) of origin; *have = false (size 0) when it has none. */
static int
latest_state(struct ov_db *db, struct ov_bytes origin, bool *have, uint64_t *size,
             uint8_t root[OV_HASH_LEN])
{
    sqlite3_stmt *st = ov_db_stmt(db, "latest_state");
    *have = false;
    *size = 0;
    int rc = bind_origin(st, 1, origin);
    if (rc == 0) {
        rc = ov_db_step(st);
    }
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, size);
        if (rc == 0) {
            rc = ov_db_col_fixed(st, 1, root, OV_HASH_LEN);
        }
        *have = rc == 0;
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int
insert_checkpoint(struct ov_db *db, const struct witness_submission *s)
{
    sqlite3_stmt *st = ov_db_stmt(db, "cp_insert");
    int rc = bind_origin(st, 1, s->origin);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, s->size);
    rc = rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(s->root, OV_HASH_LEN));
    rc = rc ? rc : ov_db_bind_text(st, 4, (const char *)s->note.ptr, s->note.len);
    rc = rc ? rc : ov_db_bind_uint64(st, 5, s->time);
    rc = rc ? rc : ov_db_bind_text(st, 6, (const char *)s->cosig.ptr, s->cosig.len);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int
recosign(struct ov_db *db, const struct witness_submission *s)
{
    sqlite3_stmt *st = ov_db_stmt(db, "cp_recosign");
    int rc = ov_db_bind_uint64(st, 1, s->time);
    rc = rc ? rc : ov_db_bind_text(st, 2, (const char *)s->cosig.ptr, s->cosig.len);
    rc = rc ? rc : bind_origin(st, 3, s->origin);
    rc = rc ? rc : ov_db_bind_uint64(st, 4, s->size);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int
refuse(struct ov_db *db, struct witness_submission *s, enum witness_verdict v, const char *reason)
{
    sqlite3_stmt *st = ov_db_stmt(db, "refused_put");
    s->verdict = v;
    int rc = bind_origin(st, 1, s->origin);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, s->size);
    rc = rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(s->root, OV_HASH_LEN));
    rc = rc ? rc : ov_db_bind_uint64(st, 4, s->old);
    rc = rc ? rc : ov_db_bind_text(st, 5, reason, strlen(reason));
    rc = rc ? rc : ov_db_bind_text(st, 6, (const char *)s->note.ptr, s->note.len);
    rc = rc ? rc : ov_db_bind_uint64(st, 7, s->time);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

/* The compare-and-store of C2SP tlog-witness, atomic thanks to BEGIN IMMEDIATE: no other
 * request can move the origin's state between the read and the write (the spec's rollback
 * race). Repeatable: it sets every output first. */
static int
submit_tx(struct ov_db *db, void *ctx)
{
    struct witness_submission *s = ctx;
    uint8_t cur_root[OV_HASH_LEN];
    bool have = false;
    s->verdict = WITNESS_ACCEPTED;
    s->stored_size = 0;
    int rc = latest_state(db, s->origin, &have, &s->stored_size, cur_root);
    if (rc != 0) {
        return rc;
    }
    if (s->old != s->stored_size) {
        s->verdict = WITNESS_SIZE_MISMATCH;
        return 0;
    }
    if (have && s->size == s->stored_size) {
        /* the size already cosigned: only that same tree may be cosigned again */
        if (memcmp(cur_root, s->root, OV_HASH_LEN) != 0) {
            return refuse(db, s, WITNESS_ROOT_MISMATCH, "root_mismatch");
        }
        if (s->n_proof != 0) {
            return refuse(db, s, WITNESS_BAD_PROOF, "bad_proof"); /* PROOF(n, n) is empty */
        }
        return recosign(db, s);
    }
    if (s->old > 0) {
        /* old == the stored size > 0 and old < size (the caller checked old <= size) */
        rc = ov_merkle_verify_consistency(s->old, s->size, cur_root, s->root, s->proof, s->n_proof);
        if (rc == -OV_E_BAD_PROOF) {
            return refuse(db, s, WITNESS_BAD_PROOF, "bad_proof");
        }
        if (rc != 0) {
            return rc;
        }
    }
    /* old 0: every tree extends the empty one (the caller refused a non-empty proof) */
    return insert_checkpoint(db, s);
}

int
witness_store_submit(struct ov_db *db, struct witness_submission *s)
{
    return ov_db_tx(db, submit_tx, s);
}

int
witness_store_latest(struct ov_db *db, struct ov_bytes origin, struct ov_buf *note,
                     struct ov_buf *cosig)
{
    sqlite3_stmt *st = ov_db_stmt(db, "latest_note");
    struct ov_bytes n = {NULL, 0}, c = {NULL, 0};
    ov_buf_init(note, OV_NOTE_MAX_LEN);
    ov_buf_init(cosig, WITNESS_MAX_COSIG_LINE);
    int rc = bind_origin(st, 1, origin);
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    }
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_text(st, 0, OV_NOTE_MAX_LEN, &n);
    }
    rc = rc ? rc : ov_db_col_text(st, 1, WITNESS_MAX_COSIG_LINE, &c);
    rc = rc ? rc : ov_buf_append(note, n.ptr, n.len);
    rc = rc ? rc : ov_buf_append(cosig, c.ptr, c.len);
    ov_db_reset(st);
    if (rc != 0) {
        ov_buf_clear(note);
        ov_buf_clear(cosig);
    }
    return rc;
}

/* The pages requests read: each origin's latest checkpoint (latest_note, through the
 * index's path to it) and the last row of each table. O(origins x log rows) pages, where
 * PRAGMA quick_check reads them all (docs: 0.7 s warm, 25 s cold per 560 MB here). */
int
witness_store_check(struct ov_db *db)
{
    static const char top[] = "\xf4\x8f\xbf\xbf"; /* above every UTF-8 origin */
    char origin[OV_NOTE_MAX_NAME_LEN + 1];
    size_t len = sizeof top - 1;
    memcpy(origin, top, sizeof top);
    sqlite3_stmt *st = ov_db_stmt(db, "last_rows");
    int rc = ov_db_step(st);
    ov_db_reset(st);
    rc = rc == OV_DB_ROW ? 0 : (rc < 0 ? rc : -OV_E_DB);
    for (int n = 0; rc == 0 && n < 100000; n++) {
        struct ov_bytes o = {NULL, 0};
        struct ov_buf note, cosig;
        st = ov_db_stmt(db, "origin_before");
        rc = ov_db_bind_text(st, 1, origin, len);
        rc = rc ? rc : ov_db_step(st);
        if (rc == OV_DB_ROW && ov_db_col_is_null(st, 0)) {
            rc = OV_DB_DONE; /* the first origin was the last one read */
        } else if (rc == OV_DB_ROW) {
            rc = ov_db_col_text(st, 0, OV_NOTE_MAX_NAME_LEN, &o);
            len = o.len;
            if (rc == 0) {
                memcpy(origin, o.ptr, o.len);
            }
        }
        ov_db_reset(st);
        if (rc == OV_DB_DONE) {
            return 0;
        }
        rc = rc ? rc : witness_store_latest(db, OV_BYTES(origin, len), &note, &cosig);
        ov_buf_clear(&note);
        ov_buf_clear(&cosig);
    }
    return rc;
}
