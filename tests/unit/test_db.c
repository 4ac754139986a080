/* Unit tests: core/infra/db on real SQLite files in a temporary folder. Pragmas (WAL confirmed),
 * migrations by user_version, prepared statements, transactions (commit, rollback, busy
 * retry and budget), UNIQUE -> -OV_E_CONFLICT, two threads with their own connections,
 * and column checks that refuse rows of the wrong shape. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "infra/db.h"
#include "../test.h"

static char dir[256];

static void
path_in_dir(char *out, size_t max, const char *name)
{
    int n = snprintf(out, max, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= max) {
        abort();
    }
}

static void
remove_db(const char *name)
{
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    char p[512], q[600];
    path_in_dir(p, sizeof p, name);
    for (size_t i = 0; i < 4; i++) {
        snprintf(q, sizeof q, "%s%s", p, suffix[i]);
        unlink(q);
    }
}

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL) STRICT;"
    "INSERT INTO counter (id, n) VALUES (1, 0);",
    /* 2 */
    "CREATE TABLE spent (nonce BLOB NOT NULL UNIQUE, ctx TEXT NOT NULL) STRICT;"
    "CREATE TABLE parent (id INTEGER PRIMARY KEY) STRICT;"
    "CREATE TABLE child (pid INTEGER NOT NULL REFERENCES parent(id)) STRICT;",
    /* 3: only in the "newer program" schema below */
    "CREATE TABLE applied (what TEXT NOT NULL) STRICT;"
    "INSERT INTO applied (what) VALUES ('m3');",
};

static const struct ov_db_stmt_def stmts[] = {
    /* the counter tests */
    { "counter_inc", "UPDATE counter SET n = n + 1 WHERE id = 1" },
    { "counter_get", "SELECT n FROM counter WHERE id = 1" },
    /* the conflict and column tests */
    { "spent_add", "INSERT INTO spent (nonce, ctx) VALUES (?, ?)" },
    { "spent_get", "SELECT nonce, ctx FROM spent WHERE ctx = ?" },
    { "spent_count", "SELECT count(*) FROM spent" },
};

static const struct ov_db_schema schema2 = { migrations, 2, stmts, 5 };
static const struct ov_db_schema schema3 = { migrations, 3, stmts, 5 };

static int64_t
query_int(struct ov_db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(ov_db_handle(db), sql, -1, &st, NULL) == SQLITE_OK &&
        ov_db_step(st) == OV_DB_ROW && ov_db_col_int64(st, 0, &v) != 0) {
        v = -2;
    }
    sqlite3_finalize(st);
    return v;
}

static void
open_db(const char *name, unsigned flags, const struct ov_db_schema *s, struct ov_db **db)
{
    char p[512];
    path_in_dir(p, sizeof p, name);
    CHECK_EQ_INT(ov_db_open(p, flags, s, db), 0);
}

static void
test_open_and_pragmas(void)
{
    struct ov_db *db = NULL;
    open_db("p.db", 0, &schema2, &db);
    CHECK(db != NULL);
    if (db == NULL) {
        return;
    }
    sqlite3_stmt *st = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(ov_db_handle(db), "PRAGMA journal_mode", -1, &st, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(ov_db_step(st), OV_DB_ROW);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
    sqlite3_finalize(st);
    CHECK_EQ_INT(query_int(db, "PRAGMA synchronous"), 2);
    CHECK_EQ_INT(query_int(db, "PRAGMA foreign_keys"), 1);
    CHECK_EQ_INT(query_int(db, "PRAGMA user_version"), 2);
    /* foreign keys are really enforced */
    CHECK_EQ_INT(ov_db_exec(db, "INSERT INTO child (pid) VALUES (42)"), -OV_E_DB);
    CHECK_EQ_INT(ov_db_exec(db, "INSERT INTO parent (id) VALUES (42)"), 0);
    CHECK_EQ_INT(ov_db_exec(db, "INSERT INTO child (pid) VALUES (42)"), 0);
    /* STRICT tables refuse the wrong type */
    CHECK_EQ_INT(ov_db_exec(db, "INSERT INTO parent (id) VALUES ('x')"), -OV_E_DB);
    ov_db_close(db);

    char p[512], wal[600];
    path_in_dir(p, sizeof p, "p.db");
    snprintf(wal, sizeof wal, "%s-wal", p);
    struct stat sb;
    CHECK_EQ_INT(stat(p, &sb), 0);

    /* NORMAL when asked */
    open_db("p.db", OV_DB_SYNC_NORMAL, &schema2, &db);
    CHECK_EQ_INT(query_int(db, "PRAGMA synchronous"), 1);
    CHECK_EQ_INT(stat(wal, &sb), 0); /* WAL file exists while open */
    ov_db_close(db);
    ov_db_close(NULL);

    /* no schema at all */
    open_db("empty.db", 0, NULL, &db);
    CHECK_EQ_INT(query_int(db, "PRAGMA user_version"), 0);
    ov_db_close(db);

    /* WAL impossible: an in-memory database answers "memory" */
    db = (struct ov_db *)&db;
    CHECK_EQ_INT(ov_db_open(":memory:", 0, NULL, &db), -OV_E_DB);
    CHECK(db == NULL);
    /* cannot open */
    CHECK_EQ_INT(ov_db_open("/nonexistent-dir/x.db", 0, NULL, &db), -OV_E_IO);
    CHECK(db == NULL);
    remove_db("p.db");
    remove_db("empty.db");
}

static void
test_migrations(void)
{
    struct ov_db *db = NULL;
    char p[512];
    path_in_dir(p, sizeof p, "m.db");
    /* migration 1 has no IF NOT EXISTS: reopening proves it ran once */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(ov_db_open(p, 0, &schema2, &db), 0);
        CHECK_EQ_INT(query_int(db, "PRAGMA user_version"), 2);
        CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM counter"), 1);
        ov_db_close(db);
    }
    /* a newer program adds migration 3, once */
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(ov_db_open(p, 0, &schema3, &db), 0);
        CHECK_EQ_INT(query_int(db, "PRAGMA user_version"), 3);
        CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM applied"), 1);
        ov_db_close(db);
    }
    /* the older program refuses a file from the future */
    db = (struct ov_db *)&db;
    CHECK_EQ_INT(ov_db_open(p, 0, &schema2, &db), -OV_E_STATE);
    CHECK(db == NULL);

    /* a failing migration leaves the file at its previous version, nothing half done */
    const char *const broken_m[] = {
        migrations[0],
        "CREATE TABLE half (x INTEGER) STRICT; THIS IS NOT SQL;",
    };
    const struct ov_db_schema broken = { broken_m, 2, NULL, 0 };
    path_in_dir(p, sizeof p, "b.db");
    CHECK_EQ_INT(ov_db_open(p, 0, &broken, &db), -OV_E_DB);
    static const struct ov_db_schema one = { migrations, 1, NULL, 0 };
    CHECK_EQ_INT(ov_db_open(p, 0, &one, &db), 0);
    CHECK_EQ_INT(query_int(db, "PRAGMA user_version"), 1);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'half'"), 0);
    ov_db_close(db);

    /* a statement that does not prepare, or that hides a second statement */
    static const struct ov_db_stmt_def bad1[] = { { "bad", "SELECT nope FROM counter" } };
    static const struct ov_db_stmt_def bad2[] = { { "two", "SELECT 1; SELECT 2" } };
    static const struct ov_db_stmt_def ok[] = { { "one", "SELECT 1;  \n" } };
    struct ov_db_schema s = { migrations, 1, bad1, 1 };
    CHECK_EQ_INT(ov_db_open(p, 0, &s, &db), -OV_E_DB);
    s.stmts = bad2;
    CHECK_EQ_INT(ov_db_open(p, 0, &s, &db), -OV_E_DB);
    s.stmts = ok;
    CHECK_EQ_INT(ov_db_open(p, 0, &s, &db), 0);
    sqlite3_stmt *st = ov_db_stmt(db, "one");
    CHECK_EQ_INT(ov_db_step(st), OV_DB_ROW);
    ov_db_reset(st);
    ov_db_close(db);
    remove_db("m.db");
    remove_db("b.db");
}

struct spend {
    const char *ctx;
    uint8_t nonce[32];
    int n_calls;
    int fail_with; /* returned after the insert, when nonzero */
    int busy_first; /* return -OV_E_DB_BUSY on this many first calls */
};

static int
spend_fn(struct ov_db *db, void *arg)
{
    struct spend *s = arg;
    s->n_calls++;
    sqlite3_stmt *st = ov_db_stmt(db, "spent_add");
    int rc = ov_db_bind_blob(st, 1, OV_BYTES(s->nonce, sizeof s->nonce));
    if (rc == 0) {
        rc = ov_db_bind_text(st, 2, s->ctx, strlen(s->ctx));
    }
    if (rc == 0) {
        rc = ov_db_step(st);
    }
    ov_db_reset(st);
    if (rc == 0 && s->busy_first > 0) {
        s->busy_first--;
        return -OV_E_DB_BUSY;
    }
    return rc != 0 ? rc : s->fail_with;
}

/* Commits the other connection's transaction after 10 ms (the connection is not used
 * by the main thread meanwhile, as SQLITE_OPEN_NOMUTEX requires). */
static void *
commit_later(void *arg)
{
    struct ov_db *other = arg;
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    if (ov_db_exec(other, "COMMIT") != 0) {
        abort();
    }
    return NULL;
}

static void
test_transactions(void)
{
    struct ov_db *db = NULL;
    open_db("t.db", 0, &schema2, &db);
    struct spend s = { .ctx = "round-1" };
    memset(s.nonce, 1, sizeof s.nonce);

    CHECK_EQ_INT(ov_db_tx(db, spend_fn, &s), 0);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM spent"), 1);
    /* the same nonce again: UNIQUE -> conflict, and the transaction is gone */
    CHECK_EQ_INT(ov_db_tx(db, spend_fn, &s), -OV_E_CONFLICT);
    CHECK(sqlite3_get_autocommit(ov_db_handle(db)));
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM spent"), 1);
    /* fn fails after writing: rolled back */
    s.nonce[0] = 2;
    s.fail_with = -OV_E_BAD_SIG;
    CHECK_EQ_INT(ov_db_tx(db, spend_fn, &s), -OV_E_BAD_SIG);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM spent"), 1);
    /* fn reports busy twice: the whole callback runs again, the earlier writes vanish */
    s.fail_with = 0;
    s.busy_first = 2;
    s.n_calls = 0;
    CHECK_EQ_INT(ov_db_tx(db, spend_fn, &s), 0);
    CHECK_EQ_INT(s.n_calls, 3);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM spent"), 2);
    /* always busy: the budget runs out */
    s.nonce[0] = 3;
    s.busy_first = 1000;
    s.n_calls = 0;
    CHECK_EQ_INT(ov_db_tx(db, spend_fn, &s), -OV_E_DB_BUSY);
    CHECK_EQ_INT(s.n_calls, OV_DB_TX_TRIES);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM spent"), 2);

    /* another connection holds the write lock: BEGIN IMMEDIATE is busy every time, fn
     * never runs, and the result is -OV_E_DB_BUSY */
    struct ov_db *other = NULL;
    open_db("t.db", 0, &schema2, &other);
    CHECK_EQ_INT(ov_db_exec(other, "BEGIN IMMEDIATE"), 0);
    ov_db_set_busy_timeout(db, 0);
    s.busy_first = 0;
    s.n_calls = 0;
    CHECK_EQ_INT(ov_db_tx(db, spend_fn, &s), -OV_E_DB_BUSY);
    CHECK_EQ_INT(s.n_calls, 0);
    /* nesting is refused */
    CHECK_EQ_INT(ov_db_tx(other, spend_fn, &s), -OV_E_STATE);
    CHECK_EQ_INT(ov_db_exec(other, "COMMIT"), 0);
    CHECK_EQ_INT(ov_db_tx(db, spend_fn, &s), 0);
    CHECK_EQ_INT(query_int(other, "SELECT count(*) FROM spent"), 3);

    /* the lock is released while ov_db_tx backs off: a later attempt gets it, and fn
     * runs exactly once (with no busy timeout, only ov_db_tx's own retry can wait) */
    CHECK_EQ_INT(ov_db_exec(other, "BEGIN IMMEDIATE"), 0);
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, commit_later, other), 0);
    s.nonce[0] = 4;
    s.n_calls = 0;
    CHECK_EQ_INT(ov_db_tx(db, spend_fn, &s), 0);
    CHECK_EQ_INT(s.n_calls, 1);
    CHECK_EQ_INT(pthread_join(t, NULL), 0);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM spent"), 4);
    ov_db_close(other);
    ov_db_close(db);
    remove_db("t.db");
}

static void
test_columns(void)
{
    struct ov_db *db = NULL;
    open_db("c.db", 0, &schema2, &db);
    /* rows of the wrong shape, as a corrupted or hostile file could hold */
    CHECK_EQ_INT(ov_db_exec(db, "INSERT INTO spent VALUES (zeroblob(32), 'good');"
                                "INSERT INTO spent VALUES (zeroblob(31), 'short');"
                                "INSERT INTO spent VALUES (zeroblob(33), 'long');"
                                "INSERT INTO spent VALUES (x'', 'empty');"),
                 0);
    static const struct {
        const char *ctx;
        int want;
    } rows[] = { { "good", 0 }, { "short", -OV_E_MALFORMED }, { "long", -OV_E_MALFORMED },
                 { "empty", -OV_E_MALFORMED } };
    for (size_t i = 0; i < 4; i++) {
        uint8_t nonce[32];
        memset(nonce, 0xee, sizeof nonce);
        sqlite3_stmt *st = ov_db_stmt(db, "spent_get");
        CHECK_EQ_INT(ov_db_bind_text(st, 1, rows[i].ctx, strlen(rows[i].ctx)), 0);
        CHECK_EQ_INT(ov_db_step(st), OV_DB_ROW);
        CHECK_EQ_INT(ov_db_col_fixed(st, 0, nonce, sizeof nonce), rows[i].want);
        static const uint8_t zero[32];
        CHECK_EQ_MEM(nonce, zero, sizeof zero); /* zeroed on failure, zeros on success */
        /* wrong types: text as blob, blob as text, either as integer */
        struct ov_bytes v;
        int64_t x;
        CHECK_EQ_INT(ov_db_col_fixed(st, 1, nonce, 4), -OV_E_MALFORMED);
        CHECK_EQ_INT(ov_db_col_blob(st, 1, 100, &v), -OV_E_MALFORMED);
        CHECK_EQ_INT(ov_db_col_text(st, 0, 100, &v), -OV_E_MALFORMED);
        CHECK(v.ptr == NULL && v.len == 0);
        CHECK_EQ_INT(ov_db_col_int64(st, 0, &x), -OV_E_MALFORMED);
        CHECK_EQ_INT(ov_db_col_text(st, 1, 100, &v), 0);
        CHECK(v.len == strlen(rows[i].ctx) && memcmp(v.ptr, rows[i].ctx, v.len) == 0);
        CHECK_EQ_INT(ov_db_col_text(st, 1, v.len - 1, &v), -OV_E_MALFORMED);
        CHECK_EQ_INT(ov_db_col_blob(st, 0, 32, &v), i == 2 ? -OV_E_MALFORMED : 0);
        CHECK_EQ_INT(ov_db_step(st), OV_DB_DONE);
        ov_db_reset(st);
    }
    /* integers, NULL and ranges */
    sqlite3_stmt *st = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(ov_db_handle(db), "SELECT -5, NULL, 7, 'x'", -1, &st, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(ov_db_step(st), OV_DB_ROW);
    int64_t x;
    uint64_t u;
    struct ov_bytes v;
    CHECK_EQ_INT(ov_db_col_int64(st, 0, &x), 0);
    CHECK_EQ_INT(x, -5);
    CHECK_EQ_INT(ov_db_col_uint64(st, 0, &u), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_db_col_uint64(st, 2, &u), 0);
    CHECK_EQ_INT(u, 7);
    CHECK(ov_db_col_is_null(st, 1));
    CHECK(!ov_db_col_is_null(st, 0));
    CHECK_EQ_INT(ov_db_col_int64(st, 1, &x), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_db_col_blob(st, 1, 10, &v), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_db_col_int64(st, 3, &x), -OV_E_MALFORMED);
    CHECK_EQ_INT(x, 0);
    sqlite3_finalize(st);

    /* binding: ranges, empty values are empty (not NULL) */
    CHECK_EQ_INT(ov_db_exec(db, "DELETE FROM spent WHERE ctx = 'empty'"), 0);
    st = ov_db_stmt(db, "spent_add");
    CHECK_EQ_INT(ov_db_bind_uint64(st, 1, (uint64_t)INT64_MAX + 1), -OV_E_RANGE);
    CHECK_EQ_INT(ov_db_bind_int64(st, 3, 1), -OV_E_RANGE);
    CHECK_EQ_INT(ov_db_bind_blob(st, 1, OV_BYTES(NULL, 0)), 0);
    CHECK_EQ_INT(ov_db_bind_text(st, 2, NULL, 0), 0);
    CHECK_EQ_INT(ov_db_step(st), OV_DB_DONE);
    ov_db_reset(st);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM spent WHERE nonce = x'' AND ctx = ''"), 1);
    st = ov_db_stmt(db, "spent_add");
    CHECK_EQ_INT(ov_db_bind_null(st, 1), 0);
    CHECK_EQ_INT(ov_db_bind_text(st, 2, "n", 1), 0);
    CHECK_EQ_INT(ov_db_step(st), -OV_E_DB); /* NOT NULL constraint: not a conflict */
    ov_db_reset(st);
    /* statements come back reset, bindings cleared */
    st = ov_db_stmt(db, "spent_count");
    CHECK_EQ_INT(ov_db_step(st), OV_DB_ROW);
    st = ov_db_stmt(db, "spent_count");
    CHECK_EQ_INT(ov_db_step(st), OV_DB_ROW);
    CHECK_EQ_INT(ov_db_col_uint64(st, 0, &u), 0);
    CHECK_EQ_INT(u, 4);
    ov_db_reset(st);
    ov_db_close(db);
    remove_db("c.db");
}

static void
test_err_map(void)
{
    CHECK_EQ_INT(ov_db_err(SQLITE_OK), 0);
    CHECK_EQ_INT(ov_db_err(SQLITE_DONE), 0);
    CHECK_EQ_INT(ov_db_err(SQLITE_BUSY), -OV_E_DB_BUSY);
    CHECK_EQ_INT(ov_db_err(SQLITE_BUSY_SNAPSHOT), -OV_E_DB_BUSY);
    CHECK_EQ_INT(ov_db_err(SQLITE_LOCKED), -OV_E_DB_BUSY);
    CHECK_EQ_INT(ov_db_err(SQLITE_CONSTRAINT_UNIQUE), -OV_E_CONFLICT);
    CHECK_EQ_INT(ov_db_err(SQLITE_CONSTRAINT_PRIMARYKEY), -OV_E_CONFLICT);
    CHECK_EQ_INT(ov_db_err(SQLITE_CONSTRAINT_NOTNULL), -OV_E_DB);
    CHECK_EQ_INT(ov_db_err(SQLITE_CONSTRAINT_FOREIGNKEY), -OV_E_DB);
    CHECK_EQ_INT(ov_db_err(SQLITE_IOERR_FSYNC), -OV_E_IO);
    CHECK_EQ_INT(ov_db_err(SQLITE_NOMEM), -OV_E_NOMEM);
    /* the operator's causes have their own codes (issue 23: not io_error, not "in use") */
    CHECK_EQ_INT(ov_db_err(SQLITE_FULL), -OV_E_FULL);
    CHECK_EQ_INT(ov_db_err(SQLITE_READONLY), -OV_E_READ_ONLY);
    CHECK_EQ_INT(ov_db_err(SQLITE_READONLY_DBMOVED), -OV_E_READ_ONLY);
    CHECK_EQ_INT(ov_db_err(SQLITE_CORRUPT), -OV_E_CORRUPT);
    CHECK_EQ_INT(ov_db_err(SQLITE_NOTADB), -OV_E_CORRUPT);
    CHECK_EQ_INT(ov_err_errno(ENOSPC, -OV_E_IO), -OV_E_FULL);
    CHECK_EQ_INT(ov_err_errno(EDQUOT, -OV_E_IO), -OV_E_FULL);
    CHECK_EQ_INT(ov_err_errno(EROFS, -OV_E_IO), -OV_E_READ_ONLY);
    CHECK_EQ_INT(ov_err_errno(EIO, -OV_E_IO), -OV_E_IO);
    CHECK(strcmp(ov_strerror(-OV_E_FULL), "disk_full") == 0);
    CHECK(strcmp(ov_strerror(-OV_E_READ_ONLY), "read_only") == 0);
    CHECK(strcmp(ov_strerror(-OV_E_CORRUPT), "db_corrupt") == 0);
    for (int e = 0; e < OV_E_COUNT; e++) { /* every code has its name */
        CHECK(strcmp(ov_strerror(-e), "unknown_error") != 0 && ov_strerror(-e)[0] != '\0');
    }
}

/* ---- two threads, each with its own connection, increment one counter */

#define N_INCREMENTS 1000

struct worker {
    const char *path;
    int rc;
    int done;
};

static int
inc_fn(struct ov_db *db, void *arg)
{
    (void)arg;
    sqlite3_stmt *st = ov_db_stmt(db, "counter_inc");
    int rc = ov_db_step(st);
    ov_db_reset(st);
    return rc;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct ov_db *db = NULL;
    /* both threads open (and migrate) the fresh file at the same moment */
    w->rc = ov_db_open(w->path, OV_DB_SYNC_NORMAL, &schema2, &db);
    for (int i = 0; i < N_INCREMENTS && w->rc == 0; i++) {
        w->rc = ov_db_tx(db, inc_fn, NULL);
        w->done += w->rc == 0;
    }
    ov_db_close(db);
    return NULL;
}

static void
test_threads(void)
{
    char p[512];
    path_in_dir(p, sizeof p, "threads.db");
    struct worker w[2] = { { p, 0, 0 }, { p, 0, 0 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(pthread_join(t[i], NULL), 0);
        CHECK_EQ_INT(w[i].rc, 0);
        CHECK_EQ_INT(w[i].done, N_INCREMENTS);
    }
    struct ov_db *db = NULL;
    open_db("threads.db", 0, &schema2, &db);
    CHECK_EQ_INT(query_int(db, "SELECT n FROM counter WHERE id = 1"), 2 * N_INCREMENTS);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM counter"), 1); /* migrated once */
    ov_db_close(db);
    remove_db("threads.db");
}

/* A store's one shape: DIR/FILE, then its setup SQL; a path too long is refused. */
static void
test_open_in(void)
{
    struct ov_db *db = NULL;
    CHECK_EQ_INT(ov_db_open_in(dir, "in.db", 0, &schema2, "PRAGMA cache_size = -4096", &db), 0);
    CHECK_EQ_INT(query_int(db, "PRAGMA cache_size"), -4096);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM counter"), 1); /* migrated */
    ov_db_close(db);
    CHECK_EQ_INT(ov_db_open_in(dir, "in.db", 0, &schema2, "NOT SQL", &db), -OV_E_DB);
    CHECK(db == NULL);
    char longdir[4200];
    memset(longdir, 'a', sizeof longdir - 1);
    longdir[sizeof longdir - 1] = 0;
    CHECK_EQ_INT(ov_db_open_in(longdir, "in.db", 0, &schema2, NULL, &db), -OV_E_TOO_BIG);
    CHECK(db == NULL);
    remove_db("in.db");
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ov_test_db.XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_err_map();
    test_open_and_pragmas();
    test_migrations();
    test_transactions();
    test_columns();
    test_threads();
    test_open_in();
    rmdir(dir);
    TEST_DONE("test_db");
}
