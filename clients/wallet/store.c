/* The wallet file: one SQLite database, mode 0600, secure_delete on (wiped secrets are
 * overwritten on disk too). Its rows are input like any other: every column is read
 * through ov_db's checked readers.
 *
 * Tables (migration 1):
 *   config     key -> value: issuer, verifier, log URLs, the log's vkey, witnesses, quorum
 *   identity   the enrollee key's seed (one row), its route and state
 *   head       the latest checkpoint this wallet verified (size, root, the note)
 *   contexts   pinned contexts: the exact entry proven in the log, and where
 *   evidence   what a server showed that the log contradicts (keys, forks), kept
 *   tokens     one per token: the one-time key's seed (its public key is the pseudonym,
 *              SHA-256 of it the nonce), the TokenRequest and blinding state while pending,
 *              the Token once issued; state pending -> ready -> spent, or refused
 *   actions    every signed action, stored before it is sent, and its receipt
 *
 * Migration 2 (statement rounds, docs/PROTOCOL.md §11.3): actions.text, a statement's text;
 * its target column is W_STATEMENT_TARGET followed by the statement's id, so the unique
 * index keeps one live row per statement as per rated target.
 *
 * Migration 3 (pacing, core/protocol/pacing.h): actions.send_at, the moment a held action
 * (state 'sending', signed and stored) is sent by `run`; actions.check_at, the moment of its
 * receipt's next scheduled check; fetch_plan, each context's moment to fetch its token. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "wallet.h"

#define W_APPLICATION_ID 0x4f565731 /* "OVW1" */

static const char *const migrations[] = {
    "PRAGMA application_id = 1331058481;"
    "CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
    "CREATE TABLE identity ("
    "  one INTEGER PRIMARY KEY CHECK (one = 1),"
    "  seed BLOB NOT NULL CHECK (length(seed) = 32),"
    "  route TEXT NOT NULL,"
    "  attempt BLOB NOT NULL,"          /* BLAKE2b of the code or token sent: a retry is ours */
    "  state TEXT NOT NULL CHECK (state IN ('enrolling', 'enrolled', 'assumed')),"
    "  recovered INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  enrolled_at INTEGER) STRICT;"
    "CREATE TABLE head ("
    "  one INTEGER PRIMARY KEY CHECK (one = 1),"
    "  size INTEGER NOT NULL,"
    "  root BLOB NOT NULL CHECK (length(root) = 32),"
    "  note TEXT NOT NULL,"
    "  seen_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE contexts ("
    "  id TEXT PRIMARY KEY,"
    "  entry BLOB NOT NULL,"
    "  log_index INTEGER NOT NULL,"
    "  checked_size INTEGER NOT NULL,"
    "  checked_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE evidence ("
    "  n INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  context TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  checkpoint TEXT NOT NULL,"
    "  at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE tokens ("
    "  n INTEGER PRIMARY KEY,"
    "  context TEXT NOT NULL REFERENCES contexts(id),"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'spent', 'refused')),"
    "  seed BLOB CHECK (seed IS NULL OR length(seed) = 32),"
    "  pseudonym BLOB NOT NULL UNIQUE CHECK (length(pseudonym) = 32),"
    "  request BLOB NOT NULL,"
    "  token_input BLOB,"
    "  inv BLOB,"
    "  token BLOB,"
    "  reason TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) STRICT;"
    /* at most one token being fetched or held unspent per context: two fetches running at
     * once resume the same request instead of spending quota twice */
    "CREATE UNIQUE INDEX tokens_live ON tokens(context) WHERE state IN ('pending', 'ready');"
    "CREATE TABLE actions ("
    "  n INTEGER PRIMARY KEY,"
    "  context TEXT NOT NULL REFERENCES contexts(id),"
    "  pseudonym BLOB NOT NULL CHECK (length(pseudonym) = 32),"
    "  target TEXT NOT NULL,"           /* '' for a vote */
    "  choice TEXT,"
    "  rating INTEGER,"
    "  platform TEXT NOT NULL,"
    "  with_token INTEGER NOT NULL,"
    "  sig BLOB NOT NULL CHECK (length(sig) = 64),"
    "  via TEXT,"
    "  state TEXT NOT NULL CHECK (state IN ('sending', 'counted', 'refused')),"
    "  reason TEXT,"
    "  hash BLOB CHECK (hash IS NULL OR length(hash) = 32),"
    "  receipt TEXT,"
    "  checked_at INTEGER,"
    "  check_result TEXT,"
    "  created_at INTEGER NOT NULL) STRICT;"
    /* one live action per pseudonym and target: a vote per token, a rating per target */
    "CREATE UNIQUE INDEX actions_live ON actions(context, pseudonym, target) "
    "  WHERE state <> 'refused';",
    "ALTER TABLE actions ADD COLUMN text TEXT;",
    /* 3: pacing (core/protocol/pacing.h): a signed action held until send_at, a receipt's
     * next scheduled check, each context's token fetched at its own moment */
    "ALTER TABLE actions ADD COLUMN send_at INTEGER;"
    "ALTER TABLE actions ADD COLUMN check_at INTEGER;"
    "CREATE TABLE fetch_plan ("
    "  context TEXT PRIMARY KEY REFERENCES contexts(id),"
    "  fetch_at INTEGER NOT NULL,"
    "  done_at INTEGER) STRICT;",
};

static const struct ov_db_stmt_def stmts[] = {
    /* init, w_open */
    { "config_set", "INSERT INTO config(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value" },
    { "config_get", "SELECT value FROM config WHERE key = ?" },
    { "app_id", "PRAGMA application_id" },
    /* enroll */
    { "id_get", "SELECT seed, state, attempt, route FROM identity WHERE one = 1" },
    { "id_insert", "INSERT INTO identity(one, seed, route, attempt, state, created_at) "
                   "VALUES (1, ?, ?, ?, 'enrolling', ?)" },
    { "id_state", "UPDATE identity SET state = ?, recovered = ?, enrolled_at = ? WHERE one = 1" },
    { "id_attempt", "UPDATE identity SET route = ?, attempt = ? WHERE one = 1 AND state = 'enrolling'" },
    /* net.c: the head */
    { "head_get", "SELECT size, root FROM head WHERE one = 1" },
    { "head_set", "INSERT INTO head(one, size, root, note, seen_at) VALUES (1, ?, ?, ?, ?) "
                  "ON CONFLICT(one) DO UPDATE SET size = excluded.size, root = excluded.root, "
                  "note = excluded.note, seen_at = excluded.seen_at" },
    { "evidence_add", "INSERT INTO evidence(kind, context, detail, checkpoint, at) "
                      "VALUES (?, ?, ?, ?, ?)" },
    /* net.c: contexts */
    { "ctx_get", "SELECT entry, log_index FROM contexts WHERE id = ?" },
    { "ctx_put", "INSERT INTO contexts(id, entry, log_index, checked_size, checked_at) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING" },
    /* contexts: what the wallet holds for one */
    { "tok_count", "SELECT count(*) FILTER (WHERE state = 'ready'),"
                   " count(*) FILTER (WHERE state = 'pending'),"
                   " count(*) FILTER (WHERE state = 'spent') FROM tokens WHERE context = ?" },
    /* fetch */
    { "tok_live", "SELECT n, state, request, token_input, inv FROM tokens "
                  "WHERE context = ? AND state IN ('pending', 'ready')" },
    { "tok_insert", "INSERT INTO tokens(context, state, seed, pseudonym, request, token_input, "
                    "inv, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?)" },
    { "tok_ready", "UPDATE tokens SET state = 'ready', token = ?, inv = NULL, token_input = NULL,"
                   " updated_at = ? WHERE n = ? AND state = 'pending'" },
    { "tok_refused", "UPDATE tokens SET state = 'refused', seed = NULL, inv = NULL, "
                     "token_input = NULL, reason = ?, updated_at = ? WHERE n = ? AND state = 'pending'" },
    /* vote, rate */
    { "tok_pick", "SELECT n, state, seed, pseudonym, token FROM tokens "
                  "WHERE context = ? AND state IN ('ready', 'spent') AND seed IS NOT NULL "
                  "ORDER BY state = 'spent' DESC, n DESC LIMIT 1" },
    { "tok_by_pseudonym", "SELECT n, state, seed, token FROM tokens WHERE pseudonym = ?" },
    { "tok_state", "UPDATE tokens SET state = ?, updated_at = ? WHERE n = ?" },
    { "tok_wipe", "UPDATE tokens SET seed = NULL, updated_at = ? WHERE n = ?" },
    { "tok_pick_ready", "SELECT n, state, seed, pseudonym, token FROM tokens "
                        "WHERE context = ? AND state = 'ready' AND seed IS NOT NULL "
                        "ORDER BY n LIMIT 1" },
    { "act_sending", "SELECT n, choice, rating FROM actions "
                     "WHERE context = ? AND target = ? AND state = 'sending' ORDER BY n LIMIT 1" },
    { "act_row", "SELECT pseudonym, platform, with_token, sig FROM actions WHERE n = ?" },
    { "act_counted_ctx", "SELECT count(*) FROM actions WHERE context = ? AND target = ? "
                         "AND state = 'counted'" },
    { "act_find", "SELECT n FROM actions WHERE context = ? AND pseudonym = ? AND target = ? "
                  "AND state <> 'refused'" },
    { "act_admitted", "SELECT count(*) FROM actions WHERE pseudonym = ? AND state = 'counted'" },
    { "act_insert", "INSERT INTO actions(context, pseudonym, target, choice, rating, text, "
                    "platform, with_token, sig, via, state, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending', ?)" },
    /* statement rounds: this pseudonym's statements (the round's quota), ours by target */
    { "act_statements", "SELECT count(*) FROM actions WHERE context = ? AND pseudonym = ? "
                        "AND text IS NOT NULL AND state <> 'refused'" },
    { "act_ours", "SELECT count(*) FROM actions WHERE context = ? AND target = ? "
                  "AND state <> 'refused'" },
    /* statements: what this wallet wrote and rated in a round */
    { "act_round", "SELECT target, text, rating, state FROM actions WHERE context = ? "
                   "AND state <> 'refused' ORDER BY n" },
    { "act_counted", "UPDATE actions SET state = 'counted', hash = ?, receipt = ?, reason = NULL "
                     "WHERE n = ?" },
    { "act_refused", "UPDATE actions SET state = 'refused', reason = ? WHERE n = ?" },
    /* receipts */
    { "act_all", "SELECT n, context, target, choice, rating, platform, state, reason, hash, "
                 "receipt, text FROM actions ORDER BY n" },
    { "act_receipt", "UPDATE actions SET receipt = ?, checked_at = ?, check_result = ? "
                     "WHERE n = ?" },
    /* receipt: one action's, the latest counted one first */
    { "act_receipt_of", "SELECT n, state, reason, hash, receipt FROM actions WHERE context = ? "
                        "AND target = ? ORDER BY state = 'counted' DESC, n DESC LIMIT 1" },
    { "act_receipt_checked", "UPDATE actions SET checked_at = ?, check_result = ? WHERE n = ?" },
    /* pacing: held actions (vote, rate, statement, run) */
    { "act_hold", "UPDATE actions SET send_at = ? WHERE n = ?" },
    { "act_send_at", "SELECT send_at FROM actions WHERE n = ? AND state = 'sending'" },
    { "act_send_due", "SELECT n FROM actions WHERE state = 'sending' AND send_at IS NOT NULL "
                      "AND send_at <= ? ORDER BY send_at, n LIMIT 1" },
    { "act_held_row", "SELECT context, target, choice, rating, text, via FROM actions "
                      "WHERE n = ? AND state = 'sending'" },
    /* receipts, run: a counted action the verifier lost, sent again */
    { "act_counted_row", "SELECT context, target, choice, rating, text, via FROM actions "
                         "WHERE n = ? AND state = 'counted'" },
    { "act_hash_receipt", "SELECT hash, receipt FROM actions WHERE n = ?" },
    { "act_check_set", "UPDATE actions SET check_at = ? WHERE n = ?" },
    { "act_check_due", "SELECT n, context FROM actions WHERE state = 'counted' AND "
                       "check_at IS NOT NULL AND check_at <= ? ORDER BY check_at, n" },
    { "act_next", "SELECT (SELECT min(send_at) FROM actions WHERE state = 'sending'),"
                  " (SELECT min(check_at) FROM actions WHERE state = 'counted'),"
                  " (SELECT min(fetch_at) FROM fetch_plan WHERE done_at IS NULL)" },
    { "act_held_count", "SELECT count(*) FROM actions WHERE state = 'sending' AND "
                        "send_at IS NOT NULL" },
    { "tok_created", "SELECT created_at FROM tokens WHERE n = ?" },
    /* pacing: fetch, run */
    { "plan_put", "INSERT INTO fetch_plan(context, fetch_at) VALUES (?, ?) "
                  "ON CONFLICT(context) DO NOTHING" },
    { "plan_get", "SELECT fetch_at, done_at FROM fetch_plan WHERE context = ?" },
    { "plan_due", "SELECT context FROM fetch_plan WHERE done_at IS NULL AND fetch_at <= ? "
                  "ORDER BY fetch_at LIMIT 1" },
    { "plan_done", "UPDATE fetch_plan SET done_at = ? WHERE context = ? AND done_at IS NULL" },
    { "plan_reset", "UPDATE fetch_plan SET fetch_at = ?, done_at = NULL WHERE context = ?" },
};

static const struct ov_db_schema schema = {
    migrations, sizeof migrations / sizeof migrations[0], stmts, sizeof stmts / sizeof stmts[0],
};

int
w_stmt(struct wallet *w, const char *name, sqlite3_stmt **out, const char *fmt, ...)
{
    sqlite3_stmt *st = ov_db_stmt(w->db, name);
    va_list ap;
    int rc = 0;
    va_start(ap, fmt);
    for (int i = 1; rc == 0 && *fmt; fmt++, i++) {
        switch (*fmt) {
        case 't': {
            const char *s = va_arg(ap, const char *);
            rc = s ? ov_db_bind_text(st, i, s, strlen(s)) : ov_db_bind_null(st, i);
            break;
        }
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            rc = p ? ov_db_bind_blob(st, i, OV_BYTES(p, n)) : ov_db_bind_null(st, i);
            break;
        }
        case 'i':
            rc = ov_db_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'u':
            rc = ov_db_bind_uint64(st, i, va_arg(ap, uint64_t));
            break;
        case 'n':
            (void)va_arg(ap, int64_t); /* an int64 argument that is bound as NULL */
            rc = ov_db_bind_null(st, i);
            break;
        default:
            abort(); /* our own format strings */
        }
    }
    va_end(ap);
    rc = rc ? rc : ov_db_step(st);
    if (out != NULL && rc == OV_DB_ROW) {
        *out = st;
    } else {
        if (out != NULL) {
            *out = NULL;
        }
        ov_db_reset(st);
    }
    return rc;
}

int
w_config_set(struct wallet *w, const char *key, const char *value)
{
    int rc = w_stmt(w, "config_set", NULL, "tt", key, value);
    return rc < 0 ? rc : 0;
}

int
w_config_get(struct wallet *w, const char *key, char *out, size_t out_max)
{
    sqlite3_stmt *st = NULL;
    struct ov_bytes v = { NULL, 0 };
    out[0] = 0;
    int rc = w_stmt(w, "config_get", &st, "t", key);
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_text(st, 0, out_max - 1, &v);
        if (rc == 0) {
            memcpy(out, v.ptr, v.len);
            out[v.len] = 0;
        }
    } else if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    }
    ov_db_reset(st);
    return rc;
}

/* Opens the database at path and sets the wallet's own pragmas. */
static int
open_db(struct wallet *w, const char *path)
{
    int rc = ov_db_open(path, 0, &schema, &w->db);
    rc = rc ? rc : ov_db_exec(w->db, "PRAGMA secure_delete = ON");
    if (rc == 0) {
        sqlite3_stmt *st = NULL;
        int64_t id = 0;
        rc = w_stmt(w, "app_id", &st, "");
        rc = rc == OV_DB_ROW ? ov_db_col_int64(st, 0, &id) : -OV_E_DB;
        ov_db_reset(st);
        rc = rc == 0 && id != W_APPLICATION_ID ? -OV_E_STATE : rc;
    }
    return rc;
}

int
w_create(struct wallet *w, const char *path)
{
    w->path = path;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        w_fail(w, errno == EEXIST ? "exists" : "io", "cannot create %s: %s", path,
               errno == EEXIST ? "it exists already (a wallet is never overwritten)"
                               : strerror(errno));
        return -OV_E_IO;
    }
    close(fd);
    int rc = open_db(w, path);
    if (rc != 0) {
        w_fail(w, "io", "cannot set up the wallet file %s (%s)", path, ov_strerror(rc));
        ov_db_close(w->db);
        w->db = NULL;
        unlink(path);
    }
    return rc;
}

/* Loads the configuration init stored. */
static int
load_config(struct wallet *w)
{
    char vkey[OV_NOTE_MAX_VKEY_LEN + 1], q[32], wit[W_MAX_WITNESSES * (OV_NOTE_MAX_VKEY_LEN + 1)];
    uint64_t quorum = 0;
    int rc = w_config_get(w, "issuer", w->issuer, sizeof w->issuer);
    rc = rc ? rc : w_config_get(w, "verifier", w->verifier, sizeof w->verifier);
    rc = rc ? rc : w_config_get(w, "log", w->log, sizeof w->log);
    rc = rc ? rc : w_config_get(w, "log_vkey", vkey, sizeof vkey);
    rc = rc ? rc : ov_note_vkey_parse(OV_BYTES(vkey, strlen(vkey)), &w->log_key);
    rc = rc ? rc : w_config_get(w, "quorum", q, sizeof q);
    rc = rc ? rc : ov_parse_u64(q, strlen(q), &quorum);
    if (rc == 0) {
        rc = w_config_get(w, "witnesses", wit, sizeof wit);
        rc = rc == -OV_E_NOT_FOUND ? 0 : rc;
    }
    for (char *line = wit, *next; rc == 0 && *line; line = next) {
        next = strchr(line, '\n');
        next = next ? (*next = 0, next + 1) : line + strlen(line);
        if (w->n_witnesses == W_MAX_WITNESSES) {
            rc = -OV_E_TOO_BIG;
        } else {
            rc = ov_note_vkey_parse(OV_BYTES(line, strlen(line)), &w->witnesses[w->n_witnesses++]);
        }
    }
    if (rc == 0 && quorum > w->n_witnesses) {
        rc = -OV_E_MALFORMED;
    }
    w->quorum = (unsigned)quorum;
    return rc;
}

int
w_open(struct wallet *w, const char *path)
{
    struct stat sb;
    w->path = path;
    if (path == NULL) {
        w_fail(w, "usage", "which wallet? give --wallet FILE or set ONEVOICE_WALLET");
        return -OV_E_MALFORMED;
    }
    if (stat(path, &sb) != 0) {
        w_fail(w, "no_wallet", "no wallet at %s (create one with `onevoice init`)", path);
        return -OV_E_NOT_FOUND;
    }
    if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0) {
        w_fail(w, "unsafe_wallet",
               "%s is readable or writable by others (mode %03o): it holds your keys; "
               "`chmod 600 %s` if that was a mistake",
               path, (unsigned)(sb.st_mode & 0777), path);
        return -OV_E_STATE;
    }
    int rc = open_db(w, path);
    if (rc == 0) {
        rc = load_config(w);
    }
    if (rc != 0) {
        w_fail(w, "bad_wallet", "%s is not a usable onevoice wallet (%s)", path, ov_strerror(rc));
        ov_db_close(w->db);
        w->db = NULL;
        return rc;
    }
    rc = w_relay_start(w, false);
    if (rc != 0) {
        w_fail(w, "relay", "this wallet sends through a relay, which cannot be set up (%s): "
               "nothing was sent", ov_strerror(rc));
        ov_db_close(w->db);
        w->db = NULL;
    }
    return rc;
}

void
w_close(struct wallet *w)
{
    ov_db_close(w->db);
    w->db = NULL;
}

int
w_run(struct wallet *w, int (*fn)(struct wallet *w, void *ctx), void *ctx)
{
    if (w_open(w, w->path) != 0) {
        w_finish(w);
        return w->path ? W_EXIT_REFUSED : W_EXIT_USAGE;
    }
    int status = fn(w, ctx);
    w_close(w);
    w_finish(w);
    return status;
}

int
w_command(struct wallet *w, int argc, char **argv, const struct w_cmd *cmd,
          const struct w_opt *opts, size_t n_opts, const char **pos,
          int (*fn)(struct wallet *w, void *ctx), void *ctx)
{
    int a = w_args(argc, argv, cmd, opts, n_opts, pos);
    return a != 0 ? (a > 0 ? W_EXIT_OK : W_EXIT_USAGE) : w_run(w, fn, ctx);
}

void
w_log_cfg(const struct wallet *w, struct ov_logreader_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->url = w->log;
    cfg->log_key = w->log_key;
    cfg->witnesses = w->witnesses;
    cfg->n_witnesses = w->n_witnesses;
    cfg->quorum = w->quorum;
}

int
w_key_from_seed(uint8_t seed[OV_SIGN_SEED_LEN], struct ov_sign_key **out)
{
    int rc = ov_sign_key_from_seed(seed, out);
    sodium_memzero(seed, OV_SIGN_SEED_LEN);
    return rc;
}

/* Reads a 32-byte seed column and turns it into a key, wiping the copy. */
int
w_col_key(sqlite3_stmt *st, int col, struct ov_sign_key **out)
{
    uint8_t seed[OV_SIGN_SEED_LEN];
    *out = NULL;
    int rc = ov_db_col_fixed(st, col, seed, sizeof seed);
    rc = rc ? rc : w_key_from_seed(seed, out);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

struct ov_sign_key *
w_enrollee_key(struct wallet *w)
{
    sqlite3_stmt *st = NULL;
    struct ov_sign_key *k = NULL;
    struct ov_bytes state = { NULL, 0 };
    bool enrolled = false;
    int rc = w_stmt(w, "id_get", &st, "");
    if (rc == OV_DB_ROW) {
        rc = ov_db_col_text(st, 1, 16, &state);
        enrolled = rc == 0 && !(state.len == 9 && memcmp(state.ptr, "enrolling", 9) == 0);
    }
    if (rc == 0 && enrolled) {
        rc = w_col_key(st, 0, &k);
    }
    ov_db_reset(st);
    if (rc < 0) {
        w_fail(w, "bad_wallet", "cannot read the enrollee key (%s)", ov_strerror(rc));
    } else if (!enrolled) {
        w_fail(w, "not_enrolled", "this wallet is not enrolled yet: run `onevoice enroll`");
    }
    return rc == 0 && enrolled ? k : NULL;
}

int
w_context_get(struct wallet *w, const char *id, struct ov_context *c)
{
    sqlite3_stmt *st = NULL;
    struct ov_bytes e = { NULL, 0 };
    struct ov_entry *ent = calloc(1, sizeof *ent);
    memset(c, 0, sizeof *c);
    int rc = ent ? w_stmt(w, "ctx_get", &st, "t", id) : -OV_E_NOMEM;
    if (rc == OV_DB_DONE) {
        rc = -OV_E_NOT_FOUND;
    } else if (rc == OV_DB_ROW) {
        rc = ov_db_col_blob(st, 0, OV_MAX_ENTRY_LEN, &e);
        rc = rc ? rc : ov_entry_decode(e, ent);
        rc = rc == 0 && ent->kind != OV_ENTRY_CONTEXT ? -OV_E_MALFORMED : rc;
        if (rc == 0) {
            *c = ent->u.context;
        }
    }
    ov_db_reset(st);
    free(ent);
    return rc;
}

struct tx_call {
    struct wallet *w;
    int (*fn)(struct wallet *, void *);
    void *ctx;
};

static int
tx_trampoline(struct ov_db *db, void *ctx)
{
    struct tx_call *t = ctx;
    (void)db;
    return t->fn(t->w, t->ctx);
}

int
w_tx(struct wallet *w, int (*fn)(struct wallet *w, void *ctx), void *ctx)
{
    struct tx_call t = { w, fn, ctx };
    return ov_db_tx(w->db, tx_trampoline, &t);
}
