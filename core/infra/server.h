/* server: the life of every onevoice server, once. ov_server_main parses the options every
 * server shares (--listen, --data, --port-file, then the server's own), blocks the stop
 * signals before any thread exists, hardens the process, makes the data directory, lets the
 * server load its keys (where a --print-* flag may end the run), takes the data directory's
 * lock for the life of the process, lets the server open its state and start its threads,
 * serves HTTP (/healthz and /metrics included) until SIGINT or SIGTERM, and stops in the
 * one safe order: the HTTP server first (no request is left to wake), then the server's own
 * threads, then the metrics. With --tls-cert FILE --tls-key FILE (both or neither, checked
 * and loaded before prepare: a bad pair stops the run with a message, exit 1) it serves
 * HTTPS (infra/tls.h); SIGHUP, blocked in every thread like the stop signals, reloads the
 * pair while serving (a bad new pair is refused, said on stderr, and the old one serves on)
 * and is otherwise ignored. Every option that is a setting may also come from a
 * configuration file, `--config FILE` (the command line wins), and `--print-config` prints
 * the settings in force as such a file and exits: infra/cli.h, "Configuration files", the
 * same for every server through its option table. --init, --backup and --restore, like
 * every --print-* flag, are commands of one run and are refused in a file. No file is read
 * unless named: not /etc/onevoice/<server>.conf either. A server's main says only what is
 * its own:
 *
 *     static const struct ov_server spec = { "onevoice-log", summary, opts, n_opts, &app,
 *                                            prepare, start, serving, stop };
 *     int main(int argc, char **argv) { return ov_server_main(&spec, argc, argv); }
 *
 * The state and its keys. A server names its state database (state_file, opened, created
 * and migrated by state_open) and the key files in DIR it belongs to (key_files). Between
 * taking the lock and start, ov_server_main examines the database (ov_db_probe), and:
 *   - when a key file already existed before prepare, refuses (exit 1, saying which file,
 *     what it found and what to do) a database that is missing, empty (0 bytes, or no
 *     table and user_version 0) or unreadable: the state that went with the keys is lost,
 *     and starting empty would forget what the deployment did (count a spent token again,
 *     re-create a context, sign a second history, cosign an older checkpoint);
 *   - refuses an unreadable database in any case;
 *   - `--init` (args.init) lifts these two refusals: it moves what is there aside to
 *     FILE.before-init-TIME (FILE-wal and FILE-shm too) and begins a new empty state. It
 *     never discards a database that holds a state: with one, --init is refused;
 *   - binds the database to the deployment: the SHA-256 of state_key (the server's public
 *     key) is kept in its table ov_deployment, written when the database is created or,
 *     for a database from before the binding, at its next open. A database bound to
 *     another key is refused ("another deployment"), and --init does not override that;
 *     neither does it a database holding a state when the keys were created just now;
 *   - when prepare created the key files (a first start), creates the database at once,
 *     also when prepare ends the run (a --print-* flag, a usage error), so that keys
 *     without their database always mean a lost state.
 * A key given outside DIR (a --key FILE) is not a key file of DIR: such a server cannot
 * tell its first start from a lost database, and starts empty when its database is
 * missing (the binding still refuses another deployment's).
 *
 * Backup and restore, each a run of its own that exits when done (0, or 1 saying why):
 *   - `--backup FILE` runs beside the serving server (it takes no lock, loads no key): it
 *     copies DIR/state_file, one consistent snapshot, into FILE.tmp (0600) with SQLite's
 *     online backup API (ov_db_copy with OV_DB_COPY_LIVE: only SQLite opens the state, and
 *     never checkpoints it, so the server keeps its locks and its WAL), checks it (and
 *     state_copy_check, if any), fsyncs it and renames it to FILE (never over a file). It refuses an existing FILE and a state
 *     that is missing, empty or unreadable;
 *   - `--restore FILE`, with the server's usual options, takes the data directory's lock
 *     (so it refuses while the server runs), loads the keys, and refuses FILE unless it is
 *     a whole database (integrity_check) not bound to another deployment (nor one that
 *     state_copy_check refuses), and refuses when
 *     DIR held none of the key files (removing the ones prepare made just now). It moves
 *     the current state (with its -wal and -shm) aside to DIR/state_file.replaced-TIME,
 *     never deleting it, and puts a checked copy of FILE in its place (a temporary file in
 *     DIR, fsync, rename, fsync of DIR). The next start is an ordinary one.
 */
#ifndef OV_SERVER_H
#define OV_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/bytes.h"
#include "infra/cli.h"
#include "infra/db.h"
#include "infra/http.h"
#include "infra/metrics.h"

/* What prepare and start may return besides 0 and a negated ov_err (exit status 1, the
 * callback having said why on stderr). */
#define OV_SERVER_DONE  1 /* the run is over and succeeded (a --print-* flag): exit 0 */
#define OV_SERVER_USAGE 2 /* a required option is missing or wrong (said on stderr): exit 2 */

/* The options every server takes, parsed by ov_server_main. */
struct ov_server_args {
    const char *listen;    /* NULL: OV_ADDR_DEFAULT */
    const char *data;      /* required */
    const char *port_file; /* NULL: none */
    bool init;             /* --init: begin a new empty state although the keys exist */
    const char *backup;    /* --backup FILE: copy the state to FILE and exit */
    const char *restore;   /* --restore FILE: put FILE in place as the state and exit */
};

struct ov_server {
    const char *prog;              /* "onevoice-log": messages and the data directory's lock */
    const char *summary;           /* --help's paragraph */
    const struct ov_cli_opt *opts; /* the server's own options (after the common three) */
    size_t n_opts;
    void *app;                     /* handed to every callback */
    /* The data directory exists (0700, files created 0600); it is not locked yet, so a
     * --print-* flag works beside a running server. Loads or creates the keys. */
    int (*prepare)(void *app, const struct ov_server_args *args);
    /* The directory is locked: opens the state, starts the server's threads, and fills
     * hcfg (routes, user, and any limits; listen and metrics are set). m is the registry
     * /metrics renders. */
    int (*start)(void *app, const struct ov_server_args *args, struct ov_metrics *m,
                 struct ov_http_cfg *hcfg);
    /* Optional: the HTTP server is up (http), or about to stop (NULL): what the server's
     * threads wake goes through this pointer. */
    void (*serving)(void *app, struct ov_http *http);
    /* Called once at the end of every run that reached prepare, whatever happened: stops
     * the server's threads that are running and frees what prepare and start made, so it
     * must take a half-made app (NULL pointers for what was not made). */
    void (*stop)(void *app);
    /* Optional: what the "serving on port" line says of the server (its origin, its log). */
    void (*describe)(void *app, char *buf, size_t len);
    /* The state database DIR/state_file; state_open opens it as the server does (creating
     * and migrating it). NULL: the server keeps no state, nothing is guarded. */
    const char *state_file;
    int (*state_open)(const char *dir, struct ov_db **out);
    /* The key files in DIR the state belongs to, NULL-terminated. */
    const char *const *key_files;
    /* The public key the state is bound to, once prepare has loaded or created it (an
     * empty view before). */
    struct ov_bytes (*state_key)(void *app);
    /* Optional: whether a copy of the state (a backup being made, a file being restored)
     * can stand for the state later. 0: yes; 1: no, with why (one sentence) in why; < 0 an
     * error. The issuer refuses a state never checked against the log (issuer/logcheck.h). */
    int (*state_copy_check)(const char *file, char *why, size_t why_len);
};

/* Runs the server; returns the process's exit status (0, 1 failure, 2 usage). */
int ov_server_main(const struct ov_server *s, int argc, char **argv);

#endif
