/* onevoice-log: the transparency log server (see log/README.md and docs/PROTOCOL.md §4). */
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "infra/cli.h"
#include "base/clock.h"
#include "base/codec.h"
#include "infra/keyfile.h"
#include "store.h"
#include "witnesses.h"

static const char summary[] =
    "The onevoice transparency log: an append-only Merkle tree (RFC 9162) of deterministic-CBOR\n"
    "entries from authorised producers, served as C2SP tlog-tiles with signed C2SP checkpoints,\n"
    "cosigned by C2SP tlog-witnesses. State lives in DIR/log.db (SQLite, WAL, synchronous=FULL);\n"
    "the checkpoint key in DIR/log.key (mode 0600), created on first start for --origin.";

/* The server the sequencer's threads wake; the lock keeps it alive while they do. */
static pthread_mutex_t g_http_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ov_http *g_http;

static void
notify(void *ctx, int event)
{
    (void)ctx;
    pthread_mutex_lock(&g_http_mu);
    if (g_http != NULL) {
        ov_http_notify_channel(g_http, (unsigned)event);
    }
    pthread_mutex_unlock(&g_http_mu);
}

static void
set_http(struct ov_http *h)
{
    pthread_mutex_lock(&g_http_mu);
    g_http = h;
    pthread_mutex_unlock(&g_http_mu);
}

static int
check_u32(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n <= 3600000 ? 0 : -OV_E_MALFORMED;
}

static uint32_t
u32_or(const char *v, uint32_t def)
{
    uint64_t n = def;
    if (v != NULL && ov_parse_u64(v, strlen(v), &n) != 0) {
        n = def;
    }
    return (uint32_t)n;
}

/* Loads the checkpoint key: --key FILE, else DIR/log.key, created for --origin if absent. */
static int
load_key(const char *dir, const char *key_path, const char *origin, struct ov_note_signer **out)
{
    char path[4096];
    int rc;
    if (key_path != NULL) {
        rc = ov_keyfile_load_note_key(key_path, out);
    } else {
        char db_path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/log.key", dir);
        snprintf(db_path, sizeof db_path, "%s/log.db", dir);
        if (stat(path, &sb) == 0 && stat(db_path, &sb) != 0) {
            /* Its key signed checkpoints of a history this directory no longer holds:
             * starting afresh would sign other roots for the same sizes (a fork). */
            fprintf(stderr, "onevoice-log: %s exists but %s does not: refusing to start a "
                            "second history under the same key\n", path, db_path);
            return -OV_E_STATE;
        }
        rc = ov_keyfile_load_note_key(path, out);
        if (rc == -OV_E_NOT_FOUND) {
            if (origin == NULL) {
                fprintf(stderr, "onevoice-log: a new log needs --origin NAME\n");
                return -OV_E_MALFORMED;
            }
            rc = ov_keyfile_create_note_key(path, OV_BYTES(origin, strlen(origin)),
                                            OV_NOTE_TYPE_ED25519, out);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-log: checkpoint key: %s\n", ov_strerror(rc));
        return rc;
    }
    const struct ov_note_verifier *v = ov_note_signer_verifier(*out);
    if (origin != NULL && strcmp(origin, v->name) != 0) {
        fprintf(stderr, "onevoice-log: --origin %s differs from the key's name %s\n", origin,
                v->name);
        ov_note_signer_free(*out);
        *out = NULL;
        return -OV_E_MALFORMED;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *listen = NULL, *data = NULL, *port_file = NULL, *origin = NULL, *key = NULL;
    const char *producers = NULL, *witnesses = NULL, *quorum = NULL, *cp_ms = NULL;
    const char *batch_ms = NULL, *threads = NULL;
    bool print_vkey = false, opaque = false;
    const struct ov_cli_opt opts[] = {
        { "--listen", "HOST:PORT", "address to serve on (default 127.0.0.1:0)", &listen, NULL,
          ov_addr_check },
        { "--data", "DIR", "state directory (required; created 0700)", &data, NULL, NULL },
        { "--port-file", "FILE", "write the bound port here once serving", &port_file, NULL,
          NULL },
        { "--origin", "NAME", "the log's origin and key name, e.g. votes.example.org/log", &origin,
          NULL, NULL },
        { "--key", "FILE", "use this checkpoint key (x/mod PRIVATE+KEY format, mode 0600)", &key,
          NULL, NULL },
        { "--print-vkey", NULL, "print the log's C2SP verifier key and exit", NULL, &print_vkey,
          NULL },
        { "--producers", "FILE", "producers allowed to append: lines \"NAME BASE64-ED25519-KEY\"",
          &producers, NULL, NULL },
        { "--witnesses", "FILE", "witnesses: lines \"URL COSIGNATURE-VKEY\"", &witnesses, NULL,
          NULL },
        { "--quorum", "N", "witness cosignatures a checkpoint needs (default: all)", &quorum,
          NULL, check_u32 },
        { "--checkpoint-ms", "MS", "at most one checkpoint per MS (default 250)", &cp_ms, NULL,
          check_u32 },
        { "--batch-ms", "MS", "a batch waits up to MS for more appends (default 0: group "
          "commit only)", &batch_ms, NULL, check_u32 },
        { "--threads", "N", "HTTP worker threads (default: cores)", &threads, NULL, check_u32 },
        { "--opaque-entries", NULL, "accept any bytes as entries, not only onevoice CBOR", NULL,
          &opaque, NULL },
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int rc = ov_cli_parse(argc, argv, summary, opts, n_opts);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (data == NULL) {
        fprintf(stderr, "onevoice-log: --data DIR is required (see --help)\n");
        return 2;
    }
    struct ov_note_signer *signer = NULL;
    struct tlog_producers *prods = NULL;
    struct tlog_witnesses *wits = NULL;
    struct tlog_app app;
    memset(&app, 0, sizeof app);
    if (ov_cli_signals_init() != 0 || ov_cli_harden() != 0 || ov_cli_data_dir(data) != 0 ||
        load_key(data, key, origin, &signer) != 0) {
        return 1;
    }
    struct ov_buf vk;
    ov_buf_init(&vk, OV_NOTE_MAX_VKEY_LEN);
    if (ov_note_vkey_format(ov_note_signer_verifier(signer), &vk) != 0) {
        return 1;
    }
    memcpy(app.vkey, vk.ptr, vk.len);
    app.vkey[vk.len] = '\n';
    ov_buf_clear(&vk);
    /* the database is created with the key, so that a key without its database always
     * means a lost history (load_key) */
    struct ov_db *db = NULL;
    if (tlog_store_open(data, &db) != 0) {
        fprintf(stderr, "onevoice-log: cannot open %s/log.db\n", data);
        return 1;
    }
    ov_db_close(db);
    db = NULL;
    if (print_vkey) {
        fputs(app.vkey, stdout);
        ov_note_signer_free(signer);
        return 0;
    }
    if (ov_cli_lock_data_dir(data, "onevoice-log") != 0) {
        return 1;
    }
    if (producers == NULL) {
        fprintf(stderr, "onevoice-log: --producers FILE is required (see --help)\n");
        return 2;
    }
    if (tlog_producers_load(producers, &prods) != 0) {
        return 1;
    }
    if (witnesses != NULL &&
        tlog_witnesses_load(witnesses, u32_or(quorum, TLOG_QUORUM_ALL), &wits) != 0) {
        return 1;
    }
    app.dir = data;
    app.origin = ov_note_signer_verifier(signer)->name;
    app.opaque_entries = opaque;
    app.producers = prods;
    if (tlog_app_init(&app) != 0) {
        return 1;
    }
    uint64_t now = ov_now_ms();
    rc = tlog_store_open(data, &db);
    if (rc == 0) {
        rc = tlog_producers_load_nonces(prods, db, now);
    }
    ov_db_close(db);
    struct tlog_seq_cfg scfg = {
        .dir = data,
        .key = signer,
        .origin = app.origin,
        .checkpoint_ms = u32_or(cp_ms, 250),
        .batch_ms = u32_or(batch_ms, 0),
        .witnesses = wits,
        .notify = notify,
    };
    if (rc == 0) {
        rc = tlog_seq_start(&scfg, &app.seq);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-log: cannot start: %s\n", ov_strerror(rc));
        return 1;
    }
    struct ov_http_cfg hcfg = {
        .listen = listen,
        .routes = tlog_routes,
        .n_routes = tlog_n_routes,
        .user = &app,
        .n_threads = u32_or(threads, 0),
        .precheck = tlog_precheck,
    };
    struct ov_http *http = NULL;
    rc = ov_http_start(&hcfg, &http);
    if (rc != 0) {
        fprintf(stderr, "onevoice-log: cannot listen on %s: %s\n", listen ? listen : "default",
                ov_strerror(rc));
        tlog_seq_stop(app.seq);
        return 1;
    }
    struct ov_metrics *m = ov_http_metrics(http);
    /* a metric that failed to register stays NULL, which the counters ignore */
    if (ov_metrics_counter(m, "tlog_entries_appended_total", "Entries acknowledged to producers",
                           NULL, &app.appended) != 0 ||
        ov_metrics_counter(m, "tlog_appends_refused_total", "Append requests refused", NULL,
                           &app.refused) != 0) {
        fprintf(stderr, "onevoice-log: metrics unavailable\n");
    }
    set_http(http);
    app.http = http;
    if (port_file != NULL && ov_cli_write_port(port_file, ov_http_port(http)) != 0) {
        rc = 1;
    }
    fprintf(stderr, "onevoice-log: %s serving on port %u\n", app.origin, ov_http_port(http));
    while (rc == 0 && !ov_cli_wait_ms(1000)) {
    }
    set_http(NULL);
    ov_http_stop(http);
    tlog_seq_stop(app.seq);
    tlog_witnesses_free(wits);
    tlog_producers_free(prods);
    tlog_cache_free(app.cache);
    ov_note_signer_free(signer);
    return rc == 0 ? 0 : 1;
}
