/* Unit tests: program conventions (options, data dir, port file, stop signals). */
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
    test_files();
    test_signals();
    test_deadline();
    TEST_DONE("test_cli");
}
