#include "store.h"

#include <stdio.h>
#include <string.h>

static const char *const migrations[] = {
    /* 1: the first schema (the table is in store.h) */
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v ANY NOT NULL) STRICT;"
    "CREATE TABLE contexts (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    "  idx INTEGER NOT NULL, entry BLOB NOT NULL, issuances INTEGER NOT NULL DEFAULT 0,"
    "  tokens INTEGER NOT NULL DEFAULT 0, actions INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE TABLE issued (ctx INTEGER NOT NULL, tag BLOB NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (ctx, tag)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE spent (ctx INTEGER NOT NULL, nonce BLOB NOT NULL, idx INTEGER NOT NULL,"
    "  PRIMARY KEY (ctx, nonce)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE rated (ctx INTEGER NOT NULL, pseudonym BLOB NOT NULL, target TEXT NOT NULL,"
    "  idx INTEGER NOT NULL, PRIMARY KEY (ctx, pseudonym, target)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE acts (ctx INTEGER NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL,"
    "  rating INTEGER NOT NULL, tok INTEGER NOT NULL, counted INTEGER NOT NULL,"
    "  PRIMARY KEY (ctx, idx)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE tallies (idx INTEGER PRIMARY KEY, ctx INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, ok INTEGER NOT NULL) STRICT;"
    "CREATE TABLE violations (id INTEGER PRIMARY KEY, idx INTEGER, rule TEXT NOT NULL,"
    "  context TEXT, detail TEXT NOT NULL, run INTEGER NOT NULL) STRICT;"
    "CREATE INDEX violations_idx ON violations (idx);"
    "CREATE TABLE forks (id INTEGER PRIMARY KEY, old_size INTEGER NOT NULL,"
    "  old_root BLOB NOT NULL, old_note TEXT NOT NULL, new_size INTEGER NOT NULL,"
    "  new_root BLOB NOT NULL, new_note TEXT NOT NULL, detail TEXT NOT NULL,"
    "  run INTEGER NOT NULL, UNIQUE (old_size, old_root, new_size, new_root)) STRICT;"
    "CREATE TABLE counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT;"
    "CREATE TABLE runs (run INTEGER PRIMARY KEY, started INTEGER NOT NULL,"
    "  from_size INTEGER NOT NULL, to_size INTEGER NOT NULL) STRICT;",
    /* 2: issuance serials, enrollee tags and tallies per context, pseudonyms whose admitting
     * token failed, every signed checkpoint seen (issue 17). A state made before keeps its
     * counts; the issuances it read are not checked for repeated serials. */
    "CREATE TABLE serials (ctx INTEGER NOT NULL, tag BLOB NOT NULL, n INTEGER NOT NULL,"
    "  idx INTEGER NOT NULL, PRIMARY KEY (ctx, tag, n)) STRICT, WITHOUT ROWID;"
    /* issued.n was the count of issuances; now the tag's first serial (0: unknown) */
    "UPDATE issued SET n = 0;"
    "ALTER TABLE issued ADD COLUMN idx INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE contexts ADD COLUMN tags INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE contexts ADD COLUMN tally_min INTEGER;"
    "UPDATE contexts SET tags = (SELECT count(*) FROM issued WHERE issued.ctx = contexts.n),"
    "  tally_min = (SELECT min(size) FROM tallies WHERE tallies.ctx = contexts.n);"
    "CREATE TABLE rejected (ctx INTEGER NOT NULL, pseudonym BLOB NOT NULL,"
    "  idx INTEGER NOT NULL, PRIMARY KEY (ctx, pseudonym)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE seen (size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL,"
    "  verified INTEGER NOT NULL, source TEXT NOT NULL, PRIMARY KEY (size, root)) STRICT;",
    /* 3: draws pinned in the log (issue 20): the commitments, pools, reveals and draws that
     * count (the first of each, in order); ok is cleared by a violation of the draw */
    "CREATE TABLE sort_commits (draw TEXT NOT NULL, party_key BLOB NOT NULL,"
    "  party TEXT NOT NULL, commitment BLOB NOT NULL, idx INTEGER NOT NULL,"
    "  PRIMARY KEY (draw, party_key)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE sort_pools (id TEXT PRIMARY KEY, idx INTEGER NOT NULL, entry BLOB NOT NULL,"
    "  ok INTEGER NOT NULL) STRICT;"
    "CREATE TABLE sort_reveals (draw TEXT NOT NULL, party_key BLOB NOT NULL,"
    "  reveal BLOB NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (draw, party_key)) STRICT,"
    "  WITHOUT ROWID;"
    "CREATE TABLE sort_draws (id TEXT PRIMARY KEY, idx INTEGER NOT NULL, entry BLOB NOT NULL,"
    "  ok INTEGER NOT NULL) STRICT;",
    /* 4: invitation codes announced per draw ('' for none): the issuer's running total */
    "CREATE TABLE invite_totals (draw TEXT PRIMARY KEY, total INTEGER NOT NULL) STRICT;",
    /* 5: statement rounds (issue 19): statements among the actions (stmt; who: the
     * pseudonym, kept in statement rounds only), the counted statements, each tally's
     * recomputed results, and the tree read (tree.h) for the seeds. A state that read
     * entries before cannot know their leaves: its seeds are not checked. */
    "ALTER TABLE acts ADD COLUMN stmt INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE acts ADD COLUMN who BLOB;"
    "CREATE TABLE stmts (ctx INTEGER NOT NULL, id TEXT NOT NULL, pseudonym BLOB NOT NULL,"
    "  idx INTEGER NOT NULL, PRIMARY KEY (ctx, id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX stmts_author ON stmts (ctx, pseudonym);"
    "ALTER TABLE tallies ADD COLUMN results TEXT;"
    "CREATE TABLE tree_leaves (block INTEGER PRIMARY KEY, hashes BLOB NOT NULL) STRICT;"
    "CREATE TABLE tree_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    "  hash BLOB NOT NULL, PRIMARY KEY (level, idx)) STRICT, WITHOUT ROWID;"
    "INSERT INTO meta (k, v) SELECT 'tree_unknown', 1 FROM counts LIMIT 1;",
    /* 6: token-less actions (ratings, statements) of a pseudonym not admitted yet, judged
     * when a token admits it, at the round's tally, or standing at the end of a read (§3:
     * producers append in parallel). Rare: an honest log holds one only while the
     * admitting entry is still in flight. */
    "CREATE TABLE deferred (ctx INTEGER NOT NULL, idx INTEGER NOT NULL,"
    "  pseudonym BLOB NOT NULL, name TEXT NOT NULL, stmt INTEGER NOT NULL,"
    "  PRIMARY KEY (ctx, idx)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX deferred_who ON deferred (ctx, pseudonym);",
};

/* The hot statements (one or more per action) come first: ov_db_stmt looks names up in
 * order. */
static const struct ov_db_stmt_def stmts[] = {
    /* rules.c: a token's nonce counted (no change: it was already). OR IGNORE rather than
     * a constraint error, and no RETURNING: both cost an allocation per row. */
    { "spent_put", "INSERT OR IGNORE INTO spent (ctx, nonce, idx) VALUES (?, ?, ?)" },
    /* rules.c: every action, for recounts */
    { "act_put", "INSERT INTO acts (ctx, idx, name, rating, tok, counted, stmt, who) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)" },
    /* tree.c: the tree read, a block of leaf hashes and the subtrees above */
    { "tl_put", "INSERT OR REPLACE INTO tree_leaves (block, hashes) VALUES (?, ?)" },
    { "tl_get", "SELECT hashes FROM tree_leaves WHERE block = ?" },
    { "tn_put", "INSERT OR REPLACE INTO tree_nodes (level, idx, hash) VALUES (?, ?, ?)" },
    { "tn_get", "SELECT hash FROM tree_nodes WHERE level = ? AND idx = ?" },
    /* rules.c: where a nonce was first counted; whether a pseudonym was admitted */
    { "spent_get", "SELECT idx FROM spent WHERE ctx = ? AND nonce = ?" },
    /* rules.c: one rating per pseudonym and target */
    { "rated_put",
      "INSERT OR IGNORE INTO rated (ctx, pseudonym, target, idx) VALUES (?, ?, ?, ?)" },
    { "rated_get", "SELECT idx FROM rated WHERE ctx = ? AND pseudonym = ? AND target = ?" },
    /* rules.c: a tag's first issuance, its serial and entry (no change: a tag seen before;
     * most tags get one token per context, so the serials table holds only the others) */
    { "issued_first", "INSERT OR IGNORE INTO issued (ctx, tag, n, idx) VALUES (?, ?, ?, ?)" },
    { "issued_get", "SELECT n, idx FROM issued WHERE ctx = ? AND tag = ?" },
    /* rules.c: the serials of a tag issued more than once (no change: issued before) */
    { "serial_put", "INSERT OR IGNORE INTO serials (ctx, tag, n, idx) VALUES (?, ?, ?, ?)" },
    { "serial_get", "SELECT idx FROM serials WHERE ctx = ? AND tag = ? AND n = ?" },
    /* rules.c: a violation found */
    { "violation_put",
      "INSERT INTO violations (idx, rule, context, detail, run) VALUES (?, ?, ?, ?, ?)" },
    /* rules.c: a context announced */
    { "context_put", "INSERT INTO contexts (n, id, idx, entry) VALUES (?, ?, ?, ?)" },
    { "context_counts",
      "UPDATE contexts SET issuances = ?, tokens = ?, actions = ?, tags = ?, tally_min = ? "
      "WHERE n = ?" },
    /* rules.c: every context, at start-up */
    { "context_all",
      "SELECT n, idx, entry, issuances, tokens, actions, tags, tally_min FROM contexts "
      "ORDER BY n" },
    /* rules.c: an action found invalid after it was stored (a worker's finding, a tally) */
    { "act_uncount",
      "UPDATE acts SET counted = 0, tok = CASE WHEN ? THEN 0 ELSE tok END "
      "WHERE ctx = ? AND idx = ?" },
    { "act_tok", "SELECT tok FROM acts WHERE ctx = ? AND idx = ?" },
    { "act_counted", "SELECT counted FROM acts WHERE ctx = ? AND idx = ?" },
    /* rules.c: a statement round's counted statements (§11.3) */
    { "stmt_put", "INSERT INTO stmts (ctx, id, pseudonym, idx) VALUES (?, ?, ?, ?)" },
    { "stmt_get", "SELECT idx FROM stmts WHERE ctx = ? AND id = ?" },
    { "stmt_by", "SELECT count(*) FROM stmts WHERE ctx = ? AND pseudonym = ?" },
    { "stmt_n", "SELECT count(*) FROM stmts WHERE ctx = ?" },
    { "stmt_ids", "SELECT id FROM stmts WHERE ctx = ? AND idx < ? ORDER BY id" },
    /* the ratings a statement round counts over [0, size): of a statement counted in
     * [0, size), not its author's */
    { "stmt_ratings",
      "SELECT a.who, a.name, a.rating FROM acts a JOIN stmts s ON s.ctx = a.ctx AND s.id = a.name "
      "WHERE a.ctx = ?1 AND a.idx < ?2 AND a.counted = 1 AND a.stmt = 0 AND s.idx < ?2 "
      "AND s.pseudonym != a.who" },
    /* those otherwise valid that a statement round does not count */
    { "stmt_bad_ratings",
      "SELECT a.idx, a.name, s.idx FROM acts a LEFT JOIN stmts s ON s.ctx = a.ctx AND s.id = a.name "
      "WHERE a.ctx = ?1 AND a.idx < ?2 AND a.counted = 1 AND a.stmt = 0 "
      "AND (s.idx IS NULL OR s.idx >= ?2 OR s.pseudonym = a.who) ORDER BY a.idx" },
    /* rules.c: the actions of a context from a log index on (beyond a tally's size) */
    { "acts_from", "SELECT idx FROM acts WHERE ctx = ? AND idx >= ? ORDER BY idx" },
    /* rules.c: a rating pseudonym whose admitting token failed, and its ratings */
    { "rejected_put", "INSERT OR IGNORE INTO rejected (ctx, pseudonym, idx) VALUES (?, ?, ?)" },
    { "rejected_get", "SELECT idx FROM rejected WHERE ctx = ? AND pseudonym = ?" },
    { "rejected_count", "SELECT count(*) FROM rejected" },
    { "rejected_uncount",
      "UPDATE acts SET counted = 0 WHERE ctx = ?1 AND idx IN "
      "(SELECT idx FROM rated WHERE ctx = ?1 AND pseudonym = ?2)" },
    /* rules.c: token-less actions of a pseudonym not admitted yet (migration 6) */
    { "deferred_put",
      "INSERT INTO deferred (ctx, idx, pseudonym, name, stmt) VALUES (?, ?, ?, ?, ?)" },
    { "deferred_of",
      "SELECT idx, name, stmt FROM deferred WHERE ctx = ? AND pseudonym = ? ORDER BY idx" },
    { "deferred_below", "SELECT idx FROM deferred WHERE ctx = ? AND idx < ? ORDER BY idx" },
    { "deferred_del", "DELETE FROM deferred WHERE ctx = ? AND idx = ?" },
    { "deferred_count", "SELECT count(*) FROM deferred" },
    { "deferred_first", "SELECT ctx, min(idx), count(*) FROM deferred GROUP BY ctx" },
    /* the violations of one entry (an action with any does not count) */
    { "violation_at", "SELECT count(*) FROM violations WHERE idx = ?" },
    { "act_count", "UPDATE acts SET counted = 1 WHERE ctx = ? AND idx = ?" },
    /* rules.c: a context's tallies that an action beyond their size makes incomplete */
    { "tally_late", "UPDATE tallies SET ok = 0 WHERE ctx = ? AND size <= ?" },
    /* rules.c: the recount of a context over entries [0, size): an assembly's ballots, */
    { "recount_rows",
      "SELECT name FROM acts WHERE ctx = ? AND idx < ? AND counted = 1 AND stmt = 0" },
    /* a rating round's targets */
    { "recount",
      "SELECT name, count(*), sum(rating) FROM acts WHERE ctx = ? AND idx < ? AND counted = 1 "
      "AND stmt = 0 GROUP BY name ORDER BY name" },
    /* a statement round's: the ratings of stmt_ratings */
    { "recount_stmt",
      "SELECT a.name, count(*), sum(a.rating) FROM acts a JOIN stmts s ON s.ctx = a.ctx "
      "AND s.id = a.name WHERE a.ctx = ?1 AND a.idx < ?2 AND a.counted = 1 AND a.stmt = 0 "
      "AND s.idx < ?2 AND s.pseudonym != a.who GROUP BY a.name ORDER BY a.name" },
    /* rules.c: the k-th admitted token of a context (tokens beyond issuances) */
    { "token_nth",
      "SELECT idx FROM acts WHERE ctx = ? AND tok = 1 ORDER BY idx LIMIT 1 OFFSET ?" },
    /* rules.c: a published tally and its verdict */
    { "tally_put", "INSERT INTO tallies (idx, ctx, size, ok, results) VALUES (?, ?, ?, ?, ?)" },
    { "tally_list", "SELECT idx, size, ok, results FROM tallies WHERE ctx = ? ORDER BY idx" },
    /* rules.c: entries by kind */
    { "count_put", "INSERT OR REPLACE INTO counts (kind, n) VALUES (?, ?)" },
    { "count_all", "SELECT kind, n FROM counts" },
    /* report.c: every violation, in log order (log-level ones, NULL, first), read along the
     * index: no sort, whatever their number */
    { "violation_all",
      "SELECT idx, rule, context, detail, run FROM violations ORDER BY idx, id" },
    { "violation_count", "SELECT count(*) FROM violations" },
    /* sync.c: a fork, with both checkpoints */
    { "fork_put",
      "INSERT OR IGNORE INTO forks (old_size, old_root, old_note, new_size, new_root, new_note,"
      " detail, run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" },
    { "fork_count", "SELECT count(*) FROM forks" },
    { "fork_all",
      "SELECT old_size, old_root, old_note, new_size, new_root, new_note, detail, run FROM forks "
      "ORDER BY id" },
    /* sync.c: every signed checkpoint seen (served, or given by others), and its nearest
     * neighbours by size */
    { "seen_put",
      "INSERT OR IGNORE INTO seen (size, root, note, verified, source) VALUES (?, ?, ?, ?, ?)" },
    { "seen_verified", "UPDATE seen SET verified = 1 WHERE size = ? AND root = ?" },
    { "seen_same", "SELECT root, note, verified FROM seen WHERE size = ? AND root != ? LIMIT 1" },
    { "seen_below",
      "SELECT size, root, note, verified FROM seen WHERE size < ? ORDER BY size DESC LIMIT 1" },
    { "seen_above",
      "SELECT size, root, note, verified FROM seen WHERE size > ? ORDER BY size LIMIT 1" },
    { "seen_count", "SELECT count(*) FROM seen" },
    /* main.c: this run */
    { "run_put", "INSERT INTO runs (started, from_size, to_size) VALUES (?, ?, ?)" },
    { "run_update", "UPDATE runs SET to_size = ? WHERE run = ?" },
    /* sortition.c: the entries of a draw that count */
    { "sc_put", "INSERT INTO sort_commits (draw, party_key, party, commitment, idx) "
      "VALUES (?, ?, ?, ?, ?)" },
    { "sc_get",
      "SELECT commitment, idx, party FROM sort_commits WHERE draw = ? AND party_key = ?" },
    { "sp_put", "INSERT INTO sort_pools (id, idx, entry, ok) VALUES (?, ?, ?, ?)" },
    { "sp_get", "SELECT idx, entry, ok FROM sort_pools WHERE id = ?" },
    { "sp_all", "SELECT id FROM sort_pools ORDER BY idx" },
    { "sp_bad", "UPDATE sort_pools SET ok = 0 WHERE id = ?" },
    { "sr_put", "INSERT OR IGNORE INTO sort_reveals (draw, party_key, reveal, idx) "
      "VALUES (?, ?, ?, ?)" },
    { "sr_get", "SELECT reveal, idx FROM sort_reveals WHERE draw = ? AND party_key = ?" },
    { "sd_put", "INSERT INTO sort_draws (id, idx, entry, ok) VALUES (?, ?, ?, ?)" },
    { "sv_count", "SELECT count(*) FROM violations WHERE context = ? AND rule IN "
      "('commitment_repeated', 'reveal_early')" },
    { "sd_get", "SELECT idx, entry, ok FROM sort_draws WHERE id = ?" },
    /* rules.c: invitations */
    { "it_get", "SELECT total FROM invite_totals WHERE draw = ?" },
    { "it_put", "INSERT OR REPLACE INTO invite_totals (draw, total) VALUES (?, ?)" },
    /* store.c */
    { "meta_get", "SELECT v FROM meta WHERE k = ?" },
    { "meta_put", "INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)" },
};

const struct ov_db_schema audit_store_schema = {
    migrations, sizeof migrations / sizeof migrations[0], stmts, sizeof stmts / sizeof stmts[0],
};

int
audit_store_open(const char *dir, struct ov_db **out)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/audit.db", dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        *out = NULL;
        return -OV_E_TOO_BIG;
    }
    /* NORMAL: a crash may lose the last transaction, which the next run reads again */
    int rc = ov_db_open(path, OV_DB_SYNC_NORMAL, &audit_store_schema, out);
    if (rc == 0) {
        /* the cache caps memory; sorts (recounts) spill to temporary files, not to memory */
        rc = ov_db_exec(*out, "PRAGMA cache_size = -32768; PRAGMA temp_store = FILE");
        if (rc != 0) {
            ov_db_close(*out);
            *out = NULL;
        }
    }
    return rc;
}

int
audit_meta_get(struct ov_db *db, const char *k, size_t max, struct ov_buf *out)
{
    sqlite3_stmt *st = ov_db_stmt(db, "meta_get");
    struct ov_bytes v;
    ov_buf_init(out, max);
    int rc = ov_db_bind_text(st, 1, k, strlen(k));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    } else if (rc == OV_DB_ROW) {
        rc = ov_db_col_blob(st, 0, max, &v);
        rc = rc ? rc : ov_buf_append(out, v.ptr, v.len);
    }
    ov_db_reset(st);
    if (rc != 0) {
        ov_buf_clear(out);
    }
    return rc;
}

int
audit_meta_put(struct ov_db *db, const char *k, struct ov_bytes v)
{
    sqlite3_stmt *st = ov_db_stmt(db, "meta_put");
    int rc = ov_db_bind_text(st, 1, k, strlen(k));
    rc = rc ? rc : ov_db_bind_blob(st, 2, v);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

int
audit_meta_get_u64(struct ov_db *db, const char *k, uint64_t *v)
{
    sqlite3_stmt *st = ov_db_stmt(db, "meta_get");
    *v = 0;
    int rc = ov_db_bind_text(st, 1, k, strlen(k));
    rc = rc ? rc : ov_db_step(st);
    if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    } else if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, v);
    }
    ov_db_reset(st);
    return rc;
}

int
audit_meta_put_u64(struct ov_db *db, const char *k, uint64_t v)
{
    sqlite3_stmt *st = ov_db_stmt(db, "meta_put");
    int rc = ov_db_bind_text(st, 1, k, strlen(k));
    rc = rc ? rc : ov_db_bind_uint64(st, 2, v);
    rc = rc ? rc : ov_db_step(st);
    ov_db_reset(st);
    return rc;
}
