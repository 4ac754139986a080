/* Unit tests: program conventions (options, configuration files, data dir, port file, stop
 * signals). */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "infra/addr.h"
#include "base/bytes.h"
#include "infra/cli.h"
#include "base/clock.h"

static const char *listen_on, *data, *port_file;
static bool verbose;

static const struct ov_cli_opt opts[] = {
    {"--listen", "HOST:PORT", "address to serve on", &listen_on, NULL, ov_addr_check},
    {"--data", "DIR", "state directory", &data, NULL, NULL},
    {"--port-file", "FILE", "write the bound port here", &port_file, NULL, NULL},
    {"--verbose", NULL, "say more", NULL, &verbose, NULL},
};
#define N_OPTS (sizeof opts / sizeof opts[0])

/* Parses a NULL-terminated argument list with stderr silenced. */
static int
parse(const char **args)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t) "prog";
    for (; *args != NULL; args++) {
        argv[argc++] = (char *)(uintptr_t)*args;
    }
    argv[argc] = NULL;
    listen_on = data = port_file = NULL;
    verbose = false;
    fflush(stderr);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    fflush(stdout);
    FILE *saved_out = stdout;
    stdout = stderr;
    int rc = ov_cli_parse(argc, argv, "A test program.", opts, N_OPTS);
    fclose(stderr);
    stderr = saved;
    stdout = saved_out;
    return rc;
}

static void
test_parse(void)
{
    CHECK_EQ_INT(
        parse((const char *[]){"--listen", "127.0.0.1:0", "--data=/tmp/x", "--verbose", NULL}), 0);
    CHECK(listen_on != NULL && strcmp(listen_on, "127.0.0.1:0") == 0);
    CHECK(data != NULL && strcmp(data, "/tmp/x") == 0);
    CHECK(verbose && port_file == NULL);
    CHECK_EQ_INT(parse((const char *[]){NULL}), 0);
    CHECK(listen_on == NULL && !verbose);
    CHECK_EQ_INT(parse((const char *[]){"--data", "d", "--help", NULL}), 1);
    CHECK_EQ_INT(parse((const char *[]){"-h", NULL}), 1);
    const char *const *bad[] = {
        (const char *[]){"--listen", NULL},                   /* no value */
        (const char *[]){"--listen", "localhost:1", NULL},    /* check fails */
        (const char *[]){"--nope", NULL},                     /* unknown */
        (const char *[]){"--data", "a", "--data", "b", NULL}, /* repeated */
        (const char *[]){"--verbose=1", NULL},                /* flag with value */
        (const char *[]){"positional", NULL},
        (const char *[]){"-v", NULL},
        (const char *[]){"--listen127.0.0.1:0", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(parse((const char **)(uintptr_t)bad[i]), -OV_E_MALFORMED);
    }
    char *huge = malloc(OV_CLI_MAX_ARG_LEN + 2);
    memset(huge, 'a', OV_CLI_MAX_ARG_LEN + 1);
    huge[OV_CLI_MAX_ARG_LEN + 1] = '\0';
    CHECK_EQ_INT(parse((const char *[]){"--data", huge, NULL}), -OV_E_MALFORMED);
    huge[OV_CLI_MAX_ARG_LEN] = '\0';
    CHECK_EQ_INT(parse((const char *[]){"--data", huge, NULL}), 0);
    free(huge);
}

/* ---- configuration files (--config, --print-config) ---- */

static const char *c_listen, *c_data, *c_port_file, *c_threads, *c_backup;
static bool c_verbose, c_init, c_print_thing;
static char c_dir[] = "/tmp/ov_conf_XXXXXX";
static char c_out[8192], c_err[8192];

static int
check_threads(const char *v)
{
    return strlen(v) > 0 && strspn(v, "0123456789") == strlen(v) && strlen(v) < 4 ? 0
                                                                                 : -OV_E_MALFORMED;
}

static const struct ov_cli_opt conf_opts[] = {
    {"--listen", "HOST:PORT", "address to serve on (default 127.0.0.1:0)", &c_listen, NULL,
     ov_addr_check},
    {"--data", "DIR", "state directory", &c_data, NULL, NULL},
    {"--port-file", "FILE", "write the bound port here", &c_port_file, NULL, NULL},
    {"--threads", "N", "worker threads, at most 999 (default: cores); a long help line that "
     "the printed configuration wraps into comment lines of at most ninety characters", &c_threads,
     NULL, check_threads},
    {"--verbose", NULL, "say more", NULL, &c_verbose, NULL},
    {"--init", NULL, "a command", NULL, &c_init, NULL},
    {"--backup", "FILE", "a command with a value", &c_backup, NULL, NULL},
    {"--print-thing", NULL, "print a thing and exit", NULL, &c_print_thing, NULL},
};
static const char *const c_commands[] = {"--init", "--backup", NULL};
static struct ov_cli_conf c_conf = {c_commands, {NULL, 0, 0, 0}};

/* Reads what a FILE * captured into buf, NUL-terminated. */
static void
drain(FILE *f, char *buf, size_t max)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, max - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void
write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && fwrite(text, 1, len, f) == len);
    if (f != NULL) {
        fclose(f);
    }
}

/* Writes text (if not NULL) to c_dir/c.conf and parses args with it: stdout and stderr land
 * in c_out and c_err. */
static int
parse_conf_n(const char *text, size_t len, const char **args)
{
    char path[64], *argv[16];
    int argc = 0;
    snprintf(path, sizeof path, "%s/c.conf", c_dir);
    if (text != NULL) {
        write_file(path, text, len);
    }
    argv[argc++] = (char *)(uintptr_t) "prog";
    for (; *args != NULL; args++) {
        argv[argc++] = strcmp(*args, "CONF") == 0 ? path : (char *)(uintptr_t)*args;
    }
    argv[argc] = NULL;
    ov_cli_conf_free(&c_conf);
    c_listen = c_data = c_port_file = c_threads = c_backup = NULL;
    c_verbose = c_init = c_print_thing = false;
    fflush(stdout);
    fflush(stderr);
    FILE *saved_out = stdout, *saved_err = stderr;
    stdout = tmpfile();
    stderr = tmpfile();
    int rc = ov_cli_parse_conf(argc, argv, "A test program.", conf_opts,
                               sizeof conf_opts / sizeof conf_opts[0], &c_conf);
    drain(stdout, c_out, sizeof c_out);
    drain(stderr, c_err, sizeof c_err);
    stdout = saved_out;
    stderr = saved_err;
    return rc;
}

static int
parse_conf(const char *text, const char **args)
{
    return parse_conf_n(text, text != NULL ? strlen(text) : 0, args);
}

#define WITH_CONF(...) ((const char *[]){"--config", "CONF", __VA_ARGS__ NULL})

/* Refused, and stderr names the file's line and the reason. */
static void
refused(const char *text, unsigned line, const char *reason)
{
    char want[128];
    snprintf(want, sizeof want, "c.conf line %u: ", line);
    CHECK_EQ_INT(parse_conf(text, WITH_CONF()), -OV_E_MALFORMED);
    const char *at = strstr(c_err, want);
    CHECK(at != NULL && strstr(at, reason) != NULL);
    if (at == NULL || strstr(at, reason) == NULL) {
        fprintf(stderr, "  wanted \"%s...%s\" in: %s", want, reason, c_err);
    }
}

static void
test_conf_refused(void)
{
    refused("listen = 127.0.0.1:0\nnonsense\n", 2, "want NAME = VALUE");
    refused("\n\n= x\n", 3, "want NAME = VALUE");
    refused("Data = x\n", 1, "want NAME = VALUE");
    refused("da ta = x\n", 1, "want NAME = VALUE");
    refused("--listen = 127.0.0.1:0\n", 1, "without \"--\": listen");
    refused("# ok\nnope = 1\n", 2, "unknown option \"nope\"");
    refused("listen = 127.0.0.1:0\nlisten = 127.0.0.1:1\n", 2, "set again (first on line 1)");
    refused("data = a\n\n# x\ndata = a\n", 4, "set again (first on line 1)");
    refused("data =\n", 1, "\"data\" has no value");
    refused("data =   \t\n", 1, "\"data\" has no value");
    refused("verbose = yes\n", 1, "\"verbose\" is a flag: its value is true or false");
    refused("verbose = 1\n", 1, "is a flag");
    refused("verbose = TRUE\n", 1, "is a flag");
    refused("data = /a/b # the data\n", 1, "a comment takes a line of its own");
    refused("data = a\tb\n", 1, "control character");
    refused("data = a\033b\n", 1, "control character");
    refused("listen = localhost:1\n", 1, "bad value for \"listen\"");
    refused("threads = 1000\n", 1, "bad value for \"threads\"");
    refused("listen=127.0.0.1:0\nthreads=x\n", 2, "bad value for \"threads\"");
    /* commands, not settings */
    refused("init = true\n", 1, "\"init\" is a command");
    refused("backup = /tmp/b\n", 1, "\"backup\" is a command");
    refused("print-thing = false\n", 1, "\"print-thing\" is a command");
    refused("print-config = true\n", 1, "\"print-config\" is a command");
    refused("config = /etc/x.conf\n", 1, "\"config\" is a command");
    refused("help = true\n", 1, "\"help\" is a command");
    /* the line counts CRLF files and the last line without its newline */
    refused("data = a\r\n\r\nbogus = 2", 3, "unknown option \"bogus\"");
    /* a value as long as a flag's may be, and one longer */
    char *big = malloc(OV_CLI_MAX_ARG_LEN + 64);
    memcpy(big, "\ndata = ", 8);
    memset(big + 8, 'a', OV_CLI_MAX_ARG_LEN + 1);
    memcpy(big + 8 + OV_CLI_MAX_ARG_LEN + 1, "\n", 2);
    refused(big, 2, "bad value for \"data\"");
    big[8 + OV_CLI_MAX_ARG_LEN] = '\n';
    CHECK_EQ_INT(parse_conf(big, WITH_CONF()), 0);
    CHECK(c_data != NULL && strlen(c_data) == OV_CLI_MAX_ARG_LEN);
    free(big);
    /* a NUL byte: the file is refused whole, at the NUL's line */
    CHECK_EQ_INT(parse_conf_n("data = a\nlisten = 1\0x\n", 20, WITH_CONF()), -OV_E_MALFORMED);
    CHECK(strstr(c_err, "c.conf line 2: a NUL byte") != NULL);
    /* a file over the limit, a missing file */
    char *huge = malloc(OV_CLI_MAX_CONF_LEN + 2);
    memset(huge, '#', OV_CLI_MAX_CONF_LEN + 1);
    huge[OV_CLI_MAX_CONF_LEN + 1] = '\0';
    CHECK_EQ_INT(parse_conf(huge, WITH_CONF()), -OV_E_MALFORMED);
    CHECK(strstr(c_err, "larger than a configuration file") != NULL);
    huge[OV_CLI_MAX_CONF_LEN] = '\0';
    CHECK_EQ_INT(parse_conf(huge, WITH_CONF()), 0);
    free(huge);
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--config", "/nonexistent/x.conf", NULL})),
                 -OV_E_MALFORMED);
    CHECK(strstr(c_err, "/nonexistent/x.conf: no such file") != NULL);
    /* --config itself is an option like the others */
    CHECK_EQ_INT(parse_conf("", ((const char *[]){"--config", NULL})), -OV_E_MALFORMED);
    CHECK_EQ_INT(parse_conf("", WITH_CONF("--config", "CONF",)), -OV_E_MALFORMED);
}

static void
test_conf_accepted(void)
{
    /* comments, blank lines, blanks around everything, CRLF, a value with inner blanks and
     * a '#' not after a blank */
    CHECK_EQ_INT(parse_conf("# a comment\n\n   # an indented one = not a setting\n"
                            "\t listen\t=  127.0.0.1:8443 \t\r\n"
                            "data=/var/lib/one voice#1\n"
                            "port-file =/tmp/p=q\n"
                            "verbose = true\n"
                            "threads = 12",
                            WITH_CONF()),
                 0);
    CHECK(c_listen != NULL && strcmp(c_listen, "127.0.0.1:8443") == 0);
    CHECK(c_data != NULL && strcmp(c_data, "/var/lib/one voice#1") == 0);
    CHECK(c_port_file != NULL && strcmp(c_port_file, "/tmp/p=q") == 0);
    CHECK(c_threads != NULL && strcmp(c_threads, "12") == 0);
    CHECK(c_verbose && !c_init && c_backup == NULL);
    CHECK_EQ_INT(parse_conf("verbose = false\n", WITH_CONF()), 0);
    CHECK(!c_verbose);
    CHECK_EQ_INT(parse_conf("", WITH_CONF()), 0); /* an empty file sets nothing */
    CHECK(c_listen == NULL && c_data == NULL && !c_verbose);
    /* the command line wins, whichever side of --config it stands */
    CHECK_EQ_INT(parse_conf("data = /from/file\nlisten = 127.0.0.1:1\nverbose = false\n",
                            ((const char *[]){"--data", "/from/flag", "--config", "CONF",
                                              "--verbose", NULL})),
                 0);
    CHECK(c_data != NULL && strcmp(c_data, "/from/flag") == 0);
    CHECK(c_listen != NULL && strcmp(c_listen, "127.0.0.1:1") == 0);
    CHECK(c_verbose);
    /* ... but the file's value is checked all the same */
    CHECK_EQ_INT(parse_conf("listen = nowhere\n", WITH_CONF("--listen", "127.0.0.1:0",)),
                 -OV_E_MALFORMED);
    CHECK(strstr(c_err, "c.conf line 1: bad value for \"listen\"") != NULL);
    /* a command stays a command-line option */
    CHECK_EQ_INT(parse_conf("data = d\n", WITH_CONF("--init", "--backup", "/tmp/b",)), 0);
    CHECK(c_init && c_backup != NULL && strcmp(c_data, "d") == 0);
    /* --help lists --config and --print-config */
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--help", NULL})), 1);
    CHECK(strstr(c_out, "--config FILE") != NULL && strstr(c_out, "--print-config") != NULL);
    /* --version: the name without its directory and the Makefile's VERSION, on stdout; a
     * command, not a setting; not one command's option (ov_cli_parse) */
    CHECK(strstr(c_out, "\n  --version ") != NULL);
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--data", "d", "--version", NULL})), 1);
    CHECK(strncmp(c_out, "prog ", 5) == 0 && strcmp(c_out, "prog unknown\n") != 0 &&
          strchr(c_out, '\n') == c_out + strlen(c_out) - 1 && c_err[0] == '\0');
    refused("version = true\n", 1, "\"version\" is a command");
    CHECK_EQ_INT(parse((const char *[]){"--version", NULL}), -OV_E_MALFORMED);
}

static void
test_conf_print(void)
{
    char path[64], first[8192];
    snprintf(path, sizeof path, "%s/printed.conf", c_dir);
    CHECK_EQ_INT(parse_conf("listen = 127.0.0.1:8443\nthreads = 4\n",
                            WITH_CONF("--data", "/srv/x", "--verbose", "--print-config",)),
                 1);
    memcpy(first, c_out, sizeof first);
    CHECK(strstr(first, "\nlisten = 127.0.0.1:8443\n") != NULL);
    CHECK(strstr(first, "\ndata = /srv/x\n") != NULL);
    CHECK(strstr(first, "\nthreads = 4\n") != NULL);
    CHECK(strstr(first, "\nverbose = true\n") != NULL);
    CHECK(strstr(first, "\n# port-file = FILE\n") != NULL); /* unset: commented out */
    CHECK(strstr(first, "\n# address to serve on (default 127.0.0.1:0)\n") != NULL);
    CHECK(strstr(first, "init") == NULL && strstr(first, "backup") == NULL &&
          strstr(first, "print-thing") == NULL && strstr(first, "config =") == NULL);
    /* every line fits, the help wrapped */
    for (const char *l = first; *l != '\0'; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
        CHECK(strcspn(l, "\n") <= 90);
    }
    /* what it printed is a file that prints the same */
    write_file(path, first, strlen(first));
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--config", path, "--print-config", NULL})), 1);
    CHECK(strcmp(c_out, first) == 0);
    CHECK(c_data != NULL && strcmp(c_data, "/srv/x") == 0 && c_verbose);
    /* nothing set: everything commented but the flags */
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--print-config", NULL})), 1);
    CHECK(strstr(c_out, "\n# data = DIR\n") != NULL && strstr(c_out, "\nverbose = false\n"));
    write_file(path, c_out, strlen(c_out));
    memcpy(first, c_out, sizeof first);
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--config", path, "--print-config", NULL})), 1);
    CHECK(strcmp(c_out, first) == 0);
    /* a value the format cannot carry is refused rather than printed wrong */
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--data", " x", "--print-config", NULL})),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--data", "", "--print-config", NULL})),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--data", "a #b", "--print-config", NULL})),
                 -OV_E_MALFORMED);
    CHECK(strstr(c_err, "cannot hold this value of: --data") != NULL);
    /* it prints and does nothing else: not with a command */
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--print-config", "--init", NULL})),
                 -OV_E_MALFORMED);
    CHECK_EQ_INT(parse_conf(NULL, ((const char *[]){"--print-thing", "--print-config", NULL})),
                 -OV_E_MALFORMED);
    CHECK(c_out[0] == '\0');
    unlink(path);
}

static void
test_conf(void)
{
    CHECK(mkdtemp(c_dir) != NULL);
    test_conf_refused();
    test_conf_accepted();
    test_conf_print();
    ov_cli_conf_free(&c_conf);
    char path[64];
    snprintf(path, sizeof path, "%s/c.conf", c_dir);
    unlink(path);
    rmdir(c_dir);
}

static void
test_files(void)
{
    char dir[] = "/tmp/ov_cli_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[64], pf[64];
    snprintf(sub, sizeof sub, "%s/data", dir);
    snprintf(pf, sizeof pf, "%s/port", dir);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    CHECK_EQ_INT(ov_cli_data_dir(sub), 0);
    struct stat st;
    CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    CHECK_EQ_INT(ov_cli_data_dir(sub), 0); /* existing is fine */
    CHECK_EQ_INT(chmod(sub, 0777), 0);
    CHECK_EQ_INT(ov_cli_data_dir(sub), -OV_E_IO); /* world-writable is not */
    CHECK_EQ_INT(ov_cli_write_port(pf, 8080), 0);
    CHECK_EQ_INT(ov_cli_data_dir(pf), -OV_E_IO); /* a file is not a directory */
    fclose(stderr);
    stderr = saved;
    struct ov_buf b;
    CHECK_EQ_INT(ov_file_read(pf, 16, &b), 0);
    CHECK(b.len == 5 && memcmp(b.ptr, "8080\n", 5) == 0);
    ov_buf_clear(&b);
    CHECK_EQ_INT(ov_cli_write_port(pf, 0), 0); /* replaced whole */
    CHECK_EQ_INT(ov_file_read(pf, 16, &b), 0);
    CHECK(b.len == 2 && memcmp(b.ptr, "0\n", 2) == 0);
    ov_buf_clear(&b);
    unlink(pf);
    rmdir(sub);
    rmdir(dir);
}

static void
test_signals(void)
{
    CHECK_EQ_INT(ov_cli_signals_init(), 0);
    CHECK(!ov_cli_stopping());
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(!ov_cli_wait_ms(100)); /* nothing: times out */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(ms >= 95 && ms < 1000);
    CHECK_EQ_INT(raise(SIGTERM), 0); /* blocked, so pending: taken by the wait */
    CHECK(ov_cli_wait_ms(1000));
    CHECK(ov_cli_stopping());
    CHECK(ov_cli_wait_ms(UINT32_MAX)); /* sticky: returns at once */
    CHECK_EQ_INT(ov_cli_harden(), 0);
    CHECK_EQ_INT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

/* Deadlines carry into tv_sec and keep tv_nsec below a second. */
static void
test_deadline(void)
{
    struct timespec t = { 5, 999999000L };
    struct timespec u = ov_timespec_add_us(t, 1);
    CHECK(u.tv_sec == 6 && u.tv_nsec == 0);
    u = ov_timespec_add_us(t, 2500001);
    CHECK(u.tv_sec == 8 && u.tv_nsec == 500000000L);
    u = ov_timespec_add_us(t, 0);
    CHECK(u.tv_sec == 5 && u.tv_nsec == 999999000L);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    u = ov_deadline_us(CLOCK_MONOTONIC, 3000000);
    CHECK(u.tv_sec >= now.tv_sec + 3 && u.tv_nsec < 1000000000L);
}

int
main(void)
{
    test_parse();
    test_conf();
    test_files();
    test_signals();
    test_deadline();
    TEST_DONE("test_cli");
}
