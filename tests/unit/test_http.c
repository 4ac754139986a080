/* Unit tests: the HTTP server frame (http.c) against a real daemon on 127.0.0.1:0, driven
 * by the libcurl client (httpc.c), plus the client's own limits against a raw socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../test.h"
#include "infra/http.h"
#include "infra/httpc.h"

#define ECHO_MAX 1024

static atomic_bool ready_flag;
static char base[64];

static int
h_hello(struct ov_req *rq)
{
    return ov_http_reply(rq, 200, "text/plain", OV_BYTES_STR("hello\n"));
}

static int
h_echo(struct ov_req *rq)
{
    const char *ct = ov_req_header(rq, "Content-Type");
    return ov_http_reply(rq, 200, ct != NULL ? ct : "application/octet-stream", ov_req_body(rq));
}

static int
h_receipt(struct ov_req *rq)
{
    const char *x = NULL;
    int rc = ov_req_query(rq, "x", &x);
    if (rc != 0 && rc != -OV_E_NOT_FOUND) {
        return rc;
    }
    return ov_http_reply_json(rq, 200,
                              json_pack("{s:s,s:s*,s:s}", "id", ov_req_param(rq, "id"), "x", x,
                                        "user", (const char *)ov_req_user(rq)));
}

static int
h_tile(struct ov_req *rq)
{
    const char *rest = ov_req_rest(rq);
    return ov_http_reply(rq, 200, "text/plain", OV_BYTES(rest, strlen(rest)));
}

static int
h_both(struct ov_req *rq)
{
    return ov_http_reply(rq, 200, NULL, OV_BYTES_STR(""));
}

static int
h_wait(struct ov_req *rq)
{
    if (atomic_load(&ready_flag)) {
        return ov_http_reply(rq, 200, "text/plain", OV_BYTES_STR("ready"));
    }
    if (ov_req_wait_expired(rq)) {
        return ov_http_reply(rq, 204, NULL, OV_BYTES_STR(""));
    }
    const char *ms = NULL;
    uint32_t wait_ms = ov_req_query(rq, "ms", &ms) == 0 ? (uint32_t)atoi(ms) : 1000;
    return ov_http_wait(rq, wait_ms);
}

/* /level?n=N: answers once the test's level reached N, waiting for it on channel 1. */
static atomic_ullong level_now;
static atomic_int level_runs;

static int
h_level(struct ov_req *rq)
{
    const char *n = NULL;
    atomic_fetch_add(&level_runs, 1);
    uint64_t want = ov_req_query(rq, "n", &n) == 0 ? strtoull(n, NULL, 10) : 1;
    if (atomic_load(&level_now) >= want) {
        return ov_http_reply(rq, 200, "text/plain", OV_BYTES_STR("reached"));
    }
    if (ov_req_wait_expired(rq)) {
        return ov_http_reply(rq, 204, NULL, OV_BYTES_STR(""));
    }
    return ov_http_wait_until(rq, 1, want, 3000);
}

static int
h_headers(struct ov_req *rq)
{
    int rc = ov_http_header(rq, "Cache-Control", "max-age=60");
    rc = rc ? rc : ov_http_header(rq, "Location", "/receipt/42");
    CHECK_EQ_INT(ov_http_header(rq, "X-Bad", "a\r\nInjected: 1"), -OV_E_MALFORMED);
    CHECK_EQ_INT(ov_http_header(rq, "Bad Name", "v"), -OV_E_MALFORMED);
    return rc ? rc : ov_http_reply(rq, 201, "text/plain", OV_BYTES_STR("made\n"));
}

static int
h_big(struct ov_req *rq)
{
    static uint8_t big[64 * 1024];
    memset(big, 'b', sizeof big);
    return ov_http_reply(rq, 200, "application/octet-stream", OV_BYTES(big, sizeof big));
}

static int
h_fail(struct ov_req *rq)
{
    (void)rq;
    return -OV_E_MALFORMED;
}

static int
h_noreply(struct ov_req *rq)
{
    (void)rq;
    return 0;
}

static const struct ov_http_route routes[] = {
    {"GET", "/hello", h_hello, 0},
    {"POST", "/echo", h_echo, ECHO_MAX},
    {"GET", "/receipt/:id", h_receipt, 0},
    {"GET", "/tile/*", h_tile, 0},
    {"GET", "/both", h_both, 0},
    {"POST", "/both", h_both, 16},
    {"GET", "/wait", h_wait, 0},
    {"GET", "/level", h_level, 0},
    {"GET", "/headers", h_headers, 0},
    {"GET", "/big", h_big, 0},
    {"GET", "/fail", h_fail, 0},
    {"GET", "/noreply", h_noreply, 0},
};

static struct ov_httpc *cli;

/* GET base+path; returns the status (0 on a client failure). */
static unsigned
get(const char *path, struct ov_httpc_resp *resp)
{
    char url[8192];
    snprintf(url, sizeof url, "%s%s", base, path);
    int rc = ov_httpc_get(cli, url, 0, resp);
    if (rc != 0) {
        fprintf(stderr, "GET %s: %s %s\n", path, ov_strerror(rc), ov_httpc_errmsg(cli));
        return 0;
    }
    return resp->status;
}

/* Whether the body is {"error": reason, ...}. */
static bool
is_error(const struct ov_httpc_resp *resp, const char *reason)
{
    json_t *j = json_loadb((const char *)resp->body.ptr, resp->body.len, 0, NULL);
    const char *e = json_string_value(json_object_get(j, "error"));
    bool ok = e != NULL && strcmp(e, reason) == 0 &&
              json_is_string(json_object_get(j, "message")) &&
              strcmp(resp->content_type, "application/json") == 0;
    json_decref(j);
    return ok;
}

static bool
body_is(const struct ov_httpc_resp *resp, const char *s)
{
    return resp->body.len == strlen(s) && memcmp(resp->body.ptr, s, resp->body.len) == 0;
}

/* The value of the sample line `series` in a metrics rendering, or -1. */
static long long
metric_value(const struct ov_httpc_resp *resp, const char *series)
{
    char *text = strndup((const char *)resp->body.ptr, resp->body.len);
    long long v = -1;
    size_t n = strlen(series);
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            v = atoll(line + n + 1);
        }
    }
    free(text);
    return v;
}

static void
test_basics(void)
{
    struct ov_httpc_resp r;
    CHECK_EQ_INT(get("/healthz", &r), 200);
    CHECK(body_is(&r, "ok\n"));
    CHECK(strncmp(r.content_type, "text/plain", 10) == 0);
    ov_httpc_resp_clear(&r);

    CHECK_EQ_INT(get("/nope", &r), 404);
    CHECK(is_error(&r, "not_found"));
    char cc[64];
    CHECK(ov_httpc_resp_header(&r, "cache-control", cc, sizeof cc) == 0 &&
          strcmp(cc, "no-store") == 0);
    ov_httpc_resp_clear(&r);
    /* segment counts are exact, trailing slashes matter, methods are case-sensitive */
    CHECK_EQ_INT(get("/hello/", &r), 404);
    ov_httpc_resp_clear(&r);
    CHECK_EQ_INT(get("/tile", &r), 404);
    ov_httpc_resp_clear(&r);
    CHECK_EQ_INT(get("/tile/", &r), 404);
    ov_httpc_resp_clear(&r);
    CHECK_EQ_INT(get("//hello", &r), 404);
    ov_httpc_resp_clear(&r);

    CHECK_EQ_INT(get("/tile/0/x001/234.p/5", &r), 200);
    CHECK(body_is(&r, "0/x001/234.p/5"));
    ov_httpc_resp_clear(&r);

    CHECK_EQ_INT(get("/headers", &r), 201);
    char loc[64];
    CHECK(ov_httpc_resp_header(&r, "Location", loc, sizeof loc) == 0 &&
          strcmp(loc, "/receipt/42") == 0);
    CHECK(ov_httpc_resp_header(&r, "Cache-Control", cc, sizeof cc) == 0 &&
          strcmp(cc, "max-age=60") == 0);
    CHECK_EQ_INT(ov_httpc_resp_header(&r, "Location", loc, 4), -OV_E_TOO_BIG);
    CHECK_EQ_INT(ov_httpc_resp_header(&r, "X-None", loc, sizeof loc), -OV_E_NOT_FOUND);
    ov_httpc_resp_clear(&r);

    CHECK_EQ_INT(get("/fail", &r), 400);
    CHECK(is_error(&r, "malformed"));
    ov_httpc_resp_clear(&r);
    CHECK_EQ_INT(get("/noreply", &r), 500);
    CHECK(is_error(&r, "internal_error"));
    ov_httpc_resp_clear(&r);
}

static void
test_params_and_query(void)
{
    struct ov_httpc_resp r;
    CHECK_EQ_INT(get("/receipt/abc-1?x=1%202+3", &r), 200);
    json_t *j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    CHECK(j != NULL && strcmp(json_string_value(json_object_get(j, "id")), "abc-1") == 0);
    CHECK(j != NULL && strcmp(json_string_value(json_object_get(j, "x")), "1 2 3") == 0);
    CHECK(j != NULL && strcmp(json_string_value(json_object_get(j, "user")), "U") == 0);
    CHECK(strcmp(r.content_type, "application/json") == 0);
    json_decref(j);
    ov_httpc_resp_clear(&r);

    CHECK_EQ_INT(get("/receipt/abc", &r), 200);
    j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    CHECK(j != NULL && json_object_get(j, "x") == NULL);
    json_decref(j);
    ov_httpc_resp_clear(&r);

    /* a path parameter is passed raw, never decoded */
    CHECK_EQ_INT(get("/receipt/a%2Fb", &r), 200);
    j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    CHECK(j != NULL && strcmp(json_string_value(json_object_get(j, "id")), "a%2Fb") == 0);
    json_decref(j);
    ov_httpc_resp_clear(&r);

    /* repeated key, bad escape, escaped NUL: all refused */
    static const char *const bad[] = {"/receipt/a?x=1&x=2", "/receipt/a?x=%zz", "/receipt/a?x=%00",
                                      "/receipt/a?x=%4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(get(bad[i], &r), 400);
        CHECK(is_error(&r, "malformed"));
        ov_httpc_resp_clear(&r);
    }
    /* an escaped key still names the key */
    CHECK_EQ_INT(get("/receipt/a?%78=y", &r), 200);
    j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    CHECK(j != NULL && strcmp(json_string_value(json_object_get(j, "x")), "y") == 0);
    json_decref(j);
    ov_httpc_resp_clear(&r);
}

static void
test_metrics_route(void)
{
    struct ov_httpc_resp r;
    const char *series = "http_requests_total{method=\"GET\",route=\"/hello\",code=\"200\"}";
    CHECK_EQ_INT(get("/hello", &r), 200);
    CHECK(body_is(&r, "hello\n"));
    ov_httpc_resp_clear(&r);
    CHECK_EQ_INT(get("/metrics", &r), 200);
    CHECK(strcmp(r.content_type, OV_METRICS_CONTENT_TYPE) == 0);
    long long before = metric_value(&r, series);
    CHECK(before >= 1);
    CHECK(strstr((const char *)r.body.ptr, "# TYPE http_requests_total counter\n") != NULL);
    CHECK(strstr((const char *)r.body.ptr, "# TYPE http_request_duration_seconds histogram\n") !=
          NULL);
    CHECK(metric_value(&r, "http_request_duration_seconds_bucket{method=\"GET\",route=\"/hello\","
                           "le=\"+Inf\"}") >= 1);
    CHECK(metric_value(&r, "http_requests_in_flight") == 1); /* this very request */
    CHECK(metric_value(&r, "http_requests_total{method=\"\",route=\"unmatched\",code=\"404\"}") >=
          1);
    ov_httpc_resp_clear(&r);
    CHECK_EQ_INT(get("/hello", &r), 200);
    ov_httpc_resp_clear(&r);
    CHECK_EQ_INT(get("/metrics", &r), 200);
    CHECK_EQ_INT(metric_value(&r, series), before + 1);
    ov_httpc_resp_clear(&r);
}

static void
test_bodies(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/echo", base);
    uint8_t body[ECHO_MAX + 1000];
    for (size_t i = 0; i < sizeof body; i++) {
        body[i] = (uint8_t)(i * 7);
    }
    struct ov_httpc_resp r;
    /* exactly at the cap */
    CHECK_EQ_INT(ov_httpc_post(cli, url, "application/x-test", OV_BYTES(body, ECHO_MAX), 0, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.body.len == ECHO_MAX && memcmp(r.body.ptr, body, ECHO_MAX) == 0);
    CHECK(strcmp(r.content_type, "application/x-test") == 0);
    ov_httpc_resp_clear(&r);
    /* empty body */
    CHECK_EQ_INT(ov_httpc_post(cli, url, "application/x-test", OV_BYTES(body, 0), 0, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.body.len, 0);
    ov_httpc_resp_clear(&r);
    /* one byte over, declared by Content-Length: refused before reading */
    CHECK_EQ_INT(ov_httpc_post(cli, url, "application/x-test", OV_BYTES(body, ECHO_MAX + 1), 0, &r),
                 0);
    CHECK_EQ_INT(r.status, 413);
    CHECK(is_error(&r, "body_too_large"));
    ov_httpc_resp_clear(&r);
    /* chunked: the size would only be learnt while reading, so refused up front */
    static const char *const chunked[] = {"Transfer-Encoding: chunked", "Expect:"};
    struct ov_httpc_req rq = {.url = url,
                              .content_type = "application/x-test",
                              .body = OV_BYTES(body, sizeof body),
                              .headers = chunked,
                              .n_headers = 2};
    CHECK_EQ_INT(ov_httpc_do(cli, &rq, &r), 0);
    CHECK_EQ_INT(r.status, 411);
    CHECK(is_error(&r, "length_required"));
    ov_httpc_resp_clear(&r);
    rq.body = OV_BYTES(body, 100);
    CHECK_EQ_INT(ov_httpc_do(cli, &rq, &r), 0);
    CHECK_EQ_INT(r.status, 411);
    ov_httpc_resp_clear(&r);
    /* the connection is still good after a refusal */
    CHECK_EQ_INT(ov_httpc_post(cli, url, "text/plain", OV_BYTES_STR("again"), 0, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(body_is(&r, "again"));
    ov_httpc_resp_clear(&r);
    /* a GET route takes no body at all */
    struct ov_httpc_req g = {
        .method = "GET", .url = url, .content_type = "text/plain", .body = OV_BYTES_STR("x")};
    snprintf(url, sizeof url, "%s/hello", base);
    CHECK_EQ_INT(ov_httpc_do(cli, &g, &r), 0);
    CHECK_EQ_INT(r.status, 413);
    ov_httpc_resp_clear(&r);
}

static void
test_methods_and_limits(void)
{
    char url[OV_MAX_URL_LEN + 200];
    struct ov_httpc_resp r;
    snprintf(url, sizeof url, "%s/both", base);
    struct ov_httpc_req rq = {.method = "PUT", .url = url};
    CHECK_EQ_INT(ov_httpc_do(cli, &rq, &r), 0);
    CHECK_EQ_INT(r.status, 405);
    CHECK(is_error(&r, "method_not_allowed"));
    char allow[64];
    CHECK(ov_httpc_resp_header(&r, "Allow", allow, sizeof allow) == 0 &&
          strcmp(allow, "GET, HEAD, POST") == 0); /* HEAD wherever GET */
    ov_httpc_resp_clear(&r);
    rq.method = "get"; /* methods are case-sensitive (RFC 9110 §9.1) */
    CHECK_EQ_INT(ov_httpc_do(cli, &rq, &r), 0);
    CHECK_EQ_INT(r.status, 405);
    ov_httpc_resp_clear(&r);
    rq.method = "DELETE";
    CHECK_EQ_INT(ov_httpc_do(cli, &rq, &r), 0);
    CHECK_EQ_INT(r.status, 405);
    ov_httpc_resp_clear(&r);

    /* a path one byte over the cap, then a query that takes the URL over it */
    char path[OV_MAX_URL_LEN + 2];
    path[0] = '/';
    memset(path + 1, 'a', OV_MAX_URL_LEN);
    path[OV_MAX_URL_LEN + 1] = '\0';
    CHECK_EQ_INT(get(path, &r), 414);
    CHECK(is_error(&r, "uri_too_long"));
    ov_httpc_resp_clear(&r);
    memcpy(path, "/hello?x=", 9);
    CHECK_EQ_INT(get(path, &r), 414);
    ov_httpc_resp_clear(&r);
    path[OV_MAX_URL_LEN - 40] = '\0'; /* under the cap: routed normally */
    CHECK_EQ_INT(get(path, &r), 200);
    ov_httpc_resp_clear(&r);
}

struct load {
    atomic_int next;
    atomic_int ok;
    int total;
};

static void *
load_thread(void *arg)
{
    struct load *l = arg;
    struct ov_httpc *c;
    if (ov_httpc_new(&c) != 0) {
        return NULL;
    }
    for (int i; (i = atomic_fetch_add(&l->next, 1)) < l->total;) {
        char url[128], want[32];
        snprintf(url, sizeof url, "%s/receipt/r%d", base, i);
        snprintf(want, sizeof want, "\"id\":\"r%d\"", i);
        struct ov_httpc_resp r;
        if (ov_httpc_get(c, url, 0, &r) == 0 && r.status == 200 && ov_buf_terminate(&r.body) == 0 &&
            strstr((const char *)r.body.ptr, want) != NULL) {
            atomic_fetch_add(&l->ok, 1);
        }
        ov_httpc_resp_clear(&r);
    }
    ov_httpc_free(c);
    return NULL;
}

static void
test_concurrency(void)
{
    struct load l = {.total = 100};
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_INT(pthread_create(&t[i], NULL, load_thread, &l), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
    }
    CHECK_EQ_INT(atomic_load(&l.ok), 100);
}

static uint64_t
ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct poll_arg {
    unsigned status;
    uint64_t took_ms;
    char body[16];
};

static void *
poll_thread(void *arg)
{
    struct poll_arg *p = arg;
    struct ov_httpc *c;
    struct ov_httpc_resp r;
    char url[128];
    snprintf(url, sizeof url, "%s/wait?ms=5000", base);
    uint64_t t0 = ms_now();
    if (ov_httpc_new(&c) == 0 && ov_httpc_get(c, url, 0, &r) == 0) {
        p->status = r.status;
        snprintf(p->body, sizeof p->body, "%.*s", (int)r.body.len, (const char *)r.body.ptr);
        ov_httpc_resp_clear(&r);
    }
    p->took_ms = ms_now() - t0;
    ov_httpc_free(c);
    return NULL;
}

static void
test_long_poll(struct ov_http *srv)
{
    struct ov_httpc_resp r;
    /* nothing happens: answered as expired after the wait, not before */
    uint64_t t0 = ms_now();
    CHECK_EQ_INT(get("/wait?ms=200", &r), 204);
    uint64_t took = ms_now() - t0;
    CHECK(took >= 190 && took < 2000);
    ov_httpc_resp_clear(&r);

    /* more waiters than pool threads, woken by a notify long before their deadline;
     * a plain request meanwhile proves no pool thread is blocked */
    struct poll_arg p[4] = {0};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(pthread_create(&t[i], NULL, poll_thread, &p[i]), 0);
    }
    usleep(200 * 1000);
    t0 = ms_now();
    CHECK_EQ_INT(get("/hello", &r), 200);
    CHECK(ms_now() - t0 < 1000);
    ov_httpc_resp_clear(&r);
    ov_http_notify(srv); /* nothing changed: they wait on */
    usleep(50 * 1000);
    atomic_store(&ready_flag, true);
    ov_http_notify(srv);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(p[i].status, 200);
        CHECK(strcmp(p[i].body, "ready") == 0);
        CHECK(p[i].took_ms >= 200 && p[i].took_ms < 4000);
    }
    atomic_store(&ready_flag, false);
}

struct level_arg {
    uint64_t want;
    unsigned status;
    atomic_bool done;
};

static void *
level_thread(void *arg)
{
    struct level_arg *p = arg;
    struct ov_httpc *c;
    struct ov_httpc_resp r;
    char url[128];
    snprintf(url, sizeof url, "%s/level?n=%llu", base, (unsigned long long)p->want);
    if (ov_httpc_new(&c) == 0 && ov_httpc_get(c, url, 0, &r) == 0) {
        p->status = r.status;
        ov_httpc_resp_clear(&r);
    }
    ov_httpc_free(c);
    atomic_store(&p->done, true);
    return NULL;
}

/* Level waits: each request is woken once, when its level is reached, and not before. */
static void
test_wait_until(struct ov_http *srv)
{
    struct level_arg p[3] = {{.want = 5}, {.want = 10}, {.want = 20}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(pthread_create(&t[i], NULL, level_thread, &p[i]), 0);
    }
    usleep(200 * 1000);
    CHECK_EQ_INT(atomic_load(&level_runs), 3); /* each ran once, then waited */
    atomic_store(&level_now, 7);
    ov_http_notify_upto(srv, 1, 7);
    ov_http_notify_channel(srv, 2); /* another channel wakes no one */
    usleep(200 * 1000);
    CHECK(atomic_load(&p[0].done) && p[0].status == 200);
    CHECK(!atomic_load(&p[1].done) && !atomic_load(&p[2].done));
    CHECK_EQ_INT(atomic_load(&level_runs), 4); /* only the one whose level was reached */
    ov_http_notify_upto(srv, 1, 3); /* levels never go down: nothing */
    usleep(100 * 1000);
    CHECK_EQ_INT(atomic_load(&level_runs), 4);
    atomic_store(&level_now, 20);
    ov_http_notify_upto(srv, 1, 20);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(p[i].status, 200);
    }
    CHECK_EQ_INT(atomic_load(&level_runs), 6);
    /* a level already reached: answered without waiting */
    struct ov_httpc_resp r;
    CHECK_EQ_INT(get("/level?n=15", &r), 200);
    ov_httpc_resp_clear(&r);
    /* a level never reached: expired at its deadline */
    uint64_t t0 = ms_now();
    CHECK_EQ_INT(get("/level?n=99", &r), 204);
    CHECK(ms_now() - t0 >= 2900);
    ov_httpc_resp_clear(&r);
}

/* A raw TCP server for the client's limits: replies with `reply` (or nothing). */
struct raw_srv {
    int fd;
    uint16_t port;
    const char *reply;
    size_t extra; /* bytes of 'z' sent after reply */
    pthread_t t;
};

static void *
raw_main(void *arg)
{
    struct raw_srv *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0) {
        return NULL;
    }
    char buf[4096];
    (void)!read(c, buf, sizeof buf);
    if (s->reply != NULL) {
        (void)!write(c, s->reply, strlen(s->reply));
        static char z[8192];
        memset(z, 'z', sizeof z);
        for (size_t left = s->extra; left > 0;) {
            size_t n = left < sizeof z ? left : sizeof z;
            if (write(c, z, n) <= 0) {
                break;
            }
            left -= n;
        }
    } else {
        usleep(600 * 1000);
    }
    close(c);
    return NULL;
}

static int
raw_start(struct raw_srv *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 4) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &len) != 0) {
        return -1;
    }
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->t, NULL, raw_main, s);
}

static void
raw_stop(struct raw_srv *s)
{
    pthread_join(s->t, NULL);
    close(s->fd);
}

static void
test_client_limits(void)
{
    struct ov_httpc_resp r;
    char url[128];
    /* Content-Length over the cap: refused by libcurl before the body */
    snprintf(url, sizeof url, "%s/big", base);
    CHECK_EQ_INT(ov_httpc_get(cli, url, 1000, &r), -OV_E_TOO_BIG);
    CHECK(r.body.ptr == NULL && r.status == 0);
    CHECK_EQ_INT(ov_httpc_get(cli, url, 64 * 1024, &r), 0);
    CHECK_EQ_INT(r.body.len, 64 * 1024);
    ov_httpc_resp_clear(&r);
    /* the handle survives a refused exchange */
    CHECK_EQ_INT(get("/hello", &r), 200);
    ov_httpc_resp_clear(&r);

    /* chunked, no length: refused as the bytes arrive */
    struct raw_srv s = {.reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "1388\r\n",
                        .extra = 5000};
    CHECK_EQ_INT(raw_start(&s), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)s.port);
    CHECK_EQ_INT(ov_httpc_get(cli, url, 1000, &r), -OV_E_TOO_BIG);
    raw_stop(&s);

    /* a server that never answers: the timeout */
    struct raw_srv quiet = {.reply = NULL};
    CHECK_EQ_INT(raw_start(&quiet), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)quiet.port);
    struct ov_httpc_req rq = {.url = url, .timeout_ms = 200};
    uint64_t t0 = ms_now();
    CHECK_EQ_INT(ov_httpc_do(cli, &rq, &r), -OV_E_HTTP);
    CHECK(ms_now() - t0 < 550);
    CHECK(ov_httpc_errmsg(cli)[0] != '\0');
    raw_stop(&quiet);

    /* request-side refusals */
    static const char *const inj[] = {"X-A: 1\r\nX-B: 2"};
    struct ov_httpc_req bad = {.url = url, .headers = inj, .n_headers = 1};
    CHECK_EQ_INT(ov_httpc_do(cli, &bad, &r), -OV_E_MALFORMED);
    bad = (struct ov_httpc_req){.url = url, .content_type = "a\nb"};
    CHECK_EQ_INT(ov_httpc_do(cli, &bad, &r), -OV_E_MALFORMED);
    bad = (struct ov_httpc_req){.url = "ftp://127.0.0.1/"};
    CHECK_EQ_INT(ov_httpc_do(cli, &bad, &r), -OV_E_HTTP);
    /* nothing listens there any more */
    CHECK_EQ_INT(ov_httpc_get(cli, url, 0, &r), -OV_E_HTTP);
}

/* Sends raw bytes to the frame and returns the reply's status (0 if none). */
static unsigned
raw_exchange(uint16_t port, const char *req, size_t req_len)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 2};
    char buf[512];
    unsigned status = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, req, req_len) == (ssize_t)req_len) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = '\0';
            if (sscanf(buf, "HTTP/1.%*c %u", &status) != 1) {
                status = 0;
            }
        }
    }
    close(fd);
    return status;
}

#define RAW(port, s) raw_exchange((port), (s), sizeof(s) - 1)

/* Hostile requests a curl client would never send. */
static void
test_hostile(uint16_t port)
{
    CHECK_EQ_INT(RAW(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 200);
    /* an escaped NUL does not cut the path short: "/hello%00x" is not "/hello" */
    CHECK_EQ_INT(RAW(port, "GET /hello%00x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404);
    CHECK_EQ_INT(RAW(port, "GET /hel\x01lo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 400);
    CHECK_EQ_INT(RAW(port, "GET /hel\xc3\xa9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                 400);
    /* HTTP/1.1 without Host, and whitespace before a colon (RFC 9112 §3.2, §5.1) */
    CHECK_EQ_INT(RAW(port, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n"), 400);
    CHECK_EQ_INT(RAW(port, "GET /hello HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n"), 400);
    /* Content-Length with Transfer-Encoding: the smuggling pair */
    unsigned st = RAW(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    CHECK(st == 400 || st == 411);
    /* a huge declared length is refused before any of it is sent */
    CHECK_EQ_INT(RAW(port, "POST /echo HTTP/1.1\r\nHost: x\r\n"
                           "Content-Length: 99999999999999\r\n\r\n"),
                 413);
    /* a method nobody routes, on a routed path, and garbage */
    CHECK_EQ_INT(RAW(port, "BREW /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 405);
    CHECK(RAW(port, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n") != 200);
    /* the server is still fine */
    struct ov_httpc_resp r;
    CHECK_EQ_INT(get("/healthz", &r), 200);
    ov_httpc_resp_clear(&r);
}

static void
test_start_errors(void)
{
    struct ov_http *srv;
    struct ov_http_cfg cfg = {.listen = "localhost:0", .quiet = true};
    CHECK_EQ_INT(ov_http_start(&cfg, &srv), -OV_E_MALFORMED);
    CHECK(srv == NULL);
    static const struct ov_http_route bad[] = {{"GET", "/a//", h_hello, 0}};
    cfg = (struct ov_http_cfg){.routes = bad, .n_routes = 1, .quiet = true};
    CHECK_EQ_INT(ov_http_start(&cfg, &srv), -OV_E_MALFORMED);
    /* a port already taken */
    struct ov_http *a;
    cfg = (struct ov_http_cfg){.quiet = true, .n_threads = 1};
    CHECK_EQ_INT(ov_http_start(&cfg, &a), 0);
    char listen_on[32];
    snprintf(listen_on, sizeof listen_on, "127.0.0.1:%u", (unsigned)ov_http_port(a));
    cfg.listen = listen_on;
    CHECK_EQ_INT(ov_http_start(&cfg, &srv), -OV_E_IO);
    ov_http_stop(a);
    ov_http_stop(NULL);
}

static bool
ipv6_loopback_works(void)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

static void
test_ipv6(void)
{
    if (!ipv6_loopback_works()) {
        printf("ipv6: [::1] not available here, skipped\n");
        return;
    }
    struct ov_http *srv;
    struct ov_http_cfg cfg = {.listen = "[::1]:0", .quiet = true, .n_threads = 2};
    CHECK_EQ_INT(ov_http_start(&cfg, &srv), 0);
    if (srv == NULL) {
        return;
    }
    char url[64];
    snprintf(url, sizeof url, "http://[::1]:%u/healthz", (unsigned)ov_http_port(srv));
    struct ov_httpc_resp r;
    CHECK_EQ_INT(ov_httpc_get(cli, url, 0, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(body_is(&r, "ok\n"));
    ov_httpc_resp_clear(&r);
    ov_http_stop(srv);
}

/* Stopping with a long poll parked must answer it, not hang or panic. */
static void
test_stop_with_waiter(void)
{
    struct ov_http *srv;
    struct ov_http_cfg cfg = {
        .routes = routes, .n_routes = sizeof routes / sizeof routes[0], .quiet = true};
    CHECK_EQ_INT(ov_http_start(&cfg, &srv), 0);
    char saved[64];
    memcpy(saved, base, sizeof saved);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)ov_http_port(srv));
    struct poll_arg p = {0};
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, poll_thread, &p), 0);
    usleep(200 * 1000);
    uint64_t t0 = ms_now();
    ov_http_stop(srv);
    CHECK(ms_now() - t0 < 2000);
    pthread_join(t, NULL);
    CHECK(p.took_ms < 4000);
    CHECK(p.status == 204 || p.status == 0);
    memcpy(base, saved, sizeof saved);
}

int
main(void)
{
    struct ov_http *srv = NULL;
    static char user[] = "U";
    struct ov_http_cfg cfg = {.listen = "127.0.0.1:0",
                              .routes = routes,
                              .n_routes = sizeof routes / sizeof routes[0],
                              .user = user,
                              .n_threads = 2,
                              .quiet = true};
    CHECK_EQ_INT(ov_http_start(&cfg, &srv), 0);
    CHECK_EQ_INT(ov_httpc_new(&cli), 0);
    if (srv == NULL || cli == NULL) {
        TEST_DONE("test_http");
    }
    CHECK(ov_http_port(srv) != 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)ov_http_port(srv));

    test_basics();
    test_params_and_query();
    test_metrics_route();
    test_bodies();
    test_methods_and_limits();
    test_concurrency();
    test_long_poll(srv);
    test_wait_until(srv);
    test_client_limits();
    test_hostile(ov_http_port(srv));
    ov_http_stop(srv);
    test_start_errors();
    test_ipv6();
    test_stop_with_waiter();
    ov_httpc_free(cli);
    TEST_DONE("test_http");
}
