/* onevoice-witness: a C2SP tlog-witness (see clients/witness/README.md and docs/PROTOCOL.md
 * §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "infra/server.h"
#include "infra/keyfile.h"
#include "logs.h"
#include "store.h"

static const char summary[] =
    "A C2SP tlog-witness: cosigns (cosignature/v1) the checkpoints of the logs it follows, once\n"
    "each is signed by its log and proven consistent with the last one it cosigned for that\n"
    "origin. POST /add-checkpoint (c2sp.org/tlog-witness); GET /<hex SHA-256(origin)>/checkpoint\n"
    "serves the latest cosigned checkpoint. State lives in DIR/witness.db (SQLite, WAL,\n"
    "synchronous=FULL); the cosigning key in DIR/witness.key (mode 0600), created on first\n"
    "start for --name.";

/* Loads the cosigning key: --key FILE, else DIR/witness.key, created for --name if absent. */
static int
load_key(const char *dir, const char *key_path, const char *name, struct ov_note_signer **out)
{
    char path[4096];
    int rc;
    if (key_path != NULL) {
        rc = ov_keyfile_load_note_key(key_path, out);
    } else {
        int n = snprintf(path, sizeof path, "%s/witness.key", dir);
        rc = n > 0 && (size_t)n < sizeof path ? ov_keyfile_load_note_key(path, out) : -OV_E_TOO_BIG;
        if (rc == -OV_E_NOT_FOUND) {
            if (name == NULL) {
                fprintf(stderr, "onevoice-witness: a new witness needs --name NAME\n");
                return -OV_E_MALFORMED;
            }
            rc = ov_keyfile_create_note_key(path, OV_BYTES(name, strlen(name)),
                                            OV_NOTE_TYPE_COSIG_V1, out);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-witness: cosigning key: %s\n", ov_strerror(rc));
        return rc;
    }
    const struct ov_note_verifier *v = ov_note_signer_verifier(*out);
    const char *why = NULL;
    if (v->type != OV_NOTE_TYPE_COSIG_V1) {
        why = "is not a cosignature/v1 (type 0x04) key";
    } else if (name != NULL && strcmp(name, v->name) != 0) {
        why = "has another name than --name";
    }
    if (why != NULL) {
        fprintf(stderr, "onevoice-witness: the key %s %s\n", v->name, why);
        ov_note_signer_free(*out);
        *out = NULL;
        return -OV_E_MALFORMED;
    }
    return 0;
}

static int
print_vkey(const struct ov_note_signer *s)
{
    struct ov_buf vk;
    ov_buf_init(&vk, OV_NOTE_MAX_VKEY_LEN);
    int rc = ov_note_vkey_format(ov_note_signer_verifier(s), &vk);
    if (rc == 0) {
        printf("%.*s\n", (int)vk.len, (const char *)vk.ptr);
    }
    ov_buf_clear(&vk);
    return rc;
}

/* The witness's own options and what it makes of them. */
static struct {
    const char *name, *key, *logs_path;
    bool want_vkey;
    struct ov_note_signer *signer;
    struct witness_logs *logs;
    struct witness_app app;
    char vkey[OV_NOTE_MAX_VKEY_LEN]; /* what witness.db is bound to (state_key) */
    size_t vkey_len;
} w;

static int
prepare(void *ctx, const struct ov_server_args *args)
{
    (void)ctx;
    int rc = load_key(args->data, w.key, w.name, &w.signer);
    if (rc == 0 && w.want_vkey) {
        return print_vkey(w.signer) == 0 ? OV_SERVER_DONE : -OV_E_IO;
    }
    if (rc == 0 && w.logs_path == NULL) {
        fprintf(stderr, "onevoice-witness: --logs FILE is required (see --help)\n");
        return OV_SERVER_USAGE;
    }
    return rc;
}

static int
start(void *ctx, const struct ov_server_args *args, struct ov_metrics *m,
      struct ov_http_cfg *hcfg)
{
    (void)ctx;
    int rc = witness_logs_load(w.logs_path, &w.logs);
    if (rc == 0) {
        /* created or migrated once, before any request can race for it */
        struct ov_db *db = NULL;
        rc = witness_store_open(args->data, &db);
        rc = rc ? rc : witness_store_check(db);
        ov_db_close(db);
        if (rc != 0) {
            fprintf(stderr, "onevoice-witness: refusing to start: %s/witness.db: %s%s\n",
                    args->data, ov_strerror(rc),
                    rc == -OV_E_CORRUPT || rc == -OV_E_MALFORMED
                        ? ": its latest checkpoints cannot be read; restore it from your backup"
                        : "");
        }
    }
    w.app = (struct witness_app){ .dir = args->data, .signer = w.signer, .logs = w.logs };
    rc = rc ? rc : witness_app_init(&w.app, m);
    hcfg->routes = witness_routes;
    hcfg->n_routes = witness_n_routes;
    hcfg->user = &w.app;
    return rc;
}

static void
stop(void *ctx)
{
    (void)ctx;
    witness_logs_free(w.logs);
    ov_note_signer_free(w.signer);
}

/* The key witness.db is bound to: the witness's cosignature verifier key. */
static struct ov_bytes
state_key(void *ctx)
{
    (void)ctx;
    if (w.signer == NULL) {
        return OV_BYTES(NULL, 0);
    }
    const struct ov_note_verifier *v = ov_note_signer_verifier(w.signer);
    struct ov_buf vk;
    ov_buf_init(&vk, OV_NOTE_MAX_VKEY_LEN);
    if (ov_note_vkey_format(v, &vk) == 0 && vk.len <= sizeof w.vkey) {
        memcpy(w.vkey, vk.ptr, vk.len);
        w.vkey_len = vk.len;
    }
    ov_buf_clear(&vk);
    return OV_BYTES(w.vkey, w.vkey_len);
}

static const char *const key_files[] = { "witness.key", NULL };

static void
describe(void *ctx, char *buf, size_t len)
{
    (void)ctx;
    snprintf(buf, len, "%s following %zu logs", ov_note_signer_verifier(w.signer)->name,
             witness_logs_count(w.logs));
}

static const struct ov_cli_opt opts[] = {
    { "--name", "NAME", "the witness's key name, e.g. witness.example.org/w1 (first start)",
      &w.name, NULL, NULL },
    { "--key", "FILE",
      "use this cosigning key (x/mod PRIVATE+KEY format, type 0x04, mode 0600) instead of "
      "DIR/witness.key",
      &w.key, NULL, NULL },
    { "--print-vkey", NULL, "print the witness's cosignature/v1 verifier key and exit", NULL,
      &w.want_vkey, NULL },
    { "--logs", "FILE", "the logs to witness: lines \"ORIGIN VKEY\" (Ed25519 log keys; '#' "
      "comments)", &w.logs_path, NULL, NULL },
};

int
main(int argc, char **argv)
{
    const struct ov_server spec = {
        .prog = "onevoice-witness",
        .summary = summary,
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .prepare = prepare,
        .start = start,
        .stop = stop,
        .describe = describe,
        .state_file = "witness.db",
        .state_open = witness_store_open,
        .key_files = key_files,
        .state_key = state_key,
    };
    return ov_server_main(&spec, argc, argv);
}
