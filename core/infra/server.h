/* server: the life of every onevoice server, once. ov_server_main parses the options every
 * server shares (--listen, --data, --port-file, then the server's own), blocks the stop
 * signals before any thread exists, hardens the process, makes the data directory, lets the
 * server load its keys (where a --print-* flag may end the run), takes the data directory's
 * lock for the life of the process, lets the server open its state and start its threads,
 * serves HTTP (/healthz and /metrics included) until SIGINT or SIGTERM, and stops in the
 * one safe order: the HTTP server first (no request is left to wake), then the server's own
 * threads, then the metrics. A server's main says only what is its own:
 *
 *     static const struct ov_server spec = { "onevoice-log", summary, opts, n_opts, &app,
 *                                            prepare, start, serving, stop };
 *     int main(int argc, char **argv) { return ov_server_main(&spec, argc, argv); }
 */
#ifndef OV_SERVER_H
#define OV_SERVER_H

#include <stddef.h>

#include "infra/cli.h"
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
};

/* Runs the server; returns the process's exit status (0, 1 failure, 2 usage). */
int ov_server_main(const struct ov_server *s, int argc, char **argv);

#endif
