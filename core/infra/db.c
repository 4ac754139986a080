/* db: see db.h. Open = pragmas (read back), migrations, prepared statements. */
#include "infra/db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

struct ov_db {
    sqlite3 *conn;
    const struct ov_db_stmt_def *defs; /* borrowed from the schema */
    sqlite3_stmt **stmts;              /* stmts[i] is defs[i], prepared */
    size_t n_stmts;
};

/* Open-time failures are configuration or programming errors: say what SQLite said. */
static void
db_log(const struct ov_db *db, int line, const char *what, int rc)
{
    fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, line, what,
            db->conn != NULL ? sqlite3_errmsg(db->conn) : "no connection", ov_strerror(rc));
}

int
ov_db_err(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -OV_E_DB_BUSY;
    case SQLITE_NOMEM:
        return -OV_E_NOMEM;
    case SQLITE_TOOBIG:
        return -OV_E_TOO_BIG;
    case SQLITE_RANGE:
        return -OV_E_RANGE;
    case SQLITE_FULL:
        return -OV_E_FULL; /* its own cause: the operator frees space, writes resume */
    case SQLITE_READONLY:
        return -OV_E_READ_ONLY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return -OV_E_CORRUPT;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        return -OV_E_IO;
    case SQLITE_CONSTRAINT:
        /* a uniqueness rule: the write repeats or races one already made (409) */
        if (sqlite_rc == SQLITE_CONSTRAINT_UNIQUE || sqlite_rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return -OV_E_CONFLICT;
        }
        return -OV_E_DB;
    default:
        return -OV_E_DB;
    }
}

/* A full disk, a read-only or a damaged file is the operator's to fix, and the answer a
 * client gets ("disk_full", "read_only", "db_corrupt") does not say where: say it on stderr,
 * naming the file and its directory, at most every OV_DB_SAY_S seconds per cause (a full
 * disk fails every write). */
#define OV_DB_SAY_S 10
static void
say_cause(sqlite3 *conn, int err, const char *why)
{
    static _Atomic long last[3] = { -OV_DB_SAY_S, -OV_DB_SAY_S, -OV_DB_SAY_S };
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    _Atomic long *l = &last[err == -OV_E_FULL ? 0 : (err == -OV_E_READ_ONLY ? 1 : 2)];
    long was = atomic_load(l);
    if (now.tv_sec - was < OV_DB_SAY_S || !atomic_compare_exchange_strong(l, &was, now.tv_sec)) {
        return;
    }
    const char *file = sqlite3_db_filename(conn, "main");
    file = file != NULL && file[0] != '\0' ? file : "(memory)";
    const char *slash = strrchr(file, '/');
    int dir_len = slash == NULL ? 1 : (slash == file ? 1 : (int)(slash - file));
    const char *dir = slash == NULL ? "." : file;
    if (err == -OV_E_FULL) {
        fprintf(stderr, "%s: disk full: cannot write %s (%s): free space on the file system of "
                        "the data directory %.*s; what failed was not acknowledged, and writes "
                        "resume once there is room\n",
                program_invocation_short_name, file, why, dir_len, dir);
    } else if (err == -OV_E_READ_ONLY) {
        fprintf(stderr, "%s: read-only: cannot write %s (%s): the data directory %.*s and its "
                        "files must be writable by this user (not a read-only mount, chattr "
                        "+i or a file mode)\n",
                program_invocation_short_name, file, why, dir_len, dir);
    } else {
        fprintf(stderr, "%s: database corrupt: %s (%s): stop the server and restore the file "
                        "from your backup (README.md, Operating notes)\n",
                program_invocation_short_name, file, why);
    }
}

/* ov_db_err of the connection's last failure, refined by the system's errno (an fsync or
 * a shared-memory write that found no space is an IOERR to SQLite). */
static int
conn_err(sqlite3 *conn)
{
    int rc = ov_db_err(sqlite3_extended_errcode(conn));
    if (rc == -OV_E_IO) {
        rc = ov_err_errno(sqlite3_system_errno(conn), rc);
    }
    if (rc == -OV_E_FULL || rc == -OV_E_READ_ONLY || rc == -OV_E_CORRUPT) {
        say_cause(conn, rc, sqlite3_errmsg(conn));
    }
    return rc;
}

int
ov_db_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        return OV_DB_ROW;
    }
    if (rc == SQLITE_DONE) {
        return OV_DB_DONE;
    }
    /* the extended code tells UNIQUE from other constraints */
    return conn_err(sqlite3_db_handle(st));
}

int
ov_db_exec(struct ov_db *db, const char *sql)
{
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) == SQLITE_OK) {
        return 0;
    }
    return conn_err(db->conn);
}

/* Runs a one-row query (a pragma) and compares its single value, as text, with want. */
static int
query_is(struct ov_db *db, const char *sql, const char *want)
{
    sqlite3_stmt *st = NULL;
    int rc = ov_db_err(sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL));
    if (rc == 0) {
        rc = ov_db_step(st);
        if (rc == OV_DB_ROW) {
            const unsigned char *got = sqlite3_column_text(st, 0);
            rc = (got != NULL && strcmp((const char *)got, want) == 0) ? 0 : -OV_E_DB;
        } else if (rc == OV_DB_DONE) {
            rc = -OV_E_DB;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int
user_version(struct ov_db *db, int64_t *v)
{
    sqlite3_stmt *st = NULL;
    *v = 0;
    int rc = ov_db_err(sqlite3_prepare_v2(db->conn, "PRAGMA user_version", -1, &st, NULL));
    if (rc == 0) {
        rc = ov_db_step(st);
        if (rc == OV_DB_ROW) {
            rc = ov_db_col_int64(st, 0, v);
        } else if (rc == OV_DB_DONE) {
            rc = -OV_E_DB;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

struct migrate_ctx {
    const struct ov_db_schema *schema;
    bool done;
};

/* One migration step, inside its own IMMEDIATE transaction: the version is read under
 * the write lock, so two processes opening a fresh file never both apply a script. */
static int
migrate_one(struct ov_db *db, void *arg)
{
    struct migrate_ctx *m = arg;
    int64_t v;
    m->done = false;
    int rc = user_version(db, &v);
    if (rc != 0) {
        return rc;
    }
    if (v < 0 || (uint64_t)v > m->schema->n_migrations) {
        /* written by a newer program: refuse to guess, and say so to the operator (a
         * downgrade after an upgrade migrated the file) */
        const char *file = sqlite3_db_filename(db->conn, "main");
        fprintf(stderr, "%s: the database's schema version is %lld, newer than the %llu this "
                        "program knows: a newer onevoice wrote it. Run that version again, or "
                        "restore a backup this version made (docs/OPERATIONS.md, \"Upgrades and database migrations\")\n",
                file != NULL && file[0] != '\0' ? file : "database", (long long)v,
                (unsigned long long)m->schema->n_migrations);
        return -OV_E_STATE;
    }
    if ((uint64_t)v == m->schema->n_migrations) {
        m->done = true;
        return 0;
    }
    rc = ov_db_exec(db, m->schema->migrations[(size_t)v]);
    if (rc != 0) {
        db_log(db, __LINE__, "migration failed", rc);
        return rc;
    }
    /* PRAGMA takes no ? bindings; the number is ours, not input. */
    char sql[64];
    int n = snprintf(sql, sizeof sql, "PRAGMA user_version=%lld", (long long)v + 1);
    if (n < 0 || (size_t)n >= sizeof sql) {
        return -OV_E_RANGE;
    }
    return ov_db_exec(db, sql);
}

static int
migrate(struct ov_db *db, const struct ov_db_schema *schema)
{
    struct migrate_ctx m = { schema, false };
    while (!m.done) {
        int rc = ov_db_tx(db, migrate_one, &m);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int
prepare_all(struct ov_db *db, const struct ov_db_schema *schema)
{
    if (schema->n_stmts == 0) {
        return 0;
    }
    db->stmts = calloc(schema->n_stmts, sizeof *db->stmts);
    if (db->stmts == NULL) {
        return -OV_E_NOMEM;
    }
    db->defs = schema->stmts;
    db->n_stmts = schema->n_stmts;
    for (size_t i = 0; i < schema->n_stmts; i++) {
        const char *tail = NULL;
        int rc = ov_db_err(sqlite3_prepare_v3(db->conn, schema->stmts[i].sql, -1,
                                              SQLITE_PREPARE_PERSISTENT, &db->stmts[i], &tail));
        /* empty SQL, or a second statement that sqlite would silently ignore */
        bool extra = tail != NULL && tail[strspn(tail, " \t\r\n")] != '\0';
        if (rc == 0 && (db->stmts[i] == NULL || extra)) {
            rc = -OV_E_DB;
        }
        if (rc != 0) {
            fprintf(stderr, "%s:%d: statement %s\n", __FILE__, __LINE__, schema->stmts[i].name);
            db_log(db, __LINE__, "prepare failed", rc);
            return rc;
        }
    }
    return 0;
}

/* A few milliseconds, doubling per attempt, randomised so that two writers that collided
 * do not collide again in lockstep. */
static void
backoff(int attempt)
{
    uint32_t max_us = 1000u << (attempt < 6 ? attempt : 6);
    uint32_t us = max_us / 2 + randombytes_uniform(max_us / 2);
    struct timespec ts = { 0, (long)us * 1000 };
    nanosleep(&ts, NULL);
}

int
ov_db_open(const char *path, unsigned flags, const struct ov_db_schema *schema,
           struct ov_db **out)
{
    static const struct ov_db_schema empty = { NULL, 0, NULL, 0 };
    const int open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                           SQLITE_OPEN_EXRESCODE;
    struct ov_db *db = NULL;
    int rc;
    *out = NULL;
    if (schema == NULL) {
        schema = &empty;
    }
    db = calloc(1, sizeof *db);
    if (db == NULL) {
        return -OV_E_NOMEM;
    }
    if (sqlite3_open_v2(path, &db->conn, open_flags, NULL) != SQLITE_OK) {
        rc = db->conn == NULL ? -OV_E_NOMEM : conn_err(db->conn);
        rc = rc == -OV_E_DB ? -OV_E_IO : rc;
        db_log(db, __LINE__, "open failed", rc);
        goto out;
    }
    /* SQLite opens a write-protected file read-only without failing: every write would */
    if (sqlite3_db_readonly(db->conn, "main") == 1) {
        rc = -OV_E_READ_ONLY;
        say_cause(db->conn, rc, "the file is write-protected: SQLite opened it read-only");
        goto out;
    }
    sqlite3_busy_timeout(db->conn, OV_DB_BUSY_TIMEOUT_MS);
    /* Each pragma is read back: journal_mode silently stays "memory" or "delete" where WAL
     * is impossible, and foreign_keys silently does nothing inside a transaction. */
    /* two connections opening a new file at once: the switch to WAL takes an exclusive
     * lock without calling the busy handler, so the loser retries here */
    for (int attempt = 0; attempt < OV_DB_TX_TRIES; attempt++) {
        if (attempt > 0) {
            backoff(attempt);
        }
        rc = query_is(db, "PRAGMA journal_mode=WAL", "wal");
        if (rc != -OV_E_DB_BUSY) {
            break;
        }
    }
    if (rc == 0) {
        rc = ov_db_exec(db, (flags & OV_DB_SYNC_NORMAL) ? "PRAGMA synchronous=NORMAL"
                                                        : "PRAGMA synchronous=FULL");
    }
    if (rc == 0) {
        rc = query_is(db, "PRAGMA synchronous", (flags & OV_DB_SYNC_NORMAL) ? "1" : "2");
    }
    if (rc == 0) {
        rc = ov_db_exec(db, "PRAGMA foreign_keys=ON");
    }
    if (rc == 0) {
        /* savepoint sub-journals and sort spills stay in memory: with a file they cost an
         * open, writes and an unlink per group commit */
        rc = ov_db_exec(db, "PRAGMA temp_store=MEMORY");
    }
    if (rc == 0) {
        rc = query_is(db, "PRAGMA foreign_keys", "1");
    }
    if (rc != 0) {
        db_log(db, __LINE__, "pragmas failed", rc);
        goto out;
    }
    rc = migrate(db, schema);
    if (rc != 0) {
        goto out;
    }
    rc = prepare_all(db, schema);
    if (rc != 0) {
        goto out;
    }
    *out = db;
    db = NULL;
out:
    ov_db_close(db);
    return rc;
}

void
ov_db_close(struct ov_db *db)
{
    if (db == NULL) {
        return;
    }
    for (size_t i = 0; i < db->n_stmts; i++) {
        sqlite3_finalize(db->stmts[i]);
    }
    free(db->stmts);
    /* close_v2: statements the caller prepared through the raw handle cannot keep the
     * file open forever */
    sqlite3_close_v2(db->conn);
    free(db);
}

sqlite3 *
ov_db_handle(struct ov_db *db)
{
    return db->conn;
}

void
ov_db_set_busy_timeout(struct ov_db *db, int timeout_ms)
{
    sqlite3_busy_timeout(db->conn, timeout_ms);
}

sqlite3_stmt *
ov_db_stmt(struct ov_db *db, const char *name)
{
    for (size_t i = 0; i < db->n_stmts; i++) {
        if (strcmp(db->defs[i].name, name) == 0) {
            ov_db_reset(db->stmts[i]);
            return db->stmts[i];
        }
    }
    fprintf(stderr, "%s:%d: no prepared statement named %s\n", __FILE__, __LINE__, name);
    abort(); /* a typo in our own code */
}

void
ov_db_reset(sqlite3_stmt *st)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* ---------------------------------------------------------------- transactions */

int
ov_db_tx(struct ov_db *db, ov_db_tx_fn fn, void *ctx)
{
    if (!sqlite3_get_autocommit(db->conn)) {
        return -OV_E_STATE; /* no nesting: the caller's transaction would be committed */
    }
    for (int attempt = 0; attempt < OV_DB_TX_TRIES; attempt++) {
        if (attempt > 0) {
            backoff(attempt);
        }
        int rc = ov_db_exec(db, "BEGIN IMMEDIATE");
        if (rc == -OV_E_DB_BUSY) {
            continue;
        }
        if (rc != 0) {
            return rc;
        }
        rc = fn(db, ctx);
        if (rc == 0) {
            rc = ov_db_exec(db, "COMMIT");
        }
        if (rc == 0) {
            return 0;
        }
        if (!sqlite3_get_autocommit(db->conn) && ov_db_exec(db, "ROLLBACK") != 0 &&
            !sqlite3_get_autocommit(db->conn)) {
            return -OV_E_DB; /* cannot even roll back: do not run fn again */
        }
        if (rc != -OV_E_DB_BUSY) {
            return rc;
        }
    }
    return -OV_E_DB_BUSY;
}

/* ---------------------------------------------------------------- binding */

static int
bind_rc(sqlite3_stmt *st, int rc)
{
    return rc == SQLITE_OK ? 0 : ov_db_err(sqlite3_extended_errcode(sqlite3_db_handle(st)));
}

static int
bind_blob(sqlite3_stmt *st, int idx, struct ov_bytes v, sqlite3_destructor_type how)
{
    /* a NULL pointer would bind SQL NULL rather than an empty blob */
    if (v.len == 0) {
        return bind_rc(st, sqlite3_bind_zeroblob(st, idx, 0));
    }
    return bind_rc(st, sqlite3_bind_blob64(st, idx, v.ptr, v.len, how));
}

static int
bind_text(sqlite3_stmt *st, int idx, const char *s, size_t n, sqlite3_destructor_type how)
{
    return bind_rc(st, sqlite3_bind_text64(st, idx, n == 0 ? "" : s, n, how, SQLITE_UTF8));
}

int
ov_db_bind_blob(sqlite3_stmt *st, int idx, struct ov_bytes v)
{
    return bind_blob(st, idx, v, SQLITE_TRANSIENT);
}

int
ov_db_bind_text(sqlite3_stmt *st, int idx, const char *s, size_t n)
{
    return bind_text(st, idx, s, n, SQLITE_TRANSIENT);
}

int
ov_db_bind_blob_ref(sqlite3_stmt *st, int idx, struct ov_bytes v)
{
    return bind_blob(st, idx, v, SQLITE_STATIC);
}

int
ov_db_bind_text_ref(sqlite3_stmt *st, int idx, const char *s, size_t n)
{
    return bind_text(st, idx, s, n, SQLITE_STATIC);
}

int
ov_db_bind_int64(sqlite3_stmt *st, int idx, int64_t v)
{
    return bind_rc(st, sqlite3_bind_int64(st, idx, v));
}

int
ov_db_bind_uint64(sqlite3_stmt *st, int idx, uint64_t v)
{
    if (v > INT64_MAX) {
        return -OV_E_RANGE; /* SQLite integers are signed 64-bit */
    }
    return ov_db_bind_int64(st, idx, (int64_t)v);
}

int
ov_db_bind_null(sqlite3_stmt *st, int idx)
{
    return bind_rc(st, sqlite3_bind_null(st, idx));
}

/* ---------------------------------------------------------------- columns */

/* A view of a blob or text column of the expected type and at most max_len bytes. */
static int
col_view(sqlite3_stmt *st, int col, int type, size_t max_len, struct ov_bytes *v)
{
    *v = (struct ov_bytes){ NULL, 0 };
    if (sqlite3_column_type(st, col) != type) {
        return -OV_E_MALFORMED;
    }
    /* SQLite's rule: ask for the pointer first, then the size of that representation */
    const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, col)
                                        : sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (n < 0 || (size_t)n > max_len || (p == NULL && n != 0)) {
        return -OV_E_MALFORMED;
    }
    *v = (struct ov_bytes){ p, (size_t)n };
    return 0;
}

int
ov_db_col_fixed(sqlite3_stmt *st, int col, void *dst, size_t n)
{
    struct ov_bytes v;
    int rc = col_view(st, col, SQLITE_BLOB, n, &v);
    if (rc == 0 && v.len != n) {
        rc = -OV_E_MALFORMED;
    }
    if (rc != 0) {
        if (n > 0) {
            memset(dst, 0, n);
        }
        return rc;
    }
    if (n > 0) {
        memcpy(dst, v.ptr, n);
    }
    return 0;
}

int
ov_db_col_blob(sqlite3_stmt *st, int col, size_t max_len, struct ov_bytes *v)
{
    return col_view(st, col, SQLITE_BLOB, max_len, v);
}

int
ov_db_col_text(sqlite3_stmt *st, int col, size_t max_len, struct ov_bytes *v)
{
    return col_view(st, col, SQLITE_TEXT, max_len, v);
}

int
ov_db_col_int64(sqlite3_stmt *st, int col, int64_t *v)
{
    *v = 0;
    if (sqlite3_column_type(st, col) != SQLITE_INTEGER) {
        return -OV_E_MALFORMED;
    }
    *v = sqlite3_column_int64(st, col);
    return 0;
}

int
ov_db_col_uint64(sqlite3_stmt *st, int col, uint64_t *v)
{
    int64_t x;
    *v = 0;
    int rc = ov_db_col_int64(st, col, &x);
    if (rc != 0 || x < 0) {
        return -OV_E_MALFORMED;
    }
    *v = (uint64_t)x;
    return 0;
}

bool
ov_db_col_is_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL;
}

static void
close_thread_db(void *db)
{
    ov_db_close(db);
}

int
ov_db_per_thread_init(struct ov_db_per_thread *p, const char *dir,
                      int (*open)(const char *dir, struct ov_db **out))
{
    p->dir = dir;
    p->open = open;
    return pthread_key_create(&p->key, close_thread_db) == 0 ? 0 : -OV_E_NOMEM;
}

struct ov_db *
ov_db_per_thread_get(struct ov_db_per_thread *p)
{
    struct ov_db *db = pthread_getspecific(p->key);
    if (db == NULL && p->open(p->dir, &db) == 0 && pthread_setspecific(p->key, db) != 0) {
        ov_db_close(db);
        db = NULL;
    }
    return db;
}

int
ov_db_open_in(const char *dir, const char *file, unsigned flags,
              const struct ov_db_schema *schema, const char *setup, struct ov_db **out)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, file);
    *out = NULL;
    if (n < 0 || (size_t)n >= sizeof path) {
        return -OV_E_TOO_BIG;
    }
    int rc = ov_db_open(path, flags, schema, out);
    if (rc == 0 && setup != NULL && (rc = ov_db_exec(*out, setup)) != 0) {
        ov_db_close(*out);
        *out = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- probing a file */

static void
probe_garbage(struct ov_db_probe *out, const char *why, const char *more)
{
    out->found = OV_DB_GARBAGE;
    snprintf(out->detail, sizeof out->detail, "%s%s%s", why, more ? ": " : "", more ? more : "");
}

/* One integer from a one-row query; the SQLite error text into out->detail on failure. */
static int
probe_int(sqlite3 *conn, const char *sql, int64_t *v, struct ov_db_probe *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(conn, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
        *v = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else {
        probe_garbage(out, "SQLite cannot read it", sqlite3_errmsg(conn));
        rc = rc == SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Reads the first row of every table (at most OV_DB_PROBE_TABLES): a page each, so a file
 * whose first page is intact but whose tables are garbage is found here, not by the
 * server's first request. */
#define OV_DB_PROBE_TABLES 256
static int
probe_roots(sqlite3 *conn, struct ov_db_probe *out)
{
    sqlite3_stmt *names = NULL;
    int rc = sqlite3_prepare_v2(conn, "SELECT name FROM sqlite_master WHERE type = 'table'",
                                -1, &names, NULL);
    for (int n = 0; rc == SQLITE_OK && n < OV_DB_PROBE_TABLES; n++) {
        rc = sqlite3_step(names);
        if (rc != SQLITE_ROW) {
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
            break;
        }
        /* %w: the name, a row of the file, quoted as an identifier */
        char *sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" LIMIT 1",
                                    (const char *)sqlite3_column_text(names, 0));
        sqlite3_stmt *st = NULL;
        rc = sql == NULL ? SQLITE_NOMEM : sqlite3_prepare_v2(conn, sql, -1, &st, NULL);
        rc = rc == SQLITE_OK ? sqlite3_step(st) : rc;
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
        if (rc != SQLITE_OK && rc != SQLITE_NOMEM) {
            probe_garbage(out, "SQLite cannot read its tables", sqlite3_errmsg(conn));
        }
        sqlite3_finalize(st);
        sqlite3_free(sql);
    }
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM && out->found != OV_DB_GARBAGE) {
        probe_garbage(out, "SQLite cannot read its tables", sqlite3_errmsg(conn));
    }
    sqlite3_finalize(names);
    return rc == SQLITE_OK || rc == SQLITE_NOMEM ? rc : SQLITE_ERROR;
}

int
ov_db_probe(const char *path, struct ov_db_probe *out)
{
    static const char magic[16] = "SQLite format 3";
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) {
            out->found = OV_DB_MISSING;
            return 0;
        }
        return -OV_E_IO;
    }
    if (!S_ISREG(sb.st_mode)) {
        probe_garbage(out, "not a regular file", NULL);
        return 0;
    }
    if (sb.st_size == 0) {
        out->found = OV_DB_EMPTY;
        return 0;
    }
    /* the header first: SQLite itself would take some non-databases for empty ones */
    char head[sizeof magic];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof head) : -1;
    if (fd >= 0) {
        close(fd); /* before SQLite opens it: no POSIX lock of its is dropped by this */
    }
    if (n < 0) {
        probe_garbage(out, "cannot read it", strerror(errno));
        return 0;
    }
    if ((size_t)n < sizeof magic || memcmp(head, magic, sizeof magic) != 0) {
        probe_garbage(out, "no SQLite header", NULL);
        return 0;
    }
    sqlite3 *conn = NULL;
    int rc = sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    int64_t tables = 0;
    if (rc != SQLITE_OK) {
        if (conn == NULL) {
            return -OV_E_NOMEM;
        }
        probe_garbage(out, "SQLite cannot open it", sqlite3_errmsg(conn));
    } else {
        sqlite3_busy_timeout(conn, OV_DB_BUSY_TIMEOUT_MS);
        /* nothing written: no checkpoint when it closes (beside a running server too) */
        sqlite3_db_config(conn, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        rc = probe_int(conn, "PRAGMA user_version", &out->user_version, out);
        if (rc == SQLITE_OK) {
            rc = probe_int(conn, "SELECT count(*) FROM sqlite_master", &tables, out);
        }
        if (rc == SQLITE_OK) {
            rc = probe_roots(conn, out);
        }
        if (rc == SQLITE_OK) {
            out->found = tables > 0 || out->user_version != 0 ? OV_DB_SCHEMA : OV_DB_NO_SCHEMA;
        }
    }
    sqlite3_close_v2(conn);
    return rc == SQLITE_NOMEM ? -OV_E_NOMEM : 0;
}

/* ---------------------------------------------------------------- copying a database */

static int
copy_fail(struct ov_db_copied *out, sqlite3 *conn, const char *what, int rc)
{
    if (out->detail[0] == '\0') {
        snprintf(out->detail, sizeof out->detail, "%s: %s", what,
                 conn != NULL ? sqlite3_errmsg(conn) : "no connection");
    }
    return rc;
}

/* One pragma's first value, as text, into buf. */
static int
copy_pragma(sqlite3 *conn, const char *sql, char *buf, size_t len, struct ov_db_copied *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(conn, sql, -1, &st, NULL);
    rc = rc == SQLITE_OK ? sqlite3_step(st) : rc;
    const unsigned char *v = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (v != NULL) {
        snprintf(buf, len, "%s", (const char *)v);
    }
    int err = v != NULL ? 0 : copy_fail(out, conn, sql, ov_db_err(rc) ? ov_db_err(rc) : -OV_E_DB);
    sqlite3_finalize(st);
    return err;
}

/* The whole database in one step: the source's read transaction lasts the step, so the
 * copy is one snapshot (a writer elsewhere goes on; WAL readers do not block it). */
static int
copy_pages(sqlite3 *src, sqlite3 *dst, struct ov_db_copied *out)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        int rc = ov_db_err(sqlite3_errcode(dst));
        return copy_fail(out, dst, "backup", rc ? rc : -OV_E_DB);
    }
    int rc = sqlite3_backup_step(b, -1);
    for (int attempt = 1; (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempt < OV_DB_TX_TRIES;
         attempt++) {
        backoff(attempt);
        rc = sqlite3_backup_step(b, -1);
    }
    int fin = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE && fin == SQLITE_OK) {
        return 0;
    }
    rc = rc != SQLITE_DONE ? rc : fin;
    snprintf(out->detail, sizeof out->detail, "copying: %s", sqlite3_errstr(rc));
    return ov_db_err(rc) ? ov_db_err(rc) : -OV_E_DB;
}

/* The copy: a file of its own (rollback journal, not WAL), whole, and its size. */
static int
copy_finish(sqlite3 *dst, struct ov_db_copied *out)
{
    char v[200] = "";
    int rc = copy_pragma(dst, "PRAGMA journal_mode=DELETE", v, sizeof v, out);
    if (rc == 0 && strcmp(v, "delete") != 0) {
        rc = copy_fail(out, dst, "journal_mode stays WAL", -OV_E_DB);
    }
    rc = rc ? rc : copy_pragma(dst, "PRAGMA integrity_check", v, sizeof v, out);
    if (rc == 0 && strcmp(v, "ok") != 0) {
        snprintf(out->detail, sizeof out->detail, "integrity_check: %.150s", v);
        rc = -OV_E_DB;
    }
    rc = rc ? rc : copy_pragma(dst, "PRAGMA page_count", v, sizeof v, out);
    out->pages = rc == 0 ? strtoll(v, NULL, 10) : 0;
    rc = rc ? rc : copy_pragma(dst, "PRAGMA page_size", v, sizeof v, out);
    out->page_size = rc == 0 ? strtoll(v, NULL, 10) : 0;
    return rc;
}

static int
fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -OV_E_IO;
    if (fd >= 0) {
        close(fd); /* SQLite's connection to it is closed already: no lock to drop */
    }
    return rc;
}

int
ov_db_copy(const char *from, const char *to, unsigned flags, struct ov_db_copied *out)
{
    static const char *const leftovers[] = { "-journal", "-wal", "-shm" };
    char side[4200];
    struct stat sb;
    memset(out, 0, sizeof *out);
    /* a journal or WAL beside the new file would be taken for its own */
    for (size_t i = 0; i < sizeof leftovers / sizeof leftovers[0]; i++) {
        int n = snprintf(side, sizeof side, "%s%s", to, leftovers[i]);
        if (n < 0 || (size_t)n >= sizeof side || lstat(side, &sb) == 0) {
            snprintf(out->detail, sizeof out->detail, "%.*s exists", 180, side);
            return -OV_E_EXISTS;
        }
    }
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(out->detail, sizeof out->detail, "%s: %s", to, strerror(e));
        return e == EEXIST ? -OV_E_EXISTS : -OV_E_IO;
    }
    /* exactly 0600 whatever the umask; closed before SQLite opens it (its locks stay) */
    int rc = fchmod(fd, 0600) == 0 ? 0 : -OV_E_IO;
    close(fd);
    sqlite3 *src = NULL, *dst = NULL;
    const int open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (rc == 0 && sqlite3_open_v2(from, &src, open_flags, NULL) != SQLITE_OK) {
        rc = copy_fail(out, src, from, src == NULL ? -OV_E_NOMEM : -OV_E_IO);
    }
    if (rc == 0) {
        /* beside a server: never checkpoint nor delete its WAL when this closes */
        sqlite3_db_config(src, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, (flags & OV_DB_COPY_LIVE) != 0,
                          NULL);
        sqlite3_busy_timeout(src, OV_DB_BUSY_TIMEOUT_MS);
    }
    if (rc == 0 && sqlite3_open_v2(to, &dst, open_flags, NULL) != SQLITE_OK) {
        rc = copy_fail(out, dst, to, dst == NULL ? -OV_E_NOMEM : -OV_E_IO);
    }
    if (rc == 0) {
        sqlite3_busy_timeout(dst, OV_DB_BUSY_TIMEOUT_MS);
    }
    rc = rc ? rc : copy_pages(src, dst, out);
    rc = rc ? rc : copy_finish(dst, out);
    if (sqlite3_close(dst) != SQLITE_OK && rc == 0) {
        rc = copy_fail(out, dst, "closing the copy", -OV_E_DB);
        sqlite3_close_v2(dst);
    }
    sqlite3_close_v2(src);
    if (rc == 0 && fsync_path(to) != 0) {
        snprintf(out->detail, sizeof out->detail, "fsync %s: %s", to, strerror(errno));
        rc = -OV_E_IO;
    }
    if (rc != 0) { /* only files this made: to and what SQLite made beside it */
        unlink(to);
        for (size_t i = 0; i < sizeof leftovers / sizeof leftovers[0]; i++) {
            int n = snprintf(side, sizeof side, "%s%s", to, leftovers[i]);
            if (n > 0 && (size_t)n < sizeof side) {
                unlink(side);
            }
        }
    }
    return rc;
}
