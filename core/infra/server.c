#include "infra/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "infra/addr.h"

#define N_COMMON 3

/* --listen, --data, --port-file, then the server's own: one table for --help. */
static int
parse(const struct ov_server *s, int argc, char **argv, struct ov_server_args *args)
{
    const struct ov_cli_opt common[N_COMMON] = {
        { "--listen", "HOST:PORT", "address to serve on (default 127.0.0.1:0)", &args->listen,
          NULL, ov_addr_check },
        { "--data", "DIR", "state directory (required; created 0700)", &args->data, NULL,
          NULL },
        { "--port-file", "FILE", "write the bound port here once serving", &args->port_file,
          NULL, NULL },
    };
    struct ov_cli_opt *opts = calloc(N_COMMON + s->n_opts, sizeof *opts);
    if (opts == NULL) {
        return -OV_E_NOMEM;
    }
    memcpy(opts, common, sizeof common);
    if (s->n_opts > 0) {
        memcpy(opts + N_COMMON, s->opts, s->n_opts * sizeof *opts);
    }
    int rc = ov_cli_parse(argc, argv, s->summary, opts, N_COMMON + s->n_opts);
    free(opts);
    return rc;
}

/* HTTP up, the port written, then serving until a stop signal. */
static int
serve(const struct ov_server *s, const struct ov_server_args *args, struct ov_http_cfg *hcfg)
{
    struct ov_http *http = NULL;
    int rc = ov_http_start(hcfg, &http);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot listen on %s: %s\n", s->prog,
                args->listen ? args->listen : OV_ADDR_DEFAULT, ov_strerror(rc));
        return rc;
    }
    if (s->serving != NULL) {
        s->serving(s->app, http);
    }
    if (args->port_file != NULL) {
        rc = ov_cli_write_port(args->port_file, ov_http_port(http));
    }
    if (rc == 0) {
        char what[512] = "";
        if (s->describe != NULL) {
            s->describe(s->app, what, sizeof what);
        }
        fprintf(stderr, "%s: %s%sserving on port %u\n", s->prog, what, what[0] ? ", " : "",
                ov_http_port(http));
    }
    while (rc == 0 && !ov_cli_wait_ms(UINT32_MAX)) {
    }
    if (s->serving != NULL) {
        s->serving(s->app, NULL);
    }
    ov_http_stop(http);
    return rc;
}

static int
status_of(int rc)
{
    return rc == 0 || rc == OV_SERVER_DONE ? 0 : (rc == OV_SERVER_USAGE ? 2 : 1);
}

int
ov_server_main(const struct ov_server *s, int argc, char **argv)
{
    struct ov_server_args args = { NULL, NULL, NULL };
    /* first, before any thread: every thread then inherits the blocked stop signals */
    if (ov_cli_signals_init() != 0) {
        return 1;
    }
    int rc = parse(s, argc, argv, &args);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (args.data == NULL) {
        fprintf(stderr, "%s: --data DIR is required (see --help)\n", s->prog);
        return 2;
    }
    umask(077); /* databases, WAL files and keys: the owner's alone */
    if (sodium_init() < 0 || ov_cli_harden() != 0 || ov_cli_data_dir(args.data) != 0) {
        return 1;
    }
    rc = s->prepare(s->app, &args);
    if (rc != 0) {
        s->stop(s->app);
        return status_of(rc);
    }
    struct ov_metrics *metrics = NULL;
    rc = ov_cli_lock_data_dir(args.data, s->prog);
    rc = rc ? rc : ov_metrics_new(&metrics);
    struct ov_http_cfg hcfg;
    memset(&hcfg, 0, sizeof hcfg);
    hcfg.listen = args.listen;
    hcfg.metrics = metrics;
    if (rc == 0) {
        rc = s->start(s->app, &args, metrics, &hcfg);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot start: %s\n", s->prog, ov_strerror(rc));
        }
        if (rc == 0) {
            rc = serve(s, &args, &hcfg);
        }
    }
    s->stop(s->app);
    ov_metrics_free(metrics);
    return status_of(rc);
}
