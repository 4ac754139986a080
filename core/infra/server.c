#include "infra/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "infra/addr.h"

#define N_COMMON 4

/* --listen, --data, --port-file, --init, then the server's own: one table for --help. */
static int
parse(const struct ov_server *s, int argc, char **argv, struct ov_server_args *args)
{
    const struct ov_cli_opt common[N_COMMON] = {
        { "--listen", "HOST:PORT", "address to serve on (default 127.0.0.1:0)", &args->listen,
          NULL, ov_addr_check },
        { "--data", "DIR", "state directory (required; created 0700)", &args->data, NULL,
          NULL },
        { "--port-file", "FILE", "write the bound port here once serving", &args->port_file,
          NULL, NULL },
        { "--init", NULL,
          "begin a new, empty state although this server's keys exist (its database was "
          "lost: see README.md)", NULL, &args->init, NULL },
    };
    struct ov_cli_opt *opts = calloc(N_COMMON + s->n_opts, sizeof *opts);
    if (opts == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(opts, common, sizeof common);
    if (s->n_opts > 0) {
        memcpy(opts + N_COMMON, s->opts, s->n_opts * sizeof *opts);
    }
    int rc = ov_cli_parse(argc, argv, s->summary, opts, N_COMMON + s->n_opts);
    free(opts);
    return rc;
}

/* HTTP up, the port written, then serving until a stop signal. */
static int
serve(const struct ov_server *s, const struct ov_server_args *args, struct ov_http_cfg *hcfg)
{
    struct ov_http *http = NULL;
    int rc = ov_http_start(hcfg, &http);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot listen on %s: %s\n", s->prog,
                args->listen ? args->listen : OV_ADDR_DEFAULT, ov_strerror(rc));
        return rc;
    }
    if (s->serving != NULL) {
        s->serving(s->app, http);
    }
    if (args->port_file != NULL) {
        rc = ov_cli_write_port(args->port_file, ov_http_port(http));
    }
    if (rc == 0) {
        char what[512] = "";
        if (s->describe != NULL) {
            s->describe(s->app, what, sizeof what);
        }
        fprintf(stderr, "%s: %s%sserving on port %u\n", s->prog, what, what[0] ? ", " : "",
                ov_http_port(http));
    }
    while (rc == 0 && !ov_cli_wait_ms(UINT32_MAX)) {
    }
    if (s->serving != NULL) {
        s->serving(s->app, NULL);
    }
    ov_http_stop(http);
    return rc;
}

/* ------------------------------------------------------------- the state and its keys */

enum keys_were { KEYS_NONE, KEYS_CREATED, KEYS_EXISTED };

#define BIND_SQL_CREATE                                                                    \
    "CREATE TABLE IF NOT EXISTS ov_deployment (id INTEGER PRIMARY KEY CHECK (id = 1),"     \
    "  server TEXT NOT NULL, key_sha256 BLOB NOT NULL CHECK (length(key_sha256) = 32),"    \
    "  bound_at INTEGER NOT NULL) STRICT"
#define FP_HEX 16 /* hex digits of a fingerprint in messages */

static int
path_in(char *out, size_t max, const char *dir, const char *file, const char *suffix)
{
    int n = snprintf(out, max, "%s/%s%s", dir, file, suffix);
    return n < 0 || (size_t)n >= max ? -OV_E_TOO_BIG : 0;
}

/* The first of the server's key files that exists in dir, or NULL. */
static const char *
key_file_in(const struct ov_server *s, const char *dir)
{
    char path[4096];
    struct stat sb;
    for (const char *const *k = s->key_files; k != NULL && *k != NULL; k++) {
        if (path_in(path, sizeof path, dir, *k, "") == 0 && stat(path, &sb) == 0) {
            return *k;
        }
    }
    return NULL;
}

static void
fp_hex(char out[FP_HEX + 1], const uint8_t fp[32])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < FP_HEX / 2; i++) {
        out[2 * i] = digits[fp[i] >> 4];
        out[2 * i + 1] = digits[fp[i] & 15];
    }
    out[FP_HEX] = '\0';
}

/* The fingerprint a database holding a state is bound to (*bound false: none yet), read
 * before the server's migrations touch the file. */
static int
bound_key(const char *path, uint8_t fp[32], bool *bound)
{
    static const char *const sql[2] = {
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ov_deployment'",
        "SELECT key_sha256 FROM ov_deployment WHERE id = 1",
    };
    sqlite3 *conn = NULL;
    *bound = false;
    int rc = sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(conn, OV_DB_BUSY_TIMEOUT_MS);
    }
    bool has_table = false;
    for (int q = 0; q < 2 && rc == SQLITE_OK && (q == 0 || has_table); q++) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(conn, sql[q], -1, &st, NULL);
        rc = rc == SQLITE_OK ? sqlite3_step(st) : rc;
        if (rc == SQLITE_ROW && q == 0) {
            has_table = sqlite3_column_int64(st, 0) > 0;
            rc = SQLITE_OK;
        } else if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB &&
                   sqlite3_column_bytes(st, 0) == 32) {
            memcpy(fp, sqlite3_column_blob(st, 0), 32);
            *bound = true;
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE && q == 1) {
            rc = SQLITE_OK; /* the table without its row: not bound yet */
        } else {
            rc = SQLITE_CORRUPT;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close_v2(conn);
    return rc == SQLITE_OK ? 0 : -OV_E_DB;
}

/* Writes the binding into a database that has none, then reads it back. */
static int
bind_state(struct ov_db *db, const char *prog, const uint8_t fp[32])
{
    sqlite3_stmt *st = NULL;
    int rc = ov_db_exec(db, BIND_SQL_CREATE);
    if (rc == 0) {
        rc = ov_db_err(sqlite3_prepare_v2(ov_db_handle(db),
                                          "INSERT OR IGNORE INTO ov_deployment (id, server,"
                                          " key_sha256, bound_at) VALUES (1, ?, ?, ?)",
                                          -1, &st, NULL));
    }
    rc = rc ? rc : ov_db_bind_text(st, 1, prog, strlen(prog));
    rc = rc ? rc : ov_db_bind_blob(st, 2, OV_BYTES(fp, 32));
    rc = rc ? rc : ov_db_bind_int64(st, 3, (int64_t)time(NULL));
    rc = rc ? rc : ov_db_step(st);
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

/* --init: moves DIR/FILE, FILE-wal and FILE-shm, those that exist, to NAME.before-init-TIME. */
static int
move_aside(const char *prog, const char *dir, const char *file)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    char from[4096], to[4200], tag[64];
    struct stat sb;
    snprintf(tag, sizeof tag, ".before-init-%lld", (long long)time(NULL));
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (path_in(from, sizeof from, dir, file, suffixes[i]) != 0) {
            return -OV_E_TOO_BIG;
        }
        if (lstat(from, &sb) != 0) {
            continue;
        }
        int n = snprintf(to, sizeof to, "%s%s", from, tag);
        for (unsigned k = 1; n > 0 && (size_t)n < sizeof to && lstat(to, &sb) == 0; k++) {
            n = snprintf(to, sizeof to, "%s%s.%u", from, tag, k);
        }
        if (n < 0 || (size_t)n >= sizeof to || rename(from, to) != 0) {
            fprintf(stderr, "%s: --init: cannot move %s aside: %s\n", prog, from,
                    strerror(errno));
            return -OV_E_IO;
        }
        fprintf(stderr, "%s: --init: moved %s aside to %s\n", prog, from, to);
    }
    return 0;
}

static const char *
found_text(const struct ov_db_probe *p, char *buf, size_t len)
{
    switch (p->found) {
    case OV_DB_MISSING:
        return "is missing";
    case OV_DB_EMPTY:
        return "is empty (0 bytes)";
    case OV_DB_NO_SCHEMA:
        return "is an empty database (no table, user_version 0)";
    case OV_DB_GARBAGE:
        snprintf(buf, len, "is not a readable database (%s)", p->detail);
        return buf;
    case OV_DB_SCHEMA:
        break;
    }
    return "holds a state";
}

/* Why a lost or unreadable database is refused, and what to do. */
static void
say_lost(const struct ov_server *s, const char *dir, const char *path, const char *found,
         bool keys_existed, bool garbage)
{
    fprintf(stderr, "%s: refusing to start: %s %s", s->prog, path, found);
    if (keys_existed) {
        fprintf(stderr, ", but this server's keys already exist (%s/%s): the state that goes "
                        "with them was lost, and starting empty would forget what this "
                        "deployment already did",
                dir, key_file_in(s, dir));
    }
    fprintf(stderr, ".\n%s: restore %s from your backup (with the server stopped), or start "
                    "once with --init to begin a new, empty state deliberately%s.\n",
            s->prog, path, garbage ? " (it moves the file aside)" : "");
}

/* A database that holds a state must be bound to this key, or to none yet when the keys
 * existed (a database from before the binding); --init never discards it. */
static int
check_bound(const struct ov_server *s, const struct ov_server_args *args, const char *path,
            enum keys_were keys, const uint8_t fp[32], bool have_key, bool *bound)
{
    uint8_t was[32];
    memset(was, 0, sizeof was);
    int rc = bound_key(path, was, bound);
    if (rc != 0) {
        fprintf(stderr, "%s: refusing to start: cannot read the deployment binding of %s "
                        "(table ov_deployment): restore it from your backup\n", s->prog, path);
        return rc;
    }
    const char *why = NULL;
    if (*bound && have_key && sodium_memcmp(was, fp, 32) != 0) {
        why = "belongs to another deployment";
    } else if (!*bound && keys == KEYS_CREATED) {
        why = "holds a state, but this server's keys were created just now: its own keys are "
              "missing";
    }
    if (why != NULL) {
        char h_was[FP_HEX + 1], h_fp[FP_HEX + 1];
        fp_hex(h_was, was);
        fp_hex(h_fp, fp);
        fprintf(stderr, "%s: refusing to start: %s %s", s->prog, path, why);
        if (*bound) {
            fprintf(stderr, " (it is bound to the key with SHA-256 %s..., this server's key "
                            "is %s...)", h_was, h_fp);
        }
        fprintf(stderr, ".\n%s: restore this deployment's own %s from its backup. --init "
                        "does not override this: it never discards a database that holds a "
                        "state; move the file away yourself if you mean to.\n",
                s->prog, *bound ? path : "key files");
        return -OV_E_STATE;
    }
    if (args->init && keys == KEYS_EXISTED) {
        fprintf(stderr, "%s: refusing --init: %s holds this deployment's state, and --init "
                        "never discards a state. Start without --init.\n", s->prog, path);
        return -OV_E_STATE;
    }
    return 0;
}

/* The checks of server.h's "The state and its keys"; on success the database exists, holds
 * the server's schema and is bound to the server's key. */
static int
guard_state(const struct ov_server *s, const struct ov_server_args *args, enum keys_were keys)
{
    const char *dir = args->data;
    char path[4096], what[300];
    struct ov_db_probe p;
    struct ov_db *db = NULL;
    uint8_t fp[32], was[32];
    bool bound = false;
    struct ov_bytes key = s->state_key != NULL ? s->state_key(s->app) : OV_BYTES(NULL, 0);
    int rc = path_in(path, sizeof path, dir, s->state_file, "");
    rc = rc ? rc : ov_db_probe(path, &p);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot examine %s: %s\n", s->prog, path, ov_strerror(rc));
        return rc;
    }
    memset(fp, 0, sizeof fp);
    if (key.len > 0) {
        crypto_hash_sha256(fp, key.ptr, key.len);
    }
    const char *found = found_text(&p, what, sizeof what);
    bool garbage = p.found == OV_DB_GARBAGE;
    bool lost = keys == KEYS_EXISTED && p.found != OV_DB_SCHEMA;
    if ((lost || garbage) && !args->init) {
        say_lost(s, dir, path, found, keys == KEYS_EXISTED, garbage);
        return -OV_E_STATE;
    }
    if (p.found == OV_DB_SCHEMA) {
        rc = check_bound(s, args, path, keys, fp, key.len > 0, &bound);
    } else if (lost || garbage) { /* and --init */
        rc = move_aside(s->prog, dir, s->state_file);
        if (rc == 0) {
            fprintf(stderr, "%s: --init: %s %s: beginning a new, empty state\n", s->prog,
                    path, found);
        }
    }
    if (rc != 0) {
        return rc;
    }
    rc = s->state_open(dir, &db);
    if (rc == 0 && !bound && key.len > 0) {
        rc = bind_state(db, s->prog, fp);
    }
    ov_db_close(db);
    if (rc == 0 && key.len > 0) { /* read back: what the next start will compare */
        rc = bound_key(path, was, &bound);
        rc = rc ? rc : (bound && sodium_memcmp(was, fp, sizeof fp) == 0 ? 0 : -OV_E_STATE);
    }
    if (rc != 0) {
        fprintf(stderr, "%s: cannot open %s: %s\n", s->prog, path, ov_strerror(rc));
    }
    return rc;
}

static int
status_of(int rc)
{
    return rc == 0 || rc == OV_SERVER_DONE ? 0 : (rc == OV_SERVER_USAGE ? 2 : 1);
}

int
ov_server_main(const struct ov_server *s, int argc, char **argv)
{
    struct ov_server_args args = { NULL, NULL, NULL, false };
    /* first, before any thread: every thread then inherits the blocked stop signals */
    if (ov_cli_signals_init() != 0) {
        return 1;
    }
    int rc = parse(s, argc, argv, &args);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (args.data == NULL) {
        fprintf(stderr, "%s: --data DIR is required (see --help)\n", s->prog);
        return 2;
    }
    umask(077); /* databases, WAL files and keys: the owner's alone */
    if (sodium_init() < 0 || ov_cli_harden() != 0 || ov_cli_data_dir(args.data) != 0) {
        return 1;
    }
    bool guarded = s->state_file != NULL && s->state_open != NULL;
    bool had_keys = guarded && key_file_in(s, args.data) != NULL;
    rc = s->prepare(s->app, &args);
    enum keys_were keys = had_keys ? KEYS_EXISTED
                                   : (guarded && key_file_in(s, args.data) != NULL ? KEYS_CREATED
                                                                                   : KEYS_NONE);
    if (rc != 0) {
        /* keys made just now get their database with them, also when the run ends here:
         * keys without a database then always mean a lost state */
        if (keys == KEYS_CREATED && (rc == OV_SERVER_DONE || rc == OV_SERVER_USAGE)) {
            int grc = guard_state(s, &args, keys);
            rc = grc ? grc : rc;
        }
        s->stop(s->app);
        return status_of(rc);
    }
    struct ov_metrics *metrics = NULL;
    rc = ov_cli_lock_data_dir(args.data, s->prog);
    rc = rc ? rc : (guarded ? guard_state(s, &args, keys) : 0);
    rc = rc ? rc : ov_metrics_new(&metrics);
    struct ov_http_cfg hcfg;
    memset(&hcfg, 0, sizeof hcfg);
    hcfg.listen = args.listen;
    hcfg.metrics = metrics;
    if (rc == 0) {
        rc = s->start(s->app, &args, metrics, &hcfg);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot start: %s\n", s->prog, ov_strerror(rc));
        }
        if (rc == 0) {
            rc = serve(s, &args, &hcfg);
        }
    }
    s->stop(s->app);
    ov_metrics_free(metrics);
    return status_of(rc);
}
