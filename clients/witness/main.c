/* onevoice-witness: a C2SP tlog-witness (see clients/witness/README.md and docs/PROTOCOL.md
 * §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "infra/cli.h"
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

/* Creates or migrates the database once, before any request can race for it. */
static int
init_store(const char *dir)
{
    struct ov_db *db = NULL;
    int rc = witness_store_open(dir, &db);
    ov_db_close(db);
    if (rc != 0) {
        fprintf(stderr, "onevoice-witness: database: %s\n", ov_strerror(rc));
    }
    return rc;
}

static int
serve(struct witness_app *app, const char *listen, const char *port_file)
{
    struct ov_metrics *m = NULL;
    struct ov_http *http = NULL;
    int rc = ov_metrics_new(&m);
    rc = rc ? rc : witness_app_init(app, m);
    struct ov_http_cfg hcfg = {
        .listen = listen,
        .routes = witness_routes,
        .n_routes = witness_n_routes,
        .user = app,
        .metrics = m,
    };
    if (rc == 0) {
        rc = ov_http_start(&hcfg, &http);
        if (rc != 0) {
            fprintf(stderr, "onevoice-witness: cannot listen on %s: %s\n",
                    listen ? listen : OV_ADDR_DEFAULT, ov_strerror(rc));
        }
    }
    if (rc == 0 && port_file != NULL) {
        rc = ov_cli_write_port(port_file, ov_http_port(http));
    }
    if (rc == 0) {
        fprintf(stderr, "onevoice-witness: %s serving %zu logs on port %u\n",
                ov_note_signer_verifier(app->signer)->name, witness_logs_count(app->logs),
                ov_http_port(http));
        while (!ov_cli_wait_ms(UINT32_MAX)) {
        }
    }
    ov_http_stop(http);
    ov_metrics_free(m);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *listen = NULL, *data = NULL, *port_file = NULL, *name = NULL, *key = NULL;
    const char *logs_path = NULL;
    bool want_vkey = false;
    const struct ov_cli_opt opts[] = {
        {"--listen", "HOST:PORT", "address to serve on (default 127.0.0.1:0)", &listen, NULL,
         ov_addr_check},
        {"--data", "DIR", "state directory (required; created 0700)", &data, NULL, NULL},
        {"--port-file", "FILE", "write the bound port here once serving", &port_file, NULL, NULL},
        {"--name", "NAME", "the witness's key name, e.g. witness.example.org/w1 (first start)",
         &name, NULL, NULL},
        {"--key", "FILE",
         "use this cosigning key (x/mod PRIVATE+KEY format, type 0x04, mode "
         "0600) instead of DIR/witness.key",
         &key, NULL, NULL},
        {"--print-vkey", NULL, "print the witness's cosignature/v1 verifier key and exit", NULL,
         &want_vkey, NULL},
        {"--logs", "FILE",
         "the logs to witness: lines \"ORIGIN VKEY\" (Ed25519 log keys; '#' "
         "comments)",
         &logs_path, NULL, NULL},
    };
    int rc = ov_cli_parse(argc, argv, summary, opts, sizeof opts / sizeof opts[0]);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (data == NULL) {
        fprintf(stderr, "onevoice-witness: --data DIR is required (see --help)\n");
        return 2;
    }
    struct ov_note_signer *signer = NULL;
    struct witness_logs *logs = NULL;
    if (ov_cli_signals_init() != 0 || ov_cli_harden() != 0 || ov_cli_data_dir(data) != 0 ||
        load_key(data, key, name, &signer) != 0) {
        return 1;
    }
    if (want_vkey) {
        rc = print_vkey(signer);
        ov_note_signer_free(signer);
        return rc == 0 ? 0 : 1;
    }
    if (logs_path == NULL) {
        fprintf(stderr, "onevoice-witness: --logs FILE is required (see --help)\n");
        ov_note_signer_free(signer);
        return 2;
    }
    rc = witness_logs_load(logs_path, &logs);
    rc = rc ? rc : init_store(data);
    struct witness_app app = {.dir = data, .signer = signer, .logs = logs};
    rc = rc ? rc : serve(&app, listen, port_file);
    witness_logs_free(logs);
    ov_note_signer_free(signer);
    return rc == 0 ? 0 : 1;
}
