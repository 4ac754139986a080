#include "store.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE contexts (id TEXT PRIMARY KEY, entry BLOB NOT NULL,"
    "  log_index INTEGER NOT NULL, tally INTEGER) STRICT;"
    "CREATE TABLE entries (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
    "  entry BLOB NOT NULL, context TEXT NOT NULL, ballot BLOB, label TEXT, rating INTEGER,"
    "  nonce BLOB, pseudonym BLOB, log_index INTEGER) STRICT;"
    /* each token spent once per context: by an assembly ballot, or by the rating that
     * admitted its pseudonym */
    "CREATE UNIQUE INDEX entries_spent ON entries (context, nonce) WHERE nonce IS NOT NULL;"
    /* each pseudonym rates each target once */
    "CREATE UNIQUE INDEX entries_rated ON entries (context, pseudonym, label)"
    "  WHERE pseudonym IS NOT NULL;"
    "CREATE INDEX entries_unsent ON entries (id) WHERE log_index IS NULL;"
    "CREATE INDEX entries_logged ON entries (log_index) WHERE log_index IS NOT NULL;"
    "CREATE TABLE targets (context TEXT NOT NULL, target TEXT NOT NULL,"
    "  PRIMARY KEY (context, target)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE follow (id INTEGER PRIMARY KEY CHECK (id = 1), reader BLOB NOT NULL,"
    "  checkpoint BLOB NOT NULL) STRICT;"
    "CREATE TABLE sent (id INTEGER PRIMARY KEY CHECK (id = 1), known_size INTEGER NOT NULL)"
    "  STRICT;",
};

static const struct ov_db_stmt_def stmts[] = {
    /* commit.c: the row that spent a token in a context */
    { "spent_get", "SELECT id FROM entries WHERE context = ? AND nonce = ?" },
    /* commit.c: the row of a pseudonym's rating of a target */
    { "rating_get", "SELECT id FROM entries WHERE context = ? AND pseudonym = ? AND label = ?" },
    /* commit.c: whether a round already has this target; a new one */
    { "target_get", "SELECT 1 FROM targets WHERE context = ? AND target = ?" },
    { "target_put", "INSERT INTO targets (context, target) VALUES (?, ?)" },
    /* commit.c (start-up): the targets of each round, for the tally-size budget */
    { "target_sizes",
      "SELECT context, COUNT(*), SUM(LENGTH(CAST(target AS BLOB))) FROM targets GROUP BY context" },
    /* commit.c: a new action row; the UNIQUE indexes refuse a second spend or rating */
    { "action_put", "INSERT INTO entries (hash, entry, context, ballot, label, rating, nonce,"
                    "  pseudonym) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" },
    /* follower.c: a new tally row */
    { "entry_put", "INSERT INTO entries (hash, entry, context) VALUES (?, ?, ?)" },
    /* commit.c, routes.c: a row by id */
    { "entry_get", "SELECT hash, entry, ballot, log_index FROM entries WHERE id = ?" },
    /* routes.c: a row by leaf hash */
    { "entry_find", "SELECT id, entry, log_index FROM entries WHERE hash = ?" },
    /* routes.c: the log index of a row */
    { "entry_index", "SELECT log_index FROM entries WHERE id = ?" },
    /* sender.c: the oldest rows the log has not acknowledged, after those in flight */
    { "outbox_next",
      "SELECT id, entry FROM entries WHERE log_index IS NULL AND id > ? ORDER BY id LIMIT ?" },
    /* sender.c: the log acknowledged a row */
    { "outbox_done", "UPDATE entries SET log_index = ? WHERE id = ?" },
    /* sender.c, follower.c: rows still waiting; the highest row */
    { "outbox_count", "SELECT COUNT(*) FROM entries WHERE log_index IS NULL" },
    { "entry_max", "SELECT COALESCE(MAX(id), 0) FROM entries" },
    /* follower.c: a context's rows still waiting, and its highest log index */
    { "context_unsent", "SELECT COUNT(*) FROM entries WHERE log_index IS NULL AND context = ?" },
    { "context_max_index",
      "SELECT COALESCE(MAX(log_index) + 1, 0) FROM entries WHERE context = ? AND log_index IS NOT NULL" },
    /* follower.c: the actions that entries [from, to) of the log hold */
    { "logged_range",
      "SELECT context, label, rating FROM entries WHERE log_index >= ? AND log_index < ?"
      "  AND label IS NOT NULL" },
    /* sender.c, follower.c */
    { "sent_get", "SELECT known_size FROM sent WHERE id = 1" },
    { "sent_put", "INSERT INTO sent (id, known_size) VALUES (1, ?) ON CONFLICT (id) DO UPDATE"
                  "  SET known_size = MAX(known_size, excluded.known_size)" },
    /* follower.c */
    { "follow_get", "SELECT reader, checkpoint FROM follow WHERE id = 1" },
    { "follow_put", "INSERT OR REPLACE INTO follow (id, reader, checkpoint) VALUES (1, ?, ?)" },
    { "context_put", "INSERT OR IGNORE INTO contexts (id, entry, log_index) VALUES (?, ?, ?)" },
    { "context_all", "SELECT entry, log_index, tally FROM contexts" },
    { "context_tallied", "UPDATE contexts SET tally = ? WHERE id = ? AND tally IS NULL" },
};

static const struct ov_db_schema schema = {
    migrations, sizeof migrations / sizeof migrations[0], stmts, sizeof stmts / sizeof stmts[0],
};

int
vf_store_open(const char *dir, struct ov_db **out)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/verifier.db", dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        *out = NULL;
        return -OV_E_TOO_BIG;
    }
    return ov_db_open(path, 0, &schema, out);
}
