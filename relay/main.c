/* onevoice-relay: the Oblivious HTTP relay (RFC 9458 "Oblivious Relay Resource") the project
 * ships: POST /relay/NAME forwards an Encapsulated Request to the gateway NAME and returns its
 * answer (relay/README.md, docs/PROTOCOL.md §13). It keeps no state: its data directory
 * holds only its lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/server.h"
#include "relay.h"

static const char summary[] =
    "An Oblivious HTTP relay (RFC 9458): POST /relay/NAME with a message/ohttp-req body is\n"
    "forwarded to the gateway named NAME (a server's POST /gateway; https verified, or http to\n"
    "this machine) and its answer returned. The relay sees the sender's address but not the\n"
    "request; the server sees the request but not the address. It adds nothing to the request\n"
    "(no address, no header but Content-Type and Content-Length), keeps no log of addresses or\n"
    "bodies, and keeps no state.";

static struct {
    const char *gateways, *threads, *timeout;
    struct relay_app app;
} g;

static int
prepare(void *ctx, const struct ov_server_args *args)
{
    (void)ctx;
    (void)args;
    if (g.gateways == NULL) {
        fprintf(stderr, "onevoice-relay: --gateway NAME=URL[,NAME=URL...] is required\n");
        return OV_SERVER_USAGE;
    }
    char why[256];
    if (relay_gateways_parse(g.gateways, &g.app, why, sizeof why) != 0) {
        fprintf(stderr, "onevoice-relay: --gateway: %s\n", why);
        return OV_SERVER_USAGE;
    }
    g.app.timeout_ms = RELAY_DEFAULT_TIMEOUT_MS;
    if (g.timeout != NULL) {
        char *end;
        unsigned long s = strtoul(g.timeout, &end, 10);
        if (end == g.timeout || *end != '\0' || s == 0 || s > 120) {
            fprintf(stderr, "onevoice-relay: --timeout takes 1..120 seconds\n");
            return OV_SERVER_USAGE;
        }
        g.app.timeout_ms = (uint32_t)s * 1000u;
    }
    return 0;
}

static int
start(void *ctx, const struct ov_server_args *args, struct ov_metrics *m,
      struct ov_http_cfg *hcfg)
{
    (void)ctx;
    (void)args;
    int rc = relay_app_init(&g.app, m);
    unsigned threads = RELAY_DEFAULT_THREADS;
    if (g.threads != NULL) {
        char *end;
        unsigned long n = strtoul(g.threads, &end, 10);
        threads = end != g.threads && *end == '\0' && n >= 1 && n <= 1024 ? (unsigned)n : 0;
        if (threads == 0) {
            fprintf(stderr, "onevoice-relay: --threads takes 1..1024\n");
            return OV_SERVER_USAGE;
        }
    }
    hcfg->routes = relay_routes;
    hcfg->n_routes = relay_n_routes;
    hcfg->user = &g.app;
    hcfg->n_threads = threads;
    return rc;
}

static void
stop(void *ctx)
{
    (void)ctx;
    relay_app_clear(&g.app);
}

static void
describe(void *ctx, char *buf, size_t len)
{
    (void)ctx;
    snprintf(buf, len, "relaying to %zu gateways", g.app.n_gateways);
}

static const struct ov_cli_opt opts[] = {
    { "--gateway", "NAME=URL[,NAME=URL...]",
      "the gateways: POST /relay/NAME goes to URL (a server's .../gateway)", &g.gateways, NULL,
      NULL },
    { "--timeout", "S", "how long a gateway may take to answer (default 30)", &g.timeout, NULL,
      NULL },
    { "--threads", "N",
      "requests relayed at once: each holds a thread while its gateway answers (default 32)",
      &g.threads, NULL, NULL },
};

int
main(int argc, char **argv)
{
    const struct ov_server spec = {
        .prog = "onevoice-relay",
        .summary = summary,
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .prepare = prepare,
        .start = start,
        .stop = stop,
        .describe = describe,
    };
    return ov_server_main(&spec, argc, argv);
}
