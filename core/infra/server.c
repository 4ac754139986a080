#include "infra/server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "infra/addr.h"
#include "infra/httpc.h"
#include "infra/notify.h"
#include "infra/peers.h"
#include "infra/tls.h"
#include "base/codec.h"

#define N_COMMON 6

/* The connection limits any server takes (core/infra/http.h, "Connections"); set on the
 * HTTP configuration after the server's start callback, so they override its own. */
#define N_LIMITS 3
static const char *per_address_arg, *exempt_arg, *deadline_arg;

static int
check_limit(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n >= 1 && n <= 1000000 ? 0 : -OV_E_MALFORMED;
}

static const struct ov_cli_opt limit_opts[N_LIMITS] = {
    { "--max-conns-per-address", "N",
      "connections from one address; more are refused (default 256)", &per_address_arg,
      NULL, check_limit },
    { "--exempt-addresses", "LIST",
      "addresses not held to --max-conns-per-address, comma-separated, each ADDR or "
      "ADDR/BITS: a platform or reverse proxy that relays many people (default none)",
      &exempt_arg, NULL, ov_peers_check },
    { "--request-deadline", "S",
      "seconds a connection has for a complete request, headers and body, from its start "
      "or its previous request's end; then it is closed unanswered (default 10)",
      &deadline_arg, NULL, check_limit },
};

static void
limits_apply(struct ov_http_cfg *hcfg)
{
    uint64_t n;
    if (per_address_arg != NULL && ov_parse_u64(per_address_arg, strlen(per_address_arg), &n) == 0) {
        hcfg->per_ip_limit = (unsigned)n;
    }
    if (exempt_arg != NULL) {
        hcfg->exempt = exempt_arg;
    }
    if (deadline_arg != NULL && ov_parse_u64(deadline_arg, strlen(deadline_arg), &n) == 0) {
        hcfg->deadline_s = (unsigned)n;
    }
}

/* HTTPS (infra/tls.h): the certificate and its key, both or neither; and the CA file this
 * server's own clients (of the log, of the witnesses) trust, infra/httpc.h. */
#define N_TLS 3
static const char *tls_cert_arg, *tls_key_arg, *ca_arg;

static const struct ov_cli_opt tls_opts[N_TLS] = {
    { "--tls-cert", "FILE",
      "serve HTTPS (TLS 1.2 and 1.3) with this PEM certificate, its chain after it; SIGHUP "
      "reloads it and the key (default: plain HTTP)", &tls_cert_arg, NULL, NULL },
    { "--tls-key", "FILE",
      "the certificate's PEM private key, a file of this user's with mode 0600 or 0400",
      &tls_key_arg, NULL, NULL },
    { "--ca", "FILE",
      "when this server calls another over HTTPS (the log, a witness), trust the CA "
      "certificates in this PEM file instead of the system's store (default: the system's "
      "store, or the file in ONEVOICE_CA_FILE)", &ca_arg, NULL, NULL },
};

/* The server's certificate, made before prepare (a bad one stops the run before any key
 * or state is made); NULL for plain HTTP. *tls_expiry follows it in /metrics. */
static struct ov_tls *tls;
static struct ov_gauge *tls_expiry;

static int
tls_open(const struct ov_server *s)
{
    char why[OV_TLS_WHY_LEN], info[OV_TLS_INFO_LEN];
    if ((tls_cert_arg == NULL) != (tls_key_arg == NULL)) {
        fprintf(stderr, "%s: --tls-cert and --tls-key go together (see --help)\n", s->prog);
        return OV_SERVER_USAGE;
    }
    if (ca_arg != NULL && ov_httpc_set_ca_file(ca_arg) != 0) {
        fprintf(stderr, "%s: --ca: the path is too long\n", s->prog);
        return OV_SERVER_USAGE;
    }
    if (tls_cert_arg == NULL) {
        return 0;
    }
    int rc = ov_tls_open(tls_cert_arg, tls_key_arg, &tls, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "%s: refusing to start: TLS: %s\n", s->prog, why);
        return rc;
    }
    ov_tls_describe(tls, info, sizeof info);
    fprintf(stderr, "%s: TLS: certificate %s\n", s->prog, info);
    return 0;
}

/* SIGHUP: reads the certificate and key again; a bad pair leaves the current one serving. */
static void
tls_reload(const struct ov_server *s)
{
    char why[OV_TLS_WHY_LEN], info[OV_TLS_INFO_LEN];
    if (tls == NULL) {
        fprintf(stderr, "%s: SIGHUP: nothing to reload (no --tls-cert)\n", s->prog);
        return;
    }
    int rc = ov_tls_reload(tls, why, sizeof why);
    ov_tls_describe(tls, info, sizeof info);
    if (rc != 0) {
        fprintf(stderr, "%s: SIGHUP: TLS reload refused, still serving the certificate %s: "
                        "%s\n", s->prog, info, why);
    } else {
        fprintf(stderr, "%s: SIGHUP: TLS: reloaded, serving the certificate %s\n", s->prog, info);
        ov_gauge_set(tls_expiry, ov_tls_not_after(tls));
    }
}

/* Whether a SIGHUP is pending (it is blocked in every thread: see ov_server_main). */
static bool
hup_pending(void)
{
    sigset_t hup;
    struct timespec now = {0, 0};
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    return sigtimedwait(&hup, NULL, &now) == SIGHUP;
}

/* The configuration file (--config FILE): the values it sets point into it, so it lives
 * as long as the run. --init, --backup and --restore are commands of one run, never
 * settings: a file that held one would repeat it at every start. */
static const char *const commands[] = { "--init", "--backup", "--restore", NULL };
static struct ov_cli_conf conf = { commands, { NULL, 0, 0, 0 } };

/* --listen, --data, --port-file, --init, --backup, --restore, then the server's own: one
 * table for --help (which adds --config and --print-config, infra/cli.h). */
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
        { "--backup", "FILE",
          "copy the state, one consistent snapshot, to the new file FILE (0600) and exit; "
          "works while the server runs", &args->backup, NULL, NULL },
        { "--restore", "FILE",
          "with the server stopped and its usual options: put the backup FILE in place as "
          "the state (the current one moved aside) and exit", &args->restore, NULL, NULL },
    };
    size_t n_fixed = N_COMMON + N_LIMITS + N_TLS;
    struct ov_cli_opt *opts = calloc(n_fixed + s->n_opts, sizeof *opts);
    if (opts == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(opts, common, sizeof common);
    memcpy(opts + N_COMMON, limit_opts, sizeof limit_opts);
    memcpy(opts + N_COMMON + N_LIMITS, tls_opts, sizeof tls_opts);
    if (s->n_opts > 0) {
        memcpy(opts + n_fixed, s->opts, s->n_opts * sizeof *opts);
    }
    int rc = ov_cli_parse_conf(argc, argv, s->summary, opts, n_fixed + s->n_opts, &conf);
    free(opts);
    return rc;
}

/* Tells the service manager, when there is one (infra/notify.h, units/), what the server
 * does; a failure is said once and otherwise ignored: serving matters more than being seen. */
static void
tell_manager(const struct ov_server *s, const char *msg)
{
    static bool said;
    int rc = ov_notify(msg);
    if (rc < 0 && !said) {
        said = true;
        fprintf(stderr, "%s: cannot notify the service manager ($NOTIFY_SOCKET): %s\n", s->prog,
                ov_strerror(rc));
    }
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
        fprintf(stderr, "%s: %s%sserving %s on port %u\n", s->prog, what, what[0] ? ", " : "",
                tls != NULL ? "HTTPS" : "HTTP", ov_http_port(http));
        /* listening, the state open, the port file written: ready */
        char ready[64];
        snprintf(ready, sizeof ready, "READY=1\nSTATUS=serving %s on port %u",
                 tls != NULL ? "HTTPS" : "HTTP", ov_http_port(http));
        tell_manager(s, ready);
    }
    /* a reload is at most this late: the stop signals are waited for, SIGHUP looked at */
    while (rc == 0 && !ov_cli_wait_ms(250)) {
        if (hup_pending()) {
            char reloading[64];
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            snprintf(reloading, sizeof reloading, "RELOADING=1\nMONOTONIC_USEC=%llu",
                     (unsigned long long)now.tv_sec * 1000000ull +
                         (unsigned long long)now.tv_nsec / 1000ull);
            tell_manager(s, reloading);
            tls_reload(s);
            tell_manager(s, "READY=1");
        }
    }
    tell_manager(s, "STOPPING=1");
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

/* --init and --restore: move DIR/FILE, FILE-wal and FILE-shm, those that exist, to
 * NAME.STEM-TIME (never deleted: a state is not ours to discard). */
static int
move_aside(const char *prog, const char *dir, const char *file, const char *why,
           const char *stem)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    char from[4096], to[4200], tag[64];
    struct stat sb;
    snprintf(tag, sizeof tag, ".%s-%lld", stem, (long long)time(NULL));
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
            fprintf(stderr, "%s: %s: cannot move %s aside: %s\n", prog, why, from,
                    strerror(errno));
            return -OV_E_IO;
        }
        fprintf(stderr, "%s: %s: moved %s aside to %s\n", prog, why, from, to);
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
        rc = move_aside(s->prog, dir, s->state_file, "--init", "before-init");
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

/* ------------------------------------------------------------- backup and restore */

/* Gives tmp the name to, never over a file already there, durably. */
static int
install(const char *tmp, const char *to)
{
    int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, to, RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) { /* a file system without it */
        rc = link(tmp, to);
        rc = rc ? rc : unlink(tmp);
    }
    if (rc != 0) {
        return errno == EEXIST ? -OV_E_EXISTS : -OV_E_IO;
    }
    return ov_fsync_dir_of(to);
}

/* The server's own judgement of a copy (state_copy_check): 0, or refused (said). */
static int
copy_check(const struct ov_server *s, const char *copy, const char *what)
{
    char why[512] = "";
    int rc = s->state_copy_check != NULL ? s->state_copy_check(copy, why, sizeof why) : 0;
    if (rc == 1) {
        fprintf(stderr, "%s: refusing %s: %s\n", s->prog, what, why);
        return -OV_E_STATE;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: %s: cannot examine %s: %s\n", s->prog, what, copy, ov_strerror(rc));
    }
    return rc;
}

/* --backup FILE: beside the running server (no lock taken, no key loaded). */
static int
backup(const struct ov_server *s, const struct ov_server_args *args)
{
    const char *file = args->backup;
    char path[4096], tmp[4200], what[300];
    struct ov_db_probe p;
    struct ov_db_copied c;
    struct stat sb;
    int rc = path_in(path, sizeof path, args->data, s->state_file, "");
    rc = rc ? rc : ov_db_probe(path, &p);
    if (rc != 0) {
        fprintf(stderr, "%s: --backup: cannot examine %s: %s\n", s->prog, path, ov_strerror(rc));
        return rc;
    }
    if (p.found != OV_DB_SCHEMA) {
        fprintf(stderr, "%s: --backup: nothing to back up: %s %s\n", s->prog, path,
                found_text(&p, what, sizeof what));
        return -OV_E_STATE;
    }
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", file);
    if (lstat(file, &sb) == 0 || n < 0 || (size_t)n >= sizeof tmp) {
        fprintf(stderr, "%s: --backup: %s %s: a backup never replaces a file; name a new one\n",
                s->prog, file, n < 0 || (size_t)n >= sizeof tmp ? "is too long" : "exists");
        return -OV_E_EXISTS;
    }
    rc = ov_db_copy(path, tmp, OV_DB_COPY_LIVE, &c);
    if (rc == -OV_E_EXISTS) {
        fprintf(stderr, "%s: --backup: %s (left by an interrupted backup?): remove it, or name "
                        "another FILE\n", s->prog, c.detail);
    } else if (rc != 0) {
        fprintf(stderr, "%s: --backup: cannot copy %s to %s: %s (%s)\n", s->prog, path, tmp,
                c.detail, ov_strerror(rc));
    } else if ((rc = copy_check(s, tmp, "--backup")) != 0) {
        unlink(tmp);
    }
    if (rc == 0) {
        rc = install(tmp, file);
        if (rc != 0) {
            fprintf(stderr, "%s: --backup: cannot rename %s to %s: %s\n", s->prog, tmp, file,
                    rc == -OV_E_EXISTS ? "it exists now" : strerror(errno));
            unlink(tmp);
        }
    }
    if (rc == 0) {
        printf("%s: backed up %s to %s: %lld bytes (%lld pages), one consistent snapshot, "
               "integrity_check ok\n",
               s->prog, path, file, (long long)(c.pages * c.page_size), (long long)c.pages);
    }
    return rc;
}

/* --restore, when DIR held none of the key files: prepare made new ones just now, which
 * no state can belong to. They go again (no server can use them: the lock is ours). */
static int
restore_without_keys(const struct ov_server *s, const char *dir)
{
    char path[4096];
    for (const char *const *k = s->key_files; k != NULL && *k != NULL; k++) {
        if (path_in(path, sizeof path, dir, *k, "") == 0) {
            unlink(path);
        }
    }
    fprintf(stderr, "%s: refusing --restore: %s holds none of this server's key files (%s...): "
                    "put this deployment's key files back first, then restore (the keys made "
                    "just now were removed)\n",
            s->prog, dir, s->key_files[0]);
    return -OV_E_STATE;
}

/* --restore FILE: the lock is held and the keys are loaded. */
static int
restore(const struct ov_server *s, const struct ov_server_args *args)
{
    static const char *const sides[] = { "", "-journal", "-wal", "-shm" };
    const char *dir = args->data, *file = args->restore;
    char path[4096], tmp[4096], side[4200], what[300];
    struct ov_db_probe p;
    struct ov_db_copied c;
    uint8_t fp[32], was[32];
    bool bound = false;
    struct ov_bytes key = s->state_key != NULL ? s->state_key(s->app) : OV_BYTES(NULL, 0);
    int rc = path_in(path, sizeof path, dir, s->state_file, "");
    rc = rc ? rc : path_in(tmp, sizeof tmp, dir, s->state_file, ".restoring");
    rc = rc ? rc : ov_db_probe(file, &p);
    if (rc != 0) {
        fprintf(stderr, "%s: --restore: cannot examine %s: %s\n", s->prog, file, ov_strerror(rc));
        return rc;
    }
    if (p.found != OV_DB_SCHEMA) {
        fprintf(stderr, "%s: refusing --restore: %s %s, not a backup of a state\n", s->prog,
                file, found_text(&p, what, sizeof what));
        return -OV_E_STATE;
    }
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) { /* an interrupted restore's */
        snprintf(side, sizeof side, "%s%s", tmp, sides[i]);
        unlink(side);
    }
    rc = ov_db_copy(file, tmp, 0, &c); /* a backup: nobody writes it */
    if (rc != 0) {
        fprintf(stderr, "%s: refusing --restore: %s is not a whole database: %s (%s)\n",
                s->prog, file, c.detail, ov_strerror(rc));
        return rc;
    }
    memset(fp, 0, sizeof fp);
    memset(was, 0, sizeof was);
    if (key.len > 0) {
        crypto_hash_sha256(fp, key.ptr, key.len);
        rc = bound_key(tmp, was, &bound);
    }
    if (rc == 0 && bound && sodium_memcmp(was, fp, sizeof fp) != 0) {
        char h_was[FP_HEX + 1], h_fp[FP_HEX + 1];
        fp_hex(h_was, was);
        fp_hex(h_fp, fp);
        fprintf(stderr, "%s: refusing --restore: %s belongs to another deployment (it is bound "
                        "to the key with SHA-256 %s..., this server's key is %s...)\n",
                s->prog, file, h_was, h_fp);
        rc = -OV_E_STATE;
    } else if (rc != 0) {
        fprintf(stderr, "%s: refusing --restore: cannot read the deployment binding of %s\n",
                s->prog, file);
    }
    rc = rc ? rc : copy_check(s, tmp, "--restore");
    rc = rc ? rc : move_aside(s->prog, dir, s->state_file, "--restore", "replaced");
    if (rc == 0 && (rc = install(tmp, path)) != 0) {
        fprintf(stderr, "%s: --restore: cannot rename %s to %s: %s\n", s->prog, tmp, path,
                strerror(errno));
    }
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    printf("%s: restored %s from %s: %lld bytes (%lld pages), integrity_check ok, %s; start the "
           "server as usual\n",
           s->prog, path, file, (long long)(c.pages * c.page_size), (long long)c.pages,
           bound ? "bound to this deployment"
                 : "from before deployment bindings (bound to this one at the next start)");
    return 0;
}

static int
status_of(int rc)
{
    return rc == 0 || rc == OV_SERVER_DONE ? 0 : (rc == OV_SERVER_USAGE ? 2 : 1);
}

static int
run(const struct ov_server *s, int argc, char **argv)
{
    struct ov_server_args args = { NULL, NULL, NULL, false, NULL, NULL };
    /* first, before any thread: every thread then inherits the blocked stop signals, and
     * SIGHUP (a certificate reload), which the serving loop takes; unblocked, it would end
     * the process */
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    if (ov_cli_signals_init() != 0 || pthread_sigmask(SIG_BLOCK, &hup, NULL) != 0) {
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
    bool guarded = s->state_file != NULL && s->state_open != NULL;
    if ((args.backup != NULL) + (args.restore != NULL) + args.init > 1 ||
        ((args.backup != NULL || args.restore != NULL) && !guarded)) {
        fprintf(stderr, "%s: --backup, --restore and --init each go alone%s\n", s->prog,
                guarded ? "" : ", and this server keeps no state");
        return 2;
    }
    umask(077); /* databases, WAL files and keys: the owner's alone */
    if (args.backup != NULL) { /* beside the running server: no lock, no key */
        return status_of(backup(s, &args));
    }
    if (sodium_init() < 0 || ov_cli_harden() != 0 || ov_cli_data_dir(args.data) != 0) {
        return 1;
    }
    /* the certificate before prepare, so a bad one stops the run before any key is made
     * (keys without their database would read as a lost state at the next start) */
    rc = args.restore == NULL ? tls_open(s) : 0;
    if (rc != 0) {
        return status_of(rc);
    }
    /* a restore takes the lock first: never beside a running server, nor while it prepares */
    if (args.restore != NULL && ov_cli_lock_data_dir(args.data, s->prog) != 0) {
        fprintf(stderr, "%s: --restore works only while the server is stopped: stop it, then "
                        "restore\n", s->prog);
        return 1;
    }
    bool had_keys = guarded && key_file_in(s, args.data) != NULL;
    rc = s->prepare(s->app, &args);
    enum keys_were keys = had_keys ? KEYS_EXISTED
                                   : (guarded && key_file_in(s, args.data) != NULL ? KEYS_CREATED
                                                                                   : KEYS_NONE);
    if (args.restore != NULL) {
        if (rc == OV_SERVER_DONE) { /* a --print-* flag ended the run: nothing restored */
            fprintf(stderr, "%s: --restore goes without --print-* flags\n", s->prog);
            rc = OV_SERVER_USAGE;
        }
        if (keys == KEYS_CREATED) {
            rc = restore_without_keys(s, args.data);
        }
        rc = rc ? rc : restore(s, &args);
        s->stop(s->app);
        return status_of(rc);
    }
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
    if (rc == 0 && tls != NULL) {
        rc = ov_metrics_gauge(metrics, "tls_certificate_expiry_timestamp_seconds",
                              "When the served TLS certificate expires (POSIX seconds).", NULL,
                              &tls_expiry);
        ov_gauge_set(tls_expiry, rc == 0 ? ov_tls_not_after(tls) : 0);
    }
    if (rc == 0) {
        rc = s->start(s->app, &args, metrics, &hcfg);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot start: %s\n", s->prog, ov_strerror(rc));
        }
        if (rc == 0) {
            limits_apply(&hcfg);
            hcfg.tls = tls;
            rc = serve(s, &args, &hcfg);
        }
    }
    s->stop(s->app);
    ov_metrics_free(metrics);
    return status_of(rc);
}

int
ov_server_main(const struct ov_server *s, int argc, char **argv)
{
    int status = run(s, argc, argv);
    ov_cli_conf_free(&conf); /* after run: the settings read from it were in use until now */
    ov_tls_free(tls); /* after the HTTP server: its connections held the pairs they used */
    tls = NULL;
    return status;
}
