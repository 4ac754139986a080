/* cli: the small conventions every onevoice program shares: long options from a table
 * (with --help generated from it), the data directory, the port file, stop signals, and
 * process hardening. Arguments are input too: each has a checker and a bounded length. */
#ifndef OV_CLI_H
#define OV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/bytes.h"
#include "base/err.h"

#define OV_CLI_MAX_ARG_LEN  4096
#define OV_CLI_MAX_CONF_LEN (64u * 1024u) /* the largest configuration file */

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
/* Configuration files: ov_cli_parse_conf takes, besides the options, `--config FILE` (a
 * file of settings) and `--print-config` (print the settings in force and exit). No file is
 * ever read unless named by --config. The file's format, one setting a line:
 *
 *     # a comment: a line whose first non-blank character is '#'
 *     listen = 0.0.0.0:8443        NAME = VALUE, NAME the long option without its "--"
 *     opaque-entries = true        a flag: true or false
 *
 * Blanks (spaces, tabs, a CR before the newline) around NAME, '=' and VALUE are dropped;
 * VALUE is the rest of the line, taken as one argument would be (no quotes, no escapes;
 * paths as on the command line, relative to the working directory). It is checked exactly
 * as the option's argument is (the same code sets both). Refused, with "FILE line N:" and
 * the reason on stderr: a line without '=', an unknown NAME, a NAME set twice, an empty
 * VALUE, a flag's VALUE other than true/false, a VALUE with a control character or a blank
 * followed by '#' (a comment takes a line of its own: a value is never cut silently), a
 * VALUE its option refuses, and an option that is a command rather than a setting: --help,
 * --config, every --print-* option and the names in cli_only (a server's --init, --backup,
 * --restore). A file over OV_CLI_MAX_CONF_LEN or holding a NUL byte is refused whole.
 *
 * The command line wins: an option given there keeps its value, the file's (still checked)
 * is dropped. A flag cannot be unset from the command line: `NAME = true` in the file stays.
 *
 * --print-config prints, after all is parsed, every setting option (not the commands
 * above) in this format, each after its help as a comment: `NAME = VALUE` for one set by the
 * file or the command line, `NAME = true|false` for a flag, and `# NAME = METAVAR` for one
 * left unset, whose default (which its help names) applies. Its output is a valid file,
 * and printing what it printed gives the same text. Options hold no secrets (keys and
 * credentials are named by path, never given inline), so it prints none. A command-line
 * value that the format cannot carry is refused. */
struct ov_cli_conf {
    const char *const *cli_only; /* in: options a file may not set, NULL-terminated, or NULL */
    struct ov_buf text;          /* the file read: the values taken from it point into it */
};

/* ov_cli_parse with --config and --print-config (above), and --version (a server's whole
 * command line, where ov_cli_parse may be one command's): 1 once --help, --version or
 * --print-config printed (exit 0). The values set from the file live until ov_cli_conf_free(conf). */
OV_MUST_CHECK int ov_cli_parse_conf(int argc, char **argv, const char *summary,
                                    const struct ov_cli_opt *opts, size_t n_opts,
                                    struct ov_cli_conf *conf);
void ov_cli_conf_free(struct ov_cli_conf *conf);

/* --version: prints "PROG VERSION" on one line, PROG without its directory and VERSION the
 * Makefile's. A program that parses its own command line lists --version in its --help
 * with this text. */
#define OV_CLI_VERSION_HELP "print the program's name and version and exit"
void ov_cli_print_version(FILE *f, const char *prog);

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
