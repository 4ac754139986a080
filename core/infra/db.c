/* db: see db.h. Open = pragmas (read back), migrations, prepared statements. */
#include "infra/db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
    case SQLITE_IOERR:
    case SQLITE_FULL:
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
    return ov_db_err(sqlite3_extended_errcode(sqlite3_db_handle(st)));
}

int
ov_db_exec(struct ov_db *db, const char *sql)
{
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) == SQLITE_OK) {
        return 0;
    }
    return ov_db_err(sqlite3_extended_errcode(db->conn));
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
        return -OV_E_STATE; /* written by a newer program: refuse to guess */
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
        rc = db->conn == NULL ? -OV_E_NOMEM : -OV_E_IO;
        db_log(db, __LINE__, "open failed", rc);
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
