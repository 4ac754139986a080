/* flood: a connection flood against one server, with a normal client beside it.
 *
 *   flood HOST:PORT [--mode idle|slowloris|slowbody] [--conns N] [--addrs M] [--first K]
 *         [--seconds S]
 *         [--trickle-ms MS] [--reconnect-ms MS] [--healthz-ms MS] [--timeout-ms MS]
 *         [--path PATH] [--body-len N] [--settle-ms MS]
 *
 * Opens N connections (default 1000) spread over M source addresses (default 40):
 * connection i binds 127.0.0.(K + i % M), K 2 by default (all of 127/8 is loopback on
 * Linux), so the server sees M clients. Modes:
 *   idle       connect and send nothing;
 *   slowloris  send a GET's headers one byte every --trickle-ms (default 2000), never ending
 *              them (a header value that grows for ever);
 *   slowbody   send complete POST headers for --path (default /) with Content-Length:
 *              --body-len (default 1000), then the body one byte every --trickle-ms.
 * A flood connection the server closes is opened again after --reconnect-ms (default 1000;
 * 0: never), as an attacker would. Once every connection was tried and --settle-ms (default
 * 1000) passed, a second thread asks GET /healthz from 127.0.0.1 every --healthz-ms
 * (default 10) on a fresh connection for --seconds (default 5); a probe fails unless
 * answered 200 within --timeout-ms (default 5000). Then it prints two lines:
 *   flood mode M target N addrs M held H held_min H held_max H opened O refused R cut C
 *         answered A cut_age_p50_s X cut_age_max_s X connect_errors E emfile E eaddrnotavail E
 *         ramp_s X
 *   healthz n N failed F p50_ms X p99_ms X max_ms X
 * held: flood connections open at the end as the client sees them (a connection the kernel
 * completed but the server has not yet accepted counts; held_min, held_max: while probing),
 * opened: connections that ever opened (reopened ones included); refused:
 * closed by the server within 0.5 s of opening, unanswered (a connection limit); cut:
 * closed later, unanswered (the request deadline, or the idle timeout), with their ages;
 * answered: the server replied (then closed). Its own open-file limit is raised to its hard
 * limit; past it (EMFILE) or without an address (EADDRNOTAVAIL) it floods with what it
 * could open and says so. Exit status 0, or 1 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "tool.h"

enum mode { IDLE, SLOWLORIS, SLOWBODY };
enum st { DOWN, CONNECTING, OPEN };

struct slot {
    int fd;
    enum st st;
    double opened, next; /* when it opened; when it next sends or reconnects */
    size_t sent;         /* bytes of the script sent */
    bool answered;
};

static struct {
    enum mode mode;
    struct sockaddr_in dst;
    unsigned n, addrs, first;
    double trickle_s, reconnect_s;
    char script[512]; /* what a connection sends first (then 'a' for ever, slowloris) */
    size_t script_len;
    int ep;
    struct slot *s;
    unsigned held, opened, refused, cut, answered;
    unsigned conn_err, emfile, eaddrnotavail;
    double *cut_ages;
    size_t n_cut_ages, cap_cut_ages;
    atomic_bool probing, stop;
} F;

static void
usage(void)
{
    fprintf(stderr, "usage: flood HOST:PORT [--mode idle|slowloris|slowbody] [--conns N] "
                    "[--addrs M] [--first K] [--seconds S] [--trickle-ms MS] [--reconnect-ms MS] "
                    "[--healthz-ms MS] [--timeout-ms MS] [--path PATH] [--body-len N] "
                    "[--settle-ms MS]\n");
    exit(1);
}

static int
parse_dst(const char *hp, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(hp, ':');
    if (colon == NULL || (size_t)(colon - hp) >= sizeof host) {
        return -1;
    }
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* Raises the soft open-file limit to the hard one; returns how many fds it allows. */
static rlim_t
raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 1024;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* ---- the flood -------------------------------------------------------------------- */

static void
slot_open(unsigned i, double now)
{
    struct slot *s = &F.s[i];
    s->next = now + F.reconnect_s; /* if this attempt fails: try again then */
    s->sent = 0;
    s->answered = false;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        F.conn_err++;
        F.emfile += errno == EMFILE || errno == ENFILE;
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000000u + F.first + i % F.addrs);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        (connect(fd, (struct sockaddr *)&F.dst, sizeof F.dst) != 0 && errno != EINPROGRESS)) {
        F.conn_err++;
        F.eaddrnotavail += errno == EADDRNOTAVAIL;
        close(fd);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u32 = i};
    if (epoll_ctl(F.ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        F.conn_err++;
        close(fd);
        return;
    }
    s->fd = fd;
    s->st = CONNECTING;
    s->opened = now;
}

static void
slot_close(unsigned i, double now, bool by_server)
{
    struct slot *s = &F.s[i];
    if (s->st == OPEN) {
        F.held--;
        if (by_server) {
            double age = now - s->opened;
            if (s->answered) {
                F.answered++;
            } else if (age < 0.5) {
                F.refused++;
            } else {
                F.cut++;
                if (F.n_cut_ages == F.cap_cut_ages) {
                    F.cap_cut_ages = F.cap_cut_ages ? 2 * F.cap_cut_ages : 1024;
                    F.cut_ages = realloc(F.cut_ages, F.cap_cut_ages * sizeof *F.cut_ages);
                    if (F.cut_ages == NULL) {
                        exit(1);
                    }
                }
                F.cut_ages[F.n_cut_ages++] = age;
            }
        }
    } else if (s->st == CONNECTING) {
        F.conn_err++;
    }
    close(s->fd);
    s->fd = -1;
    s->st = DOWN;
    s->next = F.reconnect_s > 0 ? now + F.reconnect_s : 1e300;
}

/* Sends the slot's next byte (or, slowbody, its headers at once). */
static void
slot_send(unsigned i, double now)
{
    struct slot *s = &F.s[i];
    const char *p = "a";
    size_t n = 1;
    if (s->sent < F.script_len) {
        p = F.script + s->sent;
        n = F.mode == SLOWBODY && s->sent == 0 ? F.script_len : 1;
    }
    ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) {
        slot_close(i, now, true);
        return;
    }
    s->sent += w > 0 ? (size_t)w : 0;
    s->next = now + F.trickle_s;
}

static void
on_event(unsigned i, uint32_t events, double now)
{
    struct slot *s = &F.s[i];
    if (s->st == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            slot_close(i, now, false);
            return;
        }
        if (events & EPOLLOUT) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = i};
            epoll_ctl(F.ep, EPOLL_CTL_MOD, s->fd, &ev);
            s->st = OPEN;
            s->opened = now;
            F.held++;
            F.opened++;
            if (F.mode != IDLE) {
                slot_send(i, now);
            }
        }
    }
    if (s->st == OPEN && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        char buf[4096];
        ssize_t r;
        while ((r = recv(s->fd, buf, sizeof buf, 0)) > 0) {
            s->answered = true;
        }
        if (r == 0 || errno != EAGAIN) {
            slot_close(i, now, true);
        }
    }
}

/* ---- the normal client -------------------------------------------------------------- */

struct probes {
    double every_s, timeout_s;
    double *lat;
    size_t n, cap, failed;
};

/* One GET /healthz on a fresh connection: its latency in s, or -1. */
static double
probe_once(double timeout_s)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    double t0 = now_s(), deadline = t0 + timeout_s;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    char buf[1024];
    size_t got = 0;
    bool ok = connect(fd, (struct sockaddr *)&F.dst, sizeof F.dst) == 0 || errno == EINPROGRESS;
    size_t sent = 0;
    while (ok) {
        double left = deadline - now_s();
        struct pollfd p = {.fd = fd, .events = sent < sizeof req - 1 ? POLLOUT : POLLIN};
        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0) {
            ok = false;
            break;
        }
        if (sent < sizeof req - 1) {
            ssize_t w = send(fd, req + sent, sizeof req - 1 - sent, MSG_NOSIGNAL);
            ok = w > 0 || (w < 0 && errno == EAGAIN);
            sent += w > 0 ? (size_t)w : 0;
            continue;
        }
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r == 0 || got + (size_t)(r > 0 ? r : 0) >= sizeof buf - 1) {
            break; /* the server closes after the reply (Connection: close) */
        }
        ok = r > 0 || errno == EAGAIN;
        got += r > 0 ? (size_t)r : 0;
    }
    close(fd);
    buf[got] = '\0';
    bool good = ok && strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "\r\n\r\nok") != NULL;
    return good ? now_s() - t0 : -1;
}

static void *
prober(void *arg)
{
    struct probes *p = arg;
    while (!atomic_load(&F.probing)) {
        usleep(1000);
    }
    while (!atomic_load(&F.stop)) {
        double t = now_s();
        double lat = probe_once(p->timeout_s);
        if (lat < 0) {
            p->failed++;
        } else {
            if (p->n == p->cap) {
                p->cap = p->cap ? 2 * p->cap : 4096;
                p->lat = realloc(p->lat, p->cap * sizeof *p->lat);
                if (p->lat == NULL) {
                    exit(1);
                }
            }
            p->lat[p->n++] = lat;
        }
        double wait = p->every_s - (now_s() - t);
        if (wait > 0) {
            usleep((useconds_t)(wait * 1e6));
        }
    }
    return NULL;
}

/* ---- main ------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
    if (argc < 2 || parse_dst(argv[1], &F.dst) != 0) {
        usage();
    }
    const char *mode = opt(argc, argv, "--mode", "idle");
    F.mode = strcmp(mode, "idle") == 0        ? IDLE
             : strcmp(mode, "slowloris") == 0 ? SLOWLORIS
             : strcmp(mode, "slowbody") == 0  ? SLOWBODY
                                              : (usage(), IDLE);
    F.n = (unsigned)atoi(opt(argc, argv, "--conns", "1000"));
    F.addrs = (unsigned)atoi(opt(argc, argv, "--addrs", "40"));
    F.first = (unsigned)atoi(opt(argc, argv, "--first", "2"));
    double seconds = atof(opt(argc, argv, "--seconds", "5"));
    F.trickle_s = atof(opt(argc, argv, "--trickle-ms", "2000")) / 1000;
    F.reconnect_s = atof(opt(argc, argv, "--reconnect-ms", "1000")) / 1000;
    double settle_s = atof(opt(argc, argv, "--settle-ms", "1000")) / 1000;
    struct probes pr = {.every_s = atof(opt(argc, argv, "--healthz-ms", "10")) / 1000,
                        .timeout_s = atof(opt(argc, argv, "--timeout-ms", "5000")) / 1000};
    const char *path = opt(argc, argv, "--path", "/");
    unsigned body_len = (unsigned)atoi(opt(argc, argv, "--body-len", "1000"));
    if (F.addrs == 0 || F.first < 2 || F.first + F.addrs > 255 || seconds <= 0 || F.trickle_s <= 0) {
        usage();
    }
    int n = F.mode == SLOWBODY
                ? snprintf(F.script, sizeof F.script,
                           "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                           "application/octet-stream\r\nContent-Length: %u\r\n\r\n",
                           path, body_len)
                : snprintf(F.script, sizeof F.script,
                           "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ");
    if (n < 0 || (size_t)n >= sizeof F.script) {
        usage();
    }
    F.script_len = (size_t)n;
    rlim_t fds = raise_nofile();
    if ((rlim_t)F.n + 64 > fds) {
        fprintf(stderr, "flood: the open-file limit is %llu: flooding with %llu connections\n",
                (unsigned long long)fds, (unsigned long long)(fds - 64));
        F.n = (unsigned)(fds - 64);
    }
    F.s = calloc(F.n, sizeof *F.s);
    F.ep = epoll_create1(EPOLL_CLOEXEC);
    if (F.s == NULL || F.ep < 0) {
        return 1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, prober, &pr) != 0) {
        return 1;
    }
    /* ramp: at most 500 new connections every 10 ms, so the listen queue keeps up */
    double t0 = now_s(), probe_from = 0, end = 0;
    unsigned next_new = 0, held_min = ~0u, held_max = 0;
    struct epoll_event evs[512];
    for (;;) {
        double now = now_s();
        for (unsigned k = 0; k < 500 && next_new < F.n; k++, next_new++) {
            F.s[next_new].fd = -1;
            slot_open(next_new, now);
        }
        if (next_new == F.n && probe_from == 0) {
            probe_from = now + settle_s;
        }
        if (probe_from != 0 && now >= probe_from && end == 0) {
            end = now + seconds;
            atomic_store(&F.probing, true);
        }
        if (end != 0) {
            held_min = F.held < held_min ? F.held : held_min;
            held_max = F.held > held_max ? F.held : held_max;
            if (now >= end) {
                break;
            }
        }
        int k = epoll_wait(F.ep, evs, sizeof evs / sizeof evs[0], 10);
        now = now_s();
        for (int e = 0; e < k; e++) {
            on_event(evs[e].data.u32, evs[e].events, now);
        }
        for (unsigned i = 0; i < next_new; i++) {
            struct slot *s = &F.s[i];
            if (s->next > now) {
                continue;
            }
            if (s->st == DOWN) {
                slot_open(i, now);
            } else if (s->st == OPEN && F.mode != IDLE) {
                slot_send(i, now);
            } else {
                s->next = now + F.trickle_s;
            }
        }
    }
    atomic_store(&F.stop, true);
    atomic_store(&F.probing, true);
    pthread_join(th, NULL);
    if (F.n_cut_ages > 0) {
        qsort(F.cut_ages, F.n_cut_ages, sizeof *F.cut_ages, cmp_double);
    }
    if (pr.n > 0) {
        qsort(pr.lat, pr.n, sizeof *pr.lat, cmp_double);
    }
    printf("flood mode %s target %u addrs %u held %u held_min %u held_max %u opened %u refused %u "
           "cut %u answered %u cut_age_p50_s %.2f cut_age_max_s %.2f connect_errors %u emfile "
           "%u eaddrnotavail %u ramp_s %.2f\n",
           mode, F.n, F.addrs, F.held, held_min == ~0u ? 0 : held_min, held_max, F.opened,
           F.refused, F.cut, F.answered, pct(F.cut_ages, F.n_cut_ages, 0.5),
           pct(F.cut_ages, F.n_cut_ages, 1.0), F.conn_err, F.emfile, F.eaddrnotavail,
           probe_from - settle_s - t0);
    printf("healthz n %zu failed %zu p50_ms %.2f p99_ms %.2f max_ms %.2f\n", pr.n + pr.failed,
           pr.failed, pct(pr.lat, pr.n, 0.5) * 1e3, pct(pr.lat, pr.n, 0.99) * 1e3,
           pct(pr.lat, pr.n, 1.0) * 1e3);
    for (unsigned i = 0; i < next_new; i++) {
        if (F.s[i].fd >= 0) {
            close(F.s[i].fd);
        }
    }
    close(F.ep);
    free(F.s);
    free(F.cut_ages);
    free(pr.lat);
    return 0;
}
