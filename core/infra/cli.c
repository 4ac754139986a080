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

static atomic_bool stop_seen;

void
ov_cli_usage(FILE *f, const char *prog, const char *summary, const struct ov_cli_opt *opts,
             size_t n_opts)
{
    fprintf(f, "usage: %s [options]\n%s\n\noptions:\n", prog, summary);
    for (size_t i = 0; i < n_opts; i++) {
        char left[128];
        snprintf(left, sizeof left, "%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        fprintf(f, "  %-28s %s\n", left, opts[i].help);
    }
    fprintf(f, "  %-28s %s\n", "--help", "print this help and exit");
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
bad(const char *prog, const char *summary, const struct ov_cli_opt *opts, size_t n_opts,
    const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, arg);
    ov_cli_usage(stderr, prog, summary, opts, n_opts);
    return -OV_E_MALFORMED;
}

/* One argument; *i advances past a separate value. */
static int
parse_one(int argc, char **argv, int *i, const struct ov_cli_opt *opts, size_t n_opts, bool *seen,
          const char *summary)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct ov_cli_opt *o =
        strncmp(arg, "--", 2) == 0 ? find_opt(opts, n_opts, arg, name_len) : NULL;
    if (o == NULL) {
        return bad(argv[0], summary, opts, n_opts, "unknown argument", arg);
    }
    if (seen[o - opts]) {
        return bad(argv[0], summary, opts, n_opts, "repeated option", o->name);
    }
    seen[o - opts] = true;
    if (o->metavar == NULL) {
        if (eq != NULL) {
            return bad(argv[0], summary, opts, n_opts, "option takes no value", o->name);
        }
        *o->flag = true;
        return 0;
    }
    const char *v = eq != NULL ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (v == NULL) {
        return bad(argv[0], summary, opts, n_opts, "missing value for", o->name);
    }
    if (strnlen(v, OV_CLI_MAX_ARG_LEN + 1) > OV_CLI_MAX_ARG_LEN ||
        (o->check != NULL && o->check(v) != 0)) {
        return bad(argv[0], summary, opts, n_opts, "bad value for", o->name);
    }
    *o->value = v;
    return 0;
}

int
ov_cli_parse(int argc, char **argv, const char *summary, const struct ov_cli_opt *opts,
             size_t n_opts)
{
    bool seen[64] = {false};
    if (n_opts > sizeof seen / sizeof seen[0]) {
        abort(); /* the table is ours */
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ov_cli_usage(stdout, argv[0], summary, opts, n_opts);
            return 1;
        }
    }
    for (int i = 1; i < argc; i++) {
        int rc = parse_one(argc, argv, &i, opts, n_opts, seen, summary);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
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
