/* onevoice-verifier: counts each token's action exactly once, logs it, and gives a receipt
 * (see verifier/README.md and docs/PROTOCOL.md §8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/epoch.h"
#include "commit.h"
#include "epoch.h"
#include "follower.h"
#include "routes.h"
#include "sender.h"
#include "protocol/witlist.h"
#include "store.h"
#include "infra/server.h"
#include "base/codec.h"
#include "infra/keyfile.h"
#include "protocol/ohttpgw.h"

static const char summary[] =
    "The onevoice verifier: checks Privacy Pass tokens and signed actions for the contexts the\n"
    "log publishes, counts each token's action exactly once, appends it to the log and answers\n"
    "with a receipt (index, signed checkpoint, inclusion proof). State: DIR/verifier.db (SQLite,\n"
    "WAL, synchronous=FULL); its log producer key: DIR/producer.key (mode 0600, created on\n"
    "first start). It holds no secret of the issuer: contexts and their keys come from the log.";


static int
check_u32(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n <= 100000000 ? 0 : -OV_E_MALFORMED;
}

static int
check_epoch(const char *v)
{
    uint64_t n;
    return ov_parse_u64(v, strlen(v), &n) == 0 && n <= OV_EPOCH_MAX_S ? 0 : -OV_E_MALFORMED;
}

static uint64_t
u64_or(const char *v, uint64_t def)
{
    uint64_t n = def;
    if (v != NULL && ov_parse_u64(v, strlen(v), &n) != 0) {
        n = def;
    }
    return n;
}

/* The witnesses file (core/protocol/witlist.h: "[URL ]COSIGNATURE-VKEY" lines, so the log's
 * own --witnesses file serves). */
static int
load_witnesses(const char *path, struct ov_note_verifier *out, size_t *n)
{
    struct ov_witness_line lines[OV_LOGREADER_MAX_WITNESSES];
    int rc = ov_witlist_load("onevoice-verifier", path, lines, OV_LOGREADER_MAX_WITNESSES, n);
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        out[i] = lines[i].key;
    }
    return rc;
}

static int
producer_key(const char *dir, struct ov_sign_key **out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/producer.key", dir);
    int rc = ov_keyfile_load_sign_key(path, out);
    if (rc == -OV_E_NOT_FOUND) {
        rc = ov_keyfile_create_sign_key(path, out);
    }
    if (rc != 0) {
        fprintf(stderr, "onevoice-verifier: %s: %s\n", path, ov_strerror(rc));
    }
    return rc;
}

static int
register_metrics(struct vf_app *app, struct ov_metrics *m)
{
    int rc = ov_metrics_counter(m, "verifier_actions_counted_total",
                                "Actions counted (new rows)", NULL, &app->m_counted);
    rc = rc ? rc : ov_metrics_counter(m, "verifier_actions_duplicate_total",
                                      "Ballots submitted again, answered with their receipt", NULL,
                                      &app->m_duplicate);
    rc = rc ? rc : ov_metrics_counter(m, "verifier_statements_counted_total",
                                      "Statements of statement rounds counted (new rows)", NULL,
                                      &app->m_statements);
    rc = rc ? rc : ov_metrics_counter(m, "verifier_log_errors_total",
                                      "Failed appends to and reads of the log", NULL,
                                      &app->m_log_errors);
    rc = rc ? rc : ov_metrics_counter(m, "verifier_entries_adopted_total",
                                      "Actions and tallies found in the log without a row here "
                                      "(a restored or new database), adopted",
                                      NULL, &app->m_adopted);
    rc = rc ? rc : ov_metrics_counter(m, "verifier_entries_appended_total",
                                      "Outbox entries the log acknowledged", NULL, &app->m_appended);
    rc = rc ? rc : ov_metrics_gauge(m, "verifier_outbox_pending",
                                    "Outbox entries the log has not acknowledged", NULL,
                                    &app->m_pending);
    rc = rc ? rc : ov_metrics_gauge(m, "verifier_log_size", "The verified checkpoint's size",
                                    NULL, &app->m_log_size);
    rc = rc ? rc : ov_metrics_gauge(m, "verifier_tally_size", "The log size the tallies count",
                                    NULL, &app->m_tally_size);
    rc = rc ? rc : ov_metrics_gauge(m, "verifier_contexts", "Contexts learned from the log",
                                    NULL, &app->m_contexts);
    rc = rc ? rc : ov_metrics_gauge(m, "verifier_outbox_held",
                                    "Outbox entries held until their epoch ends (--epoch-seconds)",
                                    NULL, &app->m_held);
    rc = rc ? rc : ov_metrics_counter(m, "verifier_epoch_flushes_total",
                                      "Epochs whose held entries the sender sent", NULL,
                                      &app->m_flushes);
    return rc;
}

/* The verifier's own options and what it makes of them. */
static struct {
    const char *log_url, *vkey, *witnesses, *quorum, *poll, *threads, *window, *conns;
    const char *min_rater, *min_note, *epoch;
    bool print_key;
    struct ov_note_verifier wits[OV_LOGREADER_MAX_WITNESSES];
    struct vf_app app;
    bool app_ready, committing, sending; /* what stop must undo */
} g;

static int
prepare(void *ctx, const struct ov_server_args *args)
{
    (void)ctx;
    struct vf_app *app = &g.app;
    int rc = producer_key(args->data, &app->producer_key);
    if (rc == 0 && g.print_key) {
        char b64[64];
        rc = ov_b64_encode(b64, sizeof b64, ov_sign_key_pk(app->producer_key), OV_SIGN_PK_LEN,
                           OV_B64_STD);
        if (rc == 0) {
            printf("%s %s\n", VF_PRODUCER, b64);
        }
        return rc ? rc : OV_SERVER_DONE;
    }
    if (rc != 0) {
        return rc;
    }
    size_t n_wits = 0;
    if (g.log_url == NULL || g.vkey == NULL) {
        fprintf(stderr, "onevoice-verifier: --log URL and --log-vkey VKEY are required\n");
        return OV_SERVER_USAGE;
    }
    if (ov_note_vkey_parse(OV_BYTES(g.vkey, strlen(g.vkey)), &app->log.log_key) != 0 ||
        app->log.log_key.type != OV_NOTE_TYPE_ED25519) {
        fprintf(stderr, "onevoice-verifier: --log-vkey is not a log's Ed25519 vkey\n");
        return OV_SERVER_USAGE;
    }
    if (g.witnesses != NULL && load_witnesses(g.witnesses, g.wits, &n_wits) != 0) {
        return OV_SERVER_USAGE;
    }
    app->dir = args->data;
    app->log.url = g.log_url;
    app->log.witnesses = g.wits;
    app->log.n_witnesses = n_wits;
    app->log.quorum = (unsigned)u64_or(g.quorum, n_wits);
    if (app->log.quorum > n_wits) {
        fprintf(stderr, "onevoice-verifier: --quorum %u exceeds the %zu witnesses\n",
                app->log.quorum, n_wits);
        return OV_SERVER_USAGE;
    }
    app->poll_ms = (uint32_t)u64_or(g.poll, 100);
    app->epoch_s = (uint32_t)u64_or(g.epoch, VF_EPOCH_S); /* check_epoch: <= OV_EPOCH_MAX_S */
    app->window_max = u64_or(g.window, 1u << 20);
    app->bridge.min_ratings_per_rater =
        (uint32_t)u64_or(g.min_rater, OV_BRIDGE_DEFAULT_MIN_RATINGS_PER_RATER);
    app->bridge.min_raters_per_note =
        (uint32_t)u64_or(g.min_note, OV_BRIDGE_DEFAULT_MIN_RATERS_PER_NOTE);
    if (app->window_max < 2) {
        app->window_max = 2;
    }
    return 0;
}

static int
start(void *ctx, const struct ov_server_args *args, struct ov_metrics *m,
      struct ov_http_cfg *hcfg)
{
    (void)ctx;
    (void)args;
    struct vf_app *app = &g.app;
    int rc = vf_app_init(app);
    if (rc != 0) {
        return rc;
    }
    g.app_ready = true;
    if (ov_ohttpgw_open(app->dir) != 0) { /* the Oblivious HTTP gateway's key (§13), locked */
        return -OV_E_IO;
    }
    if (register_metrics(app, m) != 0 || ov_ohttpgw_metrics(m) != 0) {
        fprintf(stderr, "onevoice-verifier: metrics unavailable\n");
    }
    rc = vf_follower_init(app);
    rc = rc ? rc : vf_committer_start(app, m);
    g.committing = rc == 0;
    rc = rc ? rc : vf_sender_start(app);
    g.sending = rc == 0;
    rc = rc ? rc : vf_follower_start(app);
    unsigned max_conns = (unsigned)u64_or(g.conns, OV_HTTP_DEFAULT_CONN_LIMIT);
    hcfg->routes = vf_routes;
    hcfg->n_routes = vf_n_routes;
    hcfg->user = app;
    hcfg->n_threads = (unsigned)u64_or(g.threads, 0);
    hcfg->conn_limit = max_conns;
    /* headers and a 4 KiB body: libmicrohttpd zeroes this pool on every request */
    hcfg->memory_limit = 16 * 1024;
    return rc;
}

static void
serving(void *ctx, struct ov_http *http)
{
    (void)ctx;
    if (http == NULL) {
        atomic_store(&g.app.stopping, true);
    }
    atomic_store(&g.app.http, http);
    if (http != NULL && atomic_load(&g.app.caught_up)) {
        vf_notify(&g.app, VF_CH_CAUGHT_UP, 1); /* the follower may have been first */
    }
}

static void
stop(void *ctx)
{
    (void)ctx;
    struct vf_app *app = &g.app;
    atomic_store(&app->stopping, true);
    if (g.app_ready) {
        vf_follower_stop(app);
    }
    if (g.sending) {
        vf_sender_stop(app);
    }
    if (g.committing) {
        vf_committer_stop(app);
    }
    if (g.app_ready) {
        vf_app_clear(app);
    }
    ov_sign_key_free(app->producer_key);
    ov_ohttpgw_close();
}

/* The key verifier.db is bound to: the producer key the log knows the verifier by. */
static struct ov_bytes
state_key(void *ctx)
{
    (void)ctx;
    return g.app.producer_key != NULL ? OV_BYTES(ov_sign_key_pk(g.app.producer_key), OV_SIGN_PK_LEN)
                                      : OV_BYTES(NULL, 0);
}

static const char *const key_files[] = { "producer.key", NULL };

static void
describe(void *ctx, char *buf, size_t len)
{
    (void)ctx;
    snprintf(buf, len, "following %s", g.log_url);
}

static const struct ov_cli_opt opts[] = {
    { "--log", "URL", "the log to follow and append to (required)", &g.log_url, NULL, NULL },
    { "--log-vkey", "VKEY", "the log's C2SP verifier key, as its --print-vkey prints it",
      &g.vkey, NULL, NULL },
    { "--witnesses", "FILE", "witnesses whose cosignatures count: lines \"[URL ]VKEY\"",
      &g.witnesses, NULL, NULL },
    { "--quorum", "K", "cosignatures a checkpoint needs (default: every witness listed)",
      &g.quorum, NULL, check_u32 },
    { "--log-poll-ms", "MS", "how often to read the log's checkpoint (default 100)", &g.poll,
      NULL, check_u32 },
    { "--proof-window", "N", "log entries kept for local inclusion proofs (default 1048576)",
      &g.window, NULL, check_u32 },
    { "--threads", "N", "HTTP worker threads (default: cores)", &g.threads, NULL, check_u32 },
    { "--max-conns", "N",
      "concurrent connections in all (default 12288; a platform relaying from one address "
      "needs --exempt-addresses)",
      &g.conns, NULL, check_u32 },
    { "--min-ratings-per-rater", "N",
      "a statement round's bridging: ratings a rater needs to count (default 5; docs/PROTOCOL.md "
      "§11.1)",
      &g.min_rater, NULL, check_u32 },
    { "--min-raters-per-note", "N",
      "a statement round's bridging: raters a statement needs to be scored (default 10)",
      &g.min_note, NULL, check_u32 },
    { "--epoch-seconds", "N",
      "hold actions until the end of their N-second epoch, send each epoch's in a random "
      "order, their times rounded to its start; answers are then \"pending\" (default 300, at "
      "most 86400; 0: each at once; docs/PROTOCOL.md §3.1)", &g.epoch, NULL, check_epoch },
    { "--print-producer-key", NULL,
      "print the line for the log's --producers file (\"verifier <key>\") and exit", NULL,
      &g.print_key, NULL },
};

int
main(int argc, char **argv)
{
    const struct ov_server spec = {
        .prog = "onevoice-verifier",
        .summary = summary,
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .prepare = prepare,
        .start = start,
        .serving = serving,
        .stop = stop,
        .describe = describe,
        .state_file = "verifier.db",
        .state_open = vf_store_open,
        .key_files = key_files,
        .state_key = state_key,
    };
    return ov_server_main(&spec, argc, argv);
}
