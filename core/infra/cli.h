/* cli: the small conventions every onevoice program shares: long options from a table
 * (with --help generated from it), the data directory, the port file, stop signals, and
 * process hardening. Arguments are input too: each has a checker and a bounded length. */
#ifndef OV_CLI_H
#define OV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

#define OV_CLI_MAX_ARG_LEN 4096

struct ov_cli_opt {
    const char *name;            /* "--listen" */
    const char *metavar;         /* "HOST:PORT"; NULL for a flag */
    const char *help;            /* one line */
    const char **value;          /* set to the argument (borrowed from argv) */
    bool *flag;                  /* set for a flag */
    int (*check)(const char *v); /* optional: 0 if v is acceptable, e.g. ov_addr_check */
};

/* Parses argv[1..] as "--name value", "--name=value" or "--flag". "--help" and "-h"
 * print the usage to stdout and return 1 (the caller exits 0). Unknown, repeated or
 * valueless options, values failing their check, over-long values and positional
 * arguments print a message and the usage to stderr and return -OV_E_MALFORMED. */
OV_MUST_CHECK int ov_cli_parse(int argc, char **argv, const char *summary,
                               const struct ov_cli_opt *opts, size_t n_opts);
/* Prints "usage: PROG [options]", the summary and one line per option. */
void ov_cli_usage(FILE *f, const char *prog, const char *summary, const struct ov_cli_opt *opts,
                  size_t n_opts);

/* Makes dir (mode 0700) if missing; an existing one must be a directory we own, not
 * group- or world-writable. -OV_E_IO (with a message on stderr) otherwise. */
OV_MUST_CHECK int ov_cli_data_dir(const char *dir);
/* Takes DIR/lock (flock, held until the process exits): one server per data directory, as
 * a second one would be a second writer. -OV_E_STATE (with a message naming prog) when
 * another process holds it; -OV_E_READ_ONLY (a message saying so) when the lock file cannot
 * be opened for writing (a read-only mount, file modes, chattr +i); else -OV_E_IO. */
OV_MUST_CHECK int ov_cli_lock_data_dir(const char *dir, const char *prog);
/* Writes "PORT\n" to path atomically (tests poll for it). -OV_E_IO. */
OV_MUST_CHECK int ov_cli_write_port(const char *path, uint16_t port);

/* Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it creates
 * afterwards (call first in main, before any thread), and ignores SIGPIPE. The signals
 * are then only taken synchronously by ov_cli_wait_ms, so no handler runs anywhere.
 * -OV_E_IO. */
OV_MUST_CHECK int ov_cli_signals_init(void);
/* Waits up to ms (UINT32_MAX: forever) for SIGINT or SIGTERM. Returns true once one
 * has arrived, then always; use as `while (!ov_cli_wait_ms(1000)) { periodic work }`. */
bool ov_cli_wait_ms(uint32_t ms);
/* Whether a stop signal has been seen. */
bool ov_cli_stopping(void);

/* Servers: no core dumps and no ptrace by other processes of the same user, since
 * their memory holds keys (prctl PR_SET_DUMPABLE 0). -OV_E_IO. */
OV_MUST_CHECK int ov_cli_harden(void);

#endif
