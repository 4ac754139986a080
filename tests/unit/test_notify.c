/* Unit tests: the service manager's notification (infra/notify): a datagram to the socket
 * $NOTIFY_SOCKET names, by path and in the abstract namespace ('@'); nothing without the
 * variable; a value that is no AF_UNIX address refused; nobody listening is an error. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../test.h"
#include "infra/notify.h"

/* A datagram socket bound to name ("/path", or "@abstract" as NOTIFY_SOCKET writes it). */
static int
listener(const char *name)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(name);
    memcpy(sa.sun_path, name, n);
    if (name[0] == '@') {
        sa.sun_path[0] = '\0';
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    CHECK(fd >= 0);
    CHECK(bind(fd, (const struct sockaddr *)&sa, len) == 0);
    return fd;
}

/* Sends msg through NOTIFY_SOCKET=name and checks the one datagram fd receives is msg. */
static void
round_trip(const char *name, int fd, const char *msg)
{
    char got[256];
    CHECK(setenv("NOTIFY_SOCKET", name, 1) == 0);
    CHECK_EQ_INT(ov_notify(msg), 1);
    ssize_t n = recv(fd, got, sizeof got, MSG_DONTWAIT);
    CHECK_EQ_INT(n, (ssize_t)strlen(msg));
    CHECK(n > 0 && memcmp(got, msg, (size_t)n) == 0);
}

static void
test_path(void)
{
    char dir[] = "/tmp/test_notify.XXXXXX", path[128];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/notify", dir);
    int fd = listener(path);
    round_trip(path, fd, "READY=1\nSTATUS=serving HTTP on port 8443");
    round_trip(path, fd, "STOPPING=1");
    close(fd);
    unlink(path);
    /* the socket gone: the send fails, and says so */
    CHECK_EQ_INT(ov_notify("READY=1"), -OV_E_IO);
    rmdir(dir);
}

static void
test_abstract(void)
{
    char name[64];
    snprintf(name, sizeof name, "@onevoice/test_notify/%ld", (long)getpid());
    int fd = listener(name);
    round_trip(name, fd, "RELOADING=1\nMONOTONIC_USEC=1");
    round_trip(name, fd, "READY=1");
    close(fd);
}

static void
test_unset_and_refused(void)
{
    CHECK(unsetenv("NOTIFY_SOCKET") == 0);
    CHECK_EQ_INT(ov_notify("READY=1"), 0); /* started by hand: nobody to tell */
    CHECK(setenv("NOTIFY_SOCKET", "", 1) == 0);
    CHECK_EQ_INT(ov_notify("READY=1"), 0);
    static const char *const bad[] = { "relative/path", "@", "/", "vsock:2:1234" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(setenv("NOTIFY_SOCKET", bad[i], 1) == 0);
        CHECK_EQ_INT(ov_notify("READY=1"), -OV_E_MALFORMED);
    }
    char longer[200];
    memset(longer, 'a', sizeof longer - 1);
    longer[0] = '/';
    longer[sizeof longer - 1] = '\0';
    CHECK(setenv("NOTIFY_SOCKET", longer, 1) == 0); /* past sun_path: never cut short */
    CHECK_EQ_INT(ov_notify("READY=1"), -OV_E_MALFORMED);
    CHECK(unsetenv("NOTIFY_SOCKET") == 0);
}

int
main(void)
{
    test_path();
    test_abstract();
    test_unset_and_refused();
    TEST_DONE("test_notify");
}
