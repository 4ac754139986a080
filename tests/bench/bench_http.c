/* Benchmark: requests/s of a trivial GET route through the whole frame (libmicrohttpd,
 * routing, reply, metrics), under keep-alive load.
 *
 * The limit, measured in the same run with the same load generator, connections and
 * response bytes, is a minimal epoll server on loopback that answers every request
 * ("\r\n\r\n" seen) with a canned copy of the frame's reply without parsing it, on as
 * many threads as the frame's pool. No HTTP server can beat it on this machine with
 * this client, so ratio = the share of the loopback/syscall ceiling the frame reaches.
 * (Calling the handler in a loop with no network would be a meaningless ceiling: the
 * cost here is sockets and parsing, not the handler.)
 *
 * The load comes from wrk when it is installed (a separate process: the fairest
 * client), else from libcurl keep-alive threads in this process. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "infra/http.h"
#include "infra/httpc.h"
#include "bench.h"

#define SECONDS 2
#define ROUNDS 3
#define CONNS 32
#define CLIENT_THREADS 4

static int
h_hello(struct ov_req *rq)
{
    return ov_http_reply(rq, 200, "text/plain", OV_BYTES_STR("hello\n"));
}

/* ---- load generators -------------------------------------------------------------- */

static double
load_wrk(uint16_t port)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%ds http://127.0.0.1:%u/hello 2>&1", CONNS, SECONDS,
             (unsigned)port);
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    char line[256];
    double rps = -1;
    bool errors = false;
    while (fgets(line, sizeof line, p) != NULL) {
        sscanf(line, " Requests/sec: %lf", &rps);
        errors |= strstr(line, "Non-2xx") != NULL || strstr(line, "Socket errors") != NULL;
    }
    pclose(p);
    return errors ? -1 : rps;
}

struct curl_load {
    uint16_t port;
    double end;
    atomic_long done;
    atomic_bool failed;
};

static void *
curl_main(void *arg)
{
    struct curl_load *l = arg;
    struct ov_httpc *c;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hello", (unsigned)l->port);
    if (ov_httpc_new(&c) != 0) {
        atomic_store(&l->failed, true);
        return NULL;
    }
    while (bench_now() < l->end) {
        struct ov_httpc_resp r;
        if (ov_httpc_get(c, url, 0, &r) != 0 || r.status != 200) {
            atomic_store(&l->failed, true);
        }
        ov_httpc_resp_clear(&r);
        atomic_fetch_add(&l->done, 1);
    }
    ov_httpc_free(c);
    return NULL;
}

static double
load_curl(uint16_t port)
{
    struct curl_load l = {.port = port};
    pthread_t t[CLIENT_THREADS];
    double t0 = bench_now();
    l.end = t0 + SECONDS;
    for (int i = 0; i < CLIENT_THREADS; i++) {
        pthread_create(&t[i], NULL, curl_main, &l);
    }
    for (int i = 0; i < CLIENT_THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    return atomic_load(&l.failed) ? -1 : (double)atomic_load(&l.done) / (bench_now() - t0);
}

static bool use_wrk;

static double
load(uint16_t port)
{
    return use_wrk ? load_wrk(port) : load_curl(port);
}

/* ---- the canned-reply ceiling ------------------------------------------------------ */

static const char canned[] = "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 6\r\n"
                             "Content-Type: text/plain\r\nCache-Control: no-store\r\n"
                             "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\nhello\n";

struct canned_srv {
    int lfd;
    atomic_bool stop;
    pthread_t t[16];
    int n;
};

/* Counts request ends across reads, carrying a partial "\r\n\r\n" over. */
static int
serve_conn(int fd, unsigned *state)
{
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        return n == 0 || errno != EAGAIN ? -1 : 0;
    }
    static const char end[] = "\r\n\r\n";
    for (ssize_t i = 0; i < n; i++) {
        *state = buf[i] == end[*state] ? *state + 1 : (buf[i] == '\r' ? 1u : 0u);
        if (*state == 4) {
            *state = 0;
            if (write(fd, canned, sizeof canned - 1) != (ssize_t)(sizeof canned - 1)) {
                return -1;
            }
        }
    }
    return 0;
}

static void *
canned_main(void *arg)
{
    struct canned_srv *s = arg;
    int ep = epoll_create1(0);
    unsigned state[4096] = {0};
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = s->lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, s->lfd, &ev);
    while (!atomic_load(&s->stop)) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 100);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == s->lfd) {
                int c = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK);
                if (c >= 0 && c < 4096) {
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    state[c] = 0;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                } else if (c >= 0) {
                    close(c);
                }
            } else if (serve_conn(fd, &state[fd]) != 0) {
                close(fd);
            }
        }
    }
    close(ep);
    return NULL;
}

static int
canned_start(struct canned_srv *s, int n_threads, uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->lfd, 512) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &len) != 0) {
        return -1;
    }
    *port = ntohs(a.sin_port);
    s->n = n_threads < 16 ? n_threads : 16;
    for (int i = 0; i < s->n; i++) {
        pthread_create(&s->t[i], NULL, canned_main, s);
    }
    return 0;
}

static void
canned_stop(struct canned_srv *s)
{
    atomic_store(&s->stop, true);
    for (int i = 0; i < s->n; i++) {
        pthread_join(s->t[i], NULL);
    }
    close(s->lfd);
}

int
main(void)
{
    use_wrk = getenv("OV_BENCH_NO_WRK") == NULL && system("command -v wrk >/dev/null 2>&1") == 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    static const struct ov_http_route routes[] = {{"GET", "/hello", h_hello, 0}};
    struct ov_http_cfg cfg = {.routes = routes, .n_routes = 1, .quiet = true};
    struct ov_http *srv;
    struct canned_srv cs = {0};
    uint16_t port;
    if (ov_http_start(&cfg, &srv) != 0 ||
        canned_start(&cs, cores > 0 ? (int)cores : 1, &port) != 0) {
        fprintf(stderr, "bench_http: cannot start the servers\n");
        return 1;
    }
    /* The machine may be shared: alternate the two and keep each one's best round, so
     * a noisy neighbour in one round does not decide the ratio. */
    double value = 0, limit = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double v = load(ov_http_port(srv)), l = load(port);
        value = v > value ? v : value;
        limit = l > limit ? l : limit;
    }
    ov_http_stop(srv);
    canned_stop(&cs);
    if (value <= 0 || limit <= 0) {
        fprintf(stderr, "bench_http: a load run failed\n");
        return 1;
    }
    printf("bench http_get_keepalive_%s %.0f req/s limit %.0f ratio %.3f\n",
           use_wrk ? "wrk" : "curl", value, limit, value / limit);
    return 0;
}
