#include "infra/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/clock.h"

/* The Makefile passes its VERSION to this file alone (-DOV_VERSION); a build by other
 * means (cppcheck) still compiles. */
#ifndef OV_VERSION
#define OV_VERSION "unknown"
#endif

static atomic_bool stop_seen;

/* One parse: the program, its summary and its whole table (--config and --print-config
 * included when the run takes a file). */
struct pctx {
    const char *prog, *summary;
    const struct ov_cli_opt *opts;
    size_t n;
    const char *const *cli_only; /* NULL when the run takes no file */
    bool version;                /* the program's --version is this parse's */
};

void
ov_cli_print_version(FILE *f, const char *prog)
{
    const char *slash = strrchr(prog, '/');
    fprintf(f, "%s %s\n", slash != NULL ? slash + 1 : prog, OV_VERSION);
}

static void
usage(FILE *f, const struct pctx *c)
{
    fprintf(f, "usage: %s [options]\n%s\n\noptions:\n", c->prog, c->summary);
    for (size_t i = 0; i < c->n; i++) {
        char left[128];
        snprintf(left, sizeof left, "%s%s%s", c->opts[i].name, c->opts[i].metavar ? " " : "",
                 c->opts[i].metavar ? c->opts[i].metavar : "");
        fprintf(f, "  %-28s %s\n", left, c->opts[i].help);
    }
    if (c->version) {
        fprintf(f, "  %-28s %s\n", "--version", OV_CLI_VERSION_HELP);
    }
    fprintf(f, "  %-28s %s\n", "--help", "print this help and exit");
}

void
ov_cli_usage(FILE *f, const char *prog, const char *summary, const struct ov_cli_opt *opts,
             size_t n_opts)
{
    const struct pctx c = { prog, summary, opts, n_opts, NULL, false };
    usage(f, &c);
}

static const struct ov_cli_opt *
find_opt(const struct ov_cli_opt *opts, size_t n_opts, const char *arg, size_t name_len)
{
    for (size_t i = 0; i < n_opts; i++) {
        if (strlen(opts[i].name) == name_len && memcmp(opts[i].name, arg, name_len) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

static int
bad(const struct pctx *c, const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s: %s\n", c->prog, what, arg);
    usage(stderr, c);
    return -OV_E_MALFORMED;
}

/* Gives the option its value, the same way from the command line and from a file: 0, or
 * -OV_E_MALFORMED (an over-long value, or one its check refuses). */
static int
set_value(const struct ov_cli_opt *o, const char *v)
{
    if (strnlen(v, OV_CLI_MAX_ARG_LEN + 1) > OV_CLI_MAX_ARG_LEN ||
        (o->check != NULL && o->check(v) != 0)) {
        return -OV_E_MALFORMED;
    }
    *o->value = v;
    return 0;
}

/* One argument; *i advances past a separate value. */
static int
parse_one(const struct pctx *c, int argc, char **argv, int *i, bool *seen)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct ov_cli_opt *o =
        strncmp(arg, "--", 2) == 0 ? find_opt(c->opts, c->n, arg, name_len) : NULL;
    if (o == NULL) {
        return bad(c, "unknown argument", arg);
    }
    if (seen[o - c->opts]) {
        return bad(c, "repeated option", o->name);
    }
    seen[o - c->opts] = true;
    if (o->metavar == NULL) {
        if (eq != NULL) {
            return bad(c, "option takes no value", o->name);
        }
        *o->flag = true;
        return 0;
    }
    const char *v = eq != NULL ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (v == NULL) {
        return bad(c, "missing value for", o->name);
    }
    return set_value(o, v) == 0 ? 0 : bad(c, "bad value for", o->name);
}

/* ------------------------------------------------------------- configuration files */

/* A command, not a setting: never in a file, never printed by --print-config. */
static bool
cli_only(const struct pctx *c, const struct ov_cli_opt *o)
{
    if (strncmp(o->name, "--print-", 8) == 0 || strcmp(o->name, "--config") == 0) {
        return true;
    }
    for (const char *const *p = c->cli_only; p != NULL && *p != NULL; p++) {
        if (strcmp(*p, o->name) == 0) {
            return true;
        }
    }
    return false;
}

static bool
blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Whether the file format carries v as it is (what a file's line can hold after its
 * blanks are dropped): not empty, no blank at either end, no control character, no blank
 * followed by '#'. */
static bool
writable(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || blank(v[0]) || blank(v[n - 1])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7f || (ch == '#' && i > 0 && blank(v[i - 1]))) {
            return false;
        }
    }
    return true;
}

static char *
trim(char *s)
{
    while (blank(*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && blank(s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

/* One line of the file (NUL-terminated, without its newline), parsed in place: 0, or
 * -OV_E_MALFORMED with the reason in why. line_of[i] is where option i was set (0: not). */
static int
conf_line(const struct pctx *c, char *line, unsigned lineno, const bool *on_cmdline,
          unsigned *line_of, char *why, size_t why_len)
{
    char *s = trim(line), *eq = strchr(s, '=');
    if (*s == '\0' || *s == '#') {
        return 0;
    }
    if (eq == NULL) {
        snprintf(why, why_len, "want NAME = VALUE");
        return -OV_E_MALFORMED;
    }
    *eq = '\0';
    char *name = trim(s), *v = trim(eq + 1), opt[80];
    size_t nl = strlen(name);
    if (nl == 0 || nl + 2 >= sizeof opt || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != nl) {
        snprintf(why, why_len, "want NAME = VALUE, NAME an option without its \"--\" (a-z, 0-9, -)");
        return -OV_E_MALFORMED;
    }
    if (name[0] == '-') {
        snprintf(why, why_len, "write the option's name without \"--\": %.64s", name + strspn(name, "-"));
        return -OV_E_MALFORMED;
    }
    snprintf(opt, sizeof opt, "--%s", name);
    const struct ov_cli_opt *o = find_opt(c->opts, c->n, opt, nl + 2);
    if (o == NULL && strcmp(name, "help") != 0 && strcmp(name, "version") != 0) {
        snprintf(why, why_len, "unknown option \"%s\" (see --help)", name);
        return -OV_E_MALFORMED;
    }
    if (o == NULL || cli_only(c, o)) {
        snprintf(why, why_len, "\"%s\" is a command, not a setting: it goes on the command "
                               "line only", name);
        return -OV_E_MALFORMED;
    }
    size_t i = (size_t)(o - c->opts);
    if (line_of[i] != 0) {
        snprintf(why, why_len, "\"%s\" is set again (first on line %u)", name, line_of[i]);
        return -OV_E_MALFORMED;
    }
    line_of[i] = lineno;
    if (*v == '\0') {
        snprintf(why, why_len, "\"%s\" has no value", name);
        return -OV_E_MALFORMED;
    }
    if (!writable(v)) {
        snprintf(why, why_len, "the value of \"%s\" holds a control character or a blank before "
                               "'#' (a comment takes a line of its own)", name);
        return -OV_E_MALFORMED;
    }
    if (o->metavar == NULL) {
        bool t = strcmp(v, "true") == 0;
        if (!t && strcmp(v, "false") != 0) {
            snprintf(why, why_len, "\"%s\" is a flag: its value is true or false", name);
            return -OV_E_MALFORMED;
        }
        if (!on_cmdline[i]) {
            *o->flag = t;
        }
        return 0;
    }
    const char *keep = *o->value;
    if (set_value(o, v) != 0) {
        snprintf(why, why_len, "bad value for \"%s\" (see --help)", name);
        return -OV_E_MALFORMED;
    }
    if (on_cmdline[i]) {
        *o->value = keep; /* checked as the file's, but the command line wins */
    }
    return 0;
}

/* Reads and applies the file: 0, or -OV_E_MALFORMED / -OV_E_IO (said on stderr). */
static int
conf_read(const struct pctx *c, const char *path, const bool *on_cmdline,
          struct ov_cli_conf *conf)
{
    unsigned line_of[64] = {0};
    char why[256];
    int rc = ov_file_read(path, OV_CLI_MAX_CONF_LEN, &conf->text);
    if (rc != 0) {
        fprintf(stderr, "%s: --config %s: %s\n", c->prog, path,
                rc == -OV_E_TOO_BIG ? "larger than a configuration file may be (64 KiB)"
                                    : (rc == -OV_E_NOT_FOUND ? "no such file" : ov_strerror(rc)));
        return rc == -OV_E_NOT_FOUND || rc == -OV_E_TOO_BIG ? -OV_E_MALFORMED : rc;
    }
    char *text = (char *)conf->text.ptr;
    size_t len = conf->text.len;
    unsigned lineno = 1;
    if (strlen(text) != len) {
        for (size_t i = 0; text[i] != '\0'; i++) {
            if (text[i] == '\n') {
                lineno++;
            }
        }
        fprintf(stderr, "%s: %s line %u: a NUL byte: not a text file\n", c->prog, path, lineno);
        return -OV_E_MALFORMED;
    }
    for (char *line = text; line != NULL; lineno++) {
        char *nl = strchr(line, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        if (conf_line(c, line, lineno, on_cmdline, line_of, why, sizeof why) != 0) {
            fprintf(stderr, "%s: %s line %u: %s\n", c->prog, path, lineno, why);
            return -OV_E_MALFORMED;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return 0;
}

/* The text as "# " comment lines of at most 90 characters. */
static void
comment(FILE *f, const char *text)
{
    const size_t width = 88;
    while (*text != '\0') {
        size_t n = strlen(text);
        if (n > width) {
            n = width;
            while (n > 0 && text[n] != ' ') {
                n--;
            }
            n = n > 0 ? n : strcspn(text, " ");
        }
        fprintf(f, "# %.*s\n", (int)n, text);
        text += n;
        while (*text == ' ') {
            text++;
        }
    }
}

/* --print-config: 0, or -OV_E_MALFORMED for a value the format cannot carry. */
static int
print_conf(const struct pctx *c, FILE *f)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct ov_cli_opt *o = &c->opts[i];
        if (!cli_only(c, o) && o->metavar != NULL && *o->value != NULL && !writable(*o->value)) {
            return bad(c, "--print-config: a configuration file cannot hold this value of",
                       o->name);
        }
    }
    const char *slash = strrchr(c->prog, '/');
    fprintf(f, "# %s: the settings in force (--config FILE, then the command line, which\n"
               "# wins). A commented-out setting is unset: the default its help names applies.\n",
            slash != NULL ? slash + 1 : c->prog);
    for (size_t i = 0; i < c->n; i++) {
        const struct ov_cli_opt *o = &c->opts[i];
        if (cli_only(c, o)) {
            continue;
        }
        fputc('\n', f);
        comment(f, o->help);
        if (o->metavar == NULL) {
            fprintf(f, "%s = %s\n", o->name + 2, *o->flag ? "true" : "false");
        } else if (*o->value != NULL) {
            fprintf(f, "%s = %s\n", o->name + 2, *o->value);
        } else {
            fprintf(f, "# %s = %s\n", o->name + 2, o->metavar);
        }
    }
    return fflush(f) == 0 && !ferror(f) ? 0 : -OV_E_IO;
}

/* The whole command line, then the file it names, if any. */
static int
parse_all(const struct pctx *c, int argc, char **argv, const char *const *config,
          const bool *print_config, struct ov_cli_conf *conf)
{
    bool seen[64] = {false};
    if (c->n > sizeof seen / sizeof seen[0]) {
        abort(); /* the table is ours */
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, c);
            return 1;
        }
    }
    for (int i = 1; i < argc && c->version; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            ov_cli_print_version(stdout, c->prog);
            return 1;
        }
    }
    for (int i = 1; i < argc; i++) {
        int rc = parse_one(c, argc, argv, &i, seen);
        if (rc != 0) {
            return rc;
        }
    }
    if (conf == NULL) {
        return 0;
    }
    if (*config != NULL) {
        int rc = conf_read(c, *config, seen, conf);
        if (rc != 0) {
            return rc;
        }
    }
    if (!*print_config) {
        return 0;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (seen[i] && cli_only(c, &c->opts[i]) && c->opts[i].flag != print_config &&
            c->opts[i].value != config) {
            return bad(c, "--print-config prints the settings and does nothing else; not with",
                       c->opts[i].name);
        }
    }
    return print_conf(c, stdout) == 0 ? 1 : -OV_E_MALFORMED;
}

int
ov_cli_parse(int argc, char **argv, const char *summary, const struct ov_cli_opt *opts,
             size_t n_opts)
{
    const struct pctx c = { argv[0], summary, opts, n_opts, NULL, false };
    return parse_all(&c, argc, argv, NULL, NULL, NULL);
}

int
ov_cli_parse_conf(int argc, char **argv, const char *summary, const struct ov_cli_opt *opts,
                  size_t n_opts, struct ov_cli_conf *conf)
{
    const char *config = NULL;
    bool print_config = false;
    const struct ov_cli_opt own[2] = {
        { "--config", "FILE",
          "read settings from FILE: lines \"NAME = VALUE\", NAME an option without \"--\", "
          "a flag's VALUE true or false, '#' comments; the command line wins (no file is read "
          "unless named)", &config, NULL, NULL },
        { "--print-config", NULL,
          "print the settings in force (the file's, the command line's, the unset ones "
          "commented out) as a configuration file, and exit", NULL, &print_config, NULL },
    };
    ov_buf_init(&conf->text, OV_CLI_MAX_CONF_LEN);
    struct ov_cli_opt *all = calloc(n_opts + 2, sizeof *all);
    if (all == NULL) {
        return -OV_E_NOMEM;
    }
    if (n_opts > 0) {
        memcpy(all, opts, n_opts * sizeof *all);
    }
    memcpy(all + n_opts, own, sizeof own);
    static const char *const none[] = { NULL };
    const struct pctx c = { argv[0], summary, all, n_opts + 2,
                            conf->cli_only != NULL ? conf->cli_only : none, true };
    int rc = parse_all(&c, argc, argv, &config, &print_config, conf);
    free(all);
    return rc;
}

void
ov_cli_conf_free(struct ov_cli_conf *conf)
{
    ov_buf_clear(&conf->text);
}

int
ov_cli_data_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create: %s\n", dir, strerror(errno));
        return -OV_E_IO;
    }
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -OV_E_IO;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
        fprintf(stderr, "%s: not a directory of ours, or writable by others\n", dir);
        return -OV_E_IO;
    }
    return 0;
}

int
ov_cli_lock_data_dir(const char *dir, const char *prog)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/lock", dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        fprintf(stderr, "%s: %s: the path is too long\n", prog, dir);
        return -OV_E_TOO_BIG;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        /* not another server: a directory we cannot write is no place for a state */
        int e = errno;
        bool ro = e == EROFS || e == EACCES || e == EPERM;
        fprintf(stderr, "%s: cannot take the data directory's lock %s: %s%s\n", prog, path,
                strerror(e),
                e == EROFS ? ": the data directory is on a read-only file system; mount it "
                             "read-write"
                : ro ? ": the data directory or its lock file is read-only for this user "
                       "(file modes, ownership or chattr +i); make it writable"
                     : "");
        return ro ? -OV_E_READ_ONLY : ov_err_errno(e, -OV_E_IO);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            fprintf(stderr, "%s: %s is in use by another %s\n", prog, dir, prog);
        } else {
            fprintf(stderr, "%s: cannot lock %s: %s\n", prog, path, strerror(e));
        }
        close(fd);
        return e == EWOULDBLOCK ? -OV_E_STATE : -OV_E_IO;
    }
    return 0; /* the descriptor stays open: the lock lasts as long as the process */
}

int
ov_cli_write_port(const char *path, uint16_t port)
{
    char line[8];
    int n = snprintf(line, sizeof line, "%u\n", (unsigned)port);
    return ov_file_write_atomic(path, line, (size_t)n, 0644) == 0 ? 0 : -OV_E_IO;
}

int
ov_cli_signals_init(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        return -OV_E_IO;
    }
    return 0;
}

bool
ov_cli_wait_ms(uint32_t ms)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    struct timespec end = ov_deadline_us(CLOCK_MONOTONIC, (uint64_t)ms * 1000u);
    while (!atomic_load(&stop_seen)) {
        int sig;
        if (ms == UINT32_MAX) {
            int got = 0;
            sig = sigwait(&set, &got) == 0 ? got : -1;
        } else {
            struct timespec now, left;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > end.tv_sec ||
                (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) {
                break;
            }
            left.tv_sec = end.tv_sec - now.tv_sec;
            left.tv_nsec = end.tv_nsec - now.tv_nsec;
            if (left.tv_nsec < 0) {
                left.tv_sec--;
                left.tv_nsec += 1000000000L;
            }
            sig = sigtimedwait(&set, NULL, &left);
        }
        if (sig == SIGINT || sig == SIGTERM) {
            atomic_store(&stop_seen, true);
        }
    }
    return atomic_load(&stop_seen);
}

bool
ov_cli_stopping(void)
{
    return atomic_load(&stop_seen);
}

int
ov_cli_harden(void)
{
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -OV_E_IO;
}
