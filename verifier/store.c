#include "store.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE contexts (id TEXT PRIMARY KEY, entry BLOB NOT NULL,"
    "  log_index INTEGER NOT NULL, tally INTEGER) STRICT;"
    "CREATE TABLE entries (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
    "  entry BLOB NOT NULL, context TEXT NOT NULL, ballot BLOB, label TEXT, rating INTEGER,"
    "  nonce BLOB, pseudonym BLOB) STRICT;"
    /* each token spent once per context: by an assembly ballot, or by the rating that
     * admitted its pseudonym */
    "CREATE UNIQUE INDEX entries_spent ON entries (context, nonce) WHERE nonce IS NOT NULL;"
    /* each pseudonym rates each target once */
    "CREATE UNIQUE INDEX entries_rated ON entries (context, pseudonym, label)"
    "  WHERE pseudonym IS NOT NULL;"
    /* the log's acknowledgements, apart: an entries row is written once, never updated */
    "CREATE TABLE logged (id INTEGER PRIMARY KEY, log_index INTEGER NOT NULL) STRICT;"
    "CREATE INDEX logged_index ON logged (log_index);"
    "CREATE TABLE targets (context TEXT NOT NULL, target TEXT NOT NULL,"
    "  PRIMARY KEY (context, target)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE follow (id INTEGER PRIMARY KEY CHECK (id = 1), reader BLOB NOT NULL,"
    "  checkpoint BLOB NOT NULL) STRICT;"
    /* rows are acknowledged in order: every row with id <= upto is in `logged` */
    "CREATE TABLE sent (id INTEGER PRIMARY KEY CHECK (id = 1), known_size INTEGER NOT NULL,"
    "  upto INTEGER NOT NULL) STRICT;",
    /* 2: the unique keys (spent tokens, ratings, leaf hashes) move to memory (keys.c): an
     * index on random keys wrote a whole page per action. The table is rebuilt without
     * them, its rows and ids unchanged. */
    "CREATE TABLE entries_v2 (id INTEGER PRIMARY KEY, hash BLOB NOT NULL, entry BLOB NOT NULL,"
    "  context TEXT NOT NULL, ballot BLOB, label TEXT, rating INTEGER, nonce BLOB,"
    "  pseudonym BLOB) STRICT;"
    "INSERT INTO entries_v2 (id, hash, entry, context, ballot, label, rating, nonce, pseudonym)"
    "  SELECT id, hash, entry, context, ballot, label, rating, nonce, pseudonym FROM entries;"
    "DROP TABLE entries;"
    "ALTER TABLE entries_v2 RENAME TO entries;",
    /* 3: epochs (epoch.h): a row's place in its epoch's sending order (0: no epoch) */
    "ALTER TABLE entries ADD COLUMN place INTEGER NOT NULL DEFAULT 0;",
    /* 4: places keep 28 random bits below the epoch, not 32 (epoch.c): the same epochs and
     * the same order within each, in the new layout */
    "UPDATE entries SET place = ((place >> 32) << 28) | (place & 268435455) WHERE place > 0;",
};

static const struct ov_db_stmt_def stmts[] = {
    /* keys.c: a candidate row confirmed: it spent this token in this context, holds this
     * pseudonym's rating of this target, has this leaf hash */
    { "spent_check", "SELECT 1 FROM entries WHERE id = ? AND context = ? AND nonce = ?" },
    { "rated_check", "SELECT 1 FROM entries WHERE id = ? AND context = ? AND pseudonym = ?"
                     "  AND label = ?" },
    { "hash_check", "SELECT 1 FROM entries WHERE id = ? AND hash = ?" },
    /* keys.c (start-up): every row's keys */
    { "keys_all", "SELECT id, context, hash, nonce, pseudonym, label, rating FROM entries" },
    /* commit.c: whether a round already has this target; a new one */
    { "target_get", "SELECT 1 FROM targets WHERE context = ? AND target = ?" },
    { "target_put", "INSERT INTO targets (context, target) VALUES (?, ?)" },
    /* commit.c (start-up): the targets of each round, for the tally-size budget */
    { "target_sizes",
      "SELECT context, COUNT(*), SUM(LENGTH(CAST(target AS BLOB))) FROM targets GROUP BY context" },
    /* commit.c: a new action row (its keys checked in memory first: keys.c) */
    { "action_put", "INSERT INTO entries (hash, entry, context, ballot, label, rating, nonce,"
                    "  pseudonym, place) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" },
    /* follower.c: a new tally row */
    { "entry_put", "INSERT INTO entries (hash, entry, context, place) VALUES (?, ?, ?, ?)" },
    /* decide.c, follower.c, h_receipts.c: a row by id */
    { "entry_get", "SELECT e.hash, e.entry, e.ballot, l.log_index FROM entries e"
                   "  LEFT JOIN logged l USING (id) WHERE e.id = ?" },
    /* routes.c: the log index of a row */
    { "entry_index", "SELECT log_index FROM logged WHERE id = ?" },
    /* sender.c: the rows after those in flight (all of them unsent); a rating's or
     * statement's pseudonym, and whether the row admits it (its token spent) */
    { "outbox_next", "SELECT id, entry, hash, nonce IS NOT NULL, pseudonym FROM entries "
                     "WHERE id > ? ORDER BY id LIMIT ?" },
    /* sender.c, with epochs (epoch.h): one row by id; the last row of the epochs that
     * ended; their rows not yet logged, with their places */
    { "outbox_row", "SELECT id, entry, hash, nonce IS NOT NULL, pseudonym FROM entries "
                    "WHERE id = ?" },
    { "epoch_hi", "SELECT max(id) FROM entries WHERE id > ? AND place < ?" },
    { "epoch_rows", "SELECT e.id, e.place FROM entries e WHERE e.id > ? AND e.id <= ?"
                    "  AND NOT EXISTS (SELECT 1 FROM logged l WHERE l.id = e.id)" },
    /* sender.c: rows held for an epoch not yet ended (the metric) */
    { "outbox_held", "SELECT count(*) FROM entries"
                     "  WHERE id > COALESCE((SELECT upto FROM sent WHERE id = 1), 0)"
                     "  AND place >= ?" },
    /* sender.c: the log acknowledged a row */
    { "outbox_done", "INSERT OR REPLACE INTO logged (id, log_index) VALUES (?, ?)" },
    /* sender.c, follower.c: rows still waiting (row ids are dense: max + 1, no deletes) */
    { "outbox_count", "SELECT (SELECT COALESCE(MAX(id), 0) FROM entries)"
                      "  - COALESCE((SELECT upto FROM sent WHERE id = 1), 0)" },
    /* follower.c: rows still waiting that the sender may send (below the epochs held) */
    { "outbox_due_count", "SELECT count(*) FROM entries"
                          "  WHERE id > COALESCE((SELECT upto FROM sent WHERE id = 1), 0)"
                          "  AND place < ?" },
    /* sender.c: every row up to this one is acknowledged */
    { "sent_upto", "SELECT COALESCE((SELECT upto FROM sent WHERE id = 1), 0)" },
    /* follower.c: a context's rows still waiting, and its rows logged at or after a size */
    { "context_unsent", "SELECT COUNT(*) FROM entries WHERE context = ?"
                        "  AND id > COALESCE((SELECT upto FROM sent WHERE id = 1), 0)" },
    { "context_logged_after", "SELECT COUNT(*) FROM logged l JOIN entries e USING (id)"
                              "  WHERE e.context = ? AND l.log_index >= ?" },
    /* follower.c: the leaf hashes of our rows logged at [from, to), in index order */
    { "own_leaves", "SELECT l.log_index, e.hash FROM logged l JOIN entries e USING (id)"
                    "  WHERE l.log_index >= ? AND l.log_index < ? ORDER BY l.log_index" },
    /* follower.c: the actions and statements that entries [from, to) of the log hold */
    { "logged_range", "SELECT e.context, e.label, e.rating, e.pseudonym, e.id FROM logged l"
                      "  JOIN entries e USING (id) WHERE l.log_index >= ? AND l.log_index < ?"
                      "  AND e.label IS NOT NULL" },
    /* h_contexts.c: a statement's row (its entry) */
    { "entry_bytes", "SELECT entry FROM entries WHERE id = ?" },
    /* sender.c, follower.c */
    { "sent_get", "SELECT known_size FROM sent WHERE id = 1" },
    { "sent_put", "INSERT INTO sent (id, known_size, upto) VALUES (1, ?, ?) ON CONFLICT (id)"
                  "  DO UPDATE SET known_size = MAX(known_size, excluded.known_size),"
                  "  upto = MAX(upto, excluded.upto)" },
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
    return ov_db_open_in(dir, "verifier.db", 0, &schema, NULL, out);
}
