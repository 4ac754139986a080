/* db: one SQLite connection (struct ov_db) with onevoice's pragmas, its schema migrations
 * and its table of prepared statements; transactions with bounded retry; typed binding and
 * column reading that treats rows as untrusted input.
 *
 * Threads: a connection is opened with SQLITE_OPEN_NOMUTEX and belongs to ONE thread.
 * Each thread of a server (each MHD pool thread) opens its own struct ov_db on the same
 * file; WAL lets readers run beside the one writer, and the database, not a mutex,
 * serialises writers (BEGIN IMMEDIATE plus the busy timeout and ov_db_tx's retries). */
#ifndef OV_DB_H
#define OV_DB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "base/bytes.h"
#include "base/err.h"

/* ov_db_open flags */
#define OV_DB_SYNC_NORMAL 0x1u /* synchronous=NORMAL: a commit may be lost on power
                                * failure (never corrupts). Default is FULL, which the log
                                * and every outbox need. */

#define OV_DB_BUSY_TIMEOUT_MS 5000 /* how long one statement waits for a lock */
#define OV_DB_TX_TRIES        8    /* ov_db_tx attempts before -OV_E_DB_BUSY */

/* One prepared statement: a constant name and constant SQL (values only as ? bindings).
 * Tables of these are static const arrays, one entry per use, each with a comment naming
 * its user. */
struct ov_db_stmt_def {
    const char *name;
    const char *sql;
};

/* What a component's database looks like: migrations[i] is the script that takes the
 * schema from PRAGMA user_version i to i + 1 (several statements; STRICT tables), and
 * the statements are prepared once, after migrating. Both arrays outlive the ov_db. */
struct ov_db_schema {
    const char *const *migrations;
    size_t n_migrations;
    const struct ov_db_stmt_def *stmts;
    size_t n_stmts;
};

struct ov_db;

/* Opens (creating if needed) the database at path: journal_mode=WAL (confirmed), then
 * synchronous=FULL (NORMAL with OV_DB_SYNC_NORMAL), foreign_keys=ON (confirmed), busy
 * timeout OV_DB_BUSY_TIMEOUT_MS; runs the migrations the file lacks, in one IMMEDIATE
 * transaction each, so concurrent openers apply each exactly once; prepares every
 * statement with SQLITE_PREPARE_PERSISTENT. schema may be NULL (no tables, no statements).
 * On success *out is a connection the caller owns (ov_db_close). Fails with -OV_E_IO
 * (cannot open), -OV_E_DB (a pragma, migration or statement failed), -OV_E_STATE (the
 * file's user_version is newer than this program's migrations), -OV_E_DB_BUSY,
 * -OV_E_NOMEM; *out is then NULL. */
OV_MUST_CHECK int ov_db_open(const char *path, unsigned flags,
                             const struct ov_db_schema *schema, struct ov_db **out);
/* ov_db_open on DIR/FILE, then `setup` (constant SQL such as pragmas; NULL for none): the
 * one shape of every server's store. The file takes the process's umask (servers run with
 * 077). -OV_E_TOO_BIG for a path over 4,095 bytes, else as ov_db_open and ov_db_exec. */
OV_MUST_CHECK int ov_db_open_in(const char *dir, const char *file, unsigned flags,
                                const struct ov_db_schema *schema, const char *setup,
                                struct ov_db **out);
/* What a database file holds, found without creating it (ov_db_probe): what a server
 * checks before it lets ov_db_open create and migrate its state. */
enum ov_db_found {
    OV_DB_MISSING,   /* no file at path */
    OV_DB_EMPTY,     /* a file of 0 bytes */
    OV_DB_GARBAGE,   /* not an SQLite database, or one SQLite cannot read */
    OV_DB_NO_SCHEMA, /* an SQLite database with no table and user_version 0 */
    OV_DB_SCHEMA,    /* an SQLite database with tables or a user_version */
};
struct ov_db_probe {
    enum ov_db_found found;
    int64_t user_version;
    char detail[200]; /* for GARBAGE: why, as SQLite or the file said it */
};
/* Examines the file at path: opened read-write without SQLITE_OPEN_CREATE (so a WAL file
 * beside it is read too), its header, user_version, table count and the first row of each
 * table (a page each: a file garbage after its first page is GARBAGE too) read, nothing
 * written; the connection is closed again.
 * The caller holds the data directory's lock. 0, or -OV_E_IO when the file cannot even be
 * looked at (stat fails other than ENOENT), -OV_E_NOMEM. */
OV_MUST_CHECK int ov_db_probe(const char *path, struct ov_db_probe *out);
/* What ov_db_copy wrote. */
struct ov_db_copied {
    int64_t pages, page_size; /* the copy's page count and page size */
    char detail[200];         /* on failure: why, as SQLite or the file system said it */
};
/* ov_db_copy flags */
#define OV_DB_COPY_LIVE 0x1u /* a server may be writing from: never checkpoint it on close */
/* Copies the database at from into a new file to, for a backup and a restore. SQLite opens
 * from (never created; with OV_DB_COPY_LIVE never checkpointed on close, so a server writing
 * it keeps its WAL even if it lost its locks; nothing here opens and closes it by hand) and
 * the online backup API copies it in one step, so one consistent snapshot while others keep
 * writing. Without the flag a WAL SQLite made beside from goes again. to is created 0600 with
 * O_EXCL, left in rollback-journal mode (one self-contained file), checked (PRAGMA
 * integrity_check) and fsynced; on failure it is removed. -OV_E_EXISTS (to exists), -OV_E_IO,
 * -OV_E_DB (from unreadable, or the copy not ok), -OV_E_DB_BUSY, -OV_E_NOMEM; out->detail
 * says why. */
OV_MUST_CHECK int ov_db_copy(const char *from, const char *to, unsigned flags,
                             struct ov_db_copied *out);
/* Finalizes the statements and closes the connection. Accepts NULL. */
void ov_db_close(struct ov_db *db);

/* A connection per thread to one database: a server's pool threads read without sharing
 * a connection (nor its locks). Each is opened on the thread's first use by open(dir) and
 * closed when the thread exits. */
struct ov_db_per_thread {
    pthread_key_t key;
    const char *dir;
    int (*open)(const char *dir, struct ov_db **out);
};
/* -OV_E_NOMEM when no thread key is left. dir must outlive p. */
OV_MUST_CHECK int ov_db_per_thread_init(struct ov_db_per_thread *p, const char *dir,
                                        int (*open)(const char *dir, struct ov_db **out));
/* The calling thread's connection, or NULL when it cannot be opened. */
struct ov_db *ov_db_per_thread_get(struct ov_db_per_thread *p);

/* The raw handle, for what the helpers do not cover. Still owned by db. */
sqlite3 *ov_db_handle(struct ov_db *db);
/* Sets this connection's busy timeout (tests, and callers that prefer failing fast). */
void ov_db_set_busy_timeout(struct ov_db *db, int timeout_ms);

/* The prepared statement named name, reset and with its bindings cleared. An unknown name
 * is a bug in the caller and aborts. Owned by db: never finalize it; call ov_db_reset
 * when done (at out:), because a stepped statement keeps its read snapshot open. */
sqlite3_stmt *ov_db_stmt(struct ov_db *db, const char *name);
/* sqlite3_reset and sqlite3_clear_bindings. Accepts NULL. */
void ov_db_reset(sqlite3_stmt *st);

/* Runs fn(db, ctx) inside BEGIN IMMEDIATE ... COMMIT. fn returns 0 to commit; any other
 * result (a -OV_E_* code) rolls back and is returned. When the database is busy or locked (BEGIN,
 * fn's statements returning -OV_E_DB_BUSY, or COMMIT), the whole transaction is rolled
 * back and fn runs again, up to OV_DB_TX_TRIES times with a short randomised backoff,
 * then -OV_E_DB_BUSY. So fn must be repeatable: no effects outside the database (no
 * HTTP, no sending), and it must reset whatever it writes into ctx at its start.
 * Calling it inside a transaction is a bug: -OV_E_STATE. */
typedef int (*ov_db_tx_fn)(struct ov_db *db, void *ctx);
OV_MUST_CHECK int ov_db_tx(struct ov_db *db, ov_db_tx_fn fn, void *ctx);

/* Runs constant SQL (one or more statements, no results). -OV_E_* as ov_db_step. */
OV_MUST_CHECK int ov_db_exec(struct ov_db *db, const char *sql);

/* Steps st: OV_DB_ROW (1) when a row is ready, OV_DB_DONE (0) when finished, or
 * -OV_E_DB_BUSY (busy or locked), -OV_E_CONFLICT (a UNIQUE or PRIMARY KEY constraint),
 * -OV_E_FULL (the disk is full), -OV_E_READ_ONLY (the file or its file system is),
 * -OV_E_CORRUPT (the file is damaged), -OV_E_IO, -OV_E_DB (anything else). The operator's
 * causes (full, read-only, corrupt) are also said on stderr with the file's path, at most
 * every 10 s each. ov_db_exec the same. */
#define OV_DB_DONE 0
#define OV_DB_ROW  1
OV_MUST_CHECK int ov_db_step(sqlite3_stmt *st);
/* The ov_err for a SQLite (extended) result code, as ov_db_step maps them; 0 for
 * SQLITE_OK, SQLITE_ROW and SQLITE_DONE. */
int ov_db_err(int sqlite_rc);

/* Binding (idx from 1). Values are copied (SQLITE_TRANSIENT), so the caller's memory may
 * go at once. Fail with -OV_E_RANGE (idx out of range, or a uint64 over INT64_MAX),
 * -OV_E_TOO_BIG, -OV_E_NOMEM, -OV_E_DB. */
OV_MUST_CHECK int ov_db_bind_blob(sqlite3_stmt *st, int idx, struct ov_bytes v);
OV_MUST_CHECK int ov_db_bind_text(sqlite3_stmt *st, int idx, const char *s, size_t n);
/* The same without SQLite's copy (SQLITE_STATIC): the bytes must stay where they are until
 * ov_db_reset(st). For the per-entry inserts, whose bytes outlive their step anyway. */
OV_MUST_CHECK int ov_db_bind_blob_ref(sqlite3_stmt *st, int idx, struct ov_bytes v);
OV_MUST_CHECK int ov_db_bind_text_ref(sqlite3_stmt *st, int idx, const char *s, size_t n);
OV_MUST_CHECK int ov_db_bind_int64(sqlite3_stmt *st, int idx, int64_t v);
OV_MUST_CHECK int ov_db_bind_uint64(sqlite3_stmt *st, int idx, uint64_t v);
OV_MUST_CHECK int ov_db_bind_null(sqlite3_stmt *st, int idx);

/* Reading the current row (col from 0). A row is input: each reader checks the column's
 * type and size before copying and fails with -OV_E_MALFORMED (wrong type, or a blob or
 * text over max_len / not exactly n bytes); outputs are zeroed on failure. Views point
 * into SQLite's memory and live until the next step or reset of st. A NULL column is a
 * wrong type everywhere except ov_db_col_is_null. */
OV_MUST_CHECK int ov_db_col_fixed(sqlite3_stmt *st, int col, void *dst, size_t n);
OV_MUST_CHECK int ov_db_col_blob(sqlite3_stmt *st, int col, size_t max_len,
                                 struct ov_bytes *v);
OV_MUST_CHECK int ov_db_col_text(sqlite3_stmt *st, int col, size_t max_len,
                                 struct ov_bytes *v);
OV_MUST_CHECK int ov_db_col_int64(sqlite3_stmt *st, int col, int64_t *v);
/* An integer column that must not be negative. */
OV_MUST_CHECK int ov_db_col_uint64(sqlite3_stmt *st, int col, uint64_t *v);
bool ov_db_col_is_null(sqlite3_stmt *st, int col);

#endif
