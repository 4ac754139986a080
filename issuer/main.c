/* onevoice-issuer: enrollment, contexts and one-person-one-voice Privacy Pass issuance
 * (see issuer/README.md and docs/PROTOCOL.md §7). */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "app.h"
#include "infra/server.h"
#include "base/codec.h"
#include "base/epoch.h"
#include "contexts.h"
#include "logcheck.h"
#include "outbox.h"
#include "quota.h"
#include "store.h"
#include "primitives/json.h"
#include "primitives/note.h"
#include "writer.h"

#define MAX_IDPS_FILE (64u * 1024u)

static const char summary[] =
    "The onevoice issuer: contexts (each with its own RSA-2048 token key, recorded in the log\n"
    "before any token), enrollment (invitation codes, registrar, identity-provider\n"
    "attestations, recovery) and RFC 9578 token issuance within each person's quota, every\n"
    "step logged through a durable outbox. State lives in DIR/issuer.db (SQLite, WAL,\n"
    "synchronous=FULL, mode 0600); keys and secrets in DIR/*.key and DIR/*.secret (0600),\n"
    "created on first start; the pepper of the identity hashes belongs outside DIR\n"
    "(--pepper-file), so that no copy of the directory holds the hashes with their key.";

static int
check_u32(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n >= 1 && n <= 1024 ? 0 : -OV_E_MALFORMED;
}

static int
check_pace(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n <= 1000 ? 0 : -OV_E_MALFORMED;
}

static int
check_epoch(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n <= OV_EPOCH_MAX_S ? 0 : -OV_E_MALFORMED;
}

static int
check_name(const char *v)
{
    return ov_text_check(v, OV_MAX_ISSUER_NAME) == 0 && strchr(v, ' ') == NULL ? 0
                                                                            : -OV_E_MALFORMED;
}

static int
path_in(char *out, size_t max, const char *dir, const char *file)
{
    int n = snprintf(out, max, "%s/%s", dir, file);
    return n < 0 || (size_t)n >= max ? -OV_E_TOO_BIG : 0;
}

/* Loads DIR/file, creating it with fresh random bytes on first start. */
static int
secret(const char *dir, const char *file, const char *label, struct ov_secret **out)
{
    char path[4096];
    int rc = path_in(path, sizeof path, dir, file);
    rc = rc ? rc : ov_keyfile_load_secret(path, label, ISSUER_SECRET_LEN, out);
    if (rc == -OV_E_NOT_FOUND) {
        rc = ov_keyfile_create_secret(path, label, ISSUER_SECRET_LEN, out);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-issuer: %s: %s\n", path, ov_strerror(rc));
    }
    return rc;
}

static int
load_keys(struct issuer_app *app)
{
    char path[4096];
    int rc = path_in(path, sizeof path, app->dir, "producer.key");
    rc = rc ? rc : ov_keyfile_load_sign_key(path, &app->producer);
    if (rc == -OV_E_NOT_FOUND) {
        rc = ov_keyfile_create_sign_key(path, &app->producer);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-issuer: %s: %s\n", path, ov_strerror(rc));
        return rc;
    }
    rc = secret(app->dir, "admin.secret", "admin", &app->admin);
    rc = rc ? rc : secret(app->dir, "registrar.secret", "registrar", &app->registrar);
    rc = rc ? rc : secret(app->dir, "tag.secret", "tag", &app->tag);
    return rc;
}

/* ---- the pepper ------------------------------------------------------------------- *
 * The key of the identity hashes. It belongs with the state (issuer.db recognises no one
 * without it) but not beside it: whoever holds both reverses registrar identities by
 * dictionary. So --pepper-file puts it outside the data directory (another disk, a secret
 * mount); without the option it stays DIR/pepper.secret, as before, with a warning. */

static bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Whether path (existing or not) resolves inside dir: a symlink pointing into it counts. */
static int
inside(const char *dir, const char *path, bool *in)
{
    char rdir[PATH_MAX], rp[PATH_MAX], parent[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t pl = slash == NULL ? 1 : (slash == path ? 1 : (size_t)(slash - path));
    if (strlen(path) >= sizeof parent || realpath(dir, rdir) == NULL) {
        return -OV_E_IO;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, rp) == NULL) {
        return -OV_E_STATE; /* a symlink to nothing: it could point anywhere later */
    }
    if (realpath(path, rp) == NULL) { /* not there yet: where its folder is */
        memcpy(parent, slash == NULL ? "." : path, pl);
        parent[pl] = '\0';
        if (realpath(parent, rp) == NULL) {
            return -OV_E_NOT_FOUND;
        }
    }
    size_t dl = strlen(rdir);
    *in = strncmp(rp, rdir, dl) == 0 && (rp[dl] == '\0' || rp[dl] == '/' || dl == 1);
    return 0;
}

/* Refuses what would put or leave the pepper beside the hashes, before any key is made. */
static int
pepper_place(const char *dir, const char *file)
{
    char legacy[4096];
    bool in = false;
    int rc = inside(dir, file, &in);
    static const char inside_why[] =
        "it is inside the data directory --data, which is what it must leave: every copy of "
        "the directory would hold the identity hashes and their key together. Name a file on "
        "another disk or a secret mount";
    if (rc != 0 || in) {
        fprintf(stderr, "onevoice-issuer: refusing --pepper-file %s: %s\n", file,
                rc == -OV_E_STATE ? "it is a symlink to nothing"
                : rc != 0         ? "its folder does not exist"
                                  : inside_why);
        return OV_SERVER_USAGE;
    }
    rc = path_in(legacy, sizeof legacy, dir, "pepper.secret");
    if (rc == 0 && exists(legacy)) {
        fprintf(stderr, "onevoice-issuer: refusing to start: %s exists beside --pepper-file "
                        "%s. Move it (issuer stopped): mv %s %s; or, when %s already holds "
                        "the same pepper, delete %s\n", legacy, file, legacy, file, file, legacy);
        return -OV_E_STATE;
    }
    return rc;
}

/* A missing pepper may be made only with a new state: a first start (no producer key yet),
 * or --init where no database is. Otherwise the state is there and its pepper lost; a
 * restore needs the pepper its backup was made with. */
static int
pepper_missing(const char *dir, const char *file, bool first, const struct ov_server_args *a)
{
    char db[4096], wal[4096];
    int rc = path_in(db, sizeof db, dir, "issuer.db");
    rc = rc ? rc : path_in(wal, sizeof wal, dir, "issuer.db-wal");
    bool no_db = rc == 0 && !exists(db) && !exists(wal); /* (WAL: the file may be empty) */
    if (rc != 0 || exists(file) || first || (a->restore == NULL && a->init && no_db)) {
        return rc; /* (a restore into a directory without keys is refused by the server) */
    }
    fprintf(stderr, "onevoice-issuer: refusing to start: the pepper %s is missing, but %s "
                    "holds this issuer's keys%s. The pepper is one of them: issuer.db keeps "
                    "identities only as hashes under it, so a new pepper would recognise no "
                    "one and let everyone enroll again. Put back the pepper this state was "
                    "made with (from where you keep its copy)%s\n", file, dir,
            no_db ? "" : " and its issuer.db",
            a->restore ? ": a backup is restored with its own pepper"
                       : "; to begin a new, empty state deliberately, move issuer.db aside "
                         "and start once with --init");
    return -OV_E_STATE;
}

static int
load_pepper(struct issuer_app *app, const char *file)
{
    int rc = ov_keyfile_load_secret(file, "pepper", ISSUER_SECRET_LEN, &app->pepper);
    if (rc == -OV_E_NOT_FOUND) { /* pepper_missing allowed it */
        rc = ov_keyfile_create_secret(file, "pepper", ISSUER_SECRET_LEN, &app->pepper);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-issuer: %s: %s%s\n", file, ov_strerror(rc),
                rc == -OV_E_STATE ? " (the pepper must be a regular file of mode 0600 or "
                                    "0400, readable by its owner alone)"
                                  : "");
    }
    return rc;
}

/* --idps FILE: lines "NAME BASE64-ED25519-PUBLIC-KEY" (blank lines and # comments allowed). */
static int
load_idps(struct issuer_app *app, const char *path)
{
    struct ov_buf file;
    int rc = ov_file_read(path, MAX_IDPS_FILE, &file);
    if (rc != 0 || ov_buf_terminate(&file) != 0) {
        fprintf(stderr, "onevoice-issuer: %s: %s\n", path, ov_strerror(rc ? rc : -OV_E_NOMEM));
        ov_buf_clear(&file);
        return rc ? rc : -OV_E_NOMEM;
    }
    char *save = NULL;
    unsigned lineno = 0;
    for (char *line = strtok_r((char *)file.ptr, "\n", &save); line != NULL && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        char *sp = strchr(line, ' ');
        struct issuer_idp *idp = &app->idps[app->n_idps];
        size_t kl = 0;
        if (sp != NULL) {
            *sp = '\0';
        }
        if (sp == NULL || app->n_idps == ISSUER_MAX_IDPS || strlen(line) > OV_MAX_IDP_NAME_LEN ||
            ov_label_check(line) != 0 ||
            ov_b64_decode(idp->pk, sizeof idp->pk, &kl, sp + 1, strlen(sp + 1), OV_B64_STD) != 0 ||
            kl != OV_SIGN_PK_LEN) {
            fprintf(stderr, "onevoice-issuer: %s line %u: want \"NAME BASE64-ED25519-KEY\"\n",
                    path, lineno);
            rc = -OV_E_MALFORMED;
            break;
        }
        memcpy(idp->name, line, strlen(line) + 1);
        app->n_idps++;
    }
    ov_buf_clear(&file);
    return rc;
}

/* What is wrong with a --log-vkey, or NULL when it is a log's key: said at start, as the
 * outbox would otherwise only find that the log "has another key". */
static const char *
vkey_problem(const char *v)
{
    struct ov_note_verifier nv;
    struct ov_bytes name, b64;
    uint32_t id = 0;
    uint8_t key[1 + OV_SIGN_PK_LEN];
    size_t kl = 0;
    if (strlen(v) > OV_NOTE_MAX_VKEY_LEN) {
        return "it is longer than a verifier key can be";
    }
    if (ov_note_vkey_split(OV_BYTES(v, strlen(v)), &name, &id, &b64) != 0) {
        return "it is not NAME+KEYID+KEY (KEYID: 8 lowercase hex digits)";
    }
    if (ov_b64_decode(key, sizeof key, &kl, (const char *)b64.ptr, b64.len, OV_B64_STD) != 0 ||
        kl != sizeof key) {
        return "its KEY is not the base64 of a type byte and a 32-byte public key";
    }
    if (key[0] != OV_NOTE_TYPE_ED25519) {
        return "it is not a log's Ed25519 note key (type byte 0x01): a witness's key?";
    }
    if (ov_note_vkey_parse(OV_BYTES(v, strlen(v)), &nv) != 0) {
        return "its KEYID does not match its NAME and KEY (altered or mistyped?)";
    }
    return NULL;
}

static int
print_b64(const char *label, const uint8_t *p, size_t n, enum ov_b64 v)
{
    char b64[128];
    int rc = ov_b64_encode(b64, sizeof b64, p, n, v);
    if (rc == 0) {
        printf("%s %s\n", label, b64);
    }
    sodium_memzero(b64, sizeof b64);
    return rc;
}

static int
backlog(struct ov_db *db, int64_t *n)
{
    sqlite3_stmt *st = ov_db_stmt(db, "outbox_backlog");
    int rc = ov_db_step(st);
    *n = 0;
    rc = rc == OV_DB_ROW ? ov_db_col_int64(st, 0, n) : (rc < 0 ? rc : -OV_E_DB);
    ov_db_reset(st);
    return rc;
}

static void
app_clear(struct issuer_app *app)
{
    issuer_contexts_free(app->contexts);
    ov_rowmap_free(app->blinded);
    issuer_quota_free(app->quota);
    ov_sign_key_free(app->producer);
    ov_secret_free(app->admin);
    ov_secret_free(app->registrar);
    ov_secret_free(app->pepper);
    ov_secret_free(app->tag);
}

/* The issuer's own options and what it makes of them. */
static struct {
    const char *log, *vkey, *name, *idps, *threads, *producer, *pace, *pepper, *epoch;
    bool print_key, print_creds;
    struct issuer_app app;
    struct ov_metrics *metrics;
} g;

static int
prepare(void *ctx, const struct ov_server_args *args)
{
    (void)ctx;
    struct issuer_app *app = &g.app;
    app->dir = args->data;
    g.producer = g.producer ? g.producer : "issuer";
    ov_json_wipe_freed(); /* enrollment requests carry codes and tokens */
    char pepper[4096], producer[4096];
    int rc = path_in(producer, sizeof producer, app->dir, "producer.key");
    bool first = rc == 0 && !exists(producer);
    rc = rc ? rc : (g.pepper ? pepper_place(app->dir, g.pepper) : 0);
    rc = rc ? rc : path_in(pepper, sizeof pepper, app->dir, "pepper.secret");
    const char *pf = g.pepper ? g.pepper : pepper;
    /* not needed: by a --print-* flag once the keys exist (made only with them), nor by a
     * restore into a directory without keys (which is refused) */
    bool printing = g.print_key || g.print_creds;
    bool skip = (printing && !first) || (args->restore != NULL && first);
    rc = rc || skip ? rc : pepper_missing(app->dir, pf, first, args);
    /* the pepper before the keys: a pepper refused leaves no key without its state */
    rc = rc || skip ? rc : load_pepper(app, pf);
    rc = rc ? rc : load_keys(app);
    if (rc == 0 && g.pepper == NULL && !printing && !args->restore) {
        fprintf(stderr, "onevoice-issuer: warning: the pepper is %s, inside the data "
                        "directory: whoever copies the directory gets the identity hashes with "
                        "their key. Move it out (issuer stopped): mv %s /elsewhere/pepper.secret"
                        ", then start with --pepper-file /elsewhere/pepper.secret (issuer/"
                        "README.md)\n", pepper, pepper);
    }
    if (rc == 0 && (g.print_key || g.print_creds)) {
        rc = g.print_key ? print_b64(g.producer, ov_sign_key_pk(app->producer), OV_SIGN_PK_LEN,
                                     OV_B64_STD)
                         : 0;
        if (rc == 0 && g.print_creds) {
            rc = print_b64("admin", ov_secret_ptr(app->admin), ISSUER_SECRET_LEN,
                           OV_B64_URL_NOPAD);
            rc = rc ? rc : print_b64("registrar", ov_secret_ptr(app->registrar),
                                     ISSUER_SECRET_LEN, OV_B64_URL_NOPAD);
        }
        return rc ? rc : OV_SERVER_DONE;
    }
    if (rc == 0 && (g.log == NULL || g.vkey == NULL || g.name == NULL)) {
        fprintf(stderr, "onevoice-issuer: --log, --log-vkey and --name are required\n");
        return OV_SERVER_USAGE;
    }
    const char *why = rc == 0 ? vkey_problem(g.vkey) : NULL;
    if (why != NULL) {
        fprintf(stderr, "onevoice-issuer: refusing to start: --log-vkey \"%.80s%s\" is not the "
                        "log's verifier key: %s. Give the line `onevoice-log --print-vkey` "
                        "prints.\n", g.vkey, strlen(g.vkey) > 80 ? "..." : "", why);
        return OV_SERVER_USAGE;
    }
    app->name = g.name;
    return rc;
}

/* Refuses a state whose identities were hashed before Argon2id (store.c, migration 3). */
static int
identity_format(struct ov_db *db, const char *dir)
{
    int64_t n = 0;
    int rc = issuer_store_identity_v1(db, &n);
    if (rc == 0 && n > 0) {
        fprintf(stderr, "onevoice-issuer: refusing to start: %s/issuer.db holds %lld identity "
                        "hashes of the first format (BLAKE2b, before Argon2id: docs/PROTOCOL.md "
                        "§7). A hash cannot be converted, and under the new format those people "
                        "could enroll again. Begin a new state: move issuer.db aside and start "
                        "once with --init\n", dir, (long long)n);
        rc = -OV_E_STATE;
    }
    return rc;
}

static int
start(void *ctx, const struct ov_server_args *args, struct ov_metrics *m,
      struct ov_http_cfg *hcfg)
{
    (void)ctx;
    struct issuer_app *app = &g.app;
    struct ov_db *db = NULL;
    int64_t pending = 0;
    int rc = g.idps != NULL ? load_idps(app, g.idps) : 0;
    rc = rc ? rc : issuer_app_init(app);
    rc = rc ? rc : issuer_contexts_new(&app->contexts);
    rc = rc ? rc : issuer_quota_new(&app->quota);
    rc = rc ? rc : issuer_store_open(args->data, &db);
    rc = rc ? rc : identity_format(db, args->data);
    rc = rc ? rc : issuer_contexts_load(app->contexts, db);
    rc = rc ? rc : issuer_store_load_blinded(db, &app->blinded);
    rc = rc ? rc : backlog(db, &pending);
    ov_db_close(db);
    app->metrics = m;
    issuer_app_metrics(app, m);
    ov_gauge_set(app->backlog, pending);
    uint64_t pace_ms = ISSUER_PACE_MS;
    if (g.pace != NULL && ov_parse_u64(g.pace, strlen(g.pace), &pace_ms) != 0) {
        rc = rc ? rc : -OV_E_MALFORMED;
    }
    uint64_t epoch_s = ISSUER_EPOCH_S;
    if (g.epoch != NULL && ov_parse_u64(g.epoch, strlen(g.epoch), &epoch_s) != 0) {
        rc = rc ? rc : -OV_E_MALFORMED;
    }
    app->epoch_s = (uint32_t)epoch_s; /* check_epoch: at most OV_EPOCH_MAX_S */
    rc = rc ? rc : issuer_writer_start(app, (unsigned)pace_ms, &app->writer);
    rc = rc ? rc : issuer_outbox_start(app, g.log, g.vkey, g.producer, &app->outbox);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* token requests compute RSA on the pool threads and do not wait for their commit
     * (writer.h); two per core cover the moments one spends in a read, a reply, or an
     * enrollment's own (short) transaction */
    uint64_t nt = cores > 0 ? 2u * (uint64_t)cores : 2u;
    if (g.threads != NULL && ov_parse_u64(g.threads, strlen(g.threads), &nt) != 0) {
        rc = rc ? rc : -OV_E_MALFORMED;
    }
    hcfg->routes = issuer_routes;
    hcfg->n_routes = issuer_n_routes;
    hcfg->user = app;
    hcfg->n_threads = (unsigned)nt;
    return rc;
}

static void
serving(void *ctx, struct ov_http *http)
{
    (void)ctx;
    atomic_store(&g.app.http, http);
    if (http != NULL && atomic_load(&g.app.log_state) != ISSUER_LOG_CHECKING) {
        ov_http_notify_upto(http, ISSUER_CH_LOGCHECK, 1); /* the check may have been first */
    }
}

static void
stop(void *ctx)
{
    (void)ctx;
    struct issuer_app *app = &g.app;
    /* the sender's acknowledgements go through the writer: it stops first; the writer
     * then finishes what is queued (requests answered 503 at shutdown may still commit;
     * their entries wait in the outbox for the next start) */
    issuer_outbox_stop(app->outbox);
    issuer_writer_stop(app->writer);
    issuer_outbox_free(app->outbox);
    app_clear(app);
}

/* The key issuer.db is bound to: the producer key the log knows the issuer by. */
static struct ov_bytes
state_key(void *ctx)
{
    (void)ctx;
    return g.app.producer != NULL ? OV_BYTES(ov_sign_key_pk(g.app.producer), OV_SIGN_PK_LEN)
                                  : OV_BYTES(NULL, 0);
}

static const char *const key_files[] = { "producer.key", "admin.secret", "registrar.secret",
                                         "pepper.secret", "tag.secret", NULL };

static void
describe(void *ctx, char *buf, size_t len)
{
    (void)ctx;
    snprintf(buf, len, "%s", g.name);
}

static const struct ov_cli_opt opts[] = {
    { "--log", "URL", "the transparency log to append to (required)", &g.log, NULL, NULL },
    { "--log-vkey", "VKEY", "the log's verifier key; nothing is sent to a log with another",
      &g.vkey, NULL, NULL },
    { "--name", "ISSUER_NAME", "the TokenChallenge issuer_name, e.g. issuer.example", &g.name,
      NULL, check_name },
    { "--producer", "NAME", "this issuer's producer name in the log (default issuer)",
      &g.producer, NULL, ov_label_check },
    { "--idps", "FILE", "identity providers: lines \"NAME BASE64-ED25519-KEY\"", &g.idps, NULL,
      NULL },
    { "--threads", "N", "HTTP worker threads (default: 2 per core; RSA runs on them)",
      &g.threads, NULL, check_u32 },
    { "--commit-pace-ms", "MS",
      "under load, begin at most one issuance commit per MS, 0-1000 (default 10; 0: no wait)",
      &g.pace, NULL, check_pace },
    { "--epoch-seconds", "N",
      "hold enrollments and issuances until the end of their N-second epoch, send each "
      "epoch's in a random order, their times rounded to its start; 0: each at once, its "
      "time kept (default 300, at most 86400; docs/PROTOCOL.md §3.1)", &g.epoch, NULL,
      check_epoch },
    { "--pepper-file", "FILE",
      "the identity hashes' key, outside --data (created 0600 on first start; default "
      "DIR/pepper.secret, with a warning)", &g.pepper, NULL, NULL },
    { "--print-producer-key", NULL, "print the line for the log's --producers file and exit",
      NULL, &g.print_key, NULL },
    { "--print-credentials", NULL, "print the admin and registrar bearer credentials and exit",
      NULL, &g.print_creds, NULL },
};

int
main(int argc, char **argv)
{
    const struct ov_server spec = {
        .prog = "onevoice-issuer",
        .summary = summary,
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .prepare = prepare,
        .start = start,
        .serving = serving,
        .stop = stop,
        .describe = describe,
        .state_file = "issuer.db",
        .state_open = issuer_store_open,
        .key_files = key_files,
        .state_key = state_key,
        .state_copy_check = issuer_logcheck_copy,
    };
    return ov_server_main(&spec, argc, argv);
}
