/* onevoice-log: the transparency log server (see log/README.md and docs/PROTOCOL.md §4). */
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "join.h"
#include "protocol/joinnote.h"
#include "infra/server.h"
#include "base/clock.h"
#include "base/codec.h"
#include "infra/keyfile.h"
#include "protocol/logfiles.h"
#include "protocol/ohttpgw.h"
#include "store.h"
#include "witnesses.h"

static const char summary[] =
    "The onevoice transparency log: an append-only Merkle tree (RFC 9162) of deterministic-CBOR\n"
    "entries from authorised producers, served as C2SP tlog-tiles with signed C2SP checkpoints,\n"
    "cosigned by C2SP tlog-witnesses. State lives in DIR/log.db (SQLite, WAL, synchronous=FULL);\n"
    "the checkpoint key in DIR/log.key (mode 0600), created on first start for --origin.";

static int
check_u32(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n <= 3600000 ? 0 : -OV_E_MALFORMED;
}

static int
check_file_max(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n >= 1 && n <= OV_LOGFILE_HARD_MAX
               ? 0 : -OV_E_MALFORMED;
}

/* --web: a folder that exists, checked at start (not while parsing: --print-config of a
 * file naming /usr/share/onevoice/web works on a machine without it). Its files are read
 * at each request. */
static int
web_dir_ok(const char *v)
{
    struct stat st;
    if (v != NULL && (stat(v, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "onevoice-log: --web %s: not a folder\n", v);
        return -OV_E_NOT_FOUND;
    }
    return 0;
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
        /* a key whose log.db is lost would sign a second history (a fork): ov_server_main
         * refuses to start one (core/infra/server.h, "The state and its keys") */
        snprintf(path, sizeof path, "%s/log.key", dir);
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
    if (strcmp(v->name, OV_JOIN_FIRST_LINE) == 0) {
        /* a checkpoint of that origin would read as a join note's first line */
        fprintf(stderr, "onevoice-log: the origin %s is reserved\n", v->name);
        ov_note_signer_free(*out);
        *out = NULL;
        return -OV_E_MALFORMED;
    }
    return 0;
}

/* The log's own options and what it makes of them. */
static struct {
    const char *origin, *key, *producers, *witnesses, *quorum, *cp_ms, *batch_ms, *threads;
    const char *max_file, *web, *join;
    bool print_vkey, opaque;
    struct ov_note_signer *signer;
    struct tlog_producers *prods;
    struct tlog_witnesses *wits;
    struct tlog_app app;
    pthread_mutex_t http_mu; /* keeps the server alive while the sequencer wakes it */
} g = { .http_mu = PTHREAD_MUTEX_INITIALIZER };

static void
notify(void *ctx, int event)
{
    (void)ctx;
    pthread_mutex_lock(&g.http_mu);
    if (g.app.http != NULL) {
        ov_http_notify_channel(g.app.http, (unsigned)event);
    }
    pthread_mutex_unlock(&g.http_mu);
}

static void
serving(void *ctx, struct ov_http *http)
{
    (void)ctx;
    pthread_mutex_lock(&g.http_mu);
    g.app.http = http;
    pthread_mutex_unlock(&g.http_mu);
}

static int
prepare(void *ctx, const struct ov_server_args *args)
{
    (void)ctx;
    int rc = load_key(args->data, g.key, g.origin, &g.signer);
    struct ov_buf vk;
    ov_buf_init(&vk, OV_NOTE_MAX_VKEY_LEN);
    rc = rc ? rc : ov_note_vkey_format(ov_note_signer_verifier(g.signer), &vk);
    if (rc == 0) {
        memcpy(g.app.vkey, vk.ptr, vk.len);
        g.app.vkey[vk.len] = '\n';
    }
    ov_buf_clear(&vk);
    if (rc != 0) {
        return rc;
    }
    if (g.print_vkey) {
        fputs(g.app.vkey, stdout);
        return OV_SERVER_DONE;
    }
    if (g.producers == NULL) {
        fprintf(stderr, "onevoice-log: --producers FILE is required (see --help)\n");
        return OV_SERVER_USAGE;
    }
    return 0;
}

static int
start(void *ctx, const struct ov_server_args *args, struct ov_metrics *m,
      struct ov_http_cfg *hcfg)
{
    (void)ctx;
    int rc = web_dir_ok(g.web);
    /* the Oblivious HTTP gateway's key (docs/PROTOCOL.md §13), made under the lock */
    if (rc == 0 && ov_ohttpgw_open(args->data) != 0) {
        rc = -OV_E_IO;
    }
    rc = rc ? rc : tlog_producers_load(g.producers, &g.prods);
    if (rc == 0 && g.witnesses != NULL) {
        rc = tlog_witnesses_load(g.witnesses, u32_or(g.quorum, TLOG_QUORUM_ALL), &g.wits);
        /* before the publisher's first round, which the gauges must see */
        if (rc == 0 && tlog_witnesses_metrics(g.wits, m) != 0) {
            fprintf(stderr, "onevoice-log: witness metrics unavailable\n");
        }
    }
    g.app.dir = args->data;
    g.app.origin = ov_note_signer_verifier(g.signer)->name;
    g.app.opaque_entries = g.opaque;
    g.app.web_dir = g.web;
    g.app.producers = g.prods;
    g.app.witnesses = g.wits;
    g.app.max_file_bytes = OV_LOGFILE_DEFAULT_MAX;
    if (g.max_file != NULL && ov_parse_u64(g.max_file, strlen(g.max_file),
                                           &g.app.max_file_bytes) != 0) {
        g.app.max_file_bytes = OV_LOGFILE_DEFAULT_MAX; /* checked by check_file_max */
    }
    g.app.join_path = g.join;
    g.app.signer = g.signer;
    if (rc == 0 && g.join != NULL) {
        /* checked now so that a mistake stops the start; read again at each GET /join */
        struct ov_buf note;
        char why[256];
        rc = tlog_join_note(&g.app, &note, why, sizeof why);
        if (rc == -OV_E_NOT_FOUND) {
            /* published once the operator knows every URL (they may start after the log) */
            fprintf(stderr, "onevoice-log: --join %s: no such file yet; GET /join answers 404 "
                            "until it exists\n", g.join);
            rc = 0;
        } else if (rc != 0) {
            fprintf(stderr, "onevoice-log: --join %s\n", why);
        }
        ov_buf_clear(&note);
    }
    rc = rc ? rc : tlog_app_init(&g.app);
    rc = rc ? rc : tlog_files_init(args->data);
    struct ov_db *db = NULL;
    rc = rc ? rc : tlog_store_open(args->data, &db);
    rc = rc ? rc : tlog_producers_load_nonces(g.prods, db, ov_now_ms());
    ov_db_close(db);
    struct tlog_seq_cfg scfg = {
        .dir = args->data,
        .key = g.signer,
        .origin = g.app.origin,
        .checkpoint_ms = u32_or(g.cp_ms, 250),
        .batch_ms = u32_or(g.batch_ms, 0),
        .witnesses = g.wits,
        .notify = notify,
        .metrics = m,
    };
    rc = rc ? rc : tlog_seq_start(&scfg, &g.app.seq);
    /* a metric that failed to register stays NULL, which the counters ignore */
    if (rc == 0 &&
        (ov_metrics_counter(m, "tlog_entries_appended_total", "Entries acknowledged to producers",
                            NULL, &g.app.appended) != 0 ||
         ov_metrics_counter(m, "tlog_appends_refused_total", "Append requests refused", NULL,
                            &g.app.refused) != 0 ||
         ov_metrics_counter(m, "tlog_files_stored_total", "Files stored by POST /files (new "
                            "ones)", NULL, &g.app.files_stored) != 0 ||
         ov_metrics_counter(m, "tlog_file_bytes_stored_total", "Bytes of the files stored",
                            NULL, &g.app.file_bytes_stored) != 0 ||
         ov_metrics_counter(m, "tlog_file_uploads_refused_total", "File uploads refused", NULL,
                            &g.app.files_refused) != 0 ||
         ov_ohttpgw_metrics(m) != 0)) {
        fprintf(stderr, "onevoice-log: metrics unavailable\n");
    }
    hcfg->routes = tlog_routes;
    hcfg->n_routes = tlog_n_routes;
    hcfg->user = &g.app;
    hcfg->n_threads = u32_or(g.threads, 0);
    hcfg->precheck = tlog_precheck;
    return rc;
}

static void
stop(void *ctx)
{
    (void)ctx;
    tlog_seq_stop(g.app.seq);
    tlog_witnesses_free(g.wits);
    tlog_producers_free(g.prods);
    tlog_cache_free(g.app.cache);
    ov_note_signer_free(g.signer);
    ov_ohttpgw_close();
}

/* The key log.db is bound to: the log's verifier key, origin included. */
static struct ov_bytes
state_key(void *ctx)
{
    (void)ctx;
    size_t n = strlen(g.app.vkey);
    return OV_BYTES(g.app.vkey, n > 0 ? n - 1 : 0); /* without its newline */
}

static const char *const key_files[] = { "log.key", NULL };

static void
describe(void *ctx, char *buf, size_t len)
{
    (void)ctx;
    snprintf(buf, len, "%s", g.app.origin);
}

static const struct ov_cli_opt opts[] = {
    { "--origin", "NAME", "the log's origin and key name, e.g. votes.example.org/log", &g.origin,
      NULL, NULL },
    { "--key", "FILE", "use this checkpoint key (x/mod PRIVATE+KEY format, mode 0600)", &g.key,
      NULL, NULL },
    { "--print-vkey", NULL, "print the log's C2SP verifier key and exit", NULL, &g.print_vkey,
      NULL },
    { "--producers", "FILE", "producers allowed to append: lines \"NAME BASE64-ED25519-KEY\"",
      &g.producers, NULL, NULL },
    { "--witnesses", "FILE", "witnesses: lines \"URL COSIGNATURE-VKEY\"", &g.witnesses, NULL,
      NULL },
    { "--quorum", "N", "witness cosignatures a checkpoint needs (default: all)", &g.quorum,
      NULL, check_u32 },
    { "--checkpoint-ms", "MS", "at most one checkpoint per MS (default 250)", &g.cp_ms, NULL,
      check_u32 },
    { "--batch-ms", "MS", "a batch waits up to MS for more appends (default 0: group "
      "commit only)", &g.batch_ms, NULL, check_u32 },
    { "--threads", "N", "HTTP worker threads (default: cores)", &g.threads, NULL, check_u32 },
    { "--max-file-bytes", "N", "the largest file POST /files takes (default 67108864, "
      "at most 1073741824)", &g.max_file, NULL, check_file_max },
    { "--web", "DIR", "serve the transparency page from DIR at /web/ (and / redirects there)",
      &g.web, NULL, NULL },
    { "--join", "FILE", "publish the join bundle at GET /join: FILE's lines \"name TEXT\", "
      "\"log URL\", \"issuer URL\", \"verifier URL\" (and optionally \"relay URL\", \"web URL\"), "
      "signed with this log's key, witnesses and quorum (FILE read again at each request)",
      &g.join, NULL, NULL },
    { "--opaque-entries", NULL, "accept any bytes as entries, not only onevoice CBOR", NULL,
      &g.opaque, NULL },
};

int
main(int argc, char **argv)
{
    const struct ov_server spec = {
        .prog = "onevoice-log",
        .summary = summary,
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .prepare = prepare,
        .start = start,
        .serving = serving,
        .stop = stop,
        .describe = describe,
        .state_file = "log.db",
        .state_open = tlog_store_open,
        .key_files = key_files,
        .state_key = state_key,
    };
    return ov_server_main(&spec, argc, argv);
}
