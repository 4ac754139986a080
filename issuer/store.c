#include "store.h"

#include <fcntl.h>
#include <string.h>

#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, entry BLOB NOT NULL,"
    "  created INTEGER NOT NULL, log_index INTEGER) STRICT;"
    "CREATE INDEX outbox_pending ON outbox (id) WHERE log_index IS NULL;"
    "CREATE TABLE contexts (id TEXT PRIMARY KEY, entry BLOB NOT NULL, sk BLOB NOT NULL,"
    "  truncated_id INTEGER NOT NULL CHECK (truncated_id BETWEEN 0 AND 255),"
    "  token_key_id BLOB NOT NULL UNIQUE CHECK (length(token_key_id) = 32),"
    "  opens INTEGER NOT NULL, closes INTEGER NOT NULL CHECK (opens < closes),"
    "  quota INTEGER NOT NULL CHECK (quota >= 1),"
    "  outbox_id INTEGER NOT NULL UNIQUE REFERENCES outbox (id), log_index INTEGER) STRICT;"
    "CREATE TABLE enrollees (pseudonym BLOB PRIMARY KEY CHECK (length(pseudonym) = 32),"
    "  identity BLOB NOT NULL UNIQUE CHECK (length(identity) = 32),"
    "  route TEXT NOT NULL, created INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
    "CREATE TABLE keys (pk BLOB PRIMARY KEY CHECK (length(pk) = 32),"
    "  pseudonym BLOB NOT NULL REFERENCES enrollees (pseudonym),"
    "  created INTEGER NOT NULL, revoked INTEGER) STRICT, WITHOUT ROWID;"
    "CREATE UNIQUE INDEX keys_one_active ON keys (pseudonym) WHERE revoked IS NULL;"
    "CREATE TABLE invites (hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
    "  created INTEGER NOT NULL, used INTEGER) STRICT, WITHOUT ROWID;"
    "CREATE TABLE reg_tokens (hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
    "  identity BLOB NOT NULL CHECK (length(identity) = 32),"
    "  recovery INTEGER NOT NULL CHECK (recovery IN (0, 1)), expires INTEGER NOT NULL,"
    "  used INTEGER) STRICT, WITHOUT ROWID;"
    "CREATE TABLE issuances (context TEXT NOT NULL REFERENCES contexts (id),"
    "  pseudonym BLOB NOT NULL REFERENCES enrollees (pseudonym), n INTEGER NOT NULL CHECK (n >= 1),"
    "  blinded BLOB NOT NULL CHECK (length(blinded) = 256),"
    "  response BLOB NOT NULL CHECK (length(response) = 256), time INTEGER NOT NULL,"
    "  outbox_id INTEGER NOT NULL UNIQUE REFERENCES outbox (id),"
    "  PRIMARY KEY (context, pseudonym, n), UNIQUE (context, blinded)) STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER issuances_quota BEFORE INSERT ON issuances"
    "  WHEN NEW.n > (SELECT quota FROM contexts WHERE id = NEW.context)"
    "  BEGIN SELECT RAISE(ABORT, 'quota exceeded'); END;"
    /* keyed by time first: inserts land at the b-tree's right edge (one page per batch,
     * not one random page per request), pruning cuts its left edge; the signature covers
     * the time, so the pair is as unique as the signature */
    "CREATE TABLE seen_requests (expires INTEGER NOT NULL,"
    "  sig BLOB NOT NULL CHECK (length(sig) = 64), PRIMARY KEY (expires, sig)) STRICT,"
    "  WITHOUT ROWID;"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;"
    "INSERT INTO counters (name, value) VALUES ('enrollment', 0);",
    /* 2: the (context, blinded) index moves to memory (core/infra/rowmap,
     * issuer_store_state): its random 300-byte keys wrote a B-tree page per issuance. The
     * table is rebuilt without it (dropping it drops its trigger, made again). */
    "CREATE TABLE issuances_v2 (context TEXT NOT NULL REFERENCES contexts (id),"
    "  pseudonym BLOB NOT NULL REFERENCES enrollees (pseudonym), n INTEGER NOT NULL CHECK (n >= 1),"
    "  blinded BLOB NOT NULL CHECK (length(blinded) = 256),"
    "  response BLOB NOT NULL CHECK (length(response) = 256), time INTEGER NOT NULL,"
    "  outbox_id INTEGER NOT NULL UNIQUE REFERENCES outbox (id),"
    "  PRIMARY KEY (context, pseudonym, n)) STRICT, WITHOUT ROWID;"
    "INSERT INTO issuances_v2 (context, pseudonym, n, blinded, response, time, outbox_id)"
    "  SELECT context, pseudonym, n, blinded, response, time, outbox_id FROM issuances;"
    "DROP TABLE issuances;"
    "ALTER TABLE issuances_v2 RENAME TO issuances;"
    "CREATE TRIGGER issuances_quota BEFORE INSERT ON issuances"
    "  WHEN NEW.n > (SELECT quota FROM contexts WHERE id = NEW.context)"
    "  BEGIN SELECT RAISE(ABORT, 'quota exceeded'); END;",
    /* 3: registrar and attestation identities are hashed with Argon2id (hashes.h); a hash
     * is one-way, so rows hashed before cannot be converted, and checked against the new
     * hashes they would let the same people enroll again. Counted once (OR IGNORE: a
     * migration run again keeps the first count), so that start-up refuses such a state. */
    "INSERT OR IGNORE INTO counters (name, value) SELECT 'identity_v1',"
    "  (SELECT count(*) FROM enrollees WHERE route <> 'invite')"
    "  + (SELECT count(*) FROM reg_tokens);",
    /* 4: epochs (docs/PROTOCOL.md §3.1): a row may wait until `release` (POSIX seconds; 0:
     * at once), and goes in `place` order among the rows released with it (a random key
     * drawn once, so an epoch partly sent before a crash is resent in the same order) */
    "ALTER TABLE outbox ADD COLUMN release INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN place INTEGER NOT NULL DEFAULT 0;"
    "DROP INDEX outbox_pending;"
    "CREATE INDEX outbox_due ON outbox (release, place, id) WHERE log_index IS NULL;",
};

static const struct ov_db_stmt_def stmts[] = {
    /* h_admin.c: a new context, pending until logged */
    { "ctx_insert",
      "INSERT INTO contexts (id, entry, sk, truncated_id, token_key_id, opens, closes, quota,"
      " outbox_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" },
    /* h_admin.c: does the id exist */
    { "ctx_exists", "SELECT 1 FROM contexts WHERE id = ?" },
    /* h_admin.c: truncated key ids taken by contexts not yet closed (logged or not) */
    { "ctx_taken", "SELECT 1 FROM contexts WHERE truncated_id = ? AND closes > ?" },
    /* contexts.c: every logged context */
    { "ctx_logged", "SELECT id, entry, sk, log_index FROM contexts WHERE log_index IS NOT NULL"
                    " ORDER BY log_index" },
    /* outbox.c: the log acknowledged a context's entry: it opens */
    { "ctx_ack", "UPDATE contexts SET log_index = ? WHERE outbox_id = ? AND log_index IS NULL" },
    /* store.c */
    { "outbox_insert",
      "INSERT INTO outbox (entry, created, release, place) VALUES (?, ?, ?, ?)" },
    /* outbox.c: the pending entries due by a time: those sent at once in their order, then
     * each epoch's in its shuffled order */
    { "outbox_pending",
      "SELECT id, entry, release FROM outbox WHERE log_index IS NULL AND release <= ?"
      " ORDER BY release, place, id LIMIT ?" },
    /* outbox.c: pending entries held for an epoch that has not ended (the metric) */
    { "outbox_held",
      "SELECT count(*) FROM outbox WHERE log_index IS NULL AND release > ?" },
    /* outbox.c: acknowledged */
    { "outbox_ack", "UPDATE outbox SET log_index = ? WHERE id = ?" },
    /* main.c: the backlog at start */
    { "outbox_backlog", "SELECT count(*) FROM outbox WHERE log_index IS NULL" },
    /* logcheck.c: our rows the log acknowledged at or after an index; every row at all; the
     * log's count of ours when this database began (--init over a producer's history) */
    { "outbox_logged_since", "SELECT count(*) FROM outbox WHERE log_index >= ?" },
    { "outbox_rows", "SELECT count(*) FROM outbox" },
    { "log_base_get", "SELECT value FROM counters WHERE name = 'log_base'" },
    { "log_base_put", "INSERT OR IGNORE INTO counters (name, value) VALUES ('log_base', ?)" },
    /* main.c: identities hashed by the first format (migration 3) */
    { "identity_v1", "SELECT value FROM counters WHERE name = 'identity_v1'" },
    /* h_enroll.c: the next enrollment serial */
    { "serial_next",
      "UPDATE counters SET value = value + 1 WHERE name = 'enrollment' RETURNING value" },
    /* h_enroll.c */
    { "enrollee_insert",
      "INSERT INTO enrollees (pseudonym, identity, route, created) VALUES (?, ?, ?, ?)" },
    { "enrollee_by_identity", "SELECT pseudonym FROM enrollees WHERE identity = ?" },
    { "key_insert", "INSERT INTO keys (pk, pseudonym, created) VALUES (?, ?, ?)" },
    { "key_revoke", "UPDATE keys SET revoked = ? WHERE pseudonym = ? AND revoked IS NULL" },
    /* h_admin.c, h_enroll.c: invitation codes */
    { "invite_insert", "INSERT INTO invites (hash, created) VALUES (?, ?)" },
    /* h_admin.c: codes made so far for a draw ('invites:' + draw id; 'invites:' for none) */
    { "invites_total_add",
      "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "
      "value = value + excluded.value RETURNING value" },
    { "invite_get", "SELECT used FROM invites WHERE hash = ?" },
    { "invite_use", "UPDATE invites SET used = ? WHERE hash = ? AND used IS NULL" },
    /* h_enroll.c: registrar tokens */
    { "regtok_insert",
      "INSERT INTO reg_tokens (hash, identity, recovery, expires) VALUES (?, ?, ?, ?)" },
    { "regtok_get", "SELECT identity, recovery, expires, used FROM reg_tokens WHERE hash = ?" },
    { "regtok_use", "UPDATE reg_tokens SET used = ? WHERE hash = ? AND used IS NULL" },
    /* writer.c */
    { "iss_insert",
      "INSERT INTO issuances (context, pseudonym, n, blinded, response, time, outbox_id)"
      " VALUES (?, ?, ?, ?, ?, ?, ?)" },
    /* h_token.c, writer.c: what an issuance decides on, in one lookup: the key's enrollee
     * and revocation, and how many tokens the enrollee holds in the context */
    { "iss_state",
      "SELECT k.pseudonym, k.revoked IS NOT NULL,"
      " (SELECT coalesce(max(n), 0) FROM issuances"  /* n runs 1, 2, 3: max is the count */
      "  WHERE context = ?2 AND pseudonym = k.pseudonym)"
      " FROM keys k WHERE k.pk = ?1" },
    /* h_token.c, writer.c: the issuance that answered this blinded message (and whose), one
     * candidate of the in-memory index confirmed */
    { "iss_answered",
      "SELECT pseudonym, response FROM issuances"
      " WHERE outbox_id = ?1 AND context = ?2 AND blinded = ?3" },
    /* store.c: the in-memory index at start-up */
    { "iss_blinded_all", "SELECT outbox_id, context, blinded FROM issuances" },
    /* writer.c: one savepoint per job, prepared once (they run thousands of times a second) */
    { "sp_begin", "SAVEPOINT job" },
    { "sp_release", "RELEASE job" },
    { "sp_rollback", "ROLLBACK TO job" },
    /* writer.c: a token request's signature, remembered for the time window */
    { "seen_insert", "INSERT INTO seen_requests (sig, expires) VALUES (?, ?)" },
    /* outbox.c: forget expired ones */
    { "seen_expire", "DELETE FROM seen_requests WHERE expires < ?" },
};

const struct ov_db_schema issuer_store_schema = {
    migrations, sizeof migrations / sizeof migrations[0], stmts, sizeof stmts / sizeof stmts[0],
};

int
issuer_store_open(const char *dir, struct ov_db **out)
{
    /* commits never checkpoint: the writer does, after it has answered its batch (a
     * checkpoint inside the commit would hold every issuance of the batch). The file holds
     * token keys: the server's umask (077) makes it, its WAL and its shm 0600. Nothing here
     * opens and closes the file by itself: closing any descriptor of it would drop the
     * process's POSIX locks on it, which SQLite's other connections rely on. */
    return ov_db_open_in(dir, "issuer.db", 0, &issuer_store_schema,
                         "PRAGMA wal_autocheckpoint = 0", out);
}

int
issuer_store_outbox_add(struct ov_db *db, struct ov_bytes entry, uint64_t now_s, int64_t *id)
{
    return issuer_store_outbox_hold(db, entry, now_s, 0, 0, id);
}

int
issuer_store_outbox_hold(struct ov_db *db, struct ov_bytes entry, uint64_t created_s,
                         uint64_t release_s, uint64_t place, int64_t *id)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_insert");
    int rc = ov_db_bind_blob(st, 1, entry);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, created_s);
    rc = rc ? rc : ov_db_bind_uint64(st, 3, release_s);
    rc = rc ? rc : ov_db_bind_uint64(st, 4, place);
    rc = rc ? rc : ov_db_step(st);
    *id = rc == OV_DB_DONE ? sqlite3_last_insert_rowid(ov_db_handle(db)) : 0;
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

int
issuer_store_checkpoint(struct ov_db *db)
{
    int rc = sqlite3_wal_checkpoint_v2(ov_db_handle(db), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                       NULL);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : -OV_E_DB;
}

int
issuer_store_run(struct ov_db *db, const char *name)
{
    sqlite3_stmt *st = ov_db_stmt(db, name);
    int rc = ov_db_step(st);
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

static int
blinded_key(struct ov_rowmap *m, const char *context, const uint8_t blinded[256], uint32_t *key)
{
    struct ov_bytes p[] = { OV_BYTES(context, strlen(context)), OV_BYTES(blinded, 256) };
    return ov_rowmap_key(m, 0, p, 2, key);
}

int
issuer_store_add_blinded(struct ov_rowmap *m, const char *context, const uint8_t blinded[256],
                         int64_t outbox_id)
{
    uint32_t key = 0;
    int rc = outbox_id > 0 ? blinded_key(m, context, blinded, &key) : -OV_E_RANGE;
    return rc ? rc : ov_rowmap_put(m, key, (uint64_t)outbox_id);
}

int
issuer_store_load_blinded(struct ov_db *db, struct ov_rowmap **out)
{
    int rc = ov_rowmap_new(out);
    sqlite3_stmt *st = ov_db_stmt(db, "iss_blinded_all");
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        int64_t id = 0;
        uint8_t blinded[256];
        const char *context = (const char *)sqlite3_column_text(st, 1);
        rc = ov_db_col_int64(st, 0, &id);
        rc = rc ? rc : ov_db_col_fixed(st, 2, blinded, sizeof blinded);
        rc = rc ? rc : context != NULL ? 0 : -OV_E_MALFORMED;
        rc = rc ? rc : issuer_store_add_blinded(*out, context, blinded, id);
    }
    ov_db_reset(st);
    rc = rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_MALFORMED);
    if (rc != 0) {
        ov_rowmap_free(*out);
        *out = NULL;
        return rc;
    }
    ov_rowmap_commit(*out);
    return 0;
}

int
issuer_store_answered(struct ov_db *db, struct ov_rowmap *m, const char *context,
                      const uint8_t blinded[256], struct issuer_state *s)
{
    uint32_t key = 0;
    uint64_t cand[8];
    int rc = blinded_key(m, context, blinded, &key);
    size_t n = rc == 0 ? ov_rowmap_find(m, key, cand, 8) : 0;
    if (n > 8) {
        return -OV_E_STATE; /* nine rows under one secret 32-bit digest: not by chance */
    }
    sqlite3_stmt *st = ov_db_stmt(db, "iss_answered");
    for (size_t i = 0; i < n && rc == 0 && !s->answered; i++) {
        uint8_t who[32];
        rc = ov_db_bind_uint64(st, 1, cand[i]);
        rc = rc ? rc : ov_db_bind_text(st, 2, context, strlen(context));
        rc = rc ? rc : ov_db_bind_blob(st, 3, OV_BYTES(blinded, 256));
        rc = rc ? rc : ov_db_step(st);
        if (rc == OV_DB_ROW) {
            rc = ov_db_col_fixed(st, 0, who, sizeof who);
            rc = rc ? rc : ov_db_col_fixed(st, 1, s->response, sizeof s->response);
            s->answered = rc == 0;
            s->answered_other = rc == 0 && sodium_memcmp(who, s->pseudonym, 32) != 0;
        }
        ov_db_reset(st);
    }
    return rc < 0 ? rc : 0;
}

int
issuer_store_state(struct ov_db *db, struct ov_rowmap *blinded_map, const uint8_t pk[32],
                   const char *context, const uint8_t blinded[256], struct issuer_state *s)
{
    sqlite3_stmt *st = ov_db_stmt(db, "iss_state");
    int64_t revoked = 0;
    memset(s, 0, sizeof *s);
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(pk, 32));
    rc = rc ? rc : ov_db_bind_text(st, 2, context, strlen(context));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_ROW) {
        s->known = true;
        rc = ov_db_col_fixed(st, 0, s->pseudonym, 32);
        rc = rc ? rc : ov_db_col_int64(st, 1, &revoked);
        rc = rc ? rc : ov_db_col_uint64(st, 2, &s->issued);
        s->revoked = revoked != 0;
    }
    ov_db_reset(st);
    if (rc == 0 && s->known) {
        rc = issuer_store_answered(db, blinded_map, context, blinded, s);
    }
    if (rc < 0) {
        sodium_memzero(s, sizeof *s);
        return rc;
    }
    return 0;
}

int
issuer_store_identity_v1(struct ov_db *db, int64_t *n)
{
    sqlite3_stmt *st = ov_db_stmt(db, "identity_v1");
    int rc = ov_db_step(st);
    *n = 0;
    rc = rc == OV_DB_ROW ? ov_db_col_int64(st, 0, n) : (rc < 0 ? rc : 0);
    ov_db_reset(st);
    return rc;
}
