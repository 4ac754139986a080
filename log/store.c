#include "store.h"

#include <stdio.h>
#include <string.h>

#include "protocol/entry.h"

static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE leaves (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL)"
    "  STRICT;"
    "CREATE TABLE tiles (level INTEGER NOT NULL, n INTEGER NOT NULL, width INTEGER NOT NULL,"
    "  data BLOB NOT NULL, PRIMARY KEY (level, n)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE bundles (n INTEGER PRIMARY KEY, width INTEGER NOT NULL, data BLOB NOT NULL)"
    "  STRICT;"
    "CREATE TABLE head (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL,"
    "  root BLOB NOT NULL) STRICT;"
    "CREATE TABLE published (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL,"
    "  root BLOB NOT NULL, note TEXT NOT NULL) STRICT;"
    "CREATE TABLE nonces (nonce BLOB PRIMARY KEY, expires_ms INTEGER NOT NULL) STRICT,"
    "  WITHOUT ROWID;"
    "CREATE INDEX nonces_expiry ON nonces (expires_ms);"
    "CREATE TABLE witnesses (vkey TEXT PRIMARY KEY, size INTEGER NOT NULL) STRICT;",
    /* 2: the leaf hashes' index moves to memory (core/infra/rowmap, tlog_store_find): it wrote a
     * whole page of random keys per entry. The table is rebuilt without it. */
    "CREATE TABLE leaves_v2 (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL, data BLOB NOT NULL)"
    "  STRICT;"
    "INSERT INTO leaves_v2 (idx, hash, data) SELECT idx, hash, data FROM leaves;"
    "DROP TABLE leaves;"
    "ALTER TABLE leaves_v2 RENAME TO leaves;",
    /* 3: each producer's count of the entries it added (GET /producers/<name>), counted
     * from the size the log had when this migration ran (0 for a new log); IF NOT EXISTS:
     * a database set back to an older version keeps its counts */
    "CREATE TABLE IF NOT EXISTS producer_counts (name TEXT PRIMARY KEY,"
    "  entries INTEGER NOT NULL, last_index INTEGER NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS producer_counts_since (id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  size INTEGER NOT NULL) STRICT;"
    "INSERT OR IGNORE INTO producer_counts_since (id, size)"
    "  SELECT 1, COALESCE((SELECT size FROM head WHERE id = 1), 0);",
};

_Static_assert(OV_TILE_WIDTH == 256, "tile0_full names the full tile's width");

static const struct ov_db_stmt_def stmts[] = {
    /* seq.c: a new entry (its hash checked first: tlog_store_find) */
    { "leaf_insert", "INSERT INTO leaves (idx, hash, data) VALUES (?, ?, ?)" },
    /* store.c: the partial level-0 tile and bundle are read from the leaves themselves */
    { "leaf_range", "SELECT hash, data FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx" },
    /* tlog_store_find: a candidate index confirmed; tlog_store_load_hashes: all of them */
    { "leaf_check", "SELECT 1 FROM leaves WHERE idx = ? AND hash = ?" },
    { "leaf_hashes_from", "SELECT idx, hash FROM leaves WHERE idx >= ? ORDER BY idx" },
    /* tlog_store_load_hashes: the full level-0 tiles hold the leaf hashes, 32 bytes each,
     * so start-up reads those instead of every entry */
    { "tile0_full", "SELECT n, data FROM tiles WHERE level = 0 AND width = 256 ORDER BY n" },
    /* seq.c: a full or partial tile */
    { "tile_put", "INSERT OR REPLACE INTO tiles (level, n, width, data) VALUES (?, ?, ?, ?)" },
    /* store.c: one tile */
    { "tile_get", "SELECT width, data FROM tiles WHERE level = ? AND n = ?" },
    /* seq.c: a full or partial entry bundle */
    { "bundle_put", "INSERT OR REPLACE INTO bundles (n, width, data) VALUES (?, ?, ?)" },
    /* store.c, seq.c: one bundle */
    { "bundle_get", "SELECT width, data FROM bundles WHERE n = ?" },
    /* seq.c: the tree after a batch; never smaller than before */
    { "head_put", "INSERT INTO head (id, size, root) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE"
                  " SET size = excluded.size, root = excluded.root WHERE excluded.size >= size" },
    /* store.c */
    { "head_get", "SELECT size, root FROM head WHERE id = 1" },
    /* seq.c: a checkpoint was published */
    { "published_put",
      "INSERT INTO published (id, size, root, note) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
      " SET size = excluded.size, root = excluded.root, note = excluded.note"
      " WHERE excluded.size >= size" },
    /* store.c */
    { "published_get", "SELECT size, root, note FROM published WHERE id = 1" },
    /* seq.c: remember an append request's nonce until it expires */
    { "nonce_put", "INSERT OR IGNORE INTO nonces (nonce, expires_ms) VALUES (?, ?)" },
    /* seq.c: forget expired nonces */
    { "nonce_expire", "DELETE FROM nonces WHERE expires_ms < ?" },
    /* producers.c: the nonces still live at start-up */
    { "nonce_live", "SELECT nonce, expires_ms FROM nonces WHERE expires_ms >= ?" },
    /* seq.c: a producer added entries; h_producers.c: its count */
    { "producer_add", "INSERT INTO producer_counts (name, entries, last_index) VALUES (?, ?, ?)"
                      "  ON CONFLICT (name) DO UPDATE SET entries = entries + excluded.entries,"
                      "  last_index = excluded.last_index" },
    { "producer_get", "SELECT entries, last_index FROM producer_counts WHERE name = ?" },
    { "producer_since", "SELECT size FROM producer_counts_since WHERE id = 1" },
    /* witness.c: last size a witness cosigned */
    { "witness_get", "SELECT size FROM witnesses WHERE vkey = ?" },
    { "witness_put", "INSERT OR REPLACE INTO witnesses (vkey, size) VALUES (?, ?)" },
};

const struct ov_db_schema tlog_store_schema = {
    migrations, sizeof migrations / sizeof migrations[0], stmts, sizeof stmts / sizeof stmts[0],
};

int
tlog_store_open(const char *dir, struct ov_db **out)
{
    /* tiles and leaf lookups are the hot read path: give them some cache */
    return ov_db_open_in(dir, "log.db", 0, &tlog_store_schema, "PRAGMA cache_size = -65536", out);
}

/* Copies the first `want` entries of a stored bundle (which has `have` >= want). */
static int
bundle_prefix(struct ov_bytes data, unsigned have, unsigned want, struct ov_buf *out)
{
    struct ov_bytes entries[OV_TILE_WIDTH];
    size_t n = 0;
    int rc = ov_bundle_parse(data, have, entries, &n);
    if (rc != 0) {
        return -OV_E_MALFORMED;
    }
    for (unsigned i = 0; i < want && rc == 0; i++) {
        rc = ov_bundle_append(out, entries[i].ptr, entries[i].len);
    }
    return rc;
}

/* A partial level-0 tile or bundle: the first `width` leaves of tile n, from the leaves. */
static int
read_leaves(struct ov_db *db, const struct ov_tile *t, struct ov_buf *out)
{
    sqlite3_stmt *st = ov_db_stmt(db, "leaf_range");
    uint64_t first = t->n * OV_TILE_WIDTH;
    unsigned got = 0;
    int rc = ov_db_bind_uint64(st, 1, first);
    rc = rc ? rc : ov_db_bind_uint64(st, 2, first + t->width);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        struct ov_bytes hash, data;
        rc = ov_db_col_blob(st, 0, OV_HASH_LEN, &hash);
        rc = rc ? rc : ov_db_col_blob(st, 1, OV_MAX_ENTRY_LEN, &data);
        if (rc == 0 && hash.len != OV_HASH_LEN) {
            rc = -OV_E_MALFORMED;
        }
        if (rc == 0) {
            rc = t->level == OV_TILE_ENTRIES ? ov_bundle_append(out, data.ptr, data.len)
                                             : ov_buf_append(out, hash.ptr, hash.len);
            got++;
        }
    }
    ov_db_reset(st);
    if (rc < 0) {
        return rc;
    }
    return got == t->width ? 0 : -OV_E_NOT_FOUND;
}

int
tlog_store_read_tile(struct ov_db *db, const struct ov_tile *t, struct ov_buf *out)
{
    int bundle = t->level == OV_TILE_ENTRIES;
    if ((bundle || t->level == 0) && t->width < OV_TILE_WIDTH) {
        return read_leaves(db, t, out);
    }
    sqlite3_stmt *st = ov_db_stmt(db, bundle ? "bundle_get" : "tile_get");
    int rc = 0;
    if (bundle) {
        rc = ov_db_bind_uint64(st, 1, t->n);
    } else {
        rc = ov_db_bind_int64(st, 1, t->level);
        if (rc == 0) {
            rc = ov_db_bind_uint64(st, 2, t->n);
        }
    }
    if (rc != 0) {
        goto out;
    }
    rc = ov_db_step(st);
    if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
        goto out;
    }
    if (rc < 0) {
        goto out;
    }
    uint64_t have = 0;
    struct ov_bytes data;
    rc = ov_db_col_uint64(st, 0, &have);
    if (rc == 0) {
        rc = ov_db_col_blob(st, 1, OV_MAX_BUNDLE_LEN, &data);
    }
    if (rc != 0) {
        goto out;
    }
    if (have < t->width || have > OV_TILE_WIDTH) {
        rc = -OV_E_NOT_FOUND; /* not that wide yet */
        goto out;
    }
    if (bundle) {
        rc = bundle_prefix(data, (unsigned)have, t->width, out);
    } else if (data.len != have * OV_HASH_LEN) {
        rc = -OV_E_MALFORMED;
    } else {
        rc = ov_buf_append(out, data.ptr, (size_t)t->width * OV_HASH_LEN);
    }
out:
    ov_db_reset(st);
    return rc;
}

int
tlog_store_tile_reader(void *ctx, const struct ov_tile *t, uint8_t *out, size_t out_max,
                       size_t *out_len)
{
    struct ov_buf b;
    ov_buf_init(&b, out_max);
    *out_len = 0;
    int rc = tlog_store_read_tile(ctx, t, &b);
    if (rc == 0) {
        memcpy(out, b.ptr, b.len);
        *out_len = b.len;
    }
    ov_buf_clear(&b);
    return rc;
}

int
tlog_store_head(struct ov_db *db, uint64_t *size, uint8_t root[OV_HASH_LEN])
{
    sqlite3_stmt *st = ov_db_stmt(db, "head_get");
    int rc = ov_db_step(st);
    *size = 0;
    memcpy(root, ov_merkle_empty_root, OV_HASH_LEN);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, size);
        if (rc == 0) {
            rc = ov_db_col_fixed(st, 1, root, OV_HASH_LEN);
        }
    }
    ov_db_reset(st);
    return rc < 0 ? rc : 0;
}

int
tlog_store_published(struct ov_db *db, struct ov_buf *out, uint64_t *size,
                     uint8_t root[OV_HASH_LEN])
{
    sqlite3_stmt *st = ov_db_stmt(db, "published_get");
    uint64_t s = 0;
    uint8_t r[OV_HASH_LEN];
    struct ov_bytes note = { NULL, 0 };
    ov_buf_init(out, 1 << 16);
    int rc = ov_db_step(st);
    if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    }
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_uint64(st, 0, &s);
    }
    if (rc == 0) {
        rc = ov_db_col_fixed(st, 1, r, OV_HASH_LEN);
    }
    if (rc == 0) {
        rc = ov_db_col_text(st, 2, 1 << 16, &note);
    }
    if (rc == 0) {
        rc = ov_buf_append(out, note.ptr, note.len);
    }
    if (rc == 0) {
        if (size != NULL) {
            *size = s;
        }
        if (root != NULL) {
            memcpy(root, r, OV_HASH_LEN);
        }
    } else {
        ov_buf_clear(out);
    }
    ov_db_reset(st);
    return rc;
}

static int
leaf_key(struct ov_rowmap *hashes, const uint8_t hash[OV_HASH_LEN], uint32_t *key)
{
    struct ov_bytes part = OV_BYTES(hash, OV_HASH_LEN);
    return ov_rowmap_key(hashes, 0, &part, 1, key);
}

int
tlog_store_add_hash(struct ov_rowmap *hashes, const uint8_t hash[OV_HASH_LEN], uint64_t idx)
{
    uint32_t key = 0;
    int rc = leaf_key(hashes, hash, &key);
    return rc ? rc : ov_rowmap_put(hashes, key, idx);
}

/* The hashes of the full level-0 tiles, in order from 0; *next: the first leaf after. */
static int
load_tile_hashes(struct ov_db *db, struct ov_rowmap *hashes, uint64_t *next)
{
    sqlite3_stmt *st = ov_db_stmt(db, "tile0_full");
    int rc;
    *next = 0;
    while ((rc = ov_db_step(st)) == OV_DB_ROW) {
        uint64_t n = 0;
        rc = ov_db_col_uint64(st, 0, &n);
        const uint8_t *data = sqlite3_column_blob(st, 1);
        if (rc == 0 && (n != *next / OV_TILE_WIDTH || data == NULL ||
                        sqlite3_column_bytes(st, 1) != OV_TILE_MAX_LEN)) {
            rc = -OV_E_STATE; /* a gap or a short tile: the store is damaged */
        }
        for (size_t i = 0; i < OV_TILE_WIDTH && rc == 0; i++) {
            rc = tlog_store_add_hash(hashes, data + i * OV_HASH_LEN, *next + i);
        }
        if (rc != 0) {
            break;
        }
        *next += OV_TILE_WIDTH;
    }
    ov_db_reset(st);
    return rc == OV_DB_DONE ? 0 : (rc < 0 ? rc : -OV_E_MALFORMED);
}

int
tlog_store_load_hashes(struct ov_db *db, struct ov_rowmap **out)
{
    uint64_t next = 0;
    int rc = ov_rowmap_new(out);
    rc = rc ? rc : load_tile_hashes(db, *out, &next);
    sqlite3_stmt *st = ov_db_stmt(db, "leaf_hashes_from");
    rc = rc ? rc : ov_db_bind_uint64(st, 1, next);
    while (rc == 0 && (rc = ov_db_step(st)) == OV_DB_ROW) {
        uint64_t idx = 0;
        uint8_t hash[OV_HASH_LEN];
        rc = ov_db_col_uint64(st, 0, &idx);
        rc = rc ? rc : ov_db_col_fixed(st, 1, hash, sizeof hash);
        rc = rc ? rc : tlog_store_add_hash(*out, hash, idx);
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

static int
bind_hash(sqlite3_stmt *st, const void *hash)
{
    return ov_db_bind_blob(st, 2, OV_BYTES(hash, OV_HASH_LEN));
}

int
tlog_store_find(struct ov_db *db, struct ov_rowmap *hashes, const uint8_t hash[OV_HASH_LEN],
                uint64_t *idx)
{
    uint32_t key = 0;
    *idx = 0;
    int rc = leaf_key(hashes, hash, &key);
    sqlite3_stmt *st = ov_db_stmt(db, "leaf_check");
    rc = rc ? rc : ov_rowmap_confirm(hashes, key, st, bind_hash, hash, idx);
    return rc == 1 ? 0 : (rc == 0 ? -OV_E_NOT_FOUND : rc);
}
